/* Unit tests: controller/service.c over the SQLite store (a real file in a
 * temporary directory) on a real libuv loop, no southbound: group commit,
 * a failing write inside a batch, commit order, ?wait=1, cancellation,
 * durability across reopening, writes made elsewhere (change callback). */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <uv.h>

#include "controller/ctl.h"
#include "controller/model.h"
#include "controller/service.h"
#include "controller/store.h"
#include "controller/store-sqlite.h"
#include "util.h"

#define MAX_RESULTS 600

/* What one call's callbacks reported. */
struct outcome {
    int n_calls;                /* Callbacks made. */
    bool final;
    enum nvo_svc_status status;
    char code[32];
    char message[256];
    int64_t revision;
    int64_t object_id;          /* Of the object in the first OK result. */
};

struct fixture {
    char dir[64];
    char *path;
    uv_loop_t loop;
    struct nvo_ctl ctl;
    struct outcome out[MAX_RESULTS];
};

static void
open_ctl(struct fixture *f)
{
    char *errmsg = NULL;
    nvo_ctl_init(&f->ctl, &f->loop);
    assert_int_equal(nvo_store_open(f->path, &f->loop, &f->ctl.store,
                                    &errmsg), 0);
    f->ctl.model = nvo_model_create();
    assert_int_equal(nvo_store_load(f->ctl.store, f->ctl.model), 0);
    f->ctl.svc = nvo_svc_create(&f->ctl);
    nvo_ctl_publish_all(&f->ctl);
}

static void
close_ctl(struct fixture *f)
{
    nvo_ctl_destroy(&f->ctl);
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof *f);
    strcpy(f->dir, "/tmp/nvo-test-service-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->path = xasprintf("%s/nvo.db", f->dir);
    uv_loop_init(&f->loop);
    open_ctl(f);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    close_ctl(f);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f->path);
    free(f);
    return 0;
}

static void
record(void *o_, const struct nvo_svc_result *r)
{
    struct outcome *o = o_;
    o->n_calls++;
    o->final = r->final;
    o->status = r->status;
    snprintf(o->code, sizeof o->code, "%s", r->code ? r->code : "");
    snprintf(o->message, sizeof o->message, "%s",
             r->message ? r->message : "");
    if (r->revision) {
        o->revision = r->revision;
    }
    if (r->status == NVO_SVC_OK && o->n_calls == 1) {
        o->object_id = (r->port ? r->port->id
                        : r->network ? r->network->id
                        : r->hv ? r->hv->id : 0);
    }
}

/* Runs the loop until 'o' got its final callback. */
static void
run_until_final(struct fixture *f, const struct outcome *o)
{
    while (!o->final) {
        /* 0: nothing left to wait for, which is a failure unless that
         * last iteration made the final callback. */
        if (!uv_run(&f->loop, UV_RUN_ONCE)) {
            assert_true(o->final);
        }
    }
}

/* One network "red" and two kernel hypervisors "a" and "b", committed. */
static void
base(struct fixture *f)
{
    struct nvo_net_req net = { .name = "red", .has_vni = true, .vni = 100 };
    struct nvo_hv_req a = { .name = "a", .tunnel_ip = "192.0.2.1",
                            .dataplane = "kernel" };
    struct nvo_hv_req b = { .name = "b", .tunnel_ip = "192.0.2.2",
                            .dataplane = "kernel" };
    struct outcome o[3];
    memset(o, 0, sizeof o);
    assert_non_null(nvo_svc_network_create(f->ctl.svc, &net, false, record,
                                           &o[0]));
    assert_non_null(nvo_svc_hv_create(f->ctl.svc, &a, false, record, &o[1]));
    assert_non_null(nvo_svc_hv_create(f->ctl.svc, &b, false, record, &o[2]));
    /* Nothing is answered before the commit. */
    assert_int_equal(o[0].n_calls + o[1].n_calls + o[2].n_calls, 0);
    run_until_final(f, &o[2]);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(o[i].status, NVO_SVC_OK);
        assert_int_equal(o[i].revision, i + 1);
    }
}

static struct nvo_svc_call *
add_port(struct fixture *f, int i, const char *hv, int mac, const char *iface,
         bool wait, struct outcome *o)
{
    char vm[32], macs[32];
    snprintf(vm, sizeof vm, "vm%d", i);
    snprintf(macs, sizeof macs, "02:00:00:00:%02x:%02x", mac / 256,
             mac % 256);
    struct nvo_port_req rq = { .vm = vm, .network = "red", .hypervisor = hv,
                               .mac = macs, .iface = iface };
    return nvo_svc_port_create(f->ctl.svc, &rq, wait, record, o);
}

/* Many concurrent writes share few transactions; every one succeeds, with
 * consecutive revisions in submission order, and all are on disk. */
static void
test_group_commit(void **state)
{
    struct fixture *f = *state;
    enum { N = 500 };
    struct nvo_store_stats st0, st;

    base(f);
    nvo_store_get_stats(f->ctl.store, &st0);
    for (int i = 0; i < N; i++) {
        char iface[16];
        snprintf(iface, sizeof iface, "t%d", i);
        assert_non_null(add_port(f, i, i % 2 ? "a" : "b", i + 1, iface,
                                 false, &f->out[i]));
    }
    assert_int_equal(nvo_svc_n_pending(f->ctl.svc), N);
    run_until_final(f, &f->out[N - 1]);
    for (int i = 0; i < N; i++) {
        assert_true(f->out[i].final);
        assert_int_equal(f->out[i].status, NVO_SVC_OK);
        assert_int_equal(f->out[i].revision, 3 + 1 + i);
        assert_non_null(nvo_model_port_by_id(f->ctl.model,
                                             f->out[i].object_id));
    }
    assert_int_equal(nvo_svc_n_pending(f->ctl.svc), 0);
    assert_int_equal(f->ctl.model->revision, 3 + N);
    nvo_store_get_stats(f->ctl.store, &st);
    assert_int_equal(st.n_writes - st0.n_writes, N);
    /* The first write goes alone; the rest queue behind it and share
     * transactions of at most NVO_STORE_SQLITE_MAX_BATCH. */
    assert_true(st.n_commits - st0.n_commits
                <= 1 + (N + NVO_STORE_SQLITE_MAX_BATCH - 1)
                       / NVO_STORE_SQLITE_MAX_BATCH);

    /* Durable: a fresh open of the file sees every row. */
    close_ctl(f);
    open_ctl(f);
    assert_int_equal(f->ctl.model->revision, 3 + N);
    assert_int_equal(hmap_count(&f->ctl.model->ports_by_id), N);
}

/* Writes that fail a constraint inside a batch change nothing and do not
 * fail the others; their answers name the clash. */
static void
test_failure_in_batch(void **state)
{
    struct fixture *f = *state;
    struct outcome *o = f->out;

    base(f);
    /* All pass the pre-checks (the model has no ports yet); 1 and 3 clash
     * in the store with 0 (same MAC in "red"), 4 with 2 (same interface on
     * "b"). */
    assert_non_null(add_port(f, 0, "a", 1, "t0", false, &o[0]));
    assert_non_null(add_port(f, 1, "b", 1, "t1", false, &o[1]));
    assert_non_null(add_port(f, 2, "b", 2, "t2", false, &o[2]));
    assert_non_null(add_port(f, 3, "a", 1, "t3", false, &o[3]));
    assert_non_null(add_port(f, 4, "b", 4, "t2", false, &o[4]));
    assert_non_null(add_port(f, 5, "a", 5, "t5", false, &o[5]));
    run_until_final(f, &o[5]);

    assert_int_equal(o[0].status, NVO_SVC_OK);
    assert_int_equal(o[1].status, NVO_SVC_CONFLICT);
    assert_string_equal(o[1].code, "mac_in_use");
    assert_non_null(strstr(o[1].message, "02:00:00:00:00:01"));
    assert_int_equal(o[2].status, NVO_SVC_OK);
    assert_int_equal(o[3].status, NVO_SVC_CONFLICT);
    assert_int_equal(o[4].status, NVO_SVC_CONFLICT);
    assert_string_equal(o[4].code, "iface_in_use");
    assert_int_equal(o[5].status, NVO_SVC_OK);
    /* Revisions stay consecutive: failures take none. */
    assert_int_equal(o[0].revision, 4);
    assert_int_equal(o[2].revision, 5);
    assert_int_equal(o[5].revision, 6);

    close_ctl(f);
    open_ctl(f);
    assert_int_equal(f->ctl.model->revision, 6);
    assert_int_equal(hmap_count(&f->ctl.model->ports_by_id), 3);
    const struct nvo_network *red = nvo_model_network_by_name(f->ctl.model,
                                                              "red");
    assert_int_equal(red->n_ports, 3);
}

/* Writes apply in commit order: a move that frees nothing and a create on
 * the interface the move takes, in one batch; and a delete of a network
 * racing a port create into it. */
static void
test_commit_order(void **state)
{
    struct fixture *f = *state;
    struct outcome *o = f->out;

    base(f);
    assert_non_null(add_port(f, 0, "a", 1, "t0", false, &o[0]));
    run_until_final(f, &o[0]);
    int64_t p0 = o[0].object_id;

    /* Move p0 to b/t9, and create a port on b/t9: the create clashes
     * with the move committed just before it. */
    assert_non_null(nvo_svc_port_move(f->ctl.svc, p0, "b", "t9", false,
                                      record, &o[1]));
    assert_non_null(add_port(f, 2, "b", 2, "t9", false, &o[2]));
    run_until_final(f, &o[2]);
    assert_int_equal(o[1].status, NVO_SVC_OK);
    assert_int_equal(o[2].status, NVO_SVC_CONFLICT);
    char expect[64];
    snprintf(expect, sizeof expect, "is already port %"PRId64, p0);
    assert_non_null(strstr(o[2].message, expect));
    const struct nvo_port *p = nvo_model_port_by_id(f->ctl.model, p0);
    assert_string_equal(p->hypervisor->name, "b");
    assert_string_equal(p->iface, "t9");
    /* The model's (hypervisor, iface) and (network, MAC) indexes followed
     * the move: the pre-checks (answered at once, nothing submitted) see
     * b/t9 and p0's MAC taken, and a/t0 free. */
    assert_null(add_port(f, 6, "b", 6, "t9", false, &o[6]));
    assert_string_equal(o[6].code, "iface_in_use");
    assert_null(add_port(f, 7, "a", 1, "t7", false, &o[7]));
    assert_string_equal(o[7].code, "mac_in_use");
    assert_non_null(add_port(f, 8, "a", 8, "t0", false, &o[8]));
    run_until_final(f, &o[8]);
    assert_int_equal(o[8].status, NVO_SVC_OK);
    assert_non_null(nvo_svc_port_delete(f->ctl.svc, o[8].object_id, false,
                                        record, &o[9]));
    run_until_final(f, &o[9]);
    assert_int_equal(o[9].status, NVO_SVC_OK);
    assert_null(nvo_model_port_by_iface(
                    f->ctl.model, nvo_model_hv_by_name(f->ctl.model, "a"),
                    "t0"));

    /* A network is deleted while a port is created into it: whichever
     * commits first wins, the other fails cleanly. */
    struct nvo_net_req blue = { .name = "blue", .has_vni = true, .vni = 7 };
    assert_non_null(nvo_svc_network_create(f->ctl.svc, &blue, false, record,
                                           &o[3]));
    run_until_final(f, &o[3]);
    assert_non_null(nvo_svc_network_delete(f->ctl.svc, "blue", false,
                                           record, &o[4]));
    struct nvo_port_req rq = { .vm = "v", .network = "blue",
                               .hypervisor = "a", .mac = "02:00:00:00:00:09",
                               .iface = "t8" };
    assert_non_null(nvo_svc_port_create(f->ctl.svc, &rq, false, record,
                                        &o[5]));
    run_until_final(f, &o[5]);
    assert_int_equal(o[4].status, NVO_SVC_OK);
    assert_int_equal(o[5].status, NVO_SVC_NOT_FOUND);
    assert_null(nvo_model_network_by_name(f->ctl.model, "blue"));
    assert_int_equal(f->ctl.model->revision, nvo_store_revision(
                         f->ctl.store));
}

/* Checks that fail answer at once and submit nothing. */
static void
test_checks(void **state)
{
    struct fixture *f = *state;
    struct outcome *o = f->out;

    base(f);
    assert_null(add_port(f, 0, "nowhere", 1, "t0", false, &o[0]));
    assert_true(o[0].final);
    assert_int_equal(o[0].status, NVO_SVC_NOT_FOUND);
    assert_string_equal(o[0].message, "no hypervisor named nowhere");
    assert_null(add_port(f, 1, "a", 1, "bad/name", false, &o[1]));
    assert_int_equal(o[1].status, NVO_SVC_INVALID);
    struct nvo_net_req dup = { .name = "green", .has_vni = true, .vni = 100 };
    assert_null(nvo_svc_network_create(f->ctl.svc, &dup, false, record,
                                       &o[2]));
    assert_string_equal(o[2].code, "vni_in_use");
    struct nvo_net_patch patch = { .bum = "head-end", .has_vni = true,
                                   .vni = 5 };
    assert_null(nvo_svc_network_patch(f->ctl.svc, "red", &patch, false,
                                      record, &o[3]));
    assert_string_equal(o[3].code, "immutable");
    assert_int_equal(nvo_svc_n_pending(f->ctl.svc), 0);
    assert_int_equal(nvo_store_revision(f->ctl.store), 3);
}

/* The rules the store does not enforce (one underlay family per network,
 * no IPv6 member of a service-node network) count the writes still
 * committing: a second write in flight that would break one with the
 * first fails its check at once, as it would once the first committed
 * (read-ahead pipelined writes, rest-pipeline.h, are in flight together).
 * Fails if the checks read the committed model only. */
static void
test_checks_inflight(void **state)
{
    struct fixture *f = *state;
    struct outcome *o = f->out;

    base(f);
    struct nvo_hv_req c = { .name = "c", .tunnel_ip = "2001:db8::3",
                            .dataplane = "kernel" };
    assert_non_null(nvo_svc_hv_create(f->ctl.svc, &c, false, record, &o[0]));
    run_until_final(f, &o[0]);
    assert_int_equal(o[0].status, NVO_SVC_OK);

    /* IPv4 "a" joins "red" (in flight); IPv6 "c" cannot join too. */
    assert_non_null(add_port(f, 1, "a", 1, "t1", false, &o[1]));
    assert_null(add_port(f, 2, "c", 2, "t2", false, &o[2]));
    assert_string_equal(o[2].code, "mixed_underlay");
    /* Nor can "red" flood through a service node while "a" joins... */
    run_until_final(f, &o[1]);
    struct nvo_net_req blue = { .name = "blue", .has_vni = true, .vni = 200 };
    assert_non_null(nvo_svc_network_create(f->ctl.svc, &blue, false, record,
                                           &o[3]));
    run_until_final(f, &o[3]);
    struct nvo_port_req rq = { .vm = "v6", .network = "blue",
                               .hypervisor = "c", .mac = "02:00:00:00:00:06",
                               .iface = "t6" };
    assert_non_null(nvo_svc_port_create(f->ctl.svc, &rq, false, record,
                                        &o[4]));
    struct nvo_net_patch sn = { .bum = "service-node" };
    assert_null(nvo_svc_network_patch(f->ctl.svc, "blue", &sn, false, record,
                                      &o[5]));
    assert_string_equal(o[5].code, "service_node_ipv4");
    run_until_final(f, &o[4]);
    assert_int_equal(o[4].status, NVO_SVC_OK);
    /* ... and no IPv6 port joins a (portless) network being set to flood
     * so. */
    struct nvo_net_req green = { .name = "green", .has_vni = true,
                                 .vni = 300 };
    assert_non_null(nvo_svc_network_create(f->ctl.svc, &green, false,
                                           record, &o[9]));
    run_until_final(f, &o[9]);
    assert_non_null(nvo_svc_network_patch(f->ctl.svc, "green", &sn, false,
                                          record, &o[6]));
    rq.network = "green";
    rq.mac = "02:00:00:00:00:07";
    rq.iface = "t7";
    assert_null(nvo_svc_port_create(f->ctl.svc, &rq, false, record, &o[7]));
    assert_string_equal(o[7].code, "service_node_ipv4");
    run_until_final(f, &o[6]);
    assert_int_equal(o[6].status, NVO_SVC_OK);

    /* Once committed, the same answers come from the model. */
    assert_null(add_port(f, 8, "c", 8, "t8", false, &o[8]));
    assert_string_equal(o[8].code, "mixed_underlay");
    assert_int_equal(hmap_count(&f->ctl.model->ports_by_id), 2);
}

/* ?wait=1: the committed object first, then the confirmation. */
static void
test_wait(void **state)
{
    struct fixture *f = *state;
    struct outcome *o = f->out;

    base(f);
    assert_non_null(add_port(f, 0, "a", 1, "t0", true, &o[0]));
    while (!o[0].n_calls) {
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    assert_false(o[0].final);
    assert_int_equal(o[0].status, NVO_SVC_OK);
    assert_true(o[0].object_id > 0);
    int64_t rev = o[0].revision;
    const struct nvo_hypervisor *a = nvo_model_hv_by_name(f->ctl.model, "a");
    nvo_ctl_confirmed(&f->ctl, a->id, rev);
    assert_true(o[0].final);
    assert_int_equal(o[0].status, NVO_SVC_OK);
    assert_int_equal(o[0].n_calls, 2);

    /* Not confirmed: a timeout, the write stays. */
    f->ctl.wait_timeout_ms = 20;
    assert_non_null(add_port(f, 1, "a", 2, "t1", true, &o[1]));
    run_until_final(f, &o[1]);
    assert_int_equal(o[1].status, NVO_SVC_TIMEOUT);
    assert_string_equal(o[1].code, "timeout");
    assert_int_equal(hmap_count(&f->ctl.model->ports_by_id), 2);

    /* Two writes of one batch: published once (a's view and b's, not a's
     * twice), each waiting for its own hypervisors at the batch's
     * revision. */
    f->ctl.wait_timeout_ms = 10000;
    uint64_t pushes = f->ctl.n_pushes;
    assert_non_null(add_port(f, 2, "a", 3, "t2", true, &o[2]));
    assert_non_null(add_port(f, 3, "b", 4, "t3", true, &o[3]));
    while (!o[3].n_calls) {
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    assert_int_equal(o[2].n_calls, 1);
    assert_int_equal(o[3].revision, o[2].revision + 1);
    assert_int_equal(f->ctl.n_pushes - pushes, 2);
    const struct nvo_hypervisor *b = nvo_model_hv_by_name(f->ctl.model, "b");
    nvo_ctl_confirmed(&f->ctl, a->id, o[3].revision);
    assert_true(o[2].final);
    assert_int_equal(o[2].status, NVO_SVC_OK);
    assert_false(o[3].final);
    nvo_ctl_confirmed(&f->ctl, b->id, o[3].revision);
    assert_true(o[3].final);
    assert_int_equal(o[3].status, NVO_SVC_OK);
}

/* A cancelled call makes no callback, but its write commits. */
static void
test_cancel(void **state)
{
    struct fixture *f = *state;
    struct outcome *o = f->out;

    base(f);
    struct nvo_svc_call *call = add_port(f, 0, "a", 1, "t0", false, &o[0]);
    assert_non_null(add_port(f, 1, "a", 2, "t1", false, &o[1]));
    nvo_svc_call_cancel(call);
    run_until_final(f, &o[1]);
    assert_int_equal(o[0].n_calls, 0);
    assert_int_equal(o[1].status, NVO_SVC_OK);
    assert_int_equal(hmap_count(&f->ctl.model->ports_by_id), 2);

    /* Cancelled while waiting for confirmation. */
    call = add_port(f, 2, "a", 3, "t2", true, &o[2]);
    while (!o[2].n_calls) {
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    nvo_svc_call_cancel(call);
    const struct nvo_hypervisor *a = nvo_model_hv_by_name(f->ctl.model, "a");
    nvo_ctl_confirmed(&f->ctl, a->id, o[2].revision);
    assert_int_equal(o[2].n_calls, 1);
}

/* Closing while a batch commits: no callback afterwards, nothing leaks. */
static void
test_close_while_committing(void **state)
{
    struct fixture *f = *state;
    struct outcome *o = f->out;

    base(f);
    for (int i = 0; i < 20; i++) {
        char iface[16];
        snprintf(iface, sizeof iface, "t%d", i);
        assert_non_null(add_port(f, i, "a", i + 1, iface, false, &o[i]));
    }
    close_ctl(f);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(o[i].n_calls, 0);
    }
    /* The first write's batch was under way and may have committed; the
     * queued ones were dropped. */
    open_ctl(f);
    assert_true(hmap_count(&f->ctl.model->ports_by_id) <= 1);
}

/* Writes made elsewhere, as a clustered backend reports them through the
 * change callback, update the model and are published like local ones;
 * a change with no ops reloads the model from the store. */
static void
test_changes_elsewhere(void **state)
{
    struct fixture *f = *state;
    struct nvo_store *store = f->ctl.store;

    base(f);
    const struct nvo_network *red = nvo_model_network_by_name(f->ctl.model,
                                                              "red");
    const struct nvo_hypervisor *a = nvo_model_hv_by_name(f->ctl.model, "a");
    struct nvo_store_op ops[2];
    memset(ops, 0, sizeof ops);
    ops[0].type = NVO_STORE_ADD_HV;
    ops[0].id = 77;
    ops[0].hv.name = "c";
    ops[0].hv.tunnel_ip = "192.0.2.77";
    ops[0].hv.dataplane = NVO_DP_KERNEL;
    ops[0].hv.role = NVO_ROLE_HYPERVISOR;
    ops[1].type = NVO_STORE_ADD_PORT;
    ops[1].id = 500;
    ops[1].port.vm = "remote-vm";
    ops[1].port.net_id = red->id;
    ops[1].port.hv_id = a->id;
    ops[1].port.mac = "02:00:00:00:07:07";
    ops[1].port.iface = "t7";
    store->change_cb(store->change_aux, ops, 2, 4);

    assert_int_equal(f->ctl.model->revision, 4);
    assert_non_null(nvo_model_hv_by_name(f->ctl.model, "c"));
    const struct nvo_port *p = nvo_model_port_by_id(f->ctl.model, 500);
    assert_non_null(p);
    assert_string_equal(p->vm, "remote-vm");
    /* Published: hypervisor a must now confirm revision 4. */
    struct nvo_sb_status st;
    int64_t required;
    nvo_ctl_hv_status(&f->ctl, a->id, &st, &required);
    assert_int_equal(required, 4);

    /* A local write now clashes with the remote port in the pre-check. */
    struct outcome *o = f->out;
    assert_null(add_port(f, 1, "b", 0x707, "t1", false, &o[0]));
    assert_string_equal(o[0].code, "mac_in_use");

    /* "Lost track": reload from the store, which (SQLite here) never had
     * the remote rows. */
    store->change_cb(store->change_aux, NULL, 0, 0);
    assert_int_equal(f->ctl.model->revision, 3);
    assert_null(nvo_model_hv_by_name(f->ctl.model, "c"));
    assert_null(nvo_model_port_by_id(f->ctl.model, 500));
    assert_non_null(nvo_model_network_by_name(f->ctl.model, "red"));
}

/* A completion that a reload of the model already holds (a clustered
 * store's replica passed the write's revision without its journal row) is
 * answered OK with the object as the model holds it, not applied twice. */
static void
test_completion_after_reload(void **state)
{
    struct fixture *f = *state;
    struct nvo_store *store = f->ctl.store;
    struct outcome *o = f->out;

    base(f);
    const struct nvo_network *red = nvo_model_network_by_name(f->ctl.model,
                                                              "red");
    const struct nvo_hypervisor *a = nvo_model_hv_by_name(f->ctl.model, "a");
    assert_non_null(add_port(f, 1, "a", 1, "t1", false, &o[0]));

    /* Before its completion, the model already holds the port (id 1, the
     * first SQLite gives) at a later revision, as after a reload. */
    struct nvo_store_op op;
    memset(&op, 0, sizeof op);
    op.type = NVO_STORE_ADD_PORT;
    op.id = 1;
    op.port.vm = "vm1";
    op.port.net_id = red->id;
    op.port.hv_id = a->id;
    op.port.mac = "02:00:00:00:00:01";
    op.port.iface = "t1";
    store->change_cb(store->change_aux, &op, 1, 10);

    run_until_final(f, &o[0]);
    assert_int_equal(o[0].status, NVO_SVC_OK);
    assert_int_equal(o[0].revision, 4);
    assert_int_equal(o[0].object_id, 1);
    assert_int_equal(hmap_count(&f->ctl.model->ports_by_id), 1);
    assert_int_equal(f->ctl.model->revision, 10);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_in_batch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_commit_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checks_inflight, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_while_committing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_changes_elsewhere, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_completion_after_reload, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
