"""The front door for people (issue "Run it as a service", item 6): a
browser opening the server's address lands on the API root, and a browser
without credentials is sent to the login page with `next`, which brings it
back after logging in; API clients keep the contract's answers."""
import uuid
from urllib.parse import parse_qs, urlsplit

import requests

from conftest import cli

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"}


def get(server, path, headers=None, **kw):
    return requests.get(server.base + path, headers=headers or {}, allow_redirects=False, timeout=10, **kw)


def test_the_servers_address_sends_a_browser_to_the_api_root(server):
    r = get(server, "/", BROWSER)
    assert r.status_code == 302 and r.headers["Location"] == "/api/"
    # an API client finds nothing there, as before
    r = get(server, "/")
    assert r.status_code == 404 and r.json() == {"detail": "Not found."}
    assert get(server, "/", {"Accept": "application/json"}).status_code == 404


def login_target(r):
    assert r.status_code == 302, r.text
    assert r.headers["Cache-Control"] == "no-store"
    loc = urlsplit(r.headers["Location"])
    assert loc.path == "/api/auth/login/"
    return parse_qs(loc.query)["next"][0]


def test_a_browser_without_credentials_goes_to_the_login_page(server):
    assert login_target(get(server, "/api/", BROWSER)) == "/api/"
    assert login_target(get(server, "/api/docs/", BROWSER)) == "/api/docs/"
    assert login_target(get(server, "/api/orders/?page=2&ordering=-created", BROWSER)) == \
        "/api/orders/?page=2&ordering=-created"
    # a dead session's cookie is no credential of its own either
    r = get(server, "/api/device/", BROWSER, cookies={"sessionid": "x" * 40})
    assert login_target(r) == "/api/device/"


def test_api_clients_keep_the_401(server):
    for headers in ({}, {"Accept": "application/json"}, {"Accept": "*/*"}):
        r = get(server, "/api/orders/", headers)
        assert r.status_code == 401
        assert r.json() == {"detail": "Authentication credentials were not provided."}
    # a browser that sends a wrong key is told so, not sent to log in
    r = get(server, "/api/orders/", dict(BROWSER, API_KEY="wrong"))
    assert r.status_code == 401
    r = get(server, "/api/orders/", dict(BROWSER, Authorization="Token wrong"))
    assert r.status_code == 401
    # writes are never redirected
    r = requests.post(server.base + "/api/orders/", json={}, headers=BROWSER, allow_redirects=False, timeout=10)
    assert r.status_code == 401


def test_the_login_page_brings_the_browser_back(server):
    tag = uuid.uuid4().hex[:10]
    cli(server.db, "customer", "create", "door-" + tag)
    cli(server.db, "user", "create", "door-" + tag, "door-user-" + tag, input="pw-" + tag + "\n")
    s = requests.Session()
    r = s.get(server.base + "/api/docs/", headers=BROWSER, timeout=10)
    assert r.status_code == 200 and urlsplit(r.url).path == "/api/auth/login/"
    csrf = s.cookies["csrftoken"]
    r = s.post(server.base + "/api/auth/login/", headers=dict(BROWSER, Referer=r.url), timeout=10,
               data={"username": "door-user-" + tag, "password": "pw-" + tag,
                     "csrfmiddlewaretoken": csrf, "next": "/api/docs/"}, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/api/docs/"
    r = s.get(server.base + "/api/docs/", headers=BROWSER, timeout=10)
    assert r.status_code == 200 and "swagger" in r.text.lower()
