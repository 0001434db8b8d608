/* main.c - nvoctl: the operator's command line for nvo-controller.
 *
 * Talks REST only (libcurl), renders aligned tables or JSON (jansson).
 * Every command is a function below; args.c parses, table.c renders,
 * http.c talks.  Exit codes: see enum nvoctl_exit in args.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvoctl/args.h"
#include "nvoctl/http.h"
#include "nvoctl/table.h"

#define ARRAY_N(a) (sizeof (a) / sizeof (a)[0])

struct ctx {
    const struct nvoctl_args *a;
    struct nvoctl_http *http;
    FILE *out;
};

static void
usage(FILE *f)
{
    size_t n;
    const struct nvoctl_cmd *cmds = nvoctl_cmds(&n);
    fprintf(f, "usage: nvoctl [OPTIONS] COMMAND [ARGS...]\n"
            "The operator's tool for nvo-controller (REST only).\n\nCommands:\n");
    for (size_t i = 0; i < n; i++) {
        if (cmds[i].id != NVOCTL_AUDIT && cmds[i].id != NVOCTL_TRACE) {
            fprintf(f, "  %s\n", cmds[i].synopsis);
        }
    }
    fprintf(f,
"\nOPTIONS\n"
"  --url=URL          controller (env NVO_URL; default " NVOCTL_DEFAULT_URL ")\n"
"  --token=TOKEN      sent as 'Authorization: Bearer TOKEN' (env NVO_TOKEN)\n"
"  --ca-cert=FILE     CA certificate for https:// URLs (env NVO_CA_CERT)\n"
"  --format=table|json  human tables (default) or the server's JSON\n"
"  --wait             writes return once every affected hypervisor\n"
"                     confirmed the change (REST ?wait=1)\n"
"  --timeout=SECONDS  give up on a request after this long (default 60)\n"
"  -h, --help         this help;  -V, --version  the version\n"
"KEY=VALUE after an add's arguments sets more fields of the object (values\n"
"that parse as JSON numbers, true/false or arrays are sent as such), e.g.\n"
"  nvoctl network add red 5001 encap=geneve mtu=1400\n"
"\nEXIT STATUS\n"
"  0 done   1 the controller answered an error   2 usage\n"
"  3 could not talk to the controller   4 --wait: committed but not\n"
"  confirmed in time\n");
}

static int
fail(int code, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fputs("nvoctl: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    return code;
}

/* Performs a request; on a transport error or an HTTP error status prints
 * why and returns the exit code; else 0 with '*r' filled (caller frees). */
static int
call(struct ctx *c, const char *method, const char *path, const json_t *body,
     struct nvoctl_reply *r)
{
    int error = nvoctl_http_call(c->http, method, path, body, r);
    if (error) {
        error = fail(error, "cannot talk to the controller: %s", r->error);
        nvoctl_reply_free(r);
        return error;
    }
    if (r->status >= 400) {
        char *why = nvoctl_reply_error_text(r);
        int code = r->status == 504 && c->a->wait ? NVOCTL_EXIT_TIMEOUT
                                                  : NVOCTL_EXIT_SERVER;
        fail(code, "%s %s: %s", method, path, why);
        free(why);
        nvoctl_reply_free(r);
        return code;
    }
    if (r->status != 204 && !r->json && strcmp(path, "/metrics")) {
        fail(NVOCTL_EXIT_CONNECT, "%s %s: HTTP %ld without a JSON answer",
             method, path, r->status);
        nvoctl_reply_free(r);
        return NVOCTL_EXIT_CONNECT;
    }
    return 0;
}

static void
print_json(struct ctx *c, const json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2));
    if (s) {
        fprintf(c->out, "%s\n", s);
        free(s);
    }
}

/* Percent-encodes 's' for a path segment or query value.  Caller frees. */
static char *
escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *e = malloc(3 * strlen(s) + 1), *p = e;
    if (!e) {
        abort();
    }
    for (; *s; s++) {
        unsigned char ch = *s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
            || (ch >= '0' && ch <= '9') || strchr("-._~:", ch)) {
            *p++ = ch;
        } else {
            *p++ = '%';
            *p++ = hex[ch >> 4];
            *p++ = hex[ch & 15];
        }
    }
    *p = '\0';
    return e;
}

static char *
xasprintf_(const char *fmt, ...)
{
    va_list args;
    char *s;
    va_start(args, fmt);
    if (vasprintf(&s, fmt, args) < 0) {
        abort();
    }
    va_end(args);
    return s;
}

/* "PATH" or "PATH?wait=1" for writes with --wait. */
static char *
write_path(struct ctx *c, const char *path)
{
    return xasprintf_("%s%s", path, c->a->wait ? "?wait=1" : "");
}

/* KEY=VALUE fields into 'obj': JSON scalars and arrays as such, anything
 * else as a string.  Returns 0 or NVOCTL_EXIT_USAGE. */
static int
add_sets(struct ctx *c, json_t *obj)
{
    for (size_t i = 0; i < c->a->n_sets; i++) {
        const char *kv = c->a->sets[i];
        const char *eq = strchr(kv, '=');
        char *key = xasprintf_("%.*s", (int) (eq - kv), kv);
        json_t *v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
        if (!v || json_is_object(v) || json_is_string(v)) {
            json_decref(v);
            v = json_string(eq + 1);
        }
        json_object_set_new(obj, key, v);
        free(key);
    }
    return 0;
}

/* Columns of each collection. */
static const struct nvoctl_column network_cols[] = {
    { "NAME", "name", false }, { "VNI", "vni", true },
    { "BUM", "bum", false }, { "PORTS", "ports", true },
    { "ID", "id", true }, { "REVISION", "revision", true },
};
static const struct nvoctl_column hv_cols[] = {
    { "NAME", "name", false }, { "TUNNEL_IP", "tunnel_ip", false },
    { "DATAPLANE", "dataplane", false }, { "ROLE", "role", false },
    { "STATE", "state", false }, { "CONFIRMED", "confirmed_revision", true },
    { "REQUIRED", "required_revision", true }, { "PORTS", "ports", true },
};
static const struct nvoctl_column port_cols[] = {
    { "ID", "id", true }, { "VM", "vm", false },
    { "NETWORK", "network", false }, { "HYPERVISOR", "hypervisor", false },
    { "MAC", "mac", false }, { "IP", "ip", false },
    { "IFACE", "iface", false },
};
static const char *const network_first[] = { "name", "id", "vni", "bum" };
static const char *const hv_first[] = { "name", "id", "tunnel_ip",
                                        "dataplane", "role", "state" };
static const char *const port_first[] = { "id", "vm", "network",
                                          "hypervisor", "mac", "ip",
                                          "iface" };

static int
list(struct ctx *c, const char *path, const struct nvoctl_column *cols,
     size_t n_cols)
{
    struct nvoctl_reply r;
    int error = call(c, "GET", path, NULL, &r);
    if (error) {
        return error;
    }
    if (c->a->format == NVOCTL_FORMAT_JSON) {
        print_json(c, r.json);
    } else {
        nvoctl_table_print_json(c->out, cols, n_cols, r.json);
    }
    nvoctl_reply_free(&r);
    return 0;
}

/* Shows one object; 'ports_query' (may be NULL) lists its ports below. */
static int
show(struct ctx *c, const char *path, const char *const first[],
     size_t n_first, const char *ports_query)
{
    struct nvoctl_reply r;
    int error = call(c, "GET", path, NULL, &r);
    if (error) {
        return error;
    }
    if (c->a->format == NVOCTL_FORMAT_JSON) {
        print_json(c, r.json);
        nvoctl_reply_free(&r);
        return 0;
    }
    nvoctl_record_print(c->out, r.json, first, n_first);
    nvoctl_reply_free(&r);
    if (ports_query) {
        error = call(c, "GET", ports_query, NULL, &r);
        if (error) {
            return error;
        }
        if (json_array_size(r.json)) {
            fputc('\n', c->out);
            nvoctl_table_print_json(c->out, port_cols, ARRAY_N(port_cols),
                                    r.json);
        }
        nvoctl_reply_free(&r);
    }
    return 0;
}

/* POSTs or PATCHes 'body' (stolen) and shows the answer. */
static int
write_obj(struct ctx *c, const char *method, const char *path, json_t *body,
          const char *const first[], size_t n_first)
{
    add_sets(c, body);
    char *p = write_path(c, path);
    struct nvoctl_reply r;
    int error = call(c, method, p, body, &r);
    json_decref(body);
    free(p);
    if (error) {
        return error;
    }
    if (c->a->format == NVOCTL_FORMAT_JSON) {
        print_json(c, r.json);
    } else {
        nvoctl_record_print(c->out, r.json, first, n_first);
    }
    nvoctl_reply_free(&r);
    return 0;
}

static int
del(struct ctx *c, const char *path)
{
    char *p = write_path(c, path);
    struct nvoctl_reply r;
    int error = call(c, "DELETE", p, NULL, &r);
    free(p);
    if (!error) {
        nvoctl_reply_free(&r);
    }
    return error;
}

/* Resolves a port given by id or by VM name into '*id'. */
static int
port_id(struct ctx *c, const char *arg, long long *id)
{
    char *end;
    long long v = strtoll(arg, &end, 10);
    if (*arg && !*end && v > 0) {
        *id = v;
        return 0;
    }
    struct nvoctl_reply r;
    int error = call(c, "GET", "/v1/ports", NULL, &r);
    if (error) {
        return error;
    }
    size_t i, n = 0;
    json_t *p;
    char ids[256] = "";
    json_array_foreach (r.json, i, p) {
        const char *vm = json_string_value(json_object_get(p, "vm"));
        if (vm && !strcmp(vm, arg)) {
            *id = json_integer_value(json_object_get(p, "id"));
            size_t len = strlen(ids);
            snprintf(ids + len, sizeof ids - len, "%s%lld", n ? ", " : "",
                     *id);
            n++;
        }
    }
    nvoctl_reply_free(&r);
    if (!n) {
        return fail(NVOCTL_EXIT_SERVER, "no port with id or VM '%s'", arg);
    } else if (n > 1) {
        return fail(NVOCTL_EXIT_USAGE, "VM %s has %zu ports (%s): give the "
                    "port's id", arg, n, ids);
    }
    return 0;
}

static int
cmd_port(struct ctx *c)
{
    const struct nvoctl_args *a = c->a;
    long long id = 0;
    int error;
    char *path;

    switch (a->cmd->id) {
    case NVOCTL_PORT_LIST: {
        char *net = a->network ? escape(a->network) : NULL;
        char *hv = a->hypervisor ? escape(a->hypervisor) : NULL;
        path = xasprintf_("/v1/ports%s%s%s%s%s", net || hv ? "?" : "",
                          net ? "network=" : "", net ? net : "",
                          net && hv ? "&" : "", hv ? "hypervisor=" : "");
        char *full = xasprintf_("%s%s", path, hv ? hv : "");
        error = list(c, full, port_cols, ARRAY_N(port_cols));
        free(full);
        free(path);
        free(net);
        free(hv);
        return error;
    }
    case NVOCTL_PORT_ADD: {
        json_t *body = json_pack("{s:s,s:s,s:s,s:s,s:s}",
                                 "vm", a->pos[0], "network", a->pos[1],
                                 "hypervisor", a->pos[2], "mac", a->pos[3],
                                 "iface", a->pos[4]);
        if (a->ip) {
            json_object_set_new(body, "ip", json_string(a->ip));
        }
        return write_obj(c, "POST", "/v1/ports", body, port_first,
                         ARRAY_N(port_first));
    }
    default:
        break;
    }

    error = port_id(c, a->pos[0], &id);
    if (error) {
        return error;
    }
    path = xasprintf_("/v1/ports/%lld", id);
    switch (a->cmd->id) {
    case NVOCTL_PORT_SHOW:
        error = show(c, path, port_first, ARRAY_N(port_first), NULL);
        break;
    case NVOCTL_PORT_DEL:
        error = del(c, path);
        break;
    case NVOCTL_PORT_MOVE: {
        json_t *body = json_pack("{s:s}", "hypervisor", a->pos[1]);
        if (a->n_pos > 2) {
            json_object_set_new(body, "iface", json_string(a->pos[2]));
        }
        error = write_obj(c, "PATCH", path, body, port_first,
                          ARRAY_N(port_first));
        break;
    }
    default:
        error = NVOCTL_EXIT_USAGE;
        break;
    }
    free(path);
    return error;
}

/* "show" (with the object's ports) or "del" of the object named by the
 * first argument in /v1/COLLECTION; ports are filtered by ?FILTER=NAME. */
static int
show_or_del(struct ctx *c, const char *collection, const char *filter,
            bool is_show, const char *const first[], size_t n_first)
{
    char *name = escape(c->a->pos[0]);
    char *path = xasprintf_("/v1/%s/%s", collection, name);
    char *ports = xasprintf_("/v1/ports?%s=%s", filter, name);
    int error = is_show ? show(c, path, first, n_first, ports)
                        : del(c, path);
    free(ports);
    free(path);
    free(name);
    return error;
}

static int
cmd_network(struct ctx *c)
{
    const struct nvoctl_args *a = c->a;
    if (a->cmd->id == NVOCTL_NETWORK_LIST) {
        return list(c, "/v1/networks", network_cols, ARRAY_N(network_cols));
    }
    if (a->cmd->id == NVOCTL_NETWORK_ADD) {
        char *end;
        long long vni = strtoll(a->pos[1], &end, 10);
        if (!*a->pos[1] || *end) {
            return fail(NVOCTL_EXIT_USAGE, "VNI '%s' is not a number",
                        a->pos[1]);
        }
        json_t *body = json_pack("{s:s,s:I}", "name", a->pos[0], "vni",
                                 (json_int_t) vni);
        if (a->bum) {
            json_object_set_new(body, "bum", json_string(a->bum));
        }
        return write_obj(c, "POST", "/v1/networks", body, network_first,
                         ARRAY_N(network_first));
    }
    return show_or_del(c, "networks", "network",
                       a->cmd->id == NVOCTL_NETWORK_SHOW, network_first,
                       ARRAY_N(network_first));
}

static int
cmd_hypervisor(struct ctx *c)
{
    const struct nvoctl_args *a = c->a;
    if (a->cmd->id == NVOCTL_HV_LIST) {
        return list(c, "/v1/hypervisors", hv_cols, ARRAY_N(hv_cols));
    }
    if (a->cmd->id == NVOCTL_HV_ADD) {
        json_t *body = json_pack("{s:s,s:s,s:s}", "name", a->pos[0],
                                 "tunnel_ip", a->pos[1],
                                 "dataplane", a->pos[2]);
        if (a->role) {
            json_object_set_new(body, "role", json_string(a->role));
        }
        if (a->ovsdb) {
            json_object_set_new(body, "ovsdb", json_string(a->ovsdb));
        }
        return write_obj(c, "POST", "/v1/hypervisors", body, hv_first,
                         ARRAY_N(hv_first));
    }
    return show_or_del(c, "hypervisors", "hypervisor",
                       a->cmd->id == NVOCTL_HV_SHOW, hv_first,
                       ARRAY_N(hv_first));
}

/* "12.3s", "4m05s", "2h10m", "-" for a negative age in milliseconds. */
static void
format_age(long long ms, char *buf, size_t size)
{
    if (ms < 0) {
        snprintf(buf, size, "-");
    } else if (ms < 60000) {
        snprintf(buf, size, "%.1fs", ms / 1000.0);
    } else if (ms < 3600000) {
        snprintf(buf, size, "%lldm%02llds", ms / 60000, ms / 1000 % 60);
    } else {
        snprintf(buf, size, "%lldh%02lldm", ms / 3600000, ms / 60000 % 60);
    }
}

static int
cmd_status(struct ctx *c)
{
    struct nvoctl_reply r;
    int error = call(c, "GET", "/v1/status", NULL, &r);
    if (error) {
        return error;
    }
    if (c->a->format == NVOCTL_FORMAT_JSON) {
        print_json(c, r.json);
        nvoctl_reply_free(&r);
        return 0;
    }
    json_t *hvs = json_object_get(r.json, "hypervisors");
    json_t *nets = json_object_get(r.json, "networks");
    fprintf(c->out, "store revision %" JSON_INTEGER_FORMAT ", %zu "
            "hypervisors (%" JSON_INTEGER_FORMAT " in sync), %zu networks, "
            "%" JSON_INTEGER_FORMAT " ports\n\n",
            json_integer_value(json_object_get(r.json, "revision")),
            json_array_size(hvs),
            json_integer_value(json_object_get(r.json, "in_sync")),
            json_array_size(nets),
            json_integer_value(json_object_get(r.json, "ports")));

    static const char *const hv_headers[] = {
        "HYPERVISOR", "DATAPLANE", "ROLE", "STATE", "CONFIRMED", "LAG",
        "LAST_CONFIRM", "FLOWS", "FDB", "PORTS",
    };
    static const bool hv_right[] = {
        false, false, false, false, true, true, true, true, true, true,
    };
    struct nvoctl_table t;
    nvoctl_table_init(&t, ARRAY_N(hv_headers), hv_headers, hv_right);
    size_t i;
    json_t *h;
    json_array_foreach (hvs, i, h) {
        char *cells[ARRAY_N(hv_headers)];
        static const char *const keys[] = {
            "name", "dataplane", "role", "state", "confirmed_revision",
            "lag", NULL, "flows", "fdb_entries", "ports",
        };
        for (size_t k = 0; k < ARRAY_N(keys); k++) {
            if (keys[k]) {
                cells[k] = nvoctl_cell_text(json_object_get(h, keys[k]));
            } else {
                char age[32];
                json_t *v = json_object_get(h, "last_confirmed_ms_ago");
                format_age(json_is_integer(v) ? json_integer_value(v) : -1,
                           age, sizeof age);
                cells[k] = strdup(age);
            }
        }
        nvoctl_table_add_row(&t, (const char *const *) cells);
        for (size_t k = 0; k < ARRAY_N(keys); k++) {
            free(cells[k]);
        }
    }
    nvoctl_table_render(&t, c->out);
    nvoctl_table_destroy(&t);

    fputc('\n', c->out);
    static const struct nvoctl_column net_cols[] = {
        { "NETWORK", "name", false }, { "VNI", "vni", true },
        { "BUM", "bum", false }, { "SERVICE_NODE", "service_node", false },
        { "PORTS", "ports", true }, { "MEMBERS", "members", false },
    };
    nvoctl_table_print_json(c->out, net_cols, ARRAY_N(net_cols), nets);
    nvoctl_reply_free(&r);
    return 0;
}

static int
run(struct ctx *c)
{
    switch (c->a->cmd->id) {
    case NVOCTL_NETWORK_LIST: case NVOCTL_NETWORK_SHOW:
    case NVOCTL_NETWORK_ADD: case NVOCTL_NETWORK_DEL:
        return cmd_network(c);
    case NVOCTL_HV_LIST: case NVOCTL_HV_SHOW: case NVOCTL_HV_ADD:
    case NVOCTL_HV_DEL:
        return cmd_hypervisor(c);
    case NVOCTL_PORT_LIST: case NVOCTL_PORT_SHOW: case NVOCTL_PORT_ADD:
    case NVOCTL_PORT_DEL: case NVOCTL_PORT_MOVE:
        return cmd_port(c);
    case NVOCTL_STATUS:
        return cmd_status(c);
    case NVOCTL_AUDIT:
    case NVOCTL_TRACE:
    default:
        /* Parsed already (nvoctl/args.c), served by a later controller. */
        return fail(NVOCTL_EXIT_USAGE, "'%s' is not available in this "
                    "version", c->a->cmd->object);
    }
}

static const char *
env_get(const char *name)
{
    return getenv(name);
}

int
main(int argc, char *argv[])
{
    struct nvoctl_args a;
    char *err;
    int error = nvoctl_args_parse(&a, argc, argv, env_get, &err);
    if (error) {
        fprintf(stderr, "nvoctl: %s\n", err);
        free(err);
        nvoctl_args_destroy(&a);
        return error;
    }
    if (a.version) {
        printf("nvoctl (nvo) %s\n", NVO_VERSION);
        nvoctl_args_destroy(&a);
        return 0;
    }
    if (a.help) {
        if (a.cmd) {
            printf("usage: nvoctl %s\n", a.cmd->synopsis);
        } else {
            usage(stdout);
        }
        nvoctl_args_destroy(&a);
        return 0;
    }
    struct ctx c = {
        .a = &a,
        .http = nvoctl_http_create(a.url, a.token, a.ca_cert, a.timeout_s),
        .out = stdout,
    };
    error = run(&c);
    nvoctl_http_destroy(c.http);
    nvoctl_args_destroy(&a);
    if (fflush(stdout) && !error) {
        error = NVOCTL_EXIT_SERVER;
    }
    return error;
}
