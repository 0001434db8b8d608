/* ovs-ofctrl.h - the OpenFlow 1.3 connection to one br-int, and flow
 * reconciliation over it.
 *
 * Never flush-and-reload: after each (re)connection it dumps nvo's flows
 * (those whose cookie carries nvo's marker), diffs them against the desired
 * set and sends only the difference, atomically, in an OpenFlow bundle
 * (whose commit reply confirms it; a single flow mod goes alone, followed
 * by a barrier).  Afterwards it keeps the installed set in memory
 * and diffs only the keys the caller says changed.  An unchanged flow is never re-added, so its
 * counters and duration survive controller restarts and reconnections.
 *
 * Runs on the OVS southbound thread's poll loop. */
#ifndef NVO_OVS_OFCTRL_H
#define NVO_OVS_OFCTRL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ovs_flowset;
struct ovs_ofctrl;

/* Creates a controller connection to 'target' (e.g. "tcp:IP:6653"), with
 * reconnection backoff.  'name' names the hypervisor in logs.  Caller owns
 * the result. */
struct ovs_ofctrl *ovs_ofctrl_create(const char *target, const char *name);
/* Disconnects, leaving the switch's flows in place.  Accepts NULL. */
void ovs_ofctrl_destroy(struct ovs_ofctrl *);

/* Makes 'desired' the desired set, tagged 'seq' (increasing).  'desired' is
 * borrowed: the caller keeps it valid and changes it only between calls
 * (ovs-flowinc's table).  'changed' holds the keys of every flow that was
 * added, modified or removed in 'desired' since the previous call; they
 * are taken ('changed' is left empty) and only they are diffed against the
 * installed set, so a change costs its own size.  After every
 * (re)connection the whole set is diffed once.  Returns false, keeping the
 * current tag, if nothing changed. */
bool ovs_ofctrl_set_desired(struct ovs_ofctrl *,
                            const struct ovs_flowset *desired,
                            struct ovs_flowset *changed, uint64_t seq);

/* Runs the connection and the reconciliation; 'unreadable' as for
 * ovs_ofconn_run(). */
void ovs_ofctrl_run(struct ovs_ofctrl *, bool unreadable);
void ovs_ofctrl_wait(struct ovs_ofctrl *);

bool ovs_ofctrl_is_connected(const struct ovs_ofctrl *);

/* While a reply (dump, barrier, commit) is all this connection waits for, and no
 * timer of its own is due: the socket whose input is the only thing that
 * can give ovs_ofctrl_run() work.  Otherwise -1 (also when the socket is
 * not known: see ovs_ofconn_input_fd()). */
int ovs_ofctrl_input_fd(const struct ovs_ofctrl *);

/* ovs_ofconn_fd() and ovs_ofconn_get_seqno() of the connection. */
int ovs_ofctrl_fd(const struct ovs_ofctrl *, unsigned int *seqno);

/* When ovs_ofctrl_run() must run next even if the switch sends nothing
 * (the connection's timers, the end of a backoff, the next drop counter
 * poll), as a time_msec(); LLONG_MAX if never. */
long long int ovs_ofctrl_next_wake(const struct ovs_ofctrl *);

/* True if connected, in sync and awaiting no reply: nothing can happen on
 * the connection but what the switch sends unasked (echo requests, port
 * status), which may wait a little. */
bool ovs_ofctrl_is_idle(const struct ovs_ofctrl *);

/* If the OpenFlow connection is backing off after a failed attempt, tries
 * again at once.  For the moments after nvo configured br-int's passive
 * controller target, when the switch may not listen yet: the connection's own
 * backoff (1 s, then more) would otherwise delay the first sync. */
void ovs_ofctrl_retry_now(struct ovs_ofctrl *);

/* In sync: forgets what it believes the switch holds, dumps nvo's flows
 * again and sends the difference to the desired set (S_SYNCED -->
 * S_DUMPING), repairing flows someone else changed or deleted.  Elsewhere
 * a no-op: a reconciliation is under way already. */
void ovs_ofctrl_resync(struct ovs_ofctrl *);

/* Fencing (cluster mode): on every connection, and now if connected, asks
 * the switch for the OpenFlow primary role with election 'generation'
 * before anything else, so that the switch demotes every other
 * controller's connection to secondary (their flow mods refused) and
 * refuses a later primary request with a smaller generation (STALE).
 * 0 (the default): no role request. */
void ovs_ofctrl_set_generation(struct ovs_ofctrl *, uint64_t generation);

/* The tag of the latest desired set the switch is known to hold (its
 * bundle's commit or the barrier after its single flow mod answered), or 0
 * if none since the last (re)connection. */
uint64_t ovs_ofctrl_installed_seq(const struct ovs_ofctrl *);

/* The tag of the current desired set. */
uint64_t ovs_ofctrl_desired_seq(const struct ovs_ofctrl *);

/* A short description of the connection's state, e.g. "dumping flows".
 * Static. */
const char *ovs_ofctrl_state(const struct ovs_ofctrl *);

/* Calls 'cb' for every VM port whose drop flows (port security and the MAC
 * guard, table 0) the switch reported in its latest answer (refreshed,
 * while connected and the switch holds drop flows, every 2 s in eager
 * mode and every 30 s otherwise): 'packets' is their sum. */
typedef void ovs_ofctrl_drops_cb(void *aux, int64_t port_id,
                                 uint64_t packets);
void ovs_ofctrl_port_drops(const struct ovs_ofctrl *, ovs_ofctrl_drops_cb *,
                           void *aux);

/* Counts the drop-counter answers taken in: ovs_ofctrl_port_drops() has
 * news only when this changed. */
uint64_t ovs_ofctrl_drops_seq(const struct ovs_ofctrl *);

/* Eager mode (someone reads the drop counters): asks for them every 2 s
 * instead of every 30 s, and, when it starts, at the next run. */
void ovs_ofctrl_set_drops_eager(struct ovs_ofctrl *, bool eager);

/* Counters, for logs and tests. */
struct ovs_ofctrl_stats {
    uint64_t n_bundles;         /* Bundles committed. */
    uint64_t n_flow_mods;       /* Flow mods in them. */
    uint64_t n_failures;        /* Bundles that failed. */
    uint64_t n_apply_errors;    /* OpenFlow errors the switch answered the
                                 * changes sent to it with (a flow mod or
                                 * bundle it refused). */
    char apply_error[128];      /* The latest of them, "" if none. */
    size_t n_installed;         /* Flows in the installed set. */
    uint64_t n_demoted;         /* Times the switch made us secondary
                                 * (another controller asked for primary
                                 * with a newer generation) or refused our
                                 * primary request as stale. */
};
void ovs_ofctrl_get_stats(const struct ovs_ofctrl *, struct ovs_ofctrl_stats *);

#endif /* controller/ovs-ofctrl.h */
