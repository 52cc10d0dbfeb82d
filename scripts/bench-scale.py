#!/usr/bin/python3
"""Usage: scripts/bench-scale.py BINARY [--orders N] [--small N] [--db sqlite,postgres]
                                 [--seconds S] [--connections C] [--wal-minutes M] [--rounds R]

Years of data, measured (issue "Years of data"): a database grows from a
warehouse's first week to years of orders, and the same requests are timed
at both sizes in one run, on SQLite and on PostgreSQL.

For each database kind, two fresh databases (SQLite: temporary files;
PostgreSQL: a throwaway cluster from scripts/pg.sh, or STOCKROOM_BENCH_PG_URL's
server), one customer each, loaded with `stockroom import-orders` (the bulk
path: the API's own validation and create hook, without HTTP, in
transactions of 1,000) with --small orders (default 300) and --orders
(default 1,000,000) of 2 shipments x 5 items; PostgreSQL gets the VACUUM
ANALYZE its autovacuum would run, and the throwaway cluster a quarter of the
machine's memory as shared_buffers (PostgreSQL's advice for a dedicated
server; SQLite reads through a memory map of --sqlite-mmap). Then a release
server on each, both at once, one unmeasured S1 run on each (a server that
has run a while has its caches warm), and wrk (1 thread, --connections,
--seconds per figure) times

  S1      GET /api/orders/{id}/, a random order of all
  S2      GET /api/orders/?page_size=50, the first page
  middle  GET /api/orders/?page_size=50&page=<the middle page>
  filter  GET /api/orders/?order_number=<a random one>

on the small one, then the large one, in turns, --rounds times (default 3),
keeping each figure's median: a shared machine's swings fall on both sizes
alike. Printed: a table per database with both sizes and their ratio, the
database's size and the server's memory after the run (its own, and the
database file's pages it has mapped: page cache).

--wal-minutes M (SQLite): then M minutes of S3 (POST an order) with S1
running beside it, and the WAL file's size every 10 s and at the end.

Figures are wall-clock from one run on this machine: compare them with
each other, not with another machine's.
"""
import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))

LUA = r"""
local mode = os.getenv("SCALE_MODE")
wrk.headers["API_KEY"] = os.getenv("SCALE_KEY")
wrk.headers["Content-Type"] = "application/json"
local first = tonumber(os.getenv("SCALE_FIRST"))
local last = tonumber(os.getenv("SCALE_LAST"))
local numbers = tonumber(os.getenv("SCALE_NUMBERS"))
local middle = os.getenv("SCALE_MIDDLE")
local n = 0
function init(args)
   math.randomseed(os.time() + tonumber(os.getenv("SCALE_SEED")))
end
function request()
   n = n + 1
   if mode == "S1" then
      return wrk.format("GET", "/api/orders/" .. math.random(first, last) .. "/")
   elseif mode == "S2" then
      return wrk.format("GET", "/api/orders/?page_size=50")
   elseif mode == "middle" then
      return wrk.format("GET", "/api/orders/?page_size=50&page=" .. middle)
   elseif mode == "filter" then
      return wrk.format("GET", string.format("/api/orders/?order_number=ORD-%08d", math.random(0, numbers - 1)))
   else -- S3
      local number = string.format("W-%d-%d-%d", os.time(), math.random(1, 1000000000), n)
      local items = '{"SKU": "S", "ordered_quantity": 2, "warehouse_location": "A-1"}'
      local ship = '{"shipment_number": "%s-%d", "items": [' .. items .. ',' .. items .. ',' .. items .. ',' ..
                   items .. ',' .. items .. ']}'
      return wrk.format("POST", "/api/orders/", nil, '{"order_number": "' .. number .. '", "shipments": [' ..
                        string.format(ship, number, 1) .. ',' .. string.format(ship, number, 2) .. ']}')
   end
end
function done(summary, latency, requests)
   io.write(string.format("SCALE requests=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f errors=%d\n",
      summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
      latency:percentile(99) / 1000, summary.errors.status + summary.errors.timeout + summary.errors.connect))
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def say(*a):
    print(*a, file=sys.stderr, flush=True)


def order_line(n):
    number = "ORD-%08d" % n
    return json.dumps({"order_number": number, "shipments": [
        {"shipment_number": "%s-%d" % (number, s), "items": [
            {"SKU": "SKU-%d" % ((n * 7 + i) % 5000), "ordered_quantity": 1 + i, "warehouse_location": "A-%02d-%d" % (i, s),
             "description": "item %d of shipment %d" % (i, s)} for i in range(5)]} for s in (1, 2)]})


def load(binary, db, start, stop):
    """Orders start..stop-1 through `stockroom import-orders`."""
    say("  importing orders %d..%d" % (start, stop - 1))
    t = time.time()
    proc = subprocess.Popen([binary, "import-orders", "scale", "--db", db], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    feeder = threading.Thread(target=lambda: (proc.stdin.writelines(order_line(n) + "\n"
                                                                    for n in range(start, stop)),
                                              proc.stdin.close()))
    feeder.start()
    out = proc.stdout.read()
    feeder.join()
    if proc.wait() != 0:
        raise SystemExit("import-orders failed: %s" % out[-2000:])
    say("  %s (%.0f orders/s)" % (out.strip().splitlines()[-1], (stop - start) / (time.time() - t)))


class Server:
    def __init__(self, binary, db, extra):
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.log = open(os.path.join(tempfile.gettempdir(), "bench-scale-%d.log" % self.port), "w")
        self.proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:%d" % self.port, "--db", db,
                                      *extra], stdout=self.log, stderr=self.log)
        for _ in range(300):
            try:
                if requests.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise SystemExit("the server did not start")

    def rss_mib(self):
        """(the server's own memory, the database file's pages it has mapped)
        in MiB: RssAnon and RssFile of /proc. The mapped pages are the OS's
        page cache, shared and reclaimable, counted once per connection that
        touched them; VmRSS is their sum."""
        got = {}
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                key = line.split(":")[0]
                if key in ("RssAnon", "RssFile"):
                    got[key] = int(line.split()[1]) / 1024.0
        return got.get("RssAnon", 0.0), got.get("RssFile", 0.0)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self.log.close()


def wrk(srv, lua, mode, key, env, seconds, connections):
    env = dict(os.environ, SCALE_MODE=mode, SCALE_KEY=key, SCALE_SEED=str(random.randrange(1 << 30)),
               **{k: str(v) for k, v in env.items()})
    out = subprocess.run(["wrk", "-t1", "-c%d" % connections, "-d%ds" % seconds, "--timeout", "10s",
                          "--latency", "-s", lua, srv.base + "/"], env=env, capture_output=True, text=True,
                         timeout=seconds + 60).stdout
    for line in out.splitlines():
        if line.startswith("SCALE "):
            r = {k: float(v) for k, v in (f.split("=") for f in line.split()[1:])}
            r["rps"] = r["requests"] / r["seconds"]
            return r
    raise SystemExit("wrk printed no result: %s" % out[-1000:])


def db_size(kind, db):
    if kind == "sqlite":
        return sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))
    return int(subprocess.run(["psql", "-At", db, "-c", "SELECT pg_database_size(current_database())"],
                              capture_output=True, text=True, check=True).stdout)


def measure(binary, kind, dbs, keys, totals, lua, args):
    """Both sizes served at once, each figure taken in turns (small, large,
    small, large ... --rounds times each) and the median kept: a shared
    machine's swings fall on both alike."""
    servers = [Server(binary, db, []) for db in dbs]
    try:
        envs = []
        for srv, key, total in zip(servers, keys, totals):
            s = requests.Session()
            s.headers["API_KEY"] = key
            first = s.get(srv.base + "/api/orders/?page_size=1").json()["results"][0]["id"]
            last = s.get(srv.base + "/api/orders/?page_size=1&ordering=-id").json()["results"][0]["id"]
            count = s.get(srv.base + "/api/orders/?page_size=1").json()["count"]
            envs.append({"SCALE_FIRST": first, "SCALE_LAST": last, "SCALE_NUMBERS": total,
                         "SCALE_MIDDLE": max(1, (count + 49) // 50 // 2), "count": count})
        # a server that has run a while: its caches hold what it reads
        # (PostgreSQL's shared buffers start with what the import wrote)
        for side in (0, 1):
            env = {k: v for k, v in envs[side].items() if k != "count"}
            wrk(servers[side], lua, "S1", keys[side], env, args.seconds, args.connections)
        figures = [{}, {}]
        for mode in ("S1", "S2", "middle", "filter"):
            runs = [[], []]
            for _ in range(args.rounds):
                for side in (0, 1):
                    env = {k: v for k, v in envs[side].items() if k != "count"}
                    runs[side].append(wrk(servers[side], lua, mode, keys[side], env, args.seconds,
                                          args.connections))
            for side in (0, 1):
                runs[side].sort(key=lambda r: r["rps"])
                figures[side][mode] = runs[side][len(runs[side]) // 2]
            say("  %-6s %8.1f req/s | %8.1f req/s  (medians of %d, in turns)" % (
                mode, figures[0][mode]["rps"], figures[1][mode]["rps"], args.rounds))
        for side in (0, 1):
            figures[side]["rss"] = servers[side].rss_mib()
            figures[side]["size"] = db_size(kind, dbs[side])
            figures[side]["count"] = envs[side]["count"]
        return figures
    finally:
        for srv in servers:
            srv.stop()


def wal_phase(binary, db, key, lua, minutes, connections):
    """S3 and S1 together for `minutes`; the WAL's size every 10 s."""
    srv = Server(binary, db, [])
    sizes = []
    try:
        s = requests.Session()
        s.headers["API_KEY"] = key
        first = s.get(srv.base + "/api/orders/?page_size=1").json()["results"][0]["id"]
        last = s.get(srv.base + "/api/orders/?page_size=1&ordering=-id").json()["results"][0]["id"]
        env = {"SCALE_FIRST": first, "SCALE_LAST": last, "SCALE_NUMBERS": 1, "SCALE_MIDDLE": 1}
        seconds = int(minutes * 60)
        results = {}
        threads = [threading.Thread(target=lambda m=m: results.__setitem__(
            m, wrk(srv, lua, m, key, env, seconds, connections // 2))) for m in ("S3", "S1")]
        for t in threads:
            t.start()
        end = time.time() + seconds
        while time.time() < end:
            time.sleep(10)
            size = os.path.getsize(db + "-wal") if os.path.exists(db + "-wal") else 0
            sizes.append(size)
            say("  WAL %.1f MiB after %.0f s" % (size / 2 ** 20, seconds - (end - time.time())))
        for t in threads:
            t.join()
        return results, sizes
    finally:
        srv.stop()


def new_database(kind, work, name):
    if kind == "sqlite":
        return os.path.join(work, name + ".db")
    url = os.environ.get("STOCKROOM_BENCH_PG_URL")
    if not url:   # one throwaway cluster for both sizes
        saved = os.path.join(work, "pg.url")
        if not os.path.exists(saved):
            with open(saved, "w") as f:
                f.write(subprocess.run(["bash", os.path.join(HERE, "pg.sh"), "start", os.path.join(work, "pg")],
                                       capture_output=True, text=True, check=True,
                                       env=dict(os.environ, PG_SHARED_BUFFERS=shared_buffers())).stdout.strip())
        with open(saved) as f:
            url = f.read().strip()
    dbname = "bench_scale_%s_%d" % (name, os.getpid())
    subprocess.run(["psql", "-q", url, "-c", "CREATE DATABASE %s" % dbname], check=True, capture_output=True)
    return url.rsplit("/", 1)[0] + "/" + dbname


def shared_buffers():
    """The throwaway cluster's shared_buffers: a quarter of the machine's
    memory, PostgreSQL's own advice for a dedicated server (as SQLite's
    memory map is sized for its file), at most 8 GB."""
    quarter = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4 // 2 ** 20
    return "%dMB" % max(128, min(quarter, 8192))


def run(kind, binary, args, lua, work):
    say("== %s" % kind)
    dbs, keys = [], []
    for name, total in (("small", args.small), ("large", args.orders)):
        db = new_database(kind, work, name)
        keys.append(subprocess.run([binary, "customer", "create", "scale", "--db", db], capture_output=True,
                                   text=True, check=True).stdout.strip().splitlines()[-1])
        load(binary, db, 0, total)
        if kind == "postgres":
            say("  VACUUM ANALYZE")
            subprocess.run(["psql", "-q", db, "-c", "VACUUM ANALYZE"], check=True, capture_output=True)
        dbs.append(db)
    small, large = measure(binary, kind, dbs, keys, (args.small, args.orders), lua, args)
    wal = wal_phase(binary, dbs[1], keys[1], lua, args.wal_minutes, args.connections) \
        if kind == "sqlite" and args.wal_minutes else None
    return small, large, wal


def table(kind, small, large):
    print("\n%s, %s orders against %s (wrk -t1 -c%d, %d s a figure):\n" % (
        kind, "{:,}".format(large["count"]), "{:,}".format(small["count"]), ARGS.connections, ARGS.seconds))
    print("| figure | %s orders | %s orders | ratio |" % ("{:,}".format(small["count"]),
                                                          "{:,}".format(large["count"])))
    print("| --- | ---: | ---: | ---: |")
    names = {"S1": "S1 `GET /api/orders/{id}/`, random over all", "S2": "S2 first page of 50",
             "middle": "the middle page of 50", "filter": "`?order_number=` a random one"}
    for mode, name in names.items():
        a, b = small[mode], large[mode]
        print("| %s | %s req/s (p99 %.1f ms) | %s req/s (p99 %.1f ms) | %.2f |" % (
            name, "{:,.0f}".format(a["rps"]), a["p99_ms"], "{:,.0f}".format(b["rps"]), b["p99_ms"],
            b["rps"] / a["rps"] if a["rps"] else 0))
    print("| database size | %.1f MiB | %.1f MiB | |" % (small["size"] / 2 ** 20, large["size"] / 2 ** 20))
    print("| server memory after the run (RssAnon) | %.0f MiB | %.0f MiB | |" % (small["rss"][0], large["rss"][0]))
    print("| database pages mapped (RssFile: page cache, shared) | %.0f MiB | %.0f MiB | |"
          % (small["rss"][1], large["rss"][1]))
    if kind == "postgres":
        print("\nPostgreSQL: %s." % ("the server of STOCKROOM_BENCH_PG_URL" if os.environ.get("STOCKROOM_BENCH_PG_URL")
                                    else "a throwaway cluster (scripts/pg.sh, fsync off), shared_buffers %s"
                                    % shared_buffers()))


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("--orders", type=int, default=1000000)
    p.add_argument("--small", type=int, default=300)
    p.add_argument("--db", default="sqlite,postgres")
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--wal-minutes", type=float, default=0)
    p.add_argument("--rounds", type=int, default=3)
    ARGS = args = p.parse_args()
    binary = os.path.abspath(args.binary)
    work = tempfile.mkdtemp(prefix="bench-scale.")
    os.chmod(work, 0o755)   # as root, pg.sh runs PostgreSQL as `postgres`, which must reach the cluster in it
    lua = os.path.join(work, "scale.lua")
    with open(lua, "w") as f:
        f.write(LUA)
    started = time.strftime("%Y-%m-%d %H:%M")
    try:
        for kind in args.db.split(","):
            small, large, wal = run(kind, binary, args, lua, work)
            table(kind, small, large)
            if wal:
                results, sizes = wal
                print("\n%s: %.1f minutes of S3 (%s req/s) with S1 beside it (%s req/s): the WAL at most "
                      "%.1f MiB, %.1f MiB at the end" % (
                          kind, args.wal_minutes, "{:,.0f}".format(results["S3"]["rps"]),
                          "{:,.0f}".format(results["S1"]["rps"]), max(sizes) / 2 ** 20, sizes[-1] / 2 ** 20))
        print("\nCommand: `%s`; %s; %d cores." % (" ".join([sys.executable] + sys.argv), started,
                                                  os.cpu_count()))
    finally:
        pgdir = os.path.join(work, "pg")
        if os.path.isdir(pgdir):
            subprocess.run(["bash", os.path.join(HERE, "pg.sh"), "stop", pgdir], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
