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
# nvo_store_sqlite_add_port().  As the load of a shared machine moves
# the disk's fsync time a lot, raw SQLite is also measured again (a
# quarter of the rows) right before each REST run: "raw now" is that, and
# "vs raw" divides by it.
#
# At 16 connections it also runs over HTTPS with a bearer token
# (--private-key/--certificate/--ca-cert, --rest-token-file; a throw-away
# CA made with openssl), printed beside the plain figure with the ratio.
#
# At 1 connection, one client waits for each answer before sending the
# next request, so it cannot beat the bare commit loop: the request's time
# is printed split into the commit (pool thread, fsync included), the
# hand-overs to and from libuv's pool (nvo_store_seconds_total in
# /metrics) and the rest (the request's own work and the client's), with
# the CPU per request of the main thread and of the other threads.
#
# At 1 connection it also runs with HTTP/1.1 pipelining, 16 requests in
# flight (p50/p99 per request, from its group's sending to its answer).
# The answers come in order, each once its own write is durable; the
# writes behind one waiting for its commit are read ahead
# (controller/rest-pipeline.h), so they share transactions.
#
# One slow write must not block reads: during the 64-connection run a
# second wrk sends GET /v1/networks/net-0 on one connection for a second;
# its p50/p99 are printed beside the same GETs on the idle controller.
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
    curl -s $curl_args "$base/metrics" | sed -n 's/^nvo_store_rows{table="ports"} //p'
}

metric() {
    curl -s $curl_args "$base/metrics" | sed -n "s/^$1 //p"
}

# phase_times PID: "queued to_thread commit to_loop main_cpu other_cpu", the
# store's nvo_store_seconds_total by phase and the CPU seconds of the
# controller's main thread and of its other threads (schedstat).
phase_times() {
    curl -s $curl_args "$base/metrics" | awk '
        $1 ~ /^nvo_store_seconds_total/ { split($1, a, "\""); t[a[2]] = $2 }
        END { printf "%s %s %s %s ", t["queued"] + 0, t["to_thread"] + 0,
              t["commit"] + 0, t["to_loop"] + 0 }'
    for f in /proc/"$1"/task/*/schedstat; do
        echo "${f%/schedstat} $(cut -d' ' -f1 "$f")"
    done | awk -v main="/proc/$1/task/$1" '
        $1 == main { m = $2 } $1 != main { o += $2 }
        END { printf "%.6f %.6f\n", m / 1e9, o / 1e9 }'
}

# make_pki: a CA and a certificate for 127.0.0.1, and a token file.
make_pki() {
    p=$dir/pki
    mkdir -p "$p"
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=bench-ca \
        -keyout "$p/ca-key.pem" -out "$p/ca.pem" 2>/dev/null
    openssl req -new -newkey rsa:2048 -nodes -subj /CN=ctl \
        -keyout "$p/key.pem" -out "$p/req.pem" 2>/dev/null
    echo "subjectAltName=IP:127.0.0.1" >"$p/ext.cnf"
    openssl x509 -req -in "$p/req.pem" -CA "$p/ca.pem" -CAkey "$p/ca-key.pem" \
        -set_serial 1 -days 1 -extfile "$p/ext.cnf" -out "$p/cert.pem" 2>/dev/null
    token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    echo "$token admin" >"$p/tokens"
    echo "Authorization: Bearer $token" >"$p/auth"
}

curl_args=
# get_probe SECONDS: GET /v1/networks/net-0 on one connection for
# SECONDS; prints "p50_ms p99_ms requests".
get_probe() {
    wrk -t1 -c1 -d"$1"s --latency "$base/v1/networks/net-0" 2>&1 | awk '
        function ms(v) {
            if (v ~ /us$/) return v / 1000
            if (v ~ /ms$/) return v + 0
            if (v ~ /s$/) return v * 1000
            return v
        }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        / requests in / { n = $1 }
        END { printf "%.2f %.2f %d\n", p50, p99, n }'
}

# run_rest CONNECTIONS [MODE]: prints "rate p50 p99 writes/txn" for one
# fresh controller; MODE "tls": over HTTPS with a bearer token, "pipe":
# 16 pipelined requests per connection, "probe": also GET latency during
# the writes (into $dir/probe: "idle_p50 idle_p99 n busy_p50 busy_p99 n
# ports_left").
run_rest() {
    conns=$1 mode=${2:-plain}
    depth=1
    [ "$mode" = pipe ] && depth=16
    rm -f "$dir"/nvo.db*
    rport=$(free_port)
    set --
    curl_args=
    NVO_BENCH_TOKEN=
    if [ "$mode" = tls ]; then
        base="https://127.0.0.1:$rport"
        set -- --private-key="$dir/pki/key.pem" --certificate="$dir/pki/cert.pem" \
            --ca-cert="$dir/pki/ca.pem" --rest-token-file="$dir/pki/tokens"
        curl_args="--cacert $dir/pki/ca.pem -H @$dir/pki/auth"
        NVO_BENCH_TOKEN=$token
    else
        base="http://127.0.0.1:$rport"
    fi
    export NVO_BENCH_TOKEN
    "$ctl" --db="$dir/nvo.db" --rest="127.0.0.1:$rport" \
        --agents="127.0.0.1:$(free_port)" --log-file="$dir/log" "$@" \
        2>>"$dir/stderr" &
    pid=$!
    i=0
    until curl -s $curl_args -o /dev/null "$base/healthz"; do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "controller did not start" >&2; exit 1; }
        sleep 0.05
    done
    i=0
    while [ $i -lt $n_nets ]; do
        curl -sf $curl_args -o /dev/null -H 'Content-Type: application/json' \
            -d "{\"name\":\"net-$i\",\"vni\":$((1000 + i))}" "$base/v1/networks"
        i=$((i + 1))
    done
    i=0
    while [ $i -lt $n_hvs ]; do
        curl -sf $curl_args -o /dev/null -H 'Content-Type: application/json' \
            -d "{\"name\":\"hv-$i\",\"tunnel_ip\":\"198.51.100.$((i + 1))\",\"dataplane\":\"kernel\"}" \
            "$base/v1/hypervisors"
        i=$((i + 1))
    done

    [ "$mode" = probe ] && idle_probe=$(get_probe 1)
    w0=$(metric nvo_store_writes_total)
    c0=$(metric nvo_store_commits_total)
    t0=$(phase_times "$pid")
    rm -f "$dir/wrk.done"
    NVO_BENCH_DONE_FILE="$dir/wrk.done" \
        wrk -t1 -c"$conns" -d600s --timeout 30s -s "$lua" "$base" \
        -- "$n_ports" "$n_nets" "$n_hvs" "$depth" >"$dir/wrk.out" 2>&1 &
    wrk_pid=$!
    if [ "$mode" = probe ]; then
        until [ "$(ports_rows)" -gt 0 ]; do sleep 0.01; done
        busy_probe=$(get_probe 1)
        echo "$idle_probe $busy_probe $((n_ports - $(ports_rows)))" >"$dir/probe"
    fi
    # Until the script saw every answer (it creates wrk.done), or wrk
    # ended, or 30 s after the store held every port (answers lost).
    deadline=
    while kill -0 "$wrk_pid" 2>/dev/null && [ ! -e "$dir/wrk.done" ]; do
        if [ -z "$deadline" ] && [ "$(ports_rows)" = "$n_ports" ]; then
            deadline=$(($(date +%s) + 30))
        fi
        [ -n "$deadline" ] && [ "$(date +%s)" -ge "$deadline" ] && break
        sleep 0.2
    done
    kill -INT "$wrk_pid" 2>/dev/null || true
    wait "$wrk_pid" 2>/dev/null || true
    wrk_pid=
    rows=$(ports_rows)
    w1=$(metric nvo_store_writes_total)
    c1=$(metric nvo_store_commits_total)
    echo "$((w1 - w0)) $t0 $(phase_times "$pid")" >"$dir/times-$conns-$mode"
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

echo "bench-rest: $n_ports ports over $n_nets networks and $n_hvs kernel hypervisors; database in $dir ($(df -h --output=source,fstype "$dir" | tail -1 | tr -s ' '))"
echo "  $(uptime | sed 's/.*load/load/') at the start"
set -- $("$sqlite_bench" "$dir" "$n_ports" "$n_nets" "$n_hvs" 2>/dev/null | awk '{print $4}')
raw=$1 store=$2
vs_raw() { awk -v a="$1" -v b="$raw" 'BEGIN { printf "%.2f", a / b }'; }
fmt='%-40s %10s %10s %10s %8s %10s %8s\n'
printf "$fmt" "" "ports/s" "p50 ms" "p99 ms" "vs raw" "writes/txn" "raw now"
printf "$fmt" "SQLite raw, 1 txn/row (reference)" "$raw" "-" "-" "1.00" "1" "-"
printf "$fmt" "nvo_store_sqlite_add_port()" "$store" "-" "-" "$(vs_raw "$store")" "1" "-"
make_pki
# raw_now: raw SQLite again, a quarter of the rows, into $raw.
raw_now() {
    raw=$("$sqlite_bench" "$dir" "$(( (n_ports + 3) / 4 ))" "$n_nets" "$n_hvs" raw 2>/dev/null | awk '{print $4}')
}
row() {
    printf "$fmt" "$1" "$2" "$3" "$4" "$(vs_raw "$2")" "$5" "$raw"
}
for c in 1 16 64; do
    raw_now
    if [ "$c" = 64 ]; then
        set -- $(run_rest "$c" probe)
    else
        set -- $(run_rest "$c")
    fi
    row "REST POST /v1/ports, $c conn" "$@"
    if [ "$c" = 1 ]; then
        # One client waits for each answer before it sends the next
        # request: a request costs one commit (its fsync included) plus
        # everything around it, which a bare commit loop does not do.
        # Averages per write, in ms, from /metrics and /proc.
        awk -v rate="$1" -v raw="$raw" '{
            n = $1
            for (i = 0; i < 6; i++) d[i] = ($(i + 8) - $(i + 2)) * 1000 / n
            wall = 1000 / rate
            rest = wall - d[0] - d[1] - d[2] - d[3]
            printf "  per request at 1 conn: %.3f ms (raw SQLite: %.3f ms per commit) =" \
                   " commit %.3f (statements, COMMIT, fsync; pool thread)" \
                   " + queued %.3f + to the pool %.3f + back to the loop %.3f" \
                   " + the rest %.3f (request in, checks, model, desired" \
                   " state, answer out, the client and loopback TCP);" \
                   " CPU per request: main thread %.3f ms, other threads %.3f ms\n",
                   wall, 1000 / raw, d[2], d[0], d[1], d[3], rest, d[4], d[5]
        }' "$dir/times-1-plain"
        raw_now
        set -- $(run_rest 1 pipe)
        row "  1 conn, 16 pipelined" "$@"
    fi
    if [ "$c" = 16 ]; then
        plain_rate=$1 plain_p50=$2 plain_p99=$3
        raw_now
        set -- $(run_rest "$c" tls)
        row "  same over HTTPS + token" "$@"
        echo "  HTTPS+token vs plain at 16 connections: throughput $(awk -v a="$1" -v b="$plain_rate" 'BEGIN { printf "%.2fx", a / b }')," \
             "p50 $(awk -v a="$2" -v b="$plain_p50" 'BEGIN { printf "%.2fx", a / b }')," \
             "p99 $(awk -v a="$3" -v b="$plain_p99" 'BEGIN { printf "%.2fx", a / b }')"
    fi
done
set -- $(cat "$dir/probe")
echo "GET /v1/networks/net-0 (1 conn, 1 s) during the 64-connection POSTs: p50 $4 ms, p99 $5 ms ($6 answered; $7 ports still to write at its end)"
echo "  the same GETs on the idle controller (reference): p50 $1 ms, p99 $2 ms ($3 answered)"
echo "  $(uptime | sed 's/.*load/load/') at the end"
