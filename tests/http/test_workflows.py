"""Contract §8: launch and abort, location aliases, the query-string API,
sequences. (Acknowledgements and callbacks: test_picks.py.)"""
import uuid

import pytest
import requests


def register(api, device_id, location=""):
    r = api.post("/api/device/", {"device_id": device_id, "location": location})
    assert r.status_code == 201, r.text


def device(api, device_id):
    r = api.get("/api/device/%s/" % device_id)
    assert r.status_code == 200, r.text
    return r.json()


def shown(api, device_id):
    return device(api, device_id)["display"]


def order_with(api, items, number=None):
    number = number or "ORD-" + uuid.uuid4().hex[:6]
    r = api.post("/api/orders/", {"order_number": number, "items": items})
    assert r.status_code == 201, r.text
    return r.json()


def items_of(order):
    return [i for s in order["shipments"] for i in s["items"]]


# ------------------------------------------------------------------ launch / abort

def test_new_orders_are_unstarted(api):
    order = order_with(api, [{"SKU": "A", "ordered_quantity": 1}])
    assert order["status"] == "unstarted"
    assert api.get("/api/orders/%s/" % order["order_number"]).json()["status"] == "unstarted"


def test_launch_lights_each_unfulfilled_item(api):
    register(api, "D-1", "A-01")
    register(api, "D-2", "B-02")
    register(api, "D-3", "B-02")
    register(api, "D-4", "C-03")
    api.post("/api/device/D-4/", {"locationoverride": "SHELF-X"})
    order = order_with(api, [
        {"SKU": "BOLT", "ordered_quantity": 5, "quantity_fulfilled": 2, "device": "D-1", "name": "Bolt M8"},
        {"SKU": "NUT", "ordered_quantity": 3, "warehouse_location": "B-02", "description": "Hex nut"},
        {"SKU": "WASHER", "ordered_quantity": 1, "warehouse_location": "SHELF-X", "name": "Washer"},
        {"SKU": "DONE", "ordered_quantity": 2, "quantity_fulfilled": 2, "warehouse_location": "A-01"},
    ])
    ids = [i["id"] for i in items_of(order)]
    r = api.post("/api/orders/%s/launch/" % order["order_number"], headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "launched"
    assert r.json()["id"] == order["id"]
    d1 = shown(api, "D-1")
    assert (d1["command"], d1["line1"], d1["line2"], d1["line3"], d1["quantity"], d1["nonce"], d1["color"],
            d1["seconds"], d1["expires"]) == ("pick", order["order_number"], "BOLT", "Bolt M8", 3,
                                              "item:%d" % ids[0], "g", 0, None)
    for dev in ("D-2", "D-3"):     # no device: every device at the location
        d = shown(api, dev)
        assert (d["line2"], d["line3"], d["quantity"], d["nonce"]) == ("NUT", "Hex nut", 3, "item:%d" % ids[1])
    d4 = shown(api, "D-4")         # statics.locationoverride counts as a location
    assert (d4["line2"], d4["nonce"]) == ("WASHER", "item:%d" % ids[2])
    # the fulfilled item lit nothing: D-1 still shows BOLT, not DONE
    assert d1["line2"] == "BOLT"


def test_launch_color_and_idempotence(api):
    register(api, "C-1")
    order = order_with(api, [{"SKU": "X", "ordered_quantity": 1, "device": "C-1"}])
    url = "/api/orders/%s/launch/" % order["order_number"]
    assert api.post(url, {"color": "blue"}).json()["status"] == "launched"
    assert shown(api, "C-1")["color"] == "blue"
    again = api.post(url, {"color": "blue"})
    assert again.status_code == 200 and again.json()["status"] == "launched"
    assert shown(api, "C-1")["color"] == "blue"
    bad = api.post(url, {"color": "purple"})
    assert bad.status_code == 400
    assert bad.json() == {"color": ['"purple" is not a valid choice.']}
    assert shown(api, "C-1")["color"] == "blue"


def test_launch_and_abort_are_post_only(api):
    order = order_with(api, [{"SKU": "X", "ordered_quantity": 1}])
    for action in ("launch", "abort"):
        r = api.get("/api/orders/%s/%s/" % (order["order_number"], action))
        assert r.status_code == 405
        assert r.json() == {"detail": 'Method "GET" not allowed.'}


def test_launch_unknown_order_is_404(api, other_api):
    assert api.post("/api/orders/NO-SUCH/launch/").status_code == 404
    theirs = order_with(other_api, [{"SKU": "X", "ordered_quantity": 1}])
    assert api.post("/api/orders/%s/launch/" % theirs["order_number"]).status_code == 404
    assert other_api.get("/api/orders/%s/" % theirs["order_number"]).json()["status"] == "unstarted"


def test_abort_clears_only_what_launch_lit(api):
    register(api, "AB-1")
    register(api, "AB-2")
    order = order_with(api, [{"SKU": "P", "ordered_quantity": 2, "device": "AB-1"},
                             {"SKU": "Q", "ordered_quantity": 2, "device": "AB-2"}])
    key = order["order_number"]
    api.post("/api/orders/%s/launch/" % key)
    # a later command replaces AB-2's pick: abort leaves it alone
    api.post("/api/device/AB-2/", {"line1": "someone else", "nonce": "other"})
    r = api.post("/api/orders/%s/abort/" % key, data="", headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "aborted"
    assert shown(api, "AB-1") is None
    assert shown(api, "AB-2")["line1"] == "someone else"
    assert api.post("/api/orders/%s/abort/" % key).json()["status"] == "aborted"   # idempotent
    assert api.post("/api/orders/%s/launch/" % key).json()["status"] == "launched"


def test_launch_of_a_fulfilled_order_is_complete(api):
    order = order_with(api, [{"SKU": "X", "ordered_quantity": 1, "quantity_fulfilled": 1}])
    assert api.post("/api/orders/%s/launch/" % order["order_number"]).json()["status"] == "complete"


def test_status_is_read_only(api):
    order = order_with(api, [{"SKU": "X", "ordered_quantity": 1}])
    r = api.patch("/api/orders/%s/" % order["order_number"], {"status": "complete"})
    assert r.status_code == 200
    assert r.json()["status"] == "unstarted"


# ------------------------------------------------------------------ location aliases

def test_location_aliases_crud(api, other_api):
    register(api, "AL-1", "Z-1")
    r = api.post("/api/location-aliases/", {"name": "Bin 7", "deviceid": "AL-1", "deviceIs": "to the Left of"})
    assert r.status_code == 201, r.text
    alias = r.json()
    assert alias == {"id": alias["id"], "name": "Bin 7", "deviceid": "AL-1", "deviceIs": "to the Left of"}
    assert r.headers["Location"].endswith("/api/location-aliases/%d/" % alias["id"])
    listed = api.get("/api/location-aliases/")
    assert listed.status_code == 200
    assert listed.json() == [alias]            # a bare list, not a page
    assert other_api.get("/api/location-aliases/").json() == []
    assert other_api.delete("/api/location-aliases/%d/" % alias["id"]).status_code == 404
    assert api.delete("/api/location-aliases/%d/" % alias["id"]).status_code == 204
    assert api.get("/api/location-aliases/").json() == []
    assert api.delete("/api/location-aliases/%d/" % alias["id"]).status_code == 404


def test_location_alias_validation(api):
    r = api.post("/api/location-aliases/", {"name": "", "deviceid": "NOPE", "deviceIs": "above"})
    assert r.status_code == 400
    assert r.json() == {"name": ["This field may not be blank."],
                        "deviceid": ["Object with deviceid=NOPE does not exist."],
                        "deviceIs": ['"above" is not a valid choice.']}
    assert api.post("/api/location-aliases/", {}).json() == {
        "name": ["This field is required."], "deviceid": ["This field is required."],
        "deviceIs": ["This field is required."]}
    assert api.get("/api/location-aliases/").json() == []


def test_aliases_light_their_device_with_an_arrow(api):
    register(api, "LEFT", "Aisle 1")
    register(api, "RIGHT", "Aisle 1")
    api.post("/api/location-aliases/", {"name": "Shelf 5", "deviceid": "LEFT", "deviceIs": "to the Left of"})
    api.post("/api/location-aliases/", {"name": "Shelf 5", "deviceid": "RIGHT", "deviceIs": "to the Right of"})
    r = api.post("/api/devices/", [{"location": "Shelf 5", "line1": "pick here", "arrow": "up"}])
    assert r.status_code == 200, r.text
    assert [d["device_id"] for d in r.json()] == ["LEFT", "RIGHT"]
    assert shown(api, "LEFT")["arrow"] == "right"    # the place is to its right
    assert shown(api, "RIGHT")["arrow"] == "left"
    # launch resolves an item's warehouse_location through aliases too
    order = order_with(api, [{"SKU": "S5", "ordered_quantity": 1, "warehouse_location": "Shelf 5"}])
    api.post("/api/orders/%s/launch/" % order["order_number"])
    assert (shown(api, "LEFT")["line2"], shown(api, "LEFT")["arrow"]) == ("S5", "right")
    assert shown(api, "RIGHT")["arrow"] == "left"
    # gone with its device
    assert api.delete("/api/device/LEFT/").status_code == 204
    assert [a["deviceid"] for a in api.get("/api/location-aliases/").json()] == ["RIGHT"]


# ------------------------------------------------------------------ query-string API

def test_query_string_lights_a_device(api):
    register(api, "QS-1")
    r = api.get("/api/QS-1/flash/hello~world/three~four~five/15,c5,4/20r/")
    assert r.status_code == 200, r.text
    assert r.json()["device_id"] == "QS-1"
    d = shown(api, "QS-1")
    assert (d["command"], d["line1"], d["line2"], d["line3"], d["line4"], d["line5"], d["sound"],
            d["seconds"], d["color"]) == ("flash", "hello", "world", "three", "four", "five", "15,c5,4", 20, "r")
    assert d["expires"] is not None
    # the same command by POST gives the same display
    api.post("/api/device/QS-1/", {"command": "flash", "line1": "hello", "line2": "world", "line3": "three",
                                   "line4": "four", "line5": "five", "sound": "15,c5,4", "seconds": 20,
                                   "color": "r"})
    by_post = shown(api, "QS-1")
    assert {k: v for k, v in by_post.items() if k != "expires"} == {k: v for k, v in d.items() if k != "expires"}


def test_query_string_nonce_backslash_and_missing_lines(api):
    register(api, "QS-2")
    r = api.get("/api/QS-2/pick/a%5cb/x/none/0gb/n-42/")
    assert r.status_code == 200, r.text
    d = shown(api, "QS-2")
    assert (d["command"], d["line1"], d["line2"], d["line3"], d["line4"], d["sound"], d["seconds"], d["color"],
            d["nonce"], d["expires"]) == ("pick", "a\\b", "", "x", "", "none", 0, "gb", "n-42", None)
    # a kill by POST with that nonce clears it: it is the same kind of display
    api.post("/api/device/QS-2/", {"command": "kill", "nonce": "n-42"})
    assert shown(api, "QS-2") is None


@pytest.mark.parametrize("path,errors", [
    ("/api/QS-3/blink/a/b/none/5r/", {"command": ['"blink" is not a valid choice.']}),
    ("/api/QS-3/flash/a/b/none/r/", {"seconds": ["A valid integer is required."]}),
    ("/api/QS-3/flash/a/b/none/5purple/", {"color": ['"purple" is not a valid choice.']}),
])
def test_query_string_malformed(api, path, errors):
    register(api, "QS-3")
    r = api.get(path)
    assert r.status_code == 400
    assert r.json() == errors
    assert shown(api, "QS-3") is None


def test_query_string_needs_credentials_and_a_known_device(server, api, other_api):
    register(api, "QS-4")
    assert requests.get(server.base + "/api/QS-4/flash/a/b/none/5r/", timeout=30).status_code == 401
    assert other_api.get("/api/QS-4/flash/a/b/none/5r/").status_code == 404
    assert api.get("/api/NOPE/flash/a/b/none/5r/").status_code == 404
    assert shown(api, "QS-4") is None


# ------------------------------------------------------------------ sequences

def test_sequence_create_get_list(api):
    register(api, "SQ-1")
    body = {"nonce": "batch-1", "steps": [
        {"order": 1, "device": "SQ-1", "line1": "first", "stepnonce": "s1"},
    ]}
    r = api.post("/api/sequence/", body)
    assert r.status_code == 201, r.text
    seq = r.json()
    assert seq["nonce"] == "batch-1" and seq["status"] == "unstarted"
    assert seq["steps"] == [{"order": 1, "device": "SQ-1", "location": "", "command": "flash",
                             "line1": "first", "line2": "", "line3": "", "line4": "", "line5": "",
                             "arrow": "", "color": "", "seconds": 0, "sound": "", "quantity": None,
                             "stepnonce": "s1"}]
    assert r.headers["Location"].endswith("/api/sequence/%d/" % seq["id"])
    assert api.get("/api/sequence/%d/" % seq["id"]).json() == seq
    page = api.get("/api/sequence/").json()
    assert page["count"] == 1 and page["results"] == [seq]


def test_sequence_validation_stores_nothing(api):
    register(api, "SQ-2")
    r = api.post("/api/sequence/", {"steps": [
        {"order": 1, "device": "SQ-2"},
        {"order": 1},
        {"device": "NOPE"},
        {"location": "nowhere"},
        {"device": "SQ-2", "color": "purple"},
        {"device": "SQ-2", "command": "kill"},
    ]})
    assert r.status_code == 400
    assert r.json() == {"steps": [
        {},
        {"non_field_errors": ["A step needs a device or a location."]},
        {"device": ['Invalid pk "NOPE" - object does not exist.']},
        {"location": ["Object with location=nowhere does not exist."]},
        {"color": ['"purple" is not a valid choice.']},
        {"command": ['"kill" is not a valid choice.']},
    ]}
    assert api.post("/api/sequence/", {}).json() == {"steps": ["This field is required."]}
    assert api.get("/api/sequence/").json()["count"] == 0


def test_launchsequence_lights_the_first_group(api, other_api):
    register(api, "G1-A")
    register(api, "G1-B", "Rack 1")
    register(api, "G2-A")
    seq = api.post("/api/sequence/", {"nonce": "n", "steps": [
        {"order": 2, "device": "G2-A", "line1": "second"},
        {"order": 1, "device": "G1-A", "line1": "first", "stepnonce": "one", "color": "r"},
        {"order": 1, "location": "Rack 1", "line1": "first too"},
    ]}).json()
    assert other_api.get("/api/launchsequence/%d/" % seq["id"]).status_code == 404
    r = api.get("/api/launchsequence/%d/" % seq["id"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in-progress"
    a = shown(api, "G1-A")
    assert (a["line1"], a["nonce"], a["color"], a["command"]) == ("first", "one", "r", "flash")
    assert shown(api, "G1-B")["line1"] == "first too"
    assert shown(api, "G2-A") is None
    # relaunching starts over: same group lit
    assert api.get("/api/launchsequence/%d/" % seq["id"]).json()["status"] == "in-progress"
    assert shown(api, "G2-A") is None


def test_sequence_put_and_delete(api):
    register(api, "SP-1")
    register(api, "SP-2")
    seq = api.post("/api/sequence/", {"steps": [{"device": "SP-1", "line1": "old"}]}).json()
    api.get("/api/launchsequence/%d/" % seq["id"])
    assert shown(api, "SP-1")["line1"] == "old"
    r = api.put("/api/sequence/%d/" % seq["id"], {"nonce": "v2", "steps": [{"device": "SP-2", "line1": "new"}]})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "unstarted" and r.json()["nonce"] == "v2"
    assert [s["device"] for s in r.json()["steps"]] == ["SP-2"]
    assert shown(api, "SP-1") is None              # the replaced step's display went dark
    api.get("/api/launchsequence/%d/" % seq["id"])
    assert shown(api, "SP-2")["line1"] == "new"
    assert api.delete("/api/sequence/%d/" % seq["id"]).status_code == 204
    assert shown(api, "SP-2") is None
    assert api.get("/api/sequence/%d/" % seq["id"]).status_code == 404
    assert api.get("/api/launchsequence/%d/" % seq["id"]).status_code == 404


def test_empty_sequence_completes_at_launch(api):
    seq = api.post("/api/sequence/", {"steps": []}).json()
    assert api.get("/api/launchsequence/%d/" % seq["id"]).json()["status"] == "completed"
