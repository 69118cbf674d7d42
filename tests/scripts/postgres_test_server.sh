#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests.
#   postgres_test_server.sh start DIR   initdb in DIR/data, start on a free private port (127.0.0.1
#                                       and a unix socket in DIR/data), create database ordinal_test,
#                                       write its libpq URL to DIR/url
#   postgres_test_server.sh stop DIR    stop the server and remove DIR
#   postgres_test_server.sh down DIR    stop the server, keep the cluster (restart tests)
#   postgres_test_server.sh up DIR      start it again on the same port
#   postgres_test_server.sh crash DIR   stop it the way a crash would (immediate: no checkpoint,
#                                       sessions cut); the next `up` runs crash recovery
#   postgres_test_server.sh freeze DIR  stop every process of the server with SIGSTOP (the
#                                       postmaster and its backends): sockets stay open and the
#                                       kernel still acknowledges, but nothing answers — a hung
#                                       server, which no timeout of TCP's notices
#   postgres_test_server.sh thaw DIR    SIGCONT to the same processes
# Run as root, the server runs as the `postgres` OS user (initdb refuses root); otherwise as the
# caller. Binaries come from PG_BIN, or the newest /usr/lib/postgresql/*/bin, or PATH.
# PG_SERVER_SETTINGS replaces the server settings (default: the tests' non-durable ones, fsync=off
# etc.); bench/run_postgres.sh passes durable ones. Settings given here win over postgresql.conf.
# OWNER_PID (start): the process the cluster belongs to, a test; should it end without `stop` (a
# crash, or CTest's SIGKILL at its timeout), a watchdog stops the server and removes DIR.
# TEST_NETNS and TEST_HOST put the server in a network namespace of the partition tests
# (netns_hosts.sh), listening on TEST_HOST (its address there) and its own loopback.
set -euo pipefail
host=${TEST_HOST:-127.0.0.1}
# shellcheck source=tests/scripts/owner_watchdog.sh
source "$(dirname "${BASH_SOURCE[0]}")/owner_watchdog.sh"

cmd=${1:-}
dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|stop|down|up|crash DIR" >&2
  exit 2
fi

if [[ -z "${PG_BIN:-}" ]]; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [[ -n "$PG_BIN" ]] || PG_BIN=$(dirname "$(command -v initdb || echo /usr/bin/initdb)")
fi
if [[ ! -x "$PG_BIN/initdb" ]]; then
  echo "postgres_test_server: initdb not found (install postgresql; PG_BIN=$PG_BIN)" >&2
  exit 1
fi

as_owner() {
  local ns=()
  if [[ -n "${TEST_NETNS:-}" ]]; then ns=(ip netns exec "$TEST_NETNS"); fi
  if [[ "$(id -u)" == 0 ]]; then
    # From /: the caller's folder may be one the postgres user cannot enter.
    (cd / && "${ns[@]}" runuser -u postgres -- "$@")
  else
    "${ns[@]}" "$@"
  fi
}

asked=$(realpath -ms "$dir")  # DIR as given; a link to where the cluster is, when it had to move
dir=$(realpath -m "$dir")    # the socket directory must be absolute
data="$dir/data"

# Removes the cluster's folder and, when DIR is a link to it, the link too.
remove_dir() {
  rm -rf "$dir"
  if [[ -L "$asked" ]]; then rm -f "$asked"; fi
}

port_free() {
  ! (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null
}

server_start() {
  local port=$1
  local settings=${PG_SERVER_SETTINGS:-"-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"}
  as_owner "$PG_BIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $data -c listen_addresses=127.0.0.1${TEST_HOST:+,$TEST_HOST} $settings" \
    start >/dev/null 2>&1
}

case "$cmd" in
  start)
    if [[ -f "$data/postmaster.pid" ]]; then
      as_owner "$PG_BIN/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    remove_dir
    dir=$asked
    mkdir -p "$dir"
    if [[ "$(id -u)" == 0 ]]; then
      chown postgres "$dir"
      # A checkout under a folder the postgres user cannot enter (root's home is 0700 on a fresh
      # Debian) cannot hold its cluster: it goes to a private folder in TMPDIR, and DIR links to it.
      if ! runuser -u postgres -- test -w "$dir"; then
        rmdir "$dir"
        dir=$(mktemp -d "${TMPDIR:-/tmp}/ordinal-pg.XXXXXX")
        chown postgres "$dir"
        ln -s "$dir" "$asked"
      fi
    fi
    data="$dir/data"
    as_owner "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    # On a test host, the other hosts of its private /24 connect over the switch.
    if [[ -n "${TEST_HOST:-}" ]]; then
      echo "host all all ${TEST_HOST%.*}.0/24 trust" >>"$data/pg_hba.conf"
    fi
    # Another test run on this machine may take a port at the same moment: try a few.
    started=
    base=$((55432 + RANDOM % 2000))
    for i in $(seq 0 40); do
      port=$((base + i * 7))
      port_free "$port" || continue
      if server_start "$port"; then started=$port; break; fi
      # Only a port taken in the meantime is worth another try.
      grep -q "could not bind\|already in use" "$dir/server.log" 2>/dev/null || break
    done
    if [[ -z "$started" ]]; then
      echo "postgres_test_server: could not start a server" >&2
      cat "$dir/server.log" >&2 || true
      exit 1
    fi
    echo "$started" >"$dir/port"
    "$PG_BIN/psql" -h "$host" -p "$started" -U postgres -d postgres -qAt -c "CREATE DATABASE ordinal_test" >/dev/null
    echo "postgresql://postgres@$host:$started/ordinal_test" >"$dir/url"
    echo "postgres_test_server: $(cat "$dir/url") (data in $data)"
    watch_owner "$(realpath "${BASH_SOURCE[0]}")" "$asked"
    ;;
  down)
    as_owner "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
    ;;
  up)
    server_start "$(cat "$dir/port")"
    ;;
  crash)
    as_owner "$PG_BIN/pg_ctl" -D "$data" -m immediate -w -t 60 stop >/dev/null
    ;;
  freeze | thaw)
    postmaster=$(head -n 1 "$data/postmaster.pid")
    signal=$([[ "$cmd" == freeze ]] && echo STOP || echo CONT)
    # The postmaster first on freeze (no new backend forks meanwhile), last on thaw.
    pids="$postmaster $(ps -o pid= --ppid "$postmaster" | tr '\n' ' ')"
    if [[ "$cmd" == thaw ]]; then pids="$(ps -o pid= --ppid "$postmaster" | tr '\n' ' ') $postmaster"; fi
    for pid in $pids; do kill "-$signal" "$pid"; done
    ;;
  stop)
    if [[ -f "$data/postmaster.pid" ]]; then
      as_owner "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null ||
        as_owner "$PG_BIN/pg_ctl" -D "$data" -m immediate -w stop >/dev/null || true
    fi
    remove_dir
    ;;
  *)
    echo "usage: $0 start|stop|down|up|crash|freeze|thaw DIR" >&2
    exit 2
    ;;
esac
