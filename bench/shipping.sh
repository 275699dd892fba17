#!/usr/bin/env bash
# Shipping quotes against the real binary, on SQLite and PostgreSQL. Per backend: 3 merchants
# (Phnom Penh) with 2 listed products each, through the API (`bench-baseline shipping-seed`),
# then wrk drives, in one run, `POST /api/v1/shipping/rates` of a 3-merchant cart (2 items
# each, to another province: every Cambodian courier prices each parcel, the options sorted)
# and the yardstick: a bare axum handler taking the same body and doing the reads a quote needs
# from the same database (each item's weight, each merchant's address; `bench-baseline
# shipping-bare`). Appends the results, with the machine, to bench/results.md.
# Usage: bench/shipping.sh [seconds per scenario, default 10] [backends, default "sqlite postgres"]
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
pasar_addr=127.0.0.1:18097
bare_addr=127.0.0.1:18098
admin_email=bench.admin@example.com
password='Bench!Passw0rd1'
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
export PASAR_RATE_LIMIT__ENABLED=false PASAR_LOG__LEVEL=warn

run() { local name=$1 url=$2; shift 2; wrk_row "$name" "$connections" "$duration" "$url" "$@"; }

report=$(mktemp)
{
    echo
    echo "## $(date -u +%Y-%m-%dT%H:%MZ) — shipping quotes — $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    machine_line
    echo "Command: \`bench/shipping.sh $duration \"$backends\"\` (wrk -t2 -c$connections -d${duration}s; rate limits off)."
} > "$report"

for backend in $backends; do
    work=$(mktemp -d)
    if [ "$backend" = postgres ]; then
        psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench_shipping' -c 'CREATE DATABASE pasar_bench_shipping' >/dev/null
        db_url="$pg_admin/pasar_bench_shipping"
        export PASAR_DATABASE__URL="$db_url"
    else
        unset PASAR_DATABASE__URL
        db_url="sqlite://$work/pasar.db"
    fi
    "$target/pasar" --data-dir "$work" admin create --email "$admin_email" --password "$password" >/dev/null
    "$target/pasar" --data-dir "$work" serve --addr "$pasar_addr" & pasar_pid=$!
    pids+=("$pasar_pid")
    wait_ready "http://$pasar_addr/health/ready"
    seeded=$("$target/bench-baseline" shipping-seed "http://$pasar_addr" "$admin_email" "$password" "$work")
    if [ "$backend" = postgres ]; then psql "$db_url" -qc 'ANALYZE' >/dev/null; fi

    "$target/bench-baseline" shipping-bare "$bare_addr" "$db_url" & bare_pid=$!
    pids+=("$bare_pid")
    wait_listening "http://$bare_addr/rates"

    rows=()
    rows+=("$(run 'bare axum, same reads from the same database (yardstick)' "http://$bare_addr/rates" -s "$work/rates.lua")")
    rows+=("$(run 'pasar POST /api/v1/shipping/rates, 3 merchants x 2 items' "http://$pasar_addr/api/v1/shipping/rates" -s "$work/rates.lua")")
    kill "$bare_pid" 2>/dev/null || true
    kill -TERM "$pasar_pid"; wait "$pasar_pid" 2>/dev/null || true
    [ "$backend" = postgres ] && psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench_shipping' >/dev/null 2>&1

    {
        echo
        echo "### $backend"
        echo
        echo "$seeded."
        echo
        echo "| scenario | req/s | p50 | p99 | non-2xx | req/s vs yardstick |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: |"
        base=$(echo "${rows[0]}" | cut -d'|' -f2)
        for row in "${rows[@]}"; do
            IFS='|' read -r name rps p50 p99 non2xx <<<"$row"
            ratio=$(awk -v a="$rps" -v b="$base" 'BEGIN { printf "%.2f", a / b }')
            echo "| $name | $rps | $p50 | $p99 | $non2xx | $ratio |"
        done
    } >> "$report"
    rm -rf "$work"
done
publish "$report"
