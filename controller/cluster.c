/* cluster.c - controller membership and hypervisor ownership.
 *
 *   main thread (libuv)                 cluster thread (poll_block)
 *   nvo_cluster_owns/owner/confirmed <-- shared map (under mutex)
 *   nvo_cluster_set_confirmed -------->  pending confirmations
 *   changed callback <-- uv_async ------ map rebuilt
 *
 * The cluster thread runs one OVSDB session.  Each tick (every heartbeat
 * period, or sooner when there is work) it commits ONE transaction: its
 * heartbeat (verifying its own row), plus the ownership transitions of
 * doc/cluster.md ("take", "release").  The lease is renewed when that
 * transaction commits: it runs NVO_CLUSTER_LEASE_MS from the moment the
 * transaction was sent.  The confirmed revisions of the hypervisors it owns
 * go in a transaction of their own, sent the moment there is one to record
 * (one in flight at a time, beside the tick's), so a ?wait=1 on another
 * controller never waits behind a heartbeat.
 *
 * The main thread's map is rebuilt only when the hypervisor tables or the
 * peers' states (live, fresh, agent address) change, not on every peer
 * heartbeat: every lookup is by index, so a rebuild is O(hypervisors).
 *
 * Hypervisor states seen from one controller (the owner column is the
 * truth; 'mine' is what the main thread sees):
 *   owner = me, lease valid, not releasing   -> mine
 *   owner = me, releasing (desired owner is
 *     another live controller)               -> not mine; release sent
 *   owner = me, lease expired                -> not mine (until renewed)
 *   owner = none, desired = me               -> take sent
 *   owner = dead peer, desired = me          -> take sent, peer fenced
 *   owner = live peer                        -> not mine */
#include <config.h>
#include "controller/cluster.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "latch.h"
#include "openvswitch/hmap.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-thread.h"
#include "ovsdb-idl.h"
#include "random.h"
#include "schema/nvo-idl.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(cluster);

/* What the main thread sees of one hypervisor. */
struct cl_hv {
    struct hmap_node node;      /* In nvo_cluster.map, by name. */
    char *name;
    char *owner;                /* NULL if none. */
    char *redirect;             /* The owner's agent address "IP:PORT" if
                                 * the owner is another controller whose
                                 * heartbeat is fresh, else NULL. */
    int64_t epoch;
    int64_t confirmed;
    int alive;                  /* Service nodes: 1, 0, -1 (not recorded). */
    bool mine;                  /* Owned by this controller, not releasing. */
};

/* A confirmation or a service node's liveness to record. */
struct cl_confirm {
    struct hmap_node node;      /* In nvo_cluster.confirms, by name. */
    char *name;
    int64_t revision;           /* 0: none. */
    int alive;                  /* 1, 0, -1: none. */
};

/* A peer controller, as this one observes it. */
struct cl_peer {
    struct hmap_node node;      /* In nvo_cluster.peers, by name. */
    char *name;
    int64_t heartbeat;
    int64_t incarnation;
    bool fenced;
    long long int seen_at;      /* When 'heartbeat' last changed. */
    bool present;               /* Row still in the replica. */
};

struct cl_async {
    uv_async_t async;
};

struct nvo_cluster {
    char *name;
    char *remotes;
    char *rest, *agents;

    /* Main thread only. */
    struct cl_async *async;
    nvo_cluster_changed_cb *changed;
    void *aux;
    pthread_t thread;

    /* Shared, under 'mutex'. */
    struct ovs_mutex mutex;
    struct hmap map;            /* Contains struct cl_hv. */
    struct hmap confirms;       /* Contains struct cl_confirm. */
    long long int lease_until;  /* time_msec(); 0: none. */
    int n_live;
    bool owners_changed;        /* 'map' changed more than 'confirmed'
                                 * since nvo_cluster_take_owners_changed(). */
    bool exiting;
    struct latch latch;

    /* Cluster thread only. */
    struct ovsdb_idl *idl;
    struct ovsdb_idl_index *ctl_by_name;  /* Controller by name. */
    struct ovsdb_idl_index *hp_by_hv;     /* Hypervisor_Private by name. */
    int64_t incarnation;
    bool registered;
    struct hmap peers;          /* Contains struct cl_peer. */
    struct sset releasing;      /* Hypervisors being released. */
    struct ovsdb_idl_txn *txn;
    long long int txn_sent;
    bool txn_registers;
    struct ovsdb_idl_txn *ctxn;     /* Confirmations in flight, or NULL. */
    struct hmap csent;              /* Contains struct cl_confirm: what
                                     * 'ctxn' records (requeued if it
                                     * fails). */
    unsigned int hv_seqno, hp_seqno; /* Table seqnos the map reflects. */
    uint32_t peers_sig;             /* Peer states the map reflects. */
    long long int next_tick;
    bool plan_dirty;                /* The next tick plans ownership: the
                                     * hypervisor tables, owners, peers or
                                     * the lease changed since the last
                                     * plan, or it did something. */
    unsigned int retry_seqno;
    unsigned int map_seqno;
    bool map_lease;
};

uint32_t
nvo_cluster_weight(const char *controller, const char *hv)
{
    return hash_string(hv, hash_string(controller, 0));
}

bool
nvo_cluster_prefers(const char *a, const char *b, const char *hv)
{
    uint32_t wa = nvo_cluster_weight(a, hv), wb = nvo_cluster_weight(b, hv);
    return wa > wb || (wa == wb && strcmp(a, b) > 0);
}

static struct cl_peer *
peer_find(struct nvo_cluster *c, const char *name)
{
    struct cl_peer *p;
    HMAP_FOR_EACH_WITH_HASH (p, node, hash_string(name, 0), &c->peers) {
        if (!strcmp(p->name, name)) {
            return p;
        }
    }
    return NULL;
}

static const struct nvorec_controller *
controller_row(const struct nvo_cluster *c, const char *name)
{
    struct nvorec_controller *key
        = nvorec_controller_index_init_row(c->ctl_by_name);
    nvorec_controller_index_set_name(key, name);
    const struct nvorec_controller *r
        = nvorec_controller_index_find(c->ctl_by_name, key);
    nvorec_controller_index_destroy_row(key);
    return r;
}

static const struct nvorec_hypervisor_private *
hp_row(const struct nvo_cluster *c, const char *hv)
{
    struct nvorec_hypervisor_private *key
        = nvorec_hypervisor_private_index_init_row(c->hp_by_hv);
    nvorec_hypervisor_private_index_set_hypervisor(key, hv);
    const struct nvorec_hypervisor_private *r
        = nvorec_hypervisor_private_index_find(c->hp_by_hv, key);
    nvorec_hypervisor_private_index_destroy_row(key);
    return r;
}

/* Cluster thread: follows peers' heartbeats. */
static void
update_peers(struct nvo_cluster *c, long long int now)
{
    struct cl_peer *p;
    HMAP_FOR_EACH (p, node, &c->peers) {
        p->present = false;
    }
    const struct nvorec_controller *r;
    NVOREC_CONTROLLER_FOR_EACH (r, c->idl) {
        if (!strcmp(r->name, c->name)) {
            continue;
        }
        p = peer_find(c, r->name);
        if (!p) {
            p = xzalloc(sizeof *p);
            p->name = xstrdup(r->name);
            p->heartbeat = r->heartbeat;
            p->incarnation = r->incarnation;
            p->seen_at = now;
            hmap_insert(&c->peers, &p->node, hash_string(r->name, 0));
        } else if (p->heartbeat != r->heartbeat
                   || p->incarnation != r->incarnation) {
            p->heartbeat = r->heartbeat;
            p->incarnation = r->incarnation;
            p->seen_at = now;
        }
        p->fenced = r->fenced;
        p->present = true;
    }
    struct cl_peer *next;
    HMAP_FOR_EACH_SAFE (p, next, node, &c->peers) {
        if (!p->present) {
            hmap_remove(&c->peers, &p->node);
            free(p->name);
            free(p);
        }
    }
}


/* An agent is redirected to a peer only while the peer's heartbeat is this
 * fresh: one that has just died keeps the agent waiting here instead of
 * bouncing it to a closed port until a survivor takes the hypervisor. */
#define CL_FRESH_MS (4 * NVO_CLUSTER_HEARTBEAT_MS)

/* The address agents reach 'owner' at, if it is a peer with a fresh
 * heartbeat and a specific agent address; else NULL.  Borrowed. */
static const char *
peer_redirect(struct nvo_cluster *c, const char *owner, long long int now)
{
    const struct cl_peer *p = peer_find(c, owner);
    if (!p || !p->present || p->fenced || now - p->seen_at >= CL_FRESH_MS) {
        return NULL;
    }
    const struct nvorec_controller *r = controller_row(c, owner);
    if (!r || !r->agents || !r->agents[0]
        || !strncmp(r->agents, "0.0.0.0:", 8)
        || !strncmp(r->agents, "[::]:", 5)) {
        return NULL;
    }
    return r->agents;
}

static bool
peer_live(const struct cl_peer *p, long long int now)
{
    return p && p->present && !p->fenced
           && now - p->seen_at < NVO_CLUSTER_DEAD_MS;
}

/* The live controller that should own 'hv', or NULL. */
static const char *
desired_owner(struct nvo_cluster *c, const char *hv, bool self_live,
              long long int now)
{
    const char *best = self_live ? c->name : NULL;
    struct cl_peer *p;
    HMAP_FOR_EACH (p, node, &c->peers) {
        if (peer_live(p, now)
            && (!best || nvo_cluster_prefers(p->name, best, hv))) {
            best = p->name;
        }
    }
    return best;
}

/* A hash of what the main thread's map takes from the peers: which are
 * live, which fresh enough to redirect agents to, and their agent
 * addresses.  Heartbeats alone leave it unchanged. */
static uint32_t
peers_signature(struct nvo_cluster *c, long long int now)
{
    uint32_t sig = 0;
    const struct cl_peer *p;
    HMAP_FOR_EACH (p, node, &c->peers) {
        const char *redirect = peer_redirect(c, p->name, now);
        uint32_t h = hash_string(p->name, 0);
        h = hash_int(peer_live(p, now), h);
        h = hash_string(redirect ? redirect : "", h);
        sig += h;               /* Independent of the peers' order. */
    }
    return sig + hmap_count(&c->peers);
}

static void
cl_hv_free(struct cl_hv *e)
{
    free(e->name);
    free(e->owner);
    free(e->redirect);
    free(e);
}

/* Cluster thread: rebuilds the main thread's map from the replica. */
static void
publish_map(struct nvo_cluster *c, bool lease_valid, long long int now)
{
    struct hmap map = HMAP_INITIALIZER(&map);
    const struct nvorec_hypervisor *h;
    NVOREC_HYPERVISOR_FOR_EACH (h, c->idl) {
        const struct nvorec_hypervisor_private *hp = hp_row(c, h->name);
        struct cl_hv *e = xzalloc(sizeof *e);
        e->name = xstrdup(h->name);
        e->alive = -1;
        if (hp) {
            e->owner = hp->owner ? xstrdup(hp->owner) : NULL;
            if (hp->owner && strcmp(hp->owner, c->name)) {
                e->redirect = nullable_xstrdup(peer_redirect(c, hp->owner,
                                                             now));
            }
            e->epoch = hp->epoch;
            e->confirmed = hp->confirmed;
            e->alive = hp->n_alive ? hp->alive[0] : -1;
            e->mine = lease_valid && hp->owner
                      && !strcmp(hp->owner, c->name)
                      && !sset_contains(&c->releasing, h->name);
        }
        hmap_insert(&map, &e->node, hash_string(e->name, 0));
    }
    int n_live = lease_valid;
    struct cl_peer *p;
    HMAP_FOR_EACH (p, node, &c->peers) {
        n_live += peer_live(p, now);
    }
    c->hv_seqno = ovsdb_idl_table_get_seqno(c->idl, &nvorec_table_hypervisor);
    c->hp_seqno = ovsdb_idl_table_get_seqno(c->idl,
                                            &nvorec_table_hypervisor_private);
    c->peers_sig = peers_signature(c, now);
    c->plan_dirty = true;

    ovs_mutex_lock(&c->mutex);
    hmap_swap(&map, &c->map);
    c->n_live = n_live;
    c->owners_changed = true;
    ovs_mutex_unlock(&c->mutex);

    struct cl_hv *e;
    HMAP_FOR_EACH_POP (e, node, &map) {
        cl_hv_free(e);
    }
    hmap_destroy(&map);
    if (c->async) {
        uv_async_send(&c->async->async);
    }
}

/* Cluster thread: if the replica's changes since the last tracking reset
 * touched only Hypervisor_Private.confirmed (the common case: owners
 * recording what their hypervisors confirmed, several times per write),
 * copies them into the main thread's map in place and returns true;
 * otherwise returns false and the map must be rebuilt. */
static struct cl_hv *map_find(struct nvo_cluster *, const char *hv);

static bool
update_confirmed(struct nvo_cluster *c)
{
    if (ovsdb_idl_table_get_seqno(c->idl, &nvorec_table_hypervisor)
        != c->hv_seqno) {
        return false;
    }
    const struct nvorec_hypervisor_private *hp;
    NVOREC_HYPERVISOR_PRIVATE_FOR_EACH_TRACKED (hp, c->idl) {
        if (nvorec_hypervisor_private_is_new(hp)
            || nvorec_hypervisor_private_is_deleted(hp)
            || nvorec_hypervisor_private_is_updated(
                   hp, NVOREC_HYPERVISOR_PRIVATE_COL_HYPERVISOR)
            || nvorec_hypervisor_private_is_updated(
                   hp, NVOREC_HYPERVISOR_PRIVATE_COL_OWNER)
            || nvorec_hypervisor_private_is_updated(
                   hp, NVOREC_HYPERVISOR_PRIVATE_COL_EPOCH)
            || nvorec_hypervisor_private_is_updated(
                   hp, NVOREC_HYPERVISOR_PRIVATE_COL_ALIVE)) {
            return false;
        }
    }
    ovs_mutex_lock(&c->mutex);
    NVOREC_HYPERVISOR_PRIVATE_FOR_EACH_TRACKED (hp, c->idl) {
        struct cl_hv *e = map_find(c, hp->hypervisor);
        if (e) {
            e->confirmed = hp->confirmed;
        }
    }
    ovs_mutex_unlock(&c->mutex);
    c->hp_seqno = ovsdb_idl_table_get_seqno(c->idl,
                                            &nvorec_table_hypervisor_private);
    if (c->async) {
        uv_async_send(&c->async->async);
    }
    return true;
}

/* Cluster thread: adds the ownership transitions for hypervisor 'h' to
 * 'txn'.  Returns true if it added something. */
static bool
plan_hv(struct nvo_cluster *c, struct ovsdb_idl_txn *txn,
        const struct nvorec_hypervisor *h, long long int now)
{
    const struct nvorec_hypervisor_private *hp = hp_row(c, h->name);
    const char *owner = hp ? hp->owner : NULL;
    const char *want = desired_owner(c, h->name, true, now);

    if (owner && !strcmp(owner, c->name)) {
        if (want && strcmp(want, c->name)) {
            /* Release: stop programming first (the main thread no longer
             * sees it as mine once the map is republished), then give it
             * up. */
            if (!sset_contains(&c->releasing, h->name)) {
                sset_add(&c->releasing, h->name);
                publish_map(c, true, now);
                VLOG_INFO("hypervisor %s: handing over to %s", h->name, want);
            }
            nvorec_hypervisor_private_verify_owner(hp);
            nvorec_hypervisor_private_set_owner(hp, NULL);
            return true;
        }
        sset_find_and_delete(&c->releasing, h->name);
        return false;
    }
    sset_find_and_delete(&c->releasing, h->name);
    if (!want || strcmp(want, c->name)) {
        return false;
    }
    if (!hp) {
        hp = nvorec_hypervisor_private_insert(txn);
        nvorec_hypervisor_private_set_hypervisor(hp, h->name);
        /* Epochs are the switch's OpenFlow primary election generation
         * (fencing, doc/cluster.md), which the switch remembers as long as
         * it runs: a hypervisor deleted and registered again must not
         * start below its old epochs, so a new row starts at the wall
         * clock in ms and each take adds one. */
        int64_t epoch = MAX(1, time_wall_msec());
        nvorec_hypervisor_private_set_owner(hp, c->name);
        nvorec_hypervisor_private_set_epoch(hp, epoch);
        VLOG_INFO("hypervisor %s: taking it (epoch %"PRId64")", h->name,
                  epoch);
        return true;
    }
    if (owner) {
        struct cl_peer *p = peer_find(c, owner);
        if (peer_live(p, now)) {
            return false;           /* It releases it when it sees us. */
        }
        const struct nvorec_controller *r = controller_row(c, owner);
        if (r) {
            /* Fence the dead owner: its next heartbeat (which verifies
             * these columns) fails, so its lease cannot outlive ours. */
            nvorec_controller_verify_heartbeat(r);
            nvorec_controller_verify_fenced(r);
            nvorec_controller_set_fenced(r, true);
        }
        VLOG_INFO("hypervisor %s: taking it from %s, dead (epoch %"PRId64")",
                  h->name, owner, hp->epoch + 1);
    } else {
        VLOG_INFO("hypervisor %s: taking it (epoch %"PRId64")", h->name,
                  hp->epoch + 1);
    }
    nvorec_hypervisor_private_verify_owner(hp);
    nvorec_hypervisor_private_set_owner(hp, c->name);
    nvorec_hypervisor_private_set_epoch(hp, hp->epoch + 1);
    return true;
}

/* Cluster thread: builds and sends this tick's transaction. */
static void
start_tick(struct nvo_cluster *c, long long int now, bool lease_valid)
{
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(c->idl);
    const struct nvorec_controller *me = controller_row(c, c->name);

    c->txn_registers = !c->registered || !me;
    if (!me) {
        me = nvorec_controller_insert(txn);
        nvorec_controller_set_name(me, c->name);
        nvorec_controller_set_heartbeat(me, 1);
    } else {
        nvorec_controller_verify_heartbeat(me);
        nvorec_controller_verify_fenced(me);
        nvorec_controller_verify_incarnation(me);
        nvorec_controller_set_heartbeat(me, me->heartbeat + 1);
    }
    if (c->txn_registers) {
        nvorec_controller_set_incarnation(me, c->incarnation);
        nvorec_controller_set_fenced(me, false);
        nvorec_controller_set_rest(me, c->rest);
        nvorec_controller_set_agents(me, c->agents);
    }

    if (lease_valid && c->registered && c->plan_dirty) {
        /* Plans only when something ownership depends on changed (every
         * such change republishes the map, publish_map()) or the last plan
         * did something: a quiet tick is the heartbeat alone, O(1) instead
         * of O(hypervisors). */
        bool planned = false;
        const struct nvorec_hypervisor *h;
        NVOREC_HYPERVISOR_FOR_EACH (h, c->idl) {
            planned |= plan_hv(c, txn, h, now);
        }
        /* Rows of hypervisors that are gone. */
        struct sset names = SSET_INITIALIZER(&names);
        NVOREC_HYPERVISOR_FOR_EACH (h, c->idl) {
            sset_add(&names, h->name);
        }
        const struct nvorec_hypervisor_private *hp, *next;
        NVOREC_HYPERVISOR_PRIVATE_FOR_EACH_SAFE (hp, next, c->idl) {
            if (!sset_contains(&names, hp->hypervisor)
                && (!hp->owner || !strcmp(hp->owner, c->name))) {
                nvorec_hypervisor_private_delete(hp);
                planned = true;
            }
        }
        sset_destroy(&names);
        c->plan_dirty = planned;
    }
    c->txn = txn;
    c->txn_sent = now;
    c->next_tick = now + NVO_CLUSTER_HEARTBEAT_MS;
}

/* Cluster thread: the tick's transaction finished. */
static void
finish_tick(struct nvo_cluster *c, enum ovsdb_idl_txn_status status)
{
    if (status == TXN_SUCCESS || status == TXN_UNCHANGED) {
        ovs_mutex_lock(&c->mutex);
        c->lease_until = c->txn_sent + NVO_CLUSTER_LEASE_MS;
        ovs_mutex_unlock(&c->mutex);
        if (c->txn_registers) {
            VLOG_INFO("joined the cluster as %s (incarnation %"PRId64")",
                      c->name, c->incarnation);
            c->registered = true;
            c->plan_dirty = true;
        }
    } else if (status == TXN_TRY_AGAIN) {
        c->retry_seqno = ovsdb_idl_get_seqno(c->idl);
        c->plan_dirty = true;
    } else {
        c->plan_dirty = true;
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
        const char *error = ovsdb_idl_txn_get_error(c->txn);
        VLOG_WARN_RL(&rl, "heartbeat transaction %s%s%s",
                     ovsdb_idl_txn_status_to_string(status),
                     error ? ": " : "", error ? error : "");
    }
    ovsdb_idl_txn_destroy(c->txn);
    c->txn = NULL;
}

/* Cluster thread: true if this controller was fenced (declared dead by a
 * peer) or its row was taken over; it then rejoins as a newcomer. */
static bool
check_fenced(struct nvo_cluster *c)
{
    if (!c->registered) {
        return false;
    }
    const struct nvorec_controller *me = controller_row(c, c->name);
    if (me && !me->fenced && me->incarnation == c->incarnation) {
        return false;
    }
    VLOG_WARN("%s: fenced by a peer (declared dead): dropping every "
              "hypervisor and rejoining", c->name);
    ovs_mutex_lock(&c->mutex);
    c->lease_until = 0;
    ovs_mutex_unlock(&c->mutex);
    c->registered = false;
    c->incarnation = (random_uint64() >> 1) | 1;
    return true;
}

static bool
confirms_pending(struct nvo_cluster *c)
{
    ovs_mutex_lock(&c->mutex);
    bool pending = !hmap_is_empty(&c->confirms);
    ovs_mutex_unlock(&c->mutex);
    return pending;
}

/* Adds confirmation 'cf' (taking it) to 'map', keeping the larger revision
 * of the same hypervisor. */
static void
confirm_merge(struct hmap *map, struct cl_confirm *cf)
{
    struct cl_confirm *old;
    HMAP_FOR_EACH_WITH_HASH (old, node, hash_string(cf->name, 0), map) {
        if (!strcmp(old->name, cf->name)) {
            old->revision = MAX(old->revision, cf->revision);
            if (cf->alive >= 0) {
                old->alive = cf->alive;     /* The latest word. */
            }
            free(cf->name);
            free(cf);
            return;
        }
    }
    hmap_insert(map, &cf->node, hash_string(cf->name, 0));
}

/* Cluster thread: sends the pending confirmations of the hypervisors this
 * controller owns in one transaction (doc/cluster.md, "?wait=1 on any
 * controller"). */
static void
start_confirms(struct nvo_cluster *c)
{
    struct hmap pending = HMAP_INITIALIZER(&pending);
    ovs_mutex_lock(&c->mutex);
    hmap_swap(&pending, &c->confirms);
    ovs_mutex_unlock(&c->mutex);

    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(c->idl);
    bool any = false;
    struct cl_confirm *cf;
    HMAP_FOR_EACH_POP (cf, node, &pending) {
        const struct nvorec_hypervisor_private *hp = hp_row(c, cf->name);
        bool set_rev = cf->revision > (hp ? hp->confirmed : INT64_MAX);
        bool set_alive = hp && cf->alive >= 0
                         && (!hp->n_alive || hp->alive[0] != cf->alive);
        if (hp && hp->owner && !strcmp(hp->owner, c->name)
            && (set_rev || set_alive)) {
            if (set_rev) {
                nvorec_hypervisor_private_set_confirmed(hp, cf->revision);
            }
            if (set_alive) {
                bool alive = cf->alive;
                nvorec_hypervisor_private_set_alive(hp, &alive, 1);
            }
            confirm_merge(&c->csent, cf);
            any = true;
        } else {
            free(cf->name);
            free(cf);
        }
    }
    hmap_destroy(&pending);
    if (!any) {
        ovsdb_idl_txn_destroy(txn);
        return;
    }
    c->ctxn = txn;
}

/* Cluster thread: the confirmations' transaction finished; unless it
 * committed, what it carried goes back to be sent again (a row deleted
 * meanwhile drops out then). */
static void
finish_confirms(struct nvo_cluster *c, enum ovsdb_idl_txn_status status)
{
    bool ok = status == TXN_SUCCESS || status == TXN_UNCHANGED;
    if (!ok && status != TXN_TRY_AGAIN) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
        const char *error = ovsdb_idl_txn_get_error(c->ctxn);
        VLOG_WARN_RL(&rl, "confirmation transaction %s%s%s",
                     ovsdb_idl_txn_status_to_string(status),
                     error ? ": " : "", error ? error : "");
    }
    struct cl_confirm *cf;
    ovs_mutex_lock(&c->mutex);
    HMAP_FOR_EACH_POP (cf, node, &c->csent) {
        if (ok) {
            free(cf->name);
            free(cf);
        } else {
            confirm_merge(&c->confirms, cf);
        }
    }
    ovs_mutex_unlock(&c->mutex);
    ovsdb_idl_txn_destroy(c->ctxn);
    c->ctxn = NULL;
}

static void
run_confirms(struct nvo_cluster *c)
{
    if (c->ctxn) {
        enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(c->ctxn);
        if (status != TXN_INCOMPLETE) {
            finish_confirms(c, status);
        }
    }
}

static void *
cluster_thread(void *c_)
{
    struct nvo_cluster *c = c_;

    for (;;) {
        latch_poll(&c->latch);
        ovs_mutex_lock(&c->mutex);
        bool exiting = c->exiting;
        long long int lease_until = c->lease_until;
        ovs_mutex_unlock(&c->mutex);
        if (exiting) {
            break;
        }

        long long int now = time_msec();
        ovsdb_idl_run(c->idl);
        if (c->txn) {
            enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(c->txn);
            if (status != TXN_INCOMPLETE) {
                finish_tick(c, status);
            }
        }
        run_confirms(c);
        bool refenced = ovsdb_idl_has_ever_connected(c->idl)
                        && check_fenced(c);
        ovs_mutex_lock(&c->mutex);
        lease_until = c->lease_until;
        ovs_mutex_unlock(&c->mutex);
        bool lease_valid = now < lease_until;
        if (!lease_valid && c->map_lease) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
            VLOG_WARN_RL(&rl, "%s: lease expired (no heartbeat committed "
                         "for %d ms): programming nothing until renewed",
                         c->name, NVO_CLUSTER_LEASE_MS);
        }
        update_peers(c, now);

        unsigned int seqno = ovsdb_idl_get_seqno(c->idl);
        bool peers_moved = peers_signature(c, now) != c->peers_sig;
        if (peers_moved) {
            /* A peer died, came back or moved: plan the takes and releases
             * at once (or once the tick in flight is done) rather than at
             * the next heartbeat. */
            c->next_tick = MIN(c->next_tick, now);
        }
        bool tables_moved
            = seqno != c->map_seqno
              && (ovsdb_idl_table_get_seqno(c->idl, &nvorec_table_hypervisor)
                  != c->hv_seqno
                  || ovsdb_idl_table_get_seqno(
                         c->idl, &nvorec_table_hypervisor_private)
                     != c->hp_seqno);
        if (lease_valid != c->map_lease || refenced || peers_moved
            || (tables_moved && !update_confirmed(c))) {
            c->map_lease = lease_valid;
            publish_map(c, lease_valid, now);
        }
        ovsdb_idl_track_clear(c->idl);
        c->map_seqno = seqno;

        bool ready = ovsdb_idl_has_ever_connected(c->idl)
                     && ovsdb_idl_is_connected(c->idl);
        if (!c->txn && ready
            && (!c->retry_seqno || c->retry_seqno != seqno)
            && (now >= c->next_tick || c->retry_seqno)) {
            c->retry_seqno = 0;
            start_tick(c, now, lease_valid);
        }
        if (c->txn) {
            enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(c->txn);
            if (status != TXN_INCOMPLETE) {
                finish_tick(c, status);
            }
        }
        if (!c->ctxn && ready && c->registered && lease_valid
            && confirms_pending(c)) {
            start_confirms(c);
            run_confirms(c);
        }

        ovsdb_idl_wait(c->idl);
        if (c->txn) {
            ovsdb_idl_txn_wait(c->txn);
        }
        if (c->ctxn) {
            ovsdb_idl_txn_wait(c->ctxn);
        }
        if (!c->txn && !c->retry_seqno && ready) {
            /* Only when a tick can start then: with one in flight (its
             * completion wakes us), a retry waiting for the replica to
             * change, or no session, a past 'next_tick' would spin. */
            poll_timer_wait_until(c->next_tick);
        }
        if (lease_valid) {
            poll_timer_wait_until(lease_until);
        }
        /* Peers turn dead, and stale for redirects, by time alone: wake
         * when the next one does. */
        poll_timer_wait(NVO_CLUSTER_HEARTBEAT_MS);
        struct cl_peer *p;
        HMAP_FOR_EACH (p, node, &c->peers) {
            if (peer_live(p, now)) {
                poll_timer_wait_until(p->seen_at + NVO_CLUSTER_DEAD_MS);
            }
            if (now - p->seen_at < CL_FRESH_MS) {
                poll_timer_wait_until(p->seen_at + CL_FRESH_MS);
            }
        }
        latch_wait(&c->latch);
        poll_block();
    }
    if (c->txn) {
        ovsdb_idl_txn_destroy(c->txn);
        c->txn = NULL;
    }
    if (c->ctxn) {
        ovsdb_idl_txn_destroy(c->ctxn);
        c->ctxn = NULL;
    }
    return NULL;
}

static void
cluster_async_cb(uv_async_t *async)
{
    struct nvo_cluster *c = async->data;
    if (c && c->changed) {
        c->changed(c->aux);
    }
}

static void
cluster_async_closed(uv_handle_t *handle)
{
    free(CONTAINER_OF(handle, struct cl_async, async));
}

struct nvo_cluster *
nvo_cluster_create(uv_loop_t *loop, const char *remotes, const char *name,
                   const char *rest, const char *agents,
                   nvo_cluster_changed_cb *changed, void *aux)
{
    struct nvo_cluster *c = xzalloc(sizeof *c);
    c->name = xstrdup(name);
    c->remotes = xstrdup(remotes);
    c->rest = nullable_xstrdup(rest);
    c->agents = nullable_xstrdup(agents);
    c->changed = changed;
    c->aux = aux;
    ovs_mutex_init(&c->mutex);
    hmap_init(&c->map);
    hmap_init(&c->confirms);
    hmap_init(&c->csent);
    hmap_init(&c->peers);
    sset_init(&c->releasing);
    latch_init(&c->latch);
    c->incarnation = (random_uint64() >> 1) | 1;
    c->plan_dirty = true;

    c->idl = ovsdb_idl_create(remotes, &nvorec_idl_class, false, true);
    ovsdb_idl_add_table(c->idl, &nvorec_table_controller);
    for (size_t i = 0; i < NVOREC_CONTROLLER_N_COLUMNS; i++) {
        ovsdb_idl_add_column(c->idl, &nvorec_controller_columns[i]);
    }
    ovsdb_idl_add_table(c->idl, &nvorec_table_hypervisor_private);
    for (size_t i = 0; i < NVOREC_HYPERVISOR_PRIVATE_N_COLUMNS; i++) {
        ovsdb_idl_add_column(c->idl, &nvorec_hypervisor_private_columns[i]);
        ovsdb_idl_track_add_column(c->idl,
                                   &nvorec_hypervisor_private_columns[i]);
    }
    ovsdb_idl_add_table(c->idl, &nvorec_table_hypervisor);
    ovsdb_idl_add_column(c->idl, &nvorec_hypervisor_col_name);
    ovsdb_idl_add_column(c->idl, &nvorec_hypervisor_col_dataplane);
    ovsdb_idl_add_column(c->idl, &nvorec_hypervisor_col_role);
    c->ctl_by_name = ovsdb_idl_index_create1(c->idl,
                                             &nvorec_controller_col_name);
    c->hp_by_hv = ovsdb_idl_index_create1(
        c->idl, &nvorec_hypervisor_private_col_hypervisor);
    ovsdb_idl_set_leader_only(c->idl, false);

    if (loop) {
        c->async = xmalloc(sizeof *c->async);
        uv_async_init(loop, &c->async->async, cluster_async_cb);
        c->async->async.data = c;
    }
    c->thread = ovs_thread_create("cluster", cluster_thread, c);
    return c;
}

void
nvo_cluster_destroy(struct nvo_cluster *c)
{
    if (!c) {
        return;
    }
    ovs_mutex_lock(&c->mutex);
    c->exiting = true;
    ovs_mutex_unlock(&c->mutex);
    latch_set(&c->latch);
    xpthread_join(c->thread, NULL);
    if (c->async) {
        c->async->async.data = NULL;
        uv_close((uv_handle_t *) &c->async->async, cluster_async_closed);
    }
    struct cl_hv *e;
    HMAP_FOR_EACH_POP (e, node, &c->map) {
        cl_hv_free(e);
    }
    hmap_destroy(&c->map);
    struct cl_confirm *cf;
    HMAP_FOR_EACH_POP (cf, node, &c->confirms) {
        free(cf->name);
        free(cf);
    }
    hmap_destroy(&c->confirms);
    HMAP_FOR_EACH_POP (cf, node, &c->csent) {
        free(cf->name);
        free(cf);
    }
    hmap_destroy(&c->csent);
    struct cl_peer *p;
    HMAP_FOR_EACH_POP (p, node, &c->peers) {
        free(p->name);
        free(p);
    }
    hmap_destroy(&c->peers);
    sset_destroy(&c->releasing);
    ovsdb_idl_destroy(c->idl);
    latch_destroy(&c->latch);
    ovs_mutex_destroy(&c->mutex);
    free(c->name);
    free(c->remotes);
    free(c->rest);
    free(c->agents);
    free(c);
}

const char *
nvo_cluster_name(const struct nvo_cluster *c)
{
    return c->name;
}

static struct cl_hv *
map_find(struct nvo_cluster *c, const char *hv)
    OVS_REQUIRES(c->mutex)
{
    struct cl_hv *e;
    HMAP_FOR_EACH_WITH_HASH (e, node, hash_string(hv, 0), &c->map) {
        if (!strcmp(e->name, hv)) {
            return e;
        }
    }
    return NULL;
}

bool
nvo_cluster_owns(struct nvo_cluster *c, const char *hv, int64_t *epoch)
{
    long long int now = time_msec();
    ovs_mutex_lock(&c->mutex);
    const struct cl_hv *e = map_find(c, hv);
    bool mine = e && e->mine && now < c->lease_until;
    if (mine && epoch) {
        *epoch = e->epoch;
    }
    ovs_mutex_unlock(&c->mutex);
    return mine;
}

char *
nvo_cluster_owner(struct nvo_cluster *c, const char *hv)
{
    ovs_mutex_lock(&c->mutex);
    const struct cl_hv *e = map_find(c, hv);
    char *owner = e && e->owner ? xstrdup(e->owner) : NULL;
    ovs_mutex_unlock(&c->mutex);
    return owner;
}

char *
nvo_cluster_redirect(struct nvo_cluster *c, const char *hv)
{
    ovs_mutex_lock(&c->mutex);
    const struct cl_hv *e = map_find(c, hv);
    char *redirect = e && !e->mine ? nullable_xstrdup(e->redirect) : NULL;
    ovs_mutex_unlock(&c->mutex);
    return redirect;
}

int64_t
nvo_cluster_confirmed(struct nvo_cluster *c, const char *hv)
{
    ovs_mutex_lock(&c->mutex);
    const struct cl_hv *e = map_find(c, hv);
    int64_t confirmed = e ? e->confirmed : 0;
    ovs_mutex_unlock(&c->mutex);
    return confirmed;
}

/* Queues a confirmation ('revision' > 0) or liveness ('alive' >= 0) of
 * 'hv' for the cluster thread. */
static void
queue_record(struct nvo_cluster *c, const char *hv, int64_t revision,
             int alive)
{
    struct cl_confirm *cf = xmalloc(sizeof *cf);
    cf->name = xstrdup(hv);
    cf->revision = revision;
    cf->alive = alive;
    ovs_mutex_lock(&c->mutex);
    /* The cluster thread takes every pending record when it wakes (or
     * when the confirmations in flight finish): only the first needs to
     * wake it. */
    bool first = hmap_is_empty(&c->confirms);
    confirm_merge(&c->confirms, cf);
    ovs_mutex_unlock(&c->mutex);
    if (first) {
        latch_set(&c->latch);
    }
}

void
nvo_cluster_set_confirmed(struct nvo_cluster *c, const char *hv,
                          int64_t revision)
{
    queue_record(c, hv, revision, -1);
}

void
nvo_cluster_set_alive(struct nvo_cluster *c, const char *hv, bool alive)
{
    queue_record(c, hv, 0, alive);
}

int
nvo_cluster_alive(struct nvo_cluster *c, const char *hv)
{
    ovs_mutex_lock(&c->mutex);
    const struct cl_hv *e = map_find(c, hv);
    int alive = e ? e->alive : -1;
    ovs_mutex_unlock(&c->mutex);
    return alive;
}

bool
nvo_cluster_take_owners_changed(struct nvo_cluster *c)
{
    ovs_mutex_lock(&c->mutex);
    bool changed = c->owners_changed;
    c->owners_changed = false;
    ovs_mutex_unlock(&c->mutex);
    return changed;
}

void
nvo_cluster_get_status(struct nvo_cluster *c, int *n_live, bool *lease_valid)
{
    long long int now = time_msec();
    ovs_mutex_lock(&c->mutex);
    *n_live = c->n_live;
    *lease_valid = now < c->lease_until;
    ovs_mutex_unlock(&c->mutex);
}
