#include <config.h>
#include "controller/model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "util.h"

static const char *const bum_names[] = { "head-end", "service-node" };
static const char *const dp_names[] = { "ovs", "kernel" };
static const char *const role_names[] = { "hypervisor", "service-node" };
static const char *const encap_names[] = { "vxlan", "geneve", "gre" };

static int
lookup_name(const char *const *names, size_t n, const char *s, int *out)
{
    for (size_t i = 0; s && i < n; i++) {
        if (!strcmp(names[i], s)) {
            *out = i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *
nvo_bum_mode_to_string(enum nvo_bum_mode m)
{
    return m < ARRAY_SIZE(bum_names) ? bum_names[m] : "?";
}

int
nvo_bum_mode_from_string(const char *s, enum nvo_bum_mode *out)
{
    int v, error = lookup_name(bum_names, ARRAY_SIZE(bum_names), s, &v);
    if (!error) {
        *out = v;
    }
    return error;
}

const char *
nvo_encap_to_string(enum nvo_encap e)
{
    return e < ARRAY_SIZE(encap_names) ? encap_names[e] : "?";
}

int
nvo_encap_from_string(const char *s, enum nvo_encap *out)
{
    int v, error = lookup_name(encap_names, ARRAY_SIZE(encap_names), s, &v);
    if (!error) {
        *out = v;
    }
    return error;
}

const char *
nvo_dataplane_to_string(enum nvo_dataplane d)
{
    return d < ARRAY_SIZE(dp_names) ? dp_names[d] : "?";
}

int
nvo_dataplane_from_string(const char *s, enum nvo_dataplane *out)
{
    int v, error = lookup_name(dp_names, ARRAY_SIZE(dp_names), s, &v);
    if (!error) {
        *out = v;
    }
    return error;
}

const char *
nvo_role_to_string(enum nvo_role r)
{
    return r < ARRAY_SIZE(role_names) ? role_names[r] : "?";
}

int
nvo_role_from_string(const char *s, enum nvo_role *out)
{
    int v, error = lookup_name(role_names, ARRAY_SIZE(role_names), s, &v);
    if (!error) {
        *out = v;
    }
    return error;
}

static uint32_t
hash_id(int64_t id)
{
    return hash_uint64(id);
}

struct nvo_model *
nvo_model_create(void)
{
    struct nvo_model *m = xzalloc(sizeof *m);
    hmap_init(&m->networks_by_id);
    hmap_init(&m->networks_by_name);
    hmap_init(&m->hvs_by_id);
    hmap_init(&m->hvs_by_name);
    hmap_init(&m->ports_by_id);
    hmap_init(&m->ports_by_mac);
    hmap_init(&m->ports_by_iface);
    return m;
}

void
nvo_model_destroy(struct nvo_model *m)
{
    if (!m) {
        return;
    }
    struct nvo_port *p;
    HMAP_FOR_EACH_SAFE (p, id_node, &m->ports_by_id) {
        nvo_model_remove_port(m, p);
    }
    struct nvo_network *net;
    HMAP_FOR_EACH_SAFE (net, id_node, &m->networks_by_id) {
        nvo_model_remove_network(m, net);
    }
    struct nvo_hypervisor *hv;
    HMAP_FOR_EACH_SAFE (hv, id_node, &m->hvs_by_id) {
        nvo_model_remove_hv(m, hv);
    }
    hmap_destroy(&m->networks_by_id);
    hmap_destroy(&m->networks_by_name);
    hmap_destroy(&m->hvs_by_id);
    hmap_destroy(&m->hvs_by_name);
    hmap_destroy(&m->ports_by_id);
    hmap_destroy(&m->ports_by_mac);
    hmap_destroy(&m->ports_by_iface);
    free(m);
}

struct nvo_network *
nvo_model_network_by_id(const struct nvo_model *m, int64_t id)
{
    struct nvo_network *net;
    HMAP_FOR_EACH_WITH_HASH (net, id_node, hash_id(id), &m->networks_by_id) {
        if (net->id == id) {
            return net;
        }
    }
    return NULL;
}

struct nvo_network *
nvo_model_network_by_name(const struct nvo_model *m, const char *name)
{
    struct nvo_network *net;
    HMAP_FOR_EACH_WITH_HASH (net, name_node, hash_string(name, 0),
                             &m->networks_by_name) {
        if (!strcmp(net->name, name)) {
            return net;
        }
    }
    return NULL;
}

struct nvo_hypervisor *
nvo_model_hv_by_id(const struct nvo_model *m, int64_t id)
{
    struct nvo_hypervisor *hv;
    HMAP_FOR_EACH_WITH_HASH (hv, id_node, hash_id(id), &m->hvs_by_id) {
        if (hv->id == id) {
            return hv;
        }
    }
    return NULL;
}

struct nvo_hypervisor *
nvo_model_hv_by_name(const struct nvo_model *m, const char *name)
{
    struct nvo_hypervisor *hv;
    HMAP_FOR_EACH_WITH_HASH (hv, name_node, hash_string(name, 0),
                             &m->hvs_by_name) {
        if (!strcmp(hv->name, name)) {
            return hv;
        }
    }
    return NULL;
}

struct nvo_hypervisor *
nvo_model_hv_by_tunnel_ip(const struct nvo_model *m, const char *ip)
{
    struct nvo_hypervisor *hv;
    HMAP_FOR_EACH (hv, id_node, &m->hvs_by_id) {
        if (!strcmp(hv->tunnel_ip, ip)) {
            return hv;
        }
    }
    return NULL;
}

struct nvo_port *
nvo_model_port_by_id(const struct nvo_model *m, int64_t id)
{
    struct nvo_port *p;
    HMAP_FOR_EACH_WITH_HASH (p, id_node, hash_id(id), &m->ports_by_id) {
        if (p->id == id) {
            return p;
        }
    }
    return NULL;
}

static uint32_t
model_hash_mac(int64_t net_id, struct eth_addr mac)
{
    return hash_uint64_basis(eth_addr_to_uint64(mac), hash_id(net_id));
}

static uint32_t
model_hash_iface(int64_t hv_id, const char *iface)
{
    return hash_string(iface, hash_id(hv_id));
}

struct nvo_port *
nvo_model_port_by_mac(const struct nvo_model *m,
                      const struct nvo_network *net, struct eth_addr mac)
{
    struct nvo_port *p;
    HMAP_FOR_EACH_WITH_HASH (p, mac_node, model_hash_mac(net->id, mac),
                             &m->ports_by_mac) {
        if (p->network == net && eth_addr_equals(p->mac, mac)) {
            return p;
        }
    }
    return NULL;
}

struct nvo_port *
nvo_model_port_by_iface(const struct nvo_model *m,
                        const struct nvo_hypervisor *hv, const char *iface)
{
    struct nvo_port *p;
    HMAP_FOR_EACH_WITH_HASH (p, iface_node, model_hash_iface(hv->id, iface),
                             &m->ports_by_iface) {
        if (p->hypervisor == hv && !strcmp(p->iface, iface)) {
            return p;
        }
    }
    return NULL;
}

struct nvo_network *
nvo_model_add_network(struct nvo_model *m, int64_t id, const char *name,
                      uint32_t vni, enum nvo_bum_mode bum, int64_t revision)
{
    struct nvo_network *net = xzalloc(sizeof *net);
    net->id = id;
    net->name = xstrdup(name);
    net->vni = vni;
    net->bum = bum;
    net->arp_responder = true;
    net->revision = revision;
    net->seqno = ++m->seqno;
    ovs_list_init(&net->ports);
    hmap_init(&net->members);
    hmap_insert(&m->networks_by_id, &net->id_node, hash_id(id));
    hmap_insert(&m->networks_by_name, &net->name_node, hash_string(name, 0));
    return net;
}

struct nvo_hypervisor *
nvo_model_add_hv(struct nvo_model *m, int64_t id, const char *name,
                 const char *tunnel_ip, enum nvo_dataplane dp,
                 enum nvo_role role, const char *ovsdb, int64_t revision)
{
    struct nvo_hypervisor *hv = xzalloc(sizeof *hv);
    hv->id = id;
    hv->name = xstrdup(name);
    hv->tunnel_ip = xstrdup(tunnel_ip);
    hv->dataplane = dp;
    hv->role = role;
    hv->ovsdb = nullable_xstrdup(ovsdb);
    hv->revision = revision;
    hv->seqno = ++m->seqno;
    ovs_list_init(&hv->ports);
    hmap_insert(&m->hvs_by_id, &hv->id_node, hash_id(id));
    hmap_insert(&m->hvs_by_name, &hv->name_node, hash_string(name, 0));
    m->n_service_nodes += role == NVO_ROLE_SERVICE_NODE;
    return hv;
}

static struct nvo_net_member *
member_find(const struct nvo_network *net, const struct nvo_hypervisor *hv)
{
    struct nvo_net_member *mb;
    HMAP_FOR_EACH_WITH_HASH (mb, node, hash_id(hv->id), &net->members) {
        if (mb->hv == hv) {
            return mb;
        }
    }
    return NULL;
}

/* One more port of 'hv' in 'net'. */
static void
member_ref(struct nvo_network *net, struct nvo_hypervisor *hv)
{
    struct nvo_net_member *mb = member_find(net, hv);
    if (!mb) {
        mb = xzalloc(sizeof *mb);
        mb->hv = hv;
        hmap_insert(&net->members, &mb->node, hash_id(hv->id));
    }
    mb->n_ports++;
}

/* One port of 'hv' fewer in 'net'. */
static void
member_unref(struct nvo_network *net, const struct nvo_hypervisor *hv)
{
    struct nvo_net_member *mb = member_find(net, hv);
    ovs_assert(mb && mb->n_ports);
    if (!--mb->n_ports) {
        hmap_remove(&net->members, &mb->node);
        free(mb);
    }
}

/* 'net' itself changed, in store revision 'revision': it gets the next
 * seqno. */
static void
network_changed(struct nvo_model *m, struct nvo_network *net,
                int64_t revision)
{
    net->revision = revision;
    net->seqno = ++m->seqno;
}

/* 'p' changed: it and its network get the next seqno, and 'p' moves to
 * the tail of its network's ports (see nvo_network.ports). */
static void
port_changed(struct nvo_model *m, struct nvo_port *p)
{
    p->seqno = p->network->seqno = ++m->seqno;
    ovs_list_remove(&p->net_node);
    ovs_list_push_back(&p->network->ports, &p->net_node);
}

struct nvo_port *
nvo_model_add_port(struct nvo_model *m, int64_t id, const char *vm,
                   struct nvo_network *net, struct nvo_hypervisor *hv,
                   struct eth_addr mac, const char *ip, const char *iface,
                   int64_t revision)
{
    struct nvo_port *p = xzalloc(sizeof *p);
    p->id = id;
    p->vm = xstrdup(vm);
    p->network = net;
    p->hypervisor = hv;
    p->mac = mac;
    p->ip = nullable_xstrdup(ip);
    p->iface = xstrdup(iface);
    p->revision = revision;
    p->seqno = net->seqno = ++m->seqno;
    hmap_insert(&m->ports_by_id, &p->id_node, hash_id(id));
    hmap_insert(&m->ports_by_mac, &p->mac_node, model_hash_mac(net->id, mac));
    hmap_insert(&m->ports_by_iface, &p->iface_node,
                model_hash_iface(hv->id, iface));
    ovs_list_push_back(&net->ports, &p->net_node);
    net->n_ports++;
    member_ref(net, hv);
    ovs_list_push_back(&hv->ports, &p->hv_node);
    hv->n_ports++;
    return p;
}

void
nvo_model_move_port(struct nvo_model *m, struct nvo_port *p,
                    struct nvo_hypervisor *hv, const char *iface,
                    int64_t revision)
{
    hmap_remove(&m->ports_by_iface, &p->iface_node);
    ovs_list_remove(&p->hv_node);
    p->hypervisor->n_ports--;
    member_unref(p->network, p->hypervisor);
    member_ref(p->network, hv);
    p->hypervisor = hv;
    ovs_list_push_back(&hv->ports, &p->hv_node);
    hv->n_ports++;
    if (iface && strcmp(iface, p->iface)) {
        free(p->iface);
        p->iface = xstrdup(iface);
    }
    hmap_insert(&m->ports_by_iface, &p->iface_node,
                model_hash_iface(hv->id, p->iface));
    p->revision = revision;
    port_changed(m, p);
}

void
nvo_model_set_bum(struct nvo_model *m, struct nvo_network *net,
                  enum nvo_bum_mode bum, int64_t revision)
{
    net->bum = bum;
    network_changed(m, net, revision);
}

void
nvo_model_remove_network(struct nvo_model *m, struct nvo_network *net)
{
    ovs_assert(ovs_list_is_empty(&net->ports));
    hmap_destroy(&net->members);
    hmap_remove(&m->networks_by_id, &net->id_node);
    hmap_remove(&m->networks_by_name, &net->name_node);
    free(net->name);
    free(net);
}

void
nvo_model_remove_hv(struct nvo_model *m, struct nvo_hypervisor *hv)
{
    ovs_assert(ovs_list_is_empty(&hv->ports));
    hmap_remove(&m->hvs_by_id, &hv->id_node);
    hmap_remove(&m->hvs_by_name, &hv->name_node);
    m->n_service_nodes -= hv->role == NVO_ROLE_SERVICE_NODE;
    free(hv->name);
    free(hv->tunnel_ip);
    free(hv->ovsdb);
    free(hv);
}

void
nvo_model_remove_port(struct nvo_model *m, struct nvo_port *p)
{
    hmap_remove(&m->ports_by_id, &p->id_node);
    hmap_remove(&m->ports_by_mac, &p->mac_node);
    hmap_remove(&m->ports_by_iface, &p->iface_node);
    ovs_list_remove(&p->net_node);
    p->network->n_ports--;
    p->network->seqno = ++m->seqno;
    member_unref(p->network, p->hypervisor);
    ovs_list_remove(&p->hv_node);
    p->hypervisor->n_ports--;
    free(p->vm);
    free(p->ip);
    for (size_t i = 0; i < p->n_allowed; i++) {
        free(p->allowed[i]);
    }
    free(p->allowed);
    free(p->iface);
    free(p);
}

void
nvo_model_set_port_allowed(struct nvo_model *m, struct nvo_port *p,
                           char *const *allowed, size_t n)
{
    for (size_t i = 0; i < p->n_allowed; i++) {
        free(p->allowed[i]);
    }
    free(p->allowed);
    p->allowed = n ? xmalloc(n * sizeof *p->allowed) : NULL;
    for (size_t i = 0; i < n; i++) {
        p->allowed[i] = xstrdup(allowed[i]);
    }
    p->n_allowed = n;
    port_changed(m, p);
}

void
nvo_model_set_port_allowed_str(struct nvo_model *m, struct nvo_port *p,
                               const char *allowed)
{
    char *copy = xstrdup(allowed ? allowed : "");
    char **v = xmalloc((strlen(copy) / 2 + 2) * sizeof *v);
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, " ", &save); t;
         t = strtok_r(NULL, " ", &save)) {
        v[n++] = t;
    }
    nvo_model_set_port_allowed(m, p, v, n);
    free(v);
    free(copy);
}

void
nvo_model_set_mtu(struct nvo_model *m, struct nvo_network *net, int mtu,
                  int64_t revision)
{
    net->mtu = mtu;
    network_changed(m, net, revision);
}

void
nvo_model_set_encap(struct nvo_model *m, struct nvo_network *net,
                    enum nvo_encap encap, int64_t revision)
{
    net->encap = encap;
    network_changed(m, net, revision);
}

void
nvo_model_set_arp_responder(struct nvo_model *m, struct nvo_network *net,
                            bool on, int64_t revision)
{
    net->arp_responder = on;
    network_changed(m, net, revision);
}

bool
nvo_model_hv_in_network(const struct nvo_hypervisor *hv,
                        const struct nvo_network *net)
{
    return member_find(net, hv) != NULL;
}
