/* ovs-flowset.h - a set of OpenFlow flows keyed like a switch keys them, and
 * the diff between two such sets.
 *
 * A flow is identified by (table, priority, match), as in an OpenFlow flow
 * table; its value is (cookie, actions).  nvo keeps two sets per switch:
 * the desired one (computed by ovs-flows) and the installed one (dumped
 * from the switch, then maintained from what was committed), and sends only
 * ovs_flowset_diff() between them.
 *
 * Pure data structure: no I/O, no globals. */
#ifndef NVO_OVS_FLOWSET_H
#define NVO_OVS_FLOWSET_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/hmap.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"

struct ds;
struct ofpbuf;
struct ovs_flow_acts;

struct ovs_flow {
    struct hmap_node node;      /* In ovs_flowset.flows, by ovs_flow_hash. */
    uint8_t table_id;
    uint16_t priority;
    struct minimatch match;
    uint64_t cookie;            /* Host byte order. */
    struct ofpact *ofpacts;     /* Read-only: held by 'acts'. */
    size_t ofpacts_len;
    void *wire;                 /* Read-only, held by 'acts': 'ofpacts' as
                                 * OpenFlow 1.3 instructions, to compare
                                 * actions. */
    size_t wire_len;
    struct ovs_flow_acts *acts; /* A reference: the actions, shared with
                                 * the flow's clones (ovs_flow_clone()), or
                                 * NULL for a key (ovs_flowset_add_key()). */
    const void *owner;          /* For the set's user (the incremental
                                 * engine: which unit made it); not part
                                 * of the key or the value. */
    uint32_t hash;              /* Of the key, computed once: a flow is
                                 * looked up in several sets (table,
                                 * changed keys, installed, pending). */
};

struct ovs_flowset {
    struct hmap flows;          /* Contains struct ovs_flow. */
};

void ovs_flowset_init(struct ovs_flowset *);
/* Frees every flow.  Accepts NULL. */
void ovs_flowset_destroy(struct ovs_flowset *);
void ovs_flowset_clear(struct ovs_flowset *);
void ovs_flowset_swap(struct ovs_flowset *, struct ovs_flowset *);
size_t ovs_flowset_count(const struct ovs_flowset *);

/* Adds a flow (copying 'match' and 'ofpacts').  If a flow with the same key
 * exists, it is replaced (the later one wins) and true is returned.  The
 * flow is owned by the set; the returned pointer is borrowed. */
struct ovs_flow *ovs_flowset_add(struct ovs_flowset *, uint8_t table_id,
                                 uint16_t priority, const struct match *,
                                 uint64_t cookie, const struct ofpact *,
                                 size_t ofpacts_len, bool *replaced);

/* Returns the flow with this key, or NULL.  Borrowed. */
struct ovs_flow *ovs_flowset_find(const struct ovs_flowset *,
                                  uint8_t table_id, uint16_t priority,
                                  const struct minimatch *);

/* Returns the flow of the set with the key of 'flow' (a flow of any
 * set), or NULL.  Borrowed. */
struct ovs_flow *ovs_flowset_find_flow(const struct ovs_flowset *,
                                       const struct ovs_flow *flow);

/* Removes 'flow' from the set and frees it. */
void ovs_flowset_remove(struct ovs_flowset *, struct ovs_flow *flow);

/* Removes 'flow' from the set without freeing it: the caller owns it. */
void ovs_flowset_detach(struct ovs_flowset *, struct ovs_flow *flow);

/* Inserts 'flow' (taking it), replacing and freeing a flow with the same
 * key, if any. */
void ovs_flowset_insert(struct ovs_flowset *, struct ovs_flow *flow);

/* Adds a copy of 'flow''s key only (no actions), unless the key is there
 * already: for sets of keys (e.g. "changed since the last bundle"). */
void ovs_flowset_add_key(struct ovs_flowset *, const struct ovs_flow *flow);

/* Returns a copy of 'flow' (owner NULL), not in any set.  Caller owns it
 * (ovs_flow_destroy()).  The copy shares the actions of 'flow' (and their
 * encodings) rather than copying them: flows are immutable once made, and
 * one thread's (the reference count is not atomic). */
struct ovs_flow *ovs_flow_clone(const struct ovs_flow *flow);

/* Replaces the actions of 'flow' (in no set, and not cloned yet) with
 * 'ofpacts' and their encoding 'wire' (both taken). */
void ovs_flow_set_actions(struct ovs_flow *flow, struct ofpact *ofpacts,
                          size_t ofpacts_len, void *wire, size_t wire_len);

/* Returns 'flow' as an OpenFlow 1.3 OFPFC_ADD flow_mod (its key, cookie and
 * instructions), encoded once for a flow and all its clones (the flows a
 * remote port or VTEP makes on every hypervisor of a network are clones of
 * one, ovs-flows.c's memo) and borrowed: valid while 'flow' or one of its
 * clones holds these actions.  NULL for a flow without clones (sent to one
 * switch: the caller encodes it) and for a key (no actions). */
const struct ofpbuf *ovs_flow_add_msg(const struct ovs_flow *flow);

/* Frees a flow that is in no set.  Accepts NULL. */
void ovs_flow_destroy(struct ovs_flow *flow);

/* True if 'a' and 'b' have the same value (cookie, actions).  Flows that
 * share their actions (clones) compare without a look at them. */
bool ovs_flow_value_equal(const struct ovs_flow *a, const struct ovs_flow *b);

/* Deep-copies 'src' into 'dst' (which must be empty). */
void ovs_flowset_clone(struct ovs_flowset *dst, const struct ovs_flowset *src);

/* True if both sets hold the same flows with the same values. */
bool ovs_flowset_equal(const struct ovs_flowset *, const struct ovs_flowset *);

/* Appends "table=T, priority=P[, MATCH] cookie=C actions=A" to 'ds'. */
void ovs_flow_format(const struct ovs_flow *, struct ds *);

/* One change that turns 'installed' into 'desired'. */
enum ovs_flow_change_type {
    OVS_FLOW_ADD,               /* Missing, or its cookie differs. */
    OVS_FLOW_MODIFY,            /* Same key and cookie, other actions. */
    OVS_FLOW_DELETE,            /* Installed but not desired. */
};

struct ovs_flow_change {
    enum ovs_flow_change_type type;
    const struct ovs_flow *flow; /* ADD/MODIFY: the desired flow; DELETE:
                                  * the installed one.  Borrowed from the
                                  * sets given to ovs_flowset_diff(). */
};

struct ovs_flow_changes {
    struct ovs_flow_change *changes; /* Owned. */
    size_t n, allocated;
    size_t n_add, n_modify, n_delete;
};

/* Computes the changes that turn 'installed' into 'desired': deletions
 * first, then additions and modifications.  Caller owns '*out' (release
 * with ovs_flow_changes_destroy()); its entries borrow from both sets, which
 * must outlive it unchanged. */
void ovs_flowset_diff(const struct ovs_flowset *desired,
                      const struct ovs_flowset *installed,
                      struct ovs_flow_changes *out);
void ovs_flow_changes_destroy(struct ovs_flow_changes *);

/* Like ovs_flowset_diff(), but only for the keys in 'keys' (a set made
 * with ovs_flowset_add_key()): the changes that turn 'installed' into
 * 'desired' if they differ only in those keys.  Costs the size of 'keys',
 * not of the sets. */
void ovs_flowset_diff_keys(const struct ovs_flowset *desired,
                           const struct ovs_flowset *installed,
                           const struct ovs_flowset *keys,
                           struct ovs_flow_changes *out);

/* Applies 'changes' (a diff of 'desired' against 'installed') to
 * 'installed', so that it equals 'desired'. */
void ovs_flowset_apply(struct ovs_flowset *installed,
                       const struct ovs_flow_changes *changes);

#endif /* controller/ovs-flowset.h */
