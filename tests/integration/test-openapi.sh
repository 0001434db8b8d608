#!/bin/sh
# test-openapi.sh - the OpenAPI document (doc/openapi.json) against the
# running daemon: GET /v1/openapi.json serves it, it is well-formed OpenAPI
# 3.1 whose schemas are valid JSON Schema, and every path answers, in
# success and error cases, with statuses and bodies the document allows
# (tests/integration/openapi-check.py, python3-jsonschema).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/deploy/lab-lib.sh"
. "$top/tests/integration/tools-lib.sh"
tools_setup to$$ openapi
"$PY" -c 'import jsonschema' || die "python3-jsonschema missing (build-aux/install-deps.sh)"
lab_underlay_up || die underlay
lab_controller_start || die controller
lab_ovs_hv_add hv1 192.0.2.11 || die hv1
lab_vm_add hv1 vm1 02:00:00:00:00:01 10.0.0.1/24 || die vm1
lab_register_hv hv1 || die "register hv1"
if [ -x "$LAB_AGENT_BIN" ]; then
    lab_kernel_hv_add hv3 192.0.2.13 || die hv3
    lab_vm_add hv3 vm3 02:00:00:00:00:03 10.0.0.3/24 || die vm3
    lab_register_hv hv3 || die "register hv3"
fi

ip netns exec "$LAB_CTL_NS" "$PY" "$top/tests/integration/openapi-check.py" \
    "http://127.0.0.1:$LAB_REST_PORT" "$dir/served.json"
rc=$?
if cmp -s "$dir/served.json" "$top/doc/openapi.json"; then
    echo "ok: the served document is doc/openapi.json"
else
    echo "FAIL: the served document differs from doc/openapi.json (rebuild?)"
    rc=1
fi
exit $rc
