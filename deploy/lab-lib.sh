# lab-lib.sh - nvo's lab in network namespaces, as a library of shell
# functions (POSIX sh; dash and bash).  Sourced by deploy/lab.sh and by the
# integration tests (tests/integration/test-*.sh).
#
#   . deploy/lab-lib.sh
#   lab_init t$$ "$(mktemp -d)"          # prefix for every name, state dir
#   trap lab_cleanup EXIT
#   lab_underlay_up                       # ${P}ul: bridge br-ul, 192.0.2.0/24
#   lab_controller_start                  # ${P}controller at .1, REST, agents
#   lab_ovs_hv_add hv1 192.0.2.11         # ${P}hv1: ovsdb-server+ovs-vswitchd
#   lab_kernel_hv_add hv4 192.0.2.14      # ${P}hv4: kernel VTEP + nvo-agent
#   lab_vm_add hv1 vm1 02:00:00:00:00:01 10.0.0.1/24
#   lab_register_network red 1001; lab_register_hv hv1
#   lab_start_vm vm1 red                  # POST /v1/ports?wait=1
#   lab_ping vm1 10.0.0.2
#
# Names.  Every namespace is ${LAB_PREFIX}NAME: ${P}ul (underlay),
# ${P}controller ($LAB_CTL_NS: nvo-controller; named so it is not taken for
# the nvoctl tool), one per hypervisor and one per VM (so hypervisor and VM
# names must differ).  Interfaces live only inside the lab's namespaces and
# are created there directly, so they never collide with the root
# namespace's or another lab's:
#   ${P}ul:  br-ul (bridge), u-NAME (underlay veth toward node NAME)
#   node:    ul0 (underlay veth; on OVS hypervisors a port of br-phy, which
#            holds the IP; elsewhere it holds the IP itself)
#   OVS hv:  br-phy, br-int (netdev bridges), v-VM (VM's veth, HV side)
#   VM:      eth0 (with the VM's MAC and IP)
# So NAME and VM are at most 13 characters.
#
# State, all under $LAB_DIR (removed by lab_cleanup):
#   pids          "PID STARTTIME COMM" of every daemon and lab_bg process
#                 started (cleanup kills only those)
#   netns         every namespace created (cleanup deletes only those)
#   node/NAME     key=value: kind (ctl|ovs|kernel), ip, role (the
#                 controller's node is named "controller")
#   vm/VM         key=value: hv, mac, ip, cidr, iface, network, port
#   hv/NAME/      an OVS hypervisor's run dir: conf.db, db.sock,
#                 ovsdb-server.ctl, ovs-vswitchd.ctl, br-int.mgmt, logs
#   ctl/          controller log and pidfile; agent/NAME/ likewise per agent
#   dbN/          Raft member N of the cluster-mode OVSDB (lab_raft_up):
#                 nvo.db, ovsdb-server.{ctl,pid,log}; raft-n says how many
#   ctlN/         cluster-mode controller N (lab_ctl_start): log, pidfile
#
# Settings (environment, read by lab_init):
#   LAB_NET        underlay subnet, a /24 (default 192.0.2.0/24), or a /16
#                  for labs of more than 250 nodes (e.g. 198.18.0.0/16, the
#                  benchmarking range)
#   LAB_UL_MTU     underlay MTU (default 1600: VXLAN adds 50 bytes)
#   LAB_VM_MTU     VM MTU (default 1500 if the underlay allows it, else
#                  underlay MTU - 50)
#   NVO_BIN_DIR    folder holding nvo-controller and nvo-agent (default the
#                  source tree's controller/ and agent/)
#   LAB_DB_DEFAULT 1: start the controller without --db (its default
#                  SQLite file under its state directory)
#   LAB_REST_PORT  REST port inside ${P}controller (default 8080)
#   LAB_AGENT_ARGS extra arguments for every nvo-agent
#   LAB_PKI        a PKI folder (set by lab_pki_init): the controller then
#                  runs with its certificate and every agent connects with
#                  ssl: and a certificate naming it (made on demand); the
#                  controller also gets --rest-token-file (REST over HTTPS
#                  at https://ctl:PORT inside its namespace, with an admin
#                  token that lab_rest and lab_nvoctl send); OVS
#                  hypervisors added then serve OVSDB on pssl:6640:IP only
#                  (their certificate in the SSL table, trusting the
#                  controller CA) and are registered with "ovsdb":"ssl:..."
#                  In cluster mode (lab_raft_up, lab_ctl_start) the Raft
#                  members too: Raft between them on ssl:IP:6643, clients
#                  on pssl:6641:IP, each with a certificate dbN of the
#                  switch CA trusting both CAs; the controllers then use
#                  ssl: remotes and run as the single controller does
#   LAB_TLS        1: lab_init makes the PKI (lab_pki_init in
#                  $LAB_DIR/pki, or reuses it), so every channel runs TLS
#                  (default 0: plain unless LAB_PKI is set)
#   LAB_OVS_ROUTES pinned (default): ovs-vswitchd runs with
#                  --disable-system-route and the underlay subnet as a user
#                  route (ovs/route/add), so VM ports coming and going lose
#                  no tunnelled packet; system: OVS's default, the kernel's
#                  routing table mirrored (loses packets on every link
#                  change in the namespace; for tests that show it)
#   LAB_VERBOSE    1: log every step on stderr
#   NVO_TEST_LOG_DIR  if set, lab_cleanup first copies every log of the lab
#                  (*.log under LAB_DIR) to NVO_TEST_LOG_DIR/LAB_PREFIX/, so
#                  tests/run-sanitized.sh can scan them after the lab is gone
#
# Every function returns 0 on success and non-zero (with a message on
# stderr) on failure; none relies on the caller's set -e.

lab__log() {
    [ "${LAB_VERBOSE:-0}" = 1 ] && echo "lab: $*" >&2
    return 0
}

lab__err() {
    echo "lab: error: $*" >&2
    return 1
}

# lab__do CMD...: runs CMD; on failure says which command failed.
lab__do() {
    lab__log "$*"
    "$@" || { lab__err "failed ($?): $*"; return 1; }
}

# Where the source tree is: $LAB_TOP, else the first folder above the
# running script that holds deploy/lab-lib.sh.
lab__find_top() {
    local _d
    if [ -n "${LAB_TOP:-}" ]; then echo "$LAB_TOP"; return 0; fi
    _d=$(cd "$(dirname "$0")" 2>/dev/null && pwd)
    while [ -n "$_d" ] && [ "$_d" != / ]; do
        if [ -f "$_d/deploy/lab-lib.sh" ]; then echo "$_d"; return 0; fi
        _d=$(dirname "$_d")
    done
    pwd
}

# lab_init PREFIX DIR: sets the lab's variables; creates DIR.
lab_init() {
    [ $# -eq 2 ] || { lab__err "usage: lab_init PREFIX DIR"; return 1; }
    case $1 in
        ''|*[!A-Za-z0-9_-]*) lab__err "bad prefix '$1'"; return 1 ;;
    esac
    LAB_PREFIX=$1
    LAB_DIR=$2
    LAB_NET=${LAB_NET:-192.0.2.0/24}
    LAB_NET_LEN=${LAB_NET#*/}
    case $LAB_NET_LEN in
        24) LAB_NET_BASE=${LAB_NET%.*/*}; LAB_CTL_IP=$LAB_NET_BASE.1 ;;
        16) LAB_NET_BASE=${LAB_NET%.*.*/*}; LAB_CTL_IP=$LAB_NET_BASE.0.1 ;;
        *) lab__err "LAB_NET must be a /24 or a /16 (got $LAB_NET)"
           return 1 ;;
    esac
    LAB_UL_MTU=${LAB_UL_MTU:-1600}
    if [ -z "${LAB_VM_MTU:-}" ]; then
        if [ "$LAB_UL_MTU" -ge 1550 ]; then LAB_VM_MTU=1500
        else LAB_VM_MTU=$((LAB_UL_MTU - 50)); fi
    fi
    LAB_TOP=$(lab__find_top)
    LAB_REST_PORT=${LAB_REST_PORT:-8080}
    if [ -n "${NVO_BIN_DIR:-}" ]; then
        LAB_CONTROLLER_BIN=$NVO_BIN_DIR/nvo-controller
        LAB_AGENT_BIN=$NVO_BIN_DIR/nvo-agent
        LAB_NVOCTL_BIN=$NVO_BIN_DIR/nvoctl
    else
        LAB_CONTROLLER_BIN=$LAB_TOP/controller/nvo-controller
        LAB_AGENT_BIN=$LAB_TOP/agent/nvo-agent
        LAB_NVOCTL_BIN=$LAB_TOP/nvoctl/nvoctl
    fi
    LAB_CTL_NS=${LAB_PREFIX}controller
    LAB_TLS=${LAB_TLS:-0}
    LAB_OVS_SCHEMA=${LAB_OVS_SCHEMA:-/usr/share/openvswitch/vswitch.ovsschema}
    LAB_OVS_ROUTES=${LAB_OVS_ROUTES:-pinned}
    case $LAB_OVS_ROUTES in
        pinned|system) ;;
        *) lab__err "LAB_OVS_ROUTES must be pinned or system"; return 1 ;;
    esac
    mkdir -p "$LAB_DIR/node" "$LAB_DIR/vm" "$LAB_DIR/hv" || return 1
    touch "$LAB_DIR/pids" "$LAB_DIR/netns" || return 1
    LAB_RAFT_N=$(cat "$LAB_DIR/raft-n" 2>/dev/null || echo 0)
    export LAB_PREFIX LAB_DIR LAB_NET LAB_NET_BASE LAB_NET_LEN LAB_UL_MTU \
        LAB_VM_MTU LAB_TOP LAB_REST_PORT LAB_CTL_IP LAB_CONTROLLER_BIN \
        LAB_AGENT_BIN LAB_NVOCTL_BIN LAB_CTL_NS LAB_RAFT_N LAB_TLS \
        LAB_OVS_ROUTES
    if [ "$LAB_TLS" = 1 ] && [ -z "${LAB_PKI:-}" ]; then
        if [ -d "$LAB_DIR/pki/pki/controllerca" ]; then
            LAB_PKI=$LAB_DIR/pki
            export LAB_PKI
        else
            lab_pki_init || return 1
        fi
    fi
}

lab__need_init() {
    [ -n "${LAB_PREFIX:-}" ] && [ -n "${LAB_DIR:-}" ] && [ -d "$LAB_DIR" ] \
        || { lab__err "lab_init first"; return 1; }
}

# ---------------------------------------------------------------------------
# Small state helpers.

# lab_ns NAME: prints the namespace of node or VM NAME.
lab_ns() { echo "$LAB_PREFIX$1"; }

# lab__get FILE KEY: prints KEY's value in key=value FILE.
lab__get() {
    [ -f "$1" ] || return 1
    sed -n "s/^$2=//p" "$1" | tail -n 1
}

# lab__set FILE KEY VALUE
lab__set() {
    if [ -f "$1" ]; then
        sed -i "/^$2=/d" "$1" || return 1
    fi
    echo "$2=$3" >>"$1"
}

lab_node_get() { lab__get "$LAB_DIR/node/$1" "$2"; }
lab_vm_get() { lab__get "$LAB_DIR/vm/$1" "$2"; }

# lab_nodes [KIND]: prints the names of every node (of KIND).
lab_nodes() {
    local _f _n
    for _f in "$LAB_DIR"/node/*; do
        [ -f "$_f" ] || continue
        _n=${_f##*/}
        if [ -z "${1:-}" ] || [ "$(lab__get "$_f" kind)" = "$1" ]; then
            echo "$_n"
        fi
    done
}

# lab_vms: prints every VM's name.
lab_vms() {
    local _f
    for _f in "$LAB_DIR"/vm/*; do
        [ -f "$_f" ] && echo "${_f##*/}"
    done
    return 0
}

lab__netns_add() {
    local _ns
    _ns=$LAB_PREFIX$1
    if ip netns list | sed 's/ .*//' | grep -qx "$_ns"; then
        lab__err "namespace $_ns already exists"; return 1
    fi
    echo "$_ns" >>"$LAB_DIR/netns"
    lab__do ip netns add "$_ns" || return 1
    lab__do ip -n "$_ns" link set lo up
}

# lab__starttime PID: prints PID's start time (clock ticks since boot),
# which with the PID identifies a process across PID reuse and exec.
lab__starttime() {
    sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

# lab_record_pid PID: records PID as the lab's (lab_cleanup kills it).
lab_record_pid() {
    local _st
    _st=$(lab__starttime "$1")
    [ -n "$_st" ] || { lab__err "process $1 is not running"; return 1; }
    echo "$1 $_st $(cat "/proc/$1/comm" 2>/dev/null)" >>"$LAB_DIR/pids"
}

# lab__record_pid PIDFILE: records the daemon whose PID PIDFILE holds.
lab__record_pid() {
    local _pid
    _pid=$(cat "$1" 2>/dev/null) || { lab__err "no pidfile $1"; return 1; }
    lab_record_pid "$_pid" || { lab__err "pidfile $1: $_pid is gone"; return 1; }
}

# lab__pid_alive PID STARTTIME: true if PID still is the process recorded
# and has not exited.  A daemon that exited stays a zombie until its parent
# reaps it: for the lab's detached daemons that is PID 1, which in some
# containers does so only every second or two (seen: 1.5-2 s here), and
# waiting for that made every stop take that long.
lab__pid_alive() {
    local _s
    [ -n "$2" ] || return 1
    _s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1,20)
    [ "${_s#* }" = "$2" ] && [ "${_s%% *}" != Z ]
}

# lab_pid_exited PID: true once PID has exited, reaped or not (a zombie
# counts, as in lab__pid_alive): for polling the end of a process that is
# not this shell's child, such as lab_bg's or a detached daemon's, where
# `kill -0` would wait for PID 1 to reap it.
lab_pid_exited() {
    local _s
    _s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -z "$_s" ] || [ "$_s" = Z ]
}

# lab_pid_id PID: prints "PID:STARTTIME", an id of this process that no
# later one given the same number matches (this machine's PIDs wrap at
# 32768 and come round again within minutes), for lab_pid_id_alive.
lab_pid_id() {
    echo "$1:$(lab__starttime "$1")"
}

# lab_pid_id_alive ID: true if the process lab_pid_id named by ID still runs
# (not a zombie): what a cleanup may kill, unlike a bare PID recorded
# earlier, which may be another process's by then.
lab_pid_id_alive() {
    lab__pid_alive "${1%%:*}" "${1#*:}"
}

# lab_bg NODE-OR-VM CMD...: runs CMD in the background in NODE-OR-VM's
# namespace, its output appended to $LAB_BG_LOG (default $LAB_DIR/bg.log),
# records its PID (killed by lab_cleanup) and prints it.
lab_bg() {
    local _ns _pid
    _ns=$LAB_PREFIX$1; shift
    ip netns exec "$_ns" "$@" </dev/null >>"${LAB_BG_LOG:-$LAB_DIR/bg.log}" 2>&1 &
    _pid=$!
    lab_record_pid "$_pid" || return 1
    echo "$_pid"
}

# lab__stop_pidfile PIDFILE [SIGNAL]: sends SIGNAL (default TERM) to the
# process in PIDFILE if it is one this lab recorded; waits up to 5 s for it
# to exit (TERM/INT only).
lab__stop_pidfile() {
    local _st _i _pid _sig
    _pid=$(cat "$1" 2>/dev/null) || return 0
    _sig=${2:-TERM}
    _st=$(awk -v p="$_pid" '$1 == p { c = $2 } END { print c }' \
            "$LAB_DIR/pids")
    lab__pid_alive "$_pid" "$_st" || return 0
    kill -s "$_sig" "$_pid" 2>/dev/null || return 0
    case $_sig in TERM|INT|KILL) ;; *) return 0 ;; esac
    _i=0
    while lab__pid_alive "$_pid" "$_st"; do
        _i=$((_i + 1))
        if [ $_i -gt 50 ]; then
            kill -s KILL "$_pid" 2>/dev/null
        fi
        [ $_i -gt 70 ] && { lab__err "$_pid did not exit"; return 1; }
        sleep 0.1
    done
    return 0
}

# lab__veth_to_underlay NAME: a veth u-NAME (in ${P}ul, on br-ul) <-> ul0
# (in ${P}NAME), both at the underlay MTU with tx checksum offload off.
lab__veth_to_underlay() {
    local _ns _ul
    _ul=${LAB_PREFIX}ul
    _ns=$LAB_PREFIX$1
    lab__do ip -n "$_ul" link add "u-$1" mtu "$LAB_UL_MTU" type veth \
        peer name ul0 mtu "$LAB_UL_MTU" netns "$_ns" || return 1
    lab__do ip -n "$_ul" link set "u-$1" master br-ul up || return 1
    ip netns exec "$_ul" ethtool -K "u-$1" tx off >/dev/null 2>&1
    ip netns exec "$_ns" ethtool -K ul0 tx off >/dev/null 2>&1
    lab__do ip -n "$_ns" link set ul0 up
}

# lab__quiet_ns NS: no IPv6 chatter on infrastructure namespaces; ARP
# answered only on the interface holding the address (LAB-NOTES pitfall 3).
lab__quiet_ns() {
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 net.ipv4.conf.all.arp_ignore=1 \
        >/dev/null 2>&1
    return 0
}

# ---------------------------------------------------------------------------
# PKI (TLS), made with ovs-pki as an operator would.  OVS's model: agents
# (switches) hold certificates of the switch CA and trust the controller
# CA; the controller the other way round.  Certificates have CN (and DNS
# subjectAltName) NAME exactly (ovs-pki -u).  These need no lab_init.

# lab_pki_init [DIR]: a new CA pair in DIR (default $LAB_DIR/pki; DIR/pki/
# {switchca,controllerca}); sets and exports LAB_PKI=DIR.
lab_pki_init() {
    local _d
    _d=${1:-$LAB_DIR/pki}
    mkdir -p "$_d" || return 1
    ovs-pki --dir="$_d/pki" --force init >/dev/null 2>&1 \
        || { lab__err "ovs-pki init in $_d failed"; return 1; }
    LAB_PKI=$_d
    export LAB_PKI
}

# lab_pki_cert NAME TYPE [OUT [DIR]]: a new key and certificate for NAME,
# OUT/NAME-privkey.pem and OUT/NAME-cert.pem (OUT defaults to DIR), signed
# by TYPE's CA (switch or controller) of DIR (default $LAB_PKI).
lab_pki_cert() {
    local _d _o
    _d=${4:-$LAB_PKI} _o=${3:-${4:-$LAB_PKI}}
    mkdir -p "$_o" || return 1
    (cd "$_o" && rm -f "$1-privkey.pem" "$1-req.pem" "$1-cert.pem" \
        && ovs-pki --dir="$_d/pki" -u req+sign "$1" "$2" >/dev/null 2>&1) \
        || { lab__err "ovs-pki req+sign $1 $2 failed"; return 1; }
}

# lab_pki_selfsigned NAME OUT: a key and a self-signed certificate with CN
# NAME in OUT (what an attacker without the CA can make).
lab_pki_selfsigned() {
    mkdir -p "$2" || return 1
    (cd "$2" && rm -f "$1-privkey.pem" "$1-req.pem" "$1-cert.pem" \
        && ovs-pki --dir="$2/pki" -u req "$1" >/dev/null 2>&1 \
        && ovs-pki --dir="$2/pki" self-sign "$1" >/dev/null 2>&1) \
        || { lab__err "ovs-pki self-sign $1 failed"; return 1; }
}

# lab_pki_agent_args NAME [DIR]: nvo-agent's PKI options for NAME's files
# in DIR (default $LAB_PKI), trusting $LAB_PKI's controller CA.
lab_pki_agent_args() {
    echo "--private-key=${2:-$LAB_PKI}/$1-privkey.pem" \
         "--certificate=${2:-$LAB_PKI}/$1-cert.pem" \
         "--ca-cert=$LAB_PKI/pki/controllerca/cacert.pem"
}

# lab_pki_ctl_args [NAME]: nvo-controller's PKI options (certificate NAME,
# default ctl), trusting the switch CA.
lab_pki_ctl_args() {
    echo "--private-key=$LAB_PKI/${1:-ctl}-privkey.pem" \
         "--certificate=$LAB_PKI/${1:-ctl}-cert.pem" \
         "--ca-cert=$LAB_PKI/pki/switchca/cacert.pem"
}

# lab__pki_need NAME TYPE: makes NAME's certificate unless it exists.
lab__pki_need() {
    [ -f "$LAB_PKI/$1-cert.pem" ] || lab_pki_cert "$1" "$2"
}

# lab__pki_rest_token: the REST admin token in $LAB_PKI (rest-token, the
# token file rest-tokens for --rest-token-file, rest-auth-header for
# curl -H @FILE), made once, readable by root only.
lab__pki_rest_token() {
    [ -f "$LAB_PKI/rest-tokens" ] && return 0
    (umask 077
     od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$LAB_PKI/rest-token"
     printf 'Authorization: Bearer %s\n' "$(cat "$LAB_PKI/rest-token")" \
         >"$LAB_PKI/rest-auth-header"
     printf '# lab REST token\n%s admin\n' "$(cat "$LAB_PKI/rest-token")" \
         >"$LAB_PKI/rest-tokens.new"
     mv "$LAB_PKI/rest-tokens.new" "$LAB_PKI/rest-tokens")
}

# ---------------------------------------------------------------------------
# Underlay.

# lab_underlay_up: namespace ${P}ul with bridge br-ul (MTU LAB_UL_MTU,
# tx checksum offload off).
lab_underlay_up() {
    lab__need_init || return 1
    lab__netns_add ul || return 1
    lab__quiet_ns "${LAB_PREFIX}ul"
    lab__do ip -n "${LAB_PREFIX}ul" link add br-ul mtu "$LAB_UL_MTU" \
        type bridge stp_state 0 forward_delay 0 || return 1
    ip netns exec "${LAB_PREFIX}ul" ethtool -K br-ul tx off >/dev/null 2>&1
    lab__do ip -n "${LAB_PREFIX}ul" link set br-ul up
}

# ---------------------------------------------------------------------------
# Controller.

# The REST URL inside the controller's namespace: with a PKI over HTTPS to
# "ctl", the controller certificate's name, which the namespace's own
# /etc/hosts (/etc/netns/NS/hosts, see ip-netns(8)) maps to 127.0.0.1.
lab__rest_base() {
    if [ -n "${LAB_PKI:-}" ]; then
        echo "https://ctl:$LAB_REST_PORT"
    else
        echo "http://127.0.0.1:$LAB_REST_PORT"
    fi
}

# lab_controller_start [EXTRA-ARGS...]: namespace ${P}controller at .1 on the
# underlay, nvo-controller detached in it; waits for GET /healthz.
lab_controller_start() {
    local _i
    lab__need_init || return 1
    [ -x "$LAB_CONTROLLER_BIN" ] \
        || { lab__err "$LAB_CONTROLLER_BIN not built"; return 1; }
    if [ ! -f "$LAB_DIR/node/controller" ]; then
        lab__netns_add controller || return 1
        lab__quiet_ns "$LAB_CTL_NS"
        lab__veth_to_underlay controller || return 1
        lab__do ip -n "$LAB_CTL_NS" addr add "$LAB_CTL_IP/$LAB_NET_LEN" dev ul0 \
            || return 1
        lab__set "$LAB_DIR/node/controller" kind ctl
        lab__set "$LAB_DIR/node/controller" ip "$LAB_CTL_IP"
    fi
    mkdir -p "$LAB_DIR/ctl"
    if [ "${LAB_DB_DEFAULT:-0}" = 1 ]; then
        set -- "$@"
    else
        set -- --db="$LAB_DIR/ctl/nvo.db" "$@"
    fi
    lab__controller_run "$LAB_CTL_NS" "$LAB_DIR/ctl" "$@" || return 1
    lab__log "controller up (pid $(cat "$LAB_DIR/ctl/nvo-controller.pid"))"
}

# lab__controller_run NS DIR [ARGS...]: nvo-controller detached in
# namespace NS (REST on 127.0.0.1:$LAB_REST_PORT, agents on 6650), log and
# pidfile in DIR; records its PID and waits for GET /healthz.  With a PKI
# (LAB_PKI), the single controller and every cluster controller alike hold
# the certificate "ctl" (agents and switches check the controller CA) and
# answer REST over HTTPS at https://ctl:PORT inside NS (lab__rest_base;
# NS's own /etc/hosts maps ctl to 127.0.0.1) with the lab's token.
lab__controller_run() {
    local _d _i _ns
    _ns=$1 _d=$2; shift 2
    if [ -n "${LAB_PKI:-}" ]; then
        lab__pki_need ctl controller && lab__pki_rest_token || return 1
        mkdir -p "/etc/netns/$_ns" \
            && printf '127.0.0.1 localhost ctl\n' >"/etc/netns/$_ns/hosts" \
            || return 1
        # shellcheck disable=SC2046
        set -- $(lab_pki_ctl_args) --rest-token-file="$LAB_PKI/rest-tokens" "$@"
    fi
    rm -f "$_d/nvo-controller.pid"
    lab__do ip netns exec "$_ns" "$LAB_CONTROLLER_BIN" \
        --rest="127.0.0.1:$LAB_REST_PORT" --agents=0.0.0.0:6650 \
        --log-file="$_d/nvo-controller.log" \
        --pidfile="$_d/nvo-controller.pid" --detach "$@" \
        2>"$_d/nvo-controller.stderr" \
        || { cat "$_d/nvo-controller.stderr" >&2
             tail -n 20 "$_d/nvo-controller.log" >&2 2>/dev/null
             return 1; }
    lab__record_pid "$_d/nvo-controller.pid" || return 1
    _i=0
    until [ "$(LAB_CTL_NS=$_ns lab_rest_status GET /healthz)" = 200 ]; do
        _i=$((_i + 1))
        if [ $_i -gt 100 ]; then
            lab__err "controller in $_ns: no answer on /healthz after 10 s"
            tail -n 20 "$_d/nvo-controller.log" >&2
            return 1
        fi
        sleep 0.1
    done
}

# lab_controller_stop [SIGNAL]: stops nvo-controller (default SIGTERM,
# waiting for it to exit); its namespace stays.
lab_controller_stop() {
    lab__stop_pidfile "$LAB_DIR/ctl/nvo-controller.pid" "${1:-TERM}"
}

# lab_controller_pid: prints the controller's PID.
lab_controller_pid() { cat "$LAB_DIR/ctl/nvo-controller.pid"; }

# lab__curl METHOD PATH [JSON]: body to $LAB_DIR/rest.body, prints the
# HTTP status (000 when nothing answered).  Callers running lab_rest in
# parallel set LAB_REST_TAG to a distinct suffix per job (rest.bodyTAG).  With a PKI over HTTPS,
# checking the controller's certificate, with the lab's admin token.
lab__curl() {
    local _m _p _d
    _m=$1 _p=$2 _d=${3-}
    set -- -sS -m "${LAB_REST_TIMEOUT:-30}" -o "$LAB_DIR/rest.body${LAB_REST_TAG:-}" \
        -w '%{http_code}' -X "$_m"
    if [ -n "${LAB_PKI:-}" ]; then
        set -- "$@" --cacert "$LAB_PKI/pki/controllerca/cacert.pem" \
            -H "@$LAB_PKI/rest-auth-header"
    fi
    if [ -n "$_d" ]; then
        set -- "$@" -H 'Content-Type: application/json' --data-binary "$_d"
    fi
    ip netns exec "$LAB_CTL_NS" curl "$@" "$(lab__rest_base)$_p" \
        2>"$LAB_DIR/rest.err${LAB_REST_TAG:-}"
}

# lab_rest METHOD PATH [JSON]: prints the response body; returns non-zero
# (and says the status on stderr) unless the status is 2xx.
lab_rest() {
    local _st
    lab__need_init || return 1
    rm -f "$LAB_DIR/rest.body${LAB_REST_TAG:-}"
    _st=$(lab__curl "$@")
    [ -f "$LAB_DIR/rest.body${LAB_REST_TAG:-}" ] \
        && cat "$LAB_DIR/rest.body${LAB_REST_TAG:-}"
    case $_st in
        2??) return 0 ;;
        *) echo "lab: $1 $2: HTTP $_st $(cat "$LAB_DIR/rest.err${LAB_REST_TAG:-}" 2>/dev/null)" >&2
           return 1 ;;
    esac
}

# lab_rest_status METHOD PATH [JSON]: prints the HTTP status only.
lab_rest_status() {
    local _st
    lab__need_init || return 1
    _st=$(lab__curl "$@")
    echo "$_st"
}

# lab_nvoctl ARGS...: nvoctl (the operator's tool, nvoctl/) inside the
# controller's namespace, pointed at the lab's REST API; its exit status
# (0 ok, 1 server error, 2 usage, 3 connection, 4 --wait timeout).
lab_nvoctl() {
    lab__need_init || return 1
    [ -x "$LAB_NVOCTL_BIN" ] || { lab__err "$LAB_NVOCTL_BIN not built"; return 1; }
    if [ -n "${LAB_PKI:-}" ]; then
        ip netns exec "$LAB_CTL_NS" env NVO_URL="$(lab__rest_base)" \
            NVO_TOKEN="$(cat "$LAB_PKI/rest-token")" \
            NVO_CA_CERT="$LAB_PKI/pki/controllerca/cacert.pem" \
            "$LAB_NVOCTL_BIN" "$@"
    else
        ip netns exec "$LAB_CTL_NS" env NVO_URL="$(lab__rest_base)" \
            "$LAB_NVOCTL_BIN" "$@"
    fi
}

# lab_json_get KEY: prints top-level KEY of the JSON object on stdin.
lab_json_get() {
    python3 -c 'import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
print("" if v is None else v)' "$1"
}

# lab_hv_state NAME: the hypervisor's southbound state (GET
# /v1/hypervisors/NAME): connected, syncing, disconnected, ...
lab_hv_state() { lab_rest GET "/v1/hypervisors/$1" | lab_json_get state; }

# lab_wait_connected NAME [TENTHS]: polls until NAME is connected (default
# up to 10 s); fails with its state otherwise.
lab_wait_connected() {
    local _i
    _i=0
    until [ "$(lab_hv_state "$1")" = connected ]; do
        _i=$((_i + 1))
        if [ $_i -gt "${2:-100}" ]; then
            lab__err "$1 not connected: $(lab_rest GET "/v1/hypervisors/$1")"
            return 1
        fi
        sleep 0.1
    done
}

# lab_underlay_host_add NAME IP: a bare namespace ${P}NAME with IP on the
# underlay and no nvo daemon: a host that reaches every hypervisor, e.g.
# to try what an attacker on the underlay could do.
lab_underlay_host_add() {
    lab__need_init || return 1
    lab__netns_add "$1" || return 1
    lab__quiet_ns "$LAB_PREFIX$1"
    lab__veth_to_underlay "$1" || return 1
    lab__do ip -n "$LAB_PREFIX$1" addr add "$2/$LAB_NET_LEN" dev ul0 || return 1
    lab__set "$LAB_DIR/node/$1" kind host
    lab__set "$LAB_DIR/node/$1" ip "$2"
}

# ---------------------------------------------------------------------------
# Open vSwitch hypervisors.

lab__hvdir() { echo "$LAB_DIR/hv/$1"; }

# Runs an OVS command with this hypervisor's run directory as default.
lab__ovs_env() {
    local _d
    _d=$(lab__hvdir "$1"); shift
    OVS_RUNDIR=$_d OVS_DBDIR=$_d OVS_LOGDIR=$_d OVS_SYSCONFDIR=$_d "$@"
}

lab_ovs_vsctl() {
    local _d _n
    _d=$(lab__hvdir "$1"); _n=$1; shift
    lab__ovs_env "$_n" ovs-vsctl --db="unix:$_d/db.sock" --timeout=20 "$@"
}

# lab_ovs_ofctl NAME COMMAND [ARGS...]: ovs-ofctl -O OpenFlow13 COMMAND on
# NAME's br-int.  lab_ovs_ofctl_br NAME BRIDGE COMMAND [ARGS...] for others.
lab_ovs_ofctl() {
    local _n
    _n=$1; shift
    lab_ovs_ofctl_br "$_n" br-int "$@"
}

lab_ovs_ofctl_br() {
    local _br _cmd _d _n
    _d=$(lab__hvdir "$1"); _n=$1; _br=$2; _cmd=$3; shift 3
    lab__ovs_env "$_n" ovs-ofctl -O OpenFlow13 "$_cmd" "unix:$_d/$_br.mgmt" "$@"
}

# lab_ovs_appctl NAME ARGS...: to ovs-vswitchd; lab_ovsdb_appctl to
# ovsdb-server.
lab_ovs_appctl() {
    local _d _n
    _d=$(lab__hvdir "$1"); _n=$1; shift
    lab__ovs_env "$_n" ovs-appctl -t "$_d/ovs-vswitchd.ctl" "$@"
}

lab_ovsdb_appctl() {
    local _d _n
    _d=$(lab__hvdir "$1"); _n=$1; shift
    lab__ovs_env "$_n" ovs-appctl -t "$_d/ovsdb-server.ctl" "$@"
}

# lab_ovs_start_ovsdb NAME: ovsdb-server on NAME's database, listening on
# punix:DIR/db.sock and, once NAME's IP is up, ptcp:6640:IP (pssl:6640:IP
# for a TLS hypervisor).  Its TLS files come from the database's SSL table
# (as Debian's ovs-ctl does it), set with ovs-vsctl set-ssl.
lab_ovs_start_ovsdb() {
    local _d _n
    _n=$1 _d=$(lab__hvdir "$1")
    rm -f "$_d/ovsdb-server.pid"
    set --
    if [ "$(lab_node_get "$_n" tls)" = 1 ]; then
        set -- --private-key=db:Open_vSwitch,SSL,private_key \
            --certificate=db:Open_vSwitch,SSL,certificate \
            --ca-cert=db:Open_vSwitch,SSL,ca_cert
    fi
    lab__do lab__ovs_env "$_n" ip netns exec "$LAB_PREFIX$_n" ovsdb-server \
        "$_d/conf.db" --remote="punix:$_d/db.sock" \
        --unixctl="$_d/ovsdb-server.ctl" --pidfile="$_d/ovsdb-server.pid" \
        --log-file="$_d/ovsdb-server.log" --detach --no-chdir -vconsole:err \
        "$@" 2>"$_d/ovsdb-server.stderr" \
        || { cat "$_d/ovsdb-server.stderr" >&2; return 1; }
    lab__record_pid "$_d/ovsdb-server.pid" || return 1
    if [ -f "$_d/ip-up" ]; then
        lab__ovsdb_add_tcp_remote "$_n" || return 1
    fi
}

lab__ovsdb_add_tcp_remote() {
    local _i _ip _kind
    _ip=$(lab_node_get "$1" ip)
    _kind=ptcp
    [ "$(lab_node_get "$1" tls)" = 1 ] && _kind=pssl
    lab__do lab_ovsdb_appctl "$1" ovsdb-server/add-remote "$_kind:6640:$_ip" \
        >/dev/null || return 1
    # ovsdb-server binds the new remote in its next main-loop round: wait
    # until it listens, so a client right after this does not race it.
    _i=0
    until ip netns exec "$LAB_PREFIX$1" ss -ltnH "sport = :6640" \
            | grep -q "$_ip:6640"; do
        _i=$((_i + 1))
        [ $_i -gt 200 ] && { lab__err "$1: ovsdb-server not listening on $_ip:6640"; return 1; }
        sleep 0.05
    done
}

# lab_ovsdb_remote NAME: the OVSDB remote the controller uses for OVS
# hypervisor NAME: ssl:IP:6640 for a TLS hypervisor, else tcp:IP:6640.
lab_ovsdb_remote() {
    if [ "$(lab_node_get "$1" tls)" = 1 ]; then
        echo "ssl:$(lab_node_get "$1" ip):6640"
    else
        echo "tcp:$(lab_node_get "$1" ip):6640"
    fi
}

# lab__ovs_set_ssl NAME: NAME's key and certificate (switch CA, CN NAME)
# and the controller CA into its SSL table, where ovs-vswitchd (for nvo's
# pssl: OpenFlow listener) and ovsdb-server read them.
lab__ovs_set_ssl() {
    lab__pki_need "$1" switch || return 1
    lab__do lab_ovs_vsctl "$1" --no-wait set-ssl "$LAB_PKI/$1-privkey.pem" \
        "$LAB_PKI/$1-cert.pem" "$LAB_PKI/pki/controllerca/cacert.pem"
}

# lab_ovs_hv_to_tls NAME: moves a running plain OVS hypervisor to TLS, as
# an operator would (doc/security.md): its certificate into the SSL table,
# then ovsdb-server restarted with its TLS files from there and OVSDB on
# pssl:6640:IP instead of ptcp: (the controller's plain session drops;
# flows stay).  Needs LAB_PKI.  The controller needs its
# registration changed to lab_ovsdb_remote NAME (ssl:).
lab_ovs_hv_to_tls() {
    [ -n "${LAB_PKI:-}" ] || { lab__err "lab_ovs_hv_to_tls: no LAB_PKI"; return 1; }
    lab__ovs_set_ssl "$1" || return 1
    lab__set "$LAB_DIR/node/$1" tls 1
    # ovsdb-server again, now reading its TLS files from the SSL table and
    # listening on pssl: only.
    lab_ovs_stop_ovsdb "$1" && lab_ovs_start_ovsdb "$1"
}

lab_ovs_stop_ovsdb() {
    lab__stop_pidfile "$(lab__hvdir "$1")/ovsdb-server.pid" "${2:-TERM}"
}

# lab_ovs_start_vswitchd NAME: ovs-vswitchd on NAME's database; with
# LAB_OVS_ROUTES=pinned (the default) it runs with --disable-system-route
# and the underlay route is pinned once the IP is up (lab__ovs_route_pin).
lab_ovs_start_vswitchd() {
    local _d _n
    _n=$1 _d=$(lab__hvdir "$1")
    rm -f "$_d/ovs-vswitchd.pid"
    set --
    [ "$LAB_OVS_ROUTES" = pinned ] && set -- --disable-system-route
    lab__do lab__ovs_env "$_n" ip netns exec "$LAB_PREFIX$_n" ovs-vswitchd \
        "unix:$_d/db.sock" --unixctl="$_d/ovs-vswitchd.ctl" \
        --pidfile="$_d/ovs-vswitchd.pid" --log-file="$_d/ovs-vswitchd.log" \
        --detach --no-chdir -vconsole:err "$@" 2>"$_d/ovs-vswitchd.stderr" \
        || { cat "$_d/ovs-vswitchd.stderr" >&2; return 1; }
    lab__record_pid "$_d/ovs-vswitchd.pid" || return 1
    if [ -f "$_d/ip-up" ]; then
        lab__ovs_ip_up "$_n" || return 1
    fi
}

lab_ovs_stop_vswitchd() {
    lab__stop_pidfile "$(lab__hvdir "$1")/ovs-vswitchd.pid" "${2:-TERM}"
}

# lab__ovs_ip_up NAME: the underlay IP on br-phy (a tap device of the
# userspace datapath, gone whenever ovs-vswitchd exits).
lab__ovs_ip_up() {
    local _ip _ns
    local _i
    _ns=$LAB_PREFIX$1
    _ip=$(lab_node_get "$1" ip)
    _i=0
    until ip -n "$_ns" link show br-phy >/dev/null 2>&1; do
        _i=$((_i + 1))
        [ $_i -gt 100 ] && { lab__err "$1: br-phy did not appear"; return 1; }
        sleep 0.05
    done
    ip -n "$_ns" link set br-phy mtu "$LAB_UL_MTU" up || return 1
    ip -n "$_ns" addr replace "$_ip/$LAB_NET_LEN" dev br-phy || return 1
    ip netns exec "$_ns" ethtool -K br-phy tx off >/dev/null 2>&1
    if [ "$LAB_OVS_ROUTES" = pinned ]; then
        lab__ovs_route_pin "$1" || return 1
    fi
    touch "$(lab__hvdir "$1")/ip-up"
}

# lab__ovs_route_pin NAME: the underlay subnet as a user route of NAME's
# ovs-vswitchd (ovs/route/add LAB_NET br-phy), the only route it has
# under --disable-system-route, and the prefixes lab_ovs_route_pin added.
# By default the userspace datapath mirrors the kernel's routing table and
# re-reads it on every link change in the namespace (a VM port added or
# deleted): it flushes its routes, and with them br-phy from the
# tunnel-termination table, then dumps them again; a revalidation that
# runs meanwhile turns the VXLAN flows into drops (no route: no tnl_push;
# no termination: no tnl_pop), and a ping between VMs loses packets
# (doc/ovs-hypervisor.md).  User routes survive that flush.
lab__ovs_route_pin() {
    local _p
    lab__ovs_route_add "$1" "$LAB_NET" || return 1
    [ -f "$(lab__hvdir "$1")/routes" ] || return 0
    while read -r _p; do
        lab__ovs_route_add "$1" $_p || return 1
    done <"$(lab__hvdir "$1")/routes"
}

# lab__ovs_route_add NAME PREFIX [GW]: ovs/route/add PREFIX br-phy [GW].
# ovs-vswitchd accepts the route only once it sees an address of the
# prefix's family on br-phy, which it learns asynchronously: retried for
# up to 10 s.
lab__ovs_route_add() {
    local _i _out
    _i=0
    until _out=$(lab_ovs_appctl "$1" ovs/route/add "$2" br-phy ${3:-} 2>&1); do
        _i=$((_i + 1))
        [ $_i -gt 200 ] && { lab__err "$1: ovs/route/add $2 br-phy ${3:-}: $_out"; return 1; }
        sleep 0.05
    done
}

# lab_ovs_route_pin NAME PREFIX [GW]: one more underlay prefix (e.g. an
# IPv6 one after adding an address to br-phy) pinned on OVS hypervisor
# NAME, now and after every ovs-vswitchd restart.  A no-op with
# LAB_OVS_ROUTES=system (OVS then mirrors the kernel's routes).
lab_ovs_route_pin() {
    [ "$LAB_OVS_ROUTES" = pinned ] || return 0
    echo "$2${3:+ $3}" >>"$(lab__hvdir "$1")/routes"
    lab__ovs_route_add "$@"
}

# lab_ovs_restart_vswitchd NAME: stops ovs-vswitchd (SIGTERM) and starts
# it again on the same database, as an upgrade would; puts the underlay IP
# back on br-phy.  OpenFlow flows are lost, OVSDB configuration is kept.
lab_ovs_restart_vswitchd() {
    lab_ovs_stop_vswitchd "$1" || return 1
    lab_ovs_start_vswitchd "$1"
}

# lab_ovs_hv_add NAME IP: an Open vSwitch hypervisor in namespace ${P}NAME
# (see the top of this file); the underlay veth on br-phy with IP on
# br-phy, br-int (fail_mode=secure) for VMs and tunnels, ovsdb-server
# reachable at tcp:IP:6640 (with LAB_PKI: pssl:6640:IP only, its
# certificate in the SSL table).  No OpenFlow controller is configured:
# nvo's southbound sets what it needs through OVSDB.
lab_ovs_hv_add() {
    local _d _ip _n _ns
    [ $# -eq 2 ] || { lab__err "usage: lab_ovs_hv_add NAME IP"; return 1; }
    lab__need_init || return 1
    _n=$1 _ip=$2 _ns=$LAB_PREFIX$1 _d=$(lab__hvdir "$1")
    lab__netns_add "$_n" || return 1
    lab__quiet_ns "$_ns"
    lab__set "$LAB_DIR/node/$_n" kind ovs
    lab__set "$LAB_DIR/node/$_n" ip "$_ip"
    lab__set "$LAB_DIR/node/$_n" role hypervisor
    if [ -n "${LAB_PKI:-}" ]; then
        lab__set "$LAB_DIR/node/$_n" tls 1
    fi
    lab__veth_to_underlay "$_n" || return 1
    mkdir -p "$_d" || return 1
    lab__do ovsdb-tool create "$_d/conf.db" "$LAB_OVS_SCHEMA" || return 1
    lab_ovs_start_ovsdb "$_n" || return 1
    lab__do lab_ovs_vsctl "$_n" --no-wait -- init \
        -- set Open_vSwitch . other_config:n-handler-threads=1 \
           other_config:n-revalidator-threads=1 \
           external_ids:system-id="$_n" external_ids:hostname="$_n" \
        || return 1
    if [ "$(lab_node_get "$_n" tls)" = 1 ]; then
        lab__ovs_set_ssl "$_n" || return 1
    fi
    lab_ovs_start_vswitchd "$_n" || return 1
    lab__do lab_ovs_vsctl "$_n" \
        -- add-br br-phy -- set Bridge br-phy datapath_type=netdev \
        -- add-port br-phy ul0 \
        -- add-br br-int -- set Bridge br-int datapath_type=netdev \
           fail_mode=secure || return 1
    lab__ovs_ip_up "$_n" || return 1
    lab__ovsdb_add_tcp_remote "$_n" || return 1
    lab__log "OVS hypervisor $_n at $_ip"
}

# ---------------------------------------------------------------------------
# Kernel hypervisors and service nodes (nvo-agent).

# lab_kernel_hv_add NAME IP [ROLE]: namespace ${P}NAME with IP on ul0
# (underlay MTU, tx checksum offload off), then nvo-agent for it
# (ROLE: hypervisor (default) or service-node).  Without a built nvo-agent,
# only warns.
lab_kernel_hv_add() {
    local _ip _n _ns
    [ $# -ge 2 ] || { lab__err "usage: lab_kernel_hv_add NAME IP [ROLE]"; return 1; }
    lab__need_init || return 1
    _n=$1 _ip=$2 _ns=$LAB_PREFIX$1
    lab__netns_add "$_n" || return 1
    lab__quiet_ns "$_ns"
    lab__set "$LAB_DIR/node/$_n" kind kernel
    lab__set "$LAB_DIR/node/$_n" ip "$_ip"
    lab__set "$LAB_DIR/node/$_n" role "${3:-hypervisor}"
    lab__veth_to_underlay "$_n" || return 1
    lab__do ip -n "$_ns" addr add "$_ip/$LAB_NET_LEN" dev ul0 || return 1
    if [ ! -x "$LAB_AGENT_BIN" ]; then
        echo "lab: warning: $LAB_AGENT_BIN not built; $_n runs no agent" >&2
        return 0
    fi
    lab_agent_start "$_n"
}

# lab_agent_start NAME: starts NAME's nvo-agent (detached) in its namespace;
# with LAB_PKI over ssl: with a certificate naming it.  Its controllers:
# LAB_CTL_IPS (a cluster's, space-separated) if set, else LAB_CTL_IP.
lab_agent_start() {
    local _d _n _c _p _s _i
    _n=$1 _d=$LAB_DIR/agent/$1
    mkdir -p "$_d"
    rm -f "$_d/nvo-agent.pid"
    _s=tcp _p=
    if [ -n "${LAB_PKI:-}" ]; then
        lab__pki_need "$_n" switch || return 1
        _s=ssl _p=$(lab_pki_agent_args "$_n")
    fi
    _c=
    for _i in ${LAB_CTL_IPS:-$LAB_CTL_IP}; do
        _c=${_c:+$_c,}$_s:$_i:6650
    done
    # shellcheck disable=SC2086
    lab__do ip netns exec "$LAB_PREFIX$_n" "$LAB_AGENT_BIN" \
        --controller="$_c" $_p --name="$_n" \
        --tunnel-ip="$(lab_node_get "$_n" ip)" --dataplane=kernel \
        --role="$(lab_node_get "$_n" role)" --log-file="$_d/nvo-agent.log" \
        --pidfile="$_d/nvo-agent.pid" --detach ${LAB_AGENT_ARGS:-} \
        2>"$_d/nvo-agent.stderr" \
        || { cat "$_d/nvo-agent.stderr" >&2
             tail -n 20 "$_d/nvo-agent.log" >&2 2>/dev/null; return 1; }
    lab__record_pid "$_d/nvo-agent.pid"
}

# lab_agent_kill NAME [SIGNAL]: signals NAME's nvo-agent (default TERM,
# waiting for it to exit).
lab_agent_kill() {
    lab__stop_pidfile "$LAB_DIR/agent/$1/nvo-agent.pid" "${2:-TERM}"
}

lab_agent_pid() { cat "$LAB_DIR/agent/$1/nvo-agent.pid"; }

# ---------------------------------------------------------------------------
# VMs.

# lab__vm_plumb VM HV: the veth v-VM (in HV, up, not attached) <-> eth0
# (in VM, with the VM's MAC and address).
lab__vm_plumb() {
    local _cidr _hns _hv _mac _vm _vns
    _vm=$1 _hv=$2 _vns=$LAB_PREFIX$1 _hns=$LAB_PREFIX$2
    _mac=$(lab_vm_get "$_vm" mac) _cidr=$(lab_vm_get "$_vm" cidr)
    lab__do ip -n "$_hns" link add "v-$_vm" mtu "$LAB_VM_MTU" type veth \
        peer name eth0 mtu "$LAB_VM_MTU" address "$_mac" netns "$_vns" \
        || return 1
    ip netns exec "$_vns" ethtool -K eth0 tx off >/dev/null 2>&1
    lab__do ip -n "$_vns" addr add "$_cidr" dev eth0 || return 1
    lab__do ip -n "$_vns" link set eth0 up || return 1
    lab__do ip -n "$_hns" link set "v-$_vm" up || return 1
    lab__set "$LAB_DIR/vm/$_vm" hv "$_hv"
}

# lab_vm_add HV VM MAC IP/PREFIX: VM namespace ${P}VM; its interface's
# other end, v-VM, stays in HV's namespace, up and not attached (nvo
# attaches it when the port is created).
lab_vm_add() {
    local _hv _vm
    [ $# -eq 4 ] || { lab__err "usage: lab_vm_add HV VM MAC IP/PREFIX"; return 1; }
    lab__need_init || return 1
    _hv=$1 _vm=$2
    [ -f "$LAB_DIR/node/$_hv" ] || { lab__err "no hypervisor $_hv"; return 1; }
    case $4 in */*) ;; *) lab__err "VM address needs /PREFIX: $4"; return 1 ;; esac
    lab__netns_add "$_vm" || return 1
    lab__set "$LAB_DIR/vm/$_vm" mac "$3"
    lab__set "$LAB_DIR/vm/$_vm" cidr "$4"
    lab__set "$LAB_DIR/vm/$_vm" ip "${4%/*}"
    lab__set "$LAB_DIR/vm/$_vm" iface "v-$_vm"
    lab__vm_plumb "$_vm" "$_hv"
}

# lab_vm_iface VM: prints the HV-side interface name.
lab_vm_iface() { lab_vm_get "$1" iface; }

# lab_vm_exec VM CMD...: runs CMD in VM's namespace.
lab_vm_exec() {
    local _vns
    _vns=$LAB_PREFIX$1; shift
    ip netns exec "$_vns" "$@"
}

# lab_hv_exec NAME CMD...: runs CMD in hypervisor NAME's namespace.
lab_hv_exec() {
    local _ns
    _ns=$LAB_PREFIX$1; shift
    ip netns exec "$_ns" "$@"
}

# lab_vm_move VM NEWHV: re-plumbs VM's interface into NEWHV (the old veth
# is deleted: on an OVS hypervisor its br-int port stays in OVSDB until nvo
# removes it).  Only the plumbing; lab_migrate_vm also tells nvo.
lab_vm_move() {
    local _old
    _old=$(lab_vm_get "$1" hv)
    ip -n "$LAB_PREFIX$_old" link del "v-$1" 2>/dev/null
    lab__vm_plumb "$1" "$2"
}

# ---------------------------------------------------------------------------
# Playing the orchestrator through REST.

# lab_register_network NAME VNI [BUM]: POST /v1/networks (BUM: head-end
# (default) or service-node).  Registrations do not wait (an OVS
# hypervisor confirms once the controller reached it); lab_start_vm does.
lab_register_network() {
    lab_rest POST "/v1/networks" \
        "{\"name\":\"$1\",\"vni\":$2,\"bum\":\"${3:-head-end}\"}" >/dev/null
}

# lab_register_hv NAME: POST /v1/hypervisors with what lab_*_hv_add
# recorded: OVS ones with ovsdb tcp:IP:6640, kernel ones and service nodes
# with dataplane kernel.
lab_register_hv() {
    local _ip _j _kind _role
    _kind=$(lab_node_get "$1" kind) || { lab__err "no node $1"; return 1; }
    _ip=$(lab_node_get "$1" ip) _role=$(lab_node_get "$1" role)
    case $_kind in
        ovs) _j="{\"name\":\"$1\",\"tunnel_ip\":\"$_ip\",\"dataplane\":\"ovs\",\"role\":\"$_role\",\"ovsdb\":\"$(lab_ovsdb_remote "$1")\"}" ;;
        kernel) _j="{\"name\":\"$1\",\"tunnel_ip\":\"$_ip\",\"dataplane\":\"kernel\",\"role\":\"$_role\"}" ;;
        *) lab__err "$1 is not a hypervisor"; return 1 ;;
    esac
    lab_rest POST "/v1/hypervisors" "$_j" >/dev/null
}

# lab_start_vm VM NETWORK: POST /v1/ports?wait=1 for VM's recorded
# hypervisor, MAC, IP and interface; prints the port's id (also recorded).
# Fails if the controller refuses or does not confirm (504: the port then
# exists all the same, and its id is recorded).
lab_start_vm() {
    local _vm _net _body _id _rc
    _vm=$1 _net=$2
    [ -f "$LAB_DIR/vm/$_vm" ] || { lab__err "no VM $_vm"; return 1; }
    lab__set "$LAB_DIR/vm/$_vm" network "$_net"
    _body=$(lab_rest POST "/v1/ports?wait=1" "{\"vm\":\"$_vm\",\"network\":\"$_net\",\"hypervisor\":\"$(lab_vm_get "$_vm" hv)\",\"mac\":\"$(lab_vm_get "$_vm" mac)\",\"ip\":\"$(lab_vm_get "$_vm" ip)\",\"iface\":\"$(lab_vm_get "$_vm" iface)\"}")
    _rc=$?
    if [ $_rc -ne 0 ]; then
        [ -n "$_body" ] && echo "$_body" >&2
        _id=$(lab_port_id "$_vm" "$_net")
        [ -n "$_id" ] && lab__set "$LAB_DIR/vm/$_vm" port "$_id"
        return 1
    fi
    _id=$(echo "$_body" | lab_json_get id) || return 1
    lab__set "$LAB_DIR/vm/$_vm" port "$_id"
    echo "$_id"
}

# lab_port_id VM NETWORK: prints the id of VM's port in NETWORK, as the
# controller has it (GET /v1/ports).
lab_port_id() {
    lab_rest GET /v1/ports 2>/dev/null | python3 -c 'import json, sys
for p in json.load(sys.stdin):
    if p.get("vm") == sys.argv[1] and p.get("network") == sys.argv[2]:
        print(p["id"])' "$1" "$2"
}

# lab_stop_vm VM: DELETE /v1/ports/ID?wait=1.
lab_stop_vm() {
    local _id
    _id=$(lab_vm_get "$1" port)
    [ -n "$_id" ] || { lab__err "VM $1 has no port"; return 1; }
    lab_rest DELETE "/v1/ports/$_id?wait=1" >/dev/null || return 1
    lab__set "$LAB_DIR/vm/$1" port ""
}

# lab_migrate_vm VM NEWHV: moves VM's interface to NEWHV, then
# PATCH /v1/ports/ID?wait=1.
lab_migrate_vm() {
    local _id
    _id=$(lab_vm_get "$1" port)
    [ -n "$_id" ] || { lab__err "VM $1 has no port"; return 1; }
    lab_vm_move "$1" "$2" || return 1
    lab_rest PATCH "/v1/ports/$_id?wait=1" \
        "{\"hypervisor\":\"$2\",\"iface\":\"$(lab_vm_get "$1" iface)\"}" \
        >/dev/null
}

# ---------------------------------------------------------------------------
# Traffic.

# lab_ping VM DEST_IP [COUNT]: ping's status (0: at least one reply).
lab_ping() {
    ip netns exec "$LAB_PREFIX$1" ping -q -n -c "${3:-3}" -i 0.2 -W 1 "$2" \
        >/dev/null 2>&1
}

# lab_ping_matrix VM...: pings between every pair of VMs (default all),
# all pairs at once, and prints a matrix.  Same network: "ok" or "FAIL".
# Different networks: the destination's IP must not answer ("iso", else
# "LEAK"), unless the source's own network has that IP too ("-").  Returns
# non-zero if any FAIL or LEAK.  A VM's network is the one lab_start_vm
# recorded.
lab_ping_matrix() {
    local _bad _dip _dnet _dst _o _r _snet _src _m _pids
    [ $# -gt 0 ] || set -- $(lab_vms)
    _m=$LAB_DIR/matrix
    rm -rf "$_m"; mkdir -p "$_m"
    _pids=
    for _src in "$@"; do
        _snet=$(lab_vm_get "$_src" network)
        for _dst in "$@"; do
            _dip=$(lab_vm_get "$_dst" ip)
            _dnet=$(lab_vm_get "$_dst" network)
            if [ "$_src" = "$_dst" ]; then
                echo . >"$_m/$_src.$_dst"; continue
            fi
            if [ "$_snet" != "$_dnet" ] || [ -z "$_snet" ]; then
                for _o in $(lab_vms); do
                    if [ "$(lab_vm_get "$_o" ip)" = "$_dip" ] \
                        && [ "$(lab_vm_get "$_o" network)" = "$_snet" ]; then
                        echo - >"$_m/$_src.$_dst"
                    fi
                done
                [ -f "$_m/$_src.$_dst" ] && continue
                { if lab_ping "$_src" "$_dip" 2; then echo LEAK; else echo iso; fi \
                      >"$_m/$_src.$_dst"; } &
            else
                { if lab_ping "$_src" "$_dip"; then echo ok; else echo FAIL; fi \
                      >"$_m/$_src.$_dst"; } &
            fi
            _pids="$_pids $!"
        done
    done
    for _o in $_pids; do wait "$_o"; done
    _bad=0
    printf '%-8s' "from\\to"
    for _dst in "$@"; do printf ' %-5s' "$_dst"; done
    echo
    for _src in "$@"; do
        printf '%-8s' "$_src"
        for _dst in "$@"; do
            _r=$(cat "$_m/$_src.$_dst" 2>/dev/null)
            case $_r in FAIL|LEAK|'') _bad=1 ;; esac
            printf ' %-5s' "${_r:-?}"
        done
        echo
    done
    return $_bad
}

# ---------------------------------------------------------------------------
# Raft-clustered OVSDB for cluster mode (doc/cluster.md): member N runs
# ovsdb-server in namespace ${P}dbN at $LAB_NET_BASE.(200+N) with nvo's
# schema, Raft between members on port 6643, clients on tcp:IP:6641 --
# with LAB_PKI both over TLS (ssl:IP:6643, pssl:6641:IP): a member holds a
# certificate dbN of the switch CA (the controllers verify servers against
# it, as they verify switches) and trusts both CAs (its Raft peers' and the
# controllers' and clients' certificates).
#   dbN/  a member's run dir: nvo.db, ovsdb-server.{ctl,pid,log}

lab__raftdir() { echo "$LAB_DIR/db$1"; }
lab_raft_ip() { lab__infra_ip $((200 + $1)); }
# lab__infra_ip N: address N of the underlay's infrastructure range (the
# last /24 of a /16 underlay, so hypervisors keep the rest).
lab__infra_ip() {
    if [ "${LAB_NET_LEN:-24}" = 16 ]; then echo "$LAB_NET_BASE.255.$1"
    else echo "$LAB_NET_BASE.$1"; fi
}

# lab__raft_proto: "ssl" with a PKI, else "tcp".
lab__raft_proto() { if [ -n "${LAB_PKI:-}" ]; then echo ssl; else echo tcp; fi; }

# lab_raft_remote N: member N's client remote (tcp:IP:6641, or ssl:).
lab_raft_remote() { echo "$(lab__raft_proto):$(lab_raft_ip "$1"):6641"; }

# lab_raft_remotes: prints the client remotes of every member, comma
# separated (what --db=ovsdb: takes).
lab_raft_remotes() {
    local _i _r
    _r=
    for _i in $(seq 1 "${LAB_RAFT_N:-0}"); do
        _r="${_r:+$_r,}$(lab_raft_remote "$_i")"
    done
    echo "$_r"
}

# lab__raft_ca: a file holding both CA certificates (what a member trusts).
lab__raft_ca() {
    [ -f "$LAB_PKI/raft-cacerts.pem" ] \
        || cat "$LAB_PKI/pki/switchca/cacert.pem" \
               "$LAB_PKI/pki/controllerca/cacert.pem" >"$LAB_PKI/raft-cacerts.pem"
}

# lab_raft_appctl N ARGS...: ovs-appctl to member N's ovsdb-server.
lab_raft_appctl() {
    local _d
    _d=$(lab__raftdir "$1"); shift
    OVS_RUNDIR=$_d ovs-appctl -t "$_d/ovsdb-server.ctl" "$@"
}

# lab_raft_role N: prints member N's Raft role (leader, follower,
# candidate), or nothing if it does not answer within 2 s (stopped, or
# SIGSTOPped: a plain ovs-appctl would wait for ever).
lab_raft_role() {
    lab_raft_appctl "$1" --timeout=2 cluster/status NVO 2>/dev/null \
        | sed -n 's/^Role: //p'
}

# lab_raft_leader: prints the number of the member that is leader, if any:
# of the members saying "Role: leader", the one with the highest term.  A
# leader cut off from the others (or stopped, then resumed) still says
# "leader" until it hears of the newer term; the others may meanwhile have
# elected one in a higher term, which is the leader.
lab_raft_leader() {
    local _i _best _best_term _st _term
    _best='' _best_term=-1
    for _i in $(seq 1 "${LAB_RAFT_N:-0}"); do
        _st=$(lab_raft_appctl "$_i" --timeout=2 cluster/status NVO 2>/dev/null) \
            || continue
        [ "$(echo "$_st" | sed -n 's/^Role: //p')" = leader ] || continue
        _term=$(echo "$_st" | sed -n 's/^Term: //p')
        case $_term in ''|*[!0-9]*) continue ;; esac
        if [ "$_term" -gt "$_best_term" ]; then _best=$_i _best_term=$_term; fi
    done
    [ -n "$_best" ] && echo "$_best"
}

# lab_raft_wait_leader [SECONDS]: like lab_raft_leader, but waits up to
# SECONDS (default 30) for one: right after members come back, an election
# may be running (under load several, one after the other).
lab_raft_wait_leader() {
    local _i
    _i=0
    until lab_raft_leader; do
        _i=$((_i + 1))
        [ $_i -ge $((${1:-30} * 10)) ] && return 1
        sleep 0.1
    done
}

# lab_raft_start N: (re)starts member N's ovsdb-server on its existing
# database file.
lab_raft_start() {
    local _d _ip _n
    _n=$1 _d=$(lab__raftdir "$1") _ip=$(lab_raft_ip "$1")
    rm -f "$_d/ovsdb-server.pid"
    if [ -n "${LAB_PKI:-}" ]; then
        lab__pki_need "db$_n" switch && lab__raft_ca || return 1
        set -- --remote="pssl:6641:$_ip" \
            --private-key="$LAB_PKI/db$_n-privkey.pem" \
            --certificate="$LAB_PKI/db$_n-cert.pem" \
            --ca-cert="$LAB_PKI/raft-cacerts.pem"
    else
        set -- --remote="ptcp:6641:$_ip"
    fi
    lab__do ip netns exec "${LAB_PREFIX}db$_n" ovsdb-server "$_d/nvo.db" \
        "$@" --unixctl="$_d/ovsdb-server.ctl" \
        --pidfile="$_d/ovsdb-server.pid" --log-file="$_d/ovsdb-server.log" \
        --detach --no-chdir -vconsole:err 2>"$_d/ovsdb-server.stderr" \
        || { cat "$_d/ovsdb-server.stderr" >&2; return 1; }
    lab__record_pid "$_d/ovsdb-server.pid"
}

# lab_raft_stop N [SIGNAL]: stops member N's ovsdb-server (default TERM;
# KILL to crash it).  Its database file stays: lab_raft_start brings it
# back into the cluster.
lab_raft_stop() {
    lab__stop_pidfile "$(lab__raftdir "$1")/ovsdb-server.pid" "${2:-TERM}"
}

# lab_raft_pid N: prints member N's ovsdb-server PID.
lab_raft_pid() { cat "$(lab__raftdir "$1")/ovsdb-server.pid"; }

# lab_raft_up [N]: a Raft cluster of N members (default 3) running
# $LAB_NVO_SCHEMA (default the source tree's schema/nvo.ovsschema): member
# 1 creates the cluster, the others join it.  Waits until every member
# says it is a cluster member with a leader elected.
lab_raft_up() {
    local _d _i _ip _n _ok _t
    lab__need_init || return 1
    _n=${1:-3}
    LAB_RAFT_N=$_n; export LAB_RAFT_N
    echo "$_n" >"$LAB_DIR/raft-n"
    _t=${LAB_NVO_SCHEMA:-$LAB_TOP/schema/nvo.ovsschema}
    [ -r "$_t" ] || { lab__err "no schema $_t"; return 1; }
    for _i in $(seq 1 "$_n"); do
        _d=$(lab__raftdir "$_i") _ip=$(lab_raft_ip "$_i")
        lab__netns_add "db$_i" || return 1
        lab__quiet_ns "${LAB_PREFIX}db$_i"
        lab__veth_to_underlay "db$_i" || return 1
        lab__do ip -n "${LAB_PREFIX}db$_i" addr add "$_ip/$LAB_NET_LEN" dev ul0 \
            || return 1
        lab__set "$LAB_DIR/node/db$_i" kind db
        lab__set "$LAB_DIR/node/db$_i" ip "$_ip"
        mkdir -p "$_d" || return 1
        if [ "$_i" = 1 ]; then
            lab__do ovsdb-tool create-cluster "$_d/nvo.db" "$_t" \
                "$(lab__raft_proto):$_ip:6643" || return 1
        else
            lab__do ovsdb-tool join-cluster "$_d/nvo.db" NVO \
                "$(lab__raft_proto):$_ip:6643" \
                "$(lab__raft_proto):$(lab_raft_ip 1):6643" || return 1
        fi
        lab_raft_start "$_i" || return 1
    done
    _i=0
    until _ok=yes
          for _d in $(seq 1 "$_n"); do
              lab_raft_appctl "$_d" cluster/status NVO 2>/dev/null \
                  | grep -q '^Status: cluster member' || _ok=no
          done
          [ $_ok = yes ] && lab_raft_leader >/dev/null; do
        _i=$((_i + 1))
        [ $_i -gt 200 ] && { lab__err "Raft cluster did not form in 20 s"; return 1; }
        sleep 0.1
    done
    lab__log "Raft cluster of $_n up, leader member $(lab_raft_leader)"
}

# Cluster-mode controllers: controller N runs in namespace ${P}ctlN at
# $LAB_NET_BASE.(190+N) with --db=ovsdb:$(lab_raft_remotes) --name=ctlN,
# REST on 127.0.0.1:$LAB_REST_PORT and agents on 6650 there; state in
# $LAB_DIR/ctlN/.  REST to it: LAB_CTL_NS=$(lab_ctl_ns N) lab_rest ...

lab_ctl_ip() { lab__infra_ip $((190 + $1)); }
lab_ctl_ns() { echo "${LAB_PREFIX}ctl$1"; }

# lab_ctl_start N [EXTRA-ARGS...]: starts cluster controller N (creating
# its namespace the first time); waits for GET /healthz.
lab_ctl_start() {
    local _d _n _ns
    lab__need_init || return 1
    _n=$1; shift
    _d=$LAB_DIR/ctl$_n _ns=$(lab_ctl_ns "$_n")
    [ "${LAB_RAFT_N:-0}" -gt 0 ] || { lab__err "lab_raft_up first"; return 1; }
    if [ ! -f "$LAB_DIR/node/ctl$_n" ]; then
        lab__netns_add "ctl$_n" || return 1
        lab__quiet_ns "$_ns"
        lab__veth_to_underlay "ctl$_n" || return 1
        lab__do ip -n "$_ns" addr add "$(lab_ctl_ip "$_n")/$LAB_NET_LEN" dev ul0 \
            || return 1
        lab__set "$LAB_DIR/node/ctl$_n" kind ctl
        lab__set "$LAB_DIR/node/ctl$_n" ip "$(lab_ctl_ip "$_n")"
    fi
    mkdir -p "$_d"
    # Its own address for agents: what it redirects agents to.
    lab__controller_run "$_ns" "$_d" --db="ovsdb:$(lab_raft_remotes)" \
        --name="ctl$_n" --agents="$(lab_ctl_ip "$_n"):6650" "$@"
}

# lab_ctl_ips N: the addresses of cluster controllers 1..N (for
# LAB_CTL_IPS).
lab_ctl_ips() {
    local _i
    for _i in $(seq 1 "$1"); do printf '%s ' "$(lab_ctl_ip "$_i")"; done
}

# lab_ctl_stop N [SIGNAL]: stops cluster controller N (default SIGTERM;
# KILL to crash it).  Its namespace stays.
lab_ctl_stop() {
    lab__stop_pidfile "$LAB_DIR/ctl$1/nvo-controller.pid" "${2:-TERM}"
}

lab_ctl_pid() { cat "$LAB_DIR/ctl$1/nvo-controller.pid"; }

# lab_ctl_rest N METHOD PATH [JSON]: lab_rest against controller N.
lab_ctl_rest() {
    local _n
    _n=$1; shift
    LAB_CTL_NS=$(lab_ctl_ns "$_n") lab_rest "$@"
}

# lab_ctl_rest_status N METHOD PATH [JSON]: lab_rest_status against N.
lab_ctl_rest_status() {
    local _n
    _n=$1; shift
    LAB_CTL_NS=$(lab_ctl_ns "$_n") lab_rest_status "$@"
}

# lab_raft_client NODE ARGS...: ovsdb-client ARGS in NODE's namespace
# (e.g. lab_raft_client db1 dump "$(lab_raft_remote 1)" NVO); with a PKI
# it presents the controllers' certificate "ctl".
lab_raft_client() {
    local _n
    _n=$1; shift
    if [ -n "${LAB_PKI:-}" ]; then
        lab__pki_need ctl controller || return 1
        # shellcheck disable=SC2046
        set -- $(lab_pki_ctl_args) "$@"
    fi
    ip netns exec "$LAB_PREFIX$_n" ovsdb-client -vconsole:warn --timeout=20 "$@"
}

# ---------------------------------------------------------------------------
# Cleanup.

# lab__keep_logs: copies the lab's logs to $NVO_TEST_LOG_DIR/$LAB_PREFIX/
# (relative paths kept) if NVO_TEST_LOG_DIR is set.
lab__keep_logs() {
    local _f _to
    [ -n "${NVO_TEST_LOG_DIR:-}" ] && [ -d "$LAB_DIR" ] || return 0
    _to=$NVO_TEST_LOG_DIR/$LAB_PREFIX
    (cd "$LAB_DIR" && find . -name '*.log' -type f) | while read -r _f; do
        mkdir -p "$_to/$(dirname "$_f")" && cp "$LAB_DIR/$_f" "$_to/$_f"
    done
    return 0
}

# lab_cleanup: kills every recorded daemon, deletes every namespace the lab
# created, removes LAB_DIR.  Idempotent; safe on a partial setup.
lab_cleanup() {
    local _all _st _i _live _ns _pc _pid _still
    [ -n "${LAB_PREFIX:-}" ] && [ -n "${LAB_DIR:-}" ] || return 0
    if [ -f "$LAB_DIR/pids" ]; then
        # The controller first, so that it does not log the switches and
        # agents going away as faults (tests/run-sanitized.sh reads the
        # logs); then everything else at once.
        lab_controller_stop 2>/dev/null
        _live=
        while read -r _pid _st _; do
            if [ -n "$_pid" ] && lab__pid_alive "$_pid" "$_st"; then
                kill -s TERM "$_pid" 2>/dev/null && _live="$_live $_pid:$_st"
            fi
        done <"$LAB_DIR/pids"
        _i=0
        while [ -n "$_live" ]; do
            _still=
            for _pc in $_live; do
                lab__pid_alive "${_pc%%:*}" "${_pc#*:}" && _still="$_still $_pc"
            done
            _live=$_still
            [ -z "$_live" ] && break
            _i=$((_i + 1))
            if [ $_i -eq 30 ]; then
                for _pc in $_live; do kill -s KILL "${_pc%%:*}" 2>/dev/null; done
            fi
            [ $_i -gt 50 ] && { lab__err "still running:$_live"; break; }
            sleep 0.1
        done
    fi
    lab__keep_logs
    _all=$(ip netns list 2>/dev/null | sed 's/ .*//')
    for _ns in $( (cat "$LAB_DIR/netns" 2>/dev/null
                   echo "${LAB_PREFIX}ul"; echo "$LAB_CTL_NS") | sort -u); do
        if echo "$_all" | grep -qx "$_ns"; then
            ip netns del "$_ns" 2>/dev/null || lab__err "cannot delete netns $_ns"
        fi
    done
    for _ns in ${LAB_CTL_NS:-} $(for _i in 1 2 3 4 5 6 7 8 9; do
                                     lab_ctl_ns "$_i"; done); do
        case $_ns in
            ''|*/*) ;;
            *) rm -rf "/etc/netns/$_ns" ;;
        esac
    done
    case $LAB_DIR in
        /|'') ;;
        *) rm -rf "$LAB_DIR" ;;
    esac
    return 0
}
