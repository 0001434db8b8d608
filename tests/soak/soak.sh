#!/bin/sh
# soak.sh - nvo's soak run: the chaos suite's lab (tests/chaos/chaos-lab.sh:
# 3 OVS and 2 kernel hypervisors, a service node, pinger VMs) under steady
# churn (?wait=1 start/move/stop of churn ports at a fixed rate, no
# faults) for N minutes; samples RSS and open fds of nvo-controller and
# every nvo-agent every 10 s and prints their slopes (whole run and second
# half, after warm-up).  Fails if, after warm-up, RSS grows more than 2 %
# an hour (512 KiB at least) or fds grow, a daemon restarts, or an
# acknowledged write is lost.  Samples: WORKDIR/soak-samples.txt (printed
# at the end).  Sanitizer options in the environment pass through to the
# daemons (tests/run-sanitized.sh's way: ASAN_OPTIONS=log_path=...).
#
# Usage: tests/soak/soak.sh [--minutes=30] [--rate=WRITES-PER-SECOND]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
case ${1:-} in -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
. "$top/deploy/lab-lib.sh"
. "$top/tests/chaos/chaos-lab.sh"

chaos_lab_run soak --soak "$@"
rc=$?
echo "--- samples (seconds daemon rss fds)"
cat "$CHAOS_WORK/soak-samples.txt" 2>/dev/null
exit $rc
