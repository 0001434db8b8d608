/* nvo-agent: runs on every kernel hypervisor and service node. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "agent/agent-conn.h"
#include "agent/agent-dp.h"
#include "agent/agent-view.h"
#include "lib/addr.h"
#include "lib/daemon.h"
#include "lib/errors.h"
#include "lib/pki.h"
#include "lib/valid.h"
#include "openvswitch/vlog.h"
#include "socket-util.h"
#include "stream.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(agent);

#define DEFAULT_OVSDB "unix:/var/run/openvswitch/db.sock"

struct options {
    struct agent_conn_cfg conn;
    const char *dataplane;      /* "kernel", "ovs", "auto". */
    const char *ovsdb;
    const char *log_file;
    bool verbose;
    struct nvo_pki pki;
};

static void
usage(void)
{
    printf("\
nvo-agent: nvo's agent on kernel hypervisors and service nodes\n\
usage: nvo-agent --controller=tcp:IP:PORT[,tcp:IP:PORT...] --name=NAME\n\
                 --tunnel-ip=IP\n\
                 [--dataplane=kernel|ovs|auto] [--role=hypervisor|service-node]\n\
                 [OPTIONS]\n\
\n\
Connects to nvo-controller, registers as hypervisor NAME (as created with\n\
POST /v1/hypervisors), receives the desired state of every network with a\n\
VM on this host, and programs it:\n\
  kernel        per network (VNI) a VXLAN device nvx<VNI> (local IP =\n\
                --tunnel-ip, UDP port 4789, no learning, no UDP checksum)\n\
                in a bridge nvb<VNI> with the VMs' interfaces; static FDB\n\
                entries MAC -> remote VTEP and all-zero entries for\n\
                broadcast (head-end copies or the service node), over\n\
                netlink.  At start and on every reconnection it reads what\n\
                the kernel holds and changes only the difference; devices\n\
                not named nvx*/nvb* are never touched.\n\
  ovs           nothing: the controller programs Open vSwitch over OVSDB\n\
                and OpenFlow; the agent only reports itself.\n\
  auto          ovs if the local ovsdb-server answers (--ovsdb), else kernel.\n\
With --role=service-node it runs the BUM replicator on --tunnel-ip:4789\n\
instead, replicating each network's broadcasts to its other VTEPs.\n\
\n\
If the controller is unreachable the dataplane keeps forwarding as it was;\n\
the agent reconnects with exponential backoff and jitter (libopenvswitch's\n\
reconnect FSM).  Given several controllers (a cluster, doc/cluster.md) it\n\
tries them in turn, each once without backoff after a lost session, and a\n\
controller that does not own this hypervisor redirects it to the one that\n\
does (followed only to an address of this list).\n\
\n\
Options:\n\
  --controller=tcp:IP:PORT   controller's agent address (required);\n\
  --controller=ssl:IP:PORT   ssl: for mutual TLS (needs the PKI options);\n\
                             a comma-separated list (all tcp: or all ssl:)\n\
                             for every controller of a cluster\n\
  --name=NAME                hypervisor name (required)\n\
  --tunnel-ip=IP             this host's underlay VTEP address (required)\n\
  --dataplane=kernel|ovs|auto  (default: auto)\n\
  --role=hypervisor|service-node  (default: hypervisor)\n\
  --ovsdb=REMOTE             where auto looks for ovsdb-server\n\
                             (default: %s)\n\
  --heartbeat-interval=MS    heartbeat period (default: 3000)\n\
  --heartbeat-timeout=MS     reconnect after controller silence (default: 10000)\n\
  --backoff-max=MS           longest reconnection delay, at least 1000\n\
                             (default: 30000)\n\
  --log-file=FILE            also log to FILE (default: stderr only)\n\
  -v, --verbose              log debug messages\n\
  -h, --help                 show this help and exit\n\
  -V, --version              show the version and exit\n\
\n",
           DEFAULT_OVSDB);
    nvo_daemon_usage(stdout);
    nvo_pki_usage(stdout);
    printf("\
With ssl: the agent verifies the controller's certificate against\n\
--ca-cert and presents its own, whose CN names this hypervisor (--name);\n\
changed files are picked up by reconnecting.  Without them (tcp:) the\n\
agent runs plain TCP and logs a warning at start.\n\
\n\
Signals: SIGTERM and SIGINT stop the agent cleanly; the kernel state stays\n\
as it is and a restarted agent adopts it.\n\
Exit status: 0 after SIGTERM/SIGINT, 1 on bad options or start-up failure.\n");
}

static void die_usage(const char *format, ...) OVS_PRINTF_FORMAT(1, 2);

static void
die_usage(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fprintf(stderr, "nvo-agent: ");
    vfprintf(stderr, format, args);
    fprintf(stderr, "\nTry 'nvo-agent --help' for more information.\n");
    va_end(args);
    exit(EXIT_FAILURE);
}

static void
parse_options(int argc, char *argv[], struct options *o)
{
    enum { OPT_CONTROLLER = 256, OPT_NAME, OPT_TUNNEL_IP, OPT_DATAPLANE,
           OPT_ROLE, OPT_OVSDB, OPT_HB_INTERVAL, OPT_HB_TIMEOUT,
           OPT_BACKOFF_MAX, OPT_LOG_FILE };
    static const struct option long_options[] = {
        {"controller", required_argument, NULL, OPT_CONTROLLER},
        {"name", required_argument, NULL, OPT_NAME},
        {"tunnel-ip", required_argument, NULL, OPT_TUNNEL_IP},
        {"dataplane", required_argument, NULL, OPT_DATAPLANE},
        {"role", required_argument, NULL, OPT_ROLE},
        {"ovsdb", required_argument, NULL, OPT_OVSDB},
        {"heartbeat-interval", required_argument, NULL, OPT_HB_INTERVAL},
        {"heartbeat-timeout", required_argument, NULL, OPT_HB_TIMEOUT},
        {"backoff-max", required_argument, NULL, OPT_BACKOFF_MAX},
        {"log-file", required_argument, NULL, OPT_LOG_FILE},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        NVO_PKI_LONG_OPTIONS,
        NVO_DAEMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *role = "hypervisor";

    memset(o, 0, sizeof *o);
    o->dataplane = "auto";
    o->ovsdb = DEFAULT_OVSDB;
    for (;;) {
        int c = getopt_long(argc, argv, "vhV", long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_CONTROLLER: o->conn.controller = optarg; break;
        case OPT_NAME: o->conn.name = optarg; break;
        case OPT_TUNNEL_IP: o->conn.tunnel_ip = optarg; break;
        case OPT_DATAPLANE: o->dataplane = optarg; break;
        case OPT_ROLE: role = optarg; break;
        case OPT_OVSDB: o->ovsdb = optarg; break;
        case OPT_HB_INTERVAL:
            o->conn.hb_interval_ms = nvo_daemon_parse_ms("--heartbeat-interval", optarg);
            break;
        case OPT_HB_TIMEOUT:
            o->conn.hb_timeout_ms = nvo_daemon_parse_ms("--heartbeat-timeout", optarg);
            break;
        case OPT_BACKOFF_MAX:
            o->conn.backoff_max_ms = nvo_daemon_parse_ms("--backoff-max", optarg);
            break;
        case OPT_LOG_FILE: o->log_file = optarg; break;
        NVO_PKI_OPTION_CASES:
            nvo_pki_handle_option(&o->pki, c, optarg);
            break;
        NVO_DAEMON_OPTION_CASES:
            nvo_daemon_handle_option(c, optarg);
            break;
        case 'v': o->verbose = true; break;
        case 'h': usage(); exit(EXIT_SUCCESS);
        case 'V': printf("nvo-agent %s\n", NVO_VERSION); exit(EXIT_SUCCESS);
        default:
            fprintf(stderr, "Try 'nvo-agent --help' for more information.\n");
            exit(EXIT_FAILURE);
        }
    }
    if (optind < argc) {
        die_usage("unexpected argument '%s'", argv[optind]);
    }
    if (!o->conn.controller || (strncmp(o->conn.controller, "tcp:", 4)
                                && strncmp(o->conn.controller, "ssl:", 4))) {
        die_usage("--controller=tcp:IP:PORT or ssl:IP:PORT is required");
    }
    bool ssl;
    char *why;
    if (agent_conn_check_controllers(o->conn.controller, &ssl, &why)) {
        die_usage("--controller: %s", why);
    }
    if (!o->conn.name || !*o->conn.name) {
        die_usage("--name=NAME is required");
    }
    if (!nvo_valid_name(o->conn.name)) {
        die_usage("--name must be 1 to %d characters of A-Z a-z 0-9 . _ - "
                  "(the hypervisor's name in the REST API)", NVO_NAME_MAX);
    }
    if (!o->conn.tunnel_ip || !nvo_ip_is_valid(o->conn.tunnel_ip)) {
        die_usage("--tunnel-ip=IP is required (an IP address)");
    }
    if (!strcmp(role, "hypervisor")) {
        o->conn.role = NVO__ROLE__ROLE_HYPERVISOR;
    } else if (!strcmp(role, "service-node")) {
        o->conn.role = NVO__ROLE__ROLE_SERVICE_NODE;
    } else {
        die_usage("--role: %s is not hypervisor or service-node", role);
    }
    if (strcmp(o->dataplane, "kernel") && strcmp(o->dataplane, "ovs")
        && strcmp(o->dataplane, "auto")) {
        die_usage("--dataplane: %s is not kernel, ovs or auto", o->dataplane);
    }
    char *errmsg = NULL;
    if (nvo_pki_check(&o->pki, &errmsg)) {
        fprintf(stderr, "nvo-agent: %s\n", errmsg);
        free(errmsg);
        exit(EXIT_FAILURE);
    }
    if (ssl && !nvo_pki_enabled(&o->pki)) {
        die_usage("--controller=ssl: needs --private-key, --certificate "
                  "and --ca-cert");
    }
    o->conn.pki = &o->pki;
}

/* True if an ovsdb-server accepts connections at 'remote' (any OVS active
 * stream: "unix:PATH", "tcp:IP:PORT", ...) within a second. */
static bool
ovsdb_answers(const char *remote)
{
    struct stream *stream = NULL;
    int error = stream_open_block(stream_open(remote, &stream, DSCP_DEFAULT),
                                  1000, &stream);
    stream_close(stream);
    return !error;
}

struct agent {
    struct options o;
    struct agent_view view;
    struct agent_dp *dp;
    struct agent_conn *conn;
    uv_signal_t sigterm, sigint;
    uv_timer_t retry;
};

static void
agent_apply(void *aux, const struct agent_view *view, Nvo__Ack *ack)
{
    struct agent *a = aux;
    agent_dp_apply(a->dp, view, ack);
}

static void
agent_counters(void *aux, Nvo__Heartbeat *hb)
{
    struct agent *a = aux;
    agent_dp_counters(a->dp, hb);
}

static void
agent_report(void *aux, Nvo__StateReport *rep)
{
    struct agent *a = aux;
    agent_dp_report(a->dp, rep);
}

static const struct agent_conn_ops conn_ops = {
    .apply = agent_apply,
    .counters = agent_counters,
    .report = agent_report,
};

static void
on_signal(uv_signal_t *handle, int signum)
{
    VLOG_INFO("caught %s, exiting (dataplane left as it is)",
              strsignal(signum));
    uv_stop(handle->loop);
}

static void
on_retry(uv_timer_t *t)
{
    struct agent *a = t->data;
    if (agent_dp_needs_retry(a->dp)) {
        agent_conn_reapply(a->conn);
    }
}

int
main(int argc, char *argv[])
{
    struct agent a;
    int error;

    set_program_name(argv[0]);   /* For messages about bad options. */

    parse_options(argc, argv, &a.o);
    error = nvo_daemon_log_init(argv[0], a.o.log_file, a.o.verbose);
    if (error) {
        fprintf(stderr, "nvo-agent: cannot open log file %s: %s\n",
                a.o.log_file, nvo_strerror(error));
        return EXIT_FAILURE;
    }
    signal(SIGPIPE, SIG_IGN);
    srandom(time(NULL) ^ getpid());

    enum agent_dp_kind kind;
    if (a.o.conn.role == NVO__ROLE__ROLE_SERVICE_NODE) {
        if (!strcmp(a.o.dataplane, "ovs")) {
            fprintf(stderr, "nvo-agent: a service node runs dataplane "
                    "kernel\n");
            return EXIT_FAILURE;
        }
        kind = AGENT_DP_SVCNODE;
    } else if (!strcmp(a.o.dataplane, "auto")) {
        kind = ovsdb_answers(a.o.ovsdb) ? AGENT_DP_OVS : AGENT_DP_KERNEL;
        VLOG_INFO("--dataplane=auto: %s", kind == AGENT_DP_OVS
                  ? "ovsdb-server answers, using ovs"
                  : "no ovsdb-server, using kernel");
    } else {
        kind = !strcmp(a.o.dataplane, "ovs") ? AGENT_DP_OVS : AGENT_DP_KERNEL;
    }
    a.o.conn.dataplane = (kind == AGENT_DP_OVS ? NVO__DATAPLANE__DATAPLANE_OVS
                          : NVO__DATAPLANE__DATAPLANE_KERNEL);

    /* Forks for --detach/--monitor, switches --user (keeping the network
     * capabilities) and takes the pidfile: before the loop exists. */
    daemonize_start(true);
    uv_loop_t *loop = uv_default_loop();
    char *errmsg = NULL;
    a.dp = agent_dp_create(loop, kind, a.o.conn.tunnel_ip, &errmsg);
    if (!a.dp) {
        VLOG_ERR("%s", errmsg);
        fprintf(stderr, "nvo-agent: %s\n", errmsg);
        return EXIT_FAILURE;
    }
    agent_view_init(&a.view);
    a.conn = agent_conn_create(loop, &a.o.conn, &a.view, &conn_ops, &a,
                               &error);
    if (!a.conn) {
        fprintf(stderr, "nvo-agent: %s: %s\n", a.o.conn.controller,
                nvo_strerror(error));
        return EXIT_FAILURE;
    }
    uv_signal_init(loop, &a.sigterm);
    uv_signal_start(&a.sigterm, on_signal, SIGTERM);
    uv_signal_init(loop, &a.sigint);
    uv_signal_start(&a.sigint, on_signal, SIGINT);
    uv_timer_init(loop, &a.retry);
    a.retry.data = &a;
    uv_timer_start(&a.retry, on_retry, 5000, 5000);
    VLOG_INFO("nvo-agent %s: %s, tunnel IP %s, dataplane %s, role %s, "
              "controller %s", NVO_VERSION, a.o.conn.name,
              a.o.conn.tunnel_ip,
              kind == AGENT_DP_OVS ? "ovs" : "kernel",
              kind == AGENT_DP_SVCNODE ? "service-node" : "hypervisor",
              a.o.conn.controller);
    if (!strncmp(a.o.conn.controller, "tcp:", 4)) {
        VLOG_WARN("%s: running plain; the channel to the controller is "
                  "unauthenticated and unencrypted (anyone on the path can "
                  "read or forge this hypervisor's desired state)%s",
                  a.o.conn.controller, nvo_pki_enabled(&a.o.pki)
                  ? "; the PKI options are unused: use ssl:" : "");
    }
    daemonize_complete();

    uv_run(loop, UV_RUN_DEFAULT);

    agent_conn_destroy(a.conn);
    agent_dp_destroy(a.dp);
    uv_signal_stop(&a.sigterm);
    uv_signal_stop(&a.sigint);
    uv_timer_stop(&a.retry);
    nvo_daemon_uv_close_all(loop);
    agent_view_destroy(&a.view);
    nvo_pki_destroy(&a.o.pki);
    VLOG_INFO("exited cleanly");
    return EXIT_SUCCESS;
}
