#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: malformed input gets the right answer and harms no one else.

Raw WebSocket frames that break RFC 6455 each get their close code (1002
protocol error, 1007 bad UTF-8, 1009 too big) while a second, well-behaved
client keeps receiving; bad URLs, channel names and since values get 400
with a readable text/plain message; POST /pub with a bad channel or an
empty body gets 400, an oversize body 413."""

import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402
from e2elib import OP_BIN, OP_CLOSE, OP_CONT, OP_PING, OP_TEXT, RawWs  # noqa: E402

# (name, expected close code, frames to send after the handshake)
F = RawWs.frame
BAD_FRAMES = [
    ("unmasked text frame", 1002, F(OP_TEXT, b"hi", mask=False)),
    ("RSV1 set without extension", 1002, F(OP_TEXT, b"hi", rsv=4)),
    ("RSV3 set", 1002, F(OP_BIN, b"hi", rsv=1)),
    ("unknown data opcode 3", 1002, F(3, b"hi")),
    ("unknown control opcode 0xB", 1002, F(0xB, b"")),
    ("fragmented ping (FIN=0 control)", 1002, F(OP_PING, b"x", fin=False)),
    ("control frame over 125 bytes", 1002, F(OP_PING, b"p" * 126)),
    ("continuation without a start", 1002, F(OP_CONT, b"x")),
    ("new text frame inside a fragmented one", 1002,
     F(OP_TEXT, b"a", fin=False) + F(OP_TEXT, b"b")),
    ("64-bit length with the top bit set", 1002,
     struct.pack("!BBQ", 0x81, 0xFF, 1 << 63) + b"\0\0\0\0"),
    ("invalid UTF-8 text", 1007, F(OP_TEXT, b"ok \xff\xfe bad")),
    ("UTF-8 split across fragments, invalid", 1007,
     F(OP_TEXT, b"\xe2\x82", fin=False) + F(OP_CONT, b"\x41")),
    ("invalid UTF-8 in close reason", 1007, F(OP_CLOSE, struct.pack("!H", 1000) + b"\xc3\x28")),
    ("oversized frame (1 GiB announced)", 1009, F(OP_BIN, b"", length=1 << 30)),
    ("close code 999", 1002, F(OP_CLOSE, struct.pack("!H", 999))),
    ("close code 1005 on the wire", 1002, F(OP_CLOSE, struct.pack("!H", 1005))),
    ("close code 1006 on the wire", 1002, F(OP_CLOSE, struct.pack("!H", 1006))),
    ("close code 5000", 1002, F(OP_CLOSE, struct.pack("!H", 5000))),
    ("close payload of 1 byte", 1002, F(OP_CLOSE, b"\x03")),
]

BAD_URLS = [
    ("empty channel list", "/sub/"),
    ("empty name in list", "/sub/a,,b"),
    ("trailing comma", "/sub/a,"),
    ("channel of 65 chars", "/sub/" + "x" * 65),
    ("space in name (%20)", "/sub/a%20b"),
    ("slash in name", "/sub/a/b"),
    ("'!' in name", "/sub/a!b"),
    ("'@' in name", "/sub/a@b"),
    ("non-ASCII name", "/sub/caf%C3%A9"),
    ("bad percent escape", "/sub/a%zzb"),
    ("NUL escape", "/sub/a%00b"),
    ("65 channels", "/sub/" + ",".join("c%d" % i for i in range(65))),
    ("since=abc", "/sub/ok?since=abc"),
    ("since=-1", "/sub/ok?since=-1"),
    ("since=1.5", "/sub/ok?since=1.5"),
    ("since empty", "/sub/ok?since="),
    ("since=0x10", "/sub/ok?since=0x10"),
    ("since beyond 2^64", "/sub/ok?since=99999999999999999999999"),
    ("since with trailing garbage", "/sub/ok?since=12abc"),
]


def readable(body):
    try:
        t = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return len(t.strip()) >= 3 and all(c.isprintable() or c in "\r\n\t" for c in t)


def main(tap):
    E.require()
    pd = E.Pushd("--heartbeat", "30")
    dev = E.Device()
    ch = E.unique_channel("bad")

    # The well-behaved client, through every bad one.
    good = RawWs(pd.port, "/sub/" + ch)
    pd.wait_subscribers(ch, {"websocket": 1})
    good_ok = 0

    for name, code, data in BAD_FRAMES:
        ws = RawWs(pd.port, "/sub/" + ch)
        try:
            ws.send_raw(data)
        except OSError:
            pass
        got, _, eof = ws.wait_close(15)
        tap.ok(got == code and eof, "%s -> close %d" % (name, code),
               "close code %r, connection closed: %s" % (got, eof))
        ws.close()
        # The good client still gets a message published now.
        mid = dev.publish_id(ch, ("after " + name).encode())
        try:
            m = good.recv_json(15)
        except (OSError, ValueError) as e:
            m = {"error": str(e)}
        if m and m.get("id") == mid:
            good_ok += 1
        else:
            tap.diag("good client after %s: %r (want id %d)" % (name, m, mid))
    tap.eq(len(BAD_FRAMES), good_ok, "well-behaved client received every message meanwhile")
    # It is also still open: a ping is answered.
    good.send(OP_PING, b"still-there")
    f = None
    try:
        while True:
            f = good.recv_frame(10)
            if f is None or f[2] == 10:
                break
    except OSError:
        f = None
    tap.ok(f is not None and f[3] == b"still-there", "well-behaved client's ping answered")
    good.close()

    # A request that is not a valid upgrade is not a WebSocket.
    st, _, _ = E.http(pd.port, "GET", "/sub/" + ch,
                      {"Upgrade": "websocket", "Connection": "Upgrade",
                       "Sec-WebSocket-Version": "13"}, timeout=5)
    tap.eq(400, st, "upgrade without Sec-WebSocket-Key -> 400 (docs/HTTP.md)")
    st, h, _ = E.http(pd.port, "GET", "/sub/" + ch,
                      {"Upgrade": "websocket", "Connection": "Upgrade",
                       "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                       "Sec-WebSocket-Version": "8"}, timeout=5)
    tap.ok(st == 426 and h.get("sec-websocket-version") == "13",
           "upgrade with Sec-WebSocket-Version 8 -> 426 naming version 13", "%d %r" % (st, h))

    for name, path in BAD_URLS:
        try:
            st, h, body = E.http(pd.port, "GET", path, timeout=10)
        except (OSError, ValueError, EOFError) as e:
            st, h, body = 0, {}, repr(e).encode()
        ctype = h.get("content-type", "")
        tap.ok(st == 400 and ctype.startswith("text/plain") and readable(body),
               "GET %s (%s) -> 400 text/plain with a message" % (path[:40], name),
               "%d %s %r" % (st, ctype, body[:200]))
    # Last-Event-ID must be a number too.
    st, h, body = E.http(pd.port, "GET", "/sub/ok", {"Last-Event-ID": "abc",
                                                       "Accept": "text/event-stream"}, timeout=10)
    tap.ok(st == 400 and readable(body), "Last-Event-ID: abc -> 400 with a message",
           "%d %r" % (st, body[:200]))
    # Only GET and HEAD subscribe.
    st, _, body = E.http(pd.port, "DELETE", "/sub/" + ch, timeout=10)
    tap.ok(st == 405 and readable(body), "DELETE /sub/CH -> 405 with a message", "%d %r" % (st, body[:200]))
    # A path outside the API.
    st, _, _ = E.http(pd.port, "GET", "/nowhere", timeout=10)
    tap.eq(404, st, "GET /nowhere -> 404")

    # POST /pub: bad channel, empty body, oversize body.
    cases = [("bad channel", "/pub/a!b", b"x", 400),
             ("65-char channel", "/pub/" + "y" * 65, b"x", 400),
             ("NUL-escaped channel (a%00b must not mean a)", "/pub/a%00b", b"x", 400),
             ("empty body", "/pub/" + ch, b"", 400)]
    for name, path, body, want in cases:
        st, h, rb = E.http(pd.port, "POST", path, body=body, timeout=10)
        tap.ok(st == want and readable(rb), "POST %s -> %d with a message" % (name, want),
               "%d %r" % (st, rb[:200]))
    big = E.max_msg_size()
    st, _, rb = E.http(pd.port, "POST", "/pub/" + ch, body=b"z" * (big + 1), timeout=30)
    tap.ok(st == 413, "POST of max_msg_size+1 (%d) bytes -> 413" % (big + 1), "%d %r" % (st, rb[:200]))
    st, _, rb = E.http(pd.port, "POST", "/pub/" + ch, body=b"z" * big, timeout=30)
    tap.ok(st == 201, "POST of exactly max_msg_size bytes -> 201", "%d %r" % (st, rb[:200]))

    # After all that, pushd is alive and a raw garbage request does not kill it.
    with E.connect(pd.port) as s:
        s.sendall(b"\x00\xff GARBAGE \r\n\r\n")
        try:
            s.settimeout(10)
            s.recv(4096)
        except (socket.timeout, OSError):
            pass
    time.sleep(0.2)
    st, _, _ = E.http(pd.port, "GET", "/stats", timeout=10)
    tap.ok(pd.alive() and st == 200, "pushd still serving after the bad input")
    dev.close()
    pd.stop()


E.run_main(main)
