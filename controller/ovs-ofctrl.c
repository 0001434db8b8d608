/* ovs-ofctrl.c - flow reconciliation over one OpenFlow 1.3 connection.
 *
 * States and transitions (like lib/rconn.c):
 *
 *   S_DISCONNECTED --(connected, OpenFlow 1.3 agreed)--> send flow-stats request for
 *       cookie 0x6e../0xff.., all tables --> S_DUMPING
 *   S_DUMPING --(last reply part)--> installed := dumped, next diff is
 *       of the whole sets --> S_SYNCED
 *   S_SYNCED --(desired != installed, in the changed keys)--> send one
 *       bundle add per flow mod of the diff (the first opens the bundle)
 *       and the bundle commit, in one flight --> S_COMMITTING
 *   S_SYNCED --(a diff of a single flow mod)--> send it alone (one flow mod
 *       is atomic by itself), barrier --> S_COMMITTING
 *   S_SYNCED --(desired == installed)--> installed_seq := desired_seq
 *   S_COMMITTING --(commit reply of a bundle, barrier reply of a single
 *       flow mod)--> installed += the change, installed_seq := pending_seq
 *       --> S_SYNCED
 *   S_COMMITTING, S_DUMPING --(OpenFlow error)--> log (rate-limited)
 *       --> S_BACKOFF
 *   S_BACKOFF --(backoff expired: 1 s doubling to 8 s)--> re-dump
 *       --> S_DUMPING
 *   S_SYNCED --(ovs_ofctrl_resync(): audit repair)--> re-dump --> S_DUMPING
 *   any --(connection lost or reconnected)--> S_DISCONNECTED
 *
 * Fencing (cluster mode, ovs_ofctrl_set_generation()): a role request for
 * primary with the owner's election generation goes out on every new
 * connection before the dump, and again whenever the generation changes;
 * the switch processes messages in order, so every flow mod after it is
 * from the primary or refused.  A role status saying another controller
 * took the primary role, or a STALE refusal, is counted and logged; the
 * flow mods that follow are refused by the switch (errors -> S_BACKOFF).
 *
 * Independently of these states, while connected, a flow-stats request for
 * the VM ports' drop flows in table 0 (port security and the MAC guard)
 * goes out under its own xid, every STATS_INTERVAL_MS while the counters
 * are read (ovs_ofctrl_set_drops_eager()), else every
 * STATS_SLOW_INTERVAL_MS; its replies refresh the per-port drop counters
 * (ovs_ofctrl_port_drops()).  A switch that
 * answered without any drop flow (no VM port) is asked again only once a
 * later desired set is installed on it: idle switches cost nothing.
 *
 * The bundle is ordered and atomic: the switch commits all of what it
 * took or none of it, and no packet sees half of it.  The commit follows the
 * adds without waiting for them to be acknowledged: a change costs one
 * round trip to each switch, and the commit reply confirms it: ofproto
 * sends it only once the commit applied to the flow tables (it handles
 * a commit whole, do_bundle_commit(), before it reads the next message),
 * as a barrier reply after it would, and a failed commit gets an error
 * instead.  What the switch checks when it takes a bundle add is the
 * message's form only (decoding, table id, action
 * validity: ofproto's handle_bundle_add()), the same for every switch
 * and every state, and every flow nvo makes passes an OpenFlow 1.3
 * encode-decode round trip in the unit tests (ovs_flow_is_canonical());
 * what depends on the switch's state (a full table, an overlap) fails the
 * commit, which then applies nothing.  Should an add be refused all the
 * same, the switch leaves it out of the bundle and the commit applies the
 * rest of the diff (ofproto keeps no trace of a refused add): the add's
 * error comes before the commit reply, the revision is not confirmed,
 * and after the backoff the re-dump shows what the switch holds and the
 * diff is sent again.  (Until 2026-12-02 the commit waited for a barrier
 * after the adds: two round trips per change, and on every switch of a
 * network each time a hypervisor joined it; until 2026-12-03 a barrier
 * followed the commit, and its reply, not the commit's, confirmed.)  Most
 * changes on a hypervisor that is not the VM's own are one flow (the
 * VM's MAC): those go without a bundle, in one round trip and two
 * messages. */
#include <config.h>
#include "controller/ovs-ofctrl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ovs-flows.h"
#include "controller/ovs-flowset.h"
#include "controller/ovs-ofconn.h"
#include "controller/ovs-ovsdb.h"
#include "byte-order.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openflow/openflow.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-connection.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ovs_ofctrl);

#define OFCTRL_STATES                               \
    STATE(S_DISCONNECTED, "disconnected")           \
    STATE(S_DUMPING, "dumping flows")               \
    STATE(S_SYNCED, "in sync")                      \
    STATE(S_COMMITTING, "committing bundle")        \
    STATE(S_BACKOFF, "backing off after an error")

enum ofctrl_state {
#define STATE(ENUM, NAME) ENUM,
    OFCTRL_STATES
#undef STATE
};

static const char *
state_name(enum ofctrl_state s)
{
    switch (s) {
#define STATE(ENUM, NAME) case ENUM: return NAME;
    OFCTRL_STATES
#undef STATE
    }
    return "unknown";
}

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 8000
/* Drop counters are asked for every STATS_INTERVAL_MS while someone reads
 * them (ovs_ofctrl_set_drops_eager()), else every STATS_SLOW_INTERVAL_MS:
 * at hundreds of switches, a flow-stats round trip per switch every 2 s
 * was most of what an idle controller cost. */
#define STATS_INTERVAL_MS 2000
#define STATS_SLOW_INTERVAL_MS 30000
/* While a diff is encoded, what is queued is written out whenever it
 * reaches this size. */
#define FLUSH_BYTES (64 * 1024)

/* Packets the drop flows of one VM port counted. */
struct port_drops {
    struct hmap_node node;      /* By hash_uint64(port_id). */
    int64_t port_id;
    uint64_t packets;
};

struct ovs_ofctrl {
    char *name;
    char *target;               /* OpenFlow target ("tcp:IP:PORT"). */
    struct ovs_ofconn *conn;
    unsigned int conn_seqno;    /* The connection's seqno, as handled. */
    enum ofctrl_state state;

    const struct ovs_flowset *desired;  /* Borrowed; NULL until set. */
    struct ovs_flowset changed; /* Keys changed since the last diff. */
    bool full_diff;             /* Next diff: of the whole sets. */
    uint64_t desired_seq;
    struct ovs_flowset installed;
    uint64_t installed_seq;
    /* The bundle in flight: copies of the flows it adds or modifies, and
     * the keys it deletes. */
    struct ovs_flowset pending_put;
    struct ovs_flowset pending_del;
    uint64_t pending_seq;
    size_t pending_n_mods;
    long long int pending_start;    /* time_msec() it went out. */
    bool pending_first;         /* First diff after a dump: log it. */

    ovs_be32 xid;               /* Awaited reply: dump, barrier or commit. */
    uint64_t generation;        /* Primary election id; 0: no role. */
    bool first_diff;            /* No diff sent since the last dump. */
    uint32_t bundle_id;

    long long int backoff_until;
    int backoff_ms;

    ovs_be32 stats_xid;         /* Awaited drop-counter reply, or 0. */
    long long int next_stats;   /* When to ask again. */
    struct hmap drops;          /* Contains struct port_drops: last full
                                 * reply. */
    struct hmap drops_next;     /* Being filled from a multipart reply. */
    uint64_t drops_seq;         /* Full replies taken into 'drops'. */
    /* A switch holds drop flows only once nvo installed some: after an
     * answer without any, it is asked again only once a later desired set
     * was installed ('installed_seq' moved on from 'stats_seq', what it
     * was when that question went out). */
    bool stats_none;            /* The latest full answer had no drop flow. */
    uint64_t stats_seq;         /* 'installed_seq' when last asked. */
    bool stats_eager;           /* Ask every STATS_INTERVAL_MS. */

    struct ovs_ofctrl_stats stats;
};

struct ovs_ofctrl *
ovs_ofctrl_create(const char *target, const char *name)
{
    struct ovs_ofctrl *ofc = xzalloc(sizeof *ofc);
    ofc->name = xstrdup(name);
    ofc->target = xstrdup(target);
    /* Echo probe after OVS_OF_PROBE_S of silence, as the switch's end;
     * backoff up to 8 s (as rconn did). */
    ofc->conn = ovs_ofconn_create(target, name, OVS_OF_PROBE_S, 8);
    ofc->conn_seqno = ovs_ofconn_get_seqno(ofc->conn);
    ovs_flowset_init(&ofc->changed);
    ovs_flowset_init(&ofc->installed);
    ovs_flowset_init(&ofc->pending_put);
    ovs_flowset_init(&ofc->pending_del);
    ofc->full_diff = true;
    ofc->backoff_ms = BACKOFF_MIN_MS;
    hmap_init(&ofc->drops);
    hmap_init(&ofc->drops_next);
    return ofc;
}

static void
drops_clear(struct hmap *h)
{
    struct port_drops *d;
    HMAP_FOR_EACH_POP (d, node, h) {
        free(d);
    }
}

void
ovs_ofctrl_destroy(struct ovs_ofctrl *ofc)
{
    if (ofc) {
        ovs_ofconn_destroy(ofc->conn);
        ovs_flowset_destroy(&ofc->changed);
        ovs_flowset_destroy(&ofc->installed);
        ovs_flowset_destroy(&ofc->pending_put);
        ovs_flowset_destroy(&ofc->pending_del);
        drops_clear(&ofc->drops);
        hmap_destroy(&ofc->drops);
        drops_clear(&ofc->drops_next);
        hmap_destroy(&ofc->drops_next);
        free(ofc->name);
        free(ofc->target);
        free(ofc);
    }
}

static void
set_state(struct ovs_ofctrl *ofc, enum ofctrl_state s)
{
    if (ofc->state != s) {
        VLOG_DBG("%s: OpenFlow %s -> %s", ofc->name, state_name(ofc->state),
                 state_name(s));
        ofc->state = s;
    }
}

bool
ovs_ofctrl_set_desired(struct ovs_ofctrl *ofc,
                       const struct ovs_flowset *desired,
                       struct ovs_flowset *changed, uint64_t seq)
{
    if (desired == ofc->desired && !ovs_flowset_count(changed)) {
        return false;
    }
    if (desired != ofc->desired) {
        ofc->desired = desired;
        ofc->full_diff = true;
    }
    if (ofc->full_diff) {
        ovs_flowset_clear(changed);
    } else if (!ovs_flowset_count(&ofc->changed)) {
        ovs_flowset_swap(&ofc->changed, changed);
    } else {
        struct ovs_flow *f;
        HMAP_FOR_EACH_POP (f, node, &changed->flows) {
            if (ovs_flowset_find_flow(&ofc->changed, f)) {
                ovs_flow_destroy(f);
            } else {
                ovs_flowset_insert(&ofc->changed, f);
            }
        }
    }
    ofc->desired_seq = seq;
    return true;
}

static void
pending_clear(struct ovs_ofctrl *ofc)
{
    ovs_flowset_clear(&ofc->pending_put);
    ovs_flowset_clear(&ofc->pending_del);
}

/* After a dump: the installed set is new, diff everything once. */
static void
need_full_diff(struct ovs_ofctrl *ofc)
{
    ofc->full_diff = true;
    ovs_flowset_clear(&ofc->changed);
}

/* Queues 'msg' (taking it); returns its xid.  What a run queues goes out
 * in one write at its end (ovs_ofconn_flush()); a large diff also in
 * FLUSH_BYTES pieces while it is encoded. */
static ovs_be32
send_msg(struct ovs_ofctrl *ofc, struct ofpbuf *msg)
{
    ovs_be32 xid = ((const struct ofp_header *) msg->data)->xid;
    ovs_ofconn_send(ofc->conn, msg);
    return xid;
}

static void
send_dump(struct ovs_ofctrl *ofc)
{
    struct ofputil_flow_stats_request fsr = {
        .aggregate = false,
        .cookie = htonll(OVS_COOKIE_MARK),
        .cookie_mask = htonll(OVS_COOKIE_MARK_MASK),
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .table_id = OFPTT_ALL,
    };
    match_init_catchall(&fsr.match);
    ovs_flowset_clear(&ofc->installed);
    ofc->installed_seq = 0;
    ofc->xid = send_msg(ofc, ofputil_encode_flow_stats_request(
                            &fsr, OFPUTIL_P_OF13_OXM));
    set_state(ofc, S_DUMPING);
}

static void
enter_backoff(struct ovs_ofctrl *ofc)
{
    ofc->stats.n_failures++;
    ofc->backoff_until = time_msec() + ofc->backoff_ms;
    ofc->backoff_ms = MIN(ofc->backoff_ms * 2, BACKOFF_MAX_MS);
    pending_clear(ofc);
    set_state(ofc, S_BACKOFF);
}

/* Encodes change 'c' as a flow_mod, wrapped in a bundle add if 'bundle',
 * and sends it. */
static void
send_change(struct ovs_ofctrl *ofc, const struct ovs_flow_change *c,
            bool bundle)
{
    const struct ovs_flow *f = c->flow;
    struct ofputil_flow_mod fm = {
        .match = f->match,
        .priority = f->priority,
        .table_id = f->table_id,
        .buffer_id = UINT32_MAX,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .new_cookie = OVS_BE64_MAX,
    };
    switch (c->type) {
    case OVS_FLOW_ADD:
        fm.command = OFPFC_ADD;
        fm.new_cookie = htonll(f->cookie);
        break;
    case OVS_FLOW_MODIFY:
        fm.command = OFPFC_MODIFY_STRICT;
        fm.cookie = htonll(f->cookie);
        fm.cookie_mask = OVS_BE64_MAX;
        break;
    case OVS_FLOW_DELETE:
        fm.command = OFPFC_DELETE_STRICT;
        fm.cookie = htonll(f->cookie);
        fm.cookie_mask = OVS_BE64_MAX;
        break;
    }
    /* An add is encoded once for a flow and its clones (the same flow on
     * every hypervisor of a network: ovs_flow_add_msg()), and queued or
     * wrapped in a bundle add from there.  Otherwise: the instructions end
     * an OpenFlow 1.3 flow_mod, and the flow holds them encoded already
     * (its 'wire'): the flow_mod is encoded without actions and they are
     * appended, rather than encoded once more. */
    const struct ofpbuf *shared = (c->type == OVS_FLOW_ADD
                                   ? ovs_flow_add_msg(f) : NULL);
    if (shared && !bundle) {
        ovs_ofconn_send_copy(ofc->conn, shared);
        return;
    }
    struct ofpbuf *inner = NULL;
    size_t wire_len = 0;
    if (!shared) {
        inner = ofputil_encode_flow_mod(&fm, OFPUTIL_P_OF13_OXM);
        wire_len = c->type != OVS_FLOW_DELETE ? f->wire_len : 0;
        if (!bundle) {
            /* The instructions appended as it is queued: 'inner' has no
             * room for them. */
            ovs_ofconn_send_tail(ofc->conn, inner, f->wire, wire_len);
            return;
        }
    }
    struct ofputil_bundle_add_msg bam = {
        .bundle_id = ofc->bundle_id,
        .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
        .msg = shared ? shared->data : inner->data,
    };
    struct ofpbuf *add = ofputil_encode_bundle_add(OFP13_VERSION, &bam);
    if (inner) {
        /* The embedded flow_mod ends the bundle add, and its instructions
         * are appended to both as the bundle add is queued (which sets the
         * outer length): not copied into 'inner' and then once more into
         * 'add' (a BUM flow modified on a join is 32 bytes per VTEP). */
        struct ofp_header *oh = ofpbuf_at_assert(add, add->size - inner->size,
                                                 sizeof *oh);
        oh->length = htons(inner->size + wire_len);
        ofpbuf_delete(inner);
    }
    ovs_ofconn_send_tail(ofc->conn, add, f->wire, wire_len);
}

/* Queues a bundle control request of 'type'; returns its xid. */
static ovs_be32
send_bundle_ctrl(struct ovs_ofctrl *ofc, uint16_t type)
{
    struct ofputil_bundle_ctrl_msg bc = {
        .bundle_id = ofc->bundle_id,
        .type = type,
        .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
    };
    return send_msg(ofc, ofputil_encode_bundle_ctrl_request(OFP13_VERSION,
                                                            &bc));
}

/* In S_SYNCED: sends the diff between desired and installed, if any. */
static void
maybe_send_diff(struct ovs_ofctrl *ofc)
{
    if (ofc->installed_seq == ofc->desired_seq || !ofc->desired) {
        return;
    }
    bool first = ofc->first_diff;
    ofc->first_diff = false;
    struct ovs_flow_changes changes;
    if (ofc->full_diff) {
        ovs_flowset_diff(ofc->desired, &ofc->installed, &changes);
    } else {
        ovs_flowset_diff_keys(ofc->desired, &ofc->installed, &ofc->changed,
                              &changes);
    }
    ofc->full_diff = false;
    ovs_flowset_clear(&ofc->changed);
    if (!changes.n) {
        if (first) {
            VLOG_INFO("%s: switch already holds the desired %"PRIuSIZE
                      " flows", ofc->name, ovs_flowset_count(ofc->desired));
        }
        ofc->installed_seq = ofc->desired_seq;
        ovs_flow_changes_destroy(&changes);
        return;
    }
    /* The first diff after a (re)connection says how far the switch was
     * from the desired state: worth a line in the log. */
    enum vlog_level level = first ? VLL_INFO : VLL_DBG;
    VLOG(level, "%s: sending %"PRIuSIZE" adds, %"PRIuSIZE" modifies, "
         "%"PRIuSIZE" deletes", ofc->name, changes.n_add, changes.n_modify,
         changes.n_delete);
    if (VLOG_IS_DBG_ENABLED()) {
        for (size_t i = 0; i < changes.n; i++) {
            struct ds s = DS_EMPTY_INITIALIZER;
            ovs_flow_format(changes.changes[i].flow, &s);
            VLOG_DBG("%s: %s %s", ofc->name,
                     changes.changes[i].type == OVS_FLOW_ADD ? "add"
                     : changes.changes[i].type == OVS_FLOW_MODIFY ? "modify"
                     : "delete", ds_cstr(&s));
            ds_destroy(&s);
        }
    }

    bool bundle = changes.n > 1;
    ofc->bundle_id++;
    for (size_t i = 0; i < changes.n; i++) {
        send_change(ofc, &changes.changes[i], bundle);
        /* A large diff goes out as it is encoded: the switch starts
         * validating the first adds while the rest are encoded. */
        if (ovs_ofconn_backlog(ofc->conn) >= FLUSH_BYTES) {
            ovs_ofconn_flush(ofc->conn);
        }
    }
    if (bundle) {
        /* Its reply confirms the bundle: ofproto sends it only once the
         * commit applied to the flow tables (do_bundle_commit()). */
        ofc->xid = send_bundle_ctrl(ofc, OFPBCT_COMMIT_REQUEST);
    } else {
        /* Straight into the connection's output: no buffer of its own. */
        ofc->xid = ovs_ofconn_send_raw(ofc->conn,
                                       OFPRAW_OFPT11_BARRIER_REQUEST);
    }
    ofc->pending_n_mods = changes.n;
    ovs_ofconn_flush(ofc->conn);

    /* What the installed set becomes once the bundle commits: copies,
     * since 'desired' may change meanwhile (made while the switch works
     * on the bundle). */
    pending_clear(ofc);
    for (size_t i = 0; i < changes.n; i++) {
        const struct ovs_flow *f = changes.changes[i].flow;
        if (changes.changes[i].type == OVS_FLOW_DELETE) {
            ovs_flowset_add_key(&ofc->pending_del, f);
        } else {
            ovs_flowset_insert(&ofc->pending_put, ovs_flow_clone(f));
        }
    }
    ovs_flow_changes_destroy(&changes);
    ofc->pending_seq = ofc->desired_seq;
    ofc->pending_start = time_msec();
    ofc->pending_first = first;
    set_state(ofc, S_COMMITTING);
}

/* Calls 'fn' for every flow in flow-stats reply 'oh' (bad entries end the
 * walk, logged). */
static void
for_each_flow_stat(struct ovs_ofctrl *ofc, const struct ofp_header *oh,
                   void (*fn)(struct ovs_ofctrl *,
                              const struct ofputil_flow_stats *))
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    uint64_t stub[1024 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);

    for (;;) {
        struct ofputil_flow_stats fs;
        int retval = ofputil_decode_flow_stats_reply(&fs, &b, false,
                                                     &ofpacts);
        if (retval) {
            if (retval != EOF) {
                VLOG_WARN_RL(&rl, "%s: bad flow stats reply: %s", ofc->name,
                             ofperr_to_string(retval));
            }
            break;
        }
        fn(ofc, &fs);
    }
    ofpbuf_uninit(&ofpacts);
}

static void
add_dumped_flow(struct ovs_ofctrl *ofc, const struct ofputil_flow_stats *fs)
{
    uint64_t cookie = ntohll(fs->cookie);
    if (ovs_cookie_is_nvo(cookie)) {
        ovs_flowset_add(&ofc->installed, fs->table_id, fs->priority,
                        &fs->match, cookie, fs->ofpacts, fs->ofpacts_len,
                        NULL);
    }
}

static void
handle_stats_reply(struct ovs_ofctrl *ofc, const struct ofp_header *oh)
{
    for_each_flow_stat(ofc, oh, add_dumped_flow);
    if (!ofpmp_more(oh)) {
        VLOG_INFO("%s: OpenFlow connected, switch holds %"PRIuSIZE" nvo "
                  "flows", ofc->name, ovs_flowset_count(&ofc->installed));
        ofc->first_diff = true;
        need_full_diff(ofc);
        set_state(ofc, S_SYNCED);
    }
}

/* Asks for the drop flows of every VM port (table 0, port cookies). */
static void
send_stats_request(struct ovs_ofctrl *ofc)
{
    struct ofputil_flow_stats_request fsr = {
        .aggregate = false,
        .cookie = htonll(ovs_cookie(OVS_COOKIE_PORT, 0)),
        .cookie_mask = htonll(~OVS_COOKIE_ID_MASK),
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .table_id = OVS_TABLE_CLASSIFY,
    };
    match_init_catchall(&fsr.match);
    drops_clear(&ofc->drops_next);
    ofc->stats_xid = send_msg(ofc, ofputil_encode_flow_stats_request(
                                  &fsr, OFPUTIL_P_OF13_OXM));
    ofc->stats_seq = ofc->installed_seq;
    ofc->next_stats = time_msec() + (ofc->stats_eager ? STATS_INTERVAL_MS
                                     : STATS_SLOW_INTERVAL_MS);
}

/* Whether the drop counters are worth asking for (when 'next_stats' is
 * due): connected, and the switch may hold drop flows. */
static bool
stats_wanted(const struct ovs_ofctrl *ofc)
{
    return (ofc->state != S_DISCONNECTED
            && (!ofc->stats_none || ofc->installed_seq != ofc->stats_seq));
}

static void
add_drops(struct ovs_ofctrl *ofc, const struct ofputil_flow_stats *fs)
{
    if (fs->ofpacts_len || fs->packet_count == UINT64_MAX) {
        return;                 /* Not a drop flow, or no count. */
    }
    int64_t port_id = ntohll(fs->cookie) & OVS_COOKIE_ID_MASK;
    uint32_t hash = hash_uint64(port_id);
    struct port_drops *d;
    HMAP_FOR_EACH_WITH_HASH (d, node, hash, &ofc->drops_next) {
        if (d->port_id == port_id) {
            d->packets += fs->packet_count;
            return;
        }
    }
    d = xzalloc(sizeof *d);
    d->port_id = port_id;
    d->packets = fs->packet_count;
    hmap_insert(&ofc->drops_next, &d->node, hash);
}

static void
handle_drops_reply(struct ovs_ofctrl *ofc, const struct ofp_header *oh)
{
    for_each_flow_stat(ofc, oh, add_drops);
    if (!ofpmp_more(oh)) {
        drops_clear(&ofc->drops);
        hmap_swap(&ofc->drops, &ofc->drops_next);
        ofc->stats_xid = 0;
        ofc->stats_none = hmap_is_empty(&ofc->drops);
        ofc->drops_seq++;
    }
}

void
ovs_ofctrl_port_drops(const struct ovs_ofctrl *ofc,
                      ovs_ofctrl_drops_cb *cb, void *aux)
{
    const struct port_drops *d;
    HMAP_FOR_EACH (d, node, &ofc->drops) {
        cb(aux, d->port_id, d->packets);
    }
}

uint64_t
ovs_ofctrl_drops_seq(const struct ovs_ofctrl *ofc)
{
    return ofc->drops_seq;
}

void
ovs_ofctrl_set_drops_eager(struct ovs_ofctrl *ofc, bool eager)
{
    if (eager && !ofc->stats_eager) {
        /* Someone reads the counters again: refresh them at the next run,
         * unless an answer is on its way. */
        long long int now = time_msec();
        if (!ofc->stats_xid && ofc->next_stats > now) {
            ofc->next_stats = now;
        }
    }
    ofc->stats_eager = eager;
}

/* The reply that confirms the change in flight: the barrier reply after
 * a single flow mod, the commit reply of a bundle. */
static void
handle_confirmation(struct ovs_ofctrl *ofc)
{
    if (ofc->state == S_COMMITTING) {
        struct ovs_flow *f;
        if (!ovs_flowset_count(&ofc->installed)
            && !ovs_flowset_count(&ofc->pending_del)) {
            /* A switch that held nothing (a cold connect): it now holds
             * exactly the bundle's flows, and the confirmation need not
             * wait for them to be inserted one by one. */
            ovs_flowset_swap(&ofc->installed, &ofc->pending_put);
        }
        HMAP_FOR_EACH_POP (f, node, &ofc->pending_del.flows) {
            struct ovs_flow *i = ovs_flowset_find_flow(&ofc->installed, f);
            if (i) {
                ovs_flowset_remove(&ofc->installed, i);
            }
            ovs_flow_destroy(f);
        }
        HMAP_FOR_EACH_POP (f, node, &ofc->pending_put.flows) {
            ovs_flowset_insert(&ofc->installed, f);
        }
        ofc->installed_seq = ofc->pending_seq;
        ofc->stats.n_bundles++;
        ofc->stats.n_flow_mods += ofc->pending_n_mods;
        ofc->backoff_ms = BACKOFF_MIN_MS;
        VLOG(ofc->pending_first ? VLL_INFO : VLL_DBG,
             "%s: %"PRIuSIZE" flow mods committed in %lld ms", ofc->name,
             ofc->pending_n_mods, time_msec() - ofc->pending_start);
        set_state(ofc, S_SYNCED);
    }
}

/* Asks for the primary role with election id ofc->generation. */
static void
send_role_request(struct ovs_ofctrl *ofc)
{
    struct ofpbuf *msg = ofpraw_alloc(OFPRAW_OFPT12_ROLE_REQUEST,
                                      OFP13_VERSION, 0);
    struct ofp12_role_request *rr = ofpbuf_put_zeros(msg, sizeof *rr);
    rr->role = htonl(OFPCR12_ROLE_PRIMARY);
    rr->generation_id = htonll(ofc->generation);
    send_msg(ofc, msg);
}

void
ovs_ofctrl_set_generation(struct ovs_ofctrl *ofc, uint64_t generation)
{
    if (generation == ofc->generation) {
        return;
    }
    ofc->generation = generation;
    if (generation && ofc->state != S_DISCONNECTED
        && ovs_ofconn_is_connected(ofc->conn)) {
        send_role_request(ofc);
    }
}

/* A role reply or status: logs what the switch made of us. */
static void
handle_role(struct ovs_ofctrl *ofc, const struct ofp_header *oh,
            enum ofptype type)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    if (type == OFPTYPE_ROLE_REPLY) {
        struct ofputil_role_request rr;
        if (!ofputil_decode_role_message(oh, &rr)) {
            VLOG_DBG("%s: primary, election generation %"PRIu64, ofc->name,
                     rr.generation_id);
        }
        return;
    }
    struct ofputil_role_status rs;
    if (!ofputil_decode_role_status(oh, &rs)
        && rs.role == OFPCR12_ROLE_SECONDARY) {
        ofc->stats.n_demoted++;
        VLOG_WARN_RL(&rl, "%s: another controller took the switch (primary "
                     "election generation %"PRIu64" > ours, %"PRIu64"); "
                     "its flow mods are refused to us", ofc->name,
                     rs.generation_id, ofc->generation);
    }
}

static void
handle_error(struct ovs_ofctrl *ofc, const struct ofp_header *oh)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    enum ofperr error = ofperr_decode_msg(oh, NULL);
    if (error == OFPERR_OFPRRFC_STALE) {
        ofc->stats.n_demoted++;
    }

    VLOG_WARN_RL(&rl, "%s: OpenFlow error while %s: %s", ofc->name,
                 state_name(ofc->state), ofperr_to_string(error));
    if (ofc->state == S_COMMITTING
        && oh->xid != ofc->stats_xid && error != OFPERR_OFPRRFC_STALE
        && error != OFPERR_OFPBRC_IS_SECONDARY) {
        /* The switch refused a change: the caller reports it as the
         * reason the desired set is not applied (and it is retried after
         * the backoff).  Not when fencing refused it: another controller
         * owns the switch now, and its confirmation is what counts. */
        ofc->stats.n_apply_errors++;
        snprintf(ofc->stats.apply_error, sizeof ofc->stats.apply_error,
                 "OpenFlow error %s: %s", ofperr_get_name(error),
                 ofperr_get_description(error));
    }
    if (ofc->state == S_COMMITTING || ofc->state == S_DUMPING) {
        /* Start over from a fresh dump after a backoff: it shows what the
         * switch holds, whatever of the change it applied. */
        enter_backoff(ofc);
    }
}

static void
handle_msg(struct ovs_ofctrl *ofc, const struct ofp_header *oh)
{
    enum ofptype type;
    if (ofptype_decode(&type, oh)) {
        return;
    }
    switch (type) {
    case OFPTYPE_FLOW_STATS_REPLY:
        if (ofc->state == S_DUMPING && oh->xid == ofc->xid) {
            handle_stats_reply(ofc, oh);
        } else if (ofc->stats_xid && oh->xid == ofc->stats_xid) {
            handle_drops_reply(ofc, oh);
        }
        break;
    case OFPTYPE_BARRIER_REPLY:
    case OFPTYPE_BUNDLE_CONTROL:
        if (oh->xid == ofc->xid) {
            handle_confirmation(ofc);
        }
        break;
    case OFPTYPE_ERROR:
        handle_error(ofc, oh);
        break;
    case OFPTYPE_ROLE_REPLY:
    case OFPTYPE_ROLE_STATUS:
        handle_role(ofc, oh, type);
        break;
    default:
        /* Port status, echo replies: nothing to do
         * (ovs-ofconn answers echo requests). */
        break;
    }
}

void
ovs_ofctrl_run(struct ovs_ofctrl *ofc, bool unreadable)
{
    ovs_ofconn_run(ofc->conn, unreadable);

    unsigned int seqno = ovs_ofconn_get_seqno(ofc->conn);
    if (seqno != ofc->conn_seqno) {
        ofc->conn_seqno = seqno;
        ovs_flowset_clear(&ofc->installed);
        pending_clear(ofc);
        ofc->installed_seq = 0;
        ofc->stats_xid = 0;
        ofc->next_stats = 0;
        ofc->stats_none = false;
        if (ofc->state != S_DISCONNECTED) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
            VLOG_WARN_RL(&rl, "%s: OpenFlow connection lost", ofc->name);
        }
        set_state(ofc, S_DISCONNECTED);
    }
    if (!ovs_ofconn_is_connected(ofc->conn)) {
        return;
    }
    if (ofc->state == S_DISCONNECTED) {
        ofc->backoff_ms = BACKOFF_MIN_MS;
        if (ofc->generation) {
            send_role_request(ofc);
        }
        send_dump(ofc);
    }

    for (int i = 0; ; i++) {
        if (i >= 500) {
            poll_immediate_wake();  /* More later; let others run. */
            break;
        }
        const struct ofp_header *oh = ovs_ofconn_recv(ofc->conn);
        if (!oh) {
            break;
        }
        handle_msg(ofc, oh);
        if (ovs_ofconn_get_seqno(ofc->conn) != ofc->conn_seqno) {
            return;
        }
    }

    if (ofc->state == S_BACKOFF && time_msec() >= ofc->backoff_until) {
        send_dump(ofc);
    }
    if (ofc->state == S_SYNCED) {
        maybe_send_diff(ofc);
    }
    if (stats_wanted(ofc) && time_msec() >= ofc->next_stats) {
        /* A reply that never came (xid still set) is given up here. */
        send_stats_request(ofc);
    }
    /* Everything this run queued (a diff's flow mods or bundle, its
     * barrier, echo replies), in one write. */
    ovs_ofconn_flush(ofc->conn);
}

void
ovs_ofctrl_wait(struct ovs_ofctrl *ofc)
{
    ovs_ofconn_wait(ofc->conn);
    if (ofc->state == S_BACKOFF) {
        poll_timer_wait_until(ofc->backoff_until);
    }
    if (stats_wanted(ofc)) {
        poll_timer_wait_until(ofc->next_stats);
    }
}

void
ovs_ofctrl_retry_now(struct ovs_ofctrl *ofc)
{
    ovs_ofconn_retry_now(ofc->conn);
}

void
ovs_ofctrl_resync(struct ovs_ofctrl *ofc)
{
    if (ofc->state == S_SYNCED && ovs_ofconn_is_connected(ofc->conn)) {
        VLOG_INFO("%s: resync requested: dumping flows again", ofc->name);
        send_dump(ofc);
    }
}

bool
ovs_ofctrl_is_idle(const struct ovs_ofctrl *ofc)
{
    return (ovs_ofconn_is_connected(ofc->conn) && ofc->state == S_SYNCED
            && ofc->installed_seq == ofc->desired_seq
            && !ovs_ofconn_backlog(ofc->conn));
}

int
ovs_ofctrl_input_fd(const struct ovs_ofctrl *ofc)
{
    bool awaiting = (ofc->state == S_DUMPING
                     || ofc->state == S_COMMITTING);
    if (!awaiting || (stats_wanted(ofc) && time_msec() >= ofc->next_stats)) {
        return -1;
    }
    return ovs_ofconn_input_fd(ofc->conn);
}

int
ovs_ofctrl_fd(const struct ovs_ofctrl *ofc, unsigned int *seqno)
{
    *seqno = ovs_ofconn_get_seqno(ofc->conn);
    return ovs_ofconn_fd(ofc->conn);
}

long long int
ovs_ofctrl_next_wake(const struct ovs_ofctrl *ofc)
{
    long long int wake = ovs_ofconn_next_wake(ofc->conn);
    if (ofc->state == S_BACKOFF) {
        wake = MIN(wake, ofc->backoff_until);
    }
    if (stats_wanted(ofc)) {
        wake = MIN(wake, ofc->next_stats);
    }
    return wake;
}

bool
ovs_ofctrl_is_connected(const struct ovs_ofctrl *ofc)
{
    return ovs_ofconn_is_connected(ofc->conn);
}

uint64_t
ovs_ofctrl_installed_seq(const struct ovs_ofctrl *ofc)
{
    return ofc->installed_seq;
}

uint64_t
ovs_ofctrl_desired_seq(const struct ovs_ofctrl *ofc)
{
    return ofc->desired_seq;
}

const char *
ovs_ofctrl_state(const struct ovs_ofctrl *ofc)
{
    return state_name(ofc->state);
}

void
ovs_ofctrl_get_stats(const struct ovs_ofctrl *ofc,
                     struct ovs_ofctrl_stats *st)
{
    *st = ofc->stats;
    st->n_installed = ovs_flowset_count(&ofc->installed);
}
