# tools-lib.sh - what the operator-tool tests (test-nvoctl, test-audit,
# test-trace, test-openapi, test-topology-page) share, sourced after
# deploy/lab-lib.sh:
#   tools_setup PREFIX NAME   lab state in a new /tmp/nvo-test-NAME.* folder
#                             ($dir), cleanup on exit, root check, $PY
#   check DESCRIPTION CODE    eval CODE; "ok:" or "FAIL:" with its output
#   die MESSAGE               "FAIL:" and exit 1
#   tools_done NAME           "NAME: N failure(s)"; the exit status
fails=0
die() { echo "FAIL: $*"; exit 1; }
check() {
    if (eval "$2") >"$dir/check.out" 2>&1; then
        echo "ok: $1"
    else
        echo "FAIL: $1"; sed 's/^/    /' "$dir/check.out" | head -30
        fails=$((fails + 1))
    fi
}
tools_setup() {
    [ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
    dir=$(mktemp -d "/tmp/nvo-test-$2.XXXXXX")
    trap 'lab_cleanup' EXIT
    trap 'exit 1' INT TERM
    # Debian's python3, whose modules build-aux/install-deps.sh installs.
    PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
    lab_init "$1" "$dir" || die lab_init
}
tools_done() {
    echo "$1: $fails failure(s)"
    [ $fails -eq 0 ]
}
