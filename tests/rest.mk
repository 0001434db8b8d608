# tests/rest.mk: the store, the service layer, request validation and the
# REST API.
check_PROGRAMS += tests/unit/test-store tests/unit/test-validate \
	tests/unit/test-rest-body \
	tests/unit/test-service tests/unit/test-rest-auth \
	tests/unit/test-rest-framing tests/unit/test-rest-pipeline \
	tests/fuzz/fuzz-rest-framing-replay
TESTS += tests/unit/test-store tests/unit/test-validate \
	tests/unit/test-rest-body \
	tests/unit/test-service tests/unit/test-rest-auth \
	tests/unit/test-rest-framing tests/unit/test-rest-pipeline \
	tests/fuzz/fuzz-rest-framing-corpus.sh
tests_unit_test_store_SOURCES = tests/unit/test-store.c
tests_unit_test_store_CPPFLAGS = $(controller_libnvoctl_a_CPPFLAGS) \
	$(CMOCKA_CFLAGS)
tests_unit_test_store_LDADD = $(NVO_CONTROLLER_LDADD) $(CMOCKA_LIBS)
tests_unit_test_service_SOURCES = tests/unit/test-service.c
tests_unit_test_service_CPPFLAGS = $(controller_libnvoctl_a_CPPFLAGS) \
	$(CMOCKA_CFLAGS)
tests_unit_test_service_LDADD = $(NVO_CONTROLLER_LDADD) $(CMOCKA_LIBS)
tests_unit_test_rest_body_SOURCES = tests/unit/test-rest-body.c
tests_unit_test_rest_body_CPPFLAGS = $(controller_libnvoctl_a_CPPFLAGS) \
	$(CMOCKA_CFLAGS)
tests_unit_test_rest_body_LDADD = $(NVO_CONTROLLER_LDADD) $(CMOCKA_LIBS)
tests_unit_test_validate_SOURCES = tests/unit/test-validate.c
tests_unit_test_validate_CPPFLAGS = $(controller_libnvoctl_a_CPPFLAGS) \
	$(CMOCKA_CFLAGS)
tests_unit_test_validate_LDADD = $(NVO_CONTROLLER_LDADD) $(CMOCKA_LIBS)
tests_unit_test_rest_auth_SOURCES = tests/unit/test-rest-auth.c
tests_unit_test_rest_auth_CPPFLAGS = $(controller_libnvoctl_a_CPPFLAGS) \
	$(CMOCKA_CFLAGS)
tests_unit_test_rest_auth_LDADD = $(NVO_CONTROLLER_LDADD) $(CMOCKA_LIBS)
tests_unit_test_rest_framing_SOURCES = tests/unit/test-rest-framing.c
tests_unit_test_rest_framing_CPPFLAGS = $(controller_libnvoctl_a_CPPFLAGS) \
	$(CMOCKA_CFLAGS)
tests_unit_test_rest_framing_LDADD = $(NVO_CONTROLLER_LDADD) $(CMOCKA_LIBS)
tests_unit_test_rest_pipeline_SOURCES = tests/unit/test-rest-pipeline.c
tests_unit_test_rest_pipeline_CPPFLAGS = $(controller_libnvoctl_a_CPPFLAGS) \
	$(CMOCKA_CFLAGS)
tests_unit_test_rest_pipeline_LDADD = $(NVO_CONTROLLER_LDADD) $(CMOCKA_LIBS)
# Fuzz target: the framing check in front of h2o (libFuzzer binary with
# --enable-fuzzing; the corpus replayed in make check).
EXTRA_DIST += tests/fuzz/corpus/rest-framing \
	tests/fuzz/fuzz-rest-framing-corpus.sh
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz-rest-framing
tests_fuzz_fuzz_rest_framing_SOURCES = tests/fuzz/fuzz-rest-framing.c
tests_fuzz_fuzz_rest_framing_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address
tests_fuzz_fuzz_rest_framing_LDFLAGS = $(AM_LDFLAGS) \
	-fsanitize=fuzzer,address
tests_fuzz_fuzz_rest_framing_LDADD = $(NVO_FUZZ_REST_LDADD)
EXTRA_tests_fuzz_fuzz_rest_framing_DEPENDENCIES = $(NVO_OVS_ARCHIVE)
endif
tests_fuzz_fuzz_rest_framing_replay_SOURCES = tests/fuzz/fuzz-rest-framing.c \
	tests/fuzz/replay.c
tests_fuzz_fuzz_rest_framing_replay_LDADD = $(NVO_FUZZ_REST_LDADD)
EXTRA_DIST += tests/integration/test-rest.sh \
	tests/integration/test-rest-concurrent.sh
