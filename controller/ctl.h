/* ctl.h - the controller core: the context every controller module shares,
 * and the path from a committed store change to confirmed hypervisors.
 *
 * The layers of nvo-controller, top to bottom (doc/controller.md):
 *
 *   rest-*.c     parse JSON into a request, render the result or error
 *       |
 *   service.c    the one write path: checks against the model, store
 *       |        write, then (in commit order) model update, revision,
 *       |        nvo_ctl_publish(), and the ?wait=1 wait (nvo_ctl_wait())
 *       v
 *   store.h      the store interface; store-sqlite.c (group commit: one
 *       |        transaction and fsync per batch, a savepoint per write)
 *   model.c      the in-memory copy of the store that everything reads
 *       |
 *   ctl.c        (this) per hypervisor: desired_compute() (incremental:
 *       |        only the networks the write changed are recomputed);
 *       |        changed views are handed, as copies sharing the immutable
 *       |        network views, to the hypervisor's southbound
 *       v
 *   southbound.h the ops table, one southbound per dataplane: ovs-sb.c
 *                (OVS) and agent-server.c (kernel, service nodes)
 *              <-- southbound confirms R --> nvo_ctl_confirmed()
 *                    completes the ?wait=1 waiters whose hypervisors all
 *                    confirmed R; a waiter's timer fails it otherwise.
 *
 * Per hypervisor the core keeps the last view it pushed, the revision it
 * must confirm ('required') and the one it confirmed.  A write that leaves a
 * hypervisor's view unchanged needs no push: once the pushed view is
 * confirmed, every later revision with the same view counts as confirmed.
 *
 * Single-threaded (libuv main thread). */
#ifndef NVO_CTL_H
#define NVO_CTL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "controller/southbound.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"

#include "controller/model.h"

struct nvo_store;
struct nvo_svc;
struct agent_server;

/* One southbound per dataplane (enum nvo_dataplane). */
#define NVO_CTL_N_DATAPLANES (NVO_DP_KERNEL + 1)

struct nvo_cluster;

struct nvo_ctl {
    uv_loop_t *loop;
    /* Owned; NULL but in cluster mode (doc/cluster.md): which OVS
     * hypervisors this controller programs. */
    struct nvo_cluster *cluster;
    struct nvo_store *store;    /* Owned. */
    struct nvo_model *model;    /* Owned. */
    struct nvo_svc *svc;        /* Owned: the write path (service.h). */
    /* Owned; NULL ones (unit tests) are skipped.  Indexed by dataplane:
     * [NVO_DP_OVS] the OVS southbound, [NVO_DP_KERNEL] the agent server. */
    struct nvo_sb *sbs[NVO_CTL_N_DATAPLANES];
    struct agent_server *agents;/* Borrowed from sbs[NVO_DP_KERNEL] for
                                 * service-node counters (/metrics) and,
                                 * in cluster mode, agent redirects. */
    struct hmap hvs;            /* Contains struct nvo_ctl_hv, by hv_id. */
    /* Owned: each network's ports as the views of its hypervisors share
     * them (desired.h), kept from write to write and updated with what
     * each write changed; reset with the model. */
    struct desired_cache *bases;
    size_t n_failed_hvs;        /* Of those, with a failed_error. */
    struct ovs_list waiters;    /* Contains struct nvo_ctl_waiter. */
    uint64_t wait_timeout_ms;   /* Default ?wait=1 timeout. */
    uint64_t n_pushes;          /* Views handed to southbounds. */
    uint64_t n_rounds;          /* nvo_ctl_publish() calls (dedupes the
                                 * hypervisors each lists). */

    /* Service nodes whose agent has not (re)connected since start-up are
     * presumed alive for 'sn_grace_ms' (nvo_ctl_publish_all() starts it):
     * a controller restart must not move BUM replication (and tear down
     * tunnels) only because the agents have not reconnected yet. */
    bool sn_presumed_alive;
    uint64_t sn_grace_ms;       /* Default NVO_CTL_SN_GRACE_MS. */
    uv_timer_t *sn_grace;       /* Owned; freed in its close callback. */
};

/* Default start-up grace for service nodes (ms): the default agent
 * timeout, within which a live agent reconnects. */
#define NVO_CTL_SN_GRACE_MS 10000

/* Default ?wait=1 timeout (ms); overridable with --wait-timeout. */
#define NVO_CTL_WAIT_TIMEOUT_MS 10000

/* Initializes 'ctl' around 'loop'.  The caller then sets store, model, svc
 * and sbs[], and calls nvo_ctl_publish_all().  Owned by the caller. */
void nvo_ctl_init(struct nvo_ctl *ctl, uv_loop_t *loop);

/* Fails every pending waiter, closes the store, destroys the service (its
 * unfinished calls make no callback), the southbounds and the model.
 * Accepts NULL. */
void nvo_ctl_destroy(struct nvo_ctl *ctl);

/* Pushes every hypervisor's view (at start-up) and starts the service
 * nodes' start-up grace (see 'sn_presumed_alive'), if 'sn_grace_ms'. */
void nvo_ctl_publish_all(struct nvo_ctl *ctl);

/* Replaces ctl->model by 'm' (a fresh load of the store, e.g. after a
 * clustered store lost track of changes; takes ownership): forgets the
 * hypervisors 'm' no longer has, then pushes every hypervisor's view at
 * m->revision. */
void nvo_ctl_replace_model(struct nvo_ctl *ctl, struct nvo_model *m);

/* 'n_nets' for nvo_ctl_publish() when any network may have changed. */
#define NVO_CTL_ALL_NETS SIZE_MAX

/* After a committed write at 'revision': recomputes the views of the
 * hypervisors in 'hv_ids' (their ids; unknown ones are ignored), pushes the
 * ones that changed and sets 'revision' as what each must confirm.  Also
 * re-places service nodes when the write changed which networks use one.
 *
 * 'net_ids' ('n_nets' entries, duplicates harmless) are the networks the
 * write changed (created, deleted, a port added, moved or removed, bum
 * mode): only those are recomputed, the others are shared with the view
 * pushed before.  Pass n_nets = NVO_CTL_ALL_NETS when the write may affect
 * any network (hypervisor created or deleted, service-node liveness). */
void nvo_ctl_publish(struct nvo_ctl *ctl, const int64_t *hv_ids, size_t n,
                     const int64_t *net_ids, size_t n_nets,
                     int64_t revision);

/* Appends to '*ids' (a growing array, '*n' entries, '*cap' capacity, caller
 * frees with free()) the id of every hypervisor with a port in 'net', and of
 * the service node serving it, if any.  Duplicates are harmless. */
void nvo_ctl_network_hvs(struct nvo_ctl *ctl, const struct nvo_network *net,
                         int64_t **ids, size_t *n, size_t *cap);

/* A hypervisor of dataplane 'dp' was deleted: tells its southbound to
 * forget it. */
void nvo_ctl_forget_hv(struct nvo_ctl *ctl, int64_t hv_id,
                       enum nvo_dataplane dp);

/* The set of live service nodes changed (one failed, returned or was
 * deleted): recomputes and pushes, at 'revision', every hypervisor of every
 * service-node network (they may flood to another node now), every service
 * node, and the 'n_hvs' hypervisors in 'hv_ids' besides. */
void nvo_ctl_replace_service_nodes(struct nvo_ctl *ctl, const int64_t *hv_ids,
                                   size_t n_hvs, int64_t revision);

/* Southbound callbacks (nvo_sb_confirm_cb / nvo_sb_liveness_cb); 'aux' is
 * the ctl. */
void nvo_ctl_confirmed(void *ctl, int64_t hv_id, int64_t revision);
/* nvo_sb_failed_cb: fails the waiters of 'revision' on 'hv_id' with
 * 'error' and shows it in the hypervisor's status until it confirms. */
void nvo_ctl_failed(void *ctl, int64_t hv_id, int64_t revision,
                    const char *error);
void nvo_ctl_liveness(void *ctl, int64_t hv_id, bool alive);

/* Status of hypervisor 'hv_id' as GET /v1/hypervisors shows it: the
 * southbound's connection state, what it confirmed (mapped through
 * unchanged views) and what it must confirm. */
void nvo_ctl_hv_status(struct nvo_ctl *ctl, int64_t hv_id,
                       struct nvo_sb_status *st, int64_t *required);

/* The view last handed to hypervisor 'hv_id''s southbound, or NULL
 * (borrowed: valid until the next nvo_ctl_publish()). */
struct nvo_hv_view;
const struct nvo_hv_view *nvo_ctl_hv_view(const struct nvo_ctl *ctl,
                                          int64_t hv_id);

/* Calls 'cb(aux, true, NULL)' once every hypervisor in 'hv_ids' has
 * confirmed 'revision' (at once if they all have), 'cb(aux, false, ERROR)'
 * as soon as one of them reports it could not apply it (ERROR, borrowed for
 * the call, names the hypervisor and what failed), or 'cb(aux, false,
 * NULL)' after 'timeout_ms'.  Returns a handle for nvo_ctl_wait_cancel()
 * (which is valid until 'cb' has been called), or NULL if 'cb' was
 * already called. */
typedef void nvo_ctl_wait_cb(void *aux, bool ok, const char *error);
struct nvo_ctl_waiter *nvo_ctl_wait(struct nvo_ctl *ctl, const int64_t *hv_ids,
                                    size_t n, int64_t revision,
                                    uint64_t timeout_ms,
                                    nvo_ctl_wait_cb *cb, void *aux);
/* Drops a waiter without calling its callback (its client went away). */
void nvo_ctl_wait_cancel(struct nvo_ctl_waiter *);

/* Sets '*packets' to the frames port security dropped on 'port''s
 * interface, as its hypervisor last reported (OVS: the port's drop flows;
 * kernel: the agent's counters), and returns true; false if unknown. */
struct nvo_port;
bool nvo_ctl_port_drops(struct nvo_ctl *ctl, const struct nvo_port *port,
                        uint64_t *packets);

/* Whether every member of 'net' (hypervisors with a port in it and its
 * service node) can carry frames of its "mtu" plus the encapsulation's
 * overhead (VXLAN and Geneve 50 bytes, GRE 42, +20 over IPv6) over its
 * underlay, as the hypervisors report their underlay MTU.  Only meaningful
 * for a network with "mtu" set. */
struct nvo_mtu_check {
    int required;               /* Underlay MTU needed over IPv4. */
    bool ok;                    /* Every member known and large enough. */
    struct ds too_small;        /* "NAME (MTU)" entries, space-separated. */
    struct ds unknown;          /* Names of members not reporting it. */
};
/* Fills '*c' (initialized by the call; free with nvo_mtu_check_destroy()). */
void nvo_ctl_mtu_check(struct nvo_ctl *ctl, const struct nvo_network *net,
                       struct nvo_mtu_check *c);
void nvo_mtu_check_destroy(struct nvo_mtu_check *c);

/* True if service node 'hv' is alive (desired_sn_alive_fn for the ctl). */
bool nvo_ctl_sn_alive(const struct nvo_hypervisor *hv, void *ctl);

/* Cluster mode: ownership or owners' confirmations changed
 * (nvo_cluster_changed_cb; 'ctl' is the ctl).  Starts programming the
 * hypervisors this controller gained, stops those it lost. */
void nvo_ctl_cluster_changed(void *ctl);

/* Cluster mode (agent_server_redirect_cb): the agent address of the
 * controller that owns hypervisor 'name', if another one does (caller
 * frees), else NULL. */
char *nvo_ctl_agent_redirect(void *ctl, const char *name);

/* The name of the controller that programs 'hv' (caller frees), or NULL
 * outside cluster mode or while nobody owns it (a kernel hypervisor: this
 * controller's name if its agent is connected here, else NULL). */
char *nvo_ctl_hv_owner(struct nvo_ctl *ctl, const struct nvo_hypervisor *hv);

#endif /* controller/ctl.h */
