/* fuzz-rest-body.c - libFuzzer target for REST request bodies: the bytes a
 * client sends are parsed exactly as controller/rest.c does (jansson,
 * duplicates rejected, an object required), their fields are extracted
 * with the REST layer's typing rules (strings without NULs, integers) and
 * fed to every validator of controller/validate.h.  Anything accepted must
 * come out canonical: a VNI in range, a unicast MAC, a parsable tunnel IP. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "controller/validate.h"
#include "lib/addr.h"

/* libopenvswitch (linked statically) defines functions with some of
 * jansson's names; only the ones below are safe to call here. */
#pragma GCC poison json_string json_array json_object json_integer json_real json_equal

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The REST layer's rule: absent or null -> NULL; a string without NUL ->
 * it; anything else -> rejected (returns false). */
static bool
get_string(json_t *body, const char *key, const char **out)
{
    json_t *v = json_object_get(body, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        return true;
    }
    if (!json_is_string(v)
        || strlen(json_string_value(v)) != json_string_length(v)) {
        return false;
    }
    *out = json_string_value(v);
    return true;
}

static void
check_net(json_t *body)
{
    struct nvo_net_req rq = { 0 };
    struct nvo_net_valid v;
    json_t *vni = json_object_get(body, "vni");

    if (!get_string(body, "name", &rq.name)
        || !get_string(body, "bum", &rq.bum)) {
        return;
    }
    if (vni && json_is_integer(vni)) {
        rq.has_vni = true;
        rq.vni = json_integer_value(vni);
    }
    if (!nvo_validate_net(&rq, &v)) {
        if (!nvo_valid_vni(v.vni) || !nvo_valid_name(rq.name)) {
            abort();
        }
    }
}

static void
check_hv(json_t *body)
{
    struct nvo_hv_req rq = { 0 };
    struct nvo_hv_valid v;
    struct in_addr a;

    if (!get_string(body, "name", &rq.name)
        || !get_string(body, "tunnel_ip", &rq.tunnel_ip)
        || !get_string(body, "dataplane", &rq.dataplane)
        || !get_string(body, "role", &rq.role)
        || !get_string(body, "ovsdb", &rq.ovsdb)) {
        return;
    }
    if (!nvo_validate_hv(&rq, &v)) {
        if (nvo_ipv4_parse(v.tunnel_ip, &a) || !nvo_valid_name(rq.name)
            || (v.dataplane == NVO_DP_OVS
                && nvo_ovsdb_remote_check(rq.ovsdb))) {
            abort();
        }
    }
}

static void
check_port(json_t *body)
{
    struct nvo_port_req rq = { 0 };
    struct nvo_port_valid v;
    uint8_t mac[NVO_MAC_LEN];

    if (!get_string(body, "vm", &rq.vm)
        || !get_string(body, "network", &rq.network)
        || !get_string(body, "hypervisor", &rq.hypervisor)
        || !get_string(body, "mac", &rq.mac)
        || !get_string(body, "ip", &rq.ip)
        || !get_string(body, "iface", &rq.iface)) {
        return;
    }
    if (!nvo_validate_port(&rq, &v)) {
        if (nvo_mac_parse(v.mac_s, mac) || !nvo_mac_is_unicast(mac)
            || !nvo_valid_ifname(rq.iface)) {
            abort();
        }
    }
    nvo_validate_port_move(rq.hypervisor, rq.iface);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t err;
    json_t *body = json_loadb((const char *) data, size,
                              JSON_REJECT_DUPLICATES, &err);
    if (body && json_is_object(body)) {
        check_net(body);
        check_hv(body);
        check_port(body);
    }
    json_decref(body);
    return 0;
}
