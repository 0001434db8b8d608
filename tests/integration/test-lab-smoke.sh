#!/bin/sh
# test-lab-smoke.sh - the lab library itself (deploy/lab-lib.sh), without
# the controller: underlay + 2 Open vSwitch hypervisors + 2 VMs come up,
# their daemons run, the hypervisors reach each other (ICMP and OVSDB over
# TCP) across the underlay, restarts of ovs-vswitchd and ovsdb-server keep
# that, and lab_cleanup leaves no namespace and no daemon behind.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/deploy/lab-lib.sh"

P=tl$$
dir=$(mktemp -d /tmp/nvo-lab-smoke.XXXXXX)
trap 'lab_cleanup' EXIT
trap 'exit 1' INT TERM

fails=0
# check DESCRIPTION SHELL-CODE: SHELL-CODE is eval'd here (so it can call
# the lab_ functions); passes if it exits 0.
check() {
    if (eval "$2") >/dev/null 2>&1; then
        echo "ok: $1"
    else
        echo "FAIL: $1"
        fails=$((fails + 1))
    fi
}
die() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"

lab_init "$P" "$dir" || die lab_init
start=$(date +%s%N)
lab_underlay_up || die lab_underlay_up
lab_ovs_hv_add hv1 192.0.2.11 || die "lab_ovs_hv_add hv1"
lab_ovs_hv_add hv2 192.0.2.12 || die "lab_ovs_hv_add hv2"
lab_vm_add hv1 vm1 02:00:00:00:00:01 10.0.0.1/24 || die "lab_vm_add vm1"
lab_vm_add hv2 vm2 02:00:00:00:00:02 10.0.0.2/24 || die "lab_vm_add vm2"
echo "bring-up: $(( ($(date +%s%N) - start) / 1000000 )) ms (underlay, 2 OVS hypervisors, 2 VMs)"

has_ns() { ip netns list | sed 's/ .*//' | grep -qx "$1"; }
for n in ul hv1 hv2 vm1 vm2; do
    check "namespace $P$n exists" "has_ns $P$n"
done

n=$(wc -l <"$dir/pids")
check "4 daemons recorded (got $n)" "[ $n -eq 4 ]"
while read -r pid st comm; do
    check "$comm ($pid) runs in its namespace" "[ \"\$(cat /proc/$pid/comm)\" = $comm ] && ip netns identify $pid | grep -q '^$P'"
done <"$dir/pids"

for hv in hv1 hv2; do
    check "$hv: br-int is netdev, fail_mode=secure" "[ \"\$(lab_ovs_vsctl $hv get Bridge br-int datapath_type fail_mode | tr '\n' ' ')\" = 'netdev secure ' ]"
    check "$hv: no OpenFlow controller on br-int" "[ -z \"\$(lab_ovs_vsctl $hv get-controller br-int)\" ]"
    check "$hv: br-phy holds ul0" "lab_ovs_vsctl $hv list-ports br-phy | grep -qx ul0"
    check "$hv: handler/revalidator threads = 1" "lab_ovs_vsctl $hv get Open_vSwitch . other_config:n-handler-threads | grep -q 1"
    check "$hv: ovs-ofctl -O OpenFlow13 reaches br-int" "lab_ovs_ofctl $hv dump-flows"
done

iface=$(lab_vm_iface vm1)
check "vm1's interface is v-vm1" "[ $iface = v-vm1 ]"
check "v-vm1 is in ${P}hv1, up" "ip -n ${P}hv1 -o link show v-vm1 | grep -q ',UP'"
check "v-vm1 is not attached to br-int yet" "! lab_ovs_vsctl hv1 list-ports br-int | grep -q v-vm1"
check "vm1 has its MAC and address" "lab_vm_exec vm1 ip -o addr show eth0 | grep -q 10.0.0.1/24 &&
     lab_vm_exec vm1 ip -o link show eth0 | grep -q 02:00:00:00:00:01"
check "vm1's MTU is $LAB_VM_MTU" "lab_vm_exec vm1 ip -o link show eth0 | grep -q 'mtu $LAB_VM_MTU '"
check "no lab interface leaked into the root namespace" "! ip -o link show | grep -Eq ' (u-hv1|u-hv2|v-vm1|v-vm2|ul0|br-ul)[@:]'"

check "hv1 pings hv2 over the underlay" "lab_hv_exec hv1 ping -c 2 -i 0.2 -W 1 192.0.2.12"
check "hv2 pings hv1 with a full 1600-byte packet" \
    "lab_hv_exec hv2 ping -c 1 -W 1 -M do -s 1572 192.0.2.11"
check "hv1 reaches hv2's ovsdb-server at tcp:192.0.2.12:6640" \
    "lab_hv_exec hv1 ovs-vsctl --db=tcp:192.0.2.12:6640 --retry --timeout=15 br-exists br-int"

lab_ovs_restart_vswitchd hv2 || die "lab_ovs_restart_vswitchd hv2"
check "after an ovs-vswitchd restart, hv1 still pings hv2" \
    "lab_hv_exec hv1 ping -c 2 -i 0.2 -W 1 192.0.2.12"
lab_ovs_stop_ovsdb hv2 || die "lab_ovs_stop_ovsdb hv2"
check "ovsdb-server stopped: tcp:192.0.2.12:6640 refuses" "! lab_hv_exec hv1 ovs-vsctl --db=tcp:192.0.2.12:6640 --timeout=2 br-exists br-int"
lab_ovs_start_ovsdb hv2 || die "lab_ovs_start_ovsdb hv2"
check "ovsdb-server started again: tcp:192.0.2.12:6640 answers" \
    "lab_hv_exec hv1 ovs-vsctl --db=tcp:192.0.2.12:6640 --retry --timeout=15 br-exists br-int"

bg=$(lab_bg vm1 sleep 600)
# ip netns exec enters the namespace just after the fork: poll for it.
check "lab_bg runs its command inside vm1's namespace" \
    "for i in \$(seq 100); do ip netns identify $bg | grep -qx ${P}vm1 && exit 0; sleep 0.1; done; exit 1"

pids=$(awk '{print $1}' "$dir/pids")
lab_cleanup
# exited: PID is gone or a zombie (exited, its parent has not reaped it yet).
exited() {
    _s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -z "$_s" ] || [ "$_s" = Z ]
}
for pid in $pids; do
    check "recorded PID $pid has exited after cleanup" "exited $pid"
done
check "no namespace with prefix $P remains" "! ip netns list | grep -Eq '^$P(ul|ctl|hv1|hv2|vm1|vm2)( |\$)'"
check "state directory removed" "[ ! -e $dir ]"
check "lab_cleanup is idempotent" lab_cleanup

[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"
