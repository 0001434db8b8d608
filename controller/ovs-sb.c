/* ovs-sb.c - the OVS southbound thread.
 *
 * libopenvswitch's IDL and stream/reconnect are built around its own poll loop
 * (*_run(), *_wait(), poll_block()), so all OVS work runs in one dedicated
 * thread on that loop, one struct ovs_hv per hypervisor.
 *
 *   main thread (libuv)                 OVS thread (poll_block)
 *   ovs_sb_set/remove --outbox, then once per loop iteration
 *                       mailbox+latch-->  ovs_hv_set_view/destroy
 *   confirm callback  <--queue+nvo_wake--  ovs_hv_take_confirmation
 *   failed callback   <--queue+nvo_wake--  ovs_hv_take_failure
 *   ovs_sb_status     <--status map-------  ovs_hv_get_status
 *
 * The mailbox, the confirmation queue and the status map are each guarded
 * by 'mutex'; nothing else is shared. */
#include <config.h>
#include "controller/ovs-sb.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "controller/desired.h"
#include "controller/ovs-flows.h"
#include "controller/ovs-hv.h"
#include "lib/pki.h"
#include "lib/uv-wake.h"
#include "fatal-signal.h"
#include "hash.h"
#include "heap.h"
#include "latch.h"
#include "openvswitch/hmap.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/shash.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-thread.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ovs_sb);

/* A request from the main thread. */
struct sb_op {
    struct ovs_list node;       /* In sb_outbox.ops, then ovs_sb.mailbox. */
    int64_t hv_id;
    struct nvo_hv_view *view;   /* Owned; NULL: remove 'hv_id'. */
    bool resync;                /* With view NULL: resync, not remove. */
};

/* A confirmation, or with 'error' a failure, of 'revision'. */
struct sb_confirm {
    struct ovs_list node;       /* In ovs_sb.confirms. */
    int64_t hv_id;
    int64_t revision;
    char *error;                /* Owned; NULL for a confirmation. */
    long long int taken_at;     /* OVS thread: when taken (time_msec()). */
};

/* One VM port's drop counter, as its switch last reported it. */
struct sb_drops {
    struct hmap_node node;      /* In ovs_sb.drops, by port_id. */
    int64_t port_id;
    uint64_t packets;
};

struct sb_status {
    struct hmap_node node;      /* In ovs_sb.status, by hv_id. */
    int64_t hv_id;
    struct nvo_sb_status st;
    long long int next_refresh; /* Refresh the details then at the latest. */
    bool stale;                 /* A refresh was skipped since the last. */
};

/* Status details (counts, what a hypervisor waits for) are refreshed at
 * most this often; state and confirmations at once.  Formatting every
 * hypervisor's status on every wake-up cost O(hypervisors) per message. */
#define SB_STATUS_REFRESH_MS 100

/* Main thread: the requests posted since the loop last came round, handed
 * to the OVS thread together from an idle callback (freed in its close
 * callback).  A VM start posts one view per hypervisor of its network and
 * a group-commit batch one set per write: handed over one by one, the
 * OVS thread woke, took part of them, ran and woke again several times
 * per write. */
struct sb_outbox {
    uv_idle_t idle;
    struct ovs_list ops;        /* Contains struct sb_op. */
};

struct ovs_sb {
    struct nvo_sb up;           /* The southbound interface. */

    /* Main thread only. */
    struct nvo_wake *wake;      /* Wakes it for confirmations. */
    struct sb_outbox *outbox;
    nvo_sb_confirm_cb *confirm;
    nvo_sb_failed_cb *failed;   /* May be NULL. */
    void *aux;
    pthread_t thread;

    /* Shared, under 'mutex'. */
    struct ovs_mutex mutex;
    struct ovs_list mailbox;    /* Contains struct sb_op. */
    struct ovs_list confirms;   /* Contains struct sb_confirm. */
    struct hmap status;         /* Contains struct sb_status. */
    struct hmap drops;          /* Contains struct sb_drops. */
    uint64_t n_check_failures;  /* Sum of the hypervisors' self-check
                                 * failures (ever, also of removed ones). */
    long long int drops_read_until; /* Drop counters are read (eager polls)
                                     * until then (time_msec()). */
    bool exiting;
    struct nvo_pki pki;         /* TLS files for ssl: remotes, or none. */
    struct timespec key_mtime;  /* OVS thread: 'pki' key and certificate */
    struct timespec cert_mtime; /* as last handed to stream-ssl. */

    struct latch latch;         /* Wakes the OVS thread. */

    /* OVS thread only. */
    struct hmap hvs;            /* Contains struct sb_hv. */
    struct ovs_list busy;       /* Contains the busy struct sb_hv that a
                                 * pass runs, by busy_node. */
    struct heap awaiting;       /* Contains the busy struct sb_hv that
                                 * only await an OpenFlow reply, by
                                 * await_node, earliest 'await_until'
                                 * first (see sb_hv_classify()). */
    size_t n_busy;              /* Length of 'busy' + 'awaiting'. */
    struct ovs_list ran;        /* Contains struct sb_hv, by ran_node. */
    struct heap quiet;          /* Contains the quiet struct sb_hv, by
                                 * quiet_node, earliest 'wake' first. */
    int epfd;                   /* epoll: every hypervisor's OpenFlow
                                 * socket, where known (sb_hv_watch()). */
    struct epoll_event *events; /* epoll_wait() results, room for */
    size_t allocated_events;    /* this many. */
    long long int ready_at;     /* The last pass epoll found sockets
                                 * readable in, or the tick carried over
                                 * from it (sb_wait_ready())... */
    bool ready_carried;         /* ...if the latter. */
    bool db_scan_wanted;        /* A quiet hypervisor's OVSDB socket is */
    long long int next_db_scan; /* to be found (sb_find_db_fds()). */
    uint64_t thread_check_failures; /* Published as n_check_failures. */
    struct ovs_flows_cache *flows_cache;    /* Lent to every hypervisor. */
    bool drops_eager;           /* As last applied to every hypervisor. */
    struct ovs_sb_stats thread_stats;   /* Published as 'stats'. */
    struct ovs_list held;       /* Contains struct sb_confirm taken but not
                                 * yet published (see SB_HOLD_MS). */
    long long int answered_at;  /* When the latest of them was taken. */

    /* Shared, under 'mutex' (published by the OVS thread). */
    struct ovs_sb_stats stats;
};

/* Where a hypervisor waits between runs ('busy', 'awaiting', 'in_quiet'):
 *
 *   QUIET (in ovs_sb.quiet, by 'wake'; see SB_QUIET_MS)
 *       --(a socket of its own readable, or 'wake' comes: sb_run_quiet()
 *       runs it, sb_publish() then decides)--> QUIET, or BUSY (and
 *       classified as below) if it has work now
 *   any --(a view or a resync: sb_take_mail())--> BUSY
 *   BUSY (on ovs_sb.busy: every pass runs it)
 *       --(published: all it waits for is input on its watched sockets,
 *       ovs_hv_awaits_input(), sb_hv_classify())--> AWAITING
 *       --(published: ovs_hv_is_busy() false, details fresh)--> QUIET
 *   AWAITING (in ovs_sb.awaiting, by 'await_until'; see SB_AWAIT_RUN_MS)
 *       --(its OpenFlow or OVSDB socket readable, 'await_until' comes: in
 *       sb_run_quiet(); a view or a resync)--> BUSY
 *   any --(removed: sb_take_mail())--> freed, out of every list and heap */
struct sb_hv {
    struct hmap_node node;      /* In ovs_sb.hvs, by hv_id. */
    struct ovs_hv *hv;
    struct ovs_list busy_node;  /* In ovs_sb.busy if 'busy' and not
                                 * 'awaiting'. */
    bool busy;                  /* ovs_hv_is_busy() after its last run. */
    struct heap_node await_node;    /* In ovs_sb.awaiting if 'awaiting'. */
    bool awaiting;              /* Busy, but only awaits a reply on its
                                 * watched OpenFlow socket: not run... */
    long long int await_until;  /* ...before then, or that socket (or its
                                 * watched OVSDB one) is readable. */
    struct ovs_list ran_node;   /* In ovs_sb.ran if 'ran'. */
    bool ran;                   /* Ran since its last sb_publish(). */
    bool stale;                 /* Its published status details are older
                                 * than what it would say now... */
    long long int next_refresh; /* ...and may be refreshed then. */
    uint64_t check_failures;    /* ovs_hv_self_check_failures(), as
                                 * summed into ovs_sb.n_check_failures. */
    long long int last_run;     /* time_msec() of its last run. */

    /* Its OpenFlow socket as registered in ovs_sb.epfd (sb_hv_watch()),
     * or -1 if it is not known (ssl:, unix:, not connected). */
    int watched_fd;
    uint64_t watched_id;        /* ovs_hv_of_fd()'s id for it. */
    bool of_ready;              /* epoll found that socket readable in this
                                 * pass: run the OpenFlow side. */

    /* Its OVSDB session's socket as found by sb_find_db_fds() and
     * registered in ovs_sb.epfd, or -1; that socket's inode, to tell it
     * from another one with the same number. */
    int db_fd;
    ino_t db_ino;
    bool db_ready;              /* Found readable in this pass. */

    /* Quiet hypervisors (not 'busy') wait in ovs_sb.quiet until 'wake',
     * the earliest of these and ovs_hv_next_wake()'s own timers: */
    struct heap_node quiet_node;
    bool in_quiet;              /* In ovs_sb.quiet. */
    long long int db_ran_at;    /* Its OVSDB side last ran then... */
    long long int of_ran_at;    /* ...its OpenFlow side then. */
    long long int db_due;       /* Run the OVSDB side then... */
    long long int of_due;       /* ...the OpenFlow side then. */
    long long int wake;
    bool quiet_run;             /* Its last run was as a quiet one. */

    /* Its round (see SB_HOLD_MS): the revision of the last view it was
     * given, then (time_msec()); the highest revision it confirmed or
     * refused; whether it answered its last round after its hold
     * deadline (sb_hv_hold_until()). */
    int64_t round_rev;
    long long int round_at;
    int64_t done_rev;
    bool slow;
};

/* Quiet hypervisors (ovs_hv_is_busy() false) are not on the busy list: a
 * wake-up costs the hypervisors with work in progress, not every
 * hypervisor, and of those only the sessions with work (ovs_hv_run()).  A
 * quiet one runs, one session at a time, only when something happens to
 * it:
 *  - a socket of its own is readable (an echo request, the reply to our
 *    probe, an update made by others in OVSDB, a disconnection): epoll
 *    over the OpenFlow sockets and the OVSDB ones found (sb_find_db_fds())
 *    says whose (see sb_wait_ready());
 *  - its OpenFlow connection's timers fall due (echo probe, drop counter
 *    poll: ovs_hv_next_wake());
 *  - its OVSDB side SB_DB_IDLE_MS after its last run, or every SB_QUIET_MS
 *    if its socket is not known (ssl:, unix:), as the OpenFlow side of an
 *    ssl: or unix: connection;
 *  - its own timers (self-check, the cold start's catch-up).
 * They wait in a heap by the earliest of those times, rounded up to a grid
 * of SB_QUIET_MS, so that timers falling due together cost one wake-up (a
 * wake-up of the thread costs about 100 us: woken one by one, 48
 * hypervisors cost 6 ms of CPU per second).  Until 2026-12-02 a quiet tick
 * ran both sessions of every hypervisor every SB_QUIET_MS, about 12 to 20
 * us each whether or not anything happened. */
#define SB_QUIET_MS 1000

/* After a read of a drop counter (ovs_sb_port_drops()), the switches are
 * asked for them every 2 s for this long, then every 30 s again
 * (ovs_ofctrl_set_drops_eager()). */
#define SB_DROPS_READ_MS 60000

static struct sb_hv *
sb_hv_find(struct ovs_sb *sb, int64_t hv_id)
{
    struct sb_hv *h;
    HMAP_FOR_EACH_WITH_HASH (h, node, hash_uint64(hv_id), &sb->hvs) {
        if (ovs_hv_id(h->hv) == hv_id) {
            return h;
        }
    }
    return NULL;
}

static struct sb_status *
sb_status_find(struct ovs_sb *sb, int64_t hv_id)
    OVS_REQUIRES(sb->mutex)
{
    struct sb_status *s;
    HMAP_FOR_EACH_WITH_HASH (s, node, hash_uint64(hv_id), &sb->status) {
        if (s->hv_id == hv_id) {
            return s;
        }
    }
    return NULL;
}

/* OVS thread: moves awaiting 'h' back to the busy list, which the next
 * pass runs. */
static void
sb_hv_unawait(struct ovs_sb *sb, struct sb_hv *h)
{
    if (h->awaiting) {
        heap_remove(&sb->awaiting, &h->await_node);
        h->awaiting = false;
        ovs_list_push_back(&sb->busy, &h->busy_node);
    }
}

/* OVS thread: puts 'h' on the busy list or takes it off (or out of
 * sb->awaiting).  A hypervisor made busy is on the busy list: it has work
 * for the next pass. */
static void
sb_hv_set_busy(struct ovs_sb *sb, struct sb_hv *h, bool busy)
{
    if (busy != h->busy) {
        h->busy = busy;
        if (busy) {
            ovs_list_push_back(&sb->busy, &h->busy_node);
            sb->n_busy++;
            if (h->in_quiet) {
                heap_remove(&sb->quiet, &h->quiet_node);
                h->in_quiet = false;
            }
        } else {
            if (h->awaiting) {
                heap_remove(&sb->awaiting, &h->await_node);
                h->awaiting = false;
            } else {
                ovs_list_remove(&h->busy_node);
            }
            sb->n_busy--;
        }
    } else if (busy) {
        sb_hv_unawait(sb, h);
    }
}

/* What an epoll event's data says: a struct sb_hv pointer (aligned) with
 * which of its sockets is ready in the low bit. */
#define SB_EV_OF 0
#define SB_EV_DB 1
#define SB_EV_MASK 1

/* A quiet hypervisor whose OVSDB socket is watched runs its OVSDB side
 * when that socket is readable (an update made by others, the server's
 * echo request every 5 s) and otherwise this long after its last run, for
 * the IDL's own timers: its echo probe after 5 s of silence, which then
 * goes out up to that much later (a dead server is noticed after about
 * 12 s instead of 10). */
#define SB_DB_IDLE_MS 5000

/* When the OVSDB side of 'h' must run at the latest, with no work of its
 * own (a busy hypervisor's too: a VM start elsewhere in its network gives
 * its OVSDB nothing to do, and an update or echo request from its server
 * comes through epoll like a quiet one's). */
static long long int
sb_hv_db_idle_until(const struct sb_hv *h)
{
    return h->db_ran_at + (h->db_fd >= 0 ? SB_DB_IDLE_MS : SB_QUIET_MS);
}

/* OVS thread: forgets 'h''s OVSDB socket unless it is still the one
 * found: the session is up and the socket under that number is the same
 * (it can change only while the IDL runs). */
static void
sb_hv_check_db_fd(struct sb_hv *h)
{
    struct sockaddr_storage peer;
    struct stat st;
    if (h->db_fd >= 0
        && (!ovs_hv_db_tcp_peer(h->hv, &peer) || fstat(h->db_fd, &st)
            || st.st_ino != h->db_ino)) {
        h->db_fd = -1;
    }
}

/* A busy hypervisor that only awaits input (ovs_hv_awaits_input()): an
 * OpenFlow reply on its watched socket, and with its OVSDB socket watched,
 * its server's reply to a transaction in flight or the update with an
 * ofport its flows await, waits in ovs_sb.awaiting, off the busy list,
 * until epoll finds one of those sockets readable: a pass
 * costs the hypervisors with input or work, not every busy one (no run,
 * no recv() that finds nothing, no poll registration of its socket: the
 * epoll set is polled instead).  It still runs when its own timers and
 * its status refresh fall due, each side when the busy list's would (the
 * timers of its sessions: echo probes, drop counters), and while it
 * awaits a reply (OpenFlow, or to an OVSDB transaction) at least every
 * SB_AWAIT_RUN_MS (sb_hv_classify()).  Until 2026-12-02 every pass checked, and every wait
 * registered, each busy hypervisor: O(switches) per reply that came in. */
#define SB_AWAIT_RUN_MS 100

/* OVS thread: runs 'h', forcing its OVSDB side if 'db' and its OpenFlow
 * side if 'of' (ovs_hv_run()); 'quiet' if it is a quiet one. */
static void
sb_hv_run(struct ovs_sb *sb, struct sb_hv *h, bool db, bool of, bool quiet)
{
    uint64_t db_runs, of_runs, db_runs1, of_runs1;
    long long int now = time_msec();

    h->last_run = now;
    db |= h->db_ready;
    ovs_hv_get_run_stats(h->hv, &db_runs, &of_runs);
    /* epoll found its socket not readable at the start of this pass (and
     * it is that socket): no recv() that finds nothing. */
    uint64_t id;
    bool of_unreadable = (!h->of_ready && h->watched_fd >= 0
                          && ovs_hv_of_fd(h->hv, &id) == h->watched_fd
                          && id == h->watched_id);
    /* The same for its OVSDB socket, if watched: a side that only awaits
     * its server's reply runs when that socket is readable, and at least
     * every SB_AWAIT_RUN_MS (see sb_hv_classify()). */
    bool db_unreadable = (!db && h->db_fd >= 0
                          && now < h->db_ran_at + SB_AWAIT_RUN_MS);
    ovs_hv_run(h->hv, db, of || h->of_ready, of_unreadable, db_unreadable);
    ovs_hv_get_run_stats(h->hv, &db_runs1, &of_runs1);
    if (db || db_runs1 != db_runs) {
        h->db_ran_at = now;
        sb_hv_check_db_fd(h);
    }
    h->db_ready = false;
    if (of || of_runs1 != of_runs) {
        h->of_ran_at = now;
    }
    h->of_ready = false;
    h->quiet_run = quiet;
    sb->thread_stats.n_hv_runs++;
    sb->thread_stats.n_quiet_runs += quiet;
    if (!h->ran) {
        h->ran = true;
        ovs_list_push_back(&sb->ran, &h->ran_node);
    }
    uint64_t n = ovs_hv_self_check_failures(h->hv);
    sb->thread_check_failures += n - h->check_failures;
    h->check_failures = n;
}

/* OVS thread: applies the mailbox's requests.
 *
 * A hypervisor whose new view changes what OVSDB must hold (a VM's port
 * on its own hypervisor, tunnel ports on a join) goes to the front of the
 * busy list: of a VM start's round, its way to the confirmation is the
 * longest (OVSDB transaction, ovs-vswitchd adding the port, the update
 * with its ofport, then its flows and barrier), against one flow_mod and
 * barrier for every other switch, so its transaction goes out before
 * those.  Each send of a pass wakes a switch, which may take the CPU from
 * this thread on a machine that runs them too: at 32 hypervisors on the
 * lab's 2 cores a VM start's first pass took 10 to 25 ms of wall time,
 * and the transaction waited for its place in the list (p95 16 to 31 ms
 * after the view came, instead of 1 to 4). */
static void
sb_take_mail(struct ovs_sb *sb)
{
    struct ovs_list mail;

    ovs_mutex_lock(&sb->mutex);
    ovs_list_move(&mail, &sb->mailbox);
    ovs_list_init(&sb->mailbox);
    ovs_mutex_unlock(&sb->mutex);

    struct sb_op *op;
    LIST_FOR_EACH_POP (op, node, &mail) {
        struct sb_hv *h = sb_hv_find(sb, op->hv_id);
        if (op->resync) {
            if (h) {
                ovs_hv_resync(h->hv);
                sb_hv_set_busy(sb, h, true);
            }
        } else if (op->view) {
            int64_t rev = op->view->revision;
            if (h) {
                ovs_hv_set_view(h->hv, op->view);
            } else {
                h = xzalloc(sizeof *h);
                h->watched_fd = -1;
                h->db_fd = -1;
                h->hv = ovs_hv_create(op->view);
                ovs_hv_set_flows_cache(h->hv, sb->flows_cache);
                ovs_hv_set_drops_eager(h->hv, sb->drops_eager);
                hmap_insert(&sb->hvs, &h->node, hash_uint64(op->hv_id));
            }
            h->round_rev = rev;
            h->round_at = time_msec();
            sb_hv_set_busy(sb, h, true);
            if (ovs_hv_wants_changed(h->hv)) {
                /* Runs first in the next pass (see above). */
                ovs_list_remove(&h->busy_node);
                ovs_list_push_front(&sb->busy, &h->busy_node);
            }
        } else if (h) {
            hmap_remove(&sb->hvs, &h->node);
            sb_hv_set_busy(sb, h, false);
            if (h->in_quiet) {
                heap_remove(&sb->quiet, &h->quiet_node);
            }
            sb_hv_check_db_fd(h);
            if (h->db_fd >= 0 && sb->epfd >= 0) {
                /* Its registration must not outlive it (the socket is
                 * the IDL's, closed with it, but the IDL is not ours). */
                epoll_ctl(sb->epfd, EPOLL_CTL_DEL, h->db_fd, NULL);
            }
            if (h->ran) {
                ovs_list_remove(&h->ran_node);
            }
            ovs_hv_destroy(h->hv);
            free(h);
            /* ovs_sb_remove() dropped its status already, but a
             * sb_publish() before this mail was taken put it back: drop it
             * again, now that nothing can re-insert it. */
            ovs_mutex_lock(&sb->mutex);
            struct sb_status *st = sb_status_find(sb, op->hv_id);
            if (st) {
                hmap_remove(&sb->status, &st->node);
                free(st);
            }
            ovs_mutex_unlock(&sb->mutex);
        }
        free(op);
    }
}

/* ovs_ofctrl_drops_cb: records one port's counter in sb->drops (under
 * sb->mutex, held by the caller). */
static void
sb_record_drops(void *sb_, int64_t port_id, uint64_t packets)
{
    struct ovs_sb *sb = sb_;
    uint32_t hash = hash_uint64(port_id);
    struct sb_drops *d;
    HMAP_FOR_EACH_WITH_HASH (d, node, hash, &sb->drops) {
        if (d->port_id == port_id) {
            d->packets = packets;
            return;
        }
    }
    d = xmalloc(sizeof *d);
    d->port_id = port_id;
    d->packets = packets;
    hmap_insert(&sb->drops, &d->node, hash);
}

/* OVS thread: after busy 'h' ran and was published: puts it in
 * sb->awaiting if all it waits for is input on its watched sockets, else
 * on the busy list.  (An OVSDB transaction whose send() the kernel did not
 * take whole would wait there for SB_AWAIT_RUN_MS at most: the IDL does
 * not say; one of a VM start is about 1 kB.)  Until 2026-12-03 only those
 * awaiting an OpenFlow reply alone waited there: the VM's own hypervisor
 * ran on every pass of its VM start while its OVSDB transaction was in
 * flight and its ofport awaited. */
static void
sb_hv_classify(struct ovs_sb *sb, struct sb_hv *h)
{
    int fd;
    bool db_reply;
    if (sb->epfd < 0
        || !ovs_hv_awaits_input(h->hv, h->db_fd >= 0, &fd, &db_reply)
        || (fd >= 0 && fd != h->watched_fd)) {
        sb_hv_unawait(sb, h);
        return;
    }
    /* Each side when the busy list would run it, and its own timers. */
    long long int of_wake;
    long long int until = MIN(ovs_hv_next_wake(h->hv, &of_wake),
                              MIN(sb_hv_db_idle_until(h),
                                  h->of_ran_at + SB_QUIET_MS));
    if (fd >= 0 || db_reply) {
        /* A reply, which comes soon.  One whose OVSDB side awaits only an
         * update (an ofport) may wait for long: for an interface OVS
         * refuses until it exists, polled every SB_AWAIT_RUN_MS the OVS
         * thread woke 12 times a second instead of about once (until
         * 2026-12-03); that update wakes it through epoll. */
        until = MIN(until, h->last_run + SB_AWAIT_RUN_MS);
    }
    if (h->stale) {
        until = MIN(until, h->next_refresh);
    }
    h->await_until = until;
    uint64_t priority = UINT64_MAX - (uint64_t) until;
    if (h->awaiting) {
        heap_change(&sb->awaiting, &h->await_node, priority);
    } else {
        ovs_list_remove(&h->busy_node);
        heap_insert(&sb->awaiting, &h->await_node, priority);
        h->awaiting = true;
    }
}

/* OVS thread: registers 'fd' in sb->epfd as 'h''s socket 'side'
 * (SB_EV_OF or SB_EV_DB), or updates its registration if the file is in
 * already (a socket leaves by itself when it is closed).  Returns 0 or a
 * negative errno value. */
static int
sb_epoll_add(struct ovs_sb *sb, int fd, struct sb_hv *h, unsigned int side)
{
    struct epoll_event ev = { .events = EPOLLIN,
                              .data.u64 = (uintptr_t) h | side };
    if (!epoll_ctl(sb->epfd, EPOLL_CTL_ADD, fd, &ev)
        || (errno == EEXIST && !epoll_ctl(sb->epfd, EPOLL_CTL_MOD, fd, &ev))) {
        return 0;
    }
    return -errno;
}

/* OVS thread: keeps 'h''s OpenFlow socket registered in sb->epfd.  A
 * socket leaves the epoll set by itself when it is closed, and a new one
 * (a reconnection) has a new ovs_hv_of_fd() id, so only a change needs a
 * system call. */
static void
sb_hv_watch(struct ovs_sb *sb, struct sb_hv *h)
{
    uint64_t id;
    int fd = ovs_hv_of_fd(h->hv, &id);
    if (fd == h->watched_fd && (fd < 0 || id == h->watched_id)) {
        return;
    }
    h->watched_fd = -1;
    if (fd < 0 || sb->epfd < 0) {
        return;
    }
    int error = sb_epoll_add(sb, fd, h, SB_EV_OF);
    if (error) {
        /* Then it runs every SB_QUIET_MS while quiet, as if unknown. */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "epoll_ctl: %s", ovs_strerror(-error));
        return;
    }
    h->watched_fd = fd;
    h->watched_id = id;
}

/* The first tick of the quiet grid at or after 'when' (see SB_QUIET_MS). */
static long long int
sb_quiet_grid(long long int when)
{
    return when >= LLONG_MAX - SB_QUIET_MS ? LLONG_MAX
           : ROUND_UP(when, SB_QUIET_MS);
}

/* OVS thread: (re)schedules quiet 'h' (see SB_QUIET_MS). */
static void
sb_hv_schedule(struct ovs_sb *sb, struct sb_hv *h, long long int now)
{
    long long int of_wake;
    long long int wake = ovs_hv_next_wake(h->hv, &of_wake);

    /* On the grid: the tick after the one before its last run, or with
     * its socket watched, SB_DB_IDLE_MS after that run. */
    if (h->db_fd >= 0) {
        h->db_due = sb_quiet_grid(h->db_ran_at + SB_DB_IDLE_MS);
    } else {
        struct sockaddr_storage peer;
        h->db_due = sb_quiet_grid(h->db_ran_at + 1);
        sb->db_scan_wanted |= (sb->epfd >= 0
                               && ovs_hv_db_tcp_peer(h->hv, &peer));
    }
    h->of_due = (h->watched_fd >= 0 ? of_wake
                 : MIN(of_wake, sb_quiet_grid(h->of_ran_at + 1)));
    wake = MIN(wake, MIN(h->db_due, h->of_due));
    /* Whatever is overdue runs on the next tick, not in a loop. */
    h->wake = sb_quiet_grid(MAX(wake, now + 1));
    uint64_t priority = UINT64_MAX - (uint64_t) h->wake;
    if (h->in_quiet) {
        heap_change(&sb->quiet, &h->quiet_node, priority);
    } else {
        heap_insert(&sb->quiet, &h->quiet_node, priority);
        h->in_quiet = true;
    }
}

/* "ADDRESS:PORT" of 'ss', into 'key' (cleared first). */
static void
sb_addr_key(const struct sockaddr_storage *ss, struct ds *key)
{
    ds_clear(key);
    ss_format_address(ss, key);
    ds_put_format(key, ":%"PRIu16, ss_get_port(ss));
}

/* OVS thread: finds the OVSDB sockets of the quiet hypervisors whose
 * session is up over tcp:, by their peer address among the process's
 * sockets (libopenvswitch keeps them inside its sessions), and registers
 * them in sb->epfd.  An address that two sockets share (the drift audit
 * reads the same server over a session of its own) is left for the next
 * scan; a hypervisor whose socket is not found runs its OVSDB side every
 * SB_QUIET_MS as before.  Costs a getpeername() per descriptor of the
 * process: done at most every SB_QUIET_MS, and only when a session came
 * up since. */
static void
sb_find_db_fds(struct ovs_sb *sb, long long int now)
{
    sb->db_scan_wanted = false;
    /* open() and fdopendir(), not opendir(): ThreadSanitizer sees the
     * former create the descriptor, so it does not take closedir() for a
     * close of whatever another thread had under that number before. */
    int dir_fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = dir_fd < 0 ? NULL : fdopendir(dir_fd);
    if (!dir) {
        if (dir_fd >= 0) {
            close(dir_fd);
        }
        return;
    }
    struct shash peers = SHASH_INITIALIZER(&peers); /* key -> fd + 1, or
                                                     * 0 if shared. */
    struct ds key = DS_EMPTY_INITIALIZER;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        if (*end || end == de->d_name || fd == dirfd(dir)
            || getpeername(fd, (struct sockaddr *) &ss, &len)
            || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
            continue;
        }
        sb_addr_key(&ss, &key);
        struct shash_node *node = shash_find(&peers, ds_cstr(&key));
        if (node) {
            node->data = NULL;
        } else {
            shash_add(&peers, ds_cstr(&key), (void *) (intptr_t) (fd + 1));
        }
    }
    closedir(dir);

    struct sb_hv *h;
    HMAP_FOR_EACH (h, node, &sb->hvs) {
        struct sockaddr_storage peer;
        if (h->busy || h->db_fd >= 0 || !ovs_hv_db_tcp_peer(h->hv, &peer)) {
            continue;
        }
        sb_addr_key(&peer, &key);
        int fd = (intptr_t) shash_find_data(&peers, ds_cstr(&key)) - 1;
        struct stat st;
        if (fd < 0 || fstat(fd, &st)) {
            sb->db_scan_wanted = true;      /* Look again later. */
            continue;
        }
        if (sb_epoll_add(sb, fd, h, SB_EV_DB)) {
            continue;
        }
        h->db_fd = fd;
        h->db_ino = st.st_ino;
        sb_hv_schedule(sb, h, now);
    }
    ds_destroy(&key);
    shash_destroy(&peers);
}

/* OVS thread: notes the hypervisors whose OpenFlow socket is readable
 * ('of_ready'); runs the quiet ones among them, and those whose time has
 * come; puts the awaiting ones among them, and those whose time has come,
 * back on the busy list. */
static void
sb_run_quiet(struct ovs_sb *sb, long long int now)
{
    size_t cap = MAX(hmap_count(&sb->hvs), 16);
    if (sb->allocated_events < cap) {
        free(sb->events);
        sb->events = xmalloc(cap * sizeof *sb->events);
        sb->allocated_events = cap;
    }
    int n = 0;
    if (sb->epfd >= 0) {
        do {
            n = epoll_wait(sb->epfd, sb->events, sb->allocated_events, 0);
        } while (n < 0 && errno == EINTR);
    }
    long long int tick = sb_quiet_grid(sb->ready_at + 1);
    if (n > 0) {
        sb->ready_at = now;
        sb->ready_carried = false;
    } else if (!sb->ready_carried && now >= tick && now < tick + SB_QUIET_MS) {
        /* The first pass in the window of the tick after a second with
         * input, which finds none (yet): see sb_wait_ready(). */
        sb->ready_at = now;
        sb->ready_carried = true;
    }
    for (int i = 0; i < n; i++) {
        uint64_t data = sb->events[i].data.u64;
        struct sb_hv *h = (struct sb_hv *) (uintptr_t) (data & ~SB_EV_MASK);
        if ((data & SB_EV_MASK) == SB_EV_DB) {
            h->db_ready = true;
        } else {
            h->of_ready = true;
        }
    }

    /* Timers first: one that comes due with its socket readable runs
     * once. */
    while (!heap_is_empty(&sb->quiet)) {
        struct sb_hv *h = CONTAINER_OF(heap_max(&sb->quiet), struct sb_hv,
                                       quiet_node);
        if (h->wake > now) {
            break;
        }
        heap_remove(&sb->quiet, &h->quiet_node);
        h->in_quiet = false;
        sb_hv_run(sb, h, now >= h->db_due, now >= h->of_due, true);
    }
    for (int i = 0; i < n; i++) {
        uint64_t data = sb->events[i].data.u64;
        struct sb_hv *h = (struct sb_hv *) (uintptr_t) (data & ~SB_EV_MASK);
        if (!(h->of_ready || h->db_ready)) {
            continue;
        } else if (!h->busy) {
            sb_hv_run(sb, h, now >= h->db_due, h->of_ready, true);
        } else {
            sb_hv_unawait(sb, h);
        }
    }
    while (!heap_is_empty(&sb->awaiting)) {
        struct sb_hv *h = CONTAINER_OF(heap_max(&sb->awaiting), struct sb_hv,
                                       await_node);
        if (h->await_until > now) {
            break;
        }
        sb_hv_unawait(sb, h);
    }
    if (sb->db_scan_wanted && now >= sb->next_db_scan) {
        sb->next_db_scan = now + SB_QUIET_MS;
        sb_find_db_fds(sb, now);
    }
}

/* What a quiet switch sends unasked (an echo request, an update made by
 * others in OVSDB) wakes the thread, unless a pass found some since the
 * last tick of the quiet grid (sb_quiet_grid()): then what comes next
 * waits for the next tick, where it is handled together with the timers
 * falling due.  A wake-up costs about 100 us, and at hundreds of
 * switches their echo requests alone come a hundred times a second: so
 * the thread wakes about once a second for all of them, and a first one
 * after a silence at once.
 *
 * The first pass in the window of the tick after a second with input
 * counts as such a pass even when it finds none (sb_run_quiet()), once:
 * the switches' echo requests come
 * just after the ticks, since each OVSDB server probes 5 s after our
 * reply to its last probe, which went out on a tick.  Waking at the tick
 * and again for them a few milliseconds later cost the thread two
 * wake-ups a second instead of one (2.2 passes a second between VM
 * starts at 128 hypervisors on each of 3 controllers; doc/ovs-pipeline.md,
 * "In a cluster").  A second tick that finds nothing ends it: then the
 * first input wakes the thread at once again. */

/* OVS thread: waits for sockets in sb->epfd to become readable (at once
 * while hypervisors await a reply there: sb_hv_classify()).  Returns when
 * to wake up for them instead (LLONG_MAX: when they become readable). */
static long long int
sb_wait_ready(const struct ovs_sb *sb, long long int now)
{
    if (sb->epfd < 0) {
        return LLONG_MAX;
    }
    long long int tick = sb_quiet_grid(sb->ready_at + 1);
    if (now < tick && heap_is_empty(&sb->awaiting)) {
        return tick;
    }
    poll_fd_wait(sb->epfd, POLLIN);
    return LLONG_MAX;
}

/* Confirmations are handed to the main thread once per round, not as they
 * come.  A VM start gives a view of one new revision to every hypervisor
 * of its network (a round), and its ?wait=1 answer needs all of them to
 * confirm it; their barrier replies, and the VM's own hypervisor's OVSDB
 * transaction before its flows, arrive over several passes, and a
 * hand-over per pass woke the main thread (a context switch, 20 to 40 us)
 * five times per VM start in one network of 32 hypervisors.  So a
 * confirmation (or failure) of revision R is held while a hypervisor given
 * a view of revision R has not answered yet: the waiter of R could not be
 * answered before that anyway.  Rounds of other revisions (writes to other
 * networks at the same time) hold nothing of R's.  A hypervisor counts
 * only while the switches keep answering: until SB_HOLD_MS after its
 * round began or after the latest answer of any switch, whichever is
 * later, and SB_HOLD_MAX_MS after its round began at most; one that
 * answered its last round after that (a frozen or slow switch, one
 * disconnected: the waiter times out, or is answered by a failure) not
 * at all until it answers a round in time again; a confirmation waits
 * SB_HOLD_MAX_MS at most.  Until 2026-12-02 a hypervisor counted only
 * for SB_HOLD_MS after its round began: at 128 switches, whose answers
 * to one VM start take 100 ms and more to come in on a busy machine,
 * most were 'slow' and confirmations went over in 3.6 hand-overs per VM
 * start. */
#define SB_HOLD_MS 50
#define SB_HOLD_MAX_MS 500

/* OVS thread: until when 'h' counts for its round (see SB_HOLD_MS). */
static long long int
sb_hv_hold_until(const struct ovs_sb *sb, const struct sb_hv *h)
{
    return MIN(h->round_at + SB_HOLD_MAX_MS,
               MAX(h->round_at, sb->answered_at) + SB_HOLD_MS);
}

/* OVS thread: true if busy 'h' was given a view of revision 'rev' and is
 * still expected to answer it, then lowers '*until' to when it stops
 * counting; marks it 'slow' if it no longer counts. */
static bool
sb_hv_round_pending(const struct ovs_sb *sb, struct sb_hv *h, int64_t rev,
                    long long int now, long long int *until)
{
    if (h->round_rev == rev && h->done_rev < rev && !h->slow) {
        long long int deadline = sb_hv_hold_until(sb, h);
        if (now < deadline) {
            *until = MIN(*until, deadline);
            return true;
        }
        h->slow = true;
    }
    return false;
}

/* OVS thread: true if a hypervisor of the round of 'rev' (given a view
 * of that revision) is still expected to answer (see SB_HOLD_MS); then
 * lowers '*until' to when the first of those stops counting.  Marks those
 * that no longer count 'slow'. */
static bool
sb_round_pending(struct ovs_sb *sb, int64_t rev, long long int now,
                 long long int *until)
{
    bool pending = false;
    struct sb_hv *h;
    LIST_FOR_EACH (h, busy_node, &sb->busy) {
        pending |= sb_hv_round_pending(sb, h, rev, now, until);
    }
    HEAP_FOR_EACH (h, await_node, &sb->awaiting) {
        pending |= sb_hv_round_pending(sb, h, rev, now, until);
    }
    return pending;
}

/* OVS thread: takes what 'h''s run confirmed or refused ('error', taken)
 * into sb->held. */
static void
sb_hold(struct ovs_sb *sb, struct sb_hv *h, int64_t rev, char *error,
        long long int now)
{
    struct sb_confirm *c = xmalloc(sizeof *c);
    c->hv_id = ovs_hv_id(h->hv);
    c->revision = rev;
    c->error = error;
    c->taken_at = now;
    ovs_list_push_back(&sb->held, &c->node);
    if (rev > h->done_rev) {
        h->done_rev = rev;
        if (rev >= h->round_rev) {
            h->slow = now > sb_hv_hold_until(sb, h);
        }
    }
    sb->answered_at = now;
}

/* OVS thread: moves the held confirmations whose round is over (or that
 * waited SB_HOLD_MAX_MS) to sb->confirms.  Returns true if it moved any;
 * lowers '*next' to when the others must go at the latest. */
static bool
sb_release(struct ovs_sb *sb, long long int now, long long int *next)
    OVS_REQUIRES(sb->mutex)
{
    bool released = false;
    int64_t rev = 0;            /* The last revision looked up... */
    bool pending = false;       /* ...whether its round is pending... */
    long long int until = LLONG_MAX;    /* ...and until when. */
    struct sb_confirm *c;
    LIST_FOR_EACH_SAFE (c, node, &sb->held) {
        if (c->revision != rev) {
            rev = c->revision;
            until = LLONG_MAX;
            pending = sb_round_pending(sb, rev, now, &until);
        }
        long long int cap = c->taken_at + SB_HOLD_MAX_MS;
        if (pending && now < cap) {
            *next = MIN(*next, MIN(until, cap));
        } else {
            ovs_list_remove(&c->node);
            ovs_list_push_back(&sb->confirms, &c->node);
            released = true;
        }
    }
    return released;
}

/* OVS thread: publishes confirmations and status to the main thread.
 * Returns when a status skipped now must be refreshed or confirmations
 * held now must be published, or LLONG_MAX. */
static long long int
sb_publish(struct ovs_sb *sb)
{
    long long int stale_until = LLONG_MAX;
    bool wake = false;
    long long int now = time_msec();

    ovs_mutex_lock(&sb->mutex);
    /* Only the hypervisors that ran have anything new to say; each then
     * goes on the busy list or off it. */
    struct sb_hv *h;
    LIST_FOR_EACH_POP (h, ran_node, &sb->ran) {
        h->ran = false;
        int64_t hv_id = ovs_hv_id(h->hv);
        int64_t rev = ovs_hv_take_confirmation(h->hv);
        if (rev) {
            sb_hold(sb, h, rev, NULL, now);
        }
        char *error;
        rev = ovs_hv_take_failure(h->hv, &error);
        if (rev) {
            sb_hold(sb, h, rev, error, now);
        }
        struct sb_status *s = sb_status_find(sb, hv_id);
        if (!s) {
            s = xzalloc(sizeof *s);
            s->hv_id = hv_id;
            hmap_insert(&sb->status, &s->node, hash_uint64(hv_id));
        }
        /* A quiet run changes no detail unless it says so (what it
         * finds to do makes the hypervisor busy: the runs that follow
         * refresh them). */
        if (ovs_hv_take_status_change(h->hv)
            || (now >= s->next_refresh && !h->quiet_run)) {
            ovs_hv_get_status(h->hv, &s->st);
            s->next_refresh = now + SB_STATUS_REFRESH_MS;
            s->stale = false;
        } else if (!h->quiet_run) {
            s->stale = true;
        }
        if (s->stale) {
            stale_until = MIN(stale_until, s->next_refresh);
        }
        h->stale = s->stale;
        h->next_refresh = s->next_refresh;
        /* Busy-ness is decided here, after what the run produced was
         * taken: a hypervisor that just confirmed is quiet now, not after
         * one more run.  One with stale details runs, and is published,
         * again by then. */
        sb_hv_set_busy(sb, h, h->stale || ovs_hv_is_busy(h->hv));
        if (ovs_hv_take_drops_change(h->hv)) {
            ovs_hv_port_drops(h->hv, sb_record_drops, sb);
        }
        sb_hv_watch(sb, h);
        if (!h->busy) {
            sb_hv_schedule(sb, h, now);
        } else {
            sb_hv_classify(sb, h);
        }
    }
    if (sb_release(sb, now, &stale_until)) {
        sb->thread_stats.n_handovers++;
        wake = true;
    }
    sb->n_check_failures = sb->thread_check_failures;
    sb->stats = sb->thread_stats;
    ovs_mutex_unlock(&sb->mutex);

    if (wake) {
        nvo_wake_send(sb->wake);
    }
    return stale_until;
}

/* Wake-up coalescing.  Replies from many switches handled one wake-up
 * each cost a pass apiece (the poll loop, epoll_wait(), publishing, and
 * the wake-up itself: a context switch).  Instead, a pass lasts at least
 * SB_COALESCE_US_PER_HV per busy hypervisor (at most SB_COALESCE_MAX_US):
 * what arrives meanwhile is handled by the next pass, together.  That
 * bounds the delay it adds to about what one pass costs anyway.
 *
 * Not with a single busy hypervisor: its one awaited answer wakes the
 * thread by itself, so a sleep could only add a wake-up (the sleep's own,
 * when the answer had not come by then) and delay it.  A controller that
 * owns a few switches of a network (a cluster member) awaits one last
 * reply on most VM starts: at 128 hypervisors, 3 controllers and 4
 * networks, a third of the sleeps were such, three quarters of them
 * followed by the wake-up for that reply (doc/ovs-pipeline.md, "In a
 * cluster"). */
#define SB_COALESCE_US_PER_HV 40
#define SB_COALESCE_MAX_US 2000

static void
sb_coalesce(const struct ovs_sb *sb, long long int pass_start_us)
{
    if (sb->n_busy < 2) {
        return;
    }
    long long int period = MIN(sb->n_busy * SB_COALESCE_US_PER_HV,
                               SB_COALESCE_MAX_US);
    long long int elapsed = time_usec() - pass_start_us;
    if (elapsed >= 0 && elapsed < period) {
        xnanosleep((period - elapsed) * 1000);
    }
}

/* The OVS thread's CPU time, in microseconds: what the per-phase
 * counters add up (wall time would count the waits for the CPU of a busy
 * machine too). */
static long long int
sb_cpu_usec(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)) {
        return 0;
    }
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static bool
sb_mtime_changed(const char *file, struct timespec *seen, struct timespec *now)
{
    struct stat st;
    if (!file || stat(file, &st)) {
        *now = *seen;
        return false;
    }
    *now = st.st_mtim;
    return now->tv_sec != seen->tv_sec || now->tv_nsec != seen->tv_nsec;
}

/* Hands the PKI files to stream-ssl.  stream_ssl_set_key_and_cert()
 * reloads the pair only when both files changed since its previous call,
 * so it must not be called while only one of them has been replaced (an
 * operator or ovs-pki writes them one after the other): then the other
 * would never be loaded.  The CA file is handed over every time. */
static void
sb_configure_pki(struct ovs_sb *sb)
    OVS_REQUIRES(sb->mutex)
{
    struct timespec key, cert;
    bool key_changed = sb_mtime_changed(sb->pki.private_key, &sb->key_mtime,
                                        &key);
    bool cert_changed = sb_mtime_changed(sb->pki.certificate,
                                         &sb->cert_mtime, &cert);
    if (key_changed != cert_changed) {
        return;                 /* Half replaced: look again next round. */
    }
    nvo_pki_configure_ovs(&sb->pki);
    sb->key_mtime = key;
    sb->cert_mtime = cert;
}

static void *
sb_thread_main(void *sb_)
{
    struct ovs_sb *sb = sb_;

    for (;;) {
        long long int pass_start_us = time_usec();
        long long int pass_cpu_us = sb_cpu_usec();
        latch_poll(&sb->latch);
        ovs_mutex_lock(&sb->mutex);
        bool exiting = sb->exiting;
        bool drops_eager = time_msec() < sb->drops_read_until;
        ovs_mutex_unlock(&sb->mutex);
        if (exiting) {
            break;
        }
        long long int now = time_msec();
        if (drops_eager != sb->drops_eager) {
            /* Someone reads drop counters, or stopped a while ago: their
             * polls come due at other times. */
            sb->drops_eager = drops_eager;
            struct sb_hv *h;
            HMAP_FOR_EACH (h, node, &sb->hvs) {
                ovs_hv_set_drops_eager(h->hv, drops_eager);
                if (h->in_quiet) {
                    sb_hv_schedule(sb, h, now);
                }
            }
        }

        sb_take_mail(sb);
        /* stream-ssl re-reads the files if they changed on disk; called
         * before connecting, as OVS's own daemons do in their main loops,
         * so reconnections use a replaced certificate. */
        ovs_mutex_lock(&sb->mutex);
        sb_configure_pki(sb);
        ovs_mutex_unlock(&sb->mutex);
        long long int mail_done_us = sb_cpu_usec();
        now = time_msec();
        sb_run_quiet(sb, now);
        struct sb_hv *h;
        LIST_FOR_EACH (h, busy_node, &sb->busy) {
            /* A side without work runs as a quiet one's would: the OVSDB
             * side when its watched socket is readable or SB_DB_IDLE_MS
             * after its last run (sb_hv_db_idle_until()), the OpenFlow
             * side every SB_QUIET_MS.  Those that only await an OpenFlow
             * reply wait in sb->awaiting (sb_hv_classify()). */
            bool db = now >= sb_hv_db_idle_until(h) || h->db_ready;
            bool of = now >= h->of_ran_at + SB_QUIET_MS;
            sb_hv_run(sb, h, db, of, false);
        }
        sb->thread_stats.n_hv_skips += heap_count(&sb->awaiting);
        long long int run_done_us = sb_cpu_usec();
        long long int wake_at = sb_publish(sb);
        long long int publish_done_us = sb_cpu_usec();

        LIST_FOR_EACH (h, busy_node, &sb->busy) {
            ovs_hv_wait(h->hv);
            wake_at = MIN(wake_at, MIN(sb_hv_db_idle_until(h),
                                       h->of_ran_at + SB_QUIET_MS));
        }
        if (!heap_is_empty(&sb->quiet)) {
            h = CONTAINER_OF(heap_max(&sb->quiet), struct sb_hv, quiet_node);
            wake_at = MIN(wake_at, h->wake);
        }
        if (!heap_is_empty(&sb->awaiting)) {
            h = CONTAINER_OF(heap_max(&sb->awaiting), struct sb_hv,
                             await_node);
            wake_at = MIN(wake_at, h->await_until);
        }
        wake_at = MIN(wake_at, sb_wait_ready(sb, time_msec()));
        if (drops_eager) {
            ovs_mutex_lock(&sb->mutex);
            wake_at = MIN(wake_at, sb->drops_read_until);
            ovs_mutex_unlock(&sb->mutex);
        }
        if (wake_at != LLONG_MAX) {
            poll_timer_wait_until(wake_at);
        }
        latch_wait(&sb->latch);

        struct ovs_sb_stats *st = &sb->thread_stats;
        st->n_passes++;
        st->mail_us += mail_done_us - pass_cpu_us;
        st->run_us += run_done_us - mail_done_us;
        st->publish_us += publish_done_us - run_done_us;
        sb_coalesce(sb, pass_start_us);
        poll_block();
    }

    struct sb_hv *h;
    HMAP_FOR_EACH_POP (h, node, &sb->hvs) {
        ovs_hv_destroy(h->hv);
        free(h);
    }
    ovs_flows_cache_destroy(sb->flows_cache);
    sb->flows_cache = NULL;
    return NULL;
}

/* Main thread: hands confirmations and failures to the core. */
static void
sb_async_cb(void *sb_)
{
    struct ovs_sb *sb = sb_;

    struct ovs_list confirms;
    ovs_mutex_lock(&sb->mutex);
    ovs_list_move(&confirms, &sb->confirms);
    ovs_list_init(&sb->confirms);
    ovs_mutex_unlock(&sb->mutex);

    struct sb_confirm *c;
    LIST_FOR_EACH_POP (c, node, &confirms) {
        if (c->error) {
            if (sb->failed) {
                sb->failed(sb->aux, c->hv_id, c->revision, c->error);
            }
        } else if (sb->confirm) {
            sb->confirm(sb->aux, c->hv_id, c->revision);
        }
        free(c->error);
        free(c);
    }
}

/* Main thread: hands the outbox to the OVS thread. */
static void
sb_outbox_flush(uv_idle_t *idle)
{
    struct ovs_sb *sb = idle->data;
    struct sb_outbox *ob = sb->outbox;

    uv_idle_stop(idle);
    if (ovs_list_is_empty(&ob->ops)) {
        return;
    }
    ovs_mutex_lock(&sb->mutex);
    bool was_empty = ovs_list_is_empty(&sb->mailbox);
    ovs_list_push_back_all(&sb->mailbox, &ob->ops);
    ovs_mutex_unlock(&sb->mutex);
    ovs_list_init(&ob->ops);
    /* The thread takes the whole mailbox after every latch_poll(): mail
     * that found it non-empty goes with the mail that set the latch. */
    if (was_empty) {
        latch_set(&sb->latch);
    }
}

static void
sb_outbox_closed(uv_handle_t *handle)
{
    free(CONTAINER_OF(handle, struct sb_outbox, idle));
}

static const struct nvo_sb_class ovs_sb_class;

struct ovs_sb *
ovs_sb_create(uv_loop_t *loop, nvo_sb_confirm_cb *confirm, void *aux)
{
    /* Installs libopenvswitch's fatal-signal handlers while still single
     * threaded.  Handlers installed later (libuv's for SIGTERM and SIGINT)
     * take precedence. */
    fatal_signal_init();

    struct ovs_sb *sb = xzalloc(sizeof *sb);
    sb->up.class = &ovs_sb_class;
    sb->confirm = confirm;
    sb->aux = aux;
    sb->wake = nvo_wake_create(loop, sb_async_cb, sb);
    sb->outbox = xmalloc(sizeof *sb->outbox);
    uv_idle_init(loop, &sb->outbox->idle);
    sb->outbox->idle.data = sb;
    ovs_list_init(&sb->outbox->ops);

    ovs_mutex_init(&sb->mutex);
    ovs_list_init(&sb->mailbox);
    ovs_list_init(&sb->confirms);
    ovs_list_init(&sb->held);
    hmap_init(&sb->status);
    hmap_init(&sb->drops);
    hmap_init(&sb->hvs);
    ovs_list_init(&sb->busy);
    heap_init(&sb->awaiting);
    ovs_list_init(&sb->ran);
    heap_init(&sb->quiet);
    sb->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (sb->epfd < 0) {
        /* Then every quiet hypervisor runs every SB_QUIET_MS. */
        VLOG_WARN("epoll_create1: %s", ovs_strerror(errno));
    }
    latch_init(&sb->latch);
    sb->flows_cache = ovs_flows_cache_create();
    sb->thread = ovs_thread_create("ovs_sb", sb_thread_main, sb);
    return sb;
}

static void
sb_post(struct ovs_sb *sb, int64_t hv_id, struct nvo_hv_view *view,
        bool resync)
{
    struct sb_op *op = xmalloc(sizeof *op);
    op->hv_id = hv_id;
    op->view = view;
    op->resync = resync;
    /* One hand-over per turn of the main loop, not one per view. */
    if (ovs_list_is_empty(&sb->outbox->ops)) {
        uv_idle_start(&sb->outbox->idle, sb_outbox_flush);
    }
    ovs_list_push_back(&sb->outbox->ops, &op->node);
}

void
ovs_sb_set_failed_cb(struct ovs_sb *sb, nvo_sb_failed_cb *failed)
{
    sb->failed = failed;
}

void
ovs_sb_set_pki(struct ovs_sb *sb, const struct nvo_pki *pki)
{
    ovs_mutex_lock(&sb->mutex);
    nvo_pki_destroy(&sb->pki);
    sb->pki.private_key = nullable_xstrdup(pki->private_key);
    sb->pki.certificate = nullable_xstrdup(pki->certificate);
    sb->pki.ca_cert = nullable_xstrdup(pki->ca_cert);
    ovs_mutex_unlock(&sb->mutex);
    latch_set(&sb->latch);
}

void
ovs_sb_set(struct ovs_sb *sb, struct nvo_hv_view *view)
{
    sb_post(sb, view->hv_id, view, false);
}

void
ovs_sb_resync(struct ovs_sb *sb, int64_t hv_id)
{
    sb_post(sb, hv_id, NULL, true);
}

void
ovs_sb_remove(struct ovs_sb *sb, int64_t hv_id)
{
    sb_post(sb, hv_id, NULL, false);

    /* Its status goes now, so GET no longer shows it. */
    ovs_mutex_lock(&sb->mutex);
    struct sb_status *s = sb_status_find(sb, hv_id);
    if (s) {
        hmap_remove(&sb->status, &s->node);
        free(s);
    }
    ovs_mutex_unlock(&sb->mutex);
}

void
ovs_sb_status(struct ovs_sb *sb, int64_t hv_id, struct nvo_sb_status *st)
{
    memset(st, 0, sizeof *st);
    if (!sb) {
        return;
    }
    ovs_mutex_lock(&sb->mutex);
    const struct sb_status *s = sb_status_find(sb, hv_id);
    if (s) {
        *st = s->st;
    }
    ovs_mutex_unlock(&sb->mutex);
}

bool
ovs_sb_port_drops(struct ovs_sb *sb, int64_t port_id, uint64_t *packets)
{
    bool found = false;
    if (!sb) {
        return false;
    }
    long long int now = time_msec();
    ovs_mutex_lock(&sb->mutex);
    struct sb_drops *d;
    HMAP_FOR_EACH_WITH_HASH (d, node, hash_uint64(port_id), &sb->drops) {
        if (d->port_id == port_id) {
            *packets = d->packets;
            found = true;
            break;
        }
    }
    bool was_eager = now < sb->drops_read_until;
    sb->drops_read_until = now + SB_DROPS_READ_MS;
    ovs_mutex_unlock(&sb->mutex);
    if (!was_eager) {
        latch_set(&sb->latch);  /* Switch to eager polls now. */
    }
    return found;
}

void
ovs_sb_destroy(struct ovs_sb *sb)
{
    if (!sb) {
        return;
    }
    ovs_mutex_lock(&sb->mutex);
    sb->exiting = true;
    ovs_mutex_unlock(&sb->mutex);
    latch_set(&sb->latch);
    xpthread_join(sb->thread, NULL);

    nvo_wake_destroy(sb->wake);

    struct sb_op *op;
    LIST_FOR_EACH_POP (op, node, &sb->outbox->ops) {
        nvo_hv_view_destroy(op->view);
        free(op);
    }
    uv_idle_stop(&sb->outbox->idle);
    uv_close((uv_handle_t *) &sb->outbox->idle, sb_outbox_closed);
    LIST_FOR_EACH_POP (op, node, &sb->mailbox) {
        nvo_hv_view_destroy(op->view);
        free(op);
    }
    struct sb_confirm *c;
    LIST_FOR_EACH_POP (c, node, &sb->confirms) {
        free(c->error);
        free(c);
    }
    LIST_FOR_EACH_POP (c, node, &sb->held) {
        free(c->error);
        free(c);
    }
    struct sb_status *s;
    HMAP_FOR_EACH_POP (s, node, &sb->status) {
        free(s);
    }
    hmap_destroy(&sb->status);
    struct sb_drops *d;
    HMAP_FOR_EACH_POP (d, node, &sb->drops) {
        free(d);
    }
    hmap_destroy(&sb->drops);
    hmap_destroy(&sb->hvs);
    heap_destroy(&sb->quiet);
    heap_destroy(&sb->awaiting);
    free(sb->events);
    if (sb->epfd >= 0) {
        close(sb->epfd);
    }
    latch_destroy(&sb->latch);
    ovs_mutex_destroy(&sb->mutex);
    nvo_pki_destroy(&sb->pki);
    free(sb);
}

/* The southbound interface (southbound.h). */

static struct ovs_sb *
ovs_sb_cast(struct nvo_sb *sb)
{
    ovs_assert(sb->class == &ovs_sb_class);
    return CONTAINER_OF(sb, struct ovs_sb, up);
}

static void
ovs_sb_class_set(struct nvo_sb *sb, struct nvo_hv_view *view)
{
    ovs_sb_set(ovs_sb_cast(sb), view);
}

static void
ovs_sb_class_remove(struct nvo_sb *sb, int64_t hv_id)
{
    ovs_sb_remove(ovs_sb_cast(sb), hv_id);
}

static void
ovs_sb_class_status(struct nvo_sb *sb, int64_t hv_id,
                    struct nvo_sb_status *st)
{
    ovs_sb_status(ovs_sb_cast(sb), hv_id, st);
}

static bool
ovs_sb_class_port_drops(struct nvo_sb *sb, int64_t port_id,
                        uint64_t *packets)
{
    return ovs_sb_port_drops(ovs_sb_cast(sb), port_id, packets);
}

static void
ovs_sb_class_resync(struct nvo_sb *sb, int64_t hv_id)
{
    ovs_sb_resync(ovs_sb_cast(sb), hv_id);
}

static void
ovs_sb_class_destroy(struct nvo_sb *sb)
{
    ovs_sb_destroy(ovs_sb_cast(sb));
}

void
ovs_sb_get_stats(struct nvo_sb *sb_, struct ovs_sb_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!sb_ || sb_->class != &ovs_sb_class) {
        return;
    }
    struct ovs_sb *sb = ovs_sb_cast(sb_);
    ovs_mutex_lock(&sb->mutex);
    *st = sb->stats;
    ovs_mutex_unlock(&sb->mutex);
}

uint64_t
ovs_sb_self_check_failures(struct nvo_sb *sb_)
{
    if (!sb_ || sb_->class != &ovs_sb_class) {
        return 0;
    }
    struct ovs_sb *sb = ovs_sb_cast(sb_);
    ovs_mutex_lock(&sb->mutex);
    uint64_t n = sb->n_check_failures;
    ovs_mutex_unlock(&sb->mutex);
    return n;
}

static const struct nvo_sb_class ovs_sb_class = {
    .name = "ovs",
    .set = ovs_sb_class_set,
    .remove = ovs_sb_class_remove,
    .status = ovs_sb_class_status,
    .port_drops = ovs_sb_class_port_drops,
    .resync = ovs_sb_class_resync,
    .destroy = ovs_sb_class_destroy,
};

struct nvo_sb *
ovs_sb_as_sb(struct ovs_sb *sb)
{
    return sb ? &sb->up : NULL;
}
