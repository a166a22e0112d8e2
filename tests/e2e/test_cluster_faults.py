#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: the NATS side of a three-node push cluster failing
(docs/CLUSTER.md, failure table), with the topology of test_cluster.py
(three nats-servers as one JetStream cluster, an R3 stream on disk, three
bridges, three pushd, 9 subscribers: SSE, WebSocket and long-poll on each
node).  Each case checks that every subscriber gets every message exactly
once, under the same ids everywhere, in one order:

  1. one nats-server of three killed (SIGKILL) mid-stream and started
     again on its store: the stream keeps its quorum;
  2. one bridge stopped (SIGSTOP) for 10 s mid-stream, then SIGCONT: its
     node's publishes wait in its ingress queue (at this rate it does not
     fill: case 3 fills one) and it catches up;
  3. a message deleted from the middle of the stream (JetStream's
     STREAM.MSG.DELETE) while one bridge is down and has not applied it:
     when it comes back its node skips the deleted id (a placeholder on
     channel _cluster takes it) and delivers every later message, in
     order, under the same ids as the other nodes, which had delivered it;
  4. all three nats-servers down: a write with O_NONBLOCK succeeds while
     the ingress queue has room, then fails with EAGAIN; a blocking write
     sleeps (it is still asleep once the queue is seen full); POST /pub
     answers 503; once the servers are back, the sleeping write returns
     and everything accepted arrives once on every node.

Message counts are scaled to TCG: CLUSTER_N (default 300) per case at
CLUSTER_RATE (default 10/s) in all; issue 11 asks 20,000, far beyond what
an R3 stream in this emulator stores within the suite's time (docs/CLUSTER.md
has the measured rate).

vm-params: ring_size=131072 max_msg_size=4096 devices=3 ingress_size=16384 boot=cluster
test-timeout: 600
"""

import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402
import clusterlib as C  # noqa: E402

N = int(os.environ.get("CLUSTER_N", "300"))
RATE = float(os.environ.get("CLUSTER_RATE", "10"))


def case_all_down(tap, cl):
    """Publish while every nats-server is down."""
    since = cl.wait_settled()
    ch = E.unique_channel("down")
    for n in cl.nats:
        n.stop(signal.SIGTERM)
    C.wait_for(lambda: all(cl.status(i).get("state") == "disconnected" for i in range(3)), 60,
               "three bridges disconnected")
    dev = C.DEVICES[1]
    fd = os.open(dev, os.O_WRONLY | os.O_NONBLOCK)
    accepted, err = 0, None
    for i in range(5000):
        try:
            os.write(fd, ("@%s seq=%d" % (ch, i)).encode())
            accepted += 1
        except OSError as e:
            err = e.errno
            break
    os.close(fd)
    ii = C.ingress_info(dev)
    tap.ok(accepted > 0 and err == errno.EAGAIN,
           "NATS down: %d O_NONBLOCK writes accepted into the ingress queue, then EAGAIN "
           "(queue %d of %d bytes)" % (accepted, ii["bytes"], ii["max_bytes"]),
           "errno %r" % err)
    st, _, body = E.http(cl.pushd[1].port, "POST", "/pub/" + ch, body=b"seq=refused", timeout=10)
    tap.eq(503, st, "NATS down, queue full: POST /pub answers 503 (%r)" % body[:60])
    cs = C.pushd_cluster(cl.pushd[1])
    tap.ok(cs.get("ingress", {}).get("queued") == accepted
           and cs["ingress"].get("forward_lag_ms", 0) > 0
           and cs.get("bridge", {}).get("up") is False
           and cs["bridge"].get("state") == "disconnected",
           "NATS down: node1's /stats shows the %d queued, a forward lag, the bridge "
           "disconnected" % accepted, cs)
    reconnects = [C.pushd_cluster(pd).get("bridge", {}).get("reconnects", 0) for pd in cl.pushd]
    # a blocking writer sleeps until the queue has room
    w = subprocess.Popen(["sh", "-c", "printf '@%s seq=%d' > %s" % (ch, accepted, dev)])
    C.wait_for(lambda: C.proc_state(w.pid) == "S" and w.poll() is None and
               C.ingress_info(dev)["queued"] == accepted, 30, "the blocking writer asleep")
    tap.ok(w.poll() is None, "NATS down, queue full: a blocking write sleeps")
    total = accepted + 1
    subs = C.subscribe_all(cl, ch, since, total, 300)
    for n in cl.nats:
        n.start()
    cl.wait_nats()
    rc = w.wait(120)
    tap.eq(0, rc, "the blocking write returns once NATS is back")
    ok = C.check(tap, subs, total, "all nats-servers down")
    C.wait_for(lambda: all(C.pushd_cluster(pd).get("bridge", {}).get("up") for pd in cl.pushd),
               30, "three bridges up in /stats")
    after = [C.pushd_cluster(pd).get("bridge", {}).get("reconnects", 0) for pd in cl.pushd]
    tap.ok(all(a > b for a, b in zip(after, reconnects)),
           "NATS back: every node's /stats counts a bridge reconnect (%s -> %s)"
           % (reconnects, after))
    if not ok:
        cl.diag_logs()


def case_deleted(tap, cl):
    """A message deleted from the middle of the stream before node2 applied it."""
    since = cl.wait_settled()
    ch = E.unique_channel("del")
    n = 10
    rc = cl.bridges[2].stop(signal.SIGTERM)
    tap.eq(0, rc, "bridge2 stopped (SIGTERM)")
    subs = [C.Sub(k, cl, node, ch, since, n if node < 2 else n - 1, 120)
            for node in range(3) for k in ("sse", "websocket", "longpoll")]
    for pd in cl.pushd:
        pd.wait_subscribers(ch, {"sse": 1, "websocket": 1})
    fd = os.open(C.DEVICES[0], os.O_WRONLY)
    for i in range(n):
        os.write(fd, ("@%s seq=%d" % (ch, i)).encode())
    os.close(fd)
    C.wait_for(lambda: len(subs[0].items) >= n, 120, "node0's SSE subscriber has the %d" % n)
    ids = {C.seq_of(m): m.get("id") for m in subs[0].items}
    C.wait_for(lambda: C.device_info(C.DEVICES[1])["next_id"] > ids[n - 1], 60,
               "node1 applied the %d" % n)
    r = C.delete_msg(cl.client_ports[0], "PUSH", ids[4])
    tap.ok(r.get("success") is True, "seq=4 (id %d) deleted from the stream: %r" % (ids[4], r))
    if os.path.exists(cl.bridges[2].status_file):
        os.unlink(cl.bridges[2].status_file)
    cl.bridges[2].start()
    cl.wait_bridge(2)
    for s in subs:
        s.thread.join(max(1, s.deadline - time.monotonic() + 5))
    for s in subs:
        want = list(range(n)) if s.node < 2 else [i for i in range(n) if i != 4]
        got = [(C.seq_of(m), m.get("id")) for m in s.items]
        gaps = [m for m in s.items if m.get("type") == "gap"]
        tap.ok(not gaps and got == [(q, ids[q]) for q in want],
               "deleted id %d: %s gets seqs %s in order, under node0's ids, no gap"
               % (ids[4], s.name, "0..9" if s.node < 2 else "0..3,5..9"),
               "got %r; errors %s" % (got, s.errors[:3]))
    last = cl.wait_settled(60)
    tap.ok(last >= ids[n - 1], "the three devices at one id again (%d)" % last)
    # the status file is rewritten about once a second
    C.wait_for(lambda: "apply_deleted" in cl.status(2) and cl.status(2).get("applied_id", 0) >= last,
               10, "bridge2's status at id %d" % last)
    st = cl.status(2)
    tap.eq(1, st.get("apply_deleted"), "bridge2 took the deleted id as a placeholder (%r)"
           % {k: st.get(k) for k in ("apply_deleted", "apply_jumps", "resubscribes")})


def main(tap):
    C.require()
    cl = C.Cluster(tap)
    try:
        def restart_nats(pubs):
            cl.nats[1].stop(signal.SIGKILL)
            cl.nats[1].start()
            threading.Thread(target=cl.wait_nats, daemon=True).start()
        C.run_case(tap, cl, "restart nats-server 1 of 3", N, RATE, restart_nats)
        cl.wait_nats()

        def stop_bridge(pubs):
            b = cl.bridges[2]
            b.send(signal.SIGSTOP)
            C.wait_for(lambda: C.proc_state(b.p.pid) == "T", 10, "bridge2 stopped")
            # 10 s is the fault itself (issue 11), not a wait for an event
            t = threading.Timer(10.0, b.send, (signal.SIGCONT,))
            t.daemon = True
            t.start()
        C.run_case(tap, cl, "SIGSTOP bridge2 10 s", N, RATE, stop_bridge, fault_at=0.3)

        case_deleted(tap, cl)
        case_all_down(tap, cl)
        for i in range(3):
            # the stream poller (its own thread) ran and saw the stream: its
            # stream_seq is as of its last poll (every 2 s), applied_id is
            # read when the file is written, so wait for a poll after the last
            # message (seen once at 1753 < 1814 with two runs on the host)
            def caught_up(i=i):
                st = cl.status(i)
                return st.get("stream_polls", 0) > 0 and \
                    st.get("stream_seq", 0) >= st.get("applied_id", 1)
            try:
                C.wait_for(caught_up, 30, "bridge%d's poll up to its applied id" % i)
            except RuntimeError as e:
                tap.diag(str(e))
            st = cl.status(i)
            tap.diag("bridge%d: %r" % (i, st))
            tap.ok(st.get("stream_polls", 0) > 0 and
                   st.get("stream_seq", 0) >= st.get("applied_id", 1),
                   "bridge%d polled the stream %s times (stream seq %s, applied %s)"
                   % (i, st.get("stream_polls"), st.get("stream_seq"), st.get("applied_id")))
    finally:
        cl.stop()
    for i, b in enumerate(cl.bridges):
        tap.eq(0, b.p.returncode, "bridge%d exits 0 on SIGTERM" % i)


if __name__ == "__main__":
    socket.setdefaulttimeout(30)
    E.run_main(main)
