#include <config.h>
#include "controller/ovs-flowset.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofpbuf.h"
#include "util.h"

/* The actions of a flow and of its clones.  A VM start changes one flow
 * (its MAC's) on every other hypervisor of its network, made once for all
 * of them (ovs-flows.c's memo) and cloned into each one's table, then into
 * the bundle in flight and the installed set: sharing the actions makes a
 * clone one allocation instead of four (and no copy of a BUM flow's
 * actions, 32 bytes per VTEP), and lets the flow_mod be encoded once for
 * the network rather than once per switch.  Immutable once shared; one
 * thread's (the OVS southbound thread, or a test's), so the count is not
 * atomic. */
struct ovs_flow_acts {
    unsigned int n_refs;
    struct ofpact *ofpacts;     /* Owned. */
    size_t ofpacts_len;
    void *wire;                 /* Owned. */
    size_t wire_len;
    struct ofpbuf *add_msg;     /* Owned: the OFPFC_ADD flow_mod of the
                                 * flows holding these actions (all have
                                 * the same key and cookie), or NULL until
                                 * ovs_flow_add_msg() makes it. */
};

/* Makes 'f' hold new actions 'ofpacts' and 'wire' (taken). */
static void
acts_set(struct ovs_flow *f, struct ofpact *ofpacts, size_t ofpacts_len,
         void *wire, size_t wire_len)
{
    struct ovs_flow_acts *a = xmalloc(sizeof *a);
    a->n_refs = 1;
    a->ofpacts = ofpacts;
    a->ofpacts_len = ofpacts_len;
    a->wire = wire;
    a->wire_len = wire_len;
    a->add_msg = NULL;
    f->acts = a;
    f->ofpacts = ofpacts;
    f->ofpacts_len = ofpacts_len;
    f->wire = wire;
    f->wire_len = wire_len;
}

/* Drops 'f''s reference to its actions. */
static void
acts_unref(struct ovs_flow *f)
{
    struct ovs_flow_acts *a = f->acts;
    if (a && !--a->n_refs) {
        free(a->ofpacts);
        free(a->wire);
        ofpbuf_delete(a->add_msg);
        free(a);
    }
    f->acts = NULL;
    f->ofpacts = NULL;
    f->ofpacts_len = 0;
    f->wire = NULL;
    f->wire_len = 0;
}

static uint32_t
ovs_flow_key_hash(uint8_t table_id, uint16_t priority,
                  const struct minimatch *match)
{
    return minimatch_hash(match, hash_2words(table_id, priority));
}

void
ovs_flowset_init(struct ovs_flowset *fs)
{
    hmap_init(&fs->flows);
}

static void
ovs_flow_free(struct ovs_flow *f)
{
    minimatch_destroy(&f->match);
    acts_unref(f);
    free(f);
}

void
ovs_flow_destroy(struct ovs_flow *f)
{
    if (f) {
        ovs_flow_free(f);
    }
}

struct ovs_flow *
ovs_flow_clone(const struct ovs_flow *f)
{
    struct ovs_flow *c = xmalloc(sizeof *c);
    *c = *f;
    c->owner = NULL;
    minimatch_clone(&c->match, &f->match);
    if (c->acts) {
        c->acts->n_refs++;
    }
    return c;
}

void
ovs_flow_set_actions(struct ovs_flow *f, struct ofpact *ofpacts,
                     size_t ofpacts_len, void *wire, size_t wire_len)
{
    ovs_assert(!f->acts || f->acts->n_refs == 1);
    acts_unref(f);
    acts_set(f, ofpacts, ofpacts_len, wire, wire_len);
}

/* 'f' (which has actions) as an OFPFC_ADD flow_mod.  Caller owns it. */
static struct ofpbuf *
encode_add(const struct ovs_flow *f)
{
    struct ofputil_flow_mod fm = {
        .match = f->match,
        .priority = f->priority,
        .table_id = f->table_id,
        .command = OFPFC_ADD,
        .new_cookie = htonll(f->cookie),
        .buffer_id = UINT32_MAX,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
    };
    /* The instructions end an OpenFlow 1.3 flow_mod: encoded without
     * actions, the flow's encoded instructions appended. */
    struct ofpbuf *msg = ofputil_encode_flow_mod(&fm, OFPUTIL_P_OF13_OXM);
    if (f->acts->wire_len) {
        ofpbuf_put(msg, f->acts->wire, f->acts->wire_len);
        ofpmsg_update_length(msg);
    }
    return msg;
}

const struct ofpbuf *
ovs_flow_add_msg(const struct ovs_flow *f)
{
    struct ovs_flow_acts *a = f->acts;
    if (!a || (!a->add_msg && a->n_refs == 1)) {
        /* Not shared: sent to one switch (a cold start's flows, the VM's
         * own hypervisor's), not worth its memory. */
        return NULL;
    }
    if (!a->add_msg) {
        a->add_msg = encode_add(f);
    }
    /* The copies share the xid too: nvo matches replies only to barriers,
     * bundle commits and stats requests, whose xids are their own. */
    return a->add_msg;
}

void
ovs_flowset_clear(struct ovs_flowset *fs)
{
    struct ovs_flow *f;
    HMAP_FOR_EACH_POP (f, node, &fs->flows) {
        ovs_flow_free(f);
    }
}

void
ovs_flowset_destroy(struct ovs_flowset *fs)
{
    if (fs) {
        ovs_flowset_clear(fs);
        hmap_destroy(&fs->flows);
    }
}

void
ovs_flowset_swap(struct ovs_flowset *a, struct ovs_flowset *b)
{
    hmap_swap(&a->flows, &b->flows);
}

size_t
ovs_flowset_count(const struct ovs_flowset *fs)
{
    return hmap_count(&fs->flows);
}

struct ovs_flow *
ovs_flowset_find(const struct ovs_flowset *fs, uint8_t table_id,
                 uint16_t priority, const struct minimatch *match)
{
    struct ovs_flow *f;
    HMAP_FOR_EACH_WITH_HASH (f, node,
                             ovs_flow_key_hash(table_id, priority, match),
                             &fs->flows) {
        if (f->table_id == table_id && f->priority == priority
            && minimatch_equal(&f->match, match)) {
            return f;
        }
    }
    return NULL;
}

struct ovs_flow *
ovs_flowset_find_flow(const struct ovs_flowset *fs, const struct ovs_flow *k)
{
    struct ovs_flow *f;
    HMAP_FOR_EACH_WITH_HASH (f, node, k->hash, &fs->flows) {
        if (f->table_id == k->table_id && f->priority == k->priority
            && minimatch_equal(&f->match, &k->match)) {
            return f;
        }
    }
    return NULL;
}

static struct ovs_flow *
ovs_flowset_insert__(struct ovs_flowset *fs, uint8_t table_id,
                     uint16_t priority, struct minimatch *match,
                     uint64_t cookie, const struct ofpact *ofpacts,
                     size_t ofpacts_len, bool *replaced)
{
    uint32_t hash = ovs_flow_key_hash(table_id, priority, match);
    struct ovs_flow *f;
    HMAP_FOR_EACH_WITH_HASH (f, node, hash, &fs->flows) {
        if (f->table_id == table_id && f->priority == priority
            && minimatch_equal(&f->match, match)) {
            break;
        }
    }
    if (replaced) {
        *replaced = f != NULL;
    }
    if (f) {
        minimatch_destroy(match);
        acts_unref(f);
    } else {
        f = xzalloc(sizeof *f);
        f->table_id = table_id;
        f->priority = priority;
        f->match = *match;
        f->hash = hash;
        hmap_insert(&fs->flows, &f->node, hash);
    }
    f->cookie = cookie;

    /* Actions compare by their wire form: decoded ofpacts may differ in
     * padding bytes. */
    /* Sized for the whole encoding at once (it is never longer than the
     * decoded actions plus the instruction headers): an ofpbuf grows by
     * what is appended, so a flow of N actions would otherwise be copied
     * about N times (a BUM flow has two per VTEP). */
    struct ofpbuf wire;
    ofpbuf_init(&wire, ofpacts_len + 64);
    ofpacts_put_openflow_instructions(ofpacts, ofpacts_len, &wire,
                                      OFP13_VERSION);
    size_t wire_len = wire.size;
    acts_set(f, ofpacts_len ? xmemdup(ofpacts, ofpacts_len) : NULL,
             ofpacts_len, ofpbuf_steal_data(&wire), wire_len);
    return f;
}

struct ovs_flow *
ovs_flowset_add(struct ovs_flowset *fs, uint8_t table_id, uint16_t priority,
                const struct match *match, uint64_t cookie,
                const struct ofpact *ofpacts, size_t ofpacts_len,
                bool *replaced)
{
    struct minimatch mm;
    minimatch_init(&mm, match);
    return ovs_flowset_insert__(fs, table_id, priority, &mm, cookie, ofpacts,
                                ofpacts_len, replaced);
}

void
ovs_flowset_remove(struct ovs_flowset *fs, struct ovs_flow *f)
{
    hmap_remove(&fs->flows, &f->node);
    ovs_flow_free(f);
}

void
ovs_flowset_detach(struct ovs_flowset *fs, struct ovs_flow *f)
{
    hmap_remove(&fs->flows, &f->node);
}

void
ovs_flowset_insert(struct ovs_flowset *fs, struct ovs_flow *f)
{
    struct ovs_flow *old = ovs_flowset_find_flow(fs, f);
    if (old) {
        ovs_flowset_remove(fs, old);
    }
    hmap_insert(&fs->flows, &f->node, f->hash);
}

void
ovs_flowset_add_key(struct ovs_flowset *fs, const struct ovs_flow *f)
{
    if (!ovs_flowset_find_flow(fs, f)) {
        struct ovs_flow *k = xzalloc(sizeof *k);
        k->table_id = f->table_id;
        k->priority = f->priority;
        k->hash = f->hash;
        minimatch_clone(&k->match, &f->match);
        hmap_insert(&fs->flows, &k->node, k->hash);
    }
}

void
ovs_flowset_clone(struct ovs_flowset *dst, const struct ovs_flowset *src)
{
    const struct ovs_flow *f;
    HMAP_FOR_EACH (f, node, &src->flows) {
        ovs_flowset_insert(dst, ovs_flow_clone(f));
    }
}

bool
ovs_flow_value_equal(const struct ovs_flow *a, const struct ovs_flow *b)
{
    if (a->cookie != b->cookie) {
        return false;
    } else if (a->acts == b->acts) {
        return true;            /* Clones of one flow, or two keys. */
    }
    return (a->wire_len == b->wire_len
            && (!a->wire_len || !memcmp(a->wire, b->wire, a->wire_len)));
}

bool
ovs_flowset_equal(const struct ovs_flowset *a, const struct ovs_flowset *b)
{
    if (hmap_count(&a->flows) != hmap_count(&b->flows)) {
        return false;
    }
    const struct ovs_flow *f;
    HMAP_FOR_EACH (f, node, &a->flows) {
        const struct ovs_flow *g = ovs_flowset_find_flow(b, f);
        if (!g || !ovs_flow_value_equal(f, g)) {
            return false;
        }
    }
    return true;
}

void
ovs_flow_format(const struct ovs_flow *f, struct ds *s)
{
    ds_put_format(s, "table=%"PRIu8", priority=%"PRIu16, f->table_id,
                  f->priority);
    struct ds m = DS_EMPTY_INITIALIZER;
    minimatch_format(&f->match, NULL, NULL, &m, OFP_DEFAULT_PRIORITY);
    if (m.length) {
        ds_put_format(s, ", %s", ds_cstr(&m));
    }
    ds_destroy(&m);
    ds_put_format(s, " cookie=%#"PRIx64" actions=", f->cookie);
    struct ofpact_format_params fp = { .s = s };
    ofpacts_format(f->ofpacts, f->ofpacts_len, &fp);
}

static void
changes_push(struct ovs_flow_changes *c, enum ovs_flow_change_type type,
             const struct ovs_flow *flow)
{
    if (c->n >= c->allocated) {
        c->changes = x2nrealloc(c->changes, &c->allocated,
                                sizeof *c->changes);
    }
    c->changes[c->n++] = (struct ovs_flow_change) { type, flow };
    switch (type) {
    case OVS_FLOW_ADD: c->n_add++; break;
    case OVS_FLOW_MODIFY: c->n_modify++; break;
    case OVS_FLOW_DELETE: c->n_delete++; break;
    }
}

void
ovs_flowset_diff(const struct ovs_flowset *desired,
                 const struct ovs_flowset *installed,
                 struct ovs_flow_changes *out)
{
    memset(out, 0, sizeof *out);

    const struct ovs_flow *f;
    HMAP_FOR_EACH (f, node, &installed->flows) {
        if (!ovs_flowset_find_flow(desired, f)) {
            changes_push(out, OVS_FLOW_DELETE, f);
        }
    }
    HMAP_FOR_EACH (f, node, &desired->flows) {
        const struct ovs_flow *i = ovs_flowset_find_flow(installed, f);
        if (!i || i->cookie != f->cookie) {
            /* OpenFlow 1.3 cannot change a cookie with a modify: an add
             * replaces the flow. */
            changes_push(out, OVS_FLOW_ADD, f);
        } else if (!ovs_flow_value_equal(i, f)) {
            changes_push(out, OVS_FLOW_MODIFY, f);
        }
    }
}

void
ovs_flowset_diff_keys(const struct ovs_flowset *desired,
                      const struct ovs_flowset *installed,
                      const struct ovs_flowset *keys,
                      struct ovs_flow_changes *out)
{
    memset(out, 0, sizeof *out);

    /* Deletions first, as ovs_flowset_diff() does. */
    const struct ovs_flow *k;
    HMAP_FOR_EACH (k, node, &keys->flows) {
        const struct ovs_flow *i = ovs_flowset_find_flow(installed, k);
        if (i && !ovs_flowset_find_flow(desired, k)) {
            changes_push(out, OVS_FLOW_DELETE, i);
        }
    }
    HMAP_FOR_EACH (k, node, &keys->flows) {
        const struct ovs_flow *f = ovs_flowset_find_flow(desired, k);
        if (!f) {
            continue;
        }
        const struct ovs_flow *i = ovs_flowset_find_flow(installed, k);
        if (!i || i->cookie != f->cookie) {
            changes_push(out, OVS_FLOW_ADD, f);
        } else if (!ovs_flow_value_equal(i, f)) {
            changes_push(out, OVS_FLOW_MODIFY, f);
        }
    }
}

void
ovs_flow_changes_destroy(struct ovs_flow_changes *c)
{
    if (c) {
        free(c->changes);
        memset(c, 0, sizeof *c);
    }
}

void
ovs_flowset_apply(struct ovs_flowset *installed,
                  const struct ovs_flow_changes *c)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct ovs_flow *f = c->changes[i].flow;
        if (c->changes[i].type == OVS_FLOW_DELETE) {
            struct ovs_flow *g = ovs_flowset_find_flow(installed, f);
            if (g) {
                ovs_flowset_remove(installed, g);
            }
        } else {
            /* A copy, wire form included: encoding the actions again
             * would cost as much as making the flow did. */
            ovs_flowset_insert(installed, ovs_flow_clone(f));
        }
    }
}
