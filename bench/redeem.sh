#!/usr/bin/env bash
# Counter redemptions against the real binary, on SQLite and PostgreSQL, in one run.
# Per backend: one merchant with an outlet and a voucher offer, customers holding the vouchers
# (bought through checkout and the simulator), then W tills redeeming distinct vouchers by
# printed QR + PIN as fast as they can. Also ES256 verification of the same tokens alone, with
# keys from the JWKS. Yardstick: a bare axum handler committing one single-row INSERT per
# request to the same kind of database, driven by wrk with as many connections.
# Appends the results, with the machine, to bench/results.md.
# Usage: bench/redeem.sh [seconds, default 15] [tills, default 32] [vouchers, default 6000] [backends]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
duration="${1:-15}"
tills="${2:-32}"
vouchers="${3:-6000}"
backends="${4:-sqlite postgres}"
pg_admin="${PASAR_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
need_wrk
need_psql
build
pasar_addr=127.0.0.1:18095
write_addr=127.0.0.1:18096
admin_email=bench.admin@example.com
password='Bench!Passw0rd1'
secret=bench-simulator-secret
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
export PASAR_RATE_LIMIT__ENABLED=false PASAR_LOG__LEVEL=warn
export PASAR_PAYMENTS__SIMULATOR__ENABLED=true PASAR_PAYMENTS__SIMULATOR__WEBHOOK_SECRET="$secret" PASAR_AUTH__UNVERIFIED_MAY_NOT='[]'

bench_backend() {
    local backend=$1 work db_url write_url
    work=$(mktemp -d)
    if [ "$backend" = postgres ]; then
        psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench' -c 'CREATE DATABASE pasar_bench' >/dev/null
        db_url="$pg_admin/pasar_bench"
        write_url="$db_url"
        export PASAR_DATABASE__URL="$db_url"
    else
        unset PASAR_DATABASE__URL
        write_url="sqlite://$work/bench-writes.db"
    fi
    "$target/pasar" --data-dir "$work" admin create --email "$admin_email" --password "$password" >/dev/null

    "$target/bench-baseline" write "$write_addr" "$write_url" & write_pid=$!
    pids+=("$write_pid")
    sleep 1
    local out write_rps write_p99
    printf 'wrk.method = "POST"\nwrk.body = "{}"\nwrk.headers["Content-Type"] = "application/json"\n' > "$work/write.lua"
    out=$(wrk -t2 -c"$tills" -d"${duration}s" --latency -s "$work/write.lua" "http://$write_addr/write")
    write_rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    [ -n "$write_rps" ] || fail "the yardstick measured nothing: $out"
    write_p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    kill "$write_pid" 2>/dev/null || true

    "$target/pasar" --data-dir "$work" serve --addr "$pasar_addr" & pasar_pid=$!
    pids+=("$pasar_pid")
    wait_ready "http://$pasar_addr/health/ready"
    local result
    result=$("$target/bench-baseline" redeem "http://$pasar_addr" "$admin_email" "$password" "$secret" "$duration" "$tills" "$vouchers")
    kill -TERM "$pasar_pid"; wait "$pasar_pid" || true

    local count per_sec errors approved elapsed p50 p99 verified verify_rate verify_us ratio
    IFS='|' read -r _ count per_sec errors approved elapsed <<<"$(echo "$result" | grep '^redeem|')"
    smoke_check "redeem ($backend)" "$count" "$errors"
    IFS='|' read -r _ p50 p99 <<<"$(echo "$result" | grep '^latency|')"
    IFS='|' read -r _ verified verify_rate verify_us <<<"$(echo "$result" | grep '^verify|')"
    ratio=$(awk -v a="$per_sec" -v b="$write_rps" 'BEGIN { printf "%.3f", a / b }')
    {
        echo
        echo "### $backend"
        echo
        echo "Bare axum single-row INSERT per request (yardstick, wrk -c$tills): $write_rps tx/s, p99 $write_p99."
        echo "Redemptions: $count in $elapsed s by $tills tills = **$per_sec redemptions/s** ($ratio of the yardstick's tx/s), p50 $p50 ms, p99 $p99 ms; $approved approved, $errors failed."
        echo "Token verification alone (ES256, key from the JWKS, one core): $verify_rate verifications/s, $verify_us µs each ($verified tokens)."
    } >> "$report"
    rm -rf "$work"
    if [ "$backend" = postgres ]; then
        psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench' >/dev/null
    fi
}

report=$(mktemp)
{
    echo
    echo "## $(date -u +%Y-%m-%dT%H:%MZ) — voucher redemptions — $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    machine_line
    echo "Command: \`${PASAR_BENCH_BIN:+PASAR_BENCH_BIN=$PASAR_BENCH_BIN }bench/redeem.sh $duration $tills $vouchers\` (rate limits off; velocity limits of the fraud rules lifted for the load, every rule still evaluated; each redemption: printed QR token + PIN, Idempotency-Key, device location)."
} > "$report"
for backend in $backends; do
    bench_backend "$backend"
done
publish "$report"
rm -f "$report"
