"""Old rows go, and a live database can be backed up (issue "Years of data").

The janitor removes delivered callbacks older than --keep-delivered and
sessions and OAuth tokens past their expiry by more than --keep-expired,
in batches, leaving everything younger alone; it runs when the server
starts and every 30 s after. `stockroom backup` copies a live SQLite
database while a server keeps writing to it: a server started on the copy
has every order acknowledged before the backup began.
"""
import os
import subprocess
import threading
import time
import uuid

import pytest
import requests

from conftest import BIN, Client, Server, cli, db_exec, db_value, new_key

DAY_US = 86400 * 1000000


def now_us():
    return int(time.time() * 1000000)


def test_janitor_removes_old_rows_in_batches_and_keeps_young_ones(database):
    key = new_key(database)
    cid = db_value(database, "SELECT max(id) FROM customers")
    tag = uuid.uuid4().hex[:8]
    old, young = now_us() - 10 * DAY_US, now_us() - 3600 * 1000000
    # 1,200 delivered long ago (more than two batches), 3 delivered an hour ago, 2 not delivered
    db_exec(database,
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) "
            "INSERT INTO callbacks (customer_id, url, payload, attempts, next_attempt, created, delivered) "
            "SELECT %s, 'http://x/%s-old', '{}', 1, %d, %d, %d FROM n" % (cid, tag, old, old, old))
    db_exec(database,
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) "
            "INSERT INTO callbacks (customer_id, url, payload, attempts, next_attempt, created, delivered) "
            "SELECT %s, 'http://x/%s-young', '{}', 1, %d, %d, %d FROM n" % (cid, tag, young, young, young))
    db_exec(database,
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2) "
            "INSERT INTO callbacks (customer_id, url, payload, attempts, next_attempt, created) "
            "SELECT %s, 'http://x/%s-queued', '{}', 0, %d, %d FROM n" % (cid, tag, now_us() + DAY_US, old))
    # a user with a session and a token pair that expired long ago, and live ones
    user = "ret-%s" % tag
    customer = db_value(database, "SELECT name FROM customers WHERE id = %s" % cid)
    cli(database, "user", "create", customer, user, input="pw-pw-pw\n")
    uid = db_value(database, "SELECT id FROM users WHERE username = '%s'" % user)
    for i, expires in enumerate((old, now_us() + DAY_US)):
        db_exec(database, "INSERT INTO sessions (customer_id, user_id, session_hash, apikey_hash, csrf_token, "
                          "expires, created) VALUES (%s, %s, 's-%s-%d', 'k-%s-%d', 'c', %d, %d)"
                % (cid, uid, tag, i, tag, i, expires, old))
    srv = Server(database, extra_args=("--keep-delivered", "1d", "--keep-expired", "1h"))
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            left = int(db_value(database, "SELECT count(*) FROM callbacks WHERE url = 'http://x/%s-old'" % tag))
            if left == 0:
                break
            time.sleep(0.2)
        assert left == 0, "%d old delivered callbacks left" % left
        assert db_value(database, "SELECT count(*) FROM callbacks WHERE url = 'http://x/%s-young'" % tag) == "3"
        assert db_value(database, "SELECT count(*) FROM callbacks WHERE url = 'http://x/%s-queued'" % tag) == "2"
        assert db_value(database, "SELECT count(*) FROM sessions WHERE session_hash LIKE 's-%s-%%'" % tag) == "1"
        log = srv.read_log()
        assert "janitor: removed" in log
        # every live thing still works
        assert requests.get(srv.base + "/api/orders/", headers={"API_KEY": key}, timeout=30).status_code == 200
    finally:
        srv.stop()


def test_retention_flags_are_checked():
    for flag, value in (("--keep-delivered", "soon"), ("--keep-expired", "-1d"), ("--keep-expired", "7w")):
        res = subprocess.run([BIN, "serve", flag, value], capture_output=True, text=True, timeout=30)
        assert res.returncode == 2 and "duration" in res.stderr, (flag, value, res.stderr)


def test_backup_of_a_live_database_has_every_order_acknowledged_before_it(database, tmp_path):
    if database.startswith("postgres"):
        res = cli(database, "backup", str(tmp_path / "x.db"), check=False)
        assert res.returncode == 1 and "pg_dump" in res.stderr
        return
    db = str(tmp_path / "live.db")
    key = cli(db, "customer", "create", "live").stdout.strip().splitlines()[-1]
    srv = Server(db)
    acknowledged, lock, stop = [], threading.Lock(), threading.Event()

    def writer(n):
        api = Client(srv.base, key)
        i = 0
        while not stop.is_set():
            number = "B-%d-%d" % (n, i)
            i += 1
            r = api.post("/api/orders/", {"order_number": number, "items": [{"SKU": "S", "ordered_quantity": 1}]})
            assert r.status_code == 201, r.text
            with lock:
                acknowledged.append((time.time(), number))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        copy = str(tmp_path / "copy.db")
        with lock:
            before = [number for _, number in acknowledged]
        res = cli(db, "backup", copy)
        assert "backed up" in res.stdout
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join()
        srv.stop()
    assert len(before) > 50, "the writers made too few orders for the test to mean something"
    # the copy is whole, and a server started on it has them all
    assert db_value(copy, "PRAGMA integrity_check") == "ok"
    restored = Server(copy)
    try:
        api = Client(restored.base, key)
        missing = [n for n in before if api.get("/api/orders/%s/" % n).status_code != 200]
        assert not missing, "%d of %d acknowledged orders missing from the backup" % (len(missing), len(before))
        listed = api.get("/api/orders/?page_size=1").json()["count"]
        counted = int(db_value(copy, "SELECT count(*) FROM orders"))
        assert listed == counted >= len(before)
        # a backup is a database like any other: it takes writes
        assert api.post("/api/orders/", {"order_number": "after", "items": []}).status_code == 201
    finally:
        restored.stop()
    res = cli(db, "backup", copy, check=False)
    assert res.returncode == 1 and "exists" in res.stderr
