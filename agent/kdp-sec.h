/* kdp-sec.h - port security and ARP suppression on kernel hypervisors.
 *
 * What nvo-agent adds to each network's bridge (kdp-state.h has the rest):
 *
 * Port security, per local VM port (its interface in the bridge):
 *   - bridge port flags learning off and locked on (Linux >= 5.18): only
 *     source MACs with an FDB entry on that port pass, and the bridge
 *     learns nothing from the VM;
 *   - a static FDB entry (master) for the VM's MAC on its port;
 *   - nftables rules (netlink, libnftnl) in table "bridge nvo", chain
 *     "portsec" (hook prerouting, priority -200), per port:
 *       iifname P ether saddr != MAC                  counter drop
 *     then for a port with IPv4 addresses ("ip" and the IPv4 entries of
 *     "allowed_addresses", addresses or prefixes):
 *       iifname P ip saddr A                          accept   (each A)
 *       iifname P arp sha MAC arp spa A               accept   (each A)
 *       iifname P ether type ip6                      accept   (if it has
 *                                                      IPv6 entries)
 *       iifname P                                     counter drop
 *     (as on OVS hypervisors: nothing else leaves such a port), and for a
 *     port without:
 *       iifname P ether type { 802.1Q, 802.1ad }      counter drop.  The
 *     counters are the port's drop counters (reported in heartbeats); they
 *     survive rebuilds of the chain (the agent adds what it read before).
 *
 * ARP suppression, per network with "arp_responder" (the kernel bridge's
 * neighbour suppression, as EVPN VTEPs use it):
 *   - neigh_suppress on the VXLAN device's bridge port;
 *   - a permanent neighbour entry on the bridge for every known IPv4
 *     address of the network (local and remote VMs' "ip");
 *   - a static FDB entry (master) on the VXLAN port for every remote MAC,
 *     so the bridge finds where the answer's MAC lives.
 *   The bridge then answers a local VM's request for a known address
 *   itself and sends nothing over VXLAN; unknown addresses still flood.
 *   Caveat (kernel behaviour): with neigh_suppress, gratuitous ARPs and
 *   ARP probes (sender address 0 or equal to the target) from local VMs
 *   are not flooded over VXLAN either; remote hypervisors learn addresses
 *   from the controller instead.  "arp_responder": false keeps them.
 *
 * Entries nvo put there and no longer wants are removed: neighbours, and
 * every static master FDB entry in its bridges that is neither a local
 * VM's MAC on that VM's port nor (with suppression) a remote MAC on the
 * VXLAN port (a VM deleted, moved away or given another MAC).  Everything is idempotent: the
 * agent applies the whole configuration when it changed. */
#ifndef NVO_KDP_SEC_H
#define NVO_KDP_SEC_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/nvo.pb-c.h"

struct kdp_sec;

/* Opens the netlink sockets (route and netfilter).  Returns NULL and sets
 * '*errp' (negative errno) on failure.  Caller owns the result. */
struct kdp_sec *kdp_sec_create(int *errp);
/* Accepts NULL. */
void kdp_sec_destroy(struct kdp_sec *);

/* Called for each item that failed: 'what' describes it. */
typedef void kdp_sec_error_cb(void *aux, uint32_t vni, const char *what,
                              int error);

/* Applies port security and ARP suppression for the 'n' networks 'nets'
 * (borrowed) if their configuration changed since the last call, or if
 * 'force'.  Returns the number of failed items. */
int kdp_sec_apply(struct kdp_sec *, Nvo__Network *const *nets, size_t n,
                  bool force, kdp_sec_error_cb *cb, void *aux);

/* Calls 'cb' for every local VM port with its port-security drop count
 * (reads the nftables counters).  Returns 0 or a negative errno. */
typedef void kdp_sec_drops_cb(void *aux, int64_t port_id, uint64_t packets);
int kdp_sec_port_drops(struct kdp_sec *, kdp_sec_drops_cb *cb, void *aux);

#endif /* agent/kdp-sec.h */
