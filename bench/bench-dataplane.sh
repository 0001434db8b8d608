#!/bin/sh
# bench-dataplane.sh - the dataplane features' figures, each beside a
# reference measured in the same run (real OVS in namespaces):
#
#  1. ARP load: H OVS hypervisors (default 4) with V VMs (default 32) in one
#     head-end network; every VM ARPs once for every other VM (all VMs at
#     once, one target after the other).  Counted: the broadcast ARP
#     requests arriving over VXLAN at the hypervisors' underlay interfaces
#     (tcpdump), per second of the run.  With the ARP responder on, then
#     (reference) off (PATCH "arp_responder":false); the reduction is the
#     figure.
#  2. Flows per hypervisor: with ARP responder and port security (ports
#     with "ip") beside the same VMs without addresses and with the ARP
#     responder off (the table before these features).
#  3. Throughput: one TCP stream (iperf3, 5 s) between two VMs on two OVS
#     hypervisors over Geneve and over GRE, beside VXLAN in the same run.
#
# Settings (environment): BENCH_DP_HVS=4, BENCH_DP_VMS=32,
# BENCH_DP_PARTS="arp flows tput".  The machine may be shared: figures
# move with its load; the references are measured under the same load.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/deploy/lab-lib.sh"

HVS=${BENCH_DP_HVS:-4}
VMS=${BENCH_DP_VMS:-32}
PARTS=${BENCH_DP_PARTS:-arp flows tput}

[ "$(id -u)" = 0 ] || { echo "bench-dataplane: needs root"; exit 1; }
die() { echo "bench-dataplane: $*" >&2; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

lab_init "bd$$" "$(mktemp -d /tmp/nvo-bench-dataplane.XXXXXX)" || exit 1
trap lab_cleanup EXIT
trap 'exit 1' INT TERM
TMP=$LAB_DIR/bench
mkdir -p "$TMP"

lab_underlay_up || die underlay
lab_controller_start || die controller
hvs=
for h in $(seq 1 "$HVS"); do
    lab_ovs_hv_add "h$h" "192.0.2.$((100 + h))" || die "h$h"
    hvs="$hvs h$h"
done
for o in $hvs; do
    for p in $hvs; do
        [ $o = $p ] && continue
        lab_ovs_appctl $o tnl/arp/set br-phy "$(lab_node_get $p ip)" \
            "$(lab_hv_exec $p cat /sys/class/net/br-phy/address)" >/dev/null
    done
done
lab_register_network arp 9001 || die network
for o in $hvs; do lab_register_hv $o || die "register $o"; done

vms=
for i in $(seq 1 "$VMS"); do
    h=$(( (i - 1) % HVS + 1 ))
    lab_vm_add "h$h" "v$i" "$(printf '02:00:00:90:%02x:%02x' $((i / 256)) $((i % 256)))" \
        "10.90.$((i / 256)).$((i % 256))/16" || die "vm $i"
    vms="$vms v$i"
done
for v in $vms; do lab_start_vm "$v" arp >/dev/null || die "start $v"; done

# BUM ARP requests over VXLAN, Geneve or GRE arriving at a hypervisor: VXLAN
# (UDP 4789) carries the inner frame after 8+8 bytes of UDP and VXLAN.
VXBCAST='udp dst port 4789 and udp[16:4] = 0xffffffff and udp[28:2] = 0x0806'

# arp_round TAG: flushes every VM's neighbours, captures on every
# hypervisor's underlay, has every VM ARP for every other; prints
# "FRAMES MS ANSWERED" (ANSWERED: the ARP requests that got a reply, so
# that a responder that only drops is no reduction).
arp_round() {
    for v in $vms; do lab_vm_exec "$v" ip neigh flush dev eth0; done
    pids=
    for o in $hvs; do
        ip netns exec "$(lab_ns $o)" tcpdump -i ul0 -Q in -n -U \
            --immediate-mode -w "$TMP/$1-$o.pcap" "$VXBCAST" \
            2>"$TMP/$1-$o.err" &
        pids="$pids $!"
    done
    for o in $hvs; do
        i=0
        until grep -q listening "$TMP/$1-$o.err" 2>/dev/null; do
            i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.1
        done
    done
    t0=$(now_ms)
    jobs=
    for v in $vms; do
        targets=
        for w in $vms; do
            [ "$v" = "$w" ] || targets="$targets $(lab_vm_get $w ip)"
        done
        ( a=0
          for t in $targets; do
              lab_vm_exec "$v" arping -q -c 1 -w 1 -I eth0 "$t" >/dev/null 2>&1 \
                  && a=$((a + 1))
          done
          echo "$a" >"$TMP/$1-$v.answered" ) &
        jobs="$jobs $!"
    done
    for j in $jobs; do wait "$j"; done
    t1=$(now_ms)
    answered=$(cat "$TMP/$1"-v*.answered | awk '{ s += $1 } END { print s + 0 }')
    sleep 0.5
    for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    n=0
    for o in $hvs; do
        c=$(tcpdump -r "$TMP/$1-$o.pcap" -n 2>/dev/null | wc -l)
        n=$((n + c))
    done
    echo "$n $((t1 - t0)) $answered"
}

patch_arp() {
    st=$(lab_rest_status PATCH "/v1/networks/arp?wait=1" \
         "{\"arp_responder\":$1}")
    [ "$st" = 200 ] || die "PATCH arp_responder $1: $st"
}

# flows_per_hv: the nvo flows of each hypervisor, "min/avg/max".
flows_per_hv() {
    for o in $hvs; do
        lab_ovs_ofctl "$o" dump-flows | grep -c 'cookie=0x6e'
    done | awk '{ s += $1; if (min == "" || $1 < min) min = $1;
                  if ($1 > max) max = $1 }
                END { printf "%d/%.1f/%d", min, s / NR, max }'
}

case " $PARTS " in *" arp "*)
    echo "--- ARP load: $VMS VMs on $HVS OVS hypervisors, each ARPs for every other once"
    patch_arp true
    set -- $(arp_round on); on_n=$1 on_ms=$2 on_a=$3
    patch_arp false
    set -- $(arp_round off); off_n=$1 off_ms=$2 off_a=$3
    patch_arp true
    asked=$((VMS * (VMS - 1)))
    awk -v a="$on_n" -v am="$on_ms" -v b="$off_n" -v bm="$off_ms" \
        -v aa="$on_a" -v ba="$off_a" -v q="$asked" 'BEGIN {
        ra = am ? a * 1000 / am : 0; rb = bm ? b * 1000 / bm : 0
        printf "ARP responder on : %6d BUM ARP frames reached other hypervisors in %5.1f s (%8.1f frames/s); %d of %d requests answered\n", a, am / 1000, ra, aa, q
        printf "reference: off   : %6d BUM ARP frames reached other hypervisors in %5.1f s (%8.1f frames/s); %d of %d requests answered\n", b, bm / 1000, rb, ba, q
        if (b) printf "reduction: %.1f %% fewer BUM ARP frames on the underlay\n", 100 * (b - a) / b
    }'
    # Fewer frames count only if the requests were still answered.
    [ "$on_a" -ge $((asked * 95 / 100)) ] \
        || die "ARP responder on: only $on_a of $asked requests answered"
    ;;
esac

case " $PARTS " in *" flows "*)
    echo "--- flows per hypervisor (min/avg/max), $VMS VMs with addresses"
    after=$(flows_per_hv)
    patch_arp false
    # The same VMs without addresses: no port security flows.
    for v in $vms; do
        id=$(lab_vm_get "$v" port)
        lab_rest DELETE "/v1/ports/$id?wait=1" >/dev/null || die "stop $v"
        lab_rest POST "/v1/ports?wait=1" "{\"vm\":\"$v\",\"network\":\"arp\",\"hypervisor\":\"$(lab_vm_get $v hv)\",\"mac\":\"$(lab_vm_get $v mac)\",\"iface\":\"$(lab_vm_get $v iface)\"}" >/dev/null \
            || die "restart $v"
    done
    before=$(flows_per_hv)
    echo "with ARP responder + port security: $after flows"
    echo "reference: without either         : $before flows"
    awk -v a="${after#*/}" -v b="${before#*/}" 'BEGIN {
        split(a, x, "/"); split(b, y, "/");
        printf "growth: %.2fx the table (average)\n", x[1] / y[1] }'
    ;;
esac

case " $PARTS " in *" tput "*)
    command -v iperf3 >/dev/null || die "iperf3 missing (apt-get install iperf3)"
    echo "--- one TCP stream between two VMs on two OVS hypervisors (iperf3, 5 s)"
    n=0
    for e in vxlan geneve gre; do
        n=$((n + 1))
        lab_rest POST /v1/networks "{\"name\":\"t-$e\",\"vni\":$((9100 + n)),\"encap\":\"$e\"}" >/dev/null \
            || die "network t-$e"
        lab_vm_add h1 "ta$e" "02:00:00:91:0$n:01" "10.91.$n.1/24" || die vm
        lab_vm_add h2 "tb$e" "02:00:00:91:0$n:02" "10.91.$n.2/24" || die vm
        lab_start_vm "ta$e" "t-$e" >/dev/null || die "start ta$e"
        lab_start_vm "tb$e" "t-$e" >/dev/null || die "start tb$e"
    done
    for e in vxlan geneve gre; do
        lab_vm_exec "tb$e" iperf3 -s -D -1 -I "$TMP/iperf-$e.pid" >/dev/null 2>&1
        sleep 0.3
        dst=$(lab_vm_get "tb$e" ip)
        lab_ping "ta$e" "$dst" 3 || echo "warning: ta$e cannot ping $dst"
        bps=$(lab_vm_exec "ta$e" iperf3 -c "$dst" -t 5 -J 2>/dev/null \
              | python3 -c 'import json, sys
try:
    print("%.0f" % json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])
except Exception:
    print(0)')
        [ -f "$TMP/iperf-$e.pid" ] && kill "$(cat "$TMP/iperf-$e.pid")" 2>/dev/null
        eval "bps_$e=$bps"
    done
    awk -v v="$bps_vxlan" -v g="$bps_geneve" -v r="$bps_gre" 'BEGIN {
        printf "Geneve: %7.1f Mbit/s (%.2fx VXLAN)\n", g / 1e6, v ? g / v : 0
        printf "GRE   : %7.1f Mbit/s (%.2fx VXLAN)\n", r / 1e6, v ? r / v : 0
        printf "reference: VXLAN: %7.1f Mbit/s\n", v / 1e6 }'
    ;;
esac
