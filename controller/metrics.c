#include <config.h>
#include "controller/metrics.h"

#include <inttypes.h>
#include <string.h>

#include "controller/agent-server.h"
#include "controller/ctl.h"
#include "controller/model.h"
#include "controller/ovs-sb.h"
#include "controller/service.h"
#include "controller/southbound.h"
#include "controller/store.h"
#include "openvswitch/dynamic-string.h"
#include "proto/nvo.pb-c.h"
#include "util.h"

static const char *const method_names[NVO_M_N] = {
    "GET", "POST", "PATCH", "DELETE", "other"
};

void
nvo_metrics_count(struct nvo_metrics *m, const char *method, size_t len,
                  int status)
{
    int i;
    for (i = 0; i < NVO_M_OTHER; i++) {
        if (strlen(method_names[i]) == len
            && !memcmp(method_names[i], method, len)) {
            break;
        }
    }
    if (status >= NVO_METRICS_MIN_STATUS && status <= NVO_METRICS_MAX_STATUS) {
        m->requests[i][status - NVO_METRICS_MIN_STATUS]++;
    }
}

struct counters_aux {
    struct ds *out;
    const struct nvo_model *model;
    bool drops;                 /* Which family this pass renders. */
};

/* One service node's counters for one VNI ("none": packets that matched no
 * VNI it serves). */
static void
render_counters(int64_t hv_id, const Nvo__VniCounters *vc, void *aux_)
{
    struct counters_aux *aux = aux_;
    const struct nvo_hypervisor *hv = nvo_model_hv_by_id(aux->model, hv_id);
    char vni[16];

    if (!hv) {
        return;
    }
    if (vc->vni) {
        snprintf(vni, sizeof vni, "%"PRIu32, vc->vni);
    } else {
        snprintf(vni, sizeof vni, "none");
    }
    if (!aux->drops) {
        ds_put_format(aux->out, "nvo_service_node_packets_total{hypervisor="
                      "\"%s\",vni=\"%s\",direction=\"in\"} %"PRIu64"\n"
                      "nvo_service_node_packets_total{hypervisor=\"%s\","
                      "vni=\"%s\",direction=\"out\"} %"PRIu64"\n",
                      hv->name, vni, vc->in_packets, hv->name, vni,
                      vc->out_packets);
        return;
    }
    for (size_t i = 0; i < vc->n_dropped; i++) {
        const Nvo__DropCount *d = vc->dropped[i];
        /* Reasons come from the agent: print only label-safe ones. */
        if (!d->reason || !*d->reason
            || d->reason[strspn(d->reason, "abcdefghijklmnopqrstuvwxyz-_")]) {
            continue;
        }
        ds_put_format(aux->out, "nvo_service_node_dropped_total{hypervisor="
                      "\"%s\",vni=\"%s\",reason=\"%s\"} %"PRIu64"\n",
                      hv->name, vni, d->reason, d->packets);
    }
}

/* Service nodes' replication counters, from their agents' heartbeats. */
/* The OVS southbound thread's work by phase (doc/ovs-pipeline.md): what a
 * VM start costs the controller, and whether it grows with the fleet. */
static void
render_ovs_sb(struct nvo_ctl *ctl, struct ds *out)
{
    struct ovs_sb_stats st;
    ovs_sb_get_stats(ctl->sbs[NVO_DP_OVS], &st);
    ds_put_format(out, "# HELP nvo_ovs_sb_passes_total Wake-ups of the OVS "
                  "southbound thread's loop.\n"
                  "# TYPE nvo_ovs_sb_passes_total counter\n"
                  "nvo_ovs_sb_passes_total %"PRIu64"\n"
                  "# HELP nvo_ovs_sb_hypervisor_runs_total Hypervisors run "
                  "by those passes.\n"
                  "# TYPE nvo_ovs_sb_hypervisor_runs_total counter\n"
                  "nvo_ovs_sb_hypervisor_runs_total %"PRIu64"\n"
                  "# HELP nvo_ovs_sb_quiet_runs_total Of those, runs of quiet "
                  "hypervisors: a readable OpenFlow socket, a timer due "
                  "(echo probe, drop counters, OVSDB every second).\n"
                  "# TYPE nvo_ovs_sb_quiet_runs_total counter\n"
                  "nvo_ovs_sb_quiet_runs_total %"PRIu64"\n"
                  "# HELP nvo_ovs_sb_hypervisor_skips_total Busy hypervisors "
                  "those passes skipped: they only awaited input (an "
                  "OpenFlow reply, an OVSDB reply or update) on sockets "
                  "that were not readable.\n"
                  "# TYPE nvo_ovs_sb_hypervisor_skips_total counter\n"
                  "nvo_ovs_sb_hypervisor_skips_total %"PRIu64"\n"
                  "# HELP nvo_ovs_sb_handovers_total Hand-overs of "
                  "confirmations to the main thread (each wakes it).\n"
                  "# TYPE nvo_ovs_sb_handovers_total counter\n"
                  "nvo_ovs_sb_handovers_total %"PRIu64"\n",
                  st.n_passes, st.n_hv_runs, st.n_quiet_runs,
                  st.n_hv_skips, st.n_handovers);
    ds_put_cstr(out, "# HELP nvo_ovs_sb_seconds_total CPU time the OVS "
                "southbound thread spent per phase: mail "
                "(taking new views), run (OVSDB, flow computation, "
                "OpenFlow), publish (confirmations, status).\n"
                "# TYPE nvo_ovs_sb_seconds_total counter\n");
    ds_put_format(out, "nvo_ovs_sb_seconds_total{phase=\"mail\"} %.6f\n"
                  "nvo_ovs_sb_seconds_total{phase=\"run\"} %.6f\n"
                  "nvo_ovs_sb_seconds_total{phase=\"publish\"} %.6f\n",
                  st.mail_us / 1e6, st.run_us / 1e6, st.publish_us / 1e6);
}

static void
render_service_nodes(struct nvo_ctl *ctl, struct ds *out)
{
    struct counters_aux aux = { .out = out, .model = ctl->model };

    if (!ctl->agents) {
        return;
    }
    ds_put_cstr(out, "# HELP nvo_service_node_packets_total BUM frames a "
                "service node received (in) and copies it sent (out), by "
                "VNI.\n# TYPE nvo_service_node_packets_total counter\n");
    agent_server_foreach_counters(ctl->agents, render_counters, &aux);
    ds_put_cstr(out, "# HELP nvo_service_node_dropped_total Packets a "
                "service node dropped, by VNI and reason.\n"
                "# TYPE nvo_service_node_dropped_total counter\n");
    aux.drops = true;
    agent_server_foreach_counters(ctl->agents, render_counters, &aux);
}

/* What the agent port refused (lib/channel.c, controller/agent-server.c). */
static void
render_agent_port(struct nvo_ctl *ctl, struct ds *out)
{
    struct agent_server_stats st;
    if (!ctl->agents) {
        return;
    }
    agent_server_get_stats(ctl->agents, &st);
    ds_put_format(out, "# HELP nvo_agent_unauthenticated Agent connections "
                  "that have not said an accepted hello yet.\n"
                  "# TYPE nvo_agent_unauthenticated gauge\n"
                  "nvo_agent_unauthenticated %"PRIu64"\n",
                  st.unauthenticated);
    ds_put_cstr(out, "# HELP nvo_agent_refused_total Agent connections or "
                "messages refused, by reason.\n"
                "# TYPE nvo_agent_refused_total counter\n");
    const struct { const char *reason; uint64_t n; } r[] = {
        { "over_cap", st.refused_over_cap },
        { "tls_handshake", st.refused_handshake },
        { "certificate", st.refused_certificate },
        { "frame_size", st.refused_frame },
        { "message", st.refused_message },
    };
    for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
        ds_put_format(out, "nvo_agent_refused_total{reason=\"%s\"} %"PRIu64
                      "\n", r[i].reason, r[i].n);
    }
    ds_put_format(out, "# HELP nvo_agent_redirected_total Agents sent to the "
                  "cluster controller that owns their hypervisor.\n"
                  "# TYPE nvo_agent_redirected_total counter\n"
                  "nvo_agent_redirected_total %"PRIu64"\n", st.redirected);
}

void
nvo_metrics_render(const struct nvo_metrics *m, struct nvo_ctl *ctl,
                   struct ds *out)
{
    const struct nvo_model *model = ctl->model;

    ds_put_cstr(out, "# HELP nvo_http_requests_total REST requests answered, "
                "by method and status.\n"
                "# TYPE nvo_http_requests_total counter\n");
    for (int i = 0; i < NVO_M_N; i++) {
        for (int s = 0; s <= NVO_METRICS_MAX_STATUS - NVO_METRICS_MIN_STATUS;
             s++) {
            if (m->requests[i][s]) {
                ds_put_format(out, "nvo_http_requests_total{method=\"%s\","
                              "status=\"%d\"} %"PRIu64"\n", method_names[i],
                              s + NVO_METRICS_MIN_STATUS, m->requests[i][s]);
            }
        }
    }

    ds_put_cstr(out, "# HELP nvo_store_rows Rows in each store table.\n"
                "# TYPE nvo_store_rows gauge\n");
    ds_put_format(out, "nvo_store_rows{table=\"networks\"} %zu\n",
                  hmap_count(&model->networks_by_id));
    ds_put_format(out, "nvo_store_rows{table=\"hypervisors\"} %zu\n",
                  hmap_count(&model->hvs_by_id));
    ds_put_format(out, "nvo_store_rows{table=\"ports\"} %zu\n",
                  hmap_count(&model->ports_by_id));

    ds_put_format(out, "# HELP nvo_store_revision Current store revision.\n"
                  "# TYPE nvo_store_revision gauge\n"
                  "nvo_store_revision %"PRId64"\n", model->revision);

    if (ctl->store) {
        struct nvo_store_stats st;
        nvo_store_get_stats(ctl->store, &st);
        ds_put_format(out, "# HELP nvo_store_writes_total Writes submitted "
                      "to the store.\n# TYPE nvo_store_writes_total counter\n"
                      "nvo_store_writes_total %"PRIu64"\n"
                      "# HELP nvo_store_commits_total Store transactions "
                      "(group commit: one for many writes).\n"
                      "# TYPE nvo_store_commits_total counter\n"
                      "nvo_store_commits_total %"PRIu64"\n",
                      st.n_writes, st.n_commits);
        /* Only where the backend measures the phases (not the clustered
         * store): a family of zeros would tell operators something false. */
        if (st.timed) {
            ds_put_format(out, "# HELP nvo_store_seconds_total Where store "
                          "transactions spend their time: queued (first write "
                          "submitted to the transaction handed over), "
                          "to_thread (until the committing thread runs it), "
                          "commit (statements, COMMIT, fsync), to_loop (until "
                          "the loop answers its writes).\n"
                          "# TYPE nvo_store_seconds_total counter\n"
                          "nvo_store_seconds_total{phase=\"queued\"} %.6f\n"
                          "nvo_store_seconds_total{phase=\"to_thread\"} %.6f\n"
                          "nvo_store_seconds_total{phase=\"commit\"} %.6f\n"
                          "nvo_store_seconds_total{phase=\"to_loop\"} %.6f\n",
                          st.queued_ns / 1e9, st.to_thread_ns / 1e9,
                          st.commit_ns / 1e9, st.to_loop_ns / 1e9);
        }
    }
    if (ctl->svc) {
        ds_put_format(out, "# HELP nvo_store_writes_pending Writes submitted "
                      "and not yet committed.\n"
                      "# TYPE nvo_store_writes_pending gauge\n"
                      "nvo_store_writes_pending %zu\n",
                      nvo_svc_n_pending(ctl->svc));
    }

    size_t n_state[NVO_SB_DISCONNECTED + 1] = { 0 };
    const struct nvo_hypervisor *hv;
    HMAP_FOR_EACH (hv, id_node, &model->hvs_by_id) {
        struct nvo_sb_status st;
        int64_t required;
        nvo_ctl_hv_status(ctl, hv->id, &st, &required);
        if (st.state <= NVO_SB_DISCONNECTED) {
            n_state[st.state]++;
        }
    }
    ds_put_cstr(out, "# HELP nvo_hypervisors Hypervisors by southbound "
                "connection state.\n# TYPE nvo_hypervisors gauge\n");
    for (int s = 0; s <= NVO_SB_DISCONNECTED; s++) {
        ds_put_format(out, "nvo_hypervisors{state=\"%s\"} %zu\n",
                      nvo_sb_state_to_string(s), n_state[s]);
    }
    ds_put_format(out, "# HELP nvo_southbound_pushes_total Views handed to "
                  "southbounds.\n# TYPE nvo_southbound_pushes_total counter\n"
                  "nvo_southbound_pushes_total %"PRIu64"\n", ctl->n_pushes);
    ds_put_format(out, "# HELP nvo_ovs_flow_selfcheck_failures_total Times "
                  "an OVS hypervisor's incremental flows differed from a "
                  "full computation (a bug; repaired when found).\n"
                  "# TYPE nvo_ovs_flow_selfcheck_failures_total counter\n"
                  "nvo_ovs_flow_selfcheck_failures_total %"PRIu64"\n",
                  ovs_sb_self_check_failures(ctl->sbs[NVO_DP_OVS]));
    render_ovs_sb(ctl, out);
    render_service_nodes(ctl, out);
    render_agent_port(ctl, out);

    ds_put_cstr(out, "# HELP nvo_network_mtu_ok 1 if every member of a "
                "network with an \"mtu\" carries it over its underlay.\n"
                "# TYPE nvo_network_mtu_ok gauge\n");
    const struct nvo_network *net;
    HMAP_FOR_EACH (net, id_node, &model->networks_by_id) {
        if (net->mtu) {
            struct nvo_mtu_check mc;
            nvo_ctl_mtu_check(ctl, net, &mc);
            ds_put_format(out, "nvo_network_mtu_ok{network=\"%s\"} %d\n",
                          net->name, mc.ok);
            nvo_mtu_check_destroy(&mc);
        }
    }
}
