"""Every query walks an index (issue "Years of data").

A list's first page must cost the same at a million rows as at a hundred,
and any page at most the index walk to it: that holds only while no query
reads a whole table. SQLite says how it runs each statement (EXPLAIN QUERY
PLAN); with STOCKROOM_EXPLAIN set, the server logs that plan for every
statement it prepares. This test drives every list with each of its
orderings and filters, the details, the writes and the pick-to-light
workflows through a server on SQLite, and then reads the plans: no table
may be scanned (the schema version's one row aside).

On PostgreSQL the planner prefers a sequential scan of a small table, so
the same list queries are explained there with sequential scans switched
off: a plan that still scans has no index to use.
"""
import os
import re
import subprocess

import pytest

from conftest import Client, Server, cli

ORDERINGS = {
    "/api/orders/": ["id", "order_number", "created"],
    "/api/device/": ["device_id", "location"],
    "/api/sequence/": ["id"],
    "/api/v1/shops/": ["shop_id", "name"],
    "/api/v1/suppliers/": ["supplier_id", "name"],
    "/api/v1/products/": ["product_id", "name"],
    "/api/v1/supplier-refunds/": ["date", "identifier", "document_id", "url"],
}
FILTERS = [
    "/api/orders/?order_number=P-1",
    "/api/v1/supplier-refunds/?shop_id=SH-1",
    "/api/v1/supplier-refunds/?supplier_id=SU-1",
    "/api/v1/supplier-refunds/?date_from=2026-01-01&date_to=2026-12-31",
]
ALLOWED_SCANS = {"schema_version"}


@pytest.fixture(scope="module")
def explained(tmp_path_factory):
    """A server on a fresh SQLite file that logs its plans, and a client."""
    db = str(tmp_path_factory.mktemp("plans") / "plans.db")
    key = cli(db, "customer", "create", "plans").stdout.strip().splitlines()[-1]
    os.environ["STOCKROOM_EXPLAIN"] = "1"
    try:
        srv = Server(db)
    finally:
        del os.environ["STOCKROOM_EXPLAIN"]
    yield srv, Client(srv.base, key)
    srv.stop()


def ok(r):
    assert r.status_code < 400, (r.request.method, r.request.url, r.status_code, r.text)
    return r


def exercise(api):
    ok(api.post("/api/device/", {"device_id": "P-D1", "location": "P-L1"}))
    ok(api.post("/api/device/", {"device_id": "P-D2", "location": "P-L2"}))
    ok(api.post("/api/location-aliases/", {"name": "P-Bin", "deviceid": "P-D2", "deviceIs": "to the Left of"}))
    ok(api.post("/api/orders/", {"order_number": "P-1", "shipments": [{"shipment_number": "P-1-1", "items": [
        {"SKU": "A", "ordered_quantity": 2, "device": "P-D1"},
        {"SKU": "B", "ordered_quantity": 1, "warehouse_location": "P-Bin"}]}]}))
    order = ok(api.get("/api/orders/P-1/")).json()
    item = order["shipments"][0]["items"][0]["id"]
    ok(api.patch("/api/items/%d/" % item, {"description": "x"}))
    ok(api.put("/api/orders/P-1/", {"order_number": "P-1", "items": [
        {"SKU": "A", "ordered_quantity": 2, "device": "P-D1"},
        {"SKU": "B", "ordered_quantity": 1, "warehouse_location": "P-Bin"}]}))
    ok(api.post("/api/orders/P-1/launch/", {}))
    ok(api.post("/api/device/P-D1/ack/", {}))
    ok(api.post("/api/orders/P-1/abort/", {}))
    ok(api.post("/api/devices/", [{"location": "P-L2", "line1": "bulk"}, {"deviceid": "P-D1", "statica": "s"}]))
    ok(api.get("/api/P-D1/flash/a~b/c/none/5g/n1/"))
    seq = ok(api.post("/api/sequence/", {"nonce": "p", "steps": [
        {"order": 1, "device": "P-D1", "line1": "one"}, {"order": 2, "location": "P-L2", "line1": "two"}]})).json()
    ok(api.get("/api/launchsequence/%d/" % seq["id"]))
    ok(api.post("/api/device/P-D1/ack/", {}))
    ok(api.get("/api/sequence/%d/" % seq["id"]))
    ok(api.get("/api/location-aliases/"))
    for kind, ident in (("shops", "shop_id"), ("suppliers", "supplier_id"), ("products", "product_id")):
        ok(api.post("/api/v1/%s/" % kind, [{ident: "%s-%d" % (kind[:2].upper(), i), "name": "n"} for i in (1, 2)]))
        ok(api.get("/api/v1/%s/%s-1/" % (kind, kind[:2].upper())))
        ok(api.patch("/api/v1/%s/%s-2/" % (kind, kind[:2].upper()), {"name": "m"}))
    ok(api.post("/api/v1/supplier-refunds/", [{"document_id": "D-%d" % i, "supplier_id": "SU-1",
                                               "shop_id": "SH-1", "date": "2026-05-01T00:00",
                                               "products": [{"product_id": "PR-1", "receive_document_id": "R",
                                                             "qty": 1, "price": 1, "total_price": 1}]}
                                              for i in (1, 2)]))
    refund = ok(api.get("/api/v1/supplier-refunds/")).json()["results"][0]
    ok(api.get(refund["url"]))
    ok(api.patch(refund["url"], {"description": "d"}))
    ok(api.get(refund["products"][0]["url"]))
    ok(api.delete(refund["url"]))
    for path, names in ORDERINGS.items():
        ok(api.get(path))
        ok(api.get(path + "?page=1&page_size=1"))
        for name in names:
            ok(api.get(path + "?ordering=-" + name))
    for path in FILTERS:
        ok(api.get(path))
    ok(api.delete("/api/orders/P-1/"))
    ok(api.delete("/api/sequence/%d/" % seq["id"]))
    ok(api.delete("/api/device/P-D2/"))


PLAN = re.compile(r"^plan: (.*) :: (.*)$", re.M)


def test_no_query_reads_a_whole_table(explained):
    srv, api = explained
    exercise(api)
    plans = PLAN.findall(srv.read_log())
    assert len(plans) > 40, "the server logged %d plans: is STOCKROOM_EXPLAIN honoured?" % len(plans)
    scans = []
    for sql, steps in plans:
        for step in steps.split(" | "):
            m = re.match(r"SCAN (\w+)", step)
            if m and m.group(1) not in ALLOWED_SCANS:
                scans.append((step, sql))
    assert not scans, "\n".join("%s  <-  %s" % s for s in scans)


# The list queries as the generic views write them (views.c), with literal
# values: explained on PostgreSQL with sequential scans switched off.
PG_LIST_QUERIES = [
    "SELECT COALESCE(sum(n), 0) FROM row_buckets WHERE customer_id = 1 AND kind = 'orders'",
    "SELECT o.id FROM orders o WHERE o.customer_id = 1 ORDER BY o.id LIMIT 50 OFFSET 5000",
    "SELECT o.id FROM orders o WHERE o.customer_id = 1 ORDER BY o.created DESC, o.id LIMIT 50 OFFSET 5000",
    "SELECT o.id FROM orders o WHERE o.customer_id = 1 ORDER BY o.order_number, o.id LIMIT 50",
    "SELECT count(*) FROM orders o WHERE o.customer_id = 1 AND o.order_number = 'x'",
    "SELECT d.id FROM devices d WHERE d.customer_id = 1 ORDER BY d.location, d.id LIMIT 50",
    "SELECT c.id FROM shops c WHERE c.customer_id = 1 ORDER BY name, c.id LIMIT 50",
    "SELECT r.id FROM supplier_refunds r WHERE r.customer_id = 1 ORDER BY r.refund_date, r.id LIMIT 50",
    "SELECT r.id FROM supplier_refunds r WHERE r.customer_id = 1 ORDER BY r.document_id, r.id LIMIT 50",
    "SELECT count(*) FROM supplier_refunds r WHERE r.customer_id = 1 AND r.refund_date >= 0 "
    "AND r.refund_date <= 99",
    "SELECT id FROM callbacks WHERE delivered IS NOT NULL AND delivered < 5 ORDER BY delivered LIMIT 500",
    "SELECT id FROM sessions WHERE expires < 5 ORDER BY expires LIMIT 500",
    "SELECT id FROM oauth_tokens WHERE refresh_expires < 5 ORDER BY refresh_expires LIMIT 500",
]


def check_postgresql_plans(database):
    for sql in PG_LIST_QUERIES:
        out = subprocess.run(["psql", "-At", "-v", "ON_ERROR_STOP=1", database, "-c",
                              "SET enable_seqscan = off; EXPLAIN " + sql], capture_output=True, text=True,
                             check=True, timeout=60).stdout
        assert "Seq Scan" not in out, "%s\n%s" % (sql, out)


if os.environ.get("STOCKROOM_TEST_DATABASE", "sqlite").startswith("postgres"):
    def test_postgresql_has_an_index_for_every_list(database, server):
        check_postgresql_plans(database)
