#!/bin/bash
# Usage: scripts/pg.sh start DIR [PORT]
#        scripts/pg.sh stop DIR
# A throwaway PostgreSQL cluster for the tests. `start` creates DIR (it must
# not exist or be empty), runs initdb there (the newest /usr/lib/postgresql/*),
# with trust auth, UTF8, locale C, superuser `postgres`, and starts it listening
# on 127.0.0.1:PORT only (default: a free port), its socket inside DIR. It
# prints exactly one line on stdout, the URL:
#     postgresql://postgres@127.0.0.1:PORT/postgres
# `stop` shuts the cluster down (fast mode) and removes DIR; it does nothing
# when DIR is gone, and refuses to remove a DIR that `start` did not make.
# As root the server runs as the `postgres` OS user (DIR is chown'ed to it).
# The cluster is tuned for tests, not durability (fsync off); with
# PG_DURABLE=1 it keeps PostgreSQL's own defaults (fsync, synchronous_commit,
# full_page_writes on), as a benchmark that compares commits needs. With
# PG_SHARED_BUFFERS (e.g. 4GB) the cluster's shared_buffers is that, as a
# benchmark of a large database sizes it (the default is 128MB).
set -euo pipefail

usage() { echo "usage: pg.sh start DIR [PORT] | pg.sh stop DIR" >&2; exit 2; }
die() { echo "pg.sh: $*" >&2; exit 1; }

CMD=${1:-}
DIR=${2:-}
[ -n "$CMD" ] && [ -n "$DIR" ] || usage
MARK=.stockroom-pg   # written by `start`; `stop` removes only such a DIR

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -x "$PGBIN/initdb" ] || die "no PostgreSQL server found under /usr/lib/postgresql (run scripts/deps.sh)"

# Runs a PostgreSQL program as the cluster's owner.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local port=${1:-} tries=1
    [ -z "$port" ] && tries=5
    if [ -e "$DIR" ]; then
        [ -d "$DIR" ] && [ -z "$(ls -A "$DIR")" ] || die "$DIR exists and is not an empty directory"
    fi
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    touch "$DIR/$MARK"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || die "no 'postgres' OS user to run the server as (run scripts/deps.sh)"
        chown postgres: "$DIR"
        runuser -u postgres -- test -w "$DIR" ||
            die "user postgres cannot write to $DIR (is a parent directory closed to it?)"
    fi
    # The socket path must fit in sun_path (107 bytes).
    [ ${#DIR} -le 80 ] || die "DIR path too long for a Unix socket: $DIR"

    as_owner "$PGBIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C \
        --no-sync --no-instructions >"$DIR/initdb.log" 2>&1 ||
        { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
    cat >>"$DIR/data/postgresql.conf" <<CONF

# pg.sh: a throwaway cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
max_connections = 200
CONF
    if [ -n "${PG_SHARED_BUFFERS:-}" ]; then
        [[ "$PG_SHARED_BUFFERS" =~ ^[0-9]+(kB|MB|GB)$ ]] || die "PG_SHARED_BUFFERS: a size such as 4GB"
        echo "shared_buffers = '$PG_SHARED_BUFFERS'" >>"$DIR/data/postgresql.conf"
    fi
    if [ "${PG_DURABLE:-0}" != 1 ]; then
        printf '%s\n' '# for tests, not durability' 'fsync = off' 'synchronous_commit = off' \
            'full_page_writes = off' >>"$DIR/data/postgresql.conf"
    fi

    local i
    for i in $(seq "$tries"); do
        [ -n "${1:-}" ] || port=$(free_port)
        if as_owner "$PGBIN/pg_ctl" start -w -t 60 -D "$DIR/data" -l "$DIR/server.log" \
                -o "-p $port" >"$DIR/pg_ctl.log" 2>&1; then
            echo "postgresql://postgres@127.0.0.1:$port/postgres"
            return 0
        fi
        echo "pg.sh: could not start on port $port (attempt $i):" >&2
        tail -5 "$DIR/server.log" >&2 2>/dev/null || cat "$DIR/pg_ctl.log" >&2
    done
    die "PostgreSQL did not start; logs in $DIR"
}

stop() {
    [ -e "$DIR" ] || return 0
    [ -f "$DIR/$MARK" ] || die "$DIR was not made by pg.sh start; not touching it"
    if [ -f "$DIR/data/postmaster.pid" ]; then
        as_owner "$PGBIN/pg_ctl" stop -w -t 60 -m fast -D "$DIR/data" >/dev/null 2>&1 ||
            as_owner "$PGBIN/pg_ctl" stop -w -m immediate -D "$DIR/data" >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
}

case "$CMD" in
start) start "${3:-}" ;;
stop) stop ;;
*) usage ;;
esac
