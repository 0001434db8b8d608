/* svcnode-run.c - the service-node replicator on its own, for integration
 * tests and manual experiments without a controller or nvo-agent.
 *
 * Usage: svcnode-run TUNNEL-IP[:PORT] VNI=IP[,IP...]...
 * Replicates VXLAN on TUNNEL-IP:PORT (default 4789) for each VNI given.
 * SIGUSR1 prints every VNI's counters on stdout, one line each
 * ("vni=N in=N out=N short=N flags=N unknown_vni=N unknown_source=N
 * send_error=N too_long=N", vni=none for the unknown-VNI totals);
 * SIGTERM/SIGINT print them too and exit. */
#include <config.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "agent/svcnode.h"
#include "openvswitch/vlog.h"

static struct svcnode *sn;
static uv_signal_t sigs[3];

static void
print_one(const struct svcnode_counters *c, void *aux OVS_UNUSED)
{
    char vni[16];
    if (c->vni == SVCNODE_VNI_NONE) {
        strcpy(vni, "none");
    } else {
        snprintf(vni, sizeof vni, "%"PRIu32, c->vni);
    }
    printf("vni=%s in=%"PRIu64" out=%"PRIu64" short=%"PRIu64" flags=%"PRIu64
           " unknown_vni=%"PRIu64" unknown_source=%"PRIu64" send_error=%"
           PRIu64" too_long=%"PRIu64"\n", vni, c->in_packets, c->out_packets,
           c->drop_short, c->drop_flags, c->drop_unknown_vni,
           c->drop_unknown_source, c->drop_send_error, c->drop_too_long);
}

static void
on_signal(uv_signal_t *h, int signum)
{
    svcnode_foreach_counters(sn, print_one, NULL);
    fflush(stdout);
    if (signum != SIGUSR1) {
        svcnode_destroy(sn);
        for (int i = 0; i < 3; i++) {
            uv_close((uv_handle_t *) &sigs[i], NULL);
        }
    }
    (void) h;
}

static int
parse_vni(const char *arg)
{
    char *copy = strdup(arg), *eq = strchr(copy, '='), *save = NULL;
    struct in_addr vteps[SVCNODE_MAX_VTEPS];
    size_t n = 0;
    int error = -1;

    if (eq) {
        *eq = '\0';
        uint32_t vni = strtoul(copy, NULL, 10);
        for (char *t = strtok_r(eq + 1, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
            if (n == SVCNODE_MAX_VTEPS || inet_pton(AF_INET, t, &vteps[n]) != 1) {
                goto out;
            }
            n++;
        }
        error = svcnode_set_vni(sn, vni, vteps, n);
    }
out:
    if (error) {
        fprintf(stderr, "svcnode-run: bad VNI argument \"%s\"\n", arg);
    }
    free(copy);
    return error;
}

int
main(int argc, char *argv[])
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s TUNNEL-IP[:PORT] VNI=IP[,IP...]...\n",
                argv[0]);
        return 2;
    }
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_INFO);

    char *ip = strdup(argv[1]), *colon = strchr(ip, ':');
    uint16_t port = 4789;
    if (colon) {
        *colon = '\0';
        port = atoi(colon + 1);
    }

    uv_loop_t *loop = uv_default_loop();
    int error;
    sn = svcnode_create(loop, ip, port, &error);
    if (!sn) {
        fprintf(stderr, "svcnode-run: %s:%u: %s\n", ip, port,
                strerror(-error));
        return 1;
    }
    for (int i = 2; i < argc; i++) {
        if (parse_vni(argv[i])) {
            return 2;
        }
    }
    static const int signums[3] = { SIGUSR1, SIGTERM, SIGINT };
    for (int i = 0; i < 3; i++) {
        uv_signal_init(loop, &sigs[i]);
        uv_signal_start(&sigs[i], on_signal, signums[i]);
    }
    printf("ready\n");
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    free(ip);
    return 0;
}
