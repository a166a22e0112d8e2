#!/usr/bin/python3
"""idle_fanout.py - fan-out cost on a running pushd: N subscribers, K messages.

Opens COUNT subscribers of one transport (WebSocket or SSE, raw sockets),
publishes MESSAGES small messages on their channel through /dev/push as fast
as it can, and reads every socket until each subscriber got all of them.
Prints deliveries per second (first publish to last delivery) and pushd's
CPU time per delivery (from /proc/PID/stat).  The reading side is Python:
at high rates it, not pushd, is the bottleneck, so the CPU figure is the
one to compare.

usage: tools/bench/idle_fanout.py --pid PID [--transport ws|sse]
                                  [--count N] [--messages K] [--size BYTES]
Exit status: 0 when every subscriber got every message, 1 otherwise.
"""
import argparse, base64, os, resource, selectors, socket, sys, time


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def dechunk(raw, s, d):
    """The body bytes of HTTP/1.1 chunked data d on s (partial chunks kept in raw)."""
    buf = raw[s] + d
    out = []
    while True:
        nl = buf.find(b"\r\n")
        if nl < 0:
            break
        size = int(buf[:nl].split(b";")[0] or b"0", 16)
        if len(buf) < nl + 2 + size + 2:
            break
        out.append(buf[nl + 2:nl + 2 + size])
        buf = buf[nl + 2 + size + 2:]
    raw[s] = buf
    return b"".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--transport", choices=("ws", "sse"), default="ws")
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--port", type=int, default=8080)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ch = "fan%d" % os.getpid()
    socks = []
    for i in range(a.count):
        s = socket.create_connection(("127.0.0.1", a.port))
        if a.transport == "ws":
            key = base64.b64encode(os.urandom(16)).decode()
            req = ("GET /sub/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (ch, key))
        else:
            req = "GET /sub/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n" % ch
        s.sendall(req.encode())
        socks.append(s)
        if i % 500 == 499:
            time.sleep(0.05)
    leftover = {}
    for s in socks:
        s.settimeout(30)
        head = b""
        while b"\r\n\r\n" not in head:
            d = s.recv(4096)
            if not d:
                raise SystemExit("subscriber refused")
            head += d
        leftover[s] = head.split(b"\r\n\r\n", 1)[1]
    time.sleep(1)
    sel = selectors.DefaultSelector()
    seen = {}
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        seen[s] = 0
    marker = b'"channel":"%s"' % ch.encode()
    payload = b"x" * a.size
    fd = os.open("/dev/push", os.O_WRONLY)
    c0, t0 = cpu_s(a.pid), time.time()
    for i in range(a.messages):
        os.write(fd, b"@%s %s" % (ch.encode(), payload))
    os.close(fd)
    want = a.messages
    done = 0
    tail = {s: b"" for s in socks}
    raw = {s: leftover[s] if a.transport == "sse" else b"" for s in socks}
    deadline = time.time() + 60
    while done < len(socks) and time.time() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            try:
                d = s.recv(1 << 18)
            except BlockingIOError:
                continue
            if not d:
                sel.unregister(s)
                continue
            if a.transport == "sse":
                d = dechunk(raw, s, d)
            buf = tail[s] + d
            seen[s] += buf.count(marker)
            tail[s] = buf[-len(marker) + 1:]
            if seen[s] >= want:
                sel.unregister(s)
                done += 1
    t1, c1 = time.time(), cpu_s(a.pid)
    total = sum(min(v, want) for v in seen.values())
    print("transport=%s subscribers=%d messages=%d deliveries=%d seconds=%.2f deliveries_per_s=%.0f "
          "pushd_cpu_us_per_delivery=%.2f" % (a.transport, a.count, a.messages, total, t1 - t0,
                                              total / (t1 - t0), (c1 - c0) * 1e6 / max(total, 1)))
    short = sorted(v for v in seen.values() if v < want)
    if short:
        print("short subscribers: %d, their counts: %s" % (len(short), short[:20]))
    return 0 if total == a.count * want else 1


if __name__ == "__main__":
    sys.exit(main())
