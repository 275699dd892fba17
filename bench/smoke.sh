#!/usr/bin/env bash
# Every benchmark for a second on tiny data with a debug build: proves each script still runs
# end to end (every scenario answered, nothing failed), not how fast anything is. CI runs it.
# Needs what the benchmarks need: PostgreSQL, NATS and Redis running (the test suite starts
# them), wrk (installed from Debian when missing, as root).
set -euo pipefail
cd "$(dirname "$0")/.."
export PASAR_BENCH_SMOKE=1
bench/run.sh 1
bench/catalog.sh 1
bench/checkout.sh 1 2
bench/redeem.sh 1 2 20
bench/promotions.sh 1 2
bench/flashsale.sh 200 10 "sqlite postgres split" 5
bench/search.sh 1
bench/shipping.sh 1
bench/media.sh 1 2
bench/chat.sh 1 40 sqlite
bench/analytics.sh 1
bench/books.sh 2
bench/web.sh 1
echo "bench smoke: every benchmark ran"
