/* svcnode.h - the service node's BUM replicator (runs inside nvo-agent with
 * --role=service-node).
 *
 * Hypervisors tunnel broadcast, unknown-unicast and multicast frames of a
 * "bum":"service-node" network to the network's service node.  The service
 * node receives them as VXLAN on UDP 'udp_port' (4789) at its tunnel IP and
 * sends one copy to every other VTEP of that VNI (the replication list, the
 * flood[] of the service node's own view), never back to the sender.  The
 * inner frame and the VNI are unchanged; copies leave from a small pool of
 * sockets picked by a hash of the sender's UDP source port, so the underlay
 * keeps per-flow entropy.  A packet whose outer source is not in its VNI's
 * list is dropped and counted: strangers get no amplification.
 *
 * Copies go to VTEP:udp_port (VTEPs are addressed by IP only, all on the
 * same port; on loopback, tests bind distinct 127.0.0.x on that port).
 *
 * Single-threaded: every function runs on the thread that runs 'loop'. */
#ifndef NVO_SVCNODE_H
#define NVO_SVCNODE_H 1

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define SVCNODE_MAX_PACKET 9216     /* Longest VXLAN payload accepted. */
#define SVCNODE_MAX_VTEPS 4096      /* Longest replication list per VNI. */
#define SVCNODE_VNI_NONE UINT32_MAX /* Counters of packets with no VNI. */

struct svcnode;

/* Binds UDP 'tunnel_ip':'udp_port' (non-blocking, driven by a uv_poll_t on
 * 'loop') and starts replicating.  Serves no VNI until svcnode_set_vni().
 * Returns NULL and sets '*errp' (negative errno) on failure.  Caller owns
 * the result and frees it with svcnode_destroy(). */
struct svcnode *svcnode_create(uv_loop_t *loop, const char *tunnel_ip,
                               uint16_t udp_port, int *errp);

/* Replaces 'vni''s replication list with the 'n' VTEPs in 'vteps' (copied;
 * duplicates and the service node's own tunnel IP are ignored), adding the
 * VNI if new.  A VNI's counters survive a replacement.  Returns 0, -EINVAL
 * (vni not in 1..16777215) or -E2BIG (n > SVCNODE_MAX_VTEPS). */
int svcnode_set_vni(struct svcnode *, uint32_t vni,
                    const struct in_addr *vteps, size_t n);

/* Stops serving 'vni' (its packets then count as unknown VNI).  No-op if
 * not served. */
void svcnode_remove_vni(struct svcnode *, uint32_t vni);

/* Cumulative packet counters of one VNI.  in_packets counts every packet
 * received for the VNI (drops included); out_packets counts copies sent. */
struct svcnode_counters {
    uint32_t vni;               /* SVCNODE_VNI_NONE: see below. */
    uint64_t in_packets;
    uint64_t out_packets;
    uint64_t drop_short;        /* Shorter than VXLAN + Ethernet headers. */
    uint64_t drop_flags;        /* VXLAN I flag clear. */
    uint64_t drop_unknown_vni;  /* VNI not served. */
    uint64_t drop_unknown_source; /* Outer source not in the VNI's list. */
    uint64_t drop_send_error;   /* Copies the kernel refused. */
    uint64_t drop_too_long;     /* Longer than SVCNODE_MAX_PACKET. */
};

/* Calls 'cb' once per served VNI (ascending VNI), then once with vni ==
 * SVCNODE_VNI_NONE for the totals of packets that matched no served VNI
 * (short, bad flags, too long, unknown VNI).  The counters are borrowed for
 * the duration of the call. */
typedef void svcnode_counter_cb(const struct svcnode_counters *, void *aux);
void svcnode_foreach_counters(struct svcnode *, svcnode_counter_cb *,
                              void *aux);

/* Stops receiving, closes the sockets and frees 'sn' once libuv has closed
 * its handles (the loop must run on for that).  Accepts NULL. */
void svcnode_destroy(struct svcnode *);

#endif /* agent/svcnode.h */
