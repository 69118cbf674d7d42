#!/usr/bin/env bash
# The Kafka bus next to the in-process bus, from one run, on the same PostgreSQL stores: maximum
# sustained create-order rate, end-to-end projection lag (command acknowledged -> visible to a
# read carrying its consistency token) at half that rate, and relay throughput (events/s) draining
# a backlog, next to the broker's own limit (Kafka's kafka-producer-perf-test with the same
# durability). Prints a Markdown report.
#
#   bench/run_kafka.sh [BUILD_DIR]        default build/release; nothing is built here
#
# Starts a throwaway durable PostgreSQL (tests/scripts/postgres_test_server.sh, the settings of
# bench/run_postgres.sh) and a throwaway Apache Kafka 3.7.2 cluster of BROKERS nodes
# (tests/scripts/kafka_test_server.sh; the jars of tools/kafka-broker, classpath from
# `make deps-test`), creates the topic with PARTITIONS partitions and REPLICATION replicas (Kafka's
# TopicCommand; min.insync.replicas 2 with 3 or more nodes), then for each bus, on fresh databases:
#   A  in-process: one `ordinal serve --roles api,relay,projector --bus local`;
#   B  Kafka: `--roles api`, `--roles relay`, `--roles projector` as three processes
#      (`--bus kafka://…/ordinal-events`; measuring starts once the projector holds every
#      partition);
#   1. loadgen read-your-writes, open loop at LOW_RATE orders/s (0: skipped) on the fresh tables:
#      the lag of a lightly loaded system, for comparison;
#   2. loadgen create-order, closed loop: the maximum rate; then read-your-writes, open loop at
#      half that rate: ack latency, and ack -> visible (the 202 to the first 2xx of the GET that
#      carries its token, so projection lag plus one round trip); then at MID_RATE (0: skipped);
#   3. with the relay stopped, a backlog of about BACKLOG_ORDERS orders (open loop); then the relay
#      starts and the api's /v1/admin/status is polled until the outbox is empty (relay events/s)
#      and the read model holds every stream (projection events/s). The in-process bus needs relay
#      and projector in one process, so A runs this step as `--roles api` + `--roles relay,projector`.
# Then, on the same cluster, Kafka's ProducerPerformance (kafka-producer-perf-test): PERF_RECORDS
# records, unthrottled, acks=all, enable.idempotence=true, linger.ms=1 (Ordinal's producer
# settings), each the size of the average envelope B's relay published (read back with Kafka's
# ConsoleConsumer), to a topic of the same shape: the relay's events/s is reported as a fraction of
# that. The cluster is stopped and its data removed on exit, whatever happened.
# Between steps the outbox and the projection are let drain. Progress goes to stderr, the report to
# stdout (`bench/run_kafka.sh > result.md`).
#
# Knobs: DURATION=10 WARMUP=3 CONNECTIONS=64 RYW_CONNECTIONS=256 LOW_RATE=100 MID_RATE=1000
# BACKLOG_ORDERS=20000 BACKLOG_RATE=4000 LAG_TARGET_MS=20 PARTITIONS=6 BROKERS=3 REPLICATION=(3 with
# 3+ brokers, else 1) PERF_RECORDS=50000 KAFKA_CLASSPATH_FILE KAFKA_TOOL_OPTS LOADGEN_THREADS=
# SERVE_ARGS= (extra flags for every `ordinal serve`) KAFKA_PROPS= (librdkafka properties appended to the bus URL,
# a=b&c=d) PG_SETTINGS BENCH_TMPDIR KEEP_WORK=1 KAFKA_WARMUP=60 (bench_roles.sh). About 3 to 4 minutes with the defaults.
set -euo pipefail
BENCH_NAME=run_kafka
# shellcheck source=bench/bench_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
# shellcheck source=bench/bench_roles.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_roles.sh"

BUILD_DIR=${1:-build/release}
ORDINAL=$BUILD_DIR/ordinal
LOADGEN=$BUILD_DIR/bench/loadgen

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-64}
RYW_CONNECTIONS=${RYW_CONNECTIONS:-256}
LOW_RATE=${LOW_RATE:-100}
BACKLOG_ORDERS=${BACKLOG_ORDERS:-20000}
BACKLOG_RATE=${BACKLOG_RATE:-4000}
LAG_TARGET_MS=${LAG_TARGET_MS:-20}
MID_RATE=${MID_RATE:-1000}
PARTITIONS=${PARTITIONS:-6}
BROKERS=${BROKERS:-3}
REPLICATION=${REPLICATION:-$(( BROKERS >= 3 ? 3 : 1 ))}
PERF_RECORDS=${PERF_RECORDS:-50000}
TOPIC=ordinal-events
PERF_TOPIC=ordinal-perf
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KAFKA_SCRIPT=$REPO/tests/scripts/kafka_test_server.sh
export KAFKA_CLASSPATH_FILE=${KAFKA_CLASSPATH_FILE:-$REPO/build/kafka-broker/classpath}
KAFKA_TOOL_OPTS=${KAFKA_TOOL_OPTS:-"-Xms64m -Xmx512m -XX:+UseSerialGC -Dlog4j.configuration=file:/dev/null"}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}

for tool in "$ORDINAL" "$LOADGEN"; do
  [[ -x $tool ]] || die "$tool not found or not executable (build first, e.g. make bench-kafka)"
done
ensure_command jq
ensure_command curl
ensure_command java
[[ -s $KAFKA_CLASSPATH_FILE ]] || die "no Kafka classpath in $KAFKA_CLASSPATH_FILE (make deps-test)"

make_work ordinal-kafka

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
start_postgres "$WORK/pg"

start_kafka "$TOPIC" "$PERF_TOPIC"
KAFKA_URL="kafka://$BOOTSTRAP/$TOPIC${KAFKA_PROPS:+?$KAFKA_PROPS}"
ADMIN_TOKEN=$(cat /proc/sys/kernel/random/uuid)
warm_kafka "$TOPIC"

# ---------------------------------------------------------------------------------------------
# Processes

# ---------------------------------------------------------------------------------------------
# Outbox and projection, seen from the api's admin status


# Samples "seconds pending projected" as fast as curl and jq allow (at least 20 ms apart), seconds
# counted from START_US (a µs timestamp), until the outbox is empty and the read model holds
# EXPECTED streams, or TIMEOUT seconds pass; prints the samples.
sample_drain() {  # expected timeout start_us
  local now pending projected
  while :; do
    now=${EPOCHREALTIME/./}
    read -r pending projected < <(status 2>/dev/null | jq -r '"\(.outbox.pending // -1) \(.projection.streams // -1)"' || echo "-1 -1")
    printf '%d.%06d %s %s\n' $(((now - $3) / 1000000)) $(((now - $3) % 1000000)) "$pending" "$projected"
    [[ $pending == 0 && $projected -ge $1 ]] && return 0
    if (( now - $3 > $2 * 1000000 )); then
      log "not drained after $2 s (pending $pending, projected $projected of $1)"
      return 0
    fi
    sleep 0.02
  done
}

# From samples: JSON {backlog, drained_s, projected_s, relay_eps, projection_eps}. A rate counts
# from the first sample that shows progress to the first that shows the end, so neither the
# relay's start-up nor the polling's first interval is in it.
drain_summary() {  # samples-file backlog streams-before
  awk -v backlog="$2" -v before="$3" '
    { t = $1; p = $2; s = $3 }
    p >= 0 && p < backlog && ta == "" { ta = t; pa = p }
    p == 0 && td == "" { td = t }
    s > before && tb == "" { tb = t; sb = s }
    { last_s = s; tl = t }
    END {
      relay = (td != "" && td > ta) ? pa / (td - ta) : "null"
      proj = (tb != "" && tl > tb) ? (last_s - sb) / (tl - tb) : "null"
      printf "{\"backlog\":%d,\"drained_s\":%s,\"projected_s\":%s,\"relay_eps\":%s,\"projection_eps\":%s}\n",
        backlog, (td == "" ? "null" : td), tl, relay, proj
    }' "$1"
}

# Waits for the outbox and the projection to catch up; prints what was left and how long it took.
settle() {  # setup label
  local samples=$WORK/settle-$1-$2.txt
  sample_drain "$(written_streams "$1")" 120 "${EPOCHREALTIME/./}" >"$samples"
  log "$2: outbox pending at the end $(awk 'NR == 1 { print $2 }' "$samples"), settled in $(tail -n 1 "$samples" | cut -d' ' -f1) s"
  jq -nc --arg left "$(awk 'NR == 1 { print $2 }' "$samples")" --arg s "$(tail -n 1 "$samples" | cut -d' ' -f1)" \
    '{left: ($left | tonumber), settled_s: ($s | tonumber)}'
}

# The Kafka relay's own account of its batches, from its /metrics: batches, events delivered, and
# ordinal_kafka_publish_duration_seconds (producing a batch -> its last delivery report) as
# {count, sum, events, buckets: [[le, cumulative], ...]}.
publish_snapshot() {  # port
  curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null | awk '
    /^ordinal_kafka_publish_duration_seconds_bucket/ {
      match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5)
      buckets = buckets (buckets == "" ? "" : ",") "[\"" le "\"," $2 "]" }
    /^ordinal_kafka_publish_duration_seconds_sum/ { sum = $2 }
    /^ordinal_kafka_publish_duration_seconds_count/ { count = $2 }
    /^ordinal_kafka_messages_delivered_total/ { events = $2 }
    /^ordinal_relay_fetch_duration_seconds_sum/ { fsum = $2 }
    /^ordinal_relay_fetch_duration_seconds_count/ { fcount = $2 }
    /^ordinal_relay_mark_duration_seconds_sum/ { msum = $2 }
    /^ordinal_relay_mark_duration_seconds_count/ { mcount = $2 }
    /^ordinal_relay_send_duration_seconds_sum/ { ssum = $2 }
    /^ordinal_relay_events_published_total/ { relayed = $2 }
    END { printf "{\"count\":%d,\"sum\":%s,\"events\":%d,\"relayed\":%d,\"fetch_n\":%d,\"fetch_s\":%s,\"mark_n\":%d,\"mark_s\":%s,\"send_s\":%s,\"buckets\":[%s]}\n", count, sum + 0, events, relayed, fcount, fsum + 0, mcount, msum + 0, ssum + 0, buckets }' ||
    echo '{}'
}

# What the relay did between two snapshots over SECONDS: batches (and how often), events per
# batch, publish time mean and p50/p99 (upper bounds of the histogram buckets).
publish_text() {  # after before seconds
  [[ -n $1 && $1 != '{}' ]] || { echo "n/a"; return; }
  jq -rn --argjson a "$1" --argjson b "${2:-{\}}" --argjson secs "$3" '
    ($a.count - ($b.count // 0)) as $n
    | if $n <= 0 then "no batches" else
      [range(0; $a.buckets | length) as $i
        | [$a.buckets[$i][0], $a.buckets[$i][1] - (($b.buckets // [])[$i][1] // 0)]] as $h
      | def q(f): first($h[] | select(.[1] >= f * $n) | .[0]) | if . == "+Inf" then "∞" else (tonumber * 1000 | tostring) end;
      def r(x): x * 100 | round / 100;
      ($a.fetch_n - ($b.fetch_n // 0)) as $fn | ($a.mark_n - ($b.mark_n // 0)) as $mn
      | "\($n) batches (one per \(r($secs * 1000 / $n)) ms), \(r(($a.events - ($b.events // 0)) / $n)) events each, publish mean \(r(($a.sum - ($b.sum // 0)) * 1000 / $n)) ms, p50 ≤ \(q(0.5)) ms, p99 ≤ \(q(0.99)) ms; relay thread: \($fn) fetches, mean \(if $fn > 0 then r(($a.fetch_s - ($b.fetch_s // 0)) * 1000 / $fn) else "n/a" end) ms; produce mean \(r(($a.send_s - ($b.send_s // 0)) * 1000 / $n)) ms; \($mn) marks, mean \(if $mn > 0 then r(($a.mark_s - ($b.mark_s // 0)) * 1000 / $mn) else "n/a" end) ms"
      end'
}

# The in-process relay's account of a drain from one snapshot (its /metrics): batches (one mark
# each), events per batch, and its thread's time per fetch, per publish (on the in-process bus:
# projecting the batch) and per mark.
relay_text() {  # snapshot seconds
  [[ -n $1 && $1 != '{}' ]] || { echo "n/a"; return; }
  jq -rn --argjson a "$1" --argjson secs "$2" '
    def r(x): x * 100 | round / 100;
    if $a.mark_n <= 0 then "no batches" else
      "\($a.mark_n) batches (one per \(r($secs * 1000 / $a.mark_n)) ms), \(r($a.relayed / $a.mark_n)) events each; \($a.fetch_n) fetches, mean \(r($a.fetch_s * 1000 / $a.fetch_n)) ms; publish (projecting the batch) mean \(r($a.send_s * 1000 / $a.mark_n)) ms; marks mean \(r($a.mark_s * 1000 / $a.mark_n)) ms"
    end'
}

# Where an event's time goes, per stage, from the processes' histograms (names: see stage_text).
STAGES=(ordinal_relay_event_age_seconds ordinal_kafka_publish_duration_seconds
  ordinal_projection_lag_seconds ordinal_projection_batch_duration_seconds)
stage_snapshots() {  # relay-port projector-port
  local name port
  for name in "${STAGES[@]}"; do
    port=$1; [[ $name == ordinal_projection* ]] && port=$2
    printf '%s\t%s\n' "$name" "$(hist_snapshot "$port" "$name")"
  done
}
stage_text() {  # after-file before-file
  local name out=''
  for name in "${STAGES[@]}"; do
    out+="${name#ordinal_} p50 / p99 ≤ $(hist_text "$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$1")" \
      "$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$2")") ms; "
  done
  echo "${out%; }"
}

# Runs loadgen with ARGS, its result going to R[SETUP-KEY]; on Kafka, what the relay did meanwhile
# to R[SETUP-KEY-publish]; the stage histograms' p50 / p99 over the run to R[SETUP-KEY-stages].
load_run() {  # setup bus key loadgen-args...
  local setup=$1 bus=$2 key=$3 before='' t0=${EPOCHREALTIME/./} relay_port projector_port
  shift 3
  if [[ $bus == local ]]; then
    relay_port=${PORTS[$setup-all]}; projector_port=$relay_port
  else
    relay_port=${PORTS[$setup-relay]}; projector_port=${PORTS[$setup-projector]}
  fi
  [[ $bus == local ]] || before=$(publish_snapshot "$relay_port")
  stage_snapshots "$relay_port" "$projector_port" >"$WORK/stages-$setup-$key-before"
  R[$setup-$key]=$(loadgen "$@")
  alive_all
  stage_snapshots "$relay_port" "$projector_port" >"$WORK/stages-$setup-$key-after"
  R[$setup-$key-stages]=$(stage_text "$WORK/stages-$setup-$key-after" "$WORK/stages-$setup-$key-before")
  if [[ $bus != local ]]; then
    R[$setup-$key-publish]=$(publish_text "$(publish_snapshot "$relay_port")" "$before" \
      "$(( (${EPOCHREALTIME/./} - t0) / 1000 ))e-3")
  fi
}

# ---------------------------------------------------------------------------------------------
# One setup: the loads, then the relay backlog

run_setup() {  # setup bus
  local setup=$1 bus=$2 half samples before pending_now expected start_us res
  for db in "w_$setup" "r_$setup"; do psql_db postgres -c "CREATE DATABASE $db" >/dev/null; done
  if [[ $bus == local ]]; then
    start_role "$setup-all" api,relay,projector local "$setup"
  else
    start_kafka_roles "$setup-" "$bus" "$setup"
  fi

  # The lag of a lightly loaded system first, on fresh tables (this run also creates the products).
  local setup_flag=()
  if (( LOW_RATE > 0 )); then
    log "$setup: read-your-writes, open loop at $LOW_RATE/s, 16 connections"
    load_run "$setup" "$bus" low --scenario read-your-writes --connections 16 --rate "$LOW_RATE" \
      --duration "$DURATION" --warmup "$WARMUP"
    settle "$setup" low >/dev/null
    setup_flag=(--skip-setup)
  fi

  log "$setup: create-order, closed loop, $CONNECTIONS connections, ${WARMUP} s + ${DURATION} s"
  load_run "$setup" "$bus" closed "${setup_flag[@]}" --scenario create-order --connections "$CONNECTIONS" \
    --rate 0 --duration "$DURATION" --warmup "$WARMUP"
  R[$setup-closed-settle]=$(settle "$setup" closed)

  half=$(jq -r '(.ok_per_s // 0) / 2 | floor' <<<"${R[$setup-closed]}")
  (( half > 0 )) || die "$setup: the closed loop completed nothing"
  log "$setup: read-your-writes, open loop at $half/s, $RYW_CONNECTIONS connections"
  load_run "$setup" "$bus" ryw --skip-setup --scenario read-your-writes --connections "$RYW_CONNECTIONS" \
    --rate "$half" --duration "$DURATION" --warmup "$WARMUP"
  settle "$setup" ryw >/dev/null

  if (( MID_RATE > 0 )); then
    log "$setup: read-your-writes, open loop at $MID_RATE/s, $RYW_CONNECTIONS connections"
    load_run "$setup" "$bus" mid --skip-setup --scenario read-your-writes --connections "$RYW_CONNECTIONS" \
      --rate "$MID_RATE" --duration "$DURATION" --warmup "$WARMUP"
    settle "$setup" mid >/dev/null
  fi

  # The relay backlog: the relay stopped, orders placed, the relay started again.
  if [[ $bus == local ]]; then
    stop_role "$setup-all"
    start_role "$setup-api" api local "$setup"
    local relay_name=$setup-relay-projector relay_roles=relay,projector
  else
    stop_role "$setup-relay"
    local relay_name=$setup-relay relay_roles=relay
  fi
  # Open-loop chunks aimed at what is still missing (the api alone may be much faster or slower
  # than with the relay beside it), until the backlog is within 5 % of BACKLOG_ORDERS.
  log "$setup: relay stopped; placing ~$BACKLOG_ORDERS orders at up to $BACKLOG_RATE/s"
  pending_now=$(status | jq -r '.outbox.pending')
  local rounds=0
  while (( pending_now < BACKLOG_ORDERS * 95 / 100 )); do
    (( ++rounds <= 10 )) || die "$setup: no backlog of $BACKLOG_ORDERS after 10 rounds (pending $pending_now)"
    local want=$((BACKLOG_ORDERS - pending_now)) secs
    secs=$(( (want + BACKLOG_RATE - 1) / BACKLOG_RATE ))
    loadgen --skip-setup --scenario create-order --connections "$CONNECTIONS" --rate "$((want / secs))" \
      --duration "$secs" --warmup 0 >/dev/null
    alive_all
    pending_now=$(status | jq -r '.outbox.pending')
  done
  before=$(status | jq -r '.projection.streams')
  expected=$(written_streams "$setup")
  samples=$WORK/drain-$setup.txt
  log "$setup: backlog $pending_now events; starting the relay ($relay_roles)"
  # The clock starts as the process starts: its start-up is in the "wall time" figures.
  start_us=${EPOCHREALTIME/./}
  launch_role "$relay_name" "$relay_roles" "$bus" "$setup"
  sample_drain "$expected" 120 "$start_us" >"$samples"
  alive_all
  res=$(drain_summary "$samples" "$pending_now" "$before")
  R[$setup-drain]=$res
  if [[ $bus != local ]]; then
    R[$setup-drain-publish]=$(publish_text "$(publish_snapshot "${PORTS[$relay_name]}")" '{}' "$(jq .drained_s <<<"$res")")
  else
    R[$setup-drain-relay]=$(relay_text "$(publish_snapshot "${PORTS[$relay_name]}")" "$(jq .drained_s <<<"$res")")
  fi
  log "$setup: $(jq -c . <<<"$res")"
  echo "$res" >>"$WORK/results.jsonl"
  stop_all
}

declare -A R=()
run_setup a local
run_setup b "$KAFKA_URL"

# ---------------------------------------------------------------------------------------------
# The broker's own limit, same cluster, same topic shape, same durability: Kafka's
# ProducerPerformance (kafka-producer-perf-test) with acks=all and idempotence, records the size of
# Ordinal's event envelopes (the average value size of what B's relay published).
log "measuring the event envelope size (ConsoleConsumer, up to 2000 messages of $TOPIC)"
ENVELOPE_BYTES=$(kafka_tool kafka.tools.ConsoleConsumer --bootstrap-server "$BOOTSTRAP" --topic "$TOPIC" \
  --from-beginning --max-messages 2000 --timeout-ms 20000 2>>"$WORK/kafka-tools.log" |
  LC_ALL=C awk '{ n++; b += length($0) } END { if (n) printf "%d", b / n }' || true)
[[ -n $ENVELOPE_BYTES ]] || { log "no envelope read back; using 500 bytes"; ENVELOPE_BYTES=500; }
log "kafka-producer-perf-test: $PERF_RECORDS records of $ENVELOPE_BYTES bytes, acks=all, idempotence"
PERF_ARGS=(--topic "$PERF_TOPIC" --num-records "$PERF_RECORDS" --record-size "$ENVELOPE_BYTES" --throughput -1
  --producer-props "bootstrap.servers=$BOOTSTRAP" acks=all enable.idempotence=true linger.ms=1)
kafka_tool org.apache.kafka.tools.ProducerPerformance "${PERF_ARGS[@]}" >"$WORK/perf.out" 2>>"$WORK/kafka-tools.log" ||
  log "ProducerPerformance failed: $(tail -n 5 "$WORK/kafka-tools.log")"
# Its last line: "N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency,
# P50 ms 50th, P95 ms 95th, P99 ms 99th, P999 ms 99.9th."
PERF=$(tail -n 1 "$WORK/perf.out" | awk -F', ' '/records sent/ {
  split($2, r, " "); split($3, a, " "); split($4, m, " "); split($5, p50, " "); split($7, p99, " ")
  printf "{\"eps\":%s,\"avg_ms\":%s,\"max_ms\":%s,\"p50_ms\":%s,\"p99_ms\":%s}\n", r[1], a[1], m[1], p50[1], p99[1] }')
[[ -n $PERF ]] || PERF='{}'
log "producer baseline: $PERF"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------
# Report

both() {  # jq-expression-over-a-result key-suffix formatter
  printf '%s | %s' "$($3 "${R[a-$2]}" "$1")" "$($3 "${R[b-$2]}" "$1")"
}
verdict_lag() {  # ryw json
  jq -r --argjson t "$LAG_TARGET_MS" 'if (.visible_us.p99 // null) == null then "n/a"
    elif .visible_us.p99 / 1000 < $t and (.missed // 0) == 0 and (.errors // 0) == 0 then "**PASS**" else "**FAIL**" end' <<<"$1"
}
ratio() { jq -rn --argjson a "$1" --argjson b "$2" 'if $a > 0 and $b > 0 then $a / $b * 100 | round / 100 | tostring else "n/a" end'; }
num() { jq -r "($1) // 0" <<<"$2"; }
settle_text() { jq -r '"\(.left) events, caught up \(.settled_s * 10 | round / 10) s after the load"' <<<"$1"; }
drain_text() { jq -r 'if .relay_eps == null then "n/a" else (.relay_eps | round | tostring) end' <<<"$1"; }
wall_text() { jq -r '[.drained_s, .projected_s] | map(if . == null then "n/a" else (. * 100 | round / 100 | tostring) end) | join(" / ")' <<<"$1"; }
low_rows() {
  (( LOW_RATE > 0 )) || return 0
  # Each row starts with its newline: with LOW_RATE=0 the table gets no empty line.
  printf '\n| read-your-writes at %s orders/s, 16 conns, first run on fresh tables: ack p50 / p99 ms | %s / %s | %s / %s |' "$LOW_RATE" \
    "$(ms "${R[a-low]}" .latency_us.p50)" "$(ms "${R[a-low]}" .latency_us.p99)" "$(ms "${R[b-low]}" .latency_us.p50)" "$(ms "${R[b-low]}" .latency_us.p99)"
  printf '\n| … ack → visible p50 / p99 / p99.9 ms | %s / %s / %s | %s / %s / %s |' \
    "$(ms "${R[a-low]}" .visible_us.p50)" "$(ms "${R[a-low]}" .visible_us.p99)" "$(ms "${R[a-low]}" .visible_us.p999)" \
    "$(ms "${R[b-low]}" .visible_us.p50)" "$(ms "${R[b-low]}" .visible_us.p99)" "$(ms "${R[b-low]}" .visible_us.p999)"
  printf '\n| … errors / missed | %s / %s | %s / %s |' \
    "$(field "${R[a-low]}" .errors)" "$(field "${R[a-low]}" .missed)" "$(field "${R[b-low]}" .errors)" "$(field "${R[b-low]}" .missed)"
}
mid_rows() {
  (( MID_RATE > 0 )) || return 0
  printf '\n| read-your-writes at %s orders/s, %s conns: ack p50 / p99 ms | %s / %s | %s / %s |' "$MID_RATE" "$RYW_CONNECTIONS" \
    "$(ms "${R[a-mid]}" .latency_us.p50)" "$(ms "${R[a-mid]}" .latency_us.p99)" "$(ms "${R[b-mid]}" .latency_us.p50)" "$(ms "${R[b-mid]}" .latency_us.p99)"
  printf '\n| … ack → visible p50 / p99 / p99.9 ms | %s / %s / %s | %s / %s / %s |' \
    "$(ms "${R[a-mid]}" .visible_us.p50)" "$(ms "${R[a-mid]}" .visible_us.p99)" "$(ms "${R[a-mid]}" .visible_us.p999)" \
    "$(ms "${R[b-mid]}" .visible_us.p50)" "$(ms "${R[b-mid]}" .visible_us.p99)" "$(ms "${R[b-mid]}" .visible_us.p999)"
  printf '\n| … achieved rate / errors / missed | %s / %s / %s | %s / %s / %s |' \
    "$(rate "${R[a-mid]}" .ok_per_s)" "$(field "${R[a-mid]}" .errors)" "$(field "${R[a-mid]}" .missed)" \
    "$(rate "${R[b-mid]}" .ok_per_s)" "$(field "${R[b-mid]}" .errors)" "$(field "${R[b-mid]}" .missed)"
}
proj_text() { jq -r 'if .projection_eps == null then "n/a" else (.projection_eps | round | tostring) end' <<<"$1"; }

cat <<EOF
## Kafka bus next to the in-process bus ($(date -u +%Y-%m-%dT%H:%M:%SZ))

$(machine_table "$WORK")
| PostgreSQL | $(psql_db postgres -c "SHOW server_version"), same machine, durable (fsync, synchronous_commit, full_page_writes on); $(psql_db postgres -c "SHOW shared_buffers") shared_buffers |
| Kafka | Apache Kafka 3.7.2 (\`tests/scripts/kafka_test_server.sh start DIR --brokers $BROKERS\`, KRaft, each node broker + controller, one JVM each on this machine, data on local disk); topic $TOPIC: $PARTITIONS partitions, replication factor $REPLICATION, min.insync.replicas $(( REPLICATION >= 3 ? 2 : 1 )); Ordinal's producer: librdkafka $(dpkg-query -W -f='${Version}' librdkafka1 2>/dev/null || echo "n/a"), acks=all, idempotence, linger.ms=1, socket.nagle.disable; relay: \`--relay-in-flight\` batches of ≤ 512 events out at once (default 4; \`SERVE_ARGS\` may set it); SERVE_ARGS: \`${SERVE_ARGS:-none}\`, KAFKA_PROPS: \`${KAFKA_PROPS:-none}\` |
| load average before / after | $LOAD_BEFORE / $LOAD_AFTER |
| loadgen | same machine, $(field "${R[a-closed]}" .threads) threads; ${WARMUP} s warm-up + ${DURATION} s per run |

| | A: in-process bus | B: Kafka bus |
|---|---|---|
| processes | 1: \`--roles api,relay,projector --bus local\` | 3: \`--roles api\`, \`--roles relay\`, \`--roles projector\`, \`--bus kafka://…/$TOPIC\` |
| max create-order rate, closed loop, $CONNECTIONS conns (ok/s) | $(both .ok_per_s closed rate) |
| … its ack p50 / p99 ms | $(ms "${R[a-closed]}" .latency_us.p50) / $(ms "${R[a-closed]}" .latency_us.p99) | $(ms "${R[b-closed]}" .latency_us.p50) / $(ms "${R[b-closed]}" .latency_us.p99) |
| … its errors | $(both .errors closed field) |
| … outbox left when the load stopped | $(settle_text "${R[a-closed-settle]}") | $(settle_text "${R[b-closed-settle]}") |
| read-your-writes, open loop at half that rate (orders/s) | $(both .target_rate ryw rate) |
| … ack p50 / p99 ms (from intended send) | $(ms "${R[a-ryw]}" .latency_us.p50) / $(ms "${R[a-ryw]}" .latency_us.p99) | $(ms "${R[b-ryw]}" .latency_us.p50) / $(ms "${R[b-ryw]}" .latency_us.p99) |
| … **ack → visible with its token, p50 / p99 ms** | **$(ms "${R[a-ryw]}" .visible_us.p50) / $(ms "${R[a-ryw]}" .visible_us.p99)** | **$(ms "${R[b-ryw]}" .visible_us.p50) / $(ms "${R[b-ryw]}" .visible_us.p99)** |
| … ack → visible p90 / p99.9 / max ms | $(ms "${R[a-ryw]}" .visible_us.p90) / $(ms "${R[a-ryw]}" .visible_us.p999) / $(ms "${R[a-ryw]}" .visible_us.max) | $(ms "${R[b-ryw]}" .visible_us.p90) / $(ms "${R[b-ryw]}" .visible_us.p999) / $(ms "${R[b-ryw]}" .visible_us.max) |
| … orders read back / errors / missed / consistency_timeout 503 | $(field "${R[a-ryw]}" .ok) / $(field "${R[a-ryw]}" .errors) / $(field "${R[a-ryw]}" .missed) / $(field "${R[a-ryw]}" .consistency_timeout_503) | $(field "${R[b-ryw]}" .ok) / $(field "${R[b-ryw]}" .errors) / $(field "${R[b-ryw]}" .missed) / $(field "${R[b-ryw]}" .consistency_timeout_503) |
| p99 ack → visible < $LAG_TARGET_MS ms at half the max rate | $(verdict_lag "${R[a-ryw]}") | $(verdict_lag "${R[b-ryw]}") |$(low_rows)$(mid_rows)
| relay backlog (events; relay stopped, orders placed) | $(both .backlog drain field) |
| **relay throughput (events/s), outbox drained** | **$(drain_text "${R[a-drain]}")** | **$(drain_text "${R[b-drain]}")** |
| projection throughput (events/s), read model complete | $(proj_text "${R[a-drain]}") | $(proj_text "${R[b-drain]}") |
| wall time from relay start: outbox empty / read model complete (s) | $(wall_text "${R[a-drain]}") | $(wall_text "${R[b-drain]}") |

**Relay next to the broker's own limit** (same cluster, topic $PERF_TOPIC of the same shape, same run):

| | events/s | latency |
|---|---|---|
| \`kafka-producer-perf-test\` (ProducerPerformance 3.7.2): $PERF_RECORDS records of $ENVELOPE_BYTES bytes (the average envelope B's relay published), acks=all, enable.idempotence=true, linger.ms=1, unthrottled | $(jq -r '.eps // "n/a" | if type == "number" then round else . end' <<<"$PERF") | send → ack avg $(jq -r '.avg_ms // "n/a"' <<<"$PERF") ms, p50 $(jq -r '.p50_ms // "n/a"' <<<"$PERF") ms, p99 $(jq -r '.p99_ms // "n/a"' <<<"$PERF") ms, max $(jq -r '.max_ms // "n/a"' <<<"$PERF") ms |
| Ordinal's relay (B), draining its backlog from PostgreSQL | $(drain_text "${R[b-drain]}") | see the relay batches below |
| **relay ÷ producer** (goal ≥ 0.8) | **$(ratio "$(num .relay_eps "${R[b-drain]}")" "$(num .eps "$PERF")")** | |

- Kafka ÷ in-process, one run: max rate **$(ratio "$(num .ok_per_s "${R[b-closed]}")" "$(num .ok_per_s "${R[a-closed]}")")**, relay events/s **$(ratio "$(num .relay_eps "${R[b-drain]}")" "$(num .relay_eps "${R[a-drain]}")")**, ack → visible p99 **$(ratio "$(num .visible_us.p99 "${R[b-ryw]}")" "$(num .visible_us.p99 "${R[a-ryw]}")")**.
- Kafka relay batches (its /metrics, \`ordinal_kafka_publish_duration_seconds\`: produce → last delivery report): during read-your-writes at half the max rate ${R[b-ryw-publish]:-n/a}; at $LOW_RATE/s ${R[b-low-publish]:-n/a}; draining the backlog (time from the relay's start) ${R[b-drain-publish]:-n/a}.
- In-process relay (A) draining the backlog (its /metrics): ${R[a-drain-relay]:-n/a}.
- Where the time goes (histograms of the processes, over each load; \`relay_event_age\`: command → hand-over to the bus, \`kafka_publish_duration\`: produce → last delivery report, \`projection_lag\`: command → projection commit, \`projection_batch_duration\`: one read-store transaction; bucket upper bounds): B at half the max rate: ${R[b-ryw-stages]:-n/a}; B at $LOW_RATE/s: ${R[b-low-stages]:-n/a}; B at $MID_RATE/s: ${R[b-mid-stages]:-n/a}; A at half its max rate: ${R[a-ryw-stages]:-n/a}.
- For the relay step A runs \`--roles api\` + \`--roles relay,projector\` (the in-process bus needs relay and projector together), so its relay figure includes projecting each batch; B's relay only publishes, its projector consumes in parallel.
EOF
