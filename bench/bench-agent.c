/* bench-agent: figures for bench/bench-agent.sh.
 *   bench-agent fdb N      in the current (private) namespace: creates
 *                          nvb1/nvx1 through the agent's netlink code, adds
 *                          N FDB entries, dumps them, removes them; prints
 *                          "add_ms dump_ms del_ms".  Leaves the devices.
 *   bench-agent snapshot   encodes (and decodes) the snapshot of a
 *                          hypervisor in 100 networks x 100 remote VMs;
 *                          prints "bytes encode_ms decode_ms". */
#include <config.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/kdp.h"
#include "agent/kdp-state.h"
#include "controller/agent-proto.h"
#include "controller/desired.h"
#include "controller/model.h"
#include "lib/proto-msg.h"
#include "util.h"

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
report(void *aux, const struct kdp_op *op, int error)
{
    int *n = aux;
    if (!(*n)++) {
        char buf[96];
        kdp_op_format(op, buf, sizeof buf);
        fprintf(stderr, "bench-agent: %s: %s\n", buf, strerror(-error));
    }
}

/* The entries bench-agent.sh gives bridge -batch: MAC 02:00:00:II:JJ:KK for
 * entry i, dst 198.51.100.(1 + i % 100). */
static void
entry(int i, struct kdp_fdb *f)
{
    uint8_t mac[6] = { 2, 0, 0, i >> 16, i >> 8, i };
    memcpy(f->mac, mac, 6);
    char ip[32];
    snprintf(ip, sizeof ip, "198.51.100.%d", 1 + i % 100);
    inet_pton(AF_INET, ip, &f->dst);
}

static int
bench_fdb(int n)
{
    struct in_addr local;
    inet_pton(AF_INET, "198.51.100.254", &local);
    int error;
    struct kdp *k = kdp_open(&error);
    if (!k) {
        fprintf(stderr, "bench-agent: netlink: %s\n", strerror(-error));
        return 1;
    }
    struct kdp_ops ops = { NULL, 0, 0 };
    struct kdp_op setup[3] = {
        { .type = KDP_OP_ADD_BRIDGE, .vni = 1 },
        { .type = KDP_OP_ADD_VXLAN, .vni = 1, .mtu = 1450 },
        { .type = KDP_OP_FIX_VXLAN, .vni = 1, .mtu = 1450 },
    };
    int failed = 0;
    ops.ops = setup;
    ops.n = 3;
    kdp_apply(k, local, &ops, report, &failed);

    ops.ops = xmalloc(n * sizeof *ops.ops);
    ops.n = n;
    for (int i = 0; i < n; i++) {
        memset(&ops.ops[i], 0, sizeof ops.ops[i]);
        ops.ops[i].type = KDP_OP_ADD_FDB;
        ops.ops[i].vni = 1;
        entry(i, &ops.ops[i].fdb);
    }
    double t0 = now_ms();
    kdp_apply(k, local, &ops, report, &failed);
    double t1 = now_ms();
    struct kdp_state actual;
    kdp_dump(k, local, &actual);
    double t2 = now_ms();
    size_t got = actual.n_nets ? actual.nets[0].n_fdb : 0;
    kdp_state_destroy(&actual);
    for (int i = 0; i < n; i++) {
        ops.ops[i].type = KDP_OP_DEL_FDB;
    }
    double t3 = now_ms();
    kdp_apply(k, local, &ops, report, &failed);
    double t4 = now_ms();
    if (got != (size_t) n || failed) {
        fprintf(stderr, "bench-agent: dumped %zu of %d entries, %d failed\n",
                got, n, failed);
        return 1;
    }
    printf("%.1f %.1f %.1f\n", t1 - t0, t2 - t1, t4 - t3);
    free(ops.ops);
    kdp_close(k);
    return 0;
}

static int
bench_snapshot(void)
{
    struct nvo_model *m = nvo_model_create();
    struct nvo_hypervisor *me = nvo_model_add_hv(m, 1, "me", "198.51.100.1",
                                                 NVO_DP_KERNEL,
                                                 NVO_ROLE_HYPERVISOR, NULL, 1);
    struct nvo_hypervisor *hvs[100];
    for (int i = 0; i < 100; i++) {
        char name[16], ip[32];
        snprintf(name, sizeof name, "hv%d", i);
        snprintf(ip, sizeof ip, "198.51.100.%d", i + 2);
        hvs[i] = nvo_model_add_hv(m, i + 2, name, ip, NVO_DP_KERNEL,
                                  NVO_ROLE_HYPERVISOR, NULL, 1);
    }
    int64_t id = 1;
    for (int n = 0; n < 100; n++) {
        char name[16];
        snprintf(name, sizeof name, "net%d", n);
        struct nvo_network *net = nvo_model_add_network(
            m, n + 1, name, 1000 + n, NVO_BUM_HEAD_END, 1);
        struct eth_addr a = { .ea = { 2, 0, 0, 0, n, 0 } };
        nvo_model_add_port(m, id++, "local-vm", net, me, a, NULL, "tap0", 1);
        for (int v = 0; v < 100; v++) {
            struct eth_addr r = { .ea = { 2, 1, 0, 0, n, v } };
            nvo_model_add_port(m, id++, "remote-vm", net, hvs[v], r, NULL,
                               "tap0", 1);
        }
    }
    struct nvo_hv_view *view = desired_compute(m, me, NULL, NULL, NULL, NULL,
                                               0);
    const int rounds = 20;
    size_t len = 0;
    uint8_t *frame = NULL;
    double t0 = now_ms();
    for (int r = 0; r < rounds; r++) {
        Nvo__Message *msg = agent_proto_snapshot(view, 1);
        int error;
        free(frame);
        frame = nvo_msg_encode(msg, &len, &error);
        nvo_msg_free(msg);
    }
    double t1 = now_ms();
    for (int r = 0; r < rounds; r++) {
        char *err = NULL;
        nvo_msg_free(nvo_msg_decode(frame + 4, len - 4, &err));
        free(err);
    }
    double t2 = now_ms();
    printf("%zu %.2f %.2f\n", len, (t1 - t0) / rounds, (t2 - t1) / rounds);
    free(frame);
    nvo_hv_view_destroy(view);
    nvo_model_destroy(m);
    return 0;
}

int
main(int argc, char *argv[])
{
    if (argc == 3 && !strcmp(argv[1], "fdb")) {
        return bench_fdb(atoi(argv[2]));
    } else if (argc == 2 && !strcmp(argv[1], "snapshot")) {
        return bench_snapshot();
    }
    fprintf(stderr, "usage: bench-agent fdb N | bench-agent snapshot\n");
    return 2;
}
