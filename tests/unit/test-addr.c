/* Unit tests: lib/addr.c. */
#include <config.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
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
test_ip(void **state OVS_UNUSED)
{
    assert_true(nvo_ip_is_valid("2001:db8::1"));
    assert_true(nvo_ip_is_valid("10.0.0.1"));
    assert_false(nvo_ip_is_valid("10.0.0.1/24"));
    assert_false(nvo_ip_is_valid("192.0.2.256"));
    assert_false(nvo_ip_is_valid("[2001:db8::1]"));
    assert_false(nvo_ip_is_valid(""));
    assert_false(nvo_ip_is_valid(NULL));
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
    assert_int_equal(nvo_ovsdb_remote_check("tcp:[2001:db8::1]:6640"), 0);
    assert_int_equal(nvo_ovsdb_remote_check("tcp:2001:db8::1:6640"),
                     -EINVAL);          /* Unbracketed: all host. */
    assert_int_equal(nvo_ovsdb_remote_check("unix:run/db.sock"), -EINVAL);
    assert_int_equal(nvo_ovsdb_remote_check("tcp:host.example:6640"),
                     -EINVAL);          /* No name resolution. */
    assert_int_equal(nvo_ovsdb_remote_check(NULL), -EINVAL);
}

static void
test_inet_remote(void **state OVS_UNUSED)
{
    struct sockaddr_storage ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
    bool ssl = true;

    assert_int_equal(nvo_inet_remote_parse("tcp:192.0.2.1:6650", &ssl, &ss),
                     0);
    assert_false(ssl);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(nvo_inet_remote_parse("ssl:[2001:db8::1]:6650", &ssl,
                                           &ss), 0);
    assert_true(ssl);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(ntohs(sin6->sin6_port), 6650);
    assert_int_equal(nvo_inet_remote_parse("unix:/run/x", NULL, &ss),
                     -EINVAL);
    assert_int_equal(nvo_inet_remote_parse("tcp:192.0.2.1", NULL, &ss),
                     -EINVAL);
    assert_int_equal(nvo_inet_remote_parse("udp:192.0.2.1:1", NULL, &ss),
                     -EINVAL);
    assert_int_equal(nvo_inet_remote_parse("tcp:192.0.2.1:-1", NULL, &ss),
                     -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ip),
        cmocka_unit_test(test_sockaddr),
        cmocka_unit_test(test_inet_remote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
