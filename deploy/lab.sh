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
  up [--controllers=N]
                     build if needed (build-aux/build.sh), stand up the lab,
                     play the orchestrator through REST, print a ping matrix
                     and hv1's OpenFlow table.  With N > 1: cluster mode
                     (doc/cluster.md): a 3-member ovsdb-server Raft cluster
                     (db1-db3, 192.0.2.201-203) and N controllers ctl1..ctlN
                     (192.0.2.191...) sharing the OVS hypervisors; with
                     LAB_TLS=1 the Raft cluster (ssl: between members and
                     to the controllers) as well as every other channel
  down               tear everything down (VM ports deleted through REST
                     first, then daemons stopped, namespaces deleted)
  status             what runs, and `nvoctl status` (the controller's view);
                     in cluster mode also which controller owns which
                     hypervisor and each Raft member's role
  kill-controller N  cluster mode: kill -9 controller N
  start-controller N cluster mode: start controller N again
  nvoctl ARGS...     run nvoctl against the lab's controller, e.g.
                     lab.sh nvoctl port list   (nvoctl --help)
  rest METHOD PATH [JSON]
                     call the REST API with curl (inside the controller's
                     namespace), e.g.  lab.sh rest GET /v1/ports
  flows HV           ovs-ofctl -O OpenFlow13 dump-flows br-int on HV
  ping               the ping matrix again
  exec NODE CMD...   run CMD in NODE's namespace (hv1, r1, controller;
                     ctl is short for controller, whose namespace is
                     PREFIXcontroller: nvocontroller by default)
  -h, --help         this help

Environment:
  NVO_LAB_DIR     state directory (default /run/nvo-lab)
  NVO_LAB_PREFIX  namespace prefix (default nvo)
  LAB_KERNEL      auto (default: when agent/nvo-agent is built), yes, no:
                  add kernel hypervisor hv4 (nvo-agent) with one VM per tenant
  LAB_NO_BUILD=1  do not run build-aux/build.sh
  LAB_VERBOSE=1   log every step
  LAB_TLS         1 (default): every channel over TLS, with a PKI made by
                  ovs-pki in $NVO_LAB_DIR/pki (controller CA and switch CA;
                  the controller's certificate, one per hypervisor with
                  CN=its name), REST over HTTPS with an admin token (lab.sh
                  rest and lab.sh nvoctl send it); 0: everything plain
The controller keeps its embedded SQLite default (/var/lib/nvo/nvo.db,
or $NVO_STATE_DIR/nvo.db); cluster mode keeps everything in the lab's
Raft cluster.  nvoctl and rest talk to the first controller that runs;
the agents are given every controller and are served by their
hypervisor's owner.
EOF
}

top=$(cd "$(dirname "$0")/.." && pwd)
# A lab keeps the TLS mode it was brought up with.
if [ -f "${NVO_LAB_DIR:-/run/nvo-lab}/tls" ]; then
    LAB_TLS=$(cat "${NVO_LAB_DIR:-/run/nvo-lab}/tls")
fi
LAB_TLS=${LAB_TLS:-1}
export LAB_TLS
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

die() {
    echo "lab.sh: $*" >&2
    [ -n "${in_up:-}" ] && echo "lab.sh: logs are in $DIR; lab.sh down removes the partial lab" >&2
    exit 1
}
need_root() { [ "$(id -u)" = 0 ] || die "must run as root (network namespaces)"; }

# vm_field LINE N: field N of a VMS line (the MAC has 6 colon-separated parts).
vm_name() { echo "$1" | cut -d: -f1; }
vm_hv() { echo "$1" | cut -d: -f2; }
vm_mac() { echo "$1" | cut -d: -f3-8; }
vm_cidr() { echo "$1" | cut -d: -f9; }
vm_net() { echo "$1" | cut -d: -f10; }

is_up() { [ -f "$DIR/up" ] && ip netns list | grep -q "^${PREFIX}\(controller\|ctl1\)\\b"; }

# Cluster mode: how many controllers (0: the single SQLite controller).
n_controllers() { cat "$DIR/controllers" 2>/dev/null || echo 0; }

# use_cluster: in cluster mode, points nvoctl/rest (LAB_CTL_NS) at the
# first controller that runs, and agents at every controller (LAB_CTL_IPS).
use_cluster() {
    n=$(n_controllers)
    [ "$n" -gt 0 ] || return 0
    LAB_CTL_IPS=$(lab_ctl_ips "$n")
    export LAB_CTL_IPS
    for i in $(seq 1 "$n"); do
        pid=$(lab_ctl_pid "$i" 2>/dev/null) || continue
        if kill -0 "$pid" 2>/dev/null; then
            LAB_CTL_NS=$(lab_ctl_ns "$i") LAB_CTL_IP=$(lab_ctl_ip "$i")
            export LAB_CTL_NS LAB_CTL_IP
            return 0
        fi
    done
    LAB_CTL_NS=$(lab_ctl_ns 1) LAB_CTL_IP=$(lab_ctl_ip 1)
    export LAB_CTL_NS LAB_CTL_IP
}

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
    ports=$(lab_nvoctl --format=json port list 2>/dev/null | python3 -c '
import json, sys
vms = set(sys.argv[1:])
for p in json.load(sys.stdin):
    if p.get("vm") in vms:
        print(p["id"])' $names) || return 0
    for id in $ports; do
        lab_nvoctl port del "$id" >/dev/null
    done
    # nvoctl exits 1 when the controller refuses (e.g. 404: already gone).
    for h in $OVS_HVS $KERNEL_HVS; do
        lab_nvoctl hypervisor del "${h%%:*}" 2>&1 | grep -v 'not_found' >&2
    done
    for n in $NETWORKS; do
        lab_nvoctl network del "${n%%:*}" 2>&1 | grep -v 'not_found' >&2
    done
}

# register_hv NAME: nvoctl hypervisor add with what lab_*_hv_add recorded.
register_hv() {
    ip=$(lab_node_get "$1" ip)
    case $(lab_node_get "$1" kind) in
        ovs) lab_nvoctl hypervisor add "$1" "$ip" ovs --ovsdb="$(lab_ovsdb_remote "$1")" ;;
        *) lab_nvoctl hypervisor add "$1" "$ip" kernel \
               --role="$(lab_node_get "$1" role)" ;;
    esac >/dev/null
}

# start_vm VM NETWORK: nvoctl port add --wait; prints the port's id.
start_vm() {
    lab__set "$DIR/vm/$1" network "$2"
    out=$(lab_nvoctl --format=json --wait port add "$1" "$2" \
          "$(lab_vm_get "$1" hv)" "$(lab_vm_get "$1" mac)" \
          "$(lab_vm_get "$1" iface)" --ip="$(lab_vm_get "$1" ip)") || return 1
    id=$(echo "$out" | lab_json_get id) || return 1
    lab__set "$DIR/vm/$1" port "$id"
    echo "$id"
}

cmd_up() {
    ctls=0
    for a in "$@"; do
        case $a in
            --controllers=*) ctls=${a#--controllers=} ;;
            *) die "up: unknown option $a" ;;
        esac
    done
    case $ctls in
        ''|*[!0-9]*) die "--controllers wants a number" ;;
    esac
    [ "$ctls" -le 1 ] && ctls=0
    [ "$ctls" -le 9 ] || die "--controllers: at most 9"
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
    in_up=1
    lab_init "$PREFIX" "$DIR" || die "lab_init"
    echo "$LAB_TLS" >"$DIR/tls"
    export LAB_DB_DEFAULT=1
    kernel=no
    if with_kernel; then kernel=yes; fi

    echo "== underlay $LAB_NET (namespace ${PREFIX}ul, bridge br-ul, MTU $LAB_UL_MTU)"
    lab_underlay_up || die "underlay"
    if [ "$ctls" -gt 0 ]; then
        echo "$ctls" >"$DIR/controllers"
        echo "== Raft cluster: ovsdb-server db1-db3 at $(lab_raft_ip 1)-$(lab_raft_ip 3), schema/nvo.ovsschema"
        lab_raft_up 3 || die "Raft cluster (logs: $DIR/db*/ovsdb-server.log)"
        for i in $(seq 1 "$ctls"); do
            echo "== nvo-controller ctl$i at $(lab_ctl_ip "$i") (namespace $(lab_ctl_ns "$i"); REST 127.0.0.1:$LAB_REST_PORT there)"
            lab_ctl_start "$i" || die "controller ctl$i (log: $DIR/ctl$i/nvo-controller.log)"
        done
        use_cluster
    else
        echo "== nvo-controller at $LAB_CTL_IP (namespace $LAB_CTL_NS; REST 127.0.0.1:$LAB_REST_PORT there)"
        lab_controller_start || die "controller (log: $DIR/ctl/nvo-controller.log)"
    fi
    if [ -n "${LAB_PKI:-}" ]; then
        echo "   TLS on every channel: PKI (ovs-pki) in $LAB_PKI; REST at" \
             "https://ctl:$LAB_REST_PORT with the token in $LAB_PKI/rest-token" \
             "(the topology page at / asks for it)"
    else
        echo "   plain (LAB_TLS=0): no authentication on any channel"
    fi
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

    echo "== orchestrator (nvoctl): networks, hypervisors, VM starts (--wait)"
    for n in $NETWORKS; do
        lab_nvoctl network add "${n%%:*}" "${n#*:}" --bum=head-end >/dev/null \
            || die "network ${n%%:*}"
        echo "   network ${n%%:*} VNI ${n#*:}"
    done
    hvs=$OVS_HVS
    [ $kernel = yes ] && hvs="$hvs $KERNEL_HVS"
    for h in $hvs; do
        register_hv "${h%%:*}" || die "hypervisor ${h%%:*}"
        echo "   hypervisor ${h%%:*} ($(lab_node_get "${h%%:*}" kind))"
    done
    bad=0
    for l in $vms; do
        vm=$(vm_name "$l")
        if id=$(start_vm "$vm" "$(vm_net "$l")"); then
            echo "   port $id: VM $vm ($(vm_cidr "$l"), $(vm_mac "$l")) on $(vm_hv "$l") in $(vm_net "$l")"
        else
            echo "   VM $vm: not confirmed (see lab.sh nvoctl status)" >&2
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
    echo "Try: lab.sh status | lab.sh nvoctl port list | lab.sh flows hv2 | lab.sh exec r1 ping 10.0.0.3 | lab.sh down"
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
    use_cluster
    if lab_nvoctl --timeout=5 status >/dev/null 2>&1; then
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
    use_cluster
    if [ "$(n_controllers)" -gt 0 ]; then
        echo
        echo "Raft members:"
        for i in $(seq 1 "${LAB_RAFT_N:-0}"); do
            echo "  db$i $(lab_raft_ip "$i") $(lab_raft_role "$i" || true)"
        done
        echo "controllers:"
        for i in $(seq 1 "$(n_controllers)"); do
            if [ "$(lab_ctl_rest_status "$i" GET /healthz 2>/dev/null)" = 200 ]; then
                s=up
            else
                s=down
            fi
            echo "  ctl$i $(lab_ctl_ip "$i") $s"
        done
        echo "owners (as $LAB_CTL_NS sees them):"
        lab_rest GET /v1/hypervisors 2>/dev/null | python3 -c '
import json, sys
for h in json.load(sys.stdin):
    print("  %-6s %-7s controller=%-6s confirmed=%s" % (h["name"],
          h["dataplane"], h.get("controller") or "-",
          h.get("confirmed_revision")))'
    fi
    echo
    echo "nvoctl status:"
    lab_nvoctl status || echo "controller: not answering"
}

cmd_controller() {   # cmd_controller kill|start N
    need_root
    [ -d "$DIR" ] || die "no lab (lab.sh up)"
    lab_init "$PREFIX" "$DIR" || exit 1
    [ "$(n_controllers)" -gt 0 ] || die "not a cluster lab (lab.sh up --controllers=3)"
    case $2 in
        ''|*[!0-9]*) die "usage: lab.sh $1-controller N" ;;
    esac
    [ "$2" -ge 1 ] && [ "$2" -le "$(n_controllers)" ] \
        || die "no controller $2 (1..$(n_controllers))"
    if [ "$1" = kill ]; then
        lab_ctl_stop "$2" KILL && echo "lab.sh: ctl$2 killed (-9)"
    else
        lab_ctl_start "$2" && echo "lab.sh: ctl$2 started"
    fi
}

[ $# -ge 1 ] || { usage >&2; exit 2; }
cmd=$1; shift
case $cmd in
    -h|--help|help) usage ;;
    up) cmd_up "$@" ;;
    kill-controller) cmd_controller kill "${1:-}" ;;
    start-controller) cmd_controller start "${1:-}" ;;
    down) cmd_down ;;
    status) need_root; cmd_status ;;
    nvoctl)
        need_root
        [ -d "$DIR" ] || die "no lab (lab.sh up)"
        lab_init "$PREFIX" "$DIR" || exit 1
        use_cluster
        lab_nvoctl "$@"; exit $? ;;
    rest)
        need_root
        [ $# -ge 2 ] || die "usage: lab.sh rest METHOD PATH [JSON]"
        [ -d "$DIR" ] || die "no lab (lab.sh up)"
        lab_init "$PREFIX" "$DIR" && use_cluster && lab_rest "$@"; rc=$?
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
        [ "$node" = ctl ] && node=controller
        ip netns exec "$PREFIX$node" "$@" ;;
    *) usage >&2; exit 2 ;;
esac
