# controller/tools.mk: the operator endpoints (status, OpenAPI document,
# topology page, audit, trace) served beside the REST API.
controller_libnvoctl_a_SOURCES += \
	controller/rest-tools.c \
	controller/rest-status.c
