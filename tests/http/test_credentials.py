"""Credentials are cached by each server process (issue "PostgreSQL at full
speed"), and a change made anywhere stops them on every server at once.

Two servers on one database (PostgreSQL: each caches what it has seen and
forgets what PostgreSQL notifies; SQLite: no cache, every request looks):
a key revoked by the CLI (another process), a session logged out through
one server, a user deleted, a session expired or a key revoked by hand in
the database, a token pair rotated through one server — each is refused by
the other server on its very next request, with no pause in between. Every
credential is used on both servers first, so each is in both caches.
"""
import threading
import uuid

import pytest
import requests

from conftest import Server, cli, db_exec, new_key

LIST = "/api/orders/"


@pytest.fixture(scope="module")
def pair(database, server):
    """The session server and a second server process on its database."""
    second = Server(database)
    yield server, second
    second.stop()


def warm(base, headers=None, cookies=None, times=3):
    """Use a credential a few times on a server: now it is in its cache."""
    for _ in range(times):
        r = requests.get(base + LIST, headers=headers or {}, cookies=cookies, timeout=30)
        assert r.status_code == 200, r.text


def refused(base, headers=None, cookies=None):
    return requests.get(base + LIST, headers=headers or {}, cookies=cookies, timeout=30).status_code == 401


class Account:
    """A customer with a user and an OAuth client, on the database of `srv`."""

    def __init__(self, srv):
        tag = uuid.uuid4().hex[:10]
        self.customer = "cred-" + tag
        self.key = cli(srv.db, "customer", "create", self.customer).stdout.strip().splitlines()[-1]
        self.username = "cred-user-" + tag
        self.password = "pw-" + tag
        cli(srv.db, "user", "create", self.customer, self.username, input=self.password + "\n")
        out = cli(srv.db, "oauth-client", "create", self.customer).stdout
        fields = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
        self.client_id, self.client_secret = fields["client_id"], fields["client_secret"]

    def login(self, base):
        r = requests.post(base + "/api/user/login/", json={"username": self.username, "password": self.password},
                          timeout=30)
        assert r.status_code == 200, r.text
        return r

    def tokens(self, base):
        r = requests.post(base + "/api/o/token/", timeout=30, auth=(self.client_id, self.client_secret),
                          data={"grant_type": "password", "username": self.username, "password": self.password})
        assert r.status_code == 200, r.text
        return r.json()


def test_a_key_revoked_by_the_cli_is_refused_by_both_at_once(pair):
    one, two = pair
    key = new_key(one.db)
    for srv in pair:
        warm(srv.base, {"API_KEY": key})
        warm(srv.base, {"Authorization": "Token " + key})
    cli(one.db, "key", "revoke", key)
    assert refused(two.base, {"API_KEY": key})
    assert refused(one.base, {"API_KEY": key})
    assert refused(two.base, {"Authorization": "Token " + key})


def test_a_thread_first_used_after_a_revoke_refuses_the_key(database):
    # A connection thread opens its database connection (and starts to
    # listen) on its first request: one that starts after the revoke must
    # not trust what the threads before it cached. One keep-alive connection
    # fills the cache from one thread; fresh connections after the revoke
    # land on the others, each on its first request.
    srv = Server(database, ("--threads", "8"))
    try:
        key = new_key(database)
        with requests.Session() as one_connection:
            for _ in range(3):
                r = one_connection.get(srv.base + LIST, headers={"API_KEY": key}, timeout=30)
                assert r.status_code == 200, r.text
            cli(database, "key", "revoke", key)
            # (not asked on this connection first: its thread would hear of
            # the revoke and forget the key for every thread)
        answers = [requests.get(srv.base + LIST, headers={"API_KEY": key, "Connection": "close"},
                                timeout=30).status_code for _ in range(24)]
        assert answers == [401] * 24
    finally:
        srv.stop()


def test_a_key_revoked_while_requests_run_is_refused_after(pair):
    # the race a cache must not lose: requests filling both caches while the
    # revoke commits; once the CLI has returned, no server answers the key
    one, two = pair
    key = new_key(one.db)
    stop = threading.Event()

    def hammer(base):
        s = requests.Session()
        while not stop.is_set():
            s.get(base + LIST, headers={"API_KEY": key}, timeout=30)

    threads = [threading.Thread(target=hammer, args=(srv.base,)) for srv in pair for _ in range(2)]
    for t in threads:
        t.start()
    try:
        warm(two.base, {"API_KEY": key})
        cli(one.db, "key", "revoke", key)
        for _ in range(20):
            for srv in pair:
                assert refused(srv.base, {"API_KEY": key})
    finally:
        stop.set()
        for t in threads:
            t.join()


def test_a_key_revoked_in_the_database_by_hand_is_refused(pair):
    one, two = pair
    key = new_key(one.db)
    for srv in pair:
        warm(srv.base, {"API_KEY": key})
    db_exec(one.db, "UPDATE api_keys SET revoked = 1 WHERE key_prefix = '%s'" % key[:8])
    assert refused(two.base, {"API_KEY": key})
    assert refused(one.base, {"API_KEY": key})


def test_other_keys_still_work_after_a_revoke(pair):
    one, two = pair
    keep, drop = new_key(one.db), new_key(one.db)
    for srv in pair:
        warm(srv.base, {"API_KEY": keep})
        warm(srv.base, {"API_KEY": drop})
    cli(one.db, "key", "revoke", drop)
    for srv in pair:
        assert refused(srv.base, {"API_KEY": drop})
        warm(srv.base, {"API_KEY": keep}, times=1)


def test_a_logout_through_one_ends_the_session_on_the_other(pair):
    one, two = pair
    acct = Account(one)
    login = acct.login(one.base)
    apikey, csrf = login.json()["apikey"], login.json()["token"]
    for srv in pair:
        warm(srv.base, {"API-KEY": apikey})
        warm(srv.base, cookies=login.cookies)
    r = requests.post(one.base + "/api/user/logout/", cookies=login.cookies, headers={"X-CSRF-Token": csrf},
                      timeout=30)
    assert r.status_code == 200, r.text
    for srv in (two, one):
        assert refused(srv.base, {"API-KEY": apikey})
        assert refused(srv.base, cookies=login.cookies)


def test_a_logout_by_temporary_key_ends_it_on_the_other(pair):
    one, two = pair
    acct = Account(one)
    apikey = acct.login(two.base).json()["apikey"]
    for srv in pair:
        warm(srv.base, {"API_KEY": apikey})
    r = requests.post(two.base + "/api/user/logout/", headers={"API_KEY": apikey}, timeout=30)
    assert r.status_code == 200, r.text
    assert refused(one.base, {"API_KEY": apikey})
    assert refused(two.base, {"API_KEY": apikey})


def test_a_deleted_user_loses_sessions_and_tokens_everywhere(pair):
    one, two = pair
    acct = Account(one)
    login = acct.login(one.base)
    access = acct.tokens(two.base)["access_token"]
    for srv in pair:
        warm(srv.base, {"API_KEY": login.json()["apikey"]})
        warm(srv.base, cookies=login.cookies)
        warm(srv.base, {"Authorization": "Bearer " + access})
    cli(one.db, "user", "delete", acct.username)
    for srv in (two, one):
        assert refused(srv.base, {"API_KEY": login.json()["apikey"]})
        assert refused(srv.base, cookies=login.cookies)
        assert refused(srv.base, {"Authorization": "Bearer " + access})
    # the customer's own key is untouched
    warm(two.base, {"API_KEY": acct.key}, times=1)


def test_a_session_expired_in_the_database_is_refused_by_both(pair):
    one, two = pair
    acct = Account(one)
    login = acct.login(one.base)
    for srv in pair:
        warm(srv.base, cookies=login.cookies)
        warm(srv.base, {"API_KEY": login.json()["apikey"]})
    db_exec(one.db, "UPDATE sessions SET expires = 0 WHERE user_id = "
                    "(SELECT id FROM users WHERE username = '%s')" % acct.username)
    for srv in (two, one):
        assert refused(srv.base, cookies=login.cookies)
        assert refused(srv.base, {"API_KEY": login.json()["apikey"]})


def test_a_refresh_through_one_ends_the_old_access_token_on_the_other(pair):
    one, two = pair
    acct = Account(one)
    tokens = acct.tokens(one.base)
    for srv in pair:
        warm(srv.base, {"Authorization": "Bearer " + tokens["access_token"]})
    r = requests.post(one.base + "/api/o/token/", timeout=30, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": acct.client_id, "client_secret": acct.client_secret})
    assert r.status_code == 200, r.text
    assert refused(two.base, {"Authorization": "Bearer " + tokens["access_token"]})
    assert refused(one.base, {"Authorization": "Bearer " + tokens["access_token"]})
    warm(two.base, {"Authorization": "Bearer " + r.json()["access_token"]}, times=1)


def test_a_deleted_customer_is_refused_by_both(pair):
    one, two = pair
    name = "cred-gone-" + uuid.uuid4().hex[:8]
    key = cli(one.db, "customer", "create", name).stdout.strip().splitlines()[-1]
    for srv in pair:
        warm(srv.base, {"API_KEY": key})
    if not one.db.startswith("postgres"):
        # this sqlite3 connection does not enforce foreign keys: cascade by hand
        db_exec(one.db, "DELETE FROM api_keys WHERE customer_id = (SELECT id FROM customers WHERE name = '%s')"
                % name)
    db_exec(one.db, "DELETE FROM customers WHERE name = '%s'" % name)
    assert refused(two.base, {"API_KEY": key})
    assert refused(one.base, {"API_KEY": key})
