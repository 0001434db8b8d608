#include <config.h>
#include "lib/uv-wake.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ovs-atomic.h"
#include "util.h"

/* libuv 1.45 (0x012d00) has no spin (see uv-wake.h). */
#define NVO_WAKE_ASYNC (UV_VERSION_HEX >= 0x012d00)

struct nvo_wake {
#if NVO_WAKE_ASYNC
    uv_async_t async;           /* 'data' is the wake. */
#else
    uv_poll_t poll;             /* On 'fd'; 'data' is the wake. */
    int fd;                     /* eventfd, nonblocking. */
    atomic_bool pending;        /* A write is in 'fd' or on its way. */
#endif
    nvo_wake_cb *cb;            /* NULL once destroyed. */
    void *aux;
};

#if NVO_WAKE_ASYNC
static void
wake_async_cb(uv_async_t *async)
{
    struct nvo_wake *w = async->data;
    if (w->cb) {
        w->cb(w->aux);
    }
}
#else
static void
wake_poll_cb(uv_poll_t *poll, int status OVS_UNUSED, int events OVS_UNUSED)
{
    struct nvo_wake *w = poll->data;
    uint64_t n;

    /* Drain first, then clear the flag: a send after the clear writes
     * again, so nothing published after this point is missed. */
    while (read(w->fd, &n, sizeof n) < 0 && errno == EINTR) {
        continue;
    }
    atomic_store(&w->pending, false);
    if (w->cb) {
        w->cb(w->aux);
    }
}
#endif

struct nvo_wake *
nvo_wake_create(uv_loop_t *loop, nvo_wake_cb *cb, void *aux)
{
    struct nvo_wake *w = xzalloc(sizeof *w);
    w->cb = cb;
    w->aux = aux;
#if NVO_WAKE_ASYNC
    int error = uv_async_init(loop, &w->async, wake_async_cb);
    w->async.data = w;
#else
    w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->fd < 0) {
        ovs_abort(errno, "eventfd");
    }
    atomic_init(&w->pending, false);
    int error = uv_poll_init(loop, &w->poll, w->fd);
    if (!error) {
        w->poll.data = w;
        error = uv_poll_start(&w->poll, UV_READABLE, wake_poll_cb);
    }
#endif
    if (error) {
        ovs_abort(0, "cannot make a wake-up: %s", uv_strerror(error));
    }
    return w;
}

void
nvo_wake_send(struct nvo_wake *w)
{
#if NVO_WAKE_ASYNC
    uv_async_send(&w->async);
#else
    bool was;
    atomic_read_explicit(&w->pending, &was, memory_order_relaxed);
    if (!was && !atomic_exchange(&w->pending, true)) {
        uint64_t one = 1;
        ssize_t retval;
        do {
            retval = write(w->fd, &one, sizeof one);
        } while (retval < 0 && errno == EINTR);
        /* EAGAIN: the counter is full, so the loop is woken anyway. */
    }
#endif
}

static void
wake_closed(uv_handle_t *handle)
{
    struct nvo_wake *w = handle->data;
#if !NVO_WAKE_ASYNC
    close(w->fd);
#endif
    free(w);
}

void
nvo_wake_destroy(struct nvo_wake *w)
{
    if (w) {
        w->cb = NULL;
#if NVO_WAKE_ASYNC
        uv_close((uv_handle_t *) &w->async, wake_closed);
#else
        uv_close((uv_handle_t *) &w->poll, wake_closed);
#endif
    }
}
