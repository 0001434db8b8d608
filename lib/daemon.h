/* daemon.h - what both nvo daemons do to become a daemon: logging setup,
 * --detach, --pidfile.
 *
 * Order of use in main():
 *   nvo_daemon_log_init(argv[0], log_file, verbose);
 *   if (detach) nvo_daemon_detach();     // parent waits for the child's readiness
 *   ... bind listeners ...
 *   nvo_daemon_pidfile_write(pidfile);   // NULL: no pidfile
 *   nvo_daemon_ready();                  // parent exits 0 now
 *   ... run ...
 *   nvo_daemon_pidfile_remove();
 */
#ifndef NVO_DAEMON_H
#define NVO_DAEMON_H 1

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/* Sets the program name and routes Open vSwitch's vlog (which nvo uses for
 * all logging) to 'log_file' (NULL: stderr only) at INFO level, or DBG if
 * 'verbose'.  Returns 0 or a negative errno (log file not writable). */
int nvo_daemon_log_init(const char *argv0, const char *log_file, bool verbose);

/* Forks.  The parent waits until the child calls nvo_daemon_ready() (exit 0)
 * or dies (exit 1); the child continues in a new session with stdin and
 * stdout on /dev/null (stderr too if a log file is set). */
void nvo_daemon_detach(void);

/* Tells a waiting parent (after nvo_daemon_detach()) that startup succeeded.
 * A no-op when not detached. */
void nvo_daemon_ready(void);

/* Writes this process's PID to 'path' (NULL: no-op) and remembers it for
 * nvo_daemon_pidfile_remove().  Refuses (-EEXIST) when 'path' names a live
 * process.  Returns 0 or a negative errno. */
int nvo_daemon_pidfile_write(const char *path);

/* Removes the pidfile written by nvo_daemon_pidfile_write(), if any. */
void nvo_daemon_pidfile_remove(void);

/* Command-line helper of both daemons: parses 'arg' as a whole number of
 * milliseconds from 1 to one hour for option 'option' (e.g. "--agent-timeout").
 * Returns the value, or prints "PROGRAM: OPTION: ARG is not ..." on stderr
 * and exits with status 1. */
uint64_t nvo_daemon_parse_ms(const char *option, const char *arg);

/* At exit, after the daemon's own objects are destroyed: closes every
 * handle still open on 'loop', runs it until they are closed, closes it. */
void nvo_daemon_uv_close_all(uv_loop_t *loop);

#endif /* lib/daemon.h */
