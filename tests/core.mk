# tests/core.mk: unit tests of the controller core (model, desired, ctl).
NVO_UNIT_LDADD = controller/libnvoctl.a proto/libnvoproto.a lib/libnvo.a \
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
