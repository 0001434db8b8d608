/* ovs-flows-portsec.h - port security: what a local VM may send.
 *
 * Table CLASSIFY admits a VM port's frames only with the VM's own source
 * MAC; anything else from the port hits its prio 50 drop (the MAC guard of
 * the l2 generator, ovs-flows.c), which counts every violation of the port.
 * A port without IPv4 addresses gets the l2 generator's classify flow
 * (in_port=P,dl_src=M, prio 100): the MAC only is enforced.  A port with
 * IPv4 addresses (its "ip" and the IPv4 entries of "allowed_addresses",
 * each an address or a prefix) gets no such flow; instead this generator
 * (ovs_flowgen_portsec, a local_port generator of ovs-flows.h) admits, per
 * port with ofport P, MAC M, VNI N:
 *
 *   prio 110  in_port=P,dl_src=M,ip,nw_src=A          -> metadata:=N, goto DMAC
 *   prio 110  in_port=P,dl_src=M,arp,arp_sha=M,arp_spa=A
 *                                             -> metadata:=N, goto DMAC
 *             (one pair per IPv4 address or prefix A)
 *   prio 110  in_port=P,dl_src=M,ipv6                 -> metadata:=N, goto DMAC
 *             (only if the port also has IPv6 entries: IPv6 sources are
 *             not checked)
 *
 * and nothing else: IPv4 and ARP with another sender address (a spoofed
 * source, an ARP reply or gratuitous ARP claiming someone else's address)
 * and every other ethertype fall to the port's MAC guard, dropped and
 * counted, as OVN drops IP traffic outside a port's addresses.  That makes
 * 2 flows per address and none per port beyond the l2 generator's (the MAC
 * guard replaces the classify flow's job).
 *
 * All flows carry the port's cookie.  Pure: no I/O, no globals. */
#ifndef NVO_OVS_FLOWS_PORTSEC_H
#define NVO_OVS_FLOWS_PORTSEC_H 1

#include <stdbool.h>

struct nvo_local_port;

#include <stdint.h>

#define OVS_PRIO_PORTSEC_ALLOW 110
#define OVS_PRIO_PORTSEC_MAC   50   /* The classify table's MAC guard. */

/* True if 'lp' has at least one IPv4 address to enforce (then the l2
 * generator makes no classify flow for it). */
bool ovs_portsec_enforces_ipv4(const struct nvo_local_port *lp);

#endif /* controller/ovs-flows-portsec.h */
