/* Unit tests: lib/frame.c (length-prefixed framing) and lib/proto-msg.c
 * (encode, decode, validation). */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/frame.h"
#include "lib/proto-msg.h"
#include "util.h"

static uint8_t *
encode_hello(const char *name, uint32_t version, size_t *len)
{
    Nvo__Message m = NVO__MESSAGE__INIT;
    Nvo__Hello h = NVO__HELLO__INIT;
    h.protocol_version = version;
    h.name = (char *) name;
    h.tunnel_ip = (char *) "192.0.2.1";
    h.dataplane = NVO__DATAPLANE__DATAPLANE_KERNEL;
    h.role = NVO__ROLE__ROLE_HYPERVISOR;
    h.software_version = (char *) "0.1.0";
    m.body_case = NVO__MESSAGE__BODY_HELLO;
    m.hello = &h;
    int error;
    uint8_t *frame = nvo_msg_encode(&m, len, &error);
    assert_non_null(frame);
    assert_int_equal(error, 0);
    return frame;
}

static void
test_round_trip(void **state OVS_UNUSED)
{
    size_t len;
    uint8_t *frame = encode_hello("hv1", NVO_PROTO_VERSION, &len);
    const uint8_t *payload;
    size_t plen, flen;
    assert_int_equal(nvo_frame_parse(frame, len, NVO_FRAME_MAX, &payload,
                                     &plen, &flen), 0);
    assert_int_equal(flen, len);
    assert_int_equal(plen, len - 4);
    char *err = NULL;
    Nvo__Message *m = nvo_msg_decode(payload, plen, &err);
    assert_non_null(m);
    assert_int_equal(m->body_case, NVO__MESSAGE__BODY_HELLO);
    assert_string_equal(m->hello->name, "hv1");
    assert_int_equal(m->hello->protocol_version, NVO_PROTO_VERSION);
    nvo_msg_free(m);
    free(frame);
}

/* Frames delivered one byte at a time, and two frames in one feed. */
static void
test_reader_reassembly(void **state OVS_UNUSED)
{
    size_t l1, l2;
    uint8_t *f1 = encode_hello("a", 1, &l1), *f2 = encode_hello("bb", 1, &l2);
    struct nvo_frame_reader r;
    const uint8_t *p;
    size_t plen;

    nvo_frame_reader_init(&r, NVO_FRAME_MAX);
    for (size_t i = 0; i < l1 - 1; i++) {
        assert_int_equal(nvo_frame_reader_feed(&r, &f1[i], 1), 0);
        assert_int_equal(nvo_frame_reader_next(&r, &p, &plen), 0);
    }
    assert_int_equal(nvo_frame_reader_feed(&r, &f1[l1 - 1], 1), 0);
    assert_int_equal(nvo_frame_reader_next(&r, &p, &plen), 1);
    assert_int_equal(plen, l1 - 4);
    assert_memory_equal(p, f1 + 4, plen);
    assert_int_equal(nvo_frame_reader_pending(&r), 0);

    uint8_t *both = xmalloc(l1 + l2);
    memcpy(both, f1, l1);
    memcpy(both + l1, f2, l2);
    assert_int_equal(nvo_frame_reader_feed(&r, both, l1 + l2), 0);
    assert_int_equal(nvo_frame_reader_next(&r, &p, &plen), 1);
    assert_int_equal(plen, l1 - 4);
    assert_int_equal(nvo_frame_reader_next(&r, &p, &plen), 1);
    assert_int_equal(plen, l2 - 4);
    assert_memory_equal(p, f2 + 4, plen);
    assert_int_equal(nvo_frame_reader_next(&r, &p, &plen), 0);
    nvo_frame_reader_destroy(&r);
    free(both);
    free(f1);
    free(f2);
}

static void
test_truncated(void **state OVS_UNUSED)
{
    size_t len;
    uint8_t *frame = encode_hello("hv1", 1, &len);
    const uint8_t *p;
    size_t plen, flen;
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(nvo_frame_parse(frame, i, NVO_FRAME_MAX, &p, &plen,
                                         &flen), -EAGAIN);
    }
    /* A truncated payload that still says it is complete fails to decode
     * or to validate. */
    char *err = NULL;
    for (size_t i = 4; i < len - 1; i++) {
        Nvo__Message *m = nvo_msg_decode(frame + 4, i - 4, &err);
        assert_null(m);
        assert_non_null(err);
        free(err);
        err = NULL;
    }
    struct nvo_frame_reader r;
    nvo_frame_reader_init(&r, NVO_FRAME_MAX);
    nvo_frame_reader_feed(&r, frame, len - 1);
    assert_int_equal(nvo_frame_reader_next(&r, &p, &plen), 0);
    assert_int_equal(nvo_frame_reader_pending(&r), len - 1);
    nvo_frame_reader_destroy(&r);
    free(frame);
}

static void
test_oversized(void **state OVS_UNUSED)
{
    uint8_t hdr[4];
    const uint8_t *p;
    size_t plen, flen;
    nvo_frame_put_header(hdr, NVO_FRAME_MAX + 1);
    assert_int_equal(nvo_frame_parse(hdr, 4, NVO_FRAME_MAX, &p, &plen, &flen),
                     -EMSGSIZE);
    nvo_frame_put_header(hdr, NVO_FRAME_MAX);
    assert_int_equal(nvo_frame_parse(hdr, 4, NVO_FRAME_MAX, &p, &plen, &flen),
                     -EAGAIN);

    /* The reader refuses at the header, before buffering the body, and
     * stays failed. */
    struct nvo_frame_reader r;
    nvo_frame_reader_init(&r, 1000);
    nvo_frame_put_header(hdr, 1001);
    assert_int_equal(nvo_frame_reader_feed(&r, hdr, 4), -EMSGSIZE);
    assert_int_equal(nvo_frame_reader_next(&r, &p, &plen), -EMSGSIZE);
    assert_int_equal(nvo_frame_reader_feed(&r, "x", 1), -EMSGSIZE);
    nvo_frame_reader_destroy(&r);

    /* Encoding refuses a message above the maximum. */
    Nvo__Message m = NVO__MESSAGE__INIT;
    Nvo__Error e = NVO__ERROR__INIT;
    char *big = xmalloc(NVO_FRAME_MAX + 1);
    memset(big, 'a', NVO_FRAME_MAX);
    big[NVO_FRAME_MAX] = '\0';
    e.message = big;
    m.body_case = NVO__MESSAGE__BODY_ERROR;
    m.error = &e;
    size_t len;
    int error;
    assert_null(nvo_msg_encode(&m, &len, &error));
    assert_int_equal(error, -EMSGSIZE);
    free(big);
}

static void
test_garbage(void **state OVS_UNUSED)
{
    static const uint8_t junk[][8] = {
        { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
        { 0x0a, 0x05, 0x01, 0x02 },                 /* Short submessage. */
        { 0x00 },                                   /* Field number 0. */
    };
    for (size_t i = 0; i < ARRAY_SIZE(junk); i++) {
        char *err = NULL;
        assert_null(nvo_msg_decode(junk[i], sizeof junk[i], &err));
        assert_non_null(err);
        free(err);
    }
    /* An empty message parses but has no body: refused. */
    char *err = NULL;
    assert_null(nvo_msg_decode((const uint8_t *) "", 0, &err));
    assert_non_null(strstr(err, "without a body"));
    free(err);
}

/* Validation: a well-formed protobuf with bad contents is refused. */
static void
test_validation(void **state OVS_UNUSED)
{
    Nvo__Message m = NVO__MESSAGE__INIT;
    Nvo__Snapshot s = NVO__SNAPSHOT__INIT;
    Nvo__Network net = NVO__NETWORK__INIT;
    Nvo__Network *nets[] = { &net };
    Nvo__RemoteMac rm = NVO__REMOTE_MAC__INIT;
    Nvo__RemoteMac *rms[] = { &rm };
    uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
    char *err = NULL;

    m.body_case = NVO__MESSAGE__BODY_SNAPSHOT;
    m.snapshot = &s;
    s.seq = 1;
    s.networks = nets;
    s.n_networks = 1;
    net.vni = 100;
    net.name = (char *) "net1";
    net.remotes = rms;
    net.n_remotes = 1;
    rm.mac.data = mac;
    rm.mac.len = 6;
    rm.vtep_ip = (char *) "192.0.2.2";
    assert_int_equal(nvo_msg_validate(&m, &err), 0);

    /* Network names follow the REST rule (lib/valid.h). */
    net.name = (char *) "";
    assert_int_equal(nvo_msg_validate(&m, &err), -EPROTO);
    free(err);
    net.name = (char *) "net 1";
    assert_int_equal(nvo_msg_validate(&m, &err), -EPROTO);
    free(err);
    net.name = (char *) "net1";

    rm.vtep_ip = (char *) "192.0.2.300";
    assert_int_equal(nvo_msg_validate(&m, &err), -EPROTO);
    free(err);
    rm.vtep_ip = (char *) "192.0.2.2";

    rm.mac.len = 5;
    assert_int_equal(nvo_msg_validate(&m, &err), -EPROTO);
    free(err);
    rm.mac.len = 6;

    net.vni = 16777216;
    assert_int_equal(nvo_msg_validate(&m, &err), -EPROTO);
    free(err);
    net.vni = 100;

    s.seq = 0;
    assert_int_equal(nvo_msg_validate(&m, &err), -EPROTO);
    free(err);

    assert_true(nvo_valid_ifname("tap0"));
    assert_false(nvo_valid_ifname("a/b"));
    assert_false(nvo_valid_ifname("0123456789abcdef"));
    assert_false(nvo_valid_ifname(""));
}

/* A hello decodes with the REST contract's name rule: a name of
 * NVO_NAME_MAX characters (what POST /v1/hypervisors accepts) passes, one
 * more, or a character REST refuses, does not. */
static void
test_hello_name_limit(void **state OVS_UNUSED)
{
    char name[NVO_NAME_MAX + 2];
    const char *bad[] = { name, "", "hv 1", "hv/1", "h\xc3\xa9" };

    memset(name, 'h', NVO_NAME_MAX);
    name[NVO_NAME_MAX] = '\0';
    for (int i = 0; i < 1 + (int) ARRAY_SIZE(bad); i++) {
        const char *n = i ? bad[i - 1] : name;
        if (i == 1) {
            name[NVO_NAME_MAX] = 'h';       /* 65 characters. */
            name[NVO_NAME_MAX + 1] = '\0';
        }
        size_t len;
        uint8_t *frame = encode_hello(n, NVO_PROTO_VERSION, &len);
        char *err = NULL;
        Nvo__Message *m = nvo_msg_decode(frame + NVO_FRAME_HDR_LEN,
                                         len - NVO_FRAME_HDR_LEN, &err);
        if (!i) {
            assert_non_null(m);
            assert_int_equal(strlen(m->hello->name), NVO_NAME_MAX);
        } else {
            assert_null(m);
            assert_non_null(strstr(err, "hypervisor name must be 1 to 64"));
        }
        nvo_msg_free(m);
        free(err);
        free(frame);
    }
}

/* Wire helpers for hand-made payloads. */
static size_t
put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    do {
        p[n++] = (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
        v >>= 7;
    } while (v);
    return n;
}

/* A Message whose body field 'body' (a message) holds 'n' copies of the
 * length-delimited field 'field' with 'elem' (elem_len bytes) inside.
 * Returns the payload (caller frees) and its length in '*len'. */
static uint8_t *
repeated_payload(uint32_t body, uint32_t field, const uint8_t *elem,
                 size_t elem_len, size_t n, size_t *len)
{
    size_t one = 1 + 5 + elem_len;
    uint8_t *inner = xmalloc(n * one + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        inner[k++] = (field << 3) | 2;
        k += put_varint(inner + k, elem_len);
        if (elem_len) {         /* memcpy(dst, NULL, 0) is undefined. */
            memcpy(inner + k, elem, elem_len);
            k += elem_len;
        }
    }
    uint8_t *out = xmalloc(k + 16);
    size_t m = 0;
    out[m++] = (body << 3) | 2;
    m += put_varint(out + m, k);
    memcpy(out + m, inner, k);
    free(inner);
    *len = m + k;
    return out;
}

static void
expect_refused(const uint8_t *p, size_t len,
               const struct nvo_msg_limits *limits, const char *why)
{
    char *err = NULL;
    Nvo__Message *m = nvo_msg_decode_limited(p, len, limits, &err);
    assert_null(m);
    assert_non_null(err);
    if (!strstr(err, why)) {
        fail_msg("'%s' lacks '%s'", err, why);
    }
    free(err);
}

static void
test_precheck_heartbeat(void **state OVS_UNUSED)
{
    /* Millions of empty counters: 2 bytes each on the wire, ~50 decoded
     * (the 190 MiB heartbeat).  Refused before decoding, at any count
     * above the limit; exactly the limit decodes. */
    size_t len;
    uint8_t *p = repeated_payload(NVO__MESSAGE__BODY_HEARTBEAT, 2, NULL, 0,
                                  NVO_MSG_MAX_COUNTERS + 1, &len);
    expect_refused(p, len, &nvo_msg_from_agent,
                   "more than 16384 elements in repeated field 2");
    free(p);
    p = repeated_payload(NVO__MESSAGE__BODY_HEARTBEAT, 2, NULL, 0,
                         2090000, &len);
    assert_true(len > 4000000 && len <= NVO_FRAME_MAX);
    expect_refused(p, len, &nvo_msg_from_agent, "more than 16384");
    free(p);
    p = repeated_payload(NVO__MESSAGE__BODY_HEARTBEAT, 2, NULL, 0,
                         NVO_MSG_MAX_COUNTERS, &len);
    char *err = NULL;
    Nvo__Message *m = nvo_msg_decode_limited(p, len, &nvo_msg_from_agent,
                                             &err);
    assert_non_null(m);
    assert_int_equal(m->heartbeat->n_counters, NVO_MSG_MAX_COUNTERS);
    nvo_msg_free(m);
    free(p);

    /* Drop reasons inside one counter. */
    uint8_t counter[(1 + 1 + 0) * (NVO_MSG_MAX_DROPS + 1)];
    for (size_t i = 0; i <= NVO_MSG_MAX_DROPS; i++) {
        counter[2 * i] = (4 << 3) | 2;
        counter[2 * i + 1] = 0;
    }
    p = repeated_payload(NVO__MESSAGE__BODY_HEARTBEAT, 2, counter,
                         sizeof counter, 1, &len);
    expect_refused(p, len, &nvo_msg_from_agent,
                   "more than 16 elements in repeated field 4");
    free(p);
}

static void
test_precheck_fields(void **state OVS_UNUSED)
{
    /* Unknown fields cost memory too: a hello of 300000 unknown varints. */
    size_t n = 300000, k = 0;
    uint8_t *inner = xmalloc(2 * n);
    for (size_t i = 0; i < n; i++) {
        inner[k++] = (15 << 3) | 0;
        inner[k++] = 1;
    }
    uint8_t *p = xmalloc(k + 16);
    size_t len = 0;
    p[len++] = (NVO__MESSAGE__BODY_HELLO << 3) | 2;
    len += put_varint(p + len, k);
    memcpy(p + len, inner, k);
    len += k;
    free(inner);
    expect_refused(p, len, &nvo_msg_from_agent, "more than 262144 fields");
    free(p);

    /* Ack errors. */
    p = repeated_payload(NVO__MESSAGE__BODY_ACK, 2, NULL, 0,
                         NVO_MSG_MAX_ERRORS + 1, &len);
    expect_refused(p, len, &nvo_msg_from_agent, "more than 4096 elements");
    free(p);

    /* Packed removed VNIs in a delta (agent side). */
    size_t nv = NVO_MSG_MAX_REMOVED + 1;
    uint8_t *vnis = xmalloc(nv);
    memset(vnis, 1, nv);
    p = repeated_payload(NVO__MESSAGE__BODY_DELTA, 5, vnis, nv, 1, &len);
    expect_refused(p, len, &nvo_msg_from_controller,
                   "more than 16384 elements in repeated field 5");
    free(p);
    free(vnis);

    /* What a side never receives is refused before decoding. */
    p = repeated_payload(NVO__MESSAGE__BODY_SNAPSHOT, 5, NULL, 0, 1, &len);
    expect_refused(p, len, &nvo_msg_from_agent, "message type 2 not accepted");
    free(p);
    size_t hlen;
    uint8_t *hello = encode_hello("hv1", NVO_PROTO_VERSION, &hlen);
    expect_refused(hello + NVO_FRAME_HDR_LEN, hlen - NVO_FRAME_HDR_LEN,
                   &nvo_msg_from_controller, "message type 1 not accepted");
    char *err = NULL;
    Nvo__Message *m = nvo_msg_decode_limited(hello + NVO_FRAME_HDR_LEN,
                                             hlen - NVO_FRAME_HDR_LEN,
                                             &nvo_msg_from_agent, &err);
    assert_non_null(m);
    nvo_msg_free(m);
    free(hello);

    /* Malformed wire data. */
    static const uint8_t bad[] = { (4 << 3) | 2, 0x80 };
    expect_refused(bad, sizeof bad, &nvo_msg_from_agent, "bad length");
    static const uint8_t group[] = { (4 << 3) | 3 };
    expect_refused(group, sizeof group, &nvo_msg_from_agent,
                   "unsupported wire type 3");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_hello_name_limit),
        cmocka_unit_test(test_reader_reassembly),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_precheck_heartbeat),
        cmocka_unit_test(test_precheck_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
