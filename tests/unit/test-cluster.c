/* Unit tests: controller/cluster.c's placement (rendezvous hashing).  The
 * leases and transactions are covered against a real Raft cluster by
 * tests/integration/test-cluster-failover.sh. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "controller/cluster.h"
#include "openvswitch/compiler.h"

#define N_HVS 3000

/* The owner of 'hv' among 'ctls' (n of them). */
static const char *
pick(const char *hv, const char *const *ctls, size_t n)
{
    const char *best = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!best || nvo_cluster_prefers(ctls[i], best, hv)) {
            best = ctls[i];
        }
    }
    return best;
}

static void
hv_name(char *buf, size_t size, int i)
{
    snprintf(buf, size, "hv%d", i);
}

/* Three controllers share the hypervisors about evenly. */
static void
test_balanced(void **state OVS_UNUSED)
{
    const char *ctls[] = { "ctl1", "ctl2", "ctl3" };
    int count[3] = { 0, 0, 0 };
    char hv[16];

    for (int i = 0; i < N_HVS; i++) {
        hv_name(hv, sizeof hv, i);
        const char *o = pick(hv, ctls, 3);
        for (int c = 0; c < 3; c++) {
            count[c] += o == ctls[c];
        }
    }
    for (int c = 0; c < 3; c++) {
        /* 1/3 each, within 10 % of N_HVS / 3. */
        assert_in_range(count[c], N_HVS / 3 * 9 / 10, N_HVS / 3 * 11 / 10);
    }
}

/* A fourth controller takes about 1/4, each from its previous owner; a
 * controller that leaves gives away only its own. */
static void
test_minimal_movement(void **state OVS_UNUSED)
{
    const char *three[] = { "ctl1", "ctl2", "ctl3" };
    const char *four[] = { "ctl1", "ctl2", "ctl3", "ctl4" };
    const char *two[] = { "ctl1", "ctl3" };
    int moved_join = 0, moved_leave = 0;
    char hv[16];

    for (int i = 0; i < N_HVS; i++) {
        hv_name(hv, sizeof hv, i);
        const char *before = pick(hv, three, 3);
        const char *joined = pick(hv, four, 4);
        if (joined != before) {
            /* Only ever to the newcomer. */
            assert_string_equal(joined, "ctl4");
            moved_join++;
        }
        const char *left = pick(hv, two, 2);
        if (strcmp(left, before)) {
            /* Only what the departing controller owned. */
            assert_string_equal(before, "ctl2");
            moved_leave++;
        } else {
            assert_string_not_equal(before, "ctl2");
        }
    }
    assert_in_range(moved_join, N_HVS / 4 * 9 / 10, N_HVS / 4 * 11 / 10);
    assert_in_range(moved_leave, N_HVS / 3 * 9 / 10, N_HVS / 3 * 11 / 10);
}

/* Every controller computes the same owner whatever order it sees its
 * peers in. */
static void
test_order_independent(void **state OVS_UNUSED)
{
    const char *a[] = { "ctl1", "ctl2", "ctl3" };
    const char *b[] = { "ctl3", "ctl1", "ctl2" };
    char hv[16];

    for (int i = 0; i < N_HVS; i++) {
        hv_name(hv, sizeof hv, i);
        assert_string_equal(pick(hv, a, 3), pick(hv, b, 3));
    }
    /* Ties break by name, so the relation is a strict order. */
    assert_false(nvo_cluster_prefers("ctl1", "ctl1", "hv1"));
    assert_true(nvo_cluster_prefers("ctl1", "ctl2", "hv1")
                != nvo_cluster_prefers("ctl2", "ctl1", "hv1"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_balanced),
        cmocka_unit_test(test_minimal_movement),
        cmocka_unit_test(test_order_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
