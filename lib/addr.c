#include <config.h>
#include "lib/addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int
hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = tolower((unsigned char) c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
nvo_mac_parse(const char *s, uint8_t mac[NVO_MAC_LEN])
{
    if (!s || strlen(s) != 17) {
        return -EINVAL;
    }
    for (int i = 0; i < NVO_MAC_LEN; i++) {
        const char *p = s + 3 * i;
        int hi = hexval(p[0]), lo = hexval(p[1]);
        if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':')) {
            return -EINVAL;
        }
        mac[i] = hi << 4 | lo;
    }
    return 0;
}

char *
nvo_mac_format(const uint8_t mac[NVO_MAC_LEN], char buf[NVO_MAC_STRLEN])
{
    snprintf(buf, NVO_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x",
             mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    return buf;
}

bool
nvo_mac_is_unicast(const uint8_t mac[NVO_MAC_LEN])
{
    static const uint8_t zero[NVO_MAC_LEN];
    return !(mac[0] & 1) && memcmp(mac, zero, NVO_MAC_LEN);
}

int
nvo_ipv4_parse(const char *s, struct in_addr *addr)
{
    return s && inet_pton(AF_INET, s, addr) == 1 ? 0 : -EINVAL;
}

bool
nvo_ip_is_valid(const char *s)
{
    struct in6_addr a6;
    return s && (inet_pton(AF_INET, s, &a6) == 1
                 || inet_pton(AF_INET6, s, &a6) == 1);
}

static int
parse_port(const char *s, uint16_t *port)
{
    char *end;
    long v;

    if (!*s) {
        return -EINVAL;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < 0 || v > 65535) {
        return -EINVAL;
    }
    *port = v;
    return 0;
}

int
nvo_sockaddr_parse(const char *s, const char *default_ip,
                   struct sockaddr_storage *ss)
{
    char host[64];
    const char *port_s;
    uint16_t port;

    memset(ss, 0, sizeof *ss);
    if (!s) {
        return -EINVAL;
    }
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':' || close - s - 1 >= (long) sizeof host) {
            return -EINVAL;
        }
        memcpy(host, s + 1, close - s - 1);
        host[close - s - 1] = '\0';
        port_s = close + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon) {
            if (!default_ip || strlen(default_ip) >= sizeof host) {
                return -EINVAL;
            }
            strcpy(host, default_ip);
            port_s = s;
        } else {
            if (colon - s >= (long) sizeof host) {
                return -EINVAL;
            }
            memcpy(host, s, colon - s);
            host[colon - s] = '\0';
            port_s = colon + 1;
        }
    }
    if (parse_port(port_s, &port)) {
        return -EINVAL;
    }

    struct sockaddr_in *sin = (struct sockaddr_in *) ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
    } else {
        return -EINVAL;
    }
    return 0;
}

int
nvo_ovsdb_remote_check(const char *s)
{
    struct sockaddr_storage ss;

    if (!s) {
        return -EINVAL;
    }
    if (!strncmp(s, "tcp:", 4) || !strncmp(s, "ssl:", 4)) {
        return nvo_sockaddr_parse(s + 4, NULL, &ss);
    }
    if (!strncmp(s, "unix:", 5) && s[5] == '/' && strlen(s) < 108 + 5) {
        return 0;
    }
    return -EINVAL;
}
