/* test-rest-auth.c - REST bearer tokens (controller/rest-auth.c). */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <unistd.h>

#include "controller/rest-auth.h"
#include "openvswitch/compiler.h"

#define ADMIN "admin-0123456789abcdef"
#define READER "reader-0123456789abcdef"

static struct nvo_rest_auth *
parse_ok(const char *text)
{
    struct nvo_rest_auth *a;
    char *err;
    assert_int_equal(nvo_rest_auth_parse(text, "f", &a, &err), 0);
    assert_null(err);
    assert_non_null(a);
    return a;
}

static void
parse_fails(const char *text, const char *needle)
{
    struct nvo_rest_auth *a = (void *) 1;
    char *err = NULL;
    assert_int_equal(nvo_rest_auth_parse(text, "f", &a, &err), -EINVAL);
    assert_null(a);
    assert_non_null(err);
    assert_non_null(strstr(err, needle));
    /* A message never repeats a token. */
    assert_null(strstr(err, "0123456789abcdef"));
    free(err);
}

static enum nvo_rest_role
check(const struct nvo_rest_auth *a, const char *hdr)
{
    return nvo_rest_auth_check(a, hdr, hdr ? strlen(hdr) : 0);
}

static void
test_parse(void **state OVS_UNUSED)
{
    struct nvo_rest_auth *a = parse_ok("# comment\n\n  " ADMIN " admin\r\n"
                                       "\t" READER "\treader  \n");
    assert_int_equal(nvo_rest_auth_count(a), 2);
    nvo_rest_auth_destroy(a);

    parse_fails("", "no tokens");
    parse_fails("# only a comment\n", "no tokens");
    parse_fails(ADMIN "\n", "f:1: expected");
    parse_fails("\n" ADMIN " root\n", "f:2: unknown role");
    parse_fails(ADMIN " admin extra\n", "expected");
    parse_fails("short admin\n", "16 to 256");
    parse_fails(ADMIN "\x01 admin\n", "printable");
    nvo_rest_auth_destroy(NULL);
}

static void
test_check(void **state OVS_UNUSED)
{
    struct nvo_rest_auth *a = parse_ok(ADMIN " admin\n" READER " reader\n");

    assert_int_equal(check(a, "Bearer " ADMIN), NVO_ROLE_ADMIN);
    assert_int_equal(check(a, "bearer " READER), NVO_ROLE_READER);
    assert_int_equal(check(a, "Bearer  " READER " "), NVO_ROLE_READER);
    assert_int_equal(check(a, NULL), NVO_ROLE_NONE);
    assert_int_equal(check(a, ""), NVO_ROLE_NONE);
    assert_int_equal(check(a, "Bearer "), NVO_ROLE_NONE);
    assert_int_equal(check(a, ADMIN), NVO_ROLE_NONE);
    assert_int_equal(check(a, "Basic " ADMIN), NVO_ROLE_NONE);
    assert_int_equal(check(a, "Bearer " ADMIN "x"), NVO_ROLE_NONE);
    assert_int_equal(check(a, "Bearer admin-0123456789abcdeF"),
                     NVO_ROLE_NONE);
    /* Not NUL-terminated: only 'len' bytes count. */
    assert_int_equal(nvo_rest_auth_check(a, "Bearer " ADMIN "zzz",
                                         strlen("Bearer " ADMIN)),
                     NVO_ROLE_ADMIN);
    assert_int_equal(nvo_rest_auth_check(NULL, "Bearer " ADMIN, 29),
                     NVO_ROLE_NONE);
    nvo_rest_auth_destroy(a);
}

static void
test_roles(void **state OVS_UNUSED)
{
    assert_true(nvo_rest_role_allows(NVO_ROLE_ADMIN, "DELETE", 6));
    assert_true(nvo_rest_role_allows(NVO_ROLE_READER, "GET", 3));
    assert_true(nvo_rest_role_allows(NVO_ROLE_READER, "HEAD", 4));
    assert_false(nvo_rest_role_allows(NVO_ROLE_READER, "POST", 4));
    assert_false(nvo_rest_role_allows(NVO_ROLE_READER, "GETX", 4));
    assert_false(nvo_rest_role_allows(NVO_ROLE_NONE, "GET", 3));
}

static void
test_load(void **state OVS_UNUSED)
{
    struct nvo_rest_auth *a;
    char *err;
    assert_int_equal(nvo_rest_auth_load("/nonexistent/tokens", &a, &err),
                     -ENOENT);
    assert_null(a);
    assert_non_null(strstr(err, "/nonexistent/tokens"));
    free(err);

    char name[] = "/tmp/test-rest-auth.XXXXXX";
    int fd = mkstemp(name);
    assert_true(fd >= 0);
    const char text[] = READER " reader\n";
    assert_int_equal(write(fd, text, sizeof text - 1), sizeof text - 1);
    close(fd);
    assert_int_equal(nvo_rest_auth_load(name, &a, &err), 0);
    assert_int_equal(check(a, "Bearer " READER), NVO_ROLE_READER);
    nvo_rest_auth_destroy(a);
    unlink(name);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
