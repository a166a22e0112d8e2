# SPDX-License-Identifier: GPL-2.0
"""Shared helpers of the Python end-to-end tests of pushd.

Each test imports this module, calls require() (skip, exit 4, unless
build/bin/pushd and /dev/push exist), starts its own pushd on a free
loopback port with Pushd(...), drives it with real clients and reports
TAP lines through the Tap object.  Every wait here is bounded in time;
every pushd started here is stopped at exit, even on an exception.

The clients (http(), SseClient, RawWs, ...) live in e2eclients.py and
are re-exported here, so tests use E.http, E.RawWs and so on.  Third-party clients (python3-websockets, node-ws, curl, chromium) are
used by the tests themselves where "a client that is not ours" matters.
"""

import atexit
import ctypes
import fcntl
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2eclients import *  # noqa: E402,F401,F403 - the clients, as E.http, E.RawWs, ...

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PUSHD = os.environ.get("PUSHD", os.path.join(ROOT, "build", "bin", "pushd"))
DEVICE = os.environ.get("PUSH_DEVICE", "/dev/push")
KSFT_SKIP = 4


# --- TAP -----------------------------------------------------------------

class Tap:
    """Numbered TAP lines; done() exits 0 if nothing failed, 1 otherwise."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, name), flush=True)
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name), flush=True)
            if diag is not None:
                for line in str(diag).splitlines() or [""]:
                    print("#   " + line[:400], flush=True)
        return bool(cond)

    def eq(self, expected, seen, name):
        return self.ok(expected == seen, name,
                       "expected %r, seen %r" % (expected, seen))

    def skip(self, name, reason):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, reason), flush=True)

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed or self.n == 0 else 0)


def run_main(main):
    """Run main(tap); an exception is one more failed test, not a traceback exit."""
    tap = Tap()
    try:
        main(tap)
    except SystemExit:
        raise
    except BaseException:
        tap.ok(False, "test body raised", traceback.format_exc())
    finally:
        stop_all()
    tap.done()


def skip_all(reason):
    print("1..0 # SKIP " + reason, flush=True)
    sys.exit(KSFT_SKIP)


def require(*tools):
    """Skip the whole test unless pushd, the device and the named programs exist."""
    if not os.access(PUSHD, os.X_OK):
        skip_all("no pushd at %s (run make)" % PUSHD)
    if not os.path.exists(DEVICE):
        skip_all("no %s: run inside tools/vm/run" % DEVICE)
    for t in tools:
        if not os.access(t, os.X_OK):
            skip_all("no " + t)



def require_websockets():
    """python3-websockets (Debian's, for /usr/bin/python3), or skip the whole test."""
    try:
        import websockets
    except ImportError:
        skip_all("no python3-websockets for /usr/bin/python3")
    return websockets

# --- pushd ---------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_running = []


def stop_all():
    for p in list(_running):
        p.kill()


atexit.register(stop_all)


def _on_signal(signum, frame):
    stop_all()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)


class Pushd:
    """One pushd on 127.0.0.1:port, its log in a temporary file."""

    def __init__(self, *args, port=None, ready_timeout=30.0):
        self.args = list(args)
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="e2e-pushd-")
        self.log = os.path.join(self.dir, "pushd.log")
        self.proc = None
        # what a publisher shows: GET /pub/ of a private channel asks for it
        self.auth = {}
        if "--token-file" in self.args:
            with open(self.args[self.args.index("--token-file") + 1]) as f:
                self.auth = {"Authorization": "Bearer " + f.read().strip()}
        self.start(ready_timeout)

    def start(self, ready_timeout=30.0):
        cmd = [PUSHD, "--listen", "127.0.0.1:%d" % self.port,
               "--device", DEVICE] + self.args
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        logf.close()
        _running.append(self)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("pushd exited with %s at start:\n%s"
                                   % (self.proc.returncode, self.tail()))
            try:
                st, _, _ = http(self.port, "GET", "/stats", timeout=2)
                if st == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("pushd not answering /stats after %.0f s:\n%s"
                           % (ready_timeout, self.tail()))

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_kb(self):
        """VmRSS of pushd in kB, or None once it is gone."""
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def signal(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def stopped(self, timeout=20.0):
        """After SIGSTOP: wait until every thread of pushd is stopped (kill()
        returns before they are; a thread on another CPU runs on meanwhile).
        True once they are, False on timeout."""
        deadline = time.monotonic() + timeout
        task = "/proc/%d/task" % self.pid
        while time.monotonic() < deadline:
            try:
                states = []
                for tid in os.listdir(task):
                    with open("%s/%s/stat" % (task, tid)) as f:
                        states.append(f.read().rsplit(")", 1)[1].split()[0])
            except OSError:
                return False
            if states and all(s in ("T", "t") for s in states):
                return True
            time.sleep(0.01)
        return False

    def wait(self, timeout):
        """Exit status, or None if still running after timeout seconds."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL after timeout; returns the exit status."""
        if self.proc is None:
            return None
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        rc = self.wait(timeout)
        if rc is None:
            self.proc.kill()
            rc = self.wait(10)
        if self in _running:
            _running.remove(self)
        if rc != 0:
            self.report(rc)
        return rc

    def report(self, rc):
        """Print why pushd ended badly, and its last log lines, as TAP comments."""
        how = "killed by signal %d" % -rc if rc is not None and rc < 0 else "exit status %s" % rc
        print("# pushd (port %d) %s; last lines of its log:" % (self.port, how), flush=True)
        for line in self.tail(15).splitlines():
            print("#   " + line, flush=True)

    def kill(self):
        if self.proc is not None and self.alive():
            self.proc.kill()
            self.wait(10)
        elif self.proc is not None and self.proc.returncode not in (None, 0, -9):
            self.report(self.proc.returncode)
        if self in _running:
            _running.remove(self)

    def tail(self, n=30):
        try:
            with open(self.log, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return "(no log)"

    def stats(self):
        st, _, body = http(self.port, "GET", "/stats", timeout=10)
        if st != 200:
            raise RuntimeError("/stats answered %d" % st)
        return json.loads(body)

    def subscribers(self, channel):
        """{"longpoll":n,"sse":n,"websocket":n} from GET /pub/CHANNEL."""
        st, _, body = http(self.port, "GET", "/pub/" + channel, self.auth, timeout=10)
        if st != 200:
            return {}
        return json.loads(body).get("subscribers", {})

    def subscribe_each(self, channel, timeout=40.0):
        """One subscriber of each transport on channel, counted by pushd:
        (SseClient, RawWs, LongPoll)."""
        sse = SseClient(self.port, "/sub/" + channel)
        ws = RawWs(self.port, "/sub/" + channel)
        lp = LongPoll(self.port, "/sub/" + channel, timeout=timeout)
        self.wait_subscribers(channel, {"longpoll": 1, "sse": 1, "websocket": 1})
        return sse, ws, lp

    def wait_subscribers(self, channel, want, timeout=30.0):
        """Wait until GET /pub/CHANNEL counts at least want[transport] of each."""
        deadline = time.monotonic() + timeout
        seen = {}
        while time.monotonic() < deadline:
            try:
                seen = self.subscribers(channel)
            except (OSError, ValueError):
                seen = {}
            if all(seen.get(k, 0) >= v for k, v in want.items()):
                return seen
            time.sleep(0.1)
        raise RuntimeError("subscribers of %s: want %r, seen %r"
                           % (channel, want, seen))


def find_transport_counts(obj, path=""):
    """Find the open connections per transport in /stats.

    Accepts {"longpoll": n, "sse": n, "websocket": n} or the same keys
    holding objects with a "conns"/"connections"/"open"/"current" count;
    prefers a path that names connections.  Returns (path, {transport: n})
    or (None, None)."""
    found = []
    names = ("longpoll", "sse", "websocket")

    def count(v):
        if isinstance(v, int) and not isinstance(v, bool):
            return v
        if isinstance(v, dict):
            for k in ("conns", "connections", "open", "current", "active"):
                if isinstance(v.get(k), int):
                    return v[k]
        return None

    def walk(o, p):
        if isinstance(o, dict):
            if all(count(o.get(k)) is not None for k in names):
                found.append((p, {k: count(o[k]) for k in names}))
            for k, v in o.items():
                walk(v, p + "/" + str(k))

    walk(obj, path)
    found.sort(key=lambda pd: (0 if "conn" in pd[0] else 1, len(pd[0])))
    return found[0] if found else (None, None)


# --- /dev/push -----------------------------------------------------------

def _ioc(dirn, nr, size):
    return (dirn << 30) | (size << 16) | (ord("P") << 8) | nr


_PUB_FMT = "=QQQIIII64s"
PUSH_IOC_PUBLISH = _ioc(3, 1, struct.calcsize(_PUB_FMT))
_INFO_FMT = "=QQQQQII4Q"
PUSH_IOC_INFO = _ioc(2, 3, struct.calcsize(_INFO_FMT))


class Device:
    """/dev/push opened for writing; publish() writes, publish_id() uses the ioctl."""

    def __init__(self):
        self.fd = os.open(DEVICE, os.O_RDWR)

    def close(self):
        os.close(self.fd)

    def publish(self, channel, payload):
        if isinstance(payload, str):
            payload = payload.encode()
        buf = b"@" + channel.encode() + b" " + payload
        n = os.write(self.fd, buf)
        if n != len(buf):
            raise OSError("short write to %s: %d of %d" % (DEVICE, n, len(buf)))

    def publish_id(self, channel, payload):
        """Publish arbitrary bytes; returns the message id."""
        if isinstance(payload, str):
            payload = payload.encode()
        data = ctypes.create_string_buffer(payload, len(payload))
        arg = bytearray(struct.pack(_PUB_FMT, ctypes.addressof(data), 0, 0,
                                    len(payload), len(channel), 0, 0,
                                    channel.encode()))
        fcntl.ioctl(self.fd, PUSH_IOC_PUBLISH, arg, True)
        return struct.unpack(_PUB_FMT, bytes(arg))[1]

    def info(self):
        arg = bytearray(struct.calcsize(_INFO_FMT))
        fcntl.ioctl(self.fd, PUSH_IOC_INFO, arg, True)
        v = struct.unpack(_INFO_FMT, bytes(arg))
        return {"oldest_id": v[0], "next_id": v[1], "ring_size": v[2],
                "ring_used": v[3], "retained": v[4], "max_msg_size": v[5],
                "channels": v[6]}


def max_msg_size():
    try:
        with open("/sys/module/push/parameters/max_msg_size") as f:
            return int(f.read())
    except (OSError, ValueError):
        pass
    try:
        d = Device()
        try:
            return d.info()["max_msg_size"]
        finally:
            d.close()
    except OSError:
        return 65536


def own_address():
    """A non-loopback IPv4 address of this machine (the VM's with tools/vm/run
    --net: a client from there is not loopback to pushd), or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.0.2.2", 9))
            a = s.getsockname()[0]
    except OSError:
        return None
    return None if a.startswith("127.") else a


def unique_channel(prefix):
    return "%s-%d-%x" % (prefix, os.getpid(), int(time.monotonic() * 1000) & 0xffffff)


def check_ids(items, first_seq=0):
    """Check a list of decoded messages whose data is "seq=N ...".

    Returns None if ids strictly increase and the seqs are exactly
    first_seq, first_seq+1, ... in order, else a description of the first
    problem."""
    last_id = 0
    want = first_seq
    for m in items:
        if m.get("type") == "gap":
            return "gap object %r" % m
        mid = m.get("id")
        if not isinstance(mid, int) or mid <= last_id:
            return "id %r after %d" % (mid, last_id)
        last_id = mid
        seq = int(str(m.get("data", "")).split()[0].split("=")[1])
        if seq != want:
            return "seq %d where %d expected (id %d)" % (seq, want, mid)
        want += 1
    return None


if __name__ == "__main__":
    # e2elib.py sse FILE: the items of a captured event stream, one JSON a line.
    if len(sys.argv) == 3 and sys.argv[1] == "sse":
        with open(sys.argv[2], "rb") as f:
            for item in parse_sse(f.read()):
                print(json.dumps(item))
        sys.exit(0)
    sys.exit("usage: e2elib.py sse FILE")
