/* southbound.h - the interface every southbound (OVS over OVSDB/OpenFlow:
 * ovs-sb.c; kernel hypervisors and service nodes over the agent protocol:
 * agent-server.c) offers the controller core, as an ops table.
 *
 * The core (ctl.c) keeps one southbound per dataplane and calls it only
 * through this table: it computes each hypervisor's desired view and hands
 * it over with nvo_sb_set(); the southbound reconciles the hypervisor toward
 * it and, once the hypervisor holds it (barrier reply / agent ack), reports
 * 'view->revision' through the confirm callback given to its constructor,
 * on the libuv main thread.  Status is polled by GET /v1/hypervisors and
 * /metrics.  Each implementation embeds 'struct nvo_sb' and has its own
 * constructor (it needs its own configuration: listen address, timers). */
#ifndef NVO_SOUTHBOUND_H
#define NVO_SOUTHBOUND_H 1

#include <stdbool.h>
#include <stdint.h>

/* Called on the main thread when hypervisor 'hv_id' confirmed 'revision'. */
typedef void nvo_sb_confirm_cb(void *aux, int64_t hv_id, int64_t revision);

/* Called on the main thread when a hypervisor's session goes up or down
 * (agents: heartbeat-timeout; used to fail service nodes over). */
typedef void nvo_sb_liveness_cb(void *aux, int64_t hv_id, bool alive);

/* Called on the main thread when hypervisor 'hv_id' could not apply the
 * view of 'revision' ('error', borrowed, says what failed).  The
 * southbound keeps retrying and confirms once it applied cleanly. */
typedef void nvo_sb_failed_cb(void *aux, int64_t hv_id, int64_t revision,
                              const char *error);

enum nvo_sb_state {
    NVO_SB_UNKNOWN,             /* Never seen. */
    NVO_SB_CONNECTING,          /* Trying to reach it / waiting for it. */
    NVO_SB_SYNCING,             /* Connected, reconciling. */
    NVO_SB_CONNECTED,           /* Connected and in sync with a revision. */
    NVO_SB_DISCONNECTED,        /* Lost (backing off / heartbeat timeout). */
};

/* Returns "unknown", "connecting", "syncing", "connected", "disconnected". */
const char *nvo_sb_state_to_string(enum nvo_sb_state);

struct nvo_sb_status {
    enum nvo_sb_state state;
    int64_t confirmed_revision; /* Last revision it confirmed, 0 if none. */
    char detail[128];           /* Human-readable, e.g. last error. */
    int64_t confirmed_at_ms;    /* Loop time (uv_now) of the last
                                 * confirmation, 0 if none (set by ctl). */
    int64_t n_flows;            /* OVS: nvo flows installed, -1 if unknown. */
    uint32_t underlay_mtu;      /* MTU where its tunnels leave; 0: unknown. */
    char apply_error[128];      /* Why the required revision is not
                                 * applied ("" if it is or if unknown;
                                 * set by ctl). */
};

struct nvo_hv_view;
struct nvo_sb;

struct nvo_sb_class {
    const char *name;           /* "ovs", "agent". */

    /* Sets the desired state of hypervisor view->hv_id (new or changed);
     * takes ownership of 'view'.  Called on the main thread. */
    void (*set)(struct nvo_sb *, struct nvo_hv_view *view);

    /* Forgets hypervisor 'hv_id' (deleted): closes what serves it, leaves
     * its dataplane as it is, and stops reporting it. */
    void (*remove)(struct nvo_sb *, int64_t hv_id);

    /* Optional (NULL: as 'remove'): stops serving hypervisor 'hv_id'
     * because another controller of a cluster programs it now.  Like
     * 'remove', but the hypervisor still exists: an agent is told where
     * to reconnect rather than that its hypervisor is gone. */
    void (*release)(struct nvo_sb *, int64_t hv_id);

    /* Fills '*st' for 'hv_id' (zeroed, NVO_SB_UNKNOWN if never seen). */
    void (*status)(struct nvo_sb *, int64_t hv_id, struct nvo_sb_status *st);

    /* Sets '*packets' to what port security dropped on VM port 'port_id'
     * as its hypervisor last reported, and returns true; false if no
     * hypervisor reported that port. */
    bool (*port_drops)(struct nvo_sb *, int64_t port_id, uint64_t *packets);

    /* Optional (NULL: unsupported): has hypervisor 'hv_id' re-read what it
     * holds and repair any difference with its desired state (a drift
     * audit's repair).  Asynchronous. */
    void (*resync)(struct nvo_sb *, int64_t hv_id);

    /* Closes every connection (hypervisors keep forwarding with what they
     * have) and frees the southbound, possibly once the loop has closed
     * its handles.  Makes no callback afterwards. */
    void (*destroy)(struct nvo_sb *);
};

struct nvo_sb {
    const struct nvo_sb_class *class;
};

/* Calls through 'sb''s class.  nvo_sb_status() zeroes '*st' first;
 * nvo_sb_destroy() accepts NULL. */
void nvo_sb_set(struct nvo_sb *sb, struct nvo_hv_view *view);
void nvo_sb_remove(struct nvo_sb *sb, int64_t hv_id);
void nvo_sb_release(struct nvo_sb *sb, int64_t hv_id);
void nvo_sb_status(struct nvo_sb *sb, int64_t hv_id,
                   struct nvo_sb_status *st);
void nvo_sb_destroy(struct nvo_sb *sb);
/* False for a NULL 'sb'. */
bool nvo_sb_port_drops(struct nvo_sb *sb, int64_t port_id,
                       uint64_t *packets);
/* Returns -EOPNOTSUPP if 'sb''s class cannot resync, else 0. */
int nvo_sb_resync(struct nvo_sb *sb, int64_t hv_id);

#endif /* controller/southbound.h */
