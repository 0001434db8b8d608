#!/bin/sh
# test-disk-full.sh - the store's disk full: the controller's SQLite file on
# a small tmpfs, filled up.  A write then answers at once 507 with a JSON
# error (code storage_full), changes nothing, and the log says so once (a
# WARN, rate-limited, no ERR); every write acknowledged before is still
# there; once space is freed, writes succeed again without a restart (and
# the log says so), and after a restart the store holds exactly the
# acknowledged writes and passes PRAGMA integrity_check.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/ovs-test-lib.sh"

ovs_test_init tdf
fs=$OVS_TEST_DIR/dbfs
mkdir -p "$fs"
mount -t tmpfs -o size=4m nvo-test-disk-full "$fs" || die "cannot mount a tmpfs"
trap 'rm -f "$fs/filler"; umount "$fs" 2>/dev/null; lab_cleanup' EXIT
log=$LAB_DIR/ctl/nvo-controller.log

lab_underlay_up || die underlay
lab_controller_start --db="$fs/nvo.db" || die controller
net() { echo "{\"name\":\"n$1\",\"vni\":$((6000 + $1))}"; }
names() {
    lab_rest GET /v1/networks | python3 -c \
        'import json, sys; print(" ".join(sorted(n["name"] for n in json.load(sys.stdin))))'
}
sorted() { echo "$@" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//'; }
acked=
for i in $(seq 1 10); do
    st=$(lab_rest_status POST /v1/networks "$(net $i)")
    [ "$st" = 201 ] || die "POST network n$i before the disk is full: $st"
    acked="$acked n$i"
done

# Fill the file system.  SQLite may still find room in pages it has: fill
# again after every write that still succeeds.
fill() { dd if=/dev/zero of="$fs/filler.$1" bs=64k 2>/dev/null; sync; }
fill 0
n=0
for i in $(seq 11 40); do
    t0=$(date +%s%N)
    st=$(lab_rest_status POST /v1/networks "$(net $i)")
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    if [ "$st" = 201 ]; then
        echo "n$i: 201 (there was room), filling again"
        acked="$acked n$i"
        fill "$i"
        continue
    fi
    n=$((n + 1))
    body=$(cat "$LAB_DIR/rest.body")
    [ $n -eq 1 ] && echo "first refused write: $st in $ms ms: $body"
    check "n$i: 507 storage_full as JSON, at once ($ms ms)" \
        "[ '$st' = 507 ] && [ $ms -lt 3000 ] && echo '$body' | python3 -c 'import json, sys; e = json.load(sys.stdin)[\"error\"]; sys.exit(not (e[\"code\"] == \"storage_full\" and \"disk is full\" in e[\"message\"]))'"
done
check "writes were refused while the disk was full ($n)" "[ $n -ge 20 ]"
have=$(names)
echo "networks while full: $have"
check "exactly the acknowledged writes are in the store" \
    "[ '$have' = '$(sorted $acked)' ]"
nlog=$(grep -c 'disk full\|disk still full' "$log")
check "the log says disk full, as WARN, at most twice ($nlog)" \
    "[ $nlog -ge 1 ] && [ $nlog -le 2 ] && ! grep 'disk full' '$log' | grep -vq '|WARN|'"
check "no ERR line in the log" "! grep -q '|ERR|' '$log'"

# Space again: writes succeed without a restart.
rm -f "$fs"/filler.*
poll_check "a write succeeds once space is freed" \
    "[ \$(lab_rest_status POST /v1/networks '$(net 99)') = 201 ]" 10
acked="$acked n99"
check "the log says writes succeed again" "grep -q 'writes succeed again' '$log'"
lab_controller_stop || die "controller stop"
lab_controller_start --db="$fs/nvo.db" || die "controller restart"
check "after a restart: exactly the acknowledged writes" \
    "[ '$(names)' = '$(sorted $acked)' ]"
check "PRAGMA integrity_check is ok" \
    "[ \"\$(python3 -c 'import sqlite3; print(sqlite3.connect(\"file:$fs/nvo.db?mode=ro\", uri=True).execute(\"PRAGMA integrity_check\").fetchone()[0])')\" = ok ]"
ovs_test_done
