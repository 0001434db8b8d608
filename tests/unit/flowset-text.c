/* flowset-text.c - a flow set as text, for the OVS unit tests. */
#include <config.h>
#include "tests/unit/flowset-text.h"

#include "controller/ovs-flowset.h"
#include "openvswitch/dynamic-string.h"
#include "svec.h"

char *
flowset_text(const struct ovs_flowset *fs, int table, int min_priority)
{
    struct svec lines;
    svec_init(&lines);
    const struct ovs_flow *flow;
    HMAP_FOR_EACH (flow, node, &fs->flows) {
        if ((table < 0 || flow->table_id == table)
            && flow->priority >= min_priority) {
            struct ds s = DS_EMPTY_INITIALIZER;
            ovs_flow_format(flow, &s);
            svec_add_nocopy(&lines, ds_steal_cstr(&s));
        }
    }
    svec_sort(&lines);
    struct ds all = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < lines.n; i++) {
        ds_put_format(&all, "%s\n", lines.names[i]);
    }
    svec_destroy(&lines);
    return ds_steal_cstr(&all);
}
