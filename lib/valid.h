/* valid.h - the rules for names and numbers that both daemons check: the
 * REST API on what it accepts (controller/validate.c) and the agent
 * protocol on what it receives (lib/proto-msg.c) apply the same rule, with
 * the REST contract's limits, so that nothing one side accepts is refused
 * by the other.  Pure functions, unit-tested in tests/unit/test-validate.c
 * and tests/unit/test-frame.c. */
#ifndef NVO_VALID_H
#define NVO_VALID_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NVO_NAME_MAX 64         /* Names: 1..64 of [A-Za-z0-9._-]. */
#define NVO_IFNAME_MAX 15       /* Linux IFNAMSIZ - 1. */
#define NVO_VNI_MAX 16777215    /* 24 bits; 0 is not a network. */

/* True if 's' is a valid network, hypervisor or VM name: 1 to NVO_NAME_MAX
 * characters of A-Z a-z 0-9 . _ -.  NULL is not. */
bool nvo_valid_name(const char *s);

/* True if 's' is a valid Linux interface name: 1..15 printable ASCII
 * characters, no '/', ':' or space, not "." or "..".  NULL is not. */
bool nvo_valid_ifname(const char *s);

/* True if 'vni' is a valid VXLAN network identifier (1..NVO_VNI_MAX). */
bool nvo_valid_vni(int64_t vni);

/* True if 's' is at most 'max' bytes of printable ASCII (may be empty):
 * free text such as error messages and versions.  NULL is not. */
bool nvo_valid_text(const char *s, size_t max);

#endif /* lib/valid.h */
