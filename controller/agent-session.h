/* agent-session.h - one agent connection's protocol state machine, on the
 * controller side.  Pure: no sockets, no timers, no globals.  The owner
 * (agent-server.c, or a unit test) feeds it received frame payloads, views
 * and the time, and it answers through the callbacks in
 * 'struct agent_session_ops'.  See agent-session.c for the states. */
#ifndef NVO_AGENT_SESSION_H
#define NVO_AGENT_SESSION_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/nvo.pb-c.h"

struct nvo_hv_view;

enum agent_session_state {
    AGENT_S_HELLO_WAIT,     /* Connected, waiting for the agent's Hello. */
    AGENT_S_REGISTERING,    /* Hello accepted, name not registered yet. */
    AGENT_S_SYNCING,        /* Snapshot sent, not yet acked. */
    AGENT_S_ACTIVE,         /* Snapshot acked; deltas flow. */
    AGENT_S_CLOSED,         /* Done; the owner closes the transport. */
};

const char *agent_session_state_name(enum agent_session_state);

struct agent_session_ops {
    /* Sends one encoded frame; takes ownership of 'frame' (free()). */
    void (*send)(void *aux, uint8_t *frame, size_t len);
    /* A well-formed Hello of the right version arrived (the session is still
     * in HELLO_WAIT).  The owner calls agent_session_attach(),
     * agent_session_wait() or agent_session_close() from here; if it calls
     * none, the session waits (REGISTERING). 'hello' is borrowed. */
    void (*hello)(void *aux, const Nvo__Hello *hello);
    /* The agent holds the view of store 'revision'. */
    void (*confirm)(void *aux, int64_t revision);
    /* The session entered CLOSED for 'reason' (borrowed).  Frames sent
     * before should still be flushed; then the owner closes the socket and
     * destroys the session (not from inside this callback). */
    void (*closed)(void *aux, const char *reason);
    /* The agent could not apply the view of store 'revision' (its ack
     * carried item errors; 'error', borrowed, is the first).  The agent
     * retries: a clean ack of that view or a newer one confirms.  May be
     * NULL. */
    void (*failed)(void *aux, int64_t revision, const char *error);
    /* The agent answered a StateRequest ('rep' borrowed, validated).  May
     * be NULL: reports are then dropped. */
    void (*report)(void *aux, const Nvo__StateReport *rep);
};

struct agent_session_cfg {
    uint64_t hb_interval_ms;    /* Heartbeat every (default 3000). */
    uint64_t hb_timeout_ms;     /* Close after silence of (default 10000). */
    uint64_t hello_timeout_ms;  /* Close without Hello after (= timeout). */
};

#define AGENT_HB_INTERVAL_MS 3000
#define AGENT_HB_TIMEOUT_MS 10000

struct agent_session_inflight {
    uint64_t seq;
    int64_t revision;
};

struct agent_session {
    enum agent_session_state state;
    const struct agent_session_ops *ops;
    void *aux;
    struct agent_session_cfg cfg;
    char *peer;                 /* "IP:PORT", for logs. */

    /* From the Hello (NULL/0 before it). */
    char *name;
    char *tunnel_ip;
    char *software_version;
    Nvo__Dataplane dataplane;
    Nvo__Role role;
    int64_t hello_revision;
    bool reports_state;         /* Answers StateRequest. */

    struct nvo_hv_view *sent;   /* Clone of the last view sent; owned. */
    uint64_t seq;               /* Last Snapshot/Delta seq sent. */
    uint64_t sync_seq;          /* Seq of the snapshot. */
    uint64_t acked;             /* Last seq acked. */
    struct agent_session_inflight *inflight;  /* Sent, not acked, by seq. */
    size_t n_inflight, allocated_inflight;

    uint64_t created_ms, last_rx_ms, last_tx_ms;
    uint64_t n_ack_errors;      /* Item errors reported in acks. */
    char last_error[96];        /* Latest item error, "" if none. */
    bool apply_failed;          /* The last acked view had item errors. */
    int64_t failed_revision;    /* Its revision (-1: none known). */
    Nvo__Message *last_heartbeat; /* Latest received Heartbeat (counters). */
    uint64_t n_bad_messages;    /* Refused: undecodable or invalid. */
};

/* Initializes 's' for a new connection from 'peer' at time 'now_ms'.
 * 'cfg' may be NULL (defaults).  Owned by the caller. */
void agent_session_init(struct agent_session *s,
                        const struct agent_session_ops *ops, void *aux,
                        const struct agent_session_cfg *cfg,
                        const char *peer, uint64_t now_ms);
/* Frees what 's' holds (not 's').  Accepts NULL. */
void agent_session_destroy(struct agent_session *s);

/* Processes one received frame payload. */
void agent_session_receive(struct agent_session *s, const uint8_t *payload,
                           size_t len, uint64_t now_ms);

/* The hello's name is registered with view 'view' (borrowed): checks the
 * hello against it and sends the snapshot (-> SYNCING), or refuses (->
 * CLOSED).  From HELLO_WAIT or REGISTERING only. */
void agent_session_attach(struct agent_session *s,
                          const struct nvo_hv_view *view);

/* The hello's name is not registered: tells the agent it waits. */
void agent_session_wait(struct agent_session *s, const char *why);

/* The desired view changed (borrowed): sends a Delta (SYNCING/ACTIVE), or
 * attaches (REGISTERING). */
void agent_session_set_view(struct agent_session *s,
                            const struct nvo_hv_view *view);

/* Time passed: sends a heartbeat when due, closes on silence. */
void agent_session_tick(struct agent_session *s, uint64_t now_ms);

/* Closes the session: sends a fatal Error with 'code' first unless 'code'
 * is NVO__ERROR__CODE__UNSPECIFIED, then calls ops->closed(reason). */
void agent_session_close(struct agent_session *s, Nvo__Error__Code code,
                         const char *reason);

/* Cluster mode: another controller owns the agent's hypervisor.  Sends a
 * fatal Error NOT_OWNER carrying 'redirect' (the owner's agent address
 * "IP:PORT", or NULL if unknown) and closes, like agent_session_close(). */
void agent_session_redirect(struct agent_session *s, const char *redirect,
                            const char *reason);

/* Asks the agent what its dataplane holds (a StateReport with 'id' comes
 * back through ops->report).  Returns 0, -ENOTCONN if no view is attached
 * yet, or -EOPNOTSUPP if the agent's hello did not offer reports. */
int agent_session_request_state(struct agent_session *s, uint64_t id);

/* Sends the agent its whole view again (a Snapshot, -> SYNCING): the agent
 * re-applies all of it, repairing what drifted.  No-op unless attached. */
void agent_session_resync(struct agent_session *s);

/* True if the agent holds (SYNCING or ACTIVE) a view: it counts as alive. */
bool agent_session_is_attached(const struct agent_session *s);

#endif /* controller/agent-session.h */
