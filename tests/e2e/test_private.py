#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: private channels (--private 'user.*') need a JWT that
grants them.  Refused: no token (401), a wrong signature (401), a token
for another channel (403), an expired token (401), alg none (401), a token
for user.a used on user.a,user.b (403), a bad token at a WebSocket
handshake (401, no upgrade).  Accepted, and delivering: an HS256 token as
Authorization: Bearer (SSE), as ?token= (WebSocket), as the push_token
cookie (long-poll), an ES256 token signed by openssl; public channels need
none.  A token that expires closes a live SSE stream with event: close
{"reason":"token expired"} and a live WebSocket with 4001.  A JWT that
grants publish on user.a lets its bearer POST /pub/user.a past
--token-file; one that grants only subscribe does not; GET /pub/user.a
shows the channel's counts only to such a publisher."""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

OPENSSL = "/usr/bin/openssl"
SECRET = b"e2e-private-channels-secret-0123456789"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_hs(claims, secret=SECRET, alg="HS256"):
    head = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(secret, ("%s.%s" % (head, body)).encode(), hashlib.sha256).digest()
    return "%s.%s.%s" % (head, body, b64(sig))


def jwt_none(claims):
    return "%s.%s." % (b64(b'{"alg":"none"}'), b64(json.dumps(claims).encode()))


def der_to_rs(der):
    """An ECDSA DER signature (SEQUENCE of two INTEGERs) as JWS's r || s."""
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7f)
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        out += der[i + 2:i + 2 + n].lstrip(b"\0").rjust(32, b"\0")
        i += 2 + n
    return out


def jwt_es(claims, key):
    head = b64(b'{"alg":"ES256","typ":"JWT"}')
    body = b64(json.dumps(claims).encode())
    der = subprocess.run([OPENSSL, "dgst", "-sha256", "-sign", key],
                         input=("%s.%s" % (head, body)).encode(), capture_output=True,
                         check=True, timeout=30).stdout
    return "%s.%s.%s" % (head, body, b64(der_to_rs(der)))


def grant(sub=(), pub=(), ttl=600):
    return {"exp": int(time.time()) + ttl, "push": {"subscribe": list(sub), "publish": list(pub)}}


def sse_status(pd, path, headers=None):
    """Status and body of a subscribe request that should be refused."""
    h = {"Accept": "text/event-stream"}
    h.update(headers or {})
    st, hd, body = E.http(pd.port, "GET", path, h, timeout=10)
    return st, body.decode("utf-8", "replace").strip(), hd


def main(tap):
    E.require(OPENSSL)
    tmp = tempfile.mkdtemp(prefix="e2e-private-")
    sec = os.path.join(tmp, "secret")
    with open(sec, "wb") as f:
        f.write(SECRET + b"\n")
    key, pem = os.path.join(tmp, "ec.pem"), os.path.join(tmp, "ec.pub")
    subprocess.run([OPENSSL, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key],
                   check=True, capture_output=True, timeout=30)
    subprocess.run([OPENSSL, "ec", "-in", key, "-pubout", "-out", pem],
                   check=True, capture_output=True, timeout=30)
    tok = os.path.join(tmp, "token")
    with open(tok, "w") as f:
        f.write("publish-token\n")

    sfx = E.unique_channel("")
    a, b = "user.a" + sfx, "user.b" + sfx
    pd = E.Pushd("--private", "user.*", "--jwt-secret-file", sec, "--jwt-key-file", pem,
                 "--token-file", tok, "--heartbeat", "30")
    good = jwt_hs(grant([a]))

    # refusals
    st, body, hd = sse_status(pd, "/sub/" + a)
    tap.ok(st == 401 and "bearer" in hd.get("www-authenticate", "").lower(),
           "no token: 401 with WWW-Authenticate: Bearer (%s)" % body, "%s %r" % (st, hd))
    st, body, _ = sse_status(pd, "/sub/" + a, {"Authorization": "Bearer " + jwt_hs(
        grant([a]), b"another-secret-another-secret-another")})
    tap.ok(st == 401 and "signature" in body, "wrong signature: 401 (%s)" % body)
    st, body, _ = sse_status(pd, "/sub/" + a, {"Authorization": "Bearer " + jwt_hs(grant([b]))})
    tap.ok(st == 403, "a token for %s used on %s: 403 (%s)" % (b, a, body))
    st, body, _ = sse_status(pd, "/sub/" + a, {"Authorization": "Bearer " + jwt_hs(grant([a], ttl=-5))})
    tap.ok(st == 401 and "expired" in body, "expired token: 401 (%s)" % body)
    st, body, _ = sse_status(pd, "/sub/" + a, {"Authorization": "Bearer " + jwt_none(grant([a]))})
    tap.ok(st == 401 and "alg" in body, "alg none: 401 (%s)" % body)
    st, body, _ = sse_status(pd, "/sub/" + a, {"Authorization": "Bearer " + jwt_hs(grant([a]), alg="HS512")})
    tap.eq(401, st, "alg HS512 (not ours): 401")
    st, body, _ = sse_status(pd, "/sub/%s,%s" % (a, b), {"Authorization": "Bearer " + good})
    tap.ok(st == 403 and b in body, "a token for %s used on %s,%s: 403 (%s)" % (a, a, b, body))
    st, body, _ = sse_status(pd, "/sub/%s?token=%s" % (a, good[:-3] + "AAA"))
    tap.eq(401, st, "a tampered ?token=: 401")
    try:
        E.RawWs(pd.port, "/sub/%s?token=%s" % (a, jwt_hs(grant([b]))))
        ws_refused = None
    except RuntimeError as e:
        ws_refused = str(e)
    tap.ok(ws_refused and " 403 " in ws_refused + " ", "WebSocket with a token for another channel: "
           "refused before the upgrade", ws_refused)

    # accepted: header (SSE), ?token= (WebSocket), cookie (long-poll), ES256; public without
    sse = E.SseClient(pd.port, "/sub/" + a, headers={"Authorization": "Bearer " + good})
    ws = E.RawWs(pd.port, "/sub/%s?token=%s" % (a, good))
    es = E.SseClient(pd.port, "/sub/" + a, headers={"Authorization": "Bearer " + jwt_es(grant([a]), key)})
    pub_ch = "open" + sfx
    pub_sse = E.SseClient(pd.port, "/sub/" + pub_ch)
    pd.wait_subscribers(a, {"sse": 2, "websocket": 1})
    pd.wait_subscribers(pub_ch, {"sse": 1})
    lp = E.LongPoll(pd.port, "/sub/" + a, {"Cookie": "x=1; push_token=" + good}, timeout=30)
    pd.wait_subscribers(a, {"longpoll": 1})
    dev = E.Device()
    dev.publish(a, "secret-message")
    dev.publish(pub_ch, "public-message")
    st, _, body = lp.result(30)
    ev = sse.next_event(15)
    tap.ok(ev and "secret-message" in ev.get("data", ""), "Bearer (SSE) gets the message", ev)
    m = ws.recv_json(15)
    tap.ok(m and m.get("data") == "secret-message", "?token= (WebSocket) gets the message", m)
    tap.ok(st == 200 and isinstance(body, dict) and
           [x.get("data") for x in body.get("messages", [])] == ["secret-message"],
           "cookie push_token (long-poll) gets the message", (st, body))
    ev = es.next_event(15)
    tap.ok(ev and "secret-message" in ev.get("data", ""), "ES256 token (openssl) gets the message", ev)
    ev = pub_sse.next_event(15)
    tap.ok(ev and "public-message" in ev.get("data", ""), "a public channel needs no token", ev)
    for c in (sse, ws, es, pub_sse):
        c.close()

    # publishing: a JWT that grants publish passes --token-file; subscribe-only does not
    st, _, _ = E.http(pd.port, "POST", "/pub/" + a,
                      {"Authorization": "Bearer " + jwt_hs(grant([a], [a]))}, b"by-jwt")
    tap.eq(201, st, "POST /pub/%s with a JWT granting publish: 201" % a)
    st, _, _ = E.http(pd.port, "POST", "/pub/" + b,
                      {"Authorization": "Bearer " + jwt_hs(grant([a], [a]))}, b"by-jwt")
    tap.eq(401, st, "the same JWT on %s: 401" % b)
    st, _, _ = E.http(pd.port, "POST", "/pub/" + a, {"Authorization": "Bearer " + good}, b"x")
    tap.eq(401, st, "a JWT granting only subscribe: 401")

    # GET /pub/CH of a private channel: its counts only to who may publish there
    st, _, body = E.http(pd.port, "GET", "/pub/" + a)
    tap.ok(st == 401 and b"subscribers" not in body,
           "GET /pub/%s with no token: 401, no counts" % a, (st, body[:200]))
    st, _, body = E.http(pd.port, "GET", "/pub/" + a, {"Authorization": "Bearer " + good})
    tap.eq(401, st, "GET /pub/%s with a subscribe-only JWT: 401" % a)
    st, _, body = E.http_json(pd.port, "GET", "/pub/" + a,
                              {"Authorization": "Bearer " + jwt_hs(grant([a], [a]))})
    tap.ok(st == 200 and isinstance(body, dict) and body.get("published", 0) >= 1,
           "GET /pub/%s with a JWT granting publish: 200 and its counts" % a, (st, body))
    st, _, body = E.http_json(pd.port, "GET", "/pub/" + E.unique_channel("pubget"))
    tap.ok(st == 200 and isinstance(body, dict) and "subscribers" in body,
           "GET /pub/ of a public channel needs no token", (st, body))

    # expiry closes live connections, with a reason
    short = jwt_hs(grant([a], ttl=3))
    sse = E.SseClient(pd.port, "/sub/" + a, headers={"Authorization": "Bearer " + short})
    ws = E.RawWs(pd.port, "/sub/%s?token=%s" % (a, short))
    pd.wait_subscribers(a, {"sse": 1, "websocket": 1})
    t0 = time.monotonic()
    ev = sse.next_event(15)
    reason = None
    if ev and ev.get("event") == "close":
        reason = json.loads(ev.get("data", "{}")).get("reason")
    tap.ok(reason == "token expired", "SSE: event close, reason 'token expired' after %.1f s (token "
           "for 3 s)" % (time.monotonic() - t0), ev)
    code, _, eof = ws.wait_close(15)
    tap.ok(code == 4001 and ws.close_reason == "token expired" and eof,
           "WebSocket: close 4001 'token expired', then the connection ends",
           "%r %r %r" % (code, ws.close_reason, eof))
    sse.close()
    ws.close()
    tap.eq(0, pd.stop(), "pushd exits 0")

    # --allow-origin '*' opens reading to every site, not the push_token cookie: a
    # browser sends the cookie with any page's WebSocket, and no CORS stops that read
    pd = E.Pushd("--private", "user.*", "--jwt-secret-file", sec, "--allow-origin", "*")
    good = jwt_hs(grant([a]))

    def ws_try(path, headers):
        try:
            w = E.RawWs(pd.port, path, headers=headers)
            w.close()
            return "101"
        except RuntimeError as e:
            return str(e)

    evil = {"Origin": "http://evil.example", "Cookie": "push_token=" + good}
    got = ws_try("/sub/" + a, evil)
    tap.ok(" 401 " in got + " ", "--allow-origin '*': another site's WebSocket with the cookie: 401",
           got)
    got = ws_try("/sub/" + a, {"Origin": "http://127.0.0.1:%d" % pd.port,
                               "Cookie": "push_token=" + good})
    tap.eq("101", got, "--allow-origin '*': a same-origin WebSocket with the cookie: 101")
    got = ws_try("/sub/%s?token=%s" % (a, good), {"Origin": "http://evil.example"})
    tap.eq("101", got, "--allow-origin '*': another site's page that holds the token (?token=): 101")
    tap.eq(0, pd.stop(), "pushd exits 0")

    # --jwt-issuer, --jwt-audience, --jwt-require-exp: a token issued for
    # another service with the same key, or one that never expires, is refused
    pd = E.Pushd("--private", "user.*", "--jwt-secret-file", sec, "--jwt-issuer", "app",
                 "--jwt-audience", "push", "--jwt-require-exp")

    def claims(**kw):
        c = grant([a])
        c.update(kw)
        return {k: v for k, v in c.items() if v is not None}

    for c, want, name in (
            (claims(iss="app", aud="push"), 200, "iss and aud as required"),
            (claims(iss="app", aud=["mail", "push"]), 200, "aud an array naming it"),
            (claims(iss="mail", aud="push"), 401, "another service's iss"),
            (claims(iss="app", aud="mail"), 401, "another audience"),
            (claims(aud="push"), 401, "no iss"),
            (claims(iss="app", aud="push", exp=None), 401, "no exp")):
        path = "/sub/%s?token=%s" % (a, jwt_hs(c))
        if want == 200:  # a stream that stays open: its head is enough
            sse = E.SseClient(pd.port, path, timeout=20)
            st, why = sse.head(20)[0], ""
            sse.close()
        else:
            st, why, _ = sse_status(pd, path)
            why = "(%s)" % why.split("is private: ")[-1].split(" (a JWT")[0]
        tap.eq(want, st, "--jwt-issuer app --jwt-audience push --jwt-require-exp: %s: %d %s"
               % (name, want, why))
    tap.eq(0, pd.stop(), "pushd exits 0")

    # bad configurations are refused at start
    r = subprocess.run([E.PUSHD, "--private", "user.*", "--listen", "127.0.0.1:%d" % E.free_port()],
                       capture_output=True, timeout=30)
    tap.ok(r.returncode == 2 and b"jwt" in r.stderr, "--private without a key: exit 2 (%s)"
           % r.stderr.decode(errors="replace").strip())
    r = subprocess.run([E.PUSHD, "--jwt-audience", "push", "--listen", "127.0.0.1:%d" % E.free_port()],
                       capture_output=True, timeout=30)
    tap.ok(r.returncode == 2 and b"jwt" in r.stderr, "--jwt-audience without a key: exit 2 (%s)"
           % r.stderr.decode(errors="replace").strip())
    short_sec = os.path.join(tmp, "short")
    with open(short_sec, "w") as f:
        f.write("short\n")
    r = subprocess.run([E.PUSHD, "--private", "user.*", "--jwt-secret-file", short_sec],
                       capture_output=True, timeout=30)
    tap.ok(r.returncode == 2, "a secret under 32 bytes: exit 2 (%s)" % r.stderr.decode(errors="replace").strip())


E.run_main(main)
