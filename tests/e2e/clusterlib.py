# SPDX-License-Identifier: GPL-2.0
"""A three-node push cluster inside the test VM, for the cluster tests.

  Cluster()   three nats-servers as one JetStream cluster on loopback ports
              (stores under a temporary folder), then for each device of
              /dev/push, /dev/push1, /dev/push2 (module parameter devices=3)
              a push-bridge (R3 stream) and a pushd; stopped at exit.
  Sub         one subscriber (SSE, WebSocket or long-poll) in a thread of
              its own, resuming with its last id on the next node when its
              node goes away.
  Publisher   one node's publisher thread: device writes and POST /pub
              alternately, each message retried until accepted.
  check()     every subscriber got every id once, in order, the same ids.

docs/CLUSTER.md has the design; every wait here is bounded and waits for
an event (a file, a port, a counter), never for a fixed time.
"""

import base64
import fcntl
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

import e2elib as E

BRIDGE = os.environ.get("PUSH_BRIDGE", os.path.join(E.ROOT, "build", "bin", "push-bridge"))
NATS = shutil.which("nats-server") or "/usr/bin/nats-server"
DEVICES = ["/dev/push", "/dev/push1", "/dev/push2"]
_ING_FMT = "=7Q2I"
PUSH_IOC_INGRESS_INFO = E._ioc(2, 9, struct.calcsize(_ING_FMT))


def require():
    E.require(BRIDGE, NATS)
    for d in DEVICES:
        if not os.path.exists(d + "-ingress"):
            E.skip_all("no %s-ingress (vm-params devices=3)" % d)


def ingress_info(dev):
    fd = os.open(dev, os.O_RDONLY)
    try:
        arg = bytearray(struct.calcsize(_ING_FMT))
        fcntl.ioctl(fd, PUSH_IOC_INGRESS_INFO, arg, True)
    finally:
        os.close(fd)
    v = struct.unpack(_ING_FMT, bytes(arg))
    return {"epoch": v[0], "next_seq": v[1], "acked": v[2], "queued": v[3],
            "bytes": v[4], "max_bytes": v[5], "cluster": v[7]}


def device_info(dev):
    fd = os.open(dev, os.O_RDONLY)
    try:
        arg = bytearray(struct.calcsize(E._INFO_FMT))
        fcntl.ioctl(fd, E.PUSH_IOC_INFO, arg, True)
    finally:
        os.close(fd)
    v = struct.unpack(E._INFO_FMT, bytes(arg))
    return {"next_id": v[1], "epoch": v[7]}


def pushd_cluster(pd):
    """The cluster section of a pushd's /stats ({} without one)."""
    st, _, body = E.http_json(pd.port, "GET", "/stats", timeout=10)
    return body.get("cluster", {}) if st == 200 and isinstance(body, dict) else {}


def wait_for(cond, timeout, what):
    """Poll cond() every 50 ms until true; RuntimeError after timeout s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise RuntimeError("timed out after %.0f s waiting for %s" % (timeout, what))


def proc_state(pid):
    """The state letter of /proc/PID/stat (S sleeping, T stopped), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def nats_request(port, subject, payload, timeout=10):
    """One NATS request over the text protocol (no client library in the
    VM): the reply's payload, decoded from JSON."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        f = s.makefile("rb")
        if not f.readline().startswith(b"INFO "):
            raise RuntimeError("no INFO from nats-server on port %d" % port)
        body = json.dumps(payload).encode()
        s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n'
                  b"SUB _INBOX.e2e 1\r\n"
                  b"PUB %s _INBOX.e2e %d\r\n%s\r\nPING\r\n" % (subject.encode(), len(body), body))
        while True:
            line = f.readline()
            if not line:
                raise RuntimeError("nats-server closed the connection")
            if line.startswith(b"PING"):
                s.sendall(b"PONG\r\n")
            elif line.startswith(b"-ERR"):
                raise RuntimeError("nats-server: %s" % line.decode().strip())
            elif line.startswith(b"MSG "):
                n = int(line.split()[-1])
                data = f.read(n + 2)[:n]
                return json.loads(data)
    finally:
        s.close()


def delete_msg(port, stream, seq):
    """Delete seq from the stream (JetStream API, no erase)."""
    return nats_request(port, "$JS.API.STREAM.MSG.DELETE." + stream,
                        {"seq": seq, "no_erase": True})


def stream_epoch(port, stream="PUSH", subject="push._cluster"):
    """The epoch in the stream's epoch record (docs/CLUSTER.md, "Epoch")."""
    r = nats_request(port, "$JS.API.STREAM.MSG.GET." + stream, {"last_by_subj": subject})
    if "message" not in r:
        raise RuntimeError("no epoch record in %s: %r" % (stream, r))
    data = base64.b64decode(r["message"]["data"]).decode()
    return int(data.split()[-1], 16)


class Proc:
    """A child process with its log file; started again with start()."""

    def __init__(self, name, argv, log):
        self.name, self.argv, self.log = name, argv, log
        self.p = None

    def start(self):
        with open(self.log, "ab") as f:
            self.p = subprocess.Popen(self.argv, stdout=f, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL)

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def send(self, sig):
        if self.alive():
            self.p.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Signal, wait; SIGKILL after timeout.  Returns the exit status."""
        if self.p is None:
            return None
        if self.alive():
            self.p.send_signal(sig)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return self.p.wait(10)

    def tail(self, n=15):
        try:
            with open(self.log, "rb") as f:
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


class Cluster:
    """Three nats-servers (one JetStream cluster), three bridges, three pushd."""

    def __init__(self, tap, pushd_args=("--heartbeat", "2", "--poll-timeout", "5"),
                 bridge_args=()):
        self.tap = tap
        self.dir = tempfile.mkdtemp(prefix="e2e-cluster-")
        # The stores outlive one test: the tests of a boot share the stream,
        # whose identity is the devices' epoch (a device takes one epoch per
        # module load).  Under /tmp, so each boot starts afresh.
        store = os.environ.get("CLUSTER_STORE", "/tmp/push-cluster-js")
        self.no_post = set()	# nodes whose publishers write instead of POST
        ports = [E.free_port() for _ in range(9)]
        self.client_ports, self.route_ports, self.mon_ports = ports[0:3], ports[3:6], ports[6:9]
        self.urls = ",".join("nats://127.0.0.1:%d" % p for p in self.client_ports)
        self.nats = []
        for i in range(3):
            routes = ",".join("nats://127.0.0.1:%d" % self.route_ports[j]
                              for j in range(3) if j != i)
            argv = [NATS, "-a", "127.0.0.1", "-p", str(self.client_ports[i]),
                    "-m", str(self.mon_ports[i]), "-n", "n%d" % i, "-js",
                    "-sd", os.path.join(store, "js%d" % i),
                    "--cluster_name", "pushtest",
                    "--cluster", "nats://127.0.0.1:%d" % self.route_ports[i],
                    "--routes", routes]
            self.nats.append(Proc("nats%d" % i, argv, os.path.join(self.dir, "nats%d.log" % i)))
        self.bridges = []
        for i, dev in enumerate(DEVICES):
            st = os.path.join(self.dir, "bridge%d.json" % i)
            argv = [BRIDGE, "--device", dev, "--nats", self.urls, "--replicas", "3",
                    "--status", st] + list(bridge_args)
            b = Proc("bridge%d" % i, argv, os.path.join(self.dir, "bridge%d.log" % i))
            b.status_file = st
            self.bridges.append(b)
        # pushd first, before its bridge gives the device the stream's epoch
        # (and cluster mode): pushd must take both from the device as they
        # change, not once at start.
        self.pushd = [E.Pushd("--device", dev, "--bridge-status", self.bridges[i].status_file,
                              *pushd_args) for i, dev in enumerate(DEVICES)]
        for n in self.nats:
            n.start()
        self.wait_nats()
        # All three at once: on a fresh store they race to create the stream
        # and decide its epoch (docs/CLUSTER.md, "Epoch"), and test_cluster
        # checks that they agree.
        for b in self.bridges:
            b.start()
        for i in range(3):
            self.wait_bridge(i)

    def nats_ready(self, i):
        try:
            st, _, _ = E.http(self.mon_ports[i], "GET", "/healthz", timeout=2)
            return st == 200
        except OSError:
            return False

    def wait_nats(self, which=(0, 1, 2), timeout=90):
        wait_for(lambda: all(self.nats_ready(i) for i in which), timeout,
                 "nats-servers %s healthy" % (list(which),))

    def status(self, i):
        try:
            with open(self.bridges[i].status_file) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def wait_bridge(self, i, timeout=90):
        """Wait until bridge i's status says running and it is alive."""
        def ok():
            if not self.bridges[i].alive():
                raise RuntimeError("bridge%d exited:\n%s" % (i, self.bridges[i].tail()))
            return self.status(i).get("state") == "running"
        wait_for(ok, timeout, "bridge%d running" % i)

    def restart_bridge(self, i, sig=signal.SIGKILL):
        rc = self.bridges[i].stop(sig)
        os.unlink(self.bridges[i].status_file) if os.path.exists(self.bridges[i].status_file) else None
        self.bridges[i].start()
        self.wait_bridge(i)
        return rc

    def settled(self):
        """All three devices at the same next id, nothing queued anywhere."""
        ids = [device_info(d)["next_id"] for d in DEVICES]
        queued = [ingress_info(d)["queued"] for d in DEVICES]
        return len(set(ids)) == 1 and not any(queued)

    def wait_settled(self, timeout=120):
        wait_for(self.settled, timeout, "devices at one id, ingress queues empty")
        return device_info(DEVICES[0])["next_id"] - 1

    def stop(self):
        for pd in self.pushd:
            pd.stop()
        for b in self.bridges:
            b.stop()
        for n in self.nats:
            n.stop()

    def diag_logs(self):
        for p in self.bridges + self.nats:
            self.tap.diag("--- %s (%s):\n%s" % (p.name, p.log, p.tail(12)))


# --- subscribers ---------------------------------------------------------

class Sub:
    """One subscriber of channel ch on node `node`, resuming from `since`.

    Stops after `want` messages or at its deadline; on a failure of its
    node (the pushd is gone) it moves to the next node with its last id,
    as a client behind a load balancer would."""

    def __init__(self, kind, cluster, node, ch, since, want, deadline_s):
        self.kind, self.cl, self.node, self.ch = kind, cluster, node, ch
        self.name = "%s@node%d" % (kind, node)
        self.last = since
        self.want = want
        self.items = []
        self.moves = []
        self.reconnects = 0
        self.errors = []
        self.deadline = time.monotonic() + deadline_s
        self.thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self.thread.start()

    def done(self):
        return len(self.items) >= self.want or time.monotonic() > self.deadline

    def take(self, obj):
        self.items.append(obj)
        if obj.get("type") != "gap" and isinstance(obj.get("id"), int):
            self.last = obj["id"]

    def pd(self):
        return self.cl.pushd[self.node]

    def run(self):
        first = True
        while not self.done():
            if not first:
                self.reconnects += 1
                if not self.pd().alive():
                    self.node = (self.node + 1) % 3
                    self.moves.append((self.last, self.node))
                time.sleep(0.05)
            first = False
            try:
                getattr(self, "session_" + self.kind)()
            except (OSError, EOFError, ValueError, RuntimeError) as e:
                if len(self.errors) < 20:
                    self.errors.append("%.1f node%d %s" % (time.monotonic(), self.node, e))

    def session_sse(self):
        sse = E.SseClient(self.pd().port, "/sub/" + self.ch,
                          {"Last-Event-ID": str(self.last)}, timeout=5)
        try:
            st, _ = sse.head(10)
            if st != 200:
                raise RuntimeError("SSE status %d" % st)
            while not self.done():
                ev = sse.next_event(30)
                if ev is None:
                    return
                if ev["event"] in ("message", "gap"):
                    self.take(json.loads(ev["data"]))
                elif ev["event"] == "close":
                    return
        finally:
            sse.close()

    def session_websocket(self):
        ws = E.RawWs(self.pd().port, "/sub/%s?since=%d" % (self.ch, self.last), timeout=5)
        try:
            while not self.done():
                m = ws.recv_json(30)
                if m is None:
                    return
                self.take(m)
        finally:
            ws.close()

    def session_longpoll(self):
        while not self.done():
            st, _, body = E.http_json(self.pd().port, "GET",
                                      "/sub/%s?since=%d" % (self.ch, self.last), timeout=40)
            if st != 200 or not isinstance(body, dict):
                raise RuntimeError("long-poll %d %r" % (st, body))
            for m in body.get("messages", []):
                self.take(m)


def subscribe_all(cluster, ch, since, want, deadline_s):
    """One subscriber of each transport on each node."""
    subs = [Sub(k, cluster, n, ch, since, want, deadline_s)
            for n in range(3) for k in ("sse", "websocket", "longpoll")]
    for n in range(3):
        cluster.pushd[n].wait_subscribers(ch, {"sse": 1, "websocket": 1})
    return subs


# --- publishers ----------------------------------------------------------

class Publisher:
    """Node `node` publishes seqs node, node+3, ... below n on channel ch:
    even ones by a write to its device, odd ones by POST /pub to its pushd
    (by a device write while that pushd is down), at about `rate` per
    second.  A publish that is refused (503: the ingress queue is full) is
    retried; every seq is accepted exactly once."""

    def __init__(self, cluster, node, ch, n, rate, pause=None):
        self.cl, self.node, self.ch, self.n, self.rate = cluster, node, ch, n, rate
        self.pause = pause		# threading.Event: wait while it is clear
        self.accepted = []
        self.in_post = False
        self.refused = 0
        self.errors = []
        self.fd = os.open(DEVICES[node], os.O_WRONLY)
        self.thread = threading.Thread(target=self.run, name="pub%d" % node, daemon=True)
        self.thread.start()

    def write(self, payload):
        buf = ("@%s %s" % (self.ch, payload)).encode()
        if os.write(self.fd, buf) != len(buf):
            raise OSError("short write")

    def post(self, payload):
        pd = self.cl.pushd[self.node]
        if self.node in self.cl.no_post or not pd.alive():
            self.write(payload)
            return
        self.in_post = True
        try:
            self.post_to(pd, payload)
        finally:
            self.in_post = False

    def post_to(self, pd, payload):
        deadline = time.monotonic() + 120
        while True:
            # (a POST cut by a crash may or may not have been accepted: a
            # fault that kills pushd first moves its node to no_post)
            st, _, body = E.http(pd.port, "POST", "/pub/" + self.ch, body=payload.encode(),
                                 timeout=10)
            if st == 201:
                return
            if st == 503 and time.monotonic() < deadline:
                self.refused += 1
                time.sleep(0.05)
                continue
            raise RuntimeError("POST /pub answered %d %r" % (st, body))

    def run(self):
        t0 = time.monotonic()
        k = 0
        try:
            for seq in range(self.node, self.n, 3):
                if self.pause is not None:
                    self.pause.wait(300)
                payload = "seq=%d" % seq
                if (seq // 3) % 2 == 0:
                    self.write(payload)
                else:
                    self.post(payload)
                self.accepted.append(seq)
                k += 1
                ahead = k / self.rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
        except (OSError, RuntimeError) as e:
            self.errors.append("seq %d: %s" % (seq, e))
        finally:
            os.close(self.fd)


def publish_all(cluster, ch, n, rate, pause=None):
    """Three publishers, `rate` messages per second in all."""
    return [Publisher(cluster, i, ch, n, rate / 3.0, pause) for i in range(3)]


# --- the check -----------------------------------------------------------

def seq_of(m):
    try:
        return int(str(m.get("data", "")).split("=")[1])
    except (IndexError, ValueError):
        return None


def check(tap, subs, n, label):
    """Every subscriber: n messages, seqs 0..n-1 once each, ids strictly
    increasing and contiguous, no gap; all subscribers the same id for the
    same seq; each node's seqs in the order it published them."""
    ref = None
    all_ok = True
    for s in subs:
        s.thread.join(max(1, s.deadline - time.monotonic() + 5))
        items = s.items
        problem = None
        gaps = [m for m in items if m.get("type") == "gap"]
        ids = [m.get("id") for m in items]
        seqs = [seq_of(m) for m in items]
        if gaps:
            problem = "gap %r" % gaps[0]
        elif len(items) != n:
            problem = "%d of %d messages" % (len(items), n)
        elif sorted(seqs) != list(range(n)):
            dup = len(seqs) - len(set(seqs))
            problem = "seqs not exactly 0..%d (%d duplicates)" % (n - 1, dup)
        elif any(b <= a for a, b in zip(ids, ids[1:])):
            problem = "ids not increasing"
        elif ids[-1] - ids[0] != n - 1:
            problem = "ids %d..%d not contiguous" % (ids[0], ids[-1])
        else:
            for node in range(3):
                mine = [q for q in seqs if q % 3 == node]
                if mine != sorted(mine):
                    problem = "node%d's messages out of its publish order" % node
            got = dict(zip(seqs, ids))
            if ref is None:
                ref = got
            elif got != ref:
                problem = "another id for some seq than %s's" % subs[0].name
        all_ok &= tap.ok(problem is None,
                         "%s: %s: every id once, in order, the same ids (%d msgs, %d reconnects%s)"
                         % (label, s.name, len(items), s.reconnects,
                            ", moved %s" % s.moves if s.moves else ""),
                         "%s; errors: %s" % (problem, s.errors[:5]))
    return all_ok


def run_case(tap, cluster, label, n, rate, fault=None, fault_at=0.5, deadline_s=240,
             pause=None):
    """Publish n messages on all nodes at `rate`; call fault() once half
    (fault_at) were accepted; check every subscriber.  Returns seconds."""
    since = cluster.wait_settled()
    ch = E.unique_channel("cl")
    subs = subscribe_all(cluster, ch, since, n, deadline_s)
    t0 = time.monotonic()
    pubs = publish_all(cluster, ch, n, rate, pause)
    if fault is not None:
        wait_for(lambda: sum(len(p.accepted) for p in pubs) >= int(n * fault_at) or
                 not any(p.thread.is_alive() for p in pubs), deadline_s,
                 "%s: %d messages accepted" % (label, int(n * fault_at)))
        fault(pubs)
    for p in pubs:
        p.thread.join(deadline_s)
    pub_s = time.monotonic() - t0
    errors = [e for p in pubs for e in p.errors]
    tap.ok(not errors and sum(len(p.accepted) for p in pubs) == n,
           "%s: %d messages accepted on three nodes (%d POSTs refused with 503 and retried)"
           % (label, n, sum(p.refused for p in pubs)), errors[:5])
    ok = check(tap, subs, n, label)
    total = time.monotonic() - t0
    tap.diag("%s: %d messages published in %.1f s, all delivered to 9 subscribers in %.1f s"
             % (label, n, pub_s, total))
    if not ok:
        cluster.diag_logs()
    return total
