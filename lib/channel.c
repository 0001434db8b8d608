/* channel.c - see channel.h.  TLS runs over two memory BIOs: ciphertext
 * read from the socket is written into 'rbio', SSL_do_handshake() and
 * SSL_read() turn it into plaintext; SSL_write() leaves ciphertext in
 * 'wbio', which is drained into uv_write().  OpenSSL never touches the
 * socket, so the libuv loop stays in charge of all I/O. */
#include <config.h>
#include "lib/channel.h"

#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tls-ctx.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(channel);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

#define CHANNEL_READ_SIZE 65536

struct nvo_channel {
    uv_tcp_t tcp;
    uv_connect_t connect;
    const struct nvo_channel_ops *ops;
    void *aux;
    enum nvo_channel_state state;
    SSL *ssl;                   /* NULL: plain.  Owned. */
    BIO *rbio, *wbio;           /* Owned by 'ssl'. */
    uint8_t *pending;           /* Sent before OPEN; owned. */
    size_t n_pending, pending_cap;
    char peer[INET6_ADDRSTRLEN + 8];
};

static void
peer_name(struct nvo_channel *ch)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    snprintf(ch->peer, sizeof ch->peer, "?");
    if (uv_tcp_getpeername(&ch->tcp, (struct sockaddr *) &ss, &len)) {
        return;
    }
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
        uv_ip4_name(sin, ip, sizeof ip);
        port = ntohs(sin->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
        uv_ip6_name(sin6, ip, sizeof ip);
        port = ntohs(sin6->sin6_port);
    }
    snprintf(ch->peer, sizeof ch->peer, "%s:%d", ip, port);
}

/* ---- writing ------------------------------------------------------------ */

static void
write_done(uv_write_t *req, int status)
{
    if (status && status != UV_ECANCELED) {
        VLOG_DBG_RL(&rl, "write failed: %s", uv_strerror(status));
    }
    free(req->data);
    free(req);
}

/* Hands 'len' bytes of 'buf' (owned: freed once written) to the socket.
 * Returns 0 or a negative errno. */
static int
write_raw(struct nvo_channel *ch, uint8_t *buf, size_t len)
{
    uv_write_t *req = xmalloc(sizeof *req);
    uv_buf_t b = uv_buf_init((char *) buf, len);
    req->data = buf;
    int error = uv_write(req, (uv_stream_t *) &ch->tcp, &b, 1, write_done);
    if (error) {
        free(buf);
        free(req);
    }
    return error;
}

/* Sends the ciphertext OpenSSL produced.  Returns 0 or a negative errno. */
static int
flush_wbio(struct nvo_channel *ch)
{
    size_t n = BIO_ctrl_pending(ch->wbio);
    if (!n) {
        return 0;
    }
    uint8_t *buf = xmalloc(n);
    int got = BIO_read(ch->wbio, buf, n);
    if (got <= 0) {
        free(buf);
        return 0;
    }
    return write_raw(ch, buf, got);
}

/* ---- closing ------------------------------------------------------------ */

static void
on_closed(uv_handle_t *h)
{
    struct nvo_channel *ch = h->data;
    ch->ops->released(ch->aux);
    SSL_free(ch->ssl);
    free(ch->pending);
    free(ch);
}

static void
on_shutdown(uv_shutdown_t *req, int status OVS_UNUSED)
{
    struct nvo_channel *ch = req->data;
    free(req);
    if (!uv_is_closing((uv_handle_t *) &ch->tcp)) {
        uv_close((uv_handle_t *) &ch->tcp, on_closed);
    }
}

/* Enters FAILED and tells the owner (once). */
static void
channel_fail(struct nvo_channel *ch, int error, const char *reason)
{
    if (ch->state == NVO_CHANNEL_FAILED || ch->state == NVO_CHANNEL_CLOSING) {
        return;
    }
    ch->state = NVO_CHANNEL_FAILED;
    uv_read_stop((uv_stream_t *) &ch->tcp);
    ch->ops->failed(ch->aux, error, reason);
}

/* A TLS failure: OpenSSL's reason and, if the peer's certificate did not
 * verify, why. */
static void
tls_fail(struct nvo_channel *ch, const char *what)
{
    char detail[256] = "";
    unsigned long e = ERR_get_error();
    if (e) {
        ERR_error_string_n(e, detail, sizeof detail);
    }
    ERR_clear_error();
    long v = SSL_get_verify_result(ch->ssl);
    char *reason = xasprintf("%s%s%s%s%s", what, *detail ? ": " : "", detail,
                             v != X509_V_OK ? ": peer certificate: " : "",
                             v != X509_V_OK
                             ? X509_verify_cert_error_string(v) : "");
    channel_fail(ch, -EPROTO, reason);
    free(reason);
}

void
nvo_channel_close(struct nvo_channel *ch, bool flush)
{
    if (!ch || ch->state == NVO_CHANNEL_CLOSING) {
        return;
    }
    bool can_flush = flush && ch->state == NVO_CHANNEL_OPEN;
    ch->state = NVO_CHANNEL_CLOSING;
    uv_read_stop((uv_stream_t *) &ch->tcp);
    if (can_flush) {
        if (ch->ssl) {
            SSL_shutdown(ch->ssl);          /* Queues close_notify. */
            flush_wbio(ch);
            ERR_clear_error();
        }
        uv_shutdown_t *req = xmalloc(sizeof *req);
        req->data = ch;
        if (!uv_shutdown(req, (uv_stream_t *) &ch->tcp, on_shutdown)) {
            return;
        }
        free(req);
    }
    uv_close((uv_handle_t *) &ch->tcp, on_closed);
}

/* ---- reading ------------------------------------------------------------ */

static void
on_alloc(uv_handle_t *h OVS_UNUSED, size_t suggested OVS_UNUSED,
         uv_buf_t *buf)
{
    /* Per read, not per channel: idle channels hold no read buffer. */
    *buf = uv_buf_init(xmalloc(CHANNEL_READ_SIZE), CHANNEL_READ_SIZE);
}

/* Sends what was queued before the channel opened. */
static int
flush_pending(struct nvo_channel *ch)
{
    if (!ch->n_pending) {
        return 0;
    }
    uint8_t *data = ch->pending;
    size_t n = ch->n_pending;
    ch->pending = NULL;
    ch->n_pending = ch->pending_cap = 0;
    return nvo_channel_send(ch, data, n);
}

/* Enters OPEN: flushes queued sends, tells the owner. */
static void
channel_open(struct nvo_channel *ch)
{
    ch->state = NVO_CHANNEL_OPEN;
    int error = flush_pending(ch);
    if (error) {
        ch->state = NVO_CHANNEL_OPEN;       /* So that failing reports. */
        channel_fail(ch, error, uv_strerror(error));
        return;
    }
    if (ch->ops->connected) {
        ch->ops->connected(ch->aux);
    }
}

/* Advances the handshake.  Returns true once the channel is OPEN. */
static bool
tls_handshake(struct nvo_channel *ch)
{
    int r = SSL_do_handshake(ch->ssl);
    int error = flush_wbio(ch);
    if (r != 1) {
        int e = SSL_get_error(ch->ssl, r);
        if (error) {
            channel_fail(ch, error, uv_strerror(error));
        } else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            tls_fail(ch, "TLS handshake failed");
        }
        return false;
    }
    if (error) {
        channel_fail(ch, error, uv_strerror(error));
        return false;
    }
    /* SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT already failed the
     * handshake otherwise; checked again so no path opens unverified. */
    if (!SSL_get0_peer_certificate(ch->ssl)
        || SSL_get_verify_result(ch->ssl) != X509_V_OK) {
        tls_fail(ch, "peer certificate not verified");
        return false;
    }
    channel_open(ch);
    return ch->state == NVO_CHANNEL_OPEN;
}

static void
tls_input(struct nvo_channel *ch, const uint8_t *data, size_t n)
{
    if (BIO_write(ch->rbio, data, n) != (int) n) {
        tls_fail(ch, "TLS input buffer");
        return;
    }
    if (ch->state == NVO_CHANNEL_HANDSHAKE && !tls_handshake(ch)) {
        return;
    }
    uint8_t buf[16384];
    for (;;) {
        int r = SSL_read(ch->ssl, buf, sizeof buf);
        if (r > 0) {
            ch->ops->recv(ch->aux, buf, r);
            if (ch->state != NVO_CHANNEL_OPEN) {
                return;
            }
            continue;
        }
        int e = SSL_get_error(ch->ssl, r);
        if (e == SSL_ERROR_WANT_READ) {
            break;
        } else if (e == SSL_ERROR_ZERO_RETURN) {
            channel_fail(ch, -ECONNRESET, "connection closed (TLS)");
            return;
        }
        tls_fail(ch, "TLS error");
        return;
    }
    int error = flush_wbio(ch);   /* Post-handshake messages, alerts. */
    if (error) {
        channel_fail(ch, error, uv_strerror(error));
    }
}

static void
on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct nvo_channel *ch = stream->data;
    if (ch->state == NVO_CHANNEL_FAILED
        || ch->state == NVO_CHANNEL_CLOSING) {
        /* Nothing. */
    } else if (nread < 0) {
        channel_fail(ch, nread == UV_EOF ? -ECONNRESET : (int) nread,
                     nread == UV_EOF ? "connection closed"
                     : uv_strerror(nread));
    } else if (nread > 0) {
        if (ch->ssl) {
            tls_input(ch, (const uint8_t *) buf->base, nread);
        } else {
            ch->ops->recv(ch->aux, (const uint8_t *) buf->base, nread);
        }
    }
    free(buf->base);
}

/* ---- creating ----------------------------------------------------------- */

static struct nvo_channel *
channel_new(uv_loop_t *loop, struct nvo_tls_ctx *tls,
            const struct nvo_channel_ops *ops, void *aux, bool server,
            int *errp)
{
    struct nvo_channel *ch = xzalloc(sizeof *ch);
    ch->ops = ops;
    ch->aux = aux;
    snprintf(ch->peer, sizeof ch->peer, "?");
    if (tls) {
        nvo_tls_ctx_refresh(tls);
        ch->ssl = nvo_tls_ctx_new_ssl(tls);
        ch->rbio = BIO_new(BIO_s_mem());
        ch->wbio = BIO_new(BIO_s_mem());
        if (!ch->ssl || !ch->rbio || !ch->wbio) {
            BIO_free(ch->rbio);
            BIO_free(ch->wbio);
            SSL_free(ch->ssl);
            free(ch);
            *errp = -ENOMEM;
            return NULL;
        }
        BIO_set_mem_eof_return(ch->rbio, -1);
        SSL_set_bio(ch->ssl, ch->rbio, ch->wbio);
        if (server) {
            SSL_set_accept_state(ch->ssl);
        } else {
            SSL_set_connect_state(ch->ssl);
        }
    }
    uv_tcp_init(loop, &ch->tcp);
    ch->tcp.data = ch;
    ch->connect.data = ch;
    return ch;
}

static void
nop_released(void *aux OVS_UNUSED)
{
}

/* For a channel the owner never saw: no callbacks at all. */
static const struct nvo_channel_ops silent_ops = {
    .released = nop_released,
};

struct nvo_channel *
nvo_channel_accept(uv_loop_t *loop, uv_stream_t *listener,
                   struct nvo_tls_ctx *tls, const struct nvo_channel_ops *ops,
                   void *aux, int *errp)
{
    struct nvo_channel *ch = channel_new(loop, tls, ops, aux, true, errp);
    if (!ch) {
        return NULL;
    }
    int error = uv_accept(listener, (uv_stream_t *) &ch->tcp);
    if (!error) {
        error = uv_read_start((uv_stream_t *) &ch->tcp, on_alloc, on_read);
    }
    if (error) {
        ch->ops = &silent_ops;
        ch->state = NVO_CHANNEL_CLOSING;
        uv_close((uv_handle_t *) &ch->tcp, on_closed);
        *errp = error;
        return NULL;
    }
    peer_name(ch);
    uv_tcp_nodelay(&ch->tcp, 1);
    uv_tcp_keepalive(&ch->tcp, 1, 30);
    ch->state = ch->ssl ? NVO_CHANNEL_HANDSHAKE : NVO_CHANNEL_OPEN;
    *errp = 0;
    return ch;
}

static void
on_connect(uv_connect_t *req, int status)
{
    struct nvo_channel *ch = req->data;
    if (ch->state != NVO_CHANNEL_CONNECTING) {
        return;                 /* Closed meanwhile. */
    }
    if (status) {
        channel_fail(ch, status, uv_strerror(status));
        return;
    }
    peer_name(ch);
    uv_tcp_nodelay(&ch->tcp, 1);
    uv_tcp_keepalive(&ch->tcp, 1, 30);
    int error = uv_read_start((uv_stream_t *) &ch->tcp, on_alloc, on_read);
    if (error) {
        channel_fail(ch, error, uv_strerror(error));
    } else if (ch->ssl) {
        ch->state = NVO_CHANNEL_HANDSHAKE;
        tls_handshake(ch);      /* Sends the ClientHello. */
    } else {
        channel_open(ch);
    }
}

struct nvo_channel *
nvo_channel_connect(uv_loop_t *loop, const struct sockaddr *addr,
                    struct nvo_tls_ctx *tls,
                    const struct nvo_channel_ops *ops, void *aux, int *errp)
{
    struct nvo_channel *ch = channel_new(loop, tls, ops, aux, false, errp);
    if (!ch) {
        return NULL;
    }
    ch->state = NVO_CHANNEL_CONNECTING;
    int error = uv_tcp_connect(&ch->connect, &ch->tcp, addr, on_connect);
    if (error) {
        ch->ops = &silent_ops;
        ch->state = NVO_CHANNEL_CLOSING;
        uv_close((uv_handle_t *) &ch->tcp, on_closed);
        *errp = error;
        return NULL;
    }
    *errp = 0;
    return ch;
}

/* ---- sending ------------------------------------------------------------ */

int
nvo_channel_send(struct nvo_channel *ch, uint8_t *data, size_t len)
{
    if (ch->state == NVO_CHANNEL_FAILED
        || ch->state == NVO_CHANNEL_CLOSING) {
        free(data);
        return -ENOTCONN;
    }
    if (ch->state != NVO_CHANNEL_OPEN) {
        if (ch->n_pending + len > ch->pending_cap) {
            ch->pending_cap = MAX(ch->pending_cap * 2, ch->n_pending + len);
            ch->pending = xrealloc(ch->pending, ch->pending_cap);
        }
        memcpy(ch->pending + ch->n_pending, data, len);
        ch->n_pending += len;
        free(data);
        return 0;
    }
    int error;
    if (!ch->ssl) {
        error = write_raw(ch, data, len);
    } else {
        int r = len ? SSL_write(ch->ssl, data, len) : 1;
        free(data);
        error = r > 0 ? flush_wbio(ch) : -EPROTO;
        ERR_clear_error();
    }
    if (error) {
        ch->state = NVO_CHANNEL_FAILED;
        uv_read_stop((uv_stream_t *) &ch->tcp);
    }
    return error;
}

size_t
nvo_channel_queued(const struct nvo_channel *ch)
{
    return ch->tcp.write_queue_size + ch->n_pending;
}

enum nvo_channel_state
nvo_channel_state(const struct nvo_channel *ch)
{
    return ch->state;
}

const char *
nvo_channel_peer(const struct nvo_channel *ch)
{
    return ch->peer;
}

bool
nvo_channel_is_tls(const struct nvo_channel *ch)
{
    return ch->ssl != NULL;
}

bool
nvo_channel_peer_is(const struct nvo_channel *ch, const char *name,
                    char *cn, size_t cn_size)
{
    X509 *cert = (ch->ssl && ch->state == NVO_CHANNEL_OPEN
                  ? SSL_get0_peer_certificate(ch->ssl) : NULL);
    if (cn) {
        nvo_tls_cert_cn(cert, cn, cn_size);
    }
    return cert && SSL_get_verify_result(ch->ssl) == X509_V_OK
           && nvo_tls_cert_names(cert, name);
}

const char *
nvo_channel_peer_cert(const struct nvo_channel *ch, char *buf, size_t size)
{
    X509 *cert = ch->ssl ? SSL_get0_peer_certificate(ch->ssl) : NULL;
    char cn[128], serial[80];
    if (!cert) {
        snprintf(buf, size, "%s", ch->ssl ? "no certificate" : "");
    } else {
        snprintf(buf, size, "CN=%s serial=%s",
                 nvo_tls_cert_cn(cert, cn, sizeof cn),
                 nvo_tls_cert_serial(cert, serial, sizeof serial));
    }
    return buf;
}
