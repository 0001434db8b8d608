#!/bin/sh
# test-ovs-isolation.sh - two tenants with the same IP addresses on the same
# two OVS hypervisors stay isolated: each pings its own peer, and tcpdump in
# every VM namespace sees no frame (unicast or broadcast) of the other
# tenant.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/ovs-test-lib.sh"

ovs_test_init tovi
ovs_test_two_hvs                        # red: vm1 (hv1), vm2 (hv2)
lab_vm_add hv1 vm3 02:00:00:00:02:01 10.0.0.1/24 || die vm3
lab_vm_add hv2 vm4 02:00:00:00:02:02 10.0.0.2/24 || die vm4
lab_register_network blue 5002 || die "network blue"
lab_start_vm vm3 blue >/dev/null || die "start vm3"
lab_start_vm vm4 blue >/dev/null || die "start vm4"

for vm in vm1 vm2 vm3 vm4; do
    ip netns exec "$P$vm" tcpdump -i eth0 -n -e -U -w "$OVS_TEST_DIR/$vm.pcap" \
        >/dev/null 2>&1 &
    echo $! >>"$OVS_TEST_DIR/tcpdump.pids"
done
# Capturing once each pcap file has its header (tcpdump writes it when the
# capture is open).
i=0
for vm in vm1 vm2 vm3 vm4; do
    until [ "$(stat -c %s "$OVS_TEST_DIR/$vm.pcap" 2>/dev/null || echo 0)" -ge 24 ] \
        || [ $i -ge 100 ]; do
        sleep 0.1; i=$((i + 1))
    done
done

check "red: vm1 pings vm2 (10.0.0.2)" "lab_ping vm1 10.0.0.2 5"
check "blue: vm3 pings vm4 (10.0.0.2)" "lab_ping vm3 10.0.0.2 5"
check "red: vm2 pings vm1 (10.0.0.1)" "lab_ping vm2 10.0.0.1 3"
check "blue: vm4 pings vm3 (10.0.0.1)" "lab_ping vm4 10.0.0.1 3"
# Broadcasts: ARP for an address nobody has, from each tenant (both at
# once: each waits out its replies that never come).
{ ip netns exec "${P}vm1" arping -c 2 -w 2 10.0.0.99 >/dev/null 2>&1 \
      || ip netns exec "${P}vm1" ping -c 2 -W 1 10.0.0.99 >/dev/null 2>&1; } &
b1=$!
ip netns exec "${P}vm3" ping -c 2 -W 1 10.0.0.98 >/dev/null 2>&1 &
b3=$!
wait $b1 $b3
# The broadcasts are out once vm2 (same tenant) captured vm1's ARP for
# 10.0.0.99 and vm4 vm3's for 10.0.0.98 (polled, 5 s at most); frames
# leaking to the other tenant would have arrived by then too.
i=0
until [ "$(tcpdump -r "$OVS_TEST_DIR/vm2.pcap" -n 'arp and host 10.0.0.99' 2>/dev/null | wc -l)" -gt 0 ] \
    && [ "$(tcpdump -r "$OVS_TEST_DIR/vm4.pcap" -n 'arp and host 10.0.0.98' 2>/dev/null | wc -l)" -gt 0 ] \
    || [ $i -ge 50 ]; do
    sleep 0.1; i=$((i + 1))
done
for p in $(cat "$OVS_TEST_DIR/tcpdump.pids"); do
    kill "$p" 2>/dev/null; wait "$p" 2>/dev/null
done

red='ether src 02:00:00:00:01:01 or ether src 02:00:00:00:01:02'
blue='ether src 02:00:00:00:02:01 or ether src 02:00:00:00:02:02'
count() { tcpdump -r "$OVS_TEST_DIR/$1.pcap" -n "$2" 2>/dev/null | wc -l; }
for vm in vm1 vm2; do
    n=$(count $vm "$blue") r=$(count $vm "$red")
    echo "$vm (red) saw $r red frames, $n blue frames"
    check "$vm (red) saw red frames" "[ $r -gt 0 ]"
    check "$vm (red) saw no blue frame" "[ $n -eq 0 ]"
done
for vm in vm3 vm4; do
    n=$(count $vm "$red") b=$(count $vm "$blue")
    echo "$vm (blue) saw $b blue frames, $n red frames"
    check "$vm (blue) saw blue frames" "[ $b -gt 0 ]"
    check "$vm (blue) saw no red frame" "[ $n -eq 0 ]"
done
check "red's broadcast ARP for 10.0.0.99 stayed in red" \
    "[ \$(tcpdump -r $OVS_TEST_DIR/vm4.pcap -n 'arp and host 10.0.0.99' 2>/dev/null | wc -l) -eq 0 ] && [ \$(tcpdump -r $OVS_TEST_DIR/vm2.pcap -n 'arp and host 10.0.0.99' 2>/dev/null | wc -l) -gt 0 ]"
ovs_test_done
