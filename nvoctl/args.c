/* args.c - nvoctl's command line parser and command table. */
#include "nvoctl/args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct nvoctl_cmd cmds[] = {
    { "network", "list", NVOCTL_NETWORK_LIST, 0, 0, false, 0,
      "network list" },
    { "network", "show", NVOCTL_NETWORK_SHOW, 1, 1, false, 0,
      "network show NAME" },
    { "network", "add", NVOCTL_NETWORK_ADD, 2, 2, true,
      NVOCTL_OPT_BUM | NVOCTL_OPT_WAIT,
      "network add NAME VNI [--bum=head-end|service-node] [KEY=VALUE...]" },
    { "network", "del", NVOCTL_NETWORK_DEL, 1, 1, false, NVOCTL_OPT_WAIT,
      "network del NAME" },
    { "hypervisor", "list", NVOCTL_HV_LIST, 0, 0, false, 0,
      "hypervisor list" },
    { "hypervisor", "show", NVOCTL_HV_SHOW, 1, 1, false, 0,
      "hypervisor show NAME" },
    { "hypervisor", "add", NVOCTL_HV_ADD, 3, 3, true,
      NVOCTL_OPT_ROLE | NVOCTL_OPT_OVSDB | NVOCTL_OPT_WAIT,
      "hypervisor add NAME TUNNEL_IP ovs|kernel [--role=hypervisor|"
      "service-node] [--ovsdb=tcp:IP:PORT] [KEY=VALUE...]" },
    { "hypervisor", "del", NVOCTL_HV_DEL, 1, 1, false, NVOCTL_OPT_WAIT,
      "hypervisor del NAME" },
    { "port", "list", NVOCTL_PORT_LIST, 0, 0, false,
      NVOCTL_OPT_NETWORK | NVOCTL_OPT_HYPERVISOR,
      "port list [--network=NAME] [--hypervisor=NAME]" },
    { "port", "show", NVOCTL_PORT_SHOW, 1, 1, false, 0,
      "port show ID|VM" },
    { "port", "add", NVOCTL_PORT_ADD, 5, 5, true,
      NVOCTL_OPT_IP | NVOCTL_OPT_WAIT,
      "port add VM NETWORK HYPERVISOR MAC IFACE [--ip=IP] [KEY=VALUE...]" },
    { "port", "del", NVOCTL_PORT_DEL, 1, 1, false, NVOCTL_OPT_WAIT,
      "port del ID|VM" },
    { "port", "move", NVOCTL_PORT_MOVE, 2, 3, false, NVOCTL_OPT_WAIT,
      "port move ID|VM HYPERVISOR [IFACE]" },
    { "status", NULL, NVOCTL_STATUS, 0, 0, false, 0, "status" },
    { "audit", NULL, NVOCTL_AUDIT, 0, 0, false,
      NVOCTL_OPT_REPAIR | NVOCTL_OPT_WAIT, "audit [--repair [--wait]]" },
    { "trace", NULL, NVOCTL_TRACE, 0, 0, false,
      NVOCTL_OPT_FROM | NVOCTL_OPT_TO | NVOCTL_OPT_CHECK | NVOCTL_OPT_SRC_MAC,
      "trace --from=VM|PORT-ID --to=MAC|IP [--src-mac=MAC] [--check]" },
};

const struct nvoctl_cmd *
nvoctl_cmds(size_t *n)
{
    *n = sizeof cmds / sizeof cmds[0];
    return cmds;
}

enum opt_id {
    O_URL, O_TOKEN, O_CA_CERT, O_FORMAT, O_WAIT, O_TIMEOUT, O_HELP,
    O_VERSION, O_NETWORK, O_HYPERVISOR, O_BUM, O_ROLE, O_OVSDB, O_IP,
    O_FROM, O_TO, O_CHECK, O_REPAIR, O_SRC_MAC,
};

struct opt {
    const char *name;
    enum opt_id id;
    bool has_arg;
};

static const struct opt opts[] = {
    { "url", O_URL, true },
    { "token", O_TOKEN, true },
    { "ca-cert", O_CA_CERT, true },
    { "format", O_FORMAT, true },
    { "wait", O_WAIT, false },
    { "timeout", O_TIMEOUT, true },
    { "help", O_HELP, false },
    { "version", O_VERSION, false },
    { "network", O_NETWORK, true },
    { "hypervisor", O_HYPERVISOR, true },
    { "bum", O_BUM, true },
    { "role", O_ROLE, true },
    { "ovsdb", O_OVSDB, true },
    { "ip", O_IP, true },
    { "from", O_FROM, true },
    { "to", O_TO, true },
    { "check", O_CHECK, false },
    { "repair", O_REPAIR, false },
    { "src-mac", O_SRC_MAC, true },
};

static char *
msg(const char *fmt, ...)
{
    va_list args;
    char *s = NULL;
    va_start(args, fmt);
    if (vasprintf(&s, fmt, args) < 0) {
        abort();
    }
    va_end(args);
    return s;
}

bool
nvoctl_url_valid(const char *s)
{
    const char *host;
    if (!strncmp(s, "http://", 7)) {
        host = s + 7;
    } else if (!strncmp(s, "https://", 8)) {
        host = s + 8;
    } else {
        return false;
    }
    return *host && *host != '/' && *host != ':'
           && !strpbrk(host, " \t\r\n?#");
}

/* Sets the option 'o' from 'val' (NULL for flags).  Returns 0 or
 * NVOCTL_EXIT_USAGE with '*errp' set. */
static int
set_opt(struct nvoctl_args *a, const struct opt *o, const char *val,
        char **errp)
{
    switch (o->id) {
    case O_URL: a->url = val; break;
    case O_TOKEN: a->token = val; break;
    case O_CA_CERT: a->ca_cert = val; break;
    case O_FORMAT:
        if (!strcmp(val, "json")) {
            a->format = NVOCTL_FORMAT_JSON;
        } else if (!strcmp(val, "table")) {
            a->format = NVOCTL_FORMAT_TABLE;
        } else {
            *errp = msg("--format: '%s' is not table or json", val);
            return NVOCTL_EXIT_USAGE;
        }
        break;
    case O_WAIT: a->wait = true; a->seen |= NVOCTL_OPT_WAIT; break;
    case O_TIMEOUT: {
        char *end;
        errno = 0;
        long t = strtol(val, &end, 10);
        if (errno || end == val || *end || t <= 0 || t > 86400) {
            *errp = msg("--timeout: '%s' is not a number of seconds "
                        "(1..86400)", val);
            return NVOCTL_EXIT_USAGE;
        }
        a->timeout_s = t;
        break;
    }
    case O_HELP: a->help = true; break;
    case O_VERSION: a->version = true; break;
    case O_NETWORK: a->network = val; a->seen |= NVOCTL_OPT_NETWORK; break;
    case O_HYPERVISOR:
        a->hypervisor = val; a->seen |= NVOCTL_OPT_HYPERVISOR; break;
    case O_BUM: a->bum = val; a->seen |= NVOCTL_OPT_BUM; break;
    case O_ROLE: a->role = val; a->seen |= NVOCTL_OPT_ROLE; break;
    case O_OVSDB: a->ovsdb = val; a->seen |= NVOCTL_OPT_OVSDB; break;
    case O_IP: a->ip = val; a->seen |= NVOCTL_OPT_IP; break;
    case O_FROM: a->from = val; a->seen |= NVOCTL_OPT_FROM; break;
    case O_TO: a->to = val; a->seen |= NVOCTL_OPT_TO; break;
    case O_CHECK: a->check = true; a->seen |= NVOCTL_OPT_CHECK; break;
    case O_REPAIR: a->repair = true; a->seen |= NVOCTL_OPT_REPAIR; break;
    case O_SRC_MAC: a->src_mac = val; a->seen |= NVOCTL_OPT_SRC_MAC; break;
    }
    return 0;
}

/* Name of the option bit 'bit', for messages. */
static const char *
opt_bit_name(unsigned int bit)
{
    static const char *const names[] = {
        "--network", "--hypervisor", "--bum", "--role", "--ovsdb", "--ip",
        "--from", "--to", "--check", "--repair", "--wait", "--src-mac",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (bit == 1u << i) {
            return names[i];
        }
    }
    return "?";
}

static const struct nvoctl_cmd *
find_cmd(char **words, size_t n, size_t *used)
{
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        const struct nvoctl_cmd *c = &cmds[i];
        if (!n || strcmp(words[0], c->object)) {
            continue;
        }
        if (!c->verb) {
            *used = 1;
            return c;
        }
        if (n >= 2 && !strcmp(words[1], c->verb)) {
            *used = 2;
            return c;
        }
    }
    return NULL;
}

static bool
is_object(const char *w)
{
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (!strcmp(w, cmds[i].object)) {
            return true;
        }
    }
    return false;
}

/* "hv" and "hypervisors" for "hypervisor", "net" for "network", "ls" for
 * "list", "rm" for "del": the spellings operators type. */
static char *
canonical_word(char *w)
{
    static const char *const alias[][2] = {
        { "hv", "hypervisor" }, { "hypervisors", "hypervisor" },
        { "net", "network" }, { "networks", "network" },
        { "ports", "port" }, { "ls", "list" }, { "rm", "del" },
        { "delete", "del" }, { "create", "add" }, { "get", "show" },
    };
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++) {
        if (!strcmp(w, alias[i][0])) {
            return (char *) alias[i][1];
        }
    }
    return w;
}

int
nvoctl_args_parse(struct nvoctl_args *a, int argc, char *argv[],
                  const char *(*env)(const char *name), char **errp)
{
    memset(a, 0, sizeof *a);
    *errp = NULL;
    a->timeout_s = 60;
    a->url = env && env("NVO_URL") && *env("NVO_URL") ? env("NVO_URL")
                                                      : NVOCTL_DEFAULT_URL;
    a->token = env && env("NVO_TOKEN") && *env("NVO_TOKEN")
               ? env("NVO_TOKEN") : NULL;
    a->ca_cert = env && env("NVO_CA_CERT") && *env("NVO_CA_CERT")
                 ? env("NVO_CA_CERT") : NULL;

    char **words = calloc(argc + 1, sizeof *words);
    if (!words) {
        abort();
    }
    a->words_storage = words;
    size_t n = 0;
    bool only_words = false;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (only_words || arg[0] != '-' || !arg[1]) {
            words[n++] = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            only_words = true;
            continue;
        }
        if (!strcmp(arg, "-h")) {
            a->help = true;
            continue;
        }
        if (!strcmp(arg, "-V")) {
            a->version = true;
            continue;
        }
        if (arg[1] != '-') {
            *errp = msg("unknown option '%s' (nvoctl --help)", arg);
            return NVOCTL_EXIT_USAGE;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t) (eq - name) : strlen(name);
        const struct opt *o = NULL;
        for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
            if (strlen(opts[k].name) == len
                && !strncmp(opts[k].name, name, len)) {
                o = &opts[k];
                break;
            }
        }
        if (!o) {
            *errp = msg("unknown option '--%.*s' (nvoctl --help)", (int) len,
                        name);
            return NVOCTL_EXIT_USAGE;
        }
        const char *val = NULL;
        if (o->has_arg) {
            if (eq) {
                val = eq + 1;
            } else if (i + 1 < argc) {
                val = argv[++i];
            } else {
                *errp = msg("option '--%s' needs a value", o->name);
                return NVOCTL_EXIT_USAGE;
            }
        } else if (eq) {
            *errp = msg("option '--%s' takes no value", o->name);
            return NVOCTL_EXIT_USAGE;
        }
        int error = set_opt(a, o, val, errp);
        if (error) {
            return error;
        }
    }

    if (!nvoctl_url_valid(a->url)) {
        *errp = msg("'%s' is not an http:// or https:// URL", a->url);
        return NVOCTL_EXIT_USAGE;
    }
    if (!n) {
        if (a->help || a->version) {
            return 0;
        }
        *errp = msg("missing command (nvoctl --help)");
        return NVOCTL_EXIT_USAGE;
    }
    words[0] = canonical_word(words[0]);
    if (n >= 2) {
        words[1] = canonical_word(words[1]);
    }
    size_t used = 0;
    a->cmd = find_cmd(words, n, &used);
    if (!a->cmd) {
        if (a->help && is_object(words[0])) {
            return 0;           /* "nvoctl port --help": usage of 'port'. */
        }
        if (is_object(words[0])) {
            *errp = msg(n >= 2 ? "%s: unknown command '%s' (nvoctl --help)"
                               : "%s: missing command (nvoctl --help)",
                        words[0], n >= 2 ? words[1] : "");
        } else {
            *errp = msg("unknown command '%s' (nvoctl --help)", words[0]);
        }
        return NVOCTL_EXIT_USAGE;
    }
    if (a->help) {
        return 0;
    }

    /* Split what follows the command into positional arguments and, where
     * the command takes them, trailing KEY=VALUE fields. */
    a->pos = words + used;
    size_t rest = n - used;
    a->n_pos = rest;
    if (a->cmd->takes_sets) {
        size_t k = rest;
        while (k > a->cmd->min_pos && strchr(a->pos[k - 1], '=')) {
            k--;
        }
        a->sets = a->pos + k;
        a->n_sets = rest - k;
        a->n_pos = k;
        for (size_t i = 0; i < a->n_sets; i++) {
            if (a->sets[i][0] == '=') {
                *errp = msg("'%s': KEY=VALUE needs a key", a->sets[i]);
                return NVOCTL_EXIT_USAGE;
            }
        }
    }
    if (a->n_pos < a->cmd->min_pos || a->n_pos > a->cmd->max_pos) {
        *errp = msg("usage: nvoctl %s", a->cmd->synopsis);
        return NVOCTL_EXIT_USAGE;
    }
    unsigned int extra = a->seen & ~a->cmd->opts;
    if (extra) {
        unsigned int bit = extra & -extra;
        *errp = msg("option %s does not apply to '%s%s%s'", opt_bit_name(bit),
                    a->cmd->object, a->cmd->verb ? " " : "",
                    a->cmd->verb ? a->cmd->verb : "");
        return NVOCTL_EXIT_USAGE;
    }
    if (a->cmd->id == NVOCTL_TRACE && (!a->from || !a->to)) {
        *errp = msg("usage: nvoctl %s", a->cmd->synopsis);
        return NVOCTL_EXIT_USAGE;
    }
    if (a->cmd->id == NVOCTL_AUDIT && a->wait && !a->repair) {
        *errp = msg("audit: --wait applies to --repair only");
        return NVOCTL_EXIT_USAGE;
    }
    return 0;
}

void
nvoctl_args_destroy(struct nvoctl_args *a)
{
    if (a) {
        free(a->words_storage);
        a->words_storage = NULL;
    }
}
