/* ovs-flows.h - the OpenFlow pipeline nvo installs in br-int, computed from
 * a hypervisor's view and the ofports OVSDB reports.
 *
 * Tables (doc/ovs-pipeline.md has the full description and an example):
 *   0 classify: VM port with that VM's own source MAC, or tunnel port with
 *     a known tun_id -> metadata := VNI (reg0 := 1 "from a tunnel"),
 *     goto 1; a VM port's other source MACs and everything else: drop.
 *   1 DMAC: local MAC -> its port; remote MAC (frames from local VMs only)
 *     -> tun_id := VNI, output to the tunnel of its VTEP; unicast from a
 *     tunnel to no local MAC: drop; otherwise goto 2.
 *   2 BUM: from a local VM -> every local port of the VNI (OpenFlow skips
 *     the ingress port) plus one copy per flood VTEP; from a tunnel -> local
 *     ports only.  Default drop.
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
#include <stdint.h>

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

struct ovs_flows_input {
    const struct nvo_hv_view *view;
    const struct simap *iface_ofports;  /* VM iface name -> ofport. */
    const struct simap *tunnel_ofports; /* Tunnel key (desired.h: VTEP IP,
                                         * "geneve/IP", "gre/IP") -> ofport. */
};

/* Computes the flows 'in' calls for into 'out' (which is cleared first).
 * Flows that need an ofport not in the maps are left out; their iface
 * names or VTEP IPs are added to 'missing' (if nonnull).  Returns true if
 * nothing was missing.  The flows are in the canonical form the switch
 * reports them in (each went through an OpenFlow 1.3 encode and decode), so
 * they compare equal to a dump. */
bool ovs_flows_compute(const struct ovs_flows_input *in,
                       struct ovs_flowset *out, struct sset *missing);

#endif /* controller/ovs-flows.h */
