/* Unit tests: agent/kdp-state.c (desired kernel state from the view, and
 * the desired-vs-kernel diff) and agent/agent-view.c. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/agent-view.h"
#include "agent/kdp-state.h"
#include "util.h"

/* An IPv4 (mapped) or IPv6 address, as the kernel dataplane keeps them. */
static struct in6_addr
ip(const char *s)
{
    struct in6_addr a;
    assert_int_equal(kdp_addr_parse(s, &a), 0);
    return a;
}

/* The same, as a pointer to a temporary. */
#define IP(S) (&(struct in6_addr[1]) { ip(S) }[0])

/* Builds a heap-allocated network as the unpacker would. */
static Nvo__Network *
net_new(uint32_t vni)
{
    Nvo__Network *n = xmalloc(sizeof *n);
    nvo__network__init(n);
    n->vni = vni;
    n->name = xstrdup("n");
    n->service_node_ip = xstrdup("");
    return n;
}

static void
net_add_local(Nvo__Network *n, uint8_t last, const char *iface)
{
    Nvo__LocalPort *p = xmalloc(sizeof *p);
    nvo__local_port__init(p);
    uint8_t mac[6] = { 2, 0, 0, 0, 0, last };
    p->mac.data = xmemdup(mac, 6);
    p->mac.len = 6;
    p->iface = xstrdup(iface);
    p->vm = xstrdup("vm");
    n->locals = xrealloc(n->locals, (n->n_locals + 1) * sizeof *n->locals);
    n->locals[n->n_locals++] = p;
}

static void
net_add_remote(Nvo__Network *n, uint8_t last, const char *vtep)
{
    Nvo__RemoteMac *r = xmalloc(sizeof *r);
    nvo__remote_mac__init(r);
    uint8_t mac[6] = { 2, 0, 0, 0, 0, last };
    r->mac.data = xmemdup(mac, 6);
    r->mac.len = 6;
    r->vtep_ip = xstrdup(vtep);
    n->remotes = xrealloc(n->remotes, (n->n_remotes + 1) * sizeof *n->remotes);
    n->remotes[n->n_remotes++] = r;
}

static void
net_add_flood(Nvo__Network *n, const char *vtep)
{
    n->flood = xrealloc(n->flood, (n->n_flood + 1) * sizeof *n->flood);
    n->flood[n->n_flood++] = xstrdup(vtep);
}

static size_t
count(const struct kdp_ops *ops, enum kdp_op_type type)
{
    size_t n = 0;
    for (size_t i = 0; i < ops->n; i++) {
        n += ops->ops[i].type == type;
    }
    return n;
}

static void
test_names(void **state OVS_UNUSED)
{
    char name[KDP_IFNAMSIZ];
    uint32_t vni;
    kdp_vxlan_name(16777215, name);
    assert_string_equal(name, "nvx16777215");
    kdp_bridge_name(100, name);
    assert_string_equal(name, "nvb100");
    assert_int_equal(kdp_name_parse("nvx100", KDP_VXLAN_PREFIX, &vni), 0);
    assert_int_equal(vni, 100);
    assert_int_equal(kdp_name_parse("nvx0100", KDP_VXLAN_PREFIX, &vni),
                     -EINVAL);
    assert_int_equal(kdp_name_parse("nvx16777216", KDP_VXLAN_PREFIX, &vni),
                     -EINVAL);
    assert_int_equal(kdp_name_parse("nvx", KDP_VXLAN_PREFIX, &vni), -EINVAL);
    assert_int_equal(kdp_name_parse("nvb7", KDP_VXLAN_PREFIX, &vni), -EINVAL);
    assert_int_equal(kdp_name_parse("nvx7a", KDP_VXLAN_PREFIX, &vni),
                     -EINVAL);
}

static void
test_desired(void **state OVS_UNUSED)
{
    Nvo__Network *n = net_new(100);
    net_add_local(n, 1, "tap1");
    net_add_remote(n, 3, "192.0.2.3");
    net_add_remote(n, 2, "192.0.2.2");
    net_add_remote(n, 9, "2001:db8::1");      /* Skipped: IPv6. */
    net_add_flood(n, "192.0.2.3");
    net_add_flood(n, "192.0.2.2");
    net_add_flood(n, "192.0.2.1");            /* Ourselves: skipped. */
    struct kdp_state d;
    size_t skipped;
    kdp_state_desired(&n, 1, IP("192.0.2.1"), 1500, &d, &skipped);
    assert_int_equal(skipped, 1);
    assert_int_equal(d.n_nets, 1);
    const struct kdp_net *kn = &d.nets[0];
    assert_int_equal(kn->vni, 100);
    assert_int_equal(kn->mtu, 1500);
    assert_int_equal(kn->n_fdb, 4);            /* 2 unicast + 2 flood. */
    /* Sorted: the zero MAC first, then by MAC. */
    static const uint8_t zero[6];
    assert_memory_equal(kn->fdb[0].mac, zero, 6);
    assert_memory_equal(&kn->fdb[0].dst, IP("192.0.2.2"),
                        sizeof kn->fdb[0].dst);
    assert_memory_equal(kn->fdb[1].mac, zero, 6);
    assert_int_equal(kn->fdb[2].mac[5], 2);
    assert_int_equal(kn->fdb[3].mac[5], 3);
    assert_int_equal(kn->n_ports, 1);
    assert_string_equal(kn->ports[0], "tap1");
    kdp_state_destroy(&d);
    nvo__network__free_unpacked(n, NULL);
}

/* An IPv6 tunnel IP: IPv6 VTEPs kept, IPv4 ones skipped (and the reverse
 * above); addresses compared as addresses, formatted as written. */
static void
test_desired_ipv6(void **state OVS_UNUSED)
{
    Nvo__Network *n = net_new(100);
    net_add_remote(n, 2, "2001:db8::2");
    net_add_remote(n, 3, "192.0.2.3");        /* Skipped: IPv4. */
    net_add_remote(n, 4, "2001:db8:0::1");    /* Ourselves: skipped. */
    net_add_remote(n, 5, "bogus");            /* Skipped. */
    net_add_flood(n, "2001:DB8::2");
    net_add_flood(n, "2001:db8::1");          /* Ourselves. */
    struct kdp_state d;
    size_t skipped;
    kdp_state_desired(&n, 1, IP("2001:db8::1"), 1430, &d, &skipped);
    assert_int_equal(skipped, 3);
    const struct kdp_net *kn = &d.nets[0];
    assert_int_equal(kn->mtu, 1430);
    assert_int_equal(kn->n_fdb, 2);
    assert_memory_equal(&kn->fdb[0].dst, IP("2001:db8::2"),
                        sizeof kn->fdb[0].dst);
    assert_memory_equal(&kn->fdb[1].dst, IP("2001:db8::2"),
                        sizeof kn->fdb[1].dst);
    assert_int_equal(kn->fdb[1].mac[5], 2);
    assert_true(!kdp_addr_is_v4(&kn->fdb[0].dst));
    assert_true(kdp_addr_is_v4(IP("192.0.2.1")));

    char buf[96];
    struct kdp_op op = { .type = KDP_OP_DEL_FDB, .vni = 100 };
    op.fdb = kn->fdb[1];
    kdp_op_format(&op, buf, sizeof buf);
    assert_string_equal(buf, "del fdb 02:00:00:00:00:02 dst 2001:db8::2");

    struct in6_addr a;
    assert_int_equal(kdp_addr_parse("192.0.2.300", &a), -EINVAL);
    assert_int_equal(kdp_addr_parse(NULL, &a), -EINVAL);
    kdp_state_destroy(&d);
    nvo__network__free_unpacked(n, NULL);
}

/* From nothing: bridge, then VXLAN, then FDB, then ports, in that order. */
static void
test_diff_from_empty(void **state OVS_UNUSED)
{
    Nvo__Network *nets[2] = { net_new(100), net_new(200) };
    net_add_local(nets[0], 1, "tap1");
    net_add_remote(nets[0], 2, "192.0.2.2");
    net_add_flood(nets[0], "192.0.2.2");
    struct kdp_state d, a;
    kdp_state_desired(nets, 2, IP("192.0.2.1"), 1500, &d, NULL);
    kdp_state_init(&a);
    struct kdp_ops ops = { NULL, 0, 0 };
    kdp_diff(&d, &a, &ops);
    assert_int_equal(ops.n, 2 + 2 + 2 + 2 + 1);
    assert_int_equal(ops.ops[0].type, KDP_OP_ADD_BRIDGE);
    assert_int_equal(ops.ops[0].vni, 100);
    assert_int_equal(ops.ops[1].type, KDP_OP_ADD_BRIDGE);
    assert_int_equal(ops.ops[1].vni, 200);
    assert_int_equal(ops.ops[2].type, KDP_OP_ADD_VXLAN);
    assert_int_equal(ops.ops[2].mtu, 1500);
    assert_int_equal(ops.ops[3].type, KDP_OP_ADD_VXLAN);
    assert_int_equal(ops.ops[4].type, KDP_OP_FIX_VXLAN);
    assert_int_equal(ops.ops[5].type, KDP_OP_FIX_VXLAN);
    assert_int_equal(ops.ops[6].type, KDP_OP_ADD_FDB);
    assert_int_equal(ops.ops[7].type, KDP_OP_ADD_FDB);
    assert_int_equal(ops.ops[8].type, KDP_OP_ADD_PORT);
    assert_string_equal(ops.ops[8].ifname, "tap1");
    kdp_ops_destroy(&ops);

    /* Applying it leaves nothing to do. */
    kdp_diff(&d, &d, &ops);
    assert_int_equal(ops.n, 0);
    kdp_ops_destroy(&ops);
    kdp_state_destroy(&d);
    kdp_state_destroy(&a);
    nvo__network__free_unpacked(nets[0], NULL);
    nvo__network__free_unpacked(nets[1], NULL);
}

/* The kernel holds an older state: only the difference is changed. */
static void
test_diff_incremental(void **state OVS_UNUSED)
{
    struct kdp_state d, a;
    struct kdp_ops ops = { NULL, 0, 0 };
    uint8_t m2[6] = { 2, 0, 0, 0, 0, 2 }, m3[6] = { 2, 0, 0, 0, 0, 3 };

    /* Desired: VNI 100 with VM 2 now on .4 (migrated), VM 3 gone, tap1
     * stays, tap5 new; VNI 300 gone. */
    Nvo__Network *n = net_new(100);
    net_add_local(n, 1, "tap1");
    net_add_local(n, 5, "tap5");
    net_add_remote(n, 2, "192.0.2.4");
    net_add_flood(n, "192.0.2.4");
    kdp_state_desired(&n, 1, IP("192.0.2.1"), 1500, &d, NULL);

    kdp_state_init(&a);
    struct kdp_net *k = kdp_state_net(&a, 100, true);
    k->has_vxlan = k->vxlan_ok = k->has_bridge = k->bridge_up = true;
    k->mtu = 1500;
    kdp_net_add_fdb(k, m2, IP("192.0.2.2"));
    kdp_net_add_fdb(k, m3, IP("192.0.2.3"));
    static const uint8_t zero[6];
    kdp_net_add_fdb(k, zero, IP("192.0.2.2"));
    kdp_net_add_fdb(k, zero, IP("192.0.2.3"));
    kdp_net_add_port(k, "tap1");
    kdp_net_add_port(k, "tap7");
    k = kdp_state_net(&a, 300, true);
    k->has_vxlan = k->vxlan_ok = k->has_bridge = k->bridge_up = true;
    kdp_state_normalize(&a);

    kdp_diff(&d, &a, &ops);
    assert_int_equal(count(&ops, KDP_OP_ADD_BRIDGE), 0);
    assert_int_equal(count(&ops, KDP_OP_ADD_VXLAN), 0);
    assert_int_equal(count(&ops, KDP_OP_FIX_VXLAN), 0);
    assert_int_equal(count(&ops, KDP_OP_DEL_FDB), 4);
    assert_int_equal(count(&ops, KDP_OP_ADD_FDB), 2);
    assert_int_equal(count(&ops, KDP_OP_RELEASE_PORT), 1);
    assert_int_equal(count(&ops, KDP_OP_ADD_PORT), 1);
    assert_int_equal(count(&ops, KDP_OP_DEL_VXLAN), 1);
    assert_int_equal(count(&ops, KDP_OP_DEL_BRIDGE), 1);
    assert_int_equal(ops.n, 10);
    /* Releases and deletions come before additions. */
    assert_int_equal(ops.ops[0].type, KDP_OP_RELEASE_PORT);
    assert_string_equal(ops.ops[0].ifname, "tap7");
    assert_int_equal(ops.ops[ops.n - 1].type, KDP_OP_ADD_PORT);
    assert_string_equal(ops.ops[ops.n - 1].ifname, "tap5");
    for (size_t i = 1; i < ops.n; i++) {
        assert_true(ops.ops[i - 1].type <= ops.ops[i].type);
    }
    kdp_ops_destroy(&ops);
    kdp_state_destroy(&d);
    kdp_state_destroy(&a);
    nvo__network__free_unpacked(n, NULL);
}

/* A device with wrong attributes is recreated with all its entries; one
 * that is only down or detached is fixed in place. */
static void
test_diff_stale_and_fix(void **state OVS_UNUSED)
{
    struct kdp_state d, a;
    struct kdp_ops ops = { NULL, 0, 0 };
    Nvo__Network *n = net_new(100);
    net_add_remote(n, 2, "192.0.2.2");
    kdp_state_desired(&n, 1, IP("192.0.2.1"), 1500, &d, NULL);

    kdp_state_init(&a);
    struct kdp_net *k = kdp_state_net(&a, 100, true);
    k->vxlan_stale = true;
    k->has_bridge = true;
    k->bridge_up = false;
    kdp_diff(&d, &a, &ops);
    assert_int_equal(count(&ops, KDP_OP_DEL_VXLAN), 1);
    assert_int_equal(count(&ops, KDP_OP_ADD_VXLAN), 1);
    assert_int_equal(count(&ops, KDP_OP_FIX_VXLAN), 1);
    assert_int_equal(count(&ops, KDP_OP_UP_BRIDGE), 1);
    assert_int_equal(count(&ops, KDP_OP_ADD_FDB), 1);
    kdp_ops_destroy(&ops);

    k->vxlan_stale = false;
    k->has_vxlan = true;
    k->vxlan_ok = false;
    k->bridge_up = true;
    k->mtu = 1500;
    kdp_diff(&d, &a, &ops);
    assert_int_equal(ops.n, 2);
    assert_int_equal(count(&ops, KDP_OP_FIX_VXLAN), 1);
    assert_int_equal(count(&ops, KDP_OP_ADD_FDB), 1);
    kdp_ops_destroy(&ops);

    char buf[96];
    struct kdp_op op = { .type = KDP_OP_ADD_FDB, .vni = 100 };
    op.fdb.dst = ip("192.0.2.2");
    op.fdb.mac[5] = 0x2a;
    kdp_op_format(&op, buf, sizeof buf);
    assert_string_equal(buf, "add fdb 00:00:00:00:00:2a dst 192.0.2.2");

    kdp_state_destroy(&d);
    kdp_state_destroy(&a);
    nvo__network__free_unpacked(n, NULL);
}

static void
test_agent_view(void **state OVS_UNUSED)
{
    struct agent_view v;
    agent_view_init(&v);

    Nvo__Snapshot snap = NVO__SNAPSHOT__INIT;
    Nvo__Network **nets = xmalloc(2 * sizeof *nets);
    nets[0] = net_new(200);
    nets[1] = net_new(100);
    snap.seq = 1;
    snap.revision = 7;
    snap.networks = nets;
    snap.n_networks = 2;
    Nvo__Delta early = NVO__DELTA__INIT;
    early.seq = 1;
    assert_int_equal(agent_view_apply_delta(&v, &early), -EPROTO);

    agent_view_apply_snapshot(&v, &snap);
    assert_int_equal(snap.n_networks, 0);
    free(nets);
    assert_int_equal(agent_view_count(&v), 2);
    assert_int_equal(v.seq, 1);

    size_t n;
    Nvo__Network **sorted = agent_view_sorted(&v, &n);
    assert_int_equal(n, 2);
    assert_int_equal(sorted[0]->vni, 100);
    assert_int_equal(sorted[1]->vni, 200);
    free(sorted);

    Nvo__Delta d = NVO__DELTA__INIT;
    uint32_t removed[] = { 200 };
    Nvo__Network **changed = xmalloc(sizeof *changed);
    changed[0] = net_new(300);
    d.seq = 3;
    d.base_seq = 2;
    d.changed = changed;
    d.n_changed = 1;
    assert_int_equal(agent_view_apply_delta(&v, &d), -EPROTO);  /* Gap. */
    d.seq = 2;
    d.base_seq = 1;
    d.revision = 8;
    d.removed_vnis = removed;
    d.n_removed_vnis = 1;
    assert_int_equal(agent_view_apply_delta(&v, &d), 0);
    free(changed);
    assert_int_equal(v.seq, 2);
    assert_int_equal(v.revision, 8);
    sorted = agent_view_sorted(&v, &n);
    assert_int_equal(n, 2);
    assert_int_equal(sorted[0]->vni, 100);
    assert_int_equal(sorted[1]->vni, 300);
    free(sorted);
    agent_view_destroy(&v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_desired),
        cmocka_unit_test(test_desired_ipv6),
        cmocka_unit_test(test_diff_from_empty),
        cmocka_unit_test(test_diff_incremental),
        cmocka_unit_test(test_diff_stale_and_fix),
        cmocka_unit_test(test_agent_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
