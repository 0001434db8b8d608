/* test-rest-framing.c - the REST request framing check
 * (controller/rest-framing.c). */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "controller/rest-framing.h"
#include "openvswitch/compiler.h"

/* Feeds 's' in pieces of 'piece' bytes; returns the verdict and sets
 * '*start' to the refused request's offset. */
static enum rest_framing_refusal
run(const char *s, size_t piece, uint64_t *start)
{
    struct rest_framing rf;
    enum rest_framing_refusal why = RF_OK;
    size_t n = strlen(s);

    rest_framing_init(&rf);
    for (size_t i = 0; i < n; i += piece) {
        size_t k = n - i < piece ? n - i : piece;
        enum rest_framing_refusal w = rest_framing_feed(&rf, s + i, k);
        if (w != RF_OK) {
            assert_int_equal(why, RF_OK);
            why = w;
        }
    }
    assert_int_equal(rf.pos, n);
    *start = rf.head_start;
    rest_framing_destroy(&rf);
    return why;
}

/* Checks 's' gives 'want' (refused request at 'at') in every piece size. */
static void
check(const char *s, enum rest_framing_refusal want, uint64_t at)
{
    for (size_t piece = 1; piece <= strlen(s) + 1; piece++) {
        uint64_t start;
        enum rest_framing_refusal got = run(s, piece, &start);
        if (got != want) {
            print_error("\"%s\" in pieces of %zu: %d\n", s, piece, got);
        }
        assert_int_equal(got, want);
        if (want != RF_OK) {
            assert_int_equal(start, at);
        }
    }
}

#define POST "POST /v1/ports HTTP/1.1\r\nContent-Type: application/json\r\n"

static void
test_accepts(void **state OVS_UNUSED)
{
    check("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", RF_OK, 0);
    check("GET / HTTP/1.0\n\n", RF_OK, 0);
    /* Equal duplicates are harmless; one empty line between requests. */
    check(POST "Content-Length: 2\r\ncontent-length:  2 \r\n\r\n{}\r\n"
          "GET / HTTP/1.1\r\n\r\n", RF_OK, 0);
    /* A body that looks like a bad head is skipped as a body. */
    check(POST "Content-Length: 12\r\n\r\nGARBAGE\r\n\r\n\r"
          "GET / HTTP/1.1\r\n\r\n", RF_OK, 0);
    check("GET /\xc3\xa9 HTTP/1.1\r\nX-Tab: a\tb\r\n\r\n", RF_OK, 0);
}

static void
test_refuses(void **state OVS_UNUSED)
{
    static const char first[] = "GET /healthz HTTP/1.1\r\n\r\n";
    char buf[512];

    check(POST "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x",
          RF_CONFLICTING_LENGTH, 0);
    snprintf(buf, sizeof buf, "%s" POST "Content-Length: 1\r\n"
             "Content-Length: 30\r\n\r\n{}", first);
    check(buf, RF_CONFLICTING_LENGTH, strlen(first));
    check(POST "Content-Length: 2x\r\n\r\n{}", RF_BAD_LENGTH, 0);
    check(POST "Content-Length: \r\n\r\n", RF_BAD_LENGTH, 0);
    check(POST "Content-Length: 99999999999999999999\r\n\r\n", RF_BAD_LENGTH,
          0);
    check(POST "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
          RF_TRANSFER_ENCODING, 0);
    check(POST "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
          RF_TRANSFER_ENCODING, 0);
    check("GARBAGE\r\n\r\n", RF_MALFORMED, 0);
    check("GET /healthz\r\n\r\n", RF_MALFORMED, 0);
    check("GET / HTTP/2.0\r\n\r\n", RF_MALFORMED, 0);
    check("GET / HTTP/1.1\r\nNo colon here\r\n\r\n", RF_MALFORMED, 0);
    check("GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n", RF_MALFORMED, 0);
    check("GET / HTTP/1.1\r\n folded: x\r\n\r\n", RF_MALFORMED, 0);
    check("\r\n\r\nGET / HTTP/1.1\r\n\r\n", RF_MALFORMED, 3);
    /* Refused as soon as the bad line is complete, before the head ends. */
    uint64_t start;
    assert_int_equal(run("GARBAGE\r\nHost: x\r\n", 1000, &start),
                     RF_MALFORMED);
}

static void
test_limits(void **state OVS_UNUSED)
{
    struct rest_framing rf;
    char line[64];
    uint64_t start;

    /* Too many header lines. */
    rest_framing_init(&rf);
    const char *req = "GET / HTTP/1.1\r\n";
    assert_int_equal(rest_framing_feed(&rf, req, strlen(req)), RF_OK);
    enum rest_framing_refusal why = RF_OK;
    for (int i = 0; i < NVO_RF_MAX_HEADERS + 1 && why == RF_OK; i++) {
        snprintf(line, sizeof line, "X-%d: y\r\n", i);
        why = rest_framing_feed(&rf, line, strlen(line));
    }
    assert_int_equal(why, RF_HEAD_TOO_LARGE);
    assert_int_equal(rest_framing_status(why), 431);
    rest_framing_destroy(&rf);

    /* A head longer than NVO_RF_MAX_HEAD without its end. */
    rest_framing_init(&rf);
    static char big[NVO_RF_MAX_HEAD + 100];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /", 5);
    assert_int_equal(rest_framing_feed(&rf, big, sizeof big),
                     RF_HEAD_TOO_LARGE);
    assert_int_equal(rf.head_start, 0);
    /* Afterwards everything is ignored. */
    assert_int_equal(rest_framing_feed(&rf, "GET / HTTP/1.1\r\n\r\n", 18),
                     RF_OK);
    assert_int_equal(rf.pos, sizeof big + 18);
    rest_framing_destroy(&rf);
    (void) start;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_refuses),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
