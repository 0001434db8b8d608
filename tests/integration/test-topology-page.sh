#!/bin/sh
# test-topology-page.sh - the topology page (GET /) in a real browser:
# headless Chromium (Debian's chromium) driven over the DevTools protocol
# by tests/integration/cdp-page.py.  A lab of 3 OVS hypervisors and a
# kernel one with 2 tenant networks; the page must load with no console
# error, draw every hypervisor and tunnel, show every VM, and show a VM
# started after load without a reload.  The screenshot goes to
# tests/integration/test-topology-page.out/topology.png.
# The lab runs as deploy/lab.sh does by default: TLS everywhere, REST over
# HTTPS with tokens; the page must ask for the token, take it from its
# form and keep it across a reload (cdp-page.py --token).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/deploy/lab-lib.sh"
. "$top/tests/integration/tools-lib.sh"
tools_setup tp$$ topology
lab_pki_init || die "PKI"
out=$top/tests/integration/test-topology-page.out
command -v chromium >/dev/null || die "chromium missing (build-aux/install-deps.sh)"
"$PY" -c 'import websocket' || die "python3-websocket missing (build-aux/install-deps.sh)"
mkdir -p "$out" && rm -f "$out/topology.png"
lab_underlay_up || die underlay
lab_controller_start || die controller
hvs="hv1 hv2 hv3"
for i in 1 2 3; do lab_ovs_hv_add hv$i 192.0.2.1$i || die hv$i; done
vms="r1 r2 r3 b1 b2"
lab_vm_add hv1 r1 02:00:00:00:01:01 10.0.0.1/24 || die r1
lab_vm_add hv2 r2 02:00:00:00:01:02 10.0.0.2/24 || die r2
lab_vm_add hv3 r3 02:00:00:00:01:03 10.0.0.3/24 || die r3
lab_vm_add hv1 b1 02:00:00:00:02:01 10.0.0.1/24 || die b1
lab_vm_add hv2 b2 02:00:00:00:02:02 10.0.0.2/24 || die b2
lab_vm_add hv3 b3 02:00:00:00:02:03 10.0.0.3/24 || die b3
if [ -x "$LAB_AGENT_BIN" ]; then
    lab_kernel_hv_add hv4 192.0.2.14 || die hv4
    lab_vm_add hv4 r4 02:00:00:00:01:04 10.0.0.4/24 || die r4
    hvs="$hvs hv4"; vms="$vms r4"
fi
lab_register_network red 5001 || die red
lab_register_network blue 5002 || die blue
for h in $hvs; do lab_register_hv "$h" || die "register $h"; done
for v in $vms; do
    case $v in r*) net=red ;; *) net=blue ;; esac
    lab_start_vm "$v" "$net" >/dev/null || die "start $v"
done

# Chromium in the controller's namespace reaches REST on its loopback.
# The lab CA is not in Chromium's store: certificate errors are ignored
# (the page, not TLS, is under test here; test-rest-security tests TLS).
lab_bg controller chromium --headless=new --no-sandbox --disable-gpu \
    --ignore-certificate-errors \
    --disable-dev-shm-usage --no-first-run --mute-audio \
    --user-data-dir="$dir/chrome" --remote-debugging-port=9333 \
    --remote-allow-origins='*' about:blank >/dev/null || die chromium

list() { echo "$*" | tr ' ' ,; }
ip netns exec "$LAB_CTL_NS" "$PY" "$top/tests/integration/cdp-page.py" \
    --devtools=9333 --url="$(lab__rest_base)/" --out="$out" \
    --token="$(cat "$LAB_PKI/rest-token")" \
    --hvs="$(list $hvs)" --vms="$(list $vms)" --new-vm=b3 -- \
    "$LAB_NVOCTL_BIN" --url="$(lab__rest_base)" --token="$(cat "$LAB_PKI/rest-token")" \
    --ca-cert="$LAB_PKI/pki/controllerca/cacert.pem" --wait \
    port add b3 blue hv3 02:00:00:00:02:03 v-b3 --ip=10.0.0.3
