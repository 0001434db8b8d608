/* rest-pipeline.h - HTTP/1.1 pipelined writes that share commits.
 *
 * h2o 2.2.5 handles one request of a connection at a time: it parses the
 * next one only once the previous answer is written.  A client that
 * pipelines writes (sends many without waiting) would then get one commit
 * and one fsync per write.  This module reads ahead instead: when a
 * request is still waiting for its answer (a write not yet durable), the
 * writes already in the connection's input buffer behind it are parsed
 * and handled at once, each as a "shadow" request of its own (same
 * routing, authorization, body checks and handlers as any request), so
 * they join the same group commit.  When h2o then gets to such a request,
 * it is answered with its shadow's answer, at once or as soon as that one
 * is known: answers stay in request order, and each write is answered 2xx
 * only once its own data is durable (or, with ?wait=1, confirmed).
 *
 * Only requests whose effects the serial order cannot change are read
 * ahead, and only while the answer so far is not known:
 *   - POST, PATCH and DELETE on /v1/networks, /v1/hypervisors, /v1/ports
 *     (never GETs: they must see the writes before them committed, nor
 *     the operator endpoints), HTTP/1.1, keep-alive, a Content-Length
 *     body of at most NVO_REST_MAX_BODY, no Expect, Upgrade or
 *     Transfer-Encoding (which h2o answers itself), complete in the
 *     buffer, on a connection whose framing screen refused nothing;
 *   - a shadow answered at once (a check failed: it may have failed only
 *     because an earlier write of the pipeline is not committed yet) is
 *     dropped, and reading ahead stops there: h2o handles that request
 *     again in turn, after the earlier answers, as without read-ahead.
 *     A write that passed its checks may meet an earlier one of the
 *     pipeline in the store, which is the final word (service.h), as for
 *     writes on different connections; the checks the store does not
 *     enforce count the writes still committing (service.h), so they
 *     fail at once and the request is handled again in turn.
 *
 * Bounded: at most NVO_REST_PIPELINE_MAX shadows per connection; h2o
 * does not read the socket while a request is being answered, so what
 * can be read ahead is what one read brought (backpressure: the client's
 * further requests wait in the kernel's socket buffers).
 *
 * States of a shadow:
 *
 *   (created, handled) --answered at once--> dropped (h2o handles it)
 *   PENDING --h2o got to it--> MATCHED --answered--> answer sent; freed
 *                                                    with h2o's request
 *   PENDING --answered--> ANSWERED --h2o got to it--> answer sent; freed
 *                                                     with h2o's request
 *   PENDING/ANSWERED --connection closed--> freed (a write already
 *                                           submitted still commits)
 *
 * [Owner: REST.] */
#ifndef NVO_REST_PIPELINE_H
#define NVO_REST_PIPELINE_H 1

#define H2O_USE_LIBUV 1
#include <h2o.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/list.h"

struct nvo_rest;

/* Most shadows alive per connection. */
#define NVO_REST_PIPELINE_MAX 32

/* The read-ahead state of one connection (embedded in it). */
struct rest_pipeline {
    struct nvo_rest *rest;
    h2o_conn_t conn;            /* The shadows' connection. */
    struct ovs_list pending;    /* struct rest_shadow not yet matched, in
                                 * request order. */
    size_t n_shadows;           /* Alive, matched or not. */
    uint64_t end;               /* Stream offset after the last request
                                 * read ahead. */
};

void rest_pipeline_init(struct rest_pipeline *, struct nvo_rest *);
/* Frees the shadows h2o never got to (the connection closed). */
void rest_pipeline_destroy(struct rest_pipeline *);

/* h2o got to the request 'req' that starts at stream offset 'at': if it
 * was read ahead, links it to its shadow, sends the shadow's answer if
 * known (else once it is), and returns true. */
bool rest_pipeline_match(struct rest_pipeline *, h2o_req_t *req,
                         uint64_t at);

/* 'req', which starts at stream offset 'at' and at 'in[0]', waits for its
 * answer: handles the eligible requests after it in 'in' (n bytes, all of
 * them accepted by the framing screen) as shadows. */
void rest_pipeline_read_ahead(struct rest_pipeline *, const char *in,
                              size_t n, uint64_t at);

/* If 'req' is a shadow, keeps its answer (forwarding it if h2o got to the
 * request already) and returns true; the caller answers otherwise.  The
 * arguments are copied. */
bool rest_pipeline_capture(h2o_req_t *req, int status,
                           const char *content_type, const char *body,
                           size_t len);

#endif /* controller/rest-pipeline.h */
