/* rest-hypervisors.c - /v1/hypervisors: transport nodes.
 *
 *   GET    /v1/hypervisors          200 [hypervisor...] (by id)
 *   POST   /v1/hypervisors          201 hypervisor {"name","tunnel_ip",
 *                                   "dataplane","role"?,"ovsdb"?}
 *   GET    /v1/hypervisors/{name}   200 hypervisor
 *   DELETE /v1/hypervisors/{name}   204; 409 while ports are on it
 * Each hypervisor shows its southbound "state", "confirmed_revision" and
 * "required_revision". */
#include <config.h>
#include "controller/rest-private.h"

#include <stdlib.h>
#include <string.h>

#include "controller/ctl.h"
#include "controller/model.h"
#include "controller/store.h"
#include "controller/validate.h"
#include "util.h"

static int
compare_hvs(const void *a_, const void *b_)
{
    const struct nvo_hypervisor *const *a = a_, *const *b = b_;
    return (*a)->id < (*b)->id ? -1 : (*a)->id > (*b)->id;
}

static void
list_hvs(struct rest_call *c)
{
    const struct hmap *h = &c->ctl->model->hvs_by_id;
    size_t n = 0;
    const struct nvo_hypervisor **v = xmalloc((hmap_count(h) + 1)
                                              * sizeof *v);
    const struct nvo_hypervisor *hv;
    HMAP_FOR_EACH (hv, id_node, h) {
        v[n++] = hv;
    }
    qsort(v, n, sizeof *v, compare_hvs);
    json_t *arr = json_pack("[]");
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, rest_hv_json(c->ctl, v[i]));
    }
    free(v);
    rest_reply_json(c, 200, arr);
}

static const struct nvo_hypervisor *
hv_by_tunnel_ip(const struct nvo_model *m, const char *ip)
{
    const struct nvo_hypervisor *hv;
    HMAP_FOR_EACH (hv, id_node, &m->hvs_by_id) {
        if (!strcmp(hv->tunnel_ip, ip)) {
            return hv;
        }
    }
    return NULL;
}

static void
create_hv(struct rest_call *c)
{
    struct nvo_model *m = c->ctl->model;
    struct nvo_hv_req rq;
    struct nvo_hv_valid v;

    if (!rest_json_string(c, "name", &rq.name)
        || !rest_json_string(c, "tunnel_ip", &rq.tunnel_ip)
        || !rest_json_string(c, "dataplane", &rq.dataplane)
        || !rest_json_string(c, "role", &rq.role)
        || !rest_json_string(c, "ovsdb", &rq.ovsdb)) {
        return;
    }
    const char *why = nvo_validate_hv(&rq, &v);
    if (why) {
        rest_reply_error(c, 400, "invalid", "%s", why);
        return;
    }
    if (nvo_model_hv_by_name(m, rq.name)) {
        rest_reply_error(c, 409, "name_in_use", "hypervisor %s already "
                         "exists", rq.name);
        return;
    }
    const struct nvo_hypervisor *other = hv_by_tunnel_ip(m, v.tunnel_ip);
    if (other) {
        rest_reply_error(c, 409, "tunnel_ip_in_use", "tunnel IP %s is "
                         "already used by hypervisor %s", v.tunnel_ip,
                         other->name);
        return;
    }

    int64_t id, rev;
    int error = nvo_store_add_hv(c->ctl->store, rq.name, v.tunnel_ip,
                                 v.dataplane, v.role, rq.ovsdb, &id, &rev);
    if (error) {
        rest_reply_store_error(c, error);
        return;
    }
    struct nvo_hypervisor *hv = nvo_model_add_hv(m, id, rq.name, v.tunnel_ip,
                                                 v.dataplane, v.role,
                                                 rq.ovsdb, rev);
    m->revision = rev;

    char *location = xasprintf("/v1/hypervisors/%s", hv->name);
    nvo_ctl_publish(c->ctl, &hv->id, 1, NULL, NVO_CTL_ALL_NETS, rev);
    rest_finish_write(c, 201, rest_hv_json(c->ctl, hv), location, &hv->id, 1,
                      rev);
    free(location);
}

static void
delete_hv(struct rest_call *c, struct nvo_hypervisor *hv)
{
    struct nvo_model *m = c->ctl->model;

    if (hv->n_ports) {
        rest_reply_error(c, 409, "in_use", "hypervisor %s still has %zu "
                         "port(s)", hv->name, hv->n_ports);
        return;
    }
    int64_t rev;
    int error = nvo_store_delete_hv(c->ctl->store, hv->id, &rev);
    if (error) {
        rest_reply_store_error(c, error);
        return;
    }
    int64_t id = hv->id;
    bool was_ovs = hv->dataplane == NVO_DP_OVS;
    bool was_sn = hv->role == NVO_ROLE_SERVICE_NODE;
    nvo_model_remove_hv(m, hv);
    m->revision = rev;
    nvo_ctl_forget_hv(c->ctl, id, was_ovs);
    if (was_sn) {
        /* Like a failed node: its networks move to another one at once, or
         * hypervisors would keep flooding to a node that is gone. */
        nvo_ctl_replace_service_nodes(c->ctl, &id, 1, rev);
    } else {
        nvo_ctl_publish(c->ctl, &id, 1, NULL, NVO_CTL_ALL_NETS, rev);
    }
    rest_finish_write(c, 204, NULL, NULL, &id, 1, rev);
}

void
rest_hypervisors(struct rest_call *c)
{
    if (!c->item) {
        if (rest_method_is(c, "POST")) {
            create_hv(c);
        } else {
            list_hvs(c);
        }
        return;
    }
    struct nvo_hypervisor *hv = nvo_model_hv_by_name(c->ctl->model, c->item);
    if (!hv) {
        rest_reply_error(c, 404, "not_found", "no hypervisor named %s",
                         c->item);
    } else if (rest_method_is(c, "DELETE")) {
        delete_hv(c, hv);
    } else {
        rest_reply_json(c, 200, rest_hv_json(c->ctl, hv));
    }
}
