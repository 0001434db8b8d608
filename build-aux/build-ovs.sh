#!/bin/sh
# build-ovs.sh - build libopenvswitch.a from Debian's openvswitch-source package.
#
# Usage: build-aux/build-ovs.sh [DEST]
#   DEST defaults to ./_ovs (relative to the current directory).
#
# Debian 12 ships no libopenvswitch-dev, so nvo builds the static library from
# /usr/src/openvswitch/openvswitch.tar.gz (package openvswitch-source, 3.1).
# The result is DEST/openvswitch (source tree == build tree), which configure
# finds with --with-ovs-source=DEST/openvswitch (the default it probes).
# Re-running is cheap: an existing complete build is left alone.
set -eu

dest=${1:-_ovs}
tarball=${OVS_TARBALL:-/usr/src/openvswitch/openvswitch.tar.gz}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

if [ ! -r "$tarball" ]; then
    echo "build-ovs.sh: $tarball not found; install it with: apt-get install openvswitch-source" >&2
    exit 1
fi

mkdir -p "$dest"
src=$(cd "$dest" && pwd)/openvswitch
if [ -f "$src/lib/.libs/libopenvswitch.a" ] && [ -f "$src/.nvo-built" ]; then
    echo "build-ovs.sh: $src/lib/.libs/libopenvswitch.a is up to date"
    exit 0
fi

rm -rf "$src"
tar -C "$dest" -xzf "$tarball"
cd "$src"
# Static only; no kernel module, no DPDK, no Python extension.
./configure --enable-static --disable-shared --disable-ssl-check \
    --prefix=/usr --localstatedir=/var --sysconfdir=/etc >configure.log 2>&1 || {
    tail -30 configure.log >&2; exit 1; }
# The generated headers (odp-netlink.h, IDL headers, ...) must exist before
# the library is built; BUILT_SOURCES lists them.
built=$(printf 'nvo-print-built:\n\t@echo $(BUILT_SOURCES)\n' |
        make -s -f Makefile -f - nvo-print-built)
make -j"$jobs" $built >build.log 2>&1 || { tail -30 build.log >&2; exit 1; }
make -j"$jobs" lib/libopenvswitch.la lib/vswitch-idl.h >>build.log 2>&1 || {
    tail -30 build.log >&2; exit 1; }
touch .nvo-built
echo "build-ovs.sh: built $src/lib/.libs/libopenvswitch.a"
