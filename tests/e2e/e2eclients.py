# SPDX-License-Identifier: GPL-2.0
"""The clients of the Python end-to-end tests: small, and independent of
pushd's code, so that they check what pushd sends, not what it means to.

  http()        one request, whole answer (Content-Length, chunked or close)
  SseClient     raw socket, WHATWG event-stream parser over any framing
  RawWs         RFC 6455 client that can also send malformed frames

e2elib re-exports everything here (E.http, E.RawWs, ...); tests import
e2elib, not this module.
"""

import base64
import hashlib
import json
import os
import re
import socket
import struct
import threading
import time

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


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


def connect(port, timeout=10.0, rcvbuf=None, mss=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if mss:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s


class PacedReader:
    """A raw subscriber that reads `chunk` bytes every `pause` s (as fast as
    it can once `hurry` is set) until EOF, an error or `deadline_s`; keeps
    the bytes.  `end` is None while it reads, then "eof", "deadline" or the
    error's repr.  A small rcvbuf (and mss: the kernel sizes the sender's
    buffer by segments) keeps the server's socket buffers small, so that
    what the reader does not take stays queued in the server."""

    def __init__(self, port, path, headers, chunk, pause, deadline_s, rcvbuf=None, mss=None):
        self.sock = connect(port, 10, rcvbuf=rcvbuf, mss=mss)
        self.sock.sendall(request_bytes("GET", path, headers, port=port))
        self.chunk, self.pause, self.deadline_s = chunk, pause, deadline_s
        self.data = bytearray()
        self.lock = threading.Lock()
        self.end = None
        self.eof_at = self.hurry_at = None
        self.hurry = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    @property
    def eof(self):
        return self.end == "eof"

    @property
    def error(self):
        return self.end if self.end not in (None, "eof", "deadline") else None

    def run(self):
        deadline = time.monotonic() + self.deadline_s
        self.sock.settimeout(1)
        while time.monotonic() < deadline:
            try:
                d = self.sock.recv(65536 if self.hurry.is_set() else self.chunk)
            except TimeoutError:
                continue
            except OSError as e:
                self.end = repr(e)
                return
            if not d:
                self.eof_at = time.monotonic()
                self.end = "eof"
                return
            with self.lock:
                self.data += d
            if not self.hurry.is_set():
                time.sleep(self.pause)
        self.end = "deadline"

    def seen(self, mark):
        with self.lock:
            return mark in self.data


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
    t0 = time.monotonic()
    deadline = t0 + timeout
    with connect(port, timeout) as s:
        t1 = time.monotonic()
        s.sendall(request_bytes(method, path, h, body, port))
        t2 = time.monotonic()
        rd = Reader(s)
        try:
            status, hdrs = read_head(rd, deadline)
        except EOFError as e:
            # who was slow: the connect, this client sending, or the server
            raise EOFError("%s (connected in %.2f s, request sent %.2f s later, EOF %.2f s "
                           "after that)" % (e, t1 - t0, t2 - t1, time.monotonic() - t2)) from e
        data = b"" if method == "HEAD" else BodyReader(rd, hdrs).read_all(deadline)
        return status, hdrs, data


def http_json(port, method, path, headers=None, body=b"", timeout=10.0):
    st, h, data = http(port, method, path, headers, body, timeout)
    try:
        return st, h, json.loads(data)
    except ValueError:
        return st, h, data


class LongPoll:
    """One long-poll GET in a thread of its own: result() waits for its
    (status, headers, JSON body), an exception as (0, {}, repr), and
    seconds is how long the request took."""

    def __init__(self, port, path, headers=None, timeout=40.0):
        self.r = None
        self.seconds = None
        self.args = (port, "GET", path, headers, b"", timeout)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        t0 = time.monotonic()
        try:
            self.r = http_json(*self.args)
        except Exception as e:  # noqa: BLE001 - the caller reports it
            self.r = (0, {}, repr(e))
        self.seconds = time.monotonic() - t0

    def result(self, wait=45.0):
        self.thread.join(wait)
        return self.r or (0, {}, "no answer in %.0f s" % wait)


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

    def events(self, n, timeout=20, diag=None):
        """Up to @n events (fewer if the stream ends or one takes over
        @timeout s); a socket error ends the list and goes to @diag."""
        evs = []
        try:
            while len(evs) < n:
                ev = self.next_event(timeout)
                if ev is None:
                    break
                evs.append(ev)
        except OSError as e:
            if diag:
                diag("SSE: %r" % e)
        return evs

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

    def json_messages(self, n, timeout=20, diag=None, until=None):
        """Up to @n JSON text messages (fewer if the connection ends, one
        takes over @timeout s, or one satisfies @until); a socket or framing
        error ends the list and goes to @diag."""
        out = []
        try:
            while len(out) < n:
                m = self.recv_json(timeout)
                if m is None:
                    break
                out.append(m)
                if until and until(m):
                    break
        except (OSError, ValueError) as e:
            if diag:
                diag("WebSocket: %r" % e)
        return out

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
