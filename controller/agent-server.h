/* agent-server.h - the controller's side of the controller <-> nvo-agent
 * protocol (proto/nvo.proto) on the libuv main thread.
 *
 * Agents connect to --agents, say hello with their hypervisor name, get a
 * snapshot of their view, then deltas; their acks confirm revisions. */
#ifndef NVO_AGENT_SERVER_H
#define NVO_AGENT_SERVER_H 1

#include <stdint.h>
#include <uv.h>

#include "proto/nvo.pb-c.h"

#include "controller/southbound.h"

struct nvo_hv_view;
struct agent_server;

/* Listens on 'addr' ("IP:PORT" or "PORT").  Returns NULL and sets '*errp'
 * (negative errno) on failure.  Caller owns the result. */
struct agent_server *agent_server_create(uv_loop_t *loop, const char *addr,
                                         nvo_sb_confirm_cb *confirm,
                                         nvo_sb_liveness_cb *liveness,
                                         void *aux, int *errp);

/* Makes the agent port TLS only, with the PKI 'pki' (borrowed; must be
 * enabled): agents must present a certificate signed by its CA whose CN
 * (or a DNS subjectAltName) names the hypervisor their hello claims.  The
 * files are re-read when they change.  Call before the loop runs.
 * Returns 0, or -EINVAL with '*errmsg' (caller frees). */
struct nvo_pki;
int agent_server_set_tls(struct agent_server *, const struct nvo_pki *pki,
                         char **errmsg);

/* Sets the desired state of kernel hypervisor / service node view->hv_id;
 * an agent that says hello with view->name gets it.  Takes ownership. */
void agent_server_set(struct agent_server *, struct nvo_hv_view *view);

/* Forgets hypervisor 'hv_id'; its agent, if connected, is told and dropped. */
void agent_server_remove(struct agent_server *, int64_t hv_id);

/* Fills '*st' for 'hv_id'. */
void agent_server_status(struct agent_server *, int64_t hv_id,
                         struct nvo_sb_status *st);

/* Has 'failed' (with the server's 'aux') called when an agent acks a view
 * with item errors: that revision is then not confirmed until a clean ack
 * (the agent retries).  Without it such acks are only logged. */
void agent_server_set_failed_cb(struct agent_server *, nvo_sb_failed_cb *);

/* Cluster mode: returns the agent address ("IP:PORT", caller frees) of the
 * controller that owns hypervisor 'name' when that is another controller,
 * else NULL.  Called with the server's 'aux'. */
typedef char *agent_server_redirect_cb(void *aux, const char *name);

/* Cluster mode: an agent whose hypervisor another controller owns is sent
 * there (Error NOT_OWNER with the owner's address); one whose hypervisor
 * has no owner reachable yet waits, as for a registration, and
 * agent_server_recheck() sends it on once there is one. */
void agent_server_set_redirect_cb(struct agent_server *,
                                  agent_server_redirect_cb *);

/* Cluster mode: redirects every waiting agent whose hypervisor now has an
 * owner elsewhere (call after ownership changed). */
void agent_server_recheck(struct agent_server *);

/* Sets the heartbeat interval and the silence after which an agent is
 * dropped (defaults 3000 / 10000 ms). */
void agent_server_set_timers(struct agent_server *, uint64_t interval_ms,
                             uint64_t timeout_ms);

/* Sets '*packets' to the port-security drops of VM port 'port_id' in the
 * latest heartbeat of the agent that reported it, and returns true; false
 * if no connected agent reports that port. */
bool agent_server_port_drops(struct agent_server *, int64_t port_id,
                             uint64_t *packets);

/* Service-node counters from the latest heartbeat of each connected agent:
 * calls 'cb' once per (hypervisor, VNI) with the message's counters
 * (borrowed, valid during the call). */
struct Nvo__VniCounters;
typedef void agent_server_counters_cb(int64_t hv_id,
                                      const struct Nvo__VniCounters *,
                                      void *aux);
void agent_server_foreach_counters(struct agent_server *,
                                   agent_server_counters_cb *, void *aux);

/* The answer to agent_server_request_state(), exactly once: 'rep' (borrowed
 * for the call) with the underlay MTU of the agent's last heartbeat (-1 if
 * not known), or rep == NULL and why: 'error' -ENOTCONN (the agent went
 * away), -ETIMEDOUT (no answer in time) or -ECANCELED (server destroyed),
 * with 'why' (borrowed) in words. */
typedef void agent_server_report_cb(void *aux, const Nvo__StateReport *rep,
                                    int underlay_mtu, int error,
                                    const char *why);

/* Asks the agent of hypervisor 'hv_id' what its dataplane holds (the drift
 * audit); 'cb' answers later, never from inside this call, within about
 * 'timeout_ms'.  Returns 0, or -ENOTCONN (no agent holds a view) or
 * -EOPNOTSUPP (its agent does not report), and then 'cb' is never
 * called. */
int agent_server_request_state(struct agent_server *, int64_t hv_id,
                               uint64_t timeout_ms,
                               agent_server_report_cb *cb, void *aux);

/* Sends the agent of 'hv_id', if attached, its whole view again, which it
 * re-applies in full (audit repair). */
void agent_server_resync(struct agent_server *, int64_t hv_id);

/* What the agent port refused and why, for GET /metrics. */
struct agent_server_stats {
    uint64_t unauthenticated;   /* Connections now before an accepted hello
                                 * (TLS handshake included). */
    uint64_t refused_over_cap;  /* Closed on accept: too many of those; or
                                 * refused: too many agents waiting for
                                 * their registration. */
    uint64_t refused_handshake; /* TLS handshake or peer verification
                                 * failed. */
    uint64_t refused_certificate; /* Hello for a hypervisor the verified
                                   * certificate does not name. */
    uint64_t refused_frame;     /* Frame above the limit of its state. */
    uint64_t refused_message;   /* Message refused on the wire, undecodable
                                 * or invalid. */
    uint64_t redirected;        /* Cluster mode: agents sent to the
                                 * controller that owns their hypervisor. */
};

void agent_server_get_stats(const struct agent_server *,
                            struct agent_server_stats *);

/* Closes the listener and every session (agents keep forwarding) and frees
 * everything once libuv has closed the handles.  Accepts NULL. */
void agent_server_destroy(struct agent_server *);

/* 's' behind the southbound interface (southbound.h), which the core uses;
 * NULL if 's' is NULL.  Borrowed: destroying it destroys 's'. */
struct nvo_sb *agent_server_as_sb(struct agent_server *s);
/* The agent server behind 'sb', or NULL if 'sb' is NULL or another kind of
 * southbound (borrowed). */
struct agent_server *agent_server_from_sb(struct nvo_sb *sb);

#endif /* controller/agent-server.h */
