# schema/automake.mk
