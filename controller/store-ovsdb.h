/* store-ovsdb.h - the placement store in a Raft-clustered OVSDB database
 * (cluster mode, doc/cluster.md), with nvo's schema schema/nvo.ovsschema,
 * read and written through libopenvswitch's IDL (schema/nvo-idl.h).
 *
 * The database is named "NVO".  Its tables mirror the SQLite schema
 * (schema/001-initial.sql) with the same constraints where OVSDB can say
 * them (indexes for unique names, VNIs, tunnel IPs, (network, MAC) and
 * (hypervisor, interface); strong references from ports to their network
 * and hypervisor), plus what a cluster of controllers needs: the store
 * revision (NVO_Global), controller membership (Controller) and per
 * hypervisor its owner, fencing epoch and confirmed revision
 * (Hypervisor_Private).
 *
 * Row ids: rows keep the integer ids the REST API shows (SQLite's, when a
 * store was exported); a row created in the cluster gets the revision of
 * the transaction that creates it, or one more than the largest id in its
 * table if that is larger. */
#ifndef NVO_STORE_OVSDB_H
#define NVO_STORE_OVSDB_H 1

#include <stdint.h>
#include <uv.h>

struct nvo_model;
struct nvo_store;

/* The prefix of --db values that select the clustered store. */
#define NVO_STORE_OVSDB_PREFIX "ovsdb:"

/* The database name in schema/nvo.ovsschema. */
#define NVO_STORE_OVSDB_NAME "NVO"

/* Parses 'db', "ovsdb:REMOTE[,REMOTE...]" with each REMOTE "tcp:IP:PORT",
 * "ssl:IP:PORT" or "unix:PATH".  On success returns 0 and sets '*remotes'
 * to the comma-separated remotes (caller frees).  Otherwise returns
 * -EINVAL and sets '*errmsg' (caller frees) to a message naming the bad
 * part. */
int nvo_store_ovsdb_parse(const char *db, char **remotes, char **errmsg);

/* Copies every network, hypervisor and port of 'm' (ids, revisions and the
 * store revision included) into the empty clustered database at 'remotes',
 * in one transaction.  Refuses (-EEXIST) a database that already holds
 * placement data; fails with -ETIMEDOUT if no member of a majority answered
 * within 'timeout_ms'.  Runs on the calling thread's OVS poll loop and
 * blocks: for the one-shot --export-to, before any event loop starts.
 * On failure sets '*errmsg' (caller frees). */
int nvo_store_ovsdb_export(const struct nvo_model *m, const char *remotes,
                           uint64_t timeout_ms, char **errmsg);

/* Opens the clustered store 'db' ("ovsdb:REMOTE[,REMOTE...]") for use on
 * 'loop' (store.h): starts its session on a thread of its own; the first
 * nvo_store_load() waits (up to 30 s) for a replica of the database from
 * the cluster's leader.  On success returns 0 and sets '*storep' (caller
 * owns; nvo_store_close()).  On a bad 'db' returns -EINVAL and sets
 * '*errmsg' (caller frees).
 *
 * Writes (store.h) wait for a reachable leader for up to 5 s, then fail
 * with -EAGAIN; reads are the caller's model, kept up to date with every
 * other controller's writes through the change callback. */
int nvo_store_ovsdb_open(const char *db, uv_loop_t *loop,
                         struct nvo_store **storep, char **errmsg);

/* One OVSDB session per controller: the store's session also replicates
 * what cluster.c needs (Controller, Hypervisor_Private), and cluster.c's
 * logic runs as the store thread's guest, so that a Raft commit wakes
 * one session of each controller, not two (each IDL session is woken by
 * every commit: it follows the Raft log index in _Server).
 *
 * The session, for the guest only (on the store's thread): its IDL, and
 * its indexes of Controller by name and Hypervisor_Private by hypervisor
 * name.  Borrowed: valid until the store is closed. */
struct ovsdb_idl;
struct ovsdb_idl_index;
struct ovsdb_idl *nvo_store_ovsdb_idl(const struct nvo_store *,
                                      struct ovsdb_idl_index **ctl_by_name,
                                      struct ovsdb_idl_index **hp_by_hv);

/* Makes 'run' and 'wait' (with 'aux') run on the store's thread at every
 * iteration of its poll loop, after the store's own work ('run') and
 * before it sleeps ('wait': registers its wake-ups with OVS's poll loop).
 * At most one guest.  Any thread. */
typedef void nvo_store_ovsdb_guest_fn(void *aux);
void nvo_store_ovsdb_set_guest(struct nvo_store *,
                               nvo_store_ovsdb_guest_fn *run,
                               nvo_store_ovsdb_guest_fn *wait, void *aux);

/* Removes the guest: once it returns the store's thread calls it no more.
 * Calls 'fini' (with the guest's 'aux'; may be NULL) first, at a moment
 * the store's thread does not touch the session, so 'fini' may use it
 * (destroy the guest's transactions).  Any thread but the store's. */
void nvo_store_ovsdb_clear_guest(struct nvo_store *,
                                 nvo_store_ovsdb_guest_fn *fini);

/* The latest store revision the replica replayed that another writer
 * made (another controller, or an earlier run of this one), or that a
 * snapshot or reload covered (its writer unknown); 0 if none.  A revision
 * above it was written by this process: only this process can be waiting
 * for it (cluster.c defers its record for such revisions).  The store's
 * thread, or the main thread: there it is at least every revision the
 * main thread has been handed (a change, a load or a reload). */
int64_t nvo_store_ovsdb_foreign(const struct nvo_store *);

/* Wakes the store's thread (for its guest).  Any thread. */
void nvo_store_ovsdb_wake(struct nvo_store *);

#endif /* controller/store-ovsdb.h */
