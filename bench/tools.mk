# bench/tools.mk: the operator tools' benchmark (nvoctl audit beside
# ovs-ofctl dump-flows of every switch; nvoctl status with 1,000
# hypervisors).
NVO_BENCHES += bench/bench-tools.sh
EXTRA_DIST += bench/bench-tools.sh
