#include <config.h>
#include "controller/rest-body.h"

#include <string.h>

#include "util.h"

json_t *
rest_body_parse(const char *data, size_t len, char **errmsg)
{
    json_error_t err;
    json_t *body = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES,
                              &err);
    *errmsg = NULL;
    if (!body) {
        *errmsg = xasprintf("malformed JSON: %s (line %d, column %d)",
                            err.text, err.line, err.column);
    } else if (!json_is_object(body)) {
        *errmsg = xstrdup("the body must be a JSON object");
        json_decref(body);
        body = NULL;
    }
    return body;
}

/* Field 'key' of 'body', or NULL if absent or null (the API's "not
 * given"). */
static json_t *
field(const json_t *body, const char *key)
{
    json_t *v = json_object_get(body, key);
    return v && !json_is_null(v) ? v : NULL;
}

/* A string without NUL, or NULL if not given. */
static char *
get_string(const json_t *body, const char *key, const char **out)
{
    json_t *v = field(body, key);
    *out = NULL;
    if (v && !json_is_string(v)) {
        return xasprintf("'%s' must be a string", key);
    } else if (v && strlen(json_string_value(v)) != json_string_length(v)) {
        return xasprintf("'%s' contains a NUL", key);
    }
    *out = v ? json_string_value(v) : NULL;
    return NULL;
}

static char *
get_int(const json_t *body, const char *key, bool *has, int64_t *out)
{
    json_t *v = field(body, key);
    if (v && !json_is_integer(v)) {
        return xasprintf("'%s' must be an integer", key);
    }
    *has = v != NULL;
    *out = v ? json_integer_value(v) : 0;
    return NULL;
}

static char *
get_bool(const json_t *body, const char *key, bool *has, bool *out)
{
    json_t *v = field(body, key);
    if (v && !json_is_boolean(v)) {
        return xasprintf("'%s' must be true or false", key);
    }
    *has = v != NULL;
    *out = v && json_is_true(v);
    return NULL;
}

/* An array of at most 'max' strings; '*out' (caller frees) NULL if absent. */
static char *
get_strings(const json_t *body, const char *key, size_t max,
            const char ***out, size_t *n)
{
    json_t *v = field(body, key);
    *out = NULL;
    *n = 0;
    if (!v) {
        return NULL;
    }
    if (!json_is_array(v) || json_array_size(v) > max) {
        return xasprintf("'%s' must be an array of at most %"PRIuSIZE
                         " strings", key, max);
    }
    size_t len = json_array_size(v);
    for (size_t i = 0; i < len; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_string(e)
            || strlen(json_string_value(e)) != json_string_length(e)) {
            return xasprintf("'%s' must be an array of strings", key);
        }
    }
    const char **s = xmalloc((len + 1) * sizeof *s);
    for (size_t i = 0; i < len; i++) {
        s[i] = json_string_value(json_array_get(v, i));
    }
    s[len] = NULL;
    *out = s;
    *n = len;
    return NULL;
}

char *
rest_body_net(const json_t *body, struct nvo_net_req *rq)
{
    char *error;

    memset(rq, 0, sizeof *rq);
    (void) ((error = get_string(body, "name", &rq->name))
            || (error = get_int(body, "vni", &rq->has_vni, &rq->vni))
            || (error = get_string(body, "bum", &rq->bum))
            || (error = get_string(body, "encap", &rq->encap))
            || (error = get_bool(body, "arp_responder",
                                 &rq->has_arp_responder, &rq->arp_responder))
            || (error = get_int(body, "mtu", &rq->has_mtu, &rq->mtu)));
    return error;
}

char *
rest_body_net_patch(const json_t *body, struct nvo_net_patch *patch)
{
    struct nvo_net_req rq;
    char *error = rest_body_net(body, &rq);

    *patch = (struct nvo_net_patch) {
        .name = rq.name, .has_vni = rq.has_vni, .vni = rq.vni,
        .encap = rq.encap, .bum = rq.bum,
        .has_arp_responder = rq.has_arp_responder,
        .arp_responder = rq.arp_responder,
        .has_mtu = rq.has_mtu, .mtu = rq.mtu,
    };
    return error;
}

char *
rest_body_hv(const json_t *body, struct nvo_hv_req *rq)
{
    char *error;

    memset(rq, 0, sizeof *rq);
    (void) ((error = get_string(body, "name", &rq->name))
            || (error = get_string(body, "tunnel_ip", &rq->tunnel_ip))
            || (error = get_string(body, "dataplane", &rq->dataplane))
            || (error = get_string(body, "role", &rq->role))
            || (error = get_string(body, "ovsdb", &rq->ovsdb)));
    return error;
}

char *
rest_body_port(const json_t *body, struct nvo_port_req *rq)
{
    const char **allowed;
    char *error;

    memset(rq, 0, sizeof *rq);
    (void) ((error = get_string(body, "vm", &rq->vm))
            || (error = get_string(body, "network", &rq->network))
            || (error = get_string(body, "hypervisor", &rq->hypervisor))
            || (error = get_string(body, "mac", &rq->mac))
            || (error = get_string(body, "ip", &rq->ip))
            || (error = get_string(body, "iface", &rq->iface))
            || (error = get_strings(body, "allowed_addresses",
                                    NVO_ALLOWED_MAX, &allowed,
                                    &rq->n_allowed)));
    if (!error) {
        rq->allowed = allowed;
    }
    return error;
}

char *
rest_body_port_move(const json_t *body, const char **hypervisor,
                    const char **iface)
{
    char *error;

    *iface = NULL;
    (void) ((error = get_string(body, "hypervisor", hypervisor))
            || (error = get_string(body, "iface", iface)));
    return error;
}
