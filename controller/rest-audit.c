/* rest-audit.c - the drift audit: what every connected hypervisor really
 * holds against its desired state (nvoctl audit).
 *
 *   GET  /v1/audit          200 {"revision","drift","hypervisors":[...]}
 *   POST /v1/audit/repair   200 the same, after asking the southbound to
 *                           resync every hypervisor that drifted
 *
 * OVS hypervisors are audited in libuv's worker threads, one switch each
 * (controller/ovs-audit.c: own OpenFlow connection, port descriptions and
 * every flow, diffed against the flows computed from the view the core
 * last pushed).  The answer names each item by network, VM and port (from
 * the flow's cookie), on the main thread, once every switch answered.
 * Kernel hypervisors are asked through their agents (a StateRequest; the
 * agent answers with what the kernel holds, agent/kdp-report.h) and the
 * report is diffed against the same view (controller/agent-audit.c).
 * Hypervisors not connected, service nodes (nothing in the kernel to
 * audit) and agents too old to report are listed as not audited, with the
 * reason.  Repair: the southbound's resync (OVS: flows dumped and fixed;
 * agents: the whole view sent again and re-applied).
 *
 * Life of one audit (struct rest_audit, heap; the request's pool holds only
 * a handle whose dispose callback detaches the request):
 *   started --(every job's after_work ran and every agent answered or
 *   failed)--> answered (if the request is still there) --> freed.  A request that goes away first is never
 *   answered; the jobs still finish and free the audit. */
#include <config.h>
#include "controller/rest-private.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "controller/agent-audit.h"
#include "controller/agent-server.h"
#include "controller/ctl.h"
#include "controller/desired.h"
#include "controller/model.h"
#include "controller/ovs-audit.h"
#include "controller/ovs-flows.h"
#include "controller/ovs-hv.h"
#include "controller/ovs-tunnels.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(rest_audit);

/* How long one switch may take to accept the audit's connection. */
#define NVO_AUDIT_CONNECT_TIMEOUT_MS 5000
/* How long one agent may take to report. */
#define NVO_AUDIT_AGENT_TIMEOUT_MS 5000

struct rest_audit;
struct audit_handle;

struct audit_job {
    uv_work_t work;
    struct rest_audit *audit;
    int64_t hv_id;
    char *target;               /* OpenFlow target. */
    struct nvo_hv_view *view;   /* Owned clone (worker reads it). */
    struct ovs_audit_result result;
};

/* One kernel hypervisor, asked through its agent. */
struct agent_job {
    struct rest_audit *audit;
    int64_t hv_id;
    struct nvo_hv_view *view;   /* Owned clone: what it must hold. */
    char *error_msg;            /* Not audited: why.  Owned. */
    struct agent_audit_result result;
};

struct rest_audit {
    struct nvo_rest *rest;
    struct nvo_ctl *ctl;
    h2o_req_t *req;             /* NULL once the client went away. */
    struct audit_handle *handle;/* In req's pool; NULL once disposed. */
    bool repair;
    struct audit_job *jobs;     /* OVS hypervisors. */
    struct agent_job *kjobs;    /* Kernel hypervisors. */
    size_t n_jobs, n_kjobs, n_done;
    json_t *skipped;            /* Hypervisors not audited, by id:
                                 * {"<id>": reason}. */
};

/* In the request's pool. */
struct audit_handle {
    struct rest_audit *audit;   /* NULL once the audit is freed. */
};

static void
handle_dispose(void *h_)
{
    struct audit_handle *h = h_;
    if (h->audit) {
        h->audit->req = NULL;
        h->audit->handle = NULL;
    }
}

static void
audit_free(struct rest_audit *a)
{
    if (a->handle) {
        a->handle->audit = NULL;
    }
    for (size_t i = 0; i < a->n_jobs; i++) {
        free(a->jobs[i].target);
        nvo_hv_view_destroy(a->jobs[i].view);
        ovs_audit_result_destroy(&a->jobs[i].result);
    }
    free(a->jobs);
    for (size_t i = 0; i < a->n_kjobs; i++) {
        nvo_hv_view_destroy(a->kjobs[i].view);
        free(a->kjobs[i].error_msg);
        agent_audit_result_destroy(&a->kjobs[i].result);
    }
    free(a->kjobs);
    json_decref(a->skipped);
    free(a);
}

static void
work_cb(uv_work_t *w)
{
    struct audit_job *j = w->data;
    ovs_audit_switch(j->target, j->view, NVO_AUDIT_CONNECT_TIMEOUT_MS,
                     &j->result);
}

/* Names VM port 'port_id' into 'o': its id, and if it still exists its
 * VM, network and hypervisor. */
static void
name_port(const struct nvo_model *m, int64_t port_id, json_t *o)
{
    const struct nvo_port *p = nvo_model_port_by_id(m, port_id);
    json_object_set_new(o, "port_id", json_pack("I", (json_int_t) port_id));
    if (p) {
        json_object_set_new(o, "vm", json_pack("s", p->vm));
        json_object_set_new(o, "network", json_pack("s", p->network->name));
        json_object_set_new(o, "hypervisor_of_port",
                            json_pack("s", p->hypervisor->name));
    }
}

/* Names what cookie 'cookie' belongs to, into 'o'. */
static void
name_cookie(const struct nvo_model *m, uint64_t cookie, json_t *o)
{
    char hex[32];
    snprintf(hex, sizeof hex, "0x%016"PRIx64, cookie);
    json_object_set_new(o, "cookie", json_pack("s", hex));
    if (!ovs_cookie_is_nvo(cookie)) {
        return;
    }
    uint64_t id = cookie & OVS_COOKIE_ID_MASK;
    switch ((cookie >> 52) & 0xf) {
    case OVS_COOKIE_PIPELINE:
        json_object_set_new(o, "owner", json_pack("s", "pipeline"));
        break;
    case OVS_COOKIE_PORT:
        name_port(m, id, o);
        break;
    case OVS_COOKIE_NETWORK: {
        const struct nvo_network *net;
        json_object_set_new(o, "vni", json_pack("I", (json_int_t) id));
        HMAP_FOR_EACH (net, id_node, &m->networks_by_id) {
            if (net->vni == id) {
                json_object_set_new(o, "network", json_pack("s", net->name));
                break;
            }
        }
        break;
    }
    case OVS_COOKIE_TUNNEL: {
        struct in_addr a = { .s_addr = htonl((uint32_t) id) };
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &a, ip, sizeof ip);
        json_object_set_new(o, "tunnel_to", json_pack("s", ip));
        const struct nvo_hypervisor *hv = nvo_model_hv_by_tunnel_ip(m, ip);
        if (hv) {
            json_object_set_new(o, "tunnel_to_hypervisor",
                                json_pack("s", hv->name));
        }
        break;
    }
    }
}

static json_t *
item_json(const struct nvo_model *m, const struct ovs_audit_item *it)
{
    json_t *o = json_pack("{s:s,s:s}",
                          "kind", ovs_audit_kind_to_string(it->kind),
                          "what", it->is_port ? "port" : "flow");
    if (it->is_port) {
        json_object_set_new(o, "port", json_pack("s", it->text));
        if (it->port_id) {
            name_port(m, it->port_id, o);
        } else if (it->kind != OVS_AUDIT_FOREIGN
                   && ovs_tunnel_port_is_nvo(it->text)) {
            /* A flow-based tunnel port, or a per-VTEP port of an
             * earlier release (extra: nvo's mark is on it, the repair
             * deletes it).  A foreign one is someone else's. */
            json_object_set_new(o, "owner", json_pack("s", "tunnel port"));
        }
        return o;
    }
    json_object_set_new(o, "table", json_pack("i", it->table_id));
    json_object_set_new(o, "flow", json_pack("s", it->text));
    if (it->actual) {
        json_object_set_new(o, "actual", json_pack("s", it->actual));
    }
    name_cookie(m, it->cookie, o);
    return o;
}

/* Adds the counts of items by kind 'n' (indexed by enum ovs_audit_kind)
 * and 'items' (stolen) to hypervisor 'o'. */
static void
put_counts(json_t *o, const size_t n[4], json_t *items)
{
    json_object_set_new(o, "missing",
                        json_pack("I", (json_int_t) n[OVS_AUDIT_MISSING]));
    json_object_set_new(o, "extra",
                        json_pack("I", (json_int_t) n[OVS_AUDIT_EXTRA]));
    json_object_set_new(o, "different",
                        json_pack("I", (json_int_t) n[OVS_AUDIT_DIFFERENT]));
    json_object_set_new(o, "foreign",
                        json_pack("I", (json_int_t) n[OVS_AUDIT_FOREIGN]));
    json_object_set_new(o, "items", items);
}

static json_t *
job_json(struct rest_audit *a, const struct audit_job *j, bool *drift)
{
    const struct nvo_model *m = a->ctl->model;
    const struct nvo_hypervisor *hv = nvo_model_hv_by_id(m, j->hv_id);
    const struct ovs_audit_result *r = &j->result;
    json_t *o = json_pack("{s:s,s:s,s:I}",
                          "name", hv ? hv->name : j->view->name,
                          "dataplane", "ovs",
                          "revision", (json_int_t) j->view->revision);
    if (r->error) {
        json_object_set_new(o, "audited", json_pack("b", false));
        json_object_set_new(o, "reason", json_pack("s", r->error_msg));
        return o;
    }
    size_t n[4] = { 0, 0, 0, 0 };
    json_t *items = json_pack("[]");
    for (size_t i = 0; i < r->n_items; i++) {
        n[r->items[i].kind]++;
        json_array_append_new(items, item_json(m, &r->items[i]));
    }
    bool drifted = n[OVS_AUDIT_MISSING] || n[OVS_AUDIT_EXTRA]
                   || n[OVS_AUDIT_DIFFERENT];
    *drift |= drifted;
    json_object_set_new(o, "audited", json_pack("b", true));
    json_object_set_new(o, "drift", json_pack("b", drifted));
    json_object_set_new(o, "flows", json_pack(
                            "{s:I,s:I,s:I}",
                            "desired", (json_int_t) r->n_desired,
                            "actual", (json_int_t) r->n_actual,
                            "foreign", (json_int_t) r->n_foreign));
    put_counts(o, n, items);
    struct nvo_sb *sb = a->ctl->sbs[NVO_DP_OVS];
    if (drifted && a->repair && sb && !nvo_sb_resync(sb, j->hv_id)) {
        json_object_set_new(o, "repair", json_pack("s", "resync requested"));
        VLOG_INFO("audit: %s drifted (%zu missing, %zu extra, %zu "
                  "different): resync requested", hv ? hv->name : "?",
                  n[OVS_AUDIT_MISSING], n[OVS_AUDIT_EXTRA],
                  n[OVS_AUDIT_DIFFERENT]);
    }
    return o;
}

/* The name of the network with 'vni' (in 'view', else the model), or
 * NULL.  Borrowed. */
static const char *
network_name(const struct nvo_model *m, const struct nvo_hv_view *view,
             uint32_t vni)
{
    for (size_t i = 0; i < view->n_nets; i++) {
        if (view->nets[i]->vni == vni) {
            return view->nets[i]->name;
        }
    }
    const struct nvo_network *net;
    HMAP_FOR_EACH (net, id_node, &m->networks_by_id) {
        if (net->vni == vni) {
            return net->name;
        }
    }
    return NULL;
}

static json_t *
kernel_item_json(const struct nvo_model *m, const struct nvo_hv_view *view,
                 const struct agent_audit_item *it)
{
    json_t *o = json_pack("{s:s,s:s,s:I,s:s}",
                          "kind", ovs_audit_kind_to_string(it->kind),
                          "what", agent_audit_what_to_string(it->what),
                          "vni", (json_int_t) it->vni, "entry", it->entry);
    const char *net = network_name(m, view, it->vni);
    if (net) {
        json_object_set_new(o, "network", json_pack("s", net));
    }
    if (it->actual) {
        json_object_set_new(o, "actual", json_pack("s", it->actual));
    }
    if (it->port_id) {
        name_port(m, it->port_id, o);
    }
    return o;
}

static json_t *
kjob_json(struct rest_audit *a, const struct agent_job *j, bool *drift)
{
    const struct nvo_model *m = a->ctl->model;
    const struct agent_audit_result *r = &j->result;
    json_t *o = json_pack("{s:s,s:s,s:I}", "name", j->view->name,
                          "dataplane", "kernel",
                          "revision", (json_int_t) j->view->revision);
    if (j->error_msg) {
        json_object_set_new(o, "audited", json_pack("b", false));
        json_object_set_new(o, "reason", json_pack("s", j->error_msg));
        return o;
    }
    size_t n[4] = { 0, 0, 0, 0 };
    json_t *items = json_pack("[]");
    for (size_t i = 0; i < r->n_items; i++) {
        n[r->items[i].kind]++;
        json_array_append_new(items, kernel_item_json(m, j->view,
                                                      &r->items[i]));
    }
    bool drifted = r->n_items > 0;
    *drift |= drifted;
    json_object_set_new(o, "audited", json_pack("b", true));
    json_object_set_new(o, "drift", json_pack("b", drifted));
    json_object_set_new(o, "kernel", json_pack(
                            "{s:I,s:I,s:I}",
                            "networks", (json_int_t) j->view->n_nets,
                            "desired", (json_int_t) r->n_desired,
                            "actual", (json_int_t) r->n_actual));
    put_counts(o, n, items);
    struct nvo_sb *sb = a->ctl->sbs[NVO_DP_KERNEL];
    if (drifted && a->repair && sb && !nvo_sb_resync(sb, j->hv_id)) {
        json_object_set_new(o, "repair", json_pack("s", "resync requested"));
        VLOG_INFO("audit: %s drifted (%zu missing, %zu extra, %zu "
                  "different kernel items): resync requested", j->view->name,
                  n[OVS_AUDIT_MISSING], n[OVS_AUDIT_EXTRA],
                  n[OVS_AUDIT_DIFFERENT]);
    }
    return o;
}

static int
compare_hv_json(const void *a_, const void *b_)
{
    json_t *const *a = a_, *const *b = b_;
    return strcmp(json_string_value(json_object_get(*a, "name")),
                  json_string_value(json_object_get(*b, "name")));
}

/* Answers (if the request is still there) and frees 'a'. */
static void
audit_finish(struct rest_audit *a)
{
    if (a->req) {
        bool drift = false;
        size_t n = a->n_jobs + a->n_kjobs + json_object_size(a->skipped);
        json_t **v = xmalloc((n + 1) * sizeof *v);
        size_t k = 0;
        for (size_t i = 0; i < a->n_jobs; i++) {
            v[k++] = job_json(a, &a->jobs[i], &drift);
        }
        for (size_t i = 0; i < a->n_kjobs; i++) {
            v[k++] = kjob_json(a, &a->kjobs[i], &drift);
        }
        const char *key;
        json_t *val;
        json_object_foreach (a->skipped, key, val) {
            json_incref(val);
            v[k++] = val;
        }
        qsort(v, k, sizeof *v, compare_hv_json);
        json_t *arr = json_pack("[]");
        for (size_t i = 0; i < k; i++) {
            json_array_append_new(arr, v[i]);
        }
        free(v);
        struct rest_call c = { .rest = a->rest, .ctl = a->ctl,
                               .req = a->req };
        rest_reply_json(&c, 200, json_pack(
                            "{s:I,s:b,s:b,s:o}",
                            "revision", (json_int_t) a->ctl->model->revision,
                            "drift", drift, "repair", a->repair,
                            "hypervisors", arr));
    }
    audit_free(a);
}

static void
after_work_cb(uv_work_t *w, int status OVS_UNUSED)
{
    struct audit_job *j = w->data;
    struct rest_audit *a = j->audit;
    if (++a->n_done == a->n_jobs + a->n_kjobs) {
        audit_finish(a);
    }
}

static void
agent_report_cb(void *kj_, const Nvo__StateReport *rep, int underlay_mtu,
                int error OVS_UNUSED, const char *why)
{
    struct agent_job *kj = kj_;
    struct rest_audit *a = kj->audit;
    if (!rep) {
        kj->error_msg = xstrdup(why);
    } else if (rep->error) {
        kj->error_msg = xasprintf("the agent could not read its state: %s",
                                  rep->message[0] ? rep->message
                                                  : "unknown error");
    } else {
        agent_audit_diff(kj->view, rep, underlay_mtu, &kj->result);
    }
    if (++a->n_done == a->n_jobs + a->n_kjobs) {
        audit_finish(a);
    }
}

static void
skip(struct rest_audit *a, const struct nvo_hypervisor *hv, const char *why)
{
    char key[32];
    snprintf(key, sizeof key, "%"PRId64, hv->id);
    json_object_set_new(a->skipped, key, json_pack(
                            "{s:s,s:s,s:b,s:s}", "name", hv->name,
                            "dataplane",
                            nvo_dataplane_to_string(hv->dataplane),
                            "audited", false, "reason", why));
}

/* Asks kernel hypervisor 'hv''s agent for its state, or says why not. */
static void
start_agent(struct rest_audit *a, const struct nvo_hypervisor *hv,
            const struct nvo_hv_view *view, const struct nvo_sb_status *st)
{
    if (hv->role == NVO_ROLE_SERVICE_NODE) {
        skip(a, hv, "service node: it replicates in user space and holds "
             "no kernel state");
        return;
    } else if (st->state != NVO_SB_CONNECTED && st->state != NVO_SB_SYNCING) {
        skip(a, hv, nvo_sb_state_to_string(st->state));
        return;
    } else if (!view || !a->ctl->agents) {
        skip(a, hv, "no desired state known");
        return;
    }
    struct agent_job *kj = &a->kjobs[a->n_kjobs];
    kj->audit = a;
    kj->hv_id = hv->id;
    int error = agent_server_request_state(a->ctl->agents, hv->id,
                                           NVO_AUDIT_AGENT_TIMEOUT_MS,
                                           agent_report_cb, kj);
    if (error) {
        skip(a, hv, error == -EOPNOTSUPP
                    ? "its nvo-agent does not report its state (older "
                      "version)"
                    : "no agent connected here");
        return;
    }
    kj->view = nvo_hv_view_clone(view);
    a->n_kjobs++;
}

static void
start_audit(struct rest_call *c, bool repair)
{
    struct nvo_ctl *ctl = c->ctl;
    const struct nvo_model *m = ctl->model;
    struct rest_audit *a = xzalloc(sizeof *a);
    a->rest = c->rest;
    a->ctl = ctl;
    a->req = c->req;
    a->repair = repair;
    a->skipped = json_pack("{}");
    a->jobs = xcalloc(hmap_count(&m->hvs_by_id) + 1, sizeof *a->jobs);
    a->kjobs = xcalloc(hmap_count(&m->hvs_by_id) + 1, sizeof *a->kjobs);

    const struct nvo_hypervisor *hv;
    HMAP_FOR_EACH (hv, id_node, &m->hvs_by_id) {
        struct nvo_sb_status st;
        int64_t required;
        nvo_ctl_hv_status(ctl, hv->id, &st, &required);
        const struct nvo_hv_view *view = nvo_ctl_hv_view(ctl, hv->id);
        char *target = NULL, *listen = NULL;
        if (hv->dataplane != NVO_DP_OVS) {
            start_agent(a, hv, view, &st);
        } else if (st.state != NVO_SB_CONNECTED
                   && st.state != NVO_SB_SYNCING) {
            skip(a, hv, nvo_sb_state_to_string(st.state));
        } else if (!view || ovs_hv_of_targets(hv->ovsdb, &target, &listen)) {
            skip(a, hv, "no OpenFlow target known");
        } else {
            struct audit_job *j = &a->jobs[a->n_jobs++];
            j->audit = a;
            j->hv_id = hv->id;
            j->target = target;
            target = NULL;
            j->view = nvo_hv_view_clone(view);
            j->work.data = j;
        }
        free(target);
        free(listen);
    }

    if (!a->n_jobs && !a->n_kjobs) {
        audit_finish(a);
        return;
    }
    struct audit_handle *h = h2o_mem_alloc_shared(&c->req->pool, sizeof *h,
                                                  handle_dispose);
    h->audit = a;
    a->handle = h;
    /* Jobs start only now that every slot is filled ('jobs' never moves). */
    size_t n = a->n_jobs;
    for (size_t i = 0; i < n; i++) {
        uv_queue_work(ctl->loop, &a->jobs[i].work, work_cb, after_work_cb);
    }
}

void
rest_audit_get(struct rest_call *c)
{
    start_audit(c, false);
}

void
rest_audit_repair(struct rest_call *c)
{
    start_audit(c, true);
}
