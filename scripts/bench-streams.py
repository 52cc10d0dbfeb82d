#!/usr/bin/python3
"""Usage: scripts/bench-streams.py BINARY [SECONDS] [CONNECTIONS] [STREAMS] [DATABASE_URL]

S1 (GET one order of 10 items) with event streams open beside it, for
`make bench`: one fresh release server on a temporary SQLite file (or on
DATABASE_URL, an empty PostgreSQL database made for the run), one order
seeded through the API (1 shipment x 10 items, as S1's), then wrk (1 thread,
CONNECTIONS connections, default 32, SECONDS each, default 5) against it
  1. alone,
  2. with STREAMS (default 1000) open GET /api/events/ streams, idle (their
     heartbeats only),
  3. with the same streams live: a device of the customer is lit 10 times a
     second, so every stream gets 10 events a second (10,000 frames/s in all),
     read by this script as they come;
then the fan-out: one write, and the time until every stream has its event
(median of 20); then, the streams closed, S1 alone once more (the machine is
shared: the ratios are to the mean of the two runs alone). Prints, last:
  streams: S1 alone req/s=... with N idle streams req/s=... (x0.xx) live req/s=... (x0.xx) fan-out p50 ...ms
Fails when any answer is outside 2xx or a stream misses an event.
Wall-clock figures on a shared 2-core machine: compare within one run.
"""
import os
import resource
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402


def check(r, status):
    return benchlib.check(r, status, "bench-streams")


def wrk(base, key, order_id, seconds, connections, label):
    out = subprocess.run(["wrk", "-t1", "-c%d" % connections, "-d%ds" % seconds, "--timeout", "10s", "--latency",
                          "-H", "API_KEY: " + key, "%s/api/orders/%d/" % (base, order_id)],
                         capture_output=True, text=True, check=True).stdout
    rate = p50 = p99 = None
    for line in out.splitlines():
        words = line.split()
        if line.startswith("Requests/sec:"):
            rate = float(words[1])
        elif words[:1] == ["50%"]:
            p50 = words[1]
        elif words[:1] == ["99%"]:
            p99 = words[1]
        elif "Non-2xx" in line:
            sys.exit("bench-streams: %s: %s" % (label, line.strip()))
    if rate is None:
        sys.exit("bench-streams: no figure from wrk: " + out)
    print("S1 %s req/s=%.0f p50=%s p99=%s" % (label, rate, p50, p99), file=sys.stderr)
    return rate


class Streams:
    """N raw GET /api/events/ streams, and a thread that reads them all."""

    def __init__(self, base, key, n):
        host, port = base.split("//")[1].split(":")
        self.socks = []
        for _ in range(n):
            s = socket.create_connection((host, int(port)), timeout=10)
            s.sendall(("GET /api/events/ HTTP/1.1\r\nHost: bench\r\nAPI_KEY: %s\r\n\r\n" % key).encode())
            self.socks.append(s)
        for s in self.socks:   # the head and the first block
            got = b""
            while b"retry: 3000" not in got:
                more = s.recv(4096)
                if not more:
                    sys.exit("bench-streams: a stream was refused: %r" % got[:200])
                got += more
            if not got.startswith(b"HTTP/1.1 200"):
                sys.exit("bench-streams: a stream was refused: %r" % got[:200])
            s.setblocking(False)
        self.lock = threading.Lock()
        self.seen = {s.fileno(): 0 for s in self.socks}   # "event: device" lines each has had
        self.stop = False
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        by_fd = {s.fileno(): s for s in self.socks}
        poller = select.epoll()
        for fd in by_fd:
            poller.register(fd, select.EPOLLIN)
        while not self.stop:
            for fd, _ in poller.poll(0.2):
                try:
                    data = by_fd[fd].recv(1 << 16)
                except BlockingIOError:
                    continue
                n = data.count(b"event: device")
                if n:
                    with self.lock:
                        self.seen[fd] += n
        poller.close()

    def least(self):
        with self.lock:
            return min(self.seen.values())

    def close(self):
        self.stop = True
        self.thread.join()
        for s in self.socks:
            s.close()


def main():
    binary = os.path.abspath(sys.argv[1])
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    connections = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    nstreams = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    if not shutil.which("wrk"):
        sys.exit("bench-streams: wrk is missing (scripts/deps.sh)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, nstreams + 512)), hard))
    work = tempfile.mkdtemp(prefix="stockroom-bench-streams.")
    server = benchlib.Server(binary, work, db=sys.argv[5] if len(sys.argv) > 5 else None)
    base, key, s = server.base, server.key, server.session
    streams = None
    try:
        order = {"id": server.seed_order("streams-1")}
        check(s.post(base + "/api/device/", json={"device_id": "BE:NCH", "location": "Aisle 3"}), 201)

        print("== stockroom S1 beside event streams (%d s, %d connections each)" % (seconds, connections),
              file=sys.stderr)
        alone = wrk(base, key, order["id"], seconds, connections, "alone")
        streams = Streams(base, key, nstreams)
        idle = wrk(base, key, order["id"], seconds, connections, "with %d idle streams" % nstreams)

        stop = threading.Event()

        def light():
            n = 0
            while not stop.is_set():
                check(s.post(base + "/api/device/BE:NCH/", json={"command": "pick", "line1": "n%d" % n}), 200)
                n += 1
                stop.wait(0.1)

        writer = threading.Thread(target=light, daemon=True)
        writer.start()
        live = wrk(base, key, order["id"], seconds, connections, "with %d live streams (10 events/s)" % nstreams)
        stop.set()
        writer.join()

        writes = requests.Session()
        writes.headers["API_KEY"] = key
        fanout = []
        for i in range(20):
            time.sleep(0.2)
            want = streams.least() + 1
            t0 = time.monotonic()
            check(writes.post(base + "/api/device/BE:NCH/", json={"command": "pick", "line1": "f%d" % i}), 200)
            while streams.least() < want:
                if time.monotonic() - t0 > 20:
                    sys.exit("bench-streams: a stream missed an event")
                time.sleep(0.001)
            fanout.append((time.monotonic() - t0) * 1000)
        p50 = statistics.median(fanout)
        print("fan-out: one event to %d streams in %.0f ms (median of 20, max %.0f ms)"
              % (nstreams, p50, max(fanout)), file=sys.stderr)
        streams.close()
        streams = None
        time.sleep(1)   # the server finds them gone
        alone = (alone + wrk(base, key, order["id"], seconds, connections, "alone again")) / 2
        print("streams: S1 alone req/s=%.0f with %d idle streams req/s=%.0f (x%.2f) live req/s=%.0f (x%.2f) "
              "fan-out p50 %.0fms" % (alone, nstreams, idle, idle / alone, live, live / alone, p50))
    finally:
        if streams:
            streams.close()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
