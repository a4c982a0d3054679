#!/usr/bin/env bash
# The soak of issue 16: a mixed load for a set time against the web server, and whether what the
# server holds comes back when the load stops. One command:
#
#     bench/soak.sh               # 600 s of load (SOAK_SECONDS, or the first argument)
#     bench/soak.sh 120           # a shorter one
#
# It installs wrk and curl if they are missing (apt-get, with sudo when not root), builds the
# server (target/release/kamaelia) and the hostile clients (target/release/soak_clients, from
# bench/src/bin/soak_clients.rs) in release mode, and serves a temporary root (index.html,
# small.html of 1 KiB, a.txt, big.bin of 8 MiB) with the access log on. The load, all at once:
#
#   - wrk: WRK_CONNECTIONS keep-alive connections (16), GET of the small files, /hello, a 404,
#     and big.bin one request in 1000;
#   - soak_clients, CLIENT_WORKERS clients of each kind at once (2): pipelined requests (8 rounds
#     of 16), requests aborted mid-request and mid-response (reset with SO_LINGER 0, or a plain
#     close), slow readers (big.bin at SLOW_RATE bytes/s, 1 MiB/s, then a second request on the
#     connection), half-closing clients (shutdown(SHUT_WR), then read), bad requests (garbage,
#     over-long targets, bad Host, bad chunked bodies, heads too large).
#
# First WARMUP_SECONDS (30) of the same load, then the server is left to go idle and its idle
# figures are read; then SOAK_SECONDS of load, with a sample every SAMPLE_SECONDS (30); then
# the server is left to go idle again (its open connections back to 0 within IDLE_DEADLINE, 60 s,
# then SETTLE_SECONDS, 5 s) and read once more. Each sample: the server's RSS (VmRSS), its open
# file descriptors (/proc/PID/fd), its live components and open connections (the line it logs on
# SIGUSR1), and the requests it has answered (its access-log lines, counted as they are written,
# not kept).
#
# It passes (exit 0) when, after the load, the descriptors and the live components are back to
# their idle values, the RSS is within RSS_TOLERANCE percent (10) of its idle value, and the RSS
# was flat over the last half of the load: the samples of the second half span (max - min) at
# most RSS_TOLERANCE percent of their mean. Otherwise it exits 1 and names what did not come
# back, with the figures. What the clients saw that they did not expect (a wrong status, a cut
# body, no answer) is printed too, and so is a summary of what the server logged besides the
# access lines; neither is part of the verdict. Exit 2: the soak could not run.
#
# Knobs (environment): SOAK_SECONDS (600), WARMUP_SECONDS (30), SAMPLE_SECONDS (30),
# WRK_CONNECTIONS (16), CLIENT_WORKERS (2), SLOW_RATE (1048576), RSS_TOLERANCE (10),
# IDLE_DEADLINE (60), SETTLE_SECONDS (5), PORT (18180: the first free port from there),
# SERVER_ARGS (more options for the server, e.g. "--threads 2 --runtime shared"), SKIP_BUILD=1
# to use the binaries already built. The samples go to $TARGET/soak-samples.tsv, what the server
# logged besides the access lines to $TARGET/soak-server.log ($TARGET is $CARGO_TARGET_DIR, or
# target/). See docs/benchmarks.md, "Soak".
set -euo pipefail

SOAK_SECONDS=${1:-${SOAK_SECONDS:-600}}
WARMUP_SECONDS=${WARMUP_SECONDS:-30}
SAMPLE_SECONDS=${SAMPLE_SECONDS:-30}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-16}
CLIENT_WORKERS=${CLIENT_WORKERS:-2}
SLOW_RATE=${SLOW_RATE:-1048576}
RSS_TOLERANCE=${RSS_TOLERANCE:-10}
IDLE_DEADLINE=${IDLE_DEADLINE:-60}
SETTLE_SECONDS=${SETTLE_SECONDS:-5}
PORT=${PORT:-18180}
SERVER_ARGS=${SERVER_ARGS:-}
# How long the server gets to answer its first request, and a SIGUSR1.
START_DEADLINE=30
STATS_DEADLINE=10

say() { printf '%s\n' "$*"; }
die() {
    say "bench/soak.sh: $*" >&2
    exit 2
}
for knob in SOAK_SECONDS WARMUP_SECONDS SAMPLE_SECONDS WRK_CONNECTIONS CLIENT_WORKERS SLOW_RATE RSS_TOLERANCE \
    IDLE_DEADLINE SETTLE_SECONDS PORT; do
    [[ ${!knob} =~ ^[0-9]+$ ]] || die "$knob: \`${!knob}\` is not a whole number"
done
((SAMPLE_SECONDS > 0 && SOAK_SECONDS >= 2 * SAMPLE_SECONDS)) ||
    die "SOAK_SECONDS ($SOAK_SECONDS) must be at least two samples of SAMPLE_SECONDS ($SAMPLE_SECONDS)"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release
SAMPLES=$TARGET/soak-samples.tsv
SERVER_LOG=$TARGET/soak-server.log
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kamaelia-soak.XXXXXX")
mkdir -p "$TARGET"
START=$SECONDS

# ----- processes, and stopping them whatever happens -----

SERVER_PID=""
LOAD_PIDS=()
cleanup() {
    local status=$?
    local pid
    for pid in "${LOAD_PIDS[@]}" $SERVER_PID; do kill "$pid" 2>/dev/null || true; done
    for pid in "${LOAD_PIDS[@]}" $SERVER_PID; do wait "$pid" 2>/dev/null || true; done
    # The log filter ends when the server's stderr closes; give it a moment to write its last.
    sleep 0.2
    [[ -s $WORK/server.log ]] && cp "$WORK/server.log" "$SERVER_LOG"
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ----- tools and builds -----

say "== tools and builds"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
    sudo=""
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null || die "missing ${missing[*]}, and not root and no sudo to install them"
        sudo=sudo
    fi
    say "  installing ${missing[*]} with apt-get"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
command -v wrk >/dev/null || die "wrk did not install"
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    (cd "$ROOT" && cargo build --release -p kamaelia --bin kamaelia && cargo build --release -p kamaelia-bench --bin soak_clients)
fi
for b in kamaelia soak_clients; do
    [[ -x $BIN/$b ]] || die "$BIN/$b is missing: build with cargo build --release -p kamaelia -p kamaelia-bench"
done
# mawk reads a pipe in blocks unless told not to: the stats line must come through at once.
AWK_FLAGS=()
if awk -W version 2>&1 | grep -q mawk; then AWK_FLAGS=(-W interactive); fi

# ----- the root -----

mkdir -p "$WORK/root"
printf '<!DOCTYPE html><title>soak</title><p>index</p>\n' >"$WORK/root/index.html"
printf 'a\n' >"$WORK/root/a.txt"
head -c 1024 /dev/zero | tr '\0' 's' >"$WORK/root/small.html"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$WORK/root/big.bin"
cat >"$WORK/mix.lua" <<'EOF'
-- wrk's requests: the small files, /hello, a 404, and big.bin one request in 1000.
local paths = { "/small.html", "/hello", "/a.txt", "/", "/small.html", "/missing.html" }
local n = 0
request = function()
    n = n + 1
    if n % 1000 == 0 then return wrk.format("GET", "/big.bin") end
    return wrk.format("GET", paths[n % #paths + 1])
end
EOF

# ----- the server, its log, and its figures -----

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
while ! port_is_free "$PORT"; do PORT=$((PORT + 1)); done

# The server's stderr goes through a filter that counts the access lines instead of keeping
# them, and adds the count so far to each stats line (the server logs one on SIGUSR1); the
# stats lines also go to stats.log, everything else to server.log.
: >"$WORK/stats.log"
# shellcheck disable=SC2086 # SERVER_ARGS is a list of options
RUST_LOG=info "$BIN/kamaelia" --port "$PORT" --root "$WORK/root" $SERVER_ARGS \
    2> >(awk "${AWK_FLAGS[@]}" -v stats="$WORK/stats.log" -v logfile="$WORK/server.log" '
        / kamaelia_http::access\] / { n++; next }
        / kamaelia\] stats: / { print $0 " requests=" n + 0 >stats; fflush(stats); next }
        { print >logfile; fflush(logfile) }') >/dev/null &
SERVER_PID=$!
url="http://127.0.0.1:$PORT"
deadline=$((SECONDS + START_DEADLINE))
until curl -sf -o /dev/null --max-time 1 "$url/small.html"; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2 || true; die "the server exited"; }
    ((SECONDS < deadline)) || die "the server did not answer $url within ${START_DEADLINE}s"
    sleep 0.1
done
say "  server: pid $SERVER_PID, $url/ ($BIN/kamaelia --root $WORK/root${SERVER_ARGS:+ $SERVER_ARGS})"

# stats: STATS := the server's stats line in answer to a SIGUSR1 sent now, as "live open
# accepted requests".
STATS=""
stats() {
    local before line deadline=$((SECONDS + STATS_DEADLINE))
    before=$(wc -l <"$WORK/stats.log")
    kill -USR1 "$SERVER_PID" || die "the server (pid $SERVER_PID) is gone"
    until (($(wc -l <"$WORK/stats.log") > before)); do
        ((SECONDS < deadline)) || die "no stats line within ${STATS_DEADLINE}s of SIGUSR1"
        sleep 0.05
    done
    line=$(tail -n 1 "$WORK/stats.log")
    STATS=$(sed -E 's/.*live_components=([0-9]+) open_connections=([0-9]+) accepted_connections=([0-9]+) requests=([0-9]+).*/\1 \2 \3 \4/' <<<"$line")
    [[ $STATS =~ ^[0-9]+\ [0-9]+\ [0-9]+\ [0-9]+$ ]] || die "not a stats line: $line"
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status"; }
fd_count() { find "/proc/$SERVER_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# sample PHASE: one row of figures, printed and appended to the samples; sets RSS FDS LIVE OPEN
# REQUESTS.
RSS=0 FDS=0 LIVE=0 OPEN=0 ACCEPTED=0 REQUESTS=0
last_requests=0 last_time=$SECONDS
: >"$SAMPLES"
printf 'time_s\tphase\trss_kib\tfds\tlive_components\topen_connections\taccepted\trequests\n' >>"$SAMPLES"
say ""
say "$(printf '%7s  %-7s %9s %6s %6s %6s %10s %11s %8s' time phase RSS_MiB fds live open accepted requests req/s)"
sample() {
    local phase=$1 now rate
    stats
    read -r LIVE OPEN ACCEPTED REQUESTS <<<"$STATS"
    RSS=$(rss_kib)
    FDS=$(fd_count)
    now=$SECONDS
    rate=$(((REQUESTS - last_requests) / (now > last_time ? now - last_time : 1)))
    last_requests=$REQUESTS last_time=$now
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' $((now - START)) "$phase" "$RSS" "$FDS" "$LIVE" "$OPEN" "$ACCEPTED" "$REQUESTS" >>"$SAMPLES"
    say "$(printf '%6ss  %-7s %9.1f %6s %6s %6s %10s %11s %8s' $((now - START)) "$phase" \
        "$(awk -v k="$RSS" 'BEGIN { print k / 1024 }')" "$FDS" "$LIVE" "$OPEN" "$ACCEPTED" "$REQUESTS" "$rate")"
}

# load SECONDS TAG: starts wrk and the clients for SECONDS in the background (LOAD_PIDS).
load() {
    local seconds=$1 tag=$2
    wrk -t1 -c"$WRK_CONNECTIONS" -d"${seconds}s" --timeout 10s -s "$WORK/mix.lua" "$url/" >"$WORK/wrk.$tag" 2>&1 &
    LOAD_PIDS+=($!)
    "$BIN/soak_clients" --port "$PORT" --seconds "$seconds" --workers "$CLIENT_WORKERS" --slow-rate "$SLOW_RATE" \
        >"$WORK/clients.$tag" 2>"$WORK/clients-unexpected.$tag" &
    LOAD_PIDS+=($!)
}
# wait_load: waits for the load to end; the clients' slow readers may finish after their time.
wait_load() {
    local pid
    for pid in "${LOAD_PIDS[@]}"; do wait "$pid" || say "  (a load process, pid $pid, exited with status $?)"; done
    LOAD_PIDS=()
}
# wait_idle PHASE: waits until the server has no open connection (IDLE_DEADLINE), then
# SETTLE_SECONDS, and samples.
wait_idle() {
    local deadline=$((SECONDS + IDLE_DEADLINE))
    while stats && read -r _ OPEN _ _ <<<"$STATS" && ((OPEN > 0)); do
        ((SECONDS < deadline)) || { say "  $OPEN connection(s) still open ${IDLE_DEADLINE}s after the load"; break; }
        sleep 1
    done
    sleep "$SETTLE_SECONDS"
    sample "$1"
}

# ----- warm-up, idle, soak, idle -----

sample fresh
if ((WARMUP_SECONDS > 0)); then
    load "$WARMUP_SECONDS" warmup
    sleep "$WARMUP_SECONDS"
    sample warmup
    wait_load
fi
wait_idle idle
read -r idle_rss idle_fds idle_live <<<"$RSS $FDS $LIVE"

load "$SOAK_SECONDS" soak
soak_start=$SECONDS
for ((t = SAMPLE_SECONDS; t <= SOAK_SECONDS; t += SAMPLE_SECONDS)); do
    # Sleep to the sample's time from the soak's start (a sample takes a moment of its own).
    while ((SECONDS - soak_start < t)); do sleep 0.5; done
    sample load
    echo "$RSS" >>"$WORK/load-rss"
done
wait_load
wait_idle after
read -r after_rss after_fds after_live <<<"$RSS $FDS $LIVE"

# ----- what the load saw -----

say ""
say "== wrk (keep-alive, ${WRK_CONNECTIONS} connections; the 404s of /missing.html are meant)"
grep -E 'requests in|Socket errors|Non-2xx|Requests/sec' "$WORK/wrk.soak" | sed 's/^ */  /' || true
say "== soak_clients (${CLIENT_WORKERS} of each kind at once)"
sed 's/^SOAK_CLIENTS /  /' "$WORK/clients.soak"
if [[ -s $WORK/clients-unexpected.soak ]]; then
    say "  what they did not expect (the first of each kind; not part of the verdict):"
    sed 's/^soak_clients: /    /' "$WORK/clients-unexpected.soak"
fi
say "== what the server logged besides the access lines and the stats (ids as _N), most frequent first:"
if [[ -s $WORK/server.log ]]; then
    sed -E 's/^\[[^ ]+ /[/; s/_[0-9]+/_N/g; s/[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+:[0-9]+/ADDR/g' "$WORK/server.log" |
        cut -c1-220 | sort | uniq -c | sort -rn | head -n 12 | sed 's/^ */  /'
fi

# ----- the verdict -----

# Flat: the second half of the load's samples span at most RSS_TOLERANCE% of their mean.
read -r half_n half_min half_max half_mean <<<"$(awk -v n="$(wc -l <"$WORK/load-rss")" '
    NR > int(n / 2) { v = $1; if (c == 0 || v < lo) lo = v; if (c == 0 || v > hi) hi = v; s += v; c++ }
    END { printf "%d %d %d %.0f", c, lo, hi, s / c }' "$WORK/load-rss")"
failures=()
((after_fds == idle_fds)) || failures+=("open descriptors: $after_fds after the load, $idle_fds idle before it")
((after_live == idle_live)) || failures+=("live components: $after_live after the load, $idle_live idle before it")
rss_change=$(awk -v a="$after_rss" -v i="$idle_rss" 'BEGIN { printf "%+.1f", (a - i) / i * 100 }')
awk -v c="$rss_change" -v t="$RSS_TOLERANCE" 'BEGIN { exit !(c <= t && c >= -t) }' ||
    failures+=("RSS: $after_rss KiB after the load, $idle_rss KiB idle before it ($rss_change%, more than ±$RSS_TOLERANCE%)")
rss_span=$(awk -v lo="$half_min" -v hi="$half_max" -v m="$half_mean" 'BEGIN { printf "%.1f", (hi - lo) / m * 100 }')
awk -v s="$rss_span" -v t="$RSS_TOLERANCE" 'BEGIN { exit !(s <= t) }' ||
    failures+=("RSS not flat over the last half of the load: $half_min to $half_max KiB over $half_n samples, $rss_span% of their mean $half_mean KiB (more than $RSS_TOLERANCE%)")

say ""
say "== verdict (${SOAK_SECONDS}s of load; ${WARMUP_SECONDS}s of warm-up before the idle figures; samples in $SAMPLES)"
say "  descriptors:      idle $idle_fds, after $after_fds"
say "  live components:  idle $idle_live, after $after_live"
say "  RSS:              idle $idle_rss KiB, after $after_rss KiB ($rss_change%; within ±$RSS_TOLERANCE% passes)"
say "  RSS, last half:   $half_n samples from $half_min to $half_max KiB, mean $half_mean KiB: span $rss_span% (at most $RSS_TOLERANCE% passes)"
say "  requests answered: $REQUESTS; connections accepted: $ACCEPTED; whole run $((SECONDS - START)) s"
if ((${#failures[@]})); then
    say "FAIL: did not come back:"
    printf '  - %s\n' "${failures[@]}"
    exit 1
fi
say "PASS: descriptors, live components and RSS came back to their idle values, and RSS was flat over the last half"
