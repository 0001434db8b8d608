/* test-store.c - the SQLite store: constraints, revisions, migrations,
 * reload, group commit, checkpoints. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <uv.h>

#include "controller/model.h"
#include "controller/store.h"
#include "controller/store-sqlite.h"
#include "util.h"

struct fixture {
    char dir[64];
    char *path;
    struct nvo_store *s;
};

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof *f);
    char *errmsg;
    strcpy(f->dir, "/tmp/nvo-test-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->path = xasprintf("%s/nvo.db", f->dir);
    assert_int_equal(nvo_store_open(f->path, NULL, &f->s, &errmsg), 0);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    nvo_store_close(f->s);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f->path);
    free(f);
    return 0;
}

static void
test_open_fresh(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(nvo_store_sqlite_schema_version(f->s),
                     (int) nvo_schema_n_migrations);
    assert_true(nvo_schema_n_migrations >= 1);
    assert_int_equal(nvo_store_revision(f->s), 0);
}

static void
test_revision_bumps(void **state)
{
    struct fixture *f = *state;
    int64_t id, rev, id2, rev2;

    assert_int_equal(nvo_store_sqlite_add_network(f->s, "a", 10, NVO_BUM_HEAD_END,
                                           &id, &rev), 0);
    assert_int_equal(rev, 1);
    assert_int_equal(nvo_store_sqlite_add_network(f->s, "b", 11, NVO_BUM_HEAD_END,
                                           &id2, &rev2), 0);
    assert_int_equal(rev2, 2);
    assert_true(id2 > id);
    /* A failed write changes nothing, not even the revision. */
    assert_int_equal(nvo_store_sqlite_add_network(f->s, "a", 12, NVO_BUM_HEAD_END,
                                           &id2, &rev2), -EEXIST);
    assert_int_equal(nvo_store_revision(f->s), 2);
    assert_int_equal(nvo_store_sqlite_set_network_bum(f->s, id,
                                               NVO_BUM_SERVICE_NODE, &rev),
                     0);
    assert_int_equal(rev, 3);
    assert_int_equal(nvo_store_sqlite_delete_network(f->s, id, &rev), 0);
    assert_int_equal(rev, 4);
    assert_int_equal(nvo_store_sqlite_delete_network(f->s, id, &rev), -ENOENT);
    assert_int_equal(nvo_store_revision(f->s), 4);
}

static void
test_network_constraints(void **state)
{
    struct fixture *f = *state;
    int64_t id, rev;

    assert_int_equal(nvo_store_sqlite_add_network(f->s, "n1", 100, NVO_BUM_HEAD_END,
                                           &id, &rev), 0);
    assert_int_equal(nvo_store_sqlite_add_network(f->s, "n2", 100, NVO_BUM_HEAD_END,
                                           &id, &rev), -EEXIST);
    assert_non_null(strstr(nvo_store_sqlite_errmsg(f->s), "networks.vni"));
    assert_int_equal(nvo_store_sqlite_add_network(f->s, "n1", 101, NVO_BUM_HEAD_END,
                                           &id, &rev), -EEXIST);
    assert_non_null(strstr(nvo_store_sqlite_errmsg(f->s), "networks.name"));
    assert_int_equal(nvo_store_sqlite_add_network(f->s, "n3", 0, NVO_BUM_HEAD_END,
                                           &id, &rev), -EINVAL);
    assert_int_equal(nvo_store_sqlite_add_network(f->s, "n3", 16777216,
                                           NVO_BUM_HEAD_END, &id, &rev),
                     -EINVAL);
    assert_int_equal(nvo_store_sqlite_add_network(f->s, "n3", 16777215,
                                           NVO_BUM_HEAD_END, &id, &rev), 0);
    assert_int_equal(nvo_store_sqlite_add_network(f->s, "", 5, NVO_BUM_HEAD_END,
                                           &id, &rev), -EINVAL);
    assert_int_equal(nvo_store_revision(f->s), 2);
}

static void
test_hv_constraints(void **state)
{
    struct fixture *f = *state;
    int64_t id, rev;

    assert_int_equal(nvo_store_sqlite_add_hv(f->s, "h1", "192.0.2.1", NVO_DP_OVS,
                                      NVO_ROLE_HYPERVISOR,
                                      "tcp:192.0.2.1:6640", &id, &rev), 0);
    /* Unique tunnel IP and name. */
    assert_int_equal(nvo_store_sqlite_add_hv(f->s, "h2", "192.0.2.1", NVO_DP_KERNEL,
                                      NVO_ROLE_HYPERVISOR, NULL, &id, &rev),
                     -EEXIST);
    assert_int_equal(nvo_store_sqlite_add_hv(f->s, "h1", "192.0.2.2", NVO_DP_KERNEL,
                                      NVO_ROLE_HYPERVISOR, NULL, &id, &rev),
                     -EEXIST);
    /* ovsdb iff OVS; service nodes are kernel. */
    assert_int_equal(nvo_store_sqlite_add_hv(f->s, "h3", "192.0.2.3", NVO_DP_OVS,
                                      NVO_ROLE_HYPERVISOR, NULL, &id, &rev),
                     -EINVAL);
    assert_int_equal(nvo_store_sqlite_add_hv(f->s, "h3", "192.0.2.3", NVO_DP_KERNEL,
                                      NVO_ROLE_HYPERVISOR, "tcp:1.2.3.4:1",
                                      &id, &rev), -EINVAL);
    assert_int_equal(nvo_store_sqlite_add_hv(f->s, "h3", "192.0.2.3", NVO_DP_OVS,
                                      NVO_ROLE_SERVICE_NODE, "tcp:1.2.3.4:1",
                                      &id, &rev), -EINVAL);
    assert_int_equal(nvo_store_sqlite_add_hv(f->s, "h3", "192.0.2.3", NVO_DP_KERNEL,
                                      NVO_ROLE_SERVICE_NODE, NULL, &id, &rev),
                     0);
    assert_int_equal(nvo_store_revision(f->s), 2);
}

static void
test_port_constraints(void **state)
{
    struct fixture *f = *state;
    int64_t n1, n2, h1, h2, p1, p2, rev;

    assert_int_equal(nvo_store_sqlite_add_network(f->s, "n1", 1, NVO_BUM_HEAD_END,
                                           &n1, &rev), 0);
    assert_int_equal(nvo_store_sqlite_add_network(f->s, "n2", 2, NVO_BUM_HEAD_END,
                                           &n2, &rev), 0);
    assert_int_equal(nvo_store_sqlite_add_hv(f->s, "h1", "192.0.2.1", NVO_DP_KERNEL,
                                      NVO_ROLE_HYPERVISOR, NULL, &h1, &rev),
                     0);
    assert_int_equal(nvo_store_sqlite_add_hv(f->s, "h2", "192.0.2.2", NVO_DP_KERNEL,
                                      NVO_ROLE_HYPERVISOR, NULL, &h2, &rev),
                     0);
    assert_int_equal(nvo_store_sqlite_add_port(f->s, "vm1", n1, h1,
                                        "02:00:00:00:00:01", "10.0.0.1",
                                        "tap1", &p1, &rev), 0);
    int64_t before = nvo_store_revision(f->s);
    /* Same MAC in the same network: refused; in another network: fine. */
    assert_int_equal(nvo_store_sqlite_add_port(f->s, "vm2", n1, h2,
                                        "02:00:00:00:00:01", NULL, "tap2",
                                        &p2, &rev), -EEXIST);
    assert_non_null(strstr(nvo_store_sqlite_errmsg(f->s), "ports.network_id"));
    /* Same interface on the same hypervisor: refused. */
    assert_int_equal(nvo_store_sqlite_add_port(f->s, "vm2", n2, h1,
                                        "02:00:00:00:00:02", NULL, "tap1",
                                        &p2, &rev), -EEXIST);
    /* Unknown network or hypervisor. */
    assert_int_equal(nvo_store_sqlite_add_port(f->s, "vm2", 999, h1,
                                        "02:00:00:00:00:02", NULL, "tap9",
                                        &p2, &rev), -ENOENT);
    assert_int_equal(nvo_store_sqlite_add_port(f->s, "vm2", n1, 999,
                                        "02:00:00:00:00:02", NULL, "tap9",
                                        &p2, &rev), -ENOENT);
    assert_int_equal(nvo_store_revision(f->s), before);
    assert_int_equal(nvo_store_sqlite_add_port(f->s, "vm2", n2, h2,
                                        "02:00:00:00:00:01", NULL, "tap1",
                                        &p2, &rev), 0);

    /* Networks and hypervisors with ports stay. */
    assert_int_equal(nvo_store_sqlite_delete_network(f->s, n1, &rev), -ENOTEMPTY);
    assert_int_equal(nvo_store_sqlite_delete_hv(f->s, h1, &rev), -ENOTEMPTY);

    /* Migration: onto an interface in use fails, elsewhere works. */
    assert_int_equal(nvo_store_sqlite_move_port(f->s, p1, h2, "tap1", &rev),
                     -EEXIST);
    assert_int_equal(nvo_store_sqlite_move_port(f->s, p1, h2, "tap7", &rev), 0);
    assert_int_equal(nvo_store_sqlite_move_port(f->s, 999, h2, "tap8", &rev),
                     -ENOENT);
    assert_int_equal(nvo_store_sqlite_move_port(f->s, p1, 999, "tap8", &rev),
                     -ENOENT);

    assert_int_equal(nvo_store_sqlite_delete_port(f->s, p1, &rev), 0);
    assert_int_equal(nvo_store_sqlite_delete_port(f->s, p1, &rev), -ENOENT);
    assert_int_equal(nvo_store_sqlite_delete_network(f->s, n1, &rev), 0);
    assert_int_equal(nvo_store_sqlite_delete_hv(f->s, h1, &rev), 0);
    assert_int_equal(nvo_store_sqlite_delete_hv(f->s, h2, &rev), -ENOTEMPTY);
}

static void
test_reload(void **state)
{
    struct fixture *f = *state;
    int64_t n1, h1, h2, p1, rev;
    char *errmsg;

    assert_int_equal(nvo_store_sqlite_add_network(f->s, "n1", 7,
                                           NVO_BUM_SERVICE_NODE, &n1, &rev),
                     0);
    assert_int_equal(nvo_store_sqlite_add_hv(f->s, "h1", "192.0.2.1", NVO_DP_OVS,
                                      NVO_ROLE_HYPERVISOR,
                                      "tcp:127.0.0.1:6640", &h1, &rev), 0);
    assert_int_equal(nvo_store_sqlite_add_hv(f->s, "h2", "192.0.2.2", NVO_DP_KERNEL,
                                      NVO_ROLE_SERVICE_NODE, NULL, &h2,
                                      &rev), 0);
    assert_int_equal(nvo_store_sqlite_add_port(f->s, "vm1", n1, h1,
                                        "02:aa:00:00:00:01", "10.0.0.1",
                                        "tap1", &p1, &rev), 0);
    assert_int_equal(nvo_store_sqlite_move_port(f->s, p1, h1, "tap2", &rev), 0);
    nvo_store_close(f->s);
    f->s = NULL;

    assert_int_equal(nvo_store_open(f->path, NULL, &f->s, &errmsg), 0);
    assert_int_equal(nvo_store_revision(f->s), 5);
    struct nvo_model *m = nvo_model_create();
    assert_int_equal(nvo_store_load(f->s, m), 0);
    assert_int_equal(m->revision, 5);
    const struct nvo_network *net = nvo_model_network_by_name(m, "n1");
    assert_non_null(net);
    assert_int_equal(net->vni, 7);
    assert_int_equal(net->bum, NVO_BUM_SERVICE_NODE);
    assert_int_equal(net->n_ports, 1);
    const struct nvo_hypervisor *hv = nvo_model_hv_by_name(m, "h1");
    assert_non_null(hv);
    assert_string_equal(hv->ovsdb, "tcp:127.0.0.1:6640");
    assert_int_equal(hv->dataplane, NVO_DP_OVS);
    hv = nvo_model_hv_by_name(m, "h2");
    assert_int_equal(hv->role, NVO_ROLE_SERVICE_NODE);
    assert_null(hv->ovsdb);
    const struct nvo_port *p = nvo_model_port_by_id(m, p1);
    assert_non_null(p);
    assert_string_equal(p->iface, "tap2");
    assert_string_equal(p->ip, "10.0.0.1");
    assert_int_equal(p->revision, 5);
    assert_int_equal(p->mac.ea[1], 0xaa);
    nvo_model_destroy(m);
}

/* The real migrations plus one more, version n + 1, running 'sql2'. */
static const struct nvo_migration *
migrations_plus(const char *sql2)
{
    static struct nvo_migration m[16];
    size_t n = nvo_schema_n_migrations;
    assert_true(n < ARRAY_SIZE(m));
    for (size_t i = 0; i < n; i++) {
        m[i] = nvo_schema_migrations[i];
    }
    m[n].version = n + 1;
    m[n].name = "NNN-test.sql";
    m[n].sql = sql2;
    return m;
}

static void
test_migrations(void **state)
{
    struct fixture *f = *state;
    struct nvo_store *s;
    char *errmsg;
    int64_t id, rev;
    size_t n = nvo_schema_n_migrations;

    assert_int_equal(nvo_store_sqlite_add_network(f->s, "n1", 1, NVO_BUM_HEAD_END,
                                           &id, &rev), 0);
    nvo_store_close(f->s);
    f->s = NULL;

    /* A failing migration leaves the database as it was. */
    assert_int_equal(nvo_store_sqlite_open_with(f->path, NULL, migrations_plus(
                         "ALTER TABLE networks ADD COLUMN note TEXT; "
                         "SELECT * FROM no_such_table;"), n + 1, &s, &errmsg),
                     -EIO);
    assert_null(s);
    assert_non_null(strstr(errmsg, "NNN-test.sql"));
    free(errmsg);

    /* A pending migration is applied, data kept. */
    assert_int_equal(nvo_store_sqlite_open_with(f->path, NULL, migrations_plus(
                         "ALTER TABLE networks ADD COLUMN note TEXT;"),
                         n + 1, &s, &errmsg), 0);
    assert_int_equal(nvo_store_sqlite_schema_version(s), n + 1);
    assert_int_equal(nvo_store_revision(s), 1);
    struct nvo_model *m = nvo_model_create();
    assert_int_equal(nvo_store_load(s, m), 0);
    const struct nvo_network *net = nvo_model_network_by_name(m, "n1");
    assert_non_null(net);
    /* Rows from before 002-dataplane.sql get its defaults. */
    assert_int_equal(net->encap, NVO_ENCAP_VXLAN);
    assert_true(net->arp_responder);
    assert_int_equal(net->mtu, 0);
    nvo_model_destroy(m);
    nvo_store_close(s);

    /* This binary knows only migrations 1..n: a newer database is refused
     * with a clear message. */
    assert_int_equal(nvo_store_open(f->path, NULL, &s, &errmsg), -EPROTO);
    assert_null(s);
    assert_non_null(strstr(errmsg, "newer"));
    char *want = xasprintf("version %"PRIuSIZE, n + 1);
    assert_non_null(strstr(errmsg, want));
    free(want);
    free(errmsg);
}

static void
test_not_a_database(void **state)
{
    struct fixture *f = *state;
    struct nvo_store *s;
    char *errmsg;
    char *path = xasprintf("%s/garbage.db", f->dir);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    for (int i = 0; i < 200; i++) {
        fputs("this is not an SQLite database at all. ", file);
    }
    fclose(file);
    assert_true(nvo_store_open(path, NULL, &s, &errmsg) < 0);
    assert_null(s);
    assert_non_null(strstr(errmsg, path));
    free(errmsg);

    /* An unwritable location. */
    assert_true(nvo_store_open("/nonexistent-dir/x/nvo.db", NULL, &s,
                                &errmsg) < 0);
    assert_non_null(strstr(errmsg, "cannot open"));
    free(errmsg);
    free(path);
}

static void
batch_cb(struct nvo_store_write *w)
{
    int *n_done = w->aux;
    (*n_done)++;
}

/* Reopens the fixture's database on 'loop' (initialized here) for group
 * commit; returns that store (the caller's, for async_close()). */
static struct nvo_store *
async_open(struct fixture *f, uv_loop_t *loop)
{
    struct nvo_store *s;
    char *errmsg;

    nvo_store_close(f->s);
    f->s = NULL;
    uv_loop_init(loop);
    assert_int_equal(nvo_store_open(f->path, loop, &s, &errmsg), 0);
    return s;
}

/* Uninitializes the 'n' writes 'w', closes 's' and 'loop' and reopens the
 * database without a loop as the fixture's. */
static void
async_close(struct fixture *f, struct nvo_store *s, uv_loop_t *loop,
            struct nvo_store_write *w, size_t n)
{
    char *errmsg;

    for (size_t i = 0; i < n; i++) {
        nvo_store_write_uninit(&w[i]);
    }
    nvo_store_close(s);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
    assert_int_equal(nvo_store_open(f->path, NULL, &f->s, &errmsg), 0);
}

/* Writes submitted together commit in one transaction, each under its own
 * savepoint: the failing ones (every kind of constraint) change nothing and
 * take no revision, the others commit with consecutive revisions, and the
 * callbacks come in submission order, after the commit, never from within
 * nvo_store_submit(). */
static void
test_batch(void **state)
{
    struct fixture *f = *state;
    uv_loop_t loop;
    struct nvo_store *s;
    int64_t n1, h1, p1, rev;

    assert_int_equal(nvo_store_sqlite_add_network(f->s, "n1", 1,
                                                  NVO_BUM_HEAD_END, &n1,
                                                  &rev), 0);
    assert_int_equal(nvo_store_sqlite_add_hv(f->s, "h1", "192.0.2.1",
                                             NVO_DP_KERNEL,
                                             NVO_ROLE_HYPERVISOR, NULL, &h1,
                                             &rev), 0);
    assert_int_equal(nvo_store_sqlite_add_port(f->s, "vm1", n1, h1,
                                               "02:00:00:00:00:01", NULL,
                                               "tap1", &p1, &rev), 0);
    assert_int_equal(rev, 3);

    s = async_open(f, &loop);
    enum { N = 7 };
    struct nvo_store_write w[N];
    int n_done = 0;
    for (int i = 0; i < N; i++) {
        nvo_store_write_init(&w[i], NVO_STORE_ADD_NETWORK, batch_cb,
                             &n_done);
    }
    w[0].op.net.name = xstrdup("n2");               /* OK, rev 4. */
    w[0].op.net.vni = 2;
    w[1].op.net.name = xstrdup("n2");               /* Same name. */
    w[1].op.net.vni = 3;
    w[2].op.net.name = xstrdup("n3");               /* CHECK on vni. */
    w[2].op.net.vni = 0;
    w[3].op.type = NVO_STORE_ADD_PORT;              /* No such network. */
    w[3].op.port.vm = xstrdup("vm2");
    w[3].op.port.net_id = 999;
    w[3].op.port.hv_id = h1;
    w[3].op.port.mac = xstrdup("02:00:00:00:00:02");
    w[3].op.port.iface = xstrdup("tap2");
    w[4].op.type = NVO_STORE_DEL_NETWORK;           /* Still has a port. */
    w[4].op.id = n1;
    w[5].op.type = NVO_STORE_MOVE_PORT;             /* OK, rev 5. */
    w[5].op.id = p1;
    w[5].op.port.hv_id = h1;
    w[5].op.port.iface = xstrdup("tap9");
    w[6].op.type = NVO_STORE_DEL_PORT;              /* No such port. */
    w[6].op.id = 999;
    uint64_t t0 = uv_hrtime();
    for (int i = 0; i < N; i++) {
        nvo_store_submit(s, &w[i]);
    }
    assert_int_equal(n_done, 0);
    while (n_done < N) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    assert_int_equal(w[0].error, 0);
    assert_int_equal(w[0].revision, 4);
    assert_true(w[0].op.id > n1);
    assert_int_equal(w[1].error, -EEXIST);
    assert_non_null(strstr(w[1].errmsg, "networks.name"));
    assert_int_equal(w[2].error, -EINVAL);
    assert_int_equal(w[3].error, -ENOENT);
    assert_int_equal(w[4].error, -ENOTEMPTY);
    assert_int_equal(w[5].error, 0);
    assert_int_equal(w[5].revision, 5);
    assert_int_equal(w[6].error, -ENOENT);
    uint64_t elapsed = uv_hrtime() - t0;
    assert_int_equal(nvo_store_revision(s), 5);
    struct nvo_store_stats st;
    nvo_store_get_stats(s, &st);
    assert_int_equal(st.n_writes, N);
    assert_int_equal(st.n_commits, 1);
    /* nvo_store_seconds_total: the phases of the one transaction, in ns,
     * lie within the time the test waited for it; the commit (an fsync)
     * took some. */
    assert_true(st.timed);
    assert_true(st.commit_ns > 0);
    assert_true(st.queued_ns + st.to_thread_ns + st.commit_ns
                + st.to_loop_ns <= elapsed);
    async_close(f, s, &loop, w, N);

    /* On disk: exactly the two successful writes. */
    struct nvo_model *m = nvo_model_create();
    assert_int_equal(nvo_store_load(f->s, m), 0);
    assert_int_equal(m->revision, 5);
    assert_int_equal(hmap_count(&m->networks_by_id), 2);
    assert_non_null(nvo_model_network_by_name(m, "n2"));
    assert_int_equal(hmap_count(&m->ports_by_id), 1);
    assert_string_equal(nvo_model_port_by_id(m, p1)->iface, "tap9");
    nvo_model_destroy(m);
}

/* A batch of one runs without a savepoint (controller/store-sqlite.h): if
 * its write fails, it gets the error and the transaction is rolled back
 * whole, as is a batch whose writes all failed: no row, no revision taken,
 * in memory or on disk, and the next write gets the next revision. */
static void
test_failed_batches(void **state)
{
    struct fixture *f = *state;
    uv_loop_t loop;
    struct nvo_store *s;
    int64_t n1, rev;

    assert_int_equal(nvo_store_sqlite_add_network(f->s, "n1", 1,
                                                  NVO_BUM_HEAD_END, &n1,
                                                  &rev), 0);

    s = async_open(f, &loop);
    enum { N = 3 };
    struct nvo_store_write w[N];
    int n_done = 0;
    for (int i = 0; i < N; i++) {
        nvo_store_write_init(&w[i], NVO_STORE_ADD_NETWORK, batch_cb,
                             &n_done);
    }
    /* Alone: a name taken. */
    w[0].op.net.name = xstrdup("n1");
    w[0].op.net.vni = 2;
    nvo_store_submit(s, &w[0]);
    while (n_done < 1) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    assert_int_equal(w[0].error, -EEXIST);
    assert_int_equal(w[0].revision, 0);
    assert_non_null(strstr(w[0].errmsg, "networks.name"));
    assert_int_equal(nvo_store_revision(s), 1);

    /* Together, both failing: a VNI taken, a VNI out of range. */
    w[1].op.net.name = xstrdup("n2");
    w[1].op.net.vni = 1;
    w[2].op.net.name = xstrdup("n3");
    w[2].op.net.vni = 0;
    nvo_store_submit(s, &w[1]);
    nvo_store_submit(s, &w[2]);
    while (n_done < 3) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    assert_int_equal(w[1].error, -EEXIST);
    assert_int_equal(w[2].error, -EINVAL);
    assert_int_equal(nvo_store_revision(s), 1);
    struct nvo_store_stats st;
    nvo_store_get_stats(s, &st);
    assert_int_equal(st.n_commits, 2);
    async_close(f, s, &loop, w, N);

    /* On disk as well; the next write takes revision 2. */
    assert_int_equal(nvo_store_revision(f->s), 1);
    struct nvo_model *m = nvo_model_create();
    assert_int_equal(nvo_store_load(f->s, m), 0);
    assert_int_equal(m->revision, 1);
    assert_int_equal(hmap_count(&m->networks_by_id), 1);
    nvo_model_destroy(m);
    assert_int_equal(nvo_store_sqlite_add_network(f->s, "n2", 2,
                                                  NVO_BUM_HEAD_END, &n1,
                                                  &rev), 0);
    assert_int_equal(rev, 2);
}

/* The size of the database file (not its WAL): in WAL mode only a
 * checkpoint writes it. */
static off_t
db_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

/* What size_cb() saw. */
struct answer {
    const char *path;
    off_t size;                 /* The database file's, at the callback. */
};

static void
size_cb(struct nvo_store_write *w)
{
    struct answer *a = w->aux;
    a->size = db_size(a->path);
}

/* With a loop the store checkpoints the WAL itself once it holds
 * NVO_STORE_SQLITE_CHECKPOINT_FRAMES pages, after the batch that filled it
 * was answered, not in its COMMIT: one write at a time, the database file
 * never grew before a write's callback, and it grew after one. */
static void
test_checkpoint_after_answer(void **state)
{
    struct fixture *f = *state;
    uv_loop_t loop;
    struct nvo_store *s = async_open(f, &loop);
    /* Hypervisors with a long OVSDB remote: several pages a write. */
    char *ovsdb = xmalloc(16384);
    memset(ovsdb, 'x', 16383);
    ovsdb[16383] = '\0';

    enum { N = 400 };
    struct nvo_store_write w[N];
    off_t before = db_size(f->path);
    int grown_after = -1;
    int i;
    for (i = 0; i < N && grown_after < 0; i++) {
        struct answer a = { .path = f->path, .size = -1 };
        nvo_store_write_init(&w[i], NVO_STORE_ADD_HV, size_cb, &a);
        w[i].op.hv.name = xasprintf("h%d", i);
        w[i].op.hv.tunnel_ip = xasprintf("10.0.%d.%d", i / 250, i % 250 + 1);
        w[i].op.hv.dataplane = NVO_DP_OVS;
        w[i].op.hv.role = NVO_ROLE_HYPERVISOR;
        w[i].op.hv.ovsdb = xstrdup(ovsdb);
        nvo_store_submit(s, &w[i]);
        while (a.size < 0) {
            uv_run(&loop, UV_RUN_ONCE);
        }
        assert_int_equal(w[i].error, 0);
        /* Not checkpointed before the answer... */
        assert_int_equal(a.size, before);
        /* ...but maybe right after it (the loop runs until the pool has
         * nothing left). */
        uv_run(&loop, UV_RUN_DEFAULT);
        off_t after = db_size(f->path);
        if (after > before) {
            grown_after = i;
        }
    }
    assert_true(grown_after > 0);
    free(ovsdb);
    async_close(f, s, &loop, w, i);

    /* Every write is there. */
    struct nvo_model *m = nvo_model_create();
    assert_int_equal(nvo_store_load(f->s, m), 0);
    assert_int_equal(m->revision, i);
    nvo_model_destroy(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_fresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revision_bumps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_network_constraints, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hv_constraints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_constraints, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_batches, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_after_answer, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
