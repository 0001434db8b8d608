/* store.h - the durable placement store: one interface, one backend per
 * file (store-sqlite.c: the embedded SQLite default; a clustered OVSDB
 * backend plugs in the same way).
 *
 *   service (service.c) --nvo_store_submit(write)--> backend
 *                      <--write->cb(write), in commit order, on the loop--
 *                      <--change_cb(ops, revision): writes made elsewhere--
 *
 * Data: networks, hypervisors and ports (the model's objects, model.h) plus
 * one store-wide revision.  Rows are named by int64 ids that the backend
 * assigns on insert (positive, unique per table, never reused while the
 * row exists; SQLite: AUTOINCREMENT).  A backend whose rows are named
 * otherwise (OVSDB UUIDs) keeps such an integer id in each row, allocated
 * in the inserting transaction, and references between rows (a port's
 * network and hypervisor) are by these ids.  The revision counts
 * successful writes: each bumps it by exactly one.
 *
 * The contract every backend implements (the class functions below):
 *
 * Threads.  Every function here is called on the libuv main thread, and
 * every callback is made on it.  A backend may do its I/O elsewhere (the
 * SQLite one commits on libuv's thread pool; an OVSDB one may run its IDL
 * on a thread of its own) but hands results back to the loop.
 *
 * Writes.  A 'struct nvo_store_write' carries one operation (an insert,
 * update or delete of one row, 'struct nvo_store_op'); each write is
 * atomic on its own and gets its own revision.  nvo_store_submit() queues
 * it and returns at once; the backend later calls write->cb(write) exactly
 * once, from the loop, never from within nvo_store_submit(), with:
 *     write->error     0, or a negative errno (below);
 *     write->revision  on success the new store revision (> every revision
 *                      reported before, by completions or changes, unless
 *                      a reload already holds it: see "Load");
 *     write->op.id     for an insert, the new row's id;
 *     write->errmsg    on failure, a message (owned by the write).
 * Completions come in commit order: the order in which their revisions
 * were assigned, which is also the order of submission for the SQLite
 * backend.  A backend may commit many writes together (group commit: one
 * transaction, one fsync) but must keep them independent: a write that
 * fails changes nothing and does not fail the others.  A successful
 * completion means the write is durable (SQLite: fsynced WAL; a cluster:
 * committed by a majority); the REST answer relies on it.  Transient
 * failures that a retry fixes (OVSDB's "try again" after a concurrent
 * commit elsewhere) are retried by the backend, not reported.
 * Errors (nothing changed):
 *   -EEXIST     a uniqueness constraint (name, VNI, tunnel IP, MAC in
 *               network, interface on hypervisor); errmsg names it.
 *   -ENOTEMPTY  a network or hypervisor to delete still has ports.
 *   -ENOENT     the row to change or delete does not exist, or a port
 *               names a network or hypervisor that does not exist.
 *   -EINVAL     a value the store refuses (the caller should have
 *               validated).
 *   -EAGAIN     the store cannot take writes now (e.g. no cluster
 *               majority); the service answers 503.
 *   -EIO        anything else (logged by the backend).
 * The caller owns the write; the backend uses it (and write->node) from
 * submit until the callback.
 *
 * Load.  nvo_store_load() fills an empty model with every row and sets its
 * revision, once, before any write is submitted.  It is synchronous: a
 * backend that must first reach a server (OVSDB) runs its own I/O until it
 * has a consistent snapshot, within a bounded time, or fails.  When the
 * caller reloads (a change with n == 0, below) while writes are pending,
 * the snapshot may already hold some of them: their completions then carry
 * a revision at or below the reloaded model's, and the caller must not
 * apply them again.
 *
 * Changes made elsewhere.  A backend shared with other writers (a cluster
 * of controllers) reports every committed change it did not make through
 * one of this handle's writes by calling the change callback set with
 * nvo_store_set_change_cb(): 'ops' (n >= 1) are the row changes of one
 * revision, ids filled in, in the order to apply them (an insert before a
 * row referring to it, ports deleted before their network).  The callback
 * is made on the loop, in revision order interleaved correctly with write
 * completions, and never for this handle's own writes (those are reported
 * by their completion only).  A backend that cannot express a change this
 * way (e.g. it lost its replica) returns the change with n == 0: the
 * caller then reloads the whole model with nvo_store_load().  The SQLite
 * backend has no other writers and never calls it.
 *
 * Close.  nvo_store_close() returns once no thread uses the store any
 * more.  A write whose commit already started may still commit; no write
 * callback is made after (or during) close: the caller drops its writes.
 */
#ifndef NVO_STORE_H
#define NVO_STORE_H 1

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "controller/model.h"
#include "openvswitch/list.h"

/* What one write does.  Strings are owned by the op (nvo_store_op_destroy()
 * frees them). */
enum nvo_store_op_type {
    NVO_STORE_ADD_NETWORK,      /* net: name, vni, bum -> id. */
    NVO_STORE_SET_NETWORK,      /* id; net.bum, arp_responder, mtu. */
    NVO_STORE_DEL_NETWORK,      /* id (-ENOTEMPTY while it has ports). */
    NVO_STORE_ADD_HV,           /* hv: every field -> id. */
    NVO_STORE_DEL_HV,           /* id (-ENOTEMPTY while it has ports). */
    NVO_STORE_ADD_PORT,         /* port: every field -> id. */
    NVO_STORE_MOVE_PORT,        /* id; port.hv_id, port.iface. */
    NVO_STORE_DEL_PORT,         /* id. */
};

/* Returns "add-network", "set-network", ... (for logs). */
const char *nvo_store_op_type_to_string(enum nvo_store_op_type);

struct nvo_store_op {
    enum nvo_store_op_type type;
    int64_t id;                 /* Row changed/deleted; new row's id. */
    union {
        struct {
            char *name;
            uint32_t vni;
            enum nvo_bum_mode bum;
            enum nvo_encap encap;   /* ADD only. */
            bool arp_responder;
            int mtu;                /* 0: not set. */
        } net;
        struct {
            char *name;
            char *tunnel_ip;
            enum nvo_dataplane dataplane;
            enum nvo_role role;
            char *ovsdb;        /* NULL unless dataplane is ovs. */
        } hv;
        struct {
            char *vm;           /* ADD only. */
            int64_t net_id;     /* ADD only. */
            int64_t hv_id;      /* ADD and MOVE. */
            char *mac;          /* ADD only; "xx:xx:xx:xx:xx:xx" lower. */
            char *ip;           /* ADD only; may be NULL. */
            char *allowed;      /* ADD only; space-separated "IP[/LEN]",
                                 * may be NULL. */
            char *iface;        /* ADD and MOVE. */
        } port;
    };
};

/* Frees the strings in 'op' (not 'op' itself).  Accepts NULL. */
void nvo_store_op_destroy(struct nvo_store_op *op);

struct nvo_store_write;
typedef void nvo_store_write_cb(struct nvo_store_write *);

struct nvo_store_write {
    /* Set by the caller before nvo_store_submit(). */
    struct nvo_store_op op;
    nvo_store_write_cb *cb;
    void *aux;                  /* For the caller. */

    /* Set by the backend before calling 'cb'. */
    int error;                  /* 0 or negative errno. */
    int64_t revision;           /* New store revision on success. */
    char *errmsg;               /* Owned by the write; NULL on success. */
    bool more;                  /* More writes committed with this one
                                 * follow: their callbacks come next,
                                 * before anything else runs. */

    /* Backend's, between submit and callback. */
    struct ovs_list node;
};

/* Initializes 'w' (zeroed, op.type 'type'). */
void nvo_store_write_init(struct nvo_store_write *w,
                          enum nvo_store_op_type type,
                          nvo_store_write_cb *cb, void *aux);
/* Frees what 'w' owns (op strings, errmsg), not 'w'.  Accepts NULL. */
void nvo_store_write_uninit(struct nvo_store_write *w);

/* Called for changes made by other writers (see "Changes made elsewhere"
 * above).  'ops' are borrowed for the call. */
typedef void nvo_store_change_cb(void *aux, const struct nvo_store_op *ops,
                                 size_t n, int64_t revision);

/* Counters for /metrics, tests and benchmarks. */
struct nvo_store_stats {
    uint64_t n_writes;          /* Writes submitted. */
    uint64_t n_commits;         /* Transactions they were committed in
                                 * (fewer with group commit). */
    /* Where a transaction's time goes, summed over transactions, in
     * nanoseconds, valid only if 'timed' (the SQLite backend; the OVSDB
     * one does not measure them, and /metrics then leaves them out rather
     * than show zeros): 'queued' from its first write's submission to the
     * transaction being handed to the committing thread, 'to_thread' until
     * that thread started it, 'commit' running it (statements, COMMIT and
     * its fsync), 'to_loop' from its end until the loop ran the writes'
     * callbacks. */
    bool timed;
    uint64_t queued_ns, to_thread_ns, commit_ns, to_loop_ns;
};

/* A backend.  Each embeds 'struct nvo_store' as its first member. */
struct nvo_store;
struct nvo_store_class {
    const char *name;           /* "sqlite", "ovsdb". */
    void (*close)(struct nvo_store *);
    int (*load)(struct nvo_store *, struct nvo_model *);
    void (*submit)(struct nvo_store *, struct nvo_store_write *);
    int64_t (*revision)(const struct nvo_store *);
    /* Optional (NULL: all zero). */
    void (*get_stats)(const struct nvo_store *, struct nvo_store_stats *);
};

struct nvo_store {
    const struct nvo_store_class *class;
    uv_loop_t *loop;            /* NULL: synchronous use only (tests). */
    nvo_store_change_cb *change_cb;
    void *change_aux;
};

/* Opens the store 'db' names, for use on 'loop': "FILE" (or "sqlite:FILE")
 * is an SQLite database, created if needed.  On success returns 0 and sets
 * '*storep' (caller owns; nvo_store_close()).  On failure returns a
 * negative errno and sets '*errmsg' (caller frees) to a clear message. */
int nvo_store_open(const char *db, uv_loop_t *loop,
                   struct nvo_store **storep, char **errmsg);

/* See the contract above. */
int nvo_store_load(struct nvo_store *, struct nvo_model *m);
void nvo_store_submit(struct nvo_store *, struct nvo_store_write *);
void nvo_store_set_change_cb(struct nvo_store *, nvo_store_change_cb *,
                             void *aux);
/* The last committed store revision. */
int64_t nvo_store_revision(const struct nvo_store *);
/* Fills '*stats'. */
void nvo_store_get_stats(const struct nvo_store *, struct nvo_store_stats *);
/* Closes the store.  Accepts NULL. */
void nvo_store_close(struct nvo_store *);

/* For backends: maps a revision-ordered completion onto 'w' and calls its
 * callback. */
void nvo_store_complete(struct nvo_store_write *w, int error,
                        int64_t revision, const char *errmsg);

#endif /* controller/store.h */
