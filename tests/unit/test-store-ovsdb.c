/* Unit tests: controller/store-ovsdb.c (what needs no running cluster;
 * tests/integration/test-cluster-raft.sh covers the rest). */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "controller/store-ovsdb.h"
#include "openvswitch/compiler.h"
#include "schema/nvo-idl.h"

/* Parses 'db'; expects success with 'want' as the remotes. */
static void
parse_ok(const char *db, const char *want)
{
    char *remotes = NULL, *errmsg = NULL;
    assert_int_equal(nvo_store_ovsdb_parse(db, &remotes, &errmsg), 0);
    assert_null(errmsg);
    assert_string_equal(remotes, want);
    free(remotes);
}

/* Parses 'db'; expects -EINVAL with a message containing 'why'. */
static void
parse_bad(const char *db, const char *why)
{
    char *remotes = NULL, *errmsg = NULL;
    assert_int_equal(nvo_store_ovsdb_parse(db, &remotes, &errmsg), -EINVAL);
    assert_null(remotes);
    assert_non_null(errmsg);
    if (!strstr(errmsg, why)) {
        fail_msg("'%s' does not say '%s'", errmsg, why);
    }
    free(errmsg);
}

static void
test_parse(void **state OVS_UNUSED)
{
    parse_ok("ovsdb:tcp:192.0.2.201:6641", "tcp:192.0.2.201:6641");
    parse_ok("ovsdb:tcp:192.0.2.201:6641,ssl:192.0.2.202:6641,"
             "unix:/run/nvo/db.sock",
             "tcp:192.0.2.201:6641,ssl:192.0.2.202:6641,"
             "unix:/run/nvo/db.sock");
    parse_ok("ovsdb:tcp:[2001:db8::1]:6641", "tcp:[2001:db8::1]:6641");
    parse_bad("/var/lib/nvo/nvo.db", "not an ovsdb: store");
    parse_bad("ovsdb:", "no remote");
    parse_bad("ovsdb:tcp:192.0.2.1", "bad remote 'tcp:192.0.2.1'");
    parse_bad("ovsdb:tcp:192.0.2.1:66x", "bad remote");
    parse_bad("ovsdb:tcp::6641", "bad remote");
    parse_bad("ovsdb:http://192.0.2.1:6641", "bad remote");
    parse_bad("ovsdb:unix:", "bad remote");
    parse_bad("ovsdb:tcp:192.0.2.1:6641,", "empty remote");
    parse_bad("ovsdb:tcp:192.0.2.1:6641,,tcp:192.0.2.2:6641",
              "empty remote");
}

/* The generated IDL is the schema's: the database name and every table. */
static void
test_idl_class(void **state OVS_UNUSED)
{
    static const char *tables[] = {
        "NVO_Global", "Network", "Hypervisor", "Port", "Controller",
        "Hypervisor_Private", "Journal",
    };
    assert_string_equal(nvorec_idl_class.database, NVO_STORE_OVSDB_NAME);
    assert_int_equal(nvorec_idl_class.n_tables, ARRAY_SIZE(tables));
    for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
        bool found = false;
        for (size_t j = 0; j < nvorec_idl_class.n_tables; j++) {
            found |= !strcmp(nvorec_idl_class.tables[j].name, tables[i]);
        }
        if (!found) {
            fail_msg("table %s missing from the IDL", tables[i]);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_idl_class),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
