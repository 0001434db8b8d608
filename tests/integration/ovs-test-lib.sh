# ovs-test-lib.sh - helpers shared by the OVS southbound's integration tests
# (tests/integration/test-ovs-*.sh), on top of deploy/lab-lib.sh.
#
#   . "$top/tests/integration/ovs-test-lib.sh"
#   ovs_test_init NAME        # lab_init with a unique prefix, trap cleanup
#   ovs_test_two_hvs          # underlay, controller, hv1 and hv2, network
#                             # red (VNI 5001), vm1 on hv1, vm2 on hv2
#   cluster_test_init NAME    # ovs_test_init for test-cluster-*: skips
#                             # without ovsdb-tool or a built controller
#   die MESSAGE               # FAIL, the daemons' logs kept, exit 1
#   json EXPR                 # prints EXPR of the JSON on stdin ('d')
#   log_mark FILE...          # remembers where each (log) FILE ends now
#   log_since FILE...         # what each FILE got after its log_mark
# A test that fails (die, or ovs_test_done after a failed check) prints
# the last lines of every controller's and Raft member's log and keeps
# every log of its lab past the cleanup, in $NVO_TEST_LOG_DIR/PREFIX/
# (default tests/integration/logs/PREFIX/).

top=${top:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/deploy/lab-lib.sh"

fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
die() {
    echo "FAIL: $*"
    ovs__keep_logs
    exit 1
}
# ovs__keep_logs: after a failure, the tails of the controllers' and Raft
# members' logs here, and every log of the lab kept by lab_cleanup.
ovs__keep_logs() {
    local _l
    [ -n "${LAB_DIR:-}" ] && [ -d "$LAB_DIR" ] || return 0
    for _l in "$LAB_DIR"/ctl/nvo-controller.log \
              "$LAB_DIR"/ctl[0-9]*/nvo-controller.log \
              "$LAB_DIR"/db[0-9]*/ovsdb-server.log; do
        [ -f "$_l" ] && { echo "--- ${_l#"$LAB_DIR"/}"; tail -20 "$_l"; }
    done
    NVO_TEST_LOG_DIR=${NVO_TEST_LOG_DIR:-$top/tests/integration/logs}
    export NVO_TEST_LOG_DIR
    echo "every log of the lab kept in $NVO_TEST_LOG_DIR/$LAB_PREFIX/"
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# log_mark FILE...: remembers each FILE's size (0 if it does not exist),
# for log_since.  log_since FILE...: what each FILE got after its last
# log_mark (all of it without one), e.g. the daemons' logs after a kill.
# By byte offset, not by the time of day of the lines, which would drop
# every line once a run crosses midnight.
log_mark() {
    local _f
    for _f in "$@"; do
        eval "ovs__mark_$(ovs__mark_name "$_f")=$(wc -c 2>/dev/null <"$_f" || echo 0)"
    done
}
log_since() {
    local _f _at
    for _f in "$@"; do
        eval "_at=\${ovs__mark_$(ovs__mark_name "$_f"):-0}"
        tail -c +$((_at + 1)) "$_f" 2>/dev/null
    done
}
# ovs__mark_name FILE: FILE's path as a shell variable name's tail.
ovs__mark_name() { printf %s "$1" | tr -c 'A-Za-z0-9_' _; }
# check DESCRIPTION SHELL-CODE: passes if SHELL-CODE (eval'd) exits 0.
check() {
    if (eval "$2") >/dev/null 2>&1; then ok "$1"; else bad "$1"; fi
}
# poll_check DESCRIPTION SHELL-CODE [SECONDS]: like check, for a condition
# that becomes true: passes once SHELL-CODE exits 0, fails after SECONDS
# (default 10).
poll_check() {
    local _i
    _i=0
    until (eval "$2") >/dev/null 2>&1; do
        _i=$((_i + 1))
        [ $_i -ge $((${3:-10} * 5)) ] && { bad "$1 (not within ${3:-10} s)"; return; }
        sleep 0.2
    done
    ok "$1"
}
ovs_test_done() {
    [ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; ovs__keep_logs; exit 1; }
    echo "all checks passed"
    exit 0
}

# ovs_test_init NAME: a lab with prefix NAME + PID, removed on exit.
ovs_test_init() {
    [ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
    P=$1$$
    OVS_TEST_DIR=$(mktemp -d "/tmp/nvo-$1.XXXXXX")
    trap 'lab_cleanup' EXIT
    trap 'exit 1' INT TERM
    lab_init "$P" "$OVS_TEST_DIR" || die lab_init
}

cluster_test_init() {
    command -v ovsdb-tool >/dev/null || { echo "SKIP: no ovsdb-tool"; exit 77; }
    [ -x "$top/controller/nvo-controller" ] || { echo "SKIP: not built"; exit 77; }
    ovs_test_init "$1"
}

ovs_test_two_hvs() {
    lab_underlay_up || die underlay
    lab_controller_start ${OVS_TEST_CTL_ARGS:-} || die controller
    lab_ovs_hv_add hv1 192.0.2.11 || die hv1
    lab_ovs_hv_add hv2 192.0.2.12 || die hv2
    lab_vm_add hv1 vm1 02:00:00:00:01:01 10.0.0.1/24 || die vm1
    lab_vm_add hv2 vm2 02:00:00:00:01:02 10.0.0.2/24 || die vm2
    lab_register_network red 5001 || die "network red"
    lab_register_hv hv1 || die "hypervisor hv1"
    lab_register_hv hv2 || die "hypervisor hv2"
    lab_start_vm vm1 red >/dev/null || die "start vm1"
    lab_start_vm vm2 red >/dev/null || die "start vm2"
}

# hv_field HV KEY: prints KEY of GET /v1/hypervisors/HV.
hv_field() {
    lab_rest GET "/v1/hypervisors/$1" 2>/dev/null | lab_json_get "$2"
}

# hv_synced HV: true if HV is "connected" and confirmed what it must.
hv_synced() {
    local _j
    _j=$(lab_rest GET "/v1/hypervisors/$1" 2>/dev/null) || return 1
    [ "$(echo "$_j" | lab_json_get state)" = connected ] || return 1
    [ "$(echo "$_j" | lab_json_get confirmed_revision)" = \
      "$(echo "$_j" | lab_json_get required_revision)" ]
}

# wait_synced HV [SECONDS]: waits until hv_synced HV (default 20 s).
wait_synced() {
    local _i=0 _max=$(( ${2:-20} * 10 ))
    until hv_synced "$1"; do
        _i=$((_i + 1))
        [ $_i -ge $_max ] && return 1
        sleep 0.1
    done
}

# nvo_flows HV: nvo's flows on HV's br-int (cookie 0x6e...), without the
# fields that change with traffic and time.
nvo_flows() {
    lab_ovs_ofctl "$1" dump-flows | grep 'cookie=0x6e' \
        | sed 's/duration=[^,]*, //; s/n_packets=[^,]*, //; s/n_bytes=[^,]*, //; s/idle_age=[^,]*, //' \
        | sort
}

# min_duration HV: the smallest duration (s, integer part) of nvo's flows.
min_duration() {
    lab_ovs_ofctl "$1" dump-flows | grep 'cookie=0x6e' \
        | sed -n 's/.*duration=\([0-9]*\)\..*/\1/p' | sort -n | head -1
}
