# agent/svcnode.mk: the service-node BUM replicator.
