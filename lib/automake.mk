# lib/: code both daemons share.
noinst_LIBRARIES += lib/libnvo.a
lib_libnvo_a_CPPFLAGS = $(AM_CPPFLAGS) $(UV_CFLAGS)
lib_libnvo_a_SOURCES = \
	lib/addr.c lib/addr.h \
	lib/daemon.c lib/daemon.h \
	lib/errors.c lib/errors.h \
	lib/strvec.c lib/strvec.h \
	lib/valid.c lib/valid.h
# agent protocol framing (agent issue)
lib_libnvo_a_SOURCES += lib/frame.c lib/frame.h
# PKI options of both daemons (security issue)
lib_libnvo_a_SOURCES += lib/pki.c lib/pki.h
lib_libnvo_a_SOURCES += lib/tls-ctx.c lib/tls-ctx.h \
	lib/channel.c lib/channel.h
# cross-thread wake-ups of a libuv loop without uv_async_t's spin
lib_libnvo_a_SOURCES += lib/uv-wake.c lib/uv-wake.h
# libopenvswitch.a as the daemons link it: a copy with the JSON functions
# jansson also exports renamed (lib/ovs-json.syms; the declarations are
# renamed to match by lib/ovs-json/openvswitch/json.h), so that the
# controller's REST code gets jansson's and its OVSDB code OVS's.
NVO_OVS_ARCHIVE = lib/libopenvswitch-nvo.a
$(NVO_OVS_ARCHIVE): $(OVS_BUILD)/lib/.libs/libopenvswitch.a \
		$(srcdir)/lib/ovs-json.syms
	$(AM_V_GEN)$(OBJCOPY) --redefine-syms=$(srcdir)/lib/ovs-json.syms \
		$(OVS_BUILD)/lib/.libs/libopenvswitch.a $@.tmp && mv $@.tmp $@
BUILT_SOURCES += $(NVO_OVS_ARCHIVE)
CLEANFILES += $(NVO_OVS_ARCHIVE)
# BUILT_SOURCES covers `make`, `make check`; these cover building just the
# daemons (`make controller/nvo-controller agent/nvo-agent`, as the TSan
# build does after `make clean`).
EXTRA_controller_nvo_controller_DEPENDENCIES = $(NVO_OVS_ARCHIVE)
EXTRA_agent_nvo_agent_DEPENDENCIES = $(NVO_OVS_ARCHIVE)
EXTRA_DIST += lib/ovs-json.syms lib/ovs-json/openvswitch/json.h
# Objects built before the rename existed call the old names: rebuild them
# once the renaming header is new.
$(schema_libnvoidl_a_OBJECTS) $(controller_libnvoctl_a_OBJECTS) \
$(lib_libnvo_a_OBJECTS) $(agent_libnvoagent_a_OBJECTS): \
	$(srcdir)/lib/ovs-json/openvswitch/json.h
