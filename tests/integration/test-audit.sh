#!/bin/sh
# test-audit.sh - the drift audit (GET /v1/audit, nvoctl audit) by
# tampering with real switches: on hv1 an nvo flow deleted
# (ovs-ofctl del-flows), one added with nvo's cookie, one changed, and a
# foreign flow with another cookie, and a port named like nvo's old
# per-VTEP tunnel ports but without nvo's mark.  The audit must report
# each, named by network and VM, leave hv2 clean, report the foreign flow
# and port as foreign; `nvoctl audit --repair --wait` must restore hv1
# (clean afterwards) and never touch the foreign flow or port.  On the kernel hypervisor hv3 (its agent reports what the
# kernel holds): `bridge fdb del` of a remote MAC on the VXLAN device and
# of the port-security entry of vm3, and an extra `bridge fdb add`; each
# must be reported by network (and VM), and the repair must restore them.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/deploy/lab-lib.sh"
. "$top/tests/integration/tools-lib.sh"
tools_setup ta$$ audit
lab_underlay_up || die underlay
lab_controller_start || die controller
lab_ovs_hv_add hv1 192.0.2.11 || die hv1
lab_ovs_hv_add hv2 192.0.2.12 || die hv2
lab_vm_add hv1 vm1 02:00:00:00:00:01 10.0.0.1/24 || die vm1
lab_vm_add hv2 vm2 02:00:00:00:00:02 10.0.0.2/24 || die vm2
kernel=no
if [ -x "$LAB_AGENT_BIN" ]; then
    lab_kernel_hv_add hv3 192.0.2.13 || die hv3
    lab_vm_add hv3 vm3 02:00:00:00:00:03 10.0.0.3/24 || die vm3
    kernel=yes
fi
lab_register_network red 5001 || die red
for h in hv1 hv2 $( [ $kernel = yes ] && echo hv3); do lab_register_hv $h || die "register $h"; done
lab_start_vm vm1 red >/dev/null || die "start vm1"
id2=$(lab_start_vm vm2 red) || die "start vm2"
[ $kernel = yes ] && { lab_start_vm vm3 red >/dev/null || die "start vm3"; }

n() { lab_nvoctl "$@"; }
j() { "$PY" -c "import json,sys; a=json.load(open('$dir/a.json')); h={x['name']:x for x in a['hypervisors']}; $1"; }

check "audit of an untouched lab: exit 0, hv1 and hv2 in sync" \
    "n audit >$dir/a.txt && grep -q '^hv1 (ovs): in sync' $dir/a.txt && grep -q '^hv2 (ovs): in sync' $dir/a.txt"
if [ $kernel = yes ]; then
    check "kernel hypervisor hv3 is audited and in sync" \
        "grep -q '^hv3 (kernel): in sync: 1 networks, [1-9][0-9]* kernel entries desired' $dir/a.txt"
    # Tamper with hv3's kernel: a remote MAC (vm1 behind hv1) deleted from
    # the VXLAN device, vm3's port-security entry deleted, a stranger added.
    kx() { ip netns exec "$(lab_ns hv3)" "$@"; }
    kx bridge fdb del 02:00:00:00:00:01 dev nvx5001 dst 192.0.2.11 || die "fdb del"
    kx bridge fdb del 02:00:00:00:00:03 dev "$(lab_vm_iface vm3)" master static || die "fdb del master"
    kx bridge fdb append 02:00:00:00:99:98 dev nvx5001 dst 192.0.2.99 || die "fdb add"
    # A second MAC vm3 could send from past port security.
    kx bridge fdb add 02:00:00:00:99:97 dev "$(lab_vm_iface vm3)" master static || die "fdb add master"
fi

# Tamper with hv1.
cookie2=$(printf '0x6e1%013x' "$id2")
lab_ovs_ofctl hv1 del-flows "table=1,cookie=$cookie2/-1" || die "del-flows"
lab_ovs_ofctl hv1 add-flow "table=1,priority=100,cookie=0x6e100000000fffff,metadata=0x1389,dl_dst=02:00:00:00:99:99,actions=drop" || die "add-flow nvo cookie"
lab_ovs_ofctl hv1 add-flow "table=0,priority=10,cookie=0x1234,dl_type=0x88cc,actions=drop" || die "add-flow foreign"
lab_ovs_ofctl hv1 mod-flows --strict "table=2,priority=100,reg0=0x1,metadata=0x1389,actions=drop" || die "mod-flows"
# A port named like an earlier release's per-VTEP tunnel port, without
# nvo's mark: someone else's, so foreign, never drift, never deleted.
lab_ovs_vsctl hv1 add-port br-int nvtc0000263 -- set Interface nvtc0000263 \
    type=vxlan options:remote_ip=192.0.2.99 options:key=flow || die "add-port nvtc0000263"

n --format=json audit >"$dir/a.json"; rc=$?
check "audit after tampering exits 5 (drift)" "[ $rc -eq 5 ]"
check "hv1 drifted, hv2 did not" "j \"assert h['hv1']['drift'] and not h['hv2']['drift'], a\""
if [ $kernel = yes ]; then
    check "hv3: vm1's FDB entry is missing, named network red / VM vm1" \
        "j \"assert any(i['kind']=='missing' and i['what']=='fdb' and i.get('vm')=='vm1' and i.get('network')=='red' and i['entry']=='02:00:00:00:00:01 dst 192.0.2.11' for i in h['hv3']['items']), h['hv3']\""
    check "hv3: vm3's port-security entry is missing, named VM vm3" \
        "j \"assert any(i['kind']=='missing' and i['what']=='bridge-fdb' and i.get('vm')=='vm3' for i in h['hv3']['items']), h['hv3']\""
    check "hv3: the added FDB entry is extra, in network red" \
        "j \"assert any(i['kind']=='extra' and i['what']=='fdb' and i.get('network')=='red' and i['entry']=='02:00:00:00:99:98 dst 192.0.2.99' for i in h['hv3']['items']), h['hv3']\""
    check "hv3: the MAC added on vm3's locked port is an extra bridge-fdb entry" \
        "j \"assert any(i['kind']=='extra' and i['what']=='bridge-fdb' and i['entry']=='02:00:00:00:99:97 on $(lab_vm_iface vm3)' for i in h['hv3']['items']), h['hv3']\""
    check "hv3: exactly those four items" "j \"assert h['hv3']['drift'] and len(h['hv3']['items'])==4, h['hv3']\""
fi
check "the deleted flow is missing, named network red / VM vm2" \
    "j \"assert any(i['kind']=='missing' and i['what']=='flow' and i.get('vm')=='vm2' and i.get('network')=='red' for i in h['hv1']['items']), h['hv1']['items']\""
check "the flow added with nvo's cookie is extra" \
    "j \"assert any(i['kind']=='extra' and i.get('cookie')=='0x6e100000000fffff' for i in h['hv1']['items']), h['hv1']['items']\""
check "the changed BUM flow is different, named network red" \
    "j \"assert any(i['kind']=='different' and i.get('network')=='red' and 'drop' in i['actual'] for i in h['hv1']['items']), h['hv1']['items']\""
check "the foreign flow is reported as foreign, not as drift" \
    "j \"it=[i for i in h['hv1']['items'] if i['kind']=='foreign' and i['what']=='flow']; assert len(it)==1 and it[0]['cookie']=='0x0000000000001234', it\""
check "the unmarked nvt port is foreign, not extra (only nvo's mark makes a port extra)" \
    "j \"it=[i for i in h['hv1']['items'] if i['what']=='port']; assert it==[{'kind':'foreign','what':'port','port':'nvtc0000263'}], it; assert h['hv1']['foreign']==2 and h['hv1']['extra']==1, h['hv1']\""
check "the table output names them" \
    "n audit >$dir/a.txt; grep -q '^hv1 (ovs): DRIFT' $dir/a.txt && grep -Eq 'missing +flow +VM vm2 in red' $dir/a.txt && grep -Eq 'foreign +flow +not nvo' $dir/a.txt && grep -Eq 'foreign +port +not nvo.* nvtc0000263' $dir/a.txt"
if [ $kernel = yes ]; then
    check "the table output names hv3's items" \
        "grep -q '^hv3 (kernel): DRIFT' $dir/a.txt && grep -Eq 'missing +fdb +VM vm1 in red .*02:00:00:00:00:01 dst 192.0.2.11' $dir/a.txt && grep -Eq 'extra +fdb +network red +02:00:00:00:99:98' $dir/a.txt"
fi

n audit --repair --wait >"$dir/r.txt"; rc=$?
check "audit --repair --wait: exit 0 and clean afterwards" \
    "[ $rc -eq 0 ] && grep -q 'after the repair' $dir/r.txt && grep -q 'audit at revision [0-9]*: 0 of' $dir/r.txt"
check "hv1 holds vm2's DMAC flow again" \
    "lab_ovs_ofctl hv1 dump-flows table=1 | grep -q 'cookie=$cookie2'"
check "the extra nvo flow is gone" \
    "! lab_ovs_ofctl hv1 dump-flows | grep -q 'cookie=0x6e100000000fffff'"
check "the foreign flow and port are untouched" \
    "lab_ovs_ofctl hv1 dump-flows | grep -q 'cookie=0x1234,.*priority=10' && lab_ovs_vsctl hv1 list-ports br-int | grep -qx nvtc0000263"
check "a plain audit is clean again (exit 0)" "n audit >/dev/null"
if [ $kernel = yes ]; then
    check "hv3's kernel holds vm1's FDB entry again" \
        "kx bridge fdb show dev nvx5001 | grep -q '^02:00:00:00:00:01 dst 192.0.2.11'"
    check "hv3's kernel holds vm3's port-security entry again" \
        "kx bridge fdb show dev $(lab_vm_iface vm3) | grep -q '^02:00:00:00:00:03 master nvb5001 static'"
    check "hv3's extra FDB entries are gone" \
        "! kx bridge fdb show | grep -Eq '02:00:00:00:99:9[78]'"
    check "vm3 reaches vm1" "lab_ping vm3 10.0.0.1"
fi
check "vm1 reaches vm2" "lab_ping vm1 10.0.0.2"

# Tunnel ports: one flow-based port per encapsulation in use (red is
# VXLAN), never one per VTEP.  Deleted behind nvo's back,
# the port comes back by itself (OVSDB reconciliation), the flows follow
# its new ofport, and the audit is clean again.
check "hv1 holds exactly one nvo tunnel port: nvt-vxlan, remote_ip=flow" \
    "[ \"\$(lab_ovs_vsctl hv1 --format=csv --data=bare --no-headings --columns=name,type,options find Interface external_ids:nvo-owner=nvo | grep nvt | sort | tr '\n' ' ')\" = 'nvt-vxlan,vxlan,key=flow remote_ip=flow ' ]"
lab_ovs_vsctl hv1 del-port br-int nvt-vxlan || die "del-port nvt-vxlan"
i=0
until lab_ovs_vsctl hv1 list-ports br-int | grep -qx nvt-vxlan \
      && n audit >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -ge 100 ] && break; sleep 0.2
done
check "a deleted tunnel port is re-created and the audit is clean again" \
    "lab_ovs_vsctl hv1 list-ports br-int | grep -qx nvt-vxlan && n audit >/dev/null"
check "vm1 reaches vm2 through the re-created tunnel port" \
    "lab_ping vm1 10.0.0.2"

tools_done audit
