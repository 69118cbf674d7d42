#!/usr/bin/env bash
# `make test` on a fresh Debian 12, as the README promises: a minimal bookworm made by debootstrap
# (only make, git and ca-certificates besides the base), this checkout's HEAD cloned into root's
# home, and `.ci/run` run there as root. Whatever the Makefile forgets to install fails here,
# where the machine one develops on already has it.
#
#   tools/fresh-debian/run.sh [WORK]    WORK defaults to /var/tmp/ordinal-fresh-debian
#   TARGET=run tools/fresh-debian/run.sh  the README's other command: `make run` as it stands
#                                        (no ARGS), then its walk through with curl from
#                                        outside (tools/fresh-debian/walk_through.sh), then stop
#
# Needs root, debootstrap (apt-get install debootstrap) and the network. Prints make's
# output with a UTC time on every line, then `rc=N seconds=S`; exits with make's status (with
# TARGET=run, the walk-through's).
# KEEP=1 leaves the tree in WORK/root for a look (its mounts are removed either way).
# Only the machine's own provisioning is carried over: extra CA certificates
# (/usr/local/share/ca-certificates), ~/.npmrc, /etc/pip.conf and the CA variables of the
# environment, as a machine behind the same egress proxy would have them.
set -euo pipefail
[[ "$(id -u)" == 0 ]] || { echo "fresh-debian: run as root" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "fresh-debian: apt-get install debootstrap" >&2; exit 2; }
target=${TARGET:-test}
case $target in
  test) ;;
  run) for c in curl jq; do
         command -v "$c" >/dev/null || { echo "fresh-debian: TARGET=run needs $c on this host" >&2; exit 2; }
       done ;;
  *) echo "fresh-debian: TARGET is test or run, not '$target'" >&2; exit 2 ;;
esac

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(realpath -m "${1:-/var/tmp/ordinal-fresh-debian}")
root="$work/root"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

mounts_below() { findmnt -rn -o TARGET | awk -v r="$root" '$0 == r || index($0, r "/") == 1'; }

# Every process whose root is the tree (servers a failed test left), then the mounts, deepest
# first; the tree is deleted only once nothing is mounted below it.
cleanup() {
  for p in /proc/[0-9]*; do
    [[ "$(readlink "$p/root" 2>/dev/null)" == "$root" ]] && kill -9 "${p#/proc/}" 2>/dev/null
  done
  sleep 1
  # Deepest first; a mount hidden under another shows again once that one is gone.
  for _ in 1 2 3; do
    mounts_below | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    [[ -z "$(mounts_below)" ]] && break
  done
  if [[ -n "$(mounts_below)" ]]; then
    echo "fresh-debian: mounts left under $root; not deleting it" >&2
  elif [[ "${KEEP:-0}" != 1 ]]; then
    rm -rf --one-file-system "$work"
  fi
}
trap cleanup EXIT

mkdir -p "$work"
if [[ -n "$(mounts_below)" ]]; then
  echo "fresh-debian: $root still has mounts of an earlier run" >&2
  exit 1
fi
rm -rf --one-file-system "$root"
debootstrap --variant=minbase --include=make,git,ca-certificates bookworm "$root" "$mirror" \
  >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }

# The host's apt sources (suites and security updates as it has them), name resolution, and the
# provisioning named above.
if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
  cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
  rm -f "$root/etc/apt/sources.list"
fi
cp /etc/resolv.conf /etc/hosts "$root/etc/"
cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
chroot "$root" update-ca-certificates >/dev/null
[[ -f /root/.npmrc ]] && cp /root/.npmrc "$root/root/.npmrc"
[[ -f /etc/pip.conf ]] && cp /etc/pip.conf "$root/etc/pip.conf"

# The tree's own mount first (the others go on top of it): `ip netns add` makes / a slave mount in
# its new namespace, which fails where / is not a mount point.
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys"
mount --bind /dev "$root/dev"
mount -t devpts devpts "$root/dev/pts" -o newinstance,ptmxmode=0666
mount -t tmpfs tmpfs "$root/dev/shm"
mount -t tmpfs tmpfs "$root/run"  # ip netns keeps its namespaces under /run/netns

git clone -q "$repo" "$root/root/ordinal"
env_vars=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
          TERM=dumb CI=true LANG=C.UTF-8)
for v in NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE REQUESTS_CA_BUNDLE PIP_CERT \
         GIT_SSL_CAINFO; do
  [[ -n "${!v:-}" ]] && env_vars+=("$v=${!v}")
done

stamp() { while IFS= read -r line; do printf '%s %s\n' "$(date -u +%H:%M:%S)" "$line"; done; }
start=$(date +%s)
set +e
if [[ $target == test ]]; then
  chroot "$root" /usr/bin/env -i "${env_vars[@]}" /bin/bash -c 'cd /root/ordinal && bash .ci/run' 2>&1 | stamp
  rc=${PIPESTATUS[0]}
else
  # `make run` serves until stopped: it runs in the background (the cleanup kills every process
  # of the tree), and the README's curl walk through runs from outside once it answers.
  if curl -s --max-time 5 -o /dev/null "http://127.0.0.1:8080/"; then
    echo "fresh-debian: something already answers on 127.0.0.1:8080, where make run serves" >&2
    exit 1
  fi
  chroot "$root" /usr/bin/env -i "${env_vars[@]}" /bin/bash -c 'cd /root/ordinal && make run' \
    > >(stamp) 2>&1 &
  make_pid=$!
  disown "$make_pid"  # the cleanup kills it; no "Killed" line from this shell then
  rc=1
  for _ in $(seq 3600); do  # installs and a Release build first: up to an hour
    if curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:8080/healthz" 2>/dev/null; then
      "$repo/tools/fresh-debian/walk_through.sh" 8080 2>&1 | stamp
      rc=${PIPESTATUS[0]}
      break
    fi
    kill -0 "$make_pid" 2>/dev/null || { echo "fresh-debian: make run exited before serving"; break; }
    sleep 1
  done
  (( rc != 1 )) || curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:8080/healthz" 2>/dev/null ||
    echo "fresh-debian: nothing answered on 127.0.0.1:8080/healthz"
fi
set -e
echo "rc=$rc seconds=$(($(date +%s) - start))"
exit "$rc"
