#!/usr/bin/python3
"""Usage: scripts/hostile.py BINARY

`make hostile`: a bounded attack benchmark. It starts `BINARY serve` on a
temporary SQLite file on loopback (extra `serve` flags come from the
environment variable HOSTILE_SERVE_ARGS, split as a shell would, e.g.
HOSTILE_SERVE_ARGS='--max-connections 20000'), creates two customers, A the
attacker and B the victim (B gets 50 orders of 10 items), and runs one attack
after another. Each figure is printed next to its baseline from the same run:

  1  baseline    S1 (GET one of B's orders, wrk -t1 -c32 for 5 s) and /healthz
                 from a fresh connection (5 tries, 5 s timeout each)
  2  slow heads  S1 and /healthz while 2,000 connections hold half a request
                 head and dribble one byte every 2 s; how many are still open
                 at the end (a server with a header deadline closes them)
  3  idle        S1 and /healthz while 10,000 idle keep-alive connections (one
                 GET /healthz answered on each) are held; how many got in
  4  big bodies  the server's RSS (baseline, peak, after) while 64 connections
                 without credentials each POST a 16 MiB body; what each got
  5  claim       POST with the key, Content-Length: 1 GiB and a 20-byte body:
                 the status and how long it took (no answer in 15 s = a hang)
  6  logins      B's small order POST (one sequential client, p50/p99) during
                 8 s of 48 parallel wrong-password logins (alice and random
                 usernames, half each); the logins' statuses
  7  big orders  B's small order POST while A POSTs back to back the largest
                 order the caps allow (ORDER_MAX_SHIPMENTS shipments,
                 ORDER_MAX_ITEMS items); A's count, statuses and mean latency
  8  GET writes  S1 beside 16 connections of query-string commands (GETs that
                 write a device's display), and beside 16 connections of plain
                 GETs of that device, as ratios of phase 1's S1

Progress goes to stderr. At the end a Markdown table (figure | baseline |
under attack), the command line and the date go to stdout. The figures are
measurements, not assertions: a phase that fails says why and the next one
runs. Exit status: 0 when every phase ran, 1 when one failed or was skipped
(out of time), 2 when the setup failed, 130 on Ctrl-C.

Bounded: every socket has a timeout or a deadline, every phase a deadline, a
phase that could end past RUN_BUDGET_S is skipped, and the server, wrk, and
every socket and thread the script started are stopped at the end, on a
failure and on Ctrl-C too. A server that dies during a phase is restarted
(on the same database) for the next one, and the table says so.

Needs wrk and python3-requests. Wall-clock figures from the client, on
loopback, on a machine the attacks share with the server: figures of one run
compare with each other, not with another machine's.
"""
import collections
import datetime
import errno
import os
import random
import resource
import selectors
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import requests

# The largest order the caps allow; the server refuses more with a 400.
ORDER_MAX_SHIPMENTS = 1000
ORDER_MAX_ITEMS = 5000

SEED_ORDERS = 50                  # B's orders of 10 items: S1's targets
WRK_SECONDS = 5
WRK_CONNECTIONS = 32
WRK_TIMEOUT = "5s"                # an S1 request slower than this is a wrk timeout
WRK_GRACE_S = 8                   # wrk still running this long after its duration is stuck
HEALTHZ_TRIES = 5
HEALTHZ_TIMEOUT_S = 5
SLOW_CONNECTIONS = 2000
SLOW_DRIBBLE_S = 2.0
SLOW_OPEN_S = 10                  # deadline to open the slow connections
SLOW_HOLD_S = 16                  # how long they are held before counting those still open
                                  # (past the server's header deadline, 10 s by default)
IDLE_CONNECTIONS = 10000
IDLE_OPEN_S = 20                  # deadline to open the idle ones and read their answers
BIG_POSTS = 64
BIG_BODY = 16 * 1024 * 1024
BIG_DEADLINE_S = 30
CLAIMED_LENGTH = 1024 ** 3
CLAIM_TIMEOUT_S = 15
SMALL_BASELINE_S = 3              # B's small order POSTs, nothing else running
SMALL_TIMEOUT_S = 10
LOGIN_CONNECTIONS = 48
LOGIN_SECONDS = 8
BIG_ORDER_SECONDS = 8
BIG_ORDER_TIMEOUT_S = 20
WRITER_CONNECTIONS = 16
CONNECT_WINDOW = 256              # raw connects in flight at once
STALL_S = 3                       # opening connections stops after this long without progress
RUN_BUDGET_S = 235                # a phase that could end later than this is skipped

DEVICE = "HOSTILE-D1"             # A's device, phase 8
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
HEALTHZ_KEEPALIVE = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"
SLOW_HEAD = b"GET /api/orders/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: "
SMALL_ITEMS = [{"SKU": "SMALL-%d" % i, "ordered_quantity": 1, "warehouse_location": "B-01-%d" % i}
               for i in range(2)]

T0 = time.monotonic()
ROWS = []                         # (figure, baseline, under attack), in the order printed
CHILDREN = []                     # wrk processes running, killed at the end whatever happens

# wrk's script: one kind of request per run (HOSTILE_MODE), status counts, one result line.
LUA = r"""
local mode = os.getenv("HOSTILE_MODE")
local key = os.getenv("HOSTILE_KEY") or ""
local device = os.getenv("HOSTILE_DEVICE") or ""
if key ~= "" then wrk.headers["API_KEY"] = key end
if mode == "login" then wrk.headers["Content-Type"] = "application/json" end
ids = {}
s2xx, s401, s429, sother = 0, 0, 0, 0
local threads = {}
local n = 0

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   math.randomseed(os.time() + tonumber(os.getenv("HOSTILE_NONCE") or "0"))
   if mode == "s1" then
      for line in io.lines(os.getenv("HOSTILE_IDS")) do
         if line ~= "" then ids[#ids + 1] = line end
      end
   end
end

local pause = tonumber(os.getenv("HOSTILE_DELAY_MS") or "0")

function delay()
   return pause
end

function request()
   n = n + 1
   if mode == "s1" then
      return wrk.format("GET", "/api/orders/" .. ids[math.random(#ids)] .. "/")
   elseif mode == "device_get" then
      return wrk.format("GET", "/api/device/" .. device .. "/")
   elseif mode == "qs_flash" then
      return wrk.format("GET", "/api/" .. device .. "/flash/L1~L2/L3/none/0g/")
   else -- login: alice, then a random username, and so on
      local user = "alice"
      if n % 2 == 0 then user = string.format("nobody-%d", math.random(1, 1000000000)) end
      return wrk.format("POST", "/api/user/login/", nil,
         '{"username": "' .. user .. '", "password": "wrong"}')
   end
end

function response(status, headers, body)
   if status >= 200 and status < 300 then s2xx = s2xx + 1
   elseif status == 401 then s401 = s401 + 1
   elseif status == 429 then s429 = s429 + 1
   else sother = sother + 1 end
end

function done(summary, latency, requests)
   local c = {s2xx = 0, s401 = 0, s429 = 0, sother = 0}
   for _, t in ipairs(threads) do
      for k, _ in pairs(c) do c[k] = c[k] + (t:get(k) or 0) end
   end
   local e = summary.errors
   io.write(string.format("HOSTILE requests=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f " ..
      "s2xx=%d s401=%d s429=%d sother=%d connect=%d read=%d write=%d timeout=%d\n",
      summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
      latency:percentile(99) / 1000, c.s2xx, c.s401, c.s429, c.sother,
      e.connect, e.read, e.write, e.timeout))
end
"""


class PhaseError(Exception):
    """A phase cannot go on; the message says why."""


def say(msg):
    print("[%6.1fs] %s" % (time.monotonic() - T0, msg), file=sys.stderr, flush=True)


def row(figure, baseline, attack):
    ROWS.append((figure, baseline, attack))
    say("  %s: %s | %s" % (figure, baseline, attack))


def on_term(signum, frame):
    raise KeyboardInterrupt


# ------------------------------------------------------------------ formatting

def num(x):
    return "{:,.0f}".format(x)


def pct(values, p):
    """The p-th percentile (nearest rank) of values, or None."""
    if not values:
        return None
    s = sorted(values)
    return s[max(0, min(len(s) - 1, int(len(s) * p / 100.0 + 0.999999) - 1))]


def counts(counter):
    """Counter → "401 ×60, reset ×4", most common first."""
    return ", ".join("%s ×%d" % (k, v) for k, v in counter.most_common()) or "none"


def fmt_wrk(r):
    """An S1 result: req/s and p99, plus what went wrong, if anything."""
    errors = ", ".join("%s %d" % (k, r[k]) for k in ("connect", "read", "write", "timeout") if r[k])
    bad = r["s401"] + r["s429"] + r["sother"]
    if r.get("stuck"):
        return "0 req/s (wrk never got a connection: killed after %d s)" % r["stuck"]
    text = ("%s req/s, p99 %.1f ms" % (num(r["rps"]), r["p99_ms"]) if r["requests"]
            else "0 req/s (no answer)")
    extra = (["non-2xx %d" % bad] if bad else []) + (["socket errors: " + errors] if errors else [])
    return text + (" (%s)" % "; ".join(extra) if extra else "")


def fmt_healthz(h):
    text = "%d/%d answered 200, max %.1f ms" % (h["ok"], HEALTHZ_TRIES, h["max_s"] * 1000)
    return text + ("; %s" % counts(h["why"]) if h["why"] else "")


def fmt_lat(lat, bad):
    if not lat:
        return "no request finished"
    text = "%.1f / %.1f ms (%d requests)" % (pct(lat, 50) * 1000, pct(lat, 99) * 1000, len(lat))
    return text + ("; not 201: %s" % counts(bad) if bad else "")


def describe(e):
    if isinstance(e, TimeoutError):
        return str(e) or "timeout"
    if isinstance(e, ConnectionResetError):
        return "reset by the server"
    return e.strerror if isinstance(e, OSError) and e.strerror else (str(e) or type(e).__name__)


# ------------------------------------------------------------------ raw HTTP

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_answer(buf):
    """(status, complete) of the HTTP answer at the start of buf; status is None
    until the status line is in."""
    status = None
    line_end = buf.find(b"\r\n")
    if line_end > 0:
        parts = buf[:line_end].split()
        if len(parts) >= 2 and parts[1].isdigit():
            status = int(parts[1])
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return status, False
    length = 0
    for line in buf[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length" and value.strip().isdigit():
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            return status, buf.endswith(b"0\r\n\r\n")
    return status, len(buf) >= end + 4 + length


def http_exchange(port, data, timeout):
    """Send data on a fresh connection and read one answer, all within timeout
    seconds: (status, seconds). Raises OSError (TimeoutError for no answer)."""
    start = time.monotonic()
    deadline = start + timeout
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except socket.timeout:
        raise TimeoutError("no connection in %g s" % timeout) from None
    with s:
        s.settimeout(max(0.001, deadline - time.monotonic()))
        s.sendall(data)
        buf = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer in %g s" % timeout)
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                raise TimeoutError("no answer in %g s" % timeout) from None
            if not chunk:
                raise ConnectionError("closed without an answer" if not buf else "closed mid-answer")
            buf += chunk
            status, complete = parse_answer(buf)
            if complete:
                return status, time.monotonic() - start


def probe_healthz(port):
    """GET /healthz from a fresh connection, HEALTHZ_TRIES times one after the other."""
    ok, worst, why = 0, 0.0, collections.Counter()
    for _ in range(HEALTHZ_TRIES):
        start = time.monotonic()
        try:
            status, _ = http_exchange(port, HEALTHZ, HEALTHZ_TIMEOUT_S)
            if status == 200:
                ok += 1
            else:
                why["status %s" % status] += 1
        except OSError as e:
            why[describe(e)] += 1
        worst = max(worst, time.monotonic() - start)
        time.sleep(0.05)
    return {"ok": ok, "max_s": worst, "why": why}


def no_time_wait(sock):
    """Close with a reset: no TIME_WAIT left behind to use up local ports."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class Conn:
    __slots__ = ("sock", "state", "out", "inbuf", "status", "answered", "events")

    def __init__(self, sock):
        self.sock, self.state, self.out, self.inbuf = sock, "connecting", b"", b""
        self.status, self.answered, self.events = None, False, 0


class ConnPool:
    """n raw connections to the server, all driven by one selector loop in one
    thread. Each connects (at most CONNECT_WINDOW connects in flight), sends
    head, then either dribbles one more byte every `dribble` seconds (a slow
    request head) or reads one answer and stays idle (keep-alive). The loop
    notices when the server closes one (EOF or reset)."""

    def __init__(self, port, n, head, dribble=None):
        self.addr, self.n, self.head, self.dribble = ("127.0.0.1", port), n, head, dribble
        self.sel = selectors.DefaultSelector()
        self.conns = []
        self.connecting = self.opened = self.answered = 0
        self.progress_at = time.monotonic()   # when a connect or an answer last completed
        self.open_error = None            # why no more connections could be made
        self.loop_error = None
        self.settled = threading.Event()  # every connection is open and idle, or closed
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="conn-pool", daemon=True)

    def start(self):
        self.thread.start()
        return self

    def wait_settled(self, seconds):
        """Wait until every connection is open and idle, or closed: None then.
        Give up after `seconds`, or when nothing has progressed for STALL_S
        (connects the server's full accept queue leaves unanswered), and
        stop opening more: why, then."""
        deadline = time.monotonic() + seconds
        while not self.settled.wait(0.1):
            now = time.monotonic()
            if now >= deadline or now - self.progress_at >= STALL_S:
                self.open_error = self.open_error or (
                    "%s attempted, %s still connecting when opening stopped (%s)"
                    % (num(len(self.conns)), num(self.connecting),
                       "%d s passed" % seconds if now >= deadline else "no progress for %d s" % STALL_S))
                return self.open_error
        return None

    def stats(self):
        states = collections.Counter(c.state for c in list(self.conns))
        closed_with = collections.Counter(str(c.status) for c in list(self.conns)
                                          if c.state == "closed" and c.status is not None)
        return {"attempted": len(self.conns), "opened": self.opened, "answered": self.answered,
                "open": states["open"], "closed": states["closed"], "failed": states["failed"],
                "connecting": states["connecting"], "closed_with": closed_with,
                "open_error": self.open_error, "loop_error": self.loop_error}

    def stop(self):
        self.stopping.set()
        self.thread.join(10)
        for c in self.conns:
            if c.state in ("connecting", "open"):
                c.state = "stopped"
                c.sock.close()
        self.sel.close()

    def _run(self):
        try:
            next_tick = time.monotonic() + (self.dribble or 0)
            next_check = 0.0
            while not self.stopping.is_set():
                self._open_more()
                for key, mask in self.sel.select(0.05):
                    self._event(key.data, mask)
                now = time.monotonic()
                if self.dribble and now >= next_tick:
                    next_tick = now + self.dribble
                    for c in self.conns:
                        if c.state == "open" and not c.out:
                            c.out = b"a"
                            self._flush(c)
                if now >= next_check:
                    next_check = now + 0.1
                    if self._all_settled():
                        self.settled.set()
        except Exception as e:                      # reported by stats(), never a hang
            self.loop_error = repr(e)
            self.settled.set()

    def _all_settled(self):
        if len(self.conns) < self.n and self.open_error is None:
            return False
        return all(c.state != "connecting" and not c.out and (self.dribble or c.answered)
                   for c in self.conns if c.state in ("connecting", "open"))

    def _open_more(self):
        while len(self.conns) < self.n and self.connecting < CONNECT_WINDOW and self.open_error is None:
            try:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            except OSError as e:                    # EMFILE: this process's descriptor limit
                self.open_error = "socket(): %s" % e.strerror
                return
            s.setblocking(False)
            no_time_wait(s)
            err = s.connect_ex(self.addr)
            if err not in (0, errno.EINPROGRESS):   # EADDRNOTAVAIL: out of local ports
                s.close()
                self.open_error = "connect(): %s" % os.strerror(err)
                return
            c = Conn(s)
            self.conns.append(c)
            self.connecting += 1
            c.events = selectors.EVENT_WRITE
            self.sel.register(s, c.events, c)

    def _event(self, c, mask):
        if c.state == "connecting":
            self.connecting -= 1
            err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self._close(c, "failed")
                return
            c.state, c.out = "open", self.head
            self.opened += 1
            self.progress_at = time.monotonic()
            self._flush(c)
            return
        if c.state != "open":
            return
        if mask & selectors.EVENT_READ:
            try:
                data = c.sock.recv(65536)
            except BlockingIOError:
                data = None
            except OSError:
                self._close(c, "closed")
                return
            if data == b"":
                self._close(c, "closed")
                return
            if data:
                c.inbuf = (c.inbuf + data)[-65536:] if c.answered else c.inbuf + data
                c.status, complete = parse_answer(c.inbuf)
                if complete and not c.answered:
                    c.answered = True
                    self.answered += 1
                    self.progress_at = time.monotonic()
        if mask & selectors.EVENT_WRITE:
            self._flush(c)

    def _flush(self, c):
        if c.out:
            try:
                sent = c.sock.send(c.out)
                c.out = c.out[sent:]
            except BlockingIOError:
                pass
            except OSError:
                self._close(c, "closed")
                return
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if c.out else 0)
        if events != c.events:
            c.events = events
            self.sel.modify(c.sock, events, c)

    def _close(self, c, state):
        self.sel.unregister(c.sock)
        c.sock.close()
        c.state = state


class RssSampler:
    """The server's VmRSS, every 100 ms, in a thread."""

    def __init__(self, pid):
        self.pid, self.samples, self.stopping = pid, [], threading.Event()
        self.thread = threading.Thread(target=self._run, name="rss", daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping.is_set():
            kib = rss_kib(self.pid)
            if kib is not None:
                self.samples.append((time.monotonic(), kib))
            self.stopping.wait(0.1)

    def stop(self):
        self.stopping.set()
        self.thread.join(5)


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


# ------------------------------------------------------------------ the server and wrk

class Server:
    """`stockroom serve` on a free loopback port; restarted when it has died."""

    def __init__(self, binary, db, work, extra):
        self.binary, self.db, self.extra = binary, db, extra
        self.log_path = os.path.join(work, "server.log")
        self.proc, self.port, self.log, self.deaths = None, None, None, []

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        self.port = free_port()
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "serve", "--listen", "127.0.0.1:%d" % self.port,
                                      "--db", self.db] + self.extra,
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PhaseError("the server exited with status %d at start: %s"
                                 % (self.proc.returncode, self.log_tail()))
            try:
                if http_exchange(self.port, HEALTHZ, 1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise PhaseError("the server did not answer /healthz within 15 s")

    def check(self, phase):
        """Note it when the server has died during the phase that just ran."""
        if self.proc.poll() is not None and not (self.deaths and self.deaths[-1][1] is self.proc):
            rc = self.proc.returncode
            how = "killed by signal %d" % -rc if rc < 0 else "exit status %d" % rc
            self.deaths.append(("%d (%s)" % (phase, how), self.proc))
            say("the server died during phase %d (%s); its log ends: %s" % (phase, how, self.log_tail()))

    def ensure(self):
        """Restart the server (on the same database) if it has died."""
        if self.proc.poll() is not None:
            say("restarting the server")
            self.log.close()
            self.start()

    def log_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(max(0, os.path.getsize(self.log_path) - 400))
                lines = f.read().decode(errors="replace").strip().splitlines()
                return " / ".join(lines[-3:]) or "(empty log)"
        except OSError:
            return "(no log)"

    def limits(self):
        try:
            with open("/proc/%d/limits" % self.proc.pid) as f:
                line = next(x for x in f if x.startswith("Max open files"))
            return "soft %s, hard %s" % tuple(line.split()[3:5])
        except (OSError, StopIteration, TypeError):
            return "unknown"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                say("the server did not stop within 15 s of SIGTERM; killing it")
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.log:
            self.log.close()


def wrk_start(ctx, mode, connections, seconds, key="", delay_ms=0):
    """wrk in the background; delay_ms paces each connection (a pause before
    each of its requests), so several connections make a chosen rate."""
    env = dict(os.environ, HOSTILE_MODE=mode, HOSTILE_KEY=key, HOSTILE_IDS=ctx.ids_file,
               HOSTILE_DEVICE=DEVICE, HOSTILE_NONCE=str(random.randrange(1 << 30)),
               HOSTILE_DELAY_MS=str(int(delay_ms)))
    proc = subprocess.Popen(["wrk", "-t1", "-c%d" % connections, "-d%ds" % seconds, "--timeout", WRK_TIMEOUT,
                             "--latency", "-s", ctx.lua, ctx.server.base + "/"],
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    proc.seconds = seconds
    CHILDREN.append(proc)
    return proc


def wrk_wait(proc):
    """wrk's result line as a dict, with rps; a PhaseError if there is none.
    wrk first tries one blocking connect(): when the server's accept queue is
    full that never returns, so a wrk still running WRK_GRACE_S after its
    duration is killed and reported as having got nothing (stuck)."""
    try:
        out, _ = proc.communicate(timeout=proc.seconds + WRK_GRACE_S)
    except subprocess.TimeoutExpired:
        r = dict.fromkeys(("requests", "seconds", "p50_ms", "p99_ms", "s2xx", "s401", "s429", "sother", "connect",
                           "read", "write", "timeout", "rps"), 0.0)
        r["stuck"] = proc.seconds + WRK_GRACE_S
        return r
    finally:
        stop_child(proc)
    for line in out.splitlines():
        if line.startswith("HOSTILE "):
            r = {k: float(v) for k, v in (f.split("=") for f in line.split()[1:])}
            r["rps"] = r["requests"] / r["seconds"] if r["seconds"] else 0.0
            return r
    raise PhaseError("wrk printed no result (status %s): %s" % (proc.returncode, out.strip()[-300:]))


def stop_child(proc):
    if proc.poll() is None:
        proc.kill()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    if proc in CHILDREN:
        CHILDREN.remove(proc)


def wrk_s1(ctx):
    return wrk_wait(wrk_start(ctx, "s1", WRK_CONNECTIONS, WRK_SECONDS, ctx.key_b))


def baseline_s1(ctx):
    """Phase 1's S1, measured now if phase 1 did not get it."""
    if getattr(ctx, "s1", None) is None:
        say("  no S1 baseline from phase 1: measuring it now")
        ctx.s1 = wrk_s1(ctx)
    return ctx.s1


def baseline_healthz(ctx):
    if getattr(ctx, "healthz", None) is None:
        say("  no /healthz baseline from phase 1: measuring it now")
        ctx.healthz = probe_healthz(ctx.server.port)
    return ctx.healthz


def baseline_small(ctx):
    """B's small order POSTs with nothing else running (phase 6's baseline)."""
    if getattr(ctx, "small", None) is None:
        ctx.small = time_small_orders(ctx, "B-BASE", time.monotonic() + SMALL_BASELINE_S)
    return ctx.small


def time_small_orders(ctx, tag, until):
    """B's small order POSTs, one after the other, until `until`: the seconds each
    took (answered or not) and a Counter of what was not a 201."""
    lat, bad = [], collections.Counter()
    with requests.Session() as s:
        s.headers["API_KEY"] = ctx.key_b
        i = 0
        while time.monotonic() < until:
            i += 1
            start = time.perf_counter()
            try:
                r = s.post(ctx.server.base + "/api/orders/", timeout=SMALL_TIMEOUT_S,
                           json={"order_number": "%s-%d" % (tag, i), "items": SMALL_ITEMS})
                if r.status_code != 201:
                    bad[str(r.status_code)] += 1
            except requests.RequestException as e:
                bad[type(e).__name__] += 1
            lat.append(time.perf_counter() - start)
    return lat, bad


# ------------------------------------------------------------------ setup

class Ctx:
    pass


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    say("RLIMIT_NOFILE of this script: soft %d -> %d, hard %d" % (soft, hard, hard))


def create_customer(binary, db, name):
    out = subprocess.run([binary, "customer", "create", name, "--db", db], check=True, timeout=30,
                         capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def setup(ctx, binary, work):
    db = os.path.join(work, "hostile.db")
    ctx.key_a = create_customer(binary, db, "A")
    ctx.key_b = create_customer(binary, db, "B")
    subprocess.run([binary, "user", "create", "A", "alice", "--db", db], input="secret\n", check=True,
                   timeout=30, capture_output=True, text=True)
    ctx.lua = os.path.join(work, "hostile.lua")
    with open(ctx.lua, "w") as f:
        f.write(LUA)
    ctx.server = Server(binary, db, work, shlex.split(os.environ.get("HOSTILE_SERVE_ARGS", "")))
    ctx.server.start()
    say("server: pid %d on port %d, extra flags %r; its RLIMIT_NOFILE: %s"
        % (ctx.server.proc.pid, ctx.server.port, ctx.server.extra, ctx.server.limits()))

    ids = []
    with requests.Session() as s:
        s.headers["API_KEY"] = ctx.key_b
        for n in range(SEED_ORDERS):
            number = "SEED-%d" % n
            shipments = [{"shipment_number": "%s-S%d" % (number, k),
                          "items": [{"name": "Widget %d" % i, "description": "seeded item", "SKU": "SKU-%d" % i,
                                     "UPC": "UPC-%d" % i, "ordered_quantity": 10, "quantity_fulfilled": 0,
                                     "warehouse_location": "Aisle 3", "device": None} for i in range(5)]}
                         for k in range(2)]
            r = s.post(ctx.server.base + "/api/orders/", json={"order_number": number, "shipments": shipments},
                       timeout=10)
            if r.status_code != 201:
                raise PhaseError("seeding B's orders: %d %s" % (r.status_code, r.text[:200]))
            ids.append(str(r.json()["id"]))
    ctx.ids_file = os.path.join(work, "order_ids")
    with open(ctx.ids_file, "w") as f:
        f.write("\n".join(ids) + "\n")
    with requests.Session() as s:
        s.headers["API_KEY"] = ctx.key_a
        r = s.post(ctx.server.base + "/api/device/", json={"device_id": DEVICE, "location": "H-1"}, timeout=10)
        if r.status_code != 201:
            raise PhaseError("registering A's device: %d %s" % (r.status_code, r.text[:200]))
    say("seeded: B has %d orders of 10 items, A has device %s" % (len(ids), DEVICE))


# ------------------------------------------------------------------ the phases

def phase_baseline(ctx):
    wrk_wait(wrk_start(ctx, "s1", WRK_CONNECTIONS, 1, ctx.key_b))   # warm-up: threads' database connections
    ctx.s1 = wrk_s1(ctx)
    ctx.healthz = probe_healthz(ctx.server.port)
    row("S1: GET one of B's orders (wrk -t1 -c%d, %d s)" % (WRK_CONNECTIONS, WRK_SECONDS), fmt_wrk(ctx.s1), "—")
    row("/healthz from a fresh connection (%d tries, %d s timeout)" % (HEALTHZ_TRIES, HEALTHZ_TIMEOUT_S),
        fmt_healthz(ctx.healthz), "—")


def server_sockets(pid):
    """How many sockets the server process holds (its listening one included)."""
    n = 0
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                n += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:")
            except OSError:
                pass
    except OSError:
        pass
    return n


def held_attack(ctx, pool, what, open_s, hold_s=0):
    """S1 and /healthz while pool's connections are held: (S1, healthz, the pool's
    stats at the end, plus held_s and accepted: sockets the server took)."""
    before = server_sockets(ctx.server.proc.pid)
    pool.start()
    try:
        pool.wait_settled(open_s)
        held_at = time.monotonic()
        st = pool.stats()
        accepted = max(0, server_sockets(ctx.server.proc.pid) - before)
        say("  %s: %d of %d opened, %d still open, %d accepted by the server%s"
            % (what, st["opened"], pool.n, st["open"], accepted,
               "; " + pool.open_error if pool.open_error else ""))
        s1 = wrk_s1(ctx)
        healthz = probe_healthz(ctx.server.port)
        while hold_s and time.monotonic() - held_at < hold_s:
            time.sleep(0.2)
        st = pool.stats()
        st["held_s"] = time.monotonic() - held_at
        st["accepted"] = accepted
        return s1, healthz, st
    finally:
        pool.stop()


def phase_slow_heads(ctx):
    pool = ConnPool(ctx.server.port, SLOW_CONNECTIONS, SLOW_HEAD, dribble=SLOW_DRIBBLE_S)
    base_s1, base_healthz = baseline_s1(ctx), baseline_healthz(ctx)
    s1, healthz, st = held_attack(ctx, pool, "slow-header connections", SLOW_OPEN_S, SLOW_HOLD_S)
    what = "%s slow-header connections held" % num(SLOW_CONNECTIONS)
    row("S1 while %s" % what, fmt_wrk(base_s1), fmt_wrk(s1))
    row("/healthz while %s" % what, fmt_healthz(base_healthz), fmt_healthz(healthz))
    row("slow-header connections (a byte every %g s) still open after %.0f s" % (SLOW_DRIBBLE_S, st["held_s"]),
        "—", "%s of %s (opened %s, of which the server accepted %s; closed by the server %s%s%s)" % (
            num(st["open"]), num(SLOW_CONNECTIONS), num(st["opened"]), num(st["accepted"]), num(st["closed"]),
            ", answered " + counts(st["closed_with"]) if st["closed_with"] else "",
            "; " + st["open_error"] if st["open_error"] else ""))


def idle_capacity():
    """How many idle connections this machine lets the script open: its
    descriptor limit and the local ports (minus those in use) allow."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        lo, hi = map(int, f.read().split())
    in_use = 0
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                in_use += sum(1 for _ in f) - 1
        except OSError:
            pass
    n = min(IDLE_CONNECTIONS, soft - 256, hi - lo + 1 - in_use - 1000)
    if n < IDLE_CONNECTIONS:
        say("  only %d idle connections possible here (RLIMIT_NOFILE soft %d, local ports %d-%d, %d sockets in use)"
            % (n, soft, lo, hi, in_use))
    return n


def phase_idle(ctx):
    n = idle_capacity()
    pool = ConnPool(ctx.server.port, n, HEALTHZ_KEEPALIVE)
    base_s1, base_healthz = baseline_s1(ctx), baseline_healthz(ctx)
    s1, healthz, st = held_attack(ctx, pool, "idle keep-alive connections", IDLE_OPEN_S)
    what = "%s idle keep-alive connections held" % num(n)
    row("S1 while %s" % what, fmt_wrk(base_s1), fmt_wrk(s1))
    row("/healthz while %s" % what, fmt_healthz(base_healthz), fmt_healthz(healthz))
    limited = "" if n == IDLE_CONNECTIONS else " (only %s possible on this machine)" % num(n)
    row("idle keep-alive connections: opened / accepted by the server / answered / still open at the end", "—",
        "%s / %s / %s / %s of %s%s%s" % (num(st["opened"]), num(st["accepted"]), num(st["answered"]), num(st["open"]),
                                         num(n), limited, "; " + st["open_error"] if st["open_error"] else ""))


def post_big_bodies(port, deadline):
    """BIG_POSTS connections without credentials each POST a BIG_BODY body as
    fast as the server takes it: a Counter of outcomes, and the body bytes sent."""
    head = ("POST /api/orders/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % BIG_BODY).encode()
    chunk = memoryview(b" " * (256 * 1024))
    sel = selectors.DefaultSelector()
    live, outcomes, sent_total = {}, collections.Counter(), 0

    def finish(c, outcome):
        if c["status"] is not None:
            outcome = "%d %s" % (c["status"], "before the body's end" if c["left"] else "after the body")
        outcomes[outcome] += 1
        sel.unregister(c["sock"])
        c["sock"].close()
        del live[c["sock"]]

    try:
        for _ in range(BIG_POSTS):
            s = socket.socket()
            s.setblocking(False)
            no_time_wait(s)
            s.connect_ex(("127.0.0.1", port))
            live[s] = {"sock": s, "connected": False, "head": head, "left": BIG_BODY, "inbuf": b"", "status": None}
            sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, live[s])
        while live and time.monotonic() < deadline:
            for key, mask in sel.select(0.1):
                c = key.data
                if c["sock"] not in live:
                    continue
                if not c["connected"]:
                    err = c["sock"].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        finish(c, "connect: " + os.strerror(err))
                        continue
                    c["connected"] = True
                if mask & selectors.EVENT_READ:
                    try:
                        data = c["sock"].recv(65536)
                    except BlockingIOError:
                        data = None
                    except OSError as e:
                        finish(c, describe(e))
                        continue
                    if data == b"":
                        finish(c, "closed without an answer")
                        continue
                    if data:
                        c["inbuf"] += data
                        c["status"], complete = parse_answer(c["inbuf"])
                        if complete:
                            finish(c, "an answer without a status line")
                            continue
                if mask & selectors.EVENT_WRITE:
                    try:
                        if c["head"]:
                            c["head"] = c["head"][c["sock"].send(c["head"]):]
                        elif c["left"]:
                            n = c["sock"].send(chunk[:min(len(chunk), c["left"])])
                            c["left"] -= n
                            sent_total += n
                        if not c["head"] and not c["left"]:
                            sel.modify(c["sock"], selectors.EVENT_READ, c)
                    except BlockingIOError:
                        pass
                    except OSError as e:
                        finish(c, "send: " + describe(e))
        for c in list(live.values()):
            finish(c, "no answer in %d s" % BIG_DEADLINE_S)
    finally:
        for s in list(live):
            s.close()
        sel.close()
    return outcomes, sent_total


def phase_big_bodies(ctx):
    pid = ctx.server.proc.pid
    sampler = RssSampler(pid)
    try:
        time.sleep(1)
        base = max(kib for _, kib in sampler.samples) if sampler.samples else rss_kib(pid)
        start = time.monotonic()
        outcomes, sent = post_big_bodies(ctx.server.port, start + BIG_DEADLINE_S)
        took = time.monotonic() - start
        time.sleep(2)
        after = rss_kib(pid)
    finally:
        sampler.stop()
    peak = max([kib for _, kib in sampler.samples] + [base or 0])
    mib = lambda kib: "%s MiB" % num(kib / 1024.0) if kib is not None else "gone (the server died)"
    figure = "server RSS, %d connections without credentials POSTing %d MiB each" % (BIG_POSTS, BIG_BODY >> 20)
    row(figure, mib(base), "peak %s, 2 s after %s" % (mib(peak), mib(after)))
    row("answers to those %d POSTs" % BIG_POSTS, "—", "%s; %s MiB of body sent in %.1f s" % (
        counts(outcomes), num(sent / 1048576.0), took))


def phase_claim(ctx):
    body = b'{"order_number": "x'
    body += b" " * (20 - len(body))
    head = ("POST /api/orders/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAPI_KEY: %s\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % (ctx.key_b, CLAIMED_LENGTH)).encode()
    start = time.monotonic()
    try:
        status, secs = http_exchange(ctx.server.port, head + body, CLAIM_TIMEOUT_S)
        result = "%s in %.1f ms" % (status, secs * 1000)
    except TimeoutError:
        result = "a hang: no answer in %d s" % CLAIM_TIMEOUT_S
    except OSError as e:
        result = "%s after %.1f ms" % (describe(e), (time.monotonic() - start) * 1000)
    row("POST with Content-Length: 1 GiB and a 20-byte body", "—", result)


def phase_logins(ctx):
    small = baseline_small(ctx)
    flood = wrk_start(ctx, "login", LOGIN_CONNECTIONS, LOGIN_SECONDS)
    try:
        end = time.monotonic() + LOGIN_SECONDS
        time.sleep(0.5)
        under = time_small_orders(ctx, "B-LOGIN", end - 0.2)
        logins = wrk_wait(flood)
    finally:
        stop_child(flood)
    row("B's small order POST p50 / p99 (one client) during %d parallel wrong-password logins" % LOGIN_CONNECTIONS,
        fmt_lat(*small), fmt_lat(*under))
    other = logins["s2xx"] + logins["sother"]
    errors = ", ".join("%s %d" % (k, logins[k]) for k in ("connect", "read", "write", "timeout") if logins[k])
    row("wrong-password logins in %d s: 401 / 429 / other" % LOGIN_SECONDS, "—",
        "%s / %s / %s (%.0f/s, p50 %.0f ms%s)" % (num(logins["s401"]), num(logins["s429"]), num(other),
                                                 logins["rps"], logins["p50_ms"],
                                                 "; socket errors: " + errors if errors else ""))


def largest_order_body():
    """The largest order the caps allow, as (bytes before the order number, bytes after)."""
    per = ORDER_MAX_ITEMS // ORDER_MAX_SHIPMENTS
    item = ('{"name": "Widget %d", "description": "largest order", "SKU": "SKU-%d", "UPC": "UPC-%d", '
            '"ordered_quantity": 10, "quantity_fulfilled": 0, "warehouse_location": "Aisle 3", "device": null}')
    items = "[" + ", ".join(item % (i, i, i) for i in range(per)) + "]"
    shipments = ", ".join('{"shipment_number": "S-%d", "items": %s}' % (k, items) for k in range(ORDER_MAX_SHIPMENTS))
    return b'{"order_number": "', ('", "shipments": [%s]}' % shipments).encode()


def phase_big_orders(ctx):
    small = baseline_small(ctx)
    head, tail = largest_order_body()
    stats = {"status": collections.Counter(), "lat": []}
    stop = threading.Event()

    def attacker():
        try:
            with requests.Session() as s:
                s.headers.update({"API_KEY": ctx.key_a, "Content-Type": "application/json"})
                i = 0
                while not stop.is_set():
                    i += 1
                    start = time.perf_counter()
                    try:
                        r = s.post(ctx.server.base + "/api/orders/", data=head + b"A-BIG-%d" % i + tail,
                                   timeout=BIG_ORDER_TIMEOUT_S)
                        code = r.status_code
                        stats["status"][str(code) if code in (201, 400) else "other"] += 1
                        if code not in (201, 400) and "first_other" not in stats:
                            stats["first_other"] = "%d %s" % (code, r.text[:100])
                    except requests.RequestException as e:
                        stats["status"]["other"] += 1
                        stats.setdefault("first_other", type(e).__name__)
                    stats["lat"].append(time.perf_counter() - start)
        except Exception as e:
            stats["error"] = repr(e)

    thread = threading.Thread(target=attacker, name="big-orders", daemon=True)
    thread.start()
    try:
        time.sleep(0.5)
        under = time_small_orders(ctx, "B-BIG", time.monotonic() + BIG_ORDER_SECONDS - 0.5)
    finally:
        stop.set()
        thread.join(BIG_ORDER_TIMEOUT_S + 5)
    if "error" in stats:
        raise PhaseError("A's client failed: " + stats["error"])
    row("B's small order POST p50 / p99 (one client) while A POSTs its largest orders back to back",
        fmt_lat(*small), fmt_lat(*under))
    lat = stats["lat"]
    st = stats["status"]
    row("A's largest orders (%s shipments, %s items, %.1f MiB) in %d s: requests, 201 / 400 / other, mean"
        % (num(ORDER_MAX_SHIPMENTS), num(ORDER_MAX_ITEMS), (len(head) + len(tail) + 12) / 1048576.0,
           BIG_ORDER_SECONDS), "—",
        "%d, %d / %d / %d, mean %s%s" % (len(lat), st["201"], st["400"], st["other"],
                                         "%.0f ms" % (sum(lat) / len(lat) * 1000) if lat else "—",
                                         "; first other: " + stats["first_other"] if "first_other" in stats else ""))


def phase_get_writes(ctx):
    with requests.Session() as s:
        s.headers["API_KEY"] = ctx.key_a
        r = s.get(ctx.server.base + "/api/%s/flash/L1~L2/L3/none/0g/" % DEVICE, timeout=10)
        if r.status_code != 200:
            say("  the query-string command answered %d: %s" % (r.status_code, r.text[:200]))
    base = baseline_s1(ctx)
    # the writing GETs as fast as they go, then plain GETs at the same rate
    # (wrk's per-connection pause), so the two compare like for like
    delay_ms = 0
    for mode, what in (("qs_flash", "query-string commands (GETs that write)"),
                       ("device_get", "plain GETs of A's device at the same rate")):
        side = wrk_start(ctx, mode, WRITER_CONNECTIONS, WRK_SECONDS + 1, ctx.key_a, delay_ms)
        try:
            time.sleep(0.5)
            s1 = wrk_s1(ctx)
            other = wrk_wait(side)
        finally:
            stop_child(side)
        ratio = " = %.0f %% of baseline" % (100.0 * s1["rps"] / base["rps"]) if base["rps"] else ""
        bad = other["s401"] + other["s429"] + other["sother"]
        if mode == "qs_flash" and other["rps"]:
            delay_ms = WRITER_CONNECTIONS * 1000.0 / other["rps"]
        row("S1 beside %d connections of %s" % (WRITER_CONNECTIONS, what), fmt_wrk(base),
            "%s%s; beside it %s req/s%s" % (fmt_wrk(s1), ratio, num(other["rps"]),
                                            " (non-2xx %d)" % bad if bad else ""))


# (title, function, the longest it can take in seconds: for the time budget)
PHASES = [
    ("baseline: S1 and /healthz", phase_baseline, 45),
    ("S1 and /healthz while %d slow-header connections are held" % SLOW_CONNECTIONS, phase_slow_heads, 60),
    ("S1 and /healthz while %d idle keep-alive connections are held" % IDLE_CONNECTIONS, phase_idle, 70),
    ("server memory while %d unauthenticated %d MiB POSTs" % (BIG_POSTS, BIG_BODY >> 20), phase_big_bodies,
     BIG_DEADLINE_S + 5),
    ("a claimed Content-Length of 1 GiB", phase_claim, CLAIM_TIMEOUT_S + 1),
    ("B's order POSTs during a login flood", phase_logins, SMALL_BASELINE_S + LOGIN_SECONDS + SMALL_TIMEOUT_S),
    ("B's order POSTs while A posts its largest orders", phase_big_orders, BIG_ORDER_SECONDS + BIG_ORDER_TIMEOUT_S),
    ("S1 beside writing GETs", phase_get_writes, 2 * (WRK_SECONDS + 3) + 5),
]


# ------------------------------------------------------------------ main

def print_table(binary, started):
    env = os.environ.get("HOSTILE_SERVE_ARGS")
    command = ("HOSTILE_SERVE_ARGS=%s " % shlex.quote(env) if env else "") + " ".join(
        shlex.quote(a) for a in [sys.executable] + sys.argv)
    try:
        rev = subprocess.run(["git", "-C", os.path.dirname(binary), "rev-parse", "--short", "HEAD"], timeout=5,
                             capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev = ""
    print()
    print("| figure | baseline | under attack |")
    print("| --- | --- | --- |")
    for figure, baseline, attack in ROWS:
        print("| %s | %s | %s |" % tuple(str(x).replace("|", "\\|") for x in (figure, baseline, attack)))
    print()
    print("Command: `%s`%s" % (command, " (commit %s)" % rev if rev else ""))
    print("Date: %s; %d cores; the whole run took %.0f s."
          % (started.isoformat(timespec="seconds"), os.cpu_count() or 0, time.monotonic() - T0))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[0])
    binary = os.path.abspath(sys.argv[1])
    if not shutil.which("wrk"):
        sys.exit("hostile: wrk is missing (apt-get install wrk)")
    signal.signal(signal.SIGTERM, on_term)
    started = datetime.datetime.now().astimezone()
    raise_nofile()
    work = tempfile.mkdtemp(prefix="stockroom-hostile.")
    ctx, status = Ctx(), 0
    ctx.server = None
    try:
        try:
            setup(ctx, binary, work)
        except (PhaseError, OSError, subprocess.SubprocessError, requests.RequestException) as e:
            say("setup failed: %s" % e)
            return 2
        for n, (title, run, longest) in enumerate(PHASES, 1):
            if time.monotonic() - T0 + longest > RUN_BUDGET_S:
                say("phase %d: %s: skipped, it could end past the %d s budget" % (n, title, RUN_BUDGET_S))
                row("phase %d: %s" % (n, title), "—", "skipped: out of time")
                status = 1
                continue
            say("phase %d: %s" % (n, title))
            try:
                ctx.server.ensure()
                run(ctx)
            except Exception as e:                   # the next phase runs
                why = "%s: %s" % (type(e).__name__, e) if not isinstance(e, PhaseError) else str(e)
                say("phase %d failed: %s" % (n, why))
                row("phase %d: %s" % (n, title), "—", "failed: %s" % why)
                status = 1
            ctx.server.check(n)
        if ctx.server.deaths:
            row("the server died during phase", "—", ", ".join(d for d, _ in ctx.server.deaths) +
                "; restarted on the same database for the next phase")
        print_table(binary, started)
        return status
    except KeyboardInterrupt:
        say("interrupted; stopping everything")
        return 130
    finally:
        for proc in list(CHILDREN):
            stop_child(proc)
        if ctx.server is not None:
            ctx.server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
