#!/bin/sh
# run-all.sh - every nvo test: builds (installing what is missing, as root),
# runs the unit tests and fuzz-corpus replays (make check), then every
# integration test in tests/integration/ against real OVS and the real
# kernel in network namespaces.  Prints "N passed, N failed" last.
#
# Usage: tests/run-all.sh [--unit-only] [INTEGRATION-TEST-NAME...]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
unit_only=no
if [ "${1:-}" = --unit-only ]; then unit_only=yes; shift; fi

"$top/build-aux/build.sh" || exit 1

passed=0 failed=0 failures=
if make -j"$(nproc)" check >make-check.log 2>&1; then
    n=$(grep -c '^PASS:' make-check.log || true)
    passed=$((passed + n))
    echo "unit: make check passed ($n tests)"
else
    n=$(grep -c '^PASS:' make-check.log || true)
    f=$(grep -c '^\(FAIL\|ERROR\):' make-check.log || true)
    passed=$((passed + n)); failed=$((failed + (f > 0 ? f : 1)))
    failures="$failures make-check"
    grep -E '^(FAIL|ERROR):' make-check.log
    for log in $(grep -lE '^(FAIL|ERROR)' $(find tests -name '*.log') 2>/dev/null); do
        echo "--- $log"; tail -40 "$log"
    done
fi

if [ "$unit_only" = no ]; then
    if [ $# -gt 0 ]; then tests="$*"; else
        tests=$(ls tests/integration/test-*.sh 2>/dev/null | sed 's|.*/||; s|\.sh$||')
    fi
    for t in $tests; do
        echo "=== integration: $t"
        if sh "tests/integration/$t.sh" >"tests/integration/$t.log" 2>&1; then
            echo "PASS: $t"; passed=$((passed + 1))
        else
            echo "FAIL: $t (log: tests/integration/$t.log)"
            tail -40 "tests/integration/$t.log"
            failed=$((failed + 1)); failures="$failures $t"
        fi
    done
fi

[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
