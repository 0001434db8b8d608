/* rest-auth.h - bearer tokens for the REST API (--rest-token-file).
 *
 * The token file has one token per line, "TOKEN ROLE", ROLE "admin"
 * (every request) or "reader" (GET and HEAD only); blank lines and lines
 * starting with '#' are ignored.  A token is 16..256 printable ASCII
 * characters without spaces (what fits an Authorization header).
 *
 * Only SHA-256 digests of the tokens are kept in memory; a presented token
 * is hashed and compared with every stored digest with CRYPTO_memcmp(), so
 * neither the comparison nor the number of entries compared depends on
 * where a guess first differs.  Tokens never appear in messages.
 *
 * [Owner: REST (secrest).] */
#ifndef NVO_REST_AUTH_H
#define NVO_REST_AUTH_H 1

#include <stdbool.h>
#include <stddef.h>

enum nvo_rest_role {
    NVO_ROLE_NONE,              /* No valid token. */
    NVO_ROLE_READER,            /* GET and HEAD. */
    NVO_ROLE_ADMIN,             /* Everything. */
};

#define NVO_REST_TOKEN_MIN 16
#define NVO_REST_TOKEN_MAX 256
/* More lines than this in a token file is an error. */
#define NVO_REST_TOKENS_MAX 4096

struct nvo_rest_auth;

/* Reads the token file 'file'.  On success returns 0 and sets '*authp' (the
 * caller owns it; free with nvo_rest_auth_destroy()).  On failure returns a
 * negative errno, leaves '*authp' NULL and sets '*errmsg' (caller frees) to
 * a message naming the file and line, never a token. */
int nvo_rest_auth_load(const char *file, struct nvo_rest_auth **authp,
                       char **errmsg);

/* Parses the token file's text 's' ('name' for messages); as above. */
int nvo_rest_auth_parse(const char *s, const char *name,
                        struct nvo_rest_auth **authp, char **errmsg);

/* Number of tokens in 'auth'. */
size_t nvo_rest_auth_count(const struct nvo_rest_auth *auth);

/* The role of the request whose Authorization header value is 'hdr' ('len'
 * bytes, not NUL-terminated; NULL if the header is absent):
 * NVO_ROLE_NONE unless it is "Bearer TOKEN" with a TOKEN of 'auth'. */
enum nvo_rest_role nvo_rest_auth_check(const struct nvo_rest_auth *auth,
                                       const char *hdr, size_t len);

/* True if 'role' may make a request with 'method' ('len' bytes). */
bool nvo_rest_role_allows(enum nvo_rest_role role, const char *method,
                          size_t len);

/* Frees 'auth' (wiping its digests).  Accepts NULL. */
void nvo_rest_auth_destroy(struct nvo_rest_auth *auth);

#endif /* controller/rest-auth.h */
