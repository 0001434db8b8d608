/* ovs-flows-portsec.h - port security: what a local VM may send.
 *
 * Table CLASSIFY already admits a VM port's frames only with the VM's own
 * source MAC (prio 100, anything else hits the port's prio 50 drop).  For a
 * port with IPv4 addresses (its "ip" and the IPv4 entries of
 * "allowed_addresses", each an address or a prefix), this module adds, per
 * port with ofport P, MAC M, VNI N:
 *
 *   prio 110  in_port=P,dl_src=M,ip,nw_src=A          -> metadata:=N, goto DMAC
 *   prio 110  in_port=P,dl_src=M,arp,arp_sha=M,arp_spa=A
 *                                                     -> metadata:=N, goto DMAC
 *             (one pair per allowed address A)
 *   prio 105  in_port=P,dl_src=M,ip                   -> drop (counted)
 *   prio 105  in_port=P,dl_src=M,arp                  -> drop (counted)
 *
 * so IPv4 packets and ARP with another sender address (a spoofed source, an
 * ARP reply or gratuitous ARP claiming someone else's address) are dropped
 * on the VM's own port, while other ethertypes (IPv6 among them) still pass
 * on the MAC check alone.  A port without IPv4 addresses gets nothing here:
 * the MAC only is enforced.  All flows carry the port's cookie; the drops of
 * a port (these and its prio 50 MAC guard) are its violation counters.
 *
 * Pure: no I/O, no globals. */
#ifndef NVO_OVS_FLOWS_PORTSEC_H
#define NVO_OVS_FLOWS_PORTSEC_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nvo_local_port;
struct ovs_flowgen_sink;

#define OVS_PRIO_PORTSEC_ALLOW 110
#define OVS_PRIO_PORTSEC_DROP  105
#define OVS_PRIO_PORTSEC_MAC   50   /* The classify table's MAC guard. */

/* True if 'lp' has at least one IPv4 address to enforce. */
bool ovs_portsec_enforces_ipv4(const struct nvo_local_port *lp);

/* Emits the port-security flows of local port 'lp' (in network 'vni', at
 * 'ofport') into 'sink'; nothing if it has no IPv4 address.  Returns the
 * number of flows emitted. */
size_t ovs_flows_portsec(uint32_t vni, const struct nvo_local_port *lp,
                         uint32_t ofport, const struct ovs_flowgen_sink *sink);

#endif /* controller/ovs-flows-portsec.h */
