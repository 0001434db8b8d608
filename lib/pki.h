/* pki.h - the PKI options both daemons take, with Open vSwitch's names:
 * --private-key=FILE --certificate=FILE --ca-cert=FILE (PEM files, as
 * `ovs-pki` makes them).  Given all three, every channel that supports it
 * runs mutually authenticated TLS; given none, the daemon runs plain and
 * says so once at start; anything in between is a usage error.
 *
 * Use in a daemon's option parser:
 *
 *   struct option long_options[] = { ..., NVO_PKI_LONG_OPTIONS, ... };
 *   ...
 *   NVO_PKI_OPTION_CASES: nvo_pki_handle_option(&o->pki, c, optarg); break;
 *   ...
 *   if (nvo_pki_check(&o->pki, &errmsg)) { print errmsg; exit(1); }
 *
 * and nvo_pki_usage() inside --help.  The files are only checked here; the
 * users (lib/tls.c for the agent channel, libopenvswitch's stream-ssl for
 * OVSDB and OpenFlow) read them again on each new connection, so files
 * replaced on disk are picked up without a restart. */
#ifndef NVO_PKI_H
#define NVO_PKI_H 1

#include <stdbool.h>
#include <stdio.h>

struct nvo_pki {
    char *private_key;          /* Owned; NULL if not given. */
    char *certificate;          /* Owned; NULL if not given. */
    char *ca_cert;              /* Owned; NULL if not given. */
};

/* getopt_long() values, above any daemon's own option values. */
enum {
    NVO_OPT_PRIVATE_KEY = 0x1000,
    NVO_OPT_CERTIFICATE,
    NVO_OPT_CA_CERT,
};

#define NVO_PKI_LONG_OPTIONS                                              \
    {"private-key", required_argument, NULL, NVO_OPT_PRIVATE_KEY},        \
    {"certificate", required_argument, NULL, NVO_OPT_CERTIFICATE},        \
    {"ca-cert", required_argument, NULL, NVO_OPT_CA_CERT}

#define NVO_PKI_OPTION_CASES \
    case NVO_OPT_PRIVATE_KEY: case NVO_OPT_CERTIFICATE: case NVO_OPT_CA_CERT

/* Records option 'opt' (one of NVO_OPT_*) with argument 'arg' (copied). */
void nvo_pki_handle_option(struct nvo_pki *, int opt, const char *arg);

/* True if all three files were given (TLS mode). */
bool nvo_pki_enabled(const struct nvo_pki *);

/* After option parsing: succeeds (0) with none or all three options; with
 * all three, also loads them with OpenSSL and checks that the key is PEM
 * and matches the certificate, and that the CA file holds a certificate.
 * Otherwise returns a negative errno and sets '*errmsg' (caller frees) to
 * a message naming the file and the problem. */
int nvo_pki_check(const struct nvo_pki *, char **errmsg);

/* Hands the files to libopenvswitch's stream-ssl, so that ssl: OVSDB and
 * OpenFlow remotes (and pssl: listeners) use them.  No-op unless
 * nvo_pki_enabled().  Call before starting threads that open streams. */
void nvo_pki_configure_ovs(const struct nvo_pki *);

/* Prints the options' --help lines to 'stream'. */
void nvo_pki_usage(FILE *stream);

/* Frees what 'pki' holds (not 'pki').  Accepts NULL. */
void nvo_pki_destroy(struct nvo_pki *);

#endif /* lib/pki.h */
