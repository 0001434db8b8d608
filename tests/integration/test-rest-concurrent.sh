#!/bin/sh
# test-rest-concurrent.sh - concurrent REST writes on the real
# nvo-controller (temporary database, random loopback ports, real curl):
#  - many parallel POST /v1/ports all succeed, each with its own id and
#    revision, all present afterwards, sharing transactions (group commit,
#    from /metrics)
#  - parallel POSTs clashing on one MAC: exactly one 201, the others 409
#    naming the clash, nothing else changed
#  - a slow write (the database held locked by another process) does not
#    block reads, and completes once the lock goes
#  - kill -9 in the middle of a stream of parallel POSTs: after a restart
#    every write that got a 201 is in the store
# Needs curl, xargs and python3 (JSON, free ports, the SQLite lock).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/ctl-test-lib.sh"
ctl_test_init rest-conc

start() {
    ctl_start "$@"
}

post() {
    curl -sf -o /dev/null -H 'Content-Type: application/json' -d "$2" \
        "$base$1" || fail "POST $1 $2"
}

metric() {
    curl -s "$base/metrics" | sed -n "s/^$1 //p"
}

# py EXPR FILE: evaluates the Python expression EXPR with 'j' the JSON in
# FILE.
py() {
    python3 -c "import json, sys; j = json.load(open(sys.argv[1])); print($1)" "$2"
}

# A script for xargs: POSTs port number $1 (MAC from $2, default $1) and
# appends "STATUS VM" to $tmp/results; the body goes to $tmp/out.$1.
cat >"$tmp/post-port.sh" <<EOF
#!/bin/sh
i=\$1
m=\${2:-\$1}
mac=\$(printf '02:00:00:%02x:%02x:%02x' \$((m / 65536)) \$((m / 256 % 256)) \$((m % 256)))
hv=kvm-\$((i % 4))
code=\$(curl -s -o "$tmp/out.\$i" -w '%{http_code}' --max-time 20 \
    -H 'Content-Type: application/json' \
    -d "{\"vm\":\"vm-\$i\",\"network\":\"net\",\"hypervisor\":\"\$hv\",\"mac\":\"\$mac\",\"iface\":\"t\$i\"}" \
    "$base/v1/ports")
echo "\$code vm-\$i" >>"$tmp/results"
EOF

start
post /v1/networks '{"name":"net","vni":100}'
for h in 0 1 2 3; do
    post /v1/hypervisors "{\"name\":\"kvm-$h\",\"tunnel_ip\":\"192.0.2.$((h + 1))\",\"dataplane\":\"kernel\"}"
done

echo "=== parallel POSTs"
n=300
commits0=$(metric nvo_store_commits_total)
seq 1 $n | xargs -P 32 -n 1 sh "$tmp/post-port.sh"
[ "$(grep -c '^201 ' "$tmp/results")" = $n ] || \
    fail "not every POST got 201: $(grep -v '^201 ' "$tmp/results" | head -5)"
ok
python3 - "$tmp" $n <<'EOF' || fail "ids or revisions not unique"
import json, sys
tmp, n = sys.argv[1], int(sys.argv[2])
objs = [json.load(open(f"{tmp}/out.{i}")) for i in range(1, n + 1)]
assert len({o["id"] for o in objs}) == n
revs = sorted(o["revision"] for o in objs)
assert revs == list(range(revs[0], revs[0] + n)), revs
EOF
ok
curl -s "$base/v1/ports" >"$tmp/ports"
[ "$(py 'len(j)' "$tmp/ports")" = $n ] || fail "$(py 'len(j)' "$tmp/ports") ports listed, expected $n"
ok
commits=$(metric nvo_store_commits_total)
[ $((commits - commits0)) -lt $n ] || \
    fail "$n concurrent writes took $((commits - commits0)) transactions (no group commit)"
ok
echo "$n writes in $((commits - commits0)) transactions"

echo "=== parallel POSTs clashing on one MAC"
rev0=$(curl -s "$base/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["revision"])')
: >"$tmp/results"
seq 1001 1016 | sed 's/$/ 4242/' | xargs -P 16 -n 2 sh "$tmp/post-port.sh"
[ "$(grep -c '^201 ' "$tmp/results")" = 1 ] || fail "clashing POSTs: $(sort "$tmp/results" | uniq -c)"
[ "$(grep -c '^409 ' "$tmp/results")" = 15 ] || fail "clashing POSTs: $(sort "$tmp/results" | uniq -c)"
ok
for i in $(seq 1001 1016); do
    if grep -q "^409 vm-$i\$" "$tmp/results"; then
        [ "$(py "j['error']['code']" "$tmp/out.$i")" = mac_in_use ] || \
            fail "clash answered $(cat "$tmp/out.$i")"
    fi
done
ok
rev1=$(curl -s "$base/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["revision"])')
[ "$rev1" = $((rev0 + 1)) ] || fail "revision $rev0 -> $rev1 for one successful write"
ok

echo "=== a slow write does not block reads"
# Another process takes SQLite's write lock for 2 s; the controller's next
# commit waits for it (busy timeout 5 s).
python3 - "$tmp/nvo.db" "$tmp/locked" <<'EOF' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(2)
db.execute("ROLLBACK")
EOF
lockpid=$!
ctl_bg "$lockpid"
i=0
until [ -e "$tmp/locked" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "lock holder did not start"; sleep 0.05
done
: >"$tmp/results"
sh "$tmp/post-port.sh" 2001 &
postpid=$!
ctl_bg "$postpid"
# Poll until the write is queued behind the lock, then time a read.
i=0
until [ "$(metric nvo_store_writes_pending)" = 1 ]; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "the write never got pending"; sleep 0.02
done
t=$(curl -s -o "$tmp/ports" -w '%{time_total}' "$base/v1/ports?hypervisor=kvm-1")
[ "$(metric nvo_store_writes_pending)" = 1 ] || fail "the write was not pending during the read"
python3 -c "import sys; sys.exit(0 if float('$t') < 1.0 else 1)" || \
    fail "GET took $t s while a write waited for the database"
ok
echo "GET answered in $t s while a write waited"
wait "$postpid"
wait "$lockpid"
grep -q '^201 vm-2001$' "$tmp/results" || fail "the slow write: $(cat "$tmp/results")"
ok

echo "=== kill -9 in the middle of parallel POSTs"
: >"$tmp/results"
seq 3001 4000 | xargs -P 16 -n 1 sh "$tmp/post-port.sh" &
streampid=$!
ctl_bg "$streampid"
i=0
until [ "$(grep -c '^201 ' "$tmp/results" 2>/dev/null)" -ge 100 ]; do
    i=$((i + 1)); [ $i -lt 600 ] || fail "the stream did not start"; sleep 0.02
done
kill -9 "$pid"
wait "$pid" 2>/dev/null
pid=
wait "$streampid"
acked=$(grep -c '^201 ' "$tmp/results")
[ "$acked" -ge 100 ] && [ "$acked" -lt 1000 ] || fail "$acked of 1000 acknowledged: not killed mid-stream"
ok
start
curl -s "$base/v1/ports" >"$tmp/ports"
python3 - "$tmp/ports" "$tmp/results" <<'EOF' || fail "acknowledged writes lost across kill -9"
import json, sys
present = {p["vm"] for p in json.load(open(sys.argv[1]))}
acked = [l.split()[1] for l in open(sys.argv[2]) if l.startswith("201 ")]
lost = [vm for vm in acked if vm not in present]
assert not lost, f"{len(lost)} lost, e.g. {lost[:5]}"
EOF
ok
echo "$acked acknowledged before kill -9, all present after restart"

echo "PASS: test-rest-concurrent ($n_checks checks)"
