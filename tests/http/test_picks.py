"""Contract §8: acknowledging a pick, and delivering acknowledgements to a
customer's callback url, black box.

`POST /api/device/{id}/ack/` clears the display and credits the item its
nonce names (capped, never over-counted, also when acks race); a launched
order completes when its last item is fulfilled. Launch is not in this tree
yet, so the completion tests set an order's status to 'launched' in the
database itself (SQLite file or PostgreSQL URL), as test_logins.py moves
expiries.

Callbacks: a small HTTP receiver on loopback, in a thread, records every
body it is sent. Those tests run their own servers on a database of their
own (so no other server's worker, with the default backoff, claims their
rows) with a short backoff (STOCKROOM_CALLBACK_BACKOFF_MS), and stop and
restart receivers and servers to see that no acknowledgement is lost and
none is repeated except by id.
"""
import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest

from conftest import Client, Server, cli, db_exec, db_value, free_port, new_key

DEV = "CAE96B:5DC841"
DEV2 = "D4E825:8B665D"
NOT_FOUND = {"detail": "Not found."}
BACKOFF_MS = "100,400"
CALLBACK_KEYS = {"id", "created", "deviceid", "acknack", "nonce", "qty"}


# ---------------------------------------------------------------- helpers

def path(device_id=DEV, suffix=""):
    return "/api/device/%s/%s" % (quote(device_id, safe=":"), suffix)


def register(api, device_id=DEV, location="A-1"):
    r = api.post("/api/device/", {"device_id": device_id, "location": location})
    assert r.status_code == 201, r.text
    return r.json()


def light(api, device_id=DEV, **command):
    body = {"command": "pick", "line1": "ORDER", "line2": "SKU"}
    body.update(command)
    r = api.post(path(device_id), body)
    assert r.status_code == 200, r.text
    assert r.json()["display"] is not None
    return r.json()


def light_item(api, item, quantity, device_id=DEV):
    return light(api, device_id, nonce="item:%d" % item["id"], quantity=quantity)


def ack(api, device_id=DEV, body=None, status=200, **kw):
    r = api.post(path(device_id, "ack/"), body, **kw)
    assert r.status_code == status, r.text
    return r.json()


def new_order(api, *quantities, fulfilled=None):
    """An order with one item per ordered quantity; returns (order, items)."""
    fulfilled = fulfilled or [0] * len(quantities)
    items = [{"SKU": "SKU-%d" % i, "ordered_quantity": q, "quantity_fulfilled": f}
             for i, (q, f) in enumerate(zip(quantities, fulfilled))]
    r = api.post("/api/orders/", {"order_number": "PICK-" + uuid.uuid4().hex[:8], "items": items})
    assert r.status_code == 201, r.text
    order = r.json()
    return order, order["shipments"][0]["items"]


def fulfilled(api, item):
    r = api.get("/api/items/%d/" % item["id"])
    assert r.status_code == 200, r.text
    return r.json()["quantity_fulfilled"]


def get_device(api, device_id=DEV):
    r = api.get(path(device_id))
    assert r.status_code == 200, r.text
    return r.json()


def wait_until(predicate, timeout=30, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


# ---------------------------------------------------------------- acknowledging

def test_ack_credits_the_quantity_shown_and_clears_the_display(api):
    register(api)
    _, (item,) = new_order(api, 5)
    lit = light_item(api, item, 2)
    time.sleep(0.002)
    dev = ack(api)
    assert dev["display"] is None
    assert dev["device_id"] == DEV and dev["deviceid"] == DEV
    assert dev["updated"] > lit["updated"]
    # the answer is the device as GET renders it, and it stays dark
    assert get_device(api) == dev
    assert fulfilled(api, item) == 2


def test_ack_with_a_quantity_credits_that_quantity(api):
    register(api)
    _, (item,) = new_order(api, 10)
    light_item(api, item, 2)
    ack(api, body={"quantity": 3})
    assert fulfilled(api, item) == 3
    # integral strings and floats are integers, as everywhere
    light_item(api, item, 2)
    ack(api, body={"quantity": "4"})
    assert fulfilled(api, item) == 7
    light_item(api, item, 2)
    ack(api, body={"quantity": 1.0})
    assert fulfilled(api, item) == 8
    # zero: the display goes, the item stays
    light_item(api, item, 2)
    assert ack(api, body={"quantity": 0})["display"] is None
    assert fulfilled(api, item) == 8


def test_ack_without_a_quantity_shown_credits_nothing(api):
    register(api)
    _, (item,) = new_order(api, 4)
    light(api, nonce="item:%d" % item["id"])   # quantity null
    assert ack(api)["display"] is None
    assert fulfilled(api, item) == 0


def test_empty_bodies_are_fine(api):
    register(api)
    _, (item,) = new_order(api, 9)
    for kw in ({}, {"data": b"", "headers": {"Content-Type": "application/json"}},
               {"json": {}}, {"json": {"unknown": "ignored"}}):
        light_item(api, item, 1)
        ack(api, **kw)
    assert fulfilled(api, item) == 4
    # the path without its trailing slash is the same endpoint
    light_item(api, item, 1)
    r = api.post(path(DEV, "ack"))
    assert r.status_code == 200, r.text
    assert fulfilled(api, item) == 5


def test_a_quantity_beyond_what_remains_is_capped(api):
    register(api)
    _, (item,) = new_order(api, 3, fulfilled=[2])
    light_item(api, item, 1)
    ack(api, body={"quantity": 10})
    assert fulfilled(api, item) == 3
    # a full item stays full
    light_item(api, item, 5)
    ack(api, body={"quantity": 2147483647})
    assert fulfilled(api, item) == 3


def ack_all_at_once(api, device_ids, clients=None):
    """Ack every device at the same moment, from one thread (and one
    connection) each; clients[i], when given, acks device_ids[i]."""
    start = threading.Barrier(len(device_ids))
    answers = [None] * len(device_ids)
    clients = clients or [Client(api.base, api.key) for _ in device_ids]

    def run(i):
        start.wait()
        answers[i] = clients[i].post(path(device_ids[i], "ack/"))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(device_ids))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def test_racing_acks_for_the_last_unit_never_over_count(api):
    devices = ["RACE:%02d" % i for i in range(6)]
    _, (item,) = new_order(api, 4, fulfilled=[3])
    for d in devices:
        register(api, d)
        light_item(api, item, 1, d)
    answers = ack_all_at_once(api, devices)
    assert [a.status_code for a in answers] == [200] * len(devices)
    assert all(a.json()["display"] is None for a in answers)
    assert fulfilled(api, item) == 4


def test_racing_acks_of_one_display_credit_it_once(api):
    register(api)
    _, (item,) = new_order(api, 10)
    light_item(api, item, 1)
    answers = ack_all_at_once(api, [DEV] * 8)
    assert [a.status_code for a in answers] == [200] * 8
    assert fulfilled(api, item) == 1


@pytest.mark.parametrize("nonce", ["", "pick-17", "item:", "item:abc", "item:{id}x", "item:-{id}",
                                   "item: {id}", "ITEM:{id}", "item:0{id}", "item:+{id}", "{id}",
                                   "item:999999999", "item:99999999999999999999999"])
def test_a_nonce_naming_no_item_credits_nothing(api, nonce):
    register(api)
    _, (item,) = new_order(api, 5)
    light(api, nonce=nonce.format(id=item["id"]), quantity=2)
    assert ack(api)["display"] is None
    assert fulfilled(api, item) == 0


def test_another_customers_item_is_not_credited(api, other_api):
    register(api)
    _, (theirs,) = new_order(other_api, 5)
    light_item(api, theirs, 2)
    assert ack(api)["display"] is None
    assert fulfilled(other_api, theirs) == 0


def test_a_dark_device_changes_nothing(api):
    register(api)
    before = get_device(api)
    time.sleep(0.002)
    assert ack(api, body={"quantity": 3}) == before
    assert get_device(api) == before


def test_an_expired_display_counts_as_none(api):
    register(api)
    _, (item,) = new_order(api, 5)
    lit = light(api, nonce="item:%d" % item["id"], quantity=2, seconds=1)
    time.sleep(2.05)   # the expiry is handled within a second of `expires` (§8.1)
    dev = ack(api)
    assert dev["display"] is None and dev["commands"] == []
    # the expiry changed the device (§8.1); the ack found nothing to change
    assert dev["updated"] > lit["updated"]
    assert get_device(api) == dev
    assert fulfilled(api, item) == 0


def test_unknown_device_is_404(api):
    r = api.post(path("NO:SUCH", "ack/"), {"quantity": 1})
    assert r.status_code == 404
    assert r.json() == NOT_FOUND
    # an unknown device is 404 before its body is looked at
    r = api.post(path("NO:SUCH", "ack/"), {"quantity": -1})
    assert r.status_code == 404


def test_another_customers_device_is_404_and_untouched(api, other_api):
    register(other_api)
    _, (item,) = new_order(other_api, 5)
    lit = light_item(other_api, item, 2)
    r = api.post(path(DEV, "ack/"))
    assert r.status_code == 404
    assert r.json() == NOT_FOUND
    assert get_device(other_api) == lit
    assert fulfilled(other_api, item) == 0


def test_get_is_405(api):
    register(api)
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        r = api.request(method, path(DEV, "ack/"))
        assert r.status_code == 405, method
        assert r.json() == {"detail": 'Method "%s" not allowed.' % method}
        assert r.headers["Allow"] == "POST, OPTIONS"


def test_options_describes_the_quantity(api):
    register(api)
    r = api.options(path(DEV, "ack/"))
    assert r.status_code == 200, r.text
    quantity = r.json()["actions"]["POST"]["quantity"]
    assert quantity["type"] == "integer"
    assert quantity["required"] is False
    assert quantity["min_value"] == 0


@pytest.mark.parametrize("body,errors", [
    ({"quantity": -1}, {"quantity": ["Ensure this value is greater than or equal to 0."]}),
    ({"quantity": 2147483648}, {"quantity": ["Ensure this value is less than or equal to 2147483647."]}),
    ({"quantity": "x"}, {"quantity": ["A valid integer is required."]}),
    ({"quantity": 1.5}, {"quantity": ["A valid integer is required."]}),
    ({"quantity": True}, {"quantity": ["A valid integer is required."]}),
    ({"quantity": None}, {"quantity": ["This field may not be null."]}),
    ([1], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
])
def test_an_invalid_quantity_is_400_and_changes_nothing(api, body, errors):
    register(api)
    _, (item,) = new_order(api, 5)
    lit = light_item(api, item, 2)
    r = api.post(path(DEV, "ack/"), body)
    assert r.status_code == 400, r.text
    assert r.json() == errors
    assert get_device(api) == lit
    assert fulfilled(api, item) == 0


def test_a_body_that_is_not_json_is_400(api):
    register(api)
    r = api.post(path(DEV, "ack/"), data=b"{quantity", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["detail"].startswith("JSON parse error - ")


# ---------------------------------------------------------------- orders complete

def order_status(database, order):
    return db_value(database, "SELECT status FROM orders WHERE id = %d" % order["id"])


def launch_in_db(database, order):
    """Launch is not in this tree yet: mark the order launched by hand."""
    db_exec(database, "UPDATE orders SET status = 'launched' WHERE id = %d" % order["id"])


def get_order(api, order):
    r = api.get("/api/orders/%s/" % quote(order["order_number"], safe=""))
    assert r.status_code == 200, r.text
    return r.json()


def test_a_launched_order_completes_when_its_last_item_is_fulfilled(server, api):
    register(api)
    register(api, DEV2)
    order, (first, second) = new_order(api, 2, 3, fulfilled=[0, 1])
    launch_in_db(server.db, order)
    light_item(api, first, 2)
    light_item(api, second, 2, DEV2)
    ack(api)
    assert fulfilled(api, first) == 2
    assert order_status(server.db, order) == "launched"
    before = get_order(api, order)
    time.sleep(0.002)
    ack(api, DEV2)
    assert fulfilled(api, second) == 3
    assert order_status(server.db, order) == "complete"
    after = get_order(api, order)
    assert after["modified"] > before["modified"]
    if "status" in after:   # once launch gives orders their read-only status
        assert after["status"] == "complete"


def test_an_order_not_launched_does_not_complete(server, api):
    register(api)
    order, (item,) = new_order(api, 2)
    light_item(api, item, 2)
    ack(api)
    assert fulfilled(api, item) == 2
    assert order_status(server.db, order) == "unstarted"


def test_a_short_ack_leaves_the_order_launched(server, api):
    register(api)
    order, (item,) = new_order(api, 3)
    launch_in_db(server.db, order)
    light_item(api, item, 3)
    ack(api, body={"quantity": 2})
    assert order_status(server.db, order) == "launched"
    light_item(api, item, 1)
    ack(api)
    assert order_status(server.db, order) == "complete"


def test_racing_acks_finishing_an_order_complete_it(server, api):
    devices = ["LAST:%02d" % i for i in range(4)]
    order, items = new_order(api, 1, 1, 1, 1)
    launch_in_db(server.db, order)
    for d, item in zip(devices, items):
        register(api, d)
        light_item(api, item, 1, d)
    answers = ack_all_at_once(api, devices)
    assert [a.status_code for a in answers] == [200] * 4
    assert [fulfilled(api, item) for item in items] == [1, 1, 1, 1]
    assert order_status(server.db, order) == "complete"


# ---------------------------------------------------------------- callbacks

class Receiver:
    """An HTTP server on loopback recording the JSON bodies POSTed to it.
    HTTP/1.0, so no connection outlives a request: once stopped it is down."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.url = "http://127.0.0.1:%d/hook" % self.port
        self.received = []
        self.lock = threading.Lock()
        self.delay = 0.0
        self.httpd = None

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.received.append({
                        "path": self.path, "content_type": self.headers.get("Content-Type"),
                        "body": json.loads(body)})
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def bodies(self):
        with self.lock:
            return [r["body"] for r in self.received]

    def unique(self):
        """The bodies received, repeats (by id) dropped."""
        seen = {}
        for b in self.bodies():
            seen.setdefault(b["id"], b)
        return list(seen.values())

    def wait_for(self, count, timeout=30):
        wait_until(lambda: len(self.unique()) >= count, timeout,
                   "%d callbacks (have %d)" % (count, len(self.unique())))


@pytest.fixture(scope="module")
def cb_database(database, tmp_path_factory):
    """A database of the callback tests' own: only their servers deliver from it."""
    if not database.startswith("postgres"):
        yield str(tmp_path_factory.mktemp("callbacks") / "stockroom.db")
        return
    base, name = database.rsplit("/", 1)
    name = name.split("?")[0] + "_callbacks"
    db_exec(database, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
    db_exec(database, "CREATE DATABASE %s" % name)
    yield base + "/" + name
    db_exec(database, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)


@pytest.fixture
def start_server(cb_database):
    """Start `stockroom serve` processes on the callback database, with a short
    backoff; every one still running is stopped at the end."""
    started = []

    def start():
        saved = os.environ.get("STOCKROOM_CALLBACK_BACKOFF_MS")
        os.environ["STOCKROOM_CALLBACK_BACKOFF_MS"] = BACKOFF_MS
        try:
            srv = Server(cb_database)
        finally:
            if saved is None:
                del os.environ["STOCKROOM_CALLBACK_BACKOFF_MS"]
            else:
                os.environ["STOCKROOM_CALLBACK_BACKOFF_MS"] = saved
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture
def receivers():
    made = []

    def make(port=None):
        rcv = Receiver(port).start()
        made.append(rcv)
        return rcv

    yield make
    for rcv in made:
        rcv.stop()


class Customer:
    """A customer of the callback database, with its url set (or not)."""

    def __init__(self, database, url=None):
        self.db = database
        self.name = "cb-" + uuid.uuid4().hex[:10]
        self.key = new_key(database, self.name)
        if url is not None:
            self.set_callback(url)

    def set_callback(self, url):
        return cli(self.db, "customer", "set-callback", self.name, url)

    def client(self, srv):
        return Client(srv.base, self.key)


def expected(device_id, nonce, qty):
    return {"deviceid": device_id, "acknack": "ack", "nonce": nonce, "qty": qty}


def without_id(bodies):
    return sorted((json.dumps({k: v for k, v in b.items() if k not in ("id", "created")}, sort_keys=True)
                   for b in bodies))


def test_set_callback_checks_the_url(cb_database):
    cust = Customer(cb_database)
    for bad in ("ftp://example.com/x", "not a url", "http://", "example.com/hook",
                "http://exa mple.com/", "javascript:alert(1)", "http://x/" + "a" * 3000):
        res = cli(cb_database, "customer", "set-callback", cust.name, bad, check=False)
        assert res.returncode == 1, bad
        assert "http:// or https://" in res.stderr
    res = cli(cb_database, "customer", "set-callback", "no-such-customer", "http://127.0.0.1/", check=False)
    assert res.returncode == 1 and "no such customer" in res.stderr
    out = cust.set_callback("https://hooks.example.com/stockroom?token=abc").stdout
    assert "https://hooks.example.com/stockroom?token=abc" in out
    assert db_value(cb_database, "SELECT callback_url FROM customers WHERE name = '%s'" % cust.name) == \
        "https://hooks.example.com/stockroom?token=abc"
    assert "cleared" in cust.set_callback("").stdout
    assert db_value(cb_database, "SELECT count(*) FROM customers WHERE name = '%s' "
                                 "AND callback_url IS NULL" % cust.name) == "1"


def test_every_ack_is_delivered_once_with_its_fields(start_server, receivers, cb_database):
    srv = start_server()
    rcv = receivers()
    cust = Customer(cb_database, rcv.url)
    api = cust.client(srv)
    register(api)
    register(api, DEV2)
    _, (item,) = new_order(api, 10)
    want = []
    light_item(api, item, 2)
    ack(api)
    want.append(expected(DEV, "item:%d" % item["id"], 2))
    light_item(api, item, 2)
    ack(api, body={"quantity": 3})
    want.append(expected(DEV, "item:%d" % item["id"], 3))
    light(api, DEV2, nonce="tote-7", quantity=4)
    ack(api, DEV2)
    want.append(expected(DEV2, "tote-7", 4))
    light(api, DEV2, command="flash")   # no nonce, no quantity
    ack(api, DEV2)
    want.append(expected(DEV2, "", 0))
    ack(api, DEV2)                      # dark: nothing to deliver
    light_item(api, item, 9)
    ack(api, body={"quantity": 9})      # capped at 10 in the item, reported as acknowledged
    want.append(expected(DEV, "item:%d" % item["id"], 9))
    assert fulfilled(api, item) == 10

    rcv.wait_for(len(want))
    time.sleep(1)   # a repeat would arrive by now
    got = rcv.bodies()
    assert len(got) == len(want)
    assert all(set(b) == CALLBACK_KEYS for b in got)
    assert len({b["id"] for b in got}) == len(got)
    # ids are the rows' (§8.1): integers that increase with created
    assert all(isinstance(b["id"], int) and b["id"] > 0 for b in got)
    by_id = sorted(got, key=lambda b: b["id"])
    assert [b["created"] for b in by_id] == sorted(b["created"] for b in got)
    assert without_id(got) == without_id(want)
    assert {r["content_type"] for r in rcv.received} == {"application/json"}
    assert {r["path"] for r in rcv.received} == {"/hook"}
    # queued and delivered in the database: a restart has nothing left to send
    assert db_value(cb_database, "SELECT count(*) FROM callbacks c JOIN customers u ON u.id = c.customer_id "
                                 "WHERE u.name = '%s' AND c.delivered IS NULL" % cust.name) == "0"
    # the server's log names no payload
    log = srv.read_log()
    assert "tote-7" not in log


def test_none_is_lost_while_the_receiver_is_down_and_the_server_restarts(start_server, receivers,
                                                                            cb_database):
    srv = start_server()
    rcv = receivers()
    cust = Customer(cb_database, rcv.url)
    api = cust.client(srv)
    register(api)
    want = []

    def ack_one(client, nonce, qty):
        light(client, nonce=nonce, quantity=qty)
        ack(client)
        want.append(expected(DEV, nonce, qty))

    ack_one(api, "n-1", 1)
    ack_one(api, "n-2", 2)
    rcv.wait_for(2)

    rcv.stop()   # deliveries fail now, and are retried
    for i in range(3, 6):
        ack_one(api, "n-%d" % i, i)
    time.sleep(1)   # several failed attempts each
    assert len(rcv.unique()) == 2
    assert "delivery of callback" in srv.read_log()
    assert srv.stop() == 0   # SIGTERM: a clean stop, the queue stays in the database

    srv2 = start_server()   # a new process on the same database, receiver still down
    api2 = cust.client(srv2)
    for i in range(6, 8):
        ack_one(api2, "n-%d" % i, i)
    time.sleep(0.5)
    assert len(rcv.unique()) == 2

    rcv2 = receivers(rcv.port)   # back up on the same port
    rcv2.wait_for(5)
    time.sleep(1)
    bodies = rcv.unique() + rcv2.unique()
    assert len({b["id"] for b in bodies}) == len(want)
    assert without_id(bodies) == without_id(want)
    # nothing failed twice over: each callback reached a receiver once
    assert len(rcv.bodies()) + len(rcv2.bodies()) == len(want)


def test_servers_sharing_a_database_never_deliver_one_callback_twice(start_server, receivers,
                                                                       cb_database):
    servers = [start_server() for _ in range(3)]
    rcv = receivers()
    cust = Customer(cb_database, rcv.url)
    clients = [cust.client(s) for s in servers]
    devices = ["SHARE:%d" % i for i in range(len(servers))]
    for d in devices:
        register(clients[0], d)
    want = []
    for round in range(8):
        # every server queues one at the same moment, and every worker wakes
        for i, d in enumerate(devices):
            light(clients[i], d, nonce="share-%d-%d" % (round, i), quantity=i)
            want.append(expected(d, "share-%d-%d" % (round, i), i))
        answers = ack_all_at_once(None, devices, clients)
        assert [a.status_code for a in answers] == [200] * len(devices)
    rcv.wait_for(len(want))
    time.sleep(1)
    assert len(rcv.bodies()) == len(want)
    assert without_id(rcv.bodies()) == without_id(want)


def test_an_ack_does_not_wait_for_a_hanging_receiver(start_server, receivers, cb_database):
    srv = start_server()
    rcv = receivers()
    rcv.delay = 2.5
    cust = Customer(cb_database, rcv.url)
    api = cust.client(srv)
    register(api)
    for i in range(3):
        light(api, nonce="slow-%d" % i, quantity=1)
        started = time.monotonic()
        ack(api)
        assert time.monotonic() - started < 1.0
    rcv.wait_for(1)   # the first delivery hangs in the receiver now
    started = time.monotonic()
    assert get_device(api)["display"] is None
    assert time.monotonic() - started < 1.0

    # stopping abandons the delivery in flight: it stays queued, and the
    # next server sends it again, with the same id
    started = time.monotonic()
    assert srv.stop() == 0
    assert time.monotonic() - started < 5
    rcv.delay = 0
    start_server()
    rcv.wait_for(3)
    time.sleep(1)
    assert without_id(rcv.unique()) == without_id([expected(DEV, "slow-%d" % i, 1) for i in range(3)])


def test_each_customer_is_called_at_its_own_url(start_server, receivers, cb_database):
    srv = start_server()
    rcv_a, rcv_b = receivers(), receivers()
    a, b = Customer(cb_database, rcv_a.url), Customer(cb_database, rcv_b.url)
    c = Customer(cb_database)   # no url
    for cust in (a, b, c):
        api = cust.client(srv)
        register(api)   # the same device id for every customer
        light(api, nonce="of-" + cust.name, quantity=1)
        ack(api)
    rcv_a.wait_for(1)
    rcv_b.wait_for(1)
    time.sleep(1)
    assert without_id(rcv_a.bodies()) == without_id([expected(DEV, "of-" + a.name, 1)])
    assert without_id(rcv_b.bodies()) == without_id([expected(DEV, "of-" + b.name, 1)])
    # cleared: acknowledged, but delivered nowhere
    a.set_callback("")
    api = a.client(srv)
    light(api, nonce="after-clear", quantity=1)
    assert ack(api)["display"] is None
    time.sleep(1)
    assert len(rcv_a.bodies()) == 1 and len(rcv_b.bodies()) == 1


# ------------------------------------------------------------------ the warehouse, end to end

def test_warehouse_scenario_launch_pick_acknowledge_complete(start_server, receivers, cb_database):
    """An order of 20 items over 10 devices: launched, every device shows its
    pick, every pick acknowledged (with and without a quantity), the order
    relaunched for what the first round left, callbacks for every pick, and
    the order complete with every quantity right."""
    srv = start_server()
    rcv = receivers()
    cust = Customer(cb_database, rcv.url)
    api = cust.client(srv)
    for i in range(10):
        register(api, "WH-%d" % i, "AISLE-%d" % i)
    # items 0..9 name their device; items 10..19 only a location (the same
    # devices): a device holds both picks and shows the later item's first
    # (§8.1), then, once that one is acknowledged, the earlier one's
    items = [{"SKU": "SKU-%02d" % i, "ordered_quantity": i + 1, "device": "WH-%d" % i, "name": "Part %d" % i}
             for i in range(10)]
    items += [{"SKU": "SKU-%02d" % i, "ordered_quantity": 2, "warehouse_location": "AISLE-%d" % (i - 10),
               "description": "Loose part %d" % i} for i in range(10, 20)]
    r = api.post("/api/orders/", {"order_number": "WH-ORDER-1", "items": items})
    assert r.status_code == 201, r.text
    created = [i for s in r.json()["shipments"] for i in s["items"]]
    assert api.post("/api/orders/WH-ORDER-1/launch/").json()["status"] == "launched"

    want = []
    for first_round, round_items in ((True, created[10:]), (False, created[:10])):
        for n, item in enumerate(round_items):
            device_id = "WH-%d" % (n % 10)
            shown = get_device(api, device_id)["display"]
            remaining = item["ordered_quantity"]
            assert (shown["command"], shown["line1"], shown["line2"], shown["quantity"], shown["nonce"]) == \
                ("pick", "WH-ORDER-1", item["SKU"], remaining, "item:%d" % item["id"])
            assert shown["line3"] == (item["name"] or item["description"])
            if n % 2:
                ack(api, device_id, body={"quantity": remaining})
            else:
                ack(api, device_id)
            want.append(expected(device_id, "item:%d" % item["id"], remaining))
            after = get_device(api, device_id)
            if first_round:   # the earlier item's pick shows now
                assert after["display"]["nonce"] == "item:%d" % created[n]["id"]
                assert [c["nonce"] for c in after["commands"]] == ["item:%d" % created[n]["id"]]
            else:
                assert after["display"] is None and after["commands"] == []
        status = api.get("/api/orders/WH-ORDER-1/").json()["status"]
        if first_round:
            assert status == "launched"
            # relaunch: what is left lights again, replacing its own picks
            assert api.post("/api/orders/WH-ORDER-1/launch/").json()["status"] == "launched"
    order = api.get("/api/orders/WH-ORDER-1/").json()
    assert order["status"] == "complete"
    for item in (i for s in order["shipments"] for i in s["items"]):
        assert item["quantity_fulfilled"] == item["ordered_quantity"]
    rcv.wait_for(20)
    time.sleep(0.5)
    assert without_id(rcv.unique()) == without_id(want)
    assert len(rcv.bodies()) == 20


def test_sequences_advance_on_acknowledgements(start_server, receivers, cb_database):
    srv = start_server()
    rcv = receivers()
    cust = Customer(cb_database, rcv.url)
    api = cust.client(srv)
    for name in ("SQ-A", "SQ-B", "SQ-C"):
        register(api, name, "row-" + name)
    seq = api.post("/api/sequence/", {"nonce": "wave-1", "steps": [
        {"order": 1, "device": "SQ-A", "line1": "one", "stepnonce": "s-a"},
        {"order": 1, "device": "SQ-B", "line1": "one too", "stepnonce": "s-b"},
        {"order": 2, "location": "row-SQ-C", "line1": "two", "stepnonce": "s-c", "quantity": 3},
    ]}).json()
    url = "/api/sequence/%d/" % seq["id"]
    assert api.get("/api/launchsequence/%d/" % seq["id"]).json()["status"] == "in-progress"
    assert get_device(api, "SQ-C")["display"] is None
    ack(api, "SQ-A")
    assert get_device(api, "SQ-C")["display"] is None           # SQ-B is still lit
    assert get_device(api, "SQ-B")["display"]["line1"] == "one too"
    ack(api, "SQ-B")
    c = get_device(api, "SQ-C")["display"]                       # the next group
    assert (c["line1"], c["nonce"], c["quantity"]) == ("two", "s-c", 3)
    assert api.get(url).json()["status"] == "in-progress"
    ack(api, "SQ-C")
    assert api.get(url).json()["status"] == "completed"
    rcv.wait_for(4)
    time.sleep(0.5)
    got = {b["nonce"]: b for b in rcv.unique()}
    done = got.pop("wave-1")   # the sequence's own callback follows its last step's (§8.1)
    assert {k: v for k, v in done.items() if k not in ("id", "created")} == {
        "acknack": "ack", "nonce": "wave-1", "sequence": seq["id"]}
    assert done["id"] > got["s-c"]["id"]
    assert {n: (b["stepnonce"], b["deviceid"]) for n, b in got.items()} == {
        "s-a": ("s-a", "SQ-A"), "s-b": ("s-b", "SQ-B"), "s-c": ("s-c", "SQ-C")}
    assert got["s-c"]["qty"] == 3
    # a later command on a step's device leaves the sequence where it is
    api.get("/api/launchsequence/%d/" % seq["id"])
    light(api, "SQ-A", line1="something else")
    ack(api, "SQ-A")
    assert api.get(url).json()["status"] == "in-progress"
    assert get_device(api, "SQ-C")["display"] is None


def test_acks_racing_order_rewrites_never_fail(api):
    """Acks (device, then order, then item) and PUTs of the same order (order,
    then its items) at the same moment: every answer is a success, never a
    500 from a deadlock the database had to break (PostgreSQL)."""
    devices = ["RACE-%d" % i for i in range(4)]
    for d in devices:
        register(api, d)
    items = [{"SKU": "S-%d" % i, "ordered_quantity": 5} for i in range(4)]
    r = api.post("/api/orders/", {"order_number": "RACE-1", "items": items})
    assert r.status_code == 201, r.text
    for _ in range(15):
        order = api.get("/api/orders/RACE-1/").json()
        for d, item in zip(devices, (i for s in order["shipments"] for i in s["items"])):
            light_item(api, item, 1, d)
        start = threading.Barrier(len(devices) + 1)
        answers = [None] * (len(devices) + 1)
        clients = [Client(api.base, api.key) for _ in range(len(devices) + 1)]

        def run(i):
            start.wait()
            if i < len(devices):
                answers[i] = clients[i].post(path(devices[i], "ack/"))
            else:
                answers[i] = clients[i].put("/api/orders/RACE-1/", {"order_number": "RACE-1", "items": items})

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(answers))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert [a.status_code for a in answers] == [200] * len(answers), [a.text for a in answers]
