#include <config.h>
#include "controller/ovs-flows-arp.h"

#include <string.h>

#include "controller/desired.h"
#include "controller/ovs-flows.h"
#include "byte-order.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "flow.h"
#include "packets.h"
#include "util.h"

/* True if 'ip' (parsed into '*a') is an IPv4 address that port 'port_id'
 * answers for in 'net': no port with a lower id claims it too. */
static bool
answers_for(struct ovs_flows_ctx *ctx, const struct nvo_net_view *net,
            int64_t port_id, const char *ip, ovs_be32 *a)
{
    return (net->arp_responder && ip && ip_parse(ip, a) && *a
            && ovs_flows_arp_owner(ctx, net, *a) >= port_id);
}

static void
match_request(struct match *m, uint32_t vni, ovs_be32 tpa)
{
    match_init_catchall(m);
    match_set_metadata(m, htonll(vni));
    match_set_dl_dst(m, eth_addr_broadcast);
    match_set_dl_type(m, htons(ETH_TYPE_ARP));
    match_set_nw_proto(m, ARP_OP_REQUEST);
    match_set_nw_dst(m, tpa);
}

/* The reply flow for address 'ip' of the port with 'mac' and 'cookie'. */
static void
reply_flow(struct ovs_flows_ctx *ctx, const struct nvo_net_view *net,
           ovs_be32 ip, struct eth_addr mac, uint64_t cookie)
{
    struct match m;
    match_request(&m, net->vni, ip);
    match_set_reg(&m, 0, 0);
    ovs_flows_put_move(ctx, MFF_ETH_SRC, MFF_ETH_DST);
    ovs_flows_put_set_field(ctx, MFF_ETH_SRC, &mac);
    ovs_be16 reply = htons(ARP_OP_REPLY);
    ovs_flows_put_set_field(ctx, MFF_ARP_OP, &reply);
    ovs_flows_put_move(ctx, MFF_ARP_SHA, MFF_ARP_THA);
    ovs_flows_put_set_field(ctx, MFF_ARP_SHA, &mac);
    ovs_flows_put_move(ctx, MFF_ARP_SPA, MFF_ARP_TPA);
    ovs_flows_put_set_field(ctx, MFF_ARP_SPA, &ip);
    ofpact_put_OUTPUT(ctx->ofpacts)->port = OFPP_IN_PORT;
    ovs_flows_put(ctx, OVS_TABLE_DMAC, OVS_PRIO_ARP_REPLY, &m, cookie);
}

/* ovs_flowgen local_port: answer for a local VM's address, except to the
 * VM itself: its own request for its address (a gratuitous ARP or an
 * address-conflict probe) takes the BUM table, by a flow above the reply
 * that matches its port. */
static void
arp_local_port(struct ovs_flows_ctx *ctx, const struct nvo_net_view *net,
               const struct nvo_local_port *lp, uint32_t ofport)
{
    uint64_t cookie = ovs_cookie(OVS_COOKIE_PORT, lp->port_id);
    ovs_be32 ip;
    if (answers_for(ctx, net, lp->port_id, lp->ip, &ip)) {
        reply_flow(ctx, net, ip, lp->mac, cookie);

        struct match m;
        match_request(&m, net->vni, ip);
        match_set_reg(&m, 0, 0);
        match_set_in_port(&m, u16_to_ofp(ofport));
        ofpact_put_GOTO_TABLE(ctx->ofpacts)->table_id = OVS_TABLE_BUM;
        ovs_flows_put(ctx, OVS_TABLE_DMAC, OVS_PRIO_ARP_OWN, &m, cookie);
    }
}

/* ovs_flowgen remote_port: answer for a remote VM's address. */
static void
arp_remote_port(struct ovs_flows_ctx *ctx, const struct nvo_net_view *net,
                const struct nvo_remote_mac *rm)
{
    ovs_be32 ip;
    if (answers_for(ctx, net, rm->port_id, rm->ip, &ip)) {
        reply_flow(ctx, net, ip, rm->mac,
                   ovs_cookie(OVS_COOKIE_PORT, rm->port_id));
    }
}

const struct ovs_flowgen ovs_flowgen_arp = {
    .name = "arp",
    .local_port = arp_local_port,
    .remote_port = arp_remote_port,
};
