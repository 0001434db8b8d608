/* Unit tests: controller/ovs-flowinc.c, the incremental flow engine.
 *
 * The property: after every step of a random series of changes (ports
 * started, stopped, moved, restarted on the same interface with the same
 * MAC, networks created and deleted, bum modes, service-node liveness,
 * ofports appearing, disappearing and changing), the engine's table equals
 * ovs_flows_compute() of the same input, and the keys it reports as
 * changed are enough for ovs-ofctrl's keyed diff to bring a switch that
 * held the previous table to the new one, with exactly the changes a
 * whole-table diff would send. */
#include <config.h>

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "controller/desired.h"
#include "controller/model.h"
#include "controller/ovs-flowinc.h"
#include "controller/ovs-flows.h"
#include "controller/ovs-flowset.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "simap.h"
#include "sset.h"
#include "util.h"

#define N_OVS 5
#define N_SN 2

struct fixture {
    struct nvo_model *m;
    struct nvo_hypervisor *ovs[N_OVS];
    struct nvo_hypervisor *sn[N_SN];
    bool alive[16];             /* By hypervisor id. */
    uint32_t seed;
    int64_t next_id;
};

/* Everything one OVS hypervisor has in the test. */
struct hv_state {
    struct nvo_hv_view *view;
    struct simap ifaces, tunnels;   /* The "OVSDB" ofport maps. */
    unsigned int next_ofport;
    struct ovs_flowinc *engine;
    struct ovs_flowset installed;   /* The "switch". */
};

static uint32_t
next_rand(uint32_t *seed)
{
    *seed = *seed * 1103515245 + 12345;
    return *seed >> 8;
}

static bool
alive_fn(const struct nvo_hypervisor *hv, void *aux)
{
    struct fixture *f = aux;
    return f->alive[hv->id];
}

static struct eth_addr
mac_of(int64_t id)
{
    return (struct eth_addr) { .ea = { 0x02, 0, 0, (id >> 16) & 0xff,
                                       (id >> 8) & 0xff, id & 0xff } };
}

static struct nvo_port *
nth_port(struct nvo_model *m, uint32_t r)
{
    size_t n = hmap_count(&m->ports_by_id);
    size_t k = n ? r % n : 0;
    struct nvo_port *p;
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
    size_t k = n ? r % n : 0;
    struct nvo_network *net;
    HMAP_FOR_EACH (net, id_node, &m->networks_by_id) {
        if (!k--) {
            return net;
        }
    }
    return NULL;
}

/* Half the ports get an address, from a pool small enough that ports of
 * a network often claim the same one (the ARP responder answers for the
 * one with the lowest id: starting, stopping or moving one port changes
 * which other port answers). */
static void
add_port(struct fixture *f, struct nvo_network *net,
         struct nvo_hypervisor *hv, int64_t id, struct eth_addr mac,
         const char *iface)
{
    char vm[32], ifbuf[32], ip[32];
    snprintf(vm, sizeof vm, "vm%"PRId64, id);
    if (!iface) {
        snprintf(ifbuf, sizeof ifbuf, "v%"PRId64, id);
        iface = ifbuf;
    }
    uint32_t r = next_rand(&f->seed) % 8;
    snprintf(ip, sizeof ip, "10.0.0.%"PRIu32, r);
    nvo_model_add_port(f->m, id, vm, net, hv, mac, r < 4 ? ip : NULL, iface,
                       f->m->revision);
}

/* One random change; '*changed' gets the network it changed, or false is
 * returned when any network may have changed. */
static bool
mutate(struct fixture *f, int64_t *changed)
{
    struct nvo_model *m = f->m;
    uint32_t *seed = &f->seed;
    f->m->revision++;
    struct nvo_hypervisor *hv = f->ovs[next_rand(seed) % N_OVS];
    struct nvo_network *net = nth_network(m, next_rand(seed));
    struct nvo_port *p = nth_port(m, next_rand(seed));

    switch (next_rand(seed) % 12) {
    case 0: case 1: case 2: case 3: {
        int64_t id = f->next_id++;
        add_port(f, net, hv, id, mac_of(id), NULL);
        *changed = net->id;
        return true;
    }
    case 4:
        if (p) {
            *changed = p->network->id;
            nvo_model_move_port(m, p, hv, NULL, m->revision);
            return true;
        }
        break;
    case 5:
        if (p) {
            *changed = p->network->id;
            nvo_model_remove_port(m, p);
            return true;
        }
        break;
    case 6:
        if (p) {
            /* The VM restarts: a new port on the same interface with the
             * same MAC, in one write. */
            struct nvo_network *pn = p->network;
            struct nvo_hypervisor *ph = p->hypervisor;
            struct eth_addr mac = p->mac;
            char *iface = xstrdup(p->iface);
            *changed = pn->id;
            nvo_model_remove_port(m, p);
            add_port(f, pn, ph, f->next_id++, mac, iface);
            free(iface);
            return true;
        }
        break;
    case 7:
        nvo_model_set_bum(m, net, (net->bum == NVO_BUM_HEAD_END
                                   ? NVO_BUM_SERVICE_NODE
                                   : NVO_BUM_HEAD_END), m->revision);
        *changed = net->id;
        return true;
    case 8: {
        int64_t id = f->next_id++;
        char name[32];
        snprintf(name, sizeof name, "net%"PRId64, id);
        if (!net->n_ports && hmap_count(&m->networks_by_id) > 2) {
            *changed = net->id;
            nvo_model_remove_network(m, net);
        } else {
            *changed = nvo_model_add_network(
                m, id, name, 1000 + id,
                id % 2 ? NVO_BUM_SERVICE_NODE : NVO_BUM_HEAD_END,
                m->revision)->id;
        }
        return true;
    }
    case 9: {
        struct nvo_hypervisor *sn = f->sn[next_rand(seed) % N_SN];
        f->alive[sn->id] = !f->alive[sn->id];
        return false;
    }
    case 10:
        if (p) {
            /* Fields only the port's own hypervisor sees. */
            char allowed[32];
            snprintf(allowed, sizeof allowed, "10.0.1.%"PRIu32,
                     next_rand(seed) % 4);
            *changed = p->network->id;
            nvo_model_set_port_allowed_str(m, p, (next_rand(seed) % 2
                                                  ? allowed : NULL));
            return true;
        }
        break;
    case 11:
        if (p) {
            /* An address change: it may change which port answers ARP for
             * the old address and the new one. */
            uint32_t r = next_rand(seed) % 6;
            char ip[32];
            snprintf(ip, sizeof ip, "10.0.0.%"PRIu32, r);
            *changed = p->network->id;
            free(p->ip);
            p->ip = r < 4 ? xstrdup(ip) : NULL;
            return true;
        }
        break;
    }
    *changed = net->id;
    return true;
}

/* Moves 'map' toward the names 'view' wants, randomly: some missing
 * ofports appear, some unwanted ones go, now and then one changes.  Returns
 * true if the map changed. */
static bool
churn_map(struct fixture *f, struct hv_state *s, struct simap *map,
          const struct sset *wanted)
{
    bool changed = false;
    const char *name;
    SSET_FOR_EACH (name, wanted) {
        if (!simap_find(map, name) && next_rand(&f->seed) % 4) {
            simap_put(map, name, s->next_ofport++);
            changed = true;
        }
    }
    struct simap_node *n;
    SIMAP_FOR_EACH_SAFE (n, map) {
        uint32_t r = next_rand(&f->seed) % 20;
        if (!sset_contains(wanted, n->name) && r < 15) {
            simap_delete(map, n);
            changed = true;
        } else if (r == 19) {
            n->data = s->next_ofport++;     /* Port re-created. */
            changed = true;
        }
    }
    return changed;
}

static bool
churn_maps(struct fixture *f, struct hv_state *s)
{
    struct sset ifaces = SSET_INITIALIZER(&ifaces);
    struct sset tunnels = SSET_INITIALIZER(&tunnels);
    for (size_t i = 0; i < s->view->n_nets; i++) {
        const struct nvo_net_view *nv = s->view->nets[i];
        for (size_t j = 0; j < nv->n_locals; j++) {
            sset_add(&ifaces, nv->locals[j].iface);
        }
    }
    /* The flow-based tunnel ports (ovs-tunnels.h): one per encapsulation,
     * whatever the view; churn re-creates them now and then. */
    sset_add(&tunnels, "vxlan");
    sset_add(&tunnels, "geneve");
    sset_add(&tunnels, "gre");
    bool changed = churn_map(f, s, &s->ifaces, &ifaces);
    changed |= churn_map(f, s, &s->tunnels, &tunnels);
    sset_destroy(&ifaces);
    sset_destroy(&tunnels);
    return changed;
}

/* Every flow's wire form is the encoding of its actions (ovs-ofctrl sends
 * the former; the cache of ovs_flows_put_tunnels() assembles both). */
static void
check_wire(const struct ovs_flowset *fs)
{
    const struct ovs_flow *f;
    HMAP_FOR_EACH (f, node, &fs->flows) {
        struct ofpbuf w;
        ofpbuf_init(&w, 0);
        ofpacts_put_openflow_instructions(f->ofpacts, f->ofpacts_len, &w,
                                          OFP13_VERSION);
        assert_int_equal(w.size, f->wire_len);
        assert_memory_equal(w.data, f->wire, w.size);
        ofpbuf_uninit(&w);
    }
}

/* The engine of 's' after an update equals the full computation, and its
 * changed keys bring the "switch" there with the same changes a whole
 * diff would make.  The engine uses 'cache' (shared by the hypervisors,
 * or NULL), the full computation none. */
static void
check_step(struct hv_state *s, struct ovs_flows_cache *cache,
           bool maps_changed, size_t *n_changes)
{
    struct ovs_flows_input in = {
        .view = s->view,
        .iface_ofports = &s->ifaces,
        .tunnel_ofports = &s->tunnels,
        .cache = cache,
    };
    ovs_flowinc_update(s->engine, &in, maps_changed);

    struct ovs_flowset full;
    ovs_flowset_init(&full);
    in.cache = NULL;
    bool complete = ovs_flows_compute(&in, &full, NULL);
    const struct ovs_flowset *table = ovs_flowinc_table(s->engine);
    assert_true(ovs_flowset_equal(&full, table));
    check_wire(table);
    assert_int_equal(complete, ovs_flowinc_is_complete(s->engine));

    struct ovs_flowset keys;
    ovs_flowset_init(&keys);
    ovs_flowinc_take_changes(s->engine, &keys);
    struct ovs_flow_changes whole, keyed;
    ovs_flowset_diff(&full, &s->installed, &whole);
    ovs_flowset_diff_keys(table, &s->installed, &keys, &keyed);
    assert_int_equal(whole.n_add, keyed.n_add);
    assert_int_equal(whole.n_modify, keyed.n_modify);
    assert_int_equal(whole.n_delete, keyed.n_delete);
    ovs_flowset_apply(&s->installed, &keyed);
    assert_true(ovs_flowset_equal(&full, &s->installed));
    *n_changes += keyed.n;

    ovs_flow_changes_destroy(&whole);
    ovs_flow_changes_destroy(&keyed);
    ovs_flowset_destroy(&keys);
    ovs_flowset_destroy(&full);
}

static void
test_incremental_equals_full(void **state OVS_UNUSED)
{
    struct fixture f = { .seed = 7, .next_id = 100 };
    struct hv_state hvs[N_OVS];

    f.m = nvo_model_create();
    nvo_model_add_network(f.m, 1, "red", 100, NVO_BUM_HEAD_END, 1);
    nvo_model_add_network(f.m, 2, "blue", 200, NVO_BUM_SERVICE_NODE, 1);
    for (int i = 0; i < N_OVS; i++) {
        char name[16], ip[32], db[64];
        snprintf(name, sizeof name, "hv%d", i);
        snprintf(ip, sizeof ip, "192.0.2.%d", 11 + i);
        snprintf(db, sizeof db, "tcp:%s:6640", ip);
        f.ovs[i] = nvo_model_add_hv(f.m, 1 + i, name, ip, NVO_DP_OVS,
                                    NVO_ROLE_HYPERVISOR, db, 1);
    }
    for (int i = 0; i < N_SN; i++) {
        char name[16], ip[32];
        snprintf(name, sizeof name, "sn%d", i);
        snprintf(ip, sizeof ip, "192.0.2.%d", 21 + i);
        f.sn[i] = nvo_model_add_hv(f.m, 1 + N_OVS + i, name, ip,
                                   NVO_DP_KERNEL, NVO_ROLE_SERVICE_NODE,
                                   NULL, 1);
    }
    f.alive[f.sn[0]->id] = true;

    /* Every other hypervisor uses the cache (encoded tunnel outputs, and
     * the flows of units shared between hypervisors). */
    struct ovs_flows_cache *cache = ovs_flows_cache_create();
    for (int i = 0; i < N_OVS; i++) {
        struct hv_state *s = &hvs[i];
        s->view = desired_compute(f.m, f.ovs[i], alive_fn, &f, NULL, NULL, 0);
        simap_init(&s->ifaces);
        simap_init(&s->tunnels);
        s->next_ofport = 1;
        s->engine = ovs_flowinc_create();
        ovs_flowset_init(&s->installed);
    }

    size_t n_changes = 0, n_steps = 0, n_table = 0;
    for (int step = 0; step < 800; step++) {
        int64_t changed;
        bool one = mutate(&f, &changed);
        /* One round of views per step, as the controller makes them: the
         * hypervisors' views of a network share its ports (and the
         * cache then shares their flows). */
        struct desired_cache *dc = desired_cache_create();
        for (int i = 0; i < N_OVS; i++) {
            struct hv_state *s = &hvs[i];
            struct nvo_hv_view *v = desired_compute_cached(
                f.m, f.ovs[i], alive_fn, &f, s->view, &changed,
                one ? 1 : DESIRED_ALL_CHANGED, dc);
            nvo_hv_view_destroy(s->view);
            s->view = v;

            /* Half the time the maps move in a step of their own, as when
             * OVSDB reports ofports after the view arrived. */
            struct ovs_flows_cache *c = i % 2 ? cache : NULL;
            check_step(s, c, false, &n_changes);
            bool maps = churn_maps(&f, s);
            if (maps || next_rand(&f.seed) % 2) {
                check_step(s, c, maps, &n_changes);
            }
            if (next_rand(&f.seed) % 97 == 0) {
                /* A reconnection: everything again, nothing to send. */
                size_t before = n_changes;
                ovs_flowinc_reset(s->engine);
                check_step(s, c, true, &n_changes);
                assert_int_equal(before, n_changes);
            }
            n_steps++;
            n_table += ovs_flowset_count(ovs_flowinc_table(s->engine));
        }
        desired_cache_destroy(dc);
    }

    /* Incremental means the work is the size of the changes, not of the
     * tables: over the run, far fewer flow changes than flows held. */
    struct ovs_flowinc_stats st;
    ovs_flowinc_get_stats(hvs[0].engine, &st);
    assert_int_equal(st.n_conflicts, 0);
    assert_true(n_table > 20000);
    assert_true(n_changes * 4 < n_table);

    for (int i = 0; i < N_OVS; i++) {
        struct hv_state *s = &hvs[i];
        nvo_hv_view_destroy(s->view);
        simap_destroy(&s->ifaces);
        simap_destroy(&s->tunnels);
        ovs_flowinc_destroy(s->engine);
        ovs_flowset_destroy(&s->installed);
    }
    ovs_flows_cache_destroy(cache);
    nvo_model_destroy(f.m);
}

/* A port added to a network of many recomputes a handful of units, and
 * what is missing is reported by name. */
static void
test_small_change_small_work(void **state OVS_UNUSED)
{
    struct nvo_model *m = nvo_model_create();
    struct nvo_network *net = nvo_model_add_network(m, 1, "red", 100,
                                                    NVO_BUM_HEAD_END, 1);
    struct nvo_hypervisor *hv[41];     /* hv40: no port until the end. */
    for (int i = 0; i < 41; i++) {
        char name[16], ip[32];
        snprintf(name, sizeof name, "hv%d", i);
        snprintf(ip, sizeof ip, "192.0.2.%d", 11 + i);
        hv[i] = nvo_model_add_hv(m, 1 + i, name, ip, NVO_DP_OVS,
                                 NVO_ROLE_HYPERVISOR, "tcp:192.0.2.1:6640",
                                 1);
    }
    for (int i = 0; i < 200; i++) {
        char vm[16], iface[16];
        snprintf(vm, sizeof vm, "vm%d", i);
        snprintf(iface, sizeof iface, "v%d", i);
        nvo_model_add_port(m, 100 + i, vm, net, hv[i % 40], mac_of(100 + i),
                           NULL, iface, 2);
    }
    struct simap ifaces = SIMAP_INITIALIZER(&ifaces);
    struct simap tunnels = SIMAP_INITIALIZER(&tunnels);
    for (int i = 0; i < 200; i += 40) {
        char iface[16];
        snprintf(iface, sizeof iface, "v%d", i);
        simap_put(&ifaces, iface, 1 + i);
    }
    simap_put(&tunnels, "vxlan", 1000);

    struct nvo_hv_view *v = desired_compute(m, hv[0], NULL, NULL, NULL,
                                            NULL, 0);
    struct ovs_flows_input in = { v, &ifaces, &tunnels };
    struct ovs_flowinc *e = ovs_flowinc_create();
    ovs_flowinc_update(e, &in, true);
    assert_true(ovs_flowinc_is_complete(e));
    struct ovs_flowinc_stats st0, st1;
    ovs_flowinc_get_stats(e, &st0);
    size_t n_flows = ovs_flowset_count(ovs_flowinc_table(e));
    /* 4 pipeline + 5 locals x 3 + 195 remotes + 39 tunnels + 2 BUM. */
    assert_int_equal(n_flows, 4 + 15 + 195 + 39 + 2);

    /* A VM starts on hv7: hv0 gets one remote flow, nothing else. */
    m->revision = 3;
    nvo_model_add_port(m, 999, "new", net, hv[7], mac_of(999), NULL, "vnew",
                       3);
    int64_t changed = net->id;
    struct nvo_hv_view *v2 = desired_compute(m, hv[0], NULL, NULL, v,
                                             &changed, 1);
    in.view = v2;
    struct ovs_flowset keys;
    ovs_flowset_init(&keys);
    ovs_flowinc_take_changes(e, &keys);
    ovs_flowset_clear(&keys);
    ovs_flowinc_update(e, &in, false);
    ovs_flowinc_get_stats(e, &st1);
    assert_int_equal(st1.n_recomputed - st0.n_recomputed, 1);
    ovs_flowinc_take_changes(e, &keys);
    assert_int_equal(ovs_flowset_count(&keys), 1);
    ovs_flowset_clear(&keys);

    /* A VM starts on hv0 without an ofport yet: it waits for it. */
    nvo_model_add_port(m, 1000, "mine", net, hv[0], mac_of(1000), NULL,
                       "vmine", 4);
    struct nvo_hv_view *v3 = desired_compute(m, hv[0], NULL, NULL, v2,
                                             &changed, 1);
    in.view = v3;
    ovs_flowinc_update(e, &in, false);
    assert_false(ovs_flowinc_is_complete(e));
    struct ds s = DS_EMPTY_INITIALIZER;
    ovs_flowinc_format_missing(e, &s);
    assert_string_equal(ds_cstr(&s), "vmine");
    ds_destroy(&s);

    /* Its ofport appears: its 3 flows and the 2 BUM flows change. */
    ovs_flowinc_take_changes(e, &keys);
    ovs_flowset_clear(&keys);
    simap_put(&ifaces, "vmine", 77);
    ovs_flowinc_update(e, &in, true);
    assert_true(ovs_flowinc_is_complete(e));
    ovs_flowinc_take_changes(e, &keys);
    assert_int_equal(ovs_flowset_count(&keys), 5);
    ovs_flowset_clear(&keys);

    /* A VM starts on a hypervisor new to the network, a new VTEP: hv0
     * gets its remote flow, the classification of frames from it and the
     * BUM flow from local VMs with one more copy; no port, no map change
     * (the tunnel port is the same for every VTEP). */
    nvo_model_add_port(m, 1001, "far", net, hv[40], mac_of(1001), NULL,
                       "vfar", 5);
    struct nvo_hv_view *v4 = desired_compute(m, hv[0], NULL, NULL, v3,
                                             &changed, 1);
    in.view = v4;
    ovs_flowinc_get_stats(e, &st0);
    ovs_flowinc_update(e, &in, false);
    ovs_flowinc_get_stats(e, &st1);
    assert_true(ovs_flowinc_is_complete(e));
    assert_int_equal(st1.n_recomputed - st0.n_recomputed, 3);
    ovs_flowinc_take_changes(e, &keys);
    assert_int_equal(ovs_flowset_count(&keys), 3);
    /* "new", "mine" (3 flows), "far" and its VTEP's classification. */
    assert_int_equal(ovs_flowset_count(ovs_flowinc_table(e)),
                     n_flows + 1 + 3 + 1 + 1);
    nvo_hv_view_destroy(v4);

    ovs_flowset_destroy(&keys);
    ovs_flowinc_destroy(e);
    nvo_hv_view_destroy(v);
    nvo_hv_view_destroy(v2);
    nvo_hv_view_destroy(v3);
    simap_destroy(&ifaces);
    simap_destroy(&tunnels);
    nvo_model_destroy(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incremental_equals_full),
        cmocka_unit_test(test_small_change_small_work),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
