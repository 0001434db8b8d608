/* ovs-flows-portsec.h - port security: what a local VM may send.
 *
 * Table CLASSIFY already admits a VM port's frames only with the VM's own
 * source MAC (prio 100, anything else hits the port's prio 50 drop).  For a
 * port with IPv4 addresses (its "ip" and the IPv4 entries of
 * "allowed_addresses", each an address or a prefix), this generator
 * (ovs_flowgen_portsec, a local_port generator of ovs-flows.h) adds, per
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

struct nvo_local_port;

#define OVS_PRIO_PORTSEC_ALLOW 110
#define OVS_PRIO_PORTSEC_DROP  105
#define OVS_PRIO_PORTSEC_MAC   50   /* The classify table's MAC guard. */

/* True if 'lp' has at least one IPv4 address to enforce. */
bool ovs_portsec_enforces_ipv4(const struct nvo_local_port *lp);

#endif /* controller/ovs-flows-portsec.h */
