#!/bin/sh
# test-svcnode-lab.sh - "bum":"service-node" networks end to end in the lab
# (deploy/lab-lib.sh): controller, nvo-agents on kernel hypervisors k1-k3
# and on two service nodes s1, s2, and OVS hypervisors o1, o2 when the
# controller has the OVS southbound.
#   red  (VNI 6001): r1@k1 r4@k1 r2@k2 r3@k3 [r5@o1 r6@o2]
#   blue (VNI 6002): b1@k1 b2@k2 [b3@o1]
# Checks: kernel VTEPs flood through one all-zero FDB entry to the
# network's service node; one ARP broadcast from a VM reaches every other
# VM of its network exactly once (counted with tcpdump in each VM) and none
# of the other network, and it went through the service node; ping works;
# after the serving node's agent is killed, the controller re-places the
# network on the other node and broadcasts again arrive exactly once
# within a few seconds, and go back when it returns; switching a network
# between service-node and head-end at run time loses no unicast ping;
# deleting a live service node through REST re-homes its networks at once
# (broadcasts exactly once through the other node).
# All agents run over mutual TLS (ssl:, certificates from lab_pki_init).
# Exit 0 = pass, 77 = skipped.  lab_cleanup on EXIT removes everything.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -f "$top/deploy/lab-lib.sh" ] || [ ! -x "$top/agent/nvo-agent" ] \
   || [ ! -x "$top/controller/nvo-controller" ]; then
    echo "SKIP: needs deploy/lab-lib.sh, nvo-agent and nvo-controller built"
    exit 77
fi
for t in tcpdump arping python3 curl; do
    command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
. "$top/deploy/lab-lib.sh"

FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
die() { echo "ERROR: $*"; exit 1; }
pass() { echo "ok: $*"; }
step() { echo "--- $*"; }

lab_init "sl$$" "$(mktemp -d /tmp/nvo-test-svcnode.XXXXXX)" || exit 1
trap lab_cleanup EXIT
trap 'exit 1' INT TERM
# Every agent (service nodes included) over mutual TLS (lab_pki_init).
lab_pki_init || die "pki"
# Quick heartbeats so a dead service node is noticed fast.
CTL_ARGS="--agent-heartbeat=500 --agent-timeout=3000"
LAB_AGENT_ARGS="--heartbeat-interval=500 --heartbeat-timeout=3000 --backoff-max=1000"
export LAB_AGENT_ARGS
TMP=$LAB_DIR/svcnode-test
mkdir -p "$TMP"

with_ovs=0
if [ -f "$top/controller/ovs-sb.c" ] \
   && ! grep -q PLACEHOLDER "$top/controller/ovs-sb.c"; then
    with_ovs=1
fi

S1=192.0.2.41 S2=192.0.2.42
lab_underlay_up || die "underlay"
lab_controller_start $CTL_ARGS || die "controller"
lab_kernel_hv_add k1 192.0.2.21 || die "k1"
lab_kernel_hv_add k2 192.0.2.22 || die "k2"
lab_kernel_hv_add k3 192.0.2.23 || die "k3"
lab_kernel_hv_add s1 $S1 service-node || die "s1"
lab_kernel_hv_add s2 $S2 service-node || die "s2"
red="r1 r4 r2 r3" blue="b1 b2"
lab_vm_add k1 r1 02:00:00:61:00:01 10.61.0.1/24 || die "r1"
lab_vm_add k1 r4 02:00:00:61:00:04 10.61.0.4/24 || die "r4"
lab_vm_add k2 r2 02:00:00:61:00:02 10.61.0.2/24 || die "r2"
lab_vm_add k3 r3 02:00:00:61:00:03 10.61.0.3/24 || die "r3"
lab_vm_add k1 b1 02:00:00:62:00:01 10.62.0.1/24 || die "b1"
lab_vm_add k2 b2 02:00:00:62:00:02 10.62.0.2/24 || die "b2"
hvs="k1 k2 k3 s1 s2"
if [ $with_ovs = 1 ]; then
    lab_ovs_hv_add o1 192.0.2.31 || die "o1"
    lab_ovs_hv_add o2 192.0.2.32 || die "o2"
    lab_vm_add o1 r5 02:00:00:61:00:05 10.61.0.5/24 || die "r5"
    lab_vm_add o2 r6 02:00:00:61:00:06 10.61.0.6/24 || die "r6"
    lab_vm_add o1 b3 02:00:00:62:00:03 10.62.0.3/24 || die "b3"
    red="$red r5 r6" blue="$blue b3"
    hvs="$hvs o1 o2"
    for o in o1 o2; do
        # Pre-seed the service nodes' underlay MACs (LAB-NOTES pitfall 6).
        for s in s1 s2; do
            sip=$(lab_node_get $s ip)
            smac=$(lab_hv_exec $s cat /sys/class/net/ul0/address)
            lab_ovs_appctl $o tnl/arp/set br-phy "$sip" "$smac" >/dev/null
        done
    done
else
    echo "note: controller has no OVS southbound yet: kernel hypervisors only"
fi
vms="$red $blue"

step "registration"
lab_register_network red 6001 service-node || die "network red"
lab_register_network blue 6002 service-node || die "network blue"
for hv in $hvs; do lab_register_hv $hv || die "register $hv"; done
for hv in k1 k2 k3 s1 s2; do lab_wait_connected $hv || die "$hv not connected"; done
for vm in $red; do lab_start_vm $vm red >/dev/null || die "start $vm"; done
for vm in $blue; do lab_start_vm $vm blue >/dev/null || die "start $vm"; done

# flood_dst HV VNI: the destinations of HV's all-zero FDB entries.
flood_dst() {
    lab_hv_exec "$1" bridge fdb show dev "nvx$2" 2>/dev/null \
        | awk '/^00:00:00:00:00:00/ { for (i = 1; i < NF; i++)
                                          if ($i == "dst") print $(i + 1) }' \
        | sort | tr '\n' ' ' | sed 's/ $//'
}

# serving VNI: the service node (s1 or s2) k1 floods VNI to.
serving() {
    case $(flood_dst k1 "$1") in
        $S1) echo s1 ;;
        $S2) echo s2 ;;
        *) echo none ;;
    esac
}

# wait_flood VNI NODE-IP SECONDS: until every kernel hypervisor with a VM
# in VNI floods only to NODE-IP; prints the time taken in ms.
wait_flood() {
    t0=$(date +%s%N)
    while :; do
        ok=1
        for hv in k1 k2 k3; do
            d=$(flood_dst $hv "$1")
            [ -z "$d" ] || [ "$d" = "$2" ] || ok=0
        done
        [ $ok = 1 ] && [ "$(flood_dst k1 "$1")" = "$2" ] && break
        [ $(( ($(date +%s%N) - t0) / 1000000 )) -gt $(($3 * 1000)) ] && return 1
        sleep 0.1
    done
    echo $(( ($(date +%s%N) - t0) / 1000000 ))
}

step "kernel VTEPs flood to one service node"
for vni in 6001 6002; do
    sn=$(serving $vni)
    if [ "$sn" = none ]; then
        fail "VNI $vni: k1 floods to '$(flood_dst k1 $vni)', not one service node"
    else
        sip=$(lab_node_get $sn ip)
        wait_flood $vni "$sip" 10 >/dev/null \
            && pass "VNI $vni: k1-k3 flood to $sn ($sip)" \
            || fail "VNI $vni: flood lists: k1 '$(flood_dst k1 $vni)' k2 '$(flood_dst k2 $vni)' k3 '$(flood_dst k3 $vni)'"
    fi
done

# broadcast FROM TARGET-IP TAG SN: captures in every other VM (and on the
# serving service node SN's underlay), sends one ARP broadcast from FROM, and
# leaves in $TMP/TAG-VM the number of those broadcasts each VM received.
# Polled: once every other VM of FROM's network and SN received it (5 s at
# most), the captures run SETTLE more seconds for copies that must not
# come (a second one, another network's VMs).
SETTLE=0.5
broadcast() {
    from=$1 target=$2 tag=$3 sn=$4
    fmac=$(lab_vm_get "$from" mac)
    cap=
    for v in $vms; do
        [ "$v" = "$from" ] && continue
        ip netns exec "$(lab_ns "$v")" tcpdump -i eth0 -Q in -n -U \
            --immediate-mode -w "$TMP/$tag-$v.pcap" "arp and ether src $fmac and ether broadcast" \
            2>"$TMP/$tag-$v.err" &
        cap="$cap $!:$v"
    done
    ip netns exec "$(lab_ns "$sn")" tcpdump -i ul0 -Q in -n -U \
        --immediate-mode -w "$TMP/$tag-sn.pcap" "udp dst port 4789" \
        2>"$TMP/$tag-sn.err" &
    cap="$cap $!:sn"
    for pv in $cap; do
        for i in $(seq 50); do
            grep -q listening "$TMP/$tag-${pv#*:}.err" 2>/dev/null && break
            sleep 0.1
        done
    done
    # ip netns exec execs arping: $! is arping itself.
    ip netns exec "$(lab_ns "$from")" arping -q -c 1 -b -I eth0 "$target" \
        >/dev/null 2>&1 &
    arp=$! arp_id=$(lab_pid_id $!)
    net=$(lab_vm_get "$from" network)
    i=0
    until bcast_arrived "$tag" "$from" "$net" || [ $i -ge 50 ]; do
        sleep 0.1; i=$((i + 1))
    done
    sleep $SETTLE
    # Unless it ended (and its PID may be another process's by now).
    lab_pid_id_alive "$arp_id" && kill $arp 2>/dev/null; wait $arp 2>/dev/null
    for pv in $cap; do
        kill "${pv%%:*}" 2>/dev/null; wait "${pv%%:*}" 2>/dev/null
    done
    for pv in $cap; do
        tcpdump -r "$TMP/$tag-${pv#*:}.pcap" -n 2>/dev/null | wc -l \
            >"$TMP/$tag-${pv#*:}"
    done
}

# bcast_arrived TAG FROM NET: the service node and every VM of NET but
# FROM captured at least one of TAG's broadcasts so far.
bcast_arrived() {
    [ "$(tcpdump -r "$TMP/$1-sn.pcap" -n 2>/dev/null | wc -l)" -ge 1 ] || return 1
    for v in $vms; do
        [ "$v" = "$2" ] || [ "$(lab_vm_get $v network)" != "$3" ] && continue
        [ "$(tcpdump -r "$TMP/$1-$v.pcap" -n 2>/dev/null | wc -l)" -ge 1 ] || return 1
    done
}

# expect TAG FROM NET: every other VM of NET saw the broadcast once, the
# others never, and the service node received it.
expect() {
    tag=$1 from=$2 net=$3 ok=1 got=
    for v in $vms; do
        [ "$v" = "$from" ] && continue
        c=$(cat "$TMP/$tag-$v")
        got="$got $v=$c"
        if [ "$(lab_vm_get $v network)" = "$net" ]; then
            [ "$c" = 1 ] || ok=0
        else
            [ "$c" = 0 ] || ok=0
        fi
    done
    sn=$(cat "$TMP/$tag-sn")
    got="$got; service node received $sn VXLAN packet(s)"
    [ "$sn" -ge 1 ] || ok=0
    if [ $ok = 1 ]; then pass "$tag:$got"; return; fi
    fail "$tag:$got"
    for v in $vms; do
        [ "$v" = "$from" ] && continue
        [ "$(cat "$TMP/$tag-$v")" -gt 1 ] || continue
        tcpdump -r "$TMP/$tag-$v.pcap" -n -e 2>/dev/null | sed "s/^/  $v: /"
    done
}

red_sn=$(serving 6001) blue_sn=$(serving 6002)
[ "$red_sn" = none ] && die "red has no service node"
[ "$blue_sn" = none ] && die "blue has no service node"

step "one broadcast from r1 (red via $red_sn)"
broadcast r1 10.61.0.99 red1 "$red_sn"
expect red1 r1 red
step "one broadcast from b2 (blue via $blue_sn)"
broadcast b2 10.62.0.99 blue1 "$blue_sn"
expect blue1 b2 blue
if [ $with_ovs = 1 ]; then
    step "one broadcast from r5 on OVS hypervisor o1"
    broadcast r5 10.61.0.98 red-ovs "$red_sn"
    expect red-ovs r5 red
fi

step "replication counters in the controller's /metrics"
# Agent heartbeats (every 500 ms here) carry them: polled, 5 s at most.
sn_out() {
    lab_rest GET /metrics | awk -v sn="$red_sn" \
      '$1 == "nvo_service_node_packets_total{hypervisor=\"" sn "\",vni=\"6001\",direction=\"out\"}" { print $2 }'
}
i=0
until out=$(sn_out) && [ -n "$out" ] && [ "$out" -ge 4 ] || [ $i -ge 50 ]; do
    sleep 0.1; i=$((i + 1))
done
if [ -n "$out" ] && [ "$out" -ge 4 ]; then
    pass "/metrics: $red_sn sent $out copies for VNI 6001"
else
    fail "/metrics: no or too few copies for $red_sn VNI 6001: '$out'"
    lab_rest GET /metrics | grep service_node | head -20
fi

step "ping"
lab_ping_matrix $vms || fail "ping matrix"

other() { [ "$1" = s1 ] && echo s2 || echo s1; }
step "failover: kill -9 $red_sn's agent (serves red)"
new_sn=$(other "$red_sn")
t_kill=$(date +%s%N)
lab_agent_kill "$red_sn" KILL
if wait_flood 6001 "$(lab_node_get "$new_sn" ip)" 15 >/dev/null; then
    pass "kernel VTEPs re-pointed red to $new_sn $(( ($(date +%s%N) - t_kill) / 1000000 )) ms after the kill"
else
    fail "red not re-pointed to $new_sn: k1 '$(flood_dst k1 6001)' k2 '$(flood_dst k2 6001)' k3 '$(flood_dst k3 6001)'"
fi
# OVS hypervisors have no FDB to look at: give them the same time, then
# the broadcast itself tells.
sleep 1
broadcast r3 10.61.0.97 red2 "$new_sn"
expect red2 r3 red
broadcast b1 10.62.0.97 blue2 "$new_sn"
expect blue2 b1 blue
lab_vm_exec r1 ip neigh flush dev eth0
lab_ping r1 10.61.0.2 && pass "r1 -> r2 after failover" \
    || fail "r1 cannot ping r2 after failover"

step "the failed node returns: its networks spread back"
lab_agent_start "$red_sn" || fail "restart $red_sn's agent"
if ms=$(wait_flood 6001 "$(lab_node_get "$red_sn" ip)" 15); then
    pass "red back on $red_sn ${ms} ms after its agent restarted"
else
    fail "red not back on $red_sn: k1 floods to '$(flood_dst k1 6001)'"
fi

# Switching BUM handling at run time must not cost unicast: a continuous
# ping (kernel -> kernel, and kernel -> OVS when present) across two
# switches, head-end and back, loses nothing.
step "switch red between service-node and head-end under continuous ping"
ping_bg() {   # VM DEST TAG: 60 pings at 0.1 s in the background
    lab_vm_exec "$1" ping -q -i 0.1 -c 60 -W 1 "$2" >"$TMP/$3.ping" 2>&1 &
    echo $!
}
lab_ping r1 10.61.0.2 >/dev/null || true
pids="$(ping_bg r1 10.61.0.2 p-k2)"
if [ $with_ovs = 1 ]; then
    lab_ping r1 10.61.0.5 >/dev/null || true
    pids="$pids $(ping_bg r1 10.61.0.5 p-o1)"
fi
sleep 1
st=$(lab_rest_status PATCH "/v1/networks/red?wait=1" '{"bum":"head-end"}')
[ "$st" = 200 ] && pass "PATCH red head-end: 200" || fail "PATCH red head-end: $st"
want="192.0.2.22 192.0.2.23"
[ $with_ovs = 1 ] && want="$want 192.0.2.31 192.0.2.32"
d=$(flood_dst k1 6001)
[ "$d" = "$want" ] && pass "head-end: k1 floods red to every other hypervisor ($d)"     || fail "head-end: k1 floods red to '$d', want '$want'"
sleep 2
st=$(lab_rest_status PATCH "/v1/networks/red?wait=1" '{"bum":"service-node"}')
[ "$st" = 200 ] && pass "PATCH red service-node: 200" || fail "PATCH red service-node: $st"
wait_flood 6001 "$(lab_node_get "$red_sn" ip)" 10 >/dev/null     && pass "service-node again: k1 floods red to $red_sn"     || fail "service-node again: k1 floods red to '$(flood_dst k1 6001)'"
for p in $pids; do wait "$p"; done
for f in "$TMP"/p-*.ping; do
    line=$(grep 'packets transmitted' "$f")
    case $line in
        *" 0% packet loss"*) pass "$(basename "$f" .ping): $line" ;;
        *) fail "$(basename "$f" .ping) lost packets: $line" ;;
    esac
done

# Deleting a live service node (DELETE /v1/hypervisors/NAME) must re-home
# its networks at once, like a failure: the hypervisors flood to the other
# node before the deleted node's agent is even stopped, and broadcasts keep
# arriving exactly once through the other node.
step "DELETE the live service node $red_sn under broadcast traffic"
new_sn=$(other "$red_sn")
lab_vm_exec r2 arping -q -b -i 0.2 -c 40 -I eth0 10.61.0.96 >/dev/null 2>&1 &
bg=$! bg_id=$(lab_pid_id $!)
sleep 1
t_del=$(date +%s%N)
st=$(lab_rest_status DELETE "/v1/hypervisors/$red_sn?wait=1")
[ "$st" = 204 ] && pass "DELETE $red_sn: 204" || fail "DELETE $red_sn: $st"
if wait_flood 6001 "$(lab_node_get "$new_sn" ip)" 5 >/dev/null; then
    pass "red re-homed to $new_sn $(( ($(date +%s%N) - t_del) / 1000000 )) ms after the DELETE"
else
    fail "red not re-homed after DELETE of $red_sn: k1 '$(flood_dst k1 6001)' k2 '$(flood_dst k2 6001)' k3 '$(flood_dst k3 6001)'"
fi
wait_flood 6002 "$(lab_node_get "$new_sn" ip)" 5 >/dev/null \
    && pass "blue served by $new_sn" \
    || fail "blue not on $new_sn: k1 '$(flood_dst k1 6002)'"
# The deleted node goes away for good.
lab_agent_kill "$red_sn" KILL
lab_pid_id_alive "$bg_id" && kill "$bg" 2>/dev/null; wait "$bg" 2>/dev/null
sleep 1
broadcast r3 10.61.0.95 red-del "$new_sn"
expect red-del r3 red
broadcast b2 10.62.0.95 blue-del "$new_sn"
expect blue-del b2 blue
if [ $with_ovs = 1 ]; then
    broadcast r6 10.61.0.94 red-del-ovs "$new_sn"
    expect red-del-ovs r6 red
fi

if [ $FAILS = 0 ]; then echo "PASS: test-svcnode-lab"; exit 0; fi
echo "FAILED: $FAILS check(s)"
for n in s1 s2; do
    tail -n 8 "$LAB_DIR/agent/$n/nvo-agent.log" 2>/dev/null | sed "s/^/  $n: /"
done
tail -n 8 "$LAB_DIR/ctl/nvo-controller.log" | sed 's/^/  ctl: /'
exit 1
