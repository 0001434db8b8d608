# tests/svcnode.mk: the service node's unit tests and fuzz target.
check_PROGRAMS += tests/unit/test-vxlan tests/unit/test-svcnode
TESTS += tests/unit/test-vxlan tests/unit/test-svcnode
tests_unit_test_vxlan_SOURCES = tests/unit/test-vxlan.c
tests_unit_test_vxlan_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(UV_CFLAGS)
tests_unit_test_vxlan_LDADD = $(SVCNODE_LIBS) $(CMOCKA_LIBS)
tests_unit_test_svcnode_SOURCES = tests/unit/test-svcnode.c
tests_unit_test_svcnode_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(UV_CFLAGS)
tests_unit_test_svcnode_LDADD = $(SVCNODE_LIBS) $(CMOCKA_LIBS)

# Fuzz target: libFuzzer with --enable-fuzzing; otherwise linked with
# replay.c and run over its corpus by make check.
EXTRA_DIST += tests/fuzz/corpus/vxlan tests/fuzz/replay-vxlan.sh
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz-vxlan
# The parser and decision are compiled in (instrumented), not taken
# from agent/libsvcnode.a.
tests_fuzz_fuzz_vxlan_SOURCES = tests/fuzz/fuzz-vxlan.c \
	agent/vxlan.c agent/svcnode-table.c
tests_fuzz_fuzz_vxlan_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address
tests_fuzz_fuzz_vxlan_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address
tests_fuzz_fuzz_vxlan_LDADD = lib/libnvo.a $(OVS_LIBS)
EXTRA_tests_fuzz_fuzz_vxlan_DEPENDENCIES = $(NVO_OVS_ARCHIVE)
else
check_PROGRAMS += tests/fuzz/fuzz-vxlan-replay
TESTS += tests/fuzz/replay-vxlan.sh
tests_fuzz_fuzz_vxlan_replay_SOURCES = tests/fuzz/fuzz-vxlan.c tests/fuzz/replay.c
tests_fuzz_fuzz_vxlan_replay_LDADD = $(SVCNODE_LIBS)
endif

# The replicator on its own, for tests/integration/test-svcnode.sh.
noinst_PROGRAMS += tests/svcnode/svcnode-run
tests_svcnode_svcnode_run_SOURCES = tests/svcnode/svcnode-run.c
tests_svcnode_svcnode_run_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS)
tests_svcnode_svcnode_run_LDADD = $(SVCNODE_LIBS)
