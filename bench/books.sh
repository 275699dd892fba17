#!/usr/bin/env bash
# Voucher book generation against the real binary, on SQLite and PostgreSQL: a book of PAGES
# pages with 8 one-slot vouchers each (64 pages = 512 vouchers), set up through the API. In
# one process, the yardstick is a one-page book (the job's fixed cost: claim, issue 8, render,
# store); then the full book's first generation (512 vouchers issued against the offer's cap in
# one call, then rendered: shaped Khmer and Latin text in embedded fonts, 512 vector QR codes)
# and its regeneration (rendered from what was kept; the same file). Time is from the POST to
# READY_FOR_PRINT seen by polling every 20 ms; memory is the server's resident set before, the
# highest seen while generating, and its peak (VmHWM). Appends the results, with the machine,
# to bench/results.md.
# Usage: bench/books.sh [pages, default 64] [backends, default "sqlite postgres"]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
pages="${1:-64}"
backends="${2:-sqlite postgres}"
pg_admin="${PASAR_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
need_psql
build
pasar_addr=127.0.0.1:18103
admin_email=bench.admin@example.com
password='Bench!Passw0rd1'
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
export PASAR_RATE_LIMIT__ENABLED=false PASAR_LOG__LEVEL=warn PASAR_AUTH__UNVERIFIED_MAY_NOT='[]'

report=$(mktemp)
{
    echo
    echo "## $(date -u +%Y-%m-%dT%H:%MZ) — voucher books — $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    machine_line
    echo "Command: \`${PASAR_BENCH_BIN:+PASAR_BENCH_BIN=$PASAR_BENCH_BIN }bench/books.sh $pages \"$backends\"\` (rate limits off)."
    echo
    echo "| backend | PDF pages | vouchers | one-page book (yardstick) | first generation | vs yardstick | regeneration | PDF size | RSS before | highest RSS while generating | VmHWM |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
} > "$report"

for backend in $backends; do
    work=$(mktemp -d)
    if [ "$backend" = postgres ]; then
        psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench_books' -c 'CREATE DATABASE pasar_bench_books' >/dev/null
        export PASAR_DATABASE__URL="$pg_admin/pasar_bench_books"
    else
        unset PASAR_DATABASE__URL
    fi
    "$target/pasar" --data-dir "$work" admin create --email "$admin_email" --password "$password" >/dev/null
    "$target/pasar" --data-dir "$work" serve --addr "$pasar_addr" & pasar_pid=$!
    pids+=("$pasar_pid")
    wait_ready "http://$pasar_addr/health/ready"
    result=$("$target/bench-baseline" books "http://$pasar_addr" "$admin_email" "$password" "$pages" "$pasar_pid")
    kill -TERM "$pasar_pid"; wait "$pasar_pid" 2>/dev/null || true
    IFS='|' read -r _ pdf_pages vouchers small first again bytes before peak hwm <<<"$(echo "$result" | grep '^books|')"
    [ -n "${first:-}" ] || fail "$backend: no result: $result"
    ratio=$(awk -v a="$first" -v b="$small" 'BEGIN { printf "%.1fx", a / b }')
    mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
    echo "| $backend | $pdf_pages | $vouchers | ${small} s | ${first} s | $ratio | ${again} s | $(awk -v b="$bytes" 'BEGIN { printf "%.2f MB", b / 1000000 }') | $(mib "$before") | $(mib "$peak") | $(mib "$hwm") |" >> "$report"
    if [ "$backend" = postgres ]; then
        psql "$pg_admin/postgres" -qc 'DROP DATABASE IF EXISTS pasar_bench_books' >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
done
unset PASAR_DATABASE__URL
publish "$report"
rm -f "$report"
