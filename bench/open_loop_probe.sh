#!/usr/bin/env bash
# Where an open-loop tail comes from, for A/B runs of PostgreSQL server settings: a throwaway
# durable cluster (bench_common.sh's settings, or PG_SETTINGS), one `ordinal serve` with every
# role on it, loadgen's 1,000 products, then issue 15's uniform create-order workload in open loop
# at RATE orders/s with `loadgen --timeline` (per 100 ms of intended send: operations, the slowest,
# how many over 25 ms) and `vmstat -t -w 1` beside it. Prints one line: the settings, the latency
# line, the 100 ms slots with an operation over 25 ms, the most a second wrote (`vmstat` bo, KB)
# and the steal time's peak (a neighbour's load on a shared host shows there, not in the service).
# Everything is stopped on exit; KEEP_WORK=1 keeps timeline.tsv, vmstat.txt, the logs and the
# stopped cluster. RATE=0 is the closed loop. PERF_SECONDS=N (needs `perf`) also samples the whole
# machine for N s from 5 s into the measured window (`perf record -a -F 999`, kept as perf.data)
# and prints each process's share of the samples (idle is `swapper`) and the CPU cores the
# service, PostgreSQL and loadgen used over those seconds.
#
#   bench/open_loop_probe.sh [BUILD_DIR]          default build/release
#
# Knobs (environment): RATE=1300 DURATION=25 WARMUP=3 CONNECTIONS=64 PERF_SECONDS= PG_SETTINGS
# SERVE_ARGS HOST_WRITEBACK_MS (bench_common.sh) BENCH_TMPDIR KEEP_WORK=1.
set -euo pipefail
BENCH_NAME=open_loop_probe
# shellcheck source=bench/bench_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"

BUILD_DIR=${1:-build/release}
ORDINAL=$BUILD_DIR/ordinal
LOADGEN=$BUILD_DIR/bench/loadgen
RATE=${RATE:-1300}
DURATION=${DURATION:-25}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-64}
PERF_SECONDS=${PERF_SECONDS:-}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
[[ -x $ORDINAL && -x $LOADGEN ]] || die "$ORDINAL or $LOADGEN not found (build first)"
[[ -z $PERF_SECONDS ]] || ensure_command perf
[[ -z $PERF_SECONDS ]] || (( PERF_SECONDS + 5 <= DURATION )) || die "PERF_SECONDS + 5 must fit in DURATION ($DURATION s)"

WORK=$(mktemp -d "$BENCH_TMPDIR/ordinal-probe.XXXXXX")
chmod 755 "$WORK"
SERVER_PID="" VMSTAT_PID="" LOAD_PID="" PG_STARTED=""
trap 'stop_process "$VMSTAT_PID"; stop_process "$LOAD_PID"; finish_pg_work' EXIT
trap 'exit 130' INT TERM

apply_host_writeback
PG_STARTED=1
start_postgres "$WORK/pg"
ADMIN_TOKEN=$(cat /proc/sys/kernel/random/uuid)
psql_db postgres -c "CREATE DATABASE w0" -c "CREATE DATABASE r0" >/dev/null
PORT=$(free_port)
# shellcheck disable=SC2086 # SERVE_ARGS is a list of flags
"$ORDINAL" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --admin-token "$ADMIN_TOKEN" \
  --write-db "$PG_BASE/w0" --read-db "$PG_BASE/r0" ${SERVE_ARGS:-} >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_ready
"$LOADGEN" --target "127.0.0.1:$PORT" --admin-token "$ADMIN_TOKEN" --products 1000 --setup-only >&2

vmstat -t -w 1 >"$WORK/vmstat.txt" 2>/dev/null </dev/null &
VMSTAT_PID=$!
"$LOADGEN" --target "127.0.0.1:$PORT" --admin-token "$ADMIN_TOKEN" --threads 2 --skip-setup \
  --scenario create-order --products 1000 --max-items 3 --max-qty 3 --key-in-body --users 10000 \
  --connections "$CONNECTIONS" --rate "$RATE" --duration "$DURATION" --warmup "$WARMUP" \
  --timeline "$WORK/timeline.tsv" >"$WORK/load.txt" &
LOAD_PID=$!
if [[ -n $PERF_SECONDS ]]; then
  sleep $(( WARMUP + 5 ))
  before="$(pid_cpu_ticks "$SERVER_PID") $(pg_cpu_ticks "$WORK/pg/data") $(pid_cpu_ticks "$LOAD_PID")"
  perf record -a -F 999 -o "$WORK/perf.data" -- sleep "$PERF_SECONDS" 2>"$WORK/perf.log" >&2
  after="$(pid_cpu_ticks "$SERVER_PID") $(pg_cpu_ticks "$WORK/pg/data") $(pid_cpu_ticks "$LOAD_PID")"
fi
wait "$LOAD_PID" || die "loadgen failed: $(tail -n 5 "$WORK/load.txt")"
LOAD_PID=""
server_alive
stop_process "$VMSTAT_PID"
VMSTAT_PID=""

slots=$(awk '!/^#/ && $4 > 0' "$WORK/timeline.tsv" | wc -l)
# vmstat's columns: bo is the 10th, st the 17th; its header lines are not numbers.
read -r bo_max st_max < <(awk '$1 ~ /^[0-9]+$/ { if ($10 > bo) bo = $10; if ($17 > st) st = $17 }
  END { print bo + 0, st + 0 }' "$WORK/vmstat.txt")
echo "$PG_SETTINGS | $(grep -o 'p50.*max [0-9]*' "$WORK/load.txt") | 100 ms slots over 25 ms: $slots | most written in a second: $bo_max KB | steal peak: $st_max %"
if [[ -n $PERF_SECONDS ]]; then
  echo "perf, samples by process over $PERF_SECONDS s: $(perf report -i "$WORK/perf.data" --sort comm --stdio 2>/dev/null |
    awk '!/^#/ && NF == 2 && $1 ~ /%$/ { printf "%s%s %s", n++ ? ", " : "", $2, $1 } END { print "" }')"
  echo "cores used over those seconds: $(awk -v b="$before" -v a="$after" -v s="$PERF_SECONDS" -v t="$CLK_TCK" 'BEGIN {
    split(b, x); split(a, y); printf "ordinal %.2f, PostgreSQL %.2f, loadgen %.2f", (y[1] - x[1]) / t / s, (y[2] - x[2]) / t / s, (y[3] - x[3]) / t / s }')"
fi
