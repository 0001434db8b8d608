# bench/rest.mk: POST /v1/ports throughput and latency (wrk) beside the raw
# SQLite insert rate (bench/bench-sqlite.c) on the same disk.
NVO_BENCHES += bench/bench-rest.sh
EXTRA_DIST += bench/bench-rest.sh bench/bench-rest.lua
noinst_PROGRAMS += bench/bench-sqlite
bench_bench_sqlite_SOURCES = bench/bench-sqlite.c
bench_bench_sqlite_CPPFLAGS = $(controller_libnvoctl_a_CPPFLAGS)
bench_bench_sqlite_LDADD = $(NVO_CONTROLLER_LDADD)
