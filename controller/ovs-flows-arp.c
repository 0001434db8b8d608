#include <config.h>
#include "controller/ovs-flows-arp.h"

#include <stdlib.h>
#include <string.h>

#include "controller/desired.h"
#include "controller/ovs-flowgen.h"
#include "controller/ovs-flows.h"
#include "byte-order.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "flow.h"
#include "packets.h"
#include "simap.h"
#include "util.h"

/* One known address of the network. */
struct arp_entry {
    ovs_be32 ip;
    struct eth_addr mac;
    int64_t port_id;
    const char *local_iface;    /* Owner's interface if local, else NULL. */
    bool dup;                   /* Another port claims the same address. */
};

static int
compare_entries(const void *a_, const void *b_)
{
    const struct arp_entry *a = a_, *b = b_;
    uint32_t x = ntohl(a->ip), y = ntohl(b->ip);
    if (x != y) {
        return x < y ? -1 : 1;
    }
    return (a->port_id > b->port_id) - (a->port_id < b->port_id);
}

static void
add_entry(struct arp_entry *v, size_t *n, const char *ip,
          struct eth_addr mac, int64_t port_id, const char *local_iface)
{
    ovs_be32 a;
    if (ip && ip_parse(ip, &a) && a != htonl(0)) {
        v[(*n)++] = (struct arp_entry) {
            .ip = a, .mac = mac, .port_id = port_id,
            .local_iface = local_iface,
        };
    }
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

size_t
ovs_flows_arp_responder(const struct nvo_net_view *net,
                        const struct simap *iface_ofports,
                        const struct ovs_flowgen_sink *sink)
{
    if (!net->arp_responder) {
        return 0;
    }
    size_t n = 0, n_flows = 0;
    struct arp_entry *v = xmalloc((net->n_locals + net->n_remotes + 1)
                                  * sizeof *v);
    for (size_t i = 0; i < net->n_locals; i++) {
        const struct nvo_local_port *lp = &net->locals[i];
        add_entry(v, &n, lp->ip, lp->mac, lp->port_id, lp->iface);
    }
    for (size_t i = 0; i < net->n_remotes; i++) {
        const struct nvo_remote_mac *rm = &net->remotes[i];
        add_entry(v, &n, rm->ip, rm->mac, rm->port_id, NULL);
    }
    qsort(v, n, sizeof *v, compare_entries);
    for (size_t i = 1; i < n; i++) {
        if (v[i].ip == v[i - 1].ip) {
            v[i].dup = v[i - 1].dup = true;
        }
    }

    uint64_t stub[256 / 8];
    struct ofpbuf acts = OFPBUF_STUB_INITIALIZER(stub);
    for (size_t i = 0; i < n; i++) {
        const struct arp_entry *e = &v[i];
        uint64_t cookie = ovs_cookie(OVS_COOKIE_PORT, e->port_id);
        struct match m;

        if (e->dup) {
            continue;
        }
        if (e->local_iface) {
            const struct simap_node *sn = iface_ofports
                ? simap_find(iface_ofports, e->local_iface) : NULL;
            if (!sn || sn->data <= 0 || sn->data >= OFPP_MAX) {
                continue;
            }
            /* The owner asking for its own address: flood as before. */
            match_request(&m, net->vni, e->ip);
            match_set_in_port(&m, u16_to_ofp(sn->data));
            ofpact_put_GOTO_TABLE(&acts)->table_id = OVS_TABLE_BUM;
            ovs_flowgen_emit(sink, OVS_TABLE_DMAC, OVS_PRIO_ARP_OWN, &m,
                             cookie, &acts);
            n_flows++;
        }

        match_request(&m, net->vni, e->ip);
        match_set_reg(&m, 0, 0);
        ovs_flowgen_move(&acts, MFF_ETH_SRC, MFF_ETH_DST);
        ovs_flowgen_set_field(&acts, MFF_ETH_SRC, &e->mac);
        ovs_be16 reply = htons(ARP_OP_REPLY);
        ovs_flowgen_set_field(&acts, MFF_ARP_OP, &reply);
        ovs_flowgen_move(&acts, MFF_ARP_SHA, MFF_ARP_THA);
        ovs_flowgen_set_field(&acts, MFF_ARP_SHA, &e->mac);
        ovs_flowgen_move(&acts, MFF_ARP_SPA, MFF_ARP_TPA);
        ovs_flowgen_set_field(&acts, MFF_ARP_SPA, &e->ip);
        ofpact_put_OUTPUT(&acts)->port = OFPP_IN_PORT;
        ovs_flowgen_emit(sink, OVS_TABLE_DMAC, OVS_PRIO_ARP_REPLY, &m,
                         cookie, &acts);
        n_flows++;
    }
    ofpbuf_uninit(&acts);
    free(v);
    return n_flows;
}
