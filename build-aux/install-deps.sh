#!/bin/sh
# install-deps.sh - installs, as root on Debian 12, everything nvo needs to
# build, test and run its lab.  Idempotent; quiet when all is present.
set -eu
pkgs="autoconf automake libtool pkg-config make gcc clang libclang-rt-14-dev
      libuv1-dev libprotobuf-c-dev protobuf-c-compiler libsqlite3-dev sqlite3
      libcmocka-dev libjansson-dev libh2o-dev libmnl-dev libnftnl-dev libssl-dev
      libcap-ng-dev openvswitch-source openvswitch-switch iproute2
      iputils-ping iputils-arping ethtool tcpdump curl wrk iperf3 python3 procps
      psmisc
      libcurl4-openssl-dev python3-jsonschema python3-websocket chromium"
missing=
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "install-deps.sh: need root to install:$missing" >&2
        exit 1
    fi
    echo "install-deps.sh: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # The openvswitch-switch package must not start system-wide daemons:
    # nvo's lab runs its own instances in namespaces.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    apt-get install -y -qq --no-install-recommends $missing
    rm -f /usr/sbin/policy-rc.d
fi
