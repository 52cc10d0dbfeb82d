#!/bin/bash
# Usage: scripts/deps.sh
# Makes sure every Debian package Stockroom needs to build, test and bench is
# installed. Idempotent: when all of them are there it returns at once without
# touching apt. Otherwise, as root, it runs `apt-get update` and installs the
# missing ones; as another user it prints the command to run and exits 1.
# The package list below is the only one in the project.
set -euo pipefail

PACKAGES=(
    # compiler, build system
    build-essential cmake pkg-config
    # the libFuzzer build (make fuzz, and make test runs it briefly): clang,
    # its runtimes (libclang_rt.fuzzer, asan, ubsan: not pulled in by clang
    # without recommends) and llvm-symbolizer for readable sanitizer stacks
    clang libclang-rt-14-dev llvm
    # libraries the server links
    libmicrohttpd-dev libgnutls28-dev libjson-c-dev libsqlite3-dev libpq-dev libsodium-dev libxml2-dev
    # callback deliveries (contract §8)
    libcurl4-gnutls-dev
    # readiness for systemd (sd_notify, Type=notify)
    libsystemd-dev
    # packaging (make deb, tests/packaging): CPack's shlibdeps uses file and
    # dpkg-shlibdeps; the package test runs lintian, man/groff on the man page
    # and systemd-analyze verify on the unit
    file dpkg-dev lintian man-db groff-base systemd
    # unit tests (cmocka) and the black-box suite (pytest + requests)
    libcmocka-dev python3 python3-pytest python3-requests
    # the Datawiz upload client's OAuth2 library, for its black-box test
    python3-requests-oauthlib
    # PostgreSQL: initdb/pg_ctl for the throwaway test cluster, psql
    postgresql postgresql-client
    # tools the tests and the benchmark drive the server with
    curl wrk nginx-light openssl
    # make bench: what counting for /metrics costs, in instructions (callgrind)
    valgrind
    # the browser the Playwright test drives (contract §6: "in a real browser")
    chromium
    # GET /metrics checked by the real thing: promtool check metrics, and a
    # prometheus that scrapes a test server (tests/http/test_metrics.py)
    prometheus
)
# Node.js and npm fetch and run the front-end tools (playwright-core, the
# OpenAPI validator, the API docs page). A machine may already have them from
# elsewhere (NodeSource's nodejs bundles npm); only when a command is missing
# do we ask Debian for its packages.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing() {
    local installed
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null |
                awk '$2 == "installed" { print $1 }' || true)
    for p in "${PACKAGES[@]}"; do
        grep -qxF "$p" <<<"$installed" || echo "$p"
    done
}

mapfile -t MISSING < <(missing)
[ ${#MISSING[@]} -eq 0 ] && exit 0

echo "deps: missing packages: ${MISSING[*]}" >&2
if [ "$(id -u)" != 0 ]; then
    echo "deps: run as root:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${MISSING[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -q -o DPkg::Lock::Timeout=600)
"${APT[@]}" update
if ! "${APT[@]}" install -y --no-install-recommends "${MISSING[@]}"; then
    # The postgresql package creates and starts a default cluster. We never use
    # it; if starting it is what failed (no init system, say), finish the
    # configuration with service starts disabled for the moment.
    echo "deps: install failed; retrying with service starts disabled" >&2
    added_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        added_policy=1
    fi
    rc=0
    dpkg --configure -a && "${APT[@]}" install -y --no-install-recommends "${MISSING[@]}" || rc=$?
    [ -n "$added_policy" ] && rm -f /usr/sbin/policy-rc.d
    [ "$rc" = 0 ] || exit "$rc"
fi

mapfile -t MISSING < <(missing)
if [ ${#MISSING[@]} -ne 0 ]; then
    echo "deps: still missing after apt-get install: ${MISSING[*]}" >&2
    exit 1
fi
echo "deps: all packages installed" >&2
