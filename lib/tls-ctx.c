#include <config.h>
#include "lib/tls-ctx.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/pki.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(tls_ctx);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(2, 10);

/* What identifies a file's content cheaply. */
struct file_sig {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    int error;                  /* stat() failed: errno. */
};

struct nvo_tls_ctx {
    struct nvo_pki pki;         /* Owned copies of the paths. */
    enum nvo_tls_role role;
    SSL_CTX *ctx;               /* Current; owned (one reference). */
    struct file_sig sigs[3];    /* Of the files 'ctx' or the last failed
                                 * attempt was built from. */
    uint64_t generation;
};

static void
file_sig_get(const char *path, struct file_sig *sig)
{
    struct stat st;
    memset(sig, 0, sizeof *sig);
    if (stat(path, &st)) {
        sig->error = errno;
        return;
    }
    sig->dev = st.st_dev;
    sig->ino = st.st_ino;
    sig->size = st.st_size;
    sig->mtime = st.st_mtim;
    sig->ctime = st.st_ctim;
}

static bool
file_sig_equal(const struct file_sig *a, const struct file_sig *b)
{
    return (a->error == b->error && a->dev == b->dev && a->ino == b->ino
            && a->size == b->size
            && a->mtime.tv_sec == b->mtime.tv_sec
            && a->mtime.tv_nsec == b->mtime.tv_nsec
            && a->ctime.tv_sec == b->ctime.tv_sec
            && a->ctime.tv_nsec == b->ctime.tv_nsec);
}

static void
sigs_get(const struct nvo_pki *pki, struct file_sig sigs[3])
{
    file_sig_get(pki->private_key, &sigs[0]);
    file_sig_get(pki->certificate, &sigs[1]);
    file_sig_get(pki->ca_cert, &sigs[2]);
}

/* OpenSSL's queued errors as one line (caller frees). */
static char *
ssl_errors(void)
{
    char buf[256] = "";
    unsigned long e = ERR_get_error();
    if (e) {
        ERR_error_string_n(e, buf, sizeof buf);
    }
    ERR_clear_error();
    return xstrdup(buf);
}

/* Builds an SSL_CTX from the files.  Returns it (caller owns) or NULL with
 * '*errmsg' (caller frees). */
static SSL_CTX *
build(const struct nvo_pki *pki, enum nvo_tls_role role, char **errmsg)
{
    const char *what;
    SSL_CTX *ctx = SSL_CTX_new(role == NVO_TLS_SERVER ? TLS_server_method()
                               : TLS_client_method());
    if (!ctx) {
        what = "cannot create a TLS context";
        goto error;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET
                             | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    /* A peer's certificate chain is buffered before it is verified. */
    SSL_CTX_set_max_cert_list(ctx, 32 << 10);
    if (SSL_CTX_use_certificate_chain_file(ctx, pki->certificate) != 1) {
        what = "--certificate: cannot load";
        goto error;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, pki->private_key,
                                    SSL_FILETYPE_PEM) != 1) {
        what = "--private-key: cannot load";
        goto error;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        what = "--private-key does not match --certificate";
        goto error;
    }
    if (SSL_CTX_load_verify_locations(ctx, pki->ca_cert, NULL) != 1) {
        what = "--ca-cert: cannot load";
        goto error;
    }
    if (role == NVO_TLS_SERVER) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(pki->ca_cert);
        if (names) {
            SSL_CTX_set_client_CA_list(ctx, names);
        }
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER
                            | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return ctx;

error:;
    char *detail = ssl_errors();
    *errmsg = xasprintf("%s%s%s", what, *detail ? ": " : "", detail);
    free(detail);
    SSL_CTX_free(ctx);
    return NULL;
}

struct nvo_tls_ctx *
nvo_tls_ctx_create(const struct nvo_pki *pki, enum nvo_tls_role role,
                   char **errmsg)
{
    struct file_sig sigs[3];
    sigs_get(pki, sigs);
    SSL_CTX *ctx = build(pki, role, errmsg);
    if (!ctx) {
        return NULL;
    }
    struct nvo_tls_ctx *tc = xzalloc(sizeof *tc);
    tc->pki.private_key = xstrdup(pki->private_key);
    tc->pki.certificate = xstrdup(pki->certificate);
    tc->pki.ca_cert = xstrdup(pki->ca_cert);
    tc->role = role;
    tc->ctx = ctx;
    memcpy(tc->sigs, sigs, sizeof sigs);
    return tc;
}

void
nvo_tls_ctx_destroy(struct nvo_tls_ctx *tc)
{
    if (tc) {
        SSL_CTX_free(tc->ctx);
        nvo_pki_destroy(&tc->pki);
        free(tc);
    }
}

bool
nvo_tls_ctx_refresh(struct nvo_tls_ctx *tc)
{
    struct file_sig sigs[3];
    sigs_get(&tc->pki, sigs);
    bool same = true;
    for (int i = 0; i < 3; i++) {
        same = same && file_sig_equal(&sigs[i], &tc->sigs[i]);
    }
    if (same) {
        return false;
    }
    /* Remember these files whether or not they load: a broken set is
     * retried only once they change again. */
    memcpy(tc->sigs, sigs, sizeof sigs);
    char *errmsg = NULL;
    SSL_CTX *ctx = build(&tc->pki, tc->role, &errmsg);
    if (!ctx) {
        VLOG_WARN_RL(&rl, "PKI files changed but cannot be used (keeping "
                     "the previous ones until they change again): %s",
                     errmsg);
        free(errmsg);
        return false;
    }
    SSL_CTX_free(tc->ctx);
    tc->ctx = ctx;
    tc->generation++;
    VLOG_INFO("PKI files changed: new connections use %s",
              tc->pki.certificate);
    return true;
}

SSL *
nvo_tls_ctx_new_ssl(struct nvo_tls_ctx *tc)
{
    return SSL_new(tc->ctx);
}

uint64_t
nvo_tls_ctx_generation(const struct nvo_tls_ctx *tc)
{
    return tc->generation;
}

/* True if 'str' is 'name', or 'name' followed by " id:". */
static bool
asn1_names(const ASN1_STRING *str, const char *name)
{
    const unsigned char *data = ASN1_STRING_get0_data(str);
    size_t len = ASN1_STRING_length(str);
    size_t n = strlen(name);
    if (!data || len < n || memcmp(data, name, n)
        || memchr(data, '\0', len)) {
        return false;
    }
    return len == n || (len > n + 4 && !memcmp(data + n, " id:", 4));
}

bool
nvo_tls_cert_names(X509 *cert, const char *name)
{
    if (!cert || !*name) {
        return false;
    }
    X509_NAME *subject = X509_get_subject_name(cert);
    for (int i = -1;
         (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
        X509_NAME_ENTRY *e = X509_NAME_get_entry(subject, i);
        if (asn1_names(X509_NAME_ENTRY_get_data(e), name)) {
            return true;
        }
    }
    bool found = false;
    GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL,
                                           NULL);
    for (int i = 0; sans && !found && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
        found = gn->type == GEN_DNS && asn1_names(gn->d.dNSName, name);
    }
    GENERAL_NAMES_free(sans);
    return found;
}

const char *
nvo_tls_cert_serial(X509 *cert, char *buf, size_t size)
{
    snprintf(buf, size, "?");
    BIGNUM *bn = cert ? ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert),
                                           NULL) : NULL;
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    if (hex) {
        snprintf(buf, size, "%s", hex);
    }
    OPENSSL_free(hex);
    BN_free(bn);
    return buf;
}

const char *
nvo_tls_cert_cn(X509 *cert, char *buf, size_t size)
{
    snprintf(buf, size, "?");
    if (cert) {
        X509_NAME *subject = X509_get_subject_name(cert);
        int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
        if (i >= 0) {
            const ASN1_STRING *s
                = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
            int len = ASN1_STRING_length(s);
            const unsigned char *d = ASN1_STRING_get0_data(s);
            size_t j = 0;
            for (int k = 0; k < len && j + 1 < size; k++) {
                buf[j++] = d[k] >= 0x20 && d[k] < 0x7f ? d[k] : '?';
            }
            buf[j] = '\0';
        }
    }
    return buf;
}
