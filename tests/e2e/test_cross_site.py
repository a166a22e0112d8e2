#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: a web page in a local browser cannot publish through pushd,
read it under a rebinding DNS name, or open a WebSocket from another site.
POST /pub from loopback with Origin: http://evil.example and Sec-Fetch-Site:
cross-site is 403 (it was 201), unless pushd has --token-file and the
request carries the token; a same-origin page and curl still publish.
GET /stats with Host: rebind.evil.example is 403 (it was 200) unless
--allow-host names it.  A WebSocket with Origin: http://evil.example is 403
(it was 101); same-origin, no Origin and --allow-origin's origin are 101.
A loopback request carrying X-Forwarded-For is not loopback unless it comes
from a --trusted-proxy, and then only if the forwarded address (the last
line's last entry) is; a trusted proxy's request without one is not.
--allow-origin '*' lets any site read, never publish."""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

EVIL = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}


def pub(pd, ch, headers=None):
    st, _, body = E.http(pd.port, "POST", "/pub/" + ch, headers or {}, b"hello", timeout=10)
    return st, body.decode("utf-8", "replace").strip()


def pub_raw(pd, ch, header_lines):
    """POST /pub/CH with header lines as given, repeats included; the status."""
    head = "POST /pub/%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 5\r\n" % (ch, pd.port)
    head += "".join("%s: %s\r\n" % kv for kv in header_lines)
    s = E.connect(pd.port, 10)
    try:
        s.sendall(head.encode() + b"Connection: close\r\n\r\nhello")
        data = b""
        while b"\r\n" not in data:
            d = s.recv(4096)
            if not d:
                break
            data += d
    finally:
        s.close()
    return int(data.split()[1]) if data.startswith(b"HTTP/") else None


def ws_status(pd, ch, headers=None):
    try:
        ws = E.RawWs(pd.port, "/sub/" + ch, headers=headers or {}, handshake=False)
        st, _ = E.read_head(ws.rd, E.time.monotonic() + 10)
        ws.close()
        return st
    except (OSError, EOFError, ValueError) as e:
        return repr(e)


def main(tap):
    E.require()
    ch = E.unique_channel("xsite")
    pd = E.Pushd()
    own = {"Origin": "http://127.0.0.1:%d" % pd.port}

    # publishing: cross-site refused, same-origin and non-browser clients not
    st, body = pub(pd, ch, EVIL)
    tap.eq(403, st, "POST /pub with Origin evil.example, Sec-Fetch-Site cross-site: 403 (%s)" % body)
    tap.eq(403, pub(pd, ch, {"Origin": "http://evil.example"})[0], "POST /pub with Origin evil alone: 403")
    tap.eq(403, pub(pd, ch, {"Sec-Fetch-Site": "cross-site"})[0],
           "POST /pub with Sec-Fetch-Site: cross-site alone: 403")
    tap.eq(403, pub(pd, ch, {"Origin": "http://127.0.0.1:1", "Sec-Fetch-Site": "same-site"})[0],
           "POST /pub from another port of the same host (same-site): 403")
    tap.eq(403, pub(pd, ch, {"Origin": "null"})[0], "POST /pub with Origin: null: 403")
    tap.eq(201, pub(pd, ch, dict(own, **{"Sec-Fetch-Site": "same-origin"}))[0],
           "POST /pub from a same-origin page: 201")
    tap.eq(201, pub(pd, ch)[0], "POST /pub without Origin (curl): 201")

    # forwarded requests: not loopback unless a trusted proxy forwards loopback
    tap.eq(403, pub(pd, ch, {"X-Forwarded-For": "203.0.113.9"})[0],
           "POST /pub with X-Forwarded-For, no --trusted-proxy: 403")
    tap.eq(403, pub(pd, ch, {"X-Forwarded-For": "127.0.0.1"})[0],
           "POST /pub with X-Forwarded-For 127.0.0.1, no --trusted-proxy: 403 (anyone can write it)")

    # Host: the listen address and localhost, not a rebinding name
    st, _, body = E.http(pd.port, "GET", "/stats", {"Host": "rebind.evil.example:%d" % pd.port})
    tap.eq(403, st, "GET /stats with Host rebind.evil.example: 403 (%s)"
           % body.decode(errors="replace").strip())
    tap.eq(403, E.http(pd.port, "GET", "/sub/" + ch + "?since=oldest",
                       {"Host": "rebind.evil.example"})[0], "GET /sub with Host rebind.evil.example: 403")
    tap.eq(200, E.http(pd.port, "GET", "/stats")[0], "GET /stats with Host 127.0.0.1:PORT: 200")
    tap.eq(200, E.http(pd.port, "GET", "/stats", {"Host": "localhost:%d" % pd.port})[0],
           "GET /stats with Host localhost: 200")

    # WebSocket Origin: same-origin by default
    tap.eq(403, ws_status(pd, ch, {"Origin": "http://evil.example"}),
           "WebSocket with Origin evil.example: 403")
    tap.eq(101, ws_status(pd, ch, own), "WebSocket with its own origin: 101")
    tap.eq(101, ws_status(pd, ch), "WebSocket without Origin (not a browser): 101")
    pd.stop()

    # --allow-origin, --allow-host, --trusted-proxy
    pd = E.Pushd("--allow-origin", "https://app.example", "--allow-host", "push.example")
    own = {"Origin": "http://127.0.0.1:%d" % pd.port}
    tap.eq(101, ws_status(pd, ch, {"Origin": "https://app.example"}),
           "--allow-origin: WebSocket from its origin: 101")
    tap.eq(101, ws_status(pd, ch, own), "--allow-origin: WebSocket same-origin: 101")
    tap.eq(403, ws_status(pd, ch, {"Origin": "http://evil.example"}),
           "--allow-origin: WebSocket from evil.example: 403")
    tap.eq(201, pub(pd, ch, {"Origin": "https://app.example", "Sec-Fetch-Site": "cross-site"})[0],
           "--allow-origin: POST /pub from its page: 201")
    tap.eq(403, pub(pd, ch, EVIL)[0], "--allow-origin: POST /pub from evil.example: 403")
    tap.eq(200, E.http(pd.port, "GET", "/stats", {"Host": "push.example"})[0],
           "--allow-host push.example: GET /stats with that Host: 200")
    tap.eq(403, E.http(pd.port, "GET", "/stats", {"Host": "rebind.evil.example"})[0],
           "--allow-host push.example: other names still 403")
    pd.stop()

    # --trusted-proxy: its last X-Forwarded-For entry is the client
    pd = E.Pushd("--trusted-proxy", "127.0.0.1")
    tap.eq(201, pub(pd, ch, {"X-Forwarded-For": "127.0.0.1"})[0],
           "--trusted-proxy 127.0.0.1: forwarded for 127.0.0.1: 201")
    tap.eq(403, pub(pd, ch, {"X-Forwarded-For": "127.0.0.1, 203.0.113.9"})[0],
           "--trusted-proxy: forwarded for 203.0.113.9 (the last hop): 403")
    tap.eq(403, pub(pd, ch, {"X-Real-IP": "203.0.113.9"})[0],
           "--trusted-proxy: X-Real-IP 203.0.113.9: 403")
    tap.eq(403, pub(pd, ch)[0],
           "--trusted-proxy 127.0.0.1: its request without X-Forwarded-For (for whom?): 403")
    # a proxy that adds its own X-Forwarded-For line (HAProxy) after the client's
    tap.eq(403, pub_raw(pd, ch, [("X-Forwarded-For", "127.0.0.1"), ("X-Forwarded-For", "203.0.113.9")]),
           "--trusted-proxy: a forged X-Forwarded-For line before the proxy's: 403")
    tap.eq(201, pub_raw(pd, ch, [("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-For", "127.0.0.1")]),
           "--trusted-proxy: the proxy's line (last) says 127.0.0.1: 201")
    pd.stop()

    # --allow-origin '*' opens reading to every site, never publishing
    pd = E.Pushd("--allow-origin", "*")
    tap.eq(403, pub(pd, ch, EVIL)[0], "--allow-origin '*': POST /pub from evil.example: 403")
    tap.eq(403, pub(pd, ch, {"Origin": "null"})[0], "--allow-origin '*': POST /pub with Origin null: 403")
    tap.eq(101, ws_status(pd, ch, {"Origin": "http://evil.example"}),
           "--allow-origin '*': a WebSocket from any site reads public channels: 101")
    pd.stop()

    # a wildcard that would silently match nothing is refused at start
    try:
        r = E.subprocess.run([E.PUSHD, "--allow-host", "*.example.com", "--listen",
                              "127.0.0.1:%d" % E.free_port()], capture_output=True, timeout=10)
        rc, err = r.returncode, r.stderr.decode(errors="replace").strip()
    except E.subprocess.TimeoutExpired:
        rc, err = None, "it started and served"
    tap.ok(rc == 2 and ".example.com" in err,
           "--allow-host '*.example.com': exit 2, pointing to '.example.com' (%s)" % err)

    # --token-file: the token opens cross-site publishing, nothing else does
    tokf = os.path.join(tempfile.mkdtemp(prefix="e2e-xsite-"), "token")
    with open(tokf, "w") as f:
        f.write("s3cret-token\n")
    pd = E.Pushd("--token-file", tokf)
    auth = {"Authorization": "Bearer s3cret-token"}
    tap.eq(201, pub(pd, ch, dict(EVIL, **auth))[0], "--token-file: cross-site POST with the token: 201")
    tap.eq(401, pub(pd, ch, EVIL)[0], "--token-file: cross-site POST without it: 401")
    tap.eq(401, pub(pd, ch, dict(EVIL, Authorization="Bearer wrong"))[0],
           "--token-file: cross-site POST with a wrong token: 401")
    tap.eq(0, pd.stop(), "pushd exits 0")


E.run_main(main)
