/* bench-sqlite.c - the reference for bench/bench-rest.sh: how fast SQLite
 * itself inserts the rows POST /v1/ports writes, on the same disk with the
 * same schema and pragmas (WAL, synchronous=FULL, foreign keys on), one
 * transaction per row.  Two figures:
 *   raw:   BEGIN IMMEDIATE; INSERT INTO ports ...; COMMIT
 *   store: nvo_store_sqlite_add_port() (the same plus the revision bump)
 * Usage: bench-sqlite DIR N_PORTS N_NETWORKS N_HYPERVISORS [raw]
 * Prints "raw PORTS SECONDS RATE" and (unless "raw" is given) "store PORTS
 * SECONDS RATE". */
#include <config.h>

#include <inttypes.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controller/store.h"
#include "controller/store-sqlite.h"
#include "util.h"

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
check(int rc, sqlite3 *db, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "bench-sqlite: %s: %s\n", what, sqlite3_errmsg(db));
        exit(EXIT_FAILURE);
    }
}

/* Fills the store at 'path' with networks and hypervisors; returns it. */
static struct nvo_store *
prepare(const char *path, int n_nets, int n_hvs)
{
    struct nvo_store *s;
    char *errmsg;
    int64_t id, rev;

    unlink(path);
    if (nvo_store_open(path, NULL, &s, &errmsg)) {
        fprintf(stderr, "bench-sqlite: %s\n", errmsg);
        exit(EXIT_FAILURE);
    }
    for (int i = 0; i < n_nets; i++) {
        char name[32];
        snprintf(name, sizeof name, "net-%d", i);
        ovs_assert(!nvo_store_sqlite_add_network(s, name, 1000 + i,
                                          NVO_BUM_HEAD_END, &id, &rev));
    }
    for (int i = 0; i < n_hvs; i++) {
        char name[32], ip[32];
        snprintf(name, sizeof name, "hv-%d", i);
        snprintf(ip, sizeof ip, "198.51.100.%d", i + 1);
        ovs_assert(!nvo_store_sqlite_add_hv(s, name, ip, NVO_DP_KERNEL,
                                     NVO_ROLE_HYPERVISOR, NULL, &id, &rev));
    }
    return s;
}

static void
port_values(int i, char vm[32], char mac[18], char iface[16])
{
    snprintf(vm, 32, "vm-%d", i);
    snprintf(mac, 18, "02:00:00:%02x:%02x:%02x", (i >> 16) & 0xff,
             (i >> 8) & 0xff, i & 0xff);
    snprintf(iface, 16, "t%d", i);
}

static void
bench_raw(const char *path, int n_ports, int n_nets, int n_hvs)
{
    /* The schema and pragmas come from the store. */
    nvo_store_close(prepare(path, n_nets, n_hvs));

    sqlite3 *db;
    sqlite3_stmt *begin, *insert, *commit;
    check(sqlite3_open(path, &db), db, "open");
    check(sqlite3_exec(db, "PRAGMA journal_mode = WAL; "
                       "PRAGMA synchronous = FULL; "
                       "PRAGMA foreign_keys = ON;", NULL, NULL, NULL),
          db, "pragmas");
    check(sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL), db,
          "prepare");
    check(sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL), db,
          "prepare");
    check(sqlite3_prepare_v2(db, "INSERT INTO ports (vm, network_id, "
                             "hypervisor_id, mac, ip, iface, revision) "
                             "VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6)", -1,
                             &insert, NULL), db, "prepare");
    double t0 = now();
    for (int i = 0; i < n_ports; i++) {
        char vm[32], mac[18], iface[16];
        port_values(i, vm, mac, iface);
        check(sqlite3_step(begin), db, "begin");
        sqlite3_reset(begin);
        sqlite3_bind_text(insert, 1, vm, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(insert, 2, 1 + i % n_nets);
        sqlite3_bind_int64(insert, 3, 1 + i % n_hvs);
        sqlite3_bind_text(insert, 4, mac, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(insert, 5, iface, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(insert, 6, 1000 + i);
        check(sqlite3_step(insert), db, "insert");
        sqlite3_reset(insert);
        check(sqlite3_step(commit), db, "commit");
        sqlite3_reset(commit);
    }
    double t = now() - t0;
    printf("raw %d %.3f %.0f\n", n_ports, t, n_ports / t);
    sqlite3_finalize(begin);
    sqlite3_finalize(insert);
    sqlite3_finalize(commit);
    sqlite3_close(db);
}

static void
bench_store(const char *path, int n_ports, int n_nets, int n_hvs)
{
    struct nvo_store *s = prepare(path, n_nets, n_hvs);
    double t0 = now();
    for (int i = 0; i < n_ports; i++) {
        char vm[32], mac[18], iface[16];
        int64_t id, rev;
        port_values(i, vm, mac, iface);
        int error = nvo_store_sqlite_add_port(s, vm, 1 + i % n_nets,
                                              1 + i % n_hvs, mac, NULL,
                                              iface, &id, &rev);
        if (error) {
            fprintf(stderr, "bench-sqlite: add port: %s\n",
                    nvo_store_sqlite_errmsg(s));
            exit(EXIT_FAILURE);
        }
    }
    double t = now() - t0;
    printf("store %d %.3f %.0f\n", n_ports, t, n_ports / t);
    nvo_store_close(s);
}

int
main(int argc, char *argv[])
{
    bool raw_only = argc == 6 && !strcmp(argv[5], "raw");
    if (argc != 5 && !raw_only) {
        fprintf(stderr, "usage: %s DIR N_PORTS N_NETWORKS N_HYPERVISORS "
                "[raw]\n", argv[0]);
        return EXIT_FAILURE;
    }
    int n_ports = atoi(argv[2]), n_nets = atoi(argv[3]);
    int n_hvs = atoi(argv[4]);
    if (n_ports <= 0 || n_nets <= 0 || n_hvs <= 0 || n_hvs > 250) {
        fprintf(stderr, "bench-sqlite: bad counts\n");
        return EXIT_FAILURE;
    }
    char *path = xasprintf("%s/bench-sqlite.db", argv[1]);
    bench_raw(path, n_ports, n_nets, n_hvs);
    if (!raw_only) {
        bench_store(path, n_ports, n_nets, n_hvs);
    }
    unlink(path);
    free(path);
    return EXIT_SUCCESS;
}
