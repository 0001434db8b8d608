# tests/ovs.mk: unit tests of the OVS southbound's pure parts (flows,
# ports, flow-set diff).  Its integration tests are
# tests/integration/test-ovs-*.sh (real OVS in namespaces).
check_PROGRAMS += tests/unit/test-ovs-flows tests/unit/test-ovs-flowset \
	tests/unit/test-ovs-flowinc
TESTS += tests/unit/test-ovs-flows tests/unit/test-ovs-flowset \
	tests/unit/test-ovs-flowinc
tests_unit_test_ovs_flows_SOURCES = tests/unit/test-ovs-flows.c \
	tests/unit/flowset-text.c tests/unit/flowset-text.h
tests_unit_test_ovs_flows_CPPFLAGS = $(NVO_UNIT_CPPFLAGS)
tests_unit_test_ovs_flows_LDADD = $(NVO_UNIT_LDADD)
tests_unit_test_ovs_flowinc_SOURCES = tests/unit/test-ovs-flowinc.c
tests_unit_test_ovs_flowinc_CPPFLAGS = $(NVO_UNIT_CPPFLAGS)
tests_unit_test_ovs_flowinc_LDADD = $(NVO_UNIT_LDADD)
tests_unit_test_ovs_flowset_SOURCES = tests/unit/test-ovs-flowset.c
tests_unit_test_ovs_flowset_CPPFLAGS = $(NVO_UNIT_CPPFLAGS)
tests_unit_test_ovs_flowset_LDADD = $(NVO_UNIT_LDADD)
EXTRA_DIST += tests/integration/ovs-test-lib.sh
check_PROGRAMS += tests/unit/test-ovs-flowgen
TESTS += tests/unit/test-ovs-flowgen
tests_unit_test_ovs_flowgen_SOURCES = tests/unit/test-ovs-flowgen.c \
	tests/unit/flowset-text.c tests/unit/flowset-text.h
tests_unit_test_ovs_flowgen_CPPFLAGS = $(NVO_UNIT_CPPFLAGS)
tests_unit_test_ovs_flowgen_LDADD = $(NVO_UNIT_LDADD)
EXTRA_DIST += tests/integration/test-dataplane.sh tests/integration/dp-frames.py \
	tests/integration/test-busy-path.sh
