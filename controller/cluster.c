/* cluster.c - controller membership and hypervisor ownership.
 *
 *   main thread (libuv)                 cluster thread (poll_block)
 *   nvo_cluster_owns/owner/confirmed <-- shared map + owners' records
 *   nvo_cluster_set_progress/revision -> progress of owned hypervisors
 *   changed callback <-- nvo_wake ------ map rebuilt or records changed
 *
 * The "cluster thread" is the store's thread (store-ovsdb.c), which runs
 * cluster_run() and cluster_wait() at every iteration of its poll loop,
 * on its OVSDB session: every Raft commit wakes each IDL session (it
 * follows the log index in _Server), so one session per controller, not
 * two, halves what every commit costs every controller.  Each tick (every heartbeat
 * period, or sooner when there is work) it commits ONE transaction: its
 * heartbeat (verifying its own row), plus the ownership transitions of
 * doc/cluster.md ("take", "release").  The lease is renewed when that
 * transaction commits: it runs NVO_CLUSTER_LEASE_MS from the moment the
 * transaction was sent.  What the hypervisors it owns confirmed goes in a
 * transaction of its own (one in flight at a time, beside the tick's), so
 * a ?wait=1 on another controller never waits behind a heartbeat: one
 * compact record per owner (its Controller row's 'confirmed' revision,
 * which covers every hypervisor it owns, and 'behind', the exceptions),
 * not one row per hypervisor (doc/cluster.md, "?wait=1 on any
 * controller", for why it never claims too much).  A record that raises
 * claims only through this controller's own writes waits for the next
 * heartbeat instead: only this controller waits for those, and it goes
 * by its own hypervisors' confirmations.
 *
 * The main thread's map is rebuilt only when the hypervisor tables or the
 * peers' states (live, fresh, agent address) change, not on every peer
 * heartbeat: every lookup is by index, so a rebuild is O(hypervisors).
 *
 * Who should own each hypervisor ("desired") is nvo_cluster_assign()
 * over the replica (assign()): sticky up to a quota of floor(N / K) or
 * ceil(N / K) per live controller, the rest by one deterministic greedy
 * pass.  Hypervisor states seen from one controller (the owner column is
 * the truth; 'mine' is what the main thread sees):
 *   owner = me, lease valid, not releasing   -> mine
 *   owner = me, releasing (above its quota:
 *     desired is another live controller)    -> not mine; release sent
 *   owner = me, lease expired                -> not mine (until renewed)
 *   owner = none, desired = me               -> take sent
 *   owner = dead peer, desired = me          -> take sent, peer fenced
 *   owner = live peer                        -> not mine */
#include <config.h>
#include "controller/cluster.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hash.h"
#include "openvswitch/hmap.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "controller/store-ovsdb.h"
#include "lib/addr.h"
#include "lib/uv-wake.h"
#include "ovs-thread.h"
#include "ovsdb-idl.h"
#include "random.h"
#include "schema/nvo-idl.h"
#include "socket-util.h"
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
    int64_t confirmed;          /* Hypervisor_Private.confirmed: what it
                                 * confirmed as of its last ownership
                                 * change. */
    bool covered;               /* The owner's record speaks for it. */
    int alive;                  /* Service nodes: 1, 0, -1 (not recorded). */
    bool mine;                  /* Owned by this controller, not releasing. */
};

/* An owner's confirmation record: its Controller row's 'confirmed' and
 * 'behind' (doc/cluster.md, "?wait=1 on any controller"). */
struct cl_rec {
    struct hmap_node node;      /* In nvo_cluster.recs, by name. */
    char *name;
    int64_t confirmed;
    char **keys;                /* 'behind': hypervisor names, sorted. */
    int64_t *values;            /* Their revisions. */
    size_t n;
};

/* What the main thread reported of a hypervisor this controller owns. */
struct cl_prog {
    struct hmap_node node;      /* In nvo_cluster.progs, by name. */
    char *name;
    int64_t epoch;              /* The ownership it was reported under. */
    int64_t confirmed;          /* Latest revision it confirmed. */
    int64_t required;           /* Latest revision it must confirm. */
    bool fresh;                 /* Behind for less than CL_HOLD_MS (it
                                 * counts in nvo_cluster.n_fresh). */
    bool kept;                  /* build_record(): its row is still ours. */
};

/* A hypervisor another controller owns that a ?wait=1 waiter of the main
 * thread waits for (nvo_cluster_watch()). */
struct cl_watch {
    struct hmap_node node;      /* In nvo_cluster.watches, by name. */
    char *name;
    int64_t revision;           /* The least revision a waiter needs. */
};

/* A service node's liveness to record. */
struct cl_alive {
    struct hmap_node node;      /* In nvo_cluster.alives, by name. */
    char *name;
    bool alive;
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
    bool dead;                  /* Seen dead at the last run (for the log). */
    bool warmed;                /* warm_paths() ran for it since its
                                 * heartbeat last changed. */
    const struct nvorec_controller *row;  /* Its row, as of the last
                                 * update_peers() (valid until the IDL runs
                                 * again). */
};

struct nvo_cluster {
    char *name;
    char *rest, *agents;
    struct nvo_store *store;    /* Whose thread and session this runs on. */

    /* Main thread only. */
    struct nvo_wake *wake;      /* Wakes it for changes; NULL without a
                                 * loop. */
    uv_timer_t *hold;           /* Runs while a hypervisor is 'fresh': wakes
                                 * the cluster thread at 'fresh_until'
                                 * (hold_expired()), so that falling
                                 * behind does not wake it at once.  NULL
                                 * without a loop (the cluster thread
                                 * then arms its own timer: it reads only
                                 * whether this is NULL, which is set
                                 * before it starts). */
    nvo_cluster_changed_cb *changed;
    void *aux;

    /* Shared, under 'mutex'. */
    struct ovs_mutex mutex;
    struct hmap map;            /* Contains struct cl_hv. */
    struct hmap recs;           /* Contains struct cl_rec: every owner's
                                 * record, consistent with 'map' (both
                                 * change under one lock). */
    struct hmap progs;          /* Contains struct cl_prog. */
    int64_t model_rev;          /* nvo_cluster_set_revision(). */
    bool kicked;                /* The record is to be planned: the
                                 * cluster thread has not yet since. */
    bool kick_urgent;           /* ...and a report since may answer a
                                 * waiter elsewhere
                                 * (nvo_cluster_report_urgent()): only
                                 * then does the kick wake it, */
    bool kick_woken;            /* ...which it did (kick()). */
    bool record_busy;           /* The cluster thread cannot plan a record
                                 * now: one is in flight, or committed and
                                 * not yet in the replica, or failed and
                                 * waits for the replica to move.  What
                                 * ends that wakes it anyway (the reply,
                                 * the echo or its timer, the replica's
                                 * change), and it plans then what was
                                 * kicked meanwhile (record_due()), so
                                 * neither a kick nor the hold's end wakes
                                 * it for that (nvo_cluster_kick_wakes()). */
    size_t n_fresh;             /* Progress entries that are 'fresh'. */
    long long int fresh_from;   /* When the first of them fell behind. */
    long long int fresh_until;  /* Then they are fresh no longer
                                 * (nvo_cluster_hold_until()). */
    bool fresh_answered;        /* One of them (or any hypervisor)
                                 * confirmed since the first fell behind:
                                 * until then the hold ends only at
                                 * fresh_from + CL_HOLD_MAX_MS. */
    struct hmap alives;         /* Contains struct cl_alive. */
    long long int lease_until;  /* time_msec(); 0: none. */
    bool lapse_seen;            /* nvo_cluster_owns() said "not mine" for a
                                 * hypervisor the map says is, the lease
                                 * being past: the main thread may have
                                 * dropped it, and only a map rebuild makes
                                 * it look again (nvo_ctl_cluster_changed()),
                                 * so the cluster thread rebuilds it even if
                                 * it never saw the lease lapse (renewed by
                                 * its first run after 'lease_until'). */
    int n_live;
    bool owners_changed;        /* 'map' changed more than 'confirmed'
                                 * since nvo_cluster_take_owners_changed(). */
    struct hmap watches;        /* Contains struct cl_watch: what the main
                                 * thread's waiters wait for
                                 * (nvo_cluster_watch()).  A change of
                                 * records and 'confirmed' alone wakes it
                                 * only once it raises one of these
                                 * hypervisors' claims to its revision. */

    /* Cluster thread (the store's thread, which hosts it) only. */
    struct ovsdb_idl *idl;      /* The store's session. */
    struct ovsdb_idl_index *ctl_by_name;  /* Controller by name. */
    struct ovsdb_idl_index *hp_by_hv;     /* Hypervisor_Private by name. */
    int64_t incarnation;
    bool registered;
    struct hmap peers;          /* Contains struct cl_peer. */
    const struct nvorec_controller *me;  /* This controller's row in the
                                 * replica as of the last update_peers()
                                 * (valid until the IDL runs again), or
                                 * NULL. */
    struct sset releasing;      /* Hypervisors being released. */
    struct ovsdb_idl_txn *txn;
    long long int txn_sent;
    unsigned int txn_seqno;         /* The replica's seqno 'txn' was built
                                     * from. */
    bool txn_registers;
    bool txn_record;                /* 'txn' carries the record too. */
    size_t txn_takes;               /* Hypervisors 'txn' takes. */
    size_t txn_releases;            /* ...and releases. */
    size_t txn_covers;              /* ...and starts to cover. */
    struct ovsdb_idl_txn *ctxn;     /* The record in flight, or NULL. */
    size_t ctxn_covers;             /* Hypervisors 'ctxn' starts to cover. */
    long long int ctxn_sent;
    unsigned int ctxn_seqno;        /* The replica's seqno it was built
                                     * from. */
    size_t n_covers;                /* build_record(): rows it covers. */
    struct hmap asent;              /* Contains struct cl_alive: what
                                     * 'ctxn' records (requeued if it
                                     * fails). */
    unsigned int cretry_seqno;      /* Record failed: plan again once the
                                     * replica moved past this. */
    bool deferred;                  /* A record raises claims only through
                                     * this controller's own writes: it
                                     * goes in the next heartbeat
                                     * (build_record()). */
    bool echo_wait;                 /* The record committed, the replica
                                     * does not show it yet: */
    int64_t echo_confirmed;         /* ...these values, */
    uint32_t echo_behind;           /* ...(a hash), */
    long long int echo_until;       /* ...or give up waiting then. */
    unsigned int hv_seqno, hp_seqno; /* Table seqnos the map reflects. */
    const struct nvorec_hypervisor_private **own_rows;
                                    /* build_record(): the replica's
                                     * Hypervisor_Private rows this
                                     * controller owns, as of the table's
                                     * seqno 'own_seqno' (rows stay valid
                                     * while it holds: a deletion moves
                                     * it), so that a record visits its
                                     * own rows, not every row. */
    size_t n_own_rows, cap_own_rows;
    unsigned int own_seqno;
    bool own_valid;
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
peer_find(const struct nvo_cluster *c, const char *name)
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

int64_t
nvo_cluster_record_claim(int64_t confirmed, char *const *keys,
                         const int64_t *values, size_t n, const char *hv)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(hv, keys[mid]);
        if (!cmp) {
            return values[mid];
        } else if (cmp < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return confirmed;
}

int64_t
nvo_cluster_progress_claim(int64_t confirmed, int64_t required,
                           int64_t revision)
{
    return confirmed < required ? confirmed : MAX(confirmed, revision);
}

bool
nvo_cluster_claim_urgent(int64_t old, int64_t claim, int64_t required,
                         int64_t foreign)
{
    return MIN(claim, required) > old && foreign > old;
}

/* What the replica says 'hp''s hypervisor confirmed: its owner's record if
 * that covers it, else what the row itself holds. */
static int64_t
row_claim(const struct nvo_cluster *c,
          const struct nvorec_hypervisor_private *hp)
{
    if (hp->covered && hp->owner) {
        const struct nvorec_controller *r = controller_row(c, hp->owner);
        if (r) {
            return nvo_cluster_record_claim(r->confirmed, r->key_behind,
                                            r->value_behind, r->n_behind,
                                            hp->hypervisor);
        }
    }
    return hp->confirmed;
}

static uint32_t
behind_hash(char *const *keys, const int64_t *values, size_t n)
{
    uint32_t h = hash_int(n, 0);
    for (size_t i = 0; i < n; i++) {
        h = hash_string(keys[i], h);
        h = hash_uint64_basis(values[i], h);
    }
    return h;
}

/* True if 'r''s 'behind' is exactly 'keys' -> 'values' (n, sorted). */
static bool
behind_equal(const struct nvorec_controller *r, const char **keys,
             const int64_t *values, size_t n)
{
    if (r->n_behind != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(r->key_behind[i], keys[i])
            || r->value_behind[i] != values[i]) {
            return false;
        }
    }
    return true;
}

static void
cl_rec_free(struct cl_rec *r)
{
    if (r) {
        for (size_t i = 0; i < r->n; i++) {
            free(r->keys[i]);
        }
        free(r->keys);
        free(r->values);
        free(r->name);
        free(r);
    }
}

static void
recs_clear(struct hmap *recs)
{
    struct cl_rec *r;
    HMAP_FOR_EACH_POP (r, node, recs) {
        cl_rec_free(r);
    }
}

/* Cluster thread: copies every owner's record from the replica into
 * 'recs' (empty).  The IDL keeps map columns sorted by key. */
static void
recs_build(struct nvo_cluster *c, struct hmap *recs)
{
    const struct nvorec_controller *row;
    NVOREC_CONTROLLER_FOR_EACH (row, c->idl) {
        struct cl_rec *r = xzalloc(sizeof *r);
        r->name = xstrdup(row->name);
        r->confirmed = row->confirmed;
        r->n = row->n_behind;
        r->keys = xmalloc((r->n ? r->n : 1) * sizeof *r->keys);
        r->values = xmalloc((r->n ? r->n : 1) * sizeof *r->values);
        for (size_t i = 0; i < r->n; i++) {
            r->keys[i] = xstrdup(row->key_behind[i]);
            r->values[i] = row->value_behind[i];
        }
        hmap_insert(recs, &r->node, hash_string(r->name, 0));
    }
}

static const struct cl_rec *
rec_find(const struct hmap *recs, const char *name)
{
    const struct cl_rec *r;
    HMAP_FOR_EACH_WITH_HASH (r, node, hash_string(name, 0), recs) {
        if (!strcmp(r->name, name)) {
            return r;
        }
    }
    return NULL;
}

static struct cl_prog *
prog_find(struct hmap *progs, const char *name)
{
    struct cl_prog *p;
    HMAP_FOR_EACH_WITH_HASH (p, node, hash_string(name, 0), progs) {
        if (!strcmp(p->name, name)) {
            return p;
        }
    }
    return NULL;
}

/* Removes 'p' from c->progs and frees it. */
static void
prog_remove(struct nvo_cluster *c, struct cl_prog *p)
    OVS_REQUIRES(c->mutex)
{
    if (p->fresh) {
        c->n_fresh--;
    }
    hmap_remove(&c->progs, &p->node);
    free(p->name);
    free(p);
}

/* Cluster thread: true if the replica's changes since the last tracking
 * reset touched an owner's record (Controller 'confirmed' or 'behind'). */
static bool
records_moved(struct nvo_cluster *c)
{
    const struct nvorec_controller *r;
    NVOREC_CONTROLLER_FOR_EACH_TRACKED (r, c->idl) {
        if (nvorec_controller_is_new(r) || nvorec_controller_is_deleted(r)
            || nvorec_controller_is_updated(r,
                                            NVOREC_CONTROLLER_COL_CONFIRMED)
            || nvorec_controller_is_updated(r, NVOREC_CONTROLLER_COL_BEHIND)) {
            return true;
        }
    }
    return false;
}

/* Cluster thread: follows peers' heartbeats. */
static void
update_peers(struct nvo_cluster *c, long long int now)
{
    struct cl_peer *p;
    HMAP_FOR_EACH (p, node, &c->peers) {
        p->present = false;
    }
    c->me = NULL;
    const struct nvorec_controller *r;
    NVOREC_CONTROLLER_FOR_EACH (r, c->idl) {
        if (!strcmp(r->name, c->name)) {
            c->me = r;
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
            p->warmed = false;
        }
        p->fenced = r->fenced;
        p->present = true;
        p->row = r;
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
 * bouncing it to a closed port until a survivor takes the hypervisor.
 * Two periods (1.5 s): a commit delayed by load does not make a live peer
 * look stale (which would republish the map), and an agent of a peer cut
 * off the network is not sent after it (a connect that hangs) for long
 * after it went silent. */
#define CL_FRESH_MS (2 * NVO_CLUSTER_HEARTBEAT_MS)

/* The address agents reach 'owner' at, if it is a peer with a fresh
 * heartbeat and a specific agent address; else NULL.  Borrowed. */
static const char *
peer_redirect(struct nvo_cluster *c, const char *owner, long long int now)
{
    const struct cl_peer *p = peer_find(c, owner);
    if (!p || !p->present || p->fenced || now - p->seen_at >= CL_FRESH_MS) {
        return NULL;
    }
    const struct nvorec_controller *r = p->row;
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

/* Cluster thread: logs each peer that turned dead (or live again) since
 * the last run: when a failover starts (doc/cluster.md, "Failover
 * time"). */
static void
log_dead_peers(struct nvo_cluster *c, long long int now)
{
    struct cl_peer *p;
    HMAP_FOR_EACH (p, node, &c->peers) {
        bool dead = !peer_live(p, now);
        if (dead != p->dead) {
            p->dead = dead;
            if (dead) {
                VLOG_INFO("peer %s is dead to us: %s (heartbeat %"PRId64
                          " last changed %lld ms ago)", p->name,
                          p->fenced ? "fenced" : "no new heartbeat",
                          p->heartbeat, now - p->seen_at);
            } else {
                VLOG_INFO("peer %s is live again", p->name);
            }
        }
    }
}

/* nvo_cluster_assign(): one hypervisor, as the passes sort it. */
struct cl_slot {
    const char *hv;
    size_t idx;                 /* Its index in the caller's arrays. */
    int owner;                  /* Its live owner's index, or -1. */
    uint32_t weight;            /* nvo_cluster_weight(owner, hv). */
};

/* By owner, then by weight for the owner, lowest first, then by name. */
static int
compare_by_owner_weight(const void *a_, const void *b_)
{
    const struct cl_slot *a = a_, *b = b_;
    if (a->owner != b->owner) {
        return a->owner < b->owner ? -1 : 1;
    }
    if (a->weight != b->weight) {
        return a->weight < b->weight ? -1 : 1;
    }
    return strcmp(a->hv, b->hv);
}

static int
compare_by_name(const void *a_, const void *b_)
{
    const struct cl_slot *a = a_, *b = b_;
    return strcmp(a->hv, b->hv);
}

/* nvo_cluster_assign(): a controller, to rank by name. */
struct cl_load {
    const char *name;
    size_t idx;                 /* Its index in the caller's 'ctls'. */
};

/* By name. */
static int
compare_loads(const void *a_, const void *b_)
{
    const struct cl_load *a = a_, *b = b_;
    return strcmp(a->name, b->name);
}

void
nvo_cluster_assign(const char *const *ctls, size_t n_ctls,
                   const char *const *hvs, const int *owners, size_t n_hvs,
                   int *want)
{
    for (size_t i = 0; i < n_hvs; i++) {
        want[i] = owners[i];
    }
    if (!n_ctls || !n_hvs) {
        return;
    }
    /* Every controller gets 'base' or 'base' + 1, the latter 'extra' of
     * them. */
    size_t base = n_hvs / n_ctls, extra = n_hvs % n_ctls;
    size_t *count = xcalloc(n_ctls, sizeof *count);
    for (size_t i = 0; i < n_hvs; i++) {
        if (owners[i] >= 0) {
            count[owners[i]]++;
        }
    }

    /* Which owners keep base + 1: those holding more than 'base', in name
     * order, up to 'extra' of them; every other owner keeps 'base'.  An
     * owner above what it keeps gives up its lowest-weight hypervisors.
     * Not "most held first": that order changes as the owners' releases
     * commit one by one, so an owner whose release committed first would
     * rank below those still above base + 1 and release once more, and
     * what they all released could go back to a releaser.  In name order
     * an owner keeps its rank while it releases down to base + 1: every
     * choice of the 'extra' owners moves the same number of
     * hypervisors. */
    struct cl_load *loads = xmalloc(n_ctls * sizeof *loads);
    for (size_t k = 0; k < n_ctls; k++) {
        loads[k] = (struct cl_load) { .name = ctls[k], .idx = k };
    }
    qsort(loads, n_ctls, sizeof *loads, compare_loads);
    size_t *keep = xmalloc(n_ctls * sizeof *keep);
    for (size_t k = 0; k < n_ctls; k++) {
        keep[k] = base;
    }
    size_t slots = extra;
    for (size_t j = 0; j < n_ctls && slots; j++) {
        if (count[loads[j].idx] > base) {
            keep[loads[j].idx] = base + 1;
            slots--;
        }
    }
    free(loads);

    struct cl_slot *hs = xmalloc(n_hvs * sizeof *hs);
    size_t n = 0;
    for (size_t i = 0; i < n_hvs; i++) {
        int o = owners[i];
        if (o >= 0 && count[o] > keep[o]) {
            hs[n++] = (struct cl_slot) {
                .hv = hvs[i], .idx = i, .owner = o,
                .weight = nvo_cluster_weight(ctls[o], hvs[i]),
            };
        }
    }
    qsort(hs, n, sizeof *hs, compare_by_owner_weight);
    for (size_t i = 0; i < n; ) {
        int o = hs[i].owner;
        size_t held = count[o];
        for (size_t j = 0; j < held - keep[o]; j++) {
            want[hs[i + j].idx] = -1;
        }
        count[o] = keep[o];
        i += held;
    }
    free(keep);

    /* One greedy pass in name order over what no live owner keeps: each
     * to the controller that weighs most for it among those below
     * 'base', or if none is, among those at 'base' while fewer than
     * 'extra' hold base + 1.  (Everything finds a place: the owners hold
     * at most N minus what is left.) */
    size_t n_above = 0;
    for (size_t k = 0; k < n_ctls; k++) {
        n_above += count[k] > base;
    }
    n = 0;
    for (size_t i = 0; i < n_hvs; i++) {
        if (want[i] < 0) {
            hs[n++] = (struct cl_slot) { .hv = hvs[i], .idx = i,
                                         .owner = owners[i] };
        }
    }
    qsort(hs, n, sizeof *hs, compare_by_name);
    for (size_t i = 0; i < n; i++) {
        size_t room = base;
        for (size_t k = 0; k < n_ctls; k++) {
            if (count[k] < base) {
                room = base - 1;
                break;
            }
        }
        if (room == base && n_above >= extra) {
            want[hs[i].idx] = hs[i].owner;     /* Not reached. */
            continue;
        }
        int best = -1;
        for (size_t k = 0; k < n_ctls; k++) {
            if (count[k] <= room
                && (best < 0
                    || nvo_cluster_prefers(ctls[k], ctls[best], hs[i].hv))) {
                best = k;
            }
        }
        n_above += count[best] == base;
        count[best]++;
        want[hs[i].idx] = best;
    }
    free(hs);
    free(count);
}

/* Cluster thread: nvo_cluster_assign() over the replica.  The live
 * controllers are this one (if 'self_live') and every live peer but
 * 'gone' (whose hypervisors count as a dead owner's).  Fills 'want'
 * (empty) with each hypervisor's name -> the controller that should own
 * it (borrowed: c->name or a peer's name, valid until update_peers());
 * leaves out those no controller should own (none is live). */
static void
assign(struct nvo_cluster *c, bool self_live, const struct cl_peer *gone,
       long long int now, struct shash *want)
{
    size_t n_ctls = 0;
    const char **ctls = xmalloc((hmap_count(&c->peers) + 1) * sizeof *ctls);
    if (self_live) {
        ctls[n_ctls++] = c->name;
    }
    const struct cl_peer *p;
    HMAP_FOR_EACH (p, node, &c->peers) {
        if (p != gone && peer_live(p, now)) {
            ctls[n_ctls++] = p->name;
        }
    }

    size_t n_hvs = 0, allocated = 0;
    const char **hvs = NULL;
    int *owners = NULL;
    const struct nvorec_hypervisor *h;
    NVOREC_HYPERVISOR_FOR_EACH (h, c->idl) {
        if (n_hvs >= allocated) {
            size_t a = allocated;
            hvs = x2nrealloc(hvs, &a, sizeof *hvs);
            owners = xrealloc(owners, a * sizeof *owners);
            allocated = a;
        }
        const struct nvorec_hypervisor_private *hp = hp_row(c, h->name);
        int o = -1;
        for (size_t k = 0; hp && hp->owner && k < n_ctls; k++) {
            if (!strcmp(hp->owner, ctls[k])) {
                o = k;
                break;
            }
        }
        hvs[n_hvs] = h->name;
        owners[n_hvs++] = o;
    }

    int *w = xmalloc((n_hvs ? n_hvs : 1) * sizeof *w);
    nvo_cluster_assign(ctls, n_ctls, hvs, owners, n_hvs, w);
    for (size_t i = 0; i < n_hvs; i++) {
        if (w[i] >= 0) {
            shash_add(want, hvs[i], ctls[w[i]]);
        }
    }
    free(w);
    free(owners);
    free(hvs);
    free(ctls);
}

/* Sends an empty UDP datagram to each of 'dst' (n of them), in one
 * sendmmsg() per address family.  Returns how many went out. */
static size_t
send_empty_datagrams(const struct sockaddr_storage *dst, size_t n)
{
    static const int families[] = { AF_INET, AF_INET6 };
    struct mmsghdr *msgs = xcalloc(n, sizeof *msgs);
    size_t sent = 0;

    for (size_t f = 0; f < ARRAY_SIZE(families); f++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (dst[i].ss_family == families[f]) {
                struct msghdr *m = &msgs[k++].msg_hdr;
                memset(m, 0, sizeof *m);
                m->msg_name = CONST_CAST(struct sockaddr_storage *, &dst[i]);
                m->msg_namelen = ss_length(&dst[i]);
            }
        }
        if (!k) {
            continue;
        }
        int fd = socket(families[f], SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            continue;
        }
        for (size_t done = 0; done < k; ) {
            int retval = sendmmsg(fd, &msgs[done], k - done, MSG_DONTWAIT);
            if (retval <= 0) {
                if (retval < 0 && errno == EINTR) {
                    continue;
                }
                /* An unreachable address (or a full queue): skip it. */
                done++;
                continue;
            }
            done += retval;
            sent += retval;
        }
        close(fd);
    }
    free(msgs);
    return sent;
}

/* Path warm-up (doc/cluster.md, "Failover time").  A peer whose heartbeat
 * has not changed for CL_FRESH_MS (two periods) may be declared dead
 * NVO_CLUSTER_DEAD_MS after that change: then this controller takes its
 * share of the peer's hypervisors and connects to each one's OVSDB and
 * OpenFlow at once.  A connection to an address the kernel has not
 * resolved waits for address resolution (ARP, or neighbor discovery),
 * one broadcast per switch, and in the lab every broadcast wakes every
 * hypervisor's ovs-vswitchd: at 128 hypervisors the OVS thread's first
 * pass over 25 taken switches took 750 ms.  So as soon as a peer looks
 * stale, each hypervisor this controller would take from it gets one
 * empty UDP datagram at its OVSDB remote's address and port, in one
 * sendmmsg(): the kernel resolves their addresses while the peer may
 * still renew, 0.75-1.5 s before the take.  Nothing listens there (the
 * switch's kernel answers port unreachable); no session is opened and
 * nothing about ownership changes.  Once per peer per heartbeat value; a
 * peer that renews costs as many datagrams, to addresses mostly resolved
 * already. */
static void
warm_paths(struct nvo_cluster *c, bool lease_valid, long long int now)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    if (!lease_valid || !c->registered) {
        return;
    }
    struct cl_peer *p;
    HMAP_FOR_EACH (p, node, &c->peers) {
        if (p->warmed || !peer_live(p, now)
            || now - p->seen_at < CL_FRESH_MS) {
            continue;
        }
        p->warmed = true;
        struct sockaddr_storage *dst = NULL;
        size_t n = 0, allocated = 0;
        struct shash want = SHASH_INITIALIZER(&want);
        assign(c, true, p, now, &want);
        const struct nvorec_hypervisor *h;
        NVOREC_HYPERVISOR_FOR_EACH (h, c->idl) {
            const struct nvorec_hypervisor_private *hp = hp_row(c, h->name);
            const char *to = shash_find_data(&want, h->name);
            if (!h->ovsdb || !hp || !hp->owner
                || strcmp(hp->owner, p->name)
                || !to || strcmp(to, c->name)) {
                continue;
            }
            if (n >= allocated) {
                dst = x2nrealloc(dst, &allocated, sizeof *dst);
            }
            if (!nvo_inet_remote_parse(h->ovsdb, NULL, &dst[n])) {
                n++;
            }
        }
        if (n) {
            size_t sent = send_empty_datagrams(dst, n);
            VLOG_INFO_RL(&rl, "peer %s looks stale (heartbeat %"PRId64
                         " last changed %lld ms ago): warming the paths to "
                         "the %"PRIuSIZE" hypervisors we would take from it "
                         "(%"PRIuSIZE" sent)", p->name, p->heartbeat,
                         now - p->seen_at, n, sent);
        }
        shash_destroy(&want);
        free(dst);
    }
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
            e->covered = hp->covered;
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
    struct hmap recs = HMAP_INITIALIZER(&recs);
    recs_build(c, &recs);

    /* The map and the records change together: a waiter must never see a
     * row's 'covered' from one replica state and its owner's record from
     * another. */
    ovs_mutex_lock(&c->mutex);
    hmap_swap(&map, &c->map);
    hmap_swap(&recs, &c->recs);
    c->n_live = n_live;
    c->owners_changed = true;
    c->lapse_seen = false;      /* What it saw, it looks at again. */
    ovs_mutex_unlock(&c->mutex);

    struct cl_hv *e;
    HMAP_FOR_EACH_POP (e, node, &map) {
        cl_hv_free(e);
    }
    hmap_destroy(&map);
    recs_clear(&recs);
    hmap_destroy(&recs);
    if (c->wake) {
        nvo_wake_send(c->wake);
    }
}

static struct cl_hv *map_find(struct nvo_cluster *, const char *hv);
static int64_t claim_of(struct nvo_cluster *, const char *hv);

/* Frees every watch in 'watches', leaving it empty. */
static void
watches_clear(struct hmap *watches)
{
    struct cl_watch *w;
    HMAP_FOR_EACH_POP (w, node, watches) {
        free(w->name);
        free(w);
    }
}

/* Drops the watches that the map and records now satisfy; returns true if
 * there were any (the main thread then has waiters to check). */
static bool
watches_satisfied(struct nvo_cluster *c)
    OVS_REQUIRES(c->mutex)
{
    bool any = false;
    struct cl_watch *w;
    HMAP_FOR_EACH_SAFE (w, node, &c->watches) {
        if (claim_of(c, w->name) >= w->revision) {
            hmap_remove(&c->watches, &w->node);
            free(w->name);
            free(w);
            any = true;
        }
    }
    return any;
}

/* Cluster thread: if the replica's changes since the last tracking reset
 * touched only owners' records and Hypervisor_Private's 'confirmed' and
 * 'covered' (the common case: owners recording what their hypervisors
 * confirmed), copies them into the main thread's map and records in place
 * and returns true; otherwise returns false and the map must be
 * rebuilt. */
static bool
update_confirmed(struct nvo_cluster *c, bool recs_moved)
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
    struct hmap recs = HMAP_INITIALIZER(&recs);
    if (recs_moved) {
        recs_build(c, &recs);
    }
    ovs_mutex_lock(&c->mutex);
    NVOREC_HYPERVISOR_PRIVATE_FOR_EACH_TRACKED (hp, c->idl) {
        struct cl_hv *e = map_find(c, hp->hypervisor);
        if (e) {
            e->confirmed = hp->confirmed;
            e->covered = hp->covered;
        }
    }
    if (recs_moved) {
        hmap_swap(&recs, &c->recs);
    }
    /* Checked under the lock that covers the update: a watch registered
     * after it read the values just copied (nvo_cluster_watch()), so the
     * main thread is woken only when a record raises what one of its
     * waiters waits for, not for every owner's record (several per write
     * on the controller that handled it) nor while it waits for
     * nothing. */
    bool wake = watches_satisfied(c);
    ovs_mutex_unlock(&c->mutex);
    recs_clear(&recs);
    hmap_destroy(&recs);
    c->hp_seqno = ovsdb_idl_table_get_seqno(c->idl,
                                            &nvorec_table_hypervisor_private);
    if (c->wake && wake) {
        nvo_wake_send(c->wake);
    }
    return true;
}

/* Cluster thread: in a transaction that changes 'hp''s owner, takes the
 * hypervisor out of its owner's record: the row keeps what the replica
 * says it confirmed (a revision it did hold) and is no longer covered, so
 * no owner's record speaks for it until its next owner covers it with
 * what it confirmed itself (doc/cluster.md, "?wait=1 on any
 * controller"). */
static void
uncover(const struct nvo_cluster *c,
        const struct nvorec_hypervisor_private *hp)
{
    int64_t claim = row_claim(c, hp);
    if (claim != hp->confirmed) {
        nvorec_hypervisor_private_set_confirmed(hp, claim);
    }
    if (hp->covered) {
        nvorec_hypervisor_private_set_covered(hp, false);
    }
}

/* What a plan does for one hypervisor (plan_action()). */
enum cl_plan {
    CL_PLAN_NONE,               /* Nothing: not mine to take, or mine to
                                 * keep. */
    CL_PLAN_TAKE,               /* This controller's assignment wants it and
                                 * it is unowned or its owner is dead. */
    CL_PLAN_RELEASE,            /* Mine, and the assignment gives it to
                                 * another controller. */
};

/* Cluster thread: what a plan at 'now' does for the hypervisor whose
 * Hypervisor_Private row is 'hp' (NULL if it has none yet), 'want' being
 * the controller that should own it (assign()), NULL if none.  Pure: the
 * one rule that plan_hv() carries out and plan_due() looks ahead with. */
static enum cl_plan
plan_action(const struct nvo_cluster *c,
            const struct nvorec_hypervisor_private *hp, const char *want,
            long long int now)
{
    const char *owner = hp ? hp->owner : NULL;

    if (owner && !strcmp(owner, c->name)) {
        return want && strcmp(want, c->name) ? CL_PLAN_RELEASE
                                             : CL_PLAN_NONE;
    }
    if (!want || strcmp(want, c->name)
        || (owner && peer_live(peer_find(c, owner), now))) {
        return CL_PLAN_NONE;
    }
    return CL_PLAN_TAKE;
}

/* Cluster thread: adds the ownership transitions for hypervisor 'h' to
 * 'txn', 'want' being the controller that should own it (assign()), NULL
 * if none.  Returns true if it added something; sets '*republish' if it
 * started a release or dropped one no longer wanted (the caller then
 * republishes the map before 'txn' goes out). */
static bool
plan_hv(struct nvo_cluster *c, struct ovsdb_idl_txn *txn,
        const struct nvorec_hypervisor *h, const char *want,
        bool *republish, long long int now)
{
    const struct nvorec_hypervisor_private *hp = hp_row(c, h->name);
    const char *owner = hp ? hp->owner : NULL;
    enum cl_plan action = plan_action(c, hp, want, now);

    if (owner && !strcmp(owner, c->name)) {
        if (action == CL_PLAN_RELEASE) {
            /* Release (this controller is above its quota): stop
             * programming first (the main thread no longer sees it as
             * mine once the map is republished, before 'txn' is sent),
             * then give it up.  'want' is who the greedy pass gives it
             * to; any controller with room may take it. */
            if (!sset_contains(&c->releasing, h->name)) {
                sset_add(&c->releasing, h->name);
                *republish = true;
                VLOG_INFO("hypervisor %s: handing over to %s", h->name, want);
            }
            nvorec_hypervisor_private_verify_owner(hp);
            nvorec_hypervisor_private_set_owner(hp, NULL);
            uncover(c, hp);
            c->txn_releases++;
            return true;
        }
        if (sset_find_and_delete(&c->releasing, h->name)) {
            /* A release that failed and is no longer wanted: it is mine
             * again, and the main thread must see that. */
            *republish = true;
        }
        return false;
    }
    sset_find_and_delete(&c->releasing, h->name);
    if (action != CL_PLAN_TAKE) {
        return false;               /* Not mine to take, or its live
                                     * owner releases it: it is above its
                                     * quota. */
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
        c->txn_takes++;
        return true;
    }
    if (owner) {
        const struct nvorec_controller *r = controller_row(c, owner);
        if (r) {
            /* Fence the dead owner: its next heartbeat (which verifies
             * its heartbeat and 'fenced') fails, so its lease cannot
             * outlive ours.  Only the heartbeat is verified: every
             * transaction of the owner that could clear 'fenced' bumps
             * it, and the other survivors fencing it in their takes at
             * the same moment (setting 'fenced' too) must not make every
             * take but one fail and wait for a retry. */
            nvorec_controller_verify_heartbeat(r);
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
    uncover(c, hp);
    c->txn_takes++;
    return true;
}

static bool build_record(struct nvo_cluster *, bool lazy);
static void set_record_busy(struct nvo_cluster *);
static void record_done(struct nvo_cluster *, struct ovsdb_idl_txn *,
                        enum ovsdb_idl_txn_status, size_t n_covers,
                        long long int sent, unsigned int sent_seqno,
                        long long int now);

/* Cluster thread: builds and sends this tick's transaction if it is 'due'
 * or, with 'with_record', if the record has something to send: the record
 * then goes in it (one commit instead of two: every commit wakes every
 * controller's sessions), and the heartbeat is early. */
static void
start_tick(struct nvo_cluster *c, long long int now, bool lease_valid,
           bool due, bool with_record)
{
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(c->idl);
    bool record = with_record && build_record(c, due);
    if (!due && !record) {
        ovsdb_idl_txn_destroy(txn);
        return;
    }
    c->txn_covers = record ? c->n_covers : 0;
    c->txn_takes = 0;
    c->txn_releases = 0;
    const struct nvorec_controller *me = c->me;  /* update_peers() */

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
        bool planned = false, republish = false;
        struct shash want = SHASH_INITIALIZER(&want);
        assign(c, true, NULL, now, &want);
        const struct nvorec_hypervisor *h;
        NVOREC_HYPERVISOR_FOR_EACH (h, c->idl) {
            planned |= plan_hv(c, txn, h, shash_find_data(&want, h->name),
                               &republish, now);
        }
        shash_destroy(&want);
        if (republish) {
            /* Once for every release of this plan, before 'txn' is sent:
             * the main thread stops programming them first (and takes
             * back a failed release that is no longer wanted). */
            publish_map(c, true, now);
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
    c->txn_record = record;
    if (record) {
        set_record_busy(c);
    }
    c->txn = txn;
    c->txn_sent = now;
    c->txn_seqno = ovsdb_idl_get_seqno(c->idl);
    c->next_tick = now + NVO_CLUSTER_HEARTBEAT_MS;
}

/* Cluster thread: the tick's transaction finished. */
static void
finish_tick(struct nvo_cluster *c, enum ovsdb_idl_txn_status status,
            long long int now)
{
    if (c->txn_record) {
        record_done(c, c->txn, status, c->txn_covers, c->txn_sent,
                    c->txn_seqno, now);
        c->txn_record = false;
    }
    if (status == TXN_SUCCESS && c->txn_takes) {
        /* Failover's phases (doc/cluster.md, "Failover time"). */
        VLOG_INFO("took %"PRIuSIZE" hypervisors: committed in %lld ms",
                  c->txn_takes, now - c->txn_sent);
    }
    if (status == TXN_SUCCESS && c->txn_releases) {
        /* A handover's first half: the taker plans its take as soon as
         * its replica shows this (cluster_run()). */
        VLOG_INFO("released %"PRIuSIZE" hypervisors: committed in %lld ms",
                  c->txn_releases, now - c->txn_sent);
    }
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
        if (c->txn_takes) {
            /* A take lost to a concurrent change: it costs a failover a
             * Raft commit (survivors' takes must not conflict with each
             * other: test-cluster-failover counts these lines, where two
             * survivors take).  Rate-limited: peers' changes decide how
             * often this happens. */
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
            VLOG_INFO_RL(&rl, "taking %"PRIuSIZE" hypervisors: try again "
                         "(the replica changed)", c->txn_takes);
        }
        /* Planned again once the replica differs from the one the
         * transaction was built from: at once if the change that made it
         * fail already arrived (a server sends its update before its
         * reply), instead of at the next change after that (a peer's
         * heartbeat, up to a period later). */
        c->retry_seqno = c->txn_seqno;
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
    const struct nvorec_controller *me = c->me;  /* update_peers() */
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

/* How long the record waits for the other hypervisors that fell behind
 * with the same write before it is sent anyway, with them as exceptions:
 * a write usually costs each owner one record update (each peer one small
 * row update), and the last hypervisor to confirm sends it at once.  The
 * wait slides: it ends CL_HOLD_MS after the last confirmation while some
 * are still behind, but at most CL_HOLD_MAX_MS after the first fell
 * behind (nvo_cluster_hold_until()): an owner whose 40 switches answer
 * one write over 70 ms (one network over 128 hypervisors, loaded) sends
 * one record, not a partial one at 30 ms and then one per straggler, each
 * a Raft commit that wakes every controller's session.  A switch that
 * stopped answering holds the record CL_HOLD_MS after the others, as
 * before.  The slide starts at the first confirmation, not when the
 * first fell behind: before any hypervisor answered, the record has
 * nothing to claim, and at 128 hypervisors in one network the first
 * barrier replies of a write come 34-40 ms after its publish, so a hold
 * ending 30 ms after it woke both threads for nothing and then sent the
 * first confirmations on their own (until 2026-12-03, twelfth run).
 * The main thread does the waiting (nvo_cluster_set_progress()
 * wakes this thread only when no hypervisor is 'fresh'), so the wait
 * costs nothing: the first hypervisor to fall behind starts the main
 * thread's 'hold' timer, each confirmation moves it, and it wakes this
 * thread only if some are still behind when the time is up (before,
 * falling behind woke this thread at once to arm its own timer: one more
 * wake-up of the store's thread per write on every owner). */
#define CL_HOLD_MS 30
#define CL_HOLD_MAX_MS 250

long long int
nvo_cluster_hold_until(long long int first, long long int now)
{
    return MIN(first + CL_HOLD_MAX_MS, now + CL_HOLD_MS);
}

/* Adds liveness record 'a' (taking it) to 'map'; the latest word wins. */
static void
alive_merge(struct hmap *map, struct cl_alive *a)
{
    struct cl_alive *old;
    HMAP_FOR_EACH_WITH_HASH (old, node, hash_string(a->name, 0), map) {
        if (!strcmp(old->name, a->name)) {
            old->alive = a->alive;
            free(a->name);
            free(a);
            return;
        }
    }
    hmap_insert(map, &a->node, hash_string(a->name, 0));
}

static void
alives_clear(struct hmap *map)
{
    struct cl_alive *a;
    HMAP_FOR_EACH_POP (a, node, map) {
        free(a->name);
        free(a);
    }
}

/* Cluster thread: adds the pending service-node liveness records of
 * hypervisors this controller owns to the transaction being built.  Returns true if it added
 * one. */
static bool
add_alives(struct nvo_cluster *c)
{
    struct hmap pending = HMAP_INITIALIZER(&pending);
    ovs_mutex_lock(&c->mutex);
    hmap_swap(&pending, &c->alives);
    ovs_mutex_unlock(&c->mutex);

    bool any = false;
    struct cl_alive *a;
    HMAP_FOR_EACH_POP (a, node, &pending) {
        const struct nvorec_hypervisor_private *hp = hp_row(c, a->name);
        if (hp && hp->owner && !strcmp(hp->owner, c->name)
            && (!hp->n_alive || hp->alive[0] != a->alive)) {
            nvorec_hypervisor_private_set_alive(hp, &a->alive, 1);
            alive_merge(&c->asent, a);
            any = true;
        } else {
            free(a->name);
            free(a);
        }
    }
    hmap_destroy(&pending);
    return any;
}

/* One hypervisor the record lists in 'behind' after the transaction. */
struct cl_claim {
    const char *name;           /* Borrowed from the replica. */
    int64_t revision;
};

static int
compare_claims(const void *a_, const void *b_)
{
    const struct cl_claim *a = a_, *b = b_;
    return strcmp(a->name, b->name);
}

/* Cluster thread: c->own_rows, brought up to date with the replica if
 * Hypervisor_Private changed since it was made (any insert, delete or
 * column change moves the table's seqno). */
static void
own_rows_refresh(struct nvo_cluster *c)
{
    unsigned int seqno
        = ovsdb_idl_table_get_seqno(c->idl, &nvorec_table_hypervisor_private);
    if (c->own_valid && seqno == c->own_seqno) {
        return;
    }
    c->n_own_rows = 0;
    const struct nvorec_hypervisor_private *hp;
    NVOREC_HYPERVISOR_PRIVATE_FOR_EACH (hp, c->idl) {
        if (hp->owner && !strcmp(hp->owner, c->name)) {
            if (c->n_own_rows >= c->cap_own_rows) {
                c->own_rows = x2nrealloc(c->own_rows, &c->cap_own_rows,
                                         sizeof *c->own_rows);
            }
            c->own_rows[c->n_own_rows++] = hp;
        }
    }
    c->own_seqno = seqno;
    c->own_valid = true;
}

/* Cluster thread: plans this controller's record from the replica and the
 * main thread's progress (doc/cluster.md, "?wait=1 on any controller")
 * and adds it, with pending liveness records, to the transaction being
 * built, if it would raise what some hypervisor is known to have
 * confirmed up to a revision it had to confirm, or liveness changed.
 * A record that only raises claims through this controller's own writes
 * (nvo_cluster_claim_urgent()), covers no row and carries no liveness is
 * added only if 'lazy' (a heartbeat that commits anyway), else left for
 * the next heartbeat (c->deferred).  Returns true if it added something. */
static bool
build_record(struct nvo_cluster *c, bool lazy)
{
    /* Called after update_peers() in the same cluster_run(). */
    const struct nvorec_controller *me = c->me;
    if (!me) {
        return false;
    }
    bool alive = add_alives(c);

    /* Every hypervisor this controller owns: what its record will claim,
     * and whether the main thread knows it under its current epoch (then
     * it covers the row, if it does not yet).  Only the claims below the
     * record's 'confirmed' are kept ('behind': usually none), not one per
     * hypervisor. */
    size_t n_behind = 0, n_cover = 0, cap_behind = 0, cap_cover = 0;
    struct cl_claim *claims = NULL;
    const struct nvorec_hypervisor_private **cover = NULL;
    bool raises = false, urgent = false;
    int64_t foreign = nvo_store_ovsdb_foreign(c->store);

    ovs_mutex_lock(&c->mutex);
    int64_t revision = c->model_rev;
    /* The record: 'confirmed' covers every hypervisor it speaks for,
     * 'behind' the ones that hold less. */
    int64_t confirmed = MAX(me->confirmed, revision);
    c->kicked = false;
    c->kick_urgent = false;
    c->kick_woken = false;
    own_rows_refresh(c);
    for (size_t i = 0; i < c->n_own_rows; i++) {
        const struct nvorec_hypervisor_private *hp = c->own_rows[i];
        int64_t old = (hp->covered
                       ? nvo_cluster_record_claim(me->confirmed,
                                                  me->key_behind,
                                                  me->value_behind,
                                                  me->n_behind,
                                                  hp->hypervisor)
                       : hp->confirmed);
        int64_t claim = old;
        bool covered = hp->covered;
        struct cl_prog *p = prog_find(&c->progs, hp->hypervisor);
        if (p) {
            p->kept = true;
        }
        if (p && p->epoch == hp->epoch
            && !sset_contains(&c->releasing, hp->hypervisor)) {
            claim = MAX(old, nvo_cluster_progress_claim(p->confirmed,
                                                        p->required,
                                                        revision));
            /* What a waiter may wait for: a revision up to 'required'. */
            raises |= MIN(claim, p->required) > old;
            urgent |= nvo_cluster_claim_urgent(old, claim, p->required,
                                               foreign);
            if (!covered) {
                if (n_cover >= cap_cover) {
                    cover = x2nrealloc(cover, &cap_cover, sizeof *cover);
                }
                cover[n_cover++] = hp;
                covered = true;
            }
        }
        if (covered && claim < confirmed) {
            if (n_behind >= cap_behind) {
                claims = x2nrealloc(claims, &cap_behind, sizeof *claims);
            }
            claims[n_behind++] = (struct cl_claim) { hp->hypervisor, claim };
        }
    }
    /* Progress of hypervisors it no longer owns is of no use: those the
     * pass above did not find among its rows (no index lookup per entry:
     * a record costs one pass over the rows it owns, nothing more). */
    struct cl_prog *p;
    HMAP_FOR_EACH_SAFE (p, node, &c->progs) {
        if (!p->kept) {
            prog_remove(c, p);
        } else {
            p->kept = false;
        }
    }
    ovs_mutex_unlock(&c->mutex);

    c->deferred = (raises && !alive && !urgent && !n_cover && !lazy);
    if (!alive && (!raises || c->deferred)) {
        free(claims);
        free(cover);
        return false;
    }

    /* Rows it starts to speak for are verified to be still ours under
     * the same epoch. */
    qsort(claims, n_behind, sizeof *claims, compare_claims);
    const char **keys = xmalloc((n_behind ? n_behind : 1) * sizeof *keys);
    int64_t *values = xmalloc((n_behind ? n_behind : 1) * sizeof *values);
    size_t n = 0;
    for (size_t i = 0; i < n_behind; i++) {
        keys[n] = claims[i].name;
        values[n++] = claims[i].revision;
    }
    uint32_t hash = behind_hash((char **) keys, values, n);
    bool changed = alive;
    if (confirmed != me->confirmed) {
        nvorec_controller_set_confirmed(me, confirmed);
        changed = true;
    }
    if (!behind_equal(me, keys, values, n)) {
        nvorec_controller_set_behind(me, keys, values, n);
        changed = true;
    }
    c->n_covers = n_cover;
    for (size_t i = 0; i < n_cover; i++) {
        nvorec_hypervisor_private_verify_owner(cover[i]);
        nvorec_hypervisor_private_verify_epoch(cover[i]);
        nvorec_hypervisor_private_set_covered(cover[i], true);
        changed = true;
    }
    free(keys);
    free(values);
    free(claims);
    free(cover);
    c->echo_confirmed = confirmed;
    c->echo_behind = hash;
    return changed;
}

/* Cluster thread: a record is in flight; until record_due() can plan the
 * next one, kicks do not wake this thread (c->record_busy). */
static void
set_record_busy(struct nvo_cluster *c)
{
    ovs_mutex_lock(&c->mutex);
    c->record_busy = true;
    ovs_mutex_unlock(&c->mutex);
}

/* Cluster thread: sends the record in a transaction of its own. */
static void
start_record(struct nvo_cluster *c, long long int now)
{
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(c->idl);
    if (build_record(c, now >= c->next_tick)) {
        c->ctxn = txn;
        c->ctxn_covers = c->n_covers;
        c->ctxn_sent = time_msec();
        c->ctxn_seqno = ovsdb_idl_get_seqno(c->idl);
        set_record_busy(c);
    } else {
        ovsdb_idl_txn_destroy(txn);
    }
}

/* Cluster thread: the record's transaction finished.  Committed: no
 * record is planned until the replica shows it (planning from a replica
 * that does not would only send the same again).  Otherwise the liveness
 * records go back to be sent again, and the record is planned again once
 * the replica changed. */
static void
record_done(struct nvo_cluster *c, struct ovsdb_idl_txn *txn,
            enum ovsdb_idl_txn_status status, size_t n_covers,
            long long int sent, unsigned int sent_seqno, long long int now)
{
    bool ok = status == TXN_SUCCESS || status == TXN_UNCHANGED;
    if (ok && n_covers) {
        /* Rows it took that its own record speaks for from now on: the
         * last phase of a failover (doc/cluster.md, "Failover time"). */
        VLOG_INFO("recorded %"PRIuSIZE" hypervisors it took as confirmed: "
                  "committed in %lld ms", n_covers, now - sent);
    }
    if (!ok && status != TXN_TRY_AGAIN) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
        const char *error = ovsdb_idl_txn_get_error(txn);
        VLOG_WARN_RL(&rl, "confirmation transaction %s%s%s",
                     ovsdb_idl_txn_status_to_string(status),
                     error ? ": " : "", error ? error : "");
    }
    ovs_mutex_lock(&c->mutex);
    if (ok) {
        alives_clear(&c->asent);
    } else {
        struct cl_alive *a;
        HMAP_FOR_EACH_POP (a, node, &c->asent) {
            alive_merge(&c->alives, a);
        }
        c->kicked = true;
        c->kick_urgent = true;     /* Planned again as soon as it may be. */
    }
    ovs_mutex_unlock(&c->mutex);
    if (ok) {
        c->echo_wait = true;
        c->echo_until = now + 1000;
    } else {
        c->cretry_seqno = sent_seqno;
    }
}

static void
finish_record(struct nvo_cluster *c, enum ovsdb_idl_txn_status status,
              long long int now)
{
    record_done(c, c->ctxn, status, c->ctxn_covers, c->ctxn_sent,
                c->ctxn_seqno, now);
    ovsdb_idl_txn_destroy(c->ctxn);
    c->ctxn = NULL;
}

static void
run_record(struct nvo_cluster *c, long long int now)
{
    if (c->ctxn) {
        enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(c->ctxn);
        if (status != TXN_INCOMPLETE) {
            finish_record(c, status, now);
        }
    }
}

/* The hold is over at 'now' (either thread): those still behind go into
 * 'behind', the others are recorded, at the next plan.  Returns true if
 * it ended now. */
static bool
hold_expire(struct nvo_cluster *c, long long int now)
    OVS_REQUIRES(c->mutex)
{
    if (!c->n_fresh || now < c->fresh_until) {
        return false;
    }
    struct cl_prog *p;
    HMAP_FOR_EACH (p, node, &c->progs) {
        p->fresh = false;
    }
    c->n_fresh = 0;
    c->kicked = true;
    return true;
}

/* Cluster thread: true if the record should be planned now. */
static bool
record_due(struct nvo_cluster *c, long long int now)
{
    if (c->echo_wait) {
        const struct nvorec_controller *me = c->me;  /* update_peers() */
        if (now >= c->echo_until
            || (me && me->confirmed == c->echo_confirmed
                && behind_hash(me->key_behind, me->value_behind,
                               me->n_behind) == c->echo_behind)) {
            c->echo_wait = false;
        } else {
            return false;
        }
    }
    if (c->cretry_seqno) {
        if (c->cretry_seqno == ovsdb_idl_get_seqno(c->idl)) {
            return false;
        }
        c->cretry_seqno = 0;
    }
    ovs_mutex_lock(&c->mutex);
    /* From here on a kick wakes this thread again (kick()). */
    c->record_busy = false;
    hold_expire(c, now);
    /* A kick for reports that only this controller's own writes raised
     * (no c->kick_urgent) would only be deferred (build_record()): it
     * waits for the heartbeat without planning it at every wake-up
     * until then. */
    bool due = ((c->kicked && c->kick_urgent) || !hmap_is_empty(&c->alives)
                || ((c->kicked || c->deferred) && now >= c->next_tick));
    ovs_mutex_unlock(&c->mutex);
    return due;
}

/* Cluster thread: true if the replica's changes since the last tracking
 * reset moved a Hypervisor_Private row's owner (or added or removed a
 * row): a peer's release or take committed. */
static bool
owners_moved(const struct nvo_cluster *c)
{
    const struct nvorec_hypervisor_private *hp;
    NVOREC_HYPERVISOR_PRIVATE_FOR_EACH_TRACKED (hp, c->idl) {
        if (nvorec_hypervisor_private_is_new(hp)
            || nvorec_hypervisor_private_is_deleted(hp)
            || nvorec_hypervisor_private_is_updated(
                   hp, NVOREC_HYPERVISOR_PRIVATE_COL_OWNER)) {
            return true;
        }
    }
    return false;
}

/* Cluster thread: true if a plan at 'now' would take or release a
 * hypervisor (plan_action()), a release only if it is not under way
 * already.  O(hypervisors): called only when owners moved
 * (owners_moved()), so that a released hypervisor is taken at once
 * instead of at the next heartbeat, without an early heartbeat on the
 * controllers that have nothing to do. */
static bool
plan_due(struct nvo_cluster *c, long long int now)
{
    bool due = false;
    struct shash want = SHASH_INITIALIZER(&want);
    assign(c, true, NULL, now, &want);
    const struct nvorec_hypervisor *h;
    NVOREC_HYPERVISOR_FOR_EACH (h, c->idl) {
        enum cl_plan action = plan_action(c, hp_row(c, h->name),
                                          shash_find_data(&want, h->name),
                                          now);
        if (action == CL_PLAN_TAKE
            || (action == CL_PLAN_RELEASE
                && !sset_contains(&c->releasing, h->name))) {
            due = true;
            break;
        }
    }
    shash_destroy(&want);
    return due;
}

/* The cluster thread's work at each iteration of the store thread's poll
 * loop, after the store ran the session (nvo_store_ovsdb_set_guest()). */
static void
cluster_run(void *c_)
{
    struct nvo_cluster *c = c_;
    long long int now = time_msec();

    if (c->txn) {
        enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(c->txn);
        if (status != TXN_INCOMPLETE) {
            finish_tick(c, status, now);
        }
    }
    run_record(c, now);
    /* After the transactions finished (one that inserted this
     * controller's row frees it when it fails): c->me and the peers'
     * rows are then the replica's until the IDL runs again. */
    update_peers(c, now);
    bool refenced = ovsdb_idl_has_ever_connected(c->idl)
                    && check_fenced(c);
    ovs_mutex_lock(&c->mutex);
    long long int lease_until = c->lease_until;
    bool lapse_seen = c->lapse_seen;
    ovs_mutex_unlock(&c->mutex);
    bool lease_valid = now < lease_until;
    if (!lease_valid && c->map_lease) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "%s: lease expired (no heartbeat committed "
                     "for %d ms): programming nothing until renewed",
                     c->name, NVO_CLUSTER_LEASE_MS);
    }
    log_dead_peers(c, now);
    warm_paths(c, lease_valid, now);

    unsigned int seqno = ovsdb_idl_get_seqno(c->idl);
    bool peers_moved = peers_signature(c, now) != c->peers_sig;
    if (peers_moved) {
        /* A peer died, came back or moved: plan the takes and releases
         * at once (or once the tick in flight is done) rather than at
         * the next heartbeat. */
        c->next_tick = MIN(c->next_tick, now);
    }
    bool hvs_moved
        = seqno != c->map_seqno
          && (ovsdb_idl_table_get_seqno(c->idl, &nvorec_table_hypervisor)
              != c->hv_seqno);
    bool tables_moved
        = hvs_moved
          || (seqno != c->map_seqno
              && ovsdb_idl_table_get_seqno(
                     c->idl, &nvorec_table_hypervisor_private)
                 != c->hp_seqno);
    bool recs_moved = seqno != c->map_seqno && records_moved(c);
    if (tables_moved && !peers_moved && lease_valid && c->registered
        && (hvs_moved || owners_moved(c)) && plan_due(c, now)) {
        /* A hypervisor registered (or deleted), or a peer's release (or
         * take) committed, and left a take or a release due here: plan
         * it at once (or once the tick in flight is done), not at the
         * next heartbeat, up to a period later (doc/cluster.md,
         * "Ownership (sharding)").  Only when: it changes when this
         * controller plans, not what nor how. */
        c->next_tick = MIN(c->next_tick, now);
    }
    if (lease_valid != c->map_lease || refenced || peers_moved || lapse_seen
        || ((tables_moved || recs_moved)
            && !update_confirmed(c, recs_moved))) {
        c->map_lease = lease_valid;
        publish_map(c, lease_valid, now);
    }
    ovsdb_idl_track_clear(c->idl);
    c->map_seqno = seqno;

    bool ready = ovsdb_idl_has_ever_connected(c->idl)
                 && ovsdb_idl_is_connected(c->idl);
    /* A record due while no tick is in flight goes in a tick sent at
     * once (its heartbeat early): one commit instead of two. */
    bool record_now = (!c->ctxn && ready && c->registered
                       && lease_valid && !c->txn
                       && record_due(c, now));
    if (!c->txn && ready
        && (!c->retry_seqno || c->retry_seqno != seqno)
        && (now >= c->next_tick || c->retry_seqno || record_now)) {
        bool due = now >= c->next_tick || c->retry_seqno;
        c->retry_seqno = 0;
        start_tick(c, now, lease_valid, due, record_now);
    }
    if (c->txn) {
        enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(c->txn);
        if (status != TXN_INCOMPLETE) {
            finish_tick(c, status, now);
        }
    }
    if (!c->ctxn && !c->txn_record && ready && c->registered
        && lease_valid && record_due(c, now)) {
        start_record(c, now);
        run_record(c, now);
    }
}

/* Registers the cluster thread's wake-ups before the store thread sleeps
 * (its session's are the store's). */
static void
cluster_wait(void *c_)
{
    struct nvo_cluster *c = c_;
    long long int now = time_msec();
    ovs_mutex_lock(&c->mutex);
    long long int lease_until = c->lease_until;
    ovs_mutex_unlock(&c->mutex);
    bool lease_valid = now < lease_until;
    bool ready = ovsdb_idl_has_ever_connected(c->idl)
                 && ovsdb_idl_is_connected(c->idl);
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
    if (!c->ctxn && c->echo_wait) {
        poll_timer_wait_until(c->echo_until);
    } else if (!c->ctxn && !c->hold) {
        /* Without the main thread's hold timer (no loop): our own.  With
         * it, a timer here would wake this thread at a 'fresh_until' that
         * a later confirmation moved or made moot. */
        ovs_mutex_lock(&c->mutex);
        if (c->n_fresh) {
            poll_timer_wait_until(c->fresh_until);
        }
        ovs_mutex_unlock(&c->mutex);
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
}

/* Called by the store with its thread kept off the session: the
 * transactions in flight are dropped (nvo_store_ovsdb_clear_guest()). */
static void
cluster_fini(void *c_)
{
    struct nvo_cluster *c = c_;
    if (c->txn) {
        ovsdb_idl_txn_destroy(c->txn);
        c->txn = NULL;
    }
    if (c->ctxn) {
        ovsdb_idl_txn_destroy(c->ctxn);
        c->ctxn = NULL;
    }
}

static void
cluster_async_cb(void *c_)
{
    struct nvo_cluster *c = c_;
    if (c->changed) {
        c->changed(c->aux);
    }
}

/* Main thread: CL_HOLD_MS after the first hypervisor fell behind, some
 * still are (nvo_cluster_set_progress() stops the timer once none is):
 * the cluster thread sends the record without them (record_due()).  It
 * is woken for that only if the record may answer a waiter elsewhere and
 * can be planned now (kick()): a record that raises claims only through
 * this controller's own writes waits for the heartbeat anyway, whose tick
 * plans it (the hold's end included), and one that cannot be planned yet
 * is planned when what blocks it ends.  Until 2026-12-03 18:30 the hold's
 * end always woke it: at 128 hypervisors in one network, for about half
 * the writes, a wake-up that planned nothing in 50 of 58 (uprobes,
 * doc/cluster.md "Benchmark"). */
static void
hold_expired(uv_timer_t *t)
{
    struct nvo_cluster *c = t->data;
    long long int now = time_msec();
    ovs_mutex_lock(&c->mutex);
    bool expired = hold_expire(c, now);
    bool wake = expired && nvo_cluster_kick_wakes(c->kick_urgent,
                                                  c->kick_woken,
                                                  c->record_busy);
    c->kick_woken |= wake;
    long long int left = c->n_fresh ? c->fresh_until - now : -1;
    ovs_mutex_unlock(&c->mutex);
    if (left >= 0) {
        /* Fired before 'fresh_until' (the two clocks' rounding). */
        uv_timer_start(c->hold, hold_expired, left + 1, 0);
    }
    if (wake) {
        nvo_store_ovsdb_wake(c->store);
    }
}

static void
hold_closed(uv_handle_t *handle)
{
    free(handle);
}

struct nvo_cluster *
nvo_cluster_create(uv_loop_t *loop, struct nvo_store *store, const char *name,
                   const char *rest, const char *agents,
                   nvo_cluster_changed_cb *changed, void *aux)
{
    struct nvo_cluster *c = xzalloc(sizeof *c);
    c->name = xstrdup(name);
    c->rest = nullable_xstrdup(rest);
    c->agents = nullable_xstrdup(agents);
    c->store = store;
    c->changed = changed;
    c->aux = aux;
    ovs_mutex_init(&c->mutex);
    hmap_init(&c->map);
    hmap_init(&c->recs);
    hmap_init(&c->progs);
    hmap_init(&c->alives);
    hmap_init(&c->watches);
    hmap_init(&c->asent);
    hmap_init(&c->peers);
    sset_init(&c->releasing);
    c->incarnation = (random_uint64() >> 1) | 1;
    c->plan_dirty = true;

    /* The store's session replicates Controller, Hypervisor_Private and
     * the hypervisors, and tracks owners' records and ownership columns
     * for records_moved() and update_confirmed(). */
    c->idl = nvo_store_ovsdb_idl(store, &c->ctl_by_name, &c->hp_by_hv);

    if (loop) {
        c->wake = nvo_wake_create(loop, cluster_async_cb, c);
        c->hold = xmalloc(sizeof *c->hold);
        uv_timer_init(loop, c->hold);
        c->hold->data = c;
    }
    nvo_store_ovsdb_set_guest(store, cluster_run, cluster_wait, c);
    return c;
}

void
nvo_cluster_destroy(struct nvo_cluster *c)
{
    if (!c) {
        return;
    }
    nvo_store_ovsdb_clear_guest(c->store, cluster_fini);
    nvo_wake_destroy(c->wake);
    if (c->hold) {
        uv_timer_stop(c->hold);
        uv_close((uv_handle_t *) c->hold, hold_closed);
    }
    struct cl_hv *e;
    HMAP_FOR_EACH_POP (e, node, &c->map) {
        cl_hv_free(e);
    }
    hmap_destroy(&c->map);
    recs_clear(&c->recs);
    hmap_destroy(&c->recs);
    struct cl_prog *pg;
    HMAP_FOR_EACH_SAFE (pg, node, &c->progs) {
        prog_remove(c, pg);
    }
    hmap_destroy(&c->progs);
    alives_clear(&c->alives);
    hmap_destroy(&c->alives);
    watches_clear(&c->watches);
    hmap_destroy(&c->watches);
    alives_clear(&c->asent);
    hmap_destroy(&c->asent);
    struct cl_peer *p;
    HMAP_FOR_EACH_POP (p, node, &c->peers) {
        free(p->name);
        free(p);
    }
    hmap_destroy(&c->peers);
    sset_destroy(&c->releasing);
    free(c->own_rows);
    ovs_mutex_destroy(&c->mutex);
    free(c->name);
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
    if (e && e->mine && !mine) {
        c->lapse_seen = true;
    }
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

/* claim(hv) as the map and records say (doc/cluster.md). */
static int64_t
claim_of(struct nvo_cluster *c, const char *hv)
    OVS_REQUIRES(c->mutex)
{
    const struct cl_hv *e = map_find(c, hv);
    if (!e) {
        return 0;
    }
    const struct cl_rec *r = (e->covered && e->owner
                              ? rec_find(&c->recs, e->owner) : NULL);
    return (r
            ? nvo_cluster_record_claim(r->confirmed, r->keys, r->values,
                                       r->n, hv)
            : e->confirmed);
}

int64_t
nvo_cluster_confirmed(struct nvo_cluster *c, const char *hv)
{
    ovs_mutex_lock(&c->mutex);
    int64_t confirmed = claim_of(c, hv);
    ovs_mutex_unlock(&c->mutex);
    return confirmed;
}

int64_t
nvo_cluster_watch(struct nvo_cluster *c, const char *hv, int64_t revision)
{
    ovs_mutex_lock(&c->mutex);
    int64_t confirmed = claim_of(c, hv);
    if (confirmed < revision) {
        struct cl_watch *w;
        uint32_t hash = hash_string(hv, 0);
        HMAP_FOR_EACH_WITH_HASH (w, node, hash, &c->watches) {
            if (!strcmp(w->name, hv)) {
                break;
            }
        }
        if (!w) {
            w = xmalloc(sizeof *w);
            w->name = xstrdup(hv);
            w->revision = revision;
            hmap_insert(&c->watches, &w->node, hash);
        }
        w->revision = MIN(w->revision, revision);
    }
    ovs_mutex_unlock(&c->mutex);
    return confirmed;
}

/* Has the cluster thread plan the record.  Returns true if the caller
 * must wake it: the record may answer a waiter on another controller
 * (c->kick_urgent) and it was not woken for it yet.  Otherwise it plans
 * the record when it next wakes anyway, which sends it with the next
 * heartbeat at the latest, as it would have deferred it there
 * (build_record()): a write of this controller's own costs its store
 * thread no wake-up for its record. */
static bool
kick(struct nvo_cluster *c)
    OVS_REQUIRES(c->mutex)
{
    bool woken = c->kicked && c->kick_woken;
    c->kicked = true;
    if (!nvo_cluster_kick_wakes(c->kick_urgent, woken, c->record_busy)) {
        return false;
    }
    c->kick_woken = true;
    return true;
}

bool
nvo_cluster_kick_wakes(bool urgent, bool woken, bool busy)
{
    return urgent && !woken && !busy;
}

bool
nvo_cluster_report_urgent(int64_t before, int64_t confirmed, int64_t foreign)
{
    return confirmed > before && (before < 0 || foreign > before);
}

void
nvo_cluster_set_progress(struct nvo_cluster *c, const char *hv,
                         int64_t confirmed, int64_t required)
{
    bool wake = false;
    enum { HOLD_KEEP, HOLD_START, HOLD_MOVE, HOLD_STOP } hold = HOLD_KEEP;
    bool earlier = false;       /* HOLD_MOVE: to before the old end. */
    long long int hold_ms = 0;
    long long int now = time_msec();
    /* At least every revision the main thread was handed, so every one
     * 'confirmed' can be (nvo_store_ovsdb_foreign()). */
    int64_t foreign = nvo_store_ovsdb_foreign(c->store);
    ovs_mutex_lock(&c->mutex);
    const struct cl_hv *e = map_find(c, hv);
    struct cl_prog *p = prog_find(&c->progs, hv);
    if (!e || !e->mine || now >= c->lease_until) {
        /* Not ours (as nvo_cluster_owns() says): the main thread no
         * longer follows what it has to confirm, so what it reported
         * before must not be used. */
        if (p) {
            bool was_fresh = p->fresh;
            prog_remove(c, p);
            if (was_fresh && !c->n_fresh) {
                c->kick_urgent = true;
                wake = kick(c);     /* Others may wait for it. */
            }
        }
    } else {
        if (!p || p->epoch != e->epoch) {
            if (!p) {
                p = xzalloc(sizeof *p);
                p->name = xstrdup(hv);
                hmap_insert(&c->progs, &p->node, hash_string(hv, 0));
            }
            p->epoch = e->epoch;
            p->confirmed = -1;
            p->required = -1;
        }
        bool raised = confirmed > p->confirmed;
        bool behind = confirmed < required;
        if (nvo_cluster_report_urgent(p->confirmed, confirmed, foreign)) {
            c->kick_urgent = true;
        }
        if (behind && !p->fresh && p->confirmed >= p->required) {
            /* Fell behind: the record waits for it a little. */
            p->fresh = true;
            if (!c->n_fresh++) {
                /* Until one answers, the hold runs to its end. */
                c->fresh_from = now;
                c->fresh_until = now + CL_HOLD_MAX_MS;
                c->fresh_answered = false;
                /* Waits until then, not to plan: the main thread's timer
                 * wakes the cluster thread then, if it has to. */
                hold = HOLD_START;
            }
        } else if (!behind && p->fresh) {
            p->fresh = false;
            c->n_fresh--;
        }
        if (raised && c->n_fresh && hold != HOLD_START) {
            /* Others still behind: they are answering, so the hold
             * slides (CL_HOLD_MS). */
            long long int until = nvo_cluster_hold_until(c->fresh_from,
                                                         now);
            if (!c->fresh_answered || until > c->fresh_until) {
                /* The first answer brings the end closer. */
                earlier = !c->fresh_answered;
                c->fresh_answered = true;
                c->fresh_until = until;
                hold = HOLD_MOVE;
            }
        }
        hold_ms = c->fresh_until - now;
        p->confirmed = confirmed;
        p->required = required;
        /* Only a confirmation can raise what the record claims; while
         * others that fell behind with it may still answer, the last one
         * to does. */
        if (raised && !c->n_fresh) {
            wake |= kick(c);
        }
    }
    if (hold == HOLD_KEEP && !c->n_fresh) {
        hold = HOLD_STOP;
    }
    ovs_mutex_unlock(&c->mutex);
    if (hold == HOLD_START || hold == HOLD_MOVE) {
        if (c->hold) {
            /* From now, not from the loop's cached time, and +1 for the
             * two clocks' rounding: a timer that fires before
             * 'fresh_until' only costs a wake-up. */
            uv_update_time(c->hold->loop);
            uv_timer_start(c->hold, hold_expired, MAX(hold_ms, 0) + 1, 0);
        } else if (hold == HOLD_START || earlier) {
            /* The cluster thread arms its own timer (cluster_wait()); one
             * armed earlier than a moved 'fresh_until' only wakes it to
             * arm it again. */
            wake = true;
        }
    } else if (hold == HOLD_STOP && c->hold) {
        uv_timer_stop(c->hold);
    }
    if (wake) {
        nvo_store_ovsdb_wake(c->store);
    }
}

void
nvo_cluster_set_revision(struct nvo_cluster *c, int64_t revision)
{
    /* No wakeup: what a waiter may wait for rises only with a hypervisor's
     * confirmation (nvo_cluster_set_progress()); the record takes the
     * revision along when it is next sent. */
    ovs_mutex_lock(&c->mutex);
    c->model_rev = MAX(c->model_rev, revision);
    ovs_mutex_unlock(&c->mutex);
}

void
nvo_cluster_set_alive(struct nvo_cluster *c, const char *hv, bool alive)
{
    struct cl_alive *a = xmalloc(sizeof *a);
    a->name = xstrdup(hv);
    a->alive = alive;
    ovs_mutex_lock(&c->mutex);
    /* The cluster thread takes every pending record when it wakes (or
     * when the record in flight finishes): only the first needs to wake
     * it. */
    bool first = hmap_is_empty(&c->alives);
    alive_merge(&c->alives, a);
    ovs_mutex_unlock(&c->mutex);
    if (first) {
        nvo_store_ovsdb_wake(c->store);
    }
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

void
nvo_cluster_unwatch(struct nvo_cluster *c)
{
    ovs_mutex_lock(&c->mutex);
    watches_clear(&c->watches);
    ovs_mutex_unlock(&c->mutex);
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
