"""The Datawiz upload client's behaviour, end to end, over the server's own
HTTPS (contract §1 values, §4, §4.3, §7; issue: "the retail clients people
already run").

The client (github datawizio/pythonAPI, `dwapi`) is not copied here; this
test does on the wire what it does, with the library it uses
(requests-oauthlib): it logs in with OAuth2's password grant through
`LegacyApplicationClient` + `OAuth2Session.fetch_token` (client credentials by
HTTP Basic), then sends `Authorization: Bearer` from an `OAuth2Session` that
refreshes by itself with the client credentials in the body; every request
carries a fixed public `Host`, a stale `Date` and JSON headers; GETs carry a
`{}` body; refunds go up in chunks of 2,000 documents, and a 400 whose body
is a list aligned with the chunk makes it drop the failed documents and post
the rest again.
"""
import decimal
import json
import os
import subprocess
import time
import uuid

import pytest
import requests
from oauthlib.oauth2 import LegacyApplicationClient
from requests_oauthlib import OAuth2Session

from conftest import Server, cli

CHUNK = 2000
PUBLIC_HOST = "api.retail.example"
# A shipped client's fixed credentials, registered as they are (made up here).
CLIENT_ID = "dw-upload-" + "q" * 30
CLIENT_SECRET = "S3cr3t-" + "x7" * 40


def make_cert(directory):
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return cert, key


class Uploader:
    """What the client does, on top of requests-oauthlib."""

    def __init__(self, base, cert, username, password):
        self.base, self.cert = base, cert
        self.headers = {"Host": PUBLIC_HOST, "Accept": "application/json",
                        "Date": "Tue, 10 Nov 2015 18:11:05 GMT", "Content-Type": "application/json"}
        self.token_url = base + "/api/o/token/"
        login = OAuth2Session(client=LegacyApplicationClient(client_id=CLIENT_ID))
        self.saved = login.fetch_token(token_url=self.token_url, username=username, password=password,
                                       client_id=CLIENT_ID, client_secret=CLIENT_SECRET, verify=cert)
        self.updates = []
        self.session = self.open_session(self.saved)

    def open_session(self, token):
        return OAuth2Session(CLIENT_ID, token=token, auto_refresh_url=self.token_url,
                             auto_refresh_kwargs={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
                             token_updater=self.save_token)

    def save_token(self, token):
        self.saved = token
        self.updates.append(token)

    def get(self, path, **params):
        r = self.session.get(self.base + path, params=params, headers=self.headers, data=json.dumps({}),
                             verify=self.cert, timeout=60)
        assert r.status_code == 200, r.text
        return r.json()

    def post(self, path, data):
        return self.session.post(self.base + path, data=json.dumps(data), headers=self.headers,
                                 verify=self.cert, timeout=120)

    def upload_chunk(self, path, chunk):
        """Post; on a 400 list drop the failed documents and post the rest.
        Returns the indexes (in the chunk) of the dropped documents."""
        r = self.post(path, chunk)
        if r.status_code in (200, 201):
            return []
        assert r.status_code == 400, r.text
        errors = r.json()
        assert isinstance(errors, list) and len(errors) == len(chunk)
        failed = [i for i, e in enumerate(errors) if e]
        rest = [doc for i, doc in enumerate(chunk) if not errors[i]]
        again = self.post(path, rest)
        assert again.status_code == 201, again.text
        return failed

    def upload(self, path, docs):
        failed = []
        for start in range(0, len(docs), CHUNK):
            failed += [start + i for i in self.upload_chunk(path, docs[start:start + CHUNK])]
        return failed


def d4(value):
    """A decimal as the contract renders it: exactly four places."""
    return str(decimal.Decimal(str(value)).quantize(decimal.Decimal("0.0001")))


@pytest.fixture(scope="module")
def setup(database, tmp_path_factory):
    cert, key = make_cert(str(tmp_path_factory.mktemp("dwapi-tls")))
    tag = uuid.uuid4().hex[:8]
    customer = "datawiz-" + tag
    cli(database, "customer", "create", customer)
    username, password = "loader-" + tag, "pw " + uuid.uuid4().hex
    cli(database, "user", "create", customer, username, input=password + "\n")
    cli(database, "oauth-client", "create", customer, "--client-id", CLIENT_ID,
        "--client-secret", CLIENT_SECRET)
    server = Server(database, tls=(cert, key))
    state = {"server": server, "cert": cert, "key": key, "database": database,
             "username": username, "password": password}
    yield state
    state["server"].stop()


def catalog():
    shops = [{"shop_id": 37 + i, "name": "Shop %d" % i, "address": None if i % 2 else "Main st. %d" % i}
             for i in range(3)]
    suppliers = [{"supplier_id": 900 + i, "name": "Supplier %d" % i} for i in range(4)]
    products = [{"product_id": 5000 + i, "name": "Product %d" % i, "barcode": None if i % 3 else "48%010d" % i}
                for i in range(25)]
    return shops, suppliers, products


def refund_documents(n_docs):
    """n_docs documents of two lines each, with awkward but valid values."""
    docs = []
    for i in range(n_docs):
        day = 1 + i % 28
        docs.append({
            "document_id": "RF-%05d" % i,
            "shop_id": 37 + i % 3,
            "supplier_id": 900 + i % 4,
            "date": "2017-%d-%d %d:%02d:00" % (1 + i % 12, day, i % 24, i % 60),
            "responsible": None if i % 5 else "Clerk %d" % (i % 7),
            "description": None,
            "products": [
                {"product_id": 5000 + i % 25, "receive_document_id": "RD-%d" % (i // 3),
                 "qty": 1 + i % 4, "price": "%d.%02d" % (i % 90, i % 100), "total_price": (i % 90) * 3 + 0.5},
                {"product_id": 5000 + (i + 7) % 25, "receive_document_id": 4400 + i,
                 "qty": "0.25", "price": 0.1, "total_price": "0.025"},
            ],
        })
    return docs


def expected(doc):
    """What GET answers for an uploaded document (§4.2 output rules)."""
    y, m, rest = doc["date"].split("-", 2)
    day, clock = rest.split(" ")
    h, mi, s = clock.split(":")
    return {
        "document_id": doc["document_id"], "identifier": doc["document_id"],
        "shop_id": str(doc["shop_id"]), "supplier_id": str(doc["supplier_id"]),
        "date": "%04d-%02d-%02dT%02d:%02d:%02d" % (int(y), int(m), int(day), int(h), int(mi), int(s)),
        "responsible": doc["responsible"], "description": doc["description"],
        "products": [{"product_id": str(p["product_id"]), "receive_document_id": str(p["receive_document_id"]),
                      "qty": d4(p["qty"]), "price": d4(p["price"]), "total_price": d4(p["total_price"])}
                     for p in doc["products"]],
    }


def observed(refund):
    keep = ("document_id", "identifier", "shop_id", "supplier_id", "date", "responsible", "description")
    out = {k: refund[k] for k in keep}
    out["products"] = [{k: p[k] for k in ("product_id", "receive_document_id", "qty", "price", "total_price")}
                       for p in refund["products"]]
    return out


def test_the_upload_client_end_to_end(setup):
    server, cert = setup["server"], setup["cert"]
    up = Uploader(server.base, cert, setup["username"], setup["password"])
    assert up.saved["token_type"] == "Bearer" and up.saved["expires_in"] == 36000

    # the catalog, numeric ids as numbers and null optional strings
    shops, suppliers, products = catalog()
    for path, docs in (("/api/v1/shops/", shops), ("/api/v1/suppliers/", suppliers),
                       ("/api/v1/products/", products)):
        r = up.post(path, docs)
        assert r.status_code == 201, r.text
        assert r.json() == {"created": len(docs), "updated": 0}
    shop = up.get("/api/v1/shops/37/")
    assert shop["shop_id"] == "37" and shop["address"] == "Main st. 0"
    assert shop["url"] == "https://%s/api/v1/shops/37/" % PUBLIC_HOST     # urls follow Host

    # 2,500 documents of 2 lines = 5,000 lines, in chunks of 2,000; some bad
    docs = refund_documents(2500)
    # bad documents: an unknown product, a quantity that is no number, an
    # impossible date, a price with five decimal places
    docs[17]["products"][0]["product_id"] = 99999
    docs[1999]["products"][0]["qty"] = "lots"
    docs[2000]["date"] = "2017-13-45"
    docs[2301]["products"][1]["price"] = "1.00001"
    bad = {17, 1999, 2000, 2301}
    failed = up.upload("/api/v1/supplier-refunds/", docs)
    assert failed == sorted(bad)

    # the token expires on the client's side: the session refreshes by itself,
    # sending the client credentials in the body, and the old refresh token dies
    old = dict(up.saved)
    up.session.token = dict(up.saved, expires_at=time.time() - 10)
    page = up.get("/api/v1/supplier-refunds/", page_size=1)
    assert page["count"] == 2500 - len(bad)
    assert len(up.updates) == 1
    assert up.saved["access_token"] != old["access_token"]
    replay = requests.post(server.base + "/api/o/token/", verify=cert, timeout=30, data={
        "grant_type": "refresh_token", "refresh_token": old["refresh_token"],
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    assert replay.status_code == 400 and replay.json() == {"error": "invalid_grant"}

    # a restart: the cached token still works (the client never logs in again)
    assert server.stop() == 0
    server = setup["server"] = Server(setup["database"], tls=(cert, setup["key"]))
    up.base = server.base
    up.session = up.open_session(up.saved)

    # everything reads back exactly, decimals and dates normalised
    got = {}
    page_number = 1
    while True:
        page = up.get("/api/v1/supplier-refunds/", page_size=1000, page=page_number, ordering="identifier")
        for refund in page["results"]:
            got[refund["document_id"]] = refund
        if not page["next"]:
            break
        assert page["next"].startswith("https://%s/" % PUBLIC_HOST)
        page_number += 1
    want = {d["document_id"]: expected(d) for i, d in enumerate(docs) if i not in bad}
    assert sorted(got) == sorted(want)
    for doc_id, refund in got.items():
        assert observed(refund) == want[doc_id], doc_id
        assert refund["url"].startswith("https://%s/api/v1/supplier-refunds/" % PUBLIC_HOST)


def test_bad_input_on_this_path_changes_nothing(setup):
    server, cert = setup["server"], setup["cert"]
    up = Uploader(server.base, cert, setup["username"], setup["password"])
    before = up.get("/api/v1/supplier-refunds/", page_size=1)["count"]

    wrong = requests.post(server.base + "/api/o/token/", verify=cert, timeout=30,
                          auth=(CLIENT_ID, CLIENT_SECRET + "x"),
                          data={"grant_type": "password", "username": setup["username"],
                                "password": setup["password"]})
    assert wrong.status_code == 401 and wrong.json() == {"error": "invalid_client"}

    too_many = [{"document_id": "X-%d" % i, "shop_id": 37, "supplier_id": 900, "date": "2017-01-01",
                 "products": [{"product_id": 5000, "receive_document_id": "r", "qty": 1, "price": 1,
                               "total_price": 1}]} for i in range(CHUNK + 1)]
    r = up.post("/api/v1/supplier-refunds/", too_many)
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["Ensure this field has no more than 2000 elements."]}

    raw = up.session.post(server.base + "/api/v1/supplier-refunds/", verify=cert, timeout=30,
                          headers=up.headers, data=b'[{"document_id": "\xff\xfe"}]')
    assert raw.status_code == 400
    assert raw.json()["detail"].startswith("JSON parse error - ")

    assert up.get("/api/v1/supplier-refunds/", page_size=1)["count"] == before
