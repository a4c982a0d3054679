#!/usr/bin/env bash
# CPU per request of one server under wrk: user and system time (from /proc/PID/stat) and
# context switches (every thread's voluntary and preempted switches, from /proc/PID/task/*/status),
# each divided by the requests wrk completed. Used in docs/benchmarks-history.md, round 7.
#
#     bench/cpu_per_request.sh BINARY PORT PATH [CONNECTIONS] [SECONDS]
#     bench/cpu_per_request.sh target/release/kamaelia 19201 /hello 16
#     bench/cpu_per_request.sh target/release/peer_hyper 19202 /hello 16
#
# The server is started with `--port PORT` and RUST_LOG=warn, and stopped afterwards. Run it for
# the servers in turn, a few times each: the machine's noise is larger than one run shows.
set -euo pipefail

BIN=$1
PORT=$2
URL_PATH=$3
CONNS=${4:-16}
SECS=${5:-3}

RUST_LOG=warn "$BIN" --port "$PORT" >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT$URL_PATH" && break
    sleep 0.05
done

cpu() { awk '{print $14, $15}' "/proc/$SERVER/stat"; }
switches() { cat /proc/"$SERVER"/task/*/status | awk -v k="$1" '$1 == k":" {s += $2} END {print s}'; }

read -r user0 sys0 < <(cpu)
vol0=$(switches voluntary_ctxt_switches)
inv0=$(switches nonvoluntary_ctxt_switches)
out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" "http://127.0.0.1:$PORT$URL_PATH")
read -r user1 sys1 < <(cpu)
vol1=$(switches voluntary_ctxt_switches)
inv1=$(switches nonvoluntary_ctxt_switches)

requests=$(grep -o '[0-9]* requests' <<<"$out" | cut -d' ' -f1)
rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
awk -v name="$(basename "$BIN")" -v n="$requests" -v rate="$rate" -v tck="$(getconf CLK_TCK)" \
    -v u=$((user1 - user0)) -v s=$((sys1 - sys0)) -v v=$((vol1 - vol0)) -v i=$((inv1 - inv0)) \
    -v c="$CONNS" 'BEGIN {
        printf "%-12s %3d conn %9.0f req/s  user %.2f us/req  sys %.2f us/req  switches %.3f/req (voluntary %.3f, preempted %.3f)\n",
            name, c, rate, u / tck * 1e6 / n, s / tck * 1e6 / n, (v + i) / n, v / n, i / n
    }'
