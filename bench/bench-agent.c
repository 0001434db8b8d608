/* bench-agent: figures for bench/bench-agent.sh.
 *   bench-agent fdb N      in the current (private) namespace: creates
 *                          nvb1/nvx1 through the agent's netlink code, adds
 *                          N FDB entries, dumps them, removes them; prints
 *                          "add_ms dump_ms del_ms".  Leaves the devices.
 *   bench-agent snapshot   encodes (and decodes) the snapshot of a
 *                          hypervisor in 100 networks x 100 remote VMs;
 *                          prints "bytes encode_ms decode_ms".
 *   bench-agent channel DIR ROUNDS HANDSHAKES
 *                          that snapshot over lib/channel.c on loopback,
 *                          plain and TLS alternately in one process (both
 *                          ends on one libuv loop): the controller side
 *                          encodes and sends it, the agent side
 *                          reassembles, checks, decodes and validates it and
 *                          acks; then HANDSHAKES sequential connections until
 *                          the accepting side is open (TLS: client
 *                          certificate verified).  DIR holds an ovs-pki PKI
 *                          (pki/{switchca,controllerca}, ctl-*.pem,
 *                          hv-*.pem).  Prints per mode "MODE
 *                          snapshot_ms_median snapshot_ms_p90
 *                          snapshot_cpu_ms handshake_ms handshake_ms_p90
 *                          handshake_cpu_ms bytes" (CPU: mean per round or
 *                          handshake, both ends). */
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
#include "lib/channel.h"
#include "lib/frame.h"
#include "lib/pki.h"
#include "lib/proto-msg.h"
#include "lib/tls-ctx.h"
#include "util.h"

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time this process used, in ms (less sensitive to a loaded machine
 * than wall time). */
static double
cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
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
    kdp_addr_parse(ip, &f->dst);
}

static int
bench_fdb(int n)
{
    struct in6_addr local;
    kdp_addr_parse("198.51.100.254", &local);
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
    kdp_apply(k, &local, &ops, report, &failed);

    ops.ops = xmalloc(n * sizeof *ops.ops);
    ops.n = n;
    for (int i = 0; i < n; i++) {
        memset(&ops.ops[i], 0, sizeof ops.ops[i]);
        ops.ops[i].type = KDP_OP_ADD_FDB;
        ops.ops[i].vni = 1;
        entry(i, &ops.ops[i].fdb);
    }
    double t0 = now_ms();
    kdp_apply(k, &local, &ops, report, &failed);
    double t1 = now_ms();
    struct kdp_state actual;
    kdp_dump(k, &local, &actual);
    double t2 = now_ms();
    size_t got = actual.n_nets ? actual.nets[0].n_fdb : 0;
    kdp_state_destroy(&actual);
    for (int i = 0; i < n; i++) {
        ops.ops[i].type = KDP_OP_DEL_FDB;
    }
    double t3 = now_ms();
    kdp_apply(k, &local, &ops, report, &failed);
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

/* The view of a hypervisor in 100 networks x 100 remote VMs (+1 local VM
 * each).  Caller frees the view and the model. */
static struct nvo_hv_view *
make_view(struct nvo_model **mp)
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
    *mp = m;
    return desired_compute(m, me, NULL, NULL, NULL, NULL, 0);
}

static int
bench_snapshot(void)
{
    struct nvo_model *m;
    struct nvo_hv_view *view = make_view(&m);
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

/* ---- the snapshot over lib/channel.c ------------------------------------ */

struct bench_chan {
    uv_loop_t *loop;
    uv_tcp_t listener;
    struct sockaddr_storage addr;
    struct nvo_tls_ctx *server_tls, *client_tls;   /* NULL: plain. */
    const struct nvo_hv_view *view;

    struct nvo_channel *server, *client;
    struct nvo_frame_reader server_reader, client_reader;
    int open;                   /* Ends open (handshake phase). */
    int released;
    double t_start;
    size_t frame_len;
    bool failed;
};

static void
bench_fail(void *aux, int error OVS_UNUSED, const char *reason)
{
    struct bench_chan *b = aux;
    fprintf(stderr, "bench-agent: channel failed: %s\n", reason);
    b->failed = true;
    uv_stop(b->loop);
}

static void
bench_released(void *aux)
{
    struct bench_chan *b = aux;
    b->released++;
}

/* Controller side: encodes and sends the snapshot. */
static void
send_snapshot(struct bench_chan *b)
{
    Nvo__Message *msg = agent_proto_snapshot(b->view, 1);
    int error;
    size_t len;
    uint8_t *frame = nvo_msg_encode(msg, &len, &error);
    nvo_msg_free(msg);
    b->frame_len = len;
    if (nvo_channel_send(b->server, frame, len)) {
        b->failed = true;
        uv_stop(b->loop);
    }
}

/* Agent side: a whole snapshot arrives, is decoded and acked. */
static void
client_recv(void *aux, const uint8_t *data, size_t n)
{
    struct bench_chan *b = aux;
    nvo_frame_reader_feed(&b->client_reader, data, n);
    const uint8_t *payload;
    size_t len;
    while (nvo_frame_reader_next(&b->client_reader, &payload, &len) > 0) {
        char *err = NULL;
        Nvo__Message *m = nvo_msg_decode_limited(payload, len,
                                                 &nvo_msg_from_controller,
                                                 &err);
        if (!m) {
            fprintf(stderr, "bench-agent: %s\n", err);
            b->failed = true;
            uv_stop(b->loop);
            return;
        }
        nvo_msg_free(m);
        Nvo__Ack ack = NVO__ACK__INIT;
        Nvo__Message am = NVO__MESSAGE__INIT;
        ack.seq = 1;
        am.body_case = NVO__MESSAGE__BODY_ACK;
        am.ack = &ack;
        int error;
        size_t alen;
        uint8_t *frame = nvo_msg_encode(&am, &alen, &error);
        nvo_channel_send(b->client, frame, alen);
    }
}

/* Controller side: the ack ends a round. */
static void
server_recv(void *aux, const uint8_t *data, size_t n)
{
    struct bench_chan *b = aux;
    nvo_frame_reader_feed(&b->server_reader, data, n);
    const uint8_t *payload;
    size_t len;
    if (nvo_frame_reader_next(&b->server_reader, &payload, &len) > 0) {
        uv_stop(b->loop);
    }
}

static void
side_open(void *aux)
{
    struct bench_chan *b = aux;
    if (++b->open == 2) {
        uv_stop(b->loop);
    }
}

static const struct nvo_channel_ops server_ops = {
    .connected = side_open,
    .recv = server_recv,
    .failed = bench_fail,
    .released = bench_released,
};

static const struct nvo_channel_ops client_ops = {
    .connected = side_open,
    .recv = client_recv,
    .failed = bench_fail,
    .released = bench_released,
};

static void
bench_accept(uv_stream_t *listener, int status)
{
    struct bench_chan *b = listener->data;
    int error;
    if (status < 0) {
        return;
    }
    b->server = nvo_channel_accept(b->loop, listener, b->server_tls,
                                   &server_ops, b, &error);
    if (b->server && !b->server_tls) {
        side_open(b);           /* Accepted plain channels open at once. */
    }
}

/* Connects a client/server pair; runs until both ends are open.  Returns
 * the time it took in ms. */
static double
bench_connect(struct bench_chan *b)
{
    int error;
    b->open = 0;
    b->server = NULL;
    nvo_frame_reader_init(&b->client_reader, NVO_FRAME_MAX);
    nvo_frame_reader_init(&b->server_reader, NVO_FRAME_MAX);
    double t0 = now_ms();
    b->client = nvo_channel_connect(b->loop, (struct sockaddr *) &b->addr,
                                    b->client_tls, &client_ops, b, &error);
    if (!b->client) {
        b->failed = true;
        return 0;
    }
    uv_run(b->loop, UV_RUN_DEFAULT);
    return now_ms() - t0;
}

static void
bench_disconnect(struct bench_chan *b)
{
    int want = b->released + 1 + (b->server != NULL);
    nvo_channel_close(b->client, false);
    nvo_channel_close(b->server, false);
    while (b->released < want) {
        uv_run(b->loop, UV_RUN_ONCE);
    }
    nvo_frame_reader_destroy(&b->client_reader);
    nvo_frame_reader_destroy(&b->server_reader);
}

static int
cmp_double(const void *a_, const void *b_)
{
    double a = *(const double *) a_, b = *(const double *) b_;
    return a < b ? -1 : a > b;
}

static double
percentile(double *v, int n, double p)
{
    qsort(v, n, sizeof *v, cmp_double);
    return v[MIN(n - 1, (int) (p * n))];
}

static int
bench_channel(const char *dir, int rounds, int handshakes)
{
    struct nvo_pki server_pki = {
        .private_key = xasprintf("%s/ctl-privkey.pem", dir),
        .certificate = xasprintf("%s/ctl-cert.pem", dir),
        .ca_cert = xasprintf("%s/pki/switchca/cacert.pem", dir),
    };
    struct nvo_pki client_pki = {
        .private_key = xasprintf("%s/hv-privkey.pem", dir),
        .certificate = xasprintf("%s/hv-cert.pem", dir),
        .ca_cert = xasprintf("%s/pki/controllerca/cacert.pem", dir),
    };
    char *err = NULL;
    struct nvo_tls_ctx *stls = nvo_tls_ctx_create(&server_pki,
                                                  NVO_TLS_SERVER, &err);
    struct nvo_tls_ctx *ctls = stls ? nvo_tls_ctx_create(&client_pki,
                                                         NVO_TLS_CLIENT,
                                                         &err) : NULL;
    if (!ctls) {
        fprintf(stderr, "bench-agent: %s\n", err);
        return 1;
    }
    struct nvo_model *m;
    struct nvo_hv_view *view = make_view(&m);

    struct bench_chan b = { .loop = uv_default_loop(), .view = view };
    uv_tcp_init(b.loop, &b.listener);
    b.listener.data = &b;
    struct sockaddr_in sin;
    uv_ip4_addr("127.0.0.1", 0, &sin);
    uv_tcp_bind(&b.listener, (struct sockaddr *) &sin, 0);
    uv_listen((uv_stream_t *) &b.listener, 128, bench_accept);
    int alen = sizeof b.addr;
    uv_tcp_getsockname(&b.listener, (struct sockaddr *) &b.addr, &alen);

    /* Rounds alternate between the modes so that load on the machine hits
     * both alike. */
    double *snap[2], *hs[2];
    double snap_cpu[2] = { 0, 0 }, hs_cpu[2] = { 0, 0 };
    for (int mode = 0; mode < 2; mode++) {
        snap[mode] = xmalloc(rounds * sizeof *snap[mode]);
        hs[mode] = xmalloc(handshakes * sizeof *hs[mode]);
    }
    /* Round 0 warms up (not counted). */
    for (int r = 0; r < rounds + 1; r++) {
        for (int mode = 0; mode < 2; mode++) {
            b.server_tls = mode ? stls : NULL;
            b.client_tls = mode ? ctls : NULL;
            bench_connect(&b);
            double t0 = now_ms(), c0 = cpu_ms();
            send_snapshot(&b);
            uv_run(b.loop, UV_RUN_DEFAULT);
            double t = now_ms() - t0;
            if (r) {
                snap_cpu[mode] += cpu_ms() - c0;
            }
            bench_disconnect(&b);
            if (b.failed) {
                return 1;
            }
            if (r) {
                snap[mode][r - 1] = t;
            }
        }
    }
    for (int h = 0; h < handshakes; h++) {
        for (int mode = 0; mode < 2; mode++) {
            b.server_tls = mode ? stls : NULL;
            b.client_tls = mode ? ctls : NULL;
            double c0 = cpu_ms();
            hs[mode][h] = bench_connect(&b);
            hs_cpu[mode] += cpu_ms() - c0;
            bench_disconnect(&b);
            if (b.failed) {
                return 1;
            }
        }
    }
    for (int mode = 0; mode < 2; mode++) {
        double s50 = percentile(snap[mode], rounds, 0.5);
        double s90 = percentile(snap[mode], rounds, 0.9);
        double h50 = percentile(hs[mode], handshakes, 0.5);
        double h90 = percentile(hs[mode], handshakes, 0.9);
        printf("%s %.3f %.3f %.3f %.3f %.3f %.3f %zu\n",
               mode ? "tls" : "plain", s50, s90, snap_cpu[mode] / rounds,
               h50, h90, hs_cpu[mode] / handshakes, b.frame_len);
        free(snap[mode]);
        free(hs[mode]);
    }
    uv_close((uv_handle_t *) &b.listener, NULL);
    uv_run(b.loop, UV_RUN_DEFAULT);
    nvo_tls_ctx_destroy(stls);
    nvo_tls_ctx_destroy(ctls);
    nvo_pki_destroy(&server_pki);
    nvo_pki_destroy(&client_pki);
    nvo_hv_view_destroy(view);
    nvo_model_destroy(m);
    return 0;
}

int
main(int argc, char *argv[])
{
    if (argc == 5 && !strcmp(argv[1], "channel")) {
        return bench_channel(argv[2], atoi(argv[3]), atoi(argv[4]));
    }
    if (argc == 3 && !strcmp(argv[1], "fdb")) {
        return bench_fdb(atoi(argv[2]));
    } else if (argc == 2 && !strcmp(argv[1], "snapshot")) {
        return bench_snapshot();
    }
    fprintf(stderr, "usage: bench-agent fdb N | bench-agent snapshot | "
            "bench-agent channel DIR ROUNDS HANDSHAKES\n");
    return 2;
}
