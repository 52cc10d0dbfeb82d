"""Migrations carry an existing database forward (issue "Years of data").

tests/fixtures/v4-sqlite.db and v4-postgres.sql are databases made by the
server of schema version 4 (tests/fixtures/make_fixture.py, with the binary
of commit a958c79), and the .json next to each holds that server's answers
to a few GETs, and the credentials it handed out. A server of today is
started on a copy, migrates it, and must answer the same, honour the same
credentials, and go on working with what the old one left: its lit picks
are acknowledged, its half-done sequence advances.
"""
import json
import os
import shutil
import subprocess
import uuid

import pytest
import requests

from conftest import REPO, Server

FIXTURES = os.path.join(REPO, "tests", "fixtures")


@pytest.fixture(scope="module")
def old(database, tmp_path_factory):
    """A server on a copy of the version-4 database of this test run's kind."""
    kind = "postgres" if database.startswith("postgres") else "sqlite"
    with open(os.path.join(FIXTURES, "v4-%s.json" % kind)) as f:
        recorded = json.load(f)
    if kind == "sqlite":
        db = str(tmp_path_factory.mktemp("v4") / "v4.db")
        shutil.copy(os.path.join(FIXTURES, "v4-sqlite.db"), db)
    else:
        name = "stockroom_v4_%s" % uuid.uuid4().hex[:10]
        admin = database.rsplit("/", 1)[0] + "/postgres"
        subprocess.run(["psql", "-q", admin, "-c", "CREATE DATABASE %s" % name], check=True,
                       capture_output=True, timeout=60)
        db = database.rsplit("/", 1)[0] + "/" + name
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", db, "-f",
                        os.path.join(FIXTURES, "v4-postgres.sql")], check=True, capture_output=True, timeout=120)
    srv = Server(db)
    yield srv, recorded
    srv.stop()
    if kind == "postgres":
        subprocess.run(["psql", "-q", admin, "-c", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name],
                       capture_output=True, timeout=60)


def get(srv, path, key):
    r = requests.get(srv.base + path, headers={"API_KEY": key}, timeout=30)
    assert r.status_code == 200, (path, r.text)
    return r.json()


def without_later_fields(value):
    """An answer as version 4 gave it: what later versions add to a device
    (V7: `commands`, its live commands — the display alone here — and the
    `unsolicitedNonce` static, "" for every device the old server knew) is
    checked and taken out."""
    if isinstance(value, list):
        return [without_later_fields(v) for v in value]
    if not isinstance(value, dict):
        return value
    value = {k: without_later_fields(v) for k, v in value.items()}
    if "device_id" in value and "commands" in value:
        assert value["commands"] == ([value["display"]] if value["display"] else []), value
        del value["commands"]
        assert value["statics"].pop("unsolicitedNonce") == "", value
    return value


def test_the_migrated_database_answers_as_before(old):
    srv, recorded = old
    for path, answer in recorded["answers"].items():
        got = without_later_fields(get(srv, path, recorded["key"]))
        # urls are absolute: only the port differs
        text = json.dumps(answer).replace("127.0.0.1:", "HOST:")
        got_text = json.dumps(got).replace("127.0.0.1:", "HOST:")
        import re
        strip = lambda t: re.sub(r"HOST:\d+", "HOST", t)
        assert json.loads(strip(got_text)) == json.loads(strip(text)), path


def test_credentials_handed_out_before_still_work(old):
    srv, recorded = old
    for headers in ({"API_KEY": recorded["key"]}, {"API_KEY": recorded["session_apikey"]},
                    {"Authorization": "Bearer " + recorded["access_token"]}):
        assert requests.get(srv.base + "/api/orders/", headers=headers, timeout=30).status_code == 200
    r = requests.post(srv.base + "/api/o/token/", auth=("fixture-client", "fixture-secret"),
                      data={"grant_type": "refresh_token", "refresh_token": recorded["refresh_token"]},
                      timeout=30)
    assert r.status_code == 200, r.text


def test_what_the_old_server_lit_goes_on(old):
    srv, recorded = old
    key = recorded["key"]
    h = {"API_KEY": key}
    # the launched order's pick on FX-2 (by its location alias) is acknowledged as before
    r = requests.post(srv.base + "/api/device/FX-2/ack/", json={}, headers=h, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["display"] is None
    order = get(srv, "/api/orders/FX-100/", key)
    items = {i["SKU"]: i for s in order["shipments"] for i in s["items"]}
    assert items["SKU-2"]["quantity_fulfilled"] == 2
    # the sequence's lit step on FX-3 is acknowledged: its second group lights (location B-01: FX-3)
    shown = get(srv, "/api/device/FX-3/", key)["display"]
    assert shown["line1"] == "first" and shown["nonce"] == "s1"
    r = requests.post(srv.base + "/api/device/FX-3/ack/", json={}, headers=h, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["display"]["line1"] == "second"
    seq = get(srv, "/api/sequence/", key)["results"][0]
    assert seq["status"] == "in-progress"
    # and new writes work
    r = requests.post(srv.base + "/api/orders/", headers=h, timeout=30,
                      json={"order_number": "FX-NEW", "items": [{"SKU": "N", "ordered_quantity": 1}]})
    assert r.status_code == 201, r.text
    assert get(srv, "/api/orders/", key)["count"] == 3
