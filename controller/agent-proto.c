#include <config.h>
#include "controller/agent-proto.h"

#include <stdlib.h>
#include <string.h>

#include "controller/desired.h"
#include "lib/proto-msg.h"
#include "util.h"

void
agent_delta_compute(const struct nvo_hv_view *old,
                    const struct nvo_hv_view *new, struct agent_delta *d)
{
    size_t n_old = old ? old->n_nets : 0, n_new = new ? new->n_nets : 0;
    size_t i = 0, j = 0;

    memset(d, 0, sizeof *d);
    d->changed = xmalloc((n_new ? n_new : 1) * sizeof *d->changed);
    d->removed = xmalloc((n_old ? n_old : 1) * sizeof *d->removed);
    /* Merge walk over two VNI-sorted arrays. */
    while (i < n_old || j < n_new) {
        const struct nvo_net_view *a = i < n_old ? old->nets[i] : NULL;
        const struct nvo_net_view *b = j < n_new ? new->nets[j] : NULL;
        if (a && (!b || a->vni < b->vni)) {
            d->removed[d->n_removed++] = a->vni;
            i++;
        } else if (b && (!a || b->vni < a->vni)) {
            d->changed[d->n_changed++] = b;
            j++;
        } else {
            if (!nvo_net_view_equal(a, b)) {
                d->changed[d->n_changed++] = b;
            }
            i++;
            j++;
        }
    }
}

void
agent_delta_destroy(struct agent_delta *d)
{
    if (d) {
        free(d->changed);
        free(d->removed);
        memset(d, 0, sizeof *d);
    }
}

static ProtobufCBinaryData
mac_bytes(struct eth_addr mac)
{
    ProtobufCBinaryData b = { .len = 6, .data = xmemdup(mac.ea, 6) };
    return b;
}

static Nvo__Network *
encode_net(const struct nvo_net_view *nv)
{
    Nvo__Network *n = xmalloc(sizeof *n);
    nvo__network__init(n);
    n->vni = nv->vni;
    n->name = xstrdup(nv->name);
    n->bum = (nv->bum == NVO_BUM_SERVICE_NODE
              ? NVO__BUM_MODE__BUM_SERVICE_NODE
              : NVO__BUM_MODE__BUM_HEAD_END);
    n->service_node_ip = xstrdup(nv->service_node_ip
                                 ? nv->service_node_ip : "");
    n->arp_responder = nv->arp_responder;
    n->mtu = nv->mtu;
    n->n_locals = nv->n_locals;
    n->locals = xmalloc((nv->n_locals ? nv->n_locals : 1)
                        * sizeof *n->locals);
    for (size_t i = 0; i < nv->n_locals; i++) {
        const struct nvo_local_port *lp = &nv->locals[i];
        Nvo__LocalPort *p = xmalloc(sizeof *p);
        nvo__local_port__init(p);
        p->mac = mac_bytes(lp->mac);
        p->iface = xstrdup(lp->iface);
        p->vm = xstrdup(lp->vm);
        p->port_id = lp->port_id;
        p->ip = xstrdup(lp->ip ? lp->ip : "");
        p->n_allowed = lp->n_allowed;
        p->allowed = xmalloc((lp->n_allowed + 1) * sizeof *p->allowed);
        for (size_t j = 0; j < lp->n_allowed; j++) {
            p->allowed[j] = xstrdup(lp->allowed[j]);
        }
        n->locals[i] = p;
    }
    n->n_remotes = nv->n_remotes;
    n->remotes = xmalloc((nv->n_remotes ? nv->n_remotes : 1)
                         * sizeof *n->remotes);
    for (size_t i = 0; i < nv->n_remotes; i++) {
        const struct nvo_remote_mac *rm = &nv->remotes[i];
        Nvo__RemoteMac *r = xmalloc(sizeof *r);
        nvo__remote_mac__init(r);
        r->mac = mac_bytes(rm->mac);
        r->vtep_ip = xstrdup(rm->vtep_ip);
        r->port_id = rm->port_id;
        r->ip = xstrdup(rm->ip ? rm->ip : "");
        n->remotes[i] = r;
    }
    n->n_flood = nv->n_flood;
    n->flood = xmalloc((nv->n_flood ? nv->n_flood : 1) * sizeof *n->flood);
    for (size_t i = 0; i < nv->n_flood; i++) {
        n->flood[i] = xstrdup(nv->flood[i]);
    }
    return n;
}

static Nvo__Message *
new_message(void)
{
    Nvo__Message *m = xmalloc(sizeof *m);
    nvo__message__init(m);
    return m;
}

Nvo__Message *
agent_proto_snapshot(const struct nvo_hv_view *view, uint64_t seq)
{
    Nvo__Message *m = new_message();
    Nvo__Snapshot *s = xmalloc(sizeof *s);
    nvo__snapshot__init(s);
    s->seq = seq;
    s->revision = view->revision;
    s->tunnel_ip = xstrdup(view->tunnel_ip);
    s->role = (view->role == NVO_ROLE_SERVICE_NODE
               ? NVO__ROLE__ROLE_SERVICE_NODE : NVO__ROLE__ROLE_HYPERVISOR);
    s->n_networks = view->n_nets;
    s->networks = xmalloc((view->n_nets ? view->n_nets : 1)
                          * sizeof *s->networks);
    for (size_t i = 0; i < view->n_nets; i++) {
        s->networks[i] = encode_net(view->nets[i]);
    }
    m->body_case = NVO__MESSAGE__BODY_SNAPSHOT;
    m->snapshot = s;
    return m;
}

Nvo__Message *
agent_proto_delta(const struct agent_delta *d, const struct nvo_hv_view *new,
                  uint64_t seq)
{
    Nvo__Message *m = new_message();
    Nvo__Delta *delta = xmalloc(sizeof *delta);
    nvo__delta__init(delta);
    delta->seq = seq;
    delta->base_seq = seq - 1;
    delta->revision = new->revision;
    delta->n_changed = d->n_changed;
    delta->changed = xmalloc((d->n_changed ? d->n_changed : 1)
                             * sizeof *delta->changed);
    for (size_t i = 0; i < d->n_changed; i++) {
        delta->changed[i] = encode_net(d->changed[i]);
    }
    delta->n_removed_vnis = d->n_removed;
    delta->removed_vnis = xcalloc(d->n_removed ? d->n_removed : 1,
                                  sizeof *delta->removed_vnis);
    memcpy(delta->removed_vnis, d->removed,
           d->n_removed * sizeof *d->removed);
    m->body_case = NVO__MESSAGE__BODY_DELTA;
    m->delta = delta;
    return m;
}

Nvo__Message *
agent_proto_error(Nvo__Error__Code code, bool fatal, const char *message)
{
    Nvo__Message *m = new_message();
    Nvo__Error *e = xmalloc(sizeof *e);
    nvo__error__init(e);
    e->code = code;
    e->fatal = fatal;
    e->message = xstrdup(message);
    e->protocol_version = NVO_PROTO_VERSION;
    m->body_case = NVO__MESSAGE__BODY_ERROR;
    m->error = e;
    return m;
}

Nvo__Message *
agent_proto_heartbeat(uint64_t seq)
{
    Nvo__Message *m = new_message();
    Nvo__Heartbeat *h = xmalloc(sizeof *h);
    nvo__heartbeat__init(h);
    h->seq = seq;
    m->body_case = NVO__MESSAGE__BODY_HEARTBEAT;
    m->heartbeat = h;
    return m;
}

Nvo__Message *
agent_proto_state_request(uint64_t id)
{
    Nvo__Message *m = new_message();
    Nvo__StateRequest *r = xmalloc(sizeof *r);
    nvo__state_request__init(r);
    r->id = id;
    m->body_case = NVO__MESSAGE__BODY_STATE_REQUEST;
    m->state_request = r;
    return m;
}
