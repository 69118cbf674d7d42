#!/usr/bin/env bash
# A throwaway Apache Kafka cluster for tests and benchmarks (KRaft, no ZooKeeper), run from the
# jars tools/kafka-broker/pom.xml pins (Maven resolves them into ~/.m2 once).
#   kafka_test_server.sh start DIR [--brokers N]
#                                     N nodes (default 1), each broker and controller at once, on
#                                     free private ports of 127.0.0.1 (or TEST_HOST), data in DIR; waits until
#                                     every broker answers metadata, then writes their addresses
#                                     to DIR/bootstrap (host:port,host:port,...). With 3 or more
#                                     nodes topics default to replication factor 3 and
#                                     min.insync.replicas=2.
#   kafka_test_server.sh stop DIR     kill every node and remove DIR (also after a failed start)
#   kafka_test_server.sh kill DIR ID  SIGKILL node ID (1..N), keep its data (fault tests)
#   kafka_test_server.sh up DIR ID    start node ID again on its ports and data
#   kafka_test_server.sh freeze DIR ID    SIGSTOP node ID: it holds its connections and answers
#                                     nothing, like a broker in a long GC pause or a hung host
#   kafka_test_server.sh thaw DIR ID  SIGCONT node ID
#   kafka_test_server.sh archive FILE write the class data archive of a broker's classes to FILE
#                                     (make deps-test: build/kafka-broker/classes.jsa)
# Topics are never created on their own (auto.create.topics.enable=false): Ordinal never creates
# one, and a test that forgot to should fail as a deployment would.
# TEST_NETNS and TEST_HOST put the nodes in a network namespace of the partition tests
# (netns_hosts.sh), listening on and advertising TEST_HOST (their address there), for every
# command alike.
# OWNER_PID (start): the process the cluster belongs to, a test; should it end without `stop` (a
# crash, or CTest's SIGKILL at its timeout), a watchdog stops the cluster and removes DIR.
# JAVA (default: java on PATH), KAFKA_HEAP_OPTS (default: small, for 2-core test machines),
# KAFKA_CLASSPATH_FILE (default: build/kafka-broker/classpath of the repository),
# KAFKA_CLASS_ARCHIVE (default: classes.jsa next to it) and KAFKA_FULL_JIT (default 0) may be set.
set -euo pipefail
host=${TEST_HOST:-127.0.0.1}

cmd=${1:-}
dir=${2:-}
usage() {
  echo "usage: $0 start DIR [--brokers N] | stop DIR | kill|up|freeze|thaw DIR ID" >&2
  exit 2
}
[[ -n "$cmd" && -n "$dir" ]] || usage
dir=$(realpath -m "$dir")

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/scripts/owner_watchdog.sh
source "$(dirname "${BASH_SOURCE[0]}")/owner_watchdog.sh"
JAVA=${JAVA:-$(command -v java || true)}
KAFKA_CLASSPATH_FILE=${KAFKA_CLASSPATH_FILE:-$repo/build/kafka-broker/classpath}
# A small heap and the serial collector: a test broker holds little, and on two shared cores
# parallel GC threads only compete with the tests.
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:-"-Xms128m -Xmx512m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError"}
# Starting JVMs is most of what the Kafka tier's CPU goes to (a broker per fault scenario, a
# StorageTool per node), and the tier is CPU-bound on two cores. Two options halve a start
# (4.5 -> 2.1 s, 7.3 -> 3.1 s of CPU; docs/profiles.md): the class data archive (AppCDS) maps the
# broker's ~6,000 classes already parsed and verified, and C1 alone compiles what a broker that
# lives seconds to minutes runs. Benchmarks set KAFKA_FULL_JIT=1: a loaded broker needs C2's code.
KAFKA_CLASS_ARCHIVE=${KAFKA_CLASS_ARCHIVE:-$(dirname "$KAFKA_CLASSPATH_FILE")/classes.jsa}
KAFKA_FULL_JIT=${KAFKA_FULL_JIT:-0}
jvm_opts() {
  local opts=$KAFKA_HEAP_OPTS
  # An archive from another classpath or JDK is refused with a warning in the log, never fatal.
  [[ -s "$KAFKA_CLASS_ARCHIVE" ]] && opts+=" -XX:SharedArchiveFile=$KAFKA_CLASS_ARCHIVE"
  [[ "$KAFKA_FULL_JIT" == 1 ]] || opts+=" -XX:TieredStopAtLevel=1"
  echo "$opts"
}

# The runtime classpath of tools/kafka-broker, resolved once per checkout (the jars stay in ~/.m2).
classpath() {
  local cp=
  [[ -s "$KAFKA_CLASSPATH_FILE" ]] && cp=$(cat "$KAFKA_CLASSPATH_FILE")
  local first=${cp%%:*}
  if [[ -z "$cp" || ! -f "$first" ]]; then
    if ! command -v mvn >/dev/null; then
      echo "kafka_test_server: no classpath in $KAFKA_CLASSPATH_FILE and no mvn (make deps-test)" >&2
      return 1
    fi
    mkdir -p "$(dirname "$KAFKA_CLASSPATH_FILE")"
    mvn -q -B -Dstyle.color=never -f "$repo/tools/kafka-broker/pom.xml" dependency:build-classpath \
      -Dmdep.outputFile="$KAFKA_CLASSPATH_FILE" >&2
    cp=$(cat "$KAFKA_CLASSPATH_FILE")
  fi
  echo "$cp"
}

# Ports are probed, and metadata asked, from the caller's namespace: a test host's address is
# reached over its switch.
port_free() {
  ! (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null
}

# How many brokers the node on `port` lists in a Metadata (v0, all topics) answer, or nothing.
# Spoken over bash's /dev/tcp so that waiting costs no JVM start.
metadata_brokers() {
  local port=$1
  exec 3<>"/dev/tcp/$host/$port" || return 1
  # size 18 | api_key 3 | version 0 | correlation id 1 | client id "wait" | topics: empty array
  printf '\x00\x00\x00\x12\x00\x03\x00\x00\x00\x00\x00\x01\x00\x04wait\x00\x00\x00\x00' >&3
  local head
  head=$(timeout 2 head -c 12 <&3 | od -An -tu1 | tr -s ' \n' ' ') || true
  exec 3<&-
  # size(4) correlation id(4) broker count(4), big-endian
  read -r -a b <<<"$head"
  [[ ${#b[@]} -eq 12 && ${b[7]} -eq 1 ]] || return 1
  echo $(((b[8] << 24) + (b[9] << 16) + (b[10] << 8) + b[11]))
}

node_pid() {
  local f="$dir/node-$1/pid"
  [[ -f "$f" ]] && cat "$f"
}

node_running() {
  local pid
  pid=$(node_pid "$1") || return 1
  kill -0 "$pid" 2>/dev/null
}

node_kill() {
  local pid
  pid=$(node_pid "$1") || return 0
  kill -9 "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.025
  done
  rm -f "$dir/node-$1/pid"
}

# node.id, ports and quorum of node $1, given ports in DIR/ports ("ID BROKER_PORT CONTROLLER_PORT").
write_config() {
  local id=$1 n=$2 voters= rf=1 isr=1 i b c mybp= mycp=
  while read -r i b c; do
    voters+="${voters:+,}$i@$host:$c"
    [[ "$i" == "$id" ]] && { mybp=$b; mycp=$c; }
  done <"$dir/ports"
  if ((n >= 3)); then rf=3; isr=2; fi
  local node="$dir/node-$id"
  mkdir -p "$node"
  cat >"$node/server.properties" <<EOF
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://$host:$mybp,CONTROLLER://$host:$mycp
advertised.listeners=PLAINTEXT://$host:$mybp
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$node/data
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
# Few partitions for __consumer_offsets: created on the first group join, and 50 of them cost
# seconds on a test machine.
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
# A test's group should start consuming at once, not after the production default of 3 s.
group.initial.rebalance.delay.ms=0
# Fault tests give their consumers short sessions (session.timeout.ms in the --bus URL) so that a
# dead member's partitions move within seconds; the broker's default floor is 6 s.
group.min.session.timeout.ms=1000
# A SIGKILLed node may register again only once the controller's session of its previous life
# expired (9 s by default): fault tests restart nodes, so keep that short.
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=500
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.enable=false
EOF
  cat >"$node/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$node/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
EOF
}

# Starts node $1 in the background, detached from the caller (CTest waits for a fixture's output
# to close, so the JVM must not hold it).
node_start() {
  local id=$1 node="$dir/node-$1" cp
  cp=$(classpath)
  local ns=()
  # `ip netns exec` execs the JVM in place, so the pid recorded is the JVM's.
  if [[ -n "${TEST_NETNS:-}" ]]; then ns=(ip netns exec "$TEST_NETNS"); fi
  # shellcheck disable=SC2086
  setsid "${ns[@]}" "$JAVA" $(jvm_opts) -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$node/log4j.properties" -cp "$cp" \
    kafka.Kafka "$node/server.properties" </dev/null >>"$node/stdout.log" 2>&1 &
  echo $! >"$node/pid"
}

# Waits until every node runs and the node on each broker port lists all N brokers.
wait_ready() {
  local n=$1 within=${2:-90}
  local deadline=$((SECONDS + within))
  while ((SECONDS < deadline)); do
    local ok=1
    local i bp
    while read -r i bp _; do
      if ! node_running "$i"; then return 1; fi
      local seen
      seen=$(metadata_brokers "$bp" 2>/dev/null) || seen=0
      ((seen >= n)) || ok=0
    done <"$dir/ports"
    ((ok)) && return 0
    sleep 0.1
  done
  return 1
}

show_logs() {
  for f in "$dir"/node-*/server.log "$dir"/node-*/stdout.log; do
    [[ -f "$f" ]] || continue
    echo "---- $f" >&2
    tail -n 40 "$f" >&2
  done
}

stop_all() {
  for p in "$dir"/node-*/pid; do
    [[ -f "$p" ]] || continue
    local id=${p%/pid}
    node_kill "${id##*/node-}"
  done
}

case "$cmd" in
  start)
    shift 2
    n=1
    while (($#)); do
      case "$1" in
        --brokers) n=$2; shift 2 ;;
        *) usage ;;
      esac
    done
    if [[ -z "$JAVA" ]]; then
      echo "kafka_test_server: java not found (make deps-test installs default-jre-headless)" >&2
      exit 1
    fi
    stop_all
    rm -rf "$dir"
    mkdir -p "$dir"
    cp=$(classpath)
    # A cluster id is 16 random bytes, base64url without padding; one that starts with '-' would
    # read as an option to StorageTool.
    cluster=-
    while [[ "$cluster" == -* ]]; do
      cluster=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    done
    started=
    # Another test run on this machine may take a port between the check and the bind: try again.
    for attempt in 1 2 3; do
      : >"$dir/ports"
      # Below the ephemeral range: nodes connect to each other's ports before those listen, and a
      # connect to a free port inside the range can be given that very port as its source (a
      # self-connected socket), which then holds the port the node was about to bind.
      port=$((20000 + RANDOM % 10000))
      for id in $(seq 1 "$n"); do
        for _ in $(seq 1 50); do port_free "$port" && break; port=$((port + 1)); done
        bp=$port; port=$((port + 1))
        for _ in $(seq 1 50); do port_free "$port" && break; port=$((port + 1)); done
        echo "$id $bp $port" >>"$dir/ports"; port=$((port + 1))
      done
      formats=()
      for id in $(seq 1 "$n"); do
        write_config "$id" "$n"
        # shellcheck disable=SC2086
        "$JAVA" $(jvm_opts) -cp "$cp" kafka.tools.StorageTool format --ignore-formatted \
          -t "$cluster" -c "$dir/node-$id/server.properties" >"$dir/node-$id/format.log" 2>&1 &
        formats+=($!)
      done
      # A JVM start each: side by side, not one after another.
      for id in $(seq 1 "$n"); do
        wait "${formats[$((id - 1))]}" || { cat "$dir/node-$id/format.log" >&2; exit 1; }
      done
      for id in $(seq 1 "$n"); do node_start "$id"; done
      if wait_ready "$n"; then started=1; break; fi
      grep -qs "Address already in use" "$dir"/node-*/server.log "$dir"/node-*/stdout.log || break
      stop_all
    done
    if [[ -z "$started" ]]; then
      echo "kafka_test_server: the cluster did not start" >&2
      show_logs
      stop_all
      exit 1
    fi
    awk -v host="$host" '{printf "%s%s:%s", (NR > 1 ? "," : ""), host, $2} END {print ""}' \
      "$dir/ports" >"$dir/bootstrap"
    echo "kafka_test_server: $(cat "$dir/bootstrap") ($n node(s), data in $dir)"
    watch_owner "$(realpath "${BASH_SOURCE[0]}")" "$dir"
    ;;
  kill)
    [[ -n "${3:-}" ]] || usage
    node_kill "$3"
    ;;
  up)
    [[ -n "${3:-}" ]] || usage
    node_running "$3" && exit 0
    node_start "$3"
    n=$(wc -l <"$dir/ports")
    bp=$(awk -v id="$3" '$1 == id {print $2}' "$dir/ports")
    deadline=$((SECONDS + 90))
    until seen=$(metadata_brokers "$bp" 2>/dev/null) && ((seen >= n)); do
      if ! node_running "$3" || ((SECONDS >= deadline)); then
        echo "kafka_test_server: node $3 did not come back" >&2
        show_logs
        exit 1
      fi
      sleep 0.1
    done
    ;;
  freeze | thaw)
    [[ -n "${3:-}" ]] || usage
    pid=$(node_pid "$3") || { echo "kafka_test_server: node $3 is not running" >&2; exit 1; }
    kill "-$([[ "$cmd" == freeze ]] && echo STOP || echo CONT)" "$pid"
    ;;
  stop)
    stop_all
    rm -rf "$dir"
    ;;
  archive)
    # The JVM writes the classes it loaded when it exits normally: a broker started on a scratch
    # directory (ports and format as for a test), asked once for metadata, then stopped with
    # SIGTERM. Written next to the target and renamed, so no broker maps half a file.
    out=$dir
    scratch=$(mktemp -d)
    dir=$scratch/cluster
    trap 'stop_all; rm -rf "$scratch" "$out.tmp"' EXIT
    KAFKA_CLASS_ARCHIVE=/nonexistent KAFKA_HEAP_OPTS="$KAFKA_HEAP_OPTS -XX:ArchiveClassesAtExit=$out.tmp" \
      bash "${BASH_SOURCE[0]}" start "$dir" >/dev/null
    # StorageTool's JVM wrote one too, of its own few classes: only the broker's counts.
    rm -f "$out.tmp"
    pid=$(node_pid 1)
    kill -TERM "$pid"
    for _ in $(seq 1 600); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    # Gone by itself: the EXIT trap's stop_all must not SIGKILL its pid, which may be reused.
    kill -0 "$pid" 2>/dev/null || rm -f "$dir/node-1/pid"
    [[ -s "$out.tmp" ]] || { echo "kafka_test_server: no class data archive was written" >&2; exit 1; }
    mv -f "$out.tmp" "$out"
    echo "kafka_test_server: class data archive $out ($(du -h "$out" | cut -f1))"
    ;;
  *)
    usage
    ;;
esac
