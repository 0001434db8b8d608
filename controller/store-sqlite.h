/* store-sqlite.h - the SQLite store backend (the embedded default).
 *
 * Tables (schema/NNN-*.sql, embedded at build time): networks, hypervisors,
 * ports and a one-row store-wide revision.  Migrations are numbered; the
 * database's PRAGMA user_version says how many were applied.  Opening
 * applies the pending ones, each in its own transaction, and refuses a
 * database whose version is newer than this binary knows.
 *
 * Durability: WAL journal with synchronous=FULL, so a write reported
 * successful (and whose REST call got its 2xx) is on disk and survives a
 * kill -9 or power loss right after.  Foreign keys are on: a network or
 * hypervisor with ports cannot be deleted.  Constraint failures map to the
 * errors of store.h: UNIQUE -EEXIST, foreign key -ENOTEMPTY (delete) or
 * -ENOENT (a port naming a missing network or hypervisor), CHECK/NOT NULL
 * -EINVAL, a changed/deleted row that does not exist -ENOENT, else -EIO.
 *
 * Group commit.  nvo_store_submit() queues the write.  While no commit is
 * running, the queue (up to NVO_STORE_SQLITE_MAX_BATCH writes) becomes a
 * batch -- at the loop's next iteration (a uv_idle_t), so that every
 * request read in one go joins it, or as soon as the running batch is
 * done -- committed on libuv's thread pool in ONE transaction:
 *
 *     BEGIN IMMEDIATE
 *       SAVEPOINT w; the write's statement; RELEASE w
 *         (on failure: ROLLBACK TO w; RELEASE w -- that write changed
 *          nothing, the others go on)
 *       ... once per write, in submission order ...
 *       bump the store revision (once, to the batch's last)
 *     COMMIT   (one WAL fsync for the whole batch)
 *
 * A batch of one write (one client at a time) runs without the savepoint;
 * if its write fails the transaction is rolled back, as it is whenever
 * every write of a batch failed.
 *
 * Successful writes get consecutive revisions in submission order.  When
 * the COMMIT returns, the loop calls every write's callback in order, then
 * starts the next batch from what queued meanwhile.  If the revision bump
 * or the COMMIT itself fails, every write of the batch fails with -EIO
 * (-ENOSPC if the disk is full) and nothing changed.
 * Only one thread uses the connection at a time: the pool thread while a
 * batch (or a checkpoint) runs, the loop otherwise (load, the synchronous
 * calls below).
 *
 * Checkpoints.  SQLite copies the WAL into the database file (and fsyncs
 * both) once the WAL holds NVO_STORE_SQLITE_CHECKPOINT_FRAMES pages; by
 * itself it does so inside the COMMIT that crossed that size, so the
 * writes of that batch waited for it (about one VM start in 165; 1 to 6
 * ms on the lab's disk, more when others write to it).  With a
 * loop the store does it itself, on the pool thread right after that
 * batch's writes were answered (a PASSIVE checkpoint): writes that queue
 * meanwhile wait for it as they would for a batch.  While writes are
 * queued it goes after them, unless the WAL has grown to
 * NVO_STORE_SQLITE_CHECKPOINT_MAX_FRAMES.  Without a loop (tools, tests)
 * SQLite's automatic checkpoint stays.
 *
 * Synchronous calls (tests, benchmarks, tools): the nvo_store_sqlite_*()
 * writes below run one write as a batch of one on the calling thread and
 * return its error; they must not be mixed with a running batch. */
#ifndef NVO_STORE_SQLITE_H
#define NVO_STORE_SQLITE_H 1

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "controller/model.h"

struct nvo_store;

/* Largest number of writes committed in one transaction. */
#define NVO_STORE_SQLITE_MAX_BATCH 256

/* WAL pages that make a checkpoint due (SQLite's own automatic threshold),
 * and the size at which it goes before writes already queued. */
#define NVO_STORE_SQLITE_CHECKPOINT_FRAMES 1000
#define NVO_STORE_SQLITE_CHECKPOINT_MAX_FRAMES 8000

/* One migration: schema version 'version' is reached by running 'sql'. */
struct nvo_migration {
    int version;                /* 1, 2, ... */
    const char *name;           /* "001-initial.sql". */
    const char *sql;
};

/* The migrations built into this binary (schema/migrations.c, generated). */
extern const struct nvo_migration nvo_schema_migrations[];
extern const size_t nvo_schema_n_migrations;

/* Opens (creating if needed) the SQLite database at 'path' for use on
 * 'loop' (NULL: synchronous calls only), applies pending migrations,
 * refuses a database newer than this binary.  On success returns 0 and
 * sets '*storep' (caller owns; nvo_store_close()).  On failure returns a
 * negative errno and sets '*errmsg' (caller frees) to a clear message. */
int nvo_store_sqlite_open(const char *path, uv_loop_t *loop,
                          struct nvo_store **storep, char **errmsg);

/* Same with an explicit migration list (unit tests). */
int nvo_store_sqlite_open_with(const char *path, uv_loop_t *loop,
                               const struct nvo_migration *migrations,
                               size_t n, struct nvo_store **storep,
                               char **errmsg);

/* The schema version of the open database. */
int nvo_store_sqlite_schema_version(const struct nvo_store *);

/* The message of the last failed synchronous write, e.g. "UNIQUE
 * constraint failed: networks.vni" (borrowed, valid until the next call on
 * 's'). */
const char *nvo_store_sqlite_errmsg(const struct nvo_store *s);

/* Synchronous writes (see above).  Strings are copied; 'mac' is the
 * canonical lower-case "xx:xx:xx:xx:xx:xx" form; 'ip' and 'ovsdb' may be
 * NULL.  Creates set '*id' to the new row's id; every write sets
 * '*revision' to the new store revision. */
int nvo_store_sqlite_add_network(struct nvo_store *, const char *name,
                                 uint32_t vni, enum nvo_bum_mode,
                                 int64_t *id, int64_t *revision);
int nvo_store_sqlite_set_network_bum(struct nvo_store *, int64_t id,
                                     enum nvo_bum_mode, int64_t *revision);
int nvo_store_sqlite_delete_network(struct nvo_store *, int64_t id,
                                    int64_t *revision);
int nvo_store_sqlite_add_hv(struct nvo_store *, const char *name,
                            const char *tunnel_ip, enum nvo_dataplane,
                            enum nvo_role, const char *ovsdb, int64_t *id,
                            int64_t *revision);
int nvo_store_sqlite_delete_hv(struct nvo_store *, int64_t id,
                               int64_t *revision);
int nvo_store_sqlite_add_port(struct nvo_store *, const char *vm,
                              int64_t net_id, int64_t hv_id, const char *mac,
                              const char *ip, const char *iface, int64_t *id,
                              int64_t *revision);
int nvo_store_sqlite_move_port(struct nvo_store *, int64_t id, int64_t hv_id,
                               const char *iface, int64_t *revision);
int nvo_store_sqlite_delete_port(struct nvo_store *, int64_t id,
                                 int64_t *revision);

#endif /* controller/store-sqlite.h */
