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
#include "controller/service.h"
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

static void
create_network(struct rest_call *c)
{
    struct nvo_net_req rq;

    if (rest_reply_invalid(c, rest_body_net(c->body, &rq))) {
        return;
    }
    struct rest_pending *p = rest_write_begin(c, 201);
    rest_write_started(p, nvo_svc_network_create(c->ctl->svc, &rq, c->wait,
                                                 rest_write_cb, p));
}

static void
patch_network(struct rest_call *c, const struct nvo_network *net)
{
    struct nvo_net_patch rq;

    if (rest_reply_invalid(c, rest_body_net_patch(c->body, &rq))) {
        return;
    }
    struct rest_pending *p = rest_write_begin(c, 200);
    rest_write_started(p, nvo_svc_network_patch(c->ctl->svc, net->name, &rq,
                                                c->wait, rest_write_cb, p));
}

static void
delete_network(struct rest_call *c, const struct nvo_network *net)
{
    struct rest_pending *p = rest_write_begin(c, 204);
    rest_write_started(p, nvo_svc_network_delete(c->ctl->svc, net->name,
                                                 c->wait, rest_write_cb, p));
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
        json_t *j = rest_network_json(net);
        if (net->mtu) {
            /* Whether every member's underlay carries the VMs' MTU. */
            struct nvo_mtu_check mc;
            nvo_ctl_mtu_check(c->ctl, net, &mc);
            json_object_set_new(j, "mtu_check", json_pack(
                "{s:i,s:b,s:s,s:s}", "required_underlay_mtu", mc.required,
                "ok", mc.ok, "too_small", ds_cstr(&mc.too_small),
                "unknown", ds_cstr(&mc.unknown)));
            nvo_mtu_check_destroy(&mc);
        }
        rest_reply_json(c, 200, j);
    }
}
