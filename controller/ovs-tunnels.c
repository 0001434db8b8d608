#include <config.h>
#include "controller/ovs-tunnels.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "controller/desired.h"
#include "openvswitch/shash.h"
#include "util.h"

int
ovs_tunnel_name(const char *ip, char name[OVS_TUNNEL_NAME_SIZE])
{
    struct in_addr a;
    if (!ip || inet_pton(AF_INET, ip, &a) != 1) {
        return -EINVAL;
    }
    snprintf(name, OVS_TUNNEL_NAME_SIZE, "nvt%08x", ntohl(a.s_addr));
    return 0;
}

static void
want_add(struct shash *out, const char *name, bool tunnel,
         const char *remote_ip, int64_t port_id)
{
    if (shash_find(out, name)) {
        return;                 /* First one wins; names are unique. */
    }
    struct ovs_port_want *w = xzalloc(sizeof *w);
    w->name = xstrdup(name);
    w->tunnel = tunnel;
    w->remote_ip = remote_ip ? xstrdup(remote_ip) : NULL;
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
        free(w);
        shash_delete(wants, node);
    }
}
