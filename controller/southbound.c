#include <config.h>
#include "controller/southbound.h"

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
