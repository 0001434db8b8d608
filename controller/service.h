/* service.h - the one write path below the northbound API.
 *
 * Every write (network create/patch/delete, hypervisor create/delete, port
 * create/move/delete) goes through one nvo_svc_*() call, which owns, in
 * this order:
 *
 *   1. checks: request syntax (validate.h) and the model pre-checks (names
 *      exist, no duplicate name/VNI/tunnel IP/MAC/interface, nothing still
 *      in use), with messages naming what is wrong;
 *   2. the store write (store.h), committed asynchronously and possibly
 *      together with other writes (group commit);
 *   3. once committed, in commit order: the model update, the model
 *      revision, and the publish to every affected hypervisor (ctl.h);
 *   4. with 'wait': waiting until every affected hypervisor confirmed the
 *      revision (timeout: ctl->wait_timeout_ms).
 *
 * Pre-checks run against the model, which holds committed writes only: two
 * concurrent writes may both pass them and then one fails in the store
 * (its constraints are the final word).  A store conflict is then
 * explained by running the pre-check again against the model as it is
 * after the earlier writes, so the answer names the conflicting object.
 * The checks the store does not enforce (a network's members share one
 * underlay address family; a service-node network has no IPv6 member)
 * also count the writes still committing, so no two writes in flight
 * break them together.
 *
 * Writes made elsewhere (another controller of a cluster) arrive through
 * the store's change callback and take step 3 the same way.
 *
 * A call's callback, with the result (states of a call):
 *
 *   checks fail ----------------------------> cb(error, final)  (at once)
 *   CHECKED --store fails-------------------> cb(error, final)
 *   CHECKED --committed, no wait------------> cb(OK, final)
 *   CHECKED --committed, wait---------------> cb(OK, not final) -> WAITING
 *   WAITING --every affected hv confirmed---> cb(OK, final)
 *   WAITING --timeout-----------------------> cb(NVO_SVC_TIMEOUT, final)
 *   any state --nvo_svc_call_cancel()-------> no more callbacks (a write
 *                                             already submitted still
 *                                             commits)
 *
 * Errors carry a kind (independent of HTTP; REST maps it to a status), a
 * stable machine-readable code ("mac_in_use", ...) and a message.
 *
 * Single-threaded: the libuv main thread. */
#ifndef NVO_SERVICE_H
#define NVO_SERVICE_H 1

#include <stdbool.h>
#include <stdint.h>

#include "controller/validate.h"

struct nvo_ctl;
struct nvo_svc;
struct nvo_svc_call;

enum nvo_svc_status {
    NVO_SVC_OK,
    NVO_SVC_INVALID,            /* Malformed or not allowed (400). */
    NVO_SVC_NOT_FOUND,          /* Names something that does not exist. */
    NVO_SVC_CONFLICT,           /* Clashes with the current state (409). */
    NVO_SVC_UNAVAILABLE,        /* The store takes no writes now (503). */
    NVO_SVC_TIMEOUT,            /* Committed, not confirmed in time (504). */
    NVO_SVC_APPLY_FAILED,       /* Committed; a hypervisor could not apply
                                 * it (502; it keeps retrying). */
    NVO_SVC_STORAGE_FULL,       /* The store's disk is full: nothing was
                                 * written (507). */
    NVO_SVC_FAILED,             /* The store failed (500). */
};

struct nvo_svc_result {
    enum nvo_svc_status status;
    bool final;                 /* No callback follows. */
    const char *code;           /* Static, e.g. "mac_in_use"; NULL if OK. */
    const char *message;        /* Error message; NULL if OK. */
    int64_t revision;           /* The write's revision once committed. */

    /* With a non-final or a no-wait OK: the object as committed (borrowed
     * from the model, valid during the callback only); all NULL for a
     * delete. */
    const struct nvo_network *network;
    const struct nvo_hypervisor *hv;
    const struct nvo_port *port;
};

/* 'r' and everything it points to are borrowed for the call. */
typedef void nvo_svc_cb(void *aux, const struct nvo_svc_result *r);

/* Creates the service for 'ctl' (whose store and model are set) and
 * subscribes to the store's changes.  Owned by the caller, usually as
 * ctl->svc (nvo_ctl_destroy() destroys it). */
struct nvo_svc *nvo_svc_create(struct nvo_ctl *ctl);

/* Frees 's' and its unfinished calls, making no callback.  Call after the
 * store was closed (no write completion may follow).  Accepts NULL. */
void nvo_svc_destroy(struct nvo_svc *s);

/* The writes.  Request strings are copied.  Each returns a handle valid
 * until the final callback (for nvo_svc_call_cancel()), or NULL if the
 * final callback was already made (a check failed). */
struct nvo_svc_call *nvo_svc_network_create(struct nvo_svc *,
                                            const struct nvo_net_req *,
                                            bool wait, nvo_svc_cb *,
                                            void *aux);

/* PATCH of network 'name': 'bum', 'arp_responder' and 'mtu' may change
 * (at least one given); 'name'/'vni'/'encap' present with other values are
 * refused ("immutable"). */
struct nvo_net_patch {
    const char *name;           /* NULL: absent. */
    bool has_vni;
    int64_t vni;
    const char *encap;          /* NULL: absent. */
    const char *bum;            /* NULL: unchanged. */
    bool has_arp_responder;
    bool arp_responder;
    bool has_mtu;
    int64_t mtu;
};
struct nvo_svc_call *nvo_svc_network_patch(struct nvo_svc *,
                                           const char *name,
                                           const struct nvo_net_patch *,
                                           bool wait, nvo_svc_cb *,
                                           void *aux);
struct nvo_svc_call *nvo_svc_network_delete(struct nvo_svc *,
                                            const char *name, bool wait,
                                            nvo_svc_cb *, void *aux);

struct nvo_svc_call *nvo_svc_hv_create(struct nvo_svc *,
                                       const struct nvo_hv_req *, bool wait,
                                       nvo_svc_cb *, void *aux);
struct nvo_svc_call *nvo_svc_hv_delete(struct nvo_svc *, const char *name,
                                       bool wait, nvo_svc_cb *, void *aux);

struct nvo_svc_call *nvo_svc_port_create(struct nvo_svc *,
                                         const struct nvo_port_req *,
                                         bool wait, nvo_svc_cb *, void *aux);
/* Migration of port 'id': 'hypervisor' and 'iface' (NULL: unchanged; at
 * least one given). */
struct nvo_svc_call *nvo_svc_port_move(struct nvo_svc *, int64_t id,
                                       const char *hypervisor,
                                       const char *iface, bool wait,
                                       nvo_svc_cb *, void *aux);
struct nvo_svc_call *nvo_svc_port_delete(struct nvo_svc *, int64_t id,
                                         bool wait, nvo_svc_cb *,
                                         void *aux);

/* No more callbacks for 'call' (its caller went away).  Accepts NULL. */
void nvo_svc_call_cancel(struct nvo_svc_call *call);

/* Writes submitted and not yet committed (for /metrics). */
size_t nvo_svc_n_pending(const struct nvo_svc *);

#endif /* controller/service.h */
