#!/usr/bin/env bash
# Search against the real binary on PostgreSQL, with PostgreSQL full-text search over the same
# rows as the yardstick, in one run. Writes 100,000 listed products straight into catalog's
# tables (`bench-baseline search-seed`; loading is not what is measured), starts pasar, which
# builds its index from catalog on start (timed), rebuilds it online once with
# `pasar search reindex` (timed), then drives with wrk: one word; two words with a typo;
# a word filtered by category and price, with facet counts; autocomplete of three letters. Each
# against the yardstick (a bare axum handler: `websearch_to_tsquery`, `ts_rank`, GIN index;
# a `:*` prefix query for autocomplete). Appends the results to bench/results.md.
# Usage: bench/search.sh [seconds per scenario, default 10] [products, default 100000]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
duration="${1:-10}"
products="${2:-100000}"
[ "$smoke" = 1 ] && products=2000
connections=32
pg_admin="${PASAR_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
need_wrk
need_psql
build
pasar_addr=127.0.0.1:18095
fts_addr=127.0.0.1:18096
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export PASAR_RATE_LIMIT__ENABLED=false PASAR_LOG__LEVEL=warn

psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench_search' -c 'CREATE DATABASE pasar_bench_search' >/dev/null
db_url="$pg_admin/pasar_bench_search"
export PASAR_DATABASE__URL="$db_url"
"$target/pasar" --data-dir "$work" migrate >/dev/null
"$target/bench-baseline" search-seed "$db_url" "$products" "$work" >&2

# The first start finds no index and builds it from catalog, answering 503 meanwhile.
start_ns=$(date +%s%N)
"$target/pasar" --data-dir "$work" serve --addr "$pasar_addr" & pasar_pid=$!
pids+=("$pasar_pid")
wait_ready "http://$pasar_addr/health/ready"
for _ in $(seq 1 1200); do
    total=$(curl -fs "http://$pasar_addr/api/v1/search?limit=1" 2>/dev/null | sed -E 's/.*"total":([0-9]+).*/\1/' || true)
    [ "$total" = "$products" ] && break
    sleep 0.1
done
[ "$total" = "$products" ] || fail "the index never held $products documents (last: ${total:-none})"
build_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
reindex=$("$target/pasar" --data-dir "$work" search reindex --url "http://$pasar_addr")
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pasar_pid/status")

"$target/bench-baseline" fts "$fts_addr" "$db_url" & pids+=("$!")
wait_listening "http://$fts_addr/search?q=tea"

cat > "$work/common.lua" <<LUA
dofile("$work/search-targets.lua")
local counter = 1
function setup(thread) thread:set("seed", counter); counter = counter + 1 end
function init(args) math.randomseed(seed * 7919 + os.time()) end
function word() return words[math.random(#words)] end
function typo(w) local i = math.random(2, #w) return w:sub(1, i - 1) .. string.char(math.random(97, 122)) .. w:sub(i + 1) end
LUA
# One script per mix and target: the same queries reach pasar and the yardstick.
mix() {
    local name=$1 pasar_path=$2 fts_path=$3
    cat > "$work/$name-pasar.lua" <<LUA
dofile("$work/common.lua")
request = function() return wrk.format("GET", $pasar_path) end
LUA
    cat > "$work/$name-fts.lua" <<LUA
dofile("$work/common.lua")
request = function() return wrk.format("GET", $fts_path) end
LUA
}
mix one '"/api/v1/search?q=" .. word()' '"/search?q=" .. word()'
mix typo '"/api/v1/search?q=" .. adjectives[math.random(#adjectives)] .. "+" .. typo(word())' \
    '"/search?q=" .. adjectives[math.random(#adjectives)] .. "+" .. typo(word())'
mix filtered '"/api/v1/search?q=" .. word() .. "&categoryId=" .. categories[math.random(#categories)] .. "&currency=USD&minPrice=1000&maxPrice=15000&facets=true"' \
    '"/search?q=" .. word() .. "&category=" .. categories[math.random(#categories)]'
mix suggest '"/api/v1/search/autocomplete?q=" .. word():sub(1, 3)' '"/prefix?q=" .. word():sub(1, 3)'

run() { local name=$1 url=$2; shift 2; wrk_row "$name" "$connections" "$duration" "$url" "$@"; }
rows=()
for m in one typo filtered suggest; do
    rows+=("$(run "$m: PostgreSQL FTS (yardstick)" "http://$fts_addr" -s "$work/$m-fts.lua")")
    rows+=("$(run "$m: pasar" "http://$pasar_addr" -s "$work/$m-pasar.lua")")
done

report="$work/report.md"
{
    echo
    echo "## $(date -u +%Y-%m-%dT%H:%MZ) — search — $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    machine_line
    echo "Command: \`bench/search.sh $duration $products\` (wrk -t2 -c$connections -d${duration}s; PostgreSQL; rate limits off)."
    echo
    echo "$products listed products. Index built on first start in ${build_ms} ms (start to every document searchable); online rebuild: ${reindex##*: }. RSS after the build: $((rss_kb / 1024)) MiB."
    echo
    echo "| scenario | req/s | p50 | p99 | non-2xx | req/s vs yardstick |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    base=""
    for row in "${rows[@]}"; do
        IFS='|' read -r name rps p50 p99 non2xx <<<"$row"
        case "$name" in *yardstick*) base=$rps ;; esac
        ratio=$(awk -v a="$rps" -v b="$base" 'BEGIN { printf "%.2f", a / b }')
        echo "| $name | $rps | $p50 | $p99 | $non2xx | $ratio |"
    done
} > "$report"
publish "$report"
kill -TERM "$pasar_pid"; wait "$pasar_pid" 2>/dev/null || true
psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench_search' >/dev/null 2>&1 || true
