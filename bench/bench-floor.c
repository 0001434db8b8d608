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
 * Usage: bench-floor tight ROUNDS TARGET...
 * The same rounds sent the cheapest way a controller could: per switch a
 * plain socket (tcp: with TCP_NODELAY, as OVS's streams), the flow_mod and
 * the barrier in one write, and epoll to read only the switches that have
 * something to say (the loop above polls every switch and reads each one
 * still awaited on every wake-up, as an OVS-style run loop does).  It
 * prints the same line with "one write each, epoll" in it.
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
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

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
#include "socket-util.h"
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

/* One switch of the tight floor: a plain blocking socket (writes of a
 * hundred bytes never block; reads are MSG_DONTWAIT, and only when epoll
 * says so) and the bytes read that are not a whole message yet. */
struct tight_switch {
    int fd;
    struct ofpbuf rx;
    ovs_be32 xid;               /* Of the barrier awaited this round. */
    bool done;                  /* Its barrier reply came this round. */
};

/* Connects to 'target' (tcp:IP[:PORT] or unix:PATH) and exchanges hellos
 * (OpenFlow 1.3).  Returns the socket (the caller closes it) or a negative
 * errno value. */
static int
tight_open(const char *target)
{
    int fd;
    if (!strncmp(target, "unix:", 5)) {
        fd = make_unix_socket(SOCK_STREAM, false, NULL, target + 5);
        if (fd < 0) {
            return fd;
        }
    } else if (!strncmp(target, "tcp:", 4)) {
        struct sockaddr_storage ss;
        if (!inet_parse_active(target + 4, OFP_PORT, &ss, false, NULL)) {
            return -EINVAL;
        }
        fd = socket(ss.ss_family, SOCK_STREAM, 0);
        if (fd < 0) {
            return -errno;
        }
        if (connect(fd, (struct sockaddr *) &ss, ss_length(&ss)) < 0) {
            int error = errno;
            close(fd);
            return -error;
        }
        setsockopt_tcp_nodelay(fd);
    } else {
        return -EAFNOSUPPORT;
    }

    struct ofpbuf *hello = ofputil_encode_hello(1u << OFP13_VERSION);
    size_t n;
    int error = write_fully(fd, hello->data, hello->size, &n);
    ofpbuf_delete(hello);
    struct ofp_header oh;
    if (!error) {
        error = read_fully(fd, &oh, sizeof oh, &n);
    }
    if (!error && (oh.type != 0 /* OFPT_HELLO in every version */
                   || oh.version < OFP13_VERSION
                   || ntohs(oh.length) < sizeof oh)) {
        error = EPROTO;
    }
    for (size_t left = error ? 0 : ntohs(oh.length) - sizeof oh; left; ) {
        char skip[256];
        size_t chunk = MIN(left, sizeof skip);
        error = read_fully(fd, skip, chunk, &n);
        if (error) {
            break;
        }
        left -= chunk;
    }
    if (error) {
        close(fd);
        return error == EOF ? -ECONNRESET : -error;
    }
    return fd;
}

/* Reads what switch 'sw' has sent and handles each whole message: the
 * barrier reply it awaits marks it done (one less in '*left'), an echo
 * request is answered, an error fails the round.  'target' names it.
 * Returns 0 or an errno value. */
static int
tight_read(struct tight_switch *sw, const char *target, int *left)
{
    for (;;) {
        ofpbuf_prealloc_tailroom(&sw->rx, 4096);
        ssize_t got = recv(sw->fd, ofpbuf_tail(&sw->rx), 4096, MSG_DONTWAIT);
        if (got < 0) {
            return errno == EAGAIN || errno == EINTR ? 0 : errno;
        } else if (!got) {
            fprintf(stderr, "bench-floor: %s: connection closed\n", target);
            return ECONNRESET;
        }
        sw->rx.size += got;
        while (sw->rx.size >= sizeof(struct ofp_header)) {
            const struct ofp_header *oh = sw->rx.data;
            size_t len = ntohs(oh->length);
            if (len < sizeof *oh) {
                return EPROTO;
            } else if (sw->rx.size < len) {
                break;
            }
            enum ofptype type;
            if (!ofptype_decode(&type, oh)) {
                if (type == OFPTYPE_ERROR) {
                    fprintf(stderr, "bench-floor: %s: OpenFlow error\n",
                            target);
                    return EPROTO;
                } else if (type == OFPTYPE_ECHO_REQUEST) {
                    struct ofpbuf *reply = ofputil_encode_echo_reply(oh);
                    size_t n;
                    int error = write_fully(sw->fd, reply->data,
                                            reply->size, &n);
                    ofpbuf_delete(reply);
                    if (error) {
                        return error;
                    }
                } else if (type == OFPTYPE_BARRIER_REPLY && !sw->done
                           && oh->xid == sw->xid) {
                    sw->done = true;
                    (*left)--;
                }
            }
            ofpbuf_pull(&sw->rx, len);
        }
        if (!sw->rx.size) {
            /* Drained: read into the start of the buffer again, not past
             * what was pulled (ofpbuf_prealloc_tailroom() keeps the
             * headroom, which would grow by every reply). */
            ofpbuf_clear(&sw->rx);
        }
        if ((size_t) got < 4096) {
            return 0;
        }
    }
}

/* round_trip() the tight way: one write per switch, then epoll until the
 * last barrier reply.  Returns 0 or an errno value. */
static int
tight_round_trip(int epfd, struct tight_switch *sws, char *targets[], int n,
                 int round, enum ofp_flow_mod_command cmd)
{
    for (int i = 0; i < n; i++) {
        struct ofpbuf *msg = flow_mod(round, cmd);
        struct ofpbuf *barrier = ofputil_encode_barrier_request(
            OFP13_VERSION);
        sws[i].xid = ((struct ofp_header *) barrier->data)->xid;
        sws[i].done = false;
        ofpbuf_put(msg, barrier->data, barrier->size);
        ofpbuf_delete(barrier);
        size_t n_written;
        int error = write_fully(sws[i].fd, msg->data, msg->size, &n_written);
        ofpbuf_delete(msg);
        if (error) {
            fprintf(stderr, "bench-floor: %s: %s\n", targets[i],
                    ovs_strerror(error));
            return error;
        }
    }
    long long int deadline = time_msec() + FLOOR_ROUND_TIMEOUT_MS;
    int left = n;
    while (left) {
        struct epoll_event evs[64];
        long long int wait = deadline - time_msec();
        int k = wait > 0 ? epoll_wait(epfd, evs, ARRAY_SIZE(evs), wait) : 0;
        if (k < 0 && errno != EINTR) {
            return errno;
        } else if (!k && time_msec() >= deadline) {
            for (int i = 0; i < n; i++) {
                if (!sws[i].done) {
                    fprintf(stderr, "bench-floor: %s: no barrier reply "
                            "within %d ms\n", targets[i],
                            FLOOR_ROUND_TIMEOUT_MS);
                    break;
                }
            }
            return ETIMEDOUT;
        }
        for (int j = 0; j < k; j++) {
            int i = evs[j].data.u32;
            int error = tight_read(&sws[i], targets[i], &left);
            if (error) {
                return error;
            }
        }
    }
    return 0;
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
    bool tight = argc >= 2 && !strcmp(argv[1], "tight");
    int a = tight ? 2 : 1;      /* argv[a] is ROUNDS, then the targets. */
    if (argc < a + 2) {
        fprintf(stderr, "usage: %s [tight] ROUNDS TARGET...\n"
                "       %s ages TARGET...\n", argv[0], argv[0]);
        return 2;
    }
    int rounds;
    int n = argc - a - 1;
    char **targets = argv + a + 1;
    if (!str_to_int(argv[a], 10, &rounds) || rounds < 1 || rounds > 100000) {
        fprintf(stderr, "bench-floor: ROUNDS must be 1..100000\n");
        return 2;
    }
    struct vconn **vconns = NULL;
    struct tight_switch *sws = NULL;
    int epfd = -1;
    if (tight) {
        epfd = epoll_create1(EPOLL_CLOEXEC);
        if (epfd < 0) {
            fprintf(stderr, "bench-floor: epoll_create1: %s\n",
                    ovs_strerror(errno));
            return 1;
        }
        sws = xcalloc(n, sizeof *sws);
        for (int i = 0; i < n; i++) {
            sws[i].fd = tight_open(targets[i]);
            struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
            if (sws[i].fd < 0
                || epoll_ctl(epfd, EPOLL_CTL_ADD, sws[i].fd, &ev) < 0) {
                fprintf(stderr, "bench-floor: %s: %s\n", targets[i],
                        ovs_strerror(sws[i].fd < 0 ? -sws[i].fd : errno));
                return 1;
            }
            ofpbuf_init(&sws[i].rx, 4096);
        }
    } else {
        vconns = xcalloc(n, sizeof *vconns);
        for (int i = 0; i < n; i++) {
            int error = vconn_open_block(targets[i], 1u << OFP13_VERSION, 0,
                                         10000, &vconns[i]);
            if (error) {
                fprintf(stderr, "bench-floor: %s: %s\n", targets[i],
                        ovs_strerror(error));
                return 1;
            }
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
        int error = (tight
                     ? tight_round_trip(epfd, sws, targets, n, r, OFPFC_ADD)
                     : round_trip(vconns, targets, n, r, OFPFC_ADD));
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
    int error = (tight
                 ? tight_round_trip(epfd, sws, targets, n, 0, OFPFC_DELETE)
                 : round_trip(vconns, targets, n, 0, OFPFC_DELETE));
    if (error) {
        /* The figures stand; the lab is torn down anyway. */
        fprintf(stderr, "bench-floor: deleting the floor's flows (cookie "
                "%#x) failed: %s\n", FLOOR_COOKIE, ovs_strerror(error));
    }
    qsort(us, rounds, sizeof *us, compare_ll);
    int i50 = (rounds * 50 + 99) / 100 - 1, i99 = (rounds * 99 + 99) / 100 - 1;
    printf("floor: one flow_mod + barrier to %d switches in parallel%s, "
           "%d rounds: p50 %.1f ms, p99 %.1f ms, CPU %.2f ms per round\n",
           n, tight ? ", one write each, epoll" : "", rounds,
           us[i50 < 0 ? 0 : i50] / 1000.0,
           us[i99 < 0 ? 0 : i99] / 1000.0, cpu_ms / rounds);
    for (int i = 0; i < n; i++) {
        if (tight) {
            close(sws[i].fd);
            ofpbuf_uninit(&sws[i].rx);
        } else {
            vconn_close(vconns[i]);
        }
    }
    if (epfd >= 0) {
        close(epfd);
    }
    free(sws);
    free(vconns);
    free(us);
    return 0;
}
