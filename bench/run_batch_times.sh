#!/usr/bin/env bash
# What the publish and apply times (docs/console.md#publish-and-apply-times) cost PostgreSQL, for
# two or more builds in the same run (e.g. one without them and one with): the statement budget of
# the relay's and the projector's batches, per batch and per order. Prints a Markdown report.
#
#   bench/run_batch_times.sh BUILD_DIR [BUILD_DIR...]
#
# Starts a throwaway durable PostgreSQL with pg_stat_statements preloaded (the settings of
# bench/run_postgres.sh). Then ROUNDS times, for each build in turn (the order reversed every
# other round), on fresh databases: one
# `ordinal serve` with every role (the in-process bus: the Kafka profile's projector runs the same
# read-store code, apply_deliveries instead of apply, one batch row per poll's transaction either
# way); loadgen's 1,000 products; pg_stat_statements reset; issue 15's create-order workload in
# a closed loop (CONNECTIONS connections, DURATION s after WARMUP s); then a wait until the outbox
# is empty and the read model holds every order, so that the relay's and the projector's work for
# the load is all inside the statistics. Per run, from pg_stat_statements (BEGIN and COMMIT sent
# in a pipeline are not listed; the batches' round trips are held by tests/pg/pg_batch_times_test):
#   relay batches     calls of the marking statement (DELETE FROM outbox_pending ...);
#   relay stmts/batch the write database's relay statements (outbox reads, marking, lease) per
#                     relay batch;
#   proj. batches     calls of the position upsert (INSERT INTO bus_positions ...), one per
#                     projection transaction;
#   proj. stmts/batch the read database's projection statements (views, positions, batch times,
#                     dead-letter lock) per projection batch;
#   marking ms/batch  the marking statement's execution time per relay batch (it writes the relay
#                     batch row in the builds that have them);
#   batch-time row    the projection batch row's insert, execution ms per projection batch;
#   rows              relay_batches and projection_batches rows written (builds that have them);
# Each run's statements, slowest first, are kept in $WORK/statements-b<build>r<round>.tsv.
#   per order         execution ms and WAL bytes of the whole cluster, and orders/s.
#
# Knobs: ROUNDS=2 DURATION=15 WARMUP=3 CONNECTIONS=32 LOADGEN_THREADS=2 SERVE_ARGS= PG_SETTINGS
# BENCH_TMPDIR KEEP_WORK=1 RATE= (open loop at that many orders/s instead of the closed loop, on
# OPEN_CONNECTIONS=64 connections: batches are smaller there and cost more per order). loadgen is
# each build's own bench/loadgen (the first build's that has one otherwise).
set -euo pipefail
BENCH_NAME=run_batch_times
# shellcheck source=bench/bench_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
# shellcheck source=bench/bench_roles.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_roles.sh"

(( $# >= 1 )) || die "usage: bench/run_batch_times.sh BUILD_DIR [BUILD_DIR...]"
BUILDS=("$@")
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-32}
RATE=${RATE:-0}
(( RATE == 0 )) || CONNECTIONS=${OPEN_CONNECTIONS:-64}
LOADGEN_THREADS=${LOADGEN_THREADS:-2}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
PG_SETTINGS="$PG_SETTINGS -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c pg_stat_statements.max=2000"
WORKLOAD=(--products 1000 --max-items 3 --max-qty 3 --key-in-body --users 10000)

LOADGEN_ANY=""
for b in "${BUILDS[@]}"; do
  [[ -x $b/ordinal ]] || die "$b/ordinal not found (build first)"
  [[ -n $LOADGEN_ANY || ! -x $b/bench/loadgen ]] || LOADGEN_ANY=$b/bench/loadgen
done
[[ -n $LOADGEN_ANY ]] || die "no build has bench/loadgen"
ensure_command jq
ensure_command curl

make_work ordinal-batch-times
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
start_postgres "$WORK/pg"
psql_db postgres -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
ADMIN_TOKEN=$(cat /proc/sys/kernel/random/uuid)

# Sums over one run's two databases of pg_stat_statements, by what the statement is for.
stat_sum() {  # setup db-kind query-regex
  psql_db postgres -c "SELECT COALESCE(sum(s.calls), 0) FROM pg_stat_statements s
    JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '${2}_$1' AND s.query ~* '$3'
    AND s.query NOT LIKE '%bench-probe%'"
}
# Their execution time in ms.
stat_ms() {  # setup db-kind query-regex
  psql_db postgres -c "SELECT COALESCE(sum(s.total_exec_time), 0) FROM pg_stat_statements s
    JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '${2}_$1' AND s.query ~* '$3'
    AND s.query NOT LIKE '%bench-probe%'"
}
RELAY_RE='outbox_pending|relay_state|relay_batches|pg_try_advisory_lock|pg_locks'
PROJ_RE='orders_view|products_view|bus_positions|projection_batches|dead_letters|pg_advisory_xact_lock'

# A table's row count, or "none" in a build without it.
rows_of() {  # db table
  if [[ $(psql_db "$1" -c "SELECT to_regclass('$2') IS NOT NULL /* bench-probe */") == t ]]; then
    psql_db "$1" -c "SELECT count(*) FROM $2 /* bench-probe */"
  else
    echo none
  fi
}

ROWS=()
run_build() {  # round build-index build-dir
  local round=$1 i=$2 dir=$3 db="b$2r$1" res lsn wal orders ms relay relay_all proj proj_all rb pb
  local mark_ms times_ms
  ORDINAL=$dir/ordinal
  LOADGEN=$dir/bench/loadgen
  [[ -x $LOADGEN ]] || LOADGEN=$LOADGEN_ANY
  for d in "w_$db" "r_$db"; do psql_db postgres -c "CREATE DATABASE $d" >/dev/null; done
  start_role all api,relay,projector local "$db"
  "$LOADGEN" --target "127.0.0.1:$PORT" --admin-token "$ADMIN_TOKEN" --products 1000 --setup-only >&2
  wait_settled "$db" 120
  psql_db postgres -c "SELECT pg_stat_statements_reset() /* bench-probe */" >/dev/null
  lsn=$(psql_db postgres -c "SELECT pg_current_wal_lsn() /* bench-probe */")
  orders=$(psql_db "w_$db" -c "SELECT count(*) FROM orders /* bench-probe */")
  log "$dir: create-order, $( (( RATE == 0 )) && echo closed loop || echo "open loop at $RATE/s"), $CONNECTIONS connections, ${DURATION} s"
  res=$(loadgen --skip-setup --scenario create-order "${WORKLOAD[@]}" --connections "$CONNECTIONS" \
    --rate "$RATE" --duration "$DURATION" --warmup "$WARMUP")
  alive_all
  wait_settled "$db" 120
  sleep 1.2  # backends report their statistics at most once a second
  orders=$(( $(psql_db "w_$db" -c "SELECT count(*) FROM orders /* bench-probe */") - orders ))
  (( orders > 0 )) || orders=1
  wal=$(psql_db postgres -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn')::bigint /* bench-probe */")
  ms=$(psql_db postgres -c "SELECT round(COALESCE(sum(s.total_exec_time), 0)::numeric, 1) FROM pg_stat_statements s
    JOIN pg_database d ON d.oid = s.dbid WHERE d.datname IN ('w_$db', 'r_$db') AND s.query NOT LIKE '%bench-probe%'")
  mark_ms=$(stat_ms "$db" w 'DELETE FROM outbox_pending')
  times_ms=$(stat_ms "$db" r 'INSERT INTO projection_batches')
  psql_db postgres -F $'\t' -c "SELECT d.datname, s.calls, round(s.total_exec_time::numeric, 1), s.rows, s.plans, round(s.total_plan_time::numeric, 1),
      left(regexp_replace(s.query, '\s+', ' ', 'g'), 140) FROM pg_stat_statements s
    JOIN pg_database d ON d.oid = s.dbid WHERE d.datname IN ('w_$db', 'r_$db')
    ORDER BY s.total_exec_time DESC" >"$WORK/statements-$db.tsv"
  relay=$(stat_sum "$db" w 'DELETE FROM outbox_pending')
  relay_all=$(stat_sum "$db" w "$RELAY_RE")
  proj=$(stat_sum "$db" r 'INSERT INTO bus_positions')
  proj_all=$(stat_sum "$db" r "$PROJ_RE")
  rb=$(rows_of "w_$db" relay_batches)
  pb=$(rows_of "r_$db" projection_batches)
  (( relay > 0 )) || relay=1
  (( proj > 0 )) || proj=1
  ROWS+=("| $round | \`$dir\` | $(rate "$res" .ok_per_s) | $relay | $(jq -n "$relay_all / $relay * 100 | round / 100") | $(jq -n "$mark_ms / $relay * 1000 | round / 1000") | $proj | $(jq -n "$proj_all / $proj * 100 | round / 100") | $(jq -n "$times_ms / $proj * 1000 | round / 1000") | $rb / $pb | $(jq -n "$ms / $orders * 1000 | round / 1000") | $(( wal / orders )) |")
  log "${ROWS[-1]}"
  stop_all
}

# The order turns every round: load from outside the run tends to grow or shrink over it, and a
# build always run last would take all of that drift.
for round in $(seq "$ROUNDS"); do
  order=("${!BUILDS[@]}")
  if (( round % 2 == 0 )); then
    order=(); for (( i = ${#BUILDS[@]} - 1; i >= 0; i-- )); do order+=("$i"); done
  fi
  for i in "${order[@]}"; do run_build "$round" "$i" "${BUILDS[$i]}"; done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

cat <<EOF
## Publish and apply times: the batches' statement budget ($START)

Command: \`ROUNDS=$ROUNDS DURATION=$DURATION CONNECTIONS=$CONNECTIONS RATE=$RATE bench/run_batch_times.sh ${BUILDS[*]}\`;
load average before $LOAD_BEFORE, after $LOAD_AFTER. Relay and projection statements as
pg_stat_statements lists them (no BEGIN/COMMIT); rows: relay_batches / projection_batches
written over the whole run (setup included; "none": a build without them).

| round | build | orders/s | relay batches | relay stmts/batch | marking ms/batch | proj. batches | proj. stmts/batch | batch-time row ms/batch | rows | exec ms/order | WAL bytes/order |
|---|---|---|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")
EOF
