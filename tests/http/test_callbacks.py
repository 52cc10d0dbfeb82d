"""Contract §8.1, "Settings per customer" and "Delivery", black box.

`stockroom customer set-callback CUSTOMER URL [--events ...] [--legacy]
[--basic-auth USER:PASS | --bearer TOKEN]`: every flag, its errors, the
signing secret on the last line; then what a receiver gets: the signature,
the Authorization header, Big Block's legacy GET form, the families, an
Odoo-style receiver; and how delivery behaves: one customer's hanging or
slow receiver never delays another's callbacks (the fairness figures are
printed: run with -s to see them), one delivery in flight per customer, a
clean stop gives the deliveries in flight back, two servers never send one
attempt twice.

The servers, database and customers are test_picks.py's (a database of the
callback tests' own, a short backoff); the receivers here record every
request whole (method, path, headers, raw body, when it arrived), since the
signature is over the bytes sent.
"""
import hashlib
import hmac
import json
import re
import socket
import statistics
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote

import pytest

from conftest import BIN, cli, db_value, free_port
from test_picks import (DEV, DEV2, Customer, Receiver, ack, cb_database, expected, get_device, light, new_order,
                        path, register, start_server, wait_until, without_id)

CALLBACK_TIMEOUT_S = 5   # CALLBACK_TIMEOUT_MS in src/api/callbacks.h
SECRET_RE = re.compile(r"^[0-9a-f]{64}$")
ORDER_EVENTS = ["item_picked", "item_complete", "shipment_complete", "order_complete"]

assert cb_database and start_server   # fixtures of test_picks.py, used here by name


# ---------------------------------------------------------------- receivers

class Hook(Receiver):
    """test_picks' receiver, recording every request whole; it answers
    `answers` in turn (the last one from then on) after `delay` seconds."""

    def __init__(self, answers=(200,), delay=0.0, port=None):
        super().__init__(port)
        self.answers = list(answers)
        self.delay = delay
        self.busy = 0            # requests being answered now
        self.most_busy = 0
        self.released = threading.Event()   # ends every delay at once

    def start(self):
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def answer(self):
                arrived = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with hook.lock:
                    hook.received.append({"method": self.command, "path": self.path, "headers": self.headers,
                                          "body": body, "arrived": arrived})
                    status = hook.answers[min(len(hook.received), len(hook.answers)) - 1]
                    hook.busy += 1
                    hook.most_busy = max(hook.most_busy, hook.busy)
                if hook.delay:
                    hook.released.wait(hook.delay)
                with hook.lock:
                    hook.busy -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = answer

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.released.set()
        super().stop()

    def got(self):
        with self.lock:
            return list(self.received)

    def bodies(self):
        """The JSON bodies of the POSTs received, repeats included."""
        return [json.loads(r["body"]) for r in self.got() if r["method"] == "POST"]

    def wait_for(self, count, timeout=30):
        """`count` requests, GETs and repeats included."""
        wait_until(lambda: len(self.got()) >= count, timeout,
                   "%d requests at %s (have %d)" % (count, self.url, len(self.got())))


class Hang:
    """A receiver that accepts connections and never answers; `spans` holds
    [accepted, closed] (monotonic; closed None while open) a connection."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # a Hook may take the port next
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d/hook" % self.port
        self.held = []
        self.spans = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            span = [time.monotonic(), None]
            self.held.append(conn)
            self.spans.append(span)
            threading.Thread(target=self.hold, args=(conn, span), daemon=True).start()

    @staticmethod
    def hold(conn, span):
        """Read the request and wait for the sender to give up."""
        try:
            while conn.recv(4096):
                pass
        except OSError:
            pass
        span[1] = time.monotonic()

    def most_open(self, slack=0.5):
        """The most connections the sender had open at once, each counted from
        `slack` seconds after it was accepted: the sender closes one and opens
        the next in the same instant, which the threads here may see in
        either order."""
        events = []
        for accepted, closed in list(self.spans):
            if closed is None or closed > accepted + slack:
                events.append((accepted + slack, 1))
                if closed is not None:
                    events.append((closed, -1))
        most = n = 0
        for _, step in sorted(events):
            n += step
            most = max(most, n)
        return most

    def stop(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)   # wakes accept(), which close() alone does not
        except OSError:
            pass
        self.sock.close()
        for conn in self.held:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()


@pytest.fixture
def hooks():
    made = []

    def make(cls=Hook, **kw):
        made.append(cls(**kw).start() if cls is Hook else cls(**kw))
        return made[-1]

    yield make
    for h in made:
        h.stop()


class Subscriber(Customer):
    """A customer of the callback database configured by set-callback with
    flags; `secret` is what it printed on its last line."""

    def __init__(self, database, url=None, *flags):
        super().__init__(database)
        self.secret = None
        if url is not None:
            self.configure(url, *flags)

    def configure(self, url, *flags):
        res = cli(self.db, "customer", "set-callback", self.name, url, *flags)
        self.secret = res.stdout.strip().splitlines()[-1] if url else None
        return res

    def setting(self, column):
        """As text, NULL as "" (as psql shows it)."""
        return db_value(self.db, "SELECT COALESCE(CAST(%s AS TEXT), '') FROM customers WHERE name = '%s'"
                        % (column, self.name))

    def settings(self):
        return tuple(self.setting(c) for c in ("callback_url", "callback_events", "callback_legacy",
                                               "callback_auth", "callback_secret"))


@pytest.fixture
def subscribe(start_server, hooks, cb_database):
    """A server, a receiver and a customer set up by set-callback FLAGS to
    call it (at its url + suffix), with device DEV: (server, hook, customer,
    client)."""

    def make(*flags, suffix="", **hook_kw):
        srv = start_server()
        hook = hooks(**hook_kw)
        cust = Subscriber(cb_database, hook.url + suffix, *flags)
        api = cust.client(srv)
        register(api)
        return srv, hook, cust, api

    return make


def signed(secret, req):
    """Does req carry a valid X-Stockroom-Signature over its raw body?"""
    header = req["headers"].get("X-Stockroom-Signature")
    if not header or not secret:
        return False
    parts = dict(p.split("=", 1) for p in header.split(","))
    mac = hmac.new(secret.encode(), parts["t"].encode() + b"." + req["body"], hashlib.sha256).hexdigest()
    return abs(int(parts["t"]) - time.time()) < 120 and hmac.compare_digest(mac, parts["v1"])


def press(api, device_id=DEV, button=None):
    r = api.post(path(device_id, "press/"), {"button": button} if button else None)
    assert r.status_code == 200, r.text
    return r.json()


# ---------------------------------------------------------------- settings

def test_set_callback_stores_every_flag_and_prints_a_new_secret_each_time(cb_database):
    cust = Subscriber(cb_database)
    res = cust.configure("https://erp.example.com/hook")
    assert SECRET_RE.match(cust.secret), res.stdout
    assert "https://erp.example.com/hook" in res.stdout
    assert cust.settings() == ("https://erp.example.com/hook", "device", "0", "", cust.secret)

    first = cust.secret
    cust.configure("https://erp.example.com/hook", "--events", "orders,device", "--legacy",
                   "--basic-auth", "odoo:pa:ss word")
    assert SECRET_RE.match(cust.secret) and cust.secret != first
    # a password may hold colons and spaces; only the first colon splits
    assert cust.settings() == ("https://erp.example.com/hook", "device,orders", "1",
                               "Basic b2RvbzpwYTpzcyB3b3Jk", cust.secret)

    second = cust.secret
    cust.configure("http://127.0.0.1:9/x", "--events", "orders", "--bearer", "tok.EN-_~+/=")
    assert cust.secret not in (first, second)
    assert cust.settings() == ("http://127.0.0.1:9/x", "orders", "0", "Bearer tok.EN-_~+/=", cust.secret)

    # flags left out go back to their defaults; repeats are harmless
    cust.configure("http://127.0.0.1:9/x", "--events", "device,device")
    assert cust.settings() == ("http://127.0.0.1:9/x", "device", "0", "", cust.secret)


@pytest.mark.parametrize("flags,message", [
    (["--events", "shipments"], "--events takes a comma list of the families device and orders"),
    (["--events", ""], "--events takes"),
    (["--events", "device,"], "--events takes"),
    (["--events", "Device"], "--events takes"),
    (["--basic-auth", "nocolon"], "--basic-auth takes USER:PASS"),
    (["--basic-auth", ":password"], "--basic-auth takes USER:PASS"),
    (["--basic-auth", "user:pass\r\nX-Evil: 1"], "--basic-auth takes USER:PASS"),
    (["--basic-auth", "u:" + "p" * 2000], "too long"),
    (["--bearer", ""], "--bearer takes a token"),
    (["--bearer", "two words"], "--bearer takes a token"),
    (["--bearer", "t\nX-Evil: 1"], "--bearer takes a token"),
    (["--basic-auth", "u:p", "--bearer", "t"], "not both"),
    (["--unknown"], "see `stockroom customer set-callback --help`"),
])
def test_set_callback_refuses_bad_flags_and_changes_nothing(cb_database, flags, message):
    cust = Subscriber(cb_database, "http://127.0.0.1:9/hook", "--events", "orders", "--bearer", "old")
    before = cust.settings()
    res = cli(cb_database, "customer", "set-callback", cust.name, "http://127.0.0.1:9/new", *flags,
              check=False)
    assert res.returncode == 2, res
    assert message in res.stderr
    assert res.stdout == ""
    assert cust.settings() == before


def test_set_callback_refuses_a_bad_url_or_customer_and_changes_nothing(cb_database):
    cust = Subscriber(cb_database, "http://127.0.0.1:9/hook")
    before = cust.settings()
    res = cli(cb_database, "customer", "set-callback", cust.name, "ftp://x/", "--legacy", check=False)
    assert res.returncode == 1 and "http:// or https://" in res.stderr
    res = cli(cb_database, "customer", "set-callback", "no-such-" + cust.name, "http://x/", check=False)
    assert res.returncode == 1 and "no such customer" in res.stderr
    assert res.stdout == ""
    assert cust.settings() == before


def test_an_empty_url_clears_the_callback_and_prints_no_secret(cb_database):
    cust = Subscriber(cb_database, "http://127.0.0.1:9/hook", "--bearer", "t")
    secret = cust.secret
    # flags beside "" are a mistake: there is nothing for them to set
    res = cli(cb_database, "customer", "set-callback", cust.name, "", "--legacy", check=False)
    assert res.returncode == 2 and "clears the callback" in res.stderr
    res = cust.configure("")
    assert res.stdout.splitlines() == [
        "callback url of %s cleared: nothing more is queued for it (callbacks queued already are still "
        "delivered)" % cust.name]
    # the rest stays for what is queued already
    assert cust.settings() == ("", "device", "0", "Bearer t", secret)


def test_the_help_and_the_man_page_name_every_flag():
    res = subprocess.run([BIN, "customer", "set-callback", "--help"], capture_output=True, text=True)
    assert res.returncode == 0
    for flag in ("--events device,orders", "--legacy", "--basic-auth USER:PASS", "--bearer TOKEN",
                 "X-Stockroom-Signature", "last line"):
        assert flag in res.stdout
    page = subprocess.run([BIN, "manpage"], capture_output=True, text=True).stdout
    assert "\\fB\\-\\-basic\\-auth\\fR \\fIUSER:PASS\\fR | \\fB\\-\\-bearer\\fR \\fITOKEN\\fR" in page


# ---------------------------------------------------------------- what is sent

def test_every_callback_is_signed_with_the_newest_secret(subscribe):
    srv, hook, cust, api = subscribe()
    light(api, nonce="sig-1", quantity=1)
    ack(api)
    hook.wait_for(1)
    (req,) = hook.got()
    assert signed(cust.secret, req)
    assert req["headers"]["Content-Type"] == "application/json"
    assert "Authorization" not in req["headers"]
    assert json.loads(req["body"])["nonce"] == "sig-1"

    old = cust.secret
    cust.configure(hook.url)   # a new secret: what is sent from now on is signed with it
    light(api, nonce="sig-2", quantity=1)
    ack(api)
    hook.wait_for(2)
    req = hook.got()[1]
    assert signed(cust.secret, req) and not signed(old, req)
    # a tampered body does not verify
    assert not signed(cust.secret, dict(req, body=req["body"].replace(b"sig-2", b"sig-3")))


@pytest.mark.parametrize("flags,authorization", [
    (["--basic-auth", "odoo:s3cr:et"], "Basic b2RvbzpzM2NyOmV0"),
    (["--bearer", "abc.DEF-123"], "Bearer abc.DEF-123"),
])
def test_credentials_arrive_as_authorization(subscribe, flags, authorization):
    srv, hook, cust, api = subscribe(*flags)
    light(api, nonce="auth", quantity=1)
    ack(api)
    hook.wait_for(1)
    (req,) = hook.got()
    assert req["headers"]["Authorization"] == authorization
    assert signed(cust.secret, req)
    log = srv.read_log()
    assert authorization.split()[1] not in log and cust.secret not in log


def test_legacy_sends_acks_and_nacks_with_a_nonce_as_gets(subscribe):
    srv, hook, cust, api = subscribe("--legacy", "--events", "device,orders", "--bearer", "b", suffix="/")
    odd = "tote 7/ä?#%&.."
    light(api, nonce=odd, quantity=2)
    ack(api)                                              # GET .../<odd>/ack
    light(api, nonce="..", quantity=1)
    ack(api)                                              # a nonce of dots is encoded: %2E%2E
    light(api, nonce="late", quantity=1, seconds=1)       # expires: GET .../late/nack
    wait_until(lambda: get_device(api)["display"] is None, 5, "the expiry")
    light(api, command="flash", line1="no nonce")
    ack(api)                                              # no nonce: a JSON POST
    api.post(path(DEV), {"unsolicitedNonce": "idle-1"})
    press(api)                                            # a call: a JSON POST, nonce or not
    _, (item,) = new_order(api, 1)
    light(api, nonce="item:%d" % item["id"], quantity=1)
    ack(api)                                              # a GET, and three order events
    hook.wait_for(9)
    time.sleep(0.5)
    got = hook.got()
    gets = sorted(r["path"] for r in got if r["method"] == "GET")
    assert gets == sorted(["/hook/%s/ack" % quote(odd, safe=""), "/hook/%2E%2E/ack", "/hook/late/nack",
                           "/hook/item%%3A%d/ack" % item["id"]])
    for r in got:
        assert r["headers"]["Authorization"] == "Bearer b"
        assert signed(cust.secret, r), r["path"]
        if r["method"] == "GET":
            assert r["body"] == b"" and "Content-Type" not in r["headers"]
        else:
            assert r["path"] == "/hook/" and r["headers"]["Content-Type"] == "application/json"
    posts = {b.get("acknack") or b.get("order_event"): b for b in hook.bodies()}
    assert len(got) == 9
    assert set(posts) == {"ack", "call", "item_picked", "item_complete", "shipment_complete"}
    assert (posts["ack"]["nonce"], posts["call"]["nonce"]) == ("", "idle-1")


def test_the_legacy_nonce_is_percent_encoded_as_one_segment(subscribe):
    srv, hook, cust, api = subscribe("--legacy")
    nonces = ["a b", "x/y", "q?r#s", "50%", "ü", '{"moveid":42}', "~._-"]
    for n in nonces:
        light(api, nonce=n, quantity=1)
        ack(api)
    hook.wait_for(len(nonces))
    segments = [r["path"].split("/") for r in hook.got()]
    assert all(len(s) == 4 and s[:2] == ["", "hook"] and s[3] == "ack" for s in segments)
    assert sorted(unquote(s[2]) for s in segments) == sorted(nonces)
    assert sorted(s[2] for s in segments) == sorted(quote(n, safe="") for n in nonces)


def test_the_legacy_segments_go_on_the_path_before_a_query_string(subscribe):
    srv, hook, cust, api = subscribe("--legacy", suffix="?token=t1")
    for n in ("n-1", "..", "."):
        light(api, nonce=n, quantity=1)
        ack(api)
    hook.wait_for(3)
    assert sorted(r["path"] for r in hook.got()) == sorted([
        "/hook/n-1/ack?token=t1", "/hook/%2E%2E/ack?token=t1", "/hook/%2E/ack?token=t1"])


def acknowledge_a_launched_order(api):
    """One order of one item (2 units) on DEV, launched and picked: the device
    ack and all four order events."""
    r = api.post("/api/orders/", {"order_number": "EV-1", "items": [{"SKU": "S", "ordered_quantity": 2,
                                                                       "device": DEV}]})
    assert r.status_code == 201, r.text
    assert api.post("/api/orders/EV-1/launch/").json()["status"] == "launched"
    ack(api)
    return r.json()


@pytest.mark.parametrize("events", ["device", "orders", "device,orders"])
def test_events_choose_the_families_sent(subscribe, events):
    srv, hook, cust, api = subscribe("--events", events)
    order = acknowledge_a_launched_order(api)
    item = order["shipments"][0]["items"][0]
    want = (1 if "device" in events else 0) + (4 if "orders" in events else 0)
    hook.wait_for(want)
    time.sleep(1)   # anything more would be here by now
    bodies = sorted(hook.bodies(), key=lambda b: b["id"])
    assert len(bodies) == want
    acks = [b for b in bodies if "acknack" in b]
    events_sent = [b for b in bodies if "order_event" in b]
    if "device" in events:
        assert without_id(acks) == without_id([expected(DEV, "item:%d" % item["id"], 2)])
    assert [e["order_event"] for e in events_sent] == (ORDER_EVENTS if "orders" in events else [])
    if events_sent:
        assert events_sent[0] == dict(events_sent[0], nonce="item:%d" % item["id"], order_number="EV-1",
                                      SKU="S", qty=2, quantity_fulfilled=2, ordered_quantity=2)
        assert events_sent[2]["nonce"] == "shipment:%d" % order["shipments"][0]["id"]
        assert events_sent[3]["nonce"] == "order:%d" % order["id"]


def test_an_odoo_style_receiver_records_the_picks(start_server, cb_database):
    """The Odoo add-on lights each stock move with nonce '{"moveid": N}' and
    reads acknack, nonce (parsed back as JSON) and qty from the callback."""
    picks, lock = {}, threading.Lock()

    class Odoo(BaseHTTPRequestHandler):
        def do_POST(self):
            data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if data.get("acknack") == "ack":
                move = json.loads(data.get("nonce"))["moveid"]
                with lock:
                    picks[move] = picks.get(move, 0) + int(data.get("qty") or 0)
            body = b'{"status": "success"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    odoo = ThreadingHTTPServer(("127.0.0.1", free_port()), Odoo)
    threading.Thread(target=odoo.serve_forever, daemon=True).start()
    try:
        srv = start_server()
        cust = Subscriber(cb_database, "http://127.0.0.1:%d/external_rpc/receive" % odoo.server_port)
        api = cust.client(srv)
        register(api)
        register(api, DEV2)
        for device, move, qty in ((DEV, 41, 3), (DEV2, 42, 5), (DEV, 43, 1)):
            light(api, device, command="flash", line2="PICK", nonce='{"moveid":%d}' % move, quantity=qty,
                  color="r", seconds=30)
            ack(api, device, body={"quantity": qty} if move == 42 else None)
        light(api, DEV2, nonce='{"moveid":44}', quantity=2, seconds=1)   # expires: a nack, no pick
        wait_until(lambda: len(picks) == 3, 30, "three picks in Odoo")
        time.sleep(2)
        assert picks == {41: 3, 42: 5, 43: 1}
    finally:
        odoo.shutdown()
        odoo.server_close()


# ---------------------------------------------------------------- delivery

def test_retries_repeat_the_id_until_a_2xx(subscribe):
    srv, hook, cust, api = subscribe(answers=(500, 302, 404, 204))   # a redirect is not followed: a failure
    light(api, nonce="retry", quantity=1)
    ack(api)
    hook.wait_for(4)
    time.sleep(1)
    got = hook.got()
    assert len(got) == 4
    assert len({json.loads(r["body"])["id"] for r in got}) == 1
    assert all(signed(cust.secret, r) for r in got)
    # spaced by the backoff (test_picks' 100,400 ms): 100, 200, 400
    gaps = [b["arrived"] - a["arrived"] for a, b in zip(got, got[1:])]
    assert all(g >= 0.09 for g in gaps), gaps
    assert db_value(cust.db, "SELECT attempts FROM callbacks c JOIN customers u ON u.id = c.customer_id "
                             "WHERE u.name = '%s' AND c.delivered IS NOT NULL" % cust.name) == "4"
    log = srv.read_log()
    assert "HTTP 500" in log and "HTTP 404" in log and hook.url not in log and "retry" not in log


def test_one_delivery_in_flight_per_customer_many_customers_at_once(start_server, hooks, cb_database):
    srv = start_server()
    slow = [hooks(delay=0.4) for _ in range(3)]
    custs = [Subscriber(cb_database, h.url) for h in slow]
    apis = [c.client(srv) for c in custs]
    for api in apis:
        register(api)
    started = time.monotonic()
    for i in range(4):
        for api in apis:
            light(api, nonce="par-%d" % i, quantity=1)
            ack(api)
    for h in slow:
        h.wait_for(4)
    elapsed = time.monotonic() - started
    # each customer's four, one after the other; the customers side by side
    assert [h.most_busy for h in slow] == [1, 1, 1]
    assert elapsed < 3 * 4 * 0.4, elapsed
    for h in slow:
        times = sorted(r["arrived"] for r in h.got())
        assert all(b - a >= 0.39 for a, b in zip(times, times[1:])), times


def fairness_round(api_b, hook_b, n):
    """Ack on B and measure the time from the ack's 200 to the callback's arrival."""
    light(api_b, nonce="fair-%d" % n, quantity=1)
    ack(api_b)
    acked = time.monotonic()
    wait_until(lambda: len(hook_b.got()) > n, 30, "B's callback %d" % n)
    return max(0.0, hook_b.got()[n]["arrived"] - acked)


def test_a_hanging_or_slow_receiver_never_delays_another_customer(start_server, hooks, cb_database):
    """A's receiver accepts and never answers, C's answers after 30 s (past the
    attempt's timeout), B's is healthy: B's callbacks arrive at once while A's
    and C's hang, and A and C keep being retried (with one delivery each in
    flight at most)."""
    srv = start_server()
    hang, slow, healthy = hooks(Hang), hooks(delay=30), hooks()
    a, c, b = (Subscriber(cb_database, h.url) for h in (hang, slow, healthy))
    api_a, api_c, api_b = (x.client(srv) for x in (a, c, b))
    for api in (api_a, api_c, api_b):
        register(api)
    delays = []
    for n in range(20):
        for api in (api_a, api_c):   # more for A and C, queued before B's each time
            light(api, nonce="stuck-%d" % n, quantity=1)
            ack(api)
        delays.append(fairness_round(api_b, healthy, n))
    print("\nfairness: B's delay from ack to callback over %d acks while A hangs and C takes 30 s: "
          "median %.1f ms, max %.1f ms" % (len(delays), 1000 * statistics.median(delays), 1000 * max(delays)))
    assert max(delays) < 2.0, delays
    assert without_id(healthy.unique()) == without_id([expected(DEV, "fair-%d" % n, 1) for n in range(20)])
    # A and C get their attempts one at a time, CALLBACK_TIMEOUT_S each
    wait_until(lambda: len(hang.held) >= 2 and len(slow.got()) >= 2, 3 * CALLBACK_TIMEOUT_S, "second attempts")
    assert hang.most_open() == 1
    arrived = [r["arrived"] for r in slow.got()]
    assert all(b - a > CALLBACK_TIMEOUT_S - 0.5 for a, b in zip(arrived, arrived[1:])), arrived
    log = srv.read_log()
    assert "Timeout was reached" in log or "timed out" in log.lower()
    assert hang.url not in log and slow.url not in log and "stuck-" not in log
    # a clean stop does not wait for them
    started = time.monotonic()
    assert srv.stop() == 0
    assert time.monotonic() - started < 3


def queued(database, cust):
    return int(db_value(database, "SELECT count(*) FROM callbacks c JOIN customers u ON u.id = c.customer_id "
                                  "WHERE u.name = '%s' AND c.delivered IS NULL" % cust.name))


def test_a_stop_gives_the_deliveries_in_flight_back_and_a_restart_sends_them(start_server, hooks,
                                                                            cb_database):
    srv = start_server()
    hangs = [hooks(Hang), hooks(Hang)]
    custs = [Subscriber(cb_database, h.url) for h in hangs]
    for i, cust in enumerate(custs):
        api = cust.client(srv)
        register(api)
        for n in range(3):
            light(api, nonce="back-%d-%d" % (i, n), quantity=n)
            ack(api)
    wait_until(lambda: all(len(h.held) == 1 for h in hangs), 10, "a delivery in flight for each")
    assert srv.stop() == 0
    # given back: due at once, not after the lease
    soon = int((time.time() + 1) * 1e6)
    for cust in custs:
        assert queued(cb_database, cust) == 3
        assert db_value(cb_database, "SELECT count(*) FROM callbacks c JOIN customers u ON u.id = c.customer_id "
                                     "WHERE u.name = '%s' AND c.next_attempt > %d" % (cust.name, soon)) == "0"
    healthy = []
    for h in hangs:   # the receivers come back on the same ports
        h.stop()
        healthy.append(hooks(port=h.port))
    started = time.monotonic()
    start_server()
    for i, h in enumerate(healthy):
        h.wait_for(3)
        assert sorted(b["nonce"] for b in h.bodies()) == ["back-%d-%d" % (i, n) for n in range(3)]
    assert time.monotonic() - started < 10
    wait_until(lambda: all(queued(cb_database, cust) == 0 for cust in custs), 5, "every row delivered")


def test_two_servers_never_send_one_attempt_twice(start_server, hooks, cb_database):
    servers = [start_server(), start_server()]
    rcvs = [hooks() for _ in range(3)]
    custs = [Subscriber(cb_database, h.url) for h in rcvs]
    for cust in custs:
        register(cust.client(servers[0]))
    sent = {cust.name: [] for cust in custs}
    for n in range(6):
        threads = []
        for i, cust in enumerate(custs):
            api = cust.client(servers[(n + i) % 2])
            light(api, nonce="two-%d" % n, quantity=1)
            threads.append(threading.Thread(target=ack, args=(api,)))
            sent[cust.name].append("two-%d" % n)
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    for h in rcvs:
        h.wait_for(6)
    time.sleep(1)
    for cust, h in zip(custs, rcvs):
        bodies = h.bodies()
        assert len(bodies) == 6 and len({b["id"] for b in bodies}) == 6
        assert sorted(b["nonce"] for b in bodies) == sorted(sent[cust.name])
        assert all(signed(cust.secret, r) for r in h.got())
