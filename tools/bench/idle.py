#!/usr/bin/python3
"""idle.py - memory cost of idle subscribers on a running pushd.

Opens COUNT subscribers of one transport (raw sockets: SSE, WebSocket or
long-poll), lets them sit idle, and reports pushd's RSS growth per
subscriber.  Then publishes one message and checks that every subscriber
got it, so a number is only printed for connections that really work.

usage: tools/bench/idle.py --pid PID [--transport sse|ws|longpoll]
                           [--count N] [--host H] [--port P] [--channel C]
Run as root in the test VM, e.g.:
  build/bin/pushd & tools/bench/idle.py --pid $! --transport ws --count 2000
Exit status: 0 when every subscriber got the message, 1 otherwise.
"""
import argparse, base64, os, resource, selectors, socket, sys, time


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit("no VmRSS for pid %d" % pid)


def request(transport, path, host):
    head = "GET %s HTTP/1.1\r\nHost: %s\r\n" % (path, host)
    if transport == "sse":
        head += "Accept: text/event-stream\r\n"
    elif transport == "ws":
        key = base64.b64encode(os.urandom(16)).decode()
        head += ("Upgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n" % key)
    return (head + "\r\n").encode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--transport", choices=("sse", "ws", "longpoll"), default="sse")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--channel", default="idle")
    a = ap.parse_args()
    if a.count < 1 or a.count > 200000:
        raise SystemExit("--count: 1..200000")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    path = "/sub/%s" % a.channel
    time.sleep(0.5)
    before = rss_kib(a.pid)
    socks = []
    for i in range(a.count):
        s = socket.create_connection((a.host, a.port))
        s.sendall(request(a.transport, path, a.host))
        socks.append(s)
        if i % 500 == 499:
            time.sleep(0.05)    # let the accept queue drain
    # wait for every response head (long-poll has none until a message)
    if a.transport != "longpoll":
        for s in socks:
            s.settimeout(30)
            got = b""
            while b"\r\n\r\n" not in got:
                d = s.recv(4096)
                if not d:
                    raise SystemExit("a subscriber was refused or closed")
                got += d
            if not (got.startswith(b"HTTP/1.1 200") or got.startswith(b"HTTP/1.1 101")):
                raise SystemExit("bad answer: %r" % got[:80])
    time.sleep(2)
    after = rss_kib(a.pid)
    per = (after - before) * 1024.0 / a.count
    print("transport=%s subscribers=%d rss_before_kib=%d rss_after_kib=%d bytes_per_subscriber=%.0f"
          % (a.transport, a.count, before, after, per))

    # every one of them must still be alive: publish, and count who got it
    marker = "idle-check-%d" % os.getpid()
    fd = os.open("/dev/push", os.O_WRONLY)
    os.write(fd, ("@%s %s" % (a.channel, marker)).encode())
    os.close(fd)
    sel = selectors.DefaultSelector()
    bufs = {}
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        bufs[s] = b""
    ok = set()
    deadline = time.time() + 60
    while len(ok) < len(socks) and time.time() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            try:
                d = s.recv(65536)
            except BlockingIOError:
                continue
            if not d:
                sel.unregister(s)
                continue
            bufs[s] += d
            if marker.encode() in bufs[s]:
                ok.add(s)
                sel.unregister(s)
    print("delivered=%d/%d" % (len(ok), len(socks)))
    for s in socks:
        s.close()
    return 0 if len(ok) == len(socks) else 1


if __name__ == "__main__":
    sys.exit(main())
