/* test-rest-pipeline.c - pipelined writes read ahead
 * (controller/rest-pipeline.c), at its seams with rest.c: rest_handle()
 * (the request handling, mocked here: it records each shadow and answers
 * it at once or later) and rest_send() (the answer: a shadow's is kept,
 * h2o's request's recorded here). */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "controller/rest-pipeline.h"
#include "controller/rest-private.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

#define MAX_REQS 64

/* What the mocks saw. */
struct mock {
    h2o_req_t *handled[MAX_REQS];   /* Shadows, in handling order. */
    size_t n_handled;
    int sent_status[MAX_REQS];      /* Per h2o request (index in 'reals'),
                                     * 0 until answered. */
    char sent_body[MAX_REQS][64];
    h2o_req_t reals[MAX_REQS];      /* h2o's requests. */
};

static struct mock *cur;

/* A connection whose requests are h2o's (not shadows). */
static const h2o_conn_callbacks_t real_callbacks;

/* Bodies containing "fail" are answered at once (a failed check). */
void
rest_handle(struct nvo_rest *r, h2o_req_t *req)
{
    assert_true(cur->n_handled < MAX_REQS);
    cur->handled[cur->n_handled++] = req;
    if (req->entity.base && memmem(req->entity.base, req->entity.len,
                                   "fail", 4)) {
        rest_send(r, req, 409, "application/json", "{\"e\":1}", 7);
    }
}

void
rest_send(struct nvo_rest *r OVS_UNUSED, h2o_req_t *req, int status,
          const char *content_type, const char *body, size_t len)
{
    if (rest_pipeline_capture(req, status, content_type, body, len)) {
        return;
    }
    size_t i = req - cur->reals;
    assert_true(i < MAX_REQS);
    assert_int_equal(cur->sent_status[i], 0);
    cur->sent_status[i] = status;
    snprintf(cur->sent_body[i], sizeof cur->sent_body[i], "%.*s",
             (int) len, body);
}

/* Answers shadow 'i' (in handling order) later, as a commit would. */
static void
answer_later(struct nvo_rest *r, size_t i, int status, const char *body)
{
    rest_send(r, cur->handled[i], status, "application/json", body,
              strlen(body));
}

static struct nvo_rest *
setup(struct mock *m, struct rest_pipeline *pipe, h2o_conn_t *conn)
{
    memset(m, 0, sizeof *m);
    cur = m;
    struct nvo_rest *r = xzalloc(sizeof *r);
    rest_pipeline_init(pipe, r);
    memset(conn, 0, sizeof *conn);
    conn->callbacks = &real_callbacks;
    return r;
}

/* h2o's request 'i' (rest_pipeline_match() links shadows to it). */
static h2o_req_t *
real_req(h2o_conn_t *conn, size_t i)
{
    static h2o_ostream_t final;   /* Never sent to. */
    h2o_req_t *req = &cur->reals[i];
    h2o_init_request(req, conn, NULL);
    req->_ostr_top = &final;
    return req;
}

static void
post(struct ds *s, const char *path, const char *body, const char *extra)
{
    ds_put_format(s, "POST %s HTTP/1.1\r\nHost: x\r\n%s"
                  "Content-Type: application/json\r\n"
                  "Content-Length: %"PRIuSIZE"\r\n\r\n%s",
                  path, extra, strlen(body), body);
}

static void
test_in_order_each_when_answered(void **state OVS_UNUSED)
{
    struct mock m;
    struct rest_pipeline pipe;
    h2o_conn_t conn;
    struct nvo_rest *r = setup(&m, &pipe, &conn);
    struct ds in = DS_EMPTY_INITIALIZER;
    uint64_t at = 1000;             /* Stream offset of 'in'. */
    size_t starts[4];

    for (int i = 0; i < 4; i++) {
        starts[i] = in.length;
        char body[32];
        snprintf(body, sizeof body, "{\"n\":%d}", i);
        post(&in, "/v1/ports", body, i == 2 ? "Authorization: Bearer t\r\n"
                                            : "");
    }
    /* Request 0 (h2o's) waits for its commit: 1 to 3 are read ahead. */
    rest_pipeline_read_ahead(&pipe, in.string, in.length, at);
    assert_int_equal(m.n_handled, 3);
    assert_int_equal(pipe.n_shadows, 3);
    assert_int_equal(pipe.end, at + in.length);
    for (int i = 0; i < 3; i++) {
        h2o_req_t *sh = m.handled[i];
        char body[32];
        snprintf(body, sizeof body, "{\"n\":%d}", i + 1);
        assert_true(h2o_memis(sh->method.base, sh->method.len,
                              H2O_STRLIT("POST")));
        assert_true(h2o_memis(sh->path_normalized.base,
                              sh->path_normalized.len,
                              H2O_STRLIT("/v1/ports")));
        assert_true(h2o_memis(sh->entity.base, sh->entity.len, body,
                              strlen(body)));
        assert_int_not_equal(h2o_find_header(&sh->headers,
                                             H2O_TOKEN_CONTENT_TYPE, -1), -1);
        assert_int_equal(h2o_find_header(&sh->headers,
                                         H2O_TOKEN_AUTHORIZATION, -1) != -1,
                         i == 1);
    }
    /* Reading ahead again adds nothing. */
    rest_pipeline_read_ahead(&pipe, in.string, in.length, at);
    assert_int_equal(m.n_handled, 3);

    /* Request 2's commit comes first: kept until h2o gets there. */
    answer_later(r, 1, 201, "{\"n\":2}");
    /* h2o gets to request 1: not answered yet. */
    h2o_req_t *r1 = real_req(&conn, 1);
    assert_true(rest_pipeline_match(&pipe, r1, at + starts[1]));
    assert_int_equal(m.sent_status[1], 0);
    answer_later(r, 0, 201, "{\"n\":1}");
    assert_int_equal(m.sent_status[1], 201);
    assert_string_equal(m.sent_body[1], "{\"n\":1}");
    h2o_dispose_request(r1);
    assert_int_equal(pipe.n_shadows, 2);
    /* Request 2: answered at once from what was kept. */
    h2o_req_t *r2 = real_req(&conn, 2);
    assert_true(rest_pipeline_match(&pipe, r2, at + starts[2]));
    assert_int_equal(m.sent_status[2], 201);
    assert_string_equal(m.sent_body[2], "{\"n\":2}");
    h2o_dispose_request(r2);
    /* The connection closes before h2o gets to request 3. */
    assert_int_equal(pipe.n_shadows, 1);
    rest_pipeline_destroy(&pipe);
    ds_destroy(&in);
    free(r);
}

/* Request 0 of 'in' waits; returns how many requests after it are read
 * ahead. */
static size_t
n_read_ahead(const char *in)
{
    struct mock m;
    struct rest_pipeline pipe;
    h2o_conn_t conn;
    struct nvo_rest *r = setup(&m, &pipe, &conn);
    rest_pipeline_read_ahead(&pipe, in, strlen(in), 0);
    size_t n = pipe.n_shadows;
    assert_int_equal(m.n_handled, n);
    rest_pipeline_destroy(&pipe);
    free(r);
    return n;
}

static void
test_what_is_read_ahead(void **state OVS_UNUSED)
{
    static const struct {
        const char *head;       /* Of request 1 (request 2 is plain). */
        size_t n;               /* Requests read ahead. */
    } cases[] = {
        { "POST /v1/ports HTTP/1.1\r\n", 2 },
        { "PATCH /v1/ports/7 HTTP/1.1\r\n", 2 },
        { "DELETE /v1/networks/n HTTP/1.1\r\n", 2 },
        { "POST /v1/hypervisors/ HTTP/1.1\r\n", 2 },
        { "POST /v1/ports HTTP/1.1\r\nConnection: keep-alive\r\n", 2 },
        /* GETs must see the writes before them committed. */
        { "GET /v1/ports HTTP/1.1\r\n", 0 },
        /* Not a resource. */
        { "POST /v1/audit/repair HTTP/1.1\r\n", 0 },
        { "POST /v1/ports/../audit/repair HTTP/1.1\r\n", 0 },
        { "POST /v1/portsx HTTP/1.1\r\n", 0 },
        /* h2o ends the connection after it, or answers it itself. */
        { "POST /v1/ports HTTP/1.1\r\nConnection: close\r\n", 0 },
        { "POST /v1/ports HTTP/1.0\r\n", 0 },
        { "POST /v1/ports HTTP/1.1\r\nExpect: 100-continue\r\n", 0 },
        { "POST /v1/ports HTTP/1.1\r\nUpgrade: h2c\r\n", 0 },
    };
    static const char body[] = "{}";
    static const char second[] = "POST /v1/ports HTTP/1.1\r\n"
                                 "Content-Length: 2\r\n\r\n{}";

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ds in = DS_EMPTY_INITIALIZER;
        post(&in, "/v1/ports", body, "");
        ds_put_format(&in, "%sContent-Length: 2\r\n\r\n%s%s",
                      cases[i].head, body, second);
        size_t n = n_read_ahead(ds_cstr(&in));
        if (n != cases[i].n) {
            fail_msg("%s: %"PRIuSIZE" read ahead, expected %"PRIuSIZE,
                     cases[i].head, n, cases[i].n);
        }
        ds_destroy(&in);
    }

    /* The waiting request itself ends the connection: nothing. */
    struct ds in = DS_EMPTY_INITIALIZER;
    post(&in, "/v1/ports", body, "Connection: close\r\n");
    post(&in, "/v1/ports", body, "");
    assert_int_equal(n_read_ahead(ds_cstr(&in)), 0);
    /* Incomplete (body or head) in the buffer: not yet. */
    ds_clear(&in);
    post(&in, "/v1/ports", body, "");
    post(&in, "/v1/ports", body, "");
    for (size_t cut = 1; cut < sizeof second; cut++) {
        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_buffer(&s, in.string, in.length - cut);
        assert_int_equal(n_read_ahead(ds_cstr(&s)), 0);
        ds_destroy(&s);
    }
    assert_int_equal(n_read_ahead(ds_cstr(&in)), 1);
    /* Bounded per connection. */
    ds_clear(&in);
    for (int i = 0; i < NVO_REST_PIPELINE_MAX + 10; i++) {
        post(&in, "/v1/ports", body, "");
    }
    assert_int_equal(n_read_ahead(ds_cstr(&in)), NVO_REST_PIPELINE_MAX);
    ds_destroy(&in);
}

/* A shadow answered at once is dropped and stops the read-ahead: h2o
 * handles that request in turn. */
static void
test_answered_at_once_is_handled_again(void **state OVS_UNUSED)
{
    struct mock m;
    struct rest_pipeline pipe;
    h2o_conn_t conn;
    struct nvo_rest *r = setup(&m, &pipe, &conn);
    struct ds in = DS_EMPTY_INITIALIZER;
    size_t starts[4];
    static const char *const bodies[] = { "{}", "{}", "{\"fail\":1}", "{}" };

    for (int i = 0; i < 4; i++) {
        starts[i] = in.length;
        post(&in, "/v1/ports", bodies[i], "");
    }
    rest_pipeline_read_ahead(&pipe, in.string, in.length, 0);
    assert_int_equal(m.n_handled, 2);       /* 1, and 2 dropped. */
    assert_int_equal(pipe.n_shadows, 1);
    assert_int_equal(pipe.end, starts[2]);

    h2o_req_t *r1 = real_req(&conn, 1);
    assert_true(rest_pipeline_match(&pipe, r1, starts[1]));
    /* Request 2 was not read ahead: h2o's own handling answers it. */
    h2o_req_t *r2 = real_req(&conn, 2);
    assert_false(rest_pipeline_match(&pipe, r2, starts[2]));
    assert_int_equal(m.sent_status[2], 0);
    /* Waiting, request 2 reads ahead from its end. */
    rest_pipeline_read_ahead(&pipe, in.string + starts[2],
                             in.length - starts[2], starts[2]);
    assert_int_equal(m.n_handled, 3);
    assert_int_equal(pipe.end, in.length);
    answer_later(r, 0, 201, "{}");
    assert_int_equal(m.sent_status[1], 201);
    h2o_dispose_request(r1);
    h2o_dispose_request(r2);
    rest_pipeline_destroy(&pipe);
    assert_int_equal(pipe.n_shadows, 0);
    ds_destroy(&in);
    free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_each_when_answered),
        cmocka_unit_test(test_what_is_read_ahead),
        cmocka_unit_test(test_answered_at_once_is_handled_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
