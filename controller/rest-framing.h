/* rest-framing.h - an HTTP/1.1 request framing check in front of h2o.
 *
 * h2o 2.2.5 frames a request body by the first Content-Length header and
 * ignores any further one, so a request with two different lengths would
 * be read one way by h2o and possibly another way by a proxy in front of
 * it: request smuggling.  This module follows the byte stream of one
 * connection (request heads and Content-Length bodies, as h2o frames them)
 * and reports the first request h2o must not see:
 *
 *   - two Content-Length headers with different values (or one that is
 *     not a decimal number),
 *   - Transfer-Encoding (the API takes Content-Length bodies only; with
 *     a Content-Length too it is the classic smuggling vector),
 *   - a request line or header line h2o's parser would reject, a head
 *     longer than NVO_RF_MAX_HEAD or with more than NVO_RF_MAX_HEADERS
 *     header lines: h2o 2.2.5 answers those with a fixed plain-text 400
 *     written straight to the socket; refusing them here gives them the
 *     API's JSON error shape.
 *
 * States:
 *
 *   RF_HEAD --(head complete, framing acceptable)--> RF_BODY or RF_HEAD
 *   RF_BODY --(Content-Length bytes consumed)--> RF_HEAD
 *   RF_HEAD --(line or head refused)--> RF_REFUSED (final)
 *
 * [Owner: REST (secrest).] */
#ifndef NVO_REST_FRAMING_H
#define NVO_REST_FRAMING_H 1

#include <stddef.h>
#include <stdint.h>

#include "openvswitch/dynamic-string.h"

/* Longest request head accepted (431 above); h2o's own limit,
 * H2O_MAX_REQLEN, is larger. */
#define NVO_RF_MAX_HEAD (64 * 1024)
/* Most header lines accepted (431 above): h2o's H2O_MAX_HEADERS. */
#define NVO_RF_MAX_HEADERS 100

enum rest_framing_state {
    RF_HEAD,
    RF_BODY,
    RF_REFUSED,
};

enum rest_framing_refusal {
    RF_OK,
    RF_CONFLICTING_LENGTH,      /* 400 */
    RF_BAD_LENGTH,              /* 400 */
    RF_TRANSFER_ENCODING,       /* 411 */
    RF_MALFORMED,               /* 400 */
    RF_HEAD_TOO_LARGE,          /* 431 */
};

struct rest_framing {
    enum rest_framing_state state;
    uint64_t pos;               /* Stream offset of the next byte fed. */
    uint64_t head_start;        /* Stream offset of the current head. */
    struct ds head;             /* The current head so far. */
    size_t checked;             /* Bytes of 'head' in checked lines. */
    size_t n_lines;             /* Lines of 'head' checked. */
    int n_empty;                /* Empty lines before this head. */
    uint64_t body_left;         /* RF_BODY: bytes still to skip. */
    enum rest_framing_refusal why;  /* RF_REFUSED: why. */
};

void rest_framing_init(struct rest_framing *);
void rest_framing_destroy(struct rest_framing *);

/* Follows 'n' more bytes of the stream.  Returns RF_OK, or (once) the
 * reason the request starting at stream offset rf->head_start is refused;
 * after that the state is RF_REFUSED and further bytes are ignored. */
enum rest_framing_refusal rest_framing_feed(struct rest_framing *,
                                            const char *data, size_t n);

/* HTTP status and message for a refusal. */
int rest_framing_status(enum rest_framing_refusal);
const char *rest_framing_message(enum rest_framing_refusal);

#endif /* controller/rest-framing.h */
