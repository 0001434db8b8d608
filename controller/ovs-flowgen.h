/* ovs-flowgen.h - the output side of a pure flow generator.
 *
 * The pipeline (ovs-flows.c) is assembled from generators, each a pure
 * function of a network view (and the ofport maps) that emits flows through
 * a 'struct ovs_flowgen_sink'.  The sink decides what happens to a flow
 * (canonicalize it and add it to a flow set, in the pipeline; collect it,
 * in a unit test), so a generator neither knows nor cares how the pipeline
 * around it is computed or stored.
 *
 * Helpers below build the common action lists into an ofpbuf. */
#ifndef NVO_OVS_FLOWGEN_H
#define NVO_OVS_FLOWGEN_H 1

#include <stddef.h>
#include <stdint.h>

#include "openvswitch/meta-flow.h"

struct match;
struct ofpact;
struct ofpbuf;

/* Emits one flow.  'match' and 'ofpacts' are borrowed for the call only. */
typedef void ovs_flowgen_put_fn(void *aux, uint8_t table_id,
                                uint16_t priority, const struct match *,
                                uint64_t cookie, const struct ofpact *ofpacts,
                                size_t ofpacts_len);

struct ovs_flowgen_sink {
    ovs_flowgen_put_fn *put;
    void *aux;
};

/* Emits the flow whose actions are in 'ofpacts', then clears 'ofpacts'. */
void ovs_flowgen_emit(const struct ovs_flowgen_sink *, uint8_t table_id,
                      uint16_t priority, const struct match *,
                      uint64_t cookie, struct ofpbuf *ofpacts);

/* Appends to 'ofpacts': set_field (full mask) of 'value' (field-sized, in
 * network byte order) to field 'id'. */
void ovs_flowgen_set_field(struct ofpbuf *ofpacts, enum mf_field_id id,
                           const void *value);

/* Appends move:src[]->dst[] of two whole fields of the same width. */
void ovs_flowgen_move(struct ofpbuf *ofpacts, enum mf_field_id src,
                      enum mf_field_id dst);

/* Appends write_metadata:'vni' then goto_table:'table' (OpenFlow 1.3
 * instruction order: after every apply-action; LAB-NOTES pitfall 2). */
void ovs_flowgen_metadata_goto(struct ofpbuf *ofpacts, uint32_t vni,
                               uint8_t table);

#endif /* controller/ovs-flowgen.h */
