# bench-lib.sh - helpers the lab benchmarks (bench-ovs.sh, bench-scale.sh)
# share, on top of deploy/lab-lib.sh.  Sourced, not run.

# rest_batch FILE: runs the curl config FILE (one request per entry) in one
# curl process inside the controller's namespace; prints per request
# "HTTP-CODE SECONDS".
rest_batch() {
    ip netns exec "$LAB_CTL_NS" curl -sS -m 900 -K "$1" 2>/dev/null
}

# rest_batch_parallel FILE [N]: rest_batch with the entries dealt round
# robin to N (default 8) curl processes running at once, for requests
# independent of each other (group commit lets them share transactions);
# prints what they print, process by process.
rest_batch_parallel() {
    local _n=${2:-8} _i=0
    awk -v f="$1" -v n="$_n" '{ print > (f "." k) } /^next$/ { k = (k + 1) % n }' \
        k=0 "$1"
    while [ "$_i" -lt "$_n" ]; do
        [ -f "$1.$_i" ] && rest_batch "$1.$_i" >"$1.$_i.out" &
        _i=$((_i + 1))
    done
    wait
    _i=0
    while [ "$_i" -lt "$_n" ]; do
        [ -f "$1.$_i.out" ] && cat "$1.$_i.out"
        rm -f "$1.$_i" "$1.$_i.out"
        _i=$((_i + 1))
    done
}

# curl_entry METHOD PATH JSON: a curl config entry (with a lab PKI over
# HTTPS, checking the controller's certificate, with the lab's token).
curl_entry() {
    echo "url = \"$(lab__rest_base)$2\""
    if [ -n "${LAB_PKI:-}" ]; then
        cat <<EOC
cacert = "$LAB_PKI/pki/controllerca/cacert.pem"
header = "Authorization: Bearer $(cat "$LAB_PKI/rest-token")"
EOC
    fi
    cat <<EOC
request = "$1"
header = "Content-Type: application/json"
data-binary = "$(echo "$3" | sed 's/"/\\"/g')"
output = "/dev/null"
write-out = "%{http_code} %{time_total}\\n"
next
EOC
}
