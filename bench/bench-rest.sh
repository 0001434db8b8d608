#!/bin/sh
# bench-rest.sh - POST /v1/ports (VM start) throughput and latency.
#
# For 1, 16 and 64 concurrent connections: a fresh nvo-controller on a
# fresh database gets 100 networks and 10 kernel hypervisors, then wrk
# (bench/bench-rest.lua, unique VM names/MACs/interfaces) creates 10,000
# ports over them.  No agent is connected, so this measures the REST
# server, validation, the SQLite transaction, the model update and the
# desired-state recomputation of the affected hypervisors.  Concurrent
# POSTs share transactions (group commit): the "writes/txn" column is
# nvo_store_writes_total / nvo_store_commits_total from /metrics; each
# write is still answered only once its transaction's fsync returned.
# Reference, same run, same disk: bench/bench-sqlite inserting the same
# rows with the same schema and pragmas (WAL, synchronous=FULL), one
# transaction per row, with raw SQLite and through
# nvo_store_sqlite_add_port().
#
# Environment: NVO_BENCH_PORTS (default 10000), NVO_BENCH_DIR (default a
# new directory under /var/tmp: use the disk the real database lives on).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
ctl="$top/controller/nvo-controller"
sqlite_bench="$top/bench/bench-sqlite"
lua="$top/bench/bench-rest.lua"
n_ports=${NVO_BENCH_PORTS:-10000}
n_nets=100
n_hvs=10
for f in "$ctl" "$sqlite_bench"; do
    [ -x "$f" ] || { echo "bench-rest: $f not built (make)"; exit 1; }
done
command -v wrk >/dev/null || { echo "bench-rest: wrk not installed"; exit 1; }

dir=$(mktemp -d "${NVO_BENCH_DIR:-/var/tmp}/nvo-bench-rest.XXXXXX")
pid=
wrk_pid=
cleanup() {
    [ -n "$wrk_pid" ] && kill "$wrk_pid" 2>/dev/null || true
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

ports_rows() {
    curl -s "$base/metrics" | sed -n 's/^nvo_store_rows{table="ports"} //p'
}

metric() {
    curl -s "$base/metrics" | sed -n "s/^$1 //p"
}

# run_rest CONNECTIONS: prints "rate p50 p99 writes/txn" for one fresh
# controller.
run_rest() {
    conns=$1
    rm -f "$dir"/nvo.db*
    rport=$(free_port)
    base="http://127.0.0.1:$rport"
    "$ctl" --db="$dir/nvo.db" --rest="127.0.0.1:$rport" \
        --agents="127.0.0.1:$(free_port)" --log-file="$dir/log" \
        2>>"$dir/stderr" &
    pid=$!
    i=0
    until curl -s -o /dev/null "$base/healthz"; do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "controller did not start" >&2; exit 1; }
        sleep 0.05
    done
    i=0
    while [ $i -lt $n_nets ]; do
        curl -sf -o /dev/null -H 'Content-Type: application/json' \
            -d "{\"name\":\"net-$i\",\"vni\":$((1000 + i))}" "$base/v1/networks"
        i=$((i + 1))
    done
    i=0
    while [ $i -lt $n_hvs ]; do
        curl -sf -o /dev/null -H 'Content-Type: application/json' \
            -d "{\"name\":\"hv-$i\",\"tunnel_ip\":\"198.51.100.$((i + 1))\",\"dataplane\":\"kernel\"}" \
            "$base/v1/hypervisors"
        i=$((i + 1))
    done

    w0=$(metric nvo_store_writes_total)
    c0=$(metric nvo_store_commits_total)
    wrk -t1 -c"$conns" -d600s --timeout 30s -s "$lua" "$base" \
        -- "$n_ports" "$n_nets" "$n_hvs" >"$dir/wrk.out" 2>&1 &
    wrk_pid=$!
    while kill -0 "$wrk_pid" 2>/dev/null && [ "$(ports_rows)" != "$n_ports" ]; do
        sleep 0.2
    done
    sleep 0.3   # the last answers reach wrk
    kill -INT "$wrk_pid" 2>/dev/null || true
    wait "$wrk_pid" 2>/dev/null || true
    wrk_pid=
    rows=$(ports_rows)
    w1=$(metric nvo_store_writes_total)
    c1=$(metric nvo_store_commits_total)
    kill "$pid"; wait "$pid" 2>/dev/null || true
    pid=
    result=$(grep '^RESULT' "$dir/wrk.out" || true)
    errors=$(echo "$result" | sed -n 's/.* errors=\([-0-9]*\).*/\1/p')
    if [ "$rows" != "$n_ports" ] || [ "$errors" != 0 ]; then
        echo "bench-rest: $conns connections: $rows ports stored, errors=$errors" >&2
        cat "$dir/wrk.out" >&2
        exit 1
    fi
    echo "$result" | sed 's/.*rate=\([0-9.]*\) p50_ms=\([0-9.]*\) p99_ms=\([0-9.]*\).*/\1 \2 \3/' | tr '\n' ' '
    awk -v w=$((w1 - w0)) -v c=$((c1 - c0)) 'BEGIN { printf "%.1f\n", c ? w / c : 0 }'
}

echo "bench-rest: $n_ports ports over $n_nets networks and $n_hvs kernel hypervisors; database in $dir"
set -- $("$sqlite_bench" "$dir" "$n_ports" "$n_nets" "$n_hvs" 2>/dev/null | awk '{print $4}')
raw=$1 store=$2
printf '%-34s %10s %10s %10s %8s %10s\n' "" "ports/s" "p50 ms" "p99 ms" "vs raw" "writes/txn"
printf '%-34s %10s %10s %10s %8s %10s\n' "SQLite raw, 1 txn/row (reference)" "$raw" "-" "-" "1.00" "1"
printf '%-34s %10s %10s %10s %8s %10s\n' "nvo_store_sqlite_add_port()" "$store" "-" "-" \
    "$(awk -v a="$store" -v b="$raw" 'BEGIN { printf "%.2f", a / b }')" "1"
for c in 1 16 64; do
    set -- $(run_rest "$c")
    printf '%-34s %10s %10s %10s %8s %10s\n' "REST POST /v1/ports, $c conn" "$1" "$2" "$3" \
        "$(awk -v a="$1" -v b="$raw" 'BEGIN { printf "%.2f", a / b }')" "$4"
done
