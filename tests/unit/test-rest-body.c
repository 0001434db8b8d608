/* test-rest-body.c - the REST layer's body parsing (controller/rest-body.c):
 * bytes to a JSON object, and the object to each request, with the API's
 * typing rules and errors that name the field. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "controller/rest-body.h"

static json_t *
parse(const char *s)
{
    char *error;
    json_t *body = rest_body_parse(s, strlen(s), &error);
    assert_non_null(body);
    assert_null(error);
    return body;
}

/* 'error' is non-null, mentions 'what', and is freed. */
static void
expect_error(char *error, const char *what)
{
    assert_non_null(error);
    assert_non_null(strstr(error, what));
    free(error);
}

static void
test_parse(void **state OVS_UNUSED)
{
    char *error;

    assert_null(rest_body_parse("[1]", 3, &error));
    expect_error(error, "must be a JSON object");
    assert_null(rest_body_parse("{\"a\":1,\"a\":2}", 13, &error));
    expect_error(error, "duplicate");
    assert_null(rest_body_parse("{\"a\":", 5, &error));
    expect_error(error, "malformed JSON");
    assert_null(rest_body_parse(NULL, 0, &error));
    expect_error(error, "malformed JSON");
    json_decref(parse("{}"));
}

static void
test_net(void **state OVS_UNUSED)
{
    struct nvo_net_req rq;
    struct nvo_net_patch patch;
    json_t *b;

    b = parse("{\"name\":\"red\",\"vni\":5001,\"arp_responder\":false,"
              "\"mtu\":null}");
    assert_null(rest_body_net(b, &rq));
    assert_string_equal(rq.name, "red");
    assert_true(rq.has_vni && rq.vni == 5001);
    assert_true(rq.has_arp_responder && !rq.arp_responder);
    assert_false(rq.has_mtu);           /* null is "not given". */
    assert_null(rq.bum);
    assert_null(rest_body_net_patch(b, &patch));
    assert_string_equal(patch.name, "red");
    assert_true(patch.has_arp_responder && !patch.arp_responder);
    json_decref(b);

    b = parse("{\"name\":\"red\",\"vni\":\"5001\"}");
    expect_error(rest_body_net(b, &rq), "'vni' must be an integer");
    json_decref(b);
    b = parse("{\"arp_responder\":1}");
    expect_error(rest_body_net_patch(b, &patch),
                 "'arp_responder' must be true or false");
    json_decref(b);
    /* jansson refuses \u0000 in what it parses; built by hand (with
     * jansson's json_object() and json_stringn(), which this binary,
     * linked with libopenvswitch too, gets right: lib/ovs-json.syms). */
    b = json_object();
    json_object_set_new(b, "name", json_stringn("r\0d", 3));
    json_object_set_new(b, "encap", json_string("vxlan"));
    expect_error(rest_body_net(b, &rq), "'name' contains a NUL");
    json_object_del(b, "name");
    assert_null(rest_body_net(b, &rq));
    assert_string_equal(rq.encap, "vxlan");
    json_decref(b);
}

static void
test_hv_and_port(void **state OVS_UNUSED)
{
    struct nvo_hv_req hv;
    struct nvo_port_req rq;
    const char *hv_name, *iface;
    json_t *b;

    b = parse("{\"name\":\"hv1\",\"tunnel_ip\":\"2001:db8::1\","
              "\"dataplane\":\"ovs\",\"ovsdb\":\"tcp:[2001:db8::1]:6640\"}");
    assert_null(rest_body_hv(b, &hv));
    assert_string_equal(hv.tunnel_ip, "2001:db8::1");
    assert_null(hv.role);
    json_decref(b);
    b = parse("{\"ovsdb\":6640}");
    expect_error(rest_body_hv(b, &hv), "'ovsdb' must be a string");
    json_decref(b);

    b = parse("{\"vm\":\"w1\",\"allowed_addresses\":[\"10.0.0.1\","
              "\"2001:db8::/64\"]}");
    assert_null(rest_body_port(b, &rq));
    assert_int_equal(rq.n_allowed, 2);
    assert_string_equal(rq.allowed[1], "2001:db8::/64");
    free((void *) rq.allowed);
    json_decref(b);
    b = parse("{\"allowed_addresses\":[\"10.0.0.1\",2]}");
    expect_error(rest_body_port(b, &rq),
                 "'allowed_addresses' must be an array of strings");
    json_decref(b);
    b = parse("{\"allowed_addresses\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\","
              "\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\","
              "\"16\",\"17\"]}");
    expect_error(rest_body_port(b, &rq), "at most 16 strings");
    json_decref(b);

    b = parse("{\"iface\":\"tap1\"}");
    assert_null(rest_body_port_move(b, &hv_name, &iface));
    assert_null(hv_name);
    assert_string_equal(iface, "tap1");
    json_decref(b);
    b = parse("{\"hypervisor\":[]}");
    expect_error(rest_body_port_move(b, &hv_name, &iface),
                 "'hypervisor' must be a string");
    json_decref(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_net),
        cmocka_unit_test(test_hv_and_port),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
