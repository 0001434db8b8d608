/* metrics.h - counters behind GET /metrics (Prometheus text format). */
#ifndef NVO_METRICS_H
#define NVO_METRICS_H 1

#include <stddef.h>
#include <stdint.h>

struct ds;
struct nvo_ctl;

enum nvo_metrics_method {
    NVO_M_GET, NVO_M_POST, NVO_M_PATCH, NVO_M_DELETE, NVO_M_OTHER,
    NVO_M_N
};

#define NVO_METRICS_MIN_STATUS 100
#define NVO_METRICS_MAX_STATUS 599

struct nvo_metrics {
    /* Answered requests by method and status (index status - 100). */
    uint64_t requests[NVO_M_N][NVO_METRICS_MAX_STATUS
                               - NVO_METRICS_MIN_STATUS + 1];
};

/* Counts one answered request with 'method' (not NUL-terminated, 'len'
 * bytes) and 'status'. */
void nvo_metrics_count(struct nvo_metrics *, const char *method, size_t len,
                       int status);

/* Appends to 'out' every metric: requests by method and status, rows per
 * table, the store revision, hypervisors by connection state. */
void nvo_metrics_render(const struct nvo_metrics *, struct nvo_ctl *,
                        struct ds *out);

#endif /* controller/metrics.h */
