/* ovs-ofconn.c - one reliable OpenFlow 1.3 connection with batched output.
 *
 * States and transitions (lib/reconnect decides when to connect, probe and
 * give up; this module only follows it):
 *
 *   C_IDLE --(reconnect: connect; stream_open() ok)--> C_CONNECTING
 *   C_IDLE --(reconnect: connect; stream_open() fails)--> C_IDLE (backoff)
 *   C_CONNECTING --(stream connected)--> queue our hello --> C_HELLO
 *   C_CONNECTING --(connect failed)--> C_IDLE (backoff)
 *   C_HELLO --(the switch's hello allows 1.3)--> seqno++ --> C_ACTIVE
 *   C_HELLO --(any other message, or no 1.3)--> C_IDLE (backoff)
 *   C_ACTIVE --(reconnect: probe)--> queue an echo request
 *   C_HELLO, C_ACTIVE --(EOF, socket error, malformed message, or
 *       reconnect: no reply to the probe)--> seqno++ if C_ACTIVE --> C_IDLE
 *
 * Output: ovs_ofconn_send() only appends to 'txbuf'; ovs_ofconn_flush()
 * writes all of it with one stream_send() (the rest, if the socket is
 * full, when it is writable).  A VM start's flow mod and barrier to one
 * switch are thus one write and one TCP segment, not two.
 *
 * Input: one stream_recv() of up to RX_CHUNK bytes fills 'rxbuf', which is
 * split into messages here; a short read means the socket is drained, and
 * it is not read again until the next run (poll() reports what arrives
 * later; stream-ssl wakes at once for data it holds already). */
#include <config.h>
#include "controller/ovs-ofconn.h"

#include <errno.h>
#include <limits.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "openflow/openflow.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "reconnect.h"
#include "socket-util.h"
#include "stream.h"
#include "stream-fd.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ovs_ofconn);

enum ofconn_state {
    C_IDLE,                     /* No stream: backing off or about to
                                 * connect. */
    C_CONNECTING,               /* stream_connect() in progress. */
    C_HELLO,                    /* Our hello queued, awaiting theirs. */
    C_ACTIVE,                   /* OpenFlow 1.3 agreed. */
};

/* Message types that every OpenFlow version numbers alike (the spec's
 * OFPT_HELLO, OFPT_ERROR, OFPT_ECHO_REQUEST), checked on raw headers. */
enum {
    OFCONN_T_HELLO = 0,
    OFCONN_T_ERROR = 1,
    OFCONN_T_ECHO_REQUEST = 2,
};

/* Bytes asked of the socket per read: a few dozen replies, or most of a
 * 64 kB flow-stats reply part. */
#define RX_CHUNK 65536

struct ovs_ofconn {
    char *name;
    char *target;
    enum ofconn_state state;
    struct reconnect *reconnect;
    struct stream *stream;      /* Non-null unless C_IDLE. */
    int fd;                     /* The stream's socket if tcp:, else -1. */
    unsigned int seqno;

    struct ofpbuf txbuf;        /* Queued output, whole messages. */
    struct ofpbuf rxbuf;        /* Input not yet handed out. */
    size_t rx_taken;            /* Bytes of 'rxbuf' handed out by the last
                                 * ovs_ofconn_recv(), to pull next time. */
    bool rx_drained;            /* The last read was short: the socket is
                                 * empty until the next run. */
};

/* Every log line here can be caused by a switch: all rate-limited, each
 * function with its own limit. */
#define OFCONN_RL VLOG_RATE_LIMIT_INIT(5, 20)

struct ovs_ofconn *
ovs_ofconn_create(const char *target, const char *name, int probe_s,
                  int max_backoff_s)
{
    struct ovs_ofconn *c = xzalloc(sizeof *c);
    long long int now = time_msec();

    c->name = xstrdup(name);
    c->target = xstrdup(target);
    c->state = C_IDLE;
    c->fd = -1;
    c->reconnect = reconnect_create(now);
    reconnect_set_name(c->reconnect, name);
    /* Its lines would be unlimited, one per attempt: this module logs,
     * rate-limited, instead. */
    reconnect_set_quiet(c->reconnect, true);
    reconnect_set_backoff(c->reconnect, 1000, max_backoff_s * 1000);
    reconnect_set_probe_interval(c->reconnect, probe_s * 1000);
    reconnect_enable(c->reconnect, now);
    ofpbuf_init(&c->txbuf, 0);
    ofpbuf_init(&c->rxbuf, RX_CHUNK);
    return c;
}

/* Drops the stream and whatever was queued or half received. */
static void
close_stream(struct ovs_ofconn *c)
{
    stream_close(c->stream);
    c->stream = NULL;
    c->fd = -1;
    ofpbuf_clear(&c->txbuf);
    ofpbuf_clear(&c->rxbuf);
    c->rx_taken = 0;
    c->rx_drained = false;
    if (c->state == C_ACTIVE) {
        c->seqno++;
    }
    c->state = C_IDLE;
}

void
ovs_ofconn_destroy(struct ovs_ofconn *c)
{
    if (c) {
        stream_close(c->stream);
        reconnect_destroy(c->reconnect);
        ofpbuf_uninit(&c->txbuf);
        ofpbuf_uninit(&c->rxbuf);
        free(c->name);
        free(c->target);
        free(c);
    }
}

/* The connection failed ('error' a positive errno, EOF, or 0 when
 * reconnect itself gave up on it): back off and reconnect.
 *
 * Every caller has already logged why, rate-limited and in this module's
 * words, so reconnect is told only "closed" (EOF) or "dropped" (0): for a
 * positive errno it would log its own unconditional, un-rate-limited WARN
 * ("connection dropped (...)") on a path any switch can trigger. */
static void
disconnect(struct ovs_ofconn *c, int error)
{
    if (c->state != C_IDLE) {
        reconnect_disconnected(c->reconnect, time_msec(),
                               error == EOF ? EOF : 0);
        close_stream(c);
    }
}

/* Appends the message at 'msg' ('msg_len' bytes) and then 'tail' (if
 * 'tail_len') to the output as one message, whose length field counts
 * both. */
static void
queue_bytes(struct ovs_ofconn *c, const void *msg, size_t msg_len,
            const void *tail, size_t tail_len)
{
    size_t ofs = c->txbuf.size;
    ofpbuf_put(&c->txbuf, msg, msg_len);
    if (tail_len) {
        ofpbuf_put(&c->txbuf, tail, tail_len);
    }
    struct ofp_header *oh = ofpbuf_at_assert(&c->txbuf, ofs, sizeof *oh);
    oh->length = htons(msg_len + tail_len);
}

/* Queues 'msg' (taken). */
static void
queue(struct ovs_ofconn *c, struct ofpbuf *msg)
{
    queue_bytes(c, msg->data, msg->size, NULL, 0);
    ofpbuf_delete(msg);
}

static void rx_hello(struct ovs_ofconn *);

/* Opens the stream.  A tcp: socket is made here, as stream-tcp would
 * (TCP_NODELAY; stream-fd sets it again once an in-progress connect
 * completes), rather than by stream_open(), so that its fd is known
 * (ovs_ofconn_input_fd()). */
static int
open_stream(struct ovs_ofconn *c)
{
    c->fd = -1;
    if (strncmp(c->target, "tcp:", 4)) {
        return stream_open(c->target, &c->stream, DSCP_DEFAULT);
    }
    int fd;
    int error = inet_open_active(SOCK_STREAM, c->target + 4, -1, NULL, &fd,
                                 DSCP_DEFAULT);
    if (fd < 0) {
        return error;
    }
    setsockopt_tcp_nodelay(fd);
    error = new_fd_stream(xstrdup(c->target), fd, error, AF_INET,
                          &c->stream);
    if (!error) {
        c->fd = fd;
    }
    return error;
}

static void
start_connect(struct ovs_ofconn *c)
{
    static struct vlog_rate_limit rl = OFCONN_RL;
    int error = open_stream(c);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: cannot open %s: %s", c->name, c->target,
                     ovs_strerror(error));
        reconnect_connect_failed(c->reconnect, time_msec(), error);
        c->stream = NULL;
        return;
    }
    reconnect_connecting(c->reconnect, time_msec());
    c->state = C_CONNECTING;
}

void
ovs_ofconn_run(struct ovs_ofconn *c, bool unreadable)
{
    static struct vlog_rate_limit rl = OFCONN_RL;
    c->rx_drained = unreadable && c->state == C_ACTIVE;
    if (c->stream) {
        stream_run(c->stream);
    }
    if (c->state == C_CONNECTING) {
        int error = stream_connect(c->stream);
        if (!error) {
            reconnect_connected(c->reconnect, time_msec());
            c->state = C_HELLO;
            queue(c, ofputil_encode_hello(1u << OFP13_VERSION));
        } else if (error != EAGAIN) {
            /* Routine while the switch opens its listener. */
            VLOG_INFO_RL(&rl, "%s: connecting to %s failed: %s", c->name,
                         c->target, ovs_strerror(error));
            reconnect_connect_failed(c->reconnect, time_msec(), error);
            stream_close(c->stream);
            c->stream = NULL;
            c->fd = -1;
            c->state = C_IDLE;
        }
    }

    if (c->state == C_HELLO) {
        rx_hello(c);
    }

    switch (reconnect_run(c->reconnect, time_msec())) {
    case RECONNECT_CONNECT:
        if (c->state != C_IDLE) {
            disconnect(c, 0);
        }
        start_connect(c);
        break;
    case RECONNECT_DISCONNECT:
        if (c->state == C_ACTIVE) {
            VLOG_WARN_RL(&rl, "%s: no response to inactivity probe after "
                         "%d seconds, disconnecting", c->name,
                         reconnect_get_probe_interval(c->reconnect) / 1000);
        } else {
            VLOG_INFO_RL(&rl, "%s: %s timed out, retrying", c->name,
                         c->state == C_HELLO ? "OpenFlow hello"
                         : "connection attempt");
        }
        disconnect(c, ETIMEDOUT);
        break;
    case RECONNECT_PROBE:
        if (c->state == C_ACTIVE) {
            queue(c, ofputil_encode_echo_request(OFP13_VERSION));
        }
        break;
    }
    ovs_ofconn_flush(c);
}

void
ovs_ofconn_wait(struct ovs_ofconn *c)
{
    reconnect_wait(c->reconnect, time_msec());
    if (!c->stream) {
        return;
    }
    stream_run_wait(c->stream);
    if (c->state == C_CONNECTING) {
        stream_connect_wait(c->stream);
        return;
    }
    stream_recv_wait(c->stream);
    if (c->txbuf.size) {
        stream_send_wait(c->stream);
    }
}

bool
ovs_ofconn_is_connected(const struct ovs_ofconn *c)
{
    return c->state == C_ACTIVE;
}

unsigned int
ovs_ofconn_get_seqno(const struct ovs_ofconn *c)
{
    return c->seqno;
}

int
ovs_ofconn_send(struct ovs_ofconn *c, struct ofpbuf *msg)
{
    return ovs_ofconn_send_tail(c, msg, NULL, 0);
}

int
ovs_ofconn_send_tail(struct ovs_ofconn *c, struct ofpbuf *msg,
                     const void *tail, size_t tail_len)
{
    if (c->state != C_ACTIVE) {
        ofpbuf_delete(msg);
        return -ENOTCONN;
    }
    queue_bytes(c, msg->data, msg->size, tail, tail_len);
    ofpbuf_delete(msg);
    return 0;
}

int
ovs_ofconn_send_copy(struct ovs_ofconn *c, const struct ofpbuf *msg)
{
    if (c->state != C_ACTIVE) {
        return -ENOTCONN;
    }
    queue_bytes(c, msg->data, msg->size, NULL, 0);
    return 0;
}

ovs_be32
ovs_ofconn_send_raw(struct ovs_ofconn *c, enum ofpraw raw)
{
    if (c->state != C_ACTIVE) {
        return htonl(0);
    }
    /* ofpraw_put() appends the header but sets its length to the whole
     * buffer's: set it to the message's. */
    size_t ofs = c->txbuf.size;
    ofpraw_put(raw, OFP13_VERSION, &c->txbuf);
    struct ofp_header *oh = ofpbuf_at_assert(&c->txbuf, ofs, sizeof *oh);
    oh->length = htons(c->txbuf.size - ofs);
    return oh->xid;
}

void
ovs_ofconn_flush(struct ovs_ofconn *c)
{
    static struct vlog_rate_limit rl = OFCONN_RL;
    if (!c->txbuf.size || (c->state != C_HELLO && c->state != C_ACTIVE)) {
        return;
    }
    ssize_t n = stream_send(c->stream, c->txbuf.data, c->txbuf.size);
    if (n >= 0) {
        ofpbuf_pull(&c->txbuf, n);
        if (!c->txbuf.size) {
            ofpbuf_clear(&c->txbuf);
        }
    } else if (n != -EAGAIN) {
        VLOG_INFO_RL(&rl, "%s: send failed: %s", c->name,
                     ovs_strerror(-n));
        disconnect(c, -n);
    }
}

/* C_HELLO: 'oh' is the switch's first message. */
static void
handle_hello(struct ovs_ofconn *c, const struct ofp_header *oh)
{
    static struct vlog_rate_limit rl = OFCONN_RL;
    uint32_t allowed;
    if (oh->type != OFCONN_T_HELLO) {
        VLOG_WARN_RL(&rl, "%s: the switch did not start with a hello "
                     "(type %d)", c->name, oh->type);
        disconnect(c, EPROTO);
        return;
    }
    if (!ofputil_decode_hello(oh, &allowed)
        || !(allowed & (1u << OFP13_VERSION))) {
        VLOG_WARN_RL(&rl, "%s: the switch does not speak OpenFlow 1.3 "
                     "(its hello: version 0x%02x)", c->name, oh->version);
        disconnect(c, EPROTO);
        return;
    }
    c->state = C_ACTIVE;
    c->seqno++;
    VLOG_DBG("%s: OpenFlow 1.3 agreed", c->name);
}

/* The next whole message in 'rxbuf', or NULL.  Disconnects on a malformed
 * header. */
static const struct ofp_header *
rx_next(struct ovs_ofconn *c)
{
    static struct vlog_rate_limit rl = OFCONN_RL;
    if (c->rxbuf.size < sizeof(struct ofp_header)) {
        return NULL;
    }
    const struct ofp_header *oh = c->rxbuf.data;
    size_t len = ntohs(oh->length);
    if (len < sizeof *oh) {
        VLOG_WARN_RL(&rl, "%s: message of bad length %"PRIuSIZE" received",
                     c->name, len);
        disconnect(c, EPROTO);
        return NULL;
    }
    return c->rxbuf.size >= len ? oh : NULL;
}

/* Reads what the socket holds.  Returns false if nothing more can be read
 * now (nothing there, or the connection failed). */
static bool
rx_fill(struct ovs_ofconn *c)
{
    static struct vlog_rate_limit rl = OFCONN_RL;
    if (c->rx_drained) {
        return false;
    }
    if (!c->rxbuf.size) {
        ofpbuf_clear(&c->rxbuf);
    } else if (ofpbuf_headroom(&c->rxbuf)
               && ofpbuf_tailroom(&c->rxbuf) < RX_CHUNK) {
        /* A partial message: move it to the front. */
        ofpbuf_shift(&c->rxbuf, -(int) ofpbuf_headroom(&c->rxbuf));
    }
    ofpbuf_prealloc_tailroom(&c->rxbuf, RX_CHUNK);

    reconnect_receive_attempted(c->reconnect, time_msec());
    ssize_t n = stream_recv(c->stream, ofpbuf_tail(&c->rxbuf), RX_CHUNK);
    if (n > 0) {
        c->rxbuf.size += n;
        c->rx_drained = n < RX_CHUNK;
        reconnect_activity(c->reconnect, time_msec());
        return true;
    }
    if (n == -EAGAIN) {
        c->rx_drained = true;
        return false;
    }
    if (n == 0) {
        VLOG_INFO_RL(&rl, "%s: connection closed by the switch", c->name);
        disconnect(c, EOF);
    } else {
        VLOG_INFO_RL(&rl, "%s: receive failed: %s", c->name,
                     ovs_strerror(-n));
        disconnect(c, -n);
    }
    return false;
}

/* C_HELLO: takes the switch's hello, if it came. */
static void
rx_hello(struct ovs_ofconn *c)
{
    while (c->state == C_HELLO) {
        const struct ofp_header *oh = rx_next(c);
        if (!oh) {
            if (c->state != C_HELLO || !rx_fill(c)) {
                return;
            }
            continue;
        }
        size_t len = ntohs(oh->length);
        handle_hello(c, oh);
        if (c->state == C_ACTIVE) {
            ofpbuf_pull(&c->rxbuf, len);
        }
    }
}

const struct ofp_header *
ovs_ofconn_recv(struct ovs_ofconn *c)
{
    static struct vlog_rate_limit rl = OFCONN_RL;
    if (c->rx_taken) {
        ofpbuf_pull(&c->rxbuf, c->rx_taken);
        c->rx_taken = 0;
    }
    rx_hello(c);
    while (c->state == C_ACTIVE) {
        const struct ofp_header *oh = rx_next(c);
        if (!oh) {
            if (c->state != C_ACTIVE || !rx_fill(c)) {
                return NULL;
            }
            continue;
        }
        size_t len = ntohs(oh->length);
        if (oh->type == OFCONN_T_ECHO_REQUEST) {
            queue(c, ofputil_encode_echo_reply(oh));
            ofpbuf_pull(&c->rxbuf, len);
            continue;
        }
        if (oh->version != OFP13_VERSION && oh->type != OFCONN_T_ERROR) {
            VLOG_WARN_RL(&rl, "%s: dropped a message of OpenFlow version "
                         "0x%02x", c->name, oh->version);
            ofpbuf_pull(&c->rxbuf, len);
            continue;
        }
        c->rx_taken = len;
        return oh;
    }
    return NULL;
}

int
ovs_ofconn_input_fd(const struct ovs_ofconn *c)
{
    if (c->state != C_ACTIVE || c->txbuf.size) {
        return -1;
    }
    if (c->rxbuf.size >= sizeof(struct ofp_header)) {
        const struct ofp_header *oh = c->rxbuf.data;
        if (c->rxbuf.size >= ntohs(oh->length)) {
            return -1;          /* A whole message is waiting already. */
        }
    }
    return c->fd;
}

int
ovs_ofconn_fd(const struct ovs_ofconn *c)
{
    return c->state == C_ACTIVE ? c->fd : -1;
}

long long int
ovs_ofconn_next_wake(const struct ovs_ofconn *c)
{
    long long int now = time_msec();
    int timeout = reconnect_timeout(c->reconnect, now);
    return timeout < 0 ? LLONG_MAX : now + timeout;
}

size_t
ovs_ofconn_backlog(const struct ovs_ofconn *c)
{
    return c->txbuf.size;
}

void
ovs_ofconn_retry_now(struct ovs_ofconn *c)
{
    /* Re-enabling restarts the backoff at 0: the next run connects. */
    if (c->state == C_IDLE && reconnect_is_enabled(c->reconnect)) {
        long long int now = time_msec();
        reconnect_disable(c->reconnect, now);
        reconnect_enable(c->reconnect, now);
    }
}
