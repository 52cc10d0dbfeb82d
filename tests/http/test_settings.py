"""Settings from the environment (how the systemd unit and /etc/default/stockroom
configure the server): every `serve` flag has a STOCKROOM_* variable, a flag
wins over its variable, and a bad value in a variable stops `serve` with exit
status 2 and a message naming the variable. Also the readiness protocol the
unit's Type=notify relies on (NOTIFY_SOCKET, as systemd sets it).
"""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import pytest
import requests

from conftest import BIN, Client, Server, free_port, new_key

LIST = "/api/orders/"


def clean_env(**settings):
    """The test's environment without any STOCKROOM_* variable, plus SETTINGS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKROOM_")}
    env.update(settings)
    return env


class EnvServer(Server):
    """`stockroom serve ARGS` configured by ENV alone (no --listen or --db unless
    ARGS has them); `port` is where it should answer."""

    def __init__(self, env, port, args=()):
        self.db = env.get("STOCKROOM_DB")
        self.port = port
        self.base = "http://127.0.0.1:%d" % port
        self.verify = True
        self.log = tempfile.NamedTemporaryFile(prefix="stockroom-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([BIN, "serve", *args], env=env, stdout=self.log, stderr=self.log)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("stockroom exited: %s" % self.read_log())
            try:
                if requests.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("stockroom did not come up on port %d: %s" % (port, self.read_log()))


def post_body(client, size, headers=None):
    """POST /api/orders/ a valid order of SIZE bytes (padded with white space)."""
    data = json.dumps({"order_number": "o-%s" % uuid.uuid4().hex[:12]}).encode()
    assert len(data) <= size
    data = b"{" + b" " * (size - len(data)) + data[1:]
    return client.post(LIST, data=data, headers={"Content-Type": "application/json", **(headers or {})})


def test_every_setting_from_the_environment(database):
    port = free_port()
    srv = EnvServer(clean_env(STOCKROOM_LISTEN="127.0.0.1:%d" % port, STOCKROOM_DB=database,
                              STOCKROOM_MAX_BODY="2k", STOCKROOM_TRUST_PROXY="1"), port)
    try:
        assert "serving on http://127.0.0.1:%d " % port in srv.read_log()
        # STOCKROOM_DB: a customer made on that database is known to the server
        client = Client(srv.base, new_key(database))
        assert client.get(LIST).status_code == 200
        # STOCKROOM_MAX_BODY=2k: 1 KiB is fine, 3 KiB is too large
        r = post_body(client, 1024)
        assert r.status_code == 201, r.text
        r = post_body(client, 3 * 1024)
        assert r.status_code == 413, r.text
        assert r.json() == {"detail": "Request body too large."}
        # STOCKROOM_TRUST_PROXY=1: absolute urls follow X-Forwarded-Proto/-Host
        r = post_body(client, 512, {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example.test"})
        assert r.status_code == 201, r.text
        assert r.headers["Location"] == "https://shop.example.test/api/orders/%d/" % r.json()["id"]
    finally:
        assert srv.stop() == 0, srv.read_log()


def test_a_flag_wins_over_its_variable(database):
    env_port, flag_port = free_port(), free_port()
    while flag_port == env_port:
        flag_port = free_port()
    srv = EnvServer(clean_env(STOCKROOM_LISTEN="127.0.0.1:%d" % env_port, STOCKROOM_DB=database,
                              STOCKROOM_MAX_BODY="2k"),
                    flag_port, args=("--max-body", "64k", "--listen", "127.0.0.1:%d" % flag_port))
    try:
        client = Client(srv.base, new_key(database))
        r = post_body(client, 3 * 1024)
        assert r.status_code == 201, r.text
        with pytest.raises(requests.ConnectionError):
            requests.get("http://127.0.0.1:%d/healthz" % env_port, timeout=2)
    finally:
        assert srv.stop() == 0, srv.read_log()


@pytest.mark.parametrize("name,value", [
    ("STOCKROOM_MAX_BODY", "lots"),
    ("STOCKROOM_MAX_BODY", "10"),            # below the least, 1024
    ("STOCKROOM_LISTEN", "nowhere"),
    ("STOCKROOM_THREADS", "0"),
    ("STOCKROOM_MAX_CONNECTIONS", "-5"),
    ("STOCKROOM_TRUST_PROXY", "maybe"),
    ("STOCKROOM_KEEP_EXPIRED", "forever"),
    ("STOCKROOM_HEADER_TIMEOUT", "10s"),
])
def test_a_bad_variable_is_exit_status_2_naming_it(tmp_path, name, value):
    db = str(tmp_path / "never.db")
    settings = {"STOCKROOM_LISTEN": "127.0.0.1:%d" % free_port(), "STOCKROOM_DB": db}
    settings[name] = value
    env = clean_env(**settings)
    try:
        res = subprocess.run([BIN, "serve"], env=env, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("serve started with %s=%s" % (name, value))
    assert res.returncode == 2, res.stderr
    assert name in res.stderr, res.stderr
    assert not os.path.exists(db)   # refused before opening anything


def test_readiness_and_stopping_reach_notify_socket(database):
    """Type=notify: READY=1 once it listens, STOPPING=1 at SIGTERM, then exit 0."""
    address = "\0stockroom-test-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])   # abstract
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(20)
    port = free_port()
    srv = None
    try:
        srv = EnvServer(clean_env(STOCKROOM_LISTEN="127.0.0.1:%d" % port, STOCKROOM_DB=database,
                                  NOTIFY_SOCKET="@" + address[1:]), port)
        assert sock.recv(4096).decode().split("\n") == ["READY=1", "STATUS=serving"]
        srv.proc.send_signal(signal.SIGTERM)
        assert sock.recv(4096).decode() == "STOPPING=1"
        assert srv.proc.wait(timeout=30) == 0, srv.read_log()
    finally:
        if srv:
            srv.stop()
        sock.close()


def test_without_notify_socket_nothing_changes(database):
    """No NOTIFY_SOCKET (not under systemd): serve and stop as ever."""
    port = free_port()
    srv = EnvServer(clean_env(STOCKROOM_LISTEN="127.0.0.1:%d" % port, STOCKROOM_DB=database), port)
    assert requests.get(srv.base + "/healthz", timeout=5).status_code == 200
    assert srv.stop() == 0, srv.read_log()
