/* ovs-hv.h - one Open vSwitch hypervisor: its OVSDB session, its OpenFlow
 * connection to br-int, and the reconciliation of both toward its view.
 *
 * Runs on the OVS southbound thread's poll loop. */
#ifndef NVO_OVS_HV_H
#define NVO_OVS_HV_H 1

#include <stdbool.h>
#include <stdint.h>

#include "controller/ovs-ofctrl.h"
#include "controller/southbound.h"

struct nvo_hv_view;
struct ovs_hv;
struct sockaddr_storage;

/* Creates the hypervisor of 'view' (taking it) and starts connecting to
 * view->ovsdb.  Caller owns the result. */
struct ovs_hv *ovs_hv_create(struct nvo_hv_view *view);

/* Closes its connections, leaving the switch's flows and ports in place.
 * Accepts NULL. */
void ovs_hv_destroy(struct ovs_hv *);

/* Lends 'cache' (or NULL) to the hypervisor's flow computations from now
 * on (ovs-flows.h: shared by the hypervisors of one thread; it must
 * outlive them). */
struct ovs_flows_cache;
void ovs_hv_set_flows_cache(struct ovs_hv *, struct ovs_flows_cache *);

/* Makes 'view' (taken) the desired state; reconnects if view->ovsdb
 * changed. */
void ovs_hv_set_view(struct ovs_hv *, struct nvo_hv_view *view);

/* Re-dumps the switch's nvo flows and repairs the difference (see
 * ovs_ofctrl_resync()), and reconciles br-int's ports (ovs_ovsdb_run()):
 * the drift audit's repair. */
void ovs_hv_resync(struct ovs_hv *);

/* Runs the hypervisor: the OVSDB session if 'db' or if it has work
 * (something to reconcile, a transaction in flight, ofports awaited), the
 * OpenFlow connection if 'of' or if it has work (a diff to send, a reply
 * awaited): a hypervisor waiting for a barrier reply does not read its
 * OVSDB socket, nor one waiting for OVSDB its OpenFlow socket.  The
 * southbound forces a side of a quiet hypervisor when its socket is
 * readable or its timers are due (ovs_hv_next_wake()).  ovs_hv_wait()
 * waits on the sides with work.
 *
 * 'of_unreadable' says the caller found the socket ovs_hv_of_fd() gives
 * (with the same id) not readable just before: if the OpenFlow side runs,
 * it reads only what it read before (ovs_ofconn_run()).  A hypervisor sent
 * a new diff is run for that, not for input, and its recv() would find
 * nothing.  'db_unreadable' says the same of its OVSDB socket: then its
 * OVSDB side, if all it does is await its server's reply or update
 * (ovs_ovsdb_awaits_input()), is not run unless 'db'. */
void ovs_hv_run(struct ovs_hv *, bool db, bool of, bool of_unreadable,
                bool db_unreadable);
void ovs_hv_wait(struct ovs_hv *);

/* The OpenFlow connection's socket (ovs_ofctrl_fd()), or -1.  '*id'
 * changes whenever the socket may be another one: a caller that watches it
 * (epoll) registers it again then. */
int ovs_hv_of_fd(const struct ovs_hv *, uint64_t *id);

/* ovs_ovsdb_tcp_peer() of its OVSDB session. */
bool ovs_hv_db_tcp_peer(const struct ovs_hv *, struct sockaddr_storage *);

/* For a quiet hypervisor (ovs_hv_is_busy() false), or a busy one that
 * awaits input: when ovs_hv_run() must run it next for its own timers (the
 * self-check, the cold start's catch up, the retry of an OVSDB transaction
 * the server refused), and in '*of_wake' when it must run its OpenFlow side
 * (ovs_ofctrl_next_wake()).  time_msec() values, LLONG_MAX for never. */
long long int ovs_hv_next_wake(const struct ovs_hv *,
                               long long int *of_wake);

/* How many times ovs_hv_run() ran the OVSDB side and the OpenFlow side. */
void ovs_hv_get_run_stats(const struct ovs_hv *, uint64_t *n_db_runs,
                          uint64_t *n_of_runs);

int64_t ovs_hv_id(const struct ovs_hv *);

/* Returns the revision the switch newly confirmed since the last call, or
 * 0 if none. */
int64_t ovs_hv_take_confirmation(struct ovs_hv *);

/* Returns the revision the switch newly refused (an OpenFlow error, a failed
 * OVSDB transaction, an interface it cannot add) since the last call and
 * sets '*error' to why (caller frees), or returns 0 and sets it to NULL. */
int64_t ovs_hv_take_failure(struct ovs_hv *, char **error);

/* How many periodic self-checks found the incremental flows different
 * from a full computation (each one is a bug, repaired when found). */
uint64_t ovs_hv_self_check_failures(const struct ovs_hv *);

/* True if the hypervisor has work in progress or pending: a view not yet
 * confirmed, an OVSDB transaction or an OpenFlow bundle in flight, a
 * session down or connecting.  One that is not busy ("quiet") only waits
 * for what its switch may send unasked, which can wait a little: the
 * southbound runs it only now and then (ovs-sb.c). */
bool ovs_hv_is_busy(const struct ovs_hv *);

/* True if the view asks for OVSDB changes (ports, tunnels) that its next
 * ovs_hv_run() sends: the longest way to its confirmation. */
bool ovs_hv_wants_changed(const struct ovs_hv *);

/* True if all a busy hypervisor waits for is input (flows computed,
 * nothing to report, no timer due): an OpenFlow reply, and, if
 * 'db_watched' (the caller watches its OVSDB socket), its OVSDB server's
 * reply to a transaction in flight or an update (an ofport its flows
 * await); then '*of_fd' is the socket the OpenFlow reply comes on, or -1
 * if the OpenFlow side awaits nothing, and '*db_reply' whether the OVSDB
 * side awaits a transaction's reply, which comes soon, rather than only an
 * update, which may not come for long (the ofport of an interface OVS
 * cannot add until it exists).  So the southbound can skip its runs while
 * those sockets are not readable. */
bool ovs_hv_awaits_input(const struct ovs_hv *, bool db_watched,
                         int *of_fd, bool *db_reply);

/* True if the state or the confirmed revision changed since the last call
 * (the status's other details may change at any time). */
bool ovs_hv_take_status_change(struct ovs_hv *);

/* Fills '*st' with the hypervisor's state. */
void ovs_hv_get_status(const struct ovs_hv *, struct nvo_sb_status *st);

/* Reports the latest per-port drop counters of its switch through 'cb'
 * (see ovs_ofctrl_port_drops()). */
void ovs_hv_port_drops(const struct ovs_hv *, ovs_ofctrl_drops_cb *cb,
                       void *aux);

/* True if the switch reported new drop counters since the last call (then
 * ovs_hv_port_drops() has news); clears the flag. */
bool ovs_hv_take_drops_change(struct ovs_hv *);

/* Whether someone reads the drop counters: see
 * ovs_ofctrl_set_drops_eager().  Kept across reconnections. */
void ovs_hv_set_drops_eager(struct ovs_hv *, bool eager);

/* Derives the OpenFlow targets from an OVSDB remote: for "tcp:HOST:PORT",
 * nvo connects to "tcp:HOST:PORT+13" (6640 -> 6653) and makes br-int listen
 * on the passive target "ptcp:PORT+13"; for "ssl:HOST:PORT" it connects to
 * "ssl:HOST:PORT+14" (6640 -> 6654) and br-int listens with TLS on that
 * address only, "pssl:PORT+14:HOST" (doc/security.md says why passive and
 * not the switch connecting out, and why not the plain port); for
 * "unix:DIR/FILE" it connects to
 * br-int's management socket "unix:DIR/br-int.mgmt" (no listener needed).
 * Returns 0 and sets '*connect' and '*listen' (caller frees; '*listen' may
 * be NULL), or -EINVAL. */
int ovs_hv_of_targets(const char *ovsdb, char **connect, char **listen);

#endif /* controller/ovs-hv.h */
