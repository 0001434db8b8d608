/* kdp-report.h - what the kernel dataplane actually holds, for the
 * controller's drift audit (StateRequest -> StateReport, nvoctl audit).
 *
 * Reads netlink only; changes nothing.  Per network nvo manages (its
 * VXLAN device or bridge exists, kdp-state.h names them) it reports: the
 * VXLAN device (present, nvo's attributes, up in its bridge, MTU), the
 * bridge, the interfaces in it, the VXLAN device's FDB entries (kdp_dump()),
 * and what port security and ARP suppression put there (kdp-sec.h): the
 * bridge's static FDB entries on its ports, the permanent IPv4 neighbours
 * on the bridge, and the VXLAN port's neigh_suppress flag.  The controller
 * compares it with the desired state; the agent does not judge it. */
#ifndef NVO_KDP_REPORT_H
#define NVO_KDP_REPORT_H 1

#include <netinet/in.h>

#include "proto/nvo.pb-c.h"

struct kdp;

/* Fills 'rep' (initialized by the caller; its id untouched) with the state
 * of the devices of tunnel IP 'local' (IPv4-mapped or IPv6, as
 * kdp-state.h keeps addresses), dumping them through 'kdp'.  The
 * entries it adds are malloc()ed and freed with the message
 * (nvo__state_report__free_unpacked() with the default allocator, or
 * nvo_msg_free() of its Message).  Returns 0 or a negative errno (then
 * 'rep' holds what was read before the failure). */
int kdp_report_fill(struct kdp *, const struct in6_addr *local,
                    Nvo__StateReport *rep);

#endif /* agent/kdp-report.h */
