"""Black-box fixtures: start the real `stockroom` binary and talk HTTP to it.

Environment:
  STOCKROOM_BIN            the binary (default: build/stockroom under the repo)
  STOCKROOM_TEST_DATABASE  "sqlite" (default: a fresh file per session) or a
                           postgresql:// URL of a database made for this run
Every test gets its own customer (tenants are walls), so tests never see
each other's data even though they share one server and one database.
"""
import os
import socket
import sqlite3
import subprocess
import tempfile
import time

import pytest
import requests

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("STOCKROOM_BIN", os.path.join(REPO, "build", "stockroom"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running `stockroom serve` plus the database it uses.

    tls=(cert_file, key_file) serves HTTPS with them; `base` is then https://
    and `verify` (for requests) the certificate."""

    def __init__(self, db, extra_args=(), tls=None, env=None):
        self.db = db
        self.port = free_port()
        self.base = "%s://127.0.0.1:%d" % ("https" if tls else "http", self.port)
        self.verify = tls[0] if tls else True
        if tls:
            extra_args = (*extra_args, "--tls-cert", tls[0], "--tls-key", tls[1])
        self.log = tempfile.NamedTemporaryFile(prefix="stockroom-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", "127.0.0.1:%d" % self.port, "--db", db, *extra_args],
            stdout=self.log, stderr=self.log, env={**os.environ, **(env or {})})
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("stockroom exited: %s" % self.read_log())
            try:
                if requests.get(self.base + "/healthz", timeout=1,
                                verify=self.verify).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise RuntimeError("stockroom did not come up: %s" % self.read_log())

    def read_log(self):
        with open(self.log.name, errors="replace") as fh:
            return fh.read()

    def stop(self, sig=None):
        if self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
            else:
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def db_exec(database, sql):
    """Run one statement on the server's database behind its back."""
    if database.startswith("postgres"):
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", database, "-c", sql],
                       check=True, capture_output=True, timeout=60)
    else:
        conn = sqlite3.connect(database, timeout=30)
        with conn:
            conn.execute(sql)
        conn.close()


def db_value(database, sql):
    """The first column of the first row of a query, as text."""
    if database.startswith("postgres"):
        res = subprocess.run(["psql", "-At", "-v", "ON_ERROR_STOP=1", database, "-c", sql],
                             check=True, capture_output=True, text=True, timeout=60)
        return res.stdout.strip()
    conn = sqlite3.connect(database, timeout=30)
    (value,) = conn.execute(sql).fetchone()
    conn.close()
    return str(value)


def cli(db, *args, input=None, check=True):
    """Run `stockroom ARGS --db DB`; returns the CompletedProcess."""
    res = subprocess.run([BIN, *args, "--db", db], input=input, capture_output=True,
                         text=True, timeout=60)
    if check and res.returncode != 0:
        raise AssertionError("stockroom %s failed (%d): %s" % (args, res.returncode, res.stderr))
    return res


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    db = os.environ.get("STOCKROOM_TEST_DATABASE", "sqlite")
    if db == "sqlite":
        return str(tmp_path_factory.mktemp("db") / "stockroom.db")
    return db


@pytest.fixture(scope="session")
def server(database):
    srv = Server(database)
    yield srv
    srv.stop()


_counter = [0]


def new_key(db, name=None):
    _counter[0] += 1
    name = name or "customer-%d-%d" % (os.getpid(), _counter[0])
    out = cli(db, "customer", "create", name).stdout.strip().splitlines()
    return out[-1].strip()


class Client:
    """requests with the base URL and a customer's API key filled in; `verify`
    as requests takes it (per request: a session's own loses to REQUESTS_CA_BUNDLE)."""

    def __init__(self, base, key, header="API_KEY", verify=True):
        self.base = base
        self.key = key
        self.verify = verify
        self.session = requests.Session()
        self.session.headers[header] = key

    def url(self, path):
        return path if path.startswith("http") else self.base + path

    def request(self, method, path, **kw):
        return self.session.request(method, self.url(path), timeout=30, verify=self.verify, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        if body is not None:
            kw["json"] = body
        return self.request("POST", path, **kw)

    def put(self, path, body=None, **kw):
        if body is not None:
            kw["json"] = body
        return self.request("PUT", path, **kw)

    def patch(self, path, body=None, **kw):
        if body is not None:
            kw["json"] = body
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def options(self, path, **kw):
        return self.request("OPTIONS", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)


@pytest.fixture
def key(server):
    """A fresh customer's API key."""
    return new_key(server.db)


@pytest.fixture
def api(server, key):
    """A client of a fresh customer."""
    return Client(server.base, key)


@pytest.fixture
def other_api(server):
    """A client of a second, unrelated customer."""
    return Client(server.base, new_key(server.db))
