#include <config.h>
#include "controller/desired.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "openvswitch/util.h"
#include "sset.h"
#include "util.h"

const struct nvo_hypervisor *
desired_service_node(const struct nvo_model *m, const struct nvo_network *net,
                     desired_sn_alive_fn *alive, void *aux)
{
    const struct nvo_hypervisor *best = NULL, *hv;
    uint32_t best_score = 0;

    if (net->bum != NVO_BUM_SERVICE_NODE || !alive) {
        return NULL;
    }
    HMAP_FOR_EACH (hv, id_node, &m->hvs_by_id) {
        if (hv->role != NVO_ROLE_SERVICE_NODE || !alive(hv, aux)) {
            continue;
        }
        uint32_t score = hash_string(hv->name, net->vni);
        if (!best || score > best_score
            || (score == best_score && strcmp(hv->name, best->name) < 0)) {
            best = hv;
            best_score = score;
        }
    }
    return best;
}

static int
compare_strings(const void *a_, const void *b_)
{
    const char *const *a = a_, *const *b = b_;
    return strcmp(*a, *b);
}

static int
compare_locals(const void *a_, const void *b_)
{
    const struct nvo_local_port *a = a_, *b = b_;
    int c = memcmp(&a->mac, &b->mac, sizeof a->mac);
    return c ? c : (a->port_id > b->port_id) - (a->port_id < b->port_id);
}

static int
compare_remotes(const void *a_, const void *b_)
{
    const struct nvo_remote_mac *a = a_, *b = b_;
    int c = memcmp(&a->mac, &b->mac, sizeof a->mac);
    return c ? c : (a->port_id > b->port_id) - (a->port_id < b->port_id);
}

static int
compare_nets(const void *a_, const void *b_)
{
    const struct nvo_net_view *a = a_, *b = b_;
    return (a->vni > b->vni) - (a->vni < b->vni);
}

/* Moves the strings of 'set' into a sorted array; the set is emptied. */
static char **
sset_to_sorted_array(struct sset *set, size_t *n)
{
    *n = sset_count(set);
    char **array = xmalloc((*n ? *n : 1) * sizeof *array);
    size_t i = 0;
    const char *s;
    SSET_FOR_EACH (s, set) {
        array[i++] = xstrdup(s);
    }
    qsort(array, *n, sizeof *array, compare_strings);
    sset_clear(set);
    return array;
}

/* Fills 'nv' for network 'net' as seen from hypervisor 'hv'. */
static void
compute_net(const struct nvo_model *m, const struct nvo_hypervisor *hv,
            const struct nvo_network *net, desired_sn_alive_fn *alive,
            void *aux, struct nvo_net_view *nv, struct sset *tunnels)
{
    struct sset flood = SSET_INITIALIZER(&flood);
    const struct nvo_port *p;

    nv->net_id = net->id;
    nv->name = xstrdup(net->name);
    nv->vni = net->vni;
    nv->bum = net->bum;

    const struct nvo_hypervisor *sn = desired_service_node(m, net, alive, aux);
    nv->service_node_ip = sn ? xstrdup(sn->tunnel_ip) : NULL;

    if (hv->role == NVO_ROLE_SERVICE_NODE && sn == hv) {
        /* Replication list: every hypervisor of the network. */
        LIST_FOR_EACH (p, net_node, &net->ports) {
            if (p->hypervisor != hv) {
                sset_add(&flood, p->hypervisor->tunnel_ip);
            }
        }
    } else {
        nv->locals = xmalloc(net->n_ports * sizeof *nv->locals);
        nv->remotes = xmalloc(net->n_ports * sizeof *nv->remotes);
        LIST_FOR_EACH (p, net_node, &net->ports) {
            if (p->hypervisor == hv) {
                struct nvo_local_port *lp = &nv->locals[nv->n_locals++];
                lp->port_id = p->id;
                lp->mac = p->mac;
                lp->vm = xstrdup(p->vm);
                lp->iface = xstrdup(p->iface);
            } else {
                struct nvo_remote_mac *rm = &nv->remotes[nv->n_remotes++];
                rm->port_id = p->id;
                rm->mac = p->mac;
                rm->vtep_ip = xstrdup(p->hypervisor->tunnel_ip);
                sset_add(tunnels, rm->vtep_ip);
                if (!sn && strcmp(p->hypervisor->tunnel_ip, hv->tunnel_ip)) {
                    sset_add(&flood, p->hypervisor->tunnel_ip);
                }
            }
        }
        if (sn) {
            sset_add(&flood, sn->tunnel_ip);
        }
        qsort(nv->locals, nv->n_locals, sizeof *nv->locals, compare_locals);
        qsort(nv->remotes, nv->n_remotes, sizeof *nv->remotes,
              compare_remotes);
    }

    const char *ip;
    SSET_FOR_EACH (ip, &flood) {
        sset_add(tunnels, ip);
    }
    nv->flood = sset_to_sorted_array(&flood, &nv->n_flood);
    sset_destroy(&flood);
}

struct nvo_hv_view *
desired_compute(const struct nvo_model *m, const struct nvo_hypervisor *hv,
                desired_sn_alive_fn *alive, void *aux)
{
    struct nvo_hv_view *v = xzalloc(sizeof *v);
    struct sset tunnels = SSET_INITIALIZER(&tunnels);
    const struct nvo_network **nets = NULL;
    size_t n_nets = 0, allocated = 0;

    v->hv_id = hv->id;
    v->name = xstrdup(hv->name);
    v->tunnel_ip = xstrdup(hv->tunnel_ip);
    v->dataplane = hv->dataplane;
    v->role = hv->role;
    v->ovsdb = nullable_xstrdup(hv->ovsdb);
    v->revision = m->revision;

    /* Which networks: those with a port here, plus, for a service node,
     * those it serves. */
    struct sset seen = SSET_INITIALIZER(&seen);
    const struct nvo_port *p;
    LIST_FOR_EACH (p, hv_node, &hv->ports) {
        if (sset_add(&seen, p->network->name)) {
            if (n_nets >= allocated) {
                nets = x2nrealloc(nets, &allocated, sizeof *nets);
            }
            nets[n_nets++] = p->network;
        }
    }
    if (hv->role == NVO_ROLE_SERVICE_NODE) {
        const struct nvo_network *net;
        HMAP_FOR_EACH (net, id_node, &m->networks_by_id) {
            if (desired_service_node(m, net, alive, aux) == hv
                && sset_add(&seen, net->name)) {
                if (n_nets >= allocated) {
                    nets = x2nrealloc(nets, &allocated, sizeof *nets);
                }
                nets[n_nets++] = net;
            }
        }
    }
    sset_destroy(&seen);

    v->nets = xcalloc(n_nets ? n_nets : 1, sizeof *v->nets);
    v->n_nets = n_nets;
    for (size_t i = 0; i < n_nets; i++) {
        compute_net(m, hv, nets[i], alive, aux, &v->nets[i], &tunnels);
    }
    free(nets);
    qsort(v->nets, v->n_nets, sizeof *v->nets, compare_nets);

    sset_find_and_delete(&tunnels, hv->tunnel_ip);
    v->tunnels = sset_to_sorted_array(&tunnels, &v->n_tunnels);
    sset_destroy(&tunnels);
    return v;
}

static bool
nullable_streq(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static bool
strings_equal(char **a, size_t na, char **b, size_t nb)
{
    if (na != nb) {
        return false;
    }
    for (size_t i = 0; i < na; i++) {
        if (strcmp(a[i], b[i])) {
            return false;
        }
    }
    return true;
}

bool
nvo_net_view_equal(const struct nvo_net_view *a, const struct nvo_net_view *b)
{
    if (a->net_id != b->net_id || a->vni != b->vni || a->bum != b->bum
        || strcmp(a->name, b->name)
        || !nullable_streq(a->service_node_ip, b->service_node_ip)
        || a->n_locals != b->n_locals || a->n_remotes != b->n_remotes
        || !strings_equal(a->flood, a->n_flood, b->flood, b->n_flood)) {
        return false;
    }
    for (size_t i = 0; i < a->n_locals; i++) {
        const struct nvo_local_port *x = &a->locals[i], *y = &b->locals[i];
        if (x->port_id != y->port_id || !eth_addr_equals(x->mac, y->mac)
            || strcmp(x->iface, y->iface) || strcmp(x->vm, y->vm)) {
            return false;
        }
    }
    for (size_t i = 0; i < a->n_remotes; i++) {
        const struct nvo_remote_mac *x = &a->remotes[i], *y = &b->remotes[i];
        if (x->port_id != y->port_id || !eth_addr_equals(x->mac, y->mac)
            || strcmp(x->vtep_ip, y->vtep_ip)) {
            return false;
        }
    }
    return true;
}

bool
nvo_hv_view_equal(const struct nvo_hv_view *a, const struct nvo_hv_view *b)
{
    if (!a || !b) {
        return a == b;
    }
    if (a->hv_id != b->hv_id || strcmp(a->name, b->name)
        || strcmp(a->tunnel_ip, b->tunnel_ip)
        || a->dataplane != b->dataplane || a->role != b->role
        || !nullable_streq(a->ovsdb, b->ovsdb) || a->n_nets != b->n_nets
        || !strings_equal(a->tunnels, a->n_tunnels, b->tunnels,
                          b->n_tunnels)) {
        return false;
    }
    for (size_t i = 0; i < a->n_nets; i++) {
        if (!nvo_net_view_equal(&a->nets[i], &b->nets[i])) {
            return false;
        }
    }
    return true;
}

static char **
clone_strings(char **s, size_t n)
{
    char **c = xmalloc((n ? n : 1) * sizeof *c);
    for (size_t i = 0; i < n; i++) {
        c[i] = xstrdup(s[i]);
    }
    return c;
}

struct nvo_hv_view *
nvo_hv_view_clone(const struct nvo_hv_view *v)
{
    struct nvo_hv_view *c = xmemdup(v, sizeof *v);
    c->name = xstrdup(v->name);
    c->tunnel_ip = xstrdup(v->tunnel_ip);
    c->ovsdb = nullable_xstrdup(v->ovsdb);
    c->tunnels = clone_strings(v->tunnels, v->n_tunnels);
    c->nets = xcalloc(v->n_nets ? v->n_nets : 1, sizeof *c->nets);
    for (size_t i = 0; i < v->n_nets; i++) {
        const struct nvo_net_view *a = &v->nets[i];
        struct nvo_net_view *b = &c->nets[i];
        *b = *a;
        b->name = xstrdup(a->name);
        b->service_node_ip = nullable_xstrdup(a->service_node_ip);
        b->flood = clone_strings(a->flood, a->n_flood);
        b->locals = xmalloc((a->n_locals ? a->n_locals : 1)
                            * sizeof *b->locals);
        for (size_t j = 0; j < a->n_locals; j++) {
            b->locals[j] = a->locals[j];
            b->locals[j].vm = xstrdup(a->locals[j].vm);
            b->locals[j].iface = xstrdup(a->locals[j].iface);
        }
        b->remotes = xmalloc((a->n_remotes ? a->n_remotes : 1)
                             * sizeof *b->remotes);
        for (size_t j = 0; j < a->n_remotes; j++) {
            b->remotes[j] = a->remotes[j];
            b->remotes[j].vtep_ip = xstrdup(a->remotes[j].vtep_ip);
        }
    }
    return c;
}

const struct nvo_net_view *
nvo_hv_view_find_net(const struct nvo_hv_view *v, uint32_t vni)
{
    size_t lo = 0, hi = v->n_nets;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->nets[mid].vni == vni) {
            return &v->nets[mid];
        } else if (v->nets[mid].vni < vni) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

static void
free_strings(char **s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i]);
    }
    free(s);
}

void
nvo_hv_view_destroy(struct nvo_hv_view *v)
{
    if (!v) {
        return;
    }
    for (size_t i = 0; i < v->n_nets; i++) {
        struct nvo_net_view *nv = &v->nets[i];
        free(nv->name);
        free(nv->service_node_ip);
        for (size_t j = 0; j < nv->n_locals; j++) {
            free(nv->locals[j].vm);
            free(nv->locals[j].iface);
        }
        free(nv->locals);
        for (size_t j = 0; j < nv->n_remotes; j++) {
            free(nv->remotes[j].vtep_ip);
        }
        free(nv->remotes);
        free_strings(nv->flood, nv->n_flood);
    }
    free(v->nets);
    free_strings(v->tunnels, v->n_tunnels);
    free(v->name);
    free(v->tunnel_ip);
    free(v->ovsdb);
    free(v);
}
