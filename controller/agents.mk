# controller/agents.mk: the controller side of the agent protocol.
controller_libnvoctl_a_SOURCES += \
	controller/agent-proto.c controller/agent-proto.h \
	controller/agent-server.c controller/agent-server.h \
	controller/agent-session.c controller/agent-session.h
