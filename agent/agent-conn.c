/* agent-conn.c - nvo-agent's side of the controller <-> agent protocol.
 *
 * States and transitions (enum ac_state):
 *
 *   BACKOFF    --retry timer------------------------> CONNECTING
 *   CONNECTING --TCP connected (tcp:), or TLS handshake done and the
 *                controller's certificate verified (ssl:)-> HELLO_SENT (Hello)
 *   CONNECTING --failed, or no handshake within the
 *                heartbeat timeout------------------> BACKOFF (the FSM's
 *                                                      delay)
 *   HELLO_SENT --Error UNKNOWN_HYPERVISOR (not fatal)-> WAITING
 *   connected  --Error NOT_OWNER (cluster: another controller owns this
 *                hypervisor)------------------------> BACKOFF (a free try:
 *                                                      the owner it names if in
 *                                                      our list, else the
 *                                                      next controller)
 *   HELLO_SENT, WAITING --Snapshot------------------> SYNCED (apply, ack)
 *   SYNCED     --Delta based on our seq-------------> SYNCED (apply, ack)
 *   connected  --EOF, bad or oversized frame, Delta out of order, fatal
 *                Error, controller silent for the timeout-> BACKOFF
 *   any but STOPPED --our PKI files changed (ssl:)--> BACKOFF (reconnect at
 *                once with the new certificate)
 *   any        --agent_conn_destroy()---------------> STOPPED
 *
 * The backoff is libopenvswitch's reconnect FSM (lib/reconnect.h), told of
 * every attempt, connection, frame received and disconnection, as
 * jsonrpc_session and the OVSDB IDL use it:
 *   - every reconnection goes to the next controller of the list, and one
 *     try of each controller is free of backoff
 *     (reconnect_set_backoff_free_tries()): at start, after a session that
 *     was in sync for at least the minimum backoff, after a redirect and
 *     after a PKI rotation.  So losing a controller of a cluster costs no
 *     backoff while the others are tried;
 *   - after that round the delay starts at the FSM's minimum (1 s, its
 *     floor) and doubles per failed attempt up to --backoff-max; it falls
 *     back to the minimum after a connection that stayed active longer
 *     than the delay (a controller that accepts and drops at once does not
 *     reset it).
 * The FSM's delay is jittered to [delay/2, delay], and a backoff-free try
 * waits [0, AC_FREE_TRY_MS], so agents dropped together do not reconnect in
 * lockstep.  Redirects keep their tries free only while they do not loop
 * (AC_REDIRECT_ROUNDS rounds' worth without a snapshot); then they back
 * off like failures.  The timers stay libuv's, and the connect timeout is the
 * heartbeat timeout (it covers the TLS handshake) rather than the FSM's, so
 * reconnect_run() is not consulted; heartbeats are the protocol's own
 * (the FSM's probes are off).  Nothing is flushed on disconnect:
 * the view and the dataplane stay as they are; the next Snapshot is applied
 * as a diff. */
#include <config.h>
#include "agent/agent-conn.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "agent/agent-view.h"
#include "lib/addr.h"
#include "lib/channel.h"
#include "lib/errors.h"
#include "lib/frame.h"
#include "lib/pki.h"
#include "lib/proto-msg.h"
#include "lib/tls-ctx.h"
#include "openvswitch/vlog.h"
#include "reconnect.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(agent_conn);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* Longest delay of a backoff-free try (following a redirect, the next
 * controller after a session that worked). */
#define AC_FREE_TRY_MS 100

/* Redirects followed without backoff between two snapshots, in rounds of
 * the list.  When an owner dies, the others keep naming it for a moment
 * (doc/cluster.md: until its heartbeat is 1 s old), so the agent bounces
 * between them and the dead one's closed port about ten times a second;
 * that must not exhaust the budget, or the FSM's backoff (1 s, 2 s, ...)
 * would delay the failover by seconds.  Two live controllers that keep
 * naming each other are stopped after ~3 s of this. */
#define AC_REDIRECT_ROUNDS 8

/* One controller of the --controller list. */
struct ac_target {
    char *name;                 /* "tcp:IP:PORT" or "ssl:IP:PORT". */
    struct sockaddr_storage addr;
};

enum ac_state {
    AC_BACKOFF,
    AC_CONNECTING,
    AC_HELLO_SENT,
    AC_WAITING,
    AC_SYNCED,
    AC_STOPPED,
};

/* One connection attempt; outlives the conn only until closed. */
struct ac_sock {
    struct nvo_channel *ch;     /* Owned. */
    struct agent_conn *conn;
    struct nvo_frame_reader reader;
    bool dead;                  /* Closing: callbacks do nothing. */
};

struct agent_conn {
    uv_loop_t *loop;
    struct agent_conn_cfg cfg;
    char *list, *name, *tunnel_ip;  /* Owned copies of cfg's. */
    struct ac_target *targets;  /* The controllers, in --controller order. */
    size_t n_targets;
    size_t cur;                 /* Index in 'targets' of this attempt. */
    const char *controller;     /* targets[cur].name. */
    int redirect_to;            /* Next attempt's target after a redirect,
                                 * -1: the next one; -2: no redirect. */
    unsigned int n_redirects;   /* Since the last snapshot. */
    struct reconnect *fsm;      /* Owned: libopenvswitch's backoff. */
    struct nvo_tls_ctx *tls;    /* Owned; NULL for tcp:. */
    struct agent_view *view;
    const struct agent_conn_ops *ops;
    void *aux;

    enum ac_state state;
    struct ac_sock *sock;
    uv_timer_t tick, retry;
    int n_handles;
    uint64_t last_rx_ms, last_tx_ms;
    uint64_t connect_ms;        /* When the current attempt started. */
    uint64_t synced_ms;         /* When this session got its snapshot. */
};

static void ac_disconnect(struct agent_conn *, const char *reason);

static const char *
state_name(enum ac_state s)
{
    switch (s) {
    case AC_BACKOFF: return "BACKOFF";
    case AC_CONNECTING: return "CONNECTING";
    case AC_HELLO_SENT: return "HELLO_SENT";
    case AC_WAITING: return "WAITING";
    case AC_SYNCED: return "SYNCED";
    case AC_STOPPED: return "STOPPED";
    }
    return "?";
}

static void
set_state(struct agent_conn *c, enum ac_state s)
{
    if (c->state != s) {
        VLOG_DBG("%s -> %s", state_name(c->state), state_name(s));
        c->state = s;
    }
}

void
agent_ack_add_error(Nvo__Ack *ack, uint32_t vni, const char *item, int error,
                    const char *message)
{
    Nvo__ItemError *e = xmalloc(sizeof *e);
    nvo__item_error__init(e);
    e->vni = vni;
    e->item = xstrdup(item);
    e->error = error;
    e->message = xstrdup(message);
    ack->errors = xrealloc(ack->errors, (ack->n_errors + 1)
                                        * sizeof *ack->errors);
    ack->errors[ack->n_errors++] = e;
}

/* ---- socket ------------------------------------------------------------- */

static void
sock_released(void *aux)
{
    struct ac_sock *s = aux;
    nvo_frame_reader_destroy(&s->reader);
    free(s);
}

static void
sock_close(struct ac_sock *s)
{
    if (s && !s->dead) {
        s->dead = true;
        nvo_channel_close(s->ch, false);
    }
}

/* Sends 'msg' (then frees it). */
static void
send_msg(struct agent_conn *c, Nvo__Message *msg)
{
    size_t len;
    int error;
    uint8_t *frame = nvo_msg_encode(msg, &len, &error);
    nvo_msg_free(msg);
    if (!frame || !c->sock || c->sock->dead) {
        free(frame);
        return;
    }
    error = nvo_channel_send(c->sock->ch, frame, len);
    if (error) {
        ac_disconnect(c, uv_strerror(error));
        return;
    }
    c->last_tx_ms = uv_now(c->loop);
}

static Nvo__Message *
new_msg(Nvo__Message__BodyCase body_case, void *body)
{
    Nvo__Message *m = xmalloc(sizeof *m);
    nvo__message__init(m);
    m->body_case = body_case;
    m->hello = body;            /* Union: any member. */
    return m;
}

static void
send_hello(struct agent_conn *c)
{
    Nvo__Hello *h = xmalloc(sizeof *h);
    nvo__hello__init(h);
    h->protocol_version = NVO_PROTO_VERSION;
    h->name = xstrdup(c->name);
    h->tunnel_ip = xstrdup(c->tunnel_ip);
    h->dataplane = c->cfg.dataplane;
    h->role = c->cfg.role;
    h->software_version = xstrdup(NVO_VERSION);
    h->last_revision = c->view->valid ? c->view->revision : 0;
    h->reports_state = c->ops->report != NULL;
    send_msg(c, new_msg(NVO__MESSAGE__BODY_HELLO, h));
}

static void
send_heartbeat(struct agent_conn *c)
{
    Nvo__Heartbeat *hb = xmalloc(sizeof *hb);
    nvo__heartbeat__init(hb);
    hb->seq = c->view->seq;
    /* Counters only once in sync: until then the controller ignores them
     * and allows only small frames. */
    if (c->ops->counters && c->state == AC_SYNCED) {
        c->ops->counters(c->aux, hb);
    }
    send_msg(c, new_msg(NVO__MESSAGE__BODY_HEARTBEAT, hb));
}

/* Applies the view to the dataplane and acks its seq. */
static void
apply_and_ack(struct agent_conn *c)
{
    Nvo__Ack *ack = xmalloc(sizeof *ack);
    nvo__ack__init(ack);
    ack->seq = c->view->seq;
    c->ops->apply(c->aux, c->view, ack);
    VLOG_DBG("acking seq %"PRIu64" (revision %"PRId64", %zu errors)",
             ack->seq, c->view->revision, ack->n_errors);
    send_msg(c, new_msg(NVO__MESSAGE__BODY_ACK, ack));
}

void
agent_conn_reapply(struct agent_conn *c)
{
    if (c && c->state == AC_SYNCED) {
        apply_and_ack(c);
    }
}

/* Index in c->targets of the controller whose agent address is 'redirect'
 * ("IP:PORT"), or -1. */
static int
target_find(const struct agent_conn *c, const char *redirect)
{
    struct sockaddr_storage ss;
    if (!redirect[0] || nvo_sockaddr_parse(redirect, NULL, &ss)) {
        return -1;
    }
    for (size_t i = 0; i < c->n_targets; i++) {
        const struct sockaddr_storage *t = &c->targets[i].addr;
        if (t->ss_family != ss.ss_family) {
            continue;
        }
        if (ss.ss_family == AF_INET) {
            const struct sockaddr_in *a = (const void *) t, *b = (void *) &ss;
            if (a->sin_port == b->sin_port
                && a->sin_addr.s_addr == b->sin_addr.s_addr) {
                return i;
            }
        } else if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const void *) t, *b = (void *) &ss;
            if (a->sin6_port == b->sin6_port
                && !memcmp(&a->sin6_addr, &b->sin6_addr,
                           sizeof a->sin6_addr)) {
                return i;
            }
        }
    }
    return -1;
}

/* NOT_OWNER: reconnects to the owner it names if that is one of our
 * controllers (a controller cannot send us anywhere else), else to the
 * next one of the list. */
static void
follow_redirect(struct agent_conn *c, const Nvo__Error *e)
{
    int i = target_find(c, e->redirect);
    if (i >= 0) {
        VLOG_INFO_RL(&rl, "controller %s: %s; going to %s", c->controller,
                     e->message, c->targets[i].name);
    } else {
        VLOG_INFO_RL(&rl, "controller %s: %s%s%s%s; trying the next "
                     "controller", c->controller, e->message,
                     e->redirect[0] ? " (" : "", e->redirect,
                     e->redirect[0] ? " is not in --controller)" : "");
    }
    c->redirect_to = i;
    ac_disconnect(c, "redirected");
}

/* True if 'msg' is within what the controller accepts from an agent
 * (frame size and field budget, lib/proto-msg.h): a report beyond them
 * would make it drop the connection. */
static bool
within_limits(const Nvo__Message *msg)
{
    size_t len;
    int error;
    uint8_t *frame = nvo_msg_encode(msg, &len, &error);
    char *why = NULL;
    bool ok = frame && !nvo_msg_precheck(frame + NVO_FRAME_HDR_LEN,
                                         len - NVO_FRAME_HDR_LEN,
                                         &nvo_msg_from_agent, &why);
    free(why);
    free(frame);
    return ok;
}

/* Answers StateRequest 'id': what the dataplane holds, or why not (a
 * report larger than the controller accepts is replaced by an error). */
static void
send_report(struct agent_conn *c, uint64_t id)
{
    Nvo__StateReport *rep = xmalloc(sizeof *rep);
    nvo__state_report__init(rep);
    rep->id = id;
    if (c->ops->report) {
        c->ops->report(c->aux, rep);
    } else {
        rep->error = -EOPNOTSUPP;
    }
    Nvo__Message *msg = new_msg(NVO__MESSAGE__BODY_STATE_REPORT, rep);
    if (!within_limits(msg)) {
        VLOG_WARN_RL(&rl, "state report of %zu networks too large to send",
                     rep->n_networks);
        nvo_msg_free(msg);
        rep = xmalloc(sizeof *rep);
        nvo__state_report__init(rep);
        rep->id = id;
        rep->error = -EMSGSIZE;
        rep->message = xstrdup("state too large for one report");
        msg = new_msg(NVO__MESSAGE__BODY_STATE_REPORT, rep);
    }
    send_msg(c, msg);
}

/* Handles one message.  Returns true if the view changed. */
static bool
handle_msg(struct agent_conn *c, Nvo__Message *msg)
{
    switch (msg->body_case) {
    case NVO__MESSAGE__BODY_SNAPSHOT:
        if (c->state != AC_HELLO_SENT && c->state != AC_WAITING
            && c->state != AC_SYNCED) {
            ac_disconnect(c, "unexpected snapshot");
            return false;
        }
        VLOG_INFO("snapshot seq %"PRIu64": revision %"PRId64", %zu networks",
                  msg->snapshot->seq, msg->snapshot->revision,
                  msg->snapshot->n_networks);
        agent_view_apply_snapshot(c->view, msg->snapshot);
        if (c->state != AC_SYNCED) {
            c->n_redirects = 0;
            c->synced_ms = uv_now(c->loop);
        }
        set_state(c, AC_SYNCED);
        return true;
    case NVO__MESSAGE__BODY_DELTA:
        if (c->state != AC_SYNCED
            || agent_view_apply_delta(c->view, msg->delta)) {
            VLOG_WARN_RL(&rl, "delta seq %"PRIu64" on %"PRIu64" out of order; "
                         "resyncing", msg->delta->seq, msg->delta->base_seq);
            ac_disconnect(c, "delta out of order");
            return false;
        }
        return true;
    case NVO__MESSAGE__BODY_HEARTBEAT:
        return false;
    case NVO__MESSAGE__BODY_STATE_REQUEST:
        send_report(c, msg->state_request->id);
        return false;
    case NVO__MESSAGE__BODY_ERROR: {
        const Nvo__Error *e = msg->error;
        if (e->code == NVO__ERROR__CODE__UNKNOWN_HYPERVISOR && !e->fatal) {
            VLOG_INFO_RL(&rl, "controller: %s", e->message);
            if (c->state == AC_HELLO_SENT) {
                set_state(c, AC_WAITING);
            }
            return false;
        }
        if (e->code == NVO__ERROR__CODE__NOT_OWNER) {
            follow_redirect(c, e);
            return false;
        }
        VLOG_WARN_RL(&rl, "controller %s error %d: %s (controller protocol "
                     "version %"PRIu32")", e->fatal ? "fatal" : "non-fatal",
                     e->code, e->message, e->protocol_version);
        if (e->fatal) {
            ac_disconnect(c, "refused by the controller");
        }
        return false;
    }
    case NVO__MESSAGE__BODY_HELLO:
    case NVO__MESSAGE__BODY_ACK:
    case NVO__MESSAGE__BODY__NOT_SET:
    default:
        VLOG_WARN_RL(&rl, "unexpected %s from controller",
                     nvo_msg_type_name(msg));
        ac_disconnect(c, "protocol error");
        return false;
    }
}

static void
sock_recv(void *aux, const uint8_t *data, size_t n)
{
    struct ac_sock *s = aux;
    if (s->dead) {
        return;
    }
    struct agent_conn *c = s->conn;
    c->last_rx_ms = uv_now(c->loop);
    reconnect_activity(c->fsm, c->last_rx_ms);
    bool changed = false;
    int error = nvo_frame_reader_feed(&s->reader, data, n);
    while (!error && !s->dead) {
        const uint8_t *payload;
        size_t len;
        int k = nvo_frame_reader_next(&s->reader, &payload, &len);
        if (k <= 0) {
            error = k;
            break;
        }
        char *errmsg = NULL;
        Nvo__Message *msg = nvo_msg_decode_limited(
            payload, len, &nvo_msg_from_controller, &errmsg);
        if (!msg) {
            VLOG_WARN_RL(&rl, "bad message from controller: %s", errmsg);
            free(errmsg);
            ac_disconnect(c, "bad message");
            return;
        }
        changed |= handle_msg(c, msg);
        nvo_msg_free(msg);
    }
    if (error && !s->dead) {
        ac_disconnect(c, "oversized frame");
        return;
    }
    /* All complete frames of this read are applied at once, so a burst of
     * deltas costs one dataplane reconciliation and one ack. */
    if (changed && !s->dead && c->state == AC_SYNCED) {
        apply_and_ack(c);
    }
}

static void
sock_failed(void *aux, int error OVS_UNUSED, const char *reason)
{
    struct ac_sock *s = aux;
    if (s->dead) {
        return;
    }
    struct agent_conn *c = s->conn;
    if (c->state == AC_CONNECTING) {
        ac_disconnect(c, reason);
    } else if (nvo_frame_reader_pending(&s->reader)) {
        ac_disconnect(c, "connection closed inside a frame");
    } else {
        char *why = xasprintf("connection to the controller lost: %s",
                              reason);
        ac_disconnect(c, why);
        free(why);
    }
}

static void
sock_connected(void *aux)
{
    struct ac_sock *s = aux;
    if (s->dead) {
        return;
    }
    struct agent_conn *c = s->conn;
    char cert[256];
    VLOG_INFO("connected to controller %s%s%s%s", c->controller,
              c->tls ? " (TLS, verified controller certificate " : "",
              nvo_channel_peer_cert(s->ch, cert, sizeof cert),
              c->tls ? ")" : "");
    c->last_rx_ms = c->last_tx_ms = uv_now(c->loop);
    reconnect_connected(c->fsm, c->last_rx_ms);
    c->view->seq = 0;           /* Deltas need this session's snapshot. */
    set_state(c, AC_HELLO_SENT);
    send_hello(c);
}

static const struct nvo_channel_ops sock_ops = {
    .connected = sock_connected,
    .recv = sock_recv,
    .failed = sock_failed,
    .released = sock_released,
};

static void
ac_connect(struct agent_conn *c)
{
    struct ac_sock *s = xzalloc(sizeof *s);
    s->conn = c;
    nvo_frame_reader_init(&s->reader, NVO_FRAME_MAX);
    set_state(c, AC_CONNECTING);
    c->connect_ms = uv_now(c->loop);
    reconnect_connecting(c->fsm, c->connect_ms);
    int error;
    c->controller = c->targets[c->cur].name;
    s->ch = nvo_channel_connect(c->loop,
                                (struct sockaddr *) &c->targets[c->cur].addr,
                                c->tls, &sock_ops, s, &error);
    if (!s->ch) {
        nvo_frame_reader_destroy(&s->reader);
        free(s);
        ac_disconnect(c, uv_strerror(error));
        return;
    }
    c->sock = s;
}

static void
retry_cb(uv_timer_t *t)
{
    struct agent_conn *c = t->data;
    if (c->state == AC_BACKOFF) {
        ac_connect(c);
    }
}

/* Makes the next try of every controller of the list free of backoff.
 * Called while connected or connecting: the disconnection that follows
 * consumes one free try itself. */
static void
ac_free_round(struct agent_conn *c)
{
    reconnect_set_backoff_free_tries(c->fsm, c->n_targets + 1);
}

static void
ac_disconnect(struct agent_conn *c, const char *reason)
{
    if (c->state == AC_STOPPED || c->state == AC_BACKOFF) {
        return;
    }
    sock_close(c->sock);
    c->sock = NULL;
    int redirect_to = c->redirect_to;
    c->redirect_to = -2;
    const char *from = c->controller;
    c->cur = (redirect_to >= 0 ? redirect_to
              : (c->cur + 1) % c->n_targets);
    long long int now = uv_now(c->loop);
    if (redirect_to != -2) {
        if (c->n_redirects++ < AC_REDIRECT_ROUNDS * (c->n_targets + 1)) {
            ac_free_round(c);
        } else {
            /* Looping: no free try left. */
            reconnect_set_backoff_free_tries(c->fsm, 0);
        }
    } else if (c->state == AC_SYNCED
               && now - c->synced_ms >= reconnect_get_min_backoff(c->fsm)) {
        ac_free_round(c);
    }
    if (c->state == AC_CONNECTING) {
        reconnect_connect_failed(c->fsm, now, 0);
    } else {
        reconnect_disconnected(c->fsm, now, 0);
    }
    uint64_t delay = MAX(0, reconnect_timeout(c->fsm, now));
    delay = (delay ? delay / 2 + random() % (delay / 2 + 1)
             : random() % (AC_FREE_TRY_MS + 1));
    VLOG_WARN_RL(&rl, "controller %s: %s; %s in %"PRIu64" ms "
                 "(dataplane left as it is)", from, reason,
                 c->n_targets > 1 ? "trying the next" : "retrying", delay);
    if (c->n_targets > 1) {
        VLOG_INFO_RL(&rl, "next controller: %s", c->targets[c->cur].name);
    }
    set_state(c, AC_BACKOFF);
    uv_timer_start(&c->retry, retry_cb, delay, 0);
}

static void
tick_cb(uv_timer_t *t)
{
    struct agent_conn *c = t->data;
    uint64_t now = uv_now(c->loop);
    if (c->state == AC_STOPPED) {
        return;
    }
    if (c->tls && nvo_tls_ctx_refresh(c->tls) && c->state != AC_BACKOFF) {
        /* Rotated: prove the new certificate now, not at the next
         * disconnection (a free round).  The dataplane is left as it is
         * meanwhile. */
        ac_free_round(c);
        ac_disconnect(c, "PKI files changed; reconnecting with them");
        return;
    }
    if (c->state == AC_CONNECTING
        && now - c->connect_ms >= c->cfg.hb_timeout_ms) {
        ac_disconnect(c, c->tls ? "no TLS handshake within the heartbeat "
                      "timeout" : "connect timed out");
        return;
    }
    if (c->state < AC_HELLO_SENT) {
        return;
    }
    if (now - c->last_rx_ms >= c->cfg.hb_timeout_ms) {
        ac_disconnect(c, "controller silent (heartbeat timeout)");
        return;
    }
    if (now - c->last_tx_ms >= c->cfg.hb_interval_ms) {
        send_heartbeat(c);
    }
}

/* Parses 'list' (agent_conn_cfg's 'controller') into '*targetsp' (caller
 * frees each name and the array).  Returns 0 or -EINVAL with '*errmsg'. */
static int
parse_targets(const char *list, struct ac_target **targetsp, size_t *np,
              bool *sslp, char **errmsg)
{
    struct ac_target *t = NULL;
    size_t n = 0;
    bool ssl = !strncmp(list, "ssl:", 4);
    char *copy = xstrdup(list), *save = NULL;
    int error = 0;
    *errmsg = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        struct sockaddr_storage ss;
        if (strncmp(tok, ssl ? "ssl:" : "tcp:", 4)) {
            *errmsg = xasprintf("%s: every controller must be %s", tok,
                                ssl ? "ssl:IP:PORT" : "tcp:IP:PORT");
        } else if (nvo_sockaddr_parse(tok + 4, NULL, &ss)) {
            *errmsg = xasprintf("%s: bad address", tok);
        } else if (n >= 64) {
            *errmsg = xstrdup("more than 64 controllers");
        }
        if (*errmsg) {
            error = -EINVAL;
            break;
        }
        t = xrealloc(t, (n + 1) * sizeof *t);
        t[n].name = xstrdup(tok);
        t[n].addr = ss;
        n++;
    }
    free(copy);
    if (!error && !n) {
        *errmsg = xstrdup("no controller given");
        error = -EINVAL;
    }
    if (error) {
        for (size_t i = 0; i < n; i++) {
            free(t[i].name);
        }
        free(t);
        return error;
    }
    *targetsp = t;
    *np = n;
    *sslp = ssl;
    return 0;
}

int
agent_conn_check_controllers(const char *list, bool *ssl, char **errmsg)
{
    struct ac_target *t;
    size_t n;
    int error = parse_targets(list, &t, &n, ssl, errmsg);
    if (!error) {
        for (size_t i = 0; i < n; i++) {
            free(t[i].name);
        }
        free(t);
    }
    return error;
}

struct agent_conn *
agent_conn_create(uv_loop_t *loop, const struct agent_conn_cfg *cfg,
                  struct agent_view *view, const struct agent_conn_ops *ops,
                  void *aux, int *errp)
{
    struct ac_target *targets;
    size_t n_targets;
    bool ssl;
    char *errmsg;
    if (parse_targets(cfg->controller, &targets, &n_targets, &ssl, &errmsg)
        || (ssl && (!cfg->pki || !nvo_pki_enabled(cfg->pki)))) {
        if (errmsg) {
            VLOG_ERR("--controller: %s", errmsg);
            free(errmsg);
        } else {
            for (size_t i = 0; i < n_targets; i++) {
                free(targets[i].name);
            }
            free(targets);
        }
        *errp = -EINVAL;
        return NULL;
    }
    struct nvo_tls_ctx *tls = NULL;
    if (ssl) {
        errmsg = NULL;
        tls = nvo_tls_ctx_create(cfg->pki, NVO_TLS_CLIENT, &errmsg);
        if (!tls) {
            VLOG_ERR("%s: %s", cfg->controller, errmsg);
            free(errmsg);
            for (size_t i = 0; i < n_targets; i++) {
                free(targets[i].name);
            }
            free(targets);
            *errp = -EINVAL;
            return NULL;
        }
    }
    struct agent_conn *c = xzalloc(sizeof *c);
    c->tls = tls;
    c->loop = loop;
    c->cfg = *cfg;
    c->list = xstrdup(cfg->controller);
    c->targets = targets;
    c->n_targets = n_targets;
    c->controller = targets[0].name;
    c->redirect_to = -2;
    c->name = xstrdup(cfg->name);
    c->tunnel_ip = xstrdup(cfg->tunnel_ip);
    c->cfg.controller = c->list;
    c->cfg.name = c->name;
    c->cfg.tunnel_ip = c->tunnel_ip;
    if (!c->cfg.hb_interval_ms) {
        c->cfg.hb_interval_ms = 3000;
    }
    if (!c->cfg.hb_timeout_ms) {
        c->cfg.hb_timeout_ms = 10000;
    }
    if (!c->cfg.backoff_max_ms) {
        c->cfg.backoff_max_ms = 30000;
    }
    /* The FSM raises a maximum below its 1 s floor to 1 s. */
    c->fsm = reconnect_create(uv_now(loop));
    reconnect_set_name(c->fsm, c->list);
    reconnect_set_quiet(c->fsm, true);      /* ac_disconnect() logs. */
    reconnect_set_backoff(c->fsm, RECONNECT_DEFAULT_MIN_BACKOFF,
                          MIN(c->cfg.backoff_max_ms, INT_MAX));
    reconnect_set_probe_interval(c->fsm, 0);    /* Heartbeats are ours. */
    reconnect_set_backoff_free_tries(c->fsm, n_targets);
    reconnect_enable(c->fsm, uv_now(loop));
    c->view = view;
    c->ops = ops;
    c->aux = aux;
    uv_timer_init(loop, &c->tick);
    uv_timer_init(loop, &c->retry);
    c->tick.data = c->retry.data = c;
    c->n_handles = 2;
    uint64_t period = MAX(MIN(c->cfg.hb_interval_ms / 3, 1000), 10);
    uv_timer_start(&c->tick, tick_cb, period, period);
    ac_connect(c);
    *errp = 0;
    return c;
}

static void
timer_closed(uv_handle_t *h)
{
    struct agent_conn *c = h->data;
    if (!--c->n_handles) {
        reconnect_destroy(c->fsm);
        for (size_t i = 0; i < c->n_targets; i++) {
            free(c->targets[i].name);
        }
        free(c->targets);
        free(c->list);
        free(c->name);
        free(c->tunnel_ip);
        nvo_tls_ctx_destroy(c->tls);
        free(c);
    }
}

void
agent_conn_destroy(struct agent_conn *c)
{
    if (!c) {
        return;
    }
    set_state(c, AC_STOPPED);
    sock_close(c->sock);
    c->sock = NULL;
    uv_close((uv_handle_t *) &c->tick, timer_closed);
    uv_close((uv_handle_t *) &c->retry, timer_closed);
}
