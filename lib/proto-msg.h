/* proto-msg.h - nvo.Message (proto/nvo.proto) to and from frames, with the
 * validation every received message goes through before anyone looks at
 * it: a message that passes nvo_msg_decode() has its oneof set, every MAC
 * 6 bytes, every VNI in 1..16777215, every IP parseable, every interface
 * name a valid Linux name, every enum known. */
#ifndef NVO_PROTO_MSG_H
#define NVO_PROTO_MSG_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/valid.h"          /* The name, interface and VNI rules. */
#include "proto/nvo.pb-c.h"

/* Protocol version spoken by this build; a Hello with another is refused. */
#define NVO_PROTO_VERSION 1


/* Encodes 'msg' as one frame (header + payload).  Returns the frame (caller
 * frees with free()) and sets '*len'; NULL with -EMSGSIZE in '*errp' if it
 * would exceed NVO_FRAME_MAX. */
uint8_t *nvo_msg_encode(const Nvo__Message *msg, size_t *len, int *errp);

/* Decodes and validates one frame payload, within the NVO_MSG_MAX_*
 * limits on repeated fields (checked on the wire before decoding) and
 * nvo_msg_from_controller's field budget.  Returns the message (caller
 * frees with nvo_msg_free()) or NULL with '*errmsg' set (caller frees with
 * free()). */
Nvo__Message *nvo_msg_decode(const uint8_t *payload, size_t len,
                             char **errmsg);

/* What a receiver accepts, checked on the wire before protobuf-c decodes
 * anything, so that a frame cannot cost much more memory decoded than it
 * took on the wire (an empty repeated element is 2 bytes on the wire and
 * ~50 in memory): which message bodies it takes, and how many fields (at
 * any depth, known or not) a message may carry.  Repeated fields also
 * have their own limits (NVO_MSG_MAX_*), whoever receives them. */
struct nvo_msg_limits {
    unsigned int accept;        /* Bit (1u << Nvo__Message__BodyCase). */
    size_t max_fields;
};

/* The controller receiving from an agent: hello, ack, heartbeat, error,
 * state report; 2^18 fields (a few MB decoded at most). */
extern const struct nvo_msg_limits nvo_msg_from_agent;
/* An agent receiving from the controller: snapshot, delta, heartbeat,
 * error, state request; bounded by the frame size. */
extern const struct nvo_msg_limits nvo_msg_from_controller;

#define NVO_MSG_MAX_NETWORKS 16384  /* Per snapshot or delta. */
#define NVO_MSG_MAX_LOCALS 4096     /* Per network. */
#define NVO_MSG_MAX_REMOTES 65536   /* Per network. */
#define NVO_MSG_MAX_FLOOD 4096      /* Per network. */
#define NVO_MSG_MAX_REMOVED 16384   /* Removed VNIs per delta. */
#define NVO_MSG_MAX_ERRORS 4096     /* Item errors per ack. */
#define NVO_MSG_MAX_COUNTERS 16384  /* VNI counters per heartbeat. */
#define NVO_MSG_MAX_DROPS 16        /* Drop reasons per VNI counter. */
/* A state report: networks, and per network bridge ports, FDB entries
 * (VXLAN device's; the bridge's static ones) and neighbours. */
#define NVO_MSG_MAX_REPORT_NETWORKS NVO_MSG_MAX_NETWORKS
#define NVO_MSG_MAX_REPORT_PORTS NVO_MSG_MAX_LOCALS
#define NVO_MSG_MAX_REPORT_FDB (NVO_MSG_MAX_REMOTES + NVO_MSG_MAX_FLOOD)
#define NVO_MSG_MAX_REPORT_NEIGHBOURS (NVO_MSG_MAX_REMOTES \
                                       + NVO_MSG_MAX_LOCALS)

/* Checks 'payload' against 'limits' without decoding it.  Returns 0, or
 * -EPROTO with '*errmsg' set (caller frees). */
int nvo_msg_precheck(const uint8_t *payload, size_t len,
                     const struct nvo_msg_limits *limits, char **errmsg);

/* nvo_msg_precheck(), then nvo_msg_decode(). */
Nvo__Message *nvo_msg_decode_limited(const uint8_t *payload, size_t len,
                                     const struct nvo_msg_limits *limits,
                                     char **errmsg);

/* Frees a message returned by nvo_msg_decode().  Accepts NULL. */
void nvo_msg_free(Nvo__Message *);

/* Validates 'msg' (as nvo_msg_decode() does).  Returns 0, or -EPROTO and
 * sets '*errmsg' (caller frees). */
int nvo_msg_validate(const Nvo__Message *msg, char **errmsg);

/* Validates one network entry (used by the validators above). */
int nvo_msg_validate_network(const Nvo__Network *net, char **errmsg);

/* "hello", "snapshot", ... for logs. */
const char *nvo_msg_type_name(const Nvo__Message *);

#endif /* lib/proto-msg.h */
