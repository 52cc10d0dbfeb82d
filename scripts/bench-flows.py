#!/usr/bin/python3
"""Usage: scripts/bench-flows.py BINARY [ROUNDS]

Two client workflows `make bench` measures beside the shared scenarios,
against a fresh server on a temporary SQLite file (release build):

  upload  the Datawiz upload client's unit of work: one POST of a 2,000-document
          chunk of supplier refunds, 3 lines each (6,000 lines), as a new
          upload (all created) and as a re-upload (all replaced); the median of
          ROUNDS (default 5) of each, in milliseconds.
  picks   Big Block's: launch an order of 10 items on 10 devices, acknowledge
          every pick (POST /api/device/{id}/ack/), ROUNDS times over; picks
          per second over the whole run, one client, sequential (what one
          picker's scanner does).

Wall-clock times, from the client, on loopback: figures from one run compare
with each other, not with another machine's.
"""
import json
import os
import shutil
import statistics
import sys
import tempfile
import time


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402


def main():
    binary = os.path.abspath(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    work = tempfile.mkdtemp(prefix="stockroom-bench-flows.")
    server = benchlib.Server(binary, work)
    s, base = server.session, server.base
    try:
        upload(s, base, rounds)
        picks(s, base, rounds)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def check(r, status):
    return benchlib.check(r, status, "bench-flows")


def upload(s, base, rounds):
    check(s.post(base + "/api/v1/shops/", json=[{"shop_id": "S%d" % i, "name": "Shop"} for i in range(5)]), 201)
    check(s.post(base + "/api/v1/suppliers/", json=[{"supplier_id": "P%d" % i, "name": "Sup"} for i in range(5)]),
          201)
    check(s.post(base + "/api/v1/products/", json=[{"product_id": str(i), "name": "Prod"} for i in range(100)]),
          201)

    def chunk(tag):
        return [{"document_id": "%s-%04d" % (tag, i), "shop_id": "S%d" % (i % 5), "supplier_id": "P%d" % (i % 5),
                 "date": "2017-01-%02dT10:00:00" % (1 + i % 28), "responsible": "clerk", "description": None,
                 "products": [{"product_id": str((i + k) % 100), "receive_document_id": "rd-%d" % i,
                               "qty": "1.5", "price": "10.25", "total_price": "15.375"} for k in range(3)]}
                for i in range(2000)]

    created, replaced = [], []
    for n in range(rounds):
        body = json.dumps(chunk("r%d" % n))
        for times, expect in ((created, {"created": 2000, "updated": 0}), (replaced, {"created": 0, "updated": 2000})):
            t = time.perf_counter()
            r = check(s.post(base + "/api/v1/supplier-refunds/", data=body,
                             headers={"Content-Type": "application/json"}), 201)
            times.append((time.perf_counter() - t) * 1000)
            if r.json() != expect:
                sys.exit("bench-flows: upload answered %s" % r.text)
    print("flows: upload 2,000 refunds x 3 lines: new %.0f ms, re-upload %.0f ms (median of %d)"
          % (statistics.median(created), statistics.median(replaced), rounds))


def picks(s, base, rounds):
    for i in range(10):
        check(s.post(base + "/api/device/", json={"device_id": "PK-%d" % i, "location": "L-%d" % i}), 201)
    total, t = 0, time.perf_counter()
    for n in range(rounds * 10):
        number = "PICK-%d" % n
        items = [{"SKU": "SKU-%d" % i, "ordered_quantity": 2, "device": "PK-%d" % i} for i in range(10)]
        check(s.post(base + "/api/orders/", json={"order_number": number, "items": items}), 201)
        check(s.post(base + "/api/orders/%s/launch/" % number), 200)
        for i in range(10):
            check(s.post(base + "/api/device/PK-%d/ack/" % i), 200)
            total += 1
        if check(s.get(base + "/api/orders/%s/" % number), 200).json()["status"] != "complete":
            sys.exit("bench-flows: order %s not complete after its acknowledgements" % number)
    elapsed = time.perf_counter() - t
    print("flows: picks: %d orders of 10 items launched and acknowledged: %.0f picks/s "
          "(order create + launch + 10 acks + read, sequential)" % (rounds * 10, total / elapsed))


if __name__ == "__main__":
    main()
