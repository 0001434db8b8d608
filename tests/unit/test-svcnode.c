/* test-svcnode.c - unit tests for the service node: the pure replication
 * decision (agent/svcnode-table.c) and the real socket path
 * (agent/svcnode.c) on loopback: svcnode bound on 127.0.0.1:PORT, VTEPs on
 * 127.0.0.2.. with the same PORT (127/8 is all loopback on Linux). */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "agent/svcnode-table.h"
#include "agent/svcnode.h"
#include "agent/vxlan.h"

static struct in_addr
ip(const char *s)
{
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, s, &a), 1);
    return a;
}

/* A 'len'-byte VXLAN packet for 'vni' whose inner bytes are 'fill'. */
static void
make_packet(uint8_t *buf, size_t len, uint32_t vni, uint8_t fill)
{
    memset(buf, fill, len);
    vxlan_build(buf, vni);
}

/* ---- The pure decision. ---- */

static void
table_with_4(struct svcnode_table *t)
{
    struct in_addr vteps[] = {
        ip("10.0.0.4"), ip("10.0.0.2"), ip("10.0.0.1"), ip("10.0.0.3"),
    };
    svcnode_table_init(t, ip("10.0.0.9").s_addr);
    assert_int_equal(svcnode_table_set(t, 100, vteps, 4), 0);
}

static void
test_fanout_never_back(void **state)
{
    (void) state;
    struct svcnode_table t;
    struct svcnode_decision d;
    uint8_t pkt[64];

    table_with_4(&t);
    make_packet(pkt, sizeof pkt, 100, 0);
    for (int s = 1; s <= 4; s++) {
        char src[16];
        snprintf(src, sizeof src, "10.0.0.%d", s);
        assert_int_equal(svcnode_decide(&t, pkt, sizeof pkt, ip(src).s_addr,
                                        &d), SVCNODE_FORWARD);
        assert_int_equal(d.vni, 100);
        assert_int_equal(svcnode_decision_n_dests(&d), 3);
        unsigned seen = 0;
        for (size_t i = 0; i < 3; i++) {
            uint32_t dst = ntohl(svcnode_decision_dest(&d, i));
            assert_int_not_equal(dst, ntohl(ip(src).s_addr));
            assert_true((dst & 0xffffff00) == 0x0a000000);
            seen |= 1u << (dst & 0xff);
        }
        /* Every other VTEP exactly once. */
        assert_int_equal(seen, 0x1e & ~(1u << s));
    }
    svcnode_table_destroy(&t);
}

static void
test_unknown_vni_and_stranger(void **state)
{
    (void) state;
    struct svcnode_table t;
    struct svcnode_decision d;
    uint8_t pkt[64];

    table_with_4(&t);
    make_packet(pkt, sizeof pkt, 101, 0);
    assert_int_equal(svcnode_decide(&t, pkt, sizeof pkt,
                                    ip("10.0.0.1").s_addr, &d),
                     SVCNODE_DROP_UNKNOWN_VNI);
    assert_null(d.entry);
    assert_int_equal(svcnode_decision_n_dests(&d), 0);

    make_packet(pkt, sizeof pkt, 100, 0);
    assert_int_equal(svcnode_decide(&t, pkt, sizeof pkt,
                                    ip("10.0.0.5").s_addr, &d),
                     SVCNODE_DROP_UNKNOWN_SOURCE);
    assert_int_equal(svcnode_decision_n_dests(&d), 0);
    /* The service node itself is no member either. */
    assert_int_equal(svcnode_decide(&t, pkt, sizeof pkt,
                                    ip("10.0.0.9").s_addr, &d),
                     SVCNODE_DROP_UNKNOWN_SOURCE);
    svcnode_table_destroy(&t);
}

static void
test_malformed(void **state)
{
    (void) state;
    struct svcnode_table t;
    struct svcnode_decision d;
    static uint8_t pkt[SVCNODE_MAX_PACKET + 1];
    uint32_t src = ip("10.0.0.1").s_addr;

    table_with_4(&t);
    make_packet(pkt, sizeof pkt, 100, 0);
    assert_int_equal(svcnode_decide(&t, pkt, VXLAN_MIN_LEN - 1, src, &d),
                     SVCNODE_DROP_SHORT);
    assert_int_equal(svcnode_decide(&t, pkt, SVCNODE_MAX_PACKET + 1, src, &d),
                     SVCNODE_DROP_TOO_LONG);
    assert_int_equal(svcnode_decide(&t, pkt, SVCNODE_MAX_PACKET, src, &d),
                     SVCNODE_FORWARD);
    pkt[0] = 0;
    assert_int_equal(svcnode_decide(&t, pkt, 64, src, &d),
                     SVCNODE_DROP_FLAGS);
    svcnode_table_destroy(&t);
}

static void
test_set_rules(void **state)
{
    (void) state;
    struct svcnode_table t;
    struct in_addr v[] = {
        ip("10.0.0.2"), ip("10.0.0.9"), ip("10.0.0.2"), ip("0.0.0.0"),
        ip("10.0.0.1"),
    };

    svcnode_table_init(&t, ip("10.0.0.9").s_addr);
    assert_int_equal(svcnode_table_set(&t, 0, v, 1), -EINVAL);
    assert_int_equal(svcnode_table_set(&t, 1u << 24, v, 1), -EINVAL);
    assert_int_equal(svcnode_table_set(&t, 7, v, SVCNODE_MAX_VTEPS + 1),
                     -E2BIG);
    assert_null(svcnode_table_find(&t, 7));

    /* Duplicates, 0.0.0.0 and our own address are dropped; sorted. */
    assert_int_equal(svcnode_table_set(&t, 7, v, 5), 0);
    struct svcnode_vni *e = svcnode_table_find(&t, 7);
    assert_non_null(e);
    assert_int_equal(e->n_vteps, 2);
    assert_int_equal(e->vteps[0], ip("10.0.0.1").s_addr);
    assert_int_equal(e->vteps[1], ip("10.0.0.2").s_addr);

    /* Counters survive a replacement, not a removal. */
    struct svcnode_decision d;
    uint8_t pkt[64];
    make_packet(pkt, sizeof pkt, 7, 0);
    svcnode_decide(&t, pkt, sizeof pkt, ip("10.0.0.1").s_addr, &d);
    svcnode_table_count(&t, &d);
    svcnode_decide(&t, pkt, sizeof pkt, ip("10.0.0.3").s_addr, &d);
    svcnode_table_count(&t, &d);
    assert_int_equal(svcnode_table_set(&t, 7, v, 1), 0);
    e = svcnode_table_find(&t, 7);
    assert_int_equal(e->n_vteps, 1);
    assert_int_equal(e->c.in_packets, 2);
    assert_int_equal(e->c.drop_unknown_source, 1);

    /* A lone member sends its packets nowhere. */
    assert_int_equal(svcnode_decide(&t, pkt, sizeof pkt,
                                    ip("10.0.0.2").s_addr, &d),
                     SVCNODE_FORWARD);
    assert_int_equal(svcnode_decision_n_dests(&d), 0);

    svcnode_table_remove(&t, 7);
    svcnode_table_remove(&t, 7);
    assert_null(svcnode_table_find(&t, 7));
    assert_int_equal(svcnode_decide(&t, pkt, sizeof pkt,
                                    ip("10.0.0.2").s_addr, &d),
                     SVCNODE_DROP_UNKNOWN_VNI);
    svcnode_table_count(&t, &d);
    assert_int_equal(t.none.in_packets, 1);
    assert_int_equal(t.none.drop_unknown_vni, 1);
    svcnode_table_destroy(&t);
}

static void
test_max_fanout(void **state)
{
    (void) state;
    struct svcnode_table t;
    struct svcnode_decision d;
    struct in_addr *v = malloc(SVCNODE_MAX_VTEPS * sizeof *v);
    uint8_t pkt[64];

    for (size_t i = 0; i < SVCNODE_MAX_VTEPS; i++) {
        v[i].s_addr = htonl(0xc6336400 + (SVCNODE_MAX_VTEPS - 1 - i) * 7);
    }
    svcnode_table_init(&t, 0);
    assert_int_equal(svcnode_table_set(&t, 42, v, SVCNODE_MAX_VTEPS), 0);
    make_packet(pkt, sizeof pkt, 42, 0);
    for (size_t s = 0; s < SVCNODE_MAX_VTEPS; s += 97) {
        assert_int_equal(svcnode_decide(&t, pkt, sizeof pkt, v[s].s_addr, &d),
                         SVCNODE_FORWARD);
        size_t n = svcnode_decision_n_dests(&d);
        assert_int_equal(n, SVCNODE_MAX_VTEPS - 1);
        for (size_t i = 0; i < n; i++) {
            assert_int_not_equal(svcnode_decision_dest(&d, i), v[s].s_addr);
        }
    }
    svcnode_table_destroy(&t);
    free(v);
}

/* ---- The socket path on loopback. ---- */

#define N_VTEPS 4               /* 127.0.0.2 .. 127.0.0.5 */

struct loopback {
    uv_loop_t loop;
    struct svcnode *sn;
    uint16_t port;
    int vteps[N_VTEPS];         /* Bound to 127.0.0.(2+i):port. */
    int stranger;               /* Bound to 127.0.0.9:port. */
};

struct counter_list {
    struct svcnode_counters c[8];
    int n;
};

static void
collect(const struct svcnode_counters *c, void *aux)
{
    struct counter_list *l = aux;
    assert_true(l->n < 8);
    l->c[l->n++] = *c;
}

static int
bind_udp(const char *addr, uint16_t port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    /* Room for a whole burst (the FORCE variant needs root). */
    int size = 4 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size)) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_port = htons(port),
        .sin_addr = ip(addr),
    };
    if (bind(fd, (struct sockaddr *) &sin, sizeof sin)) {
        close(fd);
        return -1;
    }
    return fd;
}

static int
loopback_setup(void **state)
{
    struct loopback *lb = calloc(1, sizeof *lb);
    uv_loop_init(&lb->loop);

    /* Try random ports until every address is free on one. */
    srand(time(NULL) ^ getpid());
    for (int attempt = 0; attempt < 50 && !lb->sn; attempt++) {
        uint16_t port = 20000 + rand() % 40000;
        int error, ok = 1;
        for (int i = 0; i < N_VTEPS; i++) {
            char a[16];
            snprintf(a, sizeof a, "127.0.0.%d", 2 + i);
            lb->vteps[i] = bind_udp(a, port);
            ok &= lb->vteps[i] >= 0;
        }
        lb->stranger = bind_udp("127.0.0.9", port);
        ok &= lb->stranger >= 0;
        if (ok) {
            lb->sn = svcnode_create(&lb->loop, "127.0.0.1", port, &error);
            lb->port = port;
        }
        if (!lb->sn) {
            for (int i = 0; i < N_VTEPS; i++) {
                if (lb->vteps[i] >= 0) {
                    close(lb->vteps[i]);
                }
            }
            if (lb->stranger >= 0) {
                close(lb->stranger);
            }
        }
    }
    assert_non_null(lb->sn);

    struct in_addr v[N_VTEPS];
    for (int i = 0; i < N_VTEPS; i++) {
        v[i].s_addr = htonl(0x7f000002 + i);
    }
    assert_int_equal(svcnode_set_vni(lb->sn, 100, v, N_VTEPS), 0);
    assert_int_equal(svcnode_set_vni(lb->sn, 200, v, 2), 0);
    *state = lb;
    return 0;
}

static int
loopback_teardown(void **state)
{
    struct loopback *lb = *state;
    svcnode_destroy(lb->sn);
    uv_run(&lb->loop, UV_RUN_DEFAULT);      /* Runs the close callbacks. */
    assert_int_equal(uv_loop_close(&lb->loop), 0);
    for (int i = 0; i < N_VTEPS; i++) {
        close(lb->vteps[i]);
    }
    close(lb->stranger);
    free(lb);
    return 0;
}

static void
send_to_svcnode(struct loopback *lb, int fd, const void *pkt, size_t len)
{
    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_port = htons(lb->port),
        .sin_addr = ip("127.0.0.1"),
    };
    assert_int_equal(sendto(fd, pkt, len, 0, (struct sockaddr *) &sin,
                            sizeof sin), (ssize_t) len);
}

/* Runs the loop for about 'ms' milliseconds, counting what each VTEP
 * socket receives in 'got' (checking each copy equals 'pkt'). */
static void
run_and_receive(struct loopback *lb, int ms, const uint8_t *pkt, size_t len,
                int got[N_VTEPS], int *stranger_got)
{
    uint8_t buf[SVCNODE_MAX_PACKET + 1];
    for (int t = 0; t < ms; t++) {
        uv_run(&lb->loop, UV_RUN_NOWAIT);
        for (int i = 0; i <= N_VTEPS; i++) {
            int fd = i < N_VTEPS ? lb->vteps[i] : lb->stranger;
            struct sockaddr_in from;
            socklen_t fromlen = sizeof from;
            ssize_t n;
            while ((n = recvfrom(fd, buf, sizeof buf, 0,
                                 (struct sockaddr *) &from, &fromlen)) >= 0) {
                assert_int_equal(n, len);
                assert_memory_equal(buf, pkt, len);
                assert_int_equal(from.sin_addr.s_addr, ip("127.0.0.1").s_addr);
                if (i < N_VTEPS) {
                    got[i]++;
                } else {
                    ++*stranger_got;
                }
            }
        }
        usleep(1000);
    }
}

static void
test_loopback_replication(void **state)
{
    struct loopback *lb = *state;
    uint8_t pkt[1458];
    int got[N_VTEPS] = { 0 }, stranger_got = 0;

    /* From 127.0.0.3 (VTEP 1): a copy each to .2, .4 and .5. */
    make_packet(pkt, sizeof pkt, 100, 0x5a);
    send_to_svcnode(lb, lb->vteps[1], pkt, sizeof pkt);
    run_and_receive(lb, 200, pkt, sizeof pkt, got, &stranger_got);
    assert_int_equal(got[0], 1);
    assert_int_equal(got[1], 0);
    assert_int_equal(got[2], 1);
    assert_int_equal(got[3], 1);
    assert_int_equal(stranger_got, 0);

    /* VNI 200 has only .2 and .3: from .2, one copy to .3. */
    memset(got, 0, sizeof got);
    make_packet(pkt, 64, 200, 0x11);
    send_to_svcnode(lb, lb->vteps[0], pkt, 64);
    run_and_receive(lb, 100, pkt, 64, got, &stranger_got);
    assert_int_equal(got[0], 0);
    assert_int_equal(got[1], 1);
    assert_int_equal(got[2] + got[3] + stranger_got, 0);

    /* A stranger, an unknown VNI and a bad header: nothing goes out. */
    memset(got, 0, sizeof got);
    make_packet(pkt, 64, 100, 0x22);
    send_to_svcnode(lb, lb->stranger, pkt, 64);
    make_packet(pkt, 64, 300, 0x22);
    send_to_svcnode(lb, lb->vteps[0], pkt, 64);
    pkt[0] = 0;
    send_to_svcnode(lb, lb->vteps[0], pkt, 64);
    send_to_svcnode(lb, lb->vteps[0], pkt, 10);
    run_and_receive(lb, 100, pkt, 64, got, &stranger_got);
    assert_int_equal(got[0] + got[1] + got[2] + got[3] + stranger_got, 0);

    struct counter_list l = { .n = 0 };
    svcnode_foreach_counters(lb->sn, collect, &l);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.c[0].vni, 100);
    assert_int_equal(l.c[0].in_packets, 2);
    assert_int_equal(l.c[0].out_packets, 3);
    assert_int_equal(l.c[0].drop_unknown_source, 1);
    assert_int_equal(l.c[1].vni, 200);
    assert_int_equal(l.c[1].in_packets, 1);
    assert_int_equal(l.c[1].out_packets, 1);
    assert_int_equal(l.c[2].vni, SVCNODE_VNI_NONE);
    assert_int_equal(l.c[2].in_packets, 3);
    assert_int_equal(l.c[2].drop_unknown_vni, 1);
    assert_int_equal(l.c[2].drop_flags, 1);
    assert_int_equal(l.c[2].drop_short, 1);

    /* Removing a VNI stops its replication. */
    svcnode_remove_vni(lb->sn, 200);
    make_packet(pkt, 64, 200, 0x33);
    send_to_svcnode(lb, lb->vteps[0], pkt, 64);
    run_and_receive(lb, 100, pkt, 64, got, &stranger_got);
    assert_int_equal(got[1], 0);
}

static void
test_loopback_burst(void **state)
{
    struct loopback *lb = *state;
    enum { N = 500 };   /* Without root (small buffers) use fewer. */
    uint8_t pkt[128];
    int got[N_VTEPS] = { 0 }, stranger_got = 0;

    /* A burst bigger than one receive batch: nothing lost, nothing extra. */
    make_packet(pkt, sizeof pkt, 100, 0x77);
    for (int i = 0; i < N; i++) {
        send_to_svcnode(lb, lb->vteps[3], pkt, sizeof pkt);
    }
    run_and_receive(lb, 300, pkt, sizeof pkt, got, &stranger_got);
    assert_int_equal(got[0], N);
    assert_int_equal(got[1], N);
    assert_int_equal(got[2], N);
    assert_int_equal(got[3], 0);

    struct counter_list l = { .n = 0 };
    svcnode_foreach_counters(lb->sn, collect, &l);
    assert_int_equal(l.c[0].in_packets, N);
    assert_int_equal(l.c[0].out_packets, 3 * N);
    assert_int_equal(l.c[0].drop_send_error, 0);
}

static void
test_create_errors(void **state)
{
    (void) state;
    uv_loop_t loop;
    int error = 0;

    uv_loop_init(&loop);
    assert_null(svcnode_create(&loop, "not-an-ip", 4789, &error));
    assert_int_equal(error, -EINVAL);
    /* 203.0.113.77 (TEST-NET-3) is on no interface here. */
    assert_null(svcnode_create(&loop, "203.0.113.77", 4789, &error));
    assert_int_equal(error, -EADDRNOTAVAIL);
    svcnode_destroy(NULL);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fanout_never_back),
        cmocka_unit_test(test_unknown_vni_and_stranger),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_set_rules),
        cmocka_unit_test(test_max_fanout),
        cmocka_unit_test_setup_teardown(test_loopback_replication,
                                        loopback_setup, loopback_teardown),
        cmocka_unit_test_setup_teardown(test_loopback_burst,
                                        loopback_setup, loopback_teardown),
        cmocka_unit_test(test_create_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
