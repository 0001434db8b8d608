/* ovs-tunnels.h - the ports nvo wants on br-int, computed from a view.
 *
 * Two kinds:
 *  - one tunnel port per remote VTEP and encapsulation (a view's tunnel
 *    keys, desired.h): Port and Interface named "nvt" (VXLAN), "nvg"
 *    (Geneve) or "nvr" (GRE) + the 8 hex digits of the VTEP's IPv4 address
 *    (11 characters, under the 15 of IFNAMSIZ), or, for an IPv6 VTEP, that
 *    prefix + "6" + 11 hex digits of a hash of the address; type=vxlan,
 *    geneve or gre, options:remote_ip=IP and options:key=flow (the VNI
 *    travels in tun_id: the VXLAN or Geneve VNI, the GRE key);
 *  - each local VM port's interface ('iface'), which nvo attaches to br-int
 *    itself unless it already is there.
 * Everything nvo creates carries external_ids:nvo-owner=nvo, and VM ports
 * also nvo-port-id=ID; nvo never touches a port without that mark.
 *
 * Pure: no I/O, no globals. */
#ifndef NVO_OVS_TUNNELS_H
#define NVO_OVS_TUNNELS_H 1

#include <stdbool.h>
#include <stdint.h>

struct nvo_hv_view;
struct shash;

#define OVS_TUNNEL_NAME_SIZE 16         /* IFNAMSIZ. */
#define OVS_OWNER_KEY "nvo-owner"
#define OVS_OWNER_VALUE "nvo"
#define OVS_PORT_ID_KEY "nvo-port-id"

/* Writes the tunnel port name for tunnel key 'key' (an IP address for
 * VXLAN, "geneve/IP" or "gre/IP") into 'name'.  Returns 0, or -EINVAL if
 * 'key' names no IPv4 or IPv6 address. */
int ovs_tunnel_name(const char *key, char name[OVS_TUNNEL_NAME_SIZE]);

/* One port nvo wants on br-int. */
struct ovs_port_want {
    char *name;                 /* Port and Interface name. */
    bool tunnel;                /* Tunnel port, else a VM interface. */
    char *remote_ip;            /* Tunnels: the remote VTEP.  Else NULL. */
    char *key;                  /* Tunnels: the tunnel key.  Else NULL. */
    const char *type;           /* Tunnels: "vxlan", "geneve", "gre". */
    int64_t port_id;            /* VM interfaces: the port's id. */
};

/* Fills 'out' (an initialized, empty shash) with the ports 'view' needs:
 * name -> struct ovs_port_want, owned by 'out' (free with
 * ovs_ports_want_clear()).  Tunnel keys with no valid address are
 * skipped. */
void ovs_ports_want_compute(const struct nvo_hv_view *view, struct shash *out);

/* Frees every entry of 'wants' and empties it. */
void ovs_ports_want_clear(struct shash *wants);

#endif /* controller/ovs-tunnels.h */
