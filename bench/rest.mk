# bench/rest.mk
