#!/usr/bin/env bash
# Builds release, starts `pasar serve` (SQLite, fresh data dir) and a bare axum hello-world,
# and drives both with wrk in one run. Appends the results, with the machine, to
# bench/results.md. Usage: bench/run.sh [seconds per scenario, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
duration="${1:-10}"
connections=32
need_wrk
build
work=$(mktemp -d)
pasar_addr=127.0.0.1:18091
base_addr=127.0.0.1:18090
cleanup() { kill "${pasar_pid:-}" "${base_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

export PASAR_RATE_LIMIT__ENABLED=false PASAR_LOG__LEVEL=warn

# Prepare a database (migrations, keys, one user), then measure a cold start on it.
"$target/pasar" --data-dir "$work" migrate >/dev/null
"$target/pasar" --data-dir "$work" serve --addr "$pasar_addr" & pasar_pid=$!
wait_ready "http://$pasar_addr/health/ready"
curl -fs -X POST "http://$pasar_addr/api/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","password":"Str0ng!Pass","firstName":"B","lastName":"M"}' >/dev/null
kill -TERM "$pasar_pid"; wait "$pasar_pid" || true

start_ns=$(date +%s%N)
"$target/pasar" --data-dir "$work" serve --addr "$pasar_addr" & pasar_pid=$!
wait_ready "http://$pasar_addr/health/ready"
cold_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
sleep 3
idle_rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pasar_pid/status")

"$target/bench-baseline" hello "$base_addr" & base_pid=$!
wait_ready "http://$base_addr/"

token=$(curl -fs -X POST "http://$pasar_addr/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","password":"Str0ng!Pass"}' | sed -E 's/.*"accessToken":"([^"]+)".*/\1/')

cat > "$work/login.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench@example.com","password":"Str0ng!Pass"}'
LUA

run() { local name=$1 url=$2; shift 2; wrk_row "$name" "$connections" "$duration" "$url" "$@"; }

results=()
results+=("$(run 'bare axum hello-world (baseline)' "http://$base_addr/")")
results+=("$(run 'pasar GET /health/live' "http://$pasar_addr/health/live")")
results+=("$(run 'pasar GET /api/v1/users/me' "http://$pasar_addr/api/v1/users/me" -H "Authorization: Bearer $token")")
results+=("$(run 'pasar POST /api/v1/auth/login (argon2id)' "http://$pasar_addr/api/v1/auth/login" -s "$work/login.lua")")
busy_rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pasar_pid/status")

base_rps=$(echo "${results[0]}" | cut -d'|' -f2)
{
    echo
    echo "## $(date -u +%Y-%m-%dT%H:%MZ) — $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    machine_line
    echo "Command: \`bench/run.sh $duration\` (wrk -t2 -c$connections -d${duration}s; SQLite; rate limits off)."
    echo
    echo "| scenario | req/s | p50 | p99 | non-2xx | req/s vs baseline |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    for row in "${results[@]}"; do
        IFS='|' read -r name rps p50 p99 non2xx <<<"$row"
        ratio=$(awk -v a="$rps" -v b="$base_rps" 'BEGIN { printf "%.3f", a / b }')
        echo "| $name | $rps | $p50 | $p99 | $non2xx | $ratio |"
    done
    echo
    echo "Cold start to ready on an existing database: ${cold_ms} ms. RSS: idle $((idle_rss_kb / 1024)) MiB, after load $((busy_rss_kb / 1024)) MiB."
} > "$work/report.md"
publish "$work/report.md"
