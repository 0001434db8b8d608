/* fuzz-frame.c - libFuzzer target: the agent-protocol decoder (framing,
 * wire pre-check, protobuf, validation) on arbitrary bytes, fed as a
 * stream in two parts to exercise reassembly.
 *
 * This is the path every received byte takes, plain or TLS: lib/channel.c
 * hands the plaintext it decrypted to the same nvo_frame_reader_feed() /
 * nvo_frame_reader_next() loop (controller/agent-server.c conn_recv(),
 * agent/agent-conn.c sock_recv()), whose payloads go to
 * nvo_msg_decode_limited() with nvo_msg_from_agent (controller side, via
 * agent_session_receive()) or nvo_msg_from_controller (agent side), both
 * called here on every frame.  Every message that decodes and validates
 * must re-encode into one frame whose payload decodes and validates again
 * and re-encodes to the same bytes (a fixed point): aborts otherwise. */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/frame.h"
#include "lib/proto-msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encodes 'm' (decoded from a payload of 'len' bytes) and checks the frame:
 * it exists, its header announces its payload, the payload decodes and
 * validates, and encoding that again gives the same bytes. */
static void
check_reencodes(const Nvo__Message *m, size_t len)
{
    size_t flen, flen2;
    int error = 0, error2 = 0;
    uint8_t *f = nvo_msg_encode(m, &flen, &error);
    if (!f) {
        /* A payload that fit in one frame re-encodes no larger. */
        if (len + NVO_FRAME_HDR_LEN <= NVO_FRAME_MAX || error != -EMSGSIZE) {
            abort();
        }
        return;
    }
    if (flen < NVO_FRAME_HDR_LEN) {
        abort();
    }

    struct nvo_frame_reader r;
    const uint8_t *payload;
    size_t plen;
    nvo_frame_reader_init(&r, NVO_FRAME_MAX);
    if (nvo_frame_reader_feed(&r, f, flen)
        || nvo_frame_reader_next(&r, &payload, &plen) <= 0
        || plen != flen - NVO_FRAME_HDR_LEN) {
        abort();
    }
    char *err = NULL;
    Nvo__Message *m2 = nvo_msg_decode(payload, plen, &err);
    if (!m2) {
        abort();
    }
    uint8_t *f2 = nvo_msg_encode(m2, &flen2, &error2);
    if (!f2 || flen2 != flen || memcmp(f, f2, flen)) {
        abort();
    }
    free(f2);
    nvo_msg_free(m2);
    nvo_frame_reader_destroy(&r);
    free(f);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nvo_frame_reader r;
    size_t split = size ? data[0] % (size + 1) : 0;

    nvo_frame_reader_init(&r, 1 << 16);
    for (int part = 0; part < 2; part++) {
        const uint8_t *p = part ? data + split : data;
        size_t n = part ? size - split : split;
        if (nvo_frame_reader_feed(&r, p, n)) {
            break;
        }
        const uint8_t *payload;
        size_t len;
        while (nvo_frame_reader_next(&r, &payload, &len) > 0) {
            for (int side = 0; side < 2; side++) {
                char *err = NULL;
                Nvo__Message *m = nvo_msg_decode_limited(
                    payload, len, side ? &nvo_msg_from_controller
                                       : &nvo_msg_from_agent, &err);
                free(err);
                nvo_msg_free(m);
            }
            char *err = NULL;
            Nvo__Message *m = nvo_msg_decode(payload, len, &err);
            if (m) {
                check_reencodes(m, len);
            }
            free(err);
            nvo_msg_free(m);
        }
    }
    nvo_frame_reader_destroy(&r);
    return 0;
}
