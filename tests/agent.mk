# tests/agent.mk: unit tests, fuzz target and integration tests of the
# agent protocol, the controller's agent server and the kernel dataplane.
NVO_AGENT_UNIT_CPPFLAGS = $(AM_CPPFLAGS) $(UV_CFLAGS) $(PROTOBUF_C_CFLAGS) \
	$(MNL_CFLAGS) $(CMOCKA_CFLAGS)
NVO_AGENT_UNIT_LDADD = agent/libnvoagent.a controller/libnvoctl.a \
	proto/libnvoproto.a lib/libnvo.a \
	$(H2O_LIBS) $(UV_LIBS) $(JANSSON_LIBS) $(SQLITE_LIBS) $(NFTNL_LIBS) $(MNL_LIBS) \
	$(PROTOBUF_C_LIBS) $(OVS_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test-frame tests/unit/test-agent-session \
	tests/unit/test-kdp-state tests/unit/test-agent-conn
TESTS += tests/unit/test-frame tests/unit/test-agent-session \
	tests/unit/test-kdp-state tests/unit/test-agent-conn
tests_unit_test_frame_SOURCES = tests/unit/test-frame.c
tests_unit_test_frame_CPPFLAGS = $(NVO_AGENT_UNIT_CPPFLAGS)
tests_unit_test_frame_LDADD = $(NVO_AGENT_UNIT_LDADD)
tests_unit_test_agent_session_SOURCES = tests/unit/test-agent-session.c
tests_unit_test_agent_session_CPPFLAGS = $(NVO_AGENT_UNIT_CPPFLAGS)
tests_unit_test_agent_session_LDADD = $(NVO_AGENT_UNIT_LDADD)
tests_unit_test_agent_conn_SOURCES = tests/unit/test-agent-conn.c
tests_unit_test_agent_conn_CPPFLAGS = $(NVO_AGENT_UNIT_CPPFLAGS)
tests_unit_test_agent_conn_LDADD = $(NVO_AGENT_UNIT_LDADD)
tests_unit_test_kdp_state_SOURCES = tests/unit/test-kdp-state.c
tests_unit_test_kdp_state_CPPFLAGS = $(NVO_AGENT_UNIT_CPPFLAGS)
tests_unit_test_kdp_state_LDADD = $(NVO_AGENT_UNIT_LDADD)

# Fuzz target: the frame/message decoder.  With --enable-fuzzing (CC=clang)
# a libFuzzer binary; otherwise the replayer runs the corpus in make check.
EXTRA_DIST += tests/fuzz/corpus/frame
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz-frame
tests_fuzz_fuzz_frame_SOURCES = tests/fuzz/fuzz-frame.c
tests_fuzz_fuzz_frame_CPPFLAGS = $(AM_CPPFLAGS) $(PROTOBUF_C_CFLAGS)
tests_fuzz_fuzz_frame_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address
tests_fuzz_fuzz_frame_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address
tests_fuzz_fuzz_frame_LDADD = proto/libnvoproto.a lib/libnvo.a \
	$(PROTOBUF_C_LIBS) $(OVS_LIBS)
# $(OVS_LIBS) is a configure substitution automake cannot see into.
EXTRA_tests_fuzz_fuzz_frame_DEPENDENCIES = $(NVO_OVS_ARCHIVE)
else
check_PROGRAMS += tests/fuzz/fuzz-frame-replay
TESTS += tests/fuzz/fuzz-frame-corpus.sh
tests_fuzz_fuzz_frame_replay_SOURCES = tests/fuzz/fuzz-frame.c \
	tests/fuzz/replay.c
tests_fuzz_fuzz_frame_replay_CPPFLAGS = $(AM_CPPFLAGS) $(PROTOBUF_C_CFLAGS)
tests_fuzz_fuzz_frame_replay_LDADD = proto/libnvoproto.a lib/libnvo.a \
	$(PROTOBUF_C_LIBS) $(OVS_LIBS)
endif
EXTRA_DIST += tests/fuzz/fuzz-frame-corpus.sh

EXTRA_DIST += tests/integration/test-agent-kernel.sh \
	tests/integration/test-kdp-churn.sh
