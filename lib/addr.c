#include <config.h>
#include "lib/addr.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "packets.h"
#include "socket-util.h"
#include "stream.h"
#include "util.h"

bool
nvo_ip_is_valid(const char *s)
{
    ovs_be32 ip4;
    struct in6_addr ip6;

    return s && (ip_parse(s, &ip4) || ipv6_parse(s, &ip6));
}

/* Parses 'host' (no brackets) and 'port_s' into 'ss'.  Unlike
 * inet_parse_active(), which this follows, it never logs: REST and agent
 * peers' input comes here. */
static int
sockaddr_from_tokens(const char *host, const char *port_s,
                     struct sockaddr_storage *ss)
{
    int port;

    if (!host || !port_s || !str_to_int(port_s, 10, &port)
        || port < 0 || port > 65535) {
        return -EINVAL;
    }
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *sin = ALIGNED_CAST(struct sockaddr_in *, ss);
    struct sockaddr_in6 *sin6 = ALIGNED_CAST(struct sockaddr_in6 *, ss);
    if (ip_parse(host, &sin->sin_addr.s_addr)) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
    } else if (ipv6_parse(host, &sin6->sin6_addr)) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
    } else {
        memset(ss, 0, sizeof *ss);
        return -EINVAL;
    }
    return 0;
}

int
nvo_sockaddr_parse(const char *s, const char *default_ip,
                   struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (!s || !*s) {
        return -EINVAL;
    }
    if (default_ip && !s[strspn(s, "0123456789")]) {
        return sockaddr_from_tokens(default_ip, s, ss);
    }

    char *copy = xstrdup(s);
    char *host, *port;
    inet_parse_host_port_tokens(copy, &host, &port);
    int error = sockaddr_from_tokens(host, port, ss);
    free(copy);
    return error;
}

int
nvo_inet_remote_parse(const char *remote, bool *ssl,
                      struct sockaddr_storage *ss)
{
    if (!remote || stream_verify_name(remote)
        || (strncmp(remote, "tcp:", 4) && strncmp(remote, "ssl:", 4))) {
        return -EINVAL;
    }
    if (ssl) {
        *ssl = remote[0] == 's';
    }
    return nvo_sockaddr_parse(remote + 4, NULL, ss);
}

int
nvo_ovsdb_remote_check(const char *s)
{
    struct sockaddr_storage ss;
    struct sockaddr_un un;

    if (s && !strncmp(s, "unix:", 5)) {
        return (s[5] == '/' && strlen(s + 5) < sizeof un.sun_path
                && !stream_verify_name(s) ? 0 : -EINVAL);
    }
    return nvo_inet_remote_parse(s, NULL, &ss);
}
