#!/bin/sh
# test-daemon.sh - the daemon options both daemons take from libopenvswitch's
# daemon-unix (lib/daemon.h), on loopback with random ports, no namespace:
#  - --detach returns only once the daemon serves; a relative --pidfile is
#    relative to the current directory
#  - a second daemon on a live pidfile refuses to start, the first runs on
#  - a pidfile left by kill -9 does not stop a restart
#  - --monitor restarts a daemon that crashed (SIGSEGV) and exits with it
#    on SIGTERM
#  - SIGTERM removes the pidfile
# for nvo-controller and nvo-agent (--dataplane=ovs: the agent touches no
# kernel state).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/ctl-test-lib.sh"
agent="$top/agent/nvo-agent"
[ -x "$agent" ] || { echo "SKIP: $agent not built"; exit 77; }
ctl_test_init daemon
# Daemons started detached: recorded with ctl_bg, killed at exit if they
# still run.

alive() { kill -0 "$1" 2>/dev/null; }
# gone PID: PID exited, reaped or not: a detached daemon's parent is PID 1,
# which here reaps only every second or two, and a zombie has run its exit
# path (pidfile removed) to the end.
gone() { lab_pid_exited "$1"; }
healthy() { curl -sf -o /dev/null "$base/healthz"; }
ppid_of() { awk '{ print $4 }' "/proc/$1/stat"; }
pid_changed() { [ -s "$1" ] && [ "$(cat "$1")" != "$2" ]; }

cd "$tmp"
# start_ctl LOG [ARGS...]: the controller, detached, pidfile ctl.pid.
start_ctl() {
    _log=$1; shift
    "$ctl" --db=nvo.db --rest="127.0.0.1:$rport" --agents="127.0.0.1:$aport" \
        --pidfile=ctl.pid --log-file="$_log" --detach "$@" 2>>"$tmp/stderr"
}

echo "=== controller: --detach, relative --pidfile"
start_ctl ctl.log || fail "controller --detach exited with $?"
[ -s "$tmp/ctl.pid" ] || fail "no pidfile $tmp/ctl.pid"
cpid=$(cat "$tmp/ctl.pid")
ctl_bg "$cpid"
alive "$cpid" || fail "pidfile names $cpid, not running"
healthy || fail "--detach returned before the controller served"
ok; echo "ok: --detach returns once serving; relative pidfile in the current directory"

echo "=== controller: a second one on the live pidfile is refused"
"$ctl" --db=other.db --rest="127.0.0.1:$(free_port)" \
    --agents="127.0.0.1:$(free_port)" --pidfile=ctl.pid \
    --log-file=ctl2.log --detach 2>"$tmp/second.err"
rc=$?
[ $rc != 0 ] || fail "second controller on a live pidfile exited 0"
grep -q "already running as pid $cpid" "$tmp/second.err" \
    || fail "no 'already running' message: $(cat "$tmp/second.err")"
[ "$(cat "$tmp/ctl.pid")" = "$cpid" ] || fail "pidfile overwritten"
healthy || fail "first controller hurt by the second start"
ok; echo "ok: second start refused ($rc), first keeps serving"

echo "=== controller: kill -9 leaves a stale pidfile; restart takes it"
kill -9 "$cpid"
wait_until 5 gone "$cpid" || fail "kill -9 did not end $cpid"
[ -s "$tmp/ctl.pid" ] || fail "kill -9 removed the pidfile (cannot be)"
start_ctl ctl.log || fail "restart on a stale pidfile exited with $?"
cpid=$(cat "$tmp/ctl.pid")
ctl_bg "$cpid"
healthy || fail "restarted controller not serving"
ok; echo "ok: stale pidfile replaced"

echo "=== controller: SIGTERM removes the pidfile"
kill "$cpid"
wait_until 10 gone "$cpid" || fail "SIGTERM did not end $cpid"
[ ! -e "$tmp/ctl.pid" ] || fail "pidfile left behind after SIGTERM"
grep -q "exited cleanly" ctl.log || fail "no clean exit"
ok; echo "ok: SIGTERM: clean exit, pidfile removed"

echo "=== controller: --monitor restarts a crashed daemon"
start_ctl ctlm.log --monitor || fail "--monitor --detach exited with $?"
cpid=$(cat "$tmp/ctl.pid")
mpid=$(ppid_of "$cpid")
ctl_bg "$cpid"; ctl_bg "$mpid"
[ "$mpid" != 1 ] && alive "$mpid" || fail "no monitor process above $cpid"
kill -SEGV "$cpid"
wait_until 20 pid_changed "$tmp/ctl.pid" "$cpid" \
    || fail "monitor did not restart the daemon after SIGSEGV"
cpid=$(cat "$tmp/ctl.pid")
ctl_bg "$cpid"
[ "$(ppid_of "$cpid")" = "$mpid" ] || fail "restarted daemon not the monitor's"
wait_until 10 healthy || fail "restarted controller not serving"
grep -q "crashes: pid .* restarting" ctlm.log || fail "monitor logged no restart"
kill "$cpid"
wait_until 10 gone "$mpid" || fail "monitor outlived its daemon's clean exit"
[ ! -e "$tmp/ctl.pid" ] || fail "pidfile left behind after --monitor exit"
ok; echo "ok: --monitor restarted after SIGSEGV, left with the daemon on SIGTERM"

echo "=== agent: --detach, --pidfile, refusal, SIGTERM"
start_agent() {
    "$agent" --controller="tcp:127.0.0.1:$aport" --name=hv1 \
        --tunnel-ip=192.0.2.1 --dataplane=ovs --pidfile=agent.pid \
        --log-file="$1" --detach 2>>"$tmp/stderr"
}
start_agent agent.log || fail "agent --detach exited with $?"
apid=$(cat "$tmp/agent.pid")
ctl_bg "$apid"
alive "$apid" || fail "agent pidfile names $apid, not running"
start_agent agent2.log && fail "second agent on a live pidfile exited 0"
grep -q "already running as pid $apid" agent2.log \
    || fail "agent: no 'already running' message"
kill "$apid"
wait_until 10 gone "$apid" || fail "SIGTERM did not end the agent"
[ ! -e "$tmp/agent.pid" ] || fail "agent pidfile left behind"
ok; echo "ok: agent: detached, second refused, pidfile removed on SIGTERM"

echo "test-daemon: $n_checks checks passed"
