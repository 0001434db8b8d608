#!/bin/sh
# test-kdp-churn.sh - kernel hypervisors hold exactly the desired static
# bridge FDB entries after VM churn (the chaos suite's finding: static
# "master" entries of deleted VMs stayed on the VXLAN port).
#
# Lab: kernel hypervisors k1, k2, k3; networks red (VNI 7301, ARP responder
# on) and blue (VNI 7302); each hypervisor has veth pairs c0..c5 (peer cNp)
# so a churn port (VM cN, iface cN) can start on or move to any of them.
# A fixed sequence (create on each, move k1->k2 and back, delete, move
# between networks, ARP responder off and on again) and then 40 random
# operations (seed printed; NVO_CHURN_SEED to repeat one), each with
# ?wait=1.  After each part, on every hypervisor, the static master FDB
# entries in nvo's bridges (`bridge fdb show`) must equal the desired ones
# computed from GET /v1/ports and /v1/networks: each local VM's MAC on its
# interface, and each remote VM's MAC of that network on the VXLAN port
# when the network's ARP responder is on.  Polled with a deadline.
# Exit 0 = pass, 77 = skipped.  lab_cleanup on EXIT removes everything.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -f "$top/deploy/lab-lib.sh" ] || [ ! -x "$top/agent/nvo-agent" ]; then
    echo "SKIP: needs deploy/lab-lib.sh and nvo-agent built"
    exit 77
fi
for t in python3 curl bridge; do
    command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
. "$top/deploy/lab-lib.sh"

FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
die() {
    echo "ERROR: $*"
    for n in k1 k2 k3; do
        tail -n 5 "$LAB_DIR/agent/$n/nvo-agent.log" 2>/dev/null | sed "s/^/  $n: /"
    done
    exit 1
}

lab_init "kc$$" "$(mktemp -d /tmp/nvo-test-kdp-churn.XXXXXX)" || exit 1
trap lab_cleanup EXIT
trap 'exit 1' INT TERM
HVS="k1 k2 k3"
SLOTS=6
TMP=$LAB_DIR/churn
mkdir -p "$TMP"

lab_underlay_up || die "underlay"
lab_controller_start || die "controller"
i=1
for hv in $HVS; do
    lab_kernel_hv_add $hv 192.0.2.7$i || die "$hv"
    s=0
    while [ $s -lt $SLOTS ]; do
        lab_hv_exec $hv ip link add c$s type veth peer name c${s}p \
            && lab_hv_exec $hv ip link set c$s up \
            && lab_hv_exec $hv ip link set c${s}p up || die "veth c$s on $hv"
        s=$((s + 1))
    done
    i=$((i + 1))
done
lab_register_network red 7301 || die "network red"
lab_register_network blue 7302 || die "network blue"
for hv in $HVS; do lab_register_hv $hv || die "register $hv"; done
for hv in $HVS; do lab_wait_connected $hv 200 || die "$hv not connected"; done

# Port ids by slot, in $TMP/id.N.
port_id() { cat "$TMP/id.$1" 2>/dev/null; }

# create SLOT HV NET
create() {
    body=$(lab_rest POST "/v1/ports?wait=1" "{\"vm\":\"c$1\",\"network\":\"$3\",\"hypervisor\":\"$2\",\"mac\":\"02:00:00:73:00:0$1\",\"ip\":\"10.73.0.$((10 + $1))\",\"iface\":\"c$1\"}") \
        || { fail "POST c$1 on $2 in $3"; return 1; }
    echo "$body" | lab_json_get id >"$TMP/id.$1"
}
# move SLOT HV
move() {
    lab_rest PATCH "/v1/ports/$(port_id $1)?wait=1" \
        "{\"hypervisor\":\"$2\",\"iface\":\"c$1\"}" >/dev/null \
        || fail "PATCH c$1 to $2"
}
# delete SLOT
delete() {
    lab_rest DELETE "/v1/ports/$(port_id $1)?wait=1" >/dev/null \
        || fail "DELETE c$1"
    rm -f "$TMP/id.$1"
}
arp_responder() {
    lab_rest PATCH "/v1/networks/$1?wait=1" "{\"arp_responder\":$2}" \
        >/dev/null || fail "PATCH network $1 arp_responder $2"
}

# compare: prints the differences (empty: every hypervisor holds exactly
# the desired static master entries).
compare() {
    lab_rest GET /v1/ports >"$TMP/ports.json" || return 1
    lab_rest GET /v1/networks >"$TMP/networks.json" || return 1
    for hv in $HVS; do
        lab_hv_exec $hv bridge fdb show >"$TMP/fdb.$hv" || return 1
    done
    python3 - "$TMP" $HVS <<'EOF'
import json, sys
tmp, hvs = sys.argv[1], sys.argv[2:]
ports = json.load(open(tmp + "/ports.json"))
nets = {n["name"]: n for n in json.load(open(tmp + "/networks.json"))}
for hv in hvs:
    want = set()
    here = {p["network"] for p in ports if p["hypervisor"] == hv}
    for p in ports:
        vni = nets[p["network"]]["vni"]
        if p["hypervisor"] == hv:
            want.add("%s dev %s master nvb%d" % (p["mac"], p["iface"], vni))
        elif p["network"] in here and nets[p["network"]].get(
                "arp_responder", True):
            want.add("%s dev nvx%d master nvb%d" % (p["mac"], vni, vni))
    have = set()
    for line in open(tmp + "/fdb." + hv):
        f = line.split()
        if len(f) >= 5 and f[1] == "dev" and "static" in f and "master" in f \
                and f[f.index("master") + 1].startswith("nvb"):
            have.add("%s dev %s master %s" % (f[0], f[2],
                                              f[f.index("master") + 1]))
    for e in sorted(have - want):
        print("%s: stale: %s" % (hv, e))
    for e in sorted(want - have):
        print("%s: missing: %s" % (hv, e))
EOF
}

# check WHAT: polls compare() for up to 10 s.
check() {
    i=0
    while :; do
        diff=$(compare) && [ -z "$diff" ] && { pass "$1: exact static FDB entries on $HVS"; return 0; }
        i=$((i + 1))
        [ $i -ge 50 ] && break
        sleep 0.2
    done
    fail "$1:"
    echo "$diff" | sed 's/^/  /'
}

echo "--- fixed sequence"
create 0 k1 red; create 1 k2 red; create 2 k3 red; create 3 k1 blue
create 4 k2 blue
check "created on k1, k2, k3"
move 0 k2; move 1 k1
check "moved k1->k2 and k2->k1"
move 0 k1
delete 2
check "moved back; deleted the only VM on k3"
delete 1
check "deleted a remote VM"
delete 3; create 3 k1 red
check "VM moved from blue to red on the same hypervisor"
arp_responder red false
check "red's ARP responder off"
arp_responder red true
check "red's ARP responder on again"

seed=${NVO_CHURN_SEED:-$(date +%s)}
echo "--- 40 random operations (NVO_CHURN_SEED=$seed)"
python3 - "$seed" "$SLOTS" $HVS >"$TMP/ops" <<'EOF'
import random, sys
rng = random.Random(int(sys.argv[1]))
slots, hvs = int(sys.argv[2]), sys.argv[3:]
state = {}
for _ in range(40):
    k = rng.randrange(slots)
    if k not in state:
        state[k] = (rng.choice(hvs), rng.choice(["red", "blue"]))
        print("create %d %s %s" % (k, state[k][0], state[k][1]))
    elif rng.random() < 0.5:
        hv = rng.choice([h for h in hvs if h != state[k][0]])
        state[k] = (hv, state[k][1])
        print("move %d %s" % (k, hv))
    else:
        del state[k]
        print("delete %d" % k)
EOF
# The fixed sequence's survivors: c0 k1 red, c3 k1 red, c4 k2 blue.
for s in 0 3 4; do delete $s; done
while read -r op a b c; do
    $op "$a" "$b" "$c"
done <"$TMP/ops"
check "after 40 random operations"

if [ $FAILS -eq 0 ]; then
    echo "PASS: test-kdp-churn"
    exit 0
fi
echo "FAIL: test-kdp-churn ($FAILS failures)"
exit 1
