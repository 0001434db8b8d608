# controller/rest.mk: the SQLite store and the northbound REST API.
controller_libnvoctl_a_SOURCES += \
	controller/store.c controller/store.h \
	controller/store-sqlite.c controller/store-sqlite.h \
	controller/service.c controller/service.h \
	controller/validate.c controller/validate.h \
	controller/metrics.c controller/metrics.h \
	controller/rest.c controller/rest.h controller/rest-private.h \
	controller/rest-auth.c controller/rest-auth.h \
	controller/rest-framing.c controller/rest-framing.h \
	controller/rest-pipeline.c controller/rest-pipeline.h \
	controller/rest-body.c controller/rest-body.h \
	controller/rest-json.c \
	controller/rest-networks.c \
	controller/rest-hypervisors.c \
	controller/rest-ports.c
# The migrations embedded from schema/*.sql (rule in schema/automake.mk).
nodist_controller_libnvoctl_a_SOURCES = schema/migrations.c
