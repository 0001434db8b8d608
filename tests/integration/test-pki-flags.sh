#!/bin/sh
# test-pki-flags.sh - the PKI options of both daemons (lib/pki.c):
#   1. --help of both lists --private-key, --certificate, --ca-cert;
#   2. one or two of the three, an unreadable file, a key that does not
#      match the certificate, a non-PEM CA: exit 1 with a message naming
#      the option, before anything listens;
#   3. without them the controller and the agent run and warn once that
#      they are plain, naming what is exposed (agent port, REST, OVS);
#   4. plain, bounded before trust: 200 connections each announcing a 4 MiB
#      frame and sending 1 MiB of it are all closed, and the controller's
#      RSS (/proc) stays under 64 MiB above its idle size;
#   5. plain, 1200 connections with valid hellos for unregistered names,
#      each then sending 12 KiB of a 16 KiB frame: 1024 are kept waiting
#      for registration, 176 refused, RSS bounded as above (the client
#      paces itself by /metrics so that none is closed on accept for
#      being one of too many before their hello, see agent-flood.py);
#   6. with a PKI made by ovs-pki (lab_pki_*) both start, and the controller
#      does not say it runs plain.
# Exit 0 = pass.  Cleans up what it made (namespace, daemons by PID).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/deploy/lab-lib.sh"
ctl=$top/controller/nvo-controller
agent=$top/agent/nvo-agent

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

dir=$(mktemp -d /tmp/nvo-test-pki.XXXXXX)
ns=tpki$$
# The daemons started, as lab_pid_id: a stopped one's PID may be
# another process's by the time of the cleanup, which leaves it alone.
ids=
cleanup() {
    for id in $ids; do
        lab_pid_id_alive "$id" && kill "${id%%:*}" 2>/dev/null
    done
    for id in $ids; do
        i=0; while lab_pid_id_alive "$id" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        lab_pid_id_alive "$id" && kill -9 "${id%%:*}" 2>/dev/null
    done
    ip netns del "$ns" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
ip netns add "$ns" || fail "netns"
ip -n "$ns" link set lo up || fail "lo"

lab_pki_init "$dir" || fail "pki"
lab_pki_cert ctl controller || fail "ctl cert"
lab_pki_cert k1 switch || fail "k1 cert"
lab_pki_cert other switch || fail "other cert"
key=$dir/ctl-privkey.pem cert=$dir/ctl-cert.pem ca=$dir/pki/switchca/cacert.pem

step "--help"
for d in "$ctl" "$agent"; do
    h=$("$d" --help) || fail "$d --help"
    for o in --private-key=FILE --certificate=FILE --ca-cert=FILE; do
        echo "$h" | grep -q -- "$o" || fail "$d --help lacks $o"
    done
done

# refuse WHAT EXPECTED-MESSAGE ARGS...: nvo-controller exits 1 at once,
# saying EXPECTED-MESSAGE on stderr.
refuse() {
    what=$1 msg=$2; shift 2
    out=$(ip netns exec "$ns" timeout 10 "$ctl" --db="$dir/nvo.db" \
            --rest=127.0.0.1:8080 --agents=127.0.0.1:6650 "$@" 2>&1)
    rc=$?
    [ $rc = 1 ] || fail "$what: exit $rc, expected 1 ($out)"
    echo "$out" | grep -q -- "$msg" || fail "$what: message '$out' lacks '$msg'"
    echo "refused ($what): $out"
}
step "bad PKI options are refused"
refuse "key only" "go together" --private-key="$key"
refuse "no CA" "go together" --private-key="$key" --certificate="$cert"
refuse "missing key" "--private-key=$dir/nope.pem: No such file" \
    --private-key="$dir/nope.pem" --certificate="$cert" --ca-cert="$ca"
refuse "key of another certificate" "does not match --private-key" \
    --private-key="$dir/other-privkey.pem" --certificate="$cert" --ca-cert="$ca"
refuse "CA not PEM" "--ca-cert=$dir/ctl-req.pem: not a PEM certificate" \
    --private-key="$key" --certificate="$cert" --ca-cert="$dir/ctl-req.pem"
out=$("$agent" --controller=tcp:127.0.0.1:6650 --name=k1 --tunnel-ip=192.0.2.5 \
        --dataplane=kernel --certificate="$dir/k1-cert.pem" 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "go together" || fail "agent partial PKI: $out"

# start_ctl LOG ARGS...: nvo-controller in $ns, detached; records its PID.
start_ctl() {
    log=$1; shift
    rm -f "$dir/nvo.db" "$dir/ctl.pid"
    ip netns exec "$ns" "$ctl" --db="$dir/nvo.db" --rest=127.0.0.1:8080 \
        --agents=127.0.0.1:6650 --log-file="$log" --pidfile="$dir/ctl.pid" \
        --detach "$@" || fail "controller did not start: $(tail -5 "$log")"
    ids="$ids $(lab_pid_id "$(cat "$dir/ctl.pid")")"
}
stop_ctl() {
    p=$(cat "$dir/ctl.pid"); kill "$p"
    i=0; until lab_pid_exited "$p"; do
        i=$((i + 1)); [ $i -gt 50 ] && fail "controller $p did not exit"; sleep 0.1
    done
}
# wait_log FILE PATTERN: polls FILE for PATTERN for up to 10 s.
wait_log() {
    i=0; until grep -q -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 100 ] && return 1; sleep 0.1
    done
}

step "plain: one warning naming what is exposed"
start_ctl "$dir/plain.log"
w=$(grep -c "running plain" "$dir/plain.log")
[ "$w" = 1 ] || fail "controller: $w plain warnings: $(cat "$dir/plain.log")"
grep "running plain" "$dir/plain.log" | grep -q "agent port 127.0.0.1:6650" \
    && grep "running plain" "$dir/plain.log" | grep -q "REST on 127.0.0.1:8080" \
    && grep "running plain" "$dir/plain.log" | grep -q "OVSDB/OpenFlow" \
    || fail "controller warning does not name agents/REST/OVS: $(grep plain "$dir/plain.log")"
ip netns exec "$ns" "$agent" --controller=tcp:127.0.0.1:6650 --name=k1 \
    --tunnel-ip=192.0.2.5 --dataplane=ovs --log-file="$dir/agent.log" \
    --pidfile="$dir/agent.pid" --detach || fail "agent did not start"
ids="$ids $(lab_pid_id "$(cat "$dir/agent.pid")")"
wait_log "$dir/agent.log" "running plain" || fail "agent: no plain warning"
grep "running plain" "$dir/agent.log" | grep -q "tcp:127.0.0.1:6650" \
    || fail "agent warning does not name the controller"
kill "$(cat "$dir/agent.pid")"

step "plain: 200 partial 4 MiB frames before hello"
ip netns exec "$ns" timeout 60 python3 "$top/tests/integration/agent-flood.py" \
    partial 127.0.0.1 6650 200 --watch "$(cat "$dir/ctl.pid")" >"$dir/flood.log" 2>&1 \
    || fail "flood: $(cat "$dir/flood.log")"
cat "$dir/flood.log"
grep -q "partial: 200 of 200 connections closed" "$dir/flood.log" \
    || fail "plain controller kept partial frames"
growth=$(sed -n 's/^rss: .*growth \(-*[0-9]*\) kB$/\1/p' "$dir/flood.log")
[ -n "$growth" ] || fail "no RSS figure"
if grep -q __asan_init "$ctl"; then
    echo "(RSS not asserted: ASan build, whose quarantine keeps freed memory)"
else
    [ "$growth" -lt 65536 ] || fail "controller grew by $growth kB"
fi
stop_ctl

step "plain: 1200 agents waiting for registration (at most 1024 kept)"
# Enough descriptors for 1200 connections in the controller (inherited).
ulimit -n 4096 || fail "ulimit"
# The flood's agents never send a heartbeat: a long --agent-timeout keeps
# the first of them from timing out while a slow host is still reading
# the last hellos (which is not what this step checks).
start_ctl "$dir/wait.log" --agent-timeout=60000
ip netns exec "$ns" timeout 60 python3 "$top/tests/integration/agent-flood.py" \
    waiting 127.0.0.1 6650 1200 --rest 127.0.0.1:8080 \
    --watch "$(cat "$dir/ctl.pid")" \
    >"$dir/flood.log" 2>&1 || fail "flood: $(cat "$dir/flood.log")"
cat "$dir/flood.log"
grep -q "waiting: 176 of 1200 connections closed" "$dir/flood.log" \
    || fail "the controller did not keep exactly 1024 waiting agents:" \
            "$(grep -E 'agent_server|agent_session' "$dir/wait.log" | tail -20)"
growth=$(sed -n 's/^rss: .*growth \(-*[0-9]*\) kB$/\1/p' "$dir/flood.log")
if ! grep -q __asan_init "$ctl"; then
    [ "$growth" -lt 65536 ] || fail "controller grew by $growth kB"
fi
stop_ctl

step "TLS: starts with an ovs-pki PKI, no plain warning"
start_ctl "$dir/tls.log" --private-key="$key" --certificate="$cert" --ca-cert="$ca"
grep -q "running plain" "$dir/tls.log" && fail "TLS controller says it runs plain"
grep -q "nvo-controller .*REST on" "$dir/tls.log" || fail "TLS controller not up"
stop_ctl
echo; echo "PASS"
