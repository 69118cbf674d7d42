#!/usr/bin/env bash
# Ordinal next to a plain Node.js implementation of the same pipeline (bench/node-reference), on
# the same throwaway durable PostgreSQL, in the same run, under the same loadgen workload; prints a
# Markdown report.
#
#   bench/run_node_reference.sh [BUILD_DIR]     default build/release; nothing is built here
#                                               (make bench-node builds and runs it)
#
# The workload is issue 15's: every order names 1..3 distinct products drawn uniformly from 1,000,
# quantities 1..3, a fresh idempotency key in the Idempotency-Key header AND the idempotencyKey
# body field, 10,000 user ids, 32 keep-alive connections, 2 loadgen threads. Both services run at
# once, each on its own two databases of the cluster (write and read), each with all of its roles
# in one process; only one is under load at a time. pgbench runs the same transaction as one
# statement (bench/pgbench_order_items_single.sql, -M prepared, as many clients as connections) on
# a third database: the physical limit, and the yardstick that makes figures from other runs and
# machines comparable. After a warm-up load on each service (then ANALYZE, so neither runs on
# plans made for empty tables), ROUNDS rounds take turns: pgbench, Node.js, then Ordinal,
# ROUND_SECONDS each, closed loop, each service followed by a wait until its read model holds
# every order. Each round gives ratios; the median is the headline, so load from outside (the
# machines are shared) falls on all alike. Then each service takes a read-your-writes load at
# RYW_RATE orders/s (open loop): the ack latency and the ack -> visible lag. CPU time per order of
# the cluster and of each service's processes comes from /proc. At the end: `ordinal verify`,
# and for both services, reserved stock = ordered quantities and every order projected.
#
# Knobs (environment): ROUNDS=3 ROUND_SECONDS=15 WARMUP=3 CONNECTIONS=32 LOADGEN_THREADS=2 RYW_RATE=100
# RYW_SECONDS=10 NODE_POOL=32 (node-postgres connections per database over all workers)
# NODE_WORKERS=2 (HTTP worker processes, node:cluster; the relay runs in the primary; 1 = one
# process for everything) PG_SETTINGS (bench_common.sh)
# SERVE_ARGS (extra `ordinal serve` flags) BENCH_TMPDIR=${TMPDIR:-/tmp} KEEP_WORK=1
set -euo pipefail
BENCH_NAME=run_node_reference
# shellcheck source=bench/bench_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"

BUILD_DIR=${1:-build/release}
ORDINAL=$BUILD_DIR/ordinal
LOADGEN=$BUILD_DIR/bench/loadgen
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE_DIR=$HERE/node-reference

ROUNDS=${ROUNDS:-3}
ROUND_SECONDS=${ROUND_SECONDS:-15}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-32}
LOADGEN_THREADS=${LOADGEN_THREADS:-2}
RYW_RATE=${RYW_RATE:-100}
RYW_SECONDS=${RYW_SECONDS:-10}
NODE_POOL=${NODE_POOL:-32}
NODE_WORKERS=${NODE_WORKERS:-2}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
WORKLOAD=(--products 1000 --max-items 3 --max-qty 3 --key-in-body --users 10000)

for tool in "$ORDINAL" "$LOADGEN"; do
  [[ -x $tool ]] || die "$tool not found or not executable (build first, e.g. make bench-node)"
done
[[ -d $NODE_DIR/node_modules/pg ]] || die "$NODE_DIR/node_modules missing (cd $NODE_DIR && npm ci)"
ensure_command node
ensure_command jq
ensure_command curl

WORK=$(mktemp -d "$BENCH_TMPDIR/ordinal-node.XXXXXX")
chmod 755 "$WORK"  # the cluster runs as `postgres` when we are root
ORDINAL_PID="" NODE_PID="" PG_STARTED=""
trap 'stop_process "$ORDINAL_PID"; stop_process "$NODE_PID"; finish_pg_work' EXIT
trap 'exit 130' INT TERM

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
PG_STARTED=1
start_postgres "$WORK/pg"
for db in ordinal_write ordinal_read node_write node_read ordinal_pgbench ordinal_pgbench_read; do
  psql_db postgres -c "CREATE DATABASE $db" >/dev/null
done
PG_VERSION=$(psql_db postgres -c "SHOW server_version")
PGBENCH=$(dirname "$PSQL")/pgbench
PGBENCH_THREADS=2
PGBENCH_SECONDS=$ROUND_SECONDS
[[ -x $PGBENCH ]] || die "pgbench not found next to $PSQL (apt-get install postgresql)"
prepare_pgbench_db

ADMIN_TOKEN=$(cat /proc/sys/kernel/random/uuid)
ORDINAL_PORT=$(free_port)
NODE_PORT=$(free_port)
mkdir -p "$WORK/data"
log "starting ordinal serve on :$ORDINAL_PORT and the Node.js reference on :$NODE_PORT"
# shellcheck disable=SC2086
"$ORDINAL" serve --listen "127.0.0.1:$ORDINAL_PORT" --data-dir "$WORK/data" --admin-token "$ADMIN_TOKEN" \
  --write-db "$PG_BASE/ordinal_write" --read-db "$PG_BASE/ordinal_read" ${SERVE_ARGS:-} \
  >"$WORK/ordinal.log" 2>&1 &
ORDINAL_PID=$!
node "$NODE_DIR/server.mjs" --listen "127.0.0.1:$NODE_PORT" --admin-token "$ADMIN_TOKEN" --pool "$NODE_POOL" --workers "$NODE_WORKERS" \
  --write-db "$PG_BASE/node_write" --read-db "$PG_BASE/node_read" >"$WORK/node.log" 2>&1 &
NODE_PID=$!
wait_ready "$ORDINAL_PORT" "$ORDINAL_PID" "$WORK/ordinal.log"
wait_ready "$NODE_PORT" "$NODE_PID" "$WORK/node.log"

port_of() { if [[ $1 == node ]]; then echo "$NODE_PORT"; else echo "$ORDINAL_PORT"; fi; }
pid_of() { if [[ $1 == node ]]; then echo "$NODE_PID"; else echo "$ORDINAL_PID"; fi; }
load() { # service loadgen-args...
  local port
  port=$(port_of "$1")
  shift
  run_json "$LOADGEN" --target "127.0.0.1:$port" --admin-token "$ADMIN_TOKEN" --threads "$LOADGEN_THREADS" "$@"
}
orders_in() { psql_db "$1_write" -c "SELECT count(*) FROM orders"; }
projected_in() { psql_db "$1_read" -c "SELECT count(*) FROM orders_view"; }
alive() {
  local name
  for name in ordinal node; do
    kill -0 "$(pid_of $name)" 2>/dev/null || die "$name died; log tail: $(tail -n 20 "$WORK/$name.log")"
  done
}
# Waits (120 s at most) until the service's read model holds every order it accepted.
wait_projected() { # service
  local orders viewed
  for _ in $(seq 600); do
    orders=$(orders_in "$1")
    viewed=$(projected_in "$1")
    [[ $viewed == "$orders" ]] && return 0
    sleep 0.2
  done
  log "$1: not projected after 120 s ($viewed of $orders)"
}

# One measured load of one service: loadgen's JSON plus orders, CPU ms of the cluster and of the
# service process over the load and its projection.
measured() { # service loadgen-args...
  local name=$1 before_orders pg0 svc0 result orders
  shift
  before_orders=$(orders_in "$name")
  pg0=$(pg_cpu_ticks "$WORK/pg/data")
  svc0=$(tree_cpu_ticks "$(pid_of "$name")")
  result=$(load "$name" --skip-setup "$@")
  wait_projected "$name"
  orders=$(( $(orders_in "$name") - before_orders ))
  jq -c --arg name "$name" --argjson orders "$orders" \
    --argjson pg_ms "$(( ($(pg_cpu_ticks "$WORK/pg/data") - pg0) * 1000 / CLK_TCK ))" \
    --argjson svc_ms "$(( ($(tree_cpu_ticks "$(pid_of "$name")") - svc0) * 1000 / CLK_TCK ))" \
    --arg load "$(cut -d' ' -f1 /proc/loadavg)" \
    '. + {service: $name, orders: $orders, pg_cpu_ms: $pg_ms, service_cpu_ms: $svc_ms, load1: $load}' <<<"$result" \
    | tee -a "$WORK/measured.jsonl"
}

for name in node ordinal; do
  log "$name: 1,000 products, then a ${ROUND_SECONDS} s warm-up load"
  load "$name" --setup-only --products 1000 >/dev/null
  load "$name" --skip-setup --scenario create-order "${WORKLOAD[@]}" --connections "$CONNECTIONS" \
    --duration "$ROUND_SECONDS" --warmup 1 >/dev/null
  wait_projected "$name"
done
alive
for db in ordinal_write ordinal_read node_write node_read; do psql_db "$db" -c "VACUUM ANALYZE"; done

ROUND_LINES=""
for round in $(seq "$ROUNDS"); do
  log "round $round of $ROUNDS: pgbench's single statement, Node.js, Ordinal, ${ROUND_SECONDS} s each"
  p=$(run_pgbench "$HERE/pgbench_order_items_single.sql" 1000 "$CONNECTIONS")
  n=$(measured node --scenario create-order "${WORKLOAD[@]}" --connections "$CONNECTIONS" \
    --duration "$ROUND_SECONDS" --warmup "$WARMUP")
  o=$(measured ordinal --scenario create-order "${WORKLOAD[@]}" --connections "$CONNECTIONS" \
    --duration "$ROUND_SECONDS" --warmup "$WARMUP")
  alive
  ROUND_LINES+="$(jq -nc --argjson p "$p" --argjson n "$n" --argjson o "$o" --argjson round "$round" \
    '{round: $round, pgbench: $p, node: $n, ordinal: $o,
      ratio: (if ($n.ok_per_s // 0) > 0 then ($o.ok_per_s // 0) / $n.ok_per_s else 0 end)}')"$'\n'
done
log "read-your-writes at $RYW_RATE orders/s, ${RYW_SECONDS} s each"
RYW_NODE=$(measured node --scenario read-your-writes "${WORKLOAD[@]}" --connections 64 \
  --rate "$RYW_RATE" --duration "$RYW_SECONDS" --warmup 2)
RYW_ORDINAL=$(measured ordinal --scenario read-your-writes "${WORKLOAD[@]}" --connections 64 \
  --rate "$RYW_RATE" --duration "$RYW_SECONDS" --warmup 2)
alive
stop_process "$ORDINAL_PID"
ORDINAL_PID=""

# Both stores after the loads: reserved stock = ordered quantities, every order projected.
consistency() { # service
  local reserved ordered orders viewed
  reserved=$(psql_db "$1_write" -c "SELECT COALESCE(sum(reserved), 0) FROM products")
  if [[ $1 == node ]]; then
    ordered=$(psql_db node_write -c "SELECT COALESCE(sum(qty), 0) FROM order_lines")
  else
    ordered=$(psql_db ordinal_write -c "SELECT COALESCE(sum((l->>'qty')::bigint), 0) FROM orders, jsonb_array_elements(lines::jsonb) l")
  fi
  orders=$(orders_in "$1")
  viewed=$(projected_in "$1")
  if [[ $reserved == "$ordered" && $orders == "$viewed" ]]; then
    echo "consistent: $orders orders, all projected, reserved stock $reserved = ordered quantities"
  else
    echo "**INCONSISTENT**: orders $orders, projected $viewed, reserved $reserved, ordered $ordered"
  fi
}
NODE_CHECK=$(consistency node)
ORDINAL_CHECK=$(consistency ordinal)
VERIFY_RC=0
"$ORDINAL" verify --write-db "$PG_BASE/ordinal_write" --read-db "$PG_BASE/ordinal_read" \
  >"$WORK/verify.log" 2>&1 || VERIFY_RC=$?
VERIFY_VERDICT=$([[ $VERIFY_RC == 0 ]] && echo "clean (exit 0)" || echo "**NOT CLEAN** (exit $VERIFY_RC)")

# ---------------------------------------------------------------------------------------------
# Report

per_order() { # json field
  jq -r --arg f "$2" 'if (.orders // 0) > 0 then (.[$f] / .orders * 1000 | round / 1000 | tostring) else "n/a" end' <<<"$1"
}
of_pgbench() { jq -r 'if (.pgbench.tps // 0) > 0 then ((.'"$2"'.ok_per_s // 0) / .pgbench.tps * 100 | round / 100 | tostring) else "n/a" end' <<<"$1"; }
round_row() { # line
  local n o
  n=$(jq -c .node <<<"$1")
  o=$(jq -c .ordinal <<<"$1")
  printf '| %s | %s | %s (%s×) | %s / %s | %s (%s×) | %s / %s | **%s** | %s / %s | %s / %s | %s |\n' \
    "$(field "$1" .round)" "$(rate "$(jq -c .pgbench <<<"$1")" .tps)" \
    "$(rate "$n" .ok_per_s)" "$(of_pgbench "$1" node)" "$(ms "$n" .latency_us.p50)" "$(ms "$n" .latency_us.p99)" \
    "$(rate "$o" .ok_per_s)" "$(of_pgbench "$1" ordinal)" "$(ms "$o" .latency_us.p50)" "$(ms "$o" .latency_us.p99)" \
    "$(jq -r '.ratio * 100 | round / 100' <<<"$1")" \
    "$(per_order "$n" pg_cpu_ms)" "$(per_order "$o" pg_cpu_ms)" \
    "$(per_order "$n" service_cpu_ms)" "$(per_order "$o" service_cpu_ms)" \
    "$(field "$n" .load1) / $(field "$o" .load1)"
}
ryw_row() { # name json
  printf '| %s | %s | %s / %s / %s | %s / %s / %s | %s |\n' "$1" "$(rate "$2" .ok_per_s)" \
    "$(ms "$2" .latency_us.p50)" "$(ms "$2" .latency_us.p99)" "$(ms "$2" .latency_us.p999)" \
    "$(ms "$2" .visible_us.p50)" "$(ms "$2" .visible_us.p99)" "$(ms "$2" .visible_us.p999)" \
    "$(field "$2" .errors)"
}
MEDIAN=$(jq -rs 'map(.ratio) | sort | if length == 0 then "n/a" else .[(length - 1) / 2 | floor] * 100 | round / 100 | tostring end' <<<"$ROUND_LINES")

cat <<EOF
## Ordinal next to a plain Node.js implementation ($(date -u +%Y-%m-%dT%H:%M:%SZ))

$(machine_table "$WORK")
| PostgreSQL | $PG_VERSION, same machine, TCP 127.0.0.1; $PG_SETTINGS; fsync and synchronous_commit on |
| Node.js | $(node --version), node-postgres $(jq -r .version "$NODE_DIR/node_modules/pg/package.json"), $NODE_WORKERS HTTP worker process(es) + the relay in the primary, $NODE_POOL connections per database in all (bench/node-reference/server.mjs) |
| ordinal | \`serve --write-db … --read-db …${SERVE_ARGS:+ $SERVE_ARGS}\` (all roles, in-process bus) |
| load average before / after | $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg) |
| workload | 1–3 distinct products of 1,000, qty 1–3, key in header and body, 10,000 users; loadgen $LOADGEN_THREADS threads, $CONNECTIONS connections, closed loop, ${WARMUP} s warm-up + ${ROUND_SECONDS} s per turn |

**Ordinal ÷ Node.js, median of $ROUNDS rounds: $MEDIAN**

| round | pgbench single statement tx/s | Node.js orders/s (× pgbench) | p50 / p99 ms | Ordinal orders/s (× pgbench) | p50 / p99 ms | Ordinal ÷ Node.js | PostgreSQL CPU ms / order, Node.js / Ordinal | service CPU ms / order, Node.js / Ordinal | load (1 min) |
|---|---|---|---|---|---|---|---|---|---|
$(while IFS= read -r line; do [[ -z $line ]] || round_row "$line"; done <<<"$ROUND_LINES")

Read-your-writes, open loop at $RYW_RATE orders/s, 64 connections, ${RYW_SECONDS} s (an order, then its
read with the ack's consistency token):

| service | orders/s | ack p50 / p99 / p99.9 ms | ack → visible p50 / p99 / p99.9 ms | errors |
|---|---|---|---|---|
$(ryw_row Node.js "$RYW_NODE")
$(ryw_row Ordinal "$RYW_ORDINAL")

- Node.js stores: $NODE_CHECK
- Ordinal stores: $ORDINAL_CHECK; \`ordinal verify\`: $VERIFY_VERDICT
EOF
