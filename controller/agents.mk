# controller/agents.mk: the controller side of the agent protocol.
controller_libnvoctl_a_SOURCES += controller/agent-server.c controller/agent-server.h
