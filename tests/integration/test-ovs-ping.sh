#!/bin/sh
# test-ovs-ping.sh - two OVS hypervisors, one network: VMs on different
# hypervisors ping each other (ARP included) once nvo programmed both; the
# flows read as documented (doc/ovs-pipeline.md); GET /v1/hypervisors shows
# "connected" and the confirmed revision; the tunnel ports are nvo's.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/ovs-test-lib.sh"

ovs_test_init tovp
ovs_test_two_hvs
ok "ports created with ?wait=1"

check "vm1 pings vm2 across the overlay (ARP included)" "lab_ping vm1 10.0.0.2 5"
check "vm2 pings vm1" "lab_ping vm2 10.0.0.1 3"

flows=$(lab_ovs_ofctl hv1 dump-flows)
echo "$flows"
check "hv1: BUM flow of VNI 5001 floods to the tunnel" \
    "echo \"\$flows\" | grep -q 'cookie=0x6e20000000001389.*table=2.*reg0=0,metadata=0x1389 actions=output:[0-9]*,set_field:0x1389->tun_id,output:'"
check "hv1: DMAC flow to vm2 via the tunnel, cookie of vm2's port" \
    "echo \"\$flows\" | grep -q 'cookie=0x6e1.*dl_dst=02:00:00:00:01:02 actions=set_field:0x1389->tun_id,output:'"
check "hv1: classify vm1 by in_port, its own MAC and its address (port security)" \
    "echo \"\$flows\" | grep -q 'table=0.*priority=110,ip,in_port=[0-9]*,dl_src=02:00:00:00:01:01,nw_src=10.0.0.1 actions=write_metadata:0x1389,goto_table:1'"
check "hv1: every flow in tables 0-2 is nvo's" \
    "[ -z \"\$(echo \"\$flows\" | grep 'table=' | grep -v 'cookie=0x6e')\" ]"

check "hv1: tunnel port nvtc000020c to hv2, remote_ip and key=flow" \
    "[ \"\$(lab_ovs_vsctl hv1 get Interface nvtc000020c type options:remote_ip options:key external_ids:nvo-owner | tr '\n' ' ')\" = 'vxlan \"192.0.2.12\" flow nvo ' ]"
check "hv1: br-int has nvo's passive controller ptcp:6653" \
    "lab_ovs_vsctl hv1 get-controller br-int | grep -qx ptcp:6653"

hvs=$(lab_rest GET /v1/hypervisors) || die "GET /v1/hypervisors"
echo "$hvs"
check "hv1 connected, confirmed what it must" "hv_synced hv1"
check "hv2 connected, confirmed what it must" "hv_synced hv2"
check "confirmed_revision is the store's revision of the last write" \
    "[ \"\$(hv_field hv1 confirmed_revision)\" -ge 5 ]"
ovs_test_done
