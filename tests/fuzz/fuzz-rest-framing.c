/* fuzz-rest-framing.c - libFuzzer target for the REST framing check
 * (controller/rest-framing.c), which sees every byte a client sends before
 * h2o does.  The first input byte picks a split size; the rest is the
 * byte stream.  Fed whole or in pieces of that size, the stream must give
 * the same verdict at the same offset, and a refused request's start lies
 * within what was fed. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "controller/rest-framing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum rest_framing_refusal
feed(const char *s, size_t n, size_t piece, uint64_t *start)
{
    struct rest_framing rf;
    enum rest_framing_refusal why = RF_OK;

    rest_framing_init(&rf);
    for (size_t i = 0; i < n; i += piece) {
        size_t k = n - i < piece ? n - i : piece;
        enum rest_framing_refusal w = rest_framing_feed(&rf, s + i, k);
        if (w != RF_OK) {
            if (why != RF_OK) {
                abort();        /* A refusal is reported once. */
            }
            why = w;
        }
    }
    if (rf.pos != n || (why != RF_OK) != (rf.state == RF_REFUSED)) {
        abort();
    }
    *start = rf.head_start;
    if (why != RF_OK && (*start > n || !rest_framing_status(why)
                         || !*rest_framing_message(why))) {
        abort();
    }
    rest_framing_destroy(&rf);
    return why;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) {
        return 0;
    }
    size_t piece = data[0] ? data[0] : 1;
    const char *s = (const char *) data + 1;
    size_t n = size - 1;

    uint64_t start_whole, start_split;
    enum rest_framing_refusal whole = feed(s, n, n ? n : 1, &start_whole);
    enum rest_framing_refusal split = feed(s, n, piece, &start_split);
    if (whole != split || (whole != RF_OK && start_whole != start_split)) {
        abort();
    }
    return 0;
}
