#!/bin/sh
# bench-cluster.sh - cluster mode (doc/cluster.md) in the lab's namespaces:
# a 3-member ovsdb-server Raft cluster, three nvo-controllers, N Open
# vSwitch hypervisors (userspace datapath) with one VM interface each.
#
#  1. VM start: POST /v1/ports?wait=1 for every VM, one at a time, spread
#     over the three controllers' REST endpoints; latency p50/p99 as curl
#     measures it (the answer comes once every affected switch answered
#     the barrier after its bundle), and each controller's CPU (utime +
#     stime from /proc) per VM start, and by thread its CPU and how many
#     times it ran (wake-ups; schedstat).  Reference, same run: the same VM
#     starts (after stopping them) with one controller left, which then
#     owns every hypervisor.  Two network shapes (NVO_BENCH_SHAPES, default
#     "4 1"): 4 networks (VM i in network i mod 4, so a VM start touches
#     about 16 switches on average at 128) and one network, the scale
#     issue's shape (bench-scale.sh: VM i joins a network of i - 1
#     hypervisors, about 64 on average at 128), where the per-hypervisor
#     work that sharding divides is the larger part.  Each controller's CPU
#     per VM start is also summed over its threads from schedstat (ns,
#     where /proc counts 10-ms ticks), with each of three over the single
#     one (the issue's "about a third").  Beside them, each controller's background
#     CPU (ms/s with no writes: heartbeats, leases, peers' heartbeats)
#     and what it adds per VM start over the phase's length: a cost the
#     per-VM-start figure includes but sharding cannot divide.
#  2. Failover: the controller owning the most hypervisors killed -9;
#     time until every one of its hypervisors was resynced and confirmed
#     by its new owner (that owner's GET /v1/status, its
#     last_confirmed_ms_ago: bench/failover-phases.py --resynced), beside
#     the poll's old measure (a survivor's GET /v1/status showing another
#     owner and a confirmed revision >= the required one).
#     Each failover's phases are printed from the survivors' logs
#     (bench/failover-phases.py), with live controllers declared dead
#     and lapsed leases counted (there must be none).
#  3. REST writes/s at 64 connections (wrk, bench/bench-rest.lua: ports on
#     kernel hypervisors without agents, as bench-rest.sh) on the cluster
#     beside the same on a single controller on SQLite, same machine.
#
# Environment: NVO_BENCH_HVS (default 32; the issue asks 128: each OVS
# instance costs about 25 MB and start-up CPU on a shared machine),
# NVO_BENCH_FAILOVERS (default 1: kills of the same controller, restarted
# in between), NVO_BENCH_HOGS (default 0: busy loops running through each
# failover, to measure it on a machine loaded beyond its cores),
# NVO_BENCH_SHAPES (default "4 1": which network shapes the VM-start
# phases run; the failover always follows the last 3-controller phase),
# NVO_BENCH_ONLY_FAILOVER (set: VM starts unmeasured, then the failovers,
# then stop), NVO_BENCH_LOG_DIR (where to keep the controllers' logs),
# NVO_BENCH_AB ("DIR_A DIR_B": failovers alternate between two controller
# builds, all three controllers restarted on each run's), NVO_BENCH_STALLS
# ("MS ...": the victim stopped that long first, to count false
# failovers),
# NVO_BENCH_REST_PORTS (default 2000), NVO_BENCH_IDLE_S (default 10: the
# window with no writes before each VM-start phase in which each
# controller's background CPU is measured), NVO_LAB_PREFIX (namespace
# prefix, default cb<pid>) and NVO_LAB_DIR (the lab's directory, default a
# new one under /tmp): set both to run beside another lab or bench.
# Prints the load average before and after: other users of the machine
# skew every figure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/deploy/lab-lib.sh"
n_hvs=${NVO_BENCH_HVS:-32}
n_rest=${NVO_BENCH_REST_PORTS:-2000}
lua="$top/bench/bench-rest.lua"
[ "$(id -u)" = 0 ] || { echo "bench-cluster: needs root"; exit 1; }
[ -x "$top/controller/nvo-controller" ] || { echo "bench-cluster: not built"; exit 1; }
command -v wrk >/dev/null || { echo "bench-cluster: wrk not installed"; exit 1; }
[ "$n_hvs" -ge 3 ] && [ "$n_hvs" -le 150 ] || { echo "bench-cluster: 3 <= NVO_BENCH_HVS <= 150"; exit 1; }

if [ -n "${NVO_LAB_DIR:-}" ]; then
    mkdir -p "$NVO_LAB_DIR" || exit 1
    lab_dir=$NVO_LAB_DIR
else
    lab_dir=$(mktemp -d /tmp/nvo-bench-cluster.XXXXXX) || exit 1
fi
lab_init "${NVO_LAB_PREFIX:-cb$$}" "$lab_dir" || exit 1
trap lab_cleanup EXIT
trap 'exit 1' INT TERM
die() { echo "bench-cluster: $*" >&2; exit 1; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# thread_ns PID: "THREAD NS RUNS" per thread of PID (its name without the
# instance number OVS appends, its run time in ns and how many times it
# ran, from schedstat).
thread_ns() {
    local _t
    for _t in /proc/"$1"/task/*; do
        echo "$(sed 's/[0-9]*$//' "$_t/comm" 2>/dev/null) $(cut -d' ' -f1,3 "$_t/schedstat" 2>/dev/null)"
    done
}
# thread_split BEFORE AFTER: "THREAD:MS/RUNS ..." per VM start (CPU ms and
# times it ran, i.e. wake-ups), from two thread_ns snapshots (threads that
# came and went count as they were seen).
thread_split() {
    { sed 's/^/- /' "$1"; sed 's/^/+ /' "$2"; } | awk -v n="$n_hvs" '
        NF == 4 { s = ($1 == "+" ? 1 : -1); d[$2] += s * $3; r[$2] += s * $4 }
        END { for (t in d) if (d[t] > 0) printf " %s:%.2f/%.1f", t, d[t] / 1e6 / n, r[t] / n }'
}
# thread_total BEFORE AFTER: all threads' CPU ms per VM start (schedstat:
# nanoseconds, where /proc's utime + stime counts 10-ms ticks).
thread_total() {
    { sed 's/^/- /' "$1"; sed 's/^/+ /' "$2"; } | awk -v n="$n_hvs" '
        NF == 4 { s += ($1 == "+" ? 1 : -1) * $3 } END { printf "%.2f", s / 1e6 / n }'
}
hz=$(getconf CLK_TCK)

echo "bench-cluster: $n_hvs OVS hypervisors, 3 controllers, 3 Raft members; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
lab_underlay_up || die underlay
lab_raft_up 3 || die "raft"
for n in 1 2 3; do lab_ctl_start "$n" --wait-timeout=30000 || die "ctl$n"; done
LAB_CTL_NS=$(lab_ctl_ns 1)
t0=$(now_ms)
for i in $(seq 1 "$n_hvs"); do
    lab_ovs_hv_add "hv$i" "$LAB_NET_BASE.$((10 + i))" || die "hv$i"
    lab_vm_add "hv$i" "vm$i" "$(printf '02:00:00:00:%02x:%02x' $((i / 256)) $((i % 256)))" \
        "10.1.$((i / 250)).$((i % 250 + 1))/16" || die "vm$i"
done
echo "bench-cluster: $n_hvs hypervisors up in $(( $(now_ms) - t0 )) ms"
for k in 0 1 2 3; do lab_register_network "n$k" $((7000 + k)) || die "network n$k"; done
for i in $(seq 1 "$n_hvs"); do lab_register_hv "hv$i" || die "register hv$i"; done

owned_by() {   # owned_by N: "NAME=OWNER ..." of every hypervisor, seen by N
    lab_ctl_rest "$1" GET /v1/hypervisors | python3 -c '
import json, sys
print(" ".join("%s=%s" % (h["name"], h.get("controller") or "-") for h in json.load(sys.stdin)))'
}
settled() { ! owned_by "$1" | tr ' ' '\n' | grep -q '=-$'; }
i=0
until settled 1; do i=$((i + 1)); [ $i -gt 300 ] && die "ownership did not settle"; sleep 0.1; done
echo "bench-cluster: owners: $(owned_by 1 | tr ' ' '\n' | sed 's/.*=//' | sort | uniq -c | tr '\n' ' ')"
# Each controller's share of the hypervisors ("ctlN:SHARE ..."): what its
# CPU over the single controller's would be if only per-hypervisor work
# cost anything.
shares=$(owned_by 1 | tr ' ' '\n' | sed 's/.*=//' | sort | uniq -c \
    | awk -v n="$n_hvs" '{ printf " %s:%.2f", $2, $1 / n }')

# vm_starts TAG SHAPE CONTROLLERS...: starts every VM (POST ?wait=1), VM i
# through the i-th of CONTROLLERS (round robin), on hypervisor i, in
# network n(i mod 4) (SHAPE 4) or n0 (SHAPE 1: one network, the scale
# issue's shape, where VM i joins a network of i - 1 hypervisors);
# latencies in $LAB_DIR/lat.TAG.
vm_starts() {
    local _c _i _n _tag _shape _net _body _out
    _tag=$1 _shape=$2; shift 2
    _n=$#
    : >"$LAB_DIR/lat.$_tag"
    for _i in $(seq 1 "$n_hvs"); do
        eval "_c=\${$(( (_i - 1) % _n + 1 ))}"
        if [ "$_shape" = 1 ]; then _net=n0; else _net=n$((_i % 4)); fi
        _body="{\"vm\":\"vm$_i\",\"network\":\"$_net\",\"hypervisor\":\"hv$_i\",\"mac\":\"$(lab_vm_get "vm$_i" mac)\",\"ip\":\"$(lab_vm_get "vm$_i" ip)\",\"iface\":\"v-vm$_i\"}"
        _out=$(ip netns exec "$(lab_ctl_ns "$_c")" curl -s -m 60 -o "$LAB_DIR/start.out" \
            -w '%{http_code} %{time_total}' -XPOST -H 'Content-Type: application/json' \
            --data-binary "$_body" "http://127.0.0.1:$LAB_REST_PORT/v1/ports?wait=1")
        [ "${_out%% *}" = 201 ] || die "start vm$_i through ctl$_c: $_out $(cat "$LAB_DIR/start.out")"
        echo "${_out#* }" >>"$LAB_DIR/lat.$_tag"
        lab__set "$LAB_DIR/vm/vm$_i" port "$(json 'd["id"]' <"$LAB_DIR/start.out")"
    done
}
vm_stops() {   # vm_stops CONTROLLER
    local _i
    for _i in $(seq 1 "$n_hvs"); do
        lab_ctl_rest "$1" DELETE "/v1/ports/$(lab_vm_get "vm$_i" port)?wait=1" >/dev/null \
            || die "stop vm$_i"
    done
}
# idle_ms N...: each controller's CPU in ms per second over NVO_BENCH_IDLE_S
# seconds with no write (heartbeats, leases, peers' heartbeats): what it
# pays for every second a phase lasts, whatever it does; "ctlN:X ...".
idle_s=${NVO_BENCH_IDLE_S:-10}
idle_ms() {
    local _n _out
    for _n in "$@"; do eval "i0_$_n=\$(cpu_ticks \$(lab_ctl_pid $_n))"; done
    sleep "$idle_s"
    _out=
    for _n in "$@"; do
        eval "d=\$(( \$(cpu_ticks \$(lab_ctl_pid $_n)) - i0_$_n ))"
        _out="$_out ctl$_n:$(awk -v d="$d" -v hz="$hz" -v s="$idle_s" 'BEGIN { printf "%.1f", d * 1000 / hz / s }')"
    done
    echo "$_out"
}
# of_phase "ctlN:X ..." MS: X ms/s over a phase of MS ms, per VM start.
of_phase() {
    echo "$1" | tr ' ' '\n' | awk -F: -v ms="$2" -v n="$n_hvs" 'NF == 2 {
        printf " %s:%.2f", $1, $2 * ms / 1000 / n }'
}

pct() {   # pct TAG: "p50 p99" in ms
    sort -n "$LAB_DIR/lat.$1" | awk '{ v[NR] = $1 * 1000 } END {
        i50 = int(NR * 0.50 + 0.999); i99 = int(NR * 0.99 + 0.999)
        printf "%.1f %.1f", v[i50], v[i99] }'
}

# phase TAG SHAPE CONTROLLERS...: vm_starts, measured.  Sets cpu_TAG
# ("ctlN:MS ...": CPU ms per VM start of each of CONTROLLERS, utime +
# stime), sched_TAG (the same from schedstat), split_TAG_N (by thread, thread_split), p50_TAG, p99_TAG and
# ms_TAG (the phase's length).
phase() {
    local _tag _shape _n _d _c _s _t0
    _tag=$1 _shape=$2; shift 2
    for _n in "$@"; do
        eval "c0_$_n=\$(cpu_ticks \$(lab_ctl_pid $_n))"
        thread_ns "$(lab_ctl_pid "$_n")" >"$LAB_DIR/threads0.$_tag.$_n"
    done
    _t0=$(now_ms)
    vm_starts "$_tag" "$_shape" "$@"
    eval "ms_$_tag=$(( $(now_ms) - _t0 ))"
    _c= _s=
    for _n in "$@"; do
        eval "_d=\$(( \$(cpu_ticks \$(lab_ctl_pid $_n)) - c0_$_n ))"
        _c="$_c ctl$_n:$(awk -v d="$_d" -v hz="$hz" -v n="$n_hvs" 'BEGIN { printf "%.2f", d * 1000 / hz / n }')"
        thread_ns "$(lab_ctl_pid "$_n")" >"$LAB_DIR/threads1.$_tag.$_n"
        eval "split_${_tag}_$_n=\$(thread_split \"\$LAB_DIR/threads0.\$_tag.\$_n\" \"\$LAB_DIR/threads1.\$_tag.\$_n\")"
        _s="$_s ctl$_n:$(thread_total "$LAB_DIR/threads0.$_tag.$_n" "$LAB_DIR/threads1.$_tag.$_n")"
    done
    eval "cpu_$_tag=\"\$_c\" sched_$_tag=\"\$_s\""
    set -- $(pct "$_tag")
    eval "p50_$_tag=$1 p99_$_tag=$2"
}
# NVO_BENCH_SHAPES: which network shapes the VM-start phases run (default
# both).  Three controllers run one network first, so that the failover
# finds the 4-network state it always measured; the single controller,
# after it, runs them the other way round.
shapes=${NVO_BENCH_SHAPES:-4 1}
has1= has4=
for s in $shapes; do
    case $s in 1) has1=1 ;; 4) has4=1 ;; *) die "NVO_BENCH_SHAPES: 1 and/or 4, not $s" ;; esac
done
three_order="${has1:+1} ${has4:+4}" one_order="${has4:+4} ${has1:+1}"
[ -n "${NVO_BENCH_ONLY_FAILOVER:-}" ] && three_order=${has4:-1}

# --- 1. VM starts through three controllers ---------------------------------
[ -n "${NVO_BENCH_ONLY_FAILOVER:-}" ] || idle3=$(idle_ms 1 2 3)
first=1
for s in $three_order; do
    [ -n "$first" ] || vm_stops 1
    first=
    phase "three$s" "$s" 1 2 3
done
check_ping() {
    lab_ping vm1 "$(lab_vm_get "vm5" ip)" 2 2>/dev/null && echo ok || echo FAIL
}

# --- 2. failover -------------------------------------------------------------
victim=$(owned_by 1 | tr ' ' '\n' | sed 's/.*=ctl//' | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')
lost=$(owned_by 1 | tr ' ' '\n' | sed -n "s/=ctl$victim\$//p" | tr '\n' ' ')
n_lost=$(echo $lost | wc -w)
survivors=$(echo 1 2 3 | tr ' ' '\n' | grep -vx "$victim" | tr '\n' ' ')
survivor=${survivors%% *}
# failed_over: "OWNED RESYNCED_MS": OWNED is 1 once every hypervisor the
# victim owned shows another owner and a confirmed revision >= the
# required one on the first survivor (the old measure: a row the taker has
# not covered yet shows what the victim recorded, a revision it did hold);
# RESYNCED_MS, once each one's new owner itself says it confirmed it after
# its own resync, is when the last did, in ms after the kill (the poll's
# own delay left out: bench/failover-phases.py --resynced).
failed_over() {
    local _s _args
    _args=
    for _s in $survivors; do
        lab_ctl_rest "$_s" GET /v1/status >"$LAB_DIR/fo.$_s.json" 2>/dev/null || { echo 0; return; }
        _args="$_args ctl$_s=$LAB_DIR/fo.$_s.json@$(( $(now_ms) - t0 ))"
    done
    python3 -c '
import json, sys
lost, victim = set(sys.argv[1].split()), "ctl" + sys.argv[2]
first = {h["name"]: h for h in json.load(open(sys.argv[3]))["hypervisors"]}
print(int(all(first[n].get("controller") not in (None, victim)
              and first[n]["confirmed_revision"] >= first[n]["required_revision"] > 0
              for n in lost)))' "$lost" "$victim" "$LAB_DIR/fo.$survivor.json"
    python3 "$top/bench/failover-phases.py" --resynced "$lost" $_args
}
# Busy loops at the controllers' priority during each failover
# (NVO_BENCH_HOGS of them): a machine loaded beyond its cores.
n_hogs=${NVO_BENCH_HOGS:-0}
hogs_start() {
    local _i
    hog_pids=
    for _i in $(seq 1 "$n_hogs"); do
        sh -c 'while :; do :; done' &
        hog_pids="$hog_pids $!"
    done
}
hogs_stop() {
    [ -n "${hog_pids:-}" ] && kill $hog_pids 2>/dev/null
    for _p in ${hog_pids:-}; do wait "$_p" 2>/dev/null; done
    hog_pids=
}
keep_logs() {   # NVO_BENCH_LOG_DIR: where the controllers' logs go at the end
    local _n
    [ -n "${NVO_BENCH_LOG_DIR:-}" ] || return 0
    mkdir -p "$NVO_BENCH_LOG_DIR"
    for _n in 1 2 3; do
        cp "$LAB_DIR/ctl$_n/nvo-controller.log" "$NVO_BENCH_LOG_DIR/ctl$_n.log" 2>/dev/null
    done
}
trap 'hogs_stop; keep_logs; lab_cleanup' EXIT
n_failovers=${NVO_BENCH_FAILOVERS:-1}
# NVO_BENCH_AB="DIR_A DIR_B": the failovers alternate between the
# controller binaries in DIR_A and DIR_B (all three controllers restarted
# on the run's binary before it), A first: an A/B pair under the same load.
set -- ${NVO_BENCH_AB:-}
bin_dirs="$*" n_bins=$#
bin_tag=$(basename "$(dirname "$LAB_CONTROLLER_BIN")") bin_i=0 bin_now=
# settled_all: every hypervisor owned, ctl$victim owns its share (at least
# floor(N / 3): ownership is sticky, so a restarted victim gets a share
# back, not the same hypervisors), and every owner says each of its own
# confirmed what it has to.
settled_all() {
    local _n
    for _n in 1 2 3; do
        lab_ctl_rest "$_n" GET /v1/hypervisors >"$LAB_DIR/st.$_n.json" 2>/dev/null || return 1
    done
    python3 -c '
import json, sys
d, victim = sys.argv[1], "ctl" + sys.argv[2]
views = {"ctl%d" % n: {h["name"]: h for h in json.load(open("%s/st.%d.json" % (d, n)))} for n in (1, 2, 3)}
own = {n: h.get("controller") for n, h in views["ctl1"].items()}
share = len(own) // 3
sys.exit(0 if all(o in views for o in own.values())
         and sum(o == victim for o in own.values()) >= max(share, 1)
         and all(views[o][n]["confirmed_revision"] >= views[o][n]["required_revision"] > 0
                 for n, o in own.items()) else 1)' "$LAB_DIR" "$victim"
}
# NVO_BENCH_STALLS="MS ...": before the failovers, the victim is stopped
# (SIGSTOP) for each of these in turn, then continued: a controller too
# busy to run at all.  Within its lease (2.75 s after its last heartbeat
# was sent) that must change nothing; past the peers' 3.0 s it is a
# failover.  From the logs: peers declaring it dead and taking its
# hypervisors, leases lapsing.
stall_report=
for ms in ${NVO_BENCH_STALLS:-}; do
    t_from=$(now_ms)
    kill -STOP "$(lab_ctl_pid "$victim")"
    sleep "$(awk -v ms="$ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
    kill -CONT "$(lab_ctl_pid "$victim")"
    sleep 5
    stall_report="$stall_report
  ctl$victim stopped for $ms ms; what followed (a peer declaring it dead and taking its hypervisors is a failover; a lapsed lease, its own):
$(python3 "$top/bench/failover-phases.py" "$t_from" "$t_from" "$(now_ms)" "ctl$victim" "$lost" \
        "$LAB_DIR"/ctl[123]/nvo-controller.log | grep -E 'peer declared|take planned|lapsed')"
    i=0
    until settled_all; do
        i=$((i + 1)); [ $i -gt 300 ] && die "not settled after the stall"; sleep 0.1
    done
done
failover_ms= owned_ms= fo_report=
for r in $(seq 1 "$n_failovers"); do
    if [ "$n_bins" -gt 0 ]; then
        bin_i=$(( (r - 1) % n_bins ))
        set -- $bin_dirs; shift "$bin_i"
        bin_tag="$(echo ABCDEFGH | cut -c$((bin_i + 1))) $1"
        if [ "$bin_now" != "$1" ]; then
            bin_now=$1
            for n in 1 2 3; do lab_ctl_stop "$n" TERM; done
            LAB_CONTROLLER_BIN=$bin_now/nvo-controller
            for n in 1 2 3; do lab_ctl_start "$n" --wait-timeout=30000 || die "ctl$n on $bin_now"; done
            i=0
            until settled_all; do
                i=$((i + 1)); [ $i -gt 300 ] && die "not settled on $bin_now"; sleep 0.1
            done
            sleep 3
        fi
    fi
    # What the victim owns now (after a restart, a share, not the same).
    lost=$(owned_by 1 | tr ' ' '\n' | sed -n "s/=ctl$victim\$//p" | tr '\n' ' ')
    n_lost=$(echo $lost | wc -w)
    t_from=$(now_ms)
    if [ "$n_hogs" -gt 0 ]; then hogs_start; sleep 3; fi
    load_at=$(cut -d' ' -f1-3 /proc/loadavg)
    t0=$(now_ms)
    lab_ctl_stop "$victim" KILL || die "kill ctl$victim"
    i=0 t_owned= t_resynced= t_polled=
    while :; do
        set -- $(failed_over)
        [ "${1:-}" = 1 ] && [ -z "$t_owned" ] && t_owned=$(( $(now_ms) - t0 ))
        [ -n "${2:-}" ] && [ -z "$t_resynced" ] && t_resynced=$2 t_polled=$(( $(now_ms) - t0 ))
        [ -n "$t_owned" ] && [ -n "$t_resynced" ] && break
        i=$((i + 1)); [ $i -gt 600 ] && die "no failover in 60 s"; sleep 0.05
    done
    sleep 1     # A false failover would show now, with the hogs still on.
    hogs_stop
    failover_ms="$failover_ms $t_resynced" owned_ms="$owned_ms $t_owned"
    eval "fo_$bin_i=\"\${fo_$bin_i:-} $t_resynced\""
    fo_report="$fo_report
  run $r ($bin_tag; load average $load_at, $n_hogs busy loops): resynced by the new owners $t_resynced ms (seen by the poll at $t_polled), owned and confirmed as ctl$survivor shows $t_owned ms
$(python3 "$top/bench/failover-phases.py" "$t0" "$t_from" "$(now_ms)" "ctl$victim" "$lost" \
        "$LAB_DIR"/ctl[123]/nvo-controller.log)"
    [ "$r" = "$n_failovers" ] && break
    # Back to three controllers: the victim takes a share back (the
    # others release what they hold above their quota), which it owns and
    # has resynced before the next kill.
    lab_ctl_start "$victim" --wait-timeout=30000 || die "restart ctl$victim"
    i=0
    until settled_all; do
        i=$((i + 1)); [ $i -gt 300 ] && die "ctl$victim did not take its share back"; sleep 0.1
    done
    sleep 3
done
# A live controller declared dead (a false failover) or a lease that
# lapsed: neither may happen, busy loops or not.
false_dead=$(echo "$fo_report" | sed -n 's/.*false failovers: \([0-9]*\) live.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
lapsed=$(echo "$fo_report" | sed -n 's/.*declared dead, \([0-9]*\) leases.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
[ -n "${NVO_BENCH_ONLY_FAILOVER:-}" ] && {
    echo "Failover: ctl$victim (owner of $n_lost of $n_hvs hypervisors) killed -9, $n_failovers times:"
    echo "  ms until each was resynced and confirmed by its new owner:$failover_ms"
    echo "  (ms until owned and confirmed as ctl$survivor shows, the measure before 2026-12-02 23:00:$owned_ms)"
    echo "  live controllers declared dead: $false_dead; leases lapsed: $lapsed"
    [ -n "$stall_report" ] && echo "Stalls (SIGSTOP, then SIGCONT):$stall_report"
    [ "$n_bins" -gt 0 ] && for b in $(seq 0 $((n_bins - 1))); do
        eval "echo \"  binary \$(echo ABCDEFGH | cut -c$((b + 1))):\${fo_$b:-}\""
    done
    echo "$fo_report"
    echo
    echo "bench-cluster: load average after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores, shared)"
    exit 0
}

# --- reference: one controller --------------------------------------------------
for n in 1 2 3; do
    [ "$n" = "$victim" ] || [ "$n" = "$survivor" ] || lab_ctl_stop "$n" KILL
done
i=0
# all_mine N: controller N owns every hypervisor and each confirmed what
# it has to on it.
all_mine() {
    lab_ctl_rest "$1" GET /v1/hypervisors | python3 -c '
import json, sys
sys.exit(0 if all(h.get("controller") == "ctl" + sys.argv[1]
                  and h["confirmed_revision"] >= h["required_revision"] > 0
                  for h in json.load(sys.stdin)) else 1)' "$1"
}
until all_mine "$survivor"; do
    i=$((i + 1)); [ $i -gt 600 ] && die "ctl$survivor did not take everything"; sleep 0.1
done
vm_stops "$survivor"
idle1=$(idle_ms "$survivor")
first=1
for s in $one_order; do
    [ -n "$first" ] || vm_stops "$survivor"
    first=
    phase "one$s" "$s" "$survivor"
done
ping_state=$(check_ping)

# --- 3. REST writes/s at 64 connections ----------------------------------------
ports_rows() {   # ports_rows NS: the ports the controller in NS holds
    LAB_CTL_NS=$1 lab_rest GET /metrics | sed -n 's/^nvo_store_rows{table="ports"} //p'
}
# rest_rate NS: 100 networks, 10 kernel hypervisors, then n_rest ports
# over 64 connections; prints "rate p50 p99".
rest_rate() {
    local _ns _i _base _rows0 _deadline
    _ns=$1
    for _i in $(seq 0 99); do
        LAB_CTL_NS=$_ns lab_rest POST /v1/networks "{\"name\":\"net-$_i\",\"vni\":$((1000 + _i))}" >/dev/null || return 1
    done
    for _i in $(seq 0 9); do
        LAB_CTL_NS=$_ns lab_rest POST /v1/hypervisors "{\"name\":\"hv-$_i\",\"tunnel_ip\":\"198.51.100.$((_i + 1))\",\"dataplane\":\"kernel\"}" >/dev/null || return 1
    done
    _base="http://127.0.0.1:$LAB_REST_PORT"
    _rows0=$(ports_rows "$_ns")
    rm -f "$LAB_DIR/wrk.done"
    NVO_BENCH_DONE_FILE="$LAB_DIR/wrk.done" \
        ip netns exec "$_ns" wrk -t1 -c64 -d600s --timeout 30s -s "$lua" "$_base" \
        -- "$n_rest" 100 10 >"$LAB_DIR/wrk.out" 2>&1 &
    _i=$!
    # Until the script saw every answer (it creates wrk.done), or wrk
    # ended, or 30 s after the store held every port (answers lost).
    _deadline=
    until ! kill -0 "$_i" 2>/dev/null || [ -e "$LAB_DIR/wrk.done" ]; do
        if [ -z "$_deadline" ] \
           && [ "$(ports_rows "$_ns")" -ge $((_rows0 + n_rest)) ]; then
            _deadline=$(($(date +%s) + 30))
        fi
        [ -n "$_deadline" ] && [ "$(date +%s)" -ge "$_deadline" ] && break
        sleep 0.2
    done
    kill -INT "$_i" 2>/dev/null; wait "$_i" 2>/dev/null
    grep -qs '^RESULT ports=0 ' "$LAB_DIR/wrk.out" \
        && echo "bench-cluster: REST run in $_ns: not every answer reached wrk" >&2
    grep '^RESULT' "$LAB_DIR/wrk.out" | sed 's/.* errors=\([-0-9]*\).* rate=\([0-9.]*\) p50_ms=\([0-9.]*\) p99_ms=\([0-9.]*\).*/\2 \3 \4 \1/'
}
set -- $(rest_rate "$(lab_ctl_ns "$survivor")") || die "REST on the cluster"
rc_rate=$1 rc_p50=$2 rc_p99=$3 rc_err=$4
LAB_CTL_NS=${LAB_PREFIX}controller
lab_controller_start || die "SQLite controller"
set -- $(rest_rate "$LAB_CTL_NS") || die "REST on SQLite"
rs_rate=$1 rs_p50=$2 rs_p99=$3 rs_err=$4

# ratio "ctlN:MS ..." MS1: each controller's CPU per VM start over MS1.
ratio() {
    echo "$1" | tr ' ' '\n' | awk -F: -v one="$2" 'NF == 2 && one > 0 { printf " %s:%.2f", $1, $2 / one }'
}
for s in $shapes; do
    if [ "$s" = 1 ]; then
        what="one network: the scale issue's shape, VM i joins a network of i - 1 hypervisors"
    else
        what="4 networks: VM i in network i mod 4"
    fi
    eval "sched3=\$sched_three$s sched1=\$sched_one$s"
    eval "cpu3=\$cpu_three$s cpu1=\$cpu_one$s p50_3=\$p50_three$s p99_3=\$p99_three$s"
    eval "p50_1=\$p50_one$s p99_1=\$p99_one$s ms3=\$ms_three$s ms1=\$ms_one$s"
    echo
    echo "VM start (POST /v1/ports?wait=1, one at a time, $n_hvs VMs on $n_hvs OVS hypervisors; $what):"
    printf '  %-44s %9s %9s  %s\n' "" "p50 ms" "p99 ms" "controller CPU ms per VM start"
    printf '  %-44s %9s %9s  %s\n' "3 controllers (REST spread over all three)" "$p50_3" "$p99_3" "$cpu3"
    printf '  %-44s %9s %9s  %s\n' "1 controller (reference, same VMs, same run)" "$p50_1" "$p99_1" "ctl$survivor:${cpu1#*:}"
    printf '  %-44s %19s  %s\n' "the same, all threads, schedstat:" "3 controllers" "$sched3"
    printf '  %-44s %19s  %s\n' "" "1 controller" "ctl$survivor:${sched1#*:}"
    printf '  %-44s %19s  %s\n' "each of three over the single one, schedstat" "(target: about 1/3)" "$(ratio "$sched3" "${sched1#*:}")"
    printf '  %-44s %19s  %s\n' "share of the hypervisors each owns" "" "$shares"
    echo "  of which background (CPU with no writes, ms/s over $idle_s s before the first phase, times this phase's length):"
    printf '  %-44s %19s  %s\n' "3 controllers: ${idle3# } ms/s" "$ms3 ms" "$(of_phase "$idle3" "$ms3")"
    printf '  %-44s %19s  %s\n' "1 controller: ${idle1# } ms/s" "$ms1 ms" "$(of_phase "$idle1" "$ms1")"
    echo "  by thread (ms/wake-ups per VM start, schedstat):"
    for n in 1 2 3; do
        eval "t=\$split_three${s}_$n"
        printf '  %-44s %s\n' "3 controllers, ctl$n:" "$t"
    done
    eval "t=\$split_one${s}_$survivor"
    printf '  %-44s %s\n' "1 controller, ctl$survivor:" "$t"
done
echo "  ping vm1 -> vm5 after the reference starts: $ping_state"
echo
echo "Failover: ctl$victim (owner of $n_lost of $n_hvs hypervisors) killed -9, $n_failovers times:"
echo "  ms until each was resynced and confirmed by its new owner:$failover_ms  (bound: 5000 ms)"
echo "  (ms until owned and confirmed as ctl$survivor shows, the measure before 2026-12-02 23:00:$owned_ms)"
echo "  live controllers declared dead: $false_dead; leases lapsed: $lapsed"
echo "$fo_report"
echo
echo "REST POST /v1/ports, 64 connections, $n_rest ports (wrk; kernel hypervisors without agents):"
printf '  %-44s %9s %9s %9s %7s\n' "" "ports/s" "p50 ms" "p99 ms" "errors"
printf '  %-44s %9s %9s %9s %7s\n' "SQLite, one controller (reference)" "$rs_rate" "$rs_p50" "$rs_p99" "$rs_err"
printf '  %-44s %9s %9s %9s %7s\n' "Raft cluster (3 members), one controller" "$rc_rate" "$rc_p50" "$rc_p99" "$rc_err"
echo
echo "bench-cluster: load average after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores, shared)"
