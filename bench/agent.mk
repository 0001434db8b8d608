# bench/agent.mk: the agent's netlink FDB programming and snapshot encoding.
NVO_BENCHES += bench/bench-agent.sh
EXTRA_DIST += bench/bench-agent.sh
noinst_PROGRAMS += bench/bench-agent
bench_bench_agent_SOURCES = bench/bench-agent.c
bench_bench_agent_CPPFLAGS = $(AM_CPPFLAGS) $(UV_CFLAGS) $(PROTOBUF_C_CFLAGS) \
	$(MNL_CFLAGS)
bench_bench_agent_LDADD = agent/libnvoagent.a controller/libnvoctl.a \
	proto/libnvoproto.a lib/libnvo.a \
	$(H2O_LIBS) $(UV_LIBS) $(JANSSON_LIBS) $(SQLITE_LIBS) $(NFTNL_LIBS) $(MNL_LIBS) \
	$(PROTOBUF_C_LIBS) $(OVS_LIBS)
