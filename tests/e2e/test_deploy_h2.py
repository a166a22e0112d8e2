#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# test-timeout: 420
# vm-params: boot=browser
"""Description: the nginx configuration of docs/DEPLOY.md (taken from the
file itself) terminates TLS and HTTP/2 in front of pushd.  curl --http2
carries 100 concurrent SSE subscriptions over one TLS connection, each
delivering every message.  Headless Chromium loads the page over HTTP/2 and
runs the client library (clients/js/) through it: WebSocket proxied (push.v1
and permessage-deflate agreed with pushd through it), and 10
SSE streams plus 4 long-polls in one page, all open over one HTTP/2
connection.  The same page through an HTTP/1.1 nginx gets only 6 of its 10
SSE streams open (the browser's limit per origin): the check can fail."""

import asyncio
import base64
import hashlib
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402
import browserlib as B  # noqa: E402

CURL = "/usr/bin/curl"
OPENSSL = "/usr/bin/openssl"
DEPLOY = os.path.join(E.ROOT, "docs", "DEPLOY.md")
OPTS = {"connectTimeout": 3000, "heartbeat": 2, "pollTimeout": 10, "backoffMin": 500,
        "backoffMax": 2000, "shared": False}
STREAMS = 100


def deploy_conf(port, pushd_port, cert, key, app):
    """DEPLOY.md's nginx block with this test's ports, certificate and directories."""
    conf = B.doc_nginx_block(DEPLOY, "deploy-nginx-conf", [
        ("listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;" % port, 1),
        ("listen [::]:443 ssl http2;", "", 1),
        ("server 127.0.0.1:8080;", "server 127.0.0.1:%d;" % pushd_port, 1),
        ("/etc/ssl/push/fullchain.pem", cert, 1),
        ("/etc/ssl/push/privkey.pem", key, 1),
        ("/var/www/push-app", app, 1),
        ("/usr/share/push/js", B.CLIENT_DIR, 2)])
    # nginx's own http { } context around it
    return B.nginx_main("    include /etc/nginx/mime.types;\n" + conf)


def spki_hash(cert):
    """base64 SHA-256 of the certificate's public key, for Chromium's SPKI allow list."""
    pem = subprocess.run([OPENSSL, "x509", "-in", cert, "-noout", "-pubkey"], check=True,
                         capture_output=True, timeout=30).stdout
    der = subprocess.run([OPENSSL, "pkey", "-pubin", "-outform", "der"], input=pem, check=True,
                         capture_output=True, timeout=30).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def wait_for(cond, what, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise RuntimeError("no %s in %d s" % (what() if callable(what) else what, timeout))
        time.sleep(0.2)


def sub_lines(ngx, chan):
    """nginx's access log lines of subscriptions to chan: (connection, protocol, request, status)."""
    out = []
    for line in ngx.access_log():
        m = re.match(r'(\d+) \d+ (\S+) "(\S+ (\S+) \S+)" (\d+)', line)
        if m and m.group(4).startswith("/sub/" + chan):
            out.append((m.group(1), m.group(2), m.group(4), int(m.group(5))))
    return out


def curl_streams(tap, pd, ngx, base, cert, tmp):
    chan = E.unique_channel("h2curl")
    out = os.path.join(tmp, "curl")
    os.makedirs(out)
    curl = subprocess.Popen([CURL, "-sS", "--http2", "--cacert", cert, "--parallel",
                             "--parallel-max", str(STREAMS), "-N", "-H", "Accept: text/event-stream",
                             "-o", os.path.join(out, "s#1"),
                             "-w", "%{http_version} %{num_connects} %{response_code}\\n",
                             "%s/sub/%s,%s-[1-%d]" % (base, chan, chan, STREAMS)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: pd.subscribers(chan).get("sse", 0) >= STREAMS, "%d SSE subscribers" % STREAMS)
        tap.eq(STREAMS, pd.subscribers(chan).get("sse"), "pushd counts %d SSE subscribers at once" % STREAMS)
        pub = B.Publisher(chan)
        sent = pub.burst(20, "h2")
        pub.close()

        def ids(i):
            try:
                with open(os.path.join(out, "s%d" % i), "rb") as f:
                    items = E.parse_sse(f.read())
            except OSError:
                return []
            return [int(x["id"]) for x in items if x.get("event") == "message"]
        wait_for(lambda: all(len(ids(i)) >= len(sent) for i in range(1, STREAMS + 1)),
                 "every message on every stream")
        # SIGTERM: pushd ends every stream with event: close, so curl finishes.
        tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM with %d HTTP/2 streams" % STREAMS)
        so, se = curl.communicate(timeout=60)
    finally:
        if curl.poll() is None:
            curl.kill()
            curl.wait(10)
    tap.ok(curl.returncode == 0, "curl --http2 --parallel exits 0",
           "exit %s: %s" % (curl.returncode, se.decode(errors="replace")[-400:]))
    res = [line.split() for line in so.decode().splitlines()]
    tap.ok(len(res) == STREAMS and all(r[0] == "2" and r[2] == "200" for r in res),
           "curl: %d transfers, each HTTP/2 and 200" % STREAMS, res[:5])
    tap.eq(1, sum(int(r[1]) for r in res), "curl: one connection made for the %d transfers" % STREAMS)
    bad = [i for i in range(1, STREAMS + 1) if B.check_once(ids(i), sent)]
    tap.ok(not bad, "each of the %d streams has every id once, in order" % STREAMS,
           bad and B.check_once(ids(bad[0]), sent))
    lines = wait_for(lambda: len(sub_lines(ngx, chan)) >= STREAMS and sub_lines(ngx, chan),
                     "nginx's log of the streams", 30)
    tap.ok(len(lines) == STREAMS and {x[1] for x in lines} == {"HTTP/2.0"} and
           len({x[0] for x in lines}) == 1,
           "nginx: %d HTTP/2.0 requests on one connection" % STREAMS, lines[:3])


async def chromium_h2(tap, browser, pd, ngx, base):
    chan = E.unique_channel("h2chromium")
    tid, cdp = await browser.tab(base + "/")
    proto = await cdp.eval("performance.getEntriesByType('navigation')[0].nextHopProtocol")
    tap.eq("h2", proto, "Chromium loads the page over HTTP/2")
    await cdp.call("Network.enable")
    kinds = [None] + [["sse"]] * 10 + [["longpoll"]] * 4
    for kind in kinds:
        o = dict(OPTS, channels=[chan])
        if kind:
            o["transports"] = kind
        await B.start_clients(cdp, "", o)
    want = ["websocket"] + ["sse"] * 10 + ["longpoll"] * 4
    st = await B.wait_page(cdp, lambda s: [c["transport"] for c in s["clients"]] == want,
                           "15 clients open", 90)
    tap.ok(True, "one page: WebSocket through the proxy, 10 SSE streams and 4 long-polls open")
    hs = [{k.lower(): v for k, v in e["params"]["response"].get("headers", {}).items()}
          for e in cdp.events if e.get("method") == "Network.webSocketHandshakeResponseReceived"]
    tap.ok(hs and all(h.get("sec-websocket-protocol") == "push.v1" and
                      h.get("sec-websocket-extensions", "").startswith("permessage-deflate")
                      for h in hs),
           "through nginx the WebSocket agrees on push.v1 and permessage-deflate with pushd", hs)
    pub = B.Publisher(chan)
    sent = pub.burst(10, "h2-page")
    pub.close()
    st = await B.wait_ids(cdp, sent, range(len(kinds)))
    bad = [k for k in range(len(kinds)) if B.check_once(B.message_ids(st, k), sent)]
    tap.ok(not bad, "each of the 15 clients has every id once", bad)
    # Ending the streams is what makes nginx log them.
    await cdp.eval("window.__push.clients.forEach((c) => c.close())")
    await browser.close_tab(tid)
    lines = wait_for(lambda: len([x for x in sub_lines(ngx, chan) if x[3] != 101]) >= 14 and
                     sub_lines(ngx, chan), lambda: "nginx's log of the page's subscriptions "
                     "(its last lines %r)" % ngx.access_log()[-20:], 30)
    h2 = [x for x in lines if x[1] == "HTTP/2.0"]
    ws = [x for x in lines if x[3] == 101]
    tap.ok(len(ws) >= 1 and all(x[1] == "HTTP/1.1" for x in ws),
           "the WebSocket went over HTTP/1.1 and was upgraded (101)", ws)
    tap.ok(len(h2) >= 14 and len({x[0] for x in h2}) == 1,
           "the SSE streams and long-polls went over one HTTP/2 connection",
           "%d HTTP/2.0 lines on connections %r" % (len(h2), sorted({x[0] for x in h2})))


async def chromium_h1(tap, browser, pd):
    """The control: the same SSE streams through HTTP/1.1 hit the 6-connection limit."""
    ngx = B.Nginx(pd.port, "good")
    try:
        chan = E.unique_channel("h1chromium")
        _, cdp = await browser.tab(ngx.base + "/t.html")
        for _ in range(10):
            await B.start_clients(cdp, "", dict(OPTS, channels=[chan], transports=["sse"]))

        def stuck(s):
            opened = [c for c in s["clients"] if c["transport"] == "sse"]
            failed = {e["k"] for e in s["log"] if e["type"] == "error"}
            others = [k for k, c in enumerate(s["clients"]) if c["transport"] != "sse"]
            return len(opened) >= 6 and others and all(k in failed for k in others)
        st = await B.wait_page(cdp, stuck, "6 streams open and the others failing", 90)
        n = sum(1 for c in st["clients"] if c["transport"] == "sse")
        tap.eq(6, n, "through HTTP/1.1 only 6 of 10 SSE streams open (what HTTP/2 removes)")
        await cdp.eval("location.href = 'about:blank'")
    finally:
        ngx.stop()


def main(tap):
    E.require(B.CHROMIUM, B.NGINX, CURL, OPENSSL)
    pd = E.Pushd("--heartbeat", "2", "--poll-timeout", "10")
    tmp = pd.dir
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    app = os.path.join(tmp, "app")
    os.makedirs(app)
    with open(os.path.join(app, "index.html"), "w") as f:
        f.write("<!doctype html><meta charset=utf-8><title>push behind nginx</title>\n")
    port = E.free_port()
    ngx = B.Nginx(pd.port, port=port, conf=deploy_conf(port, pd.port, cert, key, app))
    base = "https://127.0.0.1:%d" % port
    st = subprocess.run([CURL, "-sS", "--http2", "--cacert", cert, "-o", os.devnull, "-w",
                         "%{http_version} %{response_code} %{content_type}", base + "/push.js"],
                        capture_output=True, timeout=30)
    tap.ok(st.stdout.decode().startswith("2 200 application/javascript"),
           "nginx serves /push.js over HTTP/2 as JavaScript", st.stdout + st.stderr)
    browser = None
    try:
        curl_streams(tap, pd, ngx, base, cert, tmp)
        pd.start()
        t = time.monotonic()
        browser = B.Browser(["--ignore-certificate-errors-spki-list=" + spki_hash(cert)], log_dir=tmp)
        tap.diag("chromium up in %.1f s" % (time.monotonic() - t))

        async def drive():
            await chromium_h2(tap, browser, pd, ngx, base)
            await chromium_h1(tap, browser, pd)
        asyncio.run(asyncio.wait_for(drive(), 300))
    finally:
        if browser:
            browser.stop()
        ngx.stop()
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")


E.run_main(main)
