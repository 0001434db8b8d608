/* Unit tests: lib/tls-ctx.c's certificate name matching, which decides
 * whether an agent's certificate names the hypervisor its hello claims. */
#include <config.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/tls-ctx.h"
#include "util.h"

/* A self-signed certificate with subject CN 'cn' (NULL: none, or 'cn_len'
 * bytes if nonzero, which may include NUL) and, if 'san', the
 * subjectAltName extension value 'san' (e.g. "DNS:k1,DNS:k2").  Caller
 * frees with X509_free(). */
static X509 *
make_cert(const char *cn, size_t cn_len, const char *san)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    assert_non_null(key);
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               (const unsigned char *) "nvo", -1, -1, 0);
    if (cn) {
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   (const unsigned char *) cn,
                                   cn_len ? (int) cn_len : -1, -1, 0);
    }
    X509_set_issuer_name(x, name);
    if (san) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx,
                                                  NID_subject_alt_name, san);
        assert_non_null(ext);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    EVP_PKEY_free(key);
    return x;
}

static void
test_cn(void **state OVS_UNUSED)
{
    X509 *x = make_cert("k1", 0, NULL);
    assert_true(nvo_tls_cert_names(x, "k1"));
    assert_false(nvo_tls_cert_names(x, "k10"));     /* Longer name. */
    assert_false(nvo_tls_cert_names(x, "k"));       /* Prefix of the CN. */
    assert_false(nvo_tls_cert_names(x, "K1"));      /* Exact case. */
    assert_false(nvo_tls_cert_names(x, ""));
    assert_false(nvo_tls_cert_names(NULL, "k1"));
    char buf[64], serial[32];
    assert_string_equal(nvo_tls_cert_cn(x, buf, sizeof buf), "k1");
    assert_string_equal(nvo_tls_cert_serial(x, serial, sizeof serial), "2A");
    X509_free(x);
}

static void
test_ovs_pki_id(void **state OVS_UNUSED)
{
    /* ovs-pki without -u: "NAME id:UUID" in the CN and the SAN. */
    X509 *x = make_cert("k1 id:9a0e2d8c-2b1f-4a55-8f44-0c2d5a1e7b10", 0,
                        "DNS:k1 id:9a0e2d8c-2b1f-4a55-8f44-0c2d5a1e7b10");
    assert_true(nvo_tls_cert_names(x, "k1"));
    assert_false(nvo_tls_cert_names(x, "k1 id"));
    assert_false(nvo_tls_cert_names(x, "k"));
    X509_free(x);
    /* "NAME id:" with nothing after is not ovs-pki's form. */
    x = make_cert("k1 id:", 0, NULL);
    assert_false(nvo_tls_cert_names(x, "k1"));
    X509_free(x);
    /* Another separator is not either. */
    x = make_cert("k1 x:abc", 0, NULL);
    assert_false(nvo_tls_cert_names(x, "k1"));
    X509_free(x);
}

static void
test_san(void **state OVS_UNUSED)
{
    X509 *x = make_cert("ignored-cn", 0, "DNS:k2,DNS:k3,IP:192.0.2.1");
    assert_true(nvo_tls_cert_names(x, "k2"));
    assert_true(nvo_tls_cert_names(x, "k3"));
    assert_true(nvo_tls_cert_names(x, "ignored-cn"));
    assert_false(nvo_tls_cert_names(x, "192.0.2.1"));   /* Not a DNS SAN. */
    assert_false(nvo_tls_cert_names(x, "k4"));
    X509_free(x);
    /* No wildcards. */
    x = make_cert("*", 0, "DNS:*,DNS:k*");
    assert_false(nvo_tls_cert_names(x, "k1"));
    X509_free(x);
    /* No CN at all, no SAN: names nothing. */
    x = make_cert(NULL, 0, NULL);
    assert_false(nvo_tls_cert_names(x, "k1"));
    char buf[8];
    assert_string_equal(nvo_tls_cert_cn(x, buf, sizeof buf), "?");
    X509_free(x);
}

static void
test_embedded_nul(void **state OVS_UNUSED)
{
    /* "k1\0evil" must not pass for k1. */
    X509 *x = make_cert("k1\0evil", 7, NULL);
    assert_false(nvo_tls_cert_names(x, "k1"));
    X509_free(x);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cn),
        cmocka_unit_test(test_ovs_pki_id),
        cmocka_unit_test(test_san),
        cmocka_unit_test(test_embedded_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
