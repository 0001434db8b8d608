#!/usr/bin/env python3
"""failover-phases.py - where a cluster failover's time went, from the
surviving controllers' logs (doc/cluster.md, "Failover time").

Usage: failover-phases.py KILL_MS FROM_MS TO_MS VICTIM "HV ..." LOG...
       failover-phases.py --resynced "HV ..." CTL=STATUS.json@MS...

KILL_MS is the wall clock (ms since the epoch) of the kill -9, VICTIM the
dead controller's name, then the hypervisors it owned and the controllers'
log files.  Also counts, from FROM_MS to TO_MS, live controllers declared
dead (any but VICTIM) and leases that lapsed: false failovers.

--resynced: given each survivor's GET /v1/status answer (CTL is its name,
MS when the answer came, in ms after the kill), exits 0 and prints when
the last of the hypervisors was confirmed by its new owner itself (after
its own resync: an owner's confirmation starts from 0 when it takes a
hypervisor), in ms after the kill, from the owner's
last_confirmed_ms_ago: the failover's length without the poll's own
delay.  Exits 1 if one is not resynced yet.  Prints, per phase, the first and last moment (ms after the
kill) any survivor reached it for those hypervisors, and how many did.
Only lines logged after the kill count; the log's timestamps are UTC with
milliseconds (libopenvswitch's vlog), like KILL_MS."""
import datetime
import json
import re
import sys

# (phase, regex, per hypervisor?): the order a failover goes through.
PHASES = [
    ("paths warmed (peer stale)", r"cluster.*\|peer (?P<peer>\S+) looks stale", False),
    ("peer declared dead", r"cluster.*\|peer (?P<peer>\S+) is dead to us", False),
    ("take planned", r"\|hypervisor (?P<hv>[^|\s]+): taking it from (?P<peer>\S+), dead", True),
    ("take committed (Raft)", r"\|took \d+ hypervisors: committed in (?P<ms>\d+) ms", False),
    ("ours on main thread", r"\|hypervisor (?P<hv>[^|\s]+): ours now", True),
    ("switch sessions opened", r"\|(?P<hv>[^|\s]+): connecting to OVSDB \S+, OpenFlow", True),
    ("OVSDB session up", r"\|(?P<hv>[^|\s]+): connecting to OVSDB -> ", True),
    ("OpenFlow flows dumped", r"\|(?P<hv>[^|\s]+): OpenFlow connected, switch holds", True),
    ("resync diff done", r"\|(?P<hv>[^|\s]+): (switch already holds the desired|sending \d+ adds)", True),
    ("recorded as confirmed (Raft)", r"\|recorded \d+ hypervisors it took as confirmed: committed in (?P<ms>\d+) ms", False),
]
# Phases that need a write after the take: a new owner's record covers
# what it took only once a write raises a claim (doc/cluster.md,
# "Failover time": not in the failover's path).
AT_NEXT_WRITE = {"recorded as confirmed (Raft)"}


def stamp_ms(line):
    try:
        t = datetime.datetime.strptime(line[:23], "%Y-%m-%dT%H:%M:%S.%f")
    except ValueError:
        return None
    t = t.replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp() * 1000)


def resynced(lost, answers):
    views, at = {}, {}
    for a in answers:
        ctl, rest = a.split("=", 1)
        path, ms = rest.rsplit("@", 1)
        views[ctl] = {h["name"]: h for h in json.load(open(path))["hypervisors"]}
        at[ctl] = int(ms)
    last = 0
    for n in lost:
        owners = [c for c, v in views.items()
                  if n in v and v[n].get("controller") == c]
        if not owners:
            return 1
        h = views[owners[0]][n]
        if not h["confirmed_revision"] >= h["required_revision"] > 0:
            return 1
        last = max(last, at[owners[0]] - (h["last_confirmed_ms_ago"] or 0))
    print(last)
    return 0


def main():
    if sys.argv[1] == "--resynced":
        sys.exit(resynced(set(sys.argv[2].split()), sys.argv[3:]))
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
    print("  phases (ms after the kill or cut: first-last, how many; from the survivors' logs):")
    for name, _, per_hv in PHASES:
        v = sorted(found[name])
        if not v:
            print("    %-30s -%s" % (name, "      (at the first write after the take: none yet)"
                                     if name in AT_NEXT_WRITE else ""))
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
