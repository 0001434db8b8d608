/* ovs-sb.c - the OVS southbound thread.
 *
 * libopenvswitch's IDL and stream/reconnect are built around its own poll loop
 * (*_run(), *_wait(), poll_block()), so all OVS work runs in one dedicated
 * thread on that loop, one struct ovs_hv per hypervisor.
 *
 *   main thread (libuv)                 OVS thread (poll_block)
 *   ovs_sb_set/remove --outbox, then once per loop iteration
 *                       mailbox+latch-->  ovs_hv_set_view/destroy
 *   confirm callback  <--queue+uv_async--  ovs_hv_take_confirmation
 *   failed callback   <--queue+uv_async--  ovs_hv_take_failure
 *   ovs_sb_status     <--status map-------  ovs_hv_get_status
 *
 * The mailbox, the confirmation queue and the status map are each guarded
 * by 'mutex'; nothing else is shared. */
#include <config.h>
#include "controller/ovs-sb.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "controller/desired.h"
#include "controller/ovs-flows.h"
#include "controller/ovs-hv.h"
#include "lib/pki.h"
#include "fatal-signal.h"
#include "hash.h"
#include "latch.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-thread.h"
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

/* The main thread's uv_async_t, freed in its close callback (after
 * ovs_sb_destroy() returned). */
struct sb_async {
    uv_async_t async;
};

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
    struct sb_async *async;
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
    struct ovs_list busy;       /* Contains struct sb_hv, by busy_node. */
    size_t n_busy;              /* Length of 'busy'. */
    struct ovs_list ran;        /* Contains struct sb_hv, by ran_node. */
    long long int next_tick;    /* Next run of every hypervisor. */
    struct pollfd *pfds;        /* Readiness of the busy hypervisors that */
    size_t allocated_pfds;      /* only await an OpenFlow reply. */
    uint64_t thread_check_failures; /* Published as n_check_failures. */
    struct ovs_flows_cache *flows_cache;    /* Lent to every hypervisor. */
    bool drops_eager;           /* As last applied to every hypervisor. */
    struct ovs_sb_stats thread_stats;   /* Published as 'stats'. */

    /* Shared, under 'mutex' (published by the OVS thread). */
    struct ovs_sb_stats stats;
};

struct sb_hv {
    struct hmap_node node;      /* In ovs_sb.hvs, by hv_id. */
    struct ovs_hv *hv;
    struct ovs_list busy_node;  /* In ovs_sb.busy if 'busy'. */
    bool busy;                  /* ovs_hv_is_busy() after its last run. */
    struct ovs_list ran_node;   /* In ovs_sb.ran if 'ran'. */
    bool ran;                   /* Ran since its last sb_publish(). */
    bool stale;                 /* Its published status details are older
                                 * than what it would say now... */
    long long int next_refresh; /* ...and may be refreshed then. */
    uint64_t check_failures;    /* ovs_hv_self_check_failures(), as
                                 * summed into ovs_sb.n_check_failures. */
    long long int last_run;     /* time_msec() of its last run. */
    int pfd;                    /* Its index in ovs_sb.pfds this pass, or
                                 * -1: run it. */
};

/* Quiet hypervisors (ovs_hv_is_busy() false) run only every SB_QUIET_MS,
 * all at once, and their sockets are not polled meanwhile: a wake-up costs
 * the hypervisors with work in progress (the 'busy' list), not every
 * hypervisor, and of those only the sessions with work (ovs_hv_run()).
 * What a quiet one's switch sends unasked (echo requests, updates made by
 * others) waits that long at most.  The tick costs every hypervisor a run
 * (tens of microseconds: both sessions, the drop counters) whether or not
 * a VM starts: at 250 ms that was 2.5 ms of CPU per second at 32
 * hypervisors and ten times that at 256; echo probes (5 s) and drop
 * counters (2 s at the most) need no more than once a second. */
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

/* OVS thread: puts 'h' on the busy list or takes it off. */
static void
sb_hv_set_busy(struct ovs_sb *sb, struct sb_hv *h, bool busy)
{
    if (busy != h->busy) {
        h->busy = busy;
        if (busy) {
            ovs_list_push_back(&sb->busy, &h->busy_node);
            sb->n_busy++;
        } else {
            ovs_list_remove(&h->busy_node);
            sb->n_busy--;
        }
    }
}

/* OVS thread: runs 'h' (see ovs_hv_run() for 'all'). */
static void
sb_hv_run(struct ovs_sb *sb, struct sb_hv *h, bool all)
{
    h->last_run = time_msec();
    ovs_hv_run(h->hv, all);
    sb->thread_stats.n_hv_runs++;
    if (!h->ran) {
        h->ran = true;
        ovs_list_push_back(&sb->ran, &h->ran_node);
    }
    uint64_t n = ovs_hv_self_check_failures(h->hv);
    sb->thread_check_failures += n - h->check_failures;
    h->check_failures = n;
}

/* OVS thread: applies the mailbox's requests. */
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
            if (h) {
                ovs_hv_set_view(h->hv, op->view);
            } else {
                h = xzalloc(sizeof *h);
                h->hv = ovs_hv_create(op->view);
                ovs_hv_set_flows_cache(h->hv, sb->flows_cache);
                ovs_hv_set_drops_eager(h->hv, sb->drops_eager);
                hmap_insert(&sb->hvs, &h->node, hash_uint64(op->hv_id));
            }
            sb_hv_set_busy(sb, h, true);
        } else if (h) {
            hmap_remove(&sb->hvs, &h->node);
            sb_hv_set_busy(sb, h, false);
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

/* OVS thread: publishes confirmations and status to the main thread.
 * Returns when a status skipped now must be refreshed, or LLONG_MAX. */
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
            struct sb_confirm *c = xmalloc(sizeof *c);
            c->hv_id = hv_id;
            c->revision = rev;
            c->error = NULL;
            ovs_list_push_back(&sb->confirms, &c->node);
            wake = true;
        }
        char *error;
        rev = ovs_hv_take_failure(h->hv, &error);
        if (rev) {
            struct sb_confirm *c = xmalloc(sizeof *c);
            c->hv_id = hv_id;
            c->revision = rev;
            c->error = error;
            ovs_list_push_back(&sb->confirms, &c->node);
            wake = true;
        }
        struct sb_status *s = sb_status_find(sb, hv_id);
        if (!s) {
            s = xzalloc(sizeof *s);
            s->hv_id = hv_id;
            hmap_insert(&sb->status, &s->node, hash_uint64(hv_id));
        }
        if (ovs_hv_take_status_change(h->hv) || now >= s->next_refresh) {
            ovs_hv_get_status(h->hv, &s->st);
            s->next_refresh = now + SB_STATUS_REFRESH_MS;
            s->stale = false;
        } else {
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
    }
    sb->n_check_failures = sb->thread_check_failures;
    sb->stats = sb->thread_stats;
    ovs_mutex_unlock(&sb->mutex);

    if (wake) {
        uv_async_send(&sb->async->async);
    }
    return stale_until;
}

/* A busy hypervisor that only awaits an OpenFlow reply whose socket is not
 * readable is skipped by a pass (ovs_hv_input_fd()): one poll() over those
 * sockets instead of a run, and a recv() that finds nothing, each.  It
 * still runs at least every SB_AWAIT_RUN_MS, for the timers of its
 * sessions (echo probes, drop counters). */
#define SB_AWAIT_RUN_MS 100

/* OVS thread: sets each busy hypervisor's 'pfd', polling the sockets of
 * those that may be skipped. */
static void
sb_poll_busy(struct ovs_sb *sb, long long int now)
{
    size_t n = 0;
    struct sb_hv *h;
    LIST_FOR_EACH (h, busy_node, &sb->busy) {
        h->pfd = -1;
        int fd = (now < h->last_run + SB_AWAIT_RUN_MS
                  ? ovs_hv_input_fd(h->hv) : -1);
        if (fd >= 0) {
            if (n >= sb->allocated_pfds) {
                sb->pfds = x2nrealloc(sb->pfds, &sb->allocated_pfds,
                                      sizeof *sb->pfds);
            }
            sb->pfds[n] = (struct pollfd) { .fd = fd, .events = POLLIN };
            h->pfd = n++;
        }
    }
    if (n) {
        int retval;
        do {
            retval = poll(sb->pfds, n, 0);
        } while (retval < 0 && errno == EINTR);
        if (retval < 0) {
            /* Cannot tell: run them all. */
            LIST_FOR_EACH (h, busy_node, &sb->busy) {
                h->pfd = -1;
            }
        }
    }
}

/* Wake-up coalescing.  Every wake-up runs every busy hypervisor (the poll
 * loop cannot tell whose socket woke it), a few microseconds each even
 * with nothing to read, so replies from many switches handled
 * one wake-up each cost O(busy hypervisors) apiece.  Instead, a pass lasts
 * at least SB_COALESCE_US_PER_HV per busy hypervisor (at most
 * SB_COALESCE_MAX_US): what arrives meanwhile is handled by the next pass,
 * together.  That bounds the delay it adds to about what one pass costs
 * anyway. */
#define SB_COALESCE_US_PER_HV 40
#define SB_COALESCE_MAX_US 2000

static void
sb_coalesce(const struct ovs_sb *sb, long long int pass_start_us)
{
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
        if (drops_eager != sb->drops_eager) {
            /* Someone reads drop counters, or stopped a while ago (noticed
             * at the latest on the next quiet tick). */
            sb->drops_eager = drops_eager;
            struct sb_hv *h;
            HMAP_FOR_EACH (h, node, &sb->hvs) {
                ovs_hv_set_drops_eager(h->hv, drops_eager);
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
        long long int now = time_msec();
        struct sb_hv *h;
        if (now >= sb->next_tick) {
            /* The quiet tick: every hypervisor, every session. */
            sb->next_tick = (now / SB_QUIET_MS + 1) * SB_QUIET_MS;
            sb->thread_stats.n_ticks++;
            HMAP_FOR_EACH (h, node, &sb->hvs) {
                sb_hv_run(sb, h, true);
            }
        } else {
            sb_poll_busy(sb, now);
            LIST_FOR_EACH (h, busy_node, &sb->busy) {
                if (h->pfd < 0 || sb->pfds[h->pfd].revents) {
                    sb_hv_run(sb, h, false);
                } else {
                    sb->thread_stats.n_hv_skips++;
                }
            }
        }
        long long int run_done_us = sb_cpu_usec();
        long long int wake_at = sb_publish(sb);
        long long int publish_done_us = sb_cpu_usec();

        LIST_FOR_EACH (h, busy_node, &sb->busy) {
            ovs_hv_wait(h->hv);
        }
        if (!hmap_is_empty(&sb->hvs)) {
            wake_at = MIN(wake_at, sb->next_tick);
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
sb_async_cb(uv_async_t *async)
{
    struct ovs_sb *sb = async->data;
    if (!sb) {
        return;
    }

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

static void
sb_async_closed(uv_handle_t *handle)
{
    free(CONTAINER_OF(handle, struct sb_async, async));
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
    sb->async = xmalloc(sizeof *sb->async);
    uv_async_init(loop, &sb->async->async, sb_async_cb);
    sb->async->async.data = sb;
    sb->outbox = xmalloc(sizeof *sb->outbox);
    uv_idle_init(loop, &sb->outbox->idle);
    sb->outbox->idle.data = sb;
    ovs_list_init(&sb->outbox->ops);

    ovs_mutex_init(&sb->mutex);
    ovs_list_init(&sb->mailbox);
    ovs_list_init(&sb->confirms);
    hmap_init(&sb->status);
    hmap_init(&sb->drops);
    hmap_init(&sb->hvs);
    ovs_list_init(&sb->busy);
    ovs_list_init(&sb->ran);
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

    sb->async->async.data = NULL;
    uv_close((uv_handle_t *) &sb->async->async, sb_async_closed);

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
    free(sb->pfds);
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
