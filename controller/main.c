/* nvo-controller: the network virtualization controller daemon. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "controller/agent-server.h"
#include "controller/cluster.h"
#include "controller/ctl.h"
#include "controller/model.h"
#include "controller/ovs-sb.h"
#include "controller/rest.h"
#include "controller/service.h"
#include "controller/store.h"
#include "controller/store-ovsdb.h"
#include "lib/daemon.h"
#include "lib/errors.h"
#include "lib/pki.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(main);

#define DEFAULT_STATE_DIR "/var/lib/nvo"
#define DEFAULT_REST "127.0.0.1:8080"
#define DEFAULT_AGENTS "0.0.0.0:6650"

struct options {
    char *db;
    const char *export_to;      /* --export-to=ovsdb:..., or NULL. */
    char *name;                 /* --name, default the host name. */
    const char *rest;
    const char *agents;
    const char *rest_token_file;
    const char *log_file;
    bool verbose;
    uint64_t wait_timeout_ms;
    uint64_t agent_hb_ms;       /* 0: agent-server default. */
    uint64_t agent_timeout_ms;  /* 0: agent-server default. */
    struct nvo_pki pki;
};

static void
usage(void)
{
    printf("\
nvo-controller: network virtualization controller\n\
usage: nvo-controller [OPTIONS]\n\
\n\
Keeps VM placement in SQLite, serves the REST API the orchestration system\n\
calls when VMs start, move and stop, and programs every hypervisor: Open\n\
vSwitch ones over OVSDB and OpenFlow 1.3, kernel ones through nvo-agent.\n\
\n\
Options:\n\
  --db=FILE             SQLite database (default: $NVO_STATE_DIR/nvo.db,\n\
                        NVO_STATE_DIR defaulting to %s)\n\
  --db=ovsdb:REMOTE[,REMOTE...]\n\
                        cluster mode: the store in a Raft-clustered OVSDB\n\
                        database (schema/nvo.ovsschema), each REMOTE\n\
                        tcp:IP:PORT or ssl:IP:PORT (doc/cluster.md)\n\
  --name=NAME           this controller's name in a cluster (default: the\n\
                        host name)\n\
  --rest=ADDR:PORT      REST API listen address (default: %s)\n\
  --agents=ADDR:PORT    agent protocol listen address (default: %s)\n\
  --rest-token-file=FILE  require \"Authorization: Bearer TOKEN\" on every\n\
                        REST request but GET /healthz and GET / (the\n\
                        page; it asks for a token); FILE has lines\n\
                        \"TOKEN ROLE\", ROLE admin or reader (GET only);\n\
                        re-read on SIGHUP\n\
  --wait-timeout=MS     how long ?wait=1 waits for confirmation before\n\
                        answering 504 (default: %d)\n\
  --agent-heartbeat=MS  heartbeat period toward agents (default: 3000)\n\
  --agent-timeout=MS    declare an agent dead after this long without a\n\
                        frame from it; its service-node networks move to\n\
                        other nodes (default: 10000).  After a start,\n\
                        service nodes keep their networks this long for\n\
                        their agents to reconnect\n\
  --export-to=ovsdb:REMOTE[,REMOTE...]\n\
                        copy the SQLite store (--db=FILE) into a new,\n\
                        empty Raft-clustered OVSDB database running\n\
                        schema/nvo.ovsschema (doc/cluster.md), then exit\n\
  --log-file=FILE       also log to FILE (default: stderr only)\n\
  -v, --verbose         log debug messages\n\
  -h, --help            show this help and exit\n\
  -V, --version         show the version and exit\n\
\n",
           DEFAULT_STATE_DIR, DEFAULT_REST, DEFAULT_AGENTS,
           NVO_CTL_WAIT_TIMEOUT_MS);
    nvo_daemon_usage(stdout);
    nvo_pki_usage(stdout);
    printf("\
With the PKI options the agent port speaks only mutual TLS (an agent's\n\
certificate must name the hypervisor it claims), ssl: OVSDB remotes and\n\
OpenFlow use them (libopenvswitch's stream-ssl), and REST is served over\n\
HTTPS with this certificate; files replaced on disk are used for new\n\
connections without a restart.  Without them everything runs plain and\n\
the controller logs a warning at start naming what is exposed.\n\
\n\
Signals: SIGTERM and SIGINT stop the controller cleanly; hypervisors keep\n\
forwarding with what they were given.  SIGHUP re-reads the token file.\n");
}

static void
parse_options(int argc, char *argv[], struct options *o)
{
    enum { OPT_DB = 256, OPT_REST, OPT_AGENTS, OPT_LOG_FILE, OPT_WAIT_TIMEOUT,
           OPT_AGENT_HB, OPT_AGENT_TIMEOUT,
           OPT_REST_TOKEN_FILE, OPT_EXPORT_TO, OPT_NAME };
    static const struct option long_options[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"rest", required_argument, NULL, OPT_REST},
        {"agents", required_argument, NULL, OPT_AGENTS},
        {"rest-token-file", required_argument, NULL, OPT_REST_TOKEN_FILE},
        {"wait-timeout", required_argument, NULL, OPT_WAIT_TIMEOUT},
        {"agent-heartbeat", required_argument, NULL, OPT_AGENT_HB},
        {"agent-timeout", required_argument, NULL, OPT_AGENT_TIMEOUT},
        {"export-to", required_argument, NULL, OPT_EXPORT_TO},
        {"name", required_argument, NULL, OPT_NAME},
        {"log-file", required_argument, NULL, OPT_LOG_FILE},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        NVO_PKI_LONG_OPTIONS,
        NVO_DAEMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };

    memset(o, 0, sizeof *o);
    o->rest = DEFAULT_REST;
    o->agents = DEFAULT_AGENTS;
    o->wait_timeout_ms = NVO_CTL_WAIT_TIMEOUT_MS;
    for (;;) {
        int c = getopt_long(argc, argv, "vhV", long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_DB: free(o->db); o->db = xstrdup(optarg); break;
        case OPT_REST: o->rest = optarg; break;
        case OPT_AGENTS: o->agents = optarg; break;
        case OPT_REST_TOKEN_FILE: o->rest_token_file = optarg; break;
        case OPT_EXPORT_TO: o->export_to = optarg; break;
        case OPT_NAME: free(o->name); o->name = xstrdup(optarg); break;
        case OPT_LOG_FILE: o->log_file = optarg; break;
        case OPT_WAIT_TIMEOUT:
            o->wait_timeout_ms = nvo_daemon_parse_ms("--wait-timeout", optarg);
            break;
        case OPT_AGENT_HB:
            o->agent_hb_ms = nvo_daemon_parse_ms("--agent-heartbeat", optarg);
            break;
        case OPT_AGENT_TIMEOUT:
            o->agent_timeout_ms = nvo_daemon_parse_ms("--agent-timeout", optarg);
            break;
        NVO_PKI_OPTION_CASES:
            nvo_pki_handle_option(&o->pki, c, optarg);
            break;
        NVO_DAEMON_OPTION_CASES:
            nvo_daemon_handle_option(c, optarg);
            break;
        case 'v': o->verbose = true; break;
        case 'h': usage(); exit(EXIT_SUCCESS);
        case 'V': printf("nvo-controller %s\n", NVO_VERSION); exit(0);
        default:
            fprintf(stderr, "Try 'nvo-controller --help' for more "
                    "information.\n");
            exit(EXIT_FAILURE);
        }
    }
    if (o->agent_hb_ms && o->agent_timeout_ms
        && o->agent_timeout_ms <= o->agent_hb_ms) {
        fprintf(stderr, "nvo-controller: --agent-timeout must be longer "
                "than --agent-heartbeat\n");
        exit(EXIT_FAILURE);
    }
    char *errmsg = NULL;
    if (nvo_pki_check(&o->pki, &errmsg)) {
        fprintf(stderr, "nvo-controller: %s\n", errmsg);
        free(errmsg);
        exit(EXIT_FAILURE);
    }
    if (optind < argc) {
        fprintf(stderr, "nvo-controller: unexpected argument '%s'\n"
                "Try 'nvo-controller --help' for more information.\n",
                argv[optind]);
        exit(EXIT_FAILURE);
    }
    if (o->db && !strncmp(o->db, NVO_STORE_OVSDB_PREFIX,
                          strlen(NVO_STORE_OVSDB_PREFIX))) {
        char *remotes = NULL;
        if (nvo_store_ovsdb_parse(o->db, &remotes, &errmsg)) {
            fprintf(stderr, "nvo-controller: --db: %s\n", errmsg);
            free(errmsg);
            exit(EXIT_FAILURE);
        }
        free(remotes);
        if (o->export_to) {
            fprintf(stderr, "nvo-controller: --export-to copies an SQLite "
                    "store: give --db=FILE\n");
            exit(EXIT_FAILURE);
        }
    }
    if (!o->name) {
        char host[256];
        o->name = xstrdup(gethostname(host, sizeof host) || !*host
                          ? "nvo-controller" : host);
    }
    if (!*o->name || strlen(o->name) > 64) {
        fprintf(stderr, "nvo-controller: --name must have 1 to 64 "
                "characters\n");
        exit(EXIT_FAILURE);
    }
    if (!o->db) {
        const char *dir = getenv("NVO_STATE_DIR");
        dir = dir && *dir ? dir : DEFAULT_STATE_DIR;
        if (mkdir(dir, 0755) && errno != EEXIST) {
            fprintf(stderr, "nvo-controller: cannot create state directory "
                    "%s: %s\n", dir, strerror(errno));
            exit(EXIT_FAILURE);
        }
        o->db = xasprintf("%s/nvo.db", dir);
    }
}

/* Frees what parse_options() allocated in 'o'. */
static void
options_destroy(struct options *o)
{
    free(o->db);
    free(o->name);
    nvo_pki_destroy(&o->pki);
}

/* How long --export-to waits for a cluster majority. */
#define EXPORT_TIMEOUT_MS 30000

/* --export-to: copies the SQLite store at o->db into the cluster at
 * o->export_to; returns the exit status. */
static int
export_store(const struct options *o)
{
    char *remotes = NULL, *errmsg = NULL;
    struct nvo_store *store = NULL;
    struct nvo_model *m = NULL;
    int error;

    error = nvo_store_ovsdb_parse(o->export_to, &remotes, &errmsg);
    if (!error) {
        error = nvo_store_open(o->db, NULL, &store, &errmsg);
    }
    if (!error) {
        m = nvo_model_create();
        error = nvo_store_load(store, m);
        if (error) {
            errmsg = xasprintf("%s: cannot load: %s", o->db,
                               nvo_strerror(error));
        }
    }
    if (!error) {
        error = nvo_store_ovsdb_export(m, remotes, EXPORT_TIMEOUT_MS,
                                       &errmsg);
    }
    if (error) {
        VLOG_ERR("export: %s", errmsg);
        fprintf(stderr, "nvo-controller: %s\n", errmsg);
    } else {
        printf("nvo-controller: exported %s (revision %"PRId64": %"PRIuSIZE
               " networks, %"PRIuSIZE" hypervisors, %"PRIuSIZE" ports) "
               "to %s\n", o->db, m->revision,
               hmap_count(&m->networks_by_id), hmap_count(&m->hvs_by_id),
               hmap_count(&m->ports_by_id), remotes);
    }
    nvo_model_destroy(m);
    nvo_store_close(store);
    free(remotes);
    free(errmsg);
    return error ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Says once, at start, which channels run without authentication. */
static void
warn_plain(const struct options *o)
{
    const char *rest_auth = (o->rest_token_file ? ""
                             : " (no --rest-token-file: anyone who reaches "
                               "it may write)");
    if (!nvo_pki_enabled(&o->pki)) {
        VLOG_WARN("no --private-key/--certificate/--ca-cert: running plain; "
                  "unauthenticated and unencrypted: the agent port %s "
                  "(any peer naming a hypervisor gets its view), REST on "
                  "%s%s, and OVSDB/OpenFlow to OVS hypervisors (tcp:, and "
                  "the ptcp: OpenFlow listener on each br-int)",
                  o->agents, o->rest, rest_auth);
    } else if (!o->rest_token_file) {
        VLOG_WARN("REST on %s is served over HTTPS but without "
                  "--rest-token-file: anyone who reaches it may write",
                  o->rest);
    }
}

/* glibc's allocator, set before any thread exists (so before any arena but
 * the main one).  A thread's arena (the OVS southbound thread's above all)
 * grows its heap by exactly what each allocation needs, one mprotect() per
 * new page: the thread's memory grows by some 50 kB per VM start at 32
 * hypervisors (one more flow on every switch, in the incremental table and
 * in the installed set), so a VM start cost it 12.8 mprotect() calls
 * (and 67 at 128 hypervisors, a join per VM start).  M_TOP_PAD makes every
 * heap start with that much address space writable (mapped but untouched:
 * no memory until used), and the main arena grow by as much at a time:
 * 0 mprotect() per VM start.  It also leaves up to that much free memory at
 * the top of an arena instead of giving it back, which costs nothing where
 * memory only grows (at 100,000 ports the RSS stays 129 MB).  Setting it
 * fixes the mmap() threshold, otherwise adapted by glibc: M_MMAP_THRESHOLD
 * keeps blocks below 4 MB in the arenas (buffers of big bundles and dumps,
 * reused rather than mapped and unmapped each time).  Measured with
 * bench/bench-scale.sh (32 OVS hypervisors, 96 VM starts in one network,
 * 2026-12-03): mprotect() 12.8 -> 0 per VM start on the OVS thread; its
 * page faults (13 per VM start: the pages the growth touches) stay. */
static void
malloc_tune(void)
{
    mallopt(M_TOP_PAD, 64 << 20);
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
}

struct server {
    struct nvo_ctl ctl;
    struct nvo_rest *rest;
    uv_signal_t sigterm, sigint, sighup;
};

static void
on_sighup(uv_signal_t *handle, int signum OVS_UNUSED)
{
    struct server *s = handle->data;
    VLOG_INFO("caught SIGHUP, reloading");
    nvo_rest_reload(s->rest);
}

static void
on_signal(uv_signal_t *handle, int signum)
{
    VLOG_INFO("caught %s, exiting", strsignal(signum));
    uv_stop(handle->loop);
}

int
main(int argc, char *argv[])
{
    struct options o;
    struct server s;
    char *errmsg = NULL;
    int status = EXIT_FAILURE;
    int error;

    malloc_tune();
    set_program_name(argv[0]);   /* For messages about bad options. */

    parse_options(argc, argv, &o);
    error = nvo_daemon_log_init(argv[0], o.log_file, o.verbose);
    if (error) {
        fprintf(stderr, "nvo-controller: cannot open log file %s: %s\n",
                o.log_file, nvo_strerror(error));
        options_destroy(&o);
        return EXIT_FAILURE;
    }
    signal(SIGPIPE, SIG_IGN);
    if (o.export_to) {
        nvo_pki_configure_ovs(&o.pki);      /* For ssl: remotes. */
        status = export_store(&o);
        options_destroy(&o);
        return status;
    }
    /* Forks for --detach/--monitor and takes the pidfile: before the loop
     * and any thread exist. */
    daemonize_start(false);

    uv_loop_t *loop = uv_default_loop();
    nvo_ctl_init(&s.ctl, loop);
    s.rest = NULL;
    s.ctl.wait_timeout_ms = o.wait_timeout_ms;

    nvo_pki_configure_ovs(&o.pki);      /* For ssl: remotes. */
    error = nvo_store_open(o.db, loop, &s.ctl.store, &errmsg);
    if (error) {
        VLOG_ERR("%s", errmsg);
        fprintf(stderr, "nvo-controller: %s\n", errmsg);
        goto out;
    }
    s.ctl.model = nvo_model_create();
    error = nvo_store_load(s.ctl.store, s.ctl.model);
    if (error) {
        VLOG_ERR("%s: cannot load: %s", o.db, nvo_strerror(error));
        goto out;
    }
    VLOG_INFO("%s: store at revision %"PRId64, o.db, s.ctl.model->revision);
    if (!strncmp(o.db, NVO_STORE_OVSDB_PREFIX, strlen(NVO_STORE_OVSDB_PREFIX))) {
        /* Cluster mode: share the OVS hypervisors with the other
         * controllers (doc/cluster.md). */
        s.ctl.cluster = nvo_cluster_create(
            loop, s.ctl.store, o.name, o.rest, o.agents,
            nvo_ctl_cluster_changed, &s.ctl);
    }
    s.ctl.svc = nvo_svc_create(&s.ctl);

    s.ctl.agents = agent_server_create(loop, o.agents, nvo_ctl_confirmed,
                                       nvo_ctl_liveness, &s.ctl, &error);
    s.ctl.sbs[NVO_DP_KERNEL] = agent_server_as_sb(s.ctl.agents);
    if (!s.ctl.agents) {
        VLOG_ERR("cannot listen for agents on %s: %s", o.agents,
                 nvo_strerror(error));
        fprintf(stderr, "nvo-controller: cannot listen for agents on %s: "
                "%s\n", o.agents, nvo_strerror(error));
        goto out;
    }
    /* Confirmed means applied: acks with item errors fail the waiters. */
    agent_server_set_failed_cb(s.ctl.agents, nvo_ctl_failed);
    if (s.ctl.cluster) {
        /* Agents end up at their hypervisor's owner. */
        agent_server_set_redirect_cb(s.ctl.agents, nvo_ctl_agent_redirect);
    }
    if (nvo_pki_enabled(&o.pki)
        && agent_server_set_tls(s.ctl.agents, &o.pki, &errmsg)) {
        VLOG_ERR("agents: %s", errmsg);
        fprintf(stderr, "nvo-controller: agents: %s\n", errmsg);
        goto out;
    }
    if (o.agent_hb_ms || o.agent_timeout_ms) {
        agent_server_set_timers(s.ctl.agents,
                                o.agent_hb_ms ? o.agent_hb_ms : 3000,
                                o.agent_timeout_ms ? o.agent_timeout_ms
                                                   : 10000);
    }
    if (o.agent_timeout_ms) {
        /* A live agent reconnects within its timeout. */
        s.ctl.sn_grace_ms = o.agent_timeout_ms;
    }
    nvo_pki_configure_ovs(&o.pki);
    struct ovs_sb *ovs = ovs_sb_create(loop, nvo_ctl_confirmed, &s.ctl);
    ovs_sb_set_failed_cb(ovs, nvo_ctl_failed);
    ovs_sb_set_pki(ovs, &o.pki);
    s.ctl.sbs[NVO_DP_OVS] = ovs_sb_as_sb(ovs);
    s.rest = nvo_rest_create(&s.ctl, o.rest, &error);
    if (!s.rest) {
        VLOG_ERR("cannot serve REST on %s: %s", o.rest, nvo_strerror(error));
        fprintf(stderr, "nvo-controller: cannot serve REST on %s: %s\n",
                o.rest, nvo_strerror(error));
        goto out;
    }
    if (nvo_pki_enabled(&o.pki)) {
        error = nvo_rest_set_tls(s.rest, o.pki.private_key,
                                 o.pki.certificate, &errmsg);
        if (error) {
            VLOG_ERR("REST over HTTPS: %s", errmsg);
            fprintf(stderr, "nvo-controller: REST over HTTPS: %s\n",
                    errmsg);
            goto out;
        }
    }
    if (o.rest_token_file) {
        error = nvo_rest_set_token_file(s.rest, o.rest_token_file, &errmsg);
        if (error) {
            VLOG_ERR("--rest-token-file: %s", errmsg);
            fprintf(stderr, "nvo-controller: --rest-token-file: %s\n",
                    errmsg);
            goto out;
        }
    }
    nvo_ctl_publish_all(&s.ctl);

    uv_signal_init(loop, &s.sigterm);
    uv_signal_start(&s.sigterm, on_signal, SIGTERM);
    uv_signal_init(loop, &s.sigint);
    uv_signal_start(&s.sigint, on_signal, SIGINT);
    uv_signal_init(loop, &s.sighup);
    s.sighup.data = &s;
    uv_signal_start(&s.sighup, on_sighup, SIGHUP);
    VLOG_INFO("nvo-controller %s (%s): REST on %s, agents on %s",
              NVO_VERSION, o.name, o.rest, o.agents);
    warn_plain(&o);
    daemonize_complete();

    uv_run(loop, UV_RUN_DEFAULT);
    uv_signal_stop(&s.sigterm);
    uv_signal_stop(&s.sigint);
    uv_signal_stop(&s.sighup);
    status = EXIT_SUCCESS;

out:
    /* Also after a failed start: what was created so far is torn down in
     * the same order (each destroy function takes a part never created),
     * so that a refused start reports no leaks either. */
    nvo_rest_destroy(s.rest);
    nvo_ctl_destroy(&s.ctl);
    nvo_daemon_uv_close_all(loop);
    free(errmsg);
    options_destroy(&o);
    if (status == EXIT_SUCCESS) {
        VLOG_INFO("exited cleanly");
    }
    return status;
}
