/* Unit tests: the ARP responder (controller/ovs-flows-arp.c) and port
 * security (controller/ovs-flows-portsec.c) generators, through the whole
 * pipeline (ovs_flows_compute()); every flow is also checked to be
 * unchanged by an OpenFlow 1.3 encode and decode. */
#include <config.h>

#include <errno.h>
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
#include "controller/ovs-flows-arp.h"
#include "controller/ovs-flows-portsec.h"
#include "controller/ovs-flows.h"
#include "controller/ovs-flowset.h"
#include "controller/ovs-tunnels.h"
#include "tests/unit/flowset-text.h"
#include "openvswitch/shash.h"
#include "openvswitch/match.h"
#include "packets.h"
#include "simap.h"
#include "util.h"

struct fixture {
    struct nvo_model *m;
    struct nvo_network *red, *blue;
    struct nvo_hypervisor *a, *b;
    struct simap ifaces, tunnels;
};

static struct eth_addr
mac(uint8_t last)
{
    return (struct eth_addr) { .ea = { 0x02, 0, 0, 0, 0, last } };
}

/* Hypervisor a: red (VNI 100) vm10 10.0.0.10 and vm11 (no ip) local, vm12
 * 10.0.0.12 on b; blue (VNI 200) vm13 10.0.0.10 local (the same address as
 * vm10, another tenant), vm14 10.0.0.14 on b. */
static int
setup_with(void **state, const char *ip_a, const char *ip_b)
{
    struct fixture *f = xzalloc(sizeof *f);
    f->m = nvo_model_create();
    f->red = nvo_model_add_network(f->m, 1, "red", 100, NVO_BUM_HEAD_END, 1);
    f->blue = nvo_model_add_network(f->m, 2, "blue", 200, NVO_BUM_HEAD_END,
                                    2);
    f->a = nvo_model_add_hv(f->m, 1, "a", ip_a, NVO_DP_OVS,
                            NVO_ROLE_HYPERVISOR, "tcp:192.0.2.11:6640", 3);
    f->b = nvo_model_add_hv(f->m, 2, "b", ip_b, NVO_DP_OVS,
                            NVO_ROLE_HYPERVISOR, "tcp:192.0.2.12:6640", 4);
    nvo_model_add_port(f->m, 10, "vm10", f->red, f->a, mac(0x10),
                       "10.0.0.10", "v-vm10", 5);
    nvo_model_add_port(f->m, 11, "vm11", f->red, f->a, mac(0x11), NULL,
                       "v-vm11", 6);
    nvo_model_add_port(f->m, 12, "vm12", f->red, f->b, mac(0x12),
                       "10.0.0.12", "v-vm12", 7);
    nvo_model_add_port(f->m, 13, "vm13", f->blue, f->a, mac(0x13),
                       "10.0.0.10", "v-vm13", 8);
    nvo_model_add_port(f->m, 14, "vm14", f->blue, f->b, mac(0x14),
                       "10.0.0.14", "v-vm14", 9);
    f->m->revision = 9;
    simap_init(&f->ifaces);
    simap_put(&f->ifaces, "v-vm10", 1);
    simap_put(&f->ifaces, "v-vm11", 2);
    simap_put(&f->ifaces, "v-vm13", 3);
    simap_init(&f->tunnels);
    simap_put(&f->tunnels, "vxlan", 10);
    *state = f;
    return 0;
}

static int
setup(void **state)
{
    return setup_with(state, "192.0.2.11", "192.0.2.12");
}

/* The same with an IPv6 underlay. */
static int
setup6(void **state)
{
    return setup_with(state, "2001:db8::11", "2001:db8::12");
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    nvo_model_destroy(f->m);
    simap_destroy(&f->ifaces);
    simap_destroy(&f->tunnels);
    free(f);
    return 0;
}

/* a's flows in 'table' at priorities >= 'min_prio', formatted and sorted,
 * one per line.  Caller frees. */
/* Computes a's flows into 'fs' (initialized by the caller). */
static void
a_flows(struct fixture *f, struct ovs_flowset *fs)
{
    struct nvo_hv_view *v = desired_compute(f->m, f->a, NULL, NULL, NULL,
                                            NULL, 0);
    struct ovs_flows_input in = {
        .view = v,
        .iface_ofports = &f->ifaces,
        .tunnel_ofports = &f->tunnels,
    };
    assert_true(ovs_flows_compute(&in, fs, NULL));
    nvo_hv_view_destroy(v);
    /* ovs_flows_put() builds each flow in the form the switch reports it
     * without an encode and decode: check that form here. */
    const struct ovs_flow *flow;
    HMAP_FOR_EACH (flow, node, &fs->flows) {
        assert_true(ovs_flow_is_canonical(flow));
    }
}

/* a's flows in 'table' with a priority of at least 'min_prio', as
 * flowset_text() gives them; their total count in '*total' if nonnull.
 * Caller frees. */
static char *
flows(struct fixture *f, int table, int min_prio, size_t *total)
{
    struct ovs_flowset fs;
    ovs_flowset_init(&fs);
    a_flows(f, &fs);
    if (total) {
        *total = ovs_flowset_count(&fs);
    }
    char *text = flowset_text(&fs, table, min_prio);
    ovs_flowset_destroy(&fs);
    return text;
}

static void
expect(const char *got, const char *expected)
{
    if (strcmp(got, expected)) {
        fprintf(stderr, "got:\n%sexpected:\n%s", got, expected);
    }
    assert_string_equal(got, expected);
}

/* Each known address of a network is answered in place, one flow per
 * address: reply built from the request, sent back out the port it came in
 * on; a local owner's own request (vm10 at ofport 1, vm13 at ofport 3) is
 * not answered: a flow above the reply floods it; blue's
 * 10.0.0.10 (another tenant, same address as red's vm10) gets its own
 * answer with vm13's MAC. */
static void
test_arp_responder(void **state)
{
    struct fixture *f = *state;
    char *got = flows(f, OVS_TABLE_DMAC, OVS_PRIO_ARP_REPLY, NULL);
#define OWN(INPORT, MD, IP, COOKIE) \
    "table=1, priority=210, arp,reg0=0,metadata=" MD ",in_port=" INPORT \
    ",dl_dst=ff:ff:ff:ff:ff:ff,arp_tpa=" IP ",arp_op=1 cookie=" COOKIE \
    " actions=goto_table:2\n"
#define REPLY(MD, IP, MAC, COOKIE) \
    "table=1, priority=200, arp,reg0=0,metadata=" MD \
    ",dl_dst=ff:ff:ff:ff:ff:ff,arp_tpa=" IP ",arp_op=1 cookie=" COOKIE \
    " actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:" MAC \
    "->eth_src,set_field:2->arp_op,move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[]," \
    "set_field:" MAC "->arp_sha,move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[]," \
    "set_field:" IP "->arp_spa,IN_PORT\n"
    expect(got,
REPLY("0x64", "10.0.0.10", "02:00:00:00:00:10", "0x6e1000000000000a")
REPLY("0x64", "10.0.0.12", "02:00:00:00:00:12", "0x6e1000000000000c")
REPLY("0xc8", "10.0.0.10", "02:00:00:00:00:13", "0x6e1000000000000d")
REPLY("0xc8", "10.0.0.14", "02:00:00:00:00:14", "0x6e1000000000000e")
OWN("1", "0x64", "10.0.0.10", "0x6e1000000000000a")
OWN("3", "0xc8", "10.0.0.10", "0x6e1000000000000d"));
    free(got);
}

/* "arp_responder": false: no responder flows for that network only. */
static void
test_arp_responder_off(void **state)
{
    struct fixture *f = *state;
    nvo_model_set_arp_responder(f->m, f->red, false, 10);
    char *got = flows(f, OVS_TABLE_DMAC, OVS_PRIO_ARP_REPLY, NULL);
    assert_null(strstr(got, "metadata=0x64"));
    assert_non_null(strstr(got, "metadata=0xc8"));
    free(got);
}

/* Two ports of one network claiming one address: the lower id answers,
 * once. */
static void
test_arp_responder_duplicate(void **state)
{
    struct fixture *f = *state;
    struct nvo_port *p = nvo_model_port_by_id(f->m, 12);
    free(p->ip);
    p->ip = xstrdup("10.0.0.10");
    char *got = flows(f, OVS_TABLE_DMAC, OVS_PRIO_ARP_REPLY, NULL);
    assert_non_null(strstr(got, "metadata=0x64,dl_dst=ff:ff:ff:ff:ff:ff,"
                           "arp_tpa=10.0.0.10,arp_op=1 cookie="
                           "0x6e1000000000000a"));
    assert_null(strstr(got, "cookie=0x6e1000000000000c"));
    assert_null(strstr(got, "arp_tpa=10.0.0.12"));
    free(got);
}

/* vm10 (10.0.0.10 plus 192.168.7.0/24 and 2001:db8::1 allowed): IPv4 and
 * ARP only from those IPv4 addresses with its MAC, IPv6 with its MAC, and no classify flow: everything else from its
 * port meets the MAC guard; vm11 (no ip): the classify flow, the MAC check
 * only. */
static void
test_port_security(void **state)
{
    struct fixture *f = *state;
    char *const allowed[] = { "192.168.7.0/24", "2001:db8::1" };
    nvo_model_set_port_allowed(f->m, nvo_model_port_by_id(f->m, 10),
                               allowed, 2);
    char *got = flows(f, OVS_TABLE_CLASSIFY, OVS_PRIO_PORTSEC_MAC, NULL);
    expect(got,
"table=0, priority=100, in_port=2,dl_src=02:00:00:00:00:11 cookie=0x6e1000000000000b actions=write_metadata:0x64,goto_table:1\n"
"table=0, priority=100, tun_id=0x64,tun_src=192.0.2.12,in_port=10 cookie=0x6e300000c000020c actions=set_field:0x1->reg0,write_metadata:0x64,goto_table:1\n"
"table=0, priority=100, tun_id=0xc8,tun_src=192.0.2.12,in_port=10 cookie=0x6e300000c000020c actions=set_field:0x1->reg0,write_metadata:0xc8,goto_table:1\n"
"table=0, priority=110, arp,in_port=1,dl_src=02:00:00:00:00:10,arp_spa=10.0.0.10,arp_sha=02:00:00:00:00:10 cookie=0x6e1000000000000a actions=write_metadata:0x64,goto_table:1\n"
"table=0, priority=110, arp,in_port=1,dl_src=02:00:00:00:00:10,arp_spa=192.168.7.0/24,arp_sha=02:00:00:00:00:10 cookie=0x6e1000000000000a actions=write_metadata:0x64,goto_table:1\n"
"table=0, priority=110, arp,in_port=3,dl_src=02:00:00:00:00:13,arp_spa=10.0.0.10,arp_sha=02:00:00:00:00:13 cookie=0x6e1000000000000d actions=write_metadata:0xc8,goto_table:1\n"
"table=0, priority=110, ip,in_port=1,dl_src=02:00:00:00:00:10,nw_src=10.0.0.10 cookie=0x6e1000000000000a actions=write_metadata:0x64,goto_table:1\n"
"table=0, priority=110, ip,in_port=1,dl_src=02:00:00:00:00:10,nw_src=192.168.7.0/24 cookie=0x6e1000000000000a actions=write_metadata:0x64,goto_table:1\n"
"table=0, priority=110, ip,in_port=3,dl_src=02:00:00:00:00:13,nw_src=10.0.0.10 cookie=0x6e1000000000000d actions=write_metadata:0xc8,goto_table:1\n"
"table=0, priority=110, ipv6,in_port=1,dl_src=02:00:00:00:00:10 cookie=0x6e1000000000000a actions=write_metadata:0x64,goto_table:1\n"
"table=0, priority=50, in_port=1 cookie=0x6e1000000000000a actions=drop\n"
"table=0, priority=50, in_port=2 cookie=0x6e1000000000000b actions=drop\n"
"table=0, priority=50, in_port=3 cookie=0x6e1000000000000d actions=drop\n");
    free(got);
}

/* Adding ARP responder and port security must not double a hypervisor's
 * table: count with and without addresses (ARP responder on in both: with
 * no addresses it has nothing to answer). */
static void
test_flow_count(void **state)
{
    struct fixture *f = *state;
    size_t with, without;
    free(flows(f, 0, 0, &with));
    struct nvo_port *p;
    HMAP_FOR_EACH (p, id_node, &f->m->ports_by_id) {
        free(p->ip);
        p->ip = NULL;
    }
    free(flows(f, 0, 0, &without));
    /* Without: 21 (4 pipeline, 3 for each of the 3 local ports, 1 for each
     * of the 2 remote ones, 2 tunnel and 4 flooding flows).  With: local
     * vm10 and vm13 (one address each) get 2 port-security flows in place
     * of the classify flow, each of the 4 addresses 1 responder flow,
     * and the 2 local ones 1 more for the owner's own request. */
    assert_int_equal(without, 21);
    assert_int_equal(with - without, 2 * (2 - 1) + 4 + 2);
    assert_true(with < 2 * without);
}

/* A Geneve network and a VXLAN one on the same switch, toward the same
 * VTEP: each network's flows go through the flow-based tunnel port of its
 * encapsulation, with the same VTEP as tun_dst, and classify on that
 * port. */
static void
test_mixed_encaps(void **state)
{
    struct fixture *f = *state;
    nvo_model_set_encap(f->m, f->red, NVO_ENCAP_GENEVE, 10);
    struct nvo_hv_view *v = desired_compute(f->m, f->a, NULL, NULL, NULL,
                                            NULL, 0);
    size_t n_tunnels;
    char **tunnels = nvo_hv_view_tunnels(v, &n_tunnels);
    assert_int_equal(n_tunnels, 2);
    assert_string_equal(tunnels[0], "192.0.2.12");
    assert_string_equal(tunnels[1], "geneve/192.0.2.12");
    for (size_t i = 0; i < n_tunnels; i++) {
        free(tunnels[i]);
    }
    free(tunnels);

    /* One port per encapsulation in use, not one per (VTEP,
     * encapsulation). */
    struct shash wants = SHASH_INITIALIZER(&wants);
    ovs_ports_want_compute(v, &wants);
    const struct ovs_port_want *w = shash_find_data(&wants, "nvt-geneve");
    assert_non_null(w);
    assert_string_equal(w->type, "geneve");
    w = shash_find_data(&wants, "nvt-vxlan");
    assert_non_null(w);
    assert_string_equal(w->type, "vxlan");
    assert_null(shash_find(&wants, "nvt-gre"));     /* No GRE network. */
    assert_int_equal(shash_count(&wants), 2 + 3);   /* + 3 local VMs. */
    ovs_ports_want_clear(&wants);
    shash_destroy(&wants);
    nvo_hv_view_destroy(v);

    simap_put(&f->tunnels, "geneve", 20);
    char *got = flows(f, OVS_TABLE_DMAC, 100, NULL);
    /* red (0x64) tunnels to vm12 through the Geneve port, blue (0xc8)
     * to vm14 through the VXLAN one, both to b's address. */
    assert_non_null(strstr(got, "reg0=0,metadata=0x64,dl_dst=02:00:00:00:00:12"
                           " cookie=0x6e1000000000000c actions=set_field:"
                           "0x64->tun_id,set_field:192.0.2.12->tun_dst,"
                           "output:20\n"));
    assert_non_null(strstr(got, "reg0=0,metadata=0xc8,dl_dst=02:00:00:00:00:14"
                           " cookie=0x6e1000000000000e actions=set_field:"
                           "0xc8->tun_id,set_field:192.0.2.12->tun_dst,"
                           "output:10\n"));
    free(got);
    got = flows(f, OVS_TABLE_CLASSIFY, 100, NULL);
    assert_non_null(strstr(got, "tun_id=0x64,tun_src=192.0.2.12,in_port=20 "));
    assert_non_null(strstr(got, "tun_id=0xc8,tun_src=192.0.2.12,in_port=10 "));
    assert_null(strstr(got, "tun_id=0x64,tun_src=192.0.2.12,in_port=10 "));
    free(got);
}

/* An IPv6 underlay: the same port, the VTEP in tun_ipv6_dst and matched
 * as tun_ipv6_src. */
static void
test_ipv6_vteps(void **state)
{
    struct fixture *f = *state;
    char *got = flows(f, OVS_TABLE_DMAC, 100, NULL);
    assert_non_null(strstr(got, "dl_dst=02:00:00:00:00:12 cookie=0x6e1000000000000c"
                           " actions=set_field:0x64->tun_id,set_field:"
                           "2001:db8::12->tun_ipv6_dst,output:10\n"));
    assert_null(strstr(got, "->tun_dst"));
    free(got);
    got = flows(f, OVS_TABLE_CLASSIFY, 100, NULL);
    assert_non_null(strstr(got, "tun_id=0x64,tun_ipv6_src=2001:db8::12,"
                           "in_port=10 "));
    free(got);
    got = flows(f, OVS_TABLE_BUM, 100, NULL);
    assert_non_null(strstr(got, "set_field:0x64->tun_id,set_field:"
                           "2001:db8::12->tun_ipv6_dst,output:10\n"));
    free(got);
}

/* A network across many hypervisors: a's BUM flow carries one tun_dst and
 * one output per other hypervisor (hundreds of actions, built in a buffer
 * that doubles: ovs-flows.c), and copies of the flows (the installed set
 * after a bundle, ovs-flowset.c) equal them. */
static void
test_large_flood(void **state)
{
    struct fixture *f = *state;
    enum { N = 300 };
    for (int i = 0; i < N; i++) {
        char name[16], ip[32], iface[16];
        snprintf(name, sizeof name, "h%d", i);
        snprintf(ip, sizeof ip, "198.18.%d.%d", i / 200, i % 200 + 10);
        snprintf(iface, sizeof iface, "v-h%d", i);
        struct nvo_hypervisor *hv = nvo_model_add_hv(
            f->m, 100 + i, name, ip, NVO_DP_OVS, NVO_ROLE_HYPERVISOR, NULL,
            10 + i);
        struct eth_addr m = { .ea = { 0x02, 0x01, 0, 0, i >> 8, i & 0xff } };
        nvo_model_add_port(f->m, 100 + i, name, f->red, hv, m, NULL, iface,
                           10 + i);
    }
    f->m->revision = 10 + N;

    char *bum = flows(f, OVS_TABLE_BUM, OVS_PRIO_MATCH, NULL);
    size_t n_out = 0, n_dst = 0;
    for (const char *p = bum; (p = strstr(p, "output:10")); p++) {
        n_out++;
    }
    for (const char *p = bum; (p = strstr(p, "->tun_dst")); p++) {
        n_dst++;
    }
    /* red: b and the N others; blue: b. */
    assert_int_equal(n_out, N + 2);
    assert_int_equal(n_dst, N + 2);
    assert_non_null(strstr(bum, "198.18.1.109->tun_dst,output:10"));
    free(bum);

    struct ovs_flowset desired, copy, installed;
    ovs_flowset_init(&desired);
    ovs_flowset_init(&copy);
    ovs_flowset_init(&installed);
    a_flows(f, &desired);
    ovs_flowset_clone(&copy, &desired);
    assert_true(ovs_flowset_equal(&copy, &desired));
    struct ovs_flow_changes c;
    ovs_flowset_diff(&desired, &installed, &c);
    assert_int_equal(c.n_add, ovs_flowset_count(&desired));
    ovs_flowset_apply(&installed, &c);
    ovs_flow_changes_destroy(&c);
    assert_true(ovs_flowset_equal(&installed, &desired));
    ovs_flowset_diff(&desired, &installed, &c);
    assert_int_equal(c.n, 0);
    ovs_flow_changes_destroy(&c);
    ovs_flowset_destroy(&desired);
    ovs_flowset_destroy(&copy);
    ovs_flowset_destroy(&installed);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_arp_responder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arp_responder_off, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_arp_responder_duplicate, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_port_security, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flow_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_encaps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_vteps, setup6, teardown),
        cmocka_unit_test_setup_teardown(test_large_flood, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
