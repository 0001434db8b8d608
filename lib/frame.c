#include <config.h>
#include "lib/frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void
nvo_frame_put_header(uint8_t hdr[NVO_FRAME_HDR_LEN], uint32_t len)
{
    hdr[0] = len >> 24;
    hdr[1] = len >> 16;
    hdr[2] = len >> 8;
    hdr[3] = len;
}

int
nvo_frame_parse(const uint8_t *data, size_t len, uint32_t max,
                const uint8_t **payload, size_t *payload_len,
                size_t *frame_len)
{
    if (len < NVO_FRAME_HDR_LEN) {
        return -EAGAIN;
    }
    uint32_t n = ((uint32_t) data[0] << 24) | ((uint32_t) data[1] << 16)
                 | ((uint32_t) data[2] << 8) | data[3];
    if (n > max) {
        return -EMSGSIZE;
    }
    if (len - NVO_FRAME_HDR_LEN < n) {
        return -EAGAIN;
    }
    *payload = data + NVO_FRAME_HDR_LEN;
    *payload_len = n;
    *frame_len = NVO_FRAME_HDR_LEN + (size_t) n;
    return 0;
}

void
nvo_frame_reader_init(struct nvo_frame_reader *r, uint32_t max)
{
    memset(r, 0, sizeof *r);
    r->max = max;
}

void
nvo_frame_reader_destroy(struct nvo_frame_reader *r)
{
    if (r) {
        free(r->buf);
        r->buf = NULL;
        r->start = r->len = r->cap = 0;
    }
}

/* Checks the header of the frame at r->start, if complete. */
static int
reader_check(struct nvo_frame_reader *r)
{
    const uint8_t *p;
    size_t plen, flen;
    int error = nvo_frame_parse(r->buf + r->start, r->len - r->start, r->max,
                                &p, &plen, &flen);
    if (error == -EMSGSIZE) {
        r->error = error;
    }
    return r->error;
}

int
nvo_frame_reader_feed(struct nvo_frame_reader *r, const void *data, size_t n)
{
    if (r->error) {
        return r->error;
    }
    if (!n) {
        return 0;
    }
    if (r->start) {
        /* Compact: drop consumed frames. */
        memmove(r->buf, r->buf + r->start, r->len - r->start);
        r->len -= r->start;
        r->start = 0;
    }
    if (r->len + n > r->cap) {
        size_t cap = MAX(r->cap * 2, r->len + n);
        cap = MAX(cap, 4096);
        r->buf = xrealloc(r->buf, cap);
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data, n);
    r->len += n;
    return reader_check(r);
}

int
nvo_frame_reader_next(struct nvo_frame_reader *r, const uint8_t **payload,
                      size_t *len)
{
    if (r->error) {
        return r->error;
    }
    if (r->len == r->start) {
        return 0;
    }
    size_t flen;
    int error = nvo_frame_parse(r->buf + r->start, r->len - r->start, r->max,
                                payload, len, &flen);
    if (error == -EAGAIN) {
        return 0;
    } else if (error) {
        r->error = error;
        return error;
    }
    r->start += flen;
    return 1;
}

size_t
nvo_frame_reader_pending(const struct nvo_frame_reader *r)
{
    return r->len - r->start;
}
