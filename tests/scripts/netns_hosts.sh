#!/usr/bin/env bash
# Test hosts for partition tests: network namespaces on one private switch, made and removed by
# the test. Needs root and `ip` (iproute2); fails (never skips) without them.
#   netns_hosts.sh up DIR OWNER_PID NAME...  a switch namespace holding a bridge, one namespace per
#                                            NAME with a veth pair into the bridge, and a veth
#                                            pair from the caller's own namespace ("root"), all on
#                                            one random 10.213.X.0/24; writes DIR/hosts (NAME
#                                            NAMESPACE ADDRESS per line, root included). Leftovers
#                                            of earlier runs whose owner process is gone are
#                                            removed first.
#   netns_hosts.sh cut DIR NAME              takes NAME's port off the bridge: its packets go
#                                            nowhere, silently (a cable pulled past the switch:
#                                            both ends keep their link up and learn nothing)
#   netns_hosts.sh heal DIR NAME             puts the port back on the bridge
#   netns_hosts.sh isolate DIR NAME...       cuts the links between the named hosts only: their
#                                            ports become isolated bridge ports, which forward
#                                            nothing to each other (silently, as `cut` does) and
#                                            everything to the ports not isolated. The isolated
#                                            ports are one group: isolating more hosts later cuts
#                                            them from every host isolated before, too
#   netns_hosts.sh unisolate DIR NAME...     takes the named hosts out of the isolated group
#   netns_hosts.sh lossy DIR NAME PERCENT    drops PERCENT % of the packets to and from NAME, at
#                                            random (each direction on its own)
#   netns_hosts.sh lossless DIR NAME         stops dropping them
#   netns_hosts.sh down DIR                  kills every process left in the run's namespaces and
#                                            removes them (the caller's veth end goes with them)
#   netns_hosts.sh clean-stale               only the leftovers' removal
# Names of a run: namespaces ordpt-ID-NAME, links optIDhN (host side) and optIDsN (switch side),
# ID five hex digits; the owner's pid is kept in /run/ordinal-netns/ID.
# This kernel has no netem (sch_netem) qdisc, nor tc's drop action: loss is made with what it
# has (an htb qdisc whose classic-BPF filter sends a random share of the packets to a class whose
# pfifo holds none), and latency is not made here at all (tests/support/delay_proxy.h adds it).
set -euo pipefail

cmd=${1:-}
state_root=/run/ordinal-netns

die() {
  echo "netns_hosts: $*" >&2
  exit 1
}

[[ "$(id -u)" == 0 ]] || die "needs root (network namespaces)"
command -v ip >/dev/null || die "needs ip (iproute2)"

# Removes every namespace of run ID (killing the processes inside) and its owner record.
remove_run() {
  local id=$1 ns pid
  for ns in $(ip netns list | awk '{print $1}' | grep "^ordpt-$id-" || true); do
    for pid in $(ip netns pids "$ns" 2>/dev/null || true); do
      kill -9 "$pid" 2>/dev/null || true
    done
  done
  for ns in $(ip netns list | awk '{print $1}' | grep "^ordpt-$id-" || true); do
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -f "$state_root/$id"
}

# Runs whose owner process has exited (a crashed or killed test) are removed.
clean_stale() {
  local id owner
  mkdir -p "$state_root"
  for id in $(ip netns list | awk '{print $1}' | sed -n 's/^ordpt-\([0-9a-f]\{5\}\)-.*/\1/p' | sort -u); do
    owner=$(cat "$state_root/$id" 2>/dev/null || echo 0)
    if [[ "$owner" == 0 ]] || ! kill -0 "$owner" 2>/dev/null; then
      echo "netns_hosts: removing leftovers of run $id" >&2
      remove_run "$id"
    fi
  done
}

# An address answers when a TCP connection to a closed port is refused at once (no ping here);
# an address cut off lets the attempt time out.
reachable() {
  local rc=0
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/9" 2>/dev/null || rc=$?
  [[ $rc != 124 ]]
}

hosts_file() { echo "$1/hosts"; }

# Field of NAME in DIR/hosts: 2 = namespace, 3 = address, 4 = index.
field() {
  local dir=$1 name=$2 n=$3
  awk -v name="$name" -v n="$n" '$1 == name { print $n }' "$(hosts_file "$dir")"
}

run_id() { sed -n 's/^# run \([0-9a-f]*\)$/\1/p' "$(hosts_file "$1")"; }

switch_port() {
  local dir=$1 name=$2 idx
  idx=$(field "$dir" "$name" 4)
  [[ -n "$idx" ]] || die "no host $name in $dir"
  echo "opt$(run_id "$dir")s$idx"
}

case "$cmd" in
  up)
    dir=${2:?DIR}
    owner=${3:?OWNER_PID}
    shift 3
    [[ $# -ge 1 ]] || die "up: name at least one host"
    # Runs may start side by side (ctest -j): each picks its ID and its /24 and takes its address
    # on it under one lock, so two never pick the same.
    mkdir -p "$state_root"
    exec 9>"$state_root/lock"
    flock 9
    clean_stale
    mkdir -p "$dir"
    id=$(printf '%05x' $((RANDOM * 32 + RANDOM % 32)) | tail -c 5)
    while [[ -e "$state_root/$id" ]]; do id=$(printf '%05x' $((RANDOM * 32 + RANDOM % 32)) | tail -c 5); done
    # A /24 no interface here uses yet (another run's, or the machine's own).
    for _ in $(seq 1 50); do
      net=10.213.$((RANDOM % 250 + 1))
      ip -4 -o addr show | grep -q " $net\." || break
    done
    echo "$owner" >"$state_root/$id"
    sw=ordpt-$id-sw
    {
      ip netns add "$sw"
      ip -n "$sw" link set lo up
      ip -n "$sw" link add br0 type bridge
      ip -n "$sw" link set br0 up
    } || { remove_run "$id"; die "cannot make the switch namespace"; }
    {
      echo "# run $id"
      echo "root - $net.254 0"
    } >"$(hosts_file "$dir")"
    # The caller's own end: index 0, address .254.
    if ! {
      ip link add "opt${id}h0" type veth peer name "opt${id}s0" netns "$sw" &&
        ip addr add "$net.254/24" dev "opt${id}h0" && ip link set "opt${id}h0" up &&
        ip -n "$sw" link set "opt${id}s0" master br0 && ip -n "$sw" link set "opt${id}s0" up
    }; then
      remove_run "$id"
      die "cannot link the caller to the switch"
    fi
    flock -u 9
    i=0
    for name in "$@"; do
      i=$((i + 1))
      ns=ordpt-$id-$name
      if ! {
        ip netns add "$ns" && ip -n "$ns" link set lo up &&
          ip link add "opt${id}h$i" netns "$ns" type veth peer name "opt${id}s$i" netns "$sw" &&
          ip -n "$ns" addr add "$net.$i/24" dev "opt${id}h$i" &&
          ip -n "$ns" link set "opt${id}h$i" up &&
          ip -n "$sw" link set "opt${id}s$i" master br0 && ip -n "$sw" link set "opt${id}s$i" up
      }; then
        remove_run "$id"
        die "cannot make host $name"
      fi
      echo "$name $ns $net.$i $i" >>"$(hosts_file "$dir")"
    done
    # Every host answers before the test starts (the switch forwards).
    for name in "$@"; do
      reachable "$(field "$dir" "$name" 3)" ||
        { remove_run "$id"; die "host $name does not answer"; }
    done
    cat "$(hosts_file "$dir")"
    ;;
  cut)
    dir=${2:?DIR}
    ip -n "ordpt-$(run_id "$dir")-sw" link set "$(switch_port "$dir" "${3:?NAME}")" nomaster
    ;;
  heal)
    dir=${2:?DIR}
    ip -n "ordpt-$(run_id "$dir")-sw" link set "$(switch_port "$dir" "${3:?NAME}")" master br0
    ;;
  isolate | unisolate)
    dir=${2:?DIR}
    shift 2
    [[ $# -ge 1 ]] || die "$cmd: name at least one host"
    flag=$([[ "$cmd" == isolate ]] && echo on || echo off)
    for name in "$@"; do
      ip -n "ordpt-$(run_id "$dir")-sw" link set "$(switch_port "$dir" "$name")" \
        type bridge_slave isolated "$flag"
    done
    ;;
  lossy | lossless)
    dir=${2:?DIR}
    name=${3:?NAME}
    id=$(run_id "$dir")
    idx=$(field "$dir" "$name" 4)
    [[ -n "$idx" ]] || die "no host $name in $dir"
    # Both ends of the host's link: the switch's port (packets to the host) and the host's own
    # end (packets from it).
    ends=("-n ordpt-$id-sw opt${id}s$idx")
    if [[ "$name" == root ]]; then ends+=(" opt${id}h0"); else ends+=("-n ordpt-$id-$name opt${id}h$idx"); fi
    for end in "${ends[@]}"; do
      read -r -a where <<<"$end"
      dev=${where[-1]}
      unset 'where[-1]'
      tc "${where[@]}" qdisc del dev "$dev" root 2>/dev/null || true
      [[ "$cmd" == lossless ]] && continue
      pct=${4:?PERCENT}
      # Classic BPF: A = a random u32 (ancillary load); A >= (100 - PERCENT) % of 2^32 -> class
      # 1:20 (dropped: a pfifo of limit 0), else class 1:10 (sent).
      threshold=$(( (100 - pct) * 4294967296 / 100 ))
      prog="4,32 0 0 4294963256,53 0 1 $threshold,6 0 0 65568,6 0 0 65552"
      tc "${where[@]}" qdisc add dev "$dev" root handle 1: htb default 10 &&
        tc "${where[@]}" class add dev "$dev" parent 1: classid 1:10 htb rate 10gbit &&
        tc "${where[@]}" class add dev "$dev" parent 1: classid 1:20 htb rate 10gbit &&
        tc "${where[@]}" qdisc add dev "$dev" parent 1:20 handle 20: pfifo limit 0 &&
        tc "${where[@]}" filter add dev "$dev" parent 1: protocol all prio 1 bpf bytecode "$prog" ||
        die "cannot make $name's link lossy ($dev)"
    done
    ;;
  down)
    dir=${2:?DIR}
    id=$(run_id "$dir" 2>/dev/null || true)
    [[ -n "$id" ]] && remove_run "$id"
    rm -f "$(hosts_file "$dir")"
    ;;
  clean-stale)
    clean_stale
    ;;
  *)
    echo "usage: $0 up DIR OWNER_PID NAME... | cut|heal DIR NAME | isolate|unisolate DIR NAME... |" \
      "lossy DIR NAME PERCENT | lossless DIR NAME | down DIR | clean-stale" >&2
    exit 2
    ;;
esac
