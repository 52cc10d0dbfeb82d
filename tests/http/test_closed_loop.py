"""The closed loop (contract §8.1): a device's stack of commands, expiry and
its nack, button presses and idle calls, sequence callbacks, order events,
and the other names Big Block uses. Callbacks are checked at a receiver the
test runs (test_picks.py's Receiver); the callback settings' own flags are
test_callbacks.py's."""
import datetime
import time

import pytest

from conftest import Client, db_exec, db_value
from test_picks import (Customer, cb_database, get_device, new_order, receivers,  # noqa: F401
                        register, start_server, wait_until)

DEV = "LOOP:0001"


def light(api, device_id=DEV, status=200, **command):
    r = api.post("/api/device/%s/" % device_id, command)
    assert r.status_code == status, r.text
    return r.json()


def nonces(device):
    return [c["nonce"] for c in device["commands"]]


def press(api, device_id=DEV, button=None, status=200):
    r = api.post("/api/device/%s/press/" % device_id, {} if button is None else {"button": button})
    assert r.status_code == status, r.text
    return r.json()


def parse_dt(text):
    return datetime.datetime.fromisoformat(text)


# ---------------------------------------------------------------- the stack

def test_commands_with_nonces_stack_newest_on_top(api):
    register(api, DEV)
    for n in ("a", "b", "c"):
        dev = light(api, line1="line " + n, nonce=n)
    assert nonces(dev) == ["c", "b", "a"]
    assert dev["display"] == dev["commands"][0] and dev["display"]["line1"] == "line c"
    assert get_device(api, DEV) == dev
    # the nonce of a live command replaces it, on top
    dev = light(api, line1="b again", nonce="b")
    assert nonces(dev) == ["b", "c", "a"] and dev["display"]["line1"] == "b again"
    # kill with a nonce removes that one wherever it is
    dev = light(api, command="kill", nonce="c")
    assert nonces(dev) == ["b", "a"]
    # a kill naming no live command changes nothing
    assert nonces(light(api, command="off", nonce="zzz")) == ["b", "a"]
    # acknowledging the top shows the next
    dev = api.post("/api/device/%s/ack/" % DEV, {}).json()
    assert nonces(dev) == ["a"] and dev["display"]["nonce"] == "a"
    # a command without a nonce replaces them all
    dev = light(api, line1="plain")
    assert nonces(dev) == [""] and dev["display"]["line1"] == "plain"
    dev = light(api, line1="x", nonce="x")
    assert nonces(dev) == ["x", ""]
    # kill without a nonce clears everything: the statics show
    dev = light(api, command="kill")
    assert dev["display"] is None and dev["commands"] == []


def test_message_is_another_name_for_flash(api):
    register(api, DEV)
    dev = light(api, command="message", line1="hello", nonce="m")
    assert dev["display"]["command"] == "flash"
    r = api.post("/api/sequence/", {"steps": [{"device": DEV, "command": "message", "line1": "s"}]})
    assert r.status_code == 201, r.text


def test_a_device_holds_at_most_16_commands(api):
    register(api, DEV)
    for i in range(16):
        dev = light(api, line1=str(i), nonce="n%d" % i)
    assert len(dev["commands"]) == 16
    r = api.post("/api/device/%s/" % DEV, {"line1": "17th", "nonce": "n16"})
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["A device holds at most 16 commands."]}
    assert get_device(api, DEV) == dev          # nothing changed
    # replacing a live one is no 17th
    assert len(light(api, line1="again", nonce="n3")["commands"]) == 16
    # the query-string API follows the same rules
    r = api.get("/api/%s/flash/a~b/c/none/0g/n99/" % DEV)
    assert r.status_code == 400 and r.json() == {"non_field_errors": ["A device holds at most 16 commands."]}
    # a bulk update is all or nothing, its errors aligned to its entries
    register(api, "LOOP:0002")
    r = api.post("/api/devices/", [{"deviceid": "LOOP:0002", "line1": "fine", "nonce": "f"},
                                   {"deviceid": DEV, "line1": "too many", "nonce": "t"}])
    assert r.status_code == 400
    assert r.json() == [{}, {"non_field_errors": ["A device holds at most 16 commands."]}]
    assert get_device(api, "LOOP:0002")["display"] is None


def test_orders_sharing_a_device_show_their_picks_one_after_the_other(api):
    register(api, DEV)
    orders = []
    for number in ("SHARE-1", "SHARE-2"):
        r = api.post("/api/orders/", {"order_number": number,
                                      "items": [{"SKU": "S-" + number, "ordered_quantity": 2, "device": DEV}]})
        assert r.status_code == 201, r.text
        orders.append(r.json())
        assert api.post("/api/orders/%s/launch/" % number).status_code == 200
    item = [o["shipments"][0]["items"][0]["id"] for o in orders]
    dev = get_device(api, DEV)
    assert nonces(dev) == ["item:%d" % item[1], "item:%d" % item[0]]
    assert dev["display"]["line1"] == "SHARE-2"
    # aborting the first order removes only its own pick
    assert api.post("/api/orders/SHARE-1/abort/").json()["status"] == "aborted"
    assert nonces(get_device(api, DEV)) == ["item:%d" % item[1]]
    # relaunch it: its pick goes on top again
    api.post("/api/orders/SHARE-1/launch/")
    assert nonces(get_device(api, DEV)) == ["item:%d" % item[0], "item:%d" % item[1]]
    # acknowledging shows the other order's pick; both complete in turn
    dev = api.post("/api/device/%s/ack/" % DEV, {}).json()
    assert dev["display"]["line1"] == "SHARE-2"
    api.post("/api/device/%s/ack/" % DEV, {})
    assert [api.get("/api/orders/%s/" % n).json()["status"] for n in ("SHARE-1", "SHARE-2")] == \
        ["complete", "complete"]


# ---------------------------------------------------------------- callbacks

@pytest.fixture
def loop(start_server, receivers, cb_database):
    """A server on the callback database, a receiver, and a customer whose
    callbacks (device and order families) go to it."""
    srv = start_server()
    rcv = receivers()
    cust = Customer(cb_database, rcv.url)
    db_exec(cb_database, "UPDATE customers SET callback_events = 'device,orders' WHERE name = '%s'" % cust.name)

    class Loop:
        pass
    t = Loop()
    t.srv, t.rcv, t.cust, t.db = srv, rcv, cust, cb_database
    t.api = cust.client(srv)
    return t


def strip(body):
    return {k: v for k, v in body.items() if k not in ("id", "created")}


def test_an_expired_command_is_removed_and_nacked_within_a_second(loop):
    api, rcv = loop.api, loop.rcv
    register(api, DEV)
    light(api, line1="under", nonce="under")
    dev = light(api, line1="brief", nonce="brief", seconds=1)
    expires = parse_dt(dev["display"]["expires"])
    assert nonces(dev) == ["brief", "under"]
    # no request touches the device: the nack comes by itself
    rcv.wait_for(1, timeout=10)
    arrived = datetime.datetime.utcnow()
    (body,) = rcv.unique()
    assert strip(body) == {"deviceid": DEV, "acknack": "nack", "nonce": "brief", "qty": 0}
    assert isinstance(body["id"], int)
    # queued within a second of `expires` (its created says when); delivered
    # soon after, even on a loaded machine
    assert parse_dt(body["created"]) - expires < datetime.timedelta(seconds=1)
    assert arrived - expires < datetime.timedelta(seconds=5)
    # the next command shows
    dev = get_device(api, DEV)
    assert nonces(dev) == ["under"]
    # a replaced or killed command sends nothing
    light(api, line1="r", nonce="r", seconds=1)
    light(api, line1="r2", nonce="r", seconds=0)
    light(api, line1="k", nonce="k", seconds=1)
    light(api, command="kill", nonce="k")
    time.sleep(2)
    assert len(rcv.unique()) == 1


def test_expiries_are_nacked_once_by_several_servers_and_after_a_restart(start_server, receivers, cb_database):
    rcv = receivers()
    cust = Customer(cb_database, rcv.url)
    first = start_server()
    api = cust.client(first)
    devices = ["EXP:%02d" % i for i in range(12)]
    for d in devices:
        register(api, d)
    # a second server on the same database: each expiry is still nacked once
    second = start_server()
    for d in devices[:6]:
        light(api, d, line1="x", nonce="n-" + d, seconds=1)
    rcv.wait_for(6, timeout=15)
    time.sleep(1)
    # expiries that fall while no server runs are nacked when one comes back
    for d in devices[6:]:
        light(api, d, line1="y", nonce="n-" + d, seconds=1)
    assert first.stop() == 0 and second.stop() == 0
    time.sleep(2)
    assert len(rcv.unique()) == 6
    third = start_server()
    rcv.wait_for(12, timeout=15)
    time.sleep(1)
    got = rcv.unique()
    assert sorted(b["nonce"] for b in got) == sorted("n-" + d for d in devices)
    assert all(b["acknack"] == "nack" for b in got)
    rows = db_value(cb_database, "SELECT count(*) FROM callbacks c JOIN customers u ON u.id = c.customer_id "
                                 "WHERE u.name = '%s'" % cust.name)
    assert rows == "12"
    api = cust.client(third)
    assert all(get_device(api, d)["commands"] == [] for d in devices)


def test_presses(loop):
    api, rcv = loop.api, loop.rcv
    register(api, DEV)
    _, (item,) = new_order(api, 5)
    # with nothing showing, a press is a call with the unsolicitedNonce
    api.post("/api/device/%s/" % DEV, {"unsolicitedNonce": "bin-7"})
    assert press(api)["display"] is None
    press(api, button="up")
    press(api, button="down")
    rcv.wait_for(3)
    assert [strip(b) for b in sorted(rcv.unique(), key=lambda b: b["id"])] == [
        {"deviceid": DEV, "acknack": a, "nonce": "bin-7", "qty": None} for a in ("call", "call_up", "call_down")]
    # up and down change the quantity shown, never below 0 (null is 0)
    light(api, line1="pick", nonce="item:%d" % item["id"], quantity=2)
    assert press(api, button="up")["display"]["quantity"] == 3
    dev = press(api, button="down")
    assert dev["display"]["quantity"] == 2 and nonces(dev) == ["item:%d" % item["id"]]
    # main acknowledges the adjusted quantity, as /ack/ does
    dev = press(api, button="main")
    assert dev["display"] is None
    assert api.get("/api/items/%d/" % item["id"]).json()["quantity_fulfilled"] == 2
    light(api, line1="none", nonce="q")
    assert press(api, button="down")["display"]["quantity"] == 0
    assert press(api, button="down")["display"]["quantity"] == 0
    press(api)
    rcv.wait_for(6)
    acks = [strip(b) for b in rcv.unique() if b.get("acknack") == "ack"]
    assert {"deviceid": DEV, "acknack": "ack", "nonce": "item:%d" % item["id"], "qty": 2} in acks
    assert {"deviceid": DEV, "acknack": "ack", "nonce": "q", "qty": 0} in acks
    # errors
    r = api.post("/api/device/%s/press/" % DEV, {"button": "left"})
    assert r.status_code == 400 and r.json() == {"button": ['"left" is not a valid choice.']}
    assert api.get("/api/device/%s/press/" % DEV).status_code == 405
    assert api.post("/api/device/NOPE/press/", {}).status_code == 404


def test_sequence_callbacks_stall_and_relaunch(loop):
    api, rcv = loop.api, loop.rcv
    for d in ("SEQ:A", "SEQ:B", "SEQ:C"):
        register(api, d)
    seq = api.post("/api/sequence/", {"nonce": "wave", "steps": [
        {"order": 1, "device": "SEQ:A", "line1": "a", "stepnonce": "st-a"},
        {"order": 1, "device": "SEQ:B", "line1": "b", "stepnonce": "st-b", "seconds": 1},
        {"order": 2, "device": "SEQ:C", "line1": "c", "stepnonce": "st-c"},
    ]}).json()
    url = "/api/sequence/%d/" % seq["id"]
    api.get("/api/launchsequence/%d/" % seq["id"])
    api.post("/api/device/SEQ:A/ack/", {})
    # SEQ:B's step expires: a nack with its stepnonce, and the sequence stalls
    rcv.wait_for(2, timeout=10)
    got = sorted(rcv.unique(), key=lambda b: b["id"])
    assert [strip(b) for b in got] == [
        {"deviceid": "SEQ:A", "acknack": "ack", "nonce": "st-a", "stepnonce": "st-a", "qty": 0},
        {"deviceid": "SEQ:B", "acknack": "nack", "nonce": "st-b", "stepnonce": "st-b", "qty": 0}]
    assert api.get(url).json()["status"] == "in-progress"
    assert get_device(api, "SEQ:C")["display"] is None
    # relaunch lights what is unacknowledged again, and only that
    assert api.get("/api/launchsequence/%d/" % seq["id"]).json()["status"] == "in-progress"
    assert get_device(api, "SEQ:A")["display"] is None
    assert get_device(api, "SEQ:B")["display"]["nonce"] == "st-b"
    api.post("/api/device/SEQ:B/ack/", {})
    assert get_device(api, "SEQ:C")["display"]["nonce"] == "st-c"
    api.post("/api/device/SEQ:C/ack/", {})
    assert api.get(url).json()["status"] == "completed"
    rcv.wait_for(5)
    got = sorted(rcv.unique(), key=lambda b: b["id"])
    assert [strip(b) for b in got[2:]] == [
        {"deviceid": "SEQ:B", "acknack": "ack", "nonce": "st-b", "stepnonce": "st-b", "qty": 0},
        {"deviceid": "SEQ:C", "acknack": "ack", "nonce": "st-c", "stepnonce": "st-c", "qty": 0},
        {"acknack": "ack", "nonce": "wave", "sequence": seq["id"]}]
    # a completed sequence launched again starts over
    api.get("/api/launchsequence/%d/" % seq["id"])
    assert get_device(api, "SEQ:A")["display"]["nonce"] == "st-a"


def test_order_events_follow_the_ack_in_order(loop):
    api, rcv = loop.api, loop.rcv
    for d in ("ORD:1", "ORD:2"):
        register(api, d)
    r = api.post("/api/orders/", {"order_number": "EV-1", "shipments": [
        {"shipment_number": "SH-1", "items": [{"SKU": "A", "ordered_quantity": 3, "device": "ORD:1"}]},
        {"shipment_number": "SH-2", "items": [{"SKU": "B", "ordered_quantity": 1, "device": "ORD:2"}]}]})
    assert r.status_code == 201, r.text
    order = r.json()
    a = order["shipments"][0]["items"][0]["id"]
    b = order["shipments"][1]["items"][0]["id"]
    sh1, sh2 = order["shipments"][0]["id"], order["shipments"][1]["id"]
    api.post("/api/orders/EV-1/launch/")
    api.post("/api/device/ORD:1/ack/", {"quantity": 2})
    api.post("/api/device/ORD:2/ack/", {})
    api.post("/api/orders/EV-1/launch/")   # what is left of A lights again
    api.post("/api/device/ORD:1/ack/", {"quantity": 5})   # capped at the 1 left
    assert api.get("/api/orders/EV-1/").json()["status"] == "complete"
    rcv.wait_for(10)
    time.sleep(0.3)
    got = [strip(x) for x in sorted(rcv.unique(), key=lambda x: x["id"])]
    item = {"order_number": "EV-1"}
    assert got == [
        {"deviceid": "ORD:1", "acknack": "ack", "nonce": "item:%d" % a, "qty": 2},
        dict(item, order_event="item_picked", nonce="item:%d" % a, shipment_number="SH-1", SKU="A", qty=2,
             quantity_fulfilled=2, ordered_quantity=3),
        {"deviceid": "ORD:2", "acknack": "ack", "nonce": "item:%d" % b, "qty": 1},
        dict(item, order_event="item_picked", nonce="item:%d" % b, shipment_number="SH-2", SKU="B", qty=1,
             quantity_fulfilled=1, ordered_quantity=1),
        dict(item, order_event="item_complete", nonce="item:%d" % b, shipment_number="SH-2", SKU="B", qty=1,
             quantity_fulfilled=1, ordered_quantity=1),
        dict(item, order_event="shipment_complete", nonce="shipment:%d" % sh2, shipment_number="SH-2"),
        {"deviceid": "ORD:1", "acknack": "ack", "nonce": "item:%d" % a, "qty": 5},
        dict(item, order_event="item_picked", nonce="item:%d" % a, shipment_number="SH-1", SKU="A", qty=1,
             quantity_fulfilled=3, ordered_quantity=3),
        dict(item, order_event="item_complete", nonce="item:%d" % a, shipment_number="SH-1", SKU="A", qty=1,
             quantity_fulfilled=3, ordered_quantity=3),
        dict(item, order_event="shipment_complete", nonce="shipment:%d" % sh1, shipment_number="SH-1"),
        dict(item, order_event="order_complete", nonce="order:%d" % order["id"]),
    ]


def test_order_events_are_sent_only_to_customers_that_take_them(loop):
    api, rcv = loop.api, loop.rcv
    db_exec(loop.db, "UPDATE customers SET callback_events = 'device' WHERE name = '%s'" % loop.cust.name)
    register(api, DEV)
    _, (item,) = new_order(api, 1)
    light(api, line1="p", nonce="item:%d" % item["id"], quantity=1)
    api.post("/api/device/%s/ack/" % DEV, {})
    rcv.wait_for(1)
    time.sleep(0.5)
    assert [b["acknack"] for b in rcv.unique()] == ["ack"]


# ---------------------------------------------------------------- other names

def test_singular_order_paths_answer_as_the_plural(api):
    r = api.post("/api/order/", {"order_number": "SING-1", "items": [{"SKU": "X", "ordered_quantity": 1}]})
    assert r.status_code == 201, r.text
    assert api.get("/api/order/SING-1/").json() == api.get("/api/orders/SING-1/").json()
    assert api.get("/api/order/").json() == api.get("/api/orders/").json()
    assert api.post("/api/order/SING-1/launch/").json()["status"] in ("launched", "complete")
    assert api.post("/api/order/SING-1/abort/").status_code == 200
    assert api.delete("/api/order/SING-1/").status_code == 204
    assert api.get("/api/orders/SING-1/").status_code == 404


def test_big_blocks_openapi_names(server, api):
    want = api.get("/api/schema/").json()
    for path in ("/orders/openapi.json", "/sequence/openapi.json"):
        r = api.get(path)
        assert r.status_code == 200, path
        assert r.json() == want
        assert Client(server.base, None).get(path).status_code in (401, 403)
