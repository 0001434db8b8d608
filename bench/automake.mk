# bench/: benchmarks that print figures beside a reference measured in the
# same run.  'make bench' runs them all; each area adds a script to
# NVO_BENCHES in bench/<area>.mk.
include bench/rest.mk
include bench/ovs.mk
include bench/agent.mk
include bench/svcnode.mk
include bench/tools.mk
include bench/scale.mk
bench: all
	@set -e; for b in $(NVO_BENCHES); do echo "=== $$b"; sh $(srcdir)/$$b; done
.PHONY: bench
include bench/cluster.mk
