/* agent-conn.h - nvo-agent's connection to the controller: connects,
 * says hello, applies snapshots and deltas to an agent_view, acks them,
 * exchanges heartbeats, and reconnects with libopenvswitch's reconnect FSM
 * (exponential backoff, one backoff-free try per controller) and jitter.
 * Given a cluster's controllers, it tries them in turn and follows a
 * controller's redirect to the one that owns its hypervisor.
 * While disconnected it touches nothing: the dataplane keeps forwarding. */
#ifndef NVO_AGENT_CONN_H
#define NVO_AGENT_CONN_H 1

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "proto/nvo.pb-c.h"

struct agent_view;
struct agent_conn;
struct nvo_pki;

struct agent_conn_cfg {
    const char *controller;     /* "tcp:IP:PORT" or "ssl:IP:PORT", or a
                                 * comma-separated list of them (a
                                 * cluster's controllers), all tcp: or all
                                 * ssl:. */
    const struct nvo_pki *pki;  /* Needed for ssl: (borrowed during
                                 * agent_conn_create() only). */
    const char *name;
    const char *tunnel_ip;
    Nvo__Dataplane dataplane;
    Nvo__Role role;
    uint64_t hb_interval_ms;    /* Default 3000. */
    uint64_t hb_timeout_ms;     /* Default 10000. */
    uint64_t backoff_max_ms;    /* Default 30000; at least 1000 (the
                                 * reconnect FSM's floor). */
};

struct agent_conn_ops {
    /* The view changed (snapshot or deltas applied): make the dataplane
     * match and append per-item failures to 'ack' (allocated with malloc,
     * freed with the ack). */
    void (*apply)(void *aux, const struct agent_view *view, Nvo__Ack *ack);
    /* Fills 'hb''s counters (may do nothing). */
    void (*counters)(void *aux, Nvo__Heartbeat *hb);
    /* Fills 'rep' with what the dataplane holds (StateRequest).  May be
     * NULL: the hello then says the agent does not report. */
    void (*report)(void *aux, Nvo__StateReport *rep);
};

/* Checks a --controller value (see agent_conn_cfg): returns 0 and sets
 * '*ssl', or -EINVAL with '*errmsg' (caller frees) saying what is wrong. */
int agent_conn_check_controllers(const char *list, bool *ssl, char **errmsg);

/* Starts connecting to the first controller of cfg->controller.  'view' (borrowed) persists across
 * reconnections.  Returns NULL with '*errp' on a bad address, ssl: without
 * a PKI, or PKI files OpenSSL cannot use (logged).  Caller owns
 * the result (agent_conn_destroy()). */
struct agent_conn *agent_conn_create(uv_loop_t *, const struct agent_conn_cfg *,
                                     struct agent_view *view,
                                     const struct agent_conn_ops *, void *aux,
                                     int *errp);

/* Re-applies the view and re-sends the ack of the current seq (after the
 * dataplane retried failed items).  No-op unless in sync. */
void agent_conn_reapply(struct agent_conn *);

/* Closes the connection; frees once libuv closed its handles.  Accepts
 * NULL. */
void agent_conn_destroy(struct agent_conn *);

/* Appends an ItemError to 'ack'. */
void agent_ack_add_error(Nvo__Ack *ack, uint32_t vni, const char *item,
                         int error, const char *message);

#endif /* agent/agent-conn.h */
