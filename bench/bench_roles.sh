# Processes and Kafka for the bench scripts that run Ordinal as several processes (run_kafka.sh,
# run_lag.sh); sourced after bench_common.sh. Callers declare `declare -A PIDS=() PORTS=()` and
# set WORK, ORDINAL, ADMIN_TOKEN, PG_BASE; for Kafka also BROKERS, PARTITIONS, REPLICATION,
# KAFKA_SCRIPT, KAFKA_CLASSPATH_FILE, KAFKA_TOOL_OPTS.

# A measured broker runs C2's code (tests/scripts/kafka_test_server.sh leaves tests on C1 alone);
# a test that runs a bench script for a second of load may set KAFKA_FULL_JIT=0.
export KAFKA_FULL_JIT=${KAFKA_FULL_JIT:-1}

stop_role() { stop_process "${PIDS[$1]:-}"; unset "PIDS[$1]"; }
stop_all() { local name; for name in "${!PIDS[@]}"; do stop_role "$name"; done; }

# WORK, a fresh temp dir named after PREFIX, and an EXIT trap that stops every process started,
# the brokers and PostgreSQL, and removes it (KEEP_WORK=1 keeps it, with the stopped PostgreSQL
# cluster and its log), also after a failure.
make_work() {  # prefix
  WORK=$(mktemp -d "$BENCH_TMPDIR/$1.XXXXXX")
  chmod 755 "$WORK"  # the PostgreSQL server runs as `postgres` when we are root
  declare -gA PIDS=() PORTS=()  # name -> pid, port of the ordinal processes of the current setup
  KAFKA_STARTED=""
  trap cleanup_work EXIT
  trap 'exit 130' INT TERM
}
cleanup_work() {
  stop_all
  restore_host_writeback
  # Every broker killed and its data directory removed, also after a failure; KEEP_WORK=1 keeps
  # each node's server.log (log rolls, group and controller events) as WORK/kafka-node-N.log.
  if [[ ${KEEP_WORK:-0} == 1 ]]; then
    local f
    for f in "$WORK"/kafka/node-*/server.log; do [[ -f $f ]] && cp "$f" "$WORK/kafka-$(basename "$(dirname "$f")").log"; done
  fi
  if [[ -n $KAFKA_STARTED || -d $WORK/kafka ]]; then bash "$KAFKA_SCRIPT" stop "$WORK/kafka" >/dev/null 2>&1 || true; fi
  # KEEP_WORK=1 keeps the stopped cluster too (its server.log: checkpoints, autovacuum runs).
  local pg_stop=stop
  [[ ${KEEP_WORK:-0} == 1 ]] && pg_stop=down
  bash "$PG_SCRIPT" "$pg_stop" "$WORK/pg" >/dev/null 2>&1 || true
  if [[ ${KEEP_WORK:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}

# The broker's own tools, from the jars the broker runs (kafka-tools 3.7.2).
kafka_tool() {  # class args...
  local class=$1; shift
  # shellcheck disable=SC2086
  timeout 120 java $KAFKA_TOOL_OPTS -cp "$(cat "$KAFKA_CLASSPATH_FILE")" "$class" "$@"
}

# Starts a throwaway Apache Kafka cluster of BROKERS nodes in $WORK/kafka (the caller's EXIT trap
# stops it: `bash "$KAFKA_SCRIPT" stop "$WORK/kafka"`), sets BOOTSTRAP and creates TOPICS with
# PARTITIONS partitions and REPLICATION replicas.
start_kafka() {  # topics...
  log "starting Apache Kafka ($BROKERS node(s), tests/scripts/kafka_test_server.sh)"
  bash "$KAFKA_SCRIPT" start "$WORK/kafka" --brokers "$BROKERS" >&2 ||
    die "the Kafka cluster did not start"
  KAFKA_STARTED=1
  BOOTSTRAP=$(cat "$WORK/kafka/bootstrap")
  create_topics "$@"
}
# Topics are not created on their own: the bench's topic, and one of the same shape for the
# producer baseline (its random bytes must not reach the projector). A setup with fresh databases
# needs a topic of its own too: its projector starts from the beginning of the topic (its read
# store has no position yet) and would project every earlier setup's events first.
create_topics() {  # topics...
  local topic
  for topic in "$@"; do
    kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --create \
      --topic "$topic" --partitions "$PARTITIONS" --replication-factor "$REPLICATION" \
      >>"$WORK/kafka-tools.log" 2>&1 || die "cannot create $topic: $(tail -n 5 "$WORK/kafka-tools.log")"
  done
}

# A fresh broker's JVM spends its first minute or so compiling its hot paths: here (2026-12-07)
# its C1/C2 compiler threads took 0.2-0.8 of a core for ~50 s after the start, through the first
# loads measured, whose ack -> visible p99 fell load after load as they finished (243, 155, 84 ms
# in three 1,000/s loads in a row). A production broker did that long ago. So a script that
# measures through a broker first puts KAFKA_WARMUP seconds (default 60; 0: none) of Ordinal's own
# traffic through it: ORDINAL's three roles on throwaway databases and topic, create-order in a
# closed loop, then everything stopped and dropped. jit_ticks shows whether the compilers are done.
KAFKA_WARMUP=${KAFKA_WARMUP:-60}
warm_kafka() {  # topic prefix
  (( KAFKA_WARMUP > 0 )) || return 0
  local setup=warmup d
  log "warming the broker up: $KAFKA_WARMUP s of create-order through a throwaway stack"
  for d in "w_$setup" "r_$setup"; do psql_db postgres -c "CREATE DATABASE $d" >/dev/null; done
  create_topics "$1-$setup"
  local bus="kafka://$BOOTSTRAP/$1-$setup${KAFKA_PROPS:+?$KAFKA_PROPS}"
  start_kafka_roles warm- "$bus" "$setup"
  loadgen --scenario create-order --connections 64 --rate 0 --duration "$KAFKA_WARMUP" --warmup 0 >/dev/null
  alive_all
  wait_settled "$setup" 60
  log "broker warmed up: its JIT compilers at $(jit_ticks) ticks so far"
  stop_all
  PORTS=()
  for d in "w_$setup" "r_$setup"; do psql_db postgres -c "DROP DATABASE $d" >/dev/null; done
}
# Ordinal's producer and consumer properties (src/adapters/kafka/kafka_producer.cpp and
# kafka_consumer.cpp; of the consumer's, those a fetch sees: no group), for bench/kafka_raw and
# bench/kafka_hop.
ORDINAL_PRODUCER_PROPS=(enable.idempotence=true acks=all linger.ms=1 message.timeout.ms=10000
  queue.buffering.max.messages=100000 partitioner=murmur2_random reconnect.backoff.max.ms=1000
  socket.nagle.disable=true)
ORDINAL_CONSUMER_PROPS=(fetch.wait.max.ms=100 reconnect.backoff.max.ms=1000 socket.nagle.disable=true)

# The pids of the Kafka nodes started in $WORK/kafka, one per line.
kafka_pids() { local f; for f in "$WORK"/kafka/node-*/pid; do [[ -f $f ]] && cat "$f"; done; return 0; }
# CPU clock ticks of the Kafka nodes' JIT compiler threads (HotSpot names them "C1 CompilerThre"
# and "C2 CompilerThre"), all nodes together.
jit_ticks() {
  local p t total=0
  for p in $(kafka_pids); do
    for t in /proc/"$p"/task/*; do
      [[ $(cat "$t/comm" 2>/dev/null) == C[12]\ Compiler* ]] || continue
      total=$(( total + $(task_cpu_ticks "$t") ))
    done
  done
  echo "$total"
}

# Starts `ordinal serve` as NAME with ROLES on BUS against the databases w_SETUP / r_SETUP; its
# port goes to PORTS[NAME] (an api's also to PORT, which loadgen and the status polls use).
launch_role() {  # name roles bus setup
  local name=$1 roles=$2 bus=$3 setup=$4
  PORTS[$name]=$(free_port)
  # shellcheck disable=SC2086
  "$ORDINAL" serve --listen "127.0.0.1:${PORTS[$name]}" --data-dir "$WORK/data-$name" \
    --admin-token "$ADMIN_TOKEN" --write-db "$PG_BASE/w_$setup" --read-db "$PG_BASE/r_$setup" \
    --bus "$bus" --roles "$roles" ${SERVE_ARGS:-} >>"$WORK/$name.log" 2>&1 &
  PIDS[$name]=$!
  echo "$name ${PORTS[$name]} ${PIDS[$name]}" >>"$WORK/ports"  # for a sampler beside the run
  if [[ $roles == *api* ]]; then PORT=${PORTS[$name]}; fi
}
start_role() { launch_role "$@"; wait_ready "${PORTS[$1]}" "${PIDS[$1]}" "$WORK/$1.log"; }
# The three roles on Kafka as processes PREFIXprojector, PREFIXrelay and PREFIXapi, ready once
# the projector holds every partition.
start_kafka_roles() {  # prefix bus setup
  start_role "$1projector" projector "$2" "$3"
  start_role "$1relay" relay "$2" "$3"
  start_role "$1api" api "$2" "$3"
  wait_partitions "${PORTS[$1projector]}"
}

alive_all() {
  local name
  for name in "${!PIDS[@]}"; do
    kill -0 "${PIDS[$name]}" 2>/dev/null || die "$name died; log tail: $(tail -n 20 "$WORK/$name.log")"
  done
}

status() { curl -fsS -H "Authorization: Bearer $ADMIN_TOKEN" "http://127.0.0.1:$PORT/v1/admin/status"; }
# Streams the write side has (orders + products): the read model is complete when it has as many.
written_streams() { psql_db "w_$1" -c "SELECT (SELECT COUNT(*) FROM orders) + (SELECT COUNT(*) FROM products)"; }
# Waits (TIMEOUT seconds at most) until the outbox is empty and the read model holds every stream
# of the write side: a load measured while an earlier one's backlog drains measures the drain.
# More streams in the read model than on the write side means it projected events that are not
# this setup's (a topic shared with an earlier setup): it cannot be told settled by counting, and
# its projector may still be working through them, so the run stops.
wait_settled() {  # setup timeout
  local expected pending projected
  expected=$(written_streams "$1")
  for _ in $(seq $(( $2 * 10 ))); do
    read -r pending projected < <(status 2>/dev/null | jq -r '"\(.outbox.pending // -1) \(.projection.streams // -1)"' || echo "-1 -1")
    (( projected <= expected )) ||
      die "the read model of $1 holds $projected streams, its write side $expected: it projected another setup's events"
    [[ $pending == 0 && $projected == "$expected" ]] && return 0
    sleep 0.1
  done
  log "not settled after $2 s (pending $pending, projected $projected of $expected)"
}

# A Kafka projector is only useful once the consumer group gave it the partitions.
wait_partitions() {  # port
  local held=
  for _ in $(seq 600); do
    held=$(curl -fsS "http://127.0.0.1:$1/readyz" 2>/dev/null | grep -oE 'holds [0-9]+ partition' | grep -oE '[0-9]+' || true)
    [[ $held == "$PARTITIONS" ]] && return 0
    sleep 0.1
  done
  die "the projector holds ${held:-no} partitions of $PARTITIONS after 60 s"
}

# One histogram of a process's /metrics as {count, buckets: [[le, cumulative], ...]} (a series
# without labels).
hist_snapshot() {  # port name
  curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null | awk -v name="$2" '
    index($0, name "_bucket{le=") == 1 {
      match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5)
      buckets = buckets (buckets == "" ? "" : ",") "[\"" le "\"," $2 "]" }
    index($0, name "_count ") == 1 { count = $2 }
    END { printf "{\"count\":%d,\"buckets\":[%s]}\n", count, buckets }' || echo '{}'
}

# Quantiles (upper bounds of the buckets, ms; default p50 / p99) of what a histogram saw between
# two snapshots, joined by " / ".
hist_text() {  # after before [quantiles, e.g. "0.5 0.99 0.999"]
  [[ -n $1 && $1 != '{}' ]] || { echo "n/a"; return; }
  jq -rn --argjson a "$1" --argjson b "${2:-{\}}" --arg qs "${3:-0.5 0.99}" '
    ($a.count - ($b.count // 0)) as $n
    | if $n <= 0 then "n/a" else
      [range(0; $a.buckets | length) as $i
        | [$a.buckets[$i][0], $a.buckets[$i][1] - (($b.buckets // [])[$i][1] // 0)]] as $h
      | def q(f): first($h[] | select(.[1] >= f * $n) | .[0]) | if . == "+Inf" then "∞" else (tonumber * 1000 | tostring) end;
      [$qs | split(" ")[] | tonumber as $f | q($f)] | join(" / ") end'
}

