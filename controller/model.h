/* model.h - the controller's in-memory copy of the placement store.
 *
 * The SQLite store (store.h) is the durable truth; the model mirrors it in
 * memory with the indexes the desired-state computation needs (ports by
 * network, ports by hypervisor).  It is loaded from the store at start and
 * updated by the REST layer right after each committed transaction, in the
 * same order.  The model owns every object in it; pointers into it are
 * borrowed and stay valid until the object is removed.
 *
 * Single-threaded: only the libuv main thread touches it. */
#ifndef NVO_MODEL_H
#define NVO_MODEL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/types.h"
#include "packets.h"

enum nvo_bum_mode {
    NVO_BUM_HEAD_END,           /* "head-end": one copy per remote VTEP. */
    NVO_BUM_SERVICE_NODE,       /* "service-node": one copy to a service node. */
};

enum nvo_encap {
    NVO_ENCAP_VXLAN,            /* "vxlan" (the default; kernel VTEPs too). */
    NVO_ENCAP_GENEVE,           /* "geneve" (OVS hypervisors only). */
    NVO_ENCAP_GRE,              /* "gre" (OVS hypervisors only). */
};

enum nvo_dataplane {
    NVO_DP_OVS,                 /* "ovs": programmed over OVSDB + OpenFlow. */
    NVO_DP_KERNEL,              /* "kernel": programmed by nvo-agent. */
};

enum nvo_role {
    NVO_ROLE_HYPERVISOR,        /* "hypervisor" */
    NVO_ROLE_SERVICE_NODE,      /* "service-node" (dataplane kernel). */
};

/* String forms used by the REST API and the store; the *_from_string()
 * functions return 0 and set '*out', or -EINVAL. */
const char *nvo_bum_mode_to_string(enum nvo_bum_mode);
int nvo_bum_mode_from_string(const char *, enum nvo_bum_mode *out);
const char *nvo_dataplane_to_string(enum nvo_dataplane);
int nvo_dataplane_from_string(const char *, enum nvo_dataplane *out);
const char *nvo_role_to_string(enum nvo_role);
const char *nvo_encap_to_string(enum nvo_encap);
int nvo_encap_from_string(const char *, enum nvo_encap *out);
int nvo_role_from_string(const char *, enum nvo_role *out);

struct nvo_network {
    struct hmap_node id_node;   /* In nvo_model.networks_by_id. */
    struct hmap_node name_node; /* In nvo_model.networks_by_name. */
    int64_t id;
    char *name;
    uint32_t vni;               /* 1..16777215, unique. */
    enum nvo_bum_mode bum;
    bool arp_responder;         /* "arp_responder" (default true). */
    enum nvo_encap encap;       /* "encap" (default vxlan). */
    int mtu;                    /* "mtu" of its VMs; 0: not set. */
    int64_t revision;           /* Store revision of its last change. */
    uint64_t seqno;             /* The model's 'seqno' at its creation or
                                 * its last change, of itself or of its
                                 * ports (one added, moved, changed or
                                 * removed). */
    /* Contains struct nvo_port.net_node, in the order of their 'seqno':
     * a changed port moves to the tail, so the ports changed since a
     * seqno are a walk back from it (the incremental desired state,
     * desired.c, reads them so). */
    struct ovs_list ports;
    size_t n_ports;
    struct hmap members;        /* Contains struct nvo_net_member: the
                                 * hypervisors with a port in it, so
                                 * that a write costs the network's
                                 * hypervisors, not its ports. */
};

/* A hypervisor with ports in a network. */
struct nvo_net_member {
    struct hmap_node node;      /* In nvo_network.members, by hv id. */
    struct nvo_hypervisor *hv;
    size_t n_ports;             /* Its ports in the network (> 0). */
};

struct nvo_hypervisor {
    struct hmap_node id_node;   /* In nvo_model.hvs_by_id. */
    struct hmap_node name_node; /* In nvo_model.hvs_by_name. */
    int64_t id;
    char *name;
    char *tunnel_ip;            /* Underlay VTEP address (IPv4 text). */
    enum nvo_dataplane dataplane;
    enum nvo_role role;
    char *ovsdb;                /* "tcp:IP:PORT" for OVS ones, else NULL. */
    int64_t revision;           /* Store revision of its last change. */
    uint64_t seqno;             /* The model's 'seqno' at its creation (a
                                 * hypervisor does not change). */
    struct ovs_list ports;      /* Contains struct nvo_port.hv_node. */
    size_t n_ports;
};

struct nvo_port {
    struct hmap_node id_node;   /* In nvo_model.ports_by_id. */
    struct hmap_node mac_node;  /* In nvo_model.ports_by_mac. */
    struct hmap_node iface_node; /* In nvo_model.ports_by_iface. */
    struct ovs_list net_node;   /* In network->ports. */
    struct ovs_list hv_node;    /* In hypervisor->ports. */
    int64_t id;
    char *vm;
    struct nvo_network *network;
    struct nvo_hypervisor *hypervisor;
    struct eth_addr mac;
    char *ip;                   /* May be NULL. */
    char **allowed;             /* "allowed_addresses": IP[/len] each. */
    size_t n_allowed;
    char *iface;                /* VM interface name on the hypervisor. */
    int64_t revision;           /* Store revision of its last change. */
    uint64_t seqno;             /* The model's 'seqno' at its creation or
                                 * last change (moved, allowed
                                 * addresses). */
};

struct nvo_model {
    struct hmap networks_by_id, networks_by_name;
    struct hmap hvs_by_id, hvs_by_name;
    struct hmap ports_by_id;
    struct hmap ports_by_mac;   /* By (network, MAC): unique in the store. */
    struct hmap ports_by_iface; /* By (hypervisor, iface): unique too. */
    size_t n_service_nodes;     /* Hypervisors with NVO_ROLE_SERVICE_NODE
                                 * (most deployments: none, and a write
                                 * then looks at no other hypervisor). */
    int64_t revision;           /* Store-wide revision last applied. */
    /* Counts the model's changes: every change of an object sets the
     * object's 'seqno' (and its network's, for a port) to the new value.
     * Unlike 'revision', which several writes of one store batch or
     * change share, it tells any two changes apart, so a computation
     * made at one seqno knows what changed since (desired.c). */
    uint64_t seqno;
};

/* Creates an empty model; caller owns it (nvo_model_destroy()). */
struct nvo_model *nvo_model_create(void);
/* Frees 'm' and everything in it.  Accepts NULL. */
void nvo_model_destroy(struct nvo_model *m);

/* Lookups; results are borrowed, NULL if absent. */
struct nvo_network *nvo_model_network_by_id(const struct nvo_model *, int64_t);
struct nvo_network *nvo_model_network_by_name(const struct nvo_model *,
                                              const char *);
struct nvo_hypervisor *nvo_model_hv_by_id(const struct nvo_model *, int64_t);
struct nvo_hypervisor *nvo_model_hv_by_name(const struct nvo_model *,
                                            const char *);
/* The hypervisor whose tunnel IP is 'ip' (as registered), or NULL.  A
 * linear search: for per-request use, not per port. */
struct nvo_hypervisor *nvo_model_hv_by_tunnel_ip(const struct nvo_model *,
                                                 const char *ip);
struct nvo_port *nvo_model_port_by_id(const struct nvo_model *, int64_t);
/* The port of 'net' with 'mac', and the port on 'hv' whose interface is
 * 'iface' (hashed: the write path checks them per request). */
struct nvo_port *nvo_model_port_by_mac(const struct nvo_model *,
                                       const struct nvo_network *net,
                                       struct eth_addr mac);
struct nvo_port *nvo_model_port_by_iface(const struct nvo_model *,
                                         const struct nvo_hypervisor *hv,
                                         const char *iface);

/* Adds objects.  String arguments are copied.  The caller has already
 * committed the row to the store (which enforces uniqueness); these do not
 * re-check constraints.  Return the new object (borrowed). */
struct nvo_network *nvo_model_add_network(struct nvo_model *, int64_t id,
                                          const char *name, uint32_t vni,
                                          enum nvo_bum_mode, int64_t revision);
struct nvo_hypervisor *nvo_model_add_hv(struct nvo_model *, int64_t id,
                                        const char *name,
                                        const char *tunnel_ip,
                                        enum nvo_dataplane, enum nvo_role,
                                        const char *ovsdb, int64_t revision);
struct nvo_port *nvo_model_add_port(struct nvo_model *, int64_t id,
                                    const char *vm, struct nvo_network *,
                                    struct nvo_hypervisor *,
                                    struct eth_addr mac, const char *ip,
                                    const char *iface, int64_t revision);

/* Moves 'port' to 'hv' with interface 'iface' (migration). */
void nvo_model_move_port(struct nvo_model *, struct nvo_port *port,
                         struct nvo_hypervisor *hv, const char *iface,
                         int64_t revision);

/* Replaces 'port''s allowed addresses with copies of the 'n' strings of
 * 'allowed' (each "IP" or "IP/LEN", already validated). */
void nvo_model_set_port_allowed(struct nvo_model *, struct nvo_port *port,
                                char *const *allowed, size_t n);

/* Replaces 'port''s allowed addresses with the space-separated entries of
 * 'allowed' (NULL or "" for none). */
void nvo_model_set_port_allowed_str(struct nvo_model *, struct nvo_port *port,
                                    const char *allowed);

/* Sets 'net''s VM MTU (0: not set). */
void nvo_model_set_mtu(struct nvo_model *, struct nvo_network *net, int mtu,
                       int64_t revision);

/* Sets whether 'net' answers ARP locally. */
void nvo_model_set_arp_responder(struct nvo_model *, struct nvo_network *net,
                                 bool on, int64_t revision);

/* Sets 'net''s encapsulation. */
void nvo_model_set_encap(struct nvo_model *, struct nvo_network *net,
                         enum nvo_encap, int64_t revision);

/* Changes 'net''s BUM mode. */
void nvo_model_set_bum(struct nvo_model *, struct nvo_network *net,
                       enum nvo_bum_mode, int64_t revision);

/* Removals free the object.  A network or hypervisor must have no ports. */
void nvo_model_remove_network(struct nvo_model *, struct nvo_network *);
void nvo_model_remove_hv(struct nvo_model *, struct nvo_hypervisor *);
void nvo_model_remove_port(struct nvo_model *, struct nvo_port *);

/* True if 'hv' has at least one port in 'net' (O(1)). */
bool nvo_model_hv_in_network(const struct nvo_hypervisor *hv,
                             const struct nvo_network *net);

#endif /* controller/model.h */
