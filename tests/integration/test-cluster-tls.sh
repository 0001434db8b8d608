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
#  - a service node is sharded too: its agent ends up at its owner, every
#    controller places a service-node network on it, BUM works through it
#  - the owner of the service node (of hv1 without an agent) killed -9:
#    another controller owns and confirms each of its hypervisors over
#    TLS, the service node's agent follows it and no survivor re-places
#    its networks (its liveness is the owner's record in the cluster);
#    its agent stopped, every survivor takes the network off it; the ping
#    matrix still passes
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
lab_vm_add hv1 y1 02:00:00:00:03:01 10.0.3.1/24 || die y1
lab_vm_add hv2 y2 02:00:00:00:03:02 10.0.3.2/24 || die y2
sn=
if [ -x "$LAB_AGENT_BIN" ]; then
    lab_kernel_hv_add hv4 192.0.2.14 || die hv4
    lab_vm_add hv4 v4 02:00:00:00:01:04 10.0.0.4/24 || die v4
    # A service node, sharded like the hypervisors: one owner serves its
    # agent and records its liveness for every controller.
    lab_kernel_hv_add sn1 192.0.2.31 service-node || die sn1
    hvs="$hvs hv4 sn1" vms="$vms v4" sn=sn1
fi
lab_register_network red 5001 || die network
lab_register_network blue 5003 service-node || die "network blue"
for h in $hvs; do lab_register_hv "$h" || die "register $h"; done
i=0
for v in $vms y1 y2; do
    i=$((i + 1))
    net=red
    case $v in y*) net=blue ;; esac
    LAB_CTL_NS=$(lab_ctl_ns $(( (i - 1) % 3 + 1 ))) lab_start_vm "$v" $net >/dev/null \
        || die "start $v through ctl$(( (i - 1) % 3 + 1 ))"
done
ok "VMs started with ?wait=1 through all three controllers over HTTPS"

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
# agent_at_owner HV: HV's agent holds a connection to HV's owner, which
# shows it connected.
agent_at_owner() {
    local _o
    _o=$(owner_of 1 "$1")
    [ -n "$_o" ] || return 1
    ip netns exec "${LAB_PREFIX}$1" ss -Htn state established '( dport = :6650 )' \
        | grep -q "192.0.2.19${_o#ctl}:6650" &&
    [ "$(lab_ctl_rest "${_o#ctl}" GET "/v1/hypervisors/$1" | json 'd["state"]')" = connected ]
}
# blue_sn N: network blue's service node as controller N places it.
blue_sn() {
    lab_ctl_rest "$1" GET /v1/status | python3 -c '
import json, sys
print([n for n in json.load(sys.stdin)["networks"] if n["name"] == "blue"][0]["service_node"])'
}
if [ -x "$LAB_AGENT_BIN" ]; then
    for h in hv4 sn1; do
        poll_check "$h's agent (given ssl: to all three) is served by its owner" \
            "agent_at_owner $h" 15
    done
    poll_check "every controller places network blue on service node sn1" \
        "[ \"\$(blue_sn 1)\$(blue_sn 2)\$(blue_sn 3)\" = sn1sn1sn1 ]"
fi
check "ping matrix over TLS-programmed switches" "lab_ping_matrix $vms"
check "ping y1 -> y2 (network blue, placed on service node sn1)" "lab_ping y1 10.0.3.2"

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

# The victim: the owner of the service node (of hv1 without an agent).
victim=$(owner_of 1 "${sn:-hv1}")
[ -n "$victim" ] || die "${sn:-hv1} has no owner"
survivor=$(( ${victim#ctl} % 3 + 1 ))
lost=
for h in $hvs; do [ "$(owner_of 1 "$h")" = "$victim" ] && lost="$lost $h"; done
# Where each survivor's log stands at the kill: the failover checks below
# read only what comes after (at start-up a controller may log a service
# node down before its agent connected: not the failover).
for n in 1 2 3; do
    [ "ctl$n" = "$victim" ] || log_mark "$LAB_DIR/ctl$n/nvo-controller.log"
done
lab_ctl_stop "${victim#ctl}" KILL || die "kill $victim"
for h in $lost; do
    poll_check "after kill -9 of $victim, its $h is owned and confirmed by another controller" \
        "confirmed_by_other $survivor $h $victim" 15
done
if [ -n "$sn" ]; then
    poll_check "sn1's agent followed sn1 to its new owner" "agent_at_owner sn1" 15
    check "the survivors still place network blue on sn1 (it never went down)" \
        "[ \"\$(blue_sn $survivor)\$(blue_sn $(( survivor % 3 + 1 )))\" = sn1sn1 ]"
    since_kill() {   # since_kill: every survivor's log lines after the kill
        local _n
        for _n in 1 2 3; do
            [ "ctl$_n" = "$victim" ] || log_since "$LAB_DIR/ctl$_n/nvo-controller.log"
        done
    }
    check "no survivor re-placed sn1's networks across the failover" \
        "! since_kill | grep -q 'service node sn1 is down\|service node sn1 did not connect'"
    # Its agent gone, the owner records it down and every controller
    # takes network blue off it.
    lab_agent_kill sn1 KILL || die "kill sn1's agent"
    for n in 1 2 3; do
        [ "ctl$n" = "$victim" ] && continue
        poll_check "ctl$n takes network blue off sn1 once sn1's agent is gone" \
            "[ \"\$(blue_sn $n)\" = None ]" 20
    done
fi
check "ping matrix after the failover" "lab_ping_matrix $vms"

ovs_test_done
