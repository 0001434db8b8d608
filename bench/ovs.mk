# bench/ovs.mk
