/* ovs-audit.c - one switch's actual flows and ports against its view. */
#include <config.h>
#include "controller/ovs-audit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "controller/desired.h"
#include "controller/ovs-flows.h"
#include "controller/ovs-flowset.h"
#include "controller/ovs-ovsdb.h"
#include "controller/ovs-tunnels.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-port.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/shash.h"
#include "openvswitch/vconn.h"
#include "flow.h"
#include "simap.h"
#include "smap.h"
#include "sset.h"
#include "util.h"

const char *
ovs_audit_kind_to_string(enum ovs_audit_kind k)
{
    switch (k) {
    case OVS_AUDIT_MISSING: return "missing";
    case OVS_AUDIT_EXTRA: return "extra";
    case OVS_AUDIT_DIFFERENT: return "different";
    case OVS_AUDIT_FOREIGN: return "foreign";
    }
    return "?";
}

static struct ovs_audit_item *
add_item(struct ovs_audit_result *r, enum ovs_audit_kind kind, bool is_port)
{
    if (r->n_items >= r->allocated) {
        r->items = x2nrealloc(r->items, &r->allocated, sizeof *r->items);
    }
    struct ovs_audit_item *it = &r->items[r->n_items++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->is_port = is_port;
    return it;
}

static char *
flow_text(const struct ovs_flow *f)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    ovs_flow_format(f, &s);
    return ds_steal_cstr(&s);
}

static void
add_flow_item(struct ovs_audit_result *r, enum ovs_audit_kind kind,
              const struct ovs_flow *f, const struct ovs_flow *actual)
{
    struct ovs_audit_item *it = add_item(r, kind, false);
    it->cookie = f->cookie;
    it->table_id = f->table_id;
    it->text = flow_text(f);
    it->actual = actual ? flow_text(actual) : NULL;
}

static void
fail(struct ovs_audit_result *r, int error, const char *what)
{
    r->error = -error;
    r->error_msg = xasprintf("%s: %s", what, ovs_strerror(error));
}

/* Fills 'ports' (name -> ofport) from the switch's port descriptions. */
static int
fetch_ports(struct vconn *vconn, struct simap *ports)
{
    struct ovs_list requests, replies;
    ovs_list_init(&requests);
    struct ofpbuf *rq = ofputil_encode_port_desc_stats_request(OFP13_VERSION,
                                                               OFPP_ANY);
    ovs_list_push_back(&requests, &rq->list_node);
    int error = vconn_transact_multipart(vconn, &requests, &replies);
    if (error) {
        return error;
    }
    struct ofpbuf *reply;
    LIST_FOR_EACH (reply, list_node, &replies) {
        struct ofpbuf b = ofpbuf_const_initializer(reply->data, reply->size);
        enum ofptype type;
        if (ofptype_pull(&type, &b) || type != OFPTYPE_PORT_DESC_STATS_REPLY) {
            error = EPROTO;
            break;
        }
        struct ofputil_phy_port pp;
        while (!ofputil_pull_phy_port(OFP13_VERSION, &b, &pp)) {
            simap_put(ports, pp.name, ofp_to_u16(pp.port_no));
        }
    }
    ofpbuf_list_delete(&replies);
    return error;
}

/* Port items, and the ofport maps the desired flows need.  A port on the
 * switch that the view does not want is nvo's drift only if it carries
 * nvo's mark (the one the reconciliation removes: a VM interface nvo
 * attached, a per-VTEP tunnel port of an earlier release); one without is
 * someone else's, whatever its name, and reported as foreign, as the
 * reconciliation leaves it.  The marks are in OVSDB only, read from
 * 'view->ovsdb' within 'timeout_ms', and only if there is such a port.
 * VM interfaces belong to the VMs: a wanted one is used as it is, marked
 * or not.  Returns 0, or a negative errno if the marks could not be
 * read (r->error is then set). */
static int
audit_ports(const struct nvo_hv_view *view, const struct simap *ports,
            long long int timeout_ms, struct simap *iface_ofports,
            struct simap *tunnel_ofports, struct ovs_audit_result *r)
{
    struct shash wants = SHASH_INITIALIZER(&wants);
    ovs_ports_want_compute(view, &wants);
    struct shash_node *node;
    SHASH_FOR_EACH (node, &wants) {
        const struct ovs_port_want *w = node->data;
        const struct simap_node *p = simap_find(ports, w->name);
        if (p) {
            simap_put(w->tunnel ? tunnel_ofports : iface_ofports,
                      w->tunnel ? w->type : w->name, p->data);
            continue;
        }
        struct ovs_audit_item *it = add_item(r, OVS_AUDIT_MISSING, true);
        it->text = xstrdup(w->name);
        it->port_id = w->port_id;
    }

    struct sset unwanted = SSET_INITIALIZER(&unwanted);
    const struct simap_node *p;
    SIMAP_FOR_EACH (p, ports) {
        if (p->data != ofp_to_u16(OFPP_LOCAL)
            && !shash_find(&wants, p->name)) {
            sset_add(&unwanted, p->name);
        }
    }
    ovs_ports_want_clear(&wants);
    shash_destroy(&wants);

    int error = 0;
    if (!sset_is_empty(&unwanted)) {
        struct smap owned = SMAP_INITIALIZER(&owned);
        error = (view->ovsdb
                 ? ovs_ovsdb_read_owned_ports(view->ovsdb, timeout_ms, &owned)
                 : -EINVAL);
        if (error) {
            fail(r, -error, "OVSDB ports");
        } else {
            const char *name;
            SSET_FOR_EACH (name, &unwanted) {
                const char *id = smap_get(&owned, name);
                struct ovs_audit_item *it = add_item(
                    r, id ? OVS_AUDIT_EXTRA : OVS_AUDIT_FOREIGN, true);
                it->text = xstrdup(name);
                it->port_id = id && *id ? strtoll(id, NULL, 10) : 0;
            }
        }
        smap_destroy(&owned);
    }
    sset_destroy(&unwanted);
    return error;
}

/* Flow items: the flows computed from 'view' with the switch's ofports,
 * against 'actual' (nvo's cookie) and 'foreign' (any other). */
static void
audit_flows(const struct nvo_hv_view *view,
            const struct simap *iface_ofports,
            const struct simap *tunnel_ofports,
            const struct ovs_flowset *actual,
            const struct ovs_flowset *foreign, struct ovs_audit_result *r)
{
    struct ovs_flowset desired;
    ovs_flowset_init(&desired);
    struct ovs_flows_input in = {
        .view = view,
        .iface_ofports = iface_ofports,
        .tunnel_ofports = tunnel_ofports,
    };
    ovs_flows_compute(&in, &desired, NULL);
    r->n_desired = ovs_flowset_count(&desired);
    r->n_actual = ovs_flowset_count(actual);
    r->n_foreign = ovs_flowset_count(foreign);

    struct ovs_flow_changes changes;
    ovs_flowset_diff(&desired, actual, &changes);
    for (size_t i = 0; i < changes.n; i++) {
        const struct ovs_flow_change *c = &changes.changes[i];
        switch (c->type) {
        case OVS_FLOW_ADD:
            add_flow_item(r, OVS_AUDIT_MISSING, c->flow, NULL);
            break;
        case OVS_FLOW_DELETE:
            add_flow_item(r, OVS_AUDIT_EXTRA, c->flow, NULL);
            break;
        case OVS_FLOW_MODIFY: {
            const struct ovs_flow *f = c->flow;
            const struct ovs_flow *have = ovs_flowset_find(
                actual, f->table_id, f->priority, &f->match);
            add_flow_item(r, OVS_AUDIT_DIFFERENT, f, have);
            break;
        }
        }
    }
    ovs_flow_changes_destroy(&changes);

    const struct ovs_flow *f;
    HMAP_FOR_EACH (f, node, &foreign->flows) {
        add_flow_item(r, OVS_AUDIT_FOREIGN, f, NULL);
    }
    ovs_flowset_destroy(&desired);
}

int
ovs_audit_switch(const char *target, const struct nvo_hv_view *view,
                 long long int timeout_ms, struct ovs_audit_result *r)
{
    memset(r, 0, sizeof *r);
    struct vconn *vconn;
    int error = vconn_open_block(target, 1u << OFP13_VERSION, 0, timeout_ms,
                                 &vconn);
    if (error) {
        fail(r, error, target);
        return r->error;
    }

    struct simap ports = SIMAP_INITIALIZER(&ports);
    error = fetch_ports(vconn, &ports);
    if (error) {
        fail(r, error, "port descriptions");
        simap_destroy(&ports);
        vconn_close(vconn);
        return r->error;
    }

    struct ofputil_flow_stats_request fsr = {
        .aggregate = false,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .table_id = OFPTT_ALL,
    };
    match_init_catchall(&fsr.match);
    struct ofputil_flow_stats *fses;
    size_t n_fses;
    error = vconn_dump_flows(vconn, &fsr, OFPUTIL_P_OF13_OXM, &fses,
                             &n_fses);
    vconn_close(vconn);
    if (error) {
        fail(r, error, "flow dump");
        simap_destroy(&ports);
        return r->error;
    }

    struct ovs_flowset actual, foreign;
    ovs_flowset_init(&actual);
    ovs_flowset_init(&foreign);
    for (size_t i = 0; i < n_fses; i++) {
        const struct ofputil_flow_stats *fs = &fses[i];
        uint64_t cookie = ntohll(fs->cookie);
        ovs_flowset_add(ovs_cookie_is_nvo(cookie) ? &actual : &foreign,
                        fs->table_id, fs->priority, &fs->match, cookie,
                        fs->ofpacts, fs->ofpacts_len, NULL);
        free(CONST_CAST(struct ofpact *, fs->ofpacts));
    }
    free(fses);

    struct simap iface_ofports = SIMAP_INITIALIZER(&iface_ofports);
    struct simap tunnel_ofports = SIMAP_INITIALIZER(&tunnel_ofports);
    if (!audit_ports(view, &ports, timeout_ms, &iface_ofports,
                     &tunnel_ofports, r)) {
        audit_flows(view, &iface_ofports, &tunnel_ofports, &actual,
                    &foreign, r);
    }
    ovs_flowset_destroy(&actual);
    ovs_flowset_destroy(&foreign);
    simap_destroy(&iface_ofports);
    simap_destroy(&tunnel_ofports);
    simap_destroy(&ports);
    return r->error;
}

void
ovs_audit_result_destroy(struct ovs_audit_result *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->n_items; i++) {
        free(r->items[i].text);
        free(r->items[i].actual);
    }
    free(r->items);
    free(r->error_msg);
    memset(r, 0, sizeof *r);
}
