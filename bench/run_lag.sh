#!/usr/bin/env bash
# Ack -> visible-with-token lag, stage by stage, for one or more builds in the same run: the short
# loop for working on the lag (bench/run_kafka.sh is the full comparison with the broker's limit).
# Prints a Markdown report.
#
#   bench/run_lag.sh BUILD_DIR [BUILD_DIR...]     e.g. a build of main and one of a branch
#   BUILD_DIR may be followed by |FLAGS, serve flags for that build alone (after SERVE_ARGS), e.g.
#   "build/release|--relay-linger-ms 1": the same build with two settings in one run; and, before
#   that, by @one: on Kafka that setup runs every role in one process (as BUS=local does), e.g.
#   `build/release build/release@one` compares the two deployments in one run.
#
# Starts a throwaway durable PostgreSQL (the settings of bench/run_postgres.sh) and, with
# BUS=kafka, a throwaway Apache Kafka cluster of BROKERS nodes (tests/scripts/kafka_test_server.sh,
# topics of PARTITIONS partitions, replication 3 with 3+ nodes). Then ROUNDS times, for each build
# in turn on fresh databases (and, on Kafka, a fresh topic: a projector with an empty read store
# reads its topic from the beginning, and would first project every earlier setup's events while
# the next one is measured):
#   BUS=local  one `ordinal serve --roles api,relay,projector --bus local`;
#   BUS=kafka  `--roles api`, `--roles relay`, `--roles projector` (measuring starts once the
#              projector holds every partition); with @one, one `--roles api,relay,projector`;
#   1. create-order, closed loop, CONNECTIONS connections: the maximum rate (its half is the
#      "half" rate; HALF_RATE=N fixes it instead, the same for every build; the first round's
#      first build sets it otherwise, so all builds run the same rates);
#   2. read-your-writes, open loop, at each of RATES (the word `half` for half the maximum), with
#      16 connections up to 100/s and RYW_CONNECTIONS above; a rate of 0 is read-your-writes in a
#      closed loop on RYW_CONNECTIONS (its maximum, a POST and a token GET per order).
# For each load: loadgen's ack latency and ack -> visible (the 202 to the 2xx of the GET carrying
# its X-Consistency-Token), p50 / p99 / p99.9; and from the processes' /metrics, what each stage
# saw over the load (bucket upper bounds): relay_event_age (command -> hand-over to the bus),
# kafka_publish_duration (produce -> last delivery report), projection_receive_age (command -> the
# projector receiving it from the bus), projection_lag (command -> projection commit),
# projection_batch_duration (one read-store transaction), consistency_wait (a GET with a token:
# arrival -> read model reached); and per order placed, each process's CPU ms and wake-ups
# (voluntary context switches, every thread) from the load's start until everything it placed was
# projected: api, relay, projector (or `all`), PostgreSQL (every backend) and the Kafka nodes.
#
# On Kafka, each open loop also gets two rows of bench/kafka_hop on a topic of its own, with
# Ordinal's producer and consumer properties: the broker's hop alone (produce -> consume, no
# service) at the load's rate just before it, on a machine that carries only the idle stack; and
# the same hop at HOP_RATE (default 20/s; 0: neither row) during the load, which is what the
# Kafka stage costs any client on that broker and machine at that moment: a floor under the lag.
# The hop beside the load is load too (its messages, fetches and threads), so it runs slowly
# enough to leave the load's own figures as they were; the one alone runs before the load's CPU
# count starts.
#
# Knobs: BUS=local BROKERS=1 PARTITIONS=6 RATES="100 1000 half" HALF_RATE= ROUNDS=1 DURATION=10
# WARMUP=3 CONNECTIONS=64 RYW_CONNECTIONS=256 SERVE_ARGS= KAFKA_PROPS= PG_SETTINGS BENCH_TMPDIR HOP_RATE=20
# KAFKA_WARMUP=60 (seconds of load through a fresh broker before measuring, bench_roles.sh)
# LOADGEN_THREADS= LOADGEN_PREFIX= (e.g. `chrt -f 1`, see bench_common.sh) KEEP_WORK=1
# HOST_WRITEBACK_MS= (root: the kernel's writeback of dirty pages for the run, see
# bench_common.sh). loadgen is each build's own bench/loadgen (the first build's if a build has
# none). WORK (kept with KEEP_WORK=1) also holds each process's log, the stopped PostgreSQL cluster
# (pg/server.log), `ports` (name, port, pid of each process started, for a sampler beside the run)
# and each open loop's `timeline-SETUP-RATE.tsv` (loadgen --timeline: per 100 ms of intended send
# time, the ack latency and the ack -> visible lag); on Kafka, each node's server.log
# (`kafka-node-N.log`) and the hop alone's `hop-alone-SETUP-RATE.tsv` (kafka_hop --timeline: per
# 100 ms, messages and the worst hop, from the UTC time in its first line).
set -euo pipefail
BENCH_NAME=run_lag
# shellcheck source=bench/bench_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
# shellcheck source=bench/bench_roles.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_roles.sh"

(( $# >= 1 )) || die "usage: bench/run_lag.sh BUILD_DIR [BUILD_DIR...]"
BUILDS=("$@")
BUS=${BUS:-local}
BROKERS=${BROKERS:-1}
PARTITIONS=${PARTITIONS:-6}
REPLICATION=${REPLICATION:-$(( BROKERS >= 3 ? 3 : 1 ))}
RATES=${RATES:-"100 1000 half"}
HALF_RATE=${HALF_RATE:-}
ROUNDS=${ROUNDS:-1}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-64}
RYW_CONNECTIONS=${RYW_CONNECTIONS:-256}
TOPIC=ordinal-events  # and the setup's name: one topic per setup
HOP_RATE=${HOP_RATE:-20}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KAFKA_SCRIPT=$REPO/tests/scripts/kafka_test_server.sh
export KAFKA_CLASSPATH_FILE=${KAFKA_CLASSPATH_FILE:-$REPO/build/kafka-broker/classpath}
KAFKA_TOOL_OPTS=${KAFKA_TOOL_OPTS:-"-Xms64m -Xmx512m -XX:+UseSerialGC -Dlog4j.configuration=file:/dev/null"}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
[[ $BUS == local || $BUS == kafka ]] || die "BUS must be local or kafka"

build_dir() { local d=${1%%|*}; echo "${d%@one}"; }  # a BUILD_DIR argument without @one and |FLAGS
for b in "${BUILDS[@]}"; do [[ -x $(build_dir "$b")/ordinal ]] || die "$(build_dir "$b")/ordinal not found (build first)"; done
KAFKA_HOP=$(build_dir "${BUILDS[0]}")/bench/kafka_hop
[[ $HOP_RATE =~ ^[0-9]+$ ]] || die "HOP_RATE must be a whole number of messages a second"
[[ $BUS == local || $HOP_RATE == 0 || -x $KAFKA_HOP ]] || die "$KAFKA_HOP not found (build kafka_hop, or HOP_RATE=0)"
BASE_SERVE_ARGS=${SERVE_ARGS:-}
ensure_command jq
ensure_command curl

make_work ordinal-lag

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
apply_host_writeback
START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ADMIN_TOKEN=$(cat /proc/sys/kernel/random/uuid)
start_postgres "$WORK/pg"
if [[ $BUS == kafka ]]; then
  ensure_command java
  [[ -s $KAFKA_CLASSPATH_FILE ]] || die "no Kafka classpath in $KAFKA_CLASSPATH_FILE (make deps-test)"
  start_kafka
  ORDINAL=$(build_dir "${BUILDS[0]}")/ordinal LOADGEN=$(build_dir "${BUILDS[0]}")/bench/loadgen warm_kafka "$TOPIC"
fi

# The stage histograms: name, and which process has it (relay, projector or api).
STAGES=(relay_event_age:relay kafka_publish_duration:relay projection_receive_age:projector
  projection_lag:projector projection_batch_duration:projector consistency_wait:api)
stage_snapshot() {  # file
  local entry name role port
  for entry in "${STAGES[@]}"; do
    name=${entry%%:*} role=${entry##*:}
    port=${PORTS[$role]:-${PORTS[all]:-}}
    printf '%s\t%s\n' "$name" "$(hist_snapshot "$port" "ordinal_${name}_seconds")"
  done >"$1"
}
stage_text() {  # after-file before-file
  local entry name out=''
  for entry in "${STAGES[@]}"; do
    name=${entry%%:*}
    [[ $BUS == kafka || $name != kafka_publish_duration ]] || continue
    out+="$name $(hist_text "$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$1")" \
      "$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$2")" "0.5 0.99 0.999"); "
  done
  echo "${out%; }"
}

# CPU and wake-ups over a load, per process: each Ordinal process (every thread), PostgreSQL (the
# postmaster and its backends) and the Kafka nodes (every JVM thread). One line per process:
# name, CPU clock ticks, voluntary context switches (a thread going to sleep to wait: each is a
# wake-up later, the currency of the lag on a busy machine).
wakeups() {  # pid...: voluntary context switches of every thread of the processes
  local p
  for p in "$@"; do cat /proc/"$p"/task/*/status 2>/dev/null || true; done |
    awk '/^voluntary_ctxt_switches/ { s += $2 } END { print s + 0 }'
}
cpu_snapshot() {  # file
  local name pm nodes=() ticks=0 pid
  {
    for name in $(printf '%s\n' "${!PIDS[@]}" | sort); do
      echo "$name $(pid_cpu_ticks "${PIDS[$name]}") $(wakeups "${PIDS[$name]}")"
    done
    pm=$(head -n 1 "$WORK/pg/data/postmaster.pid")
    # shellcheck disable=SC2046
    echo "postgres $(pg_cpu_ticks "$WORK/pg/data") $(wakeups "$pm" $(pgrep -P "$pm"))"
    if [[ $BUS == kafka ]]; then
      for pid in $(kafka_pids); do
        nodes+=("$pid")
        ticks=$(( ticks + $(pid_cpu_ticks "$pid") ))
      done
      echo "kafka $ticks $(wakeups "${nodes[@]}")"
      echo "kafka-jit $(jit_ticks) 0"  # a share of the nodes' CPU: their JIT compilers
    fi
  } >"$1"
}
# "CPU ms / wake-ups per order: name a / b; ..." between two snapshots, over ORDERS orders.
cpu_text() {  # after before orders
  (( $3 > 0 )) || { echo "n/a"; return; }
  awk -v n="$3" -v tck="$CLK_TCK" 'NR == FNR { t[$1] = $2; w[$1] = $3; next }
    ($1 in t) { out = out sprintf("%s%s %.3f / %.1f", out == "" ? "" : "; ", $1,
                                  ($2 - t[$1]) * 1000 / tck / n, ($3 - w[$1]) / n) }
    END { print out }' "$2" "$1"
}
orders_written() { psql_db "w_$1" -c "SELECT COUNT(*) FROM orders"; }

# The broker's hop alone (bench/kafka_hop, Ordinal's producer and consumer properties) on a topic
# of its own: produce -> consume at RATE for SECONDS.
hop() {  # topic rate seconds [kafka_hop args...]
  run_json "$KAFKA_HOP" --brokers "$BOOTSTRAP" --topic "$1" --rate "$2" --duration "$3" "${@:4}" \
    "${ORDINAL_PRODUCER_PROPS[@]/#/--property=}" "${ORDINAL_CONSUMER_PROPS[@]/#/--consumer-property=}"
}
hop_row() {  # round build what json
  row "| $1 | \`${2//|/\\|}\` | $3 | $(field "$4" .received) of $(field "$4" .sent) | | **$(field "$4" .p50_ms) / $(field "$4" .p99_ms) / $(field "$4" .p999_ms)** | produce → consume from the intended send, max $(field "$4" .max_ms); from the actual send p99 $(field "$4" .from_send_p99_ms), sends late p99 $(field "$4" .send_late_p99_ms) | |"
}
HOP_PID=""  # the hop beside a load, stopped on the way out if the run ends early
stop_hop() { [[ -z $HOP_PID ]] || kill "$HOP_PID" 2>/dev/null || true; }
trap 'stop_hop; cleanup_work' EXIT

ROWS=()
row() { ROWS+=("$1"); echo "$1" >>"$WORK/rows.md"; }  # the report's rows, also kept in WORK
run_build() {  # round index build-dir[|extra serve args]
  local round=$1 i=$2 dir db="b$2r$1" half rate conns key res orders bus=local
  dir=$(build_dir "$3")
  SERVE_ARGS=$BASE_SERVE_ARGS
  [[ $3 == *"|"* ]] && SERVE_ARGS+=" ${3#*|}"
  ORDINAL=$dir/ordinal
  LOADGEN=$dir/bench/loadgen
  [[ -x $LOADGEN ]] || LOADGEN=$(build_dir "${BUILDS[0]}")/bench/loadgen
  for d in "w_$db" "r_$db"; do psql_db postgres -c "CREATE DATABASE $d" >/dev/null; done
  if [[ $BUS == local ]]; then
    start_role all api,relay,projector local "$db"
  else
    create_topics "$TOPIC-$db"
    if (( HOP_RATE > 0 )); then create_topics "$TOPIC-$db-hop"; fi
    bus="kafka://$BOOTSTRAP/$TOPIC-$db${KAFKA_PROPS:+?$KAFKA_PROPS}"
    PORTS=()  # stage_snapshot asks the process of each role, or `all`
    if [[ ${3%%|*} == *@one ]]; then
      start_role all api,relay,projector "$bus" "$db"
      wait_partitions "${PORTS[all]}"
    else
      start_kafka_roles "" "$bus" "$db"
    fi
  fi
  log "$dir: create-order, closed loop, $CONNECTIONS connections"
  res=$(loadgen --scenario create-order --connections "$CONNECTIONS" --rate 0 --duration "$DURATION" --warmup "$WARMUP")
  alive_all
  [[ -n $HALF_RATE ]] || HALF_RATE=$(jq -r '(.ok_per_s // 0) / 2 | floor' <<<"$res")
  row "| $round | \`${3//|/\\|}\` | closed loop max | $(rate "$res" .ok_per_s) | ack $(ms "$res" .latency_us.p50) / $(ms "$res" .latency_us.p99) | | | |"
  for rate in $RATES; do
    [[ $rate == half ]] && rate=$HALF_RATE
    conns=$(( rate > 0 && rate <= 100 ? 16 : RYW_CONNECTIONS ))
    wait_settled "$db" 120
    local hop_alone="" with_hop=0
    [[ $bus != local ]] && (( HOP_RATE > 0 )) && with_hop=1
    if (( with_hop && rate > 0 )); then  # before the snapshots: its CPU is not the load's
      log "$dir: the broker's hop alone at $rate/s"
      hop_alone=$(hop "$TOPIC-$db-hop" "$rate" "$DURATION" --timeline "$WORK/hop-alone-$db-$rate.tsv")
    fi
    stage_snapshot "$WORK/before"
    cpu_snapshot "$WORK/cpu-before"
    if (( with_hop )); then  # over loadgen's warm-up too, measured only after it, as loadgen is
      hop "$TOPIC-$db-hop" "$HOP_RATE" "$DURATION" --warmup "$WARMUP" \
        --timeline "$WORK/hop-beside-$db-$rate.tsv" >"$WORK/hop-beside.json" &
      HOP_PID=$!
    fi
    orders=$(orders_written "$db")
    log "$dir: read-your-writes, open loop at $rate/s, $conns connections"
    res=$(loadgen --skip-setup --scenario read-your-writes --connections "$conns" --rate "$rate" --duration "$DURATION" --warmup "$WARMUP" \
      --timeline "$WORK/timeline-$db-$rate.tsv")
    alive_all
    if [[ -n $HOP_PID ]]; then wait "$HOP_PID" || true; fi
    stage_snapshot "$WORK/after"
    wait_settled "$db" 30  # the CPU of projecting what the load placed, not of the status polls
    cpu_snapshot "$WORK/cpu-after"
    orders=$(( $(orders_written "$db") - orders ))
    row "| $round | \`${3//|/\\|}\` | ryw $rate/s ($conns conns) | $(rate "$res" .ok_per_s), missed $(field "$res" .missed), errors $(field "$res" .errors) | ack $(ms "$res" .latency_us.p50) / $(ms "$res" .latency_us.p99) | **$(ms "$res" .visible_us.p50) / $(ms "$res" .visible_us.p99) / $(ms "$res" .visible_us.p999)** | $(stage_text "$WORK/after" "$WORK/before") | $(cpu_text "$WORK/cpu-after" "$WORK/cpu-before" "$orders") |"
    if [[ -n $hop_alone ]]; then hop_row "$round" "$3" "kafka_hop alone at $rate/s" "$hop_alone"; fi
    if [[ -n $HOP_PID ]]; then
      hop_row "$round" "$3" "kafka_hop at $HOP_RATE/s beside it" "$(cat "$WORK/hop-beside.json")"
      HOP_PID=""
    fi
  done
  stop_all
}

for round in $(seq "$ROUNDS"); do
  for i in "${!BUILDS[@]}"; do run_build "$round" "$i" "${BUILDS[$i]}"; done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

cat <<EOF
## Ack → visible lag by stage, $BUS bus ($START)

\`bench/run_lag.sh $(printf '"%s" ' "${BUILDS[@]}")\` with BUS=$BUS$([[ $BUS == kafka ]] && echo " BROKERS=$BROKERS PARTITIONS=$PARTITIONS REPLICATION=$REPLICATION") RATES="$RATES" (half = $HALF_RATE/s) ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP; SERVE_ARGS: \`${BASE_SERVE_ARGS:-none}\`, KAFKA_PROPS: \`${KAFKA_PROPS:-none}\`; load average before / after: $LOAD_BEFORE / $LOAD_AFTER; $(nproc) CPUs; kernel writeback: $(host_writeback)${HOST_WRITEBACK_MS:+ (HOST_WRITEBACK_MS=$HOST_WRITEBACK_MS)}.

| round | build | load | achieved ok/s | ack p50 / p99 ms | ack → visible p50 / p99 / p99.9 ms | stages p50 / p99 / p99.9 ms (bucket upper bounds) | per order placed: CPU ms / wake-ups, by process |
|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")
EOF
