/* Unit tests: controller/ctl.c (publish, confirmation, ?wait=1 waiters),
 * with no southbound attached: confirmations are fed by hand. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <uv.h>

#include "controller/ctl.h"
#include "controller/model.h"

struct fixture {
    uv_loop_t loop;
    struct nvo_ctl ctl;
    struct nvo_network *net;
    struct nvo_hypervisor *a, *b;
    int calls;
    bool last_ok;
    char last_error[256];
};

static struct eth_addr
mac(uint8_t last)
{
    return (struct eth_addr) { .ea = { 0x02, 0, 0, 0, 0, last } };
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    uv_loop_init(&f->loop);
    nvo_ctl_init(&f->ctl, &f->loop);
    f->ctl.model = nvo_model_create();
    f->net = nvo_model_add_network(f->ctl.model, 1, "red", 100,
                                   NVO_BUM_HEAD_END, 1);
    f->a = nvo_model_add_hv(f->ctl.model, 1, "a", "192.0.2.11", NVO_DP_OVS,
                            NVO_ROLE_HYPERVISOR, "tcp:192.0.2.11:6640", 2);
    f->b = nvo_model_add_hv(f->ctl.model, 2, "b", "192.0.2.12",
                            NVO_DP_KERNEL, NVO_ROLE_HYPERVISOR, NULL, 3);
    f->ctl.model->revision = 3;
    nvo_ctl_publish_all(&f->ctl);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    nvo_ctl_destroy(&f->ctl);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
    return 0;
}

static void
wait_cb(void *aux, bool ok, const char *error)
{
    struct fixture *f = aux;
    f->calls++;
    f->last_ok = ok;
    snprintf(f->last_error, sizeof f->last_error, "%s", error ? error : "");
}

/* Adds a port on 'hv' at the next revision and publishes to both. */
static int64_t
add_port(struct fixture *f, int64_t id, struct nvo_hypervisor *hv)
{
    int64_t rev = ++f->ctl.model->revision;
    nvo_model_add_port(f->ctl.model, id, "vm", f->net, hv, mac(id), NULL,
                       "v-vm", rev);
    int64_t ids[] = { f->a->id, f->b->id };
    nvo_ctl_publish(&f->ctl, ids, 2, &f->net->id, 1, rev);
    return rev;
}

static void
test_wait_confirmed(void **state)
{
    struct fixture *f = *state;
    int64_t rev0 = add_port(f, 9, f->b);  /* b joins red first... */
    int64_t rev = add_port(f, 10, f->a);  /* ...so this changes b's view. */
    int64_t ids[] = { f->a->id, f->b->id };
    struct nvo_sb_status st;
    int64_t required;

    struct nvo_ctl_waiter *w = nvo_ctl_wait(&f->ctl, ids, 2, rev, 5000,
                                            wait_cb, f);
    assert_non_null(w);
    assert_int_equal(f->calls, 0);
    nvo_ctl_hv_status(&f->ctl, f->a->id, &st, &required);
    assert_int_equal(required, rev);
    assert_int_equal(st.confirmed_revision, 0);

    nvo_ctl_confirmed(&f->ctl, f->a->id, rev);
    assert_int_equal(f->calls, 0);         /* b has not confirmed yet. */
    nvo_ctl_confirmed(&f->ctl, f->b->id, rev0);
    assert_int_equal(f->calls, 0);         /* An older view is not it. */
    nvo_ctl_confirmed(&f->ctl, f->b->id, rev);
    assert_int_equal(f->calls, 1);
    assert_true(f->last_ok);
    nvo_ctl_hv_status(&f->ctl, f->b->id, &st, &required);
    assert_int_equal(st.confirmed_revision, rev);
}

/* Confirmed means applied: a hypervisor that reports it could not apply
 * the revision fails the waiter at once, naming itself and the error, and
 * shows the error until it confirms. */
static void
test_wait_apply_failed(void **state)
{
    struct fixture *f = *state;
    int64_t rev = add_port(f, 10, f->b);
    int64_t ids[] = { f->a->id, f->b->id };
    struct nvo_sb_status st;
    int64_t required;

    assert_non_null(nvo_ctl_wait(&f->ctl, ids, 2, rev, 5000, wait_cb, f));
    nvo_ctl_confirmed(&f->ctl, f->a->id, rev);
    assert_int_equal(f->calls, 0);
    nvo_ctl_failed(&f->ctl, f->b->id, rev,
                   "VNI 100 add port vma: No such device");
    assert_int_equal(f->calls, 1);
    assert_false(f->last_ok);
    assert_string_equal(f->last_error, "hypervisor b could not apply "
                        "revision 4: VNI 100 add port vma: No such device");
    nvo_ctl_hv_status(&f->ctl, f->b->id, &st, &required);
    assert_int_equal(st.confirmed_revision, 0);
    assert_string_equal(st.apply_error,
                        "revision 4: VNI 100 add port vma: No such device");

    /* A new waiter on the same revision fails at once too. */
    assert_null(nvo_ctl_wait(&f->ctl, ids, 2, rev, 5000, wait_cb, f));
    assert_int_equal(f->calls, 2);
    assert_false(f->last_ok);

    /* The retry applied it: confirmed, the error is gone. */
    nvo_ctl_confirmed(&f->ctl, f->b->id, rev);
    nvo_ctl_hv_status(&f->ctl, f->b->id, &st, &required);
    assert_int_equal(st.confirmed_revision, rev);
    assert_string_equal(st.apply_error, "");
    assert_null(nvo_ctl_wait(&f->ctl, ids, 2, rev, 5000, wait_cb, f));
    assert_int_equal(f->calls, 3);
    assert_true(f->last_ok);
}

static void
test_wait_timeout(void **state)
{
    struct fixture *f = *state;
    int64_t rev = add_port(f, 10, f->a);
    int64_t ids[] = { f->a->id };

    assert_non_null(nvo_ctl_wait(&f->ctl, ids, 1, rev, 20, wait_cb, f));
    /* Until the 20 ms timeout fired, not until the loop has nothing left:
     * the service nodes' grace timer (10 s) would keep it running. */
    for (int i = 0; !f->calls && i < 100; i++) {
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    assert_int_equal(f->calls, 1);
    assert_false(f->last_ok);
}

/* A write that leaves a hypervisor's view unchanged is confirmed as soon as
 * the previous view is. */
static void
test_unchanged_view(void **state)
{
    struct fixture *f = *state;
    int64_t rev1 = add_port(f, 10, f->a);
    nvo_ctl_confirmed(&f->ctl, f->a->id, rev1);
    nvo_ctl_confirmed(&f->ctl, f->b->id, rev1);

    /* A new network with no ports changes no view. */
    int64_t rev2 = ++f->ctl.model->revision;
    nvo_model_add_network(f->ctl.model, 2, "blue", 200, NVO_BUM_HEAD_END,
                          rev2);
    int64_t ids[] = { f->a->id, f->b->id };
    int64_t blue_id = 2;
    uint64_t pushes = f->ctl.n_pushes;
    nvo_ctl_publish(&f->ctl, ids, 2, &blue_id, 1, rev2);
    assert_int_equal(f->ctl.n_pushes, pushes);
    assert_null(nvo_ctl_wait(&f->ctl, ids, 2, rev2, 5000, wait_cb, f));
    assert_int_equal(f->calls, 1);
    assert_true(f->last_ok);

    /* Unchanged before the previous push was confirmed: confirmed with it. */
    int64_t rev3 = add_port(f, 11, f->a);
    int64_t rev4 = ++f->ctl.model->revision;
    nvo_ctl_publish(&f->ctl, ids, 2, NULL, 0, rev4);
    assert_non_null(nvo_ctl_wait(&f->ctl, ids, 1, rev4, 5000, wait_cb, f));
    nvo_ctl_confirmed(&f->ctl, f->a->id, rev3);
    assert_int_equal(f->calls, 2);
    assert_true(f->last_ok);
}

static void
test_wait_cancel_and_forget(void **state)
{
    struct fixture *f = *state;
    int64_t rev = add_port(f, 10, f->a);
    int64_t ids[] = { f->a->id, f->b->id };

    struct nvo_ctl_waiter *w = nvo_ctl_wait(&f->ctl, ids, 2, rev, 5000,
                                            wait_cb, f);
    nvo_ctl_wait_cancel(w);
    nvo_ctl_confirmed(&f->ctl, f->a->id, rev);
    nvo_ctl_confirmed(&f->ctl, f->b->id, rev);
    assert_int_equal(f->calls, 0);

    /* A deleted hypervisor has nothing left to confirm. */
    rev = add_port(f, 11, f->b);
    assert_non_null(nvo_ctl_wait(&f->ctl, ids + 1, 1, rev, 5000, wait_cb,
                                 f));
    nvo_ctl_forget_hv(&f->ctl, f->b->id, NVO_DP_KERNEL);
    assert_int_equal(f->calls, 1);
    assert_true(f->last_ok);
}

/* A waiter left pending at destroy time is failed, not leaked. */
static void
test_destroy_fails_waiters(void **state)
{
    struct fixture *f = *state;
    int64_t rev = add_port(f, 10, f->a);
    int64_t ids[] = { f->a->id };
    assert_non_null(nvo_ctl_wait(&f->ctl, ids, 1, rev, 5000, wait_cb, f));
    nvo_ctl_destroy(&f->ctl);
    assert_int_equal(f->calls, 1);
    assert_false(f->last_ok);
    nvo_ctl_init(&f->ctl, &f->loop);     /* So teardown can destroy again. */
}

/* Duplicate ids (one per port) publish each hypervisor once; an empty
 * wait completes at once. */
static void
test_duplicates_and_empty(void **state)
{
    struct fixture *f = *state;
    int64_t rev = ++f->ctl.model->revision;
    nvo_model_add_port(f->ctl.model, 10, "vm", f->net, f->a, mac(10), NULL,
                       "v-vm", rev);
    uint64_t pushes = f->ctl.n_pushes;
    int64_t ids[] = { f->a->id, f->a->id, f->b->id, f->a->id };
    nvo_ctl_publish(&f->ctl, ids, 4, &f->net->id, 1, rev);
    assert_int_equal(f->ctl.n_pushes, pushes + 1);   /* Only a changed. */

    assert_null(nvo_ctl_wait(&f->ctl, NULL, 0, rev, 5000, wait_cb, f));
    assert_int_equal(f->calls, 1);
    assert_true(f->last_ok);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wait_confirmed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_apply_failed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unchanged_view, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_cancel_and_forget, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_and_empty, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_destroy_fails_waiters, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
