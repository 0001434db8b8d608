#!/bin/sh
# test-ovs-restart.sh - restarts end in the desired state, without loss:
#  - controller restart during a continuous ping: no packet lost, nvo's
#    flows unchanged and not re-added (their durations keep counting);
#  - ovs-vswitchd restart (flows lost): nvo converges back, ping works;
#  - ovsdb-server away for a while, a VM starts meanwhile: once it returns
#    nvo converges and the new VM is reachable.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/ovs-test-lib.sh"

ovs_test_init tovr
ovs_test_two_hvs
lab_ping vm1 10.0.0.2 3 || die "no ping before the restarts"

# --- controller restart during a continuous ping
before1=$(nvo_flows hv1) before2=$(nvo_flows hv2)
sleep 2
d0=$(min_duration hv1) t0=$(date +%s)
ip netns exec "${P}vm1" ping -n -i 0.05 -c 100 10.0.0.2 >"$OVS_TEST_DIR/ping.out" 2>&1 &
pingpid=$!
sleep 1
lab_controller_stop || die "controller stop"
sleep 1
lab_controller_start || die "controller start"
wait_synced hv1 && wait_synced hv2 || die "not resynced after controller restart"
ok "controller restarted, both hypervisors confirmed again"
wait $pingpid
cat "$OVS_TEST_DIR/ping.out" | tail -2
check "continuous ping across the controller restart: 0% loss" \
    "grep -q ' 0% packet loss' '$OVS_TEST_DIR/ping.out'"
check "hv1's flows unchanged" "[ \"\$(nvo_flows hv1)\" = \"\$before1\" ]"
check "hv2's flows unchanged" "[ \"\$(nvo_flows hv2)\" = \"\$before2\" ]"
d1=$(min_duration hv1) t1=$(date +%s)
echo "min flow duration on hv1: ${d0}s before, ${d1}s after $((t1 - t0))s"
check "no flow re-added on hv1 (durations kept counting)" \
    "[ $d1 -ge $((d0 + t1 - t0 - 1)) ]"
grep -q "sending" "$LAB_DIR/ctl/nvo-controller.log" && \
    grep "switch holds" "$LAB_DIR/ctl/nvo-controller.log" | tail -2

# --- ovs-vswitchd restart on hv2
lab_ovs_restart_vswitchd hv2 || die "vswitchd restart"
i=0
until [ "$(nvo_flows hv2)" = "$before2" ] || [ $i -ge 100 ]; do
    sleep 0.1; i=$((i + 1))
done
check "hv2's flows back after ovs-vswitchd restart" \
    "[ \"\$(nvo_flows hv2)\" = \"\$before2\" ]"
check "hv2 synced after ovs-vswitchd restart" "wait_synced hv2"
check "vm1 pings vm2 after ovs-vswitchd restart" "lab_ping vm1 10.0.0.2 5"

# --- ovsdb-server away on hv1 while vm3 starts on hv2
lab_ovs_stop_ovsdb hv1 || die "ovsdb stop"
lab_vm_add hv2 vm3 02:00:00:00:01:03 10.0.0.3/24 || die vm3
body="{\"vm\":\"vm3\",\"network\":\"red\",\"hypervisor\":\"hv2\",\"mac\":\"02:00:00:00:01:03\",\"ip\":\"10.0.0.3\",\"iface\":\"v-vm3\"}"
lab_rest POST /v1/ports "$body" >/dev/null || die "POST vm3"
# Polled: the state leaves "connected" once the OVSDB connection's loss is
# noticed (at once here: the server closed it).
i=0
until [ "$(hv_field hv1 state)" != connected ] || [ $i -ge 100 ]; do
    sleep 0.1; i=$((i + 1))
done
st=$(hv_field hv1 state)
echo "hv1 while its ovsdb-server is away: $st"
check "hv1 not reported connected while its OVSDB is away" "[ '$st' != connected ]"
lab_ovs_start_ovsdb hv1 || die "ovsdb start"
check "hv1 synced once ovsdb-server is back" "wait_synced hv1 30"
check "vm1 pings vm3 (new while hv1's OVSDB was away)" "lab_ping vm1 10.0.0.3 5"
ovs_test_done
