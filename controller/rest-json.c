/* rest-json.c - JSON in (body fields) and out (API objects). */
#include <config.h>
#include "controller/rest-private.h"

#include "controller/ctl.h"
#include "controller/model.h"
#include "controller/southbound.h"
#include "lib/addr.h"
#include "util.h"

bool
rest_json_string(struct rest_call *c, const char *key, const char **out)
{
    json_t *v = json_object_get(c->body, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        return true;
    }
    if (!json_is_string(v)) {
        rest_reply_error(c, 400, "invalid", "'%s' must be a string", key);
        return false;
    }
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {
        rest_reply_error(c, 400, "invalid", "'%s' contains a NUL", key);
        return false;
    }
    *out = s;
    return true;
}

bool
rest_json_int(struct rest_call *c, const char *key, bool *has, int64_t *out)
{
    json_t *v = json_object_get(c->body, key);
    *has = false;
    if (!v || json_is_null(v)) {
        return true;
    }
    if (!json_is_integer(v)) {
        rest_reply_error(c, 400, "invalid", "'%s' must be an integer", key);
        return false;
    }
    *has = true;
    *out = json_integer_value(v);
    return true;
}

bool
rest_json_bool(struct rest_call *c, const char *key, bool *has, bool *out)
{
    json_t *v = json_object_get(c->body, key);
    *has = false;
    if (!v || json_is_null(v)) {
        return true;
    }
    if (!json_is_boolean(v)) {
        rest_reply_error(c, 400, "invalid", "'%s' must be true or false",
                         key);
        return false;
    }
    *has = true;
    *out = json_is_true(v);
    return true;
}

bool
rest_json_strings(struct rest_call *c, const char *key, size_t max,
                  const char ***out, size_t *n)
{
    json_t *v = json_object_get(c->body, key);
    *out = NULL;
    *n = 0;
    if (!v || json_is_null(v)) {
        return true;
    }
    if (!json_is_array(v) || json_array_size(v) > max) {
        rest_reply_error(c, 400, "invalid", "'%s' must be an array of at "
                         "most %"PRIuSIZE" strings", key, max);
        return false;
    }
    const char **s = h2o_mem_alloc_pool(&c->req->pool,
                                        (json_array_size(v) + 1)
                                        * sizeof *s);
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_string(e)
            || strlen(json_string_value(e)) != json_string_length(e)) {
            rest_reply_error(c, 400, "invalid", "'%s' must be an array of "
                             "strings", key);
            return false;
        }
        s[i] = json_string_value(e);
    }
    *out = s;
    *n = json_array_size(v);
    return true;
}

json_t *
rest_network_json(const struct nvo_network *net)
{
    json_t *o = json_pack("{s:I,s:s,s:I,s:s,s:s,s:b,s:I,s:I}",
                          "id", (json_int_t) net->id,
                          "name", net->name,
                          "vni", (json_int_t) net->vni,
                          "bum", nvo_bum_mode_to_string(net->bum),
                          "encap", nvo_encap_to_string(net->encap),
                          "arp_responder", net->arp_responder,
                          "revision", (json_int_t) net->revision,
                          "ports", (json_int_t) net->n_ports);
    if (net->mtu) {
        json_object_set_new(o, "mtu", json_pack("i", net->mtu));
    }
    return o;
}

json_t *
rest_hv_json(struct nvo_ctl *ctl, const struct nvo_hypervisor *hv)
{
    struct nvo_sb_status st;
    int64_t required;

    nvo_ctl_hv_status(ctl, hv->id, &st, &required);
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:I,s:I}",
                          "id", (json_int_t) hv->id,
                          "name", hv->name,
                          "tunnel_ip", hv->tunnel_ip,
                          "dataplane", nvo_dataplane_to_string(hv->dataplane),
                          "role", nvo_role_to_string(hv->role),
                          "revision", (json_int_t) hv->revision,
                          "ports", (json_int_t) hv->n_ports,
                          "state", nvo_sb_state_to_string(st.state),
                          "confirmed_revision",
                          (json_int_t) st.confirmed_revision,
                          "required_revision", (json_int_t) required);
    if (hv->ovsdb) {
        json_object_set_new(o, "ovsdb", json_pack("s", hv->ovsdb));
    }
    if (st.detail[0]) {
        json_object_set_new(o, "detail", json_pack("s", st.detail));
    }
    if (st.apply_error[0]) {
        json_object_set_new(o, "error", json_pack("s", st.apply_error));
    }
    /* Cluster mode: which controller programs it (doc/cluster.md). */
    char *owner = nvo_ctl_hv_owner(ctl, hv);
    if (owner) {
        json_object_set_new(o, "controller", json_pack("s", owner));
        free(owner);
    }
    return o;
}

json_t *
rest_port_json(const struct nvo_port *p)
{
    char mac[NVO_MAC_STRLEN];
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s?,s:s,s:I}",
                     "id", (json_int_t) p->id,
                     "vm", p->vm,
                     "network", p->network->name,
                     "hypervisor", p->hypervisor->name,
                     "mac", nvo_mac_format(p->mac.ea, mac),
                     "ip", p->ip,
                     "iface", p->iface,
                     "revision", (json_int_t) p->revision);
    if (p->n_allowed) {
        json_t *a = json_pack("[]");
        for (size_t i = 0; i < p->n_allowed; i++) {
            json_array_append_new(a, json_pack("s", p->allowed[i]));
        }
        json_object_set_new(o, "allowed_addresses", a);
    }
    return o;
}
