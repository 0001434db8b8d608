#include <config.h>
#include "controller/ovs-flowgen.h"

#include <string.h>

#include "byte-order.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"

void
ovs_flowgen_emit(const struct ovs_flowgen_sink *sink, uint8_t table_id,
                 uint16_t priority, const struct match *match,
                 uint64_t cookie, struct ofpbuf *ofpacts)
{
    sink->put(sink->aux, table_id, priority, match, cookie, ofpacts->data,
              ofpacts->size);
    ofpbuf_clear(ofpacts);
}

void
ovs_flowgen_set_field(struct ofpbuf *ofpacts, enum mf_field_id id,
                      const void *value)
{
    const struct mf_field *field = mf_from_id(id);
    /* Zero-filled first, so no padding byte is left undefined. */
    struct ofpact_set_field *sf = ofpact_put_set_field(ofpacts, field, NULL,
                                                       NULL);
    memcpy(sf->value, value, field->n_bytes);
    memset(ofpact_set_field_mask(sf), 0xff, field->n_bytes);
}

void
ovs_flowgen_move(struct ofpbuf *ofpacts, enum mf_field_id src,
                 enum mf_field_id dst)
{
    struct ofpact_reg_move *move = ofpact_put_REG_MOVE(ofpacts);
    move->src.field = mf_from_id(src);
    move->src.ofs = 0;
    move->src.n_bits = move->src.field->n_bits;
    move->dst.field = mf_from_id(dst);
    move->dst.ofs = 0;
    move->dst.n_bits = move->dst.field->n_bits;
}

void
ovs_flowgen_metadata_goto(struct ofpbuf *ofpacts, uint32_t vni, uint8_t table)
{
    struct ofpact_metadata *md = ofpact_put_WRITE_METADATA(ofpacts);
    md->metadata = htonll(vni);
    md->mask = OVS_BE64_MAX;
    ofpact_put_GOTO_TABLE(ofpacts)->table_id = table;
}
