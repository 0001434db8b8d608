# tests/cluster.mk: cluster mode (Raft-clustered OVSDB store,
# doc/cluster.md).  Integration: tests/integration/test-cluster-*.sh.
check_PROGRAMS += tests/unit/test-store-ovsdb tests/unit/test-cluster
TESTS += tests/unit/test-store-ovsdb tests/unit/test-cluster
# The lab's Raft helpers on canned cluster/status answers.
TESTS += tests/check-lab-raft.sh
EXTRA_DIST += tests/check-lab-raft.sh
tests_unit_test_cluster_SOURCES = tests/unit/test-cluster.c
tests_unit_test_cluster_CPPFLAGS = $(NVO_UNIT_CPPFLAGS)
tests_unit_test_cluster_LDADD = $(NVO_UNIT_LDADD)
tests_unit_test_store_ovsdb_SOURCES = tests/unit/test-store-ovsdb.c
tests_unit_test_store_ovsdb_CPPFLAGS = $(NVO_UNIT_CPPFLAGS)
tests_unit_test_store_ovsdb_LDADD = $(NVO_UNIT_LDADD)
EXTRA_DIST += tests/integration/test-cluster-raft.sh \
	tests/integration/test-cluster-store.sh \
	tests/integration/test-cluster-failover.sh \
	tests/integration/test-cluster-tls.sh \
	tests/integration/of-role.py \
	tests/integration/ovsdb-hold-proxy.py \
	tests/integration/nvo-1.3.0.ovsschema
