#!/usr/bin/env bash
# Chat over WebSocket against the real binary, on SQLite and PostgreSQL: `bench-baseline chat`
# opens N connections (N/20 customers with 20 devices each, in a conversation with one
# merchant whose owner is connected too); one sender per customer sends, waits for its own
# copy and sends again, and every delivery is timed from send to arrival. The yardstick, in the
# same run: a bare axum WebSocket server relaying each text to its room (`bench-baseline
# ws-bare`), loaded the same way. Also the RSS pasar gains per connection. Appends the results,
# with the machine, to bench/results.md.
# Usage: bench/chat.sh [seconds, default 10] [connections, default 2000] [backends, default "sqlite postgres"]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
duration="${1:-10}"
connections="${2:-2000}"
backends="${3:-sqlite postgres}"
pg_admin="${PASAR_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
need_psql
build
# Two file descriptors per connection (client and server side) in this one machine.
ulimit -n "$(( connections * 2 + 4096 ))" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
pasar_addr=127.0.0.1:18099
bare_addr=127.0.0.1:18100
admin_email=bench.admin@example.com
password='Bench!Passw0rd1'
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
export PASAR_RATE_LIMIT__ENABLED=false PASAR_LOG__LEVEL=warn

report=$(mktemp)
{
    echo
    echo "## $(date -u +%Y-%m-%dT%H:%MZ) — chat over WebSocket — $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    machine_line
    echo "Command: \`bench/chat.sh $duration $connections \"$backends\"\` (one load process on the same machine; rate limits off)."
} > "$report"

"$target/bench-baseline" ws-bare "$bare_addr" & bare_pid=$!
pids+=("$bare_pid")
sleep 0.5
bare_row=$("$target/bench-baseline" chat-bare "$bare_addr" "$connections" "$duration")

for backend in $backends; do
    work=$(mktemp -d)
    if [ "$backend" = postgres ]; then
        psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench_chat' -c 'CREATE DATABASE pasar_bench_chat' >/dev/null
        export PASAR_DATABASE__URL="$pg_admin/pasar_bench_chat"
    else
        unset PASAR_DATABASE__URL
    fi
    "$target/pasar" --data-dir "$work" admin create --email "$admin_email" --password "$password" >/dev/null
    "$target/pasar" --data-dir "$work" serve --addr "$pasar_addr" & pasar_pid=$!
    pids+=("$pasar_pid")
    wait_ready "http://$pasar_addr/health/ready"
    row=$("$target/bench-baseline" chat "http://$pasar_addr" "$admin_email" "$password" "$connections" "$duration" "$pasar_pid")
    kill -TERM "$pasar_pid"; wait "$pasar_pid" 2>/dev/null || true
    [ "$backend" = postgres ] && psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench_chat' >/dev/null 2>&1
    {
        echo
        echo "### $backend"
        echo
        echo "| server | connections | messages/s | deliveries/s | p50 ms | p99 ms | RSS per connection | deliveries/s vs yardstick |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        base=$(echo "$bare_row" | cut -d'|' -f4)
        for r in "$bare_row" "$row"; do
            IFS='|' read -r name conns mps dps p50 p99 rss <<<"$r"
            ratio=$(awk -v a="$dps" -v b="$base" 'BEGIN { printf "%.2f", a / b }')
            label=$([ "$name" = bare ] && echo "bare axum relay (yardstick)" || echo "pasar /api/v1/chat/ws")
            echo "| $label | $conns | $mps | $dps | $p50 | $p99 | ${rss} KiB | $ratio |"
        done
    } >> "$report"
    rm -rf "$work"
done
kill "$bare_pid" 2>/dev/null || true
publish "$report"
