/* rest-status.c - GET /v1/status: the operator's one-page overview, the
 * data behind `nvoctl status` and the topology page.
 *
 *   GET /v1/status   200 {"revision","ports","in_sync","hypervisors":[...],
 *                    "networks":[...]}
 *
 * Per hypervisor (by name): its southbound "state" and "detail", the
 * "confirmed_revision" and "required_revision", "lag" (revisions the store
 * is ahead of what it confirmed, 0 when in sync), "in_sync",
 * "last_confirmed_ms_ago" (null if it never confirmed), "flows" (OVS: nvo
 * flows installed in br-int; null for kernel ones), "fdb_entries" (the L2
 * entries of its current view: remote MACs plus flood entries; what the
 * agent holds once in sync), "tunnels" (remote VTEPs), "ports" and the
 * "networks" it takes part in.  In cluster mode also "controller", the
 * controller that programs it (doc/cluster.md); for a hypervisor another
 * controller programs, "state" is "unknown" (this one holds no session to
 * it), "confirmed_revision" is what its owner recorded in the cluster, and
 * "in_sync" says that revision is the required one.
 * Per network (by name): "vni", "bum", "ports", "members" (hypervisors with
 * ports in it) and "service_node" (the alive service node serving it, or
 * null). */
#include <config.h>
#include "controller/rest-private.h"

#include <stdlib.h>
#include <string.h>

#include "controller/cluster.h"
#include "controller/ctl.h"
#include "controller/desired.h"
#include "controller/model.h"
#include "lib/strvec.h"
#include "openvswitch/shash.h"
#include "util.h"

static int
compare_hvs(const void *a_, const void *b_)
{
    const struct nvo_hypervisor *const *a = a_, *const *b = b_;
    return strcmp((*a)->name, (*b)->name);
}

/* Fills 'out' (caller frees) with the hypervisors sorted by name. */
static const struct nvo_hypervisor **
sorted_hvs(const struct nvo_model *m, size_t *n)
{
    const struct nvo_hypervisor **v = xmalloc((hmap_count(&m->hvs_by_id) + 1)
                                              * sizeof *v);
    const struct nvo_hypervisor *hv;
    *n = 0;
    HMAP_FOR_EACH (hv, id_node, &m->hvs_by_id) {
        v[(*n)++] = hv;
    }
    qsort(v, *n, sizeof *v, compare_hvs);
    return v;
}

/* Names of 'net''s member hypervisors, sorted (caller owns the array). */
static json_t *
network_members(const struct nvo_network *net)
{
    struct shash seen = SHASH_INITIALIZER(&seen);
    const struct nvo_port *p;
    LIST_FOR_EACH (p, net_node, &net->ports) {
        shash_replace(&seen, p->hypervisor->name, NULL);
    }
    const struct shash_node **nodes = shash_sort(&seen);
    json_t *arr = json_pack("[]");
    for (size_t i = 0; i < shash_count(&seen); i++) {
        json_array_append_new(arr, json_pack("s", nodes[i]->name));
    }
    free(nodes);
    shash_destroy(&seen);
    return arr;
}

static json_t *
hv_status_json(struct rest_call *c, const struct nvo_hypervisor *hv,
               bool *in_sync)
{
    struct nvo_ctl *ctl = c->ctl;
    struct nvo_sb_status st;
    int64_t required;
    nvo_ctl_hv_status(ctl, hv->id, &st, &required);
    int64_t lag = required > st.confirmed_revision
                  ? required - st.confirmed_revision : 0;
    char *owner = nvo_ctl_hv_owner(ctl, hv);
    bool elsewhere = owner && ctl->cluster
                     && strcmp(owner, nvo_cluster_name(ctl->cluster));
    /* Programmed by another controller: in sync if its owner confirmed the
     * revision this controller requires of it. */
    *in_sync = !lag && (elsewhere || st.state == NVO_SB_CONNECTED);

    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:b}",
                          "name", hv->name,
                          "tunnel_ip", hv->tunnel_ip,
                          "dataplane", nvo_dataplane_to_string(hv->dataplane),
                          "role", nvo_role_to_string(hv->role),
                          "state", nvo_sb_state_to_string(st.state),
                          "detail", st.detail,
                          "confirmed_revision",
                          (json_int_t) st.confirmed_revision,
                          "required_revision", (json_int_t) required,
                          "lag", (json_int_t) lag,
                          "in_sync", *in_sync);
    if (st.confirmed_at_ms > 0) {
        int64_t ago = (int64_t) uv_now(ctl->loop) - st.confirmed_at_ms;
        json_object_set_new(o, "last_confirmed_ms_ago",
                            json_pack("I", (json_int_t) MAX(ago, 0)));
    } else {
        json_object_set_new(o, "last_confirmed_ms_ago", json_null());
    }
    json_object_set_new(o, "flows", st.n_flows >= 0
                        ? json_pack("I", (json_int_t) st.n_flows)
                        : json_null());

    const struct nvo_hv_view *view = nvo_ctl_hv_view(ctl, hv->id);
    json_int_t fdb = 0;
    json_t *nets = json_pack("[]");
    if (view) {
        for (size_t i = 0; i < view->n_nets; i++) {
            const struct nvo_net_view *nv = view->nets[i];
            fdb += nv->n_remotes + nv->n_flood;
            json_array_append_new(nets, json_pack("s", nv->name));
        }
    }
    json_object_set_new(o, "fdb_entries", json_pack("I", fdb));
    size_t n_tunnels = view ? nvo_hv_view_n_tunnels(view) : 0;
    json_object_set_new(o, "tunnels", json_pack("I", (json_int_t) n_tunnels));
    json_object_set_new(o, "ports", json_pack("I", (json_int_t) hv->n_ports));
    json_object_set_new(o, "networks", nets);
    if (owner) {
        json_object_set_new(o, "controller", json_pack("s", owner));
        free(owner);
    }
    return o;
}

static json_t *
networks_json(struct rest_call *c)
{
    const struct nvo_model *m = c->ctl->model;
    size_t n = 0;
    const char **names = xmalloc((hmap_count(&m->networks_by_id) + 1)
                                 * sizeof *names);
    const struct nvo_network *net;
    HMAP_FOR_EACH (net, id_node, &m->networks_by_id) {
        names[n++] = net->name;
    }
    qsort(names, n, sizeof *names, nvo_strvec_compare);
    json_t *arr = json_pack("[]");
    for (size_t i = 0; i < n; i++) {
        net = nvo_model_network_by_name(m, names[i]);
        const struct nvo_hypervisor *sn = NULL;
        if (net->bum == NVO_BUM_SERVICE_NODE) {
            sn = desired_service_node(m, net, nvo_ctl_sn_alive, c->ctl);
        }
        json_t *o = json_pack("{s:s,s:I,s:s,s:I,s:o}",
                              "name", net->name,
                              "vni", (json_int_t) net->vni,
                              "bum", nvo_bum_mode_to_string(net->bum),
                              "ports", (json_int_t) net->n_ports,
                              "members", network_members(net));
        json_object_set_new(o, "service_node",
                            sn ? json_pack("s", sn->name) : json_null());
        json_array_append_new(arr, o);
    }
    free(names);
    return arr;
}

void
rest_status(struct rest_call *c)
{
    const struct nvo_model *m = c->ctl->model;
    size_t n;
    const struct nvo_hypervisor **hvs = sorted_hvs(m, &n);
    json_t *arr = json_pack("[]");
    json_int_t n_sync = 0;
    for (size_t i = 0; i < n; i++) {
        bool in_sync;
        json_array_append_new(arr, hv_status_json(c, hvs[i], &in_sync));
        n_sync += in_sync;
    }
    free(hvs);
    rest_reply_json(c, 200, json_pack("{s:I,s:I,s:I,s:o,s:o}",
                                      "revision", (json_int_t) m->revision,
                                      "ports",
                                      (json_int_t) hmap_count(&m->ports_by_id),
                                      "in_sync", n_sync,
                                      "hypervisors", arr,
                                      "networks", networks_json(c)));
}
