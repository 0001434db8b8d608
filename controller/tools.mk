# controller/tools.mk: the operator endpoints (status, OpenAPI document,
# topology page, audit, trace) served beside the REST API.
controller_libnvoctl_a_SOURCES += \
	controller/rest-tools.c controller/rest-embed.h \
	controller/rest-status.c \
	controller/rest-audit.c \
	controller/rest-trace.c \
	controller/ovs-audit.c controller/ovs-audit.h \
	controller/agent-audit.c controller/agent-audit.h

# Documents served from the binary (controller/gen-embed.sh): the OpenAPI
# description of the REST API (GET /v1/openapi.json) and the topology page
# (GET /).
NVO_EMBEDDED = controller/embed-openapi.c controller/embed-topology.c
nodist_controller_libnvoctl_a_SOURCES += $(NVO_EMBEDDED)
BUILT_SOURCES += $(NVO_EMBEDDED)
CLEANFILES += $(NVO_EMBEDDED)
EXTRA_DIST += controller/gen-embed.sh doc/openapi.json controller/topology.html
controller/embed-openapi.c: doc/openapi.json controller/gen-embed.sh
	$(AM_V_GEN)sh $(srcdir)/controller/gen-embed.sh nvo_openapi_json \
		$(srcdir)/doc/openapi.json > $@.tmp && mv $@.tmp $@
controller/embed-topology.c: controller/topology.html controller/gen-embed.sh
	$(AM_V_GEN)sh $(srcdir)/controller/gen-embed.sh nvo_topology_html \
		$(srcdir)/controller/topology.html > $@.tmp && mv $@.tmp $@
