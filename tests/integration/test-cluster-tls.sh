#!/bin/sh
# test-cluster-tls.sh - the cluster lab over TLS (LAB_TLS=1, the lab's
# ovs-pki PKI; doc/cluster.md "Standing up a cluster", doc/security.md):
#  - the 3 Raft members talk Raft over ssl: and serve clients on pssl:
#    only (a plain client gets nothing; one with a certificate of either
#    CA reads the database)
#  - three controllers on ssl: remotes, REST over HTTPS with the token only
#  - two OVS hypervisors (OVSDB and OpenFlow over TLS) and, when the agent
#    is built, a kernel hypervisor whose agent is given every controller
#    with ssl: and ends up at its owner
#  - VMs started with ?wait=1 through each controller; the ping matrix
#  - OVSDB fencing: br-int carries its owner's epoch; with a newer epoch
#    on the switch (as a newer owner would leave) the owner writes nothing
#    to that switch's OVSDB and says so; with it gone, it writes again
#  - the owner of hv1 killed -9: another controller owns and confirms hv1
#    over TLS, the ping matrix still passes
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/ovs-test-lib.sh"
LAB_TLS=1
export LAB_TLS
cluster_test_init ct
[ -n "${LAB_PKI:-}" ] || die "lab_init made no PKI"

lab_underlay_up || die underlay
lab_raft_up 3 || die "Raft cluster over TLS"
for n in 1 2 3; do
    check "Raft member db$n lists every server at an ssl: address" \
        "[ \$(lab_raft_appctl $n cluster/status NVO | grep -c ' at ssl:') -ge 3 ]"
done
check "Raft member db1 refuses a plain client (pssl: only)" \
    "! ip netns exec ${LAB_PREFIX}db2 ovsdb-client --timeout=3 list-dbs tcp:$(lab_raft_ip 1):6641"
check "Raft member db1 serves a client with the controllers' certificate" \
    "lab_raft_client db2 list-dbs $(lab_raft_remote 1) | grep -qx NVO"

for n in 1 2 3; do
    lab_ctl_start "$n" || die "controller $n over TLS"
done
LAB_CTL_NS=$(lab_ctl_ns 1)
LAB_CTL_IPS=$(lab_ctl_ips 3)
export LAB_CTL_IPS
check "REST answers only over HTTPS with the token" \
    "[ \"\$(lab_ctl_rest_status 2 GET /v1/networks)\" = 200 ] &&
     ! ip netns exec $(lab_ctl_ns 2) curl -s -m 5 -o /dev/null http://127.0.0.1:$LAB_REST_PORT/v1/networks &&
     [ \"\$(ip netns exec $(lab_ctl_ns 2) curl -s -m 5 -o /dev/null -w '%{http_code}' --cacert $LAB_PKI/pki/controllerca/cacert.pem https://ctl:$LAB_REST_PORT/v1/networks)\" = 401 ]"

hvs="hv1 hv2"
lab_ovs_hv_add hv1 192.0.2.11 || die hv1
lab_ovs_hv_add hv2 192.0.2.12 || die hv2
lab_vm_add hv1 v1 02:00:00:00:01:01 10.0.0.1/24 || die v1
lab_vm_add hv2 v2 02:00:00:00:01:02 10.0.0.2/24 || die v2
vms="v1 v2"
if [ -x "$LAB_AGENT_BIN" ]; then
    lab_kernel_hv_add hv4 192.0.2.14 || die hv4
    lab_vm_add hv4 v4 02:00:00:00:01:04 10.0.0.4/24 || die v4
    hvs="$hvs hv4" vms="$vms v4"
fi
lab_register_network red 5001 || die network
for h in $hvs; do lab_register_hv "$h" || die "register $h"; done
i=0
for v in $vms; do
    i=$((i + 1))
    LAB_CTL_NS=$(lab_ctl_ns "$i") lab_start_vm "$v" red >/dev/null \
        || die "start $v through ctl$i"
done
ok "VMs started with ?wait=1 through $i controllers over HTTPS"

owner_of() {   # owner_of N HV: HV's owner as controller N sees it
    lab_ctl_rest "$1" GET "/v1/hypervisors/$2" | json 'd.get("controller") or ""'
}
confirmed_by_other() {   # confirmed_by_other N HV DEAD
    lab_ctl_rest "$1" GET "/v1/hypervisors/$2" | python3 -c '
import json, sys
h = json.load(sys.stdin)
sys.exit(0 if h.get("controller") not in (None, "", sys.argv[1])
              and h["confirmed_revision"] >= h["required_revision"] > 0 else 1)' "$3"
}
for h in $hvs; do
    poll_check "$h is owned and confirmed over TLS" "confirmed_by_other 1 $h none" 15
done
# OpenFlow over TLS listens on the OVSDB port + 14 (ovs-hv.c), bound to
# the hypervisor's address, TLS only.
for h in hv1 hv2; do
    check "$h: its OpenFlow listener is pssl:6654 only, its owner connected" \
        "[ \"\$(lab_ovs_vsctl $h get-controller br-int)\" = pssl:6654:$(lab_node_get $h ip) ] &&
         ip netns exec ${LAB_PREFIX}$h ss -Htn state established '( sport = :6654 )' | grep -q ."
done
if [ -x "$LAB_AGENT_BIN" ]; then
    o=$(owner_of 1 hv4)
    poll_check "hv4's agent (given ssl: to all three) is served by its owner $o" \
        "ip netns exec ${LAB_PREFIX}hv4 ss -Htn state established '( dport = :6650 )' | grep -q '192.0.2.19${o#ctl}:6650' &&
         [ \"\$(lab_ctl_rest ${o#ctl} GET /v1/hypervisors/hv4 | json 'd[\"state\"]')\" = connected ]" 15
fi
check "ping matrix over TLS-programmed switches" "lab_ping_matrix $vms"

# --- OVSDB fencing (doc/cluster.md, step 5) -----------------------------------
# epoch_of HV: HV's ownership epoch in the cluster (Hypervisor_Private).
epoch_of() {
    lab_raft_client db1 -f json dump "$(lab_raft_remote 1)" NVO \
        Hypervisor_Private hypervisor epoch | python3 -c '
import json, sys
t = json.load(sys.stdin)
h = t["headings"]
for r in t["data"]:
    if r[h.index("hypervisor")] == sys.argv[1]:
        print(r[h.index("epoch")])' "$1"
}
switch_epoch() {
    lab_ovs_vsctl "$1" --if-exists get Bridge br-int external_ids:nvo-epoch | tr -d '"'
}
e2=$(epoch_of hv2)
poll_check "hv2's br-int carries its owner's epoch ($e2) in external_ids:nvo-epoch" \
    "[ \"\$(switch_epoch hv2)\" = '$e2' ]"
o2=$(owner_of 1 hv2)
# As if a newer owner had taken hv2: the owner, stale from the switch's
# point of view, must write nothing to hv2's OVSDB from now on.
lab_ovs_vsctl hv2 set Bridge br-int "external_ids:nvo-epoch=$((e2 + 1))" \
    || die "raise hv2's epoch"
lab_vm_add hv2 x2 02:00:00:00:02:02 10.0.1.2/24 || die x2
lab_register_network spare 5002 || die "network spare"
lab_ctl_rest 1 POST /v1/ports "{\"vm\":\"x2\",\"network\":\"spare\",\"hypervisor\":\"hv2\",\"mac\":\"02:00:00:00:02:02\",\"ip\":\"10.0.1.2\",\"iface\":\"$(lab_vm_iface x2)\"}" \
    >/dev/null || die "POST x2"
poll_check "hv2's owner $o2, fenced out by a newer epoch on the switch, says so" \
    "lab_ctl_rest ${o2#ctl} GET /v1/hypervisors/hv2 | json 'd[\"detail\"]' | grep -q '^fenced: '"
check "the fenced owner did not attach x2's interface to hv2's br-int" \
    "! lab_ovs_vsctl hv2 list-ports br-int | grep -qx $(lab_vm_iface x2)"
# The newer owner gone (its epoch removed by hand), the owner writes again.
lab_ovs_vsctl hv2 remove Bridge br-int external_ids nvo-epoch || die "clear hv2's epoch"
poll_check "unfenced, hv2's owner attaches x2 and raises the epoch back to $e2" \
    "lab_ovs_vsctl hv2 list-ports br-int | grep -qx $(lab_vm_iface x2) &&
     [ \"\$(switch_epoch hv2)\" = '$e2' ]"

victim=$(owner_of 1 hv1)
[ -n "$victim" ] || die "hv1 has no owner"
survivor=$(( ${victim#ctl} % 3 + 1 ))
lab_ctl_stop "${victim#ctl}" KILL || die "kill $victim"
poll_check "after kill -9 of $victim, hv1 is owned and confirmed by another controller" \
    "confirmed_by_other $survivor hv1 $victim" 15
check "ping matrix after the failover" "lab_ping_matrix $vms"

ovs_test_done
