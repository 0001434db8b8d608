/* store.c - the SQLite placement store (see store.h for the contract). */
#include <config.h>
#include "controller/store.h"

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "controller/model.h"
#include "lib/addr.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(store);

/* Prepared once per open database. */
enum store_stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
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
    [ST_BUMP] = "UPDATE store_revision SET revision = :rev WHERE id = 1",
    [ST_ADD_NETWORK] = "INSERT INTO networks (name, vni, bum, revision) "
                       "VALUES (?1, ?2, ?3, :rev)",
    [ST_SET_BUM] = "UPDATE networks SET bum = ?2, revision = :rev "
                   "WHERE id = ?1",
    [ST_DEL_NETWORK] = "DELETE FROM networks WHERE id = ?1 AND :rev > 0",
    [ST_ADD_HV] = "INSERT INTO hypervisors (name, tunnel_ip, dataplane, role, "
                  "ovsdb, revision) VALUES (?1, ?2, ?3, ?4, ?5, :rev)",
    [ST_DEL_HV] = "DELETE FROM hypervisors WHERE id = ?1 AND :rev > 0",
    [ST_ADD_PORT] = "INSERT INTO ports (vm, network_id, hypervisor_id, mac, "
                    "ip, iface, revision) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, :rev)",
    [ST_MOVE_PORT] = "UPDATE ports SET hypervisor_id = ?2, iface = ?3, "
                     "revision = :rev WHERE id = ?1",
    [ST_DEL_PORT] = "DELETE FROM ports WHERE id = ?1 AND :rev > 0",
};

struct nvo_store {
    sqlite3 *db;
    char *path;
    int version;                /* PRAGMA user_version. */
    int64_t revision;           /* Last committed store revision. */
    sqlite3_stmt *stmts[ST_N];
    char errmsg[256];
};

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
store_set_pragmas(struct nvo_store *s, char **errmsg)
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
store_migrate(struct nvo_store *s, const struct nvo_migration *migrations,
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

int
nvo_store_open_with(const char *path, const struct nvo_migration *migrations,
                    size_t n, struct nvo_store **storep, char **errmsg)
{
    struct nvo_store *s = xzalloc(sizeof *s);
    int error;

    *storep = NULL;
    *errmsg = NULL;
    s->path = xstrdup(path);
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
    *storep = s;
    return 0;

fail:
    nvo_store_close(s);
    return error;
}

int
nvo_store_open(const char *path, struct nvo_store **storep, char **errmsg)
{
    return nvo_store_open_with(path, nvo_schema_migrations,
                               nvo_schema_n_migrations, storep, errmsg);
}

void
nvo_store_close(struct nvo_store *s)
{
    if (!s) {
        return;
    }
    for (int i = 0; i < ST_N; i++) {
        sqlite3_finalize(s->stmts[i]);
    }
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

int
nvo_store_schema_version(const struct nvo_store *s)
{
    return s->version;
}

int64_t
nvo_store_revision(const struct nvo_store *s)
{
    return s->revision;
}

const char *
nvo_store_errmsg(const struct nvo_store *s)
{
    return s->errmsg;
}

static const char *
col_text(sqlite3_stmt *stmt, int col)
{
    return (const char *) sqlite3_column_text(stmt, col);
}

static int
load_networks(struct nvo_store *s, struct nvo_model *m)
{
    sqlite3_stmt *stmt;
    int rc = sqlite3_prepare_v2(s->db, "SELECT id, name, vni, bum, revision "
                                "FROM networks ORDER BY id", -1, &stmt, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        enum nvo_bum_mode bum;
        if (nvo_bum_mode_from_string(col_text(stmt, 3), &bum)) {
            rc = SQLITE_CORRUPT;
            break;
        }
        nvo_model_add_network(m, sqlite3_column_int64(stmt, 0),
                              col_text(stmt, 1), sqlite3_column_int64(stmt, 2),
                              bum, sqlite3_column_int64(stmt, 4));
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

static int
load_hvs(struct nvo_store *s, struct nvo_model *m)
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
load_ports(struct nvo_store *s, struct nvo_model *m)
{
    sqlite3_stmt *stmt;
    int rc = sqlite3_prepare_v2(s->db, "SELECT id, vm, network_id, "
                                "hypervisor_id, mac, ip, iface, revision "
                                "FROM ports ORDER BY id", -1, &stmt, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct nvo_network *net = nvo_model_network_by_id(
            m, sqlite3_column_int64(stmt, 2));
        struct nvo_hypervisor *hv = nvo_model_hv_by_id(
            m, sqlite3_column_int64(stmt, 3));
        struct eth_addr mac;
        if (!net || !hv || nvo_mac_parse(col_text(stmt, 4), mac.ea)) {
            rc = SQLITE_CORRUPT;
            break;
        }
        nvo_model_add_port(m, sqlite3_column_int64(stmt, 0), col_text(stmt, 1),
                           net, hv, mac, col_text(stmt, 5), col_text(stmt, 6),
                           sqlite3_column_int64(stmt, 7));
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

int
nvo_store_load(struct nvo_store *s, struct nvo_model *m)
{
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

/* Maps SQLite result 'rc' of a failed write to a negative errno and records
 * the message.  'fk_error' is what a foreign key failure means here. */
static int
store_error(struct nvo_store *s, int rc, int fk_error)
{
    snprintf(s->errmsg, sizeof s->errmsg, "%s", sqlite3_errmsg(s->db));
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
    default: {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
        VLOG_ERR_RL(&rl, "%s: write failed: %s", s->path, s->errmsg);
        return -EIO;
    }
    }
}

/* Binds the values described by 'fmt' ('t': const char * or NULL, 'i':
 * int64_t) to ?1.. of 'stmt' and 'rev' to :rev. */
static void
bind_args(sqlite3_stmt *stmt, int64_t rev, const char *fmt, va_list args)
{
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    for (int i = 0; fmt[i]; i++) {
        if (fmt[i] == 't') {
            const char *v = va_arg(args, const char *);
            if (v) {
                sqlite3_bind_text(stmt, i + 1, v, -1, SQLITE_TRANSIENT);
            } else {
                sqlite3_bind_null(stmt, i + 1);
            }
        } else {
            sqlite3_bind_int64(stmt, i + 1, va_arg(args, int64_t));
        }
    }
    sqlite3_bind_int64(stmt, sqlite3_bind_parameter_index(stmt, ":rev"), rev);
}

/* Steps the bound statement 'st' once and resets it; returns the step's
 * result. */
static int
step_once(struct nvo_store *s, enum store_stmt st)
{
    int rc = sqlite3_step(s->stmts[st]);
    sqlite3_reset(s->stmts[st]);
    return rc;
}

/* Runs statement 'st' with the values described by 'fmt' (see bind_args())
 * in one transaction that bumps the store revision.  If 'must_change', a
 * statement that touched no row fails with -ENOENT.  Sets '*id' (if
 * nonnull) to the last inserted row id and '*revision' to the new
 * revision. */
static int
store_write(struct nvo_store *s, enum store_stmt st, int fk_error,
            bool must_change, int64_t *id, int64_t *revision,
            const char *fmt, ...)
{
    int64_t rev = s->revision + 1;
    sqlite3_stmt *stmt = s->stmts[st];
    int error = 0, rc;
    va_list args;

    s->errmsg[0] = '\0';
    rc = step_once(s, ST_BEGIN);
    if (rc != SQLITE_DONE) {
        return store_error(s, rc, -EIO);
    }

    sqlite3_bind_int64(s->stmts[ST_BUMP], 1, rev);
    rc = step_once(s, ST_BUMP);
    if (rc != SQLITE_DONE) {
        error = store_error(s, rc, -EIO);
        goto rollback;
    }

    va_start(args, fmt);
    bind_args(stmt, rev, fmt, args);
    va_end(args);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) {
        /* The extended code is the one sqlite3_step() returned. */
        error = store_error(s, sqlite3_extended_errcode(s->db), fk_error);
        sqlite3_reset(stmt);
        goto rollback;
    }
    sqlite3_reset(stmt);
    if (must_change && !sqlite3_changes(s->db)) {
        snprintf(s->errmsg, sizeof s->errmsg, "no such row");
        error = -ENOENT;
        goto rollback;
    }
    if (id) {
        *id = sqlite3_last_insert_rowid(s->db);
    }
    rc = step_once(s, ST_COMMIT);
    if (rc != SQLITE_DONE) {
        error = store_error(s, rc, -EIO);
        goto rollback;
    }
    s->revision = rev;
    *revision = rev;
    return 0;

rollback:
    if (!sqlite3_get_autocommit(s->db)) {
        step_once(s, ST_ROLLBACK);
    }
    return error;
}

int
nvo_store_add_network(struct nvo_store *s, const char *name, uint32_t vni,
                      enum nvo_bum_mode bum, int64_t *id, int64_t *revision)
{
    return store_write(s, ST_ADD_NETWORK, -ENOENT, true, id, revision, "tit",
                       name, (int64_t) vni, nvo_bum_mode_to_string(bum));
}

int
nvo_store_set_network_bum(struct nvo_store *s, int64_t id,
                          enum nvo_bum_mode bum, int64_t *revision)
{
    return store_write(s, ST_SET_BUM, -ENOENT, true, NULL, revision, "it",
                       id, nvo_bum_mode_to_string(bum));
}

int
nvo_store_delete_network(struct nvo_store *s, int64_t id, int64_t *revision)
{
    return store_write(s, ST_DEL_NETWORK, -ENOTEMPTY, true, NULL, revision,
                       "i", id);
}

int
nvo_store_add_hv(struct nvo_store *s, const char *name, const char *tunnel_ip,
                 enum nvo_dataplane dp, enum nvo_role role, const char *ovsdb,
                 int64_t *id, int64_t *revision)
{
    return store_write(s, ST_ADD_HV, -ENOENT, true, id, revision, "ttttt",
                       name, tunnel_ip, nvo_dataplane_to_string(dp),
                       nvo_role_to_string(role), ovsdb);
}

int
nvo_store_delete_hv(struct nvo_store *s, int64_t id, int64_t *revision)
{
    return store_write(s, ST_DEL_HV, -ENOTEMPTY, true, NULL, revision,
                       "i", id);
}

int
nvo_store_add_port(struct nvo_store *s, const char *vm, int64_t net_id,
                   int64_t hv_id, const char *mac, const char *ip,
                   const char *iface, int64_t *id, int64_t *revision)
{
    return store_write(s, ST_ADD_PORT, -ENOENT, true, id, revision, "tiittt",
                       vm, net_id, hv_id, mac, ip, iface);
}

int
nvo_store_move_port(struct nvo_store *s, int64_t id, int64_t hv_id,
                    const char *iface, int64_t *revision)
{
    return store_write(s, ST_MOVE_PORT, -ENOENT, true, NULL, revision, "iit",
                       id, hv_id, iface);
}

int
nvo_store_delete_port(struct nvo_store *s, int64_t id, int64_t *revision)
{
    return store_write(s, ST_DEL_PORT, -ENOENT, true, NULL, revision, "i", id);
}
