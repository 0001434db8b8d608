/* bench-floor.c - the physical floor for "programmed everywhere": one
 * OpenFlow 1.3 flow_mod plus a barrier sent to N switches in parallel from
 * one process, timed until the last barrier reply.
 *
 * Usage: bench-floor ROUNDS TARGET...   (e.g. unix:DIR/br-int.mgmt)
 * Prints "floor: N switches, R rounds: p50 X ms, p99 Y ms".
 *
 * Each round adds one flow (table 250, a distinct destination MAC, drop,
 * cookie 0xf1007) to every switch, then waits for every barrier reply; the
 * flows are deleted (by cookie) at the end.  nvo never touches them: their
 * cookie lacks its marker. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "byte-order.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vconn.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

#define FLOOR_COOKIE 0xf1007
#define FLOOR_TABLE 250

static struct ofpbuf *
flow_mod(int round, enum ofp_flow_mod_command cmd)
{
    struct match m;
    match_init_catchall(&m);
    if (cmd == OFPFC_ADD) {
        struct eth_addr mac = ETH_ADDR_C(02,f1,00,00,00,00);
        mac.ea[3] = round >> 16;
        mac.ea[4] = round >> 8;
        mac.ea[5] = round;
        match_set_dl_dst(&m, mac);
    }
    struct ofputil_flow_mod fm = {
        .priority = 1,
        .table_id = cmd == OFPFC_ADD ? FLOOR_TABLE : OFPTT_ALL,
        .command = cmd,
        .buffer_id = UINT32_MAX,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .new_cookie = cmd == OFPFC_ADD ? htonll(FLOOR_COOKIE) : OVS_BE64_MAX,
        .cookie = cmd == OFPFC_ADD ? 0 : htonll(FLOOR_COOKIE),
        .cookie_mask = cmd == OFPFC_ADD ? 0 : OVS_BE64_MAX,
    };
    minimatch_init(&fm.match, &m);
    struct ofpbuf *msg = ofputil_encode_flow_mod(&fm, OFPUTIL_P_OF13_OXM);
    minimatch_destroy(&fm.match);
    return msg;
}

static int
compare_ll(const void *a_, const void *b_)
{
    const long long int *a = a_, *b = b_;
    return (*a > *b) - (*a < *b);
}

/* Sends a flow_mod and a barrier to every switch, waits for every barrier
 * reply.  Returns 0 or an errno value. */
static int
round_trip(struct vconn **vconns, int n, int round,
           enum ofp_flow_mod_command cmd)
{
    ovs_be32 *xids = xcalloc(n, sizeof *xids);
    bool *done = xcalloc(n, sizeof *done);
    int left = n, error = 0;

    for (int i = 0; i < n; i++) {
        struct ofpbuf *barrier = ofputil_encode_barrier_request(
            OFP13_VERSION);
        xids[i] = ((struct ofp_header *) barrier->data)->xid;
        error = vconn_send_block(vconns[i], flow_mod(round, cmd));
        error = error ? error : vconn_send_block(vconns[i], barrier);
        if (error) {
            goto out;
        }
    }
    while (left) {
        for (int i = 0; i < n; i++) {
            if (done[i]) {
                continue;
            }
            vconn_run(vconns[i]);
            struct ofpbuf *reply;
            int retval;
            while (!done[i] && !(retval = vconn_recv(vconns[i], &reply))) {
                const struct ofp_header *oh = reply->data;
                enum ofptype type;
                if (!ofptype_decode(&type, oh)) {
                    if (type == OFPTYPE_ERROR) {
                        fprintf(stderr, "bench-floor: OpenFlow error from "
                                "switch %d\n", i);
                        error = EPROTO;
                    } else if (type == OFPTYPE_BARRIER_REPLY
                               && oh->xid == xids[i]) {
                        done[i] = true;
                        left--;
                    }
                }
                ofpbuf_delete(reply);
            }
            if (!done[i] && retval != EAGAIN) {
                error = retval;
                goto out;
            }
        }
        if (left) {
            for (int i = 0; i < n; i++) {
                if (!done[i]) {
                    vconn_run_wait(vconns[i]);
                    vconn_recv_wait(vconns[i]);
                }
            }
            poll_block();
        }
    }
out:
    free(xids);
    free(done);
    return error;
}

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_WARN);
    if (argc < 3) {
        fprintf(stderr, "usage: %s ROUNDS TARGET...\n", argv[0]);
        return 2;
    }
    int rounds = atoi(argv[1]);
    int n = argc - 2;
    if (rounds < 1 || rounds > 100000) {
        fprintf(stderr, "bench-floor: ROUNDS must be 1..100000\n");
        return 2;
    }
    struct vconn **vconns = xcalloc(n, sizeof *vconns);
    for (int i = 0; i < n; i++) {
        int error = vconn_open_block(argv[2 + i], 1u << OFP13_VERSION, 0,
                                     10000, &vconns[i]);
        if (error) {
            fprintf(stderr, "bench-floor: %s: %s\n", argv[2 + i],
                    ovs_strerror(error));
            return 1;
        }
    }

    long long int *us = xcalloc(rounds, sizeof *us);
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    for (int r = 0; r < rounds; r++) {
        long long int t0 = time_usec();
        int error = round_trip(vconns, n, r, OFPFC_ADD);
        if (error) {
            fprintf(stderr, "bench-floor: round %d: %s\n", r,
                    ovs_strerror(error));
            return 1;
        }
        us[r] = time_usec() - t0;
    }
    getrusage(RUSAGE_SELF, &ru1);
    double cpu_ms = ((ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec
                      + ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1e3
                     + (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec
                        + ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e3);
    round_trip(vconns, n, 0, OFPFC_DELETE);
    qsort(us, rounds, sizeof *us, compare_ll);
    int i50 = (rounds * 50 + 99) / 100 - 1, i99 = (rounds * 99 + 99) / 100 - 1;
    printf("floor: one flow_mod + barrier to %d switches in parallel, "
           "%d rounds: p50 %.1f ms, p99 %.1f ms, CPU %.2f ms per round\n",
           n, rounds, us[i50 < 0 ? 0 : i50] / 1000.0,
           us[i99 < 0 ? 0 : i99] / 1000.0, cpu_ms / rounds);
    for (int i = 0; i < n; i++) {
        vconn_close(vconns[i]);
    }
    free(vconns);
    free(us);
    return 0;
}
