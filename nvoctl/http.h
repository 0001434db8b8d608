/* http.h - nvoctl's REST client on libcurl: one keep-alive handle, JSON in
 * and out, bearer token, HTTPS with an optional CA file. */
#ifndef NVOCTL_HTTP_H
#define NVOCTL_HTTP_H 1

#include <jansson.h>

struct nvoctl_http;

/* A client for the controller at 'url' ("http[s]://HOST[:PORT]", no
 * trailing path needed).  'token' (may be NULL) is sent as "Authorization:
 * Bearer"; 'ca_cert' (may be NULL) is the CA file for https.  Caller owns
 * the result (nvoctl_http_destroy()). */
struct nvoctl_http *nvoctl_http_create(const char *url, const char *token,
                                       const char *ca_cert, long timeout_s);

/* Accepts NULL. */
void nvoctl_http_destroy(struct nvoctl_http *);

/* The answer to one request. */
struct nvoctl_reply {
    long status;                /* HTTP status, 0 if none arrived. */
    json_t *json;               /* Parsed body if it was JSON, else NULL. */
    char *body;                 /* Raw body, NUL-terminated (owned). */
    char *error;                /* Transport error text, or NULL (owned). */
};

/* Sends 'method' 'path' (starting with "/", query included) with 'body'
 * (borrowed; NULL for none) and fills 'reply' (free with
 * nvoctl_reply_free()).  Returns 0 when an HTTP answer arrived (any
 * status), NVOCTL_EXIT_CONNECT otherwise (reply->error says why). */
int nvoctl_http_call(struct nvoctl_http *, const char *method,
                     const char *path, const json_t *body,
                     struct nvoctl_reply *reply);

/* Frees what 'reply' holds.  Accepts NULL. */
void nvoctl_reply_free(struct nvoctl_reply *reply);

/* The server's error message of a 4xx/5xx reply: "message (code)" from
 * {"error":{"code","message"}}, else the raw body.  Caller frees. */
char *nvoctl_reply_error_text(const struct nvoctl_reply *reply);

#endif /* nvoctl/http.h */
