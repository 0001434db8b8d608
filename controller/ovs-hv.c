/* ovs-hv.c - one Open vSwitch hypervisor.
 *
 * It ties an OVSDB session (ovs-ovsdb: br-int's controller target, tunnel
 * and VM ports, ofports) to an OpenFlow connection (ovs-ofctrl: flows), and
 * confirms a view's revision once br-int holds all of it: every wanted port
 * is there with an ofport, no OVSDB transaction is in flight, and the flows
 * computed from the view and those ofports are committed (the bundle's
 * commit reply, or the barrier reply after a single flow mod).
 *
 * States and transitions (like lib/rconn.c):
 *
 *   HV_DB_CONNECTING --(OVSDB session up)--> HV_OF_CONNECTING
 *   HV_OF_CONNECTING --(OpenFlow session up)--> HV_SYNCING
 *   HV_SYNCING --(ports, ofports and flows as the view wants)--> HV_IN_SYNC
 *       (confirms the view's revision)
 *   HV_IN_SYNC --(new view, or br-int changed under us)--> HV_SYNCING
 *   any --(OpenFlow session lost)--> HV_OF_CONNECTING
 *   any --(OVSDB session lost)--> HV_DB_LOST
 *   HV_DB_LOST --(OVSDB session back)--> HV_OF_CONNECTING or HV_SYNCING
 *   any --(view names another OVSDB remote)--> HV_DB_CONNECTING
 *
 * Both sessions reconnect with backoff by themselves (IDL, ovs-ofconn).  The
 * state is derived from the sessions on every run, and each change is
 * logged.
 *
 * When the switch refuses part of a view (an OpenFlow error answering the
 * flow mods, a failed OVSDB transaction, an interface ovs-vswitchd cannot
 * add), the view's revision is reported failed with the switch's reason
 * (ovs_hv_take_failure()), at once, so that waiters need not time out;
 * both sessions keep retrying, and the first confirmation supersedes it. */
#include <config.h>
#include "controller/ovs-hv.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/desired.h"
#include "controller/ovs-flowinc.h"
#include "controller/ovs-flows.h"
#include "controller/ovs-flowset.h"
#include "controller/ovs-ofctrl.h"
#include "controller/ovs-ovsdb.h"
#include "controller/ovs-tunnels.h"
#include "lib/addr.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/shash.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "random.h"
#include "simap.h"
#include "socket-util.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ovs_hv);

#define HV_STATES                                       \
    STATE(HV_DB_CONNECTING, "connecting to OVSDB")      \
    STATE(HV_DB_LOST, "OVSDB connection lost")          \
    STATE(HV_OF_CONNECTING, "connecting to OpenFlow")   \
    STATE(HV_SYNCING, "syncing")                        \
    STATE(HV_IN_SYNC, "in sync")

enum hv_state {
#define STATE(ENUM, NAME) ENUM,
    HV_STATES
#undef STATE
};

static const char *
hv_state_name(enum hv_state s)
{
    switch (s) {
#define STATE(ENUM, NAME) case ENUM: return NAME;
    HV_STATES
#undef STATE
    }
    return "unknown";
}

struct ovs_hv {
    int64_t hv_id;
    struct nvo_hv_view *view;   /* Owned. */
    enum hv_state state;

    char *ovsdb_remote;
    struct ovs_ovsdb *db;       /* Owned. */
    struct ovs_ofctrl *ofc;     /* Owned; NULL if no OpenFlow target. */
    char *of_connect;
    long long int of_fast_until;    /* Retry OpenFlow quickly until then. */
    long long int of_next_retry;
    bool of_fast_in_sync;       /* OVSDB was in sync at the last run. */

    struct shash wants;         /* struct ovs_port_want, from 'view'. */
    bool wants_changed;

    struct ovs_flowinc *flows;  /* Owned: the desired flows, kept
                                 * incrementally. */
    bool flows_fresh;           /* 'flows' computed nothing this session. */
    struct ovs_flowset *cold;   /* Owned, or NULL: see cold_compute(). */
    uint64_t cold_seq;          /* Its ofctrl tag. */
    long long int cold_catch_up_at; /* When the engine replaces it, once it
                                     * is committed; 0: not yet. */
    struct ovs_flows_cache *flows_cache;    /* Borrowed, or NULL. */
    bool flows_dirty;           /* View changed: update flows. */
    unsigned int flows_db_seqno;/* ovs_ovsdb_seqno() the flows used. */
    uint64_t next_seq;
    bool complete;              /* Last computed flows lacked nothing. */
    char missing[96];           /* What they lacked, if anything. */
    int64_t complete_rev;       /* View revision of those flows. */
    uint64_t complete_seq;      /* Their ofctrl tag. */
    long long int next_check;   /* Next self-check (time_msec()). */
    uint64_t n_check_failures;  /* Self-checks that found a difference. */

    int64_t confirmed;
    int64_t to_report;          /* Confirmed, not yet taken. */

    uint64_t n_of_errors;       /* ofctrl's n_apply_errors, as seen. */
    uint64_t n_db_errors;       /* ovs_ovsdb_apply_error()'s count, seen. */
    uint64_t of_failed_bundles; /* ofctrl's n_bundles at its last error. */
    bool of_failing;            /* No commit since that OpenFlow error. */
    int64_t failed_rev;         /* Revision last reported failed. */
    int64_t fail_to_report;     /* Failed revision not yet taken, or 0. */
    char fail_error[160];       /* Why. */
    bool status_changed;        /* State or confirmation changed since
                                 * ovs_hv_take_status_change(). */
    uint64_t drops_seq;         /* ovs_ofctrl_drops_seq() last seen. */
    bool drops_eager;           /* ovs_hv_set_drops_eager(). */
    bool drops_changed;         /* It changed since
                                 * ovs_hv_take_drops_change(). */
    uint64_t n_connects;        /* hv_connect() calls, for ovs_hv_of_fd(). */
    uint64_t n_db_runs;         /* Runs of the OVSDB side... */
    uint64_t n_of_runs;         /* ...and of the OpenFlow side. */
};

int
ovs_hv_of_targets(const char *ovsdb, char **connect, char **listen)
{
    *connect = *listen = NULL;
    if (!ovsdb) {
        return -EINVAL;
    }
    bool ssl;
    struct sockaddr_storage ss;
    if (!nvo_inet_remote_parse(ovsdb, &ssl, &ss)) {
        /* TLS listens one port higher than plain: ovs-vswitchd binds a new
         * listener before it releases the old one, so swapping ptcp:6653
         * for pssl:6653:IP in one transaction fails with EADDRINUSE. */
        unsigned int port = ss_get_port(&ss);
        unsigned int of_port = port + (ssl ? 14 : 13);
        if (!port || of_port > 65535) {
            return -EINVAL;
        }
        struct ds host = DS_EMPTY_INITIALIZER;
        ss_format_address(&ss, &host);      /* IPv6 in brackets. */
        if (ssl) {
            /* Bound to the management address, TLS only. */
            *connect = xasprintf("ssl:%s:%u", ds_cstr(&host), of_port);
            *listen = xasprintf("pssl:%u:%s", of_port, ds_cstr(&host));
        } else {
            *connect = xasprintf("tcp:%s:%u", ds_cstr(&host), of_port);
            *listen = xasprintf("ptcp:%u", of_port);
        }
        ds_destroy(&host);
        return 0;
    }
    if (!strncmp(ovsdb, "unix:", 5)) {
        const char *path = ovsdb + 5;
        const char *slash = strrchr(path, '/');
        *connect = (slash
                    ? xasprintf("unix:%.*s/"OVS_BRIDGE".mgmt",
                                (int) (slash - path), path)
                    : xstrdup("unix:"OVS_BRIDGE".mgmt"));
        return 0;
    }
    return -EINVAL;
}

static void
hv_connect(struct ovs_hv *hv)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    const struct nvo_hv_view *v = hv->view;
    char *listen;

    free(hv->ovsdb_remote);
    hv->ovsdb_remote = nullable_xstrdup(v->ovsdb);
    free(hv->of_connect);
    hv->of_connect = NULL;
    if (ovs_hv_of_targets(v->ovsdb, &hv->of_connect, &listen)) {
        VLOG_WARN_RL(&rl, "%s: unusable OVSDB remote \"%s\"", v->name,
                     v->ovsdb ? v->ovsdb : "");
        return;
    }
    VLOG_INFO("%s: connecting to OVSDB %s, OpenFlow %s", v->name, v->ovsdb,
              hv->of_connect);
    hv->db = ovs_ovsdb_create(v->ovsdb, listen, v->name);
    hv->ofc = ovs_ofctrl_create(hv->of_connect, v->name);
    hv->n_connects++;
    ovs_ofctrl_set_generation(hv->ofc, v->fence);
    ovs_ofctrl_set_drops_eager(hv->ofc, hv->drops_eager);
    ovs_ovsdb_set_fence(hv->db, v->fence);
    hv->drops_seq = 0;
    hv->state = HV_DB_CONNECTING;
    hv->of_fast_until = 0;
    hv->of_fast_in_sync = false;
    hv->flows_dirty = true;
    hv->flows_db_seqno = UINT_MAX;  /* A new session: new ofport maps. */
    ovs_flowinc_reset(hv->flows);
    hv->flows_fresh = true;
    hv->wants_changed = true;
    free(listen);
}

static void
cold_free(struct ovs_hv *hv)
{
    if (hv->cold) {
        ovs_flowset_destroy(hv->cold);
        free(hv->cold);
        hv->cold = NULL;
    }
    hv->cold_catch_up_at = 0;
}

static void
hv_disconnect(struct ovs_hv *hv)
{
    ovs_ofctrl_destroy(hv->ofc);
    hv->ofc = NULL;
    cold_free(hv);
    ovs_ovsdb_destroy(hv->db);
    hv->db = NULL;
}

/* True if 'a' and 'b' want the same ports on br-int: the same local
 * interfaces, in networks of the same encapsulations (the tunnel ports
 * depend on nothing else: VTEPs coming and going never touch OVSDB).
 * Networks shared by both views are skipped at once (network views are
 * immutable). */
static bool
same_port_wants(const struct nvo_hv_view *a, const struct nvo_hv_view *b)
{
    if (!a || a->n_nets != b->n_nets) {
        return false;
    }
    for (size_t i = 0; i < a->n_nets; i++) {
        const struct nvo_net_view *x = a->nets[i], *y = b->nets[i];
        if (x == y) {
            continue;
        }
        if (x->n_locals != y->n_locals || x->encap != y->encap) {
            return false;
        }
        for (size_t j = 0; j < x->n_locals; j++) {
            if (x->locals[j].port_id != y->locals[j].port_id
                || strcmp(x->locals[j].iface, y->locals[j].iface)) {
                return false;
            }
        }
    }
    return true;
}

/* Makes 'view' (taken) the view; 'old' is the previous one (or NULL), which
 * the caller frees. */
static void
hv_set_wants(struct ovs_hv *hv, const struct nvo_hv_view *old)
{
    hv->flows_dirty = true;
    if (same_port_wants(old, hv->view)) {
        return;
    }
    ovs_ports_want_clear(&hv->wants);
    ovs_ports_want_compute(hv->view, &hv->wants);
    hv->wants_changed = true;
}

/* How often the incremental flows are checked against a full
 * computation. */
#define HV_SELF_CHECK_MS (5 * 60 * 1000)

struct ovs_hv *
ovs_hv_create(struct nvo_hv_view *view)
{
    struct ovs_hv *hv = xzalloc(sizeof *hv);
    hv->hv_id = view->hv_id;
    hv->view = view;
    hv->flows = ovs_flowinc_create();
    /* The first self-check comes at a random point of the first interval:
     * a controller that starts with a whole fleet would otherwise run
     * every hypervisor's full computation in the same second, every 5
     * minutes, and delay every VM start in that second. */
    hv->next_check = time_msec() + 1 + random_range(HV_SELF_CHECK_MS);
    hv->status_changed = true;
    shash_init(&hv->wants);
    hv_set_wants(hv, NULL);
    hv_connect(hv);
    return hv;
}

void
ovs_hv_destroy(struct ovs_hv *hv)
{
    if (hv) {
        hv_disconnect(hv);
        ovs_ports_want_clear(&hv->wants);
        shash_destroy(&hv->wants);
        ovs_flowinc_destroy(hv->flows);
        nvo_hv_view_destroy(hv->view);
        free(hv->ovsdb_remote);
        free(hv->of_connect);
        free(hv);
    }
}

void
ovs_hv_set_flows_cache(struct ovs_hv *hv, struct ovs_flows_cache *cache)
{
    hv->flows_cache = cache;
}

void
ovs_hv_resync(struct ovs_hv *hv)
{
    if (hv->ofc) {
        ovs_ofctrl_resync(hv->ofc);
    }
    /* And reconcile br-int's ports now: an unwanted port with nvo's mark
     * is the audit's drift too, and a quiet hypervisor's OVSDB updates
     * otherwise wait for their next timed run (ovs-sb.c). */
    hv->wants_changed = true;
}

void
ovs_hv_set_view(struct ovs_hv *hv, struct nvo_hv_view *view)
{
    bool reconnect = !nullable_string_is_equal(view->ovsdb,
                                               hv->ovsdb_remote);
    struct nvo_hv_view *old = hv->view;
    hv->view = view;
    hv_set_wants(hv, old);
    nvo_hv_view_destroy(old);
    if (hv->ofc) {
        ovs_ofctrl_set_generation(hv->ofc, view->fence);
    }
    ovs_ovsdb_set_fence(hv->db, view->fence);
    if (reconnect) {
        hv_disconnect(hv);
        hv_connect(hv);
    }
}

int64_t
ovs_hv_id(const struct ovs_hv *hv)
{
    return hv->hv_id;
}

#define HV_COLD_CATCH_UP_MS 500

static void
set_missing(struct ovs_hv *hv, const struct ds *names)
{
    hv->missing[0] = '\0';
    if (!hv->complete) {
        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_format(&s, "waiting for the ofport of %s", ds_cstr_ro(names));
        ovs_strlcpy(hv->missing, ds_cstr(&s), sizeof hv->missing);
        ds_destroy(&s);
    }
}

/* A cold start: the first flows of a session, before the switch's OpenFlow
 * session is up.  The full computation (ovs_flows_compute(), which the
 * incremental engine must always equal, and about half its cost from
 * scratch: no units to keep) gives the OpenFlow side the set to send as
 * soon as the switch is connected and dumped; the engine computes its own
 * table HV_COLD_CATCH_UP_MS after that set is committed (ovs_hv_run()),
 * off the way to the switch's first byte and to the confirmation, and
 * not while the switch still reports the new flows to its monitors. */
static void
cold_compute(struct ovs_hv *hv)
{
    struct ovs_flows_input in = {
        .view = hv->view,
        .iface_ofports = ovs_ovsdb_iface_ofports(hv->db),
        .tunnel_ofports = ovs_ovsdb_tunnel_ofports(hv->db),
    };
    struct ovs_flowset *fs = xmalloc(sizeof *fs);
    struct sset missing = SSET_INITIALIZER(&missing);
    struct ovs_flowset changed;

    ovs_flowset_init(fs);
    hv->complete = ovs_flows_compute(&in, fs, &missing);
    ovs_flowset_init(&changed);
    ovs_ofctrl_set_desired(hv->ofc, fs, &changed, ++hv->next_seq);
    ovs_flowset_destroy(&changed);
    cold_free(hv);
    hv->cold = fs;
    hv->cold_seq = ovs_ofctrl_desired_seq(hv->ofc);
    hv->complete_rev = hv->view->revision;
    hv->complete_seq = hv->cold_seq;

    struct ds names = DS_EMPTY_INITIALIZER;
    const char **sorted = sset_sort(&missing);
    for (size_t i = 0; sorted[i]; i++) {
        ds_put_format(&names, "%s%s", i ? " " : "", sorted[i]);
    }
    free(sorted);
    sset_destroy(&missing);
    set_missing(hv, &names);
    ds_destroy(&names);
}

/* Brings the desired flows up to date with the view and the ofports,
 * incrementally, and hands what changed to the OpenFlow connection. */
static void
compute_flows(struct ovs_hv *hv, bool maps_changed)
{
    if (hv->flows_fresh && !ovs_ofctrl_is_connected(hv->ofc)) {
        cold_compute(hv);
        return;
    }
    struct ovs_flows_input in = {
        .view = hv->view,
        .iface_ofports = ovs_ovsdb_iface_ofports(hv->db),
        .tunnel_ofports = ovs_ovsdb_tunnel_ofports(hv->db),
        .cache = hv->flows_cache,
    };
    struct ovs_flowset changed;

    ovs_flowinc_update(hv->flows, &in, maps_changed);
    hv->flows_fresh = false;
    ovs_flowset_init(&changed);
    ovs_flowinc_take_changes(hv->flows, &changed);
    ovs_ofctrl_set_desired(hv->ofc, ovs_flowinc_table(hv->flows), &changed,
                           ++hv->next_seq);
    ovs_flowset_destroy(&changed);
    cold_free(hv);              /* No longer borrowed by ofctrl. */
    hv->complete = ovs_flowinc_is_complete(hv->flows);
    hv->complete_rev = hv->view->revision;
    hv->complete_seq = ovs_ofctrl_desired_seq(hv->ofc);

    struct ds names = DS_EMPTY_INITIALIZER;
    if (!hv->complete) {
        ovs_flowinc_format_missing(hv->flows, &names);
    }
    set_missing(hv, &names);
    ds_destroy(&names);
}

/* Compares the incremental flows with a full computation of the same
 * input.  A difference is a bug: logged, counted, and repaired by a full
 * recomputation. */
static void
self_check(struct ovs_hv *hv)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    struct ovs_flows_input in = {
        .view = hv->view,
        .iface_ofports = ovs_ovsdb_iface_ofports(hv->db),
        .tunnel_ofports = ovs_ovsdb_tunnel_ofports(hv->db),
    };
    struct ovs_flowset full;

    /* Without the cache (in.cache is NULL): the check covers it too. */
    ovs_flowset_init(&full);
    ovs_flows_compute(&in, &full, NULL);
    if (!ovs_flowset_equal(&full, ovs_flowinc_table(hv->flows))) {
        hv->n_check_failures++;
        VLOG_ERR_RL(&rl, "%s: incremental flows (%"PRIuSIZE") differ from "
                    "a full computation (%"PRIuSIZE"); recomputing all",
                    hv->view->name,
                    ovs_flowset_count(ovs_flowinc_table(hv->flows)),
                    ovs_flowset_count(&full));
        ovs_flowinc_reset(hv->flows);
        compute_flows(hv, true);
    }
    ovs_flowset_destroy(&full);
}

uint64_t
ovs_hv_self_check_failures(const struct ovs_hv *hv)
{
    return hv->n_check_failures;
}

static enum hv_state
derive_state(const struct ovs_hv *hv)
{
    if (!ovs_ovsdb_is_connected(hv->db)) {
        return (ovs_ovsdb_has_ever_connected(hv->db) ? HV_DB_LOST
                : HV_DB_CONNECTING);
    }
    if (!ovs_ofctrl_is_connected(hv->ofc)) {
        return HV_OF_CONNECTING;
    }
    return hv->confirmed >= hv->view->revision ? HV_IN_SYNC : HV_SYNCING;
}

/* The switch opens br-int's passive OpenFlow listener only once it has
 * read the controller target nvo wrote through OVSDB, so the first OpenFlow
 * attempts may be refused.  For a few seconds after the OVSDB session
 * comes up, and again after OVSDB gets in sync, retry every
 * HV_OF_FAST_RETRY_MS instead of waiting out the connection's backoff: the
 * listener opens as soon as the switch has read the target, before the
 * transaction's reply may have come back, and a cold connect waits for it
 * (a refused attempt costs a connect() and its reset). */
#define HV_OF_FAST_WINDOW_MS 3000
#define HV_OF_FAST_RETRY_MS 10

static void
of_fast_retry(struct ovs_hv *hv)
{
    long long int now = time_msec();

    if (!ovs_ovsdb_is_connected(hv->db)) {
        hv->of_fast_until = 0;
        return;
    }
    bool in_sync = ovs_ovsdb_in_sync(hv->db);
    if (!hv->of_fast_until || (in_sync && !hv->of_fast_in_sync)) {
        hv->of_fast_until = now + HV_OF_FAST_WINDOW_MS;
        hv->of_next_retry = now;
    }
    hv->of_fast_in_sync = in_sync;
    if (ovs_ofctrl_is_connected(hv->ofc) || now >= hv->of_fast_until) {
        return;
    }
    if (now >= hv->of_next_retry) {
        ovs_ofctrl_retry_now(hv->ofc);
        hv->of_next_retry = now + HV_OF_FAST_RETRY_MS;
    }
    poll_timer_wait_until(hv->of_next_retry);
}

/* Notes a refusal by the switch of the current view (see the comment at
 * the top) for ovs_hv_take_failure(): once per refusal, and once per view
 * revision while one persists. */
static void
check_refusal(struct ovs_hv *hv)
{
    struct ovs_ofctrl_stats fs;
    memset(&fs, 0, sizeof fs);
    if (hv->ofc) {
        ovs_ofctrl_get_stats(hv->ofc, &fs);
    }
    uint64_t n_db;
    const char *db_error = ovs_ovsdb_apply_error(hv->db, &n_db);

    /* An OpenFlow refusal holds until the next commit succeeds. */
    bool fresh = false;
    if (fs.n_apply_errors != hv->n_of_errors) {
        hv->n_of_errors = fs.n_apply_errors;
        hv->of_failed_bundles = fs.n_bundles;
        hv->of_failing = true;
        fresh = true;
    } else if (fs.n_bundles != hv->of_failed_bundles) {
        hv->of_failing = false;
    }
    if (n_db != hv->n_db_errors) {
        hv->n_db_errors = n_db;
        fresh = true;
    }
    if (hv->confirmed >= hv->view->revision) {
        hv->of_failing = false;
        return;
    }
    const char *error = hv->of_failing ? fs.apply_error : db_error;
    if (error[0] && (fresh || hv->failed_rev < hv->view->revision)) {
        hv->failed_rev = hv->view->revision;
        hv->fail_to_report = hv->view->revision;
        snprintf(hv->fail_error, sizeof hv->fail_error, "%s", error);
    }
}

/* True if the OVSDB side has work in progress or pending: something to
 * reconcile or commit, a transaction in flight, the session down, or the
 * flows waiting for an ofport OVSDB is to report.  Otherwise the IDL is
 * neither run nor waited on, except when the southbound runs a quiet
 * hypervisor's OVSDB side (every second: its socket's input, updates made
 * by others, waits that long). */
static bool
hv_db_due(const struct ovs_hv *hv)
{
    return (hv->wants_changed || !hv->complete
            || !ovs_ovsdb_is_idle(hv->db) || !ovs_ovsdb_in_sync(hv->db));
}

/* The same for the OpenFlow side: a diff to send, a reply awaited, the
 * connection down or a backoff running. */
static bool
hv_of_due(const struct ovs_hv *hv)
{
    return hv->flows_dirty || !ovs_ofctrl_is_idle(hv->ofc);
}

void
ovs_hv_run(struct ovs_hv *hv, bool db, bool of, bool of_unreadable,
           bool db_unreadable)
{
    if (!hv->db) {
        return;
    }
    if (db || (hv_db_due(hv)
               && !(db_unreadable && !hv->wants_changed
                    && ovs_ovsdb_awaits_input(hv->db)))) {
        ovs_ovsdb_run(hv->db, &hv->wants, hv->wants_changed);
        hv->wants_changed = false;
        hv->n_db_runs++;
    }

    /* Flows need the ofports OVSDB reports: computing them before its
     * first contents arrived would delete every port's flows from a switch
     * that has them (e.g. right after a controller restart). */
    if (hv->cold_catch_up_at && time_msec() >= hv->cold_catch_up_at) {
        hv->flows_dirty = true;
    }
    unsigned int db_seqno = ovs_ovsdb_seqno(hv->db);
    if (ovs_ovsdb_has_ever_connected(hv->db)
        && (hv->flows_dirty || db_seqno != hv->flows_db_seqno)) {
        bool maps_changed = db_seqno != hv->flows_db_seqno;
        hv->flows_dirty = false;
        hv->flows_db_seqno = db_seqno;
        compute_flows(hv, maps_changed);
    }
    if (ovs_ovsdb_has_ever_connected(hv->db)
        && time_msec() >= hv->next_check) {
        hv->next_check = time_msec() + HV_SELF_CHECK_MS;
        if (!hv->cold) {        /* Else the engine has no table yet. */
            self_check(hv);
        }
    }
    of_fast_retry(hv);
    if (of || hv_of_due(hv)) {
        ovs_ofctrl_run(hv->ofc, of_unreadable);
        hv->n_of_runs++;
    }
    uint64_t drops_seq = ovs_ofctrl_drops_seq(hv->ofc);
    if (drops_seq != hv->drops_seq) {
        hv->drops_seq = drops_seq;
        hv->drops_changed = true;
    }

    uint64_t installed = ovs_ofctrl_installed_seq(hv->ofc);
    if (hv->complete && installed && installed >= hv->complete_seq
        && ovs_ovsdb_in_sync(hv->db) && hv->complete_rev > hv->confirmed) {
        hv->confirmed = hv->complete_rev;
        hv->to_report = hv->confirmed;
        hv->status_changed = true;
        VLOG_DBG("%s: confirmed revision %"PRId64, hv->view->name,
                 hv->confirmed);
    }
    if (hv->cold && installed >= hv->cold_seq && !hv->cold_catch_up_at) {
        /* The cold start's set is committed (and confirmed, if complete):
         * a run from then on (ovs_hv_next_wake() says when at the latest)
         * has the engine compute its table, which replaces it (the same
         * flows: nothing more goes to the switch). */
        hv->cold_catch_up_at = time_msec() + HV_COLD_CATCH_UP_MS;
    }
    check_refusal(hv);

    enum hv_state state = derive_state(hv);
    if (state != hv->state) {
        /* Syncing and back happens on every change of the view: worth a
         * line only when debugging, at hundreds of hypervisors. */
        bool routine = ((hv->state == HV_SYNCING && state == HV_IN_SYNC)
                        || (hv->state == HV_IN_SYNC && state == HV_SYNCING));
        VLOG(routine ? VLL_DBG : VLL_INFO, "%s: %s -> %s", hv->view->name,
             hv_state_name(hv->state), hv_state_name(state));
        hv->state = state;
        hv->status_changed = true;
    }
}

/* Work ovs_hv_run() does without either session having input: flows to
 * compute, a self-check due, a confirmation, failure or status change to
 * report.  Needs hv->db. */
static bool
hv_has_local_work(const struct ovs_hv *hv)
{
    return (hv->flows_dirty || hv->to_report || hv->fail_to_report
            || hv->status_changed
            || ovs_ovsdb_seqno(hv->db) != hv->flows_db_seqno
            || time_msec() >= hv->next_check);
}

bool
ovs_hv_awaits_input(const struct ovs_hv *hv, bool db_watched, int *of_fd,
                    bool *db_reply)
{
    *of_fd = -1;
    *db_reply = false;
    if (!hv->db || hv_has_local_work(hv)
        || (hv_db_due(hv) && (!db_watched || hv->wants_changed
                              || !ovs_ovsdb_awaits_input(hv->db)))) {
        return false;
    }
    /* Connected, nothing to reconcile (ovs_ovsdb_awaits_input()): not idle
     * means a transaction in flight. */
    *db_reply = !ovs_ovsdb_is_idle(hv->db);
    if (hv_of_due(hv)) {
        *of_fd = ovs_ofctrl_input_fd(hv->ofc);
        return *of_fd >= 0;
    }
    return true;
}

int
ovs_hv_of_fd(const struct ovs_hv *hv, uint64_t *id)
{
    unsigned int seqno = 0;
    int fd = hv->ofc ? ovs_ofctrl_fd(hv->ofc, &seqno) : -1;
    *id = (hv->n_connects << 32) | seqno;
    return fd;
}

bool
ovs_hv_db_tcp_peer(const struct ovs_hv *hv, struct sockaddr_storage *peer)
{
    return hv->db && ovs_ovsdb_tcp_peer(hv->db, peer);
}

long long int
ovs_hv_next_wake(const struct ovs_hv *hv, long long int *of_wake)
{
    *of_wake = hv->ofc ? ovs_ofctrl_next_wake(hv->ofc) : LLONG_MAX;
    long long int wake = hv->next_check;
    if (hv->db) {
        wake = MIN(wake, ovs_ovsdb_retry_at(hv->db));
    }
    if (hv->cold && hv->cold_catch_up_at) {
        wake = MIN(wake, hv->cold_catch_up_at);
    }
    return wake;
}

bool
ovs_hv_is_busy(const struct ovs_hv *hv)
{
    if (!hv->db) {
        return false;           /* Unusable remote: nothing to run. */
    }
    return (hv_has_local_work(hv) || hv->wants_changed
            || hv->confirmed < hv->view->revision
            || !ovs_ovsdb_is_idle(hv->db) || !ovs_ofctrl_is_idle(hv->ofc));
}

bool
ovs_hv_take_drops_change(struct ovs_hv *hv)
{
    bool changed = hv->drops_changed;
    hv->drops_changed = false;
    return changed;
}

void
ovs_hv_set_drops_eager(struct ovs_hv *hv, bool eager)
{
    hv->drops_eager = eager;
    if (hv->ofc) {
        ovs_ofctrl_set_drops_eager(hv->ofc, eager);
    }
}

bool
ovs_hv_take_status_change(struct ovs_hv *hv)
{
    bool changed = hv->status_changed;
    hv->status_changed = false;
    return changed;
}

bool
ovs_hv_wants_changed(const struct ovs_hv *hv)
{
    return hv->wants_changed;
}

void
ovs_hv_wait(struct ovs_hv *hv)
{
    poll_timer_wait_until(hv->next_check);
    if (hv->db) {
        /* Only the sides ovs_hv_run() would run: a socket nobody reads
         * would wake the loop again at once. */
        if (hv_db_due(hv)) {
            ovs_ovsdb_wait(hv->db);
        }
        if (hv_of_due(hv)) {
            ovs_ofctrl_wait(hv->ofc);
        }
    }
}

void
ovs_hv_get_run_stats(const struct ovs_hv *hv, uint64_t *n_db_runs,
                     uint64_t *n_of_runs)
{
    *n_db_runs = hv->n_db_runs;
    *n_of_runs = hv->n_of_runs;
}

int64_t
ovs_hv_take_confirmation(struct ovs_hv *hv)
{
    int64_t rev = hv->to_report;
    hv->to_report = 0;
    return rev;
}

int64_t
ovs_hv_take_failure(struct ovs_hv *hv, char **error)
{
    int64_t rev = hv->fail_to_report;
    hv->fail_to_report = 0;
    *error = rev ? xstrdup(hv->fail_error) : NULL;
    return rev;
}

static enum nvo_sb_state
sb_state(enum hv_state s)
{
    switch (s) {
    case HV_DB_CONNECTING: return NVO_SB_CONNECTING;
    case HV_DB_LOST: return NVO_SB_DISCONNECTED;
    case HV_OF_CONNECTING: return NVO_SB_CONNECTING;
    case HV_SYNCING: return NVO_SB_SYNCING;
    case HV_IN_SYNC: return NVO_SB_CONNECTED;
    }
    return NVO_SB_UNKNOWN;
}

void
ovs_hv_port_drops(const struct ovs_hv *hv, ovs_ofctrl_drops_cb *cb,
                  void *aux)
{
    if (hv->ofc) {
        ovs_ofctrl_port_drops(hv->ofc, cb, aux);
    }
}

void
ovs_hv_get_status(const struct ovs_hv *hv, struct nvo_sb_status *st)
{
    memset(st, 0, sizeof *st);
    st->confirmed_revision = hv->confirmed;
    st->n_flows = -1;
    if (hv->ofc) {
        struct ovs_ofctrl_stats fs;
        ovs_ofctrl_get_stats(hv->ofc, &fs);
        st->n_flows = fs.n_installed;
    }
    if (!hv->db) {
        st->state = NVO_SB_DISCONNECTED;
        snprintf(st->detail, sizeof st->detail, "unusable OVSDB remote");
        return;
    }
    st->underlay_mtu = ovs_ovsdb_underlay_mtu(hv->db);
    st->state = sb_state(hv->state);

    const char *problem = ovs_ovsdb_problem(hv->db);
    switch (hv->state) {
    case HV_DB_CONNECTING:
    case HV_DB_LOST:
        snprintf(st->detail, sizeof st->detail, "%s %s",
                 hv_state_name(hv->state), hv->ovsdb_remote);
        break;
    case HV_OF_CONNECTING:
        snprintf(st->detail, sizeof st->detail, "%s %s%s%s",
                 hv_state_name(hv->state), hv->of_connect,
                 *problem ? "; " : "", problem);
        break;
    case HV_SYNCING:
        snprintf(st->detail, sizeof st->detail, "%s",
                 *problem ? problem
                 : hv->missing[0] ? hv->missing
                 : ovs_ofctrl_state(hv->ofc));
        break;
    case HV_IN_SYNC: {
        struct ovs_ofctrl_stats stats;
        ovs_ofctrl_get_stats(hv->ofc, &stats);
        snprintf(st->detail, sizeof st->detail, "in sync: %"PRIuSIZE
                 " flows, %"PRIuSIZE" ports", stats.n_installed,
                 shash_count(&hv->wants));
        break;
    }
    }
}
