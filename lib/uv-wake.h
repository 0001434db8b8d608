/* uv-wake.h - wakes a libuv loop from another thread: uv_async_t, without
 * the spin of the libuv this is built with.
 *
 * A workaround, for libuv < 1.45 (Debian 12 ships 1.44): there
 * uv_async_send() marks the handle busy, writes the loop's eventfd, then
 * marks it done, and the loop, woken by that write, spins on the mark in
 * uv__async_io() (997 'pause's, then sched_yield(), again) until the
 * sender is done (libuv issues #2651, #2769).  On a busy 2-core machine
 * the woken loop thread often runs before the sender returned from
 * write(): nvo-controller's main thread in a 3-controller cluster at 128
 * hypervisors spent about a tenth of its CPU there (doc/controller.md).
 * libuv 1.45 removed that busy loop (libuv PR #3879, "unix: remove busy
 * loop from uv_async_send"); built against it, this module is a plain
 * uv_async_t, and it can go once every build has it.
 *
 * Below 1.45: the sender writes an eventfd only when no wake-up is
 * pending (an atomic flag), and the loop watches the eventfd with a
 * uv_poll_t: it reads it, clears the flag, then calls the callback, so a
 * send during the callback wakes it once more.  Nothing spins.
 *
 * As uv_async_t: sends coalesce (the callback runs at least once after any
 * send, maybe once for several), and what a sender published before its
 * send is visible to the callback. */
#ifndef NVO_UV_WAKE_H
#define NVO_UV_WAKE_H 1

#include <uv.h>

struct nvo_wake;

typedef void nvo_wake_cb(void *aux);

/* Creates a wake-up of 'loop' that calls 'cb(aux)' on the loop's thread
 * (aborts if it cannot, as xmalloc() without memory).  Loop thread only;
 * the caller owns the result (nvo_wake_destroy()). */
struct nvo_wake *nvo_wake_create(uv_loop_t *loop, nvo_wake_cb *cb,
                                 void *aux);

/* Wakes the loop: it calls the callback soon.  Any thread. */
void nvo_wake_send(struct nvo_wake *);

/* Stops and frees 'w' (the memory once libuv closed the handle): the
 * callback is not called any more.  Loop thread only; no thread may send
 * meanwhile or after.  Accepts NULL. */
void nvo_wake_destroy(struct nvo_wake *w);

#endif /* lib/uv-wake.h */
