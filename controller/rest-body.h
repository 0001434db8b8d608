/* rest-body.h - the REST layer's request bodies: bytes to a JSON object
 * (jansson, duplicate keys refused), then the object to the service
 * layer's request structs, with the API's typing rules (a field absent or
 * null is NULL/unset; strings without NUL; integers; booleans; arrays of
 * strings).  Presence, syntax and combinations are the validators' part
 * (controller/validate.h), called by the service layer.
 *
 * Pure: no h2o, no I/O, so tests/fuzz/fuzz-rest-body.c runs exactly this
 * code.  Each function returns NULL on success or a message naming the
 * field, answered with 400 (caller frees it).  Strings in the filled
 * structs point into 'body' and live as long as it does. */
#ifndef NVO_REST_BODY_H
#define NVO_REST_BODY_H 1

#include <jansson.h>
#include <stddef.h>

#include "controller/service.h"
#include "controller/validate.h"

/* Parses 'len' bytes at 'data' as a JSON object.  Returns it (caller owns
 * it: json_decref()) with '*errmsg' NULL, or NULL with '*errmsg' set. */
json_t *rest_body_parse(const char *data, size_t len, char **errmsg);

/* POST /v1/networks. */
char *rest_body_net(const json_t *body, struct nvo_net_req *);

/* PATCH /v1/networks/NAME. */
char *rest_body_net_patch(const json_t *body, struct nvo_net_patch *);

/* POST /v1/hypervisors. */
char *rest_body_hv(const json_t *body, struct nvo_hv_req *);

/* POST /v1/ports.  On success rq->allowed is NULL or an array the caller
 * frees with free(). */
char *rest_body_port(const json_t *body, struct nvo_port_req *);

/* PATCH /v1/ports/ID: 'hypervisor' and 'iface' (each NULL if absent). */
char *rest_body_port_move(const json_t *body, const char **hypervisor,
                          const char **iface);

#endif /* controller/rest-body.h */
