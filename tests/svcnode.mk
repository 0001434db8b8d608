# tests/svcnode.mk
