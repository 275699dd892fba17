#!/usr/bin/env bash
# Catalog reads and stock reservations against the real binary, on SQLite and PostgreSQL.
# Per backend: loads 10,000 listed products of 100 merchants (and stock for 1,000 SKUs) through
# the API, then drives with wrk, in one run: a bare axum point read of the same database (the
# yardstick), product detail and the first list page (read cache on, then off), and
# reservations through the internal route with an internal token (`pasar keys internal-token`;
# one hot SKU; 1,000 SKUs). Appends the results, with the machine, to bench/results.md.
# Usage: bench/catalog.sh [seconds per scenario, default 10] [backends, default "sqlite postgres"]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
duration="${1:-10}"
backends="${2:-sqlite postgres}"
connections=32
pg_admin="${PASAR_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
need_wrk
need_psql
build
# Smoke: 2 merchants (200 products, all stocked SKUs) instead of 100.
[ "$smoke" = 1 ] && export BENCH_MERCHANTS="${BENCH_MERCHANTS:-2}"
merchants="${BENCH_MERCHANTS:-100}"
pasar_addr=127.0.0.1:18091
point_addr=127.0.0.1:18092
admin_email=bench.admin@example.com
password='Bench!Passw0rd1'
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
export PASAR_RATE_LIMIT__ENABLED=false PASAR_LOG__LEVEL=warn

run() { local name=$1 url=$2; shift 2; wrk_row "$name" "$connections" "$duration" "$url" "$@"; }

write_scripts() {
    local work=$1
    cat > "$work/common.lua" <<LUA
dofile("$work/targets.lua")
local counter = 1
function setup(thread) thread:set("seed", counter); counter = counter + 1 end
function init(args) math.randomseed(seed * 7919 + os.time()) end
function uuid()
    local t = {}
    for i = 1, 32 do t[i] = string.format("%x", math.random(0, 15)) end
    local s = table.concat(t)
    return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-4" .. s:sub(14, 16) .. "-a" .. s:sub(18, 20) .. "-" .. s:sub(21, 32)
end
LUA
    cat > "$work/point.lua" <<LUA
dofile("$work/common.lua")
request = function() return wrk.format("GET", "/products/" .. product_ids[math.random(#product_ids)]) end
LUA
    cat > "$work/detail.lua" <<LUA
dofile("$work/common.lua")
request = function() return wrk.format("GET", "/api/v1/products/" .. product_ids[math.random(#product_ids)]) end
LUA
    for scenario in hot spread; do
        cat > "$work/reserve-$scenario.lua" <<LUA
dofile("$work/common.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SERVICE_TOKEN")
request = function()
    local pick = stocked[1]
    if "$scenario" == "spread" then pick = stocked[math.random(#stocked)] end
    local body = '{"reservationId":"' .. uuid() .. '","lines":[{"merchantId":"' .. pick[1] .. '","sku":"' .. pick[2] .. '","quantity":1}]}'
    return wrk.format(nil, "/internal/v1/inventory/reservations", nil, body)
end
LUA
    done
}

start_pasar() {
    local work=$1; shift
    env "$@" "$target/pasar" --data-dir "$work" serve --addr "$pasar_addr" & pasar_pid=$!
    pids+=("$pasar_pid")
    wait_ready "http://$pasar_addr/health/ready"
}

stop_pasar() { kill -TERM "$pasar_pid"; wait "$pasar_pid" || true; }

bench_backend() {
    local backend=$1 work db_url
    work=$(mktemp -d)
    if [ "$backend" = postgres ]; then
        psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench' -c 'CREATE DATABASE pasar_bench' >/dev/null
        db_url="$pg_admin/pasar_bench"
        export PASAR_DATABASE__URL="$db_url"
    else
        unset PASAR_DATABASE__URL
        db_url="sqlite://$work/pasar.db"
    fi
    "$target/pasar" --data-dir "$work" admin create --email "$admin_email" --password "$password" >/dev/null
    start_pasar "$work"
    local load_start=$SECONDS
    "$target/bench-baseline" load "http://$pasar_addr" "$admin_email" "$password" "$work" >&2
    local load_secs=$((SECONDS - load_start))
    # Measure a settled system: every consumer caught up, and fresh planner statistics.
    for _ in $(seq 1 600); do
        curl -fs "http://$pasar_addr/metrics" | grep -q '^pasar_outbox_lag_events 0$' && break
        sleep 0.1
    done
    if [ "$backend" = postgres ]; then psql "$db_url" -qc 'ANALYZE' >/dev/null; fi
    write_scripts "$work"

    # Reservations are an internal route: the token a module in another process would send.
    local service_token
    service_token=$("$target/pasar" --data-dir "$work" keys internal-token --as orders)
    export SERVICE_TOKEN="$service_token"

    "$target/bench-baseline" point "$point_addr" "$db_url" & point_pid=$!
    pids+=("$point_pid")
    wait_listening "http://$point_addr/products/00000000-0000-0000-0000-000000000000"
    sleep 0.5

    local results=()
    results+=("$(run 'bare axum + same-database point read (baseline)' "http://$point_addr" -s "$work/point.lua")")
    # Warm the read cache the way traffic would, then measure.
    wrk -t2 -c"$connections" -d5s -s "$work/detail.lua" "http://$pasar_addr" >/dev/null
    results+=("$(run 'pasar GET /api/v1/products/{id} (read cache)' "http://$pasar_addr" -s "$work/detail.lua")")
    results+=("$(run 'pasar GET /api/v1/products?limit=20 (read cache)' "http://$pasar_addr/api/v1/products?limit=20")")
    results+=("$(run 'pasar reserve 1 unit, one hot SKU' "http://$pasar_addr" -s "$work/reserve-hot.lua")")
    results+=("$(run 'pasar reserve 1 unit, 1,000 SKUs' "http://$pasar_addr" -s "$work/reserve-spread.lua")")
    stop_pasar
    start_pasar "$work" PASAR_CATALOG__READ_CACHE_SECS=0
    results+=("$(run 'pasar GET /api/v1/products/{id} (no cache)' "http://$pasar_addr" -s "$work/detail.lua")")
    results+=("$(run 'pasar GET /api/v1/products?limit=20 (no cache)' "http://$pasar_addr/api/v1/products?limit=20")")
    stop_pasar
    kill "$point_pid" 2>/dev/null || true

    local base_rps
    base_rps=$(echo "${results[0]}" | cut -d'|' -f2)
    {
        echo
        echo "### $backend"
        echo
        echo "Loaded $((merchants * 100)) listed products of $merchants merchants and stock for $(( (merchants < 10 ? merchants : 10) * 100 )) SKUs through the API in ${load_secs} s."
        echo
        echo "| scenario | req/s | p50 | p99 | non-2xx | req/s vs baseline |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: |"
        for row in "${results[@]}"; do
            IFS='|' read -r name rps p50 p99 non2xx <<<"$row"
            ratio=$(awk -v a="$rps" -v b="$base_rps" 'BEGIN { printf "%.3f", a / b }')
            echo "| $name | $rps | $p50 | $p99 | $non2xx | $ratio |"
        done
    } >> "$report"
    rm -rf "$work"
    if [ "$backend" = postgres ]; then
        psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench' >/dev/null
    fi
}

report=$(mktemp)
{
    echo
    echo "## $(date -u +%Y-%m-%dT%H:%MZ) — catalog and reservations — $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    machine_line
    echo "Command: \`bench/catalog.sh $duration\` (wrk -t2 -c$connections -d${duration}s; rate limits off; random product ids; reservations of fresh ids, 1 unit each)."
} > "$report"
for backend in $backends; do
    bench_backend "$backend"
done
publish "$report"
rm -f "$report"
