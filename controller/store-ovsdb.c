/* store-ovsdb.c - the placement store in a Raft-clustered OVSDB database. */
#include <config.h>
#include "controller/store-ovsdb.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "controller/model.h"
#include "controller/store.h"
#include "lib/uv-wake.h"
#include "fatal-signal.h"
#include "hash.h"
#include "latch.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-thread.h"
#include "ovsdb-idl.h"
#include "schema/nvo-idl.h"
#include "smap.h"
#include "timeval.h"
#include "util.h"
#include "uuid.h"

VLOG_DEFINE_THIS_MODULE(store_ovsdb);

int
nvo_store_ovsdb_parse(const char *db, char **remotes, char **errmsg)
{
    size_t plen = strlen(NVO_STORE_OVSDB_PREFIX);

    *remotes = NULL;
    if (strncmp(db, NVO_STORE_OVSDB_PREFIX, plen)) {
        *errmsg = xasprintf("%s: not an ovsdb: store", db);
        return -EINVAL;
    }
    const char *list = db + plen;
    if (!*list) {
        *errmsg = xasprintf("%s: no remote (ovsdb:tcp:IP:PORT[,...])", db);
        return -EINVAL;
    }
    char *copy = xstrdup(list);
    char *save = NULL;
    for (char *r = strtok_r(copy, ",", &save); r;
         r = strtok_r(NULL, ",", &save)) {
        const char *rest = NULL;
        if (!strncmp(r, "tcp:", 4) || !strncmp(r, "ssl:", 4)) {
            rest = r + 4;
            /* IP:PORT, the port mandatory (6641 by convention). */
            const char *colon = strrchr(rest, ':');
            if (!colon || colon == rest || !colon[1]
                || strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
                rest = NULL;
            }
        } else if (!strncmp(r, "unix:", 5) && r[5]) {
            rest = r + 5;
        }
        if (!rest) {
            *errmsg = xasprintf("%s: bad remote '%s' (want tcp:IP:PORT, "
                                "ssl:IP:PORT or unix:PATH)", db, r);
            free(copy);
            return -EINVAL;
        }
    }
    free(copy);
    if (list[strlen(list) - 1] == ',' || strstr(list, ",,")) {
        *errmsg = xasprintf("%s: empty remote in the list", db);
        return -EINVAL;
    }
    *remotes = xstrdup(list);
    return 0;
}

/* Runs 'idl' until it has its replica of the database or 'deadline'
 * (time_msec()) passes.  Returns 0 or -ETIMEDOUT. */
static int
wait_replica(struct ovsdb_idl *idl, long long int deadline)
{
    for (;;) {
        ovsdb_idl_run(idl);
        if (ovsdb_idl_has_ever_connected(idl)) {
            return 0;
        }
        if (time_msec() >= deadline) {
            return -ETIMEDOUT;
        }
        ovsdb_idl_wait(idl);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

/* Commits 'txn' before 'deadline'; returns its final status, or
 * TXN_INCOMPLETE if the deadline passed first. */
static enum ovsdb_idl_txn_status
commit_until(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
             long long int deadline)
{
    for (;;) {
        enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(txn);
        if (status != TXN_INCOMPLETE) {
            return status;
        }
        if (time_msec() >= deadline) {
            return TXN_INCOMPLETE;
        }
        ovsdb_idl_run(idl);
        ovsdb_idl_wait(idl);
        ovsdb_idl_txn_wait(txn);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

/* True if the replica holds placement data or a revision. */
static bool
replica_has_data(const struct ovsdb_idl *idl)
{
    return nvorec_nvo_global_first(idl) || nvorec_network_first(idl)
           || nvorec_hypervisor_first(idl) || nvorec_port_first(idl);
}

/* The network and hypervisor rows inserted for model objects, by id. */
struct export_ref {
    struct hmap_node node;
    int64_t id;
    const void *row;
};

static void
ref_add(struct hmap *map, int64_t id, const void *row)
{
    struct export_ref *r = xmalloc(sizeof *r);
    r->id = id;
    r->row = row;
    hmap_insert(map, &r->node, hash_uint64(id));
}

static const void *
ref_find(const struct hmap *map, int64_t id)
{
    const struct export_ref *r;
    HMAP_FOR_EACH_WITH_HASH (r, node, hash_uint64(id), map) {
        if (r->id == id) {
            return r->row;
        }
    }
    return NULL;
}

static void
ref_destroy(struct hmap *map)
{
    struct export_ref *r;
    HMAP_FOR_EACH_POP (r, node, map) {
        free(r);
    }
    hmap_destroy(map);
}

/* Network row 'r''s encapsulation (vxlan if unreadable). */
static enum nvo_encap
net_row_encap(const struct nvorec_network *r)
{
    enum nvo_encap encap = NVO_ENCAP_VXLAN;
    if (r->encap) {
        nvo_encap_from_string(r->encap, &encap);
    }
    return encap;
}

/* Sets network row 'r''s dataplane options. */
static void
set_net_options(const struct nvorec_network *r, enum nvo_encap encap,
                bool arp_responder, int mtu)
{
    int64_t mtu64 = mtu;
    nvorec_network_set_encap(r, nvo_encap_to_string(encap));
    nvorec_network_set_arp_responder(r, &arp_responder, 1);
    nvorec_network_set_mtu(r, mtu ? &mtu64 : NULL, mtu ? 1 : 0);
}

/* Adds to 'txn' one row per object of 'm'. */
static void
export_rows(const struct nvo_model *m, struct ovsdb_idl_txn *txn)
{
    struct hmap nets = HMAP_INITIALIZER(&nets);
    struct hmap hvs = HMAP_INITIALIZER(&hvs);

    const struct nvorec_nvo_global *g = nvorec_nvo_global_insert(txn);
    nvorec_nvo_global_set_revision(g, m->revision);

    const struct nvo_network *net;
    HMAP_FOR_EACH (net, id_node, &m->networks_by_id) {
        const struct nvorec_network *r = nvorec_network_insert(txn);
        nvorec_network_set_id(r, net->id);
        nvorec_network_set_name(r, net->name);
        nvorec_network_set_vni(r, net->vni);
        nvorec_network_set_bum(r, nvo_bum_mode_to_string(net->bum));
        set_net_options(r, net->encap, net->arp_responder, net->mtu);
        nvorec_network_set_revision(r, net->revision);
        ref_add(&nets, net->id, r);
    }
    const struct nvo_hypervisor *hv;
    HMAP_FOR_EACH (hv, id_node, &m->hvs_by_id) {
        const struct nvorec_hypervisor *r = nvorec_hypervisor_insert(txn);
        nvorec_hypervisor_set_id(r, hv->id);
        nvorec_hypervisor_set_name(r, hv->name);
        nvorec_hypervisor_set_tunnel_ip(r, hv->tunnel_ip);
        nvorec_hypervisor_set_dataplane(r,
                                        nvo_dataplane_to_string(hv->dataplane));
        nvorec_hypervisor_set_role(r, nvo_role_to_string(hv->role));
        nvorec_hypervisor_set_ovsdb(r, hv->ovsdb);
        nvorec_hypervisor_set_revision(r, hv->revision);
        ref_add(&hvs, hv->id, r);
    }
    const struct nvo_port *p;
    HMAP_FOR_EACH (p, id_node, &m->ports_by_id) {
        const struct nvorec_port *r = nvorec_port_insert(txn);
        struct eth_addr mac = p->mac;
        char mac_s[ETH_ADDR_STRLEN + 1];
        snprintf(mac_s, sizeof mac_s, ETH_ADDR_FMT, ETH_ADDR_ARGS(mac));
        nvorec_port_set_id(r, p->id);
        nvorec_port_set_vm(r, p->vm);
        nvorec_port_set_network(r, ref_find(&nets, p->network->id));
        nvorec_port_set_hypervisor(r, ref_find(&hvs, p->hypervisor->id));
        nvorec_port_set_mac(r, mac_s);
        nvorec_port_set_ip(r, p->ip);
        nvorec_port_set_iface(r, p->iface);
        struct ds allowed = DS_EMPTY_INITIALIZER;
        for (size_t i = 0; i < p->n_allowed; i++) {
            ds_put_format(&allowed, "%s%s", i ? " " : "", p->allowed[i]);
        }
        nvorec_port_set_allowed_addresses(r, p->n_allowed
                                             ? ds_cstr(&allowed) : NULL);
        ds_destroy(&allowed);
        nvorec_port_set_revision(r, p->revision);
    }
    ref_destroy(&nets);
    ref_destroy(&hvs);
}

int
nvo_store_ovsdb_export(const struct nvo_model *m, const char *remotes,
                       uint64_t timeout_ms, char **errmsg)
{
    long long int deadline = time_msec() + timeout_ms;
    struct ovsdb_idl *idl = ovsdb_idl_create(remotes, &nvorec_idl_class,
                                             true, true);
    int error = 0;

    *errmsg = NULL;
    if (wait_replica(idl, deadline)) {
        int last = ovsdb_idl_get_last_error(idl);
        const char *why = last ? ovs_retval_to_string(last) : "no answer";
        *errmsg = xasprintf("%s: no cluster leader reachable within %"PRIu64
                            " ms (%s)", remotes, timeout_ms, why);
        error = -ETIMEDOUT;
        goto out;
    }
    if (replica_has_data(idl)) {
        *errmsg = xasprintf("%s: the cluster database already holds "
                            "placement data; export only into a new "
                            "cluster", remotes);
        error = -EEXIST;
        goto out;
    }

    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);
    ovsdb_idl_txn_add_comment(txn, "nvo-controller --export-to: revision %"
                              PRId64, m->revision);
    export_rows(m, txn);
    enum ovsdb_idl_txn_status status = commit_until(idl, txn, deadline);
    switch (status) {
    case TXN_SUCCESS:
        VLOG_INFO("%s: exported %"PRIuSIZE" networks, %"PRIuSIZE
                  " hypervisors, %"PRIuSIZE" ports at revision %"PRId64,
                  remotes, hmap_count(&m->networks_by_id),
                  hmap_count(&m->hvs_by_id), hmap_count(&m->ports_by_id),
                  m->revision);
        break;
    case TXN_INCOMPLETE:
        *errmsg = xasprintf("%s: no commit within %"PRIu64" ms (is a "
                            "majority of the cluster up?)", remotes,
                            timeout_ms);
        error = -ETIMEDOUT;
        break;
    case TXN_TRY_AGAIN:
        /* Another writer got there first (the database was empty when
         * read): treat as not empty. */
        *errmsg = xasprintf("%s: the database changed while exporting; "
                            "export only into a new cluster", remotes);
        error = -EEXIST;
        break;
    case TXN_UNCOMMITTED:
    case TXN_UNCHANGED:
    case TXN_ABORTED:
    case TXN_NOT_LOCKED:
    case TXN_ERROR:
    default: {
        const char *detail = ovsdb_idl_txn_get_error(txn);
        *errmsg = xasprintf("%s: export failed: %s%s%s", remotes,
                            ovsdb_idl_txn_status_to_string(status),
                            detail ? ": " : "", detail ? detail : "");
        error = -EIO;
        break;
    }
    }
    ovsdb_idl_txn_destroy(txn);
out:
    ovsdb_idl_destroy(idl);
    return error;
}

/* ---------------------------------------------------------------------------
 * The backend (store.h class "ovsdb").
 *
 * libopenvswitch's IDL is built around OVS's poll loop, so it runs on a
 * thread of its own, like the OVS southbound:
 *
 *   main thread (libuv)                    IDL thread (poll_block)
 *   submit ------ mailbox + latch ------->  queue; one transaction at a time,
 *                                           holding every queued write that
 *                                           can join it (group commit)
 *   load -------- snapshot request ------>  copies the replica into the model
 *        <------- condition variable -----
 *   write->cb, change_cb <-- events + nvo_wake --  in journal (revision) order
 *
 * The mailbox, the event list and the snapshot hand-off are guarded by
 * 'mutex'; the IDL is the IDL thread's only.
 *
 * A transaction verifies NVO_Global.revision (so every placement write in
 * the cluster is serialized against the replica it was built from) and
 * carries up to BATCH_MAX writes: the i-th gets revision R + i, changes its
 * row and inserts the Journal row of revision R + i (origin, sequence
 * number, the op), deleting the row JOURNAL_KEEP revisions older;
 * NVO_Global.revision becomes R + n.  The journal is the change feed: IDL
 * updates may merge several transactions, but every journal row inserted
 * shows up, so the IDL thread replays revisions one by one: a row of its
 * own (origin and sequence number of a write it sent) completes that write;
 * any other becomes a change for the service.  A revision missing from the
 * journal (more than JOURNAL_KEEP revisions missed) makes the service
 * reload the whole model.
 *
 * Write states (struct ow):
 *   QUEUED --built into the transaction--> IN_TXN
 *   IN_TXN --committed---------------------> COMMITTED
 *   IN_TXN --verify failed (TRY_AGAIN)-----> QUEUED (rebuilt once the
 *                                            replica changed)
 *   IN_TXN --constraint, in a batch--------> QUEUED (each retried alone)
 *   IN_TXN --constraint / error, alone-----> failed (completed)
 *   IN_TXN, COMMITTED --its journal row seen--> completed (revision)
 *   QUEUED --its journal row seen----------> completed (revision): the reply
 *                                            of a transaction that committed
 *                                            was lost (TRY_AGAIN on a
 *                                            reconnect); never built again
 *   COMMITTED --the replica passed its revision without its row (a journal
 *                gap or a snapshot: the reloaded model holds it)
 *                                        --> completed (revision)
 *   COMMITTED --SEEN_TIMEOUT_MS after the commit, the replica still behind
 *                (no member with a majority reachable)
 *                                        --> completed (revision), applied
 *                                            ahead of revisions not seen yet;
 *                                            the model is reloaded once the
 *                                            replica holds it ('forced')
 *   QUEUED, IN_TXN --deadline--------------> failed -EAGAIN (503); an IN_TXN
 *                                            one may still commit: its
 *                                            journal row then arrives as a
 *                                            change
 *
 * A committed transaction (TXN_SUCCESS: a majority has it) is durable, so
 * its writes are never answered with an error; one whose commit is unknown
 * (the deadline passed first) is never answered with success.
 */

#define JOURNAL_KEEP 10000          /* Journal rows kept. */
#define COMMIT_TIMEOUT_MS 5000      /* A write fails (-EAGAIN) after this. */
#define SEEN_TIMEOUT_MS 5000        /* A committed write is answered after
                                     * this even if the replica has not
                                     * caught up with it. */
#define BATCH_MAX 64                /* Writes per transaction. */
#define LOAD_TIMEOUT_MS 30000       /* Load fails after this. */

enum ow_state { OW_QUEUED, OW_IN_TXN, OW_COMMITTED };

/* A write inside the backend. */
struct ow {
    struct ovs_list node;       /* In one of store_ovsdb's lists. */
    struct nvo_store_write *w;  /* The caller's. */
    enum ow_state state;
    uint64_t seq;               /* This process's sequence number. */
    int64_t revision;           /* IN_TXN, COMMITTED: its revision. */
    long long int deadline;     /* time_msec(); COMMITTED: SEEN_TIMEOUT_MS
                                 * after the commit. */
};

enum ev_type {
    EV_COMPLETE,                /* A write finished. */
    EV_CHANGE,                  /* Another writer's change. */
    EV_RELOAD,                  /* Changes lost: reload the model. */
};

/* From the IDL thread to the main thread. */
struct ev {
    struct ovs_list node;       /* In store_ovsdb.events. */
    enum ev_type type;
    int64_t revision;
    struct nvo_store_write *w;  /* EV_COMPLETE. */
    int error;                  /* EV_COMPLETE. */
    bool force;                 /* EV_RELOAD: even at a revision already
                                 * handed to the service. */
    char *errmsg;               /* EV_COMPLETE; owned. */
    struct nvo_store_op op;     /* EV_CHANGE; strings owned. */
};

struct store_ovsdb {
    struct nvo_store up;
    char *remotes;
    char *origin;               /* Unique per process (a UUID). */

    /* Main thread only. */
    struct nvo_wake *wake;      /* Wakes it for events; NULL without a
                                 * loop. */
    int64_t revision;           /* Last revision handed to the service. */
    pthread_t thread;

    /* Shared, under 'mutex'. */
    struct ovs_mutex mutex;
    pthread_cond_t cond;        /* Snapshot done. */
    struct ovs_list mailbox;    /* Contains struct ow, from submit. */
    struct ovs_list events;     /* Contains struct ev. */
    bool exiting;
    struct nvo_model *snap;     /* Load in progress: the model to fill. */
    long long int snap_deadline;
    bool snap_done;
    int snap_error;
    char *snap_errmsg;
    uint64_t n_writes, n_commits;
    struct latch latch;         /* Wakes the IDL thread. */

    /* The guest (nvo_store_ovsdb_set_guest()).  The IDL thread holds
     * 'guest_mutex' while it runs, not while it sleeps, so whoever holds
     * it may touch the session. */
    struct ovs_mutex guest_mutex;
    nvo_store_ovsdb_guest_fn *guest_run OVS_GUARDED;
    nvo_store_ovsdb_guest_fn *guest_wait OVS_GUARDED;
    void *guest_aux OVS_GUARDED;

    /* IDL thread only. */
    struct ovsdb_idl *idl;
    struct ovsdb_idl_index *net_by_id, *hv_by_id, *port_by_id;
    struct ovsdb_idl_index *journal_by_rev;
    struct ovsdb_idl_index *ctl_by_name, *hp_by_hv;  /* The guest's. */
    struct ovs_list queued;     /* struct ow, OW_QUEUED. */
    struct ovs_list inflight;   /* struct ow, OW_IN_TXN or OW_COMMITTED. */
    struct ovsdb_idl_txn *txn;
    long long int txn_deadline;
    int64_t txn_base;           /* NVO_Global.revision the txn verified. */
    unsigned int retry_seqno;   /* After TRY_AGAIN: rebuild once the IDL's
                                 * seqno differs.  0: no wait. */
    size_t solo;                /* Writes still to commit one per
                                 * transaction (after a batch failed). */
    int64_t seen;               /* Journal replayed up to this revision. */
    int64_t forced;             /* A committed write answered before the
                                 * replica held it: reload once the
                                 * replica reaches this revision.  0:
                                 * none. */
    bool synced;                /* 'seen' is set (a snapshot was taken). */
    ATOMIC(int64_t) foreign;    /* The latest revision replayed that this
                                 * process did not write, or that a
                                 * snapshot or reload covered (writer
                                 * unknown): nvo_store_ovsdb_foreign().
                                 * Written by the IDL thread only, before
                                 * the event or snapshot that hands the
                                 * revision to the main thread (whose
                                 * lock orders it for the main thread's
                                 * readers). */
    uint64_t next_seq;
    int64_t max_id[3];          /* new_id()'s start: the largest network,
                                 * hypervisor, port id it last found. */
};

static const struct nvo_store_class store_ovsdb_class;

static struct store_ovsdb *
store_ovsdb_cast(const struct nvo_store *s)
{
    ovs_assert(s->class == &store_ovsdb_class);
    return CONTAINER_OF(s, struct store_ovsdb, up);
}

/* IDL thread: queues an event for the main thread (no wake-up yet). */
static struct ev *
post_event(struct store_ovsdb *s, enum ev_type type, int64_t revision)
    OVS_REQUIRES(s->mutex)
{
    struct ev *ev = xzalloc(sizeof *ev);
    ev->type = type;
    ev->revision = revision;
    ovs_list_push_back(&s->events, &ev->node);
    return ev;
}

/* IDL thread: completes 'o' (freed) with 'error' / 'revision'. */
static void
ow_complete(struct store_ovsdb *s, struct ow *o, int error, int64_t revision,
            const char *errmsg)
{
    ovs_list_remove(&o->node);
    ovs_mutex_lock(&s->mutex);
    struct ev *ev = post_event(s, EV_COMPLETE, revision);
    ev->w = o->w;
    ev->error = error;
    ev->errmsg = errmsg ? xstrdup(errmsg) : NULL;
    ovs_mutex_unlock(&s->mutex);
    free(o);
}

/* --- Looking rows up by id in the replica. -------------------------------- */

static const struct nvorec_network *
net_find(struct store_ovsdb *s, int64_t id)
{
    struct nvorec_network *key = nvorec_network_index_init_row(s->net_by_id);
    nvorec_network_index_set_id(key, id);
    const struct nvorec_network *r = nvorec_network_index_find(s->net_by_id,
                                                               key);
    nvorec_network_index_destroy_row(key);
    return r;
}

static const struct nvorec_hypervisor *
hv_find(struct store_ovsdb *s, int64_t id)
{
    struct nvorec_hypervisor *key
        = nvorec_hypervisor_index_init_row(s->hv_by_id);
    nvorec_hypervisor_index_set_id(key, id);
    const struct nvorec_hypervisor *r
        = nvorec_hypervisor_index_find(s->hv_by_id, key);
    nvorec_hypervisor_index_destroy_row(key);
    return r;
}

static const struct nvorec_port *
port_find(struct store_ovsdb *s, int64_t id)
{
    struct nvorec_port *key = nvorec_port_index_init_row(s->port_by_id);
    nvorec_port_index_set_id(key, id);
    const struct nvorec_port *r = nvorec_port_index_find(s->port_by_id, key);
    nvorec_port_index_destroy_row(key);
    return r;
}

static const struct nvorec_journal *
journal_find(struct store_ovsdb *s, int64_t revision)
{
    struct nvorec_journal *key
        = nvorec_journal_index_init_row(s->journal_by_rev);
    nvorec_journal_index_set_revision(key, revision);
    const struct nvorec_journal *r
        = nvorec_journal_index_find(s->journal_by_rev, key);
    nvorec_journal_index_destroy_row(key);
    return r;
}

/* The largest id among the rows of 'index' (an id index; column 'id_col')
 * at or above key row 'from', or, if there is none, among all of them (0
 * if the table is empty).  Visits only the rows from 'from' on. */
static int64_t
index_max_id(struct ovsdb_idl_index *index, const struct ovsdb_idl_row *from,
             const struct ovsdb_idl_column *id_col)
{
    for (int pass = 0; pass < 2; pass++) {
        bool found = false;
        int64_t max = 0;
        for (struct ovsdb_idl_cursor cursor
                 = ovsdb_idl_cursor_first_ge(index, pass ? NULL : from);
             cursor.position; ovsdb_idl_cursor_next(&cursor)) {
            const struct ovsdb_datum *d
                = ovsdb_idl_read(ovsdb_idl_cursor_data(&cursor), id_col);
            max = d->n ? d->keys[0].integer : 0;
            found = true;
        }
        if (found || pass) {
            return max;
        }
    }
    OVS_NOT_REACHED();
}

/* The id a row inserted at 'revision' gets: the revision, or one more than
 * the largest id of its table (ids exported from SQLite).  The largest id
 * is looked up in the table's id index from the one found last time
 * (s->max_id), so an insert visits one row or two, not the whole table;
 * the result is the same as a scan's whatever the table did meanwhile. */
static int64_t
new_id(struct store_ovsdb *s, enum nvo_store_op_type type, int64_t revision)
{
    int64_t *max;
    if (type == NVO_STORE_ADD_NETWORK) {
        struct nvorec_network *key
            = nvorec_network_index_init_row(s->net_by_id);
        max = &s->max_id[0];
        nvorec_network_index_set_id(key, *max);
        *max = index_max_id(s->net_by_id, &key->header_,
                            &nvorec_network_col_id);
        nvorec_network_index_destroy_row(key);
    } else if (type == NVO_STORE_ADD_HV) {
        struct nvorec_hypervisor *key
            = nvorec_hypervisor_index_init_row(s->hv_by_id);
        max = &s->max_id[1];
        nvorec_hypervisor_index_set_id(key, *max);
        *max = index_max_id(s->hv_by_id, &key->header_,
                            &nvorec_hypervisor_col_id);
        nvorec_hypervisor_index_destroy_row(key);
    } else {
        struct nvorec_port *key = nvorec_port_index_init_row(s->port_by_id);
        max = &s->max_id[2];
        nvorec_port_index_set_id(key, *max);
        *max = index_max_id(s->port_by_id, &key->header_,
                            &nvorec_port_col_id);
        nvorec_port_index_destroy_row(key);
    }
    return MAX(revision, *max + 1);
}

/* --- Ops <-> rows and journal data. --------------------------------------- */

static const enum nvo_store_op_type all_op_types[] = {
    NVO_STORE_ADD_NETWORK, NVO_STORE_SET_NETWORK, NVO_STORE_DEL_NETWORK,
    NVO_STORE_ADD_HV, NVO_STORE_DEL_HV, NVO_STORE_ADD_PORT,
    NVO_STORE_MOVE_PORT, NVO_STORE_DEL_PORT,
};

static int
op_type_from_string(const char *s, enum nvo_store_op_type *type)
{
    for (size_t i = 0; i < ARRAY_SIZE(all_op_types); i++) {
        if (!strcmp(s, nvo_store_op_type_to_string(all_op_types[i]))) {
            *type = all_op_types[i];
            return 0;
        }
    }
    if (!strcmp(s, "set-network-bum")) {
        *type = NVO_STORE_SET_NETWORK;      /* Its name before 1.2.0. */
        return 0;
    }
    return -EINVAL;
}

static void
journal_add_int(struct smap *m, const char *key, int64_t v)
{
    smap_add_format(m, key, "%"PRId64, v);
}

static int64_t
journal_get_int(const struct smap *m, const char *key)
{
    const char *v = smap_get(m, key);
    return v ? strtoll(v, NULL, 10) : 0;
}

static char *
journal_dup(const struct smap *m, const char *key)
{
    const char *v = smap_get(m, key);
    return v ? xstrdup(v) : NULL;
}

/* The journal data of 'op' (the fields a change needs). */
static void
op_to_data(const struct nvo_store_op *op, struct smap *data)
{
    switch (op->type) {
    case NVO_STORE_ADD_NETWORK:
        smap_add(data, "name", op->net.name);
        journal_add_int(data, "vni", op->net.vni);
        smap_add(data, "encap", nvo_encap_to_string(op->net.encap));
        /* Fall through. */
    case NVO_STORE_SET_NETWORK:
        smap_add(data, "bum", nvo_bum_mode_to_string(op->net.bum));
        smap_add(data, "arp_responder",
                 op->net.arp_responder ? "true" : "false");
        journal_add_int(data, "mtu", op->net.mtu);
        break;
    case NVO_STORE_ADD_HV:
        smap_add(data, "name", op->hv.name);
        smap_add(data, "tunnel_ip", op->hv.tunnel_ip);
        smap_add(data, "dataplane",
                 nvo_dataplane_to_string(op->hv.dataplane));
        smap_add(data, "role", nvo_role_to_string(op->hv.role));
        if (op->hv.ovsdb) {
            smap_add(data, "ovsdb", op->hv.ovsdb);
        }
        break;
    case NVO_STORE_ADD_PORT:
        smap_add(data, "vm", op->port.vm);
        journal_add_int(data, "net_id", op->port.net_id);
        smap_add(data, "mac", op->port.mac);
        if (op->port.ip) {
            smap_add(data, "ip", op->port.ip);
        }
        if (op->port.allowed) {
            smap_add(data, "allowed", op->port.allowed);
        }
        /* Fall through. */
    case NVO_STORE_MOVE_PORT:
        journal_add_int(data, "hv_id", op->port.hv_id);
        smap_add(data, "iface", op->port.iface);
        break;
    case NVO_STORE_DEL_NETWORK:
    case NVO_STORE_DEL_HV:
    case NVO_STORE_DEL_PORT:
        break;
    }
}

/* Rebuilds an op from journal row 'j'.  Returns 0 or -EINVAL. */
static int
op_from_journal(const struct nvorec_journal *j, struct nvo_store_op *op)
{
    const struct smap *d = &j->data;

    memset(op, 0, sizeof *op);
    if (op_type_from_string(j->op, &op->type)) {
        return -EINVAL;
    }
    op->id = j->row_id;
    switch (op->type) {
    case NVO_STORE_ADD_NETWORK:
        op->net.name = journal_dup(d, "name");
        op->net.vni = journal_get_int(d, "vni");
        if (nvo_encap_from_string(smap_get_def(d, "encap", "vxlan"),
                                  &op->net.encap)) {
            goto bad;
        }
        /* Fall through. */
    case NVO_STORE_SET_NETWORK:
        if (nvo_bum_mode_from_string(smap_get_def(d, "bum", ""),
                                     &op->net.bum)) {
            goto bad;
        }
        op->net.arp_responder = smap_get_bool(d, "arp_responder", true);
        op->net.mtu = journal_get_int(d, "mtu");
        break;
    case NVO_STORE_ADD_HV:
        op->hv.name = journal_dup(d, "name");
        op->hv.tunnel_ip = journal_dup(d, "tunnel_ip");
        op->hv.ovsdb = journal_dup(d, "ovsdb");
        if (nvo_dataplane_from_string(smap_get_def(d, "dataplane", ""),
                                      &op->hv.dataplane)
            || nvo_role_from_string(smap_get_def(d, "role", ""),
                                    &op->hv.role)) {
            goto bad;
        }
        break;
    case NVO_STORE_ADD_PORT:
        op->port.vm = journal_dup(d, "vm");
        op->port.net_id = journal_get_int(d, "net_id");
        op->port.mac = journal_dup(d, "mac");
        op->port.ip = journal_dup(d, "ip");
        op->port.allowed = journal_dup(d, "allowed");
        /* Fall through. */
    case NVO_STORE_MOVE_PORT:
        op->port.hv_id = journal_get_int(d, "hv_id");
        op->port.iface = journal_dup(d, "iface");
        break;
    case NVO_STORE_DEL_NETWORK:
    case NVO_STORE_DEL_HV:
    case NVO_STORE_DEL_PORT:
        break;
    }
    return 0;

bad:
    nvo_store_op_destroy(op);
    return -EINVAL;
}

/* Adds 'o''s row change to 'txn' at 'revision'.  Returns 0, or a negative
 * errno with '*errmsg' (caller frees) if the write cannot be built from the
 * replica (a row it names does not exist, or still has ports). */
static int
build_op(struct store_ovsdb *s, struct ovsdb_idl_txn *txn, struct ow *o,
         int64_t revision, char **errmsg)
{
    struct nvo_store_op *op = &o->w->op;
    const struct nvorec_network *net;
    const struct nvorec_hypervisor *hv;
    const struct nvorec_port *p;

    switch (op->type) {
    case NVO_STORE_ADD_NETWORK: {
        op->id = new_id(s, op->type, revision);
        const struct nvorec_network *r = nvorec_network_insert(txn);
        nvorec_network_set_id(r, op->id);
        nvorec_network_set_name(r, op->net.name);
        nvorec_network_set_vni(r, op->net.vni);
        nvorec_network_set_bum(r, nvo_bum_mode_to_string(op->net.bum));
        set_net_options(r, op->net.encap, op->net.arp_responder,
                        op->net.mtu);
        nvorec_network_set_revision(r, revision);
        return 0;
    }
    case NVO_STORE_SET_NETWORK:
        net = net_find(s, op->id);
        if (!net) {
            goto no_network;
        }
        nvorec_network_set_bum(net, nvo_bum_mode_to_string(op->net.bum));
        set_net_options(net, net_row_encap(net), op->net.arp_responder,
                        op->net.mtu);
        nvorec_network_set_revision(net, revision);
        return 0;
    case NVO_STORE_DEL_NETWORK:
        net = net_find(s, op->id);
        if (!net) {
            goto no_network;
        }
        NVOREC_PORT_FOR_EACH (p, s->idl) {
            if (p->network == net) {
                *errmsg = xasprintf("network %"PRId64" still has ports",
                                    op->id);
                return -ENOTEMPTY;
            }
        }
        nvorec_network_delete(net);
        return 0;
    case NVO_STORE_ADD_HV: {
        op->id = new_id(s, op->type, revision);
        const struct nvorec_hypervisor *r = nvorec_hypervisor_insert(txn);
        nvorec_hypervisor_set_id(r, op->id);
        nvorec_hypervisor_set_name(r, op->hv.name);
        nvorec_hypervisor_set_tunnel_ip(r, op->hv.tunnel_ip);
        nvorec_hypervisor_set_dataplane(
            r, nvo_dataplane_to_string(op->hv.dataplane));
        nvorec_hypervisor_set_role(r, nvo_role_to_string(op->hv.role));
        nvorec_hypervisor_set_ovsdb(r, op->hv.ovsdb);
        nvorec_hypervisor_set_revision(r, revision);
        return 0;
    }
    case NVO_STORE_DEL_HV:
        hv = hv_find(s, op->id);
        if (!hv) {
            goto no_hv;
        }
        NVOREC_PORT_FOR_EACH (p, s->idl) {
            if (p->hypervisor == hv) {
                *errmsg = xasprintf("hypervisor %"PRId64" still has ports",
                                    op->id);
                return -ENOTEMPTY;
            }
        }
        nvorec_hypervisor_delete(hv);
        return 0;
    case NVO_STORE_ADD_PORT: {
        net = net_find(s, op->port.net_id);
        hv = hv_find(s, op->port.hv_id);
        if (!net || !hv) {
            *errmsg = xasprintf("no %s %"PRId64, net ? "hypervisor"
                                : "network", net ? op->port.hv_id
                                : op->port.net_id);
            return -ENOENT;
        }
        op->id = new_id(s, op->type, revision);
        const struct nvorec_port *r = nvorec_port_insert(txn);
        nvorec_port_set_id(r, op->id);
        nvorec_port_set_vm(r, op->port.vm);
        nvorec_port_set_network(r, net);
        nvorec_port_set_hypervisor(r, hv);
        nvorec_port_set_mac(r, op->port.mac);
        nvorec_port_set_ip(r, op->port.ip);
        nvorec_port_set_iface(r, op->port.iface);
        nvorec_port_set_allowed_addresses(r, op->port.allowed);
        nvorec_port_set_revision(r, revision);
        return 0;
    }
    case NVO_STORE_MOVE_PORT:
        p = port_find(s, op->id);
        hv = hv_find(s, op->port.hv_id);
        if (!p || !hv) {
            *errmsg = xasprintf("no %s %"PRId64, p ? "hypervisor" : "port",
                                p ? op->port.hv_id : op->id);
            return -ENOENT;
        }
        nvorec_port_set_hypervisor(p, hv);
        nvorec_port_set_iface(p, op->port.iface);
        nvorec_port_set_revision(p, revision);
        return 0;
    case NVO_STORE_DEL_PORT:
        p = port_find(s, op->id);
        if (!p) {
            *errmsg = xasprintf("no port %"PRId64, op->id);
            return -ENOENT;
        }
        nvorec_port_delete(p);
        return 0;
    }
    *errmsg = xstrdup("unknown operation");
    return -EINVAL;

no_network:
    *errmsg = xasprintf("no network %"PRId64, op->id);
    return -ENOENT;
no_hv:
    *errmsg = xasprintf("no hypervisor %"PRId64, op->id);
    return -ENOENT;
}

/* Maps a failed transaction's error text to an errno: a uniqueness index
 * is -EEXIST, a strong reference (a row still referred to, or referring to
 * a row gone) -ENOTEMPTY / -ENOENT, a column constraint -EINVAL. */
static int
txn_error_to_errno(const char *error, enum nvo_store_op_type type)
{
    if (!error) {
        return -EIO;
    }
    if (strstr(error, "referential integrity violation")) {
        return type == NVO_STORE_DEL_NETWORK || type == NVO_STORE_DEL_HV
               ? -ENOTEMPTY : -ENOENT;
    }
    if (strstr(error, "constraint violation")) {
        return strstr(error, "identical values") ? -EEXIST : -EINVAL;
    }
    return -EIO;
}

/* The row a write changes, to keep two changes of one row out of one
 * transaction. */
struct ow_key {
    enum nvo_store_op_type type;    /* Of the first op that touched it. */
    int64_t id;
};

static bool
ow_key_conflicts(const struct ow_key *a, const struct nvo_store_op *op)
{
    bool a_net = a->type == NVO_STORE_SET_NETWORK;
    bool op_net = op->type == NVO_STORE_SET_NETWORK;
    return a->id == op->id && a_net == op_net;
}

/* Whether write 'op' may join a transaction that already holds the writes
 * whose rows are 'keys[0..n-1]': not a deletion that must see every port
 * (network, hypervisor), and no second change of a row. */
static bool
ow_batchable(const struct nvo_store_op *op, const struct ow_key *keys,
             size_t n)
{
    switch (op->type) {
    case NVO_STORE_DEL_NETWORK:
    case NVO_STORE_DEL_HV:
        return false;
    case NVO_STORE_ADD_NETWORK:
    case NVO_STORE_ADD_HV:
    case NVO_STORE_ADD_PORT:
        return true;
    case NVO_STORE_SET_NETWORK:
    case NVO_STORE_MOVE_PORT:
    case NVO_STORE_DEL_PORT:
        for (size_t i = 0; i < n; i++) {
            if (ow_key_conflicts(&keys[i], op)) {
                return false;
            }
        }
        return true;
    }
    return false;
}

/* Adds write 'o''s journal row of 'revision' to 'txn' (and deletes the one
 * JOURNAL_KEEP revisions older). */
static void
add_journal_row(struct store_ovsdb *s, struct ovsdb_idl_txn *txn,
                const struct ow *o, int64_t revision)
{
    const struct nvorec_journal *j = nvorec_journal_insert(txn);
    struct smap data = SMAP_INITIALIZER(&data);
    op_to_data(&o->w->op, &data);
    nvorec_journal_set_revision(j, revision);
    nvorec_journal_set_origin(j, s->origin);
    nvorec_journal_set_seq(j, o->seq);
    nvorec_journal_set_op(j, nvo_store_op_type_to_string(o->w->op.type));
    nvorec_journal_set_row_id(j, o->w->op.id);
    nvorec_journal_set_data(j, &data);
    smap_destroy(&data);
    const struct nvorec_journal *old = journal_find(s, revision
                                                    - JOURNAL_KEEP);
    if (old) {
        nvorec_journal_delete(old);
    }
}

/* IDL thread: starts a transaction for the queued writes, if any and if
 * the replica is ready: group commit, like the SQLite backend.  Up to
 * BATCH_MAX consecutive writes share one transaction, each with its own
 * revision (R+1, R+2, ...) and journal row, so each is answered when its
 * own journal row comes back, i.e. after the transaction committed.  A
 * batch stops before a write that cannot join it (ow_batchable()) or that
 * cannot be built from the replica (it then goes first in the next one).
 * After a batch failed as a whole (a constraint one of its writes broke),
 * its writes are retried one per transaction ('solo'), so each gets its
 * own answer.  Returns true if it failed the first write instead (the
 * caller tries again). */
static bool
start_txn(struct store_ovsdb *s)
{
    if (s->txn || ovs_list_is_empty(&s->queued) || !s->synced
        || !ovsdb_idl_is_connected(s->idl)
        || (s->retry_seqno && s->retry_seqno == ovsdb_idl_get_seqno(s->idl))) {
        return false;
    }
    s->retry_seqno = 0;

    const struct nvorec_nvo_global *g = nvorec_nvo_global_first(s->idl);
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(s->idl);
    int64_t base = g ? g->revision : 0;
    int64_t revision = base;
    s->txn_base = base;
    if (g) {
        nvorec_nvo_global_verify_revision(g);
    } else {
        g = nvorec_nvo_global_insert(txn);
    }

    struct ow_key keys[BATCH_MAX];
    size_t n = 0, limit = s->solo ? 1 : BATCH_MAX;
    long long int deadline = LLONG_MAX;
    struct ow *o;
    LIST_FOR_EACH_SAFE (o, node, &s->queued) {
        if (n >= limit || (n && !ow_batchable(&o->w->op, keys, n))) {
            break;
        }
        char *errmsg = NULL;
        int error = build_op(s, txn, o, revision + 1, &errmsg);
        if (error && !n) {
            ovsdb_idl_txn_destroy(txn);
            ow_complete(s, o, error, 0, errmsg);
            free(errmsg);
            return true;
        } else if (error) {
            free(errmsg);           /* Answered from its own transaction. */
            break;
        }
        revision++;
        o->revision = revision;
        add_journal_row(s, txn, o, revision);
        keys[n].type = o->w->op.type;
        keys[n].id = o->w->op.id;
        n++;
        deadline = MIN(deadline, o->deadline);
        ovs_list_remove(&o->node);
        o->state = OW_IN_TXN;
        ovs_list_push_back(&s->inflight, &o->node);
        if (o->w->op.type == NVO_STORE_DEL_NETWORK
            || o->w->op.type == NVO_STORE_DEL_HV) {
            break;                  /* Alone: see ow_batchable(). */
        }
    }
    nvorec_nvo_global_set_revision(g, revision);
    if (s->solo) {
        s->solo--;
    }
    s->txn = txn;
    s->txn_deadline = deadline;
    ovs_mutex_lock(&s->mutex);
    s->n_commits++;
    ovs_mutex_unlock(&s->mutex);
    return false;
}

/* IDL thread: puts the writes of the transaction that just failed back at
 * the head of the queue, in their order.  Returns how many. */
static size_t
requeue_inflight(struct store_ovsdb *s)
{
    size_t n = 0;
    struct ow *o;
    LIST_FOR_EACH_REVERSE_SAFE (o, node, &s->inflight) {
        if (o->state == OW_IN_TXN) {
            ovs_list_remove(&o->node);
            o->state = OW_QUEUED;
            ovs_list_push_front(&s->queued, &o->node);
            n++;
        }
    }
    return n;
}

static void complete_covered(struct store_ovsdb *);

/* IDL thread: the transaction in flight finished with 'status'. */
static void
finish_txn(struct store_ovsdb *s, enum ovsdb_idl_txn_status status)
{
    const char *error = ovsdb_idl_txn_get_error(s->txn);
    size_t n_batch = 0;
    struct ow *o;
    LIST_FOR_EACH (o, node, &s->inflight) {
        n_batch += o->state == OW_IN_TXN;
    }

    if (status == TXN_TRY_AGAIN) {
        /* Another controller wrote first (or the connection dropped):
         * rebuild from the replica once it changed (at once if it already
         * holds the other write). */
        const struct nvorec_nvo_global *g = nvorec_nvo_global_first(s->idl);
        requeue_inflight(s);
        s->retry_seqno = g && g->revision != s->txn_base
                         ? 0 : ovsdb_idl_get_seqno(s->idl);
    } else if (status == TXN_ERROR && error && strstr(error, "NVO_Global")) {
        /* Two controllers created the revision row of an empty database
         * at once: retry on the one that won. */
        requeue_inflight(s);
        s->retry_seqno = ovsdb_idl_get_seqno(s->idl);
    } else if (status == TXN_ERROR && n_batch > 1) {
        /* One write of the batch broke a constraint, which fails them
         * all: retry each in a transaction of its own. */
        s->solo = requeue_inflight(s);
    } else {
        LIST_FOR_EACH_SAFE (o, node, &s->inflight) {
            if (o->state != OW_IN_TXN) {
                continue;
            }
            if (status == TXN_SUCCESS) {
                /* Durable.  Its journal row completes it, in revision
                 * order with everyone else's changes. */
                o->state = OW_COMMITTED;
                o->deadline = time_msec() + SEEN_TIMEOUT_MS;
            } else if (status == TXN_ERROR) {
                int err = txn_error_to_errno(error, o->w->op.type);
                ow_complete(s, o, err, 0,
                            error ? error : "transaction failed");
            } else {
                char *msg = xasprintf("transaction %s",
                                      ovsdb_idl_txn_status_to_string(status));
                ow_complete(s, o, -EIO, 0, msg);
                free(msg);
            }
        }
        /* A reload may already have skipped past their rows. */
        complete_covered(s);
    }
    ovsdb_idl_txn_destroy(s->txn);
    s->txn = NULL;
}

/* IDL thread: fails the writes whose deadline passed.  A transaction in
 * flight is abandoned (it may still commit; its journal row then arrives
 * as a change). */
static void
expire_writes(struct store_ovsdb *s, long long int now)
{
    if (s->txn && now >= s->txn_deadline) {
        /* Destroy alone: it makes the IDL forget a transaction it sent.
         * ovsdb_idl_txn_abort() first would mark it aborted, so that
         * destroy left it among the IDL's outstanding transactions, freed:
         * the next reconnect (or its late reply) then used it. */
        ovsdb_idl_txn_destroy(s->txn);
        s->txn = NULL;
        struct ow *o;
        LIST_FOR_EACH_SAFE (o, node, &s->inflight) {
            if (o->state == OW_IN_TXN) {
                ow_complete(s, o, -EAGAIN, 0, "the cluster did not commit "
                            "the write within 5 s (no majority?); it may "
                            "still commit");
            }
        }
    }
    struct ow *o;
    LIST_FOR_EACH_SAFE (o, node, &s->queued) {
        if (now >= o->deadline) {
            ow_complete(s, o, -EAGAIN, 0, "no cluster majority reachable: "
                        "the write was not committed");
        }
    }
    /* Committed (durable) but the replica is not there yet: answer it
     * now, ahead of the revisions before it, and reload the model once
     * the replica holds it (replay_journal()). */
    LIST_FOR_EACH_SAFE (o, node, &s->inflight) {
        if (o->state == OW_COMMITTED && now >= o->deadline) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
            VLOG_WARN_RL(&rl, "store revision %"PRId64" committed %d ms ago "
                         "but the replica is at %"PRId64" (%s): answering "
                         "it, the model reloads once the replica catches "
                         "up", o->revision, SEEN_TIMEOUT_MS, s->seen,
                         ovsdb_idl_is_connected(s->idl)
                         ? "connected" : "reconnecting");
            if (o->revision > s->seen) {
                s->forced = MAX(s->forced, o->revision);
            }
            ow_complete(s, o, 0, o->revision, NULL);
        }
    }
}

/* IDL thread: the earliest deadline of a committed write, or LLONG_MAX. */
static long long int
committed_deadline(const struct store_ovsdb *s)
{
    long long int deadline = LLONG_MAX;
    const struct ow *o;
    LIST_FOR_EACH (o, node, &s->inflight) {
        if (o->state == OW_COMMITTED) {
            deadline = MIN(deadline, o->deadline);
        }
    }
    return deadline;
}

/* IDL thread: completes the committed writes that the replica holds
 * although replay_journal() did not see their rows (it skipped them for a
 * reload, or a snapshot covered them): they are durable, and the model the
 * main thread reloads holds them. */
static void
complete_covered(struct store_ovsdb *s)
{
    struct ow *o;
    LIST_FOR_EACH_SAFE (o, node, &s->inflight) {
        if (o->state == OW_COMMITTED && o->revision <= s->seen) {
            ow_complete(s, o, 0, o->revision, NULL);
        }
    }
}

/* IDL thread: raises s->foreign to 'revision'. */
static void
raise_foreign(struct store_ovsdb *s, int64_t revision)
{
    int64_t foreign;
    atomic_read_relaxed(&s->foreign, &foreign);
    if (revision > foreign) {
        atomic_store_relaxed(&s->foreign, revision);
    }
}

/* IDL thread: asks the main thread to reload the model at 'revision' and
 * skips the journal to it. */
static void
post_reload(struct store_ovsdb *s, int64_t revision, bool force)
{
    raise_foreign(s, revision);
    ovs_mutex_lock(&s->mutex);
    post_event(s, EV_RELOAD, revision)->force = force;
    ovs_mutex_unlock(&s->mutex);
    s->seen = revision;
    complete_covered(s);
}

/* IDL thread: this process's write with sequence number 'seq' that still
 * waits for its journal row (in flight, or queued again after a lost
 * reply), or NULL. */
static struct ow *
find_mine(struct store_ovsdb *s, uint64_t seq)
{
    struct ow *o;
    LIST_FOR_EACH (o, node, &s->inflight) {
        if (o->seq == seq) {
            return o;
        }
    }
    LIST_FOR_EACH (o, node, &s->queued) {
        if (o->seq == seq) {
            return o;
        }
    }
    return NULL;
}

/* IDL thread: replays the journal from s->seen to the replica's revision,
 * completing this controller's writes and posting everyone else's as
 * changes. */
static void
replay_journal(struct store_ovsdb *s)
{
    const struct nvorec_nvo_global *g = nvorec_nvo_global_first(s->idl);
    int64_t revision = g ? g->revision : 0;

    if (s->forced > s->seen) {
        /* The main thread already applied a write ahead of the revisions
         * before it: replaying them would skip them.  Reload once the
         * replica holds that write. */
        if (revision >= s->forced) {
            VLOG_INFO("the replica caught up with revision %"PRId64
                      ": reloading the model", s->forced);
            s->forced = 0;
            post_reload(s, revision, true);
        }
        return;
    }
    for (int64_t r = s->seen + 1; r <= revision; r++) {
        const struct nvorec_journal *j = journal_find(s, r);
        if (!j) {
            VLOG_WARN("store revision %"PRId64" is no longer in the journal "
                      "(missed more than %d revisions): reloading the model",
                      r, JOURNAL_KEEP);
            post_reload(s, revision, false);
            return;
        }
        struct ow *mine = (strcmp(j->origin, s->origin) ? NULL
                           : find_mine(s, j->seq));
        if (mine) {
            mine->w->op.id = j->row_id;
            ow_complete(s, mine, 0, r, NULL);
        } else {
            struct nvo_store_op op;
            if (op_from_journal(j, &op)) {
                VLOG_ERR("journal row of revision %"PRId64" (%s) is not "
                         "understood: reloading the model", r, j->op);
                post_reload(s, revision, false);
                return;
            }
            raise_foreign(s, r);
            ovs_mutex_lock(&s->mutex);
            struct ev *ev = post_event(s, EV_CHANGE, r);
            ev->op = op;
            ovs_mutex_unlock(&s->mutex);
        }
        s->seen = r;
    }
}

/* IDL thread: fills s->snap from the replica. */
static void
take_snapshot(struct store_ovsdb *s, struct nvo_model *m)
{
    const struct nvorec_nvo_global *g = nvorec_nvo_global_first(s->idl);
    const struct nvorec_network *rn;
    const struct nvorec_hypervisor *rh;
    const struct nvorec_port *rp;

    NVOREC_NETWORK_FOR_EACH (rn, s->idl) {
        enum nvo_bum_mode bum = NVO_BUM_HEAD_END;
        nvo_bum_mode_from_string(rn->bum, &bum);
        struct nvo_network *net = nvo_model_add_network(
            m, rn->id, rn->name, rn->vni, bum, rn->revision);
        nvo_model_set_encap(m, net, net_row_encap(rn), rn->revision);
        /* Absent (a database from before the column): the default. */
        nvo_model_set_arp_responder(m, net, (!rn->n_arp_responder
                                             || *rn->arp_responder),
                                    rn->revision);
        nvo_model_set_mtu(m, net, rn->n_mtu ? *rn->mtu : 0, rn->revision);
    }
    NVOREC_HYPERVISOR_FOR_EACH (rh, s->idl) {
        enum nvo_dataplane dp = NVO_DP_KERNEL;
        enum nvo_role role = NVO_ROLE_HYPERVISOR;
        nvo_dataplane_from_string(rh->dataplane, &dp);
        nvo_role_from_string(rh->role, &role);
        nvo_model_add_hv(m, rh->id, rh->name, rh->tunnel_ip, dp, role,
                         rh->ovsdb, rh->revision);
    }
    NVOREC_PORT_FOR_EACH (rp, s->idl) {
        struct nvo_network *net = rp->network
            ? nvo_model_network_by_id(m, rp->network->id) : NULL;
        struct nvo_hypervisor *hv = rp->hypervisor
            ? nvo_model_hv_by_id(m, rp->hypervisor->id) : NULL;
        struct eth_addr mac;
        if (!net || !hv || !eth_addr_from_string(rp->mac, &mac)) {
            VLOG_WARN("port %"PRId64" is inconsistent; skipped", rp->id);
            continue;
        }
        struct nvo_port *p = nvo_model_add_port(m, rp->id, rp->vm, net, hv,
                                                mac, rp->ip, rp->iface,
                                                rp->revision);
        nvo_model_set_port_allowed_str(m, p, rp->allowed_addresses);
    }
    m->revision = g ? g->revision : 0;
    s->seen = m->revision;
    raise_foreign(s, m->revision);
    s->forced = 0;
    s->synced = true;
    complete_covered(s);
}

/* IDL thread: serves a pending load request. */
static void
serve_snapshot(struct store_ovsdb *s, long long int now)
{
    ovs_mutex_lock(&s->mutex);
    struct nvo_model *m = s->snap_done ? NULL : s->snap;
    long long int deadline = s->snap_deadline;
    ovs_mutex_unlock(&s->mutex);
    if (!m) {
        return;
    }

    int error = 0;
    char *errmsg = NULL;
    if (ovsdb_idl_has_ever_connected(s->idl)
        && ovsdb_idl_is_connected(s->idl)) {
        /* Events already posted for revisions up to the snapshot's are
         * covered by it: the main thread skips them. */
        take_snapshot(s, m);
    } else if (now >= deadline) {
        int last = ovsdb_idl_get_last_error(s->idl);
        errmsg = xasprintf("%s: no cluster leader reachable within %d ms "
                           "(%s)", s->remotes, LOAD_TIMEOUT_MS,
                           last ? ovs_retval_to_string(last) : "no answer");
        error = -ETIMEDOUT;
    } else {
        poll_timer_wait_until(deadline);
        return;
    }
    ovs_mutex_lock(&s->mutex);
    s->snap_done = true;
    s->snap_error = error;
    s->snap_errmsg = errmsg;
    xpthread_cond_signal(&s->cond);
    ovs_mutex_unlock(&s->mutex);
}

/* IDL thread: takes submitted writes. */
static void
take_mail(struct store_ovsdb *s)
{
    struct ovs_list mail;
    ovs_mutex_lock(&s->mutex);
    ovs_list_move(&mail, &s->mailbox);
    ovs_list_init(&s->mailbox);
    ovs_mutex_unlock(&s->mutex);

    struct ow *o;
    LIST_FOR_EACH_POP (o, node, &mail) {
        o->seq = ++s->next_seq;
        o->state = OW_QUEUED;
        ovs_list_push_back(&s->queued, &o->node);
    }
}

static void *
store_ovsdb_thread(void *s_)
{
    struct store_ovsdb *s = s_;
    unsigned int seqno = 0;

    for (;;) {
        ovs_mutex_lock(&s->guest_mutex);
        latch_poll(&s->latch);
        ovs_mutex_lock(&s->mutex);
        bool exiting = s->exiting;
        ovs_mutex_unlock(&s->mutex);
        if (exiting) {
            ovs_mutex_unlock(&s->guest_mutex);
            break;
        }

        long long int now = time_msec();
        take_mail(s);
        ovsdb_idl_run(s->idl);
        serve_snapshot(s, now);
        if (s->synced && ovsdb_idl_get_seqno(s->idl) != seqno) {
            seqno = ovsdb_idl_get_seqno(s->idl);
            replay_journal(s);
        }
        if (s->txn) {
            enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(s->txn);
            if (status != TXN_INCOMPLETE) {
                finish_txn(s, status);
            }
        }
        expire_writes(s, now);
        while (start_txn(s)) {
            continue;
        }
        if (s->txn) {
            /* Commit at once: the IDL sends it on its next run. */
            enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(s->txn);
            if (status != TXN_INCOMPLETE) {
                finish_txn(s, status);
            }
        }

        ovs_mutex_lock(&s->mutex);
        bool wake = !ovs_list_is_empty(&s->events);
        ovs_mutex_unlock(&s->mutex);
        if (wake && s->wake) {
            nvo_wake_send(s->wake);
        }
        if (s->guest_run) {
            s->guest_run(s->guest_aux);
            s->guest_wait(s->guest_aux);
        } else {
            /* The guest's tracked changes: nobody else reads them. */
            ovsdb_idl_track_clear(s->idl);
        }

        ovsdb_idl_wait(s->idl);
        if (s->txn) {
            ovsdb_idl_txn_wait(s->txn);
            poll_timer_wait_until(s->txn_deadline);
        }
        if (!ovs_list_is_empty(&s->queued)) {
            struct ow *o = CONTAINER_OF(ovs_list_front(&s->queued),
                                        struct ow, node);
            poll_timer_wait_until(o->deadline);
        }
        poll_timer_wait_until(committed_deadline(s));
        latch_wait(&s->latch);
        ovs_mutex_unlock(&s->guest_mutex);
        poll_block();
    }

    if (s->txn) {
        ovsdb_idl_txn_destroy(s->txn);
        s->txn = NULL;
    }
    return NULL;
}

/* Main thread: hands events to the service, in order. */
static void
store_ovsdb_async_cb(void *s_)
{
    struct store_ovsdb *s = s_;

    struct ovs_list events;
    ovs_mutex_lock(&s->mutex);
    ovs_list_move(&events, &s->events);
    ovs_list_init(&s->events);
    ovs_mutex_unlock(&s->mutex);

    struct ev *ev;
    LIST_FOR_EACH_POP (ev, node, &events) {
        switch (ev->type) {
        case EV_COMPLETE:
            if (!ev->error) {
                s->revision = MAX(s->revision, ev->revision);
            }
            nvo_store_complete(ev->w, ev->error, ev->revision, ev->errmsg);
            break;
        case EV_CHANGE:
            /* A reload's snapshot already holds revisions up to
             * s->revision. */
            if (ev->revision > s->revision) {
                s->revision = ev->revision;
                if (s->up.change_cb) {
                    s->up.change_cb(s->up.change_aux, &ev->op, 1,
                                    ev->revision);
                }
            }
            break;
        case EV_RELOAD:
            if ((ev->revision > s->revision || ev->force)
                && s->up.change_cb) {
                s->up.change_cb(s->up.change_aux, NULL, 0, ev->revision);
            }
            break;
        }
        nvo_store_op_destroy(&ev->op);
        free(ev->errmsg);
        free(ev);
    }
}

static int
store_ovsdb_load(struct nvo_store *s_, struct nvo_model *m)
{
    struct store_ovsdb *s = store_ovsdb_cast(s_);

    ovs_mutex_lock(&s->mutex);
    s->snap = m;
    s->snap_done = false;
    s->snap_deadline = time_msec() + LOAD_TIMEOUT_MS;
    ovs_mutex_unlock(&s->mutex);
    latch_set(&s->latch);

    ovs_mutex_lock(&s->mutex);
    while (!s->snap_done) {
        ovs_mutex_cond_wait(&s->cond, &s->mutex);
    }
    int error = s->snap_error;
    char *errmsg = s->snap_errmsg;
    s->snap = NULL;
    s->snap_errmsg = NULL;
    ovs_mutex_unlock(&s->mutex);

    if (error) {
        VLOG_ERR("%s", errmsg);
    } else {
        s->revision = m->revision;
        VLOG_INFO("%s: loaded %"PRIuSIZE" networks, %"PRIuSIZE" hypervisors, "
                  "%"PRIuSIZE" ports at revision %"PRId64, s->remotes,
                  hmap_count(&m->networks_by_id), hmap_count(&m->hvs_by_id),
                  hmap_count(&m->ports_by_id), m->revision);
    }
    free(errmsg);
    return error;
}

static void
store_ovsdb_submit(struct nvo_store *s_, struct nvo_store_write *w)
{
    struct store_ovsdb *s = store_ovsdb_cast(s_);
    struct ow *o = xzalloc(sizeof *o);
    o->w = w;
    o->deadline = time_msec() + COMMIT_TIMEOUT_MS;
    ovs_mutex_lock(&s->mutex);
    ovs_list_push_back(&s->mailbox, &o->node);
    s->n_writes++;
    ovs_mutex_unlock(&s->mutex);
    latch_set(&s->latch);
}

static int64_t
store_ovsdb_revision(const struct nvo_store *s_)
{
    return store_ovsdb_cast(s_)->revision;
}

static void
store_ovsdb_get_stats(const struct nvo_store *s_, struct nvo_store_stats *st)
{
    struct store_ovsdb *s = store_ovsdb_cast(s_);
    ovs_mutex_lock(&s->mutex);
    st->n_writes = s->n_writes;
    st->n_commits = s->n_commits;
    ovs_mutex_unlock(&s->mutex);
}

static void
free_ow_list(struct ovs_list *list)
{
    struct ow *o;
    LIST_FOR_EACH_POP (o, node, list) {
        free(o);
    }
}

static void
store_ovsdb_close(struct nvo_store *s_)
{
    struct store_ovsdb *s = store_ovsdb_cast(s_);

    ovs_mutex_lock(&s->mutex);
    s->exiting = true;
    ovs_mutex_unlock(&s->mutex);
    latch_set(&s->latch);
    xpthread_join(s->thread, NULL);

    nvo_wake_destroy(s->wake);
    /* No callbacks after close: the caller drops its writes. */
    free_ow_list(&s->mailbox);
    free_ow_list(&s->queued);
    free_ow_list(&s->inflight);
    struct ev *ev;
    LIST_FOR_EACH_POP (ev, node, &s->events) {
        nvo_store_op_destroy(&ev->op);
        free(ev->errmsg);
        free(ev);
    }
    ovsdb_idl_destroy(s->idl);
    latch_destroy(&s->latch);
    xpthread_cond_destroy(&s->cond);
    ovs_mutex_destroy(&s->guest_mutex);
    ovs_mutex_destroy(&s->mutex);
    free(s->remotes);
    free(s->origin);
    free(s);
}

static const struct nvo_store_class store_ovsdb_class = {
    .name = "ovsdb",
    .close = store_ovsdb_close,
    .load = store_ovsdb_load,
    .submit = store_ovsdb_submit,
    .revision = store_ovsdb_revision,
    .get_stats = store_ovsdb_get_stats,
};

int
nvo_store_ovsdb_open(const char *db, uv_loop_t *loop,
                     struct nvo_store **storep, char **errmsg)
{
    char *remotes;
    int error = nvo_store_ovsdb_parse(db, &remotes, errmsg);
    if (error) {
        return error;
    }

    struct store_ovsdb *s = xzalloc(sizeof *s);
    atomic_init(&s->foreign, 0);
    s->up.class = &store_ovsdb_class;
    s->up.loop = loop;
    s->remotes = remotes;
    struct uuid uuid;
    uuid_generate(&uuid);
    s->origin = xasprintf(UUID_FMT, UUID_ARGS(&uuid));

    ovs_mutex_init(&s->mutex);
    ovs_mutex_init(&s->guest_mutex);
    xpthread_cond_init(&s->cond, NULL);
    ovs_list_init(&s->mailbox);
    ovs_list_init(&s->events);
    ovs_list_init(&s->queued);
    ovs_list_init(&s->inflight);
    latch_init(&s->latch);

    /* Placement and its journal, and for the guest (cluster.c)
     * membership and ownership: one session per controller, since every
     * Raft commit wakes every session (nvo_store_ovsdb_set_guest()). */
    s->idl = ovsdb_idl_create(remotes, &nvorec_idl_class, false, true);
    static const struct ovsdb_idl_table_class *const tables[] = {
        &nvorec_table_nvo_global, &nvorec_table_network,
        &nvorec_table_hypervisor, &nvorec_table_port, &nvorec_table_journal,
        &nvorec_table_controller, &nvorec_table_hypervisor_private,
    };
    for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
        ovsdb_idl_add_table(s->idl, tables[i]);
        for (size_t j = 0; j < tables[i]->n_columns; j++) {
            ovsdb_idl_add_column(s->idl, &tables[i]->columns[j]);
        }
    }
    /* What the guest follows by change tracking: owners' records (not
     * heartbeats) and every ownership column. */
    ovsdb_idl_track_add_column(s->idl, &nvorec_controller_col_confirmed);
    ovsdb_idl_track_add_column(s->idl, &nvorec_controller_col_behind);
    for (size_t i = 0; i < NVOREC_HYPERVISOR_PRIVATE_N_COLUMNS; i++) {
        ovsdb_idl_track_add_column(s->idl,
                                   &nvorec_hypervisor_private_columns[i]);
    }
    /* Any member that is part of the cluster serves: a follower forwards
     * transactions to the leader, and when the leader dies the session
     * moves to a follower at once instead of backing off until a new
     * leader is elected.  Writes stay serialized by their verify of
     * NVO_Global.revision, which the leader checks. */
    ovsdb_idl_set_leader_only(s->idl, false);
    s->net_by_id = ovsdb_idl_index_create1(s->idl, &nvorec_network_col_id);
    s->hv_by_id = ovsdb_idl_index_create1(s->idl, &nvorec_hypervisor_col_id);
    s->port_by_id = ovsdb_idl_index_create1(s->idl, &nvorec_port_col_id);
    s->journal_by_rev = ovsdb_idl_index_create1(s->idl,
                                                &nvorec_journal_col_revision);
    s->ctl_by_name = ovsdb_idl_index_create1(s->idl,
                                             &nvorec_controller_col_name);
    s->hp_by_hv = ovsdb_idl_index_create1(
        s->idl, &nvorec_hypervisor_private_col_hypervisor);

    if (loop) {
        s->wake = nvo_wake_create(loop, store_ovsdb_async_cb, s);
    }
    fatal_signal_init();        /* While still single threaded. */
    s->thread = ovs_thread_create("store_ovsdb", store_ovsdb_thread, s);
    *storep = &s->up;
    return 0;
}

struct ovsdb_idl *
nvo_store_ovsdb_idl(const struct nvo_store *s_,
                    struct ovsdb_idl_index **ctl_by_name,
                    struct ovsdb_idl_index **hp_by_hv)
{
    struct store_ovsdb *s = store_ovsdb_cast(s_);
    *ctl_by_name = s->ctl_by_name;
    *hp_by_hv = s->hp_by_hv;
    return s->idl;
}

void
nvo_store_ovsdb_set_guest(struct nvo_store *s_, nvo_store_ovsdb_guest_fn *run,
                          nvo_store_ovsdb_guest_fn *wait, void *aux)
{
    struct store_ovsdb *s = store_ovsdb_cast(s_);
    ovs_mutex_lock(&s->guest_mutex);
    ovs_assert(!s->guest_run);
    s->guest_run = run;
    s->guest_wait = wait;
    s->guest_aux = aux;
    ovs_mutex_unlock(&s->guest_mutex);
    latch_set(&s->latch);
}

void
nvo_store_ovsdb_clear_guest(struct nvo_store *s_,
                            nvo_store_ovsdb_guest_fn *fini)
{
    struct store_ovsdb *s = store_ovsdb_cast(s_);
    ovs_mutex_lock(&s->guest_mutex);
    if (fini && s->guest_run) {
        fini(s->guest_aux);
    }
    s->guest_run = NULL;
    s->guest_wait = NULL;
    s->guest_aux = NULL;
    ovs_mutex_unlock(&s->guest_mutex);
}

int64_t
nvo_store_ovsdb_foreign(const struct nvo_store *s_)
{
    int64_t foreign;
    atomic_read_relaxed(&store_ovsdb_cast(s_)->foreign, &foreign);
    return foreign;
}

void
nvo_store_ovsdb_wake(struct nvo_store *s_)
{
    latch_set(&store_ovsdb_cast(s_)->latch);
}
