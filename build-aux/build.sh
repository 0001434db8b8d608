#!/bin/sh
# build.sh - from a fresh checkout to built daemons: installs dependencies,
# builds libopenvswitch from Debian's openvswitch-source, configures, makes.
# Usage: build-aux/build.sh [CONFIGURE-ARGS...]   (run from the top folder)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
"$top/build-aux/install-deps.sh"
"$top/build-aux/build-ovs.sh" "$top/_ovs"
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
    autoreconf -fi >/dev/null
fi
if [ ! -f Makefile ] || [ $# -gt 0 ]; then
    ./configure --with-ovs-source="$top/_ovs/openvswitch" "$@" >/dev/null
fi
make -j"$(nproc)" >/dev/null
echo "build.sh: built controller/nvo-controller and agent/nvo-agent"
