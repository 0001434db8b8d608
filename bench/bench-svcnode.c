/* bench-svcnode.c - replication rate of the service node on loopback, beside
 * the rate at which a plain sender's sendmmsg() emits the same copies on
 * the same machine in the same run (the limit).
 *
 * For each (inner frame size, fanout): svcnode serves VNI 1 on
 * 127.0.0.1:PORT with the sender 127.0.0.2 plus 'fanout' receivers
 * 127.0.1.1.. (bound, never read: the kernel drops what their buffers do
 * not hold, as for a slow VTEP; that cost is the same for both sides).
 * Rounds alternate on one thread, so both sides see the same machine load:
 *   1. (untimed) the sender fills svcnode's receive queue with packets;
 *   2. (timed) svcnode's loop drains and replicates them: packets in/s and
 *      copies out/s, from svcnode's own counters;
 *   3. (timed) a plain socket sendmmsg()s the same number of copies to the
 *      same receivers in batches: the reference copies/s.
 * The ratio is svcnode's copies/s over the reference's.
 *
 * Usage: bench-svcnode [SECONDS-PER-CASE]   (default 2) */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "agent/svcnode.h"
#include "agent/vxlan.h"
#include "openvswitch/vlog.h"

#define MAX_FANOUT 64
#define TX_BATCH 64             /* Sender's packets per sendmmsg(). */
#define REF_BATCH 512           /* Reference copies per sendmmsg(). */

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
udp_socket(uint32_t ip_host, uint16_t port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("socket");
        exit(1);
    }
    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_port = htons(port),
        .sin_addr.s_addr = htonl(ip_host),
    };
    if (bind(fd, (struct sockaddr *) &sin, sizeof sin)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The same send buffer svcnode asks for (agent/svcnode.c). */
static void
big_sndbuf(int fd)
{
    int size = 4 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size)) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
}

static uint32_t
receiver_ip(int i)
{
    return 0x7f000101 + i;      /* 127.0.1.1 + i */
}

/* Sends 'n' packets of 'len' bytes at 'pkt' to 'dst' in batches of
 * 'batch' over 'fd' (blocking); returns how many the kernel took. */
static uint64_t
send_n(int fd, const void *pkt, size_t len, const struct sockaddr_in *dsts,
       int n_dsts, uint64_t n, int batch)
{
    static struct mmsghdr msgs[REF_BATCH];
    struct iovec iov = { .iov_base = (void *) pkt, .iov_len = len };
    for (int i = 0; i < batch; i++) {
        msgs[i].msg_hdr = (struct msghdr) {
            .msg_name = (void *) &dsts[i % n_dsts],
            .msg_namelen = sizeof *dsts,
            .msg_iov = &iov, .msg_iovlen = 1,
        };
    }
    uint64_t sent = 0;
    while (sent < n) {
        /* Whole rounds of 'n_dsts' keep the destinations balanced. */
        int want = n - sent < (uint64_t) batch ? n - sent : batch;
        int r = sendmmsg(fd, msgs, want, 0);
        if (r <= 0) {
            break;
        }
        sent += r;
    }
    return sent;
}

static void
get_vni1(const struct svcnode_counters *c, void *aux)
{
    if (c->vni == 1) {
        *(struct svcnode_counters *) aux = *c;
    }
}

struct totals {
    double sn_seconds, ref_seconds;
    uint64_t in, out, ref_out, send_errors;
};

/* One round: fills svcnode's receive queue with up to 'k' packets (not
 * timed), times svcnode draining and replicating them on this thread, then
 * times a plain sendmmsg() of the same number of copies. */
static void
round_once(uv_loop_t *loop, struct svcnode *sn, int sender, int plain,
           const uint8_t *pkt, size_t len, uint16_t port, int fanout,
           uint64_t k, struct totals *t)
{
    struct sockaddr_in sn_addr = {
        .sin_family = AF_INET,
        .sin_port = htons(port),
        .sin_addr.s_addr = htonl(0x7f000001),
    };
    struct svcnode_counters c0 = { .vni = 0 }, c1 = { .vni = 0 };

    svcnode_foreach_counters(sn, get_vni1, &c0);
    send_n(sender, pkt, len, &sn_addr, 1, k, TX_BATCH);

    double t0 = now();
    uint64_t last = UINT64_MAX;
    for (;;) {
        uv_run(loop, UV_RUN_NOWAIT);
        svcnode_foreach_counters(sn, get_vni1, &c1);
        if (c1.in_packets == last) {
            break;              /* Queue drained. */
        }
        last = c1.in_packets;
    }
    t->sn_seconds += now() - t0;
    uint64_t in = c1.in_packets - c0.in_packets;
    uint64_t out = c1.out_packets - c0.out_packets;
    t->in += in;
    t->out += out;
    t->send_errors += c1.drop_send_error - c0.drop_send_error;

    static struct sockaddr_in dsts[MAX_FANOUT];
    for (int i = 0; i < fanout; i++) {
        dsts[i] = (struct sockaddr_in) {
            .sin_family = AF_INET,
            .sin_port = htons(port),
            .sin_addr.s_addr = htonl(receiver_ip(i)),
        };
    }
    t0 = now();
    t->ref_out += send_n(plain, pkt, len, dsts, fanout, in * fanout,
                         REF_BATCH / fanout * fanout);
    t->ref_seconds += now() - t0;
}

/* Interleaves svcnode and reference rounds for about 'seconds'. */
static void
measure(uint16_t port, int fanout, size_t inner, double seconds,
        struct totals *t)
{
    uv_loop_t loop;
    int error;

    memset(t, 0, sizeof *t);
    uv_loop_init(&loop);
    struct svcnode *sn = svcnode_create(&loop, "127.0.0.1", port, &error);
    if (!sn) {
        fprintf(stderr, "svcnode_create: %s\n", strerror(-error));
        exit(1);
    }
    struct in_addr vteps[MAX_FANOUT + 1];
    vteps[0].s_addr = htonl(0x7f000002);
    for (int i = 0; i < fanout; i++) {
        vteps[i + 1].s_addr = htonl(receiver_ip(i));
    }
    svcnode_set_vni(sn, 1, vteps, fanout + 1);

    int sender = udp_socket(0x7f000002, 0);
    int plain = udp_socket(0x7f000001, 0);
    big_sndbuf(sender);
    big_sndbuf(plain);
    size_t len = VXLAN_HDR_LEN + inner;
    uint8_t *pkt = calloc(1, len);
    vxlan_build(pkt, 1);
    memset(pkt + VXLAN_HDR_LEN, 0xff, 6);       /* Broadcast frame. */

    /* Short rounds (about 16,000 copies) interleave finely, so both sides
     * see the same load; k also stays below what a 4 MB receive buffer
     * holds. */
    uint64_t k = 16000 / fanout;
    double end = now() + seconds;
    round_once(&loop, sn, sender, plain, pkt, len, port, fanout, k, t);
    memset(t, 0, sizeof *t);                    /* That was the warm-up. */
    while (now() < end) {
        round_once(&loop, sn, sender, plain, pkt, len, port, fanout, k, t);
    }

    svcnode_destroy(sn);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    close(sender);
    close(plain);
    free(pkt);
}

int
main(int argc, char *argv[])
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    static const size_t inners[] = { 64, 1450 };
    static const int fanouts[] = { 8, 64 };

    signal(SIGPIPE, SIG_IGN);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_WARN);
    srand(time(NULL) ^ getpid());

    /* One port on which the svcnode address and every receiver are free. */
    uint16_t port = 0;
    int rx[MAX_FANOUT];
    for (int attempt = 0; attempt < 50 && !port; attempt++) {
        uint16_t p = 20000 + rand() % 40000;
        int ok = 1, n = 0, probe = udp_socket(0x7f000001, p);
        ok = probe >= 0;
        for (; ok && n < MAX_FANOUT; n++) {
            rx[n] = udp_socket(receiver_ip(n), p);
            ok = rx[n] >= 0;
        }
        if (probe >= 0) {
            close(probe);
        }
        if (ok) {
            port = p;
        } else {
            while (n-- > 0) {
                if (rx[n] >= 0) {
                    close(rx[n]);
                }
            }
        }
    }
    if (!port) {
        fprintf(stderr, "no free loopback port\n");
        return 1;
    }

    printf("svcnode replication on loopback, about %.1f s per case, "
           "%ld CPUs; svcnode and the reference alternate on one thread\n"
           "reference: plain sendmmsg() of the same number of copies to "
           "the same receivers\n",
           seconds, sysconf(_SC_NPROCESSORS_ONLN));
    printf("%6s %6s %14s %14s %16s %7s\n", "inner", "fanout",
           "svcnode in/s", "copies out/s", "plain copies/s", "ratio");
    for (size_t i = 0; i < sizeof inners / sizeof *inners; i++) {
        for (size_t j = 0; j < sizeof fanouts / sizeof *fanouts; j++) {
            struct totals t;
            measure(port, fanouts[j], inners[i], seconds, &t);
            double out = t.out / t.sn_seconds;
            double ref = t.ref_out / t.ref_seconds;
            printf("%6zu %6d %14.0f %14.0f %16.0f %7.2f%s\n",
                   inners[i], fanouts[j], t.in / t.sn_seconds, out, ref,
                   out / ref, t.send_errors ? "  (send errors!)" : "");
            fflush(stdout);
        }
    }
    for (int n = 0; n < MAX_FANOUT; n++) {
        close(rx[n]);
    }
    return 0;
}
