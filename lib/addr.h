/* addr.h - parsing and checking of MAC and IP addresses. */
#ifndef NVO_ADDR_H
#define NVO_ADDR_H 1

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <netinet/in.h>

#define NVO_MAC_LEN 6
#define NVO_MAC_STRLEN 18        /* "xx:xx:xx:xx:xx:xx" plus NUL. */

/* Parses "xx:xx:xx:xx:xx:xx" (hex digits, either case, exactly six two-digit
 * groups) into 'mac'.  Returns 0 or -EINVAL. */
int nvo_mac_parse(const char *s, uint8_t mac[NVO_MAC_LEN]);

/* Formats 'mac' in lower case into 'buf' (NVO_MAC_STRLEN bytes); returns buf. */
char *nvo_mac_format(const uint8_t mac[NVO_MAC_LEN], char buf[NVO_MAC_STRLEN]);

/* True if 'mac' may be a VM's own address: not multicast/broadcast, not zero. */
bool nvo_mac_is_unicast(const uint8_t mac[NVO_MAC_LEN]);

/* Parses a dotted-quad IPv4 address into 'addr' (network byte order).
 * Returns 0 or -EINVAL. */
int nvo_ipv4_parse(const char *s, struct in_addr *addr);

/* True if 's' is a valid IPv4 or IPv6 address in textual form. */
bool nvo_ip_is_valid(const char *s);

/* Parses "IP:PORT" or "[IPv6]:PORT" or "PORT" (then 'default_ip' is used) into
 * 'ss'.  Returns 0 or -EINVAL. */
struct sockaddr_storage;
int nvo_sockaddr_parse(const char *s, const char *default_ip,
                       struct sockaddr_storage *ss);

/* Parses an OVSDB remote of the form "tcp:IP:PORT", "ssl:IP:PORT" or
 * "unix:PATH" as given to POST /v1/hypervisors.  Returns 0 or -EINVAL. */
int nvo_ovsdb_remote_check(const char *s);

#endif /* lib/addr.h */
