# deploy/automake.mk
