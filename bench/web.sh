#!/usr/bin/env bash
# The customer's server-rendered pages against the real binary, on SQLite and PostgreSQL. Per
# backend: loads 10,000 listed products of 100 merchants through the API (`bench-baseline
# load`), then measures in one run:
# - with wrk: the yardstick (a bare axum hello-world, `bench-baseline hello`), the JSON API
#   calls the pages are built on (`GET /api/v1/products/{id}`; `GET
#   /api/v1/products?limit=8&type=PHYSICAL`, the home page's product call), the product page
#   `GET /products/{id}` (random listed ids) and the home page `GET /`;
# - with curl: time to first byte and full load of both pages as a browser's first visit makes
#   them (the page on a new connection, then every /static/ file it links, in parallel), on the
#   idle server and again while wrk loads the home page (p99 at load);
# - the bytes of each page and of its static files, and what gzip would make of them (the
#   server does not compress).
# Appends the results, with the machine, to bench/results.md.
# Usage: bench/web.sh [seconds per scenario, default 10] [backends, default "sqlite postgres"]
# BENCH_VISITS: first visits timed per page and condition (default 200; 10 in smoke mode).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
# curl's -w and python read decimals with a point, whatever the caller's locale.
export LC_ALL=C
duration="${1:-10}"
backends="${2:-sqlite postgres}"
connections=32
pg_admin="${PASAR_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
need_wrk
case " $backends " in *" postgres "*) need_psql ;; esac
command -v python3 >/dev/null || fail "python3 is required"
build
# Smoke: 2 merchants (200 products) instead of 100, and 10 visits instead of 200.
if [ "$smoke" = 1 ]; then
    export BENCH_MERCHANTS="${BENCH_MERCHANTS:-2}"
    visits="${BENCH_VISITS:-10}"
else
    visits="${BENCH_VISITS:-200}"
fi
merchants="${BENCH_MERCHANTS:-100}"
pasar_addr=127.0.0.1:18104
base_addr=127.0.0.1:18105
admin_email=bench.admin@example.com
password='Bench!Passw0rd1'
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
export PASAR_RATE_LIMIT__ENABLED=false PASAR_LOG__LEVEL=warn

run() { local name=$1 url=$2; shift 2; wrk_row "$name" "$connections" "$duration" "$url" "$@"; }

# ratio A B: A / B of two wrk figures, req/s or latencies (850.00us, 3.20ms, 1.10s).
ratio() {
    awk -v a="$1" -v b="$2" 'function us(x) { if (x ~ /us$/) return x + 0; if (x ~ /ms$/) return x * 1000; if (x ~ /s$/) return x * 1000000; return x + 0 }
        BEGIN { if (us(b) > 0) printf "%.2f", us(a) / us(b); else printf "n/a" }'
}

field() { cut -d'|' -f"$2" <<<"$1"; }

# Random listed ids, a different sequence per wrk thread (as catalog.sh's detail.lua).
write_script() {
    local file=$1 prefix=$2
    cat > "$file" <<LUA
dofile("$work/targets.lua")
local counter = 1
function setup(thread) thread:set("seed", counter); counter = counter + 1 end
function init(args) math.randomseed(seed * 7919 + os.time()) end
request = function() return wrk.format("GET", "$prefix" .. product_ids[math.random(#product_ids)]) end
LUA
}

# links FILE: the /static/ files an HTML page links (what a browser fetches next).
links() { grep -oE '(href|src)="/static/[^"]+"' "$1" | sed -E 's/^[a-z]+="//; s/"$//' | sort -u; }

# visit URL FILE...: one first visit, as a browser without a cache makes it: the page on a new
# connection, then every file it links, all at once. Prints "ttfb page full" in seconds, each
# transfer timed by curl itself (no process start-up counted): full = the page's total + the
# slowest file's. Prints "failed" unless everything answered 200.
visit() {
    local url=$1 answer code ttfb total files=() file
    shift
    for file in "$@"; do files+=(-o /dev/null "http://$pasar_addr$file"); done
    answer=$(curl --no-progress-meter --max-time 30 -o /dev/null -w '%{http_code} %{time_starttransfer} %{time_total}' "$url") || true
    read -r code ttfb total <<<"$answer"
    if [ "$code" != 200 ]; then echo failed; return 0; fi
    answer=$(curl --no-progress-meter --max-time 30 --parallel --parallel-immediate -w '%{http_code} %{time_total}\n' "${files[@]}") || true
    awk -v ttfb="$ttfb" -v total="$total" -v want=$# '
        $1 == 200 { n++; if ($2 > slowest) slowest = $2 }
        END { if (n == want) print ttfb, total, total + slowest; else print "failed" }' <<<"$answer"
}

# measure PAGE CONDITION: $visits first visits one after another, of the home page or of a
# random listed product's page; prints the timing table's row.
measure() {
    local page=$1 condition=$2 i url out=$work/visits ok failed
    for i in $(seq 1 "$visits"); do
        if [ "$page" = home ]; then
            visit "http://$pasar_addr/" "${home_links[@]}"
        else
            url="http://$pasar_addr/products/${product_ids[RANDOM % ${#product_ids[@]}]}"
            visit "$url" "${product_links[@]}"
        fi
    done > "$out"
    read -r ok failed < <(awk '$1 == "failed" { f++; next } { o++ } END { print o + 0, f + 0 }' "$out")
    smoke_check "$page page first visits, $condition" "$ok" "$failed"
    [ "$ok" -gt 0 ] || fail "$page page, $condition: every visit failed"
    # p50 and p99 (nearest rank) of each column, in ms.
    python3 - "$out" "$page" "$condition" "$ok" "$failed" <<'PY'
import math, sys
out, page, condition, ok, failed = sys.argv[1:]
rows = [[float(x) for x in line.split()] for line in open(out) if line.split() and line.split()[0] != "failed"]
def pct(col, q):
    v = sorted(r[col] for r in rows)
    return "%.2fms" % (1000 * v[max(0, math.ceil(q * len(v)) - 1)])
name = "GET /" if page == "home" else "GET /products/{id}"
print("| " + " | ".join([name, condition, ok, failed] + [pct(c, q) for c in range(3) for q in (0.5, 0.99)]) + " |")
PY
}

bench_backend() {
    local backend=$1 db_url
    work=$(mktemp -d)
    if [ "$backend" = postgres ]; then
        psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench_web' -c 'CREATE DATABASE pasar_bench_web' >/dev/null
        db_url="$pg_admin/pasar_bench_web"
        export PASAR_DATABASE__URL="$db_url"
    else
        unset PASAR_DATABASE__URL
    fi
    "$target/pasar" --data-dir "$work" admin create --email "$admin_email" --password "$password" >/dev/null
    "$target/pasar" --data-dir "$work" serve --addr "$pasar_addr" & pasar_pid=$!
    pids+=("$pasar_pid")
    wait_ready "http://$pasar_addr/health/ready"
    local load_start=$SECONDS
    "$target/bench-baseline" load "http://$pasar_addr" "$admin_email" "$password" "$work" >&2
    local load_secs=$((SECONDS - load_start))
    # Measure a settled system: every consumer caught up, and fresh planner statistics.
    local metrics
    for _ in $(seq 1 600); do
        metrics=$(curl -fs "http://$pasar_addr/metrics" || true)
        grep -qx 'pasar_outbox_lag_events 0' <<<"$metrics" && break
        sleep 0.1
    done
    if [ "$backend" = postgres ]; then psql "$db_url" -qc 'ANALYZE' >/dev/null; fi
    mapfile -t product_ids < <(sed -n 's/^product_ids = {\(.*\)}$/\1/p' "$work/targets.lua" | tr -d '"' | tr ',' '\n')
    [ "${#product_ids[@]}" -gt 0 ] || fail "$backend: bench-baseline load wrote no product ids"
    write_script "$work/page.lua" /products/
    write_script "$work/api.lua" /api/v1/products/

    # The pages as a browser gets them: they must show the loaded products, and what they link.
    curl -fsS -o "$work/home.html" "http://$pasar_addr/" || fail "$backend: GET / failed"
    curl -fsS -o "$work/product.html" "http://$pasar_addr/products/${product_ids[0]}" || fail "$backend: GET /products/${product_ids[0]} failed"
    grep -q 'Bench product' "$work/home.html" || fail "$backend: the home page shows no loaded product"
    grep -q 'Bench product' "$work/product.html" || fail "$backend: the product page shows no product"
    mapfile -t home_links < <(links "$work/home.html")
    mapfile -t product_links < <(links "$work/product.html")
    [ "${#home_links[@]}" -gt 0 ] || fail "$backend: the home page links no /static/ file"
    [ "${#product_links[@]}" -gt 0 ] || fail "$backend: the product page links no /static/ file"
    local file static_bytes=0 static_gzip=0 n=0
    for file in "${home_links[@]}"; do
        n=$((n + 1))
        curl -fsS -o "$work/static.$n" "http://$pasar_addr$file" || fail "$backend: $file is linked but not served"
        static_bytes=$((static_bytes + $(wc -c < "$work/static.$n")))
        static_gzip=$((static_gzip + $(gzip -c "$work/static.$n" | wc -c)))
    done

    # Warm what traffic would (the catalog's read cache, first renders), as catalog.sh does.
    local warm=5
    if [ "$smoke" = 1 ]; then warm=1; fi
    wrk -t2 -c"$connections" -d"${warm}s" -s "$work/page.lua" "http://$pasar_addr" >/dev/null
    wrk -t2 -c"$connections" -d"${warm}s" "http://$pasar_addr/" >/dev/null

    local rows=()
    rows+=("$(run 'bare axum hello-world (yardstick)' "http://$base_addr/")")
    rows+=("$(run 'pasar GET /api/v1/products/{id} (JSON API)' "http://$pasar_addr" -s "$work/api.lua")")
    rows+=("$(run 'pasar GET /products/{id} (product page)' "http://$pasar_addr" -s "$work/page.lua")")
    rows+=("$(run 'pasar GET /api/v1/products?limit=8&type=PHYSICAL (JSON API)' "http://$pasar_addr/api/v1/products?limit=8&type=PHYSICAL")")
    rows+=("$(run 'pasar GET / (home page)' "http://$pasar_addr/")")

    # First visits on the idle server, then while wrk loads the home page in the background.
    sleep 1
    local timings=()
    timings+=("$(measure home idle)")
    timings+=("$(measure product idle)")
    wrk -t2 -c"$connections" -d3600s --timeout 10s "http://$pasar_addr/" > "$work/load.txt" 2>&1 & load_pid=$!
    pids+=("$load_pid")
    sleep 2
    timings+=("$(measure home "under load")")
    timings+=("$(measure product "under load")")
    kill -0 "$load_pid" 2>/dev/null || fail "$backend: the background load stopped early: $(cat "$work/load.txt")"
    # SIGINT: wrk stops and reports what it did (the load level the visits met); TERM if not.
    kill -INT "$load_pid"
    for _ in $(seq 1 100); do kill -0 "$load_pid" 2>/dev/null || break; sleep 0.1; done
    kill "$load_pid" 2>/dev/null || true
    wait "$load_pid" || true
    local load_rps
    load_rps=$(awk '/Requests\/sec/ {print $2}' "$work/load.txt")

    kill -TERM "$pasar_pid"; wait "$pasar_pid" || true
    if [ "$backend" = postgres ]; then
        psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench_web' >/dev/null
    fi

    local hello=${rows[0]} api=${rows[1]} product=${rows[2]} list=${rows[3]} home=${rows[4]}
    local home_bytes product_bytes
    home_bytes=$(wc -c < "$work/home.html")
    product_bytes=$(wc -c < "$work/product.html")
    {
        echo
        echo "### $backend"
        echo
        echo "Loaded $((merchants * 100)) listed products of $merchants merchants through the API in ${load_secs} s (no vouchers or reviews: the home page's offers and the product page's reviews are empty)."
        echo
        echo "| scenario | req/s | p50 | p99 | non-2xx | req/s vs bare axum | p99 vs bare axum |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
        for row in "${rows[@]}"; do
            IFS='|' read -r name rps p50 p99 non2xx <<<"$row"
            echo "| $name | $rps | $p50 | $p99 | $non2xx | $(ratio "$rps" "$(field "$hello" 2)") | $(ratio "$p99" "$(field "$hello" 4)")x |"
        done
        echo
        echo "Home page: p99 = $(ratio "$(field "$home" 4)" "$(field "$hello" 4)") × the bare axum p99; throughput = $(ratio "$(field "$home" 2)" "$(field "$hello" 2)") × bare axum's and $(ratio "$(field "$home" 2)" "$(field "$list" 2)") × its product list call's (\`GET /api/v1/products?limit=8&type=PHYSICAL\`, one of the three it makes at once)."
        echo "Product page: p99 = $(ratio "$(field "$product" 4)" "$(field "$hello" 4)") × the bare axum p99 and $(ratio "$(field "$product" 4)" "$(field "$api" 4)") × its JSON API's; throughput = $(ratio "$(field "$product" 2)" "$(field "$api" 2)") × its JSON API's (\`GET /api/v1/products/{id}\`, with its reviews alongside)."
        echo
        echo "First visits, $visits per row one after another (curl): the page on a new connection, then the ${#home_links[@]} files it links at once; full load = the page's time + the slowest file's. Under load: while wrk drives \`GET /\` with $connections connections (${load_rps:-n/a} req/s meanwhile)."
        echo
        echo "| page | server | visits | failed | TTFB p50 | TTFB p99 | page p50 | page p99 | full load p50 | full load p99 |"
        echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        printf '%s\n' "${timings[@]}"
        echo
        echo "Sizes (the server does not compress; gzip -c shows what compression would save):"
        echo
        echo "| what | bytes | gzip -c |"
        echo "| --- | ---: | ---: |"
        echo "| GET / (HTML) | $home_bytes | $(gzip -c "$work/home.html" | wc -c) |"
        echo "| GET /products/{id} (HTML) | $product_bytes | $(gzip -c "$work/product.html" | wc -c) |"
        echo "| ${#home_links[@]} static files ($(echo "${home_links[*]}" | sed 's#/static/##g; s/ /, /g')) | $static_bytes | $static_gzip |"
        echo "| first visit of GET / (HTML + static files) | $((home_bytes + static_bytes)) | $(( $(gzip -c "$work/home.html" | wc -c) + static_gzip )) |"
    } >> "$report"
    rm -rf "$work"
}

report=$(mktemp)
{
    echo
    echo "## $(date -u +%Y-%m-%dT%H:%MZ) — web pages (bench/web.sh) — $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    machine_line
    echo "Command: \`bench/web.sh $duration \"$backends\"\` (wrk -t2 -c$connections -d${duration}s; rate limits off; random listed product ids; $visits curl first visits per page and condition; anonymous visitor, no Accept-Encoding)."
} > "$report"

"$target/bench-baseline" hello "$base_addr" & base_pid=$!
pids+=("$base_pid")
wait_ready "http://$base_addr/"

for backend in $backends; do
    bench_backend "$backend"
done
unset PASAR_DATABASE__URL
publish "$report"
rm -f "$report"
