# tests/nvoctl.mk: nvoctl's argument parsing and table rendering.
check_PROGRAMS += tests/unit/test-nvoctl
TESTS += tests/unit/test-nvoctl
tests_unit_test_nvoctl_SOURCES = tests/unit/test-nvoctl.c
tests_unit_test_nvoctl_CPPFLAGS = $(NVOCTL_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_nvoctl_LDADD = nvoctl/libnvoctl-cli.a $(CURL_LIBS) \
	$(JANSSON_LIBS) $(CMOCKA_LIBS)
EXTRA_DIST += tests/integration/test-nvoctl.sh \
	tests/integration/test-openapi.sh tests/integration/openapi-check.py \
	tests/integration/test-topology-page.sh tests/integration/cdp-page.py \
	tests/integration/test-audit.sh tests/integration/test-trace.sh \
	tests/integration/tools-lib.sh
EXTRA_DIST += tests/package/test-debian.sh
