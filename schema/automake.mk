# schema/automake.mk: the SQLite schema as numbered migrations
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
