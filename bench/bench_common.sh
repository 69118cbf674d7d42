# Shared by the bench/run_*.sh scripts (sourced, not run). Callers set BENCH_NAME before sourcing,
# and WORK, SERVER_PID, PORT, LOADGEN, ADMIN_TOKEN before using the server helpers.

log() { printf '==> %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2; exit 1; }

# Installs a missing command with apt-get when that is possible without asking (root).
ensure_command() {
  command -v "$1" >/dev/null && return 0
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing $1"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >&2
  fi
  command -v "$1" >/dev/null || die "$1 is needed (apt-get install $1)"
}

free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    return
  fi
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    ss -Hltn "sport = :$port" | grep -q . || { echo "$port"; return; }
  done
}

# Stops one process this script started: SIGTERM, time to shut down cleanly (flush, checkpoint),
# then SIGKILL.
stop_process() {
  local pid=${1:-}
  [[ -n $pid ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
stop_server() { stop_process "${SERVER_PID:-}"; SERVER_PID=""; }

# Waits (30 s at most) until 127.0.0.1:PORT answers /readyz with 2xx; dies with the tail of LOG
# when PID exits first.
wait_ready() {  # [port pid log], default $PORT $SERVER_PID $WORK/server.log
  local port=${1:-$PORT} pid=${2:-$SERVER_PID} logfile=${3:-$WORK/server.log}
  for _ in $(seq 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$logfile" >&2; die "the server exited during start-up"; }
    sleep 0.1
  done
  tail -n 30 "$logfile" >&2
  die "the server on port $port was not ready after 30 s"
}

# A throwaway durable PostgreSQL in DIR (tests/scripts/postgres_test_server.sh): PostgreSQL's
# defaults except what a production user sets for a machine like this one (more connections,
# shared_buffers sized to RAM, no checkpoint inside a short run); fsync, synchronous_commit and
# full_page_writes stay on. PG_SETTINGS replaces them. Sets PG_BASE (the URL without a database)
# and PSQL; the caller stops it with `bash "$PG_SCRIPT" stop DIR`.
PG_SCRIPT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/scripts/postgres_test_server.sh
# wal_init_zero=off: a fresh cluster recycles no WAL segment, so every 16 MB of WAL (every ~3 s
# at half the maximum rate here) a backend zero-fills and fsyncs a new one, and every commit waits
# behind that burst; docs/profiles.md#new-wal-segments has the measurement. Both sides of a
# comparison run on the same cluster, so pgbench gets it too.
PG_SETTINGS=${PG_SETTINGS:-"-c max_connections=200 -c shared_buffers=1GB -c max_wal_size=4GB -c wal_init_zero=off"}
start_postgres() {  # dir
  log "starting PostgreSQL ($PG_SETTINGS) in $1"
  PG_SERVER_SETTINGS=$PG_SETTINGS bash "$PG_SCRIPT" start "$1" >&2
  local url
  url=$(cat "$1/url")
  PG_BASE=${url%/*}  # postgresql://postgres@127.0.0.1:PORT
  local bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
  PSQL=${bin:+$bin/}psql
}
# The end of a run on a throwaway cluster in $WORK/pg (for an EXIT trap): the server stopped, the
# host's writeback put back, the cluster stopped once PG_STARTED is set, and $WORK deleted — or,
# with KEEP_WORK=1, kept with the stopped cluster in it (its log, pg_stat_statements' file).
finish_pg_work() {
  stop_server
  restore_host_writeback
  if [[ -n ${PG_STARTED:-} ]]; then
    if [[ ${KEEP_WORK:-0} == 1 ]]; then
      bash "$PG_SCRIPT" down "$WORK/pg" >/dev/null 2>&1 || true
    else
      bash "$PG_SCRIPT" stop "$WORK/pg" >/dev/null 2>&1 || true
    fi
  fi
  if [[ ${KEEP_WORK:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
# CPU time in clock ticks of a process tree: the process, its live children, and the children it
# has reaped (cutime/cstime: pgbench's backends are gone when its run ends); of a PostgreSQL
# cluster (its data dir: the postmaster's tree); and of one process. Ticks to ms: * 1000 / CLK_TCK.
CLK_TCK=$(getconf CLK_TCK)
tree_cpu_ticks() { # pid (0 when it is gone)
  [[ -n ${1:-} && -r /proc/$1/stat ]] || { echo 0; return; }
  { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"
    for c in $(pgrep -P "$1"); do awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null || true; done
  } | awk '{ s += $1 } END { print s + 0 }'
}
pg_cpu_ticks() { tree_cpu_ticks "$(head -n 1 "$1/postmaster.pid")"; } # data-dir
pid_cpu_ticks() { # pid (0 when it is gone)
  if [[ -n ${1:-} && -r /proc/$1/stat ]]; then awk '{ print $14 + $15 }' "/proc/$1/stat"; else echo 0; fi
}
# One thread's: /proc/PID/task/TID (0 when it is gone). Its name (comm) may hold spaces, so the
# fields are counted after the ") " that closes it.
task_cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "$1/stat" 2>/dev/null || echo 0; }

# The kernel's writeback of dirty pages, which sets a durable PostgreSQL's commit tail on this kind
# of machine: PostgreSQL 15 extends a table by writing zero pages through the page cache (~2.6 KB
# per order here), the kernel writes them out only once they are 30 s old, and that burst of a few
# hundred MB queues every WAL fsync behind it for 100-180 ms (BENCHMARKS.md, the PostgreSQL
# profile's seventh pass). HOST_WRITEBACK_MS=N (root only) has dirty pages written once they are N ms
# old, checked every N ms, for the run — pgbench and the service alike — and puts the kernel's
# values back on exit (restore_host_writeback, from the caller's EXIT trap).
HOST_WRITEBACK_SAVED=""
host_writeback() {  # the settings in effect, for the report
  printf 'vm.dirty_expire_centisecs=%s, vm.dirty_writeback_centisecs=%s, vm.dirty_background_ratio=%s, vm.dirty_background_bytes=%s' \
    "$(cat /proc/sys/vm/dirty_expire_centisecs)" "$(cat /proc/sys/vm/dirty_writeback_centisecs)" \
    "$(cat /proc/sys/vm/dirty_background_ratio)" "$(cat /proc/sys/vm/dirty_background_bytes)"
}
apply_host_writeback() {
  [[ -n ${HOST_WRITEBACK_MS:-} ]] || return 0
  [[ $HOST_WRITEBACK_MS =~ ^[0-9]+$ && $HOST_WRITEBACK_MS -ge 10 ]] || die "HOST_WRITEBACK_MS must be a number of ms >= 10"
  [[ -w /proc/sys/vm/dirty_expire_centisecs ]] || die "HOST_WRITEBACK_MS needs root (writes /proc/sys/vm/dirty_*_centisecs)"
  HOST_WRITEBACK_SAVED="$(cat /proc/sys/vm/dirty_expire_centisecs) $(cat /proc/sys/vm/dirty_writeback_centisecs)"
  echo $((HOST_WRITEBACK_MS / 10)) >/proc/sys/vm/dirty_expire_centisecs
  echo $((HOST_WRITEBACK_MS / 10)) >/proc/sys/vm/dirty_writeback_centisecs
  log "kernel writeback for this run: $(host_writeback) (put back on exit)"
}
restore_host_writeback() {
  [[ -n $HOST_WRITEBACK_SAVED ]] || return 0
  local expire writeback
  read -r expire writeback <<<"$HOST_WRITEBACK_SAVED"
  echo "$expire" >/proc/sys/vm/dirty_expire_centisecs
  echo "$writeback" >/proc/sys/vm/dirty_writeback_centisecs
  HOST_WRITEBACK_SAVED=""
}

psql_db() { local db=$1; shift; "$PSQL" "$PG_BASE/$db" -v ON_ERROR_STOP=1 -qAt "$@"; }

# The first rows of a report's machine table; DIR is where the data lives.
machine_table() {  # dir
  local cpu_model ram
  cpu_model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  ram=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  cat <<TABLE
| machine | |
|---|---|
| CPUs (nproc) | $(nproc) |
| CPU model | ${cpu_model:-n/a} |
| RAM | $ram |
| kernel | $(uname -r) |
| filesystem of the data | $(df -T "$1" | awk 'NR == 2 { print $2 " (" $1 ")" }'), $(findmnt -no OPTIONS -T "$1" 2>/dev/null || echo "n/a") |
| ordinal | $("$ORDINAL" version 2>/dev/null | head -n 1 || echo "n/a") |
TABLE
}

# Runs a tool with --json, keeps its result line in $WORK/results.jsonl and prints it ({} on failure).
run_json() {
  local out
  if ! out=$("$@" --json); then
    log "FAILED: $*"
    out='{}'
  fi
  [[ -n $out ]] || out='{}'
  echo "$out" >>"$WORK/results.jsonl"
  echo "$out"
}

server_alive() { kill -0 "$SERVER_PID" 2>/dev/null || die "the server died; log tail: $(tail -n 20 "$WORK/server.log")"; }
# LOADGEN_PREFIX: a command that runs loadgen, e.g. `chrt -f 1` (its threads ahead of the
# service's on the shared cores) or `nice -n 10`: how much of a tail is loadgen's own wait.
# shellcheck disable=SC2086
loadgen() { run_json ${LOADGEN_PREFIX:-} "$LOADGEN" --target "127.0.0.1:$PORT" --admin-token "$ADMIN_TOKEN" ${LOADGEN_THREADS:+--threads "$LOADGEN_THREADS"} "$@"; }

# Readers of the tools' JSON lines for the Markdown tables.
field() { jq -r "($2) // \"n/a\"" <<<"$1"; }
ms() { jq -r "(($2) // null) as \$v | if \$v == null then \"n/a\" else (\$v / 10 | round / 100 | tostring) end" <<<"$1"; }
rate() { jq -r "(($2) // null) as \$v | if \$v == null then \"n/a\" else (\$v | round | tostring) end" <<<"$1"; }

# ---------------------------------------------------------------------------------------------
# pgbench running the create-order transaction (bench/pgbench_*.sql) on the service's real schema:
# PGBENCH_DB (default ordinal_pgbench, and ${PGBENCH_DB}_read for migrate) holds the loadgen's
# products (bench-00000…, stock 10^9). Callers set PGBENCH (the binary), PGBENCH_THREADS,
# PGBENCH_SECONDS, ORDINAL, WORK, and create both databases first.
PGBENCH_DB=${PGBENCH_DB:-ordinal_pgbench}
prepare_pgbench_db() {
  log "migrating the pgbench database with ordinal migrate"
  "$ORDINAL" migrate --write-db "$PG_BASE/$PGBENCH_DB" --read-db "$PG_BASE/${PGBENCH_DB}_read" >&2
  psql_db "$PGBENCH_DB" -c "INSERT INTO products (sku, name, currency, price_minor, stock, reserved, stock_seq, version)
    SELECT 'bench-' || lpad(g::text, 5, '0'), 'Bench product ' || g, 'EUR', 1000 + g, 1000000000, 0, 1, 1
    FROM generate_series(0, 999) g" >/dev/null
  psql_db "$PGBENCH_DB" -c "VACUUM ANALYZE" >/dev/null
}

# Runs one pgbench, closed loop or, with PGBENCH_RATE set, open loop at that many tx/s; prints
# {"tps", "clients", "rate", "lat_avg_ms", "failed", "p50_us", "p99_us", "p999_us", "max_us"}.
run_pgbench() { # script products clients
  local script=$1 products=$2 clients=$3 name out prefix tps avg failed
  name=$(basename "$script" .sql)-p$products-c$clients
  prefix=$WORK/log-$name
  if ! out=$("$PGBENCH" -n -M prepared -D products="$products" -f "$script" -c "$clients" \
      -j "$PGBENCH_THREADS" -T "$PGBENCH_SECONDS" --max-tries 20 -l --log-prefix "$prefix" \
      ${PGBENCH_RATE:+-R "$PGBENCH_RATE"} "$PG_BASE/$PGBENCH_DB" 2>&1); then
    log "FAILED: pgbench $name"; printf '%s\n' "$out" | tail -n 5 >&2
    echo '{}'; return
  fi
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -n 1)
  avg=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$out" | head -n 1)
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out" | head -n 1)
  # Per-transaction log: field 3 is the latency in µs; with a rate (PGBENCH_RATE, open loop) field
  # 7 is the schedule lag, so $3 + $7 is the latency from the intended start, as loadgen counts it.
  local pct
  pct=$(cat "$prefix".* | awk '{ print $3 + $7 }' | sort -n | awk '{ a[NR] = $1 } END {
      if (NR == 0) { print "null null null null"; exit }
      i50 = int(NR * 0.50); if (i50 < 1) i50 = 1; i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
      i999 = int(NR * 0.999); if (i999 < 1) i999 = 1
      print a[i50], a[i99], a[i999], a[NR] }')
  rm -f "$prefix".*
  jq -nc --arg name "$name" --argjson tps "${tps:-null}" --argjson clients "$clients" \
    --argjson avg "${avg:-null}" --argjson failed "${failed:-0}" \
    --arg pct "$pct" --argjson rate "${PGBENCH_RATE:-null}" \
    '($pct | split(" ") | map(fromjson)) as [$p50, $p99, $p999, $max]
     | {name: $name, tps: $tps, clients: $clients, rate: $rate, lat_avg_ms: $avg, failed: $failed,
        p50_us: $p50, p99_us: $p99, p999_us: $p999, max_us: $max}'
}
