#include <config.h>
#include "agent/agent-view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "util.h"

void
agent_view_init(struct agent_view *v)
{
    memset(v, 0, sizeof *v);
    hmap_init(&v->nets);
}

static void
clear(struct agent_view *v)
{
    struct agent_view_net *n;
    HMAP_FOR_EACH_POP (n, node, &v->nets) {
        nvo__network__free_unpacked(n->net, NULL);
        free(n);
    }
}

void
agent_view_destroy(struct agent_view *v)
{
    if (v) {
        clear(v);
        hmap_destroy(&v->nets);
    }
}

static struct agent_view_net *
find(const struct agent_view *v, uint32_t vni)
{
    struct agent_view_net *n;
    HMAP_FOR_EACH_WITH_HASH (n, node, hash_int(vni, 0), &v->nets) {
        if (n->net->vni == vni) {
            return n;
        }
    }
    return NULL;
}

static void
put(struct agent_view *v, Nvo__Network *net)
{
    struct agent_view_net *n = find(v, net->vni);
    if (n) {
        nvo__network__free_unpacked(n->net, NULL);
    } else {
        n = xmalloc(sizeof *n);
        hmap_insert(&v->nets, &n->node, hash_int(net->vni, 0));
    }
    n->net = net;
}

void
agent_view_apply_snapshot(struct agent_view *v, Nvo__Snapshot *snap)
{
    clear(v);
    for (size_t i = 0; i < snap->n_networks; i++) {
        put(v, snap->networks[i]);
        snap->networks[i] = NULL;
    }
    snap->n_networks = 0;
    v->seq = snap->seq;
    v->revision = snap->revision;
    v->valid = true;
    v->n_snapshots++;
}

int
agent_view_apply_delta(struct agent_view *v, Nvo__Delta *delta)
{
    if (!v->valid || !v->seq || delta->base_seq != v->seq) {
        return -EPROTO;
    }
    for (size_t i = 0; i < delta->n_removed_vnis; i++) {
        struct agent_view_net *n = find(v, delta->removed_vnis[i]);
        if (n) {
            hmap_remove(&v->nets, &n->node);
            nvo__network__free_unpacked(n->net, NULL);
            free(n);
        }
    }
    for (size_t i = 0; i < delta->n_changed; i++) {
        put(v, delta->changed[i]);
        delta->changed[i] = NULL;
    }
    delta->n_changed = 0;
    v->seq = delta->seq;
    v->revision = delta->revision;
    return 0;
}

static int
net_cmp(const void *a_, const void *b_)
{
    const Nvo__Network *const *a = a_, *const *b = b_;
    return ((*a)->vni > (*b)->vni) - ((*a)->vni < (*b)->vni);
}

Nvo__Network **
agent_view_sorted(const struct agent_view *v, size_t *n)
{
    Nvo__Network **array = xmalloc((hmap_count(&v->nets) + 1)
                                   * sizeof *array);
    struct agent_view_net *vn;
    size_t i = 0;
    HMAP_FOR_EACH (vn, node, &v->nets) {
        array[i++] = vn->net;
    }
    qsort(array, i, sizeof *array, net_cmp);
    *n = i;
    return array;
}

size_t
agent_view_count(const struct agent_view *v)
{
    return hmap_count(&v->nets);
}
