/* store.h - the durable placement store (SQLite).
 *
 * Tables (schema/NNN-*.sql, embedded at build time): networks, hypervisors,
 * ports and a one-row store-wide revision.  Migrations are numbered; the
 * database's PRAGMA user_version says how many were applied.  Opening
 * applies the pending ones, each in its own transaction, and refuses a
 * database whose version is newer than this binary knows.
 *
 * Durability: WAL journal with synchronous=FULL, so a write whose function
 * returned 0 (and whose REST call got its 2xx) is on disk and survives a
 * kill -9 or power loss right after.  Foreign keys are on: a network or
 * hypervisor with ports cannot be deleted.
 *
 * Every write function runs one transaction (BEGIN IMMEDIATE ... COMMIT)
 * that also bumps the store revision, and returns that new revision in
 * '*revision'.  Errors (negative errno; nothing changed):
 *   -EEXIST     a UNIQUE constraint (name, VNI, tunnel IP, MAC in network,
 *               interface on hypervisor); nvo_store_errmsg() names it.
 *   -ENOTEMPTY  a foreign key: the network or hypervisor still has ports.
 *   -ENOENT     the row to change or delete does not exist.
 *   -EINVAL     a CHECK constraint (the caller should have validated).
 *   -EIO        anything else SQLite reported (logged).
 *
 * Single-threaded: the libuv main thread. */
#ifndef NVO_STORE_H
#define NVO_STORE_H 1

#include <stddef.h>
#include <stdint.h>

#include "controller/model.h"

struct nvo_model;
struct nvo_store;

/* One migration: schema version 'version' is reached by running 'sql'. */
struct nvo_migration {
    int version;                /* 1, 2, ... */
    const char *name;           /* "001-initial.sql". */
    const char *sql;
};

/* The migrations built into this binary (schema/migrations.c, generated). */
extern const struct nvo_migration nvo_schema_migrations[];
extern const size_t nvo_schema_n_migrations;

/* Opens (creating if needed) the SQLite database at 'path', applies pending
 * migrations, refuses a database newer than this binary.  On success returns
 * 0 and sets '*storep' (caller owns; nvo_store_close()).  On failure returns
 * a negative errno and sets '*errmsg' (caller frees) to a clear message. */
int nvo_store_open(const char *path, struct nvo_store **storep, char **errmsg);

/* Same with an explicit migration list (unit tests). */
int nvo_store_open_with(const char *path,
                        const struct nvo_migration *migrations, size_t n,
                        struct nvo_store **storep, char **errmsg);

/* Loads every row into the empty model 'm' and sets m->revision. */
int nvo_store_load(struct nvo_store *, struct nvo_model *m);

/* Closes the database.  Accepts NULL. */
void nvo_store_close(struct nvo_store *);

/* The schema version of the open database and the store revision. */
int nvo_store_schema_version(const struct nvo_store *);
int64_t nvo_store_revision(const struct nvo_store *);

/* The message of the last failed write, e.g. "UNIQUE constraint failed:
 * networks.vni" (borrowed, valid until the next call on 's'). */
const char *nvo_store_errmsg(const struct nvo_store *s);

/* Writes.  Strings are copied by SQLite; 'mac' is the canonical lower-case
 * "xx:xx:xx:xx:xx:xx" form; 'ip' and 'ovsdb' may be NULL.  Creates set
 * '*id' to the new row's id. */
int nvo_store_add_network(struct nvo_store *, const char *name, uint32_t vni,
                          enum nvo_bum_mode, int64_t *id, int64_t *revision);
int nvo_store_set_network_bum(struct nvo_store *, int64_t id,
                              enum nvo_bum_mode, int64_t *revision);
int nvo_store_delete_network(struct nvo_store *, int64_t id,
                             int64_t *revision);

int nvo_store_add_hv(struct nvo_store *, const char *name,
                     const char *tunnel_ip, enum nvo_dataplane, enum nvo_role,
                     const char *ovsdb, int64_t *id, int64_t *revision);
int nvo_store_delete_hv(struct nvo_store *, int64_t id, int64_t *revision);

int nvo_store_add_port(struct nvo_store *, const char *vm, int64_t net_id,
                       int64_t hv_id, const char *mac, const char *ip,
                       const char *iface, int64_t *id, int64_t *revision);
int nvo_store_move_port(struct nvo_store *, int64_t id, int64_t hv_id,
                        const char *iface, int64_t *revision);
int nvo_store_delete_port(struct nvo_store *, int64_t id, int64_t *revision);

#endif /* controller/store.h */
