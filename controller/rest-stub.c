/* rest-stub.c - PLACEHOLDER until the store and REST API land. */
#include <config.h>
#include "controller/rest.h"
#include "controller/store.h"

#include <errno.h>
#include <stdlib.h>

#include "util.h"

int
nvo_store_open(const char *path OVS_UNUSED, struct nvo_store **storep,
               char **errmsg OVS_UNUSED)
{
    *storep = NULL;
    return 0;
}

int
nvo_store_load(struct nvo_store *s OVS_UNUSED, struct nvo_model *m OVS_UNUSED)
{
    return 0;
}

void
nvo_store_close(struct nvo_store *s OVS_UNUSED)
{
}

struct nvo_rest *
nvo_rest_create(struct nvo_ctl *ctl OVS_UNUSED, const char *addr OVS_UNUSED,
                int *errp)
{
    *errp = -ENOSYS;
    return NULL;
}

void
nvo_rest_destroy(struct nvo_rest *r OVS_UNUSED)
{
}
