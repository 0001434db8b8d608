#!/bin/sh
# test-ovs-tls.sh - OVS hypervisors over TLS (doc/security.md), on a lab
# that starts plain and is moved to TLS while VMs ping each other:
#  - switchover: hv1 and hv2 get their certificate (SSL table) and OVSDB on
#    pssl:6640:IP instead of ptcp:, the controller restarts with the PKI
#    options and ssl: remotes; br-int's OpenFlow listener becomes
#    pssl:6654:IP (no ptcp: left); hypervisors back in sync, a VM started
#    over TLS (?wait=1) pings
#  - certificate rotation: the controller's key and certificate replaced on
#    disk; a new connection presents the new certificate (seen by a probe
#    TLS server registered as a hypervisor), the OVSDB and OpenFlow
#    connections to hv1 are reset (ss -K) and re-establish, a VM started
#    afterwards (?wait=1) pings
#  - no packet lost: one ping every 50 ms from vm1 to vm2 through all of it
#  - attacks from a host on the underlay against every listening TCP port
#    of every OVS hypervisor (ss -ltn in its namespace): ovs-ofctl add-flow,
#    ovsdb-client transact and ovs-vsctl set, plain, with a self-signed
#    certificate and with a switch-CA certificate (another hypervisor's
#    kind): all fail, and neither the flow nor the OVSDB change exists;
#    with the controller's certificate the same ports answer (control)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/ovs-test-lib.sh"
command -v ovs-pki >/dev/null || { echo "SKIP: ovs-pki missing"; exit 77; }

LAB_TLS=0 LAB_PKI=
ovs_test_init tovt
ovs_test_two_hvs
check "plain: br-int listens on ptcp:6653" \
    "lab_ovs_vsctl hv1 get-controller br-int | grep -qx ptcp:6653"
lab_ping vm1 10.0.0.2 5 || die "no ping before the switchover"

# One ping every 50 ms from vm1 to vm2 until $LAB_DIR/ping.stop exists.
lab_vm_exec vm1 sh -c "ping -i 0.05 10.0.0.2 >'$LAB_DIR/ping.out' 2>&1 &
    echo \$! >'$LAB_DIR/ping.pid'; wait" &
i=0
until [ -s "$LAB_DIR/ping.pid" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || die "ping did not start"; sleep 0.05
done
ping_pid=$(cat "$LAB_DIR/ping.pid")
lab_record_pid "$ping_pid"
# Waits until the ping sent at least N more packets.
ping_sent() {
    grep -c 'icmp_seq=' "$LAB_DIR/ping.out" 2>/dev/null || echo 0
}
ping_more() {
    local _n _i=0
    _n=$(( $(ping_sent) + $1 ))
    until [ "$(ping_sent)" -ge "$_n" ]; do
        _i=$((_i + 1)); [ $_i -lt 400 ] || return 1; sleep 0.05
    done
}
ping_more 20 || die "ping not answered before the switchover"

echo "=== switchover: plain -> TLS"
# The PKI (from here on lab_rest speaks HTTPS: no REST call until the
# controller restarts with it).
lab_pki_init || die "pki"
lab_ovs_hv_to_tls hv1 || die "hv1 to TLS"
lab_ovs_hv_to_tls hv2 || die "hv2 to TLS"
lab_controller_stop || die "controller stop"
python3 - "$LAB_DIR/ctl/nvo.db" <<'EOF' || die "cannot update the database"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("UPDATE hypervisors SET ovsdb = 'ssl:' || substr(ovsdb, 5) WHERE ovsdb LIKE 'tcp:%'")
c.commit()
EOF
lab_controller_start || die "controller with TLS"
if ! wait_synced hv1 30; then
    grep -v "connection dropped" "$LAB_DIR/ctl/nvo-controller.log" | tail -40
    tail -n 20 "$LAB_DIR/hv/hv1/ovsdb-server.log" "$LAB_DIR/hv/hv1/ovs-vswitchd.log"
    lab_rest GET /v1/hypervisors/hv1
    die "hv1 not in sync over TLS"
fi
wait_synced hv2 30 || die "hv2 not in sync over TLS"
ok "hv1 and hv2 in sync over TLS"
check "hv1: OVSDB remote is ssl:" "[ \"\$(hv_field hv1 ovsdb)\" = ssl:192.0.2.11:6640 ]"
check "hv1: br-int's only controller is pssl:6654:192.0.2.11" \
    "[ \"\$(lab_ovs_vsctl hv1 get-controller br-int)\" = pssl:6654:192.0.2.11 ]"
check "hv2: br-int's only controller is pssl:6654:192.0.2.12" \
    "[ \"\$(lab_ovs_vsctl hv2 get-controller br-int)\" = pssl:6654:192.0.2.12 ]"
check "hv1: ovsdb-server listens on pssl:6640:IP, no ptcp:" \
    "lab_ovsdb_appctl hv1 ovsdb-server/list-remotes | grep -qx pssl:6640:192.0.2.11 && ! lab_ovsdb_appctl hv1 ovsdb-server/list-remotes | grep -q ptcp"
check "REST over HTTPS with the token" "lab_rest GET /v1/hypervisors"
check "REST over HTTPS without the token: 401" \
    "[ \"\$(ip netns exec \$LAB_CTL_NS curl -s -o /dev/null -w '%{http_code}' --cacert \$LAB_PKI/pki/controllerca/cacert.pem https://ctl:\$LAB_REST_PORT/v1/ports)\" = 401 ]"
check "plain HTTP to the REST port: no 2xx" \
    "! ip netns exec \$LAB_CTL_NS curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:\$LAB_REST_PORT/healthz | grep -q '^2'"
lab_vm_add hv2 vm3 02:00:00:00:01:03 10.0.0.3/24 || die vm3
lab_start_vm vm3 red >/dev/null || die "start vm3 over TLS"
check "vm1 pings vm3 (started over TLS)" "lab_ping vm1 10.0.0.3 5"
ping_more 20 || die "ping stopped after the switchover"

echo "=== rotation of the controller's certificate"
# A probe registered as an OVS hypervisor: a TLS server (switch-CA
# certificate, requiring a controller-CA client certificate) that writes
# the serial of every client certificate it sees.
lab_underlay_host_add probe 192.0.2.99 || die probe
lab_pki_cert probe switch || die "probe certificate"
cat >"$LAB_DIR/probe.py" <<'EOF'
import socket, ssl, subprocess, sys
pki, out = sys.argv[1], sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(pki + "/probe-cert.pem", pki + "/probe-privkey.pem")
ctx.load_verify_locations(pki + "/pki/controllerca/cacert.pem")
ctx.verify_mode = ssl.CERT_REQUIRED
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("192.0.2.99", 6640))
s.listen(8)
while True:
    c, _ = s.accept()
    try:
        t = ctx.wrap_socket(c, server_side=True)
        pem = ssl.DER_cert_to_PEM_cert(t.getpeercert(binary_form=True))
        serial = subprocess.run(["openssl", "x509", "-noout", "-serial"],
                                input=pem, capture_output=True, text=True).stdout
        with open(out, "a") as f:
            f.write(serial.strip().split("=")[-1] + "\n")
        t.close()
    except (ssl.SSLError, OSError):
        c.close()
EOF
lab_bg probe python3 "$LAB_DIR/probe.py" "$LAB_PKI" "$LAB_DIR/probe.serials" >/dev/null
serial() { openssl x509 -noout -serial -in "$1" | sed 's/.*=//'; }
# probe_sees SERIAL: polls (20 s) until the probe saw a client certificate
# with SERIAL.
probe_sees() {
    local _i=0
    until grep -qx "$1" "$LAB_DIR/probe.serials" 2>/dev/null; do
        _i=$((_i + 1)); [ $_i -lt 400 ] || return 1
        sleep 0.05
    done
}
old=$(serial "$LAB_PKI/ctl-cert.pem")
lab_rest POST /v1/hypervisors '{"name":"probe","tunnel_ip":"192.0.2.99","dataplane":"ovs","ovsdb":"ssl:192.0.2.99:6640"}' >/dev/null \
    || die "register the probe"
probe_sees "$old" || die "the probe saw no connection with $old"
ok "a new connection presents the controller's certificate ($old)"
lab_pki_cert ctl controller "$LAB_PKI/new" || die "new certificate"
mv "$LAB_PKI/new/ctl-privkey.pem" "$LAB_PKI/ctl-privkey.pem" || die "mv key"
mv "$LAB_PKI/new/ctl-cert.pem" "$LAB_PKI/ctl-cert.pem" || die "mv cert"
new=$(serial "$LAB_PKI/ctl-cert.pem")
[ "$new" != "$old" ] || die "same serial"
probe_sees "$new" || die "new connections still present the old certificate"
ok "new connections present the replaced certificate ($new), no restart"
lab_rest DELETE /v1/hypervisors/probe >/dev/null || die "delete the probe"
# Reset the established OVSDB and OpenFlow connections to hv1: they come
# back with the new certificate.
ip netns exec "$LAB_CTL_NS" ss -K dst 192.0.2.11 >/dev/null 2>&1
i=0
until ip netns exec "$LAB_CTL_NS" ss -tnH state established dst 192.0.2.11 | grep -q ':6654 *$' \
      && wait_synced hv1 1; do
    i=$((i + 1)); [ $i -lt 300 ] || die "hv1's connections did not come back"
    sleep 0.1
done
ok "hv1's OVSDB and OpenFlow connections re-established after a reset"
lab_vm_add hv1 vm4 02:00:00:00:01:04 10.0.0.4/24 || die vm4
lab_start_vm vm4 red >/dev/null || die "start vm4 after the rotation"
check "vm4 (hv1, after the rotation) pings vm3 (hv2)" "lab_ping vm4 10.0.0.3 5"
check "REST now serves the new certificate" \
    "[ \"\$(ip netns exec \$LAB_CTL_NS openssl s_client -connect 127.0.0.1:\$LAB_REST_PORT </dev/null 2>/dev/null | openssl x509 -noout -serial | sed 's/.*=//')\" = \"$new\" ]"
ping_more 20 || die "ping stopped after the rotation"

echo "=== no packet lost"
kill -INT "$ping_pid"
i=0
until grep -q 'packets transmitted' "$LAB_DIR/ping.out"; do
    i=$((i + 1)); [ $i -lt 100 ] || die "ping did not report"; sleep 0.05
done
summary=$(grep 'packets transmitted' "$LAB_DIR/ping.out")
echo "$summary"
sent=$(echo "$summary" | sed 's/ packets transmitted.*//')
# Every request answered, in order, up to the last one (which may have
# been in flight when ping was interrupted).
seqs=$(sed -n 's/.*icmp_seq=\([0-9]*\) .*/\1/p' "$LAB_DIR/ping.out" | sort -n | uniq)
n_seqs=$(echo "$seqs" | wc -l)
last=$(echo "$seqs" | tail -1)
check "ping every 50 ms through switchover and rotation: $sent sent, replies to 1..$last without a gap" \
    "[ $sent -ge 60 ] && [ $n_seqs = $last ] && [ $last -ge $((sent - 1)) ]"

echo "=== attacks from the underlay"
lab_underlay_host_add atk 192.0.2.250 || die attacker
atk() { ip netns exec "${LAB_PREFIX}atk" timeout 10 "$@"; }
# A self-signed certificate claiming to be the controller, and a
# certificate from the switch CA (what any hypervisor holds).
lab_pki_selfsigned ctl "$LAB_PKI/self" || die "self-signed certificate"
lab_pki_cert mallory switch || die "switch-CA certificate"
flow="cookie=0xdead,table=0,priority=65535,actions=drop"
for hv in hv1 hv2; do
    ip=$(lab_node_get $hv ip)
    ports=$(lab_hv_exec $hv ss -ltnH | awk '{print $4}' | sed 's/.*://' | sort -u)
    [ -n "$ports" ] || die "$hv listens on nothing?"
    echo "$hv listens on TCP: $(echo $ports)"
    for port in $ports; do
        t=$ip:$port
        check "$hv $t: plain ovs-ofctl add-flow refused" \
            "! atk ovs-ofctl -O OpenFlow13 add-flow tcp:$t '$flow'"
        check "$hv $t: plain ovsdb-client refused" \
            "! atk ovsdb-client list-dbs tcp:$t"
        check "$hv $t: plain ovs-vsctl set refused" \
            "! atk ovs-vsctl --db=tcp:$t --timeout=5 set Open_vSwitch . external_ids:x=y"
        for who in self/ctl mallory; do
            pki="--private-key=$LAB_PKI/$who-privkey.pem --certificate=$LAB_PKI/$who-cert.pem --ca-cert=$LAB_PKI/pki/switchca/cacert.pem"
            check "$hv $t: ovs-ofctl add-flow with the $who certificate refused" \
                "! atk ovs-ofctl -O OpenFlow13 $pki add-flow ssl:$t '$flow'"
            check "$hv $t: ovsdb-client with the $who certificate refused" \
                "! atk ovsdb-client $pki list-dbs ssl:$t"
            check "$hv $t: ovs-vsctl set with the $who certificate refused" \
                "! atk ovs-vsctl $pki --db=ssl:$t --timeout=5 set Open_vSwitch . external_ids:x=y"
        done
    done
    ctlpki="--private-key=$LAB_PKI/ctl-privkey.pem --certificate=$LAB_PKI/ctl-cert.pem --ca-cert=$LAB_PKI/pki/switchca/cacert.pem"
    check "$hv: control: the controller's certificate reads OVSDB on $ip:6640" \
        "atk ovsdb-client $ctlpki list-dbs ssl:$ip:6640 | grep -qx Open_vSwitch"
    check "$hv: control: the controller's certificate reads flows on $ip:6654" \
        "atk ovs-ofctl -O OpenFlow13 $ctlpki dump-flows ssl:$ip:6654 | grep -q cookie=0x6e"
    check "$hv: no attacker flow installed" \
        "! lab_ovs_ofctl $hv dump-flows | grep -q 0xdead"
    check "$hv: no attacker OVSDB change" \
        "[ -z \"\$(lab_ovs_vsctl $hv --if-exists get Open_vSwitch . external_ids:x)\" ]"
done
check "vm1 still pings vm2" "lab_ping vm1 10.0.0.2 3"
ovs_test_done
