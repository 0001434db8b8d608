/* svcnode-table.h - the service node's VNI table and its replication
 * decision, as pure logic (no sockets, no loop) so it is unit-tested and
 * fuzzed on its own.
 *
 * The table maps each served VNI to its replication list (IPv4 VTEPs,
 * sorted, unique, without the service node's own address) and its
 * counters.  svcnode_decide() looks at one received packet and its outer
 * source address and says where copies go or why the packet is dropped;
 * svcnode_table_count() then charges the decision to the counters. */
#ifndef NVO_SVCNODE_TABLE_H
#define NVO_SVCNODE_TABLE_H 1

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/svcnode.h"
#include "openvswitch/hmap.h"

/* One served VNI. */
struct svcnode_vni {
    struct hmap_node node;      /* In svcnode_table's 'vnis', by VNI. */
    uint32_t vni;
    uint32_t *vteps;            /* Network byte order, sorted by host-order
                                 * value, unique.  Owned. */
    size_t n_vteps;
    struct svcnode_counters c;
};

struct svcnode_table {
    struct hmap vnis;           /* Contains struct svcnode_vni. */
    uint32_t self;              /* Own tunnel IP (network order) or 0. */
    struct svcnode_counters none; /* Packets that matched no served VNI. */
};

/* What to do with one packet. */
enum svcnode_verdict {
    SVCNODE_FORWARD,            /* Copies to every VTEP but the sender. */
    SVCNODE_DROP_SHORT,
    SVCNODE_DROP_FLAGS,
    SVCNODE_DROP_TOO_LONG,
    SVCNODE_DROP_UNKNOWN_VNI,
    SVCNODE_DROP_UNKNOWN_SOURCE,
};

/* Returns a static name for 'v' ("forward", "short", ...). */
const char *svcnode_verdict_name(enum svcnode_verdict v);

struct svcnode_decision {
    enum svcnode_verdict verdict;
    uint32_t vni;               /* Valid unless short, too long or flags. */
    struct svcnode_vni *entry;  /* Borrowed; non-NULL iff the VNI is served. */
    size_t skip;                /* FORWARD: index of the sender in
                                 * entry->vteps, which gets no copy. */
};

/* Initializes an empty table; 'self' is the service node's own tunnel IP
 * in network byte order (never replicated to), or 0.  The caller owns the
 * table and frees its contents with svcnode_table_destroy(). */
void svcnode_table_init(struct svcnode_table *, uint32_t self);

/* Frees every entry.  Accepts NULL. */
void svcnode_table_destroy(struct svcnode_table *);

/* See svcnode_set_vni() in svcnode.h: same semantics and errors. */
int svcnode_table_set(struct svcnode_table *, uint32_t vni,
                      const struct in_addr *vteps, size_t n);

/* See svcnode_remove_vni(). */
void svcnode_table_remove(struct svcnode_table *, uint32_t vni);

/* Returns the entry for 'vni' or NULL.  Borrowed. */
struct svcnode_vni *svcnode_table_find(const struct svcnode_table *,
                                       uint32_t vni);

/* Decides what to do with the 'len'-byte UDP payload 'pkt' received from
 * IPv4 address 'src' (network byte order).  Fills '*d' and returns its
 * verdict.  Pure: changes nothing, not even counters. */
enum svcnode_verdict svcnode_decide(const struct svcnode_table *,
                                    const void *pkt, size_t len,
                                    uint32_t src, struct svcnode_decision *d);

/* Number of copies a FORWARD decision sends. */
static inline size_t
svcnode_decision_n_dests(const struct svcnode_decision *d)
{
    return d->verdict == SVCNODE_FORWARD ? d->entry->n_vteps - 1 : 0;
}

/* The 'i'th destination (network byte order) of a FORWARD decision,
 * 0 <= i < svcnode_decision_n_dests(d). */
static inline uint32_t
svcnode_decision_dest(const struct svcnode_decision *d, size_t i)
{
    return d->entry->vteps[i < d->skip ? i : i + 1];
}

/* Charges 'd' to the counters: one packet in, and its drop reason.  Copies
 * sent and send errors are counted by the caller in d->entry->c. */
void svcnode_table_count(struct svcnode_table *,
                         const struct svcnode_decision *d);

/* Calls 'cb' for each served VNI in ascending order, then for 'none'. */
void svcnode_table_foreach_counters(const struct svcnode_table *,
                                    svcnode_counter_cb *cb, void *aux);

#endif /* agent/svcnode-table.h */
