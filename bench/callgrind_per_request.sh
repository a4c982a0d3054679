#!/usr/bin/env bash
# Instructions per request of one server, under callgrind: the steadiest figure for "unchanged"
# (a shared machine's load moves rates and CPU times, not instruction counts). The server runs
# under valgrind twice, with `--port PORT` and the arguments given; each time curl sends FEW (500)
# or MANY (2,500) sequential requests for PATH on one keep-alive connection (after one request to
# see that it is up), and the server is stopped. The figure is the difference of the two runs'
# totals over the difference in requests, so start-up, shutdown and the first requests cancel
# out. Every thread's instructions count (valgrind runs them one at a time).
#
#     bench/callgrind_per_request.sh BINARY PORT PATH [SERVER ARGUMENTS...]
#     bench/callgrind_per_request.sh target/release/handlers_server 19401 /hello --threads 1 --hello fn
#     bench/callgrind_per_request.sh target/release/peer_hyper 19402 /hello --threads 1
#     bench/callgrind_per_request.sh target/release/kamaelia 19403 /hello --threads 1
#
# Needs valgrind (`apt-get install valgrind`). The callgrind files are left in OUT (a temporary
# directory unless given), named NAME.FEW.out and NAME.MANY.out, for callgrind_annotate.
set -euo pipefail

BIN=$1
PORT=$2
URL_PATH=$3
shift 3
FEW=${FEW:-500}
MANY=${MANY:-2500}
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/callgrind.XXXXXX")}
NAME=$(basename "$BIN")
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }

total() { # requests, server arguments -> the run's total instructions
    local n=$1 file="$OUT/$NAME.$1.out"
    shift
    RUST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$file" "$BIN" --port "$PORT" "$@" \
        >/dev/null 2>&1 &
    local server=$!
    local up=
    for _ in $(seq 1 300); do
        if curl -s -o /dev/null "http://127.0.0.1:$PORT$URL_PATH"; then up=1; break; fi
        sleep 0.2
    done
    [[ -n $up ]] || { kill "$server"; echo "$BIN did not answer on port $PORT" >&2; exit 1; }
    # One connection, `n` requests in turn (curl's URL globbing reuses the connection).
    curl -s -o /dev/null "http://127.0.0.1:$PORT$URL_PATH?[1-$n]"
    # TERM, not INT: a background job of a script ignores SIGINT.
    kill -TERM "$server"
    wait "$server" || true
    awk '/^(summary|totals):/ {print $2; exit}' "$file"
}

few=$(total "$FEW" "$@")
many=$(total "$MANY" "$@")
awk -v name="$NAME" -v a="$few" -v b="$many" -v fa="$FEW" -v fb="$MANY" -v out="$OUT" 'BEGIN {
    printf "%-16s %8.0f instructions per request  (%d requests: %d; %d: %d; files in %s)\n",
        name, (b - a) / (fb - fa), fa, a, fb, b, out
}'
