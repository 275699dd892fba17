# Sourced by the scripts in bench/: tools, the build, readiness, wrk rows and the report.
#
# PASAR_BENCH_SMOKE=1 (what bench/smoke.sh and CI use): a debug build, tiny data, and the run
# fails unless every scenario answered with only 2xx; nothing is appended to results.md. It
# proves each benchmark still runs, not how fast anything is.
smoke="${PASAR_BENCH_SMOKE:-0}"

fail() { echo "bench: $*" >&2; exit 1; }

# wrk from Debian when missing (as root), else one clear message.
need_wrk() {
    command -v wrk >/dev/null && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "bench: installing wrk (apt-get install wrk)" >&2
        { apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq wrk >/dev/null 2>&1; }; } \
            || fail "wrk is required and could not be installed (apt-get install wrk)"
    else
        fail "wrk is required (apt-get install wrk)"
    fi
}

need_psql() { command -v psql >/dev/null || fail "psql is required (apt-get install postgresql-client)"; }

# Builds pasar and bench-baseline and sets $target to where they are. PASAR_BENCH_BIN=DIR
# runs binaries built elsewhere instead (e.g. a build of the previous commit, to compare two
# builds back to back on the same machine).
build() {
    if [ -n "${PASAR_BENCH_BIN:-}" ]; then
        [ -x "$PASAR_BENCH_BIN/pasar" ] && [ -x "$PASAR_BENCH_BIN/bench-baseline" ] \
            || fail "PASAR_BENCH_BIN=$PASAR_BENCH_BIN has no pasar and bench-baseline binaries"
        target="$PASAR_BENCH_BIN"
        return 0
    fi
    if [ "$smoke" = 1 ]; then
        cargo build --locked -p pasar -p bench-baseline
        target="${CARGO_TARGET_DIR:-target}/debug"
    else
        cargo build --release --locked -p pasar -p bench-baseline
        target="${CARGO_TARGET_DIR:-target}/release"
    fi
}

wait_ready() {
    for _ in $(seq 1 1000); do
        curl -fs "$1" >/dev/null 2>&1 && return 0
        sleep 0.01
    done
    fail "not ready: $1"
}

# Any HTTP answer at all (for servers without a cheap 2xx route).
wait_listening() {
    for _ in $(seq 1 1000); do
        curl -s -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.01
    done
    fail "not listening: $1"
}

# wrk_row NAME CONNECTIONS DURATION URL [wrk args...] prints "name|req/s|p50|p99|non-2xx".
wrk_row() {
    local name=$1 connections=$2 duration=$3 url=$4; shift 4
    local out rps p50 p99 non2xx timeout=2s
    # A debug build behind a single SQLite writer can stall a second (a job sweeping the
    # reservations the previous scenario made): smoke runs long enough to ride that out.
    if [ "$smoke" = 1 ]; then duration=3; timeout=10s; fi
    out=$(wrk -t2 -c"$connections" -d"${duration}s" --timeout "$timeout" --latency "$@" "$url")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
    [ -n "$rps" ] || fail "$name: wrk measured nothing: $out"
    # "Socket errors: connect 0, read 0, write 0, timeout 0": a server that died or stalled.
    local socket_errors
    socket_errors=$(echo "$out" | awk -F'[ ,]+' '/Socket errors/ {print $5 + $7 + $9 + $11}')
    smoke_check "$name" "$(echo "$out" | awk '/requests in/ {print $1}')" "$(( ${non2xx:-0} + ${socket_errors:-0} ))"
    echo "$name|$rps|$p50|$p99|${non2xx:-0}"
}

# smoke_check NAME DONE FAILED: in smoke mode, something must have succeeded and nothing failed.
smoke_check() {
    [ "$smoke" = 1 ] || return 0
    local name=$1 done=${2:-0} failed=${3:-0}
    if [ "${done:-0}" -gt 0 ] 2>/dev/null && [ "$failed" = 0 ]; then
        echo "bench smoke: $name: $done done, none failed" >&2
    else
        fail "smoke: $name: ${done:-0} done, $failed failed"
    fi
}

machine_line() {
    echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/ {print $2}') GiB; $(uname -sr); load generator on the same machine."
}

# Appends a finished report to results.md (shown only, in smoke mode).
publish() {
    if [ "$smoke" = 1 ]; then cat "$1"; else tee -a bench/results.md < "$1"; fi
}

# The split layout (core, two shop instances, pay, gateway) on the bench database, with NATS
# and Redis; the gateway listens on $pasar_addr. Needs $target and the caller's pids array.
start_split() {
    local work=$1 core=127.0.0.1:18095 shop1=127.0.0.1:18096 shop2=127.0.0.1:18097 pay=127.0.0.1:18098
    export PASAR_BUS__URL=nats://127.0.0.1:4222 PASAR_BUS__NAMESPACE="bench$$"
    export PASAR_CACHE__URL=redis://127.0.0.1:6379 PASAR_CACHE__PREFIX="bench$$"
    export PASAR_HTTP__PUBLIC_URL="http://$pasar_addr" PASAR_HTTP__TRUST_FORWARDED_FOR=true
    for module in identity merchants catalog notifications vouchers ledger loyalty reviews media shipping chat books analytics search; do
        export "PASAR_REMOTE__${module^^}=http://$core"
    done
    for module in orders cart inventory promotions flashsales; do
        export "PASAR_REMOTE__${module^^}=http://$shop1,http://$shop2"
    done
    export PASAR_REMOTE__PAYMENTS="http://$pay"
    split_pids=()
    local spec label addr modules
    for spec in "core|$core|identity,merchants,catalog,notifications,vouchers,ledger,loyalty,reviews,media,shipping,chat,books,analytics,search" \
        "shop1|$shop1|orders,cart,inventory,promotions,flashsales" "shop2|$shop2|orders,cart,inventory,promotions,flashsales" \
        "pay|$pay|payments" "gateway|$pasar_addr|gateway"; do
        IFS='|' read -r label addr modules <<<"$spec"
        "$target/pasar" --data-dir "$work/$label" serve --addr "$addr" --modules "$modules" &
        split_pids+=("$!"); pids+=("$!")
        wait_ready "http://$addr/health/ready"
    done
}

stop_split_env() {
    unset PASAR_BUS__URL PASAR_BUS__NAMESPACE PASAR_CACHE__URL PASAR_CACHE__PREFIX
    unset PASAR_HTTP__PUBLIC_URL PASAR_HTTP__TRUST_FORWARDED_FOR
    for module in identity merchants catalog notifications vouchers ledger loyalty reviews media shipping chat books analytics search orders cart inventory promotions flashsales payments; do
        unset "PASAR_REMOTE__${module^^}"
    done
}
