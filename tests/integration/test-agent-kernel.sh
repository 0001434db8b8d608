#!/bin/sh
# test-agent-kernel.sh - nvo-agent's kernel dataplane end to end, in
# namespaces (deploy/lab-lib.sh), through the REST API:
#   1. kernel hypervisors k1, k2 (and two OVS hypervisors o1, o2 when the
#      controller has the OVS southbound) in one network: every pair pings;
#   2. VM stop removes its FDB entry elsewhere; migration k2 -> k3 re-points
#      it, and traffic follows;
#   3. kill -9 of k1's agent: the kernel keeps forwarding; the restarted
#      agent changes nothing (same ifindexes, same FDB, no changes applied);
#   4. controller restart: agents reconnect, nothing is flushed.
# Exit 0 = pass.  Cleans up everything it made (lab_cleanup on EXIT).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -f "$top/deploy/lab-lib.sh" ]; then
    echo "SKIP: needs deploy/lab-lib.sh (branch lab) and the REST API"
    exit 77
fi
. "$top/deploy/lab-lib.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

lab_init "ta$$" "$(mktemp -d /tmp/nvo-test-agent.XXXXXX)" || exit 1
trap lab_cleanup EXIT
# Quick heartbeats so silence is noticed fast in this test.
CTL_ARGS="--agent-heartbeat=500 --agent-timeout=3000"
LAB_AGENT_ARGS="--heartbeat-interval=500 --heartbeat-timeout=3000 --backoff-max=1000"
export LAB_AGENT_ARGS

with_ovs=0
if [ -f "$top/controller/ovs-sb.c" ] \
   && ! grep -q PLACEHOLDER "$top/controller/ovs-sb.c"; then
    with_ovs=1
fi

lab_underlay_up || fail "underlay"
lab_controller_start $CTL_ARGS || fail "controller"
lab_kernel_hv_add k1 192.0.2.21 || fail "k1"
lab_kernel_hv_add k2 192.0.2.22 || fail "k2"
lab_kernel_hv_add k3 192.0.2.23 || fail "k3"
vms="vm1 vm2"
lab_vm_add k1 vm1 02:00:00:00:01:01 10.9.0.1/24 || fail "vm1"
lab_vm_add k2 vm2 02:00:00:00:01:02 10.9.0.2/24 || fail "vm2"
if [ $with_ovs = 1 ]; then
    lab_ovs_hv_add o1 192.0.2.31 || fail "o1"
    lab_ovs_hv_add o2 192.0.2.32 || fail "o2"
    lab_vm_add o1 vm3 02:00:00:00:01:03 10.9.0.3/24 || fail "vm3"
    lab_vm_add o2 vm4 02:00:00:00:01:04 10.9.0.4/24 || fail "vm4"
    vms="$vms vm3 vm4"
fi

step "registration (agents are already connected and waiting)"
lab_register_network red 5001 || fail "network"
for hv in k1 k2 k3; do lab_register_hv $hv || fail "register $hv"; done
[ $with_ovs = 1 ] && { lab_register_hv o1 && lab_register_hv o2 || fail "register ovs"; }

wait_connected() { lab_wait_connected "$1" || fail "$1 not connected"; }
for hv in k1 k2 k3; do wait_connected $hv; done

for vm in $vms; do lab_start_vm $vm red >/dev/null || fail "start $vm"; done
nvx() { lab_hv_exec "$1" ip -o link show dev nvx5001; }
lab_hv_exec k1 ip -d link show dev nvx5001 | grep -q "vxlan id 5001 local 192.0.2.21.*dstport 4789 nolearning" \
    || fail "k1: nvx5001 attributes: $(lab_hv_exec k1 ip -d link show dev nvx5001)"
lab_hv_exec k1 ip -d link show dev nvx5001 | grep -q "mtu 1500" || fail "k1: nvx5001 MTU"
lab_hv_exec k1 ip -o link show dev v-vm1 | grep -q "master nvb5001" || fail "k1: vm1 not in nvb5001"
fdb() { lab_hv_exec "$1" bridge fdb show dev nvx5001 | grep dst | sort; }
fdb k1 | grep -q "02:00:00:00:01:02 dst 192.0.2.22" || fail "k1 fdb: $(fdb k1)"
fdb k1 | grep -q "00:00:00:00:00:00 dst 192.0.2.22" || fail "k1 flood: $(fdb k1)"

step "ping every pair ($vms)"
lab_ping_matrix $vms || fail "ping matrix"
# Full-size frames across the kernel VTEPs.
lab_vm_exec vm1 ping -q -c 2 -W 2 -M do -s 1472 10.9.0.2 >/dev/null \
    || fail "1500-byte frames vm1 -> vm2"

step "VM stop removes its FDB entry"
lab_stop_vm vm2 || fail "stop vm2"
fdb k1 | grep -q "02:00:00:00:01:02" && fail "k1 still has vm2: $(fdb k1)"
lab_hv_exec k2 ip -o link show dev nvx5001 >/dev/null 2>&1 \
    && fail "k2 still has nvx5001 with no VM left"
lab_start_vm vm2 red >/dev/null || fail "restart vm2"
fdb k1 | grep -q "02:00:00:00:01:02 dst 192.0.2.22" || fail "k1 lacks vm2 again"

step "migration k2 -> k3"
lab_migrate_vm vm2 k3 || fail "migrate vm2"
fdb k1 | grep -q "02:00:00:00:01:02 dst 192.0.2.23" || fail "k1 fdb after migration: $(fdb k1)"
fdb k1 | grep -q "dst 192.0.2.22" && fail "k1 still points at k2: $(fdb k1)"
# The first packets toward a new underlay peer wait for ARP: allow 5.
lab_ping vm1 10.9.0.2 5 || fail "vm1 -> vm2 after migration"

step "kill -9 of k1's agent: forwarding continues, restart changes nothing"
ifx_before=$(nvx k1 | cut -d: -f1)
ifb_before=$(lab_hv_exec k1 ip -o link show dev nvb5001 | cut -d: -f1)
fdb_before=$(fdb k1)
lab_agent_kill k1 KILL
lab_ping vm1 10.9.0.2 || fail "no forwarding with k1's agent dead"
log=$LAB_DIR/agent/k1/nvo-agent.log
n_before=$(grep -c "kernel changes applied" "$log")
lab_agent_start k1 || fail "restart k1 agent"
sleep 1
wait_connected k1
i=0
until grep -c "snapshot seq" "$log" | grep -qv '^1$'; do
    i=$((i + 1)); [ $i -gt 50 ] && fail "restarted agent got no snapshot"; sleep 0.1
done
[ "$(nvx k1 | cut -d: -f1)" = "$ifx_before" ] || fail "nvx5001 recreated"
[ "$(lab_hv_exec k1 ip -o link show dev nvb5001 | cut -d: -f1)" = "$ifb_before" ] \
    || fail "nvb5001 recreated"
[ "$(fdb k1)" = "$fdb_before" ] || fail "FDB changed: $(fdb k1)"
[ "$(grep -c "kernel changes applied" "$log")" = "$n_before" ] \
    || fail "restarted agent applied changes: $(tail -5 "$log")"
lab_ping vm1 10.9.0.2 || fail "vm1 -> vm2 after agent restart"

step "controller restart: agents reconnect, nothing flushed"
lab_controller_stop || fail "controller stop"
lab_ping vm1 10.9.0.2 || fail "no forwarding with the controller down"
lab_controller_start $CTL_ARGS || fail "controller restart"
for hv in k1 k3; do wait_connected $hv; done
[ "$(nvx k1 | cut -d: -f1)" = "$ifx_before" ] || fail "nvx5001 recreated"
[ "$(fdb k1)" = "$fdb_before" ] || fail "FDB changed after controller restart"
lab_ping_matrix $vms || fail "ping matrix after controller restart"
echo "PASS"
