/* validate.h - pure validation of REST request contents.
 *
 * The REST layer extracts a request's fields from its JSON body (types are
 * checked there) into one of the *_req structs below, NULL meaning "absent";
 * these functions check presence, syntax and combinations.  Each returns
 * NULL when the request is valid (filling the parsed forms in '*out') or a
 * static English message saying what is wrong (answered with 400).
 * No I/O, no globals: unit-tested in tests/unit/test-validate.c. */
#ifndef NVO_VALIDATE_H
#define NVO_VALIDATE_H 1

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>

#include "controller/model.h"
#include "lib/valid.h"          /* The name, interface and VNI rules. */

/* Parses 's' as a VM's own MAC address into 'mac'.  Returns NULL or a
 * message (malformed, multicast or broadcast, all-zero). */
const char *nvo_valid_vm_mac(const char *s, struct eth_addr *mac);

/* POST /v1/networks. */
struct nvo_net_req {
    const char *name;
    bool has_vni;
    int64_t vni;
    const char *bum;            /* NULL: "head-end". */
    const char *encap;          /* NULL: "vxlan". */
    bool has_arp_responder;     /* Absent: true. */
    bool arp_responder;
    bool has_mtu;
    int64_t mtu;
};
struct nvo_net_valid {
    uint32_t vni;
    enum nvo_bum_mode bum;
    enum nvo_encap encap;
    bool arp_responder;
    int mtu;                    /* 0: not set. */
};

#define NVO_MTU_MIN 576
#define NVO_MTU_MAX 9000
#define NVO_ALLOWED_MAX 16      /* Entries of "allowed_addresses". */
const char *nvo_validate_net(const struct nvo_net_req *,
                             struct nvo_net_valid *out);

/* POST /v1/hypervisors. */
struct nvo_hv_req {
    const char *name;
    const char *tunnel_ip;      /* Unicast IPv4 or IPv6 (not for service
                                 * nodes: IPv4 only). */
    const char *dataplane;      /* "ovs" | "kernel". */
    const char *role;           /* NULL: "hypervisor". */
    const char *ovsdb;          /* Required for "ovs", forbidden otherwise. */
};
struct nvo_hv_valid {
    char tunnel_ip[INET6_ADDRSTRLEN]; /* Canonical IPv4 or IPv6 form. */
    enum nvo_dataplane dataplane;
    enum nvo_role role;
};
const char *nvo_validate_hv(const struct nvo_hv_req *,
                            struct nvo_hv_valid *out);

/* POST /v1/ports ('network' and 'hypervisor' are names; whether they exist
 * is for the caller to check, answering 404). */
struct nvo_port_req {
    const char *vm;
    const char *network;
    const char *hypervisor;
    const char *mac;
    const char *ip;             /* Optional, IPv4 or IPv6. */
    const char *iface;
    const char *const *allowed; /* "allowed_addresses": IP[/LEN] each. */
    size_t n_allowed;
};
struct nvo_port_valid {
    struct eth_addr mac;
    char mac_s[18];             /* Canonical lower-case form. */
    char *allowed;              /* Space-separated, or NULL; caller frees. */
};
const char *nvo_validate_port(const struct nvo_port_req *,
                              struct nvo_port_valid *out);

/* True if 's' is "IP" or "IP/LEN" (IPv4 or IPv6, LEN within the family). */
bool nvo_valid_ip_prefix(const char *s);

/* PATCH /v1/ports/{id}: at least one of the two; each valid if present. */
const char *nvo_validate_port_move(const char *hypervisor, const char *iface);

#endif /* controller/validate.h */
