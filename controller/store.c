/* store.c - the store interface: dispatch to the backend named by --db. */
#include <config.h>
#include "controller/store.h"

#include <stdlib.h>
#include <string.h>

#include "controller/store-ovsdb.h"
#include "controller/store-sqlite.h"
#include "util.h"

const char *
nvo_store_op_type_to_string(enum nvo_store_op_type type)
{
    switch (type) {
    case NVO_STORE_ADD_NETWORK: return "add-network";
    case NVO_STORE_SET_NETWORK: return "set-network";
    case NVO_STORE_DEL_NETWORK: return "delete-network";
    case NVO_STORE_ADD_HV: return "add-hypervisor";
    case NVO_STORE_DEL_HV: return "delete-hypervisor";
    case NVO_STORE_ADD_PORT: return "add-port";
    case NVO_STORE_MOVE_PORT: return "move-port";
    case NVO_STORE_DEL_PORT: return "delete-port";
    }
    return "unknown";
}

void
nvo_store_op_destroy(struct nvo_store_op *op)
{
    if (!op) {
        return;
    }
    switch (op->type) {
    case NVO_STORE_ADD_NETWORK:
    case NVO_STORE_SET_NETWORK:
    case NVO_STORE_DEL_NETWORK:
        free(op->net.name);
        op->net.name = NULL;
        break;
    case NVO_STORE_ADD_HV:
    case NVO_STORE_DEL_HV:
        free(op->hv.name);
        free(op->hv.tunnel_ip);
        free(op->hv.ovsdb);
        op->hv.name = op->hv.tunnel_ip = op->hv.ovsdb = NULL;
        break;
    case NVO_STORE_ADD_PORT:
    case NVO_STORE_MOVE_PORT:
    case NVO_STORE_DEL_PORT:
        free(op->port.vm);
        free(op->port.mac);
        free(op->port.ip);
        free(op->port.allowed);
        op->port.allowed = NULL;
        free(op->port.iface);
        op->port.vm = op->port.mac = op->port.ip = op->port.iface = NULL;
        break;
    }
}

void
nvo_store_write_init(struct nvo_store_write *w, enum nvo_store_op_type type,
                     nvo_store_write_cb *cb, void *aux)
{
    memset(w, 0, sizeof *w);
    w->op.type = type;
    w->cb = cb;
    w->aux = aux;
}

void
nvo_store_write_uninit(struct nvo_store_write *w)
{
    if (w) {
        nvo_store_op_destroy(&w->op);
        free(w->errmsg);
        w->errmsg = NULL;
    }
}

int
nvo_store_open(const char *db, uv_loop_t *loop, struct nvo_store **storep,
               char **errmsg)
{
    if (!strncmp(db, NVO_STORE_OVSDB_PREFIX,
                 strlen(NVO_STORE_OVSDB_PREFIX))) {
        return nvo_store_ovsdb_open(db, loop, storep, errmsg);
    }
    if (!strncmp(db, "sqlite:", 7)) {
        db += 7;
    }
    return nvo_store_sqlite_open(db, loop, storep, errmsg);
}

int
nvo_store_load(struct nvo_store *s, struct nvo_model *m)
{
    return s->class->load(s, m);
}

void
nvo_store_submit(struct nvo_store *s, struct nvo_store_write *w)
{
    w->error = 0;
    w->revision = 0;
    free(w->errmsg);
    w->errmsg = NULL;
    s->class->submit(s, w);
}

void
nvo_store_set_change_cb(struct nvo_store *s, nvo_store_change_cb *cb,
                        void *aux)
{
    s->change_cb = cb;
    s->change_aux = aux;
}

int64_t
nvo_store_revision(const struct nvo_store *s)
{
    return s->class->revision(s);
}

void
nvo_store_get_stats(const struct nvo_store *s, struct nvo_store_stats *st)
{
    memset(st, 0, sizeof *st);
    if (s->class->get_stats) {
        s->class->get_stats(s, st);
    }
}

void
nvo_store_close(struct nvo_store *s)
{
    if (s) {
        s->class->close(s);
    }
}

void
nvo_store_complete(struct nvo_store_write *w, int error, int64_t revision,
                   const char *errmsg)
{
    w->error = error;
    w->revision = error ? 0 : revision;
    free(w->errmsg);
    w->errmsg = error ? xstrdup(errmsg && *errmsg ? errmsg : "") : NULL;
    w->cb(w);
}
