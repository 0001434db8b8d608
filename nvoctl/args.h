/* args.h - nvoctl's command line: global options, the command word(s) and
 * their arguments, validated against the command table.  Pure (no I/O, no
 * global state): main.c and the unit tests call it alike.
 *
 *   nvoctl [OPTIONS] OBJECT VERB [ARGS...] [KEY=VALUE...]
 *   nvoctl [OPTIONS] status|audit|trace [ARGS...]
 *
 * Options may appear anywhere before "--"; "--opt=value" and "--opt value"
 * are the same.  Environment: NVO_URL, NVO_TOKEN, NVO_CA_CERT (options win). */
#ifndef NVOCTL_ARGS_H
#define NVOCTL_ARGS_H 1

#include <stdbool.h>
#include <stddef.h>

/* Exit codes (documented in nvoctl(8) and --help). */
enum nvoctl_exit {
    NVOCTL_EXIT_OK = 0,         /* Done. */
    NVOCTL_EXIT_SERVER = 1,     /* The controller answered an error. */
    NVOCTL_EXIT_USAGE = 2,      /* Bad command line. */
    NVOCTL_EXIT_CONNECT = 3,    /* Could not talk to the controller. */
    NVOCTL_EXIT_TIMEOUT = 4,    /* --wait: committed, not confirmed in time. */
    NVOCTL_EXIT_DRIFT = 5,      /* audit found drift / trace --check differs. */
};

#define NVOCTL_DEFAULT_URL "http://127.0.0.1:8080"

enum nvoctl_format {
    NVOCTL_FORMAT_TABLE,
    NVOCTL_FORMAT_JSON,
};

struct nvoctl_cmd;

/* A parsed command line.  Strings point into argv or the environment
 * (never owned). */
struct nvoctl_args {
    const char *url;            /* --url / NVO_URL / default. */
    const char *token;          /* --token / NVO_TOKEN, or NULL. */
    const char *ca_cert;        /* --ca-cert / NVO_CA_CERT, or NULL. */
    enum nvoctl_format format;
    bool wait;                  /* --wait */
    long timeout_s;             /* --timeout (HTTP request), default 60. */
    bool help, version;
    /* Command options (each command says which it takes). */
    const char *network, *hypervisor, *bum, *role, *ovsdb, *ip;
    const char *from, *to, *src_mac;
    bool check, repair;
    unsigned int seen;          /* NVOCTL_OPT_* bits given. */

    const struct nvoctl_cmd *cmd;   /* NULL with --help/--version alone. */
    char **pos;                 /* Positional arguments after the command. */
    size_t n_pos;
    char **sets;                /* KEY=VALUE extra fields (writes). */
    size_t n_sets;
    char **words_storage;       /* Owned: backs 'pos' and 'sets'. */
};

/* Command options, as bits in 'seen' and in a command's 'opts'. */
enum {
    NVOCTL_OPT_NETWORK = 1 << 0,
    NVOCTL_OPT_HYPERVISOR = 1 << 1,
    NVOCTL_OPT_BUM = 1 << 2,
    NVOCTL_OPT_ROLE = 1 << 3,
    NVOCTL_OPT_OVSDB = 1 << 4,
    NVOCTL_OPT_IP = 1 << 5,
    NVOCTL_OPT_FROM = 1 << 6,
    NVOCTL_OPT_TO = 1 << 7,
    NVOCTL_OPT_CHECK = 1 << 8,
    NVOCTL_OPT_REPAIR = 1 << 9,
    NVOCTL_OPT_WAIT = 1 << 10,
    NVOCTL_OPT_SRC_MAC = 1 << 11,
};

/* What a command does, looked up by its words. */
enum nvoctl_cmd_id {
    NVOCTL_NETWORK_LIST, NVOCTL_NETWORK_SHOW, NVOCTL_NETWORK_ADD,
    NVOCTL_NETWORK_DEL,
    NVOCTL_HV_LIST, NVOCTL_HV_SHOW, NVOCTL_HV_ADD, NVOCTL_HV_DEL,
    NVOCTL_PORT_LIST, NVOCTL_PORT_SHOW, NVOCTL_PORT_ADD, NVOCTL_PORT_DEL,
    NVOCTL_PORT_MOVE,
    NVOCTL_STATUS, NVOCTL_AUDIT, NVOCTL_TRACE,
};

struct nvoctl_cmd {
    const char *object;         /* "network", or the command for one-word
                                 * commands ("status"). */
    const char *verb;           /* "list", or NULL for one-word commands. */
    enum nvoctl_cmd_id id;
    size_t min_pos, max_pos;    /* Positional arguments. */
    bool takes_sets;            /* KEY=VALUE fields allowed. */
    unsigned int opts;          /* NVOCTL_OPT_* it accepts. */
    const char *synopsis;       /* For --help. */
};

/* The command table, 'n' entries (static, never freed). */
const struct nvoctl_cmd *nvoctl_cmds(size_t *n);

/* Parses 'argv' ('argc' entries, argv[0] the program) into 'a', reading the
 * environment through 'env' (getenv, or a stub in tests; may be NULL).
 * Returns 0, or NVOCTL_EXIT_USAGE with a message in '*errp' (caller frees).
 * Always call nvoctl_args_destroy(a) afterwards. */
int nvoctl_args_parse(struct nvoctl_args *a, int argc, char *argv[],
                      const char *(*env)(const char *name), char **errp);

/* Frees what 'a' owns.  Accepts NULL. */
void nvoctl_args_destroy(struct nvoctl_args *a);

/* True if 's' is an accepted URL for --url (http:// or https://, a host). */
bool nvoctl_url_valid(const char *s);

#endif /* nvoctl/args.h */
