/* http.c - nvoctl's REST client on libcurl. */
#include "nvoctl/http.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvoctl/args.h"

struct nvoctl_http {
    CURL *curl;
    char *base;                 /* URL without a trailing '/'. */
    char *auth;                 /* "Authorization: Bearer T", or NULL. */
    char *ca_cert;
    long timeout_s;
    char errbuf[CURL_ERROR_SIZE];
};

/* Largest answer accepted (an audit of a large deployment is big). */
#define NVOCTL_MAX_REPLY (256u * 1024 * 1024)

struct buf {
    char *data;
    size_t len, cap;
    bool too_big;
};

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *b_)
{
    struct buf *b = b_;
    size_t n = size * nmemb;
    if (b->len + n + 1 > NVOCTL_MAX_REPLY) {
        b->too_big = true;
        return 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        char *d = realloc(b->data, cap);
        if (!d) {
            return 0;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static char *
xstrdup_(const char *s)
{
    char *c = strdup(s);
    if (!c) {
        abort();
    }
    return c;
}

struct nvoctl_http *
nvoctl_http_create(const char *url, const char *token, const char *ca_cert,
                   long timeout_s)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct nvoctl_http *h = calloc(1, sizeof *h);
    if (!h) {
        abort();
    }
    h->curl = curl_easy_init();
    if (!h->curl) {
        abort();
    }
    h->base = xstrdup_(url);
    size_t len = strlen(h->base);
    while (len && h->base[len - 1] == '/') {
        h->base[--len] = '\0';
    }
    if (token) {
        if (asprintf(&h->auth, "Authorization: Bearer %s", token) < 0) {
            abort();
        }
    }
    h->ca_cert = ca_cert ? xstrdup_(ca_cert) : NULL;
    h->timeout_s = timeout_s;
    return h;
}

void
nvoctl_http_destroy(struct nvoctl_http *h)
{
    if (!h) {
        return;
    }
    curl_easy_cleanup(h->curl);
    free(h->base);
    if (h->auth) {
        /* The token leaves no copy in freed memory. */
        memset(h->auth, 0, strlen(h->auth));
        free(h->auth);
    }
    free(h->ca_cert);
    free(h);
    curl_global_cleanup();
}

int
nvoctl_http_call(struct nvoctl_http *h, const char *method, const char *path,
                 const json_t *body, struct nvoctl_reply *reply)
{
    memset(reply, 0, sizeof *reply);
    CURL *c = h->curl;
    curl_easy_reset(c);

    char *url;
    if (asprintf(&url, "%s%s", h->base, path) < 0) {
        abort();
    }
    struct buf b = { 0 };
    char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (payload) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    }
    if (h->auth) {
        hdrs = curl_slist_append(hdrs, h->auth);
    }
    h->errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "GET")) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    if (payload) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long) strlen(payload));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, h->timeout_s);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "nvoctl/" NVO_VERSION);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (h->ca_cert) {
        curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_cert);
    }

    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(hdrs);
    free(payload);
    free(url);
    if (rc != CURLE_OK) {
        const char *why = b.too_big ? "answer too large"
                          : h->errbuf[0] ? h->errbuf
                          : curl_easy_strerror(rc);
        if (asprintf(&reply->error, "%s: %s", h->base, why) < 0) {
            abort();
        }
        free(b.data);
        return NVOCTL_EXIT_CONNECT;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply->status);
    reply->body = b.data ? b.data : xstrdup_("");
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    if (ct && !strncmp(ct, "application/json", 16) && b.len) {
        reply->json = json_loadb(b.data, b.len, 0, NULL);
    }
    return 0;
}

void
nvoctl_reply_free(struct nvoctl_reply *r)
{
    if (r) {
        json_decref(r->json);
        free(r->body);
        free(r->error);
        memset(r, 0, sizeof *r);
    }
}

char *
nvoctl_reply_error_text(const struct nvoctl_reply *r)
{
    const char *code = NULL, *message = NULL;
    char *s;
    if (r->json
        && !json_unpack((json_t *) r->json, "{s:{s?s,s?s}}", "error", "code",
                        &code, "message", &message) && message) {
        if (asprintf(&s, "%s (%s, HTTP %ld)", message, code ? code : "error",
                     r->status) < 0) {
            abort();
        }
        return s;
    }
    size_t len = r->body ? strlen(r->body) : 0;
    while (len && (r->body[len - 1] == '\n' || r->body[len - 1] == '\r')) {
        len--;
    }
    if (asprintf(&s, "HTTP %ld%s%.*s", r->status, len ? ": " : "",
                 (int) (len > 200 ? 200 : len), r->body ? r->body : "") < 0) {
        abort();
    }
    return s;
}
