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

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctl.h"
#include "controller/model.h"
#include "controller/service.h"
#include "lib/addr.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(rest);

/* Request (and keep-alive idle) timeout. */
#define NVO_REST_IDLE_TIMEOUT_MS 10000
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

/* Kept reachable when the h2o context could not be disposed at exit
 * because connections were still open (see nvo_rest_destroy()). */
static struct nvo_rest *rest_lingering;

static const char *
status_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

/* Sends the whole response; counts it for /metrics. */
static void
rest_send(struct nvo_rest *r, h2o_req_t *req, int status,
          const char *content_type, const char *body, size_t len)
{
    static h2o_generator_t generator = { NULL, NULL };

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
    json_error_t err;
    c->body = json_loadb(req->entity.base ? req->entity.base : "",
                         req->entity.len, JSON_REJECT_DUPLICATES, &err);
    if (!c->body) {
        rest_reply_error(c, 400, "malformed_json", "malformed JSON: %s "
                         "(line %d, column %d)", err.text, err.line,
                         err.column);
        return false;
    }
    if (!json_is_object(c->body)) {
        rest_reply_error(c, 400, "malformed_json", "the body must be a JSON "
                         "object");
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
    rest_reply_json(c, 200, json_pack("{s:s,s:I}", "status", "ok",
                                      "revision",
                                      (json_int_t) c->ctl->model->revision));
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

static const struct rest_route routes[] = {
    { "/v1/networks", rest_networks, "GET, POST", "GET, PATCH, DELETE" },
    { "/v1/hypervisors", rest_hypervisors, "GET, POST", "GET, DELETE" },
    { "/v1/ports", rest_ports, "GET, POST", "GET, PATCH, DELETE" },
};

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

static int
on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct nvo_rest *r = ((struct rest_handler *) self)->rest;
    struct rest_call c = { .rest = r, .ctl = r->ctl, .req = req };

    if (req->path_normalized.len > NVO_REST_MAX_PATH) {
        reply_error(r, req, 414, "uri_too_long", "path too long");
        return 0;
    }
    char path[NVO_REST_MAX_PATH + 1];
    memcpy(path, req->path_normalized.base, req->path_normalized.len);
    path[req->path_normalized.len] = '\0';
    /* Tolerate one trailing slash on collections ("/v1/ports/"). */
    if (req->path_normalized.len > 1
        && path[req->path_normalized.len - 1] == '/') {
        path[req->path_normalized.len - 1] = '\0';
    }
    parse_query(&c);
    route(&c, path);
    json_decref(c.body);
    return 0;
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
    uv_tcp_t *conn = xmalloc(sizeof *conn);
    uv_tcp_init(listener->loop, conn);
    if (uv_accept(listener, (uv_stream_t *) conn)) {
        uv_close((uv_handle_t *) conn, (uv_close_cb) free);
        return;
    }
    uv_tcp_nodelay(conn, 1);
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *) conn,
                                              (uv_close_cb) free);
    h2o_accept(&r->accept_ctx, sock);
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

    h2o_config_init(&r->config);
    r->config.server_name = h2o_iovec_init(H2O_STRLIT("nvo-controller"));
    r->config.max_request_entity_size = NVO_REST_H2O_MAX_BODY;
    r->config.http1.req_timeout = NVO_REST_IDLE_TIMEOUT_MS;
    h2o_hostconf_t *host = h2o_config_register_host(
        &r->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(host, "/", 0);
    struct rest_handler *h = (struct rest_handler *) h2o_create_handler(
        pathconf, sizeof *h);
    h->super.on_req = on_req;
    h->rest = r;
    h2o_context_init(&r->ctx, ctl->loop, &r->config);
    r->accept_ctx.ctx = &r->ctx;
    r->accept_ctx.hosts = r->config.hosts;

    r->listener = xmalloc(sizeof *r->listener);
    uv_tcp_init(ctl->loop, r->listener);
    r->listener->data = r;
    error = uv_tcp_bind(r->listener, (struct sockaddr *) &ss, 0);
    if (!error) {
        error = uv_listen((uv_stream_t *) r->listener, 1024, on_accept);
    }
    if (error) {
        VLOG_ERR("cannot listen on %s: %s", addr, uv_strerror(error));
        *errp = error;
        nvo_rest_destroy(r);
        return NULL;
    }
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
        free(r);
    }
}

void
nvo_rest_destroy(struct nvo_rest *r)
{
    if (!r) {
        return;
    }
    struct rest_pending *p;
    LIST_FOR_EACH_SAFE (p, node, &r->pending) {
        nvo_svc_call_cancel(p->call);
        p->call = NULL;
        ovs_list_remove(&p->node);
        ovs_list_init(&p->node);
    }
    if (!h2o_linklist_is_empty(&r->ctx.http1._conns)
        || !h2o_linklist_is_empty(&r->ctx.http2._conns)) {
        /* Open connections still use the context; the loop's final
         * uv_walk closes their sockets.  Keep 'r' for them. */
        r->listener->data = NULL;
        uv_close((uv_handle_t *) r->listener, listener_closed);
        rest_lingering = r;
        return;
    }
    /* Close the listener first: close callbacks run last-closed-first, so
     * listener_closed() frees 'r' after the context's own handles. */
    uv_close((uv_handle_t *) r->listener, listener_closed);
    h2o_context_dispose(&r->ctx);
}
