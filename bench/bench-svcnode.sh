#!/bin/sh
# bench-svcnode.sh - the service node's replication rate (packets in/s and
# copies out/s) for 64- and 1450-byte inner frames at fanout 8 and 64 on
# loopback, each beside a plain sendmmsg() sender's rate for the same copies
# measured in the same run (the machine's limit), and their ratio.
# Usage: bench/bench-svcnode.sh [SECONDS-PER-RUN]   (run from the build tree)
set -e
bin=./bench/bench-svcnode
[ -x "$bin" ] || bin="$(dirname "$0")/bench-svcnode"
exec "$bin" "${1:-2}"
