#!/bin/sh
# run-sanitized.sh - integration tests against daemons built with a
# sanitizer, failing on any sanitizer report and on any unexpected warning
# or error in the daemons' logs (like Open vSwitch's check_logs).
#
# Usage: tests/run-sanitized.sh [--build] [-j N] asan|tsan [TEST...]
#
#   asan   nvo-controller and nvo-agent built with AddressSanitizer and
#          UndefinedBehaviorSanitizer (./configure --enable-sanitizers)
#   tsan   nvo-controller built with ThreadSanitizer: the REST/agent (libuv)
#          main thread and the OVS southbound thread under race detection
#   --build  reconfigure this tree for that mode and build first (in-tree:
#          configure refuses an out-of-tree build next to an in-tree one;
#          `./configure && make` afterwards restores a plain build)
#   -j N   run N tests at once (default 2: each test is its own lab with
#          its own namespaces, so they do not interfere; they mostly wait)
#   TEST   integration test names, or chaos-short for the chaos suite's
#          short form (tests/chaos/chaos.sh --short); default: the MODE
#          lines of tests/sanitized-tests
#
# Every sanitizer writes its report to $OUT/san.EXE.PID (log_path with
# log_exe_name) instead of stderr, where detached daemons' stderr is lost;
# the labs keep their logs in $OUT/logs (NVO_TEST_LOG_DIR, deploy/lab-lib.sh)
# before removing themselves.  OUT is tests/sanitized-MODE/ (kept for
# reading).  The allow-list of expected WARN/ERR lines is
# tests/log-allow.txt ("TEST-GLOB REGEX" per line, each with a comment
# saying why).  Prints "N passed, N failed" last; exits non-zero on any
# test failure, sanitizer report or unexpected log line.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

build=no jobs=2
while [ $# -gt 0 ]; do
    case $1 in
        --build) build=yes; shift ;;
        -j) jobs=$2; shift 2 ;;
        -j*) jobs=${1#-j}; shift ;;
        -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) break ;;
    esac
done
mode=${1:-}
case $mode in
    asan|tsan) shift ;;
    *) echo "usage: $0 [--build] [-j N] asan|tsan [TEST...]" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "run-sanitized.sh: needs root (namespaces)" >&2; exit 2; }

if [ $build = yes ]; then
    case $mode in
        asan) set -- --enable-sanitizers CFLAGS="-O1 -g" -- "$@" ;;
        tsan) set -- CFLAGS="-O1 -g -fsanitize=thread" \
                     LDFLAGS="-fsanitize=thread" -- "$@" ;;
    esac
    cfg=
    while [ "$1" != -- ]; do cfg="$cfg '$1'"; shift; done
    shift
    eval ./configure --with-ovs-source="'$top/_ovs/openvswitch'" $cfg \
        >"sanitized-$mode-build.log" 2>&1 \
        && make clean >/dev/null \
        && case $mode in
               asan) make -j"$(nproc)" all && make -j"$(nproc)" check TESTS= ;;
               tsan) make -j"$(nproc)" built-sources \
                     && make -j"$(nproc)" controller/nvo-controller agent/nvo-agent ;;
           esac >>"sanitized-$mode-build.log" 2>&1 \
        || { tail -30 "sanitized-$mode-build.log"; echo "build failed"; exit 1; }
fi

# The binaries must be what the mode says (a plain build would pass
# everything silently).
case $mode in
    asan) sym=__asan_init bins="controller/nvo-controller agent/nvo-agent" ;;
    tsan) sym=__tsan_init bins="controller/nvo-controller" ;;
esac
for b in $bins; do
    nm "$b" 2>/dev/null | grep -q "$sym" \
        || { echo "$b is not built for $mode (try --build)" >&2; exit 2; }
done

[ $# -gt 0 ] || set -- $(sed 's/#.*//' tests/sanitized-tests | awk -v m="$mode" '$1 == m { print $2 }')
out=$top/tests/sanitized-$mode
rm -rf "$out"
mkdir -p "$out/logs"
export NVO_TEST_LOG_DIR="$out/logs"
# halt_on_error: the first report ends the daemon (the test then fails as
# well); detect_leaks: a clean SIGTERM exit reports leaks.  TSan goes on
# after a report and exits 66 (report_signal_unsafe off: OVS's fatal-signal
# handler runs vlog from a signal, by design).
san=log_path=$out/san:log_exe_name=1
export ASAN_OPTIONS="$san:detect_leaks=1:abort_on_error=0:halt_on_error=1"
export UBSAN_OPTIONS="$san:print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="$san"
export TSAN_OPTIONS="$san:halt_on_error=0:report_signal_unsafe=0:second_deadlock_stack=1"

passed=0 failed=0 failures=
t_start=$(date +%s)
run_one() {
    mkdir -p "$out/logs/$1"
    case $1 in
        # Under sanitizers the daemons run several times slower: the
        # short chaos run checks writes, dataplane state and sanitizer
        # reports, and only reports ping loss across restarts (the full
        # chaos suite on a plain build judges it).  A fixed seed
        # (NVO_CHAOS_SEED, default 1) so that a red CI run reproduces; the
        # full chaos suite draws a new seed each run.
        chaos-short) set -- "$1" sh tests/chaos/chaos.sh --short --loss-advisory \
            --seed="${NVO_CHAOS_SEED:-1}" ;;
        *) set -- "$1" sh "tests/integration/$1.sh" ;;
    esac
    name=$1; shift
    _t0=$(date +%s)
    if NVO_TEST_LOG_DIR="$out/logs/$name" "$@" >"$out/$name.log" 2>&1; then
        echo "PASS: $name ($mode, $(( $(date +%s) - _t0 )) s)"
    else
        echo "FAIL: $name ($mode, $(( $(date +%s) - _t0 )) s, log: $out/$name.log)"
        tail -30 "$out/$name.log"
    fi
}
# Simple job pool: at most $jobs tests at once.
running=
for t in "$@"; do
    while [ "$(echo $running | wc -w)" -ge "$jobs" ]; do
        still=
        for p in $running; do kill -0 "$p" 2>/dev/null && still="$still $p"; done
        running=$still
        [ "$(echo $running | wc -w)" -ge "$jobs" ] && sleep 0.5
    done
    run_one "$t" >"$out/$t.result" 2>&1 &
    running="$running $!"
done
wait
for t in "$@"; do
    cat "$out/$t.result"
    if grep -q '^PASS:' "$out/$t.result"; then passed=$((passed + 1))
    else failed=$((failed + 1)); failures="$failures $t"; fi
done

# Sanitizer reports: any file at all is one.
n_san=0
for f in "$out"/san.*; do
    [ -f "$f" ] || continue
    n_san=$((n_san + 1))
    echo "--- sanitizer report $f"
    head -60 "$f"
done
if [ $n_san -gt 0 ]; then
    failed=$((failed + 1)); failures="$failures sanitizer($n_san)"
fi

# check_logs: WARN/ERR/EMER lines of nvo's daemons that the allow-list
# does not expect for that test.
allow=$top/tests/log-allow.txt
: >"$out/unexpected.txt"
for t in "$@"; do
    sed 's/[[:space:]]*#.*//; /^[[:space:]]*$/d' "$allow" \
        | while read -r glob re; do
              case $t in $glob) echo "$re" ;; esac
          done >"$out/allow-$t.re"
    echo '^$' >>"$out/allow-$t.re"
    find "$out/logs/$t" -type f \( -name 'nvo-controller*.log' \
            -o -name 'nvo-agent*.log' \) 2>/dev/null | sort | while read -r f; do
        grep -E '\|(WARN|ERR|EMER)\|' "$f" | grep -vEf "$out/allow-$t.re" \
            | sed "s|^|${f#$out/logs/}: |"
    done >>"$out/unexpected.txt"
done
n_log=$(wc -l <"$out/unexpected.txt")
if [ "$n_log" -gt 0 ]; then
    echo "--- unexpected WARN/ERR lines in daemon logs (allow-list: $allow)"
    head -40 "$out/unexpected.txt"
    failed=$((failed + 1)); failures="$failures logs($n_log)"
fi

echo "$mode: $n_san sanitizer reports, $n_log unexpected log lines," \
     "$(( $(date +%s) - t_start )) s"
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
