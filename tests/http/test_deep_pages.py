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
