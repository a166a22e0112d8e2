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

from table import problems  # noqa: E402 - the same list of what went wrong

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
        print("Median [min-max] of the interleaved repeats (a cell without a range: one run); "
              "ratios are of the medians [range of the per-repeat ratios]; \"nchan best\": the "
              "better of nchan's feeds that ran.\n")
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
    FEEDS = (("pushd", "dev"), ("pushd", "seq"), ("pushd", "pipe"), ("nchan", "seq"),
             ("nchan", "pipe"))
    NAMES = ("pushd dev", "pushd seq.", "pushd pipel.", "nchan seq.", "nchan pipel.")

    def s0(r):
        return r["steps"][0] if r["steps"] else None

    def pub0(r):
        s = s0(r)
        return s["published"] / s["window_s"] if s and s["window_s"] else None

    def kept0(r):
        s = s0(r)
        return 100.0 * s["delivered_per_s"] / s["offered_per_s"] if s and s["offered_per_s"] \
            else None

    def cpu0(r):
        return cpu_us(r, s0(r)) if s0(r) else None
    if rate:
        print("\n### Fixed rate (the first step): what each feed published, p99 publish -> "
              "receive, server CPU per delivery\n")
        print("Target 5 msg/s at 1,000 subscribers, 1 msg/s at 10,000. A sequential publisher "
              "waits for each answer and publishes less when the server answers slowly; "
              "*kept* is the share of the offered deliveries made during the step. "
              "Medians [min-max].\n")
        print("| subscribers | transport | figure | " + " | ".join(NAMES) +
              " | dev / nchan pipel. | seq. / seq. |")
        print("|---:|---|---|" + "---:|" * (len(NAMES) + 2))
        for n, t in rate:
            for label, f, is_ratio in (("msg/s published", pub0, False),
                                       ("kept", kept0, False),
                                       ("p50 ms", p50, True), ("p99 ms", p99, True),
                                       ("CPU us/delivery", cpu0, True)):
                ser = {k: series("fanout", n, t, k[0], k[1], f) for k in FEEDS}
                cells = [spread(ser[k]) + ("%" if label == "kept" and med(ser[k]) is not None
                                            else "") for k in FEEDS]
                r1 = r2 = (None, "")
                if is_ratio:
                    r1 = ratio(ser[("pushd", "dev")], ser[("nchan", "pipe")])
                    r2 = ratio(ser[("pushd", "seq")], ser[("nchan", "seq")])
                print("| %d | %s | %s | %s | %s | %s |" % (n, t, label, " | ".join(cells),
                                                          r1[1], r2[1]))
                if label in ("p99 ms", "CPU us/delivery"):
                    lim = P99_X if label == "p99 ms" else CPU_X
                    what = "p99" if label == "p99 ms" else "CPU/delivery"
                    target("fixed rate, %s: pushd by /dev/push <= %gx nchan by pipelined POST "
                           "(both at the full rate)" % (what, lim), (n, t), r1[0],
                           r1[0] is not None and r1[0] <= lim)
                    target("fixed rate, %s: both by sequential POST, pushd <= %gx nchan"
                           % (what, lim), (n, t), r2[0], r2[0] is not None and r2[0] <= lim)

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
            if v is None:
                cells.append("")
            elif v[0] is None:
                cells.append("not run")
            else:
                cells.append("%s %s" % (num(v[0]), "yes" if v[1] else "**no**"))
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
