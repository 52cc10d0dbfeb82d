"""The OpenAPI document (GET /api/schema/) and the interactive docs page
(GET /api/docs/).

The document is checked by a real validator, @apidevtools/swagger-parser,
run once through tests/openapi/validate.js (node; the packages come from
web/, installed by scripts/npm-install.sh web), which also checks answers this
server really gave against the document. Then against the route table
itself: src/api/routes.c is parsed here, and every pattern must be a path of
the document, its captures named, with the methods its row has handlers for.
Without node or the packages these tests fail saying so; nothing is skipped.
"""
import json
import os
import re
import shutil
import subprocess
import uuid
from html.parser import HTMLParser

import pytest
import requests

from conftest import REPO, Client, new_key

VALIDATOR = os.path.join(REPO, "tests", "openapi", "validate.js")
ROUTES_C = os.path.join(REPO, "src", "api", "routes.c")
METHODS = {"get": "get", "post": "post", "put": "put", "patch": "patch", "del": "delete"}
CAPTURE = re.compile(r"\{([^}]*)\}")

# The names ?ordering= takes on each list (contract §3.2, §3.3, §4.1, §4.2).
ORDERING = {
    "/api/orders/": ["id", "order_number", "created"],
    "/api/device/": ["device_id", "location"],
    "/api/v1/shops/": ["shop_id", "name"],
    "/api/v1/suppliers/": ["supplier_id", "name"],
    "/api/v1/products/": ["product_id", "name"],
    "/api/v1/supplier-refunds/": ["date", "identifier", "document_id", "url"],
}
FILTERS = {
    "/api/orders/": ["order_number"],
    "/api/v1/supplier-refunds/": ["shop_id", "supplier_id", "date_from", "date_to"],
}


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


# ------------------------------------------------------------ the route table

def strip_comments(source):
    """C source without comments (string literals kept whole)."""
    out, i, n = [], 0, len(source)
    while i < n:
        c = source[i]
        if c == '"':
            j = i + 1
            while source[j] != '"':
                j += 2 if source[j] == "\\" else 1
            out.append(source[i:j + 1])
            i = j + 1
        elif source.startswith("/*", i):
            i = source.index("*/", i) + 2
        elif source.startswith("//", i):
            i = source.index("\n", i)
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_routes():
    """[(pattern, set of methods, flags text)] of every row of api_routes[]."""
    source = strip_comments(open(ROUTES_C).read())
    body = source[source.index("api_routes[] = {") + len("api_routes[] = {"):]
    rows, depth, start, in_string = [], 0, None, False
    for i, c in enumerate(body):
        if in_string:
            if c == '"' and body[i - 1] != "\\":
                in_string = False
            continue
        if c == '"':
            in_string = True
        elif c == "{":
            depth += 1
            if depth == 1:
                start = i
        elif c == "}":
            if depth == 0:
                break
            depth -= 1
            if depth == 0:
                rows.append(body[start:i + 1])
    routes = []
    for row in rows:
        pattern = re.match(r'\{\s*"([^"]*)"', row).group(1)
        methods = {METHODS[m] for m in re.findall(r"\.(get|post|put|patch|del)\s*=", row)}
        flags = re.search(r"\.flags\s*=\s*([^,}]*)", row)
        routes.append((pattern, methods, flags.group(1) if flags else ""))
    assert routes, "no rows found in src/api/routes.c"
    return routes


ROUTES = parse_routes()


def shape(path):
    """A path with every capture as {}, to compare a pattern with a template."""
    return CAPTURE.sub("{}", path)


# ------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def client(server):
    return Client(server.base, new_key(server.db))


@pytest.fixture(scope="module")
def document(client):
    r = client.get("/api/schema/")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    return r.json()


def node():
    found = shutil.which("node") or shutil.which("nodejs")
    if not found:
        pytest.fail("node is missing: run scripts/deps.sh (it installs nodejs), then scripts/npm-install.sh web")
    return found


def make_samples(client):
    """Real answers of the server, each with the path template and method the
    document should describe it under."""
    samples = []

    def keep(template, method, r, status):
        assert r.status_code == status, (method, r.url, r.status_code, r.text)
        samples.append({"path": template, "method": method, "status": status, "body": r.json()})
        return r.json()

    # Orders API
    number = unique("o")
    order = {"order_number": number, "shipments": [{"shipment_number": "s1", "items": [
        {"SKU": "A-1", "ordered_quantity": 3, "name": "pen", "warehouse_location": "L1"}]}]}
    keep("/api/orders/", "post", client.post("/api/orders/", order), 201)
    keep("/api/orders/", "get", client.get("/api/orders/?page_size=1"), 200)
    got = keep("/api/orders/{order}/", "get", client.get("/api/orders/%s/" % number), 200)
    item_id = got["shipments"][0]["items"][0]["id"]
    keep("/api/orders/{order}/", "patch", client.patch("/api/orders/%s/" % number, {"order_number": number}), 200)
    keep("/api/items/{id}/", "patch", client.patch("/api/items/%d/" % item_id, {"quantity_fulfilled": 1}), 200)
    keep("/api/orders/", "post", client.post("/api/orders/", {"order_number": number}), 400)
    keep("/api/orders/", "post", client.post("/api/orders/", {"shipments": [
        {}, {"shipment_number": "x", "items": [{"SKU": "a", "ordered_quantity": "x"}]}]}), 400)
    keep("/api/orders/{order}/", "get", client.get("/api/orders/%s/" % unique("missing")), 404)
    keep("/api/orders/", "get", client.get("/api/orders/?page=999"), 404)
    keep("/api/orders/", "post", client.post("/api/orders/", data="{nope",
                                             headers={"Content-Type": "application/json"}), 400)
    keep("/api/orders/", "post", client.post("/api/orders/", data="x",
                                             headers={"Content-Type": "text/plain"}), 415)

    # devices: a static update, then a command, so `display` is both null and set
    device = unique("dev")
    keep("/api/device/", "post", client.post("/api/device/", {"device_id": device, "location": "L1"}), 201)
    keep("/api/device/{device_id}/", "post",
         client.post("/api/device/%s/" % device, {"statica": "a", "quantity": 2}), 200)
    keep("/api/device/{device_id}/", "put",
         client.put("/api/device/%s/" % device, {"line1": "hello", "color": "g", "seconds": 60}), 200)
    keep("/api/devices/", "post", client.post("/api/devices/", [{"deviceid": device, "line1": "x"}]), 200)
    keep("/api/devices/", "post", client.post("/api/devices/", [{"deviceid": unique("none")}]), 400)
    keep("/api/device/", "get", client.get("/api/device/"), 200)

    # retail data API
    shop, supplier, product = unique("shop"), unique("sup"), unique("prod")
    keep("/api/v1/shops/", "post", client.post("/api/v1/shops/", {"shop_id": shop, "name": None}), 201)
    keep("/api/v1/suppliers/", "post", client.post("/api/v1/suppliers/", [{"supplier_id": supplier}]), 201)
    keep("/api/v1/products/", "post", client.post("/api/v1/products/", {"product_id": product}), 201)
    keep("/api/v1/shops/{shop_id}/", "get", client.get("/api/v1/shops/%s/" % shop), 200)
    keep("/api/v1/products/", "get", client.get("/api/v1/products/"), 200)
    refund = {"document_id": unique("doc"), "supplier_id": supplier, "shop_id": shop,
              "date": "2017-01-01 15:39:00", "responsible": None, "products": [
                  {"product_id": product, "receive_document_id": "r-1", "qty": 2, "price": "1.5",
                   "total_price": 3}]}
    keep("/api/v1/supplier-refunds/", "post", client.post("/api/v1/supplier-refunds/", refund), 201)
    keep("/api/v1/supplier-refunds/", "post", client.post("/api/v1/supplier-refunds/", [{}, refund]), 400)
    page = keep("/api/v1/supplier-refunds/", "get",
                client.get("/api/v1/supplier-refunds/?shop_id=%s&ordering=-date" % shop), 200)
    url = page["results"][0]["url"]
    keep("/api/v1/supplier-refunds/{refund}/", "get", client.get(url), 200)
    keep("/api/v1/supplier-refunds/{refund}/products/{line_id}/", "get",
         client.get(page["results"][0]["products"][0]["url"]), 200)
    keep("/api/v1/supplier-refunds/", "get", client.get("/api/v1/supplier-refunds/?date_from=x"), 400)
    return samples


@pytest.fixture(scope="module")
def validated(document, client, tmp_path_factory):
    """The validator's verdict on the document and on real answers (run once)."""
    where = tmp_path_factory.mktemp("openapi")
    (where / "document.json").write_text(json.dumps(document))
    (where / "samples.json").write_text(json.dumps(make_samples(client)))
    run = subprocess.run([node(), VALIDATOR, str(where / "document.json"), str(where / "samples.json")],
                         capture_output=True, text=True, timeout=120)
    if run.returncode == 2:
        pytest.fail("the OpenAPI validator could not run: %s" % run.stderr.strip())
    return run


# ------------------------------------------------------------ the document

def test_document_is_valid_openapi_and_matches_real_answers(validated, document):
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert validated.stdout.startswith("valid: %d paths" % len(document["paths"]))
    assert document["openapi"] == "3.0.3"


def test_every_route_is_a_path_with_its_methods(document):
    paths = document["paths"]
    by_shape = {}
    for template in paths:
        by_shape.setdefault(shape(template), []).append(template)
    for pattern, methods, flags in ROUTES:
        templates = by_shape.get(shape(pattern), [])
        assert len(templates) == 1, (pattern, templates)
        template = templates[0]
        item = paths[template]
        names = CAPTURE.findall(template)
        assert all(names) and len(set(names)) == len(names), template
        declared = [p for p in item.get("parameters", []) if p.get("in") == "path"]
        assert sorted(p["name"] for p in declared) == sorted(names), template
        assert all(p["required"] is True for p in declared)
        operations = {m for m in item if m in METHODS.values()}
        if "ROUTE_RAW" in flags:
            # a raw route's .get answers every method: the document says which
            assert operations, pattern
        else:
            assert operations == methods, (pattern, operations, methods)
    # and nothing else: every path of the document is a route
    assert sorted(by_shape) == sorted({shape(p) for p, _, _ in ROUTES})


def test_lists_take_page_ordering_and_their_filters(document):
    params = document["components"]["parameters"]

    def resolve(p):
        return params[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p

    for path, names in ORDERING.items():
        query = {p["name"]: p for p in map(resolve, document["paths"][path]["get"]["parameters"])
                 if p["in"] == "query"}
        assert {"page", "page_size", "ordering"} <= set(query), path
        assert query["page_size"]["schema"]["maximum"] == 1000
        assert query["page_size"]["schema"]["default"] == 100
        accepted = query["ordering"]["schema"]["items"]["enum"]
        assert sorted(accepted) == sorted(names + ["-" + n for n in names]), path
        for name in FILTERS.get(path, []):
            assert name in query, (path, name)
    formats = resolve({"$ref": "#/components/parameters/format"})
    assert formats["schema"]["enum"] == ["json", "api"]


def test_bodies_come_from_the_declarations(document):
    schemas = document["components"]["schemas"]
    order = schemas["Order"]
    assert list(order["properties"]) == ["id", "order_number", "shipments", "items", "created", "modified",
                                         "status"]
    assert "order_number" in order["required"]
    assert order["properties"]["order_number"]["maxLength"] == 64
    assert order["properties"]["id"]["readOnly"] is True
    assert order["properties"]["items"]["writeOnly"] is True
    assert "required" not in schemas["PatchedOrder"]
    item = schemas["Item"]["properties"]
    assert item["ordered_quantity"] == {"type": "integer", "minimum": 0, "maximum": 2147483647}
    assert item["device"]["nullable"] is True
    refund_product = schemas["RefundProduct"]["properties"]
    for name in ("qty", "price", "total_price"):
        assert refund_product[name]["type"] == "string" and refund_product[name]["format"] == "decimal"
    assert set(schemas["SupplierRefund"]["required"]) >= {"document_id", "supplier_id", "shop_id", "date", "products"}
    assert schemas["SupplierRefund"]["properties"]["products"]["minItems"] == 1
    colors = schemas["Display"]["properties"]["color"]["enum"]
    assert {"", "r", "g", "red"} <= set(colors)
    body = document["paths"]["/api/orders/{order}/"]["patch"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/PatchedOrder"}
    upsert = document["paths"]["/api/v1/shops/"]["post"]
    assert upsert["responses"]["201"]["content"]["application/json"]["schema"] == \
        {"$ref": "#/components/schemas/UpsertResult"}
    one_or_many = upsert["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert {"$ref": "#/components/schemas/Shop"} in one_or_many
    assert {"type": "array", "items": {"$ref": "#/components/schemas/Shop"}} in one_or_many


def test_error_shapes(document):
    schemas = document["components"]["schemas"]
    assert schemas["Error"]["required"] == ["detail"]
    assert schemas["Error"]["properties"]["detail"]["type"] == "string"
    assert schemas["ValidationError"]["type"] == "object"
    assert schemas["ValidationError"]["properties"]["non_field_errors"]["items"]["type"] == "string"
    assert set(schemas["OAuth2Error"]["properties"]["error"]["enum"]) == {
        "invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type"}
    responses = document["components"]["responses"]
    unauthenticated = responses["Unauthenticated"]
    assert unauthenticated["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "WWW-Authenticate" in unauthenticated["headers"]
    # every operation that needs credentials says what 401 looks like
    public = {shape(p) for p, _, flags in ROUTES if "ROUTE_PUBLIC" in flags}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            if shape(path) in public:
                assert operation.get("security") is not None, (path, method)
                assert operation["security"] == [] or {} in operation["security"], (path, method)
            else:
                assert "security" not in operation, (path, method)
                assert operation["responses"]["401"] == {"$ref": "#/components/responses/Unauthenticated"}


def test_security_schemes(document):
    schemes = document["components"]["securitySchemes"]
    by_header = {s["name"]: s for s in schemes.values() if s["type"] == "apiKey" and s["in"] == "header"}
    assert {"API_KEY", "API-KEY", "Authorization"} <= set(by_header)
    assert "Token" in by_header["Authorization"]["description"]
    assert "API-KEY" in by_header["API_KEY"]["description"]
    bearer = [s for s in schemes.values() if s["type"] == "http" and s["scheme"] == "bearer"]
    assert len(bearer) == 1
    cookie = [s for s in schemes.values() if s["type"] == "apiKey" and s["in"] == "cookie"]
    assert [s["name"] for s in cookie] == ["sessionid"]
    oauth2 = [s for s in schemes.values() if s["type"] == "oauth2"]
    assert oauth2[0]["flows"]["password"]["tokenUrl"] == "/api/o/token/"
    name_of = {id(s): n for n, s in schemes.items()}
    wanted = {name_of[id(s)] for s in [by_header["API_KEY"], by_header["API-KEY"], by_header["Authorization"],
                                       bearer[0], cookie[0], oauth2[0]]}
    assert {n for requirement in document["security"] for n in requirement} == wanted


def test_routes_without_a_schema_are_described(document):
    """The rows of routes.c that have no schema get a description of their
    own; those of them in this tree are checked here."""
    paths = document["paths"]
    present = {p for p, _, _ in ROUTES}
    if "/api/o/token/" in present:
        token = paths["/api/o/token/"]
        assert set(token) - {"parameters"} == {"post"}
        form = token["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        assert form["properties"]["grant_type"]["enum"] == ["password", "refresh_token"]
        assert {"username", "password", "refresh_token", "client_id", "client_secret"} <= set(form["properties"])
        answers = token["post"]["responses"]
        assert answers["200"]["content"]["application/json"]["schema"]["required"] == [
            "access_token", "token_type", "expires_in", "refresh_token", "scope"]
        for status in ("400", "401"):
            assert answers[status]["content"]["application/json"]["schema"] == \
                {"$ref": "#/components/schemas/OAuth2Error"}
    if "/api/user/login/" in present:
        login = paths["/api/user/login/"]["post"]
        assert login["security"] == []
        assert set(login["responses"]["200"]["content"]["application/json"]["schema"]["required"]) == \
            {"token", "apikey"}
        assert "401" in login["responses"]
    if "/api/auth/login/" in present:
        assert {"get", "post"} <= set(paths["/api/auth/login/"])
        assert "302" in paths["/api/auth/login/"]["post"]["responses"]
    if "/api/" in present:
        root = paths["/api/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert set(root["required"]) == {"orders", "device", "sequence", "shops", "suppliers", "products",
                                     "supplier-refunds"}
    schema = paths["/api/schema/"]["get"]
    assert "200" in schema["responses"] and "401" in schema["responses"]
    assert "text/html" in paths["/api/docs/"]["get"]["responses"]["200"]["content"]
    assert paths["/healthz"]["get"]["security"] == []


# ------------------------------------------------------------ the endpoints

def test_schema_needs_credentials(server):
    for path in ("/api/schema/", "/api/docs/", "/api/docs/swagger-ui.css"):
        r = requests.get(server.base + path, timeout=30)
        assert r.status_code == 401, (path, r.status_code)
        assert r.headers["Content-Type"] == "application/json"
        assert r.json() == {"detail": "Authentication credentials were not provided."}
        assert r.headers.get("WWW-Authenticate") == "Token"
    r = requests.get(server.base + "/api/schema/", headers={"API_KEY": "wrong"}, timeout=30)
    assert r.status_code == 401 and r.json() == {"detail": "Invalid token."}


def test_schema_every_way_a_view_answers(server, client, document):
    r = requests.get(server.base + "/api/schema/", headers={"Authorization": "Token " + client.key}, timeout=30)
    assert r.status_code == 200 and r.json() == document
    assert client.get("/api/schema.json").json() == document
    assert client.get("/api/schema/?format=yaml").status_code == 404
    page = client.get("/api/schema/?format=api")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    head = client.head("/api/schema/")
    assert head.status_code == 200 and head.content == b""
    r = client.post("/api/schema/", {})
    assert r.status_code == 405 and r.json() == {"detail": 'Method "POST" not allowed.'}


class Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("rel") == "stylesheet":
            self.urls.append(attrs["href"])


def test_docs_page_and_its_assets(client):
    r = client.get("/api/docs/")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "assets not built" not in r.text, \
        "this build has no Swagger UI inside: run scripts/npm-install.sh web and rebuild"
    parser = Assets()
    parser.feed(r.text)
    assert sorted(parser.urls) == ["/api/docs/stockroom-docs.js", "/api/docs/swagger-ui-bundle.js",
                                   "/api/docs/swagger-ui.css"]
    # the page's own script is a file of its own (no inline script under the CSP)
    init = client.get("/api/docs/stockroom-docs.js")
    assert init.status_code == 200
    assert init.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "/api/schema/" in init.text
    assert "withCredentials: true" in init.text
    assert "<script>" not in r.text
    parser.urls.remove("/api/docs/stockroom-docs.js")
    kinds = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
    for url in parser.urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["Content-Type"] == kinds[os.path.splitext(url)[1]]
        assert "max-age" in asset.headers["Cache-Control"]
        assert len(asset.content) > 50000, url
        if url.endswith(".js"):
            assert b"SwaggerUIBundle" in asset.content
        head = client.head(url)
        assert head.status_code == 200 and head.content == b""
    assert client.get("/api/docs/nothing.js").status_code == 404
    r = client.post("/api/docs/")
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
