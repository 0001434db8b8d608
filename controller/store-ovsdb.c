/* store-ovsdb.c - the placement store in a Raft-clustered OVSDB database. */
#include <config.h>
#include "controller/store-ovsdb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "controller/model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "schema/nvo-idl.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(store_ovsdb);

int
nvo_store_ovsdb_parse(const char *db, char **remotes, char **errmsg)
{
    size_t plen = strlen(NVO_STORE_OVSDB_PREFIX);

    *remotes = NULL;
    if (strncmp(db, NVO_STORE_OVSDB_PREFIX, plen)) {
        *errmsg = xasprintf("%s: not an ovsdb: store", db);
        return -EINVAL;
    }
    const char *list = db + plen;
    if (!*list) {
        *errmsg = xasprintf("%s: no remote (ovsdb:tcp:IP:PORT[,...])", db);
        return -EINVAL;
    }
    char *copy = xstrdup(list);
    char *save = NULL;
    for (char *r = strtok_r(copy, ",", &save); r;
         r = strtok_r(NULL, ",", &save)) {
        const char *rest = NULL;
        if (!strncmp(r, "tcp:", 4) || !strncmp(r, "ssl:", 4)) {
            rest = r + 4;
            /* IP:PORT, the port mandatory (6641 by convention). */
            const char *colon = strrchr(rest, ':');
            if (!colon || colon == rest || !colon[1]
                || strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
                rest = NULL;
            }
        } else if (!strncmp(r, "unix:", 5) && r[5]) {
            rest = r + 5;
        }
        if (!rest) {
            *errmsg = xasprintf("%s: bad remote '%s' (want tcp:IP:PORT, "
                                "ssl:IP:PORT or unix:PATH)", db, r);
            free(copy);
            return -EINVAL;
        }
    }
    free(copy);
    if (list[strlen(list) - 1] == ',' || strstr(list, ",,")) {
        *errmsg = xasprintf("%s: empty remote in the list", db);
        return -EINVAL;
    }
    *remotes = xstrdup(list);
    return 0;
}

/* Runs 'idl' until it has its replica of the database or 'deadline'
 * (time_msec()) passes.  Returns 0 or -ETIMEDOUT. */
static int
wait_replica(struct ovsdb_idl *idl, long long int deadline)
{
    for (;;) {
        ovsdb_idl_run(idl);
        if (ovsdb_idl_has_ever_connected(idl)) {
            return 0;
        }
        if (time_msec() >= deadline) {
            return -ETIMEDOUT;
        }
        ovsdb_idl_wait(idl);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

/* Commits 'txn' before 'deadline'; returns its final status, or
 * TXN_INCOMPLETE if the deadline passed first. */
static enum ovsdb_idl_txn_status
commit_until(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
             long long int deadline)
{
    for (;;) {
        enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(txn);
        if (status != TXN_INCOMPLETE) {
            return status;
        }
        if (time_msec() >= deadline) {
            return TXN_INCOMPLETE;
        }
        ovsdb_idl_run(idl);
        ovsdb_idl_wait(idl);
        ovsdb_idl_txn_wait(txn);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

/* True if the replica holds placement data or a revision. */
static bool
replica_has_data(const struct ovsdb_idl *idl)
{
    return nvorec_nvo_global_first(idl) || nvorec_network_first(idl)
           || nvorec_hypervisor_first(idl) || nvorec_port_first(idl);
}

/* The network and hypervisor rows inserted for model objects, by id. */
struct export_ref {
    struct hmap_node node;
    int64_t id;
    const void *row;
};

static void
ref_add(struct hmap *map, int64_t id, const void *row)
{
    struct export_ref *r = xmalloc(sizeof *r);
    r->id = id;
    r->row = row;
    hmap_insert(map, &r->node, hash_uint64(id));
}

static const void *
ref_find(const struct hmap *map, int64_t id)
{
    const struct export_ref *r;
    HMAP_FOR_EACH_WITH_HASH (r, node, hash_uint64(id), map) {
        if (r->id == id) {
            return r->row;
        }
    }
    return NULL;
}

static void
ref_destroy(struct hmap *map)
{
    struct export_ref *r;
    HMAP_FOR_EACH_POP (r, node, map) {
        free(r);
    }
    hmap_destroy(map);
}

/* Adds to 'txn' one row per object of 'm'. */
static void
export_rows(const struct nvo_model *m, struct ovsdb_idl_txn *txn)
{
    struct hmap nets = HMAP_INITIALIZER(&nets);
    struct hmap hvs = HMAP_INITIALIZER(&hvs);

    const struct nvorec_nvo_global *g = nvorec_nvo_global_insert(txn);
    nvorec_nvo_global_set_revision(g, m->revision);

    const struct nvo_network *net;
    HMAP_FOR_EACH (net, id_node, &m->networks_by_id) {
        const struct nvorec_network *r = nvorec_network_insert(txn);
        nvorec_network_set_id(r, net->id);
        nvorec_network_set_name(r, net->name);
        nvorec_network_set_vni(r, net->vni);
        nvorec_network_set_bum(r, nvo_bum_mode_to_string(net->bum));
        nvorec_network_set_revision(r, net->revision);
        ref_add(&nets, net->id, r);
    }
    const struct nvo_hypervisor *hv;
    HMAP_FOR_EACH (hv, id_node, &m->hvs_by_id) {
        const struct nvorec_hypervisor *r = nvorec_hypervisor_insert(txn);
        nvorec_hypervisor_set_id(r, hv->id);
        nvorec_hypervisor_set_name(r, hv->name);
        nvorec_hypervisor_set_tunnel_ip(r, hv->tunnel_ip);
        nvorec_hypervisor_set_dataplane(r,
                                        nvo_dataplane_to_string(hv->dataplane));
        nvorec_hypervisor_set_role(r, nvo_role_to_string(hv->role));
        nvorec_hypervisor_set_ovsdb(r, hv->ovsdb);
        nvorec_hypervisor_set_revision(r, hv->revision);
        ref_add(&hvs, hv->id, r);
    }
    const struct nvo_port *p;
    HMAP_FOR_EACH (p, id_node, &m->ports_by_id) {
        const struct nvorec_port *r = nvorec_port_insert(txn);
        struct eth_addr mac = p->mac;
        char mac_s[ETH_ADDR_STRLEN + 1];
        snprintf(mac_s, sizeof mac_s, ETH_ADDR_FMT, ETH_ADDR_ARGS(mac));
        nvorec_port_set_id(r, p->id);
        nvorec_port_set_vm(r, p->vm);
        nvorec_port_set_network(r, ref_find(&nets, p->network->id));
        nvorec_port_set_hypervisor(r, ref_find(&hvs, p->hypervisor->id));
        nvorec_port_set_mac(r, mac_s);
        nvorec_port_set_ip(r, p->ip);
        nvorec_port_set_iface(r, p->iface);
        nvorec_port_set_revision(r, p->revision);
    }
    ref_destroy(&nets);
    ref_destroy(&hvs);
}

int
nvo_store_ovsdb_export(const struct nvo_model *m, const char *remotes,
                       uint64_t timeout_ms, char **errmsg)
{
    long long int deadline = time_msec() + timeout_ms;
    struct ovsdb_idl *idl = ovsdb_idl_create(remotes, &nvorec_idl_class,
                                             true, true);
    int error = 0;

    *errmsg = NULL;
    if (wait_replica(idl, deadline)) {
        int last = ovsdb_idl_get_last_error(idl);
        const char *why = last ? ovs_retval_to_string(last) : "no answer";
        *errmsg = xasprintf("%s: no cluster leader reachable within %"PRIu64
                            " ms (%s)", remotes, timeout_ms, why);
        error = -ETIMEDOUT;
        goto out;
    }
    if (replica_has_data(idl)) {
        *errmsg = xasprintf("%s: the cluster database already holds "
                            "placement data; export only into a new "
                            "cluster", remotes);
        error = -EEXIST;
        goto out;
    }

    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);
    ovsdb_idl_txn_add_comment(txn, "nvo-controller --export-to: revision %"
                              PRId64, m->revision);
    export_rows(m, txn);
    enum ovsdb_idl_txn_status status = commit_until(idl, txn, deadline);
    switch (status) {
    case TXN_SUCCESS:
        VLOG_INFO("%s: exported %"PRIuSIZE" networks, %"PRIuSIZE
                  " hypervisors, %"PRIuSIZE" ports at revision %"PRId64,
                  remotes, hmap_count(&m->networks_by_id),
                  hmap_count(&m->hvs_by_id), hmap_count(&m->ports_by_id),
                  m->revision);
        break;
    case TXN_INCOMPLETE:
        *errmsg = xasprintf("%s: no commit within %"PRIu64" ms (is a "
                            "majority of the cluster up?)", remotes,
                            timeout_ms);
        error = -ETIMEDOUT;
        break;
    case TXN_TRY_AGAIN:
        /* Another writer got there first (the database was empty when
         * read): treat as not empty. */
        *errmsg = xasprintf("%s: the database changed while exporting; "
                            "export only into a new cluster", remotes);
        error = -EEXIST;
        break;
    case TXN_UNCOMMITTED:
    case TXN_UNCHANGED:
    case TXN_ABORTED:
    case TXN_NOT_LOCKED:
    case TXN_ERROR:
    default: {
        const char *detail = ovsdb_idl_txn_get_error(txn);
        *errmsg = xasprintf("%s: export failed: %s%s%s", remotes,
                            ovsdb_idl_txn_status_to_string(status),
                            detail ? ": " : "", detail ? detail : "");
        error = -EIO;
        break;
    }
    }
    ovsdb_idl_txn_destroy(txn);
out:
    ovsdb_idl_destroy(idl);
    return error;
}
