/* ovs-ovsdb.h - the OVSDB session of one Open vSwitch hypervisor.
 *
 * Wraps libopenvswitch's IDL (which reconnects with backoff by itself) and
 * reconciles br-int toward what nvo wants:
 *  - a passive OpenFlow controller target (e.g. "ptcp:6653") marked
 *    external_ids:nvo-owner=nvo, so nvo can reach br-int over TCP without
 *    making OVS flush flows (an active "tcp:" controller would);
 *    connection_mode=out-of-band, fail_mode=secure, inactivity_probe
 *    OVS_OF_PROBE_S;
 *  - the ports of ovs-tunnels.h: adds the missing ones, fixes nvo-owned
 *    tunnels whose options drifted, removes nvo-owned ports no longer
 *    wanted, never touches a port without nvo's mark.
 * and reports the ofports of br-int's interfaces.
 *
 * Runs on the OVS southbound thread's poll loop. */
#ifndef NVO_OVS_OVSDB_H
#define NVO_OVS_OVSDB_H 1

#include <stdbool.h>

#include "simap.h"

struct shash;
struct sockaddr_storage;
struct smap;
struct ovs_ovsdb;

#define OVS_BRIDGE "br-int"

/* The OpenFlow echo probe interval, in seconds, of both ends of br-int's
 * connection to nvo: the controller target's inactivity_probe, which nvo
 * writes, and nvo's own (ovs-ofctrl).  Either end sends an echo request
 * after that long without a message, and drops the connection after as
 * long again without one.  At 5 s (OVS's default) the echo requests and
 * replies were most of what an idle controller cost at hundreds of
 * switches (each one a trip through the management network's whole
 * delivery path); the OVSDB session, whose server probes every 5 s,
 * notices a dead hypervisor as soon as before. */
#define OVS_OF_PROBE_S 15

/* Connects to 'remote' (an OVSDB remote such as "tcp:IP:6640").  The
 * controller target nvo ensures on br-int is 'of_target' (a passive
 * target such as "ptcp:6653"), or none if NULL.  'name' names the
 * hypervisor in logs.  Caller owns the result. */
struct ovs_ovsdb *ovs_ovsdb_create(const char *remote, const char *of_target,
                                   const char *name);
/* Closes the session.  Leaves everything in the database.  Accepts NULL. */
void ovs_ovsdb_destroy(struct ovs_ovsdb *);

/* Cluster mode: 'epoch' is this controller's ownership epoch of the
 * hypervisor (doc/cluster.md); every transaction then verifies and raises
 * br-int's external_ids:nvo-epoch (OVS_EPOCH_KEY), and none is sent while
 * the switch holds a newer one.  0 (the default): no fencing. */
#define OVS_EPOCH_KEY "nvo-epoch"
void ovs_ovsdb_set_fence(struct ovs_ovsdb *, int64_t epoch);

/* Runs the session and, when it can, reconciles br-int toward 'wants'
 * (name -> struct ovs_port_want).  Set 'wants_changed' when 'wants' differs
 * from the previous call's. */
void ovs_ovsdb_run(struct ovs_ovsdb *, const struct shash *wants,
                   bool wants_changed);
void ovs_ovsdb_wait(struct ovs_ovsdb *);

bool ovs_ovsdb_is_connected(const struct ovs_ovsdb *);

/* If the session is up over tcp:, sets '*peer' to the server's address
 * and returns true; else false (also for ssl:, whose stream may hold input
 * its socket no longer shows, and unix:).  libopenvswitch keeps the IDL's
 * socket inside its session: a caller that wants to wait on it finds it by
 * this peer address. */
bool ovs_ovsdb_tcp_peer(const struct ovs_ovsdb *, struct sockaddr_storage *);
bool ovs_ovsdb_has_ever_connected(const struct ovs_ovsdb *);

/* True if connected, with nothing to reconcile and no transaction in
 * flight: only updates the server sends unasked can come, which may wait
 * a little. */
bool ovs_ovsdb_is_idle(const struct ovs_ovsdb *);

/* When a transaction the server refused is to be built again (time_msec()),
 * or LLONG_MAX if none is: ovs_ovsdb_run() must run then (ovs_ovsdb_wait()
 * wakes the poll loop for it). */
long long int ovs_ovsdb_retry_at(const struct ovs_ovsdb *);

/* True if running the session without new input from its server would do
 * nothing: connected, with nothing to reconcile (a transaction in flight
 * then only awaits its reply) and no retry due (ovs_ovsdb_retry_at()).  Its server's reply or update, or the IDL's
 * timers, are what it waits for. */
bool ovs_ovsdb_awaits_input(const struct ovs_ovsdb *);

/* True if br-int was found as wanted by the last reconciliation and no
 * transaction is in flight. */
bool ovs_ovsdb_in_sync(const struct ovs_ovsdb *);

/* Changes whenever the maps below may have changed. */
unsigned int ovs_ovsdb_seqno(const struct ovs_ovsdb *);

/* br-int's interfaces with a valid ofport: name -> ofport; and the wanted
 * flow-based tunnel ports' ofports: encapsulation ("vxlan", "geneve",
 * "gre") -> ofport, for those with the wanted type and options.
 * Borrowed. */
const struct simap *ovs_ovsdb_iface_ofports(const struct ovs_ovsdb *);
const struct simap *ovs_ovsdb_tunnel_ofports(const struct ovs_ovsdb *);

/* The underlay MTU as OVSDB shows it: the smallest MTU of the physical
 * (system, internal, dpdk) interfaces on the bridges other than br-int,
 * where the tunnels leave (br-phy and its uplink in the usual layout); 0 if
 * unknown. */
uint32_t ovs_ovsdb_underlay_mtu(const struct ovs_ovsdb *);

/* A human-readable description of what keeps br-int from being as wanted
 * (e.g. "no bridge br-int", a failed interface), or "" if nothing.
 * Borrowed. */
const char *ovs_ovsdb_problem(const struct ovs_ovsdb *);

/* Why the wanted ports cannot be applied, as the switch says: the error of
 * the last transaction if the server refused it, else a wanted interface
 * ovs-vswitchd could not open or add (its "error" column) or that is on
 * another bridge; "" if none.  Owned by 'db', valid until the next
 * ovs_ovsdb_run().  '*n_errors' is set to how many such failures there were
 * (each refused transaction, each new refusal), so a caller can tell a new
 * one. */
const char *ovs_ovsdb_apply_error(const struct ovs_ovsdb *,
                                  uint64_t *n_errors);

/* Reads which ports of the database at 'remote' carry nvo's mark
 * (external_ids:nvo-owner=nvo, what ovs_ovsdb_run() adds and removes),
 * over a session of its own: fills 'owned' (an initialized smap, owned by
 * the caller) with each such port's name -> its nvo-port-id ("" for a
 * tunnel port).  Blocks, for at most 'timeout_ms': meant for worker
 * threads (the drift audit), never a poll loop's thread.  Returns 0 or a
 * negative errno. */
int ovs_ovsdb_read_owned_ports(const char *remote, long long int timeout_ms,
                               struct smap *owned);

#endif /* controller/ovs-ovsdb.h */
