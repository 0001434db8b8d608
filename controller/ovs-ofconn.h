/* ovs-ofconn.h - one reliable OpenFlow 1.3 connection with batched output.
 *
 * What lib/rconn gives (reconnect with backoff, echo probes and an
 * inactivity timeout, TLS through stream-ssl, version negotiation), with
 * two differences that matter at hundreds of switches: messages sent
 * during a run are queued and go out in one write per flush (rconn makes
 * one send() and so one TCP segment per message), and input is read in
 * large chunks and split into messages here (vconn reads each message's
 * header and body with separate recv()s, and tries once more to learn
 * that nothing is left). */
#ifndef NVO_OVS_OFCONN_H
#define NVO_OVS_OFCONN_H 1

#include <stdbool.h>
#include <stddef.h>

#include "openvswitch/ofp-msgs.h"
#include "openvswitch/types.h"

struct ofpbuf;
struct ofp_header;

/* Creates a connection to 'target' ("tcp:IP:PORT", "ssl:IP:PORT",
 * "unix:PATH") that connects, and reconnects with backoff (1 s doubling to
 * 'max_backoff_s'), by itself; an idle connection is probed with an echo
 * request after 'probe_s' seconds and dropped after as many more.  'name'
 * is used in logs.  The caller owns the result (ovs_ofconn_destroy()). */
struct ovs_ofconn *ovs_ofconn_create(const char *target, const char *name,
                                     int probe_s, int max_backoff_s);
void ovs_ofconn_destroy(struct ovs_ofconn *);

/* Connects, negotiates, probes, flushes queued output.  With 'unreadable'
 * (the caller polled the socket just before, ovs_ofconn_fd(), and found
 * nothing to read), ovs_ofconn_recv() reads the socket no more until the
 * next run: it hands out only what was read before, and a run that only
 * sends costs no recv() that finds nothing. */
void ovs_ofconn_run(struct ovs_ofconn *, bool unreadable);
void ovs_ofconn_wait(struct ovs_ofconn *);

/* True once the switch agreed on OpenFlow 1.3 on the current
 * connection. */
bool ovs_ofconn_is_connected(const struct ovs_ofconn *);

/* Changes on every connection and every disconnection. */
unsigned int ovs_ofconn_get_seqno(const struct ovs_ofconn *);

/* Queues 'msg' (taken) for the next flush; while not connected it is
 * dropped and -ENOTCONN returned, else 0. */
int ovs_ofconn_send(struct ovs_ofconn *, struct ofpbuf *msg);

/* Like ovs_ofconn_send(), with the 'tail_len' bytes at 'tail' appended to
 * 'msg' on the way (its length field then counts them): a flow mod and
 * the instructions its flow holds encoded already, without growing 'msg'
 * for them (a reallocation and a copy per flow mod). */
int ovs_ofconn_send_tail(struct ovs_ofconn *, struct ofpbuf *msg,
                         const void *tail, size_t tail_len);

/* Queues a copy of 'msg' (still the caller's): a message encoded once
 * for many switches.  While not connected, returns -ENOTCONN, else 0. */
int ovs_ofconn_send_copy(struct ovs_ofconn *, const struct ofpbuf *msg);

/* Queues an OpenFlow 1.3 message of type 'raw' without a body (a barrier
 * request: OFPRAW_OFPT11_BARRIER_REQUEST) straight into the output, with
 * no buffer of its own, and returns its xid; while not connected, queues
 * nothing and returns 0. */
ovs_be32 ovs_ofconn_send_raw(struct ovs_ofconn *, enum ofpraw raw);

/* Writes the queued messages, as many as the socket takes, in one write;
 * the rest goes out when the socket is writable (ovs_ofconn_wait()). */
void ovs_ofconn_flush(struct ovs_ofconn *);

/* The next message from the switch, or NULL if none has arrived.  Hello
 * and echo requests are handled inside.  The message is borrowed: valid
 * until the next ovs_ofconn_recv(), _run(), _flush() or _destroy() on this
 * connection (ovs_ofconn_send() may be called while handling it). */
const struct ofp_header *ovs_ofconn_recv(struct ovs_ofconn *);

/* If nothing but input from the switch can give this connection work
 * (connected, nothing queued, no whole message buffered), the socket to
 * poll for it; else -1 (also for ssl: and unix: targets, whose socket is
 * not known).  Lets a caller skip running a connection whose socket is not
 * readable. */
int ovs_ofconn_input_fd(const struct ovs_ofconn *);

/* The socket of the connection, while OpenFlow 1.3 is agreed on it, for
 * a tcp: target; else -1 (also for ssl: and unix: targets, whose socket is
 * not known).  With ovs_ofconn_get_seqno(), which changes whenever a
 * connection comes up or goes, it tells a caller that watches the socket
 * elsewhere (epoll) when to register it again. */
int ovs_ofconn_fd(const struct ovs_ofconn *);

/* When ovs_ofconn_run() must run next even if nothing arrives (an echo
 * request to send, a silent peer to give up on, a backoff that ends), as a
 * time_msec(); LLONG_MAX if never. */
long long int ovs_ofconn_next_wake(const struct ovs_ofconn *);

/* Bytes queued and not yet written. */
size_t ovs_ofconn_backlog(const struct ovs_ofconn *);

/* If the connection is waiting out a backoff, tries again now. */
void ovs_ofconn_retry_now(struct ovs_ofconn *);

#endif /* controller/ovs-ofconn.h */
