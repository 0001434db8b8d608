/* Unit tests: lib/uv-wake.c. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <uv.h>

#include "lib/uv-wake.h"
#include "ovs-atomic.h"
#include "ovs-thread.h"
#include "util.h"

struct counts {
    size_t n_calls;
    atomic_size_t published;    /* Raised by the sender before a send. */
    size_t seen;                /* 'published' as the last call saw it. */
};

static void
count_cb(void *aux)
{
    struct counts *c = aux;
    c->n_calls++;
    atomic_read(&c->published, &c->seen);
}

/* Sends from the loop's thread coalesce into one call; none comes after
 * nvo_wake_destroy(). */
static void
test_coalesce_and_destroy(void **state OVS_UNUSED)
{
    uv_loop_t loop;
    struct counts c = { .n_calls = 0 };
    assert_int_equal(uv_loop_init(&loop), 0);
    struct nvo_wake *w = nvo_wake_create(&loop, count_cb, &c);
    assert_non_null(w);

    nvo_wake_send(w);
    nvo_wake_send(w);
    nvo_wake_send(w);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(c.n_calls, 1);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(c.n_calls, 1);     /* Nothing pending. */

    nvo_wake_send(w);
    nvo_wake_destroy(w);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(c.n_calls, 1);
    nvo_wake_destroy(NULL);
    assert_int_equal(uv_loop_close(&loop), 0);
}

#define N_SENDS 20000

struct sender {
    struct nvo_wake *w;
    struct counts *c;
};

static void *
sender_main(void *s_)
{
    struct sender *s = s_;
    for (size_t i = 1; i <= N_SENDS; i++) {
        size_t orig;
        atomic_add(&s->c->published, 1, &orig);
        nvo_wake_send(s->w);
    }
    return NULL;
}

/* Sends from another thread: the callback sees everything published
 * before the last send, in fewer calls than sends. */
static void
test_other_thread(void **state OVS_UNUSED)
{
    uv_loop_t loop;
    struct counts c = { .n_calls = 0 };
    atomic_init(&c.published, 0);
    assert_int_equal(uv_loop_init(&loop), 0);
    struct sender s = { nvo_wake_create(&loop, count_cb, &c), &c };
    assert_non_null(s.w);

    pthread_t thread = ovs_thread_create("sender", sender_main, &s);
    while (c.seen < N_SENDS) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    xpthread_join(thread, NULL);
    assert_true(c.n_calls >= 1 && c.n_calls <= N_SENDS);
    nvo_wake_destroy(s.w);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coalesce_and_destroy),
        cmocka_unit_test(test_other_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
