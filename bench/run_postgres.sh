#!/usr/bin/env bash
# Benchmarks the PostgreSQL profile end to end and prints a Markdown report.
#
#   bench/run_postgres.sh [BUILD_DIR]        default build/release; nothing is built here
#
# The workload (issue 15): every order names 1..3 distinct products drawn uniformly from 1,000,
# quantities 1..3, a fresh idempotency key in the Idempotency-Key header AND the idempotencyKey
# body field, 10,000 user ids; "hot" is every order one line of the same product. pgbench runs the
# same create-order transaction (bench/pgbench_order_items*.sql, multi-statement and single
# statement) on the same throwaway durable cluster in the same run; then `ordinal serve
# --write-db … --read-db …` (all roles, other databases of the same cluster) under loadgen:
# closed loop uniform and hot, open loop uniform at half the closed-loop rate (p50/p99), and the
# earlier workload (one line of qty 1 of 100 products, key in the header only; pgbench
# bench/pgbench_create_order*.sql) as a second row.
#
# Every measured load runs between a reset of pg_stat_statements and a snapshot of it (the
# cluster preloads it), with the WAL position and the commit count read on both sides; the
# service's loads are followed by a wait until the outbox is empty and the read model holds every
# order, so the relay's and the projector's work for those orders is counted too. The report
# gives per accepted order: statements by kind, round trips, execution time, shared blocks,
# commits, WAL bytes, and the CPU time of the whole cluster and of the server; and the
# checkpoints, autovacuum runs and VACUUMs that fell inside each load (the cluster logs both).
# `ordinal verify` runs on the stores at the end. Everything is stopped on exit. Progress goes to
# stderr, the Markdown report to stdout (`bench/run_postgres.sh > result.md`).
#
# Knobs (environment): H2H_ROUNDS=3 H2H_SECONDS=10 (the alternating head-to-head) OPEN_ROUNDS=3
# OPEN_SECONDS=15 (the open-loop head to head at OPEN_RATE with pgbench -R; OPEN_SETTLE=1 vacuums
# the other side's databases before each round, 0 does not) DURATION=20 WARMUP=5 CONNECTIONS=32 LOADGEN_THREADS=2 OPEN_RATE=(half the
# closed-loop uniform rate) OPEN_CONNECTIONS=64 PGBENCH_SECONDS=20 PGBENCH_CLIENTS="32"
# PGBENCH_THREADS=2 PG_SETTINGS (server settings a production user would set; bench_common.sh)
# SERVE_ARGS (extra `ordinal serve` flags) BENCH_TMPDIR=${TMPDIR:-/tmp} (where the cluster lives)
# KEEP_WORK=1 (keep the temp dir: logs, results.jsonl, statements-*.tsv, the stopped cluster)
# HOST_WRITEBACK_MS=N (root: the kernel writes dirty pages once N ms old for the run, see
# bench_common.sh; 1000 is what BENCHMARKS.md's open-loop figures use).
set -euo pipefail
BENCH_NAME=run_postgres
# shellcheck source=bench/bench_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"

BUILD_DIR=${1:-build/release}
ORDINAL=$BUILD_DIR/ordinal
LOADGEN=$BUILD_DIR/bench/loadgen
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

DURATION=${DURATION:-20}
WARMUP=${WARMUP:-5}
CONNECTIONS=${CONNECTIONS:-32}
LOADGEN_THREADS=${LOADGEN_THREADS:-2}
OPEN_RATE=${OPEN_RATE:-}
OPEN_CONNECTIONS=${OPEN_CONNECTIONS:-64}
PGBENCH_SECONDS=${PGBENCH_SECONDS:-20}
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-32}
PGBENCH_THREADS=${PGBENCH_THREADS:-2}
H2H_ROUNDS=${H2H_ROUNDS:-3}
H2H_SECONDS=${H2H_SECONDS:-10}
OPEN_ROUNDS=${OPEN_ROUNDS:-3}
OPEN_SECONDS=${OPEN_SECONDS:-15}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
# bench_common.sh's durable defaults (start_postgres), plus the statement statistics: the same
# small overhead for pgbench and the service, who run on the same cluster.
PG_SETTINGS="$PG_SETTINGS -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c pg_stat_statements.max=2000 -c log_checkpoints=on -c log_autovacuum_min_duration=0"
# The issue-15 workload, and the earlier one (second row).
WORKLOAD=(--products 1000 --max-items 3 --max-qty 3 --key-in-body --users 10000)
OLD_WORKLOAD=(--products 100 --users 1000)


for tool in "$ORDINAL" "$LOADGEN"; do
  [[ -x $tool ]] || die "$tool not found or not executable (build first, e.g. make bench-postgres)"
done
[[ -f $PG_SCRIPT ]] || die "$PG_SCRIPT not found"
if [[ -z "${PG_BIN:-}" ]]; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [[ -n "$PG_BIN" ]] || PG_BIN=$(dirname "$(command -v pgbench || echo /usr/bin/pgbench)")
fi
export PG_BIN
PGBENCH=$PG_BIN/pgbench
PSQL=$PG_BIN/psql
[[ -x $PGBENCH && -x $PSQL ]] || die "pgbench/psql not found in $PG_BIN (apt-get install postgresql)"

ensure_command jq
ensure_command curl

WORK=$(mktemp -d "$BENCH_TMPDIR/ordinal-pgbench.XXXXXX")
chmod 755 "$WORK"  # the server runs as `postgres` when we are root
SERVER_PID=""
PG_STARTED=""

trap finish_pg_work EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# The cluster

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
apply_host_writeback
PG_STARTED=1
start_postgres "$WORK/pg"
for db in ordinal_pgbench ordinal_pgbench_read ordinal_write ordinal_read; do
  psql_db postgres -c "CREATE DATABASE $db" >/dev/null
done
pg_setting() { psql_db postgres -c "SHOW $1"; }
PG_VERSION=$(psql_db postgres -c "SHOW server_version")
PG_DURABILITY="fsync=$(pg_setting fsync), synchronous_commit=$(pg_setting synchronous_commit), full_page_writes=$(pg_setting full_page_writes), wal_sync_method=$(pg_setting wal_sync_method), commit_delay=$(pg_setting commit_delay), wal_init_zero=$(pg_setting wal_init_zero)"
PG_TUNED="shared_buffers=$(pg_setting shared_buffers), max_wal_size=$(pg_setting max_wal_size), max_connections=$(pg_setting max_connections)"

psql_db postgres -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null

prepare_pgbench_db

# ---------------------------------------------------------------------------------------------
# Where PostgreSQL spends the work: statement statistics, commits and WAL around each load.
# This script's own queries carry "bench-probe" and are left out.

STATS_SQL_KIND="CASE
  WHEN s.query ~* 'pg_notify|^NOTIFY' THEN 'notify'
  WHEN s.query ~* '^(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)' THEN 'transaction control'
  WHEN d.datname LIKE '%read' AND s.query ~* 'bus_positions' THEN 'projector: checkpoint'
  WHEN d.datname LIKE '%read' THEN 'projector: read model'
  WHEN s.query ~* 'DELETE FROM outbox_pending' THEN 'relay: marking'
  WHEN s.query ~* 'COUNT\(\*\) FROM outbox_pending|MAX\(seq\)' THEN 'relay: outbox stats'
  WHEN s.query ~* 'FROM outbox_pending p' THEN 'relay: outbox read'
  WHEN s.query ~* 'pg_locks|advisory' THEN 'relay: lease'
  ELSE 'write path' END"
# pg_stat_statements does not list BEGIN and COMMIT sent through the extended protocol (the
# writers' pipelines, pgbench -M prepared): each such transaction starts with its idempotency
# read, so they are counted as 2 per call of that read. The writers send BEGIN + idempotency read
# + row locks in one round trip, then the batch write + COMMIT in another: round trips =
# statements - the calls that follow another in a pipeline (counted by their followers' place:
# the read, the locks and the write each stand for one statement sent behind another).
STATS_SQL_TX_START="s.query ~* 'FROM idempotency WHERE key = (ANY|md5)'"
STATS_SQL_PIPELINED="(d.datname NOT LIKE 'ordinal_pgbench%' AND (s.query ~* 'FROM idempotency WHERE key = ANY|^WITH p AS \(INSERT INTO products'
  OR s.query ~* '^SELECT (sku|order_id), .* FOR UPDATE'))"
STATS_SQL_FROM="FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
  WHERE d.datname <> 'postgres' AND s.query NOT LIKE '%bench-probe%' AND s.query NOT LIKE '%pg_stat_statements%'"

# CPU time of the whole cluster and of the server (bench_common.sh).
pg_cpu_ticks_here() { pg_cpu_ticks "$WORK/pg/data"; }
server_cpu_ticks() { pid_cpu_ticks "${SERVER_PID:-}"; }

# Checkpoints, autovacuum/autoanalyze runs and plain VACUUMs (the relay's of outbox_pending) so
# far, over the cluster: periodic work that falls inside a load shows in its tail.
maintenance_counts() {
  local checkpoints autovacuums=0 vacuums=0 db a v
  checkpoints=$(psql_db postgres -c "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter /* bench-probe */")
  for db in ordinal_pgbench ordinal_pgbench_read ordinal_write ordinal_read; do
    read -r a v <<<"$(psql_db "$db" -F ' ' -c "SELECT COALESCE(sum(autovacuum_count + autoanalyze_count), 0),
        COALESCE(sum(vacuum_count), 0) FROM pg_stat_user_tables /* bench-probe */")"
    autovacuums=$((autovacuums + a))
    vacuums=$((vacuums + v))
  done
  echo "$checkpoints $autovacuums $vacuums"
}

stats_begin() { # orders-db
  read -r S_CHECKPOINTS S_AUTOVACUUMS S_VACUUMS <<<"$(maintenance_counts)"
  psql_db postgres -c "SELECT pg_stat_statements_reset() /* bench-probe */" >/dev/null
  S_LSN=$(psql_db postgres -c "SELECT pg_current_wal_lsn() /* bench-probe */")
  S_COMMITS=$(psql_db postgres -c "SELECT sum(xact_commit) FROM pg_stat_database /* bench-probe */")
  S_ORDERS=$(psql_db "$1" -c "SELECT count(*) FROM orders /* bench-probe */")
  S_PG_CPU=$(pg_cpu_ticks_here)
  S_SERVER_CPU=$(server_cpu_ticks)
}

# Prints {"label", "orders", "commits", "wal_bytes", "statements", "exec_ms", "blocks"} and keeps
# the statements in $WORK/statements-LABEL.tsv and the budget by kind in $WORK/kinds-LABEL.md.
stats_end() { # label orders-db
  local label=$1 orders commits wal summary calls ms blocks trips started pg_cpu server_cpu
  local checkpoints autovacuums vacuums
  sleep 1.2  # backends report their commit counts at most once a second
  read -r checkpoints autovacuums vacuums <<<"$(maintenance_counts)"
  orders=$(( $(psql_db "$2" -c "SELECT count(*) FROM orders /* bench-probe */") - S_ORDERS ))
  pg_cpu=$(( ($(pg_cpu_ticks_here) - S_PG_CPU) * 1000 / CLK_TCK ))
  server_cpu=$(( ($(server_cpu_ticks) - S_SERVER_CPU) * 1000 / CLK_TCK ))
  commits=$(( $(psql_db postgres -c "SELECT sum(xact_commit) FROM pg_stat_database /* bench-probe */") - S_COMMITS ))
  wal=$(psql_db postgres -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$S_LSN')::bigint /* bench-probe */")
  (( orders > 0 )) || orders=1
  psql_db postgres -F $'\t' -c "SELECT d.datname, $STATS_SQL_KIND, s.calls, round(s.total_exec_time::numeric, 1),
      s.rows, s.shared_blks_hit + s.shared_blks_read + s.shared_blks_dirtied + s.shared_blks_written, s.wal_bytes,
      left(regexp_replace(s.query, '\s+', ' ', 'g'), 160)
    $STATS_SQL_FROM ORDER BY s.total_exec_time DESC" >"$WORK/statements-$label.tsv"
  psql_db postgres -c "SELECT '| ' || kind || ' | ' || round(sum(calls) / $orders.0, 3) || ' | '
      || round(sum(ms)::numeric / $orders, 3) || ' | ' || round(sum(blocks) / $orders.0, 1) || ' | '
      || round(sum(wal) / $orders.0) || ' |'
    FROM (SELECT $STATS_SQL_KIND AS kind, s.calls, s.total_exec_time AS ms,
                 s.shared_blks_hit + s.shared_blks_read + s.shared_blks_dirtied + s.shared_blks_written AS blocks,
                 s.wal_bytes AS wal $STATS_SQL_FROM) k
    GROUP BY kind ORDER BY sum(ms) DESC" >"$WORK/kinds-$label.md"
  summary=$(psql_db postgres -c "SELECT COALESCE(sum(s.calls), 0) || ' '
      || round(COALESCE(sum(s.total_exec_time), 0)::numeric, 1) || ' '
      || COALESCE(sum(s.shared_blks_hit + s.shared_blks_read + s.shared_blks_dirtied + s.shared_blks_written), 0) || ' '
      || COALESCE(sum(s.calls) FILTER (WHERE $STATS_SQL_PIPELINED), 0) || ' '
      || COALESCE(sum(s.calls) FILTER (WHERE $STATS_SQL_TX_START), 0)
    $STATS_SQL_FROM")
  read -r calls ms blocks trips started <<<"$summary"
  calls=$(( calls + 2 * started ))  # + the unlisted BEGIN and COMMIT
  trips=$(( calls - trips ))
  jq -nc --arg name "$label" --argjson orders "$orders" --argjson commits "$commits" --argjson wal "$wal" \
    --argjson calls "$calls" --argjson ms "$ms" --argjson blocks "$blocks" --argjson trips "$trips" \
    --argjson pg_cpu "$pg_cpu" --argjson server_cpu "$server_cpu" \
    --argjson checkpoints "$((checkpoints - S_CHECKPOINTS))" --argjson autovacuums "$((autovacuums - S_AUTOVACUUMS))" \
    --argjson vacuums "$((vacuums - S_VACUUMS))" \
    '{label: $name, orders: $orders, commits: $commits, wal_bytes: $wal, statements: $calls, round_trips: $trips, exec_ms: $ms, blocks: $blocks, pg_cpu_ms: $pg_cpu, server_cpu_ms: $server_cpu, checkpoints: $checkpoints, autovacuums: $autovacuums, vacuums: $vacuums}' \
    | tee -a "$WORK/results.jsonl"
}

# ---------------------------------------------------------------------------------------------
# pgbench

declare -A PGB_BEST    # form-variant -> best JSON over the client counts
declare -A PGB_BUDGET  # form-variant -> statistics of that best run
PGB_ROWS=""
pgbench_series() { # form variant script products
  local best='{}' budget='{}' res st
  for clients in $PGBENCH_CLIENTS; do
    log "pgbench $1 $2, $clients clients, ${PGBENCH_SECONDS} s"
    stats_begin ordinal_pgbench
    res=$(run_pgbench "$3" "$4" "$clients")
    st=$(stats_end "pgbench-$1-$2-c$clients" ordinal_pgbench)
    echo "$res" >>"$WORK/results.jsonl"
    if jq -e --argjson r "$res" '($r.tps // 0) > (.tps // 0)' <<<"$best" >/dev/null; then
      best=$res
      budget=$st
    fi
    PGB_ROWS+="$1|$2|$res"$'\n'
  done
  PGB_BEST[$1-$2]=$best
  PGB_BUDGET[$1-$2]=$budget
}
pgbench_series multi uniform "$HERE/pgbench_order_items.sql" 1000
pgbench_series single uniform "$HERE/pgbench_order_items_single.sql" 1000
pgbench_series multi hot "$HERE/pgbench_order_items.sql" 1
pgbench_series single hot "$HERE/pgbench_order_items_single.sql" 1
pgbench_series multi old "$HERE/pgbench_create_order.sql" 100
PGBENCH_CLIENTS_BEST=$(jq -r '.clients // 32' <<<"${PGB_BEST[single-uniform]}")
pgbench_series single old "$HERE/pgbench_create_order_single.sql" 100

# ---------------------------------------------------------------------------------------------
# The service

PORT=$(free_port)
ADMIN_TOKEN=$(cat /proc/sys/kernel/random/uuid)
mkdir -p "$WORK/data"
log "starting ordinal serve on 127.0.0.1:$PORT (write db ordinal_write, read db ordinal_read)"
# shellcheck disable=SC2086
"$ORDINAL" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --admin-token "$ADMIN_TOKEN" \
  --write-db "$PG_BASE/ordinal_write" --read-db "$PG_BASE/ordinal_read" ${SERVE_ARGS:-} \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_ready "$PORT" "$SERVER_PID" "$WORK/server.log"
log "loadgen setup: 1,000 products"
"$LOADGEN" --target "127.0.0.1:$PORT" --admin-token "$ADMIN_TOKEN" --products 1000 --setup-only >&2

# Waits (120 s at most) until the outbox is empty and the read model holds every order, so the
# relay's and the projector's work for the load is inside the statistics.
wait_drained() {
  local pending=? orders=? viewed=?
  for _ in $(seq 600); do
    pending=$(psql_db ordinal_write -c "SELECT count(*) FROM outbox_pending /* bench-probe */")
    orders=$(psql_db ordinal_write -c "SELECT count(*) FROM orders /* bench-probe */")
    viewed=$(psql_db ordinal_read -c "SELECT count(*) FROM orders_view /* bench-probe */")
    [[ $pending == 0 && $viewed == "$orders" ]] && return 0
    sleep 0.2
  done
  log "not drained after 120 s (pending $pending, orders $orders, projected $viewed)"
}

declare -A HTTP HTTP_BUDGET
http_run() { # name loadgen-args...
  local name=$1
  shift
  log "loadgen $name: $*"
  stats_begin ordinal_write
  HTTP[$name]=$(loadgen --skip-setup --scenario create-order --duration "$DURATION" --warmup "$WARMUP" "$@")
  server_alive
  wait_drained
  HTTP_BUDGET[$name]=$(stats_end "ordinal-$name" ordinal_write)
}
http_run uniform "${WORKLOAD[@]}" --connections "$CONNECTIONS" --rate 0
http_run hot "${WORKLOAD[@]}" --hot-product --connections "$CONNECTIONS" --rate 0
[[ -n $OPEN_RATE ]] || OPEN_RATE=$(jq -r '(.ok_per_s // 0) / 2 | floor' <<<"${HTTP[uniform]}")
(( OPEN_RATE > 0 )) || OPEN_RATE=100
http_run open "${WORKLOAD[@]}" --connections "$OPEN_CONNECTIONS" --rate "$OPEN_RATE"
http_run old "${OLD_WORKLOAD[@]}" --connections "$CONNECTIONS" --rate 0
# Head to head: pgbench's single statement and the service's uniform closed loop take turns,
# after the runs above: run first, on tables just created, the service's rounds came out at
# 0.58-0.71 where its 20 s run right after gave 0.89 (likely plans made for the empty tables,
# kept until autovacuum's first ANALYZE; docs/profiles.md),
# H2H_ROUNDS times H2H_SECONDS each, so load from outside this benchmark (the machines are shared)
# falls on both alike; each round gives a ratio and the median of the rounds is the headline.
H2H_RATIOS=""
for round in $(seq "$H2H_ROUNDS"); do
  log "head to head, round $round of $H2H_ROUNDS: pgbench single uniform, then ordinal uniform, ${H2H_SECONDS} s each"
  h2h_pgb=$(PGBENCH_SECONDS=$H2H_SECONDS run_pgbench "$HERE/pgbench_order_items_single.sql" 1000 "$PGBENCH_CLIENTS_BEST")
  h2h_http=$(loadgen --skip-setup --scenario create-order --duration "$H2H_SECONDS" --warmup 2 \
    "${WORKLOAD[@]}" --connections "$CONNECTIONS" --rate 0)
  server_alive
  wait_drained
  H2H_RATIOS+="$(jq -nc --argjson p "$h2h_pgb" --argjson h "$h2h_http" --argjson round "$round" \
    '{round: $round, pgbench_tps: ($p.tps // 0), ordinal_ok_per_s: ($h.ok_per_s // 0),
      ratio: (if ($p.tps // 0) > 0 then ($h.ok_per_s // 0) / $p.tps else 0 end),
      load: ("'"$(cut -d' ' -f1 /proc/loadavg)"'")}' | tee -a "$WORK/results.jsonl")"$'\n'
done
# Open loop, head to head: at the same fixed rate (OPEN_RATE), pgbench's single statement (the
# same transaction straight against the database, -R: latency from its scheduled start) and the
# service take turns, OPEN_ROUNDS times OPEN_SECONDS each. A tail on this shared machine is mostly
# the disk's and the scheduler's (WAL flushes, other tenants), which fall on pgbench too: its p99
# at the same rate is the physical limit the service's p99 is read against.
# With OPEN_SETTLE=1 (the default) each side's round starts once the other side's databases are
# vacuumed (VACUUM (ANALYZE), then 2 s for the kernel to write what it dirtied): otherwise each
# round carries the dead rows and insert counts of the round before it, whose autovacuum then runs
# inside it (seen in the seventh pass: the service's rounds right after pgbench's met autovacuum of
# ordinal_pgbench's tables). Each side's own autovacuum stays in its rounds.
OPEN_SETTLE=${OPEN_SETTLE:-1}
settle_for() {  # databases to vacuum before the other side's round
  [[ $OPEN_SETTLE == 1 ]] || return 0
  local db
  for db in "$@"; do psql_db "$db" -c "VACUUM (ANALYZE) /* bench-probe */" >/dev/null; done
  sleep 2
}
OPEN_ROUNDS_JSON=""
for round in $(seq "$OPEN_ROUNDS"); do
  log "open loop head to head, round $round of $OPEN_ROUNDS: pgbench single -R $OPEN_RATE, then ordinal --rate $OPEN_RATE, ${OPEN_SECONDS} s each (settle $OPEN_SETTLE)"
  settle_for ordinal_write ordinal_read
  open_pgb=$(PGBENCH_SECONDS=$OPEN_SECONDS PGBENCH_RATE=$OPEN_RATE run_pgbench "$HERE/pgbench_order_items_single.sql" 1000 "$PGBENCH_CLIENTS_BEST")
  settle_for ordinal_pgbench
  open_http=$(loadgen --skip-setup --scenario create-order --duration "$OPEN_SECONDS" --warmup 2 \
    "${WORKLOAD[@]}" --connections "$OPEN_CONNECTIONS" --rate "$OPEN_RATE")
  server_alive
  wait_drained
  OPEN_ROUNDS_JSON+="$(jq -nc --argjson p "$open_pgb" --argjson h "$open_http" --argjson round "$round" \
    '{round: $round, pgbench_tps: ($p.tps // 0), pgbench_p50_us: $p.p50_us, pgbench_p99_us: $p.p99_us,
      pgbench_p999_us: $p.p999_us, ordinal_ok_per_s: ($h.ok_per_s // 0), ordinal_p50_us: $h.latency_us.p50,
      ordinal_p99_us: $h.latency_us.p99, ordinal_p999_us: $h.latency_us.p999, ordinal_missed: ($h.missed // 0),
      load: ("'"$(cut -d' ' -f1 /proc/loadavg)"'")}' | tee -a "$WORK/results.jsonl")"$'\n'
done
stop_server

# The invariants after the load: reserved stock = ordered quantities, one event per order (+ one
# per product upsert), one idempotency record per event; then ordinal verify on both stores.
CHECK=$(psql_db ordinal_write -c "SELECT (SELECT COALESCE(SUM(reserved), 0) FROM products) || ' ' ||
  (SELECT COALESCE(SUM((l->>'qty')::bigint), 0) FROM orders, jsonb_array_elements(lines::jsonb) l) || ' ' ||
  (SELECT COUNT(*) FROM orders) || ' ' || (SELECT COUNT(*) FROM events) || ' ' ||
  (SELECT COUNT(*) FROM idempotency) || ' ' || (SELECT COUNT(*) FROM products) || ' ' ||
  (SELECT COUNT(*) FROM products WHERE stock < 0)")
read -r reserved ordered orders events records nproducts negative <<<"$CHECK"
if [[ $reserved == "$ordered" && $events == $((orders + nproducts)) && $records == "$events" && $negative == 0 ]]; then
  CHECK_VERDICT="consistent: $orders orders, reserved stock $reserved = ordered quantities, $events events, $records idempotency records, no stock below zero"
else
  CHECK_VERDICT="**INCONSISTENT**: reserved $reserved, ordered $ordered, orders $orders, events $events, records $records, products $nproducts, negative stock $negative"
fi
log "ordinal verify"
VERIFY_RC=0
VERIFY=$("$ORDINAL" verify --json --write-db "$PG_BASE/ordinal_write" --read-db "$PG_BASE/ordinal_read" \
  2>>"$WORK/verify.log") || VERIFY_RC=$?
if [[ $VERIFY_RC == 0 ]]; then
  VERIFY_VERDICT="clean (exit 0): \`$(jq -c . <<<"$VERIFY" 2>/dev/null | cut -c1-400)\`"
else
  VERIFY_VERDICT="**NOT CLEAN** (exit $VERIFY_RC): \`$(jq -c . <<<"$VERIFY" 2>/dev/null | cut -c1-600)\`"
fi

# ---------------------------------------------------------------------------------------------
# Report

ratio() { # numerator-json num-expr denominator-json den-expr
  jq -rn --argjson a "$1" --argjson b "$3" \
    "if (\$a | $2 // 0) > 0 and (\$b | $4 // 0) > 0 then (\$a | $2) / (\$b | $4) * 100 | round / 100 | tostring else \"n/a\" end"
}

cpu_model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
fs_type=$(df -T "$WORK" | awk 'NR == 2 { print $2 " (" $1 ")" }')
mount_opts=$(findmnt -no OPTIONS -T "$WORK" 2>/dev/null || echo "n/a")
ordinal_version=$("$ORDINAL" version 2>/dev/null | head -n 1 || echo "n/a")
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

better_of() { # multi-json single-json
  jq -c -n --argjson m "$1" --argjson s "$2" \
    'if ($m.tps // 0) > ($s.tps // 0) then $m + {form: "multi-statement"} else $s + {form: "single statement"} end'
}
PGB_HOT_BEST=$(better_of "${PGB_BEST[multi-hot]}" "${PGB_BEST[single-hot]}")
uniform_ratio=$(ratio "${HTTP[uniform]}" .ok_per_s "${PGB_BEST[single-uniform]}" .tps)
hot_ratio=$(ratio "${HTTP[hot]}" .ok_per_s "$PGB_HOT_BEST" .tps)
old_ratio=$(ratio "${HTTP[old]}" .ok_per_s "${PGB_BEST[single-old]}" .tps)
verdict() { jq -rn --arg r "$1" --argjson min "$2" 'if $r == "n/a" then "n/a" elif ($r | tonumber) >= $min then "PASS" else "FAIL" end'; }
h2h_median=$(jq -rs 'map(.ratio) | sort | if length == 0 then "n/a" else .[(length - 1) / 2 | floor] * 100 | round / 100 | tostring end' <<<"$H2H_RATIOS")
open_p99_ms=$(ms "${HTTP[open]}" .latency_us.p99)
open_verdict=$(jq -rn --arg p "$open_p99_ms" --argjson missed "$(jq '.missed // 0' <<<"${HTTP[open]}")" \
  'if $p == "n/a" then "n/a" elif ($p | tonumber) <= 25 and $missed == 0 then "PASS" else "FAIL" end')
median_ms() { jq -rs "map($1 // empty) | sort | if length == 0 then \"n/a\" else .[(length - 1) / 2 | floor] / 10 | round / 100 | tostring end" <<<"$OPEN_ROUNDS_JSON"; }
open_rounds_p99_ms=$(median_ms .ordinal_p99_us)
open_rounds_pgb_p99_ms=$(median_ms .pgbench_p99_us)
open_rounds_missed=$(jq -s 'map(.ordinal_missed) | add // 0' <<<"$OPEN_ROUNDS_JSON")
open_rounds_verdict=$(jq -rn --arg p "$open_rounds_p99_ms" --argjson missed "$open_rounds_missed" \
  'if $p == "n/a" then "n/a" elif ($p | tonumber) <= 25 and $missed == 0 then "PASS" else "FAIL" end')
open_rounds_ratio=$(jq -rn --arg a "$open_rounds_p99_ms" --arg b "$open_rounds_pgb_p99_ms" \
  'if $a == "n/a" or $b == "n/a" or ($b | tonumber) == 0 then "n/a" else ($a | tonumber) / ($b | tonumber) * 100 | round / 100 | tostring end')

pgbench_row() { # kind variant json
  local best_c
  best_c=$(field "${PGB_BEST[$1-$2]}" .clients)
  printf '| pgbench %s, %s, -c %s | %s tx/s | %s | – | %s | – | – | %s | avg %s ms%s |\n' "$1" "$2" \
    "$(field "$3" .clients)" "$(rate "$3" .tps)" "$(ms "$3" .p50_us)" "$(ms "$3" .p99_us)" \
    "$(field "$3" .failed)" "$(field "$3" .lat_avg_ms)" \
    "$([[ $(field "$3" .clients) == "$best_c" ]] && echo '; **best of this form**' || true)"
}
latency_row() { # name json notes
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$(rate "$2" .ok_per_s)" \
    "$(ms "$2" .latency_us.p50)" "$(ms "$2" .latency_us.p90)" "$(ms "$2" .latency_us.p99)" \
    "$(ms "$2" .latency_us.p999)" "$(ms "$2" .latency_us.max)" "$(field "$2" .errors)" "$3"
}
# One row of the per-order budget: statements, round trips, execution ms, shared blocks, commits,
# WAL bytes, CPU ms of the cluster and of the server; the maintenance inside the load.
budget_row() { # name stats-json
  jq -r --arg name "$1" 'if .orders == null then "| \($name) | n/a | | | | | | | | | |" else
    "| \($name) | \(.orders) | \(.statements / .orders * 100 | round / 100) | \(.round_trips / .orders * 100 | round / 100) | \(.exec_ms / .orders * 1000 | round / 1000) | \(.blocks / .orders * 10 | round / 10) | \(.commits / .orders * 1000 | round / 1000) | \(.wal_bytes / .orders | round) | \(.pg_cpu_ms / .orders * 1000 | round / 1000) | \(.server_cpu_ms / .orders * 1000 | round / 1000) | \(.checkpoints) / \(.autovacuums) / \(.vacuums) |" end' <<<"$2"
}
kinds_table() { # label
  echo "| kind | statements / order | exec ms / order | shared blocks / order | WAL bytes / order |"
  echo "|---|---|---|---|---|"
  cat "$WORK/kinds-$1.md" 2>/dev/null
}
top_statements() { # label n
  echo "| db | kind | calls | total ms | rows | shared blocks | WAL bytes | statement |"
  echo "|---|---|---|---|---|---|---|---|"
  head -n "$2" "$WORK/statements-$1.tsv" 2>/dev/null | awk -F'\t' '{ gsub(/\|/, "\\|", $8); printf "| %s | %s | %s | %s | %s | %s | %s | `%s` |\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
}
best_c() { field "${PGB_BEST[$1]}" .clients; }

cat <<EOF
## PostgreSQL profile benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))

| machine | |
|---|---|
| CPUs (nproc) | $(nproc) |
| CPU model | ${cpu_model:-n/a} |
| kernel | $(uname -r) |
| filesystem of the cluster | $fs_type, $mount_opts |
| PostgreSQL | $PG_VERSION, same machine, TCP 127.0.0.1, pg_stat_statements loaded |
| durability | $PG_DURABILITY |
| kernel writeback | $(host_writeback)${HOST_WRITEBACK_MS:+ (HOST_WRITEBACK_MS=$HOST_WRITEBACK_MS for this run, put back after it)} |
| settings changed from the defaults | $PG_TUNED |
| ordinal | $ordinal_version, \`serve --write-db …/ordinal_write --read-db …/ordinal_read${SERVE_ARGS:+ $SERVE_ARGS}\` (all roles, in-process bus) |
| load average before / after | $LOAD_BEFORE / $LOAD_AFTER |
| pgbench / loadgen | same machine, same cluster, same run; pgbench -M prepared -j $PGBENCH_THREADS -T $PGBENCH_SECONDS --max-tries 20; loadgen $LOADGEN_THREADS threads, $CONNECTIONS connections (open loop $OPEN_CONNECTIONS), ${WARMUP} s warm-up + ${DURATION} s |
| workload | uniform: 1–3 distinct products of 1,000, qty 1–3, key in header and body, 10,000 users; hot: one line of one product, qty 1–3; old: one line of qty 1 of 100 products, key in the header, 1,000 users |

| run | throughput | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors | notes |
|---|---|---|---|---|---|---|---|---|
$(while IFS='|' read -r kind variant res; do [[ -n $kind ]] && pgbench_row "$kind" "$variant" "$res"; done <<<"$PGB_ROWS")
$(latency_row "HTTP create-order, closed loop, uniform" "${HTTP[uniform]}" "ok orders/s; status $(jq -c '.status // {}' <<<"${HTTP[uniform]}")")
$(latency_row "HTTP create-order, closed loop, hot product" "${HTTP[hot]}" "ok orders/s; status $(jq -c '.status // {}' <<<"${HTTP[hot]}")")
$(latency_row "HTTP create-order, open loop $OPEN_RATE/s (half the closed uniform), uniform" "${HTTP[open]}" "missed $(field "${HTTP[open]}" .missed); latency from intended send")
$(latency_row "HTTP create-order, closed loop, old workload" "${HTTP[old]}" "ok orders/s; status $(jq -c '.status // {}' <<<"${HTTP[old]}")")

- uniform, head to head (pgbench single statement and the service alternating, $H2H_ROUNDS rounds of $H2H_SECONDS s): $(jq -rs 'map("\(.ordinal_ok_per_s | round)/\(.pgbench_tps | round) = \(.ratio * 100 | round / 100) (load \(.load))") | join("; ")' <<<"$H2H_RATIOS"); median **$h2h_median** (target ≥ 1.0: **$(verdict "$h2h_median" 1.0)**)
- uniform: HTTP ÷ best pgbench single statement ($(rate "${PGB_BEST[single-uniform]}" .tps) tx/s at -c $(best_c single-uniform)) = **$uniform_ratio** (target ≥ 1.0: **$(verdict "$uniform_ratio" 1.0)**)
- uniform open loop at $OPEN_RATE/s: p99 **$open_p99_ms ms** (target ≤ 25 ms, nothing missed: **$open_verdict**)
- uniform open loop at $OPEN_RATE/s, head to head with pgbench's single statement at the same rate (\`-R $OPEN_RATE\`, $OPEN_ROUNDS alternating rounds of $OPEN_SECONDS s, each side after a VACUUM of the other's databases: OPEN_SETTLE=$OPEN_SETTLE; p50 / p99 / p99.9 ms, latency from the intended start): $(jq -rs 'map("pgbench \(.pgbench_p50_us / 1000 * 10 | round / 10) / \(.pgbench_p99_us / 1000 * 10 | round / 10) / \(.pgbench_p999_us / 1000 * 10 | round / 10), ordinal \(.ordinal_p50_us / 1000 * 10 | round / 10) / \(.ordinal_p99_us / 1000 * 10 | round / 10) / \(.ordinal_p999_us / 1000 * 10 | round / 10), missed \(.ordinal_missed) (load \(.load))") | join("; ")' <<<"$OPEN_ROUNDS_JSON"); median p99 ordinal **$open_rounds_p99_ms ms**, pgbench $open_rounds_pgb_p99_ms ms, ratio **$open_rounds_ratio** (target ≤ 25 ms, nothing missed: **$open_rounds_verdict**)
- hot product: HTTP ÷ better pgbench hot form ($(field "$PGB_HOT_BEST" .form), $(rate "$PGB_HOT_BEST" .tps) tx/s at -c $(field "$PGB_HOT_BEST" .clients)) = **$hot_ratio** (target ≥ 3: **$(verdict "$hot_ratio" 3)**)
- old workload: HTTP ÷ best pgbench single statement ($(rate "${PGB_BEST[single-old]}" .tps) tx/s) = **$old_ratio**
- write store after the runs: $CHECK_VERDICT
- \`ordinal verify\`: $VERIFY_VERDICT

### Per accepted order (pg_stat_statements, pg_current_wal_lsn, pg_stat_database, /proc CPU times; the service's rows include the relay and the projector)

| load | orders | statements | round trips | exec ms | shared blocks | commits | WAL bytes | PostgreSQL CPU ms | ordinal CPU ms | checkpoints / autovacuum runs / VACUUMs in the load |
|---|---|---|---|---|---|---|---|---|---|---|
$(budget_row "pgbench multi-statement, uniform" "${PGB_BUDGET[multi-uniform]}")
$(budget_row "pgbench single statement, uniform" "${PGB_BUDGET[single-uniform]}")
$(budget_row "HTTP closed loop, uniform" "${HTTP_BUDGET[uniform]}")
$(budget_row "HTTP open loop $OPEN_RATE/s, uniform" "${HTTP_BUDGET[open]}")
$(budget_row "pgbench multi-statement, hot" "${PGB_BUDGET[multi-hot]}")
$(budget_row "pgbench single statement, hot" "${PGB_BUDGET[single-hot]}")
$(budget_row "HTTP closed loop, hot" "${HTTP_BUDGET[hot]}")
$(budget_row "pgbench single statement, old workload" "${PGB_BUDGET[single-old]}")
$(budget_row "HTTP closed loop, old workload" "${HTTP_BUDGET[old]}")

HTTP closed loop, uniform, by kind:

$(kinds_table ordinal-uniform)

HTTP open loop, uniform, by kind:

$(kinds_table ordinal-open)

HTTP closed loop, uniform: the statements by total execution time:

$(top_statements ordinal-uniform 25)

pgbench single statement, uniform:

$(top_statements "pgbench-single-uniform-c$(best_c single-uniform)" 5)
EOF
