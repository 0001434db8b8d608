/* ovs-sb.c - PLACEHOLDER until the OVS southbound lands: accepts views and
 * reports every hypervisor as unknown, confirming nothing. */
#include <config.h>
#include "controller/ovs-sb.h"

#include <stdlib.h>
#include <string.h>

#include "controller/desired.h"
#include "util.h"

struct ovs_sb {
    int unused;
};

struct ovs_sb *
ovs_sb_create(uv_loop_t *loop OVS_UNUSED, nvo_sb_confirm_cb *confirm OVS_UNUSED,
              void *aux OVS_UNUSED)
{
    return xzalloc(sizeof(struct ovs_sb));
}

void
ovs_sb_set(struct ovs_sb *sb OVS_UNUSED, struct nvo_hv_view *view)
{
    nvo_hv_view_destroy(view);
}

void
ovs_sb_remove(struct ovs_sb *sb OVS_UNUSED, int64_t hv_id OVS_UNUSED)
{
}

void
ovs_sb_status(struct ovs_sb *sb OVS_UNUSED, int64_t hv_id OVS_UNUSED,
              struct nvo_sb_status *st)
{
    memset(st, 0, sizeof *st);
}

void
ovs_sb_destroy(struct ovs_sb *sb)
{
    free(sb);
}
