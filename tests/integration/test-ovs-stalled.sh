#!/bin/sh
# test-ovs-stalled.sh - no switch waits for another: with hv3's
# ovsdb-server and ovs-vswitchd frozen (SIGSTOP: connections stay open, no
# answers), VM starts in a network hv3 is not part of confirm promptly on
# hv1 and hv2, and traffic flows there; a VM start in a network hv3 is
# part of is not confirmed early (504 after the wait timeout, never 201).
# Once hv3 runs again, it catches up and confirms.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/ovs-test-lib.sh"

ovs_test_init tost
hv3_pids=
thaw() {
    [ -n "$hv3_pids" ] && kill -CONT $hv3_pids 2>/dev/null
    hv3_pids=
}
trap 'thaw; lab_cleanup' EXIT

OVS_TEST_CTL_ARGS=--wait-timeout=4000
ovs_test_two_hvs                        # red: vm1 (hv1), vm2 (hv2)
lab_ovs_hv_add hv3 192.0.2.13 || die hv3
lab_vm_add hv3 vm3 02:00:00:00:01:03 10.0.0.3/24 || die vm3
lab_register_hv hv3 || die "hypervisor hv3"
lab_start_vm vm3 red >/dev/null || die "start vm3"
wait_synced hv3 || die "hv3 never synced"

# Freeze hv3 (the processes this lab started, by PID).
d=$(lab__hvdir hv3)
hv3_pids="$(cat "$d/ovsdb-server.pid") $(cat "$d/ovs-vswitchd.pid")"
kill -STOP $hv3_pids || die "SIGSTOP hv3"

# blue: hv1 and hv2 only.
lab_vm_add hv1 vm4 02:00:00:00:02:04 10.1.0.4/24 || die vm4
lab_vm_add hv2 vm5 02:00:00:00:02:05 10.1.0.5/24 || die vm5
lab_register_network blue 5002 || die "network blue"
for vm in vm4 vm5; do
    t0=$(date +%s%N)
    id=$(lab_start_vm "$vm" blue)
    rc=$?
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    echo "$vm: POST ?wait=1 answered in $ms ms (rc $rc)"
    check "$vm start confirmed while hv3 is frozen" "[ $rc -eq 0 ]"
    # The wait timeout is 4 s; a start that waited for hv3 would hit it.
    check "$vm start did not wait for hv3 (< 3000 ms)" "[ $ms -lt 3000 ]"
done
check "blue: vm4 pings vm5 with hv3 frozen" "lab_ping vm4 10.1.0.5 5"

# red includes hv3: strict confirmation, never an early 201.
lab_vm_add hv1 vm6 02:00:00:00:01:06 10.0.0.6/24 || die vm6
mac=$(lab_vm_get vm6 mac)
st=$(lab_rest_status POST "/v1/ports?wait=1" \
     "{\"vm\":\"vm6\",\"network\":\"red\",\"hypervisor\":\"hv1\",\"mac\":\"$mac\",\"iface\":\"v-vm6\"}")
echo "vm6 (red, hv3 frozen): $st"
check "red start is not confirmed while hv3 is frozen (504)" "[ '$st' = 504 ]"
check "hv1 and hv2 still confirmed everything" "hv_synced hv1 && hv_synced hv2"

thaw
check "hv3 catches up once it runs again" "wait_synced hv3 30"
check "red: vm3 (hv3) pings vm6 (new on hv1)" "lab_ping vm3 10.0.0.6 5"
ovs_test_done
