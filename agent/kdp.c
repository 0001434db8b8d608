#include <config.h>
#include "agent/kdp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "openvswitch/vlog.h"
#include "packets.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(kdp);

#define KDP_BUF_SIZE (256 * 1024)
/* Requests per send: small enough that their acks fit the default socket
 * receive buffer (an ack lost to ENOBUFS would stall the wait). */
#define KDP_BATCH_LIMIT (32 * 1024)

struct kdp {
    struct mnl_socket *nl;
    unsigned int portid;
    uint32_t seq;
    char *buf;                  /* Requests. */
    char *rbuf;                 /* Replies. */
};

struct kdp *
kdp_open(int *errp)
{
    struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
    if (!nl) {
        *errp = -errno;
        return NULL;
    }
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        *errp = -errno;
        mnl_socket_close(nl);
        return NULL;
    }
    int one = 1;
    /* Short error replies (no copy of the request). */
    mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof one);
    int rcvbuf = 4 << 20;
    if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE,
                   &rcvbuf, sizeof rcvbuf)) {
        setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
                   sizeof rcvbuf);
    }
    struct kdp *k = xzalloc(sizeof *k);
    k->nl = nl;
    k->portid = mnl_socket_get_portid(nl);
    k->seq = time(NULL);
    k->buf = xmalloc(KDP_BUF_SIZE);
    k->rbuf = xmalloc(KDP_BUF_SIZE);
    *errp = 0;
    return k;
}

void
kdp_close(struct kdp *k)
{
    if (k) {
        mnl_socket_close(k->nl);
        free(k->buf);
        free(k->rbuf);
        free(k);
    }
}

/* ---- dump --------------------------------------------------------------- */

struct kdp_link {
    int ifindex;
    char name[IFNAMSIZ];
    int master;
    unsigned int flags;
    uint32_t mtu;
    char kind[16];
    bool has_vxlan;
    uint32_t vxlan_id;
    struct in6_addr vxlan_local;    /* IPv4: mapped. */
    uint16_t vxlan_port;        /* Network order. */
    int vxlan_learning;         /* -1: absent. */
    int vxlan_csum;             /* -1: absent. */
};

struct link_dump {
    struct kdp_link *links;
    size_t n, allocated;
};

/* Reads address attribute 'a', 4 bytes (IPv4, into an IPv4-mapped
 * address) or 16 (IPv6), into '*addr'.  Returns 0 or -EINVAL. */
static int
addr_from_attr(const struct nlattr *a, struct in6_addr *addr)
{
    uint16_t len = mnl_attr_get_payload_len(a);
    if (len == 4) {
        *addr = in6_addr_mapped_ipv4(mnl_attr_get_u32(a));
    } else if (len == sizeof *addr) {
        memcpy(addr, mnl_attr_get_payload(a), len);
    } else {
        return -EINVAL;
    }
    return 0;
}

static void
parse_vxlan_data(const struct nlattr *data, struct kdp_link *l)
{
    const struct nlattr *a;
    l->has_vxlan = true;
    l->vxlan_learning = l->vxlan_csum = -1;
    mnl_attr_for_each_nested (a, data) {
        switch (mnl_attr_get_type(a)) {
        case IFLA_VXLAN_ID:
            if (!mnl_attr_validate(a, MNL_TYPE_U32)) {
                l->vxlan_id = mnl_attr_get_u32(a);
            }
            break;
        case IFLA_VXLAN_LOCAL:
        case IFLA_VXLAN_LOCAL6:
            addr_from_attr(a, &l->vxlan_local);
            break;
        case IFLA_VXLAN_PORT:
            if (!mnl_attr_validate(a, MNL_TYPE_U16)) {
                l->vxlan_port = mnl_attr_get_u16(a);
            }
            break;
        case IFLA_VXLAN_LEARNING:
            if (!mnl_attr_validate(a, MNL_TYPE_U8)) {
                l->vxlan_learning = mnl_attr_get_u8(a);
            }
            break;
        case IFLA_VXLAN_UDP_CSUM:
            if (!mnl_attr_validate(a, MNL_TYPE_U8)) {
                l->vxlan_csum = mnl_attr_get_u8(a);
            }
            break;
        }
    }
}

bool
kdp_neigh_parse(const struct nlmsghdr *nlh, uint8_t family,
                struct kdp_neigh *n)
{
    const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *a;

    if (nlh->nlmsg_type != RTM_NEWNEIGH || ndm->ndm_family != family) {
        return false;
    }
    memset(n, 0, sizeof *n);
    n->ifindex = ndm->ndm_ifindex;
    mnl_attr_for_each (a, nlh, sizeof *ndm) {
        uint16_t type = mnl_attr_get_type(a);
        if (type == NDA_LLADDR && mnl_attr_get_payload_len(a) == 6) {
            memcpy(n->mac, mnl_attr_get_payload(a), 6);
            n->has_mac = true;
        } else if (type == NDA_MASTER && mnl_attr_get_payload_len(a) == 4) {
            n->master = mnl_attr_get_u32(a);
        } else if (type == NDA_DST) {
            n->has_dst = true;
            if (mnl_attr_get_payload_len(a) == 4) {
                memcpy(&n->ip, mnl_attr_get_payload(a), 4);
                n->has_ip = true;
            }
        }
    }
    /* The bridge's own entries carry NDA_MASTER (the dump sets no
     * NTF_MASTER flag); static ones are NUD_NOARP, learned ones REACHABLE
     * or STALE, the bridge's addresses PERMANENT. */
    n->static_master = (family == AF_BRIDGE && n->has_mac && !n->has_dst
                        && n->master && !(ndm->ndm_flags & NTF_SELF)
                        && ndm->ndm_state == NUD_NOARP);
    n->permanent_ipv4 = (family == AF_INET && n->has_ip
                         && (ndm->ndm_state & NUD_PERMANENT));
    return true;
}

static int
link_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct link_dump *d = aux;
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *a;
    struct kdp_link l;

    if (nlh->nlmsg_type != RTM_NEWLINK) {
        return MNL_CB_OK;
    }
    memset(&l, 0, sizeof l);
    l.ifindex = ifi->ifi_index;
    l.flags = ifi->ifi_flags;
    l.vxlan_learning = l.vxlan_csum = -1;
    mnl_attr_for_each (a, nlh, sizeof *ifi) {
        switch (mnl_attr_get_type(a)) {
        case IFLA_IFNAME:
            if (!mnl_attr_validate(a, MNL_TYPE_NUL_STRING)) {
                ovs_strzcpy(l.name, mnl_attr_get_str(a), sizeof l.name);
            }
            break;
        case IFLA_MASTER:
            if (!mnl_attr_validate(a, MNL_TYPE_U32)) {
                l.master = mnl_attr_get_u32(a);
            }
            break;
        case IFLA_MTU:
            if (!mnl_attr_validate(a, MNL_TYPE_U32)) {
                l.mtu = mnl_attr_get_u32(a);
            }
            break;
        case IFLA_LINKINFO: {
            const struct nlattr *b;
            const struct nlattr *data = NULL;
            mnl_attr_for_each_nested (b, a) {
                if (mnl_attr_get_type(b) == IFLA_INFO_KIND
                    && !mnl_attr_validate(b, MNL_TYPE_NUL_STRING)) {
                    ovs_strzcpy(l.kind, mnl_attr_get_str(b), sizeof l.kind);
                } else if (mnl_attr_get_type(b) == IFLA_INFO_DATA) {
                    data = b;
                }
            }
            if (data && !strcmp(l.kind, "vxlan")) {
                parse_vxlan_data(data, &l);
            }
            break;
        }
        }
    }
    if (d->n >= d->allocated) {
        d->links = x2nrealloc(d->links, &d->allocated, sizeof *d->links);
    }
    d->links[d->n++] = l;
    return MNL_CB_OK;
}

/* Sends the request in k->buf and runs 'cb' over the dump. */
static int
do_dump(struct kdp *k, struct nlmsghdr *nlh, mnl_cb_t cb, void *aux)
{
    uint32_t seq = nlh->nlmsg_seq;
    if (mnl_socket_sendto(k->nl, nlh, nlh->nlmsg_len) < 0) {
        return -errno;
    }
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(k->nl, k->rbuf, KDP_BUF_SIZE);
        if (n < 0) {
            return -errno;
        }
        int r = mnl_cb_run(k->rbuf, n, seq, k->portid, cb, aux);
        if (r < 0) {
            return -errno;
        } else if (r == MNL_CB_STOP) {
            return 0;
        }
    }
}

int
kdp_dump_all(struct kdp *k, uint16_t type, uint8_t family, kdp_dump_cb *cb,
             void *aux)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(k->buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = ++k->seq;
    if (type == RTM_GETLINK) {
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
        ifi->ifi_family = family;
    } else {
        struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof *ndm);
        ndm->ndm_family = family;
    }
    return do_dump(k, nlh, cb, aux);
}

struct neigh_dump {
    struct kdp_state *actual;
    const int *vxlan_ifindex;   /* Indexed like actual->nets. */
};

static int
neigh_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct neigh_dump *d = aux;
    const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *a;
    const uint8_t *mac = NULL;
    struct in6_addr dst;
    bool has_dst = false;

    if (nlh->nlmsg_type != RTM_NEWNEIGH || ndm->ndm_family != AF_BRIDGE) {
        return MNL_CB_OK;
    }
    mnl_attr_for_each (a, nlh, sizeof *ndm) {
        if (mnl_attr_get_type(a) == NDA_LLADDR
            && mnl_attr_get_payload_len(a) == 6) {
            mac = mnl_attr_get_payload(a);
        } else if (mnl_attr_get_type(a) == NDA_DST) {
            has_dst = !addr_from_attr(a, &dst);
        }
    }
    if (!mac || !has_dst) {
        return MNL_CB_OK;       /* Not a VXLAN remote entry. */
    }
    for (size_t i = 0; i < d->actual->n_nets; i++) {
        if (d->vxlan_ifindex[i] == ndm->ndm_ifindex) {
            kdp_net_add_fdb(&d->actual->nets[i], mac, &dst);
            break;
        }
    }
    return MNL_CB_OK;
}

int
kdp_dump(struct kdp *k, const struct in6_addr *local,
         struct kdp_state *actual)
{
    struct link_dump ld = { NULL, 0, 0 };
    struct nlmsghdr *nlh;
    int error;

    kdp_state_init(actual);
    actual->local = *local;

    nlh = mnl_nlmsg_put_header(k->buf);
    nlh->nlmsg_type = RTM_GETLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = ++k->seq;
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    error = do_dump(k, nlh, link_cb, &ld);
    if (error) {
        free(ld.links);
        return error;
    }

    /* Bridges first, so VXLAN devices and ports can refer to them. */
    int *bridge_ifindex = xcalloc(ld.n + 1, sizeof *bridge_ifindex);
    uint32_t *bridge_vni = xcalloc(ld.n + 1, sizeof *bridge_vni);
    size_t n_bridges = 0;
    for (size_t i = 0; i < ld.n; i++) {
        const struct kdp_link *l = &ld.links[i];
        uint32_t vni;
        if (!kdp_name_parse(l->name, KDP_BRIDGE_PREFIX, &vni)
            && !strcmp(l->kind, "bridge")) {
            struct kdp_net *n = kdp_state_net(actual, vni, true);
            n->has_bridge = true;
            n->bridge_up = (l->flags & IFF_UP) != 0;
            bridge_ifindex[n_bridges] = l->ifindex;
            bridge_vni[n_bridges++] = vni;
        }
    }
    for (size_t i = 0; i < ld.n; i++) {
        const struct kdp_link *l = &ld.links[i];
        uint32_t vni;
        if (!kdp_name_parse(l->name, KDP_VXLAN_PREFIX, &vni)) {
            struct kdp_net *n = kdp_state_net(actual, vni, true);
            bool right = (l->has_vxlan && l->vxlan_id == vni
                          && ipv6_addr_equals(&l->vxlan_local, local)
                          && l->vxlan_port == htons(KDP_VXLAN_PORT)
                          && l->vxlan_learning == 0
                          && l->vxlan_csum <= 0);
            n->has_vxlan = right;
            n->vxlan_stale = !right;
            n->mtu = l->mtu;
            bool enslaved = false;
            for (size_t j = 0; j < n_bridges; j++) {
                if (bridge_vni[j] == vni && bridge_ifindex[j] == l->master) {
                    enslaved = true;
                }
            }
            n->vxlan_ok = enslaved && (l->flags & IFF_UP);
        }
    }
    /* Ports: anything but our VXLAN devices whose master is our bridge. */
    for (size_t i = 0; i < ld.n; i++) {
        const struct kdp_link *l = &ld.links[i];
        uint32_t vni;
        if (l->master && kdp_name_parse(l->name, KDP_VXLAN_PREFIX, &vni)) {
            for (size_t j = 0; j < n_bridges; j++) {
                if (bridge_ifindex[j] == l->master) {
                    kdp_net_add_port(kdp_state_net(actual, bridge_vni[j],
                                                   true), l->name);
                }
            }
        }
    }
    /* FDB entries of our VXLAN devices. */
    int *vxlan_ifindex = xcalloc(actual->n_nets + 1, sizeof *vxlan_ifindex);
    for (size_t i = 0; i < actual->n_nets; i++) {
        char name[KDP_IFNAMSIZ];
        kdp_vxlan_name(actual->nets[i].vni, name);
        for (size_t j = 0; j < ld.n; j++) {
            if (!strcmp(ld.links[j].name, name)) {
                vxlan_ifindex[i] = ld.links[j].ifindex;
            }
        }
    }
    nlh = mnl_nlmsg_put_header(k->buf);
    nlh->nlmsg_type = RTM_GETNEIGH;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = ++k->seq;
    struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof *ndm);
    ndm->ndm_family = AF_BRIDGE;
    struct neigh_dump nd = { actual, vxlan_ifindex };
    error = do_dump(k, nlh, neigh_cb, &nd);

    kdp_state_normalize(actual);
    free(vxlan_ifindex);
    free(bridge_ifindex);
    free(bridge_vni);
    free(ld.links);
    return error;
}

/* ---- apply -------------------------------------------------------------- */

static struct nlmsghdr *
put_link(char *buf, uint16_t type, uint16_t flags, int ifindex,
         unsigned int up)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    if (up) {
        ifi->ifi_flags = IFF_UP;
        ifi->ifi_change = IFF_UP;
    }
    return nlh;
}

/* Puts 'a' as attribute 'type4' (4 bytes) if it is IPv4, else as 'type6'
 * (16 bytes). */
static void
put_addr(struct nlmsghdr *nlh, uint16_t type4, uint16_t type6,
         const struct in6_addr *a)
{
    if (kdp_addr_is_v4(a)) {
        mnl_attr_put_u32(nlh, type4, in6_addr_get_mapped_ipv4(a));
    } else {
        mnl_attr_put(nlh, type6, sizeof *a, a);
    }
}

static struct nlmsghdr *
put_fdb(char *buf, uint16_t type, uint16_t flags, int ifindex,
        const struct kdp_fdb *f)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof *ndm);
    ndm->ndm_family = AF_BRIDGE;
    ndm->ndm_ifindex = ifindex;
    ndm->ndm_flags = NTF_SELF;
    ndm->ndm_state = NUD_PERMANENT | NUD_NOARP;
    mnl_attr_put(nlh, NDA_LLADDR, 6, f->mac);
    put_addr(nlh, NDA_DST, NDA_DST, &f->dst);
    return nlh;
}

static int
ifindex_of(const char *name)
{
    return if_nametoindex(name);
}

/* Builds the request for 'op' at 'buf'.  Returns NULL with '*errp' set if
 * it cannot be built (a device it needs is missing). */
static struct nlmsghdr *
build_op(char *buf, const struct kdp_op *op, const struct in6_addr *local,
         int vxlan_ifindex, int *errp)
{
    char vx[KDP_IFNAMSIZ], br[KDP_IFNAMSIZ];
    struct nlmsghdr *nlh = NULL;
    int idx;

    kdp_vxlan_name(op->vni, vx);
    kdp_bridge_name(op->vni, br);
    *errp = 0;
    switch (op->type) {
    case KDP_OP_RELEASE_PORT:
        idx = ifindex_of(op->ifname);
        if (!idx) {
            *errp = 0;          /* Gone already: nothing to release. */
            return NULL;
        }
        nlh = put_link(buf, RTM_NEWLINK, 0, idx, 0);
        mnl_attr_put_u32(nlh, IFLA_MASTER, 0);
        break;
    case KDP_OP_ADD_PORT:
        idx = ifindex_of(op->ifname);
        if (!idx) {
            *errp = -ENODEV;
            return NULL;
        }
        nlh = put_link(buf, RTM_NEWLINK, 0, idx, IFF_UP);
        mnl_attr_put_u32(nlh, IFLA_MASTER, ifindex_of(br));
        break;
    case KDP_OP_DEL_FDB:
    case KDP_OP_ADD_FDB:
        if (!vxlan_ifindex) {
            *errp = -ENODEV;
            return NULL;
        }
        nlh = (op->type == KDP_OP_ADD_FDB
               ? put_fdb(buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND,
                         vxlan_ifindex, &op->fdb)
               : put_fdb(buf, RTM_DELNEIGH, 0, vxlan_ifindex, &op->fdb));
        break;
    case KDP_OP_DEL_VXLAN:
    case KDP_OP_DEL_BRIDGE:
        nlh = put_link(buf, RTM_DELLINK, 0, 0, 0);
        mnl_attr_put_strz(nlh, IFLA_IFNAME,
                          op->type == KDP_OP_DEL_VXLAN ? vx : br);
        break;
    case KDP_OP_ADD_BRIDGE: {
        nlh = put_link(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, IFF_UP);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, br);
        struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
        mnl_attr_nest_end(nlh, li);
        break;
    }
    case KDP_OP_UP_BRIDGE:
        nlh = put_link(buf, RTM_NEWLINK, 0, 0, IFF_UP);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, br);
        break;
    case KDP_OP_ADD_VXLAN: {
        /* Enslaved and brought up by the FIX_VXLAN that follows. */
        nlh = put_link(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, 0);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, vx);
        mnl_attr_put_u32(nlh, IFLA_MTU, op->mtu);
        struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vxlan");
        struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        mnl_attr_put_u32(nlh, IFLA_VXLAN_ID, op->vni);
        put_addr(nlh, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6, local);
        mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT, htons(KDP_VXLAN_PORT));
        mnl_attr_put_u8(nlh, IFLA_VXLAN_LEARNING, 0);
        /* OVS's userspace VXLAN drops frames with bad checksums that veth
         * offload leaves unfilled: send none (LAB-NOTES pitfall 4). */
        mnl_attr_put_u8(nlh, IFLA_VXLAN_UDP_CSUM, 0);
        mnl_attr_put_u8(nlh, IFLA_VXLAN_UDP_ZERO_CSUM6_RX, 1);
        mnl_attr_put_u8(nlh, IFLA_VXLAN_UDP_ZERO_CSUM6_TX, 1);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, li);
        break;
    }
    case KDP_OP_FIX_VXLAN:
        idx = ifindex_of(br);
        if (!idx) {
            *errp = -ENODEV;
            return NULL;
        }
        nlh = put_link(buf, RTM_NEWLINK, 0, 0, IFF_UP);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, vx);
        mnl_attr_put_u32(nlh, IFLA_MTU, op->mtu);
        mnl_attr_put_u32(nlh, IFLA_MASTER, idx);
        break;
    }
    return nlh;
}

/* Receives acks for seqs [first, first + n); reports failures of
 * ops[map[seq - first]]. */
static int
collect_acks(struct kdp *k, uint32_t first, size_t n, const size_t *map,
             const struct kdp_ops *ops, kdp_error_cb *cb, void *aux,
             int *n_failed)
{
    size_t got = 0;
    while (got < n) {
        ssize_t len = mnl_socket_recvfrom(k->nl, k->rbuf, KDP_BUF_SIZE);
        if (len < 0) {
            return -errno;
        }
        const struct nlmsghdr *nlh = (const struct nlmsghdr *) k->rbuf;
        int rest = len;
        while (mnl_nlmsg_ok(nlh, rest)) {
            if (nlh->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
                uint32_t off = nlh->nlmsg_seq - first;
                if (off < n) {
                    got++;
                    if (e->error) {
                        ++*n_failed;
                        cb(aux, &ops->ops[map[off]], e->error);
                    }
                }
            }
            nlh = mnl_nlmsg_next(nlh, &rest);
        }
    }
    return 0;
}

int
kdp_apply(struct kdp *k, const struct in6_addr *local,
          const struct kdp_ops *ops, kdp_error_cb *cb, void *aux)
{
    size_t *map = xmalloc((ops->n ? ops->n : 1) * sizeof *map);
    int n_failed = 0;
    size_t i = 0;
    int error = 0;

    while (i < ops->n && !error) {
        /* One batch: consecutive ops of one type (later types depend on
         * earlier ones: a bridge must exist before its VXLAN device). */
        struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(k->buf,
                                                          KDP_BATCH_LIMIT);
        enum kdp_op_type type = ops->ops[i].type;
        uint32_t first = k->seq + 1;
        size_t n = 0;
        uint32_t cached_vni = 0;
        int cached_ifindex = 0;
        for (; i < ops->n && ops->ops[i].type == type; i++) {
            const struct kdp_op *op = &ops->ops[i];
            if (op->vni != cached_vni) {
                char vx[KDP_IFNAMSIZ];
                kdp_vxlan_name(op->vni, vx);
                cached_vni = op->vni;
                cached_ifindex = ifindex_of(vx);
            }
            int op_error;
            struct nlmsghdr *nlh = build_op(mnl_nlmsg_batch_current(b), op,
                                            local, cached_ifindex, &op_error);
            if (!nlh) {
                if (op_error) {
                    n_failed++;
                    cb(aux, op, op_error);
                }
                continue;
            }
            nlh->nlmsg_seq = ++k->seq;
            map[n++] = i;
            if (!mnl_nlmsg_batch_next(b)) {
                /* Full: this op is not in the batch; redo it next time. */
                n--;
                k->seq--;
                break;
            }
        }
        if (n) {
            if (mnl_socket_sendto(k->nl, mnl_nlmsg_batch_head(b),
                                  mnl_nlmsg_batch_size(b)) < 0) {
                error = -errno;
            } else {
                error = collect_acks(k, first, n, map, ops, cb, aux,
                                     &n_failed);
            }
        }
        mnl_nlmsg_batch_stop(b);
    }
    free(map);
    return error ? error : n_failed;
}

uint32_t
kdp_vxlan_mtu(const struct in6_addr *local)
{
    /* Outer Ethernet, IP, UDP and VXLAN headers. */
    uint32_t overhead = 14 + (kdp_addr_is_v4(local) ? 20 : 40) + 8 + 8;
    uint32_t mtu = kdp_underlay_mtu(local);
    return (!mtu ? 1500 - overhead
            : mtu >= 1500 + overhead ? 1500 : mtu - overhead);
}

uint32_t
kdp_underlay_mtu(const struct in6_addr *local)
{
    struct ifaddrs *ifa_list, *ifa;
    uint32_t mtu = 0;

    if (getifaddrs(&ifa_list)) {
        return 0;
    }
    for (ifa = ifa_list; ifa; ifa = ifa->ifa_next) {
        const struct sockaddr *sa = ifa->ifa_addr;
        bool match = false;
        if (!sa) {
            continue;
        } else if (sa->sa_family == AF_INET && kdp_addr_is_v4(local)) {
            const struct sockaddr_in *sin = ALIGNED_CAST(
                const struct sockaddr_in *, sa);
            match = (sin->sin_addr.s_addr
                     == in6_addr_get_mapped_ipv4(local));
        } else if (sa->sa_family == AF_INET6) {
            const struct sockaddr_in6 *sin6 = ALIGNED_CAST(
                const struct sockaddr_in6 *, sa);
            match = ipv6_addr_equals(&sin6->sin6_addr, local);
        }
        if (match) {
            struct ifreq ifr;
            int fd = socket(AF_INET, SOCK_DGRAM, 0);
            memset(&ifr, 0, sizeof ifr);
            ovs_strzcpy(ifr.ifr_name, ifa->ifa_name, sizeof ifr.ifr_name);
            if (fd >= 0 && !ioctl(fd, SIOCGIFMTU, &ifr) && ifr.ifr_mtu > 0) {
                mtu = ifr.ifr_mtu;
            }
            if (fd >= 0) {
                close(fd);
            }
            break;
        }
    }
    freeifaddrs(ifa_list);
    return mtu;
}
