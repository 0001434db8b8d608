/* channel.h - one controller <-> agent connection on the libuv loop: a TCP
 * stream, plain or TLS (OpenSSL over memory BIOs), carrying bytes in both
 * directions.  Both nvo-agent (agent/agent-conn.c, connecting) and
 * nvo-controller (controller/agent-server.c, accepting) use it; framing
 * (lib/frame.c) and the protocol sit on top, unchanged by TLS: the bytes
 * handed to ops->recv are the same plaintext stream a plain TCP
 * connection would deliver.
 *
 * States and transitions (enum nvo_channel_state):
 *
 *   CONNECTING  --TCP connected, plain-------------> OPEN (ops->connected)
 *   CONNECTING  --TCP connected, TLS---------------> HANDSHAKE
 *   (accepted, plain: OPEN; accepted, TLS: HANDSHAKE)
 *   HANDSHAKE   --handshake done, peer certificate
 *                 verified against the CA---------> OPEN (ops->connected;
 *                                                   queued sends flushed)
 *   CONNECTING, HANDSHAKE, OPEN --EOF, error, failed handshake or
 *                 verification---------------------> FAILED (ops->failed)
 *   any         --nvo_channel_close()--------------> CLOSING --libuv--> freed
 *                                                   (ops->released)
 *
 * After nvo_channel_close() no callback but ops->released is called;
 * ops->released is the last use of 'aux'.  Sends before OPEN are queued
 * (TLS) and count in nvo_channel_queued(). */
#ifndef NVO_CHANNEL_H
#define NVO_CHANNEL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

struct nvo_tls_ctx;
struct nvo_channel;

enum nvo_channel_state {
    NVO_CHANNEL_CONNECTING,
    NVO_CHANNEL_HANDSHAKE,
    NVO_CHANNEL_OPEN,
    NVO_CHANNEL_FAILED,
    NVO_CHANNEL_CLOSING,
};

struct nvo_channel_ops {
    /* The channel carries data: connected (plain) or handshake verified
     * (TLS).  Not called for accepted plain channels (open at once). */
    void (*connected)(void *aux);
    /* 'n' plaintext bytes arrived ('data' borrowed during the call). */
    void (*recv)(void *aux, const uint8_t *data, size_t n);
    /* The peer closed, the connection failed, or the TLS handshake or
     * certificate check failed: 'error' a negative errno (-ECONNRESET for
     * EOF, -EPROTO for TLS), 'reason' for logs (borrowed).  The owner calls
     * nvo_channel_close(), from here or later. */
    void (*failed)(void *aux, int error, const char *reason);
    /* Closed and about to be freed. */
    void (*released)(void *aux);
};

/* Accepts a connection pending on 'listener'; with 'tls' (borrowed; must
 * outlive the channel's use of it only during this call) TLS, else plain.
 * Returns the channel (owned by the caller until nvo_channel_close()) or
 * NULL with '*errp' (negative errno; the pending connection is dropped). */
struct nvo_channel *nvo_channel_accept(uv_loop_t *, uv_stream_t *listener,
                                       struct nvo_tls_ctx *tls,
                                       const struct nvo_channel_ops *,
                                       void *aux, int *errp);

/* Connects to 'addr'; TLS if 'tls' (borrowed, as above).  Returns the
 * channel or NULL with '*errp'. */
struct nvo_channel *nvo_channel_connect(uv_loop_t *,
                                        const struct sockaddr *addr,
                                        struct nvo_tls_ctx *tls,
                                        const struct nvo_channel_ops *,
                                        void *aux, int *errp);

/* Sends 'len' bytes of 'data' (takes ownership: free()).  Returns 0 or a
 * negative errno (then the channel has failed; ops->failed is not called
 * for it). */
int nvo_channel_send(struct nvo_channel *, uint8_t *data, size_t len);

/* Bytes accepted by nvo_channel_send() not yet handed to the kernel. */
size_t nvo_channel_queued(const struct nvo_channel *);

/* Closes: if 'flush', after what was sent is written (TLS: close_notify
 * too).  Accepts NULL.  See the top of this file. */
void nvo_channel_close(struct nvo_channel *, bool flush);

enum nvo_channel_state nvo_channel_state(const struct nvo_channel *);

/* "IP:PORT" of the peer (borrowed; "?" if unknown). */
const char *nvo_channel_peer(const struct nvo_channel *);

/* True if the channel is TLS. */
bool nvo_channel_is_tls(const struct nvo_channel *);

/* True if the channel is TLS, open, and the peer's verified certificate
 * names 'name' (nvo_tls_cert_names()).  'cn' (if nonnull) receives the
 * certificate's CN for logs. */
bool nvo_channel_peer_is(const struct nvo_channel *, const char *name,
                         char *cn, size_t cn_size);

/* "CN=... serial=..." of the peer's verified certificate, for logs, in
 * 'buf' ("" for plain channels). */
const char *nvo_channel_peer_cert(const struct nvo_channel *, char *buf,
                                  size_t size);

#endif /* lib/channel.h */
