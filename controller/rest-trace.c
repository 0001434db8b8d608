/* rest-trace.c - where a frame from a VM goes, according to the desired
 * state (nvoctl trace): GET /v1/trace?from=VM|PORT-ID&to=MAC|IP
 * [&src_mac=MAC].
 *
 * Walks the pipeline the southbounds program (doc/ovs-pipeline.md for OVS;
 * VXLAN device, bridge and FDB for kernel hypervisors) over the model and
 * the views the core last pushed, so it shows what the hypervisors are
 * told to do:
 *   source hypervisor, classification (spoofed source MAC: dropped), the
 *   DMAC lookup (local port, or tunnel to the remote VTEP), the remote
 *   hypervisor's lookup and the destination port; a broadcast or an
 *   unknown destination goes through BUM handling (local ports plus
 *   head-end copies or the service node) and is dropped by every receiver
 *   with no such MAC; an address of another tenant never leaves the
 *   source's network.
 * 200 {"from","to","verdict":"delivered"|"flooded"|"dropped","reason",
 *      "hops":[{"hypervisor","dataplane","table"?,"stage","match",
 *               "action"}],"delivered_to":[...]}
 * 400 bad query, 404 no such VM. */
#include <config.h>
#include "controller/rest-private.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctl.h"
#include "controller/desired.h"
#include "controller/model.h"
#include "controller/ovs-tunnels.h"
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "util.h"

/* A query parameter of the request, copied into its pool, or NULL. */
static const char *
query_get(struct rest_call *c, const char *key)
{
    h2o_req_t *req = c->req;
    if (req->query_at == SIZE_MAX) {
        return NULL;
    }
    const char *q = req->path.base + req->query_at + 1;
    size_t qlen = req->path.len - req->query_at - 1;
    size_t klen = strlen(key);
    while (qlen) {
        size_t len = 0;
        while (len < qlen && q[len] != '&') {
            len++;
        }
        if (len > klen && !memcmp(q, key, klen) && q[klen] == '=') {
            size_t vlen = len - klen - 1;
            char *v = h2o_mem_alloc_pool(&req->pool, vlen + 1);
            /* Values are names, MACs and addresses: percent-decode ':'. */
            size_t o = 0;
            for (size_t i = 0; i < vlen; i++) {
                const char *p = q + klen + 1 + i;
                if (*p == '%' && i + 2 < vlen
                    && strchr("0123456789abcdefABCDEF", p[1])
                    && strchr("0123456789abcdefABCDEF", p[2])) {
                    char hex[3] = { p[1], p[2], 0 };
                    v[o++] = (char) strtol(hex, NULL, 16);
                    i += 2;
                } else {
                    v[o++] = *p;
                }
            }
            v[o] = '\0';
            return v;
        }
        q += len;
        qlen -= len;
        if (qlen) {
            q++;
            qlen--;
        }
    }
    return NULL;
}

struct trace {
    struct rest_call *c;
    const struct nvo_model *m;
    json_t *hops;
    json_t *delivered;
};

static void OVS_PRINTF_FORMAT(6, 7)
hop(struct trace *t, const struct nvo_hypervisor *hv, int table,
    const char *stage, const char *match, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *action = xvasprintf(fmt, args);
    va_end(args);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s}",
                          "hypervisor", hv ? hv->name : "underlay",
                          "dataplane", hv ? nvo_dataplane_to_string(
                              hv->dataplane) : "ip",
                          "stage", stage, "match", match, "action", action);
    if (table >= 0) {
        json_object_set_new(o, "table", json_pack("i", table));
    }
    json_array_append_new(t->hops, o);
    free(action);
}

/* 'hv''s view of network 'net_id', or NULL. */
static const struct nvo_net_view *
net_view(struct trace *t, const struct nvo_hypervisor *hv, int64_t net_id)
{
    const struct nvo_hv_view *v = nvo_ctl_hv_view(t->c->ctl, hv->id);
    for (size_t i = 0; v && i < v->n_nets; i++) {
        if (v->nets[i]->net_id == net_id) {
            return v->nets[i];
        }
    }
    return NULL;
}

static void
delivered(struct trace *t, const struct nvo_port *p)
{
    json_array_append_new(t->delivered, json_pack(
                              "{s:s,s:s,s:s,s:I}", "vm", p->vm,
                              "hypervisor", p->hypervisor->name,
                              "iface", p->iface,
                              "port_id", (json_int_t) p->id));
}

/* Classification on the source hypervisor. */
static void
trace_ingress(struct trace *t, const struct nvo_port *src, const char *mac)
{
    const struct nvo_hypervisor *hv = src->hypervisor;
    uint32_t vni = src->network->vni;
    char *match = xasprintf("in_port=%s,dl_src=%s", src->iface, mac);
    if (hv->dataplane == NVO_DP_OVS) {
        hop(t, hv, 0, "classify", match, "write_metadata:0x%"PRIx32
            " (VNI %"PRIu32", network %s), goto_table:1", vni, vni,
            src->network->name);
    } else {
        hop(t, hv, -1, "bridge port", match, "enters bridge %s%"PRIu32
            " (VNI %"PRIu32", network %s)", "nvb", vni, vni,
            src->network->name);
    }
    free(match);
}

/* Delivery of unicast 'dmac' to 'dst' arriving on 'hv' from a tunnel
 * (from_ip != NULL) or locally. */
static void
trace_local_out(struct trace *t, const struct nvo_hypervisor *hv,
                const struct nvo_port *dst, const char *dmac, bool tunnel)
{
    uint32_t vni = dst->network->vni;
    char *match = xasprintf("metadata=0x%"PRIx32",dl_dst=%s", vni, dmac);
    if (hv->dataplane == NVO_DP_OVS) {
        hop(t, hv, 1, "DMAC", match, "output:%s (VM %s)", dst->iface,
            dst->vm);
    } else {
        free(match);
        match = xasprintf("fdb %s", dmac);
        hop(t, hv, -1, tunnel ? "bridge (from VXLAN)" : "bridge", match,
            "to port %s (VM %s)", dst->iface, dst->vm);
    }
    free(match);
    delivered(t, dst);
}

/* The field an OVS flow matches a tunnel's source address 'ip' with, or
 * sets its destination in ("tun_src" or "tun_ipv6_src"; "tun_dst" or
 * "tun_ipv6_dst"). */
static const char *
tun_field(const char *ip, bool dst)
{
    bool v6 = strchr(ip, ':') != NULL;
    return dst ? (v6 ? "tun_ipv6_dst" : "tun_dst")
               : (v6 ? "tun_ipv6_src" : "tun_src");
}

/* A frame of 'net' tunnelled from 'from' to the hypervisor at 'ip'. */
static const struct nvo_hypervisor *
trace_tunnel(struct trace *t, const struct nvo_hypervisor *from,
             const char *ip, const struct nvo_network *net)
{
    const struct nvo_hypervisor *to = nvo_model_hv_by_tunnel_ip(t->m, ip);
    char *match = xasprintf("%s VNI %"PRIu32" %s -> %s",
                            net->encap == NVO_ENCAP_VXLAN ? "VXLAN"
                            : net->encap == NVO_ENCAP_GENEVE ? "Geneve"
                            : "GRE", net->vni, from->tunnel_ip, ip);
    hop(t, NULL, -1, "underlay", match, "to %s", to ? to->name : ip);
    free(match);
    if (!to) {
        return NULL;
    }
    if (to->dataplane == NVO_DP_OVS) {
        match = xasprintf("in_port=%s,%s=%s,tun_id=0x%"PRIx32,
                          ovs_tunnel_port_name(net->encap),
                          tun_field(from->tunnel_ip, false), from->tunnel_ip,
                          net->vni);
        hop(t, to, 0, "classify", match, "set_field:1->reg0 (from a tunnel), "
            "write_metadata:0x%"PRIx32", goto_table:1", net->vni);
    } else {
        match = xasprintf("dev nvx%"PRIu32, net->vni);
        hop(t, to, -1, "VXLAN device", match, "into bridge nvb%"PRIu32,
            net->vni);
    }
    free(match);
    return to;
}

/* Where 'dmac' goes on hypervisor 'hv' for a frame from a tunnel. */
static void
trace_remote_lookup(struct trace *t, const struct nvo_hypervisor *hv,
                    const struct nvo_network *net, const struct eth_addr *dmac,
                    bool bum)
{
    char mac[ETH_ADDR_STRLEN + 1];
    snprintf(mac, sizeof mac, ETH_ADDR_FMT, ETH_ADDR_ARGS(*dmac));
    const struct nvo_port *p;
    if (bum) {
        struct ds ports = DS_EMPTY_INITIALIZER;
        LIST_FOR_EACH (p, hv_node, &hv->ports) {
            if (p->network == net) {
                ds_put_format(&ports, "%s%s", ports.length ? "," : "",
                              p->iface);
                delivered(t, p);
            }
        }
        char *match = hv->dataplane == NVO_DP_OVS
                      ? xasprintf("reg0=1,metadata=0x%"PRIx32, net->vni)
                      : xasprintf("from nvx%"PRIu32, net->vni);
        hop(t, hv, hv->dataplane == NVO_DP_OVS ? 2 : -1, "BUM", match,
            "output:%s (local ports only)",
            ports.length ? ds_cstr(&ports) : "none");
        free(match);
        ds_destroy(&ports);
        return;
    }
    LIST_FOR_EACH (p, hv_node, &hv->ports) {
        if (p->network == net && eth_addr_equals(p->mac, *dmac)) {
            trace_local_out(t, hv, p, mac, true);
            return;
        }
    }
    char *match = hv->dataplane == NVO_DP_OVS
                  ? xasprintf("reg0=1,dl_dst=%s", mac)
                  : xasprintf("fdb %s", mac);
    hop(t, hv, hv->dataplane == NVO_DP_OVS ? 1 : -1,
        hv->dataplane == NVO_DP_OVS ? "DMAC" : "bridge", match,
        "drop: from a tunnel and not for a VM here");
    free(match);
}

/* BUM handling on the source hypervisor: local ports, then head-end copies
 * or the service node, each receiver's lookup. */
static void
trace_flood(struct trace *t, const struct nvo_port *src,
            const struct eth_addr *dmac, bool bum)
{
    const struct nvo_hypervisor *hv = src->hypervisor;
    const struct nvo_network *net = src->network;
    const struct nvo_net_view *nv = net_view(t, hv, net->id);
    struct ds ports = DS_EMPTY_INITIALIZER, vteps = DS_EMPTY_INITIALIZER;
    const struct nvo_port *p;
    LIST_FOR_EACH (p, hv_node, &hv->ports) {
        if (p->network == net && p != src) {
            ds_put_format(&ports, "%s%s", ports.length ? "," : "", p->iface);
            if (bum) {
                delivered(t, p);
            }
        }
    }
    for (size_t i = 0; nv && i < nv->n_flood; i++) {
        const struct nvo_hypervisor *to = nvo_model_hv_by_tunnel_ip(t->m, nv->flood[i]);
        ds_put_format(&vteps, "%s%s (%s)", vteps.length ? ", " : "",
                      to ? to->name : "?", nv->flood[i]);
    }
    if (vteps.length && hv->dataplane == NVO_DP_OVS) {
        ds_put_format(&vteps, ", each set_field:VTEP->tun_dst, output:%s",
                      ovs_tunnel_port_name(net->encap));
    }
    char *match = xasprintf("reg0=0,metadata=0x%"PRIx32, net->vni);
    hop(t, hv, hv->dataplane == NVO_DP_OVS ? 2 : -1, "BUM", match,
        "output:%s; copies to %s%s",
        ports.length ? ds_cstr(&ports) : "no other local port",
        vteps.length ? ds_cstr(&vteps) : "no other hypervisor",
        nv && nv->service_node_ip ? " (service node)" : " (head-end)");
    free(match);
    ds_destroy(&ports);
    ds_destroy(&vteps);

    for (size_t i = 0; nv && i < nv->n_flood; i++) {
        const struct nvo_hypervisor *to = trace_tunnel(t, hv, nv->flood[i],
                                                       net);
        if (!to) {
            continue;
        }
        if (to->role == NVO_ROLE_SERVICE_NODE) {
            const struct nvo_net_view *sv = net_view(t, to, net->id);
            struct ds r = DS_EMPTY_INITIALIZER;
            for (size_t k = 0; sv && k < sv->n_flood; k++) {
                if (strcmp(sv->flood[k], hv->tunnel_ip)) {
                    const struct nvo_hypervisor *x = nvo_model_hv_by_tunnel_ip(t->m,
                                                              sv->flood[k]);
                    ds_put_format(&r, "%s%s", r.length ? ", " : "",
                                  x ? x->name : sv->flood[k]);
                }
            }
            hop(t, to, -1, "replicate", "VNI from a hypervisor",
                "one copy to each other VTEP: %s",
                r.length ? ds_cstr(&r) : "none");
            ds_destroy(&r);
            for (size_t k = 0; sv && k < sv->n_flood; k++) {
                if (!strcmp(sv->flood[k], hv->tunnel_ip)) {
                    continue;
                }
                const struct nvo_hypervisor *x = trace_tunnel(
                    t, to, sv->flood[k], net);
                if (x) {
                    trace_remote_lookup(t, x, net, dmac, bum);
                }
            }
            continue;
        }
        trace_remote_lookup(t, to, net, dmac, bum);
    }
}

/* The port named by 'from' (an id or a VM with one port), or answers. */
static const struct nvo_port *
find_source(struct rest_call *c, const char *from)
{
    const struct nvo_model *m = c->ctl->model;
    char *end;
    long long id = strtoll(from, &end, 10);
    if (*from && !*end) {
        const struct nvo_port *p = nvo_model_port_by_id(m, id);
        if (!p) {
            rest_reply_error(c, 404, "not_found", "no port %lld", id);
        }
        return p;
    }
    const struct nvo_port *found = NULL, *p;
    size_t n = 0;
    HMAP_FOR_EACH (p, id_node, &m->ports_by_id) {
        if (!strcmp(p->vm, from)) {
            found = p;
            n++;
        }
    }
    if (!n) {
        rest_reply_error(c, 404, "not_found", "no VM named %s", from);
        return NULL;
    } else if (n > 1) {
        rest_reply_error(c, 400, "ambiguous", "VM %s has %zu ports: give "
                         "from=PORT-ID", from, n);
        return NULL;
    }
    return found;
}

/* A port of a network other than 'net' with 'mac' or 'ip'. */
static const struct nvo_port *
other_tenant(const struct nvo_model *m, const struct nvo_network *net,
             const struct eth_addr *mac, const char *ip)
{
    const struct nvo_port *p;
    HMAP_FOR_EACH (p, id_node, &m->ports_by_id) {
        if (p->network != net
            && (mac ? eth_addr_equals(p->mac, *mac)
                    : p->ip && !strcmp(p->ip, ip))) {
            return p;
        }
    }
    return NULL;
}

void
rest_trace(struct rest_call *c)
{
    const struct nvo_model *m = c->ctl->model;
    const char *from = query_get(c, "from");
    const char *to = query_get(c, "to");
    const char *src_mac_s = query_get(c, "src_mac");
    if (!from || !to || !*from || !*to) {
        rest_reply_error(c, 400, "invalid", "give from=VM|PORT-ID and "
                         "to=MAC|IP");
        return;
    }
    const struct nvo_port *src = find_source(c, from);
    if (!src) {
        return;
    }
    const struct nvo_network *net = src->network;
    struct eth_addr dmac, smac = src->mac;
    const struct nvo_port *dst = NULL, *p;
    const char *reason = NULL;
    char *reason_buf = NULL;
    bool is_mac = eth_addr_from_string(to, &dmac);
    if (src_mac_s && !eth_addr_from_string(src_mac_s, &smac)) {
        rest_reply_error(c, 400, "invalid", "src_mac: %s is not a MAC",
                         src_mac_s);
        return;
    }
    if (!is_mac) {
        struct in6_addr a;
        if (!ipv6_parse(to, &a) && !ip_parse(to, &(ovs_be32){ 0 })) {
            rest_reply_error(c, 400, "invalid", "to: %s is neither a MAC "
                             "nor an IP address", to);
            return;
        }
        LIST_FOR_EACH (p, net_node, &net->ports) {
            if (p->ip && !strcmp(p->ip, to)) {
                dst = p;
                dmac = p->mac;
            }
        }
    } else {
        LIST_FOR_EACH (p, net_node, &net->ports) {
            if (eth_addr_equals(p->mac, dmac)) {
                dst = p;
            }
        }
    }

    struct trace t = { .c = c, .m = m, .hops = json_pack("[]"),
                       .delivered = json_pack("[]") };
    char smac_str[ETH_ADDR_STRLEN + 1];
    snprintf(smac_str, sizeof smac_str, ETH_ADDR_FMT, ETH_ADDR_ARGS(smac));
    const char *verdict;

    if (!eth_addr_equals(smac, src->mac)) {
        char *match = xasprintf("in_port=%s", src->iface);
        hop(&t, src->hypervisor,
            src->hypervisor->dataplane == NVO_DP_OVS ? 0 : -1,
            "classify", match, "drop: source MAC %s is not VM %s's own",
            smac_str, src->vm);
        free(match);
        verdict = "dropped";
        reason = "spoofed source MAC";
    } else if (!is_mac && !dst) {
        const struct nvo_port *o = other_tenant(m, net, NULL, to);
        trace_ingress(&t, src, smac_str);
        eth_addr_from_string("ff:ff:ff:ff:ff:ff", &dmac);
        hop(&t, src->hypervisor, -1, "ARP", to,
            "who-has %s: broadcast in network %s", to, net->name);
        trace_flood(&t, src, &dmac, true);
        json_decref(t.delivered);
        t.delivered = json_pack("[]");
        verdict = "dropped";
        reason = reason_buf = o
            ? xasprintf("%s is VM %s's address in network %s, another "
                        "tenant: nobody in %s answers the ARP request", to,
                        o->vm, o->network->name, net->name)
            : xasprintf("no VM in network %s has address %s: the ARP "
                        "request goes unanswered", net->name, to);
    } else if (eth_addr_is_multicast(dmac)) {
        trace_ingress(&t, src, smac_str);
        char *match = xasprintf("dl_dst=%s", to);
        hop(&t, src->hypervisor,
            src->hypervisor->dataplane == NVO_DP_OVS ? 1 : -1, "DMAC", match,
            "broadcast/multicast: goto_table:2");
        free(match);
        trace_flood(&t, src, &dmac, true);
        verdict = "flooded";
    } else if (!dst) {
        const struct nvo_port *o = other_tenant(m, net, &dmac, NULL);
        trace_ingress(&t, src, smac_str);
        char mac[ETH_ADDR_STRLEN + 1];
        snprintf(mac, sizeof mac, ETH_ADDR_FMT, ETH_ADDR_ARGS(dmac));
        char *match = xasprintf("dl_dst=%s", mac);
        hop(&t, src->hypervisor,
            src->hypervisor->dataplane == NVO_DP_OVS ? 1 : -1, "DMAC", match,
            "no VM of network %s has it: goto_table:2 (flood)", net->name);
        free(match);
        trace_flood(&t, src, &dmac, false);
        verdict = "dropped";
        reason = reason_buf = o
            ? xasprintf("%s is VM %s's MAC in network %s, another tenant: "
                        "never delivered from %s", mac, o->vm,
                        o->network->name, net->name)
            : xasprintf("unknown MAC %s in network %s: flooded, dropped by "
                        "every receiver", mac, net->name);
    } else if (dst == src) {
        trace_ingress(&t, src, smac_str);
        verdict = "dropped";
        reason = "the destination is the source itself (OpenFlow never "
                 "outputs to the ingress port)";
    } else {
        trace_ingress(&t, src, smac_str);
        char mac[ETH_ADDR_STRLEN + 1];
        snprintf(mac, sizeof mac, ETH_ADDR_FMT, ETH_ADDR_ARGS(dmac));
        const struct nvo_hypervisor *hv = src->hypervisor;
        if (dst->hypervisor == hv) {
            trace_local_out(&t, hv, dst, mac, false);
            verdict = "delivered";
        } else {
            /* The source's view says which VTEP has the MAC. */
            const struct nvo_net_view *nv = net_view(&t, hv, net->id);
            const char *vtep = NULL;
            for (size_t i = 0; nv && i < nv->n_remotes; i++) {
                if (eth_addr_equals(nv->remotes[i].mac, dmac)) {
                    vtep = nv->remotes[i].vtep_ip;
                }
            }
            if (!vtep) {
                hop(&t, hv, -1, "DMAC", mac, "not programmed yet (the "
                    "hypervisor's view predates the port)");
                verdict = "dropped";
                reason = "not programmed yet";
            } else {
                const struct nvo_hypervisor *rhv = nvo_model_hv_by_tunnel_ip(m, vtep);
                char *match;
                if (hv->dataplane == NVO_DP_OVS) {
                    match = xasprintf("reg0=0,metadata=0x%"PRIx32",dl_dst=%s",
                                      net->vni, mac);
                    hop(&t, hv, 1, "DMAC", match, "set_field:0x%"PRIx32
                        "->tun_id, set_field:%s->%s, output:%s (tunnel to "
                        "%s)", net->vni, vtep, tun_field(vtep, true),
                        ovs_tunnel_port_name(net->encap),
                        rhv ? rhv->name : vtep);
                } else {
                    match = xasprintf("fdb %s dev nvx%"PRIu32, mac, net->vni);
                    hop(&t, hv, -1, "bridge", match, "VXLAN to %s (%s)",
                        vtep, rhv ? rhv->name : "?");
                }
                free(match);
                rhv = trace_tunnel(&t, hv, vtep, net);
                if (rhv) {
                    trace_remote_lookup(&t, rhv, net, &dmac, false);
                }
                verdict = json_array_size(t.delivered) ? "delivered"
                                                        : "dropped";
            }
        }
    }

    json_t *o = json_pack("{s:{s:s,s:I,s:s,s:I,s:s,s:s,s:s,s:s},s:s,s:s,"
                          "s:o,s:o}",
                          "from", "vm", src->vm,
                          "port_id", (json_int_t) src->id,
                          "network", net->name,
                          "vni", (json_int_t) net->vni,
                          "hypervisor", src->hypervisor->name,
                          "dataplane", nvo_dataplane_to_string(
                              src->hypervisor->dataplane),
                          "iface", src->iface,
                          "src_mac", smac_str,
                          "to", to,
                          "verdict", verdict,
                          "hops", t.hops,
                          "delivered_to", t.delivered);
    if (dst) {
        json_object_set_new(o, "destination", json_pack(
                                "{s:s,s:I,s:s}", "vm", dst->vm,
                                "port_id", (json_int_t) dst->id,
                                "hypervisor", dst->hypervisor->name));
    }
    if (reason) {
        json_object_set_new(o, "reason", json_pack("s", reason));
    }
    free(reason_buf);
    rest_reply_json(c, 200, o);
}
