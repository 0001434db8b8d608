#!/bin/sh
# test-ovs-ping.sh - two OVS hypervisors, one network: VMs on different
# hypervisors ping each other (ARP included) once nvo programmed both; the
# flows read as documented (doc/ovs-pipeline.md); GET /v1/hypervisors shows
# "connected" and the confirmed revision; the tunnel port is nvo's: one
# flow-based port for the encapsulation in use (remote_ip=flow), none for
# the others, the VTEP chosen by the flows.  Then the migration of a switch programmed by an earlier
# release (one tunnel port per remote VTEP): with the controller stopped,
# hv1 gets back a per-VTEP port, an old-style flow on it and loses the
# flow-based port; once the controller is back, the old port is deleted,
# nvt-vxlan is there again, the audit finds hv1 in sync and the VMs ping.
# Last, a VM port someone else deletes from a quiet switch is put back.
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
tun=$(lab_ovs_vsctl hv1 get Interface nvt-vxlan ofport)
check "hv1: BUM flow of VNI 5001 floods to hv2 through the VXLAN port" \
    "echo \"\$flows\" | grep -q 'cookie=0x6e20000000001389.*table=2.*reg0=0,metadata=0x1389 actions=output:[0-9]*,set_field:0x1389->tun_id,set_field:192.0.2.12->tun_dst,output:$tun\$'"
check "hv1: DMAC flow to vm2: tun_id, tun_dst hv2, the VXLAN port; cookie of vm2's port" \
    "echo \"\$flows\" | grep -q 'cookie=0x6e1.*dl_dst=02:00:00:00:01:02 actions=set_field:0x1389->tun_id,set_field:192.0.2.12->tun_dst,output:$tun\$'"
check "hv1: frames of VNI 5001 from hv2 classified by tun_src on the VXLAN port" \
    "echo \"\$flows\" | grep -q 'cookie=0x6e300000c000020c.*table=0.*priority=100,tun_id=0x1389,tun_src=192.0.2.12,in_port=$tun actions=set_field:0x1->reg0,write_metadata:0x1389,goto_table:1'"
check "hv1: classify vm1 by in_port, its own MAC and its address (port security)" \
    "echo \"\$flows\" | grep -q 'table=0.*priority=110,ip,in_port=[0-9]*,dl_src=02:00:00:00:01:01,nw_src=10.0.0.1 actions=write_metadata:0x1389,goto_table:1'"
check "hv1: every flow in tables 0-2 is nvo's" \
    "[ -z \"\$(echo \"\$flows\" | grep 'table=' | grep -v 'cookie=0x6e')\" ]"

for hv in hv1 hv2; do
    check "$hv: tunnel port nvt-vxlan: type vxlan, remote_ip=flow, key=flow, nvo's" \
        "[ \"\$(lab_ovs_vsctl $hv get Interface nvt-vxlan type options external_ids:nvo-owner | tr '\n' ' ')\" = 'vxlan {key=flow, remote_ip=flow} nvo ' ]"
    check "$hv: br-int holds the VXLAN tunnel port and its VM, nothing else" \
        "[ \"\$(lab_ovs_vsctl $hv list-ports br-int | tr '\n' ' ')\" = 'nvt-vxlan v-vm${hv#hv} ' ]"
done
check "hv1: br-int has nvo's passive controller ptcp:6653" \
    "lab_ovs_vsctl hv1 get-controller br-int | grep -qx ptcp:6653"

hvs=$(lab_rest GET /v1/hypervisors) || die "GET /v1/hypervisors"
echo "$hvs"
check "hv1 connected, confirmed what it must" "hv_synced hv1"
check "hv2 connected, confirmed what it must" "hv_synced hv2"
check "confirmed_revision is the store's revision of the last write" \
    "[ \"\$(hv_field hv1 confirmed_revision)\" -ge 5 ]"
# --- Migration from per-VTEP tunnel ports: hv1 as an earlier release
# left it.
lab_controller_stop || die "controller stop"
lab_ovs_vsctl hv1 -- del-port br-int nvt-vxlan \
    -- add-port br-int nvtc000020c -- set Interface nvtc000020c type=vxlan \
       options:remote_ip=192.0.2.12 options:key=flow \
       external_ids:nvo-owner=nvo \
    -- set Port nvtc000020c external_ids:nvo-owner=nvo || die "old port"
old=$(lab_ovs_vsctl hv1 get Interface nvtc000020c ofport)
lab_ovs_ofctl hv1 add-flow "table=0,priority=100,cookie=0x6e300000c000020c,in_port=$old,tun_id=0x1389,actions=set_field:0x1->reg0,write_metadata:0x1389,goto_table:1" \
    || die "old flow"
check "hv1 has the per-VTEP port and its flow before the controller is back" \
    "lab_ovs_vsctl hv1 list-ports br-int | grep -qx nvtc000020c && lab_ovs_ofctl hv1 dump-flows | grep -q 'tun_id=0x1389,in_port=$old '"
lab_controller_start ${OVS_TEST_CTL_ARGS:-} || die "controller restart"
poll_check "hv1: the per-VTEP port nvtc000020c is deleted" \
    "! lab_ovs_vsctl hv1 list-ports br-int | grep -qx nvtc000020c" 20
poll_check "hv1: the flow-based VXLAN port is back, nothing else" \
    "[ \"\$(lab_ovs_vsctl hv1 list-ports br-int | tr '\n' ' ')\" = 'nvt-vxlan v-vm1 ' ]" 20
wait_synced hv1 30 || bad "hv1 not in sync after the migration"
wait_synced hv2 30 || bad "hv2 not in sync after the restart"
tun=$(lab_ovs_vsctl hv1 get Interface nvt-vxlan ofport)
check "hv1: the old-style flow is gone, the new one classifies by tun_src" \
    "! lab_ovs_ofctl hv1 dump-flows | grep -q 'tun_id=0x1389,in_port=' && lab_ovs_ofctl hv1 dump-flows | grep -q 'tun_id=0x1389,tun_src=192.0.2.12,in_port=$tun '"
# GET /v1/audit itself, not nvoctl: the sanitizer builds make the daemons
# only.
audit_clean() {
    lab_rest GET /v1/audit >"$LAB_DIR/audit.json" && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ok = sorted(h["name"] for h in d["hypervisors"]
            if h.get("audited") and h.get("drift") is False)
sys.exit(0 if not d["drift"] and ok == ["hv1", "hv2"] else 1)' \
        "$LAB_DIR/audit.json"
}
poll_check "the audit finds both switches in sync after the migration" \
    audit_clean 20
audit_clean || cat "$LAB_DIR/audit.json"
check "vm1 pings vm2 after the migration" "lab_ping vm1 10.0.0.2 5"
check "vm2 pings vm1 after the migration" "lab_ping vm2 10.0.0.1 3"
# --- Someone else deletes a VM port of a quiet switch: the controller sees
# the update at its next pass (within a second at idle) and puts it back.
lab_ovs_vsctl hv1 del-port br-int v-vm1 || die "del-port v-vm1"
poll_check "hv1: v-vm1, deleted by someone else, is back within 3 s" \
    "lab_ovs_vsctl hv1 list-ports br-int | grep -qx v-vm1" 3
check "vm1 pings vm2 after the repair" "lab_ping vm1 10.0.0.2 5"
ovs_test_done
