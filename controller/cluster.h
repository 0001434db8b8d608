/* cluster.h - controller membership and hypervisor ownership in cluster
 * mode (doc/cluster.md, "Membership and leases", "Ownership").
 *
 * Each controller keeps a Controller row (--name) in the clustered
 * database and renews it every NVO_CLUSTER_HEARTBEAT_MS; its lease runs
 * NVO_CLUSTER_LEASE_MS from the moment it sent the last heartbeat that
 * committed.  Peers count it dead after NVO_CLUSTER_DEAD_MS without a new
 * heartbeat.  Every hypervisor is owned by one controller
 * (Hypervisor_Private.owner); which live controller should own it is a
 * bounded-load, sticky assignment (nvo_cluster_assign()) that every
 * controller computes alike from its replica; ownership moves by
 * transactions that verify what they replace,
 * and taking from a dead owner fences it.  A controller programs a
 * hypervisor only while it owns it and its lease is valid:
 * nvo_cluster_owns() says so, on the main thread, at the moment it is
 * called.
 *
 * Runs on the store's thread and OVSDB session (store-ovsdb.h: one
 * session per controller, since every Raft commit wakes every session);
 * the functions below are for the libuv main thread, where 'changed' is
 * called whenever ownership, owners or confirmed revisions changed. */
#ifndef NVO_CLUSTER_H
#define NVO_CLUSTER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* The heartbeat period: every commit any controller makes wakes the
 * OVSDB session of every controller (doc/cluster.md), so heartbeats are
 * most of each controller's background CPU.  The lease survives a stall
 * of LEASE - HEARTBEAT = 2.0 s after a heartbeat committed (a Raft
 * election), and DEAD - LEASE = 0.25 s covers the clock-rate error of the
 * ownership argument (up to 4 %); a peer is declared dead 2.25-3.0 s
 * after it died. */
#define NVO_CLUSTER_HEARTBEAT_MS 750
#define NVO_CLUSTER_LEASE_MS 2750
#define NVO_CLUSTER_DEAD_MS 3000

struct nvo_cluster;

/* Called on the main thread after ownership or confirmations changed. */
typedef void nvo_cluster_changed_cb(void *aux);

/* Joins the cluster whose database 'store' (an "ovsdb:" store,
 * store-ovsdb.h) holds, as controller 'name', advertising 'rest' and
 * 'agents' (may be NULL); runs on the store's thread and session, which
 * must outlive the result.  Caller owns the result
 * (nvo_cluster_destroy(), before the store is closed). */
struct nvo_store;
struct nvo_cluster *nvo_cluster_create(uv_loop_t *loop,
                                       struct nvo_store *store,
                                       const char *name, const char *rest,
                                       const char *agents,
                                       nvo_cluster_changed_cb *changed,
                                       void *aux);

/* Leaves: stops renewing (peers take its hypervisors once it is dead to
 * them), closes the session.  Accepts NULL. */
void nvo_cluster_destroy(struct nvo_cluster *);

/* This controller's name. */
const char *nvo_cluster_name(const struct nvo_cluster *);

/* True if this controller owns hypervisor 'hv' now (and its lease is
 * valid); '*epoch' (if nonnull) is then its fencing epoch.  False only
 * because the lease is past: the changed callback follows (once the map
 * is rebuilt, even if the lease was renewed meanwhile), so a caller that
 * looks again only then (a write skips what was another's) still does. */
bool nvo_cluster_owns(struct nvo_cluster *, const char *hv, int64_t *epoch);

/* The owner of 'hv' as the replica says (caller frees), NULL if none. */
char *nvo_cluster_owner(struct nvo_cluster *, const char *hv);

/* Where the agent of hypervisor 'hv' should go: the owner's agent address
 * ("IP:PORT", caller frees) if another controller owns 'hv' and its
 * heartbeat is fresh, else NULL (no owner yet, this one, or an owner that
 * may have died: the agent then waits here). */
char *nvo_cluster_redirect(struct nvo_cluster *, const char *hv);

/* The revision hypervisor 'hv' confirmed, as its owner recorded it (a
 * revision it is known to hold, never one it does not). */
int64_t nvo_cluster_confirmed(struct nvo_cluster *, const char *hv);

/* Reports what 'hv', which this controller owns, holds: 'confirmed' is the
 * latest revision it confirmed, 'required' the latest it has to (the last
 * one that changed its view).  The cluster thread records it in this
 * controller's record (doc/cluster.md, "?wait=1 on any controller"),
 * batched.  Main thread; call it whenever either changes. */
void nvo_cluster_set_progress(struct nvo_cluster *, const char *hv,
                              int64_t confirmed, int64_t required);

/* Says that the model reached 'revision' and every hypervisor this
 * controller owns that the revision changed was given it (its 'required'
 * reported): a hypervisor that confirmed its 'required' then holds
 * 'revision'.  Main thread; call it after each publish. */
void nvo_cluster_set_revision(struct nvo_cluster *, int64_t revision);

/* True if ownership, epochs, agent addresses or service-node liveness may
 * have changed since the last call (not only confirmed revisions); the
 * changed callback uses it to skip its O(hypervisors) pass.  Main
 * thread. */
bool nvo_cluster_take_owners_changed(struct nvo_cluster *);

/* nvo_cluster_confirmed() for a ?wait=1 waiter that needs 'hv' to have
 * confirmed 'revision': if it has not, also registers that, in the same
 * critical section as the read, so that the first change of the records
 * or of Hypervisor_Private 'confirmed' that raises it to 'revision' (or
 * beyond) calls the changed callback.  Other changes of the records and
 * 'confirmed' alone do not call it (changes of ownership always do): a
 * main thread is woken for what its waiters wait for, not for every
 * owner's record.  A watch ends once it is satisfied, or with
 * nvo_cluster_unwatch().  Main thread. */
int64_t nvo_cluster_watch(struct nvo_cluster *, const char *hv,
                          int64_t revision);

/* Drops every watch (the main thread has no waiter left).  Main thread. */
void nvo_cluster_unwatch(struct nvo_cluster *);

/* Whether service node 'hv' is alive as its owner recorded it: 1 or 0,
 * -1 if no owner recorded it yet. */
int nvo_cluster_alive(struct nvo_cluster *, const char *hv);

/* Records that service node 'hv', which this controller owns, is alive or
 * not (its agent's session; written to Hypervisor_Private.alive at once),
 * so every controller places BUM replication on the same live nodes. */
void nvo_cluster_set_alive(struct nvo_cluster *, const char *hv,
                           bool alive);

/* An owner's record (its 'confirmed' revision and its 'behind' exceptions,
 * 'n' names in strcmp() order with their revisions): what it claims
 * hypervisor 'hv' confirmed.  Pure. */
int64_t nvo_cluster_record_claim(int64_t confirmed, char *const *keys,
                                 const int64_t *values, size_t n,
                                 const char *hv);

/* What an owner may claim for a hypervisor that confirmed 'confirmed' and
 * has to confirm 'required' once its model reached 'revision': all of
 * 'revision' if it is not behind (nothing since 'required' changed its
 * view), else only 'confirmed'.  Pure. */
int64_t nvo_cluster_progress_claim(int64_t confirmed, int64_t required,
                                   int64_t revision);

/* Whether a record that raises a hypervisor's claim from 'old' to 'claim'
 * (it has to confirm 'required') may answer a waiter on another
 * controller, so that it is sent at once: the claim rises up to a
 * revision it had to confirm, and some revision after 'old' was written by
 * another writer ('foreign': the latest such, nvo_store_ovsdb_foreign()).
 * A rise only through this controller's own writes waits for the next
 * heartbeat (only this controller's waiters wait for them, and they go by
 * its own hypervisors' confirmations, not by its record).  Pure. */
bool nvo_cluster_claim_urgent(int64_t old, int64_t claim, int64_t required,
                              int64_t foreign);

/* Whether the main thread's report that a hypervisor it owns confirmed
 * 'confirmed', after 'before' (-1: its first report under this
 * ownership), may let the record answer a waiter on another controller,
 * so that it wakes the cluster thread at once: it is the first report
 * (the record may start to cover the row: the last phase of a failover),
 * or it passes a revision another writer made ('foreign',
 * nvo_store_ovsdb_foreign()).  Otherwise it rose only through this
 * controller's own writes and the record would wait for the next
 * heartbeat anyway (nvo_cluster_claim_urgent()).  Pure. */
bool nvo_cluster_report_urgent(int64_t before, int64_t confirmed,
                               int64_t foreign);

/* Whether a kick for the record (a report, or the hold's end) must wake
 * the cluster thread: the record may answer a waiter on another
 * controller ('urgent', nvo_cluster_report_urgent()), no kick woke it
 * since it last planned one ('woken'), and it can plan one now: not
 * 'busy' (a record in flight, committed and not yet in its replica, or
 * failed and waiting for the replica to move), whose end wakes it anyway
 * and makes it plan what was kicked meanwhile.  Pure. */
bool nvo_cluster_kick_wakes(bool urgent, bool woken, bool busy);

/* When the record stops waiting for the hypervisors that are still behind
 * (they go into 'behind'), if the first of them fell behind at 'first'
 * and the latest confirmation came at 'now' (ms): CL_HOLD_MS after the
 * latest confirmation, at most CL_HOLD_MAX_MS after 'first'.  Pure. */
long long int nvo_cluster_hold_until(long long int first, long long int now);

/* Rendezvous weight of hypervisor 'hv' for 'controller': the order in
 * which nvo_cluster_assign() offers a hypervisor to controllers with
 * room, and in which an owner above the cap keeps its own.  Pure. */
uint32_t nvo_cluster_weight(const char *controller, const char *hv);
/* True if controller 'a' weighs more than 'b' for 'hv' (ties by name). */
bool nvo_cluster_prefers(const char *a, const char *b, const char *hv);

/* Bounded-load, sticky assignment (doc/cluster.md, "Ownership
 * (sharding)").  'ctls': the K live controllers (distinct names);
 * 'hvs': the N hypervisors (distinct names); owners[i]: the index in
 * 'ctls' of hvs[i]'s owner if that one is live, else -1 (no owner, or a
 * dead one).  Every controller is to own floor(N / K) or ceil(N / K),
 * the latter at most N mod K of them.  A live owner keeps what it holds
 * up to that (of the owners holding more than floor(N / K), the first
 * N mod K by name keep ceil(N / K)); above it, it gives up its
 * lowest-weight hypervisors.  Then one greedy
 * pass over the rest in name order gives each to the controller that
 * weighs most for it among those with room (below floor(N / K) first),
 * counting what they keep and what the pass gave them.  Sets want[i]
 * (caller's array of n_hvs) to the index of the controller that should
 * own hvs[i], -1 only if K is 0 (then no owner is live).  Every
 * controller that sees the same inputs gets the same answer, whatever
 * the order of 'ctls' and 'hvs'.  Pure; O(N log N + N K). */
void nvo_cluster_assign(const char *const *ctls, size_t n_ctls,
                        const char *const *hvs, const int *owners,
                        size_t n_hvs, int *want);

/* Number of live controllers, this one included, and whether this one's
 * lease is valid (for /metrics and logs). */
void nvo_cluster_get_status(struct nvo_cluster *, int *n_live,
                            bool *lease_valid);

#endif /* controller/cluster.h */
