"""Issue "Hostile load": what a user or an operator sees when clients mean harm.

Covered, black-box (the real binary, raw sockets where requests cannot
express the attack):
  1. a body over the limit is 413 from the head alone (--max-body too);
  2. 401, 404 and 405 are answered before a body is buffered: a large body
     is never read (the connection closes), a small one is drained and the
     connection goes on;
  3. the server-wide body budget (--body-budget): 503 with Retry-After past
     it, room again once a body is done or dropped;
  4. login throttling per username and per address (429 as DRF words it,
     on /api/user/login/, /api/o/token/ and the HTML form) and the login
     pool's bounded queue (--login-threads, --login-queue);
  5. the caps on shipments, items, bulk device commands, catalog bulks,
     sequence steps and refund lines, with nothing stored when refused;
  6. GETs that write (the query-string API, launchsequence) need the CSRF
     token when authenticated by a session cookie;
  7. the security headers of HTML pages and their lack of inline scripts;
  8. honest logs (no forged lines) and X-Request-ID;
  9. lone surrogates in JSON, invalid UTF-8 in paths and query strings;
 10. slow heads, stalled bodies, the per-address connection limit, and
     thousands of idle and slow connections beside a working server;
 11. a clean stop under write load (SIGTERM / SIGINT): exit 0, every 201
     durable, no answer cut in the middle.

Tests that need flags start a dedicated Server and stop it in a finally or
a fixture. Every loop is bounded; the only timing assertions are deadlines
that are the behaviour under test, with generous bounds.
"""
import http.client
import json
import os
import random
import re
import resource
import select
import selectors
import signal
import socket
import subprocess
import threading
import time
import uuid
from urllib.parse import urlparse

import pytest
import requests

from conftest import Client, Server, cli, new_key

ORDERS = "/api/orders/"
NOT_FOUND = {"detail": "Not found."}
TOO_LARGE = {"detail": "Request body too large."}
NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}
TOO_MANY = "Ensure this field has no more than %d elements."


# ------------------------------------------------------------------ helpers

def unique(prefix="h"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def addr(server):
    u = urlparse(server.base)
    return u.hostname, u.port


def connect(server, timeout=10):
    return socket.create_connection(addr(server), timeout=timeout)


def head_bytes(server, method, path, headers, length=None):
    host, port = addr(server)
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s:%d" % (host, port)]
    for name, value in headers.items():
        lines.append("%s: %s" % (name, value))
    if length is not None:
        lines.append("Content-Length: %d" % length)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Answer:
    """One HTTP answer read off a raw socket."""

    def __init__(self, status, headers, body, raw):
        self.status, self.headers, self.body, self.raw = status, headers, body, raw

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        values = self.headers.get(name.lower(), [])
        return values[0] if values else None


def readable(sock, timeout):
    """poll(), not select(): descriptors here may be past 1024."""
    p = select.poll()
    p.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(p.poll(max(0, int(timeout * 1000))))


def read_answer(sock, timeout=10):
    """Read one answer (head and Content-Length body) from a raw socket; None
    when the server closed or reset the connection before a whole answer."""
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            lines = head.split(b"\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers.setdefault(name.strip().lower().decode(), []).append(value.strip().decode("latin-1"))
            length = int(headers.get("content-length", ["0"])[0])
            if len(rest) >= length:
                status = int(lines[0].split()[1])
                return Answer(status, headers, rest[:length], data)
        if not readable(sock, deadline - time.monotonic()):
            break
        try:
            chunk = sock.recv(65536)
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return None


def closed_by_server(sock, timeout):
    """True when the server closes (EOF or reset) within `timeout` seconds;
    whatever it sends meanwhile is read and dropped."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not readable(sock, deadline - time.monotonic()):
            return False
        try:
            if not sock.recv(65536):
                return True
        except OSError:
            return True
    return False


def drain_until_closed(sock, timeout):
    """(closed, what arrived meanwhile): closed is True when the server
    closed or reset the connection within `timeout` seconds."""
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not readable(sock, deadline - time.monotonic()):
            break
        try:
            chunk = sock.recv(65536)
        except OSError:
            return True, data
        if not chunk:
            return True, data
        data += chunk
    return False, data


def still_open(sock):
    """Nothing to read and no EOF: the connection is still up."""
    if not readable(sock, 0):
        return True
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except OSError:
        return False


def order_count(api):
    r = api.get(ORDERS)
    assert r.status_code == 200, r.text
    return r.json()["count"]


def padded_order(number, size):
    """A valid order body of exactly `size` bytes."""
    start = b'{"order_number": "%s", "shipments": [], "pad": "' % number.encode()
    end = b'"}'
    body = start + b"x" * (size - len(start) - len(end)) + end
    assert len(body) == size
    return body


@pytest.fixture
def dedicated(database):
    """Start servers with flags; every one is stopped at the end."""
    started = []

    def start(*args):
        srv = Server(database, extra_args=tuple(args))
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


class Account:
    """A customer with a key, a user (and, on request, an OAuth client)."""

    def __init__(self, server, oauth=False):
        self.server = server
        tag = uuid.uuid4().hex[:10]
        self.customer = "hostile-" + tag
        self.key = cli(server.db, "customer", "create", self.customer).stdout.strip().splitlines()[-1]
        self.username = "hostile-user-" + tag
        self.password = "pw-" + tag
        cli(server.db, "user", "create", self.customer, self.username, input=self.password + "\n")
        self.api = Client(server.base, self.key)
        if oauth:
            out = cli(server.db, "oauth-client", "create", self.customer).stdout
            fields = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
            self.client_id, self.client_secret = fields["client_id"], fields["client_secret"]

    def login(self, password=None, username=None):
        return requests.post(self.server.base + "/api/user/login/", timeout=30, json={
            "username": username or self.username,
            "password": self.password if password is None else password})

    def token(self, password=None):
        return requests.post(self.server.base + "/api/o/token/", timeout=30,
                             auth=(self.client_id, self.client_secret), data={
                                 "grant_type": "password", "username": self.username,
                                 "password": self.password if password is None else password})


# ------------------------------------------------------- 1. 413 before the body

@pytest.mark.parametrize("with_key", [False, True], ids=["anonymous", "with-key"])
def test_declared_gigabyte_is_413_before_the_body(server, api, with_key):
    headers = {"Content-Type": "application/json"}
    if with_key:
        headers["API_KEY"] = api.key
    sock = connect(server)
    try:
        sock.sendall(head_bytes(server, "POST", ORDERS, headers, 1073741824))
        started = time.monotonic()
        answer = read_answer(sock, timeout=5)
        assert answer is not None, "no answer to a head declaring 1 GiB"
        assert time.monotonic() - started < 5
        assert answer.status == 413
        assert answer.json() == TOO_LARGE
        assert answer.header("Content-Type") == "application/json"
        assert (answer.header("Connection") or "").lower() == "close"
        assert closed_by_server(sock, 5)
    finally:
        sock.close()
    assert order_count(api) == 0


def test_max_body_flag(dedicated):
    srv = dedicated("--max-body", "64k")
    api = Client(srv.base, new_key(srv.db))
    r = api.post(ORDERS, data=padded_order(unique(), 65 * 1024), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json() == TOO_LARGE
    assert r.headers.get("Connection", "").lower() == "close"
    # a body within the limit is fine
    r = api.post(ORDERS, data=padded_order(unique(), 60 * 1024), headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text[:200]
    assert order_count(api) == 1


# ---------------------------------------------- 2. answers before the body

REFUSALS = {
    # case: (method, path, with key, status, body)
    "401": ("POST", ORDERS, False, 401, NO_CREDENTIALS),
    "404": ("POST", "/api/no-such-thing/", True, 404, NOT_FOUND),
    "405": ("PUT", ORDERS, True, 405, {"detail": 'Method "PUT" not allowed.'}),
}


@pytest.mark.parametrize("expect", [False, True], ids=["plain", "expect-100"])
@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refused_large_body_is_never_read(server, api, case, expect):
    method, path, with_key, status, body = REFUSALS[case]
    headers = {"Content-Type": "application/json"}
    if with_key:
        headers["API_KEY"] = api.key
    if expect:   # curl's way: the body only after "100 Continue", which must not come
        headers["Expect"] = "100-continue"
    sock = connect(server)
    try:
        sock.sendall(head_bytes(server, method, path, headers, 16 * 1024 * 1024))
        answer = read_answer(sock, timeout=5)
        assert answer is not None, "no answer from the head alone"
        assert answer.status == status
        assert answer.json() == body
        if status == 401:
            assert answer.header("WWW-Authenticate") == "Token"
        # the body is not wanted: the server closes rather than read 16 MiB
        assert (answer.header("Connection") or "").lower() == "close"
        assert closed_by_server(sock, 5)
    finally:
        sock.close()
    assert order_count(api) == 0


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refused_small_body_keeps_the_connection(server, api, case):
    method, path, with_key, status, body = REFUSALS[case]
    headers = {"Content-Type": "application/json"}
    if with_key:
        headers["API_KEY"] = api.key
    payload = padded_order(unique(), 1024)
    conn = http.client.HTTPConnection(*addr(server), timeout=10)
    try:
        conn.request(method, path, body=payload, headers=headers)
        resp = conn.getresponse()
        assert resp.status == status
        assert json.loads(resp.read()) == body
        assert (resp.getheader("Connection") or "").lower() != "close"
        first = conn.sock
        # the same connection serves the next request from its first byte
        number = unique()
        conn.request("POST", ORDERS, body=json.dumps({"order_number": number}),
                     headers={"API_KEY": api.key, "Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 201
        assert json.loads(resp.read())["order_number"] == number
        assert conn.sock is first
    finally:
        conn.close()
    assert order_count(api) == 1


# ------------------------------------------------------ 3. the body budget

@pytest.mark.parametrize("ending", ["finishes", "closes"])
def test_body_budget(dedicated, ending):
    srv = dedicated("--body-budget", "1M", "--max-body", "1M")
    api = Client(srv.base, new_key(srv.db))
    size = 900 * 1024
    headers = {"API_KEY": api.key, "Content-Type": "application/json"}
    first = padded_order(unique("a"), size)
    a = connect(srv)
    try:
        a.sendall(head_bytes(srv, "POST", ORDERS, headers, size) + first[:size // 2])
        time.sleep(1)   # let the server take A's head and reserve its body
        # B declares as much: there is no room for it while A's body is held
        b = connect(srv)
        try:
            b.sendall(head_bytes(srv, "POST", ORDERS, headers, size))
            answer = read_answer(b, timeout=5)
            assert answer is not None, "no answer past the body budget"
            assert answer.status == 503
            retry = answer.header("Retry-After")
            assert retry is not None and retry.isdigit() and int(retry) >= 1, answer.headers
            assert set(answer.json()) == {"detail"}
            assert answer.header("Content-Type") == "application/json"
        finally:
            b.close()
        if ending == "finishes":
            a.sendall(first[size // 2:])
            done = read_answer(a, timeout=10)
            assert done is not None and done.status == 201, done and done.body[:200]
        else:
            a.close()
    finally:
        a.close()
    # room again once A is done: a new such POST is taken (a bounded wait
    # for the server to see A's end)
    statuses = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        r = api.post(ORDERS, data=padded_order(unique("c"), size), headers={"Content-Type": "application/json"})
        statuses.append(r.status_code)
        if r.status_code != 503:
            break
        time.sleep(0.2)
    assert statuses[-1] in (201, 400), statuses
    assert order_count(api) == (2 if ending == "finishes" else 1)


# ------------------------------------------------------------- 4. logins

def assert_throttled(r, html=False):
    assert r.status_code == 429, (r.status_code, r.text[:300])
    retry = r.headers.get("Retry-After")
    assert retry is not None and retry.isdigit(), r.headers
    n = int(retry)
    assert n >= 1
    if html:
        return n
    expected = "Request was throttled. Expected available in %d second%s." % (n, "" if n == 1 else "s")
    assert r.json() == {"detail": expected}
    return n


@pytest.fixture
def per_user(dedicated):
    return dedicated("--login-failures-per-user", "3")


def test_login_throttled_per_username(per_user):
    acct, other = Account(per_user), Account(per_user)
    for _ in range(3):
        r = acct.login(password="wrong")
        assert r.status_code == 401, r.text
        assert r.json() == {"detail": "Invalid username/password."}
    # the fourth attempt is refused, even with the right password
    r = acct.login()
    n = assert_throttled(r)
    assert n > 1
    assert "sessionid" not in r.cookies
    # another username is not throttled by it
    r = other.login()
    assert r.status_code == 200, r.text
    assert other.login(password="wrong").status_code == 401


def test_token_endpoint_throttled_per_username(per_user):
    acct, other = Account(per_user, oauth=True), Account(per_user, oauth=True)
    for _ in range(3):
        r = acct.token(password="wrong")
        assert r.status_code == 400 and r.json() == {"error": "invalid_grant"}, r.text
    assert_throttled(acct.token())
    assert other.token().status_code == 200
    # the username is throttled on the other login paths too
    assert_throttled(acct.login())


def test_login_form_throttled_per_username(per_user):
    acct, other = Account(per_user), Account(per_user)
    url = per_user.base + "/api/auth/login/"

    def submit(s, username, password):
        return s.post(url, allow_redirects=False, timeout=30, data={
            "csrfmiddlewaretoken": s.cookies["csrftoken"], "username": username,
            "password": password, "next": "/api/orders/"})

    s = requests.Session()
    assert s.get(url, timeout=30).status_code == 200
    for _ in range(3):
        r = submit(s, acct.username, "wrong")
        assert r.status_code == 200 and 'id="login-error"' in r.text
    r = submit(s, acct.username, acct.password)
    assert_throttled(r, html=True)
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "sessionid" not in s.cookies
    r = submit(s, other.username, other.password)
    assert r.status_code == 302
    assert "sessionid" in s.cookies


def test_login_throttled_per_address(dedicated):
    srv = dedicated("--login-failures-per-address", "4", "--login-failures-per-user", "1000")
    acct = Account(srv)
    for i in range(4):
        r = requests.post(srv.base + "/api/user/login/", timeout=30,
                          json={"username": "nobody-%d-%s" % (i, uuid.uuid4().hex[:6]), "password": "x"})
        assert r.status_code == 401, r.text
    # a fifth failure from this address is not even tried, whoever it names
    r = requests.post(srv.base + "/api/user/login/", timeout=30,
                      json={"username": "nobody-else", "password": "x"})
    assert_throttled(r)
    assert_throttled(acct.login())


def concurrent_logins(srv, bodies):
    barrier = threading.Barrier(len(bodies))
    results = [None] * len(bodies)

    def one(i):
        try:
            barrier.wait(timeout=10)
            results[i] = requests.post(srv.base + "/api/user/login/", json=bodies[i], timeout=30)
        except Exception as exc:    # reported below
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_login_queue_is_bounded(dedicated):
    srv = dedicated("--login-threads", "1", "--login-queue", "1")
    acct = Account(srv)
    bodies = [{"username": acct.username, "password": acct.password if i % 2 else "wrong-%d" % i}
              for i in range(12)]
    results = concurrent_logins(srv, bodies)
    for r in results:
        assert isinstance(r, requests.Response), r
        assert r.status_code in (200, 401, 429), (r.status_code, r.text[:200])
    full = [r for r in results if r.status_code == 429]
    assert full, [r.status_code for r in results]
    for r in full:
        assert "Retry-After" in r.headers
        # DRF's words, singular for one second
        assert r.json() == {"detail": "Request was throttled. Expected available in 1 second."}
    # the server is none the worse
    assert requests.get(srv.base + "/healthz", timeout=10).status_code == 200


def test_login_queue_429_has_one_retry_after(dedicated):
    srv = dedicated("--login-threads", "1", "--login-queue", "1")
    acct = Account(srv)
    bodies = [{"username": acct.username, "password": acct.password} for _ in range(12)]
    full = [r for r in concurrent_logins(srv, bodies)
            if isinstance(r, requests.Response) and r.status_code == 429]
    assert full
    for r in full:
        assert r.raw.headers.getlist("Retry-After") == ["1"]
        assert_throttled(r)


# --------------------------------------------------------------- 5. caps

def ships(n, items_each=0, prefix="S"):
    return [{"shipment_number": "%s-%d" % (prefix, i),
             "items": [{"SKU": "K", "ordered_quantity": 1}] * items_each} for i in range(n)]


def test_order_shipments_cap(api):
    r = api.post(ORDERS, {"order_number": unique(), "shipments": ships(1001)})
    assert r.status_code == 400
    assert r.json() == {"shipments": {"non_field_errors": [TOO_MANY % 1000]}}
    assert order_count(api) == 0
    number = unique()
    r = api.post(ORDERS, {"order_number": number, "shipments": ships(1000)})
    assert r.status_code == 201, r.text[:300]
    got = api.get(ORDERS + number + "/").json()
    assert len(got["shipments"]) == 1000
    assert order_count(api) == 1


def test_order_items_cap(api):
    over = [{"shipment_number": "A", "items": [{"SKU": "K", "ordered_quantity": 1}] * 2500},
            {"shipment_number": "B", "items": [{"SKU": "K", "ordered_quantity": 1}] * 2500},
            {"shipment_number": "C", "items": [{"SKU": "K", "ordered_quantity": 1}]}]
    r = api.post(ORDERS, {"order_number": unique(), "shipments": over})
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["An order may have at most 5000 items."]}
    r = api.post(ORDERS, {"order_number": unique(), "items": [{"SKU": "K", "ordered_quantity": 1}] * 5001})
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["An order may have at most 5000 items."]}
    assert order_count(api) == 0
    r = api.post(ORDERS, {"order_number": unique(), "items": [{"SKU": "K", "ordered_quantity": 1}] * 5000})
    assert r.status_code == 201, r.text[:300]
    assert order_count(api) == 1


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_order_caps_on_replace(api, method):
    number = unique()
    original = api.post(ORDERS, {"order_number": number, "items": [{"SKU": "KEEP", "ordered_quantity": 2}]}).json()
    url = ORDERS + number + "/"
    one = [{"SKU": "K", "ordered_quantity": 1}]
    r = api.request(method, url, json={"order_number": number, "shipments": ships(1001)})
    assert r.status_code == 400
    assert r.json() == {"shipments": {"non_field_errors": [TOO_MANY % 1000]}}
    r = api.request(method, url, json={"order_number": number, "shipments": [
        {"shipment_number": "A", "items": one * 2600}, {"shipment_number": "B", "items": one * 2600}]})
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["An order may have at most 5000 items."]}
    r = api.request(method, url, json={"order_number": number, "items": one * 5001})
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["An order may have at most 5000 items."]}
    shipments = ships(1000)
    shipments[-1]["shipment_number"] = shipments[0]["shipment_number"]
    r = api.request(method, url, json={"order_number": number, "shipments": shipments})
    assert r.status_code == 400
    assert r.json() == {"shipments": ["Shipment numbers must be unique within an order."]}
    # nothing changed
    assert api.get(url).json() == original


def test_duplicate_shipment_numbers_among_many(api):
    shipments = ships(1000)
    shipments[-1]["shipment_number"] = shipments[0]["shipment_number"]
    r = api.post(ORDERS, {"order_number": unique(), "shipments": shipments})
    assert r.status_code == 400
    assert r.json() == {"shipments": ["Shipment numbers must be unique within an order."]}
    assert order_count(api) == 0


def test_bulk_devices_cap(api):
    device = unique("D")
    assert api.post("/api/device/", {"device_id": device}).status_code == 201
    entries = [{"deviceid": device, "command": "flash", "line1": "n%d" % i} for i in range(1001)]
    r = api.post("/api/devices/", entries)
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": [TOO_MANY % 1000]}
    assert api.get("/api/device/%s/" % device).json()["display"] is None
    r = api.post("/api/devices/", entries[:1000])
    assert r.status_code == 200, r.text[:300]
    assert api.get("/api/device/%s/" % device).json()["display"]["line1"] == "n999"


@pytest.mark.parametrize("kind,field", [("shops", "shop_id"), ("suppliers", "supplier_id"),
                                        ("products", "product_id")])
def test_catalog_bulk_cap(api, kind, field):
    entries = [{field: "%s-%d" % (kind, i)} for i in range(2001)]
    r = api.post("/api/v1/%s/" % kind, entries)
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": [TOO_MANY % 2000]}
    assert api.get("/api/v1/%s/" % kind).json()["count"] == 0
    r = api.post("/api/v1/%s/" % kind, entries[:2000])
    assert r.status_code == 201, r.text[:300]
    assert r.json() == {"created": 2000, "updated": 0}


def test_sequence_steps_cap(api):
    device = unique("D")
    assert api.post("/api/device/", {"device_id": device}).status_code == 201
    steps = [{"order": i, "device": device, "line1": "s%d" % i} for i in range(1001)]
    r = api.post("/api/sequence/", {"nonce": "too-long", "steps": steps})
    assert r.status_code == 400
    assert r.json() == {"steps": {"non_field_errors": [TOO_MANY % 1000]}}
    assert api.get("/api/sequence/").json()["count"] == 0
    r = api.post("/api/sequence/", {"nonce": "long", "steps": steps[:1000]})
    assert r.status_code == 201, r.text[:300]
    seq = r.json()
    r = api.put("/api/sequence/%d/" % seq["id"], {"nonce": "longer", "steps": steps})
    assert r.status_code == 400
    assert r.json() == {"steps": {"non_field_errors": [TOO_MANY % 1000]}}
    assert api.get("/api/sequence/%d/" % seq["id"]).json() == seq


def refund_catalog(api):
    for path, field, value in (("shops", "shop_id", "SH-A"), ("suppliers", "supplier_id", "SU-A"),
                               ("products", "product_id", "PR-1")):
        r = api.post("/api/v1/%s/" % path, [{field: value}])
        assert r.status_code == 201, r.text


def refund(products, document_id=None):
    return {"document_id": document_id or unique("doc"), "shop_id": "SH-A", "supplier_id": "SU-A",
            "date": "2017-01-01T15:39:00",
            "products": [{"product_id": "PR-1", "qty": 1, "price": 5, "total_price": 5,
                          "receive_document_id": "rd-%d" % i} for i in range(products)]}


def test_refund_lines_caps(api):
    refund_catalog(api)
    refunds = "/api/v1/supplier-refunds/"
    r = api.post(refunds, refund(501))
    assert r.status_code == 400
    assert r.json() == {"products": {"non_field_errors": [TOO_MANY % 500]}}
    # 21 refunds of 500 lines: each within its cap, 10,500 lines in all
    r = api.post(refunds, [refund(500) for _ in range(21)])
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["A list of refunds may have at most 10000 products in all."]}
    assert api.get(refunds).json()["count"] == 0
    r = api.post(refunds, [refund(500) for _ in range(20)])
    assert r.status_code == 201, r.text[:300]
    assert r.json() == {"created": 20, "updated": 0}
    first = api.get(refunds + "?page_size=1").json()["results"][0]
    r = api.put(first["url"], refund(501, first["document_id"]))
    assert r.status_code == 400
    assert r.json() == {"products": {"non_field_errors": [TOO_MANY % 500]}}
    assert len(api.get(first["url"]).json()["products"]) == 500


# -------------------------------------------------------- 6. cross-site

@pytest.fixture
def session_user(server):
    acct = Account(server)
    s = requests.Session()
    r = s.post(server.base + "/api/user/login/", json={"username": acct.username,
                                                       "password": acct.password}, timeout=30)
    assert r.status_code == 200, r.text
    acct.session = s
    acct.csrf = r.json()["token"]
    assert s.cookies["sessionid"]
    return acct


def display(acct, device):
    r = acct.api.get("/api/device/%s/" % device)
    assert r.status_code == 200, r.text
    return r.json()["display"]


def test_query_string_api_needs_the_csrf_token_by_session(server, session_user):
    acct = session_user
    device = unique("CS")
    assert acct.api.post("/api/device/", {"device_id": device}).status_code == 201
    url = server.base + "/api/%s/flash/A~B/C/none/0g/" % device
    r = acct.session.get(url, timeout=30)
    assert r.status_code == 403
    assert r.json() == {"detail": "CSRF Failed: CSRF token missing."}
    assert display(acct, device) is None
    r = acct.session.get(url, headers={"X-CSRFToken": "0" * 40}, timeout=30)
    assert r.status_code == 403
    assert r.json() == {"detail": "CSRF Failed: CSRF token incorrect."}
    assert display(acct, device) is None
    r = acct.session.get(url, headers={"X-CSRFToken": acct.csrf}, timeout=30)
    assert r.status_code == 200, r.text
    shown = display(acct, device)
    assert (shown["line1"], shown["line2"], shown["line3"], shown["color"]) == ("A", "B", "C", "g")
    # the key needs no token
    r = acct.api.get("/api/%s/flash/D~E/F/none/0r/" % device)
    assert r.status_code == 200, r.text
    assert display(acct, device)["line1"] == "D"


def test_launchsequence_needs_the_csrf_token_by_session(server, session_user):
    acct = session_user
    device = unique("CS")
    assert acct.api.post("/api/device/", {"device_id": device}).status_code == 201
    seq = acct.api.post("/api/sequence/", {"nonce": "x", "steps": [
        {"order": 1, "device": device, "line1": "go"}]}).json()
    url = server.base + "/api/launchsequence/%d/" % seq["id"]
    r = acct.session.get(url, timeout=30)
    assert r.status_code == 403
    assert r.json() == {"detail": "CSRF Failed: CSRF token missing."}
    assert display(acct, device) is None
    assert acct.api.get("/api/sequence/%d/" % seq["id"]).json()["status"] == "unstarted"
    r = acct.session.get(url, headers={"X-CSRFToken": "0" * 40}, timeout=30)
    assert r.status_code == 403
    assert r.json() == {"detail": "CSRF Failed: CSRF token incorrect."}
    assert display(acct, device) is None
    r = acct.session.get(url, headers={"X-CSRFToken": acct.csrf}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in-progress"
    assert display(acct, device)["line1"] == "go"
    r = acct.api.get("/api/launchsequence/%d/" % seq["id"])
    assert r.status_code == 200, r.text


# ------------------------------------------------------ 7. HTML headers

@pytest.mark.parametrize("path,with_key,status", [
    ("/api/orders/?format=api", True, 200),
    ("/api/auth/login/", False, 200),
    ("/api/docs/", True, 200),
    ("/api/orders/?format=api", False, 401),
    ("/api/orders/999999999/?format=api", True, 404),
])
def test_html_pages_carry_security_headers(server, api, path, with_key, status):
    r = (api.get(path) if with_key else requests.get(server.base + path, timeout=30))
    assert r.status_code == status
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers.get("X-Frame-Options") == "DENY"
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert r.headers.get("Referrer-Policy")
    csp = {d.strip().split(" ", 1)[0]: d.strip() for d in r.headers["Content-Security-Policy"].split(";")}
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    script_src = csp.get("script-src") or csp.get("default-src")
    assert script_src and "'unsafe-inline'" not in script_src
    for attrs, content in re.findall(r"<script\b([^>]*)>(.*?)</script\s*>", r.text, re.S | re.I):
        assert "src=" in attrs and not content.strip(), (attrs, content[:200])
    assert len(re.findall(r"<script\b", r.text, re.I)) == len(re.findall(r"</script", r.text, re.I))
    # nor inline handlers or javascript: urls, which the policy would block
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", r.text, re.I)
    assert "javascript:" not in r.text.lower()


# ---------------------------------------------------------- 8. honest logs

def log_lines(server):
    return server.read_log().splitlines()


def test_no_forged_log_lines(server, api):
    r = api.post(ORDERS, data=b"_method=X%0AFORGED", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 405
    r = api.post(ORDERS, data=b"_method=GET%0D%0AFORGED+200&_content=%7B%7D", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code in (400, 405)
    r = api.get("/api/orders/x%0AFORGED%20GET%20/")
    assert r.status_code == 404
    r = api.get("/api/x%0D%0AFORGED/")
    assert r.status_code == 404
    marker = unique("after")
    assert api.get(ORDERS, headers={"X-Request-ID": marker}).status_code == 200
    deadline = time.monotonic() + 5
    while marker not in server.read_log() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = log_lines(server)
    assert any(marker in line for line in lines)
    assert not [line for line in lines if line.startswith("FORGED")]
    assert not [line for line in lines if "FORGED" in line and not line[:4].isdigit()]


def logged_line(server, request_id):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [line for line in log_lines(server) if request_id in line]
        if found:
            return found
        time.sleep(0.05)
    return []


def test_request_ids(server, api):
    sane = "abc-123"
    r = api.get(ORDERS, headers={"X-Request-ID": sane})
    assert r.headers.get("X-Request-ID") == sane
    mine = "hostile.Req_" + uuid.uuid4().hex
    r = api.get(ORDERS + "?mine=1", headers={"X-Request-ID": mine})
    assert r.headers.get("X-Request-ID") == mine
    found = logged_line(server, mine)
    assert len(found) == 1 and "/api/orders/" in found[0] and " 200 " in found[0], found
    # every answer carries one, generated when none was sent
    answers = [
        requests.get(server.base + "/healthz", timeout=30),
        requests.get(server.base + ORDERS, timeout=30),                  # 401
        api.get("/api/no-such-thing/"),                                  # 404
        api.put(ORDERS, {}),                                             # 405
        api.post(ORDERS, {}),                                            # 400
        api.post(ORDERS, {"order_number": unique()}),                    # 201
    ]
    generated = set()
    for a in answers:
        rid = a.headers.get("X-Request-ID")
        assert rid and re.fullmatch(r"[A-Za-z0-9._-]{1,64}", rid), (a.status_code, rid)
        generated.add(rid)
    assert len(generated) == len(answers)
    longest = "L" * 64
    assert api.get(ORDERS, headers={"X-Request-ID": longest}).headers.get("X-Request-ID") == longest
    # an insane one is replaced
    for insane in ("<script>", "x" * 100, "L" * 65, "a b", "a\tb", "caf\u00e9", "a/b", "a\"b"):
        r = api.get(ORDERS, headers={"X-Request-ID": insane.encode("utf-8")})
        rid = r.headers.get("X-Request-ID")
        assert rid and rid != insane and re.fullmatch(r"[A-Za-z0-9._-]{1,64}", rid), rid
    assert "<script>" not in server.read_log()


# ------------------------------------------------------------------ 9. text

@pytest.mark.parametrize("body", [
    b'{"order_number": "\\ud800", "items": []}',
    b'{"order_number": "\\udc00", "items": []}',
    b'{"order_number": "a\\ud83dz", "items": []}',
    b'{"order_number": "\\ude00\\ud83d", "items": []}',
    b'{"order_number": "ok", "items": [{"SKU": "\\udfff", "ordered_quantity": 1}]}',
], ids=["high", "low", "high-then-letter", "reversed-pair", "nested"])
def test_lone_surrogates_are_parse_errors(api, body):
    r = api.post(ORDERS, data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["detail"].startswith("JSON parse error"), r.text
    assert order_count(api) == 0


def test_surrogate_pair_is_stored(api):
    r = api.post(ORDERS, data=b'{"order_number": "smile-\\ud83d\\ude00", "items": []}',
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["order_number"] == "smile-\U0001F600"
    got = api.get("/api/orders/%d/" % order["id"])
    assert got.json()["order_number"] == "smile-\U0001F600"
    assert "smile-\U0001F600".encode() in got.content   # UTF-8 on the wire, or escaped: either reads back


@pytest.mark.parametrize("path", [
    "/api/orders/%ff%fe/",
    "/api/device/%ff/",
    "/api/v1/shops/%c3%28/",
    "/api/v1/supplier-refunds/%ff_1/",
    "/api/v1/supplier-refunds/%ff_1/products/1/",
    "/api/orders/a%00b/",
    "/api/device/%00/",
    "/api/v1/products/x%00/",
    "/api/orders/%ed%a0%80/",
    "/api/orders/%ff/launch/",
    "/api/order/%ff/",
    "/api/items/%ff/",
    "/api/device/%ff/ack/",
    "/api/device/%ff/press/",
    "/api/%ff/flash/a/b/none/0g/",
    "/api/sequence/%ff/",
    "/api/launchsequence/%ff/",
    "/api/location-aliases/%ff/",
    "/api/v1/suppliers/%ff/",
    "/api/orders/%ff.json",
])
def test_path_that_is_not_text_is_404(api, path):
    # what a lenient decoder would make of %c3%28 exists: it must not be found
    assert api.post("/api/v1/shops/", [{"shop_id": "\ufffd("}]).status_code == 201
    r = api.get(path)
    assert r.status_code == 404, r.text[:300]
    assert r.json() == NOT_FOUND
    assert api.delete(path).status_code == 404


def test_query_string_api_line_that_is_not_text(api):
    device = unique("QS")
    assert api.post("/api/device/", {"device_id": device}).status_code == 201
    for path in ("/api/%s/flash/%%ff/b/none/0g/", "/api/%s/flash/a/b%%00c/none/0g/",
                 "/api/%s/flash/a/b/none/0g/%%c3%%28/"):
        r = api.get(path % device)
        assert r.status_code == 404, (path, r.text[:200])
        assert r.json() == NOT_FOUND
    assert api.get("/api/device/%s/" % device).json()["display"] is None


@pytest.mark.parametrize("path", [
    "/api/orders/?order_number=%ff",
    "/api/v1/supplier-refunds/?shop_id=%ff",
    "/api/orders/?order_number=%00",
    "/api/device/?ordering=%c3%28",
    "/api/v1/supplier-refunds/?supplier_id=%ed%a0%80&date_from=2017-01-01",
])
def test_query_that_is_not_text_is_answered(api, path):
    r = api.get(path)
    assert r.status_code == 200, r.text[:300]
    assert r.json()["count"] == 0


# ---------------------------------------------------------- 10. connections

def test_slow_heads_are_closed(dedicated):
    srv = dedicated("--header-timeout", "2")
    idle = connect(srv)
    slow = []
    try:
        for _ in range(20):
            s = connect(srv)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            slow.append(s)
        started = time.monotonic()
        open_ = set(range(len(slow)))
        while open_ and time.monotonic() - started < 8:
            for i in list(open_):
                s = slow[i]
                if not still_open(s):
                    open_.discard(i)
                    continue
                try:
                    s.send(b"a")
                except OSError:
                    open_.discard(i)
            time.sleep(1)
        elapsed = time.monotonic() - started
        assert not open_, "%d slow heads still open after %.1fs" % (len(open_), elapsed)
        assert elapsed < 7
        # a connection that sent nothing is left alone, and still works
        assert still_open(idle)
        idle.sendall(head_bytes(srv, "GET", "/healthz", {}))
        answer = read_answer(idle, timeout=5)
        assert answer is not None and answer.status == 200
    finally:
        idle.close()
        for s in slow:
            s.close()
    assert "request head took over 2s" in srv.read_log()


def test_stalled_body_is_closed(dedicated):
    srv = dedicated("--body-timeout", "2")
    api = Client(srv.base, new_key(srv.db))
    body = padded_order(unique(), 8192)
    sock = connect(srv)
    try:
        sock.sendall(head_bytes(srv, "POST", ORDERS, {"API_KEY": api.key, "Content-Type": "application/json"},
                                len(body)) + body[:4096])
        started = time.monotonic()
        assert closed_by_server(sock, 8), "a stalled body was not cut off"
        assert time.monotonic() - started < 6.5
    finally:
        sock.close()
    assert order_count(api) == 0
    assert requests.get(srv.base + "/healthz", timeout=10).status_code == 200


def test_connections_per_address(dedicated):
    srv = dedicated("--max-connections-per-ip", "5")
    held = []
    try:
        for _ in range(5):
            s = connect(srv)
            s.sendall(head_bytes(srv, "GET", "/healthz", {}))
            answer = read_answer(s, timeout=5)
            assert answer is not None and answer.status == 200
            held.append(s)
        sixth = connect(srv)
        try:
            try:
                sixth.sendall(head_bytes(srv, "GET", "/healthz", {}))
            except OSError:
                pass
            closed, data = drain_until_closed(sixth, 5)
            assert closed and data == b"", data[:200]
        finally:
            sixth.close()
    finally:
        for s in held:
            s.close()
    # with the five gone, a new connection is served (the server notices the
    # closes within a moment)
    deadline = time.monotonic() + 5
    status = None
    while time.monotonic() < deadline:
        try:
            status = requests.get(srv.base + "/healthz", timeout=5).status_code
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    assert status == 200


def open_many(host, port, count, payload, wait_answer, deadline, batch=500):
    """`count` connected sockets, each having sent payload (and read a whole
    answer when wait_answer); non-blocking, `batch` connects in flight."""
    sel = selectors.DefaultSelector()
    done, pending, started = [], {}, 0
    try:
        while (started < count or pending) and time.monotonic() < deadline:
            while started < count and len(pending) < batch:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                s.connect_ex((host, port))
                state = {"sock": s, "sent": False, "data": b""}
                pending[s.fileno()] = state
                sel.register(s, selectors.EVENT_WRITE, state)
                started += 1
            for key, _ in sel.select(timeout=0.5):
                state = key.data
                s = state["sock"]
                if not state["sent"]:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise OSError(err, "connect failed")
                    s.send(payload)
                    state["sent"] = True
                    if not wait_answer:
                        sel.unregister(s)
                        done.append(pending.pop(s.fileno())["sock"])
                    else:
                        sel.modify(s, selectors.EVENT_READ, state)
                    continue
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError("closed before answering")
                state["data"] += chunk
                head, sep, rest = state["data"].partition(b"\r\n\r\n")
                if sep:
                    assert head.startswith(b"HTTP/1.1 200"), head[:100]
                    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
                    if len(rest) >= length:
                        sel.unregister(s)
                        done.append(pending.pop(s.fileno())["sock"])
    except BaseException:
        for state in pending.values():
            state["sock"].close()
        for s in done:
            s.close()
        raise
    finally:
        sel.close()
    for state in pending.values():
        state["sock"].close()
    return done


def test_many_idle_and_slow_connections(dedicated, capsys):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        n = min(10000, (hard - 200) // 2)
        slow_n = min(2000, n // 5)
        srv = dedicated("--max-connections", str(n + slow_n + 100), "--header-timeout", "60",
                        "--idle-timeout", "120")
        api = Client(srv.base, new_key(srv.db))
        host, port = addr(srv)
        idle, slow = [], []
        try:
            began = time.monotonic()
            idle = open_many(host, port, n, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", True, began + 60)
            slow = open_many(host, port, slow_n, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", False,
                             began + 80)
            opened = time.monotonic() - began
            with capsys.disabled():
                print("\n[hostile] N=%d idle keep-alive + %d slow-head connections open in %.1fs"
                      % (len(idle), len(slow), opened))
            assert len(idle) == n and len(slow) == slow_n
            t0 = time.monotonic()
            r = requests.get(srv.base + "/healthz", timeout=5)
            assert r.status_code == 200
            r = api.get(ORDERS)
            assert r.status_code == 200 and r.json()["count"] == 0
            assert time.monotonic() - t0 < 5
            # the held connections are still served too
            sample = idle[:: max(1, n // 20)]
            for s in sample:
                s.setblocking(True)
                s.settimeout(10)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                answer = read_answer(s, timeout=10)
                assert answer is not None and answer.status == 200
            # and a stop with all of them held is clean and prompt
            srv.proc.send_signal(signal.SIGTERM)
            assert srv.proc.wait(timeout=30) == 0
            for s in sample[:5] + slow[:5]:
                assert closed_by_server(s, 5)
        finally:
            for s in idle + slow:
                s.close()
        log = srv.read_log()
        assert "stopped" in log and "Fatal error" not in log
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# ---------------------------------------------------------- 11. clean stop

def fresh_database(database, tmp_path, i):
    if not database.startswith("postgres"):
        return str(tmp_path / ("stop-%d.db" % i)), None
    name = "hostile_stop_%d_%s" % (i, uuid.uuid4().hex[:8])
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", database, "-c", "CREATE DATABASE " + name],
                   check=True, capture_output=True, timeout=60)
    return database.rsplit("/", 1)[0] + "/" + name, name


def drop_database(database, name):
    if name:
        subprocess.run(["psql", "-q", database, "-c", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name],
                       capture_output=True, timeout=60)


def writer(srv, key, tag, stop_at, records, failures):
    """POST small orders until the server stops; record every answer as
    (sent, received, status, number) and every cut answer as a failure."""
    host, port = addr(srv)
    conn = None
    for i in range(5000):
        if conn is None:
            conn = http.client.HTTPConnection(host, port, timeout=30)
        number = "%s-%d" % (tag, i)
        body = json.dumps({"order_number": number, "items": [{"SKU": "S", "ordered_quantity": 1}]})
        sent = time.monotonic()
        try:
            conn.request("POST", ORDERS, body=body, headers={"API_KEY": key, "Content-Type": "application/json"})
            resp = conn.getresponse()
        except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine, socket.timeout) as exc:
            # refused, reset or closed before any status line: the server is stopping
            conn.close()
            conn = None
            if isinstance(exc, socket.timeout):
                failures.append("%s: no answer within 30 s" % number)
                return
            if stop_at[0] is not None and time.monotonic() > stop_at[0]:
                if isinstance(exc, ConnectionRefusedError):
                    return
            time.sleep(0.01)
            if stop_at[0] is not None and time.monotonic() > stop_at[0] + 25:
                return
            continue
        try:
            payload = resp.read()
        except (http.client.IncompleteRead, ConnectionError, socket.timeout) as exc:
            failures.append("%s: answer %d cut in the middle: %r" % (number, resp.status, exc))
            conn.close()
            conn = None
            continue
        if resp.status == 201:
            try:
                assert json.loads(payload)["order_number"] == number
            except Exception as exc:
                failures.append("%s: 201 with a bad body %r (%r)" % (number, payload[:200], exc))
        records.append((sent, time.monotonic(), resp.status, number))
        if resp.will_close:
            conn.close()
            conn = None
    if conn:
        conn.close()


@pytest.mark.parametrize("round_", range(10))
def test_clean_stop_under_load(database, tmp_path, round_):
    rng = random.Random(round_ * 7919 + os.getpid())
    db, created = fresh_database(database, tmp_path, round_)
    try:
        key = new_key(db, "stop-%d" % round_)
        srv = Server(db)
        sig = signal.SIGINT if round_ % 2 else signal.SIGTERM
        stop_at = [None]
        records, failures = [], []
        threads = [threading.Thread(target=writer, args=(srv, key, "r%d-t%d" % (round_, t), stop_at, records,
                                                         failures)) for t in range(8)]
        try:
            for t in threads:
                t.start()
            started = time.monotonic()
            time.sleep(rng.uniform(0.2, 1.5))
            stop_at[0] = time.monotonic()
            srv.proc.send_signal(sig)
            try:
                code = srv.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                code = "still running after 30 s"
            for t in threads:
                t.join(60)
            assert not any(t.is_alive() for t in threads)
        finally:
            srv.stop()
        log = srv.read_log()
        assert code == 0, log[-3000:]
        assert "Fatal error" not in log and "Sanitizer" not in log and "runtime error" not in log, log[-3000:]
        assert not failures, failures[:10]
        before = [r for r in records if r[1] < stop_at[0]]
        after = [r for r in records if r[1] >= stop_at[0]]
        assert before and all(r[2] == 201 for r in before), [r[2] for r in before if r[2] != 201][:10]
        assert all(r[2] in (201, 503) for r in after), sorted({r[2] for r in after})
        created_numbers = [r[3] for r in records if r[2] == 201]
        print("round %d (%s after %.2fs): %d answers before the stop, %d after (%s)" % (
            round_, sig.name, stop_at[0] - started, len(before), len(after),
            ", ".join("%d: %d" % (s, sum(1 for r in after if r[2] == s)) for s in sorted({r[2] for r in after}))))
        again = Server(db)
        try:
            check = Client(again.base, key)
            missing = [n for n in created_numbers if check.get(ORDERS + n + "/").status_code != 200]
            assert not missing, "%d of %d answered 201 but lost: %s" % (len(missing), len(created_numbers),
                                                                        missing[:5])
            assert check.get(ORDERS).json()["count"] >= len(created_numbers)
        finally:
            assert again.stop() == 0
    finally:
        drop_database(database, created)


def test_stop_with_hostile_connections_held(dedicated):
    """A stop is not held up by a stalled body, a slow head or idle
    connections beyond --stop-timeout."""
    srv = dedicated("--stop-timeout", "2")
    api = Client(srv.base, new_key(srv.db))
    stalled, slow, idle = connect(srv), connect(srv), connect(srv)
    try:
        stalled.sendall(head_bytes(srv, "POST", ORDERS, {"API_KEY": api.key, "Content-Type": "application/json"},
                                   1000) + b'{"order_number": ')
        time.sleep(0.2)
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        time.sleep(0.5)
        started = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        code = srv.proc.wait(timeout=30)
        assert code == 0
        assert time.monotonic() - started < 15
        for s in (stalled, slow, idle):
            assert closed_by_server(s, 5)
    finally:
        for s in (stalled, slow, idle):
            s.close()
    log = srv.read_log()
    assert "stopped" in log and "Fatal error" not in log


# ------------------------------------------------------- bugs found here

def test_partial_head_sent_at_connect_is_closed(dedicated):
    srv = dedicated("--header-timeout", "2", "--idle-timeout", "60")
    socks = []
    try:
        for _ in range(5):
            s = connect(srv)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            socks.append(s)
        started = time.monotonic()
        for s in socks:
            assert closed_by_server(s, max(0.1, started + 6 - time.monotonic())), \
                "a partial head held for over 6 s with --header-timeout 2"
    finally:
        for s in socks:
            s.close()


def test_conflicting_content_lengths_are_refused(server, api):
    body = b'{"order_number": "smuggle"}'
    sock = connect(server)
    try:
        sock.sendall(b"POST /api/orders/ HTTP/1.1\r\nHost: x\r\nAPI_KEY: " + api.key.encode() +
                     b"\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: %d\r\n\r\n"
                     % len(body) + body)
        answer = read_answer(sock, timeout=5)
        assert answer is not None and answer.status == 400
        assert closed_by_server(sock, 3), "the connection goes on after an ambiguous body length"
    finally:
        sock.close()
    assert order_count(api) == 0


@pytest.mark.xfail(strict=True, reason="libmicrohttpd 0.9.75 (Debian 12's) refuses a Content-Length it "
                   "cannot read before the application sees the request, and its error path writes the "
                   "status line and headers twice (its bug, fixed in 0.9.76): the connection is closed and "
                   "nothing is stored, but the answer is garbled; see docs/decisions.md")
@pytest.mark.parametrize("value,status", [
    ("99999999999999999999999", 413),   # past 2^64: over any limit
    ("+22", 400),
    ("-1", 400),
    ("22, 22", 400),
])
def test_unreadable_content_length_gets_one_clean_answer(server, api, value, status):
    sock = connect(server)
    try:
        sock.sendall(("POST /api/orders/ HTTP/1.1\r\nHost: x\r\nAPI_KEY: %s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %s\r\n\r\n" % (api.key, value)).encode())
        _, raw = drain_until_closed(sock, 5)
    finally:
        sock.close()
    assert raw.count(b"HTTP/1.1 ") == 1, raw[:400]
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.split()[1] == str(status).encode()
    assert b"Content-Type: application/json" in head
    json.loads(body)
    assert order_count(api) == 0


@pytest.mark.parametrize("which", ["password", "username"])
def test_nul_in_credentials_is_not_cut_short(dedicated, which):
    server = dedicated()   # its own throttling buckets: the shared server's stay clean
    acct = Account(server)
    creds = {"username": acct.username, "password": acct.password}
    creds[which] += "\u0000junk"
    r = requests.post(server.base + "/api/user/login/", json=creds, timeout=30)
    assert r.status_code == 401, r.text


def test_cut_off_request_is_not_logged_as_a_server_error(dedicated):
    srv = dedicated("--body-timeout", "1")
    api = Client(srv.base, new_key(srv.db))
    rid = unique("cut")
    sock = connect(srv)
    try:
        sock.sendall(head_bytes(srv, "POST", ORDERS, {"API_KEY": api.key, "Content-Type": "application/json",
                                                      "X-Request-ID": rid}, 1000) + b'{"order_number": ')
        assert closed_by_server(sock, 8)
    finally:
        sock.close()
    lines = logged_line(srv, rid)
    assert len(lines) == 1, lines
    # no answer was sent: the log says so ("-"), not a status the server never gave
    assert re.search(r" - \d+ \d+us ", lines[0]), lines[0]
