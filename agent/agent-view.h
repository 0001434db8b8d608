/* agent-view.h - the agent's copy of its desired state, as the controller
 * sent it: the networks of the last Snapshot with every later Delta
 * applied.  Pure: no I/O. */
#ifndef NVO_AGENT_VIEW_H
#define NVO_AGENT_VIEW_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/hmap.h"
#include "proto/nvo.pb-c.h"

struct agent_view {
    struct hmap nets;           /* Contains struct agent_view_net, by VNI. */
    uint64_t seq;               /* Seq of the last applied message. */
    int64_t revision;           /* Store revision it reflects. */
    bool valid;                 /* A snapshot was applied (this session or
                                 * an earlier one). */
    uint64_t n_snapshots;       /* Snapshots applied so far: a new one asks
                                 * the dataplane for a full re-apply (a
                                 * resync after an audit found drift). */
};

struct agent_view_net {
    struct hmap_node node;
    Nvo__Network *net;          /* Owned (nvo__network__free_unpacked). */
};

void agent_view_init(struct agent_view *);
void agent_view_destroy(struct agent_view *);

/* Replaces the whole state with 'snap''s networks, which it steals (they
 * are removed from 'snap', which the caller still frees).  A VNI listed
 * twice: the last entry wins. */
void agent_view_apply_snapshot(struct agent_view *, Nvo__Snapshot *snap);

/* Applies 'delta' (stealing its changed networks).  Returns 0, or -EPROTO
 * (and changes nothing) if delta->base_seq is not the view's seq or no
 * snapshot was applied in this session ('session_seq' is 0). */
int agent_view_apply_delta(struct agent_view *, Nvo__Delta *delta);

/* Returns the networks sorted by VNI in a new array (caller frees the
 * array with free(); the entries are borrowed) and sets '*n'. */
Nvo__Network **agent_view_sorted(const struct agent_view *, size_t *n);

size_t agent_view_count(const struct agent_view *);

#endif /* agent/agent-view.h */
