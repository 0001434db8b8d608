#include <config.h>
#include "controller/ovs-flows-portsec.h"

#include <stdlib.h>

#include "controller/desired.h"
#include "controller/ovs-flows.h"
#include "byte-order.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "flow.h"
#include "packets.h"
#include "util.h"

/* Parses 's' ("A.B.C.D" or "A.B.C.D/LEN") into 'ip'/'mask'.  False if it is
 * not IPv4 (IPv6 entries are not this module's business). */
static bool
parse_v4(const char *s, ovs_be32 *ip, ovs_be32 *mask)
{
    if (!s) {
        return false;
    }
    char *error = ip_parse_masked(s, ip, mask);
    if (error) {
        free(error);
        return false;
    }
    *ip &= *mask;
    return true;
}

bool
ovs_portsec_enforces_ipv4(const struct nvo_local_port *lp)
{
    ovs_be32 ip, mask;
    if (parse_v4(lp->ip, &ip, &mask)) {
        return true;
    }
    for (size_t i = 0; i < lp->n_allowed; i++) {
        if (parse_v4(lp->allowed[i], &ip, &mask)) {
            return true;
        }
    }
    return false;
}

/* True if 'lp' has an IPv6 entry in "ip" or "allowed_addresses". */
static bool
has_ipv6(const struct nvo_local_port *lp)
{
    for (size_t i = 0; i <= lp->n_allowed; i++) {
        const char *s = i < lp->n_allowed ? lp->allowed[i] : lp->ip;
        struct in6_addr a, mask;
        char *error = s ? ipv6_parse_masked(s, &a, &mask) : NULL;
        if (s && !error) {
            return true;
        }
        free(error);
    }
    return false;
}

static void
allow_flows(struct ovs_flows_ctx *ctx, uint32_t vni,
            const struct nvo_local_port *lp, uint32_t ofport,
            const char *addr)
{
    uint64_t cookie = ovs_cookie(OVS_COOKIE_PORT, lp->port_id);
    ovs_be32 ip, mask;
    struct match m;

    if (!parse_v4(addr, &ip, &mask)) {
        return;
    }
    match_init_catchall(&m);
    match_set_in_port(&m, u16_to_ofp(ofport));
    match_set_dl_src(&m, lp->mac);
    match_set_dl_type(&m, htons(ETH_TYPE_IP));
    match_set_nw_src_masked(&m, ip, mask);
    ovs_flows_put_metadata_goto(ctx, vni, OVS_TABLE_DMAC);
    ovs_flows_put(ctx, OVS_TABLE_CLASSIFY, OVS_PRIO_PORTSEC_ALLOW, &m,
                  cookie);

    match_init_catchall(&m);
    match_set_in_port(&m, u16_to_ofp(ofport));
    match_set_dl_src(&m, lp->mac);
    match_set_dl_type(&m, htons(ETH_TYPE_ARP));
    match_set_arp_sha(&m, lp->mac);
    match_set_nw_src_masked(&m, ip, mask);
    ovs_flows_put_metadata_goto(ctx, vni, OVS_TABLE_DMAC);
    ovs_flows_put(ctx, OVS_TABLE_CLASSIFY, OVS_PRIO_PORTSEC_ALLOW, &m,
                  cookie);
}

/* ovs_flowgen local_port: the port-security flows of 'lp'. */
static void
portsec_local_port(struct ovs_flows_ctx *ctx, const struct nvo_net_view *net,
                   const struct nvo_local_port *lp, uint32_t ofport)
{
    if (!ovs_portsec_enforces_ipv4(lp)) {
        return;
    }
    allow_flows(ctx, net->vni, lp, ofport, lp->ip);
    for (size_t i = 0; i < lp->n_allowed; i++) {
        allow_flows(ctx, net->vni, lp, ofport, lp->allowed[i]);
    }
    if (has_ipv6(lp)) {
        struct match m;
        match_init_catchall(&m);
        match_set_in_port(&m, u16_to_ofp(ofport));
        match_set_dl_src(&m, lp->mac);
        match_set_dl_type(&m, htons(ETH_TYPE_IPV6));
        ovs_flows_put_metadata_goto(ctx, net->vni, OVS_TABLE_DMAC);
        ovs_flows_put(ctx, OVS_TABLE_CLASSIFY, OVS_PRIO_PORTSEC_ALLOW, &m,
                      ovs_cookie(OVS_COOKIE_PORT, lp->port_id));
    }
    /* Everything else from the port meets its MAC guard (prio 50): dropped
     * and counted. */
}

const struct ovs_flowgen ovs_flowgen_portsec = {
    .name = "portsec",
    .local_port = portsec_local_port,
};
