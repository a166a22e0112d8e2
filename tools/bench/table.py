#!/usr/bin/python3
"""Turn tools/bench/run's JSON lines into Markdown tables, pushd beside nchan.

usage: tools/bench/table.py results.jsonl
"""
import json
import sys


def ratio(a, b):
    return "%.2f" % (a / b) if a is not None and b else "-"


def fmt(v, unit=""):
    if v is None:
        return "-"
    if v >= 100:
        return "%.0f%s" % (v, unit)
    return "%.1f%s" % (v, unit)


def peak_step(r):
    """The step with the most deliveries per second."""
    return max(r["steps"], key=lambda s: s["delivered_per_s"]) if r["steps"] else None


def cpu_us(r):
    """Server CPU microseconds per delivery at the peak step."""
    s = peak_step(r)
    if not s or not s["delivered_per_s"]:
        return None
    return 1e6 * s["server_cpu"] / s["delivered_per_s"]


def problems(r):
    out = []
    for key, name in (("failed", "failed"), ("dropped", "dropped"), ("holes", "holes"),
                      ("gaps", "gaps"), ("reorders", "reordered"), ("id_errors", "bad ids"),
                      ("pub_errors", "publish errors")):
        if r.get(key):
            out.append("%d %s" % (r[key], name))
    return ", ".join(out)


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    by = {}
    for r in rows:
        by[(r["kind"], r["conns"], r["transport"], r["server"])] = r

    print("### Fan-out: deliveries per second (peak step) and server CPU per delivery\n")
    print("| subscribers | transport | pushd deliveries/s | nchan deliveries/s | pushd/nchan "
          "| pushd CPU us/delivery | nchan CPU us/delivery | pushd/nchan | pushd received "
          "| nchan received |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    notes = []
    keys = sorted({(k[1], k[2]) for k in by if k[0] == "fanout"},
                  key=lambda k: (k[0], ["sse", "ws", "longpoll"].index(k[1])))
    for conns, t in keys:
        p = by.get(("fanout", conns, t, "pushd"))
        n = by.get(("fanout", conns, t, "nchan"))
        pd = peak_step(p)["delivered_per_s"] if p and p["steps"] else None
        nd = peak_step(n)["delivered_per_s"] if n and n["steps"] else None
        pc, nc = (cpu_us(p) if p else None), (cpu_us(n) if n else None)

        def got(r):
            return "%.1f%%" % (100.0 * r["received"] / r["expected"]) if r and r["expected"] else "-"
        print("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            conns, t, fmt(pd), fmt(nd), ratio(pd, nd), fmt(pc), fmt(nc), ratio(pc, nc),
            got(p), got(n)))
        for r in (p, n):
            if r and problems(r):
                notes.append("%s %s %d: %s%s" % (r["server"], t, conns, problems(r),
                                                  " (%s)" % r["error"] if r["error"] else ""))
    if notes:
        print("\nProblems seen: " + "; ".join(notes) + ".")

    print("\n### Offered vs delivered per step (deliveries/s, server CPU in cores)\n")
    print("| subscribers | transport | server | " + " | ".join(
        "step %d" % i for i in range(3)) + " |")
    print("|---:|---|---|---|---|---|")
    for conns, t in keys:
        for s in ("pushd", "nchan"):
            r = by.get(("fanout", conns, t, s))
            if not r:
                continue
            cells = ["%.0f of %.0f, %.2f" % (st["delivered_per_s"], st["offered_per_s"],
                                             st["server_cpu"]) for st in r["steps"]]
            print("| %d | %s | %s | %s |" % (conns, t, s, " | ".join(cells)))

    lat_conns = 1000 if any(k[1] == 1000 for k in by) else min(
        (k[1] for k in by if k[0] == "fanout"), default=None)
    print("\n### Latency publish -> receive at %s subscribers, lowest rate (ms)\n" % lat_conns)
    print("| transport | pushd p50 | nchan p50 | pushd/nchan | pushd p99 | nchan p99 | pushd/nchan |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for t in ("sse", "ws", "longpoll"):
        p = by.get(("fanout", lat_conns, t, "pushd"))
        n = by.get(("fanout", lat_conns, t, "nchan"))
        if not p and not n:
            continue

        def lat(r, key):
            if not r or not r["steps"] or r["steps"][0][key] < 0:
                return None
            return r["steps"][0][key] / 1000.0
        vals = [lat(p, "lat_p50_us"), lat(n, "lat_p50_us"), lat(p, "lat_p99_us"),
                lat(n, "lat_p99_us")]
        print("| %s | %s | %s | %s | %s | %s | %s |" % (
            t, fmt(vals[0]), fmt(vals[1]), ratio(vals[0], vals[1]), fmt(vals[2]),
            fmt(vals[3]), ratio(vals[2], vals[3])))

    post = sorted(k for k in by if k[0] == "fanout-post")
    if post:
        print("\n### pushd fed by /dev/push vs by POST /pub (SSE)\n")
        print("| subscribers | published/s, device | published/s, POST | deliveries/s, device "
              "| deliveries/s, POST | CPU us/delivery, device | CPU us/delivery, POST |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for k in post:
            p = by[k]
            d = by.get(("fanout", k[1], k[2], "pushd"))

            def pubrate(r):
                return r["published"] / r["pub_s"] if r and r["pub_s"] else None
            print("| %d | %s | %s | %s | %s | %s | %s |" % (
                k[1], fmt(pubrate(d)), fmt(pubrate(p)),
                fmt(peak_step(d)["delivered_per_s"] if d else None),
                fmt(peak_step(p)["delivered_per_s"]), fmt(cpu_us(d) if d else None),
                fmt(cpu_us(p))))
            if problems(p):
                print("\nProblems seen (POST, %d): %s%s." % (k[1], problems(p),
                      " (%s)" % p["error"] if p["error"] else ""))

    print("\n### Idle memory per subscriber (server PSS after - before, / subscribers still "
          "open)\n")
    print("| transport | subscribers | pushd bytes | nchan bytes | pushd/nchan "
          "| pushd CPU idle | nchan CPU idle |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for (kind, conns, t, s), r in sorted(by.items()):
        if kind != "idle" or s != "pushd":
            continue
        n = by.get((kind, conns, t, "nchan"))

        def per(r):
            alive = r["established"] - r["dropped"] if r else 0
            if alive <= 0:
                return None
            return 1024.0 * (r["mem_after_kb"] - r["mem_before_kb"]) / alive
        def idle_cpu(r):
            if not r or not r.get("drain_s"):
                return "-"
            return "%.1f%%" % (100.0 * r["drain_server_cpu_s"] / r["drain_s"])
        print("| %s | %d | %s | %s | %s | %s | %s |" % (
            t, conns, fmt(per(r)), fmt(per(n)), ratio(per(r), per(n)), idle_cpu(r),
            idle_cpu(n)))


if __name__ == "__main__":
    main()
