/* ovs-sb.h - southbound to Open vSwitch hypervisors (OVSDB + OpenFlow 1.3).
 *
 * Runs its own thread on Open vSwitch's poll loop (libopenvswitch's IDL,
 * rconn/vconn are built for it); the API below is called from the libuv main
 * thread and hands data over by ownership transfer, and callbacks come back
 * on the main thread through an nvo_wake (lib/uv-wake.h). */
#ifndef NVO_OVS_SB_H
#define NVO_OVS_SB_H 1

#include <stdint.h>
#include <uv.h>

#include "controller/southbound.h"

struct nvo_hv_view;
struct ovs_sb;
struct nvo_sb;

/* Starts the southbound thread.  Caller owns the result (ovs_sb_destroy()). */
struct ovs_sb *ovs_sb_create(uv_loop_t *loop, nvo_sb_confirm_cb *confirm,
                             void *aux);

/* Has the southbound call 'failed' (with the 'aux' given to
 * ovs_sb_create(), on the main thread) when a switch refuses a view: an
 * OpenFlow error answering its flow mods, a failed OVSDB transaction, an
 * interface ovs-vswitchd cannot add.  Call before the first ovs_sb_set(). */
void ovs_sb_set_failed_cb(struct ovs_sb *, nvo_sb_failed_cb *failed);

struct nvo_pki;

/* Uses 'pki' (copied) for ssl: OVSDB and OpenFlow remotes: the OVS thread
 * hands the files to stream-ssl before each round of connection attempts,
 * so a key and certificate replaced on disk are used by new connections. */
void ovs_sb_set_pki(struct ovs_sb *, const struct nvo_pki *pki);

/* Sets the desired state of OVS hypervisor view->hv_id (connecting to
 * view->ovsdb if new or changed).  Takes ownership of 'view'. */
void ovs_sb_set(struct ovs_sb *, struct nvo_hv_view *view);

/* Has hypervisor 'hv_id' re-read what its switch holds and repair any
 * difference with its desired state (a drift audit's repair): flows are
 * dumped again and diffed, as after a reconnection.  Asynchronous. */
void ovs_sb_resync(struct ovs_sb *, int64_t hv_id);

/* Forgets hypervisor 'hv_id' and closes its connections. */
void ovs_sb_remove(struct ovs_sb *, int64_t hv_id);

/* Fills '*st' for 'hv_id'. */
void ovs_sb_status(struct ovs_sb *, int64_t hv_id, struct nvo_sb_status *st);

/* Sets '*packets' to what VM port 'port_id''s drop flows (port security and
 * the MAC guard) counted on its switch, as last polled, and returns true;
 * false if no switch reported that port yet.  Switches are polled every
 * 30 s, and every 2 s for a minute after each call (the first call after
 * a quiet spell may see a count up to 30 s old; the next ones, fresh
 * ones). */
bool ovs_sb_port_drops(struct ovs_sb *, int64_t port_id, uint64_t *packets);

/* How many times a hypervisor's incremental flows were found different
 * from a full computation (ovs-hv.c's self-check; each is a bug).  0 for
 * NULL or a southbound that is not the OVS one. */
uint64_t ovs_sb_self_check_failures(struct nvo_sb *);

/* What the OVS thread spent its time on, since it started. */
struct ovs_sb_stats {
    uint64_t n_passes;          /* Wake-ups of its loop. */
    uint64_t n_hv_runs;         /* Hypervisors run, summed over passes. */
    uint64_t n_quiet_runs;      /* Of those, runs of quiet hypervisors
                                 * (a readable socket, a timer due). */
    uint64_t n_hv_skips;        /* Busy ones not run: they only awaited
                                 * input (an OpenFlow reply, an OVSDB
                                 * reply or update), not arrived yet. */
    uint64_t mail_us;           /* CPU time taking views from the core, */
    uint64_t run_us;            /* ...running hypervisors (OVSDB, flow
                                 * computation, OpenFlow), */
    uint64_t publish_us;        /* ...publishing confirmations, status. */
    uint64_t n_handovers;       /* Confirmations handed to the main thread
                                 * (nvo_wake_send(): a wake-up of it). */
};

/* Fills '*st'; zeros for NULL or a southbound that is not the OVS one. */
void ovs_sb_get_stats(struct nvo_sb *, struct ovs_sb_stats *st);

/* Stops the thread, closes every connection (leaving the switches' flows
 * and ports in place), frees everything.  Accepts NULL.  Call before the
 * loop is closed; the async handle is closed with uv_close(). */
void ovs_sb_destroy(struct ovs_sb *);

/* 'sb' behind the southbound interface (southbound.h), which the core uses;
 * NULL if 'sb' is NULL.  Borrowed: destroying it destroys 'sb'. */
struct nvo_sb *ovs_sb_as_sb(struct ovs_sb *sb);

#endif /* controller/ovs-sb.h */
