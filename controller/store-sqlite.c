/* store-sqlite.c - the SQLite store backend with group commit (see
 * store-sqlite.h for how, store.h for the contract). */
#include <config.h>
#include "controller/store-sqlite.h"

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "controller/model.h"
#include "controller/store.h"
#include "packets.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(store);

/* Prepared once per open database. */
enum store_stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_ROLLBACK_TO,
    ST_RELEASE,
    ST_BUMP,
    ST_ADD_NETWORK,
    ST_SET_BUM,
    ST_DEL_NETWORK,
    ST_ADD_HV,
    ST_DEL_HV,
    ST_ADD_PORT,
    ST_MOVE_PORT,
    ST_DEL_PORT,
    ST_N
};

/* In each, ?1.. are the caller's values and :rev the new revision. */
static const char *const stmt_sql[ST_N] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT w",
    [ST_ROLLBACK_TO] = "ROLLBACK TO w",
    [ST_RELEASE] = "RELEASE w",
    [ST_BUMP] = "UPDATE store_revision SET revision = :rev WHERE id = 1",
    [ST_ADD_NETWORK] = "INSERT INTO networks (name, vni, bum, encap, "
                       "arp_responder, mtu, revision) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, :rev)",
    [ST_SET_BUM] = "UPDATE networks SET bum = ?2, arp_responder = ?3, "
                   "mtu = ?4, revision = :rev WHERE id = ?1",
    [ST_DEL_NETWORK] = "DELETE FROM networks WHERE id = ?1 AND :rev > 0",
    [ST_ADD_HV] = "INSERT INTO hypervisors (name, tunnel_ip, dataplane, role, "
                  "ovsdb, revision) VALUES (?1, ?2, ?3, ?4, ?5, :rev)",
    [ST_DEL_HV] = "DELETE FROM hypervisors WHERE id = ?1 AND :rev > 0",
    [ST_ADD_PORT] = "INSERT INTO ports (vm, network_id, hypervisor_id, mac, "
                    "ip, iface, allowed_addresses, revision) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, :rev)",
    [ST_MOVE_PORT] = "UPDATE ports SET hypervisor_id = ?2, iface = ?3, "
                     "revision = :rev WHERE id = ?1",
    [ST_DEL_PORT] = "DELETE FROM ports WHERE id = ?1 AND :rev > 0",
};

struct sqlite_store {
    struct nvo_store up;
    sqlite3 *db;
    char *path;
    int version;                /* PRAGMA user_version. */
    int64_t revision;           /* Last committed store revision. */
    sqlite3_stmt *stmts[ST_N];
    char errmsg[256];           /* Of the last synchronous write. */

    /* Group commit (loop thread, except 'batch' and 'batch_rev' while
     * 'busy': then the pool thread owns them). */
    struct ovs_list queue;      /* struct nvo_store_write, not yet sent. */
    struct ovs_list batch;      /* struct nvo_store_write, committing. */
    int64_t batch_rev;          /* Revision after the batch. */
    uv_work_t work;
    uv_idle_t *idle;            /* Starts a batch; freed by its close. */
    bool busy;                  /* 'work' queued or running. */
    int wal_frames;             /* Pages in the WAL after the last commit
                                 * (written by the thread that owns the
                                 * connection). */
    char ckpt_error[128];       /* Of the last checkpoint, or "". */
    bool closing;               /* Closed while busy: free when done. */
    uv_mutex_t mutex;           /* Protects 'worker_done'. */
    uv_cond_t cond;             /* Signalled when 'worker_done'. */
    bool worker_done;
    uint64_t n_batches, n_writes;
    /* Timing (uv_hrtime() ns), see struct nvo_store_stats: when the queue
     * last became non-empty, when the batch was handed to the pool, and
     * (written by the pool thread while 'busy') when it started and ended
     * there; and the sums. */
    uint64_t queued_at, handed_at, started_at, ended_at;
    uint64_t queued_ns, to_thread_ns, commit_ns, to_loop_ns;

    /* Whichever thread owns the connection (as 'batch'). */
    bool disk_full;             /* The last write failed with SQLITE_FULL. */
    uint64_t n_full;            /* Writes refused since it did. */
};

static const struct nvo_store_class sqlite_class;

static struct sqlite_store *
sqlite_store_cast(const struct nvo_store *store)
{
    ovs_assert(store->class == &sqlite_class);
    return CONTAINER_OF(store, struct sqlite_store, up);
}

static int
exec_sql(sqlite3 *db, const char *sql, char **errmsg)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK && errmsg) {
        *errmsg = xstrdup(msg ? msg : sqlite3_errstr(rc));
    }
    sqlite3_free(msg);
    return rc;
}

/* Returns the single integer 'sql' yields, or -1 on error. */
static int64_t
query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        return -1;
    }
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        v = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return v;
}

static int
store_set_pragmas(struct sqlite_store *s, char **errmsg)
{
    char *msg = NULL;
    sqlite3_busy_timeout(s->db, 5000);
    /* WAL: readers never block the writer; synchronous=FULL: every commit
     * fsyncs the WAL, so a 2xx is durable even across power loss. */
    if (exec_sql(s->db, "PRAGMA foreign_keys = ON; "
                 "PRAGMA synchronous = FULL;", &msg) != SQLITE_OK) {
        *errmsg = xasprintf("%s: cannot open database: %s", s->path, msg);
        free(msg);
        return -EIO;
    }
    sqlite3_stmt *stmt;
    bool wal = false;
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &stmt,
                           NULL) == SQLITE_OK) {
        if (sqlite3_step(stmt) == SQLITE_ROW) {
            const char *mode = (const char *) sqlite3_column_text(stmt, 0);
            wal = mode && !strcmp(mode, "wal");
        }
        sqlite3_finalize(stmt);
    }
    if (!wal) {
        *errmsg = xasprintf("%s: cannot open database: cannot switch to WAL "
                            "journal mode: %s", s->path,
                            sqlite3_errmsg(s->db));
        return -EIO;
    }
    return 0;
}

static int
store_migrate(struct sqlite_store *s, const struct nvo_migration *migrations,
              size_t n, char **errmsg)
{
    int64_t version = query_int(s->db, "PRAGMA user_version");
    if (version < 0) {
        *errmsg = xasprintf("%s: cannot read schema version: %s", s->path,
                            sqlite3_errmsg(s->db));
        return -EIO;
    }
    if (version > (int64_t) n) {
        *errmsg = xasprintf("%s: database schema version %"PRId64" is newer "
                            "than this nvo-controller supports (%zu); run a "
                            "newer nvo-controller or restore a backup",
                            s->path, version, n);
        return -EPROTO;
    }
    for (size_t i = version; i < n; i++) {
        const struct nvo_migration *m = &migrations[i];
        char *msg = NULL;
        ovs_assert(m->version == (int) i + 1);
        char *set = xasprintf("PRAGMA user_version = %d", m->version);
        if (exec_sql(s->db, "BEGIN IMMEDIATE", &msg) != SQLITE_OK
            || exec_sql(s->db, m->sql, &msg) != SQLITE_OK
            || exec_sql(s->db, set, &msg) != SQLITE_OK
            || exec_sql(s->db, "COMMIT", &msg) != SQLITE_OK) {
            exec_sql(s->db, "ROLLBACK", NULL);
            *errmsg = xasprintf("%s: migration %s failed: %s", s->path,
                                m->name, msg);
            free(msg);
            free(set);
            return -EIO;
        }
        free(set);
        VLOG_INFO("%s: applied migration %s", s->path, m->name);
    }
    s->version = n;
    return 0;
}

static void
sqlite_store_free(struct sqlite_store *s)
{
    if (s->idle) {
        uv_close((uv_handle_t *) s->idle, (uv_close_cb) free);
        s->idle = NULL;
    }
    for (int i = 0; i < ST_N; i++) {
        sqlite3_finalize(s->stmts[i]);
    }
    sqlite3_close(s->db);
    uv_cond_destroy(&s->cond);
    uv_mutex_destroy(&s->mutex);
    free(s->path);
    free(s);
}

static int wal_hook(void *s_, sqlite3 *, const char *, int frames);

int
nvo_store_sqlite_open_with(const char *path, uv_loop_t *loop,
                           const struct nvo_migration *migrations, size_t n,
                           struct nvo_store **storep, char **errmsg)
{
    struct sqlite_store *s = xzalloc(sizeof *s);
    int error;

    *storep = NULL;
    *errmsg = NULL;
    s->up.class = &sqlite_class;
    s->up.loop = loop;
    s->path = xstrdup(path);
    ovs_list_init(&s->queue);
    ovs_list_init(&s->batch);
    uv_mutex_init(&s->mutex);
    uv_cond_init(&s->cond);
    if (loop) {
        s->idle = xmalloc(sizeof *s->idle);
        uv_idle_init(loop, s->idle);
        s->idle->data = s;
    }
    int rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                             | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        *errmsg = xasprintf("%s: cannot open database: %s", path,
                            s->db ? sqlite3_errmsg(s->db)
                                  : sqlite3_errstr(rc));
        error = -EIO;
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    if (loop) {
        /* The store checkpoints itself (store-sqlite.h). */
        sqlite3_wal_hook(s->db, wal_hook, s);
    }
    error = store_set_pragmas(s, errmsg);
    if (!error) {
        error = store_migrate(s, migrations, n, errmsg);
    }
    if (error) {
        goto fail;
    }
    s->revision = query_int(s->db, "SELECT revision FROM store_revision");
    if (s->revision < 0) {
        *errmsg = xasprintf("%s: not an nvo database (no store revision): "
                            "%s", path, sqlite3_errmsg(s->db));
        error = -EPROTO;
        goto fail;
    }
    for (int i = 0; i < ST_N; i++) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &s->stmts[i],
                               NULL) != SQLITE_OK) {
            *errmsg = xasprintf("%s: unexpected schema: %s", path,
                                sqlite3_errmsg(s->db));
            error = -EPROTO;
            goto fail;
        }
    }
    *storep = &s->up;
    return 0;

fail:
    sqlite_store_free(s);
    return error;
}

int
nvo_store_sqlite_open(const char *path, uv_loop_t *loop,
                      struct nvo_store **storep, char **errmsg)
{
    return nvo_store_sqlite_open_with(path, loop, nvo_schema_migrations,
                                      nvo_schema_n_migrations, storep,
                                      errmsg);
}

int
nvo_store_sqlite_schema_version(const struct nvo_store *store)
{
    return sqlite_store_cast(store)->version;
}

static void
sqlite_get_stats(const struct nvo_store *store, struct nvo_store_stats *st)
{
    const struct sqlite_store *s = sqlite_store_cast(store);
    st->n_writes = s->n_writes;
    st->n_commits = s->n_batches;
    st->timed = true;
    st->queued_ns = s->queued_ns;
    st->to_thread_ns = s->to_thread_ns;
    st->commit_ns = s->commit_ns;
    st->to_loop_ns = s->to_loop_ns;
}

const char *
nvo_store_sqlite_errmsg(const struct nvo_store *store)
{
    return sqlite_store_cast(store)->errmsg;
}

static int64_t
sqlite_revision(const struct nvo_store *store)
{
    return sqlite_store_cast(store)->revision;
}

static const char *
col_text(sqlite3_stmt *stmt, int col)
{
    return (const char *) sqlite3_column_text(stmt, col);
}

static int
load_networks(struct sqlite_store *s, struct nvo_model *m)
{
    sqlite3_stmt *stmt;
    int rc = sqlite3_prepare_v2(s->db, "SELECT id, name, vni, bum, revision, "
                                "encap, arp_responder, mtu "
                                "FROM networks ORDER BY id", -1, &stmt, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        enum nvo_bum_mode bum;
        enum nvo_encap encap;
        if (nvo_bum_mode_from_string(col_text(stmt, 3), &bum)
            || nvo_encap_from_string(col_text(stmt, 5), &encap)) {
            rc = SQLITE_CORRUPT;
            break;
        }
        int64_t rev = sqlite3_column_int64(stmt, 4);
        struct nvo_network *net = nvo_model_add_network(
            m, sqlite3_column_int64(stmt, 0), col_text(stmt, 1),
            sqlite3_column_int64(stmt, 2), bum, rev);
        nvo_model_set_encap(m, net, encap, rev);
        nvo_model_set_arp_responder(m, net, sqlite3_column_int(stmt, 6),
                                    rev);
        nvo_model_set_mtu(m, net, sqlite3_column_int(stmt, 7), rev);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

static int
load_hvs(struct sqlite_store *s, struct nvo_model *m)
{
    sqlite3_stmt *stmt;
    int rc = sqlite3_prepare_v2(s->db, "SELECT id, name, tunnel_ip, "
                                "dataplane, role, ovsdb, revision "
                                "FROM hypervisors ORDER BY id", -1, &stmt,
                                NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        enum nvo_dataplane dp;
        enum nvo_role role;
        if (nvo_dataplane_from_string(col_text(stmt, 3), &dp)
            || nvo_role_from_string(col_text(stmt, 4), &role)) {
            rc = SQLITE_CORRUPT;
            break;
        }
        nvo_model_add_hv(m, sqlite3_column_int64(stmt, 0), col_text(stmt, 1),
                         col_text(stmt, 2), dp, role, col_text(stmt, 5),
                         sqlite3_column_int64(stmt, 6));
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

static int
load_ports(struct sqlite_store *s, struct nvo_model *m)
{
    sqlite3_stmt *stmt;
    int rc = sqlite3_prepare_v2(s->db, "SELECT id, vm, network_id, "
                                "hypervisor_id, mac, ip, iface, revision, "
                                "allowed_addresses "
                                "FROM ports ORDER BY id", -1, &stmt, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct nvo_network *net = nvo_model_network_by_id(
            m, sqlite3_column_int64(stmt, 2));
        struct nvo_hypervisor *hv = nvo_model_hv_by_id(
            m, sqlite3_column_int64(stmt, 3));
        struct eth_addr mac;
        if (!net || !hv || !eth_addr_from_string(col_text(stmt, 4), &mac)) {
            rc = SQLITE_CORRUPT;
            break;
        }
        struct nvo_port *p = nvo_model_add_port(
            m, sqlite3_column_int64(stmt, 0), col_text(stmt, 1), net, hv, mac,
            col_text(stmt, 5), col_text(stmt, 6),
            sqlite3_column_int64(stmt, 7));
        nvo_model_set_port_allowed_str(m, p, col_text(stmt, 8));
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

static int
sqlite_load(struct nvo_store *store, struct nvo_model *m)
{
    struct sqlite_store *s = sqlite_store_cast(store);
    ovs_assert(!s->busy);
    int error = load_networks(s, m);
    if (!error) {
        error = load_hvs(s, m);
    }
    if (!error) {
        error = load_ports(s, m);
    }
    if (error) {
        VLOG_ERR("%s: cannot load: %s", s->path, sqlite3_errmsg(s->db));
        return error;
    }
    m->revision = s->revision;
    return 0;
}

/* Maps SQLite result 'rc' of a failed write to a negative errno and writes
 * the message into 'msg' ('size' bytes).  'fk_error' is what a foreign key
 * failure means here.  Runs on whichever thread owns the connection (the
 * pool thread for batches): it also keeps 's->disk_full'. */
static int
store_error(struct sqlite_store *s, int rc, int fk_error, char *msg,
            size_t size)
{
    snprintf(msg, size, "%s", sqlite3_errmsg(s->db));
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return -EEXIST;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
    case SQLITE_CONSTRAINT_TRIGGER:     /* ON DELETE RESTRICT reports this. */
        return fk_error;
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_CONSTRAINT_NOTNULL:
        return -EINVAL;
    case SQLITE_FULL: {
        /* The disk (or the file system holding the database) is full:
         * nothing of the write is committed, and the next one succeeds
         * once there is space again.  Said once, then once a minute. */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 1);
        s->n_full++;
        if (!s->disk_full) {
            s->disk_full = true;
            VLOG_WARN("%s: disk full (%s): refusing writes until there "
                      "is space again", s->path, msg);
        } else {
            VLOG_WARN_RL(&rl, "%s: disk still full: %"PRIu64" writes "
                         "refused so far", s->path, s->n_full);
        }
        return -ENOSPC;
    }
    default: {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
        VLOG_ERR_RL(&rl, "%s: write failed: %s", s->path, msg);
        return -EIO;
    }
    }
}

/* Binds 'v' (NULL: SQL NULL) to parameter 'i' of 'stmt'. */
static void
bind_text(sqlite3_stmt *stmt, int i, const char *v)
{
    if (v) {
        sqlite3_bind_text(stmt, i, v, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(stmt, i);
    }
}

/* Steps the bound statement 'st' once and resets it; returns the step's
 * result. */
static int
step_once(struct sqlite_store *s, enum store_stmt st)
{
    int rc = sqlite3_step(s->stmts[st]);
    sqlite3_reset(s->stmts[st]);
    return rc;
}

/* Runs 'op' (inside the current transaction) as revision 'rev' (the
 * store-wide revision is bumped once per batch, by run_batch()).  Returns
 * 0 (setting op->id for inserts) or a negative errno with the message in
 * 'msg'. */
static int
apply_op(struct sqlite_store *s, struct nvo_store_op *op, int64_t rev,
         char *msg, size_t size)
{
    enum store_stmt st;
    int fk_error = -ENOENT;
    int rc;

    switch (op->type) {
    case NVO_STORE_ADD_NETWORK: st = ST_ADD_NETWORK; break;
    case NVO_STORE_SET_NETWORK: st = ST_SET_BUM; break;
    case NVO_STORE_DEL_NETWORK: st = ST_DEL_NETWORK; break;
    case NVO_STORE_ADD_HV: st = ST_ADD_HV; break;
    case NVO_STORE_DEL_HV: st = ST_DEL_HV; break;
    case NVO_STORE_ADD_PORT: st = ST_ADD_PORT; break;
    case NVO_STORE_MOVE_PORT: st = ST_MOVE_PORT; break;
    case NVO_STORE_DEL_PORT: st = ST_DEL_PORT; break;
    default: OVS_NOT_REACHED();
    }
    sqlite3_stmt *stmt = s->stmts[st];
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    switch (op->type) {
    case NVO_STORE_ADD_NETWORK:
        bind_text(stmt, 1, op->net.name);
        sqlite3_bind_int64(stmt, 2, op->net.vni);
        bind_text(stmt, 3, nvo_bum_mode_to_string(op->net.bum));
        bind_text(stmt, 4, nvo_encap_to_string(op->net.encap));
        sqlite3_bind_int(stmt, 5, op->net.arp_responder);
        if (op->net.mtu) {
            sqlite3_bind_int(stmt, 6, op->net.mtu);
        }
        break;
    case NVO_STORE_SET_NETWORK:
        sqlite3_bind_int64(stmt, 1, op->id);
        bind_text(stmt, 2, nvo_bum_mode_to_string(op->net.bum));
        sqlite3_bind_int(stmt, 3, op->net.arp_responder);
        if (op->net.mtu) {
            sqlite3_bind_int(stmt, 4, op->net.mtu);
        }
        break;
    case NVO_STORE_DEL_NETWORK:
    case NVO_STORE_DEL_HV:
        sqlite3_bind_int64(stmt, 1, op->id);
        fk_error = -ENOTEMPTY;
        break;
    case NVO_STORE_ADD_HV:
        bind_text(stmt, 1, op->hv.name);
        bind_text(stmt, 2, op->hv.tunnel_ip);
        bind_text(stmt, 3, nvo_dataplane_to_string(op->hv.dataplane));
        bind_text(stmt, 4, nvo_role_to_string(op->hv.role));
        bind_text(stmt, 5, op->hv.ovsdb);
        break;
    case NVO_STORE_ADD_PORT:
        bind_text(stmt, 1, op->port.vm);
        sqlite3_bind_int64(stmt, 2, op->port.net_id);
        sqlite3_bind_int64(stmt, 3, op->port.hv_id);
        bind_text(stmt, 4, op->port.mac);
        bind_text(stmt, 5, op->port.ip);
        bind_text(stmt, 6, op->port.iface);
        bind_text(stmt, 7, op->port.allowed);
        break;
    case NVO_STORE_MOVE_PORT:
        sqlite3_bind_int64(stmt, 1, op->id);
        sqlite3_bind_int64(stmt, 2, op->port.hv_id);
        bind_text(stmt, 3, op->port.iface);
        break;
    case NVO_STORE_DEL_PORT:
        sqlite3_bind_int64(stmt, 1, op->id);
        break;
    }
    sqlite3_bind_int64(stmt, sqlite3_bind_parameter_index(stmt, ":rev"), rev);

    rc = sqlite3_step(stmt);
    int error = 0;
    if (rc != SQLITE_DONE) {
        /* The extended code is the one sqlite3_step() returned. */
        error = store_error(s, sqlite3_extended_errcode(s->db), fk_error,
                            msg, size);
    } else if (!sqlite3_changes(s->db)) {
        snprintf(msg, size, "no such row");
        error = -ENOENT;
    } else if (op->type == NVO_STORE_ADD_NETWORK
               || op->type == NVO_STORE_ADD_HV
               || op->type == NVO_STORE_ADD_PORT) {
        op->id = sqlite3_last_insert_rowid(s->db);
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);   /* The SQLITE_STATIC strings. */
    return error;
}

/* Fails every write in 'writes' that has not failed yet with 'error' (a
 * negative errno: -ENOSPC for a full disk, else -EIO) and 'msg' (the
 * transaction is gone). */
static void
fail_all(struct ovs_list *writes, int error, const char *msg)
{
    struct nvo_store_write *w;
    LIST_FOR_EACH (w, node, writes) {
        if (!w->error) {
            w->error = error == -ENOSPC ? error : -EIO;
            w->revision = 0;
            free(w->errmsg);
            w->errmsg = (w->error == -ENOSPC ? xstrdup(msg)
                         : xasprintf("the store failed: %s", msg));
        }
    }
}

/* Commits 'writes' (a list of struct nvo_store_write) in one transaction,
 * each under its own savepoint (a lone write under none), starting from
 * revision 'rev'.  Fills each write's error, revision, errmsg and op.id.
 * Returns the revision after the batch.  Runs on whichever one thread owns
 * the connection. */
static int64_t
run_batch(struct sqlite_store *s, struct ovs_list *writes, int64_t rev)
{
    char msg[256];
    int64_t base = rev;
    struct nvo_store_write *w;

    int rc = step_once(s, ST_BEGIN);
    if (rc != SQLITE_DONE) {
        int error = store_error(s, sqlite3_extended_errcode(s->db), -EIO,
                                msg, sizeof msg);
        fail_all(writes, error, msg);
        return base;
    }
    /* A batch of one needs no savepoint: if its write fails, the whole
     * transaction is rolled back instead. */
    bool alone = ovs_list_is_short(writes);
    LIST_FOR_EACH (w, node, writes) {
        w->error = 0;
        w->revision = 0;
        rc = alone ? SQLITE_DONE : step_once(s, ST_SAVEPOINT);
        int error = rc == SQLITE_DONE
                    ? apply_op(s, &w->op, rev + 1, msg, sizeof msg)
                    : store_error(s, sqlite3_extended_errcode(s->db), -EIO,
                                  msg, sizeof msg);
        if (sqlite3_get_autocommit(s->db)) {
            /* SQLite rolled the whole transaction back (I/O error, out of
             * memory): nothing of this batch is committed. */
            if (!error) {
                snprintf(msg, sizeof msg, "transaction aborted");
            }
            w->error = error ? error : -EIO;
            w->errmsg = xstrdup(msg);
            fail_all(writes, w->error, msg);
            return base;
        }
        if (error) {
            if (!alone) {
                step_once(s, ST_ROLLBACK_TO);
                step_once(s, ST_RELEASE);
            }
            w->error = error;
            w->errmsg = xstrdup(msg);
        } else {
            if (!alone) {
                step_once(s, ST_RELEASE);
            }
            w->revision = ++rev;
        }
    }
    if (rev == base) {
        /* Every write failed: nothing to commit. */
        step_once(s, ST_ROLLBACK);
        return base;
    }
    /* The store-wide revision, once for the whole batch. */
    sqlite3_bind_int64(s->stmts[ST_BUMP], 1, rev);
    rc = step_once(s, ST_BUMP);
    if (rc == SQLITE_DONE) {
        rc = step_once(s, ST_COMMIT);
    }
    if (rc != SQLITE_DONE) {
        int error = store_error(s, sqlite3_extended_errcode(s->db), -EIO,
                                msg, sizeof msg);
        if (!sqlite3_get_autocommit(s->db)) {
            step_once(s, ST_ROLLBACK);
        }
        fail_all(writes, error, msg);
        return base;
    }
    if (s->disk_full && rev > base) {
        VLOG_INFO("%s: writes succeed again (%"PRIu64" refused while the "
                  "disk was full)", s->path, s->n_full);
        s->disk_full = false;
        s->n_full = 0;
    }
    return rev;
}

static void start_batch(struct sqlite_store *);
static void start_checkpoint(struct sqlite_store *);

/* Loop thread: hands the connection to the pool for 'work', then 'done'
 * (a batch or a checkpoint). */
static void
queue_work(struct sqlite_store *s, uv_work_cb work, uv_after_work_cb done)
{
    s->busy = true;
    s->worker_done = false;
    s->work.data = s;
    int error = uv_queue_work(s->up.loop, &s->work, work, done);
    ovs_assert(!error);
}

/* Loop thread, in a 'done' callback: the connection is back.  Returns
 * false if the store was closed meanwhile (then it is freed now). */
static bool
work_back(struct sqlite_store *s)
{
    s->busy = false;
    if (s->closing) {
        sqlite_store_free(s);
        return false;
    }
    return true;
}

/* Pool thread: the connection is the loop's again (sqlite_close() waits
 * for this). */
static void
worker_finish(struct sqlite_store *s)
{
    uv_mutex_lock(&s->mutex);
    s->worker_done = true;
    uv_cond_signal(&s->cond);
    uv_mutex_unlock(&s->mutex);
}

/* Pool thread. */
static void
batch_work(uv_work_t *work)
{
    struct sqlite_store *s = work->data;
    s->started_at = uv_hrtime();
    s->batch_rev = run_batch(s, &s->batch, s->revision);
    s->ended_at = uv_hrtime();
    worker_finish(s);
}

/* sqlite3_wal_hook() callback, on the thread that committed: records the
 * WAL's size (and so replaces SQLite's automatic checkpoint). */
static int
wal_hook(void *s_, sqlite3 *db OVS_UNUSED, const char *name OVS_UNUSED,
         int frames)
{
    struct sqlite_store *s = s_;
    s->wal_frames = frames;
    return SQLITE_OK;
}

/* Loop thread, between batches: whether to checkpoint now (see
 * store-sqlite.h). */
static bool
checkpoint_due(const struct sqlite_store *s)
{
    return (s->wal_frames >= NVO_STORE_SQLITE_CHECKPOINT_FRAMES
            && (ovs_list_is_empty(&s->queue)
                || s->wal_frames >= NVO_STORE_SQLITE_CHECKPOINT_MAX_FRAMES));
}

/* Pool thread. */
static void
checkpoint_work(uv_work_t *work)
{
    struct sqlite_store *s = work->data;
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                       NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(s->ckpt_error, sizeof s->ckpt_error, "%s",
                 sqlite3_errmsg(s->db));
    } else {
        s->ckpt_error[0] = '\0';
    }
    worker_finish(s);
}

/* Loop thread, once the checkpoint is done. */
static void
checkpoint_done(uv_work_t *work, int status OVS_UNUSED)
{
    struct sqlite_store *s = work->data;
    if (!work_back(s)) {
        return;
    }
    if (s->ckpt_error[0]) {
        /* Nothing is lost: the WAL keeps every commit; the next batch's
         * size makes it due again. */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "%s: checkpoint failed: %s", s->path,
                     s->ckpt_error);
    }
    s->wal_frames = 0;
    if (!ovs_list_is_empty(&s->queue)) {
        start_batch(s);
    }
}

static void
start_checkpoint(struct sqlite_store *s)
{
    queue_work(s, checkpoint_work, checkpoint_done);
}

/* Loop thread, once the batch committed (or failed). */
static void
batch_done(uv_work_t *work, int status OVS_UNUSED)
{
    struct sqlite_store *s = work->data;
    if (!work_back(s)) {
        return;
    }
    s->revision = s->batch_rev;
    s->n_batches++;
    s->to_thread_ns += s->started_at - s->handed_at;
    s->commit_ns += s->ended_at - s->started_at;
    s->to_loop_ns += uv_hrtime() - s->ended_at;
    struct ovs_list done;
    ovs_list_move(&done, &s->batch);
    ovs_list_init(&s->batch);
    /* Callbacks may submit more writes: they queue behind 'done'. */
    while (!ovs_list_is_empty(&done)) {
        struct nvo_store_write *w = CONTAINER_OF(ovs_list_pop_front(&done),
                                                 struct nvo_store_write,
                                                 node);
        w->more = !ovs_list_is_empty(&done);
        w->cb(w);
    }
    if (s->busy) {
        return;
    } else if (checkpoint_due(s)) {
        /* After this batch's answers, not in its COMMIT. */
        start_checkpoint(s);
    } else if (!ovs_list_is_empty(&s->queue)) {
        start_batch(s);
    }
}

static void
start_batch(struct sqlite_store *s)
{
    for (size_t n = 0; n < NVO_STORE_SQLITE_MAX_BATCH
                       && !ovs_list_is_empty(&s->queue); n++) {
        ovs_list_push_back(&s->batch, ovs_list_pop_front(&s->queue));
    }
    s->handed_at = uv_hrtime();
    s->queued_ns += s->handed_at - s->queued_at;
    s->queued_at = s->handed_at;    /* For writes left in the queue. */
    queue_work(s, batch_work, batch_done);
}

/* The loop's next iteration after a write was queued on an idle store:
 * every write submitted meanwhile (all the requests read in one go) joins
 * the batch. */
static void
idle_cb(uv_idle_t *idle)
{
    struct sqlite_store *s = idle->data;
    uv_idle_stop(idle);
    if (!s->busy && !ovs_list_is_empty(&s->queue)) {
        start_batch(s);
    }
}

static void
sqlite_submit(struct nvo_store *store, struct nvo_store_write *w)
{
    struct sqlite_store *s = sqlite_store_cast(store);
    ovs_assert(s->up.loop && !s->closing);
    s->n_writes++;
    if (ovs_list_is_empty(&s->queue)) {
        s->queued_at = uv_hrtime();
    }
    ovs_list_push_back(&s->queue, &w->node);
    if (!s->busy) {
        uv_idle_start(s->idle, idle_cb);
    }
}

static void
sqlite_close(struct nvo_store *store)
{
    struct sqlite_store *s = sqlite_store_cast(store);
    /* Queued writes were never sent: they are dropped, uncommitted. */
    ovs_list_init(&s->queue);
    if (s->idle) {
        uv_idle_stop(s->idle);
        uv_close((uv_handle_t *) s->idle, (uv_close_cb) free);
        s->idle = NULL;
    }
    if (!s->busy) {
        sqlite_store_free(s);
        return;
    }
    /* A batch is committing: wait for the pool thread to leave the
     * connection; batch_done() frees 's' when the loop next runs. */
    uv_mutex_lock(&s->mutex);
    while (!s->worker_done) {
        uv_cond_wait(&s->cond, &s->mutex);
    }
    uv_mutex_unlock(&s->mutex);
    ovs_list_init(&s->batch);
    s->closing = true;
}

static const struct nvo_store_class sqlite_class = {
    .name = "sqlite",
    .close = sqlite_close,
    .load = sqlite_load,
    .submit = sqlite_submit,
    .revision = sqlite_revision,
    .get_stats = sqlite_get_stats,
};

/* Synchronous calls. */

static void
sync_write_cb(struct nvo_store_write *w OVS_UNUSED)
{
}

/* Runs 'op' (whose strings it takes) as a batch of one on the calling
 * thread; returns its error and sets '*id' (if nonnull) and '*revision'. */
static int
sync_write(struct nvo_store *store, struct nvo_store_op op, int64_t *id,
           int64_t *revision)
{
    struct sqlite_store *s = sqlite_store_cast(store);
    struct nvo_store_write w;
    struct ovs_list one;

    ovs_assert(!s->busy);
    nvo_store_write_init(&w, op.type, sync_write_cb, NULL);
    w.op = op;
    ovs_list_init(&one);
    ovs_list_push_back(&one, &w.node);
    s->revision = run_batch(s, &one, s->revision);
    snprintf(s->errmsg, sizeof s->errmsg, "%s", w.errmsg ? w.errmsg : "");
    int error = w.error;
    if (!error) {
        if (id) {
            *id = w.op.id;
        }
        *revision = w.revision;
    }
    nvo_store_write_uninit(&w);
    return error;
}

int
nvo_store_sqlite_add_network(struct nvo_store *s, const char *name,
                             uint32_t vni, enum nvo_bum_mode bum, int64_t *id,
                             int64_t *revision)
{
    return sync_write(s, (struct nvo_store_op) {
        .type = NVO_STORE_ADD_NETWORK,
        .net = { .name = nullable_xstrdup(name), .vni = vni, .bum = bum,
                 .arp_responder = true },
    }, id, revision);
}

int
nvo_store_sqlite_set_network_bum(struct nvo_store *s, int64_t id,
                                 enum nvo_bum_mode bum, int64_t *revision)
{
    return sync_write(s, (struct nvo_store_op) {
        .type = NVO_STORE_SET_NETWORK, .id = id,
        .net = { .bum = bum, .arp_responder = true },
    }, NULL, revision);
}

int
nvo_store_sqlite_delete_network(struct nvo_store *s, int64_t id,
                                int64_t *revision)
{
    return sync_write(s, (struct nvo_store_op) {
        .type = NVO_STORE_DEL_NETWORK, .id = id }, NULL, revision);
}

int
nvo_store_sqlite_add_hv(struct nvo_store *s, const char *name,
                        const char *tunnel_ip, enum nvo_dataplane dp,
                        enum nvo_role role, const char *ovsdb, int64_t *id,
                        int64_t *revision)
{
    return sync_write(s, (struct nvo_store_op) {
        .type = NVO_STORE_ADD_HV,
        .hv = { .name = nullable_xstrdup(name),
                .tunnel_ip = nullable_xstrdup(tunnel_ip), .dataplane = dp,
                .role = role, .ovsdb = nullable_xstrdup(ovsdb) },
    }, id, revision);
}

int
nvo_store_sqlite_delete_hv(struct nvo_store *s, int64_t id,
                           int64_t *revision)
{
    return sync_write(s, (struct nvo_store_op) {
        .type = NVO_STORE_DEL_HV, .id = id }, NULL, revision);
}

int
nvo_store_sqlite_add_port(struct nvo_store *s, const char *vm,
                          int64_t net_id, int64_t hv_id, const char *mac,
                          const char *ip, const char *iface, int64_t *id,
                          int64_t *revision)
{
    return sync_write(s, (struct nvo_store_op) {
        .type = NVO_STORE_ADD_PORT,
        .port = { .vm = nullable_xstrdup(vm), .net_id = net_id,
                  .hv_id = hv_id, .mac = nullable_xstrdup(mac),
                  .ip = nullable_xstrdup(ip),
                  .iface = nullable_xstrdup(iface) },
    }, id, revision);
}

int
nvo_store_sqlite_move_port(struct nvo_store *s, int64_t id, int64_t hv_id,
                           const char *iface, int64_t *revision)
{
    return sync_write(s, (struct nvo_store_op) {
        .type = NVO_STORE_MOVE_PORT, .id = id,
        .port = { .hv_id = hv_id, .iface = nullable_xstrdup(iface) },
    }, NULL, revision);
}

int
nvo_store_sqlite_delete_port(struct nvo_store *s, int64_t id,
                             int64_t *revision)
{
    return sync_write(s, (struct nvo_store_op) {
        .type = NVO_STORE_DEL_PORT, .id = id }, NULL, revision);
}
