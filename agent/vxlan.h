/* vxlan.h - the VXLAN header (RFC 7348): parsing and validation.
 *
 *    0                   1                   2                   3
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |R|R|R|R|I|R|R|R|            Reserved                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                VXLAN Network Identifier (VNI) |   Reserved    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Policy: the I flag must be set (else there is no VNI to act on); the
 * reserved bits are ignored on receipt, as RFC 7348 says, and since the
 * service node forwards the header unchanged they reach the receivers as
 * sent.  An encapsulated Ethernet header (14 bytes) must follow. */
#ifndef NVO_VXLAN_H
#define NVO_VXLAN_H 1

#include <stddef.h>
#include <stdint.h>

#define VXLAN_HDR_LEN 8
#define VXLAN_FLAG_I 0x08
#define VXLAN_ETH_HDR_LEN 14
#define VXLAN_MIN_LEN (VXLAN_HDR_LEN + VXLAN_ETH_HDR_LEN)
#define VXLAN_VNI_MAX 0xffffffu    /* VNIs are 24 bits; 0 is not used. */

/* What vxlan_parse() found. */
enum vxlan_parse_result {
    VXLAN_OK,
    VXLAN_SHORT,                /* Fewer than VXLAN_MIN_LEN bytes. */
    VXLAN_BAD_FLAGS,            /* I flag clear. */
};

/* Validates the 'len' bytes at 'data' (a UDP payload) as a VXLAN packet
 * carrying an Ethernet frame.  On VXLAN_OK stores the VNI in '*vni'
 * (untouched otherwise).  Pure; reads at most VXLAN_HDR_LEN bytes. */
enum vxlan_parse_result vxlan_parse(const void *data, size_t len,
                                    uint32_t *vni);

/* Writes a VXLAN header for 'vni' (I flag set, reserved bits zero) into
 * the VXLAN_HDR_LEN bytes at 'hdr'. */
void vxlan_build(void *hdr, uint32_t vni);

#endif /* agent/vxlan.h */
