/* agent-proto.h - the controller's encoding of hypervisor views for agents
 * (proto/nvo.proto) and the view-to-view delta: pure functions, no I/O.
 *
 * Messages built here are allocated field by field with malloc(), exactly
 * as protobuf-c's unpacker does, so nvo_msg_free() frees them. */
#ifndef NVO_AGENT_PROTO_H
#define NVO_AGENT_PROTO_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/nvo.pb-c.h"

struct nvo_hv_view;
struct nvo_net_view;

/* What changed between two views: the networks of the new view that are
 * new or differ (borrowed from the new view), and the VNIs that are gone. */
struct agent_delta {
    const struct nvo_net_view **changed;   /* Owned array, borrowed items. */
    size_t n_changed;
    uint32_t *removed;                     /* Owned. */
    size_t n_removed;
};

/* Computes the delta from 'old' to 'new' (either may be NULL: empty).
 * Both views' nets must be sorted by VNI (desired.h guarantees it).
 * The caller owns '*d' (agent_delta_destroy()); its 'changed' items point
 * into 'new'. */
void agent_delta_compute(const struct nvo_hv_view *old,
                         const struct nvo_hv_view *new,
                         struct agent_delta *d);
void agent_delta_destroy(struct agent_delta *d);

/* Builds the Snapshot message for 'view' with 'seq'.  Caller owns it
 * (nvo_msg_free()). */
Nvo__Message *agent_proto_snapshot(const struct nvo_hv_view *view,
                                   uint64_t seq);

/* Builds the Delta message 'd' (a delta toward 'new' at 'seq', applying on
 * top of 'seq - 1').  Caller owns it (nvo_msg_free()). */
Nvo__Message *agent_proto_delta(const struct agent_delta *d,
                                const struct nvo_hv_view *new, uint64_t seq);

/* Builds an Error message.  Caller owns it (nvo_msg_free()). */
Nvo__Message *agent_proto_error(Nvo__Error__Code code, bool fatal,
                                const char *message);

/* Builds a Heartbeat carrying 'seq'.  Caller owns it (nvo_msg_free()). */
Nvo__Message *agent_proto_heartbeat(uint64_t seq);

/* Builds a StateRequest with 'id'.  Caller owns it (nvo_msg_free()). */
Nvo__Message *agent_proto_state_request(uint64_t id);

#endif /* controller/agent-proto.h */
