/* southbound.h - the contract every southbound (OVS over OVSDB/OpenFlow,
 * kernel hypervisors over the agent protocol) offers the controller core.
 *
 * The core (ctl.c) computes each hypervisor's desired view and hands it over
 * with *_set(); the southbound reconciles the hypervisor toward it and,
 * once the hypervisor holds it (barrier reply / agent ack), reports
 * 'view->revision' through the confirm callback, on the libuv main thread.
 * Status is polled by GET /v1/hypervisors and /metrics. */
#ifndef NVO_SOUTHBOUND_H
#define NVO_SOUTHBOUND_H 1

#include <stdbool.h>
#include <stdint.h>

/* Called on the main thread when hypervisor 'hv_id' confirmed 'revision'. */
typedef void nvo_sb_confirm_cb(void *aux, int64_t hv_id, int64_t revision);

/* Called on the main thread when a hypervisor's session goes up or down
 * (agents: heartbeat-timeout; used to fail service nodes over). */
typedef void nvo_sb_liveness_cb(void *aux, int64_t hv_id, bool alive);

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
};

#endif /* controller/southbound.h */
