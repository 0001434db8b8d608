# bench-lib.sh - helpers the lab benchmarks (bench-ovs.sh, bench-scale.sh)
# share, on top of deploy/lab-lib.sh.  Sourced, not run.

# rest_batch FILE: runs the curl config FILE (one request per entry) in one
# curl process inside the controller's namespace; prints per request
# "HTTP-CODE SECONDS".
rest_batch() {
    ip netns exec "$LAB_CTL_NS" curl -sS -m 900 -K "$1" 2>/dev/null
}

# curl_entry METHOD PATH JSON: a curl config entry.
curl_entry() {
    cat <<EOC
url = "http://127.0.0.1:$LAB_REST_PORT$2"
request = "$1"
header = "Content-Type: application/json"
data-binary = "$(echo "$3" | sed 's/"/\\"/g')"
output = "/dev/null"
write-out = "%{http_code} %{time_total}\\n"
next
EOC
}
