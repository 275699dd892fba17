#!/usr/bin/env bash
# A crowd at a flash sale against the real binary, on SQLite, PostgreSQL, and the split layout
# (two shop instances behind the gateway, PostgreSQL + NATS + Redis), in one run per backend:
# BUYERS checkouts fired at once (from ACCOUNTS customers) for UNITS units, first at a product
# with UNITS in stock and no sale (the yardstick: inventory refuses the losers after pricing
# each checkout), then at a flash sale of UNITS units (the gate refuses them first). Every
# buyer must be answered (201, 409 or 429), exactly UNITS sold each time, nothing left of the
# sale. Reports the answer-time distribution of both and their ratio.
# Usage: bench/flashsale.sh [buyers, default 10000] [units, default 100] [backends, default "sqlite postgres split"] [accounts, default 200]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
buyers="${1:-10000}"
units="${2:-100}"
backends="${3:-sqlite postgres split}"
accounts="${4:-200}"
pg_admin="${PASAR_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
need_psql
build
# Ten thousand connections at once, on both ends.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
[ "$(ulimit -n)" -gt $((buyers + 1000)) ] || fail "ulimit -n $(ulimit -n) is too low for $buyers connections"
pasar_addr=127.0.0.1:18099
admin_email=bench.admin@example.com
password='Bench!Passw0rd1'
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
export PASAR_KEYRING__MASTER_KEY="${PASAR_KEYRING__MASTER_KEY:-$(head -c 32 /dev/urandom | base64)}"
export PASAR_RATE_LIMIT__ENABLED=false PASAR_LOG__LEVEL=error PASAR_AUTH__UNVERIFIED_MAY_NOT='[]'
# Physical orders ship through the simulator courier (its REGULAR service is free).
export PASAR_SHIPPING__SIMULATOR__ENABLED=true

report=$(mktemp)
{
    echo
    echo "## $(date -u +%Y-%m-%dT%H:%MZ) — flash sale crowd — $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    machine_line
    echo "Command: \`bench/flashsale.sh $buyers $units \"$backends\" $accounts\` ($buyers checkouts of one unit fired at once from $accounts customers, load generator on the same machine; rate limits off)."
} >> "$report"

for backend in $backends; do
    work=$(mktemp -d)
    if [ "$backend" != sqlite ]; then
        psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench' -c 'CREATE DATABASE pasar_bench' >/dev/null
        export PASAR_DATABASE__URL="$pg_admin/pasar_bench"
    else
        unset PASAR_DATABASE__URL
    fi
    "$target/pasar" --data-dir "$work" admin create --email "$admin_email" --password "$password" >/dev/null
    serving=()
    if [ "$backend" = split ]; then
        start_split "$work"
        serving=("${split_pids[@]}")
    else
        "$target/pasar" --data-dir "$work" serve --addr "$pasar_addr" & pasar_pid=$!
        pids+=("$pasar_pid")
        serving=("$pasar_pid")
        wait_ready "http://$pasar_addr/health/ready"
    fi
    result=$("$target/bench-baseline" flashsale "http://$pasar_addr" "$admin_email" "$password" "$buyers" "$units" "$accounts") \
        || fail "flash sale ($backend): $result"
    kill -TERM "${serving[@]}"; wait "${serving[@]}" || true
    [ "$backend" = split ] && stop_split_env
    rm -rf "$work"
    {
        echo
        echo "### $backend"
        echo
        echo "| crowd | buyers | sold | refused (409) | busy (429) | other | p50 ms | p90 ms | p99 ms | max ms | all answered in ms |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        echo "$result" | grep '^crowd|' | while IFS='|' read -r _ name n won refused busy other p50 p90 p99 max wall; do
            echo "| $name | $n | $won | $refused | $busy | $other | $p50 | $p90 | $p99 | $max | $wall |"
        done
        stock_wall=$(echo "$result" | awk -F'|' '$2 ~ /^stock/ {print $12}')
        sale_wall=$(echo "$result" | awk -F'|' '$2 == "flash sale" {print $12}')
        stock_p99=$(echo "$result" | awk -F'|' '$2 ~ /^stock/ {print $10}')
        sale_p99=$(echo "$result" | awk -F'|' '$2 == "flash sale" {print $10}')
        echo
        echo "Flash sale / stock only: p99 $(awk -v a="$sale_p99" -v b="$stock_p99" 'BEGIN { printf "%.2f", a / b }'), all answered $(awk -v a="$sale_wall" -v b="$stock_wall" 'BEGIN { printf "%.2f", a / b }'); units left of the sale: $(echo "$result" | awk -F'|' '$1 == "remaining" {print $2}')."
    } >> "$report"
done
publish "$report"
rm -f "$report"
