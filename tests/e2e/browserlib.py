# SPDX-License-Identifier: GPL-2.0
"""Helpers of the end-to-end tests of the browser client (clients/js/).

  Browser     headless Chromium with a fresh profile, driven over the
              DevTools protocol (python3-websockets): tabs are opened,
              evaluated in and closed from asyncio code
  Nginx       an nginx with a private prefix in front of pushd, serving
              clients/js/ at /push.js and /push/ from the same origin
  CLIENT_JS   starts PushClients in a page and records their events in
              window.__push, which wait_page() polls

Every wait is bounded; the browser and nginx are stopped at exit.
"""

import asyncio
import atexit
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import e2elib as E

CHROMIUM = "/usr/bin/chromium"
NGINX = "/usr/sbin/nginx"
CLIENT_DIR = os.path.join(E.ROOT, "clients", "js")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--remote-debugging-port=0", "--remote-allow-origins=*"]

_procs = []


def stop_all():
    for p in list(_procs):
        p.stop()


atexit.register(stop_all)


class Cdp:
    """A DevTools protocol session on one target's WebSocket."""

    def __init__(self, ws):
        self.ws = ws
        self.ids = itertools.count(1)
        self.events = []

    async def call(self, method, timeout=60, **params):
        mid = next(self.ids)
        await self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(),
                                                    max(0.1, deadline - time.monotonic())))
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError("%s: %r" % (method, msg["error"]))
                return msg.get("result", {})
            self.events.append(msg)

    async def eval(self, expr, timeout=60):
        """The value of expr (a promise is awaited); an exception raises."""
        r = await self.call("Runtime.evaluate", timeout, expression=expr, returnByValue=True,
                            awaitPromise=True)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise RuntimeError("page: %s" % (d.get("exception", {}).get("description") or d))
        return r.get("result", {}).get("value")


# tests/run-all gives the tests of a VM boot a directory of their own in
# PUSH_SHARED_DIR and ends, at the end of the boot, the process group of every
# PID in a *.pid file there.  There the first Browser() starts one Chromium
# (FLAGS plus SHARED_FLAGS) and every test uses it, each in a browser context
# of its own (Target.createBrowserContext: its own cookies, storage, cache and
# connections, disposed of in stop()): under TCG a Chromium costs seconds to
# start and to stop.  Without PUSH_SHARED_DIR, or asked for flags beyond
# SHARED_FLAGS, a Browser is a Chromium of its own.
SHARED_DIR = os.environ.get("PUSH_SHARED_DIR")
SHARED_FLAGS = ["--no-proxy-server"]	# a no-op for loopback, where the tests go


def _launch(flags, profile, log):
    """Start Chromium with profile; returns (Popen, DevTools port)."""
    env = dict(os.environ, HOME=profile)
    proc = subprocess.Popen([CHROMIUM] + FLAGS + list(flags) +
                            ["--user-data-dir=" + profile, "about:blank"],
                            stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                            env=env, start_new_session=True)
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError("chromium exited with %d" % proc.returncode)
        try:
            with open(port_file) as f:
                return proc, int(f.readline())
        except (OSError, ValueError):
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
                raise RuntimeError("chromium wrote no DevToolsActivePort in 120 s")
            time.sleep(0.2)


def _shared_port():
    """The DevTools port of the boot's shared Chromium, started if none answers."""
    pid_file = os.path.join(SHARED_DIR, "chromium.pid")
    profile = os.path.join(SHARED_DIR, "chromium")
    try:
        with open(pid_file) as f:
            pid = int(f.read())
    except (OSError, ValueError):
        pid = None
    if pid:
        try:
            with open(os.path.join(profile, "DevToolsActivePort")) as f:
                port = int(f.readline())
            st, _, ver = E.http_json(port, "GET", "/json/version", timeout=30)
            if st == 200 and "webSocketDebuggerUrl" in ver:
                return port
        except Exception:  # noqa: BLE001 - dead, or not answering: a fresh one
            pass
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    shutil.rmtree(profile, ignore_errors=True)
    os.makedirs(profile)
    with open(os.path.join(SHARED_DIR, "chromium.log"), "ab") as log:
        proc, port = _launch(SHARED_FLAGS, profile, log)
    with open(pid_file, "w") as f:
        f.write("%d\n" % proc.pid)
    return port


class Browser:
    """Headless Chromium; tabs are (target id, Cdp) pairs opened with tab().
    A shared one (PUSH_SHARED_DIR) gives each Browser a context of its own."""

    def __init__(self, extra_flags=(), log_dir=None):
        self.conns = []
        self.browser_cdp = None
        self.context = None
        self.proc = None
        self.shared = bool(SHARED_DIR) and set(extra_flags) <= set(SHARED_FLAGS)
        if self.shared:
            self.port = _shared_port()
            return
        self.profile = tempfile.mkdtemp(prefix="e2e-chromium-")
        self.log = open(os.path.join(log_dir or self.profile, "chromium.log"), "wb")
        try:
            self.proc, self.port = _launch(extra_flags, self.profile, self.log)
        except Exception:
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        _procs.append(self)

    async def _browser(self):
        import websockets
        if self.browser_cdp is None:
            _, _, ver = E.http_json(self.port, "GET", "/json/version", timeout=30)
            ws = await websockets.connect(ver["webSocketDebuggerUrl"], max_size=2**24,
                                          ping_interval=None, open_timeout=60)
            self.conns.append(ws)
            self.browser_cdp = Cdp(ws)
            if self.shared and self.context is None:
                # disposed of when this connection goes, at the latest
                self.context = (await self.browser_cdp.call(
                    "Target.createBrowserContext", disposeOnDetach=True))["browserContextId"]
        return self.browser_cdp

    async def tab(self, url, timeout=90, domains=()):
        """Open url in a new tab; returns (target_id, cdp) once it has loaded.
        domains (e.g. "Network") are enabled before it loads: cdp.events has
        their events from the start."""
        import websockets
        b = await self._browser()
        ctx = {"browserContextId": self.context} if self.context else {}
        tid = (await b.call("Target.createTarget", url="about:blank", **ctx))["targetId"]
        ws = await websockets.connect("ws://127.0.0.1:%d/devtools/page/%s" % (self.port, tid),
                                      max_size=2**24, ping_interval=None, open_timeout=60)
        self.conns.append(ws)
        cdp = Cdp(ws)
        for d in ("Runtime",) + tuple(domains):
            await cdp.call(d + ".enable")
        await cdp.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while not (await cdp.eval("document.readyState + '|' + location.href") or
                   "").startswith("complete|" + url):
            if time.monotonic() > deadline:
                raise RuntimeError("%s did not load in %d s" % (url, timeout))
            await asyncio.sleep(0.2)
        return tid, cdp

    async def close_tab(self, tid):
        b = await self._browser()
        await b.call("Target.closeTarget", targetId=tid)

    async def close_conns(self):
        if self.context is not None:	# the shared Chromium's: close its tabs first
            await self.browser_cdp.call("Target.disposeBrowserContext", browserContextId=self.context)
            self.context = None
        for ws in self.conns:
            try:
                await ws.close()
            except Exception:  # noqa: BLE001 - the browser may be gone
                pass
        self.conns = []
        self.browser_cdp = None

    def stop(self):
        if self.shared:
            self._dispose()
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if self in _procs:
            _procs.remove(self)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def _dispose(self):
        """Close the shared Chromium's context of this Browser, and its tabs,
        over a connection of its own (stop() may be called in or out of an
        event loop, and the old connections may belong to a closed one)."""
        ctx, self.context, self.conns, self.browser_cdp = self.context, None, [], None
        if ctx is None:
            return
        err = []

        async def dispose():
            import websockets
            _, _, ver = E.http_json(self.port, "GET", "/json/version", timeout=30)
            async with websockets.connect(ver["webSocketDebuggerUrl"], max_size=2**24,
                                          ping_interval=None, open_timeout=60) as ws:
                try:
                    await Cdp(ws).call("Target.disposeBrowserContext", browserContextId=ctx)
                except RuntimeError as e:
                    # gone already: its connection closed (disposeOnDetach)
                    if "Failed to find context" not in str(e):
                        raise

        def run():
            try:
                asyncio.run(asyncio.wait_for(dispose(), 90))
            except Exception as e:  # noqa: BLE001 - raised below, in the caller's thread
                err.append(e)
        t = threading.Thread(target=run)
        t.start()
        t.join()
        if err:
            raise RuntimeError("disposing of the browser context: %r" % err[0])


# nginx's main context, for every test that runs one: @HTTP@ is what goes
# into http { } (server blocks, ...).  Nginx fills in @PREFIX@ and the rest.
NGINX_MAIN = r"""
worker_processes 1;
daemon off;
pid @PREFIX@/nginx.pid;
error_log @PREFIX@/error.log info;
user root root;
events { worker_connections 1024; }
http {
    log_format push '$connection $connection_requests $server_protocol "$request" $status';
    access_log @PREFIX@/access.log push;
    client_body_temp_path @PREFIX@/tmp/body;
    proxy_temp_path @PREFIX@/tmp/proxy;
    fastcgi_temp_path @PREFIX@/tmp/fastcgi;
    uwsgi_temp_path @PREFIX@/tmp/uwsgi;
    scgi_temp_path @PREFIX@/tmp/scgi;
@HTTP@
}
"""


def nginx_main(http):
    """A whole nginx configuration: NGINX_MAIN around http's directives."""
    return NGINX_MAIN.replace("@HTTP@", http)


def doc_nginx_block(path, marker, edits):
    """The nginx block that follows "<!-- marker: ... -->" in the document at
    path, with edits done: each (old, new, count) replaces old, which must be
    there exactly count times (so the test fails when the document changes
    under it)."""
    with open(path) as f:
        text = f.read()
    name = os.path.relpath(path, E.ROOT)
    m = re.search(r"<!-- %s:[^>]*-->\s*```nginx\n(.*?)```" % re.escape(marker), text, re.S)
    if not m:
        raise RuntimeError("no <!-- %s --> nginx block in %s" % (marker, name))
    conf = m.group(1)
    for old, new, count in edits:
        if conf.count(old) != count:
            raise RuntimeError("%s: %r found %d times, not %d" % (name, old, conf.count(old), count))
        conf = conf.replace(old, new)
    return conf


# nginx in front of pushd.  @LISTEN@, @PUSHD@, @CLIENT@ and @PROXY@ (the
# proxying directives of the variant) are filled in by Nginx.
NGINX_SERVER = r"""
    types { text/html html; application/javascript js; }
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    server {
        listen @LISTEN@;
        location = /t.html {
            default_type text/html;
            return 200 "<!doctype html><meta charset=utf-8><title>push client test</title>\n";
        }
        location = /push.js { root @CLIENT@; }
        location /push/ { root @CLIENT@; }
        location / {
            proxy_pass http://127.0.0.1:@PUSHD@;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_read_timeout 300s;
@PROXY@
        }
    }
"""

# What each variant does to pushd's transports.
PROXY = {
    # WebSocket proxied, nothing buffered: what docs/DEPLOY.md says.
    "good": """            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_buffering off;""",
    # nginx's default: hop-by-hop Upgrade/Connection are not passed on, so a
    # WebSocket handshake reaches pushd as a plain GET and never upgrades.
    "no-websocket": """            proxy_set_header Connection "";""",
    # No WebSocket, and a stream held back until a buffer fills: buffering on,
    # pushd's X-Accel-Buffering: no ignored, and the stream compressed (nginx
    # 1.22 passes an uncompressed buffered stream on as it reads it; its gzip
    # filter holds the bytes until the end or a full buffer).
    "buffering": """            proxy_set_header Connection "";
            proxy_buffering on;
            proxy_ignore_headers X-Accel-Buffering;
            gzip on;
            gzip_types text/event-stream;""",
}


class Nginx:
    """nginx on a free loopback port in front of pushd's port: one variant of
    PROXY in NGINX_SERVER, or conf (a whole configuration, e.g. nginx_main()'s,
    with the same @...@)."""

    def __init__(self, pushd_port, variant="good", port=None, conf=None):
        self.port = port or E.free_port()
        self.pushd_port = pushd_port
        self.prefix = tempfile.mkdtemp(prefix="e2e-nginx-")
        os.makedirs(os.path.join(self.prefix, "tmp"))
        self.conf_path = os.path.join(self.prefix, "nginx.conf")
        self.proc = None
        self.write(variant, conf)
        _procs.append(self)
        self.proc = subprocess.Popen([NGINX, "-p", self.prefix + "/", "-c", self.conf_path,
                                      "-e", os.path.join(self.prefix, "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited with %d:\n%s" % (self.proc.returncode, self.errors()))
            try:
                E.connect(self.port, 2).close()
                break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("nginx not answering in 30 s:\n" + self.errors())
            time.sleep(0.1)

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def write(self, variant, conf=None):
        text = conf if conf is not None else \
            nginx_main(NGINX_SERVER.replace("@PROXY@", PROXY[variant]))
        text = (text.replace("@LISTEN@", "127.0.0.1:%d" % self.port)
                .replace("@PUSHD@", str(self.pushd_port)).replace("@PREFIX@", self.prefix)
                .replace("@CLIENT@", CLIENT_DIR))
        with open(self.conf_path, "w") as f:
            f.write(text)
        self.variant = variant

    def reload(self, variant):
        """Switch to another variant: new connections get it, old ones keep theirs."""
        self.write(variant)
        r = subprocess.run([NGINX, "-p", self.prefix + "/", "-c", self.conf_path, "-t"],
                           capture_output=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("nginx -t: %s" % r.stderr.decode(errors="replace"))
        self.proc.send_signal(signal.SIGHUP)
        # The reload is done when a new worker has logged that it started.
        deadline = time.monotonic() + 30
        want = self.errors().count("start worker process") + 1
        while self.errors().count("start worker process") < want:
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not reload in 30 s:\n" + self.errors())
            time.sleep(0.1)

    def errors(self):
        try:
            with open(os.path.join(self.prefix, "error.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def access_log(self):
        try:
            with open(os.path.join(self.prefix, "access.log"), errors="replace") as f:
                return f.read().splitlines()
        except OSError:
            return []

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self in _procs:
            _procs.remove(self)
        shutil.rmtree(self.prefix, ignore_errors=True)


# In a page: start PushClients, record every event.  __pushStart(base, opts,
# n) makes n clients; __pushState() is what the tests read.
CLIENT_JS = r"""
window.__pushStart = async (base, opts, n) => {
  const m = await import('/push.js');
  const p = window.__push = window.__push || { log: [], clients: [] };
  for (let i = 0; i < (n || 1); i++) {
    const k = p.clients.length;
    const c = new m.PushClient(base, opts);
    p.clients.push(c);
    for (const t of ['message', 'gap', 'reset', 'open', 'close', 'error', 'role'])
      c.addEventListener(t, (e) => p.log.push({ k, type: t, id: e.id ?? null,
        transport: e.transport ?? null, reason: e.reason ?? null, leader: e.leader ?? null,
        relayed: !!e.relayed, fatal: !!e.fatal, probe: !!e.probe, firstId: e.firstId ?? null,
        nextId: e.nextId ?? null, data: e.data ?? null, ms: Math.round(performance.now()) }));
  }
  return p.clients.length;
};
window.__pushState = () => JSON.stringify({
  log: window.__push ? window.__push.log : [],
  clients: window.__push ? window.__push.clients.map((c) => ({ state: c.state,
    transport: c.transport, leader: c.leader, lastId: c.lastId })) : [],
});
"""


async def start_clients(cdp, base, opts, n=1):
    await cdp.eval(CLIENT_JS)
    return await cdp.eval("window.__pushStart(%s, %s, %d)" % (json.dumps(base), json.dumps(opts), n))


async def page_state(cdp):
    return json.loads(await cdp.eval("window.__pushState()") or "{}")


async def wait_page(cdp, cond, what, timeout=60):
    """Poll the page's state until cond(state) is true; returns the state.

    Raises RuntimeError naming what, with the last state, after timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        st = await page_state(cdp)
        if cond(st):
            return st
        if time.monotonic() > deadline:
            raise RuntimeError("no %s in %d s; clients %r, last events %r"
                               % (what, timeout, st.get("clients"), st.get("log", [])[-8:]))
        await asyncio.sleep(0.2)


async def wait_ids(cdp, sent, ks=(0,), timeout=60):
    """Wait until each client in ks delivered the last id of sent, or timeout s
    passed; returns the page's state, for check_once() to say what is wrong."""
    deadline = time.monotonic() + timeout
    while True:
        st = await page_state(cdp)
        if all(sent[-1] in message_ids(st, k) for k in ks) or time.monotonic() > deadline:
            return st
        await asyncio.sleep(0.2)


def message_ids(state, k=0):
    """The ids client k delivered, in order."""
    return [e["id"] for e in state["log"] if e["k"] == k and e["type"] == "message"]


def check_once(ids, want):
    """None if ids is exactly want (every id once, in order), else what is wrong."""
    if ids == want:
        return None
    seen = set()
    dups = sorted({i for i in ids if i in seen or seen.add(i)})
    missing = sorted(set(want) - set(ids))
    extra = sorted(set(ids) - set(want))
    order = ids != sorted(ids)
    return "missing %r, repeated %r, unexpected %r, out of order %s (%d ids)" % (
        missing[:10], dups[:10], extra[:10], order, len(ids))


def tap_once(tap, st, sent, what, k=0):
    """A TAP line: client k of the page's state st delivered sent, every id
    once, in order (else what is wrong)."""
    wrong = check_once(message_ids(st, k), sent)
    tap.ok(wrong is None, what, wrong)


def tap_no_gap(tap, st, what="no gap event (nothing was lost)"):
    gaps = [e for e in st["log"] if e["type"] == "gap"]
    tap.ok(not gaps, what, gaps)


def behind_nginx(tap, variant="good"):
    """What the client tests run in: pushd (heartbeats of 2 s, polls of 10 s),
    an nginx of variant in front of it, a Browser; returns (pd, ngx, browser)."""
    E.require(CHROMIUM, NGINX)
    pd = E.Pushd("--heartbeat", "2", "--poll-timeout", "10")
    ngx = Nginx(pd.port, variant)
    t = time.monotonic()
    browser = Browser(log_dir=pd.dir)
    tap.diag("chromium up in %.1f s" % (time.monotonic() - t))
    return pd, ngx, browser


def run(coro, timeout, *stops):
    """asyncio.run(coro) within timeout s; then each of stops is called,
    whatever happened."""
    try:
        asyncio.run(asyncio.wait_for(coro, timeout))
    finally:
        for stop in stops:
            stop()


class Publisher:
    """Publishes "seq=N" messages on one channel through /dev/push; ids() lists them."""

    def __init__(self, channel):
        self.channel = channel
        self.dev = E.Device()
        self.sent = []

    def burst(self, n, tag=""):
        for _ in range(n):
            i = self.dev.publish_id(self.channel, "seq=%d %s" % (len(self.sent), tag))
            self.sent.append(i)
        return self.sent[-n:]

    def close(self):
        self.dev.close()
