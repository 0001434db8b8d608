#include <config.h>
#include "agent/agent-dp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent-conn.h"
#include "agent/agent-view.h"
#include "agent/kdp.h"
#include "agent/kdp-report.h"
#include "agent/kdp-sec.h"
#include "agent/kdp-state.h"
#include "lib/errors.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "util.h"

#include "agent/svcnode.h"

VLOG_DEFINE_THIS_MODULE(agent_dp);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* At most this many item errors per ack (plus one summary). */
#define MAX_ACK_ERRORS 64

struct agent_dp {
    enum agent_dp_kind kind;
    struct in6_addr local;      /* Tunnel IP; IPv4: mapped. */
    struct kdp *kdp;            /* Kernel. */
    struct kdp_sec *sec;        /* Kernel: port security, ARP suppression. */
    uint64_t n_snapshots;       /* View's n_snapshots at the last apply. */
    struct svcnode *sn;         /* Service node. */
    uint32_t *sn_vnis;          /* VNIs given to 'sn', sorted. */
    size_t n_sn_vnis;
    bool retry;
};

bool
agent_dp_has_svcnode(void)
{
    return true;
}

struct agent_dp *
agent_dp_create(uv_loop_t *loop OVS_UNUSED, enum agent_dp_kind kind,
                const char *tunnel_ip, char **errmsg)
{
    struct agent_dp *dp = xzalloc(sizeof *dp);
    dp->kind = kind;
    if (kdp_addr_parse(tunnel_ip, &dp->local)
        || (kind == AGENT_DP_SVCNODE && !kdp_addr_is_v4(&dp->local))) {
        *errmsg = xasprintf("%s: %s", tunnel_ip,
                            kind == AGENT_DP_SVCNODE
                            ? "a service node needs an IPv4 tunnel IP"
                            : "not an IPv4 or IPv6 tunnel IP");
        free(dp);
        return NULL;
    }
    int error = 0;
    if (kind == AGENT_DP_KERNEL) {
        dp->kdp = kdp_open(&error);
        if (!dp->kdp) {
            *errmsg = xasprintf("netlink: %s", nvo_strerror(error));
            free(dp);
            return NULL;
        }
        dp->sec = kdp_sec_create(&error);
        if (!dp->sec) {
            *errmsg = xasprintf("netlink (netfilter): %s",
                                nvo_strerror(error));
            kdp_close(dp->kdp);
            free(dp);
            return NULL;
        }
    } else if (kind == AGENT_DP_SVCNODE) {
        dp->sn = svcnode_create(loop, tunnel_ip, KDP_VXLAN_PORT, &error);
        if (!dp->sn) {
            *errmsg = xasprintf("service node on %s:%d: %s", tunnel_ip,
                                KDP_VXLAN_PORT, nvo_strerror(error));
            free(dp);
            return NULL;
        }
    }
    return dp;
}

struct kdp_err_ctx {
    Nvo__Ack *ack;
    size_t n;
};

static void
kdp_error(void *aux, const struct kdp_op *op, int error)
{
    struct kdp_err_ctx *ctx = aux;
    char item[96];
    kdp_op_format(op, item, sizeof item);
    VLOG_WARN_RL(&rl, "VNI %"PRIu32": %s: %s", op->vni, item,
                 nvo_strerror(error));
    if (ctx->n++ < MAX_ACK_ERRORS) {
        agent_ack_add_error(ctx->ack, op->vni, item, error,
                            nvo_strerror(error));
    }
}

static void
sec_error(void *aux, uint32_t vni, const char *what, int error)
{
    struct kdp_err_ctx *ctx = aux;
    VLOG_WARN_RL(&rl, "VNI %"PRIu32": port security %s: %s", vni, what,
                 nvo_strerror(error));
    if (ctx->n++ < MAX_ACK_ERRORS) {
        agent_ack_add_error(ctx->ack, vni, what, error, nvo_strerror(error));
    }
}

static void
apply_kernel(struct agent_dp *dp, const struct agent_view *view,
             Nvo__Ack *ack)
{
    struct kdp_state desired, actual;
    struct kdp_ops ops = { NULL, 0, 0 };
    size_t n_nets, skipped;
    Nvo__Network **nets = agent_view_sorted(view, &n_nets);

    kdp_state_desired(nets, n_nets, &dp->local, kdp_vxlan_mtu(&dp->local),
                      &desired, &skipped);
    if (skipped) {
        agent_ack_add_error(ack, 0, "address family", -EAFNOSUPPORT,
                            kdp_addr_is_v4(&dp->local)
                            ? "VTEPs with IPv6 tunnel IPs skipped: this "
                              "hypervisor's tunnel IP is IPv4"
                            : "VTEPs with IPv4 tunnel IPs skipped: this "
                              "hypervisor's tunnel IP is IPv6");
    }
    int error = kdp_dump(dp->kdp, &dp->local, &actual);
    if (error) {
        VLOG_WARN_RL(&rl, "netlink dump: %s", nvo_strerror(error));
        agent_ack_add_error(ack, 0, "dump", error, nvo_strerror(error));
        dp->retry = true;
        free(nets);
        kdp_state_destroy(&desired);
        kdp_state_destroy(&actual);
        return;
    }
    kdp_diff(&desired, &actual, &ops);
    struct kdp_err_ctx ctx = { ack, 0 };
    int n_failed = ops.n ? kdp_apply(dp->kdp, &dp->local, &ops, kdp_error,
                                     &ctx) : 0;
    if (n_failed >= 0) {
        /* Once the bridges hold their ports: their security, and ARP
         * suppression (again in full after any kernel change). */
        bool full = ops.n > 0 || view->n_snapshots != dp->n_snapshots;
        n_failed += kdp_sec_apply(dp->sec, nets, n_nets, full, sec_error,
                                  &ctx);
    }
    if (n_failed < 0) {
        agent_ack_add_error(ack, 0, "netlink", n_failed,
                            nvo_strerror(n_failed));
    } else if (ctx.n > MAX_ACK_ERRORS) {
        char msg[64];
        snprintf(msg, sizeof msg, "%zu more errors", ctx.n - MAX_ACK_ERRORS);
        agent_ack_add_error(ack, 0, "more", -EIO, msg);
    }
    if (ops.n) {
        VLOG_INFO("revision %"PRId64": %zu kernel changes applied (%d "
                  "failed) for %zu networks", view->revision, ops.n,
                  n_failed, desired.n_nets);
    }
    dp->retry = n_failed != 0;
    dp->n_snapshots = view->n_snapshots;
    free(nets);
    kdp_ops_destroy(&ops);
    kdp_state_destroy(&desired);
    kdp_state_destroy(&actual);
}

static void
apply_svcnode(struct agent_dp *dp, const struct agent_view *view,
              Nvo__Ack *ack)
{
    size_t n_nets;
    Nvo__Network **nets = agent_view_sorted(view, &n_nets);
    uint32_t *vnis = xmalloc((n_nets + 1) * sizeof *vnis);

    for (size_t i = 0; i < n_nets; i++) {
        const Nvo__Network *net = nets[i];
        struct in_addr *vteps = xmalloc((net->n_flood + 1) * sizeof *vteps);
        size_t n = 0;
        for (size_t j = 0; j < net->n_flood; j++) {
            if (ip_parse(net->flood[j], &vteps[n].s_addr)) {
                n++;
            }
        }
        int error = svcnode_set_vni(dp->sn, net->vni, vteps, n);
        if (error) {
            agent_ack_add_error(ack, net->vni, "replication list", error,
                                nvo_strerror(error));
        }
        free(vteps);
        vnis[i] = net->vni;
    }
    /* VNIs no longer served (both lists sorted). */
    size_t j = 0;
    for (size_t i = 0; i < dp->n_sn_vnis; i++) {
        while (j < n_nets && vnis[j] < dp->sn_vnis[i]) {
            j++;
        }
        if (j >= n_nets || vnis[j] != dp->sn_vnis[i]) {
            svcnode_remove_vni(dp->sn, dp->sn_vnis[i]);
        }
    }
    free(dp->sn_vnis);
    dp->sn_vnis = vnis;
    dp->n_sn_vnis = n_nets;
    free(nets);
}

static void
add_drop(Nvo__VniCounters *vc, const char *reason, uint64_t packets)
{
    if (!packets) {
        return;
    }
    Nvo__DropCount *d = xmalloc(sizeof *d);
    nvo__drop_count__init(d);
    d->reason = xstrdup(reason);
    d->packets = packets;
    vc->dropped = xrealloc(vc->dropped, (vc->n_dropped + 1)
                                        * sizeof *vc->dropped);
    vc->dropped[vc->n_dropped++] = d;
}

static void
counter_cb(const struct svcnode_counters *sc, void *hb_)
{
    Nvo__Heartbeat *hb = hb_;
    Nvo__VniCounters *vc = xmalloc(sizeof *vc);
    nvo__vni_counters__init(vc);
    vc->vni = sc->vni == SVCNODE_VNI_NONE ? 0 : sc->vni;
    vc->in_packets = sc->in_packets;
    vc->out_packets = sc->out_packets;
    add_drop(vc, "short", sc->drop_short);
    add_drop(vc, "flags", sc->drop_flags);
    add_drop(vc, "unknown-vni", sc->drop_unknown_vni);
    add_drop(vc, "unknown-source", sc->drop_unknown_source);
    add_drop(vc, "send-error", sc->drop_send_error);
    add_drop(vc, "too-long", sc->drop_too_long);
    hb->counters = xrealloc(hb->counters, (hb->n_counters + 1)
                                          * sizeof *hb->counters);
    hb->counters[hb->n_counters++] = vc;
}

void
agent_dp_apply(struct agent_dp *dp, const struct agent_view *view,
               Nvo__Ack *ack)
{
    switch (dp->kind) {
    case AGENT_DP_KERNEL:
        apply_kernel(dp, view, ack);
        break;
    case AGENT_DP_SVCNODE:
        apply_svcnode(dp, view, ack);
        break;
    case AGENT_DP_OVS:
        break;
    }
}

static void
port_drops_cb(void *hb_, int64_t port_id, uint64_t packets)
{
    Nvo__Heartbeat *hb = hb_;
    Nvo__PortCounters *pc = xmalloc(sizeof *pc);
    nvo__port_counters__init(pc);
    pc->port_id = port_id;
    pc->dropped = packets;
    hb->ports = xrealloc(hb->ports, (hb->n_ports + 1) * sizeof *hb->ports);
    hb->ports[hb->n_ports++] = pc;
}

void
agent_dp_counters(struct agent_dp *dp, Nvo__Heartbeat *hb)
{
    if (dp->kind != AGENT_DP_OVS) {
        hb->underlay_mtu = kdp_underlay_mtu(&dp->local);
    }
    if (dp->sec) {
        int error = kdp_sec_port_drops(dp->sec, port_drops_cb, hb);
        if (error) {
            VLOG_WARN_RL(&rl, "reading port security counters: %s",
                         nvo_strerror(error));
        }
    }
    if (dp->sn) {
        /* VNI 0 in the message stands for "no served VNI". */
        svcnode_foreach_counters(dp->sn, counter_cb, hb);
    }
}

void
agent_dp_report(struct agent_dp *dp, Nvo__StateReport *rep)
{
    int error = -EOPNOTSUPP;
    if (dp->kind == AGENT_DP_KERNEL) {
        error = kdp_report_fill(dp->kdp, &dp->local, rep);
    }
    if (error) {
        VLOG_WARN_RL(&rl, "state report: %s", nvo_strerror(error));
        rep->error = error;
        rep->message = xstrdup(dp->kind == AGENT_DP_KERNEL
                               ? nvo_strerror(error)
                               : "this dataplane does not report its state");
    }
}

bool
agent_dp_needs_retry(const struct agent_dp *dp)
{
    return dp->retry;
}

void
agent_dp_destroy(struct agent_dp *dp)
{
    if (dp) {
        kdp_close(dp->kdp);
        kdp_sec_destroy(dp->sec);
        svcnode_destroy(dp->sn);
        free(dp->sn_vnis);
        free(dp);
    }
}
