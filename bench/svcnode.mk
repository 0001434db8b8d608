# bench/svcnode.mk
