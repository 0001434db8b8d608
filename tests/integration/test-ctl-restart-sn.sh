#!/bin/sh
# test-ctl-restart-sn.sh - a controller restart leaves a service-node
# network's dataplane alone (found by the chaos suite: the restarted
# controller took every service node for dead until its agent reconnected,
# removed the OVS tunnels to it and re-pointed the flooding, then put them
# back: pings were lost):
#  - kill -9 and restart: the OVS hypervisor's tunnel ports keep their
#    OVSDB rows (not deleted and re-added), its flows and the kernel
#    hypervisor's FDB do not change, the log shows no port removal;
#  - a service node whose agent does not come back is declared dead once
#    the start-up grace (--agent-timeout) is over, and its networks move.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/ovs-test-lib.sh"
[ -x "$top/agent/nvo-agent" ] || { echo "SKIP: nvo-agent not built"; exit 77; }

ovs_test_init tcrs
LAB_AGENT_ARGS="--heartbeat-interval=500 --heartbeat-timeout=3000 --backoff-max=1000"
export LAB_AGENT_ARGS
CTL_ARGS="--agent-heartbeat=500 --agent-timeout=3000"
lab_underlay_up || die underlay
# shellcheck disable=SC2086
lab_controller_start $CTL_ARGS || die controller
lab_ovs_hv_add o1 192.0.2.11 || die o1
lab_kernel_hv_add k1 192.0.2.21 || die k1
lab_kernel_hv_add s1 192.0.2.31 service-node || die s1
lab_vm_add o1 vm1 02:00:00:00:06:01 10.6.0.1/24 || die vm1
lab_vm_add k1 vm2 02:00:00:00:06:02 10.6.0.2/24 || die vm2
lab_register_network blue 6001 service-node || die blue
for hv in o1 k1 s1; do lab_register_hv $hv || die "register $hv"; done
lab_start_vm vm1 blue >/dev/null || die "start vm1"
lab_start_vm vm2 blue >/dev/null || die "start vm2"
for hv in o1 k1 s1; do wait_synced $hv 30 || die "$hv not synced"; done
lab_ping vm1 10.6.0.2 5 || die "no ping before the restart"

tunnels() {   # nvo's VXLAN tunnel interface on o1: _uuid and options
    lab_ovs_vsctl o1 --format=csv --data=bare --no-headings \
        --columns=_uuid,options find Interface type=vxlan | sort
}
flood() { lab_hv_exec k1 bridge fdb show dev nvx6001 | grep '^00:00:00:00:00:00' | sort; }
t0=$(tunnels) f0=$(nvo_flows o1) b0=$(flood)
echo "o1 tunnels before: $t0"
echo "k1 flooding before: $b0"
check "o1 has its flow-based VXLAN port" "echo \"\$t0\" | grep -q 'key=flow remote_ip=flow'"
check "o1 floods to the service node s1 (tun_dst)" \
    "echo \"\$f0\" | grep -q 'set_field:192.0.2.31->tun_dst,output:'"
n0=$(grep -c "removing port" "$LAB_DIR/ctl/nvo-controller.log")

lab_controller_stop KILL || die "kill -9 controller"
# shellcheck disable=SC2086
lab_controller_start $CTL_ARGS || die "controller restart"
for hv in o1 k1 s1; do wait_synced $hv 30 || die "$hv not synced after restart"; done
check "o1's tunnel ports kept their OVSDB rows" "[ \"\$(tunnels)\" = \"\$t0\" ]"
check "o1's flows unchanged" "[ \"\$(nvo_flows o1)\" = \"\$f0\" ]"
check "k1 floods to the same place" "[ \"\$(flood)\" = \"\$b0\" ]"
check "no port removed after the restart" \
    "[ \$(grep -c 'removing port' '$LAB_DIR/ctl/nvo-controller.log') -eq $n0 ]"
check "vm1 pings vm2 after the restart" "lab_ping vm1 10.6.0.2 3"

# A service node that does not come back: dead after the grace.
lab_agent_kill s1 KILL || die "kill s1's agent"
lab_controller_stop KILL || die "kill -9 controller"
# shellcheck disable=SC2086
lab_controller_start $CTL_ARGS || die "controller restart"
i=0
until grep -q "service node s1 did not connect within 3000 ms" \
        "$LAB_DIR/ctl/nvo-controller.log" || [ $i -ge 100 ]; do
    sleep 0.1; i=$((i + 1))
done
check "s1 declared dead after the start-up grace" \
    "grep -q 'service node s1 did not connect within 3000 ms' '$LAB_DIR/ctl/nvo-controller.log'"
i=0
until ! flood | grep -q 192.0.2.31 || [ $i -ge 100 ]; do
    sleep 0.1; i=$((i + 1))
done
check "k1 no longer floods blue to the dead service node" \
    "! flood | grep -q 192.0.2.31"
ovs_test_done
