# bench/scale.mk: issue 8's scale benchmark (bench-scale.sh): VM start at
# 4..256 OVS hypervisors beside OVN and the floor, resync, memory.  Not in
# 'make bench' (it takes long and installs OVN): run it on its own.
EXTRA_DIST += bench/bench-scale.sh bench/bench-scale-gen.sh bench/bench-lib.sh
noinst_PROGRAMS += bench/bench-floor
bench_bench_floor_SOURCES = bench/bench-floor.c
bench_bench_floor_LDADD = $(OVS_LIBS)
