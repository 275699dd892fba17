#!/usr/bin/env bash
# Media against the real binary, on local disk and on an S3-compatible server (moto, from the
# test suite's pinned Python tools), in one run.
# 1. A 12-megapixel JPEG: the upload (decode, re-encode without metadata) and its first
#    thumbnail (decode, resize, encode, store), timed, with the process's peak RSS before and
#    after; then the same thumbnail served again (stored).
# 2. Uploads of a 200 KB photo at load (wrk, each request a distinct file: a JPEG comment made
#    unique per request, so deduplication never answers): local disk, then the S3 server. The
#    local store is the yardstick of the S3 one.
# Appends the results to bench/results.md.
# Usage: bench/media.sh [seconds per scenario, default 10] [connections, default 8]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
duration="${1:-10}"
connections="${2:-8}"
need_wrk
build
local_addr=127.0.0.1:18097
s3_addr=127.0.0.1:18098
s3_port=18099
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export PASAR_RATE_LIMIT__ENABLED=false PASAR_LOG__LEVEL=warn
# A 12-megapixel photo is larger than the default upload limit.
export PASAR_MEDIA__MAX_UPLOAD_BYTES=30000000 PASAR_HTTP__UPLOAD_LIMIT_BYTES=31000000

# moto's S3 server from the tests' virtual environment (made from the pinned requirements when
# the tests have not made it yet).
venv="${CARGO_TARGET_DIR:-target}/test-tools/venv"
if [ ! -x "$venv/bin/moto_server" ]; then
    python3 -m venv "$venv" || fail "python3 -m venv is required"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r crates/testkit/requirements.txt \
        || fail "the pinned Python tools (crates/testkit/requirements.txt) could not be installed"
fi
"$venv/bin/moto_server" -H 127.0.0.1 -p "$s3_port" >/dev/null 2>&1 & pids+=("$!")
wait_listening "http://127.0.0.1:$s3_port/"
curl -fs -X PUT "http://127.0.0.1:$s3_port/pasar-bench" >/dev/null || fail "the bucket could not be made"

"$target/bench-baseline" media-fixtures "$work" >&2
mkdir -p "$work/local" "$work/s3"
"$target/pasar" --data-dir "$work/local" serve --addr "$local_addr" & local_pid=$!
pids+=("$local_pid")
PASAR_MEDIA__STORAGE=s3 PASAR_MEDIA__S3__ENDPOINT="http://127.0.0.1:$s3_port" PASAR_MEDIA__S3__BUCKET=pasar-bench \
PASAR_MEDIA__S3__ACCESS_KEY_ID=bench PASAR_MEDIA__S3__SECRET_ACCESS_KEY=bench PASAR_MEDIA__S3__ALLOW_HTTP=true \
    "$target/pasar" --data-dir "$work/s3" serve --addr "$s3_addr" & s3_pid=$!
pids+=("$s3_pid")
wait_ready "http://$local_addr/health/ready"
wait_ready "http://$s3_addr/health/ready"

token_of() {
    curl -fs -X POST "http://$1/api/v1/auth/register" -H 'content-type: application/json' \
        -d '{"email":"bench.media@example.com","password":"Bench!Passw0rd","firstName":"Bench","lastName":"Media"}' \
        | sed -E 's/.*"accessToken":"([^"]+)".*/\1/'
}
local_token=$(token_of "$local_addr")
s3_token=$(token_of "$s3_addr")
[ -n "$local_token" ] && [ -n "$s3_token" ] || fail "no bench user"

hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# 1. The 12-megapixel photo.
before_kb=$(hwm_kb "$local_pid")
start=$(date +%s%N)
uploaded=$(curl -fs -X POST "http://$local_addr/api/v1/media/upload" -H "authorization: Bearer $local_token" \
    -F purpose=PRODUCT_IMAGE -F "file=@$work/photo-12mp.jpg;type=image/jpeg") || fail "the 12-megapixel upload failed"
upload_ms=$(ms_since "$start")
id=$(echo "$uploaded" | sed -E 's/.*"id":"([^"]+)".*/\1/')
start=$(date +%s%N)
curl -fs -o "$work/thumb.jpg" "http://$local_addr/api/v1/media/$id/thumbnail?size=256" || fail "the thumbnail failed"
thumb_ms=$(ms_since "$start")
start=$(date +%s%N)
curl -fs -o /dev/null "http://$local_addr/api/v1/media/$id/thumbnail?size=256" || fail "the stored thumbnail failed"
stored_ms=$(ms_since "$start")
after_kb=$(hwm_kb "$local_pid")
big_bytes=$(stat -c %s "$work/photo-12mp.jpg")

# 2. Uploads at load.
cat > "$work/upload.lua" <<LUA
local file = io.open("$work/photo-200k.jpg", "rb")
local jpeg = file:read("*a")
file:close()
local boundary = "pasarbenchboundary"
local counter = 0
local thread_id = 0
local threads = 0
function setup(thread) threads = threads + 1; thread:set("thread_id", threads) end
function init(args) counter = 0 end
function request()
    counter = counter + 1
    -- A JPEG comment segment right after the start marker: the bytes differ, the picture not.
    local note = string.format("pasar-bench-%d-%d-%d", thread_id, counter, math.random(1, 1000000000))
    local len = #note + 2
    local segment = "\255\254" .. string.char(math.floor(len / 256), len % 256) .. note
    local file_bytes = jpeg:sub(1, 2) .. segment .. jpeg:sub(3)
    local body = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nPRODUCT_IMAGE\r\n"
        .. "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
        .. file_bytes .. "\r\n--" .. boundary .. "--\r\n"
    return wrk.format("POST", "/api/v1/media/upload", {
        ["Content-Type"] = "multipart/form-data; boundary=" .. boundary,
        ["Authorization"] = "Bearer " .. TOKEN,
    }, body)
end
LUA
sed "s/TOKEN/\"$local_token\"/" "$work/upload.lua" > "$work/upload-local.lua"
sed "s/TOKEN/\"$s3_token\"/" "$work/upload.lua" > "$work/upload-s3.lua"
rows=()
rows+=("$(wrk_row "200 KB uploads: local disk (yardstick)" "$connections" "$duration" "http://$local_addr" -s "$work/upload-local.lua")")
rows+=("$(wrk_row "200 KB uploads: S3 (moto)" "$connections" "$duration" "http://$s3_addr" -s "$work/upload-s3.lua")")
small_bytes=$(stat -c %s "$work/photo-200k.jpg")

report="$work/report.md"
{
    echo
    echo "## $(date -u +%Y-%m-%dT%H:%MZ) — media — $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    machine_line
    echo "Command: \`bench/media.sh $duration $connections\` (SQLite; S3: moto's server on the same machine; rate limits off)."
    echo
    echo "12-megapixel JPEG (4000 x 3000, $((big_bytes / 1024)) KiB): upload (decode, re-encode) ${upload_ms} ms; first 256-pixel thumbnail (decode, resize, encode, store) ${thumb_ms} ms; the stored thumbnail ${stored_ms} ms. Peak RSS of the process: $((before_kb / 1024)) MiB before, $((after_kb / 1024)) MiB after."
    echo
    echo "Uploads of a $((small_bytes / 1024)) KiB photo, each distinct, $connections connections:"
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
