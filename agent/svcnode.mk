# agent/svcnode.mk: the service-node BUM replicator.
#
# nvo-agent compiles $(AGENT_SVCNODE_SOURCES) into itself (agent/automake.mk
# adds them to its _SOURCES); agent/libsvcnode.a holds the same code so the
# unit tests, fuzz target and benchmark link it on their own.
AGENT_SVCNODE_SOURCES = \
	agent/svcnode.c agent/svcnode.h \
	agent/svcnode-table.c agent/svcnode-table.h \
	agent/vxlan.c agent/vxlan.h

noinst_LIBRARIES += agent/libsvcnode.a
agent_libsvcnode_a_SOURCES = $(AGENT_SVCNODE_SOURCES)
agent_libsvcnode_a_CPPFLAGS = $(AM_CPPFLAGS) $(UV_CFLAGS)
# What a program linking agent/libsvcnode.a also needs.
SVCNODE_LIBS = agent/libsvcnode.a lib/libnvo.a $(OVS_LIBS) $(UV_LIBS)
