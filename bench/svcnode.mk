# bench/svcnode.mk: service-node replication rate beside a plain sendmmsg()
# sender's rate for the same copies (bench/bench-svcnode.sh).
NVO_BENCHES += bench/bench-svcnode.sh
EXTRA_DIST += bench/bench-svcnode.sh
noinst_PROGRAMS += bench/bench-svcnode
bench_bench_svcnode_SOURCES = bench/bench-svcnode.c
bench_bench_svcnode_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS)
bench_bench_svcnode_LDADD = $(SVCNODE_LIBS)
