#include <config.h>
#include "controller/southbound.h"

#include <errno.h>
#include <string.h>

const char *
nvo_sb_state_to_string(enum nvo_sb_state s)
{
    switch (s) {
    case NVO_SB_UNKNOWN: return "unknown";
    case NVO_SB_CONNECTING: return "connecting";
    case NVO_SB_SYNCING: return "syncing";
    case NVO_SB_CONNECTED: return "connected";
    case NVO_SB_DISCONNECTED: return "disconnected";
    }
    return "unknown";
}

void
nvo_sb_set(struct nvo_sb *sb, struct nvo_hv_view *view)
{
    sb->class->set(sb, view);
}

void
nvo_sb_remove(struct nvo_sb *sb, int64_t hv_id)
{
    sb->class->remove(sb, hv_id);
}

void
nvo_sb_release(struct nvo_sb *sb, int64_t hv_id)
{
    if (sb->class->release) {
        sb->class->release(sb, hv_id);
    } else {
        sb->class->remove(sb, hv_id);
    }
}

void
nvo_sb_status(struct nvo_sb *sb, int64_t hv_id, struct nvo_sb_status *st)
{
    memset(st, 0, sizeof *st);
    st->state = NVO_SB_UNKNOWN;
    sb->class->status(sb, hv_id, st);
}

bool
nvo_sb_port_drops(struct nvo_sb *sb, int64_t port_id, uint64_t *packets)
{
    return sb && sb->class->port_drops(sb, port_id, packets);
}

int
nvo_sb_resync(struct nvo_sb *sb, int64_t hv_id)
{
    if (!sb->class->resync) {
        return -EOPNOTSUPP;
    }
    sb->class->resync(sb, hv_id);
    return 0;
}

void
nvo_sb_destroy(struct nvo_sb *sb)
{
    if (sb) {
        sb->class->destroy(sb);
    }
}
