"""Contract §8.2: GET /api/events/, the customer's Server-Sent Events, black box.

Every write that changes a device or queues a callback is an event (a row of
`events`, written in the write's transaction); the stream sends them in id
order, the caller's customer's only, and resumes after Last-Event-ID. The
streams are read here on raw sockets (the chunked body decoded by hand), so a
test sees exactly what went over the wire, can leave a stream unread, and
can hold a thousand of them.

Tests that stop servers or change their limits run servers of their own on
the session's database (SQLite file or PostgreSQL), as a second server
process sharing it would.
"""
import json
import os
import resource
import select
import signal
import socket
import statistics
import time
import uuid
from urllib.parse import quote, urlsplit

import pytest
import requests

from conftest import Client, Server, cli, new_key
from test_logins import Account
from test_picks import Receiver

STREAM = "/api/events/"


# ---------------------------------------------------------------- an SSE client

class Stream:
    """One GET /api/events/ on its own socket. head() reads the answer's head;
    next() the next SSE block, as {"id", "event", "data", "retry", "comments"}
    (data parsed as JSON when it is)."""

    def __init__(self, base, key=None, headers=None, path=STREAM, rcvbuf=None, connect=True):
        parts = urlsplit(base)
        self.addr = (parts.hostname, parts.port)
        self.headers = dict(headers or {})
        if key:
            self.headers["API_KEY"] = key
        self.path = path
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.raw = b""       # received, not yet de-chunked
        self.body = b""      # de-chunked, not yet parsed
        self.ended = False   # the last chunk came
        self.closed = False  # the server closed the connection
        self.status = None
        self.head_fields = {}
        self.received = 0
        if connect:
            self.connect()

    def connect(self):
        self.sock.settimeout(10)
        self.sock.connect(self.addr)
        lines = ["GET %s HTTP/1.1" % self.path, "Host: %s:%d" % self.addr]
        lines += ["%s: %s" % kv for kv in self.headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return self

    def close(self):
        self.sock.close()

    def _recv(self, timeout):
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(1 << 16)
        except socket.timeout:
            return False
        except ConnectionError:
            data = b""
        if not data:
            self.closed = True
            return False
        self.received += len(data)
        self.raw += data
        return True

    def head(self, timeout=10):
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.raw:
            if self.closed or time.monotonic() > deadline:
                raise AssertionError("no head: %r" % self.raw[:300])
            self._recv(deadline - time.monotonic())
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.head_fields = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
        if "content-length" in self.head_fields:   # an error: the whole body
            n = int(self.head_fields["content-length"])
            while len(self.raw) < n and not self.closed and time.monotonic() < deadline:
                self._recv(deadline - time.monotonic())
            self.body, self.raw, self.ended = self.raw[:n], self.raw[n:], True
        return self

    def _dechunk(self):
        while not self.ended:
            line_end = self.raw.find(b"\r\n")
            if line_end < 0:
                return
            size = int(self.raw[:line_end].split(b";")[0], 16)
            if len(self.raw) < line_end + 2 + size + 2:
                return
            self.body += self.raw[line_end + 2:line_end + 2 + size]
            self.raw = self.raw[line_end + 2 + size + 2:]
            if size == 0:
                self.ended = True

    def json(self):
        return json.loads(self.body)

    def next(self, timeout=10):
        """The next block, or None when the stream ended or `timeout` passed."""
        if self.status is None:
            self.head(timeout)
        deadline = time.monotonic() + timeout
        while True:
            self._dechunk()
            if b"\n\n" in self.body:
                text, self.body = self.body.split(b"\n\n", 1)
                return parse_block(text.decode())
            if self.ended or self.closed or time.monotonic() > deadline:
                return None
            self._recv(min(deadline - time.monotonic(), 1.0))

    def events(self, count, timeout=10):
        """The next `count` events (blocks with data), failing if they do not come."""
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            block = self.next(deadline - time.monotonic())
            assert block is not None, "%d of %d events came: %r" % (len(got), count, got)
            if "data" in block:
                got.append(block)
        return got

    def until(self, predicate, timeout=10):
        """Events up to and including the first one `predicate` takes."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            block = self.next(deadline - time.monotonic())
            assert block is not None, "no such event came; got %r" % [(b.get("event"), b.get("id")) for b in got]
            if "data" in block:
                got.append(block)
                if predicate(block):
                    return got

    def quiet(self, seconds):
        """Events that come within `seconds` (expected: none)."""
        got = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            block = self.next(deadline - time.monotonic())
            if block and "data" in block:
                got.append(block)
        return got


def parse_block(text):
    block = {"comments": []}
    for line in text.split("\n"):
        if line.startswith(":"):
            block["comments"].append(line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            block["data"] = block["data"] + "\n" + value if "data" in block else value
        else:
            block[name] = value
    if "data" in block:
        try:
            block["data"] = json.loads(block["data"])
        except ValueError:
            pass
    return block


def opened(base, key, **kw):
    """A stream with its head and first block read: returns (stream, that block)."""
    s = Stream(base, key, **kw).head()
    assert s.status == 200, s.body
    first = s.next()
    assert first is not None and first.get("retry") == "3000", first
    return s, first


# ---------------------------------------------------------------- helpers

def dev_path(device_id, suffix=""):
    return "/api/device/%s/%s" % (quote(device_id, safe=":"), suffix)


def new_device(api, location="L1"):
    device_id = "EV%s:%s" % (uuid.uuid4().hex[:4].upper(), uuid.uuid4().hex[:6].upper())
    r = api.post("/api/device/", {"device_id": device_id, "location": location})
    assert r.status_code == 201, r.text
    return device_id


def command(api, device_id, **fields):
    body = {"command": "pick", "line1": "L1"}
    body.update(fields)
    r = api.post(dev_path(device_id), body)
    assert r.status_code == 200, r.text
    return r.json()


def device_events(blocks, device_id):
    return [b for b in blocks if b.get("event") == "device" and b["data"]["device_id"] == device_id]


def ids(blocks):
    return [int(b["id"]) for b in blocks]


def rss_kib(pid):
    """The server's own memory: anonymous pages (heap, buffers, SQLite's page
    caches). Not VmRSS, which also counts the database file's pages the
    server reads through its memory map (--sqlite-mmap): those are the
    kernel's page cache, shared and given back under pressure."""
    with open("/proc/%d/status" % pid) as fh:
        for line in fh:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    raise AssertionError("no RssAnon")


@pytest.fixture
def own_servers(database):
    """Start servers of the test's own on the session's database."""
    started = []

    def start(*args, env=None):
        srv = Server(database, args, env=env)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


# ---------------------------------------------------------------- the endpoint

def test_the_stream_answers_event_stream_and_starts_now(server, api):
    device_id = new_device(api)   # before the stream: not sent
    s, first = opened(server.base, api.key)
    assert s.head_fields["content-type"] == "text/event-stream"
    assert s.head_fields["cache-control"] == "no-cache"
    assert s.head_fields["transfer-encoding"] == "chunked"
    # the first block: the reconnection delay and the id to come back with (no event)
    assert "data" not in first and "event" not in first and int(first["id"]) > 0
    command(api, device_id, line1="after")
    (ev,) = s.events(1)
    assert ev["event"] == "device" and int(ev["id"]) > int(first["id"])
    assert ev["data"] == api.get(dev_path(device_id)).json()
    s.close()


def test_credentials_as_every_endpoint_takes_them(server):
    acct = Account(server)
    token = acct.token().json()["access_token"]
    login = acct.session_login()
    assert login.status_code == 200, login.text
    cookie = "sessionid=%s" % login.cookies["sessionid"]
    for headers in ({"API-KEY": acct.key}, {"Authorization": "Token " + acct.key},
                    {"Authorization": "Bearer " + token}, {"Cookie": cookie},
                    {"api-key": login.json()["apikey"]}):
        s, _ = opened(server.base, None, headers=headers)
        s.close()
    for headers in ({}, {"API_KEY": "nope"}, {"Authorization": "Bearer nope"}, {"Cookie": "sessionid=nope"}):
        s = Stream(server.base, None, headers=headers).head()
        assert s.status == 401, (headers, s.body)
        assert s.json()["detail"] in ("Authentication credentials were not provided.", "Invalid token.")
        s.close()


def test_other_methods_and_head(server, api):
    assert api.post(STREAM, {}).status_code == 405
    assert api.delete(STREAM).status_code == 405
    r = api.head(STREAM)
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/event-stream" and r.content == b""
    assert requests.get(server.base + STREAM, timeout=10).status_code == 401


# ---------------------------------------------------------------- what becomes an event

def test_every_device_change_is_an_event(server, api):
    s, _ = opened(server.base, api.key)
    device_id = new_device(api, location="EV-LOC")
    (reg,) = s.events(1)
    assert reg["event"] == "device" and reg["data"]["device_id"] == device_id and reg["data"]["display"] is None

    command(api, device_id, line1="hello", nonce="n1")
    (cmd,) = s.events(1)
    assert cmd["data"]["display"]["line1"] == "hello"

    r = api.post(dev_path(device_id), {"statica": "static text"})
    assert r.status_code == 200, r.text
    (static,) = s.events(1)
    assert static["data"]["statics"]["statica"] == "static text"
    assert static["data"] == api.get(dev_path(device_id)).json()

    # an ack clears the display
    r = api.post(dev_path(device_id, "ack/"), {})
    assert r.status_code == 200, r.text
    (acked,) = s.until(lambda b: b["event"] == "device")
    assert acked["data"]["display"] is None

    # expiry: the worker removes the command within a second of its expiry
    command(api, device_id, line1="soon gone", seconds=1)
    (lit,) = s.events(1)
    assert lit["data"]["display"]["line1"] == "soon gone"
    (expired,) = s.events(1, timeout=10)
    assert expired["event"] == "device" and expired["data"]["display"] is None

    # a launch lights the device at the item's location
    order = api.post("/api/orders/", {"order_number": "EV-" + uuid.uuid4().hex[:8], "items": [
        {"SKU": "S-1", "ordered_quantity": 2, "warehouse_location": "EV-LOC"}]}).json()
    r = api.post("/api/orders/%d/launch/" % order["id"], {})
    assert r.status_code == 200, r.text
    (launched,) = device_events(s.until(lambda b: b["event"] == "device"), device_id)
    assert launched["data"]["display"]["command"] == "pick"
    assert launched["data"]["display"]["nonce"] == "item:%d" % order["shipments"][0]["items"][0]["id"]

    r = api.delete(dev_path(device_id))
    assert r.status_code == 204, r.text
    (gone,) = s.events(1)
    assert gone["event"] == "device_deleted"
    assert gone["data"] == {"device_id": device_id, "deviceid": device_id}

    everything = [reg, cmd, static, acked, lit, expired, launched, gone]
    assert ids(everything) == sorted(ids(everything)) and len(set(ids(everything))) == len(everything)
    s.close()


def test_callbacks_are_events_when_a_url_is_set(server):
    name = "ev-cb-" + uuid.uuid4().hex[:8]
    key = new_key(server.db, name)
    api = Client(server.base, key)
    receiver = Receiver().start()
    try:
        cli(server.db, "customer", "set-callback", name, receiver.url)
        device_id = new_device(api)
        s, _ = opened(server.base, key)
        command(api, device_id, nonce="pick-1", quantity=3)
        s.events(1)
        r = api.post(dev_path(device_id, "ack/"), {})
        assert r.status_code == 200, r.text
        got = s.until(lambda b: b["event"] == "callback")
        (cb,) = [b for b in got if b["event"] == "callback"]
        assert {k: cb["data"][k] for k in ("deviceid", "acknack", "nonce", "qty")} == {
            "deviceid": device_id, "acknack": "ack", "nonce": "pick-1", "qty": 3}
        # the very body the receiver gets
        receiver.wait_for(1)
        assert receiver.unique() == [cb["data"]]
        # and the device's own event, cleared
        rest = got if any(b["event"] == "device" for b in got) else got + s.events(1)
        assert device_events(rest, device_id)[-1]["data"]["display"] is None
        s.close()
    finally:
        receiver.stop()


def test_a_customer_without_a_callback_url_gets_no_callback_events(server, api):
    device_id = new_device(api)
    command(api, device_id, nonce="x")
    s, _ = opened(server.base, api.key)
    api.post(dev_path(device_id, "ack/"), {})
    (ev,) = s.events(1)
    assert ev["event"] == "device"
    assert s.quiet(0.7) == []
    s.close()


def test_only_the_callers_customer(server, api, other_api):
    mine, _ = opened(server.base, api.key)
    theirs, _ = opened(server.base, other_api.key)
    other_device = new_device(other_api)
    for i in range(3):
        command(other_api, other_device, line1="theirs %d" % i)
    my_device = new_device(api)
    (ev,) = mine.events(1)
    assert ev["data"]["device_id"] == my_device   # none of theirs came first
    assert [b["data"]["device_id"] for b in theirs.events(4)] == [other_device] * 4
    assert theirs.quiet(0.5) == []
    # an id of theirs as Last-Event-ID is no way in: a reset, then only mine
    resumed, first = opened(server.base, api.key, headers={"Last-Event-ID": "1"})
    assert first.get("event") == "reset"
    command(other_api, other_device, line1="more of theirs")
    command(api, my_device, line1="more of mine")
    (ev,) = resumed.events(1)
    assert ev["data"]["device_id"] == my_device
    for s in (mine, theirs, resumed):
        s.close()


# ---------------------------------------------------------------- resuming

def write_some(api, device_id, n, tag):
    for i in range(n):
        command(api, device_id, line1="%s %d" % (tag, i))


def test_last_event_id_resumes_missing_and_repeating_nothing(server, api):
    device_id = new_device(api)
    control, _ = opened(server.base, api.key)   # stays connected throughout
    s, _ = opened(server.base, api.key)
    write_some(api, device_id, 5, "a")
    seen = s.events(3)   # read three, leave two unread, go away
    s.close()
    write_some(api, device_id, 4, "b")   # while away
    everything = control.events(9)
    assert ids(everything) == sorted(ids(everything))

    again, first = opened(server.base, api.key, headers={"Last-Event-ID": seen[-1]["id"]})
    assert "event" not in first and first["id"] == seen[-1]["id"]
    rest = again.events(6)
    assert ids(seen + rest) == ids(everything)
    assert [b["data"]["display"]["line1"] for b in rest] == ["a 3", "a 4", "b 0", "b 1", "b 2", "b 3"]
    assert again.quiet(0.5) == []

    # the query parameter, for clients that cannot set headers
    q, _ = opened(server.base, api.key, path=STREAM + "?last_event_id=%s" % everything[1]["id"])
    assert ids(q.events(7)) == ids(everything[2:])
    # the first block's id is where a client that saw nothing comes back from
    quiet, first = opened(server.base, api.key)
    quiet.close()
    write_some(api, device_id, 2, "c")
    back, _ = opened(server.base, api.key, headers={"Last-Event-ID": first["id"]})
    assert [b["data"]["display"]["line1"] for b in back.events(2)] == ["c 0", "c 1"]
    for x in (control, again, q, back):
        x.close()


@pytest.mark.parametrize("given", ["0", "999999999999", "nonsense", "-5"])
def test_an_id_that_is_not_kept_begins_with_a_reset(server, api, given):
    device_id = new_device(api)
    newest = int(opened(server.base, api.key)[1]["id"])
    s, first = opened(server.base, api.key, headers={"Last-Event-ID": given})
    assert first["event"] == "reset" and int(first["id"]) == newest
    assert "reload" in first["data"]["detail"]
    command(api, device_id, line1="after the reset")
    (ev,) = s.events(1)
    assert ev["data"]["display"]["line1"] == "after the reset"
    s.close()


def test_an_id_older_than_the_retention_begins_with_a_reset(server, api):
    from conftest import db_exec
    device_id = new_device(api)
    write_some(api, device_id, 3, "old")
    s, first = opened(server.base, api.key)
    newest = int(first["id"])
    s.close()
    # the janitor removed everything up to the newest (as --keep-delivered would)
    db_exec(server.db, "DELETE FROM events WHERE id < %d AND customer_id = "
                       "(SELECT customer_id FROM events WHERE id = %d)" % (newest, newest))
    s, first = opened(server.base, api.key, headers={"Last-Event-ID": str(newest - 1)})
    assert first["event"] == "reset"
    s.close()
    s, first = opened(server.base, api.key, headers={"Last-Event-ID": str(newest)})
    assert "event" not in first
    s.close()


def test_events_written_by_a_second_server_process(server, api, own_servers):
    second = own_servers()
    api2 = Client(second.base, api.key)
    device_id = new_device(api)
    here, _ = opened(server.base, api.key)     # on the first process
    there, _ = opened(second.base, api.key)    # on the second
    started = time.monotonic()
    write_some(api2, device_id, 3, "from two")   # written by the second process
    got = here.events(3, timeout=5)
    assert time.monotonic() - started < 3
    assert [b["data"]["display"]["line1"] for b in got] == ["from two 0", "from two 1", "from two 2"]
    write_some(api, device_id, 2, "from one")
    mixed = got + here.events(2)
    assert ids(there.events(5)) == ids(mixed)
    # resume on the other process: nothing missed, nothing repeated, either way
    here.close()
    write_some(api2, device_id, 2, "away 2")
    write_some(api, device_id, 2, "away 1")
    back, _ = opened(second.base, api.key, headers={"Last-Event-ID": mixed[-1]["id"]})
    rest = back.events(4)
    assert ids(rest) == ids(there.events(4))
    assert [b["data"]["display"]["line1"] for b in rest] == ["away 2 0", "away 2 1", "away 1 0", "away 1 1"]
    assert back.quiet(0.5) == []
    there.close()
    back.close()


def test_concurrent_writers_on_two_processes_lose_no_event(server, own_servers):
    """Writes of one customer racing on two processes: every event reaches a
    stream on each process exactly once, in id order."""
    import threading
    second = own_servers()
    key = new_key(server.db)
    apis = [Client(server.base, key), Client(second.base, key)]
    devices = [new_device(apis[0]) for _ in range(4)]
    streams = [opened(server.base, key)[0], opened(second.base, key)[0]]
    errors = []

    def writer(k):
        try:
            for i in range(15):
                command(apis[k % 2], devices[k], line1="w%d-%d" % (k, i))
        except AssertionError as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for s in streams:
        got = s.events(60, timeout=20)
        assert ids(got) == sorted(set(ids(got)))
        for k in range(4):
            assert [b["data"]["display"]["line1"] for b in device_events(got, devices[k])] == \
                ["w%d-%d" % (k, i) for i in range(15)]
        assert s.quiet(0.5) == []
        s.close()


# ---------------------------------------------------------------- limits

def raise_open_files(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


def test_a_thousand_streams_while_gets_are_answered(server, api):
    raise_open_files(4096)
    device_id = new_device(api)
    streams = []
    try:
        for _ in range(1000):
            s = Stream(server.base, api.key, connect=False)
            s.sock.settimeout(10)
            s.sock.connect(s.addr)
            streams.append(s)
            s.sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAPI_KEY: %s\r\n\r\n" % (STREAM, api.key)).encode())
        for s in streams:
            s.head(timeout=20)
            assert s.status == 200
            assert s.next(timeout=10)["retry"] == "3000"
        # reads stay prompt beside them
        times = []
        for _ in range(50):
            t0 = time.monotonic()
            assert api.get(dev_path(device_id)).status_code == 200
            times.append(time.monotonic() - t0)
        assert statistics.median(times) < 0.05 and max(times) < 1.0, times
        # one write reaches all of them
        t0 = time.monotonic()
        command(api, device_id, line1="to a thousand")
        pending = {s.sock.fileno(): s for s in streams}
        while pending and time.monotonic() - t0 < 20:
            ready, _, _ = select.select(list(pending), [], [], 1.0)
            for fd in ready:
                s = pending[fd]
                block = s.next(timeout=0.01)
                if block and "data" in block:
                    assert block["data"]["display"]["line1"] == "to a thousand"
                    del pending[fd]
        assert not pending, "%d streams did not get the event" % len(pending)
        fanout = time.monotonic() - t0
        assert fanout < 10, fanout
    finally:
        for s in streams:
            s.close()


def test_a_stream_that_never_reads_does_not_grow_the_server(database, own_servers):
    # under ASan, freed memory is held back (its quarantine) rather than
    # reused: without one, the server's memory is what it keeps
    srv = own_servers("--writers", "2",
                      env={"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0"})
    key = new_key(database)
    api = Client(srv.base, key)
    devices = [new_device(api) for _ in range(50)]
    reader, _ = opened(srv.base, key)
    line = "x" * 200

    def rounds(first, count):
        """Every device gets a command (16 nonces, so a device holds 16 commands
        and its event is ~20 kB); the reader takes them all. Bytes of events."""
        volume = 0
        for n in range(first, first + count):
            entries = [{"deviceid": d, "command": "pick", "line1": line, "line2": line, "line3": line,
                        "line4": line, "line5": line, "nonce": "n%d" % (n % 16)} for d in devices]
            r = api.post("/api/devices/", entries)
            assert r.status_code == 200, r.text
            volume += len(r.content)
            assert len(reader.events(len(devices), timeout=30)) == len(devices)
        return volume

    rounds(0, 24)   # the server at its working size, the stacks full
    before = rss_kib(srv.proc.pid)
    stuck, _ = opened(srv.base, key, rcvbuf=4096)   # a client that never reads
    volume = rounds(24, 10)
    middle = rss_kib(srv.proc.pid)
    volume += rounds(34, 10)
    after = rss_kib(srv.proc.pid)
    assert volume > 15_000_000, volume
    # what it costs is bounded (the stream's buffer, and the page cache of its
    # thread's database connection when it reads behind the cache), and does
    # not grow with what it leaves unread
    assert after - middle < 2 * 1024, (before, middle, after, volume)
    with open("/proc/%d/maps" % srv.proc.pid) as fh:
        sanitized = "libasan" in fh.read()   # ASan keeps freed memory (its quarantine)
    assert sanitized or after - before < 16 * 1024, (before, middle, after, volume)
    # once it reads, it gets every event since it began, in order (from the database)
    got = stuck.events(20 * len(devices), timeout=60)
    assert ids(got) == sorted(set(ids(got)))
    assert [b["data"]["display"]["nonce"] for b in got[::len(devices)]] == ["n%d" % (n % 16) for n in range(24, 44)]
    assert stuck.quiet(0.5) == []
    stuck.close()
    reader.close()


def test_past_the_stream_limit_503(database, own_servers, monkeypatch):
    monkeypatch.setenv("STOCKROOM_MAX_STREAMS", "3")   # as --max-streams 3
    srv = own_servers()
    monkeypatch.delenv("STOCKROOM_MAX_STREAMS")
    key = new_key(database)
    streams = [opened(srv.base, key)[0] for _ in range(3)]
    over = Stream(srv.base, key).head()
    assert over.status == 503
    assert over.head_fields["retry-after"] == "1"
    assert over.json() == {"detail": "Service temporarily unavailable, try again later."}
    over.close()
    # other requests go on
    assert Client(srv.base, key).get("/api/device/").status_code == 200
    # a stream whose client left frees its place at once
    streams.pop().close()
    deadline = time.monotonic() + 3
    while True:
        s = Stream(srv.base, key).head()
        if s.status == 200:
            break
        s.close()
        assert time.monotonic() < deadline, "the place was not freed"
        time.sleep(0.1)
    s.close()
    for x in streams:
        x.close()


def test_sigterm_with_streams_open_stops_at_once(database, own_servers):
    srv = own_servers()
    key = new_key(database)
    streams = [opened(srv.base, key)[0] for _ in range(20)]
    stuck, _ = opened(srv.base, key, rcvbuf=4096)   # a client that does not read
    api = Client(srv.base, key)
    device_id = new_device(api)
    for i in range(30):   # fill the stuck one's window: events up to ~20 kB
        command(api, device_id, line1="x" * 250, line2="y" * 250, line3="z" * 250, nonce="n%d" % (i % 16))
    for s in streams:
        s.events(31)
    t0 = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(timeout=10) == 0
    took = time.monotonic() - t0
    assert took < 2.5, took
    for s in streams:   # each ended cleanly: the last chunk came
        assert s.next(timeout=2) is None and s.ended, s.raw[:100]
        s.close()
    stuck.close()
    log = srv.read_log()
    assert "ended 21 stream(s)" in log
    assert log.count("GET /api/events/ 200") == 21   # one access-log line each, at its end


def test_a_silent_stream_gets_keep_alive_comments(database, own_servers):
    """Every 15 s at least, even with --idle-timeout far shorter: the
    timeouts never cut a healthy stream."""
    srv = own_servers("--idle-timeout", "2")
    key = new_key(database)
    s, _ = opened(srv.base, key)
    t0 = time.monotonic()
    block = s.next(timeout=20)
    assert block is not None and block["comments"] == ["keep-alive"], block
    assert 13 < time.monotonic() - t0 < 16
    # still open and working after that
    api = Client(srv.base, key)
    new_device(api)
    assert s.events(1)[0]["event"] == "device"
    s.close()
