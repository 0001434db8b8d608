/* frame.h - length-prefixed framing for the controller <-> agent protocol.
 *
 * A frame is a 4-byte big-endian payload length followed by the payload
 * (one protobuf-encoded nvo.Message).  Lengths above NVO_FRAME_MAX are a
 * protocol error: the reader refuses them before buffering anything, so a
 * peer cannot make us allocate more than NVO_FRAME_MAX + a read buffer.
 *
 * The reader is a pure byte-stream reassembler (no I/O): feed it what the
 * socket gave, then take complete frames out with nvo_frame_reader_next(). */
#ifndef NVO_FRAME_H
#define NVO_FRAME_H 1

#include <stddef.h>
#include <stdint.h>

#define NVO_FRAME_HDR_LEN 4
#define NVO_FRAME_MAX (4u << 20)  /* 4 MiB: 100 nets x 100 remotes ~ 300 kB. */

/* Writes the 4-byte header for a 'len'-byte payload into 'hdr'. */
void nvo_frame_put_header(uint8_t hdr[NVO_FRAME_HDR_LEN], uint32_t len);

/* Parses one frame at the start of 'data' ('len' bytes) with limit 'max'.
 * Returns 0 and sets '*payload' (pointing into 'data', borrowed) and
 * '*payload_len' and '*frame_len' (header + payload) if a whole frame is
 * there; -EAGAIN if more bytes are needed; -EMSGSIZE if the announced
 * length exceeds 'max'. */
int nvo_frame_parse(const uint8_t *data, size_t len, uint32_t max,
                    const uint8_t **payload, size_t *payload_len,
                    size_t *frame_len);

struct nvo_frame_reader {
    uint8_t *buf;               /* Owned. */
    size_t start;               /* First unconsumed byte. */
    size_t len;                 /* End of buffered bytes. */
    size_t cap;
    uint32_t max;               /* Largest acceptable payload. */
    int error;                  /* Sticky: once oversized, stays failed. */
};

void nvo_frame_reader_init(struct nvo_frame_reader *, uint32_t max);
void nvo_frame_reader_destroy(struct nvo_frame_reader *);

/* Appends 'n' bytes.  Returns 0, or -EMSGSIZE (sticky) if a frame header
 * already buffered announces more than 'max'. */
int nvo_frame_reader_feed(struct nvo_frame_reader *, const void *data,
                          size_t n);

/* Takes the next complete frame.  Returns 1 and sets '*payload' (borrowed,
 * valid until the next feed/next call) and '*len'; 0 if no complete frame
 * is buffered; -EMSGSIZE if the next frame is oversized (sticky). */
int nvo_frame_reader_next(struct nvo_frame_reader *, const uint8_t **payload,
                          size_t *len);

/* Bytes buffered but not yet returned as frames (a partial frame at EOF
 * means the peer truncated it). */
size_t nvo_frame_reader_pending(const struct nvo_frame_reader *);

#endif /* lib/frame.h */
