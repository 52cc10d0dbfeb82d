"""Contract section 7: `serve --tls-cert FILE --tls-key FILE` speaks HTTPS itself.

A self-signed certificate for 127.0.0.1 is made with openssl for the module;
every request verifies the server against it. Covered: reads, writes (which go
through the writer threads and a suspended, then resumed connection), a
keep-alive connection carrying several requests, bulk writes, large answers,
https:// in every absolute url, TLS versions (1.2 and 1.3 only), plain HTTP on
the TLS port, a clean SIGTERM, and the flags' errors.
"""
import http.client
import json
import socket
import ssl
import subprocess
import threading
import time
import uuid
from urllib.parse import urlparse

import pytest
import requests

from conftest import BIN, Client, Server, free_port, new_key

ORDERS = "/api/orders/"
REFUNDS = "/api/v1/supplier-refunds/"


def unique(prefix="tls"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """cert.pem and key.pem for CN/SAN 127.0.0.1, plus a key of no certificate."""
    d = tmp_path_factory.mktemp("tls")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem"), "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
    openssl("genpkey", "-algorithm", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-out", str(d / "other-key.pem"))
    return {"dir": d, "cert": str(d / "cert.pem"), "key": str(d / "key.pem"),
            "other_key": str(d / "other-key.pem")}


@pytest.fixture(scope="module")
def tls_server(database, certs):
    srv = Server(database, tls=(certs["cert"], certs["key"]))
    yield srv
    srv.stop()


def tls_client(srv):
    return Client(srv.base, new_key(srv.db), verify=srv.verify)


@pytest.fixture
def tls_api(tls_server):
    return tls_client(tls_server)


def https_url(srv, path):
    """What an absolute url to PATH on the TLS server must be."""
    return "https://127.0.0.1:%d%s" % (srv.port, path)


def item(sku):
    return {"name": "Widget", "description": "over TLS", "SKU": sku, "UPC": "UPC-" + sku,
            "ordered_quantity": 10, "quantity_fulfilled": 0, "warehouse_location": "Aisle 3",
            "device": None}


def order_body(number=None, items=10):
    number = number or unique()
    return {"order_number": number, "shipments": [
        {"shipment_number": number + "-S1", "items": [item("SKU-%d" % i) for i in range(items)]}]}


# ------------------------------------------------------------ black-box API

def test_base_url_is_https(tls_server):
    assert tls_server.base.startswith("https://")


def test_get_list(tls_api, tls_server):
    r = tls_api.get(ORDERS)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_post_order_and_its_urls(tls_api, tls_server):
    r = tls_api.post(ORDERS, order_body())
    assert r.status_code == 201, r.text
    made = r.json()
    assert len(made["shipments"][0]["items"]) == 10
    assert r.headers["Location"] == https_url(tls_server, "%s%d/" % (ORDERS, made["id"]))
    got = tls_api.get(r.headers["Location"])
    assert got.status_code == 200 and got.json() == made

    tls_api.post(ORDERS, order_body())
    page1 = tls_api.get(ORDERS + "?page_size=1").json()
    assert page1["count"] == 2 and page1["results"] == [made]
    nxt = urlparse(page1["next"])
    assert (nxt.scheme, nxt.netloc, nxt.path) == ("https", "127.0.0.1:%d" % tls_server.port, ORDERS)
    page2 = tls_api.get(page1["next"]).json()
    assert page2["next"] is None
    prev = urlparse(page2["previous"])
    assert (prev.scheme, prev.netloc, prev.path) == ("https", "127.0.0.1:%d" % tls_server.port,
                                                     ORDERS)


def test_no_credentials_is_401(tls_server):
    r = requests.get(tls_server.base + ORDERS, verify=tls_server.verify, timeout=30)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Token"
    assert r.json() == {"detail": "Authentication credentials were not provided."}


def test_bulk_refunds_and_a_large_answer(tls_api, tls_server):
    shops, suppliers = ["SH-A", "SH-B"], ["SU-A", "SU-B"]
    products = ["PR-%02d" % i for i in range(9)]
    for path, field, values in (("shops", "shop_id", shops), ("suppliers", "supplier_id", suppliers),
                                ("products", "product_id", products)):
        r = tls_api.post("/api/v1/%s/" % path, [{field: v} for v in values])
        assert r.status_code == 201, r.text
    docs = [{"document_id": "doc-%03d" % j, "shop_id": shops[j % 2], "supplier_id": suppliers[j % 2],
             "date": "2017-01-01T15:39:00",
             "products": [{"product_id": products[(j + k) % 9], "qty": 1, "price": "5.25",
                           "total_price": "5.25", "receive_document_id": "rd-%d" % j}
                          for k in range(3)]}
            for j in range(300)]
    r = tls_api.post(REFUNDS, docs)
    assert r.status_code == 201, r.text
    assert r.json() == {"created": 300, "updated": 0}
    assert r.headers["Location"] == https_url(tls_server, REFUNDS)

    r = tls_api.get(REFUNDS + "?page_size=1000")   # a few hundred KiB over many TLS records
    assert r.status_code == 200
    page = r.json()
    assert page["count"] == 300
    assert sorted(x["document_id"] for x in page["results"]) == [d["document_id"] for d in docs]
    urls = [u for x in page["results"]
            for u in [x["url"], x["shop_url"], x["supplier_url"]] +
            [u for p in x["products"] for u in (p["url"], p["product_url"])]]
    assert len(urls) == 300 * 9
    assert all(u.startswith(https_url(tls_server, "/api/v1/")) for u in urls)
    one = tls_api.get(page["results"][0]["products"][0]["url"])
    assert one.status_code == 200 and one.json() == page["results"][0]["products"][0]


def test_keep_alive_connection_carries_reads_and_writes(tls_server):
    """One TLS connection, several requests, writes among them: each write
    suspends the connection while a writer thread runs it, then resumes it."""
    key = new_key(tls_server.db)
    conn = http.client.HTTPSConnection("127.0.0.1", tls_server.port, timeout=30,
                                       context=ssl.create_default_context(cafile=tls_server.verify))
    headers = {"API_KEY": key, "Content-Type": "application/json"}
    local = []

    def call(method, path, body=None):
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        assert resp.getheader("Connection", "").lower() != "close"
        assert conn.sock is not None, "the server closed the connection"
        local.append(conn.sock.getsockname())
        return resp.status, json.loads(data) if data else None

    try:
        assert call("GET", ORDERS) == (200, {"count": 0, "next": None, "previous": None,
                                             "results": []})
        status, first = call("POST", ORDERS, order_body())
        assert status == 201
        status, second = call("POST", ORDERS, order_body(items=2))
        assert status == 201
        assert call("GET", "%s%d/" % (ORDERS, first["id"])) == (200, first)
        status, patched = call("PATCH", "%s%d/" % (ORDERS, second["id"]),
                               {"order_number": "renamed-" + second["order_number"]})
        assert status == 200 and patched["order_number"] == "renamed-" + second["order_number"]
        assert call("DELETE", "%s%d/" % (ORDERS, first["id"])) == (204, None)
        status, page = call("GET", ORDERS)
        assert status == 200 and page["results"] == [patched]
        status, err = call("POST", ORDERS, {"shipments": "x"})   # an error keeps it too
        assert status == 400
        assert call("GET", ORDERS)[0] == 200
    finally:
        conn.close()
    assert len(local) == 9 and len(set(local)) == 1, local


def test_concurrent_keep_alive_clients_writing(tls_server):
    """Several TLS connections at once, each writing and reading in turn."""
    clients = [tls_client(tls_server) for _ in range(8)]
    failures = []

    def work(client):
        try:
            for i in range(10):
                r = client.post(ORDERS, order_body(items=3))
                if r.status_code != 201:
                    failures.append(r.text)
                    continue
                got = client.get(r.headers["Location"])
                if got.status_code != 200 or got.json() != r.json():
                    failures.append(got.text)
        except Exception as exc:   # reported below, with the others
            failures.append(repr(exc))

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert failures == []
    for c in clients:
        assert c.get(ORDERS).json()["count"] == 10


def test_trust_proxy_still_follows_forwarded_headers(database, certs):
    srv = Server(database, extra_args=("--trust-proxy",), tls=(certs["cert"], certs["key"]))
    try:
        client = tls_client(srv)
        r = client.post(ORDERS, order_body(items=1),
                        headers={"X-Forwarded-Proto": "http", "X-Forwarded-Host": "shop.example.test"})
        assert r.status_code == 201, r.text
        assert r.headers["Location"] == "http://shop.example.test%s%d/" % (ORDERS, r.json()["id"])
        r = client.post(ORDERS, order_body(items=1))   # no forwarded headers: this server's https
        assert r.headers["Location"] == https_url(srv, "%s%d/" % (ORDERS, r.json()["id"]))
    finally:
        assert srv.stop() == 0


# --------------------------------------------------------------- transport

def handshake(port, cafile, version):
    """The version negotiated when the client offers only VERSION, or the
    ssl.SSLError / OSError the attempt ended with."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile)
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")   # let this client offer TLS 1.0 and 1.1 at all
    ctx.minimum_version = ctx.maximum_version = version
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as conn:
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                answer = b""
                while chunk := conn.recv(4096):
                    answer += chunk
                return conn.version(), answer
    except (ssl.SSLError, OSError) as exc:
        return exc, b""


@pytest.fixture(scope="module")
def openssl_server(certs):
    """`openssl s_server` taking every version: shows that this client can
    speak TLS 1.0 and 1.1 here, so a refusal from stockroom is stockroom's."""
    port = free_port()
    proc = subprocess.Popen(["openssl", "s_server", "-accept", str(port), "-cert", certs["cert"],
                             "-key", certs["key"], "-cipher", "DEFAULT:@SECLEVEL=0", "-www",
                             "-quiet"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(10)


OLD = [pytest.param(ssl.TLSVersion.TLSv1, id="1.0"), pytest.param(ssl.TLSVersion.TLSv1_1, id="1.1")]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("version", OLD)
def test_tls_1_0_and_1_1_are_refused(tls_server, certs, openssl_server, version):
    control, _ = handshake(openssl_server, certs["cert"], version)
    if not isinstance(control, str):
        pytest.skip("this machine's OpenSSL cannot offer %s at all: %r" % (version, control))
    got, answer = handshake(tls_server.port, certs["cert"], version)
    assert isinstance(got, Exception), "stockroom accepted %s" % got
    assert answer == b""


@pytest.mark.parametrize("version, name", [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"),
                                           (ssl.TLSVersion.TLSv1_3, "TLSv1.3")])
def test_tls_1_2_and_1_3_are_served(tls_server, certs, version, name):
    got, answer = handshake(tls_server.port, certs["cert"], version)
    assert got == name
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b"\r\n\r\nok\n")


def test_plain_http_on_the_tls_port_gets_no_api_answer(tls_server):
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        try:
            while chunk := s.recv(4096):
                answer += chunk
        except ConnectionResetError:
            pass
    assert b"HTTP/" not in answer and b"ok" not in answer
    with pytest.raises(requests.ConnectionError):
        requests.get("http://127.0.0.1:%d/healthz" % tls_server.port, timeout=10)
    # and the server goes on serving https
    assert requests.get(tls_server.base + "/healthz", verify=tls_server.verify,
                        timeout=10).status_code == 200


def test_sigterm_with_an_open_keep_alive_connection_exits_0(database, certs):
    srv = Server(database, tls=(certs["cert"], certs["key"]))
    key = new_key(database)
    conn = http.client.HTTPSConnection("127.0.0.1", srv.port, timeout=30,
                                       context=ssl.create_default_context(cafile=certs["cert"]))
    try:
        conn.request("POST", ORDERS, body=json.dumps(order_body(items=1)),
                     headers={"API_KEY": key, "Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 201
        started = time.time()
        assert srv.stop() == 0, srv.read_log()
        assert time.time() - started < 10
    finally:
        conn.close()
    assert "stopped" in srv.read_log()


# ------------------------------------------------------------------- flags

def serve(database, *args):
    return subprocess.run([BIN, "serve", "--listen", "127.0.0.1:%d" % free_port(), "--db", database,
                           *args], capture_output=True, text=True, timeout=30)


def test_help_documents_the_flags():
    out = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    assert "--tls-cert" in out.stdout and "--tls-key" in out.stdout


@pytest.mark.parametrize("flag", ["--tls-cert", "--tls-key"])
def test_one_flag_without_the_other(database, certs, flag):
    res = serve(database, flag, certs["cert"] if flag == "--tls-cert" else certs["key"])
    assert res.returncode == 2
    assert "--tls-cert and --tls-key" in res.stderr


@pytest.mark.parametrize("case", ["missing cert", "missing key", "directory", "not pem",
                                  "key of another cert", "swapped", "empty"])
def test_bad_files_stop_before_listening(database, certs, case):
    d = certs["dir"]
    (d / "junk.pem").write_text("this is not a certificate\n")
    (d / "empty.pem").write_text("")
    cert, key = certs["cert"], certs["key"]
    cert, key, named = {
        "missing cert": (str(d / "nope.pem"), key, str(d / "nope.pem")),
        "missing key": (cert, str(d / "nope.pem"), str(d / "nope.pem")),
        "directory": (cert, str(d), str(d)),
        "not pem": (str(d / "junk.pem"), key, str(d / "junk.pem")),
        "key of another cert": (cert, certs["other_key"], certs["other_key"]),
        "swapped": (key, cert, key),
        "empty": (cert, str(d / "empty.pem"), str(d / "empty.pem")),
    }[case]
    res = serve(database, "--tls-cert", cert, "--tls-key", key)
    assert res.returncode == 2, res.stderr
    assert named in res.stderr
    assert "serving on" not in res.stderr
