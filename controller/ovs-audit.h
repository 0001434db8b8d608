/* ovs-audit.h - what one Open vSwitch hypervisor really holds, against its
 * desired view: the flows of br-int (all of them: nvo's by cookie, and
 * foreign ones) and its ports.
 *
 * ovs_audit_switch() opens its own, short OpenFlow 1.3 connection to the
 * switch (the target the OVS southbound uses, so TLS where configured),
 * asks for the port descriptions and every flow, computes the desired
 * flows from the view and the ofports the switch reports
 * (ovs_flows_compute(), the same function the southbound uses), and diffs:
 *   missing    desired, not on the switch (flow or port)
 *   extra      nvo's on the switch, not desired: a flow with nvo's cookie,
 *              a port with nvo's mark (external_ids:nvo-owner=nvo)
 *   different  same table, priority and match, other actions or cookie
 *   foreign    a flow whose cookie is not nvo's, or a port nvo neither
 *              wants nor marked (whatever its name): reported, never
 *              touched, not drift.
 * Extra and foreign are therefore what the reconciliation deletes and
 * leaves alone (ovs-ovsdb.h, ovs-ofctrl.h).  The marks are in OVSDB only:
 * if the switch has ports the view does not want (other than the bridge's
 * own), the audit reads them over a short OVSDB session of its own to the
 * view's 'ovsdb' remote (ovs_ovsdb_read_owned_ports()).
 * It only reads; a repair is the southbound's resync (ovs_sb_resync()).
 *
 * Blocking: meant for a worker thread (uv_queue_work), never the libuv
 * main thread or the OVS southbound's thread.  Uses no shared state but
 * the view it is given. */
#ifndef NVO_OVS_AUDIT_H
#define NVO_OVS_AUDIT_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nvo_hv_view;

enum ovs_audit_kind {
    OVS_AUDIT_MISSING,
    OVS_AUDIT_EXTRA,
    OVS_AUDIT_DIFFERENT,
    OVS_AUDIT_FOREIGN,
};

/* Returns "missing", "extra", "different", "foreign". */
const char *ovs_audit_kind_to_string(enum ovs_audit_kind);

struct ovs_audit_item {
    enum ovs_audit_kind kind;
    bool is_port;               /* A br-int port, else a flow. */
    uint64_t cookie;            /* Flows: the desired (or found) cookie. */
    uint8_t table_id;           /* Flows. */
    char *text;                 /* Flow as "table=T, priority=P, MATCH
                                 * cookie=C actions=A", or the port name. */
    char *actual;               /* DIFFERENT: what the switch has. */
    int64_t port_id;            /* Ports: the VM port's id (missing: the
                                 * desired one; extra: its nvo-port-id), 0
                                 * for tunnels and foreign ports. */
};

struct ovs_audit_result {
    int error;                  /* 0, or negative errno: not audited. */
    char *error_msg;            /* Why, if 'error'. */
    struct ovs_audit_item *items;
    size_t n_items, allocated;
    size_t n_desired, n_actual; /* nvo flows desired / held. */
    size_t n_foreign;           /* Flows with another cookie (foreign
                                 * ports are items only). */
};

/* Audits the switch at OpenFlow 'target' ("tcp:IP:PORT", "ssl:..." or
 * "unix:PATH") against 'view'; fills 'r' (caller frees with
 * ovs_audit_result_destroy()).  Gives up after 'timeout_ms' connecting
 * (to the switch, and to its OVSDB if the port marks are needed).
 * Returns r->error. */
int ovs_audit_switch(const char *target, const struct nvo_hv_view *view,
                     long long int timeout_ms, struct ovs_audit_result *r);

/* Frees what 'r' holds.  Accepts NULL. */
void ovs_audit_result_destroy(struct ovs_audit_result *r);

#endif /* controller/ovs-audit.h */
