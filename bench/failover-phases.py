#!/usr/bin/env python3
"""failover-phases.py - where a cluster failover's time went, from the
surviving controllers' logs (doc/cluster.md, "Failover time").

Usage: failover-phases.py KILL_MS FROM_MS TO_MS VICTIM "HV ..." LOG...

KILL_MS is the wall clock (ms since the epoch) of the kill -9, VICTIM the
dead controller's name, then the hypervisors it owned and the controllers'
log files.  Also counts, from FROM_MS to TO_MS, live controllers declared
dead (any but VICTIM) and leases that lapsed: false failovers.  Prints, per phase, the first and last moment (ms after the
kill) any survivor reached it for those hypervisors, and how many did.
Only lines logged after the kill count; the log's timestamps are UTC with
milliseconds (libopenvswitch's vlog), like KILL_MS."""
import datetime
import re
import sys

# (phase, regex, per hypervisor?): the order a failover goes through.
PHASES = [
    ("peer declared dead", r"cluster.*\|peer (?P<peer>\S+) is dead to us", False),
    ("take planned", r"\|hypervisor (?P<hv>[^|\s]+): taking it from (?P<peer>\S+), dead", True),
    ("take committed (Raft)", r"\|took \d+ hypervisors: committed in (?P<ms>\d+) ms", False),
    ("ours on main thread", r"\|hypervisor (?P<hv>[^|\s]+): ours now", True),
    ("switch sessions opened", r"\|(?P<hv>[^|\s]+): connecting to OVSDB \S+, OpenFlow", True),
    ("OVSDB replica in", r"\|(?P<hv>[^|\s]+): connecting to OVSDB -> ", True),
    ("OpenFlow flows dumped", r"\|(?P<hv>[^|\s]+): OpenFlow connected, switch holds", True),
    ("resync diff done", r"\|(?P<hv>[^|\s]+): (switch already holds the desired|sending \d+ adds)", True),
    ("recorded as confirmed (Raft)", r"\|recorded \d+ hypervisors it took as confirmed: committed in (?P<ms>\d+) ms", False),
]


def stamp_ms(line):
    try:
        t = datetime.datetime.strptime(line[:23], "%Y-%m-%dT%H:%M:%S.%f")
    except ValueError:
        return None
    t = t.replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp() * 1000)


def main():
    kill_ms, from_ms, to_ms = map(int, sys.argv[1:4])
    victim, lost = sys.argv[4], set(sys.argv[5].split())
    false_dead = lapsed = 0
    found = {name: [] for name, _, _ in PHASES}
    raft = {name: [] for name, _, _ in PHASES}
    for path in sys.argv[6:]:
        try:
            lines = open(path, errors="replace").read().splitlines()
        except OSError:
            continue
        seen = {name: set() for name, _, _ in PHASES}
        for line in lines:
            t = stamp_ms(line)
            if t is not None and from_ms <= t <= to_ms:
                m = re.search(r"\|peer (\S+) is dead to us", line)
                false_dead += bool(m and m.group(1) != victim)
                lapsed += "lease expired" in line
            if t is None or t < kill_ms:
                continue
            for name, rx, per_hv in PHASES:
                m = re.search(rx, line)
                if not m:
                    continue
                d = m.groupdict()
                if d.get("peer") and d["peer"] != victim:
                    continue
                if per_hv:
                    if d["hv"] not in lost or d["hv"] in seen[name]:
                        continue
                    seen[name].add(d["hv"])
                found[name].append(t - kill_ms)
                if d.get("ms"):
                    raft[name].append(int(d["ms"]))
    print("  phases (ms after the kill: first-last, how many; from the survivors' logs):")
    for name, _, per_hv in PHASES:
        v = sorted(found[name])
        if not v:
            print("    %-30s -" % name)
            continue
        extra = ""
        if raft[name]:
            extra = "  (each commit %s ms)" % ",".join(str(x) for x in raft[name])
        print("    %-30s %5d-%-5d %3d%s%s" % (
            name, v[0], v[-1], len(v), " of %d" % len(lost) if per_hv else "",
            extra))
    print("  false failovers: %d live controllers declared dead, %d leases "
          "lapsed" % (false_dead, lapsed))


if __name__ == "__main__":
    main()
