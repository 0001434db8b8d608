/* ovs-flows-arp.h - the ARP responder: flows that answer, on the sender's
 * own hypervisor, an ARP request for a VM address the controller knows.
 *
 * ovs_flowgen_arp (ovs-flows.h) makes, for every IPv4 address X that a
 * port of network N has as its "ip" (the port's local_port or remote_port
 * unit), one flow in table DMAC (broadcast ARP requests reach it before
 * they would fall through to the BUM table):
 *
 *   prio 200  reg0=0,metadata=N,arp,arp_op=1,
 *             dl_dst=ff:ff:ff:ff:ff:ff,arp_tpa=X
 *             -> eth_dst:=eth_src, eth_src:=MAC(X), arp_op:=2,
 *                arp_tha:=arp_sha, arp_sha:=MAC(X), arp_tpa:=arp_spa,
 *                arp_spa:=X, output:in_port
 *
 * and, when X's owner is a local port P, one more:
 *
 *   prio 210  reg0=0,in_port=P,metadata=N,arp,arp_op=1,
 *             dl_dst=ff:ff:ff:ff:ff:ff,arp_tpa=X  -> goto BUM
 *
 * so the owner's own request for X (a gratuitous ARP or a conflict probe)
 * is not answered with its own MAC and floods as before.  Only requests
 * from local VMs (reg0=0) are answered; requests for unknown addresses,
 * replies and gratuitous ARPs take the BUM table as before.  When several
 * ports of one network claim an address, the one with the lowest id
 * answers (so no two units make the same flow).  Tenants are separate by
 * metadata (the VNI), so overlapping addresses get their own answers.
 * Cookies are those of the port owning X, so the flows follow that port's
 * life.  Nothing for a network with "arp_responder": false.
 *
 * Pure: no I/O, no globals. */
#ifndef NVO_OVS_FLOWS_ARP_H
#define NVO_OVS_FLOWS_ARP_H 1

#define OVS_PRIO_ARP_REPLY 200
#define OVS_PRIO_ARP_OWN   210   /* The owner's own request: flooded. */

#endif /* controller/ovs-flows-arp.h */
