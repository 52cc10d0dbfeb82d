"""Contract §5: OPTIONS metadata, DRF 3.14's SimpleMetadata, on every list and
detail path of both APIs.

Shape: {"name", "description", "renders", "parses", "actions"}; "actions"
has "POST" where the path takes POST and "PUT" where it takes PUT and the
object exists (DRF's get_object() check), else it is left out. Fields come in
declaration order with "type", "required", "read_only", "label", then
"max_length" / "min_value" / "max_value" where declared, "child" (lists of
nested objects) or "children" (one nested object), and "choices".
"""
import uuid
from urllib.parse import quote, urlparse

import pytest
import requests

RENDERS = ["application/json", "text/html"]
PARSES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]
# the Orders API's views also have the XML renderer and parser (§8)
XML_RENDERS = RENDERS + ["application/xml"]
XML_PARSES = PARSES + ["application/xml"]
INT32 = 2147483647


def unique(prefix="o"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def meta(api, path, status=200):
    r = api.options(path)
    assert r.status_code == status, (path, r.status_code, r.text)
    assert r.headers.get("Content-Type") == "application/json"
    return r.json()


def methods(r):
    return {m.strip() for m in r.headers.get("Allow", "").split(",") if m.strip()}


def field(type_, label, required=False, read_only=False, **extra):
    info = {"type": type_, "required": required, "read_only": read_only, "label": label}
    info.update(extra)
    return info


def string(label, max_length=None, required=False, read_only=False):
    extra = {"max_length": max_length} if max_length else {}
    return field("string", label, required, read_only, **extra)


def integer(label, required=False, read_only=False, limits=True):
    extra = {"min_value": 0, "max_value": INT32} if limits else {}
    return field("integer", label, required, read_only, **extra)


def nested_list(label, children, required=False, read_only=False):
    return field("field", label, required, read_only, child={
        "type": "nested object", "required": required, "read_only": read_only,
        "children": children})


ITEM_FIELDS = {
    "id": field("integer", "ID", read_only=True),
    "name": string("Name", 255),
    "description": string("Description", 1000),
    "SKU": string("SKU", 64, required=True),
    "UPC": string("UPC", 64),
    "ordered_quantity": integer("Ordered quantity", required=True),
    "quantity_fulfilled": integer("Quantity fulfilled"),
    "warehouse_location": string("Warehouse location", 255),
    "device": field("field", "Device"),
}
SHIPMENT_FIELDS = {
    "id": field("integer", "ID", read_only=True),
    "shipment_number": string("Shipment number", 64, required=True),
    "items": nested_list("Items", ITEM_FIELDS),
}
ORDER_FIELDS = {
    "id": field("integer", "ID", read_only=True),
    "order_number": string("Order number", 64, required=True),
    "shipments": nested_list("Shipments", SHIPMENT_FIELDS),
    "items": nested_list("Items", ITEM_FIELDS),
    "created": field("datetime", "Created", read_only=True),
    "modified": field("datetime", "Modified", read_only=True),
    "status": field("string", "Status", read_only=True),
}


def envelope(name, actions=None, xml=False):
    body = {"name": name, "description": "",
            "renders": XML_RENDERS if xml else RENDERS, "parses": XML_PARSES if xml else PARSES}
    if actions is not None:
        body["actions"] = actions
    return body


def create_order(api, **fields):
    body = {"order_number": unique()}
    body.update(fields)
    r = api.post("/api/orders/", body)
    assert r.status_code == 201, r.text
    return r.json()


# ------------------------------------------------------------------ orders

def test_order_list_is_drf_simple_metadata(api):
    r = api.options("/api/orders/")
    assert r.status_code == 200
    assert methods(r) == {"GET", "POST", "HEAD", "OPTIONS"}
    assert "accept" in r.headers.get("Vary", "").lower()
    body = r.json()
    assert body == envelope("Order List", {"POST": ORDER_FIELDS}, xml=True)
    # declaration order, at every level
    post = body["actions"]["POST"]
    assert list(post) == ["id", "order_number", "shipments", "items", "created", "modified", "status"]
    assert list(post["shipments"]["child"]["children"]) == ["id", "shipment_number", "items"]
    assert list(post["shipments"]["child"]["children"]["items"]["child"]["children"]) == [
        "id", "name", "description", "SKU", "UPC", "ordered_quantity",
        "quantity_fulfilled", "warehouse_location", "device"]
    # DRF's key order inside a field
    assert list(post["order_number"]) == ["type", "required", "read_only", "label", "max_length"]
    assert list(post["shipments"]) == ["type", "required", "read_only", "label", "child"]
    assert list(post["shipments"]["child"]) == ["type", "required", "read_only", "children"]


def test_order_detail_has_put(api):
    order = create_order(api)
    for path in ("/api/orders/%d/" % order["id"], "/api/orders/%s/" % quote(order["order_number"]),
                 "/api/orders/%d" % order["id"]):
        r = api.options(path)
        assert r.status_code == 200, r.text
        assert methods(r) == {"GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
        assert r.json() == envelope("Order Instance", {"PUT": ORDER_FIELDS}, xml=True)


def test_order_detail_of_a_missing_order_has_no_actions(api, other_api):
    """DRF describes PUT only when get_object() finds the object."""
    assert meta(api, "/api/orders/999999999/") == envelope("Order Instance", xml=True)
    theirs = create_order(other_api)
    assert meta(api, "/api/orders/%d/" % theirs["id"]) == envelope("Order Instance", xml=True)


def test_options_changes_nothing(api):
    order = create_order(api, shipments=[{"shipment_number": "s", "items": [
        {"SKU": "a", "ordered_quantity": 2}]}])
    meta(api, "/api/orders/%d/" % order["id"])
    meta(api, "/api/orders/")
    assert api.get("/api/orders/%d/" % order["id"]).json() == order
    assert api.get("/api/orders/").json()["count"] == 1


def test_item_detail(api):
    order = create_order(api, items=[{"SKU": "a", "ordered_quantity": 1}])
    item_id = order["shipments"][0]["items"][0]["id"]
    r = api.options("/api/items/%d/" % item_id)
    assert r.status_code == 200
    assert methods(r) == {"GET", "PUT", "PATCH", "HEAD", "OPTIONS"}
    assert r.json() == envelope("Item Instance", {"PUT": ITEM_FIELDS}, xml=True)
    assert meta(api, "/api/items/999999999/") == envelope("Item Instance", xml=True)


# ----------------------------------------------------------------- devices

STATIC_FIELDS = ["statica", "staticb", "staticc", "staticd", "statice", "locationoverride",
                 "quantity", "arrow", "barcode", "qrcode", "icon", "unsolicitedNonce"]
DISPLAY_FIELDS = ["command", "line1", "line2", "line3", "line4", "line5", "color", "arrow",
                  "sound", "seconds", "quantity", "barcode", "qrcode", "icon", "nonce", "expires"]


def choice_values(info):
    return [c["value"] for c in info["choices"]]


def check_display_fields(fields):
    assert list(fields) == DISPLAY_FIELDS
    assert fields["line1"] == string("Line1", 255)
    assert fields["sound"] == string("Sound", 1024)
    assert fields["seconds"] == integer("Seconds")
    assert fields["quantity"] == integer("Quantity")
    assert fields["expires"] == field("datetime", "Expires", read_only=True)
    command = fields["command"]
    assert {k: command[k] for k in ("type", "required", "read_only", "label")} == \
        {"type": "choice", "required": False, "read_only": False, "label": "Command"}
    assert choice_values(command) == ["flash", "display", "pick", "message", "kill", "off"]
    assert all(c["display_name"] == c["value"] for c in command["choices"])
    for name in ("", "r", "g", "red"):
        assert name in choice_values(fields["color"])
    assert choice_values(fields["arrow"])[:5] == ["", "up", "down", "left", "right"]


def test_device_list(api):
    r = api.options("/api/device/")
    assert r.status_code == 200
    assert methods(r) == {"GET", "POST", "HEAD", "OPTIONS"}
    body = r.json()
    assert body["name"] == "Device List"
    assert (body["renders"], body["parses"]) == (XML_RENDERS, XML_PARSES)
    post = body["actions"]["POST"]
    assert list(body["actions"]) == ["POST"]
    assert list(post) == ["device_id", "deviceid", "location", "statics", "display", "commands", "updated"]
    assert post["device_id"] == string("Device id", 64, required=True)
    assert post["deviceid"] == string("Deviceid", read_only=True)
    assert post["location"] == string("Location", 255)
    statics = post["statics"]
    assert {k: statics[k] for k in ("type", "required", "read_only", "label")} == \
        {"type": "nested object", "required": False, "read_only": True, "label": "Statics"}
    assert list(statics["children"]) == STATIC_FIELDS
    assert statics["children"]["locationoverride"] == string("Locationoverride", 255)
    assert post["display"] == field("field", "Display", read_only=True)
    assert post["commands"] == field("field", "Commands", read_only=True)
    assert post["updated"] == field("datetime", "Updated", read_only=True)


def test_device_detail_describes_post_and_put(api):
    device = "OPT%s:000001" % uuid.uuid4().hex[:4].upper()
    assert api.post("/api/device/", {"device_id": device}).status_code == 201
    r = api.options("/api/device/%s/" % device)
    assert r.status_code == 200
    assert methods(r) == {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"}
    body = r.json()
    assert body["name"] == "Device Instance"
    assert list(body["actions"]) == ["POST", "PUT"]
    assert body["actions"]["POST"] == body["actions"]["PUT"]
    check_display_fields(body["actions"]["PUT"])
    # a device that does not exist: POST is still described, PUT is not
    missing = meta(api, "/api/device/NOPE:%s/" % uuid.uuid4().hex[:6])
    assert list(missing["actions"]) == ["POST"]


def test_devices_bulk(api):
    r = api.options("/api/devices/")
    assert r.status_code == 200
    assert methods(r) == {"POST", "OPTIONS"}
    body = r.json()
    assert body["name"] == "Devices"
    assert (body["renders"], body["parses"]) == (XML_RENDERS, XML_PARSES)
    check_display_fields(body["actions"]["POST"])


# ------------------------------------------------------------- conventions

@pytest.mark.parametrize("path", ["/api/orders/", "/api/device/", "/api/v1/supplier-refunds/"])
def test_options_needs_credentials(server, path):
    r = requests.options(server.base + path, timeout=30)
    assert r.status_code == 401
    assert r.json() == {"detail": "Authentication credentials were not provided."}
    assert r.headers.get("WWW-Authenticate") == "Token"


def test_options_on_unknown_path_is_404(api):
    assert meta(api, "/api/nothing-here/", 404) == {"detail": "Not found."}


@pytest.mark.parametrize("suffix", [".json", "/.json", "/?format=json"])
def test_options_with_json_format(api, suffix):
    body = meta(api, "/api/orders" + suffix)
    assert body == envelope("Order List", {"POST": ORDER_FIELDS}, xml=True)


def test_options_with_bad_format_is_404(api):
    assert meta(api, "/api/orders/?format=xyz", 404) == {"detail": "Not found."}


# ------------------------------------------------- retail data API (§4, §5)

REFUND_PATH = "/api/v1/supplier-refunds/"


def url_field(label):
    return field("field", label, read_only=True)


def catalog_fixture(api):
    """A shop, a supplier, a product and one refund using them; returns the
    refund as listed."""
    tag = uuid.uuid4().hex[:8]
    shop, supplier, product = "shop-" + tag, "sup-" + tag, "prod-" + tag
    for path, body in (("/api/v1/shops/", {"shop_id": shop, "name": "Shop"}),
                       ("/api/v1/suppliers/", {"supplier_id": supplier, "name": "Supplier"}),
                       ("/api/v1/products/", {"product_id": product, "name": "Product"})):
        r = api.post(path, body)
        assert r.status_code == 201, (path, r.text)
    r = api.post(REFUND_PATH, {
        "supplier_id": supplier, "shop_id": shop, "date": "2017-1-1 15:39:00",
        "document_id": "doc-" + tag,
        "products": [{"product_id": product, "qty": 1, "price": 5, "total_price": 5,
                      "receive_document_id": "rd-" + tag}]})
    assert r.status_code == 201, r.text
    listing = api.get(REFUND_PATH).json()
    assert listing["count"] == 1, listing
    return {"shop": shop, "supplier": supplier, "product": product,
            "refund": listing["results"][0]}


def path_of(url):
    return urlparse(url).path


def test_refund_list_matches_the_seed(api):
    r = api.options(REFUND_PATH)
    assert r.status_code == 200, r.text
    assert methods(r) == {"GET", "POST", "HEAD", "OPTIONS"}
    body = r.json()
    assert body["name"] == "Supplier Refund List"
    assert body["description"] == ""
    assert body["renders"] == RENDERS
    assert body["parses"] == PARSES
    post = body["actions"]["POST"]
    assert list(body["actions"]) == ["POST"]
    assert post["url"] == url_field("Url")
    assert post["identifier"]["label"] == "Identifier"
    assert post["identifier"]["type"] == "string"
    assert post["identifier"]["max_length"] == 150
    assert post["document_id"]["label"] == "Document id"
    assert post["document_id"]["max_length"] == 150
    assert post["document_id"]["required"] is True
    assert post["date"] == field("datetime", "Date", required=True)
    assert post["responsible"] == string("Responsible", 150)
    assert post["description"] == string("Description", 200)
    for name in ("supplier_id", "shop_id"):
        assert post[name]["required"] is True and post[name]["read_only"] is False
        assert post[name]["label"] == name.capitalize().replace("_", " ")
    for name in ("supplier_url", "shop_url"):
        assert post[name]["read_only"] is True and post[name]["required"] is False
        assert post[name]["label"] == name.capitalize().replace("_", " ")
    products = post["products"]
    assert {k: products[k] for k in ("type", "required", "read_only", "label")} == \
        {"type": "field", "required": True, "read_only": False, "label": "Products"}
    child = products["child"]
    assert {k: child[k] for k in ("type", "required", "read_only")} == \
        {"type": "nested object", "required": True, "read_only": False}
    assert "label" not in child
    lines = child["children"]
    assert list(lines) == ["url", "product_id", "product_url", "receive_document_id",
                           "receive_document_url", "qty", "price", "total_price"]
    assert lines["url"] == url_field("Url")
    assert lines["product_url"] == url_field("Product url")
    assert lines["receive_document_url"] == url_field("Receive document url")
    assert lines["receive_document_id"] == string("Receive document id", 300, required=True)
    assert lines["product_id"]["label"] == "Product id"
    assert lines["product_id"]["required"] is True
    for name, label in (("qty", "Qty"), ("price", "Price"), ("total_price", "Total price")):
        assert lines[name] == field("decimal", label, required=True)


@pytest.mark.parametrize("suffix", [".json", "/.json", "/?format=json"])
def test_refund_list_options_in_json_spellings(api, suffix):
    assert meta(api, REFUND_PATH.rstrip("/") + suffix)["name"] == "Supplier Refund List"


def test_refund_detail_and_product_line(api):
    made = catalog_fixture(api)
    refund = made["refund"]
    detail = path_of(refund["url"])
    r = api.options(detail)
    assert r.status_code == 200, r.text
    assert methods(r) == {"GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
    body = r.json()
    assert body["name"] == "Supplier Refund Instance"
    assert list(body["actions"]) == ["PUT"]
    assert body["actions"]["PUT"] == api.options(REFUND_PATH).json()["actions"]["POST"]
    line = path_of(refund["products"][0]["url"])
    r = api.options(line)
    assert r.status_code == 200, r.text
    assert methods(r) == {"GET", "HEAD", "OPTIONS"}
    assert "actions" not in r.json()
    assert r.json()["renders"] == RENDERS
    # a refund that does not exist: no PUT
    missing = meta(api, REFUND_PATH + "no-such-document_999999/")
    assert missing["name"] == "Supplier Refund Instance"
    assert "actions" not in missing


CATALOG = [
    ("shops", "Shop", "shop_id", 50, ["url", "shop_id", "name", "address"]),
    ("suppliers", "Supplier", "supplier_id", 50, ["url", "supplier_id", "name"]),
    ("products", "Product", "product_id", 200, ["url", "product_id", "name", "barcode"]),
]


@pytest.mark.parametrize("collection,name,id_field,id_max,fields", CATALOG,
                         ids=[c[0] for c in CATALOG])
def test_catalog_list_and_detail(api, collection, name, id_field, id_max, fields):
    r = api.options("/api/v1/%s/" % collection)
    assert r.status_code == 200, r.text
    assert methods(r) == {"GET", "POST", "HEAD", "OPTIONS"}
    body = r.json()
    assert body["name"] == "%s List" % name
    post = body["actions"]["POST"]
    assert list(post) == fields
    assert post["url"] == url_field("Url")
    assert post[id_field] == string(id_field.capitalize().replace("_", " "), id_max, required=True)
    assert post["name"] == string("Name", 255)

    key = "opt-" + uuid.uuid4().hex[:8]
    assert api.post("/api/v1/%s/" % collection, {id_field: key}).status_code == 201
    r = api.options("/api/v1/%s/%s/" % (collection, key))
    assert r.status_code == 200, r.text
    assert methods(r) == {"GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
    assert r.json() == envelope("%s Instance" % name, {"PUT": post})
    assert meta(api, "/api/v1/%s/%s-missing/" % (collection, key)) == envelope("%s Instance" % name)


def test_every_route_answers_options(api):
    """Every list and detail path of both APIs: the envelope, and actions
    exactly where the path takes POST (or PUT on an existing object)."""
    made = catalog_fixture(api)
    order = create_order(api, items=[{"SKU": "a", "ordered_quantity": 1}])
    device = "EVR%s:000002" % uuid.uuid4().hex[:4].upper()
    assert api.post("/api/device/", {"device_id": device}).status_code == 201
    paths = [
        "/api/orders/", "/api/orders/%d/" % order["id"],
        "/api/items/%d/" % order["shipments"][0]["items"][0]["id"],
        "/api/device/", "/api/device/%s/" % device, "/api/devices/",
        "/api/v1/shops/", "/api/v1/shops/%s/" % made["shop"],
        "/api/v1/suppliers/", "/api/v1/suppliers/%s/" % made["supplier"],
        "/api/v1/products/", "/api/v1/products/%s/" % made["product"],
        REFUND_PATH, path_of(made["refund"]["url"]),
        path_of(made["refund"]["products"][0]["url"]),
    ]
    for path in paths:
        r = api.options(path)
        assert r.status_code == 200, (path, r.text)
        body = r.json()
        assert list(body)[:4] == ["name", "description", "renders", "parses"], path
        assert body["name"], path
        allowed = methods(r)
        expected = [m for m in ("POST", "PUT") if m in allowed]
        assert list(body.get("actions", {})) == expected, path
        for fields in body.get("actions", {}).values():
            for name, info in fields.items():
                assert list(info)[:4] == ["type", "required", "read_only", "label"], (path, name)
                assert not (info["required"] and info["read_only"]), (path, name)
