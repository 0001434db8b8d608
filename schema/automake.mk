# schema/automake.mk: the two store schemas.
#
# SQLite (the embedded default): numbered migrations
# (schema/NNN-description.sql), embedded into nvo-controller at build time
# by schema/gen-migrations.sh and applied by controller/store-sqlite.c at
# start.
# Add a migration: a new schema/NNN-*.sql file listed in NVO_MIGRATIONS.
NVO_MIGRATIONS = schema/001-initial.sql schema/002-dataplane.sql
EXTRA_DIST += $(NVO_MIGRATIONS) schema/gen-migrations.sh
schema/migrations.c: $(NVO_MIGRATIONS) schema/gen-migrations.sh
	$(AM_V_GEN)$(MKDIR_P) schema && \
	sh $(srcdir)/schema/gen-migrations.sh \
		$(addprefix $(srcdir)/,$(NVO_MIGRATIONS)) > $@.tmp && mv $@.tmp $@
BUILT_SOURCES += schema/migrations.c
CLEANFILES += schema/migrations.c

# Raft-clustered OVSDB (cluster mode, doc/cluster.md): schema/nvo.ovsschema,
# the schema ovsdb-tool create-cluster is given.  Its C IDL (nvorec_*,
# schema/nvo-idl.[ch]) is generated into the build tree the way Open
# vSwitch generates lib/vswitch-idl.[ch]: ovsdb-idlc from the OVS source
# tree annotates the schema with schema/nvo-idl.ann, then prints the header
# and the source.
OVSDB_IDLC = PYTHONPATH="$(OVS_SOURCE)/python" PYTHONDONTWRITEBYTECODE=yes \
	$(PYTHON3) $(OVS_SOURCE)/ovsdb/ovsdb-idlc.in
NVO_IDL_BUILT = schema/nvo-idl.ovsidl schema/nvo-idl.h schema/nvo-idl.c
EXTRA_DIST += schema/nvo-idl.ann
schema/nvo-idl.ovsidl: schema/nvo.ovsschema schema/nvo-idl.ann
	$(AM_V_GEN)$(MKDIR_P) schema && \
	$(OVSDB_IDLC) annotate $(srcdir)/schema/nvo.ovsschema \
		$(srcdir)/schema/nvo-idl.ann > $@.tmp && mv $@.tmp $@
schema/nvo-idl.h: schema/nvo-idl.ovsidl
	$(AM_V_GEN)$(OVSDB_IDLC) c-idl-header schema/nvo-idl.ovsidl \
		> $@.tmp && mv $@.tmp $@
schema/nvo-idl.c: schema/nvo-idl.ovsidl
	$(AM_V_GEN)$(OVSDB_IDLC) c-idl-source schema/nvo-idl.ovsidl \
		> $@.tmp && mv $@.tmp $@
BUILT_SOURCES += $(NVO_IDL_BUILT)
CLEANFILES += $(NVO_IDL_BUILT)

# The generated IDL, in a library of its own: generated code is held to
# OVS's conventions, not to nvo's warning flags.
noinst_LIBRARIES += schema/libnvoidl.a
nodist_schema_libnvoidl_a_SOURCES = schema/nvo-idl.c schema/nvo-idl.h
schema_libnvoidl_a_CFLAGS = -std=gnu11 -Wno-unused-parameter $(SANITIZER_CFLAGS)

# The schema installs where ovsdb-tool create-cluster finds it.
nvoschemadir = $(datadir)/nvo
dist_nvoschema_DATA = schema/nvo.ovsschema
