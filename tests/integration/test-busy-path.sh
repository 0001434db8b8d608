#!/bin/sh
# test-busy-path.sh - pings between VMs lose nothing while unrelated VM
# ports come and go on the hypervisors they cross ("busy paths").
#
# Lab: OVS hypervisors hv1 and hv2, kernel hypervisor hv3 (nvo-agent);
# network red (VNI 5001) with vm1 (hv1), vm2 (hv2), vm3 (hv3), network
# blue (VNI 5002).  vm2 pings vm1 (OVS to OVS) and vm3 (OVS to kernel)
# every 20 ms while churn VMs are started and stopped on hv1 and, at the
# same time, on hv3, as an orchestrator does it: veth created, POST
# /v1/ports?wait=1, DELETE ?wait=1, veth deleted; half in red (the pinged
# network's BUM flows change), half in blue; and meanwhile interfaces nvo
# never attaches come and go there too.  Every request must be answered: a lost one is a
# gap in the replied icmp_seq (the pings run on for 1 s after the churn,
# so a request still in flight at the end is not counted).
#
# What it guards: by default ovs-vswitchd's userspace datapath re-reads
# the kernel's routing table on every link change in its namespace,
# flushing its routes and with them br-phy's tunnel-termination entry
# first, and a revalidation meanwhile turns the VXLAN flows into drops
# (doc/ovs-hypervisor.md).  The lab runs ovs-vswitchd with
# --disable-system-route and the underlay subnet as a user route; this
# test checks that setting is in place and that nothing is lost.  Run it
# with LAB_OVS_ROUTES=system to see the loss OVS's default setting causes
# (1-3 of ~800 pings in most runs here).
#
# Exit 0 = pass, 77 = skipped.  lab_cleanup on EXIT removes everything.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/ovs-test-lib.sh"
[ -x "$top/agent/nvo-agent" ] || { echo "SKIP: nvo-agent not built"; exit 77; }
N_CHURN=${NVO_BUSY_CHURN:-12}

ovs_test_init tbp
ovs_test_two_hvs
lab_kernel_hv_add hv3 192.0.2.13 || die hv3
lab_register_hv hv3 || die "hypervisor hv3"
lab_wait_connected hv3 || die "hv3 not connected"
lab_vm_add hv3 vm3 02:00:00:00:01:03 10.0.0.3/24 || die vm3
lab_start_vm vm3 red >/dev/null || die "start vm3"
lab_register_network blue 5002 || die "network blue"

lab_ping vm2 10.0.0.1 5 || die "vm2 does not reach vm1"
lab_ping vm2 10.0.0.3 5 || die "vm2 does not reach vm3"

# The lab's OVS setting: only the pinned user route, no system routes.
for h in hv1 hv2; do
    routes=$(lab_ovs_appctl $h ovs/route/show)
    if [ "$LAB_OVS_ROUTES" = pinned ]; then
        check "$h: underlay route pinned, no system routes mirrored" \
            "echo \"\$routes\" | grep -q '^User: 192.0.2.0/24 dev br-phy' &&
             ! echo \"\$routes\" | grep -q '^Cached:'"
    else
        echo "$h (LAB_OVS_ROUTES=$LAB_OVS_ROUTES): $routes"
    fi
done

# pinger DEST TAG: vm2 pings DEST every 20 ms until told to stop (SIGINT).
pinger() {
    ip netns exec "${LAB_PREFIX}vm2" ping -n -i 0.02 -W 1 "$1" \
        >"$LAB_DIR/ping.$2" 2>&1 &
    echo $! >"$LAB_DIR/ping.$2.pid"
}
# lost TAG: "LOST SENT" judged from the replies: every icmp_seq from 1 to
# the last one answered must have been answered.
lost() {
    python3 - "$LAB_DIR/ping.$1" <<'EOF'
import re, sys
seqs = set(int(m.group(1)) for m in
           re.finditer(r"bytes from .* icmp_seq=(\d+)", open(sys.argv[1]).read()))
top = max(seqs) if seqs else 0
print(top - len(seqs), top)
print("  unanswered icmp_seq:", sorted(set(range(1, top + 1)) - seqs),
      file=sys.stderr) if top != len(seqs) else None
EOF
}

pinger 10.0.0.1 ovs
pinger 10.0.0.3 kernel
sleep 1

# churn HV FIRST: VMs cFIRST.. (N_CHURN of them, red and blue by turns)
# started and stopped on HV one after the other; prints how many failed.
churn() {
    local _i _n _f _mac _ip _net
    _i=$2 _n=0 _f=0
    LAB_REST_TAG=.$1
    while [ $_n -lt "$N_CHURN" ]; do
        _n=$((_n + 1)) _i=$((_i + 1))
        if [ $((_n % 2)) = 0 ]; then _net=red _ip=10.0.0.$_i/24
        else _net=blue _ip=10.0.1.$_i/24; fi
        _mac=$(printf '02:00:00:00:02:%02x' $_i)
        { lab_vm_add "$1" c$_i "$_mac" "$_ip" && lab_start_vm c$_i $_net >/dev/null \
            && lab_stop_vm c$_i && ip -n "$LAB_PREFIX$1" link del v-c$_i; } \
            || { echo "churn c$_i on $1 ($_net) failed" >&2; _f=$((_f + 1)); }
    done
    echo $_f >"$LAB_DIR/churn.$1"
}

# links HV: meanwhile, interfaces that nvo never sees come and go on HV
# (a VM's veth made and removed before it was ever attached), 2 N_CHURN
# of them, each up for 0.1 s.
links() {
    local _n
    _n=0
    while [ $_n -lt $((2 * N_CHURN)) ]; do
        _n=$((_n + 1))
        ip -n "$LAB_PREFIX$1" link add x$_n type veth peer name y$_n \
            && ip -n "$LAB_PREFIX$1" link set x$_n up
        sleep 0.1
        ip -n "$LAB_PREFIX$1" link del x$_n
        sleep 0.1
    done
}

t0=$(date +%s.%N)
churn hv1 100 & c1=$!
churn hv3 150 & c3=$!
links hv1 & l1=$!
links hv3 & l3=$!
wait $c1 $c3 $l1 $l3
t1=$(date +%s.%N)
sleep 1
kill -INT "$(cat "$LAB_DIR/ping.ovs.pid")" "$(cat "$LAB_DIR/ping.kernel.pid")"
wait
nf=$(( $(cat "$LAB_DIR/churn.hv1") + $(cat "$LAB_DIR/churn.hv3") ))
check "$N_CHURN churn VMs started and stopped on hv1 and on hv3 at once ($(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s)" \
    "[ $nf = 0 ]"

set -- $(lost ovs)
lo=$1 so=$2
set -- $(lost kernel)
lk=$1 sk=$2
check "vm2 -> vm1 (OVS to OVS, churn on hv1): $lo of $so lost" "[ $so -gt 100 ] && [ $lo = 0 ]"
check "vm2 -> vm3 (OVS to kernel, churn on hv3): $lk of $sk lost" "[ $sk -gt 100 ] && [ $lk = 0 ]"

# A restarted ovs-vswitchd (upgrade, crash) forgets user routes: the lab
# pins the route again once br-phy has its IP back.
if [ "$LAB_OVS_ROUTES" = pinned ]; then
    lab_ovs_restart_vswitchd hv1 || die "restart hv1's ovs-vswitchd"
    check "hv1: underlay route pinned again after an ovs-vswitchd restart" \
        "lab_ovs_appctl hv1 ovs/route/show | grep -q '^User: 192.0.2.0/24 dev br-phy'"
fi
ovs_test_done
