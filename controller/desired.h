/* desired.h - what one hypervisor must have: a pure function of the model.
 *
 * desired_compute() turns the model (plus which service nodes are alive)
 * into a 'struct nvo_hv_view' for one hypervisor.  The view is
 * self-contained (it copies every string, never points into the model), so
 * it can be handed to another thread (the OVS southbound) or encoded for an
 * agent; whoever receives it owns it and frees it with
 * nvo_hv_view_destroy().
 *
 * Structural sharing: a hypervisor view holds its networks by reference.
 * A 'struct nvo_net_view' is immutable once built (nvo_net_view_finish())
 * and reference counted with an atomic counter, so several hypervisor views,
 * successive views of one hypervisor and several threads can share it.
 * desired_compute() given the previous view and the ids of the networks a
 * write changed recomputes only those networks and shares the others.
 *
 * Semantics (the same for OVS and kernel hypervisors):
 *  - nets[]: every network with at least one port on this hypervisor
 *    (for a service node: every network it serves), sorted by VNI.
 *  - locals[]: this hypervisor's VM ports in that network, with their
 *    addresses (port security, ARP responder).
 *  - remotes[]: every other VM port of the network, with the tunnel IP of
 *    the hypervisor it runs on (unicast: DMAC -> VTEP) and its address.
 *  - arp_responder: answer ARP requests for the known addresses locally.
 *  - flood[]: where BUM frames from a local VM go besides local ports:
 *    head-end: every other hypervisor with a port in the network;
 *    service-node: the network's service node only (if none is alive,
 *    head-end is used so broadcasts still work).  For a service node's own
 *    view, flood[] is the replication list: every hypervisor of the network.
 *  - the tunnel keys of its remote VTEPs are not part of the view: they
 *    follow from nets[] and the tunnel IP, and only status reads them
 *    (nvo_hv_view_tunnels(), computed on demand).
 *  - service nodes replicate VXLAN only: a Geneve or GRE network floods
 *    head-end whatever its "bum".
 * All arrays are sorted (nets by VNI, locals and remotes by MAC, IP lists
 * by string), so two views compare with nvo_hv_view_equal(). */
#ifndef NVO_DESIRED_H
#define NVO_DESIRED_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/model.h"
#include "ovs-atomic.h"

struct nvo_local_port {
    int64_t port_id;
    struct eth_addr mac;
    char *vm;
    char *iface;
    char *ip;                   /* The VM's address ("ip"), or NULL. */
    char **allowed;             /* "allowed_addresses" (IP[/len]), sorted. */
    size_t n_allowed;
};

struct nvo_remote_mac {
    int64_t port_id;
    struct eth_addr mac;
    char *vtep_ip;              /* Tunnel IP of the hypervisor it is on. */
    char *ip;                   /* The VM's address ("ip"), or NULL. */
};

struct desired_net_base;

/* One network as one hypervisor sees it.  Immutable after
 * nvo_net_view_finish(); shared by reference (see above). */
struct nvo_net_view {
    struct ovs_refcount ref;
    /* Views desired_compute() makes: the network's ports computed once for
     * every hypervisor (one reference held).  'name', the strings (and
     * 'allowed' arrays) of locals[] and remotes[] and the strings of
     * flood[] are then borrowed from it (or, for a service node's address,
     * from 'service_node_ip'); only the arrays themselves are the view's,
     * in one allocation that starts at 'locals'.  NULL in views built by
     * hand: then the view owns every string and array. */
    struct desired_net_base *base;
    int64_t net_id;
    char *name;
    uint32_t vni;
    enum nvo_bum_mode bum;
    bool arp_responder;         /* Answer ARP for known addresses locally. */
    enum nvo_encap encap;       /* Tunnel type toward its VTEPs. */
    int mtu;                    /* The VMs' MTU; 0: not set. */
    char *service_node_ip;      /* Service-node mode with one alive; else NULL. */
    struct nvo_local_port *locals;
    size_t n_locals;
    struct nvo_remote_mac *remotes;
    size_t n_remotes;
    char **flood;               /* VTEP IPs, sorted. */
    size_t n_flood;

    /* Set by nvo_net_view_finish(): every VTEP IP named in remotes[] or
     * flood[], sorted, unique.  The strings are borrowed from those arrays;
     * the array itself is owned. */
    const char **vteps;
    size_t n_vteps;
};

struct nvo_hv_view {
    int64_t hv_id;
    char *name;
    char *tunnel_ip;
    enum nvo_dataplane dataplane;
    enum nvo_role role;
    char *ovsdb;                /* May be NULL. */
    int64_t revision;           /* Store revision this view reflects. */
    uint64_t fence;             /* Cluster mode: the owner's epoch, sent
                                 * as the OpenFlow primary election
                                 * generation_id (doc/cluster.md); 0: no
                                 * role request (one controller). */
    struct nvo_net_view **nets; /* Each holds a reference; sorted by VNI. */
    size_t n_nets;
};

/* The tunnel key of VTEP 'ip' with encapsulation 'encap' (see tunnels[]
 * above) into 'buf' (at least NVO_TUNNEL_KEY_SIZE bytes); returns 'buf'. */
#define NVO_TUNNEL_KEY_SIZE 64
const char *nvo_tunnel_key(enum nvo_encap encap, const char *ip, char *buf);

/* The sorted set of tunnel keys (nvo_tunnel_key(): the VTEP IP for VXLAN,
 * "geneve/IP" or "gre/IP" otherwise) of every remote VTEP named in
 * remotes[] or flood[] of any network of 'v' (its service node included),
 * with that network's encapsulation, without 'v''s own tunnel IP.  OVS
 * needs no port per key (its tunnel ports are one flow-based port per
 * encapsulation, ovs-tunnels.h).  Computed on demand, O(the VTEPs of its
 * networks), so that no write pays for it on every hypervisor of a
 * network.  Returns a new array of new strings (caller frees each and the
 * array), its size in '*n'. */
char **nvo_hv_view_tunnels(const struct nvo_hv_view *v, size_t *n);

/* The number of tunnel keys nvo_hv_view_tunnels() would return, without
 * building them (no string formatted, one allocation): what GET /v1/status
 * shows as each hypervisor's "tunnels". */
size_t nvo_hv_view_n_tunnels(const struct nvo_hv_view *v);

/* Parses tunnel key 'key' into its encapsulation and the VTEP IP (a
 * pointer into 'key').  Returns 0, or -EINVAL. */
int nvo_tunnel_key_parse(const char *key, enum nvo_encap *encap,
                         const char **ip);

/* Tells whether service node 'hv' is alive (its agent is connected). */
typedef bool desired_sn_alive_fn(const struct nvo_hypervisor *hv, void *aux);

/* Returns the alive service node that serves 'net' (rendezvous hashing over
 * the names of alive service nodes, so a node's failure moves only its own
 * networks), or NULL if none.  Borrowed. */
const struct nvo_hypervisor *desired_service_node(
    const struct nvo_model *, const struct nvo_network *net,
    desired_sn_alive_fn *alive, void *aux);

/* Computes network 'net' as hypervisor 'hv' sees it (whether 'hv' should
 * see it at all is the caller's business).  Pure.  Caller owns the result
 * (one reference). */
struct nvo_net_view *desired_compute_net(const struct nvo_model *,
                                         const struct nvo_hypervisor *hv,
                                         const struct nvo_network *net,
                                         desired_sn_alive_fn *alive,
                                         void *aux);

/* A cache of per-network computations, kept across rounds of
 * desired_compute_cached() calls over one model (e.g. for the
 * controller's life): each network's ports are gathered, copied and
 * sorted once per change of the network (its 'seqno', model.h), and every
 * hypervisor's view of the network shares them, so a round costs the size
 * of the changed networks plus, per hypervisor, an array copy.  A changed
 * network's ports are updated from what the cache held (the ports changed
 * since, at the tail of the network's list, merged into a copy: no sort
 * of the network's ports), with the same result as gathering them anew.
 * Use one cache with one model only (a reloaded model needs a new one).
 * Owned by the caller; the views it helped make outlive it. */
struct desired_cache *desired_cache_create(void);
void desired_cache_destroy(struct desired_cache *);   /* Accepts NULL. */

/* Drops what 'cache' holds for network 'net_id' (deleted). */
void desired_cache_forget(struct desired_cache *, int64_t net_id);

/* How a cache's networks were computed, since its creation: gathered from
 * scratch, updated from the previous ones, reused unchanged. */
struct desired_cache_stats {
    uint64_t n_created;
    uint64_t n_updated;
    uint64_t n_reused;
};
void desired_cache_get_stats(const struct desired_cache *,
                             struct desired_cache_stats *);

/* "Every network may have changed" for desired_compute(). */
#define DESIRED_ALL_CHANGED SIZE_MAX

/* Computes 'hv''s view at the model's current revision.  Caller owns the
 * result.  'alive' may be NULL (no service node is alive).
 *
 * Incremental use: 'prev' is the view computed earlier for the same
 * hypervisor and 'changed_net_ids' (n_changed entries, duplicates allowed)
 * the ids of every network whose state may have changed since (ports
 * added, moved or removed, bum mode, creation, deletion).  Networks of
 * 'prev' not in that set are shared with it (referenced, not copied); the
 * others are recomputed.  Anything else (a hypervisor created, deleted or
 * changed, service-node liveness) may change any network: pass prev = NULL
 * or n_changed = DESIRED_ALL_CHANGED, which recomputes everything.  The
 * result is identical to a full recomputation.  'prev' is not modified. */
struct nvo_hv_view *desired_compute(const struct nvo_model *,
                                    const struct nvo_hypervisor *hv,
                                    desired_sn_alive_fn *alive, void *aux,
                                    const struct nvo_hv_view *prev,
                                    const int64_t *changed_net_ids,
                                    size_t n_changed);

/* desired_compute() with 'cache' (may be NULL: then nothing is shared
 * between calls). */
struct nvo_hv_view *desired_compute_cached(const struct nvo_model *,
                                           const struct nvo_hypervisor *hv,
                                           desired_sn_alive_fn *alive,
                                           void *aux,
                                           const struct nvo_hv_view *prev,
                                           const int64_t *changed_net_ids,
                                           size_t n_changed,
                                           struct desired_cache *cache);

/* Returns a new, zeroed network view holding one reference, for code that
 * builds views by hand.  Fill in its fields with malloc()ed arrays and
 * strings (the view owns them and free()s them with its last reference),
 * then call nvo_net_view_finish() once; after that it must not change. */
struct nvo_net_view *nvo_net_view_create(void);

/* Computes the derived fields of 'nv' (vteps[]).  Call once, after filling
 * the fields and before sharing it. */
void nvo_net_view_finish(struct nvo_net_view *nv);

/* Takes a reference to 'nv' (thread-safe); returns 'nv'. */
struct nvo_net_view *nvo_net_view_ref(const struct nvo_net_view *nv);

/* Drops a reference to 'nv' (thread-safe), freeing it with the last one.
 * Accepts NULL. */
void nvo_net_view_unref(struct nvo_net_view *nv);

/* True if 'a' and 'b' describe the same state (revision not compared). */
bool nvo_hv_view_equal(const struct nvo_hv_view *a,
                       const struct nvo_hv_view *b);

/* True if 'a' and 'b' describe the same network state (true at once if they
 * are the same object). */
bool nvo_net_view_equal(const struct nvo_net_view *a,
                        const struct nvo_net_view *b);

/* The pieces of nvo_net_view_equal(), for incremental consumers (the OVS
 * flow engine, controller/ovs-flowinc.c): a field added to a port or a
 * network view must be compared here, so that a change of it recomputes
 * what depends on it.
 *
 * nvo_net_view_attrs_equal(): the network-wide attributes (id, name, VNI,
 * bum mode, service node), not its port lists or flood list. */
bool nvo_net_view_attrs_equal(const struct nvo_net_view *a,
                              const struct nvo_net_view *b);
bool nvo_local_port_equal(const struct nvo_local_port *a,
                          const struct nvo_local_port *b);
bool nvo_remote_mac_equal(const struct nvo_remote_mac *a,
                          const struct nvo_remote_mac *b);

/* Orders ports by MAC then port id: the order of locals[] and remotes[]. */
int nvo_port_order(struct eth_addr mac_a, int64_t id_a,
                   struct eth_addr mac_b, int64_t id_b);

/* True if the sorted string arrays 'a' and 'b' are equal. */
bool nvo_strings_equal(char **a, size_t na, char **b, size_t nb);

/* A network's ports as desired_compute() gathers them once per round for
 * every hypervisor's view (a view's 'base'): locals[] and remotes[]
 * together, sorted like them (nvo_port_order()), each with its hypervisor
 * and that hypervisor's tunnel IP.  A consumer of many hypervisors' views
 * of one network (the OVS flow engine, controller/ovs-flowinc.c) compares
 * two rounds of it once, instead of each hypervisor's arrays: every field
 * of a local or remote port view comes from one of these, so a field added
 * there must be added here too.  The strings are borrowed from the base,
 * valid as long as the view is. */
struct nvo_net_port {
    int64_t port_id;
    int64_t hv_id;
    struct eth_addr mac;
    const char *vm;
    const char *iface;
    const char *ip;             /* Or NULL. */
    char *const *allowed;       /* Sorted. */
    size_t n_allowed;
    const char *tunnel_ip;      /* Its hypervisor's. */
};

/* The number of ports of 'nv''s base in '*n_ports' and of its distinct
 * tunnel IPs in '*n_tips'; false (and zeros) if 'nv' has no base (built by
 * hand). */
bool nvo_net_view_base_size(const struct nvo_net_view *nv, size_t *n_ports,
                            size_t *n_tips);
/* Port 'i' (< '*n_ports' above) of 'nv''s base, into '*p'. */
void nvo_net_view_base_port(const struct nvo_net_view *nv, size_t i,
                            struct nvo_net_port *p);
/* Tunnel IP 'i' (< '*n_tips' above) of 'nv''s base; they are sorted.
 * Borrowed. */
const char *nvo_net_view_base_tip(const struct nvo_net_view *nv, size_t i);
/* Copy that shares the networks: the hypervisor-level fields and arrays
 * are copied, each network view is referenced (not copied).  Since network
 * views are immutable, the copy is independent of 'v' and may go to another
 * thread.  Caller owns the result. */
struct nvo_hv_view *nvo_hv_view_clone(const struct nvo_hv_view *);

/* Returns the view's network with 'vni', or NULL.  Borrowed. */
const struct nvo_net_view *nvo_hv_view_find_net(const struct nvo_hv_view *,
                                                uint32_t vni);

/* Frees 'v', dropping its references to its networks.  Accepts NULL. */
void nvo_hv_view_destroy(struct nvo_hv_view *v);

#endif /* controller/desired.h */
