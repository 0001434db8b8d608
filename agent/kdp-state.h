/* kdp-state.h - the kernel dataplane's state as data, and the diff between
 * what the controller wants and what the kernel holds.  Pure: no netlink.
 *
 * Per network (VNI) nvo owns, recognised by name:
 *   KDP_VXLAN_PREFIX<vni>  a VXLAN device: VNI, local = tunnel IP (IPv4 or
 *                          IPv6), dstport 4789, nolearning, no UDP
 *                          checksum (OVS userspace VXLAN interoperates),
 *                          enslaved to the bridge;
 *   KDP_BRIDGE_PREFIX<vni> a bridge holding it and the VMs' interfaces;
 *   on the VXLAN device, static FDB entries MAC -> remote VTEP, and
 *   all-zero-MAC entries, one per flood VTEP (head-end replication or the
 *   service node).
 * Anything else in the kernel is left alone. */
#ifndef NVO_KDP_STATE_H
#define NVO_KDP_STATE_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/nvo.pb-c.h"

#define KDP_VXLAN_PREFIX "nvx"
#define KDP_BRIDGE_PREFIX "nvb"
#define KDP_VXLAN_PORT 4789
#define KDP_IFNAMSIZ 16

struct kdp_fdb {
    uint8_t mac[6];
    struct in6_addr dst;        /* IPv4: IPv4-mapped. */
};

struct kdp_net {
    uint32_t vni;
    /* Desired: what it must look like.  Actual: what the dump found. */
    bool has_vxlan;             /* Device exists with the right attributes. */
    bool vxlan_stale;           /* Actual: exists but attributes differ. */
    bool vxlan_ok;              /* Actual: up and enslaved to the bridge. */
    bool has_bridge;
    bool bridge_up;
    uint32_t mtu;               /* VXLAN device MTU. */
    struct kdp_fdb *fdb;        /* Sorted by (mac, dst), unique. */
    size_t n_fdb, allocated_fdb;
    char (*ports)[KDP_IFNAMSIZ];/* VM interfaces in the bridge, sorted. */
    size_t n_ports, allocated_ports;
};

/* A whole kernel state: networks sorted by VNI. */
struct kdp_state {
    struct kdp_net *nets;
    size_t n_nets, allocated_nets;
    struct in6_addr local;      /* Tunnel IP (desired); IPv4: mapped. */
};

void kdp_state_init(struct kdp_state *);
void kdp_state_destroy(struct kdp_state *);
/* Returns the entry for 'vni', creating it (zeroed) if 'create'.  The
 * returned pointer is invalidated by the next creation.  Borrowed. */
struct kdp_net *kdp_state_net(struct kdp_state *, uint32_t vni, bool create);
void kdp_net_add_fdb(struct kdp_net *, const uint8_t mac[6],
                     const struct in6_addr *dst);
void kdp_net_add_port(struct kdp_net *, const char *ifname);
/* Sorts and de-duplicates every array (after adding in any order). */
void kdp_state_normalize(struct kdp_state *);

/* Device names: "nvx<vni>" / "nvb<vni>".  Parse returns 0 and sets '*vni'
 * if 'name' is one of ours with 'prefix', else -EINVAL. */
void kdp_vxlan_name(uint32_t vni, char name[KDP_IFNAMSIZ]);
void kdp_bridge_name(uint32_t vni, char name[KDP_IFNAMSIZ]);
int kdp_name_parse(const char *name, const char *prefix, uint32_t *vni);

/* Parses IPv4 'ip' (into an IPv4-mapped address) or IPv6 'ip' into '*a'.
 * Returns 0, or -EINVAL for anything else. */
int kdp_addr_parse(const char *ip, struct in6_addr *a);
/* Formats 'a' as kdp_addr_parse() reads it (dotted quad for IPv4-mapped)
 * into 'buf'.  Returns 'buf'. */
const char *kdp_addr_format(const struct in6_addr *a,
                            char buf[INET6_ADDRSTRLEN]);
/* True if 'a' is IPv4 (IPv4-mapped). */
bool kdp_addr_is_v4(const struct in6_addr *a);

/* Computes the desired kernel state for 'n' networks (borrowed protobuf
 * entries) with local tunnel IP 'local' and VXLAN MTU 'mtu'.  Entries that
 * cannot be expressed (a VTEP of the other address family, or no address)
 * are skipped and counted in '*n_skipped' (may be NULL). */
void kdp_state_desired(Nvo__Network *const *nets, size_t n,
                       const struct in6_addr *local, uint32_t mtu,
                       struct kdp_state *out, size_t *n_skipped);

enum kdp_op_type {
    KDP_OP_RELEASE_PORT,        /* ifname leaves bridge of vni. */
    KDP_OP_DEL_FDB,
    KDP_OP_DEL_VXLAN,
    KDP_OP_DEL_BRIDGE,
    KDP_OP_ADD_BRIDGE,          /* Create (up). */
    KDP_OP_UP_BRIDGE,           /* Exists but down. */
    KDP_OP_ADD_VXLAN,           /* Create. */
    KDP_OP_FIX_VXLAN,           /* Enslave to the bridge, set MTU, up. */
    KDP_OP_ADD_FDB,
    KDP_OP_ADD_PORT,            /* Enslave ifname to bridge of vni, up. */
};

struct kdp_op {
    enum kdp_op_type type;
    uint32_t vni;
    uint32_t mtu;               /* ADD_VXLAN. */
    struct kdp_fdb fdb;         /* *_FDB. */
    char ifname[KDP_IFNAMSIZ];  /* *_PORT. */
};

struct kdp_ops {
    struct kdp_op *ops;
    size_t n, allocated;
};

/* Appends to 'ops' what turns 'actual' into 'desired', in an order the
 * kernel accepts (releases and deletions first, then creations, then FDB
 * entries and ports).  Existing devices and entries that are right are not
 * touched.  'actual' is the state of our devices only. */
void kdp_diff(const struct kdp_state *desired, const struct kdp_state *actual,
              struct kdp_ops *ops);
void kdp_ops_destroy(struct kdp_ops *);

/* Formats 'op' for logs and errors ("add fdb 52:54:00:00:00:01 dst
 * 192.0.2.2", or an IPv6 dst). */
void kdp_op_format(const struct kdp_op *, char *buf, size_t size);

#endif /* agent/kdp-state.h */
