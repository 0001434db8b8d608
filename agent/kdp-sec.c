#include <config.h>
#include "agent/kdp-sec.h"

/* Before <linux/netfilter_bridge.h>: its <netinet/if_ether.h> makes
 * arp_op a macro, which breaks OVS's struct arp_eth_header. */
#include "packets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/if_bridge.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter_bridge.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "agent/kdp.h"
#include "agent/kdp-state.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(kdp_sec);

#define SEC_BUF_SIZE (256 * 1024)
#define SEC_TABLE "nvo"
#define SEC_CHAIN "portsec"
#define SEC_COMMENT "nvo port "

/* Drops counted by rules that a rebuild of the chain has since reset. */
struct sec_base {
    struct hmap_node node;      /* In kdp_sec.base, by port_id. */
    int64_t port_id;
    uint64_t packets;
};

struct kdp_sec {
    struct mnl_socket *rt;      /* NETLINK_ROUTE. */
    struct mnl_socket *nf;      /* NETLINK_NETFILTER. */
    unsigned int rt_portid, nf_portid;
    uint32_t seq;
    char *buf;
    char *rbuf;
    char *applied;              /* Signature of the applied configuration. */
    struct hmap base;           /* Contains struct sec_base. */
};

static struct mnl_socket *
open_socket(int bus, unsigned int *portid, int *errp)
{
    struct mnl_socket *nl = mnl_socket_open(bus);
    if (!nl) {
        *errp = -errno;
        return NULL;
    }
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        *errp = -errno;
        mnl_socket_close(nl);
        return NULL;
    }
    *portid = mnl_socket_get_portid(nl);
    return nl;
}

struct kdp_sec *
kdp_sec_create(int *errp)
{
    struct kdp_sec *s = xzalloc(sizeof *s);
    *errp = 0;
    s->rt = open_socket(NETLINK_ROUTE, &s->rt_portid, errp);
    if (s->rt) {
        s->nf = open_socket(NETLINK_NETFILTER, &s->nf_portid, errp);
    }
    if (s->nf) {
        /* Bounds every wait for the kernel's answers (nf_send()). */
        struct timeval tv = { .tv_sec = 2 };
        setsockopt(mnl_socket_get_fd(s->nf), SOL_SOCKET, SO_RCVTIMEO, &tv,
                   sizeof tv);
        setsockopt(mnl_socket_get_fd(s->rt), SOL_SOCKET, SO_RCVTIMEO, &tv,
                   sizeof tv);
    }
    if (!s->rt || !s->nf) {
        if (s->rt) {
            mnl_socket_close(s->rt);
        }
        free(s);
        return NULL;
    }
    s->seq = time(NULL);
    s->buf = xmalloc(SEC_BUF_SIZE);
    s->rbuf = xmalloc(SEC_BUF_SIZE);
    hmap_init(&s->base);
    return s;
}

void
kdp_sec_destroy(struct kdp_sec *s)
{
    if (!s) {
        return;
    }
    mnl_socket_close(s->rt);
    mnl_socket_close(s->nf);
    struct sec_base *b;
    HMAP_FOR_EACH_POP (b, node, &s->base) {
        free(b);
    }
    hmap_destroy(&s->base);
    free(s->applied);
    free(s->buf);
    free(s->rbuf);
    free(s);
}

/* ---- the configuration, from the networks ------------------------------ */

struct sec_addr {
    uint32_t ip, mask;          /* Network byte order. */
};

struct sec_port {
    int64_t port_id;
    uint32_t vni;
    char ifname[KDP_IFNAMSIZ];
    int ifindex;                /* 0: not there (yet). */
    uint8_t mac[6];
    struct sec_addr *addrs;
    size_t n_addrs;
    bool has_v6;                /* An IPv6 entry among "ip", allowed. */
};

/* Parses "A.B.C.D" or "A.B.C.D/LEN" (libopenvswitch's ip_parse_cidr()).
 * False for anything else (IPv6). */
static bool
parse_v4(const char *s, struct sec_addr *a)
{
    ovs_be32 ip;
    unsigned int plen;
    char *error = s ? ip_parse_cidr(s, &ip, &plen) : xstrdup("none");
    if (error) {
        free(error);
        return false;
    }
    a->mask = be32_prefix_mask(plen);
    a->ip = ip & a->mask;
    return true;
}

static void
port_from_proto(const Nvo__LocalPort *lp, uint32_t vni, struct sec_port *p)
{
    memset(p, 0, sizeof *p);
    p->port_id = lp->port_id;
    p->vni = vni;
    ovs_strzcpy(p->ifname, lp->iface ? lp->iface : "", sizeof p->ifname);
    p->ifindex = if_nametoindex(p->ifname);
    if (lp->mac.len == 6) {
        memcpy(p->mac, lp->mac.data, 6);
    }
    p->addrs = xmalloc((lp->n_allowed + 1) * sizeof *p->addrs);
    for (size_t i = 0; i <= lp->n_allowed; i++) {
        const char *a = i < lp->n_allowed ? lp->allowed[i] : lp->ip;
        if (parse_v4(a, &p->addrs[p->n_addrs])) {
            p->n_addrs++;
        } else if (a && strchr(a, ':')) {
            p->has_v6 = true;
        }
    }
}

/* A text form of everything kdp_sec_apply() would do for 'nets', including
 * the interfaces' current ifindexes (a recreated interface needs its flags
 * again).  Caller frees. */
static char *
signature(Nvo__Network *const *nets, size_t n)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n; i++) {
        const Nvo__Network *net = nets[i];
        char vx[KDP_IFNAMSIZ], br[KDP_IFNAMSIZ];
        kdp_vxlan_name(net->vni, vx);
        kdp_bridge_name(net->vni, br);
        ds_put_format(&s, "net %"PRIu32" %u %u %d\n", net->vni,
                      if_nametoindex(vx), if_nametoindex(br),
                      net->arp_responder);
        for (size_t j = 0; j < net->n_locals; j++) {
            const Nvo__LocalPort *lp = net->locals[j];
            ds_put_format(&s, "l %"PRId64" %s %u %s", lp->port_id,
                          lp->iface, if_nametoindex(lp->iface), lp->ip);
            for (size_t k = 0; k < lp->n_allowed; k++) {
                ds_put_format(&s, " %s", lp->allowed[k]);
            }
            for (size_t k = 0; k < lp->mac.len; k++) {
                ds_put_format(&s, ":%02x", lp->mac.data[k]);
            }
            ds_put_char(&s, '\n');
        }
        for (size_t j = 0; j < net->n_remotes; j++) {
            const Nvo__RemoteMac *rm = net->remotes[j];
            ds_put_format(&s, "r %s", rm->ip);
            for (size_t k = 0; k < rm->mac.len; k++) {
                ds_put_format(&s, ":%02x", rm->mac.data[k]);
            }
            ds_put_char(&s, '\n');
        }
    }
    return ds_steal_cstr(&s);
}

/* ---- route netlink: bridge port flags, FDB, neighbours ------------------ */

/* Sends the request at 'nlh' on 'nl' and runs 'cb' over the answers with
 * seq 'nlh->nlmsg_seq' until the ack or the end of the dump.  Answers to
 * older requests are skipped.  An error 'ignore' counts as success.
 * Returns 0 or a negative errno. */
static int
transact(struct kdp_sec *s, struct mnl_socket *nl, unsigned int portid,
         const struct nlmsghdr *nlh, mnl_cb_t cb, void *data, int ignore)
{
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
        return -errno;
    }
    for (;;) {
        ssize_t len = mnl_socket_recvfrom(nl, s->rbuf, SEC_BUF_SIZE);
        if (len < 0) {
            return -errno;
        }
        int r = mnl_cb_run(s->rbuf, len, nlh->nlmsg_seq, portid, cb, data);
        if (r < 0 && errno != ESRCH) {
            return errno == ignore ? 0 : -errno;
        } else if (r == MNL_CB_STOP) {
            return 0;
        }
    }
}

/* Sends the route request at 'nlh' (with NLM_F_ACK) and waits for its
 * ack.  Returns 0 or a negative errno. */
static int
rt_request(struct kdp_sec *s, struct nlmsghdr *nlh)
{
    nlh->nlmsg_flags |= NLM_F_ACK;
    nlh->nlmsg_seq = ++s->seq;
    return transact(s, s->rt, s->rt_portid, nlh, NULL, NULL, 0);
}

/* Sets bridge port flags of 'ifindex': each of the IFLA_BRPORT_* in
 * 'attrs' ('n' entries) to 'values'. */
static int
set_brport(struct kdp_sec *s, int ifindex, const uint16_t *attrs,
           const uint8_t *values, size_t n)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(s->buf);
    nlh->nlmsg_type = RTM_SETLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
    ifi->ifi_family = AF_BRIDGE;
    ifi->ifi_index = ifindex;
    struct nlattr *nest = mnl_attr_nest_start(nlh, IFLA_PROTINFO);
    for (size_t i = 0; i < n; i++) {
        mnl_attr_put_u8(nlh, attrs[i], values[i]);
    }
    mnl_attr_nest_end(nlh, nest);
    return rt_request(s, nlh);
}

/* Adds (creating or replacing) or deletes one neighbour-table entry: the
 * family, interface, state and flags come from 'tmpl', then 'dst'
 * ('dst_len' bytes; none if 0) and 'mac' (none if NULL).  Both kinds nvo
 * owns here go through it: bridge FDB entries (AF_BRIDGE, NTF_MASTER) and
 * IP neighbours.  Returns 0 or a negative errno. */
static int
neigh_request(struct kdp_sec *s, const struct ndmsg *tmpl, const void *dst,
              size_t dst_len, const uint8_t *mac, bool add)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(s->buf);
    nlh->nlmsg_type = add ? RTM_NEWNEIGH : RTM_DELNEIGH;
    nlh->nlmsg_flags = NLM_F_REQUEST
                       | (add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
    struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof *ndm);
    *ndm = *tmpl;
    if (dst_len) {
        mnl_attr_put(nlh, NDA_DST, dst_len, dst);
    }
    if (mac) {
        mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
    }
    return rt_request(s, nlh);
}

/* Adds (replacing) or deletes a static FDB entry for 'mac' in the bridge
 * that port 'ifindex' belongs to ("bridge fdb add MAC dev PORT master
 * static"). */
static int
master_fdb(struct kdp_sec *s, int ifindex, const uint8_t mac[6], bool add)
{
    const struct ndmsg ndm = {
        .ndm_family = AF_BRIDGE,
        .ndm_ifindex = ifindex,
        .ndm_flags = NTF_MASTER,
        .ndm_state = NUD_NOARP,
    };
    return neigh_request(s, &ndm, NULL, 0, mac, add);
}

/* Adds (replacing) or deletes a permanent IPv4 neighbour on 'ifindex'. */
static int
neighbour(struct kdp_sec *s, int ifindex, uint32_t ip, const uint8_t *mac,
          bool add)
{
    const struct ndmsg ndm = {
        .ndm_family = AF_INET,
        .ndm_ifindex = ifindex,
        .ndm_state = NUD_PERMANENT,
    };
    return neigh_request(s, &ndm, &ip, sizeof ip, mac, add);
}

/* What a neighbour dump found that nvo may own. */
struct sec_entry {
    int ifindex;
    int master;                 /* AF_BRIDGE entries: the bridge. */
    uint32_t ip;                /* AF_INET entries. */
    uint8_t mac[6];
};

struct sec_dump {
    int family;
    struct sec_entry *v;
    size_t n, allocated;
};

static int
neigh_dump_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct sec_dump *d = aux;
    struct kdp_neigh n;

    if (!kdp_neigh_parse(nlh, d->family, &n)
        || !(d->family == AF_INET ? n.permanent_ipv4 : n.static_master)) {
        return MNL_CB_OK;
    }
    if (d->n >= d->allocated) {
        d->v = x2nrealloc(d->v, &d->allocated, sizeof *d->v);
    }
    struct sec_entry *e = &d->v[d->n++];
    *e = (struct sec_entry) { .ifindex = n.ifindex, .master = n.master,
                              .ip = n.ip };
    memcpy(e->mac, n.mac, 6);
    return MNL_CB_OK;
}

/* Dumps the permanent IPv4 neighbours (AF_INET) or the static master FDB
 * entries (AF_BRIDGE) into 'd'. */
static int
neigh_dump(struct kdp_sec *s, int family, struct sec_dump *d)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(s->buf);
    nlh->nlmsg_type = RTM_GETNEIGH;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = ++s->seq;
    struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof *ndm);
    ndm->ndm_family = family;
    d->family = family;
    return transact(s, s->rt, s->rt_portid, nlh, neigh_dump_cb, d, 0);
}

/* ---- nftables ----------------------------------------------------------- */

static void
add_expr(struct nftnl_rule *r, const char *name, struct nftnl_expr **ep)
{
    *ep = nftnl_expr_alloc(name);
    nftnl_rule_add_expr(r, *ep);
}

static void
put_iifname(struct nftnl_rule *r, const char *ifname)
{
    struct nftnl_expr *e;
    char name[IFNAMSIZ];
    memset(name, 0, sizeof name);
    ovs_strzcpy(name, ifname, sizeof name);
    add_expr(r, "meta", &e);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_IIFNAME);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
    add_expr(r, "cmp", &e);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, name, sizeof name);
}

/* Loads 'len' bytes at 'offset' of header 'base' and compares them, under
 * 'mask' if nonnull, with 'data' ('op': NFT_CMP_EQ or NFT_CMP_NEQ). */
static void
put_payload_cmp(struct nftnl_rule *r, uint32_t base, uint32_t offset,
                uint32_t len, const void *mask, const void *data,
                uint32_t op)
{
    struct nftnl_expr *e;
    add_expr(r, "payload", &e);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
    if (mask) {
        static const uint8_t zero[16];
        add_expr(r, "bitwise", &e);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
    }
    add_expr(r, "cmp", &e);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void
put_ethertype(struct nftnl_rule *r, uint16_t type)
{
    uint16_t t = htons(type);
    put_payload_cmp(r, NFT_PAYLOAD_LL_HEADER, 12, 2, NULL, &t, NFT_CMP_EQ);
}

/* Ends the rule: a counter if 'count', then the verdict. */
static void
put_verdict(struct nftnl_rule *r, bool count, int verdict)
{
    struct nftnl_expr *e;
    if (count) {
        add_expr(r, "counter", &e);
    }
    add_expr(r, "immediate", &e);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
}

static struct nftnl_rule *
new_rule(const struct sec_port *p)
{
    struct nftnl_rule *r = nftnl_rule_alloc();
    nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_BRIDGE);
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, SEC_TABLE);
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, SEC_CHAIN);
    char comment[64];
    snprintf(comment, sizeof comment, SEC_COMMENT"%"PRId64, p->port_id);
    struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);
    nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, comment);
    nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
                        nftnl_udata_buf_len(ud));
    nftnl_udata_buf_free(ud);
    put_iifname(r, p->ifname);
    return r;
}

/* Appends port 'p''s rules to the batch 'b'. */
static void
port_rules(struct mnl_nlmsg_batch *b, uint32_t *seq, const struct sec_port *p)
{
    struct nftnl_rule *rules[64];
    size_t n = 0;
    struct nftnl_rule *r;

    /* Another source MAC. */
    r = rules[n++] = new_rule(p);
    put_payload_cmp(r, NFT_PAYLOAD_LL_HEADER, 6, 6, NULL, p->mac,
                    NFT_CMP_NEQ);
    put_verdict(r, true, NF_DROP);

    for (size_t i = 0; i < p->n_addrs && n + 4 < ARRAY_SIZE(rules); i++) {
        const struct sec_addr *a = &p->addrs[i];
        r = rules[n++] = new_rule(p);
        put_ethertype(r, ETH_P_IP);
        put_payload_cmp(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4,
                        a->mask != UINT32_MAX ? &a->mask : NULL, &a->ip,
                        NFT_CMP_EQ);
        put_verdict(r, false, NF_ACCEPT);

        r = rules[n++] = new_rule(p);
        put_ethertype(r, ETH_P_ARP);
        put_payload_cmp(r, NFT_PAYLOAD_NETWORK_HEADER, 8, 6, NULL, p->mac,
                        NFT_CMP_EQ);
        put_payload_cmp(r, NFT_PAYLOAD_NETWORK_HEADER, 14, 4,
                        a->mask != UINT32_MAX ? &a->mask : NULL, &a->ip,
                        NFT_CMP_EQ);
        put_verdict(r, false, NF_ACCEPT);
    }
    if (p->n_addrs) {
        /* IPv6 passes on the MAC check if the port has IPv6 entries; all
         * else (IPv4 and ARP with any other address, other ethertypes,
         * VLAN-tagged frames) is dropped, as on OVS hypervisors. */
        if (p->has_v6) {
            r = rules[n++] = new_rule(p);
            put_ethertype(r, ETH_P_IPV6);
            put_verdict(r, false, NF_ACCEPT);
        }
        r = rules[n++] = new_rule(p);
        put_verdict(r, true, NF_DROP);
    } else {
        /* The MAC only; VLAN-tagged frames (whose inner source the bridge
         * would not check) dropped. */
        static const uint16_t types[] = { ETH_P_8021Q, ETH_P_8021AD };
        for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
            r = rules[n++] = new_rule(p);
            put_ethertype(r, types[i]);
            put_verdict(r, true, NF_DROP);
        }
    }

    for (size_t i = 0; i < n; i++) {
        struct nlmsghdr *nlh = nftnl_rule_nlmsg_build_hdr(
            mnl_nlmsg_batch_current(b), NFT_MSG_NEWRULE, NFPROTO_BRIDGE,
            NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK, (*seq)++);
        nftnl_rule_nlmsg_build_payload(nlh, rules[i]);
        nftnl_rule_free(rules[i]);
        mnl_nlmsg_batch_next(b);
    }
}

/* Callback for nf_send(): counts acks, keeps the first error. */
struct nf_acks {
    size_t n;
    int error;
};

static int
nf_ack_cb(const struct nlmsghdr *nlh, void *acks_)
{
    struct nf_acks *acks = acks_;
    const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
    acks->n++;
    if (e->error && !acks->error) {
        acks->error = e->error;
    }
    return MNL_CB_OK;
}

/* Sends the batch, whose 'n' messages each asked for an ack, and reads the
 * answers: 0, or the first error.  A failed message aborts the whole
 * transaction (the kernel may then not answer the others): the socket's
 * receive timeout ends the wait. */
static int
nf_send(struct kdp_sec *s, struct mnl_nlmsg_batch *b, size_t n)
{
    if (mnl_socket_sendto(s->nf, mnl_nlmsg_batch_head(b),
                          mnl_nlmsg_batch_size(b)) < 0) {
        return -errno;
    }
    static const mnl_cb_t ctl_cbs[NLMSG_MIN_TYPE] = {
        [NLMSG_ERROR] = nf_ack_cb,
    };
    struct nf_acks acks = { 0, 0 };
    while (acks.n < n && !acks.error) {
        ssize_t len = mnl_socket_recvfrom(s->nf, s->rbuf, SEC_BUF_SIZE);
        if (len < 0) {
            return -errno;
        }
        if (mnl_cb_run2(s->rbuf, len, 0, s->nf_portid, NULL, &acks,
                        CONST_CAST(mnl_cb_t *, ctl_cbs),
                        ARRAY_SIZE(ctl_cbs)) < 0) {
            return -errno;
        }
    }
    /* Whatever else the kernel says about an aborted batch. */
    while (acks.error && recv(mnl_socket_get_fd(s->nf), s->rbuf,
                              SEC_BUF_SIZE, MSG_DONTWAIT) > 0) {
        continue;
    }
    return acks.error;
}

struct rule_dump {
    kdp_sec_drops_cb *cb;
    void *aux;
};

static int
rule_dump_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct rule_dump *d = aux;
    struct nftnl_rule *r = nftnl_rule_alloc();
    if (nftnl_rule_nlmsg_parse(nlh, r) < 0) {
        nftnl_rule_free(r);
        return MNL_CB_OK;
    }
    uint32_t len = 0;
    const char *ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
    int64_t port_id = -1;
    /* The comment TLV: type, length, then the string. */
    if (ud && len > 2 + strlen(SEC_COMMENT)) {
        char comment[64];
        size_t n = MIN(len - 2, sizeof comment - 1);
        memcpy(comment, ud + 2, n);
        comment[n] = '\0';
        if (!strncmp(comment, SEC_COMMENT, strlen(SEC_COMMENT))) {
            port_id = strtoll(comment + strlen(SEC_COMMENT), NULL, 10);
        }
    }
    if (port_id >= 0) {
        struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
        struct nftnl_expr *e;
        while ((e = nftnl_expr_iter_next(it))) {
            const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
            if (name && !strcmp(name, "counter")) {
                d->cb(d->aux, port_id,
                      nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS));
            }
        }
        nftnl_expr_iter_destroy(it);
    }
    nftnl_rule_free(r);
    return MNL_CB_OK;
}

/* Reports every counter rule's packets (one call per rule). */
static int
dump_counters(struct kdp_sec *s, kdp_sec_drops_cb *cb, void *aux)
{
    struct nftnl_rule *r = nftnl_rule_alloc();
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, SEC_TABLE);
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, SEC_CHAIN);
    struct nlmsghdr *nlh = nftnl_rule_nlmsg_build_hdr(
        s->buf, NFT_MSG_GETRULE, NFPROTO_BRIDGE, NLM_F_DUMP, ++s->seq);
    nftnl_rule_nlmsg_build_payload(nlh, r);
    nftnl_rule_free(r);
    struct rule_dump d = { cb, aux };
    /* No table yet (ENOENT): nothing counted. */
    return transact(s, s->nf, s->nf_portid, nlh, rule_dump_cb, &d, ENOENT);
}

static struct sec_base *
base_get(struct kdp_sec *s, int64_t port_id)
{
    struct sec_base *b;
    HMAP_FOR_EACH_WITH_HASH (b, node, hash_uint64(port_id), &s->base) {
        if (b->port_id == port_id) {
            return b;
        }
    }
    b = xzalloc(sizeof *b);
    b->port_id = port_id;
    hmap_insert(&s->base, &b->node, hash_uint64(port_id));
    return b;
}

static void
add_to_base(void *s, int64_t port_id, uint64_t packets)
{
    base_get(s, port_id)->packets += packets;
}

/* Replaces the chain's rules with those of 'ports', in one transaction;
 * the counters of the old rules go to s->base first. */
static int
nf_rebuild(struct kdp_sec *s, const struct sec_port *ports, size_t n)
{
    dump_counters(s, add_to_base, s);

    uint32_t seq = ++s->seq;
    uint32_t first_seq = seq;
    struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(s->buf, SEC_BUF_SIZE);
    nftnl_batch_begin(mnl_nlmsg_batch_current(b), seq++);
    mnl_nlmsg_batch_next(b);

    struct nftnl_table *t = nftnl_table_alloc();
    nftnl_table_set_str(t, NFTNL_TABLE_NAME, SEC_TABLE);
    struct nlmsghdr *nlh = nftnl_table_nlmsg_build_hdr(
        mnl_nlmsg_batch_current(b), NFT_MSG_NEWTABLE, NFPROTO_BRIDGE,
        NLM_F_CREATE | NLM_F_ACK, seq++);
    nftnl_table_nlmsg_build_payload(nlh, t);
    nftnl_table_free(t);
    mnl_nlmsg_batch_next(b);

    struct nftnl_chain *c = nftnl_chain_alloc();
    nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, SEC_TABLE);
    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, SEC_CHAIN);
    nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_BR_PRE_ROUTING);
    nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, -200);
    nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
    nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
    nlh = nftnl_chain_nlmsg_build_hdr(mnl_nlmsg_batch_current(b),
                                      NFT_MSG_NEWCHAIN, NFPROTO_BRIDGE,
                                      NLM_F_CREATE | NLM_F_ACK, seq++);
    nftnl_chain_nlmsg_build_payload(nlh, c);
    nftnl_chain_free(c);
    mnl_nlmsg_batch_next(b);

    /* Flush the chain: a rule deletion without a handle. */
    struct nftnl_rule *r = nftnl_rule_alloc();
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, SEC_TABLE);
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, SEC_CHAIN);
    nlh = nftnl_rule_nlmsg_build_hdr(mnl_nlmsg_batch_current(b),
                                     NFT_MSG_DELRULE, NFPROTO_BRIDGE,
                                     NLM_F_ACK, seq++);
    nftnl_rule_nlmsg_build_payload(nlh, r);
    nftnl_rule_free(r);
    mnl_nlmsg_batch_next(b);

    for (size_t i = 0; i < n; i++) {
        if (mnl_nlmsg_batch_size(b) > SEC_BUF_SIZE - 64 * 1024) {
            VLOG_WARN("too many ports for one nftables batch; %"PRIuSIZE
                      " left without IP filtering", n - i);
            break;
        }
        port_rules(b, &seq, &ports[i]);
    }
    nftnl_batch_end(mnl_nlmsg_batch_current(b), seq++);
    mnl_nlmsg_batch_next(b);
    /* Every message but the batch begin and end asked for an ack. */
    int error = nf_send(s, b, seq - first_seq - 2);
    mnl_nlmsg_batch_stop(b);
    s->seq = seq;
    return error;
}

/* ---- apply -------------------------------------------------------------- */

static const uint8_t *
mac_of(const ProtobufCBinaryData *b)
{
    return b->len == 6 ? b->data : NULL;
}

/* One network's bridge: ARP suppression (neigh_suppress on its VXLAN port,
 * neighbours for its addresses, master FDB entries for its remote MACs)
 * and the removal of every stale neighbour and static master FDB entry
 * ('neighs' and 'fdbs': what the kernel holds).  Returns the number of
 * failed items. */
static int
apply_bridge(struct kdp_sec *s, const Nvo__Network *net,
                  const struct sec_dump *neighs, const struct sec_dump *fdbs,
                  kdp_sec_error_cb *cb, void *aux)
{
    char vx[KDP_IFNAMSIZ], br[KDP_IFNAMSIZ];
    int n_failed = 0, error;
    kdp_vxlan_name(net->vni, vx);
    kdp_bridge_name(net->vni, br);
    int vx_idx = if_nametoindex(vx), br_idx = if_nametoindex(br);
    if (!vx_idx || !br_idx) {
        return 0;               /* No devices: nothing to suppress on. */
    }
    bool on = net->arp_responder;
    static const uint16_t attr = IFLA_BRPORT_NEIGH_SUPPRESS;
    uint8_t value = on;
    error = set_brport(s, vx_idx, &attr, &value, 1);
    if (error) {
        cb(aux, net->vni, "neigh_suppress", error);
        n_failed++;
    }

    /* Wanted neighbours: each address one port of the network claims. */
    size_t n_want = 0;
    struct sec_entry *want = xmalloc((net->n_locals + net->n_remotes + 1)
                                     * sizeof *want);
    for (size_t i = 0; on && i < net->n_locals + net->n_remotes; i++) {
        const char *ip = (i < net->n_locals ? net->locals[i]->ip
                          : net->remotes[i - net->n_locals]->ip);
        const uint8_t *mac = mac_of(i < net->n_locals
                                    ? &net->locals[i]->mac
                                    : &net->remotes[i - net->n_locals]->mac);
        struct in_addr a;
        if (mac && ip && ip_parse(ip, &a.s_addr) && a.s_addr) {
            bool dup = false;
            for (size_t j = 0; j < n_want; j++) {
                if (want[j].ip == a.s_addr) {
                    dup = true;
                    want[j].ifindex = 0;    /* Claimed twice: none. */
                }
            }
            if (!dup) {
                want[n_want].ip = a.s_addr;
                want[n_want].ifindex = br_idx;
                memcpy(want[n_want].mac, mac, 6);
                n_want++;
            }
        }
    }
    for (size_t i = 0; i < neighs->n; i++) {
        const struct sec_entry *e = &neighs->v[i];
        bool wanted = false;
        for (size_t j = 0; e->ifindex == br_idx && j < n_want; j++) {
            wanted |= want[j].ifindex && want[j].ip == e->ip;
        }
        if (e->ifindex == br_idx && !wanted) {
            neighbour(s, br_idx, e->ip, NULL, false);
        }
    }
    for (size_t j = 0; j < n_want; j++) {
        if (want[j].ifindex) {
            error = neighbour(s, br_idx, want[j].ip, want[j].mac, true);
            if (error) {
                cb(aux, net->vni, "neighbour", error);
                n_failed++;
            }
        }
    }
    free(want);

    /* Static master FDB entries in the network's bridge: each local VM's
     * MAC on its port (kdp_sec_apply() added them) and, with suppression,
     * each remote MAC on the VXLAN port.  Any other static entry in the
     * bridge is a stale one of nvo's: a VM deleted, moved away or given
     * another MAC. */
    int *local_idx = xmalloc((net->n_locals + 1) * sizeof *local_idx);
    for (size_t j = 0; j < net->n_locals; j++) {
        const char *iface = net->locals[j]->iface;
        local_idx[j] = iface ? if_nametoindex(iface) : 0;
    }
    for (size_t i = 0; i < fdbs->n; i++) {
        const struct sec_entry *e = &fdbs->v[i];
        bool wanted = false;
        if (e->master != br_idx) {
            continue;
        } else if (e->ifindex == vx_idx) {
            for (size_t j = 0; on && !wanted && j < net->n_remotes; j++) {
                const uint8_t *mac = mac_of(&net->remotes[j]->mac);
                wanted = mac && !memcmp(mac, e->mac, 6);
            }
        } else {
            for (size_t j = 0; !wanted && j < net->n_locals; j++) {
                const uint8_t *mac = mac_of(&net->locals[j]->mac);
                wanted = (local_idx[j] == e->ifindex
                          && mac && !memcmp(mac, e->mac, 6));
            }
        }
        if (!wanted) {
            error = master_fdb(s, e->ifindex, e->mac, false);
            if (error && error != -ENOENT) {
                cb(aux, net->vni, "fdb master removal", error);
                n_failed++;
            }
        }
    }
    free(local_idx);
    for (size_t j = 0; on && j < net->n_remotes; j++) {
        const uint8_t *mac = mac_of(&net->remotes[j]->mac);
        if (mac) {
            error = master_fdb(s, vx_idx, mac, true);
            if (error) {
                cb(aux, net->vni, "fdb master", error);
                n_failed++;
            }
        }
    }
    return n_failed;
}

int
kdp_sec_apply(struct kdp_sec *s, Nvo__Network *const *nets, size_t n,
              bool force, kdp_sec_error_cb *cb, void *aux)
{
    char *sig = signature(nets, n);
    if (!force && s->applied && !strcmp(sig, s->applied)) {
        free(sig);
        return 0;
    }

    size_t n_ports = 0;
    for (size_t i = 0; i < n; i++) {
        n_ports += nets[i]->n_locals;
    }
    struct sec_port *ports = xmalloc((n_ports + 1) * sizeof *ports);
    n_ports = 0;
    int n_failed = 0, error;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < nets[i]->n_locals; j++) {
            struct sec_port *p = &ports[n_ports];
            port_from_proto(nets[i]->locals[j], nets[i]->vni, p);
            if (!p->ifindex) {
                free(p->addrs);
                continue;       /* Reported by the bridge's ADD_PORT. */
            }
            n_ports++;
            static const uint16_t attrs[] = { IFLA_BRPORT_LEARNING,
                                              IFLA_BRPORT_LOCKED };
            static const uint8_t values[] = { 0, 1 };
            error = master_fdb(s, p->ifindex, p->mac, true);
            if (!error) {
                /* Locked only once its own MAC has its entry. */
                error = set_brport(s, p->ifindex, attrs, values, 2);
            }
            if (error) {
                cb(aux, p->vni, p->ifname, error);
                n_failed++;
            }
        }
    }
    error = nf_rebuild(s, ports, n_ports);
    if (error) {
        cb(aux, 0, "nftables", error);
        n_failed++;
    }

    struct sec_dump neighs = { 0, NULL, 0, 0 }, fdbs = { 0, NULL, 0, 0 };
    error = neigh_dump(s, AF_INET, &neighs);
    if (!error) {
        error = neigh_dump(s, AF_BRIDGE, &fdbs);
    }
    if (error) {
        cb(aux, 0, "neighbour dump", error);
        n_failed++;
    } else {
        /* apply_bridge() also removes any static entry on a locked VM port
         * but the VM's own MAC (a MAC the VM could otherwise send from). */
        for (size_t i = 0; i < n; i++) {
            n_failed += apply_bridge(s, nets[i], &neighs, &fdbs, cb, aux);
        }
    }
    for (size_t i = 0; i < n_ports; i++) {
        free(ports[i].addrs);
    }
    free(ports);
    free(neighs.v);
    free(fdbs.v);

    free(s->applied);
    s->applied = n_failed ? NULL : sig;
    if (n_failed) {
        free(sig);
    }
    return n_failed;
}

struct drops_sum {
    struct kdp_sec *s;
    struct hmap sums;           /* Contains struct sec_base. */
};

static void
sum_drops(void *ds_, int64_t port_id, uint64_t packets)
{
    struct drops_sum *ds = ds_;
    struct sec_base *b;
    HMAP_FOR_EACH_WITH_HASH (b, node, hash_uint64(port_id), &ds->sums) {
        if (b->port_id == port_id) {
            b->packets += packets;
            return;
        }
    }
    b = xzalloc(sizeof *b);
    b->port_id = port_id;
    b->packets = packets;
    hmap_insert(&ds->sums, &b->node, hash_uint64(port_id));
}

int
kdp_sec_port_drops(struct kdp_sec *s, kdp_sec_drops_cb *cb, void *aux)
{
    struct drops_sum ds = { s, HMAP_INITIALIZER(&ds.sums) };
    int error = dump_counters(s, sum_drops, &ds);
    struct sec_base *b;
    HMAP_FOR_EACH_POP (b, node, &ds.sums) {
        const struct sec_base *old;
        uint64_t before = 0;
        HMAP_FOR_EACH_WITH_HASH (old, node, hash_uint64(b->port_id),
                                 &s->base) {
            if (old->port_id == b->port_id) {
                before = old->packets;
            }
        }
        if (!error) {
            cb(aux, b->port_id, before + b->packets);
        }
        free(b);
    }
    hmap_destroy(&ds.sums);
    return error;
}
