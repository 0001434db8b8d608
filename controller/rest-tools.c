/* rest-tools.c - routing of the operator endpoints (issue 11), kept apart
 * from the orchestration resources in rest.c:
 *
 *   GET /v1/status         rest-status.c
 *   GET /v1/openapi.json   doc/openapi.json, compiled in (rest-embed.h)
 *   GET /v1/audit          rest-audit.c: drift of every hypervisor
 *   POST /v1/audit/repair  the same, then resync those that drifted
 *   GET /v1/trace          rest-trace.c: a frame's path
 *   GET /                  controller/topology.html, compiled in: the
 *                          read-only topology page (polls /v1/status and
 *                          /v1/ports; no external assets)
 */
#include <config.h>
#include "controller/rest-private.h"

#include <string.h>

#include "controller/model.h"
#include "controller/rest-embed.h"

struct tools_route {
    const char *path;
    const char *allow;
    void (*handler)(struct rest_call *);
};

static void
serve_openapi(struct rest_call *c)
{
    rest_reply_text(c, 200, "application/json", nvo_openapi_json,
                    nvo_openapi_json_len);
}

static void
serve_topology(struct rest_call *c)
{
    rest_reply_text(c, 200, "text/html; charset=utf-8", nvo_topology_html,
                    nvo_topology_html_len);
}

static const struct tools_route tools_routes[] = {
    { "/", "GET", serve_topology },
    { "/v1/status", "GET", rest_status },
    { "/v1/openapi.json", "GET", serve_openapi },
    { "/v1/audit", "GET", rest_audit_get },
    { "/v1/audit/repair", "POST", rest_audit_repair },
    { "/v1/trace", "GET", rest_trace },
};

bool
rest_tools_route(struct rest_call *c, const char *path)
{
    for (size_t i = 0; i < sizeof tools_routes / sizeof tools_routes[0];
         i++) {
        const struct tools_route *r = &tools_routes[i];
        if (!strcmp(path, r->path)) {
            if (rest_check_method(c, r->allow)) {
                r->handler(c);
            }
            return true;
        }
    }
    return false;
}
