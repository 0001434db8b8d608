#include <config.h>
#include "controller/ovs-tunnels.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "controller/desired.h"
#include "hash.h"
#include "openvswitch/shash.h"
#include "util.h"

int
ovs_tunnel_name(const char *key, char name[OVS_TUNNEL_NAME_SIZE])
{
    static const char *const prefixes[] = {
        [NVO_ENCAP_VXLAN] = "nvt",
        [NVO_ENCAP_GENEVE] = "nvg",
        [NVO_ENCAP_GRE] = "nvr",
    };
    enum nvo_encap encap;
    const char *ip;
    struct in_addr a;
    struct in6_addr a6;

    if (!key || nvo_tunnel_key_parse(key, &encap, &ip)
        || encap >= ARRAY_SIZE(prefixes)) {
        return -EINVAL;
    }
    if (inet_pton(AF_INET, ip, &a) == 1) {
        snprintf(name, OVS_TUNNEL_NAME_SIZE, "%s%08x", prefixes[encap],
                 ntohl(a.s_addr));
    } else if (inet_pton(AF_INET6, ip, &a6) == 1) {
        /* 128 bits do not fit in a name: 44 bits of a hash do. */
        uint64_t h = hash_bytes64((const uint64_t *) &a6, sizeof a6, 0);
        snprintf(name, OVS_TUNNEL_NAME_SIZE, "%s6%011"PRIx64, prefixes[encap],
                 h & UINT64_C(0xfffffffffff));
    } else {
        return -EINVAL;
    }
    return 0;
}

static void
want_add(struct shash *out, const char *name, bool tunnel,
         const char *key, int64_t port_id)
{
    if (shash_find(out, name)) {
        return;                 /* First one wins; names are unique. */
    }
    struct ovs_port_want *w = xzalloc(sizeof *w);
    w->name = xstrdup(name);
    w->tunnel = tunnel;
    if (key) {
        enum nvo_encap encap;
        const char *ip;
        nvo_tunnel_key_parse(key, &encap, &ip);
        w->key = xstrdup(key);
        w->remote_ip = xstrdup(ip);
        w->type = nvo_encap_to_string(encap);
    }
    w->port_id = port_id;
    shash_add(out, name, w);
}

void
ovs_ports_want_compute(const struct nvo_hv_view *view, struct shash *out)
{
    for (size_t i = 0; i < view->n_tunnels; i++) {
        char name[OVS_TUNNEL_NAME_SIZE];
        if (!ovs_tunnel_name(view->tunnels[i], name)) {
            want_add(out, name, true, view->tunnels[i], 0);
        }
    }
    for (size_t i = 0; i < view->n_nets; i++) {
        const struct nvo_net_view *net = view->nets[i];
        for (size_t j = 0; j < net->n_locals; j++) {
            want_add(out, net->locals[j].iface, false, NULL,
                     net->locals[j].port_id);
        }
    }
}

void
ovs_ports_want_clear(struct shash *wants)
{
    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, wants) {
        struct ovs_port_want *w = node->data;
        free(w->name);
        free(w->remote_ip);
        free(w->key);
        free(w);
        shash_delete(wants, node);
    }
}
