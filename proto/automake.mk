# proto/: controller <-> agent protocol, compiled by protoc-c at build time.
noinst_LIBRARIES += proto/libnvoproto.a
nodist_proto_libnvoproto_a_SOURCES = proto/nvo.pb-c.c proto/nvo.pb-c.h
proto_libnvoproto_a_CPPFLAGS = $(AM_CPPFLAGS) $(PROTOBUF_C_CFLAGS)
proto_libnvoproto_a_CFLAGS = $(AM_CFLAGS) -Wno-missing-prototypes
BUILT_SOURCES += proto/nvo.pb-c.c proto/nvo.pb-c.h
CLEANFILES += proto/nvo.pb-c.c proto/nvo.pb-c.h
EXTRA_DIST += proto/nvo.proto
proto/nvo.pb-c.c proto/nvo.pb-c.h: proto/nvo.proto
	$(AM_V_GEN)$(MKDIR_P) proto && \
	$(PROTOC_C) --proto_path=$(srcdir)/proto --c_out=proto $(srcdir)/proto/nvo.proto
# Message encode/decode/validation; in this library (not lib/libnvo.a) so
# it links after the generated code that it calls, whatever the LDADD order.
proto_libnvoproto_a_SOURCES = lib/proto-msg.c lib/proto-msg.h
