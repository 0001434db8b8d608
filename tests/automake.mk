# tests/automake.mk: shared test plumbing.  Each area adds its unit tests and
# fuzz targets in tests/<area>.mk:
#   check_PROGRAMS += tests/unit/test-foo
#   TESTS += tests/unit/test-foo
#   tests_unit_test_foo_SOURCES = tests/unit/test-foo.c
#   tests_unit_test_foo_LDADD = ... $(CMOCKA_LIBS)
# Fuzz targets: built with --enable-fuzzing (clang, libFuzzer); without it
# the same sources are linked with tests/fuzz/replay.c, which runs every file
# of the target's corpus (tests/fuzz/corpus/NAME/) through the target, so
# make check replays the corpus.
EXTRA_DIST += tests/run-all.sh tests/run-sanitized.sh tests/sanitized-tests \
	tests/integration/test-ctl-restart-sn.sh \
	tests/integration/test-apply-errors.sh \
	tests/integration/test-ovs-apply-errors.sh \
	tests/integration/test-disk-full.sh tests/chaos/chaos.sh \
	tests/chaos/chaos.py tests/chaos/chaos-lab.sh tests/soak/soak.sh \
	tests/log-allow.txt
include tests/core.mk
include tests/rest.mk
include tests/ovs.mk
include tests/agent.mk
include tests/svcnode.mk
include tests/nvoctl.mk
include tests/security.mk
include tests/cluster.mk
