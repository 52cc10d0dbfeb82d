#!/bin/bash
# Usage: scripts/bench-pg.sh STOCKROOM_BINARY [SECONDS] [CONNECTIONS]
#
# The PostgreSQL column of `make bench`, in one run on this machine, with the
# shared benchmark's seed data and wrk scenarios (../shared/bench/bench.sh):
#   1. Stockroom on PostgreSQL: a throwaway cluster (scripts/pg.sh, with
#      PG_DURABLE=1: PostgreSQL's own fsync and synchronous_commit, as the
#      reference's cluster has), `stockroom serve --db postgresql://...`;
#   2. the Django REST framework reference in its postgres mode
#      (../shared/peer/drf/run.sh postgres: gunicorn, 5 sync workers, its own
#      cluster with PostgreSQL's defaults);
#   3. Stockroom on a fresh SQLite file, for reference.
# One server at a time. Prints a table (req/s of each, Stockroom/DRF on
# PostgreSQL, Stockroom PostgreSQL/SQLite) and, last, one line:
#   pg: S1 x<Stockroom/DRF> ... S1 pg/sqlite <r>
# SHARED (default ../shared beside the repository) locates the shared bench.
set -euo pipefail
BIN=$(readlink -f "${1:?usage: bench-pg.sh STOCKROOM_BINARY [SECONDS] [CONNECTIONS]}")
SECS=${2:-5}
CONNS=${3:-32}
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=$(cd "${SHARED:-$HERE/../../shared}" && pwd)
BENCH=$SHARED/bench/bench.sh
DRF=$SHARED/peer/drf
WORK=$(mktemp -d /tmp/bench-pg.XXXXXX)
chmod 755 "$WORK"
SERVER=
PEER_PORT=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    [ -n "$PEER_PORT" ] && PEER_STATE=$WORK/peer bash "$DRF/stop.sh" "$PEER_PORT" >/dev/null 2>&1
    bash "$HERE/pg.sh" stop "$WORK/pg" || true
    rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }
figure() { grep -E "^$2 " "$1" | sed -E 's/.*req\/s=([0-9.]+).*/\1/'; }

# stockroom LABEL DB: serve DB, run every scenario, results in $WORK/LABEL.txt.
stockroom() {
    local label=$1 db=$2 port key
    port=$(free_port)
    key=$("$BIN" customer create bench --db "$db" | tail -1)
    "$BIN" serve --listen "127.0.0.1:$port" --db "$db" 2>"$WORK/$label.log" &
    SERVER=$!
    wait_for "http://127.0.0.1:$port/healthz"
    echo "== stockroom on $label" >&2
    bash "$BENCH" "http://127.0.0.1:$port" "$key" "$SECS" "$CONNS" | tee "$WORK/$label.txt" >&2 || true
    kill "$SERVER"
    wait "$SERVER" || true
    SERVER=
}

URL=$(PG_DURABLE=1 bash "$HERE/pg.sh" start "$WORK/pg")
stockroom postgres "$URL"
bash "$HERE/pg.sh" stop "$WORK/pg"

PEER_PORT=$(free_port)
echo "== DRF on postgres (gunicorn, 5 sync workers)" >&2
PKEY=$(PEER_STATE=$WORK/peer bash "$DRF/run.sh" postgres "$PEER_PORT" | tail -1)
PEER_STATE=$WORK/peer bash "$BENCH" "http://127.0.0.1:$PEER_PORT" "$PKEY" "$SECS" "$CONNS" |
    tee "$WORK/drf.txt" >&2 || true
PEER_STATE=$WORK/peer bash "$DRF/stop.sh" "$PEER_PORT" >/dev/null 2>&1
PEER_PORT=

stockroom sqlite "$WORK/stockroom.db"

ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (a > 0 && b > 0) printf "%.'"$3"'f", a / b; else print "-" }'; }
printf '%-4s %16s %12s %8s %16s %10s\n' scen stockroom-pg drf-pg ratio stockroom-sqlite pg/sqlite
line="pg:"
for s in S1 S2 S3 S4 S5; do
    a=$(figure "$WORK/postgres.txt" $s); b=$(figure "$WORK/drf.txt" $s); c=$(figure "$WORK/sqlite.txt" $s)
    r=$(ratio "$a" "$b" 1); q=$(ratio "$a" "$c" 2)
    printf '%-4s %16s %12s %8s %16s %10s\n' $s "${a:--}" "${b:--}" "x$r" "${c:--}" "$q"
    line="$line $s x$r"
done
echo "$line S1 pg/sqlite $(ratio "$(figure "$WORK/postgres.txt" S1)" "$(figure "$WORK/sqlite.txt" S1)" 2)"
