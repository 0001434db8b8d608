#include <config.h>
#include "agent/kdp-state.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packets.h"
#include "util.h"

void
kdp_state_init(struct kdp_state *s)
{
    memset(s, 0, sizeof *s);
}

void
kdp_state_destroy(struct kdp_state *s)
{
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->n_nets; i++) {
        free(s->nets[i].fdb);
        free(s->nets[i].ports);
    }
    free(s->nets);
    memset(s, 0, sizeof *s);
}

struct kdp_net *
kdp_state_net(struct kdp_state *s, uint32_t vni, bool create)
{
    size_t lo = 0, hi = s->n_nets;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->nets[mid].vni == vni) {
            return &s->nets[mid];
        } else if (s->nets[mid].vni < vni) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (!create) {
        return NULL;
    }
    if (s->n_nets >= s->allocated_nets) {
        s->nets = x2nrealloc(s->nets, &s->allocated_nets, sizeof *s->nets);
    }
    memmove(&s->nets[lo + 1], &s->nets[lo],
            (s->n_nets - lo) * sizeof *s->nets);
    s->n_nets++;
    memset(&s->nets[lo], 0, sizeof s->nets[lo]);
    s->nets[lo].vni = vni;
    return &s->nets[lo];
}

void
kdp_net_add_fdb(struct kdp_net *n, const uint8_t mac[6],
                const struct in6_addr *dst)
{
    if (n->n_fdb >= n->allocated_fdb) {
        n->fdb = x2nrealloc(n->fdb, &n->allocated_fdb, sizeof *n->fdb);
    }
    memcpy(n->fdb[n->n_fdb].mac, mac, 6);
    n->fdb[n->n_fdb].dst = *dst;
    n->n_fdb++;
}

void
kdp_net_add_port(struct kdp_net *n, const char *ifname)
{
    if (n->n_ports >= n->allocated_ports) {
        n->ports = x2nrealloc(n->ports, &n->allocated_ports,
                              sizeof *n->ports);
    }
    ovs_strzcpy(n->ports[n->n_ports], ifname, KDP_IFNAMSIZ);
    n->n_ports++;
}

static int
fdb_cmp(const struct kdp_fdb *a, const struct kdp_fdb *b)
{
    int c = memcmp(a->mac, b->mac, 6);
    if (c) {
        return c;
    }
    return memcmp(&a->dst, &b->dst, sizeof a->dst);
}

static int
fdb_qcmp(const void *a, const void *b)
{
    return fdb_cmp(a, b);
}

static int
port_qcmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

void
kdp_state_normalize(struct kdp_state *s)
{
    for (size_t i = 0; i < s->n_nets; i++) {
        struct kdp_net *n = &s->nets[i];
        if (n->n_fdb) {
            qsort(n->fdb, n->n_fdb, sizeof *n->fdb, fdb_qcmp);
            size_t k = 1;
            for (size_t j = 1; j < n->n_fdb; j++) {
                if (fdb_cmp(&n->fdb[j], &n->fdb[k - 1])) {
                    n->fdb[k++] = n->fdb[j];
                }
            }
            n->n_fdb = k;
        }
        if (n->n_ports) {
            qsort(n->ports, n->n_ports, sizeof *n->ports, port_qcmp);
            size_t k = 1;
            for (size_t j = 1; j < n->n_ports; j++) {
                if (strcmp(n->ports[j], n->ports[k - 1])) {
                    memcpy(n->ports[k++], n->ports[j], KDP_IFNAMSIZ);
                }
            }
            n->n_ports = k;
        }
    }
}

void
kdp_vxlan_name(uint32_t vni, char name[KDP_IFNAMSIZ])
{
    snprintf(name, KDP_IFNAMSIZ, KDP_VXLAN_PREFIX "%"PRIu32, vni);
}

void
kdp_bridge_name(uint32_t vni, char name[KDP_IFNAMSIZ])
{
    snprintf(name, KDP_IFNAMSIZ, KDP_BRIDGE_PREFIX "%"PRIu32, vni);
}

int
kdp_name_parse(const char *name, const char *prefix, uint32_t *vni)
{
    size_t plen = strlen(prefix);
    if (strncmp(name, prefix, plen)) {
        return -EINVAL;
    }
    const char *p = name + plen;
    if (!*p || *p == '0' || strlen(p) > 8) {
        return -EINVAL;         /* Canonical decimal only: no "nvx01". */
    }
    uint32_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') {
            return -EINVAL;
        }
        v = v * 10 + (*p - '0');
    }
    if (!v || v > 16777215) {
        return -EINVAL;
    }
    *vni = v;
    return 0;
}

int
kdp_addr_parse(const char *ip, struct in6_addr *a)
{
    ovs_be32 ip4;
    if (ip && ip_parse(ip, &ip4)) {
        *a = in6_addr_mapped_ipv4(ip4);
        return 0;
    }
    return ip && ipv6_parse(ip, a) ? 0 : -EINVAL;
}

bool
kdp_addr_is_v4(const struct in6_addr *a)
{
    return IN6_IS_ADDR_V4MAPPED(a);
}

const char *
kdp_addr_format(const struct in6_addr *a, char buf[INET6_ADDRSTRLEN])
{
    if (kdp_addr_is_v4(a)) {
        ovs_be32 ip4 = in6_addr_get_mapped_ipv4(a);
        inet_ntop(AF_INET, &ip4, buf, INET6_ADDRSTRLEN);
    } else {
        inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
    }
    return buf;
}

/* Parses 'ip' into '*a' if it is a VTEP address of the same family as
 * 'local' and not 'local' itself. */
static bool
peer_parse(const char *ip, const struct in6_addr *local, struct in6_addr *a)
{
    return (!kdp_addr_parse(ip, a)
            && kdp_addr_is_v4(a) == kdp_addr_is_v4(local));
}

void
kdp_state_desired(Nvo__Network *const *nets, size_t n,
                  const struct in6_addr *local, uint32_t mtu,
                  struct kdp_state *out, size_t *n_skipped)
{
    static const uint8_t zero_mac[6];
    size_t skipped = 0;

    kdp_state_init(out);
    out->local = *local;
    for (size_t i = 0; i < n; i++) {
        const Nvo__Network *net = nets[i];
        struct kdp_net *kn = kdp_state_net(out, net->vni, true);
        kn->has_vxlan = kn->vxlan_ok = kn->has_bridge = kn->bridge_up = true;
        kn->mtu = nets[i]->mtu ? nets[i]->mtu : mtu;
        for (size_t j = 0; j < net->n_remotes; j++) {
            const Nvo__RemoteMac *rm = net->remotes[j];
            struct in6_addr dst;
            if (rm->mac.len != 6 || !peer_parse(rm->vtep_ip, local, &dst)
                || ipv6_addr_equals(&dst, local)) {
                skipped++;
                continue;
            }
            kdp_net_add_fdb(kn, rm->mac.data, &dst);
        }
        for (size_t j = 0; j < net->n_flood; j++) {
            struct in6_addr dst;
            if (!peer_parse(net->flood[j], local, &dst)) {
                skipped++;
                continue;
            }
            if (!ipv6_addr_equals(&dst, local)) {
                kdp_net_add_fdb(kn, zero_mac, &dst);
            }
        }
        for (size_t j = 0; j < net->n_locals; j++) {
            kdp_net_add_port(kn, net->locals[j]->iface);
        }
    }
    kdp_state_normalize(out);
    if (n_skipped) {
        *n_skipped = skipped;
    }
}

static struct kdp_op *
op_add(struct kdp_ops *ops, enum kdp_op_type type, uint32_t vni)
{
    if (ops->n >= ops->allocated) {
        ops->ops = x2nrealloc(ops->ops, &ops->allocated, sizeof *ops->ops);
    }
    struct kdp_op *op = &ops->ops[ops->n++];
    memset(op, 0, sizeof *op);
    op->type = type;
    op->vni = vni;
    return op;
}

static void
fdb_op(struct kdp_ops *ops, enum kdp_op_type type, uint32_t vni,
       const struct kdp_fdb *f)
{
    op_add(ops, type, vni)->fdb = *f;
}

static void
port_op(struct kdp_ops *ops, enum kdp_op_type type, uint32_t vni,
        const char *ifname)
{
    ovs_strzcpy(op_add(ops, type, vni)->ifname, ifname, KDP_IFNAMSIZ);
}

/* Diffs two sorted FDB arrays. */
static void
diff_fdb(uint32_t vni, const struct kdp_net *d, const struct kdp_net *a,
         struct kdp_ops *ops)
{
    size_t i = 0, j = 0, nd = d ? d->n_fdb : 0, na = a ? a->n_fdb : 0;
    while (i < nd || j < na) {
        int c = (i >= nd ? 1 : j >= na ? -1
                 : fdb_cmp(&d->fdb[i], &a->fdb[j]));
        if (c < 0) {
            fdb_op(ops, KDP_OP_ADD_FDB, vni, &d->fdb[i++]);
        } else if (c > 0) {
            fdb_op(ops, KDP_OP_DEL_FDB, vni, &a->fdb[j++]);
        } else {
            i++;
            j++;
        }
    }
}

static void
diff_ports(uint32_t vni, const struct kdp_net *d, const struct kdp_net *a,
           struct kdp_ops *ops)
{
    size_t i = 0, j = 0, nd = d ? d->n_ports : 0, na = a ? a->n_ports : 0;
    while (i < nd || j < na) {
        int c = (i >= nd ? 1 : j >= na ? -1 : strcmp(d->ports[i], a->ports[j]));
        if (c < 0) {
            port_op(ops, KDP_OP_ADD_PORT, vni, d->ports[i++]);
        } else if (c > 0) {
            port_op(ops, KDP_OP_RELEASE_PORT, vni, a->ports[j++]);
        } else {
            i++;
            j++;
        }
    }
}

static void
diff_net(const struct kdp_net *d, const struct kdp_net *a,
         struct kdp_ops *ops)
{
    uint32_t vni = d ? d->vni : a->vni;

    if (!d) {
        /* Not wanted any more: deleting the bridge releases its ports. */
        if (a->has_vxlan || a->vxlan_stale) {
            op_add(ops, KDP_OP_DEL_VXLAN, vni);
        }
        if (a->has_bridge) {
            op_add(ops, KDP_OP_DEL_BRIDGE, vni);
        }
        return;
    }
    if (!a || !a->has_bridge) {
        op_add(ops, KDP_OP_ADD_BRIDGE, vni);
    } else if (!a->bridge_up) {
        op_add(ops, KDP_OP_UP_BRIDGE, vni);
    }
    if (a && a->vxlan_stale) {
        op_add(ops, KDP_OP_DEL_VXLAN, vni);
    }
    if (!a || !a->has_vxlan) {
        /* Created, then enslaved and brought up by FIX (a master given at
         * creation is not always honoured). */
        op_add(ops, KDP_OP_ADD_VXLAN, vni)->mtu = d->mtu;
        op_add(ops, KDP_OP_FIX_VXLAN, vni)->mtu = d->mtu;
        diff_fdb(vni, d, NULL, ops);
    } else {
        if (!a->vxlan_ok || a->mtu != d->mtu || !a->has_bridge) {
            op_add(ops, KDP_OP_FIX_VXLAN, vni)->mtu = d->mtu;
        }
        diff_fdb(vni, d, a, ops);
    }
    diff_ports(vni, d, a && a->has_bridge ? a : NULL, ops);
}

static int
op_qcmp(const void *a_, const void *b_)
{
    const struct kdp_op *a = a_, *b = b_;
    if (a->type != b->type) {
        return a->type < b->type ? -1 : 1;
    }
    /* Stable enough: within a type, by VNI then as generated (the diff
     * generates per VNI in order, and memcmp keeps it deterministic). */
    if (a->vni != b->vni) {
        return a->vni < b->vni ? -1 : 1;
    }
    int c = memcmp(&a->fdb, &b->fdb, sizeof a->fdb);
    return c ? c : strcmp(a->ifname, b->ifname);
}

void
kdp_diff(const struct kdp_state *desired, const struct kdp_state *actual,
         struct kdp_ops *ops)
{
    size_t i = 0, j = 0, first = ops->n;
    while (i < desired->n_nets || j < actual->n_nets) {
        const struct kdp_net *d = (i < desired->n_nets
                                   ? &desired->nets[i] : NULL);
        const struct kdp_net *a = (j < actual->n_nets
                                   ? &actual->nets[j] : NULL);
        if (d && (!a || d->vni < a->vni)) {
            diff_net(d, NULL, ops);
            i++;
        } else if (a && (!d || a->vni < d->vni)) {
            diff_net(NULL, a, ops);
            j++;
        } else {
            diff_net(d, a, ops);
            i++;
            j++;
        }
    }
    /* Phase order: the enum's order. */
    if (ops->n > first) {
        qsort(ops->ops + first, ops->n - first, sizeof *ops->ops, op_qcmp);
    }
}

void
kdp_ops_destroy(struct kdp_ops *ops)
{
    if (ops) {
        free(ops->ops);
        memset(ops, 0, sizeof *ops);
    }
}

void
kdp_op_format(const struct kdp_op *op, char *buf, size_t size)
{
    char ip[INET6_ADDRSTRLEN];
    const uint8_t *m = op->fdb.mac;
    kdp_addr_format(&op->fdb.dst, ip);
    switch (op->type) {
    case KDP_OP_RELEASE_PORT:
        snprintf(buf, size, "release port %s", op->ifname);
        break;
    case KDP_OP_ADD_PORT:
        snprintf(buf, size, "add port %s", op->ifname);
        break;
    case KDP_OP_DEL_FDB:
    case KDP_OP_ADD_FDB:
        snprintf(buf, size, "%s fdb %02x:%02x:%02x:%02x:%02x:%02x dst %s",
                 op->type == KDP_OP_ADD_FDB ? "add" : "del",
                 m[0], m[1], m[2], m[3], m[4], m[5], ip);
        break;
    case KDP_OP_DEL_VXLAN:
        snprintf(buf, size, "del vxlan " KDP_VXLAN_PREFIX "%"PRIu32, op->vni);
        break;
    case KDP_OP_DEL_BRIDGE:
        snprintf(buf, size, "del bridge " KDP_BRIDGE_PREFIX "%"PRIu32,
                 op->vni);
        break;
    case KDP_OP_ADD_BRIDGE:
        snprintf(buf, size, "add bridge " KDP_BRIDGE_PREFIX "%"PRIu32,
                 op->vni);
        break;
    case KDP_OP_UP_BRIDGE:
        snprintf(buf, size, "up bridge " KDP_BRIDGE_PREFIX "%"PRIu32,
                 op->vni);
        break;
    case KDP_OP_ADD_VXLAN:
        snprintf(buf, size, "add vxlan " KDP_VXLAN_PREFIX "%"PRIu32, op->vni);
        break;
    case KDP_OP_FIX_VXLAN:
        snprintf(buf, size, "fix vxlan " KDP_VXLAN_PREFIX "%"PRIu32, op->vni);
        break;
    default:
        snprintf(buf, size, "op %d", op->type);
        break;
    }
}
