# SPDX-License-Identifier: GPL-2.0
"""The table of tools/bench/cluster: medians over the repeats of its
push-load JSON objects, push beside nchan, with the ratio push/nchan.

  python3 tools/bench/cluster_table.py build/bench/cluster-STAMP.jsonl

prints the table of a finished (or partial) run again from its raw lines.
"""

import json
import statistics
import sys

NAMES = {"push": "push cluster", "nchan": "nchan+Redis"}


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def burst_cpu_us(r):
    """Server CPU time per delivery over the burst: its step and the drain."""
    if not r["received"] or not r["steps"]:
        return None
    s = r["steps"][0]
    cpu = s["server_cpu"] * s["window_s"] + r["drain_server_cpu_s"]
    return 1e6 * cpu / r["received"]


def figures(r):
    """(label, value, better) of one run; better: 'hi' or 'lo'."""
    out = []
    if r["kind"] == "rates":
        for s in r["steps"]:
            p = "%g msg/s" % s["rate"]
            out += [(p + ": deliveries/s", s["delivered_per_s"], "hi"),
                    (p + ": p50 ms", s["lat_p50_us"] / 1000, "lo"),
                    (p + ": p99 ms", s["lat_p99_us"] / 1000, "lo"),
                    (p + ": server CPU %", 100 * s["server_cpu"], "lo")]
    else:
        out += [("burst: deliveries/s", r["deliveries_per_s"], "hi"),
                ("burst: p50 ms", r["lat_p50_us"] / 1000, "lo"),
                ("burst: p99 ms", r["lat_p99_us"] / 1000, "lo"),
                ("burst: server CPU us/delivery", burst_cpu_us(r), "lo")]
    out.append(("%s: delivered %%" % r["kind"],
                100.0 * r["received"] / r["expected"] if r["expected"] else None, "min"))
    return out


def fmt(v, label):
    if v is None:
        return "-"
    if "ms" in label or "us/" in label:
        return "%.1f" % v if v < 100 else "%.0f" % v
    if "%" in label:
        return "%.1f" % v
    return "%.0f" % v


def render(results, a=None, kernel=""):
    rows = {}		# (transport, label) -> {bench: [values]}
    order = []
    better = {}
    reps = {}
    for r in results:
        for label, v, b in figures(r):
            key = (r["transport"], label)
            if key not in rows:
                rows[key] = {}
                order.append(key)
            rows[key].setdefault(r["bench"], []).append(v)
            better[key] = b
        reps.setdefault((r["bench"], r["transport"], r["kind"]), 0)
        reps[(r["bench"], r["transport"], r["kind"])] += 1
    order.sort(key=lambda k: k[0] != "sse")	# stable: sse first, then as run
    lines = []
    if a:
        lines.append("Publishing on node 1 (POST, 32 pipelined), %d subscribers on node 2 and %d "
                     "on node 3; push's stream R%d %s; medians of %d repeats (guest %s)." % (
                         a["subs"], a["subs"], a.get("replicas", 3),
                         "on disk" if a.get("disk") else "in memory", a["repeats"], kernel))
        lines.append("")
    lines += ["| transport | figure | push cluster | nchan+Redis | push/nchan |",
              "|---|---|--:|--:|--:|"]
    for key in order:
        t, label = key
        vals = rows[key]
        agg = min if better[key] == "min" else med
        p = agg([v for v in vals.get("push", []) if v is not None] or [None])
        n = agg([v for v in vals.get("nchan", []) if v is not None] or [None])
        ratio = "%.2f" % (p / n) if p is not None and n else "-"
        if better[key] == "min":
            label += " (lowest run)"
            ratio = ""
        lines.append("| %s | %s | %s | %s | %s |" % (t, label, fmt(p, label), fmt(n, label), ratio))
    if a and a.get("idle"):
        p, n = a["idle"].get("push"), a["idle"].get("nchan")
        lines.append("| - | idle server CPU %% (before the runs) | %.1f | %.1f | %s |" % (
            p, n, "%.2f" % (p / n) if n else "-"))
    lines.append("")
    lines += goal(rows, order)
    short = sorted(k for k, v in reps.items() if a and v < a["repeats"])
    if short:
        lines.append("Fewer runs than repeats (failed runs): " +
                     ", ".join("%s %s %s: %d" % (k + (reps[k],)) for k in short))
    return "\n".join(lines)


def goal(rows, order):
    """Issue 11's goal: push >= 2x nchan+Redis deliveries/s, p99 <= nchan's."""
    out = []
    for t in sorted({k[0] for k in order}):
        def m(label, bench):
            return med(rows.get((t, label), {}).get(bench, []))
        bp, bn = m("burst: deliveries/s", "push"), m("burst: deliveries/s", "nchan")
        p99 = [(k[1], m(k[1], "push"), m(k[1], "nchan")) for k in order
               if k[0] == t and k[1].endswith("p99 ms") and not k[1].startswith("burst")]
        if bp is None or not bn:
            out.append("- %s: no burst figures of both servers" % t)
            continue
        worse = [lab.split(":")[0] for lab, p, n in p99 if p is not None and n is not None and p > n]
        out.append("- %s: burst deliveries/s push/nchan %.2f (goal >= 2: %s); p99 at the fixed "
                   "rates push <= nchan: %s"
                   % (t, bp / bn, "met" if bp >= 2 * bn else "not met",
                      "met at every rate" if not worse else "not met at " + ", ".join(worse)))
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: cluster_table.py RESULTS.jsonl")
    with open(sys.argv[1]) as f:
        res = [json.loads(line) for line in f if line.strip()]
    print(render(res))
