/* Unit tests: controller/ovs-flows.c (the pipeline) and
 * controller/ovs-tunnels.c (the ports), from views desired_compute() makes. */
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
#include "controller/ovs-flows.h"
#include "controller/ovs-flowset.h"
#include "controller/ovs-hv.h"
#include "controller/ovs-tunnels.h"
#include "tests/unit/flowset-text.h"
#include "byte-order.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/shash.h"
#include "packets.h"
#include "simap.h"
#include "sset.h"

struct fixture {
    struct nvo_model *m;
    struct nvo_network *red, *blue;
    struct nvo_hypervisor *a, *b, *c, *sn1;
    bool sn_alive;
    struct simap ifaces, tunnels;
};

static struct eth_addr
mac(uint8_t last)
{
    return (struct eth_addr) { .ea = { 0x02, 0, 0, 0, 0, last } };
}

static bool
alive_fn(const struct nvo_hypervisor *hv OVS_UNUSED, void *aux)
{
    struct fixture *f = aux;
    return f->sn_alive;
}

/* Hypervisor a (OVS) has red (head-end, VNI 100): vm10 and vm11 local,
 * vm12 on b; and blue (service-node, VNI 200): vm13 local, vm14 on c. */
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
    nvo_model_add_port(f->m, 10, "vm10", f->red, f->a, mac(0x10), NULL,
                       "v-vm10", 7);
    nvo_model_add_port(f->m, 11, "vm11", f->red, f->a, mac(0x11), NULL,
                       "v-vm11", 8);
    nvo_model_add_port(f->m, 12, "vm12", f->red, f->b, mac(0x12), NULL,
                       "v-vm12", 9);
    nvo_model_add_port(f->m, 13, "vm13", f->blue, f->a, mac(0x13), NULL,
                       "v-vm13", 10);
    nvo_model_add_port(f->m, 14, "vm14", f->blue, f->c, mac(0x14), NULL,
                       "v-vm14", 11);
    f->m->revision = 11;
    f->sn_alive = true;

    simap_init(&f->ifaces);
    simap_put(&f->ifaces, "v-vm10", 1);
    simap_put(&f->ifaces, "v-vm11", 2);
    simap_put(&f->ifaces, "v-vm13", 3);
    simap_init(&f->tunnels);
    /* One flow-based tunnel port per encapsulation, whatever the VTEPs. */
    simap_put(&f->tunnels, "vxlan", 10);
    simap_put(&f->tunnels, "geneve", 11);
    simap_put(&f->tunnels, "gre", 12);
    *state = f;
    return 0;
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

/* Computes a's flows and returns them formatted, sorted, one per line.
 * Caller frees. */
static char *
flows_of_a(struct fixture *f, bool *complete, struct sset *missing)
{
    struct nvo_hv_view *v = desired_compute(f->m, f->a, alive_fn, f, NULL,
                                            NULL, 0);
    struct ovs_flows_input in = {
        .view = v,
        .iface_ofports = &f->ifaces,
        .tunnel_ofports = &f->tunnels,
    };
    struct ovs_flowset fs;
    ovs_flowset_init(&fs);
    bool ok = ovs_flows_compute(&in, &fs, missing);
    if (complete) {
        *complete = ok;
    }
    const struct ovs_flow *flow;
    HMAP_FOR_EACH (flow, node, &fs.flows) {
        assert_true(ovs_flow_is_canonical(flow));
    }

    char *all = flowset_text(&fs, -1, 0);
    ovs_flowset_destroy(&fs);
    nvo_hv_view_destroy(v);
    return all;
}

static void
test_flows_two_networks(void **state)
{
    struct fixture *f = *state;
    bool complete;
    char *got = flows_of_a(f, &complete, NULL);
    static const char expected[] =
"table=0, priority=0 cookie=0x6e00000000000000 actions=drop\n"
"table=0, priority=100, in_port=1,dl_src=02:00:00:00:00:10 cookie=0x6e1000000000000a actions=write_metadata:0x64,goto_table:1\n"
"table=0, priority=100, in_port=2,dl_src=02:00:00:00:00:11 cookie=0x6e1000000000000b actions=write_metadata:0x64,goto_table:1\n"
"table=0, priority=100, in_port=3,dl_src=02:00:00:00:00:13 cookie=0x6e1000000000000d actions=write_metadata:0xc8,goto_table:1\n"
"table=0, priority=100, tun_id=0x64,tun_src=192.0.2.12,in_port=10 cookie=0x6e300000c000020c actions=set_field:0x1->reg0,write_metadata:0x64,goto_table:1\n"
"table=0, priority=100, tun_id=0xc8,tun_src=192.0.2.13,in_port=10 cookie=0x6e300000c000020d actions=set_field:0x1->reg0,write_metadata:0xc8,goto_table:1\n"
"table=0, priority=100, tun_id=0xc8,tun_src=192.0.2.21,in_port=10 cookie=0x6e300000c0000215 actions=set_field:0x1->reg0,write_metadata:0xc8,goto_table:1\n"
"table=0, priority=50, in_port=1 cookie=0x6e1000000000000a actions=drop\n"
"table=0, priority=50, in_port=2 cookie=0x6e1000000000000b actions=drop\n"
"table=0, priority=50, in_port=3 cookie=0x6e1000000000000d actions=drop\n"
"table=1, priority=0 cookie=0x6e00000000000000 actions=goto_table:2\n"
"table=1, priority=100, metadata=0x64,dl_dst=02:00:00:00:00:10 cookie=0x6e1000000000000a actions=output:1\n"
"table=1, priority=100, metadata=0x64,dl_dst=02:00:00:00:00:11 cookie=0x6e1000000000000b actions=output:2\n"
"table=1, priority=100, metadata=0xc8,dl_dst=02:00:00:00:00:13 cookie=0x6e1000000000000d actions=output:3\n"
"table=1, priority=100, reg0=0,metadata=0x64,dl_dst=02:00:00:00:00:12 cookie=0x6e1000000000000c actions=set_field:0x64->tun_id,set_field:192.0.2.12->tun_dst,output:10\n"
"table=1, priority=100, reg0=0,metadata=0xc8,dl_dst=02:00:00:00:00:14 cookie=0x6e1000000000000e actions=set_field:0xc8->tun_id,set_field:192.0.2.13->tun_dst,output:10\n"
"table=1, priority=50, reg0=0x1,dl_dst=00:00:00:00:00:00/01:00:00:00:00:00 cookie=0x6e00000000000000 actions=drop\n"
"table=2, priority=0 cookie=0x6e00000000000000 actions=drop\n"
"table=2, priority=100, reg0=0,metadata=0x64 cookie=0x6e20000000000064 actions=output:1,output:2,set_field:0x64->tun_id,set_field:192.0.2.12->tun_dst,output:10\n"
"table=2, priority=100, reg0=0,metadata=0xc8 cookie=0x6e200000000000c8 actions=output:3,set_field:0xc8->tun_id,set_field:192.0.2.21->tun_dst,output:10\n"
"table=2, priority=100, reg0=0x1,metadata=0x64 cookie=0x6e20000000000064 actions=output:1,output:2\n"
"table=2, priority=100, reg0=0x1,metadata=0xc8 cookie=0x6e200000000000c8 actions=output:3\n";
    if (strcmp(got, expected)) {
        fprintf(stderr, "got:\n%s", got);
    }
    assert_string_equal(got, expected);
    assert_true(complete);
    free(got);
}

/* Only the VM's own source MAC enters its network; any other source MAC
 * from its port meets the priority-50 drop. */
static void
test_flows_spoof_guard(void **state)
{
    struct fixture *f = *state;
    char *got = flows_of_a(f, NULL, NULL);
    assert_non_null(strstr(got, "table=0, priority=100, in_port=1,"
                           "dl_src=02:00:00:00:00:10 "));
    assert_null(strstr(got, "in_port=1,dl_src=02:00:00:00:00:11"));
    assert_non_null(strstr(got, "table=0, priority=50, in_port=1 "
                           "cookie=0x6e1000000000000a actions=drop"));
    free(got);
}

/* Service-node mode with no service node alive: blue floods head-end, to
 * c; red (head-end) is unchanged. */
static void
test_flows_service_node_down(void **state)
{
    struct fixture *f = *state;
    f->sn_alive = false;
    char *got = flows_of_a(f, NULL, NULL);
    assert_non_null(strstr(got, "reg0=0,metadata=0xc8 cookie=0x6e200000000000c8"
                           " actions=output:3,set_field:0xc8->tun_id,"
                           "set_field:192.0.2.13->tun_dst,output:10\n"));
    assert_null(strstr(got, "192.0.2.21->tun_dst"));
    assert_non_null(strstr(got, "reg0=0,metadata=0x64 cookie=0x6e20000000000064"
                           " actions=output:1,output:2,set_field:0x64->tun_id,"
                           "set_field:192.0.2.12->tun_dst,output:10\n"));
    free(got);
}

/* Missing ofports: the flows that need them are left out and named. */
static void
test_flows_missing_ofports(void **state)
{
    struct fixture *f = *state;
    struct sset missing = SSET_INITIALIZER(&missing);
    simap_find_and_delete(&f->ifaces, "v-vm11");
    simap_find_and_delete(&f->tunnels, "vxlan");
    bool complete;
    char *got = flows_of_a(f, &complete, &missing);
    assert_false(complete);
    assert_true(sset_contains(&missing, "v-vm11"));
    assert_true(sset_contains(&missing, "nvt-vxlan"));
    assert_int_equal(sset_count(&missing), 2);
    assert_null(strstr(got, "02:00:00:00:00:11"));
    assert_null(strstr(got, "02:00:00:00:00:12"));
    /* Nothing goes to or comes from a VTEP without the tunnel port. */
    assert_null(strstr(got, "tun_"));
    assert_non_null(strstr(got, "reg0=0,metadata=0x64 cookie=0x6e20000000000064"
                           " actions=output:1\n"));
    sset_destroy(&missing);
    free(got);
}

/* What ovs_flows_compute() makes equals what a switch would report for it
 * in a flow stats reply: else every reconnection would re-add flows. */
static void
test_flows_equal_their_dump(void **state)
{
    struct fixture *f = *state;
    struct nvo_hv_view *v = desired_compute(f->m, f->a, alive_fn, f, NULL,
                                            NULL, 0);
    struct ovs_flows_input in = {
        .view = v,
        .iface_ofports = &f->ifaces,
        .tunnel_ofports = &f->tunnels,
    };
    struct ovs_flowset fs, dumped;
    ovs_flowset_init(&fs);
    ovs_flowset_init(&dumped);
    ovs_flows_compute(&in, &fs, NULL);
    assert_int_equal(ovs_flowset_count(&fs), 22);

    struct ovs_list replies;
    struct ofpbuf *req = ofpraw_alloc(OFPRAW_OFPST11_FLOW_REQUEST,
                                      OFP13_VERSION, 0);
    ofpmp_init(&replies, req->data);
    const struct ovs_flow *flow;
    HMAP_FOR_EACH (flow, node, &fs.flows) {
        struct ofputil_flow_stats st = {
            .cookie = htonll(flow->cookie),
            .table_id = flow->table_id,
            .priority = flow->priority,
            .packet_count = 0,
            .byte_count = 0,
            .ofpacts = flow->ofpacts,
            .ofpacts_len = flow->ofpacts_len,
        };
        minimatch_expand(&flow->match, &st.match);
        ofputil_append_flow_stats_reply(&st, &replies, NULL);
    }
    struct ofpbuf *reply;
    LIST_FOR_EACH_POP (reply, list_node, &replies) {
        uint64_t stub[1024 / 8];
        struct ofpbuf acts = OFPBUF_STUB_INITIALIZER(stub);
        struct ofpbuf b = ofpbuf_const_initializer(reply->data, reply->size);
        for (;;) {
            struct ofputil_flow_stats st;
            if (ofputil_decode_flow_stats_reply(&st, &b, false, &acts)) {
                break;
            }
            ovs_flowset_add(&dumped, st.table_id, st.priority, &st.match,
                            ntohll(st.cookie), st.ofpacts, st.ofpacts_len,
                            NULL);
        }
        ofpbuf_uninit(&acts);
        ofpbuf_delete(reply);
    }
    ofpbuf_delete(req);

    assert_int_equal(ovs_flowset_count(&dumped), 22);
    assert_true(ovs_flowset_equal(&fs, &dumped));
    struct ovs_flow_changes c;
    ovs_flowset_diff(&fs, &dumped, &c);
    assert_int_equal(c.n, 0);
    ovs_flow_changes_destroy(&c);
    ovs_flowset_destroy(&fs);
    ovs_flowset_destroy(&dumped);
    nvo_hv_view_destroy(v);
}

static void
test_cookies(void **state OVS_UNUSED)
{
    assert_true(ovs_cookie(OVS_COOKIE_PORT, 7) == UINT64_C(0x6e10000000000007));
    assert_true(ovs_cookie(OVS_COOKIE_NETWORK, 5001)
                == UINT64_C(0x6e20000000001389));
    assert_true(ovs_cookie(OVS_COOKIE_TUNNEL, 0xc000020c)
                == UINT64_C(0x6e300000c000020c));
    assert_true(ovs_cookie_is_nvo(ovs_cookie(OVS_COOKIE_PIPELINE, 0)));
    assert_false(ovs_cookie_is_nvo(0));
    assert_false(ovs_cookie_is_nvo(UINT64_C(0x6f10000000000007)));
}

/* nvo's tunnel port names: the flow-based set, and the per-VTEP names of
 * earlier releases (which the reconciliation and the audit must still
 * recognize as nvo's); nothing else. */
static void
test_tunnel_name(void **state OVS_UNUSED)
{
    assert_string_equal(ovs_tunnel_port_name(NVO_ENCAP_VXLAN), "nvt-vxlan");
    assert_string_equal(ovs_tunnel_port_name(NVO_ENCAP_GENEVE), "nvt-geneve");
    assert_string_equal(ovs_tunnel_port_name(NVO_ENCAP_GRE), "nvt-gre");
    assert_true(ovs_tunnel_port_is_nvo("nvt-vxlan"));
    assert_true(ovs_tunnel_port_is_nvo("nvt-gre"));
    assert_true(ovs_tunnel_port_is_nvo("nvtc000020c"));
    assert_true(ovs_tunnel_port_is_nvo("nvgc000020c"));
    assert_true(ovs_tunnel_port_is_nvo("nvrffffffff"));
    assert_true(ovs_tunnel_port_is_nvo("nvt60123456789a"));
    assert_false(ovs_tunnel_port_is_nvo("nvt-vxlan2"));
    assert_false(ovs_tunnel_port_is_nvo("nvxc000020c"));
    assert_false(ovs_tunnel_port_is_nvo("nvtc000020"));
    assert_false(ovs_tunnel_port_is_nvo("nvtc000020g"));
    assert_false(ovs_tunnel_port_is_nvo("nvt70123456789a"));
    assert_false(ovs_tunnel_port_is_nvo("v-vm10"));
    assert_false(ovs_tunnel_port_is_nvo(""));
}

/* The tunnel actions: IPv4 and IPv6 destinations in one action list
 * (tun_dst is cleared before an IPv6 one, as OVS prefers tun_dst), and
 * the source match of either family. */
static void
test_tunnel_actions(void **state OVS_UNUSED)
{
    struct ovs_flows_input in = { .view = NULL };
    struct ovs_flowset fs;
    struct ovs_flows_ctx ctx;
    ovs_flowset_init(&fs);
    ovs_flows_ctx_init(&ctx, &in, &fs, NULL);

    bool v4_set = false;
    ovs_flows_put_set_tun_id(&ctx, 5001);
    assert_true(ovs_flows_put_tunnel_output(&ctx, "192.0.2.12", 7, &v4_set));
    assert_true(ovs_flows_put_tunnel_output(&ctx, "2001:db8::13", 7,
                                            &v4_set));
    assert_true(ovs_flows_put_tunnel_output(&ctx, "2001:db8::14", 7,
                                            &v4_set));
    assert_true(ovs_flows_put_tunnel_output(&ctx, "192.0.2.15", 7, &v4_set));
    assert_false(ovs_flows_put_tunnel_output(&ctx, "bogus", 7, &v4_set));
    struct match m;
    match_init_catchall(&m);
    ovs_flows_put(&ctx, OVS_TABLE_BUM, 1, &m, 1);
    match_init_catchall(&m);
    assert_true(ovs_flows_match_tun_src(&m, "2001:db8::13"));
    ovs_flows_put(&ctx, OVS_TABLE_CLASSIFY, 1, &m, 2);
    match_init_catchall(&m);
    assert_true(ovs_flows_match_tun_src(&m, "192.0.2.12"));
    ovs_flows_put(&ctx, OVS_TABLE_CLASSIFY, 2, &m, 3);
    assert_false(ovs_flows_match_tun_src(&m, "not-an-ip"));
    ovs_flows_ctx_destroy(&ctx);

    char *got = flowset_text(&fs, -1, 0);
    assert_string_equal(got, "table=0, priority=1, "
                        "tun_ipv6_src=2001:db8::13 cookie=0x2 actions=drop\n"
                        "table=0, priority=2, "
                        "tun_src=192.0.2.12 cookie=0x3 actions=drop\n"
                        "table=2, priority=1 cookie=0x1 "
                        "actions=set_field:0x1389->tun_id,"
                        "set_field:192.0.2.12->tun_dst,output:7,"
                        "set_field:0.0.0.0->tun_dst,"
                        "set_field:2001:db8::13->tun_ipv6_dst,output:7,"
                        "set_field:2001:db8::14->tun_ipv6_dst,output:7,"
                        "set_field:192.0.2.15->tun_dst,output:7\n");
    free(got);
    ovs_flowset_destroy(&fs);
}

static void
test_ports_want(void **state)
{
    struct fixture *f = *state;
    struct nvo_hv_view *v = desired_compute(f->m, f->a, alive_fn, f, NULL,
                                            NULL, 0);
    struct shash wants = SHASH_INITIALIZER(&wants);
    ovs_ports_want_compute(v, &wants);

    /* One flow-based tunnel port for red's and blue's encapsulation
     * (VXLAN), whatever the VTEPs (b, c and the service node here); none
     * for encapsulations no network here uses; red's and blue's VMs. */
    assert_int_equal(shash_count(&wants), 4);
    const struct ovs_port_want *w = shash_find_data(&wants, "nvt-vxlan");
    assert_non_null(w);
    assert_true(w->tunnel);
    assert_string_equal(w->type, "vxlan");
    assert_null(shash_find(&wants, "nvt-geneve"));
    assert_null(shash_find(&wants, "nvt-gre"));
    w = shash_find_data(&wants, "v-vm13");
    assert_non_null(w);
    assert_false(w->tunnel);
    assert_null(w->type);
    assert_int_equal(w->port_id, 13);
    assert_non_null(shash_find(&wants, "v-vm10"));
    assert_non_null(shash_find(&wants, "v-vm11"));
    ovs_ports_want_clear(&wants);
    nvo_hv_view_destroy(v);

    /* Once the service node is gone, the same ports: VTEPs are flows. */
    f->sn_alive = false;
    v = desired_compute(f->m, f->a, alive_fn, f, NULL, NULL, 0);
    ovs_ports_want_compute(v, &wants);
    assert_int_equal(shash_count(&wants), 4);
    assert_non_null(shash_find(&wants, "nvt-vxlan"));
    ovs_ports_want_clear(&wants);
    shash_destroy(&wants);
    nvo_hv_view_destroy(v);
}

static void
test_of_targets(void **state OVS_UNUSED)
{
    char *connect, *listen;
    assert_int_equal(ovs_hv_of_targets("tcp:192.0.2.11:6640", &connect,
                                       &listen), 0);
    assert_string_equal(connect, "tcp:192.0.2.11:6653");
    assert_string_equal(listen, "ptcp:6653");
    free(connect);
    free(listen);

    assert_int_equal(ovs_hv_of_targets("unix:/run/hv1/db.sock", &connect,
                                       &listen), 0);
    assert_string_equal(connect, "unix:/run/hv1/br-int.mgmt");
    assert_null(listen);
    free(connect);

    assert_int_equal(ovs_hv_of_targets("tcp:192.0.2.11", &connect, &listen),
                     -EINVAL);
    assert_int_equal(ovs_hv_of_targets("tcp:192.0.2.11:65530", &connect,
                                       &listen), -EINVAL);
    assert_int_equal(ovs_hv_of_targets("ssl:192.0.2.11:6640", &connect,
                                       &listen), 0);
    assert_string_equal(connect, "ssl:192.0.2.11:6654");
    assert_string_equal(listen, "pssl:6654:192.0.2.11");
    free(connect);
    free(listen);
    assert_int_equal(ovs_hv_of_targets("ssl:[2001:db8::1]:6640", &connect,
                                       &listen), 0);
    assert_string_equal(connect, "ssl:[2001:db8::1]:6654");
    assert_string_equal(listen, "pssl:6654:[2001:db8::1]");
    free(connect);
    free(listen);
    assert_int_equal(ovs_hv_of_targets("ssl:192.0.2.11", &connect, &listen),
                     -EINVAL);
    assert_int_equal(ovs_hv_of_targets("pssl:6640", &connect, &listen),
                     -EINVAL);
    assert_int_equal(ovs_hv_of_targets("ssl:192.0.2.11:65522", &connect,
                                       &listen), -EINVAL);
    assert_int_equal(ovs_hv_of_targets(NULL, &connect, &listen), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flows_two_networks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_flows_spoof_guard, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_flows_service_node_down, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_flows_missing_ofports, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_flows_equal_their_dump, setup,
                                        teardown),
        cmocka_unit_test(test_cookies),
        cmocka_unit_test(test_tunnel_name),
        cmocka_unit_test(test_tunnel_actions),
        cmocka_unit_test_setup_teardown(test_ports_want, setup, teardown),
        cmocka_unit_test(test_of_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
