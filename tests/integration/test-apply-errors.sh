#!/bin/sh
# test-apply-errors.sh - confirmed means applied (kernel hypervisors): a VM
# start whose interface does not exist on the hypervisor yet is committed,
# but ?wait=1 answers 502 with a JSON error naming the hypervisor and what
# failed, GET /v1/hypervisors/NAME shows it, and once the interface
# appears the agent's retry applies the view and the revision confirms.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/ovs-test-lib.sh"
[ -x "$top/agent/nvo-agent" ] || { echo "SKIP: nvo-agent not built"; exit 77; }

ovs_test_init tape
lab_underlay_up || die underlay
lab_controller_start || die controller
lab_kernel_hv_add k1 192.0.2.21 || die k1
lab_kernel_hv_add k2 192.0.2.22 || die k2
lab_register_network red 7001 || die red
lab_register_hv k1 || die "register k1"
lab_register_hv k2 || die "register k2"
wait_synced k1 30 || die "k1 not synced"

body='{"vm":"vma","network":"red","hypervisor":"k1","mac":"02:00:00:00:07:01","iface":"vma"}'
st=$(lab_rest_status POST "/v1/ports?wait=1" "$body")
out=$(cat "$LAB_DIR/rest.body")
echo "POST with a missing interface: $st $out"
check "?wait=1 answers 502" "[ '$st' = 502 ]"
check "the error is apply_failed and names k1 and the failure" \
    "echo '$out' | python3 -c 'import json, sys; e = json.load(sys.stdin)[\"error\"]; sys.exit(not (e[\"code\"] == \"apply_failed\" and \"hypervisor k1\" in e[\"message\"] and \"No such device\" in e[\"message\"]))'"
check "the port is committed all the same" "[ -n \"\$(lab_port_id vma red)\" ]"
hv=$(lab_rest GET /v1/hypervisors/k1)
echo "k1: $hv"
check "GET /v1/hypervisors/k1 shows the error" \
    "echo '$hv' | python3 -c 'import json, sys; h = json.load(sys.stdin); sys.exit(not (\"No such device\" in h.get(\"error\", \"\") and h[\"confirmed_revision\"] < h[\"required_revision\"]))'"
check "k1 is not reported synced" "! hv_synced k1"

# The interface appears: the agent's retry applies it, the revision
# confirms and the error goes away.
lab_hv_exec k1 ip link add vma type veth peer name vma-p || die "add vma"
lab_hv_exec k1 ip link set vma up
check "k1 confirms once the interface exists (agent retry)" "wait_synced k1 20"
check "the error is gone from GET /v1/hypervisors/k1" \
    "! lab_rest GET /v1/hypervisors/k1 | grep -q '\"error\"'"
check "vma is on the network's bridge" \
    "lab_hv_exec k1 ip -o link show vma | grep -q 'master nvb'"
st=$(lab_rest_status POST "/v1/ports?wait=1" \
    '{"vm":"vmb","network":"red","hypervisor":"k2","mac":"02:00:00:00:07:02","iface":"vmb"}')
check "a later write to another hypervisor is not failed by k1's past" \
    "[ '$st' = 502 ] && grep -q 'hypervisor k2' '$LAB_DIR/rest.body' && ! grep -q 'hypervisor k1' '$LAB_DIR/rest.body'"
ovs_test_done
