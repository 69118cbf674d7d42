#!/usr/bin/env bash
# The relay on Apache Kafka next to its physical limits, from one run: where its time goes.
# Prints a Markdown report.
#
#   bench/run_relay.sh VARIANT [VARIANT...]
#   VARIANT: NAME|BUILD_DIR[|SERVE_ARGS[|KAFKA_PROPS]], e.g. "base|/tmp/base" "new|build/release"
#            "new-if8|build/release|--relay-in-flight 8" "new-l5|build/release||linger.ms=5"
#
# Starts a throwaway durable PostgreSQL (the settings of bench/run_postgres.sh) and a throwaway
# Apache Kafka cluster of BROKERS nodes (default 1; topics of PARTITIONS partitions, replication
# 3 with 3+ nodes). Places BACKLOG_ORDERS orders through an api-only `ordinal serve` (no relay),
# so the outbox holds a backlog, and keeps that database as a template. Then ROUNDS times:
#   - for each variant, on a copy of the template (CREATE DATABASE … TEMPLATE): a relay-only
#     `ordinal serve --roles relay --bus kafka://…` drains the backlog; events/s from its
#     /metrics (ordinal_relay_events_published_total, polled every 50 ms, from the first event
#     out to the last), its fetch / produce / mark times per batch, and the CPU time the relay
#     process, PostgreSQL and the broker(s) spent per 1,000 events;
#   - the limits, same run, same broker, same PostgreSQL:
#       kafka-producer-perf-test (ProducerPerformance, the Java client): BACKLOG events of the
#         relay's average envelope size, acks=all, enable.idempotence=true, linger.ms=1;
#       bench/kafka_raw, librdkafka with Ordinal's producer properties and keys like the relay's:
#         unthrottled, and in the relay's shape (batches of 512, RAW_IN_FLIGHT awaiting reports);
#       the outbox read + mark straight against PostgreSQL (pgbench, one client, on a copy of the
#         template): the relay's own fetch statement, then its marking statement for what it
#         fetched, until the backlog is gone — 2,048 a round with the mark committed
#         asynchronously (the relay's shape now), and 512 with a durable mark (its shape before).
# PERF=1 also records each relay with `perf record -g` during its drain and puts the top of
# `perf report` (round 1) under the table.
#
# Knobs: BACKLOG_ORDERS=20000 ROUNDS=2 BROKERS=1 PARTITIONS=6 REPLICATION= RAW_IN_FLIGHT=4
# LIMIT_PROPS= (producer properties given to both limits as well, e.g. compression.type=lz4 when a
# variant's KAFKA_PROPS compress) PERF=0 PG_SETTINGS BENCH_TMPDIR KAFKA_CLASSPATH_FILE KEEP_WORK=1
# KAFKA_WARMUP=60 (bench_roles.sh). About 2 minutes a round, and a minute of warm-up.
set -euo pipefail
BENCH_NAME=run_relay
# shellcheck source=bench/bench_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
# shellcheck source=bench/bench_roles.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_roles.sh"

(( $# >= 1 )) || die "usage: bench/run_relay.sh NAME|BUILD_DIR[|SERVE_ARGS[|KAFKA_PROPS]] ..."
VARIANTS=("$@")
BACKLOG_ORDERS=${BACKLOG_ORDERS:-20000}
ROUNDS=${ROUNDS:-2}
BROKERS=${BROKERS:-1}
PARTITIONS=${PARTITIONS:-6}
REPLICATION=${REPLICATION:-$(( BROKERS >= 3 ? 3 : 1 ))}
RAW_IN_FLIGHT=${RAW_IN_FLIGHT:-4}
PERF=${PERF:-0}
LIMIT_PROPS=${LIMIT_PROPS:-}  # producer properties added to both limits, e.g. compression.type=lz4
TOPIC=ordinal-events
PERF_TOPIC=ordinal-perf
OUTBOX_PARTITIONS=16  # ordinal serve's default --outbox-partitions
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KAFKA_SCRIPT=$REPO/tests/scripts/kafka_test_server.sh
export KAFKA_CLASSPATH_FILE=${KAFKA_CLASSPATH_FILE:-$REPO/build/kafka-broker/classpath}
KAFKA_TOOL_OPTS=${KAFKA_TOOL_OPTS:-"-Xms64m -Xmx512m -XX:+UseSerialGC -Dlog4j.configuration=file:/dev/null"}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}

part() { local IFS='|'; read -r -a _p <<<"$1"; echo "${_p[$2]:-}"; }
for v in "${VARIANTS[@]}"; do
  [[ -x $(part "$v" 1)/ordinal ]] || die "$(part "$v" 1)/ordinal not found (build first)"
done
FIRST_BUILD=$(part "${VARIANTS[0]}" 1)
LOADGEN=$FIRST_BUILD/bench/loadgen
KAFKA_RAW=""
for v in "${VARIANTS[@]}"; do
  [[ -x $(part "$v" 1)/bench/kafka_raw ]] && { KAFKA_RAW=$(part "$v" 1)/bench/kafka_raw; break; }
done
PGBENCH=${PGBENCH:-$(ls -d /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -n 1)}
ensure_command jq
ensure_command curl
ensure_command java
[[ -x $LOADGEN ]] || die "$LOADGEN not found"
[[ -x $PGBENCH ]] || die "pgbench not found"
[[ -s $KAFKA_CLASSPATH_FILE ]] || die "no Kafka classpath in $KAFKA_CLASSPATH_FILE (make deps-test)"

make_work ordinal-relay
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
start_postgres "$WORK/pg"
start_kafka "$TOPIC" "$PERF_TOPIC"
ADMIN_TOKEN=$(cat /proc/sys/kernel/random/uuid)
ORDINAL=$FIRST_BUILD/ordinal warm_kafka "$TOPIC"
broker_cpu_ticks() { local s=0 p; for p in $(kafka_pids); do s=$((s + $(pid_cpu_ticks "$p"))); done; echo "$s"; }
ticks_ms() { echo $(( $1 * 1000 / CLK_TCK )); }

# ---------------------------------------------------------------------------------------------
# The backlog, once: an api-only process places orders; the relay never runs on this database.
ORDINAL=$FIRST_BUILD/ordinal
for db in w_tpl r_tpl; do psql_db postgres -c "CREATE DATABASE $db" >/dev/null; done
start_role tpl-api api local tpl
log "placing ~$BACKLOG_ORDERS orders (api only, the outbox fills)"
setup_flag=()
for _ in $(seq 20); do
  pending=$(psql_db w_tpl -c "SELECT COUNT(*) FROM outbox_pending")
  (( pending < BACKLOG_ORDERS )) || break
  loadgen "${setup_flag[@]}" --scenario create-order --connections 64 --rate 0 --duration 5 --warmup 0 >/dev/null
  setup_flag=(--skip-setup)
done
stop_all
psql_db w_tpl -c "VACUUM ANALYZE" >/dev/null
psql_db postgres -c "CHECKPOINT" >/dev/null
BACKLOG=$(psql_db w_tpl -c "SELECT COUNT(*) FROM outbox_pending")
log "backlog: $BACKLOG events"

clone() { psql_db postgres -c "CREATE DATABASE $1 TEMPLATE w_tpl" >/dev/null; }
drop() { psql_db postgres -c "DROP DATABASE IF EXISTS $1" >/dev/null; }

# One relay-only process draining a copy of the backlog; prints a JSON line.
drain() {  # round index variant
  local round=$1 i=$2 spec=$3 db="v$2r$1" name metrics t0 tf='' vf=0 td='' now v c0 p0 k0 perf_pid=''
  local build serve_args props
  build=$(part "$spec" 1) serve_args=$(part "$spec" 2) props=$(part "$spec" 3)
  clone "w_$db"
  psql_db postgres -c "CREATE DATABASE r_$db" >/dev/null
  ORDINAL=$build/ordinal SERVE_ARGS=$serve_args
  name=relay-$db
  p0=$(pg_cpu_ticks "$WORK/pg/data"); k0=$(broker_cpu_ticks)
  t0=${EPOCHREALTIME/./}
  launch_role "$name" relay "kafka://$BOOTSTRAP/$TOPIC${props:+?$props}" "$db"
  c0=0
  while :; do
    now=${EPOCHREALTIME/./}
    v=$(curl -fsS "http://127.0.0.1:${PORTS[$name]}/metrics" 2>/dev/null |
      awk '/^ordinal_relay_events_published_total / { print $2 }' || true)
    v=${v:-0}; v=${v%.*}
    if [[ -z $tf && $v -gt 0 ]]; then
      tf=$now vf=$v
      if [[ $PERF == 1 ]]; then
        perf record -q -F 999 -p "${PIDS[$name]}" -o "$WORK/perf-$db.data" >/dev/null 2>&1 &
        perf_pid=$!
      fi
    fi
    if (( v >= BACKLOG )); then td=$now; break; fi
    (( now - t0 < 180000000 )) || { log "$db: not drained after 180 s ($v of $BACKLOG)"; break; }
    kill -0 "${PIDS[$name]}" 2>/dev/null || die "$name died: $(tail -n 20 "$WORK/$name.log")"
    sleep 0.05
  done
  if [[ -n $perf_pid ]]; then kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" 2>/dev/null || true; fi
  c0=$(pid_cpu_ticks "${PIDS[$name]}")
  local pg_ms broker_ms relay_ms
  pg_ms=$(ticks_ms $(( $(pg_cpu_ticks "$WORK/pg/data") - p0 )))
  broker_ms=$(ticks_ms $(( $(broker_cpu_ticks) - k0 )))
  relay_ms=$(ticks_ms "$c0")
  metrics=$(curl -fsS "http://127.0.0.1:${PORTS[$name]}/metrics" 2>/dev/null || true)
  stop_role "$name"
  if [[ $PERF == 1 && -s $WORK/perf-$db.data ]]; then
    perf report -i "$WORK/perf-$db.data" --sort dso,sym --percent-limit 1.5 --stdio 2>/dev/null |
      grep -E '^ +[0-9.]+%' | sed -E 's/nlohmann::json_abi_v[0-9_]+::/nlohmann::/g; s/<[^ ]*>//g' | cut -c1-150 | head -n 25 >"$WORK/perf-$db.txt" || true
    perf report -i "$WORK/perf-$db.data" --sort dso --stdio 2>/dev/null |
      grep -E '^ +[0-9.]+%' | head -n 8 >"$WORK/perf-dso-$db.txt" || true
  fi
  drop "w_$db"; drop "r_$db"
  awk -v name="$(part "$spec" 0)" -v db="$db" -v backlog="$BACKLOG" -v tf="$tf" -v vf="$vf" -v td="$td" \
    -v relay_ms="$relay_ms" -v pg_ms="$pg_ms" -v broker_ms="$broker_ms" '
    /^ordinal_relay_fetch_duration_seconds_sum / { fs = $2 } /^ordinal_relay_fetch_duration_seconds_count / { fn = $2 }
    /^ordinal_relay_send_duration_seconds_sum / { ss = $2 } /^ordinal_relay_send_duration_seconds_count / { sn = $2 }
    /^ordinal_relay_mark_duration_seconds_sum / { ms = $2 } /^ordinal_relay_mark_duration_seconds_count / { mn = $2 }
    /^ordinal_kafka_publish_duration_seconds_sum / { ps = $2 } /^ordinal_kafka_publish_duration_seconds_count / { pn = $2 }
    END {
      eps = (td != "" && td > tf) ? (backlog - vf) / ((td - tf) / 1e6) : 0
      printf "{\"name\":\"%s\",\"db\":\"%s\",\"eps\":%.1f,\"seconds\":%.3f,\"fetches\":%d,\"fetch_ms\":%.2f,\"batches\":%d,\"produce_ms\":%.2f,\"marks\":%d,\"mark_ms\":%.2f,\"publish_ms\":%.2f,\"relay_cpu_ms_per_k\":%.1f,\"pg_cpu_ms_per_k\":%.1f,\"broker_cpu_ms_per_k\":%.1f}\n",
        name, db, eps, (td - tf) / 1e6, fn, fn ? fs * 1000 / fn : 0, sn, sn ? ss * 1000 / sn : 0,
        mn, mn ? ms * 1000 / mn : 0, pn ? ps * 1000 / pn : 0,
        relay_ms * 1000 / backlog, pg_ms * 1000 / backlog, broker_ms * 1000 / backlog }' <<<"$metrics"
}

# The average size of the envelopes the relay published (Kafka's ConsoleConsumer, 2,000 of them).
envelope_bytes() {
  kafka_tool kafka.tools.ConsoleConsumer --bootstrap-server "$BOOTSTRAP" --topic "$TOPIC" \
    --from-beginning --max-messages 2000 --timeout-ms 20000 2>>"$WORK/kafka-tools.log" |
    LC_ALL=C awk '{ n++; b += length($0) } END { if (n) printf "%d", b / n }' || true
}

producer_perf() {  # bytes
  local out k0 t0 t1
  k0=$(broker_cpu_ticks)
  kafka_tool org.apache.kafka.tools.ProducerPerformance --topic "$PERF_TOPIC" --num-records "$BACKLOG" \
    --record-size "$1" --throughput -1 --producer-props "bootstrap.servers=$BOOTSTRAP" acks=all \
    enable.idempotence=true linger.ms=1 $LIMIT_PROPS >"$WORK/perf.out" 2>>"$WORK/kafka-tools.log" || true
  out=$(tail -n 1 "$WORK/perf.out" | awk -F', ' '/records sent/ { split($2, r, " "); split($3, a, " "); printf "%s %s", r[1], a[1] }')
  jq -nc --argjson eps "${out% *}" --argjson avg "${out#* }" --argjson k "$(( ($(broker_cpu_ticks) - k0) * 1000 / CLK_TCK ))" \
    --argjson n "$BACKLOG" '{eps: $eps, avg_ms: $avg, broker_cpu_ms_per_k: ($k * 1000 / $n)}' 2>/dev/null || echo '{}'
}

raw_producer() {  # bytes batch
  [[ -n $KAFKA_RAW ]] || { echo '{}'; return; }
  local args=() p
  for p in "${ORDINAL_PRODUCER_PROPS[@]}" $LIMIT_PROPS; do args+=(--property "$p"); done
  run_json "$KAFKA_RAW" --brokers "$BOOTSTRAP" --topic "$PERF_TOPIC" --records "$BACKLOG" \
    --record-size "$1" --keys "$BACKLOG_ORDERS" --batch "$2" --in-flight "$RAW_IN_FLIGHT" "${args[@]}"
}

# The relay's fetch and mark statements (src/adapters/postgres/pg_write_rows.cpp), N events a
# round, one client, straight against PostgreSQL: N = 512 with a durable mark (one batch, as the
# relay marked before this branch), N = 2048 with the mark committing asynchronously (what the
# relay does now: one fetch per 4 batches, the batches confirmed together marked in one commit
# that does not wait for its WAL flush).
raw_sql() {  # n synchronous_commit
  cat <<SQL
SET synchronous_commit = $2;
SELECT e.seq, e.event_id::text, e.stream_type, e.stream_id, e.version, e.type, e.occurred_at, e.causation_id, e.schema_version, e.data, e.traceparent, e.tracestate FROM outbox_pending p JOIN events e ON e.seq = p.seq WHERE p.stream_hash % $OUTBOX_PARTITIONS = ANY('{$(seq -s, 0 $((OUTBOX_PARTITIONS - 1)))}'::bigint[]) ORDER BY p.seq LIMIT $1;
WITH b AS (SELECT seq FROM outbox_pending ORDER BY seq LIMIT $1), marked AS (DELETE FROM outbox_pending WHERE seq IN (SELECT seq FROM b)) UPDATE relay_state SET published_seq = GREATEST(published_seq, (SELECT COALESCE(MAX(seq), 0) FROM b)) WHERE id = 1;
SQL
}
raw_sql 512 on >"$WORK/outbox_raw_512.sql"
raw_sql 2048 off >"$WORK/outbox_raw_2048.sql"
pg_raw() {  # round n
  local db="pgraw$1x$2" out tps p0 t0 t1
  clone "$db"
  p0=$(pg_cpu_ticks "$WORK/pg/data")
  t0=${EPOCHREALTIME/./}
  out=$("$PGBENCH" -n -M prepared -c 1 -t $(( BACKLOG / $2 )) -f "$WORK/outbox_raw_$2.sql" "$PG_BASE/$db" 2>&1) ||
    { log "pgbench failed: $(tail -n 3 <<<"$out")"; drop "$db"; echo '{}'; return; }
  t1=${EPOCHREALTIME/./}
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -n 1)
  jq -nc --argjson tps "${tps:-0}" --argjson n "$2" --argjson p "$(ticks_ms $(( $(pg_cpu_ticks "$WORK/pg/data") - p0 )))" \
    --argjson events "$(( BACKLOG / $2 * $2 ))" --argjson us "$(( t1 - t0 ))" \
    '{eps: ($tps * $n), wall_eps: ($events / $us * 1e6), pg_cpu_ms_per_k: ($p * 1000 / $events)}'
  drop "$db"
}

declare -A RES=()
ENVELOPE=''
for round in $(seq "$ROUNDS"); do
  order=("${!VARIANTS[@]}")
  # Every other round in reverse order, so no variant always runs first.
  (( round % 2 == 1 )) || order=($(printf '%s\n' "${order[@]}" | tac))
  for i in "${order[@]}"; do
    log "round $round: relay $(part "${VARIANTS[$i]}" 0) draining $BACKLOG events"
    RES[$round-$i]=$(drain "$round" "$i" "${VARIANTS[$i]}")
    log "  ${RES[$round-$i]}"
    echo "${RES[$round-$i]}" >>"$WORK/results.jsonl"
  done
  if [[ -z $ENVELOPE ]]; then
    ENVELOPE=$(envelope_bytes)
    [[ -n $ENVELOPE ]] || { log "no envelope read back; using 500 bytes"; ENVELOPE=500; }
  fi
  log "round $round: the limits (envelopes of $ENVELOPE bytes)"
  RES[$round-perf]=$(producer_perf "$ENVELOPE"); log "  producer-perf-test ${RES[$round-perf]}"
  RES[$round-raw]=$(raw_producer "$ENVELOPE" 0); log "  kafka_raw ${RES[$round-raw]}"
  RES[$round-rawb]=$(raw_producer "$ENVELOPE" 512); log "  kafka_raw 512 ${RES[$round-rawb]}"
  RES[$round-pg]=$(pg_raw "$round" 2048); log "  pg raw 2048 ${RES[$round-pg]}"
  RES[$round-pg512]=$(pg_raw "$round" 512); log "  pg raw 512 ${RES[$round-pg512]}"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

r2() { jq -rn --argjson a "${1:-0}" --argjson b "${2:-0}" 'if $a > 0 and $b > 0 then $a / $b * 100 | round / 100 | tostring else "n/a" end'; }
eps() { jq -r '.eps // 0 | round' <<<"${1:-{\}}"; }
cat <<EOF
## Relay next to its limits ($START)

\`bench/run_relay.sh $(printf '"%s" ' "${VARIANTS[@]}")\` with BACKLOG_ORDERS=$BACKLOG_ORDERS ($BACKLOG events) ROUNDS=$ROUNDS BROKERS=$BROKERS PARTITIONS=$PARTITIONS REPLICATION=$REPLICATION RAW_IN_FLIGHT=$RAW_IN_FLIGHT LIMIT_PROPS=\`${LIMIT_PROPS:-none}\`; envelopes of $ENVELOPE bytes; load average before / after: $LOAD_BEFORE / $LOAD_AFTER; $(nproc) CPUs; Apache Kafka 3.7.2, librdkafka $(dpkg-query -W -f='${Version}' librdkafka1 2>/dev/null || echo "n/a").

| round | what | events/s | ÷ producer-perf-test | ÷ kafka_raw 512×$RAW_IN_FLIGHT | ÷ PostgreSQL read+mark (2,048) | per batch: fetch / produce / mark / acks ms (fetches, batches) | CPU ms per 1,000 events: process / PostgreSQL / broker |
|---|---|---|---|---|---|---|---|
EOF
for round in $(seq "$ROUNDS"); do
  perf_eps=$(eps "${RES[$round-perf]}") rawb_eps=$(eps "${RES[$round-rawb]}") pg_eps=$(eps "${RES[$round-pg]}")
  for i in "${!VARIANTS[@]}"; do
    j=${RES[$round-$i]}
    echo "| $round | relay \`$(part "${VARIANTS[$i]}" 0)\` | **$(eps "$j")** | **$(r2 "$(eps "$j")" "$perf_eps")** | $(r2 "$(eps "$j")" "$rawb_eps") | $(r2 "$(eps "$j")" "$pg_eps") | $(jq -r '"\(.fetch_ms) / \(.produce_ms) / \(.mark_ms) / \(.publish_ms) (\(.fetches), \(.batches))"' <<<"$j") | $(jq -r '"\(.relay_cpu_ms_per_k) / \(.pg_cpu_ms_per_k) / \(.broker_cpu_ms_per_k)"' <<<"$j") |"
  done
  echo "| $round | kafka-producer-perf-test (Java, no keys, acks=all, idempotence, linger.ms=1) | $perf_eps | 1 | | | send → ack avg $(jq -r '.avg_ms // "n/a"' <<<"${RES[$round-perf]}") ms | – / – / $(jq -r '.broker_cpu_ms_per_k // "n/a" | . * 10 | round / 10' <<<"${RES[$round-perf]}") |"
  echo "| $round | kafka_raw unthrottled (librdkafka, Ordinal's properties, keyed) | $(eps "${RES[$round-raw]}") | $(r2 "$(eps "${RES[$round-raw]}")" "$perf_eps") | | | | |"
  echo "| $round | kafka_raw 512 × $RAW_IN_FLIGHT in flight (the relay's shape) | $rawb_eps | $(r2 "$rawb_eps" "$perf_eps") | 1 | | batch acks p50 / p99 $(jq -r '"\(.batch_p50_ms // "n/a") / \(.batch_p99_ms // "n/a")"' <<<"${RES[$round-rawb]}") ms | |"
  echo "| $round | PostgreSQL: the relay's fetch of 2,048 + one mark of them (synchronous_commit off), pgbench 1 client | $pg_eps | $(r2 "$pg_eps" "$perf_eps") | | 1 | | – / $(jq -r '.pg_cpu_ms_per_k // "n/a" | . * 10 | round / 10' <<<"${RES[$round-pg]}") / – |"
  echo "| $round | PostgreSQL: the relay's fetch + mark of 512 (durable), pgbench 1 client | $(eps "${RES[$round-pg512]}") | $(r2 "$(eps "${RES[$round-pg512]}")" "$perf_eps") | | | | – / $(jq -r '.pg_cpu_ms_per_k // "n/a" | . * 10 | round / 10' <<<"${RES[$round-pg512]}") / – |"
done
if [[ $PERF == 1 ]]; then
  for i in "${!VARIANTS[@]}"; do
    f=$WORK/perf-v${i}r1.txt
    [[ -s $f ]] || continue
    printf '\n`perf report` of relay `%s`, round 1 (self time by library, then by symbol ≥ 1.5 %%):\n\n```\n' "$(part "${VARIANTS[$i]}" 0)"
    cat "$WORK/perf-dso-v${i}r1.txt" 2>/dev/null || true
    echo
    cat "$f"
    printf '```\n'
  done
fi
