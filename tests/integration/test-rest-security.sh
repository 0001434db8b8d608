#!/bin/sh
# test-rest-security.sh - the REST API's authentication, HTTPS and HTTP
# hardening, on the real nvo-controller with a temporary database and
# random loopback ports, driven with curl and raw sockets (python3):
#  - --rest-token-file: a malformed file refuses to start (file and line,
#    never the token); 401 (WWW-Authenticate: Bearer) without or with a
#    wrong token, 403 for a reader's write, 200/201/204 by role, GET
#    /healthz open; /metrics counts 401/403; tokens never logged; SIGHUP
#    reloads, a malformed reload keeps the old tokens
#  - HTTP-level errors all in the JSON error shape: two different
#    Content-Length headers (also pipelined behind a good request),
#    Transfer-Encoding, a bad Content-Length, garbage, 413 above 4 MiB,
#    414, 431; each but 414 closes the connection
#  - HTTPS with --private-key/--certificate/--ca-cert (when the controller
#    has them): plain HTTP to the port gets no 2xx, the token still
#    needed, a certificate replaced on disk is served to new connections
#    without a restart while an open connection keeps working
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/ctl-test-lib.sh"
ctl_test_init rest-sec
scheme=http
host=127.0.0.1
curl_tls=

ADMIN=admin-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
READER=reader-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
cat >"$tmp/tokens" <<EOF
# nvo REST tokens: TOKEN ROLE
$ADMIN admin

$READER reader
EOF

# start [FLAGS...]: starts the controller and waits for /healthz.
start() {
    : >"$tmp/stderr"
    ctl_start "$@"
}

stop() {
    ctl_stop
}

# req TOKEN METHOD PATH [BODY]: sets $status; body in $tmp/body, headers
# in $tmp/headers.  TOKEN "-" sends no Authorization header.
req() {
    tok=$1 m=$2 p=$3 data=${4-}
    set -- -s $curl_tls -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -X "$m"
    [ "$tok" = - ] || set -- "$@" -H "Authorization: Bearer $tok"
    if [ -n "$data" ]; then
        set -- "$@" -H "Content-Type: application/json" --data-binary "$data"
    fi
    status=$(curl "$@" "$scheme://$host:$rport$p")
}

# expect STATUS TOKEN METHOD PATH [BODY]
expect() {
    want=$1
    shift
    req "$@"
    [ "$status" = "$want" ] || fail "$2 $3 with token '$1': status $status, expected $want"
    ok
}

# jerror CODE: the last body is {"error":{"code":CODE,"message":...}}.
jerror() {
    python3 - "$tmp/body" "$1" <<'EOF' || fail "not the JSON error $1: $(cat "$tmp/body")"
import json, sys
j = json.load(open(sys.argv[1]))
e = j["error"]
assert e["code"] == sys.argv[2] and isinstance(e["message"], str) and e["message"]
EOF
    ok
}

metric() {
    curl -s $curl_tls -H "Authorization: Bearer $READER" \
        "$scheme://$host:$rport/metrics" \
        | awk -v k="$1" '$1 == k { print $2 }'
}

# raw BYTES-PYTHON-EXPR: sends the bytes on one connection (plain TCP),
# reads until the server closes it (deadline 5 s); the answer in
# $tmp/raw.  Fails if the server did not close the connection.
raw() {
    python3 - "$rport" "$1" >"$tmp/raw" <<'EOF' || fail "raw request: server did not close the connection"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
data = eval(sys.argv[2])
try:
    s.sendall(data)
except (BrokenPipeError, ConnectionResetError):
    pass
s.settimeout(5)
out = b""
closed = False
deadline = time.time() + 5
while time.time() < deadline:
    try:
        d = s.recv(65536)
    except ConnectionResetError:
        closed = True
        break
    except socket.timeout:
        break
    if not d:
        closed = True
        break
    out += d
sys.stdout.write(out.decode("latin-1"))
sys.exit(0 if closed else 1)
EOF
}

# raw_expect N STATUS CODE: the N-th response in $tmp/raw has STATUS and
# the JSON error CODE (N counts from 1).
raw_expect() {
    python3 - "$tmp/raw" "$1" "$2" "$3" <<'EOF' || fail "response $1 is not $2 $3: $(head -c 600 "$tmp/raw")"
import json, sys
text = open(sys.argv[1], encoding="latin-1", newline="").read()
n, status, code = int(sys.argv[2]), sys.argv[3], sys.argv[4]
resps = []
while text.startswith("HTTP/1.1 "):
    head, _, rest = text.partition("\r\n\r\n")
    length = 0
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.lower() == "content-length":
            length = int(v)
    resps.append((head, rest[:length]))
    text = rest[length:]
head, body = resps[n - 1]
assert head.split(" ")[1] == status, head
if code == "-":
    sys.exit(0)
assert "content-type: application/json" in head.lower(), head
e = json.loads(body)["error"]
assert e["code"] == code and e["message"], body
EOF
    ok
}

echo "=== token file: malformed files refuse to start"
printf '%s superuser\n' "$ADMIN" >"$tmp/bad-tokens"
if "$ctl" --db="$tmp/nvo.db" --rest="127.0.0.1:$rport" --agents="127.0.0.1:$aport" \
        --rest-token-file="$tmp/bad-tokens" >/dev/null 2>"$tmp/stderr"; then
    fail "started with a malformed token file"
fi
grep -q "bad-tokens:1: unknown role" "$tmp/stderr" || fail "unclear message: $(cat "$tmp/stderr")"
! grep -q "$ADMIN" "$tmp/stderr" || fail "the message shows the token"
ok
if "$ctl" --db="$tmp/nvo.db" --rest="127.0.0.1:$rport" --agents="127.0.0.1:$aport" \
        --rest-token-file="$tmp/missing" >/dev/null 2>"$tmp/stderr"; then
    fail "started with a missing token file"
fi
grep -q "missing: cannot open" "$tmp/stderr" || fail "unclear message: $(cat "$tmp/stderr")"
ok

# auth_checks: 401/403/2xx by role over $scheme.
auth_checks() {
    expect 200 - GET /healthz
    grep -q '"auth": *"token"' "$tmp/body" || fail "/healthz does not say auth token: $(cat "$tmp/body")"
    ok
    # The topology page is static and asks for a token itself.
    expect 200 - GET /
    grep -q 'REST token needed' "$tmp/body" || fail "GET / is not the page"
    ok
    expect 401 - GET /v1/networks
    jerror unauthorized
    grep -qi '^www-authenticate: Bearer' "$tmp/headers" || fail "401 without WWW-Authenticate: Bearer"
    ok
    expect 401 "x$ADMIN" GET /v1/networks
    jerror unauthorized
    expect 401 - GET /metrics
    expect 401 - POST /v1/networks '{"name":"n-anon","vni":4001}'
    expect 200 "$READER" GET /v1/networks
    expect 200 "$READER" GET /metrics
    expect 403 "$READER" POST /v1/networks '{"name":"n-reader","vni":4002}'
    jerror forbidden
    expect 403 "$READER" DELETE /v1/networks/n-admin
    expect 201 "$ADMIN" POST /v1/networks '{"name":"n-admin","vni":4003}'
    expect 200 "$READER" GET /v1/networks
    python3 -c 'import json, sys; assert [n["name"] for n in json.load(open(sys.argv[1]))] == ["n-admin"]' "$tmp/body" \
        || fail "anonymous or reader writes got through: $(cat "$tmp/body")"
    ok
    expect 204 "$ADMIN" DELETE /v1/networks/n-admin
}

echo "=== tokens by role"
start --rest-token-file="$tmp/tokens"
auth_checks
[ "$(metric 'nvo_http_requests_total{method="GET",status="401"}')" = 3 ] || fail "401 not counted: $(metric 'nvo_http_requests_total{method="GET",status="401"}')"
[ "$(metric 'nvo_http_requests_total{method="POST",status="403"}')" = 1 ] || fail "403 not counted"
ok

echo "=== SIGHUP reloads the token file"
NEW=new-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
printf '%s admin\n' "$NEW" >"$tmp/tokens.new"
mv "$tmp/tokens.new" "$tmp/tokens"
kill -HUP "$pid"
i=0
until req "$NEW" GET /v1/networks && [ "$status" = 200 ]; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "new token not accepted after SIGHUP"
    sleep 0.05
done
ok
expect 401 "$ADMIN" GET /v1/networks
printf 'not a token file\n' >"$tmp/tokens"
kill -HUP "$pid"
i=0
until grep -q "keeping the 1 tokens loaded before" "$tmp/log"; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "no error logged for a malformed reload"
    sleep 0.05
done
expect 200 "$NEW" GET /v1/networks
for t in "$ADMIN" "$READER" "$NEW"; do
    ! grep -q "$t" "$tmp/log" "$tmp/stderr" || fail "a token appears in the log"
done
ok
stop
printf '%s admin\n%s reader\n' "$ADMIN" "$READER" >"$tmp/tokens"

echo "=== HTTP-level errors in the JSON shape"
start --rest-token-file="$tmp/tokens"
auth="Authorization: Bearer $ADMIN\\r\\n"
json='Content-Type: application/json\r\n'
raw "b'POST /v1/networks HTTP/1.1\\r\\n$auth${json}Content-Length: 2\\r\\nContent-Length: 40\\r\\n\\r\\n{}'"
raw_expect 1 400 bad_request
grep -q "conflicting Content-Length" "$tmp/raw" || fail "no reason given: $(cat "$tmp/raw")"
# Smuggled behind a good request on the same connection: the first is
# answered, the second refused, nothing after it reaches the API.
raw "b'GET /v1/networks HTTP/1.1\\r\\n$auth\\r\\nPOST /v1/networks HTTP/1.1\\r\\n$auth${json}Content-Length: 0\\r\\nContent-Length: 44\\r\\n\\r\\nPOST /v1/networks HTTP/1.1\\r\\n$auth${json}Content-Length: 28\\r\\n\\r\\n{\"name\":\"smuggled\",\"vni\":9}'"
raw_expect 1 200 -
raw_expect 2 400 bad_request
[ "$(grep -c '^HTTP/1.1' "$tmp/raw")" = 2 ] || fail "a smuggled request was answered: $(cat "$tmp/raw")"
expect 200 "$READER" GET /v1/networks
[ "$(cat "$tmp/body")" = "[]" ] || fail "the smuggled network was created: $(cat "$tmp/body")"
ok
raw "b'POST /v1/networks HTTP/1.1\\r\\n$auth${json}Transfer-Encoding: chunked\\r\\n\\r\\n2\\r\\n{}\\r\\n0\\r\\n\\r\\n'"
raw_expect 1 411 length_required
raw "b'POST /v1/networks HTTP/1.1\\r\\n$auth${json}Content-Length: 2, 2\\r\\n\\r\\n{}'"
raw_expect 1 400 bad_request
raw "b'GARBAGE\\r\\n\\r\\n'"
raw_expect 1 400 bad_request
raw "b'GET /v1/networks HTTP/1.1\\r\\n' + b'X-Many: y\\r\\n' * 101 + b'\\r\\n'"
raw_expect 1 431 headers_too_large
raw "b'GET /' + b'a' * 100000 + b' HTTP/1.1\\r\\n\\r\\n'"
raw_expect 1 431 headers_too_large
raw "b'GET /' + b'a' * 1000 + b' HTTP/1.1\\r\\nConnection: close\\r\\n\\r\\n'"
raw_expect 1 414 uri_too_long
raw "b'POST /v1/networks HTTP/1.1\\r\\n$auth${json}Content-Length: 5000000\\r\\n\\r\\n' + b'x' * 5000000"
raw_expect 1 413 too_large
# The 413 above 4 MiB comes before authentication: nothing is read.
raw "b'POST /v1/networks HTTP/1.1\\r\\n${json}Content-Length: 5000000\\r\\n\\r\\n'"
raw_expect 1 413 too_large
[ "$(metric 'nvo_http_requests_total{method="POST",status="413"}')" = 2 ] || fail "h2o's 413 not counted"
ok
kill -0 "$pid" || fail "controller died"
stop

echo "=== HTTPS with the PKI options"
. "$top/deploy/lab-lib.sh"
command -v ovs-pki >/dev/null || fail "ovs-pki missing (openvswitch-common)"
lab_pki_init "$tmp" && lab_pki_cert ctl controller || fail "cannot make a PKI"
serial() {
    openssl x509 -noout -serial -in "$1" | sed 's/.*=//'
}
old_serial=$(serial "$tmp/ctl-cert.pem")
scheme=https
host=ctl
curl_tls="--cacert $tmp/pki/controllerca/cacert.pem --resolve ctl:$rport:127.0.0.1"
start $(lab_pki_ctl_args ctl) --rest-token-file="$tmp/tokens"
# Plain HTTP to the HTTPS port: no 2xx, whatever the path or token.
for p in /healthz /v1/networks; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN" \
           "http://127.0.0.1:$rport$p")
    case $code in 2*) fail "plain HTTP to the HTTPS port answered $code" ;; esac
    ok
done
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN" \
       -H 'Content-Type: application/json' --data-binary '{"name":"plain","vni":77}' \
       "http://127.0.0.1:$rport/v1/networks")
case $code in 2*) fail "plain HTTP POST answered $code" ;; esac
ok
# The server certificate is checked by the client.
if curl -s -o /dev/null --resolve "ctl:$rport:127.0.0.1" "https://ctl:$rport/healthz"; then
    fail "curl accepted the certificate without the CA"
fi
ok
auth_checks

echo "=== HTTPS: the framing check also runs under TLS"
python3 - "$rport" "$tmp/pki/controllerca/cacert.pem" "$ADMIN" >"$tmp/raw" <<'PY' || fail "TLS raw request failed"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))),
                    server_hostname="ctl")
auth = "Authorization: Bearer %s\r\n" % sys.argv[3]
s.sendall(("GET /v1/networks HTTP/1.1\r\n%s\r\n"
           "POST /v1/networks HTTP/1.1\r\n%sContent-Type: application/json\r\n"
           "Content-Length: 0\r\nContent-Length: 30\r\n\r\n"
           "{\"name\":\"smuggled\",\"vni\":9}" % (auth, auth)).encode())
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.write(out.decode("latin-1"))
PY
raw_expect 1 200 -
raw_expect 2 400 bad_request
expect 200 "$READER" GET /v1/networks
[ "$(cat "$tmp/body")" = "[]" ] || fail "the smuggled network was created over TLS"
ok

echo "=== HTTPS: the certificate is replaced on disk while running"
# A client that keeps its connection open across the rotation.
python3 - "$rport" "$tmp/pki/controllerca/cacert.pem" "$READER" "$tmp/rotate" \
    >"$tmp/keepalive.out" 2>&1 <<'PY' &
import os, socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))),
                    server_hostname="ctl")
req = ("GET /healthz HTTP/1.1\r\nAuthorization: Bearer %s\r\n\r\n"
       % sys.argv[3]).encode()
def get():
    s.sendall(req)
    buf = b""
    while b"\r\n\r\n" not in buf or not buf.endswith(b"}\n"):
        d = s.recv(4096)
        if not d:
            raise SystemExit("connection closed")
        buf += d
    assert buf.startswith(b"HTTP/1.1 200"), buf
get()
open(sys.argv[4] + ".ready", "w").close()
deadline = time.time() + 20
while not os.path.exists(sys.argv[4] + ".go") and time.time() < deadline:
    time.sleep(0.05)
get()
print("kept")
PY
kapid=$!
i=0
until [ -e "$tmp/rotate.ready" ]; do
    i=$((i + 1)); [ $i -lt 200 ] || fail "keep-alive client did not start"
    sleep 0.05
done
lab_pki_cert ctl controller "$tmp/new" && mv "$tmp/new/ctl-privkey.pem" "$tmp/ctl-privkey.pem" && mv "$tmp/new/ctl-cert.pem" "$tmp/ctl-cert.pem" || fail "cannot make the new certificate"
new_serial=$(serial "$tmp/ctl-cert.pem")
[ "$new_serial" != "$old_serial" ] || fail "ovs-pki made the same serial"
i=0
while :; do
    got=$(openssl s_client -connect "127.0.0.1:$rport" -servername ctl \
          </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null | sed 's/.*=//')
    [ "$got" = "$new_serial" ] && break
    i=$((i + 1)); [ $i -lt 100 ] || fail "new connections still get serial $got, not $new_serial"
    sleep 0.1
done
ok
expect 200 "$READER" GET /v1/networks
touch "$tmp/rotate.go"
wait "$kapid" || fail "the open connection broke: $(cat "$tmp/keepalive.out")"
grep -q kept "$tmp/keepalive.out" || fail "keep-alive client: $(cat "$tmp/keepalive.out")"
ok
grep -q "REST: loaded the new certificate" "$tmp/log" || fail "rotation not logged"
ok
stop

echo "PASS: test-rest-security ($n_checks checks)"
