#include <config.h>
#include "controller/ovs-flows.h"

#include <arpa/inet.h>
#include <string.h>
#include <stdlib.h>

#include "controller/desired.h"
#include "controller/ovs-flowset.h"
#include "controller/ovs-flows-portsec.h"
#include "controller/ovs-tunnels.h"
#include "lib/strvec.h"
#include "openvswitch/match.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "openflow/openflow-1.1.h"
#include "byte-order.h"
#include "flow.h"
#include "hash.h"
#include "packets.h"
#include "simap.h"
#include "sset.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ovs_flows);

uint64_t
ovs_cookie(enum ovs_cookie_type type, uint64_t id)
{
    return OVS_COOKIE_MARK | ((uint64_t) (type & 0xf) << 52)
           | (id & OVS_COOKIE_ID_MASK);
}

static const struct ovs_flowgen *const flowgens[] = {
    &ovs_flowgen_l2,
    &ovs_flowgen_portsec,
    &ovs_flowgen_arp,
};

const struct ovs_flowgen *const *
ovs_flowgens(size_t *n)
{
    *n = ARRAY_SIZE(flowgens);
    return flowgens;
}

static void arp_index_destroy(struct ovs_flows_arp_index *);

void
ovs_flows_ctx_init(struct ovs_flows_ctx *ctx, const struct ovs_flows_input *in,
                   struct ovs_flowset *out, struct sset *missing)
{
    ctx->in = in;
    ctx->out = out;
    ctx->missing = missing;
    ctx->complete = true;
    ctx->ofpacts = ofpbuf_new(256);
    ctx->arp = NULL;
}

void
ovs_flows_ctx_destroy(struct ovs_flows_ctx *ctx)
{
    if (ctx) {
        ofpbuf_delete(ctx->ofpacts);
        ctx->ofpacts = NULL;
        arp_index_destroy(ctx->arp);
        ctx->arp = NULL;
    }
}

/* Gives 'm' the form an OpenFlow 1.3 flow_mod encode and decode gives it
 * (the form a switch reports it in): the decode (nx_pull_raw()) adds the
 * default packet type, Ethernet, to a match on any field with
 * prerequisites (match_add_ethernet_prereq()), and those are the fields
 * from L2 on plus ct_nw_proto.  Everything else comes back as the match_set
 * functions made it.  ovs_flow_is_canonical() checks it, in the unit
 * tests, for every flow the generators make. */
static void
canonical_match(struct match *m)
{
    const struct flow *mask = &m->wc.masks;
    if (!mask->packet_type
        && (mask->ct_nw_proto
            || !is_all_zeros(&mask->dl_dst,
                             sizeof *mask - offsetof(struct flow, dl_dst)))) {
        match_set_default_packet_type(m);
    }
}

/* Adds a flow to ctx->out in the form the switch reports it.  Built
 * directly: an encode and decode round trip per flow cost about 80 % of
 * computing a hypervisor's table. */
void
ovs_flows_put(struct ovs_flows_ctx *ctx, uint8_t table_id, uint16_t priority,
              const struct match *match, uint64_t cookie)
{
    struct match m = *match;
    canonical_match(&m);
    ovs_flowset_add(ctx->out, table_id, priority, &m, cookie,
                    ctx->ofpacts->data, ctx->ofpacts->size, NULL);
    ofpbuf_clear(ctx->ofpacts);
}

bool
ovs_flow_is_canonical(const struct ovs_flow *f)
{
    struct ofputil_flow_mod fm = {
        .match = f->match,
        .priority = f->priority,
        .new_cookie = htonll(f->cookie),
        .table_id = f->table_id,
        .command = OFPFC_ADD,
        .buffer_id = UINT32_MAX,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .ofpacts = f->ofpacts,
        .ofpacts_len = f->ofpacts_len,
    };
    struct ofpbuf *msg = ofputil_encode_flow_mod(&fm, OFPUTIL_P_OF13_OXM);
    struct ofputil_flow_mod dec;
    struct ofpbuf acts;
    ofpbuf_init(&acts, 0);
    bool ok = !ofputil_decode_flow_mod(&dec, msg->data, OFPUTIL_P_OF13_OXM,
                                       NULL, NULL, &acts, OFPP_MAX, 255);
    if (ok) {
        struct ovs_flowset fs;
        ovs_flowset_init(&fs);
        struct match m;
        minimatch_expand(&dec.match, &m);
        const struct ovs_flow *g = ovs_flowset_add(&fs, dec.table_id,
                                                   dec.priority, &m,
                                                   ntohll(dec.new_cookie),
                                                   dec.ofpacts,
                                                   dec.ofpacts_len, NULL);
        ok = (g->table_id == f->table_id && g->priority == f->priority
              && minimatch_equal(&g->match, &f->match)
              && ovs_flow_value_equal(g, f));
        ovs_flowset_destroy(&fs);
        minimatch_destroy(&dec.match);
    }
    ofpbuf_uninit(&acts);
    ofpbuf_delete(msg);
    return ok;
}

/* Makes room for one more action in ctx->ofpacts, doubling it when it
 * runs short: an ofpbuf grows only by what is appended (and copies its
 * data each time), so building a flow of N actions (a BUM flow has two per
 * flood VTEP) would cost O(N^2). */
static void
ovs_flows_reserve(struct ovs_flows_ctx *ctx)
{
    struct ofpbuf *b = ctx->ofpacts;
    if (ofpbuf_tailroom(b) < 128) {
        ofpbuf_prealloc_tailroom(b, MAX(b->allocated, 256));
    }
}

void
ovs_flows_put_output(struct ovs_flows_ctx *ctx, uint32_t ofport)
{
    ovs_flows_reserve(ctx);
    ofpact_put_OUTPUT(ctx->ofpacts)->port = u16_to_ofp(ofport);
}

void
ovs_flows_put_set_field(struct ovs_flows_ctx *ctx, enum mf_field_id id,
                        const void *value)
{
    const struct mf_field *field = mf_from_id(id);
    ovs_flows_reserve(ctx);
    /* Zero-filled first, so no padding byte is left undefined. */
    struct ofpact_set_field *sf = ofpact_put_set_field(ctx->ofpacts, field,
                                                       NULL, NULL);
    memcpy(sf->value, value, field->n_bytes);
    memset(ofpact_set_field_mask(sf), 0xff, field->n_bytes);
}

void
ovs_flows_put_move(struct ovs_flows_ctx *ctx, enum mf_field_id src,
                   enum mf_field_id dst)
{
    struct ofpact_reg_move *move = ofpact_put_REG_MOVE(ctx->ofpacts);
    move->src.field = mf_from_id(src);
    move->src.ofs = 0;
    move->src.n_bits = move->src.field->n_bits;
    move->dst.field = mf_from_id(dst);
    move->dst.ofs = 0;
    move->dst.n_bits = move->dst.field->n_bits;
}

void
ovs_flows_put_set_tun_id(struct ovs_flows_ctx *ctx, uint32_t vni)
{
    ovs_be64 tun_id = htonll(vni);
    ovs_flows_put_set_field(ctx, MFF_TUN_ID, &tun_id);
}

void
ovs_flows_put_set_reg0(struct ovs_flows_ctx *ctx, uint32_t value)
{
    ovs_be32 v = htonl(value);
    ovs_flows_put_set_field(ctx, MFF_REG0, &v);
}

/* Instructions after the apply-actions (OpenFlow 1.3 order, pitfall 2):
 * write-metadata, then goto-table. */
void
ovs_flows_put_metadata_goto(struct ovs_flows_ctx *ctx, uint32_t vni,
                            uint8_t table)
{
    struct ofpact_metadata *md = ofpact_put_WRITE_METADATA(ctx->ofpacts);
    md->metadata = htonll(vni);
    md->mask = OVS_BE64_MAX;
    ofpact_put_GOTO_TABLE(ctx->ofpacts)->table_id = table;
}

/* Looks 'key' up in 'map'; if it has no valid ofport, records 'name' as
 * missing. */
static bool
lookup(struct ovs_flows_ctx *ctx, const struct simap *map, const char *key,
       const char *name, uint32_t *ofport)
{
    const struct simap_node *n = map ? simap_find(map, key) : NULL;
    if (n && n->data > 0 && n->data < OFPP_MAX) {
        *ofport = n->data;
        return true;
    }
    ctx->complete = false;
    if (ctx->missing) {
        sset_add(ctx->missing, name);
    }
    return false;
}

bool
ovs_flows_tunnel_ofport(struct ovs_flows_ctx *ctx,
                        const struct nvo_net_view *net, uint32_t *ofport)
{
    return lookup(ctx, ctx->in->tunnel_ofports,
                  nvo_encap_to_string(net->encap),
                  ovs_tunnel_port_name(net->encap), ofport);
}

bool
ovs_flows_put_tunnel_output(struct ovs_flows_ctx *ctx, const char *vtep_ip,
                            uint32_t ofport, bool *v4_set)
{
    ovs_be32 a;
    struct in6_addr a6;
    if (ip_parse(vtep_ip, &a)) {
        ovs_flows_put_set_field(ctx, MFF_TUN_DST, &a);
        *v4_set = true;
    } else if (ipv6_parse(vtep_ip, &a6)) {
        if (*v4_set) {
            /* OVS takes tun_dst over tun_ipv6_dst when both are set. */
            ovs_be32 zero = 0;
            ovs_flows_put_set_field(ctx, MFF_TUN_DST, &zero);
            *v4_set = false;
        }
        ovs_flows_put_set_field(ctx, MFF_TUN_IPV6_DST, &a6);
    } else {
        return false;
    }
    ovs_flows_put_output(ctx, ofport);
    return true;
}

/* One VTEP's tunnel output (ovs_flows_put_tunnel_output() from a list
 * without IPv6 before it), in the canonical form of the actions and in
 * their OpenFlow 1.3 encoding. */
struct tunnel_output {
    struct hmap_node node;      /* In ovs_flows_cache.outputs. */
    char *vtep;
    uint32_t ofport;
    struct ofpact *ofpacts;     /* Owned; NULL if 'vtep' is no address. */
    size_t ofpacts_len;
    void *wire;                 /* Owned: the actions, encoded. */
    size_t wire_len;
};

/* The remembered flows of one network's views of one round. */
struct memo_net {
    struct hmap_node node;      /* In ovs_flows_cache.memo, by net_id. */
    struct nvo_net_view *net;   /* A reference: keeps its base alive, so
                                 * that no other base takes its address. */
    struct hmap entries;        /* Contains struct memo_entry. */
};

struct memo_entry {
    struct hmap_node node;
    int kind;
    int64_t id;
    char *vtep;                 /* Or NULL. */
    uint32_t ofport;
    struct ovs_flow **flows;    /* Owned, in no set. */
    size_t n;
};

/* The tunnel outputs of the last flood list seen for one network and
 * tunnel ofport: the next hypervisor's list differs from it in about two
 * VTEPs (each lacks itself), and its strings are the same objects when
 * both views are of one round, so resolving it costs a pointer comparison
 * per VTEP instead of a lookup. */
struct flood_template {
    struct hmap_node node;      /* In ovs_flows_cache.templates. */
    int64_t net_id;
    uint32_t ofport;
    struct nvo_net_view *net;   /* A reference: keeps 'vteps' alive. */
    const char **vteps;         /* Owned array; strings of 'net'. */
    const struct tunnel_output **outs;  /* Owned array; entries of the
                                         * cache's 'outputs'. */
    size_t n;
};

struct ovs_flows_cache {
    struct hmap outputs;        /* Contains struct tunnel_output. */
    struct hmap templates;      /* Contains struct flood_template. */
    struct hmap memo;           /* Contains struct memo_net. */
    size_t n_memo;              /* Entries in all of them. */
    struct hmap deltas;         /* Contains struct delta_slot, one per
                                 * network at most. */
    struct hmap arps;           /* Contains struct ovs_flows_arp_index, one
                                 * per network at most. */
};

/* ovs_flows_arp_owner()'s index of one network view. */
struct ovs_flows_arp_index {
    struct hmap_node node;      /* In ovs_flows_cache.arps, by net_id. */
    struct nvo_net_view *net;   /* A reference (in the cache: keeps its
                                 * base's address its own). */
    struct hmap owners;         /* Contains struct arp_owner. */
};

struct arp_owner {
    struct hmap_node node;      /* By hash of 'addr'. */
    ovs_be32 addr;
    int64_t port_id;            /* The lowest id claiming it. */
};

/* The last ovs_flows_delta of one network. */
struct delta_slot {
    struct hmap_node node;      /* In ovs_flows_cache.deltas, by net_id. */
    struct ovs_flows_delta *delta;  /* Owned. */
};

/* More entries than this, and the cache starts over: VTEPs that left are
 * never looked up again. */
#define OVS_FLOWS_CACHE_MAX 65536

struct ovs_flows_cache *
ovs_flows_cache_create(void)
{
    struct ovs_flows_cache *c = xzalloc(sizeof *c);
    hmap_init(&c->outputs);
    hmap_init(&c->templates);
    hmap_init(&c->memo);
    hmap_init(&c->deltas);
    hmap_init(&c->arps);
    return c;
}

static void
memo_net_destroy(struct ovs_flows_cache *c, struct memo_net *mn)
{
    struct memo_entry *e;
    HMAP_FOR_EACH_POP (e, node, &mn->entries) {
        for (size_t i = 0; i < e->n; i++) {
            ovs_flow_destroy(e->flows[i]);
        }
        free(e->flows);
        free(e->vtep);
        free(e);
        c->n_memo--;
    }
    hmap_destroy(&mn->entries);
    nvo_net_view_unref(mn->net);
    free(mn);
}

static void
memo_clear(struct ovs_flows_cache *c)
{
    struct memo_net *mn;
    HMAP_FOR_EACH_POP (mn, node, &c->memo) {
        memo_net_destroy(c, mn);
    }
}

/* The memo of network 'net_id', of whatever round, or NULL. */
static struct memo_net *
memo_net_lookup(const struct ovs_flows_cache *c, int64_t net_id)
{
    struct memo_net *mn;
    HMAP_FOR_EACH_WITH_HASH (mn, node, hash_uint64(net_id), &c->memo) {
        if (mn->net->net_id == net_id) {
            return mn;
        }
    }
    return NULL;
}

/* The memo of 'key''s network if it is of the same round and attributes,
 * else NULL. */
static struct memo_net *
memo_net_find(const struct ovs_flows_cache *c,
              const struct ovs_flows_memo_key *key)
{
    const struct nvo_net_view *net = key->net;
    struct memo_net *mn = memo_net_lookup(c, net->net_id);
    return (mn && mn->net->base == net->base
            && nvo_net_view_attrs_equal(mn->net, net) ? mn : NULL);
}

static uint32_t
memo_hash(const struct ovs_flows_memo_key *key)
{
    uint32_t h = hash_2words(key->kind, key->ofport);
    h = hash_uint64_basis(key->id, h);
    return key->vtep ? hash_string(key->vtep, h) : h;
}

static struct memo_entry *
memo_entry_find(const struct memo_net *mn, const struct ovs_flows_memo_key *key,
                uint32_t hash)
{
    struct memo_entry *e;
    HMAP_FOR_EACH_WITH_HASH (e, node, hash, &mn->entries) {
        if (e->kind == key->kind && e->id == key->id
            && e->ofport == key->ofport
            && nullable_string_is_equal(e->vtep, key->vtep)) {
            return e;
        }
    }
    return NULL;
}

struct ovs_flow *const *
ovs_flows_memo_get(struct ovs_flows_cache *c,
                   const struct ovs_flows_memo_key *key, size_t *n)
{
    *n = 0;
    if (!key->net->base) {
        return NULL;
    }
    struct memo_net *mn = memo_net_find(c, key);
    struct memo_entry *e = mn ? memo_entry_find(mn, key, memo_hash(key))
                           : NULL;
    if (!e) {
        return NULL;
    }
    *n = e->n;
    return e->flows;
}

void
ovs_flows_memo_put(struct ovs_flows_cache *c,
                   const struct ovs_flows_memo_key *key,
                   const struct ovs_flowset *flows)
{
    const struct nvo_net_view *net = key->net;
    if (!net->base) {
        return;
    }
    if (c->n_memo >= OVS_FLOWS_CACHE_MAX) {
        memo_clear(c);
    }
    struct memo_net *mn = memo_net_find(c, key);
    if (!mn) {
        /* A new round of this network's views: the old one's flows will
         * not be asked for again. */
        struct memo_net *old = memo_net_lookup(c, net->net_id);
        if (old) {
            hmap_remove(&c->memo, &old->node);
            memo_net_destroy(c, old);
        }
        mn = xmalloc(sizeof *mn);
        mn->net = nvo_net_view_ref(net);
        hmap_init(&mn->entries);
        hmap_insert(&c->memo, &mn->node, hash_uint64(net->net_id));
    }
    uint32_t hash = memo_hash(key);
    if (memo_entry_find(mn, key, hash)) {
        return;
    }
    struct memo_entry *e = xmalloc(sizeof *e);
    e->kind = key->kind;
    e->id = key->id;
    e->vtep = nullable_xstrdup(key->vtep);
    e->ofport = key->ofport;
    e->n = 0;
    e->flows = xmalloc((ovs_flowset_count(flows) + 1) * sizeof *e->flows);
    const struct ovs_flow *f;
    HMAP_FOR_EACH (f, node, &flows->flows) {
        e->flows[e->n++] = ovs_flow_clone(f);
    }
    hmap_insert(&mn->entries, &e->node, hash);
    c->n_memo++;
}

static void
template_destroy(struct flood_template *t)
{
    nvo_net_view_unref(t->net);
    free(t->vteps);
    free(t->outs);
    free(t);
}

static void
cache_clear(struct ovs_flows_cache *c)
{
    struct flood_template *ft;
    HMAP_FOR_EACH_POP (ft, node, &c->templates) {
        template_destroy(ft);
    }
    struct tunnel_output *t;
    HMAP_FOR_EACH_POP (t, node, &c->outputs) {
        free(t->vtep);
        free(t->ofpacts);
        free(t->wire);
        free(t);
    }
}

void
ovs_flows_cache_destroy(struct ovs_flows_cache *c)
{
    if (c) {
        cache_clear(c);
        hmap_destroy(&c->outputs);
        hmap_destroy(&c->templates);
        memo_clear(c);
        hmap_destroy(&c->memo);
        struct delta_slot *slot;
        HMAP_FOR_EACH_POP (slot, node, &c->deltas) {
            ovs_flows_delta_destroy(slot->delta);
            free(slot);
        }
        hmap_destroy(&c->deltas);
        struct ovs_flows_arp_index *ai;
        HMAP_FOR_EACH_POP (ai, node, &c->arps) {
            arp_index_destroy(ai);
        }
        hmap_destroy(&c->arps);
        free(c);
    }
}

static void
arp_note(struct hmap *owners, const char *ip, int64_t port_id)
{
    ovs_be32 a;
    if (!ip || !ip_parse(ip, &a) || !a) {
        return;
    }
    uint32_t hash = hash_uint64(ntohl(a));
    struct arp_owner *o;
    HMAP_FOR_EACH_WITH_HASH (o, node, hash, owners) {
        if (o->addr == a) {
            o->port_id = MIN(o->port_id, port_id);
            return;
        }
    }
    o = xmalloc(sizeof *o);
    o->addr = a;
    o->port_id = port_id;
    hmap_insert(owners, &o->node, hash);
}

/* The index of 'net''s addresses.  Caller owns the result. */
static struct ovs_flows_arp_index *
arp_index_create(const struct nvo_net_view *net)
{
    struct ovs_flows_arp_index *ai = xmalloc(sizeof *ai);
    ai->net = nvo_net_view_ref(net);
    hmap_init(&ai->owners);
    for (size_t i = 0; i < net->n_locals; i++) {
        arp_note(&ai->owners, net->locals[i].ip, net->locals[i].port_id);
    }
    for (size_t i = 0; i < net->n_remotes; i++) {
        arp_note(&ai->owners, net->remotes[i].ip, net->remotes[i].port_id);
    }
    return ai;
}

static void
arp_index_destroy(struct ovs_flows_arp_index *ai)
{
    if (ai) {
        struct arp_owner *o;
        HMAP_FOR_EACH_POP (o, node, &ai->owners) {
            free(o);
        }
        hmap_destroy(&ai->owners);
        nvo_net_view_unref(ai->net);
        free(ai);
    }
}

/* The cache's index for 'net', made if needed, or NULL if 'net' cannot
 * share one: no base, or not every port of the base in its arrays (a
 * service node's view has none), so that it would not be the same for
 * every view of the base. */
static const struct ovs_flows_arp_index *
arp_index_cached(struct ovs_flows_cache *c, const struct nvo_net_view *net)
{
    size_t n_ports, n_tips;
    if (!nvo_net_view_base_size(net, &n_ports, &n_tips)
        || n_ports != net->n_locals + net->n_remotes) {
        return NULL;
    }
    uint32_t hash = hash_uint64(net->net_id);
    struct ovs_flows_arp_index *ai;
    HMAP_FOR_EACH_WITH_HASH (ai, node, hash, &c->arps) {
        if (ai->net->net_id == net->net_id) {
            if (ai->net->base == net->base) {
                return ai;
            }
            hmap_remove(&c->arps, &ai->node);
            arp_index_destroy(ai);
            break;
        }
    }
    ai = arp_index_create(net);
    hmap_insert(&c->arps, &ai->node, hash);
    return ai;
}

int64_t
ovs_flows_arp_owner(struct ovs_flows_ctx *ctx, const struct nvo_net_view *net,
                    ovs_be32 a)
{
    const struct ovs_flows_arp_index *ai = NULL;
    if (ctx->in->cache) {
        ai = arp_index_cached(ctx->in->cache, net);
    }
    if (!ai) {
        if (!ctx->arp || ctx->arp->net != net) {
            arp_index_destroy(ctx->arp);
            ctx->arp = arp_index_create(net);
        }
        ai = ctx->arp;
    }
    const struct arp_owner *o;
    HMAP_FOR_EACH_WITH_HASH (o, node, hash_uint64(ntohl(a)), &ai->owners) {
        if (o->addr == a) {
            return o->port_id;
        }
    }
    return INT64_MAX;
}

void
ovs_flows_delta_destroy(struct ovs_flows_delta *d)
{
    if (d) {
        nvo_net_view_unref(d->old);
        nvo_net_view_unref(d->new);
        free(d->keys);
        free(d->claims);
        free(d->tips);
        free(d);
    }
}

static struct delta_slot *
delta_slot_find(const struct ovs_flows_cache *c, int64_t net_id)
{
    struct delta_slot *slot;
    HMAP_FOR_EACH_WITH_HASH (slot, node, hash_uint64(net_id), &c->deltas) {
        if (slot->delta->new->net_id == net_id) {
            return slot;
        }
    }
    return NULL;
}

const struct ovs_flows_delta *
ovs_flows_delta_get(struct ovs_flows_cache *c, const struct nvo_net_view *old,
                    const struct nvo_net_view *new)
{
    const struct delta_slot *slot = delta_slot_find(c, new->net_id);
    if (slot && slot->delta->old->base == old->base
        && slot->delta->new->base == new->base) {
        return slot->delta;
    }
    return NULL;
}

void
ovs_flows_delta_put(struct ovs_flows_cache *c, struct ovs_flows_delta *d)
{
    int64_t net_id = d->new->net_id;
    struct delta_slot *slot = delta_slot_find(c, net_id);
    if (slot) {
        ovs_flows_delta_destroy(slot->delta);
    } else {
        slot = xmalloc(sizeof *slot);
        hmap_insert(&c->deltas, &slot->node, hash_uint64(net_id));
    }
    slot->delta = d;
}

/* Puts the actions accumulated in 'ctx' into a flow of 'scratch' (empty)
 * through ovs_flows_put(), and returns that flow, detached: the caller
 * owns it. */
static struct ovs_flow *
canonical_flow(struct ovs_flows_ctx *ctx, struct ovs_flowset *scratch,
               uint8_t table_id, uint16_t priority, const struct match *m,
               uint64_t cookie)
{
    struct ovs_flowset *out = ctx->out;
    ctx->out = scratch;
    ovs_flows_put(ctx, table_id, priority, m, cookie);
    ctx->out = out;
    struct hmap_node *node = hmap_first(&scratch->flows);
    struct ovs_flow *f = node ? CONTAINER_OF(node, struct ovs_flow, node)
                         : NULL;
    if (f) {
        ovs_flowset_detach(scratch, f);
    }
    return f;
}

/* True if 'wire' is one apply-actions instruction and nothing else. */
static bool
is_apply_actions(const void *wire, size_t len)
{
    const struct ofp11_instruction_actions *ia = wire;
    return (len >= sizeof *ia && ntohs(ia->type) == OFPIT11_APPLY_ACTIONS
            && ntohs(ia->len) == len);
}

/* Returns the cache's entry for the output to 'vtep' through 'ofport',
 * making it if needed ('ctx' lends its buffers, which must be empty). */
static const struct tunnel_output *
cache_get(struct ovs_flows_ctx *ctx, struct ovs_flows_cache *c,
          const char *vtep, uint32_t ofport)
{
    uint32_t hash = hash_string(vtep, ofport);
    struct tunnel_output *t;
    HMAP_FOR_EACH_WITH_HASH (t, node, hash, &c->outputs) {
        if (t->ofport == ofport && !strcmp(t->vtep, vtep)) {
            return t;
        }
    }
    t = xzalloc(sizeof *t);
    t->vtep = xstrdup(vtep);
    t->ofport = ofport;
    bool v4_set = false;
    if (ovs_flows_put_tunnel_output(ctx, vtep, ofport, &v4_set)) {
        struct ovs_flowset scratch;
        struct match m;
        ovs_flowset_init(&scratch);
        match_init_catchall(&m);
        struct ovs_flow *f = canonical_flow(ctx, &scratch, 0, 0, &m, 0);
        if (f && is_apply_actions(f->wire, f->wire_len)) {
            size_t hdr = sizeof(struct ofp11_instruction_actions);
            t->ofpacts = xmemdup(f->ofpacts, f->ofpacts_len);
            t->ofpacts_len = f->ofpacts_len;
            t->wire_len = f->wire_len - hdr;
            t->wire = xmemdup((const char *) f->wire + hdr, t->wire_len);
        }
        ovs_flow_destroy(f);
        ovs_flowset_destroy(&scratch);
    }
    ofpbuf_clear(ctx->ofpacts);
    hmap_insert(&c->outputs, &t->node, hash);
    return t;
}

/* Sets 'outs[i]' to the cache's tunnel output toward 'vteps[i]' through
 * 'ofport', for each of the 'n' VTEPs of 'net' (it owns their strings).
 * Each comes from the network's template where it has the VTEP (the same
 * string object, or an equal string), else from the cache. */
static void
resolve_outputs(struct ovs_flows_ctx *ctx, struct ovs_flows_cache *c,
                const struct nvo_net_view *net, char *const *vteps, size_t n,
                uint32_t ofport, const struct tunnel_output **outs)
{
    uint32_t hash = hash_2words(hash_uint64(net->net_id), ofport);
    struct flood_template *t = NULL, *ft;
    HMAP_FOR_EACH_WITH_HASH (ft, node, hash, &c->templates) {
        if (ft->net_id == net->net_id && ft->ofport == ofport) {
            t = ft;
            break;
        }
    }

    size_t j = 0, misses = 0;
    for (size_t i = 0; i < n; i++) {
        const char *v = vteps[i];
        const struct tunnel_output *o = NULL;
        /* Both lists are sorted: a merge, which stays correct (only
         * slower) for any order. */
        while (t && j < t->n) {
            if (t->vteps[j] == v) {
                o = t->outs[j++];
                break;
            }
            int cmp = strcmp(v, t->vteps[j]);
            if (!cmp) {
                o = t->outs[j++];
                misses++;
                break;
            } else if (cmp < 0) {
                break;
            }
            j++;
        }
        if (!o) {
            o = cache_get(ctx, c, v, ofport);
            misses++;
        }
        outs[i] = o;
    }

    /* More than the usual two differences (the template's hypervisor in
     * this list, this one in the template's): a new round of views, or
     * another flood list; it becomes the template. */
    if (misses > 2) {
        if (t) {
            hmap_remove(&c->templates, &t->node);
            template_destroy(t);
        }
        t = xmalloc(sizeof *t);
        t->net_id = net->net_id;
        t->ofport = ofport;
        t->net = nvo_net_view_ref(net);
        t->vteps = xmemdup(vteps, n * sizeof *vteps);
        t->outs = xmemdup(outs, n * sizeof *outs);
        t->n = n;
        hmap_insert(&c->templates, &t->node, hash);
    }
}

void
ovs_flows_put_tunnels(struct ovs_flows_ctx *ctx, uint8_t table_id,
                      uint16_t priority, const struct match *match,
                      uint64_t cookie, const struct nvo_net_view *net,
                      char *const *vteps, size_t n, uint32_t ofport)
{
    struct ovs_flows_cache *c = ctx->in->cache;

    /* The cached pieces fit only where each action encodes and decodes by
     * itself: outputs and set_fields before them, and IPv4 VTEPs (an IPv6
     * one after an IPv4 one needs an action more, see
     * ovs_flows_put_tunnel_output()). */
    bool cached = c != NULL && n > 1;
    const struct ofpact *a;
    OFPACT_FOR_EACH (a, ctx->ofpacts->data, ctx->ofpacts->size) {
        if (a->type != OFPACT_OUTPUT && a->type != OFPACT_SET_FIELD) {
            cached = false;
        }
    }
    for (size_t i = 0; cached && i < n; i++) {
        cached = !strchr(vteps[i], ':');
    }
    struct ovs_flow *f = NULL;
    if (cached) {
        /* The actions before the VTEPs' (the tun_id at least), in
         * canonical form; every VTEP's are then copied behind them. */
        struct ovs_flowset scratch;
        ovs_flowset_init(&scratch);
        f = canonical_flow(ctx, &scratch, table_id, priority, match, cookie);
        ovs_flowset_destroy(&scratch);
        if (!f) {
            return;             /* Logged by ovs_flows_put(). */
        }
        if (!is_apply_actions(f->wire, f->wire_len)) {
            /* No actions before the VTEPs': the long way, from them. */
            ofpbuf_put(ctx->ofpacts, f->ofpacts, f->ofpacts_len);
            ovs_flow_destroy(f);
            f = NULL;
        }
    }
    if (!f) {
        bool v4_set = false;
        for (size_t i = 0; i < n; i++) {
            ovs_flows_put_tunnel_output(ctx, vteps[i], ofport, &v4_set);
        }
        ovs_flows_put(ctx, table_id, priority, match, cookie);
        return;
    }
    /* Cleared, if full, only before the outputs are looked up: they point
     * into it. */
    if (hmap_count(&c->outputs) + n > OVS_FLOWS_CACHE_MAX) {
        cache_clear(c);
    }
    const struct tunnel_output **outs = xmalloc(n * sizeof *outs);
    resolve_outputs(ctx, c, net, vteps, n, ofport, outs);
    size_t ofpacts_len = f->ofpacts_len, wire_len = f->wire_len;
    for (size_t i = 0; i < n; i++) {
        ofpacts_len += outs[i]->ofpacts_len;
        wire_len += outs[i]->wire_len;
    }
    struct ofpact *ofpacts = xmalloc(ofpacts_len);
    char *wire = xmalloc(wire_len);
    size_t po = f->ofpacts_len, wo = f->wire_len;
    memcpy(ofpacts, f->ofpacts, f->ofpacts_len);
    memcpy(wire, f->wire, f->wire_len);
    for (size_t i = 0; i < n; i++) {
        memcpy((char *) ofpacts + po, outs[i]->ofpacts, outs[i]->ofpacts_len);
        po += outs[i]->ofpacts_len;
        memcpy(wire + wo, outs[i]->wire, outs[i]->wire_len);
        wo += outs[i]->wire_len;
    }
    free(outs);
    ((struct ofp11_instruction_actions *) wire)->len = htons(wire_len);
    ovs_flow_set_actions(f, ofpacts, ofpacts_len, wire, wire_len);
    ovs_flowset_insert(ctx->out, f);
}

bool
ovs_flows_match_tun_src(struct match *m, const char *vtep_ip)
{
    ovs_be32 a;
    struct in6_addr a6;
    if (ip_parse(vtep_ip, &a)) {
        match_set_tun_src(m, a);
    } else if (ipv6_parse(vtep_ip, &a6)) {
        match_set_tun_ipv6_src(m, &a6);
    } else {
        return false;
    }
    return true;
}

bool
ovs_flows_iface_ofport(struct ovs_flows_ctx *ctx, const char *iface,
                       uint32_t *ofport)
{
    return lookup(ctx, ctx->in->iface_ofports, iface, iface, ofport);
}

const char **
ovs_flows_net_vteps(const struct nvo_net_view *net, size_t *n)
{
    const char **v = xmalloc((net->n_vteps + 1) * sizeof *v);
    size_t k = net->n_vteps;
    memcpy(v, net->vteps, k * sizeof *v);
    const char *sn = net->service_node_ip;
    if (sn && !bsearch(&sn, v, k, sizeof *v, nvo_strvec_compare)) {
        v[k++] = sn;
        qsort(v, k, sizeof *v, nvo_strvec_compare);
    }
    *n = k;
    return v;
}

/* The cookie of the classification flows of the tunnel toward VTEP 'ip':
 * an IPv4 address fits in the 52 id bits; an IPv6 one does not, and gets
 * 52 bits of a hash of it (type OVS_COOKIE_TUNNEL6).  The cookie only says
 * what a flow belongs to; flows are told apart by their match. */
static uint64_t
tunnel_cookie(const char *ip)
{
    ovs_be32 a;
    struct in6_addr a6;
    if (ip_parse(ip, &a)) {
        return ovs_cookie(OVS_COOKIE_TUNNEL, ntohl(a));
    } else if (ipv6_parse(ip, &a6)) {
        return ovs_cookie(OVS_COOKIE_TUNNEL6,
                          hash_bytes64((const uint64_t *) &a6, sizeof a6, 0));
    }
    return ovs_cookie(OVS_COOKIE_TUNNEL, 0);
}

/* The L2 pipeline. */

/* Table 0 and 1 flows of one local VM port. */
static void
l2_local_port(struct ovs_flows_ctx *ctx, const struct nvo_net_view *net,
              const struct nvo_local_port *lp, uint32_t ofport)
{
    uint64_t cookie = ovs_cookie(OVS_COOKIE_PORT, lp->port_id);
    struct match m;

    /* Classify: only the VM's own source MAC enters its network (a port
     * with IPv4 addresses is admitted by the port-security generator
     * instead, ovs-flows-portsec.h). */
    if (!ovs_portsec_enforces_ipv4(lp)) {
        match_init_catchall(&m);
        match_set_in_port(&m, u16_to_ofp(ofport));
        match_set_dl_src(&m, lp->mac);
        ovs_flows_put_metadata_goto(ctx, net->vni, OVS_TABLE_DMAC);
        ovs_flows_put(ctx, OVS_TABLE_CLASSIFY, OVS_PRIO_MATCH, &m, cookie);
    }

    /* Anything else from that port: dropped (counted here). */
    match_init_catchall(&m);
    match_set_in_port(&m, u16_to_ofp(ofport));
    ovs_flows_put(ctx, OVS_TABLE_CLASSIFY, OVS_PRIO_GUARD, &m, cookie);

    /* DMAC: frames to the VM. */
    match_init_catchall(&m);
    match_set_metadata(&m, htonll(net->vni));
    match_set_dl_dst(&m, lp->mac);
    ovs_flows_put_output(ctx, ofport);
    ovs_flows_put(ctx, OVS_TABLE_DMAC, OVS_PRIO_MATCH, &m, cookie);
}

/* Table 1 flow of a remote VM port: its VNI and its VTEP into the tunnel
 * metadata, out through the flow-based tunnel port. */
static void
l2_remote_port(struct ovs_flows_ctx *ctx, const struct nvo_net_view *net,
               const struct nvo_remote_mac *rm)
{
    uint32_t ofport;
    if (!ovs_flows_tunnel_ofport(ctx, net, &ofport)) {
        return;
    }
    bool v4_set = false;
    ovs_flows_put_set_tun_id(ctx, net->vni);
    if (!ovs_flows_put_tunnel_output(ctx, rm->vtep_ip, ofport, &v4_set)) {
        ofpbuf_clear(ctx->ofpacts);
        return;
    }
    struct match m;
    match_init_catchall(&m);
    match_set_reg(&m, 0, 0);    /* From a local VM: never tunnel to tunnel. */
    match_set_metadata(&m, htonll(net->vni));
    match_set_dl_dst(&m, rm->mac);
    ovs_flows_put(ctx, OVS_TABLE_DMAC, OVS_PRIO_MATCH, &m,
                  ovs_cookie(OVS_COOKIE_PORT, rm->port_id));
}

/* Table 0 flow for a network's frames arriving from VTEP 'ip': the
 * tunnel port of the network's encapsulation, that source address and
 * the network's VNI.  Frames from any other source are dropped by the
 * table's default. */
static void
l2_tunnel(struct ovs_flows_ctx *ctx, const struct nvo_net_view *net,
          const char *ip)
{
    uint32_t ofport;
    if (!ovs_flows_tunnel_ofport(ctx, net, &ofport)) {
        return;
    }
    struct match m;
    match_init_catchall(&m);
    match_set_in_port(&m, u16_to_ofp(ofport));
    if (!ovs_flows_match_tun_src(&m, ip)) {
        return;
    }
    match_set_tun_id(&m, htonll(net->vni));
    ovs_flows_put_set_reg0(ctx, 1);
    ovs_flows_put_metadata_goto(ctx, net->vni, OVS_TABLE_DMAC);
    ovs_flows_put(ctx, OVS_TABLE_CLASSIFY, OVS_PRIO_MATCH, &m,
                  tunnel_cookie(ip));
}

/* Table 2 flows of a network; 'ofports' are its local ports' ofports. */
static void
l2_network(struct ovs_flows_ctx *ctx, const struct nvo_net_view *net,
           const uint32_t *ofports, size_t n_ofports)
{
    uint64_t cookie = ovs_cookie(OVS_COOKIE_NETWORK, net->vni);
    struct match m;

    if (!n_ofports && !net->n_flood) {
        return;
    }

    /* From a local VM: local ports, then one copy per flood VTEP. */
    for (size_t i = 0; i < n_ofports; i++) {
        ovs_flows_put_output(ctx, ofports[i]);
    }
    match_init_catchall(&m);
    match_set_reg(&m, 0, 0);
    match_set_metadata(&m, htonll(net->vni));
    uint32_t tun_ofport;
    if (net->n_flood && ovs_flows_tunnel_ofport(ctx, net, &tun_ofport)) {
        ovs_flows_put_set_tun_id(ctx, net->vni);
        ovs_flows_put_tunnels(ctx, OVS_TABLE_BUM, OVS_PRIO_MATCH, &m, cookie,
                              net, net->flood, net->n_flood, tun_ofport);
    } else {
        ovs_flows_put(ctx, OVS_TABLE_BUM, OVS_PRIO_MATCH, &m, cookie);
    }

    /* From a tunnel: local ports only, so nothing loops. */
    for (size_t i = 0; i < n_ofports; i++) {
        ovs_flows_put_output(ctx, ofports[i]);
    }
    match_init_catchall(&m);
    match_set_reg(&m, 0, 1);
    match_set_metadata(&m, htonll(net->vni));
    ovs_flows_put(ctx, OVS_TABLE_BUM, OVS_PRIO_MATCH, &m, cookie);
}

static void
l2_pipeline(struct ovs_flows_ctx *ctx)
{
    uint64_t cookie = ovs_cookie(OVS_COOKIE_PIPELINE, 0);
    struct match m;

    match_init_catchall(&m);
    ovs_flows_put(ctx, OVS_TABLE_CLASSIFY, OVS_PRIO_DEFAULT, &m, cookie);

    /* Unicast from a tunnel to a MAC that is not local: drop, never
     * flood it. */
    match_init_catchall(&m);
    match_set_reg(&m, 0, 1);
    static const struct eth_addr group_bit = ETH_ADDR_C(01,00,00,00,00,00);
    match_set_dl_dst_masked(&m, eth_addr_zero, group_bit);
    ovs_flows_put(ctx, OVS_TABLE_DMAC, OVS_PRIO_GUARD, &m, cookie);

    match_init_catchall(&m);
    ofpact_put_GOTO_TABLE(ctx->ofpacts)->table_id = OVS_TABLE_BUM;
    ovs_flows_put(ctx, OVS_TABLE_DMAC, OVS_PRIO_DEFAULT, &m, cookie);

    match_init_catchall(&m);
    ovs_flows_put(ctx, OVS_TABLE_BUM, OVS_PRIO_DEFAULT, &m, cookie);
}

const struct ovs_flowgen ovs_flowgen_l2 = {
    .name = "l2",
    .pipeline = l2_pipeline,
    .local_port = l2_local_port,
    .remote_port = l2_remote_port,
    .tunnel = l2_tunnel,
    .network = l2_network,
};

bool
ovs_flows_compute(const struct ovs_flows_input *in, struct ovs_flowset *out,
                  struct sset *missing)
{
    struct ovs_flows_ctx ctx;
    size_t n_gens;
    const struct ovs_flowgen *const *gens = ovs_flowgens(&n_gens);

    ovs_flowset_clear(out);
    ovs_flows_ctx_init(&ctx, in, out, missing);
    for (size_t g = 0; g < n_gens; g++) {
        if (gens[g]->pipeline) {
            gens[g]->pipeline(&ctx);
        }
    }
    const struct nvo_hv_view *v = in->view;
    for (size_t i = 0; i < v->n_nets; i++) {
        const struct nvo_net_view *net = v->nets[i];
        uint32_t *ofports = xmalloc((net->n_locals + 1) * sizeof *ofports);
        size_t n_ofports = 0;

        for (size_t j = 0; j < net->n_locals; j++) {
            const struct nvo_local_port *lp = &net->locals[j];
            uint32_t ofport;
            if (ovs_flows_iface_ofport(&ctx, lp->iface, &ofport)) {
                for (size_t g = 0; g < n_gens; g++) {
                    if (gens[g]->local_port) {
                        gens[g]->local_port(&ctx, net, lp, ofport);
                    }
                }
                ofports[n_ofports++] = ofport;
            }
        }
        for (size_t j = 0; j < net->n_remotes; j++) {
            for (size_t g = 0; g < n_gens; g++) {
                if (gens[g]->remote_port) {
                    gens[g]->remote_port(&ctx, net, &net->remotes[j]);
                }
            }
        }
        size_t n_vteps;
        const char **vteps = ovs_flows_net_vteps(net, &n_vteps);
        for (size_t j = 0; j < n_vteps; j++) {
            for (size_t g = 0; g < n_gens; g++) {
                if (gens[g]->tunnel) {
                    gens[g]->tunnel(&ctx, net, vteps[j]);
                }
            }
        }
        free(vteps);
        for (size_t g = 0; g < n_gens; g++) {
            if (gens[g]->network) {
                gens[g]->network(&ctx, net, ofports, n_ofports);
            }
        }
        free(ofports);
    }
    bool complete = ctx.complete;
    ovs_flows_ctx_destroy(&ctx);
    return complete;
}
