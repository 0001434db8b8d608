/* rest-tools.c - routing of the operator endpoints (issue 11), kept apart
 * from the orchestration resources in rest.c:
 *
 *   GET /v1/status         rest-status.c
 */
#include <config.h>
#include "controller/rest-private.h"

#include <string.h>

struct tools_route {
    const char *path;
    const char *allow;
    void (*handler)(struct rest_call *);
};

static const struct tools_route tools_routes[] = {
    { "/v1/status", "GET", rest_status },
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
