/* Unit tests: controller/agent-session.c (the per-agent state machine,
 * driven with frames and a clock, no sockets), controller/agent-proto.c
 * (the view delta) and controller/agent-audit.c (a state report against
 * the view). */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "controller/agent-audit.h"
#include "controller/agent-proto.h"
#include "controller/agent-session.h"
#include "controller/desired.h"
#include "controller/model.h"
#include "lib/frame.h"
#include "lib/proto-msg.h"
#include "util.h"

/* ---- fixture: a model and a session whose outputs are recorded --------- */

struct ctx {
    struct nvo_model *m;
    struct nvo_network *red, *blue;
    struct nvo_hypervisor *k1, *k2, *o1;
    struct agent_session s;
    Nvo__Message *sent[16];     /* Decoded frames the session sent. */
    size_t n_sent;
    int64_t confirmed[16];
    size_t n_confirmed;
    int64_t failed[16];         /* Revisions reported failed. */
    size_t n_failed;
    char failed_error[128];
    int n_hello, n_closed;
    bool registered;            /* hello callback attaches if true. */
    char closed_reason[128];
    int n_reports;
    uint64_t report_id;
    size_t report_networks;
};

static struct ctx *cur;

static void
ops_send(void *aux, uint8_t *frame, size_t len)
{
    struct ctx *c = aux;
    const uint8_t *p;
    size_t plen, flen;
    assert_int_equal(nvo_frame_parse(frame, len, NVO_FRAME_MAX, &p, &plen,
                                     &flen), 0);
    assert_int_equal(flen, len);
    char *err = NULL;
    Nvo__Message *m = nvo_msg_decode(p, plen, &err);
    assert_non_null(m);
    assert_true(c->n_sent < ARRAY_SIZE(c->sent));
    c->sent[c->n_sent++] = m;
    free(frame);
}

static struct nvo_hv_view *
view_of(struct ctx *c, struct nvo_hypervisor *hv)
{
    struct nvo_hv_view *v = desired_compute(c->m, hv, NULL, NULL, NULL, NULL,
                                            0);
    v->revision = c->m->revision;
    return v;
}

static void
ops_hello(void *aux, const Nvo__Hello *h)
{
    struct ctx *c = aux;
    c->n_hello++;
    if (c->registered) {
        struct nvo_hypervisor *hv = nvo_model_hv_by_name(c->m, h->name);
        assert_non_null(hv);
        struct nvo_hv_view *v = view_of(c, hv);
        agent_session_attach(&c->s, v);
        nvo_hv_view_destroy(v);
    }
}

static void
ops_confirm(void *aux, int64_t revision)
{
    struct ctx *c = aux;
    c->confirmed[c->n_confirmed++] = revision;
}

static void
ops_closed(void *aux, const char *reason)
{
    struct ctx *c = aux;
    c->n_closed++;
    snprintf(c->closed_reason, sizeof c->closed_reason, "%s", reason);
}

static void
ops_failed(void *aux, int64_t revision, const char *error)
{
    struct ctx *c = aux;
    c->failed[c->n_failed++] = revision;
    snprintf(c->failed_error, sizeof c->failed_error, "%s", error);
}

static void
ops_report(void *aux, const Nvo__StateReport *rep)
{
    struct ctx *c = aux;
    c->n_reports++;
    c->report_id = rep->id;
    c->report_networks = rep->n_networks;
}

static const struct agent_session_ops ops = {
    ops_send, ops_hello, ops_confirm, ops_closed, ops_failed, ops_report,
};

static struct eth_addr
mac(uint8_t last)
{
    return (struct eth_addr) { .ea = { 0x02, 0, 0, 0, 0, last } };
}

static int
setup(void **state)
{
    struct ctx *c = xzalloc(sizeof *c);
    c->m = nvo_model_create();
    c->red = nvo_model_add_network(c->m, 1, "red", 100, NVO_BUM_HEAD_END, 1);
    c->blue = nvo_model_add_network(c->m, 2, "blue", 200, NVO_BUM_HEAD_END,
                                    2);
    c->k1 = nvo_model_add_hv(c->m, 1, "k1", "192.0.2.1", NVO_DP_KERNEL,
                             NVO_ROLE_HYPERVISOR, NULL, 3);
    c->k2 = nvo_model_add_hv(c->m, 2, "k2", "192.0.2.2", NVO_DP_KERNEL,
                             NVO_ROLE_HYPERVISOR, NULL, 4);
    c->o1 = nvo_model_add_hv(c->m, 3, "o1", "192.0.2.3", NVO_DP_OVS,
                             NVO_ROLE_HYPERVISOR, "tcp:192.0.2.3:6640", 5);
    nvo_model_add_port(c->m, 1, "vm1", c->red, c->k1, mac(1), NULL, "tap1", 6);
    nvo_model_add_port(c->m, 2, "vm2", c->red, c->k2, mac(2), NULL, "tap2", 7);
    nvo_model_add_port(c->m, 3, "vm3", c->red, c->o1, mac(3), NULL, "tap3", 8);
    c->m->revision = 8;
    c->registered = true;
    agent_session_init(&c->s, &ops, c, NULL, "192.0.2.1:1234", 1000);
    cur = c;
    *state = c;
    return 0;
}

static void
clear_sent(struct ctx *c)
{
    for (size_t i = 0; i < c->n_sent; i++) {
        nvo_msg_free(c->sent[i]);
    }
    c->n_sent = 0;
}

static int
teardown(void **state)
{
    struct ctx *c = *state;
    clear_sent(c);
    agent_session_destroy(&c->s);
    nvo_model_destroy(c->m);
    free(c);
    return 0;
}

/* Feeds 'm' to the session as the agent would send it. */
static void
feed(struct ctx *c, const Nvo__Message *m, uint64_t now)
{
    size_t len;
    int error;
    uint8_t *frame = nvo_msg_encode(m, &len, &error);
    assert_non_null(frame);
    agent_session_receive(&c->s, frame + 4, len - 4, now);
    free(frame);
}

static void
feed_hello_reports(struct ctx *c, const char *name, const char *ip,
                   uint32_t version, Nvo__Role role, bool reports)
{
    Nvo__Message m = NVO__MESSAGE__INIT;
    Nvo__Hello h = NVO__HELLO__INIT;
    h.reports_state = reports;
    h.protocol_version = version;
    h.name = (char *) name;
    h.tunnel_ip = (char *) ip;
    h.dataplane = NVO__DATAPLANE__DATAPLANE_KERNEL;
    h.role = role;
    h.software_version = (char *) "test";
    m.body_case = NVO__MESSAGE__BODY_HELLO;
    m.hello = &h;
    feed(c, &m, 1000);
}

static void
feed_hello(struct ctx *c, const char *name, const char *ip, uint32_t version,
           Nvo__Role role)
{
    feed_hello_reports(c, name, ip, version, role, false);
}

static void
feed_ack(struct ctx *c, uint64_t seq)
{
    Nvo__Message m = NVO__MESSAGE__INIT;
    Nvo__Ack a = NVO__ACK__INIT;
    a.seq = seq;
    m.body_case = NVO__MESSAGE__BODY_ACK;
    m.ack = &a;
    feed(c, &m, 1000);
}

/* An ack of 'seq' carrying one item error. */
static void
feed_ack_error(struct ctx *c, uint64_t seq, const char *item,
               const char *message)
{
    Nvo__Message m = NVO__MESSAGE__INIT;
    Nvo__Ack a = NVO__ACK__INIT;
    Nvo__ItemError e = NVO__ITEM_ERROR__INIT;
    Nvo__ItemError *errors[] = { &e };
    e.vni = 100;
    e.item = (char *) item;
    e.message = (char *) message;
    a.seq = seq;
    a.n_errors = 1;
    a.errors = errors;
    m.body_case = NVO__MESSAGE__BODY_ACK;
    m.ack = &a;
    feed(c, &m, 1000);
}

static void
hello_k1(struct ctx *c)
{
    feed_hello(c, "k1", "192.0.2.1", NVO_PROTO_VERSION,
               NVO__ROLE__ROLE_HYPERVISOR);
}

/* ---- tests -------------------------------------------------------------- */

static void
test_hello_snapshot_ack(void **state)
{
    struct ctx *c = *state;
    assert_int_equal(c->s.state, AGENT_S_HELLO_WAIT);
    hello_k1(c);
    assert_int_equal(c->n_hello, 1);
    assert_int_equal(c->s.state, AGENT_S_SYNCING);
    assert_int_equal(c->n_sent, 1);
    const Nvo__Message *m = c->sent[0];
    assert_int_equal(m->body_case, NVO__MESSAGE__BODY_SNAPSHOT);
    assert_int_equal(m->snapshot->seq, 1);
    assert_int_equal(m->snapshot->revision, 8);
    assert_int_equal(m->snapshot->n_networks, 1);
    const Nvo__Network *n = m->snapshot->networks[0];
    assert_int_equal(n->vni, 100);
    assert_int_equal(n->n_locals, 1);
    assert_string_equal(n->locals[0]->iface, "tap1");
    assert_int_equal(n->n_remotes, 2);
    assert_string_equal(n->remotes[0]->vtep_ip, "192.0.2.2");
    assert_string_equal(n->remotes[1]->vtep_ip, "192.0.2.3");
    assert_int_equal(n->n_flood, 2);

    assert_int_equal(c->n_confirmed, 0);
    feed_ack(c, 1);
    assert_int_equal(c->s.state, AGENT_S_ACTIVE);
    assert_int_equal(c->n_confirmed, 1);
    assert_int_equal(c->confirmed[0], 8);
    assert_true(agent_session_is_attached(&c->s));
}

static void
test_unregistered_waits(void **state)
{
    struct ctx *c = *state;
    c->registered = false;
    hello_k1(c);
    assert_int_equal(c->s.state, AGENT_S_REGISTERING);
    assert_int_equal(c->n_sent, 1);
    assert_int_equal(c->sent[0]->body_case, NVO__MESSAGE__BODY_ERROR);
    assert_int_equal(c->sent[0]->error->code,
                     NVO__ERROR__CODE__UNKNOWN_HYPERVISOR);
    assert_false(c->sent[0]->error->fatal);
    assert_false(agent_session_is_attached(&c->s));

    struct nvo_hv_view *v = view_of(c, c->k1);
    agent_session_set_view(&c->s, v);
    nvo_hv_view_destroy(v);
    assert_int_equal(c->s.state, AGENT_S_SYNCING);
    assert_int_equal(c->sent[1]->body_case, NVO__MESSAGE__BODY_SNAPSHOT);
}

static void
test_version_mismatch(void **state)
{
    struct ctx *c = *state;
    feed_hello(c, "k1", "192.0.2.1", NVO_PROTO_VERSION + 1,
               NVO__ROLE__ROLE_HYPERVISOR);
    assert_int_equal(c->s.state, AGENT_S_CLOSED);
    assert_int_equal(c->n_hello, 0);
    assert_int_equal(c->n_closed, 1);
    assert_int_equal(c->sent[0]->error->code,
                     NVO__ERROR__CODE__VERSION_MISMATCH);
    assert_true(c->sent[0]->error->fatal);
    assert_non_null(strstr(c->sent[0]->error->message, "version 2"));
}

static void
test_wrong_registration(void **state)
{
    struct ctx *c = *state;
    feed_hello(c, "k1", "192.0.2.99", NVO_PROTO_VERSION,
               NVO__ROLE__ROLE_HYPERVISOR);
    assert_int_equal(c->s.state, AGENT_S_CLOSED);
    assert_int_equal(c->sent[0]->error->code,
                     NVO__ERROR__CODE__WRONG_DATAPLANE);
    assert_non_null(strstr(c->sent[0]->error->message, "192.0.2.99"));
}

static void
test_not_hello_first(void **state)
{
    struct ctx *c = *state;
    feed_ack(c, 1);
    assert_int_equal(c->s.state, AGENT_S_CLOSED);
    assert_int_equal(c->n_closed, 1);
    assert_int_equal(c->sent[0]->error->code, NVO__ERROR__CODE__PROTOCOL);
}

static void
test_garbage_closes(void **state)
{
    struct ctx *c = *state;
    hello_k1(c);
    static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0x01 };
    agent_session_receive(&c->s, junk, sizeof junk, 1000);
    assert_int_equal(c->s.state, AGENT_S_CLOSED);
    assert_int_equal(c->n_closed, 1);
    /* Nothing more happens once closed. */
    feed_ack(c, 1);
    assert_int_equal(c->n_confirmed, 0);
    assert_int_equal(c->n_closed, 1);
}

static void
test_second_hello_closes(void **state)
{
    struct ctx *c = *state;
    hello_k1(c);
    hello_k1(c);
    assert_int_equal(c->s.state, AGENT_S_CLOSED);
}

static void
test_delta_and_out_of_order_ack(void **state)
{
    struct ctx *c = *state;
    hello_k1(c);
    feed_ack(c, 1);
    /* VM 2 moves from k2 to o1: red changes for k1. */
    nvo_model_move_port(c->m, nvo_model_port_by_id(c->m, 2), c->o1, "tap9",
                        9);
    c->m->revision = 9;
    struct nvo_hv_view *v = view_of(c, c->k1);
    agent_session_set_view(&c->s, v);
    nvo_hv_view_destroy(v);
    assert_int_equal(c->n_sent, 2);
    const Nvo__Message *m = c->sent[1];
    assert_int_equal(m->body_case, NVO__MESSAGE__BODY_DELTA);
    assert_int_equal(m->delta->seq, 2);
    assert_int_equal(m->delta->base_seq, 1);
    assert_int_equal(m->delta->revision, 9);
    assert_int_equal(m->delta->n_changed, 1);
    assert_int_equal(m->delta->n_removed_vnis, 0);
    assert_string_equal(m->delta->changed[0]->remotes[0]->vtep_ip,
                        "192.0.2.3");
    /* Ack from the future: the agent is confused; drop it. */
    feed_ack(c, 3);
    assert_int_equal(c->s.state, AGENT_S_CLOSED);
    assert_int_equal(c->n_confirmed, 1);
}

static void
test_ack_going_back_closes(void **state)
{
    struct ctx *c = *state;
    hello_k1(c);
    struct nvo_hv_view *v = view_of(c, c->k1);
    agent_session_set_view(&c->s, v);
    nvo_hv_view_destroy(v);
    feed_ack(c, 2);
    assert_int_equal(c->s.state, AGENT_S_ACTIVE);
    feed_ack(c, 1);
    assert_int_equal(c->s.state, AGENT_S_CLOSED);
}

/* Two messages with the same store revision: only the later ack confirms. */
static void
test_same_revision_confirmed_by_last(void **state)
{
    struct ctx *c = *state;
    hello_k1(c);
    feed_ack(c, 1);
    assert_int_equal(c->n_confirmed, 1);
    c->m->revision = 9;
    nvo_model_add_port(c->m, 4, "vm4", c->blue, c->k1, mac(4), NULL, "tap4",
                       9);
    struct nvo_hv_view *v = view_of(c, c->k1);
    agent_session_set_view(&c->s, v);
    nvo_hv_view_destroy(v);
    nvo_model_remove_port(c->m, nvo_model_port_by_id(c->m, 4));
    v = view_of(c, c->k1);      /* Same revision 9, other view. */
    agent_session_set_view(&c->s, v);
    nvo_hv_view_destroy(v);
    assert_int_equal(c->sent[2]->delta->n_removed_vnis, 1);
    assert_int_equal(c->sent[2]->delta->removed_vnis[0], 200);
    feed_ack(c, 2);
    assert_int_equal(c->n_confirmed, 1);
    feed_ack(c, 3);
    assert_int_equal(c->n_confirmed, 2);
    assert_int_equal(c->confirmed[1], 9);
}

/* Confirmed means applied: an ack with item errors reports the revision
 * failed, not confirmed; the agent's clean re-ack of the same seq (its
 * retry) confirms it. */
static void
test_ack_with_errors_is_not_a_confirmation(void **state)
{
    struct ctx *c = *state;
    hello_k1(c);
    feed_ack_error(c, 1, "add port vma", "No such device");
    assert_int_equal(c->n_confirmed, 0);
    assert_int_equal(c->n_failed, 1);
    assert_int_equal(c->failed[0], 8);
    assert_string_equal(c->failed_error,
                        "VNI 100 add port vma: No such device");
    /* Still failing on retry: nothing new. */
    feed_ack_error(c, 1, "add port vma", "No such device");
    assert_int_equal(c->n_confirmed, 0);
    assert_int_equal(c->n_failed, 1);
    /* Applied on retry. */
    feed_ack(c, 1);
    assert_int_equal(c->n_confirmed, 1);
    assert_int_equal(c->confirmed[0], 8);
    /* A duplicate clean ack confirms nothing more. */
    feed_ack(c, 1);
    assert_int_equal(c->n_confirmed, 1);
    assert_int_equal(c->n_closed, 0);
}

static void
test_heartbeats_and_timeout(void **state)
{
    struct ctx *c = *state;
    hello_k1(c);                        /* At t=1000. */
    agent_session_tick(&c->s, 2000);
    assert_int_equal(c->n_sent, 1);     /* Not due yet. */
    agent_session_tick(&c->s, 1000 + AGENT_HB_INTERVAL_MS);
    assert_int_equal(c->n_sent, 2);
    assert_int_equal(c->sent[1]->body_case, NVO__MESSAGE__BODY_HEARTBEAT);
    assert_int_equal(c->sent[1]->heartbeat->seq, 1);
    agent_session_tick(&c->s, 1000 + AGENT_HB_TIMEOUT_MS - 1);
    assert_int_not_equal(c->s.state, AGENT_S_CLOSED);
    agent_session_tick(&c->s, 1000 + AGENT_HB_TIMEOUT_MS);
    assert_int_equal(c->s.state, AGENT_S_CLOSED);
    assert_string_equal(c->closed_reason, "heartbeat timeout");
}

static void
test_hello_timeout(void **state)
{
    struct ctx *c = *state;
    agent_session_tick(&c->s, 1000 + AGENT_HB_TIMEOUT_MS);
    assert_int_equal(c->s.state, AGENT_S_CLOSED);
}

static void
test_ack_errors_recorded(void **state)
{
    struct ctx *c = *state;
    hello_k1(c);
    Nvo__Message m = NVO__MESSAGE__INIT;
    Nvo__Ack a = NVO__ACK__INIT;
    Nvo__ItemError e = NVO__ITEM_ERROR__INIT;
    Nvo__ItemError *es[] = { &e };
    e.vni = 100;
    e.item = (char *) "add port tap1";
    e.error = -ENODEV;
    e.message = (char *) "No such device";
    a.seq = 1;
    a.errors = es;
    a.n_errors = 1;
    m.body_case = NVO__MESSAGE__BODY_ACK;
    m.ack = &a;
    feed(c, &m, 1000);
    assert_int_equal(c->s.state, AGENT_S_ACTIVE);
    assert_int_equal(c->s.n_ack_errors, 1);
    assert_non_null(strstr(c->s.last_error, "tap1"));
}

/* ---- delta computation -------------------------------------------------- */

static void
test_delta_compute(void **state)
{
    struct ctx *c = *state;
    struct nvo_hv_view *a = view_of(c, c->k1), *b;
    struct agent_delta d;

    agent_delta_compute(a, a, &d);
    assert_int_equal(d.n_changed, 0);
    assert_int_equal(d.n_removed, 0);
    agent_delta_destroy(&d);

    agent_delta_compute(NULL, a, &d);
    assert_int_equal(d.n_changed, 1);
    assert_int_equal(d.changed[0]->vni, 100);
    agent_delta_destroy(&d);

    agent_delta_compute(a, NULL, &d);
    assert_int_equal(d.n_changed, 0);
    assert_int_equal(d.n_removed, 1);
    assert_int_equal(d.removed[0], 100);
    agent_delta_destroy(&d);

    /* Add blue (new), change red (VM 3 stops), then drop red. */
    nvo_model_add_port(c->m, 4, "vm4", c->blue, c->k1, mac(4), NULL, "tap4",
                       9);
    nvo_model_remove_port(c->m, nvo_model_port_by_id(c->m, 3));
    b = view_of(c, c->k1);
    agent_delta_compute(a, b, &d);
    assert_int_equal(d.n_changed, 2);
    assert_int_equal(d.changed[0]->vni, 100);
    assert_int_equal(d.changed[0]->n_remotes, 1);
    assert_int_equal(d.changed[1]->vni, 200);
    assert_int_equal(d.n_removed, 0);
    agent_delta_destroy(&d);

    nvo_model_remove_port(c->m, nvo_model_port_by_id(c->m, 1));
    struct nvo_hv_view *v3 = view_of(c, c->k1);
    agent_delta_compute(b, v3, &d);
    assert_int_equal(d.n_changed, 0);
    assert_int_equal(d.n_removed, 1);
    assert_int_equal(d.removed[0], 100);
    agent_delta_destroy(&d);

    /* Only the BUM mode changes. */
    nvo_model_set_bum(c->m, c->blue, NVO_BUM_SERVICE_NODE, 10);
    struct nvo_hv_view *v4 = view_of(c, c->k1);
    agent_delta_compute(v3, v4, &d);
    assert_int_equal(d.n_changed, 1);
    assert_int_equal(d.changed[0]->bum, NVO_BUM_SERVICE_NODE);
    agent_delta_destroy(&d);

    nvo_hv_view_destroy(a);
    nvo_hv_view_destroy(b);
    nvo_hv_view_destroy(v3);
    nvo_hv_view_destroy(v4);
}

/* A hypervisor in 100 networks x 100 remote VMs fits in one frame. */
static void
test_big_snapshot_fits(void **state OVS_UNUSED)
{
    struct nvo_model *m = nvo_model_create();
    struct nvo_hypervisor *me = nvo_model_add_hv(m, 1, "me", "198.51.100.1",
                                                 NVO_DP_KERNEL,
                                                 NVO_ROLE_HYPERVISOR, NULL, 1);
    struct nvo_hypervisor *hvs[100];
    for (int i = 0; i < 100; i++) {
        char name[16], ip[32];
        snprintf(name, sizeof name, "hv%d", i);
        snprintf(ip, sizeof ip, "198.51.100.%d", i + 2);
        hvs[i] = nvo_model_add_hv(m, i + 2, name, ip, NVO_DP_KERNEL,
                                  NVO_ROLE_HYPERVISOR, NULL, 1);
    }
    int64_t id = 1;
    for (int n = 0; n < 100; n++) {
        char name[16];
        snprintf(name, sizeof name, "net%d", n);
        struct nvo_network *net = nvo_model_add_network(m, n + 1, name,
                                                        1000 + n,
                                                        NVO_BUM_HEAD_END, 1);
        struct eth_addr a = { .ea = { 2, 0, 0, 0, n, 0 } };
        nvo_model_add_port(m, id++, "local", net, me, a, NULL, "tap", 1);
        for (int v = 0; v < 100; v++) {
            struct eth_addr r = { .ea = { 2, 1, 0, 0, n, v } };
            nvo_model_add_port(m, id++, "vm", net, hvs[v], r, NULL, "t", 1);
        }
    }
    struct nvo_hv_view *view = desired_compute(m, me, NULL, NULL, NULL, NULL,
                                               0);
    Nvo__Message *msg = agent_proto_snapshot(view, 1);
    size_t len;
    int error;
    uint8_t *frame = nvo_msg_encode(msg, &len, &error);
    assert_non_null(frame);
    assert_true(len < NVO_FRAME_MAX);
    char *err = NULL;
    Nvo__Message *back = nvo_msg_decode(frame + 4, len - 4, &err);
    assert_non_null(back);
    assert_int_equal(back->snapshot->n_networks, 100);
    assert_int_equal(back->snapshot->networks[99]->n_remotes, 100);
    nvo_msg_free(back);
    free(frame);
    nvo_msg_free(msg);
    nvo_hv_view_destroy(view);
    nvo_model_destroy(m);
}


/* ---- state reports (the drift audit) ------------------------------------ */

static void
test_state_request_needs_offer(void **state)
{
    struct ctx *c = *state;
    assert_int_equal(agent_session_request_state(&c->s, 1), -ENOTCONN);
    hello_k1(c);                /* Its hello does not offer reports. */
    assert_int_equal(agent_session_request_state(&c->s, 1), -EOPNOTSUPP);
    assert_int_equal(c->n_sent, 1);     /* The snapshot only. */
}

static void
feed_report(struct ctx *c, uint64_t id, uint32_t vni)
{
    Nvo__Message m = NVO__MESSAGE__INIT;
    Nvo__StateReport r = NVO__STATE_REPORT__INIT;
    Nvo__KernelNetwork n = NVO__KERNEL_NETWORK__INIT;
    Nvo__KernelNetwork *nets[] = { &n };
    n.vni = vni;
    r.id = id;
    r.n_networks = 1;
    r.networks = nets;
    m.body_case = NVO__MESSAGE__BODY_STATE_REPORT;
    m.state_report = &r;
    feed(c, &m, 1000);
}

static void
test_state_request_report_resync(void **state)
{
    struct ctx *c = *state;
    feed_hello_reports(c, "k1", "192.0.2.1", NVO_PROTO_VERSION,
                       NVO__ROLE__ROLE_HYPERVISOR, true);
    feed_ack(c, 1);
    assert_int_equal(c->s.state, AGENT_S_ACTIVE);
    assert_int_equal(agent_session_request_state(&c->s, 42), 0);
    assert_int_equal(c->n_sent, 2);
    assert_int_equal(c->sent[1]->body_case,
                     NVO__MESSAGE__BODY_STATE_REQUEST);
    assert_int_equal(c->sent[1]->state_request->id, 42);

    feed_report(c, 42, 100);
    assert_int_equal(c->n_reports, 1);
    assert_int_equal(c->report_id, 42);
    assert_int_equal(c->report_networks, 1);
    assert_int_equal(c->n_closed, 0);

    /* Resync: the whole view again as a snapshot with the next seq. */
    agent_session_resync(&c->s);
    assert_int_equal(c->n_sent, 3);
    assert_int_equal(c->sent[2]->body_case, NVO__MESSAGE__BODY_SNAPSHOT);
    assert_int_equal(c->sent[2]->snapshot->seq, 2);
    assert_int_equal(c->sent[2]->snapshot->n_networks, 1);
    assert_int_equal(c->s.state, AGENT_S_SYNCING);
    feed_ack(c, 2);
    assert_int_equal(c->s.state, AGENT_S_ACTIVE);
}

static void
test_report_before_snapshot_closes(void **state)
{
    struct ctx *c = *state;
    c->registered = false;
    feed_hello_reports(c, "k1", "192.0.2.1", NVO_PROTO_VERSION,
                       NVO__ROLE__ROLE_HYPERVISOR, true);
    assert_int_equal(c->s.state, AGENT_S_REGISTERING);
    feed_report(c, 1, 100);
    assert_int_equal(c->s.state, AGENT_S_CLOSED);
    assert_int_equal(c->n_reports, 0);
}

/* A report of what k1 holds for red (VNI 100), right in every respect;
 * tests then spoil parts of it.  Static storage, reset by each call. */
struct k1_report {
    Nvo__StateReport r;
    Nvo__KernelNetwork n, *nets[1];
    Nvo__KernelFdb fdb[4], *fdbp[5];
    Nvo__KernelFdb bfdb[3], *bfdbp[3];
    uint8_t macs[4][6];
    char *ports[1];
};

static void
k1_report_init(struct k1_report *k)
{
    static const uint8_t m[4][6] = {
        { 2, 0, 0, 0, 0, 1 }, { 2, 0, 0, 0, 0, 2 }, { 2, 0, 0, 0, 0, 3 },
        { 0, 0, 0, 0, 0, 0 },
    };
    static const char *const dst[4] = {
        "192.0.2.2", "192.0.2.3", "192.0.2.2", "192.0.2.3",
    };
    static const int fmac[4] = { 1, 2, 3, 3 };
    memset(k, 0, sizeof *k);
    memcpy(k->macs, m, sizeof m);
    nvo__state_report__init(&k->r);
    nvo__kernel_network__init(&k->n);
    k->n.vni = 100;
    k->n.vxlan = k->n.vxlan_right = k->n.vxlan_up = true;
    k->n.mtu = 1500;
    k->n.bridge = k->n.bridge_up = true;
    k->ports[0] = (char *) "tap1";
    k->n.ports = k->ports;
    k->n.n_ports = 1;
    for (int i = 0; i < 4; i++) {      /* vm2, vm3, flood to both. */
        nvo__kernel_fdb__init(&k->fdb[i]);
        k->fdb[i].mac.data = k->macs[fmac[i]];
        k->fdb[i].mac.len = 6;
        k->fdb[i].dst = (char *) dst[i];
        k->fdbp[i] = &k->fdb[i];
    }
    k->n.fdb = k->fdbp;
    k->n.n_fdb = 4;
    /* Port security (vm1 on tap1), ARP suppression (vm2, vm3). */
    for (int i = 0; i < 3; i++) {
        nvo__kernel_fdb__init(&k->bfdb[i]);
        k->bfdb[i].mac.data = k->macs[i];
        k->bfdb[i].mac.len = 6;
        k->bfdb[i].port = (char *) (i ? "nvx100" : "tap1");
        k->bfdb[i].on_vxlan = i > 0;
        k->bfdbp[i] = &k->bfdb[i];
    }
    k->n.bridge_fdb = k->bfdbp;
    k->n.n_bridge_fdb = 3;
    k->n.neigh_suppress = true;
    k->nets[0] = &k->n;
    k->r.networks = k->nets;
    k->r.n_networks = 1;
}

static const struct agent_audit_item *
find_item(const struct agent_audit_result *r, enum ovs_audit_kind kind,
          enum agent_audit_what what, const char *entry)
{
    for (size_t i = 0; i < r->n_items; i++) {
        if (r->items[i].kind == kind && r->items[i].what == what
            && !strcmp(r->items[i].entry, entry)) {
            return &r->items[i];
        }
    }
    return NULL;
}

static void
test_agent_audit_diff(void **state)
{
    struct ctx *c = *state;
    struct nvo_hv_view *v = view_of(c, c->k1);
    struct k1_report k;
    struct agent_audit_result r;

    /* In sync; the underlay MTU 1600 gives VXLAN MTU 1500. */
    k1_report_init(&k);
    agent_audit_diff(v, &k.r, 1600, &r);
    assert_int_equal(r.n_items, 0);
    assert_int_equal(r.n_desired, 8);   /* 1 port, 4 FDB, 3 bridge FDB. */
    assert_int_equal(r.n_actual, 8);
    agent_audit_result_destroy(&r);

    /* vm2's entry gone, a stranger's added, MTU and bridge changed. */
    k1_report_init(&k);
    static const uint8_t stranger[6] = { 2, 0, 0, 0, 0x99, 0x99 };
    k.fdb[0].mac.data = (uint8_t *) stranger;
    k.fdb[0].dst = (char *) "192.0.2.99";
    k.n.mtu = 1400;
    k.n.bridge_up = false;
    k.n.neigh_suppress = false;
    agent_audit_diff(v, &k.r, 1600, &r);
    const struct agent_audit_item *it;
    it = find_item(&r, OVS_AUDIT_MISSING, AGENT_AUDIT_FDB,
                   "02:00:00:00:00:02 dst 192.0.2.2");
    assert_non_null(it);
    assert_int_equal(it->port_id, 2);
    assert_int_equal(it->vni, 100);
    assert_non_null(find_item(&r, OVS_AUDIT_EXTRA, AGENT_AUDIT_FDB,
                              "02:00:00:00:99:99 dst 192.0.2.99"));
    it = find_item(&r, OVS_AUDIT_DIFFERENT, AGENT_AUDIT_MTU,
                   "VXLAN device MTU: 1500");
    assert_non_null(it);
    assert_string_equal(it->actual, "VXLAN device MTU: 1400");
    assert_non_null(find_item(&r, OVS_AUDIT_DIFFERENT, AGENT_AUDIT_BRIDGE,
                              "bridge: up"));
    assert_non_null(find_item(&r, OVS_AUDIT_DIFFERENT,
                              AGENT_AUDIT_NEIGH_SUPPRESS, "VXLAN port: on"));
    assert_int_equal(r.n_items, 5);
    agent_audit_result_destroy(&r);

    /* Underlay MTU unknown: a network without "mtu" is not checked.  The
     * network missing altogether is one item; an unknown VNI is extra. */
    k1_report_init(&k);
    k.n.mtu = 1234;
    agent_audit_diff(v, &k.r, -1, &r);
    assert_int_equal(r.n_items, 0);
    agent_audit_result_destroy(&r);
    k.n.vni = 7;
    agent_audit_diff(v, &k.r, -1, &r);
    assert_non_null(find_item(&r, OVS_AUDIT_EXTRA, AGENT_AUDIT_NETWORK,
                              "VNI 7: devices of a network this hypervisor "
                              "should not have"));
    assert_non_null(find_item(&r, OVS_AUDIT_MISSING, AGENT_AUDIT_NETWORK,
                              "VNI 100: no VXLAN device, no bridge"));
    assert_int_equal(r.n_items, 2);
    agent_audit_result_destroy(&r);
    nvo_hv_view_destroy(v);
}

int
main(void)
{
#define T(NAME) cmocka_unit_test_setup_teardown(NAME, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_hello_snapshot_ack),
        T(test_unregistered_waits),
        T(test_version_mismatch),
        T(test_wrong_registration),
        T(test_not_hello_first),
        T(test_garbage_closes),
        T(test_second_hello_closes),
        T(test_delta_and_out_of_order_ack),
        T(test_ack_going_back_closes),
        T(test_same_revision_confirmed_by_last),
        T(test_ack_with_errors_is_not_a_confirmation),
        T(test_heartbeats_and_timeout),
        T(test_hello_timeout),
        T(test_ack_errors_recorded),
        T(test_delta_compute),
        T(test_state_request_needs_offer),
        T(test_state_request_report_resync),
        T(test_report_before_snapshot_closes),
        T(test_agent_audit_diff),
        cmocka_unit_test(test_big_snapshot_fits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
