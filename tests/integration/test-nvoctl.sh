#!/bin/sh
# test-nvoctl.sh - nvoctl against a real controller: 2 OVS hypervisors and
# (when nvo-agent is built) a kernel one, every command of nvoctl(8) with
# its table and JSON output, --wait, the exit codes scripts rely on, the
# bearer token on the wire, and GET /v1/status behind `nvoctl status`.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/deploy/lab-lib.sh"
. "$top/tests/integration/tools-lib.sh"
tools_setup tn$$ nvoctl
[ -x "$LAB_NVOCTL_BIN" ] || die "nvoctl not built"
lab_underlay_up || die underlay
lab_controller_start || die controller
lab_ovs_hv_add hv1 192.0.2.11 || die hv1
lab_ovs_hv_add hv2 192.0.2.12 || die hv2
kernel=no
if [ -x "$LAB_AGENT_BIN" ]; then
    lab_kernel_hv_add hv3 192.0.2.13 || die hv3
    kernel=yes
fi
lab_vm_add hv1 vm1 02:00:00:00:00:01 10.0.0.1/24 || die vm1
lab_vm_add hv2 vm2 02:00:00:00:00:02 10.0.0.2/24 || die vm2
[ $kernel = yes ] && { lab_vm_add hv3 vm3 02:00:00:00:00:03 10.0.0.3/24 || die vm3; }

n() { lab_nvoctl "$@"; }
# rc EXPECTED CMD...: nvoctl's exit status is EXPECTED.
rc() { _want=$1; shift; n "$@" >/dev/null 2>&1; [ $? -eq "$_want" ]; }
jget() { python3 -c 'import json,sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v)' "$1"; }

# --- networks ------------------------------------------------------------
check "network add prints the record" \
    "n network add red 5001 --bum=head-end | grep -Eq '^vni +: 5001$'"
check "network add KEY=VALUE and --format=json" \
    "[ \"\$(n --format=json network add blue 5002 | jget vni)\" = 5002 ]"
check "network add of a used VNI: exit 1 with the server's reason" \
    "n network add green 5001 2>&1 >/dev/null | grep -q conflict; rc 1 network add green 5001"
check "network list: aligned table with both" \
    "n network list >$dir/nl && head -1 $dir/nl | grep -q '^NAME  *VNI  *BUM' && grep -Eq '^red +5001 +head-end' $dir/nl && grep -Eq '^blue +5002' $dir/nl"
check "network show of an unknown network: exit 1" "rc 1 network show nosuch"

# --- hypervisors -----------------------------------------------------------
check "hypervisor add (OVS, --ovsdb)" \
    "n hypervisor add hv1 192.0.2.11 ovs --ovsdb=tcp:192.0.2.11:6640 | grep -Eq '^dataplane +: ovs$'"
check "hypervisor add (OVS) with --wait confirms" \
    "n --wait hypervisor add hv2 192.0.2.12 ovs --ovsdb=tcp:192.0.2.12:6640 >/dev/null"
if [ $kernel = yes ]; then
    check "hypervisor add (kernel)" "n hypervisor add hv3 192.0.2.13 kernel >/dev/null"
fi
check "hypervisor add with a bad dataplane: exit 1 (400)" \
    "rc 1 hypervisor add hvx 192.0.2.99 frobnitz"
check "hypervisor list shows hv1 and hv2 with a state" \
    "n hv list >$dir/hl && grep -Eq '^hv1 +192.0.2.11 +ovs +hypervisor +[a-z]+' $dir/hl && grep -q '^hv2 ' $dir/hl"

# --- ports -------------------------------------------------------------------
check "port add --wait (VM start) on hv1" \
    "n --wait port add vm1 red hv1 02:00:00:00:00:01 v-vm1 --ip=10.0.0.1 | grep -Eq '^vm +: vm1$'"
check "port add --wait --format=json on hv2 gives the id" \
    "id2=\$(n --wait --format=json port add vm2 red hv2 02:00:00:00:00:02 v-vm2 --ip=10.0.0.2 | jget id) && [ \"\$id2\" -gt 0 ]"
if [ $kernel = yes ]; then
    check "port add --wait on the kernel hypervisor" \
        "n --wait port add vm3 red hv3 02:00:00:00:00:03 v-vm3 --ip=10.0.0.3 >/dev/null"
fi
check "the VMs reach each other" "lab_ping vm1 10.0.0.2"
check "port add of a MAC already in the network: exit 1" \
    "rc 1 port add vmx red hv1 02:00:00:00:00:01 v-vmx"
check "port list --network filters" \
    "[ \$(n port list --network=red | wc -l) -ge 3 ] && [ \$(n port list --network=blue | wc -l) -eq 1 ]"
check "port show by VM name" "n port show vm1 | grep -Eq '^mac +: 02:00:00:00:00:01$'"
check "hypervisor show lists its ports" "n hypervisor show hv1 | grep -Eq '^ *[0-9]+ +vm1 +red +hv1'"
check "port show of an unknown VM: exit 1" "rc 1 port show nosuchvm"

# --- status ------------------------------------------------------------------
check "status: every hypervisor connected, in sync, lag 0" \
    "n status >$dir/st; grep -Eq '^hv1 +ovs +hypervisor +connected +[0-9]+ +0 ' $dir/st && grep -Eq '^hv2 +ovs +hypervisor +connected +[0-9]+ +0 ' $dir/st"
check "status --format=json: flows counted on OVS, members of red" \
    "n --format=json status >$dir/st.json && python3 -c 'import json,sys
s = json.load(open(sys.argv[1]))
hv = {h[\"name\"]: h for h in s[\"hypervisors\"]}
assert hv[\"hv1\"][\"flows\"] > 0, hv[\"hv1\"]
assert hv[\"hv1\"][\"in_sync\"] and hv[\"hv1\"][\"lag\"] == 0
assert hv[\"hv1\"][\"last_confirmed_ms_ago\"] is not None
assert hv[\"hv1\"][\"fdb_entries\"] >= 2, hv[\"hv1\"]
net = {x[\"name\"]: x for x in s[\"networks\"]}
assert {\"hv1\", \"hv2\"} <= set(net[\"red\"][\"members\"]), net
assert s[\"revision\"] > 0' $dir/st.json"
check "status: OVS flows match what br-int holds with nvo's cookie" \
    "want=\$(python3 -c 'import json,sys; print([h for h in json.load(open(sys.argv[1]))[\"hypervisors\"] if h[\"name\"]==\"hv1\"][0][\"flows\"])' $dir/st.json); have=\$(lab_ovs_ofctl hv1 dump-flows | grep -c 'cookie=0x6e'); [ \"\$want\" = \"\$have\" ]"

# --- moves and deletes ---------------------------------------------------------
check "port move --wait re-homes vm1 on hv2" \
    "lab_vm_move vm1 hv2 && n --wait port move vm1 hv2 | grep -Eq '^hypervisor +: hv2$'"
check "vm1 still reaches vm2 after the move" "lab_ping vm1 10.0.0.2"
check "network del while ports use it: exit 1 (409)" "rc 1 network del red"
check "port del --wait" "n --wait port del vm2"
check "port list no longer has vm2" "! n port list | grep -q ' vm2 '"
check "network del of an empty network" "n --wait network del blue"
check "network list --format=json has red only" \
    "[ \"\$(n --format=json network list | python3 -c 'import json,sys; print(sorted(x[\"name\"] for x in json.load(sys.stdin)))')\" = \"['red']\" ]"

# --- exit codes, usage, transport --------------------------------------------
check "usage error: exit 2" "rc 2 network add onlyname"
check "unknown command: exit 2" "rc 2 frobnicate"
check "--help: exit 0 and lists every command" \
    "n --help | grep -q 'port move ID|VM HYPERVISOR' && n --help | grep -q 'EXIT STATUS'"
check "no controller at the URL: exit 3" \
    "ip netns exec $LAB_CTL_NS $LAB_NVOCTL_BIN --url=http://127.0.0.1:1 network list 2>&1 | grep -q 'cannot talk'; ip netns exec $LAB_CTL_NS $LAB_NVOCTL_BIN --url=http://127.0.0.1:1 network list >/dev/null 2>&1; [ \$? -eq 3 ]"
check "https:// URL without a server: exit 3, not a usage error" \
    "ip netns exec $LAB_CTL_NS $LAB_NVOCTL_BIN --url=https://127.0.0.1:1 --ca-cert=/dev/null status >/dev/null 2>&1; [ \$? -eq 3 ]"

# The token goes out as a bearer header (a one-request HTTP server on
# loopback in the controller's namespace records it).
cat >"$dir/hdr.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        open(sys.argv[2], "w").write(self.headers.get("Authorization", ""))
        b = b"[]"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
open(sys.argv[3], "w").write("ready")
s.handle_request()
PY
lab_bg controller python3 "$dir/hdr.py" 18099 "$dir/auth" "$dir/ready" >/dev/null
i=0; while [ ! -s "$dir/ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "NVO_TOKEN is sent as Authorization: Bearer" \
    "ip netns exec $LAB_CTL_NS env NVO_TOKEN=s3cr3t $LAB_NVOCTL_BIN --url=http://127.0.0.1:18099 network list >/dev/null && [ \"\$(cat $dir/auth)\" = 'Bearer s3cr3t' ]"

tools_done nvoctl
