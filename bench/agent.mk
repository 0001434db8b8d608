# bench/agent.mk
