#!/usr/bin/env bash
# A/B of `ordinal` binaries on ONE durable PostgreSQL cluster: on this shared machine only
# figures taken side by side mean anything, so each round runs pgbench's single statement once
# and then every binary's `ordinal serve` in turn (order reversed every other round), each on its
# own pair of databases (binaries of different schema versions cannot share one), under the
# issue-15 closed-loop workload (bench/run_postgres.sh's). Prints one Markdown row per round and
# binary: orders/s, p50/p99, WAL bytes, commits and CPU ms (cluster, server) per order (load and
# drain of outbox and read model; CPU time is what a noisy machine disturbs least), pgbench's
# cluster CPU per transaction, and `ordinal verify` of every pair at the end. Everything is
# stopped on exit.
#
#   bench/ab_postgres.sh BIN_A BIN_B [BIN_C ...]      paths of `ordinal` binaries; a path may be
#                                                    followed by |FLAGS, serve flags for it alone
#                                                    ("build/release/ordinal|--writers 2")
#
# Knobs (environment): ROUNDS=2 DURATION=15 WARMUP=3 CONNECTIONS=32 LOADGEN_THREADS=2
# LOADGEN=build/release/bench/loadgen HOT=0 (1: every order one line of one product, and pgbench
# with -D products=1) PGBENCH_SECONDS=15 PG_SETTINGS BENCH_TMPDIR KEEP_WORK=1 RATE= (open loop at
# that many orders/s instead of the closed loop, OPEN_CONNECTIONS=64 connections, latency from the
# intended send; the p99.9 and max columns matter there) HOST_WRITEBACK_MS= (bench_common.sh).
set -euo pipefail
BENCH_NAME=ab_postgres
# shellcheck source=bench/bench_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

(( $# >= 2 )) || die "usage: $0 BIN_A BIN_B [BIN_C ...]"
BINS=() FLAGS=()
for b in "$@"; do
  BINS+=("${b%%|*}")
  if [[ $b == *"|"* ]]; then FLAGS+=("${b#*|}"); else FLAGS+=(""); fi
  [[ -x ${BINS[-1]} ]] || die "${BINS[-1]} is not executable"
done
RATE=${RATE:-0}
OPEN_CONNECTIONS=${OPEN_CONNECTIONS:-64}
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-32}
LOADGEN_THREADS=${LOADGEN_THREADS:-2}
LOADGEN=${LOADGEN:-build/release/bench/loadgen}
HOT=${HOT:-0}
PGBENCH_SECONDS=${PGBENCH_SECONDS:-15}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
[[ -x $LOADGEN ]] || die "$LOADGEN not found (build first)"
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
export PG_BIN
ensure_command jq
ensure_command curl
WORKLOAD=(--products 1000 --max-items 3 --max-qty 3 --key-in-body --users 10000)
PGB_PRODUCTS=1000
if [[ $HOT == 1 ]]; then WORKLOAD+=(--hot-product); PGB_PRODUCTS=1; fi

WORK=$(mktemp -d "$BENCH_TMPDIR/ordinal-ab.XXXXXX")
chmod 755 "$WORK"
SERVER_PID=""
PG_STARTED=""
trap finish_pg_work EXIT
trap 'exit 130' INT TERM

apply_host_writeback
PG_STARTED=1
start_postgres "$WORK/pg"
ADMIN_TOKEN=$(cat /proc/sys/kernel/random/uuid)

serve() { # index
  PORT=$(free_port)
  mkdir -p "$WORK/data$1"
  "${BINS[$1]}" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data$1" --admin-token "$ADMIN_TOKEN" \
    --write-db "$PG_BASE/w$1" --read-db "$PG_BASE/r$1" ${FLAGS[$1]} >>"$WORK/server$1.log" 2>&1 &
  SERVER_PID=$!
  wait_ready "$PORT" "$SERVER_PID" "$WORK/server$1.log"
}

# The outbox of either schema: the pending table (write schema 3) or the published flag (2).
PENDING_SQL=()
for i in "${!BINS[@]}"; do
  psql_db postgres -c "CREATE DATABASE w$i" -c "CREATE DATABASE r$i" >/dev/null
  serve "$i"
  "$LOADGEN" --target "127.0.0.1:$PORT" --admin-token "$ADMIN_TOKEN" --products 1000 --setup-only >&2
  stop_server
  if [[ $(psql_db "w$i" -c "SELECT to_regclass('outbox_pending') IS NOT NULL") == t ]]; then
    PENDING_SQL[i]="SELECT count(*) FROM outbox_pending"
  else
    PENDING_SQL[i]="SELECT count(*) FROM events WHERE NOT published"
  fi
  psql_db "w$i" -c "VACUUM ANALYZE" >/dev/null
done
# pgbench on the newest schema (the last binary's), as bench/run_postgres.sh sets it up.
psql_db postgres -c "CREATE DATABASE pgb" -c "CREATE DATABASE pgb_read" >/dev/null
"${BINS[-1]}" migrate --write-db "$PG_BASE/pgb" --read-db "$PG_BASE/pgb_read" >&2
psql_db pgb -c "INSERT INTO products (sku, name, currency, price_minor, stock, reserved, stock_seq, version)
  SELECT 'bench-' || lpad(g::text, 5, '0'), 'Bench product ' || g, 'EUR', 1000 + g, 1000000000, 0, 1, 1
  FROM generate_series(0, 999) g" -c "VACUUM ANALYZE" >/dev/null

wait_drained() { # index
  local pending orders viewed
  for _ in $(seq 600); do
    pending=$(psql_db "w$1" -c "${PENDING_SQL[$1]}")
    orders=$(psql_db "w$1" -c "SELECT count(*) FROM orders")
    viewed=$(psql_db "r$1" -c "SELECT count(*) FROM orders_view")
    [[ $pending == 0 && $viewed == "$orders" ]] && return 0
    sleep 0.2
  done
  log "w$1 not drained after 120 s"
}
counters() { # index -> "orders wal_lsn commits"
  echo "$(psql_db "w$1" -c "SELECT count(*) FROM orders") $(psql_db postgres -c "SELECT pg_current_wal_lsn()") \
$(psql_db postgres -c "SELECT sum(xact_commit) FROM pg_stat_database")"
}

LOAD_CONNECTIONS=$CONNECTIONS
(( RATE > 0 )) && LOAD_CONNECTIONS=$OPEN_CONNECTIONS
echo "Load: $( (( RATE > 0 )) && echo "open loop at $RATE orders/s, $OPEN_CONNECTIONS connections" || echo "closed loop, $CONNECTIONS connections"); kernel writeback: $(host_writeback)."
echo
echo "| round | load avg | pgbench single tx/s (cluster CPU / tx) | binary | orders/s | p50 / p99 / p99.9 / max ms | WAL bytes / order | commits / order | PostgreSQL CPU ms / order | ordinal CPU ms / order |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for round in $(seq "$ROUNDS"); do
  log "round $round: pgbench single statement, ${PGBENCH_SECONDS} s"
  pgc0=$(pg_cpu_ticks "$WORK/pg/data")
  pgb_out=$("$PG_BIN/pgbench" -n -M prepared -D products=$PGB_PRODUCTS -f "$HERE/pgbench_order_items_single.sql" \
    -c "$CONNECTIONS" -j 2 -T "$PGBENCH_SECONDS" --max-tries 20 "$PG_BASE/pgb" 2>&1 || true)
  pgc1=$(pg_cpu_ticks "$WORK/pg/data")
  pgb=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$pgb_out" | head -n 1)
  pgb_tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$pgb_out" | head -n 1)
  pgb_cpu=$(jq -n "($pgc1 - $pgc0) * 1000 / $CLK_TCK / ${pgb_tx:-1} * 1000 | round / 1000")
  order=("${!BINS[@]}")
  if (( round % 2 == 0 )); then
    order=(); for (( j = ${#BINS[@]} - 1; j >= 0; j-- )); do order+=("$j"); done
  fi
  for i in "${order[@]}"; do
    serve "$i"
    read -r o0 l0 c0 <<<"$(counters "$i")"
    pg0=$(pg_cpu_ticks "$WORK/pg/data")
    sv0=$(pid_cpu_ticks "$SERVER_PID")
    log "round $round: ${BINS[$i]}"
    res=$("$LOADGEN" --target "127.0.0.1:$PORT" --admin-token "$ADMIN_TOKEN" --threads "$LOADGEN_THREADS" \
      --skip-setup --scenario create-order --duration "$DURATION" --warmup "$WARMUP" "${WORKLOAD[@]}" \
      --connections "$LOAD_CONNECTIONS" --rate "$RATE" --json || echo '{}')
    wait_drained "$i"
    sleep 1.2  # backends report commit counts at most once a second
    read -r o1 l1 c1 <<<"$(counters "$i")"
    pg1=$(pg_cpu_ticks "$WORK/pg/data")
    sv1=$(pid_cpu_ticks "$SERVER_PID")
    stop_server
    wal=$(psql_db postgres -c "SELECT pg_wal_lsn_diff('$l1', '$l0')::bigint")
    n=$(( o1 - o0 )); (( n > 0 )) || n=1
    echo "| $round | $(cut -d' ' -f1 /proc/loadavg) | ${pgb%.*} (${pgb_cpu} ms CPU / tx) | ${BINS[$i]}${FLAGS[$i]:+ \`${FLAGS[$i]}\`} | $(rate "$res" .ok_per_s) | $(ms "$res" .latency_us.p50) / $(ms "$res" .latency_us.p99) / $(ms "$res" .latency_us.p999) / $(ms "$res" .latency_us.max) | $(( wal / n )) | $(jq -n "($c1 - $c0) / $n * 100 | round / 100") | $(jq -n "($pg1 - $pg0) * 1000 / $CLK_TCK / $n * 1000 | round / 1000") | $(jq -n "($sv1 - $sv0) * 1000 / $CLK_TCK / $n * 1000 | round / 1000") |"
  done
done
for i in "${!BINS[@]}"; do
  rc=0
  "${BINS[$i]}" verify --write-db "$PG_BASE/w$i" --read-db "$PG_BASE/r$i" >"$WORK/verify$i.log" 2>&1 || rc=$?
  echo "- \`ordinal verify\` of ${BINS[$i]}'s stores: exit $rc ($(tail -n 1 "$WORK/verify$i.log"))"
done
