/* test-vxlan.c - unit tests for agent/vxlan.c (the VXLAN header parser). */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "agent/vxlan.h"

/* A VXLAN packet for 'vni' with a minimal Ethernet header. */
static void
make_packet(uint8_t *buf, uint32_t vni)
{
    memset(buf, 0xab, VXLAN_MIN_LEN);
    vxlan_build(buf, vni);
}

static void
test_good(void **state)
{
    (void) state;
    uint8_t buf[64];
    uint32_t vni = 0;

    make_packet(buf, 5000);
    assert_int_equal(vxlan_parse(buf, VXLAN_MIN_LEN, &vni), VXLAN_OK);
    assert_int_equal(vni, 5000);

    make_packet(buf, VXLAN_VNI_MAX);
    assert_int_equal(vxlan_parse(buf, sizeof buf, &vni), VXLAN_OK);
    assert_int_equal(vni, 0xffffff);
}

static void
test_build_layout(void **state)
{
    (void) state;
    uint8_t hdr[VXLAN_HDR_LEN];
    static const uint8_t want[VXLAN_HDR_LEN] = {
        0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0
    };

    memset(hdr, 0xff, sizeof hdr);
    vxlan_build(hdr, 0x123456);
    assert_memory_equal(hdr, want, sizeof want);
}

static void
test_short(void **state)
{
    (void) state;
    uint8_t buf[64];
    uint32_t vni = 77;

    make_packet(buf, 10);
    for (size_t len = 0; len < VXLAN_MIN_LEN; len++) {
        assert_int_equal(vxlan_parse(buf, len, &vni), VXLAN_SHORT);
    }
    assert_int_equal(vni, 77);     /* Untouched on failure. */
    assert_int_equal(vxlan_parse(NULL, 0, &vni), VXLAN_SHORT);
}

static void
test_flags(void **state)
{
    (void) state;
    uint8_t buf[64];
    uint32_t vni = 77;

    /* I flag clear: dropped, whatever else is set. */
    make_packet(buf, 10);
    buf[0] = 0x00;
    assert_int_equal(vxlan_parse(buf, sizeof buf, &vni), VXLAN_BAD_FLAGS);
    buf[0] = 0xf7;
    assert_int_equal(vxlan_parse(buf, sizeof buf, &vni), VXLAN_BAD_FLAGS);
    assert_int_equal(vni, 77);

    /* Reserved bits are ignored on receipt (RFC 7348). */
    buf[0] = 0xff;
    buf[1] = buf[2] = buf[3] = buf[7] = 0xff;
    assert_int_equal(vxlan_parse(buf, sizeof buf, &vni), VXLAN_OK);
    assert_int_equal(vni, 10);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_build_layout),
        cmocka_unit_test(test_short),
        cmocka_unit_test(test_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
