# chaos-lab.sh - the lab the chaos suite (tests/chaos/chaos.sh) and the soak
# (tests/soak/soak.sh) run on, as shell functions on top of deploy/lab-lib.sh.
#
#   . tests/chaos/chaos-lab.sh
#   chaos_lab_up PREFIX WORKDIR   # lab_init + everything below; trap cleanup
#   chaos_lab_down                # lab_cleanup, unmount, remove WORKDIR
#   chaos_lab_run TAG ARGS...     # a lab ${TAG}PID in a new WORKDIR, then
#                                 # tests/chaos/chaos.py ARGS in the
#                                 # controller's namespace; its status
#
# Topology (underlay 192.0.2.0/24):
#   ctl  .1   nvo-controller, its SQLite file on a 16 MiB tmpfs
#             (WORKDIR/dbfs) so the "disk full" fault can fill it
#   o1 o2 o3  .11-.13  Open vSwitch hypervisors
#   k1 k2     .21-.22  kernel hypervisors (nvo-agent)
#   s1        .31      service node (nvo-agent --role=service-node)
# Networks: red (VNI 5001, head-end BUM), blue (VNI 5002, service-node BUM).
# Pinger VMs (never moved): red po1 po2 po3 pk1 pk2 (10.0.0.1-5, one per
# hypervisor), blue qo2 qk2 (10.1.0.1-2).  Churn interfaces: every
# hypervisor has veth pairs c0..c$((CHAOS_SLOTS-1)) (peer cNp, both up), so a
# churn port (slot N, iface cN) can start on or move to any hypervisor.

CHAOS_SLOTS=${CHAOS_SLOTS:-8}
CHAOS_HVS="o1 o2 o3 k1 k2"
CHAOS_OVS="o1 o2 o3"
CHAOS_AGENTS="k1 k2 s1"

chaos__die() { echo "chaos: $*" >&2; return 1; }

# chaos_ctl_args: the controller's extra arguments (its DB on the tmpfs).
chaos_ctl_args() {
    echo "--db=$CHAOS_WORK/dbfs/nvo.db --agent-heartbeat=500 --agent-timeout=3000"
}

chaos_lab_up() {
    local hv i vm
    # Heartbeats every 500 ms both ways, 3 s of silence is death: a dead
    # agent or service node is noticed fast (like test-svcnode-lab.sh).
    LAB_AGENT_ARGS="--heartbeat-interval=500 --heartbeat-timeout=3000 --backoff-max=1000"
    export LAB_AGENT_ARGS
    CHAOS_WORK=$2
    export CHAOS_WORK
    mkdir -p "$CHAOS_WORK/dbfs" "$CHAOS_WORK/lab" || return 1
    lab_init "$1" "$CHAOS_WORK/lab" || return 1
    mount -t tmpfs -o size=16m nvo-chaos "$CHAOS_WORK/dbfs" \
        || chaos__die "cannot mount a tmpfs" || return 1
    touch "$CHAOS_WORK/mounted"
    lab_underlay_up || return 1
    # shellcheck disable=SC2046
    lab_controller_start $(chaos_ctl_args) || return 1
    i=1
    for hv in $CHAOS_OVS; do
        lab_ovs_hv_add "$hv" "192.0.2.1$i" || return 1
        i=$((i + 1))
    done
    lab_kernel_hv_add k1 192.0.2.21 || return 1
    lab_kernel_hv_add k2 192.0.2.22 || return 1
    lab_kernel_hv_add s1 192.0.2.31 service-node || return 1
    for hv in $CHAOS_HVS; do
        i=0
        while [ $i -lt "$CHAOS_SLOTS" ]; do
            lab_hv_exec "$hv" ip link add "c$i" type veth peer name "c${i}p" \
                && lab_hv_exec "$hv" ip link set "c$i" up \
                && lab_hv_exec "$hv" ip link set "c${i}p" up || return 1
            i=$((i + 1))
        done
    done
    lab_register_network red 5001 head-end || return 1
    lab_register_network blue 5002 service-node || return 1
    for hv in $CHAOS_HVS s1; do lab_register_hv "$hv" || return 1; done
    i=1
    for hv in $CHAOS_HVS; do
        vm=p$hv
        lab_vm_add "$hv" "$vm" "02:00:00:00:00:0$i" "10.0.0.$i/24" || return 1
        lab_start_vm "$vm" red >/dev/null || return 1
        i=$((i + 1))
    done
    lab_vm_add o2 qo2 02:00:00:00:01:01 10.1.0.1/24 || return 1
    lab_start_vm qo2 blue >/dev/null || return 1
    lab_vm_add k2 qk2 02:00:00:00:01:02 10.1.0.2/24 || return 1
    lab_start_vm qk2 blue >/dev/null || return 1
}

chaos_lab_down() {
    lab_cleanup
    if [ -n "${CHAOS_WORK:-}" ]; then
        [ -f "$CHAOS_WORK/mounted" ] && umount "$CHAOS_WORK/dbfs" 2>/dev/null
        rm -rf "$CHAOS_WORK"
    fi
}

# chaos_lab_run TAG ARGS...: the lab (removed on exit), then the driver.
chaos_lab_run() {
    local tag work
    tag=$1; shift
    P=$tag$$
    work=$(mktemp -d "/tmp/nvo-$tag.XXXXXX")
    trap 'chaos_lab_down' EXIT
    trap 'exit 1' INT TERM
    echo "$tag: setting up the lab ($P in $work)"
    chaos_lab_up "$P" "$work" || { echo "$tag: lab setup failed"; return 1; }
    CHAOS_PREFIX=$P CHAOS_LABDIR=$LAB_DIR
    export CHAOS_PREFIX CHAOS_LABDIR CHAOS_WORK CHAOS_SLOTS LAB_TOP
    # The driver talks to the REST API on the controller namespace's
    # loopback.
    ip netns exec "$LAB_CTL_NS" python3 "$LAB_TOP/tests/chaos/chaos.py" "$@"
}
