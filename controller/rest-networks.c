/* rest-networks.c - /v1/networks: tenant L2 segments.
 *
 *   GET    /v1/networks           200 [network...] (by id)
 *   POST   /v1/networks           201 network {"name","vni","bum"?}
 *   GET    /v1/networks/{name}    200 network
 *   PATCH  /v1/networks/{name}    200 network {"bum"}
 *   DELETE /v1/networks/{name}    204; 409 while ports use it */
#include <config.h>
#include "controller/rest-private.h"

#include <stdlib.h>

#include "controller/ctl.h"
#include "controller/model.h"
#include "controller/store.h"
#include "controller/validate.h"
#include "util.h"

static int
compare_networks(const void *a_, const void *b_)
{
    const struct nvo_network *const *a = a_, *const *b = b_;
    return (*a)->id < (*b)->id ? -1 : (*a)->id > (*b)->id;
}

static void
list_networks(struct rest_call *c)
{
    const struct hmap *h = &c->ctl->model->networks_by_id;
    size_t n = 0;
    const struct nvo_network **v = xmalloc((hmap_count(h) + 1) * sizeof *v);
    const struct nvo_network *net;
    HMAP_FOR_EACH (net, id_node, h) {
        v[n++] = net;
    }
    qsort(v, n, sizeof *v, compare_networks);
    json_t *arr = json_pack("[]");
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, rest_network_json(v[i]));
    }
    free(v);
    rest_reply_json(c, 200, arr);
}

static const struct nvo_network *
network_by_vni(const struct nvo_model *m, uint32_t vni)
{
    const struct nvo_network *net;
    HMAP_FOR_EACH (net, id_node, &m->networks_by_id) {
        if (net->vni == vni) {
            return net;
        }
    }
    return NULL;
}

static void
create_network(struct rest_call *c)
{
    struct nvo_model *m = c->ctl->model;
    struct nvo_net_req rq;
    struct nvo_net_valid v;

    if (!rest_json_string(c, "name", &rq.name)
        || !rest_json_int(c, "vni", &rq.has_vni, &rq.vni)
        || !rest_json_string(c, "bum", &rq.bum)) {
        return;
    }
    const char *why = nvo_validate_net(&rq, &v);
    if (why) {
        rest_reply_error(c, 400, "invalid", "%s", why);
        return;
    }
    if (nvo_model_network_by_name(m, rq.name)) {
        rest_reply_error(c, 409, "name_in_use", "network %s already exists",
                         rq.name);
        return;
    }
    const struct nvo_network *other = network_by_vni(m, v.vni);
    if (other) {
        rest_reply_error(c, 409, "vni_in_use", "VNI %"PRIu32" is already "
                         "used by network %s", v.vni, other->name);
        return;
    }

    int64_t id, rev;
    int error = nvo_store_add_network(c->ctl->store, rq.name, v.vni, v.bum,
                                      &id, &rev);
    if (error) {
        rest_reply_store_error(c, error);
        return;
    }
    struct nvo_network *net = nvo_model_add_network(m, id, rq.name, v.vni,
                                                    v.bum, rev);
    m->revision = rev;

    char *location = xasprintf("/v1/networks/%s", net->name);
    /* No ports yet: only service nodes may care (nvo_ctl_publish() always
     * re-evaluates them). */
    nvo_ctl_publish(c->ctl, NULL, 0, &net->id, 1, rev);
    rest_finish_write(c, 201, rest_network_json(net), location, NULL, 0, rev);
    free(location);
}

static void
patch_network(struct rest_call *c, struct nvo_network *net)
{
    struct nvo_model *m = c->ctl->model;
    const char *bum_s, *name;
    bool has_vni;
    int64_t vni;
    enum nvo_bum_mode bum;

    if (!rest_json_string(c, "bum", &bum_s)
        || !rest_json_string(c, "name", &name)
        || !rest_json_int(c, "vni", &has_vni, &vni)) {
        return;
    }
    if ((name && strcmp(name, net->name)) || (has_vni && vni != net->vni)) {
        rest_reply_error(c, 400, "immutable", "only 'bum' can be changed; "
                         "create a new network instead");
        return;
    }
    if (!bum_s) {
        rest_reply_error(c, 400, "invalid", "missing field 'bum'");
        return;
    }
    if (nvo_bum_mode_from_string(bum_s, &bum)) {
        rest_reply_error(c, 400, "invalid", "'bum' must be \"head-end\" or "
                         "\"service-node\"");
        return;
    }

    int64_t rev;
    int error = nvo_store_set_network_bum(c->ctl->store, net->id, bum, &rev);
    if (error) {
        rest_reply_store_error(c, error);
        return;
    }
    /* Every hypervisor of the network, and the service node before and
     * after. */
    struct rest_ids ids = { NULL, 0, 0 };
    nvo_ctl_network_hvs(c->ctl, net, &ids.ids, &ids.n, &ids.cap);
    nvo_model_set_bum(m, net, bum, rev);
    m->revision = rev;
    nvo_ctl_network_hvs(c->ctl, net, &ids.ids, &ids.n, &ids.cap);
    nvo_ctl_publish(c->ctl, ids.ids, ids.n, &net->id, 1, rev);
    rest_finish_write(c, 200, rest_network_json(net), NULL, ids.ids, ids.n,
                      rev);
    free(ids.ids);
}

static void
delete_network(struct rest_call *c, struct nvo_network *net)
{
    struct nvo_model *m = c->ctl->model;

    if (net->n_ports) {
        rest_reply_error(c, 409, "in_use", "network %s still has %zu "
                         "port(s)", net->name, net->n_ports);
        return;
    }
    int64_t rev;
    int error = nvo_store_delete_network(c->ctl->store, net->id, &rev);
    if (error) {
        rest_reply_store_error(c, error);
        return;
    }
    struct rest_ids ids = { NULL, 0, 0 };
    int64_t net_id = net->id;
    nvo_ctl_network_hvs(c->ctl, net, &ids.ids, &ids.n, &ids.cap);
    nvo_model_remove_network(m, net);
    m->revision = rev;
    nvo_ctl_publish(c->ctl, ids.ids, ids.n, &net_id, 1, rev);
    rest_finish_write(c, 204, NULL, NULL, ids.ids, ids.n, rev);
    free(ids.ids);
}

void
rest_networks(struct rest_call *c)
{
    if (!c->item) {
        if (rest_method_is(c, "POST")) {
            create_network(c);
        } else {
            list_networks(c);
        }
        return;
    }
    struct nvo_network *net = nvo_model_network_by_name(c->ctl->model,
                                                        c->item);
    if (!net) {
        rest_reply_error(c, 404, "not_found", "no network named %s",
                         c->item);
    } else if (rest_method_is(c, "PATCH")) {
        patch_network(c, net);
    } else if (rest_method_is(c, "DELETE")) {
        delete_network(c, net);
    } else {
        rest_reply_json(c, 200, rest_network_json(net));
    }
}
