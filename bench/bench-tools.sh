#!/bin/sh
# bench-tools.sh - the operator tools' figures, each beside a reference
# measured in the same run (real ovsdb-server/ovs-vswitchd in namespaces):
#
#  1. `nvoctl audit` of H OVS hypervisors (default 32) with V VMs each
#     (default 100) in N networks (default 10): wall time of the whole
#     command (connect, dump every switch, diff, name, render), beside the
#     floor: `ovs-ofctl -O OpenFlow13 dump-flows br-int` of every switch in
#     sequence.
#  2. `nvoctl status` with K registered hypervisors (default 1000): wall
#     time, beside the bare `curl GET /v1/status` it wraps.
#
# Each figure is the median of R runs (default 5).  Not part of CI (make
# bench runs it); prints the machine's load average before and after.
# Settings: BENCH_TOOLS_HVS, BENCH_TOOLS_VMS, BENCH_TOOLS_NETS,
# BENCH_TOOLS_K, BENCH_TOOLS_RUNS.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/deploy/lab-lib.sh"

H=${BENCH_TOOLS_HVS:-32}
V=${BENCH_TOOLS_VMS:-100}
N=${BENCH_TOOLS_NETS:-10}
K=${BENCH_TOOLS_K:-1000}
R=${BENCH_TOOLS_RUNS:-5}

[ "$(id -u)" = 0 ] || { echo "bench-tools: needs root"; exit 1; }
die() { echo "bench-tools: $*" >&2; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

dir=$(mktemp -d /tmp/nvo-bench-tools.XXXXXX)
lab_init "bt$$" "$dir" || die lab_init
trap 'lab_cleanup' EXIT
trap 'exit 1' INT TERM
echo "load average at start: $(load) ($(nproc) cores)"

lab_underlay_up || die underlay
lab_controller_start || die controller
t0=$(now_ms)
i=1
while [ $i -le "$H" ]; do
    lab_ovs_hv_add "hv$i" "192.0.2.$((10 + i))" >/dev/null || die "hv$i"
    # V veths left in the hypervisor's namespace stand for the VMs'
    # interfaces (nvo attaches one end to br-int).
    k=1
    while [ $k -le "$V" ]; do
        echo "link add b$k type veth peer name p$k"
        echo "link set b$k up"
        echo "link set p$k up"
        k=$((k + 1))
    done | ip -n "$(lab_ns "hv$i")" -batch - || die "veths on hv$i"
    i=$((i + 1))
done
echo "plumbing: $H OVS hypervisors, $((H * V)) VM interfaces in $(( $(now_ms) - t0 )) ms"

# The orchestrator: networks, hypervisors, ports (one curl, keep-alive).
cfg=$dir/post.cfg
entry() {
    printf 'url = "http://127.0.0.1:%s%s"\nrequest = "POST"\nheader = "Content-Type: application/json"\ndata-binary = "%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nnext\n' \
        "$LAB_REST_PORT" "$1" "$(echo "$2" | sed 's/"/\\"/g')"
}
{
    n=0
    while [ $n -lt "$N" ]; do
        entry /v1/networks "{\"name\":\"net$n\",\"vni\":$((6000 + n))}"
        n=$((n + 1))
    done
    i=1
    while [ $i -le "$H" ]; do
        ip=192.0.2.$((10 + i))
        entry /v1/hypervisors "{\"name\":\"hv$i\",\"tunnel_ip\":\"$ip\",\"dataplane\":\"ovs\",\"ovsdb\":\"tcp:$ip:6640\"}"
        i=$((i + 1))
    done
    i=1
    while [ $i -le "$H" ]; do
        k=1
        while [ $k -le "$V" ]; do
            mac=$(printf '02:00:00:%02x:%02x:%02x' "$i" $((k / 256)) $((k % 256)))
            entry /v1/ports "{\"vm\":\"vm$i-$k\",\"network\":\"net$((k % N))\",\"hypervisor\":\"hv$i\",\"mac\":\"$mac\",\"iface\":\"b$k\"}"
            k=$((k + 1))
        done
        i=$((i + 1))
    done
} >"$cfg"
sed -i '$d' "$cfg"             # no "next" after the last entry
t0=$(now_ms)
bad=$(ip netns exec "$LAB_CTL_NS" curl -sS -m 900 -K "$cfg" | grep -vc '^20[01]$')
[ "$bad" = 0 ] || die "$bad REST writes failed"
echo "store: $N networks, $H hypervisors, $((H * V)) ports written in $(( $(now_ms) - t0 )) ms"

# Every switch programmed: status says all in sync.
t0=$(now_ms)
until [ "$(lab_nvoctl --format=json status 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["in_sync"])')" = "$H" ]; do
    [ $(( $(now_ms) - t0 )) -lt 900000 ] || die "not every hypervisor in sync after 900 s"
    sleep 1
done
echo "in sync after $(( $(now_ms) - t0 )) ms more"

flows=0
i=1
while [ $i -le "$H" ]; do
    c=$(lab_ovs_ofctl "hv$i" dump-flows | grep -c cookie=)
    flows=$((flows + c))
    i=$((i + 1))
done
echo "the switches hold $flows flows in all"

# 1. nvoctl audit beside ovs-ofctl dump-flows of every switch in sequence.
: >"$dir/audit.ms"; : >"$dir/floor.ms"
r=0
while [ $r -lt "$R" ]; do
    t0=$(now_ms)
    lab_nvoctl --timeout=600 audit >"$dir/audit.out"
    rc=$?
    echo $(( $(now_ms) - t0 )) >>"$dir/audit.ms"
    [ $rc -eq 0 ] || { tail -n 3 "$dir/audit.out"; die "audit exit $rc (drift?)"; }
    t0=$(now_ms)
    i=1
    while [ $i -le "$H" ]; do
        lab_ovs_ofctl "hv$i" dump-flows >/dev/null || die "dump-flows hv$i"
        i=$((i + 1))
    done
    echo $(( $(now_ms) - t0 )) >>"$dir/floor.ms"
    r=$((r + 1))
done
tail -n 1 "$dir/audit.out"
a=$(median <"$dir/audit.ms"); f=$(median <"$dir/floor.ms")
echo "nvoctl audit, $H OVS hypervisors x $V VMs in $N networks ($flows flows): $a ms (median of $R)"
echo "  floor: ovs-ofctl dump-flows of every switch in sequence: $f ms (median of $R); ratio $(awk -v a="$a" -v f="$f" 'BEGIN { printf "%.2f", a / f }')"

# 2. nvoctl status with K registered hypervisors (the H above plus kernel
#    ones without agents).
{
    j=$((H + 1))
    while [ $j -le "$K" ]; do
        entry /v1/hypervisors "{\"name\":\"k$j\",\"tunnel_ip\":\"198.18.$((j / 250)).$((j % 250 + 1))\",\"dataplane\":\"kernel\"}"
        j=$((j + 1))
    done
} >"$cfg"
sed -i '$d' "$cfg"
bad=$(ip netns exec "$LAB_CTL_NS" curl -sS -m 900 -K "$cfg" | grep -vc '^20[01]$')
[ "$bad" = 0 ] || die "$bad hypervisor registrations failed"
: >"$dir/status.ms"; : >"$dir/curl.ms"
r=0
while [ $r -lt "$R" ]; do
    t0=$(now_ms)
    lab_nvoctl status >"$dir/status.out" || die "nvoctl status"
    echo $(( $(now_ms) - t0 )) >>"$dir/status.ms"
    t0=$(now_ms)
    ip netns exec "$LAB_CTL_NS" curl -sS -o /dev/null "http://127.0.0.1:$LAB_REST_PORT/v1/status" || die curl
    echo $(( $(now_ms) - t0 )) >>"$dir/curl.ms"
    r=$((r + 1))
done
head -n 1 "$dir/status.out"
echo "nvoctl status, $K registered hypervisors: $(median <"$dir/status.ms") ms (median of $R)"
echo "  reference: curl GET /v1/status alone: $(median <"$dir/curl.ms") ms (median of $R)"
echo "load average at end: $(load)"
