/* test-nvoctl.c - nvoctl's argument parsing and table rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvoctl/args.h"
#include "nvoctl/table.h"

/* --- argument parsing ---------------------------------------------------- */

/* The environment the parser sees, as a NULL-terminated NAME=VALUE list. */
struct fake_env {
    const char *vars[4];
};

static const struct fake_env *the_env;

static const char *
fake_getenv(const char *name)
{
    for (size_t i = 0; the_env && the_env->vars[i]; i++) {
        size_t n = strlen(name);
        if (!strncmp(the_env->vars[i], name, n)
            && the_env->vars[i][n] == '=') {
            return the_env->vars[i] + n + 1;
        }
    }
    return NULL;
}

/* Parses the words of 'line' (split on spaces; argv[0] added). */
static int
parse(struct nvoctl_args *a, const char *line, char **err, char **buf,
      char ***argv)
{
    *buf = strdup(line);
    *argv = calloc(32, sizeof **argv);
    int argc = 0;
    (*argv)[argc++] = "nvoctl";
    for (char *save = NULL, *w = strtok_r(*buf, " ", &save); w;
         w = strtok_r(NULL, " ", &save)) {
        (*argv)[argc++] = w;
    }
    return nvoctl_args_parse(a, argc, *argv, fake_getenv, err);
}

#define PARSE(LINE)                                                     \
    struct nvoctl_args a;                                               \
    char *err = NULL, *buf;                                             \
    char **argv;                                                        \
    int rc = parse(&a, LINE, &err, &buf, &argv)

#define DONE()                                                          \
    do {                                                                \
        nvoctl_args_destroy(&a);                                        \
        free(err);                                                      \
        free(buf);                                                      \
        free(argv);                                                     \
    } while (0)

static void
test_defaults(void **state)
{
    (void) state;
    the_env = NULL;
    PARSE("network list");
    assert_int_equal(rc, 0);
    assert_string_equal(a.url, "http://127.0.0.1:8080");
    assert_null(a.token);
    assert_int_equal(a.format, NVOCTL_FORMAT_TABLE);
    assert_false(a.wait);
    assert_int_equal(a.cmd->id, NVOCTL_NETWORK_LIST);
    assert_int_equal(a.n_pos, 0);
    DONE();
}

static void
test_env_and_override(void **state)
{
    (void) state;
    static const struct fake_env env = { {
        "NVO_URL=https://ctl.example:8443", "NVO_TOKEN=s3cret", NULL } };
    the_env = &env;
    {
        PARSE("hypervisor list");
        assert_int_equal(rc, 0);
        assert_string_equal(a.url, "https://ctl.example:8443");
        assert_string_equal(a.token, "s3cret");
        DONE();
    }
    {
        PARSE("--url=http://10.0.0.1:9000 --token other hv ls");
        assert_int_equal(rc, 0);
        assert_string_equal(a.url, "http://10.0.0.1:9000");
        assert_string_equal(a.token, "other");
        assert_int_equal(a.cmd->id, NVOCTL_HV_LIST);
        DONE();
    }
    the_env = NULL;
}

static void
test_options_anywhere(void **state)
{
    (void) state;
    PARSE("port add web1 red hv1 02:00:00:00:01:01 tap-web1 --wait "
          "--ip=10.0.0.1 --format json mtu=1400 allowed_addresses=[\"10.9.0.0/16\"]");
    assert_int_equal(rc, 0);
    assert_int_equal(a.cmd->id, NVOCTL_PORT_ADD);
    assert_true(a.wait);
    assert_int_equal(a.format, NVOCTL_FORMAT_JSON);
    assert_string_equal(a.ip, "10.0.0.1");
    assert_int_equal(a.n_pos, 5);
    assert_string_equal(a.pos[0], "web1");
    assert_string_equal(a.pos[4], "tap-web1");
    assert_int_equal(a.n_sets, 2);
    assert_string_equal(a.sets[0], "mtu=1400");
    DONE();
}

static void
test_usage_errors(void **state)
{
    (void) state;
    static const char *const bad[] = {
        "",                                 /* no command */
        "network",                          /* no verb */
        "network frobnicate",               /* unknown verb */
        "router list",                      /* unknown object */
        "network add red",                  /* missing VNI */
        "network show",                     /* missing name */
        "network list extra",               /* too many */
        "--format=xml network list",        /* bad format */
        "--url=ftp://x network list",       /* bad scheme */
        "--url=http:// network list",       /* no host */
        "--bogus network list",             /* unknown option */
        "-x network list",                  /* unknown short option */
        "network list --ip=1.2.3.4",        /* option for another command */
        "network list --wait",              /* --wait on a read */
        "trace --from=r1",                  /* missing --to */
        "audit --wait",                     /* --wait without --repair */
        "--timeout=0 status",               /* bad timeout */
        "--timeout=abc status",
        "status --url",                     /* missing value */
        "status --wait=1",                  /* flag with a value */
        "port move r1",                     /* missing hypervisor */
        "network add red 5001 =x",          /* KEY=VALUE without a key */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        PARSE(bad[i]);
        if (rc != NVOCTL_EXIT_USAGE) {
            fail_msg("'%s' parsed (rc %d)", bad[i], rc);
        }
        assert_non_null(err);
        DONE();
    }
}

static void
test_aliases_and_forms(void **state)
{
    (void) state;
    {
        PARSE("net rm red --wait");
        assert_int_equal(rc, 0);
        assert_int_equal(a.cmd->id, NVOCTL_NETWORK_DEL);
        assert_string_equal(a.pos[0], "red");
        DONE();
    }
    {
        PARSE("port move 7 hv2 tap-x --wait");
        assert_int_equal(rc, 0);
        assert_int_equal(a.cmd->id, NVOCTL_PORT_MOVE);
        assert_int_equal(a.n_pos, 3);
        DONE();
    }
    {
        PARSE("trace --from r1 --to=10.0.0.3 --check");
        assert_int_equal(rc, 0);
        assert_int_equal(a.cmd->id, NVOCTL_TRACE);
        assert_string_equal(a.from, "r1");
        assert_string_equal(a.to, "10.0.0.3");
        assert_true(a.check);
        DONE();
    }
    {
        PARSE("--help");
        assert_int_equal(rc, 0);
        assert_true(a.help);
        assert_null(a.cmd);
        DONE();
    }
    {
        PARSE("port --help");
        assert_int_equal(rc, 0);
        DONE();
    }
    {
        /* After "--" everything is a word, even what looks like an option. */
        PARSE("network show -- -odd-");
        assert_int_equal(rc, 0);
        assert_string_equal(a.pos[0], "-odd-");
        DONE();
    }
    {
        PARSE("hypervisor add hv1 192.0.2.11 ovs --ovsdb=tcp:192.0.2.11:6640");
        assert_int_equal(rc, 0);
        assert_string_equal(a.ovsdb, "tcp:192.0.2.11:6640");
        assert_int_equal(a.n_pos, 3);
        assert_int_equal(a.n_sets, 0);
        DONE();
    }
}

static void
test_url_valid(void **state)
{
    (void) state;
    assert_true(nvoctl_url_valid("http://127.0.0.1:8080"));
    assert_true(nvoctl_url_valid("https://[::1]:8443/"));
    assert_false(nvoctl_url_valid("127.0.0.1:8080"));
    assert_false(nvoctl_url_valid("http://"));
    assert_false(nvoctl_url_valid("http://a b"));
}

/* --- rendering ----------------------------------------------------------- */

/* Renders with 'fn' into a string (caller frees). */
static char *
capture(void (*fn)(FILE *, void *), void *aux)
{
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    fn(f, aux);
    fclose(f);
    return s;
}

static void
render_table(FILE *f, void *t)
{
    nvoctl_table_render(t, f);
}

static void
test_table_alignment(void **state)
{
    (void) state;
    static const char *const headers[] = { "NAME", "VNI", "STATE" };
    static const bool right[] = { false, true, false };
    struct nvoctl_table t;
    nvoctl_table_init(&t, 3, headers, right);
    nvoctl_table_add_row(&t, (const char *const[]) { "red", "5001", "ok" });
    nvoctl_table_add_row(&t, (const char *const[]) { "blue-tenant", "7",
                                                     NULL });
    nvoctl_table_add_row(&t, (const char *const[]) { "ünï", "12", "→ x" });
    char *s = capture(render_table, &t);
    assert_string_equal(s,
                        "NAME          VNI  STATE\n"
                        "red          5001  ok\n"
                        "blue-tenant     7  -\n"
                        "ünï            12  → x\n");
    free(s);
    nvoctl_table_destroy(&t);
    nvoctl_table_destroy(NULL);
}

static void
test_table_empty(void **state)
{
    (void) state;
    static const char *const headers[] = { "ID", "VM" };
    struct nvoctl_table t;
    nvoctl_table_init(&t, 2, headers, NULL);
    char *s = capture(render_table, &t);
    assert_string_equal(s, "ID  VM\n");
    free(s);
    nvoctl_table_destroy(&t);
}

struct json_case {
    const struct nvoctl_column *cols;
    size_t n;
    json_t *arr;
};

static void
render_json(FILE *f, void *c_)
{
    struct json_case *c = c_;
    nvoctl_table_print_json(f, c->cols, c->n, c->arr);
}

static void
test_table_from_json(void **state)
{
    (void) state;
    static const struct nvoctl_column cols[] = {
        { "ID", "id", true }, { "VM", "vm", false }, { "IP", "ip", false },
        { "OK", "ok", false }, { "TAGS", "tags", false },
    };
    json_t *arr = json_loads(
        "[{\"id\":1,\"vm\":\"r1\",\"ip\":\"10.0.0.1\",\"ok\":true,"
        "\"tags\":[\"a\",\"b\"]},"
        "{\"id\":12,\"vm\":\"web-frontend\",\"ip\":null,\"ok\":false},"
        "42]", 0, NULL);
    assert_non_null(arr);
    struct json_case c = { cols, 5, arr };
    char *s = capture(render_json, &c);
    assert_string_equal(s,
                        "ID  VM            IP        OK     TAGS\n"
                        " 1  r1            10.0.0.1  true   a,b\n"
                        "12  web-frontend  -         false  -\n");
    free(s);
    json_decref(arr);
}

struct record_case {
    json_t *obj;
};

static void
render_record(FILE *f, void *c_)
{
    static const char *const first[] = { "name", "id", "missing" };
    nvoctl_record_print(f, c_, first, 3);
}

static void
test_record(void **state)
{
    (void) state;
    json_t *o = json_loads("{\"id\":3,\"vni\":5001,\"name\":\"red\","
                           "\"members\":[\"hv1\",\"hv2\"],"
                           "\"x\":{\"a\":1}}", 0, NULL);
    char *s = capture(render_record, o);
    assert_string_equal(s,
                        "name    : red\n"
                        "id      : 3\n"
                        "vni     : 5001\n"
                        "members : hv1, hv2\n"
                        "x       : {\"a\":1}\n");
    free(s);
    json_decref(o);
}

static void
test_cell_text(void **state)
{
    (void) state;
    json_t *v = json_real(1.5);
    char *s = nvoctl_cell_text(v);
    assert_string_equal(s, "1.5");
    free(s);
    json_decref(v);
    s = nvoctl_cell_text(NULL);
    assert_string_equal(s, "-");
    free(s);
    assert_int_equal(nvoctl_text_width("✓ ok"), 4);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_env_and_override),
        cmocka_unit_test(test_options_anywhere),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_aliases_and_forms),
        cmocka_unit_test(test_url_valid),
        cmocka_unit_test(test_table_alignment),
        cmocka_unit_test(test_table_empty),
        cmocka_unit_test(test_table_from_json),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_cell_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
