/* fuzz-vxlan.c - libFuzzer target for the service node's packet parser and
 * replication decision (agent/vxlan.c, agent/svcnode-table.c).
 *
 * Input: byte 0 picks the outer source address among the table's VTEPs
 * (and a few strangers); the rest is the UDP payload.  The table serves
 * VNI 1 (fanout 8, including 10.0.0.1..8) and VNI 0xabcdef (fanout 2).
 * Checks the decision's invariants: a packet is forwarded only if it parses
 * and comes from a member of its VNI, never back to its sender, to every
 * other member exactly once. */
#include <config.h>

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/svcnode-table.h"
#include "agent/vxlan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct svcnode_table *
table(void)
{
    static struct svcnode_table t;
    static int inited;
    if (!inited) {
        struct in_addr v[8];
        for (int i = 0; i < 8; i++) {
            v[i].s_addr = htonl(0x0a000001 + i);
        }
        svcnode_table_init(&t, htonl(0x0a0000fe));
        svcnode_table_set(&t, 1, v, 8);
        svcnode_table_set(&t, 0xabcdef, v + 2, 2);
        inited = 1;
    }
    return &t;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    struct svcnode_table *t = table();
    uint32_t src = htonl(0x0a000000 + (data[0] & 0x0f));  /* .0 to .15 */
    const uint8_t *pkt = data + 1;
    size_t len = size - 1;

    uint32_t vni = 0;
    enum vxlan_parse_result pr = vxlan_parse(pkt, len, &vni);
    struct svcnode_decision d;
    enum svcnode_verdict v = svcnode_decide(t, pkt, len, src, &d);
    if (v != d.verdict) {
        abort();
    }

    if (len > SVCNODE_MAX_PACKET) {
        if (v != SVCNODE_DROP_TOO_LONG) {
            abort();
        }
        return 0;
    }
    if ((pr == VXLAN_SHORT) != (v == SVCNODE_DROP_SHORT)
        || (pr == VXLAN_BAD_FLAGS) != (v == SVCNODE_DROP_FLAGS)) {
        abort();
    }
    if (pr != VXLAN_OK) {
        return 0;
    }
    if (vni > VXLAN_VNI_MAX || vni != d.vni) {
        abort();
    }

    const struct svcnode_vni *e = svcnode_table_find(t, vni);
    if (!e) {
        if (v != SVCNODE_DROP_UNKNOWN_VNI || d.entry) {
            abort();
        }
        return 0;
    }
    int member = 0;
    for (size_t i = 0; i < e->n_vteps; i++) {
        member |= e->vteps[i] == src;
    }
    if (!member) {
        if (v != SVCNODE_DROP_UNKNOWN_SOURCE
            || svcnode_decision_n_dests(&d)) {
            abort();
        }
        return 0;
    }
    if (v != SVCNODE_FORWARD || d.entry != e
        || svcnode_decision_n_dests(&d) != e->n_vteps - 1) {
        abort();
    }
    for (size_t i = 0; i < svcnode_decision_n_dests(&d); i++) {
        uint32_t dst = svcnode_decision_dest(&d, i);
        if (dst == src) {
            abort();
        }
        for (size_t j = 0; j < i; j++) {
            if (svcnode_decision_dest(&d, j) == dst) {
                abort();
            }
        }
    }
    return 0;
}
