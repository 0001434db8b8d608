/* Unit tests: controller/cluster.c's placement (nvo_cluster_assign(): a
 * bounded-load, sticky assignment) and the claims of owners' confirmation
 * records.  The
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

#define MAX_HVS 3000
#define MAX_CTLS 8

/* N hypervisors "hv0".."hvN-1" and their owners, as indices into a list
 * of controllers. */
struct fleet {
    size_t n;
    char names[MAX_HVS][16];
    const char *hvs[MAX_HVS];
    int owners[MAX_HVS];
};

static void
fleet_init(struct fleet *f, size_t n)
{
    f->n = n;
    for (size_t i = 0; i < n; i++) {
        snprintf(f->names[i], sizeof f->names[i], "hv%zu", i);
        f->hvs[i] = f->names[i];
        f->owners[i] = -1;
    }
}

/* Runs the protocol to a fixed point among 'ctls': each round, every
 * owner above the cap releases what nvo_cluster_assign() gives to
 * another, then every hypervisor without an owner is taken by the one it
 * gives it to.  Asserts that a released hypervisor never goes back to the
 * controller that released it, and that it settles within two rounds
 * (the first may release, the second only takes). */
static void
settle(struct fleet *f, const char *const *ctls, size_t k)
{
    int want[MAX_HVS];
    int released_by[MAX_HVS];
    for (size_t i = 0; i < f->n; i++) {
        released_by[i] = -1;
    }
    for (int round = 0; ; round++) {
        assert_true(round <= 2);
        nvo_cluster_assign(ctls, k, f->hvs, f->owners, f->n, want);
        bool moved = false;
        for (size_t i = 0; i < f->n; i++) {
            if (f->owners[i] >= 0 && want[i] != f->owners[i]) {
                released_by[i] = f->owners[i];
                f->owners[i] = -1;
                moved = true;
            }
        }
        nvo_cluster_assign(ctls, k, f->hvs, f->owners, f->n, want);
        for (size_t i = 0; i < f->n; i++) {
            if (f->owners[i] < 0) {
                assert_true(want[i] >= 0);
                assert_int_not_equal(want[i], released_by[i]);
                f->owners[i] = want[i];
                moved = true;
            }
        }
        if (!moved) {
            return;
        }
    }
}

/* How many of 'f''s hypervisors each of 'k' controllers owns. */
static void
count_owned(const struct fleet *f, size_t k, size_t *count)
{
    memset(count, 0, k * sizeof *count);
    for (size_t i = 0; i < f->n; i++) {
        assert_in_range(f->owners[i], 0, k - 1);
        count[f->owners[i]]++;
    }
}

/* Every controller owns floor(N / K) or ceil(N / K). */
static void
assert_balanced(const struct fleet *f, size_t k)
{
    size_t count[MAX_CTLS];
    count_owned(f, k, count);
    for (size_t c = 0; c < k; c++) {
        assert_in_range(count[c], f->n / k, (f->n + k - 1) / k);
    }
}

static const char *const ctl_names[MAX_CTLS] = {
    "ctl1", "ctl2", "ctl3", "ctl4", "ctl5", "ctl6", "ctl7", "ctl8",
};

/* From nothing owned, at several N and K: balanced, and stable (a second
 * plan moves nothing). */
static void
test_assign_balanced(void **state OVS_UNUSED)
{
    static const size_t shapes[][2] = {
        { 128, 3 }, { 3000, 3 }, { 128, 4 }, { 100, 1 }, { 10, 4 },
        { 1, 3 }, { 7, 7 }, { 5, 8 }, { 1000, 7 }, { 0, 3 },
    };
    static struct fleet f;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t n = shapes[s][0], k = shapes[s][1];
        fleet_init(&f, n);
        settle(&f, ctl_names, k);
        assert_balanced(&f, k);

        int want[MAX_HVS];
        nvo_cluster_assign(ctl_names, k, f.hvs, f.owners, n, want);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(want[i], f.owners[i]);
        }
    }
    /* The shape: 43/43/42, where rendezvous hashing alone gave
     * 49/38/41. */
    size_t count[3];
    fleet_init(&f, 128);
    settle(&f, ctl_names, 3);
    count_owned(&f, 3, count);
    for (size_t c = 0; c < 3; c++) {
        assert_in_range(count[c], 42, 43);
    }
}

/* A controller that leaves gives away only its own; the others keep
 * theirs, and the result is balanced among those left. */
static void
test_assign_departure(void **state OVS_UNUSED)
{
    static struct fleet f;
    static const size_t sizes[] = { 128, 3000, 13, 5 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        fleet_init(&f, sizes[s]);
        settle(&f, ctl_names, 4);
        /* ctl2 (index 1) dies: the survivors are ctl1, ctl3, ctl4. */
        const char *const left[] = { "ctl1", "ctl3", "ctl4" };
        static const int renumber[] = { 0, -1, 1, 2 };
        int before[MAX_HVS];
        for (size_t i = 0; i < f.n; i++) {
            before[i] = f.owners[i];
            f.owners[i] = renumber[f.owners[i]];
        }
        int want[MAX_HVS];
        nvo_cluster_assign(left, 3, f.hvs, f.owners, f.n, want);
        size_t moved = 0;
        for (size_t i = 0; i < f.n; i++) {
            if (before[i] != 1) {
                assert_int_equal(want[i], f.owners[i]);
            } else {
                moved++;
            }
        }
        settle(&f, left, 3);
        assert_balanced(&f, 3);
        for (size_t i = 0; i < f.n; i++) {
            if (before[i] != 1) {
                assert_int_equal(f.owners[i], renumber[before[i]]);
            }
        }
        assert_true(moved > 0);
    }
}

/* A controller that joins takes about 1/K, each hypervisor from a
 * controller above the new cap, all of them to the newcomer. */
static void
test_assign_join(void **state OVS_UNUSED)
{
    static struct fleet f;
    static const size_t sizes[] = { 128, 3000, 10, 4, 2 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        fleet_init(&f, n);
        settle(&f, ctl_names, 3);
        int before[MAX_HVS];
        memcpy(before, f.owners, n * sizeof *before);
        settle(&f, ctl_names, 4);       /* ctl4 joins. */
        assert_balanced(&f, 4);
        size_t moved = 0;
        for (size_t i = 0; i < n; i++) {
            if (f.owners[i] != before[i]) {
                assert_int_equal(f.owners[i], 3);
                moved++;
            }
        }
        /* Exactly what the newcomer owns: floor or ceil of N / 4. */
        assert_in_range(moved, n / 4, (n + 3) / 4);
    }
}

/* Every controller computes the same answer whatever order it lists the
 * controllers and hypervisors in, also mid-change (some owned, some
 * above the cap, some of a dead owner). */
static void
test_assign_order_independent(void **state OVS_UNUSED)
{
    enum { N = 500 };
    static struct fleet f;
    fleet_init(&f, N);
    settle(&f, ctl_names, 2);           /* ctl1, ctl2 own 250 each. */
    for (size_t i = 0; i < N; i += 7) {
        f.owners[i] = -1;               /* Unowned or a dead owner's. */
    }
    /* ctl3 and ctl4 join: both owners are above the cap. */
    int want[N];
    nvo_cluster_assign(ctl_names, 4, f.hvs, f.owners, N, want);

    /* The same, controllers and hypervisors listed in another order. */
    const char *const ctls2[] = { "ctl3", "ctl1", "ctl4", "ctl2" };
    static const int to2[] = { 1, 3, 0, 2 };   /* Index in ctl_names ->
                                                * index in ctls2. */
    const char *hvs2[N];
    int owners2[N], want2[N];
    size_t perm[N];
    for (size_t i = 0; i < N; i++) {
        perm[i] = (i * 263 + 17) % N;   /* 263 is prime to 500. */
        hvs2[i] = f.hvs[perm[i]];
        owners2[i] = f.owners[perm[i]] < 0 ? -1 : to2[f.owners[perm[i]]];
    }
    nvo_cluster_assign(ctls2, 4, hvs2, owners2, N, want2);
    size_t released = 0;
    for (size_t i = 0; i < N; i++) {
        assert_true(want[perm[i]] >= 0);
        assert_int_equal(want2[i], to2[want[perm[i]]]);
        released += f.owners[perm[i]] >= 0 && want[perm[i]] != f.owners[perm[i]];
    }
    assert_true(released > 0);

    /* Ties break by name, so the relation is a strict order. */
    assert_false(nvo_cluster_prefers("ctl1", "ctl1", "hv1"));
    assert_true(nvo_cluster_prefers("ctl1", "ctl2", "hv1")
                != nvo_cluster_prefers("ctl2", "ctl1", "hv1"));
}

/* What an owner above the cap releases goes to a controller with room,
 * never back to it, also when the planners see the release committed
 * (the owner then at the cap) or not yet. */
static void
test_assign_no_give_back(void **state OVS_UNUSED)
{
    enum { N = 128 };
    static struct fleet f;
    fleet_init(&f, N);
    settle(&f, ctl_names, 1);           /* ctl1 alone owns all 128. */
    int want[N], after[N];
    nvo_cluster_assign(ctl_names, 2, f.hvs, f.owners, N, want);
    size_t released = 0;
    for (size_t i = 0; i < N; i++) {
        if (want[i] != 0) {
            assert_int_equal(want[i], 1);
            f.owners[i] = -1;           /* The release committed. */
            released++;
        }
    }
    assert_int_equal(released, 64);
    /* Its lowest-weight ones: each released one weighs no more for ctl1
     * than any it kept. */
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < N; j++) {
            if (f.owners[i] < 0 && f.owners[j] == 0) {
                assert_true(nvo_cluster_weight("ctl1", f.hvs[i])
                            <= nvo_cluster_weight("ctl1", f.hvs[j]));
            }
        }
    }
    nvo_cluster_assign(ctl_names, 2, f.hvs, f.owners, N, after);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(after[i], want[i]);
    }
}

/* A controller joins where more owners hold more than the new floor than
 * there are quotas of the ceiling, and the owners' releases commit one at
 * a time (in either order), every controller planning again after each:
 * no owner releases more than the first plan said, and nothing released
 * goes back to a controller that released it.  (With the quotas of the
 * ceiling ranked by how many each holds, an owner whose release
 * committed first ranked below those still above the ceiling and
 * released once more; one of those could then go back to a releaser.) */
static void
test_assign_release_order(void **state OVS_UNUSED)
{
    static const size_t shapes[][2] = {
        { 22, 3 }, { 128, 4 }, { 3000, 4 }, { 10, 3 },
    };
    static struct fleet f;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int rev = 0; rev < 2; rev++) {
            size_t n = shapes[s][0], k = shapes[s][1];
            fleet_init(&f, n);
            settle(&f, ctl_names, k);
            int first[MAX_HVS], want[MAX_HVS], released_by[MAX_HVS];
            nvo_cluster_assign(ctl_names, k + 1, f.hvs, f.owners, n, first);
            size_t n_released = 0;
            for (size_t i = 0; i < n; i++) {
                released_by[i] = -1;
                n_released += first[i] != f.owners[i];
            }
            assert_true(n_released >= n / (k + 1));
            for (size_t j = 0; j < k; j++) {
                int o = rev ? k - 1 - j : j;    /* Its release commits. */
                for (size_t i = 0; i < n; i++) {
                    if (f.owners[i] == o && first[i] != o) {
                        f.owners[i] = -1;
                        released_by[i] = o;
                    }
                }
                nvo_cluster_assign(ctl_names, k + 1, f.hvs, f.owners, n,
                                   want);
                for (size_t i = 0; i < n; i++) {
                    if (f.owners[i] >= 0) {
                        assert_int_equal(want[i], first[i]);
                    } else {
                        assert_int_not_equal(want[i], released_by[i]);
                    }
                }
            }
            settle(&f, ctl_names, k + 1);
            assert_balanced(&f, k + 1);
            size_t count[MAX_CTLS];
            count_owned(&f, k + 1, count);
            assert_int_equal(count[k], n_released);
        }
    }
}

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

/* A kick (a report, or the hold's end) wakes the cluster thread only if
 * the record may answer a waiter elsewhere, no kick woke it yet, and it
 * can plan a record now (none in flight or awaiting its echo). */
static void
test_kick_wakes(void **state OVS_UNUSED)
{
    assert_true(nvo_cluster_kick_wakes(true, false, false));
    /* Only this controller's own writes: the heartbeat plans it. */
    assert_false(nvo_cluster_kick_wakes(false, false, false));
    /* Already woken for it: one wake-up plans everything kicked. */
    assert_false(nvo_cluster_kick_wakes(true, true, false));
    /* A record in flight: its end wakes the thread, which plans then. */
    assert_false(nvo_cluster_kick_wakes(true, false, true));
    assert_false(nvo_cluster_kick_wakes(false, false, true));
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_claim),
        cmocka_unit_test(test_progress_claim),
        cmocka_unit_test(test_claim_urgent),
        cmocka_unit_test(test_hold_until),
        cmocka_unit_test(test_report_urgent),
        cmocka_unit_test(test_kick_wakes),
        cmocka_unit_test(test_assign_balanced),
        cmocka_unit_test(test_assign_departure),
        cmocka_unit_test(test_assign_join),
        cmocka_unit_test(test_assign_order_independent),
        cmocka_unit_test(test_assign_no_give_back),
        cmocka_unit_test(test_assign_release_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
