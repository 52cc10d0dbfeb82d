"""Contract sections 3.1 and 3.2: orders, their shipments and items."""
import json
import random
import re
import uuid
from urllib.parse import quote

import pytest

from conftest import Client, new_key

LIST = "/api/orders/"
NOT_FOUND = {"detail": "Not found."}
ORDER_KEYS = {"id", "order_number", "shipments", "created", "modified"}
SHIPMENT_KEYS = {"id", "shipment_number", "items"}
ITEM_KEYS = {"id", "name", "description", "SKU", "UPC", "ordered_quantity",
             "quantity_fulfilled", "warehouse_location", "device"}
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?$")
UNIQUE = {"non_field_errors": ["The fields order_number, voodoo_customer must make a unique set."]}
BOTH = {"non_field_errors": ["Provide either shipments or items, not both."]}
REQUIRED = ["This field is required."]
BLANK = ["This field may not be blank."]
NULL = ["This field may not be null."]
NOT_INT = ["A valid integer is required."]
NOT_STR = ["Not a valid string."]
MIN0 = ["Ensure this value is greater than or equal to 0."]
MAXINT = ["Ensure this value is less than or equal to 2147483647."]
MISSING = object()  # marks a field to leave out


# ----------------------------------------------------------------- helpers

@pytest.fixture(scope="module")
def shared(server):
    """One customer for the long tables of validation cases: each case uses
    its own order numbers and checks only what it changed, so they can share
    it (and the suite does not create hundreds of customers)."""
    return Client(server.base, new_key(server.db))


def unique(prefix="o"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def item(**fields):
    """A full item as the seed sends it; MISSING drops a field."""
    body = {"name": "Widget A", "description": "A sample widget", "SKU": "SKU-A",
            "UPC": "UPC-A", "ordered_quantity": 10, "quantity_fulfilled": 0,
            "warehouse_location": "Aisle 3", "device": None}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not MISSING}


def min_item(**fields):
    """An item with only the required fields."""
    body = {"SKU": "SKU-A", "ordered_quantity": 1}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not MISSING}


def shipment(number="SHIP-001", items=None):
    return {"shipment_number": number, "items": [item()] if items is None else items}


AUTO = object()  # a fresh order number


def order(number=AUTO, **fields):
    body = {"order_number": unique() if number is AUTO else number}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not MISSING}


def create(api, body):
    r = api.post(LIST, body)
    assert r.status_code == 201, r.text
    return r.json()


def path(order_or_key):
    if isinstance(order_or_key, dict):
        return "/api/orders/%d/" % order_or_key["id"]
    if isinstance(order_or_key, int):
        return "/api/orders/%d/" % order_or_key
    return "/api/orders/%s/" % quote(order_or_key, safe="")


def item_path(item_id):
    return "/api/items/%d/" % item_id


def count(api):
    r = api.get(LIST)
    assert r.status_code == 200, r.text
    return r.json()["count"]


def all_numbers(api):
    r = api.get(LIST + "?page_size=1000")
    assert r.status_code == 200, r.text
    return [o["order_number"] for o in r.json()["results"]]


def strip_ids(o):
    """An order's content without server-assigned ids and times."""
    return {"order_number": o["order_number"], "shipments": [
        {"shipment_number": s["shipment_number"],
         "items": [{k: v for k, v in i.items() if k != "id"} for i in s["items"]]}
        for s in o["shipments"]]}


def expected_item(**fields):
    out = {"name": "", "description": "", "SKU": "", "UPC": "", "ordered_quantity": 0,
           "quantity_fulfilled": 0, "warehouse_location": "", "device": None}
    out.update(fields)
    return out


def register_device(api, device_id=None, location=""):
    device_id = device_id or "CAE96B:%s" % uuid.uuid4().hex[:6].upper()
    r = api.post("/api/device/", {"device_id": device_id, "location": location})
    assert r.status_code == 201, r.text
    return device_id


def assert_400(api, body, errors, path=LIST, method="POST"):
    before = all_numbers(api)
    r = api.request(method, path, json=body)
    assert r.status_code == 400, (r.status_code, r.text)
    assert r.headers.get("Content-Type") == "application/json"
    if errors is not None:
        assert r.json() == errors
    assert all_numbers(api) == before
    return r.json()


def item_errors(api, errors, **fields):
    """POST an items-only order whose one item has these fields; expect the
    item's errors."""
    assert_400(api, order(items=[min_item(**fields)]), {"items": [errors]})


def item_value(api, field, value, **fields):
    """POST an items-only order with this item field; return the stored value."""
    body = min_item(**fields)
    body[field] = value
    created = create(api, order(items=[body]))
    got = created["shipments"][0]["items"][0][field]
    fetched = api.get(path(created)).json()["shipments"][0]["items"][0][field]
    assert fetched == got
    return got


def check_shape(o):
    assert ORDER_KEYS <= set(o) and set(o) - ORDER_KEYS <= {"status"}, set(o)
    assert isinstance(o["id"], int)
    assert DATETIME.match(o["created"]), o["created"]
    assert DATETIME.match(o["modified"]), o["modified"]
    for s in o["shipments"]:
        assert set(s) == SHIPMENT_KEYS
        assert isinstance(s["id"], int)
        for i in s["items"]:
            assert set(i) == ITEM_KEYS
            assert isinstance(i["id"], int)


# ------------------------------------------------------------------ create

def test_create_with_shipments_and_items(api, server):
    body = order("SO-12345", shipments=[
        shipment("SHIP-001", [item(), item(name="Widget B", description="Another sample widget",
                                           SKU="SKU-B", UPC="UPC-B", ordered_quantity=5,
                                           warehouse_location="Aisle 4")]),
        shipment("SHIP-002", [item(SKU="SKU-C", quantity_fulfilled=4)]),
    ])
    r = api.post(LIST, body)
    assert r.status_code == 201, r.text
    assert r.headers.get("Content-Type") == "application/json"
    created = r.json()
    check_shape(created)
    assert r.headers.get("Location") == server.base + path(created)
    assert strip_ids(created) == {"order_number": "SO-12345", "shipments": [
        {"shipment_number": "SHIP-001", "items": [
            expected_item(name="Widget A", description="A sample widget", SKU="SKU-A",
                          UPC="UPC-A", ordered_quantity=10, warehouse_location="Aisle 3"),
            expected_item(name="Widget B", description="Another sample widget", SKU="SKU-B",
                          UPC="UPC-B", ordered_quantity=5, warehouse_location="Aisle 4")]},
        {"shipment_number": "SHIP-002", "items": [
            expected_item(name="Widget A", description="A sample widget", SKU="SKU-C",
                          UPC="UPC-A", ordered_quantity=10, quantity_fulfilled=4,
                          warehouse_location="Aisle 3")]},
    ]}
    shipment_ids = [s["id"] for s in created["shipments"]]
    item_ids = [i["id"] for s in created["shipments"] for i in s["items"]]
    assert len(set(shipment_ids)) == 2 and len(set(item_ids)) == 3
    assert api.get(path(created)).json() == created
    assert api.get(LIST).json()["results"] == [created]


def test_created_and_modified_are_read_only(api):
    body = order(id=987654321, created="2001-01-01T00:00:00", modified="2001-01-01T00:00:00")
    created = create(api, body)
    assert created["id"] != 987654321
    assert not created["created"].startswith("2001")
    assert not created["modified"].startswith("2001")
    assert created["created"] <= created["modified"]


def test_unknown_fields_are_ignored(api):
    created = create(api, order("unk", foo=1, bar={"x": []}, shipments=[
        {"shipment_number": "S", "zzz": True, "items": [min_item(color="red", api="x")]}]))
    assert set(created) - ORDER_KEYS <= {"status"}
    assert strip_ids(created) == {"order_number": "unk", "shipments": [
        {"shipment_number": "S", "items": [expected_item(SKU="SKU-A", ordered_quantity=1)]}]}


def test_items_only_makes_a_shipment_named_after_the_order(api):
    created = create(api, order("SO-6789", items=[item(SKU="SKU-C", ordered_quantity=2),
                                                  min_item(SKU="SKU-D")]))
    check_shape(created)
    assert "items" not in created
    assert strip_ids(created) == {"order_number": "SO-6789", "shipments": [
        {"shipment_number": "SO-6789", "items": [
            expected_item(name="Widget A", description="A sample widget", SKU="SKU-C",
                          UPC="UPC-A", ordered_quantity=2, warehouse_location="Aisle 3"),
            expected_item(SKU="SKU-D", ordered_quantity=1)]}]}
    assert api.get(path(created)).json() == created


def test_items_only_uses_the_trimmed_order_number(api):
    created = create(api, order("  SO-TRIM  ", items=[min_item()]))
    assert created["order_number"] == "SO-TRIM"
    assert created["shipments"][0]["shipment_number"] == "SO-TRIM"


def test_empty_items_gives_one_empty_shipment(api):
    created = create(api, order("SO-EMPTY", items=[]))
    assert [(s["shipment_number"], s["items"]) for s in created["shipments"]] == \
        [("SO-EMPTY", [])]


def test_neither_items_nor_shipments(api):
    created = create(api, order("bare"))
    check_shape(created)
    assert created["shipments"] == []
    created = create(api, order("bare-2", shipments=[]))
    assert created["shipments"] == []


def test_shipment_without_items(api):
    created = create(api, order(shipments=[{"shipment_number": "S1"},
                                           {"shipment_number": "S2", "items": []}]))
    assert [(s["shipment_number"], s["items"]) for s in created["shipments"]] == \
        [("S1", []), ("S2", [])]


@pytest.mark.parametrize("shipments,items", [
    ([shipment()], [item()]),
    ([], [item()]),
    ([shipment()], []),
    ([], []),
])
def test_items_and_shipments_together_is_an_error(shared, shipments, items):
    api = shared
    assert_400(api, order(shipments=shipments, items=items), BOTH)


def test_only_sku_and_ordered_quantity_are_required(api):
    created = create(api, order(shipments=[{"shipment_number": "S", "items": [
        {"SKU": "X-1", "ordered_quantity": 3}]}]))
    assert created["shipments"][0]["items"][0] == dict(
        expected_item(SKU="X-1", ordered_quantity=3), id=created["shipments"][0]["items"][0]["id"])


def test_same_sku_in_several_items(api):
    created = create(api, order(items=[min_item(SKU="DUP"), min_item(SKU="DUP"),
                                       min_item(SKU="DUP", ordered_quantity=7)]))
    items = created["shipments"][0]["items"]
    assert [(i["SKU"], i["ordered_quantity"]) for i in items] == \
        [("DUP", 1), ("DUP", 1), ("DUP", 7)]
    assert len({i["id"] for i in items}) == 3


def test_extensiv_style_items(api):
    created = create(api, order("24422720", items=[
        {"SKU": "EXT-1", "ordered_quantity": 4, "warehouse_location": "A-01-02"},
        {"SKU": "EXT-2", "ordered_quantity": 1, "warehouse_location": "A-01-03",
         "description": "Blue mug"}]))
    assert strip_ids(created)["shipments"] == [{"shipment_number": "24422720", "items": [
        expected_item(SKU="EXT-1", ordered_quantity=4, warehouse_location="A-01-02"),
        expected_item(SKU="EXT-2", ordered_quantity=1, warehouse_location="A-01-03",
                      description="Blue mug")]}]


# ---------------------------------------------------- validation: the body

@pytest.mark.parametrize("body,type_name", [
    ([], "list"), ([{"order_number": "x"}], "list"), ("x", "str"), (5, "int"),
    (1.5, "float"), (True, "bool"),
])
def test_body_not_an_object(shared, body, type_name):
    api = shared
    assert_400(api, body, {"non_field_errors": [
        "Invalid data. Expected a dictionary, but got %s." % type_name]})


@pytest.mark.parametrize("value,errors", [
    (MISSING, REQUIRED),
    (None, NULL),
    ("", BLANK),
    ("   ", BLANK),
    ("\t \n", BLANK),
    (True, NOT_STR),
    (False, NOT_STR),
    ({}, NOT_STR),
    ([], NOT_STR),
    (["SO-1"], NOT_STR),
    ("x" * 65, ["Ensure this field has no more than 64 characters."]),
    ("é" * 65, ["Ensure this field has no more than 64 characters."]),
    ("SO\x01X", NOT_STR),
    ("SO\x00X", NOT_STR),
    ("SO\nX", NOT_STR),
    ("SO\x1bX", NOT_STR),
], ids=repr)
def test_order_number_validation(shared, value, errors):
    api = shared
    assert_400(api, order(value), {"order_number": errors})


@pytest.mark.parametrize("value,stored", [
    ("é" * 64, "é" * 64),
    ("😀" * 64, "😀" * 64),
    ("x" * 64, "x" * 64),
    ("  padded  ", "padded"),
    (" " * 10 + "y" * 64 + " " * 10, "y" * 64),
    (12345, "12345"),
    (0, "0"),
    (-7, "-7"),
    (1.5, "1.5"),
    ("tab\there", "tab\there"),
    ("Bestellung Nr. 5 / äöü", "Bestellung Nr. 5 / äöü"),
], ids=repr)
def test_order_number_accepted(shared, value, stored):
    api = shared
    created = create(api, order(value))
    assert created["order_number"] == stored
    assert api.get(LIST + "?order_number=" + quote(stored, safe="")).json()["results"] == \
        [created]


@pytest.mark.parametrize("value,status", [
    ("é" * 64, 201), ("é" * 65, 400), ("😀" * 64, 201), ("😀" * 65, 400),
    ("注" * 64, 201), ("注" * 65, 400),
], ids=["e-64", "e-65", "emoji-64", "emoji-65", "cjk-64", "cjk-65"])
def test_raw_utf8_counts_characters(shared, value, status):
    """The same limits with the body in raw UTF-8 rather than escaped."""
    api = shared
    number = value[:56] + uuid.uuid4().hex[:8]
    body = json.dumps(order(number, items=[min_item(SKU=value)]), ensure_ascii=False)
    r = api.post(LIST, data=body.encode("utf-8"),
                 headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    if status == 201:
        assert r.json()["order_number"] == number
        assert r.json()["shipments"][0]["items"][0]["SKU"] == value
    else:
        assert r.json() == {"items": [{"SKU": [
            "Ensure this field has no more than 64 characters."]}]}


@pytest.mark.parametrize("value,errors", [
    (MISSING, REQUIRED),
    (None, NULL),
    ("", BLANK),
    ("  ", BLANK),
    (True, NOT_STR),
    ({"a": 1}, NOT_STR),
    ("s" * 65, ["Ensure this field has no more than 64 characters."]),
    ("ß" * 65, ["Ensure this field has no more than 64 characters."]),
    ("S\x02", NOT_STR),
], ids=repr)
def test_shipment_number_validation(shared, value, errors):
    api = shared
    s = {"shipment_number": value, "items": []}
    if value is MISSING:
        del s["shipment_number"]
    assert_400(api, order(shipments=[s]), {"shipments": [{"shipment_number": errors}]})


def test_shipment_number_accepted_values(api):
    created = create(api, order(shipments=[
        {"shipment_number": "ß" * 64}, {"shipment_number": 42}, {"shipment_number": "  t  "}]))
    assert [s["shipment_number"] for s in created["shipments"]] == ["ß" * 64, "42", "t"]


def test_shipments_not_a_list(api):
    assert_400(api, order(shipments={"shipment_number": "S"}),
               {"shipments": {"non_field_errors": [
                   'Expected a list of items but got type "dict".']}})


@pytest.mark.parametrize("value,type_name", [("S-1", "str"), (5, "int"), (True, "bool")])
def test_shipments_scalar_not_a_list(shared, value, type_name):
    api = shared
    assert_400(api, order(shipments=value),
               {"shipments": {"non_field_errors": [
                   'Expected a list of items but got type "%s".' % type_name]}})


def test_shipments_null(api):
    assert_400(api, order(shipments=None), {"shipments": NULL})


def test_items_not_a_list(api):
    assert_400(api, order(items={"SKU": "a", "ordered_quantity": 1}),
               {"items": {"non_field_errors": [
                   'Expected a list of items but got type "dict".']}})


@pytest.mark.parametrize("value,type_name", [("S-1", "str"), (7, "int"), ([], "list"),
                                             (1.5, "float")])
def test_shipment_not_an_object(shared, value, type_name):
    api = shared
    assert_400(api, order(shipments=[value]), {"shipments": [{"non_field_errors": [
        "Invalid data. Expected a dictionary, but got %s." % type_name]}]})


def test_second_shipment_not_an_object(api):
    assert_400(api, order(shipments=[shipment("A"), "B"]), {"shipments": [
        {}, {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}]})


@pytest.mark.parametrize("value,type_name", [("SKU-1", "str"), (3, "int"), ([1], "list")])
def test_item_not_an_object(shared, value, type_name):
    api = shared
    assert_400(api, order(items=[min_item(), value]), {"items": [{}, {"non_field_errors": [
        "Invalid data. Expected a dictionary, but got %s." % type_name]}]})


@pytest.mark.parametrize("numbers", [["S1", "S1"], ["S1", "S2", "S1"], ["S1", " S1 "]])
def test_duplicate_shipment_numbers(shared, numbers):
    api = shared
    errors = assert_400(api, order(shipments=[shipment(n) for n in numbers]), None)
    assert list(errors) == ["shipments"]


def test_same_shipment_number_in_different_orders(api):
    a = create(api, order(shipments=[shipment("SHARED")]))
    b = create(api, order(shipments=[shipment("SHARED")]))
    assert a["shipments"][0]["shipment_number"] == b["shipments"][0]["shipment_number"]


# ---------------------------------------------------- validation: an item

@pytest.mark.parametrize("field", ["ordered_quantity", "quantity_fulfilled"])
@pytest.mark.parametrize("value,stored", [
    (10, 10), ("10", 10), (10.0, 10), ("10.0", 10), (" 10 ", 10), ("10.00", 10),
    (0, 0), ("0", 0), (2147483647, 2147483647), ("2147483647", 2147483647),
], ids=repr)
def test_integers_accepted(shared, field, value, stored):
    api = shared
    assert item_value(api, field, value, ordered_quantity=2147483647) == stored


@pytest.mark.parametrize("field", ["ordered_quantity", "quantity_fulfilled"])
@pytest.mark.parametrize("value,errors", [
    (10.5, NOT_INT), ("10.5", NOT_INT), (True, NOT_INT), (False, NOT_INT), ("x", NOT_INT),
    ("", NOT_INT), ("1e1", NOT_INT), ([1], NOT_INT), ({}, NOT_INT), ("1 0", NOT_INT),
    (None, NULL),
    (-1, MIN0), ("-1", MIN0), (-2147483649, MIN0),
    (2147483648, MAXINT), ("2147483648", MAXINT), (99999999999999999999, MAXINT),
], ids=repr)
def test_integers_refused(shared, field, value, errors):
    api = shared
    fields = {field: value}
    if field == "quantity_fulfilled":
        fields["ordered_quantity"] = 5
    item_errors(api, {field: errors}, **fields)


def test_ordered_quantity_required(api):
    item_errors(api, {"ordered_quantity": REQUIRED}, ordered_quantity=MISSING)


def test_nan_is_a_parse_error(api):
    body = b'{"order_number": "nan", "items": [{"SKU": "a", "ordered_quantity": NaN}]}'
    r = api.post(LIST, data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["detail"].startswith("JSON parse error - ")
    assert count(api) == 0


STRING_LIMITS = [("name", 255), ("description", 1000), ("SKU", 64), ("UPC", 64),
                 ("warehouse_location", 255)]


@pytest.mark.parametrize("field,limit", STRING_LIMITS)
def test_item_string_limits_count_characters(shared, field, limit):
    api = shared
    assert item_value(api, field, "é" * limit) == "é" * limit
    item_errors(api, {field: ["Ensure this field has no more than %d characters." % limit]},
                **{field: "é" * (limit + 1)})
    item_errors(api, {field: ["Ensure this field has no more than %d characters." % limit]},
                **{field: "a" * (limit + 1)})


@pytest.mark.parametrize("field", ["name", "description", "SKU", "UPC", "warehouse_location"])
@pytest.mark.parametrize("value,stored", [
    (123, "123"), (0, "0"), (-4, "-4"), (2.5, "2.5"),
    (12345678901234567890, "12345678901234567890"),
    ("  spaced  ", "spaced"), ("\tx\n", "x"), ("in\tside", "in\tside"),
    ("ünïcödé ✓", "ünïcödé ✓"),
], ids=repr)
def test_item_strings_accepted(shared, field, value, stored):
    api = shared
    assert item_value(api, field, value) == stored


@pytest.mark.parametrize("field", ["name", "description", "SKU", "UPC", "warehouse_location"])
@pytest.mark.parametrize("value", [True, False, {}, {"a": "b"}, [], ["x"], "a\x01b", "a\x00b",
                                   "a\x1fb", "a\rb", "a\nb"], ids=repr)
def test_item_strings_refused(shared, field, value):
    api = shared
    item_errors(api, {field: NOT_STR}, **{field: value})


@pytest.mark.parametrize("field", ["name", "description", "UPC", "warehouse_location"])
def test_optional_item_strings_may_be_blank(shared, field):
    api = shared
    assert item_value(api, field, "") == ""
    assert item_value(api, field, "   ") == ""


@pytest.mark.parametrize("field", ["name", "description", "UPC", "warehouse_location"])
def test_optional_item_strings_may_not_be_null(shared, field):
    api = shared
    item_errors(api, {field: NULL}, **{field: None})


@pytest.mark.parametrize("value,errors", [
    (MISSING, REQUIRED), (None, NULL), ("", BLANK), ("   ", BLANK),
], ids=repr)
def test_sku_required(shared, value, errors):
    api = shared
    item_errors(api, {"SKU": errors}, SKU=value)


def test_several_item_errors_at_once(api):
    assert_400(api, order("", items=[min_item(SKU=MISSING, ordered_quantity="x", UPC=True)]),
               {"order_number": BLANK,
                "items": [{"SKU": REQUIRED, "ordered_quantity": NOT_INT, "UPC": NOT_STR}]})


def test_errors_nest_with_placeholders_in_shipments(api):
    assert_400(api, order(shipments=[
        shipment("A", [item()]),
        shipment("B", [item(ordered_quantity="lots")]),
    ]), {"shipments": [{}, {"items": [{"ordered_quantity": NOT_INT}]}]})


def test_errors_nest_with_placeholders_in_items(api):
    assert_400(api, order(items=[min_item(), min_item(SKU=""), min_item(),
                                 min_item(ordered_quantity=-3)]),
               {"items": [{}, {"SKU": BLANK}, {}, {"ordered_quantity": MIN0}]})


def test_errors_in_several_shipments(api):
    assert_400(api, order(shipments=[
        shipment("A", [min_item(), min_item(SKU=None)]),
        shipment("B", [min_item()]),
        {"items": [min_item(ordered_quantity=MISSING)]},
    ]), {"shipments": [
        {"items": [{}, {"SKU": NULL}]},
        {},
        {"shipment_number": REQUIRED, "items": [{"ordered_quantity": REQUIRED}]},
    ]})


@pytest.mark.parametrize("ordered,fulfilled", [(3, 4), (0, 1), ("2", "3")])
def test_quantity_fulfilled_may_not_exceed_ordered(shared, ordered, fulfilled):
    api = shared
    errors = assert_400(api, order(items=[min_item(), min_item(ordered_quantity=ordered,
                                                               quantity_fulfilled=fulfilled)]),
                        None)
    assert list(errors) == ["items"]
    assert errors["items"][0] == {}
    assert list(errors["items"][1]) == ["non_field_errors"]
    messages = errors["items"][1]["non_field_errors"]
    assert isinstance(messages, list) and len(messages) == 1 and isinstance(messages[0], str)


def test_quantity_fulfilled_may_not_exceed_default_ordered(api):
    errors = assert_400(api, order(shipments=[shipment("S", [
        min_item(ordered_quantity=0, quantity_fulfilled=1)])]), None)
    assert list(errors["shipments"][0]["items"][0]) == ["non_field_errors"]


def test_quantity_fulfilled_equal_to_ordered(api):
    created = create(api, order(items=[min_item(ordered_quantity=6, quantity_fulfilled=6)]))
    assert created["shipments"][0]["items"][0]["quantity_fulfilled"] == 6


# ------------------------------------------------------------------ unique

def test_order_number_unique_per_customer(api, other_api):
    first = create(api, order("SO-UNIQ", items=[min_item()]))
    assert_400(api, order("SO-UNIQ", items=[min_item(SKU="other")]), UNIQUE)
    assert_400(api, order("  SO-UNIQ  "), UNIQUE)
    assert api.get(path("SO-UNIQ")).json() == first
    theirs = create(other_api, order("SO-UNIQ"))
    assert theirs["id"] != first["id"]
    assert api.get(path("SO-UNIQ")).json() == first


def test_order_number_is_case_sensitive(api):
    create(api, order("case-a"))
    create(api, order("CASE-A"))
    assert sorted(all_numbers(api)) == ["CASE-A", "case-a"]


# ----------------------------------------------------------------- devices

def test_device_of_the_customer_is_accepted(api):
    dev = register_device(api, "CAE96B:5DC841")
    created = create(api, order(shipments=[shipment("S", [item(device=dev), item()])]))
    items = created["shipments"][0]["items"]
    assert [i["device"] for i in items] == ["CAE96B:5DC841", None]
    assert api.get(path(created)).json() == created


def test_device_omitted_or_null(api):
    created = create(api, order(items=[min_item(), min_item(device=None)]))
    assert [i["device"] for i in created["shipments"][0]["items"]] == [None, None]


@pytest.mark.parametrize("value,shown", [("NO:SUCH", "NO:SUCH"), ("X", "X"), (5, "5")])
def test_unknown_device(api, value, shown):
    register_device(api)
    message = ['Invalid pk "%s" - object does not exist.' % shown]
    assert_400(api, order(items=[min_item(), min_item(device=value)]),
               {"items": [{}, {"device": message}]})
    assert_400(api, order(shipments=[shipment("A"), shipment("B", [item(device=value)])]),
               {"shipments": [{}, {"items": [{"device": message}]}]})


def test_device_of_another_customer_is_invalid(api, other_api):
    theirs = register_device(other_api, "OTHER:%s" % uuid.uuid4().hex[:6])
    assert_400(api, order(items=[min_item(device=theirs)]),
               {"items": [{"device": ['Invalid pk "%s" - object does not exist.' % theirs]}]})


def test_same_device_id_for_two_customers(api, other_api):
    dev = "SHARED:%s" % uuid.uuid4().hex[:6]
    register_device(api, dev)
    register_device(other_api, dev)
    mine = create(api, order(items=[min_item(device=dev)]))
    theirs = create(other_api, order(items=[min_item(device=dev)]))
    assert mine["shipments"][0]["items"][0]["device"] == dev
    assert theirs["shipments"][0]["items"][0]["device"] == dev


def test_deleting_a_device_nulls_the_items(api):
    dev = register_device(api)
    created = create(api, order(items=[min_item(device=dev)]))
    r = api.delete("/api/device/%s/" % quote(dev, safe=""))
    assert r.status_code == 204, r.text
    got = api.get(path(created)).json()
    assert got["shipments"][0]["items"][0]["device"] is None


# ----------------------------------------------------------- all or nothing

def test_failing_create_stores_nothing(api):
    keep = create(api, order("keep"))
    assert_400(api, order("fail-1", shipments=[
        shipment("A", [item(), item()]), shipment("B", [item(), item(ordered_quantity=-1)])]),
        {"shipments": [{}, {"items": [{}, {"ordered_quantity": MIN0}]}]})
    assert_400(api, order("fail-2", items=[min_item(), min_item(device="nope")]), None)
    assert api.get(LIST).json()["results"] == [keep]
    assert api.get(path("fail-1")).status_code == 404
    # the rejected numbers are free to use
    create(api, order("fail-1"))
    create(api, order("fail-2"))


def test_failing_create_leaves_no_items_behind(api):
    """The first order's item ids are all there is; a failed create makes no
    items reachable by PATCH /api/items/."""
    good = create(api, order(items=[min_item()]))
    good_item = good["shipments"][0]["items"][0]["id"]
    assert_400(api, order(items=[min_item()] * 3 + [min_item(SKU="")]), None)
    later = create(api, order(items=[min_item()]))
    later_item = later["shipments"][0]["items"][0]["id"]
    for candidate in range(good_item + 1, later_item):
        assert api.patch(item_path(candidate), {"quantity_fulfilled": 0}).status_code == 404


# -------------------------------------------------------- retrieve, by key

def test_retrieve_by_id_and_by_number(api):
    created = create(api, order("SO-R1", items=[item()]))
    assert api.get(path(created["id"])).json() == created
    assert api.get(path("SO-R1")).json() == created


def test_number_wins_over_id(api):
    a = create(api, order("first-" + uuid.uuid4().hex[:6], items=[min_item(SKU="A")]))
    # before any order is numbered like a's id, the digits reach a by id
    assert api.get(path(str(a["id"]))).json() == a
    b = create(api, order(str(a["id"]), items=[min_item(SKU="B")]))
    assert b["id"] != a["id"]
    assert api.get(path(str(a["id"]))).json() == b
    r = api.delete(path(str(a["id"])))
    assert r.status_code == 204
    assert api.get(path(b["id"])).status_code == 404
    # a is untouched, and again reachable by its id
    assert api.get(path(a["order_number"])).json() == a
    assert api.get(path(str(a["id"]))).json() == a
    assert count(api) == 1


def test_number_wins_over_id_for_every_method(api):
    a = create(api, order(items=[min_item(SKU="A")]))
    b = create(api, order(str(a["id"]), items=[min_item(SKU="B")]))
    r = api.patch(path(str(a["id"])), {"shipments": [shipment("PB", [min_item(SKU="B2")])]})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == b["id"]
    r = api.put(path(str(a["id"])), order(str(a["id"]), items=[min_item(SKU="B3")]))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == b["id"]
    assert api.get(path(a["order_number"])).json() == a


def test_digits_that_are_neither_number_nor_id(api, other_api):
    theirs = create(other_api, order())
    assert api.get(path(str(theirs["id"]))).json() == NOT_FOUND
    assert api.get(path("99999999999")).status_code == 404
    assert api.get(path("0")).status_code == 404


@pytest.mark.parametrize("number", [
    "SO 12", "Bestellung-äöü", "注文-1", "a#b?c", "50% off", "x+y", "semi;colon",
    "quote\"d", "amp&eq=", "tab\tin",
], ids=repr)
def test_order_numbers_percent_encoded_in_paths(api, number):
    created = create(api, order(number, items=[min_item()]))
    p = path(number)
    assert api.get(p).json() == created
    r = api.patch(p, {"shipments": [shipment("S2", [min_item(SKU="Z")])]})
    assert r.status_code == 200, r.text
    assert r.json()["order_number"] == number
    r = api.put(p, order(number, items=[min_item(SKU="Y")]))
    assert r.status_code == 200, r.text
    assert r.json()["shipments"][0]["shipment_number"] == number
    assert api.delete(p).status_code == 204
    assert api.get(p).status_code == 404
    assert count(api) == 0


def test_plus_in_path_is_literal(api):
    created = create(api, order("a+b"))
    assert api.get("/api/orders/a+b/").json() == created
    assert api.get("/api/orders/a%2Bb/").json() == created
    assert api.get("/api/orders/a%20b/").status_code == 404


# --------------------------------------------------------------------- PUT

def test_put_replaces_the_whole_tree(api):
    created = create(api, order("SO-PUT", shipments=[
        shipment("S1", [item(), item(SKU="B")]), shipment("S2", [item(SKU="C")])]))
    old_items = [i["id"] for s in created["shipments"] for i in s["items"]]
    r = api.put(path(created), order("SO-PUT-2", shipments=[
        shipment("N1", [min_item(SKU="NEW", ordered_quantity=9, quantity_fulfilled=2)])]))
    assert r.status_code == 200, r.text
    updated = r.json()
    check_shape(updated)
    assert updated["id"] == created["id"]
    assert updated["created"] == created["created"]
    assert updated["modified"] >= created["modified"]
    assert strip_ids(updated) == {"order_number": "SO-PUT-2", "shipments": [
        {"shipment_number": "N1", "items": [
            expected_item(SKU="NEW", ordered_quantity=9, quantity_fulfilled=2)]}]}
    assert api.get(path(created)).json() == updated
    assert api.get(path("SO-PUT-2")).json() == updated
    assert api.get(path("SO-PUT")).status_code == 404
    for item_id in old_items:
        assert api.patch(item_path(item_id), {"quantity_fulfilled": 0}).status_code == 404
    assert count(api) == 1


def test_put_with_items_only(api):
    created = create(api, order("SO-PI", shipments=[shipment("S1")]))
    r = api.put(path(created), order("SO-PI", items=[min_item(SKU="I1")]))
    assert r.status_code == 200, r.text
    assert strip_ids(r.json())["shipments"] == [
        {"shipment_number": "SO-PI", "items": [expected_item(SKU="I1", ordered_quantity=1)]}]


def test_put_without_shipments_empties_the_order(api):
    created = create(api, order("SO-PE", shipments=[shipment("S1")]))
    r = api.put(path(created), {"order_number": "SO-PE"})
    assert r.status_code == 200, r.text
    assert r.json()["shipments"] == []
    assert api.get(path(created)).json()["shipments"] == []


def test_put_requires_order_number(api):
    created = create(api, order(shipments=[shipment("S1")]))
    assert_400(api, {"shipments": [shipment("S9")]}, {"order_number": REQUIRED},
               path=path(created), method="PUT")
    assert api.get(path(created)).json() == created


def test_put_validation_is_all_or_nothing(api):
    created = create(api, order(shipments=[shipment("S1")]))
    assert_400(api, order(created["order_number"], shipments=[
        shipment("A"), shipment("B", [item(quantity_fulfilled="x")])]),
        {"shipments": [{}, {"items": [{"quantity_fulfilled": NOT_INT}]}]},
        path=path(created), method="PUT")
    assert_400(api, order(created["order_number"], shipments=[shipment("A")], items=[]), BOTH,
               path=path(created), method="PUT")
    assert api.get(path(created)).json() == created


def test_put_to_a_taken_number(api):
    a = create(api, order("PT-A"))
    b = create(api, order("PT-B", items=[min_item()]))
    assert_400(api, order("PT-A"), UNIQUE, path=path(b), method="PUT")
    assert api.get(path(b)).json() == b
    assert api.get(path(a)).json() == a


def test_put_keeping_its_own_number(api):
    created = create(api, order("PT-SAME", items=[min_item()]))
    r = api.put(path(created), order("PT-SAME", items=[min_item(SKU="again")]))
    assert r.status_code == 200, r.text


# ------------------------------------------------------------------- PATCH

def test_patch_order_number_keeps_shipments(api):
    created = create(api, order("PA-1", shipments=[shipment("S1"), shipment("S2")]))
    r = api.patch(path("PA-1"), {"order_number": "PA-2"})
    assert r.status_code == 200, r.text
    patched = r.json()
    assert patched["order_number"] == "PA-2"
    assert patched["shipments"] == created["shipments"]
    assert patched["id"] == created["id"]
    assert patched["created"] == created["created"]
    assert patched["modified"] >= created["modified"]
    assert api.get(path("PA-2")).json() == patched
    assert api.get(path("PA-1")).status_code == 404


def test_patch_shipments_replaces_them(api):
    created = create(api, order("PA-S", shipments=[shipment("S1"), shipment("S2")]))
    old_items = [i["id"] for s in created["shipments"] for i in s["items"]]
    r = api.patch(path(created), {"shipments": [shipment("S3", [min_item(SKU="P")])]})
    assert r.status_code == 200, r.text
    patched = r.json()
    assert strip_ids(patched) == {"order_number": "PA-S", "shipments": [
        {"shipment_number": "S3", "items": [expected_item(SKU="P", ordered_quantity=1)]}]}
    assert api.get(path(created)).json() == patched
    for item_id in old_items:
        assert api.patch(item_path(item_id), {}).status_code == 404
    r = api.patch(path(created), {"shipments": []})
    assert r.status_code == 200, r.text
    assert r.json()["shipments"] == []


def test_trees_rewritten_between_others_read_back_whole(api):
    """Orders' trees written, replaced, grown, shrunk and emptied in turns,
    so each one's rows sit among the others': every order, read alone and
    in the list, holds exactly what its last write gave it (SQLite reads a
    tree by the id ranges it was written in)."""
    def sku_tree(o):
        return [(s["shipment_number"], [i["SKU"] for i in s["items"]]) for s in o["shipments"]]

    def ship(number, skus):
        return shipment(number, [min_item(SKU=sku) for sku in skus])

    trees = {}
    for n in range(3):
        o = create(api, order(shipments=[ship("A", ["a%d" % n, "b%d" % n]), ship("B", ["c%d" % n])]))
        trees[o["id"]] = o
    first, middle, last = sorted(trees)
    last_number = trees[last]["order_number"]   # items alone go into a shipment named after it
    writes = [
        (first, "put", {"order_number": trees[first]["order_number"],
                        "shipments": [ship("X", ["x1", "x2", "x3"]), ship("Y", []), ship("Z", ["z"])]}),
        (middle, "patch", {"shipments": [ship("M", ["m"])]}),
        (last, "patch", {"items": [min_item(SKU="i1"), min_item(SKU="i2")]}),
        (first, "patch", {"shipments": [ship("E", [])]}),
        (middle, "patch", {"shipments": []}),
        (last, "patch", {"order_number": last_number + "-renamed"}),
    ]
    for order_id, method, body in writes:
        r = getattr(api, method)(path(order_id), body)
        assert r.status_code == 200, r.text
        trees[order_id] = r.json()
        for other_id, expected in trees.items():
            got = api.get(path(other_id))
            assert got.status_code == 200, got.text
            assert sku_tree(got.json()) == sku_tree(expected), (method, body)
    assert sku_tree(trees[first]) == [("E", [])]
    assert sku_tree(trees[middle]) == []
    assert sku_tree(trees[last]) == [(last_number, ["i1", "i2"])]
    listed = {o["id"]: o for o in api.get(LIST + "?page_size=100").json()["results"]}
    for order_id, expected in trees.items():
        assert listed[order_id] == api.get(path(order_id)).json()


def test_patch_both_fields(api):
    created = create(api, order("PB-1", shipments=[shipment("S1")]))
    r = api.patch(path(created), {"order_number": "PB-2", "shipments": [shipment("S2")]})
    assert r.status_code == 200, r.text
    assert [s["shipment_number"] for s in r.json()["shipments"]] == ["S2"]
    assert r.json()["order_number"] == "PB-2"


def test_patch_nothing_changes_nothing(api):
    created = create(api, order(shipments=[shipment("S1")]))
    r = api.patch(path(created), {})
    assert r.status_code == 200, r.text
    got = r.json()
    assert {k: v for k, v in got.items() if k != "modified"} == \
        {k: v for k, v in created.items() if k != "modified"}


@pytest.mark.parametrize("body,errors", [
    ({"order_number": ""}, {"order_number": BLANK}),
    ({"order_number": None}, {"order_number": NULL}),
    ({"order_number": "p" * 65}, {"order_number": [
        "Ensure this field has no more than 64 characters."]}),
    ({"shipments": [shipment("A"), {"items": []}]},
     {"shipments": [{}, {"shipment_number": REQUIRED}]}),
    ({"shipments": [shipment("A", [min_item(ordered_quantity=1, quantity_fulfilled=2)])],
      "order_number": "fine"}, None),
], ids=["blank", "null", "long", "shipment", "exceeds"])
def test_patch_validation_changes_nothing(api, body, errors):
    created = create(api, order(shipments=[shipment("S1")]))
    assert_400(api, body, errors, path=path(created), method="PATCH")
    assert api.get(path(created)).json() == created


def test_patch_to_a_taken_number(api):
    create(api, order("PX-A"))
    b = create(api, order("PX-B"))
    assert_400(api, {"order_number": "PX-A"}, UNIQUE, path=path(b), method="PATCH")
    assert api.get(path(b)).json() == b


# ------------------------------------------------------------------ DELETE

def test_delete_cascades(api):
    created = create(api, order("DEL-1", shipments=[shipment("S1", [item(), item()]),
                                                    shipment("S2")]))
    keep = create(api, order("DEL-KEEP", items=[min_item()]))
    item_ids = [i["id"] for s in created["shipments"] for i in s["items"]]
    r = api.delete(path(created))
    assert r.status_code == 204
    assert r.content == b""
    assert api.get(path(created)).json() == NOT_FOUND
    assert api.get(path("DEL-1")).status_code == 404
    for item_id in item_ids:
        r = api.patch(item_path(item_id), {"quantity_fulfilled": 1})
        assert r.status_code == 404 and r.json() == NOT_FOUND
    assert api.get(LIST).json()["results"] == [keep]
    assert api.delete(path(created)).json() == NOT_FOUND
    # the number is free again
    again = create(api, order("DEL-1"))
    assert again["id"] != created["id"]


def test_delete_by_number(api):
    create(api, order("DN-1", items=[min_item()]))
    r = api.delete(path("DN-1"))
    assert r.status_code == 204 and r.content == b""
    assert count(api) == 0


def test_delete_missing(api):
    r = api.delete(path("never-was"))
    assert r.status_code == 404
    assert r.json() == NOT_FOUND


# ------------------------------------------------------ PATCH /api/items/

def first_item(o):
    return o["shipments"][0]["items"][0]


def test_patch_item_quantity_fulfilled(api):
    created = create(api, order(items=[item(ordered_quantity=5), item(SKU="OTHER")]))
    it = first_item(created)
    r = api.patch(item_path(it["id"]), {"quantity_fulfilled": 3})
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Type") == "application/json"
    assert r.json() == dict(it, quantity_fulfilled=3)
    got = api.get(path(created)).json()
    assert first_item(got) == dict(it, quantity_fulfilled=3)
    assert got["shipments"][0]["items"][1] == created["shipments"][0]["items"][1]
    r = api.patch(item_path(it["id"]), {"quantity_fulfilled": "5"})
    assert r.status_code == 200 and r.json()["quantity_fulfilled"] == 5


def test_patch_item_device(api):
    dev = register_device(api)
    created = create(api, order(items=[min_item()]))
    it = first_item(created)
    r = api.patch(item_path(it["id"]), {"device": dev})
    assert r.status_code == 200, r.text
    assert r.json() == dict(it, device=dev)
    assert first_item(api.get(path(created)).json())["device"] == dev
    r = api.patch(item_path(it["id"]), {"device": None})
    assert r.status_code == 200, r.text
    assert r.json() == it


def test_patch_item_other_fields(api):
    created = create(api, order(items=[min_item()]))
    it = first_item(created)
    r = api.patch(item_path(it["id"]), {"name": "  Renamed ", "warehouse_location": 12})
    assert r.status_code == 200, r.text
    assert r.json() == dict(it, name="Renamed", warehouse_location="12")


@pytest.mark.parametrize("body,errors", [
    ({"quantity_fulfilled": "x"}, {"quantity_fulfilled": NOT_INT}),
    ({"quantity_fulfilled": -1}, {"quantity_fulfilled": MIN0}),
    ({"quantity_fulfilled": None}, {"quantity_fulfilled": NULL}),
    ({"ordered_quantity": 2147483648}, {"ordered_quantity": MAXINT}),
    ({"SKU": ""}, {"SKU": BLANK}),
    ({"SKU": True}, {"SKU": NOT_STR}),
    ({"device": "nope"}, {"device": ['Invalid pk "nope" - object does not exist.']}),
], ids=repr)
def test_patch_item_validation(api, body, errors):
    created = create(api, order(items=[min_item(ordered_quantity=5)]))
    it = first_item(created)
    r = api.patch(item_path(it["id"]), body)
    assert r.status_code == 400, r.text
    assert r.json() == errors
    assert api.get(path(created)).json() == created


@pytest.mark.parametrize("body", [{"quantity_fulfilled": 6}, {"ordered_quantity": 1},
                                  {"ordered_quantity": 2, "quantity_fulfilled": 3}])
def test_patch_item_exceeding_ordered_quantity(api, body):
    created = create(api, order(items=[min_item(ordered_quantity=5, quantity_fulfilled=2)]))
    it = first_item(created)
    r = api.patch(item_path(it["id"]), body)
    assert r.status_code == 400, r.text
    assert api.get(path(created)).json() == created


def test_patch_item_to_exactly_ordered(api):
    created = create(api, order(items=[min_item(ordered_quantity=5, quantity_fulfilled=2)]))
    r = api.patch(item_path(first_item(created)["id"]), {"quantity_fulfilled": 5})
    assert r.status_code == 200, r.text
    r = api.patch(item_path(first_item(created)["id"]),
                  {"ordered_quantity": 7, "quantity_fulfilled": 7})
    assert r.status_code == 200, r.text


def test_patch_item_of_another_customer(api, other_api):
    theirs = create(other_api, order(items=[min_item(ordered_quantity=5)]))
    it = first_item(theirs)
    r = api.patch(item_path(it["id"]), {"quantity_fulfilled": 1})
    assert r.status_code == 404
    assert r.json() == NOT_FOUND
    assert other_api.get(path(theirs)).json() == theirs


def test_patch_item_device_of_another_customer(api, other_api):
    theirs = register_device(other_api)
    created = create(api, order(items=[min_item()]))
    r = api.patch(item_path(first_item(created)["id"]), {"device": theirs})
    assert r.status_code == 400
    assert r.json() == {"device": ['Invalid pk "%s" - object does not exist.' % theirs]}


def test_patch_missing_item(api):
    r = api.patch(item_path(2147480000), {"quantity_fulfilled": 1})
    assert r.status_code == 404 and r.json() == NOT_FOUND


# ------------------------------------------------------------- empty bodies

EMPTY_JSON = {"Content-Type": "application/json", "Content-Length": "0"}


def test_empty_body_delete(api):
    created = create(api, order(items=[min_item()]))
    r = api.request("DELETE", path(created), data=b"", headers=EMPTY_JSON)
    assert r.status_code == 204, r.text
    assert count(api) == 0
    r = api.request("DELETE", path(created), data=b"", headers=EMPTY_JSON)
    assert r.status_code == 404 and r.json() == NOT_FOUND


def test_empty_body_post(api):
    r = api.request("POST", LIST, data=b"", headers=EMPTY_JSON)
    assert r.status_code == 400
    assert r.json() == {"order_number": REQUIRED}


def test_empty_body_put(api):
    created = create(api, order(items=[min_item()]))
    r = api.request("PUT", path(created), data=b"", headers=EMPTY_JSON)
    assert r.status_code == 400
    assert r.json() == {"order_number": REQUIRED}
    assert api.get(path(created)).json() == created


def test_empty_body_patch(api):
    created = create(api, order(items=[min_item()]))
    r = api.request("PATCH", path(created), data=b"", headers=EMPTY_JSON)
    assert r.status_code == 200, r.text
    assert r.json()["shipments"] == created["shipments"]
    it = first_item(created)
    r = api.request("PATCH", item_path(it["id"]), data=b"", headers=EMPTY_JSON)
    assert r.status_code == 200, r.text
    assert r.json() == it


# ---------------------------------------------------------- Extensiv cycle

def test_extensiv_delete_then_create_cycle(server, key):
    client = Client(server.base, key, header="API-Key")
    number = str(random.randint(10 ** 7, 10 ** 8 - 1))
    for round_ in range(5):
        r = client.delete(path(number))
        assert r.status_code == (404 if round_ == 0 else 204), r.text
        items = [{"SKU": "EXT-%d-%d" % (round_, n), "ordered_quantity": n + round_ + 1,
                  "warehouse_location": "BIN-%d" % n} for n in range(round_ + 1)]
        if round_ % 2:
            items[0]["description"] = "round %d" % round_
        r = client.post(LIST, {"order_number": number, "items": items})
        assert r.status_code == 201, r.text
    r = client.get(LIST + "?order_number=" + number)
    assert r.status_code == 200
    page = r.json()
    assert page["count"] == 1
    got = page["results"][0]
    assert got["order_number"] == number
    assert [(s["shipment_number"], [(i["SKU"], i["ordered_quantity"], i["warehouse_location"])
                                    for i in s["items"]]) for s in got["shipments"]] == \
        [(number, [("EXT-4-%d" % n, n + 5, "BIN-%d" % n) for n in range(5)])]
    assert client.get(LIST).json()["count"] == 1
    assert client.get(path(number)).json() == got


# -------------------------------------------------------------- the filter

def test_list_filter_is_exact(api, other_api):
    for n in ("ab", "abc", "AB", "xab", "a b"):
        create(api, order(n))
    create(other_api, order("ab"))
    for value, expected in (("ab", ["ab"]), ("AB", ["AB"]), ("a", []), ("abc", ["abc"]),
                            ("a b", ["a b"]), ("ab ", [])):
        r = api.get(LIST, params={"order_number": value})
        assert r.status_code == 200, r.text
        assert [o["order_number"] for o in r.json()["results"]] == expected, value
        assert r.json()["count"] == len(expected)


def test_list_shows_full_orders(api):
    a = create(api, order(shipments=[shipment("S1"), shipment("S2", [item(), item()])]))
    b = create(api, order(items=[min_item()]))
    assert api.get(LIST).json() == {"count": 2, "next": None, "previous": None,
                                    "results": [a, b]}
