# controller/: nvo-controller.  Everything but main.c goes into
# controller/libnvoctl.a so unit tests can link it.  Other fragments
# (controller/rest.mk, controller/ovs.mk, controller/agents.mk) append to
# controller_libnvoctl_a_SOURCES.
noinst_LIBRARIES += controller/libnvoctl.a
controller_libnvoctl_a_SOURCES = \
	controller/ctl.c controller/ctl.h \
	controller/desired.c controller/desired.h \
	controller/model.c controller/model.h \
	controller/southbound.c controller/southbound.h \
	controller/store-ovsdb.c controller/store-ovsdb.h \
	controller/cluster.c controller/cluster.h
controller_libnvoctl_a_CPPFLAGS = $(AM_CPPFLAGS) $(UV_CFLAGS) $(H2O_CFLAGS) \
	$(JANSSON_CFLAGS) $(SQLITE_CFLAGS) $(PROTOBUF_C_CFLAGS)

bin_PROGRAMS += controller/nvo-controller
controller_nvo_controller_SOURCES = controller/main.c
controller_nvo_controller_CPPFLAGS = $(controller_libnvoctl_a_CPPFLAGS)
NVO_CONTROLLER_LDADD = controller/libnvoctl.a schema/libnvoidl.a \
	proto/libnvoproto.a lib/libnvo.a \
	$(H2O_LIBS) $(UV_LIBS) $(JANSSON_LIBS) $(SQLITE_LIBS) $(PROTOBUF_C_LIBS) \
	$(OVS_LIBS)
controller_nvo_controller_LDADD = $(NVO_CONTROLLER_LDADD)
