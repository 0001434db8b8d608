#!/bin/sh
# chaos.sh - nvo's chaos suite: a lab of 3 Open vSwitch and 2 kernel
# hypervisors and a service node (tests/chaos/chaos-lab.sh) under a
# continuous ?wait=1 write stream (POST/PATCH/DELETE of churn ports) and
# continuous pings, with random faults one after the other:
#   controller_kill  kill -9 of nvo-controller, restarted 1 s later
#   agent_kill       kill -9 of an nvo-agent (k1, k2 or s1), restarted 1 s later
#   vswitchd_kill    kill -9 of an ovs-vswitchd, restarted 1 s later
#   ovsdb_kill       kill -9 of an ovsdb-server, restarted 1 s later
#   switch_stop      SIGSTOP of an ovs-vswitchd for 5 s
#   link_down        a node's underlay link down for 3 s
#   disk_full        the controller's SQLite file system (a 16 MiB tmpfs)
#                    full (WAL truncated first) for 3 s and until a
#                    write was refused with 507
# then checks that every acknowledged write is in the store, that the
# SQLite file is intact, that every switch and kernel VTEP holds exactly
# the desired state (no stale or missing flow, tunnel, FDB entry: compared
# against a rebuild from nothing), that controller and agent restarts lost
# no ping, on the quiet paths (pings between hypervisors whose ports do not
# change meanwhile: writes go to o3 only during those faults) and on the
# busy ones (through o3), that each
# disk_full refused writes with 507 storage_full and writes were
# acknowledged again once the space came back; and reports
# ping loss and time to converge (p50/max) per kind.  The driver is
# tests/chaos/chaos.py; the method and the report: doc/chaos.md.
#
# Usage: tests/chaos/chaos.sh [--short] [--faults=N] [--seed=N] [--kinds=K,...]
#                             [--write-interval=SECONDS] [--loss-advisory]
#   default 100 faults (about 12 minutes); --short: one fault of each kind
#   (CI).  Needs root and a built tree (NVO_BIN_DIR for other binaries);
#   sanitizer options in the environment pass through to the daemons.
# Exit status 0 if every check passed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
case ${1:-} in -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
args=
for a in "$@"; do
    case $a in
        --short) args="$args --faults=7" ;;
        *) args="$args $a" ;;
    esac
done
. "$top/deploy/lab-lib.sh"
. "$top/tests/chaos/chaos-lab.sh"

# shellcheck disable=SC2086
chaos_lab_run ch $args
