/* vxlan.c - the VXLAN header (RFC 7348): parsing and validation. */
#include <config.h>

#include "agent/vxlan.h"

#include <string.h>

enum vxlan_parse_result
vxlan_parse(const void *data, size_t len, uint32_t *vni)
{
    const uint8_t *p = data;

    if (len < VXLAN_MIN_LEN) {
        return VXLAN_SHORT;
    }
    if (!(p[0] & VXLAN_FLAG_I)) {
        return VXLAN_BAD_FLAGS;
    }
    *vni = ((uint32_t) p[4] << 16) | ((uint32_t) p[5] << 8) | p[6];
    return VXLAN_OK;
}

void
vxlan_build(void *hdr, uint32_t vni)
{
    uint8_t *p = hdr;

    memset(p, 0, VXLAN_HDR_LEN);
    p[0] = VXLAN_FLAG_I;
    p[4] = vni >> 16;
    p[5] = vni >> 8;
    p[6] = vni;
}
