# tests/core.mk: unit tests of the controller core (model, desired, ctl).
NVO_UNIT_LDADD = controller/libnvoctl.a schema/libnvoidl.a \
	proto/libnvoproto.a lib/libnvo.a \
	$(H2O_LIBS) $(UV_LIBS) $(JANSSON_LIBS) $(SQLITE_LIBS) \
	$(PROTOBUF_C_LIBS) $(OVS_LIBS) $(CMOCKA_LIBS)
NVO_UNIT_CPPFLAGS = $(AM_CPPFLAGS) $(UV_CFLAGS) $(CMOCKA_CFLAGS)

check_PROGRAMS += tests/unit/test-desired tests/unit/test-ctl tests/unit/test-addr
TESTS += tests/unit/test-desired tests/unit/test-ctl tests/unit/test-addr
tests_unit_test_desired_SOURCES = tests/unit/test-desired.c
tests_unit_test_desired_CPPFLAGS = $(NVO_UNIT_CPPFLAGS)
tests_unit_test_desired_LDADD = $(NVO_UNIT_LDADD)
tests_unit_test_ctl_SOURCES = tests/unit/test-ctl.c
tests_unit_test_ctl_CPPFLAGS = $(NVO_UNIT_CPPFLAGS)
tests_unit_test_ctl_LDADD = $(NVO_UNIT_LDADD)
tests_unit_test_addr_SOURCES = tests/unit/test-addr.c
tests_unit_test_addr_CPPFLAGS = $(NVO_UNIT_CPPFLAGS)
tests_unit_test_addr_LDADD = $(NVO_UNIT_LDADD)
check_PROGRAMS += tests/unit/test-uv-wake
TESTS += tests/unit/test-uv-wake
tests_unit_test_uv_wake_SOURCES = tests/unit/test-uv-wake.c
tests_unit_test_uv_wake_CPPFLAGS = $(NVO_UNIT_CPPFLAGS)
tests_unit_test_uv_wake_LDADD = $(NVO_UNIT_LDADD)

# Fuzz target: REST request bodies through jansson and every validator.
# With --enable-fuzzing (CC=clang) a libFuzzer binary; otherwise the
# replayer runs the corpus in make check.
NVO_FUZZ_REST_LDADD = controller/libnvoctl.a lib/libnvo.a $(JANSSON_LIBS) \
	$(OVS_LIBS)
EXTRA_DIST += tests/integration/test-daemon.sh tests/integration/ctl-test-lib.sh
EXTRA_DIST += tests/fuzz/corpus/rest tests/fuzz/fuzz-rest-corpus.sh
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz-rest-body
tests_fuzz_fuzz_rest_body_SOURCES = tests/fuzz/fuzz-rest-body.c
tests_fuzz_fuzz_rest_body_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_rest_body_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address
tests_fuzz_fuzz_rest_body_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address
tests_fuzz_fuzz_rest_body_LDADD = $(NVO_FUZZ_REST_LDADD)
EXTRA_tests_fuzz_fuzz_rest_body_DEPENDENCIES = $(NVO_OVS_ARCHIVE)
endif
check_PROGRAMS += tests/fuzz/fuzz-rest-body-replay
TESTS += tests/fuzz/fuzz-rest-corpus.sh
tests_fuzz_fuzz_rest_body_replay_SOURCES = tests/fuzz/fuzz-rest-body.c \
	tests/fuzz/replay.c
tests_fuzz_fuzz_rest_body_replay_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_rest_body_replay_LDADD = $(NVO_FUZZ_REST_LDADD)
# One JSON library per name in the controller (lib/ovs-json.syms).
TESTS += tests/check-json-symbols.sh
EXTRA_DIST += tests/check-json-symbols.sh
