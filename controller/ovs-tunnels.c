#include <config.h>
#include "controller/ovs-tunnels.h"

#include <ctype.h>
#include <string.h>

#include "controller/desired.h"
#include "openvswitch/shash.h"
#include "util.h"

static const char *const port_names[] = {
    [NVO_ENCAP_VXLAN] = "nvt-vxlan",
    [NVO_ENCAP_GENEVE] = "nvt-geneve",
    [NVO_ENCAP_GRE] = "nvt-gre",
};

const char *
ovs_tunnel_port_name(enum nvo_encap encap)
{
    return (size_t) encap < ARRAY_SIZE(port_names) && port_names[encap]
           ? port_names[encap] : "nvt-?";
}

static bool
all_xdigits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char) s[i])) {
            return false;
        }
    }
    return true;
}

bool
ovs_tunnel_port_is_nvo(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(port_names); i++) {
        if (!strcmp(name, port_names[i])) {
            return true;
        }
    }
    /* A per-VTEP port of an earlier release: "nvt"/"nvg"/"nvr" + 8 hex
     * digits (IPv4), or + "6" + 11 hex digits (IPv6). */
    size_t len = strlen(name);
    if (len < 3 || strncmp(name, "nv", 2) || !strchr("tgr", name[2])) {
        return false;
    }
    return ((len == 11 && all_xdigits(name + 3, 8))
            || (len == 15 && name[3] == '6' && all_xdigits(name + 4, 11)));
}

static void
want_add(struct shash *out, const char *name, const char *type,
         int64_t port_id)
{
    if (shash_find(out, name)) {
        return;                 /* First one wins; names are unique. */
    }
    struct ovs_port_want *w = xzalloc(sizeof *w);
    w->name = xstrdup(name);
    w->tunnel = type != NULL;
    w->type = type;
    w->port_id = port_id;
    shash_add(out, name, w);
}

void
ovs_ports_want_compute(const struct nvo_hv_view *view, struct shash *out)
{
    for (size_t i = 0; i < view->n_nets; i++) {
        enum nvo_encap encap = view->nets[i]->encap;
        if ((size_t) encap < ARRAY_SIZE(port_names)) {
            want_add(out, port_names[encap], nvo_encap_to_string(encap), 0);
        }
    }
    for (size_t i = 0; i < view->n_nets; i++) {
        const struct nvo_net_view *net = view->nets[i];
        for (size_t j = 0; j < net->n_locals; j++) {
            want_add(out, net->locals[j].iface, NULL,
                     net->locals[j].port_id);
        }
    }
}

void
ovs_ports_want_clear(struct shash *wants)
{
    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, wants) {
        struct ovs_port_want *w = node->data;
        free(w->name);
        free(w);
        shash_delete(wants, node);
    }
}
