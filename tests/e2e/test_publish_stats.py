#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: POST /pub/CH answers 201 with the id and the message reaches
a subscriber of each transport; GET /pub/CH describes the channel; /stats is
JSON counting connections per transport; /metrics is Prometheus text of
push_* names; with --token-file, POST needs the right Bearer token."""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
METRIC_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})?'
                       r' (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)( -?\d+)?$')


def check_metrics(tap, text):
    names, typed, bad = set(), set(), []
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# HELP "):
            continue
        m = re.match(r"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$", line)
        if m:
            typed.add(m.group(1))
            continue
        if line.startswith("#"):
            continue
        m = METRIC_RE.match(line)
        if not m:
            bad.append(line)
            continue
        name = m.group(1)
        base = re.sub(r"_(bucket|sum|count|total)$", "", name)
        if name not in typed and base not in typed:
            bad.append("sample before its # TYPE: " + line)
        names.add(name)
    tap.ok(not bad, "/metrics lines are valid Prometheus text", "\n".join(bad[:10]))
    tap.ok(len(names) >= 3 and all(n.startswith("push_") for n in names),
           "/metrics has push_* names only (%d names)" % len(names), sorted(names)[:20])
    return names


def main(tap):
    E.require()
    pd = E.Pushd("--heartbeat", "30", "--poll-timeout", "30")
    ch = E.unique_channel("pub")

    sse, ws, lp_poll = pd.subscribe_each(ch)

    stats = pd.stats()
    path, conns = E.find_transport_counts(stats)
    tap.ok(conns is not None, "/stats has connection counts per transport", stats)
    if conns:
        tap.eq({"longpoll": 1, "sse": 1, "websocket": 1},
               {k: conns[k] for k in ("longpoll", "sse", "websocket")},
               "/stats%s counts one subscriber of each transport" % path)

    q = stats.get("queues")
    tap.ok(isinstance(q, dict) and all(isinstance(v, int) for v in q.values()) and q,
           "/stats has queue depths", q)
    s0 = stats
    st, h, body = E.http_json(pd.port, "POST", "/pub/" + ch, body=b"posted \xe2\x9c\x93")
    tap.eq(201, st, "POST /pub/CH -> 201")
    tap.ok(h.get("content-type", "").startswith("application/json"), "201 is application/json", h)
    ok = isinstance(body, dict) and isinstance(body.get("id"), int) and body.get("channel") == ch \
        and TIME_RE.match(str(body.get("time", "")))
    tap.ok(ok, "201 body is {id, channel, time}", body)
    pid = body.get("id") if isinstance(body, dict) else None

    ev = sse.next_event(20)
    msg = json.loads(ev["data"]) if ev else {}
    tap.ok(ev is not None and ev.get("id") == str(pid) and msg.get("data") == "posted \u2713",
           "SSE subscriber got the POSTed message", ev)
    m = ws.recv_json(20)
    tap.ok(m is not None and m.get("id") == pid and m.get("data") == "posted \u2713",
           "WebSocket subscriber got the POSTed message", m)
    st, _, lp = lp_poll.result()
    tap.ok(st == 200 and isinstance(lp, dict) and [x.get("id") for x in lp.get("messages", [])] == [pid]
           and lp.get("next") == pid, "long-poll subscriber got the POSTed message", lp)

    # /metrics counts the same open connections, by transport label.
    st, _, mt = E.http(pd.port, "GET", "/metrics")
    seen = dict(re.findall(r'^push_connections\{transport="(\w+)"\} (\d+)$',
                           mt.decode("utf-8", "replace"), re.M))
    tap.eq({"longpoll": "0", "sse": "1", "websocket": "1"}, seen,
           "/metrics push_connections{transport=...} match the open subscribers")

    # /stats counted the publish and one delivery per transport.
    s1 = pd.stats()
    tap.eq(1, s1.get("published", 0) - s0.get("published", 0), "/stats published +1")
    tap.ok(s1.get("messages_in", 0) - s0.get("messages_in", 0) >= 1, "/stats messages_in grew")
    for t in ("longpoll", "sse", "websocket"):
        a = s0.get("transports", {}).get(t, {})
        b = s1.get("transports", {}).get(t, {})
        tap.eq(1, b.get("messages_out", 0) - a.get("messages_out", 0),
               "/stats transports.%s.messages_out +1" % t)
        tap.ok(b.get("bytes_out", 0) > a.get("bytes_out", 0), "/stats transports.%s.bytes_out grew" % t)

    st, _, info = E.http_json(pd.port, "GET", "/pub/" + ch)
    tap.eq(200, st, "GET /pub/CH -> 200")
    if isinstance(info, dict):
        tap.eq(ch, info.get("channel"), "GET /pub/CH channel")
        tap.eq(pid, info.get("last_id"), "GET /pub/CH last_id is the POSTed id")
        tap.eq(1, info.get("published"), "GET /pub/CH published")
        tap.eq(1, info.get("retained"), "GET /pub/CH retained")
        tap.eq({"longpoll": 0, "sse": 1, "websocket": 1}, info.get("subscribers"),
               "GET /pub/CH subscribers after the long-poll was answered")
    else:
        tap.ok(False, "GET /pub/CH is JSON", info)
    st, h, _ = E.http(pd.port, "OPTIONS", "/pub/" + ch,
                      {"Origin": "http://example.test", "Access-Control-Request-Method": "POST"})
    tap.ok(st == 204 and "POST" in h.get("access-control-allow-methods", ""),
           "OPTIONS preflight: 204 allowing POST", "%d %r" % (st, h))
    never = E.unique_channel("never")
    st, _, info = E.http_json(pd.port, "GET", "/pub/" + never)
    tap.eq(200, st, "GET /pub/ of a never-used channel -> 200")
    tap.eq({"channel": never, "last_id": 0, "published": 0, "retained": 0,
            "subscribers": {"longpoll": 0, "sse": 0, "websocket": 0}}, info,
           "GET /pub/ of a never-used channel: zeros (docs/HTTP.md)")

    # The publish counts show up in /stats and /metrics.
    ws.close()
    sse.close()
    st, h, body = E.http(pd.port, "GET", "/metrics")
    tap.eq(200, st, "GET /metrics -> 200")
    tap.ok(h.get("content-type", "").startswith("text/plain"), "/metrics is text/plain", h)
    text = body.decode("utf-8", "replace")
    check_metrics(tap, text)
    m = re.search(r"^push_published_total (\d+)$", text, re.M)
    tap.ok(m and int(m.group(1)) == pd.stats().get("published"),
           "push_published_total agrees with /stats published", m and m.group(0))
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")

    # --token-file: 401 without or with a wrong token, 201 with the right one.
    tf = os.path.join(pd.dir, "token")
    with open(tf, "w") as f:
        f.write("e2e-s3cret-token\n")
    pd = E.Pushd("--token-file", tf)
    ch = E.unique_channel("tok")
    st, h, _ = E.http(pd.port, "POST", "/pub/" + ch, {}, b"denied")
    tap.ok(st == 401 and h.get("www-authenticate", "").lower().startswith("bearer"),
           "401 carries WWW-Authenticate: Bearer", "%d %r" % (st, h))
    for name, hdrs in (("no Authorization", {}),
                       ("wrong token", {"Authorization": "Bearer wrong"}),
                       ("token prefix", {"Authorization": "Bearer e2e-s3cret"}),
                       ("not Bearer", {"Authorization": "Basic ZTJlLXMzY3JldC10b2tlbg=="})):
        st, _, _ = E.http(pd.port, "POST", "/pub/" + ch, hdrs, b"denied")
        tap.eq(401, st, "token set, %s -> 401" % name)
    st, _, body = E.http_json(pd.port, "POST", "/pub/" + ch,
                              {"Authorization": "Bearer e2e-s3cret-token"}, b"allowed")
    tap.ok(st == 201 and isinstance(body, dict) and isinstance(body.get("id"), int),
           "token set, right Bearer token -> 201", "%d %r" % (st, body))
    st, _, info = E.http_json(pd.port, "GET", "/sub/%s?since=oldest" % ch)
    tap.ok(st == 200 and [m.get("data") for m in info.get("messages", [])] == ["allowed"],
           "only the authorised POST was published", info)
    pd.stop()


E.run_main(main)
