"""Contract §3.3: pick-to-light devices, black box.

Registering, listing and reading devices; lighting one (`POST`/`PUT
/api/device/{id}/`: a command or a static update) or many
(`POST /api/devices/`, all or nothing); the loose values the real
integrations send; tenants; and, at the end, one replay per Voodoo
integration of the requests it sends (docs/integrations.md says where each
body comes from).
"""
import datetime as dt
import json
import os
import re
import time
import types
import uuid
from urllib.parse import parse_qs, quote, unquote, urlparse

import pytest
import requests

from conftest import Client, cli

DEV = "CAE96B:5DC841"
DEV2 = "D4E825:8B665D"
DEV3 = "E8F297:F3F2F3"
DEV4 = "E476EA:EA3329"
MISSING = "FFFFFF:EEEEEE"
NOT_FOUND = {"detail": "Not found."}

DEVICE_KEYS = {"device_id", "deviceid", "location", "statics", "display", "commands", "updated"}
EMPTY_STATICS = {
    "statica": "", "staticb": "", "staticc": "", "staticd": "", "statice": "",
    "locationoverride": "", "quantity": None, "arrow": "", "barcode": "", "qrcode": "",
    "icon": "", "unsolicitedNonce": "",
}
LINES = ["line1", "line2", "line3", "line4", "line5"]
DT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?$")


# ---------------------------------------------------------------- helpers

def path(device_id=DEV):
    """A device's url path, its id percent-encoded (':' left as real clients send it)."""
    return "/api/device/%s/" % quote(device_id, safe=":")


def register(api, device_id=DEV, location="A-1"):
    r = api.post("/api/device/", {"device_id": device_id, "location": location})
    assert r.status_code == 201, r.text
    return r.json()


def get_device(api, device_id=DEV):
    r = api.get(path(device_id))
    assert r.status_code == 200, r.text
    return r.json()


def send(api, body, device_id=DEV, method="POST"):
    r = api.request(method, path(device_id), json=body)
    assert r.status_code == 200, r.text
    return r.json()


def display(**given):
    """The display a command shows: the given fields, every other one empty."""
    shown = {"command": "flash", "line1": "", "line2": "", "line3": "", "line4": "",
             "line5": "", "color": "", "arrow": "", "sound": "", "seconds": 0,
             "quantity": None, "barcode": "", "qrcode": "", "icon": "", "nonce": "",
             "expires": None}
    shown.update(given)
    return shown


def parse_dt(text):
    assert isinstance(text, str) and DT_RE.match(text), text
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f" if "." in text else "%Y-%m-%dT%H:%M:%S")


def utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def assert_expires(text, seconds, before, after):
    """`expires` is now + seconds, now being some moment of the request (UTC)."""
    expires = parse_dt(text)
    assert before + dt.timedelta(seconds=seconds - 1) <= expires <= after + dt.timedelta(seconds=seconds + 1)


def without(d, *keys):
    return {k: v for k, v in d.items() if k not in keys}


def device_ids(listing):
    return [d["device_id"] for d in listing]


# ---------------------------------------------------------------- register

def test_register_answers_201_with_the_device_and_its_location(server, api):
    r = api.post("/api/device/", {"device_id": DEV, "location": "A-1"})
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    loc = r.headers["Location"]
    assert loc.startswith(server.base + "/api/device/")
    assert unquote(urlparse(loc).path) in ("/api/device/", "/api/device/%s/" % DEV)
    body = r.json()
    assert set(body) == DEVICE_KEYS
    assert body["device_id"] == body["deviceid"] == DEV
    assert body["location"] == "A-1"
    assert body["statics"] == EMPTY_STATICS
    assert body["display"] is None
    parse_dt(body["updated"])
    assert get_device(api) == body


def test_register_without_location_stores_an_empty_one(api):
    r = api.post("/api/device/", {"device_id": DEV})
    assert r.status_code == 201, r.text
    assert get_device(api)["location"] == ""


@pytest.mark.parametrize("sent, stored", [
    ("  CAE96B:5DC841  ", "CAE96B:5DC841"),   # trimmed, like every string
    (123456, "123456"),                       # numbers are taken as their text
    ("x" * 64, "x" * 64),                     # the longest id
])
def test_register_normalises_the_id_like_any_string(api, sent, stored):
    r = api.post("/api/device/", {"device_id": sent})
    assert r.status_code == 201, r.text
    assert r.json()["device_id"] == stored
    assert get_device(api, stored)["device_id"] == stored


@pytest.mark.parametrize("body, errors", [
    ({}, {"device_id": ["This field is required."]}),
    ({"location": "A-1"}, {"device_id": ["This field is required."]}),
    ({"device_id": ""}, {"device_id": ["This field may not be blank."]}),
    ({"device_id": "   "}, {"device_id": ["This field may not be blank."]}),
    ({"device_id": None}, {"device_id": ["This field may not be null."]}),
    ({"device_id": "x" * 65}, {"device_id": ["Ensure this field has no more than 64 characters."]}),
    ({"device_id": ["CAE96B:5DC841"]}, {"device_id": ["Not a valid string."]}),
    ({"device_id": True}, {"device_id": ["Not a valid string."]}),
    ({"device_id": DEV, "location": "x" * 256},
     {"location": ["Ensure this field has no more than 255 characters."]}),
])
def test_register_rejects_bad_input_and_stores_nothing(api, body, errors):
    r = api.post("/api/device/", body)
    assert r.status_code == 400, r.text
    assert r.json() == errors
    assert api.get("/api/device/").json()["count"] == 0


def test_register_rejects_a_slash_in_the_id(api):
    r = api.post("/api/device/", {"device_id": "A/B"})
    assert r.status_code == 400, r.text
    assert list(r.json()) == ["device_id"]
    assert api.get("/api/device/").json()["count"] == 0


def test_register_duplicate_id_is_400_and_keeps_the_first(api):
    register(api, DEV, "A-1")
    r = api.post("/api/device/", {"device_id": DEV, "location": "B-2"})
    assert r.status_code == 400, r.text
    assert isinstance(r.json(), dict) and r.json()
    assert get_device(api)["location"] == "A-1"
    assert api.get("/api/device/").json()["count"] == 1


def test_another_customer_can_register_the_same_id(api, other_api):
    register(api, DEV, "A-1")
    register(other_api, DEV, "Z-9")
    assert get_device(api)["location"] == "A-1"
    assert get_device(other_api)["location"] == "Z-9"
    send(other_api, {"line1": "theirs"})
    assert get_device(other_api)["display"]["line1"] == "theirs"
    assert get_device(api)["display"] is None


def test_register_path_works_without_the_trailing_slash(api):
    r = api.post("/api/device", {"device_id": DEV, "location": "A-1"})
    assert r.status_code == 201, r.text
    r = api.get("/api/device/" + DEV)
    assert r.status_code == 200, r.text
    assert r.json()["device_id"] == DEV


# ---------------------------------------------------------------- list

def test_list_of_a_new_customer_is_empty(api):
    r = api.get("/api/device/")
    assert r.status_code == 200, r.text
    assert r.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_list_shows_devices_oldest_first_as_retrieve_does(api):
    for device_id, location in [("C-3", "A"), ("A-1", "C"), ("B-2", "B")]:
        register(api, device_id, location)
    send(api, {"line1": "lit"}, "A-1")
    body = api.get("/api/device/").json()
    assert body["count"] == 3
    assert body["next"] is None and body["previous"] is None
    assert device_ids(body["results"]) == ["C-3", "A-1", "B-2"]
    assert body["results"] == [get_device(api, d) for d in ["C-3", "A-1", "B-2"]]


def test_list_pages_keep_their_query_and_end(api):
    for device_id in ["P-1", "P-2", "P-3"]:
        register(api, device_id, "")
    first = api.get("/api/device/?page_size=2&ordering=-device_id")
    assert first.status_code == 200, first.text
    first = first.json()
    assert first["count"] == 3
    assert device_ids(first["results"]) == ["P-3", "P-2"]
    assert first["previous"] is None
    nxt = urlparse(first["next"])
    assert nxt.path == "/api/device/"
    assert parse_qs(nxt.query) == {"page": ["2"], "page_size": ["2"], "ordering": ["-device_id"]}
    second = api.get(first["next"]).json()
    assert device_ids(second["results"]) == ["P-1"]
    assert second["next"] is None
    assert device_ids(api.get(second["previous"]).json()["results"]) == ["P-3", "P-2"]
    for bad in ["page=3&page_size=2", "page=x", "page=0"]:
        r = api.get("/api/device/?" + bad)
        assert r.status_code == 404, bad
        assert r.json() == {"detail": "Invalid page."}


@pytest.mark.parametrize("ordering, expected", [
    (None, ["C-3", "A-1", "B-2", "D-4"]),
    ("device_id", ["A-1", "B-2", "C-3", "D-4"]),
    ("-device_id", ["D-4", "C-3", "B-2", "A-1"]),
    ("location", ["C-3", "B-2", "D-4", "A-1"]),          # tie on "B": oldest first
    ("-location", ["A-1", "B-2", "D-4", "C-3"]),
    ("location,-device_id", ["C-3", "D-4", "B-2", "A-1"]),
    ("nonsense", ["C-3", "A-1", "B-2", "D-4"]),           # unknown fields are ignored
    ("nonsense,-device_id", ["D-4", "C-3", "B-2", "A-1"]),
])
def test_list_ordering(api, ordering, expected):
    for device_id, location in [("C-3", "A"), ("A-1", "C"), ("B-2", "B"), ("D-4", "B")]:
        register(api, device_id, location)
    url = "/api/device/" if ordering is None else "/api/device/?ordering=" + ordering
    r = api.get(url)
    assert r.status_code == 200, r.text
    assert device_ids(r.json()["results"]) == expected


# ---------------------------------------------------------------- retrieve

def test_retrieve_shape_with_statics_and_display(api):
    register(api)
    send(api, {"statica": "SKU-1", "locationoverride": "Shelf 1", "quantity": 12})
    send(api, {"command": "pick", "line1": "Take 2", "color": "g", "nonce": "n-1"})
    device = get_device(api)
    assert set(device) == DEVICE_KEYS
    assert device["device_id"] == device["deviceid"] == DEV
    assert device["location"] == "A-1"
    assert device["statics"] == dict(EMPTY_STATICS, statica="SKU-1", locationoverride="Shelf 1", quantity=12)
    assert device["display"] == display(command="pick", line1="Take 2", color="g", nonce="n-1")
    parse_dt(device["updated"])


def test_retrieve_with_the_colon_percent_encoded(api):
    register(api)
    r = api.get("/api/device/CAE96B%3A5DC841/")
    assert r.status_code == 200, r.text
    assert r.json() == get_device(api)


# ---------------------------------------------------------------- commands

@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_command_sets_the_whole_display(api, method):
    register(api)
    body = {"command": "pick", "line1": "Order 1", "line2": "SKU-A", "line3": "Widget",
            "line4": "Aisle 3", "line5": "Bin 4", "color": "g", "arrow": "up",
            "sound": "15,c5,4", "seconds": 30, "quantity": 5, "barcode": "0123456789012",
            "qrcode": "https://example.com/q/1", "icon": "star", "nonce": "item:7"}
    before = utcnow()
    r = api.request(method, path(), json=body)
    after = utcnow()
    assert r.status_code == 200, r.text
    answered = r.json()
    assert answered == get_device(api)
    shown = answered["display"]
    assert_expires(shown["expires"], 30, before, after)
    assert without(shown, "expires") == without(display(**body), "expires")
    assert answered["statics"] == EMPTY_STATICS


@pytest.mark.parametrize("line", LINES)
def test_lines_alone_mean_flash(api, line):
    register(api)
    device = send(api, {line: "Hello"})
    assert device["display"] == display(**{"command": "flash", line: "Hello"})


@pytest.mark.parametrize("command", ["flash", "display", "pick"])
def test_an_explicit_command_without_lines_is_a_command(api, command):
    register(api)
    device = send(api, {"command": command, "color": "b"})
    assert device["display"] == display(command=command, color="b")


def test_a_new_command_replaces_the_display_whole(api):
    register(api)
    send(api, {"command": "pick", "line1": "first", "color": "r", "quantity": 3,
               "nonce": "n-1", "arrow": "down"})
    device = send(api, {"line2": "second"})
    assert device["display"] == display(line2="second")


def test_a_command_leaves_the_statics_alone(api):
    register(api)
    send(api, {"statica": "SKU-1", "quantity": 9, "arrow": "down", "barcode": "111"})
    statics = get_device(api)["statics"]
    device = send(api, {"line1": "x", "quantity": 2, "arrow": "up", "barcode": "222"})
    assert device["statics"] == statics
    assert device["display"]["quantity"] == 2


def test_static_updates_are_kept_and_leave_the_display_alone(api):
    register(api)
    lit = send(api, {"command": "pick", "line1": "Take 1", "seconds": 600, "nonce": "n"})["display"]
    send(api, {"statica": "A", "staticb": "B", "quantity": 3, "arrow": "top"})
    send(api, {"staticc": "C", "locationoverride": "Shelf 9", "barcode": "123", "qrcode": "q", "icon": "i"})
    device = send(api, {"staticd": "D", "statice": "E", "quantity": None})
    assert device["statics"] == {
        "statica": "A", "staticb": "B", "staticc": "C", "staticd": "D", "statice": "E",
        "locationoverride": "Shelf 9", "quantity": None, "arrow": "top", "barcode": "123",
        "qrcode": "q", "icon": "i", "unsolicitedNonce": "",
    }
    assert device["display"] == lit
    assert get_device(api) == device


def test_a_body_with_neither_command_nor_lines_is_a_static_update(api):
    """`arrow` and `quantity` are static fields too; `color` and `seconds` are not."""
    register(api)
    device = send(api, {"arrow": "bottomleft", "quantity": 4, "color": "r", "seconds": 5})
    assert device["display"] is None
    assert device["statics"] == dict(EMPTY_STATICS, arrow="bottomleft", quantity=4)


@pytest.mark.parametrize("kill", ["kill", "off"])
@pytest.mark.parametrize("shown_nonce, kill_body, cleared", [
    ("n-1", {}, True),                  # no nonce: clears whatever is shown
    ("n-1", {"nonce": ""}, True),       # an empty nonce is no nonce
    ("n-1", {"nonce": "n-1"}, True),    # the matching nonce
    ("n-1", {"nonce": "n-2"}, False),   # another command's nonce: left alone
    ("", {"nonce": "n-1"}, False),      # a nonce never equals an empty one
])
def test_kill_clears_the_display_when_the_nonce_allows(api, kill, shown_nonce, kill_body, cleared):
    register(api)
    shown = send(api, {"line1": "Take 1", "nonce": shown_nonce})["display"]
    device = send(api, dict(kill_body, command=kill))
    assert device["display"] == (None if cleared else shown)
    assert get_device(api)["display"] == device["display"]


def test_kill_without_a_display_is_harmless(api):
    register(api)
    send(api, {"statica": "kept"})
    device = send(api, {"command": "kill", "nonce": "whatever"})
    assert device["display"] is None
    assert device["statics"]["statica"] == "kept"


@pytest.mark.parametrize("seconds, lasts", [
    (None, 0),                  # absent: until acknowledged or replaced
    (0, 0),
    ("0", 0),
    (60, 60),
    ("60", 60),                 # ShipStation sends the seconds as a string
    (" 90 ", 90),
    (2147483647, 2147483647),
])
def test_expires_is_now_plus_seconds(api, seconds, lasts):
    register(api)
    body = {"line1": "Hello"}
    if seconds is not None:
        body["seconds"] = seconds
    before = utcnow()
    shown = send(api, body)["display"]
    after = utcnow()
    assert shown["seconds"] == lasts
    if lasts == 0:
        assert shown["expires"] is None
    else:
        assert_expires(shown["expires"], lasts, before, after)
    assert get_device(api)["display"] == shown


def test_an_expired_display_reads_as_null(api):
    register(api, DEV, "A-1")
    register(api, DEV2, "A-2")
    send(api, {"line1": "brief", "seconds": 1}, DEV)
    send(api, {"line1": "lasting", "seconds": 600}, DEV2)
    time.sleep(1.5)
    assert get_device(api, DEV)["display"] is None
    assert get_device(api, DEV2)["display"]["line1"] == "lasting"
    listed = {d["device_id"]: d["display"] for d in api.get("/api/device/").json()["results"]}
    assert listed[DEV] is None
    assert listed[DEV2]["line1"] == "lasting"


@pytest.mark.parametrize("sent, stored", [
    ("5", 5), (5.0, 5), (" 7 ", 7), (0, 0), (None, None), (2147483647, 2147483647),
])
def test_command_quantity_values(api, sent, stored):
    register(api)
    assert send(api, {"line1": "x", "quantity": sent})["display"]["quantity"] == stored


@pytest.mark.parametrize("sent, stored", [
    ("", ""),
    *[(c, c) for c in ["r", "g", "b", "c", "m", "y", "w"]],
    *[(c, c) for c in ["rg", "gr", "rb", "br", "gb", "bg", "rgb", "rbg", "grb", "gbr", "brg", "bgr"]],
    *[(c, c) for c in ["red", "green", "blue", "cyan", "magenta", "yellow", "white"]],
    ("R", "r"), ("W", "w"), ("GR", "gr"), ("Rgb", "rgb"), ("bRG", "brg"),
    ("RED", "red"), ("Green", "green"), ("mAgEnTa", "magenta"), ("YELLOW", "yellow"),
])
def test_colors_are_accepted_and_stored_lower_case(api, sent, stored):
    register(api)
    assert send(api, {"line1": "x", "color": sent})["display"]["color"] == stored


@pytest.mark.parametrize("color", [
    "purple", "rr", "gg", "rgbr", "rgbw", "rw", "cm", "wy", "x", "orange", "redd", "#ff0000", "0",
])
def test_invalid_colors_are_rejected(api, color):
    register(api)
    r = api.post(path(), json={"line1": "x", "color": color})
    assert r.status_code == 400, r.text
    assert r.json() == {"color": ['"%s" is not a valid choice.' % color]}
    assert get_device(api)["display"] is None


ARROWS = ["", "up", "down", "left", "right", "top", "bottom", "topleft", "topright",
          "bottomleft", "bottomright"]
BAD_ARROWS = ["sideways", "upleft", "north", "up-left", "leftup", "middle"]


@pytest.mark.parametrize("arrow", ARROWS)
def test_arrows_are_stored_as_sent(api, arrow):
    register(api)
    assert send(api, {"line1": "x", "arrow": arrow})["display"]["arrow"] == arrow
    assert send(api, {"arrow": arrow})["statics"]["arrow"] == arrow


@pytest.mark.parametrize("arrow", BAD_ARROWS)
@pytest.mark.parametrize("kind", ["command", "static"])
def test_invalid_arrows_are_rejected(api, arrow, kind):
    register(api)
    body = {"arrow": arrow, "line1": "x"} if kind == "command" else {"arrow": arrow}
    r = api.post(path(), json=body)
    assert r.status_code == 400, r.text
    assert r.json() == {"arrow": ['"%s" is not a valid choice.' % arrow]}
    device = get_device(api)
    assert device["display"] is None
    assert device["statics"] == EMPTY_STATICS


@pytest.mark.parametrize("line", LINES)
@pytest.mark.parametrize("text", [
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd",   # 40: longer than a device shows
    "x" * 255,
    "é" * 255,                                    # limits count characters
    "Take  2  of  these",                         # inner spaces kept
])
def test_long_lines_are_stored_as_sent(api, line, text):
    register(api)
    assert send(api, {line: text})["display"][line] == text


@pytest.mark.parametrize("line", LINES)
@pytest.mark.parametrize("text", ["x" * 256, "é" * 256])
def test_lines_over_255_characters_are_rejected(api, line, text):
    register(api)
    r = api.post(path(), json={line: text})
    assert r.status_code == 400, r.text
    assert r.json() == {line: ["Ensure this field has no more than 255 characters."]}
    assert get_device(api)["display"] is None


@pytest.mark.parametrize("sound", ["15,c5,4", "none", "", "300,a5,1,g5s,1,f5s,1,d5,1", "x" * 1024])
def test_tunes_are_stored_as_sent(api, sound):
    register(api)
    assert send(api, {"line1": "x", "sound": sound})["display"]["sound"] == sound


@pytest.mark.parametrize("command", ["sing", "Flashy", "kil", "on"])
def test_unknown_commands_are_rejected(api, command):
    register(api)
    r = api.post(path(), json={"command": command, "line1": "x"})
    assert r.status_code == 400, r.text
    assert r.json() == {"command": ['"%s" is not a valid choice.' % command]}
    assert get_device(api)["display"] is None


@pytest.mark.parametrize("body, errors", [
    ({"seconds": -1}, {"seconds": ["Ensure this value is greater than or equal to 0."]}),
    ({"seconds": "-1"}, {"seconds": ["Ensure this value is greater than or equal to 0."]}),
    ({"seconds": 2147483648}, {"seconds": ["Ensure this value is less than or equal to 2147483647."]}),
    ({"seconds": "x"}, {"seconds": ["A valid integer is required."]}),
    ({"seconds": 10.5}, {"seconds": ["A valid integer is required."]}),
    ({"seconds": True}, {"seconds": ["A valid integer is required."]}),
    ({"seconds": ""}, {"seconds": ["A valid integer is required."]}),
    ({"quantity": -1}, {"quantity": ["Ensure this value is greater than or equal to 0."]}),
    ({"quantity": "five"}, {"quantity": ["A valid integer is required."]}),
    ({"quantity": 2.5}, {"quantity": ["A valid integer is required."]}),
    ({"sound": "x" * 1025}, {"sound": ["Ensure this field has no more than 1024 characters."]}),
    ({"barcode": "1" * 256}, {"barcode": ["Ensure this field has no more than 255 characters."]}),
    ({"qrcode": "q" * 256}, {"qrcode": ["Ensure this field has no more than 255 characters."]}),
    ({"icon": "i" * 256}, {"icon": ["Ensure this field has no more than 255 characters."]}),
    ({"nonce": "n" * 256}, {"nonce": ["Ensure this field has no more than 255 characters."]}),
    ({"line2": ["a", "b"]}, {"line2": ["Not a valid string."]}),
    ({"line3": {"text": "a"}}, {"line3": ["Not a valid string."]}),
    ({"seconds": -1, "color": "purple"},
     {"seconds": ["Ensure this value is greater than or equal to 0."],
      "color": ['"purple" is not a valid choice.']}),
])
def test_invalid_command_values_are_rejected_and_nothing_changes(api, body, errors):
    register(api)
    shown = send(api, {"command": "pick", "line1": "before", "seconds": 600})["display"]
    r = api.post(path(), json=dict({"line1": "after"}, **body))
    assert r.status_code == 400, r.text
    assert r.json() == errors
    assert get_device(api)["display"] == shown


@pytest.mark.parametrize("body, errors", [
    *[({f: "x" * 256}, {f: ["Ensure this field has no more than 255 characters."]})
      for f in ["statica", "staticb", "staticc", "staticd", "statice", "locationoverride"]],
    ({"quantity": -1}, {"quantity": ["Ensure this value is greater than or equal to 0."]}),
    ({"quantity": "x"}, {"quantity": ["A valid integer is required."]}),
    ({"statica": ["a"]}, {"statica": ["Not a valid string."]}),
])
def test_invalid_static_values_are_rejected_and_nothing_changes(api, body, errors):
    register(api)
    send(api, {"statica": "old", "quantity": 1})
    before = get_device(api)
    r = api.post(path(), json=dict({"staticb": "new"}, **body))
    assert r.status_code == 400, r.text
    assert r.json() == errors
    assert get_device(api) == before


def test_static_values_loose_like_commands(api):
    register(api)
    device = send(api, {"quantity": "5", "statica": 1001, "staticb": "  padded  "})
    assert device["statics"]["quantity"] == 5
    assert device["statics"]["statica"] == "1001"
    assert device["statics"]["staticb"] == "padded"


def test_unknown_fields_are_ignored(api):
    """`api` (Epicor) and `deviceid` (SAP) in a single-device body change nothing."""
    register(api, DEV, "A-1")
    register(api, DEV2, "A-2")
    device = send(api, {"api": "2.0", "deviceid": DEV2, "updated": "2000-01-01T00:00:00",
                        "display": None, "statics": None, "command": "flash", "line1": "hi"}, DEV)
    assert device["device_id"] == DEV
    assert device["location"] == "A-1"
    assert device["display"] == display(line1="hi")
    device = send(api, {"deviceid": DEV2, "statica": "S", "colour": "r"}, DEV)
    assert device["statics"] == dict(EMPTY_STATICS, statica="S")
    other = get_device(api, DEV2)
    assert other["display"] is None and other["statics"] == EMPTY_STATICS
    assert set(device["display"]) == set(display())


def test_an_empty_body_changes_nothing(api):
    register(api)
    send(api, {"statica": "S"})
    before = send(api, {"line1": "kept", "seconds": 600})
    for method in ["POST", "PUT"]:
        r = api.request(method, path(), data=b"", headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text
        assert without(r.json(), "updated") == without(before, "updated")
    assert without(get_device(api), "updated") == without(before, "updated")


def test_the_detail_path_works_without_the_trailing_slash(api):
    register(api)
    r = api.post("/api/device/" + DEV, json={"line1": "no slash"})
    assert r.status_code == 200, r.text
    assert get_device(api)["display"]["line1"] == "no slash"


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_unknown_device_is_404(api, method):
    register(api)
    kw = {} if method in ("GET", "DELETE") else {"json": {"line1": "x"}}
    r = api.request(method, path(MISSING), **kw)
    assert r.status_code == 404, r.text
    assert r.json() == NOT_FOUND


@pytest.mark.parametrize("method, url", [
    ("DELETE", "/api/device/"),
    ("PUT", "/api/device/"),
    ("PATCH", path(DEV)),
    ("GET", "/api/devices/"),
    ("PUT", "/api/devices/"),
    ("DELETE", "/api/devices/"),
])
def test_methods_not_on_the_path_are_405(api, method, url):
    register(api)
    r = api.request(method, url, json={})
    assert r.status_code == 405, r.text
    assert r.json() == {"detail": 'Method "%s" not allowed.' % method}


@pytest.mark.parametrize("method, url", [
    ("GET", "/api/device/"),
    ("POST", "/api/device/"),
    ("GET", path(DEV)),
    ("POST", path(DEV)),
    ("POST", "/api/devices/"),
])
def test_device_paths_need_credentials(server, method, url):
    r = requests.request(method, server.base + url, json=[] if "devices" in url else {}, timeout=30)
    assert r.status_code == 401, r.text
    assert r.json() == {"detail": "Authentication credentials were not provided."}


# ---------------------------------------------------------------- ids in paths

ODD_IDS = ["BIN 7", "A#1", "Q?x=1&y=2", "100%", "Grüße:1", "倉庫:棚3", "a+b", "semi;colon",
           "[brackets]", "quote\"d", "tilde~dot.dash-under_"]


@pytest.mark.parametrize("device_id", ODD_IDS)
def test_ids_needing_percent_encoding(api, device_id):
    r = api.post("/api/device/", {"device_id": device_id, "location": "odd"})
    assert r.status_code == 201, r.text
    assert r.json()["device_id"] == device_id
    url = "/api/device/%s/" % quote(device_id, safe="")
    r = api.get(url)
    assert r.status_code == 200, r.text
    assert r.json()["device_id"] == r.json()["deviceid"] == device_id
    r = api.put(url, {"line1": "odd one"})
    assert r.status_code == 200, r.text
    assert r.json()["display"]["line1"] == "odd one"
    assert device_ids(api.get("/api/device/").json()["results"]) == [device_id]
    r = api.delete(url)
    assert r.status_code == 204, r.text
    assert api.get(url).status_code == 404


def test_a_plus_in_the_path_is_a_plus(api):
    register(api, "a+b", "")
    r = api.get("/api/device/a+b/")
    assert r.status_code == 200, r.text
    assert r.json()["device_id"] == "a+b"
    assert api.get("/api/device/a%20b/").status_code == 404


def test_the_path_is_decoded_once(api):
    register(api, "%41", "")
    r = api.get("/api/device/%2541/")
    assert r.status_code == 200, r.text
    assert r.json()["device_id"] == "%41"
    r = api.get("/api/device/%41/")           # that is "A"
    assert r.status_code == 404
    assert r.json() == NOT_FOUND


# ---------------------------------------------------------------- delete

def test_delete_unregisters_and_items_lose_their_device(api):
    register(api, DEV, "A-1")
    register(api, DEV2, "A-2")
    r = api.post("/api/orders/", {"order_number": "SO-DEV-1", "items": [
        {"SKU": "SKU-A", "ordered_quantity": 2, "device": DEV},
        {"SKU": "SKU-B", "ordered_quantity": 1, "device": DEV2},
    ]})
    assert r.status_code == 201, r.text
    assert [i["device"] for i in r.json()["shipments"][0]["items"]] == [DEV, DEV2]

    r = api.delete(path(DEV))
    assert r.status_code == 204, r.text
    assert r.content == b""
    r = api.get(path(DEV))
    assert r.status_code == 404
    assert r.json() == NOT_FOUND
    assert device_ids(api.get("/api/device/").json()["results"]) == [DEV2]

    order = api.get("/api/orders/SO-DEV-1/")
    assert order.status_code == 200, order.text
    assert [i["device"] for i in order.json()["shipments"][0]["items"]] == [None, DEV2]

    # Registering the id again makes a new device; the item stays unlinked.
    register(api, DEV, "A-1")
    assert get_device(api)["statics"] == EMPTY_STATICS
    order = api.get("/api/orders/SO-DEV-1/").json()
    assert [i["device"] for i in order["shipments"][0]["items"]] == [None, DEV2]


def test_delete_forgets_statics_and_display(api):
    register(api)
    send(api, {"statica": "S", "quantity": 3})
    send(api, {"line1": "lit"})
    assert api.delete(path()).status_code == 204
    assert api.delete(path()).status_code == 404
    device = register(api)
    assert device["statics"] == EMPTY_STATICS
    assert device["display"] is None


# ---------------------------------------------------------------- many at once

@pytest.fixture
def floor(api):
    """Four devices: DEV at L-1, DEV2 at L-2, DEV3 overridden to L-2, DEV4 at L-9."""
    register(api, DEV, "L-1")
    register(api, DEV2, "L-2")
    register(api, DEV3, "")
    send(api, {"locationoverride": "L-2"}, DEV3)
    register(api, DEV4, "L-9")
    return {d: get_device(api, d) for d in [DEV, DEV2, DEV3, DEV4]}


def bulk(api, entries):
    return api.post("/api/devices/", json=entries)


def test_bulk_lights_by_deviceid_device_id_and_location_in_input_order(api, floor):
    r = bulk(api, [
        {"deviceid": DEV4, "line1": "by deviceid", "color": "r"},
        {"location": "L-2", "line1": "by location", "command": "pick"},
        {"device_id": DEV, "line1": "by device_id", "seconds": "60"},
    ])
    assert r.status_code == 200, r.text
    touched = r.json()
    assert isinstance(touched, list)
    ids = device_ids(touched)
    assert ids[0] == DEV4 and sorted(ids[1:3]) == sorted([DEV2, DEV3]) and ids[3] == DEV
    assert len(ids) == 4
    for device in touched:
        assert device == get_device(api, device["device_id"])
    assert get_device(api, DEV4)["display"] == display(line1="by deviceid", color="r")
    assert get_device(api, DEV2)["display"] == display(command="pick", line1="by location")
    assert get_device(api, DEV3)["display"] == display(command="pick", line1="by location")
    shown = get_device(api, DEV)["display"]
    assert without(shown, "expires") == without(display(line1="by device_id", seconds=60), "expires")
    assert shown["expires"] is not None


def test_bulk_location_matches_location_or_override_only(api, floor):
    send(api, {"locationoverride": "L-1-annex"}, DEV4)
    r = bulk(api, [{"location": "L-1", "line1": "one"}])
    assert r.status_code == 200, r.text
    assert device_ids(r.json()) == [DEV]
    assert [get_device(api, d)["display"] is None for d in [DEV2, DEV3, DEV4]] == [True] * 3


def test_bulk_entries_apply_in_order(api, floor):
    r = bulk(api, [
        {"deviceid": DEV, "line1": "first", "nonce": "n-1"},
        {"deviceid": DEV, "line1": "second", "nonce": "n-2"},
        {"deviceid": DEV2, "line1": "lit"},
        {"location": "L-2", "command": "kill", "nonce": "other"},   # DEV3 shows nothing, DEV2 no nonce
        {"deviceid": DEV4, "line1": "gone"},
        {"deviceid": DEV4, "command": "off"},
    ])
    assert r.status_code == 200, r.text
    assert get_device(api, DEV)["display"] == display(line1="second", nonce="n-2")
    assert get_device(api, DEV2)["display"] == display(line1="lit")
    assert get_device(api, DEV3)["display"] is None
    assert get_device(api, DEV4)["display"] is None


def test_bulk_static_updates_and_kill_by_location(api, floor):
    send(api, {"line1": "pick me", "nonce": "n-7"}, DEV2)
    r = bulk(api, [
        {"deviceid": DEV, "statica": "S-1", "quantity": "4"},
        {"location": "L-2", "command": "kill", "nonce": "n-7"},
        {"location": "L-9", "staticb": "S-9", "arrow": "right"},
    ])
    assert r.status_code == 200, r.text
    assert get_device(api, DEV)["statics"] == dict(EMPTY_STATICS, statica="S-1", quantity=4)
    assert get_device(api, DEV)["display"] is None
    assert get_device(api, DEV2)["display"] is None
    assert get_device(api, DEV4)["statics"] == dict(EMPTY_STATICS, staticb="S-9", arrow="right")


@pytest.mark.parametrize("bad, error", [
    ({"deviceid": MISSING, "line1": "x"},
     {"deviceid": ["Object with deviceid=%s does not exist." % MISSING]}),
    ({"device_id": MISSING, "line1": "x"},
     {"device_id": ["Object with device_id=%s does not exist." % MISSING]}),
    ({"location": "Nowhere", "line1": "x"},
     {"location": ["Object with location=Nowhere does not exist."]}),
    ({"deviceid": DEV2, "line1": "x", "color": "purple"},
     {"color": ['"purple" is not a valid choice.']}),
    ({"deviceid": DEV2, "line1": "x", "seconds": -1},
     {"seconds": ["Ensure this value is greater than or equal to 0."]}),
    ({"deviceid": DEV2, "line1": "x" * 256},
     {"line1": ["Ensure this field has no more than 255 characters."]}),
    ({"location": "L-2", "command": "dance"},
     {"command": ['"dance" is not a valid choice.']}),
    ({"deviceid": DEV2, "statica": "s" * 256},
     {"statica": ["Ensure this field has no more than 255 characters."]}),
])
def test_bulk_is_all_or_nothing(api, floor, bad, error):
    entries = [
        {"deviceid": DEV, "line1": "valid", "seconds": 60},
        bad,
        {"location": "L-9", "statica": "valid static"},
    ]
    r = bulk(api, entries)
    assert r.status_code == 400, r.text
    assert r.json() == [{}, error, {}]
    for device_id, before in floor.items():
        assert get_device(api, device_id) == before


def test_bulk_reports_every_bad_entry(api, floor):
    r = bulk(api, [
        {"deviceid": "NOPE:000001", "line1": "x"},
        {"deviceid": DEV, "line1": "fine"},
        {"location": "Nowhere", "line1": "x"},
        {"deviceid": DEV2, "color": "rr", "line1": "x"},
    ])
    assert r.status_code == 400, r.text
    assert r.json() == [
        {"deviceid": ["Object with deviceid=NOPE:000001 does not exist."]},
        {},
        {"location": ["Object with location=Nowhere does not exist."]},
        {"color": ['"rr" is not a valid choice.']},
    ]
    assert get_device(api, DEV)["display"] is None


def test_bulk_entry_naming_no_device_is_an_error(api, floor):
    r = bulk(api, [{"deviceid": DEV, "line1": "fine"}, {"line1": "whose?"}])
    assert r.status_code == 400, r.text
    errors = r.json()
    assert isinstance(errors, list) and len(errors) == 2
    assert errors[0] == {} and isinstance(errors[1], dict) and errors[1]
    assert get_device(api, DEV)["display"] is None


def test_bulk_needs_a_list_of_objects(api, floor):
    r = bulk(api, {"deviceid": DEV, "line1": "x"})
    assert r.status_code == 400, r.text
    assert r.json() == {"non_field_errors": ['Expected a list of items but got type "dict".']}
    r = api.post("/api/devices/", data=b"", headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json() == {"non_field_errors": ['Expected a list of items but got type "dict".']}
    r = bulk(api, [{"deviceid": DEV, "line1": "x"}, "DEV2"])
    assert r.status_code == 400, r.text
    assert r.json() == [{}, {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}]
    assert get_device(api, DEV)["display"] is None


# ---------------------------------------------------------------- tenants

def test_another_customers_device_is_not_found(api, other_api):
    register(other_api, DEV2, "THEIRS")
    send(other_api, {"statica": "theirs"}, DEV2)
    before = get_device(other_api, DEV2)
    for method in ["GET", "POST", "PUT", "DELETE"]:
        kw = {} if method in ("GET", "DELETE") else {"json": {"line1": "mine?"}}
        r = api.request(method, path(DEV2), **kw)
        assert r.status_code == 404, (method, r.text)
        assert r.json() == NOT_FOUND
    assert api.get("/api/device/").json()["count"] == 0
    assert get_device(other_api, DEV2) == before


def test_another_customers_device_cannot_be_lit_in_bulk(api, other_api):
    register(api, DEV, "MINE")
    register(other_api, DEV2, "THEIRS")
    for entry, key, value in [({"deviceid": DEV2}, "deviceid", DEV2),
                              ({"device_id": DEV2}, "device_id", DEV2),
                              ({"location": "THEIRS"}, "location", "THEIRS")]:
        r = bulk(api, [{"deviceid": DEV, "line1": "mine"}, dict(entry, line1="theirs?")])
        assert r.status_code == 400, r.text
        assert r.json() == [{}, {key: ["Object with %s=%s does not exist." % (key, value)]}]
    assert get_device(other_api, DEV2)["display"] is None
    assert get_device(api, DEV)["display"] is None
    # The same location in both tenants lights only the caller's devices.
    register(other_api, DEV3, "SHARED")
    register(api, DEV4, "SHARED")
    r = bulk(api, [{"location": "SHARED", "line1": "mine"}])
    assert r.status_code == 200, r.text
    assert device_ids(r.json()) == [DEV4]
    assert get_device(other_api, DEV3)["display"] is None


# ---------------------------------------------------------------- the integrations, as they send
# Where each body and header comes from: docs/integrations.md.

@pytest.fixture
def bigblock_user(server):
    """A customer with its API key and a login user (§2.1, §7)."""
    tag = "%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])
    customer = "bigblock-" + tag
    out = cli(server.db, "customer", "create", customer).stdout.strip().splitlines()
    key = out[-1].strip()
    username, password = "picker-" + tag, "pw-" + uuid.uuid4().hex
    cli(server.db, "user", "create", customer, username, input=password + "\n")
    return types.SimpleNamespace(customer=customer, key=key, username=username,
                                 password=password, api=Client(server.base, key))


def test_integration_sap_static_single_form(server, api):
    """Voodoo-SAP abap/static_single_form.abap: statics by API-KEY, deviceid in the body."""
    register(api, DEV2, "01-02-03")
    lit = send(api, {"line1": "still here", "seconds": 600}, DEV2)["display"]
    iv_base_url, iv_deviceid = server.base, DEV2
    lv_url = "%s/api/device/%s/" % (iv_base_url, iv_deviceid)
    lv_json = json.dumps({"deviceid": DEV2, "statica": "MAT-100200", "staticb": "Hex bolt M8x40",
                          "quantity": 250})
    r = requests.post(lv_url, data=lv_json, timeout=30, headers={
        "Content-Type": "application/json", "Accept": "application/json", "API-KEY": api.key})
    assert r.status_code == 200, r.text
    device = get_device(api, DEV2)
    assert device["statics"] == dict(EMPTY_STATICS, statica="MAT-100200",
                                     staticb="Hex bolt M8x40", quantity=250)
    assert device["display"] == lit


def test_integration_sap_batch_pick_form(server, api):
    """Voodoo-SAP abap/command_multiple_form.abap as command_A.abap calls it."""
    register(api, DEV2, "01-02-03")
    register(api, DEV3, "01-02-04")
    rows = [(DEV2, "Order 1000123", "MAT 100200", "Bin 01-02-03", "Pick 4", "UoM EA"),
            (DEV3, "Order 1000123", "MAT 100300", "Bin 01-02-04", "Pick 12", "UoM EA")]
    lt_payld = [{"deviceid": d, "command": "pick", "color": "green", "seconds": 45,
                 "line1": l1, "line2": l2, "line3": l3, "line4": l4, "line5": l5}
                for d, l1, l2, l3, l4, l5 in rows]
    before = utcnow()
    r = requests.post("%s/api/devices/" % server.base, data=json.dumps(lt_payld), timeout=30, headers={
        "Content-Type": "application/json", "Accept": "application/json", "API-KEY": api.key})
    after = utcnow()
    assert r.status_code == 200, r.text
    assert device_ids(r.json()) == [DEV2, DEV3]
    for d, l1, l2, l3, l4, l5 in rows:
        shown = get_device(api, d)["display"]
        assert_expires(shown["expires"], 45, before, after)
        assert without(shown, "expires") == without(display(
            command="pick", color="green", seconds=45,
            line1=l1, line2=l2, line3=l3, line4=l4, line5=l5), "expires")


def test_integration_epicor_light_devices(server, api):
    """Voodoo-Epicor lightDevices.py: voodoo_flash_device with its defaults."""
    register(api, DEV, "MAIN:A-01-03")
    base_url = server.base + "/api"
    device_id = " %s " % DEV                     # read from a BAQ row, stripped by the script
    url = f"{base_url.rstrip('/')}/device/{device_id.strip()}/"
    headers = {"API-KEY": api.key, "Content-Type": "application/json", "Accept": "application/json"}
    payload = {"api": "2.0", "command": "flash", "seconds": 20, "color": "g", "sound": "none"}
    for idx, line in enumerate(["PN-1001  x4", "MAIN:A-01-03", "Bracket, steel, 40mm"], start=1):
        payload[f"line{idx}"] = str(line)
    before = utcnow()
    r = requests.post(url, headers=headers, json=payload, timeout=15)
    after = utcnow()
    assert r.status_code == 200, r.text
    shown = r.json()["display"]
    assert_expires(shown["expires"], 20, before, after)
    assert without(shown, "expires") == without(display(
        command="flash", seconds=20, color="g", sound="none",
        line1="PN-1001  x4", line2="MAIN:A-01-03", line3="Bracket, steel, 40mm"), "expires")
    assert get_device(api)["display"] == shown


def test_odoo_bodies_as_sent(server, api):
    """The Odoo module's device bodies exactly as it sends them (static update,
    then a pick with a JSON nonce); here authenticated by API key, since its
    session login (§2.1) arrives with a later issue."""
    register(api, DEV2, "WH/Stock/Shelf 1")
    url = server.base + "/api/device/" + DEV2 + "/"
    headers = {"referer": server.base + "/api/", "API-KEY": api.key}
    r = requests.post(url, headers=headers, timeout=15,
                      json={"locationoverride": "Shelf 1", "arrow": "top", "statica": "[FURN_7800]",
                            "staticb": "Desk Combination", "quantity": 12})
    assert r.status_code == 200, r.text
    r = requests.post(url, headers=headers, timeout=15,
                      json={"command": "flash", "arrow": "top", "line2": "PICK",
                            "line3": "[FURN_7800] Desk Combination", "quantity": 3,
                            "nonce": '{"moveid":42}', "color": "red"})
    assert r.status_code == 200, r.text
    device = get_device(api, DEV2)
    assert device["statics"] == dict(EMPTY_STATICS, locationoverride="Shelf 1", arrow="top",
                                     statica="[FURN_7800]", staticb="Desk Combination", quantity=12)
    assert device["display"] == display(command="flash", arrow="top", line2="PICK",
                                        line3="[FURN_7800] Desk Combination", quantity=3,
                                        nonce='{"moveid":42}', color="red")


def test_shipstation_bodies_as_sent(server, api):
    """The ShipStation extension's /api/devices/ bodies exactly as it sends them
    (location = SKU, seconds and quantity as strings, kill by nonce), with its
    'api-key' header spelling; its login (§2.1) arrives with a later issue."""
    register(api, DEV3, "SKU-RED-SHIRT")
    register(api, DEV4, "SKU-BLUE-CAP")

    def fetch_data(array):
        return requests.post(server.base + "/api/devices/", data=json.dumps(array), timeout=30,
                             headers={"api-key": api.key, "Content-Type": "application/json"})

    red_nonce = "-1001-1001-SKU-RED-SHIRT-qty:2-k3j4h5g6f7d8s9a0"
    blue_nonce = "-1001-1001-SKU-BLUE-CAP-qty:1-z9y8x7w6v5u4t3s2"
    r = fetch_data([
        {"command": "flash", "location": "SKU-RED-SHIRT", "color": "red", "seconds": "60",
         "quantity": "2", "nonce": red_nonce, "line1": "SKU-RED-SHIRT", "line2": "Red Shirt",
         "sound": "15,c5,4"},
        {"command": "flash", "location": "SKU-BLUE-CAP", "color": "red", "seconds": "60",
         "quantity": "1", "nonce": blue_nonce, "line1": "SKU-BLUE-CAP", "line2": "Blue Cap",
         "barcode": "012345678905", "sound": "15,c5,4"},
    ])
    assert r.status_code == 200, r.text
    assert device_ids(r.json()) == [DEV3, DEV4]
    red = get_device(api, DEV3)["display"]
    assert (red["seconds"], red["quantity"], red["color"]) == (60, 2, "red")
    r = fetch_data([{"command": "kill", "location": "SKU-RED-SHIRT", "nonce": red_nonce}])
    assert r.status_code == 200, r.text
    assert get_device(api, DEV3)["display"] is None
    assert get_device(api, DEV4)["display"]["nonce"] == blue_nonce


def test_integration_odoo_module(server, bigblock_user):
    """voodoo_devices util.py: session login, then cookies + x-csrf-token; re-login on 401."""
    u = bigblock_user
    register(u.api, DEV2, "WH/Stock/Shelf 1")
    endpoint_url = server.base + "/api/"

    def renew_credentials():
        client = requests.Session()
        response = client.post(endpoint_url + "user/login/",
                               json={"username": u.username, "password": u.password})
        assert response.status_code == 200, response.text
        token = response.json().get("token")
        session = response.cookies["sessionid"]
        assert token and session
        return session, token

    def device_call(device_id, data, session, token):
        client = requests.Session()
        return client.post(endpoint_url + "device/" + device_id + "/", json=data,
                           headers={"referer": endpoint_url, "x-csrf-token": token},
                           cookies={"sessionid": session, "csrftoken": token})

    session, token = renew_credentials()

    # redoStatics: one location holding one product.
    r = device_call(DEV2, {"locationoverride": "Shelf 1", "arrow": "top", "statica": "[FURN_7800]",
                           "staticb": "Desk Combination", "quantity": 12}, session, token)
    assert r.status_code == 200, r.text
    # processMove: a pick from that location, the user's defaults (red, no beep, no seconds).
    r = device_call(DEV2, {"command": "flash", "arrow": "top", "line2": "PICK",
                           "line3": "[FURN_7800] Desk Combination", "quantity": 3,
                           "nonce": '{"moveid":42}', "color": "red"}, session, token)
    assert r.status_code == 200, r.text
    device = get_device(u.api, DEV2)
    assert device["statics"] == dict(EMPTY_STATICS, locationoverride="Shelf 1", arrow="top",
                                     statica="[FURN_7800]", staticb="Desk Combination", quantity=12)
    assert device["display"] == display(command="flash", arrow="top", line2="PICK",
                                        line3="[FURN_7800] Desk Combination", quantity=3,
                                        nonce='{"moveid":42}', color="red")

    # A stale stored session: 401 (never 403), so the module logs in again and repeats.
    stale = {"command": "flash", "arrow": "bottomright", "line1": "Ann", "line2": "PUT",
             "line3": "[FURN_7800] Desk Combination", "line4": "Qty: 2.5",
             "nonce": '{"moveid":43}', "color": "magenta", "sound": "15,c5,4", "seconds": 30}
    r = device_call(DEV2, stale, "0123456789abcdefexpired", token)
    assert r.status_code == 401, r.text
    assert get_device(u.api, DEV2)["display"]["nonce"] == '{"moveid":42}'
    session, token = renew_credentials()
    r = device_call(DEV2, stale, session, token)
    assert r.status_code == 200, r.text
    shown = get_device(u.api, DEV2)["display"]
    assert without(shown, "expires") == without(display(**stale), "expires")
    assert shown["expires"] is not None

    # redoStatics: the location now holds several products (a barcode escape in staticb).
    r = device_call(DEV2, {"locationoverride": "Shelf 1", "arrow": "top", "statica": "Shelf 1",
                           "staticb": "\\bc" + DEV2}, session, token)
    assert r.status_code == 200, r.text
    statics = get_device(u.api, DEV2)["statics"]
    assert statics["statica"] == "Shelf 1"
    assert statics["staticb"] == "\\bc" + DEV2
    assert statics["quantity"] == 12                 # not sent again: kept


def test_integration_shipstation_extension(server, bigblock_user):
    """voodoo_ss_extension: login for a temporary apikey, then 'api-key' + /devices/ by SKU."""
    u = bigblock_user
    register(u.api, DEV3, "SKU-RED-SHIRT")
    register(u.api, DEV4, "SKU-BLUE-CAP")
    endpoint = server.base + "/api"

    login = requests.post(endpoint + "/user/login/", headers={"Content-Type": "application/json"},
                          data=json.dumps({"username": u.username, "password": u.password}),
                          timeout=30)
    assert login.status_code == 200, login.text
    apikey = login.json()["apikey"]

    def fetch_data(array):
        return requests.post(endpoint + "/devices/", data=json.dumps(array), timeout=30,
                             headers={"api-key": apikey, "Content-Type": "application/json"})

    red_nonce = "-1001-1001-SKU-RED-SHIRT-qty:2-k3j4h5g6f7d8s9a0"
    blue_nonce = "-1001-1001-SKU-BLUE-CAP-qty:1-z9y8x7w6v5u4t3s2"
    array = [
        {"command": "flash", "location": "SKU-RED-SHIRT", "color": "red", "seconds": "60",
         "quantity": "2", "nonce": red_nonce, "line1": "SKU-RED-SHIRT", "line2": "Red Shirt",
         "sound": "15,c5,4"},
        {"command": "flash", "location": "SKU-BLUE-CAP", "color": "red", "seconds": "60",
         "quantity": "1", "nonce": blue_nonce, "line1": "SKU-BLUE-CAP", "line2": "Blue Cap",
         "barcode": "012345678905", "sound": "15,c5,4"},
    ]
    before = utcnow()
    r = fetch_data(array)
    after = utcnow()
    assert r.status_code == 200, r.text
    assert device_ids(r.json()) == [DEV3, DEV4]
    red = get_device(u.api, DEV3)["display"]
    assert_expires(red["expires"], 60, before, after)
    assert without(red, "expires") == without(display(
        command="flash", color="red", seconds=60, quantity=2, nonce=red_nonce,
        line1="SKU-RED-SHIRT", line2="Red Shirt", sound="15,c5,4"), "expires")
    assert get_device(u.api, DEV4)["display"]["barcode"] == "012345678905"

    # killOnDeviceForSKU: the nonce it sent clears that SKU only.
    r = fetch_data([{"command": "kill", "location": "SKU-RED-SHIRT", "nonce": red_nonce}])
    assert r.status_code == 200, r.text
    assert get_device(u.api, DEV3)["display"] is None
    assert get_device(u.api, DEV4)["display"]["nonce"] == blue_nonce

    # The SKU lit again with a new nonce: a late kill carrying the old one leaves it on.
    relit = dict(array[1], nonce="-1001-1002-SKU-BLUE-CAP-qty:1-aaaabbbbcccc")
    assert fetch_data([relit]).status_code == 200
    r = fetch_data([{"command": "kill", "location": "SKU-BLUE-CAP", "nonce": blue_nonce}])
    assert r.status_code == 200, r.text
    assert get_device(u.api, DEV4)["display"]["nonce"] == relit["nonce"]


def test_integration_extensiv_receiver(server, api):
    """voodoo-extensiv server.py: DELETE + ADD per event, then LAUNCH / ABORT, header 'API-Key'."""
    register(api, DEV, "A1-09-02")
    register(api, DEV2, "")
    send(api, {"locationoverride": "B2-04-03"}, DEV2)
    register(api, DEV3, "C9-99-99")
    voodoo_api_endpoint = server.base + "/api"
    order_id = str(31004581)
    order_endpoint = f"{voodoo_api_endpoint}/orders/"
    delete_endpoint = f"{order_endpoint}{order_id}/"
    launch_endpoint = f"{order_endpoint}{order_id}/launch/"
    abort_endpoint = f"{order_endpoint}{order_id}/abort/"
    headers = {"API-Key": api.key, "Content-Type": "application/json"}
    new_order = {"order_number": order_id, "items": [
        {"SKU": "DEMO1001", "ordered_quantity": 1, "warehouse_location": "A1-09-02"},
        {"SKU": "DEMO2002", "ordered_quantity": 1, "warehouse_location": "B2-04-03",
         "description": "LT-2027-0001"},
    ]}

    r = requests.delete(delete_endpoint, headers=headers, timeout=30)
    assert r.status_code == 404, r.text                 # not there yet: the receiver shrugs
    r = requests.post(order_endpoint, headers=headers, json=new_order, timeout=30)
    assert r.status_code == 201, r.text
    r = requests.delete(delete_endpoint, headers=headers, timeout=30)   # the next event
    assert r.status_code == 204, r.text
    r = requests.post(order_endpoint, headers=headers, json=new_order, timeout=30)
    assert r.status_code == 201, r.text
    item_ids = [i["id"] for i in r.json()["shipments"][0]["items"]]
    for device_id in [DEV, DEV2, DEV3]:
        assert get_device(api, device_id)["display"] is None    # creating an order lights nothing

    r = requests.post(launch_endpoint, headers=headers, timeout=30)    # no body
    assert r.status_code == 200, r.text
    for device_id, item_id, sku, line3 in [(DEV, item_ids[0], "DEMO1001", ""),
                                           (DEV2, item_ids[1], "DEMO2002", "LT-2027-0001")]:
        shown = get_device(api, device_id)["display"]
        assert shown is not None, device_id
        assert {k: shown[k] for k in ["command", "line1", "line2", "line3", "quantity", "nonce",
                                      "seconds", "color", "expires"]} == {
            "command": "pick", "line1": order_id, "line2": sku, "line3": line3, "quantity": 1,
            "nonce": "item:%d" % item_id, "seconds": 0, "color": "g", "expires": None}
    assert get_device(api, DEV3)["display"] is None

    r = requests.post(abort_endpoint, headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    for device_id in [DEV, DEV2, DEV3]:
        assert get_device(api, device_id)["display"] is None
