#include <config.h>
#include "lib/pki.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "stream-ssl.h"
#include "util.h"

void
nvo_pki_handle_option(struct nvo_pki *pki, int opt, const char *arg)
{
    char **slot = (opt == NVO_OPT_PRIVATE_KEY ? &pki->private_key
                   : opt == NVO_OPT_CERTIFICATE ? &pki->certificate
                   : &pki->ca_cert);
    free(*slot);
    *slot = xstrdup(arg);
}

bool
nvo_pki_enabled(const struct nvo_pki *pki)
{
    return pki->private_key && pki->certificate && pki->ca_cert;
}

/* Returns OpenSSL's latest error as text (caller frees), "" if none. */
static char *
ssl_error(void)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e) {
        ERR_error_string_n(e, buf, sizeof buf);
    }
    ERR_clear_error();
    return xstrdup(buf);
}

/* Reads the first PEM private key (if 'key') or certificate (otherwise)
 * from 'file', given as 'option'.  Returns it (caller frees with
 * EVP_PKEY_free() or X509_free()) or NULL with '*errmsg' set (caller
 * frees) and '*errp' a negative errno. */
static void *
load_pem(const char *option, const char *file, bool key, char **errmsg,
         int *errp)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        *errp = -errno;
        *errmsg = xasprintf("%s=%s: %s", option, file, strerror(errno));
        return NULL;
    }
    void *obj = (key ? (void *) PEM_read_PrivateKey(f, NULL, NULL, NULL)
                 : (void *) PEM_read_X509(f, NULL, NULL, NULL));
    fclose(f);
    if (!obj) {
        char *detail = ssl_error();
        *errp = -EINVAL;
        *errmsg = xasprintf("%s=%s: %s%s%s", option, file,
                            key ? "not a PEM private key (or encrypted)"
                                : "not a PEM certificate",
                            *detail ? ": " : "", detail);
        free(detail);
    }
    return obj;
}

int
nvo_pki_check(const struct nvo_pki *pki, char **errmsg)
{
    int n = !!pki->private_key + !!pki->certificate + !!pki->ca_cert;
    if (!n) {
        return 0;
    } else if (n < 3) {
        *errmsg = xstrdup("--private-key, --certificate and --ca-cert go "
                          "together: give all three (TLS) or none (plain)");
        return -EINVAL;
    }

    int error = 0;
    X509 *cert = NULL, *ca = NULL;
    EVP_PKEY *key = load_pem("--private-key", pki->private_key, true,
                             errmsg, &error);
    if (key) {
        cert = load_pem("--certificate", pki->certificate, false, errmsg,
                        &error);
    }
    if (cert && X509_check_private_key(cert, key) != 1) {
        char *detail = ssl_error();
        *errmsg = xasprintf("--certificate=%s: does not match --private-key"
                            ": %s", pki->certificate, detail);
        free(detail);
        error = -EINVAL;
    }
    if (!error) {
        ca = load_pem("--ca-cert", pki->ca_cert, false, errmsg, &error);
    }
    EVP_PKEY_free(key);
    X509_free(cert);
    X509_free(ca);
    ERR_clear_error();
    return error;
}

void
nvo_pki_configure_ovs(const struct nvo_pki *pki)
{
    if (nvo_pki_enabled(pki)) {
        stream_ssl_set_key_and_cert(pki->private_key, pki->certificate);
        stream_ssl_set_ca_cert_file(pki->ca_cert, false);
    }
}

void
nvo_pki_usage(FILE *stream)
{
    fputs("\
PKI (all three for TLS, none for plain; PEM files as ovs-pki makes them,\n\
re-read when they change on disk):\n\
  --private-key=FILE    this daemon's private key\n\
  --certificate=FILE    this daemon's certificate, signed by the CA\n\
  --ca-cert=FILE        the CA certificate peers must be signed by\n",
          stream);
}

void
nvo_pki_destroy(struct nvo_pki *pki)
{
    if (pki) {
        free(pki->private_key);
        free(pki->certificate);
        free(pki->ca_cert);
        memset(pki, 0, sizeof *pki);
    }
}
