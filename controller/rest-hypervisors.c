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
#include "controller/service.h"
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

static void
create_hv(struct rest_call *c)
{
    struct nvo_hv_req rq;

    if (rest_reply_invalid(c, rest_body_hv(c->body, &rq))) {
        return;
    }
    struct rest_pending *p = rest_write_begin(c, 201);
    rest_write_started(p, nvo_svc_hv_create(c->ctl->svc, &rq, c->wait,
                                            rest_write_cb, p));
}

static void
delete_hv(struct rest_call *c, const struct nvo_hypervisor *hv)
{
    struct rest_pending *p = rest_write_begin(c, 204);
    rest_write_started(p, nvo_svc_hv_delete(c->ctl->svc, hv->name, c->wait,
                                            rest_write_cb, p));
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
