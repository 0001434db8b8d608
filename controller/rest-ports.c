/* rest-ports.c - /v1/ports: VM placement (the orchestration hooks).
 *
 *   GET    /v1/ports[?network=N][&hypervisor=H]  200 [port...] (by id)
 *   POST   /v1/ports        201 port {"vm","network","hypervisor","mac",
 *                           "ip"?,"iface"}                    (VM start)
 *   GET    /v1/ports/{id}   200 port
 *   PATCH  /v1/ports/{id}   200 port {"hypervisor"?,"iface"?} (migration)
 *   DELETE /v1/ports/{id}   204                               (VM stop)
 * Writes go through the service layer (service.h), which also says which
 * hypervisors a write affects. */
#include <config.h>
#include "controller/rest-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctl.h"
#include "controller/model.h"
#include "controller/service.h"
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

static void
create_port(struct rest_call *c)
{
    struct nvo_port_req rq;

    if (rest_reply_invalid(c, rest_body_port(c->body, &rq))) {
        return;
    }
    struct rest_pending *p = rest_write_begin(c, 201);
    rest_write_started(p, nvo_svc_port_create(c->ctl->svc, &rq, c->wait,
                                              rest_write_cb, p));
    free((void *) rq.allowed);  /* The service layer copied what it keeps. */
}

static void
patch_port(struct rest_call *c, const struct nvo_port *port)
{
    const char *hv_name, *iface;

    if (rest_reply_invalid(c, rest_body_port_move(c->body, &hv_name,
                                                  &iface))) {
        return;
    }
    struct rest_pending *p = rest_write_begin(c, 200);
    rest_write_started(p, nvo_svc_port_move(c->ctl->svc, port->id, hv_name,
                                            iface, c->wait, rest_write_cb,
                                            p));
}

static void
delete_port(struct rest_call *c, const struct nvo_port *port)
{
    struct rest_pending *p = rest_write_begin(c, 204);
    rest_write_started(p, nvo_svc_port_delete(c->ctl->svc, port->id,
                                              c->wait, rest_write_cb, p));
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
