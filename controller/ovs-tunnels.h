/* ovs-tunnels.h - the ports nvo wants on br-int, computed from a view.
 *
 * Two kinds:
 *  - one flow-based tunnel port per encapsulation its networks use:
 *    "nvt-vxlan", "nvt-geneve" or "nvt-gre", type=vxlan, geneve or gre,
 *    options:remote_ip=flow and options:key=flow.  Which ones a switch has
 *    depends only on the encapsulations of the networks it has VMs in,
 *    never on the remote VTEPs (a switch without a Geneve network needs no
 *    Geneve port, and one whose datapath lacks Geneve is not held up by
 *    it).  The flows choose the remote VTEP per packet
 *    (set_field:IP->tun_dst, or tun_ipv6_dst, before output to the port)
 *    and classify what arrives by tun_src (tun_ipv6_src) and tun_id
 *    (ovs-flows.h), so a VTEP joining or leaving a network is flows only,
 *    never an OVSDB port.  No options:local_ip: the source address comes
 *    from the switch's route toward each VTEP, IPv4 or IPv6, as it did
 *    with the per-VTEP ports this replaces;
 *  - each local VM port's interface ('iface'), which nvo attaches to br-int
 *    itself unless it already is there.
 * Everything nvo creates carries external_ids:nvo-owner=nvo, and VM ports
 * also nvo-port-id=ID; nvo never touches a port without that mark.
 *
 * Earlier releases made one tunnel port per remote VTEP and encapsulation
 * ("nvt", "nvg" or "nvr" + 8 hex digits of the IPv4 address, or that
 * prefix + "6" + 11 hex digits of a hash of an IPv6 one).  They carry
 * nvo's mark and are not wanted, so the reconciliation deletes them; the
 * audit reports any it still sees as extra.  The mark decides, not the
 * name: a port so named without it is someone else's, never touched, and
 * foreign to the audit.  ovs_tunnel_port_is_nvo() only names what an
 * audit item is.
 *
 * Pure: no I/O, no globals. */
#ifndef NVO_OVS_TUNNELS_H
#define NVO_OVS_TUNNELS_H 1

#include <stdbool.h>
#include <stdint.h>

#include "controller/model.h"

struct nvo_hv_view;
struct shash;

#define OVS_OWNER_KEY "nvo-owner"
#define OVS_OWNER_VALUE "nvo"
#define OVS_PORT_ID_KEY "nvo-port-id"

/* Returns the name of the flow-based tunnel port of 'encap' (a static
 * string), e.g. "nvt-vxlan". */
const char *ovs_tunnel_port_name(enum nvo_encap encap);

/* True if 'name' is one of nvo's tunnel port names: a flow-based port, or
 * a per-VTEP port of an earlier release.  A name only: whether nvo owns
 * the port is its mark (OVS_OWNER_KEY). */
bool ovs_tunnel_port_is_nvo(const char *name);

/* One port nvo wants on br-int. */
struct ovs_port_want {
    char *name;                 /* Port and Interface name. */
    bool tunnel;                /* Tunnel port, else a VM interface. */
    const char *type;           /* Tunnels: "vxlan", "geneve", "gre" (also
                                 * the key of ovs_flows_input's
                                 * tunnel_ofports).  Else NULL. */
    int64_t port_id;            /* VM interfaces: the port's id. */
};

/* Fills 'out' (an initialized, empty shash) with the ports 'view' needs:
 * name -> struct ovs_port_want, owned by 'out' (free with
 * ovs_ports_want_clear()): the flow-based tunnel port of each
 * encapsulation of the view's networks, and the view's local VM
 * interfaces. */
void ovs_ports_want_compute(const struct nvo_hv_view *view, struct shash *out);

/* Frees every entry of 'wants' and empties it. */
void ovs_ports_want_clear(struct shash *wants);

#endif /* controller/ovs-tunnels.h */
