/* svcnode.c - the service node's BUM replicator: the socket path.
 *
 * One non-blocking UDP socket bound to tunnel_ip:udp_port receives, driven
 * by a uv_poll_t (level-triggered) on the agent's loop.  Each readable
 * event drains up to SVCNODE_RX_ROUNDS batches of SVCNODE_RX_BATCH
 * datagrams with recvmmsg(); svcnode_decide() (svcnode-table.c) says where
 * each goes; every copy points into the receive buffer (no copying) and is
 * queued on one of SVCNODE_N_TX send sockets bound to tunnel_ip:<ephemeral>
 * (picked by a hash of the sender's UDP source port, so the underlay keeps
 * per-flow entropy); queues are flushed with sendmmsg() before the receive
 * buffers are reused.  A full send buffer (EAGAIN) gets one short wait for
 * POLLOUT, which pushes back on the receive socket; what still does not fit
 * is dropped and counted.
 *
 * No dedicated thread: bench/bench-svcnode.sh puts this path within about
 * 10 % of a plain sendmmsg() loop emitting the same copies (the limit), so
 * the agent's loop is not the bottleneck.
 *
 * Handle lifecycle (libuv): create -> RUNNING (poll and summary timer
 * started) -> svcnode_destroy() -> CLOSING (uv_close on both handles)
 * -> each close callback decrements 'n_open'; at 0 the sockets are closed
 * and the struct freed. */
#include <config.h>

#include "agent/svcnode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/svcnode-table.h"
#include "hash.h"
#include "packets.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(svcnode);

#define SVCNODE_RX_BATCH 64         /* Datagrams per recvmmsg(). */
#define SVCNODE_RX_ROUNDS 8         /* recvmmsg() calls per poll event. */
#define SVCNODE_N_TX 8              /* Send sockets (source-port entropy). */
#define SVCNODE_TX_BATCH 512        /* Copies per sendmmsg(). */
#define SVCNODE_SOCKBUF (4 << 20)   /* SO_RCVBUF / SO_SNDBUF wanted. */
#define SVCNODE_EAGAIN_WAIT_MS 5    /* Wait for POLLOUT before dropping. */
#define SVCNODE_SUMMARY_MS 60000    /* Summary log interval. */

enum svcnode_state {
    SVCNODE_RUNNING,
    SVCNODE_CLOSING,
};

/* One send socket and its queue of copies. */
struct svcnode_tx {
    int fd;
    unsigned int n;                         /* Queued copies. */
    struct mmsghdr msgs[SVCNODE_TX_BATCH];
    struct iovec iovs[SVCNODE_TX_BATCH];
    struct sockaddr_in dsts[SVCNODE_TX_BATCH];
    struct svcnode_counters *ctrs[SVCNODE_TX_BATCH]; /* Whom to charge. */
};

struct svcnode {
    enum svcnode_state state;
    uv_loop_t *loop;
    uv_poll_t poll;
    uv_timer_t timer;
    int n_open;                 /* libuv handles not yet closed. */
    int fd;                     /* Receive socket. */
    uint16_t port;              /* UDP port, network byte order. */
    char *tunnel_ip;
    struct svcnode_table table;

    struct mmsghdr rx_msgs[SVCNODE_RX_BATCH];
    struct iovec rx_iovs[SVCNODE_RX_BATCH];
    struct sockaddr_in rx_srcs[SVCNODE_RX_BATCH];
    uint8_t (*rx_bufs)[SVCNODE_MAX_PACKET + 1];

    struct svcnode_tx tx[SVCNODE_N_TX];

    struct svcnode_counters logged; /* Totals at the last summary. */
};

static void svcnode_poll_cb(uv_poll_t *, int status, int events);
static void svcnode_timer_cb(uv_timer_t *);

/* Opens a non-blocking UDP socket bound to 'ip':'port' (network order).
 * Returns the fd or a negative errno. */
static int
open_socket(uint32_t ip, uint16_t port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    int size = SVCNODE_SOCKBUF;
    /* As root the FORCE variants pass net.core.[rw]mem_max; else the
     * plain ones give what the limit allows. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size)) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size)) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
    /* Zero UDP checksum on the copies, as the kernel's VXLAN devices send
     * over IPv4 (RFC 7348 allows it): saves the work and keeps receivers
     * that mishandle offloaded checksums over veth (OVS userspace) happy. */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &one, sizeof one);
    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_port = port,
        .sin_addr.s_addr = ip,
    };
    if (bind(fd, (struct sockaddr *) &sin, sizeof sin)) {
        int error = -errno;
        close(fd);
        return error;
    }
    return fd;
}

static void
close_sockets(struct svcnode *sn)
{
    if (sn->fd >= 0) {
        close(sn->fd);
    }
    for (int i = 0; i < SVCNODE_N_TX; i++) {
        if (sn->tx[i].fd >= 0) {
            close(sn->tx[i].fd);
        }
    }
}

static void
free_svcnode(struct svcnode *sn)
{
    close_sockets(sn);
    svcnode_table_destroy(&sn->table);
    free(sn->rx_bufs);
    free(sn->tunnel_ip);
    free(sn);
}

struct svcnode *
svcnode_create(uv_loop_t *loop, const char *tunnel_ip, uint16_t udp_port,
               int *errp)
{
    struct in_addr ip;
    int error;
    if (!ip_parse(tunnel_ip, &ip.s_addr)) {
        *errp = -EINVAL;
        return NULL;
    }

    struct svcnode *sn = xzalloc(sizeof *sn);
    sn->state = SVCNODE_RUNNING;
    sn->loop = loop;
    sn->port = htons(udp_port);
    sn->tunnel_ip = xstrdup(tunnel_ip);
    sn->fd = -1;
    for (int i = 0; i < SVCNODE_N_TX; i++) {
        sn->tx[i].fd = -1;
    }
    svcnode_table_init(&sn->table, ip.s_addr);
    sn->logged.vni = SVCNODE_VNI_NONE;
    sn->rx_bufs = xmalloc(SVCNODE_RX_BATCH * sizeof *sn->rx_bufs);

    sn->fd = open_socket(ip.s_addr, sn->port);
    if (sn->fd < 0) {
        error = sn->fd;
        goto fail;
    }
    for (int i = 0; i < SVCNODE_N_TX; i++) {
        sn->tx[i].fd = open_socket(ip.s_addr, 0);
        if (sn->tx[i].fd < 0) {
            error = sn->tx[i].fd;
            goto fail;
        }
    }

    error = uv_poll_init(loop, &sn->poll, sn->fd);
    if (error) {
        goto fail;
    }
    sn->poll.data = sn;
    sn->n_open++;
    uv_timer_init(loop, &sn->timer);
    sn->timer.data = sn;
    sn->n_open++;
    uv_unref((uv_handle_t *) &sn->timer);
    uv_poll_start(&sn->poll, UV_READABLE, svcnode_poll_cb);
    uv_timer_start(&sn->timer, svcnode_timer_cb, SVCNODE_SUMMARY_MS,
                   SVCNODE_SUMMARY_MS);
    VLOG_INFO("service node replicating VXLAN on %s:%"PRIu16,
              tunnel_ip, udp_port);
    return sn;

fail:
    VLOG_ERR("service node on %s:%"PRIu16": %s", tunnel_ip, udp_port,
             strerror(-error));
    *errp = error;
    free_svcnode(sn);
    return NULL;
}

int
svcnode_set_vni(struct svcnode *sn, uint32_t vni,
                const struct in_addr *vteps, size_t n)
{
    int error = svcnode_table_set(&sn->table, vni, vteps, n);
    if (error) {
        VLOG_WARN("VNI %"PRIu32": replication list of %zu VTEPs refused: %s",
                  vni, n, strerror(-error));
    } else {
        VLOG_DBG("VNI %"PRIu32": replicating to %zu VTEPs", vni,
                 svcnode_table_find(&sn->table, vni)->n_vteps);
    }
    return error;
}

void
svcnode_remove_vni(struct svcnode *sn, uint32_t vni)
{
    svcnode_table_remove(&sn->table, vni);
}

void
svcnode_foreach_counters(struct svcnode *sn, svcnode_counter_cb *cb,
                         void *aux)
{
    svcnode_table_foreach_counters(&sn->table, cb, aux);
}

/* Sends every queued copy of 'tx'. */
static void
tx_flush(struct svcnode_tx *tx)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    unsigned int off = 0;
    bool waited = false;

    while (off < tx->n) {
        int r = sendmmsg(tx->fd, &tx->msgs[off], tx->n - off, 0);
        if (r > 0) {
            for (unsigned int i = off; i < off + r; i++) {
                tx->ctrs[i]->out_packets++;
            }
            off += r;
            continue;
        }
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == ENOBUFS) && !waited) {
            /* Send buffer full: wait a little, then give up on the rest. */
            struct pollfd pfd = { .fd = tx->fd, .events = POLLOUT };
            poll(&pfd, 1, SVCNODE_EAGAIN_WAIT_MS);
            waited = true;
            continue;
        }
        int error = r < 0 ? errno : EIO;
        if (error == EAGAIN || error == ENOBUFS) {
            VLOG_WARN_RL(&rl, "send buffer full, dropping %u copies",
                         tx->n - off);
            for (; off < tx->n; off++) {
                tx->ctrs[off]->drop_send_error++;
            }
            break;
        }
        char ip[INET_ADDRSTRLEN];
        VLOG_WARN_RL(&rl, "send to %s failed: %s",
                     inet_ntop(AF_INET, &tx->dsts[off].sin_addr, ip,
                               sizeof ip), ovs_strerror(error));
        tx->ctrs[off]->drop_send_error++;
        off++;
    }
    tx->n = 0;
}

static void
tx_flush_all(struct svcnode *sn)
{
    for (int i = 0; i < SVCNODE_N_TX; i++) {
        if (sn->tx[i].n) {
            tx_flush(&sn->tx[i]);
        }
    }
}

/* Queues one copy of 'len' bytes at 'data' to 'dst':port on 'tx'. */
static void
tx_queue(struct svcnode *sn, struct svcnode_tx *tx, void *data, size_t len,
         uint32_t dst, struct svcnode_counters *c)
{
    if (tx->n == SVCNODE_TX_BATCH) {
        tx_flush(tx);
    }
    unsigned int i = tx->n++;
    tx->dsts[i] = (struct sockaddr_in) {
        .sin_family = AF_INET,
        .sin_port = sn->port,
        .sin_addr.s_addr = dst,
    };
    tx->iovs[i] = (struct iovec) { .iov_base = data, .iov_len = len };
    tx->msgs[i].msg_hdr = (struct msghdr) {
        .msg_name = &tx->dsts[i],
        .msg_namelen = sizeof tx->dsts[i],
        .msg_iov = &tx->iovs[i],
        .msg_iovlen = 1,
    };
    tx->ctrs[i] = c;
}

static void
log_drop(const struct svcnode_decision *d, const struct sockaddr_in *src)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    char ip[INET_ADDRSTRLEN];

    if (!VLOG_DROP_WARN(&rl)) {
        inet_ntop(AF_INET, &src->sin_addr, ip, sizeof ip);
        if (d->verdict == SVCNODE_DROP_UNKNOWN_SOURCE
            || d->verdict == SVCNODE_DROP_UNKNOWN_VNI) {
            VLOG_WARN("dropped packet from %s:%"PRIu16" for VNI %"PRIu32
                      ": %s", ip, ntohs(src->sin_port), d->vni,
                      svcnode_verdict_name(d->verdict));
        } else {
            VLOG_WARN("dropped packet from %s:%"PRIu16": %s", ip,
                      ntohs(src->sin_port), svcnode_verdict_name(d->verdict));
        }
    }
}

/* Receives one batch; returns the number of datagrams handled (0 when the
 * socket is drained). */
static int
rx_batch(struct svcnode *sn)
{
    for (int i = 0; i < SVCNODE_RX_BATCH; i++) {
        sn->rx_iovs[i] = (struct iovec) {
            .iov_base = sn->rx_bufs[i],
            .iov_len = sizeof sn->rx_bufs[i],
        };
        sn->rx_msgs[i].msg_hdr = (struct msghdr) {
            .msg_name = &sn->rx_srcs[i],
            .msg_namelen = sizeof sn->rx_srcs[i],
            .msg_iov = &sn->rx_iovs[i],
            .msg_iovlen = 1,
        };
    }
    int n = recvmmsg(sn->fd, sn->rx_msgs, SVCNODE_RX_BATCH, 0, NULL);
    if (n <= 0) {
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
            VLOG_WARN_RL(&rl, "receive failed: %s", ovs_strerror(errno));
        }
        return 0;
    }

    for (int i = 0; i < n; i++) {
        const struct msghdr *mh = &sn->rx_msgs[i].msg_hdr;
        const struct sockaddr_in *src = &sn->rx_srcs[i];
        size_t len = sn->rx_msgs[i].msg_len;
        if (mh->msg_flags & MSG_TRUNC) {
            len = SVCNODE_MAX_PACKET + 1;
        }
        if (mh->msg_namelen < sizeof *src || src->sin_family != AF_INET) {
            continue;
        }

        struct svcnode_decision d;
        svcnode_decide(&sn->table, sn->rx_bufs[i], len,
                       src->sin_addr.s_addr, &d);
        svcnode_table_count(&sn->table, &d);
        if (d.verdict != SVCNODE_FORWARD) {
            log_drop(&d, src);
            continue;
        }

        struct svcnode_tx *tx
            = &sn->tx[hash_int(src->sin_port, 0) % SVCNODE_N_TX];
        size_t n_dests = svcnode_decision_n_dests(&d);
        for (size_t j = 0; j < n_dests; j++) {
            tx_queue(sn, tx, sn->rx_bufs[i], len,
                     svcnode_decision_dest(&d, j), &d.entry->c);
        }
    }
    tx_flush_all(sn);
    return n;
}

static void
svcnode_poll_cb(uv_poll_t *poll_, int status, int events OVS_UNUSED)
{
    struct svcnode *sn = poll_->data;

    if (status < 0) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
        VLOG_WARN_RL(&rl, "poll: %s", uv_strerror(status));
        return;
    }
    for (int round = 0; round < SVCNODE_RX_ROUNDS; round++) {
        if (rx_batch(sn) < SVCNODE_RX_BATCH) {
            break;
        }
    }
}

static void
add_counters(const struct svcnode_counters *c, void *sum_)
{
    struct svcnode_counters *sum = sum_;
    sum->in_packets += c->in_packets;
    sum->out_packets += c->out_packets;
    sum->drop_short += c->drop_short;
    sum->drop_flags += c->drop_flags;
    sum->drop_unknown_vni += c->drop_unknown_vni;
    sum->drop_unknown_source += c->drop_unknown_source;
    sum->drop_send_error += c->drop_send_error;
    sum->drop_too_long += c->drop_too_long;
}

/* Logs the totals, at most every SVCNODE_SUMMARY_MS, if they moved. */
static void
svcnode_timer_cb(uv_timer_t *timer)
{
    struct svcnode *sn = timer->data;
    struct svcnode_counters sum = { .vni = SVCNODE_VNI_NONE };

    svcnode_table_foreach_counters(&sn->table, add_counters, &sum);
    if (!memcmp(&sum, &sn->logged, sizeof sum)) {
        return;
    }
    VLOG_INFO("%zu VNIs: %"PRIu64" packets in (+%"PRIu64"), %"PRIu64
              " copies out (+%"PRIu64"); dropped: %"PRIu64" short, %"PRIu64
              " bad flags, %"PRIu64" too long, %"PRIu64" unknown VNI, %"
              PRIu64" unknown source, %"PRIu64" send errors",
              hmap_count(&sn->table.vnis),
              sum.in_packets, sum.in_packets - sn->logged.in_packets,
              sum.out_packets, sum.out_packets - sn->logged.out_packets,
              sum.drop_short, sum.drop_flags, sum.drop_too_long,
              sum.drop_unknown_vni, sum.drop_unknown_source,
              sum.drop_send_error);
    sn->logged = sum;
}

static void
svcnode_close_cb(uv_handle_t *h)
{
    struct svcnode *sn = h->data;
    if (!--sn->n_open) {
        free_svcnode(sn);
    }
}

void
svcnode_destroy(struct svcnode *sn)
{
    if (!sn || sn->state == SVCNODE_CLOSING) {
        return;
    }
    sn->state = SVCNODE_CLOSING;
    uv_poll_stop(&sn->poll);
    uv_timer_stop(&sn->timer);
    uv_close((uv_handle_t *) &sn->poll, svcnode_close_cb);
    uv_close((uv_handle_t *) &sn->timer, svcnode_close_cb);
}
