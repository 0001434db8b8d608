/* main.c - nvoctl: the operator's command line for nvo-controller.
 *
 * Talks REST only (libcurl), renders aligned tables or JSON (jansson).
 * Every command is a function below; args.c parses, table.c renders,
 * http.c talks.  Exit codes: see enum nvoctl_exit in args.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
        fprintf(f, "  %s\n", cmds[i].synopsis);
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
"  confirmed in time   5 audit found drift / trace --check differs\n");
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

/* What nvoctl shows of each collection: its path, the columns of its
 * table (list), the fields a record (show, add) starts with, and the
 * filter of /v1/ports that lists one object's ports (NULL: none). */
struct collection {
    const char *path;
    const struct nvoctl_column *cols;
    size_t n_cols;
    const char *const *first;
    size_t n_first;
    const char *port_filter;
};

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

static const struct collection networks = {
    "/v1/networks", network_cols, ARRAY_N(network_cols),
    network_first, ARRAY_N(network_first), "network",
};
static const struct collection hypervisors = {
    "/v1/hypervisors", hv_cols, ARRAY_N(hv_cols),
    hv_first, ARRAY_N(hv_first), "hypervisor",
};
static const struct collection ports = {
    "/v1/ports", port_cols, ARRAY_N(port_cols),
    port_first, ARRAY_N(port_first), NULL,
};

/* How fetch_render() shows an answer without --format=json. */
enum render {
    RENDER_TABLE,               /* An array, as coll's table. */
    RENDER_TABLE_IF_ANY,        /* The same, after a blank line; nothing
                                 * for an empty array. */
    RENDER_RECORD,              /* One object, coll's fields first. */
};

/* Calls 'method' 'path' with 'body' (may be NULL) and prints the answer:
 * JSON with --format=json, else as 'how' says. */
static int
fetch_render(struct ctx *c, const char *method, const char *path,
             const json_t *body, const struct collection *coll,
             enum render how)
{
    struct nvoctl_reply r;
    int error = call(c, method, path, body, &r);
    if (error) {
        return error;
    }
    if (c->a->format == NVOCTL_FORMAT_JSON) {
        print_json(c, r.json);
    } else if (how == RENDER_RECORD) {
        nvoctl_record_print(c->out, r.json, coll->first, coll->n_first);
    } else if (how == RENDER_TABLE || json_array_size(r.json)) {
        if (how == RENDER_TABLE_IF_ANY) {
            fputc('\n', c->out);
        }
        nvoctl_table_print_json(c->out, coll->cols, coll->n_cols, r.json);
    }
    nvoctl_reply_free(&r);
    return 0;
}

/* POSTs or PATCHes 'body' (stolen) and shows the answer. */
static int
write_obj(struct ctx *c, const char *method, const char *path, json_t *body,
          const struct collection *coll)
{
    add_sets(c, body);
    char *p = write_path(c, path);
    int error = fetch_render(c, method, p, body, coll, RENDER_RECORD);
    json_decref(body);
    free(p);
    return error;
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
        error = fetch_render(c, "GET", full, NULL, &ports, RENDER_TABLE);
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
        return write_obj(c, "POST", "/v1/ports", body, &ports);
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
        error = fetch_render(c, "GET", path, NULL, &ports, RENDER_RECORD);
        break;
    case NVOCTL_PORT_DEL:
        error = del(c, path);
        break;
    case NVOCTL_PORT_MOVE: {
        json_t *body = json_pack("{s:s}", "hypervisor", a->pos[1]);
        if (a->n_pos > 2) {
            json_object_set_new(body, "iface", json_string(a->pos[2]));
        }
        error = write_obj(c, "PATCH", path, body, &ports);
        break;
    }
    default:
        error = NVOCTL_EXIT_USAGE;
        break;
    }
    free(path);
    return error;
}

/* "list", "show" (with the object's ports) or "del" of the object named
 * by the first argument in 'coll': what the three collections share. */
static int
list_show_del(struct ctx *c, const struct collection *coll, bool is_list,
              bool is_show)
{
    if (is_list) {
        return fetch_render(c, "GET", coll->path, NULL, coll, RENDER_TABLE);
    }
    char *name = escape(c->a->pos[0]);
    char *path = xasprintf_("%s/%s", coll->path, name);
    int error;
    if (!is_show) {
        error = del(c, path);
    } else {
        error = fetch_render(c, "GET", path, NULL, coll, RENDER_RECORD);
        if (!error && c->a->format != NVOCTL_FORMAT_JSON) {
            char *q = xasprintf_("/v1/ports?%s=%s", coll->port_filter, name);
            error = fetch_render(c, "GET", q, NULL, &ports,
                                 RENDER_TABLE_IF_ANY);
            free(q);
        }
    }
    free(path);
    free(name);
    return error;
}

static int
cmd_network(struct ctx *c)
{
    const struct nvoctl_args *a = c->a;
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
        return write_obj(c, "POST", networks.path, body, &networks);
    }
    return list_show_del(c, &networks, a->cmd->id == NVOCTL_NETWORK_LIST,
                         a->cmd->id == NVOCTL_NETWORK_SHOW);
}

static int
cmd_hypervisor(struct ctx *c)
{
    const struct nvoctl_args *a = c->a;
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
        return write_obj(c, "POST", hypervisors.path, body, &hypervisors);
    }
    return list_show_del(c, &hypervisors, a->cmd->id == NVOCTL_HV_LIST,
                         a->cmd->id == NVOCTL_HV_SHOW);
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

    /* STATE of a hypervisor another cluster controller programs: "at
     * OWNER" (its CONFIRMED is what that owner recorded). */
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
        const char *state = json_string_value(json_object_get(h, "state"));
        const char *owner = json_string_value(json_object_get(h,
                                                              "controller"));
        for (size_t k = 0; k < ARRAY_N(keys); k++) {
            if (keys[k] && !strcmp(keys[k], "state") && owner && state
                && !strcmp(state, "unknown")) {
                cells[k] = xasprintf_("at %s", owner);
            } else if (keys[k]) {
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

/* What an audit item belongs to: "VM r1 in red", "network red", "tunnel
 * to hv2", "pipeline".  Caller frees. */
static char *
audit_owner(const json_t *it)
{
    const char *vm = json_string_value(json_object_get(it, "vm"));
    const char *net = json_string_value(json_object_get(it, "network"));
    const char *thv = json_string_value(json_object_get(it,
                                                        "tunnel_to_hypervisor"));
    const char *tip = json_string_value(json_object_get(it, "tunnel_to"));
    const char *owner = json_string_value(json_object_get(it, "owner"));
    json_t *pid = json_object_get(it, "port_id");
    const char *kind = json_string_value(json_object_get(it, "kind"));
    if (vm) {
        return xasprintf_("VM %s in %s (port %" JSON_INTEGER_FORMAT ")", vm,
                          net ? net : "?", json_integer_value(pid));
    } else if (pid) {
        return xasprintf_("port %" JSON_INTEGER_FORMAT " (gone)",
                          json_integer_value(pid));
    } else if (net) {
        return xasprintf_("network %s", net);
    } else if (json_object_get(it, "vni")) {
        return xasprintf_("VNI %" JSON_INTEGER_FORMAT,
                          json_integer_value(json_object_get(it, "vni")));
    } else if (thv || tip) {
        return xasprintf_("tunnel to %s", thv ? thv : tip);
    } else if (owner) {
        return xasprintf_("%s", owner);
    }
    return xasprintf_("%s", kind && !strcmp(kind, "foreign")
                            ? "not nvo's (left alone)" : "-");
}

/* Prints an audit answer; returns whether it found drift. */
static bool
print_audit(struct ctx *c, const json_t *audit)
{
    const json_t *hvs = json_object_get(audit, "hypervisors");
    size_t i, n_audited = 0, n_drift = 0;
    const json_t *h;
    json_array_foreach (hvs, i, h) {
        const char *name = json_string_value(json_object_get(h, "name"));
        const char *dp = json_string_value(json_object_get(h, "dataplane"));
        if (!json_is_true(json_object_get(h, "audited"))) {
            fprintf(c->out, "%s (%s): not audited: %s\n", name, dp,
                    json_string_value(json_object_get(h, "reason")));
            continue;
        }
        n_audited++;
        bool drift = json_is_true(json_object_get(h, "drift"));
        n_drift += drift;
        json_t *fl = json_object_get(h, "flows");
        json_t *kn = json_object_get(h, "kernel");
        char *held = (kn
                      ? xasprintf_("%" JSON_INTEGER_FORMAT " networks, %"
                                   JSON_INTEGER_FORMAT " kernel entries "
                                   "desired, %" JSON_INTEGER_FORMAT " held",
                                   json_integer_value(json_object_get(
                                                          kn, "networks")),
                                   json_integer_value(json_object_get(
                                                          kn, "desired")),
                                   json_integer_value(json_object_get(
                                                          kn, "actual")))
                      : xasprintf_("%" JSON_INTEGER_FORMAT " nvo flows "
                                   "desired, %" JSON_INTEGER_FORMAT " held, %"
                                   JSON_INTEGER_FORMAT " foreign",
                                   json_integer_value(json_object_get(
                                                          fl, "desired")),
                                   json_integer_value(json_object_get(
                                                          fl, "actual")),
                                   json_integer_value(json_object_get(
                                                          fl, "foreign"))));
        fprintf(c->out, "%s (%s): %s: %s; %" JSON_INTEGER_FORMAT
                " missing, %" JSON_INTEGER_FORMAT " extra, %"
                JSON_INTEGER_FORMAT " different%s%s\n",
                name, dp, drift ? "DRIFT" : "in sync", held,
                json_integer_value(json_object_get(h, "missing")),
                json_integer_value(json_object_get(h, "extra")),
                json_integer_value(json_object_get(h, "different")),
                json_object_get(h, "repair") ? "; " : "",
                json_object_get(h, "repair")
                ? json_string_value(json_object_get(h, "repair")) : "");
        free(held);
        const json_t *items = json_object_get(h, "items");
        if (!json_array_size(items)) {
            continue;
        }
        static const char *const headers[] = {
            "  KIND", "WHAT", "BELONGS TO", "DETAIL",
        };
        struct nvoctl_table t;
        nvoctl_table_init(&t, 4, headers, NULL);
        size_t k;
        const json_t *it;
        json_array_foreach (items, k, it) {
            char *kind = xasprintf_("  %s", json_string_value(
                                        json_object_get(it, "kind")));
            char *owner = audit_owner(it);
            const char *what = json_string_value(json_object_get(it, "what"));
            const char *detail = json_string_value(json_object_get(
                it, (json_object_get(it, "entry") ? "entry"
                     : !strcmp(what, "port") ? "port" : "flow")));
            const char *actual = json_string_value(json_object_get(it,
                                                                   "actual"));
            char *d = actual ? xasprintf_("%s (%s has: %s)", detail,
                                          kn ? "kernel" : "switch", actual)
                             : xasprintf_("%s", detail);
            const char *cells[] = { kind, what, owner, d };
            nvoctl_table_add_row(&t, cells);
            free(kind);
            free(owner);
            free(d);
        }
        nvoctl_table_render(&t, c->out);
        nvoctl_table_destroy(&t);
    }
    fprintf(c->out, "audit at revision %" JSON_INTEGER_FORMAT ": %zu of %zu "
            "audited hypervisors drifted\n",
            json_integer_value(json_object_get(audit, "revision")), n_drift,
            n_audited);
    return n_drift > 0;
}

static bool
audit_has_drift(const json_t *audit)
{
    return json_is_true(json_object_get(audit, "drift"));
}

static int
cmd_audit(struct ctx *c)
{
    struct nvoctl_reply r;
    int error = call(c, c->a->repair ? "POST" : "GET",
                     c->a->repair ? "/v1/audit/repair" : "/v1/audit", NULL,
                     &r);
    if (error) {
        return error;
    }
    bool drift = audit_has_drift(r.json);
    if (c->a->format == NVOCTL_FORMAT_JSON && !c->a->wait) {
        print_json(c, r.json);
    } else if (c->a->format != NVOCTL_FORMAT_JSON) {
        print_audit(c, r.json);
    }
    nvoctl_reply_free(&r);
    if (!c->a->repair) {
        return drift ? NVOCTL_EXIT_DRIFT : 0;
    }
    if (!drift || !c->a->wait) {
        return 0;
    }
    /* --repair --wait: audit again until the resyncs are done. */
    for (long i = 0; i < c->a->timeout_s * 4; i++) {
        struct timespec ts = { 0, 250 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        error = call(c, "GET", "/v1/audit", NULL, &r);
        if (error) {
            return error;
        }
        drift = audit_has_drift(r.json);
        if (!drift || i + 1 == c->a->timeout_s * 4) {
            if (c->a->format == NVOCTL_FORMAT_JSON) {
                print_json(c, r.json);
            } else {
                fprintf(c->out, "\nafter the repair:\n");
                print_audit(c, r.json);
            }
            nvoctl_reply_free(&r);
            break;
        }
        nvoctl_reply_free(&r);
    }
    return drift ? NVOCTL_EXIT_DRIFT : 0;
}

/* True if audit item 'it' (of a hypervisor on the path) concerns the
 * traced frame: its source or destination VM, its network, or a tunnel. */
static bool
item_on_path(const json_t *it, const json_t *trace)
{
    const json_t *from = json_object_get(trace, "from");
    const json_t *dst = json_object_get(trace, "destination");
    const char *vm = json_string_value(json_object_get(it, "vm"));
    const char *net = json_string_value(json_object_get(it, "network"));
    const char *kind = json_string_value(json_object_get(it, "kind"));
    if (!kind || !strcmp(kind, "foreign")) {
        return false;
    }
    if (vm && (!strcmp(vm, json_string_value(json_object_get(from, "vm")))
               || (dst && !strcmp(vm, json_string_value(
                                      json_object_get(dst, "vm")))))) {
        return true;
    }
    if (net && !vm && !strcmp(net, json_string_value(
                                  json_object_get(from, "network")))) {
        return true;
    }
    return json_object_get(it, "tunnel_to") != NULL
           || json_object_get(it, "owner") != NULL;
}

/* --check: compares the path's hypervisors' actual flows (the controller's
 * audit, a dump of every switch) with the desired ones.  Returns 0 if they
 * hold every flow of the path, NVOCTL_EXIT_DRIFT if not. */
static int
trace_check(struct ctx *c, const json_t *trace, json_t *out)
{
    struct nvoctl_reply r;
    int error = call(c, "GET", "/v1/audit", NULL, &r);
    if (error) {
        return error;
    }
    json_t *hops = json_object_get(trace, "hops");
    json_t *found = json_array();
    json_t *unchecked = json_array();
    size_t i, k;
    json_t *h, *a, *it;
    json_array_foreach (json_object_get(r.json, "hypervisors"), i, a) {
        const char *name = json_string_value(json_object_get(a, "name"));
        bool on_path = false;
        json_array_foreach (hops, k, h) {
            const char *hn = json_string_value(json_object_get(h,
                                                               "hypervisor"));
            on_path |= hn && !strcmp(hn, name);
        }
        if (!on_path) {
            continue;
        }
        if (!json_is_true(json_object_get(a, "audited"))) {
            json_array_append_new(unchecked, json_pack(
                                      "{s:s,s:O}", "hypervisor", name,
                                      "reason", json_object_get(a, "reason")));
            continue;
        }
        json_array_foreach (json_object_get(a, "items"), k, it) {
            if (item_on_path(it, trace)) {
                json_t *x = json_deep_copy(it);
                json_object_set_new(x, "hypervisor", json_string(name));
                json_array_append_new(found, x);
            }
        }
    }
    nvoctl_reply_free(&r);
    int rc = json_array_size(found) ? NVOCTL_EXIT_DRIFT : 0;
    json_object_set_new(out, "check", json_pack(
                            "{s:b,s:o,s:o}", "switches_agree", !rc,
                            "differences", found, "not_checked", unchecked));
    return rc;
}

static int
cmd_trace(struct ctx *c)
{
    char *from = escape(c->a->from), *to = escape(c->a->to);
    char *smac = c->a->src_mac ? escape(c->a->src_mac) : NULL;
    char *path = xasprintf_("/v1/trace?from=%s&to=%s%s%s", from, to,
                            smac ? "&src_mac=" : "", smac ? smac : "");
    free(from);
    free(to);
    free(smac);
    struct nvoctl_reply r;
    int error = call(c, "GET", path, NULL, &r);
    free(path);
    if (error) {
        return error;
    }
    int rc = 0;
    if (c->a->check) {
        rc = trace_check(c, r.json, r.json);
        if (rc && rc != NVOCTL_EXIT_DRIFT) {
            nvoctl_reply_free(&r);
            return rc;
        }
    }
    if (c->a->format == NVOCTL_FORMAT_JSON) {
        print_json(c, r.json);
        nvoctl_reply_free(&r);
        return rc;
    }
    const json_t *f = json_object_get(r.json, "from");
    fprintf(c->out, "frame from VM %s (port %" JSON_INTEGER_FORMAT ", %s) on "
            "%s (%s), network %s (VNI %" JSON_INTEGER_FORMAT ") to %s\n\n",
            json_string_value(json_object_get(f, "vm")),
            json_integer_value(json_object_get(f, "port_id")),
            json_string_value(json_object_get(f, "src_mac")),
            json_string_value(json_object_get(f, "hypervisor")),
            json_string_value(json_object_get(f, "dataplane")),
            json_string_value(json_object_get(f, "network")),
            json_integer_value(json_object_get(f, "vni")),
            json_string_value(json_object_get(r.json, "to")));
    static const struct nvoctl_column cols[] = {
        { "HYPERVISOR", "hypervisor", false }, { "TABLE", "table", true },
        { "STAGE", "stage", false }, { "MATCH", "match", false },
        { "ACTION", "action", false },
    };
    nvoctl_table_print_json(c->out, cols, ARRAY_N(cols),
                            json_object_get(r.json, "hops"));
    fprintf(c->out, "\nverdict: %s",
            json_string_value(json_object_get(r.json, "verdict")));
    size_t i;
    json_t *d;
    json_array_foreach (json_object_get(r.json, "delivered_to"), i, d) {
        fprintf(c->out, "%s VM %s on %s (%s)", i ? "," : " to",
                json_string_value(json_object_get(d, "vm")),
                json_string_value(json_object_get(d, "hypervisor")),
                json_string_value(json_object_get(d, "iface")));
    }
    fputc('\n', c->out);
    const char *reason = json_string_value(json_object_get(r.json, "reason"));
    if (reason) {
        fprintf(c->out, "why: %s\n", reason);
    }
    json_t *chk = json_object_get(r.json, "check");
    if (chk) {
        json_t *diffs = json_object_get(chk, "differences");
        if (!json_array_size(diffs)) {
            fprintf(c->out, "check: the switches on the path hold every "
                    "flow of it\n");
        } else {
            fprintf(c->out, "check: the switches DIFFER from the desired "
                    "state on this path:\n");
            json_array_foreach (diffs, i, d) {
                char *owner = audit_owner(d);
                fprintf(c->out, "  %s: %s %s (%s): %s\n",
                        json_string_value(json_object_get(d, "hypervisor")),
                        json_string_value(json_object_get(d, "kind")),
                        json_string_value(json_object_get(d, "what")), owner,
                        json_string_value(json_object_get(
                            d, json_object_get(d, "flow") ? "flow"
                                                          : "port")));
                free(owner);
            }
        }
        json_array_foreach (json_object_get(chk, "not_checked"), i, d) {
            fprintf(c->out, "check: %s not checked: %s\n",
                    json_string_value(json_object_get(d, "hypervisor")),
                    json_string_value(json_object_get(d, "reason")));
        }
    }
    nvoctl_reply_free(&r);
    return rc;
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
        return cmd_audit(c);
    case NVOCTL_TRACE:
        return cmd_trace(c);
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
