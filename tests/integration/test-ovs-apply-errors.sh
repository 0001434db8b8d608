#!/bin/sh
# test-ovs-apply-errors.sh - confirmed means applied (OVS hypervisors): when
# the switch refuses part of a change, ?wait=1 answers at once 502
# apply_failed naming the hypervisor and the switch's reason (not 504 after
# the wait timeout), GET /v1/hypervisors/NAME shows it, and the controller
# keeps retrying until the switch takes it, which confirms the revision:
#  - an OpenFlow error: br-int's flow tables limited to the flows they hold
#    (Flow_Table flow_limit, overflow_policy=refuse), so the flow mods of a
#    new VM port fail with OFPFMFC_TABLE_FULL; the limits lifted, the
#    retry (ofctrl's backoff) commits them;
#  - an interface ovs-vswitchd cannot add: a VM port whose interface does
#    not exist (its OVSDB "error" column); meanwhile the OVS thread waits
#    for the interface's ofport without polling for it; the interface
#    created, OVS adds it and the revision confirms;
#  - a transaction the switch's ovsdb-server refuses (a port name another
#    bridge has): sent again after a backoff, not at once for ever, and
#    at once when that database changes (the name freed), which confirms.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/ovs-test-lib.sh"

ovs_test_init toae
# A wait timeout well above what an immediate answer takes: a 504 would
# come only after 8 s.
OVS_TEST_CTL_ARGS=--wait-timeout=8000
ovs_test_two_hvs                        # red: vm1 (hv1), vm2 (hv2)
wait_synced hv1 || die "hv1 not synced"
wait_synced hv2 || die "hv2 not synced"

# err_has BODY WORDS...: the JSON error is apply_failed and its message
# contains every WORD.
err_has() {
    local _body=$1
    shift
    echo "$_body" | python3 -c '
import json, sys
e = json.load(sys.stdin)["error"]
sys.exit(not (e["code"] == "apply_failed"
              and all(w in e["message"] for w in sys.argv[1:])))' "$@"
}
# refused_post WHAT JSON: POST /v1/ports?wait=1 that the switch refuses;
# checks it answers 502 at once; leaves the body in $out.
refused_post() {
    local _ms _st _t0
    _t0=$(date +%s%N)
    _st=$(lab_rest_status POST "/v1/ports?wait=1" "$2")
    _ms=$(( ($(date +%s%N) - _t0) / 1000000 ))
    out=$(cat "$LAB_DIR/rest.body")
    echo "POST $1: $_st in $_ms ms: $out"
    check "?wait=1 answers 502" "[ '$_st' = 502 ]"
    check "at once, not after the wait timeout (< 5000 ms)" "[ $_ms -lt 5000 ]"
}
hv_error_has() {
    lab_rest GET "/v1/hypervisors/$1" | python3 -c '
import json, sys
h = json.load(sys.stdin)
sys.exit(not (sys.argv[1] in h.get("error", "")
              and h["confirmed_revision"] < h["required_revision"]))' "$2"
}

# --- An OpenFlow error: every table nvo uses on hv1 is full. ----------
tables=$(lab_ovs_ofctl hv1 dump-flows | sed -n 's/.*table=\([0-9]*\),.*/\1/p' | sort -un)
[ -n "$tables" ] || die "no flows on hv1"
set --
for t in $tables; do
    n=$(lab_ovs_ofctl hv1 dump-flows "table=$t" | grep -c 'table=')
    set -- "$@" -- --id=@ft$t create Flow_Table flow_limit=$n \
        overflow_policy=refuse -- set Bridge br-int flow_tables:$t=@ft$t
done
lab_ovs_vsctl hv1 "$@" || die "cannot limit hv1's flow tables"
echo "hv1's tables $(echo $tables) limited to the flows they hold"

lab_vm_add hv1 vm3 02:00:00:00:01:03 10.0.0.3/24 || die vm3
refused_post "vm3 with hv1's tables full" \
    '{"vm":"vm3","network":"red","hypervisor":"hv1","mac":"02:00:00:00:01:03","iface":"v-vm3"}'
check "the error is apply_failed and names hv1 and the OpenFlow error" \
    "err_has '$out' 'hypervisor hv1' OFPFMFC_TABLE_FULL"
check "the port is committed all the same" "[ -n \"\$(lab_port_id vm3 red)\" ]"
check "GET /v1/hypervisors/hv1 shows the error" \
    "hv_error_has hv1 OFPFMFC_TABLE_FULL"
check "hv1 is not reported synced" "! hv_synced hv1"
check "hv2 (no limit) is synced" "wait_synced hv2 10"

lab_ovs_vsctl hv1 clear Bridge br-int flow_tables || die "cannot lift the limits"
check "hv1 confirms once its tables take the flows (ofctrl retry)" \
    "wait_synced hv1 20"
check "the error is gone from GET /v1/hypervisors/hv1" \
    "! lab_rest GET /v1/hypervisors/hv1 | grep -q '\"error\"'"
check "vm3 (hv1) pings vm2 (hv2)" "lab_ping vm3 10.0.0.2 5"

# --- An interface ovs-vswitchd cannot add. ------------------------------
refused_post "vm4 whose interface does not exist" \
    '{"vm":"vm4","network":"red","hypervisor":"hv1","mac":"02:00:00:00:01:04","iface":"v-vm4"}'
check "the error names hv1, the interface and OVS's reason" \
    "err_has '$out' 'hypervisor hv1' v-vm4 'No such device'"
check "GET /v1/hypervisors/hv1 shows the error" \
    "hv_error_has hv1 'No such device'"
# Meanwhile hv1 waits for an ofport that may never come: its OVSDB
# server says when the interface appears, so the OVS thread must not
# poll it (synced, the thread wakes about once a second; polled every
# 100 ms, as it was while its OVSDB side waited in the awaiting heap,
# 10 times more).
passes() { lab_rest GET /metrics | awk '/^nvo_ovs_sb_passes_total / { print $2 }'; }
p0=$(passes)
sleep 2
p1=$(passes)
echo "OVS thread passes in 2 s with hv1's interface refused: $((p1 - p0))"
check "the OVS thread does not poll a refused interface (<= 10 passes in 2 s)" \
    "[ $((p1 - p0)) -le 10 ]"

lab_vm_add hv1 vm4 02:00:00:00:01:04 10.0.0.4/24 || die vm4
check "hv1 confirms once the interface exists" "wait_synced hv1 20"
check "the error is gone from GET /v1/hypervisors/hv1" \
    "! lab_rest GET /v1/hypervisors/hv1 | grep -q '\"error\"'"
check "vm4 (hv1) pings vm2 (hv2)" "lab_ping vm4 10.0.0.2 5"

# --- A transaction OVSDB refuses: the port's name is another bridge's. --
lab_ovs_vsctl hv1 add-br br-x -- set bridge br-x datapath_type=netdev \
    -- --id=@i create interface name=v-vm6x type=internal \
    -- --id=@p create port name=v-vm6 interfaces=@i \
    -- add bridge br-x ports @p || die "br-x with a port v-vm6"
lab_vm_add hv1 vm6 02:00:00:00:01:06 10.0.0.6/24 || die vm6
refused_post "vm6 whose port name br-x has" \
    '{"vm":"vm6","network":"red","hypervisor":"hv1","mac":"02:00:00:00:01:06","iface":"v-vm6"}'
# (The body holds escaped quotes, which err_has's echo would mangle.)
check "the error names hv1 and OVSDB's refusal" \
    "grep -q 'apply_failed.*hypervisor hv1.*OVSDB transaction failed.*identical values' '$LAB_DIR/rest.body'"
# The server would refuse the same transaction again: it is sent again
# after a backoff (1 s, doubling) or once the switch's database changes,
# not at once for ever (about 35 times in 2 s).
adds() { grep -c 'hv1: adding VM port v-vm6' "$LAB_DIR/ctl/nvo-controller.log"; }
n0=$(adds)
sleep 2
n1=$(adds)
echo "transactions adding v-vm6 in 2 s after the refusal: $((n1 - n0))"
check "a refused transaction is not resent at once (<= 3 in 2 s)" \
    "[ $((n1 - n0)) -le 3 ]"
# ...but it is resent once its backoff is over, by that timer alone (the
# database has not changed): retries 1, 3, 7 s after the refusal, so
# usually seen in the 2 s above already.
poll_check "the refused transaction is sent again after its backoff" \
    "[ \$(adds) -gt $n0 ]" 8
lab_ovs_vsctl hv1 del-br br-x || die "del-br br-x"
check "hv1 confirms once the name is free (the database changed)" \
    "wait_synced hv1 10"
st=$(lab_rest_status POST "/v1/ports?wait=1" \
    '{"vm":"vm5","network":"red","hypervisor":"hv2","mac":"02:00:00:00:01:05","iface":"v-vm2x"}')
check "a later write to hv2 is not failed by hv1's past" \
    "[ '$st' = 502 ] && grep -q 'hypervisor hv2' '$LAB_DIR/rest.body' && ! grep -q 'hypervisor hv1' '$LAB_DIR/rest.body'"
ovs_test_done
