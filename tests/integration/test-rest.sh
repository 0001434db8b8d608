#!/bin/sh
# test-rest.sh - the REST API and store of the real nvo-controller, on a
# temporary database and random loopback ports, driven with curl:
#  - command line: --help, bad flags
#  - create/read/update/delete of networks, hypervisors, ports
#  - every bad-input class (400, 404, 405, 409, 413, 415), each checked for
#    its status, its JSON error and that the store revision and row counts
#    did not move
#  - ?wait=1: 504 after --wait-timeout on an OVS hypervisor nobody
#    programs; at once for a network without ports; client going away
#  - idle and concurrent clients do not block others
#  - kill -9 right after a 201, restart: data intact
#  - HTTP/1.1 pipelining: answers in order, each durable (kill -9), the
#    writes read ahead sharing commits
#  - a database newer than the binary is refused
# Needs curl and python3 (JSON field extraction, free ports, SQLite).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/ctl-test-lib.sh"
ctl_test_init rest

start() {
    ctl_start --pidfile="$tmp/pid" --wait-timeout=500 "$@"
}

# req METHOD PATH [BODY [CONTENT-TYPE]]: sets $status; body in $tmp/body,
# headers in $tmp/headers.
req() {
    m=$1 p=$2
    if [ $# -ge 3 ]; then
        status=$(curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' \
                 -X "$m" -H "Content-Type: ${4-application/json}" \
                 --data-binary "$3" "$base$p")
    else
        status=$(curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' \
                 -X "$m" "$base$p")
    fi
}

# expect STATUS METHOD PATH [BODY [CONTENT-TYPE]]
expect() {
    want=$1
    shift
    req "$@"
    [ "$status" = "$want" ] || fail "$1 $2 ${3-}: status $status, expected $want"
    ok
}

# jget EXPR: evaluates the Python expression EXPR on the last body ('j').
jget() {
    python3 -c "import json, sys; j = json.load(open(sys.argv[1])); print($1)" "$tmp/body"
}

# jcheck EXPR: fails unless EXPR is true on the last body.
jcheck() {
    [ "$(jget "$1")" = True ] || fail "expected $1 in $(cat "$tmp/body")"
    ok
}

header() {
    grep -i "^$1:" "$tmp/headers" | sed 's/^[^:]*: *//' | tr -d '\r'
}

# state: store revision and row counts, from /metrics.
state() {
    curl -s "$base/metrics" | grep -E '^nvo_store_(revision|rows)'
}

# bad STATUS CODE METHOD PATH [BODY [CONTENT-TYPE]]: the request fails with
# STATUS, a JSON error, and changes nothing.
bad() {
    want=$1
    shift
    before=$(state)
    req "$@"
    [ "$status" = "$want" ] || fail "$1 $2 ${3-}: status $status, expected $want"
    jcheck "isinstance(j['error']['code'], str) and len(j['error']['message']) > 0"
    [ "$(state)" = "$before" ] || fail "$1 $2 ${3-} changed the store"
    ok
}

echo "=== command line"
"$ctl" --help >"$tmp/help" || fail "--help failed"
grep -q -- "--wait-timeout" "$tmp/help" || fail "--help lacks --wait-timeout"
grep -q -- "--db=FILE" "$tmp/help" || fail "--help lacks --db"
ok
if "$ctl" --no-such-flag >/dev/null 2>&1; then fail "bad flag accepted"; fi
if "$ctl" --wait-timeout=soon >/dev/null 2>&1; then fail "bad timeout accepted"; fi
if "$ctl" --db="$tmp/x.db" extra-arg >/dev/null 2>&1; then fail "extra argument accepted"; fi
ok

start
expect 200 GET /healthz
jcheck "j['status'] == 'ok' and j['revision'] == 0"

echo "=== networks"
expect 201 POST /v1/networks '{"name":"net-a","vni":5001}'
jcheck "j['name'] == 'net-a' and j['vni'] == 5001 and j['bum'] == 'head-end' and j['id'] > 0 and j['revision'] == 1"
[ "$(header location)" = /v1/networks/net-a ] || fail "Location: $(header location)"
expect 201 POST /v1/networks '{"name":"net-b","vni":16777215,"bum":"service-node"}'
jcheck "j['bum'] == 'service-node' and j['revision'] == 2"
expect 200 GET /v1/networks
jcheck "[n['name'] for n in j] == ['net-a', 'net-b']"
expect 200 GET /v1/networks/net-a
jcheck "j['vni'] == 5001 and j['ports'] == 0"
expect 200 PATCH /v1/networks/net-a '{"bum":"service-node"}'
jcheck "j['bum'] == 'service-node' and j['revision'] == 3"
expect 200 PATCH /v1/networks/net-a '{"bum":"head-end","vni":5001}'
jcheck "j['bum'] == 'head-end' and j['revision'] == 4"
expect 200 GET /v1/networks/net-a
jcheck "j['bum'] == 'head-end'"

echo "=== hypervisors"
expect 201 POST /v1/hypervisors '{"name":"kvm-1","tunnel_ip":"192.0.2.11","dataplane":"kernel"}'
jcheck "j['role'] == 'hypervisor' and 'ovsdb' not in j and j['state'] in ('unknown', 'connecting', 'disconnected')"
jcheck "'confirmed_revision' in j and j['required_revision'] == 5"
[ "$(header location)" = /v1/hypervisors/kvm-1 ] || fail "Location: $(header location)"
expect 201 POST /v1/hypervisors '{"name":"kvm-2","tunnel_ip":"192.0.2.12","dataplane":"kernel","role":"hypervisor"}'
expect 201 POST /v1/hypervisors '{"name":"sn-1","tunnel_ip":"192.0.2.13","dataplane":"kernel","role":"service-node"}'
expect 201 POST /v1/hypervisors '{"name":"ovs-1","tunnel_ip":"192.0.2.21","dataplane":"ovs","ovsdb":"tcp:127.0.0.1:1"}'
jcheck "j['ovsdb'] == 'tcp:127.0.0.1:1' and j['dataplane'] == 'ovs'"
expect 200 GET /v1/hypervisors
jcheck "[h['name'] for h in j] == ['kvm-1', 'kvm-2', 'sn-1', 'ovs-1'] and all('state' in h for h in j)"
expect 200 GET /v1/hypervisors/sn-1
jcheck "j['role'] == 'service-node' and 'required_revision' in j"

echo "=== ports"
expect 201 POST /v1/ports '{"vm":"vm-1","network":"net-a","hypervisor":"kvm-1","mac":"02:00:00:00:01:01","ip":"10.0.0.1","iface":"tap-vm1"}'
jcheck "j['vm'] == 'vm-1' and j['network'] == 'net-a' and j['hypervisor'] == 'kvm-1' and j['ip'] == '10.0.0.1' and j['iface'] == 'tap-vm1'"
p1=$(jget "j['id']")
rev=$(jget "j['revision']")
[ "$(header location)" = "/v1/ports/$p1" ] || fail "Location: $(header location)"
expect 201 POST /v1/ports '{"vm":"vm-2","network":"net-a","hypervisor":"kvm-2","mac":"02:00:00:00:01:02","iface":"tap-vm2"}'
jcheck "j['ip'] is None and j['revision'] == $rev + 1"
p2=$(jget "j['id']")
# Same MAC in another network is fine; upper case is normalised.
expect 201 POST /v1/ports '{"vm":"vm-3","network":"net-b","hypervisor":"kvm-2","mac":"02:00:00:00:01:0A","iface":"tap-vm3"}'
jcheck "j['mac'] == '02:00:00:00:01:0a'"
p3=$(jget "j['id']")
expect 201 POST /v1/ports '{"vm":"vm-4","network":"net-b","hypervisor":"kvm-1","mac":"02:00:00:00:01:01","iface":"tap-vm4"}'
p4=$(jget "j['id']")
expect 200 GET "/v1/ports/$p1"
jcheck "j['id'] == $p1 and j['mac'] == '02:00:00:00:01:01'"
expect 200 GET /v1/ports
jcheck "[p['id'] for p in j] == [$p1, $p2, $p3, $p4]"
expect 200 GET "/v1/ports?network=net-a"
jcheck "[p['id'] for p in j] == [$p1, $p2]"
expect 200 GET "/v1/ports?hypervisor=kvm-2"
jcheck "[p['id'] for p in j] == [$p2, $p3]"
expect 200 GET "/v1/ports?network=net-b&hypervisor=kvm-1"
jcheck "[p['id'] for p in j] == [$p4]"
expect 200 GET "/v1/ports?hypervisor=ovs-1"
jcheck "j == []"
expect 200 GET /v1/networks/net-a
jcheck "j['ports'] == 2"
# Migration.
expect 200 PATCH "/v1/ports/$p1" '{"hypervisor":"kvm-2","iface":"tap-moved"}'
jcheck "j['hypervisor'] == 'kvm-2' and j['iface'] == 'tap-moved' and j['mac'] == '02:00:00:00:01:01'"
expect 200 GET "/v1/ports?hypervisor=kvm-2"
jcheck "[p['id'] for p in j] == [$p1, $p2, $p3]"
expect 200 PATCH "/v1/ports/$p1" '{"hypervisor":"kvm-1"}'
jcheck "j['hypervisor'] == 'kvm-1' and j['iface'] == 'tap-moved'"

echo "=== bad input"
# 400: malformed JSON, wrong types, missing fields, invalid values.
bad 400 POST /v1/networks '{"name":'
bad 400 POST /v1/networks ''
bad 400 POST /v1/networks '[1,2]'
bad 400 POST /v1/networks '{"name":"x","name":"y","vni":9}'
bad 400 POST /v1/networks '{"name":"net-c","vni":"5003"}'
bad 400 POST /v1/networks '{"name":5003,"vni":5003}'
bad 400 POST /v1/networks '{"name":"net-c","vni":50.5}'
bad 400 POST /v1/networks '{"name":"net-c"}'
bad 400 POST /v1/networks '{"vni":5003}'
bad 400 POST /v1/networks '{"name":"net-c","vni":0}'
bad 400 POST /v1/networks '{"name":"net-c","vni":16777216}'
bad 400 POST /v1/networks '{"name":"net-c","vni":-1}'
bad 400 POST /v1/networks '{"name":"net c","vni":5003}'
bad 400 POST /v1/networks '{"name":"","vni":5003}'
bad 400 POST /v1/networks "{\"name\":\"$(printf '%065d' 0)\",\"vni\":5003}"
bad 400 POST /v1/networks '{"name":"net-c","vni":5003,"bum":"multicast"}'
bad 400 PATCH /v1/networks/net-a '{"bum":"flood"}'
bad 400 PATCH /v1/networks/net-a '{}'
bad 400 PATCH /v1/networks/net-a '{"bum":"head-end","vni":7}'
bad 400 POST /v1/hypervisors '{"name":"kvm-9","tunnel_ip":"192.0.2.300","dataplane":"kernel"}'
bad 400 POST /v1/hypervisors '{"name":"kvm-9","tunnel_ip":"224.0.0.1","dataplane":"kernel"}'
bad 400 POST /v1/hypervisors '{"name":"kvm-9","dataplane":"kernel"}'
bad 400 POST /v1/hypervisors '{"name":"kvm-9","tunnel_ip":"192.0.2.99","dataplane":"vpp"}'
bad 400 POST /v1/hypervisors '{"name":"kvm-9","tunnel_ip":"192.0.2.99","dataplane":"ovs"}'
bad 400 POST /v1/hypervisors '{"name":"kvm-9","tunnel_ip":"192.0.2.99","dataplane":"ovs","ovsdb":"tcp:192.0.2.99"}'
bad 400 POST /v1/hypervisors '{"name":"kvm-9","tunnel_ip":"192.0.2.99","dataplane":"ovs","ovsdb":"http://x"}'
bad 400 POST /v1/hypervisors '{"name":"kvm-9","tunnel_ip":"192.0.2.99","dataplane":"kernel","ovsdb":"tcp:192.0.2.99:6640"}'
bad 400 POST /v1/hypervisors '{"name":"kvm-9","tunnel_ip":"192.0.2.99","dataplane":"ovs","role":"service-node","ovsdb":"tcp:192.0.2.99:6640"}'
bad 400 POST /v1/hypervisors '{"name":"kvm-9","tunnel_ip":"192.0.2.99","dataplane":"kernel","role":"router"}'
bad 400 POST /v1/hypervisors '{"name":"kvm-9","tunnel_ip":["192.0.2.99"],"dataplane":"kernel"}'
port='"vm":"vm-9","network":"net-a","hypervisor":"kvm-1"'
bad 400 POST /v1/ports "{$port,\"mac\":\"02:00:00:00:09\",\"iface\":\"tap9\"}"
bad 400 POST /v1/ports "{$port,\"mac\":\"02:00:00:00:00:zz\",\"iface\":\"tap9\"}"
bad 400 POST /v1/ports "{$port,\"mac\":\"01:00:5e:00:00:09\",\"iface\":\"tap9\"}"
bad 400 POST /v1/ports "{$port,\"mac\":\"ff:ff:ff:ff:ff:ff\",\"iface\":\"tap9\"}"
bad 400 POST /v1/ports "{$port,\"mac\":\"00:00:00:00:00:00\",\"iface\":\"tap9\"}"
bad 400 POST /v1/ports "{$port,\"mac\":\"02:00:00:00:00:09\",\"iface\":\"tap9\",\"ip\":\"10.0.0.300\"}"
bad 400 POST /v1/ports "{$port,\"mac\":\"02:00:00:00:00:09\",\"iface\":\"a-very-long-ifname\"}"
bad 400 POST /v1/ports "{$port,\"mac\":\"02:00:00:00:00:09\",\"iface\":\"tap/9\"}"
bad 400 POST /v1/ports "{$port,\"mac\":\"02:00:00:00:00:09\",\"iface\":\"tap 9\"}"
bad 400 POST /v1/ports "{$port,\"mac\":\"02:00:00:00:00:09\"}"
bad 400 POST /v1/ports "{$port,\"mac\":\"02:00:00:00:00:09\",\"iface\":9}"
bad 400 POST /v1/ports '{"network":"net-a","hypervisor":"kvm-1","mac":"02:00:00:00:00:09","iface":"tap9"}'
bad 400 PATCH "/v1/ports/$p1" '{}'
bad 400 PATCH "/v1/ports/$p1" '{"iface":"tap/x"}'
bad 400 PATCH "/v1/ports/$p1" '{"hypervisor":7}'
# 404: unknown references and paths.
bad 404 POST /v1/ports '{"vm":"vm-9","network":"net-z","hypervisor":"kvm-1","mac":"02:00:00:00:00:09","iface":"tap9"}'
bad 404 POST /v1/ports '{"vm":"vm-9","network":"net-a","hypervisor":"kvm-z","mac":"02:00:00:00:00:09","iface":"tap9"}'
bad 404 PATCH "/v1/ports/$p1" '{"hypervisor":"kvm-z"}'
bad 404 GET /v1/networks/net-z
bad 404 DELETE /v1/networks/net-z
bad 404 PATCH /v1/networks/net-z '{"bum":"head-end"}'
bad 404 GET /v1/hypervisors/kvm-z
bad 404 DELETE /v1/hypervisors/kvm-z
bad 404 GET /v1/ports/999999
bad 404 GET /v1/ports/abc
bad 404 DELETE /v1/ports/0
bad 404 PATCH /v1/ports/999999 '{"iface":"tap1"}'
bad 404 GET "/v1/ports?network=net-z"
bad 404 GET /v1/nothing
bad 404 GET /v2/networks
bad 404 GET /v1/networks/net-a/ports
bad 404 GET /index.html   # GET / is the topology page (test-topology-page)
# 405 with Allow.
bad 405 PUT /v1/networks '{"name":"net-c","vni":5003}'
[ "$(header allow)" = "GET, POST" ] || fail "Allow: $(header allow)"
bad 405 DELETE /v1/networks
bad 405 PUT /v1/networks/net-a '{"bum":"head-end"}'
[ "$(header allow)" = "GET, PATCH, DELETE" ] || fail "Allow: $(header allow)"
bad 405 PATCH /v1/hypervisors/kvm-1 '{"tunnel_ip":"192.0.2.77"}'
[ "$(header allow)" = "GET, DELETE" ] || fail "Allow: $(header allow)"
bad 405 POST "/v1/ports/$p1" '{}'
bad 405 POST /healthz '{}'
bad 405 DELETE /metrics
# 409: conflicts.
bad 409 POST /v1/networks '{"name":"net-a","vni":5003}'
bad 409 POST /v1/networks '{"name":"net-c","vni":5001}'
bad 409 POST /v1/hypervisors '{"name":"kvm-1","tunnel_ip":"192.0.2.99","dataplane":"kernel"}'
bad 409 POST /v1/hypervisors '{"name":"kvm-9","tunnel_ip":"192.0.2.11","dataplane":"kernel"}'
bad 409 POST /v1/ports '{"vm":"vm-9","network":"net-a","hypervisor":"kvm-2","mac":"02:00:00:00:01:02","iface":"tap9"}'
bad 409 POST /v1/ports '{"vm":"vm-9","network":"net-a","hypervisor":"kvm-2","mac":"02:00:00:00:01:02","iface":"tap9"}'
bad 409 POST /v1/ports '{"vm":"vm-9","network":"net-a","hypervisor":"kvm-2","mac":"02:00:00:00:09:09","iface":"tap-vm2"}'
bad 409 PATCH "/v1/ports/$p1" '{"hypervisor":"kvm-2","iface":"tap-vm2"}'
bad 409 DELETE /v1/networks/net-a
bad 409 DELETE /v1/hypervisors/kvm-2
# 413, 415.
python3 -c 'print("{\"name\":\"" + "x" * (1024 * 1024 + 10) + "\",\"vni\":5003}")' >"$tmp/big.json"
bad 413 POST /v1/networks "@$tmp/big.json"
bad 415 POST /v1/networks '{"name":"net-c","vni":5003}' text/plain
bad 415 POST /v1/networks '{"name":"net-c","vni":5003}' application/x-www-form-urlencoded
bad 415 POST /v1/networks '{"name":"net-c","vni":5003}' ''
bad 415 PATCH /v1/networks/net-a '{"bum":"head-end"}' text/json-ish
# A charset parameter is fine.
expect 201 POST /v1/networks '{"name":"net-c","vni":5003,"extra":"ignored"}' 'application/json; charset=utf-8'
expect 204 DELETE /v1/networks/net-c

echo "=== ?wait=1"
t0=$(date +%s%N)
expect 201 POST "/v1/networks?wait=1" '{"name":"net-w","vni":6001}'
t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -lt 400 ] || fail "network create with wait took $(( (t1 - t0) / 1000000 )) ms"
t0=$(date +%s%N)
expect 504 POST "/v1/ports?wait=1" '{"vm":"vm-w","network":"net-w","hypervisor":"ovs-1","mac":"02:00:00:00:0a:01","iface":"tap-w"}'
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
[ $ms -ge 450 ] && [ $ms -lt 3000 ] || fail "504 after $ms ms, expected ~500"
jcheck "j['error']['code'] == 'timeout'"
# The write itself is committed.
expect 200 GET "/v1/ports?network=net-w"
jcheck "len(j) == 1 and j[0]['hypervisor'] == 'ovs-1'"
pw=$(jget "j[0]['id']")
expect 200 GET /v1/hypervisors/ovs-1
jcheck "j['required_revision'] > j['confirmed_revision']"
# A client that gives up before the timeout: the controller carries on.
curl -s -o /dev/null --max-time 0.1 -X PATCH -H 'Content-Type: application/json' \
    --data-binary '{"iface":"tap-w2"}' "$base/v1/ports/$pw?wait=1"
expect 200 GET /healthz
# The PATCH was received before the client left: it commits (polled).
i=0
until curl -s "$base/v1/ports/$pw" | grep -q '"iface":"tap-w2"' || [ $i -ge 50 ]; do
    sleep 0.1; i=$((i + 1))
done
expect 200 GET "/v1/ports/$pw"
jcheck "j['iface'] == 'tap-w2'"
expect 504 DELETE "/v1/ports/$pw?wait=1"
expect 404 GET "/v1/ports/$pw"
expect 204 DELETE "/v1/networks/net-w?wait=1"
# Without wait: at once.
t0=$(date +%s%N)
expect 201 POST /v1/ports '{"vm":"vm-w","network":"net-a","hypervisor":"ovs-1","mac":"02:00:00:00:0a:02","iface":"tap-w3"}'
t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -lt 400 ] || fail "write without wait was slow"
expect 204 DELETE "/v1/ports/$(jget "j['id']")"

echo "=== idle and concurrent clients"
# A client that sends half a request and stalls must not block others.
python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /v1/networks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"na")
time.sleep(5)' "$rport" &
idle=$!
ctl_bg "$idle"
# Wait until the stalled client's connection is established (else the GET
# below would prove nothing).
i=0
until ss -Htn state established "( dport = :$rport )" | grep -q . || [ $i -ge 50 ]; do
    sleep 0.1; i=$((i + 1))
done
[ $i -lt 50 ] || fail "the stalled client did not connect"
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base/v1/networks")
[ "$status" = 200 ] || fail "GET blocked by a stalled client ($status)"
ok
kill "$idle" 2>/dev/null
# 100 concurrent connections.
i=0
cpids=
while [ $i -lt 100 ]; do
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 "$base/v1/ports" >>"$tmp/concurrent" &
    cpids="$cpids $!"
    i=$((i + 1))
done
for p in $cpids; do wait "$p"; done
[ "$(grep -c '^200$' "$tmp/concurrent")" = 100 ] || fail "concurrent GETs: $(sort "$tmp/concurrent" | uniq -c)"
ok

echo "=== metrics"
expect 200 GET /metrics
grep -q '^nvo_http_requests_total{method="POST",status="201"} ' "$tmp/body" || fail "no request counter"
grep -q '^nvo_http_requests_total{method="POST",status="400"} ' "$tmp/body" || fail "no 400 counter"
grep -q '^nvo_store_rows{table="ports"} 4$' "$tmp/body" || fail "ports rows"
grep -q '^nvo_store_rows{table="hypervisors"} 4$' "$tmp/body" || fail "hypervisor rows"
grep -q '^nvo_store_revision [0-9]' "$tmp/body" || fail "revision"
grep -q '^nvo_store_seconds_total{phase="commit"} [0-9]' "$tmp/body" || fail "store phases (SQLite measures them)"
grep -q '^nvo_hypervisors{state="[a-z]*"} ' "$tmp/body" || fail "hypervisor states"
ok

echo "=== delete cycle"
expect 204 DELETE "/v1/ports/$p4"
expect 404 GET "/v1/ports/$p4"
# No agent runs for kvm-2 either: a waited delete times out, but happens.
expect 504 DELETE "/v1/ports/$p3?wait=1"
expect 404 GET "/v1/ports/$p3"
expect 204 DELETE /v1/networks/net-b
expect 404 GET /v1/networks/net-b
expect 204 DELETE /v1/hypervisors/sn-1
expect 404 GET /v1/hypervisors/sn-1

echo "=== kill -9 right after a 201, restart"
expect 201 POST /v1/ports '{"vm":"vm-k","network":"net-a","hypervisor":"kvm-2","mac":"02:00:00:00:0b:01","ip":"2001:db8::b1","iface":"tap-k"}'
kill -9 "$pid"
wait "$pid" 2>/dev/null; pid=
pk=$(jget "j['id']")
revk=$(jget "j['revision']")
cp "$tmp/body" "$tmp/port-k"
start
expect 200 GET "/v1/ports/$pk"
cmp -s "$tmp/body" "$tmp/port-k" || fail "port changed across kill -9: $(cat "$tmp/port-k") -> $(cat "$tmp/body")"
ok
expect 200 GET /healthz
jcheck "j['revision'] == $revk"
expect 200 GET /v1/ports
jcheck "[p['id'] for p in j] == [$p1, $p2, $pk]"
expect 200 GET /v1/networks
jcheck "[n['name'] for n in j] == ['net-a']"
expect 200 GET /v1/hypervisors
jcheck "[h['name'] for h in j] == ['kvm-1', 'kvm-2', 'ovs-1']"
# New writes continue the revision sequence.
expect 201 POST /v1/networks '{"name":"net-after","vni":7001}'
jcheck "j['revision'] == $revk + 1"

echo "=== HTTP/1.1 pipelining: answers in order, each durable, commits shared"
# Eight requests in one send: ports, one clashing with the first (409), a
# GET between them, a network with ?wait=1 and a port in it (which can
# only be created once the network is: controller/rest-pipeline.h).  The
# answers must come in request order, the writes read ahead must share
# commits (fewer commits than writes; one per write without read-ahead);
# kill -9 at once after: every port answered 201 is there after a restart.
# counters: "WRITES COMMITS" from /metrics.
counters() {
    curl -s "$base/metrics" | awk '$1 == "nvo_store_writes_total" { w = $2 }
        $1 == "nvo_store_commits_total" { c = $2 } END { print w + 0, c + 0 }'
}
set -- $(counters)
w0=$1 c0=$2
python3 -c '
import json, socket, sys
def post(vm, mac, iface, net="net-a"):
    return req("POST", "/v1/ports", {"vm": vm, "network": net,
               "hypervisor": "kvm-2", "mac": mac, "iface": iface})
def req(method, path, obj=None):
    b = json.dumps(obj).encode() if obj else b""
    h = b"%s %s HTTP/1.1\r\nHost: x\r\n" % (method.encode(), path.encode())
    if obj:
        h += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(b)
    return h + b"\r\n" + b
reqs = [post("vm-p0", "02:00:00:00:0c:00", "tap-p0"),
        post("vm-p1", "02:00:00:00:0c:01", "tap-p1"),
        post("vm-px", "02:00:00:00:0c:00", "tap-px"),
        req("GET", "/v1/networks/net-a"),
        post("vm-p2", "02:00:00:00:0c:02", "tap-p2"),
        req("POST", "/v1/networks?wait=1", {"name": "net-pp", "vni": 7100}),
        post("vm-p3", "02:00:00:00:0c:03", "tap-p3", "net-pp"),
        post("vm-p4", "02:00:00:00:0c:04", "tap-p4")]
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"".join(reqs))
buf = b""
out = []
while len(out) < len(reqs):
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            sys.exit("connection closed after %d answers" % len(out))
        buf += d
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    n = [int(l.split(":", 1)[1]) for l in lines
         if l.lower().startswith("content-length:")][0]
    while len(buf) < n:
        buf += s.recv(65536)
    body, buf = json.loads(buf[:n]), buf[n:]
    what = body.get("vm") or body.get("name") or body["error"]["code"]
    out.append("%s %s %s" % (lines[0].split()[1], what, body.get("id", "-")))
print("\n".join(out))' "$rport" >"$tmp/pipe.out" || fail "pipelined client: $(cat "$tmp/pipe.out")"
set -- $(counters)
w1=$1 c1=$2
kill -9 "$pid"
wait "$pid" 2>/dev/null; pid=
[ "$(cut -d' ' -f1,2 "$tmp/pipe.out" | tr '\n' ' ')" = "201 vm-p0 201 vm-p1 409 mac_in_use 200 net-a 201 vm-p2 201 net-pp 201 vm-p3 201 vm-p4 " ] \
    || fail "pipelined answers: $(cat "$tmp/pipe.out")"
ok
[ $((w1 - w0)) -gt 0 ] && [ $((c1 - c0)) -lt $((w1 - w0)) ] \
    || fail "$((w1 - w0)) pipelined writes took $((c1 - c0)) commits"
ok
start
for id in $(awk '$1 == 201 && $2 ~ /^vm-/ { print $3 }' "$tmp/pipe.out"); do
    expect 200 GET "/v1/ports/$id"
done
expect 200 GET /v1/ports
jcheck "sorted(p['vm'] for p in j if p['vm'].startswith('vm-p')) == ['vm-p0', 'vm-p1', 'vm-p2', 'vm-p3', 'vm-p4']"
expect 200 GET /v1/networks/net-pp

echo "=== HTTP/1.1 only: no upgrade to HTTP/2"
v=$(curl -s --http2 -o /dev/null -w '%{http_version} %{http_code}' "$base/healthz")
[ "$v" = "1.1 200" ] || fail "curl --http2 (Upgrade: h2c) got HTTP $v, expected 1.1 200"
ok

echo "=== clean stop, with an idle keep-alive client"
# The client keeps its connection open after one answered GET: SIGTERM
# must still end the controller at once and cleanly (under
# tests/run-sanitized.sh: nothing leaked at exit).
python3 -c '
import http.client, sys, time
idle = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
idle.request("GET", "/healthz"); idle.getresponse().read()
open(sys.argv[2], "w").write("ready\n")
time.sleep(5)' "$rport" "$tmp/idle.ready" >"$tmp/idle.out" 2>&1 &
idlepid=$!
ctl_bg "$idlepid"
i=0
until [ -s "$tmp/idle.ready" ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
t0=$(date +%s%N)
kill "$pid"
wait "$pid"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc = 0 ] || fail "controller exited with $rc on SIGTERM"
[ $ms -lt 3000 ] || fail "SIGTERM took $ms ms with an idle client"
[ ! -e "$tmp/pid" ] || fail "pidfile left behind"
grep -q "exited cleanly" "$tmp/log" || fail "no clean exit: $(tail -3 "$tmp/log")"
pid=
ok

echo "=== a database newer than the binary is refused"
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version = 999"); c.commit()' "$tmp/nvo.db"
: >"$tmp/stderr"
if "$ctl" --db="$tmp/nvo.db" --rest="127.0.0.1:$rport" --agents="127.0.0.1:$aport" 2>"$tmp/stderr" >/dev/null; then
    fail "controller accepted a newer database"
fi
grep -q "newer than this nvo-controller" "$tmp/stderr" || fail "unclear message: $(cat "$tmp/stderr")"
ok

echo "PASS: test-rest ($n_checks checks)"
