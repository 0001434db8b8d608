#include <config.h>
#include "controller/ovs-flows.h"

#include <arpa/inet.h>
#include <string.h>

#include "controller/desired.h"
#include "controller/ovs-flowgen.h"
#include "controller/ovs-flows-arp.h"
#include "controller/ovs-flows-portsec.h"
#include "controller/ovs-flowset.h"
#include "openvswitch/match.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "byte-order.h"
#include "flow.h"
#include "hash.h"
#include "packets.h"
#include "simap.h"
#include "sset.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ovs_flows);

/* Priorities. */
enum {
    PRIO_MATCH = 100,           /* A specific port, MAC or network. */
    PRIO_GUARD = 50,            /* Drops within a table. */
    PRIO_DEFAULT = 0,           /* Table miss. */
};

uint64_t
ovs_cookie(enum ovs_cookie_type type, uint64_t id)
{
    return OVS_COOKIE_MARK | ((uint64_t) (type & 0xf) << 52)
           | (id & OVS_COOKIE_ID_MASK);
}

/* What one computation needs. */
struct flows_ctx {
    const struct ovs_flows_input *in;
    struct ovs_flowset *out;
    struct sset *missing;
    bool complete;
    struct ofpbuf ofpacts;      /* Scratch. */
    struct ovs_flowgen_sink sink;   /* sink_put() into 'out'. */
};

/* Adds a flow to ctx->out in the form the switch reports it: through an
 * OpenFlow 1.3 flow_mod encode and decode, as ovs-vswitchd receives it.
 * (ovs_flowgen_put_fn: the sink every generator writes into; 'ctx_' is the
 * struct flows_ctx.) */
static void
sink_put(void *ctx_, uint8_t table_id, uint16_t priority,
         const struct match *match, uint64_t cookie,
         const struct ofpact *ofpacts, size_t ofpacts_len)
{
    struct flows_ctx *ctx = ctx_;
    struct ofputil_flow_mod fm = {
        .priority = priority,
        .new_cookie = htonll(cookie),
        .table_id = table_id,
        .command = OFPFC_ADD,
        .buffer_id = UINT32_MAX,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .ofpacts = CONST_CAST(struct ofpact *, ofpacts),
        .ofpacts_len = ofpacts_len,
    };
    minimatch_init(&fm.match, match);
    struct ofpbuf *msg = ofputil_encode_flow_mod(&fm, OFPUTIL_P_OF13_OXM);
    minimatch_destroy(&fm.match);

    struct ofputil_flow_mod dec;
    uint64_t stub[1024 / 8];
    struct ofpbuf acts = OFPBUF_STUB_INITIALIZER(stub);
    enum ofperr err = ofputil_decode_flow_mod(&dec, msg->data,
                                              OFPUTIL_P_OF13_OXM, NULL, NULL,
                                              &acts, OFPP_MAX, 255);
    if (err) {
        /* Only a bug can get here: every flow is built from checked data. */
        VLOG_ERR("cannot encode flow for table %d: %s", table_id,
                 ofperr_to_string(err));
    } else {
        struct match m;
        minimatch_expand(&dec.match, &m);
        ovs_flowset_add(ctx->out, table_id, priority, &m, cookie,
                        dec.ofpacts, dec.ofpacts_len, NULL);
        minimatch_destroy(&dec.match);
    }
    ofpbuf_uninit(&acts);
    ofpbuf_delete(msg);
}

/* Adds the flow whose actions are in ctx->ofpacts (then cleared). */
static void
put_flow(struct flows_ctx *ctx, uint8_t table_id, uint16_t priority,
         const struct match *match, uint64_t cookie)
{
    sink_put(ctx, table_id, priority, match, cookie, ctx->ofpacts.data,
             ctx->ofpacts.size);
    ofpbuf_clear(&ctx->ofpacts);
}

static void
put_output(struct flows_ctx *ctx, uint32_t ofport)
{
    ofpact_put_OUTPUT(&ctx->ofpacts)->port = u16_to_ofp(ofport);
}

static void
put_set_field(struct flows_ctx *ctx, enum mf_field_id id, const void *value)
{
    const struct mf_field *field = mf_from_id(id);
    /* Zero-filled first, so no padding byte is left undefined. */
    struct ofpact_set_field *sf = ofpact_put_set_field(&ctx->ofpacts, field,
                                                       NULL, NULL);
    memcpy(sf->value, value, field->n_bytes);
    memset(ofpact_set_field_mask(sf), 0xff, field->n_bytes);
}

static void
put_set_tun_id(struct flows_ctx *ctx, uint32_t vni)
{
    ovs_be64 tun_id = htonll(vni);
    put_set_field(ctx, MFF_TUN_ID, &tun_id);
}

/* Instructions after the apply-actions (OpenFlow 1.3 order, pitfall 2):
 * write-metadata, then goto-table. */
static void
put_metadata_goto(struct flows_ctx *ctx, uint32_t vni, uint8_t table)
{
    struct ofpact_metadata *md = ofpact_put_WRITE_METADATA(&ctx->ofpacts);
    md->metadata = htonll(vni);
    md->mask = OVS_BE64_MAX;
    ofpact_put_GOTO_TABLE(&ctx->ofpacts)->table_id = table;
}

static bool
lookup(struct flows_ctx *ctx, const struct simap *map, const char *name,
       uint32_t *ofport)
{
    const struct simap_node *n = map ? simap_find(map, name) : NULL;
    if (n && n->data > 0 && n->data < OFPP_MAX) {
        *ofport = n->data;
        return true;
    }
    ctx->complete = false;
    if (ctx->missing) {
        sset_add(ctx->missing, name);
    }
    return false;
}

/* Looks up the tunnel port toward VTEP 'ip' for 'net''s encapsulation. */
static bool
tunnel_lookup(struct flows_ctx *ctx, const struct nvo_net_view *net,
              const char *ip, uint32_t *ofport)
{
    char key[NVO_TUNNEL_KEY_SIZE];
    return lookup(ctx, ctx->in->tunnel_ofports,
                  nvo_tunnel_key(net->encap, ip, key), ofport);
}

/* The cookie of the classification flows of the tunnel toward VTEP 'ip':
 * an IPv4 address fits in the 52 id bits; an IPv6 one does not, and gets
 * 52 bits of a hash of it (type OVS_COOKIE_TUNNEL6).  The cookie only says
 * what a flow belongs to; flows are told apart by their match. */
static uint64_t
tunnel_cookie(const char *ip)
{
    struct in_addr a;
    struct in6_addr a6;
    if (inet_pton(AF_INET, ip, &a) == 1) {
        return ovs_cookie(OVS_COOKIE_TUNNEL, ntohl(a.s_addr));
    } else if (inet_pton(AF_INET6, ip, &a6) == 1) {
        return ovs_cookie(OVS_COOKIE_TUNNEL6,
                          hash_bytes64((const uint64_t *) &a6, sizeof a6, 0));
    }
    return ovs_cookie(OVS_COOKIE_TUNNEL, 0);
}

/* Table 0 and 1 flows of one local VM port. */
static void
local_port_flows(struct flows_ctx *ctx, const struct nvo_net_view *net,
                 const struct nvo_local_port *lp, uint32_t ofport)
{
    uint64_t cookie = ovs_cookie(OVS_COOKIE_PORT, lp->port_id);
    struct match m;

    /* Classify: only the VM's own source MAC enters its network. */
    match_init_catchall(&m);
    match_set_in_port(&m, u16_to_ofp(ofport));
    match_set_dl_src(&m, lp->mac);
    put_metadata_goto(ctx, net->vni, OVS_TABLE_DMAC);
    put_flow(ctx, OVS_TABLE_CLASSIFY, PRIO_MATCH, &m, cookie);

    /* Any other source MAC from that port: dropped (counted here). */
    match_init_catchall(&m);
    match_set_in_port(&m, u16_to_ofp(ofport));
    put_flow(ctx, OVS_TABLE_CLASSIFY, PRIO_GUARD, &m, cookie);

    /* Port security: IPv4 and ARP only from the VM's own addresses. */
    ovs_flows_portsec(net->vni, lp, ofport, &ctx->sink);

    /* DMAC: frames to the VM. */
    match_init_catchall(&m);
    match_set_metadata(&m, htonll(net->vni));
    match_set_dl_dst(&m, lp->mac);
    put_output(ctx, ofport);
    put_flow(ctx, OVS_TABLE_DMAC, PRIO_MATCH, &m, cookie);
}

/* Table 1 flow of a remote VM port. */
static void
remote_mac_flow(struct flows_ctx *ctx, const struct nvo_net_view *net,
                const struct nvo_remote_mac *rm)
{
    uint32_t ofport;
    if (!tunnel_lookup(ctx, net, rm->vtep_ip, &ofport)) {
        return;
    }
    struct match m;
    match_init_catchall(&m);
    match_set_reg(&m, 0, 0);    /* From a local VM: never tunnel to tunnel. */
    match_set_metadata(&m, htonll(net->vni));
    match_set_dl_dst(&m, rm->mac);
    put_set_tun_id(ctx, net->vni);
    put_output(ctx, ofport);
    put_flow(ctx, OVS_TABLE_DMAC, PRIO_MATCH, &m,
             ovs_cookie(OVS_COOKIE_PORT, rm->port_id));
}

/* Table 0 flows for the tunnels a network's frames may arrive on: from
 * every VTEP of its remote MACs and of its flood list. */
static void
tunnel_classify_flows(struct flows_ctx *ctx, const struct nvo_net_view *net)
{
    struct sset vteps = SSET_INITIALIZER(&vteps);
    for (size_t i = 0; i < net->n_remotes; i++) {
        sset_add(&vteps, net->remotes[i].vtep_ip);
    }
    for (size_t i = 0; i < net->n_flood; i++) {
        sset_add(&vteps, net->flood[i]);
    }
    if (net->service_node_ip) {
        sset_add(&vteps, net->service_node_ip);
    }

    const char *ip;
    SSET_FOR_EACH (ip, &vteps) {
        uint32_t ofport;
        if (!tunnel_lookup(ctx, net, ip, &ofport)) {
            continue;
        }
        struct match m;
        match_init_catchall(&m);
        match_set_in_port(&m, u16_to_ofp(ofport));
        match_set_tun_id(&m, htonll(net->vni));
        uint32_t one = htonl(1);
        put_set_field(ctx, MFF_REG0, &one);
        put_metadata_goto(ctx, net->vni, OVS_TABLE_DMAC);
        put_flow(ctx, OVS_TABLE_CLASSIFY, PRIO_MATCH, &m,
                 tunnel_cookie(ip));
    }
    sset_destroy(&vteps);
}

/* Table 2 flows of a network; 'ofports' are its local ports' ofports. */
static void
bum_flows(struct flows_ctx *ctx, const struct nvo_net_view *net,
          const uint32_t *ofports, size_t n_ofports)
{
    uint64_t cookie = ovs_cookie(OVS_COOKIE_NETWORK, net->vni);
    struct match m;

    /* From a local VM: local ports, then one copy per flood VTEP. */
    for (size_t i = 0; i < n_ofports; i++) {
        put_output(ctx, ofports[i]);
    }
    bool tun_id_set = false;
    for (size_t i = 0; i < net->n_flood; i++) {
        uint32_t ofport;
        if (!tunnel_lookup(ctx, net, net->flood[i], &ofport)) {
            continue;
        }
        if (!tun_id_set) {
            put_set_tun_id(ctx, net->vni);
            tun_id_set = true;
        }
        put_output(ctx, ofport);
    }
    match_init_catchall(&m);
    match_set_reg(&m, 0, 0);
    match_set_metadata(&m, htonll(net->vni));
    put_flow(ctx, OVS_TABLE_BUM, PRIO_MATCH, &m, cookie);

    /* From a tunnel: local ports only, so nothing loops. */
    for (size_t i = 0; i < n_ofports; i++) {
        put_output(ctx, ofports[i]);
    }
    match_init_catchall(&m);
    match_set_reg(&m, 0, 1);
    match_set_metadata(&m, htonll(net->vni));
    put_flow(ctx, OVS_TABLE_BUM, PRIO_MATCH, &m, cookie);
}

static void
pipeline_flows(struct flows_ctx *ctx)
{
    uint64_t cookie = ovs_cookie(OVS_COOKIE_PIPELINE, 0);
    struct match m;

    match_init_catchall(&m);
    put_flow(ctx, OVS_TABLE_CLASSIFY, PRIO_DEFAULT, &m, cookie);

    /* Unicast from a tunnel to a MAC that is not local: drop, never
     * flood it. */
    match_init_catchall(&m);
    match_set_reg(&m, 0, 1);
    static const struct eth_addr group_bit = ETH_ADDR_C(01,00,00,00,00,00);
    match_set_dl_dst_masked(&m, eth_addr_zero, group_bit);
    put_flow(ctx, OVS_TABLE_DMAC, PRIO_GUARD, &m, cookie);

    match_init_catchall(&m);
    ofpact_put_GOTO_TABLE(&ctx->ofpacts)->table_id = OVS_TABLE_BUM;
    put_flow(ctx, OVS_TABLE_DMAC, PRIO_DEFAULT, &m, cookie);

    match_init_catchall(&m);
    put_flow(ctx, OVS_TABLE_BUM, PRIO_DEFAULT, &m, cookie);
}

bool
ovs_flows_compute(const struct ovs_flows_input *in, struct ovs_flowset *out,
                  struct sset *missing)
{
    struct flows_ctx ctx = {
        .in = in,
        .out = out,
        .missing = missing,
        .complete = true,
    };
    ofpbuf_init(&ctx.ofpacts, 256);
    ctx.sink = (struct ovs_flowgen_sink) { .put = sink_put, .aux = &ctx };
    ovs_flowset_clear(out);

    pipeline_flows(&ctx);
    const struct nvo_hv_view *v = in->view;
    for (size_t i = 0; i < v->n_nets; i++) {
        const struct nvo_net_view *net = v->nets[i];
        uint32_t *ofports = xmalloc((net->n_locals + 1) * sizeof *ofports);
        size_t n_ofports = 0;

        for (size_t j = 0; j < net->n_locals; j++) {
            const struct nvo_local_port *lp = &net->locals[j];
            uint32_t ofport;
            if (lookup(&ctx, in->iface_ofports, lp->iface, &ofport)) {
                local_port_flows(&ctx, net, lp, ofport);
                ofports[n_ofports++] = ofport;
            }
        }
        for (size_t j = 0; j < net->n_remotes; j++) {
            remote_mac_flow(&ctx, net, &net->remotes[j]);
        }
        tunnel_classify_flows(&ctx, net);
        ovs_flows_arp_responder(net, in->iface_ofports, &ctx.sink);
        if (n_ofports || net->n_flood) {
            bum_flows(&ctx, net, ofports, n_ofports);
        }
        free(ofports);
    }
    ofpbuf_uninit(&ctx.ofpacts);
    return ctx.complete;
}
