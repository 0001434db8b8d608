# lib/: code both daemons share.
noinst_LIBRARIES += lib/libnvo.a
lib_libnvo_a_CPPFLAGS = $(AM_CPPFLAGS) $(UV_CFLAGS)
lib_libnvo_a_SOURCES = \
	lib/addr.c lib/addr.h \
	lib/daemon.c lib/daemon.h \
	lib/errors.c lib/errors.h \
	lib/valid.c lib/valid.h
# agent protocol framing (agent issue)
lib_libnvo_a_SOURCES += lib/frame.c lib/frame.h
# PKI options of both daemons (security issue)
lib_libnvo_a_SOURCES += lib/pki.c lib/pki.h
lib_libnvo_a_SOURCES += lib/tls-ctx.c lib/tls-ctx.h \
	lib/channel.c lib/channel.h
