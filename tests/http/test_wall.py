"""Contract section 8.2: the device wall in a real browser.

tests/browser/wall.mjs drives Debian's Chromium through playwright-core: log
in, open /api/wall/, launch an order of several items over several devices
through the API and see the tiles light without a reload, press main on
each tile until the order is complete, and light a flash of 2 seconds that
goes dark by itself. This test gives it a server, a customer with devices,
an order and a callback receiver, runs it, then checks what the receiver
got: an ack for every pick, the order's events, and the flash's nack. A
second customer with 1,000 devices has its wall opened too; the load time
is printed (measured, not asserted).

Screenshots: <the binary's build dir>/test-output/wall/<sqlite|postgres>/
(or $STOCKROOM_TEST_OUTPUT/wall/...), as test_browser.py does.
"""
import os
import shutil
import subprocess
import uuid

from conftest import BIN, REPO, Client, cli, db_exec, new_key
from test_browser import CHROMIUM, png_size, require_tools
from test_picks import Receiver, cb_database, receivers, start_server, wait_until  # noqa: F401

WALL = os.path.join(REPO, "tests", "browser", "wall.mjs")
STEPS = ["wall-idle", "wall-launched", "wall-picked", "wall-flash", "wall-flash-gone", "wall-many"]
MANY = 1000


def output_dir(database, tmp_path):
    kind = "postgres" if database.startswith(("postgres://", "postgresql://")) else "sqlite"
    root = os.environ.get("STOCKROOM_TEST_OUTPUT") or os.path.join(
        os.path.dirname(os.path.realpath(BIN)), "test-output")
    out = os.path.join(root, "wall", kind)
    try:
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
    except OSError:
        out = str(tmp_path / "wall")
        os.makedirs(out, exist_ok=True)
    return out


def customer_with_user(db, prefix, password):
    tag = uuid.uuid4().hex[:8]
    name, user = "%s-%s" % (prefix, tag), "%s-user-%s" % (prefix, tag)
    key = new_key(db, name)
    cli(db, "user", "create", name, user, input=password + "\n")
    return name, user, key


def test_device_wall_in_chromium(start_server, receivers, cb_database, tmp_path):
    require_tools()
    out = output_dir(cb_database, tmp_path)
    print("wall screenshots: %s" % out)
    srv = start_server()
    rcv = receivers()
    password = "pw " + uuid.uuid4().hex

    name, user, key = customer_with_user(cb_database, "wall", password)
    cli(cb_database, "customer", "set-callback", name, rcv.url)
    db_exec(cb_database, "UPDATE customers SET callback_events = 'device,orders' WHERE name = '%s'" % name)
    api = Client(srv.base, key)
    devices = ["WALL:%02d" % i for i in range(4)]
    for i, d in enumerate(devices):
        assert api.post("/api/device/", {"device_id": d, "location": "AISLE-%d" % i}).status_code == 201
    order_number = "WALL-" + uuid.uuid4().hex[:6]
    items = [{"SKU": "SKU-%d" % i, "name": "Part %d" % i, "ordered_quantity": i + 1, "device": d}
             for i, d in enumerate(devices)]
    items.append({"SKU": "SKU-X", "name": "Extra", "ordered_quantity": 2, "device": devices[0]})
    r = api.post("/api/orders/", {"order_number": order_number, "items": items})
    assert r.status_code == 201, r.text
    created = [i for s in r.json()["shipments"] for i in s["items"]]

    big_name, big_user, big_key = customer_with_user(cb_database, "wall-many", password)
    big = Client(srv.base, big_key)
    for i in range(MANY):
        r = big.post("/api/device/", {"device_id": "MANY:%04d" % i, "location": "ROW-%02d" % (i % 40)})
        assert r.status_code == 201, r.text
    # a third of them showing something, as a busy floor does
    r = big.post("/api/devices/", [{"deviceid": "MANY:%04d" % i, "line1": "pick %d" % i, "color": "g",
                                    "quantity": i % 9, "nonce": "n%d" % i} for i in range(0, MANY, 3)])
    assert r.status_code == 200, r.text

    env = dict(os.environ, STOCKROOM_BROWSER_PASSWORD=password, STOCKROOM_API_KEY=key, CHROMIUM=CHROMIUM)
    try:
        run = subprocess.run(
            ["node", WALL, "--base", srv.base, "--user", user, "--order", order_number, "--out", out,
             "--big-user", big_user],
            cwd=os.path.dirname(WALL), env=env, capture_output=True, text=True, timeout=240)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("wall.mjs did not finish in %ss; its output:\n%s\n%s"
                             % (e.timeout, e.stdout or "", e.stderr or ""))
    output = "%s%s" % (run.stdout, run.stderr)
    with open(os.path.join(out, "wall.log"), "w") as fh:
        fh.write(output)
    print(output)
    assert run.returncode == 0, "wall.mjs failed (exit %d); screenshots in %s:\n%s\nthe server's log ends:\n%s" % (
        run.returncode, out, output, "\n".join(srv.read_log().splitlines()[-40:]))
    assert "WALL_LOAD devices=%d" % MANY in output

    for i, step in enumerate(STEPS, 1):
        path = os.path.join(out, "%02d-%s.png" % (i, step))
        assert os.path.isfile(path), "no screenshot %s" % path
        width, height = png_size(path)
        assert width > 0 and height > 0 and os.path.getsize(path) > 1000

    # what the receiver got: an ack for every pick (from the wall's buttons),
    # the order's events ending with order_complete, and the flash's nack
    want_acks = {"item:%d" % i["id"] for i in created}
    wait_until(lambda: {b["nonce"] for b in rcv.unique() if b.get("acknack") == "ack"} >= want_acks, 15,
               "an ack for every pick")
    wait_until(lambda: any(b.get("acknack") == "nack" and b["nonce"] == "flash-2s" for b in rcv.unique()), 15,
               "the flash's nack")
    events = [b["order_event"] for b in sorted(rcv.unique(), key=lambda b: b["id"]) if "order_event" in b]
    assert events.count("item_complete") == len(created)
    assert events[-1] == "order_complete"
    acks = [b for b in rcv.unique() if b.get("acknack") == "ack"]
    by_nonce = {b["nonce"]: b for b in acks}
    for item in created:
        assert by_nonce["item:%d" % item["id"]]["qty"] == item["ordered_quantity"]
