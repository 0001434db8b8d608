#!/bin/sh
# test-debian.sh - the Debian packages, end to end (a separate command, not
# part of tests/run-all.sh / CI: the build alone takes minutes):
#   1. dpkg-buildpackage -b on a copy of this tree (libopenvswitch built
#      from openvswitch-source inside the package build);
#   2. apt-get install of nvo-controller, nvo-agent and nvoctl;
#   3. files in place: binaries, units, /etc/default files, man pages,
#      bash completion, the nvo user and /var/lib/nvo;
#   4. the units started: with systemd, systemctl start; without it (a
#      container), each installed unit's ExecStart run the way systemd
#      would (its User, Environment and EnvironmentFile), inside a network
#      namespace of its own so nothing listens on the host;
#   5. a hypervisor registered through nvoctl, the agent (configured in
#      /etc/default/nvo-agent) connecting as it, status showing it;
#   6. apt-get purge: binaries, units, defaults, /var/lib/nvo and the nvo
#      user gone.
# Usage (root): tests/package/test-debian.sh [OUTDIR]   (.debs kept there)
#   NVO_DEB_PREBUILT=DIR skips step 1 and installs DIR's .debs.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/tests/package/out}
ns=tdeb$$
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { if (eval "$2") >/dev/null 2>&1; then ok "$1"; else bad "$1"; fi; }
die() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (installs packages)"
dpkg -s nvo-controller >/dev/null 2>&1 && die "nvo-controller is installed already; purge it first"

work=$(mktemp -d /tmp/nvo-deb.XXXXXX)
pids=
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
    if dpkg -s nvo-controller >/dev/null 2>&1 || dpkg -s nvoctl >/dev/null 2>&1; then
        apt-get purge -y -qq nvo-controller nvo-agent nvoctl >/dev/null 2>&1
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# 1. Build.  The copy holds the tracked and new (not ignored) files.
mkdir -p "$out" "$work/nvo-0.1.0"
if [ -n "${NVO_DEB_PREBUILT:-}" ]; then
    cp "$NVO_DEB_PREBUILT"/*.deb "$work/" || die "no .deb in $NVO_DEB_PREBUILT"
else
echo "== dpkg-buildpackage -b (log: $out/build.log)"
(cd "$top" && git ls-files -co --exclude-standard | grep -v '^_ovs' \
    | tar -cf - -T -) | tar -xf - -C "$work/nvo-0.1.0" || die "copy"
"$top/build-aux/install-deps.sh" || die install-deps
for p in debhelper fakeroot; do
    dpkg -s $p >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends $p >/dev/null || die "install $p"
done
t0=$(date +%s)
(cd "$work/nvo-0.1.0" && nice -n 10 dpkg-buildpackage -b -us -uc -j"$(nproc)") \
    >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; die "dpkg-buildpackage"; }
echo "built in $(( $(date +%s) - t0 )) s"
cp "$work"/*.deb "$out/" || die "no .deb"
fi
ls "$work"/*.deb
for p in nvo-controller nvo-agent nvoctl; do
    check "package $p built" "ls $work/${p}_0.1.0_*.deb"
done

# 2. Install (policy-rc.d: the units start below, in a namespace).
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$work"/nvo-controller_*.deb \
    "$work"/nvo-agent_*.deb "$work"/nvoctl_*.deb >"$out/install.log" 2>&1
rc=$?
rm -f /usr/sbin/policy-rc.d
[ $rc -eq 0 ] || { tail -20 "$out/install.log"; die "apt-get install"; }
ok "apt-get install of the three packages"

# 3. Files.
for f in /usr/bin/nvo-controller /usr/bin/nvo-agent /usr/bin/nvoctl \
         /lib/systemd/system/nvo-controller.service \
         /lib/systemd/system/nvo-agent.service \
         /etc/default/nvo-controller /etc/default/nvo-agent \
         /usr/share/man/man8/nvo-controller.8.gz /usr/share/man/man8/nvo-agent.8.gz \
         /usr/share/man/man8/nvoctl.8.gz /usr/share/bash-completion/completions/nvoctl \
         /usr/share/nvo/nvo.ovsschema; do
    check "installed $f" "[ -e $f ]"
done
check "user nvo exists" "getent passwd nvo"
check "/var/lib/nvo is nvo's, mode 750" "[ \"\$(stat -c '%U %a' /var/lib/nvo)\" = 'nvo 750' ]"
check "the controller unit runs as nvo from /usr/bin" \
    "grep -q '^User=nvo' /lib/systemd/system/nvo-controller.service && grep -q '^ExecStart=/usr/bin/nvo-controller' /lib/systemd/system/nvo-controller.service"
check "nvoctl --version runs" "nvoctl --version"

# 4. Start the units.
# unit_run UNIT: runs UNIT's ExecStart as systemd would, in namespace $ns.
unit_run() {
    _u=/lib/systemd/system/$1.service
    _user=$(sed -n 's/^User=//p' "$_u")
    # ExecStart= and its continuation lines (ending in a backslash) only.
    _exec=$(awk '/^ExecStart=/ { f = 1; sub(/^ExecStart=/, "") }
                 f { c = sub(/\\$/, ""); printf "%s ", $0; if (!c) exit }' "$_u")
    _envs=$(sed -n 's/^Environment=//p' "$_u")
    _envf=$(sed -n 's/^EnvironmentFile=-\{0,1\}//p' "$_u")
    # systemd's ${VAR} and $VAR expansions match the shell's here.
    ip netns exec "$ns" sh -c "set -a; [ ! -r '$_envf' ] || . '$_envf'; export $_envs; set +a
        exec ${_user:+runuser -u $_user --} $_exec" >>"$out/$1.log" 2>&1 &
    pids="$pids $!"
}
ip netns add "$ns" && ip -n "$ns" link set lo up || die "netns"
ip -n "$ns" link add ul0 type veth peer name ul1 && ip -n "$ns" addr add 192.0.2.99/24 dev ul0 \
    && ip -n "$ns" link set ul0 up && ip -n "$ns" link set ul1 up || die "underlay veth"
if [ -d /run/systemd/system ]; then
    echo "note: systemd runs here, but the test keeps to its namespace"
fi
unit_run nvo-controller
n() { ip netns exec "$ns" nvoctl "$@"; }
i=0; until n status >/dev/null 2>&1 || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
check "nvo-controller (unit's ExecStart as user nvo) answers nvoctl status" "n status"
check "it keeps its store in /var/lib/nvo" "[ -f /var/lib/nvo/nvo.db ] && [ \"\$(stat -c %U /var/lib/nvo/nvo.db)\" = nvo ]"
check "nvoctl hypervisor add (kernel hypervisor hvp; it confirms once its agent runs)" "n hypervisor add hvp 192.0.2.99 kernel"
sed -i -e 's|^NVO_CONTROLLER=.*|NVO_CONTROLLER=tcp:127.0.0.1:6650|' \
       -e 's|^NVO_NAME=.*|NVO_NAME=hvp|' -e 's|^NVO_TUNNEL_IP=.*|NVO_TUNNEL_IP=192.0.2.99|' \
       -e 's|^NVO_DATAPLANE=.*|NVO_DATAPLANE=kernel|' /etc/default/nvo-agent
unit_run nvo-agent
i=0; until n hypervisor show hvp 2>/dev/null | grep -q '^state *: connected' || [ $i -ge 150 ]; do sleep 0.1; i=$((i + 1)); done
check "nvo-agent (its unit, /etc/default/nvo-agent) connects as hvp" \
    "n hypervisor show hvp | grep -q '^state *: connected'"
check "nvoctl status lists hvp connected" "n status | grep -Eq '^hvp +kernel +hypervisor +connected'"

# 6. Purge.
for p in $pids; do kill "$p" 2>/dev/null; done
pids=
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq nvo-controller nvo-agent nvoctl \
    >"$out/purge.log" 2>&1 && ok "apt-get purge" || bad "apt-get purge"
for f in /usr/bin/nvo-controller /usr/bin/nvo-agent /usr/bin/nvoctl \
         /lib/systemd/system/nvo-controller.service /etc/default/nvo-controller \
         /etc/default/nvo-agent /var/lib/nvo; do
    check "purged $f" "[ ! -e $f ]"
done
check "user nvo removed" "! getent passwd nvo"
echo "debian: $fails failure(s)"
[ $fails -eq 0 ]
