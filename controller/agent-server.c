/* agent-server.c - PLACEHOLDER until the agent protocol lands. */
#include <config.h>
#include "controller/agent-server.h"

#include <stdlib.h>
#include <string.h>

#include "controller/desired.h"
#include "util.h"

struct agent_server {
    int unused;
};

struct agent_server *
agent_server_create(uv_loop_t *loop OVS_UNUSED, const char *addr OVS_UNUSED,
                    nvo_sb_confirm_cb *confirm OVS_UNUSED,
                    nvo_sb_liveness_cb *liveness OVS_UNUSED,
                    void *aux OVS_UNUSED, int *errp)
{
    *errp = 0;
    return xzalloc(sizeof(struct agent_server));
}

void
agent_server_set(struct agent_server *s OVS_UNUSED, struct nvo_hv_view *view)
{
    nvo_hv_view_destroy(view);
}

void
agent_server_remove(struct agent_server *s OVS_UNUSED, int64_t hv_id OVS_UNUSED)
{
}

void
agent_server_status(struct agent_server *s OVS_UNUSED,
                    int64_t hv_id OVS_UNUSED, struct nvo_sb_status *st)
{
    memset(st, 0, sizeof *st);
}

void
agent_server_destroy(struct agent_server *s)
{
    free(s);
}
