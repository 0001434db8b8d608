/* ovs-flowinc.c - incremental flow computation (see ovs-flowinc.h).
 *
 * A unit is one call of the generators: the pipeline, a local port, a
 * remote port, one (network, VTEP) tunnel, or a network.  Units live in
 * 'units', keyed by (type, VNI, port id, VTEP); each points at the table
 * flows it made (flows carry their unit in 'owner').
 *
 * An update collects the units to recompute or remove, then applies them
 * in two passes: first every affected unit's old flows that it no longer
 * makes (or makes differently) leave the table, then the new ones enter.
 * So a key that passes from one unit to another in the same update (a VM
 * stopped and another started on the same interface) never looks like a
 * conflict. */
#include <config.h>
#include "controller/ovs-flowinc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "controller/desired.h"
#include "controller/ovs-flows.h"
#include "controller/ovs-flowset.h"
#include "lib/strvec.h"
#include "hash.h"
#include "hmapx.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "simap.h"
#include "sset.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ovs_flowinc);

enum unit_type {
    U_PIPELINE,
    U_LOCAL,
    U_REMOTE,
    U_TUNNEL,
    U_NETWORK,
};

struct unit {
    struct hmap_node node;      /* In ovs_flowinc.units. */
    enum unit_type type;
    uint32_t vni;
    int64_t port_id;            /* U_LOCAL, U_REMOTE. */
    char *vtep;                 /* U_TUNNEL; else NULL. */
    struct ovs_flow **flows;    /* Table flows it made (owner == unit). */
    size_t n_flows;
    char *missing;              /* Lacking ofports, space-separated, or
                                 * NULL. */
    size_t job;                 /* 1 + index of its job in this update, or
                                 * 0 if none. */
};

/* A unit to recompute (with its new flows) or to remove. */
struct job {
    struct unit *unit;
    bool remove;
    struct ovs_flowset flows;   /* New flows, not yet in the table. */
};

struct ovs_flowinc {
    struct ovs_flowset table;   /* Desired flows. */
    struct ovs_flowset changed; /* Keys changed since the last take. */
    struct hmap units;          /* Contains struct unit. */
    struct hmapx missing;       /* Units with 'missing' set. */

    /* The input of the last update. */
    bool valid;                 /* False: next update computes all. */
    struct nvo_net_view **nets; /* References, sorted by VNI. */
    size_t n_nets, allocated_nets;
    /* The next update's array for 'nets' (no references): the two
     * alternate, so that an update allocates none. */
    struct nvo_net_view **spare_nets;
    size_t allocated_spare;
    struct simap ifaces;
    struct simap tunnels;

    /* The ofport of each encapsulation's tunnel port in the input's map,
     * looked up once per change of the maps rather than once per unit a
     * VM start recomputes (a string hash and a bucket of that
     * hypervisor's map, about 1 us per switch): valid while 'tun_cached'.
     * UINT32_MAX: none. */
    uint32_t tun_ofport[NVO_ENCAP_GRE + 1];
    bool tun_cached;

    /* One update's work.  Each job is allocated on its own: it holds an
     * hmap, which must not move. */
    struct job **jobs;
    size_t n_jobs, allocated_jobs;

    struct ovs_flowinc_stats stats;
};

struct ovs_flowinc *
ovs_flowinc_create(void)
{
    struct ovs_flowinc *e = xzalloc(sizeof *e);
    ovs_flowset_init(&e->table);
    ovs_flowset_init(&e->changed);
    hmap_init(&e->units);
    hmapx_init(&e->missing);
    simap_init(&e->ifaces);
    simap_init(&e->tunnels);
    return e;
}

/* Drops the references of 'nets'; the array stays, as the spare. */
static void
forget_input(struct ovs_flowinc *e)
{
    for (size_t i = 0; i < e->n_nets; i++) {
        nvo_net_view_unref(e->nets[i]);
    }
    free(e->spare_nets);
    e->spare_nets = e->nets;
    e->allocated_spare = e->allocated_nets;
    e->nets = NULL;
    e->n_nets = e->allocated_nets = 0;
}

void
ovs_flowinc_destroy(struct ovs_flowinc *e)
{
    if (!e) {
        return;
    }
    struct unit *u;
    HMAP_FOR_EACH_POP (u, node, &e->units) {
        free(u->flows);
        free(u->vtep);
        free(u->missing);
        free(u);
    }
    hmap_destroy(&e->units);
    hmapx_destroy(&e->missing);
    ovs_flowset_destroy(&e->table);
    ovs_flowset_destroy(&e->changed);
    forget_input(e);
    free(e->spare_nets);
    simap_destroy(&e->ifaces);
    simap_destroy(&e->tunnels);
    free(e->jobs);
    free(e);
}

static uint32_t
unit_hash(enum unit_type type, uint32_t vni, int64_t port_id,
          const char *vtep)
{
    uint32_t h = hash_2words(type, vni);
    h = hash_uint64_basis(port_id, h);
    return vtep ? hash_string(vtep, h) : h;
}

static struct unit *
unit_find(const struct ovs_flowinc *e, enum unit_type type, uint32_t vni,
          int64_t port_id, const char *vtep)
{
    struct unit *u;
    HMAP_FOR_EACH_WITH_HASH (u, node, unit_hash(type, vni, port_id, vtep),
                             &e->units) {
        if (u->type == type && u->vni == vni && u->port_id == port_id
            && nullable_string_is_equal(u->vtep, vtep)) {
            return u;
        }
    }
    return NULL;
}

static struct unit *
unit_get(struct ovs_flowinc *e, enum unit_type type, uint32_t vni,
         int64_t port_id, const char *vtep)
{
    struct unit *u = unit_find(e, type, vni, port_id, vtep);
    if (!u) {
        u = xzalloc(sizeof *u);
        u->type = type;
        u->vni = vni;
        u->port_id = port_id;
        u->vtep = nullable_xstrdup(vtep);
        hmap_insert(&e->units, &u->node,
                    unit_hash(type, vni, port_id, vtep));
    }
    return u;
}

/* Returns the job for 'u' in this update, adding it if needed.  A unit
 * has at most one job; a recomputation overrides a removal (a port that
 * left one place of a sorted array and entered another). */
static struct job *
job_add(struct ovs_flowinc *e, struct unit *u, bool remove)
{
    if (u->job) {
        struct job *j = e->jobs[u->job - 1];
        if (!remove) {
            ovs_flowset_clear(&j->flows);
            j->remove = false;
        }
        return j;
    }
    if (e->n_jobs >= e->allocated_jobs) {
        e->jobs = x2nrealloc(e->jobs, &e->allocated_jobs, sizeof *e->jobs);
    }
    struct job *j = xmalloc(sizeof *j);
    e->jobs[e->n_jobs++] = j;
    j->unit = u;
    j->remove = remove;
    ovs_flowset_init(&j->flows);
    u->job = e->n_jobs;
    return j;
}

/* Sets what 'u' lacks to 'names'.  A unit is in e->missing exactly while
 * its 'missing' is set: one that lacked nothing and still lacks nothing
 * (nearly every recomputed unit) costs no lookup. */
static void
set_missing(struct ovs_flowinc *e, struct unit *u, const struct sset *names)
{
    if (!u->missing && sset_is_empty(names)) {
        return;
    }
    free(u->missing);
    u->missing = NULL;
    if (sset_is_empty(names)) {
        hmapx_find_and_delete(&e->missing, u);
        return;
    }
    struct ds s = DS_EMPTY_INITIALIZER;
    const char *name;
    SSET_FOR_EACH (name, names) {
        ds_put_format(&s, "%s%s", s.length ? " " : "", name);
    }
    u->missing = ds_steal_cstr(&s);
    hmapx_add(&e->missing, u);
}

/* Fills in 'key' for unit 'u' if its flows may be shared between the
 * hypervisors of a network through in->cache: a remote port or a tunnel
 * (they depend on the network, the port or VTEP, and the ofport of the
 * tunnel port alone; the same on every hypervisor), whose tunnel port's
 * ofport is known. */
static bool
memo_key(const struct ovs_flowinc *e, const struct ovs_flows_input *in,
         const struct unit *u, const struct nvo_net_view *net,
         const struct nvo_remote_mac *rm, const char *vtep,
         struct ovs_flows_memo_key *key)
{
    if (!in->cache || !net || !net->base || !in->tunnel_ofports
        || (u->type != U_REMOTE && u->type != U_TUNNEL)) {
        return false;
    }
    uint32_t ofport;
    if (e->tun_cached && net->encap < ARRAY_SIZE(e->tun_ofport)) {
        ofport = e->tun_ofport[net->encap];
    } else {
        const struct simap_node *n = simap_find(
            in->tunnel_ofports, nvo_encap_to_string(net->encap));
        ofport = n ? n->data : UINT32_MAX;
    }
    if (ofport == UINT32_MAX) {
        return false;
    }
    *key = (struct ovs_flows_memo_key) {
        .net = net,
        .kind = u->type,
        .id = rm ? rm->port_id : 0,
        .vtep = vtep,
        .ofport = ofport,
    };
    return true;
}

/* Caches the tunnel ofports of 'tunnels' for memo_key(). */
static void
tun_cache(struct ovs_flowinc *e, const struct simap *tunnels)
{
    for (size_t i = 0; i < ARRAY_SIZE(e->tun_ofport); i++) {
        const struct simap_node *n = simap_find(tunnels,
                                                nvo_encap_to_string(i));
        /* An ofport too large for the cache: looked up each time. */
        if (n && n->data == UINT32_MAX) {
            e->tun_cached = false;
            return;
        }
        e->tun_ofport[i] = n ? n->data : UINT32_MAX;
    }
    e->tun_cached = true;
}

/* Runs the generators of 'u' (whose inputs are 'net' and one of 'lp',
 * 'rm', 'vtep') into a new job. */
static void
recompute(struct ovs_flowinc *e, const struct ovs_flows_input *in,
          struct unit *u, const struct nvo_net_view *net,
          const struct nvo_local_port *lp, const struct nvo_remote_mac *rm,
          const char *vtep)
{
    struct job *j = job_add(e, u, false);
    struct ovs_flows_memo_key key;
    bool memo = memo_key(e, in, u, net, rm, vtep, &key);
    if (memo) {
        size_t n;
        struct ovs_flow *const *flows = ovs_flows_memo_get(in->cache, &key,
                                                           &n);
        if (flows) {
            /* Made for another hypervisor of the network already. */
            for (size_t i = 0; i < n; i++) {
                ovs_flowset_insert(&j->flows, ovs_flow_clone(flows[i]));
            }
            if (u->missing) {
                free(u->missing);
                u->missing = NULL;
                hmapx_find_and_delete(&e->missing, u);
            }
            e->stats.n_recomputed++;
            return;
        }
    }
    struct sset missing = SSET_INITIALIZER(&missing);
    struct ovs_flows_ctx ctx;
    size_t n_gens;
    const struct ovs_flowgen *const *gens = ovs_flowgens(&n_gens);

    ovs_flows_ctx_init(&ctx, in, &j->flows, &missing);
    switch (u->type) {
    case U_PIPELINE:
        for (size_t g = 0; g < n_gens; g++) {
            if (gens[g]->pipeline) {
                gens[g]->pipeline(&ctx);
            }
        }
        break;
    case U_LOCAL: {
        uint32_t ofport;
        if (ovs_flows_iface_ofport(&ctx, lp->iface, &ofport)) {
            for (size_t g = 0; g < n_gens; g++) {
                if (gens[g]->local_port) {
                    gens[g]->local_port(&ctx, net, lp, ofport);
                }
            }
        }
        break;
    }
    case U_REMOTE:
        for (size_t g = 0; g < n_gens; g++) {
            if (gens[g]->remote_port) {
                gens[g]->remote_port(&ctx, net, rm);
            }
        }
        break;
    case U_TUNNEL:
        for (size_t g = 0; g < n_gens; g++) {
            if (gens[g]->tunnel) {
                gens[g]->tunnel(&ctx, net, vtep);
            }
        }
        break;
    case U_NETWORK: {
        uint32_t *ofports = xmalloc((net->n_locals + 1) * sizeof *ofports);
        size_t n = 0;
        for (size_t i = 0; i < net->n_locals; i++) {
            if (ovs_flows_iface_ofport(&ctx, net->locals[i].iface,
                                       &ofports[n])) {
                n++;
            }
        }
        for (size_t g = 0; g < n_gens; g++) {
            if (gens[g]->network) {
                gens[g]->network(&ctx, net, ofports, n);
            }
        }
        free(ofports);
        break;
    }
    }
    ovs_flows_ctx_destroy(&ctx);
    if (memo && sset_is_empty(&missing)) {
        ovs_flows_memo_put(in->cache, &key, &j->flows);
    }
    set_missing(e, u, &missing);
    sset_destroy(&missing);
    e->stats.n_recomputed++;
}

static void
remove_unit(struct ovs_flowinc *e, enum unit_type type, uint32_t vni,
            int64_t port_id, const char *vtep)
{
    struct unit *u = unit_find(e, type, vni, port_id, vtep);
    if (u) {
        job_add(e, u, true);
    }
}

static void
mark_changed(struct ovs_flowinc *e, const struct ovs_flow *f)
{
    ovs_flowset_add_key(&e->changed, f);
}

/* Pass 1: takes out of the table every flow of 'j''s unit that it no
 * longer makes the same way. */
static void
job_release(struct ovs_flowinc *e, struct job *j)
{
    struct unit *u = j->unit;
    size_t n_kept = 0;

    for (size_t i = 0; i < u->n_flows; i++) {
        struct ovs_flow *f = u->flows[i];
        struct ovs_flow *n = (j->remove ? NULL
                              : ovs_flowset_find_flow(&j->flows, f));
        if (n && ovs_flow_value_equal(f, n)) {
            /* Unchanged: keep the table's copy. */
            ovs_flowset_remove(&j->flows, n);
            u->flows[n_kept++] = f;
        } else {
            mark_changed(e, f);
            ovs_flowset_remove(&e->table, f);
        }
    }
    u->n_flows = n_kept;
}

/* Pass 2: puts 'j''s new flows into the table. */
static void
job_install(struct ovs_flowinc *e, struct job *j)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    struct unit *u = j->unit;

    u->job = 0;
    if (j->remove) {
        ovs_flowset_destroy(&j->flows);
        if (u->missing) {
            hmapx_find_and_delete(&e->missing, u);
        }
        hmap_remove(&e->units, &u->node);
        free(u->flows);
        free(u->vtep);
        free(u->missing);
        free(u);
        return;
    }
    size_t n_new = ovs_flowset_count(&j->flows);
    if (n_new) {
        u->flows = xrealloc(u->flows,
                            (u->n_flows + n_new) * sizeof *u->flows);
    }
    struct ovs_flow *f;
    HMAP_FOR_EACH_POP (f, node, &j->flows.flows) {
        if (ovs_flowset_find_flow(&e->table, f)) {
            /* Two units make the same key: the first one keeps it. */
            e->stats.n_conflicts++;
            VLOG_WARN_RL(&rl, "two flow units make the same flow; keeping "
                         "the first");
            ovs_flow_destroy(f);
            continue;
        }
        f->owner = u;
        ovs_flowset_insert(&e->table, f);
        mark_changed(e, f);
        u->flows[u->n_flows++] = f;
    }
    ovs_flowset_destroy(&j->flows);
}

static void
run_jobs(struct ovs_flowinc *e)
{
    for (size_t i = 0; i < e->n_jobs; i++) {
        job_release(e, e->jobs[i]);
    }
    for (size_t i = 0; i < e->n_jobs; i++) {
        job_install(e, e->jobs[i]);
        free(e->jobs[i]);
    }
    e->n_jobs = 0;
}

/* Every unit of a network that appeared. */
static void
net_add(struct ovs_flowinc *e, const struct ovs_flows_input *in,
        const struct nvo_net_view *net)
{
    for (size_t i = 0; i < net->n_locals; i++) {
        const struct nvo_local_port *lp = &net->locals[i];
        recompute(e, in, unit_get(e, U_LOCAL, net->vni, lp->port_id, NULL),
                  net, lp, NULL, NULL);
    }
    for (size_t i = 0; i < net->n_remotes; i++) {
        const struct nvo_remote_mac *rm = &net->remotes[i];
        recompute(e, in, unit_get(e, U_REMOTE, net->vni, rm->port_id, NULL),
                  net, NULL, rm, NULL);
    }
    size_t n;
    const char **vteps = ovs_flows_net_vteps(net, &n);
    for (size_t i = 0; i < n; i++) {
        recompute(e, in, unit_get(e, U_TUNNEL, net->vni, 0, vteps[i]),
                  net, NULL, NULL, vteps[i]);
    }
    free(vteps);
    recompute(e, in, unit_get(e, U_NETWORK, net->vni, 0, NULL), net,
              NULL, NULL, NULL);
}

/* Every unit of a network that disappeared. */
static void
net_remove(struct ovs_flowinc *e, const struct nvo_net_view *net)
{
    for (size_t i = 0; i < net->n_locals; i++) {
        remove_unit(e, U_LOCAL, net->vni, net->locals[i].port_id, NULL);
    }
    for (size_t i = 0; i < net->n_remotes; i++) {
        remove_unit(e, U_REMOTE, net->vni, net->remotes[i].port_id, NULL);
    }
    size_t n;
    const char **vteps = ovs_flows_net_vteps(net, &n);
    for (size_t i = 0; i < n; i++) {
        remove_unit(e, U_TUNNEL, net->vni, 0, vteps[i]);
    }
    free(vteps);
    remove_unit(e, U_NETWORK, net->vni, 0, NULL);
}

/* True if the ofport of the tunnel port of 'net''s encapsulation is in
 * 'tunnels' (encapsulations whose tunnel port's ofport changed).  Every
 * VTEP of a network goes through that one port: 'vtep' does not matter. */
static bool
tunnel_changed(const struct sset *tunnels, const struct nvo_net_view *net,
               const char *vtep OVS_UNUSED)
{
    return sset_contains(tunnels, nvo_encap_to_string(net->encap));
}

static bool
any_tunnel_changed(const struct sset *tunnels, const struct nvo_net_view *net,
                   char **vteps, size_t n)
{
    if (sset_is_empty(tunnels)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (tunnel_changed(tunnels, net, vteps[i])) {
            return true;
        }
    }
    return false;
}

/* The IPv4 addresses whose claims changed in a network with the ARP
 * responder: the port answering for an address is the one with the lowest
 * id among those that have it (ovs-flows-arp.c), so a port that gains,
 * loses or changes an address may change which other port answers. */
struct claims {
    ovs_be32 *addrs;
    size_t n, allocated;
};

static void
claims_note(struct claims *c, const char *ip)
{
    ovs_be32 a;
    if (ip && ip_parse(ip, &a)) {
        if (c->n >= c->allocated) {
            c->addrs = x2nrealloc(c->addrs, &c->allocated, sizeof *c->addrs);
        }
        c->addrs[c->n++] = a;
    }
}

static bool
claims_contain(const struct claims *c, const char *ip)
{
    ovs_be32 a;
    if (!c->n || !ip || !ip_parse(ip, &a)) {
        return false;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (c->addrs[i] == a) {
            return true;
        }
    }
    return false;
}

/* One local port in the old and/or the new input ('a', 'b'; either may be
 * NULL): recomputes or removes its unit as needed, notes the addresses
 * whose claims it changed in 'cl' (if nonnull), and sets '*net_dirty' if
 * the network unit (its local ofports) must be recomputed.  'same' and
 * 'attrs' as in net_update(). */
static void
local_step(struct ovs_flowinc *e, const struct ovs_flows_input *in,
           const struct nvo_net_view *new, const struct nvo_local_port *a,
           const struct nvo_local_port *b, bool same, bool attrs,
           const struct sset *ifaces, struct claims *cl, bool *net_dirty)
{
    uint32_t vni = new->vni;
    if (!b) {
        remove_unit(e, U_LOCAL, vni, a->port_id, NULL);
        *net_dirty = true;
        if (cl) {
            claims_note(cl, a->ip);
        }
    } else if (!a) {
        recompute(e, in, unit_get(e, U_LOCAL, vni, b->port_id, NULL),
                  new, b, NULL, NULL);
        *net_dirty = true;
        if (cl) {
            claims_note(cl, b->ip);
        }
    } else {
        bool changed = !same && !nvo_local_port_equal(a, b);
        if (!attrs || changed || sset_contains(ifaces, b->iface)) {
            recompute(e, in, unit_get(e, U_LOCAL, vni, b->port_id, NULL),
                      new, b, NULL, NULL);
            *net_dirty = true;
        }
        if (cl && changed && !nullable_string_is_equal(a->ip, b->ip)) {
            claims_note(cl, a->ip);
            claims_note(cl, b->ip);
        }
    }
}

/* The same for one remote port. */
static void
remote_step(struct ovs_flowinc *e, const struct ovs_flows_input *in,
            const struct nvo_net_view *new, const struct nvo_remote_mac *a,
            const struct nvo_remote_mac *b, bool same, bool attrs,
            const struct sset *tunnels, struct claims *cl)
{
    uint32_t vni = new->vni;
    if (!b) {
        remove_unit(e, U_REMOTE, vni, a->port_id, NULL);
        if (cl) {
            claims_note(cl, a->ip);
        }
    } else if (!a) {
        recompute(e, in, unit_get(e, U_REMOTE, vni, b->port_id, NULL),
                  new, NULL, b, NULL);
        if (cl) {
            claims_note(cl, b->ip);
        }
    } else {
        bool changed = !same && !nvo_remote_mac_equal(a, b);
        if (!attrs || changed
            || (!sset_is_empty(tunnels)
                && tunnel_changed(tunnels, new, b->vtep_ip))) {
            recompute(e, in, unit_get(e, U_REMOTE, vni, b->port_id, NULL),
                      new, NULL, b, NULL);
        }
        if (cl && changed && !nullable_string_is_equal(a->ip, b->ip)) {
            claims_note(cl, a->ip);
            claims_note(cl, b->ip);
        }
    }
}

/* Recomputes the local or remote port 'b' of 'new' if its address is in
 * 'claims' and it has no job yet (see net_update()). */
static void
claims_step(struct ovs_flowinc *e, const struct ovs_flows_input *in,
            const struct nvo_net_view *new, const struct claims *claims,
            const struct nvo_local_port *lb, const struct nvo_remote_mac *rb)
{
    struct unit *u;
    if (lb && claims_contain(claims, lb->ip)
        && !(u = unit_get(e, U_LOCAL, new->vni, lb->port_id, NULL))->job) {
        recompute(e, in, u, new, lb, NULL, NULL);
    }
    if (rb && claims_contain(claims, rb->ip)
        && !(u = unit_get(e, U_REMOTE, new->vni, rb->port_id, NULL))->job) {
        recompute(e, in, u, new, NULL, rb, NULL);
    }
}

/* The entry for port 'k' in 'array' ('n' entries of 'size' bytes sorted by
 * nvo_port_order(), each with its port id at 'id_ofs' and MAC at
 * 'mac_ofs'), or NULL. */
static const void *
find_port(const void *array, size_t n, size_t size, size_t id_ofs,
          size_t mac_ofs, const struct ovs_flows_port_key *k)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *p = (const char *) array + mid * size;
        int64_t id;
        struct eth_addr mac;
        memcpy(&id, p + id_ofs, sizeof id);
        memcpy(&mac, p + mac_ofs, sizeof mac);
        int cmp = nvo_port_order(k->mac, k->port_id, mac, id);
        if (!cmp) {
            return p;
        } else if (cmp > 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

static const struct nvo_local_port *
find_local(const struct nvo_net_view *net, const struct ovs_flows_port_key *k)
{
    return find_port(net->locals, net->n_locals, sizeof *net->locals,
                     offsetof(struct nvo_local_port, port_id),
                     offsetof(struct nvo_local_port, mac), k);
}

static const struct nvo_remote_mac *
find_remote(const struct nvo_net_view *net,
            const struct ovs_flows_port_key *k)
{
    return find_port(net->remotes, net->n_remotes, sizeof *net->remotes,
                     offsetof(struct nvo_remote_mac, port_id),
                     offsetof(struct nvo_remote_mac, mac), k);
}

static bool
net_port_equal(const struct nvo_net_port *a, const struct nvo_net_port *b)
{
    return (a->hv_id == b->hv_id && !strcmp(a->vm, b->vm)
            && !strcmp(a->iface, b->iface)
            && nullable_string_is_equal(a->ip, b->ip)
            && nvo_strings_equal(CONST_CAST(char **, a->allowed),
                                 a->n_allowed,
                                 CONST_CAST(char **, b->allowed),
                                 b->n_allowed)
            && !strcmp(a->tunnel_ip, b->tunnel_ip));
}

static void
push_key(struct ovs_flows_port_key **keys, size_t *n, size_t *allocated,
         const struct nvo_net_port *p)
{
    if (*n >= *allocated) {
        *keys = x2nrealloc(*keys, allocated, sizeof **keys);
    }
    (*keys)[(*n)++] = (struct ovs_flows_port_key) { p->mac, p->port_id };
}

/* Compares the bases of 'old' and 'new' (views of one network, each with a
 * base): one merge walk over the network's ports, for every hypervisor of
 * the network.  Caller owns the result. */
static struct ovs_flows_delta *
delta_compute(const struct nvo_net_view *old, const struct nvo_net_view *new)
{
    struct ovs_flows_delta *d = xzalloc(sizeof *d);
    size_t n_old, n_new, t_old, t_new, allocated = 0;
    struct claims noted = { .n = 0 };

    d->old = nvo_net_view_ref(old);
    d->new = nvo_net_view_ref(new);
    nvo_net_view_base_size(old, &n_old, &t_old);
    nvo_net_view_base_size(new, &n_new, &t_new);
    size_t i = 0, j = 0;
    while (i < n_old || j < n_new) {
        struct nvo_net_port a, b;
        if (i < n_old) {
            nvo_net_view_base_port(old, i, &a);
        }
        if (j < n_new) {
            nvo_net_view_base_port(new, j, &b);
        }
        int cmp = (i >= n_old ? 1 : j >= n_new ? -1
                   : nvo_port_order(a.mac, a.port_id, b.mac, b.port_id));
        if (cmp < 0) {
            claims_note(&noted, a.ip);
            push_key(&d->keys, &d->n_keys, &allocated, &a);
            i++;
        } else if (cmp > 0) {
            claims_note(&noted, b.ip);
            push_key(&d->keys, &d->n_keys, &allocated, &b);
            j++;
        } else {
            if (!net_port_equal(&a, &b)) {
                claims_note(&noted, a.ip);
                claims_note(&noted, b.ip);
                push_key(&d->keys, &d->n_keys, &allocated, &b);
            }
            i++;
            j++;
        }
    }

    /* The tunnel IPs in one base and not the other (the arrays are
     * sorted; a tunnel IP may be there twice, for two hypervisors). */
    allocated = 0;
    i = j = 0;
    while (i < t_old || j < t_new) {
        const char *a = i < t_old ? nvo_net_view_base_tip(old, i) : NULL;
        const char *b = j < t_new ? nvo_net_view_base_tip(new, j) : NULL;
        int cmp = !a ? 1 : !b ? -1 : strcmp(a, b);
        if (cmp && d->n_tips >= allocated) {
            d->tips = x2nrealloc(d->tips, &allocated, sizeof *d->tips);
        }
        if (cmp < 0) {
            d->tips[d->n_tips++] = a;
        } else if (cmp > 0) {
            d->tips[d->n_tips++] = b;
        }
        i += cmp <= 0;
        j += cmp >= 0;
    }
    for (i = 1; i < t_old && !d->tips_dup; i++) {
        d->tips_dup = !strcmp(nvo_net_view_base_tip(old, i - 1),
                              nvo_net_view_base_tip(old, i));
    }
    for (j = 1; j < t_new && !d->tips_dup; j++) {
        d->tips_dup = !strcmp(nvo_net_view_base_tip(new, j - 1),
                              nvo_net_view_base_tip(new, j));
    }

    if (noted.n) {
        allocated = 0;
        for (j = 0; j < n_new; j++) {
            struct nvo_net_port b;
            nvo_net_view_base_port(new, j, &b);
            if (claims_contain(&noted, b.ip)) {
                push_key(&d->claims, &d->n_claims, &allocated, &b);
            }
        }
    }
    free(noted.addrs);
    return d;
}

/* The delta from the base of 'old' to that of 'new': the cache's, or
 * computed (and put in the cache, if there is one; else into '*owned',
 * which the caller frees). */
static const struct ovs_flows_delta *
delta_get(const struct ovs_flows_input *in, const struct nvo_net_view *old,
          const struct nvo_net_view *new, struct ovs_flows_delta **owned)
{
    *owned = NULL;
    const struct ovs_flows_delta *d = (in->cache
                                       ? ovs_flows_delta_get(in->cache, old,
                                                             new)
                                       : NULL);
    if (!d) {
        struct ovs_flows_delta *c = delta_compute(old, new);
        if (in->cache) {
            ovs_flows_delta_put(in->cache, c);
        } else {
            *owned = c;
        }
        d = c;
    }
    return d;
}

/* The string equal to 's' in the sorted array 'v' of 'n', or NULL. */
static const char *
find_string(char *const *v, size_t n, const char *s)
{
    char *const *p = n ? bsearch(&s, v, n, sizeof *v, nvo_strvec_compare)
                       : NULL;
    return p ? *p : NULL;
}

/* The VTEP and flood lists of 'old' and 'new' (with the same attributes,
 * each with a base, 'd' their delta, no tunnel IP twice) are the tunnel IPs
 * of their bases but this hypervisor's own (and the service node's, if
 * any, the same in both): they differ only in the tunnel IPs that changed
 * (d->tips), looked up here one by one.  Adds and removes the tunnel units
 * of the VTEPs that came and went; returns true if the flood list
 * changed. */
static bool
net_update_lists(struct ovs_flowinc *e, const struct ovs_flows_input *in,
                 const struct nvo_net_view *old,
                 const struct nvo_net_view *new,
                 const struct ovs_flows_delta *d)
{
    char *const *ov = CONST_CAST(char *const *, old->vteps);
    char *const *nv = CONST_CAST(char *const *, new->vteps);
    bool flood_changed = false;
    for (size_t k = 0; k < d->n_tips; k++) {
        const char *t = d->tips[k];
        const char *a = find_string(ov, old->n_vteps, t);
        const char *b = find_string(nv, new->n_vteps, t);
        if (a && !b) {
            remove_unit(e, U_TUNNEL, new->vni, 0, a);
        } else if (b && !a) {
            recompute(e, in, unit_get(e, U_TUNNEL, new->vni, 0, b), new,
                      NULL, NULL, b);
        }
        flood_changed |= (!find_string(old->flood, old->n_flood, t)
                          != !find_string(new->flood, new->n_flood, t));
    }
    return flood_changed;
}

/* A network in both the old and the new input: recomputes what changed.
 * 'ifaces' and 'tunnels' are the names whose ofport changed.
 *
 * Two views of a network from desired_compute() (with a base) differ for
 * this hypervisor only in the ports that changed in the network's base,
 * and in their VTEP and flood lists only in the network's tunnel IPs that
 * changed (net_update_lists()): the delta of the two bases, computed once
 * per round for every hypervisor (delta_get()), says which, and they are
 * looked up by binary search.  Views built by hand are merged whole. */
static void
net_update(struct ovs_flowinc *e, const struct ovs_flows_input *in,
           const struct nvo_net_view *old, const struct nvo_net_view *new,
           const struct sset *ifaces, const struct sset *tunnels)
{
    bool same = old == new;
    if (same && sset_is_empty(ifaces) && sset_is_empty(tunnels)) {
        return;
    }
    bool attrs = same || nvo_net_view_attrs_equal(old, new);
    bool net_dirty = !attrs;
    uint32_t vni = new->vni;
    /* Only needed when the network's other units are not recomputed
     * anyway. */
    struct claims claims = { .n = 0 };
    struct claims *cl = attrs && new->arp_responder ? &claims : NULL;
    bool tunnels_moved = (!sset_is_empty(tunnels)
                          && tunnel_changed(tunnels, new, NULL));
    struct ovs_flows_delta *owned = NULL;
    const struct ovs_flows_delta *d = NULL;
    if (!same && attrs && old->base && new->base) {
        d = (old->base == new->base ? NULL
             : delta_get(in, old, new, &owned));
    }
    /* The VTEP and flood lists may differ: compared whole, or in the
     * tunnel IPs that changed (see net_update_lists()). */
    bool lists_changed = (!same
                          && (!attrs || !old->base || !new->base
                              || (d ? d->tips_dup
                                  : (old->n_vteps != new->n_vteps
                                     || old->n_flood != new->n_flood))));
    bool flood_changed = false;

    if (!same && attrs && old->base && new->base) {
        /* Only the ports that changed, and those the ofports move. */
        for (size_t k = 0; d && k < d->n_keys; k++) {
            const struct ovs_flows_port_key *key = &d->keys[k];
            const struct nvo_local_port *la = find_local(old, key);
            const struct nvo_local_port *lb = find_local(new, key);
            if (la || lb) {
                local_step(e, in, new, la, lb, false, true, ifaces, cl,
                           &net_dirty);
            }
            const struct nvo_remote_mac *ra = find_remote(old, key);
            const struct nvo_remote_mac *rb = find_remote(new, key);
            if (ra || rb) {
                remote_step(e, in, new, ra, rb, false, true, tunnels, cl);
            }
        }
        if (!sset_is_empty(ifaces)) {
            for (size_t i = 0; i < new->n_locals; i++) {
                const struct nvo_local_port *b = &new->locals[i];
                struct unit *u;
                if (sset_contains(ifaces, b->iface)
                    && !(u = unit_get(e, U_LOCAL, vni, b->port_id,
                                      NULL))->job) {
                    recompute(e, in, u, new, b, NULL, NULL);
                    net_dirty = true;
                }
            }
        }
        if (tunnels_moved) {
            for (size_t i = 0; i < new->n_remotes; i++) {
                const struct nvo_remote_mac *b = &new->remotes[i];
                struct unit *u = unit_get(e, U_REMOTE, vni, b->port_id,
                                          NULL);
                if (!u->job) {
                    recompute(e, in, u, new, NULL, b, NULL);
                }
            }
        }
        for (size_t k = 0; d && claims.n && k < d->n_claims; k++) {
            claims_step(e, in, new, &claims, find_local(new, &d->claims[k]),
                        find_remote(new, &d->claims[k]));
        }
    } else {
        /* Locals: one merge walk over two arrays sorted alike. */
        size_t i = 0, j = 0;
        while (i < old->n_locals || j < new->n_locals) {
            const struct nvo_local_port *a = i < old->n_locals
                                             ? &old->locals[i] : NULL;
            const struct nvo_local_port *b = j < new->n_locals
                                             ? &new->locals[j] : NULL;
            int cmp = !a ? 1 : !b ? -1 : nvo_port_order(a->mac, a->port_id,
                                                         b->mac, b->port_id);
            local_step(e, in, new, cmp > 0 ? NULL : a, cmp < 0 ? NULL : b,
                       same, attrs, ifaces, cl, &net_dirty);
            i += cmp <= 0;
            j += cmp >= 0;
        }

        /* Remotes, alike (unless only local ofports changed). */
        i = j = 0;
        while ((!same || tunnels_moved)
               && (i < old->n_remotes || j < new->n_remotes)) {
            const struct nvo_remote_mac *a = i < old->n_remotes
                                             ? &old->remotes[i] : NULL;
            const struct nvo_remote_mac *b = j < new->n_remotes
                                             ? &new->remotes[j] : NULL;
            int cmp = !a ? 1 : !b ? -1 : nvo_port_order(a->mac, a->port_id,
                                                         b->mac, b->port_id);
            remote_step(e, in, new, cmp > 0 ? NULL : a, cmp < 0 ? NULL : b,
                        same, attrs, tunnels, cl);
            i += cmp <= 0;
            j += cmp >= 0;
        }

        /* The other ports with an address whose claims changed.  A unit
         * with a job already was recomputed from 'new' above (a port of
         * 'new' is never only removed: its recompute, before or after,
         * wins in job_add()): the port that changed its claim itself, most
         * often. */
        for (i = 0; claims.n && i < new->n_locals; i++) {
            claims_step(e, in, new, &claims, &new->locals[i], NULL);
        }
        for (i = 0; claims.n && i < new->n_remotes; i++) {
            claims_step(e, in, new, &claims, NULL, &new->remotes[i]);
        }
    }
    free(claims.addrs);

    /* Tunnels: sorted VTEP lists. */
    if (lists_changed) {
        size_t n_old, n_new;
        const char **ov = ovs_flows_net_vteps(old, &n_old);
        const char **nv = ovs_flows_net_vteps(new, &n_new);
        size_t i = 0, j = 0;
        while (i < n_old || j < n_new) {
            int cmp = i >= n_old ? 1 : j >= n_new ? -1 : strcmp(ov[i], nv[j]);
            if (cmp < 0) {
                remove_unit(e, U_TUNNEL, vni, 0, ov[i]);
                i++;
            } else if (cmp > 0) {
                recompute(e, in, unit_get(e, U_TUNNEL, vni, 0, nv[j]), new,
                          NULL, NULL, nv[j]);
                j++;
            } else {
                if (!attrs || tunnels_moved) {
                    recompute(e, in, unit_get(e, U_TUNNEL, vni, 0, nv[j]),
                              new, NULL, NULL, nv[j]);
                }
                i++;
                j++;
            }
        }
        free(ov);
        free(nv);
        flood_changed = !nvo_strings_equal(old->flood, old->n_flood,
                                           new->flood, new->n_flood);
    } else {
        if (d && d->n_tips) {
            flood_changed = net_update_lists(e, in, old, new, d);
        }
        if (tunnels_moved) {
            size_t n;
            const char **nv = ovs_flows_net_vteps(new, &n);
            for (size_t i = 0; i < n; i++) {
                recompute(e, in, unit_get(e, U_TUNNEL, vni, 0, nv[i]), new,
                          NULL, NULL, nv[i]);
            }
            free(nv);
        }
    }

    /* The network as a whole. */
    if (net_dirty || flood_changed
        || any_tunnel_changed(tunnels, new, new->flood, new->n_flood)) {
        recompute(e, in, unit_get(e, U_NETWORK, vni, 0, NULL), new, NULL,
                  NULL, NULL);
    }
    ovs_flows_delta_destroy(owned);
}

/* Adds to 'out' every name whose value differs between 'a' and 'b'. */
static void
simap_changes(const struct simap *a, const struct simap *b, struct sset *out)
{
    const struct simap_node *n;
    SIMAP_FOR_EACH (n, a) {
        const struct simap_node *m = simap_find(b, n->name);
        if (!m || m->data != n->data) {
            sset_add(out, n->name);
        }
    }
    SIMAP_FOR_EACH (n, b) {
        if (!simap_find(a, n->name)) {
            sset_add(out, n->name);
        }
    }
}

static void
simap_copy(struct simap *dst, const struct simap *src)
{
    simap_clear(dst);
    const struct simap_node *n;
    SIMAP_FOR_EACH (n, src) {
        simap_put(dst, n->name, n->data);
    }
}

/* Makes 'dst' equal to 'src', given the names whose values differ. */
static void
simap_apply(struct simap *dst, const struct simap *src,
            const struct sset *changed)
{
    const char *name;
    SSET_FOR_EACH (name, changed) {
        const struct simap_node *n = simap_find(src, name);
        if (n) {
            simap_put(dst, name, n->data);
        } else {
            struct simap_node *old = simap_find(dst, name);
            if (old) {
                simap_delete(dst, old);
            }
        }
    }
}

static int
compare_nets(const void *a_, const void *b_)
{
    const struct nvo_net_view *const *a = a_, *const *b = b_;
    return ((*a)->vni > (*b)->vni) - ((*a)->vni < (*b)->vni);
}

void
ovs_flowinc_update(struct ovs_flowinc *e, const struct ovs_flows_input *in,
                   bool maps_changed)
{
    const struct nvo_hv_view *v = in->view;
    static const struct simap empty = SIMAP_INITIALIZER(&empty);
    const struct simap *in_ifaces = in->iface_ofports ? in->iface_ofports
                                    : &empty;
    const struct simap *in_tunnels = in->tunnel_ofports ? in->tunnel_ofports
                                     : &empty;

    /* The view's networks, sorted by VNI (they are, by contract; sort a
     * copy anyway, the merge below depends on it). */
    if (e->allocated_spare < v->n_nets + 1) {
        free(e->spare_nets);
        e->allocated_spare = 2 * v->n_nets + 1;
        e->spare_nets = xmalloc(e->allocated_spare * sizeof *e->spare_nets);
    }
    struct nvo_net_view **nets = e->spare_nets;
    size_t allocated = e->allocated_spare;
    e->spare_nets = NULL;
    e->allocated_spare = 0;
    for (size_t i = 0; i < v->n_nets; i++) {
        nets[i] = nvo_net_view_ref(v->nets[i]);
    }
    qsort(nets, v->n_nets, sizeof *nets, compare_nets);
    if (!e->valid || maps_changed || !e->tun_cached) {
        tun_cache(e, in_tunnels);
    }

    if (!e->valid) {
        /* Everything from scratch: remove every unit, then compute every
         * unit (the two passes leave unchanged flows alone). */
        struct unit *u;
        HMAP_FOR_EACH (u, node, &e->units) {
            job_add(e, u, true);
        }
        run_jobs(e);
        recompute(e, in, unit_get(e, U_PIPELINE, 0, 0, NULL), NULL, NULL,
                  NULL, NULL);
        for (size_t i = 0; i < v->n_nets; i++) {
            net_add(e, in, nets[i]);
        }
    } else {
        struct sset ifaces = SSET_INITIALIZER(&ifaces);
        struct sset tunnels = SSET_INITIALIZER(&tunnels);
        if (maps_changed) {
            simap_changes(&e->ifaces, in_ifaces, &ifaces);
            simap_changes(&e->tunnels, in_tunnels, &tunnels);
        }
        size_t i = 0, j = 0;
        while (i < e->n_nets || j < v->n_nets) {
            const struct nvo_net_view *a = i < e->n_nets ? e->nets[i] : NULL;
            const struct nvo_net_view *b = j < v->n_nets ? nets[j] : NULL;
            int cmp = !a ? 1 : !b ? -1 : (a->vni > b->vni) - (a->vni < b->vni);
            if (cmp < 0) {
                net_remove(e, a);
                i++;
            } else if (cmp > 0) {
                net_add(e, in, b);
                j++;
            } else {
                net_update(e, in, a, b, &ifaces, &tunnels);
                i++;
                j++;
            }
        }
        run_jobs(e);
        simap_apply(&e->ifaces, in_ifaces, &ifaces);
        simap_apply(&e->tunnels, in_tunnels, &tunnels);
        sset_destroy(&ifaces);
        sset_destroy(&tunnels);
    }
    run_jobs(e);

    bool was_valid = e->valid;
    forget_input(e);
    e->nets = nets;
    e->n_nets = v->n_nets;
    e->allocated_nets = allocated;
    if (!was_valid) {
        simap_copy(&e->ifaces, in_ifaces);
        simap_copy(&e->tunnels, in_tunnels);
    }
    e->valid = true;
}

void
ovs_flowinc_reset(struct ovs_flowinc *e)
{
    e->valid = false;
}

const struct ovs_flowset *
ovs_flowinc_table(const struct ovs_flowinc *e)
{
    return &e->table;
}

void
ovs_flowinc_take_changes(struct ovs_flowinc *e, struct ovs_flowset *keys)
{
    if (!ovs_flowset_count(keys)) {
        ovs_flowset_swap(keys, &e->changed);
        return;
    }
    struct ovs_flow *f;
    HMAP_FOR_EACH_POP (f, node, &e->changed.flows) {
        if (ovs_flowset_find_flow(keys, f)) {
            ovs_flow_destroy(f);
        } else {
            ovs_flowset_insert(keys, f);
        }
    }
}

bool
ovs_flowinc_is_complete(const struct ovs_flowinc *e)
{
    return hmapx_is_empty(&e->missing);
}

void
ovs_flowinc_format_missing(const struct ovs_flowinc *e, struct ds *s)
{
    struct sset names = SSET_INITIALIZER(&names);
    const struct hmapx_node *node;
    HMAPX_FOR_EACH (node, &e->missing) {
        const struct unit *u = node->data;
        /* Unit strings are space-separated names. */
        char *copy = xstrdup(u->missing);
        char *save = NULL;
        for (char *t = strtok_r(copy, " ", &save); t;
             t = strtok_r(NULL, " ", &save)) {
            sset_add(&names, t);
        }
        free(copy);
    }
    const char **sorted = sset_sort(&names);
    for (size_t i = 0; sorted[i]; i++) {
        ds_put_format(s, "%s%s", i ? " " : "", sorted[i]);
    }
    free(sorted);
    sset_destroy(&names);
}

void
ovs_flowinc_get_stats(const struct ovs_flowinc *e,
                      struct ovs_flowinc_stats *st)
{
    *st = e->stats;
    st->n_units = hmap_count(&e->units);
}
