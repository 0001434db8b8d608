# nvoctl/: the operator's command line (REST only: libcurl + jansson; no
# libopenvswitch).  args.c, table.c and http.c go into a library so the unit
# tests (tests/nvoctl.mk) link them.
NVOCTL_CPPFLAGS = -D_GNU_SOURCE -I$(top_srcdir) -DNVO_VERSION=\"$(PACKAGE_VERSION)\" \
	$(JANSSON_CFLAGS) $(CURL_CFLAGS)
noinst_LIBRARIES += nvoctl/libnvoctl-cli.a
nvoctl_libnvoctl_cli_a_SOURCES = \
	nvoctl/args.c nvoctl/args.h \
	nvoctl/http.c nvoctl/http.h \
	nvoctl/table.c nvoctl/table.h
nvoctl_libnvoctl_cli_a_CPPFLAGS = $(NVOCTL_CPPFLAGS)

bin_PROGRAMS += nvoctl/nvoctl
nvoctl_nvoctl_SOURCES = nvoctl/main.c
nvoctl_nvoctl_CPPFLAGS = $(NVOCTL_CPPFLAGS)
nvoctl_nvoctl_LDADD = nvoctl/libnvoctl-cli.a $(CURL_LIBS) $(JANSSON_LIBS)

bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = nvoctl/completion/nvoctl
