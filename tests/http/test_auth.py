"""Contract section 2 (API keys, tenants) and section 7 (healthz, command
line, access log, SIGTERM). OAuth2 bearer tokens, session cookies and the
section 2.1 login are tested elsewhere."""
import os
import signal
import subprocess
import time
import uuid
from urllib.parse import quote

import pytest
import requests

from conftest import BIN, Client, Server, cli, free_port, new_key

LIST = "/api/orders/"
NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}
INVALID = {"detail": "Invalid token."}
NOT_FOUND = {"detail": "Not found."}


def unique(prefix="c"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def create(client, number=None, **fields):
    body = {"order_number": number or unique("o")}
    body.update(fields)
    r = client.post(LIST, body)
    assert r.status_code == 201, r.text
    return r.json()


def get(server, path, headers=None):
    return requests.get(server.base + path, headers=headers or {}, timeout=30)


def assert_401(r, body):
    assert r.status_code == 401, (r.status_code, r.text)
    assert r.headers.get("Content-Type") == "application/json"
    assert r.json() == body


def last_token(text):
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    assert lines, "no output"
    return lines[-1].split()[-1]


# ------------------------------------------------------------ key headers

@pytest.mark.parametrize("header", ["API_KEY", "API-KEY", "API-Key", "Api-Key", "api-key",
                                    "aPi-KeY", "api_key"])
def test_key_header_spellings(server, key, header):
    mine = create(Client(server.base, key))
    r = get(server, LIST, {header: key})
    assert r.status_code == 200, r.text
    assert [o["id"] for o in r.json()["results"]] == [mine["id"]]


@pytest.mark.parametrize("scheme", ["Token", "token", "TOKEN"])
def test_authorization_token(server, key, scheme):
    mine = create(Client(server.base, key))
    r = get(server, LIST, {"Authorization": "%s %s" % (scheme, key)})
    assert r.status_code == 200, r.text
    assert [o["id"] for o in r.json()["results"]] == [mine["id"]]


def test_key_works_for_writes(server, key):
    for header in ("API_KEY", "Api-Key"):
        client = Client(server.base, key, header=header)
        created = create(client)
        r = client.patch("/api/orders/%d/" % created["id"], {"order_number": unique("p")})
        assert r.status_code == 200, r.text
        r = client.delete("/api/orders/%d/" % created["id"])
        assert r.status_code == 204
    client = requests.Session()
    client.headers["Authorization"] = "Token " + key
    r = client.post(server.base + LIST, json={"order_number": unique()}, timeout=30)
    assert r.status_code == 201, r.text


def test_no_credentials(server):
    for method, path in (("GET", LIST), ("GET", "/api/orders/1/"), ("PATCH", "/api/items/1/"),
                         ("GET", "/api/device/"), ("HEAD", LIST), ("OPTIONS", LIST)):
        r = requests.request(method, server.base + path, timeout=30)
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.headers.get("WWW-Authenticate") == "Token"
        if method != "HEAD":
            assert_401(r, NO_CREDENTIALS)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_no_credentials_on_writes(server, method):
    path = LIST if method == "POST" else "/api/orders/1/"
    r = requests.request(method, server.base + path, json={"order_number": "x"}, timeout=30)
    assert_401(r, NO_CREDENTIALS)
    assert r.headers.get("WWW-Authenticate") == "Token"


def test_no_credentials_wins_over_bad_body(server):
    r = requests.post(server.base + LIST, data=b"{not json",
                      headers={"Content-Type": "application/json"}, timeout=30)
    assert_401(r, NO_CREDENTIALS)


@pytest.mark.parametrize("headers", [
    {"API_KEY": "not-a-real-key"},
    {"Api-Key": "0" * 40},
    {"Authorization": "Token not-a-real-key"},
    {"Authorization": "Token"},
    {"Authorization": "Token a b"},
], ids=repr)
def test_bad_key(server, headers):
    assert_401(get(server, LIST, headers), INVALID)


def test_bad_key_on_writes_changes_nothing(server, api):
    created = create(api)
    bad = Client(server.base, "wrong-" + api.key)
    assert_401(bad.post(LIST, {"order_number": unique()}), INVALID)
    assert_401(bad.delete("/api/orders/%d/" % created["id"]), INVALID)
    assert_401(bad.patch("/api/orders/%d/" % created["id"], {"order_number": "z"}), INVALID)
    assert api.get(LIST).json()["results"] == [created]


def test_key_is_exact(server, key):
    """A prefix, a suffix or a changed case of a key is not the key."""
    for wrong in (key[:-1], key + "x", key.swapcase() if key.swapcase() != key else key + "A"):
        assert_401(get(server, LIST, {"API_KEY": wrong}), INVALID)


# ------------------------------------------------------- keys and the CLI

def make_customer(db):
    name = unique("cust")
    return name, new_key(db, name)


def test_customer_create_prints_the_key_alone_on_its_last_line(server):
    name = unique("cust")
    res = cli(server.db, "customer", "create", name)
    lines = res.stdout.strip().splitlines()
    key = lines[-1]
    assert key == key.strip() and key and " " not in key and "\t" not in key
    assert len(key) >= 16
    r = get(server, LIST, {"API_KEY": key})
    assert r.status_code == 200, r.text
    assert r.json()["count"] == 0


def test_two_customers_get_different_keys(server):
    _, a = make_customer(server.db)
    _, b = make_customer(server.db)
    assert a != b


def test_key_create_makes_a_second_key_for_the_same_customer(server):
    name, first = make_customer(server.db)
    res = cli(server.db, "key", "create", name)
    second = last_token(res.stdout)
    assert second != first
    created = create(Client(server.base, first))
    r = get(server, LIST, {"API_KEY": second})
    assert r.status_code == 200, r.text
    assert r.json()["results"] == [created]
    # and writes through the second key are seen through the first
    other = create(Client(server.base, second, header="Api-Key"))
    r = get(server, "/api/orders/%d/" % other["id"], {"API_KEY": first})
    assert r.status_code == 200 and r.json() == other


def test_key_list_does_not_print_secrets(server):
    name, first = make_customer(server.db)
    second = last_token(cli(server.db, "key", "create", name).stdout)
    res = cli(server.db, "key", "list", name)
    assert res.returncode == 0
    out = res.stdout + res.stderr
    assert first not in out and second not in out
    assert len([line for line in res.stdout.splitlines() if line.strip()]) >= 2


def test_revoked_key_is_invalid(server):
    name, first = make_customer(server.db)
    second = last_token(cli(server.db, "key", "create", name).stdout)
    created = create(Client(server.base, first))
    cli(server.db, "key", "revoke", first)
    for header in ("API_KEY", "Api-Key"):
        assert_401(get(server, LIST, {header: first}), INVALID)
    assert_401(get(server, LIST, {"Authorization": "Token " + first}), INVALID)
    # the other key of the customer still works, and the data is still there
    r = get(server, LIST, {"API_KEY": second})
    assert r.status_code == 200
    assert r.json()["results"] == [created]


def test_revoked_key_on_a_kept_alive_connection(server):
    """Revocation takes effect at once, also for a client that keeps its
    connection open."""
    name, k = make_customer(server.db)
    client = Client(server.base, k)
    assert client.get(LIST).status_code == 200
    cli(server.db, "key", "revoke", k)
    assert_401(client.get(LIST), INVALID)


def test_revoking_an_unknown_key_fails(server):
    res = cli(server.db, "key", "revoke", "no-such-key-" + uuid.uuid4().hex, check=False)
    assert res.returncode != 0
    assert res.stderr.strip()


def test_key_list_for_unknown_customer_fails(server):
    res = cli(server.db, "key", "list", unique("nobody"), check=False)
    assert res.returncode != 0
    assert res.stderr.strip()


def test_key_create_for_unknown_customer_fails(server):
    res = cli(server.db, "key", "create", unique("nobody"), check=False)
    assert res.returncode != 0
    assert res.stderr.strip()


# ----------------------------------------------------------------- tenants

def test_other_customers_order_is_404(api, other_api):
    theirs = create(other_api, "THEIRS-1", items=[{"SKU": "S", "ordered_quantity": 1}])
    for target in ("/api/orders/%d/" % theirs["id"], "/api/orders/THEIRS-1/"):
        assert api.get(target).json() == NOT_FOUND
        r = api.get(target)
        assert r.status_code == 404
        r = api.put(target, {"order_number": "MINE-NOW"})
        assert r.status_code == 404 and r.json() == NOT_FOUND
        r = api.patch(target, {"order_number": "MINE-NOW"})
        assert r.status_code == 404 and r.json() == NOT_FOUND
        r = api.delete(target)
        assert r.status_code == 404 and r.json() == NOT_FOUND
    assert other_api.get("/api/orders/%d/" % theirs["id"]).json() == theirs
    item_id = theirs["shipments"][0]["items"][0]["id"]
    r = api.patch("/api/items/%d/" % item_id, {"quantity_fulfilled": 1})
    assert r.status_code == 404 and r.json() == NOT_FOUND
    assert other_api.get("/api/orders/%d/" % theirs["id"]).json() == theirs


def test_lists_are_per_customer(api, other_api):
    mine = [create(api, "L-%d" % i) for i in range(3)]
    theirs = [create(other_api, "L-%d" % i) for i in range(2)]
    page = api.get(LIST).json()
    assert page["count"] == 3
    assert page["results"] == mine
    page = other_api.get(LIST).json()
    assert page["count"] == 2
    assert page["results"] == theirs
    r = api.get(LIST + "?order_number=L-1")
    assert r.json()["results"] == [mine[1]]
    r = other_api.get(LIST + "?page_size=1&page=2")
    assert r.json()["results"] == [theirs[1]] and r.json()["next"] is None
    assert api.get(LIST + "?page_size=1&page=4").json() == {"detail": "Invalid page."}


def test_same_order_number_for_two_customers(api, other_api):
    a = create(api, "SO-SHARED")
    b = create(other_api, "SO-SHARED")
    assert a["id"] != b["id"]
    assert api.get("/api/orders/SO-SHARED/").json() == a
    assert other_api.get("/api/orders/SO-SHARED/").json() == b
    assert api.delete("/api/orders/SO-SHARED/").status_code == 204
    assert other_api.get("/api/orders/SO-SHARED/").json() == b


def test_other_customers_number_does_not_shadow_id(api, other_api):
    """Numbers are looked up among the caller's orders only: another
    customer's order numbered like my order's id does not hide it."""
    mine = create(api)
    create(other_api, str(mine["id"]))
    assert api.get("/api/orders/%d/" % mine["id"]).json() == mine


# ------------------------------------------------------------------ healthz

def test_healthz_needs_no_credentials(server):
    r = requests.get(server.base + "/healthz", timeout=10)
    assert r.status_code == 200
    r = requests.get(server.base + "/healthz", headers={"API_KEY": "bogus"}, timeout=10)
    assert r.status_code == 200


# --------------------------------------------------------------------- CLI

COMMANDS = [
    [],
    ["serve"],
    ["customer"],
    ["customer", "create"],
    ["key"],
    ["key", "create"],
    ["key", "revoke"],
    ["key", "list"],
    ["user"],
    ["user", "create"],
    ["user", "list"],
    ["user", "delete"],
    ["oauth-client"],
    ["oauth-client", "create"],
    ["oauth-client", "list"],
    ["oauth-client", "delete"],
]


def run_bin(*args, input=None, timeout=20):
    return subprocess.run([BIN, *args], input=input, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "stockroom")
def test_help(command):
    res = run_bin(*command, "--help")
    assert res.returncode == 0, res.stderr
    assert "usage" in (res.stdout + res.stderr).lower()
    assert res.stdout.strip()


@pytest.mark.parametrize("command", [
    ["customer", "create", "somebody"],
    ["key", "list", "somebody"],
    ["key", "revoke", "somekey"],
], ids=" ".join)
def test_unknown_flag_is_refused(database, command):
    res = run_bin(*command, "--db", database, "--no-such-flag")
    assert res.returncode != 0
    assert "--no-such-flag" in res.stderr


def test_unknown_flag_on_serve_is_refused(database):
    try:
        res = run_bin("serve", "--listen", "127.0.0.1:%d" % free_port(), "--db", database,
                      "--no-such-flag", timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("serve started despite an unknown flag")
    assert res.returncode != 0
    assert "--no-such-flag" in res.stderr


def test_unknown_command_is_refused():
    res = run_bin("no-such-command")
    assert res.returncode != 0
    assert res.stderr.strip()


def test_customer_create_without_name_is_refused(database):
    res = run_bin("customer", "create", "--db", database)
    assert res.returncode != 0
    assert res.stderr.strip()


# -------------------------------------------------------------- access log

def wait_for_log(server, needle, timeout=10):
    """The log line is written when the request ends; poll for it."""
    deadline = time.time() + timeout
    while True:
        lines = [line for line in server.read_log().splitlines() if needle in line]
        if lines or time.time() > deadline:
            return lines
        time.sleep(0.02)


def test_access_log_line_per_request(server, api):
    marker = "logprobe-" + uuid.uuid4().hex[:10]
    r = api.get("/api/orders/%s/" % marker)
    assert r.status_code == 404
    lines = wait_for_log(server, marker)
    assert len(lines) == 1, lines
    assert "GET" in lines[0] and "/api/orders/%s/" % marker in lines[0] and "404" in lines[0]


def count_lines(server, *needles):
    return len([line for line in server.read_log().splitlines()
                if all(n in line for n in needles)])


def test_access_log_line_for_a_create(server, api):
    before = count_lines(server, "POST", "/api/orders", "201")
    r = api.post(LIST, {"order_number": "logged-" + uuid.uuid4().hex[:8]})
    assert r.status_code == 201
    deadline = time.time() + 10
    while count_lines(server, "POST", "/api/orders", "201") == before and time.time() < deadline:
        time.sleep(0.02)
    assert count_lines(server, "POST", "/api/orders", "201") == before + 1


def test_access_log_never_shows_keys(server, key):
    marker = "keyprobe-" + uuid.uuid4().hex[:10]
    bad_key = "bad-" + uuid.uuid4().hex
    for headers in ({"API_KEY": key}, {"Api-Key": key}, {"Authorization": "Token " + key},
                    {"API_KEY": bad_key}, {"Authorization": "Token " + bad_key}):
        r = get(server, "/api/orders/%s/" % marker, headers)
        assert r.status_code in (401, 404)
    requests.post(server.base + LIST, json={"order_number": marker + "-" + key},
                  headers={"API_KEY": key}, timeout=30)
    lines = wait_for_log(server, marker)
    assert len(lines) >= 5
    log = server.read_log()
    assert key not in log
    assert bad_key not in log


def test_access_log_has_status_for_errors(server):
    marker = "unauth-" + uuid.uuid4().hex[:10]
    r = requests.delete(server.base + "/api/orders/%s/" % marker, timeout=30)
    assert r.status_code == 401
    lines = wait_for_log(server, marker)
    assert len(lines) == 1 and "DELETE" in lines[0] and "401" in lines[0], lines


# ---------------------------------------------------------------- signals

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_signal_exits_cleanly(database, sig):
    srv = Server(database)
    try:
        client = Client(srv.base, new_key(database))
        create(client)
        assert client.get(LIST).json()["count"] == 1
        assert srv.stop(sig) == 0, srv.read_log()
    finally:
        srv.stop()
        os.unlink(srv.log.name)


def test_sigterm_with_an_idle_keep_alive_connection(database):
    """An open, idle client connection does not keep the server from exiting."""
    srv = Server(database)
    try:
        client = Client(srv.base, new_key(database))
        assert client.get(LIST).status_code == 200  # the session keeps its connection
        srv.proc.send_signal(signal.SIGTERM)
        try:
            code = srv.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("still running 10 s after SIGTERM with an idle connection open")
        assert code == 0, srv.read_log()
        client.session.close()
    finally:
        srv.stop()


def test_data_survives_a_restart(database):
    srv = Server(database)
    client = Client(srv.base, new_key(database))
    try:
        made = create(client, items=[{"SKU": "R", "ordered_quantity": 2}])
        assert srv.stop(signal.SIGTERM) == 0
    finally:
        srv.stop()
    srv = Server(database)
    try:
        r = Client(srv.base, client.key).get("/api/orders/%s/" % quote(made["order_number"]))
        assert r.status_code == 200 and r.json() == made
    finally:
        srv.stop()
