#!/bin/sh
# test-ovs-lifecycle.sh - a VM's life as the OVS southbound sees it:
#  - ?wait=1 returns only once the flows are in the switch (barrier);
#  - a spoofed source MAC is dropped (and counted by the guard flow);
#  - migration (PATCH): reachable at the new place, the old hypervisor's
#    flows and ports for it are gone;
#  - VM stop (DELETE): unreachable, its flows gone on every hypervisor,
#    its br-int port and the tunnels nobody needs removed;
#  - a hypervisor that cannot be reached: ?wait=1 answers 504 and
#    GET /v1/hypervisors does not say connected.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
OVS_TEST_CTL_ARGS=--wait-timeout=3000
. "$top/tests/integration/ovs-test-lib.sh"

ovs_test_init tovl
ovs_test_two_hvs
lab_ovs_hv_add hv3 192.0.2.13 || die hv3
lab_register_hv hv3 || die "hypervisor hv3"

# --- ?wait=1 returns after the barrier: the flows are there at once.
lab_vm_add hv1 vm5 02:00:00:00:01:05 10.0.0.5/24 || die vm5
id5=$(lab_start_vm vm5 red) || die "start vm5"
check "right after POST ?wait=1: hv1 forwards to vm5" \
    "lab_ovs_ofctl hv1 dump-flows | grep -q 'dl_dst=02:00:00:00:01:05 actions=output:'"
check "right after POST ?wait=1: hv2 tunnels to vm5" \
    "lab_ovs_ofctl hv2 dump-flows | grep -q 'dl_dst=02:00:00:00:01:05 actions=set_field:0x1389->tun_id'"
check "vm5 pings vm2" "lab_ping vm5 10.0.0.2 5"

# --- spoofed source MAC.
lab_ping vm1 10.0.0.2 2 || die "no ping before spoofing"
ip -n "${P}vm1" link set eth0 address 02:00:00:00:09:99
ip -n "${P}vm1" neigh flush dev eth0 2>/dev/null
check "vm1 with a spoofed MAC cannot reach vm2" "! lab_ping vm1 10.0.0.2 3"
check "hv1's guard flow for vm1's port counted the drops" \
    "lab_ovs_ofctl hv1 dump-flows | grep 'priority=50,in_port=' | grep -v 'n_packets=0,' | grep -q drop"
ip -n "${P}vm1" link set eth0 address 02:00:00:00:01:01
check "vm1 with its own MAC again reaches vm2" "lab_ping vm1 10.0.0.2 5"

# --- migration of vm2: hv2 -> hv3.
id2=$(lab_vm_get vm2 port)
lab_migrate_vm vm2 hv3 || die "migrate vm2"
check "vm1 pings vm2 at its new place (hv3)" "lab_ping vm1 10.0.0.2 5"
check "hv3 delivers to vm2 locally" \
    "lab_ovs_ofctl hv3 dump-flows | grep -q 'dl_dst=02:00:00:00:01:02 actions=output:'"
check "hv1 tunnels vm2's MAC to hv3 now (tun_dst hv3, nvt-vxlan)" \
    "lab_ovs_ofctl hv1 dump-flows | grep 'dl_dst=02:00:00:00:01:02' | grep -q \"set_field:192.0.2.13->tun_dst,output:\$(lab_ovs_vsctl hv1 get Interface nvt-vxlan ofport)\$\""
check "hv2 has no nvo flow left (no VM of its own anymore)" \
    "[ -z \"\$(lab_ovs_ofctl hv2 dump-flows | grep 'cookie=0x6e' | grep -v 'cookie=0x6e00000000000000')\" ]"
check "hv2's br-int lost vm2's port and its tunnel port (no network left)" \
    "[ -z \"\$(lab_ovs_vsctl hv2 list-ports br-int)\" ]"

# --- stop vm5: unreachable, flows gone everywhere.
lab_stop_vm vm5 || die "stop vm5"
cookie=$(printf '0x6e1%013x' "$id5")
for hv in hv1 hv2 hv3; do
    check "$hv: no flow with vm5's cookie $cookie or MAC" \
        "[ -z \"\$(lab_ovs_ofctl $hv dump-flows | grep -e 'cookie=$cookie' -e '02:00:00:00:01:05')\" ]"
done
check "hv1's br-int lost vm5's port" "! lab_ovs_vsctl hv1 list-ports br-int | grep -qx v-vm5"
check "vm1 cannot reach vm5's address" "! lab_ping vm1 10.0.0.5 2"

# --- unreachable hypervisor: 504, not connected.
lab_ovs_stop_vswitchd hv3 || die "stop vswitchd hv3"
lab_vm_add hv1 vm6 02:00:00:00:01:06 10.0.0.6/24 || die vm6
body="{\"vm\":\"vm6\",\"network\":\"red\",\"hypervisor\":\"hv1\",\"mac\":\"02:00:00:00:01:06\",\"iface\":\"v-vm6\"}"
code=$(lab_rest_status POST "/v1/ports?wait=1" "$body")
check "POST ?wait=1 with hv3's switch down answers 504 (got $code)" "[ '$code' = 504 ]"
check "hv3 not shown connected" "[ \"\$(hv_field hv3 state)\" != connected ]"
echo "hv3: $(lab_rest GET /v1/hypervisors/hv3)"
lab_ovs_start_vswitchd hv3 || die "start vswitchd hv3"
check "hv3 synced once ovs-vswitchd is back" "wait_synced hv3 30"
check "vm6 (created while hv3 was down) pings vm2 on hv3" "lab_ping vm6 10.0.0.2 5"
ovs_test_done
