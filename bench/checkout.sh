#!/usr/bin/env bash
# Checkout end to end against the real binary, on SQLite, PostgreSQL, and split into processes
# (PostgreSQL + NATS JetStream + Redis behind the gateway), in one run.
# Per backend: 10 merchants x 10 listed products with stock, N customers (one per concurrent
# worker) looping add to cart -> POST /orders -> POST /payments (simulator) -> the gateway's
# signed webhook -> poll until PAID. Yardstick: a bare axum handler committing one single-row
# INSERT per request to the same kind of database, driven by wrk with as many connections.
# Appends the results, with the machine, to bench/results.md.
# Split: core (identity, merchants, catalog, notifications, vouchers, ledger), two instances of
# shop (orders, cart, inventory), pay (payments) and the gateway, which the load goes through.
# Usage: bench/checkout.sh [seconds, default 20] [customers, default 32] [backends, default "sqlite postgres split"]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
duration="${1:-20}"
customers="${2:-32}"
backends="${3:-sqlite postgres split}"
pg_admin="${PASAR_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
need_wrk
need_psql
build
pasar_addr=127.0.0.1:18093
write_addr=127.0.0.1:18094
admin_email=bench.admin@example.com
password='Bench!Passw0rd1'
secret=bench-simulator-secret
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
# Every process of the split layout unseals the same signing keys.
export PASAR_KEYRING__MASTER_KEY="${PASAR_KEYRING__MASTER_KEY:-$(head -c 32 /dev/urandom | base64)}"
# Rate limits off; the simulator's webhook key known to the load generator (it plays the
# gateway); fresh bench customers may check out without verifying their email.
export PASAR_RATE_LIMIT__ENABLED=false PASAR_LOG__LEVEL=warn
export PASAR_PAYMENTS__SIMULATOR__ENABLED=true PASAR_PAYMENTS__SIMULATOR__WEBHOOK_SECRET="$secret" PASAR_AUTH__UNVERIFIED_MAY_NOT='[]'
# Physical orders ship through the simulator courier (its REGULAR service is free).
export PASAR_SHIPPING__SIMULATOR__ENABLED=true

bench_backend() {
    local backend=$1 work db_url write_url
    work=$(mktemp -d)
    if [ "$backend" != sqlite ]; then
        psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench' -c 'CREATE DATABASE pasar_bench' >/dev/null
        db_url="$pg_admin/pasar_bench"
        write_url="$db_url"
        export PASAR_DATABASE__URL="$db_url"
    else
        unset PASAR_DATABASE__URL
        write_url="sqlite://$work/bench-writes.db"
    fi
    "$target/pasar" --data-dir "$work" admin create --email "$admin_email" --password "$password" >/dev/null

    # The yardstick first, alone on the machine.
    "$target/bench-baseline" write "$write_addr" "$write_url" & write_pid=$!
    pids+=("$write_pid")
    sleep 1
    local out write_rps write_p50 write_p99
    printf 'wrk.method = "POST"\nwrk.body = "{}"\nwrk.headers["Content-Type"] = "application/json"\n' > "$work/write.lua"
    out=$(wrk -t2 -c"$customers" -d"${duration}s" --latency -s "$work/write.lua" "http://$write_addr/write")
    write_rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    [ -n "$write_rps" ] || fail "the yardstick measured nothing: $out"
    write_p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    write_p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    kill "$write_pid" 2>/dev/null || true

    local result serving=()
    if [ "$backend" = split ]; then
        start_split "$work"
        serving=("${split_pids[@]}")
    else
        "$target/pasar" --data-dir "$work" serve --addr "$pasar_addr" & pasar_pid=$!
        pids+=("$pasar_pid")
        serving=("$pasar_pid")
        wait_ready "http://$pasar_addr/health/ready"
    fi
    result=$("$target/bench-baseline" checkout "http://$pasar_addr" "$admin_email" "$password" "$secret" "$duration" "$customers")
    kill -TERM "${serving[@]}"; wait "${serving[@]}" || true
    [ "$backend" = split ] && stop_split_env

    local orders orders_per_sec errors ratio
    IFS='|' read -r _ orders orders_per_sec errors <<<"$(echo "$result" | grep '^orders|')"
    smoke_check "checkout ($backend)" "$orders" "$errors"
    ratio=$(awk -v a="$orders_per_sec" -v b="$write_rps" 'BEGIN { printf "%.3f", a / b }')
    {
        echo
        echo "### $backend"
        echo
        echo "Bare axum single-row INSERT per request (yardstick, wrk -c$customers): $write_rps tx/s, p50 $write_p50, p99 $write_p99."
        echo "Checkout: $orders orders paid in ${duration} s by $customers customers = **$orders_per_sec orders/s** ($ratio of the yardstick's tx/s), $errors failed."
        echo
        echo "| step | p50 ms | p99 ms |"
        echo "| --- | ---: | ---: |"
        echo "$result" | grep '^step|' | while IFS='|' read -r _ name p50 p99; do
            echo "| $name | $p50 | $p99 |"
        done
    } >> "$report"
    rm -rf "$work"
    if [ "$backend" != sqlite ]; then
        psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench' >/dev/null
    fi
}

report=$(mktemp)
{
    echo
    echo "## $(date -u +%Y-%m-%dT%H:%MZ) — checkout end to end — $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    machine_line
    echo "Command: \`${PASAR_BENCH_BIN:+PASAR_BENCH_BIN=$PASAR_BENCH_BIN }bench/checkout.sh $duration $customers\` (rate limits off; each order: cart add, checkout with Idempotency-Key, payment with Idempotency-Key, signed simulator webhook, poll every 10 ms until PAID)."
} > "$report"
for backend in $backends; do
    bench_backend "$backend"
done
publish "$report"
rm -f "$report"
