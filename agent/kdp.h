/* kdp.h - the kernel dataplane's netlink I/O (libmnl, NETLINK_ROUTE):
 * dumps the devices and FDB entries nvo owns (kdp-state.h says which) and
 * applies a list of operations, batching requests.  Runs in the calling
 * thread's network namespace; blocking, but each call is bounded by the
 * size of the state. */
#ifndef NVO_KDP_H
#define NVO_KDP_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/kdp-state.h"

struct kdp;

/* Opens a netlink socket.  Returns NULL and sets '*errp' on failure.
 * Caller owns the result (kdp_close()). */
struct kdp *kdp_open(int *errp);
void kdp_close(struct kdp *);

/* Fills 'actual' (initialized by this call) with our devices, their FDB
 * entries and the interfaces in our bridges.  A VXLAN device whose
 * attributes differ from what we would create with local IP 'local'
 * (IPv4-mapped or IPv6) is marked vxlan_stale.  Returns 0 or a negative
 * errno. */
int kdp_dump(struct kdp *, const struct in6_addr *local,
             struct kdp_state *actual);

/* Dumps every object of netlink request 'type' (RTM_GETLINK or
 * RTM_GETNEIGH) of address 'family' and runs 'cb' (a libmnl callback) over
 * each message.  For readers of state beyond kdp_dump() (kdp-report.c).
 * Returns 0 or a negative errno. */
struct nlmsghdr;
typedef int kdp_dump_cb(const struct nlmsghdr *, void *aux);
int kdp_dump_all(struct kdp *, uint16_t type, uint8_t family,
                 kdp_dump_cb *cb, void *aux);

/* One RTM_NEWNEIGH message of a neighbour dump, as nvo's readers judge it
 * (kdp-sec.c reconciles these entries, kdp-report.c reports them: one
 * parse, so the audit sees exactly what reconciliation manages). */
struct kdp_neigh {
    int ifindex;
    int master;                 /* NDA_MASTER: the bridge, or 0. */
    bool has_mac, has_dst, has_ip;
    uint8_t mac[6];             /* NDA_LLADDR, if 'has_mac'. */
    uint32_t ip;                /* NDA_DST of 4 bytes (network order), if
                                 * 'has_ip'. */
    bool static_master;         /* AF_BRIDGE: a bridge's static entry
                                 * ("bridge fdb add MAC dev PORT master
                                 * static"). */
    bool permanent_ipv4;        /* AF_INET: a permanent neighbour. */
};

/* Parses 'nlh' into '*n'.  Returns false if it is not an RTM_NEWNEIGH of
 * address 'family'. */
bool kdp_neigh_parse(const struct nlmsghdr *nlh, uint8_t family,
                     struct kdp_neigh *n);

/* Called for each operation that failed, with a negative errno. */
typedef void kdp_error_cb(void *aux, const struct kdp_op *op, int error);

/* Applies 'ops' in order with local IP 'local'.  Failures of single
 * operations (an interface missing, a name taken) are reported through
 * 'cb' and do not stop the others.  Returns the number of failed
 * operations, or a negative errno if netlink itself failed. */
int kdp_apply(struct kdp *, const struct in6_addr *local,
              const struct kdp_ops *ops, kdp_error_cb *cb, void *aux);

/* The VXLAN MTU for tunnel IP 'local' (IPv4-mapped or IPv6), whose
 * encapsulation adds 50 bytes over IPv4 and 70 over IPv6: 1500 if the
 * underlay interface that holds 'local' carries 1500 plus that, else its
 * MTU minus that; 1500 minus that if no interface holds 'local'. */
uint32_t kdp_vxlan_mtu(const struct in6_addr *local);

/* The MTU of the interface that holds 'local', or 0 if none does. */
uint32_t kdp_underlay_mtu(const struct in6_addr *local);

#endif /* agent/kdp.h */
