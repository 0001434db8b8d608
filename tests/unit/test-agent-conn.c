/* Unit tests: agent/agent-conn.c's reconnection schedule (libopenvswitch's
 * reconnect FSM with one backoff-free try per controller), against real
 * loopback TCP listeners on a libuv loop: when each listener sees the
 * agent connect, and in which order.
 *
 * Lower bounds are exact (a libuv timer never fires early); upper bounds
 * allow AC_SLACK_MS for a loaded machine. */
#include <config.h>

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <uv.h>

#include "agent/agent-conn.h"
#include "agent/agent-view.h"
#include "lib/frame.h"
#include "lib/proto-msg.h"
#include "util.h"

#define AC_SLACK_MS 400

/* What a listener does with an accepted connection. */
enum srv_mode {
    SRV_DROP,           /* Closes it at once. */
    SRV_SYNC,           /* Answers the hello with a snapshot, closes the
                         * session 'hold_ms' later. */
    SRV_HOLD,           /* Reads and ignores everything. */
    SRV_REDIRECT,       /* Answers the hello with NOT_OWNER naming the
                         * next listener. */
};

struct fixture;

struct srv {
    uv_tcp_t listener;
    struct fixture *fx;
    int idx;
    int port;
    enum srv_mode mode;
    uint64_t hold_ms;
    uint64_t closed_at;         /* When SRV_SYNC closed its session. */
};

/* One accepted connection. */
struct peer {
    uv_tcp_t tcp;
    uv_timer_t timer;
    struct srv *srv;
    int n_open;                 /* Handles not closed yet. */
    bool answered;
};

struct event {
    int srv;                    /* Index of the listener. */
    uint64_t t;                 /* uv_now() at accept. */
};

struct fixture {
    uv_loop_t loop;
    struct srv srv[3];
    struct event ev[64];
    struct peer *peers[64];     /* Every accepted connection. */
    size_t n_peers;
    size_t n_ev, want;
    uv_timer_t deadline;
    struct agent_view view;
    struct agent_conn *agent;
    char controllers[128];
};

static void
peer_handle_closed(uv_handle_t *h)
{
    struct peer *p = h->data;
    p->n_open--;
}

/* Closes both of 'p''s handles ('p' itself is freed by fx_finish()). */
static void
peer_close(struct peer *p)
{
    if (!uv_is_closing((uv_handle_t *) &p->tcp)) {
        uv_close((uv_handle_t *) &p->tcp, peer_handle_closed);
        uv_close((uv_handle_t *) &p->timer, peer_handle_closed);
    }
}

static void
peer_hold_expired(uv_timer_t *t)
{
    struct peer *p = t->data;
    p->srv->closed_at = uv_now(t->loop);
    peer_close(p);
}

static void
peer_alloc(uv_handle_t *h OVS_UNUSED, size_t size, uv_buf_t *buf)
{
    buf->base = xmalloc(size);
    buf->len = size;
}

static void
write_done(uv_write_t *w, int status OVS_UNUSED)
{
    free(w->data);
    free(w);
}

/* Sends 'm' on 'p'. */
static void
peer_send(struct peer *p, const Nvo__Message *m)
{
    size_t len;
    int error;
    uint8_t *frame = nvo_msg_encode(m, &len, &error);
    assert_non_null(frame);
    uv_write_t *w = xmalloc(sizeof *w);
    w->data = frame;
    uv_buf_t buf = uv_buf_init((char *) frame, len);
    assert_int_equal(uv_write(w, (uv_stream_t *) &p->tcp, &buf, 1,
                              write_done), 0);
}

/* Sends a snapshot (seq 1, no networks) on 'p'. */
static void
peer_send_snapshot(struct peer *p)
{
    Nvo__Snapshot snap;
    nvo__snapshot__init(&snap);
    snap.seq = 1;
    snap.revision = 1;
    snap.tunnel_ip = (char *) "192.0.2.1";
    Nvo__Message m;
    nvo__message__init(&m);
    m.body_case = NVO__MESSAGE__BODY_SNAPSHOT;
    m.snapshot = &snap;
    peer_send(p, &m);
}

/* Sends NOT_OWNER naming the listener after p's on 'p'. */
static void
peer_send_redirect(struct peer *p)
{
    char owner[32];
    snprintf(owner, sizeof owner, "127.0.0.1:%d",
             p->srv->fx->srv[(p->srv->idx + 1) % 3].port);
    Nvo__Error e;
    nvo__error__init(&e);
    e.code = NVO__ERROR__CODE__NOT_OWNER;
    e.fatal = true;
    e.message = (char *) "not the owner";
    e.redirect = owner;
    Nvo__Message m;
    nvo__message__init(&m);
    m.body_case = NVO__MESSAGE__BODY_ERROR;
    m.error = &e;
    peer_send(p, &m);
}

static void
peer_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct peer *p = s->data;
    free(buf->base);
    if (n < 0) {
        peer_close(p);
        return;
    }
    if (n > 0 && p->srv->mode == SRV_SYNC && !p->answered) {
        /* Whatever arrived first is the hello. */
        p->answered = true;
        peer_send_snapshot(p);
        uv_timer_start(&p->timer, peer_hold_expired, p->srv->hold_ms, 0);
    } else if (n > 0 && p->srv->mode == SRV_REDIRECT && !p->answered) {
        p->answered = true;
        peer_send_redirect(p);
    }
}

static void
on_connection(uv_stream_t *server, int status)
{
    struct srv *srv = server->data;
    struct fixture *fx = srv->fx;
    assert_int_equal(status, 0);
    struct peer *p = xzalloc(sizeof *p);
    p->srv = srv;
    uv_tcp_init(&fx->loop, &p->tcp);
    uv_timer_init(&fx->loop, &p->timer);
    p->tcp.data = p->timer.data = p;
    p->n_open = 2;
    assert_true(fx->n_peers < ARRAY_SIZE(fx->peers));
    fx->peers[fx->n_peers++] = p;
    assert_int_equal(uv_accept(server, (uv_stream_t *) &p->tcp), 0);
    if (fx->n_ev < ARRAY_SIZE(fx->ev)) {
        fx->ev[fx->n_ev].srv = srv->idx;
        fx->ev[fx->n_ev].t = uv_now(&fx->loop);
        fx->n_ev++;
    }
    if (fx->n_ev >= fx->want) {
        uv_stop(&fx->loop);
    }
    if (srv->mode == SRV_DROP) {
        peer_close(p);
    } else {
        uv_read_start((uv_stream_t *) &p->tcp, peer_alloc, peer_read);
    }
}

static void
deadline_cb(uv_timer_t *t)
{
    uv_stop(t->loop);
}

static void
fx_init(struct fixture *fx, const enum srv_mode modes[3], uint64_t hold_ms)
{
    memset(fx, 0, sizeof *fx);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    agent_view_init(&fx->view);
    size_t off = 0;
    for (int i = 0; i < 3; i++) {
        struct srv *s = &fx->srv[i];
        struct sockaddr_in sin;
        s->fx = fx;
        s->idx = i;
        s->mode = modes[i];
        s->hold_ms = hold_ms;
        uv_tcp_init(&fx->loop, &s->listener);
        s->listener.data = s;
        uv_ip4_addr("127.0.0.1", 0, &sin);
        assert_int_equal(uv_tcp_bind(&s->listener,
                                     (const struct sockaddr *) &sin, 0), 0);
        assert_int_equal(uv_listen((uv_stream_t *) &s->listener, 16,
                                   on_connection), 0);
        int len = sizeof sin;
        assert_int_equal(uv_tcp_getsockname(&s->listener,
                                            (struct sockaddr *) &sin, &len),
                         0);
        s->port = ntohs(sin.sin_port);
        off += snprintf(fx->controllers + off, sizeof fx->controllers - off,
                        "%stcp:127.0.0.1:%d", i ? "," : "", s->port);
    }
    uv_timer_init(&fx->loop, &fx->deadline);
}

static void
apply_nothing(void *aux OVS_UNUSED, const struct agent_view *view OVS_UNUSED,
              Nvo__Ack *ack OVS_UNUSED)
{
}

static const struct agent_conn_ops ops = { .apply = apply_nothing };

static struct agent_conn *
fx_agent(struct fixture *fx, uint64_t backoff_max_ms)
{
    struct agent_conn_cfg cfg = {
        .controller = fx->controllers,
        .name = "hv1",
        .tunnel_ip = "192.0.2.1",
        .dataplane = NVO__DATAPLANE__DATAPLANE_KERNEL,
        .role = NVO__ROLE__ROLE_HYPERVISOR,
        .hb_interval_ms = 1000,
        .hb_timeout_ms = 30000,
        .backoff_max_ms = backoff_max_ms,
    };
    int error;
    struct agent_conn *c = agent_conn_create(&fx->loop, &cfg, &fx->view,
                                             &ops, NULL, &error);
    assert_non_null(c);
    assert_int_equal(error, 0);
    return c;
}

/* Runs the loop until 'n' accepts in all happened or 'timeout_ms'
 * passed. */
static void
fx_run(struct fixture *fx, size_t n, uint64_t timeout_ms)
{
    fx->want = n;
    uv_timer_start(&fx->deadline, deadline_cb, timeout_ms, 0);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    uv_timer_stop(&fx->deadline);
}

static void
walk_close(uv_handle_t *h, void *arg OVS_UNUSED)
{
    if (!uv_is_closing(h)) {
        uv_close(h, NULL);
    }
}

static void print_events(const struct fixture *);

/* Starts three listeners in 'modes' and an agent given all three, and runs
 * until 'n' connections were accepted (asserted) or 'timeout_ms' passed.
 * The caller finishes with fx_finish(). */
static struct fixture *
fx_start(const enum srv_mode modes[3], uint64_t hold_ms,
         uint64_t backoff_max_ms, size_t n, uint64_t timeout_ms)
{
    struct fixture *fx = xmalloc(sizeof *fx);
    fx_init(fx, modes, hold_ms);
    fx->agent = fx_agent(fx, backoff_max_ms);
    fx_run(fx, n, timeout_ms);
    print_events(fx);
    assert_int_equal(fx->n_ev, n);
    return fx;
}

/* Stops the agent and the listeners, frees 'fx'. */
static void
fx_finish(struct fixture *fx)
{
    agent_conn_destroy(fx->agent);
    for (size_t i = 0; i < fx->n_peers; i++) {
        peer_close(fx->peers[i]);
    }
    uv_walk(&fx->loop, walk_close, NULL);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    for (size_t i = 0; i < fx->n_peers; i++) {
        assert_int_equal(fx->peers[i]->n_open, 0);
        free(fx->peers[i]);
    }
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    agent_view_destroy(&fx->view);
    free(fx);
}

static void
print_events(const struct fixture *fx)
{
    for (size_t i = 0; i < MIN(fx->n_ev, 8); i++) {
        printf("  accept %zu: controller %d at +%"PRIu64" ms\n", i,
               fx->ev[i].srv, fx->ev[i].t - fx->ev[0].t);
    }
}

/* Gap in ms between accepts i - 1 and i. */
static uint64_t
gap(const struct fixture *fx, size_t i)
{
    return fx->ev[i].t - fx->ev[i - 1].t;
}

/* Three controllers that accept and drop at once: the first round of the
 * list is free of backoff, then the FSM's backoff starts at 1 s and
 * doubles per attempt up to --backoff-max, jittered to [d/2, d]. */
static void
test_free_round_then_backoff(void **state OVS_UNUSED)
{
    const enum srv_mode modes[3] = { SRV_DROP, SRV_DROP, SRV_DROP };
    struct fixture *fx = fx_start(modes, 0, 2000, 6, 10000);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(fx->ev[i].srv, i % 3);     /* In list order. */
    }
    /* One try of each controller without backoff. */
    assert_true(gap(fx, 1) <= 100 + AC_SLACK_MS);
    assert_true(gap(fx, 2) <= 100 + AC_SLACK_MS);
    /* Then 1 s (jittered to [0.5, 1] s), then 2 s ([1, 2] s), capped. */
    assert_true(gap(fx, 3) >= 500 && gap(fx, 3) <= 1000 + AC_SLACK_MS);
    assert_true(gap(fx, 4) >= 1000 && gap(fx, 4) <= 2000 + AC_SLACK_MS);
    assert_true(gap(fx, 5) >= 1000 && gap(fx, 5) <= 2000 + AC_SLACK_MS);
    fx_finish(fx);
}

/* A session that worked (in sync for longer than the minimum backoff)
 * ends: the next controller is tried at once, and the one after it too,
 * as when a cluster's controller dies. */
static void
test_free_round_after_working_session(void **state OVS_UNUSED)
{
    const enum srv_mode modes[3] = { SRV_SYNC, SRV_DROP, SRV_HOLD };
    struct fixture *fx = fx_start(modes, 1200, 30000, 3, 10000);
    assert_int_equal(fx->ev[0].srv, 0);
    assert_int_equal(fx->ev[1].srv, 1);
    assert_int_equal(fx->ev[2].srv, 2);
    assert_true(fx->srv[0].closed_at > 0);
    uint64_t after_close = fx->ev[1].t - fx->srv[0].closed_at;
    printf("  controller 0 closed the session after %"PRIu64" ms; next "
           "tried %"PRIu64" ms later, the one after %"PRIu64" ms later\n",
           fx->srv[0].closed_at - fx->ev[0].t, after_close, gap(fx, 2));
    assert_true(after_close <= 100 + AC_SLACK_MS);
    assert_true(gap(fx, 2) <= 100 + AC_SLACK_MS);
    fx_finish(fx);
}

/* A session that dropped as soon as it synced earns no free round: the
 * agent backs off (at least 0.5 s) instead of cycling the list at once. */
static void
test_no_free_round_after_short_session(void **state OVS_UNUSED)
{
    const enum srv_mode modes[3] = { SRV_SYNC, SRV_SYNC, SRV_SYNC };
    struct fixture *fx = fx_start(modes, 10, 30000, 5, 15000);
    /* The first round (from the start) is free; after it, every session
     * that synced and ended within 10 ms is followed by a backoff. */
    assert_true(gap(fx, 1) <= 100 + AC_SLACK_MS);
    assert_true(gap(fx, 2) <= 100 + AC_SLACK_MS);
    assert_true(gap(fx, 3) >= 500);
    assert_true(gap(fx, 4) >= 500);
    fx_finish(fx);
}

/* Controllers that keep redirecting to each other (they disagree on the
 * owner): redirects are followed without backoff for AC_REDIRECT_ROUNDS
 * (8) rounds' worth, then the agent backs off like after failures. */
static void
test_redirect_loop_backs_off(void **state OVS_UNUSED)
{
    const enum srv_mode modes[3] = { SRV_REDIRECT, SRV_REDIRECT,
                                     SRV_REDIRECT };
    size_t free_redirects = 8 * (3 + 1);
    struct fixture *fx = fx_start(modes, 0, 30000, free_redirects + 3,
                                  20000);
    uint64_t longest = 0;
    for (size_t i = 1; i <= free_redirects; i++) {
        assert_int_equal(fx->ev[i].srv, (fx->ev[i - 1].srv + 1) % 3);
        longest = MAX(longest, gap(fx, i));
    }
    printf("  %zu redirects followed in %"PRIu64" ms (longest gap %"PRIu64
           " ms), then gaps of %"PRIu64" and %"PRIu64" ms\n",
           free_redirects, fx->ev[free_redirects].t - fx->ev[0].t, longest,
           gap(fx, free_redirects + 1), gap(fx, free_redirects + 2));
    assert_true(longest <= 100 + AC_SLACK_MS);
    assert_true(gap(fx, free_redirects + 1) >= 500);
    assert_true(gap(fx, free_redirects + 2) >= 1000);
    fx_finish(fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_round_then_backoff),
        cmocka_unit_test(test_free_round_after_working_session),
        cmocka_unit_test(test_no_free_round_after_short_session),
        cmocka_unit_test(test_redirect_loop_backs_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
