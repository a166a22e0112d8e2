#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: what a WebSocket handshake negotiates.  Subprotocol
push.v1 is echoed and brings {"type":"hb"} heartbeats a page can see; an
unknown subprotocol is refused with a 400 that says what pushd speaks.
permessage-deflate (RFC 7692) with python3-websockets: off unless offered,
answered with server_no_context_takeover, every message arriving intact and
compressed (RSV1, inflated by a fresh inflater each: one frame for all), the
client's own compressed messages (window bits as negotiated) accepted, a zip
bomb closed with 1009, and fewer bytes on the wire for the same messages."""

import asyncio
import json
import os
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

TAIL = b"\x00\x00\xff\xff"


def inflate(payload):
    d = zlib.decompressobj(-15)
    return d.decompress(payload + TAIL)


def main(tap):
    E.require()
    websockets = E.require_websockets()
    from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
    # The raw clients below read frames without answering pings: --ping-misses
    # high enough that a slow emulator never closes them for it mid-test.
    pd = E.Pushd("--heartbeat", "1", "--ping-misses", "60")
    dev = E.Device()
    ch = E.unique_channel("wsext")
    path = "/sub/" + ch
    url = "ws://127.0.0.1:%d%s" % (pd.port, path)

    # --- subprotocols ---------------------------------------------------
    raw = E.RawWs(pd.port, path, headers={"Sec-WebSocket-Protocol": "chat, push.v1"})
    tap.eq("push.v1", raw.headers.get("sec-websocket-protocol"),
           "push.v1 picked from a list and echoed")
    hb = None
    deadline = time.monotonic() + 5
    while hb is None and time.monotonic() < deadline:
        m = raw.recv(max(0.01, deadline - time.monotonic()))
        if m and m[0] == E.OP_TEXT:
            hb = json.loads(m[1])
    tap.eq({"type": "hb"}, hb, "push.v1: a JSON heartbeat every --heartbeat")
    tap.ok(raw.pings >= 1, "push.v1: the pings go on beside it (%d)" % raw.pings)
    raw.close()

    raw = E.RawWs(pd.port, path, handshake=False)
    raw.handshake()
    tap.ok("sec-websocket-protocol" not in raw.headers, "no subprotocol asked: none echoed")
    raw.close()

    st, _, body = E.http(pd.port, "GET", path, {
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "chat, mqtt"})
    tap.ok(st == 400 and b"push.v1" in body,
           "unknown subprotocols: 400 saying pushd speaks push.v1", (st, body))

    async def with_python():
        async with websockets.connect(url, subprotocols=["push.v1"], compression=None,
                                      ping_interval=None, open_timeout=20) as ws:
            sub = ws.subprotocol
            got = json.loads(await asyncio.wait_for(ws.recv(), 10))
            return sub, got
    sub, got = asyncio.run(with_python())
    tap.ok(sub == "push.v1" and got == {"type": "hb"},
           "python3-websockets agrees on push.v1 and gets its heartbeat", (sub, got))

    # --- permessage-deflate ---------------------------------------------
    raw = E.RawWs(pd.port, path)
    tap.ok("sec-websocket-extensions" not in raw.headers, "no offer: no compression")
    raw.close()

    offer = "permessage-deflate; client_max_window_bits"
    zs = [E.RawWs(pd.port, path, headers={"Sec-WebSocket-Extensions": offer})
          for _ in range(2)]
    ext = zs[0].headers.get("sec-websocket-extensions", "")
    tap.ok(ext.startswith("permessage-deflate") and "server_no_context_takeover" in ext and
           "client_max_window_bits=12" in ext,
           "offer answered: server_no_context_takeover, client_max_window_bits=12", ext)
    plain = E.RawWs(pd.port, path)
    pd.wait_subscribers(ch, {"websocket": 3})

    payloads = [("message %d: " % i + "the quick brown fox jumps over the lazy dog " * 8)
                .encode() for i in range(20)]
    payloads.append(b"tiny")
    ids = [dev.publish_id(ch, p) for p in payloads]

    def frames(ws, n):
        out = []
        deadline = time.monotonic() + 20
        while len(out) < n and time.monotonic() < deadline:
            f = ws.recv_frame(max(0.01, deadline - time.monotonic()))
            if f is None:
                break
            if f[2] == E.OP_TEXT:
                out.append(f)
        return out

    seen = [frames(z, len(ids)) for z in zs]
    plain_frames = frames(plain, len(ids))
    rsv1 = [f[1] == 4 for f in seen[0]]
    texts = [json.loads(inflate(f[3]) if f[1] == 4 else f[3]) for f in seen[0]]
    tap.eq(ids, [t.get("id") for t in texts], "every message, in order, inflated")
    tap.eq([p.decode() for p in payloads], [t.get("data") for t in texts], "contents intact")
    tap.ok(all(rsv1) and all(len(z[3]) < len(p[3]) for z, p in zip(seen[0], plain_frames)),
           "every message compressed (RSV1), each frame shorter than plain", rsv1)
    tap.ok([f[3] for f in seen[0]] == [f[3] for f in seen[1]],
           "two clients get the same bytes: each frame stands alone (no context)")
    zbytes = sum(len(f[3]) for f in seen[0])
    pbytes = sum(len(f[3]) for f in plain_frames)
    tap.ok(len(plain_frames) == len(ids) and zbytes * 3 < pbytes,
           "payload bytes %d compressed vs %d plain" % (zbytes, pbytes))

    # The client's own compressed message, and a zip bomb.
    zc = zlib.compressobj(9, zlib.DEFLATED, -12)
    msg = zc.compress(b"hello pushd " * 500) + zc.flush(zlib.Z_SYNC_FLUSH)
    zs[0].send(E.OP_TEXT, msg[:-4], rsv=4)
    nid = dev.publish_id(ch, b"after a compressed client message")
    f = frames(zs[0], 1)
    tap.ok(f and json.loads(inflate(f[0][3]) if f[0][1] == 4 else f[0][3]).get("id") == nid,
           "a compressed client message (12-bit window) is taken, the stream goes on")
    zc = zlib.compressobj(9, zlib.DEFLATED, -12)
    bomb = zc.compress(b"\0" * (16 << 20)) + zc.flush(zlib.Z_SYNC_FLUSH)
    zs[1].send(E.OP_BIN, bomb[:-4], rsv=4)
    code, _, eof = zs[1].wait_close(10)
    tap.ok(code == 1009 and eof, "a zip bomb (%d bytes -> 16 MiB): close 1009" % len(bomb),
           (code, zs[1].close_reason))
    tap.ok(pd.rss_kb() < 64 * 1024, "pushd's RSS stays small (%d KiB)" % pd.rss_kb())
    plain.send(E.OP_TEXT, msg[:-4], rsv=4)
    code, _, _ = plain.wait_close(10)
    tap.eq(1002, code, "RSV1 where nothing was negotiated: 1002")
    for z in zs:
        z.close()
    plain.close()

    # python3-websockets: its own offer, both ways, 9-bit client window.
    async def py(ext):
        async with websockets.connect(url, extensions=ext, ping_interval=None,
                                      open_timeout=20, max_size=2**20) as ws:
            await asyncio.get_running_loop().run_in_executor(
                None, pd.wait_subscribers, ch, {"websocket": 1})
            await ws.send("compressed by the client " * 200)
            i = dev.publish_id(ch, b"to python " * 50)
            m = json.loads(await asyncio.wait_for(ws.recv(), 20))
            await ws.close()
            return ws.response_headers.get("Sec-WebSocket-Extensions"), m.get("id") == i, \
                ws.close_code
    hdr, ok, code = asyncio.run(py([ClientPerMessageDeflateFactory(client_max_window_bits=9)]))
    tap.ok(hdr and "client_max_window_bits=9" in hdr and ok and code == 1000,
           "python3-websockets, client_max_window_bits=9: honoured, both ways", (hdr, ok, code))

    dev.close()
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")


E.run_main(main)
