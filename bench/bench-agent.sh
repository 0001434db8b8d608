#!/bin/sh
# bench-agent.sh - the agent's kernel dataplane and protocol:
#  1. 50,000 FDB entries installed and removed through nvo-agent's netlink
#     code (bench/bench-agent), beside `bridge -batch` doing the same
#     entries on the same kind of device, both in private namespaces made
#     (and deleted) here;
#  2. size and encode/decode time of the snapshot of a hypervisor in 100
#     networks with 100 remote VMs each;
#  3. that snapshot over the agent channel (lib/channel.c) on loopback,
#     TLS beside plain in the same run (rounds alternate), with a PKI made
#     here by ovs-pki: per snapshot (encode, send, reassemble, check,
#     decode, validate, ack) and per connection (until the accepting side
#     is open; TLS: both certificates verified).
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

# 3. The snapshot over the agent channel, TLS beside plain.
pki=$tmp/pki
mkdir -p "$pki"
ovs-pki --dir="$pki/pki" --force init >/dev/null 2>&1
(cd "$pki" && ovs-pki --dir="$pki/pki" -u req+sign ctl controller >/dev/null 2>&1 \
    && ovs-pki --dir="$pki/pki" -u req+sign hv switch >/dev/null 2>&1)
"$bin" channel "$pki" "${NVO_BENCH_ROUNDS:-100}" "${NVO_BENCH_HANDSHAKES:-200}" \
    >"$tmp/channel"
read -r _ p50 p90 pcpu ph50 ph90 phcpu bytes <<EOF2
$(grep '^plain ' "$tmp/channel")
EOF2
read -r _ t50 t90 tcpu th50 th90 thcpu _ <<EOF2
$(grep '^tls ' "$tmp/channel")
EOF2
echo "Snapshot over the agent channel (lib/channel.c, loopback, both ends in one process), $bytes-byte frame:"
printf "  plain:  median %7.2f ms  p90 %7.2f ms  CPU %6.2f ms/snapshot\n" "$p50" "$p90" "$pcpu"
printf "  TLS:    median %7.2f ms  p90 %7.2f ms  CPU %6.2f ms/snapshot   (TLS/plain: median %sx, CPU %sx; target <= 1.2x)\n" \
    "$t50" "$t90" "$tcpu" "$(ratio "$p50" "$t50")" "$(ratio "$pcpu" "$tcpu")"
echo "Connection set-up (until the accepting side is open), ovs-pki RSA-2048 certificates:"
printf "  plain TCP: median %6.2f ms  p90 %6.2f ms  CPU %5.2f ms\n" "$ph50" "$ph90" "$phcpu"
printf "  TLS:       median %6.2f ms  p90 %6.2f ms  CPU %5.2f ms   (mutual verification, TLS 1.3)\n" "$th50" "$th90" "$thcpu"
