/* Unit tests: controller/store-ovsdb.c (what needs no running cluster,
 * and the ids of new rows against one standalone ovsdb-server;
 * tests/integration/test-cluster-raft.sh covers the rest). */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <cmocka.h>

#include "controller/model.h"
#include "controller/store-ovsdb.h"
#include "controller/store.h"
#include "openvswitch/compiler.h"
#include "ovs-atomic.h"
#include "schema/nvo-idl.h"
#include "timeval.h"
#include "util.h"

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

/* A standalone ovsdb-server on a Unix socket in a new directory, serving
 * schema/nvo.ovsschema. */
struct server {
    char dir[64];
    char *remote;               /* "unix:DIR/db.sock". */
    pid_t pid;
};

/* cmocka teardown: stops the server of server_start(), if any, and
 * removes its directory. */
static int
server_stop(void **state)
{
    struct server *s = *state;
    if (s) {
        if (s->pid > 0) {
            kill(s->pid, SIGTERM);
        }
        char *cmd = xasprintf("rm -rf %s", s->dir);
        int rc = system(cmd);
        free(cmd);
        free(s->remote);
        free(s);
        return rc ? -1 : 0;
    }
    return 0;
}

/* cmocka setup: starts a server ('*state'; NULL if Open vSwitch's tools
 * are not installed: the test skips).  The teardown stops it also when the
 * test failed. */
static int
server_start(void **state)
{
    *state = NULL;
    if (system("command -v ovsdb-tool >/dev/null && "
               "command -v ovsdb-server >/dev/null")) {
        return 0;
    }
    const char *srcdir = getenv("srcdir");
    char *schema = xasprintf("%s/schema/nvo.ovsschema",
                             srcdir ? srcdir : ".");
    if (access(schema, R_OK)) {
        fail_msg("%s: not found (run from the top of the tree, or set "
                 "srcdir as make check does)", schema);
    }
    struct server *s = xzalloc(sizeof *s);
    ovs_strlcpy(s->dir, "/tmp/nvo-test-store-ovsdb.XXXXXX", sizeof s->dir);
    assert_non_null(mkdtemp(s->dir));
    *state = s;
    char *cmd = xasprintf(
        "ovsdb-tool create %s/nvo.db %s && "
        "ovsdb-server --detach --no-chdir --pidfile=%s/db.pid "
        "--unixctl=%s/db.ctl --log-file=%s/db.log "
        "--remote=punix:%s/db.sock %s/nvo.db", s->dir, schema, s->dir,
        s->dir, s->dir, s->dir, s->dir);
    free(schema);
    int rc = system(cmd);
    free(cmd);
    char *pidfile = xasprintf("%s/db.pid", s->dir);
    FILE *f = rc ? NULL : fopen(pidfile, "r");
    free(pidfile);
    long pid = 0;
    if (!f || fscanf(f, "%ld", &pid) != 1) {
        /* cmocka runs no teardown after a failed setup. */
        if (f) {
            fclose(f);
        }
        server_stop(state);
        *state = NULL;
        fail_msg("could not start ovsdb-server (exit status %d)", rc);
    }
    fclose(f);
    s->pid = pid;
    s->remote = xasprintf("unix:%s/db.sock", s->dir);
    return 0;
}

static void
write_cb(struct nvo_store_write *w)
{
    *(bool *) w->aux = true;
}

/* Submits 'w' (its op set) to 's' and runs 'loop' until it completes;
 * expects success. */
static void
write_ok(struct nvo_store *s, uv_loop_t *loop, struct nvo_store_write *w)
{
    bool done = false;
    w->cb = write_cb;
    w->aux = &done;
    nvo_store_submit(s, w);
    long long int deadline = time_msec() + 10000;
    while (!done) {
        if (time_msec() > deadline) {
            fail_msg("no answer from the store within 10 s");
        }
        uv_run(loop, UV_RUN_NOWAIT);
        xnanosleep(1000000);
    }
    if (w->error) {
        fail_msg("write failed: %s", w->errmsg ? w->errmsg : "?");
    }
}

/* Adds a port to 's'; returns its id. */
static int64_t
add_port(struct nvo_store *s, uv_loop_t *loop, const char *vm, int64_t net,
         int64_t hv, const char *mac, int64_t want_revision)
{
    struct nvo_store_write w;
    nvo_store_write_init(&w, NVO_STORE_ADD_PORT, NULL, NULL);
    w.op.port.vm = xstrdup(vm);
    w.op.port.net_id = net;
    w.op.port.hv_id = hv;
    w.op.port.mac = xstrdup(mac);
    w.op.port.iface = xasprintf("t-%s", vm);
    write_ok(s, loop, &w);
    assert_int_equal(w.revision, want_revision);
    int64_t id = w.op.id;
    nvo_store_write_uninit(&w);
    return id;
}

static void
del_port(struct nvo_store *s, uv_loop_t *loop, int64_t id)
{
    struct nvo_store_write w;
    nvo_store_write_init(&w, NVO_STORE_DEL_PORT, NULL, NULL);
    w.op.id = id;
    write_ok(s, loop, &w);
    nvo_store_write_uninit(&w);
}

/* A new row's id is its revision, or one more than the largest id of its
 * table (ids exported from SQLite), as a scan of the table would find it:
 * also after the rows with the largest ids were deleted (new_id() starts
 * its lookup at the largest id it found before). */
static void
test_new_id(void **state)
{
    struct server *srv = *state;
    if (!srv) {
        skip();
    }

    /* An exported store whose ids are above its revision. */
    struct nvo_model *m = nvo_model_create();
    struct nvo_network *net = nvo_model_add_network(m, 1, "n1", 100,
                                                    NVO_BUM_HEAD_END, 1);
    struct nvo_hypervisor *hv = nvo_model_add_hv(m, 7, "h1", "192.0.2.1",
                                                 NVO_DP_KERNEL,
                                                 NVO_ROLE_HYPERVISOR, NULL,
                                                 2);
    nvo_model_add_port(m, 300, "vm0", net, hv,
                       (struct eth_addr) ETH_ADDR_C(02, 00, 00, 00, 00, 01),
                       NULL, "t-vm0", 3);
    nvo_model_add_port(m, 500, "vm9", net, hv,
                       (struct eth_addr) ETH_ADDR_C(02, 00, 00, 00, 00, 09),
                       NULL, "t-vm9", 3);
    m->revision = 3;
    char *errmsg = NULL;
    assert_int_equal(nvo_store_ovsdb_export(m, srv->remote, 10000, &errmsg),
                     0);
    assert_null(errmsg);
    nvo_model_destroy(m);

    uv_loop_t loop;
    uv_loop_init(&loop);
    struct nvo_store *s = NULL;
    char *db = xasprintf("ovsdb:%s", srv->remote);
    assert_int_equal(nvo_store_ovsdb_open(db, &loop, &s, &errmsg), 0);
    free(db);
    m = nvo_model_create();
    assert_int_equal(nvo_store_load(s, m), 0);
    assert_int_equal(m->revision, 3);
    nvo_model_destroy(m);

    /* Above the revision: one more than the largest id. */
    assert_int_equal(add_port(s, &loop, "vm1", 1, 7, "02:00:00:00:00:02",
                              4), 501);
    /* The rows with the largest ids gone: one more than the largest left,
     * not 502 (from the last one found) nor the revision. */
    del_port(s, &loop, 501);
    del_port(s, &loop, 500);
    assert_int_equal(add_port(s, &loop, "vm2", 1, 7, "02:00:00:00:00:03",
                              7), 301);
    /* An empty table: the revision. */
    del_port(s, &loop, 301);
    del_port(s, &loop, 300);
    assert_int_equal(add_port(s, &loop, "vm3", 1, 7, "02:00:00:00:00:04",
                              10), 10);

    /* Its writes are counted; the phases of a transaction are not
     * measured, and say so (/metrics leaves them out). */
    struct nvo_store_stats st;
    nvo_store_get_stats(s, &st);
    assert_int_equal(st.n_writes, 7);
    assert_false(st.timed);

    nvo_store_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_idl_class),
        cmocka_unit_test(test_guest),
        cmocka_unit_test_setup_teardown(test_new_id, server_start,
                                        server_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
