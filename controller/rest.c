/* rest.c - the northbound REST server: h2o (libuv build) on the
 * controller's loop, routing, responses and ?wait=1.
 *
 * A request goes: route on the path (404) -> method allowed (405 + Allow)
 * -> for POST/PATCH: body size (413), Content-Type (415), JSON object (400)
 * -> resource handler (rest-networks.c, rest-hypervisors.c, rest-ports.c):
 * a GET is answered from the model; a write is parsed into a request and
 * handed to the service layer (service.h), whose result is rendered here.
 *
 * A write's answer is held in a 'struct rest_pending' allocated from the
 * request's memory pool, whose dispose callback cancels the service call if
 * the request goes away first.  States of a pending write:
 *
 *   COMMITTING --(check or store error)--> answer 4xx/5xx
 *   COMMITTING --(committed, no ?wait=1)--> answer 2xx
 *   COMMITTING --(committed, ?wait=1)--> body rendered --> WAITING
 *   WAITING --(every affected hypervisor confirmed)--> answer 2xx
 *   WAITING --(wait timeout)--> answer 504 (the change stays committed)
 *   any --(request disposed / server destroyed)--> service call cancelled
 *
 * Slow or idle clients cannot block others: everything is asynchronous on
 * one loop, and h2o drops connections idle for NVO_REST_IDLE_TIMEOUT_MS. */
#include <config.h>
#include "controller/rest.h"
#include "controller/rest-private.h"

#include <h2o/http1.h>

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "controller/ctl.h"
#include "controller/rest-framing.h"
#include "controller/rest-pipeline.h"
#include "controller/model.h"
#include "controller/service.h"
#include "lib/addr.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(rest);

/* Request (and keep-alive idle) timeout. */
#define NVO_REST_IDLE_TIMEOUT_MS 10000
/* TCP_DEFER_ACCEPT on the listener: a connection is handed to us (one
 * wake-up of the main thread) with its first bytes rather than before them
 * (two: the accept, then the request), as every client of this API speaks
 * first (HTTP request or TLS hello).  One that stays silent this long is
 * accepted all the same, and h2o's idle timeout then drops it. */
#define NVO_REST_DEFER_ACCEPT_S 10
/* h2o itself refuses (plain-text 413) bodies beyond this; between
 * NVO_REST_MAX_BODY and this, the answer is a JSON 413. */
#define NVO_REST_H2O_MAX_BODY (4 * NVO_REST_MAX_BODY)
#define NVO_REST_MAX_PATH 512

struct rest_handler {
    h2o_handler_t super;
    struct nvo_rest *rest;
};

struct rest_pending {
    struct ovs_list node;       /* In nvo_rest.pending until answered. */
    struct nvo_rest *rest;
    h2o_req_t *req;
    struct nvo_svc_call *call;  /* NULL once answered or cancelled. */
    int status;                 /* On success: 200, 201 or 204. */
    bool committed;             /* 'body' and 'location' rendered. */
    h2o_iovec_t body;           /* From req->pool. */
    h2o_iovec_t location;       /* From req->pool; len 0 if none. */
};

/* One client connection: its socket, which h2o owns once accepted and
 * closes when the connection ends (rest_conn_closed() frees it). */
struct rest_conn {
    uv_tcp_t tcp;               /* First: h2o's close callback gets it. */
    struct ovs_list node;       /* In nvo_rest.conns. */
    struct nvo_rest *rest;
    h2o_socket_t *sock;         /* NULL until accepted. */
    h2o_socket_cb h2o_read;     /* h2o's read callback, wrapped. */
    struct rest_framing rf;     /* See screen_input(). */
    struct rest_pipeline pipe;  /* Pipelined writes read ahead. */
    struct timeval connected_at;
};

/* How long nvo_rest_destroy() waits for client connections to close. */
#define NVO_REST_CLOSE_TIMEOUT_MS 2000

static const char *
status_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 411: return "Length Required";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
    }
}

void
rest_send(struct nvo_rest *r, h2o_req_t *req, int status,
          const char *content_type, const char *body, size_t len)
{
    static h2o_generator_t generator = { NULL, NULL };

    if (rest_pipeline_capture(req, status, content_type, body, len)) {
        return;
    }
    req->res.status = status;
    req->res.reason = status_reason(status);
    nvo_metrics_count(&r->metrics, req->method.base, req->method.len, status);
    if (content_type && len) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE,
                       NULL, content_type, strlen(content_type));
    }
    /* No Content-Length on 204 (RFC 9110 8.6). */
    req->res.content_length = status == 204 ? SIZE_MAX : len;
    h2o_start_response(req, &generator);
    if (len) {
        h2o_iovec_t buf = h2o_strdup(&req->pool, body, len);
        h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
    } else {
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    }
}

/* Serializes 'json' (stolen) into req's pool, with a final new-line. */
static h2o_iovec_t
json_to_pool(h2o_req_t *req, json_t *json)
{
    if (!json) {
        return h2o_iovec_init(NULL, 0);
    }
    char *s = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    size_t len = strlen(s);
    char *p = h2o_mem_alloc_pool(&req->pool, len + 1);
    memcpy(p, s, len);
    p[len] = '\n';
    free(s);
    return h2o_iovec_init(p, len + 1);
}

bool
rest_method_is(const struct rest_call *c, const char *method)
{
    return h2o_memis(c->req->method.base, c->req->method.len,
                     method, strlen(method));
}

void
rest_reply_text(struct rest_call *c, int status, const char *content_type,
                const char *body, size_t len)
{
    rest_send(c->rest, c->req, status, content_type, body, len);
}

void
rest_reply_json(struct rest_call *c, int status, json_t *json)
{
    h2o_iovec_t body = json_to_pool(c->req, json);
    rest_send(c->rest, c->req, status, "application/json", body.base,
              body.len);
}

static void reply_error_v(struct nvo_rest *, h2o_req_t *, int status,
                          const char *code, const char *fmt, va_list)
    OVS_PRINTF_FORMAT(5, 0);

static void
reply_error_v(struct nvo_rest *r, h2o_req_t *req, int status,
              const char *code, const char *fmt, va_list args)
{
    char *msg = xvasprintf(fmt, args);
    json_t *err = json_pack("{s:{s:s,s:s}}", "error", "code", code,
                            "message", msg);
    free(msg);
    h2o_iovec_t body = json_to_pool(req, err);
    rest_send(r, req, status, "application/json", body.base, body.len);
}

void
rest_reply_error(struct rest_call *c, int status, const char *code,
                 const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    reply_error_v(c->rest, c->req, status, code, fmt, args);
    va_end(args);
}

bool
rest_reply_invalid(struct rest_call *c, char *error)
{
    if (error) {
        rest_reply_error(c, 400, "invalid", "%s", error);
        free(error);
        return true;
    }
    return false;
}

static void
reply_error(struct nvo_rest *r, h2o_req_t *req, int status, const char *code,
            const char *fmt, ...) OVS_PRINTF_FORMAT(5, 6);

static void
reply_error(struct nvo_rest *r, h2o_req_t *req, int status, const char *code,
            const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    reply_error_v(r, req, status, code, fmt, args);
    va_end(args);
}

/* HTTP status for a service result kind. */
static int
svc_status_to_http(enum nvo_svc_status status)
{
    switch (status) {
    case NVO_SVC_OK: return 200;
    case NVO_SVC_INVALID: return 400;
    case NVO_SVC_NOT_FOUND: return 404;
    case NVO_SVC_CONFLICT: return 409;
    case NVO_SVC_UNAVAILABLE: return 503;
    case NVO_SVC_TIMEOUT: return 504;
    case NVO_SVC_APPLY_FAILED: return 502;
    case NVO_SVC_STORAGE_FULL: return 507;
    case NVO_SVC_FAILED: return 500;
    }
    return 500;
}

/* Renders the object of a successful write result (NULL for deletes). */
static json_t *
result_json(struct nvo_rest *r, const struct nvo_svc_result *res)
{
    return (res->network ? rest_network_json(res->network)
            : res->hv ? rest_hv_json(r->ctl, res->hv)
            : res->port ? rest_port_json(res->port)
            : NULL);
}

/* The Location of a created object, in 'req''s pool (len 0 if none). */
static h2o_iovec_t
result_location(h2o_req_t *req, const struct nvo_svc_result *res)
{
    char *loc = (res->network ? xasprintf("/v1/networks/%s",
                                          res->network->name)
                 : res->hv ? xasprintf("/v1/hypervisors/%s", res->hv->name)
                 : res->port ? xasprintf("/v1/ports/%"PRId64, res->port->id)
                 : NULL);
    h2o_iovec_t v = loc ? h2o_strdup(&req->pool, loc, SIZE_MAX)
                        : h2o_iovec_init(NULL, 0);
    free(loc);
    return v;
}

static void
pending_send(struct rest_pending *p)
{
    h2o_req_t *req = p->req;
    if (p->location.len) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION,
                       NULL, p->location.base, p->location.len);
    }
    rest_send(p->rest, req, p->status, "application/json", p->body.base,
              p->body.len);
}

/* The service's callback for a write (service.h has its states). */
void
rest_write_cb(void *p_, const struct nvo_svc_result *res)
{
    struct rest_pending *p = p_;
    if (res->final) {
        /* The answer below may dispose the pool: nothing to cancel. */
        p->call = NULL;
        ovs_list_remove(&p->node);
        ovs_list_init(&p->node);
    }
    if (res->status != NVO_SVC_OK) {
        reply_error(p->rest, p->req, svc_status_to_http(res->status),
                    res->code, "%s", res->message);
        return;
    }
    if (!p->committed) {
        /* Committed: render the object as it is now. */
        p->committed = true;
        p->body = json_to_pool(p->req, result_json(p->rest, res));
        if (p->status == 201) {
            p->location = result_location(p->req, res);
        }
    }
    if (res->final) {
        pending_send(p);
    }
}

/* The request's pool is going away (answered, or its connection closed). */
static void
pending_dispose(void *p_)
{
    struct rest_pending *p = p_;
    if (p->call) {
        nvo_svc_call_cancel(p->call);
        p->call = NULL;
    }
    ovs_list_remove(&p->node);
    ovs_list_init(&p->node);
}

struct rest_pending *
rest_write_begin(struct rest_call *c, int status)
{
    h2o_req_t *req = c->req;
    struct rest_pending *p = h2o_mem_alloc_shared(&req->pool, sizeof *p,
                                                  pending_dispose);
    memset(p, 0, sizeof *p);
    p->rest = c->rest;
    p->req = req;
    p->status = status;
    ovs_list_push_back(&c->rest->pending, &p->node);
    return p;
}

void
rest_write_started(struct rest_pending *p, struct nvo_svc_call *call)
{
    if (call) {
        /* Not answered yet (else 'p' must not be touched any more). */
        p->call = call;
    }
}

/* Query string: wait=1|true, network=NAME, hypervisor=NAME.  Values are
 * copied into req's pool. */
static void
parse_query(struct rest_call *c)
{
    h2o_req_t *req = c->req;
    if (req->query_at == SIZE_MAX) {
        return;
    }
    const char *q = req->path.base + req->query_at + 1;
    size_t qlen = req->path.len - req->query_at - 1;
    char *copy = h2o_mem_alloc_pool(&req->pool, qlen + 1);
    memcpy(copy, q, qlen);
    copy[qlen] = '\0';

    char *save = NULL;
    for (char *kv = strtok_r(copy, "&", &save); kv;
         kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        const char *v = eq ? eq + 1 : "";
        if (eq) {
            *eq = '\0';
        }
        if (!strcmp(kv, "wait")) {
            c->wait = !strcmp(v, "1") || !strcmp(v, "true") || !*v;
        } else if (!strcmp(kv, "network")) {
            c->q_network = v;
        } else if (!strcmp(kv, "hypervisor")) {
            c->q_hypervisor = v;
        }
    }
}

/* True if the request's Content-Type is application/json (parameters such
 * as "; charset=utf-8" allowed). */
static bool
is_json_content(const h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i == -1) {
        return false;
    }
    const h2o_iovec_t *v = &req->headers.entries[i].value;
    static const char json[] = "application/json";
    size_t n = sizeof json - 1;
    if (v->len < n || strncasecmp(v->base, json, n)) {
        return false;
    }
    return v->len == n || v->base[n] == ';' || v->base[n] == ' ';
}

/* Reads the JSON object body of a POST/PATCH into c->body; answers and
 * returns false if it is unacceptable. */
static bool
parse_body(struct rest_call *c)
{
    h2o_req_t *req = c->req;
    if (req->entity.len > NVO_REST_MAX_BODY) {
        rest_reply_error(c, 413, "too_large", "request body exceeds %d "
                         "bytes", NVO_REST_MAX_BODY);
        return false;
    }
    if (!is_json_content(req)) {
        rest_reply_error(c, 415, "unsupported_media_type", "the body must "
                         "be JSON (Content-Type: application/json)");
        return false;
    }
    char *error;
    c->body = rest_body_parse(req->entity.base, req->entity.len, &error);
    if (!c->body) {
        rest_reply_error(c, 400, "malformed_json", "%s", error);
        free(error);
        return false;
    }
    return true;
}

static void
reply_405(struct rest_call *c, const char *allow)
{
    h2o_add_header(&c->req->pool, &c->req->res.headers, H2O_TOKEN_ALLOW,
                   NULL, allow, strlen(allow));
    rest_reply_error(c, 405, "method_not_allowed", "allowed: %s", allow);
}

/* True if the method is in 'allow' ("GET, POST"); else answers 405. */
static bool
check_method(struct rest_call *c, const char *allow)
{
    const h2o_iovec_t *m = &c->req->method;
    const char *p = allow;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len == m->len && !memcmp(p, m->base, len)) {
            return true;
        }
        p += len;
        p += strspn(p, ", ");
    }
    reply_405(c, allow);
    return false;
}

bool
rest_check_method(struct rest_call *c, const char *allow)
{
    return check_method(c, allow);
}

static void
serve_healthz(struct rest_call *c)
{
    rest_reply_json(c, 200, json_pack("{s:s,s:I,s:s}", "status", "ok",
                                      "revision",
                                      (json_int_t) c->ctl->model->revision,
                                      "auth", c->rest->auth ? "token"
                                                            : "none"));
}

static void
serve_metrics(struct rest_call *c)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    nvo_metrics_render(&c->rest->metrics, c->ctl, &s);
    rest_reply_text(c, 200, "text/plain; version=0.0.4", ds_cstr(&s),
                    s.length);
    ds_destroy(&s);
}

struct rest_route {
    const char *prefix;         /* "/v1/networks" */
    void (*handler)(struct rest_call *);
    const char *collection_allow;
    const char *item_allow;
};

#define REST_ROUTE(PREFIX, HANDLER, COLLECTION_ALLOW, ITEM_ALLOW) \
    { PREFIX, HANDLER, COLLECTION_ALLOW, ITEM_ALLOW },
static const struct rest_route routes[] = { REST_RESOURCES(REST_ROUTE) };
#undef REST_ROUTE

static void
route(struct rest_call *c, const char *path)
{
    if (!strcmp(path, "/healthz")) {
        if (check_method(c, "GET")) {
            serve_healthz(c);
        }
        return;
    }
    if (!strcmp(path, "/metrics")) {
        if (check_method(c, "GET")) {
            serve_metrics(c);
        }
        return;
    }
    if (rest_tools_route(c, path)) {
        return;
    }
    for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
        const struct rest_route *rt = &routes[i];
        size_t plen = strlen(rt->prefix);
        if (strncmp(path, rt->prefix, plen)) {
            continue;
        }
        const char *rest = path + plen;
        if (*rest == '/' && rest[1] && !strchr(rest + 1, '/')) {
            c->item = rest + 1;
        } else if (*rest) {
            continue;
        }
        if (!check_method(c, c->item ? rt->item_allow
                                     : rt->collection_allow)) {
            return;
        }
        if ((rest_method_is(c, "POST") || rest_method_is(c, "PATCH"))
            && !parse_body(c)) {
            return;
        }
        rt->handler(c);
        return;
    }
    rest_reply_error(c, 404, "not_found", "no such resource: %s", path);
}

static bool answer_refused(struct rest_call *, const char *path);
static const char *error_code(int status);

/* With a token file, every request but GET /healthz and GET / (the
 * topology page: static, it fetches the data with the token it asks for)
 * needs a token whose role allows its method; answers 401 or 403 and
 * returns false if not. */
static bool
authorized(struct rest_call *c, const char *path)
{
    struct nvo_rest *r = c->rest;
    h2o_req_t *req = c->req;

    if (!r->auth
        || ((!strcmp(path, "/healthz") || !strcmp(path, "/"))
            && rest_method_is(c, "GET"))) {
        return true;
    }
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    const h2o_iovec_t *v = i == -1 ? NULL : &req->headers.entries[i].value;
    if (v && h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, i)
             != -1) {
        v = NULL;               /* Two Authorization headers: neither. */
    }
    enum nvo_rest_role role = nvo_rest_auth_check(r->auth,
                                                  v ? v->base : NULL,
                                                  v ? v->len : 0);
    if (role == NVO_ROLE_NONE) {
        static const char challenge[] = "Bearer realm=\"nvo\"";
        h2o_add_header(&req->pool, &req->res.headers,
                       H2O_TOKEN_WWW_AUTHENTICATE, NULL, challenge,
                       sizeof challenge - 1);
        rest_reply_error(c, 401, "unauthorized", v
                         ? "the bearer token is not valid"
                         : "this request needs an Authorization: Bearer "
                           "header");
        return false;
    }
    if (!nvo_rest_role_allows(role, req->method.base, req->method.len)) {
        rest_reply_error(c, 403, "forbidden", "the token's role (reader) "
                         "allows GET only");
        return false;
    }
    return true;
}

void
rest_handle(struct nvo_rest *r, h2o_req_t *req)
{
    struct rest_call c = { .rest = r, .ctl = r->ctl, .req = req };

    if (req->path_normalized.len > NVO_REST_MAX_PATH) {
        reply_error(r, req, 414, "uri_too_long", "path too long");
        return;
    }
    char path[NVO_REST_MAX_PATH + 1];
    memcpy(path, req->path_normalized.base, req->path_normalized.len);
    path[req->path_normalized.len] = '\0';
    /* Tolerate one trailing slash on collections ("/v1/ports/"). */
    if (req->path_normalized.len > 1
        && path[req->path_normalized.len - 1] == '/') {
        path[req->path_normalized.len - 1] = '\0';
    }
    if (answer_refused(&c, path) || !authorized(&c, path)) {
        return;
    }
    parse_query(&c);
    route(&c, path);
    json_decref(c.body);
}

static struct rest_conn *req_conn(h2o_req_t *);

/* A request h2o parsed: answered from its shadow if it was read ahead
 * (rest-pipeline.h), else handled; if its answer is not known yet, the
 * writes behind it in the input are read ahead. */
static int
on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct nvo_rest *r = ((struct rest_handler *) self)->rest;
    struct rest_conn *rc = req_conn(req);
    if (!rc) {
        rest_handle(r, req);
        return 0;
    }
    /* h2o consumes a connection's input request by request: 'req' starts
     * the buffer. */
    h2o_buffer_t *in = rc->sock->input;
    uint64_t at = rc->rf.pos - in->size;
    if (!rest_pipeline_match(&rc->pipe, req, at)) {
        rest_handle(r, req);
    }
    if (!req->res.status && rc->rf.state != RF_REFUSED) {
        rest_pipeline_read_ahead(&rc->pipe, in->bytes, in->size, at);
    }
    return 0;
}

/* Errors h2o answers by itself (framing, 413 above
 * NVO_REST_H2O_MAX_BODY, 417, ...) come as text/plain; this output filter
 * turns them into the API's {"error":{"code","message"}} shape.  Bound to
 * the path and to the host's fallback path, which h2o uses for requests
 * that fail before routing. */
struct rest_error_filter {
    h2o_filter_t super;
    struct nvo_rest *rest;
};

struct rest_error_ostream {
    h2o_ostream_t super;
    size_t len;
    char text[256];             /* h2o's message, collected (truncated). */
};

static const char *
error_code(int status)
{
    switch (status) {
    case 400: return "bad_request";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 408: return "timeout";
    case 411: return "length_required";
    case 413: return "too_large";
    case 414: return "uri_too_long";
    case 417: return "expectation_failed";
    case 431: return "headers_too_large";
    default: return status < 500 ? "bad_request" : "internal_error";
    }
}

static void
error_ostream_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs,
                   size_t n, h2o_send_state_t state)
{
    struct rest_error_ostream *os = (struct rest_error_ostream *) self;
    for (size_t i = 0; i < n; i++) {
        size_t room = sizeof os->text - 1 - os->len;
        size_t len = MIN(room, bufs[i].len);
        memcpy(os->text + os->len, bufs[i].base, len);
        os->len += len;
    }
    os->text[os->len] = '\0';
    if (h2o_send_state_is_in_progress(state)) {
        h2o_ostream_send_next(self, req, NULL, 0, state);
        return;
    }
    const char *msg = os->len ? os->text : status_reason(req->res.status);
    json_t *err = json_pack("{s:{s:s,s:s}}", "error", "code",
                            error_code(req->res.status), "message", msg);
    h2o_iovec_t body = json_to_pool(req, err);
    req->res.content_length = body.len;
    h2o_ostream_send_next(self, req, &body, 1, state);
}

static void
error_filter_setup(h2o_filter_t *self_, h2o_req_t *req, h2o_ostream_t **slot)
{
    struct rest_error_filter *self = (struct rest_error_filter *) self_;
    ssize_t i = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE,
                                -1);
    const h2o_iovec_t *ct = i == -1 ? NULL : &req->res.headers.entries[i].value;
    static const char plain[] = "text/plain";

    if (req->res.status < 400 || !ct || ct->len < sizeof plain - 1
        || memcmp(ct->base, plain, sizeof plain - 1)) {
        h2o_setup_next_ostream(req, slot);
        return;
    }
    /* rest_send() counts the API's own answers; count h2o's here. */
    nvo_metrics_count(&self->rest->metrics, req->method.base,
                      req->method.len, req->res.status);
    req->res.headers.entries[i].value
        = h2o_iovec_init(H2O_STRLIT("application/json"));
    struct rest_error_ostream *os = (struct rest_error_ostream *)
        h2o_add_ostream(req, sizeof *os, slot);
    os->len = 0;
    os->super.do_send = error_ostream_send;
    h2o_setup_next_ostream(req, &os->super.next);
}

static void
add_error_filter(struct nvo_rest *r, h2o_pathconf_t *pathconf)
{
    struct rest_error_filter *f = (struct rest_error_filter *)
        h2o_create_filter(pathconf, sizeof *f);
    f->super.on_setup_ostream = error_filter_setup;
    f->rest = r;
}

/* Builds a server SSL_CTX from 'key' and 'cert' (PEM).  Returns it (caller
 * owns), or NULL with '*errmsg' set (caller frees). */
static SSL_CTX *
tls_ctx_create(const char *key, const char *cert, char **errmsg)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    const char *what = "cannot create a TLS context";
    const char *file = "";

    if (!ctx) {
        goto error;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION
                             | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        what = "cannot load certificate";
        file = cert;
        goto error;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        what = "cannot load private key";
        file = key;
        goto error;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        what = "the private key does not match the certificate";
        file = key;
        goto error;
    }
    return ctx;

error:;
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    ERR_clear_error();
    *errmsg = xasprintf("%s%s%s: %s", what, *file ? " " : "", file, buf);
    SSL_CTX_free(ctx);
    return NULL;
}

/* Records what 'f' is on disk now; returns true if that differs from what
 * was recorded before. */
static bool
tls_file_changed(struct rest_tls_file *f)
{
    struct stat st;
    if (stat(f->name, &st)) {
        return false;           /* Being replaced: look again later. */
    }
    bool changed = st.st_mtim.tv_sec != f->mtime.tv_sec
                   || st.st_mtim.tv_nsec != f->mtime.tv_nsec
                   || st.st_size != f->size || st.st_ino != f->ino;
    f->mtime = st.st_mtim;
    f->size = st.st_size;
    f->ino = st.st_ino;
    return changed;
}

/* If HTTPS is on and the key or certificate changed on disk (looked at no
 * more than once a second unless 'force'), loads them for new
 * connections. */
static void
tls_maybe_reload(struct nvo_rest *r, bool force)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

    if (!r->accept_ctx.ssl_ctx) {
        return;
    }
    uint64_t now = uv_now(r->ctl->loop);
    if (!force && now - r->tls_checked_ms < 1000) {
        return;
    }
    r->tls_checked_ms = now;
    bool changed = false;
    for (size_t i = 0; i < ARRAY_SIZE(r->tls); i++) {
        changed |= tls_file_changed(&r->tls[i]);
    }
    if (!changed) {
        return;
    }
    char *errmsg = NULL;
    SSL_CTX *ctx = tls_ctx_create(r->tls[0].name, r->tls[1].name, &errmsg);
    if (!ctx) {
        VLOG_WARN_RL(&rl, "REST TLS files changed but do not load (%s); "
                     "still serving the previous certificate", errmsg);
        free(errmsg);
        return;
    }
    /* Connections already accepted hold their own reference. */
    SSL_CTX_free(r->accept_ctx.ssl_ctx);
    r->accept_ctx.ssl_ctx = ctx;
    VLOG_INFO("REST: loaded the new certificate %s", r->tls[1].name);
}

int
nvo_rest_set_tls(struct nvo_rest *r, const char *private_key,
                 const char *certificate, char **errmsg)
{
    *errmsg = NULL;
    SSL_CTX *ctx = tls_ctx_create(private_key, certificate, errmsg);
    if (!ctx) {
        return -EINVAL;
    }
    SSL_CTX_free(r->accept_ctx.ssl_ctx);
    r->accept_ctx.ssl_ctx = ctx;
    const char *names[2] = { private_key, certificate };
    for (size_t i = 0; i < ARRAY_SIZE(r->tls); i++) {
        free(r->tls[i].name);
        r->tls[i].name = xstrdup(names[i]);
        tls_file_changed(&r->tls[i]);
    }
    r->tls_checked_ms = uv_now(r->ctl->loop);
    return 0;
}

int
nvo_rest_set_token_file(struct nvo_rest *r, const char *file, char **errmsg)
{
    struct nvo_rest_auth *auth;
    int error = nvo_rest_auth_load(file, &auth, errmsg);
    if (error) {
        return error;
    }
    nvo_rest_auth_destroy(r->auth);
    r->auth = auth;
    free(r->token_file);
    r->token_file = xstrdup(file);
    VLOG_INFO("REST: %"PRIuSIZE" bearer tokens from %s",
              nvo_rest_auth_count(auth), file);
    return 0;
}

void
nvo_rest_reload(struct nvo_rest *r)
{
    if (r->token_file) {
        char *errmsg = NULL;
        char *file = xstrdup(r->token_file);
        if (nvo_rest_set_token_file(r, file, &errmsg)) {
            VLOG_ERR("%s; keeping the %"PRIuSIZE" tokens loaded before",
                     errmsg, nvo_rest_auth_count(r->auth));
            free(errmsg);
        }
        free(file);
    }
    tls_maybe_reload(r, true);
}

/* One accepted connection.  Before h2o reads a byte of a request,
 * rest-framing.c follows it (see there why): h2o's socket read callback is
 * wrapped by screen_read().  h2o re-installs its own callback whenever it
 * starts reading again (sock->_cb.read is h2o 2.2.5's field for it), and
 * libuv delivers reads only in its poll phase, so the prepare handle, which
 * runs right before each poll, wraps it again.  A refused request and
 * everything after it is cut from the socket's input and replaced by a
 * request for REST_REFUSED_PATH, answered with the JSON error and
 * "Connection: close". */

#define REST_REFUSED_PATH "/.nvo-refused"

/* Screens what arrived on 'rc' since the last call; on a refusal, cuts
 * the input as described above. */
static void
screen_input(struct rest_conn *rc)
{
    h2o_socket_t *sock = rc->sock;
    h2o_buffer_t *in = sock->input;
    /* h2o 2.2.5's socket layer sets bytes_read to the size of the read it
     * just appended to 'in' (above TLS) before calling back. */
    size_t n_new = MIN(sock->bytes_read, in->size);

    if (rc->rf.state == RF_REFUSED) {
        in->size -= n_new;      /* Drop everything after the refusal. */
        return;
    }
    const char *data = in->bytes + in->size - n_new;
    if (rest_framing_feed(&rc->rf, data, n_new) == RF_OK) {
        return;
    }
    /* Bytes of the refused request and after it still in the input. */
    uint64_t tail = rc->rf.pos - rc->rf.head_start;
    if (tail > in->size) {
        in->size = 0;
        h2o_socket_read_stop(sock);
        return;
    }
    in->size -= tail;
    /* h2o resumes parsing an incomplete head where it stopped (its
     * parser's 'last_len'), so the replacement must not be shorter than
     * what it replaces: pad it with a header. */
    static const char req[] = "GET " REST_REFUSED_PATH " HTTP/1.1\r\n"
                              "Connection: close\r\nX-Pad: ";
    size_t len = MAX(sizeof req - 1 + 4, tail);
    h2o_iovec_t room = h2o_buffer_reserve(&sock->input, len);
    memcpy(room.base, req, sizeof req - 1);
    memset(room.base + sizeof req - 1, 'x', len - (sizeof req - 1) - 4);
    memcpy(room.base + len - 4, "\r\n\r\n", 4);
    sock->input->size += len;
}

static void
screen_read(h2o_socket_t *sock, const char *err)
{
    struct rest_conn *rc = sock->on_close.data;
    if (!err) {
        screen_input(rc);
    }
    rc->h2o_read(sock, err);
}

static void
rewrap_reads(uv_prepare_t *prepare)
{
    struct nvo_rest *r = prepare->data;
    struct rest_conn *rc;

    LIST_FOR_EACH (rc, node, &r->conns) {
        if (!rc->sock) {
            continue;
        }
        h2o_socket_cb cb = rc->sock->_cb.read;
        if (cb && cb != screen_read) {
            rc->h2o_read = cb;
            rc->sock->_cb.read = screen_read;
        }
    }
}


/* TLS handshake done (or none needed): screen what came with it, then
 * hand the socket to h2o's HTTP/1 server. */
static void
conn_start_http(h2o_socket_t *sock, const char *err)
{
    struct rest_conn *rc = sock->on_close.data;
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

    if (err) {
        VLOG_DBG_RL(&rl, "REST: TLS handshake failed: %s", err);
        h2o_socket_close(sock);
        return;
    }
    /* What came with the TLS handshake. */
    sock->bytes_read = sock->input->size;
    screen_input(rc);
    h2o_http1_accept(&rc->rest->accept_ctx, sock, rc->connected_at);
    rewrap_reads(rc->rest->prepare);
}

/* Answers a request rewritten by screen_input(), if 'c' is one. */
static bool
answer_refused(struct rest_call *c, const char *path)
{
    if (strcmp(path, REST_REFUSED_PATH)) {
        return false;
    }
    struct rest_conn *rc = req_conn(c->req);
    if (!rc || rc->rf.state != RF_REFUSED) {
        return false;
    }
    c->req->http1_is_persistent = 0;
    int status = rest_framing_status(rc->rf.why);
    rest_reply_error(c, status, error_code(status), "%s",
                     rest_framing_message(rc->rf.why));
    return true;
}

/* The connection of h2o's request 'req' (NULL for a shadow). */
static struct rest_conn *
req_conn(h2o_req_t *req)
{
    h2o_socket_t *sock = req->conn->callbacks->get_socket
                         ? req->conn->callbacks->get_socket(req->conn)
                         : NULL;
    return sock ? sock->on_close.data : NULL;
}

static void
rest_conn_closed(uv_handle_t *handle)
{
    struct rest_conn *rc = CONTAINER_OF(handle, struct rest_conn, tcp);
    ovs_list_remove(&rc->node);
    rest_pipeline_destroy(&rc->pipe);
    rest_framing_destroy(&rc->rf);
    free(rc);
}

static void
on_accept(uv_stream_t *listener, int status)
{
    struct nvo_rest *r = listener->data;
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

    if (status) {
        VLOG_WARN_RL(&rl, "accept failed: %s", uv_strerror(status));
        return;
    }
    struct rest_conn *rc = xzalloc(sizeof *rc);
    ovs_list_init(&rc->node);
    rest_framing_init(&rc->rf);
    rest_pipeline_init(&rc->pipe, r);
    uv_tcp_init(listener->loop, &rc->tcp);
    if (uv_accept(listener, (uv_stream_t *) &rc->tcp)) {
        uv_close((uv_handle_t *) &rc->tcp, rest_conn_closed);
        return;
    }
    uv_tcp_nodelay(&rc->tcp, 1);
    tls_maybe_reload(r, false);
    ovs_list_push_back(&r->conns, &rc->node);
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *) &rc->tcp,
                                              rest_conn_closed);
    rc->rest = r;
    rc->sock = sock;
    gettimeofday(&rc->connected_at, NULL);
    /* Only to find 'rc' from the socket; rest_conn_closed() frees it. */
    sock->on_close.cb = NULL;
    sock->on_close.data = rc;
    if (r->accept_ctx.ssl_ctx) {
        h2o_socket_ssl_handshake(sock, r->accept_ctx.ssl_ctx, NULL,
                                 conn_start_http);
    } else {
        conn_start_http(sock, NULL);
    }
}

struct nvo_rest *
nvo_rest_create(struct nvo_ctl *ctl, const char *addr, int *errp)
{
    struct sockaddr_storage ss;
    int error = nvo_sockaddr_parse(addr, "127.0.0.1", &ss);
    if (error) {
        VLOG_ERR("%s: not an ADDR:PORT to listen on", addr);
        *errp = error;
        return NULL;
    }

    struct nvo_rest *r = xzalloc(sizeof *r);
    r->ctl = ctl;
    ovs_list_init(&r->pending);
    ovs_list_init(&r->conns);

    h2o_config_init(&r->config);
    r->config.server_name = h2o_iovec_init(H2O_STRLIT("nvo-controller"));
    r->config.max_request_entity_size = NVO_REST_H2O_MAX_BODY;
    r->config.http1.req_timeout = NVO_REST_IDLE_TIMEOUT_MS;
    /* HTTP/1.1 only: h2o would otherwise switch a plain connection to
     * HTTP/2 on "Upgrade: h2c", whose frames rest-framing.c (an HTTP/1
     * screen) does not follow, and whose h2o 2.2.5 implementation predates
     * the HTTP/2 rapid-reset fixes (CVE-2023-44487). */
    r->config.http1.upgrade_to_http2 = 0;
    h2o_hostconf_t *host = h2o_config_register_host(
        &r->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(host, "/", 0);
    struct rest_handler *h = (struct rest_handler *) h2o_create_handler(
        pathconf, sizeof *h);
    h->super.on_req = on_req;
    h->rest = r;
    add_error_filter(r, pathconf);
    add_error_filter(r, &host->fallback_path);
    h2o_context_init(&r->ctx, ctl->loop, &r->config);
    r->accept_ctx.ctx = &r->ctx;
    r->accept_ctx.hosts = r->config.hosts;

    r->listener = xmalloc(sizeof *r->listener);
    uv_tcp_init(ctl->loop, r->listener);
    r->listener->data = r;
    error = uv_tcp_bind(r->listener, (struct sockaddr *) &ss, 0);
    if (!error) {
        uv_os_fd_t fd;
        int secs = NVO_REST_DEFER_ACCEPT_S;
        if (!uv_fileno((uv_handle_t *) r->listener, &fd)
            && setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs,
                          sizeof secs)) {
            /* Only a wake-up more per connection. */
            VLOG_DBG("%s: TCP_DEFER_ACCEPT: %s", addr, ovs_strerror(errno));
        }
        error = uv_listen((uv_stream_t *) r->listener, 1024, on_accept);
    }
    if (error) {
        VLOG_ERR("cannot listen on %s: %s", addr, uv_strerror(error));
        *errp = error;
        nvo_rest_destroy(r);
        return NULL;
    }
    r->prepare = xmalloc(sizeof *r->prepare);
    uv_prepare_init(ctl->loop, r->prepare);
    r->prepare->data = r;
    uv_prepare_start(r->prepare, rewrap_reads);
    VLOG_INFO("REST API listening on %s", addr);
    return r;
}

static void
listener_closed(uv_handle_t *handle)
{
    struct nvo_rest *r = handle->data;
    free(handle);
    if (r) {
        h2o_config_dispose(&r->config);
        SSL_CTX_free(r->accept_ctx.ssl_ctx);
        nvo_rest_auth_destroy(r->auth);
        free(r->token_file);
        for (size_t i = 0; i < ARRAY_SIZE(r->tls); i++) {
            free(r->tls[i].name);
        }
        free(r);
    }
}

static void
close_deadline(uv_timer_t *t)
{
    *(bool *) t->data = true;
}

/* Ends every client connection: shutting a socket's read side down makes
 * h2o read EOF once it has written what it had to (a 503 to a waiting
 * write) and free the connection, which closes the socket.
 * Runs the loop until all are gone or NVO_REST_CLOSE_TIMEOUT_MS passed. */
static void
rest_close_conns(struct nvo_rest *r)
{
    if (ovs_list_is_empty(&r->conns)) {
        return;
    }
    struct rest_conn *rc;
    LIST_FOR_EACH (rc, node, &r->conns) {
        uv_os_fd_t fd;
        if (!uv_fileno((uv_handle_t *) &rc->tcp, &fd)) {
            shutdown(fd, SHUT_RD);
        }
    }
    uv_loop_t *loop = r->listener->loop;
    bool expired = false;
    uv_timer_t *timer = xmalloc(sizeof *timer);
    uv_timer_init(loop, timer);
    timer->data = &expired;
    uv_timer_start(timer, close_deadline, NVO_REST_CLOSE_TIMEOUT_MS, 0);
    while (!ovs_list_is_empty(&r->conns) && !expired) {
        uv_run(loop, UV_RUN_ONCE);
    }
    uv_timer_stop(timer);
    uv_close((uv_handle_t *) timer, (uv_close_cb) free);
}

void
nvo_rest_destroy(struct nvo_rest *r)
{
    if (!r) {
        return;
    }
    if (r->prepare) {
        uv_close((uv_handle_t *) r->prepare, (uv_close_cb) free);
        r->prepare = NULL;
    }
    /* Writes still waiting get 503 (their change is committed or not, as
     * the store decided; the client can read it back after a restart). */
    struct rest_pending *p;
    LIST_FOR_EACH_SAFE (p, node, &r->pending) {
        nvo_svc_call_cancel(p->call);
        p->call = NULL;
        ovs_list_remove(&p->node);
        ovs_list_init(&p->node);
        reply_error(r, p->req, 503, "shutting_down", "the controller is "
                    "stopping; read the resource back to see whether the "
                    "write was committed");
    }
    rest_close_conns(r);
    if (!ovs_list_is_empty(&r->conns)) {
        /* A connection h2o would not let go: its memory stays with it
         * (the process is exiting). */
        VLOG_WARN("%"PRIuSIZE" REST connections did not close within %d ms",
                  ovs_list_size(&r->conns), NVO_REST_CLOSE_TIMEOUT_MS);
        r->listener->data = NULL;
        uv_close((uv_handle_t *) r->listener, listener_closed);
        return;
    }
    /* Close the listener first: close callbacks run last-closed-first, so
     * listener_closed() frees 'r' after the context's own handles. */
    uv_close((uv_handle_t *) r->listener, listener_closed);
    h2o_context_dispose(&r->ctx);
}
