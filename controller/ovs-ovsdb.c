#include <config.h>
#include "controller/ovs-ovsdb.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "controller/ovs-tunnels.h"
#include "lib/addr.h"
#include "lib/vswitch-idl.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "openvswitch/poll-loop.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ovs_ovsdb);

struct ovs_ovsdb {
    char *name;                 /* Hypervisor name, for logs. */
    char *of_target;            /* Passive controller target, or NULL. */
    struct ovsdb_idl_loop loop;
    unsigned int seqno;         /* IDL seqno last looked at. */
    unsigned int map_seqno;     /* Our own, for ovs_ovsdb_seqno(). */
    bool need_reconcile;
    bool changed;               /* Last reconciliation changed something. */
    bool connected;             /* As last logged. */
    struct simap iface_ofports;
    struct simap tunnel_ofports;
    char problem[128];
    char refusal[128];          /* A wanted interface OVS refuses, or "". */
    char txn_error[128];        /* Of the last transaction if it failed. */
    bool tcp;                   /* The remote is tcp:IP:PORT, */
    struct sockaddr_storage peer;   /* this. */
    int64_t fence;              /* Cluster mode: this owner's epoch, which
                                 * every transaction verifies on br-int
                                 * (OVS_EPOCH_KEY); 0: no fencing. */
    uint64_t n_apply_errors;    /* Failed transactions and new refusals. */
    long long int retry_at;     /* A transaction the server refused is */
    int retry_ms;               /* built again then (time_msec()), or 0;
                                 * the backoff that led to it. */
    bool mtu_valid;             /* 'mtu' is the underlay MTU as of IDL */
    unsigned int mtu_seqno;     /* seqno 'mtu_seqno'. */
    uint32_t mtu;
};

static uint32_t underlay_mtu(const struct ovs_ovsdb *);

/* A transaction the server refused (TXN_ERROR: a constraint, a bad value,
 * such as a port name another bridge has) would be refused again: it is
 * built anew once the replica or the wants change, or else after this
 * backoff, doubled up to OVS_OVSDB_RETRY_MAX_MS while refusals go on.
 * Until 2026-12-03 it was rebuilt and sent at once, forever: about 20
 * transactions and log lines a second. */
#define OVS_OVSDB_RETRY_MIN_MS 1000
#define OVS_OVSDB_RETRY_MAX_MS 32000

/* Whether a refused transaction's backoff is over. */
static bool
retry_due(const struct ovs_ovsdb *db)
{
    return db->retry_at && time_msec() >= db->retry_at;
}

static void
add_columns(struct ovsdb_idl *idl)
{
    ovsdb_idl_add_column(idl, &ovsrec_open_vswitch_col_bridges);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_ports);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_controller);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_fail_mode);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_external_ids);
    ovsdb_idl_add_column(idl, &ovsrec_port_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_port_col_interfaces);
    ovsdb_idl_add_column(idl, &ovsrec_port_col_external_ids);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_type);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_options);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_external_ids);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_ofport);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_error);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_mtu);
    ovsdb_idl_add_column(idl, &ovsrec_controller_col_target);
    ovsdb_idl_add_column(idl, &ovsrec_controller_col_connection_mode);
    ovsdb_idl_add_column(idl, &ovsrec_controller_col_external_ids);
    ovsdb_idl_add_column(idl, &ovsrec_controller_col_inactivity_probe);
}

struct ovs_ovsdb *
ovs_ovsdb_create(const char *remote, const char *of_target, const char *name)
{
    struct ovs_ovsdb *db = xzalloc(sizeof *db);
    db->name = xstrdup(name);
    db->of_target = nullable_xstrdup(of_target);
    struct ovsdb_idl *idl = ovsdb_idl_create(remote, &ovsrec_idl_class,
                                             false, true);
    add_columns(idl);
    db->loop = (struct ovsdb_idl_loop) OVSDB_IDL_LOOP_INITIALIZER(idl);
    bool ssl;
    db->tcp = !nvo_inet_remote_parse(remote, &ssl, &db->peer) && !ssl;
    db->need_reconcile = true;
    db->changed = true;
    simap_init(&db->iface_ofports);
    simap_init(&db->tunnel_ofports);
    return db;
}

void
ovs_ovsdb_destroy(struct ovs_ovsdb *db)
{
    if (db) {
        ovsdb_idl_loop_destroy(&db->loop);  /* Destroys the IDL too. */
        simap_destroy(&db->iface_ofports);
        simap_destroy(&db->tunnel_ofports);
        free(db->of_target);
        free(db->name);
        free(db);
    }
}

static bool
is_owned(const struct smap *external_ids)
{
    const char *owner = smap_get(external_ids, OVS_OWNER_KEY);
    return owner && !strcmp(owner, OVS_OWNER_VALUE);
}

static void
set_problem(struct ovs_ovsdb *db, const char *fmt, ...)
    OVS_PRINTF_FORMAT(2, 3);

static void
set_problem(struct ovs_ovsdb *db, const char *fmt, ...)
{
    if (db->problem[0]) {
        return;                 /* Keep the first one. */
    }
    va_list args;
    va_start(args, fmt);
    vsnprintf(db->problem, sizeof db->problem, fmt, args);
    va_end(args);
}

static const struct ovsrec_bridge *
find_bridge(struct ovsdb_idl *idl)
{
    const struct ovsrec_bridge *br;
    OVSREC_BRIDGE_FOR_EACH (br, idl) {
        if (!strcmp(br->name, OVS_BRIDGE)) {
            return br;
        }
    }
    return NULL;
}

/* Cluster mode fencing (doc/cluster.md, "Why there are never two owners",
 * step 5): br-int's external_ids:nvo-epoch holds the epoch of the latest
 * owner that wrote to this switch.  Every transaction of an owner of epoch
 * 'db->fence' verifies br-int's external_ids, so it fails if a newer owner
 * raised the epoch after this replica was read, and raises it to
 * 'db->fence' if it is lower.  An owner that finds a higher epoch writes
 * nothing.  Returns false if this owner is fenced out. */
static bool
fence_txn(struct ovs_ovsdb *db, const struct ovsrec_bridge *br)
{
    if (db->fence <= 0) {
        return true;
    }
    const char *s = smap_get(&br->external_ids, OVS_EPOCH_KEY);
    long long int held = 0;
    if (s && !str_to_llong(s, 10, &held)) {
        held = 0;               /* Garbage: overwritten below. */
    }
    if (held > db->fence) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "%s: "OVS_BRIDGE" holds epoch %lld, newer than "
                     "ours (%"PRId64"): another controller owns it; writing "
                     "nothing", db->name, held, db->fence);
        set_problem(db, "fenced: the switch holds a newer owner's epoch "
                    "(%lld > %"PRId64")", held, db->fence);
        return false;
    }
    ovsrec_bridge_verify_external_ids(br);
    if (held < db->fence) {
        struct smap ids;
        smap_clone(&ids, &br->external_ids);
        smap_replace_nocopy(&ids, OVS_EPOCH_KEY,
                            xasprintf("%"PRId64, db->fence));
        ovsrec_bridge_set_external_ids(br, &ids);
        smap_destroy(&ids);
    }
    return true;
}

void
ovs_ovsdb_set_fence(struct ovs_ovsdb *db, int64_t epoch)
{
    if (db && db->fence != epoch) {
        db->fence = epoch;
        db->need_reconcile = true;
    }
}

/* Sets the OpenFlow probe interval nvo uses (OVS_OF_PROBE_S) on 'c' if it
 * has another one.  Returns true if it changed it. */
static bool
fix_controller_probe(const struct ovsrec_controller *c)
{
    int64_t probe_ms = OVS_OF_PROBE_S * 1000;
    if (c->n_inactivity_probe == 1 && c->inactivity_probe[0] == probe_ms) {
        return false;
    }
    ovsrec_controller_set_inactivity_probe(c, &probe_ms, 1);
    return true;
}

/* Ensures br-int's passive controller target, its probe interval and the
 * fail mode.  Returns true if it changed something. */
static bool
reconcile_controller(struct ovs_ovsdb *db, struct ovsdb_idl_txn *txn,
                     const struct ovsrec_bridge *br)
{
    bool changed = false;
    bool found = false;

    for (size_t i = 0; i < br->n_controller; i++) {
        const struct ovsrec_controller *c = br->controller[i];
        if (db->of_target && !strcmp(c->target, db->of_target)) {
            found = true;
            changed |= fix_controller_probe(c);
        } else if (is_owned(&c->external_ids)) {
            VLOG_INFO("%s: removing stale controller target %s", db->name,
                      c->target);
            ovsrec_bridge_update_controller_delvalue(br, c);
            changed = true;
        }
    }
    if (db->of_target && !found) {
        VLOG_INFO("%s: adding passive controller target %s to "OVS_BRIDGE,
                  db->name, db->of_target);
        struct ovsrec_controller *c = ovsrec_controller_insert(txn);
        ovsrec_controller_set_target(c, db->of_target);
        ovsrec_controller_set_connection_mode(c, "out-of-band");
        const struct smap ids = SMAP_CONST1(&ids, OVS_OWNER_KEY,
                                            OVS_OWNER_VALUE);
        ovsrec_controller_set_external_ids(c, &ids);
        fix_controller_probe(c);
        ovsrec_bridge_update_controller_addvalue(br, c);
        changed = true;
    }
    if (!br->fail_mode || strcmp(br->fail_mode, "secure")) {
        VLOG_INFO("%s: setting "OVS_BRIDGE" fail_mode=secure", db->name);
        ovsrec_bridge_set_fail_mode(br, "secure");
        changed = true;
    }
    return changed;
}

/* Sets the options of a flow-based tunnel port (ovs-tunnels.h). */
static void
set_tunnel_options(const struct ovsrec_interface *iface)
{
    struct smap options = SMAP_INITIALIZER(&options);
    smap_add(&options, "remote_ip", "flow");
    smap_add(&options, "key", "flow");
    ovsrec_interface_set_options(iface, &options);
    smap_destroy(&options);
}

static void
insert_port(struct ovsdb_idl_txn *txn, const struct ovsrec_bridge *br,
            const struct ovs_port_want *w)
{
    struct ovsrec_interface *iface = ovsrec_interface_insert(txn);
    ovsrec_interface_set_name(iface, w->name);

    struct smap ids = SMAP_INITIALIZER(&ids);
    smap_add(&ids, OVS_OWNER_KEY, OVS_OWNER_VALUE);
    if (w->tunnel) {
        ovsrec_interface_set_type(iface, w->type);
        set_tunnel_options(iface);
    } else {
        smap_add_format(&ids, OVS_PORT_ID_KEY, "%"PRId64, w->port_id);
    }
    ovsrec_interface_set_external_ids(iface, &ids);

    struct ovsrec_port *port = ovsrec_port_insert(txn);
    ovsrec_port_set_name(port, w->name);
    ovsrec_port_set_interfaces(port, &iface, 1);
    ovsrec_port_set_external_ids(port, &ids);
    ovsrec_bridge_update_ports_addvalue(br, port);
    smap_destroy(&ids);
}

/* True if tunnel interface 'iface' has the options of a flow-based port
 * (ovs-tunnels.h): remote_ip=flow, key=flow, nothing else. */
static bool
is_flow_tunnel(const struct ovsrec_interface *iface)
{
    const char *rip = smap_get(&iface->options, "remote_ip");
    const char *key = smap_get(&iface->options, "key");
    return (smap_count(&iface->options) == 2 && rip && !strcmp(rip, "flow")
            && key && !strcmp(key, "flow"));
}

/* Fixes an nvo-owned tunnel interface whose type or options drifted.
 * Returns true if it changed something. */
static bool
fix_tunnel(struct ovs_ovsdb *db, const struct ovsrec_interface *iface,
           const struct ovs_port_want *w)
{
    if (!strcmp(iface->type, w->type) && is_flow_tunnel(iface)) {
        return false;
    }
    VLOG_INFO("%s: fixing tunnel port %s", db->name, w->name);
    ovsrec_interface_set_type(iface, w->type);
    set_tunnel_options(iface);
    return true;
}

static void
update_maps(struct ovs_ovsdb *db, const struct ovsrec_bridge *br,
            const struct shash *wants)
{
    struct simap ifaces = SIMAP_INITIALIZER(&ifaces);
    struct simap tunnels = SIMAP_INITIALIZER(&tunnels);

    for (size_t i = 0; br && i < br->n_ports; i++) {
        const struct ovsrec_port *port = br->ports[i];
        for (size_t j = 0; j < port->n_interfaces; j++) {
            const struct ovsrec_interface *iface = port->interfaces[j];
            if (!iface->n_ofport || iface->ofport[0] <= 0) {
                if (shash_find(wants, iface->name)) {
                    set_problem(db, "interface %s has no ofport%s%s",
                                iface->name, iface->error ? ": " : "",
                                iface->error ? iface->error : "");
                    if (iface->error && !db->refusal[0]) {
                        /* ovs-vswitchd could not open or add it. */
                        snprintf(db->refusal, sizeof db->refusal,
                                 "interface %s: %s", iface->name,
                                 iface->error);
                    }
                }
                continue;
            }
            simap_put(&ifaces, iface->name, iface->ofport[0]);
            const struct ovs_port_want *w = shash_find_data(wants,
                                                            iface->name);
            if (w && w->tunnel && !strcmp(iface->type, w->type)
                && is_flow_tunnel(iface)) {
                simap_put(&tunnels, w->type, iface->ofport[0]);
            }
        }
    }
    if (!simap_equal(&ifaces, &db->iface_ofports)
        || !simap_equal(&tunnels, &db->tunnel_ofports)) {
        simap_swap(&ifaces, &db->iface_ofports);
        simap_swap(&tunnels, &db->tunnel_ofports);
        db->map_seqno++;
    }
    simap_destroy(&ifaces);
    simap_destroy(&tunnels);
}

/* Reconciles br-int's ports toward 'wants'.  Returns true if it changed
 * something.  'txn' may be NULL: then it only looks. */
static bool
reconcile_ports(struct ovs_ovsdb *db, struct ovsdb_idl_txn *txn,
                const struct ovsrec_bridge *br, const struct shash *wants)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    struct shash on_br = SHASH_INITIALIZER(&on_br); /* iface name -> iface */
    bool changed = false;

    for (size_t i = 0; i < br->n_ports; i++) {
        const struct ovsrec_port *port = br->ports[i];
        for (size_t j = 0; j < port->n_interfaces; j++) {
            shash_add_once(&on_br, port->interfaces[j]->name,
                           port->interfaces[j]);
        }
        if (is_owned(&port->external_ids)
            && !shash_find(wants, port->name)) {
            if (txn) {
                VLOG_INFO("%s: removing port %s", db->name, port->name);
                ovsrec_bridge_update_ports_delvalue(br, port);
            }
            changed = true;
        }
    }

    struct sset elsewhere = SSET_INITIALIZER(&elsewhere);
    const struct ovsrec_interface *iface;
    OVSREC_INTERFACE_FOR_EACH (iface, db->loop.idl) {
        if (!shash_find(&on_br, iface->name)) {
            sset_add(&elsewhere, iface->name);
        }
    }

    struct shash_node *node;
    SHASH_FOR_EACH (node, wants) {
        const struct ovs_port_want *w = node->data;
        const struct ovsrec_interface *have = shash_find_data(&on_br,
                                                              w->name);
        if (have) {
            if (w->tunnel && is_owned(&have->external_ids)) {
                changed |= txn ? fix_tunnel(db, have, w) : false;
            }
            continue;
        }
        if (!w->tunnel && sset_contains(&elsewhere, w->name)) {
            VLOG_WARN_RL(&rl, "%s: interface %s is on another bridge, not "
                         "moving it to "OVS_BRIDGE, db->name, w->name);
            set_problem(db, "interface %s is on another bridge", w->name);
            if (!db->refusal[0]) {
                snprintf(db->refusal, sizeof db->refusal, "interface %s is "
                         "on another bridge", w->name);
            }
            continue;
        }
        if (txn) {
            VLOG_INFO("%s: adding %s port %s", db->name,
                      w->tunnel ? "tunnel" : "VM", w->name);
            insert_port(txn, br, w);
        }
        changed = true;
    }
    sset_destroy(&elsewhere);
    shash_destroy(&on_br);
    return changed;
}

static void
log_connection(struct ovs_ovsdb *db)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    bool connected = ovsdb_idl_is_connected(db->loop.idl);
    if (connected != db->connected) {
        db->connected = connected;
        if (connected) {
            VLOG_INFO("%s: OVSDB connected", db->name);
        } else {
            int error = ovsdb_idl_get_last_error(db->loop.idl);
            VLOG_WARN_RL(&rl, "%s: OVSDB connection lost (%s)", db->name,
                         error ? ovs_retval_to_string(error) : "closed");
        }
    }
}

void
ovs_ovsdb_run(struct ovs_ovsdb *db, const struct shash *wants,
              bool wants_changed)
{
    if (retry_due(db)) {
        db->retry_at = 0;
        db->need_reconcile = true;
    }
    /* Fast path, taken on most wake-ups of a southbound with many
     * hypervisors: nothing to reconcile and no transaction in flight, so
     * only process what the server sent (no transaction to create and
     * commit empty). */
    if (!wants_changed && !db->need_reconcile && !db->loop.committing_txn) {
        ovsdb_idl_run(db->loop.idl);
        if (ovsdb_idl_get_seqno(db->loop.idl) == db->seqno) {
            /* The server's echo request ends ovsdb_idl_run()'s reading
             * (jsonrpc_session_recv() answers it and returns nothing),
             * although what came right after it may have been read from
             * the socket with it.  OVS's own loops wake at once for that
             * (ovsdb_idl_wait()), but a quiet session is not waited on
             * (ovs-sb.c watches its socket, which has nothing more to
             * say): an update by others would wait for the session's next
             * timed run, SB_DB_IDLE_MS.  So once more; an empty buffer
             * costs one recv() that finds nothing. */
            ovsdb_idl_run(db->loop.idl);
        }
        log_connection(db);
        if (ovsdb_idl_get_seqno(db->loop.idl) == db->seqno) {
            return;
        }
    }

    if (db->loop.committing_txn) {
        /* A transaction in flight: its hypervisor waits on the socket for
         * the reply (ovs_ovsdb_awaits_input()), which may have come behind
         * an echo request as above.  Read once more: the loop's own run
         * below processes what this one left in the buffer. */
        ovsdb_idl_run(db->loop.idl);
    }
    struct ovsdb_idl_txn *txn = ovsdb_idl_loop_run(&db->loop);
    log_connection(db);

    unsigned int seqno = ovsdb_idl_get_seqno(db->loop.idl);
    if (seqno != db->seqno || wants_changed) {
        db->seqno = seqno;
        db->need_reconcile = true;
    }

    if (db->need_reconcile && ovsdb_idl_has_ever_connected(db->loop.idl)) {
        char old_refusal[sizeof db->refusal];
        memcpy(old_refusal, db->refusal, sizeof old_refusal);
        db->problem[0] = '\0';
        db->refusal[0] = '\0';
        const struct ovsrec_bridge *br = find_bridge(db->loop.idl);
        if (!br) {
            set_problem(db, "no bridge "OVS_BRIDGE);
            db->changed = true;
        } else if (txn && ovsdb_idl_is_connected(db->loop.idl)
                   && !fence_txn(db, br)) {
            /* Fenced out: a newer owner's epoch is on the switch.  Nothing
             * to write until that changes (the IDL wakes us) or the view
             * brings a newer epoch. */
            db->changed = true;
            db->need_reconcile = false;
        } else if (txn && ovsdb_idl_is_connected(db->loop.idl)) {
            ovsdb_idl_txn_add_comment(txn, "nvo: reconciling "OVS_BRIDGE);
            db->changed = reconcile_controller(db, txn, br);
            db->changed |= reconcile_ports(db, txn, br, wants);
            db->need_reconcile = false;
        } else {
            /* A transaction is in flight or the session is down: come back
             * once that changes (the IDL wakes us). */
            db->changed = true;
        }
        update_maps(db, br, wants);
        if (db->refusal[0] && strcmp(db->refusal, old_refusal)) {
            db->n_apply_errors++;
        }
    }

    /* The server's error for a transaction it refused (a constraint, a
     * bad value), read before the loop frees the transaction.  Those are
     * reported (ovs_ovsdb_apply_error()); TXN_TRY_AGAIN (the database
     * changed meanwhile) is routine. */
    struct ovsdb_idl_txn *sent = db->loop.committing_txn;
    bool refused = sent && ovsdb_idl_txn_commit(sent) == TXN_ERROR;
    if (refused) {
        snprintf(db->txn_error, sizeof db->txn_error,
                 "OVSDB transaction failed: %s",
                 ovsdb_idl_txn_get_error(sent));
        db->n_apply_errors++;
    }
    bool had_txn = sent || db->loop.open_txn;

    /* Commits 'txn' if there is one, or goes on with the one in flight.
     * 0 means a transaction failed: reconcile again. */
    int retval = ovsdb_idl_loop_commit_and_wait(&db->loop);
    if (!retval) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
        if (refused) {
            db->retry_ms = (db->retry_ms
                            ? MIN(2 * db->retry_ms, OVS_OVSDB_RETRY_MAX_MS)
                            : OVS_OVSDB_RETRY_MIN_MS);
            db->retry_at = time_msec() + db->retry_ms;
        } else {
            db->need_reconcile = true;
        }
        VLOG_WARN_RL(&rl, "%s: OVSDB transaction failed, retrying%s%s",
                     db->name, refused ? " in a while: " : "",
                     refused ? db->txn_error : "");
    } else if (retval == 1 && had_txn) {
        db->txn_error[0] = '\0';
        db->retry_at = 0;
        db->retry_ms = 0;
    }
}

void
ovs_ovsdb_wait(struct ovs_ovsdb *db)
{
    ovsdb_idl_wait(db->loop.idl);
    if (db->retry_at) {
        poll_timer_wait_until(db->retry_at);
    }
}

long long int
ovs_ovsdb_retry_at(const struct ovs_ovsdb *db)
{
    return db->retry_at ? db->retry_at : LLONG_MAX;
}

bool
ovs_ovsdb_is_connected(const struct ovs_ovsdb *db)
{
    return ovsdb_idl_is_connected(db->loop.idl);
}

bool
ovs_ovsdb_tcp_peer(const struct ovs_ovsdb *db, struct sockaddr_storage *peer)
{
    if (!db->tcp || !ovsdb_idl_is_connected(db->loop.idl)) {
        return false;
    }
    *peer = db->peer;
    return true;
}

bool
ovs_ovsdb_has_ever_connected(const struct ovs_ovsdb *db)
{
    return ovsdb_idl_has_ever_connected(db->loop.idl);
}

bool
ovs_ovsdb_is_idle(const struct ovs_ovsdb *db)
{
    return (ovsdb_idl_is_connected(db->loop.idl) && !db->need_reconcile
            && !db->loop.committing_txn);
}

bool
ovs_ovsdb_awaits_input(const struct ovs_ovsdb *db)
{
    return (ovsdb_idl_is_connected(db->loop.idl) && !db->need_reconcile
            && !retry_due(db));
}

bool
ovs_ovsdb_in_sync(const struct ovs_ovsdb *db)
{
    return ovsdb_idl_is_connected(db->loop.idl) && !db->changed
           && !db->need_reconcile && !db->loop.committing_txn
           && !db->problem[0];
}

unsigned int
ovs_ovsdb_seqno(const struct ovs_ovsdb *db)
{
    return db->map_seqno;
}

const struct simap *
ovs_ovsdb_iface_ofports(const struct ovs_ovsdb *db)
{
    return &db->iface_ofports;
}

const struct simap *
ovs_ovsdb_tunnel_ofports(const struct ovs_ovsdb *db)
{
    return &db->tunnel_ofports;
}

uint32_t
ovs_ovsdb_underlay_mtu(const struct ovs_ovsdb *db_)
{
    /* Asked for every status refresh: walked again only when the IDL's
     * contents changed. */
    struct ovs_ovsdb *db = CONST_CAST(struct ovs_ovsdb *, db_);
    unsigned int seqno = ovsdb_idl_get_seqno(db->loop.idl);
    if (db->mtu_valid && db->mtu_seqno == seqno) {
        return db->mtu;
    }
    db->mtu_valid = true;
    db->mtu_seqno = seqno;
    db->mtu = underlay_mtu(db);
    return db->mtu;
}

static uint32_t
underlay_mtu(const struct ovs_ovsdb *db)
{
    const struct ovsrec_open_vswitch *ovs
        = ovsrec_open_vswitch_first(db->loop.idl);
    int64_t mtu = 0;
    for (size_t i = 0; ovs && i < ovs->n_bridges; i++) {
        const struct ovsrec_bridge *br = ovs->bridges[i];
        if (!strcmp(br->name, OVS_BRIDGE)) {
            continue;
        }
        for (size_t j = 0; j < br->n_ports; j++) {
            const struct ovsrec_port *port = br->ports[j];
            for (size_t k = 0; k < port->n_interfaces; k++) {
                const struct ovsrec_interface *iface = port->interfaces[k];
                if ((!iface->type[0] || !strcmp(iface->type, "system")
                     || !strcmp(iface->type, "internal")
                     || !strcmp(iface->type, "dpdk"))
                    && iface->n_mtu && iface->mtu[0] > 0
                    && (!mtu || iface->mtu[0] < mtu)) {
                    mtu = iface->mtu[0];
                }
            }
        }
    }
    return mtu;
}

const char *
ovs_ovsdb_problem(const struct ovs_ovsdb *db)
{
    return db->problem;
}

const char *
ovs_ovsdb_apply_error(const struct ovs_ovsdb *db, uint64_t *n_errors)
{
    *n_errors = db->n_apply_errors;
    return db->txn_error[0] ? db->txn_error : db->refusal;
}

int
ovs_ovsdb_read_owned_ports(const char *remote, long long int timeout_ms,
                           struct smap *owned)
{
    struct ovsdb_idl *idl = ovsdb_idl_create(remote, &ovsrec_idl_class,
                                             false, false);
    ovsdb_idl_add_column(idl, &ovsrec_port_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_port_col_external_ids);
    long long int deadline = time_msec() + timeout_ms;
    int error = 0;
    for (;;) {
        ovsdb_idl_run(idl);
        if (ovsdb_idl_has_ever_connected(idl)) {
            break;
        } else if (!ovsdb_idl_is_alive(idl)) {
            error = ovsdb_idl_get_last_error(idl);
            error = error > 0 ? error : ECONNREFUSED;
            break;
        } else if (time_msec() >= deadline) {
            error = ETIMEDOUT;
            break;
        }
        ovsdb_idl_wait(idl);
        poll_timer_wait_until(deadline);
        poll_block();
    }
    if (!error) {
        const struct ovsrec_port *port;
        OVSREC_PORT_FOR_EACH (port, idl) {
            if (is_owned(&port->external_ids)) {
                const char *id = smap_get(&port->external_ids,
                                          OVS_PORT_ID_KEY);
                smap_replace(owned, port->name, id ? id : "");
            }
        }
    }
    ovsdb_idl_destroy(idl);
    return -error;
}
