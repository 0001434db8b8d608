#include <config.h>
#include "controller/ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/agent-server.h"
#include "controller/cluster.h"
#include "controller/desired.h"
#include "controller/model.h"
#include "controller/service.h"
#include "controller/store.h"
#include "hash.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ctl);

/* What the core knows of one hypervisor. */
struct nvo_ctl_hv {
    struct hmap_node node;      /* In nvo_ctl.hvs, by hv_id. */
    int64_t hv_id;
    enum nvo_dataplane dp;      /* Whose southbound serves it. */
    bool alive;                 /* Agent connected (service nodes). */
    bool seen;                  /* 'alive' was reported since start-up. */
    struct nvo_hv_view *pushed; /* Last view handed to the southbound. */
    int64_t required;           /* Revision it must confirm. */
    int64_t equiv;              /* Latest revision whose view == pushed. */
    int64_t confirmed;          /* Latest revision it holds. */
    int64_t failed;             /* Latest revision it failed to apply. */
    char *failed_error;         /* Why (owned); NULL if none. */
    uint64_t confirmed_at;      /* uv_now() of the last confirmation. */
    bool owned;                 /* This controller programs it (always,
                                 * but in cluster mode, doc/cluster.md). */
    bool sharded;               /* Cluster mode: programmed only by its
                                 * owner. */
    int sn_used;                /* Service nodes: the liveness placement
                                 * last used (1, 0; -1: not yet). */
    uint64_t round;             /* nvo_ctl.n_rounds of the last
                                 * nvo_ctl_publish() that listed it. */
};

struct nvo_ctl_waiter {
    struct ovs_list node;       /* In nvo_ctl.waiters. */
    struct nvo_ctl *ctl;
    int64_t *hv_ids;
    size_t n;
    size_t n_done;              /* hv_ids[0 .. n_done - 1] confirmed. */
    int64_t revision;
    uv_timer_t *timer;          /* Freed in its close callback. */
    nvo_ctl_wait_cb *cb;
    void *aux;
};

static struct nvo_ctl_hv *
ctl_hv_find(const struct nvo_ctl *ctl, int64_t hv_id)
{
    struct nvo_ctl_hv *h;
    HMAP_FOR_EACH_WITH_HASH (h, node, hash_uint64(hv_id), &ctl->hvs) {
        if (h->hv_id == hv_id) {
            return h;
        }
    }
    return NULL;
}

static struct nvo_ctl_hv *
ctl_hv_get(struct nvo_ctl *ctl, int64_t hv_id)
{
    struct nvo_ctl_hv *h = ctl_hv_find(ctl, hv_id);
    if (!h) {
        h = xzalloc(sizeof *h);
        h->hv_id = hv_id;
        h->sn_used = -1;
        hmap_insert(&ctl->hvs, &h->node, hash_uint64(hv_id));
    }
    return h;
}

void
nvo_ctl_init(struct nvo_ctl *ctl, uv_loop_t *loop)
{
    memset(ctl, 0, sizeof *ctl);
    ctl->loop = loop;
    hmap_init(&ctl->hvs);
    ctl->bases = desired_cache_create();
    ovs_list_init(&ctl->waiters);
    ctl->wait_timeout_ms = NVO_CTL_WAIT_TIMEOUT_MS;
    ctl->sn_grace_ms = NVO_CTL_SN_GRACE_MS;
}

static void waiter_finish(struct nvo_ctl_waiter *, bool ok, const char *error);

void
nvo_ctl_destroy(struct nvo_ctl *ctl)
{
    if (!ctl) {
        return;
    }
    struct nvo_ctl_waiter *w;
    LIST_FOR_EACH_SAFE (w, node, &ctl->waiters) {
        waiter_finish(w, false, NULL);
    }
    if (ctl->sn_grace) {
        uv_timer_stop(ctl->sn_grace);
        uv_close((uv_handle_t *) ctl->sn_grace, (uv_close_cb) free);
        ctl->sn_grace = NULL;
    }
    /* Leave the cluster first: peers take the hypervisors over. */
    nvo_cluster_destroy(ctl->cluster);
    ctl->cluster = NULL;
    /* The store first: no write completes into a half-destroyed core. */
    nvo_store_close(ctl->store);
    ctl->store = NULL;
    nvo_svc_destroy(ctl->svc);
    ctl->svc = NULL;
    for (size_t i = 0; i < NVO_CTL_N_DATAPLANES; i++) {
        nvo_sb_destroy(ctl->sbs[i]);
        ctl->sbs[i] = NULL;
    }
    ctl->agents = NULL;
    struct nvo_ctl_hv *h;
    HMAP_FOR_EACH_POP (h, node, &ctl->hvs) {
        nvo_hv_view_destroy(h->pushed);
        free(h->failed_error);
        free(h);
    }
    hmap_destroy(&ctl->hvs);
    desired_cache_destroy(ctl->bases);
    ctl->bases = NULL;
    nvo_model_destroy(ctl->model);
    ctl->model = NULL;
}

/* Cluster mode: a service node's liveness is what its owner says.  The
 * owner itself uses its agent's session once the agent connected to it;
 * until then (it just took the node over) what the previous owner
 * recorded, during a grace period (sn_grace), so a failover of the
 * controller does not move every network off a live node and back. */
static bool
ctl_sn_alive_cluster(struct nvo_ctl *ctl, const struct nvo_hypervisor *hv,
                     const struct nvo_ctl_hv *h)
{
    if (h && h->owned && h->seen) {
        return h->alive;
    }
    int recorded = nvo_cluster_alive(ctl->cluster, hv->name);
    if (h && h->owned) {
        return ctl->sn_presumed_alive && recorded != 0;
    }
    return recorded < 0 ? ctl->sn_presumed_alive : recorded;
}

bool
nvo_ctl_sn_alive(const struct nvo_hypervisor *hv, void *ctl_)
{
    struct nvo_ctl *ctl = ctl_;
    struct nvo_ctl_hv *h = ctl_hv_find(ctl, hv->id);
    if (ctl->cluster) {
        return ctl_sn_alive_cluster(ctl, hv, h);
    }
    return h && h->seen ? h->alive : ctl->sn_presumed_alive;
}

/* Cluster mode: records service node 'hv''s liveness if this controller
 * owns it and the cluster says otherwise. */
static void
record_sn_alive(struct nvo_ctl *ctl, const struct nvo_hypervisor *hv)
{
    const struct nvo_ctl_hv *h = ctl_hv_find(ctl, hv->id);
    if (ctl->cluster && hv->role == NVO_ROLE_SERVICE_NODE && h && h->owned
        && (h->seen || !ctl->sn_presumed_alive)) {
        bool alive = nvo_ctl_sn_alive(hv, ctl);
        if (nvo_cluster_alive(ctl->cluster, hv->name) != alive) {
            nvo_cluster_set_alive(ctl->cluster, hv->name, alive);
        }
    }
}

static int
compare_ids(const void *a_, const void *b_)
{
    const int64_t *a = a_, *b = b_;
    return (*a > *b) - (*a < *b);
}

/* Returns a sorted copy of 'ids' without duplicates, its length in '*np'.
 * Callers collect one id per port, so duplicates are the rule.  Caller
 * frees the result. */
static int64_t *
unique_ids(const int64_t *ids, size_t n, size_t *np)
{
    int64_t *u = xmalloc((n ? n : 1) * sizeof *u);
    size_t k = 0;
    if (n) {
        memcpy(u, ids, n * sizeof *u);
        qsort(u, n, sizeof *u, compare_ids);
        for (size_t i = 0; i < n; i++) {
            if (!k || u[k - 1] != u[i]) {
                u[k++] = u[i];
            }
        }
    }
    *np = k;
    return u;
}

static bool
hv_confirmed(const struct nvo_ctl *ctl, int64_t hv_id, int64_t revision)
{
    const struct nvo_ctl_hv *h = ctl_hv_find(ctl, hv_id);
    if (ctl->cluster && h && !h->owned && h->sharded) {
        /* Another controller programs it and records what it confirmed
         * in the cluster (as OVN's Chassis_Private.nb_cfg); if it has not
         * confirmed 'revision' yet, the record that says it has wakes us
         * (and only that one). */
        const struct nvo_hypervisor *hv = nvo_model_hv_by_id(ctl->model,
                                                             hv_id);
        return !hv || nvo_cluster_watch(ctl->cluster, hv->name, revision)
                      >= revision;
    }
    /* A hypervisor the core never pushed to (deleted, or not affected) has
     * nothing to confirm. */
    return !h || h->confirmed >= revision || h->required < revision;
}

/* Whether every hypervisor of 'w' confirmed.  Those found confirmed are
 * not asked again (what a hypervisor confirmed only grows): each check
 * starts at the first one that was not, so the confirmations of a write
 * to N hypervisors cost O(N) checks in all, not O(N) each. */
static bool
waiter_done(struct nvo_ctl_waiter *w)
{
    while (w->n_done < w->n
           && hv_confirmed(w->ctl, w->hv_ids[w->n_done], w->revision)) {
        w->n_done++;
    }
    return w->n_done == w->n;
}

static void
timer_closed(uv_handle_t *handle)
{
    free(handle);
}

static void
waiter_free(struct nvo_ctl_waiter *w)
{
    ovs_list_remove(&w->node);
    if (w->ctl->cluster && ovs_list_is_empty(&w->ctl->waiters)) {
        nvo_cluster_unwatch(w->ctl->cluster);
    }
    if (w->timer) {
        uv_timer_stop(w->timer);
        uv_close((uv_handle_t *) w->timer, timer_closed);
    }
    free(w->hv_ids);
    free(w);
}

static void
waiter_finish(struct nvo_ctl_waiter *w, bool ok, const char *error)
{
    nvo_ctl_wait_cb *cb = w->cb;
    void *aux = w->aux;
    waiter_free(w);
    cb(aux, ok, error);
}

/* If a hypervisor of 'w' reported it could not apply 'w->revision' (and
 * holds no later one), returns a message naming it (caller frees). */
static char *
waiter_failure(const struct nvo_ctl_waiter *w)
{
    if (!w->ctl->n_failed_hvs) {
        return NULL;            /* The usual case: no scan of w's hvs on
                                 * every confirmation. */
    }
    for (size_t i = 0; i < w->n; i++) {
        const struct nvo_ctl_hv *h = ctl_hv_find(w->ctl, w->hv_ids[i]);
        if (h && h->failed_error && h->failed >= w->revision
            && h->confirmed < w->revision && h->required >= w->revision) {
            const struct nvo_hypervisor *hv
                = nvo_model_hv_by_id(w->ctl->model, h->hv_id);
            return xasprintf("hypervisor %s could not apply revision "
                             "%"PRId64": %s", hv ? hv->name : "?",
                             h->failed, h->failed_error);
        }
    }
    return NULL;
}

/* Finishes 'w' if it is done or failed; returns true if it did. */
static bool
waiter_check(struct nvo_ctl_waiter *w)
{
    if (waiter_done(w)) {
        waiter_finish(w, true, NULL);
        return true;
    }
    char *error = waiter_failure(w);
    if (error) {
        waiter_finish(w, false, error);
        free(error);
        return true;
    }
    return false;
}

static void
check_waiters(struct nvo_ctl *ctl)
{
    struct nvo_ctl_waiter *w;
    LIST_FOR_EACH_SAFE (w, node, &ctl->waiters) {
        waiter_check(w);
    }
}

/* Checks the waiters a confirmation of 'hv_id' may finish: those it
 * blocks (waiter_done() checks in order and stops at the first that has
 * not confirmed, so the others wait for another hypervisor, which this
 * did not change; an owner's record elsewhere comes through
 * nvo_ctl_cluster_changed()).  With a failure pending, every one. */
static void
check_waiters_on(struct nvo_ctl *ctl, int64_t hv_id)
{
    struct nvo_ctl_waiter *w;
    LIST_FOR_EACH_SAFE (w, node, &ctl->waiters) {
        if (ctl->n_failed_hvs
            || (w->n_done < w->n && w->hv_ids[w->n_done] == hv_id)) {
            waiter_check(w);
        }
    }
}

static void
waiter_timeout(uv_timer_t *timer)
{
    waiter_finish(timer->data, false, NULL);
}

struct nvo_ctl_waiter *
nvo_ctl_wait(struct nvo_ctl *ctl, const int64_t *hv_ids, size_t n,
             int64_t revision, uint64_t timeout_ms, nvo_ctl_wait_cb *cb,
             void *aux)
{
    struct nvo_ctl_waiter *w = xzalloc(sizeof *w);
    w->ctl = ctl;
    w->hv_ids = unique_ids(hv_ids, n, &w->n);
    w->revision = revision;
    w->cb = cb;
    w->aux = aux;
    ovs_list_push_back(&ctl->waiters, &w->node);
    if (waiter_check(w)) {
        return NULL;
    }
    w->timer = xmalloc(sizeof *w->timer);
    uv_timer_init(ctl->loop, w->timer);
    w->timer->data = w;
    uv_timer_start(w->timer, waiter_timeout, timeout_ms, 0);
    return w;
}

void
nvo_ctl_wait_cancel(struct nvo_ctl_waiter *w)
{
    if (w) {
        waiter_free(w);
    }
}

/* Recomputes and, if changed, pushes hypervisor 'hv''s view; 'revision' is
 * what it must then confirm.  Only networks in 'net_ids' are recomputed
 * (all if 'n_nets' is NVO_CTL_ALL_NETS). */
/* In cluster mode, reports what hypervisor 'hv' confirmed and has to, for
 * ?wait=1 on every controller (the cluster forgets it unless this
 * controller owns 'hv'). */
static void
record_progress(struct nvo_ctl *ctl, const struct nvo_ctl_hv *h,
                const char *hv_name)
{
    if (ctl->cluster && h->sharded) {
        nvo_cluster_set_progress(ctl->cluster, hv_name, h->confirmed,
                                 h->required);
    }
}

/* Whether this controller programs 'hv': always, but in cluster mode only
 * the hypervisors (OVS, kernel, service nodes) it owns; then '*epoch' (if
 * nonnull) is the epoch it owns 'hv' under. */
static bool
ctl_owns(struct nvo_ctl *ctl, const struct nvo_hypervisor *hv,
         int64_t *epoch)
{
    return !ctl->cluster || nvo_cluster_owns(ctl->cluster, hv->name, epoch);
}

static void sn_grace_start(struct nvo_ctl *);

/* For a write at 'revision': if 'hv' is another controller's as of the
 * last look (in cluster mode, most of the hypervisors a write affects),
 * notes what it has to confirm and returns true: nothing to compute, to
 * ask the cluster or to report for it.  Gaining it calls
 * nvo_ctl_cluster_changed(), which publishes it then: the cluster's map
 * says "mine" only once rebuilt, and every rebuild calls it (a lease lapse
 * only nvo_cluster_owns() saw, which made publish_one() drop it, forces a
 * rebuild too).  It has no
 * report in the cluster: the one it had was dropped when this controller
 * stopped programming it (publish_one()), and none is made while it does
 * not (nvo_ctl_confirmed()), so a report never speaks for a revision
 * this skips (doc/cluster.md, "?wait=1 on any controller", step 3).
 * Otherwise returns false: publish_one() it. */
static bool
publish_foreign(struct nvo_ctl *ctl, struct nvo_ctl_hv *h,
                const struct nvo_hypervisor *hv, int64_t revision)
{
    if (ctl->cluster && h->sharded && !h->owned) {
        h->dp = hv->dataplane;
        h->required = revision;
        return true;
    }
    return false;
}

static void
publish_one(struct nvo_ctl *ctl, const struct nvo_hypervisor *hv,
            struct nvo_ctl_hv *h, const int64_t *net_ids, size_t n_nets,
            int64_t revision, struct desired_cache *cache)
{
    int64_t epoch = 0;
    bool owned = ctl_owns(ctl, hv, &epoch);
    h->sharded = ctl->cluster != NULL;
    if (!owned) {
        h->dp = hv->dataplane;
        h->required = revision;
        if (h->owned) {
            /* Lost it to another controller: stop programming it (its
             * flows and ports stay on the switch). */
            VLOG_INFO("hypervisor %s: no longer ours", hv->name);
            h->owned = false;
            if (ctl->sbs[h->dp]) {
                nvo_sb_release(ctl->sbs[h->dp], hv->id);
            }
        }
        nvo_hv_view_destroy(h->pushed);
        h->pushed = NULL;
        record_progress(ctl, h, hv->name);
        return;
    }
    if (!h->owned) {
        /* Gained (or single controller): a full view; the southbound
         * resyncs against what the switch holds. */
        if (h->sharded) {
            VLOG_INFO("hypervisor %s: ours now", hv->name);
        }
        h->owned = true;
        if (h->sharded && hv->role == NVO_ROLE_SERVICE_NODE) {
            /* Its agent has to come to us: until it does (or the grace
             * ends), go by what the previous owner recorded. */
            h->seen = false;
            sn_grace_start(ctl);
        }
        nvo_hv_view_destroy(h->pushed);
        h->pushed = NULL;
        h->confirmed = 0;
    }
    struct nvo_hv_view *v = desired_compute_cached(ctl->model, hv,
                                                   nvo_ctl_sn_alive, ctl,
                                                   h->pushed, net_ids, n_nets,
                                                   cache);
    v->revision = revision;
    if (h->sharded) {
        v->fence = epoch;
    }
    h->dp = hv->dataplane;
    h->required = revision;
    if (h->pushed && nvo_hv_view_equal(h->pushed, v)) {
        nvo_hv_view_destroy(v);
        h->equiv = revision;
        if (h->confirmed >= h->pushed->revision) {
            h->confirmed = revision;
        }
        record_progress(ctl, h, hv->name);
        return;
    }
    nvo_hv_view_destroy(h->pushed);
    h->pushed = v;
    h->equiv = revision;
    ctl->n_pushes++;
    record_progress(ctl, h, hv->name);
    /* The clones share the (immutable, atomically refcounted) network
     * views with 'h->pushed'. */
    struct nvo_sb *sb = ctl->sbs[h->dp];
    if (sb) {
        nvo_sb_set(sb, nvo_hv_view_clone(v));
    }
}

/* The start-up grace ended: service nodes whose agent did not come back
 * are dead from now on. */
static void
sn_grace_end(uv_timer_t *t)
{
    struct nvo_ctl *ctl = t->data;
    bool changed = false;

    ctl->sn_presumed_alive = false;
    uv_close((uv_handle_t *) ctl->sn_grace, (uv_close_cb) free);
    ctl->sn_grace = NULL;

    struct nvo_hypervisor *hv;
    HMAP_FOR_EACH (hv, id_node, &ctl->model->hvs_by_id) {
        struct nvo_ctl_hv *h = ctl_hv_find(ctl, hv->id);
        if (hv->role == NVO_ROLE_SERVICE_NODE && !(h && h->seen)
            && (!ctl->cluster || (h && h->owned))) {
            VLOG_INFO("service node %s did not connect within %"PRIu64" ms "
                      "of start-up%s; re-placing its networks", hv->name,
                      ctl->sn_grace_ms,
                      ctl->cluster ? " or of this controller taking it" : "");
            changed = true;
            record_sn_alive(ctl, hv);
        }
    }
    if (changed) {
        nvo_ctl_replace_service_nodes(ctl, NULL, 0, ctl->model->revision);
    }
}

void
nvo_ctl_replace_model(struct nvo_ctl *ctl, struct nvo_model *m)
{
    struct nvo_ctl_hv *h;
    HMAP_FOR_EACH_SAFE (h, node, &ctl->hvs) {
        if (!nvo_model_hv_by_id(m, h->hv_id)) {
            nvo_ctl_forget_hv(ctl, h->hv_id, h->dp);
        }
    }
    nvo_model_destroy(ctl->model);
    ctl->model = m;
    /* Its seqnos are not the old model's. */
    desired_cache_destroy(ctl->bases);
    ctl->bases = desired_cache_create();
    nvo_ctl_publish_all(ctl);
}

/* Starts the service nodes' grace period unless it runs: service nodes
 * whose agent did not connect yet are presumed as they were (alive at
 * start-up; in cluster mode as their previous owner recorded). */
static void
sn_grace_start(struct nvo_ctl *ctl)
{
    if (ctl->sn_grace_ms && ctl->loop && !ctl->sn_grace) {
        ctl->sn_presumed_alive = true;
        ctl->sn_grace = xmalloc(sizeof *ctl->sn_grace);
        uv_timer_init(ctl->loop, ctl->sn_grace);
        ctl->sn_grace->data = ctl;
        uv_timer_start(ctl->sn_grace, sn_grace_end, ctl->sn_grace_ms, 0);
    }
}

void
nvo_ctl_publish_all(struct nvo_ctl *ctl)
{
    sn_grace_start(ctl);

    struct nvo_hypervisor *hv;
    HMAP_FOR_EACH (hv, id_node, &ctl->model->hvs_by_id) {
        publish_one(ctl, hv, ctl_hv_get(ctl, hv->id), NULL, NVO_CTL_ALL_NETS,
                    ctl->model->revision, ctl->bases);
    }
    if (ctl->cluster) {
        nvo_cluster_set_revision(ctl->cluster, ctl->model->revision);
    }
    check_waiters(ctl);
}

/* Service nodes: a network's service node depends on the bum mode and on
 * which nodes are alive, so every service node is re-evaluated on writes. */
static void
publish_service_nodes(struct nvo_ctl *ctl, const int64_t *net_ids,
                      size_t n_nets, int64_t revision,
                      struct desired_cache *cache)
{
    if (!ctl->model->n_service_nodes) {
        return;
    }
    struct nvo_hypervisor *hv;
    HMAP_FOR_EACH (hv, id_node, &ctl->model->hvs_by_id) {
        if (hv->role == NVO_ROLE_SERVICE_NODE) {
            struct nvo_ctl_hv *h = ctl_hv_get(ctl, hv->id);
            if (!publish_foreign(ctl, h, hv, revision)) {
                publish_one(ctl, hv, h, net_ids, n_nets, revision, cache);
            }
        }
    }
}

void
nvo_ctl_publish(struct nvo_ctl *ctl, const int64_t *hv_ids, size_t n,
                const int64_t *net_ids, size_t n_nets, int64_t revision)
{
    struct desired_cache *cache = ctl->bases;
    if (n_nets != NVO_CTL_ALL_NETS) {
        for (size_t i = 0; i < n_nets; i++) {
            if (!nvo_model_network_by_id(ctl->model, net_ids[i])) {
                desired_cache_forget(cache, net_ids[i]);    /* Deleted. */
            }
        }
    }
    /* Each hypervisor once, in the order listed (duplicates are the rule:
     * one id per port, or a network's before and after), found once. */
    uint64_t round = ++ctl->n_rounds;
    for (size_t i = 0; i < n; i++) {
        const struct nvo_hypervisor *hv = nvo_model_hv_by_id(ctl->model,
                                                             hv_ids[i]);
        if (!hv || hv->role == NVO_ROLE_SERVICE_NODE) {
            continue;
        }
        struct nvo_ctl_hv *h = ctl_hv_get(ctl, hv->id);
        if (h->round != round) {
            h->round = round;
            if (!publish_foreign(ctl, h, hv, revision)) {
                publish_one(ctl, hv, h, net_ids, n_nets, revision, cache);
            }
        }
    }
    publish_service_nodes(ctl, net_ids, n_nets, revision, cache);
    if (ctl->cluster) {
        /* Every hypervisor 'revision' changed was given it. */
        nvo_cluster_set_revision(ctl->cluster, revision);
    }
    check_waiters(ctl);
}

void
nvo_ctl_network_hvs(struct nvo_ctl *ctl, const struct nvo_network *net,
                    int64_t **ids, size_t *n, size_t *cap)
{
    if (*cap < *n + hmap_count(&net->members) + 1) {
        *cap = *n + hmap_count(&net->members) + 1;
        *ids = xrealloc(*ids, *cap * sizeof **ids);
    }
    const struct nvo_net_member *mb;
    HMAP_FOR_EACH (mb, node, &net->members) {
        (*ids)[(*n)++] = mb->hv->id;
    }
    const struct nvo_hypervisor *sn = desired_service_node(
        ctl->model, net, nvo_ctl_sn_alive, ctl);
    if (sn) {
        if (*n >= *cap) {
            *ids = x2nrealloc(*ids, cap, sizeof **ids);
        }
        (*ids)[(*n)++] = sn->id;
    }
}

void
nvo_ctl_forget_hv(struct nvo_ctl *ctl, int64_t hv_id, enum nvo_dataplane dp)
{
    struct nvo_ctl_hv *h = ctl_hv_find(ctl, hv_id);
    if (h) {
        hmap_remove(&ctl->hvs, &h->node);
        nvo_hv_view_destroy(h->pushed);
        if (h->failed_error) {
            ctl->n_failed_hvs--;
            free(h->failed_error);
        }
        free(h);
    }
    if (ctl->sbs[dp]) {
        nvo_sb_remove(ctl->sbs[dp], hv_id);
    }
    check_waiters(ctl);
}

/* A southbound reported the view of 'revision' (held or failed): every
 * later revision whose view is the same is in the same state.  Returns the
 * latest such revision. */
static int64_t
same_view_revision(const struct nvo_ctl_hv *h, int64_t revision)
{
    if (h->pushed && revision >= h->pushed->revision) {
        return MAX(revision, h->equiv);
    }
    return revision;
}

void
nvo_ctl_confirmed(void *ctl_, int64_t hv_id, int64_t revision)
{
    struct nvo_ctl *ctl = ctl_;
    struct nvo_ctl_hv *h = ctl_hv_find(ctl, hv_id);
    if (!h) {
        return;
    }
    int64_t held = same_view_revision(h, revision);
    h->confirmed_at = uv_now(ctl->loop);
    if (held > h->confirmed) {
        h->confirmed = held;
        /* Cluster mode: reported only while this controller programs it.
         * A late confirmation of one it no longer programs must not make
         * a report (its report was dropped when it stopped, and the next
         * write to it reports nothing: publish_foreign()); one it gains is
         * reported afresh by publish_one(). */
        const struct nvo_hypervisor *hv = (ctl->cluster && h->sharded
                                           && h->owned
                                           ? nvo_model_hv_by_id(ctl->model,
                                                                hv_id)
                                           : NULL);
        if (hv) {
            record_progress(ctl, h, hv->name);
        }
        VLOG_DBG("hypervisor %"PRId64" confirmed revision %"PRId64,
                 hv_id, held);
    }
    if (h->failed_error && h->confirmed >= h->failed) {
        const struct nvo_hypervisor *hv = nvo_model_hv_by_id(ctl->model,
                                                             hv_id);
        VLOG_INFO("hypervisor %s applied revision %"PRId64,
                  hv ? hv->name : "?", h->confirmed);
        free(h->failed_error);
        h->failed_error = NULL;
        ctl->n_failed_hvs--;
        check_waiters(ctl);
        return;
    }
    check_waiters_on(ctl, hv_id);
}

void
nvo_ctl_failed(void *ctl_, int64_t hv_id, int64_t revision,
               const char *error)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    struct nvo_ctl *ctl = ctl_;
    struct nvo_ctl_hv *h = ctl_hv_find(ctl, hv_id);
    if (!h) {
        return;
    }
    int64_t held = same_view_revision(h, revision);
    const struct nvo_hypervisor *hv = nvo_model_hv_by_id(ctl->model, hv_id);
    VLOG_WARN_RL(&rl, "hypervisor %s could not apply revision %"PRId64": %s",
                 hv ? hv->name : "?", held, error);
    h->failed = MAX(h->failed, held);
    if (!h->failed_error) {
        ctl->n_failed_hvs++;
    }
    free(h->failed_error);
    h->failed_error = xstrdup(error && error[0] ? error : "unknown error");
    check_waiters(ctl);
}

void
nvo_ctl_liveness(void *ctl_, int64_t hv_id, bool alive)
{
    struct nvo_ctl *ctl = ctl_;
    struct nvo_ctl_hv *h = ctl_hv_get(ctl, hv_id);
    const struct nvo_hypervisor *hv = nvo_model_hv_by_id(ctl->model, hv_id);
    if (ctl->cluster && !h->owned) {
        /* Released (its agent is being sent to the new owner): the new
         * owner speaks for it now. */
        return;
    }
    bool was = hv && hv->role == NVO_ROLE_SERVICE_NODE
               ? nvo_ctl_sn_alive(hv, ctl)
               : h->seen ? h->alive : ctl->sn_presumed_alive;
    h->seen = true;
    h->alive = alive;
    if (hv) {
        record_sn_alive(ctl, hv);
    }
    if (was == alive) {
        return;
    }
    if (!hv || hv->role != NVO_ROLE_SERVICE_NODE) {
        return;
    }
    VLOG_INFO("service node %s is %s; re-placing its networks", hv->name,
              alive ? "up" : "down");
    nvo_ctl_replace_service_nodes(ctl, NULL, 0, ctl->model->revision);
}

void
nvo_ctl_replace_service_nodes(struct nvo_ctl *ctl, const int64_t *hv_ids,
                              size_t n_hvs, int64_t revision)
{
    if (ctl->cluster) {
        /* What the placement below goes by (nvo_ctl_cluster_changed()
         * re-places when it changes). */
        struct nvo_hypervisor *sn;
        HMAP_FOR_EACH (sn, id_node, &ctl->model->hvs_by_id) {
            if (sn->role == NVO_ROLE_SERVICE_NODE) {
                ctl_hv_get(ctl, sn->id)->sn_used = nvo_ctl_sn_alive(sn, ctl);
            }
        }
    }
    /* Every hypervisor in a service-node network may get another node. */
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < n_hvs; i++) {
        if (n >= cap) {
            ids = x2nrealloc(ids, &cap, sizeof *ids);
        }
        ids[n++] = hv_ids[i];
    }
    struct nvo_network *net;
    HMAP_FOR_EACH (net, id_node, &ctl->model->networks_by_id) {
        if (net->bum == NVO_BUM_SERVICE_NODE) {
            nvo_ctl_network_hvs(ctl, net, &ids, &n, &cap);
        }
    }
    /* Moving networks between service nodes may change any network. */
    nvo_ctl_publish(ctl, ids, n, NULL, NVO_CTL_ALL_NETS, revision);
    free(ids);
}

void
nvo_ctl_hv_status(struct nvo_ctl *ctl, int64_t hv_id,
                  struct nvo_sb_status *st, int64_t *required)
{
    const struct nvo_ctl_hv *h = ctl_hv_find(ctl, hv_id);
    memset(st, 0, sizeof *st);
    st->state = NVO_SB_UNKNOWN;
    st->n_flows = -1;
    if (h && ctl->sbs[h->dp]) {
        nvo_sb_status(ctl->sbs[h->dp], hv_id, st);
    }
    st->confirmed_revision = h ? h->confirmed : 0;
    st->confirmed_at_ms = h ? h->confirmed_at : 0;
    if (h && h->failed_error && h->failed > h->confirmed) {
        snprintf(st->apply_error, sizeof st->apply_error,
                 "revision %"PRId64": %s", h->failed, h->failed_error);
    }
    if (!h || h->dp != NVO_DP_OVS) {
        st->n_flows = -1;
    }
    *required = h ? h->required : 0;
    if (ctl->cluster && h && !h->owned && h->sharded) {
        /* Another controller programs it: what it recorded. */
        const struct nvo_hypervisor *hv = nvo_model_hv_by_id(ctl->model,
                                                             hv_id);
        if (hv) {
            /* Its owner's record may speak for a later revision that did
             * not change it; show what the owner itself shows. */
            st->confirmed_revision = MIN(nvo_cluster_confirmed(ctl->cluster,
                                                               hv->name),
                                         h->required);
            char *owner = nvo_cluster_owner(ctl->cluster, hv->name);
            snprintf(st->detail, sizeof st->detail, "programmed by %s",
                     owner ? owner : "no controller yet");
            free(owner);
        }
    }
}

bool
nvo_ctl_port_drops(struct nvo_ctl *ctl, const struct nvo_port *port,
                   uint64_t *packets)
{
    enum nvo_dataplane dp = port->hypervisor->dataplane;
    return (dp < NVO_CTL_N_DATAPLANES
            && nvo_sb_port_drops(ctl->sbs[dp], port->id, packets));
}

const struct nvo_hv_view *
nvo_ctl_hv_view(const struct nvo_ctl *ctl, int64_t hv_id)
{
    const struct nvo_ctl_hv *h = ctl_hv_find(ctl, hv_id);
    return h ? h->pushed : NULL;
}

/* Bytes an encapsulation adds to a VM's frame (outer Ethernet + IPv4 +
 * UDP + VXLAN/Geneve header, or + GRE with key). */
static int
encap_overhead(enum nvo_encap encap)
{
    return encap == NVO_ENCAP_GRE ? 14 + 20 + 8 : 14 + 20 + 8 + 8;
}

void
nvo_ctl_mtu_check(struct nvo_ctl *ctl, const struct nvo_network *net,
                  struct nvo_mtu_check *c)
{
    int64_t *ids = NULL;
    size_t n = 0, cap = 0, n_unique;

    memset(c, 0, sizeof *c);
    ds_init(&c->too_small);
    ds_init(&c->unknown);
    c->required = net->mtu + encap_overhead(net->encap);
    c->ok = true;
    nvo_ctl_network_hvs(ctl, net, &ids, &n, &cap);
    int64_t *u = unique_ids(ids, n, &n_unique);
    for (size_t i = 0; i < n_unique; i++) {
        const struct nvo_hypervisor *hv = nvo_model_hv_by_id(ctl->model,
                                                             u[i]);
        if (!hv) {
            continue;
        }
        struct nvo_sb_status st;
        int64_t required;
        nvo_ctl_hv_status(ctl, hv->id, &st, &required);
        int need = c->required + (strchr(hv->tunnel_ip, ':') ? 20 : 0);
        if (!st.underlay_mtu) {
            ds_put_format(&c->unknown, "%s%s", c->unknown.length ? " " : "",
                          hv->name);
            c->ok = false;
        } else if ((int) st.underlay_mtu < need) {
            ds_put_format(&c->too_small, "%s%s (%"PRIu32")",
                          c->too_small.length ? " " : "", hv->name,
                          st.underlay_mtu);
            c->ok = false;
        }
    }
    free(u);
    free(ids);
}

void
nvo_mtu_check_destroy(struct nvo_mtu_check *c)
{
    if (c) {
        ds_destroy(&c->too_small);
        ds_destroy(&c->unknown);
    }
}

void
nvo_ctl_cluster_changed(void *ctl_)
{
    struct nvo_ctl *ctl = ctl_;
    if (!nvo_cluster_take_owners_changed(ctl->cluster)) {
        /* Only owners' confirmations: they may complete waiters. */
        check_waiters(ctl);
        return;
    }
    struct nvo_hypervisor *hv;
    bool sn_moved = false;
    HMAP_FOR_EACH (hv, id_node, &ctl->model->hvs_by_id) {
        struct nvo_ctl_hv *h = ctl_hv_find(ctl, hv->id);
        if (!h || h->owned != ctl_owns(ctl, hv, NULL)) {
            h = ctl_hv_get(ctl, hv->id);
            publish_one(ctl, hv, h, NULL, NVO_CTL_ALL_NETS,
                        ctl->model->revision, ctl->bases);
        }
        if (hv->role == NVO_ROLE_SERVICE_NODE && h) {
            /* A service node's owner recorded it up or down. */
            int alive = nvo_ctl_sn_alive(hv, ctl);
            if (h->sn_used >= 0 && h->sn_used != alive) {
                VLOG_INFO("service node %s is %s (its owner says); "
                          "re-placing its networks", hv->name,
                          alive ? "up" : "down");
                sn_moved = true;
            }
            h->sn_used = alive;
        }
    }
    if (sn_moved) {
        nvo_ctl_replace_service_nodes(ctl, NULL, 0, ctl->model->revision);
    }
    /* Agents waiting here whose hypervisor has an owner elsewhere now. */
    if (ctl->agents) {
        agent_server_recheck(ctl->agents);
    }
    /* Owners' recorded confirmations may complete waiters. */
    check_waiters(ctl);
}

char *
nvo_ctl_agent_redirect(void *ctl_, const char *name)
{
    struct nvo_ctl *ctl = ctl_;
    return ctl->cluster ? nvo_cluster_redirect(ctl->cluster, name) : NULL;
}

char *
nvo_ctl_hv_owner(struct nvo_ctl *ctl, const struct nvo_hypervisor *hv)
{
    if (!ctl->cluster) {
        return NULL;
    }
    return nvo_cluster_owner(ctl->cluster, hv->name);
}
