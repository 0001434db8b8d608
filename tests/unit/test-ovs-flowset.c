/* Unit tests: controller/ovs-flowset.c (flow sets and their diff). */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "controller/ovs-flowset.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofpbuf.h"
#include "byte-order.h"
#include "flow.h"
#include "util.h"

/* Adds "table 1, priority 100, in_port=PORT, actions=output:OUT". */
static void
add(struct ovs_flowset *fs, uint16_t port, uint64_t cookie, uint16_t out)
{
    struct match m;
    match_init_catchall(&m);
    match_set_in_port(&m, u16_to_ofp(port));
    uint64_t stub[64 / 8];
    struct ofpbuf acts = OFPBUF_STUB_INITIALIZER(stub);
    if (out) {
        ofpact_put_OUTPUT(&acts)->port = u16_to_ofp(out);
    }
    ovs_flowset_add(fs, 1, 100, &m, cookie, acts.data, acts.size, NULL);
    ofpbuf_uninit(&acts);
}

static const struct ovs_flow_change *
find_change(const struct ovs_flow_changes *c, enum ovs_flow_change_type t,
            uint16_t port)
{
    for (size_t i = 0; i < c->n; i++) {
        struct match m;
        minimatch_expand(&c->changes[i].flow->match, &m);
        if (c->changes[i].type == t
            && ofp_to_u16(m.flow.in_port.ofp_port) == port) {
            return &c->changes[i];
        }
    }
    return NULL;
}

static void
test_diff_noop(void **state OVS_UNUSED)
{
    struct ovs_flowset a, b;
    ovs_flowset_init(&a);
    ovs_flowset_init(&b);
    add(&a, 1, 0x6e1, 2);
    add(&a, 2, 0x6e2, 1);
    add(&b, 2, 0x6e2, 1);
    add(&b, 1, 0x6e1, 2);
    assert_true(ovs_flowset_equal(&a, &b));

    struct ovs_flow_changes c;
    ovs_flowset_diff(&a, &b, &c);
    assert_int_equal(c.n, 0);
    ovs_flow_changes_destroy(&c);
    ovs_flowset_destroy(&a);
    ovs_flowset_destroy(&b);
}

static void
test_diff_add_modify_delete(void **state OVS_UNUSED)
{
    struct ovs_flowset desired, installed;
    ovs_flowset_init(&desired);
    ovs_flowset_init(&installed);

    add(&installed, 1, 0x6e1, 2);       /* Unchanged. */
    add(&installed, 2, 0x6e2, 1);       /* Other actions: modify. */
    add(&installed, 3, 0x6e3, 1);       /* Other cookie: add. */
    add(&installed, 4, 0x6e4, 1);       /* Gone: delete. */
    add(&desired, 1, 0x6e1, 2);
    add(&desired, 2, 0x6e2, 3);
    add(&desired, 3, 0x6e9, 1);
    add(&desired, 5, 0x6e5, 0);         /* New: add. */
    assert_false(ovs_flowset_equal(&desired, &installed));

    struct ovs_flow_changes c;
    ovs_flowset_diff(&desired, &installed, &c);
    assert_int_equal(c.n, 4);
    assert_int_equal(c.n_add, 2);
    assert_int_equal(c.n_modify, 1);
    assert_int_equal(c.n_delete, 1);
    assert_int_equal(c.changes[0].type, OVS_FLOW_DELETE);  /* First. */
    assert_non_null(find_change(&c, OVS_FLOW_MODIFY, 2));
    assert_non_null(find_change(&c, OVS_FLOW_ADD, 3));
    assert_true(find_change(&c, OVS_FLOW_ADD, 3)->flow->cookie == 0x6e9);
    assert_non_null(find_change(&c, OVS_FLOW_ADD, 5));
    assert_non_null(find_change(&c, OVS_FLOW_DELETE, 4));
    assert_null(find_change(&c, OVS_FLOW_ADD, 1));
    assert_null(find_change(&c, OVS_FLOW_MODIFY, 1));

    /* Applying the diff makes installed == desired; a second diff is
     * empty. */
    ovs_flowset_apply(&installed, &c);
    ovs_flow_changes_destroy(&c);
    assert_true(ovs_flowset_equal(&desired, &installed));
    ovs_flowset_diff(&desired, &installed, &c);
    assert_int_equal(c.n, 0);
    ovs_flow_changes_destroy(&c);

    ovs_flowset_destroy(&desired);
    ovs_flowset_destroy(&installed);
}

static void
test_add_replaces_and_clone(void **state OVS_UNUSED)
{
    struct ovs_flowset a, b;
    ovs_flowset_init(&a);
    ovs_flowset_init(&b);
    add(&a, 1, 0x6e1, 2);
    add(&a, 1, 0x6e1, 3);               /* Same key: replaces. */
    assert_int_equal(ovs_flowset_count(&a), 1);

    ovs_flowset_clone(&b, &a);
    assert_true(ovs_flowset_equal(&a, &b));
    add(&b, 1, 0x6e1, 2);
    assert_false(ovs_flowset_equal(&a, &b));

    struct match m;
    match_init_catchall(&m);
    match_set_in_port(&m, u16_to_ofp(1));
    struct minimatch mm;
    minimatch_init(&mm, &m);
    struct ovs_flow *f = ovs_flowset_find(&a, 1, 100, &mm);
    assert_non_null(f);
    assert_null(ovs_flowset_find(&a, 1, 99, &mm));
    assert_null(ovs_flowset_find(&a, 0, 100, &mm));
    ovs_flowset_remove(&a, f);
    assert_int_equal(ovs_flowset_count(&a), 0);
    minimatch_destroy(&mm);

    ovs_flowset_destroy(&a);
    ovs_flowset_destroy(&b);
    ovs_flowset_destroy(NULL);
}

/* A clone shares its flow's actions, and an add is encoded once for both,
 * as a full encoding of the flow would be. */
static void
test_clone_shares_actions(void **state OVS_UNUSED)
{
    struct ovs_flowset a;
    ovs_flowset_init(&a);
    add(&a, 1, 0x6e1, 2);
    struct ovs_flow *f = CONTAINER_OF(hmap_first(&a.flows), struct ovs_flow,
                                      node);
    struct ovs_flow *c = ovs_flow_clone(f);
    assert_ptr_equal(c->acts, f->acts);
    assert_ptr_equal(c->wire, f->wire);
    assert_true(ovs_flow_value_equal(c, f));
    assert_true(minimatch_equal(&c->match, &f->match));

    const struct ofpbuf *m1 = ovs_flow_add_msg(f);
    const struct ofpbuf *m2 = ovs_flow_add_msg(c);
    assert_non_null(m1);
    assert_ptr_equal(m1, m2);
    struct ofputil_flow_mod fm;
    struct ofpbuf acts;
    ofpbuf_init(&acts, 0);
    assert_int_equal(ofputil_decode_flow_mod(&fm, m1->data,
                                             OFPUTIL_P_OF13_OXM, NULL, NULL,
                                             &acts, OFPP_MAX, 255), 0);
    assert_int_equal(fm.command, OFPFC_ADD);
    assert_int_equal(fm.table_id, 1);
    assert_int_equal(fm.priority, 100);
    assert_int_equal(ntohll(fm.new_cookie), 0x6e1);
    assert_true(minimatch_equal(&fm.match, &f->match));
    assert_true(ofpacts_equal(fm.ofpacts, fm.ofpacts_len, f->ofpacts,
                              f->ofpacts_len));
    minimatch_destroy(&fm.match);
    ofpbuf_uninit(&acts);

    /* The clone outlives its flow; a key has no actions to encode. */
    size_t wire_len = f->wire_len;
    void *wire = xmemdup(f->wire, wire_len);
    ovs_flowset_remove(&a, f);
    assert_int_equal(c->wire_len, wire_len);
    assert_memory_equal(c->wire, wire, wire_len);
    free(wire);
    struct ovs_flowset keys;
    ovs_flowset_init(&keys);
    ovs_flowset_add_key(&keys, c);
    struct ovs_flow *k = ovs_flowset_find_flow(&keys, c);
    assert_non_null(k);
    assert_null(ovs_flow_add_msg(k));
    assert_false(ovs_flow_value_equal(k, c));
    ovs_flowset_destroy(&keys);
    ovs_flow_destroy(c);
    ovs_flowset_destroy(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_noop),
        cmocka_unit_test(test_diff_add_modify_delete),
        cmocka_unit_test(test_add_replaces_and_clone),
        cmocka_unit_test(test_clone_shares_actions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
