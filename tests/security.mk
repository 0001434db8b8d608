# tests/security.mk: tests of the PKI options and of the TLS agent channel
# (integration: tests/integration/test-pki-*.sh and test-agent-tls*.sh).
EXTRA_DIST += tests/integration/test-pki-flags.sh \
	tests/integration/test-agent-tls.sh

# Certificate name matching (lib/tls-ctx.c).
check_PROGRAMS += tests/unit/test-tls-ctx
TESTS += tests/unit/test-tls-ctx
tests_unit_test_tls_ctx_SOURCES = tests/unit/test-tls-ctx.c
tests_unit_test_tls_ctx_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_tls_ctx_LDADD = lib/libnvo.a $(OVS_LIBS) $(CMOCKA_LIBS)
