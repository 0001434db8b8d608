# bench/ovs.mk: the OVS southbound's benchmark (real OVS in namespaces).
NVO_BENCHES += bench/bench-ovs.sh
EXTRA_DIST += bench/bench-ovs.sh
NVO_BENCHES += bench/bench-dataplane.sh
EXTRA_DIST += bench/bench-dataplane.sh
