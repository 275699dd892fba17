#!/usr/bin/env bash
# Merchant sales dashboards against the real binary, on SQLite and PostgreSQL. Per backend: a
# year of one merchant's sales in two currencies, seeded straight into analytics' hourly rollup
# (8,760 hours x USD and KHR = 17,520 rows, one paid order or more in every hour) by SQL — the
# rollup is what the endpoint reads, and making a year of orders through the API would take
# hours; plus 2,000 other merchants' hours so the merchant's rows are a slice of the table. Then
# wrk drives, in one run, the yardstick (a bare axum hello-world, `bench-baseline hello`),
# `GET /api/v1/users/me` (the edge stack, token verification and one primary-key read), and
# `GET /api/v1/merchants/{id}/analytics/sales?granularity=day` over the whole year (365 points
# per currency, read by an admin; repeated, so what the first read summed is kept), by week
# over a quarter, and by day over a period and offset drawn from 5,000 (nothing kept: the cost
# of summing the rollup). Appends the results, with the
# machine, to bench/results.md.
# Usage: bench/analytics.sh [seconds per scenario, default 10] [backends, default "sqlite postgres"]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
duration="${1:-10}"
backends="${2:-sqlite postgres}"
connections=32
pg_admin="${PASAR_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
need_wrk
need_psql
command -v sqlite3 >/dev/null || fail "sqlite3 is required (apt-get install sqlite3)"
build
pasar_addr=127.0.0.1:18101
base_addr=127.0.0.1:18102
admin_email=bench.admin@example.com
password='Bench!Passw0rd1'
merchant=5a1e5000-0000-4000-8000-00000000a11c
merchant_hex=${merchant//-/}
hours=8760
others=2000
if [ "$smoke" = 1 ]; then hours=48; others=10; fi
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
export PASAR_RATE_LIMIT__ENABLED=false PASAR_LOG__LEVEL=warn

# The year ends with today's UTC hour: `from`..`to` covers every seeded hour.
now_hour=$(( $(date -u +%s) / 3600 * 3600 ))
first_hour=$(( now_hour - (hours - 1) * 3600 ))
from=$(date -u -d "@$first_hour" +%F)
to=$(date -u -d "@$now_hour" +%F)
quarter_from=$(date -u -d "@$(( now_hour - 90 * 86400 ))" +%F)

# seed_sql DIALECT: the rows, computed in SQL (hour h sells 1 + h % 5 orders of 1,500 USD and
# 1 + h % 3 of 40,000 KHR, a refund every 97th hour; other merchants one order an hour).
seed_sql() {
    local series uuid other
    if [ "$1" = postgres ]; then
        series="SELECT generate_series(0, $hours - 1) AS h"
        uuid="'$merchant'::uuid"
        other="md5('m' || (h % $others))::uuid"
    else
        series="WITH RECURSIVE s(h) AS (SELECT 0 UNION ALL SELECT h + 1 FROM s WHERE h < $hours - 1) SELECT h FROM s"
        uuid="X'$merchant_hex'"
        other="randomblob(16)"
    fi
    cat <<SQL
INSERT INTO analytics_merchant_hours (merchant_id, currency, hour, orders, gross, commission, refunds, refund_count,
    vouchers_sold, vouchers_sold_value, redemptions, redeemed_value, redemption_commission)
SELECT $uuid, currency, (CAST($first_hour AS BIGINT) + h * 3600) * 1000, n, n * price, n * price / 10,
    CASE WHEN h % 97 = 0 THEN price ELSE 0 END, CASE WHEN h % 97 = 0 THEN 1 ELSE 0 END,
    n, n * price, h % 2, (h % 2) * price, (h % 2) * price / 10
FROM (SELECT h, b.currency, b.price, CASE WHEN b.currency = 'USD' THEN 1 + h % 5 ELSE 1 + h % 3 END AS n
      FROM ($series) hs CROSS JOIN (SELECT 'USD' AS currency, 1500 AS price UNION ALL SELECT 'KHR', 40000) b) x;
INSERT INTO analytics_merchant_hours (merchant_id, currency, hour, orders, gross, commission)
SELECT $other, 'USD', (CAST($first_hour AS BIGINT) + h * 3600) * 1000, 1, 1500, 150
FROM ($series) hs WHERE h < $others;
SQL
}

run() { local name=$1 url=$2; shift 2; wrk_row "$name" "$connections" "$duration" "$url" "$@"; }

report=$(mktemp)
{
    echo
    echo "## $(date -u +%Y-%m-%dT%H:%MZ) — analytics dashboards — $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    machine_line
    echo "Command: \`bench/analytics.sh $duration \"$backends\"\` (wrk -t2 -c$connections -d${duration}s; rate limits off)."
} > "$report"

"$target/bench-baseline" hello "$base_addr" & base_pid=$!
pids+=("$base_pid")
wait_ready "http://$base_addr/"

for backend in $backends; do
    work=$(mktemp -d)
    if [ "$backend" = postgres ]; then
        psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench_analytics' -c 'CREATE DATABASE pasar_bench_analytics' >/dev/null
        db_url="$pg_admin/pasar_bench_analytics"
        export PASAR_DATABASE__URL="$db_url"
    else
        unset PASAR_DATABASE__URL
        db_url="$work/pasar.db"
    fi
    "$target/pasar" --data-dir "$work" migrate >/dev/null
    "$target/pasar" --data-dir "$work" admin create --email "$admin_email" --password "$password" >/dev/null
    if [ "$backend" = postgres ]; then
        seed_sql postgres | psql "$db_url" -q -v ON_ERROR_STOP=1 >/dev/null
        psql "$db_url" -qc 'ANALYZE' >/dev/null
    else
        seed_sql sqlite | sqlite3 "$db_url"
    fi
    "$target/pasar" --data-dir "$work" serve --addr "$pasar_addr" & pasar_pid=$!
    pids+=("$pasar_pid")
    wait_ready "http://$pasar_addr/health/ready"
    token=$(curl -fs -X POST "http://$pasar_addr/api/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"email\":\"$admin_email\",\"password\":\"$password\"}" | sed -E 's/.*"accessToken":"([^"]+)".*/\1/')
    [ -n "$token" ] || fail "admin login failed"
    year_url="http://$pasar_addr/api/v1/merchants/$merchant/analytics/sales?granularity=day&from=$from&to=$to"
    quarter_url="http://$pasar_addr/api/v1/merchants/$merchant/analytics/sales?granularity=week&from=$quarter_from&to=$to"
    # The seed is what the dashboard shows: one point per day, every order counted.
    check=$(curl -fs "$year_url" -H "Authorization: Bearer $token")
    points=$(echo "$check" | grep -o '"period"' | wc -l)
    [ "$points" -ge 2 ] || fail "$backend: the year's dashboard is empty: $check"
    seeded="$hours hours of sales for one merchant in USD and KHR ($(( hours * 2 )) rollup rows) and $others rows of other merchants, seeded by SQL; the year reads back as $points daily points"

    rows=()
    rows+=("$(run 'bare axum hello-world (yardstick)' "http://$base_addr/")")
    rows+=("$(run 'pasar GET /api/v1/users/me' "http://$pasar_addr/api/v1/users/me" -H "Authorization: Bearer $token")")
    rows+=("$(run 'pasar GET .../analytics/sales?granularity=day, a year' "$year_url" -H "Authorization: Bearer $token")")
    rows+=("$(run 'pasar GET .../analytics/sales?granularity=week, 90 days' "$quarter_url" -H "Authorization: Bearer $token")")
    # Nothing kept: each request picks one of 5,000 periods (166 to 365 days) and offsets (-12
    # to +12), so about 5% of reads can find what an earlier one kept (256 entries).
    miss_lua="$work/miss.lua"
    {
        echo 'local paths = {'
        for back in $(seq 166 365); do
            start=$(date -u -d "$to - $back days" +%F)
            for offset in $(seq -12 12); do
                if [ "$offset" -lt 0 ]; then tz=$(printf -- '-%02d:00' "${offset#-}"); else tz=$(printf '%%2B%02d:00' "$offset"); fi
                echo "\"/api/v1/merchants/$merchant/analytics/sales?granularity=day&from=$start&to=$to&tz=$tz\","
            done
        done
        echo '}'
        echo 'math.randomseed(os.time())'
        echo 'request = function() return wrk.format("GET", paths[math.random(#paths)]) end'
    } > "$miss_lua"
    rows+=("$(run 'pasar GET .../analytics/sales?granularity=day, a different period each time' "http://$pasar_addr/" -H "Authorization: Bearer $token" -s "$miss_lua")")
    kill -TERM "$pasar_pid"; wait "$pasar_pid" 2>/dev/null || true
    if [ "$backend" = postgres ]; then
        psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench_analytics' >/dev/null 2>&1 || true
    fi

    {
        echo
        echo "### $backend"
        echo
        echo "$seeded."
        echo
        echo "| scenario | req/s | p50 | p99 | non-2xx | req/s vs yardstick | p99 vs yardstick |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
        base=$(echo "${rows[0]}" | cut -d'|' -f2)
        base_p99=$(echo "${rows[0]}" | cut -d'|' -f4)
        for row in "${rows[@]}"; do
            IFS='|' read -r name rps p50 p99 non2xx <<<"$row"
            ratio=$(awk -v a="$rps" -v b="$base" 'BEGIN { printf "%.2f", a / b }')
            p99_ratio=$(awk -v a="$p99" -v b="$base_p99" 'function us(x) { if (x ~ /us$/) return x + 0; if (x ~ /ms$/) return x * 1000; if (x ~ /s$/) return x * 1000000; return x } BEGIN { printf "%.1fx", us(a) / us(b) }')
            echo "| $name | $rps | $p50 | $p99 | $non2xx | $ratio | $p99_ratio |"
        done
    } >> "$report"
    rm -rf "$work"
done
unset PASAR_DATABASE__URL
publish "$report"
