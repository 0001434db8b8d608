/* bench-floor.c - the physical floor for "programmed everywhere": one
 * OpenFlow 1.3 flow_mod plus a barrier sent to N switches in parallel from
 * one process, timed until the last barrier reply.
 *
 * Usage: bench-floor ROUNDS TARGET...   (e.g. unix:DIR/br-int.mgmt, or
 * tcp:IP:6653 as nvo-controller connects to its switches)
 * Prints "floor: one flow_mod + barrier to N switches in parallel, R
 * rounds: p50 X ms, p99 Y ms, CPU Z ms per round", Z this process's CPU
 * time over the rounds (all threads, /proc/self/task/TID/schedstat: as
 * bench-scale.sh measures nvo-controller's CPU per VM start) divided by R.
 *
 * Each round adds one flow (table 250, a distinct destination MAC, drop,
 * cookie 0xf1007) to every switch, then waits for every barrier reply
 * (a round that takes over 30 s fails, naming a silent switch); the flows
 * are deleted (by cookie) at the end.  nvo never touches them: their
 * cookie lacks its marker.
 *
 * Usage: bench-floor ages TARGET...
 * The switches' own account of when nvo's VM port flows (cookie
 * 0x6e1.../0xfff...) were installed: one flow-stats request per switch,
 * and per flow "I COOKIE EARLIEST LATEST", I the target's position
 * (1-based), EARLIEST and LATEST the wall-clock bounds (ms since the epoch,
 * microsecond digits) of its installation: the time of the request and of
 * the first reply, each minus the flow's age (its duration). */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A round whose barrier replies have not all come by then fails, naming
 * the first switch still silent, rather than hanging the benchmark. */
#define FLOOR_ROUND_TIMEOUT_MS 30000

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

/* Returns the CPU time (ns) every thread of this process has used so far,
 * the sum of the first field of /proc/self/task/TID/schedstat, or -1 if it
 * cannot be read. */
static long long int
process_cpu_ns(void)
{
    DIR *dir = opendir("/proc/self/task");
    if (!dir) {
        return -1;
    }
    long long int sum = 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        char *path = xasprintf("/proc/self/task/%s/schedstat", de->d_name);
        FILE *f = fopen(path, "r");
        free(path);
        long long int ns;
        if (f && fscanf(f, "%lld", &ns) == 1) {
            sum += ns;
            n++;
        }
        if (f) {
            fclose(f);
        }
    }
    closedir(dir);
    return n ? sum : -1;
}

static int
compare_ll(const void *a_, const void *b_)
{
    const long long int *a = a_, *b = b_;
    return (*a > *b) - (*a < *b);
}

/* Sends a flow_mod and a barrier to every switch, waits for every barrier
 * reply (FLOOR_ROUND_TIMEOUT_MS at most).  'targets' names the switches,
 * for errors.  Returns 0 or an errno value. */
static int
round_trip(struct vconn **vconns, char *targets[], int n, int round,
           enum ofp_flow_mod_command cmd)
{
    ovs_be32 *xids = xcalloc(n, sizeof *xids);
    bool *done = xcalloc(n, sizeof *done);
    int left = n, error = 0;
    long long int deadline = time_msec() + FLOOR_ROUND_TIMEOUT_MS;

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
                        fprintf(stderr, "bench-floor: %s: OpenFlow error\n",
                                targets[i]);
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
        if (left && time_msec() >= deadline) {
            for (int i = 0; i < n; i++) {
                if (!done[i]) {
                    fprintf(stderr, "bench-floor: %s: no barrier reply "
                            "within %d ms\n", targets[i],
                            FLOOR_ROUND_TIMEOUT_MS);
                    break;
                }
            }
            error = ETIMEDOUT;
            goto out;
        }
        if (left) {
            for (int i = 0; i < n; i++) {
                if (!done[i]) {
                    vconn_run_wait(vconns[i]);
                    vconn_recv_wait(vconns[i]);
                }
            }
            poll_timer_wait_until(deadline);
            poll_block();
        }
    }
out:
    free(xids);
    free(done);
    return error;
}

/* Prints the installation window of every VM port flow of 'target' (the
 * I-th).  Returns 0 or an errno value. */
static int
print_ages(int i, const char *target)
{
    struct vconn *vconn;
    int error = vconn_open_block(target, 1u << OFP13_VERSION, 0, 10000,
                                 &vconn);
    if (error) {
        return error;
    }
    struct ofputil_flow_stats_request fsr = {
        .aggregate = false,
        .cookie = htonll(UINT64_C(0x6e10000000000000)),
        .cookie_mask = htonll(UINT64_C(0xfff0000000000000)),
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .table_id = OFPTT_ALL,
    };
    match_init_catchall(&fsr.match);
    struct ofpbuf *request = ofputil_encode_flow_stats_request(
        &fsr, OFPUTIL_P_OF13_OXM);
    ovs_be32 xid = ((struct ofp_header *) request->data)->xid;
    long long int sent = time_wall_usec(), first = 0;
    error = vconn_send_block(vconn, request);
    for (bool more = true; !error && more; ) {
        struct ofpbuf *reply;
        error = vconn_recv_block(vconn, &reply);
        if (error) {
            break;
        }
        const struct ofp_header *oh = reply->data;
        enum ofptype type;
        if (oh->xid == xid && !ofptype_decode(&type, oh)
            && type == OFPTYPE_FLOW_STATS_REPLY) {
            first = first ? first : time_wall_usec();
            struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
            uint64_t stub[1024 / 8];
            struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
            struct ofputil_flow_stats fs;
            while (!ofputil_decode_flow_stats_reply(&fs, &b, false,
                                                    &ofpacts)) {
                long long int age = (fs.duration_sec * 1000000LL
                                     + fs.duration_nsec / 1000);
                printf("%d 0x%016"PRIx64" %.3f %.3f\n", i,
                       ntohll(fs.cookie), (sent - age) / 1000.0,
                       (first - age) / 1000.0);
            }
            ofpbuf_uninit(&ofpacts);
            more = ofpmp_more(oh);
        } else if (oh->xid == xid) {
            error = EPROTO;
        }
        ofpbuf_delete(reply);
    }
    vconn_close(vconn);
    return error;
}

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_WARN);
    if (argc >= 3 && !strcmp(argv[1], "ages")) {
        for (int i = 2; i < argc; i++) {
            int error = print_ages(i - 1, argv[i]);
            if (error) {
                fprintf(stderr, "bench-floor: %s: %s\n", argv[i],
                        ovs_strerror(error));
                return 1;
            }
        }
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: %s ROUNDS TARGET...\n", argv[0]);
        return 2;
    }
    int rounds;
    int n = argc - 2;
    if (!str_to_int(argv[1], 10, &rounds) || rounds < 1 || rounds > 100000) {
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
    long long int cpu0 = process_cpu_ns();
    if (cpu0 < 0) {
        fprintf(stderr, "bench-floor: /proc/self/task/*/schedstat: "
                "unreadable\n");
        return 1;
    }
    for (int r = 0; r < rounds; r++) {
        long long int t0 = time_usec();
        int error = round_trip(vconns, argv + 2, n, r, OFPFC_ADD);
        if (error) {
            fprintf(stderr, "bench-floor: round %d: %s\n", r,
                    ovs_strerror(error));
            return 1;
        }
        us[r] = time_usec() - t0;
    }
    long long int cpu1 = process_cpu_ns();
    if (cpu1 < 0) {
        fprintf(stderr, "bench-floor: /proc/self/task/*/schedstat: "
                "unreadable\n");
        return 1;
    }
    double cpu_ms = (cpu1 - cpu0) / 1e6;
    int error = round_trip(vconns, argv + 2, n, 0, OFPFC_DELETE);
    if (error) {
        /* The figures stand; the lab is torn down anyway. */
        fprintf(stderr, "bench-floor: deleting the floor's flows (cookie "
                "%#x) failed: %s\n", FLOOR_COOKIE, ovs_strerror(error));
    }
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
