# agent/automake.mk: nvo-agent.  Everything but main.c goes into
# agent/libnvoagent.a so unit tests and benchmarks can link it.  The
# service-node replicator (agent/svcnode.mk) is compiled in through
# $(AGENT_SVCNODE_SOURCES) when present (agent-dp.c detects its header).
noinst_LIBRARIES += agent/libnvoagent.a
agent_libnvoagent_a_SOURCES = \
	agent/agent-conn.c agent/agent-conn.h \
	agent/agent-dp.c agent/agent-dp.h \
	agent/agent-view.c agent/agent-view.h \
	agent/kdp.c agent/kdp.h \
	agent/kdp-sec.c agent/kdp-sec.h \
	agent/kdp-report.c agent/kdp-report.h \
	agent/kdp-state.c agent/kdp-state.h
agent_libnvoagent_a_CPPFLAGS = $(AM_CPPFLAGS) $(UV_CFLAGS) $(MNL_CFLAGS) \
	$(NFTNL_CFLAGS) $(PROTOBUF_C_CFLAGS)

bin_PROGRAMS += agent/nvo-agent
agent_nvo_agent_SOURCES = agent/main.c $(AGENT_SVCNODE_SOURCES)
agent_nvo_agent_CPPFLAGS = $(agent_libnvoagent_a_CPPFLAGS)
NVO_AGENT_LDADD = agent/libnvoagent.a proto/libnvoproto.a lib/libnvo.a \
	$(UV_LIBS) $(NFTNL_LIBS) $(MNL_LIBS) $(PROTOBUF_C_LIBS) $(OVS_LIBS)
agent_nvo_agent_LDADD = $(NVO_AGENT_LDADD)
