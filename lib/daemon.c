#include <config.h>
#include "lib/daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "openvswitch/vlog.h"
#include "util.h"


int
nvo_daemon_log_init(const char *argv0, const char *log_file, bool verbose)
{
    set_program_name(argv0);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, verbose ? VLL_DBG : VLL_INFO);
    vlog_set_levels(NULL, VLF_SYSLOG, VLL_OFF);
    if (log_file) {
        int error = vlog_set_log_file(log_file);
        if (error) {
            return -error;
        }
    }
    return 0;
}

void
nvo_daemon_handle_option(int opt, const char *arg)
{
    switch (opt) {
    case NVO_OPT_PIDFILE: {
        char *abs = abs_file_name(NULL, arg);
        set_pidfile(abs);
        free(abs);
        break;
    }
    case NVO_OPT_DETACH:
        set_detach();
        break;
    case NVO_OPT_MONITOR:
        daemon_set_monitor();
        break;
    case NVO_OPT_USER:
        daemon_set_new_user(arg);
        break;
    default:
        OVS_NOT_REACHED();
    }
    set_no_chdir();
}

void
nvo_daemon_usage(FILE *stream)
{
    fputs("\
Daemon options (libopenvswitch's, as ovsdb-server and ovs-vswitchd take):\n\
  --pidfile=FILE        write the process ID to FILE, held under a lock\n\
                        while running and removed at exit; refuses to start\n\
                        while another live process holds it\n\
  --detach              run in the background once started (the command\n\
                        returns 0 only when the daemon is ready)\n\
  --monitor             keep a monitor process that restarts the daemon\n\
                        if it crashes (SIGSEGV, SIGABRT, ...)\n\
  --user=USER[:GROUP]   run as USER once started (the agent keeps\n\
                        CAP_NET_ADMIN and CAP_NET_RAW)\n\
\n", stream);
}

static void
close_walk_cb(uv_handle_t *handle, void *arg OVS_UNUSED)
{
    if (!uv_is_closing(handle)) {
        uv_close(handle, NULL);
    }
}

void
nvo_daemon_uv_close_all(uv_loop_t *loop)
{
    uv_walk(loop, close_walk_cb, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
}

uint64_t
nvo_daemon_parse_ms(const char *option, const char *arg)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno || *end || !v || v > 3600 * 1000 || arg[0] == '-') {
        fprintf(stderr, "%s: %s: %s is not a number of milliseconds from 1 "
                "to 3600000\n", program_name, option, arg);
        exit(EXIT_FAILURE);
    }
    return v;
}
