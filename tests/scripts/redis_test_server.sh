#!/usr/bin/env bash
# A throwaway redis-server for tests (no persistence).
#   redis_test_server.sh start DIR   start on a free private port (127.0.0.1), write redis://... to DIR/url
#   redis_test_server.sh stop DIR    stop the server and remove DIR
#   redis_test_server.sh down DIR    stop the server, keep DIR (fault tests)
#   redis_test_server.sh up DIR      start it again on the same port
# TEST_NETNS and TEST_HOST put the server in a network namespace of the partition tests
# (netns_hosts.sh), listening on TEST_HOST (its address there).
set -euo pipefail
host=${TEST_HOST:-127.0.0.1}
in_ns() {
  if [[ -n "${TEST_NETNS:-}" ]]; then ip netns exec "$TEST_NETNS" "$@"; else "$@"; fi
}

cmd=${1:-}
dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|stop|down|up DIR" >&2
  exit 2
fi
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
if [[ ! -x "$REDIS_SERVER" ]]; then
  echo "redis_test_server: redis-server not found (install redis-server)" >&2
  exit 1
fi
dir=$(realpath -m "$dir")

port_free() {
  ! (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null
}

answers() {
  local port=$1
  exec 3<>"/dev/tcp/$host/$port" || return 1
  printf 'PING\r\n' >&3
  local line
  read -r -t 1 line <&3 || { exec 3<&-; return 1; }
  exec 3<&-
  [[ "$line" == +PONG* ]]
}

server_start() {
  local port=$1
  rm -f "$dir/pid"
  # On a test host, the other hosts of the private switch connect (protected mode would refuse
  # anything but loopback).
  local open=()
  if [[ -n "${TEST_NETNS:-}" ]]; then open=(--protected-mode no); fi
  in_ns "$REDIS_SERVER" --port "$port" --bind "$host" "${open[@]}" --save '' --appendonly no --daemonize yes \
    --pidfile "$dir/pid" --dir "$dir" --logfile "$dir/server.log" >/dev/null 2>&1 || return 1
  for _ in $(seq 1 200); do
    answers "$port" 2>/dev/null && return 0
    sleep 0.025
  done
  return 1
}

server_stop() {
  [[ -f "$dir/pid" ]] || return 0
  local pid
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.025
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
}

case "$cmd" in
  start)
    server_stop
    rm -rf "$dir"
    mkdir -p "$dir"
    started=
    base=$((46379 + RANDOM % 2000))
    for i in $(seq 0 40); do
      port=$((base + i * 7))
      port_free "$port" || continue
      if server_start "$port"; then started=$port; break; fi
      server_stop
    done
    if [[ -z "$started" ]]; then
      echo "redis_test_server: could not start a server" >&2
      cat "$dir/server.log" >&2 || true
      exit 1
    fi
    echo "$started" >"$dir/port"
    echo "redis://$host:$started/0" >"$dir/url"
    echo "redis_test_server: $(cat "$dir/url")"
    ;;
  down)
    server_stop
    ;;
  up)
    server_start "$(cat "$dir/port")"
    ;;
  stop)
    server_stop
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop|down|up DIR" >&2
    exit 2
    ;;
esac
