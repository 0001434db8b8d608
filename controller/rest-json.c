/* rest-json.c - JSON out: objects as the API shows them (bodies in are
 * controller/rest-body.c). */
#include <config.h>
#include "controller/rest-private.h"

#include "controller/ctl.h"
#include "controller/model.h"
#include "controller/southbound.h"
#include "packets.h"
#include "util.h"

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
    char mac[ETH_ADDR_STRLEN + 1];
    snprintf(mac, sizeof mac, ETH_ADDR_FMT, ETH_ADDR_ARGS(p->mac));
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s?,s:s,s:I}",
                     "id", (json_int_t) p->id,
                     "vm", p->vm,
                     "network", p->network->name,
                     "hypervisor", p->hypervisor->name,
                     "mac", mac,
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
