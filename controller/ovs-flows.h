/* ovs-flows.h - the OpenFlow pipeline nvo installs in br-int, computed from
 * a hypervisor's view and the ofports OVSDB reports.
 *
 * Tables (doc/ovs-pipeline.md has the full description and an example):
 *   0 classify: VM port with that VM's own source MAC (a port with IPv4
 *     addresses: only what port security admits, ovs-flows-portsec.h), or
 *     the network's tunnel port with a known VTEP as tun_src (tun_ipv6_src)
 *     and the network's tun_id -> metadata := VNI (reg0 := 1 "from a
 *     tunnel"), goto 1; the rest from a VM port (its MAC guard) and
 *     everything else: drop.
 *   1 DMAC: local MAC -> its port; remote MAC (frames from local VMs only)
 *     -> tun_id := VNI, tun_dst := its VTEP, output to the flow-based
 *     tunnel port of the network's encapsulation (ovs-tunnels.h); unicast
 *     from a tunnel to no local MAC: drop; otherwise goto 2.
 *   2 BUM: from a local VM -> every local port of the VNI (OpenFlow skips
 *     the ingress port) plus, per flood VTEP, tun_dst := VTEP and output to
 *     the tunnel port; from a tunnel -> local ports only.  Default drop.
 *
 * Cookies: 0x6e in the top byte marks a flow as nvo's; the next nibble says
 * what it belongs to (OVS_COOKIE_*) and the low 52 bits which one (port id,
 * VNI, tunnel IPv4 address, or a hash of a tunnel IPv6 address).  nvo only ever modifies or deletes flows
 * whose cookie carries the marker.
 *
 * Pure: no I/O, no globals. */
#ifndef NVO_OVS_FLOWS_H
#define NVO_OVS_FLOWS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/meta-flow.h"

struct nvo_hv_view;
struct ovs_flowset;
struct simap;
struct sset;

#define OVS_COOKIE_MARK       UINT64_C(0x6e00000000000000)
#define OVS_COOKIE_MARK_MASK  UINT64_C(0xff00000000000000)
#define OVS_COOKIE_ID_MASK    UINT64_C(0x000fffffffffffff)

enum ovs_cookie_type {
    OVS_COOKIE_PIPELINE = 0,    /* Table defaults (id 0). */
    OVS_COOKIE_PORT = 1,        /* A VM port (local or remote): port id. */
    OVS_COOKIE_NETWORK = 2,     /* A network's flooding: VNI. */
    OVS_COOKIE_TUNNEL = 3,      /* A tunnel's classification: IPv4 (host
                                 * byte order). */
    OVS_COOKIE_TUNNEL6 = 4,     /* The same toward an IPv6 VTEP: 52 bits of
                                 * a hash of the address. */
};

/* Table numbers. */
enum {
    OVS_TABLE_CLASSIFY = 0,
    OVS_TABLE_DMAC = 1,
    OVS_TABLE_BUM = 2,
};

/* Returns the cookie for a flow of 'type' belonging to 'id'. */
uint64_t ovs_cookie(enum ovs_cookie_type type, uint64_t id);

/* True if 'cookie' carries nvo's marker. */
static inline bool
ovs_cookie_is_nvo(uint64_t cookie)
{
    return (cookie & OVS_COOKIE_MARK_MASK) == OVS_COOKIE_MARK;
}

struct ovs_flows_cache;

struct ovs_flows_input {
    const struct nvo_hv_view *view;
    const struct simap *iface_ofports;  /* VM iface name -> ofport. */
    const struct simap *tunnel_ofports; /* Encapsulation ("vxlan", "geneve",
                                         * "gre") -> ofport of its
                                         * flow-based tunnel port. */
    struct ovs_flows_cache *cache;      /* Optional (NULL: none); see
                                         * ovs_flows_cache_create(). */
};

/* A cache of the encoded forms of the actions that send a frame to one
 * VTEP through one tunnel port (ovs_flows_put_tunnel_output()), for
 * ovs_flows_put_tunnels().  The BUM flow of a network lists every other
 * hypervisor of the network: when one joins, that flow changes on each of
 * them, and encoding it anew costs each O(the network); with the cache
 * each copies the encoded pieces instead, and every piece is encoded once
 * for all the hypervisors that share the cache.  The flows made are the
 * same with or without it.  Not thread-safe: one per thread.  Caller owns
 * it. */
struct ovs_flows_cache *ovs_flows_cache_create(void);
/* Accepts NULL. */
void ovs_flows_cache_destroy(struct ovs_flows_cache *);

/* The cache also remembers the flows of generator calls whose inputs every
 * hypervisor of a network shares (for the incremental engine: a remote
 * port's or a remote VTEP's flows are the same on each hypervisor whose
 * tunnel port has the same ofport), so that a VM start computes its flows
 * once for the network and copies them to each hypervisor.  A key is
 * valid only for views of one round (desired.h: views made from the same
 * network "base" hold the same ports), with the same network attributes
 * and tunnel port: 'net' must have a base (views built by hand have none:
 * nothing is remembered for them). */
struct ovs_flows_memo_key {
    const struct nvo_net_view *net;
    int kind;                   /* The caller's: which generator call. */
    int64_t id;                 /* Port id, or 0. */
    const char *vtep;           /* VTEP IP, or NULL. */
    uint32_t ofport;            /* The ofport of 'net''s tunnel port. */
};
struct ovs_flow;
/* Returns the flows remembered under 'key' ('*n' of them; possibly none),
 * or NULL if nothing is.  Borrowed: valid until the cache changes. */
struct ovs_flow *const *ovs_flows_memo_get(struct ovs_flows_cache *,
                                           const struct ovs_flows_memo_key *,
                                           size_t *n);
/* Remembers copies of the flows in 'flows' under 'key'. */
void ovs_flows_memo_put(struct ovs_flows_cache *,
                        const struct ovs_flows_memo_key *,
                        const struct ovs_flowset *flows);

/* What changed in a network's ports from one round of views to another
 * (their bases, nvo_net_view_base_port()), the same for every hypervisor
 * of the network: the incremental engine (ovs-flowinc.c) computes it once
 * per round and network, and each hypervisor then looks at those ports
 * alone instead of walking its whole locals[] and remotes[]. */
struct ovs_flows_port_key {
    struct eth_addr mac;
    int64_t port_id;
};
struct ovs_flows_delta {
    struct nvo_net_view *old, *new;     /* References: their bases stay
                                         * alive, so no other base takes
                                         * their addresses meanwhile. */
    /* Ports added, removed, or changed in any field (their hypervisor and
     * its tunnel IP included), sorted by nvo_port_order(). */
    struct ovs_flows_port_key *keys;
    size_t n_keys;
    /* Ports of 'new' with an IPv4 address that one of 'keys' had or has
     * (the ARP responder's claims, ovs-flows-arp.c). */
    struct ovs_flows_port_key *claims;
    size_t n_claims;
    const char **tips;          /* The tunnel IPs of the network's
                                 * hypervisors that differ (sorted;
                                 * strings of the bases)... */
    size_t n_tips;
    bool tips_dup;              /* ...unless two hypervisors have the same
                                 * tunnel IP: then compare whole lists. */
};
/* Accepts NULL. */
void ovs_flows_delta_destroy(struct ovs_flows_delta *);
/* The delta cached for the network of 'old' and 'new' from the base of
 * 'old' to that of 'new', or NULL.  Borrowed: valid until the cache
 * changes. */
const struct ovs_flows_delta *ovs_flows_delta_get(
    struct ovs_flows_cache *, const struct nvo_net_view *old,
    const struct nvo_net_view *new);
/* Caches 'd' (taken) for its network, replacing what was cached for it. */
void ovs_flows_delta_put(struct ovs_flows_cache *, struct ovs_flows_delta *d);

/* Computes the flows 'in' calls for into 'out' (which is cleared first):
 * the full computation, every generator over every port, tunnel and
 * network of the view.  The incremental engine (ovs-flowinc.h) must always
 * arrive at the same set; this is what it is checked against.
 * Flows that need an ofport not in the maps are left out; their iface
 * names or VTEP IPs are added to 'missing' (if nonnull).  Returns true if
 * nothing was missing.  The flows are in the canonical form the switch
 * reports them in (the form an OpenFlow 1.3 encode and decode gives,
 * ovs_flow_is_canonical()), so they compare equal to a dump. */
bool ovs_flows_compute(const struct ovs_flows_input *in,
                       struct ovs_flowset *out, struct sset *missing);

/* Flow generators: pluggable pieces of the pipeline.
 *
 * Each generator makes flows as a pure function of one input unit plus the
 * ofport maps, so the incremental engine can recompute exactly the units a
 * change touches:
 *
 *   pipeline(ctx)                   table defaults; computed once.
 *   local_port(ctx, net, lp, ofp)   one local VM port 'lp' of 'net' at
 *                                   ofport 'ofp'.  Recomputed when the port
 *                                   (nvo_local_port_equal()), its ofport or
 *                                   the network's attributes
 *                                   (nvo_net_view_attrs_equal()) change.
 *   remote_port(ctx, net, rm)       one remote VM port; looks up the
 *                                   tunnel port with
 *                                   ovs_flows_tunnel_ofport().
 *                                   Recomputed when the port, that tunnel
 *                                   port's ofport or the network's
 *                                   attributes change.
 *   tunnel(ctx, net, vtep)          'net' as seen from remote VTEP 'vtep'
 *                                   (every VTEP of its remotes and flood
 *                                   list, and its service node).
 *                                   Recomputed when the tunnel port's
 *                                   ofport or the network's attributes
 *                                   change.
 *   network(ctx, net, ofps, n)      the network as a whole; 'ofps' are its
 *                                   local ports' ofports (locals[] order,
 *                                   those known).  Recomputed when its
 *                                   attributes, its locals, their ofports,
 *                                   its flood list or the tunnel port's
 *                                   ofport change.
 *
 * Any member may be NULL.  A generator may only read what it is given
 * (plus the maps through the lookup functions below): if it needs more,
 * add that to the view and to the equality functions of desired.h.
 * Flows of two generators, or of two units, must never have the same
 * (table, priority, match). */
struct ovs_flows_ctx;
struct nvo_net_view;
struct nvo_local_port;
struct nvo_remote_mac;
struct match;
struct ofpbuf;

struct ovs_flowgen {
    const char *name;
    void (*pipeline)(struct ovs_flows_ctx *);
    void (*local_port)(struct ovs_flows_ctx *, const struct nvo_net_view *,
                       const struct nvo_local_port *, uint32_t ofport);
    void (*remote_port)(struct ovs_flows_ctx *, const struct nvo_net_view *,
                        const struct nvo_remote_mac *);
    void (*tunnel)(struct ovs_flows_ctx *, const struct nvo_net_view *,
                   const char *vtep_ip);
    void (*network)(struct ovs_flows_ctx *, const struct nvo_net_view *,
                    const uint32_t *local_ofports, size_t n_local_ofports);
};

/* The generators, in the order they run; '*n' gets their number.  To add
 * one: define a 'const struct ovs_flowgen' in its own file and list it in
 * ovs-flows.c. */
const struct ovs_flowgen *const *ovs_flowgens(size_t *n);

/* The L2 pipeline of the table above (classify, DMAC, BUM). */
extern const struct ovs_flowgen ovs_flowgen_l2;
/* Port security (ovs-flows-portsec.c) and the ARP responder
 * (ovs-flows-arp.c). */
extern const struct ovs_flowgen ovs_flowgen_portsec;
extern const struct ovs_flowgen ovs_flowgen_arp;

/* Generator context: where flows go and how ofports are found.
 * ovs_flows_ctx_init() starts one writing into 'out' (flows are added;
 * a key already present is replaced), looking ofports up in 'in''s maps. */
struct ovs_flows_ctx {
    const struct ovs_flows_input *in;
    struct ovs_flowset *out;
    struct sset *missing;       /* May be NULL. */
    bool complete;              /* Nothing missing so far. */
    struct ofpbuf *ofpacts;     /* Actions of the next ovs_flows_put(). */
    struct ovs_flows_arp_index *arp;    /* Owned, or NULL: see
                                         * ovs_flows_arp_owner(). */
};
void ovs_flows_ctx_init(struct ovs_flows_ctx *, const struct ovs_flows_input *,
                        struct ovs_flowset *out, struct sset *missing);
void ovs_flows_ctx_destroy(struct ovs_flows_ctx *);

/* The lowest id of the ports of 'net' (locals[] and remotes[]) whose
 * address ("ip") is the IPv4 address 'a', or INT64_MAX if none: the port
 * that answers ARP for it (ovs-flows-arp.c).  The index behind it is made
 * once per network and computation ('ctx'), or, with the input's cache
 * and a view with a base, once per round for every hypervisor of the
 * network (a port of N asking each of the N others was O(N^2) per full
 * computation: a hypervisor joining, a cold start, a self-check). */
int64_t ovs_flows_arp_owner(struct ovs_flows_ctx *,
                            const struct nvo_net_view *net, ovs_be32 a);

/* Adds a flow with the actions accumulated in ctx->ofpacts (then cleared),
 * in the canonical form the switch reports. */
void ovs_flows_put(struct ovs_flows_ctx *, uint8_t table_id,
                   uint16_t priority, const struct match *, uint64_t cookie);

/* True if 'flow' (key and value) is unchanged by an OpenFlow 1.3 flow_mod
 * encode and decode: the form ovs_flows_put() must give every flow, which
 * the unit tests check with this for every flow the generators make.
 * Costs that round trip. */
struct ovs_flow;
bool ovs_flow_is_canonical(const struct ovs_flow *flow);

/* Action helpers (append to ctx->ofpacts). */
void ovs_flows_put_output(struct ovs_flows_ctx *, uint32_t ofport);
void ovs_flows_put_set_tun_id(struct ovs_flows_ctx *, uint32_t vni);
void ovs_flows_put_set_reg0(struct ovs_flows_ctx *, uint32_t value);
void ovs_flows_put_metadata_goto(struct ovs_flows_ctx *, uint32_t vni,
                                 uint8_t table);
/* set_field (full mask) of 'value' (field-sized, network byte order) to
 * 'id'; move of a whole field 'src' to 'dst' of the same width. */
void ovs_flows_put_set_field(struct ovs_flows_ctx *, enum mf_field_id id,
                             const void *value);
void ovs_flows_put_move(struct ovs_flows_ctx *, enum mf_field_id src,
                        enum mf_field_id dst);

/* Looks up the ofport of the flow-based tunnel port of 'net''s
 * encapsulation (ovs-tunnels.h).  If unknown, records the port's name as
 * missing and returns false. */
bool ovs_flows_tunnel_ofport(struct ovs_flows_ctx *,
                             const struct nvo_net_view *net, uint32_t *ofport);
/* Appends the actions that send a frame to VTEP 'vtep_ip' (IPv4 or IPv6)
 * through the flow-based tunnel port 'ofport': set_field:IP->tun_dst (or
 * ->tun_ipv6_dst), output:ofport.  The VNI (tun_id) is the caller's.  OVS
 * takes tun_dst over tun_ipv6_dst, so an IPv6 destination that follows an
 * IPv4 one in the same actions first clears tun_dst: '*v4_set' (false
 * before the first call of an action list) keeps track.  Returns false,
 * appending nothing, if 'vtep_ip' is no address. */
bool ovs_flows_put_tunnel_output(struct ovs_flows_ctx *, const char *vtep_ip,
                                 uint32_t ofport, bool *v4_set);
/* Appends ovs_flows_put_tunnel_output() of each of 'vteps' (in order;
 * strings owned by 'net', which the cache may reference) to
 * the actions accumulated in ctx->ofpacts, then adds the flow as
 * ovs_flows_put() does, with the same result; but with a cache in the
 * input (and only IPv4 VTEPs, and only output and set_field actions before
 * them) the VTEPs' actions are copied already encoded from it (see
 * ovs_flows_cache_create()). */
void ovs_flows_put_tunnels(struct ovs_flows_ctx *, uint8_t table_id,
                           uint16_t priority, const struct match *,
                           uint64_t cookie, const struct nvo_net_view *net,
                           char *const *vteps, size_t n, uint32_t ofport);
/* Makes 'm' match frames tunnelled from VTEP 'vtep_ip': tun_src, or
 * tun_ipv6_src.  Returns false if 'vtep_ip' is no address. */
bool ovs_flows_match_tun_src(struct match *m, const char *vtep_ip);
/* The same for a VM interface. */
bool ovs_flows_iface_ofport(struct ovs_flows_ctx *, const char *iface,
                            uint32_t *ofport);

/* Every VTEP 'net''s frames may arrive from: its vteps[] plus its service
 * node, sorted and unique.  Returns a new array of borrowed strings
 * (caller frees the array), its size in '*n'. */
const char **ovs_flows_net_vteps(const struct nvo_net_view *net, size_t *n);

/* Priorities. */
enum {
    OVS_PRIO_MATCH = 100,       /* A specific port, MAC or network. */
    OVS_PRIO_GUARD = 50,        /* Drops within a table. */
    OVS_PRIO_DEFAULT = 0,       /* Table miss. */
};

#endif /* controller/ovs-flows.h */
