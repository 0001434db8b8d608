/* addr.h - the address forms nvo's command lines, REST API and agent
 * protocol take, parsed with libopenvswitch: its host/port tokenizer
 * (IPv6 in brackets), ip_parse()/ipv6_parse(), str_to_int() and
 * stream_verify_name().  MAC addresses need nothing here: use
 * eth_addr_from_string(), eth_addr_is_multicast()/eth_addr_is_zero() and
 * ETH_ADDR_FMT from OVS's packets.h.  Nothing here logs, so a peer's input
 * may be given. */
#ifndef NVO_ADDR_H
#define NVO_ADDR_H 1

#include <stdbool.h>

struct sockaddr_storage;

/* True if 's' is an IPv4 or IPv6 address in textual form (no prefix
 * length, no brackets). */
bool nvo_ip_is_valid(const char *s);

/* Parses "IP:PORT", "[IPv6]:PORT" or, if 'default_ip' is nonnull, "PORT"
 * alone into 'ss'.  Returns 0 or -EINVAL. */
int nvo_sockaddr_parse(const char *s, const char *default_ip,
                       struct sockaddr_storage *ss);

/* Parses an active remote "tcp:IP:PORT" or "ssl:IP:PORT" (IPv6 in
 * brackets) into 'ss', and '*ssl' (if nonnull) to whether it is ssl:.
 * Returns 0 or -EINVAL. */
int nvo_inet_remote_parse(const char *remote, bool *ssl,
                          struct sockaddr_storage *ss);

/* Checks an OVSDB remote as given to POST /v1/hypervisors:
 * "tcp:IP:PORT", "ssl:IP:PORT" or "unix:/PATH".  Returns 0 or -EINVAL. */
int nvo_ovsdb_remote_check(const char *s);

#endif /* lib/addr.h */
