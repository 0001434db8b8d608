# bench/cluster.mk: cluster mode (doc/cluster.md): VM start latency and
# controller CPU with three controllers beside one, failover time, REST
# writes/s on the Raft cluster beside SQLite.  Its own command (root, the
# lab's namespaces): sh bench/bench-cluster.sh
EXTRA_DIST += bench/bench-cluster.sh bench/failover-phases.py
