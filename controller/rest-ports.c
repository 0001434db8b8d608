/* rest-ports.c - /v1/ports: VM placement (the orchestration hooks).
 *
 *   GET    /v1/ports[?network=N][&hypervisor=H]  200 [port...] (by id)
 *   POST   /v1/ports        201 port {"vm","network","hypervisor","mac",
 *                           "ip"?,"iface"}                    (VM start)
 *   GET    /v1/ports/{id}   200 port
 *   PATCH  /v1/ports/{id}   200 port {"hypervisor"?,"iface"?} (migration)
 *   DELETE /v1/ports/{id}   204                               (VM stop)
 * Affected hypervisors of a write: every hypervisor of the port's network
 * (and its service node) before and after the change. */
#include <config.h>
#include "controller/rest-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctl.h"
#include "controller/model.h"
#include "controller/store.h"
#include "controller/validate.h"
#include "lib/addr.h"
#include "util.h"

static int
compare_ports(const void *a_, const void *b_)
{
    const struct nvo_port *const *a = a_, *const *b = b_;
    return (*a)->id < (*b)->id ? -1 : (*a)->id > (*b)->id;
}

static void
list_ports(struct rest_call *c)
{
    const struct nvo_model *m = c->ctl->model;
    const struct nvo_network *net = NULL;
    const struct nvo_hypervisor *hv = NULL;

    if (c->q_network) {
        net = nvo_model_network_by_name(m, c->q_network);
        if (!net) {
            rest_reply_error(c, 404, "not_found", "no network named %s",
                             c->q_network);
            return;
        }
    }
    if (c->q_hypervisor) {
        hv = nvo_model_hv_by_name(m, c->q_hypervisor);
        if (!hv) {
            rest_reply_error(c, 404, "not_found", "no hypervisor named %s",
                             c->q_hypervisor);
            return;
        }
    }

    size_t n = 0;
    const struct nvo_port **v;
    const struct nvo_port *p;
    if (net) {
        v = xmalloc((net->n_ports + 1) * sizeof *v);
        LIST_FOR_EACH (p, net_node, &net->ports) {
            if (!hv || p->hypervisor == hv) {
                v[n++] = p;
            }
        }
    } else if (hv) {
        v = xmalloc((hv->n_ports + 1) * sizeof *v);
        LIST_FOR_EACH (p, hv_node, &hv->ports) {
            v[n++] = p;
        }
    } else {
        v = xmalloc((hmap_count(&m->ports_by_id) + 1) * sizeof *v);
        HMAP_FOR_EACH (p, id_node, &m->ports_by_id) {
            v[n++] = p;
        }
    }
    qsort(v, n, sizeof *v, compare_ports);
    json_t *arr = json_pack("[]");
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, rest_port_json(v[i]));
    }
    free(v);
    rest_reply_json(c, 200, arr);
}

/* The port of 'net' with 'mac', if any. */
static const struct nvo_port *
port_by_mac(const struct nvo_network *net, const struct eth_addr *mac)
{
    const struct nvo_port *p;
    LIST_FOR_EACH (p, net_node, &net->ports) {
        if (eth_addr_equals(p->mac, *mac)) {
            return p;
        }
    }
    return NULL;
}

/* The port on 'hv' using 'iface', if any. */
static const struct nvo_port *
port_by_iface(const struct nvo_hypervisor *hv, const char *iface)
{
    const struct nvo_port *p;
    LIST_FOR_EACH (p, hv_node, &hv->ports) {
        if (!strcmp(p->iface, iface)) {
            return p;
        }
    }
    return NULL;
}

static void
create_port(struct rest_call *c)
{
    struct nvo_model *m = c->ctl->model;
    struct nvo_port_req rq;
    struct nvo_port_valid v;

    if (!rest_json_string(c, "vm", &rq.vm)
        || !rest_json_string(c, "network", &rq.network)
        || !rest_json_string(c, "hypervisor", &rq.hypervisor)
        || !rest_json_string(c, "mac", &rq.mac)
        || !rest_json_string(c, "ip", &rq.ip)
        || !rest_json_string(c, "iface", &rq.iface)) {
        return;
    }
    const char *why = nvo_validate_port(&rq, &v);
    if (why) {
        rest_reply_error(c, 400, "invalid", "%s", why);
        return;
    }
    struct nvo_network *net = nvo_model_network_by_name(m, rq.network);
    if (!net) {
        rest_reply_error(c, 404, "not_found", "no network named %s",
                         rq.network);
        return;
    }
    struct nvo_hypervisor *hv = nvo_model_hv_by_name(m, rq.hypervisor);
    if (!hv) {
        rest_reply_error(c, 404, "not_found", "no hypervisor named %s",
                         rq.hypervisor);
        return;
    }
    const struct nvo_port *other = port_by_mac(net, &v.mac);
    if (other) {
        rest_reply_error(c, 409, "mac_in_use", "MAC %s is already in network "
                         "%s (port %"PRId64")", v.mac_s, net->name,
                         other->id);
        return;
    }
    other = port_by_iface(hv, rq.iface);
    if (other) {
        rest_reply_error(c, 409, "iface_in_use", "interface %s on %s is "
                         "already port %"PRId64, rq.iface, hv->name,
                         other->id);
        return;
    }

    int64_t id, rev;
    int error = nvo_store_add_port(c->ctl->store, rq.vm, net->id, hv->id,
                                   v.mac_s, rq.ip, rq.iface, &id, &rev);
    if (error) {
        rest_reply_store_error(c, error);
        return;
    }
    struct rest_ids ids = { NULL, 0, 0 };
    nvo_ctl_network_hvs(c->ctl, net, &ids.ids, &ids.n, &ids.cap);
    struct nvo_port *p = nvo_model_add_port(m, id, rq.vm, net, hv, v.mac,
                                            rq.ip, rq.iface, rev);
    m->revision = rev;
    nvo_ctl_network_hvs(c->ctl, net, &ids.ids, &ids.n, &ids.cap);
    nvo_ctl_publish(c->ctl, ids.ids, ids.n, &net->id, 1, rev);

    char *location = xasprintf("/v1/ports/%"PRId64, p->id);
    rest_finish_write(c, 201, rest_port_json(p), location, ids.ids, ids.n,
                      rev);
    free(location);
    free(ids.ids);
}

static void
patch_port(struct rest_call *c, struct nvo_port *p)
{
    struct nvo_model *m = c->ctl->model;
    const char *hv_name, *iface;

    if (!rest_json_string(c, "hypervisor", &hv_name)
        || !rest_json_string(c, "iface", &iface)) {
        return;
    }
    const char *why = nvo_validate_port_move(hv_name, iface);
    if (why) {
        rest_reply_error(c, 400, "invalid", "%s", why);
        return;
    }
    struct nvo_hypervisor *hv = p->hypervisor;
    if (hv_name) {
        hv = nvo_model_hv_by_name(m, hv_name);
        if (!hv) {
            rest_reply_error(c, 404, "not_found", "no hypervisor named %s",
                             hv_name);
            return;
        }
    }
    if (!iface) {
        iface = p->iface;
    }
    const struct nvo_port *other = port_by_iface(hv, iface);
    if (other && other != p) {
        rest_reply_error(c, 409, "iface_in_use", "interface %s on %s is "
                         "already port %"PRId64, iface, hv->name, other->id);
        return;
    }

    int64_t rev;
    char *iface_copy = xstrdup(iface);  /* May point into 'p'. */
    int error = nvo_store_move_port(c->ctl->store, p->id, hv->id, iface_copy,
                                    &rev);
    if (error) {
        free(iface_copy);
        rest_reply_store_error(c, error);
        return;
    }
    struct rest_ids ids = { NULL, 0, 0 };
    nvo_ctl_network_hvs(c->ctl, p->network, &ids.ids, &ids.n, &ids.cap);
    nvo_model_move_port(m, p, hv, iface_copy, rev);
    free(iface_copy);
    m->revision = rev;
    nvo_ctl_network_hvs(c->ctl, p->network, &ids.ids, &ids.n, &ids.cap);
    nvo_ctl_publish(c->ctl, ids.ids, ids.n, &p->network->id, 1, rev);
    rest_finish_write(c, 200, rest_port_json(p), NULL, ids.ids, ids.n, rev);
    free(ids.ids);
}

static void
delete_port(struct rest_call *c, struct nvo_port *p)
{
    struct nvo_model *m = c->ctl->model;
    struct nvo_network *net = p->network;
    int64_t net_id = net->id;

    int64_t rev;
    int error = nvo_store_delete_port(c->ctl->store, p->id, &rev);
    if (error) {
        rest_reply_store_error(c, error);
        return;
    }
    struct rest_ids ids = { NULL, 0, 0 };
    nvo_ctl_network_hvs(c->ctl, net, &ids.ids, &ids.n, &ids.cap);
    nvo_model_remove_port(m, p);
    m->revision = rev;
    nvo_ctl_network_hvs(c->ctl, net, &ids.ids, &ids.n, &ids.cap);
    nvo_ctl_publish(c->ctl, ids.ids, ids.n, &net_id, 1, rev);
    rest_finish_write(c, 204, NULL, NULL, ids.ids, ids.n, rev);
    free(ids.ids);
}

/* Parses a port id ("1".."9223372036854775807"); returns 0 if invalid. */
static int64_t
parse_port_id(const char *s)
{
    char *end;
    if (*s < '1' || *s > '9') {
        return 0;
    }
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return errno || *end ? 0 : v;
}

void
rest_ports(struct rest_call *c)
{
    if (!c->item) {
        if (rest_method_is(c, "POST")) {
            create_port(c);
        } else {
            list_ports(c);
        }
        return;
    }
    int64_t id = parse_port_id(c->item);
    struct nvo_port *p = id ? nvo_model_port_by_id(c->ctl->model, id) : NULL;
    if (!p) {
        rest_reply_error(c, 404, "not_found", "no port %s", c->item);
    } else if (rest_method_is(c, "PATCH")) {
        patch_port(c, p);
    } else if (rest_method_is(c, "DELETE")) {
        delete_port(c, p);
    } else {
        json_t *j = rest_port_json(p);
        uint64_t drops;
        if (nvo_ctl_port_drops(c->ctl, p, &drops)) {
            /* Frames port security dropped on the VM's port (spoofed
             * source MAC, IPv4 or ARP sender). */
            json_object_set_new(j, "security",
                                json_pack("{s:I}", "dropped_packets",
                                          (json_int_t) drops));
        }
        rest_reply_json(c, 200, j);
    }
}
