/* tls-ctx.h - OpenSSL contexts for the agent channel (lib/channel.c),
 * built from the PKI files (lib/pki.h) and re-read when they change.
 *
 * Both sides verify the peer: the server (nvo-controller) requires a
 * client certificate signed by --ca-cert, the client (nvo-agent) verifies
 * the server's certificate against its --ca-cert.  TLS 1.2 or later, no
 * renegotiation, no session resumption (every connection proves its
 * certificate, and sees the files as they are now).
 *
 * Rotation: nvo_tls_ctx_refresh() stat()s the three files; when any
 * changed it builds a new context from them and, if that works (key
 * matches certificate, CA readable), switches to it and bumps the
 * generation.  A half-written rotation (new key, old certificate) is
 * logged and the old context kept until the files change again.
 * Connections made earlier keep their context (OpenSSL refcounts it). */
#ifndef NVO_TLS_CTX_H
#define NVO_TLS_CTX_H 1

#include <stdbool.h>
#include <stdint.h>
#include <openssl/ssl.h>

struct nvo_pki;
struct nvo_tls_ctx;

enum nvo_tls_role {
    NVO_TLS_SERVER,             /* Accepts; requires client certificates. */
    NVO_TLS_CLIENT,             /* Connects; verifies the server. */
};

/* Builds a context from 'pki' (copied; must be enabled).  Returns it
 * (caller owns; nvo_tls_ctx_destroy()) or NULL with '*errmsg' set (caller
 * frees). */
struct nvo_tls_ctx *nvo_tls_ctx_create(const struct nvo_pki *,
                                       enum nvo_tls_role, char **errmsg);

/* Frees 'tc'.  Accepts NULL. */
void nvo_tls_ctx_destroy(struct nvo_tls_ctx *tc);

/* Re-reads the files if they changed on disk.  Returns true if it switched
 * to a new context. */
bool nvo_tls_ctx_refresh(struct nvo_tls_ctx *tc);

/* A new SSL object of the current context (caller frees with SSL_free()),
 * or NULL on allocation failure. */
SSL *nvo_tls_ctx_new_ssl(struct nvo_tls_ctx *tc);

/* Increases each time nvo_tls_ctx_refresh() switches contexts. */
uint64_t nvo_tls_ctx_generation(const struct nvo_tls_ctx *tc);

/* True if certificate 'cert' names 'name': its subject CN, or a DNS
 * subjectAltName, is 'name' exactly, or 'name' followed by " id:..." (what
 * ovs-pki writes without -u).  Never wildcards. */
bool nvo_tls_cert_names(X509 *cert, const char *name);

/* The subject CN of 'cert' for logs ("?" if none), in 'buf'. */
const char *nvo_tls_cert_cn(X509 *cert, char *buf, size_t size);

/* The serial number of 'cert' in hex for logs ("?" if none), in 'buf'. */
const char *nvo_tls_cert_serial(X509 *cert, char *buf, size_t size);

#endif /* lib/tls-ctx.h */
