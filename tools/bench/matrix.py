#!/usr/bin/python3
"""Turn tools/bench/matrix's JSON lines into Markdown tables: medians of the
repeats with their spread (min-max), ratios pushd/nchan, and issue 10's
targets, met or not.

usage: tools/bench/matrix.py matrix.jsonl [more.jsonl...]
(several files: runs of different sizes or feeds, made by separate invocations)
"""
import json
import statistics
import sys

TRANSPORTS = ["sse", "ws", "longpoll"]
# issue 10, "Numbers to meet"
DEV_X, SEQ_X, P99_X, CPU_X, IDLE_B, IDLE_CPU = 3.0, 2.0, 0.5, 0.5, 4096, 2.0


def num(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 1000:
        return "%.0f" % v
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    return "%.2f" % v


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def spread(vals):
    """'median [min-max]' of the repeats."""
    vals = [v for v in vals if v is not None]
    if not vals:
        return "-"
    if len(vals) == 1:
        return num(vals[0])
    return "%s [%s-%s]" % (num(statistics.median(vals)), num(min(vals)), num(max(vals)))


def ratio(a, b):
    """Ratio of the medians, with the range of the per-repeat ratios (the
    repeats were interleaved, so repeat i of each side ran next to each other)."""
    ma, mb = med(a), med(b)
    if ma is None or not mb:
        return None, "-"
    pairs = [x / y for x, y in zip(a, b) if x is not None and y]
    r = ma / mb
    if len(pairs) > 1:
        return r, "%.2f [%.2f-%.2f]" % (r, min(pairs), max(pairs))
    return r, "%.2f" % r


def peak(r):
    return max(r["steps"], key=lambda s: s["delivered_per_s"]) if r["steps"] else None


def dps(r):
    s = peak(r)
    return s["delivered_per_s"] if s else None


def cpu_us(r, s=None):
    s = s or peak(r)
    if not s or not s["delivered_per_s"]:
        return None
    return 1e6 * s["server_cpu"] / s["delivered_per_s"]


def gen(r):
    s = peak(r)
    return s.get("gen_cpu") if s else None


def p99(r):
    s = r["steps"][0] if r["steps"] else None
    return s["lat_p99_us"] / 1000.0 if s and s["lat_p99_us"] >= 0 else None


def p50(r):
    s = r["steps"][0] if r["steps"] else None
    return s["lat_p50_us"] / 1000.0 if s and s["lat_p50_us"] >= 0 else None


def idle_bytes(r):
    alive = r["established"] - r["dropped"]
    return 1024.0 * (r["mem_after_kb"] - r["mem_before_kb"]) / alive if alive > 0 else None


def idle_cpu(r):
    return 100.0 * r["drain_server_cpu_s"] / r["drain_s"] if r.get("drain_s") else None


def problems(r):
    out = []
    for key, name in (("failed", "failed"), ("dropped", "dropped"), ("holes", "holes"),
                      ("gaps", "gaps"), ("reorders", "reordered"), ("id_errors", "bad ids"),
                      ("pub_errors", "publish errors")):
        if r.get(key):
            out.append("%d %s" % (r[key], name))
    return ", ".join(out)


def main():
    rows = [json.loads(line) for name in sys.argv[1:] for line in open(name) if line.strip()]
    by = {}
    for r in rows:
        by.setdefault((r["kind"], r["conns"], r["transport"], r["server"], r["feed"]),
                      {})[r["rep"]] = r
    reps = sorted({r["rep"] for r in rows})

    def series(kind, n, t, server, feed, f):
        runs = by.get((kind, n, t, server, feed), {})
        return [f(runs[i]) if i in runs else None for i in reps]

    def keys(kind):
        return sorted({(k[1], k[2]) for k in by if k[0] == kind},
                      key=lambda k: (k[0], TRANSPORTS.index(k[1])))

    targets = {}

    def target(what, col, value, ok):
        targets.setdefault(what, {})[col] = (value, ok)

    fan = keys("fanout")
    if fan:
        print("### Fan-out: deliveries/s at the best step, servers on one vCPU\n")
        print("Median [min-max] of %d interleaved repeats; ratios are of the medians "
              "[range of the per-repeat ratios].\n" % len(reps))
        print("| subscribers | transport | pushd /dev/push | pushd seq. POST | pushd pipel. POST "
              "| nchan seq. POST | nchan pipel. POST | dev / nchan best | seq / seq | pipel. / pipel. |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n, t in fan:
            s = {(sv, f): series("fanout", n, t, sv, f, dps) for sv, f in
                 (("pushd", "dev"), ("pushd", "seq"), ("pushd", "pipe"),
                  ("nchan", "seq"), ("nchan", "pipe"))}
            best = s[("nchan", "pipe")]
            if (med(s[("nchan", "seq")]) or 0) > (med(best) or 0):
                best = s[("nchan", "seq")]
            rd, rdt = ratio(s[("pushd", "dev")], best)
            rs, rst = ratio(s[("pushd", "seq")], s[("nchan", "seq")])
            rp, rpt = ratio(s[("pushd", "pipe")], s[("nchan", "pipe")])
            print("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                n, t, spread(s[("pushd", "dev")]), spread(s[("pushd", "seq")]),
                spread(s[("pushd", "pipe")]), spread(s[("nchan", "seq")]),
                spread(s[("nchan", "pipe")]), rdt, rst, rpt))
            target("deliveries/s, pushd by /dev/push >= %gx nchan (best of its two feeds)"
                   % DEV_X, (n, t), rd, rd is not None and rd >= DEV_X)
            target("deliveries/s, both by sequential POST: pushd >= %gx nchan" % SEQ_X,
                   (n, t), rs, rs is not None and rs >= SEQ_X)

        print("\n### Fan-out: server CPU us per delivery at that step (and load generator CPU)\n")
        print("| subscribers | transport | pushd /dev/push | pushd seq. POST | pushd pipel. POST "
              "| nchan seq. POST | nchan pipel. POST | dev / nchan pipel. | seq / seq "
              "| push-load CPU, pushd dev / nchan pipel. |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for n, t in fan:
            c = {(sv, f): series("fanout", n, t, sv, f, cpu_us) for sv, f in
                 (("pushd", "dev"), ("pushd", "seq"), ("pushd", "pipe"),
                  ("nchan", "seq"), ("nchan", "pipe"))}
            g1 = med(series("fanout", n, t, "pushd", "dev", gen))
            g2 = med(series("fanout", n, t, "nchan", "pipe", gen))
            print("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s |" % (
                n, t, spread(c[("pushd", "dev")]), spread(c[("pushd", "seq")]),
                spread(c[("pushd", "pipe")]), spread(c[("nchan", "seq")]),
                spread(c[("nchan", "pipe")]), ratio(c[("pushd", "dev")], c[("nchan", "pipe")])[1],
                ratio(c[("pushd", "seq")], c[("nchan", "seq")])[1], num(g1), num(g2)))

        print("\n### Fan-out: published messages/s at the best step (medians)\n")
        print("| subscribers | transport | offered | pushd /dev/push | pushd seq. POST "
              "| pushd pipel. POST | nchan seq. POST | nchan pipel. POST |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|")
        for n, t in fan:
            cells = []
            offered = None
            for sv, f in (("pushd", "dev"), ("pushd", "seq"), ("pushd", "pipe"),
                          ("nchan", "seq"), ("nchan", "pipe")):
                def pubs(r):
                    s = peak(r)
                    return s["published"] / (s["window_s"] or 1) if s else None
                cells.append(num(med(series("fanout", n, t, sv, f, pubs))))
                runs = by.get(("fanout", n, t, sv, f), {})
                for r in runs.values():
                    offered = max(st["rate"] for st in r["steps"])
            print("| %d | %s | %s | %s |" % (n, t, num(offered), " | ".join(cells)))

    rate = fan   # the fixed rate is the first step of every fan-out run
    if rate:
        print("\n### Fixed rate: publish -> receive latency (ms) and server CPU per delivery\n")
        print("| subscribers | msg/s | transport | pushd dev p50 | pushd dev p99 | pushd POST p99 "
              "| nchan POST p50 | nchan POST p99 | p99 dev / nchan | p99 POST / nchan "
              "| pushd dev CPU us | pushd POST CPU us | nchan CPU us | CPU dev / nchan "
              "| CPU POST / nchan |")
        print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n, t in rate:
            any_run = next(iter(by.get(("fanout", n, t, "nchan", "seq"), {}).values()), None) or \
                next(iter(by.get(("fanout", n, t, "pushd", "dev"), {}).values()))
            msgs = any_run["steps"][0]["rate"] if any_run["steps"] else None

            def step_cpu(r):
                return cpu_us(r, r["steps"][0]) if r["steps"] else None
            l = {f: (series("fanout", n, t, sv, f, p50), series("fanout", n, t, sv, f, p99),
                     series("fanout", n, t, sv, f, step_cpu))
                 for sv, f in (("pushd", "dev"), ("nchan", "seq"))}
            lp = (series("fanout", n, t, "pushd", "seq", p99),
                  series("fanout", n, t, "pushd", "seq", step_cpu))
            rl, rlt = ratio(l["dev"][1], l["seq"][1])
            rlp, rlpt = ratio(lp[0], l["seq"][1])
            rc, rct = ratio(l["dev"][2], l["seq"][2])
            rcp, rcpt = ratio(lp[1], l["seq"][2])
            print("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                n, num(msgs), t, spread(l["dev"][0]), spread(l["dev"][1]), spread(lp[0]),
                spread(l["seq"][0]), spread(l["seq"][1]), rlt, rlpt, spread(l["dev"][2]),
                spread(lp[1]), spread(l["seq"][2]), rct, rcpt))
            for what, rv, lim in (("p99, pushd by /dev/push", rl, P99_X),
                                  ("p99, pushd by sequential POST", rlp, P99_X),
                                  ("CPU/delivery, pushd by /dev/push", rc, CPU_X),
                                  ("CPU/delivery, pushd by sequential POST", rcp, CPU_X)):
                target("fixed rate, %s <= %gx nchan" % (what, lim), (n, t), rv,
                       rv is not None and rv <= lim)

    idle = keys("idle")
    if idle:
        print("\n### Idle subscribers: server memory (PSS) per subscriber and idle CPU\n")
        print("| transport | subscribers held (pushd / nchan) | pushd bytes | nchan bytes "
              "| pushd/nchan | pushd CPU % | nchan CPU % |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for n, t in idle:
            pb = series("idle", n, t, "pushd", "none", idle_bytes)
            nb = series("idle", n, t, "nchan", "none", idle_bytes)
            pc = series("idle", n, t, "pushd", "none", idle_cpu)
            nc = series("idle", n, t, "nchan", "none", idle_cpu)

            def held(r):
                return r["established"] - r["dropped"]
            ph = series("idle", n, t, "pushd", "none", held)
            nh = series("idle", n, t, "nchan", "none", held)
            print("| %s | %s of %d / %s | %s | %s | %s | %s | %s |" % (
                t, num(min((v for v in ph if v is not None), default=None)), n,
                num(min((v for v in nh if v is not None), default=None)), spread(pb),
                spread(nb), ratio(pb, nb)[1], spread(pc), spread(nc)))
            mb, mc = med(pb), med(pc)
            held_all = [v for v in ph if v is not None]
            target("idle: subscribers pushd held, of %d" % n, (None, t),
                   min(held_all) if held_all else None, bool(held_all) and min(held_all) == n)
            target("idle: pushd bytes (PSS) per subscriber <= %d" % IDLE_B, (None, t), mb,
                   mb is not None and mb <= IDLE_B)
            target("idle: pushd CPU %% of a core < %g" % IDLE_CPU, (None, t), mc,
                   mc is not None and mc < IDLE_CPU)

    print("\n### Issue 10's numbers, met or not\n")
    print("Each cell: the pushd/nchan ratio of the medians (idle: pushd's own figure), "
          "*yes* if it meets the target. Fixed rate: 1,000 subscribers at 5 msg/s, 10,000 at "
          "1 msg/s.\n")
    cols = sorted({c for row in targets.values() for c in row},
                  key=lambda c: (c[0] or 0, TRANSPORTS.index(c[1])))
    print("| target | " + " | ".join(("%s %d" % (c[1], c[0])) if c[0] else "%s idle" % c[1]
                                     for c in cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for what in targets:
        cells = []
        for c in cols:
            v = targets[what].get(c)
            cells.append("" if v is None else "%s %s" % (num(v[0]), "yes" if v[1] else "**no**"))
        print("| %s | %s |" % (what, " | ".join(cells)))
    print("| --threads 2: CPU/delivery no worse than 1 thread, both vCPUs used | " +
          " | ".join(["not measured: pushd has no --threads (issue 10 item 1 not built)"] +
                     [""] * (len(cols) - 1)) + " |")

    notes = []
    for (kind, n, t, sv, f), runs in sorted(by.items()):
        for i, r in sorted(runs.items()):
            if problems(r):
                notes.append("%s %s %s %s %d rep %d: %s%s" % (
                    kind, sv, f, t, n, i, problems(r), " (%s)" % r["error"] if r["error"] else ""))
    if notes:
        print("\nProblems seen:\n")
        for x in notes:
            print("- " + x)


if __name__ == "__main__":
    main()
