#include <config.h>
#include "lib/proto-msg.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/frame.h"
#include "util.h"

uint8_t *
nvo_msg_encode(const Nvo__Message *msg, size_t *len, int *errp)
{
    size_t n = nvo__message__get_packed_size(msg);
    if (n > NVO_FRAME_MAX) {
        *errp = -EMSGSIZE;
        return NULL;
    }
    uint8_t *buf = xmalloc(NVO_FRAME_HDR_LEN + n);
    nvo_frame_put_header(buf, n);
    nvo__message__pack(msg, buf + NVO_FRAME_HDR_LEN);
    *len = NVO_FRAME_HDR_LEN + n;
    *errp = 0;
    return buf;
}

Nvo__Message *
nvo_msg_decode(const uint8_t *payload, size_t len, char **errmsg)
{
    Nvo__Message *msg = nvo__message__unpack(NULL, len, payload);
    if (!msg) {
        *errmsg = xasprintf("undecodable message (%zu bytes)", len);
        return NULL;
    }
    if (nvo_msg_validate(msg, errmsg)) {
        nvo_msg_free(msg);
        return NULL;
    }
    return msg;
}

void
nvo_msg_free(Nvo__Message *msg)
{
    if (msg) {
        nvo__message__free_unpacked(msg, NULL);
    }
}

const char *
nvo_msg_type_name(const Nvo__Message *msg)
{
    switch (msg->body_case) {
    case NVO__MESSAGE__BODY_HELLO: return "hello";
    case NVO__MESSAGE__BODY_SNAPSHOT: return "snapshot";
    case NVO__MESSAGE__BODY_DELTA: return "delta";
    case NVO__MESSAGE__BODY_ACK: return "ack";
    case NVO__MESSAGE__BODY_HEARTBEAT: return "heartbeat";
    case NVO__MESSAGE__BODY_ERROR: return "error";
    case NVO__MESSAGE__BODY__NOT_SET:
    default: return "empty";
    }
}

bool
nvo_ifname_is_valid(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > 15 || !strcmp(s, ".") || !strcmp(s, "..")) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if (*p == '/' || *p == ':' || !isgraph((unsigned char) *p)) {
            return false;
        }
    }
    return true;
}

static bool
name_is_valid(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (!n || n > max) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if (!isalnum((unsigned char) *p) && !strchr("._-", *p)) {
            return false;
        }
    }
    return true;
}

/* Printable ASCII, at most 'max' bytes (may be empty). */
static bool
text_is_valid(const char *s, size_t max)
{
    if (strlen(s) > max) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if (!isprint((unsigned char) *p)) {
            return false;
        }
    }
    return true;
}

static int
fail(char **errmsg, const char *format, ...) OVS_PRINTF_FORMAT(2, 3);

static int
fail(char **errmsg, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    *errmsg = xvasprintf(format, args);
    va_end(args);
    return -EPROTO;
}

int
nvo_msg_validate_network(const Nvo__Network *net, char **errmsg)
{
    if (!net->vni || net->vni > NVO_VNI_MAX) {
        return fail(errmsg, "network VNI %"PRIu32" out of range", net->vni);
    }
    if (!text_is_valid(net->name, 256)) {
        return fail(errmsg, "VNI %"PRIu32": bad name", net->vni);
    }
    if (net->bum != NVO__BUM_MODE__BUM_HEAD_END
        && net->bum != NVO__BUM_MODE__BUM_SERVICE_NODE) {
        return fail(errmsg, "VNI %"PRIu32": unknown BUM mode %d", net->vni,
                    net->bum);
    }
    if (net->service_node_ip[0] && !nvo_ip_is_valid(net->service_node_ip)) {
        return fail(errmsg, "VNI %"PRIu32": bad service node IP", net->vni);
    }
    for (size_t i = 0; i < net->n_locals; i++) {
        const Nvo__LocalPort *lp = net->locals[i];
        if (lp->mac.len != NVO_MAC_LEN) {
            return fail(errmsg, "VNI %"PRIu32": local port MAC is %zu bytes",
                        net->vni, lp->mac.len);
        }
        if (!nvo_ifname_is_valid(lp->iface)) {
            return fail(errmsg, "VNI %"PRIu32": bad interface name",
                        net->vni);
        }
        if (!text_is_valid(lp->vm, 256)) {
            return fail(errmsg, "VNI %"PRIu32": bad VM name", net->vni);
        }
    }
    for (size_t i = 0; i < net->n_remotes; i++) {
        const Nvo__RemoteMac *rm = net->remotes[i];
        if (rm->mac.len != NVO_MAC_LEN) {
            return fail(errmsg, "VNI %"PRIu32": remote MAC is %zu bytes",
                        net->vni, rm->mac.len);
        }
        if (!nvo_ip_is_valid(rm->vtep_ip)) {
            return fail(errmsg, "VNI %"PRIu32": bad remote VTEP IP",
                        net->vni);
        }
    }
    for (size_t i = 0; i < net->n_flood; i++) {
        if (!nvo_ip_is_valid(net->flood[i])) {
            return fail(errmsg, "VNI %"PRIu32": bad flood VTEP IP", net->vni);
        }
    }
    return 0;
}

static int
validate_networks(Nvo__Network **nets, size_t n, char **errmsg)
{
    for (size_t i = 0; i < n; i++) {
        int error = nvo_msg_validate_network(nets[i], errmsg);
        if (error) {
            return error;
        }
    }
    return 0;
}

static int
validate_hello(const Nvo__Hello *h, char **errmsg)
{
    /* The version is checked by the session, so that it can answer with a
     * clear refusal; everything else must be sane. */
    if (!name_is_valid(h->name, 128)) {
        return fail(errmsg, "hello: bad hypervisor name");
    }
    if (!nvo_ip_is_valid(h->tunnel_ip)) {
        return fail(errmsg, "hello: bad tunnel IP");
    }
    if (h->dataplane != NVO__DATAPLANE__DATAPLANE_KERNEL
        && h->dataplane != NVO__DATAPLANE__DATAPLANE_OVS) {
        return fail(errmsg, "hello: unknown dataplane %d", h->dataplane);
    }
    if (h->role != NVO__ROLE__ROLE_HYPERVISOR
        && h->role != NVO__ROLE__ROLE_SERVICE_NODE) {
        return fail(errmsg, "hello: unknown role %d", h->role);
    }
    if (!text_is_valid(h->software_version, 64)) {
        return fail(errmsg, "hello: bad software version");
    }
    return 0;
}

int
nvo_msg_validate(const Nvo__Message *msg, char **errmsg)
{
    switch (msg->body_case) {
    case NVO__MESSAGE__BODY_HELLO:
        return validate_hello(msg->hello, errmsg);
    case NVO__MESSAGE__BODY_SNAPSHOT: {
        const Nvo__Snapshot *s = msg->snapshot;
        if (!s->seq) {
            return fail(errmsg, "snapshot: seq 0");
        }
        if (s->tunnel_ip[0] && !nvo_ip_is_valid(s->tunnel_ip)) {
            return fail(errmsg, "snapshot: bad tunnel IP");
        }
        return validate_networks(s->networks, s->n_networks, errmsg);
    }
    case NVO__MESSAGE__BODY_DELTA: {
        const Nvo__Delta *d = msg->delta;
        if (d->seq != d->base_seq + 1) {
            return fail(errmsg, "delta: seq %"PRIu64" does not follow %"PRIu64,
                        d->seq, d->base_seq);
        }
        for (size_t i = 0; i < d->n_removed_vnis; i++) {
            if (!d->removed_vnis[i] || d->removed_vnis[i] > NVO_VNI_MAX) {
                return fail(errmsg, "delta: removed VNI out of range");
            }
        }
        return validate_networks(d->changed, d->n_changed, errmsg);
    }
    case NVO__MESSAGE__BODY_ACK:
        for (size_t i = 0; i < msg->ack->n_errors; i++) {
            const Nvo__ItemError *e = msg->ack->errors[i];
            if (!text_is_valid(e->item, 256)
                || !text_is_valid(e->message, 1024)) {
                return fail(errmsg, "ack: bad error text");
            }
        }
        return 0;
    case NVO__MESSAGE__BODY_HEARTBEAT:
        for (size_t i = 0; i < msg->heartbeat->n_counters; i++) {
            const Nvo__VniCounters *c = msg->heartbeat->counters[i];
            if (c->vni > NVO_VNI_MAX) {
                return fail(errmsg, "heartbeat: counter VNI out of range");
            }
            for (size_t j = 0; j < c->n_dropped; j++) {
                if (!text_is_valid(c->dropped[j]->reason, 64)) {
                    return fail(errmsg, "heartbeat: bad drop reason");
                }
            }
        }
        return 0;
    case NVO__MESSAGE__BODY_ERROR:
        if (!text_is_valid(msg->error->message, 1024)) {
            return fail(errmsg, "error: bad message text");
        }
        return 0;
    case NVO__MESSAGE__BODY__NOT_SET:
    default:
        return fail(errmsg, "message without a body");
    }
}
