/* fuzz-rest-body.c - libFuzzer target for REST request bodies, through the
 * controller's own code: the bytes a client sends go to rest_body_parse()
 * (what controller/rest.c calls for every POST/PATCH), the object to each
 * of controller/rest-body.h's request builders (what the handlers call),
 * and every request built to its validator in controller/validate.h (what
 * the service layer calls).  Checked on the way:
 *  - an input is parsed into an object or refused with a message, never
 *    both or neither;
 *  - a builder fills its request or answers a message naming a field;
 *  - what a validator accepts is canonical: a name, a VNI in range, a
 *    unicast MAC that reads back the same, a tunnel IP that parses, an
 *    OVSDB remote that parses, an interface name. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "controller/rest-body.h"
#include "controller/validate.h"
#include "lib/addr.h"
#include "lib/valid.h"
#include "packets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A builder's error must name a field in quotes. */
static void
check_error(char *error)
{
    if (error && !strchr(error, '\'')) {
        abort();
    }
    free(error);
}

static void
check_net(const json_t *body)
{
    struct nvo_net_req rq;
    struct nvo_net_valid v;
    char *error = rest_body_net(body, &rq);

    if (!error && !nvo_validate_net(&rq, &v)) {
        if (!nvo_valid_vni(v.vni) || !nvo_valid_name(rq.name)
            || (v.mtu && (v.mtu < NVO_MTU_MIN || v.mtu > NVO_MTU_MAX))) {
            abort();
        }
    }
    check_error(error);

    struct nvo_net_patch patch;
    check_error(rest_body_net_patch(body, &patch));
}

static void
check_hv(const json_t *body)
{
    struct nvo_hv_req rq;
    struct nvo_hv_valid v;
    char *error = rest_body_hv(body, &rq);

    if (!error && !nvo_validate_hv(&rq, &v)) {
        if (!nvo_ip_is_valid(v.tunnel_ip) || !nvo_valid_name(rq.name)
            || (v.dataplane == NVO_DP_OVS
                && nvo_ovsdb_remote_check(rq.ovsdb))) {
            abort();
        }
    }
    check_error(error);
}

static void
check_port(const json_t *body)
{
    struct nvo_port_req rq;
    struct nvo_port_valid v;
    char *error = rest_body_port(body, &rq);

    if (!error && !nvo_validate_port(&rq, &v)) {
        struct eth_addr mac;
        char again[ETH_ADDR_STRLEN + 1];

        if (!eth_addr_from_string(v.mac_s, &mac)
            || !eth_addr_equals(mac, v.mac)
            || eth_addr_is_multicast(mac) || eth_addr_is_zero(mac)
            || !nvo_valid_ifname(rq.iface) || !nvo_valid_name(rq.vm)
            || (rq.ip && !nvo_ip_is_valid(rq.ip))) {
            abort();
        }
        snprintf(again, sizeof again, ETH_ADDR_FMT, ETH_ADDR_ARGS(mac));
        if (strcmp(again, v.mac_s)) {
            abort();
        }
        free(v.allowed);
    }
    if (!error) {
        free((void *) rq.allowed);
    }
    check_error(error);

    const char *hv, *iface;
    error = rest_body_port_move(body, &hv, &iface);
    if (!error) {
        nvo_validate_port_move(hv, iface);
    }
    check_error(error);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *error;
    json_t *body = rest_body_parse((const char *) data, size, &error);

    if (!body == !error || (body && !json_is_object(body))) {
        abort();
    }
    if (body) {
        check_net(body);
        check_hv(body);
        check_port(body);
    }
    json_decref(body);
    free(error);
    return 0;
}
