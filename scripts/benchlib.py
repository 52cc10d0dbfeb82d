"""What the bench scripts share (bench-flows.py, bench-streams.py,
bench-metrics.py): a fresh release server on its own SQLite file (or a
database url) with one customer, and the S1 order seeded through the API."""
import os
import socket
import subprocess
import sys
import time

import requests


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check(r, status, who="bench"):
    """r, or exit with what was answered instead of `status`."""
    if r.status_code != status:
        sys.exit("%s: %s %s answered %d: %s" % (who, r.request.method, r.request.url, r.status_code,
                                                 r.text[:300]))
    return r


class Server:
    """`stockroom serve` on `db` (a file under `work` named `name`.db when db
    is None) with a customer of its own: .proc, .base, .key, .session (with
    the key), .log_path."""

    def __init__(self, binary, work, name="bench", db=None, extra=()):
        db = db or os.path.join(work, name + ".db")
        self.key = subprocess.run([binary, "customer", "create", "bench", "--db", db], check=True,
                                  capture_output=True, text=True).stdout.strip().splitlines()[-1]
        port = free_port()
        self.base = "http://127.0.0.1:%d" % port
        self.log_path = os.path.join(work, name + ".log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:%d" % port, "--db", db, *extra],
                                     stdout=self.log, stderr=self.log)
        self.session = requests.Session()
        self.session.headers["API_KEY"] = self.key
        for _ in range(200):
            try:
                if self.session.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.05)
        sys.exit("bench: the server did not come up (%s)" % self.log_path)

    def seed_order(self, number):
        """S1's order: 1 shipment of 10 items. Its id."""
        items = [{"name": "Widget %d" % i, "description": "bench item", "SKU": "SKU-%d" % i,
                  "UPC": "UPC-%d" % i, "ordered_quantity": 10, "quantity_fulfilled": 0,
                  "warehouse_location": "Aisle 3", "device": None} for i in range(10)]
        r = self.session.post(self.base + "/api/orders/", json={"order_number": number, "shipments": [
            {"shipment_number": number + "-S0", "items": items}]})
        return check(r, 201).json()["id"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.log.close()
