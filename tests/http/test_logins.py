"""Contract §2, §2.1, §4.3, §6, §7: users, OAuth2, sessions, CSRF, API roots.

Every test makes its own customer, user and client, so tests never share
credentials. Expiry is tested by moving a stored expiry into the past in
the database itself (SQLite file or PostgreSQL URL), never by waiting.
"""
import base64
import sqlite3
import uuid

import pytest
import requests

from conftest import Client, Server, cli, db_exec

PASSWORD_CHARS = "pw-\u00e9-" + "x" * 8


class Account:
    """A customer with its API key, a user and an OAuth2 client."""

    def __init__(self, server):
        self.server = server
        tag = uuid.uuid4().hex[:10]
        self.customer = "logins-" + tag
        self.key = cli(server.db, "customer", "create", self.customer).stdout.strip().splitlines()[-1]
        self.username = "user-" + tag
        self.password = PASSWORD_CHARS + tag
        cli(server.db, "user", "create", self.customer, self.username, input=self.password + "\n")
        out = cli(server.db, "oauth-client", "create", self.customer).stdout
        fields = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
        self.client_id, self.client_secret = fields["client_id"], fields["client_secret"]
        self.api = Client(server.base, self.key)

    def token(self, **extra):
        data = {"grant_type": "password", "username": self.username, "password": self.password}
        data.update(extra)
        return requests.post(self.server.base + "/api/o/token/", data=data,
                             auth=(self.client_id, self.client_secret), timeout=30)

    def refresh(self, refresh_token, client_id=None, client_secret=None):
        return requests.post(self.server.base + "/api/o/token/", timeout=30, data={
            "grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": client_id or self.client_id,
            "client_secret": client_secret or self.client_secret})

    def session_login(self, **kw):
        return requests.post(self.server.base + "/api/user/login/", timeout=30,
                             json={"username": self.username, "password": self.password}, **kw)


@pytest.fixture
def acct(server):
    return Account(server)


@pytest.fixture
def other(server):
    return Account(server)


def bearer(token):
    return {"Authorization": "Bearer " + token}


def new_order(client, headers=None, number=None):
    number = number or "ORD-" + uuid.uuid4().hex[:8]
    r = client.post("/api/orders/", {"order_number": number, "shipments": []}, headers=headers or {})
    assert r.status_code == 201, r.text
    return r.json()


# ------------------------------------------------------------------ the CLI

def test_user_create_reads_the_password_from_stdin(server, acct):
    out = cli(server.db, "user", "list", acct.customer).stdout
    assert acct.username in out
    assert acct.password not in out
    # the stored hash is Argon2id, never the password
    if not server.db.startswith("postgres"):
        conn = sqlite3.connect(server.db)
        (stored,) = conn.execute("SELECT password_hash FROM users WHERE username = ?",
                                 (acct.username,)).fetchone()
        conn.close()
        assert stored.startswith("$argon2id$")
        assert acct.password not in stored


@pytest.mark.parametrize("args,stdin,message", [
    (["no-such-customer", "someone"], "pw\n", "no such customer"),
    (["CUSTOMER", "has space"], "pw\n", "username"),
    (["CUSTOMER", "x" * 151], "pw\n", "username"),
    (["CUSTOMER", "fine-name"], "\n", "password is empty"),
    (["CUSTOMER", "fine-name"], "", "password on stdin"),
])
def test_user_create_refuses(server, acct, args, stdin, message):
    args = [acct.customer if a == "CUSTOMER" else a for a in args]
    res = cli(server.db, "user", "create", *args, input=stdin, check=False)
    assert res.returncode != 0
    assert message in res.stderr


def test_usernames_are_unique_across_customers(server, acct, other):
    res = cli(server.db, "user", "create", other.customer, acct.username, input="pw\n", check=False)
    assert res.returncode != 0
    assert "exists" in res.stderr


def test_user_delete_ends_its_tokens_and_sessions(server, acct):
    access = acct.token().json()["access_token"]
    login = acct.session_login()
    apikey = login.json()["apikey"]
    assert acct.api.get("/api/orders/", headers=bearer(access)).status_code == 200
    cli(server.db, "user", "delete", acct.username)
    assert requests.get(server.base + "/api/orders/", headers=bearer(access), timeout=30).status_code == 401
    assert requests.get(server.base + "/api/orders/", headers={"API-KEY": apikey},
                        timeout=30).status_code == 401
    assert requests.get(server.base + "/api/orders/", cookies=login.cookies,
                        timeout=30).status_code == 401
    assert acct.token().json() == {"error": "invalid_grant"}
    res = cli(server.db, "user", "delete", acct.username, check=False)
    assert res.returncode != 0 and "no such user" in res.stderr


def test_oauth_client_create_registers_given_credentials(server, acct, other):
    # the same shipped credentials, registered by two customers
    for a in (acct, other):
        out = cli(server.db, "oauth-client", "create", a.customer, "--client-id", "shipped-client",
                  "--client-secret", "shipped:secret").stdout
        assert "client_id: shipped-client" in out and "client_secret: shipped:secret" in out
    for a in (acct, other):
        r = requests.post(server.base + "/api/o/token/", auth=("shipped-client", "shipped:secret"),
                          data={"grant_type": "password", "username": a.username,
                                "password": a.password}, timeout=30)
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        order = new_order(a.api)
        # each token sees its own customer's order only
        assert requests.get(server.base + "/api/orders/%d/" % order["id"], headers=bearer(token),
                            timeout=30).status_code == 200
    listed = cli(server.db, "oauth-client", "list", acct.customer).stdout
    assert "shipped-client" in listed and "shipped:secret" not in listed
    again = cli(server.db, "oauth-client", "create", acct.customer, "--client-id", "shipped-client",
                "--client-secret", "x", check=False)
    assert again.returncode != 0 and "already" in again.stderr


@pytest.mark.parametrize("flags", [["--client-id", "only-id"], ["--client-secret", "only-secret"]])
def test_oauth_client_create_needs_both_flags(server, acct, flags):
    res = cli(server.db, "oauth-client", "create", acct.customer, *flags, check=False)
    assert res.returncode == 2
    assert "both" in res.stderr


def test_oauth_client_delete_ends_its_tokens(server, acct):
    access = acct.token().json()["access_token"]
    cli(server.db, "oauth-client", "delete", acct.customer, acct.client_id)
    assert requests.get(server.base + "/api/orders/", headers=bearer(access), timeout=30).status_code == 401
    assert acct.token().status_code == 401


# ------------------------------------------------------------------ OAuth2

def test_password_grant_answers_the_contract(server, acct):
    r = acct.token()
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 36000
    assert body["scope"] == "read write"
    assert body["access_token"] != body["refresh_token"]
    assert len(body["access_token"]) >= 30
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Cache-Control"] == "no-store"
    # a second login gives other tokens
    assert acct.token().json()["access_token"] != body["access_token"]


def test_bearer_works_on_both_apis_scoped_to_the_customer(server, acct, other):
    token = acct.token().json()["access_token"]
    mine = new_order(acct.api)
    theirs = new_order(other.api)
    h = bearer(token)
    listed = requests.get(server.base + "/api/orders/", headers=h, timeout=30).json()
    assert [o["id"] for o in listed["results"]] == [mine["id"]]
    assert requests.get(server.base + "/api/orders/%d/" % theirs["id"], headers=h,
                        timeout=30).status_code == 404
    created = requests.post(server.base + "/api/orders/", headers=h, timeout=30,
                            json={"order_number": "BEARER-1", "shipments": []})
    assert created.status_code == 201, created.text      # no CSRF for bearer requests
    shops = requests.post(server.base + "/api/v1/shops/", headers=h, timeout=30,
                          json=[{"shop_id": "s-1", "name": "Main street"}])
    assert shops.status_code == 201, shops.text
    assert acct.api.get("/api/v1/shops/s-1/").json()["name"] == "Main street"
    assert other.api.get("/api/v1/shops/s-1/").status_code == 404
    assert requests.get(server.base + "/api/v1/supplier-refunds/", headers=h,
                        timeout=30).json()["count"] == 0


def test_client_credentials_in_the_body(server, acct):
    r = requests.post(server.base + "/api/o/token/", timeout=30, data={
        "grant_type": "password", "username": acct.username, "password": acct.password,
        "client_id": acct.client_id, "client_secret": acct.client_secret,
        "scope": "read write", "unknown_parameter": "ignored"})
    assert r.status_code == 200, r.text


def test_basic_credentials_are_form_decoded(server, acct):
    """RFC 6749 §2.3.1: id and secret are form-encoded before Basic."""
    cli(server.db, "oauth-client", "create", acct.customer, "--client-id", "odd+id",
        "--client-secret", "sec%ret")
    raw = base64.b64encode(b"odd%2Bid:sec%25ret").decode()
    r = requests.post(server.base + "/api/o/token/", timeout=30,
                      headers={"Authorization": "Basic " + raw},
                      data={"grant_type": "password", "username": acct.username,
                            "password": acct.password})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("change,status,error", [
    ({"password": "wrong"}, 400, "invalid_grant"),
    ({"username": "nobody-" + uuid.uuid4().hex}, 400, "invalid_grant"),
    ({"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
    ({"grant_type": "authorization_code"}, 400, "unsupported_grant_type"),
    ({"grant_type": ""}, 400, "invalid_request"),
    ({"password": ""}, 400, "invalid_request"),
])
def test_token_errors(server, acct, change, status, error):
    r = acct.token(**change)
    assert r.status_code == status, r.text
    assert r.json() == {"error": error}
    assert r.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("auth", [("wrong-client", "x"), ("CLIENT", "wrong-secret"), None])
def test_wrong_client_is_invalid_client(server, acct, auth):
    if auth and auth[0] == "CLIENT":
        auth = (acct.client_id, auth[1])
    r = requests.post(server.base + "/api/o/token/", auth=auth, timeout=30, data={
        "grant_type": "password", "username": acct.username, "password": acct.password})
    assert r.status_code == 401, r.text
    assert r.json() == {"error": "invalid_client"}
    assert "WWW-Authenticate" in r.headers


def test_malformed_basic_header_is_invalid_client(server, acct):
    for header in ["Basic !!!notbase64", "Basic " + base64.b64encode(b"no-colon").decode()]:
        r = requests.post(server.base + "/api/o/token/", headers={"Authorization": header},
                          timeout=30, data={"grant_type": "password", "username": acct.username,
                                            "password": acct.password})
        assert r.status_code == 401
        assert r.json() == {"error": "invalid_client"}


def test_a_client_of_another_customer_gets_invalid_grant(server, acct, other):
    r = requests.post(server.base + "/api/o/token/", auth=(other.client_id, other.client_secret),
                      timeout=30, data={"grant_type": "password", "username": acct.username,
                                        "password": acct.password})
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_grant"}


def test_token_endpoint_is_post_only_and_public(server, acct):
    r = requests.get(server.base + "/api/o/token/", timeout=30)
    assert r.status_code == 405
    assert r.json() == {"detail": 'Method "GET" not allowed.'}
    assert r.headers["Allow"] == "POST"


def test_refresh_rotates_tokens(server, acct):
    first = acct.token().json()
    r = acct.refresh(first["refresh_token"])
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["expires_in"] == 36000
    assert acct.api.get("/api/orders/", headers=bearer(second["access_token"])).status_code == 200
    # the old pair is gone: a replayed refresh token is refused, the old access token too
    replay = acct.refresh(first["refresh_token"])
    assert replay.status_code == 400 and replay.json() == {"error": "invalid_grant"}
    assert requests.get(server.base + "/api/orders/", headers=bearer(first["access_token"]),
                        timeout=30).status_code == 401
    # the new refresh token still works after the refused replay
    assert acct.refresh(second["refresh_token"]).status_code == 200


def test_refresh_by_another_client_is_refused_and_changes_nothing(server, acct, other):
    pair = acct.token().json()
    r = acct.refresh(pair["refresh_token"], other.client_id, other.client_secret)
    assert r.status_code == 400 and r.json() == {"error": "invalid_grant"}
    assert acct.refresh(pair["refresh_token"]).status_code == 200


def test_refresh_with_a_bogus_token(server, acct):
    r = acct.refresh("0" * 40)
    assert r.status_code == 400 and r.json() == {"error": "invalid_grant"}
    r = requests.post(server.base + "/api/o/token/", auth=(acct.client_id, acct.client_secret),
                      data={"grant_type": "refresh_token"}, timeout=30)
    assert r.status_code == 400 and r.json() == {"error": "invalid_request"}


def test_bad_bearer_tokens(server, acct):
    for header in ["Bearer " + "f" * 40, "Bearer", "Bearer a b"]:
        r = requests.get(server.base + "/api/orders/", headers={"Authorization": header}, timeout=30)
        assert r.status_code == 401
        assert r.json() == {"detail": "Invalid token."}


def test_expired_access_token_is_refused_but_refreshes(server, acct):
    pair = acct.token().json()
    db_exec(server.db, "UPDATE oauth_tokens SET access_expires = 0 WHERE user_id = "
                       "(SELECT id FROM users WHERE username = '%s')" % acct.username)
    r = requests.get(server.base + "/api/orders/", headers=bearer(pair["access_token"]), timeout=30)
    assert r.status_code == 401 and r.json() == {"detail": "Invalid token."}
    fresh = acct.refresh(pair["refresh_token"])
    assert fresh.status_code == 200
    assert acct.api.get("/api/orders/", headers=bearer(fresh.json()["access_token"])).status_code == 200


def test_tokens_survive_a_restart(database, acct):
    # a second server process on the same database honours tokens the first gave
    pair = acct.token().json()
    second = Server(database)
    try:
        r = requests.get(second.base + "/api/orders/", headers=bearer(pair["access_token"]), timeout=30)
        assert r.status_code == 200
        r = requests.post(second.base + "/api/o/token/", timeout=30, data={
            "grant_type": "refresh_token", "refresh_token": pair["refresh_token"],
            "client_id": acct.client_id, "client_secret": acct.client_secret})
        assert r.status_code == 200, r.text
    finally:
        assert second.stop() == 0


def test_secrets_never_reach_the_log(server, acct):
    pair = acct.token().json()
    acct.refresh(pair["refresh_token"])
    login = acct.session_login().json()
    log = server.read_log()
    for secret in (acct.password, acct.client_secret, pair["access_token"], pair["refresh_token"],
                   login["apikey"], login["token"]):
        assert secret not in log


# ------------------------------------------------------------------ §2.1 session login

def test_user_login_answers_token_apikey_and_cookies(server, acct):
    r = acct.session_login()
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"token", "apikey"}
    assert r.cookies["csrftoken"] == body["token"]
    assert r.cookies["sessionid"]
    cookies = r.headers["Set-Cookie"]
    session_cookie = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("sessionid=")][0]
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "csrftoken=" in cookies
    # the temporary key works in every spelling of the key header
    for header in ("API_KEY", "api-key", "API-Key"):
        assert acct.api.get("/api/orders/", headers={"API_KEY": None, header: body["apikey"]}
                            ).status_code == 200


def test_user_login_takes_a_form(server, acct):
    r = requests.post(server.base + "/api/user/login/", timeout=30,
                      data={"username": acct.username, "password": acct.password})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("body", [
    {"username": "U", "password": "wrong"},
    {"username": "nobody", "password": "P"},
    {"username": "U"},
    {},
    ["U", "P"],
])
def test_user_login_bad_credentials(server, acct, body):
    def fill(v):
        return acct.username if v == "U" else acct.password if v == "P" else v
    body = {k: fill(v) for k, v in body.items()} if isinstance(body, dict) else [fill(v) for v in body]
    r = requests.post(server.base + "/api/user/login/", json=body, timeout=30)
    assert r.status_code == 401
    assert r.json() == {"detail": "Invalid username/password."}
    assert "sessionid" not in r.cookies


def test_session_cookie_needs_the_csrf_token_for_unsafe_methods(server, acct, other):
    login = acct.session_login()
    token = login.json()["token"]
    jar = login.cookies
    url = server.base + "/api/orders/"
    body = {"order_number": "S-" + uuid.uuid4().hex[:6], "shipments": []}
    # reading needs no token
    assert requests.get(url, cookies=jar, timeout=30).status_code == 200
    r = requests.post(url, json=body, cookies=jar, timeout=30)
    assert r.status_code == 403
    assert r.json() == {"detail": "CSRF Failed: CSRF token missing."}
    r = requests.post(url, json=body, cookies=jar, headers={"X-CSRF-Token": "0" * 40}, timeout=30)
    assert r.status_code == 403
    assert r.json() == {"detail": "CSRF Failed: CSRF token incorrect."}
    # nothing was stored by the refused requests
    assert acct.api.get("/api/orders/").json()["count"] == 0
    for header in ("X-CSRF-Token", "X-CSRFToken"):
        body["order_number"] = "S-" + uuid.uuid4().hex[:6]
        r = requests.post(url, json=body, cookies=jar, headers={header: token}, timeout=30)
        assert r.status_code == 201, r.text
    order = r.json()
    assert requests.delete(url + "%d/" % order["id"], cookies=jar, timeout=30).status_code == 403
    assert requests.delete(url + "%d/" % order["id"], cookies=jar, headers={"X-CSRFToken": token},
                           timeout=30).status_code == 204
    # another customer's session does not see this customer's orders
    theirs = other.session_login().cookies
    mine = new_order(acct.api)
    assert requests.get(url + "%d/" % mine["id"], cookies=theirs, timeout=30).status_code == 404


def test_keys_need_no_csrf_even_with_a_session_cookie(server, acct):
    login = acct.session_login()
    r = requests.post(server.base + "/api/orders/", cookies=login.cookies, timeout=30,
                      headers={"API-KEY": login.json()["apikey"]},
                      json={"order_number": "K-1", "shipments": []})
    assert r.status_code == 201, r.text


def test_stale_or_expired_sessions_are_401_never_403(server, acct):
    url = server.base + "/api/orders/"
    r = requests.post(url, json={}, cookies={"sessionid": "0123456789abcdefexpired",
                                             "csrftoken": "x"}, headers={"X-CSRF-Token": "x"},
                      timeout=30)
    assert r.status_code == 401
    assert r.json() == {"detail": "Authentication credentials were not provided."}
    login = acct.session_login()
    apikey = login.json()["apikey"]
    db_exec(server.db, "UPDATE sessions SET expires = 0 WHERE user_id = "
                       "(SELECT id FROM users WHERE username = '%s')" % acct.username)
    r = requests.post(url, json={}, cookies=login.cookies,
                      headers={"X-CSRF-Token": login.json()["token"]}, timeout=30)
    assert r.status_code == 401
    r = requests.get(url, headers={"API-KEY": apikey}, timeout=30)
    assert r.status_code == 401 and r.json() == {"detail": "Invalid token."}


def test_user_logout_ends_the_session_and_its_key(server, acct):
    login = acct.session_login()
    token, apikey = login.json()["token"], login.json()["apikey"]
    url = server.base + "/api/user/logout/"
    assert requests.post(url, cookies=login.cookies, timeout=30).status_code == 403  # CSRF
    r = requests.post(url, cookies=login.cookies, headers={"X-CSRF-Token": token}, timeout=30)
    assert r.status_code == 200
    assert r.json() == {"detail": "Successfully logged out."}
    assert requests.get(server.base + "/api/orders/", cookies=login.cookies, timeout=30).status_code == 401
    assert requests.get(server.base + "/api/orders/", headers={"API-KEY": apikey},
                        timeout=30).status_code == 401
    # logging out by the temporary key ends that session too
    second = acct.session_login().json()
    r = requests.post(url, headers={"API-KEY": second["apikey"]}, timeout=30)
    assert r.status_code == 200
    assert requests.get(server.base + "/api/orders/", headers={"API-KEY": second["apikey"]},
                        timeout=30).status_code == 401
    # and a customer's own key keeps working after a logout with it
    assert requests.post(url, headers={"API-KEY": acct.key}, timeout=30).status_code == 200
    assert acct.api.get("/api/orders/").status_code == 200


def test_sessions_are_shared_by_server_processes(database, acct):
    login = acct.session_login()
    second = Server(database)
    try:
        r = requests.post(second.base + "/api/orders/", cookies=login.cookies, timeout=30,
                          headers={"X-CSRFToken": login.json()["token"]},
                          json={"order_number": "SHARED-1", "shipments": []})
        assert r.status_code == 201, r.text
    finally:
        assert second.stop() == 0


# ------------------------------------------------------------------ §6 browser login

def login_form(server, next_path="/api/orders/"):
    s = requests.Session()
    r = s.get(server.base + "/api/auth/login/", params={"next": next_path}, timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    token = s.cookies["csrftoken"]
    assert 'name="csrfmiddlewaretoken" value="%s"' % token in r.text
    return s, token


def test_login_form_logs_in_and_redirects(server, acct):
    s, token = login_form(server)
    assert 'id="id_username"' in s.get(server.base + "/api/auth/login/", timeout=30).text
    r = s.post(server.base + "/api/auth/login/", allow_redirects=False, timeout=30, data={
        "csrfmiddlewaretoken": token, "username": acct.username, "password": acct.password,
        "next": "/api/orders/"})
    assert r.status_code == 302
    assert r.headers["Location"] == "/api/orders/"
    set_cookies = r.raw.headers.getlist("Set-Cookie")
    assert any(c.startswith("sessionid=") and "HttpOnly" in c and "SameSite=Lax" in c
               for c in set_cookies)
    page = s.get(server.base + "/api/orders/", headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 200
    assert '<span id="user">%s</span>' % acct.username in page.text
    # the forms on the page carry the session's CSRF token, which the server accepts
    session_csrf = s.cookies["csrftoken"]
    assert session_csrf != token      # a new token at login
    assert 'name="csrfmiddlewaretoken" value="%s"' % session_csrf in page.text
    created = s.post(server.base + "/api/orders/", headers={"Accept": "text/html"}, timeout=30, data={
        "csrfmiddlewaretoken": session_csrf, "_method": "POST", "_content_type": "application/json",
        "_content": '{"order_number": "FORM-1", "shipments": []}'})
    assert created.status_code == 201, created.text
    assert acct.api.get("/api/orders/").json()["results"][0]["order_number"] == "FORM-1"
    # the same form without the token is refused, and stores nothing
    refused = s.post(server.base + "/api/orders/", timeout=30, data={
        "_method": "POST", "_content": '{"order_number": "FORM-2", "shipments": []}'})
    assert refused.status_code == 403
    assert refused.json() == {"detail": "CSRF Failed: CSRF token missing."}
    assert acct.api.get("/api/orders/").json()["count"] == 1


@pytest.mark.parametrize("cookie,field,message", [
    (True, None, "CSRF token missing."),
    (False, "TOKEN", "CSRF token missing."),
    (True, "0" * 40, "CSRF token incorrect."),
])
def test_login_form_needs_its_csrf_token(server, acct, cookie, field, message):
    s, token = login_form(server)
    if not cookie:
        s.cookies.clear()
    data = {"username": acct.username, "password": acct.password}
    if field:
        data["csrfmiddlewaretoken"] = token if field == "TOKEN" else field
    r = s.post(server.base + "/api/auth/login/", data=data, allow_redirects=False, timeout=30)
    assert r.status_code == 403
    assert message in r.text
    assert "sessionid" not in s.cookies


def test_login_form_wrong_password_shows_the_form_again(server, acct):
    s, token = login_form(server)
    r = s.post(server.base + "/api/auth/login/", allow_redirects=False, timeout=30, data={
        "csrfmiddlewaretoken": token, "username": acct.username, "password": "nope"})
    assert r.status_code == 200
    assert 'id="login-error"' in r.text
    assert "sessionid" not in s.cookies


@pytest.mark.parametrize("next_path,expected", [
    ("/api/v1/shops/", "/api/v1/shops/"),
    ("https://evil.example/", "/api/"),
    ("//evil.example/", "/api/"),
    ("/\\evil.example/", "/api/"),
    ("", "/api/"),
])
def test_login_redirects_only_to_local_paths(server, acct, next_path, expected):
    s, token = login_form(server)
    r = s.post(server.base + "/api/auth/login/", allow_redirects=False, timeout=30, data={
        "csrfmiddlewaretoken": token, "username": acct.username, "password": acct.password,
        "next": next_path})
    assert r.status_code == 302
    assert r.headers["Location"] == expected


def test_logout_page_ends_the_session(server, acct):
    s, token = login_form(server)
    s.post(server.base + "/api/auth/login/", timeout=30, allow_redirects=False, data={
        "csrfmiddlewaretoken": token, "username": acct.username, "password": acct.password})
    assert s.get(server.base + "/api/orders/", timeout=30).status_code == 200
    stolen = dict(s.cookies)
    r = s.post(server.base + "/api/auth/logout/", allow_redirects=False, timeout=30,
               data={"csrfmiddlewaretoken": s.cookies["csrftoken"]})
    assert r.status_code == 302
    assert r.headers["Location"] == "/api/auth/login/"
    assert s.get(server.base + "/api/orders/", timeout=30).status_code == 401
    # the old cookie is dead on the server, not only forgotten by the browser
    assert requests.get(server.base + "/api/orders/", cookies=stolen, timeout=30).status_code == 401


def test_browsable_pages_link_to_the_login(server, acct):
    r = requests.get(server.base + "/api/orders/?format=api", timeout=30)
    assert r.status_code == 401
    assert 'id="login-link" href="/api/auth/login/?next=%2Fapi%2Forders%2F"' in r.text
    page = acct.api.get("/api/orders/?format=api")
    assert 'id="login-link"' in page.text        # a key is not a login


# ------------------------------------------------------------------ API roots

def test_api_root_lists_the_resources(server, acct):
    r = acct.api.get("/api/")
    assert r.status_code == 200
    root = r.json()
    assert root == {
        "orders": server.base + "/api/orders/",
        "device": server.base + "/api/device/",
        "sequence": server.base + "/api/sequence/",
        "shops": server.base + "/api/v1/shops/",
        "suppliers": server.base + "/api/v1/suppliers/",
        "products": server.base + "/api/v1/products/",
        "supplier-refunds": server.base + "/api/v1/supplier-refunds/",
    }
    for url in root.values():
        assert acct.api.get(url).status_code == 200, url
    retail = acct.api.get("/api/v1/").json()
    assert list(retail) == ["shops", "suppliers", "products", "supplier-refunds"]
    assert requests.get(server.base + "/api/", timeout=30).status_code == 401
    assert acct.api.post("/api/", {}).status_code == 405
    page = acct.api.get("/api/", headers={"Accept": "text/html"})
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert 'href="%s/api/orders/"' % server.base in page.text
    assert acct.api.options("/api/").json()["name"] == "Api Root"
