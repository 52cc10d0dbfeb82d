"""GET /metrics (issue "Run it as a service", item 1): Prometheus' text
format, checked by Debian's own promtool, scraped by a real prometheus the
test starts on loopback, and closed to anyone but loopback or the bearer
token the operator set."""
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest
import requests

from conftest import Client, Server, free_port, new_key

TOKEN = "metrics-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def metered(database):
    """A server of its own (a fresh count of everything), trusting
    X-Forwarded-For so a test can come "from" another address, with a
    metrics token."""
    os.environ["STOCKROOM_METRICS_TOKEN"] = TOKEN
    try:
        srv = Server(database, extra_args=("--trust-proxy",))
    finally:
        del os.environ["STOCKROOM_METRICS_TOKEN"]
    yield srv
    srv.stop()


def scrape(srv, headers=None):
    return requests.get(srv.base + "/metrics", headers=headers or {}, timeout=10)


def samples(text):
    """{series: value} of the exposition text."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            out[series] = float(value)
    return out


def test_the_text_is_prometheus_and_promtool_accepts_it(metered):
    api = Client(metered.base, new_key(metered.db))
    for _ in range(3):
        assert api.get("/api/orders/").status_code == 200
    assert api.post("/api/orders/", {"order_number": "M-1", "items": [{"SKU": "S", "ordered_quantity": 1}]}) \
        .status_code == 201
    assert api.get("/api/orders/NOPE/").status_code == 404
    r = scrape(metered)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    check = subprocess.run(["promtool", "check", "metrics"], input=r.text, capture_output=True, text=True,
                           timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    s = samples(r.text)
    assert s['stockroom_http_requests_total{route="/api/orders/",method="GET",status="200"}'] >= 3
    assert s['stockroom_http_requests_total{route="/api/orders/",method="POST",status="201"}'] >= 1
    assert s['stockroom_http_requests_total{route="/api/orders/{order}/",method="GET",status="404"}'] >= 1
    assert s['stockroom_http_request_duration_seconds_count{route="/api/orders/"}'] >= 4
    for family in ("stockroom_http_requests_in_flight", "stockroom_http_connections_open",
                   "stockroom_http_streams_open", "stockroom_http_body_bytes_buffered",
                   'stockroom_queue_depth{pool="writers"}', "stockroom_callbacks_queued",
                   "stockroom_login_throttled_total", "process_resident_memory_bytes",
                   "process_cpu_seconds_total", "process_open_fds", "process_max_fds",
                   'stockroom_callback_deliveries_total{outcome="delivered"}'):
        assert family in s, family
    assert any(k.startswith("stockroom_build_info{version=") for k in s)
    assert s["stockroom_http_requests_in_flight"] >= 1          # this very scrape
    assert s["process_resident_memory_bytes"] > 1e6
    if not metered.db.startswith("postgres"):
        assert s["stockroom_db_write_batch_size_count"] >= 1
        assert s["stockroom_db_fsync_duration_seconds_count"] >= 1


def test_only_loopback_or_the_token(metered):
    away = {"X-Forwarded-For": "203.0.113.9"}
    r = scrape(metered, away)
    assert r.status_code == 404 and r.json() == {"detail": "Not found."}
    assert scrape(metered, dict(away, Authorization="Bearer wrong")).status_code == 404
    assert scrape(metered, dict(away, Authorization="Bearer " + TOKEN + "x")).status_code == 404
    assert scrape(metered, dict(away, Authorization="Bearer " + TOKEN)).status_code == 200
    assert scrape(metered, {"X-Forwarded-For": "127.0.0.1"}).status_code == 200


def test_without_a_token_other_addresses_are_refused(server):
    # the suite's shared server: no token, and --trust-proxy off, so
    # X-Forwarded-For is ignored and the test is loopback
    assert scrape(server).status_code == 200


def test_a_real_prometheus_scrapes_it(metered, tmp_path):
    if not shutil.which("prometheus"):
        pytest.fail("prometheus not found: run scripts/deps.sh")
    api = Client(metered.base, new_key(metered.db))
    tag = uuid.uuid4().hex[:6]
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: stockroom\n    static_configs:\n"
        "      - targets: ['%s']\n" % metered.base.split("//", 1)[1])
    log = tempfile.NamedTemporaryFile(prefix="prometheus-", suffix=".log", delete=False)
    proc = subprocess.Popen(["prometheus", "--config.file", str(config), "--storage.tsdb.path",
                             str(tmp_path / "data"), "--web.listen-address", "127.0.0.1:%d" % port],
                            stdout=log, stderr=log)
    try:
        # a series this test causes: 404s of one route with a method nobody else uses here
        for _ in range(5):
            assert api.delete("/api/orders/PROM-%s/" % tag).status_code == 404
        query = 'stockroom_http_requests_total{route="/api/orders/{order}/",method="DELETE",status="404"}'
        deadline = time.time() + 60
        value = None
        while time.time() < deadline and value is None:
            try:
                r = requests.get("http://127.0.0.1:%d/api/v1/query" % port, params={"query": query}, timeout=5)
                result = r.json()["data"]["result"] if r.status_code == 200 else []
                if result:
                    value = float(result[0]["value"][1])
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        with open(log.name, errors="replace") as fh:
            tail = fh.read()[-3000:]
        assert value is not None, "prometheus never had the series; its log:\n" + tail
        assert value >= 5
        targets = requests.get("http://127.0.0.1:%d/api/v1/targets" % port, timeout=5).json()
        (target,) = targets["data"]["activeTargets"]
        assert target["health"] == "up", target
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        os.unlink(log.name)
