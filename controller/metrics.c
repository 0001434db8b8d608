#include <config.h>
#include "controller/metrics.h"

#include <inttypes.h>
#include <string.h>

#include "controller/ctl.h"
#include "controller/model.h"
#include "controller/southbound.h"
#include "openvswitch/dynamic-string.h"
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
}
