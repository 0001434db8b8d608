# agent/automake.mk
