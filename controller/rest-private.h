/* rest-private.h - what the REST modules share (not for other modules).
 *
 *   rest.c              server: listener, h2o setup, routing, responses,
 *                       ?wait=1 handling
 *   rest-pipeline.c     pipelined writes read ahead to share commits
 *   rest-json.c         JSON bodies in (field extraction) and out (objects)
 *   rest-networks.c     /v1/networks
 *   rest-hypervisors.c  /v1/hypervisors
 *   rest-ports.c        /v1/ports
 *   rest-tools.c        operator endpoints: routing of the ones below
 *   rest-status.c       /v1/status
 *   rest-audit.c        /v1/audit (drift audit; ovs-audit.c per switch)
 *   rest-trace.c        /v1/trace (a frame's path per the desired state)
 *   metrics.c           /metrics counters and Prometheus text
 *
 * Handlers answer GETs from the model and hand writes to the service layer
 * (service.h): they parse and render only.  Every handler answers exactly
 * once, through rest_reply_*() or the write path (rest_write_begin()). */
#ifndef NVO_REST_PRIVATE_H
#define NVO_REST_PRIVATE_H 1

#define H2O_USE_LIBUV 1
#include <h2o.h>
#include <jansson.h>
#include <stdbool.h>

/* jansson's names are jansson's: libopenvswitch's JSON functions of the
 * same names are renamed ovs_json_* at build time (lib/ovs-json.syms,
 * checked by tests/check-json-symbols.sh). */
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "controller/metrics.h"
#include "controller/rest-auth.h"
#include "controller/rest-body.h"
#include "openvswitch/compiler.h"
#include "openvswitch/list.h"

struct nvo_ctl;
struct nvo_svc_call;
struct nvo_svc_result;
struct nvo_network;
struct nvo_hypervisor;
struct nvo_port;

/* Largest request body accepted (413 above). */
#define NVO_REST_MAX_BODY (1024 * 1024)

/* The TLS files of an HTTPS listener and what they were when loaded. */
struct rest_tls_file {
    char *name;
    struct timespec mtime;
    off_t size;
    ino_t ino;
};

struct nvo_rest {
    struct nvo_ctl *ctl;
    h2o_globalconf_t config;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx; /* .ssl_ctx: HTTPS, owned; else NULL. */
    uv_tcp_t *listener;         /* Freed in its close callback. */
    struct nvo_rest_auth *auth; /* Bearer tokens, or NULL: no auth. */
    char *token_file;           /* --rest-token-file, or NULL. */
    struct rest_tls_file tls[2]; /* Private key, certificate. */
    uint64_t tls_checked_ms;    /* uv_now() of the last look at them. */
    struct ovs_list conns;      /* struct rest_conn: client connections. */
    uv_prepare_t *prepare;      /* Screens their reads; freed on close. */
    struct ovs_list pending;    /* struct rest_pending: ?wait=1 writes. */
    struct nvo_metrics metrics;
};

/* One request being handled. */
struct rest_call {
    struct nvo_rest *rest;
    struct nvo_ctl *ctl;
    h2o_req_t *req;
    const char *item;           /* "{name}"/"{id}" path part, or NULL. */
    bool wait;                  /* ?wait=1 */
    const char *q_network;      /* ?network= (GET /v1/ports), or NULL. */
    const char *q_hypervisor;   /* ?hypervisor= */
    json_t *body;               /* Parsed object (POST, PATCH), else NULL. */
};

/* rest.c: handles 'req' (an h2o request or a rest-pipeline.c shadow):
 * routing, authorization, body checks, handler. */
void rest_handle(struct nvo_rest *, h2o_req_t *req);
/* rest.c: sends the whole response of 'req' (copied); counts it for
 * /metrics.  A shadow's is kept by rest-pipeline.c instead. */
void rest_send(struct nvo_rest *, h2o_req_t *req, int status,
               const char *content_type, const char *body, size_t len);

/* Method of 'c'. */
bool rest_method_is(const struct rest_call *c, const char *method);

/* Answers 'status' with 'json' (stolen; may be NULL for no body). */
void rest_reply_json(struct rest_call *c, int status, json_t *json);
/* Answers {"error":{"code":CODE,"message":...}} with 'status'. */
void rest_reply_error(struct rest_call *c, int status, const char *code,
                      const char *fmt, ...) OVS_PRINTF_FORMAT(4, 5);
/* Answers 'status' with 'body' as 'content_type'. */
void rest_reply_text(struct rest_call *c, int status,
                     const char *content_type, const char *body, size_t len);

/* A write: 'p = rest_write_begin(c, status)', then
 * 'rest_write_started(p, nvo_svc_*(..., c->wait, rest_write_cb, p))'.
 * The answer comes from the service's result: 'status' (201, 200, 204)
 * with the committed object (and a Location for 201), at once or, with
 * ?wait=1, once confirmed; or the error's JSON. */
struct rest_pending;
struct rest_pending *rest_write_begin(struct rest_call *c, int status);
void rest_write_started(struct rest_pending *p, struct nvo_svc_call *call);
void rest_write_cb(void *p, const struct nvo_svc_result *res);

/* True if the request's method is in 'allow' ("GET, POST"); else answers
 * 405 with an Allow header and returns false. */
bool rest_check_method(struct rest_call *c, const char *allow);

/* rest-tools.c: the operator endpoints (GET /v1/status, /v1/openapi.json,
 * the topology page at /, ...).  Returns true if 'path' is one of them
 * (then it has answered). */
bool rest_tools_route(struct rest_call *c, const char *path);
void rest_status(struct rest_call *c);
void rest_audit_get(struct rest_call *c);
void rest_audit_repair(struct rest_call *c);
void rest_trace(struct rest_call *c);

/* Resource handlers: route on method and c->item. */
void rest_networks(struct rest_call *c);
void rest_hypervisors(struct rest_call *c);
void rest_ports(struct rest_call *c);

/* The resource collections: X(PREFIX, HANDLER, COLLECTION_ALLOW,
 * ITEM_ALLOW) for each.  rest.c routes them (routes[]); rest-pipeline.c
 * reads ahead writes to them and to nothing else. */
#define REST_RESOURCES(X)                                               \
    X("/v1/networks", rest_networks, "GET, POST", "GET, PATCH, DELETE") \
    X("/v1/hypervisors", rest_hypervisors, "GET, POST", "GET, DELETE")  \
    X("/v1/ports", rest_ports, "GET, POST", "GET, PATCH, DELETE")

/* rest.c: if 'error' (a controller/rest-body.h message, freed here) is
 * nonnull, answers 400 "invalid" with it and returns true. */
bool rest_reply_invalid(struct rest_call *c, char *error);

/* rest-json.c: objects as the API shows them (caller owns the result). */
json_t *rest_network_json(const struct nvo_network *);
json_t *rest_hv_json(struct nvo_ctl *, const struct nvo_hypervisor *);
json_t *rest_port_json(const struct nvo_port *);

#endif /* controller/rest-private.h */
