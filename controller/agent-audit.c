#include <config.h>
#include "controller/agent-audit.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "controller/desired.h"
#include "lib/addr.h"
#include "packets.h"
#include "util.h"

const char *
agent_audit_what_to_string(enum agent_audit_what what)
{
    switch (what) {
    case AGENT_AUDIT_NETWORK: return "network";
    case AGENT_AUDIT_VXLAN: return "vxlan-device";
    case AGENT_AUDIT_BRIDGE: return "bridge";
    case AGENT_AUDIT_MTU: return "mtu";
    case AGENT_AUDIT_PORT: return "bridge-port";
    case AGENT_AUDIT_FDB: return "fdb";
    case AGENT_AUDIT_BRIDGE_FDB: return "bridge-fdb";
    case AGENT_AUDIT_NEIGHBOUR: return "neighbour";
    case AGENT_AUDIT_NEIGH_SUPPRESS: return "neigh-suppress";
    }
    return "?";
}

/* One comparable fact: identified by (what, id), with a value that must
 * match ("" for set members). */
struct entry {
    enum agent_audit_what what;
    char *id;                   /* Owned. */
    char *value;                /* Owned. */
    int64_t port_id;
};

struct entries {
    struct entry *v;
    size_t n, allocated;
};

static void
put(struct entries *e, enum agent_audit_what what, int64_t port_id,
    char *id, char *value)
{
    if (e->n >= e->allocated) {
        e->v = x2nrealloc(e->v, &e->allocated, sizeof *e->v);
    }
    e->v[e->n++] = (struct entry) { what, id, value ? value : xstrdup(""),
                                    port_id };
}

static void
entries_clear(struct entries *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].id);
        free(e->v[i].value);
    }
    e->n = 0;
}

static int
compare_entries(const void *a_, const void *b_)
{
    const struct entry *a = a_, *b = b_;
    if (a->what != b->what) {
        return a->what < b->what ? -1 : 1;
    }
    return strcmp(a->id, b->id);
}

static char *
mac_str(const uint8_t *mac)
{
    return xasprintf(ETH_ADDR_FMT, ETH_ADDR_BYTES_ARGS(mac));
}

/* The VXLAN MTU the agent derives for a network without "mtu" (agent/kdp.h
 * kdp_vxlan_mtu(): 50 bytes of encapsulation over IPv4, 70 over IPv6), or
 * -1 if the underlay's is not known. */
static int
derived_mtu(int underlay_mtu, bool v6)
{
    int overhead = v6 ? 70 : 50;
    return (underlay_mtu < 0 ? -1
            : !underlay_mtu ? 1500 - overhead
            : underlay_mtu >= 1500 + overhead ? 1500
            : underlay_mtu - overhead);
}

static bool
is_v6(const char *ip)
{
    return strchr(ip, ':') != NULL;
}

/* True if the agent programs 'vtep' as a peer of tunnel IP 'local': an
 * address of the same family that is not 'local' (both canonical). */
static bool
peer_of(const char *vtep, const char *local)
{
    return (vtep && nvo_ip_is_valid(vtep) && is_v6(vtep) == is_v6(local)
            && strcmp(vtep, local));
}

/* The desired entries of network 'nv' on a hypervisor with tunnel IP
 * 'local'; the VXLAN device's MTU and flags only if 'vxlan_attrs' (no use
 * naming them when the device itself is missing). */
static void
desired_entries(const struct nvo_net_view *nv, const char *local,
                int underlay_mtu, bool vxlan_attrs, struct entries *e)
{
    static const uint8_t zero[6];

    put(e, AGENT_AUDIT_VXLAN, 0, xstrdup("VXLAN device"),
        xstrdup("up in the bridge"));
    put(e, AGENT_AUDIT_BRIDGE, 0, xstrdup("bridge"), xstrdup("up"));
    int mtu = nv->mtu ? nv->mtu : derived_mtu(underlay_mtu, is_v6(local));
    if (vxlan_attrs && mtu > 0) {
        put(e, AGENT_AUDIT_MTU, 0, xstrdup("VXLAN device MTU"),
            xasprintf("%d", mtu));
    }
    if (vxlan_attrs) {
        put(e, AGENT_AUDIT_NEIGH_SUPPRESS, 0, xstrdup("VXLAN port"),
            xstrdup(nv->arp_responder ? "on" : "off"));
    }
    for (size_t i = 0; i < nv->n_locals; i++) {
        const struct nvo_local_port *lp = &nv->locals[i];
        char *mac = mac_str(lp->mac.ea);
        put(e, AGENT_AUDIT_PORT, lp->port_id, xstrdup(lp->iface), NULL);
        put(e, AGENT_AUDIT_BRIDGE_FDB, lp->port_id,
            xasprintf("%s on %s", mac, lp->iface), NULL);
        free(mac);
    }
    for (size_t i = 0; i < nv->n_remotes; i++) {
        const struct nvo_remote_mac *rm = &nv->remotes[i];
        char *mac = mac_str(rm->mac.ea);
        if (peer_of(rm->vtep_ip, local)) {
            put(e, AGENT_AUDIT_FDB, rm->port_id,
                xasprintf("%s dst %s", mac, rm->vtep_ip), NULL);
        }
        if (nv->arp_responder) {
            put(e, AGENT_AUDIT_BRIDGE_FDB, rm->port_id,
                xasprintf("%s on the VXLAN port", mac), NULL);
        }
        free(mac);
    }
    for (size_t i = 0; i < nv->n_flood; i++) {
        if (peer_of(nv->flood[i], local)) {
            char *mac = mac_str(zero);
            put(e, AGENT_AUDIT_FDB, 0,
                xasprintf("%s dst %s", mac, nv->flood[i]), NULL);
            free(mac);
        }
    }
    /* Neighbours: each IPv4 address claimed by exactly one port. */
    size_t start = e->n;
    for (size_t i = 0; nv->arp_responder
                       && i < nv->n_locals + nv->n_remotes; i++) {
        bool is_l = i < nv->n_locals;
        const char *ip = (is_l ? nv->locals[i].ip
                          : nv->remotes[i - nv->n_locals].ip);
        const struct eth_addr *mac = (is_l ? &nv->locals[i].mac
                                      : &nv->remotes[i - nv->n_locals].mac);
        int64_t port_id = (is_l ? nv->locals[i].port_id
                           : nv->remotes[i - nv->n_locals].port_id);
        struct in_addr a;
        if (!ip || !ip_parse(ip, &a.s_addr) || !a.s_addr) {
            continue;
        }
        bool dup = false;
        for (size_t j = start; j < e->n; j++) {
            if (!strcmp(e->v[j].id, ip)) {
                dup = true;
                e->v[j].port_id = -1;       /* Claimed twice: none. */
            }
        }
        if (!dup) {
            put(e, AGENT_AUDIT_NEIGHBOUR, port_id, xstrdup(ip),
                mac_str(mac->ea));
        }
    }
    size_t k = start;
    for (size_t j = start; j < e->n; j++) {
        if (e->v[j].port_id < 0) {
            free(e->v[j].id);
            free(e->v[j].value);
        } else {
            e->v[k++] = e->v[j];
        }
    }
    e->n = k;
}

/* The entries network 'kn' of a report holds. */
static void
actual_entries(const Nvo__KernelNetwork *kn, int underlay_mtu,
               bool mtu_set, struct entries *e)
{
    if (kn->vxlan) {
        put(e, AGENT_AUDIT_VXLAN, 0, xstrdup("VXLAN device"),
            xstrdup(!kn->vxlan_right ? "other attributes"
                    : kn->vxlan_up ? "up in the bridge"
                    : "down or not in the bridge"));
        if (mtu_set || derived_mtu(underlay_mtu, false) > 0) {
            put(e, AGENT_AUDIT_MTU, 0, xstrdup("VXLAN device MTU"),
                xasprintf("%"PRIu32, kn->mtu));
        }
        put(e, AGENT_AUDIT_NEIGH_SUPPRESS, 0, xstrdup("VXLAN port"),
            xstrdup(kn->neigh_suppress ? "on" : "off"));
    }
    if (kn->bridge) {
        put(e, AGENT_AUDIT_BRIDGE, 0, xstrdup("bridge"),
            xstrdup(kn->bridge_up ? "up" : "down"));
    }
    for (size_t i = 0; i < kn->n_ports; i++) {
        put(e, AGENT_AUDIT_PORT, 0, xstrdup(kn->ports[i]), NULL);
    }
    for (size_t i = 0; i < kn->n_fdb; i++) {
        char *mac = mac_str(kn->fdb[i]->mac.data);
        put(e, AGENT_AUDIT_FDB, 0, xasprintf("%s dst %s", mac,
                                             kn->fdb[i]->dst), NULL);
        free(mac);
    }
    for (size_t i = 0; i < kn->n_bridge_fdb; i++) {
        const Nvo__KernelFdb *f = kn->bridge_fdb[i];
        char *mac = mac_str(f->mac.data);
        put(e, AGENT_AUDIT_BRIDGE_FDB, 0,
            (f->on_vxlan ? xasprintf("%s on the VXLAN port", mac)
                         : xasprintf("%s on %s", mac, f->port)), NULL);
        free(mac);
    }
    for (size_t i = 0; i < kn->n_neighbours; i++) {
        put(e, AGENT_AUDIT_NEIGHBOUR, 0, xstrdup(kn->neighbours[i]->ip),
            mac_str(kn->neighbours[i]->mac.data));
    }
}

static void
add_item(struct agent_audit_result *r, enum ovs_audit_kind kind,
         enum agent_audit_what what, uint32_t vni, int64_t port_id,
         char *entry, char *actual)
{
    if (r->n_items >= r->allocated) {
        r->items = x2nrealloc(r->items, &r->allocated, sizeof *r->items);
    }
    r->items[r->n_items++] = (struct agent_audit_item) {
        kind, what, vni, entry, actual, port_id
    };
}

static char *
describe(const struct entry *e)
{
    return e->value[0] ? xasprintf("%s: %s", e->id, e->value)
                       : xstrdup(e->id);
}

/* Counts set members (not per-network attributes) into n_desired /
 * n_actual. */
static bool
is_member(enum agent_audit_what what)
{
    return (what == AGENT_AUDIT_PORT || what == AGENT_AUDIT_FDB
            || what == AGENT_AUDIT_BRIDGE_FDB
            || what == AGENT_AUDIT_NEIGHBOUR);
}

/* Merges the sorted 'want' and 'have' of network 'vni' into items. */
static void
diff_network(uint32_t vni, struct entries *want, struct entries *have,
             struct agent_audit_result *r)
{
    qsort(want->v, want->n, sizeof *want->v, compare_entries);
    qsort(have->v, have->n, sizeof *have->v, compare_entries);
    size_t i = 0, j = 0;
    while (i < want->n || j < have->n) {
        int c = (i >= want->n ? 1 : j >= have->n ? -1
                 : compare_entries(&want->v[i], &have->v[j]));
        if (c < 0) {
            add_item(r, OVS_AUDIT_MISSING, want->v[i].what, vni,
                     want->v[i].port_id, describe(&want->v[i]), NULL);
            i++;
        } else if (c > 0) {
            add_item(r, OVS_AUDIT_EXTRA, have->v[j].what, vni, 0,
                     describe(&have->v[j]), NULL);
            j++;
        } else {
            if (strcmp(want->v[i].value, have->v[j].value)) {
                add_item(r, OVS_AUDIT_DIFFERENT, want->v[i].what, vni,
                         want->v[i].port_id, describe(&want->v[i]),
                         describe(&have->v[j]));
            }
            i++;
            j++;
        }
    }
    for (i = 0; i < want->n; i++) {
        r->n_desired += is_member(want->v[i].what);
    }
    for (j = 0; j < have->n; j++) {
        r->n_actual += is_member(have->v[j].what);
    }
    entries_clear(want);
    entries_clear(have);
}

void
agent_audit_diff(const struct nvo_hv_view *view, const Nvo__StateReport *rep,
                 int underlay_mtu, struct agent_audit_result *r)
{
    struct entries want = { NULL, 0, 0 }, have = { NULL, 0, 0 };
    const char *local = view->tunnel_ip ? view->tunnel_ip : "";

    memset(r, 0, sizeof *r);
    size_t i = 0, j = 0;        /* Both sorted by VNI. */
    while (i < view->n_nets || j < rep->n_networks) {
        const struct nvo_net_view *nv = i < view->n_nets ? view->nets[i]
                                                          : NULL;
        const Nvo__KernelNetwork *kn = (j < rep->n_networks
                                        ? rep->networks[j] : NULL);
        if (kn && (!nv || kn->vni < nv->vni)) {
            add_item(r, OVS_AUDIT_EXTRA, AGENT_AUDIT_NETWORK, kn->vni, 0,
                     xasprintf("VNI %"PRIu32": devices of a network this "
                               "hypervisor should not have", kn->vni), NULL);
            j++;
            continue;
        }
        desired_entries(nv, local, underlay_mtu, kn && kn->vni == nv->vni
                        && kn->vxlan, &want);
        if (!kn || nv->vni < kn->vni) {
            add_item(r, OVS_AUDIT_MISSING, AGENT_AUDIT_NETWORK, nv->vni, 0,
                     xasprintf("VNI %"PRIu32": no VXLAN device, no bridge",
                               nv->vni), NULL);
            for (size_t k = 0; k < want.n; k++) {
                r->n_desired += is_member(want.v[k].what);
            }
            entries_clear(&want);
            i++;
            continue;
        }
        actual_entries(kn, underlay_mtu, nv->mtu != 0, &have);
        diff_network(nv->vni, &want, &have, r);
        i++;
        j++;
    }
    free(want.v);
    free(have.v);
}

void
agent_audit_result_destroy(struct agent_audit_result *r)
{
    if (r) {
        for (size_t i = 0; i < r->n_items; i++) {
            free(r->items[i].entry);
            free(r->items[i].actual);
        }
        free(r->items);
        memset(r, 0, sizeof *r);
    }
}
