# bench/automake.mk
