#include <config.h>
#include "lib/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(daemon);

static int ready_fd = -1;        /* Child's end of the readiness pipe. */
static char *pidfile_path;
static bool have_log_file;

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
        have_log_file = true;
    }
    return 0;
}

void
nvo_daemon_detach(void)
{
    int fds[2];
    pid_t pid;

    if (pipe(fds)) {
        ovs_fatal(errno, "pipe");
    }
    pid = fork();
    if (pid < 0) {
        ovs_fatal(errno, "fork");
    } else if (pid > 0) {
        char c;
        ssize_t n;

        close(fds[1]);
        do {
            n = read(fds[0], &c, 1);
        } while (n < 0 && errno == EINTR);
        if (n == 1) {
            _exit(0);
        }
        /* The child died before it was ready; pass its status on. */
        int status = 0;
        waitpid(pid, &status, 0);
        _exit(WIFEXITED(status) && WEXITSTATUS(status)
              ? WEXITSTATUS(status) : 1);
    }
    close(fds[0]);
    ready_fd = fds[1];
    setsid();
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        if (have_log_file) {
            dup2(null, STDERR_FILENO);
        }
        if (null > STDERR_FILENO) {
            close(null);
        }
    }
}

void
nvo_daemon_ready(void)
{
    if (ready_fd >= 0) {
        ssize_t n = write(ready_fd, "", 1);
        (void) n;
        close(ready_fd);
        ready_fd = -1;
    }
}

int
nvo_daemon_pidfile_write(const char *path)
{
    char buf[32];
    FILE *f;

    if (!path) {
        return 0;
    }
    f = fopen(path, "r");
    if (f) {
        long other = 0;
        if (fscanf(f, "%ld", &other) == 1 && other > 0 && other != getpid()
            && kill(other, 0) == 0) {
            fclose(f);
            VLOG_ERR("%s: pidfile names running process %ld", path, other);
            return -EEXIST;
        }
        fclose(f);
    }

    char *tmp = xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int error = -errno;
        free(tmp);
        return error;
    }
    int len = snprintf(buf, sizeof buf, "%ld\n", (long) getpid());
    if (write(fd, buf, len) != len || fsync(fd) || close(fd)
        || rename(tmp, path)) {
        int error = -errno;
        unlink(tmp);
        free(tmp);
        return error;
    }
    free(tmp);
    free(pidfile_path);
    pidfile_path = xstrdup(path);
    return 0;
}

void
nvo_daemon_pidfile_remove(void)
{
    if (pidfile_path) {
        unlink(pidfile_path);
        free(pidfile_path);
        pidfile_path = NULL;
    }
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
