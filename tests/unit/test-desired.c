/* Unit tests: controller/model.c and controller/desired.c. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "controller/desired.h"
#include "controller/model.h"
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "util.h"

struct fixture {
    struct nvo_model *m;
    struct nvo_network *red, *blue;
    struct nvo_hypervisor *a, *b, *c, *sn1, *sn2;
    bool alive[16];             /* By hypervisor id. */
};

static struct eth_addr
mac(uint8_t last)
{
    return (struct eth_addr) { .ea = { 0x02, 0, 0, 0, 0, last } };
}

static bool
alive_fn(const struct nvo_hypervisor *hv, void *aux)
{
    struct fixture *f = aux;
    return f->alive[hv->id];
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->m = nvo_model_create();
    f->red = nvo_model_add_network(f->m, 1, "red", 100, NVO_BUM_HEAD_END, 1);
    f->blue = nvo_model_add_network(f->m, 2, "blue", 200,
                                    NVO_BUM_SERVICE_NODE, 2);
    f->a = nvo_model_add_hv(f->m, 1, "a", "192.0.2.11", NVO_DP_OVS,
                            NVO_ROLE_HYPERVISOR, "tcp:192.0.2.11:6640", 3);
    f->b = nvo_model_add_hv(f->m, 2, "b", "192.0.2.12", NVO_DP_OVS,
                            NVO_ROLE_HYPERVISOR, "tcp:192.0.2.12:6640", 4);
    f->c = nvo_model_add_hv(f->m, 3, "c", "192.0.2.13", NVO_DP_KERNEL,
                            NVO_ROLE_HYPERVISOR, NULL, 5);
    f->sn1 = nvo_model_add_hv(f->m, 4, "sn1", "192.0.2.21", NVO_DP_KERNEL,
                              NVO_ROLE_SERVICE_NODE, NULL, 6);
    f->sn2 = nvo_model_add_hv(f->m, 5, "sn2", "192.0.2.22", NVO_DP_KERNEL,
                              NVO_ROLE_SERVICE_NODE, NULL, 7);
    /* red: a (2 VMs), b (1 VM); blue: a, c. */
    nvo_model_add_port(f->m, 10, "vm10", f->red, f->a, mac(0x10), NULL,
                       "v-vm10", 8);
    nvo_model_add_port(f->m, 11, "vm11", f->red, f->a, mac(0x11), NULL,
                       "v-vm11", 9);
    nvo_model_add_port(f->m, 12, "vm12", f->red, f->b, mac(0x12), "10.0.0.12",
                       "v-vm12", 10);
    nvo_model_add_port(f->m, 13, "vm13", f->blue, f->a, mac(0x13), NULL,
                       "v-vm13", 11);
    nvo_model_add_port(f->m, 14, "vm14", f->blue, f->c, mac(0x14), NULL,
                       "v-vm14", 12);
    f->m->revision = 12;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    nvo_model_destroy(f->m);
    free(f);
    return 0;
}

/* The 'n' strings of 'v' space-separated (caller frees); frees 'v' and
 * its strings. */
static char *
join_free(char **v, size_t n)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n; i++) {
        ds_put_format(&s, "%s%s", i ? " " : "", v[i]);
        free(v[i]);
    }
    free(v);
    return ds_steal_cstr(&s);
}

/* nvo_hv_view_tunnels() of 'v', space-separated (caller frees). */
static char *
tunnels_str(const struct nvo_hv_view *v)
{
    size_t n;
    char **t = nvo_hv_view_tunnels(v, &n);
    return join_free(t, n);
}

/* The number of words in 'keys' (space-separated). */
static size_t
n_words(const char *keys)
{
    size_t n = 0;
    for (const char *p = keys; *p; p++) {
        n += p == keys || p[-1] == ' ';
    }
    return n;
}

/* Asserts that 'v''s tunnel keys are 'expected' (space-separated), and
 * that nvo_hv_view_n_tunnels() counts them. */
static void
assert_tunnels(const struct nvo_hv_view *v, const char *expected)
{
    char *s = tunnels_str(v);
    assert_string_equal(s, expected);
    free(s);
    assert_int_equal(nvo_hv_view_n_tunnels(v), n_words(expected));
}

static void
test_model_lookups(void **state)
{
    struct fixture *f = *state;
    assert_ptr_equal(nvo_model_network_by_name(f->m, "red"), f->red);
    assert_ptr_equal(nvo_model_network_by_id(f->m, 2), f->blue);
    assert_null(nvo_model_network_by_name(f->m, "green"));
    assert_ptr_equal(nvo_model_hv_by_name(f->m, "c"), f->c);
    assert_int_equal(f->red->n_ports, 3);
    assert_int_equal(f->a->n_ports, 3);
    assert_true(nvo_model_hv_in_network(f->b, f->red));
    assert_false(nvo_model_hv_in_network(f->b, f->blue));
    assert_int_equal(hmap_count(&f->red->members), 2);     /* a, b */

    struct nvo_port *p = nvo_model_port_by_id(f->m, 12);
    assert_non_null(p);
    nvo_model_move_port(f->m, p, f->c, "v-new", 13);
    assert_int_equal(f->b->n_ports, 0);
    assert_int_equal(f->c->n_ports, 2);
    assert_string_equal(p->iface, "v-new");
    assert_false(nvo_model_hv_in_network(f->b, f->red));
    assert_true(nvo_model_hv_in_network(f->c, f->red));
    assert_int_equal(hmap_count(&f->red->members), 2);     /* a, c */
    nvo_model_remove_port(f->m, p);
    assert_null(nvo_model_port_by_id(f->m, 12));
    assert_int_equal(f->red->n_ports, 2);
    assert_false(nvo_model_hv_in_network(f->c, f->red));
    assert_int_equal(hmap_count(&f->red->members), 1);     /* a, twice */
    const struct nvo_net_member *mb;
    HMAP_FOR_EACH (mb, node, &f->red->members) {
        assert_ptr_equal(mb->hv, f->a);
        assert_int_equal(mb->n_ports, 2);
    }
}

/* Whether 'hv' has a port in 'net', by walking the ports: the reference
 * for nvo_model_hv_in_network() (the model's member index). */
static bool
ref_hv_in_network(const struct nvo_hypervisor *hv,
                  const struct nvo_network *net)
{
    const struct nvo_port *p;
    LIST_FOR_EACH (p, net_node, &net->ports) {
        if (p->hypervisor == hv) {
            return true;
        }
    }
    return false;
}

static void
test_strings(void **state OVS_UNUSED)
{
    enum nvo_bum_mode bum;
    enum nvo_dataplane dp;
    enum nvo_role role;
    assert_int_equal(nvo_bum_mode_from_string("service-node", &bum), 0);
    assert_int_equal(bum, NVO_BUM_SERVICE_NODE);
    assert_int_equal(nvo_bum_mode_from_string("flood", &bum), -EINVAL);
    assert_int_equal(nvo_dataplane_from_string("kernel", &dp), 0);
    assert_int_equal(dp, NVO_DP_KERNEL);
    assert_int_equal(nvo_dataplane_from_string(NULL, &dp), -EINVAL);
    assert_int_equal(nvo_role_from_string("hypervisor", &role), 0);
    assert_string_equal(nvo_role_to_string(NVO_ROLE_SERVICE_NODE),
                        "service-node");
}

/* Head-end network, no service node alive: a sees b as remote and floods to
 * b; blue (service-node mode, none alive) falls back to head-end to c. */
static void
test_view_head_end(void **state)
{
    struct fixture *f = *state;
    struct nvo_hv_view *v = desired_compute(f->m, f->a, alive_fn, f, NULL,
                                            NULL, 0);

    assert_int_equal(v->revision, 12);
    assert_int_equal(v->n_nets, 2);
    const struct nvo_net_view *red = v->nets[0], *blue = v->nets[1];
    assert_int_equal(red->vni, 100);
    assert_int_equal(blue->vni, 200);
    assert_int_equal(red->n_locals, 2);
    assert_true(eth_addr_equals(red->locals[0].mac, mac(0x10)));
    assert_string_equal(red->locals[1].iface, "v-vm11");
    assert_int_equal(red->n_remotes, 1);
    assert_true(eth_addr_equals(red->remotes[0].mac, mac(0x12)));
    assert_string_equal(red->remotes[0].vtep_ip, "192.0.2.12");
    assert_int_equal(red->n_flood, 1);
    assert_string_equal(red->flood[0], "192.0.2.12");
    assert_null(blue->service_node_ip);
    assert_int_equal(blue->n_flood, 1);
    assert_string_equal(blue->flood[0], "192.0.2.13");
    assert_tunnels(v, "192.0.2.12 192.0.2.13");
    assert_ptr_equal(nvo_hv_view_find_net(v, 200), blue);
    assert_null(nvo_hv_view_find_net(v, 300));
    nvo_hv_view_destroy(v);

    /* b only has red. */
    v = desired_compute(f->m, f->b, alive_fn, f, NULL, NULL, 0);
    assert_int_equal(v->n_nets, 1);
    assert_int_equal(v->nets[0]->n_remotes, 2);
    assert_int_equal(v->nets[0]->n_locals, 1);
    assert_tunnels(v, "192.0.2.11");
    nvo_hv_view_destroy(v);
}

/* With service nodes alive, blue floods only to its service node, which
 * gets blue's replication list; a dead node's network moves. */
static void
test_view_service_node(void **state)
{
    struct fixture *f = *state;
    f->alive[4] = f->alive[5] = true;

    const struct nvo_hypervisor *sn = desired_service_node(f->m, f->blue,
                                                           alive_fn, f);
    assert_non_null(sn);
    assert_null(desired_service_node(f->m, f->red, alive_fn, f));

    struct nvo_hv_view *v = desired_compute(f->m, f->a, alive_fn, f, NULL,
                                            NULL, 0);
    const struct nvo_net_view *blue = nvo_hv_view_find_net(v, 200);
    assert_non_null(blue);
    assert_string_equal(blue->service_node_ip, sn->tunnel_ip);
    assert_int_equal(blue->n_flood, 1);
    assert_string_equal(blue->flood[0], sn->tunnel_ip);
    /* Unicast to c still goes directly. */
    assert_int_equal(blue->n_remotes, 1);
    assert_string_equal(blue->remotes[0].vtep_ip, "192.0.2.13");
    nvo_hv_view_destroy(v);

    struct nvo_hv_view *snv = desired_compute(f->m, sn, alive_fn, f, NULL,
                                              NULL, 0);
    assert_int_equal(snv->n_nets, 1);
    assert_int_equal(snv->nets[0]->vni, 200);
    assert_int_equal(snv->nets[0]->n_locals, 0);
    assert_int_equal(snv->nets[0]->n_flood, 2);
    assert_string_equal(snv->nets[0]->flood[0], "192.0.2.11");
    assert_string_equal(snv->nets[0]->flood[1], "192.0.2.13");
    nvo_hv_view_destroy(snv);

    /* The other node serves nothing; after a failure it takes over. */
    const struct nvo_hypervisor *other = sn == f->sn1 ? f->sn2 : f->sn1;
    snv = desired_compute(f->m, other, alive_fn, f, NULL, NULL, 0);
    assert_int_equal(snv->n_nets, 0);
    nvo_hv_view_destroy(snv);
    f->alive[sn->id] = false;
    assert_ptr_equal(desired_service_node(f->m, f->blue, alive_fn, f), other);
    snv = desired_compute(f->m, other, alive_fn, f, NULL, NULL, 0);
    assert_int_equal(snv->n_nets, 1);
    nvo_hv_view_destroy(snv);
}

/* Rendezvous hashing spreads networks and moves only the failed node's. */
static void
test_service_node_spread(void **state)
{
    struct fixture *f = *state;
    struct nvo_network *nets[64];
    int count[2] = { 0, 0 };

    f->alive[4] = f->alive[5] = true;
    for (int i = 0; i < 64; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", i);
        nets[i] = nvo_model_add_network(f->m, 100 + i, name, 1000 + i,
                                        NVO_BUM_SERVICE_NODE, 20);
        count[desired_service_node(f->m, nets[i], alive_fn, f) == f->sn2]++;
    }
    assert_true(count[0] > 10 && count[1] > 10);

    /* A third node takes some networks from each, none moves between the
     * first two. */
    struct nvo_hypervisor *sn3 = nvo_model_add_hv(
        f->m, 6, "sn3", "192.0.2.23", NVO_DP_KERNEL, NVO_ROLE_SERVICE_NODE,
        NULL, 21);
    const struct nvo_hypervisor *before[64];
    for (int i = 0; i < 64; i++) {
        before[i] = desired_service_node(f->m, nets[i], alive_fn, f);
    }
    f->alive[6] = true;
    int moved = 0;
    for (int i = 0; i < 64; i++) {
        const struct nvo_hypervisor *now
            = desired_service_node(f->m, nets[i], alive_fn, f);
        if (now != before[i]) {
            assert_ptr_equal(now, sn3);
            moved++;
        }
    }
    assert_true(moved > 5 && moved < 40);
    for (int i = 0; i < 64; i++) {
        nvo_model_remove_network(f->m, nets[i]);
    }
}

static void
test_view_equal_clone(void **state)
{
    struct fixture *f = *state;
    struct nvo_hv_view *v1 = desired_compute(f->m, f->a, alive_fn, f, NULL,
                                             NULL, 0);
    struct nvo_hv_view *v2 = nvo_hv_view_clone(v1);
    assert_true(nvo_hv_view_equal(v1, v2));

    /* Moving vm12 from b to c changes a's view (remote VTEP). */
    nvo_model_move_port(f->m, nvo_model_port_by_id(f->m, 12), f->c, NULL, 13);
    struct nvo_hv_view *v3 = desired_compute(f->m, f->a, alive_fn, f, NULL,
                                             NULL, 0);
    assert_false(nvo_hv_view_equal(v1, v3));
    assert_string_equal(nvo_hv_view_find_net(v3, 100)->remotes[0].vtep_ip,
                        "192.0.2.13");
    /* b no longer has any network. */
    struct nvo_hv_view *vb = desired_compute(f->m, f->b, alive_fn, f, NULL,
                                             NULL, 0);
    assert_int_equal(vb->n_nets, 0);
    assert_tunnels(vb, "");

    nvo_hv_view_destroy(v1);
    nvo_hv_view_destroy(v2);
    nvo_hv_view_destroy(v3);
    nvo_hv_view_destroy(vb);
    nvo_hv_view_destroy(NULL);
}

/* A hand-built network view: vteps[] is the sorted, unique union of the
 * remotes' VTEPs and the flood list; references count. */
static void
test_net_view_build_and_ref(void **state OVS_UNUSED)
{
    struct nvo_net_view *nv = nvo_net_view_create();
    nv->name = xstrdup("hand");
    nv->vni = 7;
    nv->n_remotes = 2;
    nv->remotes = xcalloc(2, sizeof *nv->remotes);
    nv->remotes[0].vtep_ip = xstrdup("192.0.2.3");
    nv->remotes[1].vtep_ip = xstrdup("192.0.2.1");
    nv->n_flood = 2;
    nv->flood = xcalloc(2, sizeof *nv->flood);
    nv->flood[0] = xstrdup("192.0.2.1");
    nv->flood[1] = xstrdup("192.0.2.2");
    nvo_net_view_finish(nv);
    assert_int_equal(nv->n_vteps, 3);
    assert_string_equal(nv->vteps[0], "192.0.2.1");
    assert_string_equal(nv->vteps[1], "192.0.2.2");
    assert_string_equal(nv->vteps[2], "192.0.2.3");

    assert_ptr_equal(nvo_net_view_ref(nv), nv);
    assert_true(nvo_net_view_equal(nv, nv));
    nvo_net_view_unref(nv);
    assert_int_equal(nv->n_vteps, 3);   /* Still alive: one reference. */
    nvo_net_view_unref(nv);
    nvo_net_view_unref(NULL);
}

/* Deterministic PRNG for the mutation test. */
static uint32_t
next_rand(uint32_t *seed)
{
    *seed = *seed * 1103515245 + 12345;
    return *seed >> 8;
}

#define N_TEST_HVS 5

/* The k-th port of the model (hash order), or NULL if there are none. */
static struct nvo_port *
nth_port(struct nvo_model *m, uint32_t r)
{
    size_t n = hmap_count(&m->ports_by_id);
    struct nvo_port *p;
    size_t k = n ? r % n : 0;
    HMAP_FOR_EACH (p, id_node, &m->ports_by_id) {
        if (!k--) {
            return p;
        }
    }
    return NULL;
}

static struct nvo_network *
nth_network(struct nvo_model *m, uint32_t r)
{
    size_t n = hmap_count(&m->networks_by_id);
    struct nvo_network *net;
    size_t k = n ? r % n : 0;
    HMAP_FOR_EACH (net, id_node, &m->networks_by_id) {
        if (!k--) {
            return net;
        }
    }
    return NULL;
}

/* Gives port 'p' a random address and random allowed addresses. */
static void
mutate_addresses(struct nvo_model *m, struct nvo_port *p, uint32_t *seed)
{
    char a[3][32];
    char *allowed[3];
    size_t n = next_rand(seed) % 4;
    for (size_t i = 0; i < n && i < 3; i++) {
        snprintf(a[i], sizeof a[i], "10.%"PRIu32".%zu.0/%"PRIu32,
                 next_rand(seed) % 4, i, 24 + next_rand(seed) % 3);
        allowed[i] = a[i];
    }
    nvo_model_set_port_allowed(m, p, allowed, MIN(n, 3));
    free(p->ip);
    p->ip = (n % 2 ? xasprintf("10.1.0.%"PRIu32, next_rand(seed) % 200)
             : NULL);
}

/* Replaces hypervisor 'hvs[k]' (one of the first three, not a service
 * node) by a new one with the same id and another tunnel IP, after
 * removing its ports, and gives it a port in 'net'. */
static void
recreate_hv(struct nvo_model *m, struct nvo_hypervisor **hvs, size_t k,
            struct nvo_network *net, int64_t rev, int64_t *next_id)
{
    struct nvo_hypervisor *hv = hvs[k];
    struct nvo_port *p;
    LIST_FOR_EACH_SAFE (p, hv_node, &hv->ports) {
        nvo_model_remove_port(m, p);
    }
    int64_t id = hv->id;
    char *name = xstrdup(hv->name);
    enum nvo_dataplane dp = hv->dataplane;
    char *ovsdb = nullable_xstrdup(hv->ovsdb);
    nvo_model_remove_hv(m, hv);
    int64_t n = (*next_id)++;
    char ip[32];
    snprintf(ip, sizeof ip, "10.9.%"PRId64".%"PRId64, n / 250, n % 250 + 1);
    hvs[k] = nvo_model_add_hv(m, id, name, ip, dp, NVO_ROLE_HYPERVISOR,
                              ovsdb, rev);
    free(name);
    free(ovsdb);
    char vm[32];
    snprintf(vm, sizeof vm, "vm%"PRId64, n);
    nvo_model_add_port(m, n, vm, net, hvs[k], mac(n & 0xff), NULL, vm, rev);
}

/* Applies one random mutation to the model; sets '*changed' to the id of
 * the network it changed, or returns false if it may have changed any
 * network (service-node liveness, a hypervisor replaced). */
static bool
mutate(struct fixture *f, struct nvo_hypervisor **hvs, uint32_t *seed,
       int64_t *next_id, int64_t *changed)
{
    struct nvo_model *m = f->m;
    int64_t rev = ++m->revision;
    struct nvo_hypervisor *hv = hvs[next_rand(seed) % N_TEST_HVS];
    struct nvo_network *net = nth_network(m, next_rand(seed));
    struct nvo_port *p = nth_port(m, next_rand(seed));

    switch (next_rand(seed) % 10) {
    case 0: case 1: case 2: {
        int64_t id = (*next_id)++;
        char vm[32], iface[32], ip[32];
        snprintf(vm, sizeof vm, "vm%"PRId64, id);
        snprintf(iface, sizeof iface, "v-%"PRId64, id);
        snprintf(ip, sizeof ip, "10.0.%"PRId64".%"PRId64, id / 200,
                 id % 200 + 1);
        nvo_model_add_port(m, id, vm, net, hv, mac(id & 0xff),
                           id % 3 ? NULL : ip, iface, rev);
        *changed = net->id;
        return true;
    }
    case 3:
        if (p) {
            *changed = p->network->id;
            nvo_model_move_port(m, p, hv, NULL, rev);
            return true;
        }
        break;
    case 4:
        if (p) {
            *changed = p->network->id;
            nvo_model_remove_port(m, p);
            return true;
        }
        break;
    case 5:
        nvo_model_set_bum(m, net, (net->bum == NVO_BUM_HEAD_END
                                   ? NVO_BUM_SERVICE_NODE
                                   : NVO_BUM_HEAD_END), rev);
        *changed = net->id;
        return true;
    case 6: {
        int64_t id = (*next_id)++;
        char name[32];
        snprintf(name, sizeof name, "net%"PRId64, id);
        if (!net->n_ports && hmap_count(&m->networks_by_id) > 2) {
            *changed = net->id;
            nvo_model_remove_network(m, net);
        } else if (hmap_count(&m->networks_by_id) >= 5) {
            /* Few networks, many ports in each. */
            *changed = p ? p->network->id : net->id;
            if (p) {
                nvo_model_move_port(m, p, hv, NULL, rev);
            }
        } else {
            *changed = nvo_model_add_network(
                m, id, name, 1000 + id,
                id % 2 ? NVO_BUM_SERVICE_NODE : NVO_BUM_HEAD_END, rev)->id;
        }
        return true;
    }
    case 7: {
        int64_t sn = next_rand(seed) % 2 ? f->sn1->id : f->sn2->id;
        f->alive[sn] = !f->alive[sn];
        return false;
    }
    case 8:
        if (p) {
            *changed = p->network->id;
            mutate_addresses(m, p, seed);
            return true;
        }
        break;
    case 9:
        if (next_rand(seed) % 8 == 0) {
            recreate_hv(m, hvs, next_rand(seed) % 3, net, rev, next_id);
            return false;
        } else if (p && p->network->n_ports > 1) {
            /* One port of a network moved, another removed. */
            struct nvo_network *pn = p->network;
            struct nvo_port *q = CONTAINER_OF(ovs_list_front(&pn->ports),
                                              struct nvo_port, net_node);
            q = q != p ? q : CONTAINER_OF(ovs_list_back(&pn->ports),
                                          struct nvo_port, net_node);
            nvo_model_move_port(m, p, hv, NULL, rev);
            nvo_model_remove_port(m, q);
            *changed = pn->id;
            return true;
        }
        break;
    }
    *changed = net->id;         /* Nothing changed: harmless. */
    return true;
}

/* Reference for desired_compute(): the views computed the plain way, each
 * hypervisor's networks on their own with their own copies (as
 * desired_compute() did before it shared each network's ports between
 * hypervisors), built through the public view API. */
static int
cmp_str(const void *a_, const void *b_)
{
    const char *const *a = a_, *const *b = b_;
    return strcmp(*a, *b);
}

static int
cmp_local(const void *a_, const void *b_)
{
    const struct nvo_local_port *a = a_, *b = b_;
    return nvo_port_order(a->mac, a->port_id, b->mac, b->port_id);
}

static int
cmp_remote(const void *a_, const void *b_)
{
    const struct nvo_remote_mac *a = a_, *b = b_;
    return nvo_port_order(a->mac, a->port_id, b->mac, b->port_id);
}

static int
cmp_net(const void *a_, const void *b_)
{
    const struct nvo_net_view *const *a = a_, *const *b = b_;
    return ((*a)->vni > (*b)->vni) - ((*a)->vni < (*b)->vni);
}

/* Adds 's' to the sorted, unique array 'v' of '*n' strings (room for
 * it). */
static void
ref_add(char **v, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++) {
        if (!strcmp(v[i], s)) {
            return;
        }
    }
    v[(*n)++] = xstrdup(s);
    qsort(v, *n, sizeof *v, cmp_str);
}

static struct nvo_net_view *
ref_net(const struct nvo_model *m, const struct nvo_hypervisor *hv,
        const struct nvo_network *net, struct fixture *f)
{
    struct nvo_net_view *nv = nvo_net_view_create();
    const struct nvo_port *p;
    size_t room = net->n_ports + 2;

    nv->net_id = net->id;
    nv->name = xstrdup(net->name);
    nv->vni = net->vni;
    nv->bum = net->bum;
    nv->arp_responder = net->arp_responder;
    nv->encap = net->encap;
    nv->mtu = net->mtu;
    const struct nvo_hypervisor *sn = desired_service_node(m, net, alive_fn,
                                                           f);
    nv->service_node_ip = sn ? xstrdup(sn->tunnel_ip) : NULL;
    nv->flood = xmalloc(room * sizeof *nv->flood);
    nv->locals = xzalloc(room * sizeof *nv->locals);
    nv->remotes = xzalloc(room * sizeof *nv->remotes);
    LIST_FOR_EACH (p, net_node, &net->ports) {
        if (hv->role == NVO_ROLE_SERVICE_NODE && sn == hv) {
            if (p->hypervisor != hv) {
                ref_add(nv->flood, &nv->n_flood, p->hypervisor->tunnel_ip);
            }
        } else if (p->hypervisor == hv) {
            struct nvo_local_port *lp = &nv->locals[nv->n_locals++];
            lp->port_id = p->id;
            lp->mac = p->mac;
            lp->vm = xstrdup(p->vm);
            lp->iface = xstrdup(p->iface);
            lp->ip = nullable_xstrdup(p->ip);
            lp->allowed = xmalloc((p->n_allowed + 1) * sizeof *lp->allowed);
            for (size_t i = 0; i < p->n_allowed; i++) {
                ref_add(lp->allowed, &lp->n_allowed, p->allowed[i]);
            }
        } else {
            struct nvo_remote_mac *rm = &nv->remotes[nv->n_remotes++];
            rm->port_id = p->id;
            rm->mac = p->mac;
            rm->vtep_ip = xstrdup(p->hypervisor->tunnel_ip);
            rm->ip = nullable_xstrdup(p->ip);
            if (!sn && strcmp(p->hypervisor->tunnel_ip, hv->tunnel_ip)) {
                ref_add(nv->flood, &nv->n_flood, p->hypervisor->tunnel_ip);
            }
        }
    }
    if (sn && sn != hv) {
        ref_add(nv->flood, &nv->n_flood, sn->tunnel_ip);
    } else if (sn && hv->role != NVO_ROLE_SERVICE_NODE) {
        ref_add(nv->flood, &nv->n_flood, sn->tunnel_ip);
    }
    qsort(nv->locals, nv->n_locals, sizeof *nv->locals, cmp_local);
    qsort(nv->remotes, nv->n_remotes, sizeof *nv->remotes, cmp_remote);
    nvo_net_view_finish(nv);
    return nv;
}

static struct nvo_hv_view *
ref_compute(const struct nvo_model *m, const struct nvo_hypervisor *hv,
            struct fixture *f)
{
    struct nvo_hv_view *v = xzalloc(sizeof *v);
    const struct nvo_network *net;

    v->hv_id = hv->id;
    v->name = xstrdup(hv->name);
    v->tunnel_ip = xstrdup(hv->tunnel_ip);
    v->dataplane = hv->dataplane;
    v->role = hv->role;
    v->ovsdb = nullable_xstrdup(hv->ovsdb);
    v->revision = m->revision;
    v->nets = xmalloc((hmap_count(&m->networks_by_id) + 1) * sizeof *v->nets);
    HMAP_FOR_EACH (net, id_node, &m->networks_by_id) {
        assert_int_equal(nvo_model_hv_in_network(hv, net),
                         ref_hv_in_network(hv, net));
        if (ref_hv_in_network(hv, net)
            || (hv->role == NVO_ROLE_SERVICE_NODE
                && desired_service_node(m, net, alive_fn, f) == hv)) {
            v->nets[v->n_nets++] = ref_net(m, hv, net, f);
        }
    }
    qsort(v->nets, v->n_nets, sizeof *v->nets, cmp_net);
    return v;
}

/* The tunnel keys of 'v' (a view of ref_compute()) by the definition
 * (desired.h), space-separated (caller frees). */
static char *
ref_tunnels_str(const struct nvo_hv_view *v)
{
    size_t n_keys = 0, n = 0;
    for (size_t i = 0; i < v->n_nets; i++) {
        n_keys += v->nets[i]->n_vteps;
    }
    char **keys = xmalloc((n_keys + 1) * sizeof *keys);
    for (size_t i = 0; i < v->n_nets; i++) {
        const struct nvo_net_view *nv = v->nets[i];
        for (size_t j = 0; j < nv->n_vteps; j++) {
            if (strcmp(nv->vteps[j], v->tunnel_ip)) {
                char key[NVO_TUNNEL_KEY_SIZE];
                ref_add(keys, &n, nvo_tunnel_key(nv->encap, nv->vteps[j],
                                                 key));
            }
        }
    }
    return join_free(keys, n);
}

/* The shared ports ('base') of network views 'x' and 'y' (made by
 * desired_compute()) are the same. */
static void
assert_bases_same(const struct nvo_net_view *x, const struct nvo_net_view *y)
{
    size_t xn, xt, yn, yt;
    assert_true(nvo_net_view_base_size(x, &xn, &xt));
    assert_true(nvo_net_view_base_size(y, &yn, &yt));
    assert_int_equal(xn, yn);
    assert_int_equal(xt, yt);
    for (size_t i = 0; i < xt; i++) {
        assert_string_equal(nvo_net_view_base_tip(x, i),
                            nvo_net_view_base_tip(y, i));
    }
    for (size_t i = 0; i < xn; i++) {
        struct nvo_net_port a, b;
        nvo_net_view_base_port(x, i, &a);
        nvo_net_view_base_port(y, i, &b);
        assert_int_equal(a.port_id, b.port_id);
        assert_int_equal(a.hv_id, b.hv_id);
        assert_true(eth_addr_equals(a.mac, b.mac));
        assert_string_equal(a.vm, b.vm);
        assert_string_equal(a.iface, b.iface);
        assert_true(a.ip ? b.ip && !strcmp(a.ip, b.ip) : !b.ip);
        assert_true(nvo_strings_equal(CONST_CAST(char **, a.allowed),
                                      a.n_allowed,
                                      CONST_CAST(char **, b.allowed),
                                      b.n_allowed));
        assert_string_equal(a.tunnel_ip, b.tunnel_ip);
    }
}

/* 'a' equals 'b' (nvo_hv_view_equal()), and so do their vteps[]. */
static void
assert_views_same(const struct nvo_hv_view *a, const struct nvo_hv_view *b)
{
    assert_true(nvo_hv_view_equal(a, b));
    char *ta = tunnels_str(a), *tb = tunnels_str(b);
    assert_string_equal(ta, tb);
    free(ta);
    free(tb);
    for (size_t i = 0; i < a->n_nets; i++) {
        const struct nvo_net_view *x = a->nets[i], *y = b->nets[i];
        assert_int_equal(x->n_vteps, y->n_vteps);
        for (size_t j = 0; j < x->n_vteps; j++) {
            assert_string_equal(x->vteps[j], y->vteps[j]);
        }
    }
}

/* Incremental recomputation (previous view + changed network, and each
 * network's ports updated from those of an earlier round, kept in a cache
 * across rounds) gives the same views as a full one, over a series of
 * random mutations, and shares every network it did not recompute. */
static void
test_incremental_equals_full(void **state)
{
    struct fixture *f = *state;
    struct nvo_hypervisor *hvs[N_TEST_HVS] = { f->a, f->b, f->c, f->sn1,
                                               f->sn2 };
    struct nvo_hv_view *prev[N_TEST_HVS];
    uint32_t seed = 42;
    int64_t next_id = 100;
    size_t n_shared = 0, n_incremental = 0;

    struct desired_cache *kept = desired_cache_create();
    f->alive[f->sn1->id] = true;
    for (int i = 0; i < N_TEST_HVS; i++) {
        prev[i] = desired_compute(f->m, hvs[i], alive_fn, f, NULL, NULL, 0);
    }
    for (int step = 0; step < 1200; step++) {
        int64_t changed;
        bool one = mutate(f, hvs, &seed, &next_id, &changed);
        if (one && !nvo_model_network_by_id(f->m, changed)) {
            /* As the controller does (a network id may come back). */
            desired_cache_forget(kept, changed);
        }
        /* No cache, one for the round, or the one kept from round to
         * round as the controller keeps it (runs of rounds, with runs of
         * others between them: changes pile up). */
        struct desired_cache *cache = (step % 10 == 0 ? NULL
                                       : step % 10 < 6 ? kept
                                       : desired_cache_create());
        for (int i = 0; i < N_TEST_HVS; i++) {
            struct nvo_hv_view *inc = desired_compute_cached(
                f->m, hvs[i], alive_fn, f, prev[i], &changed,
                one ? 1 : DESIRED_ALL_CHANGED, cache);
            struct nvo_hv_view *full = desired_compute(f->m, hvs[i],
                                                       alive_fn, f, NULL,
                                                       NULL, 0);
            struct nvo_hv_view *ref = ref_compute(f->m, hvs[i], f);
            assert_views_same(inc, full);
            assert_views_same(inc, ref);
            for (size_t j = 0; j < inc->n_nets; j++) {
                assert_bases_same(inc->nets[j], full->nets[j]);
            }
            char *ti = tunnels_str(inc), *tr = ref_tunnels_str(ref);
            assert_string_equal(ti, tr);
            assert_int_equal(nvo_hv_view_n_tunnels(inc), n_words(tr));
            free(ti);
            free(tr);
            nvo_hv_view_destroy(ref);
            assert_int_equal(inc->revision, full->revision);
            if (one) {
                n_incremental++;
                for (size_t j = 0; j < inc->n_nets; j++) {
                    const struct nvo_net_view *old = nvo_hv_view_find_net(
                        prev[i], inc->nets[j]->vni);
                    if (inc->nets[j]->net_id == changed) {
                        assert_ptr_not_equal(inc->nets[j], old);
                    } else {
                        assert_ptr_equal(inc->nets[j], old);
                        n_shared++;
                    }
                }
            }
            nvo_hv_view_destroy(full);
            nvo_hv_view_destroy(prev[i]);
            prev[i] = inc;
        }
        if (cache != kept) {
            desired_cache_destroy(cache);
        }
    }
    assert_true(n_incremental > 1000);
    assert_true(n_shared > 1000);
    /* The kept cache updated networks far more often than it gathered
     * them anew. */
    struct desired_cache_stats st;
    desired_cache_get_stats(kept, &st);
    assert_true(st.n_updated > 200);
    assert_true(st.n_updated > 2 * st.n_created);
    assert_true(st.n_reused > 200);
    desired_cache_destroy(kept);
    for (int i = 0; i < N_TEST_HVS; i++) {
        nvo_hv_view_destroy(prev[i]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_model_lookups, setup, teardown),
        cmocka_unit_test(test_strings),
        cmocka_unit_test_setup_teardown(test_view_head_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_view_service_node, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_service_node_spread, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_view_equal_clone, setup,
                                        teardown),
        cmocka_unit_test(test_net_view_build_and_ref),
        cmocka_unit_test_setup_teardown(test_incremental_equals_full, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
