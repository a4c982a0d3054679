#!/usr/bin/env bash
# What the live page costs a server: a viewer under load, and one look at the graph.
#
#     bench/live_page.sh cost [CONNECTIONS] [SECONDS] [ROUNDS] [INTERVAL_MS]
#     bench/live_page.sh look [CONNECTIONS] [SECONDS]
#
# cost: the release binary serves /hello under wrk with --introspect, ROUNDS times without a
# viewer and ROUNDS times with one (alternating, so that the machine's drift falls on both), and
# prints the server's CPU per request (user + system, from /proc/PID/stat, as
# bench/cpu_per_request.sh measures it) for each run. The viewer is curl reading the event
# stream, as the page's EventSource does (a browser's drawing costs the browser, not the server),
# with its introspector looking every INTERVAL_MS (250, the default of --introspect-interval).
#
# look: what one look at the graph costs. CONNECTIONS idle keep-alive connections (each served
# one request) give the graph its size; the server's CPU is read for SECONDS with no viewer, then
# with a viewer looking every 10 ms (nothing changes, so nothing is sent: only the looking costs).
#
# (The page's picture under load, docs/live-page.png, is taken by the browser test:
# KAMAELIA_LIVE_SCREENSHOT=$PWD/docs/live-page.png cargo test --test live_page_browser under_load.)
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${1:?usage: bench/live_page.sh cost|look ...}
BIN=target/release/kamaelia
cargo build --release --quiet --bin kamaelia
PORT=$((20000 + RANDOM % 10000))
URL=http://127.0.0.1:$PORT

SERVER=""
VIEWER=""
cleanup() {
    [ -n "$VIEWER" ] && kill "$VIEWER" 2>/dev/null || true
    [ -n "$SERVER" ] && { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true; }
}
trap cleanup EXIT

start_server() {
    RUST_LOG=warn "$BIN" --port "$PORT" --introspect "$@" >/dev/null 2>&1 &
    SERVER=$!
    for _ in $(seq 1 200); do
        curl -s -o /dev/null "$URL/hello" && return
        sleep 0.05
    done
    echo "the server did not start" >&2
    exit 1
}

cpu() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }

# One wrk run: prints "REQUESTS/S US_PER_REQUEST".
run() {
    local before after out requests rate
    before=$(cpu)
    out=$(wrk -t2 -c"$1" -d"$2s" "$URL/hello")
    after=$(cpu)
    requests=$(grep -o '[0-9]* requests' <<<"$out" | cut -d' ' -f1)
    rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    awk -v r="$rate" -v n="$requests" -v t=$((after - before)) -v tck="$(getconf CLK_TCK)" \
        'BEGIN { printf "%9.0f req/s  %6.2f us/req\n", r, t / tck * 1e6 / n }'
}

case "$MODE" in
cost)
    CONNS=${2:-16}
    SECS=${3:-5}
    ROUNDS=${4:-3}
    INTERVAL=${5:-250}
    start_server --introspect-interval "$INTERVAL"
    echo "kamaelia --introspect --introspect-interval $INTERVAL, wrk -t2 -c$CONNS -d${SECS}s /hello"
    for round in $(seq 1 "$ROUNDS"); do
        printf "round %d  no viewer   " "$round"
        run "$CONNS" "$SECS"
        curl -s -N "$URL/_introspect/events" >/dev/null &
        VIEWER=$!
        printf "round %d  one viewer  " "$round"
        run "$CONNS" "$SECS"
        kill "$VIEWER" 2>/dev/null || true
        wait "$VIEWER" 2>/dev/null || true
        VIEWER=""
    done
    ;;
look)
    CONNS=${2:-100}
    SECS=${3:-5}
    start_server --introspect-interval 10 --keep-alive-timeout 600 --max-connections 20000
    HELD=$(mktemp)
    python3 - "$PORT" "$CONNS" "$SECS" >"$HELD" <<'PY' &
import socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
held = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    while not got.endswith(b"0\r\n\r\n"):
        got += s.recv(4096)
    held.append(s)
print("open", flush=True)
time.sleep(4 * secs + 10)
PY
    HOLDER=$!
    # Until the holder says its connections are open (it prints `open`), within a minute.
    for _ in $(seq 1 600); do
        grep -q '^open' "$HELD" && break
        kill -0 "$HOLDER" 2>/dev/null || { echo "the holder of connections failed" >&2; exit 1; }
        sleep 0.1
    done
    grep -q '^open' "$HELD" || { echo "the holder did not open its connections within a minute" >&2; exit 1; }
    rm -f "$HELD"
    components=$(curl -s "$URL/_introspect/snapshot.json" | grep -o '"class":' | wc -l)
    before=$(cpu); sleep "$SECS"; idle=$(( $(cpu) - before ))
    curl -s -N "$URL/_introspect/events" >/dev/null &
    VIEWER=$!
    sleep 1
    before=$(cpu); sleep "$SECS"; watched=$(( $(cpu) - before ))
    kill "$VIEWER" "$HOLDER" 2>/dev/null || true
    VIEWER=""
    awk -v c="$components" -v i="$idle" -v w="$watched" -v s="$SECS" -v tck="$(getconf CLK_TCK)" 'BEGIN {
        looks = s * 100
        printf "%d components: server CPU %.1f ms/s idle, %.1f ms/s with a viewer looking every 10 ms: %.0f us a look\n",
            c, i / tck * 1000 / s, w / tck * 1000 / s, (w - i) / tck * 1e6 / looks
    }'
    ;;
*)
    echo "usage: bench/live_page.sh cost|look ..." >&2
    exit 2
    ;;
esac
