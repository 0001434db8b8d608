/* ovs-flowinc.h - incremental flow computation for one OVS hypervisor.
 *
 * The engine keeps one hypervisor's desired flow table and, given a new
 * view and new ofport maps, recomputes only the units of flow generation
 * (ovs-flows.h: a local port, a remote port, a network's tunnel, a
 * network) whose inputs changed, so a change costs the size of the change,
 * not of the table:
 *
 *   - networks: the view's network views are immutable and shared
 *     (desired.h), so a network whose view is the same object as last time
 *     is skipped at once; a network with a new view is compared port by
 *     port (locals[] and remotes[] are sorted, one merge walk) and only the
 *     ports that appeared, disappeared or differ are recomputed, plus its
 *     tunnels that appeared or disappeared, plus the network unit if its
 *     locals or flood list changed.  A change of the network's attributes
 *     (nvo_net_view_attrs_equal()) recomputes all of that network's units.
 *   - ofports: the iface and tunnel names whose ofport changed recompute
 *     the units that use them.
 *
 * Each unit remembers the flows it made; a recomputation replaces them in
 * the table and records every key whose flow was added, modified or
 * removed.  The caller hands those keys to ovs-ofctrl, which diffs just
 * them against what the switch holds.
 *
 * The result always equals ovs_flows_compute() of the same input (checked
 * by tests/unit/test-ovs-flowinc.c after every step of random changes, and
 * by ovs-hv's periodic self-check).
 *
 * Pure: no I/O, no globals. */
#ifndef NVO_OVS_FLOWINC_H
#define NVO_OVS_FLOWINC_H 1

#include <stdbool.h>
#include <stddef.h>

struct ds;
struct ovs_flows_input;
struct ovs_flowinc;
struct ovs_flowset;

/* Creates an empty engine.  Caller owns it. */
struct ovs_flowinc *ovs_flowinc_create(void);
/* Accepts NULL. */
void ovs_flowinc_destroy(struct ovs_flowinc *);

/* Brings the table to the flows of 'in' (the view's networks are
 * referenced and the ofport maps copied as needed; 'in' may change
 * afterward).  'maps_changed' says the ofport maps may differ from the
 * previous call's (false skips comparing them).  The first call, and the
 * first after ovs_flowinc_reset(), computes everything. */
void ovs_flowinc_update(struct ovs_flowinc *, const struct ovs_flows_input *in,
                        bool maps_changed);

/* Forgets the previous input: the next update recomputes every unit (the
 * keys of every flow that differs are still recorded as changed). */
void ovs_flowinc_reset(struct ovs_flowinc *);

/* The desired table.  Borrowed; valid until the engine is destroyed (the
 * same object throughout). */
const struct ovs_flowset *ovs_flowinc_table(const struct ovs_flowinc *);

/* Moves the keys changed since the last call into 'keys' (an initialized
 * flowset, to which they are added). */
void ovs_flowinc_take_changes(struct ovs_flowinc *, struct ovs_flowset *keys);

/* True if no unit lacked an ofport. */
bool ovs_flowinc_is_complete(const struct ovs_flowinc *);

/* Appends the names (iface or VTEP IP) whose ofport is lacking to 's',
 * space-separated. */
void ovs_flowinc_format_missing(const struct ovs_flowinc *, struct ds *s);

/* Counters, for tests and metrics. */
struct ovs_flowinc_stats {
    size_t n_units;             /* Units currently held. */
    unsigned long long n_recomputed;  /* Units computed, in total. */
    unsigned long long n_conflicts;   /* Keys two units both made. */
};
void ovs_flowinc_get_stats(const struct ovs_flowinc *,
                           struct ovs_flowinc_stats *);

#endif /* controller/ovs-flowinc.h */
