/* service.c - the one write path: checks, store write, model update,
 * revision, publish, ?wait=1 (see service.h). */
#include <config.h>
#include "controller/service.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctl.h"
#include "controller/model.h"
#include "controller/store.h"
#include "packets.h"
#include "openvswitch/list.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(service);

/* Hypervisor ids affected by a write (growing array). */
struct svc_ids {
    int64_t *ids;
    size_t n, cap;
};

/* What the writes of one group-commit batch publish, gathered while the
 * store reports them and published once after the last (see
 * write_done()): one view computation per hypervisor per batch, not per
 * write. */
struct svc_pending {
    bool gathering;             /* Within write_done(). */
    bool any;                   /* Something to publish. */
    struct svc_ids hvs;
    struct svc_ids nets;
    bool all_nets;
    int64_t revision;           /* The latest write's. */
    struct ovs_list waits;      /* struct nvo_svc_call, by 'node', whose
                                 * ?wait=1 starts once that is published. */
};

struct nvo_svc {
    struct nvo_ctl *ctl;
    struct ovs_list calls;      /* Contains struct nvo_svc_call. */
    size_t n_committing;
    struct svc_pending pending;
};

/* States of a call (see service.h): COMMITTING (its write is in the
 * store) -> WAITING (?wait=1, for confirmations) -> freed. */
enum svc_call_state {
    CALL_COMMITTING,
    CALL_WAITING,
};

struct nvo_svc_call {
    struct ovs_list node;       /* In nvo_svc.calls. */
    struct nvo_svc *svc;
    enum svc_call_state state;
    struct nvo_store_write write;
    bool wait;
    nvo_svc_cb *cb;             /* NULL once cancelled. */
    void *aux;
    struct nvo_ctl_waiter *waiter;  /* WAITING only. */
    int64_t revision;
    struct svc_ids wait_ids;    /* Until its waiter starts. */
    struct ovs_list wait_node;  /* In svc_pending.waits until then. */
};

/* A failed check: kind, code and message (owned). */
struct svc_error {
    enum nvo_svc_status status;
    const char *code;
    char *message;
};

static void svc_error_set(struct svc_error *, enum nvo_svc_status,
                          const char *code, const char *fmt, ...)
    OVS_PRINTF_FORMAT(4, 5);

static void
svc_error_set(struct svc_error *e, enum nvo_svc_status status,
              const char *code, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    e->status = status;
    e->code = code;
    free(e->message);
    e->message = xvasprintf(fmt, args);
    va_end(args);
}

/* Calls 'cb' with the final error 'e' and frees its message. */
static void
report_error(nvo_svc_cb *cb, void *aux, struct svc_error *e,
             int64_t revision)
{
    struct nvo_svc_result r = {
        .status = e->status,
        .final = true,
        .code = e->code,
        .message = e->message,
        .revision = revision,
    };
    cb(aux, &r);
    free(e->message);
    e->message = NULL;
}

/* Pre-checks against the model.  Each returns true, having filled '*e',
 * if the write would clash. */

static const struct nvo_network *
network_by_vni(const struct nvo_model *m, uint32_t vni)
{
    const struct nvo_network *net;
    HMAP_FOR_EACH (net, id_node, &m->networks_by_id) {
        if (net->vni == vni) {
            return net;
        }
    }
    return NULL;
}

static bool
network_clashes(const struct nvo_model *m, const char *name, uint32_t vni,
                struct svc_error *e)
{
    if (nvo_model_network_by_name(m, name)) {
        svc_error_set(e, NVO_SVC_CONFLICT, "name_in_use",
                      "network %s already exists", name);
        return true;
    }
    const struct nvo_network *other = network_by_vni(m, vni);
    if (other) {
        svc_error_set(e, NVO_SVC_CONFLICT, "vni_in_use", "VNI %"PRIu32" is "
                      "already used by network %s", vni, other->name);
        return true;
    }
    return false;
}

static bool
hv_clashes(const struct nvo_model *m, const char *name, const char *ip,
           struct svc_error *e)
{
    if (nvo_model_hv_by_name(m, name)) {
        svc_error_set(e, NVO_SVC_CONFLICT, "name_in_use",
                      "hypervisor %s already exists", name);
        return true;
    }
    const struct nvo_hypervisor *other = nvo_model_hv_by_tunnel_ip(m, ip);
    if (other) {
        svc_error_set(e, NVO_SVC_CONFLICT, "tunnel_ip_in_use", "tunnel IP %s "
                      "is already used by hypervisor %s", ip, other->name);
        return true;
    }
    return false;
}

static bool
mac_clashes(const struct nvo_model *m, const struct nvo_network *net,
            const struct eth_addr *mac, struct svc_error *e)
{
    const struct nvo_port *p = nvo_model_port_by_mac(m, net, *mac);
    if (p) {
        svc_error_set(e, NVO_SVC_CONFLICT, "mac_in_use", "MAC "
                      ETH_ADDR_FMT" is already in network %s (port "
                      "%"PRId64")", ETH_ADDR_ARGS(*mac), net->name, p->id);
        return true;
    }
    return false;
}

/* Interface 'iface' on 'hv' is used by a port other than 'self'. */
static bool
iface_clashes(const struct nvo_model *m, const struct nvo_hypervisor *hv,
              const char *iface, const struct nvo_port *self,
              struct svc_error *e)
{
    const struct nvo_port *p = nvo_model_port_by_iface(m, hv, iface);
    if (p && p != self) {
        svc_error_set(e, NVO_SVC_CONFLICT, "iface_in_use", "interface %s "
                      "on %s is already port %"PRId64, iface, hv->name,
                      p->id);
        return true;
    }
    return false;
}

/* True (with '*e' set) if 'hv' cannot carry 'net''s encapsulation: kernel
 * hypervisors tunnel VXLAN only (this kernel has no GRE or Geneve
 * modules, and nvo-agent programs VXLAN devices). */
static bool
encap_unsupported(const struct nvo_network *net,
                  const struct nvo_hypervisor *hv, struct svc_error *e)
{
    if (net->encap != NVO_ENCAP_VXLAN && hv->dataplane != NVO_DP_OVS) {
        svc_error_set(e, NVO_SVC_CONFLICT, "encap_unsupported",
                      "network %s uses %s: only OVS hypervisors carry it, "
                      "and %s is a kernel hypervisor (VXLAN only)",
                      net->name, nvo_encap_to_string(net->encap), hv->name);
        return true;
    }
    return false;
}

/* The checks below that the store cannot enforce (the address family of
 * a network's members, service nodes' IPv4 only) also count the writes
 * still committing: the model holds committed writes only, so two writes
 * in flight (e.g. pipelined on one connection and read ahead,
 * rest-pipeline.h) would otherwise each pass against it and together
 * break the rule.  A write that then fails made another one fail its check
 * needlessly: rare, and a retry passes. */

/* If 'call' is still committing and puts a port into 'net' (a port create
 * or move), returns the hypervisor it puts it on, with '*port_id' the
 * moved port's id (0 for a create); else NULL. */
static const struct nvo_hypervisor *
inflight_member(const struct nvo_svc *s, const struct nvo_svc_call *call,
                const struct nvo_network *net, int64_t *port_id)
{
    const struct nvo_model *m = s->ctl->model;
    const struct nvo_store_op *op = &call->write.op;

    if (call->state != CALL_COMMITTING) {
        return NULL;
    }
    if (op->type == NVO_STORE_ADD_PORT) {
        if (op->port.net_id != net->id) {
            return NULL;
        }
        *port_id = 0;
    } else if (op->type == NVO_STORE_MOVE_PORT) {
        const struct nvo_port *p = nvo_model_port_by_id(m, op->id);
        if (!p || p->network != net) {
            return NULL;
        }
        *port_id = op->id;
    } else {
        return NULL;
    }
    return nvo_model_hv_by_id(m, op->port.hv_id);
}

static bool
is_v6(const struct nvo_hypervisor *hv)
{
    return strchr(hv->tunnel_ip, ':') != NULL;
}

static void
family_error(struct svc_error *e, const struct nvo_network *net,
             const struct nvo_hypervisor *other,
             const struct nvo_hypervisor *hv)
{
    bool v6 = is_v6(hv);
    svc_error_set(e, NVO_SVC_CONFLICT, "mixed_underlay",
                  "network %s runs over an IPv%d underlay (%s has %s); "
                  "%s's tunnel IP %s is IPv%d", net->name, v6 ? 4 : 6,
                  other->name, other->tunnel_ip, hv->name, hv->tunnel_ip,
                  v6 ? 6 : 4);
}

/* True (with '*e' set) if 'hv''s tunnel IP is of another address family
 * than those of the hypervisors already in 'net', or joining it in a write
 * still committing (VTEPs of one network must reach each other: IPv4 and
 * IPv6 underlays do not mix). */
static bool
family_mixed(const struct nvo_svc *s, const struct nvo_network *net,
             const struct nvo_hypervisor *hv, const struct nvo_port *self,
             struct svc_error *e)
{
    /* By hypervisor, not by port: a VM start costs the network's
     * hypervisors, not its ports.  A member counts if it has a port in
     * 'net' other than 'self'. */
    const struct nvo_net_member *mb;
    HMAP_FOR_EACH (mb, node, &net->members) {
        const struct nvo_hypervisor *other = mb->hv;
        if (self && other == self->hypervisor && mb->n_ports <= 1) {
            continue;
        }
        if (is_v6(other) != is_v6(hv)) {
            family_error(e, net, other, hv);
            return true;
        }
    }
    const struct nvo_svc_call *call;
    LIST_FOR_EACH (call, node, &s->calls) {
        int64_t id;
        const struct nvo_hypervisor *other = inflight_member(s, call, net,
                                                             &id);
        if (other && !(self && id == self->id) && is_v6(other) != is_v6(hv)) {
            family_error(e, net, other, hv);
            return true;
        }
    }
    return false;
}

/* True (with '*e' set) if 'net' floods through a service node (bum
 * 'bum') and 'hv''s tunnel IP is IPv6: service nodes replicate over IPv4
 * only (agent/svcnode.h), so such a hypervisor would flood into nothing. */
static bool
bum_unsupported(const struct nvo_network *net, enum nvo_bum_mode bum,
                const struct nvo_hypervisor *hv, struct svc_error *e)
{
    if (bum == NVO_BUM_SERVICE_NODE && strchr(hv->tunnel_ip, ':')) {
        svc_error_set(e, NVO_SVC_CONFLICT, "service_node_ipv4",
                      "network %s floods through a service node, and "
                      "service nodes replicate over IPv4 only; %s's tunnel "
                      "IP %s is IPv6 (use \"bum\": \"head-end\")",
                      net->name, hv->name, hv->tunnel_ip);
        return true;
    }
    return false;
}

/* True (with '*e' set) if 'hv' cannot join 'net' because of its flooding:
 * bum_unsupported() with 'net''s mode, or with service-node if a patch of
 * 'net' still committing sets that. */
static bool
bum_unsupported_now(const struct nvo_svc *s, const struct nvo_network *net,
                    const struct nvo_hypervisor *hv, struct svc_error *e)
{
    if (bum_unsupported(net, net->bum, hv, e)) {
        return true;
    }
    const struct nvo_svc_call *call;
    LIST_FOR_EACH (call, node, &s->calls) {
        const struct nvo_store_op *op = &call->write.op;
        if (call->state == CALL_COMMITTING
            && op->type == NVO_STORE_SET_NETWORK && op->id == net->id
            && bum_unsupported(net, op->net.bum, hv, e)) {
            return true;
        }
    }
    return false;
}

/* A store conflict on 'op': runs the pre-check again against the model,
 * which now holds the writes committed before 'op', to name the clash. */
static bool
explain_conflict(const struct nvo_model *m, const struct nvo_store_op *op,
                 struct svc_error *e)
{
    switch (op->type) {
    case NVO_STORE_ADD_NETWORK:
        return network_clashes(m, op->net.name, op->net.vni, e);
    case NVO_STORE_ADD_HV:
        return hv_clashes(m, op->hv.name, op->hv.tunnel_ip, e);
    case NVO_STORE_ADD_PORT: {
        const struct nvo_network *net = nvo_model_network_by_id(
            m, op->port.net_id);
        const struct nvo_hypervisor *hv = nvo_model_hv_by_id(
            m, op->port.hv_id);
        struct eth_addr mac;
        return ((net && eth_addr_from_string(op->port.mac, &mac)
                 && mac_clashes(m, net, &mac, e))
                || (hv && iface_clashes(m, hv, op->port.iface, NULL, e)));
    }
    case NVO_STORE_MOVE_PORT: {
        const struct nvo_hypervisor *hv = nvo_model_hv_by_id(
            m, op->port.hv_id);
        return hv && iface_clashes(m, hv, op->port.iface,
                                   nvo_model_port_by_id(m, op->id), e);
    }
    case NVO_STORE_SET_NETWORK:
    case NVO_STORE_DEL_NETWORK:
    case NVO_STORE_DEL_HV:
    case NVO_STORE_DEL_PORT:
        break;
    }
    return false;
}

/* Maps the store's error for 'w' to '*e'. */
static void
store_error(const struct nvo_svc *s, const struct nvo_store_write *w,
            struct svc_error *e)
{
    const char *msg = w->errmsg ? w->errmsg : "";
    switch (w->error) {
    case -EEXIST:
        if (!explain_conflict(s->ctl->model, &w->op, e)) {
            svc_error_set(e, NVO_SVC_CONFLICT, "conflict", "conflicts with "
                          "an existing row (%s)", msg);
        }
        break;
    case -ENOTEMPTY:
        svc_error_set(e, NVO_SVC_CONFLICT, "in_use", "still in use by ports");
        break;
    case -ENOENT:
        svc_error_set(e, NVO_SVC_NOT_FOUND, "not_found", "no such object");
        break;
    case -EINVAL:
        svc_error_set(e, NVO_SVC_INVALID, "invalid", "rejected by the store "
                      "(%s)", msg);
        break;
    case -EAGAIN:
        svc_error_set(e, NVO_SVC_UNAVAILABLE, "unavailable", "the store "
                      "cannot take writes now: %s", msg);
        break;
    case -ENOSPC:
        svc_error_set(e, NVO_SVC_STORAGE_FULL, "storage_full", "the disk "
                      "of the store is full (%s): nothing was written; retry "
                      "once there is space again", msg);
        break;
    default:
        svc_error_set(e, NVO_SVC_FAILED, "store_error", "the store failed: "
                      "%s", msg);
        break;
    }
}

static void
ids_add(struct svc_ids *ids, int64_t id)
{
    if (ids->n >= ids->cap) {
        ids->ids = x2nrealloc(ids->ids, &ids->cap, sizeof *ids->ids);
    }
    ids->ids[ids->n++] = id;
}

static void
ids_add_network(struct nvo_ctl *ctl, struct svc_ids *ids,
                const struct nvo_network *net)
{
    nvo_ctl_network_hvs(ctl, net, &ids->ids, &ids->n, &ids->cap);
}

/* nvo_ctl_publish(), or, within write_done(), its arguments added to what
 * the batch publishes. */
static void
svc_publish(struct nvo_svc *s, const int64_t *hv_ids, size_t n,
            const int64_t *net_ids, size_t n_nets, int64_t revision)
{
    struct svc_pending *pd = &s->pending;
    if (!pd->gathering) {
        nvo_ctl_publish(s->ctl, hv_ids, n, net_ids, n_nets, revision);
        return;
    }
    pd->any = true;
    pd->revision = MAX(pd->revision, revision);
    for (size_t i = 0; i < n; i++) {
        ids_add(&pd->hvs, hv_ids[i]);
    }
    if (n_nets == NVO_CTL_ALL_NETS) {
        pd->all_nets = true;
    } else {
        for (size_t i = 0; i < n_nets; i++) {
            ids_add(&pd->nets, net_ids[i]);
        }
    }
}

static void svc_publish_pending(struct nvo_svc *);

/* Networks and hypervisors: published at once (after what the batch
 * gathered so far), as their answers show what the core holds for them
 * (e.g. a new hypervisor's required revision).  Only port writes, the
 * many, wait for the end of their batch. */
static void
svc_publish_now(struct nvo_svc *s, const int64_t *hv_ids, size_t n,
                const int64_t *net_ids, size_t n_nets, int64_t revision)
{
    svc_publish_pending(s);
    nvo_ctl_publish(s->ctl, hv_ids, n, net_ids, n_nets, revision);
}

/* Publishes what the batch gathered, at its latest revision (each
 * hypervisor then has to confirm that one, which covers every write of
 * the batch that affected it). */
static void
svc_publish_pending(struct nvo_svc *s)
{
    struct svc_pending *pd = &s->pending;
    if (pd->any) {
        nvo_ctl_publish(s->ctl, pd->hvs.ids, pd->hvs.n, pd->nets.ids,
                        pd->all_nets ? NVO_CTL_ALL_NETS : pd->nets.n,
                        pd->revision);
    }
    pd->any = false;
    pd->all_nets = false;
    pd->hvs.n = pd->nets.n = 0;
}

/* Applies the committed 'op' at 'revision' to the model, sets the model's
 * revision and publishes to every affected hypervisor, whose ids it adds
 * to 'ids'.  Points 'r''s object at the changed object.  Returns false if
 * the model cannot apply it (it disagrees with the store: logged). */
static bool
apply(struct nvo_svc *s, const struct nvo_store_op *op, int64_t revision,
      struct svc_ids *ids, struct nvo_svc_result *r)
{
    struct nvo_ctl *ctl = s->ctl;
    struct nvo_model *m = ctl->model;
    struct nvo_network *net = NULL;
    struct nvo_hypervisor *hv = NULL;
    struct nvo_port *p = NULL;
    int64_t id = op->id;

    switch (op->type) {
    case NVO_STORE_ADD_NETWORK:
        net = nvo_model_add_network(m, id, op->net.name, op->net.vni,
                                    op->net.bum, revision);
        nvo_model_set_encap(m, net, op->net.encap, revision);
        nvo_model_set_arp_responder(m, net, op->net.arp_responder, revision);
        nvo_model_set_mtu(m, net, op->net.mtu, revision);
        m->revision = revision;
        /* No ports yet: only service nodes may care (nvo_ctl_publish()
         * always re-evaluates them). */
        svc_publish_now(s, NULL, 0, &id, 1, revision);
        r->network = net;
        return true;

    case NVO_STORE_SET_NETWORK:
        net = nvo_model_network_by_id(m, id);
        if (!net) {
            break;
        }
        /* Every hypervisor of the network, and the service node before
         * and after. */
        ids_add_network(ctl, ids, net);
        nvo_model_set_bum(m, net, op->net.bum, revision);
        nvo_model_set_arp_responder(m, net, op->net.arp_responder, revision);
        nvo_model_set_mtu(m, net, op->net.mtu, revision);
        m->revision = revision;
        ids_add_network(ctl, ids, net);
        svc_publish_now(s, ids->ids, ids->n, &id, 1, revision);
        r->network = net;
        return true;

    case NVO_STORE_DEL_NETWORK:
        net = nvo_model_network_by_id(m, id);
        if (!net || net->n_ports) {
            break;
        }
        ids_add_network(ctl, ids, net);
        nvo_model_remove_network(m, net);
        m->revision = revision;
        svc_publish_now(s, ids->ids, ids->n, &id, 1, revision);
        return true;

    case NVO_STORE_ADD_HV:
        hv = nvo_model_add_hv(m, id, op->hv.name, op->hv.tunnel_ip,
                              op->hv.dataplane, op->hv.role, op->hv.ovsdb,
                              revision);
        m->revision = revision;
        ids_add(ids, id);
        svc_publish_now(s, &id, 1, NULL, NVO_CTL_ALL_NETS, revision);
        r->hv = hv;
        return true;

    case NVO_STORE_DEL_HV: {
        hv = nvo_model_hv_by_id(m, id);
        if (!hv || hv->n_ports) {
            break;
        }
        enum nvo_dataplane dp = hv->dataplane;
        bool was_sn = hv->role == NVO_ROLE_SERVICE_NODE;
        /* What earlier writes of the batch changed goes out first. */
        svc_publish_pending(s);
        nvo_model_remove_hv(m, hv);
        m->revision = revision;
        nvo_ctl_forget_hv(ctl, id, dp);
        ids_add(ids, id);
        if (was_sn) {
            /* Like a failed node: its networks move to another one at
             * once, or hypervisors would keep flooding to a node that is
             * gone. */
            nvo_ctl_replace_service_nodes(ctl, &id, 1, revision);
        } else {
            nvo_ctl_publish(ctl, &id, 1, NULL, NVO_CTL_ALL_NETS, revision);
        }
        return true;
    }

    case NVO_STORE_ADD_PORT: {
        net = nvo_model_network_by_id(m, op->port.net_id);
        hv = nvo_model_hv_by_id(m, op->port.hv_id);
        struct eth_addr mac;
        if (!net || !hv || !eth_addr_from_string(op->port.mac, &mac)) {
            break;
        }
        p = nvo_model_add_port(m, id, op->port.vm, net, hv, mac, op->port.ip,
                               op->port.iface, revision);
        nvo_model_set_port_allowed_str(m, p, op->port.allowed);
        m->revision = revision;
        /* The network's hypervisors after the write: those before and
         * 'hv' (a port's network does not choose its service node). */
        ids_add_network(ctl, ids, net);
        svc_publish(s, ids->ids, ids->n, &net->id, 1, revision);
        r->port = p;
        return true;
    }

    case NVO_STORE_MOVE_PORT:
        p = nvo_model_port_by_id(m, id);
        hv = nvo_model_hv_by_id(m, op->port.hv_id);
        if (!p || !hv) {
            break;
        }
        net = p->network;
        ids_add_network(ctl, ids, net);
        nvo_model_move_port(m, p, hv, op->port.iface, revision);
        m->revision = revision;
        ids_add_network(ctl, ids, net);
        svc_publish(s, ids->ids, ids->n, &net->id, 1, revision);
        r->port = p;
        return true;

    case NVO_STORE_DEL_PORT: {
        p = nvo_model_port_by_id(m, id);
        if (!p) {
            break;
        }
        net = p->network;
        int64_t net_id = net->id;
        /* The network's hypervisors before the write: those after, and
         * the port's if it was its last there. */
        ids_add_network(ctl, ids, net);
        nvo_model_remove_port(m, p);
        m->revision = revision;
        svc_publish(s, ids->ids, ids->n, &net_id, 1, revision);
        return true;
    }
    }

    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    VLOG_ERR_RL(&rl, "store revision %"PRId64" (%s of row %"PRId64") does "
                "not fit the model; restart the controller to reload it",
                revision, nvo_store_op_type_to_string(op->type), id);
    m->revision = MAX(m->revision, revision);
    return false;
}

/* For a committed 'op' that a reloaded model already holds (store.h,
 * "Load"): points 'r''s object at it if it still exists and, the
 * hypervisors it affected being unknown now, adds every hypervisor to
 * 'ids'. */
static void
reloaded(struct nvo_svc *s, const struct nvo_store_op *op,
         struct svc_ids *ids, struct nvo_svc_result *r)
{
    struct nvo_model *m = s->ctl->model;

    switch (op->type) {
    case NVO_STORE_ADD_NETWORK:
    case NVO_STORE_SET_NETWORK:
        r->network = nvo_model_network_by_id(m, op->id);
        break;
    case NVO_STORE_ADD_HV:
        r->hv = nvo_model_hv_by_id(m, op->id);
        break;
    case NVO_STORE_ADD_PORT:
    case NVO_STORE_MOVE_PORT:
        r->port = nvo_model_port_by_id(m, op->id);
        break;
    case NVO_STORE_DEL_NETWORK:
    case NVO_STORE_DEL_HV:
    case NVO_STORE_DEL_PORT:
        break;
    }
    const struct nvo_hypervisor *hv;
    HMAP_FOR_EACH (hv, id_node, &m->hvs_by_id) {
        ids_add(ids, hv->id);
    }
}

static void
call_free(struct nvo_svc_call *call)
{
    ovs_list_remove(&call->node);
    if (!ovs_list_is_empty(&call->wait_node)) {
        ovs_list_remove(&call->wait_node);
    }
    free(call->wait_ids.ids);
    nvo_store_write_uninit(&call->write);
    free(call);
}

static void
wait_done(void *call_, bool ok, const char *error)
{
    struct nvo_svc_call *call = call_;
    struct nvo_svc *s = call->svc;
    call->waiter = NULL;
    if (ok) {
        struct nvo_svc_result r = {
            .status = NVO_SVC_OK,
            .final = true,
            .revision = call->revision,
        };
        call->cb(call->aux, &r);
    } else if (error) {
        struct svc_error e = { .message = NULL };
        svc_error_set(&e, NVO_SVC_APPLY_FAILED, "apply_failed",
                      "committed at revision %"PRId64" but %s", call->revision,
                      error);
        report_error(call->cb, call->aux, &e, call->revision);
    } else {
        struct svc_error e = { .message = NULL };
        svc_error_set(&e, NVO_SVC_TIMEOUT, "timeout", "committed at revision "
                      "%"PRId64" but not confirmed by every affected "
                      "hypervisor within %"PRIu64" ms", call->revision,
                      s->ctl->wait_timeout_ms);
        report_error(call->cb, call->aux, &e, call->revision);
    }
    call_free(call);
}

/* Starts the ?wait=1 of the calls whose writes were just published. */
static void
start_waits(struct nvo_svc *s)
{
    struct nvo_svc_call *call;
    LIST_FOR_EACH_POP (call, wait_node, &s->pending.waits) {
        ovs_list_init(&call->wait_node);
        struct svc_ids ids = call->wait_ids;
        memset(&call->wait_ids, 0, sizeof call->wait_ids);
        struct nvo_ctl_waiter *waiter = nvo_ctl_wait(
            s->ctl, ids.ids, ids.n, call->revision, s->ctl->wait_timeout_ms,
            wait_done, call);
        if (waiter) {
            /* Not done yet (else 'call' is gone). */
            call->waiter = waiter;
        }
        free(ids.ids);
    }
}

static void write_done__(struct nvo_store_write *);

/* The store completed 'w' (commit order).  While more writes of the same
 * batch follow ('w->more': their callbacks come next, before anything
 * else runs), what each publishes is gathered and the ?wait=1 of its call
 * held back; after the last, the batch is published once and the waits
 * start.  A waiter therefore never sees a hypervisor before it was handed
 * the write's revision (or a later one). */
static void
write_done(struct nvo_store_write *w)
{
    struct nvo_svc_call *call = w->aux;
    struct nvo_svc *s = call->svc;
    bool more = w->more;

    s->pending.gathering = true;
    write_done__(w);            /* May free 'call' and 'w'. */
    s->pending.gathering = false;
    if (!more) {
        svc_publish_pending(s);
        start_waits(s);
    }
}

static void
write_done__(struct nvo_store_write *w)
{
    struct nvo_svc_call *call = w->aux;
    struct nvo_svc *s = call->svc;

    s->n_committing--;
    if (w->error) {
        if (call->cb) {
            struct svc_error e = { .message = NULL };
            store_error(s, w, &e);
            report_error(call->cb, call->aux, &e, 0);
        }
        call_free(call);
        return;
    }

    struct svc_ids ids = { NULL, 0, 0 };
    struct nvo_svc_result r = {
        .status = NVO_SVC_OK,
        .revision = w->revision,
    };
    if (w->revision <= s->ctl->model->revision) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
        VLOG_INFO_RL(&rl, "store revision %"PRId64" (%s of row %"PRId64
                     ") is already in the reloaded model", w->revision,
                     nvo_store_op_type_to_string(w->op.type), w->op.id);
        reloaded(s, &w->op, &ids, &r);
    } else if (!apply(s, &w->op, w->revision, &ids, &r)) {
        struct svc_error e = { .message = NULL };
        svc_error_set(&e, NVO_SVC_FAILED, "store_error", "committed at "
                      "revision %"PRId64" but the controller's model "
                      "disagrees with the store", w->revision);
        if (call->cb) {
            report_error(call->cb, call->aux, &e, w->revision);
        }
        free(e.message);
        call_free(call);
        free(ids.ids);
        return;
    }
    if (!call->cb) {
        call_free(call);
    } else if (!call->wait) {
        r.final = true;
        call->cb(call->aux, &r);
        call_free(call);
    } else {
        call->cb(call->aux, &r);
        if (!call->cb) {        /* Cancelled in the callback. */
            call_free(call);
        } else {
            /* The wait starts once the batch is published
             * (start_waits()). */
            call->state = CALL_WAITING;
            call->revision = w->revision;
            call->wait_ids = ids;
            memset(&ids, 0, sizeof ids);
            ovs_list_push_back(&s->pending.waits, &call->wait_node);
        }
    }
    free(ids.ids);
}

/* Allocates a call for a write of 'type' (the caller fills call->write.op
 * and then calls submit()). */
static struct nvo_svc_call *
call_new(struct nvo_svc *s, enum nvo_store_op_type type, bool wait,
         nvo_svc_cb *cb, void *aux)
{
    struct nvo_svc_call *call = xzalloc(sizeof *call);
    call->svc = s;
    call->state = CALL_COMMITTING;
    call->wait = wait;
    call->cb = cb;
    call->aux = aux;
    ovs_list_init(&call->wait_node);
    nvo_store_write_init(&call->write, type, write_done, call);
    ovs_list_push_back(&s->calls, &call->node);
    return call;
}

static struct nvo_svc_call *
submit(struct nvo_svc_call *call)
{
    call->svc->n_committing++;
    nvo_store_submit(call->svc->ctl->store, &call->write);
    return call;
}

/* Answers a failed check: calls 'cb' at once; returns NULL. */
static struct nvo_svc_call *check_failed(nvo_svc_cb *, void *aux,
                                         enum nvo_svc_status,
                                         const char *code,
                                         const char *fmt, ...)
    OVS_PRINTF_FORMAT(5, 6);

static struct nvo_svc_call *
check_failed(nvo_svc_cb *cb, void *aux, enum nvo_svc_status status,
             const char *code, const char *fmt, ...)
{
    struct svc_error e = { .status = status, .code = code };
    va_list args;
    va_start(args, fmt);
    e.message = xvasprintf(fmt, args);
    va_end(args);
    report_error(cb, aux, &e, 0);
    return NULL;
}

/* Answers the clash in 'e'; returns NULL. */
static struct nvo_svc_call *
clashed(nvo_svc_cb *cb, void *aux, struct svc_error *e)
{
    report_error(cb, aux, e, 0);
    return NULL;
}

struct nvo_svc_call *
nvo_svc_network_create(struct nvo_svc *s, const struct nvo_net_req *rq,
                       bool wait, nvo_svc_cb *cb, void *aux)
{
    struct nvo_net_valid v;
    struct svc_error e = { .message = NULL };

    const char *why = nvo_validate_net(rq, &v);
    if (why) {
        return check_failed(cb, aux, NVO_SVC_INVALID, "invalid", "%s", why);
    }
    if (network_clashes(s->ctl->model, rq->name, v.vni, &e)) {
        return clashed(cb, aux, &e);
    }
    struct nvo_svc_call *call = call_new(s, NVO_STORE_ADD_NETWORK, wait, cb,
                                         aux);
    call->write.op.net.name = xstrdup(rq->name);
    call->write.op.net.vni = v.vni;
    call->write.op.net.bum = v.bum;
    call->write.op.net.encap = v.encap;
    call->write.op.net.arp_responder = v.arp_responder;
    call->write.op.net.mtu = v.mtu;
    return submit(call);
}

struct nvo_svc_call *
nvo_svc_network_patch(struct nvo_svc *s, const char *name,
                      const struct nvo_net_patch *rq, bool wait,
                      nvo_svc_cb *cb, void *aux)
{
    const struct nvo_network *net = nvo_model_network_by_name(s->ctl->model,
                                                              name);
    enum nvo_bum_mode bum;

    if (!net) {
        return check_failed(cb, aux, NVO_SVC_NOT_FOUND, "not_found",
                            "no network named %s", name);
    }
    if ((rq->name && strcmp(rq->name, net->name))
        || (rq->has_vni && rq->vni != net->vni)
        || (rq->encap && strcmp(rq->encap, nvo_encap_to_string(net->encap)))) {
        return check_failed(cb, aux, NVO_SVC_INVALID, "immutable",
                            "only 'bum', 'arp_responder' and 'mtu' can be "
                            "changed; create a new network instead");
    }
    if (!rq->bum && !rq->has_arp_responder && !rq->has_mtu) {
        return check_failed(cb, aux, NVO_SVC_INVALID, "invalid",
                            "give 'bum', 'arp_responder' and/or 'mtu'");
    }
    bum = net->bum;
    if (rq->bum && nvo_bum_mode_from_string(rq->bum, &bum)) {
        return check_failed(cb, aux, NVO_SVC_INVALID, "invalid",
                            "'bum' must be \"head-end\" or \"service-node\"");
    }
    if (rq->has_mtu && (rq->mtu < NVO_MTU_MIN || rq->mtu > NVO_MTU_MAX)) {
        return check_failed(cb, aux, NVO_SVC_INVALID, "invalid",
                            "'mtu' must be from 576 to 9000");
    }
    const struct nvo_port *p;
    LIST_FOR_EACH (p, net_node, &net->ports) {
        struct svc_error e = { .message = NULL };
        if (rq->bum && bum_unsupported(net, bum, p->hypervisor, &e)) {
            return clashed(cb, aux, &e);
        }
    }
    const struct nvo_svc_call *other;
    LIST_FOR_EACH (other, node, &s->calls) {
        int64_t id;
        const struct nvo_hypervisor *hv = (rq->bum
                                           ? inflight_member(s, other, net,
                                                             &id)
                                           : NULL);
        struct svc_error e = { .message = NULL };
        if (hv && bum_unsupported(net, bum, hv, &e)) {
            return clashed(cb, aux, &e);
        }
    }
    struct nvo_svc_call *call = call_new(s, NVO_STORE_SET_NETWORK, wait,
                                         cb, aux);
    call->write.op.id = net->id;
    call->write.op.net.bum = bum;
    call->write.op.net.arp_responder = (rq->has_arp_responder
                                        ? rq->arp_responder
                                        : net->arp_responder);
    call->write.op.net.mtu = rq->has_mtu ? rq->mtu : net->mtu;
    return submit(call);
}

struct nvo_svc_call *
nvo_svc_network_delete(struct nvo_svc *s, const char *name, bool wait,
                       nvo_svc_cb *cb, void *aux)
{
    const struct nvo_network *net = nvo_model_network_by_name(s->ctl->model,
                                                              name);
    if (!net) {
        return check_failed(cb, aux, NVO_SVC_NOT_FOUND, "not_found",
                            "no network named %s", name);
    }
    if (net->n_ports) {
        return check_failed(cb, aux, NVO_SVC_CONFLICT, "in_use",
                            "network %s still has %zu port(s)", net->name,
                            net->n_ports);
    }
    struct nvo_svc_call *call = call_new(s, NVO_STORE_DEL_NETWORK, wait, cb,
                                         aux);
    call->write.op.id = net->id;
    return submit(call);
}

struct nvo_svc_call *
nvo_svc_hv_create(struct nvo_svc *s, const struct nvo_hv_req *rq, bool wait,
                  nvo_svc_cb *cb, void *aux)
{
    struct nvo_hv_valid v;
    struct svc_error e = { .message = NULL };

    const char *why = nvo_validate_hv(rq, &v);
    if (why) {
        return check_failed(cb, aux, NVO_SVC_INVALID, "invalid", "%s", why);
    }
    if (hv_clashes(s->ctl->model, rq->name, v.tunnel_ip, &e)) {
        return clashed(cb, aux, &e);
    }
    struct nvo_svc_call *call = call_new(s, NVO_STORE_ADD_HV, wait, cb, aux);
    call->write.op.hv.name = xstrdup(rq->name);
    call->write.op.hv.tunnel_ip = xstrdup(v.tunnel_ip);
    call->write.op.hv.dataplane = v.dataplane;
    call->write.op.hv.role = v.role;
    call->write.op.hv.ovsdb = nullable_xstrdup(rq->ovsdb);
    return submit(call);
}

struct nvo_svc_call *
nvo_svc_hv_delete(struct nvo_svc *s, const char *name, bool wait,
                  nvo_svc_cb *cb, void *aux)
{
    const struct nvo_hypervisor *hv = nvo_model_hv_by_name(s->ctl->model,
                                                           name);
    if (!hv) {
        return check_failed(cb, aux, NVO_SVC_NOT_FOUND, "not_found",
                            "no hypervisor named %s", name);
    }
    if (hv->n_ports) {
        return check_failed(cb, aux, NVO_SVC_CONFLICT, "in_use",
                            "hypervisor %s still has %zu port(s)", hv->name,
                            hv->n_ports);
    }
    struct nvo_svc_call *call = call_new(s, NVO_STORE_DEL_HV, wait, cb, aux);
    call->write.op.id = hv->id;
    return submit(call);
}

struct nvo_svc_call *
nvo_svc_port_create(struct nvo_svc *s, const struct nvo_port_req *rq,
                    bool wait, nvo_svc_cb *cb, void *aux)
{
    const struct nvo_model *m = s->ctl->model;
    struct nvo_port_valid v;
    struct svc_error e = { .message = NULL };

    const char *why = nvo_validate_port(rq, &v);
    if (why) {
        return check_failed(cb, aux, NVO_SVC_INVALID, "invalid", "%s", why);
    }
    const struct nvo_network *net = nvo_model_network_by_name(m, rq->network);
    if (!net) {
        free(v.allowed);
        return check_failed(cb, aux, NVO_SVC_NOT_FOUND, "not_found",
                            "no network named %s", rq->network);
    }
    const struct nvo_hypervisor *hv = nvo_model_hv_by_name(m, rq->hypervisor);
    if (!hv) {
        free(v.allowed);
        return check_failed(cb, aux, NVO_SVC_NOT_FOUND, "not_found",
                            "no hypervisor named %s", rq->hypervisor);
    }
    if (mac_clashes(m, net, &v.mac, &e)
        || iface_clashes(m, hv, rq->iface, NULL, &e)
        || encap_unsupported(net, hv, &e)
        || family_mixed(s, net, hv, NULL, &e)
        || bum_unsupported_now(s, net, hv, &e)) {
        free(v.allowed);
        return clashed(cb, aux, &e);
    }
    struct nvo_svc_call *call = call_new(s, NVO_STORE_ADD_PORT, wait, cb,
                                         aux);
    call->write.op.port.vm = xstrdup(rq->vm);
    call->write.op.port.net_id = net->id;
    call->write.op.port.hv_id = hv->id;
    call->write.op.port.mac = xstrdup(v.mac_s);
    call->write.op.port.ip = nullable_xstrdup(rq->ip);
    call->write.op.port.iface = xstrdup(rq->iface);
    call->write.op.port.allowed = v.allowed;
    return submit(call);
}

struct nvo_svc_call *
nvo_svc_port_move(struct nvo_svc *s, int64_t id, const char *hv_name,
                  const char *iface, bool wait, nvo_svc_cb *cb, void *aux)
{
    const struct nvo_model *m = s->ctl->model;
    struct svc_error e = { .message = NULL };

    const struct nvo_port *p = nvo_model_port_by_id(m, id);
    if (!p) {
        return check_failed(cb, aux, NVO_SVC_NOT_FOUND, "not_found",
                            "no port %"PRId64, id);
    }
    const char *why = nvo_validate_port_move(hv_name, iface);
    if (why) {
        return check_failed(cb, aux, NVO_SVC_INVALID, "invalid", "%s", why);
    }
    const struct nvo_hypervisor *hv = p->hypervisor;
    if (hv_name) {
        hv = nvo_model_hv_by_name(m, hv_name);
        if (!hv) {
            return check_failed(cb, aux, NVO_SVC_NOT_FOUND, "not_found",
                                "no hypervisor named %s", hv_name);
        }
    }
    if (!iface) {
        iface = p->iface;
    }
    if (iface_clashes(m, hv, iface, p, &e)
        || encap_unsupported(p->network, hv, &e)
        || family_mixed(s, p->network, hv, p, &e)
        || bum_unsupported_now(s, p->network, hv, &e)) {
        return clashed(cb, aux, &e);
    }
    struct nvo_svc_call *call = call_new(s, NVO_STORE_MOVE_PORT, wait, cb,
                                         aux);
    call->write.op.id = p->id;
    call->write.op.port.hv_id = hv->id;
    call->write.op.port.iface = xstrdup(iface);
    return submit(call);
}

struct nvo_svc_call *
nvo_svc_port_delete(struct nvo_svc *s, int64_t id, bool wait,
                    nvo_svc_cb *cb, void *aux)
{
    const struct nvo_port *p = nvo_model_port_by_id(s->ctl->model, id);
    if (!p) {
        return check_failed(cb, aux, NVO_SVC_NOT_FOUND, "not_found",
                            "no port %"PRId64, id);
    }
    struct nvo_svc_call *call = call_new(s, NVO_STORE_DEL_PORT, wait, cb,
                                         aux);
    call->write.op.id = p->id;
    return submit(call);
}

void
nvo_svc_call_cancel(struct nvo_svc_call *call)
{
    if (!call) {
        return;
    }
    call->cb = NULL;
    if (call->state == CALL_WAITING) {
        nvo_ctl_wait_cancel(call->waiter);
        call_free(call);
    }
    /* COMMITTING: the write is the store's until it completes, which
     * frees the call. */
}

size_t
nvo_svc_n_pending(const struct nvo_svc *s)
{
    return s->n_committing;
}

/* Writes made elsewhere (store.h, "Changes made elsewhere"). */
static void
store_changed(void *s_, const struct nvo_store_op *ops, size_t n,
              int64_t revision)
{
    struct nvo_svc *s = s_;
    struct nvo_ctl *ctl = s->ctl;

    if (!n) {
        struct nvo_model *m = nvo_model_create();
        int error = nvo_store_load(ctl->store, m);
        if (error) {
            VLOG_ERR("cannot reload the model from the store; keeping the "
                     "old one");
            nvo_model_destroy(m);
            return;
        }
        VLOG_INFO("reloaded the model from the store at revision %"PRId64,
                  m->revision);
        nvo_ctl_replace_model(ctl, m);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct svc_ids ids = { NULL, 0, 0 };
        struct nvo_svc_result r = { .status = NVO_SVC_OK };
        apply(s, &ops[i], revision, &ids, &r);
        free(ids.ids);
    }
}

struct nvo_svc *
nvo_svc_create(struct nvo_ctl *ctl)
{
    struct nvo_svc *s = xzalloc(sizeof *s);
    s->ctl = ctl;
    ovs_list_init(&s->calls);
    ovs_list_init(&s->pending.waits);
    if (ctl->store) {
        nvo_store_set_change_cb(ctl->store, store_changed, s);
    }
    return s;
}

void
nvo_svc_destroy(struct nvo_svc *s)
{
    if (!s) {
        return;
    }
    struct nvo_svc_call *call;
    LIST_FOR_EACH_SAFE (call, node, &s->calls) {
        if (call->waiter) {
            nvo_ctl_wait_cancel(call->waiter);
        }
        call_free(call);
    }
    free(s->pending.hvs.ids);
    free(s->pending.nets.ids);
    free(s);
}
