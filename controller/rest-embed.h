/* rest-embed.h - documents compiled into nvo-controller by
 * controller/gen-embed.sh (rules in controller/tools.mk).  Each is
 * NUL-terminated; *_len excludes the NUL. */
#ifndef NVO_REST_EMBED_H
#define NVO_REST_EMBED_H 1

#include <stddef.h>

/* doc/openapi.json: the OpenAPI 3.1 description of the REST API. */
extern const char nvo_openapi_json[];
extern const size_t nvo_openapi_json_len;

/* controller/topology.html: the read-only topology page. */
extern const char nvo_topology_html[];
extern const size_t nvo_topology_html_len;

#endif /* controller/rest-embed.h */
