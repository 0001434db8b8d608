/* svcnode-table.c - the service node's VNI table and replication decision. */
#include <config.h>

#include "agent/svcnode-table.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/vxlan.h"
#include "hash.h"
#include "util.h"

const char *
svcnode_verdict_name(enum svcnode_verdict v)
{
    switch (v) {
    case SVCNODE_FORWARD: return "forward";
    case SVCNODE_DROP_SHORT: return "short";
    case SVCNODE_DROP_FLAGS: return "bad flags";
    case SVCNODE_DROP_TOO_LONG: return "too long";
    case SVCNODE_DROP_UNKNOWN_VNI: return "unknown VNI";
    case SVCNODE_DROP_UNKNOWN_SOURCE: return "unknown source";
    }
    return "?";
}

void
svcnode_table_init(struct svcnode_table *t, uint32_t self)
{
    hmap_init(&t->vnis);
    t->self = self;
    memset(&t->none, 0, sizeof t->none);
    t->none.vni = SVCNODE_VNI_NONE;
}

void
svcnode_table_destroy(struct svcnode_table *t)
{
    if (!t) {
        return;
    }
    struct svcnode_vni *e;
    HMAP_FOR_EACH_POP (e, node, &t->vnis) {
        free(e->vteps);
        free(e);
    }
    hmap_destroy(&t->vnis);
}

struct svcnode_vni *
svcnode_table_find(const struct svcnode_table *t, uint32_t vni)
{
    struct svcnode_vni *e;
    HMAP_FOR_EACH_WITH_HASH (e, node, hash_int(vni, 0), &t->vnis) {
        if (e->vni == vni) {
            return e;
        }
    }
    return NULL;
}

static int
compare_ip(const void *a_, const void *b_)
{
    uint32_t a = ntohl(*(const uint32_t *) a_);
    uint32_t b = ntohl(*(const uint32_t *) b_);
    return a < b ? -1 : a > b;
}

int
svcnode_table_set(struct svcnode_table *t, uint32_t vni,
                  const struct in_addr *vteps, size_t n)
{
    if (vni < 1 || vni > VXLAN_VNI_MAX) {
        return -EINVAL;
    }
    if (n > SVCNODE_MAX_VTEPS) {
        return -E2BIG;
    }

    /* Sorted, unique, without 0.0.0.0 and our own address. */
    uint32_t *list = xmalloc(MAX(n, 1) * sizeof *list);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t ip = vteps[i].s_addr;
        if (ip && ip != t->self) {
            list[m++] = ip;
        }
    }
    qsort(list, m, sizeof *list, compare_ip);
    size_t u = 0;
    for (size_t i = 0; i < m; i++) {
        if (!u || list[u - 1] != list[i]) {
            list[u++] = list[i];
        }
    }

    struct svcnode_vni *e = svcnode_table_find(t, vni);
    if (!e) {
        e = xzalloc(sizeof *e);
        e->vni = vni;
        e->c.vni = vni;
        hmap_insert(&t->vnis, &e->node, hash_int(vni, 0));
    }
    free(e->vteps);
    e->vteps = list;
    e->n_vteps = u;
    return 0;
}

void
svcnode_table_remove(struct svcnode_table *t, uint32_t vni)
{
    struct svcnode_vni *e = svcnode_table_find(t, vni);
    if (e) {
        hmap_remove(&t->vnis, &e->node);
        free(e->vteps);
        free(e);
    }
}

/* Returns the index of 'ip' in e->vteps, or SIZE_MAX. */
static size_t
find_vtep(const struct svcnode_vni *e, uint32_t ip)
{
    uint32_t key = ntohl(ip);
    size_t lo = 0, hi = e->n_vteps;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t v = ntohl(e->vteps[mid]);
        if (v == key) {
            return mid;
        } else if (v < key) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return SIZE_MAX;
}

enum svcnode_verdict
svcnode_decide(const struct svcnode_table *t, const void *pkt, size_t len,
               uint32_t src, struct svcnode_decision *d)
{
    memset(d, 0, sizeof *d);
    if (len > SVCNODE_MAX_PACKET) {
        return d->verdict = SVCNODE_DROP_TOO_LONG;
    }
    switch (vxlan_parse(pkt, len, &d->vni)) {
    case VXLAN_OK:
        break;
    case VXLAN_SHORT:
        return d->verdict = SVCNODE_DROP_SHORT;
    case VXLAN_BAD_FLAGS:
        return d->verdict = SVCNODE_DROP_FLAGS;
    }

    d->entry = svcnode_table_find(t, d->vni);
    if (!d->entry) {
        return d->verdict = SVCNODE_DROP_UNKNOWN_VNI;
    }
    d->skip = find_vtep(d->entry, src);
    if (d->skip == SIZE_MAX) {
        return d->verdict = SVCNODE_DROP_UNKNOWN_SOURCE;
    }
    return d->verdict = SVCNODE_FORWARD;
}

void
svcnode_table_count(struct svcnode_table *t, const struct svcnode_decision *d)
{
    struct svcnode_counters *c = d->entry ? &d->entry->c : &t->none;
    c->in_packets++;
    switch (d->verdict) {
    case SVCNODE_FORWARD:
        break;
    case SVCNODE_DROP_SHORT:
        c->drop_short++;
        break;
    case SVCNODE_DROP_FLAGS:
        c->drop_flags++;
        break;
    case SVCNODE_DROP_TOO_LONG:
        c->drop_too_long++;
        break;
    case SVCNODE_DROP_UNKNOWN_VNI:
        c->drop_unknown_vni++;
        break;
    case SVCNODE_DROP_UNKNOWN_SOURCE:
        c->drop_unknown_source++;
        break;
    }
}

static int
compare_vni_ptr(const void *a_, const void *b_)
{
    const struct svcnode_vni *a = *(const struct svcnode_vni *const *) a_;
    const struct svcnode_vni *b = *(const struct svcnode_vni *const *) b_;
    return a->vni < b->vni ? -1 : a->vni > b->vni;
}

void
svcnode_table_foreach_counters(const struct svcnode_table *t,
                               svcnode_counter_cb *cb, void *aux)
{
    size_t n = hmap_count(&t->vnis), i = 0;
    const struct svcnode_vni **sorted = xmalloc(MAX(n, 1) * sizeof *sorted);
    const struct svcnode_vni *e;
    HMAP_FOR_EACH (e, node, &t->vnis) {
        sorted[i++] = e;
    }
    qsort(sorted, n, sizeof *sorted, compare_vni_ptr);
    for (i = 0; i < n; i++) {
        cb(&sorted[i]->c, aux);
    }
    free(sorted);
    cb(&t->none, aux);
}
