#include <config.h>
#include "controller/validate.h"

#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "packets.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

const char *
nvo_valid_vm_mac(const char *s, struct eth_addr *mac)
{
    if (!s) {
        return "missing field 'mac'";
    }
    if (!eth_addr_from_string(s, mac)) {
        return "'mac' is not a MAC address (xx:xx:xx:xx:xx:xx)";
    }
    if (eth_addr_is_multicast(*mac)) {
        return "'mac' is a multicast or broadcast address";
    }
    if (eth_addr_is_zero(*mac)) {
        return "'mac' is all zeros";
    }
    return NULL;
}

const char *
nvo_validate_net(const struct nvo_net_req *r, struct nvo_net_valid *out)
{
    if (!r->name) {
        return "missing field 'name'";
    }
    if (!nvo_valid_name(r->name)) {
        return "'name' must be 1 to 64 characters of A-Z a-z 0-9 . _ -";
    }
    if (!r->has_vni) {
        return "missing field 'vni'";
    }
    if (!nvo_valid_vni(r->vni)) {
        return "'vni' must be from 1 to 16777215";
    }
    out->vni = r->vni;
    out->bum = NVO_BUM_HEAD_END;
    if (r->bum && nvo_bum_mode_from_string(r->bum, &out->bum)) {
        return "'bum' must be \"head-end\" or \"service-node\"";
    }
    out->encap = NVO_ENCAP_VXLAN;
    if (r->encap && nvo_encap_from_string(r->encap, &out->encap)) {
        return "'encap' must be \"vxlan\", \"geneve\" or \"gre\"";
    }
    out->arp_responder = !r->has_arp_responder || r->arp_responder;
    out->mtu = 0;
    if (r->has_mtu) {
        if (r->mtu < NVO_MTU_MIN || r->mtu > NVO_MTU_MAX) {
            return "'mtu' must be from 576 to 9000";
        }
        out->mtu = r->mtu;
    }
    return NULL;
}

bool
nvo_valid_ip_prefix(const char *s)
{
    ovs_be32 ip4;
    struct in6_addr ip6;
    unsigned int plen;

    if (!s) {
        return false;
    }
    char *error = (strchr(s, ':')
                   ? ipv6_parse_cidr(s, &ip6, &plen)
                   : ip_parse_cidr(s, &ip4, &plen));
    free(error);
    return !error;
}

const char *
nvo_validate_hv(const struct nvo_hv_req *r, struct nvo_hv_valid *out)
{
    ovs_be32 ip;

    if (!r->name) {
        return "missing field 'name'";
    }
    if (!nvo_valid_name(r->name)) {
        return "'name' must be 1 to 64 characters of A-Z a-z 0-9 . _ -";
    }
    if (!r->tunnel_ip) {
        return "missing field 'tunnel_ip'";
    }
    struct in6_addr ip6;
    if (ip_parse(r->tunnel_ip, &ip)) {
        uint32_t h = ntohl(ip);
        if (!h || h == UINT32_MAX || (h >> 28) == 0xe) {
            return "'tunnel_ip' must be a unicast IPv4 or IPv6 address";
        }
        inet_ntop(AF_INET, &ip, out->tunnel_ip, sizeof out->tunnel_ip);
    } else if (ipv6_parse(r->tunnel_ip, &ip6)) {
        if (IN6_IS_ADDR_UNSPECIFIED(&ip6) || IN6_IS_ADDR_MULTICAST(&ip6)
            || IN6_IS_ADDR_LOOPBACK(&ip6) || IN6_IS_ADDR_V4MAPPED(&ip6)) {
            return "'tunnel_ip' must be a unicast IPv4 or IPv6 address";
        }
        inet_ntop(AF_INET6, &ip6, out->tunnel_ip, sizeof out->tunnel_ip);
    } else {
        return "'tunnel_ip' is not an IPv4 or IPv6 address";
    }
    if (!r->dataplane) {
        return "missing field 'dataplane'";
    }
    if (nvo_dataplane_from_string(r->dataplane, &out->dataplane)) {
        return "'dataplane' must be \"ovs\" or \"kernel\"";
    }
    out->role = NVO_ROLE_HYPERVISOR;
    if (r->role && nvo_role_from_string(r->role, &out->role)) {
        return "'role' must be \"hypervisor\" or \"service-node\"";
    }
    if (out->role == NVO_ROLE_SERVICE_NODE
        && out->dataplane != NVO_DP_KERNEL) {
        return "a service node must use dataplane \"kernel\"";
    }
    if (out->role == NVO_ROLE_SERVICE_NODE && strchr(out->tunnel_ip, ':')) {
        return "a service node needs an IPv4 'tunnel_ip' (it replicates "
               "over IPv4 only)";
    }
    if (out->dataplane == NVO_DP_OVS) {
        if (!r->ovsdb) {
            return "an OVS hypervisor needs 'ovsdb' (\"ssl:IP:PORT\" or "
                   "\"tcp:IP:PORT\")";
        }
        if (nvo_ovsdb_remote_check(r->ovsdb)) {
            return "'ovsdb' must be \"ssl:IP:PORT\", \"tcp:IP:PORT\" (or "
                   "\"unix:PATH\")";
        }
    } else if (r->ovsdb) {
        return "'ovsdb' is only for dataplane \"ovs\"";
    }
    return NULL;
}

const char *
nvo_validate_port(const struct nvo_port_req *r, struct nvo_port_valid *out)
{
    out->allowed = NULL;
    if (!r->vm) {
        return "missing field 'vm'";
    }
    if (!nvo_valid_name(r->vm)) {
        return "'vm' must be 1 to 64 characters of A-Z a-z 0-9 . _ -";
    }
    if (!r->network) {
        return "missing field 'network'";
    }
    if (!nvo_valid_name(r->network)) {
        return "'network' is not a valid name";
    }
    if (!r->hypervisor) {
        return "missing field 'hypervisor'";
    }
    if (!nvo_valid_name(r->hypervisor)) {
        return "'hypervisor' is not a valid name";
    }
    const char *why = nvo_valid_vm_mac(r->mac, &out->mac);
    if (why) {
        return why;
    }
    snprintf(out->mac_s, sizeof out->mac_s, ETH_ADDR_FMT,
             ETH_ADDR_ARGS(out->mac));
    if (r->ip && !nvo_ip_is_valid(r->ip)) {
        return "'ip' is not an IPv4 or IPv6 address";
    }
    if (!r->iface) {
        return "missing field 'iface'";
    }
    if (!nvo_valid_ifname(r->iface)) {
        return "'iface' must be a Linux interface name (1 to 15 characters, "
               "no '/', ':' or whitespace)";
    }
    if (r->n_allowed > NVO_ALLOWED_MAX) {
        return "'allowed_addresses' holds at most 16 entries";
    }
    for (size_t i = 0; i < r->n_allowed; i++) {
        if (!nvo_valid_ip_prefix(r->allowed[i])) {
            return "'allowed_addresses' entries must be \"IP\" or "
                   "\"IP/LEN\" (IPv4 or IPv6)";
        }
    }
    if (r->n_allowed) {
        struct ds s = DS_EMPTY_INITIALIZER;
        for (size_t i = 0; i < r->n_allowed; i++) {
            ds_put_format(&s, "%s%s", i ? " " : "", r->allowed[i]);
        }
        out->allowed = ds_steal_cstr(&s);
    }
    return NULL;
}

const char *
nvo_validate_port_move(const char *hypervisor, const char *iface)
{
    if (!hypervisor && !iface) {
        return "give 'hypervisor' and/or 'iface'";
    }
    if (hypervisor && !nvo_valid_name(hypervisor)) {
        return "'hypervisor' is not a valid name";
    }
    if (iface && !nvo_valid_ifname(iface)) {
        return "'iface' must be a Linux interface name (1 to 15 characters, "
               "no '/', ':' or whitespace)";
    }
    return NULL;
}
