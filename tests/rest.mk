# tests/rest.mk
