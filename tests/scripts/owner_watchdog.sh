# Sourced by the test server scripts. watch_owner SCRIPT DIR: when OWNER_PID is set, a detached
# watchdog runs `SCRIPT stop DIR` once that process has ended, unless DIR is gone first (the
# owner stopped it). A test that crashes, or that CTest kills at its timeout, runs no destructor:
# without this its servers (a broker's JVM holds half a gigabyte) outlive it, on their ports.
watch_owner() {
  [[ -n "${OWNER_PID:-}" ]] || return 0
  setsid bash -c '
    while kill -0 "$1" 2>/dev/null; do
      [[ -e "$3" ]] || exit 0
      sleep 1
    done
    [[ -e "$3" ]] && bash "$2" stop "$3"
    rmdir "$(dirname "$3")" 2>/dev/null  # the test'"'"'s scratch folder, when nothing else is in it
    exit 0' _ "$OWNER_PID" "$1" "$2" </dev/null >/dev/null 2>&1 &
}
