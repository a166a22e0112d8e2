#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: WebSocket with clients that are not ours: python3-websockets
and node-ws receive each message as one JSON text frame (binary payloads as
data_base64), answer/obtain ping-pong, resume with ?since=, and close
cleanly (1000).  A raw client checks the handshake and the server's pings
every --heartbeat seconds."""

import asyncio
import base64
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

NODE_WS = "/usr/share/nodejs/ws"

NODE_CLIENT = r"""
const WebSocket = require(process.argv[1]);
const ws = new WebSocket(process.argv[2]);
const out = { messages: [], pings: 0, binary: 0, close: null };
const timer = setTimeout(() => { console.log(JSON.stringify(out)); process.exit(3); }, 30000);
ws.on('open', () => console.error('open'));
ws.on('ping', () => { out.pings++; maybeClose(); });
ws.on('message', (data, isBinary) => {
	if (isBinary) out.binary++;
	out.messages.push(JSON.parse(data.toString()));
	maybeClose();
});
function maybeClose() {
	if (out.messages.length >= 1 && out.pings >= 1 && ws.readyState === WebSocket.OPEN)
		ws.close(1000, 'bye');
}
ws.on('close', (code) => { out.close = code; clearTimeout(timer); console.log(JSON.stringify(out)); process.exit(0); });
ws.on('error', (e) => { console.error(String(e)); });
"""


def main(tap):
    E.require()
    websockets = E.require_websockets()
    pd = E.Pushd("--heartbeat", "1")
    dev = E.Device()
    ch = E.unique_channel("ws")
    url = "ws://127.0.0.1:%d/sub/%s" % (pd.port, ch)

    async def session():
        async with websockets.connect(url, ping_interval=None, max_size=2**20,
                                      open_timeout=20) as ws:
            await asyncio.get_running_loop().run_in_executor(
                None, pd.wait_subscribers, ch, {"websocket": 1})
            ids = [dev.publish_id(ch, p) for p in (b"hello", b"caf\xc3\xa9 \xe2\x82\xac",
                                                   b"\xff\xfe\x00binary")]
            got = []
            for _ in range(3):
                got.append(await asyncio.wait_for(ws.recv(), 20))
            tap.ok(all(isinstance(m, str) for m in got), "messages arrive as text frames",
                   [type(m).__name__ for m in got])
            objs = [json.loads(m) for m in got]
            tap.eq(ids, [o.get("id") for o in objs], "frame ids are the published ids, in order")
            tap.eq([ch] * 3, [o.get("channel") for o in objs], "channel field")
            tap.eq(["hello", "caf\u00e9 \u20ac"], [o.get("data") for o in objs[:2]],
                   "UTF-8 payloads as data strings")
            tap.ok("data" not in objs[2] and objs[2].get("data_base64") ==
                   base64.b64encode(b"\xff\xfe\x00binary").decode(),
                   "non-UTF-8 payload as data_base64", objs[2])

            # Our ping is answered with a pong carrying its payload (the
            # library completes the waiter only for a pong with that data).
            t0 = time.monotonic()
            waiter = await ws.ping(b"e2e-ping")
            try:
                await asyncio.wait_for(waiter, 10)
                pong = True
            except asyncio.TimeoutError:
                pong = False
            tap.ok(pong, "client ping answered with its pong within 10 s (%.0f ms)"
                   % ((time.monotonic() - t0) * 1000))

            # Client text and binary frames are validated and ignored.
            await ws.send("ignored text")
            await ws.send(b"ignored binary")
            nid = dev.publish_id(ch, b"after client frames")
            m = json.loads(await asyncio.wait_for(ws.recv(), 20))
            tap.eq(nid, m.get("id"), "client data frames ignored, stream continues")

            await ws.close(1000, "done")
            tap.eq(1000, ws.close_code, "clean close: server answers close 1000")
        return ids

    ids = asyncio.run(asyncio.wait_for(session(), 120))

    async def resume(query, n):
        async with websockets.connect(url + query, ping_interval=None, open_timeout=20) as ws:
            out = [json.loads(await asyncio.wait_for(ws.recv(), 20)) for _ in range(n)]
            await ws.close()
            return out

    got = asyncio.run(resume("?since=%d" % ids[0], 3))
    tap.eq(ids[1:], [o.get("id") for o in got[:2]], "?since=N resumes with the ids after N")
    tap.eq("after client frames", got[2].get("data"), "?since=N then the later message")
    got = asyncio.run(resume("?since=oldest", 4))
    tap.eq(ids, [o.get("id") for o in got][:3], "?since=oldest replays the retained messages")

    # A raw client: exact handshake, and a ping from the server every second.
    raw = E.RawWs(pd.port, "/sub/" + ch, handshake=False)
    try:
        raw.handshake()
        hs = None
    except RuntimeError as e:
        hs = str(e)
    tap.ok(hs is None and raw.status == 101,
           "raw handshake: 101 with the right Sec-WebSocket-Accept", hs)
    deadline = time.monotonic() + 4.5
    while time.monotonic() < deadline:
        try:
            raw.recv(max(0.01, deadline - time.monotonic()))
        except OSError:
            break
    tap.ok(raw.pings >= 2, "server pings every --heartbeat 1 s (%d pings in 4.5 s)" % raw.pings)
    raw.close()

    # node-ws, a second independent client.
    if os.path.isdir(NODE_WS) and os.access("/usr/bin/node", os.X_OK):
        p = subprocess.Popen(["/usr/bin/node", "-e", NODE_CLIENT, NODE_WS, url],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if pd.subscribers(ch).get("websocket", 0) >= 1:
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        nid = dev.publish_id(ch, b"to node")
        try:
            out, err = p.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        try:
            res = json.loads(out.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            res = {}
        tap.ok(p.returncode == 0 and res.get("messages", [{}])[0].get("id") == nid and
               res.get("binary") == 0, "node-ws receives the message as a text frame",
               (out + err).decode(errors="replace"))
        tap.ok(res.get("pings", 0) >= 1, "node-ws sees a server ping", res)
        tap.eq(1000, res.get("close"), "node-ws clean close 1000")
    else:
        tap.skip("node-ws client", "no node or " + NODE_WS)

    dev.close()
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")


E.run_main(main)
