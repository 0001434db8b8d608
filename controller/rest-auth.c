/* rest-auth.c - bearer tokens for the REST API; see rest-auth.h. */
#include <config.h>
#include "controller/rest-auth.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

/* Largest token file read. */
#define NVO_REST_AUTH_FILE_MAX (1024 * 1024)

struct nvo_rest_token {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    enum nvo_rest_role role;
};

struct nvo_rest_auth {
    struct nvo_rest_token *tokens;
    size_t n, cap;
};

static bool
token_char_ok(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

static void
auth_add(struct nvo_rest_auth *a, const char *token, size_t len,
         enum nvo_rest_role role)
{
    if (a->n >= a->cap) {
        a->tokens = x2nrealloc(a->tokens, &a->cap, sizeof *a->tokens);
    }
    struct nvo_rest_token *t = &a->tokens[a->n++];
    SHA256((const unsigned char *) token, len, t->digest);
    t->role = role;
}

int
nvo_rest_auth_parse(const char *s, const char *name,
                    struct nvo_rest_auth **authp, char **errmsg)
{
    struct nvo_rest_auth *a = xzalloc(sizeof *a);
    int lineno = 0;

    *authp = NULL;
    *errmsg = NULL;
    while (*s) {
        size_t linelen = strcspn(s, "\n");
        const char *line = s, *end = s + linelen;
        s = *end ? end + 1 : end;
        lineno++;

        const char *p = line;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) {
            p++;
        }
        if (p == end || *p == '#') {
            continue;
        }
        const char *tok = p;
        while (p < end && token_char_ok(*p)) {
            p++;
        }
        size_t toklen = p - tok;
        if (p < end && *p != ' ' && *p != '\t') {
            *errmsg = xasprintf("%s:%d: the token has a character that is "
                                "not printable ASCII", name, lineno);
            goto error;
        }
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }
        const char *role = p;
        while (p < end && token_char_ok(*p)) {
            p++;
        }
        size_t rolelen = p - role;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) {
            p++;
        }
        if (!rolelen || p != end) {
            *errmsg = xasprintf("%s:%d: expected \"TOKEN ROLE\" (ROLE admin "
                                "or reader)", name, lineno);
            goto error;
        }
        if (toklen < NVO_REST_TOKEN_MIN || toklen > NVO_REST_TOKEN_MAX) {
            *errmsg = xasprintf("%s:%d: a token must be %d to %d "
                                "characters (this one has %"PRIuSIZE")",
                                name, lineno, NVO_REST_TOKEN_MIN,
                                NVO_REST_TOKEN_MAX, toklen);
            goto error;
        }
        enum nvo_rest_role r;
        if (rolelen == 5 && !memcmp(role, "admin", 5)) {
            r = NVO_ROLE_ADMIN;
        } else if (rolelen == 6 && !memcmp(role, "reader", 6)) {
            r = NVO_ROLE_READER;
        } else {
            *errmsg = xasprintf("%s:%d: unknown role \"%.*s\" (admin or "
                                "reader)", name, lineno,
                                (int) MIN(rolelen, 32), role);
            goto error;
        }
        if (a->n >= NVO_REST_TOKENS_MAX) {
            *errmsg = xasprintf("%s:%d: more than %d tokens", name, lineno,
                                NVO_REST_TOKENS_MAX);
            goto error;
        }
        auth_add(a, tok, toklen, r);
    }
    if (!a->n) {
        *errmsg = xasprintf("%s: no tokens (every request but GET /healthz "
                            "would be refused)", name);
        goto error;
    }
    *authp = a;
    return 0;

error:
    nvo_rest_auth_destroy(a);
    return -EINVAL;
}

int
nvo_rest_auth_load(const char *file, struct nvo_rest_auth **authp,
                   char **errmsg)
{
    *authp = NULL;
    *errmsg = NULL;

    FILE *f = fopen(file, "r");
    if (!f) {
        int error = errno;
        *errmsg = xasprintf("%s: cannot open: %s", file, strerror(error));
        return -error;
    }
    struct ds s = DS_EMPTY_INITIALIZER;
    char buf[4096];
    size_t n;
    int error = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (s.length + n > NVO_REST_AUTH_FILE_MAX) {
            *errmsg = xasprintf("%s: larger than %d bytes", file,
                                NVO_REST_AUTH_FILE_MAX);
            error = -EFBIG;
            break;
        }
        ds_put_buffer(&s, buf, n);
    }
    if (!error && ferror(f)) {
        error = -EIO;
        *errmsg = xasprintf("%s: read error", file);
    }
    fclose(f);
    if (!error) {
        if (memchr(ds_cstr(&s), '\0', s.length)) {
            error = -EINVAL;
            *errmsg = xasprintf("%s: contains a NUL byte", file);
        } else {
            error = nvo_rest_auth_parse(ds_cstr(&s), file, authp, errmsg);
        }
    }
    /* The text held tokens: wipe it. */
    if (s.string) {
        OPENSSL_cleanse(s.string, s.length);
    }
    OPENSSL_cleanse(buf, sizeof buf);
    ds_destroy(&s);
    return error;
}

size_t
nvo_rest_auth_count(const struct nvo_rest_auth *a)
{
    return a ? a->n : 0;
}

enum nvo_rest_role
nvo_rest_auth_check(const struct nvo_rest_auth *a, const char *hdr,
                    size_t len)
{
    static const char bearer[] = "Bearer ";
    const size_t blen = sizeof bearer - 1;

    if (!a || !hdr || len <= blen || strncasecmp(hdr, bearer, blen)) {
        return NVO_ROLE_NONE;
    }
    const char *tok = hdr + blen;
    size_t toklen = len - blen;
    while (toklen && *tok == ' ') {
        tok++;
        toklen--;
    }
    while (toklen && (tok[toklen - 1] == ' ' || tok[toklen - 1] == '\t')) {
        toklen--;
    }
    if (toklen < NVO_REST_TOKEN_MIN || toklen > NVO_REST_TOKEN_MAX) {
        return NVO_ROLE_NONE;
    }

    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *) tok, toklen, digest);
    /* Compare with every entry, without branching on where it differs. */
    enum nvo_rest_role role = NVO_ROLE_NONE;
    for (size_t i = 0; i < a->n; i++) {
        int differs = CRYPTO_memcmp(digest, a->tokens[i].digest,
                                    sizeof digest);
        role = differs ? role : a->tokens[i].role;
    }
    OPENSSL_cleanse(digest, sizeof digest);
    return role;
}

bool
nvo_rest_role_allows(enum nvo_rest_role role, const char *method, size_t len)
{
    switch (role) {
    case NVO_ROLE_ADMIN:
        return true;
    case NVO_ROLE_READER:
        return (len == 3 && !memcmp(method, "GET", 3))
               || (len == 4 && !memcmp(method, "HEAD", 4));
    case NVO_ROLE_NONE:
    default:
        return false;
    }
}

void
nvo_rest_auth_destroy(struct nvo_rest_auth *a)
{
    if (!a) {
        return;
    }
    if (a->tokens) {
        OPENSSL_cleanse(a->tokens, a->cap * sizeof *a->tokens);
    }
    free(a->tokens);
    free(a);
}
