#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: pushd serves the browser client library at a stable path:
GET /push.js and every module it imports (push/NAME.js, relative to it) are
clients/js/'s bytes, as text/javascript, with "no-cache" and an ETag that
answers a revalidation with 304 and no body; HEAD gives the headers alone;
other paths under /push are 404; the demo page's CSP lets it import
/push.js."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

CLIENT = os.path.join(E.ROOT, "clients", "js")


def main(tap):
    E.require()
    pd = E.Pushd()
    with open(os.path.join(CLIENT, "push.js"), "rb") as f:
        src = f.read()
    st, h, body = E.http(pd.port, "GET", "/push.js")
    tap.ok(st == 200 and body == src, "GET /push.js: clients/js/push.js as it is", (st, len(body)))
    tap.eq("text/javascript; charset=utf-8", h.get("content-type"), "content type")
    tap.eq("no-cache", h.get("cache-control"), "revalidated on each load (stable path)")
    tap.eq("nosniff", h.get("x-content-type-options"), "nosniff")
    etag = h.get("etag", "")
    tap.ok(re.fullmatch(r'"[0-9a-f]{20}"', etag), "a strong ETag", etag)

    st, h2, body = E.http(pd.port, "GET", "/push.js", {"If-None-Match": etag})
    tap.ok(st == 304 and body == b"" and h2.get("etag") == etag,
           "If-None-Match with its ETag: 304, no body", (st, body[:50]))
    st, _, body = E.http(pd.port, "GET", "/push.js", {"If-None-Match": '"0123"'})
    tap.ok(st == 200 and body == src, "another ETag: 200 and the file")
    st, h3, body = E.http(pd.port, "HEAD", "/push.js")
    tap.ok(st == 200 and body == b"" and h3.get("etag") == etag, "HEAD: headers only")

    imports = re.findall(rb"from '\./(push/[a-z]+\.js)'", src)
    mods = sorted(set(imports))
    for sub in sorted(os.listdir(os.path.join(CLIENT, "push"))):
        with open(os.path.join(CLIENT, "push", sub), "rb") as f:
            mods_src = f.read()
        imports += [b"push/" + m for m in re.findall(rb"from '\./([a-z]+\.js)'", mods_src)]
    missing = []
    for m in sorted(set(imports)):
        with open(os.path.join(CLIENT, m.decode()), "rb") as f:
            want = f.read()
        st, h, body = E.http(pd.port, "GET", "/" + m.decode())
        if st != 200 or body != want or not h.get("content-type", "").startswith("text/javascript"):
            missing.append((m, st))
    tap.ok(mods and not missing, "every module push.js imports is served (%d)"
           % len(set(imports)), missing)
    for bad in ("/push", "/push/", "/push/nope.js", "/push/../push.js", "/push.js.map"):
        st, _, _ = E.http(pd.port, "GET", bad)
        tap.eq(404, st, "GET %s: 404" % bad)
    st, h, _ = E.http(pd.port, "GET", "/")
    csp = h.get("content-security-policy", "")
    tap.ok(re.search(r"script-src [^;]*'self'", csp), "the demo page may import /push.js", csp)
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")


E.run_main(main)
