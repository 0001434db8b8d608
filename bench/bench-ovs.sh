#!/bin/sh
# bench-ovs.sh - the OVS southbound's figures, each beside a reference
# measured in the same run (real ovsdb-server/ovs-vswitchd in namespaces):
#
#  1. VM start latency: with H OVS hypervisors (default 8, then 32), V VMs
#     (default 1000) across N networks (default 50) start one after the
#     other, each POST /v1/ports?wait=1 returning once every hypervisor of
#     its network confirmed it (barrier).  p50/p99.  VM interfaces are
#     veths left in the hypervisor namespace (nvo attaches them to br-int).
#     Reference: `ovs-vsctl add-port br-int` (which waits for ovs-vswitchd
#     to apply it) on one of the same switches.
#  2. Cold connect: one switch, empty flow table and no controller target
#     yet, a store whose view for it is F flows (default 10000): from the
#     exec of nvo-controller to the switch confirming (OVSDB, OpenFlow
#     dump, diff, one bundle, commit, barrier), by REST (polled every
#     10 ms from one process over one connection) and by the switch's
#     last flow added (ovs-ofctl monitor).
#     Reference: `ovs-ofctl --bundle add-flows` of the same F flows into
#     the same switch, from its exec to its exit (commit reply) and to the
#     last flow added, with the same monitor running.  Ratio of medians.
#
# Each part runs once per mode in BENCH_OVS_TLS (default "0 1": plain, then
# TLS everywhere as deploy/lab-lib.sh's LAB_TLS=1 sets it up: ssl: OVSDB,
# pssl: OpenFlow listener, REST over HTTPS with a token), so the TLS
# figures print beside the plain ones of the same run with their ratio.
#
# Settings (environment): BENCH_OVS_HVS="8 32", BENCH_OVS_VMS=1000,
# BENCH_OVS_NETS=50, BENCH_OVS_FLOWS=10000, BENCH_OVS_PARTS="start cold",
# BENCH_OVS_TLS="0 1", BENCH_OVS_COLD_RUNS=3 (cold connects measured, each
# beside its own reference run; medians and their ratio printed).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/deploy/lab-lib.sh"
. "$top/bench/bench-lib.sh"

HVS=${BENCH_OVS_HVS:-8 32}
VMS=${BENCH_OVS_VMS:-1000}
NETS=${BENCH_OVS_NETS:-50}
FLOWS=${BENCH_OVS_FLOWS:-10000}
PARTS=${BENCH_OVS_PARTS:-start cold}
COLD_RUNS=${BENCH_OVS_COLD_RUNS:-3}
MODES=${BENCH_OVS_TLS:-0 1}

[ "$(id -u)" = 0 ] || { echo "bench-ovs: needs root"; exit 1; }
die() { echo "bench-ovs: $*" >&2; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# pct FILE P: the P-th percentile (nearest rank) of the numbers in FILE.
pct() {
    sort -n "$1" | awk -v p="$2" '{ a[NR] = $1 }
        END { i = int((p / 100) * NR + 0.999999); if (i < 1) i = 1;
              printf "%.1f", a[i] }'
}

cleanup() { lab_cleanup; }
trap cleanup EXIT
trap 'exit 1' INT TERM

bench_start() {
    local h=$1 dir i n ip cfg j vm hv net mac t0 t1
    dir=$(mktemp -d /tmp/nvo-bench-ovs.XXXXXX)
    lab_init "bo$$-$h" "$dir" || die lab_init
    lab_underlay_up || die underlay
    lab_controller_start --wait-timeout=30000 || die controller
    t0=$(now_ms)
    i=1
    while [ $i -le "$h" ]; do
        lab_ovs_hv_add "h$i" "192.0.2.$((10 + i))" || die "hv h$i"
        i=$((i + 1))
    done
    t1=$(now_ms)
    echo "  $h OVS hypervisors up in $((t1 - t0)) ms"

    # VM interfaces: veth pairs in the hypervisor namespaces.
    j=1
    while [ $j -le "$VMS" ]; do
        hv=h$(( (j - 1) % h + 1 ))
        echo "link add vm$j type veth peer name vp$j"
        echo "link set vm$j up"
        echo "link set vp$j up"
        j=$((j + 1))
    done >"$dir/ip.batch"
    i=1
    while [ $i -le "$h" ]; do
        awk -v h="$h" -v i="$i" '{ n = $3; sub(/^v[mp]/, "", n);
            if ((n - 1) % h + 1 == i) print }' "$dir/ip.batch" \
            >"$dir/ip.h$i"
        ip -n "${LAB_PREFIX}h$i" -batch "$dir/ip.h$i" || die "veths on h$i"
        i=$((i + 1))
    done

    : >"$dir/setup.cfg"
    n=1
    while [ $n -le "$NETS" ]; do
        curl_entry POST "/v1/networks" \
            "{\"name\":\"n$n\",\"vni\":$((10000 + n)),\"bum\":\"head-end\"}" \
            >>"$dir/setup.cfg"
        n=$((n + 1))
    done
    i=1
    while [ $i -le "$h" ]; do
        ip=192.0.2.$((10 + i))
        curl_entry POST "/v1/hypervisors?wait=1" \
            "{\"name\":\"h$i\",\"tunnel_ip\":\"$ip\",\"dataplane\":\"ovs\",\"role\":\"hypervisor\",\"ovsdb\":\"$(lab_ovsdb_remote "h$i")\"}" \
            >>"$dir/setup.cfg"
        i=$((i + 1))
    done
    rest_batch "$dir/setup.cfg" | grep -qv '^20[01] ' && die "setup requests failed"

    : >"$dir/ports.cfg"
    j=1
    while [ $j -le "$VMS" ]; do
        hv=h$(( (j - 1) % h + 1 ))
        net=n$(( (j - 1) / h % NETS + 1 ))
        mac=$(printf '02:be:%02x:%02x:%02x:%02x' $((h)) $((j >> 16 & 255)) \
              $((j >> 8 & 255)) $((j & 255)))
        curl_entry POST "/v1/ports?wait=1" \
            "{\"vm\":\"vm$j\",\"network\":\"$net\",\"hypervisor\":\"$hv\",\"mac\":\"$mac\",\"iface\":\"vm$j\"}" \
            >>"$dir/ports.cfg"
        j=$((j + 1))
    done
    t0=$(now_ms)
    rest_batch "$dir/ports.cfg" >"$dir/ports.out"
    t1=$(now_ms)
    ok=$(grep -c '^201 ' "$dir/ports.out")
    awk '$1 == 201 { print $2 * 1000 }' "$dir/ports.out" >"$dir/ports.ms"
    echo "  nvo ($(mode_name)): $ok/$VMS POST /v1/ports?wait=1 confirmed in $((t1 - t0)) ms:" \
         "p50 $(pct "$dir/ports.ms" 50) ms, p99 $(pct "$dir/ports.ms" 99) ms"
    echo "start-$h $LAB_TLS $(pct "$dir/ports.ms" 50) $(pct "$dir/ports.ms" 99)" \
        >>"$RESULTS"

    # Reference: ovs-vsctl add-port (waits for ovs-vswitchd) on h1.
    : >"$dir/vsctl.ms"
    j=1
    while [ $j -le 50 ]; do
        ip -n "${LAB_PREFIX}h1" link add "rf$j" type veth peer name "rp$j"
        ip -n "${LAB_PREFIX}h1" link set "rf$j" up
        t0=$(date +%s%N)
        lab_ovs_vsctl h1 add-port br-int "rf$j" >/dev/null || die "add-port"
        t1=$(date +%s%N)
        echo $(( (t1 - t0) / 1000 )) | awk '{ print $1 / 1000 }' >>"$dir/vsctl.ms"
        j=$((j + 1))
    done
    echo "  reference: ovs-vsctl add-port br-int (waits for ovs-vswitchd)," \
         "50 ports on h1: p50 $(pct "$dir/vsctl.ms" 50) ms, p99 $(pct "$dir/vsctl.ms" 99) ms"
    echo "  flows on h1: $(lab_ovs_ofctl h1 dump-flows | grep -c cookie=0x6e)," \
         "tunnel ports: $(lab_ovs_vsctl h1 list-ports br-int | grep -c '^nvt')"
    lab_cleanup
}

# cold_monitor_start / cold_monitor_stop T0: ovs-ofctl monitor on h1's
# br-int (every flow event with a millisecond stamp); stop prints the last
# flow event's time after T0 (ms since the epoch), or -1.
cold_monitor_start() {
    OVS_RUNDIR=$LAB_DIR/hv/h1 ovs-ofctl -O OpenFlow13 --timestamp monitor \
        "unix:$LAB_DIR/hv/h1/br-int.mgmt" 'watch:!initial' \
        >"$LAB_DIR/cold.mon.out" 2>"$LAB_DIR/cold.mon" &
    mon=$!
    lab_record_pid "$mon" >/dev/null
    # Watching once the switch answered the monitor request.
    local t=$(now_ms)
    until grep -q 'FLOW_MONITOR reply' "$LAB_DIR/cold.mon.out" 2>/dev/null; do
        [ $(( $(now_ms) - t )) -gt 10000 ] && die "ovs-ofctl monitor never answered"
        sleep 0.02
    done
}
cold_monitor_stop() {
    sleep 0.5
    kill "$mon" 2>/dev/null
    wait "$mon" 2>/dev/null
    python3 - "$LAB_DIR/cold.mon" "$1" <<'EOP'
import datetime, re, sys
last = None
for line in open(sys.argv[1], errors='replace'):
    m = re.match(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}): ', line)
    if m:
        d = datetime.datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S.%f')
        last = d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000
print(int(last - float(sys.argv[2])) if last else -1)
EOP
}

# cold_poller_start: polls GET /v1/hypervisors/h1 every 10 ms from one
# process ($poller: started, and connecting, before the controller is),
# over one kept-alive connection, until its state is "connected"; it then
# writes that moment (ms since the epoch) to $LAB_DIR/cold.poll and
# exits.  A curl started per poll (ip netns exec, exec, TLS set-up) cost
# several ms of CPU each on a 2-core machine, taken from the controller
# and the switch being measured.
cold_poller_start() {
    rm -f "$LAB_DIR/cold.poll"
    ip netns exec "$LAB_CTL_NS" python3 - "$(lab__rest_base)" \
        "${LAB_PKI:+$LAB_PKI/pki/controllerca/cacert.pem}" \
        "${LAB_PKI:+$LAB_PKI/rest-auth-header}" "$LAB_DIR/cold.poll" <<'EOP' &
import http.client, re, ssl, sys, time
base, ca, header, out = sys.argv[1:5]
scheme, host, port = re.match(r'(https?)://([^:/]+):(\d+)', base).groups()
headers = {}
if header:
    k, v = open(header).read().strip().split(': ', 1)
    headers[k] = v
ctx = ssl.create_default_context(cafile=ca) if scheme == 'https' else None
open(out + '.ready', 'w').close()
deadline = time.time() + 120
conn = None
while time.time() < deadline:
    try:
        if conn is None:
            conn = (http.client.HTTPSConnection(host, int(port), context=ctx,
                                                timeout=5) if ctx else
                    http.client.HTTPConnection(host, int(port), timeout=5))
        conn.request('GET', '/v1/hypervisors/h1', headers=headers)
        r = conn.getresponse()
        body = r.read()
        if r.status == 200 and re.search(rb'"state": *"connected"', body):
            with open(out, 'w') as f:
                f.write('%d\n' % int(time.time() * 1000))
            sys.exit(0)
    except (OSError, http.client.HTTPException):
        if conn:
            conn.close()
        conn = None
    time.sleep(0.01)
sys.exit(1)
EOP
    poller=$!
    lab_record_pid "$poller" >/dev/null
    local t=$(now_ms)
    until [ -f "$LAB_DIR/cold.poll.ready" ]; do
        [ $(( $(now_ms) - t )) -gt 10000 ] && die "REST poller never started"
        sleep 0.01
    done
    rm -f "$LAB_DIR/cold.poll.ready"
}

bench_cold() {
    local dir remotes j mac t0 t1 tc tr ts trs r n
    dir=$(mktemp -d /tmp/nvo-bench-ovs.XXXXXX)
    lab_init "boc$$" "$dir" || die lab_init
    lab_underlay_up || die underlay
    lab_controller_start || die controller
    lab_ovs_hv_add h1 192.0.2.11 || die "hv h1"
    ip -n "${LAB_PREFIX}h1" link add vm0 type veth peer name vp0
    ip -n "${LAB_PREFIX}h1" link set vm0 up
    # Keep h1 unreachable while the store fills, so nothing is installed
    # before the measured cold connect.
    lab_ovs_stop_ovsdb h1 || die "stop ovsdb"

    # h1's view: pipeline (4) + its VM (3) + 1 tunnel classify + 2 BUM +
    # one DMAC flow per remote MAC.
    remotes=$((FLOWS - 10))
    {
        curl_entry POST /v1/networks '{"name":"big","vni":7000,"bum":"head-end"}'
        curl_entry POST /v1/hypervisors "{\"name\":\"h1\",\"tunnel_ip\":\"192.0.2.11\",\"dataplane\":\"ovs\",\"role\":\"hypervisor\",\"ovsdb\":\"$(lab_ovsdb_remote h1)\"}"
        curl_entry POST /v1/hypervisors "{\"name\":\"far\",\"tunnel_ip\":\"192.0.2.99\",\"dataplane\":\"ovs\",\"role\":\"hypervisor\",\"ovsdb\":\"$(lab_ovsdb_remote h1 | sed 's/192.0.2.11/192.0.2.99/')\"}"
        curl_entry POST /v1/ports '{"vm":"vm0","network":"big","hypervisor":"h1","mac":"02:cc:00:00:00:00","iface":"vm0"}'
    } >"$dir/cold-setup.cfg"
    {
        j=1
        while [ $j -le $remotes ]; do
            mac=$(printf '02:cd:00:%02x:%02x:%02x' $((j >> 16 & 255)) \
                  $((j >> 8 & 255)) $((j & 255)))
            curl_entry POST /v1/ports "{\"vm\":\"r$j\",\"network\":\"big\",\"hypervisor\":\"far\",\"mac\":\"$mac\",\"iface\":\"r$j\"}"
            j=$((j + 1))
        done
    } >"$dir/cold.cfg"
    t0=$(now_ms)
    rest_batch "$dir/cold-setup.cfg" >"$dir/cold.out"
    rest_batch_parallel "$dir/cold.cfg" >>"$dir/cold.out"
    t1=$(now_ms)
    [ "$(grep -c '^201 ' "$dir/cold.out")" -eq $((remotes + 4)) ] \
        || die "store fill: $(grep -vc '^201 ' "$dir/cold.out") requests failed ($(grep -v '^201 ' "$dir/cold.out" | cut -d' ' -f1 | sort | uniq -c | tr -s ' \n' '  '))"
    awk '$1 == 201 { print $2 * 1000 }' "$dir/cold.out" >"$dir/cold.ms"
    echo "  store filled: $((remotes + 1)) ports in $((t1 - t0)) ms, 8 at a time" \
         "(POST p50 $(pct "$dir/cold.ms" 50) ms, p99 $(pct "$dir/cold.ms" 99) ms)"

    # Every measured run starts alike, nvo's as the reference's: the
    # controller stopped, the switch's table empty and no controller target
    # on br-int (as on the first connection of a new hypervisor), and
    # ovs-ofctl monitor watching br-int in both (the switch sends it every
    # flow added: that work is part of both figures).
    lab_controller_stop || die "controller stop"
    lab_ovs_start_ovsdb h1 || die "ovsdb start"
    : >"$dir/nvo.ms"; : >"$dir/nvo-sw.ms"; : >"$dir/ref.ms"; : >"$dir/ref-sw.ms"
    r=1
    while [ $r -le "$COLD_RUNS" ]; do
        lab_controller_stop 2>/dev/null
        lab_ovs_vsctl h1 del-controller br-int || die "del-controller"
        lab_ovs_ofctl h1 del-flows >/dev/null
        : >"$dir/ctl/nvo-controller.log"
        cold_monitor_start
        cold_poller_start
        t0=$(now_ms)
        lab_controller_start || die "controller restart"
        wait "$poller" || die "h1 never synced"
        t1=$(cat "$LAB_DIR/cold.poll")
        tc=$((t1 - t0))
        ts=$(cold_monitor_stop "$t0")
        n=$(lab_ovs_ofctl h1 dump-flows | grep -c 'cookie=0x6e')
        echo "  run $r: nvo ($(mode_name)): controller exec -> $n flows confirmed on an empty switch: $tc ms (REST polled every 10 ms by one process); -> last flow added (ovs-ofctl monitor): $ts ms"
        echo "$tc" >>"$dir/nvo.ms"
        echo "$ts" >>"$dir/nvo-sw.ms"
        # The controller's own log: from its first line after the exec
        # (no process start-up, no REST polling).
        awk -F'|' '
            function ms(ts,  t) { split(substr(ts, 12, 12), t, ":");
                                  return (t[1] * 3600 + t[2] * 60 + t[3]) * 1000 }
            /opened log file/ { t0 = ms($1) }
            /store at revision/ { tl = ms($1) }
            /h1: OVSDB connected/ { td = ms($1) }
            /h1: OpenFlow connected/ { tc = ms($1) }
            /h1: sending/ { ts = ms($1) }
            /h1: .* flow mods committed/ { ti = ms($1) }
            # A phase whose line is missing (renamed or gone) says so
            # rather than printing its distance from 0.
            function at(t) { return t ? sprintf("%d ms", t - t0) : "n/a" }
            END { if (t0 && ti)
                    printf "    of which, per the controller log (from its first line): store loaded %s, OVSDB connected %s, OpenFlow dump done %s, bundle sent %s, bundle committed %s\n", at(tl), at(td), at(tc), at(ts), at(ti) }' \
            "$dir/ctl/nvo-controller.log"
        if [ $r = 1 ]; then
            lab_ovs_ofctl h1 dump-flows --no-stats | grep 'cookie=0x6e' \
                | sed 's/^ *//' >"$dir/flows.txt"
        fi

        # Reference: the same flows with ovs-ofctl --bundle add-flows.
        lab_controller_stop || die "controller stop"
        lab_ovs_ofctl h1 del-flows >/dev/null
        cold_monitor_start
        t0=$(now_ms)
        ovs-ofctl -O OpenFlow13 --bundle add-flows "unix:$dir/hv/h1/br-int.mgmt" \
            "$dir/flows.txt" || die "add-flows"
        t1=$(now_ms)
        tr=$((t1 - t0))
        trs=$(cold_monitor_stop "$t0")
        echo "  run $r: reference: ovs-ofctl --bundle add-flows of the same $(wc -l <"$dir/flows.txt") flows: exec -> exit (commit reply) $tr ms; -> last flow added (ovs-ofctl monitor): $trs ms"
        echo "$tr" >>"$dir/ref.ms"
        echo "$trs" >>"$dir/ref-sw.ms"
        r=$((r + 1))
    done
    tc=$(pct "$dir/nvo.ms" 50) ts=$(pct "$dir/nvo-sw.ms" 50)
    tr=$(pct "$dir/ref.ms" 50) trs=$(pct "$dir/ref-sw.ms" 50)
    echo "  median of $COLD_RUNS: nvo $tc ms (REST polled), $ts ms (switch's last flow); ovs-ofctl $tr ms (exit), $trs ms (switch's last flow)"
    echo "  ratio nvo / ovs-ofctl: $(awk -v a="$tc" -v b="$tr" 'BEGIN { printf "%.2f", a / (b ? b : 1) }') (REST polled / exit), $(awk -v a="$ts" -v b="$trs" 'BEGIN { printf "%.2f", a / (b ? b : 1) }') (switch's last flow, both) (target <= 1.2)"
    echo "cold $LAB_TLS $tc" >>"$RESULTS"
    lab_cleanup
}

mode_name() { [ "$LAB_TLS" = 1 ] && echo "TLS" || echo "plain"; }
RESULTS=$(mktemp /tmp/nvo-bench-ovs-results.XXXXXX)
for part in $PARTS; do
    for LAB_TLS in $MODES; do
        export LAB_TLS
        LAB_PKI=    # lab_init makes a new one for each TLS run
        export LAB_PKI
        case $part in
            start)
                for h in $HVS; do
                    echo "VM start, $h OVS hypervisors, $VMS VMs in $NETS networks ($(mode_name)):"
                    bench_start "$h"
                done ;;
            cold)
                echo "cold connect, one switch, $FLOWS flows ($(mode_name)):"
                bench_cold ;;
        esac
    done
done
# TLS beside plain, same run.
awk '
    $1 ~ /^start-/ { k = $1; p50[k, $2] = $3; p99[k, $2] = $4; keys[k] = 1 }
    $1 == "cold" { cold[$2] = $3 }
    END {
        n = 0
        for (k in keys) if (((k, 0) in p50) && ((k, 1) in p50)) {
            if (!n++) print "TLS vs plain (same run):"
            h = substr(k, 7)
            printf "  VM start ?wait=1, %s hypervisors: p50 plain %s ms, TLS %s ms (%.2fx); p99 plain %s ms, TLS %s ms (%.2fx)\n", h, p50[k, 0], p50[k, 1], p50[k, 1] / p50[k, 0], p99[k, 0], p99[k, 1], p99[k, 1] / p99[k, 0]
        }
        if ((0 in cold) && (1 in cold)) {
            if (!n++) print "TLS vs plain (same run):"
            printf "  cold connect: plain %s ms, TLS %s ms (%.2fx)\n", cold[0], cold[1], cold[1] / (cold[0] ? cold[0] : 1)
        }
    }' "$RESULTS"
rm -f "$RESULTS"
