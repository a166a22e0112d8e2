#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# test-timeout: 300
"""Description: SSE written by the hub (--sse-path hub, the default) and by
libmicrohttpd (--sse-path mhd) give the same stream, byte-exact HTTP/1.1
chunking included, and the hub's costs one system call per delivery.

For each path: a subscriber with a 4 KiB receive buffer that reads nothing
while 150 events of 40 KB are published (6 MB: more than a loopback
socket's send buffer takes, so pushd's sends stop short and wait for room;
--max-queue 16 MiB keeps it from being cut off), then reads: every id once, in order, each payload whole,
every chunk framed exactly (hex size, CRLF, data, CRLF); a subscriber that
resets its connection mid-stream costs the others nothing and is counted
as gone; on SIGTERM a raw stream gets "event: close" (shutdown) and then
the last chunk "0\\r\\n\\r\\n", and pushd exits 0; an HTTP/1.0 request
gets a plain body (no chunks) on both paths.  Then, with strace
attached only while 40 messages reach 10 subscribers one by one, the
system calls that write or re-arm a socket (sendmsg, sendto, write,
writev, epoll_ctl) per delivery: at most 1.5 with hub, and more than 1.8
with mhd (the eventfd write that resumes MHD, then its send).  A bad
--sse-path value is refused with exit 2."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

N_BIG = 150
MAX_QUEUE = 16 << 20
N_COUNT, SUBS = 40, 10


def raw_sub(port, ch, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /sub/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
              % ch.encode())
    return s


def parse_chunked(raw):
    """(head, chunks, rest, error): the chunks of a chunked body, strictly;
    rest is an incomplete tail; chunks ends with b"" at the last chunk."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        return None, [], raw, None
    head, body = raw[:end], raw[end + 4:]
    chunks, i = [], 0
    while True:
        nl = body.find(b"\r\n", i)
        if nl < 0:
            return head, chunks, body[i:], None
        line = body[i:nl]
        if not re.fullmatch(rb"[0-9a-fA-F]+", line):
            return head, chunks, body[i:], "bad size line %r at body byte %d" % (line[:20], i)
        size = int(line, 16)
        if size == 0:
            if body[nl + 2:nl + 4] == b"\r\n":
                chunks.append(b"")
                return head, chunks, body[nl + 4:], None
            return head, chunks, body[i:], None
        if len(body) < nl + 2 + size + 2:
            return head, chunks, body[i:], None
        data = body[nl + 2:nl + 2 + size]
        if body[nl + 2 + size:nl + 4 + size] != b"\r\n":
            return head, chunks, body[i:], "chunk of %d not followed by CRLF at %d" % (size, i)
        chunks.append(data)
        i = nl + 4 + size


def events_of(chunks):
    """The data of each complete event in the chunks' text (comments, retry skipped)."""
    text = b"".join(chunks).decode()
    out = []
    for block in text.split("\n\n")[:-1]:	# the last is empty or incomplete
        data = [ln[6:] for ln in block.split("\n") if ln.startswith("data: ")]
        if data:
            out.append("\n".join(data))
    return out


def slow_reader(tap, path, pd, dev):
    big = min(40000, E.max_msg_size() - 200)
    ch = E.unique_channel("ssepath")
    s = raw_sub(pd.port, ch, rcvbuf=4096)
    pd.wait_subscribers(ch, {"sse": 1})
    payloads = ["%d:" % i + "p" * (big - 8) for i in range(N_BIG)]
    ids = []
    for i, p in enumerate(payloads):
        ids.append(dev.publish_id(ch, p))
        if i % 10 == 9:
            # let pushd read them before the device's ring comes round (a gap)
            deadline = time.monotonic() + 20
            while pd.stats()["last_id"] < ids[-1] and time.monotonic() < deadline:
                time.sleep(0.05)
    time.sleep(0.5)
    raw, err, seen_last = b"", None, False
    last = b'"%d:pp' % (N_BIG - 1)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        if not data:
            break
        raw += data
        # parse only once the last payload has begun: 6 MB, parsed per recv, is slow
        seen_last = seen_last or last in raw[-(len(data) + len(last)):]
        if seen_last:
            head, chunks, _, err = parse_chunked(raw)
            if err or len(events_of(chunks)) >= N_BIG:
                break
    s.close()
    head, chunks, _, err2 = parse_chunked(raw)
    tap.ok(head is not None and head.startswith(b"HTTP/1.1 200") and
           b"transfer-encoding: chunked" in head.lower(),
           "%s: a chunked 200 head" % path, head)
    tap.ok(err is None and err2 is None, "%s: every chunk framed exactly (%d chunks, %d bytes)"
           % (path, len(chunks), len(raw)), err or err2)
    evs = [json.loads(d) for d in events_of(chunks)]
    other = [e for e in evs if "id" not in e]
    tap.eq(ids, [e["id"] for e in evs if "id" in e],
           "%s: %d ids once, in order, through a 4 KiB receive buffer" % (path, N_BIG))
    tap.ok(not other, "%s: no other events (gaps, closes)" % path, other[:3])
    tap.ok(all(e["data"] == p for e, p in zip(evs, payloads)) and len(evs) == N_BIG,
           "%s: every %d-byte payload whole" % (path, big))


def vanishing(tap, path, pd, dev):
    ch = E.unique_channel("ssevanish")
    gone0 = pd.stats()["peer_gone"]
    good = E.SseClient(pd.port, "/sub/" + ch)
    good.head(10)
    bad = raw_sub(pd.port, ch)
    pd.wait_subscribers(ch, {"sse": 2})
    ids = [dev.publish_id(ch, "v%d" % i) for i in range(10)]
    bad.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    bad.close()	# a RST with the stream half read
    ids += [dev.publish_id(ch, "v%d" % i) for i in range(10, 20)]
    evs = good.events(20, timeout=10)
    tap.eq(ids, [json.loads(e["data"])["id"] for e in evs],
           "%s: a reset neighbour costs the other subscriber nothing" % path)
    deadline = time.monotonic() + 10
    while pd.stats()["peer_gone"] <= gone0 and time.monotonic() < deadline:
        time.sleep(0.1)
    tap.ok(pd.stats()["peer_gone"] > gone0, "%s: the reset one counted as gone" % path)
    good.close()


def http10(tap, path, pd, dev):
    """An HTTP/1.0 request: no chunks, the body runs until the connection ends."""
    ch = E.unique_channel("sse10")
    s = socket.socket()
    s.settimeout(10)
    s.connect(("127.0.0.1", pd.port))
    s.sendall(b"GET /sub/%s HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
              % ch.encode())
    pd.wait_subscribers(ch, {"sse": 1})
    ids = [dev.publish_id(ch, "old%d" % i) for i in range(5)]
    raw = b""
    deadline = time.monotonic() + 10
    while len(events_of([raw.partition(b"\r\n\r\n")[2]])) < 5 and time.monotonic() < deadline:
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        if not data:
            break
        raw += data
    s.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    tap.ok(b"chunked" not in head.lower() and body.startswith(b"retry: 2000\n\n"),
           "%s: HTTP/1.0: a plain body, no chunks" % path, raw[:300])
    tap.eq(ids, [json.loads(d)["id"] for d in events_of([body])],
           "%s: HTTP/1.0: every event" % path)


def shutdown(tap, path, pd, dev):
    ch = E.unique_channel("sseterm")
    s = raw_sub(pd.port, ch)
    pd.wait_subscribers(ch, {"sse": 1})
    dev.publish_id(ch, "before")
    time.sleep(0.3)
    pd.signal(signal.SIGTERM)
    raw = b""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            data = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not data:
            break
        raw += data
    s.close()
    head, chunks, rest, err = parse_chunked(raw)
    text = b"".join(chunks).decode(errors="replace")
    tap.ok(err is None and chunks and chunks[-1] == b"" and rest == b"",
           "%s: on SIGTERM the stream ends with the last chunk" % path, repr(raw[-80:]))
    tap.ok('event: close\ndata: {"reason":"shutdown"}' in text,
           "%s: after event: close, reason shutdown" % path, text[-200:])
    rc = pd.wait(20)
    pd.stop()
    tap.eq(0, rc, "%s: pushd exits 0" % path)


def writes_per_delivery(tap, path, dev):
    """strace -c on pushd while N_COUNT messages reach SUBS subscribers."""
    pd = E.Pushd("--sse-path", path, "--heartbeat", "600")
    ch = E.unique_channel("ssecount")
    subs = [E.SseClient(pd.port, "/sub/" + ch) for _ in range(SUBS)]
    for c in subs:
        c.head(10)
    pd.wait_subscribers(ch, {"sse": SUBS})
    out = os.path.join(pd.dir, "strace.txt")
    st = subprocess.Popen(["strace", "-f", "-c", "-o", out, "-p", str(pd.pid),
                           "-e", "trace=sendmsg,sendto,write,writev,epoll_ctl"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.5)	# attached to every thread
    ids = []
    for i in range(N_COUNT):
        ids.append(dev.publish_id(ch, "c%d" % i))
        # one at a time: each delivery a batch of its own
        for c in subs:
            ev = c.next_event(10)
            if ev is None or json.loads(ev["data"])["id"] != ids[-1]:
                break
    time.sleep(0.3)
    st.send_signal(signal.SIGINT)
    st.wait(20)
    calls = 0
    with open(out) as f:
        for ln in f:
            m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", ln)
            if m and m.group(2) != "total":
                calls += int(m.group(1))
    delivered = N_COUNT * SUBS
    for c in subs:
        c.close()
    pd.stop()
    return calls / delivered, open(out).read()


def main(tap):
    E.require()
    dev = E.Device()
    for path in ("hub", "mhd"):
        pd = E.Pushd("--sse-path", path, "--heartbeat", "60", "--max-queue", str(MAX_QUEUE))
        slow_reader(tap, path, pd, dev)
        vanishing(tap, path, pd, dev)
        http10(tap, path, pd, dev)
        shutdown(tap, path, pd, dev)
    if shutil.which("strace"):
        hub, hub_txt = writes_per_delivery(tap, "hub", dev)
        mhd, mhd_txt = writes_per_delivery(tap, "mhd", dev)
        print("# figure: SSE socket writes and re-arms per delivery (%d subscribers, %d messages "
              "one by one): hub %.2f, mhd %.2f" % (SUBS, N_COUNT, hub, mhd), flush=True)
        tap.ok(hub <= 1.5, "hub: %.2f system calls per delivery, at most 1.5" % hub, hub_txt)
        tap.ok(mhd > 1.8, "mhd: %.2f per delivery, more than 1.8 (the test tells them apart)" % mhd,
               mhd_txt)
    else:
        tap.skip("system calls per delivery", "no strace")
        tap.skip("system calls per delivery, mhd", "no strace")
    rc = subprocess.run([E.PUSHD, "--sse-path", "kernel"], capture_output=True, text=True,
                        timeout=10)
    tap.ok(rc.returncode == 2 and "--sse-path: expected hub or mhd" in rc.stderr,
           "--sse-path kernel: refused with exit 2 and a clear message", rc.stderr)
    dev.close()


E.run_main(main)
