/* daemon.h - what both nvo daemons do to become a daemon: logging setup and
 * the daemon options, which libopenvswitch's daemon-unix implements
 * (pidfile under an fcntl lock, stale pidfiles replaced, the parent of
 * --detach waiting for the child's readiness, --monitor restarting a
 * crashed daemon, --user dropping privileges).
 *
 * Use in a daemon:
 *   struct option long_options[] = { ..., NVO_DAEMON_LONG_OPTIONS, ... };
 *   NVO_DAEMON_OPTION_CASES: nvo_daemon_handle_option(c, optarg); break;
 *   nvo_daemon_usage(stdout);            // inside --help
 *   ...
 *   nvo_daemon_log_init(argv[0], log_file, verbose);
 *   daemonize_start(ACCESS_DATAPATH);    // before any thread or uv loop:
 *                                        // forks, writes the pidfile
 *   ... bind listeners ...
 *   daemonize_complete();                // a waiting parent exits 0 now
 *   ... run; exit() removes the pidfile ...
 */
#ifndef NVO_DAEMON_H
#define NVO_DAEMON_H 1

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

/* libopenvswitch's lib/daemon.h (daemonize_start() etc.): the angle
 * brackets find it on the OVS include path, never this file. */
#include <daemon.h>

/* getopt_long() values, above any daemon's own option values and apart
 * from lib/pki.h's. */
enum {
    NVO_OPT_PIDFILE = 0x1100,
    NVO_OPT_DETACH,
    NVO_OPT_MONITOR,
    NVO_OPT_USER,
};

#define NVO_DAEMON_LONG_OPTIONS                                           \
    {"pidfile", required_argument, NULL, NVO_OPT_PIDFILE},                \
    {"detach", no_argument, NULL, NVO_OPT_DETACH},                        \
    {"monitor", no_argument, NULL, NVO_OPT_MONITOR},                      \
    {"user", required_argument, NULL, NVO_OPT_USER}

#define NVO_DAEMON_OPTION_CASES                                           \
    case NVO_OPT_PIDFILE: case NVO_OPT_DETACH: case NVO_OPT_MONITOR:      \
    case NVO_OPT_USER

/* Records daemon option 'opt' (one of NVO_OPT_PIDFILE...NVO_OPT_USER) with
 * its argument 'arg' for daemonize_start().  A relative --pidfile is taken
 * relative to the current directory (libopenvswitch alone would put it
 * under its run directory), and the daemon never changes directory, so
 * relative --db, --log-file and PKI paths keep meaning what they meant. */
void nvo_daemon_handle_option(int opt, const char *arg);

/* Prints the daemon options' --help lines to 'stream'. */
void nvo_daemon_usage(FILE *stream);

/* Sets the program name and routes Open vSwitch's vlog (which nvo uses for
 * all logging) to 'log_file' (NULL: stderr only) at INFO level, or DBG if
 * 'verbose'.  Returns 0 or a negative errno (log file not writable). */
int nvo_daemon_log_init(const char *argv0, const char *log_file, bool verbose);

/* Command-line helper of both daemons: parses 'arg' as a whole number of
 * milliseconds from 1 to one hour for option 'option' (e.g. "--agent-timeout").
 * Returns the value, or prints "PROGRAM: OPTION: ARG is not ..." on stderr
 * and exits with status 1. */
uint64_t nvo_daemon_parse_ms(const char *option, const char *arg);

/* At exit, after the daemon's own objects are destroyed: closes every
 * handle still open on 'loop', runs it until they are closed, closes it. */
void nvo_daemon_uv_close_all(uv_loop_t *loop);

#endif /* lib/daemon.h */
