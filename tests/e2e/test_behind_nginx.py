#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: pushd behind nginx, as docs/HTTP.md ("Behind nginx,
safely") says, with nginx's configuration taken from that file.  Every
request reaches pushd from loopback, so "loopback may publish" alone would
let the whole network publish: the test shows that hazard through an nginx
that does not set X-Forwarded-For (201 for a client on another address),
then, through the documented configuration: with --token-file, that client
gets 401 without the token and 201 with it; with --trusted-proxy and no
token, a client on the machine publishes and the other one gets 403 (its
forged X-Forwarded-For: 127.0.0.1 changes nothing); a cross-site POST, a
rebinding Host and a WebSocket from another origin are refused through the
proxy; the page's own WebSocket and an SSE stream go through.

The "other address" is the VM's own network address (tools/vm/run --net),
so the proxied client really is not loopback; without one those checks
are skipped."""

import os
import re
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402
import browserlib as B  # noqa: E402

HTTP_MD = os.path.join(E.ROOT, "docs", "HTTP.md")
NAME = "push.example.com"

# nginx's defaults: no X-Forwarded-For, Host passed on
NAIVE = r"""
server {
    listen @LISTEN@;
    location / {
        proxy_pass http://127.0.0.1:@PUSHD@;
        proxy_http_version 1.1;
        proxy_set_header Host $host;
    }
}
"""


def documented_conf():
    return B.doc_nginx_block(HTTP_MD, "http-nginx-conf", [
        ("listen 80;", "listen @LISTEN@;", 1),
        ("proxy_pass http://127.0.0.1:8080;", "proxy_pass http://127.0.0.1:@PUSHD@;", 1)])


def documented_args():
    """pushd's options from the command line in the same section."""
    with open(HTTP_MD) as f:
        text = f.read()
    m = re.search(r"\n    pushd --listen 127\.0\.0\.1:8080 (.*?)\n\n", text, re.S)
    if not m:
        raise RuntimeError("no 'pushd --listen 127.0.0.1:8080 ...' line in docs/HTTP.md")
    return m.group(1).replace("\\\n", " ").split()


def request(addr, port, method, path, headers=None, body=b""):
    """One request to addr:port; (status, body text)."""
    h = {"Host": NAME, "Connection": "close"}
    h.update(headers or {})
    deadline = time.monotonic() + 15
    with socket.create_connection((addr, port), 15) as s:
        s.sendall(E.request_bytes(method, path, h, body))
        rd = E.Reader(s)
        st, hd = E.read_head(rd, deadline)
        data = b"" if st == 101 else E.BodyReader(rd, hd).read_all(deadline)
        return st, data.decode("utf-8", "replace").strip()


def ws_status(addr, port, path, origin=None):
    h = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
         "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    if origin:
        h["Origin"] = origin
    return request(addr, port, "GET", path, h)[0]


def start_nginx(conf, pushd_port):
    port = E.free_port()
    text = B.nginx_main(conf).replace("@LISTEN@", "0.0.0.0:%d" % port) \
        .replace("@PUSHD@", str(pushd_port))
    return B.Nginx(pushd_port, port=port, conf=text)


def main(tap):
    E.require(B.NGINX)
    outside = E.own_address()
    ch = E.unique_channel("proxy")
    tokf = os.path.join(tempfile.mkdtemp(prefix="e2e-proxy-"), "token")
    with open(tokf, "w") as f:
        f.write("proxy-token-1\n")
    args = documented_args()
    tap.ok("--token-file" in args and "--trusted-proxy" in args,
           "docs/HTTP.md's pushd line has --token-file and --trusted-proxy", args)
    args = [a.replace("/etc/pushd/token", tokf) for a in args]

    # the hazard: a proxy without X-Forwarded-For makes everyone loopback
    pd = E.Pushd("--allow-host", NAME)
    ng = start_nginx(NAIVE, pd.port)
    if outside:
        st, body = request(outside, ng.port, "POST", "/pub/" + ch, body=b"x")
        tap.eq(201, st, "hazard: through an nginx without X-Forwarded-For, a client at %s "
               "publishes to a pushd without token or --trusted-proxy" % outside)
    else:
        tap.skip("hazard through a naive proxy", "no non-loopback address (run with --net)")
    ng.stop()
    pd.stop()

    # the documented setup: token and trusted proxy
    pd = E.Pushd(*args)
    ng = start_nginx(documented_conf(), pd.port)
    auth = {"Authorization": "Bearer proxy-token-1"}
    if outside:
        tap.eq(401, request(outside, ng.port, "POST", "/pub/" + ch, body=b"x")[0],
               "documented: a client at %s without the token: 401" % outside)
        tap.eq(201, request(outside, ng.port, "POST", "/pub/" + ch, auth, b"x")[0],
               "documented: the same client with the token: 201")
    else:
        tap.skip("documented: token from another address", "no non-loopback address")
    tap.eq(401, request("127.0.0.1", ng.port, "POST", "/pub/" + ch, body=b"x")[0],
           "documented: even a client on the machine needs the token: 401")
    own = "http://%s:%d" % (NAME, ng.port)
    tap.eq(101, ws_status("127.0.0.1", ng.port, "/sub/" + ch, own),
           "documented: the page's own WebSocket through nginx: 101")
    tap.eq(403, ws_status("127.0.0.1", ng.port, "/sub/" + ch, "http://evil.example"),
           "documented: a WebSocket from evil.example through nginx: 403")
    st, body = request("127.0.0.1", ng.port, "GET", "/stats", {"Host": "rebind.evil.example"})
    tap.eq(403, st, "documented: GET /stats with a rebinding Host through nginx: 403 (%s)" % body)
    tap.eq(200, request("127.0.0.1", ng.port, "GET", "/stats")[0],
           "documented: GET /stats with Host %s (--allow-host): 200" % NAME)
    # an SSE stream through the proxy gets a message
    sock = socket.create_connection(("127.0.0.1", ng.port), 15)
    sock.sendall(E.request_bytes("GET", "/sub/" + ch, {"Accept": "text/event-stream",
                                                       "Host": NAME}))
    rd = E.Reader(sock)
    st, _ = E.read_head(rd, time.monotonic() + 15)
    pd.wait_subscribers(ch, {"sse": 1})
    dev = E.Device()
    dev.publish(ch, "through-the-proxy")
    dev.close()
    got, deadline = b"", time.monotonic() + 15
    while b"through-the-proxy" not in got and time.monotonic() < deadline:
        try:
            got += rd.readsome(deadline)
        except socket.timeout:
            break
    sock.close()
    tap.ok(st == 200 and b"through-the-proxy" in got, "documented: SSE through nginx delivers",
           got[-300:])
    ng.stop()
    pd.stop()

    # the trusted proxy alone: the machine publishes, the network does not
    pd = E.Pushd("--trusted-proxy", "127.0.0.1", "--allow-host", NAME)
    ng = start_nginx(documented_conf(), pd.port)
    tap.eq(201, request("127.0.0.1", ng.port, "POST", "/pub/" + ch, body=b"x")[0],
           "trusted proxy, no token: a client on the machine publishes: 201")
    if outside:
        tap.eq(403, request(outside, ng.port, "POST", "/pub/" + ch, body=b"x")[0],
               "trusted proxy, no token: a client at %s: 403" % outside)
        tap.eq(403, request(outside, ng.port, "POST", "/pub/" + ch,
                            {"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1"}, b"x")[0],
               "trusted proxy: the same client forging X-Forwarded-For/X-Real-IP 127.0.0.1: 403")
    else:
        tap.skip("trusted proxy from another address", "no non-loopback address")
    tap.eq(403, request("127.0.0.1", ng.port, "POST", "/pub/" + ch,
                        {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}, b"x")[0],
           "trusted proxy: a cross-site POST from a page on the machine: 403")
    ng.stop()
    tap.eq(0, pd.stop(), "pushd exits 0")


E.run_main(main)
