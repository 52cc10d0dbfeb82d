"""Contract section 6 (and 2): the browsable API in a real browser.

tests/browser/flow.mjs drives Debian's Chromium (/usr/bin/chromium, or
$CHROMIUM) through playwright-core: log in through the login form, create an
order with the raw-data form, follow its link, delete it, see it gone, CSRF
refusals, logging out. This test gives it a server, a customer and a user,
runs it and checks its screenshots.

Where the screenshots go (one full-page PNG per step, NN-step.png, plus
flow.log, and failure.png / failure.html when a step fails):
  $STOCKROOM_TEST_OUTPUT/browser/<sqlite|postgres>/   when that is set, else
  <the binary's build dir>/test-output/browser/<sqlite|postgres>/
so after `make test`: build/test-output/browser/... for the plain build and
build-asan/test-output/browser/... for the sanitized one. Each run empties its
folder first. Needs node, chromium (scripts/deps.sh) and tests/browser's
node_modules (scripts/npm-install.sh tests/browser, which `make test` runs);
without them the test fails and says so.
"""
import os
import shutil
import struct
import subprocess
import uuid

import pytest

from conftest import BIN, REPO, cli

FLOW_DIR = os.path.join(REPO, "tests", "browser")
FLOW = os.path.join(FLOW_DIR, "flow.mjs")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The steps flow.mjs screenshots, in order.
STEPS = [
    "anonymous-to-login", "login-form", "login-error", "logged-in-list",
    "create-form", "created-201", "order-200", "delete-form", "deleted-204", "gone-404",
    "csrf-missing-403", "csrf-tampered-403",
    "logged-out", "after-logout-login", "old-session-login", "get-logout-login",
]


def require_tools():
    """Fail (never skip) with what to run when a tool is missing."""
    if shutil.which("node") is None:
        pytest.fail("node not found: run scripts/deps.sh (installs Node.js and npm)")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail("%s not found: run scripts/deps.sh (installs Debian's chromium)" % CHROMIUM)
    if not os.path.isfile(os.path.join(FLOW_DIR, "node_modules", "playwright-core", "package.json")):
        pytest.fail("playwright-core is not installed: run scripts/npm-install.sh tests/browser "
                    "(`make test` does)")


def output_dir(database, tmp_path):
    kind = "postgres" if database.startswith(("postgres://", "postgresql://")) else "sqlite"
    root = os.environ.get("STOCKROOM_TEST_OUTPUT") or os.path.join(
        os.path.dirname(os.path.realpath(BIN)), "test-output")
    out = os.path.join(root, "browser", kind)
    try:
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
    except OSError:
        out = str(tmp_path / "browser")   # the binary's folder is not ours to write
        os.makedirs(out, exist_ok=True)
    return out


def png_size(path):
    """(width, height) of a PNG file; fails the test when it is not one."""
    with open(path, "rb") as fh:
        head = fh.read(24)
    assert head[:8] == PNG_SIGNATURE and head[12:16] == b"IHDR", "%s is not a PNG" % path
    return struct.unpack(">II", head[16:24])


def test_browsable_api_in_chromium(server, tmp_path):
    require_tools()
    out = output_dir(server.db, tmp_path)
    print("browser screenshots: %s" % out)

    tag = uuid.uuid4().hex[:10]
    customer, username, password = "browser-" + tag, "clerk-" + tag, "pw " + uuid.uuid4().hex
    cli(server.db, "customer", "create", customer)
    cli(server.db, "user", "create", customer, username, input=password + "\n")

    env = dict(os.environ, STOCKROOM_BROWSER_PASSWORD=password, CHROMIUM=CHROMIUM)
    try:
        run = subprocess.run(
            ["node", FLOW, "--base", server.base, "--user", username, "--out", out],
            cwd=FLOW_DIR, env=env, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired as e:
        pytest.fail("flow.mjs did not finish in %ss; its output:\n%s\n%s; screenshots in %s"
                    % (e.timeout, e.stdout or "", e.stderr or "", out))
    output = "%s%s" % (run.stdout, run.stderr)
    with open(os.path.join(out, "flow.log"), "w") as fh:
        fh.write(output)
    print(output)
    if run.returncode != 0:
        server_log = server.read_log().splitlines()[-40:]
        pytest.fail("flow.mjs failed (exit %d); screenshots in %s:\n%s\nthe server's log ends:\n%s"
                    % (run.returncode, out, output, "\n".join(server_log)))

    for i, step in enumerate(STEPS, 1):
        path = os.path.join(out, "%02d-%s.png" % (i, step))
        assert os.path.isfile(path), "no screenshot %s; flow.mjs said:\n%s" % (path, output)
        width, height = png_size(path)
        assert width > 0 and height > 0, "%s is %dx%d" % (path, width, height)
        assert os.path.getsize(path) > 1000, "%s is almost empty" % path
