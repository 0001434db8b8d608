#include <config.h>
#include "lib/proto-msg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/frame.h"
#include "packets.h"
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

static int fail(char **errmsg, const char *format, ...)
    OVS_PRINTF_FORMAT(2, 3);

/* ---- wire pre-check ----------------------------------------------------- */

/* A repeated field to count and, for messages, descend into. */
struct wire_field {
    uint32_t number;
    uint32_t max;                   /* Most elements. */
    const struct wire_schema *sub;  /* Submessage, or NULL. */
};

struct wire_schema {
    const struct wire_field *fields;
    size_t n_fields;
};

#define WIRE_SCHEMA(FIELDS) { FIELDS, ARRAY_SIZE(FIELDS) }

/* Messages without repeated fields of their own: their fields still count
 * toward the budget (unknown fields cost memory too). */
static const struct wire_schema leaf_schema = { NULL, 0 };

static const struct wire_field network_fields[] = {
    { 5, NVO_MSG_MAX_LOCALS, &leaf_schema },    /* locals */
    { 6, NVO_MSG_MAX_REMOTES, &leaf_schema },   /* remotes */
    { 7, NVO_MSG_MAX_FLOOD, NULL },             /* flood (strings) */
};
static const struct wire_schema network_schema = WIRE_SCHEMA(network_fields);
static const struct wire_field snapshot_fields[] = {
    { 5, NVO_MSG_MAX_NETWORKS, &network_schema },
};
static const struct wire_schema snapshot_schema = WIRE_SCHEMA(snapshot_fields);
static const struct wire_field delta_fields[] = {
    { 4, NVO_MSG_MAX_NETWORKS, &network_schema },
    { 5, NVO_MSG_MAX_REMOVED, NULL },   /* removed_vnis (may be packed) */
};
static const struct wire_schema delta_schema = WIRE_SCHEMA(delta_fields);
static const struct wire_field ack_fields[] = {
    { 2, NVO_MSG_MAX_ERRORS, &leaf_schema },
};
static const struct wire_schema ack_schema = WIRE_SCHEMA(ack_fields);
static const struct wire_field counters_fields[] = {
    { 4, NVO_MSG_MAX_DROPS, &leaf_schema },
};
static const struct wire_schema counters_schema = WIRE_SCHEMA(counters_fields);
static const struct wire_field heartbeat_fields[] = {
    { 2, NVO_MSG_MAX_COUNTERS, &counters_schema },
};
static const struct wire_schema heartbeat_schema
    = WIRE_SCHEMA(heartbeat_fields);
static const struct wire_field knet_fields[] = {
    { 8, NVO_MSG_MAX_REPORT_PORTS, NULL },              /* ports */
    { 9, NVO_MSG_MAX_REPORT_FDB, &leaf_schema },        /* fdb */
    { 10, NVO_MSG_MAX_REPORT_FDB, &leaf_schema },       /* bridge_fdb */
    { 11, NVO_MSG_MAX_REPORT_NEIGHBOURS, &leaf_schema },/* neighbours */
};
static const struct wire_schema knet_schema = WIRE_SCHEMA(knet_fields);
static const struct wire_field report_fields[] = {
    { 4, NVO_MSG_MAX_REPORT_NETWORKS, &knet_schema },
};
static const struct wire_schema report_schema = WIRE_SCHEMA(report_fields);

#define ACCEPT(CASE) (1u << NVO__MESSAGE__BODY_##CASE)

const struct nvo_msg_limits nvo_msg_from_agent = {
    .accept = (ACCEPT(HELLO) | ACCEPT(ACK) | ACCEPT(HEARTBEAT) | ACCEPT(ERROR)
               | ACCEPT(STATE_REPORT)),
    .max_fields = 1u << 18,
};

const struct nvo_msg_limits nvo_msg_from_controller = {
    .accept = (ACCEPT(SNAPSHOT) | ACCEPT(DELTA) | ACCEPT(HEARTBEAT)
               | ACCEPT(ERROR) | ACCEPT(STATE_REQUEST)),
    .max_fields = NVO_FRAME_MAX,
};

/* Every body, for nvo_msg_decode(). */
static const struct nvo_msg_limits any_limits = {
    .accept = ~0u,
    .max_fields = NVO_FRAME_MAX,
};

struct wire_walk {
    size_t fields;                  /* Fields seen so far. */
    size_t max_fields;
    char **errmsg;
};

/* Reads a varint at '*p' (before 'end').  Returns false if malformed. */
static bool
wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t) (b & 0x7f) << shift;
        if (!(b & 0x80)) {
            return true;
        }
    }
    return false;
}

/* Walks the message in [p, end) described by 'schema' (NULL: the top-level
 * Message, whose body fields 'accept' allows). */
static int
wire_walk(struct wire_walk *w, const uint8_t *p, const uint8_t *end,
          const struct wire_schema *schema, unsigned int accept, int depth)
{
    uint32_t counts[4] = { 0 };

    while (p < end) {
        uint64_t key, v;
        if (!wire_varint(&p, end, &key)) {
            return fail(w->errmsg, "malformed field key");
        }
        if (++w->fields > w->max_fields) {
            return fail(w->errmsg, "more than %zu fields", w->max_fields);
        }
        uint32_t number = key >> 3;
        unsigned int type = key & 7;
        if (!number || key >> 32) {
            /* Protobuf has no field 0 (protobuf-c takes an overlong
             * encoding of it, then re-encodes what it refuses). */
            return fail(w->errmsg, "invalid field number");
        }
        const uint8_t *value = p;
        size_t len = 0;
        switch (type) {
        case 0:
            if (!wire_varint(&p, end, &v)) {
                return fail(w->errmsg, "malformed varint");
            }
            break;
        case 1:
        case 5:
            len = type == 1 ? 8 : 4;
            if ((size_t) (end - p) < len) {
                return fail(w->errmsg, "truncated field %"PRIu32, number);
            }
            p += len;
            break;
        case 2:
            if (!wire_varint(&p, end, &v) || v > (uint64_t) (end - p)) {
                return fail(w->errmsg, "bad length of field %"PRIu32,
                            number);
            }
            value = p;
            len = v;
            p += len;
            break;
        default:
            return fail(w->errmsg, "unsupported wire type %u", type);
        }

        const struct wire_schema *sub = NULL;
        if (!schema) {
            /* Top level: the oneof body. */
            if (number >= 1 && number <= NVO__MESSAGE__BODY_STATE_REPORT) {
                if (!(accept & (1u << number))) {
                    return fail(w->errmsg, "message type %"PRIu32" not "
                                "accepted here", number);
                }
                if (type != 2) {
                    return fail(w->errmsg, "body field %"PRIu32" is not a "
                                "message", number);
                }
                sub = (number == NVO__MESSAGE__BODY_SNAPSHOT ? &snapshot_schema
                       : number == NVO__MESSAGE__BODY_DELTA ? &delta_schema
                       : number == NVO__MESSAGE__BODY_ACK ? &ack_schema
                       : number == NVO__MESSAGE__BODY_HEARTBEAT
                       ? &heartbeat_schema
                       : number == NVO__MESSAGE__BODY_STATE_REPORT
                       ? &report_schema : &leaf_schema);
            }
        } else {
            for (size_t i = 0; i < schema->n_fields; i++) {
                const struct wire_field *f = &schema->fields[i];
                if (f->number != number) {
                    continue;
                }
                size_t n = 1;
                if (!f->sub && type == 2 && number == 5
                    && schema == &delta_schema) {
                    /* Packed removed_vnis: count the varints. */
                    n = 0;
                    for (size_t j = 0; j < len; j++) {
                        n += !(value[j] & 0x80);
                    }
                    w->fields += n;
                    if (w->fields > w->max_fields) {
                        return fail(w->errmsg, "more than %zu fields",
                                    w->max_fields);
                    }
                }
                counts[i] += n;
                if (counts[i] > f->max) {
                    return fail(w->errmsg, "more than %"PRIu32" elements in "
                                "repeated field %"PRIu32, f->max, number);
                }
                sub = f->sub;
                if (sub && type != 2) {
                    return fail(w->errmsg, "field %"PRIu32" is not a "
                                "message", number);
                }
            }
        }
        if (sub && depth < 4) {
            int error = wire_walk(w, value, value + len, sub, 0, depth + 1);
            if (error) {
                return error;
            }
        }
    }
    return 0;
}

int
nvo_msg_precheck(const uint8_t *payload, size_t len,
                 const struct nvo_msg_limits *limits, char **errmsg)
{
    struct wire_walk w = {
        .max_fields = limits->max_fields,
        .errmsg = errmsg,
    };
    return wire_walk(&w, payload, payload + len, NULL, limits->accept, 0);
}

Nvo__Message *
nvo_msg_decode_limited(const uint8_t *payload, size_t len,
                       const struct nvo_msg_limits *limits, char **errmsg)
{
    char *why = NULL;
    if (nvo_msg_precheck(payload, len, limits, &why)) {
        *errmsg = xasprintf("refused before decoding (%zu bytes): %s", len,
                            why);
        free(why);
        return NULL;
    }
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

Nvo__Message *
nvo_msg_decode(const uint8_t *payload, size_t len, char **errmsg)
{
    return nvo_msg_decode_limited(payload, len, &any_limits, errmsg);
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
    case NVO__MESSAGE__BODY_STATE_REQUEST: return "state request";
    case NVO__MESSAGE__BODY_STATE_REPORT: return "state report";
    case NVO__MESSAGE__BODY__NOT_SET:
    default: return "empty";
    }
}

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
    if (!nvo_valid_name(net->name)) {
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
        if (lp->mac.len != ETH_ADDR_LEN) {
            return fail(errmsg, "VNI %"PRIu32": local port MAC is %zu bytes",
                        net->vni, lp->mac.len);
        }
        if (!nvo_valid_ifname(lp->iface)) {
            return fail(errmsg, "VNI %"PRIu32": bad interface name",
                        net->vni);
        }
        if (!nvo_valid_name(lp->vm)) {
            return fail(errmsg, "VNI %"PRIu32": bad VM name", net->vni);
        }
    }
    for (size_t i = 0; i < net->n_remotes; i++) {
        const Nvo__RemoteMac *rm = net->remotes[i];
        if (rm->mac.len != ETH_ADDR_LEN) {
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
    if (!nvo_valid_name(h->name)) {
        return fail(errmsg, "hello: the hypervisor name must be 1 to %d characters of A-Z a-z 0-9 . _ -", NVO_NAME_MAX);
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
    if (!nvo_valid_text(h->software_version, 64)) {
        return fail(errmsg, "hello: bad software version");
    }
    return 0;
}

static int
validate_fdb(const Nvo__KernelFdb *f, bool bridge, uint32_t vni,
             char **errmsg)
{
    if (f->mac.len != ETH_ADDR_LEN) {
        return fail(errmsg, "state report: VNI %"PRIu32": FDB MAC is %zu "
                    "bytes", vni, f->mac.len);
    }
    /* A VXLAN entry's destination is an IPv4 or IPv6 VTEP. */
    if (bridge ? f->dst[0] || !nvo_valid_ifname(f->port)
               : f->port[0] || f->on_vxlan || !nvo_ip_is_valid(f->dst)) {
        return fail(errmsg, "state report: VNI %"PRIu32": bad %s FDB entry",
                    vni, bridge ? "bridge" : "VXLAN");
    }
    return 0;
}

static int
validate_report(const Nvo__StateReport *r, char **errmsg)
{
    if (r->error > 0 || !nvo_valid_text(r->message, 1024)) {
        return fail(errmsg, "state report: bad error");
    }
    for (size_t i = 0; i < r->n_networks; i++) {
        const Nvo__KernelNetwork *n = r->networks[i];
        if (!nvo_valid_vni(n->vni)
            || (i && n->vni <= r->networks[i - 1]->vni)) {
            return fail(errmsg, "state report: VNI %"PRIu32" out of range "
                        "or order", n->vni);
        }
        if (n->mtu > 65535) {
            return fail(errmsg, "state report: VNI %"PRIu32": MTU %"PRIu32,
                        n->vni, n->mtu);
        }
        for (size_t j = 0; j < n->n_ports; j++) {
            if (!nvo_valid_ifname(n->ports[j])) {
                return fail(errmsg, "state report: VNI %"PRIu32": bad port "
                            "name", n->vni);
            }
        }
        for (size_t j = 0; j < n->n_fdb + n->n_bridge_fdb; j++) {
            bool bridge = j >= n->n_fdb;
            int error = validate_fdb(bridge ? n->bridge_fdb[j - n->n_fdb]
                                            : n->fdb[j], bridge, n->vni,
                                     errmsg);
            if (error) {
                return error;
            }
        }
        for (size_t j = 0; j < n->n_neighbours; j++) {
            const Nvo__KernelNeighbour *nb = n->neighbours[j];
            struct in_addr a;
            if (nb->mac.len != ETH_ADDR_LEN || !ip_parse(nb->ip, &a.s_addr)) {
                return fail(errmsg, "state report: VNI %"PRIu32": bad "
                            "neighbour", n->vni);
            }
        }
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
            if (!nvo_valid_text(e->item, 256)
                || !nvo_valid_text(e->message, 1024)) {
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
                if (!nvo_valid_text(c->dropped[j]->reason, 64)) {
                    return fail(errmsg, "heartbeat: bad drop reason");
                }
            }
        }
        return 0;
    case NVO__MESSAGE__BODY_ERROR:
        if (!nvo_valid_text(msg->error->message, 1024)) {
            return fail(errmsg, "error: bad message text");
        }
        if (!nvo_valid_text(msg->error->redirect, 256)) {
            return fail(errmsg, "error: bad redirect");
        }
        return 0;
    case NVO__MESSAGE__BODY_STATE_REQUEST:
        return 0;
    case NVO__MESSAGE__BODY_STATE_REPORT:
        return validate_report(msg->state_report, errmsg);
    case NVO__MESSAGE__BODY__NOT_SET:
    default:
        return fail(errmsg, "message without a body");
    }
}
