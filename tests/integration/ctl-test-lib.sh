# ctl-test-lib.sh - what the tests of daemons on loopback (no namespace)
# share: test-rest, test-rest-concurrent, test-rest-security, test-daemon.
# Sourced after setting $top (the source tree):
#   ctl_test_init NAME    $tmp (/tmp/nvo-test-NAME.XXXXXX, removed on exit),
#                         $ctl, random free ports $rport $aport, $base;
#                         on exit kills $pid (waits for it) and what ctl_bg
#                         recorded, and copies $tmp/log to
#                         $NVO_TEST_LOG_DIR/NAME/ctl/ for run-sanitized.sh
#   ctl_bg PID            kill PID on exit if it still runs then: recorded
#                         with its start time (lab_pid_id), so that a PID
#                         that ended and went to another process meanwhile
#                         is left alone
#   fail MESSAGE          "FAIL: MESSAGE", the last body and log tail; exit 1
#   ok                    counts a passed check in $n_checks
#   free_port             a free loopback TCP port
#   wait_until SECONDS CMD...  polls CMD every 0.05 s until it succeeds;
#                         false after SECONDS (never sleep-then-assert)
#   ctl_start [FLAGS...]  nvo-controller in the background ($pid) on
#                         $tmp/nvo.db, $rport, $aport, log $tmp/log, stderr
#                         $tmp/stderr; waits for GET /healthz (over
#                         $scheme://$host with $curl_tls when set)
#   ctl_stop              SIGTERM to $pid, waits for it
. "$top/deploy/lab-lib.sh"          # lab_pid_id, lab_pid_exited
ctl="$top/controller/nvo-controller"
n_checks=0
pid=
bgpids=

ctl_test_init() {
    [ -x "$ctl" ] || { echo "SKIP: $ctl not built"; exit 77; }
    ctl_test_name=$1
    tmp=$(mktemp -d "/tmp/nvo-test-$1.XXXXXX")
    trap ctl__cleanup EXIT
    trap 'exit 1' INT TERM
    rport=$(free_port)
    aport=$(free_port)
    base="http://127.0.0.1:$rport"
}

ctl_bg() {
    bgpids="$bgpids $(lab_pid_id "$1")"
}

ctl__cleanup() {
    for _id in $bgpids; do
        lab_pid_id_alive "$_id" && kill "${_id%%:*}" 2>/dev/null
    done
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    if [ -n "${NVO_TEST_LOG_DIR:-}" ] && [ -f "$tmp/log" ]; then
        mkdir -p "$NVO_TEST_LOG_DIR/$ctl_test_name/ctl"
        cp "$tmp/log" "$NVO_TEST_LOG_DIR/$ctl_test_name/ctl/nvo-controller.log"
    fi
    rm -rf "$tmp"
}

fail() {
    echo "FAIL: $*"
    [ -f "$tmp/body" ] && echo "last body: $(cat "$tmp/body")"
    [ -f "$tmp/log" ] && { echo "--- controller log"; tail -20 "$tmp/log"; }
    exit 1
}

ok() {
    n_checks=$((n_checks + 1))
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_until() {
    _wu_n=$(($1 * 20)); shift
    until "$@" 2>/dev/null; do
        _wu_n=$((_wu_n - 1))
        [ $_wu_n -gt 0 ] || return 1
        sleep 0.05
    done
}

ctl__up() {
    curl -s ${curl_tls:-} -o /dev/null \
        "${scheme:-http}://${host:-127.0.0.1}:$rport/healthz" && return 0
    kill -0 "$pid" 2>/dev/null || fail "controller exited: $(cat "$tmp/stderr")"
    return 1
}

ctl_start() {
    "$ctl" --db="$tmp/nvo.db" --rest="127.0.0.1:$rport" \
        --agents="127.0.0.1:$aport" --log-file="$tmp/log" "$@" \
        2>>"$tmp/stderr" &
    pid=$!
    wait_until 10 ctl__up || fail "controller did not come up"
}

ctl_stop() {
    kill "$pid"
    wait "$pid"
    pid=
}
