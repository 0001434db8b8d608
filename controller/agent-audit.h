/* agent-audit.h - what one kernel hypervisor really holds (its agent's
 * StateReport, agent/kdp-report.h) against its desired view.  Pure: no
 * I/O, no model.
 *
 * The desired kernel state of a view, per network (what nvo-agent makes of
 * it, agent/kdp-state.h and agent/kdp-sec.h):
 *   network     the VXLAN device (nvo's attributes, up in the bridge, the
 *               network's MTU or one derived from the underlay's) and the
 *               bridge (up);
 *   bridge-port each local VM's interface in the bridge;
 *   fdb         on the VXLAN device, every remote MAC -> its IPv4 VTEP and
 *               one all-zero entry per IPv4 flood VTEP (not our own IP);
 *   bridge-fdb  port security: the VM's MAC, static, on its port; with
 *               arp_responder every remote MAC, static, on the VXLAN port;
 *   neighbour   with arp_responder, every IPv4 address one port of the
 *               network claims (locals' and remotes' "ip") -> its MAC;
 *   neigh-suppress  on the VXLAN port exactly when arp_responder.
 * Items: missing (desired, not held), extra (held, not desired), different
 * (held with another value: a device down or with other attributes, an
 * MTU, a neighbour's MAC, the suppression flag). */
#ifndef NVO_AGENT_AUDIT_H
#define NVO_AGENT_AUDIT_H 1

#include <stddef.h>
#include <stdint.h>

#include "controller/ovs-audit.h"
#include "proto/nvo.pb-c.h"

struct nvo_hv_view;

enum agent_audit_what {
    AGENT_AUDIT_NETWORK,        /* A whole network: no devices, or ours
                                 * where none should be. */
    AGENT_AUDIT_VXLAN,
    AGENT_AUDIT_BRIDGE,
    AGENT_AUDIT_MTU,
    AGENT_AUDIT_PORT,
    AGENT_AUDIT_FDB,
    AGENT_AUDIT_BRIDGE_FDB,
    AGENT_AUDIT_NEIGHBOUR,
    AGENT_AUDIT_NEIGH_SUPPRESS,
};

/* "network", "vxlan-device", "bridge", "mtu", "bridge-port", "fdb",
 * "bridge-fdb", "neighbour", "neigh-suppress". */
const char *agent_audit_what_to_string(enum agent_audit_what);

struct agent_audit_item {
    enum ovs_audit_kind kind;   /* Missing, extra or different. */
    enum agent_audit_what what;
    uint32_t vni;
    char *entry;                /* Desired (missing, different) or held
                                 * (extra), e.g. "52:54:00:00:00:02 dst
                                 * 192.0.2.3". */
    char *actual;               /* Different: what the kernel holds. */
    int64_t port_id;            /* The VM port it is for, or 0. */
};

struct agent_audit_result {
    struct agent_audit_item *items;
    size_t n_items, allocated;
    size_t n_desired, n_actual; /* Entries compared (ports, FDB entries,
                                 * neighbours), desired and held. */
};

/* Diffs 'rep' against 'view' into 'r' (caller frees it with
 * agent_audit_result_destroy()).  'underlay_mtu' is the MTU the agent last
 * reported for its underlay interface (0: none holds the tunnel IP), or
 * negative if not known (then a network without "mtu" is not checked). */
void agent_audit_diff(const struct nvo_hv_view *view,
                      const Nvo__StateReport *rep, int underlay_mtu,
                      struct agent_audit_result *r);

/* Frees what 'r' holds.  Accepts NULL. */
void agent_audit_result_destroy(struct agent_audit_result *r);

#endif /* controller/agent-audit.h */
