# controller/rest.mk: the SQLite store and the northbound REST API.
controller_libnvoctl_a_SOURCES += controller/rest-stub.c controller/rest.h controller/store.h
