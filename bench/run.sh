#!/usr/bin/env bash
# The benchmark suite against named peers (issue 5), in one command:
#
#     bench/run.sh
#
# It installs wrk and nginx if they are missing (apt-get, with sudo when not root), builds our
# server and the peers in release mode, serves /hello from our server, a minimal hyper 1.x server
# and a minimal actix-web 4 server, and a static directory (a 1 KiB html file and an 8 MiB file of
# random bytes) from our server (Minimal, --root) and nginx; drives each with wrk at 1, 16 and 64
# keep-alive connections; measures bytes per idle keep-alive connection (ours vs hyper) and runs
# the components benchmarks (target/release/axon_chain: pipeline vs tokio mpsc vs actix actors,
# bytes per idle component; target/release/lifecycle: a short-lived child component vs a tokio
# task). It prints one table, ours / peer for every figure and whether each
# target of the issue is met, and writes the raw figures to $TARGET/bench-results.tsv and the
# table to $TARGET/bench-results.md ($TARGET is $CARGO_TARGET_DIR, or target/).
#
# Every point compares equal setups. Parallelism: our server runs THREADS threads (--threads),
# hyper as many tokio workers, actix-web as many workers, nginx as many worker processes; the
# "one thread" part measures ours and nginx again at one each. Limits: every server closes a
# connection after MAX_REQUESTS requests (ours --max-requests-per-connection, the peers'
# --max-requests, nginx's keepalive_requests). Correctness: before a point is measured, each
# peer's whole response (status line, Content-Type, framing, body) is compared with ours, and
# a file's body with the file; a mismatch stops the suite. A point whose run saw a socket error
# or a non-2xx answer fails: the table says FAILED in place of its ratio, and the suite exits
# with status 1 after printing the table.
#
# Knobs (environment): DURATION seconds measured per point (3), WARMUP seconds of warm-up before
# each (1), ROUNDS per point (3: the servers of a point take turns, each round starting with the
# next; the table shows the median of the rounds and their spread, min-max), LONG=1 for steadier
# numbers (DURATION 10, WARMUP 2, ROUNDS 5, unless given), THREADS (the machine's CPUs),
# MAX_REQUESTS per connection (10000, our server's default), CONNECTIONS ("1 16 64"),
# IDLE_CONNS (10000), BASE_PORT (18082), PARTS ("hello small big one idle components handlers":
# the parts to run; the table says which figures a shorter run left out), SKIP_BUILD=1 to reuse
# the binaries already built. With the defaults the measuring takes about 7 minutes on 2 cores
# (LONG=1 about 55); a build from nothing adds about 4 more. See docs/benchmarks.md, "How to
# run" (and today's figures).
set -euo pipefail

if [[ ${LONG:-0} == 1 ]]; then
    DURATION=${DURATION:-10}
    WARMUP=${WARMUP:-2}
    ROUNDS=${ROUNDS:-5}
fi
DURATION=${DURATION:-3}
WARMUP=${WARMUP:-1}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-$(nproc)}
MAX_REQUESTS=${MAX_REQUESTS:-10000}
CONNECTIONS=${CONNECTIONS:-"1 16 64"}
IDLE_CONNS=${IDLE_CONNS:-10000}
BASE_PORT=${BASE_PORT:-18082}
PARTS=${PARTS:-"hello small big one idle components handlers"}
# How long a server gets to answer its first request before the suite gives up on it.
START_DEADLINE=30

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release
RESULTS=$TARGET/bench-results.tsv
REPORT=$TARGET/bench-results.md
LOGS=$TARGET/bench-servers.log
LUA=$ROOT/bench/wrk_report.lua
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kamaelia-bench.XXXXXX")
mkdir -p "$TARGET"
SUITE_START=$SECONDS

say() { printf '%s\n' "$*" >&2; }
wanted() { [[ " $PARTS " == *" $1 "* ]]; }
die() {
    say "bench/run.sh: $*"
    exit 1
}

# ----- servers, and stopping them whatever happens -----

declare -A PID=() PORT=()

stop_server() { # name
    local name=$1 pid=${PID[$1]:-}
    [[ -n $pid ]] || return 0
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "PID[$name]"
    # Keep what the server logged (warnings, errors) for whoever reads the figures.
    if [[ -s $WORK/$name.log ]]; then
        { echo "== $name (pid $pid)"; cat "$WORK/$name.log"; } >>"$LOGS"
    fi
}

cleanup() {
    local status=$?
    for name in "${!PID[@]}"; do stop_server "$name"; done
    rm -rf "$WORK"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

next_port=$BASE_PORT
assign_port() { # NAME: PORT[NAME] := a free loopback port after the last one handed out
    while ! port_is_free "$next_port"; do next_port=$((next_port + 1)); done
    PORT[$1]=$next_port
    next_port=$((next_port + 1))
}

# start_server NAME PATH COMMAND...: starts COMMAND (which listens on ${PORT[NAME]}) in the
# background, logging to $WORK/NAME.log, and waits until GET PATH answers 200.
start_server() {
    local name=$1 path=$2
    shift 2
    port_is_free "${PORT[$name]}" || die "port ${PORT[$name]} for $name is taken"
    "$@" >"$WORK/$name.log" 2>&1 &
    PID[$name]=$!
    local url="http://127.0.0.1:${PORT[$name]}$path" deadline=$((SECONDS + START_DEADLINE))
    until curl -sf -o /dev/null --max-time 1 "$url"; do
        if ! kill -0 "${PID[$name]}" 2>/dev/null; then
            say "--- $WORK/$name.log:"
            cat "$WORK/$name.log" >&2 || true
            unset "PID[$name]"
            die "$name exited before answering $url (command: $*)"
        fi
        if ((SECONDS > deadline)); then
            say "--- $WORK/$name.log:"
            cat "$WORK/$name.log" >&2 || true
            die "$name did not answer $url within ${START_DEADLINE}s (command: $*)"
        fi
        sleep 0.1
    done
    say "  $name: pid ${PID[$name]}, http://127.0.0.1:${PORT[$name]}/"
}

start_ours() { # name threads [extra options]
    local name=$1 threads=$2
    shift 2
    # RUST_LOG=warn: no access log line per request, as nginx runs with access_log off and the
    # peers log nothing. Everything else is the server's default but for the threads and the
    # suite's request cap.
    start_server "$name" /hello env RUST_LOG=warn "$BIN/kamaelia" --port "${PORT[$name]}" --root "$WORK/static" \
        --threads "$threads" --max-requests-per-connection "$MAX_REQUESTS" "$@"
}

start_hyper() { # name
    start_server "$1" /hello env RUST_LOG=warn "$BIN/peer_hyper" --port "${PORT[$1]}" --threads "$THREADS" \
        --max-requests "$MAX_REQUESTS"
}

start_actix() { # name
    start_server "$1" /hello env RUST_LOG=warn "$BIN/peer_actix" --port "${PORT[$1]}" --workers "$THREADS" \
        --max-requests "$MAX_REQUESTS"
}

start_nginx() { # name workers
    local name=$1 workers=$2
    local dir=$WORK/$name user_line=""
    mkdir -p "$dir"
    # As root, nginx's workers would switch to an unprivileged user that cannot read $WORK.
    if [[ $(id -u) == 0 ]]; then user_line="user $(id -un);"; fi
    cat >"$dir/nginx.conf" <<EOF
$user_line
worker_processes $workers;
daemon off;
master_process on;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    keepalive_requests $MAX_REQUESTS;
    keepalive_timeout 75s;
    types { text/html html; application/octet-stream bin; }
    # As ours labels text: text/html; charset=utf-8.
    charset utf-8;
    default_type application/octet-stream;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    server {
        listen 127.0.0.1:${PORT[$name]};
        root $WORK/static;
    }
}
EOF
    start_server "$name" /small.html "$NGINX" -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf"
}

# ----- 0. tools, limits, builds -----

say "== 0. tools and builds"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
    sudo=""
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null || die "missing ${missing[*]}, and not root and no sudo to install them"
        sudo=sudo
    fi
    say "  installing ${missing[*]} with apt-get"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] || die "nginx is not at $NGINX"
command -v wrk >/dev/null || die "wrk did not install"

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    (cd "$ROOT" && cargo build --release -p kamaelia --bin kamaelia && cargo build --release -p kamaelia-bench --bins)
fi
for b in kamaelia peer_hyper peer_actix idle_conns axon_chain lifecycle suite_report; do
    [[ -x $BIN/$b ]] || die "$BIN/$b is missing: build with cargo build --release -p kamaelia -p kamaelia-bench"
done

# Idle connections: the client holds IDLE_CONNS sockets, the server as many; each process gets the
# hard limit of open files, and IDLE_CONNS is lowered to what it allows, with a note.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_limit=$(ulimit -n)
idle_conns=$IDLE_CONNS
idle_note=""
if [[ $fd_limit != unlimited ]] && ((fd_limit < idle_conns + 200)); then
    idle_conns=$((fd_limit - 200))
    idle_note="lowered from $IDLE_CONNS to $idle_conns: the open-file limit is $fd_limit"
fi
read -r port_lo port_hi </proc/sys/net/ipv4/ip_local_port_range
if ((port_hi - port_lo - 1000 < idle_conns)); then
    idle_conns=$((port_hi - port_lo - 1000))
    idle_note="lowered from $IDLE_CONNS to $idle_conns: the ephemeral port range is $port_lo-$port_hi"
fi
say "  open-file limit $fd_limit; idle connections to open: $idle_conns ${idle_note:+($idle_note)}"

# ----- how quiet the machine is -----

# CPU seconds the machine spent busy, and in all, from /proc/stat.
cpu_seconds() { # prints "busy total"
    local _cpu user nice system idle iowait irq softirq steal _rest
    read -r _cpu user nice system idle iowait irq softirq steal _rest </proc/stat
    awk -v b=$((user + nice + system + irq + softirq)) -v t=$((user + nice + system + idle + iowait + irq + softirq + steal)) \
        -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f %.2f", b / hz, t / hz }'
}
# CHILDREN := CPU seconds used by this script's finished children (servers once stopped, wrk, the
# benches). `times` must run in this shell, not in a subshell, which starts from zero.
children_seconds() {
    times >"$WORK/times"
    CHILDREN=$(tail -1 "$WORK/times" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] } printf "%.2f", s }')
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
read -r busy_before total_before <<<"$(cpu_seconds)"
children_seconds
children_before=$CHILDREN

# ----- the static directory -----

mkdir -p "$WORK/static"
prefix='<!DOCTYPE html><html><head><title>small</title></head><body><p>'
suffix=$'</p></body></html>\n'
filler=$(yes 'Kamaelia benchmark filler text. ' | head -c $((1024 - ${#prefix} - ${#suffix})) || true)
printf '%s%s%s' "$prefix" "$filler" "$suffix" >"$WORK/static/small.html"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$WORK/static/big.bin"
[[ $(stat -c %s "$WORK/static/small.html") == 1024 ]] || die "small.html is not 1024 bytes"

# ----- the raw results -----

: >"$RESULTS"
: >"$LOGS"
record() { # section figure side connections run value unit
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"
}

# cpu_ticks PID: "user system" clock ticks used so far by process PID and its running children
# (nginx's workers are children of its master). The comm field is skipped up to its closing
# parenthesis, as a process name may hold spaces. Each file is read with getline, which skips a
# process that ended after the glob was expanded: reading it as an input file made mawk stop
# with an error, printing nothing, and the point's CPU time came out negative or absurd on a
# busy machine.
cpu_ticks() {
    awk -v p="$1" 'BEGIN {
            for (i = 1; i < ARGC; i++) {
                if ((getline line < ARGV[i]) <= 0) continue
                close(ARGV[i])
                split(line, head, " "); pid = head[1]
                sub(/^.*\) /, "", line); split(line, f, " ")
                if (pid == p || f[2] == p) { u += f[12]; s += f[13] }
            }
            printf "%d %d", u, s
        }' /proc/[0-9]*/stat
}

# The side a server's figures are recorded under, where it is not its name: the one-thread
# servers are ours and nginx, in a scenario of their own.
declare -A SIDE=([ours1]=ours [nginx1]=nginx)
# Points that failed (a socket error or a non-2xx answer in a run): "scenario server conns".
FAILED_POINTS=()

# wrk_point SCENARIO SERVER PATH CONNECTIONS ROUND: one warm-up, one measurement, recorded, with
# the server's CPU time over the measurement divided by the requests served. A run with any
# error fails its point: recorded as such, and named at the end.
wrk_point() {
    local scenario=$1 server=$2 path=$3 c=$4 round=$5
    local side=${SIDE[$server]:-$server}
    local threads=$((c < 2 ? c : 2)) url="http://127.0.0.1:${PORT[$server]}$3" out line
    kill -0 "${PID[$server]}" 2>/dev/null || die "$server (pid ${PID[$server]}) is no longer running"
    wrk -t"$threads" -c"$c" -d"${WARMUP}s" --timeout 10s "$url" >/dev/null
    local user0 sys0 user1 sys1
    read -r user0 sys0 <<<"$(cpu_ticks "${PID[$server]}")"
    out=$(wrk -t"$threads" -c"$c" -d"${DURATION}s" --timeout 10s --latency -s "${WRK_SCRIPT:-$LUA}" "$url")
    read -r user1 sys1 <<<"$(cpu_ticks "${PID[$server]}")"
    line=$(grep '^WRK ' <<<"$out") || die "wrk printed no report for $url: $out"
    # requests=.. duration_us=.. bytes=.. p50_us=.. p99_us=.. max_us=.. err_*=..
    local -A f=()
    local kv
    for kv in ${line#WRK }; do f[${kv%%=*}]=${kv#*=}; done
    local secs rps mbps errors
    secs=$(awk -v d="${f[duration_us]}" 'BEGIN { print d / 1e6 }')
    rps=$(awk -v n="${f[requests]}" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')
    mbps=$(awk -v b="${f[bytes]}" -v s="$secs" 'BEGIN { printf "%.1f", b / s / 1e6 }')
    errors=$((f[err_connect] + f[err_read] + f[err_write] + f[err_status] + f[err_timeout]))
    local cpu_user cpu_all
    read -r cpu_user cpu_all <<<"$(awk -v n="${f[requests]}" -v u=$((user1 - user0)) -v s=$((sys1 - sys0)) \
        -v hz="$(getconf CLK_TCK)" 'BEGIN { if (n == 0) n = 1; printf "%.3f %.3f", u / hz * 1e6 / n, (u + s) / hz * 1e6 / n }')"
    record http "${scenario}_rps" "$side" "$c" "$round" "$rps" req/s
    record http "${scenario}_p99_us" "$side" "$c" "$round" "${f[p99_us]}" us
    record http "${scenario}_mbps" "$side" "$c" "$round" "$mbps" MB/s
    record http "${scenario}_errors" "$side" "$c" "$round" "$errors" count
    record http "${scenario}_non2xx" "$side" "$c" "$round" "${f[err_status]}" count
    record http "${scenario}_cpu_us" "$side" "$c" "$round" "$cpu_all" us
    record http "${scenario}_cpu_user_us" "$side" "$c" "$round" "$cpu_user" us
    local note=""
    if ((errors > 0)); then
        note="  FAILED: $errors errors, ${f[err_status]} of them non-2xx answers"
        FAILED_POINTS+=("$scenario $side $c")
    fi
    say "$(printf '  %-6s %-6s %3s conn  round %s: %10s req/s  p99 %7.2f ms  %8s MB/s  CPU %6.2f µs/req (user %5.2f)%s' \
        "$scenario" "$server" "$c" "$round" "$rps" "$(awk -v u="${f[p99_us]}" 'BEGIN { print u / 1000 }')" \
        "$mbps" "$cpu_all" "$cpu_user" "$note")"
}

# response_of SERVER PATH OUT: what matters in SERVER's answer to GET PATH, written to OUT.head
# (the status line; Content-Type; the framing, Content-Length's value or the transfer coding; one
# line each, names lowercased) and OUT.body (the body, de-chunked).
response_of() {
    local server=$1 path=$2 out=$3
    curl -s --http1.1 -D "$out.raw" -o "$out.body" --max-time 10 "http://127.0.0.1:${PORT[$server]}$path" ||
        die "$server did not answer GET $path"
    tr -d '\r' <"$out.raw" | awk 'NR == 1 { print; next }
        { i = index($0, ":"); if (i == 0) next
          name = tolower(substr($0, 1, i - 1)); value = substr($0, i + 1); sub(/^[ \t]+/, "", value)
          if (name == "content-type" || name == "content-length" || name == "transfer-encoding") print name ": " value }' |
        { read -r status; echo "$status"; sort; } >"$out.head"
}

# same_response PATH REFERENCE SERVER...: each SERVER's whole answer to GET PATH (status line,
# Content-Type, framing, body) is REFERENCE's, byte for byte; else the suite stops, showing both.
same_response() {
    local path=$1 reference=$2 name
    shift 2
    response_of "$reference" "$path" "$WORK/ref"
    for name in "$@"; do
        response_of "$name" "$path" "$WORK/peer"
        if ! cmp -s "$WORK/ref.head" "$WORK/peer.head" || ! cmp -s "$WORK/ref.body" "$WORK/peer.body"; then
            say "--- $reference, GET $path:"
            cat "$WORK/ref.head" >&2
            say "--- $name:"
            cat "$WORK/peer.head" >&2
            cmp "$WORK/ref.body" "$WORK/peer.body" >&2 || true
            die "$name does not answer GET $path as $reference does: the point would compare different work"
        fi
    done
}

# interleaved SCENARIO PATH SERVER...: every connection count, ROUNDS rounds, the servers taking
# turns within each round, and each round starting one server further on (ours, hyper, actix;
# hyper, actix, ours; ...), so that drift hits every side alike and none always goes first.
interleaved() {
    local scenario=$1 path=$2
    shift 2
    local servers=("$@") c round i n=$#
    for c in $CONNECTIONS; do
        for ((round = 1; round <= ROUNDS; round++)); do
            for ((i = 0; i < n; i++)); do
                wrk_point "$scenario" "${servers[(i + round - 1) % n]}" "$path" "$c" "$round"
            done
        done
    done
}

# ----- 1. HTTP -----

# Only when an HTTP part is wanted: starting the four servers and checking them costs time.
if wanted hello || wanted small || wanted big || wanted one; then
say "== 1. HTTP: wrk, keep-alive, not pipelined, ${WARMUP}s warm-up + ${DURATION}s per point, $ROUNDS rounds"
say "  parallelism: ours $THREADS threads, hyper $THREADS workers, actix-web $THREADS workers, nginx $THREADS" \
    "worker processes (one thread: ours 1, nginx 1); every server closes a connection after $MAX_REQUESTS requests"
for name in ours hyper actix nginx; do assign_port "$name"; done
start_ours ours "$THREADS"
start_hyper hyper
start_actix actix
start_nginx nginx "$THREADS"

# Before any point: the peers answer as ours does (header-name case, order and the other fields
# aside), and the files are served as they are on disk.
same_response /hello ours hyper actix
for name in ours hyper actix; do
    curl -s -i --raw "http://127.0.0.1:${PORT[$name]}/hello" >"$WORK/hello.$name"
    record check hello_response_bytes "$name" - 1 "$(stat -c %s "$WORK/hello.$name")" B
done
for file in small.html big.bin; do
    same_response "/$file" ours nginx
    cmp -s "$WORK/ref.body" "$WORK/static/$file" || die "ours does not serve $file as it is on disk"
done

wanted hello && interleaved hello /hello ours hyper actix
wanted small && interleaved small /small.html ours nginx
wanted big && interleaved big /big.bin ours nginx
for name in ours hyper actix nginx; do stop_server "$name"; done

# One thread each: ours and nginx again, on the 1 KiB file.
if wanted one; then
    for name in ours1 nginx1; do assign_port "$name"; done
    start_ours ours1 1
    start_nginx nginx1 1
    same_response /small.html ours1 nginx1
    interleaved small1 /small.html ours1 nginx1
    for name in ours1 nginx1; do stop_server "$name"; done
fi
say "  (HTTP took $((SECONDS - SUITE_START))s since the start)"
fi

# ----- 2. bytes per idle keep-alive connection -----

say "== 2. bytes per idle keep-alive connection: $idle_conns connections, each after one request"
idle_point() { # name
    local name=$1 out line
    out=$("$BIN/idle_conns" --port "${PORT[$name]}" --pid "${PID[$name]}" --count "$idle_conns" --path /hello) ||
        die "idle_conns against $name failed"
    line=$(grep '^IDLE_CONN ' <<<"$out") || die "idle_conns printed no figures: $out"
    local -A f=()
    local kv
    for kv in ${line#IDLE_CONN }; do f[${kv%%=*}]=${kv#*=}; done
    ((f[opened] == idle_conns)) || idle_note="$name: only ${f[opened]} of $idle_conns connections could be opened"
    record memory idle_conn_bytes "$name" - 1 "${f[per_conn]}" B
    say "  $name: ${f[opened]} connections, RSS $((f[rss_before] / 1024)) KiB -> $((f[rss_after] / 1024)) KiB, ${f[per_conn]} B each"
}
# Fresh processes, so that neither has served the HTTP part. Ours needs room for the connections
# (--max-connections, 512 by default) and must not close them while they idle (15 s by default).
if wanted idle; then
assign_port ours
start_ours ours "$THREADS" --max-connections $((idle_conns + 100)) --keep-alive-timeout 600
idle_point ours
stop_server ours
assign_port hyper
start_hyper hyper
idle_point hyper
stop_server hyper
fi

# ----- 3. components -----

if wanted components; then
    say "== 3. components: target/release/axon_chain, target/release/lifecycle"
    "$BIN/axon_chain" --results "$RESULTS" >&2
    "$BIN/lifecycle" --results "$RESULTS" >&2
fi

# ----- 3b. handlers: a function, a tower service and a component; routing against axum -----

# /hello answered by each kind of handler in our server (target/release/handlers_server
# --hello fn|tower|component: the same bytes as peer_hyper's), each against hyper; then a table of
# 50 routes with parameters (kamaelia_bench::route_table), requests spread over them by
# bench/routes.lua, ours (function handlers) against axum (target/release/peer_axum).
if wanted handlers; then
    say "== 3b. handlers: /hello by a function, a tower service, a component (vs hyper); 50 routes (vs axum)"
    for b in handlers_server peer_axum routing; do
        [[ -x $BIN/$b ]] || die "$BIN/$b is missing: build with cargo build --release -p kamaelia-bench"
    done
    assign_port hyper
    start_hyper hyper
    for kind in fn tower component; do
        assign_port ours
        start_server ours /hello env RUST_LOG=warn "$BIN/handlers_server" --port "${PORT[ours]}" --hello "$kind" \
            --threads "$THREADS" --max-requests "$MAX_REQUESTS"
        same_response /hello hyper ours
        interleaved "hello_$kind" /hello ours hyper
        stop_server ours
    done
    stop_server hyper
    assign_port ours
    assign_port axum
    start_server ours /hello env RUST_LOG=warn "$BIN/handlers_server" --port "${PORT[ours]}" --hello fn \
        --threads "$THREADS" --max-requests "$MAX_REQUESTS"
    start_server axum /hello env RUST_LOG=warn "$BIN/peer_axum" --port "${PORT[axum]}" --threads "$THREADS" \
        --max-requests "$MAX_REQUESTS"
    same_response /api/r0/0 axum ours
    WRK_SCRIPT=$ROOT/bench/routes.lua interleaved routes /api/r0/0 ours axum
    stop_server ours
    stop_server axum
    # Routing alone, in-process: Routes::handler_for against axum's Router::call (routing.rs).
    "$BIN/routing" --results "$RESULTS" >&2
fi

# ----- 4. the table -----

read -r busy_after total_after <<<"$(cpu_seconds)"
children_seconds
others=$(awk -v b0="$busy_before" -v b1="$busy_after" -v t0="$total_before" -v t1="$total_after" \
    -v c0="$children_before" -v c1="$CHILDREN" \
    'BEGIN { o = (b1 - b0 - (c1 - c0)) / (t1 - t0) * 100; if (o < 0) o = 0; printf "%.0f", o }')
{
    echo "# Benchmark suite: our server and components against named peers"
    echo
    echo "Command: \`bench/run.sh\` (LONG=${LONG:-0} DURATION=$DURATION WARMUP=$WARMUP ROUNDS=$ROUNDS THREADS=$THREADS MAX_REQUESTS=$MAX_REQUESTS CONNECTIONS=\"$CONNECTIONS\" IDLE_CONNS=$IDLE_CONNS PARTS=\"$PARTS\")."
    echo "Parallelism: ours $THREADS threads (\`--threads $THREADS\`), hyper $THREADS tokio workers, actix-web $THREADS workers, nginx $THREADS worker processes; the one-thread rows: ours \`--threads 1\`, nginx \`worker_processes 1\`. Every server closes a connection after $MAX_REQUESTS requests. Each peer's response was compared with ours (status line, Content-Type, framing, body) before measuring."
    echo "Commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')."
    echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $(uname -sr); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); $("$NGINX" -v 2>&1 | cut -d' ' -f3); $(rustc --version 2>/dev/null || echo 'rustc ?')."
    echo "Servers and wrk share the machine's cores; nothing is pinned. Load average before measuring: $load_before. While the suite measured, other processes (not its servers, wrk or benchmarks) used $others% of the machine's CPU (about 0% on a quiet machine)."
    [[ -z $idle_note ]] || echo "Idle connections: $idle_note."
    echo "Whole run: $((SECONDS - SUITE_START)) s. Raw figures (every run): $RESULTS; what the servers logged: $LOGS."
    echo
    "$BIN/suite_report" "$RESULTS"
} >"$REPORT"
say ""
cat "$REPORT"
if ((${#FAILED_POINTS[@]})); then
    say ""
    say "bench/run.sh: ${#FAILED_POINTS[@]} point run(s) FAILED (socket errors or non-2xx answers): ${FAILED_POINTS[*]}"
    exit 1
fi
