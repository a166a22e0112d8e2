#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: ids from another module load never skip silently (issue
9, item 6).  A resume carries its epoch as ?since=EPOCH-ID (or
Last-Event-ID: EPOCH-ID); the device's epoch is in /healthz and every
long-poll answer.  A resume from another epoch, or from a bare id beyond
the device's next id, gets a reset gap ("reset":true) first and then every
retained message of this load, in each transport; the right epoch resumes
normally; an SSE gap carries an "id:" line so Last-Event-ID moves past it;
a message pushd cannot encode for lack of memory becomes a gap."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402


def first_items_lp(pd, path):
    st, _, body = E.http_json(pd.port, "GET", path, timeout=30)
    return st, body


def main(tap):
    E.require()
    pd = E.Pushd("--heartbeat", "30", "--poll-timeout", "5")
    dev = E.Device()
    ch = E.unique_channel("epoch")
    ids = [dev.publish_id(ch, "m%d" % i) for i in range(3)]
    st, _, hz = E.http_json(pd.port, "GET", "/healthz")
    epoch = hz.get("epoch") if isinstance(hz, dict) else None
    tap.ok(isinstance(epoch, str) and len(epoch) == 16 and int(epoch, 16) != 0,
           "/healthz names the device's epoch", hz)
    epoch = epoch or "1"
    other = "%016x" % (int(epoch, 16) ^ 0x5a5a)

    # The right epoch: a normal resume.
    st, body = first_items_lp(pd, "/sub/%s?since=%s-%d" % (ch, epoch, ids[0]))
    tap.ok(st == 200 and isinstance(body, dict) and
           [m.get("id") for m in body.get("messages", [])] == ids[1:] and body.get("epoch") == epoch,
           "long-poll ?since=EPOCH-ID with this epoch: the messages after it, and the epoch", body)

    # Another epoch: reset gap, then everything retained of this load.
    def check_reset(name, items):
        gap = items[0] if items else None
        tap.ok(isinstance(gap, dict) and gap.get("type") == "gap" and gap.get("reset") is True
               and gap.get("epoch") == epoch, "%s: another epoch gets a reset gap first" % name, gap)
        got = [m.get("id") for m in items[1:] if m.get("type") != "gap"]
        tap.ok(all(i in got for i in ids), "%s: then the retained messages, ours included" % name,
               got[-5:])

    def lp_follow(path):
        """A long-poll answer, and the next one if the first held only the reset."""
        st, body = first_items_lp(pd, path)
        items = body.get("messages", []) if isinstance(body, dict) else []
        if len(items) == 1 and isinstance(body, dict):
            _, more = first_items_lp(pd, "/sub/%s?since=%s" % (ch, body.get("next")))
            items += more.get("messages", []) if isinstance(more, dict) else []
        return items

    check_reset("long-poll", lp_follow("/sub/%s?since=%s-%d" % (ch, other, ids[2])))

    sse = E.SseClient(pd.port, "/sub/" + ch, headers={"Last-Event-ID": "%s-%d" % (other, 5)})
    evs = sse.events(4, diag=tap.diag)
    sse.close()
    objs = []
    for ev in evs:
        try:
            objs.append(E.json.loads(ev["data"]))
        except (ValueError, KeyError):
            objs.append(ev)
    check_reset("SSE (Last-Event-ID)", objs)
    tap.ok(bool(evs) and evs[0].get("event") == "gap" and evs[0].get("id") is not None and
           objs and evs[0]["id"] == str(objs[0].get("next_id", 0) - 1),
           "SSE: the gap event carries id: next_id - 1", evs[:1])

    ws = E.RawWs(pd.port, "/sub/%s?since=%s-%d" % (ch, other, 7), timeout=20)
    got = ws.json_messages(1 + len(ids), 20, tap.diag, until=lambda m: m.get("id") == ids[-1])
    ws.close()
    check_reset("WebSocket", got)

    # A bare id beyond the device (ids restarted at a reload): a reset, not "new only".
    far = dev.info()["next_id"] + 100000
    check_reset("long-poll, bare id beyond the device", lp_follow("/sub/%s?since=%d" % (ch, far)))
    st, _, body = E.http(pd.port, "GET", "/sub/%s?since=zz-5" % ch)
    tap.eq(400, st, "a malformed EPOCH-ID: 400")

    # Out of memory: a message pushd cannot encode is a gap, not a hole.
    sub = E.SseClient(pd.port, "/sub/" + ch)
    sub.head(20)
    pd.wait_subscribers(ch, {"sse": 1})
    with open("/proc/%d/status" % pd.pid) as f:
        vm = [int(ln.split()[1]) for ln in f if ln.startswith("VmSize:")][0]
    rc = subprocess.call(["prlimit", "--pid", str(pd.pid), "--as=%d" % ((vm + 256) * 1024)])
    big = dev.publish_id(ch, b"\x01" * min(60000, E.max_msg_size()))
    small = dev.publish_id(ch, "after")
    evs = sub.events(2)
    subprocess.call(["prlimit", "--pid", str(pd.pid), "--as=unlimited"])
    sub.close()
    if rc == 0 and evs and evs[0].get("event") == "message" and evs[0].get("id") == str(big):
        tap.skip("out of memory: a message becomes a gap", "the allocation did not fail")
    else:
        first = E.json.loads(evs[0]["data"]) if evs and evs[0].get("event") == "gap" else None
        tap.ok(first is not None and first.get("first_id") == big and first.get("next_id") == big + 1,
               "out of memory: the message pushd could not encode is a gap", evs[:1])
        tap.ok(len(evs) > 1 and evs[1].get("id") == str(small), "and the next one is delivered",
               evs[1:2])
    dev.close()
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")


E.run_main(main)
