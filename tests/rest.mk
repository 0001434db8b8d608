# tests/rest.mk: the store, the service layer, request validation and the
# REST API.
check_PROGRAMS += tests/unit/test-store tests/unit/test-validate \
	tests/unit/test-service
TESTS += tests/unit/test-store tests/unit/test-validate \
	tests/unit/test-service
tests_unit_test_store_SOURCES = tests/unit/test-store.c
tests_unit_test_store_CPPFLAGS = $(controller_libnvoctl_a_CPPFLAGS) \
	$(CMOCKA_CFLAGS)
tests_unit_test_store_LDADD = $(NVO_CONTROLLER_LDADD) $(CMOCKA_LIBS)
tests_unit_test_service_SOURCES = tests/unit/test-service.c
tests_unit_test_service_CPPFLAGS = $(controller_libnvoctl_a_CPPFLAGS) \
	$(CMOCKA_CFLAGS)
tests_unit_test_service_LDADD = $(NVO_CONTROLLER_LDADD) $(CMOCKA_LIBS)
tests_unit_test_validate_SOURCES = tests/unit/test-validate.c
tests_unit_test_validate_CPPFLAGS = $(controller_libnvoctl_a_CPPFLAGS) \
	$(CMOCKA_CFLAGS)
tests_unit_test_validate_LDADD = $(NVO_CONTROLLER_LDADD) $(CMOCKA_LIBS)
EXTRA_DIST += tests/integration/test-rest.sh \
	tests/integration/test-rest-concurrent.sh
