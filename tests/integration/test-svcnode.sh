#!/bin/sh
# test-svcnode.sh - the service node's BUM replication against the real
# kernel VXLAN dataplane in network namespaces.
#
# Standalone part (always): kernel VTEPs h1-h3 and two service nodes s1, s2
# running the replicator (tests/svcnode/svcnode-run) on a private underlay
# (192.0.2.0/24 inside the test's own namespaces).  Each kernel VTEP floods
# BUM through one all-zero FDB entry toward its network's service node,
# as the controller programs it for "bum":"service-node".
#   red  (VNI 1001): r1@h1 r4@h1 r2@h2 r3@h3, served by s1
#   blue (VNI 1002): b1@h1 b2@h2, served by s2; b3@h3 is a stranger (h3 is
#                    not in blue's replication list)
# Checks: one ARP broadcast from r1 reaches r2, r3, r4 exactly once (r4 by
# h1's bridge, never again through the service node) and no blue VM; the
# same for blue; b3's broadcast is dropped as an unknown source; ping works
# across hypervisors; after s1 dies and red floods to s2, broadcasts again
# arrive exactly once.
#
# Lab part (when deploy/lab-lib.sh and nvo-agent are built): see
# tests/integration/test-svcnode-lab.sh.
#
# Self-cleaning: kills only the PIDs it started, deletes only the
# namespaces it created (prefix sn<PID>).  Needs root.  exit 0 = pass.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/deploy/lab-lib.sh"      # lab_pid_id, lab_pid_id_alive
RUN=${SVCNODE_RUN:-$top/tests/svcnode/svcnode-run}
P=sn$$
DIR=$(mktemp -d /tmp/test-svcnode.XXXXXX)
NSS=
PIDS=
FAILS=0

cleanup() {
    for pid in $PIDS; do kill "$pid" 2>/dev/null; done
    for pid in $PIDS; do wait "$pid" 2>/dev/null; done
    for ns in $NSS; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# forget PID: PID was waited for: no longer ours to kill at exit (its
# number may be another process's by then).
forget() {
    _left=
    for _p in $PIDS; do [ "$_p" = "$1" ] || _left="$_left $_p"; done
    PIDS=$_left
}

say() { echo "== $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
die() { echo "ERROR: $*"; exit 1; }
pass() { echo "ok: $*"; }

[ "$(id -u)" = 0 ] || die "needs root"
[ -x "$RUN" ] || die "$RUN not built (make)"
for t in tcpdump arping ip bridge; do
    command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

# ns NAME: creates namespace $P$NAME.
ns() {
    ip netns add "$P$1" || die "netns add $P$1"
    NSS="$NSS $P$1"
    ip -n "$P$1" link set lo up
    # No IPv6: its autoconfiguration multicasts would add to the counts.
    ip netns exec "$P$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1
}
nsx() { n=$1; shift; ip netns exec "$P$n" "$@"; }

# Underlay: bridge br0 in ${P}ul; node NAME gets ul0 with IP.
ns ul
ip -n "${P}ul" link add br0 type bridge
ip -n "${P}ul" link set br0 up
node() {
    name=$1 ip=$2
    ns "$name"
    ip -n "${P}ul" link add "u-$name" mtu 1600 type veth peer name ul0 \
        netns "$P$name" || die "veth $name"
    ip -n "${P}ul" link set "u-$name" master br0 up
    ip -n "$P$name" link set ul0 mtu 1600 up
    ip -n "$P$name" addr add "$ip/24" dev ul0
    nsx "$name" sysctl -qw net.ipv4.conf.all.arp_ignore=1
}

H1=192.0.2.11 H2=192.0.2.12 H3=192.0.2.13 S1=192.0.2.21 S2=192.0.2.22
node h1 $H1; node h2 $H2; node h3 $H3; node s1 $S1; node s2 $S2

# vtep HV HVIP VNI SNIP: a kernel VXLAN device + bridge for VNI on HV,
# flooding to the service node SNIP.
vtep() {
    hv=$1 hvip=$2 vni=$3 sn=$4
    ip -n "$P$hv" link add "vx$vni" type vxlan id "$vni" local "$hvip" \
        dstport 4789 nolearning noudpcsum || die "vxlan $hv $vni"
    # No snooping: it joins 224.0.0.106 and its IGMP reports add BUM.
    ip -n "$P$hv" link add "br$vni" type bridge mcast_snooping 0
    ip -n "$P$hv" link set "vx$vni" master "br$vni" up
    ip -n "$P$hv" link set "br$vni" up
    bridge -n "$P$hv" fdb append 00:00:00:00:00:00 dev "vx$vni" dst "$sn"
}

# vm NAME HV VNI MAC IP: a VM namespace on HV's bridge for VNI.
VMS=
vm() {
    name=$1 hv=$2 vni=$3 mac=$4 ip=$5
    ns "$name"
    ip -n "$P$hv" link add "v-$name" type veth peer name eth0 \
        netns "$P$name" || die "veth $name"
    ip -n "$P$hv" link set "v-$name" master "br$vni" up
    ip -n "$P$name" link set eth0 address "$mac" mtu 1450 up
    ip -n "$P$name" addr add "$ip/24" dev eth0
    nsx "$name" ethtool -K eth0 tx off >/dev/null 2>&1
    VMS="$VMS $name"
    echo "$hv $vni $mac" >"$DIR/vm-$name"
}

vtep h1 $H1 1001 $S1; vtep h2 $H2 1001 $S1; vtep h3 $H3 1001 $S1
vtep h1 $H1 1002 $S2; vtep h2 $H2 1002 $S2; vtep h3 $H3 1002 $S2
vm r1 h1 1001 02:00:00:01:00:01 10.1.0.1
vm r4 h1 1001 02:00:00:01:00:04 10.1.0.4
vm r2 h2 1001 02:00:00:01:00:02 10.1.0.2
vm r3 h3 1001 02:00:00:01:00:03 10.1.0.3
vm b1 h1 1002 02:00:00:02:00:01 10.2.0.1
vm b2 h2 1002 02:00:00:02:00:02 10.2.0.2
vm b3 h3 1002 02:00:00:02:00:03 10.2.0.3

# Unicast: static MAC -> VTEP entries for every remote VM of the network.
hvip() { case $1 in h1) echo $H1;; h2) echo $H2;; h3) echo $H3;; esac; }
for v in $VMS; do
    read -r vhv vvni vmac <"$DIR/vm-$v"
    for hv in h1 h2 h3; do
        [ "$hv" = "$vhv" ] && continue
        bridge -n "$P$hv" fdb add "$vmac" dev "vx$vvni" dst "$(hvip "$vhv")" \
            self permanent
    done
done

# Service nodes: both know both networks (the controller pushes every
# network to the node that serves it; here s2 is ready to take over red).
start_sn() {
    name=$1 ip=$2
    # ip netns exec execs the command: $! is the replicator itself.
    ip netns exec "$P$name" "$RUN" "$ip" 1001=$H1,$H2,$H3 1002=$H1,$H2 \
        >"$DIR/$name.out" 2>"$DIR/$name.log" &
    eval "PID_$name=$!"
    PIDS="$PIDS $!"
}
start_sn s1 $S1
start_sn s2 $S2
for i in $(seq 50); do
    grep -q ready "$DIR/s1.out" "$DIR/s2.out" 2>/dev/null \
        && [ "$(cat "$DIR/s1.out" "$DIR/s2.out" | grep -c ready)" = 2 ] && break
    sleep 0.1
done
[ "$(cat "$DIR/s1.out" "$DIR/s2.out" | grep -c ready)" = 2 ] \
    || die "service nodes did not start: $(cat "$DIR"/s?.log)"

# counters SN VNI: that VNI's counter line of service node SN.
counters() {
    local n0 i
    n0=$(grep -c '' "$DIR/$1.out")
    eval "kill -USR1 \$PID_$1"
    # The dump is out once the output grew and holds that VNI's line
    # (polled, 3 s at most).
    i=0
    until [ "$(grep -c '' "$DIR/$1.out")" -gt "$n0" ] \
        && tail -n +$((n0 + 1)) "$DIR/$1.out" | grep -q "^vni=$2 " \
        || [ $i -ge 30 ]; do
        sleep 0.1; i=$((i + 1))
    done
    grep "^vni=$2 " "$DIR/$1.out" | tail -1
}

# field LINE NAME: the value of NAME=N in a counters line (0 if absent).
field() {
    v=$(echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p")
    echo "${v:-0}"
}

# expect_delta SN VNI BEFORE-LINE "NAME=N...": the counters of SN's VNI
# moved by exactly N since BEFORE-LINE.
expect_delta() {
    sn=$1 vni=$2 before=$3 ok=1
    after=$(counters "$sn" "$vni")
    for want in $4; do
        k=${want%=*} n=${want#*=}
        d=$(( $(field "$after" "$k") - $(field "$before" "$k") ))
        [ "$d" = "$n" ] || ok=0
    done
    if [ $ok = 1 ]; then pass "$sn VNI $vni moved by $4: $after"
    else fail "$sn VNI $vni: want $4, before: $before, after: $after"; fi
}

# broadcast FROM TARGET-IP TAG WANT: captures in every VM, sends one ARP
# broadcast from FROM, and judges the number of those broadcasts each VM
# received against WANT ("VM=N ...", see expect).  Polled: once every VM
# that must receive it did (5 s at most), the captures run SETTLE more
# seconds for copies that must not come (a second copy, another tenant);
# with nothing to receive, arping's own second of waiting for a reply and
# SETTLE do.
SETTLE=0.5
broadcast() {
    from=$1 target=$2 tag=$3 want=$4
    read -r fhv fvni fmac <"$DIR/vm-$from"
    cap=
    for v in $VMS; do
        [ "$v" = "$from" ] && continue
        ip netns exec "$P$v" tcpdump -i eth0 -Q in -n -U --immediate-mode \
            -w "$DIR/$tag-$v.pcap" "arp and ether src $fmac and ether broadcast" \
            2>"$DIR/$tag-$v.err" &
        cap="$cap $!"
        PIDS="$PIDS $!"
    done
    for v in $VMS; do
        [ "$v" = "$from" ] && continue
        for i in $(seq 50); do
            grep -q listening "$DIR/$tag-$v.err" 2>/dev/null && break
            sleep 0.1
        done
    done
    # ip netns exec execs arping: $! is arping itself.
    ip netns exec "$P$from" arping -q -c 1 -b -I eth0 "$target" >/dev/null 2>&1 &
    arp=$! arp_id=$(lab_pid_id $!)
    i=0
    until received "$tag" "$want" || [ $i -ge 50 ]; do
        sleep 0.1; i=$((i + 1))
    done
    case " $want" in *=[1-9]*) ;; *) wait $arp ;; esac
    sleep $SETTLE
    # Unless it ended (and its PID may be another process's by now).
    lab_pid_id_alive "$arp_id" && kill $arp 2>/dev/null; wait $arp 2>/dev/null
    # -U wrote each packet as it came; background jobs ignore SIGINT.
    for pid in $cap; do
        kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; forget "$pid"
    done
    for v in $VMS; do
        [ "$v" = "$from" ] && continue
        tcpdump -r "$DIR/$tag-$v.pcap" -n 2>/dev/null | wc -l >"$DIR/$tag-$v"
    done
    expect "$tag" "$want"
}

# received TAG "VM=N ...": every VM with N > 0 captured at least N so far.
received() {
    for w in $2; do
        [ "${w#*=}" = 0 ] && continue
        [ "$(tcpdump -r "$DIR/$1-${w%=*}.pcap" -n 2>/dev/null | wc -l)" -ge "${w#*=}" ] \
            || return 1
    done
}

# expect TAG "VM=N ...": each VM received exactly N broadcasts.
expect() {
    tag=$1 ok=1 got=
    for want in $2; do
        v=${want%=*} n=${want#*=}
        c=$(cat "$DIR/$tag-$v")
        got="$got $v=$c"
        [ "$c" = "$n" ] || ok=0
    done
    if [ $ok = 1 ]; then pass "$tag:$got"; else fail "$tag: want $2, got$got"; fi
}

say "red broadcast from r1 through s1"
base=$(counters s1 1001)
broadcast r1 10.1.0.99 red1 "r2=1 r3=1 r4=1 b1=0 b2=0 b3=0"
expect_delta s1 1001 "$base" "in=1 out=2 unknown_source=0"

say "blue broadcast from b1 through s2"
broadcast b1 10.2.0.99 blue1 "b2=1 r1=0 r2=0 r3=0 r4=0 b3=0"

say "stranger: b3 on h3, which is not in blue's list"
base=$(counters s2 1002)
broadcast b3 10.2.0.98 stranger "b1=0 b2=0 r1=0 r2=0 r3=0 r4=0"
expect_delta s2 1002 "$base" "in=1 out=0 unknown_source=1"

say "ping across hypervisors (ARP through the service nodes)"
if nsx r1 ping -c 3 -i 0.2 -W 2 10.1.0.3 >/dev/null; then
    pass "r1 -> r3"; else fail "r1 cannot ping r3"; fi
if nsx b2 ping -c 3 -i 0.2 -W 2 10.2.0.1 >/dev/null; then
    pass "b2 -> b1"; else fail "b2 cannot ping b1"; fi
if nsx r2 ping -c 1 -W 1 10.2.0.2 >/dev/null 2>&1; then
    fail "r2 reached blue's b2"; else pass "red cannot reach blue"; fi

say "failover: s1 dies, red floods to s2"
eval "kill \$PID_s1"
eval "wait \$PID_s1" 2>/dev/null
forget "$PID_s1"
for hv in h1 h2 h3; do
    bridge -n "$P$hv" fdb del 00:00:00:00:00:00 dev vx1001 dst $S1
    bridge -n "$P$hv" fdb append 00:00:00:00:00:00 dev vx1001 dst $S2
done
base=$(counters s2 1001)
broadcast r3 10.1.0.97 red2 "r1=1 r2=1 r4=1 b1=0 b2=0 b3=0"
expect_delta s2 1001 "$base" "in=1 out=2"
nsx r1 ip neigh flush dev eth0
if nsx r1 ping -c 3 -i 0.2 -W 2 10.1.0.2 >/dev/null; then
    pass "r1 -> r2 after failover"
else
    fail "r1 cannot ping r2 after failover"
fi

if [ $FAILS = 0 ]; then echo "PASS: test-svcnode"; exit 0; fi
echo "FAILED: $FAILS check(s)"
sed 's/^/  s1: /' "$DIR/s1.log" | tail -5
sed 's/^/  s2: /' "$DIR/s2.log" | tail -5
exit 1
