#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time and prints one summary line per target. By default
# one after the other (the machine is shared); FUZZ_JOBS=N runs up to N targets side by side, each
# still for SECONDS (make test runs 2 on its 2 cores once every other test is done).
#
#   [FUZZ_JOBS=N] fuzz/run_fuzzers.sh BUILD_DIR SECONDS [TARGET...]      (default: every target)
#
# The checked-in seeds (fuzz/corpus/<target>) are read, never written: new inputs go to
# BUILD_DIR/corpus/<target>, which grows from run to run. A crash, leak, timeout or property
# violation leaves its input in BUILD_DIR/artifacts/<target>/ and the log in
# BUILD_DIR/logs/<target>.log; the script then exits non-zero after running the other targets.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:?usage: run_fuzzers.sh BUILD_DIR SECONDS [TARGET...]}"
seconds="${2:?usage: run_fuzzers.sh BUILD_DIR SECONDS [TARGET...]}"
shift 2
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fuzz_command_json fuzz_event_json fuzz_consistency_token fuzz_order_cursor fuzz_http_request)
fi

dict_of() {
  case "$1" in
    fuzz_command_json | fuzz_event_json) echo "$here/dict/json.dict" ;;
    fuzz_consistency_token | fuzz_order_cursor) echo "$here/dict/token.dict" ;;
    fuzz_http_request) echo "$here/dict/http.dict" ;;
  esac
}

# One target's run and its summary line; non-zero when it failed or is not built.
run_one() {
  local t=$1 bin="$build/$1" log rc runs secs cov per dict args
  if [ ! -x "$bin" ]; then
    echo "$t: not built ($bin)" >&2
    return 1
  fi
  mkdir -p "$build/corpus/$t" "$build/artifacts/$t" "$build/logs"
  log="$build/logs/$t.log"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$build/artifacts/$t/")
  dict="$(dict_of "$t")"
  [ -n "$dict" ] && args+=(-dict="$dict")
  "$bin" "${args[@]}" "$build/corpus/$t" "$here/corpus/$t" >"$log" 2>&1
  rc=$?
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  secs=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -oE 'in [0-9]+' | grep -oE '[0-9]+' | tail -1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1)
  per=""
  if [ -n "$runs" ] && [ -n "$secs" ] && [ "$secs" -gt 0 ]; then per=$((runs / secs)); fi
  if [ $rc -eq 0 ]; then
    echo "$t: ok, ${runs:-?} runs in ${secs:-?} s (${per:-?} exec/s), $cov"
  else
    echo "$t: FAILED (exit $rc) after ${runs:-?} runs; see $log and $build/artifacts/$t/" >&2
    grep -E 'ERROR|property violated|detail:|SUMMARY' "$log" | head -5 >&2
    return 1
  fi
}

jobs=${FUZZ_JOBS:-1}
failed=()
declare -A target_of
running=0
reap() {
  local pid rc=0
  wait -n -p pid || rc=$?
  [ $rc -eq 0 ] || failed+=("${target_of[$pid]}")
  running=$((running - 1))
}
for t in "${targets[@]}"; do
  while [ $running -ge "$jobs" ]; do reap; done
  run_one "$t" &
  target_of[$!]=$t
  running=$((running + 1))
done
while [ $running -gt 0 ]; do reap; done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzzing found problems in: ${failed[*]}" >&2
  exit 1
fi
