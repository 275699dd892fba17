#!/usr/bin/env bash
# Promotions against the real binary, per backend, each comparison measured in one run:
# 1. GET /api/v1/cart/summary of a 20-line cart (wrk, one customer's token) with no promotion,
#    then again with 50 live promotions (48 automatic of every kind, 2 codes entered on the
#    cart): requests/s, p50, p99, and the ratio with/without.
# 2. Checkout end to end (bench-baseline checkout) without promotions, then on a fresh database
#    with one automatic promotion and one coupon code on every order: orders/s and the ratio.
# Appends the results, with the machine, to bench/results.md.
# Usage: bench/promotions.sh [seconds, default 15] [customers, default 16] [backends, default "sqlite postgres"]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
duration="${1:-15}"
customers="${2:-16}"
backends="${3:-sqlite postgres}"
pg_admin="${PASAR_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
need_wrk
need_psql
build
pasar_addr=127.0.0.1:18095
admin_email=bench.admin@example.com
password='Bench!Passw0rd1'
secret=bench-simulator-secret
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
export PASAR_RATE_LIMIT__ENABLED=false PASAR_LOG__LEVEL=warn
export PASAR_PAYMENTS__SIMULATOR__ENABLED=true PASAR_PAYMENTS__SIMULATOR__WEBHOOK_SECRET="$secret" PASAR_AUTH__UNVERIFIED_MAY_NOT='[]'
# Physical orders ship through the simulator courier (its REGULAR service is free).
export PASAR_SHIPPING__SIMULATOR__ENABLED=true

# fresh_server BACKEND WORK: a new database and a running pasar on it.
fresh_server() {
    local backend=$1 work=$2
    if [ "$backend" = postgres ]; then
        psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench' -c 'CREATE DATABASE pasar_bench' >/dev/null
        export PASAR_DATABASE__URL="$pg_admin/pasar_bench"
    else
        unset PASAR_DATABASE__URL
        rm -rf "$work/data"
    fi
    mkdir -p "$work/data"
    "$target/pasar" --data-dir "$work/data" admin create --email "$admin_email" --password "$password" >/dev/null
    "$target/pasar" --data-dir "$work/data" serve --addr "$pasar_addr" & pasar_pid=$!
    pids+=("$pasar_pid")
    wait_ready "http://$pasar_addr/health/ready"
}

stop_server() { kill -TERM "$pasar_pid"; wait "$pasar_pid" || true; }

# checkout_rate LABEL PROMOTIONS(0|1): "orders|orders/s|failed|saga p50|saga p99".
checkout_rate() {
    local result orders per_sec errors
    result=$(BENCH_PROMOTIONS=$2 "$target/bench-baseline" checkout "http://$pasar_addr" "$admin_email" "$password" "$secret" "$duration" "$customers")
    IFS='|' read -r _ orders per_sec errors <<<"$(echo "$result" | grep '^orders|')"
    smoke_check "checkout ($1)" "$orders" "$errors"
    echo "$orders|$per_sec|$errors|$(echo "$result" | awk -F'|' '$2=="order (checkout saga)" {print $3 "|" $4}')"
}

report=$(mktemp)
{
    echo
    echo "## promotions $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    machine_line
    echo "Command: \`bench/promotions.sh $duration $customers \"$backends\"\` at $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
} > "$report"

for backend in $backends; do
    work=$(mktemp -d)
    fresh_server "$backend" "$work"
    token=$("$target/bench-baseline" promo-cart "http://$pasar_addr" "$admin_email" "$password" "$work/state.json")
    auth=(-H "Authorization: Bearer $token")
    url="http://$pasar_addr/api/v1/cart/summary"
    curl -fs "${auth[@]}" "$url" >/dev/null || fail "summary without promotions"
    without=$(wrk_row "summary, no promotions" "$customers" "$duration" "$url" "${auth[@]}")
    "$target/bench-baseline" promo-add "http://$pasar_addr" "$work/state.json"
    applied=$(curl -fs "${auth[@]}" "$url" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(len(s["promotions"]), s["discount"], sum(c["applied"] for c in s["coupons"]))')
    with=$(wrk_row "summary, 50 promotions" "$customers" "$duration" "$url" "${auth[@]}")
    stop_server

    fresh_server "$backend" "$work"
    plain=$(checkout_rate "$backend, no promotions" 0)
    stop_server
    fresh_server "$backend" "$work"
    promoted=$(checkout_rate "$backend, promotion + coupon" 1)
    stop_server
    [ "$backend" = postgres ] && psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench' >/dev/null

    IFS='|' read -r _ rps_without _ p99_without _ <<<"$without"
    IFS='|' read -r _ rps_with p50_with p99_with _ <<<"$with"
    IFS='|' read -r plain_orders plain_rate plain_errors plain_p50 plain_p99 <<<"$plain"
    IFS='|' read -r promo_orders promo_rate promo_errors promo_p50 promo_p99 <<<"$promoted"
    read -r applied_count applied_discount applied_codes <<<"$applied"
    {
        echo
        echo "### $backend"
        echo
        echo "| scenario | req/s | p50 | p99 | ratio |"
        echo "| --- | ---: | ---: | ---: | ---: |"
        echo "| cart summary, 20 lines, no promotions (wrk -c$customers) | $rps_without | $(echo "$without" | cut -d'|' -f3) | $p99_without | 1 |"
        echo "| cart summary, 20 lines, 50 live promotions ($applied_count applied, $applied_codes codes, $applied_discount off) | $rps_with | $p50_with | $p99_with | $(awk -v a="$rps_with" -v b="$rps_without" 'BEGIN { printf "%.2f", a / b }') |"
        echo
        echo "| checkout end to end, $customers customers | orders | orders/s | failed | saga p50 ms | saga p99 ms | ratio |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
        echo "| no promotions | $plain_orders | $plain_rate | $plain_errors | $plain_p50 | $plain_p99 | 1 |"
        echo "| one automatic promotion + one coupon | $promo_orders | $promo_rate | $promo_errors | $promo_p50 | $promo_p99 | $(awk -v a="$promo_rate" -v b="$plain_rate" 'BEGIN { printf "%.2f", a / b }') |"
    } >> "$report"
    rm -rf "$work"
done
publish "$report"
