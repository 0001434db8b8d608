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
 * called here on every frame. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>

#include "lib/frame.h"
#include "lib/proto-msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
                /* Whatever validates must re-encode. */
                size_t flen;
                int error;
                free(nvo_msg_encode(m, &flen, &error));
            }
            free(err);
            nvo_msg_free(m);
        }
    }
    nvo_frame_reader_destroy(&r);
    return 0;
}
