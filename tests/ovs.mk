# tests/ovs.mk
