/* rest-pipeline.c - HTTP/1.1 pipelined writes that share commits; see
 * rest-pipeline.h. */
#include <config.h>
#include "controller/rest-pipeline.h"

#include <string.h>
#include <strings.h>

#include "controller/rest-private.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(rest_pipeline);

/* h2o 2.2.5 parses requests with picohttpparser, which it exports but
 * whose header it does not install: its declarations, as in h2o's
 * deps/picohttpparser/picohttpparser.h. */
struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method,
                      size_t *method_len, const char **path,
                      size_t *path_len, int *minor_version,
                      struct phr_header *headers, size_t *num_headers,
                      size_t last_len);

enum shadow_state {
    SH_PENDING,                 /* Answer unknown, h2o not there yet. */
    SH_ANSWERED,                /* Answer kept, h2o not there yet. */
    SH_MATCHED,                 /* h2o there, answer unknown. */
    SH_SENT,                    /* Answer forwarded to h2o's request. */
};

struct rest_shadow {
    h2o_req_t req;              /* Its conn is rest_pipeline.conn. */
    h2o_ostream_t ostr_final;   /* Never sent to (see rest_send()). */
    struct ovs_list node;       /* In rest_pipeline.pending until matched. */
    struct rest_pipeline *pipe;
    enum shadow_state state;
    uint64_t at;                /* Stream offset of its first byte. */
    h2o_req_t *real;            /* SH_MATCHED: h2o's request. */
    int status;                 /* SH_ANSWERED: the answer (from req.pool),
                                 * with req.res.headers. */
    const char *content_type;
    h2o_iovec_t body;
};

/* Identifies the shadows' connections (no callback is ever made). */
static const h2o_conn_callbacks_t shadow_callbacks;

void
rest_pipeline_init(struct rest_pipeline *pipe, struct nvo_rest *rest)
{
    memset(pipe, 0, sizeof *pipe);
    pipe->rest = rest;
    pipe->conn.ctx = &rest->ctx;
    pipe->conn.hosts = rest->config.hosts;
    pipe->conn.callbacks = &shadow_callbacks;
    ovs_list_init(&pipe->pending);
}

/* Frees 'sh' (its pending write, if any, is cancelled: a write already
 * submitted still commits). */
static void
shadow_free(struct rest_shadow *sh)
{
    if (sh->state == SH_PENDING || sh->state == SH_ANSWERED) {
        ovs_list_remove(&sh->node);
    }
    sh->pipe->n_shadows--;
    h2o_dispose_request(&sh->req);
    free(sh);
}

void
rest_pipeline_destroy(struct rest_pipeline *pipe)
{
    if (!pipe) {
        return;
    }
    struct rest_shadow *sh;
    LIST_FOR_EACH_SAFE (sh, node, &pipe->pending) {
        shadow_free(sh);
    }
}

/* Sends the kept answer of 'sh' on h2o's request. */
static void
shadow_forward(struct rest_shadow *sh)
{
    h2o_req_t *real = sh->real;
    const h2o_headers_t *hs = &sh->req.res.headers;
    for (size_t i = 0; i < hs->size; i++) {
        const h2o_header_t *h = &hs->entries[i];
        h2o_iovec_t v = h2o_strdup(&real->pool, h->value.base, h->value.len);
        h2o_add_header_by_str(&real->pool, &real->res.headers, h->name->base,
                              h->name->len, 1, NULL, v.base, v.len);
    }
    sh->state = SH_SENT;
    rest_send(sh->pipe->rest, real, sh->status, sh->content_type,
              sh->body.base, sh->body.len);
}

bool
rest_pipeline_capture(h2o_req_t *req, int status, const char *content_type,
                      const char *body, size_t len)
{
    if (req->conn->callbacks != &shadow_callbacks) {
        return false;
    }
    struct rest_shadow *sh = CONTAINER_OF(req, struct rest_shadow, req);
    ovs_assert(sh->state == SH_PENDING || sh->state == SH_MATCHED);
    sh->status = status;
    sh->content_type = (content_type
                        ? h2o_strdup(&req->pool, content_type,
                                     SIZE_MAX).base
                        : NULL);
    sh->body = h2o_strdup(&req->pool, body, len);
    if (sh->state == SH_MATCHED) {
        shadow_forward(sh);
    } else {
        sh->state = SH_ANSWERED;
    }
    return true;
}

/* h2o's request that 'sh' stands for is going away. */
static void
shadow_release(void *p)
{
    shadow_free(*(struct rest_shadow **) p);
}

bool
rest_pipeline_match(struct rest_pipeline *pipe, h2o_req_t *req, uint64_t at)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

    while (!ovs_list_is_empty(&pipe->pending)) {
        struct rest_shadow *sh = CONTAINER_OF(ovs_list_front(&pipe->pending),
                                              struct rest_shadow, node);
        if (sh->at > at) {
            return false;       /* Not read ahead. */
        }
        if (sh->at < at) {
            /* h2o went past it: cannot be (see rest-pipeline.h). */
            VLOG_ERR_RL(&rl, "pipelined request at %"PRIu64" skipped "
                        "(now at %"PRIu64")", sh->at, at);
            shadow_free(sh);
            continue;
        }
        ovs_list_remove(&sh->node);
        struct rest_shadow **link = h2o_mem_alloc_shared(&req->pool,
                                                         sizeof *link,
                                                         shadow_release);
        *link = sh;
        sh->real = req;
        if (sh->state == SH_ANSWERED) {
            shadow_forward(sh);
        } else {
            sh->state = SH_MATCHED;
        }
        return true;
    }
    return false;
}

/* A request parsed from the input buffer. */
struct parsed_req {
    size_t size;                /* Head and body. */
    bool eligible;              /* May be read ahead (rest-pipeline.h). */
    const char *method, *path;
    size_t method_len, path_len;
    struct phr_header headers[H2O_MAX_HEADERS];
    size_t n_headers;
    const char *body;           /* NULL: no Content-Length. */
    size_t body_len;
};

static bool
name_is(const struct phr_header *h, const char *name)
{
    return h->name_len == strlen(name)
           && !strncasecmp(h->name, name, h->name_len);
}

/* Parses the request at the start of 'in' (n bytes) as h2o would.
 * Returns false if it is not complete there (or not parseable). */
static bool
parse_request(const char *in, size_t n, struct parsed_req *p)
{
    int minor;
    p->n_headers = ARRAY_SIZE(p->headers);
    int hlen = phr_parse_request(in, MIN(n, H2O_MAX_REQLEN), &p->method,
                                 &p->method_len, &p->path, &p->path_len,
                                 &minor, p->headers, &p->n_headers, 0);
    if (hlen <= 0) {
        return false;
    }
    bool persistent = minor >= 1, special = false, has_length = false;
    uint64_t length = 0;
    for (size_t i = 0; i < p->n_headers; i++) {
        const struct phr_header *h = &p->headers[i];
        if (name_is(h, "content-length")) {
            if (!has_length) {
                /* The framing screen accepted it: decimal, and any other
                 * Content-Length has the same value. */
                has_length = true;
                length = h2o_strtosize(h->value, h->value_len);
            }
        } else if (name_is(h, "connection")) {
            /* h2o: persistent if this names keep-alive. */
            persistent = h2o_contains_token(h->value, h->value_len,
                                            H2O_STRLIT("keep-alive"), ',');
        } else if (name_is(h, "expect") || name_is(h, "upgrade")
                   || name_is(h, "transfer-encoding")) {
            special = true;
        }
    }
    if (length == SIZE_MAX || length > n - hlen) {
        return false;
    }
    p->size = hlen + length;
    p->body = has_length ? in + hlen : NULL;
    p->body_len = length;
    p->eligible = (persistent && !special && minor == 1
                   && length <= NVO_REST_MAX_BODY
                   && (h2o_memis(p->method, p->method_len, H2O_STRLIT("POST"))
                       || h2o_memis(p->method, p->method_len,
                                    H2O_STRLIT("PATCH"))
                       || h2o_memis(p->method, p->method_len,
                                    H2O_STRLIT("DELETE"))));
    return true;
}

/* True if 'path' (normalized) is a resource collection or item. */
static bool
is_resource_path(h2o_iovec_t path)
{
#define REST_PREFIX(PREFIX, HANDLER, COLLECTION_ALLOW, ITEM_ALLOW) PREFIX,
    static const char *const prefixes[] = { REST_RESOURCES(REST_PREFIX) };
#undef REST_PREFIX
    for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
        size_t n = strlen(prefixes[i]);
        if (path.len >= n && !memcmp(path.base, prefixes[i], n)
            && (path.len == n || path.base[n] == '/')) {
            return true;
        }
    }
    return false;
}

/* A shadow of 'p', at stream offset 'at', as h2o would have set up its
 * request (the handlers look headers up by token only), or NULL if its
 * path is not a resource's.  Owned by 'pipe' until matched. */
static struct rest_shadow *
shadow_create(struct rest_pipeline *pipe, const struct parsed_req *p,
              uint64_t at)
{
    struct rest_shadow *sh = xmalloc(sizeof *sh);
    h2o_req_t *req = &sh->req;
    h2o_init_request(req, &pipe->conn, NULL);
    memset(&sh->ostr_final, 0, sizeof sh->ostr_final);
    req->_ostr_top = &sh->ostr_final;   /* As h2o's protocols do. */
    sh->pipe = pipe;
    sh->state = SH_PENDING;
    sh->at = at;
    sh->real = NULL;
    pipe->n_shadows++;
    ovs_list_push_back(&pipe->pending, &sh->node);

    req->input.method = h2o_strdup(&req->pool, p->method, p->method_len);
    req->method = req->input.method;
    req->input.path = h2o_strdup(&req->pool, p->path, p->path_len);
    req->path = req->input.path;
    req->path_normalized = h2o_url_normalize_path(&req->pool, req->path.base,
                                                  req->path.len,
                                                  &req->query_at,
                                                  &req->norm_indexes);
    req->input.query_at = req->query_at;
    req->version = 0x101;
    req->http1_is_persistent = 1;
    if (!is_resource_path(req->path_normalized)) {
        shadow_free(sh);
        return NULL;
    }
    for (size_t i = 0; i < p->n_headers; i++) {
        const struct phr_header *h = &p->headers[i];
        char lower[64];
        if (h->name_len > sizeof lower) {
            continue;           /* No token is that long. */
        }
        for (size_t j = 0; j < h->name_len; j++) {
            lower[j] = h2o_tolower(h->name[j]);
        }
        const h2o_token_t *token = h2o_lookup_token(lower, h->name_len);
        if (token && !token->is_init_header_special) {
            h2o_iovec_t v = h2o_strdup(&req->pool, h->value, h->value_len);
            h2o_add_header(&req->pool, &req->headers, token, NULL, v.base,
                           v.len);
        }
    }
    if (p->body) {
        req->entity = h2o_strdup(&req->pool, p->body, p->body_len);
    }
    return sh;
}

void
rest_pipeline_read_ahead(struct rest_pipeline *pipe, const char *in,
                         size_t n, uint64_t at)
{
    struct parsed_req p;
    size_t pos;
    if (pipe->end > at) {
        pos = pipe->end - at;   /* After what was read ahead already. */
    } else if (parse_request(in, n, &p) && p.eligible) {
        pos = p.size;           /* After 'req' itself. */
    } else {
        return;                 /* E.g. its connection ends after it. */
    }
    while (pos < n && pipe->n_shadows < NVO_REST_PIPELINE_MAX
           && parse_request(in + pos, n - pos, &p) && p.eligible) {
        struct rest_shadow *sh = shadow_create(pipe, &p, at + pos);
        if (!sh) {
            break;
        }
        rest_handle(pipe->rest, &sh->req);
        if (sh->state == SH_ANSWERED) {
            /* Answered at once: h2o handles it again in turn. */
            shadow_free(sh);
            break;
        }
        pos += p.size;
        pipe->end = at + pos;
    }
}
