#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: resuming clients that vanish mid-replay cannot crash pushd.

The device's ring is filled (~28,000 messages of 100 bytes), then, round
after round, CLIENTS SSE clients with 4 KiB receive buffers ask for
?since=oldest, so that the replay thread is reading history for them, and
all of them reset their connections (SO_LINGER 0) at once.  Each reset is
seen twice in pushd: by the hub thread's watch of the socket and by
libmicrohttpd, which ends the connection and frees the client.  pushd
used to unsubscribe the client from the hub thread too; when that client
was the one the replay thread was reading for, the unsubscribe waited for
the step with the hub's lock dropped, the MHD thread freed the client
meanwhile, and the hub thread went on in freed memory (SIGSEGV, seen in
test_resume_memory on a loaded host, backtrace in hub_unsubscribe from
longpoll_hup).  Every round must end with pushd alive and every SSE
connection gone from /stats."""

import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

CLIENTS = int(os.environ.get("VANISH_CLIENTS", "60"))
ROUNDS = int(os.environ.get("VANISH_ROUNDS", "8"))


def sse_conns(pd):
    return pd.stats()["transports"]["sse"]["connections"]


def main(tap):
    E.require()
    dev = E.Device()
    info = dev.info()
    ch = E.unique_channel("vanish")
    rec = b"@" + ch.encode() + b" " + b"v" * 100
    for _ in range(info["ring_size"] // 140 + 1000):
        os.write(dev.fd, rec)
    pd = E.Pushd("--max-queue", "262144", "--heartbeat", "60")
    req = E.request_bytes("GET", "/sub/%s?since=oldest" % ch, {"Accept": "text/event-stream"},
                          port=pd.port)
    alive_rounds = 0
    for rnd in range(ROUNDS):
        socks = []
        for _ in range(CLIENTS):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.settimeout(10)
            try:
                s.connect(("127.0.0.1", pd.port))
                s.sendall(req)
                socks.append(s)
            except OSError:
                s.close()
        # until they are all being served (replays under way), at most 30 s
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and pd.alive() and sse_conns(pd) < len(socks):
            time.sleep(0.05)
        for s in socks:
            s.close()	# RST: SO_LINGER 0, and unread data
        deadline = time.monotonic() + 60
        gone = False
        while time.monotonic() < deadline and pd.alive():
            if sse_conns(pd) == 0:
                gone = True
                break
            time.sleep(0.1)
        if not pd.alive() or not gone:
            tap.ok(False, "round %d: %d resuming clients reset mid-replay: pushd %s" % (
                rnd + 1, len(socks), "alive, connections left" if pd.alive() else "died"))
            break
        alive_rounds += 1
    tap.eq(ROUNDS, alive_rounds, "%d rounds of %d resuming clients reset mid-replay: pushd alive, "
           "every connection gone after each" % (ROUNDS, CLIENTS))
    st = pd.stats()
    tap.ok(st.get("history_reads", 0) > 0, "the replays read history (%d reads)"
           % st.get("history_reads", 0))
    dev.close()
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")


E.run_main(main)
