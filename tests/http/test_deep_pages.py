"""Deep pages (issue "Years of data"): a page far into a list in id order
starts from the bucket of row_buckets that holds its first row instead of
stepping over every row before it. What a client sees must not change: the
same rows, in the same order, as a plain OFFSET gives — forwards and
backwards, after deletes in the middle, right at bucket edges and past the
end. The rows are made with `stockroom import-orders` (the API's own create
path, in bulk)."""
import json
import uuid

import pytest

from conftest import Client, cli, new_key

N = 9000          # a little over two buckets of 4,096 ids
PAGE = 100


@pytest.fixture(scope="module")
def many(server):
    """A customer with N orders (numbers D-00000.. in creation order) and a
    hole: every 7th of orders 4,000..5,000 deleted."""
    name = "deep-" + uuid.uuid4().hex[:8]
    key = new_key(server.db, name)
    lines = "".join(json.dumps({"order_number": "D-%05d" % i, "items": [{"SKU": "S", "ordered_quantity": 1}]})
                    + "\n" for i in range(N))
    cli(server.db, "import-orders", name, input=lines)
    api = Client(server.base, key)
    numbers = ["D-%05d" % i for i in range(N)]
    for i in range(4000, 5000, 7):
        assert api.delete("/api/orders/D-%05d/" % i).status_code == 204
        numbers.remove("D-%05d" % i)
    return api, numbers


def page(api, number, ordering=None, size=PAGE):
    q = "/api/orders/?page_size=%d&page=%d" % (size, number)
    if ordering:
        q += "&ordering=" + ordering
    r = api.get(q)
    return r


@pytest.mark.parametrize("ordering", [None, "id", "-id"])
def test_every_deep_page_is_the_rows_a_plain_offset_gives(many, ordering):
    api, numbers = many
    want = list(reversed(numbers)) if ordering == "-id" else numbers
    pages = (len(want) + PAGE - 1) // PAGE
    for n in [1, 40, 41, 42, 45, 46, 50, 60, 81, 82, pages - 1, pages]:
        r = page(api, n, ordering)
        assert r.status_code == 200, (n, r.text)
        body = r.json()
        assert body["count"] == len(want)
        got = [o["order_number"] for o in body["results"]]
        assert got == want[(n - 1) * PAGE:n * PAGE], (ordering, n)
    assert page(api, pages + 1, ordering).status_code == 404


def test_odd_page_sizes_across_bucket_edges(many):
    api, numbers = many
    for size, n in [(1, 4096), (1, 4097), (7, 600), (33, 150), (1000, 5), (1000, 9)]:
        r = page(api, n, size=size)
        assert r.status_code == 200, r.text
        assert [o["order_number"] for o in r.json()["results"]] == numbers[(n - 1) * size:n * size], (size, n)


def test_filtered_and_other_orderings_keep_the_plain_path(many):
    api, numbers = many
    r = api.get("/api/orders/?page_size=100&page=60&ordering=order_number")
    assert [o["order_number"] for o in r.json()["results"]] == sorted(numbers)[5900:6000]
    r = api.get("/api/orders/?order_number=%s" % numbers[-1])
    assert [o["order_number"] for o in r.json()["results"]] == [numbers[-1]]


def test_counts_stay_exact_when_buckets_are_folded(database):
    """PostgreSQL spreads a bucket's count over one row per backend that
    wrote it; the janitor folds every bucket but the newest back into one
    row. Orders written by many connections at once, then enough more to
    leave their bucket behind: after a server's janitor pass, the old
    buckets have one row each and every count is still exact (on SQLite
    there is one row a bucket all along)."""
    import threading
    from conftest import Server, db_value
    name = "fold-" + uuid.uuid4().hex[:8]
    key = new_key(database, name)
    srv = Server(database)
    try:
        api = Client(srv.base, key)
        errors = []

        def post(k):
            for i in range(8):
                r = api.post("/api/orders/", {"order_number": "F-%d-%d" % (k, i),
                                              "items": [{"SKU": "S", "ordered_quantity": 1}]})
                if r.status_code != 201:
                    errors.append(r.text)

        threads = [threading.Thread(target=post, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:3]
    finally:
        srv.stop()
    lines = "".join(json.dumps({"order_number": "G-%05d" % i, "items": [{"SKU": "S", "ordered_quantity": 1}]})
                    + "\n" for i in range(5000))
    cli(database, "import-orders", name, input=lines)
    customer = db_value(database, "SELECT id FROM customers WHERE name = '%s'" % name)
    stale = ("SELECT count(*) FROM row_buckets b WHERE customer_id = %s AND kind = 'orders' AND shard <> 0 "
             "AND bucket < (SELECT max(bucket) FROM row_buckets WHERE customer_id = %s AND kind = 'orders')"
             % (customer, customer))
    srv = Server(database)   # its janitor passes once at start
    try:
        import time
        deadline = time.time() + 20
        while db_value(database, stale) != "0" and time.time() < deadline:
            time.sleep(0.2)
        assert db_value(database, stale) == "0"
        api = Client(srv.base, key)
        assert api.get("/api/orders/?page_size=1").json()["count"] == 5064
        assert db_value(database, "SELECT sum(n) FROM row_buckets WHERE customer_id = %s AND kind = 'orders'"
                        % customer) == db_value(database, "SELECT count(*) FROM orders WHERE customer_id = %s"
                                                % customer) == "5064"
    finally:
        srv.stop()
