/* Unit tests: controller/cluster.c's placement (rendezvous hashing)
 * and the claims of owners' confirmation records.  The
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
/* An owner's record: its revision for every hypervisor it speaks for, an
 * exception's own revision for one that is behind. */
static void
test_record_claim(void **state OVS_UNUSED)
{
    char *keys[] = { "hv1", "hv10", "hv3", "hv7" };     /* strcmp order. */
    const int64_t values[] = { 4, 9, 0, 11 };

    assert_int_equal(nvo_cluster_record_claim(12, keys, values, 4, "hv1"), 4);
    assert_int_equal(nvo_cluster_record_claim(12, keys, values, 4, "hv10"),
                     9);
    assert_int_equal(nvo_cluster_record_claim(12, keys, values, 4, "hv3"), 0);
    assert_int_equal(nvo_cluster_record_claim(12, keys, values, 4, "hv7"),
                     11);
    assert_int_equal(nvo_cluster_record_claim(12, keys, values, 4, "hv2"),
                     12);
    assert_int_equal(nvo_cluster_record_claim(12, keys, values, 4, "hv8"),
                     12);
    assert_int_equal(nvo_cluster_record_claim(12, keys, values, 0, "hv1"),
                     12);
}

/* A hypervisor claims the model's revision only when nothing it has to
 * confirm is outstanding: a write that changed its view and that it has
 * not confirmed keeps it at what it confirmed. */
static void
test_progress_claim(void **state OVS_UNUSED)
{
    /* Up to date with revision 5, model at 9: 6..9 did not change it. */
    assert_int_equal(nvo_cluster_progress_claim(5, 5, 9), 9);
    /* Revision 8 changed it, it confirmed 5 only. */
    assert_int_equal(nvo_cluster_progress_claim(5, 8, 9), 5);
    /* It confirmed a revision the record does not know yet. */
    assert_int_equal(nvo_cluster_progress_claim(10, 10, 9), 10);
    /* Gained, resync outstanding. */
    assert_int_equal(nvo_cluster_progress_claim(0, 9, 9), 0);
}

/* A record goes out at once only when it may answer a waiter on another
 * controller: its claim rises up to a revision the hypervisor had to
 * confirm, past a revision another writer made. */
static void
test_claim_urgent(void **state OVS_UNUSED)
{
    /* Claim 10 -> 12 (required 12): another writer made 11. */
    assert_true(nvo_cluster_claim_urgent(10, 12, 12, 11));
    /* ...or 12 itself, or a later one not yet confirmed. */
    assert_true(nvo_cluster_claim_urgent(10, 12, 12, 12));
    assert_true(nvo_cluster_claim_urgent(10, 12, 12, 15));
    /* Every other writer's revision is at or below the old claim: only
     * this controller's writes (11, 12) raise it. */
    assert_false(nvo_cluster_claim_urgent(10, 12, 12, 10));
    assert_false(nvo_cluster_claim_urgent(10, 12, 12, 3));
    /* No rise up to a revision it had to confirm: nothing to send. */
    assert_false(nvo_cluster_claim_urgent(10, 12, 9, 11));
    assert_false(nvo_cluster_claim_urgent(10, 10, 12, 11));
}

/* A report wakes the cluster thread only if the record it raises may
 * answer a waiter elsewhere. */
static void
test_report_urgent(void **state OVS_UNUSED)
{
    /* 10 -> 12 past another writer's 11 (or 12). */
    assert_true(nvo_cluster_report_urgent(10, 12, 11));
    assert_true(nvo_cluster_report_urgent(10, 12, 12));
    /* Another writer's revision not confirmed yet still counts: the
     * record planned then may claim it (a revision that left the view
     * unchanged). */
    assert_true(nvo_cluster_report_urgent(10, 12, 15));
    /* Only this controller's writes since 10. */
    assert_false(nvo_cluster_report_urgent(10, 12, 10));
    assert_false(nvo_cluster_report_urgent(10, 12, 0));
    /* The first report under an ownership: the record covers the row. */
    assert_true(nvo_cluster_report_urgent(-1, 12, 0));
    /* Nothing confirmed beyond what was. */
    assert_false(nvo_cluster_report_urgent(12, 12, 15));
    assert_false(nvo_cluster_report_urgent(12, 11, 15));
}

/* The record's wait for hypervisors still behind slides with each
 * confirmation (30 ms after the latest), within 250 ms of the first
 * falling behind. */
static void
test_hold_until(void **state OVS_UNUSED)
{
    /* The first falls behind at 1000: 30 ms. */
    assert_int_equal(nvo_cluster_hold_until(1000, 1000), 1030);
    /* Confirmations keep coming: 30 ms after the latest. */
    assert_int_equal(nvo_cluster_hold_until(1000, 1025), 1055);
    assert_int_equal(nvo_cluster_hold_until(1000, 1200), 1230);
    /* ...but never past 250 ms after the first. */
    assert_int_equal(nvo_cluster_hold_until(1000, 1230), 1250);
    assert_int_equal(nvo_cluster_hold_until(1000, 5000), 1250);
}

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
        cmocka_unit_test(test_record_claim),
        cmocka_unit_test(test_progress_claim),
        cmocka_unit_test(test_claim_urgent),
        cmocka_unit_test(test_hold_until),
        cmocka_unit_test(test_report_urgent),
        cmocka_unit_test(test_balanced),
        cmocka_unit_test(test_minimal_movement),
        cmocka_unit_test(test_order_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
