/* Unit tests: controller/store-ovsdb.c (what needs no running cluster;
 * tests/integration/test-cluster-raft.sh covers the rest). */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "controller/store-ovsdb.h"
#include "controller/store.h"
#include "openvswitch/compiler.h"
#include "ovs-atomic.h"
#include "schema/nvo-idl.h"
#include "timeval.h"

/* Parses 'db'; expects success with 'want' as the remotes. */
static void
parse_ok(const char *db, const char *want)
{
    char *remotes = NULL, *errmsg = NULL;
    assert_int_equal(nvo_store_ovsdb_parse(db, &remotes, &errmsg), 0);
    assert_null(errmsg);
    assert_string_equal(remotes, want);
    free(remotes);
}

/* Parses 'db'; expects -EINVAL with a message containing 'why'. */
static void
parse_bad(const char *db, const char *why)
{
    char *remotes = NULL, *errmsg = NULL;
    assert_int_equal(nvo_store_ovsdb_parse(db, &remotes, &errmsg), -EINVAL);
    assert_null(remotes);
    assert_non_null(errmsg);
    if (!strstr(errmsg, why)) {
        fail_msg("'%s' does not say '%s'", errmsg, why);
    }
    free(errmsg);
}

static void
test_parse(void **state OVS_UNUSED)
{
    parse_ok("ovsdb:tcp:192.0.2.201:6641", "tcp:192.0.2.201:6641");
    parse_ok("ovsdb:tcp:192.0.2.201:6641,ssl:192.0.2.202:6641,"
             "unix:/run/nvo/db.sock",
             "tcp:192.0.2.201:6641,ssl:192.0.2.202:6641,"
             "unix:/run/nvo/db.sock");
    parse_ok("ovsdb:tcp:[2001:db8::1]:6641", "tcp:[2001:db8::1]:6641");
    parse_bad("/var/lib/nvo/nvo.db", "not an ovsdb: store");
    parse_bad("ovsdb:", "no remote");
    parse_bad("ovsdb:tcp:192.0.2.1", "bad remote 'tcp:192.0.2.1'");
    parse_bad("ovsdb:tcp:192.0.2.1:66x", "bad remote");
    parse_bad("ovsdb:tcp::6641", "bad remote");
    parse_bad("ovsdb:http://192.0.2.1:6641", "bad remote");
    parse_bad("ovsdb:unix:", "bad remote");
    parse_bad("ovsdb:tcp:192.0.2.1:6641,", "empty remote");
    parse_bad("ovsdb:tcp:192.0.2.1:6641,,tcp:192.0.2.2:6641",
              "empty remote");
}

/* The generated IDL is the schema's: the database name and every table. */
static void
test_idl_class(void **state OVS_UNUSED)
{
    static const char *tables[] = {
        "NVO_Global", "Network", "Hypervisor", "Port", "Controller",
        "Hypervisor_Private", "Journal",
    };
    assert_string_equal(nvorec_idl_class.database, NVO_STORE_OVSDB_NAME);
    assert_int_equal(nvorec_idl_class.n_tables, ARRAY_SIZE(tables));
    for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
        bool found = false;
        for (size_t j = 0; j < nvorec_idl_class.n_tables; j++) {
            found |= !strcmp(nvorec_idl_class.tables[j].name, tables[i]);
        }
        if (!found) {
            fail_msg("table %s missing from the IDL", tables[i]);
        }
    }
}

/* A guest of the store's thread (what cluster.c is) that counts. */
struct guest {
    atomic_uint runs;           /* Its run() calls. */
    atomic_uint waits;          /* Its wait() calls. */
    unsigned int finis;         /* Its fini() calls. */
};

static void
guest_run(void *g_)
{
    struct guest *g = g_;
    atomic_add_relaxed(&g->runs, 1, &(unsigned int) { 0 });
}

static void
guest_wait(void *g_)
{
    struct guest *g = g_;
    atomic_add_relaxed(&g->waits, 1, &(unsigned int) { 0 });
}

static void
guest_fini(void *g_)
{
    struct guest *g = g_;
    g->finis++;
}

static unsigned int
guest_runs(struct guest *g)
{
    unsigned int n;
    atomic_read_relaxed(&g->runs, &n);
    return n;
}

/* Polls (up to 10 s) until 'g' ran more than 'n' times. */
static void
await_run(struct guest *g, unsigned int n)
{
    long long int deadline = time_msec() + 10000;
    while (guest_runs(g) <= n) {
        if (time_msec() > deadline) {
            fail_msg("the store's thread did not run its guest");
        }
        xnanosleep(1000000);
    }
}

/* The store's thread runs its guest (cluster.c) at every iteration, once
 * woken; after nvo_store_ovsdb_clear_guest() it never does again, and the
 * guest's fini ran once, with the thread off the session.  No server: the
 * session keeps trying to connect meanwhile. */
static void
test_guest(void **state OVS_UNUSED)
{
    struct nvo_store *store = NULL;
    char *errmsg = NULL;
    assert_int_equal(nvo_store_ovsdb_open("ovsdb:unix:/nonexistent/nvo.sock",
                                          NULL, &store, &errmsg), 0);
    assert_null(errmsg);
    struct ovsdb_idl_index *ctl_by_name = NULL, *hp_by_hv = NULL;
    assert_non_null(nvo_store_ovsdb_idl(store, &ctl_by_name, &hp_by_hv));
    assert_non_null(ctl_by_name);
    assert_non_null(hp_by_hv);

    struct guest g = { .finis = 0 };
    atomic_init(&g.runs, 0);
    atomic_init(&g.waits, 0);
    nvo_store_ovsdb_set_guest(store, guest_run, guest_wait, &g);
    await_run(&g, 0);
    unsigned int n = guest_runs(&g);
    nvo_store_ovsdb_wake(store);
    await_run(&g, n);

    nvo_store_ovsdb_clear_guest(store, guest_fini);
    assert_int_equal(g.finis, 1);
    n = guest_runs(&g);
    unsigned int waits;
    atomic_read_relaxed(&g.waits, &waits);
    assert_int_equal(waits, n);     /* wait() follows each run(), in the
                                     * same iteration. */
    nvo_store_ovsdb_wake(store);
    nvo_store_close(store);         /* Joins the thread. */
    assert_int_equal(guest_runs(&g), n);
    assert_int_equal(g.finis, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_idl_class),
        cmocka_unit_test(test_guest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
