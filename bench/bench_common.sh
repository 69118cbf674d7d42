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

# Waits until the server started as $SERVER_PID answers /readyz on $PORT (20 s at most); dies
# with the tail of $WORK/server.log if it exits or never gets ready.
wait_ready() {
  for _ in $(seq 200); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 30 "$WORK/server.log" >&2; die "the server exited during start-up"; }
    sleep 0.1
  done
  tail -n 30 "$WORK/server.log" >&2
  die "the server was not ready after 20 s"
}

stop_server() {
  [[ -n ${SERVER_PID:-} ]] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    # Give it time to shut down cleanly (flush, checkpoint); then insist.
    for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
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
loadgen() { run_json "$LOADGEN" --target "127.0.0.1:$PORT" --admin-token "$ADMIN_TOKEN" ${LOADGEN_THREADS:+--threads "$LOADGEN_THREADS"} "$@"; }

# Readers of the tools' JSON lines for the Markdown tables.
field() { jq -r "($2) // \"n/a\"" <<<"$1"; }
ms() { jq -r "(($2) // null) as \$v | if \$v == null then \"n/a\" else (\$v / 10 | round / 100 | tostring) end" <<<"$1"; }
rate() { jq -r "(($2) // null) as \$v | if \$v == null then \"n/a\" else (\$v | round | tostring) end" <<<"$1"; }
