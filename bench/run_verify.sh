#!/usr/bin/env bash
# Measures `ordinal verify` (speed in events/s, peak memory) on stores filled through the HTTP API
# and prints a Markdown report.
#
#   bench/run_verify.sh [BUILD_DIR]        default build/release; nothing is built here
#
# Steps, for the embedded profile (SQLite) and, with PG=1, for both stores on PostgreSQL (a
# throwaway cluster from tests/scripts/postgres_test_server.sh): start `ordinal serve`, fill it
# with loadgen create-order (closed loop) until the event log holds SMALL_EVENTS events, stop the
# server, verify RUNS times; fill on to EVENTS events, verify RUNS times again. The two sizes show
# whether memory stays flat as the log grows. Every verify must report clean.
#
# Knobs (environment): EVENTS=100000 SMALL_EVENTS=20000 RUNS=3 CONNECTIONS=32 PG=0
# BENCH_TMPDIR=${TMPDIR:-/tmp} KEEP_WORK=1 (keep the temp dir).
set -euo pipefail
BENCH_NAME=run_verify
# shellcheck source=bench/bench_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"

BUILD_DIR=${1:-build/release}
ORDINAL=$BUILD_DIR/ordinal
LOADGEN=$BUILD_DIR/bench/loadgen
PG_SCRIPT=$(dirname "${BASH_SOURCE[0]}")/../tests/scripts/postgres_test_server.sh
EVENTS=${EVENTS:-100000}
SMALL_EVENTS=${SMALL_EVENTS:-20000}
RUNS=${RUNS:-3}
CONNECTIONS=${CONNECTIONS:-32}
PG=${PG:-0}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}

for tool in "$ORDINAL" "$LOADGEN"; do
  [[ -x $tool ]] || die "$tool not found or not executable (build first, e.g. cmake --build --preset release)"
done
ensure_command jq
ensure_command curl
[[ -x /usr/bin/time ]] || ensure_command time

WORK=$(mktemp -d "$BENCH_TMPDIR/ordinal-verify-bench.XXXXXX")
chmod 755 "$WORK"  # a PostgreSQL server running as another user must reach its directory
SERVER_PID=""
PG_DIR=""

cleanup() {
  stop_server
  [[ -n $PG_DIR ]] && bash "$PG_SCRIPT" stop "$PG_DIR" >/dev/null 2>&1 || true
  if [[ ${KEEP_WORK:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

STORE_ARGS=()

start_server() {
  PORT=$(free_port)
  ADMIN_TOKEN=$(cat /proc/sys/kernel/random/uuid)
  "$ORDINAL" serve --listen "127.0.0.1:$PORT" --admin-token "$ADMIN_TOKEN" "${STORE_ARGS[@]}" \
    >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  wait_ready
}

last_seq() {
  curl -fsS -H "Authorization: Bearer $ADMIN_TOKEN" "http://127.0.0.1:$PORT/v1/admin/status" |
    jq -r '.outbox.lastSeq // 0'
}

# Orders until the log holds $1 events (the first round also creates the products).
fill_to() {
  local target=$1 setup=()
  [[ $(last_seq) == 0 ]] || setup=(--skip-setup)
  while (($(last_seq) < target)); do
    server_alive
    loadgen "${setup[@]}" --scenario create-order --connections "$CONNECTIONS" --rate 0 \
      --duration 5 --warmup 0 >/dev/null
    setup=(--skip-setup)
    log "event log at $(last_seq) events"
  done
}

# One verify run: its JSON report with its peak RSS (KiB) and CPU seconds (user + system) added.
verify_once() {
  local out
  out=$(/usr/bin/time -f '{"maxRssKiB": %M, "cpuSeconds": %U, "cpuSys": %S}' -o "$WORK/usage" \
    "$ORDINAL" verify --json "${STORE_ARGS[@]}") || die "verify did not report clean: $out"
  jq -c --slurpfile u "$WORK/usage" '. + {maxRssKiB: $u[0].maxRssKiB, cpuSeconds: ($u[0].cpuSeconds + $u[0].cpuSys)}' <<<"$out"
}

# RUNS verify runs; prints a table row with the median speed.
measure() { # profile label
  local runs=() i
  for ((i = 0; i < RUNS; i++)); do runs+=("$(verify_once)"); done
  printf '%s\n' "${runs[@]}" >>"$WORK/results.jsonl"
  printf '%s\n' "${runs[@]}" | jq -rs --arg p "$1" '
    sort_by(.eventsPerSecond) as $r | $r[(length / 2 | floor)] as $m |
    "| \($p) | \($m.eventsChecked) | \($m.streams.orders) | \($m.seconds * 1000 | round / 1000) | " +
    "**\($m.eventsPerSecond | round)** | \($r[0].eventsPerSecond | round) – \($r[-1].eventsPerSecond | round) | " +
    "\(if $m.cpuSeconds > 0 then ($m.eventsChecked / $m.cpuSeconds | round) else "n/a" end) | " +
    "\(map(.maxRssKiB) | max / 1024 | . * 10 | round / 10) | \($m.clean) |"'
}

profile() { # name
  log "$1: filling to $SMALL_EVENTS events"
  start_server
  fill_to "$SMALL_EVENTS"
  stop_server
  ROWS+=("$(measure "$1")")
  log "$1: filling to $EVENTS events"
  start_server
  fill_to "$EVENTS"
  stop_server
  ROWS+=("$(measure "$1")")
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
ROWS=()
STORE_ARGS=(--data-dir "$WORK/data")
profile "SQLite"
if [[ $PG == 1 ]]; then
  PG_DIR=$WORK/pg
  bash "$PG_SCRIPT" start "$PG_DIR" >/dev/null || die "cannot start PostgreSQL"
  PG_URL=$(cat "$PG_DIR/url")
  STORE_ARGS=(--write-db "$PG_URL" --read-db "$PG_URL")
  profile "PostgreSQL"
fi

cat <<EOF
## \`ordinal verify\` speed ($(date -u +%Y-%m-%dT%H:%M:%SZ))

Stores filled by loadgen create-order (one OrderPlaced per order, 100 products), server stopped,
then \`ordinal verify --json\` $RUNS times per size; the median run by speed.

| machine | |
|---|---|
| CPUs (nproc) | $(nproc) |
| CPU model | $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') |
| load average before / after | $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg) |

| store | events | order streams | seconds | events/s | events/s (min – max) | events per CPU second (verify process) | peak RSS MiB | clean |
|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")
EOF
