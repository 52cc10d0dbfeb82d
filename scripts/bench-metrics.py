#!/usr/bin/python3
"""Usage: scripts/bench-metrics.py BINARY [SECONDS] [CONNECTIONS] [ROUNDS]

What counting for GET /metrics costs S1 (GET one order of 10 items), for
`make bench`: two fresh release servers on temporary SQLite files, one
counting (the default) and one with --metrics-off, one order seeded in each
through the API, then wrk (1 thread, CONNECTIONS connections, default 32,
SECONDS each, default 5) against one, then the other, ROUNDS times (default
5) in turn, so both see the same machine. A scrape of /metrics every second
runs beside the counting server's figures, as Prometheus would. Besides
requests per second, each server's CPU time per request is read from
/proc (user + system over the run / requests answered): throughput on a
shared 2-core machine swings with whatever else runs, CPU per request much
less. Then, when valgrind is installed, the figure that does not move with
the machine's load at all: instructions per S1 request of each server,
counted by callgrind (each server run under it twice, answering about 300
and 1,300 requests; the difference over the difference). Prints, last:
  metrics: S1 counted req/s=... cpu=...us/req, not counted req/s=... cpu=...us/req, cost N.N% (cpu)
  metrics: S1 instructions/request counted ... not counted ... cost N.NN%
(medians over the rounds). Compare within one run.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from importlib import import_module  # noqa: E402

import benchlib  # noqa: E402

streams = import_module("bench-streams")


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open("/proc/%d/stat" % pid) as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def answered(log_path, path):
    with open(log_path, errors="replace") as fh:
        return sum(1 for line in fh if (" %s 200 " % path) in line)


def instructions(binary, work, name, extra, key, order_id, count):
    """Instructions of a server run under callgrind that answered about
    `count` S1 requests: (requests answered, instructions)."""
    db = os.path.join(work, name + ".db")
    out = os.path.join(work, "callgrind.%s.%d" % (name, count))
    log_path = os.path.join(work, "valgrind.%s.log" % name)
    port = benchlib.free_port()
    base = "http://127.0.0.1:%d" % port
    with open(log_path, "w") as log:
        proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, binary, "serve",
                                 "--listen", "127.0.0.1:%d" % port, "--db", db, *extra], stdout=log, stderr=log)
    path = "/api/orders/%d/" % order_id
    for _ in range(300):
        try:
            if requests.get(base + "/healthz", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.2)
    load = subprocess.Popen(["wrk", "-t1", "-c4", "-d600s", "-H", "API_KEY: " + key, base + path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while answered(log_path, path) < count:
        time.sleep(0.5)
    load.terminate()
    load.wait()
    time.sleep(0.5)
    got = answered(log_path, path)
    proc.terminate()
    proc.wait(timeout=120)
    with open(out) as fh:
        total = next(int(line.split()[1]) for line in fh if line.startswith(("summary:", "totals:")))
    return got, total


def main():
    binary = os.path.abspath(sys.argv[1])
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    connections = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    if not shutil.which("wrk"):
        sys.exit("bench-metrics: wrk is missing (scripts/deps.sh)")
    work = tempfile.mkdtemp(prefix="stockroom-bench-metrics.")
    servers = [benchlib.Server(binary, work, "counted"),
               benchlib.Server(binary, work, "uncounted", extra=["--metrics-off"])]
    on, off = [(sv.proc, sv.base, sv.key, sv.seed_order("metrics-1")) for sv in servers]
    stop = threading.Event()

    def scrape():
        while not stop.is_set():
            r = requests.get(on[1] + "/metrics", timeout=5)
            if r.status_code != 200:
                sys.exit("bench-metrics: /metrics answered %d" % r.status_code)
            stop.wait(1)

    scraper = threading.Thread(target=scrape, daemon=True)
    scraper.start()
    try:
        print("== stockroom S1 counted for /metrics and not (%d s, %d connections, %d rounds)"
              % (seconds, connections, rounds), file=sys.stderr)
        figures = {id(on): ([], []), id(off): ([], [])}
        for i in range(rounds):
            for server, label in ((on, "counted"), (off, "not counted")):
                before = cpu_seconds(server[0].pid)
                rate = streams.wrk(server[1], server[2], server[3], seconds, connections, label)
                used = cpu_seconds(server[0].pid) - before
                figures[id(server)][0].append(rate)
                figures[id(server)][1].append(used / (rate * seconds) * 1e6)
        (ra, ca), (rb, cb) = [(statistics.median(f[0]), statistics.median(f[1])) for f in
                              (figures[id(on)], figures[id(off)])]
        cpu_line = ("metrics: S1 counted req/s=%.0f cpu=%.1fus/req, not counted req/s=%.0f cpu=%.1fus/req, "
                    "cost %.1f%% (cpu)" % (ra, ca, rb, cb, (ca - cb) / cb * 100))
        stop.set()
        for sv in servers:
            sv.stop()
        ir_line = "metrics: instructions per request not counted (valgrind is missing)"
        if shutil.which("valgrind"):
            per = []
            for name, extra, server in (("counted", [], on), ("uncounted", ["--metrics-off"], off)):
                n1, i1 = instructions(binary, work, name, extra, server[2], server[3], 300)
                n2, i2 = instructions(binary, work, name, extra, server[2], server[3], 1300)
                per.append((i2 - i1) / (n2 - n1))
            ir_line = ("metrics: S1 instructions/request counted %.0f not counted %.0f cost %.2f%%"
                       % (per[0], per[1], (per[0] - per[1]) / per[1] * 100))
        print(cpu_line)
        print(ir_line)
    finally:
        stop.set()
        for sv in servers:
            sv.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
