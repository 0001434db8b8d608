#!/bin/sh
# lab.sh - a whole nvo overlay on one machine, in network namespaces: an
# underlay, Open vSwitch hypervisors (and a kernel one when nvo-agent is
# built), nvo-controller, VMs of two tenants that reuse the same addresses.
# See deploy/README.md for the topology and addresses.
set -u

usage() {
    cat <<'EOF'
usage: lab.sh COMMAND [ARGS]      (as root)

Commands:
  up                 build if needed (build-aux/build.sh), stand up the lab,
                     play the orchestrator through REST, print a ping matrix
                     and hv1's OpenFlow table
  down               tear everything down (VM ports deleted through REST
                     first, then daemons stopped, namespaces deleted)
  status             what runs, and the controller's view
  rest METHOD PATH [JSON]
                     call the REST API (inside the controller's namespace),
                     e.g.  lab.sh rest GET /v1/ports
  flows HV           ovs-ofctl -O OpenFlow13 dump-flows br-int on HV
  ping               the ping matrix again
  exec NODE CMD...   run CMD in NODE's namespace (hv1, r1, ctl, ...)
  -h, --help         this help

Environment:
  NVO_LAB_DIR     state directory (default /run/nvo-lab)
  NVO_LAB_PREFIX  namespace prefix (default nvo)
  LAB_KERNEL      auto (default: when agent/nvo-agent is built), yes, no:
                  add kernel hypervisor hv4 (nvo-agent) with one VM per tenant
  LAB_NO_BUILD=1  do not run build-aux/build.sh
  LAB_VERBOSE=1   log every step
The controller keeps its embedded SQLite default (/var/lib/nvo/nvo.db,
or $NVO_STATE_DIR/nvo.db).
EOF
}

top=$(cd "$(dirname "$0")/.." && pwd)
LAB_TOP=$top
. "$top/deploy/lab-lib.sh"

PREFIX=${NVO_LAB_PREFIX:-nvo}
DIR=${NVO_LAB_DIR:-/run/nvo-lab}

# The topology: NAME:IP for hypervisors, VM:HV:MAC:IP/LEN:NETWORK for VMs.
OVS_HVS="hv1:192.0.2.11 hv2:192.0.2.12 hv3:192.0.2.13"
KERNEL_HVS="hv4:192.0.2.14"
NETWORKS="red:5001 blue:5002"
VMS="r1:hv1:02:00:00:00:01:01:10.0.0.1/24:red
r2:hv2:02:00:00:00:01:02:10.0.0.2/24:red
r3:hv3:02:00:00:00:01:03:10.0.0.3/24:red
b1:hv1:02:00:00:00:02:01:10.0.0.1/24:blue
b2:hv2:02:00:00:00:02:02:10.0.0.2/24:blue
b3:hv3:02:00:00:00:02:05:10.0.0.5/24:blue"
KERNEL_VMS="r4:hv4:02:00:00:00:01:04:10.0.0.4/24:red
b4:hv4:02:00:00:00:02:04:10.0.0.4/24:blue"

die() { echo "lab.sh: $*" >&2; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "must run as root (network namespaces)"; }

# vm_field LINE N: field N of a VMS line (the MAC has 6 colon-separated parts).
vm_name() { echo "$1" | cut -d: -f1; }
vm_hv() { echo "$1" | cut -d: -f2; }
vm_mac() { echo "$1" | cut -d: -f3-8; }
vm_cidr() { echo "$1" | cut -d: -f9; }
vm_net() { echo "$1" | cut -d: -f10; }

is_up() { [ -f "$DIR/up" ] && ip netns list | grep -q "^${PREFIX}ctl\\b"; }

with_kernel() {
    case ${LAB_KERNEL:-auto} in
        yes) return 0 ;;
        no) return 1 ;;
        *) [ -x "${NVO_BIN_DIR:-$top/agent}/nvo-agent" ] ;;
    esac
}

# Deletes, through REST, the lab's ports, then its hypervisors and
# networks, wherever the controller's database still has them (a previous
# lab whose state directory is gone leaves them behind).
forget_lab_objects() {
    names=$(for l in $VMS $KERNEL_VMS; do vm_name "$l"; done)
    ports=$(lab_rest GET /v1/ports 2>/dev/null | python3 -c '
import json, sys
vms = set(sys.argv[1:])
for p in json.load(sys.stdin):
    if p.get("vm") in vms:
        print(p["id"])' $names) || return 0
    for id in $ports; do
        lab_rest DELETE "/v1/ports/$id" >/dev/null
    done
    for h in $OVS_HVS $KERNEL_HVS; do
        st=$(lab_rest_status DELETE "/v1/hypervisors/${h%%:*}")
        case $st in 204|404) ;; *) echo "lab.sh: DELETE hypervisor ${h%%:*}: HTTP $st" >&2 ;; esac
    done
    for n in $NETWORKS; do
        st=$(lab_rest_status DELETE "/v1/networks/${n%%:*}")
        case $st in 204|404) ;; *) echo "lab.sh: DELETE network ${n%%:*}: HTTP $st" >&2 ;; esac
    done
}

cmd_up() {
    need_root
    if is_up; then
        echo "lab.sh: the lab is already up (lab.sh status; lab.sh down to remove it)"
        return 0
    fi
    if [ -d "$DIR" ]; then
        echo "lab.sh: removing a partial lab left in $DIR"
        cmd_down >/dev/null
    fi
    if [ "${LAB_NO_BUILD:-0}" != 1 ]; then
        echo "== build (build-aux/build.sh)"
        "$top/build-aux/build.sh" || die "build failed"
    fi
    t0=$(date +%s%N)
    lab_init "$PREFIX" "$DIR" || die "lab_init"
    export LAB_DB_DEFAULT=1
    kernel=no
    if with_kernel; then kernel=yes; fi

    echo "== underlay $LAB_NET (namespace ${PREFIX}ul, bridge br-ul, MTU $LAB_UL_MTU)"
    lab_underlay_up || die "underlay"
    echo "== nvo-controller at $LAB_CTL_IP (namespace ${PREFIX}ctl; REST 127.0.0.1:$LAB_REST_PORT there)"
    lab_controller_start || die "controller (log: $DIR/ctl/nvo-controller.log)"
    forget_lab_objects
    for h in $OVS_HVS; do
        echo "== OVS hypervisor ${h%%:*} at ${h#*:}"
        lab_ovs_hv_add "${h%%:*}" "${h#*:}" || die "hypervisor ${h%%:*}"
    done
    vms=$VMS
    if [ $kernel = yes ]; then
        for h in $KERNEL_HVS; do
            echo "== kernel hypervisor ${h%%:*} at ${h#*:} (nvo-agent)"
            lab_kernel_hv_add "${h%%:*}" "${h#*:}" || die "hypervisor ${h%%:*}"
        done
        vms="$VMS
$KERNEL_VMS"
    fi
    for l in $vms; do
        lab_vm_add "$(vm_hv "$l")" "$(vm_name "$l")" "$(vm_mac "$l")" \
            "$(vm_cidr "$l")" || die "VM $(vm_name "$l")"
    done
    echo "== plumbing: $(( ($(date +%s%N) - t0) / 1000000 )) ms"

    echo "== orchestrator: networks, hypervisors, VM starts (POST ?wait=1)"
    for n in $NETWORKS; do
        lab_register_network "${n%%:*}" "${n#*:}" || die "network ${n%%:*}"
        echo "   network ${n%%:*} VNI ${n#*:}"
    done
    hvs=$OVS_HVS
    [ $kernel = yes ] && hvs="$hvs $KERNEL_HVS"
    for h in $hvs; do
        lab_register_hv "${h%%:*}" || die "hypervisor ${h%%:*}"
        echo "   hypervisor ${h%%:*} ($(lab_node_get "${h%%:*}" kind))"
    done
    bad=0
    for l in $vms; do
        vm=$(vm_name "$l")
        if id=$(lab_start_vm "$vm" "$(vm_net "$l")"); then
            echo "   port $id: VM $vm ($(vm_cidr "$l"), $(vm_mac "$l")) on $(vm_hv "$l") in $(vm_net "$l")"
        else
            echo "   VM $vm: not confirmed (see lab.sh rest GET /v1/ports)" >&2
            bad=1
        fi
    done
    touch "$DIR/up"
    echo "== lab up in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
    echo
    cmd_ping || bad=1
    echo
    echo "== hv1: ovs-ofctl -O OpenFlow13 dump-flows br-int"
    lab_ovs_ofctl hv1 dump-flows
    echo
    echo "Try: lab.sh rest GET /v1/ports | lab.sh flows hv2 | lab.sh exec r1 ping 10.0.0.3 | lab.sh down"
    [ $bad = 0 ] || { echo "lab.sh: the lab is up, but not everything works (see above)" >&2; return 1; }
}

cmd_ping() {
    echo "== ping matrix (ok/FAIL: same tenant; iso/LEAK: other tenant's address,"
    echo "   must not answer; -: that address also exists in the source's tenant)"
    # shellcheck disable=SC2046
    lab_ping_matrix $(lab_vms | sort -k1.1,1.1r -k1.2n)
}

cmd_down() {
    need_root
    if [ ! -d "$DIR" ]; then
        echo "lab.sh: no lab in $DIR"
        return 0
    fi
    lab_init "$PREFIX" "$DIR" || die "lab_init"
    if [ "$(lab_rest_status GET /healthz 2>/dev/null)" = 200 ]; then
        forget_lab_objects
    fi
    lab_cleanup
    echo "lab.sh: the lab is down"
}

cmd_status() {
    if ! [ -d "$DIR" ]; then echo "lab.sh: no lab (lab.sh up)"; return 1; fi
    lab_init "$PREFIX" "$DIR" || die "lab_init"
    is_up && echo "lab: up, state in $DIR" || echo "lab: partly up, state in $DIR"
    echo "namespaces:"
    for ns in $(cat "$DIR/netns"); do
        ip netns list | grep -q "^$ns\\b" && s=present || s=MISSING
        echo "  $ns $s"
    done
    echo "daemons:"
    while read -r pid st comm; do
        if lab__pid_alive "$pid" "$st"; then s=running; else s=gone; fi
        echo "  $pid $comm in $(ip netns identify "$pid" 2>/dev/null) $s"
    done <"$DIR/pids"
    if [ "$(lab_rest_status GET /healthz 2>/dev/null)" = 200 ]; then
        echo "controller hypervisors:"
        lab_rest GET /v1/hypervisors | python3 -c '
import json, sys
for h in json.load(sys.stdin):
    print("  %-6s %-11s %-7s %-13s state=%s confirmed=%s/%s" % (h.get("name"),
          h.get("tunnel_ip"), h.get("dataplane"), h.get("role"), h.get("state"),
          h.get("confirmed_revision"), h.get("required_revision")))'
        echo "controller ports:"
        lab_rest GET /v1/ports | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    print("  %-4s %-4s %-5s %-4s %s %s" % (p.get("id"), p.get("vm"), p.get("network"),
          p.get("hypervisor"), p.get("mac"), p.get("ip") or ""))'
    else
        echo "controller: not answering"
    fi
}

[ $# -ge 1 ] || { usage >&2; exit 2; }
cmd=$1; shift
case $cmd in
    -h|--help|help) usage ;;
    up) cmd_up ;;
    down) cmd_down ;;
    status) need_root; cmd_status ;;
    rest)
        need_root
        [ $# -ge 2 ] || die "usage: lab.sh rest METHOD PATH [JSON]"
        [ -d "$DIR" ] || die "no lab (lab.sh up)"
        lab_init "$PREFIX" "$DIR" && lab_rest "$@"; rc=$?
        echo; exit $rc ;;
    flows)
        need_root
        [ $# -eq 1 ] || die "usage: lab.sh flows HV"
        lab_init "$PREFIX" "$DIR" || exit 1
        [ "$(lab_node_get "$1" kind)" = ovs ] || die "$1 is not an OVS hypervisor"
        lab_ovs_ofctl "$1" dump-flows ;;
    ping) need_root; [ -f "$DIR/up" ] || die "no lab (lab.sh up)"
        lab_init "$PREFIX" "$DIR" && cmd_ping ;;
    exec)
        need_root
        [ $# -ge 2 ] || die "usage: lab.sh exec NODE CMD..."
        [ -d "$DIR" ] || die "no lab (lab.sh up)"
        lab_init "$PREFIX" "$DIR" || exit 1
        node=$1; shift
        ip netns exec "$PREFIX$node" "$@" ;;
    *) usage >&2; exit 2 ;;
esac
