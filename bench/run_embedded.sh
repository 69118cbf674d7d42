#!/usr/bin/env bash
# Benchmarks the embedded profile (SQLite + in-process bus) end to end and prints a Markdown report.
#
#   bench/run_embedded.sh [BUILD_DIR]        default build/release; nothing is built here
#
# Steps: start `ordinal serve` on a free port with a fresh data dir; run sqlite_raw (batch 1 and
# 64) on the same filesystem as the physical limit; then loadgen create-order closed loop (max
# throughput), open loop at a fixed rate (latency target), and read-your-writes (projection lag).
# The server is always stopped on exit. Progress and the tools' human reports go to stderr, the
# Markdown report to stdout, so `bench/run_embedded.sh > result.md` keeps just the report.
#
# Knobs (environment): DURATION=20 WARMUP=5 CONNECTIONS=64 OPEN_RATE=1000 P99_TARGET_MS=20
# RYW_RATE=200 RYW_CONNECTIONS=16 RAW_SECONDS=10 LOADGEN_THREADS=(loadgen default)
# BENCH_TMPDIR=${TMPDIR:-/tmp} (put it on the filesystem you want measured) KEEP_WORK=1 (keep the
# temp dir: server log, databases, results.jsonl).
set -euo pipefail
BENCH_NAME=run_embedded
# shellcheck source=bench/bench_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"

BUILD_DIR=${1:-build/release}
ORDINAL=$BUILD_DIR/ordinal
LOADGEN=$BUILD_DIR/bench/loadgen
SQLITE_RAW=$BUILD_DIR/bench/sqlite_raw

DURATION=${DURATION:-20}
WARMUP=${WARMUP:-5}
CONNECTIONS=${CONNECTIONS:-64}
OPEN_RATE=${OPEN_RATE:-1000}
P99_TARGET_MS=${P99_TARGET_MS:-20}
RYW_RATE=${RYW_RATE:-200}
RYW_CONNECTIONS=${RYW_CONNECTIONS:-16}
RAW_SECONDS=${RAW_SECONDS:-10}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}


for tool in "$ORDINAL" "$LOADGEN" "$SQLITE_RAW"; do
  [[ -x $tool ]] || die "$tool not found or not executable (build first, e.g. cmake --build --preset release)"
done
# jq reads the tools' JSON results, curl waits for the server. Like the Makefile, install only
# what is missing, and only where that is possible without asking (root with apt-get).
ensure_command jq
ensure_command curl

WORK=$(mktemp -d "$BENCH_TMPDIR/ordinal-bench.XXXXXX")
SERVER_PID=""

cleanup() {
  stop_server
  if [[ ${KEEP_WORK:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # turn signals into a normal exit so the EXIT trap runs

# A port the kernel reports free right now (a small race with other processes is acceptable here).
start_server() {
  PORT=$(free_port)
  ADMIN_TOKEN=$(cat /proc/sys/kernel/random/uuid)
  log "starting ordinal serve on 127.0.0.1:$PORT, data dir $WORK/data"
  mkdir -p "$WORK/data"
  "$ORDINAL" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --admin-token "$ADMIN_TOKEN" \
    >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  wait_ready "$PORT" "$SERVER_PID" "$WORK/server.log"
}

# Runs a tool with --json; its JSON line is echoed and appended to results.jsonl. A failed run
# yields {} so the report still prints, with n/a in that row.


# ---------------------------------------------------------------------------------------------

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)  # anything else busy on the box skews every number
start_server

log "sqlite_raw, batch 1 (${RAW_SECONDS} s)"
RAW1=$(run_json "$SQLITE_RAW" --db "$WORK/raw.db" --seconds "$RAW_SECONDS" --batch 1)
log "sqlite_raw, batch 64 (${RAW_SECONDS} s)"
RAW64=$(run_json "$SQLITE_RAW" --db "$WORK/raw.db" --seconds "$RAW_SECONDS" --batch 64)

log "loadgen create-order, closed loop, $CONNECTIONS connections, ${DURATION} s"
CLOSED=$(loadgen --scenario create-order --connections "$CONNECTIONS" --rate 0 --duration "$DURATION" --warmup "$WARMUP")
server_alive

log "loadgen create-order, open loop at $OPEN_RATE/s, $CONNECTIONS connections, ${DURATION} s"
OPEN=$(loadgen --skip-setup --scenario create-order --connections "$CONNECTIONS" --rate "$OPEN_RATE" \
  --duration "$DURATION" --warmup "$WARMUP")
server_alive

log "loadgen read-your-writes, open loop at $RYW_RATE/s, $RYW_CONNECTIONS connections, ${DURATION} s"
RYW=$(loadgen --skip-setup --scenario read-your-writes --connections "$RYW_CONNECTIONS" --rate "$RYW_RATE" \
  --duration "$DURATION" --warmup "$WARMUP")
server_alive
stop_server

# ---------------------------------------------------------------------------------------------
# Report

# jq over one result: prints n/a when the field is missing (failed run).
# A µs figure as milliseconds with two decimals.

cpu_model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
fs_type=$(df -T "$WORK" | awk 'NR == 2 { print $2 " (" $1 ")" }')
mount_opts=$(findmnt -no OPTIONS -T "$WORK" 2>/dev/null || echo "n/a")
ordinal_version=$("$ORDINAL" version 2>/dev/null | head -n 1 || echo "n/a")

ratio=$(jq -rn --argjson http "$CLOSED" --argjson raw "$RAW1" \
  'if ($http.ok_per_s // 0) > 0 and ($raw.orders_per_s // 0) > 0
   then ($http.ok_per_s / $raw.orders_per_s * 100 | round / 100 | tostring) else "n/a" end')
open_verdict=$(jq -r --argjson target "$P99_TARGET_MS" \
  'if .latency_us.p99 == null then "n/a"
   elif .latency_us.p99 < $target * 1000 and .errors == 0 and .missed == 0 then "PASS"
   else "FAIL" end' <<<"$OPEN")

latency_row() { # name, json, histogram, throughput expression, notes
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$(rate "$2" "$4")" \
    "$(ms "$2" ".$3.p50")" "$(ms "$2" ".$3.p90")" "$(ms "$2" ".$3.p99")" "$(ms "$2" ".$3.p999")" \
    "$(ms "$2" ".$3.max")" "$(field "$2" '.errors')" "$5"
}
raw_row() { # name, json, notes
  printf '| %s | %s tx/s, %s orders/s | %s | – | %s | %s | %s | – | %s |\n' "$1" \
    "$(rate "$2" '.tx_per_s')" "$(rate "$2" '.orders_per_s')" "$(ms "$2" '.tx_latency_us.p50')" \
    "$(ms "$2" '.tx_latency_us.p99')" "$(ms "$2" '.tx_latency_us.p999')" "$(ms "$2" '.tx_latency_us.max')" "$3"
}

cat <<EOF
## Embedded profile benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))

| machine | |
|---|---|
| CPUs (nproc) | $(nproc) |
| CPU model | ${cpu_model:-n/a} |
| kernel | $(uname -r) |
| filesystem of the data dir | $fs_type, $mount_opts |
| SQLite | $(field "$RAW1" '.sqlite_version') |
| ordinal | $ordinal_version |
| load average before / after | $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg) |
| loadgen | same machine, $(field "$CLOSED" '.threads') threads |

| run | throughput | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors | notes |
|---|---|---|---|---|---|---|---|---|
$(raw_row "sqlite_raw, batch 1 (WAL, synchronous=FULL)" "$RAW1" "one order per durable commit; latency per transaction")
$(raw_row "sqlite_raw, batch 64" "$RAW64" "64 orders per durable commit; latency per transaction")
$(latency_row "HTTP create-order, closed loop, $CONNECTIONS conns" "$CLOSED" latency_us .ok_per_s "ok orders/s; status $(jq -c '.status // {}' <<<"$CLOSED"); 503 overloaded $(field "$CLOSED" '.overloaded_503')")
$(latency_row "HTTP create-order, open loop $OPEN_RATE/s" "$OPEN" latency_us .ok_per_s "p99 < $P99_TARGET_MS ms with no errors: **$open_verdict**; missed $(field "$OPEN" '.missed'); latency from intended send")
$(latency_row "read-your-writes $RYW_RATE/s: POST ack" "$RYW" latency_us .ok_per_s "orders/s read back")
$(latency_row "read-your-writes $RYW_RATE/s: ack → visible" "$RYW" visible_us .ok_per_s "consistency_timeout 503: $(field "$RYW" '.consistency_timeout_503')")

HTTP closed-loop orders/s ÷ raw SQLite batch-1 orders/s = **$ratio**
(1 = the whole service reaches the one-durable-commit-per-order limit of its store; above 1 it
must be grouping several orders into one commit, whose ceiling is the batch-64 row).
EOF
