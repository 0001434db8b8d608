#!/bin/sh
# test-trace.sh - nvoctl trace (GET /v1/trace) against a lab of 2 OVS
# hypervisors and a kernel one, 2 tenants reusing addresses: a frame
# delivered across a tunnel and locally, to the kernel VTEP, a broadcast,
# an unknown MAC, another tenant's address and MAC, a spoofed source; and
# --check against the switches, which must notice a deleted flow on the
# path (exit 5) and agree again after an audit repair.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/deploy/lab-lib.sh"
. "$top/tests/integration/tools-lib.sh"
tools_setup tt$$ trace
lab_underlay_up || die underlay
lab_controller_start || die controller
lab_ovs_hv_add hv1 192.0.2.11 || die hv1
lab_ovs_hv_add hv2 192.0.2.12 || die hv2
lab_vm_add hv1 r1 02:00:00:00:01:01 10.0.0.1/24 || die r1
lab_vm_add hv1 r5 02:00:00:00:01:05 10.0.0.5/24 || die r5
lab_vm_add hv2 r2 02:00:00:00:01:02 10.0.0.2/24 || die r2
lab_vm_add hv2 b2 02:00:00:00:02:02 10.0.0.2/24 || die b2
lab_vm_add hv1 b9 02:00:00:00:02:09 10.0.0.9/24 || die b9
kernel=no
if [ -x "$LAB_AGENT_BIN" ]; then
    lab_kernel_hv_add hv3 192.0.2.13 || die hv3
    lab_vm_add hv3 r3 02:00:00:00:01:03 10.0.0.3/24 || die r3
    kernel=yes
fi
lab_register_network red 5001 || die red
lab_register_network blue 5002 || die blue
for h in hv1 hv2 $( [ $kernel = yes ] && echo hv3); do lab_register_hv $h || die "register $h"; done
for v in r1 r5 r2 $( [ $kernel = yes ] && echo r3); do lab_start_vm $v red >/dev/null || die "start $v"; done
for v in b2 b9; do lab_start_vm $v blue >/dev/null || die "start $v"; done

n() { lab_nvoctl "$@"; }
# tj ARGS -- PYTHON-ASSERTION: the trace's JSON is 't'.
tj() {
    _expr=$1; shift
    n --format=json trace "$@" >"$dir/t.json" || return 1
    "$PY" -c "import json; t=json.load(open('$dir/t.json')); hv=[h['hypervisor'] for h in t['hops']]; $_expr"
}

check "r1 -> 10.0.0.2 (OVS to OVS): classify, DMAC: set tun_dst hv2 -> nvt-vxlan, hv2 classifies by tun_src, r2's port" \
    "tj \"assert t['verdict']=='delivered' and [d['vm'] for d in t['delivered_to']]==['r2'], t; assert hv==['hv1','hv1','underlay','hv2','hv2'], hv; assert 'set_field:192.0.2.12->tun_dst, output:nvt-vxlan' in t['hops'][1]['action'], t['hops'][1]; assert t['hops'][3]['match'].startswith('in_port=nvt-vxlan,tun_src=192.0.2.11,tun_id=0x1389'), t['hops'][3]\" --from=r1 --to=10.0.0.2"
check "the table output shows the tables and the verdict" \
    "n trace --from=r1 --to=10.0.0.2 >$dir/t.txt && grep -Eq '^hv1 +0 +classify +in_port=v-r1' $dir/t.txt && grep -Eq '^hv2 +1 +DMAC .*output:v-r2' $dir/t.txt && grep -q 'verdict: delivered to VM r2 on hv2' $dir/t.txt"
check "r1 -> r5's MAC (same hypervisor): output to its port, no tunnel" \
    "tj \"assert t['verdict']=='delivered' and hv==['hv1','hv1'] and 'output:v-r5' in t['hops'][1]['action'], t\" --from=r1 --to=02:00:00:00:01:05"
if [ $kernel = yes ]; then
    check "r1 -> 10.0.0.3 on the kernel VTEP: VXLAN device, bridge FDB, r3's port" \
        "tj \"assert t['verdict']=='delivered' and t['delivered_to'][0]['vm']=='r3' and any('nvx5001' in h['match'] for h in t['hops']), t\" --from=r1 --to=10.0.0.3"
    check "r3 (kernel) -> r1: the FDB entry toward hv1's VTEP" \
        "tj \"assert t['verdict']=='delivered' and 'fdb 02:00:00:00:01:01 dev nvx5001' in t['hops'][1]['match'], t\" --from=r3 --to=02:00:00:00:01:01"
fi
check "broadcast from r1: flooded to every other red VM, never to blue" \
    "tj \"vms=sorted(d['vm'] for d in t['delivered_to']); assert t['verdict']=='flooded' and 'r2' in vms and 'r5' in vms and 'b2' not in vms and 'b9' not in vms, vms\" --from=r1 --to=ff:ff:ff:ff:ff:ff"
check "unknown MAC: flooded, dropped by every receiver" \
    "tj \"assert t['verdict']=='dropped' and 'unknown MAC' in t['reason'] and not t['delivered_to'], t\" --from=r1 --to=02:00:00:00:99:99"
check "another tenant's MAC (b2): dropped, named as another tenant" \
    "tj \"assert t['verdict']=='dropped' and 'another tenant' in t['reason'] and 'b2' in t['reason'] and not t['delivered_to'], t\" --from=r1 --to=02:00:00:00:02:02"
check "another tenant's address (10.0.0.9 is blue's b9): dropped" \
    "tj \"assert t['verdict']=='dropped' and 'another tenant' in t['reason'] and 'b9' in t['reason'], t\" --from=r1 --to=10.0.0.9"
check "the same address in the source's own tenant (10.0.0.2 from b9) goes to b2, not r2" \
    "tj \"assert t['verdict']=='delivered' and t['delivered_to'][0]['vm']=='b2', t\" --from=b9 --to=10.0.0.2"
check "a spoofed source MAC is dropped at classification" \
    "tj \"assert t['verdict']=='dropped' and t['reason']=='spoofed source MAC' and t['hops'][0]['table']==0 and len(t['hops'])==1, t\" --from=r1 --to=10.0.0.2 --src-mac=02:00:00:00:01:99"
check "unknown VM: exit 1" "n trace --from=nosuch --to=10.0.0.2 >/dev/null 2>&1; [ \$? -eq 1 ]"
check "--check: the switches hold the path (exit 0)" \
    "n trace --from=r1 --to=10.0.0.2 --check | grep -q 'hold every flow'"

# Delete r2's DMAC flow on hv1 (on the path), and a flow of no concern.
id2=$(lab_vm_get r2 port)
lab_ovs_ofctl hv1 del-flows "table=1,cookie=$(printf '0x6e1%013x' "$id2")/-1" || die del-flows
n trace --from=r1 --to=10.0.0.2 --check >"$dir/c.txt"; rc=$?
check "--check after deleting the path's DMAC flow: exit 5, names it" \
    "[ $rc -eq 5 ] && grep -q 'DIFFER' $dir/c.txt && grep -Eq 'hv1: missing flow \\(VM r2 in red' $dir/c.txt"
check "--check of a path that does not use it still agrees" \
    "n trace --from=r1 --to=02:00:00:00:01:05 --check >/dev/null"
check "audit --repair --wait, then --check agrees again" \
    "n audit --repair --wait >/dev/null && n trace --from=r1 --to=10.0.0.2 --check | grep -q 'hold every flow'"

tools_done trace
