#include <config.h>
#include "controller/desired.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strvec.h"
#include "hash.h"
#include "openvswitch/util.h"
#include "hmapx.h"
#include "sset.h"
#include "util.h"

const struct nvo_hypervisor *
desired_service_node(const struct nvo_model *m, const struct nvo_network *net,
                     desired_sn_alive_fn *alive, void *aux)
{
    const struct nvo_hypervisor *best = NULL, *hv;
    uint32_t best_score = 0;

    if (net->bum != NVO_BUM_SERVICE_NODE || !alive
        || net->encap != NVO_ENCAP_VXLAN) {
        return NULL;            /* Service nodes replicate VXLAN only. */
    }
    HMAP_FOR_EACH (hv, id_node, &m->hvs_by_id) {
        if (hv->role != NVO_ROLE_SERVICE_NODE || !alive(hv, aux)) {
            continue;
        }
        uint32_t score = hash_string(hv->name, net->vni);
        if (!best || score > best_score
            || (score == best_score && strcmp(hv->name, best->name) < 0)) {
            best = hv;
            best_score = score;
        }
    }
    return best;
}

static int
compare_nets(const void *a_, const void *b_)
{
    const struct nvo_net_view *const *a = a_, *const *b = b_;
    return ((*a)->vni > (*b)->vni) - ((*a)->vni < (*b)->vni);
}

/* Sorts the 'n' strings of 'v' and removes duplicates; returns the new
 * count. */
static size_t
sort_unique_strings(const char **v, size_t n)
{
    size_t k = 0;
    qsort(v, n, sizeof *v, nvo_strvec_compare);
    for (size_t i = 0; i < n; i++) {
        if (!k || strcmp(v[k - 1], v[i])) {
            v[k++] = v[i];
        }
    }
    return k;
}

/* Moves the strings of 'set' into a sorted array; the set is emptied. */
static char **
sset_to_sorted_array(struct sset *set, size_t *n)
{
    *n = sset_count(set);
    char **array = xmalloc((*n ? *n : 1) * sizeof *array);
    size_t i = 0;
    const char *s;
    SSET_FOR_EACH (s, set) {
        array[i++] = xstrdup(s);
    }
    qsort(array, *n, sizeof *array, nvo_strvec_compare);
    sset_clear(set);
    return array;
}

static void base_unref(struct desired_net_base *);

struct nvo_net_view *
nvo_net_view_create(void)
{
    struct nvo_net_view *nv = xzalloc(sizeof *nv);
    ovs_refcount_init(&nv->ref);
    return nv;
}

void
nvo_net_view_finish(struct nvo_net_view *nv)
{
    size_t n = 0;
    free(nv->vteps);
    nv->vteps = xmalloc((nv->n_remotes + nv->n_flood + 1)
                        * sizeof *nv->vteps);
    for (size_t i = 0; i < nv->n_remotes; i++) {
        nv->vteps[n++] = nv->remotes[i].vtep_ip;
    }
    for (size_t i = 0; i < nv->n_flood; i++) {
        nv->vteps[n++] = nv->flood[i];
    }
    nv->n_vteps = sort_unique_strings(nv->vteps, n);
}

struct nvo_net_view *
nvo_net_view_ref(const struct nvo_net_view *nv_)
{
    struct nvo_net_view *nv = CONST_CAST(struct nvo_net_view *, nv_);
    ovs_refcount_ref(&nv->ref);
    return nv;
}

static void
free_strings(char **s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i]);
    }
    free(s);
}

/* ovs_refcount_unref() with an acquire-release decrement instead of a
 * release decrement followed, for the last reference, by an acquire fence:
 * the same ordering, in a form ThreadSanitizer understands.  It does not
 * model atomic_thread_fence(), so it reported the free after the last
 * unref (on one thread) as racing with the reads the other thread made
 * before its own unref.  Returns the count before the decrement. */
static unsigned int
refcount_unref(struct ovs_refcount *ref)
{
    unsigned int old;
    atomic_sub_explicit(&ref->count, 1u, &old, memory_order_acq_rel);
    ovs_assert(old > 0);
    return old;
}

void
nvo_net_view_unref(struct nvo_net_view *nv)
{
    if (!nv || refcount_unref(&nv->ref) != 1) {
        return;
    }
    free(nv->service_node_ip);
    if (nv->base) {
        /* The strings (and 'name') are the base's; the arrays share the
         * view's own allocation (compute_net()). */
        base_unref(nv->base);
        free(nv);
        return;
    }
    free(nv->name);
    for (size_t j = 0; j < nv->n_locals; j++) {
        free(nv->locals[j].vm);
        free(nv->locals[j].iface);
        free(nv->locals[j].ip);
        free_strings(nv->locals[j].allowed, nv->locals[j].n_allowed);
    }
    free(nv->locals);
    for (size_t j = 0; j < nv->n_remotes; j++) {
        free(nv->remotes[j].vtep_ip);
        free(nv->remotes[j].ip);
    }
    free(nv->remotes);
    free_strings(nv->flood, nv->n_flood);
    free(nv->vteps);
    free(nv);
}

/* One network's ports, gathered once and shared (read-only, reference
 * counted) by every hypervisor's view of it: see 'base' in desired.h. */
struct base_port {
    int64_t port_id;
    int64_t hv_id;
    struct eth_addr mac;
    char *vm;
    char *iface;
    char *ip;
    char **allowed;             /* Sorted. */
    size_t n_allowed;
    size_t tip;                 /* Its hypervisor's tunnel IP: an index
                                 * into 'tips'. */
    size_t n_chars;             /* Bytes of its strings in the block. */
};

struct desired_net_base {
    struct ovs_refcount ref;
    int64_t net_id;
    char *name;                 /* The network's name. */
    struct base_port *ports;    /* Sorted like locals[] and remotes[]. */
    size_t n_ports;
    /* Every port as another hypervisor sees it, in the order of 'ports':
     * a hypervisor's remotes[] is this without its own ports, copied in
     * runs (compute_net() costs a copy, not a pass, per hypervisor). */
    struct nvo_remote_mac *remotes;
    char **tips;                /* Tunnel IPs of the ports' hypervisors,
                                 * sorted (then by hypervisor id), one
                                 * per hypervisor. */
    size_t n_tips;
    int64_t *tip_hv;            /* The hypervisor of each of 'tips'. */
    /* The ports of tips[t] are ports[tip_port[k]] for k from
     * tip_first[t] to tip_first[t + 1] - 1, in ascending order. */
    size_t *tip_first;
    size_t *tip_port;
    /* One block holding the arrays above, every 'allowed' array and every
     * string above: a network's ports cost one allocation, not several
     * per port (this runs for every write to the network). */
    void *block;
    char *chars;                /* In 'block': where its strings start. */
    char **ptrs;                /* In 'block': the 'allowed' arrays. */
};

/* The cache's base of one network, as of the network's 'seqno'. */
struct cache_entry {
    struct hmap_node node;      /* In desired_cache.bases, by net_id. */
    int64_t net_id;
    uint64_t seqno;             /* The network's seqno 'base' reflects. */
    struct desired_net_base *base;  /* One reference. */
};

struct desired_cache {
    struct hmap bases;          /* Contains struct cache_entry. */
    struct desired_cache_stats stats;
};

/* A port in sort order (MAC, then id), and its hypervisor. */
struct base_key {
    uint64_t mac;
    int64_t id;
    const struct nvo_port *port;
};

static int
compare_base_keys(const void *a_, const void *b_)
{
    const struct base_key *a = a_, *b = b_;
    if (a->mac != b->mac) {
        return a->mac < b->mac ? -1 : 1;
    }
    return (a->id > b->id) - (a->id < b->id);
}

/* Compares two pointers to struct base_key (sorting 8-byte pointers
 * moves less memory than sorting the keys themselves). */
static int
compare_base_key_ptrs(const void *a_, const void *b_)
{
    const struct base_key *const *a = a_, *const *b = b_;
    return compare_base_keys(*a, *b);
}

static int
compare_pointers(const void *a_, const void *b_)
{
    const void *const *a = a_, *const *b = b_;
    uintptr_t x = (uintptr_t) *a, y = (uintptr_t) *b;
    return (x > y) - (x < y);
}

/* The order of 'tips': by tunnel IP, then by hypervisor id (IPs are
 * unique among hypervisors, but the order must not depend on that). */
static int
tip_order(const char *ip_a, int64_t id_a, const char *ip_b, int64_t id_b)
{
    int c = strcmp(ip_a, ip_b);
    return c ? c : (id_a > id_b) - (id_a < id_b);
}

static int
compare_hv_tips(const void *a_, const void *b_)
{
    const struct nvo_hypervisor *const *a = a_, *const *b = b_;
    return tip_order((*a)->tunnel_ip, (*a)->id, (*b)->tunnel_ip, (*b)->id);
}

/* Copies 's' (nonnull) to '*pos' in the block being filled; returns the
 * copy. */
static char *
block_strdup(char **pos, const char *s)
{
    size_t len = strlen(s) + 1;
    char *copy = memcpy(*pos, s, len);
    *pos += len;
    return copy;
}

/* The bytes model port 'p''s strings take in a block. */
static size_t
port_chars(const struct nvo_port *p)
{
    size_t n = strlen(p->vm) + strlen(p->iface) + 2;
    n += p->ip ? strlen(p->ip) + 1 : 0;
    for (size_t j = 0; j < p->n_allowed; j++) {
        n += strlen(p->allowed[j]) + 1;
    }
    return n;
}

/* A base of 'n' ports and 'n_tips' hypervisors whose block has room for
 * 'n_ptrs' string pointers (tips[] and the 'allowed' arrays) and 'n_chars'
 * bytes of strings; the arrays are laid out, not filled.  Caller owns the
 * result (one reference). */
static struct desired_net_base *
base_alloc(int64_t net_id, size_t n, size_t n_tips, size_t n_ptrs,
           size_t n_chars)
{
    struct desired_net_base *b = xzalloc(sizeof *b);
    ovs_refcount_init(&b->ref);
    b->net_id = net_id;
    b->n_ports = n;
    b->n_tips = n_tips;
    /* Every array holds 8-byte items: each starts aligned. */
    b->block = xmalloc(n * sizeof *b->ports + n * sizeof *b->remotes
                       + n_tips * sizeof *b->tip_hv
                       + (n_tips + 1) * sizeof *b->tip_first
                       + n * sizeof *b->tip_port
                       + n_ptrs * sizeof(char *) + n_chars + 1);
    b->ports = b->block;
    b->remotes = (struct nvo_remote_mac *) (b->ports + n);
    b->tip_hv = (int64_t *) (b->remotes + n);
    b->tip_first = (size_t *) (b->tip_hv + n_tips);
    b->tip_port = b->tip_first + n_tips + 1;
    b->tips = (char **) (b->tip_port + n);
    b->ptrs = b->tips + n_tips;
    b->chars = (char *) (b->tips + n_ptrs);
    return b;
}

/* Fills 'bp' from model port 'p' (its 'tip' excepted), its strings and
 * 'allowed' array at '*chars' and '*ptrs' in the block. */
static void
base_port_fill(struct base_port *bp, const struct nvo_port *p, char **chars,
               char ***ptrs)
{
    char *start = *chars;
    bp->port_id = p->id;
    bp->hv_id = p->hypervisor->id;
    bp->mac = p->mac;
    bp->vm = block_strdup(chars, p->vm);
    bp->iface = block_strdup(chars, p->iface);
    bp->ip = p->ip ? block_strdup(chars, p->ip) : NULL;
    bp->n_allowed = p->n_allowed;
    bp->allowed = *ptrs;
    *ptrs += p->n_allowed;
    for (size_t j = 0; j < p->n_allowed; j++) {
        bp->allowed[j] = block_strdup(chars, p->allowed[j]);
    }
    if (bp->n_allowed > 1) {
        qsort(bp->allowed, bp->n_allowed, sizeof *bp->allowed,
              nvo_strvec_compare);
    }
    bp->n_chars = *chars - start;
}

/* Copies 'from' (of another base) into 'bp' (its 'tip' excepted), its
 * strings and 'allowed' array at '*chars' and '*ptrs' in the block. */
static void
base_port_copy(struct base_port *bp, const struct base_port *from,
               char **chars, char ***ptrs)
{
    *bp = *from;
    bp->vm = block_strdup(chars, from->vm);
    bp->iface = block_strdup(chars, from->iface);
    bp->ip = from->ip ? block_strdup(chars, from->ip) : NULL;
    bp->allowed = *ptrs;
    *ptrs += from->n_allowed;
    for (size_t j = 0; j < from->n_allowed; j++) {
        bp->allowed[j] = block_strdup(chars, from->allowed[j]);
    }
}

/* With ports[] (their 'tip' included) and tips[] filled: remotes[],
 * tip_first[] and tip_port[]. */
static void
base_index(struct desired_net_base *b)
{
    size_t n = b->n_ports, n_tips = b->n_tips;

    memset(b->tip_first, 0, (n_tips + 1) * sizeof *b->tip_first);
    for (size_t i = 0; i < n; i++) {
        const struct base_port *bp = &b->ports[i];
        struct nvo_remote_mac *rm = &b->remotes[i];
        rm->port_id = bp->port_id;
        rm->mac = bp->mac;
        rm->vtep_ip = b->tips[bp->tip];
        rm->ip = bp->ip;
        b->tip_first[bp->tip]++;
    }
    /* 'tip_first' from the counts, then each tip's ports in order. */
    size_t sum = 0;
    for (size_t i = 0; i <= n_tips; i++) {
        size_t count = b->tip_first[i];
        b->tip_first[i] = sum;
        sum += count;
    }
    for (size_t i = 0; i < n; i++) {
        b->tip_port[b->tip_first[b->ports[i].tip]++] = i;
    }
    /* The loop above moved each tip_first[t] to the end of tip t's ports,
     * which is where tip t + 1's start: shift them back. */
    for (size_t i = n_tips; i > 0; i--) {
        b->tip_first[i] = b->tip_first[i - 1];
    }
    b->tip_first[0] = 0;
}

/* Gathers 'net''s ports.  Caller owns the result (one reference). */
static struct desired_net_base *
base_create(const struct nvo_network *net)
{
    size_t n = net->n_ports;
    struct base_key *keys = xmalloc((n + 1) * sizeof *keys);
    struct base_key **order = xmalloc((n + 1) * sizeof *order);
    const struct nvo_port *p;

    /* The sizes of everything the block holds. */
    size_t n_ptrs = 0, n_chars = strlen(net->name) + 1, i = 0;
    LIST_FOR_EACH (p, net_node, &net->ports) {
        keys[i].mac = eth_addr_to_uint64(p->mac);
        keys[i].id = p->id;
        keys[i].port = p;
        order[i] = &keys[i];
        i++;
        n_chars += port_chars(p);
        n_ptrs += p->n_allowed;
    }
    ovs_assert(i == n);

    /* Its hypervisors: the network's members, those with a port in it
     * (distinct ones have distinct tunnel IPs); sorted by tunnel IP
     * below.  Not gathered from the ports: that cost a sort of every
     * port on every write to the network. */
    size_t n_hvs = hmap_count(&net->members);
    const struct nvo_hypervisor **hvs = xmalloc((n_hvs + 1) * sizeof *hvs);
    const struct nvo_net_member *mb;
    i = 0;
    HMAP_FOR_EACH (mb, node, &net->members) {
        hvs[i++] = mb->hv;
        n_chars += strlen(mb->hv->tunnel_ip) + 1;
    }
    ovs_assert(i == n_hvs);
    qsort(hvs, n_hvs, sizeof *hvs, compare_pointers);
    n_ptrs += n_hvs;

    struct desired_net_base *b = base_alloc(net->id, n, n_hvs, n_ptrs,
                                            n_chars);
    char **ptrs = b->ptrs;
    char *chars = b->chars;

    /* 'tips', and each port's index into it (looked up by hypervisor in
     * 'by_ptr', which is sorted by address). */
    const struct nvo_hypervisor **by_ptr = xmemdup(hvs, (n_hvs + 1)
                                                   * sizeof *hvs);
    qsort(hvs, n_hvs, sizeof *hvs, compare_hv_tips);
    size_t *tip_of = xmalloc((n_hvs + 1) * sizeof *tip_of);
    for (i = 0; i < n_hvs; i++) {
        b->tips[i] = block_strdup(&chars, hvs[i]->tunnel_ip);
        b->tip_hv[i] = hvs[i]->id;
        const struct nvo_hypervisor **slot = bsearch(&hvs[i], by_ptr, n_hvs,
                                                     sizeof *by_ptr,
                                                     compare_pointers);
        tip_of[slot - by_ptr] = i;
    }

    b->name = block_strdup(&chars, net->name);
    qsort(order, n, sizeof *order, compare_base_key_ptrs);
    for (i = 0; i < n; i++) {
        struct base_port *bp = &b->ports[i];
        p = order[i]->port;
        const struct nvo_hypervisor *hv = p->hypervisor;
        const struct nvo_hypervisor **slot = bsearch(&hv, by_ptr, n_hvs,
                                                     sizeof *by_ptr,
                                                     compare_pointers);
        base_port_fill(bp, p, &chars, &ptrs);
        bp->tip = tip_of[slot - by_ptr];
    }
    base_index(b);
    free(tip_of);
    free(by_ptr);
    free(hvs);
    free(order);
    free(keys);
    return b;
}

static void
base_unref(struct desired_net_base *b)
{
    if (!b || refcount_unref(&b->ref) != 1) {
        return;
    }
    free(b->block);
    free(b);
}

/* Orders key 'k_' (a struct base_key) against port 'bp_' (a struct
 * base_port) as compare_base_keys() would. */
static int
compare_key_port(const void *k_, const void *bp_)
{
    const struct base_port *bp = bp_;
    struct base_key k = { eth_addr_to_uint64(bp->mac), bp->port_id, NULL };
    return compare_base_keys(k_, &k);
}

/* The index of the port of 'b' with 'mac' (as a uint64) and 'id', or
 * SIZE_MAX. */
static size_t
base_find_port(const struct desired_net_base *b, uint64_t mac, int64_t id)
{
    struct base_key want = { mac, id, NULL };
    const struct base_port *bp = bsearch(&want, b->ports, b->n_ports,
                                         sizeof *b->ports, compare_key_port);
    return bp ? bp - b->ports : SIZE_MAX;
}

/* The index in 'b->tips' of the tip of hypervisor 'id' with tunnel IP
 * 'ip', or where it would go ('*found' tells which). */
static size_t
base_tip_slot(const struct desired_net_base *b, const char *ip, int64_t id,
              bool *found)
{
    size_t lo = 0, hi = b->n_tips;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = tip_order(b->tips[mid], b->tip_hv[mid], ip, id);
        if (!c) {
            *found = true;
            return mid;
        } else if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = false;
    return lo;
}

/* A hypervisor new to a base: its tunnel IP and id. */
struct new_tip {
    const struct nvo_hypervisor *hv;
};

static int
compare_new_tips(const void *a_, const void *b_)
{
    const struct new_tip *a = a_, *b = b_;
    return tip_order(a->hv->tunnel_ip, a->hv->id, b->hv->tunnel_ip,
                     b->hv->id);
}

/* 'net''s ports, from 'old', its base as of network seqno 'since':
 * the same result as base_create(net), at the cost of the ports that
 * changed since (at the tail of net->ports, nvo_network.ports) and a
 * copy of 'old', without sorting the network's ports or looking each up.
 * Returns NULL when a full base_create() is the cheaper (many changes) or
 * the only way (the network was replaced).  Caller owns the result (one
 * reference). */
static struct desired_net_base *
base_update(const struct desired_net_base *old, const struct nvo_model *m,
            const struct nvo_network *net, uint64_t since)
{
    const struct nvo_port *p;
    size_t n_fresh = 0;

    if (strcmp(old->name, net->name)) {
        return NULL;
    }
    LIST_FOR_EACH_REVERSE (p, net_node, &net->ports) {
        if (p->seqno <= since) {
            break;
        }
        n_fresh++;
    }
    size_t n_kept = net->n_ports - n_fresh;
    if (n_fresh > net->n_ports / 2 || n_kept > old->n_ports) {
        return NULL;
    }

    /* The fresh ports (added or changed since), sorted. */
    struct base_key *fresh = xmalloc((n_fresh + 1) * sizeof *fresh);
    size_t i = 0, n_ptrs = 0, n_chars = strlen(net->name) + 1;
    LIST_FOR_EACH_REVERSE (p, net_node, &net->ports) {
        if (i >= n_fresh) {
            break;
        }
        fresh[i].mac = eth_addr_to_uint64(p->mac);
        fresh[i].id = p->id;
        fresh[i].port = p;
        n_chars += port_chars(p);
        n_ptrs += p->n_allowed;
        i++;
    }
    qsort(fresh, n_fresh, sizeof *fresh, compare_base_keys);

    /* The ports of 'old' that are gone or changed ('drop'): every port of
     * 'old' but the 'n_kept' unchanged ones.  A changed one is a fresh
     * port with the same MAC and id; if those are not all, some were
     * removed (or their id reused): look each port of 'old' up. */
    size_t n_stale = old->n_ports - n_kept, n_found = 0;
    bool *drop = xzalloc(old->n_ports + 1);
    for (i = 0; i < n_fresh && n_found < n_stale; i++) {
        size_t k = base_find_port(old, fresh[i].mac, fresh[i].id);
        if (k != SIZE_MAX) {
            drop[k] = true;
            n_found++;
        }
    }
    if (n_found < n_stale) {
        for (i = 0; i < old->n_ports; i++) {
            p = nvo_model_port_by_id(m, old->ports[i].port_id);
            drop[i] = !p || p->network != net || p->seqno > since;
        }
    }

    /* Tips: those of 'old' but the ones whose hypervisor left the network
     * (or was replaced: its seqno is later), plus the hypervisors of the
     * fresh ports not among them. */
    bool *tip_drop = xzalloc(old->n_tips + 1);
    bool *tip_checked = xzalloc(old->n_tips + 1);
    size_t n_tips_dropped = 0;
    for (i = 0; i < old->n_ports; i++) {
        size_t t = old->ports[i].tip;
        if (drop[i] && !tip_checked[t]) {
            tip_checked[t] = true;
            const struct nvo_hypervisor *hv = nvo_model_hv_by_id(
                m, old->tip_hv[t]);
            if (!hv || hv->seqno > since
                || !nvo_model_hv_in_network(hv, net)) {
                tip_drop[t] = true;
                n_tips_dropped++;
            }
        }
    }
    struct new_tip *added = xmalloc((n_fresh + 1) * sizeof *added);
    size_t n_added = 0;
    for (i = 0; i < n_fresh; i++) {
        const struct nvo_hypervisor *hv = fresh[i].port->hypervisor;
        bool found;
        size_t t = base_tip_slot(old, hv->tunnel_ip, hv->id, &found);
        if (found && !tip_drop[t]) {
            continue;
        }
        bool dup = false;
        for (size_t j = 0; j < n_added; j++) {
            if (added[j].hv == hv) {
                dup = true;
                break;
            }
        }
        if (!dup) {
            added[n_added++].hv = hv;
        }
    }
    qsort(added, n_added, sizeof *added, compare_new_tips);
    size_t n_tips = old->n_tips - n_tips_dropped + n_added;

    struct desired_net_base *b = NULL;
    if (n_tips != hmap_count(&net->members)) {
        goto out;               /* Cannot happen: the full way then. */
    }
    for (i = 0; i < old->n_ports; i++) {
        if (!drop[i]) {
            n_chars += old->ports[i].n_chars;
            n_ptrs += old->ports[i].n_allowed;
        }
    }
    /* Tip strings: the kept ones from 'old', the others from the model. */
    size_t *tip_map = xmalloc((old->n_tips + 1) * sizeof *tip_map);
    for (i = 0; i < old->n_tips; i++) {
        n_chars += tip_drop[i] ? 0 : strlen(old->tips[i]) + 1;
    }
    for (i = 0; i < n_added; i++) {
        n_chars += strlen(added[i].hv->tunnel_ip) + 1;
    }
    b = base_alloc(net->id, net->n_ports, n_tips, n_ptrs + n_tips, n_chars);
    char *chars = b->chars;
    char **ptrs = b->ptrs;

    /* Tips, merged (both sorted). */
    size_t t = 0, a = 0, k = 0;
    while (t < old->n_tips || a < n_added) {
        if (t < old->n_tips && tip_drop[t]) {
            tip_map[t++] = SIZE_MAX;
        } else if (a >= n_added
                   || (t < old->n_tips
                       && tip_order(old->tips[t], old->tip_hv[t],
                                    added[a].hv->tunnel_ip,
                                    added[a].hv->id) < 0)) {
            b->tips[k] = block_strdup(&chars, old->tips[t]);
            b->tip_hv[k] = old->tip_hv[t];
            tip_map[t++] = k++;
        } else {
            b->tips[k] = block_strdup(&chars, added[a].hv->tunnel_ip);
            b->tip_hv[k] = added[a].hv->id;
            a++, k++;
        }
    }
    b->name = block_strdup(&chars, net->name);

    /* Ports, merged (both sorted). */
    size_t o = 0, f = 0;
    k = 0;
    while (o < old->n_ports || f < n_fresh) {
        if (o < old->n_ports && drop[o]) {
            o++;
            continue;
        }
        struct base_port *bp = &b->ports[k++];
        const struct base_port *op = o < old->n_ports ? &old->ports[o] : NULL;
        struct base_key ok = { op ? eth_addr_to_uint64(op->mac) : 0,
                               op ? op->port_id : 0, NULL };
        if (op && (f >= n_fresh || compare_base_keys(&ok, &fresh[f]) < 0)) {
            base_port_copy(bp, op, &chars, &ptrs);
            bp->tip = tip_map[op->tip];
            o++;
        } else {
            const struct nvo_hypervisor *hv = fresh[f].port->hypervisor;
            bool found;
            base_port_fill(bp, fresh[f].port, &chars, &ptrs);
            bp->tip = base_tip_slot(b, hv->tunnel_ip, hv->id, &found);
            ovs_assert(found);
            f++;
        }
    }
    ovs_assert(k == b->n_ports);
    base_index(b);
    free(tip_map);

out:
    free(added);
    free(tip_checked);
    free(tip_drop);
    free(drop);
    free(fresh);
    return b;
}

struct desired_cache *
desired_cache_create(void)
{
    struct desired_cache *c = xzalloc(sizeof *c);
    hmap_init(&c->bases);
    return c;
}

void
desired_cache_destroy(struct desired_cache *c)
{
    if (c) {
        struct cache_entry *e;
        HMAP_FOR_EACH_POP (e, node, &c->bases) {
            base_unref(e->base);
            free(e);
        }
        hmap_destroy(&c->bases);
        free(c);
    }
}

static struct cache_entry *
cache_find(const struct desired_cache *c, int64_t net_id)
{
    struct cache_entry *e;
    HMAP_FOR_EACH_WITH_HASH (e, node, hash_uint64(net_id), &c->bases) {
        if (e->net_id == net_id) {
            return e;
        }
    }
    return NULL;
}

void
desired_cache_get_stats(const struct desired_cache *c,
                        struct desired_cache_stats *stats)
{
    *stats = c->stats;
}

void
desired_cache_forget(struct desired_cache *c, int64_t net_id)
{
    struct cache_entry *e = c ? cache_find(c, net_id) : NULL;
    if (e) {
        hmap_remove(&c->bases, &e->node);
        base_unref(e->base);
        free(e);
    }
}

/* 'net''s ports, from 'cache' if it has them as of the network's seqno,
 * else updated from what it has (base_update()) or gathered (then kept
 * there).  Caller owns the result (one reference).  'cache' may be
 * NULL. */
static struct desired_net_base *
base_get(struct desired_cache *cache, const struct nvo_model *m,
         const struct nvo_network *net)
{
    if (!cache) {
        return base_create(net);
    }
    struct cache_entry *e = cache_find(cache, net->id);
    if (!e) {
        e = xmalloc(sizeof *e);
        e->net_id = net->id;
        e->base = base_create(net);
        hmap_insert(&cache->bases, &e->node, hash_uint64(net->id));
        cache->stats.n_created++;
    } else if (e->seqno != net->seqno) {
        struct desired_net_base *b = base_update(e->base, m, net, e->seqno);
        base_unref(e->base);
        if (b) {
            e->base = b;
            cache->stats.n_updated++;
        } else {
            e->base = base_create(net);
            cache->stats.n_created++;
        }
    } else {
        cache->stats.n_reused++;
    }
    e->seqno = net->seqno;
    ovs_refcount_ref(&e->base->ref);
    return e->base;
}

/* Inserts 's' into the sorted array of 'n' strings 'v' (room for one
 * more) unless it is there; returns the new count. */
static size_t
insert_sorted_unique(const char **v, size_t n, const char *s)
{
    size_t i = 0;
    while (i < n && strcmp(v[i], s) < 0) {
        i++;
    }
    if (i < n && !strcmp(v[i], s)) {
        return n;
    }
    memmove(&v[i + 1], &v[i], (n - i) * sizeof *v);
    v[i] = s;
    return n + 1;
}

/* The index in 'b->tips' of 'hv' (whose ports in the network are those of
 * that tip), or SIZE_MAX if it has no port in the network. */
static size_t
base_find_tip(const struct desired_net_base *b,
              const struct nvo_hypervisor *hv)
{
    size_t lo = 0, hi = b->n_tips;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(b->tips[mid], hv->tunnel_ip) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    /* Tunnel IPs are unique among hypervisors, but a tip is a hypervisor:
     * look at every tip with this IP. */
    for (; lo < b->n_tips && !strcmp(b->tips[lo], hv->tunnel_ip); lo++) {
        if (b->tip_hv[lo] == hv->id) {
            return lo;
        }
    }
    return SIZE_MAX;
}

/* Computes network 'net' as 'hv' sees it, from the shared ports 'base'
 * (taking its reference): the arrays are the view's, the strings
 * borrowed.  Caller owns the result (one reference).  Costs O(hv's ports
 * + the network's hypervisors) steps and one copy of the network's
 * remotes[], in runs. */
static struct nvo_net_view *
compute_net(const struct nvo_model *m, const struct nvo_hypervisor *hv,
            const struct nvo_network *net, desired_sn_alive_fn *alive,
            void *aux, struct desired_net_base *b)
{
    /* 'hv''s tip: its ports are its locals, all the others remotes. */
    size_t hv_tip = base_find_tip(b, hv);
    size_t n_locals = (hv_tip == SIZE_MAX ? 0
                       : b->tip_first[hv_tip + 1] - b->tip_first[hv_tip]);
    size_t n_remotes = b->n_ports - n_locals;

    /* One allocation for the view and its locals[], remotes[], flood[]
     * and vteps[] (every item 8-byte aligned), freed as one by
     * nvo_net_view_unref(). */
    struct nvo_net_view *nv = xmalloc(
        ROUND_UP(sizeof *nv, 8)
        + (n_locals + 1) * sizeof *nv->locals
        + (n_remotes + 1) * sizeof *nv->remotes
        + (b->n_tips + 1) * sizeof *nv->flood
        + (b->n_tips + 2) * sizeof *nv->vteps);
    memset(nv, 0, sizeof *nv);
    ovs_refcount_init(&nv->ref);
    nv->locals = (struct nvo_local_port *) ((char *) nv
                                            + ROUND_UP(sizeof *nv, 8));
    nv->remotes = (struct nvo_remote_mac *) (nv->locals + n_locals + 1);
    nv->flood = (char **) (nv->remotes + n_remotes + 1);
    nv->vteps = (const char **) (nv->flood + b->n_tips + 1);

    nv->base = b;
    nv->net_id = net->id;
    nv->name = b->name;
    nv->vni = net->vni;
    nv->bum = net->bum;
    nv->arp_responder = net->arp_responder;
    nv->encap = net->encap;
    nv->mtu = net->mtu;

    const struct nvo_hypervisor *sn = desired_service_node(m, net, alive, aux);
    nv->service_node_ip = sn ? xstrdup(sn->tunnel_ip) : NULL;

    /* A service node's own view has no ports, only flood[].  Otherwise
     * locals[] are the ports of 'hv''s tip, and remotes[] the base's
     * remotes between them. */
    bool sn_self = hv->role == NVO_ROLE_SERVICE_NODE && sn == hv;
    if (!sn_self) {
        size_t from = 0;
        for (size_t k = 0; k < n_locals; k++) {
            size_t i = b->tip_port[b->tip_first[hv_tip] + k];
            const struct base_port *bp = &b->ports[i];
            struct nvo_local_port *lp = &nv->locals[nv->n_locals++];
            lp->port_id = bp->port_id;
            lp->mac = bp->mac;
            lp->vm = bp->vm;
            lp->iface = bp->iface;
            lp->ip = bp->ip;
            lp->allowed = bp->allowed;
            lp->n_allowed = bp->n_allowed;

            memcpy(&nv->remotes[nv->n_remotes], &b->remotes[from],
                   (i - from) * sizeof *nv->remotes);
            nv->n_remotes += i - from;
            from = i + 1;
        }
        memcpy(&nv->remotes[nv->n_remotes], &b->remotes[from],
               (b->n_ports - from) * sizeof *nv->remotes);
        nv->n_remotes += b->n_ports - from;
    }

    /* vteps[]: those of the remote ports, every tip but 'hv''s (each has
     * a port), and flood[] (below).  flood[]: a service node's
     * replication list is every other hypervisor's tunnel IP; head-end
     * floods to the tunnel IPs of the remote ports but its own; otherwise
     * to the service node. */
    size_t n_before = hv_tip == SIZE_MAX ? b->n_tips : hv_tip;
    memcpy(nv->vteps, b->tips, n_before * sizeof *nv->vteps);
    if (n_before < b->n_tips) {
        memcpy(&nv->vteps[n_before], &b->tips[n_before + 1],
               (b->n_tips - n_before - 1) * sizeof *nv->vteps);
    }
    nv->n_vteps = b->n_tips - (hv_tip != SIZE_MAX);
    if (sn_self || (!sn && hv_tip != SIZE_MAX)) {
        memcpy(nv->flood, nv->vteps, nv->n_vteps * sizeof *nv->flood);
        nv->n_flood = nv->n_vteps;
    } else if (!sn) {
        for (size_t i = 0; i < nv->n_vteps; i++) {
            if (strcmp(nv->vteps[i], hv->tunnel_ip)) {
                nv->flood[nv->n_flood++] = CONST_CAST(char *, nv->vteps[i]);
            }
        }
    }
    if (sn && !sn_self) {
        nv->flood[nv->n_flood++] = nv->service_node_ip;
        nv->n_vteps = insert_sorted_unique(nv->vteps, nv->n_vteps,
                                           nv->service_node_ip);
    }
    return nv;
}

struct nvo_net_view *
desired_compute_net(const struct nvo_model *m, const struct nvo_hypervisor *hv,
                    const struct nvo_network *net, desired_sn_alive_fn *alive,
                    void *aux)
{
    return compute_net(m, hv, net, alive, aux, base_get(NULL, m, net));
}

/* True if 'hv' must see 'net': it has a port in it, or it is the service
 * node serving it. */
static bool
hv_sees_net(const struct nvo_model *m, const struct nvo_hypervisor *hv,
            const struct nvo_network *net, desired_sn_alive_fn *alive,
            void *aux)
{
    if (nvo_model_hv_in_network(hv, net)) {
        return true;
    }
    return (hv->role == NVO_ROLE_SERVICE_NODE
            && desired_service_node(m, net, alive, aux) == hv);
}

/* A growing array of network views. */
struct net_array {
    struct nvo_net_view **nets;
    size_t n, allocated;
};

static void
net_array_push(struct net_array *a, struct nvo_net_view *nv)
{
    if (a->n >= a->allocated) {
        a->nets = x2nrealloc(a->nets, &a->allocated, sizeof *a->nets);
    }
    a->nets[a->n++] = nv;
}

/* Every network of 'hv', computed from scratch. */
static void
compute_all_nets(const struct nvo_model *m, const struct nvo_hypervisor *hv,
                 desired_sn_alive_fn *alive, void *aux,
                 struct desired_cache *cache, struct net_array *out)
{
    struct hmapx seen = HMAPX_INITIALIZER(&seen);
    const struct nvo_port *p;

    /* Which networks: those with a port here, plus, for a service node,
     * those it serves. */
    LIST_FOR_EACH (p, hv_node, &hv->ports) {
        if (hmapx_add(&seen, p->network)) {
            net_array_push(out, compute_net(m, hv, p->network, alive, aux,
                                            base_get(cache, m, p->network)));
        }
    }
    if (hv->role == NVO_ROLE_SERVICE_NODE) {
        const struct nvo_network *net;
        HMAP_FOR_EACH (net, id_node, &m->networks_by_id) {
            if (desired_service_node(m, net, alive, aux) == hv
                && hmapx_add(&seen, CONST_CAST(struct nvo_network *, net))) {
                net_array_push(out, compute_net(m, hv, net, alive, aux,
                                                base_get(cache, m, net)));
            }
        }
    }
    hmapx_destroy(&seen);
}

static int
compare_ids(const void *a_, const void *b_)
{
    const int64_t *a = a_, *b = b_;
    return (*a > *b) - (*a < *b);
}

/* 'prev''s networks not in 'changed' (shared), plus the changed networks
 * 'hv' must see (computed). */
static void
compute_changed_nets(const struct nvo_model *m,
                     const struct nvo_hypervisor *hv,
                     desired_sn_alive_fn *alive, void *aux,
                     const struct nvo_hv_view *prev,
                     const int64_t *changed_ids, size_t n_changed,
                     struct desired_cache *cache, struct net_array *out)
{
    /* The changed ids, sorted and unique (most writes change one). */
    int64_t buf[8];
    int64_t *ids = (n_changed <= ARRAY_SIZE(buf) ? buf
                    : xmalloc(n_changed * sizeof *ids));
    size_t n_ids = 0;

    if (n_changed) {
        memcpy(ids, changed_ids, n_changed * sizeof *ids);
        if (n_changed > 1) {
            qsort(ids, n_changed, sizeof *ids, compare_ids);
        }
        for (size_t i = 0; i < n_changed; i++) {
            if (!n_ids || ids[n_ids - 1] != ids[i]) {
                ids[n_ids++] = ids[i];
            }
        }
    }

    for (size_t i = 0; i < prev->n_nets; i++) {
        const struct nvo_net_view *nv = prev->nets[i];
        if (!bsearch(&nv->net_id, ids, n_ids, sizeof *ids, compare_ids)) {
            net_array_push(out, nvo_net_view_ref(nv));
        }
    }
    for (size_t i = 0; i < n_ids; i++) {
        const struct nvo_network *net = nvo_model_network_by_id(m, ids[i]);
        if (net && hv_sees_net(m, hv, net, alive, aux)) {
            net_array_push(out, compute_net(m, hv, net, alive, aux,
                                            base_get(cache, m, net)));
        }
    }
    if (ids != buf) {
        free(ids);
    }
}

const char *
nvo_tunnel_key(enum nvo_encap encap, const char *ip, char *buf)
{
    if (encap == NVO_ENCAP_VXLAN) {
        snprintf(buf, NVO_TUNNEL_KEY_SIZE, "%s", ip);
    } else {
        snprintf(buf, NVO_TUNNEL_KEY_SIZE, "%s/%s",
                 nvo_encap_to_string(encap), ip);
    }
    return buf;
}

int
nvo_tunnel_key_parse(const char *key, enum nvo_encap *encap,
                     const char **ip)
{
    const char *slash = strchr(key, '/');
    if (!slash) {
        *encap = NVO_ENCAP_VXLAN;
        *ip = key;
        return 0;
    }
    char name[16];
    size_t len = slash - key;
    if (len >= sizeof name) {
        return -EINVAL;
    }
    memcpy(name, key, len);
    name[len] = '\0';
    *ip = slash + 1;
    return nvo_encap_from_string(name, encap);
}

char **
nvo_hv_view_tunnels(const struct nvo_hv_view *v, size_t *n)
{
    struct sset keys = SSET_INITIALIZER(&keys);
    for (size_t i = 0; i < v->n_nets; i++) {
        const struct nvo_net_view *nv = v->nets[i];
        for (size_t j = 0; j < nv->n_vteps; j++) {
            if (strcmp(nv->vteps[j], v->tunnel_ip)) {
                char key[NVO_TUNNEL_KEY_SIZE];
                sset_add(&keys, nvo_tunnel_key(nv->encap, nv->vteps[j], key));
            }
        }
    }
    char **array = sset_to_sorted_array(&keys, n);
    sset_destroy(&keys);
    return array;
}

/* One tunnel key of nvo_hv_view_n_tunnels(), its strings borrowed. */
struct tunnel_seen {
    struct hmap_node node;
    enum nvo_encap encap;
    const char *ip;
};

size_t
nvo_hv_view_n_tunnels(const struct nvo_hv_view *v)
{
    size_t max = 0;
    for (size_t i = 0; i < v->n_nets; i++) {
        max += v->nets[i]->n_vteps;
    }
    struct tunnel_seen *seen = xmalloc((max + 1) * sizeof *seen);
    struct hmap keys = HMAP_INITIALIZER(&keys);
    hmap_reserve(&keys, max);
    size_t n = 0;
    for (size_t i = 0; i < v->n_nets; i++) {
        const struct nvo_net_view *nv = v->nets[i];
        for (size_t j = 0; j < nv->n_vteps; j++) {
            const char *ip = nv->vteps[j];
            if (!strcmp(ip, v->tunnel_ip)) {
                continue;
            }
            uint32_t hash = hash_string(ip, nv->encap);
            const struct tunnel_seen *t;
            bool found = false;
            HMAP_FOR_EACH_WITH_HASH (t, node, hash, &keys) {
                if (t->encap == nv->encap && !strcmp(t->ip, ip)) {
                    found = true;
                    break;
                }
            }
            if (!found) {
                seen[n].encap = nv->encap;
                seen[n].ip = ip;
                hmap_insert(&keys, &seen[n].node, hash);
                n++;
            }
        }
    }
    hmap_destroy(&keys);
    free(seen);
    return n;
}

struct nvo_hv_view *
desired_compute_cached(const struct nvo_model *m,
                       const struct nvo_hypervisor *hv,
                       desired_sn_alive_fn *alive, void *aux,
                       const struct nvo_hv_view *prev,
                       const int64_t *changed_net_ids, size_t n_changed,
                       struct desired_cache *cache)
{
    struct nvo_hv_view *v = xzalloc(sizeof *v);
    struct net_array nets = { NULL, 0, 0 };

    v->hv_id = hv->id;
    v->name = xstrdup(hv->name);
    v->tunnel_ip = xstrdup(hv->tunnel_ip);
    v->dataplane = hv->dataplane;
    v->role = hv->role;
    v->ovsdb = nullable_xstrdup(hv->ovsdb);
    v->revision = m->revision;

    if (!prev || n_changed == DESIRED_ALL_CHANGED || prev->hv_id != hv->id) {
        compute_all_nets(m, hv, alive, aux, cache, &nets);
    } else {
        compute_changed_nets(m, hv, alive, aux, prev, changed_net_ids,
                             n_changed, cache, &nets);
    }
    v->nets = nets.nets ? nets.nets : xmalloc(sizeof *v->nets);
    v->n_nets = nets.n;
    qsort(v->nets, v->n_nets, sizeof *v->nets, compare_nets);
    return v;
}

struct nvo_hv_view *
desired_compute(const struct nvo_model *m, const struct nvo_hypervisor *hv,
                desired_sn_alive_fn *alive, void *aux,
                const struct nvo_hv_view *prev,
                const int64_t *changed_net_ids, size_t n_changed)
{
    return desired_compute_cached(m, hv, alive, aux, prev, changed_net_ids,
                                  n_changed, NULL);
}

static bool
nullable_streq(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

bool
nvo_strings_equal(char **a, size_t na, char **b, size_t nb)
{
    if (na != nb) {
        return false;
    }
    for (size_t i = 0; i < na; i++) {
        if (strcmp(a[i], b[i])) {
            return false;
        }
    }
    return true;
}

int
nvo_port_order(struct eth_addr mac_a, int64_t id_a, struct eth_addr mac_b,
               int64_t id_b)
{
    int c = memcmp(&mac_a, &mac_b, sizeof mac_a);
    return c ? c : (id_a > id_b) - (id_a < id_b);
}

bool
nvo_net_view_attrs_equal(const struct nvo_net_view *a,
                         const struct nvo_net_view *b)
{
    return (a->net_id == b->net_id && a->vni == b->vni && a->bum == b->bum
            && a->arp_responder == b->arp_responder && a->encap == b->encap
            && a->mtu == b->mtu
            && !strcmp(a->name, b->name)
            && nullable_streq(a->service_node_ip, b->service_node_ip));
}

bool
nvo_local_port_equal(const struct nvo_local_port *x,
                     const struct nvo_local_port *y)
{
    return (x->port_id == y->port_id && eth_addr_equals(x->mac, y->mac)
            && !strcmp(x->iface, y->iface) && !strcmp(x->vm, y->vm)
            && nullable_streq(x->ip, y->ip)
            && nvo_strings_equal(x->allowed, x->n_allowed, y->allowed,
                                 y->n_allowed));
}

bool
nvo_remote_mac_equal(const struct nvo_remote_mac *x,
                     const struct nvo_remote_mac *y)
{
    return (x->port_id == y->port_id && eth_addr_equals(x->mac, y->mac)
            && !strcmp(x->vtep_ip, y->vtep_ip) && nullable_streq(x->ip, y->ip));
}

bool
nvo_net_view_equal(const struct nvo_net_view *a, const struct nvo_net_view *b)
{
    if (a == b) {
        return true;
    }
    if (!nvo_net_view_attrs_equal(a, b)
        || a->n_locals != b->n_locals || a->n_remotes != b->n_remotes
        || !nvo_strings_equal(a->flood, a->n_flood, b->flood, b->n_flood)) {
        return false;
    }
    for (size_t i = 0; i < a->n_locals; i++) {
        if (!nvo_local_port_equal(&a->locals[i], &b->locals[i])) {
            return false;
        }
    }
    for (size_t i = 0; i < a->n_remotes; i++) {
        if (!nvo_remote_mac_equal(&a->remotes[i], &b->remotes[i])) {
            return false;
        }
    }
    return true;
}

bool
nvo_hv_view_equal(const struct nvo_hv_view *a, const struct nvo_hv_view *b)
{
    if (!a || !b) {
        return a == b;
    }
    if (a->hv_id != b->hv_id || strcmp(a->name, b->name)
        || strcmp(a->tunnel_ip, b->tunnel_ip)
        || a->dataplane != b->dataplane || a->role != b->role
        || !nullable_streq(a->ovsdb, b->ovsdb) || a->n_nets != b->n_nets) {
        return false;
    }
    for (size_t i = 0; i < a->n_nets; i++) {
        if (!nvo_net_view_equal(a->nets[i], b->nets[i])) {
            return false;
        }
    }
    return true;
}

struct nvo_hv_view *
nvo_hv_view_clone(const struct nvo_hv_view *v)
{
    struct nvo_hv_view *c = xmemdup(v, sizeof *v);
    c->name = xstrdup(v->name);
    c->tunnel_ip = xstrdup(v->tunnel_ip);
    c->ovsdb = nullable_xstrdup(v->ovsdb);
    c->nets = xmalloc((v->n_nets ? v->n_nets : 1) * sizeof *c->nets);
    for (size_t i = 0; i < v->n_nets; i++) {
        c->nets[i] = nvo_net_view_ref(v->nets[i]);
    }
    return c;
}

const struct nvo_net_view *
nvo_hv_view_find_net(const struct nvo_hv_view *v, uint32_t vni)
{
    size_t lo = 0, hi = v->n_nets;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->nets[mid]->vni == vni) {
            return v->nets[mid];
        } else if (v->nets[mid]->vni < vni) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

void
nvo_hv_view_destroy(struct nvo_hv_view *v)
{
    if (!v) {
        return;
    }
    for (size_t i = 0; i < v->n_nets; i++) {
        nvo_net_view_unref(v->nets[i]);
    }
    free(v->nets);
    free(v->name);
    free(v->tunnel_ip);
    free(v->ovsdb);
    free(v);
}

bool
nvo_net_view_base_size(const struct nvo_net_view *nv, size_t *n_ports,
                       size_t *n_tips)
{
    const struct desired_net_base *b = nv->base;
    *n_ports = b ? b->n_ports : 0;
    *n_tips = b ? b->n_tips : 0;
    return b != NULL;
}

void
nvo_net_view_base_port(const struct nvo_net_view *nv, size_t i,
                       struct nvo_net_port *p)
{
    const struct desired_net_base *b = nv->base;
    const struct base_port *bp = &b->ports[i];
    *p = (struct nvo_net_port) {
        .port_id = bp->port_id,
        .hv_id = bp->hv_id,
        .mac = bp->mac,
        .vm = bp->vm,
        .iface = bp->iface,
        .ip = bp->ip,
        .allowed = bp->allowed,
        .n_allowed = bp->n_allowed,
        .tunnel_ip = b->tips[bp->tip],
    };
}

const char *
nvo_net_view_base_tip(const struct nvo_net_view *nv, size_t i)
{
    return nv->base->tips[i];
}
