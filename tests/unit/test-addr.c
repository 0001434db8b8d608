/* Unit tests: lib/addr.c. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "lib/addr.h"
#include "openvswitch/compiler.h"

static void
test_mac(void **state OVS_UNUSED)
{
    uint8_t m[NVO_MAC_LEN];
    char buf[NVO_MAC_STRLEN];

    assert_int_equal(nvo_mac_parse("02:AB:cd:00:11:ff", m), 0);
    assert_string_equal(nvo_mac_format(m, buf), "02:ab:cd:00:11:ff");
    assert_true(nvo_mac_is_unicast(m));
    assert_int_equal(nvo_mac_parse("02:ab:cd:00:11", m), -EINVAL);
    assert_int_equal(nvo_mac_parse("02:ab:cd:00:11:fg", m), -EINVAL);
    assert_int_equal(nvo_mac_parse("02-ab-cd-00-11-ff", m), -EINVAL);
    assert_int_equal(nvo_mac_parse(NULL, m), -EINVAL);
    assert_int_equal(nvo_mac_parse("01:00:5e:00:00:01", m), 0);
    assert_false(nvo_mac_is_unicast(m));
    assert_int_equal(nvo_mac_parse("00:00:00:00:00:00", m), 0);
    assert_false(nvo_mac_is_unicast(m));
    assert_int_equal(nvo_mac_parse("ff:ff:ff:ff:ff:ff", m), 0);
    assert_false(nvo_mac_is_unicast(m));
}

static void
test_ip(void **state OVS_UNUSED)
{
    struct in_addr a;
    assert_int_equal(nvo_ipv4_parse("192.0.2.1", &a), 0);
    assert_int_equal(nvo_ipv4_parse("192.0.2.256", &a), -EINVAL);
    assert_int_equal(nvo_ipv4_parse("192.0.2", &a), -EINVAL);
    assert_true(nvo_ip_is_valid("2001:db8::1"));
    assert_true(nvo_ip_is_valid("10.0.0.1"));
    assert_false(nvo_ip_is_valid("10.0.0.1/24"));
    assert_false(nvo_ip_is_valid(""));
}

static void
test_sockaddr(void **state OVS_UNUSED)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *sin = (struct sockaddr_in *) &ss;

    assert_int_equal(nvo_sockaddr_parse("127.0.0.1:8080", NULL, &ss), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(ntohs(sin->sin_port), 8080);
    assert_int_equal(nvo_sockaddr_parse("6650", "0.0.0.0", &ss), 0);
    assert_int_equal(ntohs(sin->sin_port), 6650);
    assert_int_equal(nvo_sockaddr_parse("[::1]:80", NULL, &ss), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(nvo_sockaddr_parse("127.0.0.1:65536", NULL, &ss),
                     -EINVAL);
    assert_int_equal(nvo_sockaddr_parse("127.0.0.1:", NULL, &ss), -EINVAL);
    assert_int_equal(nvo_sockaddr_parse("6650", NULL, &ss), -EINVAL);
    assert_int_equal(nvo_sockaddr_parse("host:80", NULL, &ss), -EINVAL);
    assert_int_equal(nvo_ovsdb_remote_check("tcp:192.0.2.1:6640"), 0);
    assert_int_equal(nvo_ovsdb_remote_check("unix:/run/db.sock"), 0);
    assert_int_equal(nvo_ovsdb_remote_check("ssl:192.0.2.1:6640"), 0);
    assert_int_equal(nvo_ovsdb_remote_check("ssl:192.0.2.1"), -EINVAL);
    assert_int_equal(nvo_ovsdb_remote_check("pssl:6640"), -EINVAL);
    assert_int_equal(nvo_ovsdb_remote_check("tcp:192.0.2.1"), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mac),
        cmocka_unit_test(test_ip),
        cmocka_unit_test(test_sockaddr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
