#!/usr/bin/env bash
# Retry-heavy create-order load on PostgreSQL: half of the requests repeat an earlier key, once with
# the Redis idempotency cache and once with no cache at all (every repeat is a write-store
# transaction). Prints a Markdown table: throughput, p50/p99, and write-store transactions per
# repeat (from the server's ordinal_idempotency_repeats_total{answered_by} counters).
#
#   bench/run_retry_heavy.sh [BUILD_DIR]     default build/release; nothing is built here
#
# Knobs: DURATION=15 WARMUP=3 CONNECTIONS=64 REPEAT_FRACTION=0.5 BENCH_TMPDIR KEEP_WORK=1
set -euo pipefail
BENCH_NAME=run_retry_heavy
# shellcheck source=bench/bench_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"

BUILD_DIR=${1:-build/release}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ORDINAL=$BUILD_DIR/ordinal
LOADGEN=$BUILD_DIR/bench/loadgen
REDIS_SCRIPT=$HERE/../tests/scripts/redis_test_server.sh
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-64}
REPEAT_FRACTION=${REPEAT_FRACTION:-0.5}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
for tool in "$ORDINAL" "$LOADGEN"; do [[ -x $tool ]] || die "$tool not found (build first)"; done
ensure_command jq
ensure_command curl

WORK=$(mktemp -d "$BENCH_TMPDIR/ordinal-retry.XXXXXX")
chmod 755 "$WORK"  # the PostgreSQL server runs as `postgres` when we are root
SERVER_PID=""
cleanup() {
  stop_server
  bash "$REDIS_SCRIPT" stop "$WORK/redis" >/dev/null 2>&1 || true
  bash "$PG_SCRIPT" stop "$WORK/pg" >/dev/null 2>&1 || true
  [[ ${KEEP_WORK:-0} == 1 ]] && log "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
start_postgres "$WORK/pg"
log "starting a redis-server in $WORK/redis"
bash "$REDIS_SCRIPT" start "$WORK/redis" >&2
REDIS_URL=$(cat "$WORK/redis/url")

repeats() {  # answered_by -> counter value from /metrics
  curl -fsS "http://127.0.0.1:$PORT/metrics" |
    awk -v src="$1" '$1 ~ "^ordinal_idempotency_repeats_total" && $1 ~ "answered_by=\"" src "\"" { print $2 }' | head -1
}

# One configuration: fresh databases, the server with $2 as cache flags, the load, the counters.
run_config() {  # name cache-args...
  local name=$1; shift
  for db in "w_$name" "r_$name"; do "$PSQL" "$PG_BASE/postgres" -qAt -c "CREATE DATABASE $db" >/dev/null; done
  PORT=$(free_port)
  ADMIN_TOKEN=$(cat /proc/sys/kernel/random/uuid)
  "$ORDINAL" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data-$name" --admin-token "$ADMIN_TOKEN" \
    --write-db "$PG_BASE/w_$name" --read-db "$PG_BASE/r_$name" "$@" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  wait_ready "$PORT" "$SERVER_PID" "$WORK/server.log"
  log "$name: closed loop, $CONNECTIONS connections, repeat fraction $REPEAT_FRACTION, ${DURATION} s"
  local result
  result=$(loadgen --scenario create-order --connections "$CONNECTIONS" --rate 0 --duration "$DURATION" \
    --warmup "$WARMUP" --repeat-fraction "$REPEAT_FRACTION")
  server_alive
  local from_cache from_store
  from_cache=$(repeats cache); from_store=$(repeats write_store)
  stop_server
  local per
  per=$(jq -rn --arg c "${from_cache:-0}" --arg s "${from_store:-0}" \
    '($c|tonumber) as $c | ($s|tonumber) as $s | if $c + $s == 0 then "n/a" else ($s / ($c + $s) * 100 | round / 100 | tostring) end')
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$(rate "$result" '.ok_per_s')" \
    "$(ms "$result" '.latency_us.p50')" "$(ms "$result" '.latency_us.p99')" "$(field "$result" '.errors')" \
    "${from_cache:-0}" "${from_store:-0}" "$per"
}

ROWS=$(run_config redis --cache "$REDIS_URL")
ROWS+=$'\n'$(run_config memory --cache memory)
ROWS+=$'\n'$(run_config no_cache --cache memory --idempotency-cache-entries 0)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

cat <<REPORT
## Retry-heavy load on PostgreSQL ($(date -u +%Y-%m-%dT%H:%M:%SZ))

Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load average before / after: $LOAD_BEFORE / $LOAD_AFTER.
loadgen create-order, closed loop, $CONNECTIONS connections, ${DURATION} s after ${WARMUP} s warm-up, --repeat-fraction $REPEAT_FRACTION.

| cache | ok/s | p50 ms | p99 ms | errors | repeats answered by the cache | repeats answered by a write-store transaction | write-store transactions per repeat |
|---|---|---|---|---|---|---|---|
$ROWS
REPORT
