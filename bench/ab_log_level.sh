#!/bin/bash
# A/B: the same binary with the per-command/per-event info lines (--log-level info, default) and
# without them (--log-level warn), alternated, closed loop, embedded profile.
B=${1:-build/release}
for round in 1 2; do
  for level in info warn; do
    d=$(mktemp -d /tmp/trbench.XXXX)
    $B/ordinal serve --listen 127.0.0.1:18955 --data-dir $d/data --log-level $level > $d/server.log 2>&1 &
    pid=$!
    for i in $(seq 50); do curl -sf localhost:18955/healthz >/dev/null && break; sleep 0.1; done
    out=$($B/bench/loadgen --target 127.0.0.1:18955 --connections 32 --duration 8 --warmup 2 --json 2>/dev/null | tail -1)
    echo "round $round level $level $out" | cut -c1-400
    echo "  log lines: $(wc -l < $d/server.log)"
    kill $pid; wait $pid 2>/dev/null
    rm -rf $d
  done
done
