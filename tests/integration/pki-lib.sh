# pki-lib.sh - a throw-away PKI for tests, made with ovs-pki (Debian's
# openvswitch-common), the way an operator makes one (POSIX sh; sourced).
#
#   . tests/integration/pki-lib.sh
#   pki_init DIR                   # DIR/pki/{switchca,controllerca}
#   pki_cert DIR NAME switch       # DIR/NAME-{privkey,cert}.pem, CN=NAME,
#                                  # signed by the switch (agent) CA
#   pki_cert DIR ctl controller    # signed by the controller CA
#   pki_selfsigned DIR NAME        # CN=NAME, signed by itself
#   pki_agent_args DIR NAME        # --private-key=... --certificate=...
#                                  # --ca-cert=<controller CA> for nvo-agent
#   pki_ctl_args DIR NAME          # likewise for nvo-controller, trusting
#                                  # the switch CA (agents' certificates)
#
# OVS's model: agents (switches) present certificates of the switch CA and
# trust the controller CA; the controller the other way round.

pki_init() {
    ovs-pki --dir="$1/pki" --force init >/dev/null 2>&1 \
        || { echo "pki_init: ovs-pki init failed" >&2; return 1; }
}

# pki_cert DIR NAME TYPE: key and certificate for NAME (CN and SAN NAME,
# ovs-pki's -u), signed by TYPE's CA (switch or controller).
pki_cert() {
    (cd "$1" && rm -f "$2-privkey.pem" "$2-req.pem" "$2-cert.pem" \
        && ovs-pki --dir="$1/pki" -u req+sign "$2" "$3" >/dev/null 2>&1) \
        || { echo "pki_cert: ovs-pki req+sign $2 $3 failed" >&2; return 1; }
}

# pki_selfsigned DIR NAME: key and self-signed certificate with CN NAME.
pki_selfsigned() {
    (cd "$1" && rm -f "$2-privkey.pem" "$2-req.pem" "$2-cert.pem" \
        && ovs-pki --dir="$1/pki" -u req "$2" >/dev/null 2>&1 \
        && ovs-pki --dir="$1/pki" self-sign "$2" >/dev/null 2>&1) \
        || { echo "pki_selfsigned: ovs-pki self-sign $2 failed" >&2; return 1; }
}

pki_agent_args() {
    echo "--private-key=$1/$2-privkey.pem --certificate=$1/$2-cert.pem" \
         "--ca-cert=$1/pki/controllerca/cacert.pem"
}

pki_ctl_args() {
    echo "--private-key=$1/$2-privkey.pem --certificate=$1/$2-cert.pem" \
         "--ca-cert=$1/pki/switchca/cacert.pem"
}
