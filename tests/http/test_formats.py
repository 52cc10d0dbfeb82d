"""Contract §1 "Formats" and §6: format negotiation and the browsable API, on
both APIs.

JSON by ".json" / "/.json" / ?format=json (test_machinery covers those on
orders), HTML by ".api" / "/.api" / ?format=api or an Accept header that
prefers text/html; anything else is 404. The HTML page shows the request,
the status and headers, the JSON pretty-printed with urls as links,
pagination links, and a raw-data form whose method selector offers exactly
the path's write methods; the form posts with DRF's `_method` /
`_content_type` / `_content` overloading. Everything user-supplied is
escaped.
"""
import http.client
import json
import uuid
from html.parser import HTMLParser
from urllib.parse import parse_qs, quote, urlparse

import pytest
import requests

HTML = "text/html; charset=utf-8"
NOT_FOUND = {"detail": "Not found."}
BROWSER_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                  "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
SCRIPT = "<script>alert(1)</script>"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


# ----------------------------------------------------------------- helpers

def unique(prefix="f"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


class Page(HTMLParser):
    """A browsable page, parsed: structure checked, forms, links and text."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.text = text
        self.doctype = None
        self.stack, self.errors = [], []
        self.forms, self.links, self.titles = [], [], []
        self.form = self.select = self.textarea = None
        self.in_title = False
        self.pre_text = []
        self.in_pre = 0
        self.feed(text)
        self.close()
        assert not self.stack, "unclosed: %s" % self.stack
        assert not self.errors, self.errors

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "form":
            self.form = {"action": a.get("action"), "method": a.get("method"), "fields": {},
                         "selects": {}, "textareas": {}}
            self.forms.append(self.form)
        elif tag == "input" and self.form is not None:
            self.form["fields"][a.get("name")] = a.get("value")
        elif tag == "select" and self.form is not None:
            self.select = a.get("name")
            self.form["selects"][self.select] = []
        elif tag == "option" and self.select is not None:
            self.form["selects"][self.select].append((a.get("value"), "selected" in a))
        elif tag == "textarea" and self.form is not None:
            self.textarea = a.get("name")
            self.form["textareas"][self.textarea] = ""
        elif tag == "a":
            self.links.append(a)
        elif tag == "title":
            self.in_title = True
            self.titles.append("")
        elif tag == "pre":
            self.in_pre += 1
            self.pre_text.append("")

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("unexpected </%s> with open %s" % (tag, self.stack[-3:]))
            return
        self.stack.pop()
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "title":
            self.in_title = False
        elif tag == "pre":
            self.in_pre -= 1

    def handle_data(self, data):
        if self.textarea is not None:
            self.form["textareas"][self.textarea] += data
        if self.in_title:
            self.titles[-1] += data
        if self.in_pre:
            self.pre_text[-1] += data

    @property
    def raw_form(self):
        forms = [f for f in self.forms if "_content" in f["textareas"]]
        assert len(forms) <= 1
        return forms[0] if forms else None

    def form_methods(self):
        form = self.raw_form
        return [v for v, _ in form["selects"]["_method"]] if form else []

    def response_json(self):
        """The JSON shown in the response box (after the headers)."""
        box = self.pre_text[1]
        head, sep, body = box.partition("\n\n")
        return json.loads(body) if sep and body.strip() else None

    def response_head(self):
        return self.pre_text[1].partition("\n\n")[0]


def page(r, status=200):
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers.get("Content-Type") == HTML, r.headers
    assert "accept" in r.headers.get("Vary", "").lower()
    assert r.headers.get("Allow"), "no Allow header"
    assert r.text.startswith("<!DOCTYPE html>")
    p = Page(r.text)
    assert p.doctype.lower() == "doctype html"
    assert len(p.titles) == 1 and p.titles[0].strip()
    return p


def assert_json(r, status=200):
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers.get("Content-Type") == "application/json", r.headers
    return r.json()


def create_order(api, number=None, **fields):
    body = {"order_number": number or unique("o")}
    body.update(fields)
    r = api.post("/api/orders/", body)
    assert r.status_code == 201, r.text
    return r.json()


def register_device(api, device_id=None):
    device_id = device_id or "FMT%s:00000A" % uuid.uuid4().hex[:4].upper()
    r = api.post("/api/device/", {"device_id": device_id})
    assert r.status_code == 201, r.text
    return device_id


def html_variants(path):
    """The three HTML spellings of a path ending in '/'."""
    base = path.rstrip("/")
    return [path + "?format=api", base + ".api", base + "/.api"]


def json_variants(path):
    base = path.rstrip("/")
    return [path + "?format=json", base + ".json", base + "/.json"]


@pytest.fixture
def world(api):
    """One of everything, for the customer of `api`."""
    tag = uuid.uuid4().hex[:8]
    order = create_order(api, items=[{"SKU": "sku-1", "ordered_quantity": 2}])
    device = register_device(api)
    shop, supplier, product = "shop-" + tag, "sup-" + tag, "prod-" + tag
    for path, body in (("/api/v1/shops/", {"shop_id": shop, "name": "Shop"}),
                       ("/api/v1/suppliers/", {"supplier_id": supplier}),
                       ("/api/v1/products/", {"product_id": product})):
        r = api.post(path, body)
        assert r.status_code == 201, (path, r.text)
    r = api.post("/api/v1/supplier-refunds/", {
        "supplier_id": supplier, "shop_id": shop, "date": "2017-01-01T15:39:00",
        "document_id": "doc-" + tag,
        "products": [{"product_id": product, "qty": 1, "price": 5, "total_price": 5,
                      "receive_document_id": "rd-" + tag}]})
    assert r.status_code == 201, r.text
    refund = api.get("/api/v1/supplier-refunds/").json()["results"][0]
    return {
        "order": "/api/orders/%d/" % order["id"],
        "item": "/api/items/%d/" % order["shipments"][0]["items"][0]["id"],
        "device": "/api/device/%s/" % device,
        "shop": "/api/v1/shops/%s/" % shop,
        "supplier": "/api/v1/suppliers/%s/" % supplier,
        "product": "/api/v1/products/%s/" % product,
        "refund": urlparse(refund["url"]).path,
        "line": urlparse(refund["products"][0]["url"]).path,
    }


LISTS = ["/api/orders/", "/api/device/", "/api/v1/shops/", "/api/v1/suppliers/",
         "/api/v1/products/", "/api/v1/supplier-refunds/"]
DETAILS = ["order", "item", "device", "shop", "supplier", "product", "refund", "line"]


# ------------------------------------------------------------ the spellings

@pytest.mark.parametrize("path", LISTS)
def test_list_html_spellings(api, path):
    expected = assert_json(api.get(path))
    for variant in html_variants(path):
        p = page(api.get(variant))
        assert p.response_json() == expected, variant


@pytest.mark.parametrize("path", LISTS[1:])
def test_list_json_spellings(api, path):
    expected = assert_json(api.get(path))
    for variant in json_variants(path):
        assert assert_json(api.get(variant)) == expected, variant


@pytest.mark.parametrize("which", DETAILS)
def test_detail_spellings(api, world, which):
    path = world[which]
    expected = assert_json(api.get(path))
    for variant in html_variants(path):
        assert page(api.get(variant)).response_json() == expected, variant
    for variant in json_variants(path):
        assert assert_json(api.get(variant)) == expected, variant


@pytest.mark.parametrize("path", ["/api/v1/supplier-refunds/?format=xml",
                                  "/api/v1/supplier-refunds.xml",
                                  "/api/v1/supplier-refunds/.xml",
                                  "/api/v1/shops/?format=API",
                                  "/api/device/?format=html",
                                  "/api/devices/?format=yaml"])
def test_unknown_format_is_404(api, path):
    assert assert_json(api.get(path), 404) == NOT_FOUND


def test_unknown_format_is_404_before_authentication(server):
    r = requests.get(server.base + "/api/orders/?format=bogus", timeout=30)
    assert assert_json(r, 404) == NOT_FOUND


def test_empty_format_parameter_is_the_default(api):
    assert assert_json(api.get("/api/orders/?format="))["count"] == 0


def test_suffix_wins_over_format_parameter(api):
    """DRF: the URL suffix is taken before ?format=."""
    assert assert_json(api.get("/api/orders.json?format=api"))["count"] == 0
    page(api.get("/api/orders.api?format=json"))
    page(api.get("/api/orders.api?format=bogus"))


def test_unknown_path_stays_json_for_browsers(api):
    r = api.get("/api/not-a-thing/", headers={"Accept": BROWSER_ACCEPT})
    assert assert_json(r, 404) == NOT_FOUND
    assert assert_json(api.get("/api/not-a-thing/?format=api"), 404) == NOT_FOUND


# ------------------------------------------------------------------- Accept

@pytest.mark.parametrize("accept,html", [
    (BROWSER_ACCEPT, True),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
    ("text/html", True),
    ("text/html; charset=utf-8", True),
    ("TEXT/HTML", True),
    ("text/*", True),
    ("application/json;q=0.5, text/html", True),
    ("text/html, */*;q=0.1", True),
    ("*/*", False),
    ("application/json", False),
    ("application/json, text/plain, */*", False),
    ("text/html, application/json", False),
    ("application/json, text/html", False),
    ("text/html;q=0.9, application/json", False),
    ("text/html;q=0, */*", False),
    ("text/plain", False),
    ("image/png", False),
    ("", False),
    ("garbage;;;,,", False),
])
def test_accept_negotiation(api, accept, html):
    r = api.get("/api/orders/", headers={"Accept": accept})
    if html:
        assert page(r).response_json() == {"count": 0, "next": None, "previous": None,
                                           "results": []}
    else:
        assert assert_json(r) == {"count": 0, "next": None, "previous": None, "results": []}


def test_explicit_format_wins_over_accept(api):
    r = api.get("/api/orders/?format=json", headers={"Accept": BROWSER_ACCEPT})
    assert_json(r)
    r = api.get("/api/orders.json", headers={"Accept": BROWSER_ACCEPT})
    assert_json(r)
    page(api.get("/api/orders/?format=api", headers={"Accept": "application/json"}))


def test_browser_accept_on_every_api(api, world):
    for path in ["/api/orders/", "/api/v1/supplier-refunds/", world["refund"], world["device"]]:
        page(api.get(path, headers={"Accept": BROWSER_ACCEPT}))


# --------------------------------------------------------------- the page

def test_page_shows_request_status_headers_and_json(api, server):
    order = create_order(api)
    path = "/api/orders/%d/?format=api" % order["id"]
    p = page(api.get(path))
    request_line = p.pre_text[0].strip()
    assert request_line == "GET " + path
    head = p.response_head()
    lines = head.splitlines()
    assert lines[0] == "HTTP 200 OK"
    assert "Allow: GET, PUT, PATCH, DELETE, HEAD, OPTIONS" in lines
    assert "Content-Type: application/json" in lines
    assert "Vary: Accept" in lines
    assert p.response_json() == order
    # pretty-printed with DRF's indent of 4
    assert '\n    "order_number": ' in p.pre_text[1]
    assert "Order Instance" in p.titles[0]


def test_urls_are_links(api, world, server):
    p = page(api.get(world["refund"] + "?format=api"))
    hrefs = {a.get("href") for a in p.links}
    shown = p.response_json()
    for key in ("url", "shop_url", "supplier_url"):
        assert shown[key] in hrefs, key
    assert shown["products"][0]["product_url"] in hrefs
    assert shown["products"][0]["receive_document_url"] in hrefs
    assert all(h.startswith(("http://", "https://", "/")) for h in hrefs if h)


def test_location_header_is_shown_on_201(api, server):
    number = unique()
    r = api.post("/api/orders/?format=api", {"order_number": number})
    p = page(r, 201)
    assert r.headers["Location"].startswith(server.base + "/api/orders/")
    assert "Location: " + r.headers["Location"] in p.response_head().splitlines()
    assert p.response_head().splitlines()[0] == "HTTP 201 Created"
    assert p.response_json()["order_number"] == number


@pytest.mark.parametrize("case", ["401", "404", "405", "400", "415", "parse"])
def test_errors_get_the_page_too(api, server, case):
    if case == "401":
        r = requests.get(server.base + "/api/orders/?format=api", timeout=30)
        p = page(r, 401)
        assert r.headers.get("WWW-Authenticate") == "Token"
        assert "WWW-Authenticate: Token" in p.response_head().splitlines()
        assert p.response_json() == {"detail": "Authentication credentials were not provided."}
        return
    if case == "404":
        r, status, body = api.get("/api/orders/999999999/?format=api"), 404, NOT_FOUND
    elif case == "405":
        r, status = api.delete("/api/orders/?format=api"), 405
        body = {"detail": 'Method "DELETE" not allowed.'}
    elif case == "400":
        r, status = api.post("/api/orders/?format=api", {}), 400
        body = {"order_number": ["This field is required."]}
    elif case == "415":
        r = api.post("/api/orders/?format=api", data="x", headers={"Content-Type": "text/plain"})
        status, body = 415, {"detail": 'Unsupported media type "text/plain" in request.'}
    else:
        r = api.post("/api/orders/?format=api", data="{bad",
                     headers={"Content-Type": "application/json"})
        status, body = 400, None
    p = page(r, status)
    assert p.response_head().splitlines()[0].startswith("HTTP %d " % status)
    if body is not None:
        assert p.response_json() == body
    else:
        assert p.response_json()["detail"].startswith("JSON parse error - ")


def test_options_page(api):
    r = api.options("/api/orders/?format=api")
    p = page(r)
    assert p.pre_text[0].strip() == "OPTIONS /api/orders/?format=api"
    shown = p.response_json()
    assert shown["name"] == "Order List"
    assert shown == api.options("/api/orders/").json()


def test_options_button_posts_method_override(api):
    p = page(api.get("/api/orders/?format=api"))
    buttons = [f for f in p.forms if f["fields"].get("_method") == "OPTIONS"]
    assert len(buttons) == 1
    assert buttons[0]["method"] == "post"
    assert buttons[0]["action"] == "/api/orders/?format=api"
    r = api.post(buttons[0]["action"], data={"_method": "OPTIONS"})
    assert page(r).response_json()["name"] == "Order List"


def test_format_links(api):
    create_order(api)
    p = page(api.get("/api/orders.api?page_size=1"))
    hrefs = [a.get("href") for a in p.links]
    json_link = [h for h in hrefs if h and "format=json" in h]
    assert json_link == ["/api/orders?page_size=1&format=json"]
    assert assert_json(api.get(json_link[0]))["count"] == 1


def test_head_on_the_page(api, server):
    order = create_order(api)
    path = "/api/orders/%d/?format=api" % order["id"]
    u = urlparse(server.base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("HEAD", path, headers={"API_KEY": api.key})
        head = conn.getresponse()
        head_body = head.read()
        head_headers = dict(head.getheaders())
        conn.request("GET", path, headers={"API_KEY": api.key})
        get = conn.getresponse()
        get_body = get.read()
        get_headers = dict(get.getheaders())
    finally:
        conn.close()
    assert head.status == get.status == 200
    assert head_body == b""
    for name in ("Content-Type", "Allow", "Vary"):
        assert head_headers.get(name) == get_headers.get(name), name
    assert get_headers["Content-Type"] == HTML
    assert get_body.startswith(b"<!DOCTYPE html>")
    r = api.head("/api/orders/", headers={"Accept": BROWSER_ACCEPT})
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Content-Type"] == HTML


# ---------------------------------------------------------------- escaping

def test_stored_values_are_escaped(api):
    order = create_order(api, number=SCRIPT, items=[
        {"SKU": '"><img src=x onerror=alert(2)>', "ordered_quantity": 1,
         "name": "Tom & Jerry's <u>"}])
    for path in ("/api/orders/%d/?format=api" % order["id"], "/api/orders/?format=api",
                 "/api/orders/%s/?format=api" % quote(SCRIPT, safe="")):
        r = api.get(path)
        p = page(r)
        assert SCRIPT not in r.text
        assert "<img" not in r.text
        assert "<u>" not in r.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
        assert "Tom &amp; Jerry&#x27;s &lt;u&gt;" in r.text
        shown = p.response_json()
        got = shown if "order_number" in shown else shown["results"][0]
        assert got["order_number"] == SCRIPT
    # the PUT form starts from the stored object, escaped too
    p = page(api.get("/api/orders/%d/?format=api" % order["id"]))
    assert json.loads(p.raw_form["textareas"]["_content"])["order_number"] == SCRIPT


def test_error_messages_with_user_data_are_escaped(api):
    device = register_device(api)
    r = api.post("/api/device/%s/?format=api" % device, {"command": SCRIPT})
    p = page(r, 400)
    assert SCRIPT not in r.text
    assert p.response_json() == {"command": ['"%s" is not a valid choice.' % SCRIPT]}
    # the failed body is offered again in the form, escaped
    assert json.loads(p.raw_form["textareas"]["_content"]) == {"command": SCRIPT}


def test_raw_path_and_query_are_escaped(api, server):
    u = urlparse(server.base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("GET", "/api/orders/<b>x\"'/?format=api&q=<i>",
                     headers={"API_KEY": api.key})
        resp = conn.getresponse()
        text = resp.read().decode()
    finally:
        conn.close()
    assert resp.status == 404
    assert resp.getheader("Content-Type") == HTML
    assert "<b>x" not in text and "<i>" not in text
    assert "&lt;b&gt;x&quot;&#x27;" in text
    Page(text)


def test_javascript_urls_are_not_links(api):
    create_order(api, number="javascript:alert(1)")
    p = page(api.get("/api/orders/?format=api"))
    assert not any((a.get("href") or "").startswith("javascript:") for a in p.links)


# -------------------------------------------------------------- the form

def routes_and_methods(world):
    return [
        ("/api/orders/", ["POST"]),
        (world["order"], ["PUT", "PATCH", "DELETE"]),
        (world["item"], ["PUT", "PATCH"]),
        ("/api/device/", ["POST"]),
        (world["device"], ["POST", "PUT", "DELETE"]),
        ("/api/devices/", ["POST"]),
        ("/api/v1/shops/", ["POST"]),
        (world["shop"], ["PUT", "PATCH", "DELETE"]),
        ("/api/v1/suppliers/", ["POST"]),
        (world["supplier"], ["PUT", "PATCH", "DELETE"]),
        ("/api/v1/products/", ["POST"]),
        (world["product"], ["PUT", "PATCH", "DELETE"]),
        ("/api/v1/supplier-refunds/", ["POST"]),
        (world["refund"], ["PUT", "PATCH", "DELETE"]),
        (world["line"], []),
    ]


def test_raw_form_offers_exactly_the_allowed_methods(api, world):
    for path, expected in routes_and_methods(world):
        r = api.get(path + "?format=api")
        p = page(r, 405 if path == "/api/devices/" else 200)
        allow = {m.strip() for m in r.headers["Allow"].split(",")}
        assert p.form_methods() == expected, path
        assert set(expected) == allow & {"POST", "PUT", "PATCH", "DELETE"}, path
        form = p.raw_form
        if not expected:
            assert form is None and "<textarea" not in r.text, path
            continue
        assert form["method"] == "post"
        assert form["action"] == path + "?format=api"
        assert [v for v, _ in form["selects"]["_content_type"]][0] == "application/json"
        selected = [v for v, s in form["selects"]["_method"] if s]
        assert len(selected) == 1
        assert selected[0] == ("PUT" if "PUT" in expected else expected[0])
        json.loads(form["textareas"]["_content"])


def test_post_form_template_is_the_writable_fields(api):
    p = page(api.get("/api/orders/?format=api"))
    assert json.loads(p.raw_form["textareas"]["_content"]) == {"order_number": "",
                                                                  "shipments": []}
    p = page(api.get("/api/v1/supplier-refunds/?format=api"))
    template = json.loads(p.raw_form["textareas"]["_content"])
    assert "url" not in template and "products" in template and template["products"] == []


def test_put_form_starts_from_the_object(api, world):
    p = page(api.get(world["order"] + "?format=api"))
    current = json.loads(p.raw_form["textareas"]["_content"])
    shown = p.response_json()
    assert current["order_number"] == shown["order_number"]
    assert "id" not in current and "created" not in current


def post_form(api, path, method=None, content=None, content_type=None, **kw):
    data = {}
    if method is not None:
        data["_method"] = method
    if content_type is not None:
        data["_content_type"] = content_type
    if content is not None:
        data["_content"] = content if isinstance(content, str) else json.dumps(content)
    return api.post(path, data=data, **kw)


def test_form_override_runs_put_patch_delete(api):
    order = create_order(api, items=[{"SKU": "a", "ordered_quantity": 1}])
    detail = "/api/orders/%d/" % order["id"]
    number = unique("put")
    r = post_form(api, detail + "?format=api", "PUT", {"order_number": number},
                  "application/json")
    p = page(r)
    assert p.pre_text[0].strip() == "PUT " + detail + "?format=api"
    assert p.response_json()["order_number"] == number
    assert api.get(detail).json()["order_number"] == number
    assert api.get(detail).json()["shipments"] == []

    number2 = unique("patch")
    r = post_form(api, detail, "patch", {"order_number": number2})  # JSON answer, lower case
    assert assert_json(r)["order_number"] == number2

    r = post_form(api, detail + "?format=api", "DELETE")
    p = page(r)  # DRF shows the 204 in a 200 page, so browsers display it
    assert p.response_head().splitlines()[0] == "HTTP 204 No Content"
    assert p.response_json() is None
    assert api.get(detail).status_code == 404


def test_form_override_without_method_posts_the_content(api):
    number = unique("raw")
    r = post_form(api, "/api/orders/", content={"order_number": number})
    body = assert_json(r, 201)
    assert body["order_number"] == number
    assert r.headers["Location"].endswith("/api/orders/%d/" % body["id"])


def test_form_override_with_form_content(api):
    number = unique("form")
    r = post_form(api, "/api/orders/", "POST", "order_number=" + number,
                  "application/x-www-form-urlencoded")
    assert assert_json(r, 201)["order_number"] == number


def test_form_override_errors(api):
    order = create_order(api)
    detail = "/api/orders/%d/" % order["id"]
    r = post_form(api, "/api/orders/", "PUT", {"order_number": "x"})
    assert assert_json(r, 405) == {"detail": 'Method "PUT" not allowed.'}
    r = post_form(api, detail, "BREW", {})
    assert assert_json(r, 405) == {"detail": 'Method "BREW" not allowed.'}
    r = post_form(api, detail, "PUT", "x", "text/plain")
    assert assert_json(r, 415) == {"detail": 'Unsupported media type "text/plain" in request.'}
    r = post_form(api, detail, "PUT", "{not json", "application/json")
    assert assert_json(r, 400)["detail"].startswith("JSON parse error - ")
    r = post_form(api, detail, "PUT", {})
    assert assert_json(r, 400) == {"order_number": ["This field is required."]}
    assert api.get(detail).json() == order


def test_override_needs_credentials(server, api):
    order = create_order(api)
    detail = "/api/orders/%d/" % order["id"]
    for method in ("DELETE", "BREW"):
        r = requests.post(server.base + detail, data={"_method": method}, timeout=30)
        assert assert_json(r, 401) == {
            "detail": "Authentication credentials were not provided."}
    assert api.get(detail).status_code == 200


def test_override_only_for_form_posts(api):
    order = create_order(api)
    detail = "/api/orders/%d/" % order["id"]
    # JSON bodies are never overloaded
    r = api.post(detail, {"_method": "DELETE"})
    assert assert_json(r, 405) == {"detail": 'Method "POST" not allowed.'}
    number = unique("json")
    r = api.post("/api/orders/", {"_method": "DELETE", "order_number": number})
    assert assert_json(r, 201)["order_number"] == number
    # nor other methods with a form body
    r = api.put(detail, data={"_method": "DELETE", "order_number": unique()})
    assert assert_json(r)["id"] == order["id"]
    assert api.get(detail).status_code == 200
    # a plain form POST without the override fields is a form post
    number = unique("plain")
    r = api.post("/api/orders/", data={"order_number": number})
    assert assert_json(r, 201)["order_number"] == number


def test_failed_write_is_offered_again(api):
    r = post_form(api, "/api/orders/?format=api", "POST", '{"order_number": ""}')
    p = page(r, 400)
    form = p.raw_form
    assert form["textareas"]["_content"].strip() == '{"order_number": ""}'
    assert [v for v, s in form["selects"]["_method"] if s] == ["POST"]


# ------------------------------------------------------------- pagination

def test_pagination_links(api):
    for i in range(3):
        create_order(api, number="pg-%d-%s" % (i, unique()))
    p = page(api.get("/api/orders/?format=api&page_size=1&page=2"))
    shown = p.response_json()
    assert shown["count"] == 3
    rels = {a.get("rel"): a.get("href") for a in p.links if a.get("rel")}
    assert rels["next"] == shown["next"]
    assert rels["prev"] == shown["previous"]
    q = parse_qs(urlparse(rels["next"]).query)
    assert q["page"] == ["3"] and q["format"] == ["api"]
    # the links lead to pages in the same format
    nxt = page(api.get(rels["next"]))
    assert nxt.response_json()["next"] is None
    assert not any(a.get("rel") == "next" for a in nxt.links)
    prev = page(api.get(rels["prev"]))
    assert prev.response_json()["previous"] is None
    assert not any(a.get("rel") == "prev" for a in prev.links)


def test_pagination_links_with_suffix(api):
    for i in range(2):
        create_order(api)
    p = page(api.get("/api/orders.api?page_size=1"))
    rels = {a.get("rel"): a.get("href") for a in p.links if a.get("rel")}
    assert urlparse(rels["next"]).path == "/api/orders.api"
    page(api.get(rels["next"]))


def test_breadcrumbs(api, world):
    p = page(api.get(world["line"] + "?format=api"))
    crumbs = [a.get("href") for a in p.links]
    assert "/api/v1/supplier-refunds/" in crumbs
    assert world["refund"] in crumbs
