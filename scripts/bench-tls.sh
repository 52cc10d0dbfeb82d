#!/bin/bash
# Usage: scripts/bench-tls.sh STOCKROOM_BINARY [SECONDS] [CONNECTIONS]
#
# S1 (GET one order of 10 items) over plain HTTP and over HTTPS, one after the
# other on this machine: the shared bench (compare.sh) speaks only http, and
# `make bench` runs this after it. One fresh SQLite file; one order seeded
# through the API, shaped like S1's (1 shipment x 10 items); the server started
# plainly, then with --tls-cert/--tls-key (a self-signed P-256 certificate made
# here); wrk with the same thread, connections and duration against both
# (keep-alive, so the handshakes are a small part: the figure is the cost of
# encrypting the records). Prints, last:
#   tls: S1 http req/s=... https req/s=... https/http 0.xx
# Fails when any answer is outside 2xx.
set -euo pipefail
BIN=$(readlink -f "${1:?usage: bench-tls.sh STOCKROOM_BINARY [SECONDS] [CONNECTIONS]}")
SECS=${2:-5}
CONNS=${3:-32}
for tool in wrk openssl curl; do
    command -v "$tool" >/dev/null || { echo "bench-tls.sh: $tool is missing (scripts/deps.sh)" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/bench-tls.XXXXXX)
SERVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# start_server SCHEME [serve flags...]: starts it in the background, sets SERVER and BASE.
start_server() {
    local scheme=$1 port
    shift
    port=$(free_port)
    "$BIN" serve --listen "127.0.0.1:$port" --db "$WORK/stockroom.db" "$@" 2>>"$WORK/stockroom.log" &
    SERVER=$!
    BASE="$scheme://127.0.0.1:$port"
    for _ in $(seq 100); do
        curl -sf --cacert "$WORK/cert.pem" -o /dev/null "$BASE/healthz" && return 0
        sleep 0.1
    done
    echo "bench-tls.sh: no answer from $BASE; its log:" >&2
    cat "$WORK/stockroom.log" >&2
    exit 1
}

stop_server() {
    kill "$SERVER"
    wait "$SERVER" || { echo "bench-tls.sh: the server did not stop cleanly" >&2; exit 1; }
    SERVER=
}

# s1 LABEL: wrk against the seeded order at $BASE; prints "S1 LABEL req/s=N" and
# fails on any answer outside 2xx.
s1() {
    local out rate bad
    out=$(wrk -t1 -c"$CONNS" -d"${SECS}s" --timeout 10s -H "API_KEY: $KEY" "$BASE/api/orders/$ID/")
    rate=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    bad=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
    echo "S1 $1 req/s=$rate non2xx=${bad:-0}" >&2
    [ -z "$bad" ] || { echo "$out" >&2; exit 1; }
    [ -n "$rate" ] || { echo "bench-tls.sh: no figure from wrk: $out" >&2; exit 1; }
    printf '%s' "$rate"
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 2>/dev/null
KEY=$("$BIN" customer create bench --db "$WORK/stockroom.db" | tail -1)

echo "== stockroom S1 over http and over https ($SECS s, $CONNS connections each)" >&2
start_server http
ITEMS=$(for i in $(seq 0 9); do
    printf '%s{"name":"Widget %d","description":"bench item","SKU":"SKU-%d","UPC":"UPC-%d",' \
        "$([ "$i" = 0 ] || echo ,)" "$i" "$i" "$i"
    printf '"ordered_quantity":10,"quantity_fulfilled":0,"warehouse_location":"Aisle 3","device":null}'
done)
ID=$(curl -sf -H "API_KEY: $KEY" -H 'Content-Type: application/json' \
     -d "{\"order_number\":\"tls-1\",\"shipments\":[{\"shipment_number\":\"tls-1-S0\",\"items\":[$ITEMS]}]}" \
     "$BASE/api/orders/" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
HTTP=$(s1 http)
stop_server

start_server https --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
# the seeded order, now over https
[ "$(curl -sf --cacert "$WORK/cert.pem" -H "API_KEY: $KEY" "$BASE/api/orders/$ID/" |
     /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["shipments"][0]["items"]))')" = 10 ] ||
    { echo "bench-tls.sh: the seeded order is not served over https" >&2; exit 1; }
HTTPS=$(s1 https)
stop_server

ratio=$(awk -v a="$HTTPS" -v b="$HTTP" 'BEGIN { printf "%.2f", a / b }')
echo "tls: S1 http req/s=$HTTP https req/s=$HTTPS https/http $ratio"
