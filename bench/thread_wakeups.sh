#!/usr/bin/env bash
# Wake-ups and CPU per second of each named thread of Ordinal's processes, over SECONDS, beside a
# running bench/run_lag.sh or run_kafka.sh: reads the pids from WORK/ports (name, port, pid) and
# sums /proc's counters by process and thread name (docs/operations.md, "Which thread is busy").
#
#   bench/thread_wakeups.sh WORK [SECONDS]     e.g. WORK=$(ls -td /tmp/ordinal-lag.* | head -1)
#
# Wake-ups are voluntary context switches (a thread going to sleep to wait), CPU is utime+stime.
# Prints a Markdown table, busiest first.
set -euo pipefail
# shellcheck source=bench/bench_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
work=${1:?usage: bench/thread_wakeups.sh WORK [SECONDS]}
seconds=${2:-10}
ticks=$(getconf CLK_TCK)

snapshot() {
  local name port pid task
  while read -r name port pid; do
    [[ -d /proc/$pid ]] || continue
    for task in /proc/"$pid"/task/*; do
      printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$(tr ' ' _ <"$task/comm")" "${task##*/}" \
        "$(awk '/^voluntary_ctxt_switches/ {print $2}' "$task/status")" "$(task_cpu_ticks "$task")"
    done 2>/dev/null || true
  done <"$work/ports"
}

before=$(snapshot)
sleep "$seconds"
after=$(snapshot)
echo "| process | thread | threads | wake-ups/s | CPU ms/s |"
echo "|---|---|---|---|---|"
awk -F'\t' -v s="$seconds" -v t="$ticks" '
  NR == FNR { w0[$1 FS $2 FS $3] = $4; c0[$1 FS $2 FS $3] = $5; next }
  ($1 FS $2 FS $3) in w0 {
    k = $1 FS $2; n[k]++
    w[k] += ($4 - w0[$1 FS $2 FS $3]) / s
    c[k] += ($5 - c0[$1 FS $2 FS $3]) * 1000 / t / s
  }
  END { for (k in n) if (w[k] >= 1 || c[k] >= 1) { split(k, p, FS); printf "| %s | %s | %d | %.0f | %.0f |\n", p[1], p[2], n[k], w[k], c[k] } }
' <(echo "$before") <(echo "$after") | sort -t'|' -k5 -n -r
