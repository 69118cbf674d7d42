#!/usr/bin/env bash
# Benchmarks the PostgreSQL profile end to end and prints a Markdown report.
#
#   bench/run_postgres.sh [BUILD_DIR]        default build/release; nothing is built here
#
# Steps: start a throwaway PostgreSQL cluster (tests/scripts/postgres_test_server.sh, durable
# settings: fsync, synchronous_commit and full_page_writes stay on); run pgbench with the
# create-order transaction as a multi-statement transaction and as one statement
# (bench/pgbench_create_order*.sql), uniform over 100 products and on one hot product, at each
# client count of PGBENCH_CLIENTS; then `ordinal serve --write-db … --read-db …` (other databases of
# the same cluster) under loadgen: create-order closed loop (uniform and --hot-product) for
# throughput, open loop at OPEN_RATE for p50/p99. Everything is stopped on exit. Progress goes to
# stderr, the Markdown report to stdout (`bench/run_postgres.sh > result.md`).
#
# Knobs (environment): DURATION=20 WARMUP=5 CONNECTIONS=64 OPEN_RATE=1000 PGBENCH_SECONDS=20
# PGBENCH_CLIENTS="16 32 64" PGBENCH_THREADS=2 LOADGEN_THREADS=(loadgen default)
# PG_SETTINGS (server settings a production user would set; default below) SERVE_ARGS (extra
# `ordinal serve` flags) BENCH_TMPDIR=${TMPDIR:-/tmp} (where the cluster lives: put it on the
# filesystem you want measured) KEEP_WORK=1 (keep the temp dir: logs, results.jsonl).
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
CONNECTIONS=${CONNECTIONS:-64}
OPEN_RATE=${OPEN_RATE:-1000}
PGBENCH_SECONDS=${PGBENCH_SECONDS:-20}
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-16 32 64}
PGBENCH_THREADS=${PGBENCH_THREADS:-2}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
# PG_SETTINGS: bench_common.sh's durable defaults (start_postgres).


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

cleanup() {
  stop_server
  if [[ -n $PG_STARTED ]]; then
    if [[ ${KEEP_WORK:-0} == 1 ]]; then
      bash "$PG_SCRIPT" down "$WORK/pg" >/dev/null 2>&1 || true
    else
      bash "$PG_SCRIPT" stop "$WORK/pg" >/dev/null 2>&1 || true
    fi
  fi
  if [[ ${KEEP_WORK:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# The cluster

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
PG_STARTED=1
start_postgres "$WORK/pg"
for db in ordinal_pgbench ordinal_pgbench_read ordinal_write ordinal_read; do
  psql_db postgres -c "CREATE DATABASE $db" >/dev/null
done
pg_setting() { psql_db postgres -c "SHOW $1"; }
PG_VERSION=$(psql_db postgres -c "SHOW server_version")
PG_DURABILITY="fsync=$(pg_setting fsync), synchronous_commit=$(pg_setting synchronous_commit), full_page_writes=$(pg_setting full_page_writes), wal_sync_method=$(pg_setting wal_sync_method), commit_delay=$(pg_setting commit_delay)"
PG_TUNED="shared_buffers=$(pg_setting shared_buffers), max_wal_size=$(pg_setting max_wal_size), max_connections=$(pg_setting max_connections)"

# pgbench runs on the service's real schema, with the loadgen's products (bench-00000…, stock 10^9).
log "migrating the pgbench database with ordinal migrate"
"$ORDINAL" migrate --write-db "$PG_BASE/ordinal_pgbench" --read-db "$PG_BASE/ordinal_pgbench_read" >&2
psql_db ordinal_pgbench -c "INSERT INTO products (sku, name, currency, price_minor, stock, reserved, stock_seq, version)
  SELECT 'bench-' || lpad(g::text, 5, '0'), 'Bench product ' || g, 'EUR', 1250, 1000000000, 0, 1, 1
  FROM generate_series(0, 99) g" >/dev/null
psql_db ordinal_pgbench -c "VACUUM ANALYZE" >/dev/null

# ---------------------------------------------------------------------------------------------
# pgbench

# Runs one pgbench; prints {"tps":…, "clients":…, "p50_us":…, "p99_us":…, "lat_avg_ms":…, "failed":…}.
run_pgbench() { # script products clients
  local script=$1 products=$2 clients=$3 name out prefix tps avg failed
  name=$(basename "$script" .sql)-p$products-c$clients
  prefix=$WORK/log-$name
  if ! out=$("$PGBENCH" -n -M prepared -D products="$products" -f "$script" -c "$clients" \
      -j "$PGBENCH_THREADS" -T "$PGBENCH_SECONDS" -l --log-prefix "$prefix" "$PG_BASE/ordinal_pgbench" 2>&1); then
    log "FAILED: pgbench $name"; printf '%s\n' "$out" | tail -n 5 >&2
    echo '{}'; return
  fi
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -n 1)
  avg=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$out" | head -n 1)
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out" | head -n 1)
  # Per-transaction log: field 3 is the latency in µs.
  local pct
  pct=$(cat "$prefix".* | awk '{ print $3 }' | sort -n | awk '{ a[NR] = $1 } END {
      if (NR == 0) { print "null null"; exit }
      i50 = int(NR * 0.50); if (i50 < 1) i50 = 1; i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
      print a[i50], a[i99] }')
  rm -f "$prefix".*
  jq -nc --arg name "$name" --argjson tps "${tps:-null}" --argjson clients "$clients" \
    --argjson avg "${avg:-null}" --argjson failed "${failed:-0}" \
    --argjson p50 "${pct% *}" --argjson p99 "${pct#* }" \
    '{name: $name, tps: $tps, clients: $clients, lat_avg_ms: $avg, failed: $failed, p50_us: $p50, p99_us: $p99}'
}

declare -A PGB_BEST  # variant -> best JSON over the client counts
PGB_ROWS=""
for script in "$HERE/pgbench_create_order.sql" "$HERE/pgbench_create_order_single.sql"; do
  kind=multi; [[ $script == *_single.sql ]] && kind=single
  for variant in uniform hot; do
    products=100; [[ $variant == hot ]] && products=1
    best='{}'
    for clients in $PGBENCH_CLIENTS; do
      log "pgbench $kind $variant, $clients clients, ${PGBENCH_SECONDS} s"
      res=$(run_pgbench "$script" "$products" "$clients")
      echo "$res" >>"$WORK/results.jsonl"
      best=$(jq -c --argjson r "$res" 'if ($r.tps // 0) > (.tps // 0) then $r else . end' <<<"$best")
      PGB_ROWS+="$kind|$variant|$res"$'\n'
    done
    PGB_BEST[$kind-$variant]=$best
  done
done

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

log "loadgen create-order, closed loop, uniform, $CONNECTIONS connections, ${DURATION} s"
CLOSED=$(loadgen --scenario create-order --connections "$CONNECTIONS" --rate 0 --duration "$DURATION" --warmup "$WARMUP")
server_alive
log "loadgen create-order, closed loop, hot product, $CONNECTIONS connections, ${DURATION} s"
CLOSED_HOT=$(loadgen --skip-setup --hot-product --scenario create-order --connections "$CONNECTIONS" --rate 0 \
  --duration "$DURATION" --warmup "$WARMUP")
server_alive
log "loadgen create-order, open loop at $OPEN_RATE/s, uniform, ${DURATION} s"
OPEN=$(loadgen --skip-setup --scenario create-order --connections "$CONNECTIONS" --rate "$OPEN_RATE" \
  --duration "$DURATION" --warmup "$WARMUP")
server_alive
log "loadgen create-order, open loop at $OPEN_RATE/s, hot product, ${DURATION} s"
OPEN_HOT=$(loadgen --skip-setup --hot-product --scenario create-order --connections "$CONNECTIONS" --rate "$OPEN_RATE" \
  --duration "$DURATION" --warmup "$WARMUP")
server_alive
stop_server

# The invariants after the load: reserved stock = ordered quantities, one event per order (+ one
# per product upsert), one idempotency record per event.
CHECK=$(psql_db ordinal_write -c "SELECT (SELECT COALESCE(SUM(reserved), 0) FROM products) || ' ' ||
  (SELECT COUNT(*) FROM orders) || ' ' || (SELECT COUNT(*) FROM events) || ' ' ||
  (SELECT COUNT(*) FROM idempotency) || ' ' || (SELECT COUNT(*) FROM products) || ' ' ||
  (SELECT COUNT(*) FROM products WHERE stock < 0)")
read -r reserved orders events records nproducts negative <<<"$CHECK"
if [[ $reserved == "$orders" && $events == $((orders + nproducts)) && $records == "$events" && $negative == 0 ]]; then
  CHECK_VERDICT="consistent: $orders orders, reserved stock $reserved, $events events, $records idempotency records, no stock below zero"
else
  CHECK_VERDICT="**INCONSISTENT**: reserved $reserved, orders $orders, events $events, records $records, products $nproducts, negative stock $negative"
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

# Best pgbench hot-product figure of both forms: the stricter target.
PGB_HOT_BEST=$(jq -c -n --argjson m "${PGB_BEST[multi-hot]}" --argjson s "${PGB_BEST[single-hot]}" \
  'if ($m.tps // 0) > ($s.tps // 0) then $m + {form: "multi-statement"} else $s + {form: "single statement"} end')
uniform_ratio=$(ratio "$CLOSED" .ok_per_s "${PGB_BEST[single-uniform]}" .tps)
hot_ratio=$(ratio "$CLOSED_HOT" .ok_per_s "$PGB_HOT_BEST" .tps)
verdict() { jq -rn --arg r "$1" --argjson min "$2" 'if $r == "n/a" then "n/a" elif ($r | tonumber) >= $min then "PASS" else "FAIL" end'; }

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

cat <<EOF
## PostgreSQL profile benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))

| machine | |
|---|---|
| CPUs (nproc) | $(nproc) |
| CPU model | ${cpu_model:-n/a} |
| kernel | $(uname -r) |
| filesystem of the cluster | $fs_type, $mount_opts |
| PostgreSQL | $PG_VERSION, same machine, TCP 127.0.0.1 |
| durability | $PG_DURABILITY |
| settings changed from the defaults | $PG_TUNED |
| ordinal | $ordinal_version, \`serve --write-db …/ordinal_write --read-db …/ordinal_read${SERVE_ARGS:+ $SERVE_ARGS}\` |
| load average before / after | $LOAD_BEFORE / $LOAD_AFTER |
| pgbench / loadgen | same machine; pgbench -M prepared -j $PGBENCH_THREADS -T $PGBENCH_SECONDS; loadgen $(field "$CLOSED" .threads) threads, $CONNECTIONS connections, ${WARMUP} s warm-up + ${DURATION} s |

| run | throughput | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors | notes |
|---|---|---|---|---|---|---|---|---|
$(while IFS='|' read -r kind variant res; do [[ -n $kind ]] && pgbench_row "$kind" "$variant" "$res"; done <<<"$PGB_ROWS")
$(latency_row "HTTP create-order, closed loop, uniform" "$CLOSED" "ok orders/s; status $(jq -c '.status // {}' <<<"$CLOSED"); 503 overloaded $(field "$CLOSED" .overloaded_503)")
$(latency_row "HTTP create-order, closed loop, hot product" "$CLOSED_HOT" "ok orders/s; status $(jq -c '.status // {}' <<<"$CLOSED_HOT"); 503 overloaded $(field "$CLOSED_HOT" .overloaded_503)")
$(latency_row "HTTP create-order, open loop $OPEN_RATE/s, uniform" "$OPEN" "missed $(field "$OPEN" .missed); latency from intended send")
$(latency_row "HTTP create-order, open loop $OPEN_RATE/s, hot product" "$OPEN_HOT" "missed $(field "$OPEN_HOT" .missed); latency from intended send")

- HTTP uniform ÷ best pgbench single-statement uniform ($(rate "${PGB_BEST[single-uniform]}" .tps) tx/s at -c $(field "${PGB_BEST[single-uniform]}" .clients)) = **$uniform_ratio** (target ≥ 0.70: **$(verdict "$uniform_ratio" 0.7)**)
- HTTP hot product ÷ best pgbench hot product ($(field "$PGB_HOT_BEST" .form), $(rate "$PGB_HOT_BEST" .tps) tx/s at -c $(field "$PGB_HOT_BEST" .clients)) = **$hot_ratio** (target > 1: **$(verdict "$hot_ratio" 1.0000001)**)
- write store after the runs: $CHECK_VERDICT
EOF
