#!/bin/sh
# bench-agent.sh - the agent's kernel dataplane and protocol:
#  1. 50,000 FDB entries installed and removed through nvo-agent's netlink
#     code (bench/bench-agent), beside `bridge -batch` doing the same
#     entries on the same kind of device, both in private namespaces made
#     (and deleted) here;
#  2. size and encode/decode time of the snapshot of a hypervisor in 100
#     networks with 100 remote VMs each.
# Needs root (namespaces).  Usage: sh bench/bench-agent.sh [N]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${NVO_BUILD_DIR:-$top}/bench/bench-agent
n=${1:-50000}
[ -x "$bin" ] || { echo "bench-agent.sh: build first (make)"; exit 1; }
ns=nvobench$$
tmp=$(mktemp -d /tmp/nvo-bench-agent.XXXXXX)
cleanup() {
    ip netns del "${ns}a" 2>/dev/null || true
    ip netns del "${ns}b" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "${ns}a"
ip netns add "${ns}b"

ms() { date +%s%3N; }

# 1a. nvo-agent's netlink code.
set -- $(ip netns exec "${ns}a" "$bin" fdb "$n")
nvo_add=$1 nvo_dump=$2 nvo_del=$3

# 1b. bridge -batch with the same entries.
ip -n "${ns}b" link add nvb1 type bridge
ip -n "${ns}b" link add nvx1 type vxlan id 1 local 198.51.100.254 \
    dstport 4789 nolearning noudpcsum
ip -n "${ns}b" link set nvx1 master nvb1 up
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++)
    printf "fdb append 02:00:00:%02x:%02x:%02x dev nvx1 dst 198.51.100.%d self permanent\n",
           int(i / 65536) % 256, int(i / 256) % 256, i % 256, 1 + i % 100 }' \
    >"$tmp/add"
sed 's/^fdb append/fdb del/; s/ permanent$//' "$tmp/add" >"$tmp/del"
t0=$(ms); ip netns exec "${ns}b" bridge -batch "$tmp/add"; t1=$(ms)
got=$(ip netns exec "${ns}b" bridge fdb show dev nvx1 | grep -c ' dst ')
t2=$(ms); ip netns exec "${ns}b" bridge -batch "$tmp/del"; t3=$(ms)
[ "$got" -eq "$n" ] || { echo "bridge -batch installed $got of $n"; exit 1; }
br_add=$((t1 - t0)) br_del=$((t3 - t2))

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a <= 0) a = 0.1; printf "%.2f", b / a }'; }
echo "FDB entries: $n on one VXLAN device (private namespaces)"
printf "  install: nvo-agent netlink %8.1f ms   bridge -batch %6d ms   (bridge/nvo = %sx)\n" \
    "$nvo_add" "$br_add" "$(ratio "$nvo_add" "$br_add")"
printf "  remove:  nvo-agent netlink %8.1f ms   bridge -batch %6d ms   (bridge/nvo = %sx)\n" \
    "$nvo_del" "$br_del" "$(ratio "$nvo_del" "$br_del")"
printf "  dump of our devices and FDB (reconciliation read): %.1f ms\n" "$nvo_dump"

# 2. Snapshot encoding.
set -- $("$bin" snapshot)
echo "Snapshot, 100 networks x 100 remote VMs (+1 local VM each):"
printf "  frame size %d bytes (%.1f%% of the %d-byte frame limit)\n" \
    "$1" "$(awk -v a="$1" 'BEGIN { printf "%.1f", a * 100 / 4194304 }')" 4194304
printf "  encode %.2f ms   decode+validate (reference) %.2f ms\n" "$2" "$3"
