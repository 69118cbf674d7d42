#!/usr/bin/env bash
# Measures a projection rebuild (the event log replayed into an emptied read model: events/s) and
# what the log costs on disk per event, on stores filled through the HTTP API; prints a Markdown
# report. The figures behind docs/limits.md "How the stores grow" (rebuild time at 1 billion
# events).
#
#   bench/run_rebuild.sh [BUILD_DIR]       default build/release; nothing is built here
#
# For the embedded profile (SQLite) and, with PG=1, both stores on PostgreSQL (a throwaway
# cluster): start `ordinal serve`, fill it with loadgen create-order until the log holds EVENTS
# events, let the outbox drain, then ask for a rebuild RUNS times (the server idle) and take the
# median; the log's bytes per event (SQLite: the write store's file; PostgreSQL: the events
# table with its indexes and TOAST).
# Knobs (environment): EVENTS=100000 RUNS=3 CONNECTIONS=32 PG=0 BENCH_TMPDIR=${TMPDIR:-/tmp}
set -euo pipefail
BENCH_NAME=run_rebuild
# shellcheck source=bench/bench_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"

BUILD_DIR=${1:-build/release}
ORDINAL=$BUILD_DIR/ordinal
LOADGEN=$BUILD_DIR/bench/loadgen
PG_SCRIPT=$(dirname "${BASH_SOURCE[0]}")/../tests/scripts/postgres_test_server.sh
EVENTS=${EVENTS:-100000}
RUNS=${RUNS:-3}
CONNECTIONS=${CONNECTIONS:-32}
PG=${PG:-0}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
for tool in "$ORDINAL" "$LOADGEN"; do
  [[ -x $tool ]] || die "$tool not found (build first: cmake --build --preset release --target ordinal loadgen)"
done
ensure_command jq
ensure_command curl

WORK=$(mktemp -d "$BENCH_TMPDIR/ordinal-rebuild-bench.XXXXXX")
chmod 755 "$WORK"
SERVER_PID=""
PG_DIR=""
cleanup() {
  stop_server
  [[ -n $PG_DIR ]] && bash "$PG_SCRIPT" stop "$PG_DIR" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

admin() { curl -fsS -H "Authorization: Bearer $ADMIN_TOKEN" "$@"; }
status() { admin "http://127.0.0.1:$PORT/v1/admin/status"; }

profile() { # name log-bytes-command...
  local name=$1 setup=() runs=() i
  shift
  PORT=$(free_port)
  ADMIN_TOKEN=$(cat /proc/sys/kernel/random/uuid)
  "$ORDINAL" serve --listen "127.0.0.1:$PORT" --admin-token "$ADMIN_TOKEN" "${STORE_ARGS[@]}" \
    >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  wait_ready
  while (($(status | jq -r '.outbox.lastSeq // 0') < EVENTS)); do
    server_alive
    loadgen "${setup[@]}" --scenario create-order --connections "$CONNECTIONS" --rate 0 \
      --duration 5 --warmup 0 >/dev/null
    setup=(--skip-setup)
  done
  while (($(status | jq -r '.outbox.pending') > 0)); do sleep 0.2; done
  for ((i = 0; i < RUNS; i++)); do
    runs+=("$(admin -X POST "http://127.0.0.1:$PORT/v1/admin/projections/rebuild")")
  done
  local events bytes
  events=$(status | jq -r '.outbox.lastSeq')
  bytes=$("$@")
  stop_server
  printf '%s\n' "${runs[@]}" | jq -rs --arg p "$name" --argjson bytes "$bytes" --argjson events "$events" '
    map(. + {eps: (.eventsReplayed / (.durationMs / 1000))}) | sort_by(.eps) as $r |
    $r[(length / 2 | floor)] as $m |
    "| \($p) | \($m.eventsReplayed) | \($m.durationMs) | **\($m.eps | round)** | " +
    "\($r[0].eps | round) – \($r[-1].eps | round) | \($bytes / $events | round) | " +
    "\(1000000000 / $m.eps / 3600 | . * 10 | round / 10) |"'
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
ROWS=()
STORE_ARGS=(--data-dir "$WORK/data")
sqlite_bytes() { stat -c %s "$WORK/data/write.db"; }
ROWS+=("$(profile SQLite sqlite_bytes)")
if [[ $PG == 1 ]]; then
  PG_DIR=$WORK/pg
  bash "$PG_SCRIPT" start "$PG_DIR" >/dev/null || die "cannot start PostgreSQL"
  PG_URL=$(cat "$PG_DIR/url")
  STORE_ARGS=(--write-db "$PG_URL" --read-db "$PG_URL")
  pg_bytes() { psql "$PG_URL" -qAt -c "SELECT pg_total_relation_size('events')"; }
  ROWS+=("$(profile PostgreSQL pg_bytes)")
fi

cat <<EOF2
## Rebuild speed and log size ($(date -u +%Y-%m-%dT%H:%M:%SZ))

Stores filled by loadgen create-order (one OrderPlaced per order, 100 products), the outbox
drained, then \`POST /v1/admin/projections/rebuild\` $RUNS times on the idle server; the median run.
Load average before / after: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs.

| store | events replayed | ms | events/s | events/s (min – max) | log bytes per event | hours for 10^9 events at that speed |
|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")
EOF2
