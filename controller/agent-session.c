/* agent-session.c - the controller side of one agent connection.
 *
 * States and transitions (enum agent_session_state):
 *
 *   HELLO_WAIT  --Hello, name registered, matches--> SYNCING (Snapshot sent)
 *   HELLO_WAIT  --Hello, name not registered-------> REGISTERING
 *                                        (non-fatal Error UNKNOWN_HYPERVISOR)
 *   HELLO_WAIT  --Hello of another protocol version-> CLOSED (VERSION_MISMATCH)
 *   HELLO_WAIT  --anything else / hello timeout----> CLOSED (PROTOCOL)
 *   REGISTERING --view set (hypervisor registered)--> SYNCING (Snapshot sent)
 *   SYNCING     --Ack of the snapshot's seq--------> ACTIVE (confirm)
 *   SYNCING, ACTIVE --view changed-----------------> same state (Delta sent)
 *   SYNCING, ACTIVE --agent_session_resync()-------> SYNCING (Snapshot sent)
 *   ACTIVE      --Ack------------------------------> ACTIVE (confirm)
 *   any         --undecodable/unexpected frame, out-of-order ack, second
 *                 Hello, heartbeat timeout, fatal Error from the agent,
 *                 agent_session_close() (replaced, removed, EOF)--> CLOSED
 *
 * Heartbeats flow both ways in every state but CLOSED; any received frame
 * counts as life.  Revisions: every Snapshot/Delta gets the next 'seq'; the
 * session remembers (seq, store revision) until acked.  An ack of seq S
 * confirms S's revision R unless a later unacked message carries the same
 * R (a view changed without a store write, e.g. service-node fail-over), in
 * which case R is confirmed by that later ack. */
#include <config.h>
#include "controller/agent-session.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "controller/agent-proto.h"
#include "controller/desired.h"
#include "lib/proto-msg.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(agent_session);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
static struct vlog_rate_limit hello_rl = VLOG_RATE_LIMIT_INIT(20, 100);

const char *
agent_session_state_name(enum agent_session_state state)
{
    switch (state) {
    case AGENT_S_HELLO_WAIT: return "HELLO_WAIT";
    case AGENT_S_REGISTERING: return "REGISTERING";
    case AGENT_S_SYNCING: return "SYNCING";
    case AGENT_S_ACTIVE: return "ACTIVE";
    case AGENT_S_CLOSED: return "CLOSED";
    }
    return "?";
}

void
agent_session_init(struct agent_session *s,
                   const struct agent_session_ops *ops, void *aux,
                   const struct agent_session_cfg *cfg, const char *peer,
                   uint64_t now_ms)
{
    memset(s, 0, sizeof *s);
    s->state = AGENT_S_HELLO_WAIT;
    s->failed_revision = -1;
    s->ops = ops;
    s->aux = aux;
    if (cfg) {
        s->cfg = *cfg;
    }
    if (!s->cfg.hb_interval_ms) {
        s->cfg.hb_interval_ms = AGENT_HB_INTERVAL_MS;
    }
    if (!s->cfg.hb_timeout_ms) {
        s->cfg.hb_timeout_ms = AGENT_HB_TIMEOUT_MS;
    }
    if (!s->cfg.hello_timeout_ms) {
        s->cfg.hello_timeout_ms = s->cfg.hb_timeout_ms;
    }
    s->peer = xstrdup(peer);
    s->created_ms = s->last_rx_ms = s->last_tx_ms = now_ms;
}

void
agent_session_destroy(struct agent_session *s)
{
    if (!s) {
        return;
    }
    free(s->peer);
    free(s->name);
    free(s->tunnel_ip);
    free(s->software_version);
    nvo_hv_view_destroy(s->sent);
    free(s->inflight);
    nvo_msg_free(s->last_heartbeat);
    memset(s, 0, sizeof *s);
    s->state = AGENT_S_CLOSED;
}

bool
agent_session_is_attached(const struct agent_session *s)
{
    return s->state == AGENT_S_SYNCING || s->state == AGENT_S_ACTIVE;
}

/* Encodes and sends 'msg', then frees it. */
static void
send_msg(struct agent_session *s, Nvo__Message *msg)
{
    size_t len;
    int error;
    uint8_t *frame = nvo_msg_encode(msg, &len, &error);
    if (!frame) {
        /* Only a view larger than NVO_FRAME_MAX: nothing can fix it by
         * retrying, so say so loudly and drop the agent. */
        VLOG_ERR_RL(&rl, "%s: %s message too large to send",
                    s->peer, nvo_msg_type_name(msg));
        nvo_msg_free(msg);
        agent_session_close(s, NVO__ERROR__CODE__PROTOCOL,
                            "desired state exceeds the maximum frame size");
        return;
    }
    nvo_msg_free(msg);
    s->ops->send(s->aux, frame, len);
}

/* Sends a fatal Error 'code' (none for UNSPECIFIED) with 'redirect' (may
 * be NULL) and closes. */
static void
session_close(struct agent_session *s, Nvo__Error__Code code,
              const char *reason, const char *redirect)
{
    if (s->state == AGENT_S_CLOSED) {
        return;
    }
    if (code != NVO__ERROR__CODE__UNSPECIFIED) {
        Nvo__Message *m = agent_proto_error(code, true, reason);
        if (redirect) {
            m->error->redirect = xstrdup(redirect);
        }
        size_t len;
        int error;
        uint8_t *frame = nvo_msg_encode(m, &len, &error);
        nvo_msg_free(m);
        if (frame) {
            s->ops->send(s->aux, frame, len);
        }
    }
    s->state = AGENT_S_CLOSED;
    s->ops->closed(s->aux, reason);
}

void
agent_session_close(struct agent_session *s, Nvo__Error__Code code,
                    const char *reason)
{
    session_close(s, code, reason, NULL);
}

void
agent_session_redirect(struct agent_session *s, const char *redirect,
                       const char *reason)
{
    VLOG_INFO_RL(&rl, "%s: agent %s: %s", s->peer, s->name ? s->name : "?",
                 reason);
    session_close(s, NVO__ERROR__CODE__NOT_OWNER, reason, redirect);
}

static void
push_inflight(struct agent_session *s, uint64_t seq, int64_t revision)
{
    if (s->n_inflight >= s->allocated_inflight) {
        s->inflight = x2nrealloc(s->inflight, &s->allocated_inflight,
                                 sizeof *s->inflight);
    }
    s->inflight[s->n_inflight].seq = seq;
    s->inflight[s->n_inflight].revision = revision;
    s->n_inflight++;
}

static void
send_snapshot(struct agent_session *s, const struct nvo_hv_view *view)
{
    nvo_hv_view_destroy(s->sent);
    s->sent = nvo_hv_view_clone(view);
    s->seq++;
    s->sync_seq = s->seq;
    push_inflight(s, s->seq, view->revision);
    s->state = AGENT_S_SYNCING;
    VLOG_INFO_RL(&hello_rl, "%s: agent %s: sending snapshot seq %"PRIu64
                 " (revision %"PRId64", %zu networks)", s->peer, s->name,
                 s->seq, view->revision, view->n_nets);
    send_msg(s, agent_proto_snapshot(view, s->seq));
}

static Nvo__Role
role_to_proto(enum nvo_role role)
{
    return (role == NVO_ROLE_SERVICE_NODE ? NVO__ROLE__ROLE_SERVICE_NODE
            : NVO__ROLE__ROLE_HYPERVISOR);
}

void
agent_session_attach(struct agent_session *s, const struct nvo_hv_view *view)
{
    if (s->state != AGENT_S_HELLO_WAIT && s->state != AGENT_S_REGISTERING) {
        return;
    }
    char *why = NULL;
    if (s->dataplane != NVO__DATAPLANE__DATAPLANE_KERNEL) {
        why = xasprintf("hypervisor %s is registered with dataplane kernel "
                        "but the agent runs dataplane ovs", view->name);
    } else if (s->role != role_to_proto(view->role)) {
        why = xasprintf("hypervisor %s is registered with role %s but the "
                        "agent runs role %s", view->name,
                        nvo_role_to_string(view->role),
                        (s->role == NVO__ROLE__ROLE_SERVICE_NODE
                         ? "service-node" : "hypervisor"));
    } else if (strcmp(s->tunnel_ip, view->tunnel_ip)) {
        why = xasprintf("hypervisor %s is registered with tunnel IP %s but "
                        "the agent uses %s", view->name, view->tunnel_ip,
                        s->tunnel_ip);
    }
    if (why) {
        VLOG_WARN_RL(&rl, "%s: refusing agent: %s", s->peer, why);
        agent_session_close(s, NVO__ERROR__CODE__WRONG_DATAPLANE, why);
        free(why);
        return;
    }
    send_snapshot(s, view);
}

void
agent_session_wait(struct agent_session *s, const char *why)
{
    if (s->state != AGENT_S_HELLO_WAIT) {
        return;
    }
    s->state = AGENT_S_REGISTERING;
    VLOG_INFO_RL(&rl, "%s: agent %s waits: %s", s->peer, s->name, why);
    send_msg(s, agent_proto_error(NVO__ERROR__CODE__UNKNOWN_HYPERVISOR,
                                  false, why));
}

void
agent_session_set_view(struct agent_session *s,
                       const struct nvo_hv_view *view)
{
    if (s->state == AGENT_S_REGISTERING) {
        agent_session_attach(s, view);
        return;
    }
    if (!agent_session_is_attached(s)) {
        return;
    }
    if (strcmp(s->sent->tunnel_ip, view->tunnel_ip)
        || s->sent->role != view->role) {
        agent_session_close(s, NVO__ERROR__CODE__WRONG_DATAPLANE,
                            "registration changed; say hello again");
        return;
    }
    struct agent_delta d;
    agent_delta_compute(s->sent, view, &d);
    s->seq++;
    push_inflight(s, s->seq, view->revision);
    VLOG_DBG("%s: agent %s: delta seq %"PRIu64" (revision %"PRId64"): %zu "
             "changed, %zu removed", s->peer, s->name, s->seq,
             view->revision, d.n_changed, d.n_removed);
    Nvo__Message *m = agent_proto_delta(&d, view, s->seq);
    agent_delta_destroy(&d);
    nvo_hv_view_destroy(s->sent);
    s->sent = nvo_hv_view_clone(view);
    send_msg(s, m);
}

static void
protocol_error(struct agent_session *s, const char *format, ...)
    OVS_PRINTF_FORMAT(2, 3);

static void
protocol_error(struct agent_session *s, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *msg = xvasprintf(format, args);
    va_end(args);
    VLOG_WARN_RL(&rl, "%s: %s%s%s; disconnecting", s->peer,
                 s->name ? s->name : "", s->name ? ": " : "", msg);
    agent_session_close(s, NVO__ERROR__CODE__PROTOCOL, msg);
    free(msg);
}

static void
handle_hello(struct agent_session *s, const Nvo__Hello *h)
{
    if (h->protocol_version != NVO_PROTO_VERSION) {
        char *why = xasprintf("protocol version %"PRIu32" is not supported "
                              "(controller speaks version %d); upgrade the "
                              "agent", h->protocol_version,
                              NVO_PROTO_VERSION);
        VLOG_WARN_RL(&rl, "%s: refusing agent %s: %s", s->peer, h->name,
                     why);
        agent_session_close(s, NVO__ERROR__CODE__VERSION_MISMATCH, why);
        free(why);
        return;
    }
    s->name = xstrdup(h->name);
    s->tunnel_ip = xstrdup(h->tunnel_ip);
    s->software_version = xstrdup(h->software_version);
    s->dataplane = h->dataplane;
    s->role = h->role;
    s->hello_revision = h->last_revision;
    s->reports_state = h->reports_state;
    VLOG_INFO_RL(&hello_rl, "%s: hello from agent %s (nvo-agent %s, tunnel "
                 "IP %s, last revision %"PRId64")", s->peer, s->name,
                 s->software_version, s->tunnel_ip, s->hello_revision);
    s->ops->hello(s->aux, h);
    if (s->state == AGENT_S_HELLO_WAIT) {
        agent_session_wait(s, "hypervisor not registered");
    }
}

static void
handle_ack(struct agent_session *s, const Nvo__Ack *ack)
{
    if (ack->seq > s->seq || ack->seq < s->acked) {
        protocol_error(s, "ack of seq %"PRIu64" out of order (sent %"PRIu64
                       ", acked %"PRIu64")", ack->seq, s->seq, s->acked);
        return;
    }
    char first[sizeof s->last_error] = "";
    for (size_t i = 0; i < ack->n_errors; i++) {
        const Nvo__ItemError *e = ack->errors[i];
        s->n_ack_errors++;
        snprintf(s->last_error, sizeof s->last_error, "VNI %"PRIu32" %s: %s",
                 e->vni, e->item, e->message);
        if (!i) {
            memcpy(first, s->last_error, sizeof first);
        }
        VLOG_WARN_RL(&rl, "%s: agent %s: seq %"PRIu64": VNI %"PRIu32" %s: "
                     "%s", s->peer, s->name, ack->seq, e->vni, e->item,
                     e->message);
    }
    if (ack->seq == s->acked) {
        /* The agent re-applied the same view (it retries after errors):
         * clean now, the view it failed to apply is confirmed. */
        if (s->apply_failed && !ack->n_errors) {
            s->apply_failed = false;
            VLOG_INFO("%s: agent %s applied seq %"PRIu64" cleanly on retry",
                      s->peer, s->name, ack->seq);
            if (s->failed_revision >= 0) {
                s->ops->confirm(s->aux, s->failed_revision);
            }
        }
        return;
    }
    s->acked = ack->seq;
    /* Drop acked in-flight entries, remembering the acked one's revision. */
    int64_t revision = -1;
    size_t k = 0;
    while (k < s->n_inflight && s->inflight[k].seq <= ack->seq) {
        revision = s->inflight[k].revision;
        k++;
    }
    if (k) {
        memmove(s->inflight, s->inflight + k,
                (s->n_inflight - k) * sizeof *s->inflight);
        s->n_inflight -= k;
    }
    if (s->state == AGENT_S_SYNCING && s->acked >= s->sync_seq) {
        s->state = AGENT_S_ACTIVE;
        VLOG_INFO_RL(&hello_rl, "%s: agent %s in sync at seq %"PRIu64,
                     s->peer, s->name, s->acked);
    }
    /* Confirmed means applied: a view the agent acked with errors is not
     * confirmed (the waiters hear why) until a clean ack. */
    s->apply_failed = ack->n_errors > 0;
    s->failed_revision = s->apply_failed ? revision : -1;
    for (size_t i = 0; i < s->n_inflight; i++) {
        if (s->inflight[i].revision == revision) {
            return;             /* A later message completes 'revision'. */
        }
    }
    if (revision < 0) {
        return;
    }
    if (s->apply_failed) {
        if (s->ops->failed) {
            s->ops->failed(s->aux, revision, first);
        }
    } else {
        s->ops->confirm(s->aux, revision);
    }
}

void
agent_session_receive(struct agent_session *s, const uint8_t *payload,
                      size_t len, uint64_t now_ms)
{
    if (s->state == AGENT_S_CLOSED) {
        return;
    }
    char *errmsg = NULL;
    Nvo__Message *msg = nvo_msg_decode_limited(payload, len,
                                               &nvo_msg_from_agent, &errmsg);
    if (!msg) {
        s->n_bad_messages++;
        protocol_error(s, "%s", errmsg);
        free(errmsg);
        return;
    }
    s->last_rx_ms = now_ms;
    if (s->state == AGENT_S_HELLO_WAIT
        && msg->body_case != NVO__MESSAGE__BODY_HELLO) {
        protocol_error(s, "expected hello, got %s", nvo_msg_type_name(msg));
        nvo_msg_free(msg);
        return;
    }
    switch (msg->body_case) {
    case NVO__MESSAGE__BODY_HELLO:
        if (s->state != AGENT_S_HELLO_WAIT) {
            protocol_error(s, "second hello");
        } else {
            handle_hello(s, msg->hello);
        }
        break;
    case NVO__MESSAGE__BODY_ACK:
        if (!agent_session_is_attached(s)) {
            protocol_error(s, "ack before snapshot");
        } else {
            handle_ack(s, msg->ack);
        }
        break;
    case NVO__MESSAGE__BODY_HEARTBEAT:
        nvo_msg_free(s->last_heartbeat);
        s->last_heartbeat = msg;
        msg = NULL;
        break;
    case NVO__MESSAGE__BODY_STATE_REPORT:
        if (!agent_session_is_attached(s)) {
            protocol_error(s, "state report before snapshot");
        } else if (s->ops->report) {
            s->ops->report(s->aux, msg->state_report);
        }
        break;
    case NVO__MESSAGE__BODY_ERROR:
        VLOG_WARN_RL(&rl, "%s: agent %s reports error %d: %s", s->peer,
                     s->name ? s->name : "?", msg->error->code,
                     msg->error->message);
        if (msg->error->fatal) {
            agent_session_close(s, NVO__ERROR__CODE__UNSPECIFIED,
                                "agent reported a fatal error");
        }
        break;
    case NVO__MESSAGE__BODY_SNAPSHOT:
    case NVO__MESSAGE__BODY_DELTA:
    case NVO__MESSAGE__BODY_STATE_REQUEST:
    case NVO__MESSAGE__BODY__NOT_SET:
    default:
        protocol_error(s, "unexpected %s from agent", nvo_msg_type_name(msg));
        break;
    }
    nvo_msg_free(msg);
}

int
agent_session_request_state(struct agent_session *s, uint64_t id)
{
    if (!agent_session_is_attached(s)) {
        return -ENOTCONN;
    } else if (!s->reports_state) {
        return -EOPNOTSUPP;
    }
    send_msg(s, agent_proto_state_request(id));
    return 0;
}

void
agent_session_resync(struct agent_session *s)
{
    if (agent_session_is_attached(s)) {
        struct nvo_hv_view *view = nvo_hv_view_clone(s->sent);
        VLOG_INFO("%s: agent %s: resync requested", s->peer, s->name);
        send_snapshot(s, view);
        nvo_hv_view_destroy(view);
    }
}

void
agent_session_tick(struct agent_session *s, uint64_t now_ms)
{
    if (s->state == AGENT_S_CLOSED) {
        return;
    }
    if (s->state == AGENT_S_HELLO_WAIT
        && now_ms - s->created_ms >= s->cfg.hello_timeout_ms) {
        VLOG_WARN_RL(&rl, "%s: no hello within %"PRIu64" ms; disconnecting",
                     s->peer, s->cfg.hello_timeout_ms);
        agent_session_close(s, NVO__ERROR__CODE__PROTOCOL, "no hello");
        return;
    }
    if (now_ms - s->last_rx_ms >= s->cfg.hb_timeout_ms) {
        VLOG_WARN_RL(&rl, "%s: agent %s silent for %"PRIu64" ms; "
                     "disconnecting", s->peer, s->name ? s->name : "?",
                     now_ms - s->last_rx_ms);
        agent_session_close(s, NVO__ERROR__CODE__UNSPECIFIED,
                            "heartbeat timeout");
        return;
    }
    if (s->state != AGENT_S_HELLO_WAIT
        && now_ms - s->last_tx_ms >= s->cfg.hb_interval_ms) {
        s->last_tx_ms = now_ms;
        send_msg(s, agent_proto_heartbeat(s->seq));
    }
}
