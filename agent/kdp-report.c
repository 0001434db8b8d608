#include <config.h>
#include "agent/kdp-report.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "agent/kdp.h"
#include "agent/kdp-state.h"
#include "packets.h"
#include "util.h"

/* One interface enslaved to one of our bridges. */
struct brport {
    int ifindex;
    char name[IFNAMSIZ];
    uint32_t vni;               /* Of the bridge it is in. */
    bool neigh_suppress;
};

/* Everything the dumps below collect. */
struct report_dump {
    struct brport *ports;       /* From the AF_BRIDGE link dump. */
    size_t n_ports, allocated_ports;
    int *bridges;               /* Ifindex of our bridge, by net index. */
    Nvo__StateReport *rep;
};

/* The network of 'rep' whose bridge has 'ifindex', or NULL. */
static Nvo__KernelNetwork *
net_of_bridge(const struct report_dump *d, int ifindex)
{
    for (size_t i = 0; ifindex && i < d->rep->n_networks; i++) {
        if (d->bridges[i] == ifindex) {
            return d->rep->networks[i];
        }
    }
    return NULL;
}

static Nvo__KernelNetwork *
net_of_vni(const struct report_dump *d, uint32_t vni)
{
    for (size_t i = 0; i < d->rep->n_networks; i++) {
        if (d->rep->networks[i]->vni == vni) {
            return d->rep->networks[i];
        }
    }
    return NULL;
}

static const struct brport *
port_of(const struct report_dump *d, int ifindex)
{
    for (size_t i = 0; i < d->n_ports; i++) {
        if (d->ports[i].ifindex == ifindex) {
            return &d->ports[i];
        }
    }
    return NULL;
}

/* AF_BRIDGE links: the ports of our bridges and their flags. */
static int
brport_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct report_dump *d = aux;
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *a;
    struct brport p = { .ifindex = ifi->ifi_index };
    int master = 0;

    if (nlh->nlmsg_type != RTM_NEWLINK) {
        return MNL_CB_OK;
    }
    mnl_attr_for_each (a, nlh, sizeof *ifi) {
        switch (mnl_attr_get_type(a)) {
        case IFLA_IFNAME:
            if (!mnl_attr_validate(a, MNL_TYPE_NUL_STRING)) {
                ovs_strzcpy(p.name, mnl_attr_get_str(a), sizeof p.name);
            }
            break;
        case IFLA_MASTER:
            if (!mnl_attr_validate(a, MNL_TYPE_U32)) {
                master = mnl_attr_get_u32(a);
            }
            break;
        case IFLA_PROTINFO: {
            const struct nlattr *b;
            mnl_attr_for_each_nested (b, a) {
                if (mnl_attr_get_type(b) == IFLA_BRPORT_NEIGH_SUPPRESS
                    && !mnl_attr_validate(b, MNL_TYPE_U8)) {
                    p.neigh_suppress = mnl_attr_get_u8(b) != 0;
                }
            }
            break;
        }
        }
    }
    const Nvo__KernelNetwork *net = net_of_bridge(d, master);
    if (!net || master == p.ifindex) {
        return MNL_CB_OK;
    }
    p.vni = net->vni;
    if (d->n_ports >= d->allocated_ports) {
        d->ports = x2nrealloc(d->ports, &d->allocated_ports, sizeof *d->ports);
    }
    d->ports[d->n_ports++] = p;
    return MNL_CB_OK;
}

static void
set_mac(ProtobufCBinaryData *b, const uint8_t *mac)
{
    b->data = xmemdup(mac, 6);
    b->len = 6;
}

#define APPEND(ARRAY, N, ELEM)                                          \
    ((ARRAY) = xrealloc((ARRAY), ((N) + 1) * sizeof *(ARRAY)),          \
     (ARRAY)[(N)++] = (ELEM))

/* AF_BRIDGE neighbours: the bridges' static entries on our ports (what
 * "bridge fdb add MAC dev PORT master static" makes), as kdp-sec.c sees
 * them. */
static int
bridge_fdb_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct report_dump *d = aux;
    struct kdp_neigh n;

    if (!kdp_neigh_parse(nlh, AF_BRIDGE, &n) || !n.static_master) {
        return MNL_CB_OK;
    }
    const struct brport *p = port_of(d, n.ifindex);
    Nvo__KernelNetwork *net = p ? net_of_vni(d, p->vni) : NULL;
    if (!net) {
        return MNL_CB_OK;
    }
    Nvo__KernelFdb *f = xmalloc(sizeof *f);
    nvo__kernel_fdb__init(f);
    set_mac(&f->mac, n.mac);
    f->port = xstrdup(p->name);
    uint32_t vni;
    f->on_vxlan = (!kdp_name_parse(p->name, KDP_VXLAN_PREFIX, &vni)
                   && vni == p->vni);
    APPEND(net->bridge_fdb, net->n_bridge_fdb, f);
    return MNL_CB_OK;
}

/* AF_INET neighbours: the permanent ones on our bridges. */
static int
neighbour_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct report_dump *d = aux;
    struct kdp_neigh n;

    if (!kdp_neigh_parse(nlh, AF_INET, &n) || !n.permanent_ipv4
        || !n.has_mac) {
        return MNL_CB_OK;
    }
    Nvo__KernelNetwork *net = net_of_bridge(d, n.ifindex);
    if (!net) {
        return MNL_CB_OK;
    }
    char s[INET_ADDRSTRLEN];
    Nvo__KernelNeighbour *nb = xmalloc(sizeof *nb);
    nvo__kernel_neighbour__init(nb);
    nb->ip = xstrdup(inet_ntop(AF_INET, &n.ip, s, sizeof s));
    set_mac(&nb->mac, n.mac);
    APPEND(net->neighbours, net->n_neighbours, nb);
    return MNL_CB_OK;
}

static int
compare_bridge_fdb(const void *a_, const void *b_)
{
    const Nvo__KernelFdb *const *a = a_, *const *b = b_;
    int c = strcmp((*a)->port, (*b)->port);
    return c ? c : memcmp((*a)->mac.data, (*b)->mac.data, 6);
}

static int
compare_neighbour(const void *a_, const void *b_)
{
    const Nvo__KernelNeighbour *const *a = a_, *const *b = b_;
    ovs_be32 x = 0, y = 0;
    ip_parse((*a)->ip, &x);
    ip_parse((*b)->ip, &y);
    uint32_t hx = ntohl(x), hy = ntohl(y);
    return hx < hy ? -1 : hx > hy;
}

/* Converts what kdp_dump() found into networks of 'rep'. */
static void
report_devices(const struct kdp_state *actual, Nvo__StateReport *rep)
{
    rep->networks = xcalloc(actual->n_nets + 1, sizeof *rep->networks);
    for (size_t i = 0; i < actual->n_nets; i++) {
        const struct kdp_net *kn = &actual->nets[i];
        Nvo__KernelNetwork *n = xmalloc(sizeof *n);
        nvo__kernel_network__init(n);
        n->vni = kn->vni;
        n->vxlan = kn->has_vxlan || kn->vxlan_stale;
        n->vxlan_right = kn->has_vxlan;
        n->vxlan_up = n->vxlan && kn->vxlan_ok;
        n->mtu = n->vxlan ? kn->mtu : 0;
        n->bridge = kn->has_bridge;
        n->bridge_up = kn->bridge_up;
        n->ports = xcalloc(kn->n_ports + 1, sizeof *n->ports);
        for (size_t j = 0; j < kn->n_ports; j++) {
            n->ports[n->n_ports++] = xstrdup(kn->ports[j]);
        }
        n->fdb = xcalloc(kn->n_fdb + 1, sizeof *n->fdb);
        for (size_t j = 0; j < kn->n_fdb; j++) {
            char s[INET6_ADDRSTRLEN];
            Nvo__KernelFdb *f = xmalloc(sizeof *f);
            nvo__kernel_fdb__init(f);
            set_mac(&f->mac, kn->fdb[j].mac);
            f->dst = xstrdup(kdp_addr_format(&kn->fdb[j].dst, s));
            n->fdb[n->n_fdb++] = f;
        }
        rep->networks[rep->n_networks++] = n;
    }
}

int
kdp_report_fill(struct kdp *kdp, const struct in6_addr *local,
                Nvo__StateReport *rep)
{
    struct kdp_state actual;
    int error = kdp_dump(kdp, local, &actual);
    if (!error) {
        report_devices(&actual, rep);
    }
    kdp_state_destroy(&actual);
    if (error) {
        return error;
    }

    struct report_dump d = { .rep = rep };
    d.bridges = xcalloc(rep->n_networks + 1, sizeof *d.bridges);
    for (size_t i = 0; i < rep->n_networks; i++) {
        char name[KDP_IFNAMSIZ];
        kdp_bridge_name(rep->networks[i]->vni, name);
        d.bridges[i] = rep->networks[i]->bridge ? if_nametoindex(name) : 0;
    }
    error = kdp_dump_all(kdp, RTM_GETLINK, AF_BRIDGE, brport_cb, &d);
    if (!error) {
        error = kdp_dump_all(kdp, RTM_GETNEIGH, AF_BRIDGE, bridge_fdb_cb, &d);
    }
    if (!error) {
        error = kdp_dump_all(kdp, RTM_GETNEIGH, AF_INET, neighbour_cb, &d);
    }
    for (size_t i = 0; i < d.n_ports; i++) {
        uint32_t vni;
        Nvo__KernelNetwork *net = net_of_vni(&d, d.ports[i].vni);
        if (!kdp_name_parse(d.ports[i].name, KDP_VXLAN_PREFIX, &vni)
            && vni == net->vni) {
            net->neigh_suppress = d.ports[i].neigh_suppress;
        }
    }
    for (size_t i = 0; i < rep->n_networks; i++) {
        Nvo__KernelNetwork *n = rep->networks[i];
        if (n->n_bridge_fdb) {
            qsort(n->bridge_fdb, n->n_bridge_fdb, sizeof *n->bridge_fdb,
                  compare_bridge_fdb);
        }
        if (n->n_neighbours) {
            qsort(n->neighbours, n->n_neighbours, sizeof *n->neighbours,
                  compare_neighbour);
        }
    }
    free(d.ports);
    free(d.bridges);
    return error;
}
