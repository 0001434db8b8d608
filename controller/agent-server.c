/* agent-server.c - the controller's agent listener: libuv TCP, framing, a
 * registry of kernel hypervisors (their desired views) and one
 * agent_session per connection (protocol logic in agent-session.c).
 *
 * Registration: an agent whose name is not (yet) a registered kernel
 * hypervisor is kept waiting (the session is told UNKNOWN_HYPERVISOR, not
 * fatal, and stays connected with heartbeats); it gets its snapshot the
 * moment the hypervisor is registered.  A second agent saying hello with a
 * name already connected replaces the first (which gets a fatal REPLACED).
 *
 * Liveness (for service-node fail-over) is "an agent holds this hypervisor's
 * view" (session SYNCING or ACTIVE); it is reported only on change, and a
 * replacement agent does not make it flap.
 *
 * Heartbeat interval/timeout: 3 s / 10 s, overridable with
 * agent_server_set_timers() (nvo-controller --agent-heartbeat and
 * --agent-timeout).
 *
 * Bounded before trust.  A connection is unauthenticated until its hello
 * is accepted (TLS: after the handshake, and only if the certificate names
 * the hypervisor the hello claims; plain: any valid hello).  Until then it
 * may send frames of at most AS_HELLO_FRAME_MAX bytes, must say hello
 * within the hello timeout (the agent timeout, at most
 * AS_HELLO_DEADLINE_MS), and at most AS_MAX_UNAUTH such connections exist
 * at once (more are closed on accept).  An accepted agent waiting for its
 * registration keeps the small frame limit (it has nothing big to say:
 * agents send counters only once in sync), and at most AS_MAX_WAITING
 * wait at once (more are refused, fatally, and retry later); one holding
 * its hypervisor's view may send NVO_FRAME_MAX.  Whatever the state, messages are checked on the
 * wire before decoding (nvo_msg_from_agent in lib/proto-msg.h), so decoded
 * memory stays within a few times the frame; output that piles up unread
 * beyond AS_MAX_QUEUED drops the agent. */
#include <config.h>
#include "controller/agent-server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "controller/agent-session.h"
#include "controller/desired.h"
#include "hash.h"
#include "lib/addr.h"
#include "lib/channel.h"
#include "lib/errors.h"
#include "lib/frame.h"
#include "lib/pki.h"
#include "lib/tls-ctx.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(agent_server);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
/* Disconnections of agents that said hello: operators want them all, but
 * a peer can trigger them, so still bounded. */
static struct vlog_rate_limit close_rl = VLOG_RATE_LIMIT_INIT(20, 100);

/* Drop a peer that lets this much output pile up unread. */
#define AS_MAX_QUEUED (64u << 20)

/* Limits before trust (see the top of this file). */
#define AS_HELLO_FRAME_MAX (16u << 10)
#define AS_MAX_UNAUTH 128
#define AS_MAX_WAITING 1024
#define AS_HELLO_DEADLINE_MS 10000

struct as_hv {
    struct hmap_node node;      /* In agent_server.hvs, by hv_id. */
    int64_t hv_id;
    struct nvo_hv_view *view;   /* Desired; owned. */
    struct as_conn *conn;       /* Attached agent, or NULL. */
    bool alive;                 /* Last liveness reported. */
    bool ever_connected;
    char detail[128];           /* Why it is disconnected. */
};

struct as_conn {
    struct ovs_list node;       /* In agent_server.conns. */
    struct agent_server *server;
    struct nvo_channel *ch;     /* Owned: closed with the connection. */
    struct agent_session session;
    struct nvo_frame_reader reader;
    struct as_hv *hv;           /* Registry entry it serves, or NULL. */
    bool closing;               /* Channel closing. */
    bool unauth;                /* Counted in agent_server.n_unauth. */
    bool waiting;               /* Counted in agent_server.n_waiting. */
};

/* A StateRequest waiting for its report. */
struct as_request {
    struct ovs_list node;       /* In agent_server.requests. */
    uint64_t id;
    struct as_conn *conn;       /* Asked; NULL once it went away. */
    uint64_t deadline_ms;
    agent_server_report_cb *cb;
    void *aux;
};

struct agent_server {
    struct nvo_sb up;           /* The southbound interface. */
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_timer_t timer;           /* Runs only while there is a connection
                                 * or a request to tick (timer_update()):
                                 * a controller without agents does not
                                 * wake for it. */
    uint64_t tick_ms;           /* Its period. */
    nvo_sb_confirm_cb *confirm;
    nvo_sb_failed_cb *failed;   /* May be NULL. */
    nvo_sb_liveness_cb *liveness;
    agent_server_redirect_cb *redirect;     /* May be NULL. */
    void *aux;
    struct agent_session_cfg cfg;
    struct nvo_tls_ctx *tls;    /* Owned; NULL: plain TCP. */
    struct hmap hvs;            /* Contains struct as_hv. */
    struct ovs_list conns;      /* Contains struct as_conn. */
    int n_handles;              /* Open libuv handles (listener, timer). */
    size_t n_unauth;            /* Connections before an accepted hello. */
    size_t n_waiting;           /* Accepted, hypervisor not registered. */
    struct agent_server_stats stats;
    struct ovs_list requests;   /* Contains struct as_request. */
    uint64_t next_request_id;
    bool destroying;
};

static const struct agent_session_ops session_ops;
static const struct nvo_sb_class agent_server_class;
static const Nvo__Message *last_heartbeat(const struct as_hv *);
static void requests_fail(struct agent_server *, const struct as_conn *,
                          int error, const char *why);

static struct as_hv *
hv_find(const struct agent_server *s, int64_t hv_id)
{
    struct as_hv *hv;
    HMAP_FOR_EACH_WITH_HASH (hv, node, hash_uint64(hv_id), &s->hvs) {
        if (hv->hv_id == hv_id) {
            return hv;
        }
    }
    return NULL;
}

static struct as_hv *
hv_find_by_name(const struct agent_server *s, const char *name)
{
    struct as_hv *hv;
    HMAP_FOR_EACH (hv, node, &s->hvs) {
        if (!strcmp(hv->view->name, name)) {
            return hv;
        }
    }
    return NULL;
}

/* Reports liveness of 'hv' if it changed. */
static void
hv_update_liveness(struct agent_server *s, struct as_hv *hv)
{
    bool alive = hv->conn && agent_session_is_attached(&hv->conn->session);
    if (alive != hv->alive && !s->destroying) {
        hv->alive = alive;
        s->liveness(s->aux, hv->hv_id, alive);
    }
}

/* ---- server lifetime ---------------------------------------------------- */

static void
server_maybe_free(struct agent_server *s)
{
    if (s->destroying && !s->n_handles && ovs_list_is_empty(&s->conns)) {
        struct as_hv *hv;
        HMAP_FOR_EACH_POP (hv, node, &s->hvs) {
            nvo_hv_view_destroy(hv->view);
            free(hv);
        }
        hmap_destroy(&s->hvs);
        nvo_tls_ctx_destroy(s->tls);
        free(s);
    }
}

static void
handle_closed(uv_handle_t *h)
{
    struct agent_server *s = h->data;
    s->n_handles--;
    server_maybe_free(s);
}

/* Starts the tick while a connection or a request needs it, stops it
 * once none does. */
static void on_timer(uv_timer_t *);
static void
timer_update(struct agent_server *s)
{
    bool needed = (!s->destroying
                   && !(ovs_list_is_empty(&s->conns)
                        && ovs_list_is_empty(&s->requests)));
    if (needed && !uv_is_active((uv_handle_t *) &s->timer)) {
        uv_timer_start(&s->timer, on_timer, s->tick_ms, s->tick_ms);
    } else if (!needed) {
        uv_timer_stop(&s->timer);
    }
}

/* ---- connections -------------------------------------------------------- */

/* Keeps n_unauth, n_waiting and the frame limit in step with 'c''s
 * session state; refuses 'c' if too many agents wait already. */
static void
conn_update_limits(struct as_conn *c)
{
    struct agent_server *s = c->server;
    enum agent_session_state st = c->session.state;
    if (c->unauth && st != AGENT_S_HELLO_WAIT) {
        c->unauth = false;
        s->n_unauth--;
    }
    if (c->waiting && st != AGENT_S_REGISTERING) {
        c->waiting = false;
        s->n_waiting--;
    } else if (!c->waiting && st == AGENT_S_REGISTERING) {
        if (s->n_waiting >= AS_MAX_WAITING) {
            VLOG_WARN_RL(&rl, "%s: %d agents wait for registration already; "
                         "refusing %s", c->session.peer, AS_MAX_WAITING,
                         c->session.name);
            s->stats.refused_over_cap++;
            agent_session_close(&c->session,
                                NVO__ERROR__CODE__UNKNOWN_HYPERVISOR,
                                "too many agents wait for registration; "
                                "retry later");
            return;
        }
        c->waiting = true;
        s->n_waiting++;
    }
    c->reader.max = agent_session_is_attached(&c->session) ? NVO_FRAME_MAX
                    : AS_HELLO_FRAME_MAX;
}

static void
conn_released(void *aux)
{
    struct as_conn *c = aux;
    struct agent_server *s = c->server;
    if (c->unauth) {
        s->n_unauth--;
    }
    if (c->waiting) {
        s->n_waiting--;
    }
    requests_fail(s, c, -ENOTCONN, "the agent disconnected");
    ovs_list_remove(&c->node);
    agent_session_destroy(&c->session);
    nvo_frame_reader_destroy(&c->reader);
    free(c);
    server_maybe_free(s);
}

/* Closes 'c''s channel, after flushing what was queued (a refusal) if
 * 'flush'; 'c' is freed once it is closed. */
static void
conn_close(struct as_conn *c, bool flush)
{
    if (!c->closing) {
        c->closing = true;
        nvo_channel_close(c->ch, flush);
    }
}

static void
session_send(void *aux, uint8_t *frame, size_t len)
{
    struct as_conn *c = aux;
    if (c->closing) {
        free(frame);
        return;
    }
    if (nvo_channel_queued(c->ch) > AS_MAX_QUEUED) {
        free(frame);
        VLOG_WARN_RL(&rl, "%s: agent does not read; disconnecting",
                     c->session.peer);
        agent_session_close(&c->session, NVO__ERROR__CODE__UNSPECIFIED,
                            "agent does not read");
        return;
    }
    int error = nvo_channel_send(c->ch, frame, len);
    if (error) {
        agent_session_close(&c->session, NVO__ERROR__CODE__UNSPECIFIED,
                            uv_strerror(error));
    }
}

/* Detaches 'c' from its registry entry, if any. */
static void
conn_detach(struct as_conn *c, const char *reason)
{
    struct as_hv *hv = c->hv;
    if (hv) {
        c->hv = NULL;
        if (hv->conn == c) {
            hv->conn = NULL;
            snprintf(hv->detail, sizeof hv->detail, "agent %s: %s",
                     c->session.peer, reason);
            hv_update_liveness(c->server, hv);
        }
    }
}

/* Answers and frees 'r' with an error. */
static void
request_fail(struct as_request *r, int error, const char *why)
{
    ovs_list_remove(&r->node);
    r->cb(r->aux, NULL, -1, error, why);
    free(r);
}

/* Fails the requests waiting on 'c' (NULL: all of them). */
static void
requests_fail(struct agent_server *s, const struct as_conn *c, int error,
              const char *why)
{
    struct as_request *r;
    LIST_FOR_EACH_SAFE (r, node, &s->requests) {
        if (!c || r->conn == c) {
            request_fail(r, error, why);
        }
    }
}

static void
session_report(void *aux, const Nvo__StateReport *rep)
{
    struct as_conn *c = aux;
    struct agent_server *s = c->server;
    struct as_request *r;
    LIST_FOR_EACH (r, node, &s->requests) {
        if (r->conn == c && r->id == rep->id) {
            const Nvo__Message *hb = c->hv ? last_heartbeat(c->hv) : NULL;
            int mtu = (hb && hb->heartbeat->underlay_mtu
                       ? (int) MIN(hb->heartbeat->underlay_mtu, 65535) : -1);
            ovs_list_remove(&r->node);
            r->cb(r->aux, rep, mtu, 0, NULL);
            free(r);
            return;
        }
    }
    VLOG_WARN_RL(&rl, "%s: agent %s: state report %"PRIu64" nobody asked "
                 "for (late?)", c->session.peer, c->session.name, rep->id);
}

static void
session_closed(void *aux, const char *reason)
{
    struct as_conn *c = aux;
    requests_fail(c->server, c, -ENOTCONN, "the agent disconnected");
    c->server->stats.refused_message += c->session.n_bad_messages;
    if (c->session.name) {
        VLOG_INFO_RL(&close_rl, "%s: agent %s disconnected: %s",
                     c->session.peer, c->session.name, reason);
    } else {
        VLOG_DBG_RL(&rl, "%s: disconnected before hello: %s",
                    c->session.peer, reason);
    }
    conn_detach(c, reason);
    conn_close(c, true);
}

static void
session_confirm(void *aux, int64_t revision)
{
    struct as_conn *c = aux;
    if (c->hv && !c->server->destroying) {
        c->server->confirm(c->server->aux, c->hv->hv_id, revision);
    }
}

static void
session_failed(void *aux, int64_t revision, const char *error)
{
    struct as_conn *c = aux;
    if (c->hv && !c->server->destroying && c->server->failed) {
        c->server->failed(c->server->aux, c->hv->hv_id, revision, error);
    }
}

/* Closes every other connection that said hello as 'name'. */
static void
replace_others(struct agent_server *s, struct as_conn *c, const char *name)
{
    struct as_conn *o;
    LIST_FOR_EACH (o, node, &s->conns) {
        if (o != c && !o->closing && o->session.name
            && !strcmp(o->session.name, name)) {
            VLOG_INFO_RL(&close_rl, "%s: agent %s replaced by %s",
                         o->session.peer, name, c->session.peer);
            o->hv = NULL;   /* Handed over below: no liveness flap. */
            agent_session_close(&o->session, NVO__ERROR__CODE__REPLACED,
                                "replaced by another agent with this name");
        }
    }
}

/* Attaches 'c' to 'hv' and sends the snapshot. */
static void
conn_attach(struct agent_server *s, struct as_conn *c, struct as_hv *hv)
{
    if (hv->conn && hv->conn != c) {
        hv->conn->hv = NULL;
    }
    hv->conn = c;
    c->hv = hv;
    hv->ever_connected = true;
    agent_session_attach(&c->session, hv->view);
    if (hv->conn == c && !agent_session_is_attached(&c->session)) {
        hv->conn = NULL;        /* Refused. */
        c->hv = NULL;
    }
    conn_update_limits(c);
    hv_update_liveness(s, hv);
}

/* Cluster mode: if another controller owns hypervisor 'name', sends 'c'
 * there and returns true. */
static bool
conn_redirect(struct agent_server *s, struct as_conn *c, const char *name)
{
    char *addr = s->redirect ? s->redirect(s->aux, name) : NULL;
    if (!addr) {
        return false;
    }
    char *why = xasprintf("another controller (agents at %s) programs "
                          "hypervisor %s", addr, name);
    s->stats.redirected++;
    agent_session_redirect(&c->session, addr, why);
    free(why);
    free(addr);
    return true;
}

static void
session_hello(void *aux, const Nvo__Hello *hello)
{
    struct as_conn *c = aux;
    struct agent_server *s = c->server;
    if (s->tls) {
        char cn[128];
        if (!nvo_channel_peer_is(c->ch, hello->name, cn, sizeof cn)) {
            char *why = xasprintf("certificate CN \"%s\" does not name "
                                  "hypervisor %s", cn, hello->name);
            VLOG_WARN_RL(&rl, "%s: refusing agent: %s", c->session.peer,
                         why);
            s->stats.refused_certificate++;
            agent_session_close(&c->session, NVO__ERROR__CODE__NOT_AUTHORIZED,
                                why);
            free(why);
            return;
        }
        char cert[256];
        VLOG_INFO_RL(&close_rl, "%s: agent %s authenticated by certificate "
                     "%s", c->session.peer, hello->name,
                     nvo_channel_peer_cert(c->ch, cert, sizeof cert));
    }
    struct as_hv *hv = hv_find_by_name(s, hello->name);
    if (!hv && conn_redirect(s, c, hello->name)) {
        return;
    }
    /* Authenticated (TLS: the certificate names it) or plain: it may
     * replace an earlier connection of this hypervisor. */
    replace_others(s, c, hello->name);
    if (hv) {
        conn_attach(s, c, hv);
    } else {
        agent_session_wait(&c->session,
                           hello->dataplane == NVO__DATAPLANE__DATAPLANE_OVS
                           ? "not a registered kernel hypervisor (OVS "
                             "hypervisors are programmed over OVSDB)"
                           : s->redirect
                           ? "hypervisor not registered, or its owner not "
                             "known yet; waiting"
                           : "hypervisor not registered (POST "
                             "/v1/hypervisors); waiting");
    }
}

static const struct agent_session_ops session_ops = {
    .send = session_send,
    .hello = session_hello,
    .confirm = session_confirm,
    .failed = session_failed,
    .closed = session_closed,
    .report = session_report,
};

static void
conn_recv(void *aux, const uint8_t *data, size_t n)
{
    struct as_conn *c = aux;
    struct agent_session *ss = &c->session;
    uint64_t now = uv_now(c->server->loop);

    int error = nvo_frame_reader_feed(&c->reader, data, n);
    while (!error && ss->state != AGENT_S_CLOSED) {
        const uint8_t *payload;
        size_t len;
        int k = nvo_frame_reader_next(&c->reader, &payload, &len);
        if (k <= 0) {
            error = k;
            break;
        }
        agent_session_receive(ss, payload, len, now);
        conn_update_limits(c);
    }
    if (error && ss->state != AGENT_S_CLOSED) {
        c->server->stats.refused_frame++;
        VLOG_WARN_RL(&rl, "%s: %s: frame larger than %u bytes; "
                     "disconnecting", ss->peer,
                     agent_session_state_name(ss->state), c->reader.max);
        agent_session_close(ss, NVO__ERROR__CODE__PROTOCOL,
                            "frame too large");
    }
}

static void
conn_failed(void *aux, int error, const char *reason)
{
    struct as_conn *c = aux;
    struct agent_session *ss = &c->session;
    if (error == -EPROTO && nvo_channel_state(c->ch) == NVO_CHANNEL_FAILED
        && ss->state == AGENT_S_HELLO_WAIT) {
        c->server->stats.refused_handshake++;
    }
    if (nvo_frame_reader_pending(&c->reader)) {
        VLOG_WARN_RL(&rl, "%s: connection closed inside a frame "
                     "(truncated)", ss->peer);
    }
    if (ss->state == AGENT_S_HELLO_WAIT) {
        VLOG_WARN_RL(&rl, "%s: %s (before hello)", ss->peer, reason);
    }
    agent_session_close(ss, NVO__ERROR__CODE__UNSPECIFIED, reason);
}

static const struct nvo_channel_ops channel_ops = {
    .recv = conn_recv,
    .failed = conn_failed,
    .released = conn_released,
};

static void
on_connection(uv_stream_t *listener, int status)
{
    struct agent_server *s = listener->data;
    if (status < 0) {
        VLOG_WARN_RL(&rl, "agent listener: %s", uv_strerror(status));
        return;
    }
    struct as_conn *c = xzalloc(sizeof *c);
    c->server = s;
    int error;
    c->ch = nvo_channel_accept(s->loop, listener, s->tls, &channel_ops, c,
                               &error);
    if (!c->ch) {
        VLOG_WARN_RL(&rl, "agent listener: accept: %s", uv_strerror(error));
        free(c);
        return;
    }
    ovs_list_push_back(&s->conns, &c->node);
    timer_update(s);
    agent_session_init(&c->session, &session_ops, c, &s->cfg,
                       nvo_channel_peer(c->ch), uv_now(s->loop));
    nvo_frame_reader_init(&c->reader, AS_HELLO_FRAME_MAX);
    if (s->n_unauth >= AS_MAX_UNAUTH) {
        VLOG_WARN_RL(&rl, "%s: %d connections have not said hello yet; "
                     "closing this one", nvo_channel_peer(c->ch),
                     AS_MAX_UNAUTH);
        c->session.state = AGENT_S_CLOSED;
        conn_close(c, false);
        s->stats.refused_over_cap++;
        return;
    }
    c->unauth = true;
    s->n_unauth++;
    VLOG_DBG("%s: agent connected%s", nvo_channel_peer(c->ch),
             s->tls ? " (TLS handshake)" : "");
}

static void
on_timer(uv_timer_t *t)
{
    struct agent_server *s = t->data;
    uint64_t now = uv_now(s->loop);
    struct as_conn *c;
    LIST_FOR_EACH (c, node, &s->conns) {
        if (!c->closing) {
            agent_session_tick(&c->session, now);
        }
    }
    struct as_request *r;
    LIST_FOR_EACH_SAFE (r, node, &s->requests) {
        if (now >= r->deadline_ms) {
            request_fail(r, -ETIMEDOUT, "the agent did not report in time");
        }
    }
    timer_update(s);            /* Stops it once nothing is left. */
}

int
agent_server_request_state(struct agent_server *s, int64_t hv_id,
                           uint64_t timeout_ms, agent_server_report_cb *cb,
                           void *aux)
{
    struct as_hv *hv = hv_find(s, hv_id);
    if (!hv || !hv->conn || hv->conn->closing) {
        return -ENOTCONN;
    }
    uint64_t id = ++s->next_request_id;
    int error = agent_session_request_state(&hv->conn->session, id);
    if (error) {
        return error;
    }
    struct as_request *r = xzalloc(sizeof *r);
    r->id = id;
    r->conn = hv->conn;
    r->deadline_ms = uv_now(s->loop) + timeout_ms;
    r->cb = cb;
    r->aux = aux;
    ovs_list_push_back(&s->requests, &r->node);
    timer_update(s);
    return 0;
}

void
agent_server_resync(struct agent_server *s, int64_t hv_id)
{
    struct as_hv *hv = hv_find(s, hv_id);
    if (hv && hv->conn && !hv->conn->closing) {
        agent_session_resync(&hv->conn->session);
    }
}

int
agent_server_set_tls(struct agent_server *s, const struct nvo_pki *pki,
                     char **errmsg)
{
    struct nvo_tls_ctx *tls = nvo_tls_ctx_create(pki, NVO_TLS_SERVER,
                                                 errmsg);
    if (!tls) {
        return -EINVAL;
    }
    nvo_tls_ctx_destroy(s->tls);
    s->tls = tls;
    return 0;
}

void
agent_server_set_failed_cb(struct agent_server *s, nvo_sb_failed_cb *failed)
{
    s->failed = failed;
}

void
agent_server_set_timers(struct agent_server *s, uint64_t interval_ms,
                        uint64_t timeout_ms)
{
    s->cfg.hb_interval_ms = interval_ms;
    s->cfg.hb_timeout_ms = timeout_ms;
    s->cfg.hello_timeout_ms = MIN(timeout_ms, AS_HELLO_DEADLINE_MS);
    s->tick_ms = MAX(MIN(interval_ms / 3, 1000), 10);
    uv_timer_stop(&s->timer);
    timer_update(s);
}

struct agent_server *
agent_server_create(uv_loop_t *loop, const char *addr,
                    nvo_sb_confirm_cb *confirm, nvo_sb_liveness_cb *liveness,
                    void *aux, int *errp)
{
    struct sockaddr_storage ss;
    int error = nvo_sockaddr_parse(addr, "0.0.0.0", &ss);
    if (error) {
        *errp = error;
        return NULL;
    }
    struct agent_server *s = xzalloc(sizeof *s);
    s->up.class = &agent_server_class;
    s->loop = loop;
    s->confirm = confirm;
    s->liveness = liveness;
    s->aux = aux;
    hmap_init(&s->hvs);
    ovs_list_init(&s->conns);
    ovs_list_init(&s->requests);
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    s->n_handles++;
    error = uv_tcp_bind(&s->listener, (struct sockaddr *) &ss, 0);
    if (!error) {
        error = uv_listen((uv_stream_t *) &s->listener, 128, on_connection);
    }
    if (error) {
        *errp = error;
        s->destroying = true;
        uv_close((uv_handle_t *) &s->listener, handle_closed);
        return NULL;
    }
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    s->n_handles++;
    agent_server_set_timers(
        s, AGENT_HB_INTERVAL_MS, AGENT_HB_TIMEOUT_MS);
    *errp = 0;
    return s;
}

void
agent_server_set(struct agent_server *s, struct nvo_hv_view *view)
{
    struct as_hv *hv = hv_find(s, view->hv_id);
    if (!hv) {
        hv = xzalloc(sizeof *hv);
        hv->hv_id = view->hv_id;
        hv->view = view;
        snprintf(hv->detail, sizeof hv->detail, "waiting for nvo-agent");
        hmap_insert(&s->hvs, &hv->node, hash_uint64(view->hv_id));
        /* An agent may already be waiting for this name. */
        struct as_conn *c, *found = NULL;
        LIST_FOR_EACH (c, node, &s->conns) {
            if (!c->closing && c->session.state == AGENT_S_REGISTERING
                && !strcmp(c->session.name, view->name)) {
                found = c;
            }
        }
        if (found) {
            conn_attach(s, found, hv);
        }
        return;
    }
    nvo_hv_view_destroy(hv->view);
    hv->view = view;
    if (hv->conn) {
        agent_session_set_view(&hv->conn->session, view);
    }
}

void
agent_server_set_redirect_cb(struct agent_server *s,
                             agent_server_redirect_cb *redirect)
{
    s->redirect = redirect;
}

void
agent_server_recheck(struct agent_server *s)
{
    struct as_conn *c, *next;
    LIST_FOR_EACH_SAFE (c, next, node, &s->conns) {
        if (!c->closing && c->session.state == AGENT_S_REGISTERING
            && c->session.name && !hv_find_by_name(s, c->session.name)) {
            conn_redirect(s, c, c->session.name);
        }
    }
}

/* Forgets 'hv_id': its agent, if any, is told why and disconnected; with
 * 'released' (another controller programs it now) it is sent to the owner
 * (or, owner not known yet, to the next controller of its list), else it
 * is told its hypervisor was deleted. */
static void
hv_forget(struct agent_server *s, int64_t hv_id, bool released)
{
    struct as_hv *hv = hv_find(s, hv_id);
    if (!hv) {
        return;
    }
    struct as_conn *c = hv->conn;
    if (c) {
        c->hv = NULL;
        hv->conn = NULL;
    }
    if (c && released) {
        hv_update_liveness(s, hv);
        char *addr = s->redirect ? s->redirect(s->aux, hv->view->name)
                                 : NULL;
        s->stats.redirected++;
        agent_session_redirect(&c->session, addr, "another controller "
                               "programs this hypervisor now");
        free(addr);
    } else if (c) {
        agent_session_close(&c->session, NVO__ERROR__CODE__REMOVED,
                            "hypervisor deleted");
    }
    hmap_remove(&s->hvs, &hv->node);
    nvo_hv_view_destroy(hv->view);
    free(hv);
}

void
agent_server_remove(struct agent_server *s, int64_t hv_id)
{
    hv_forget(s, hv_id, false);
}

void
agent_server_status(struct agent_server *s, int64_t hv_id,
                    struct nvo_sb_status *st)
{
    memset(st, 0, sizeof *st);
    struct as_hv *hv = hv_find(s, hv_id);
    if (!hv) {
        st->state = NVO_SB_UNKNOWN;
        return;
    }
    if (!hv->conn) {
        st->state = hv->ever_connected ? NVO_SB_DISCONNECTED
                                       : NVO_SB_CONNECTING;
        snprintf(st->detail, sizeof st->detail, "%s", hv->detail);
        return;
    }
    const struct agent_session *ss = &hv->conn->session;
    st->state = (ss->state == AGENT_S_ACTIVE ? NVO_SB_CONNECTED
                 : NVO_SB_SYNCING);
    const Nvo__Message *hb = last_heartbeat(hv);
    st->underlay_mtu = hb ? hb->heartbeat->underlay_mtu : 0;
    if (ss->n_ack_errors) {
        snprintf(st->detail, sizeof st->detail, "agent %s: %"PRIu64
                 " errors, last: %.60s", ss->peer, ss->n_ack_errors,
                 ss->last_error);
    } else {
        snprintf(st->detail, sizeof st->detail, "agent %s (nvo-agent %s)",
                 ss->peer, ss->software_version ? ss->software_version : "?");
    }
}

/* The latest heartbeat of 'hv''s connected agent, or NULL.  Borrowed. */
static const Nvo__Message *
last_heartbeat(const struct as_hv *hv)
{
    const Nvo__Message *m = hv->conn ? hv->conn->session.last_heartbeat
                                     : NULL;
    return m && m->body_case == NVO__MESSAGE__BODY_HEARTBEAT ? m : NULL;
}

void
agent_server_get_stats(const struct agent_server *s,
                       struct agent_server_stats *st)
{
    *st = s->stats;
    st->unauthenticated = s->n_unauth;
}

void
agent_server_foreach_counters(struct agent_server *s,
                              agent_server_counters_cb *cb, void *aux)
{
    const struct as_hv *hv;
    HMAP_FOR_EACH (hv, node, &s->hvs) {
        const Nvo__Message *m = last_heartbeat(hv);
        if (!m) {
            continue;
        }
        for (size_t i = 0; i < m->heartbeat->n_counters; i++) {
            cb(hv->hv_id, m->heartbeat->counters[i], aux);
        }
    }
}

bool
agent_server_port_drops(struct agent_server *s, int64_t port_id,
                        uint64_t *packets)
{
    const struct as_hv *hv;
    HMAP_FOR_EACH (hv, node, &s->hvs) {
        const Nvo__Message *m = last_heartbeat(hv);
        if (!m) {
            continue;
        }
        for (size_t i = 0; i < m->heartbeat->n_ports; i++) {
            if (m->heartbeat->ports[i]->port_id == port_id) {
                *packets = m->heartbeat->ports[i]->dropped;
                return true;
            }
        }
    }
    return false;
}

void
agent_server_destroy(struct agent_server *s)
{
    if (!s) {
        return;
    }
    s->destroying = true;
    requests_fail(s, NULL, -ECANCELED, "the controller is stopping");
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *) &s->timer, handle_closed);
    uv_close((uv_handle_t *) &s->listener, handle_closed);
    struct as_conn *c;
    LIST_FOR_EACH (c, node, &s->conns) {
        c->hv = NULL;
        if (!c->closing) {
            c->session.state = AGENT_S_CLOSED;
            conn_close(c, false);
        }
    }
}

/* The southbound interface (southbound.h). */

static struct agent_server *
agent_server_cast(struct nvo_sb *sb)
{
    ovs_assert(sb->class == &agent_server_class);
    return CONTAINER_OF(sb, struct agent_server, up);
}

static void
agent_server_class_set(struct nvo_sb *sb, struct nvo_hv_view *view)
{
    agent_server_set(agent_server_cast(sb), view);
}

static void
agent_server_class_remove(struct nvo_sb *sb, int64_t hv_id)
{
    agent_server_remove(agent_server_cast(sb), hv_id);
}

static void
agent_server_class_release(struct nvo_sb *sb, int64_t hv_id)
{
    hv_forget(agent_server_cast(sb), hv_id, true);
}

static void
agent_server_class_status(struct nvo_sb *sb, int64_t hv_id,
                          struct nvo_sb_status *st)
{
    agent_server_status(agent_server_cast(sb), hv_id, st);
}

static bool
agent_server_class_port_drops(struct nvo_sb *sb, int64_t port_id,
                              uint64_t *packets)
{
    return agent_server_port_drops(agent_server_cast(sb), port_id, packets);
}

static void
agent_server_class_resync(struct nvo_sb *sb, int64_t hv_id)
{
    agent_server_resync(agent_server_cast(sb), hv_id);
}

static void
agent_server_class_destroy(struct nvo_sb *sb)
{
    agent_server_destroy(agent_server_cast(sb));
}

static const struct nvo_sb_class agent_server_class = {
    .name = "agent",
    .set = agent_server_class_set,
    .remove = agent_server_class_remove,
    .release = agent_server_class_release,
    .status = agent_server_class_status,
    .port_drops = agent_server_class_port_drops,
    .resync = agent_server_class_resync,
    .destroy = agent_server_class_destroy,
};

struct nvo_sb *
agent_server_as_sb(struct agent_server *s)
{
    return s ? &s->up : NULL;
}

struct agent_server *
agent_server_from_sb(struct nvo_sb *sb)
{
    return sb && sb->class == &agent_server_class ? agent_server_cast(sb)
                                                  : NULL;
}
