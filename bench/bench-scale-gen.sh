#!/bin/sh
# bench-scale-gen.sh - makes an nvo SQLite store of a given size, for
# bench-scale.sh's memory part: the schema the controller's migrations make
# (schema/[0-9]*.sql, PRAGMA user_version), then every row in one
# transaction through the sqlite3 shell.
#
# Usage: bench-scale-gen.sh FILE PORTS HYPERVISORS NETWORKS [OVSDB-PREFIX]
#
# Placement is tenant-like: network k (100 ports per network when
# PORTS = 100 x NETWORKS) spans 10 neighbouring hypervisors, so each
# hypervisor holds ports of about 10 networks.  Hypervisors are OVS ones
# whose OVSDB remote is OVSDB-PREFIX/hI.sock (default unix:/nonexistent):
# nothing answers there, as no switch is needed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 4 ] || { echo "usage: $0 FILE PORTS HYPERVISORS NETWORKS [OVSDB-PREFIX]" >&2; exit 2; }
file=$1 ports=$2 hvs=$3 nets=$4 prefix=${5:-unix:/nonexistent}
command -v sqlite3 >/dev/null || { echo "$0: needs sqlite3" >&2; exit 1; }
rm -f "$file" "$file-wal" "$file-shm"

n=0
for f in "$top"/schema/[0-9]*.sql; do
    sqlite3 "$file" <"$f"
    n=$((n + 1))
done
sqlite3 "$file" "PRAGMA user_version = $n; PRAGMA journal_mode = WAL;" >/dev/null

awk -v ports="$ports" -v hvs="$hvs" -v nets="$nets" -v prefix="$prefix" 'BEGIN {
    rev = 1
    print "BEGIN;"
    for (i = 1; i <= nets; i++)
        printf "INSERT INTO networks (id, name, vni, bum, revision) VALUES (%d, \047n%d\047, %d, \047head-end\047, %d);\n", i, i, 5000 + i, rev
    for (i = 1; i <= hvs; i++)
        printf "INSERT INTO hypervisors (id, name, tunnel_ip, dataplane, role, ovsdb, revision) VALUES (%d, \047h%d\047, \047198.18.%d.%d\047, \047ovs\047, \047hypervisor\047, \047%s/h%d.sock\047, %d);\n", i, i, int(i / 250), i % 250 + 1, prefix, i, rev
    per = int((ports + nets - 1) / nets)
    for (k = 0; k < ports; k++) {
        net = int(k / per) + 1
        hv = ((net - 1) * 10 + k % 10) % hvs + 1
        printf "INSERT INTO ports (id, vm, network_id, hypervisor_id, mac, ip, iface, revision) VALUES (%d, \047vm%d\047, %d, %d, \04702:5e:%02x:%02x:%02x:%02x\047, NULL, \047p%d\047, %d);\n", k + 1, k, net, hv, int(k / 16777216) % 256, int(k / 65536) % 256, int(k / 256) % 256, k % 256, k, rev
    }
    print "UPDATE store_revision SET revision = 1;"
    print "COMMIT;"
}' | sqlite3 "$file"
