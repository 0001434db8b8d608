/* agent-dp.h - what nvo-agent does with its view: program the kernel
 * (kdp), feed the service-node replicator (svcnode), or nothing (dataplane
 * ovs: the controller programs Open vSwitch itself; the agent only
 * reports). */
#ifndef NVO_AGENT_DP_H
#define NVO_AGENT_DP_H 1

#include <stdbool.h>
#include <uv.h>

#include "proto/nvo.pb-c.h"

struct agent_view;
struct agent_dp;

enum agent_dp_kind {
    AGENT_DP_KERNEL,            /* VXLAN devices, bridges, FDB (netlink). */
    AGENT_DP_OVS,               /* Nothing: the controller programs OVS. */
    AGENT_DP_SVCNODE,           /* BUM replicator (service-node role). */
};

/* Creates the dataplane for tunnel IP 'tunnel_ip'.  Returns NULL and sets
 * '*errmsg' (caller frees) on failure.  Caller owns the result. */
struct agent_dp *agent_dp_create(uv_loop_t *, enum agent_dp_kind,
                                 const char *tunnel_ip, char **errmsg);

/* Makes the dataplane match 'view', appending failures to 'ack'. */
void agent_dp_apply(struct agent_dp *, const struct agent_view *view,
                    Nvo__Ack *ack);

/* Adds per-VNI counters (service node) and per-port port-security drops
 * (kernel) to 'hb'. */
void agent_dp_counters(struct agent_dp *, Nvo__Heartbeat *hb);

/* Fills 'rep' with what the dataplane actually holds (kernel only; other
 * dataplanes set rep->error to -EOPNOTSUPP).  The entries it adds belong
 * to 'rep'. */
void agent_dp_report(struct agent_dp *, Nvo__StateReport *rep);

/* True if the last apply left failed items worth retrying. */
bool agent_dp_needs_retry(const struct agent_dp *);

/* Frees 'dp' without touching the dataplane (it keeps forwarding).
 * Accepts NULL. */
void agent_dp_destroy(struct agent_dp *);

/* True if this build includes the service-node replicator. */
bool agent_dp_has_svcnode(void);

#endif /* agent/agent-dp.h */
