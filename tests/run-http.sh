#!/bin/bash
# Usage: run-http.sh sqlite|postgres BINARY [pytest args...] [test_file.py ...]
# Runs the black-box suite against BINARY. For postgres, STOCKROOM_TEST_PG_URL
# must name a server where a fresh database can be created (scripts/pg.sh
# start prints one); without it the run is skipped (exit 77) so a plain
# `ctest` on a machine with no PostgreSQL still runs the rest.
set -euo pipefail
DB=${1:?usage: run-http.sh sqlite|postgres BINARY}
BIN=$(readlink -f "${2:?usage: run-http.sh sqlite|postgres BINARY}")
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
export STOCKROOM_BIN=$BIN
case "$DB" in
sqlite)
    export STOCKROOM_TEST_DATABASE=sqlite
    ;;
postgres)
    if [ -z "${STOCKROOM_TEST_PG_URL:-}" ]; then
        echo "STOCKROOM_TEST_PG_URL is not set: skipping the PostgreSQL run" >&2
        exit 77
    fi
    name="stockroom_test_$$_$RANDOM"
    psql -q "$STOCKROOM_TEST_PG_URL" -c "CREATE DATABASE $name" >/dev/null
    trap 'psql -q "$STOCKROOM_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
    export STOCKROOM_TEST_DATABASE="${STOCKROOM_TEST_PG_URL%/*}/$name"
    ;;
*)
    echo "usage: run-http.sh sqlite|postgres BINARY" >&2
    exit 2
    ;;
esac
cd "$HERE/http"
# the whole suite, unless the arguments name test files of their own
for arg in "$@"; do
    case "$arg" in *.py|*.py::*) exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@" ;; esac
done
/usr/bin/python3 -m pytest -q -p no:cacheprovider "$@" .
