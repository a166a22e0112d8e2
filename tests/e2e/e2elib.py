# SPDX-License-Identifier: GPL-2.0
"""Shared helpers of the Python end-to-end tests of pushd.

Each test imports this module, calls require() (skip, exit 4, unless
build/bin/pushd and /dev/push exist), starts its own pushd on a free
loopback port with Pushd(...), drives it with real clients and reports
TAP lines through the Tap object.  Every wait here is bounded in time;
every pushd started here is stopped at exit, even on an exception.

The clients are deliberately small and independent of pushd's code:
  http()        one request, whole answer (Content-Length, chunked or close)
  SseClient     raw socket, WHATWG event-stream parser over any framing
  RawWs         RFC 6455 client that can also send malformed frames
Third-party clients (python3-websockets, node-ws, curl, chromium) are
used by the tests themselves where "a client that is not ours" matters.
"""

import atexit
import base64
import ctypes
import fcntl
import hashlib
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PUSHD = os.environ.get("PUSHD", os.path.join(ROOT, "build", "bin", "pushd"))
DEVICE = os.environ.get("PUSH_DEVICE", "/dev/push")
KSFT_SKIP = 4
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


# --- TAP -----------------------------------------------------------------

class Tap:
    """Numbered TAP lines; done() exits 0 if nothing failed, 1 otherwise."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, name), flush=True)
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name), flush=True)
            if diag is not None:
                for line in str(diag).splitlines() or [""]:
                    print("#   " + line[:400], flush=True)
        return bool(cond)

    def eq(self, expected, seen, name):
        return self.ok(expected == seen, name,
                       "expected %r, seen %r" % (expected, seen))

    def skip(self, name, reason):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, reason), flush=True)

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed or self.n == 0 else 0)


def run_main(main):
    """Run main(tap); an exception is one more failed test, not a traceback exit."""
    tap = Tap()
    try:
        main(tap)
    except SystemExit:
        raise
    except BaseException:
        tap.ok(False, "test body raised", traceback.format_exc())
    finally:
        stop_all()
    tap.done()


def skip_all(reason):
    print("1..0 # SKIP " + reason, flush=True)
    sys.exit(KSFT_SKIP)


def require(*tools):
    """Skip the whole test unless pushd, the device and the named programs exist."""
    if not os.access(PUSHD, os.X_OK):
        skip_all("no pushd at %s (run make)" % PUSHD)
    if not os.path.exists(DEVICE):
        skip_all("no %s: run inside tools/vm/run" % DEVICE)
    for t in tools:
        if not os.access(t, os.X_OK):
            skip_all("no " + t)


# --- pushd ---------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_running = []


def stop_all():
    for p in list(_running):
        p.kill()


atexit.register(stop_all)


def _on_signal(signum, frame):
    stop_all()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)


class Pushd:
    """One pushd on 127.0.0.1:port, its log in a temporary file."""

    def __init__(self, *args, port=None, ready_timeout=30.0):
        self.args = list(args)
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="e2e-pushd-")
        self.log = os.path.join(self.dir, "pushd.log")
        self.proc = None
        self.start(ready_timeout)

    def start(self, ready_timeout=30.0):
        cmd = [PUSHD, "--listen", "127.0.0.1:%d" % self.port,
               "--device", DEVICE] + self.args
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        logf.close()
        _running.append(self)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("pushd exited with %s at start:\n%s"
                                   % (self.proc.returncode, self.tail()))
            try:
                st, _, _ = http(self.port, "GET", "/stats", timeout=2)
                if st == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("pushd not answering /stats after %.0f s:\n%s"
                           % (ready_timeout, self.tail()))

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_kb(self):
        """VmRSS of pushd in kB, or None once it is gone."""
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def signal(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def wait(self, timeout):
        """Exit status, or None if still running after timeout seconds."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL after timeout; returns the exit status."""
        if self.proc is None:
            return None
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        rc = self.wait(timeout)
        if rc is None:
            self.proc.kill()
            rc = self.wait(10)
        if self in _running:
            _running.remove(self)
        if rc != 0:
            self.report(rc)
        return rc

    def report(self, rc):
        """Print why pushd ended badly, and its last log lines, as TAP comments."""
        how = "killed by signal %d" % -rc if rc is not None and rc < 0 else "exit status %s" % rc
        print("# pushd (port %d) %s; last lines of its log:" % (self.port, how), flush=True)
        for line in self.tail(15).splitlines():
            print("#   " + line, flush=True)

    def kill(self):
        if self.proc is not None and self.alive():
            self.proc.kill()
            self.wait(10)
        elif self.proc is not None and self.proc.returncode not in (None, 0, -9):
            self.report(self.proc.returncode)
        if self in _running:
            _running.remove(self)

    def tail(self, n=30):
        try:
            with open(self.log, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return "(no log)"

    def stats(self):
        st, _, body = http(self.port, "GET", "/stats", timeout=10)
        if st != 200:
            raise RuntimeError("/stats answered %d" % st)
        return json.loads(body)

    def subscribers(self, channel):
        """{"longpoll":n,"sse":n,"websocket":n} from GET /pub/CHANNEL."""
        st, _, body = http(self.port, "GET", "/pub/" + channel, timeout=10)
        if st != 200:
            return {}
        return json.loads(body).get("subscribers", {})

    def wait_subscribers(self, channel, want, timeout=30.0):
        """Wait until GET /pub/CHANNEL counts at least want[transport] of each."""
        deadline = time.monotonic() + timeout
        seen = {}
        while time.monotonic() < deadline:
            try:
                seen = self.subscribers(channel)
            except (OSError, ValueError):
                seen = {}
            if all(seen.get(k, 0) >= v for k, v in want.items()):
                return seen
            time.sleep(0.1)
        raise RuntimeError("subscribers of %s: want %r, seen %r"
                           % (channel, want, seen))


def find_transport_counts(obj, path=""):
    """Find the open connections per transport in /stats.

    Accepts {"longpoll": n, "sse": n, "websocket": n} or the same keys
    holding objects with a "conns"/"connections"/"open"/"current" count;
    prefers a path that names connections.  Returns (path, {transport: n})
    or (None, None)."""
    found = []
    names = ("longpoll", "sse", "websocket")

    def count(v):
        if isinstance(v, int) and not isinstance(v, bool):
            return v
        if isinstance(v, dict):
            for k in ("conns", "connections", "open", "current", "active"):
                if isinstance(v.get(k), int):
                    return v[k]
        return None

    def walk(o, p):
        if isinstance(o, dict):
            if all(count(o.get(k)) is not None for k in names):
                found.append((p, {k: count(o[k]) for k in names}))
            for k, v in o.items():
                walk(v, p + "/" + str(k))

    walk(obj, path)
    found.sort(key=lambda pd: (0 if "conn" in pd[0] else 1, len(pd[0])))
    return found[0] if found else (None, None)


# --- /dev/push -----------------------------------------------------------

def _ioc(dirn, nr, size):
    return (dirn << 30) | (size << 16) | (ord("P") << 8) | nr


_PUB_FMT = "=QQQIIII64s"
PUSH_IOC_PUBLISH = _ioc(3, 1, struct.calcsize(_PUB_FMT))
_INFO_FMT = "=QQQQQII4Q"
PUSH_IOC_INFO = _ioc(2, 3, struct.calcsize(_INFO_FMT))


class Device:
    """/dev/push opened for writing; publish() writes, publish_id() uses the ioctl."""

    def __init__(self):
        self.fd = os.open(DEVICE, os.O_RDWR)

    def close(self):
        os.close(self.fd)

    def publish(self, channel, payload):
        if isinstance(payload, str):
            payload = payload.encode()
        buf = b"@" + channel.encode() + b" " + payload
        n = os.write(self.fd, buf)
        if n != len(buf):
            raise OSError("short write to %s: %d of %d" % (DEVICE, n, len(buf)))

    def publish_id(self, channel, payload):
        """Publish arbitrary bytes; returns the message id."""
        if isinstance(payload, str):
            payload = payload.encode()
        data = ctypes.create_string_buffer(payload, len(payload))
        arg = bytearray(struct.pack(_PUB_FMT, ctypes.addressof(data), 0, 0,
                                    len(payload), len(channel), 0, 0,
                                    channel.encode()))
        fcntl.ioctl(self.fd, PUSH_IOC_PUBLISH, arg, True)
        return struct.unpack(_PUB_FMT, bytes(arg))[1]

    def info(self):
        arg = bytearray(struct.calcsize(_INFO_FMT))
        fcntl.ioctl(self.fd, PUSH_IOC_INFO, arg, True)
        v = struct.unpack(_INFO_FMT, bytes(arg))
        return {"oldest_id": v[0], "next_id": v[1], "ring_size": v[2],
                "ring_used": v[3], "retained": v[4], "max_msg_size": v[5],
                "channels": v[6]}


def max_msg_size():
    try:
        with open("/sys/module/push/parameters/max_msg_size") as f:
            return int(f.read())
    except (OSError, ValueError):
        pass
    try:
        d = Device()
        try:
            return d.info()["max_msg_size"]
        finally:
            d.close()
    except OSError:
        return 65536


def own_address():
    """A non-loopback IPv4 address of this machine (the VM's with tools/vm/run
    --net: a client from there is not loopback to pushd), or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.0.2.2", 9))
            a = s.getsockname()[0]
    except OSError:
        return None
    return None if a.startswith("127.") else a


def unique_channel(prefix):
    return "%s-%d-%x" % (prefix, os.getpid(), int(time.monotonic() * 1000) & 0xffffff)


# --- HTTP ----------------------------------------------------------------

class Reader:
    """Buffered reads from a socket with an absolute deadline."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False

    def fill(self, deadline):
        """Read more bytes; False on EOF; socket.timeout past the deadline."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("deadline")
        self.sock.settimeout(left)
        data = self.sock.recv(65536)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def readline(self, deadline):
        while b"\n" not in self.buf:
            if not self.fill(deadline):
                raise EOFError("EOF in line")
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def readexact(self, n, deadline):
        while len(self.buf) < n:
            if not self.fill(deadline):
                raise EOFError("EOF after %d of %d bytes" % (len(self.buf), n))
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def readsome(self, deadline):
        """Whatever is buffered or the next recv; b"" on EOF."""
        if not self.buf:
            if not self.fill(deadline):
                return b""
        data, self.buf = self.buf, b""
        return data


def read_head(rd, deadline):
    """Status line and headers; returns (status, {lower-name: value})."""
    line = rd.readline(deadline)
    m = re.match(rb"HTTP/1\.[01] (\d{3})", line)
    if not m:
        raise ValueError("bad status line %r" % line)
    status = int(m.group(1))
    headers = {}
    while True:
        line = rd.readline(deadline).rstrip(b"\r\n")
        if not line:
            break
        k, _, v = line.partition(b":")
        k = k.strip().lower().decode("latin-1")
        v = v.strip().decode("latin-1")
        headers[k] = headers[k] + ", " + v if k in headers else v
    return status, headers


class BodyReader:
    """Incremental body bytes of one response: chunked, Content-Length or close."""

    def __init__(self, rd, headers):
        self.rd = rd
        self.chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        cl = headers.get("content-length")
        self.left = int(cl) if cl is not None and not self.chunked else None
        self.chunk_left = 0
        self.done = False

    def read(self, deadline):
        """Next body bytes; b"" at the end of the body."""
        if self.done:
            return b""
        if self.chunked:
            if self.chunk_left == 0:
                line = self.rd.readline(deadline).strip()
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    while self.rd.readline(deadline).strip():
                        pass
                    self.done = True
                    return b""
                self.chunk_left = size
            if not self.rd.buf and not self.rd.fill(deadline):
                raise EOFError("EOF inside a chunk")
            data = self.rd.buf[:self.chunk_left]
            self.rd.buf = self.rd.buf[len(data):]
            self.chunk_left -= len(data)
            if self.chunk_left == 0:
                self.rd.readexact(2, deadline)
            return data
        if self.left is not None:
            if self.left == 0:
                self.done = True
                return b""
            if not self.rd.buf and not self.rd.fill(deadline):
                raise EOFError("EOF with %d body bytes missing" % self.left)
            data = self.rd.buf[:self.left]
            self.rd.buf = self.rd.buf[len(data):]
            self.left -= len(data)
            return data
        data = self.rd.readsome(deadline)
        if not data:
            self.done = True
        return data

    def read_all(self, deadline):
        out = b""
        while True:
            d = self.read(deadline)
            if not d:
                return out
            out += d


def connect(port, timeout=10.0, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s


def request_bytes(method, path, headers=None, body=b"", port=None):
    h = {"Host": "127.0.0.1" if port is None else "127.0.0.1:%d" % port}
    h.update(headers or {})
    if body or method in ("POST", "PUT"):
        h["Content-Length"] = str(len(body))
    lines = ["%s %s HTTP/1.1" % (method, path)] + ["%s: %s" % kv for kv in h.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def http(port, method, path, headers=None, body=b"", timeout=10.0):
    """One request on a new connection; returns (status, headers, body)."""
    if isinstance(body, str):
        body = body.encode()
    h = {"Connection": "close"}
    h.update(headers or {})
    deadline = time.monotonic() + timeout
    with connect(port, timeout) as s:
        s.sendall(request_bytes(method, path, h, body, port))
        rd = Reader(s)
        status, hdrs = read_head(rd, deadline)
        data = b"" if method == "HEAD" else BodyReader(rd, hdrs).read_all(deadline)
        return status, hdrs, data


def http_json(port, method, path, headers=None, body=b"", timeout=10.0):
    st, h, data = http(port, method, path, headers, body, timeout)
    try:
        return st, h, json.loads(data)
    except ValueError:
        return st, h, data


# --- SSE -----------------------------------------------------------------

class SseParser:
    """WHATWG "interpret an event stream" over bytes fed in any pieces.

    feed() returns the items completed so far: {"event": type, "data":
    joined data lines, "id": last event id (str) or None, "lines": the raw
    data lines} per dispatched event, {"comment": text} per comment line,
    {"retry": value} per retry field.  end() flushes a last line without
    dispatching an incomplete event, as the spec says."""

    def __init__(self):
        self.pending = b""
        self.data_lines = []
        self.etype = ""
        self.last_id = None
        self.out = []

    def _lines(self):
        # Split on CRLF, LF or CR; keep a trailing CR until we know what follows.
        while True:
            m = re.search(rb"\r\n|\n|\r", self.pending)
            if not m:
                return
            if m.group() == b"\r" and m.end() == len(self.pending):
                return
            line = self.pending[:m.start()]
            self.pending = self.pending[m.end():]
            yield line.decode("utf-8", "replace")

    def _line(self, line):
        if line == "":
            if self.data_lines:
                self.out.append({"event": self.etype or "message",
                                 "data": "\n".join(self.data_lines),
                                 "id": self.last_id,
                                 "lines": list(self.data_lines)})
            self.data_lines = []
            self.etype = ""
            return
        if line.startswith(":"):
            self.out.append({"comment": line[1:].lstrip(" ")})
            return
        field, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if field == "data":
            self.data_lines.append(value)
        elif field == "event":
            self.etype = value
        elif field == "id" and "\0" not in value:
            self.last_id = value
        elif field == "retry":
            self.out.append({"retry": value})

    def feed(self, data):
        self.pending += data
        for line in self._lines():
            self._line(line)
        out, self.out = self.out, []
        return out

    def end(self):
        if self.pending.endswith(b"\r"):
            self.pending = self.pending[:-1] + b"\n"
        return []


def parse_sse(data):
    """Every item of a whole event stream (bytes)."""
    p = SseParser()
    return p.feed(data) + p.end()


class SseClient:
    """An event-stream subscriber on a raw socket; next() yields SseParser items."""

    def __init__(self, port, path, headers=None, timeout=10.0, rcvbuf=None):
        h = {"Accept": "text/event-stream"}
        h.update(headers or {})
        self.sock = connect(port, timeout, rcvbuf)
        self.sock.sendall(request_bytes("GET", path, h, port=port))
        self.rd = Reader(self.sock)
        self.status = None
        self.headers = None
        self.body = None
        self.parser = SseParser()
        self.ended = False
        self.queue = []
        self.raw = b""

    def head(self, timeout=10.0):
        if self.status is None:
            self.status, self.headers = read_head(self.rd, time.monotonic() + timeout)
            self.body = BodyReader(self.rd, self.headers)
        return self.status, self.headers

    def next(self, timeout):
        """Next event or comment; None at the end of the stream.

        Raises socket.timeout if nothing comes within timeout seconds."""
        deadline = time.monotonic() + timeout
        self.head(timeout)
        while not self.queue:
            if self.ended:
                return None
            try:
                data = self.body.read(deadline)
            except (EOFError, ConnectionResetError):
                data = b""
            if not data:
                self.ended = True
                self.queue += self.parser.end()
            else:
                self.raw += data
                self.queue += self.parser.feed(data)
        return self.queue.pop(0)

    def next_event(self, timeout):
        """Next dispatched event, skipping comments and retry; None at the end."""
        deadline = time.monotonic() + timeout
        while True:
            ev = self.next(max(0.001, deadline - time.monotonic()))
            if ev is None or "event" in ev:
                return ev

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# --- WebSocket -----------------------------------------------------------

OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class RawWs:
    """A minimal RFC 6455 client that can also send malformed frames."""

    def __init__(self, port, path, timeout=10.0, rcvbuf=None, headers=None,
                 handshake=True):
        self.sock = connect(port, timeout, rcvbuf)
        self.rd = Reader(self.sock)
        self.key = base64.b64encode(os.urandom(16)).decode()
        self.close_code = None
        self.close_reason = None
        self.pings = 0
        self.truncated = False
        h = {"Upgrade": "websocket", "Connection": "Upgrade",
             "Sec-WebSocket-Key": self.key, "Sec-WebSocket-Version": "13"}
        h.update(headers or {})
        self.sock.sendall(request_bytes("GET", path, h, port=port))
        self.status = self.headers = None
        if handshake:
            self.handshake(timeout)

    def handshake(self, timeout=10.0):
        self.status, self.headers = read_head(self.rd, time.monotonic() + timeout)
        want = base64.b64encode(hashlib.sha1(self.key.encode() + WS_GUID).digest()).decode()
        if self.status != 101 or self.headers.get("sec-websocket-accept") != want:
            raise RuntimeError("bad handshake: %s %r" % (self.status, self.headers))

    @staticmethod
    def frame(opcode, payload=b"", fin=True, rsv=0, mask=True, length=None):
        if isinstance(payload, str):
            payload = payload.encode()
        n = len(payload) if length is None else length
        b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
        mbit = 0x80 if mask else 0
        if n < 126:
            hdr = struct.pack("!BB", b0, mbit | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, mbit | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, mbit | 127, n)
        if mask:
            key = os.urandom(4)
            payload = bytes(c ^ key[i & 3] for i, c in enumerate(payload))
            hdr += key
        return hdr + payload

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, opcode, payload=b"", **kw):
        self.sock.sendall(self.frame(opcode, payload, **kw))

    def send_text(self, text):
        self.send(OP_TEXT, text.encode())

    def recv_frame(self, timeout):
        """(fin, rsv, opcode, payload) of the next frame; None on EOF or reset
        (self.truncated tells whether it came in the middle of a frame)."""
        deadline = time.monotonic() + timeout
        self.truncated = False
        try:
            b0, b1 = self.rd.readexact(2, deadline)
        except (EOFError, ConnectionResetError):
            return None
        try:
            n = b1 & 0x7f
            if n == 126:
                n = struct.unpack("!H", self.rd.readexact(2, deadline))[0]
            elif n == 127:
                n = struct.unpack("!Q", self.rd.readexact(8, deadline))[0]
            key = self.rd.readexact(4, deadline) if b1 & 0x80 else None
            payload = self.rd.readexact(n, deadline)
        except (EOFError, ConnectionResetError):
            self.truncated = True
            return None
        if key:
            payload = bytes(c ^ key[i & 3] for i, c in enumerate(payload))
        return bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0f, payload

    def recv(self, timeout, pong=True):
        """Next data message as (opcode, payload), answering pings; None once closed.

        A close frame sets close_code/close_reason and is echoed."""
        deadline = time.monotonic() + timeout
        parts, first_op = [], None
        while True:
            f = self.recv_frame(max(0.001, deadline - time.monotonic()))
            if f is None:
                return None
            fin, _, op, payload = f
            if op == OP_PING:
                self.pings += 1
                if pong:
                    try:
                        self.send(OP_PONG, payload)
                    except OSError:
                        pass
                continue
            if op == OP_PONG:
                continue
            if op == OP_CLOSE:
                if len(payload) >= 2:
                    self.close_code = struct.unpack("!H", payload[:2])[0]
                    self.close_reason = payload[2:].decode("utf-8", "replace")
                else:
                    self.close_code = 1005
                    self.close_reason = ""
                try:
                    self.send(OP_CLOSE, payload[:2])
                except OSError:
                    pass
                return None
            if op != OP_CONT:
                first_op = op
            parts.append(payload)
            if fin:
                return first_op, b"".join(parts)

    def recv_json(self, timeout):
        m = self.recv(timeout)
        if m is None:
            return None
        if m[0] != OP_TEXT:
            raise ValueError("non-text data frame, opcode %d" % m[0])
        return json.loads(m[1].decode("utf-8"))

    def wait_close(self, timeout):
        """Read until the server closes; returns (close_code, frames_seen, eof)."""
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            try:
                m = self.recv(max(0.001, deadline - time.monotonic()))
            except socket.timeout:
                break
            except (ConnectionResetError, BrokenPipeError):
                return self.close_code, seen, True
            if m is None:
                # Read on to EOF: the server must also close the TCP connection.
                try:
                    while self.rd.fill(deadline):
                        self.rd.buf = b""
                    return self.close_code, seen, True
                except socket.timeout:
                    return self.close_code, seen, False
                except ConnectionResetError:
                    return self.close_code, seen, True
            seen += 1
        return self.close_code, seen, False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class BytesSock:
    """A socket stand-in replaying captured bytes, so Reader and friends parse them."""

    def __init__(self, data):
        self.data = data

    def settimeout(self, t):
        pass

    def recv(self, n):
        out, self.data = self.data[:n], self.data[n:]
        return out


def split_response(data):
    """Status, headers and de-framed body of a captured HTTP response.

    A body cut short (the server closed mid-chunk) is returned as far as it goes."""
    rd = Reader(BytesSock(data))
    deadline = time.monotonic() + 10
    status, headers = read_head(rd, deadline)
    body = BodyReader(rd, headers)
    out = b""
    try:
        while True:
            d = body.read(deadline)
            if not d:
                break
            out += d
    except (EOFError, ValueError):
        pass
    return status, headers, out


def ws_frames(data):
    """Server frames in captured bytes after the handshake: [(fin, opcode, payload)];
    a frame cut short ends the list."""
    out, i = [], 0
    while i + 2 <= len(data):
        b0, b1 = data[i], data[i + 1]
        n, j = b1 & 0x7f, i + 2
        if n == 126:
            if j + 2 > len(data):
                break
            n, j = struct.unpack("!H", data[j:j + 2])[0], j + 2
        elif n == 127:
            if j + 8 > len(data):
                break
            n, j = struct.unpack("!Q", data[j:j + 8])[0], j + 8
        if b1 & 0x80:
            j += 4
        if j + n > len(data):
            break
        out.append((bool(b0 & 0x80), b0 & 0x0f, data[j:j + n]))
        i = j + n
    return out


def check_ids(items, first_seq=0):
    """Check a list of decoded messages whose data is "seq=N ...".

    Returns None if ids strictly increase and the seqs are exactly
    first_seq, first_seq+1, ... in order, else a description of the first
    problem."""
    last_id = 0
    want = first_seq
    for m in items:
        if m.get("type") == "gap":
            return "gap object %r" % m
        mid = m.get("id")
        if not isinstance(mid, int) or mid <= last_id:
            return "id %r after %d" % (mid, last_id)
        last_id = mid
        seq = int(str(m.get("data", "")).split()[0].split("=")[1])
        if seq != want:
            return "seq %d where %d expected (id %d)" % (seq, want, mid)
        want += 1
    return None


if __name__ == "__main__":
    # e2elib.py sse FILE: the items of a captured event stream, one JSON a line.
    if len(sys.argv) == 3 and sys.argv[1] == "sse":
        with open(sys.argv[2], "rb") as f:
            for item in parse_sse(f.read()):
                print(json.dumps(item))
        sys.exit(0)
    sys.exit("usage: e2elib.py sse FILE")
