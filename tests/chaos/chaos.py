#!/usr/bin/env python3
"""chaos.py - the chaos suite's driver (started by tests/chaos/chaos.sh
inside the controller's namespace, on the lab of tests/chaos/chaos-lab.sh).

While a writer streams ?wait=1 POST/PATCH/DELETE of churn ports and the
pinger VMs ping each other every 100 ms, injects random faults one after
the other, each followed by its recovery, and measures the time from the
recovery to convergence (every hypervisor "connected" and confirmed at
least the revision it had to confirm at the recovery).  Then checks:
  - every acknowledged write is in the store (the writer's journal against
    GET /v1/ports; unknown outcomes are resolved by reading the store);
  - the SQLite file passes PRAGMA integrity_check;
  - every switch and kernel VTEP holds exactly the desired state: the
    dataplane is recorded, then rebuilt from nothing (controller stopped,
    nvo's OVS ports deleted and ovs-vswitchd restarted, nvo's kernel devices
    deleted and agents restarted, controller started) and recorded again:
    whatever was there before and not after is stale, the reverse missing;
  - no packet lost during the faults that cannot lose one by design
    (controller and agent restarts), on the quiet paths and on the busy
    ones, where ports change meanwhile (QUIET, BUSY; see doc/chaos.md);
  - every disk_full fault refused writes with 507 storage_full (and no 507
    came otherwise), and writes were acknowledged again after it.
Reports per fault kind: count, ping loss, time to converge p50/max.
"""

import argparse
import http.client
import json
import os
import random
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time

TOP = os.environ["LAB_TOP"]
PREFIX = os.environ["CHAOS_PREFIX"]
LABDIR = os.environ["CHAOS_LABDIR"]
WORK = os.environ["CHAOS_WORK"]
SLOTS = int(os.environ.get("CHAOS_SLOTS", "8"))
OVS = ["o1", "o2", "o3"]
KERNEL = ["k1", "k2"]
AGENTS = ["k1", "k2", "s1"]
HVS = OVS + KERNEL
ALL_NODES = HVS + ["s1"]
KINDS = ["controller_kill", "agent_kill", "vswitchd_kill", "ovsdb_kill",
         "switch_stop", "link_down", "disk_full"]
# Faults after which no packet may be lost: the dataplane does not depend
# on the controller or an agent being up.
LOSSLESS = {"controller_kill", "agent_kill"}
# Faults that do not touch the dataplane: their losses are listed one by
# one.
NO_DATAPLANE = LOSSLESS | {"disk_full"}
# While such a fault is under way (from just before it until 1 s after the
# lab converged), the write stream goes on, but only on BUSY: no port is
# added to, moved to or from, or deleted on a QUIET hypervisor, so the
# pings between QUIET hypervisors ("quiet paths") see the fault and
# nothing else.  Pings through BUSY see the fault and port changes at once
# ("busy paths").  Both must lose none; they are reported apart, so a loss
# says whether port changes were involved (doc/ovs-hypervisor.md: OVS's
# userspace datapath loses packets on port changes unless its underlay
# routes are pinned, as the lab does).
QUIET = {"o1", "o2", "k1", "k2"}
BUSY = ["o3"]
PINGS = [("po1", "10.0.0.2"), ("po2", "10.0.0.3"), ("po3", "10.0.0.4"),
         ("pk1", "10.0.0.5"), ("pk2", "10.0.0.1"), ("qo2", "10.1.0.2"),
         ("po1", "10.0.0.4")]
# Where each pinger VM and pinged address lives (chaos-lab.sh).
VM_HV = {"po1": "o1", "po2": "o2", "po3": "o3", "pk1": "k1", "pk2": "k2",
         "qo2": "o2", "qk2": "k2"}
IP_HV = {"10.0.0.1": "o1", "10.0.0.2": "o2", "10.0.0.3": "o3",
         "10.0.0.4": "k1", "10.0.0.5": "k2", "10.1.0.1": "o2",
         "10.1.0.2": "k2"}


def log(msg):
    print("%s chaos: %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def lab(cmd, check=True):
    """Runs CMD (shell) with deploy/lab-lib.sh and chaos-lab.sh loaded."""
    script = ('. "$LAB_TOP/deploy/lab-lib.sh" && '
              '. "$LAB_TOP/tests/chaos/chaos-lab.sh" && '
              'lab_init "$CHAOS_PREFIX" "$CHAOS_LABDIR" && ' + cmd)
    p = subprocess.run(["sh", "-c", script], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if check and p.returncode:
        raise RuntimeError("%s: %s" % (cmd, p.stdout.strip()))
    return p.stdout


def ns_run(node, *args):
    return subprocess.run(["ip", "netns", "exec", PREFIX + node] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True).stdout


def pidfile(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def ctl_pidfile():
    return os.path.join(LABDIR, "ctl/nvo-controller.pid")


def hv_pidfile(hv, daemon):
    return os.path.join(LABDIR, "hv", hv, daemon + ".pid")


def agent_pidfile(name):
    return os.path.join(LABDIR, "agent", name, "nvo-agent.pid")


class Rest:
    """One keep-alive connection to the controller's REST API."""

    def __init__(self, timeout=30):
        self.timeout = timeout
        self.conn = None

    def close(self):
        if self.conn:
            self.conn.close()
        self.conn = None

    def request(self, method, path, body=None):
        """Returns (status, parsed JSON or None); status None if the
        connection failed (controller down or killed mid-request)."""
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(
                        "127.0.0.1", 8080, timeout=self.timeout)
                hdrs = {}
                data = None
                if body is not None:
                    data = json.dumps(body)
                    hdrs["Content-Type"] = "application/json"
                self.conn.request(method, path, data, hdrs)
                r = self.conn.getresponse()
                raw = r.read()
                try:
                    j = json.loads(raw) if raw else None
                except ValueError:
                    j = None
                return r.status, j
            except (OSError, http.client.HTTPException) as e:
                if self.conn:
                    self.conn.close()
                self.conn = None
                # A reused connection the server closed: retry once, but
                # only for reads (a write may have been received).
                if method != "GET" or attempt:
                    return None, str(e)
        return None, "unreachable"


def slot_vm(k):
    return "c%d" % k


def slot_net(k):
    return "red" if k % 2 == 0 else "blue"


def slot_body(k, hv):
    net = slot_net(k)
    return {"vm": slot_vm(k), "network": net, "hypervisor": hv,
            "mac": "02:00:00:aa:00:%02x" % k,
            "ip": ("10.0.0.%d" if net == "red" else "10.1.0.%d") % (100 + k),
            "iface": "c%d" % k}


def store_ports(rest):
    """GET /v1/ports as {vm: (id, hypervisor, network, iface)} or None."""
    st, j = rest.request("GET", "/v1/ports")
    if st != 200 or not isinstance(j, list):
        return None
    return {p["vm"]: (p["id"], p["hypervisor"], p["network"], p["iface"])
            for p in j}


class Writer(threading.Thread):
    """Streams ?wait=1 writes of churn ports (slot k: VM ck, iface ck,
    network red/blue by parity) and keeps, per slot, the state the store
    must hold: None or (hypervisor, network)."""

    COMMITTED = {200, 201, 204, 504, 502}   # the store holds the write

    def __init__(self, interval, rng):
        super().__init__(daemon=True)
        self.interval = interval
        self.rng = rng
        self.rest = Rest(timeout=40)
        self.known = {k: None for k in range(SLOTS)}
        self.ids = {}
        self.stop = threading.Event()
        self.counts = {}
        self.acked = 0
        self.lost = []
        self.phantom = []
        self.anomalies = []
        self.statuses = {}
        self.journal = []               # (time answered, status, code)
        self.paused = threading.Event()
        self.lock = threading.Lock()    # Held for each write.
        self.only = None                # HVs writes may touch; None: all.

    def restrict(self, hvs):
        """From now on, writes touch only 'hvs' (None: every hypervisor);
        returns once the write in flight, if any, is done."""
        self.only = hvs
        with self.lock:
            pass

    def count(self, key):
        self.counts[key] = self.counts.get(key, 0) + 1

    def resync(self, k, attempted):
        """After an unknown outcome: reads the slot from the store (waiting
        for the controller) and checks it is the known or attempted state."""
        deadline = time.time() + 120
        while time.time() < deadline:
            ports = store_ports(self.rest)
            if ports is not None:
                break
            time.sleep(0.2)
        else:
            self.anomalies.append("slot %d: store unreadable for 120 s" % k)
            return
        p = ports.get(slot_vm(k))
        seen = (p[1], p[2]) if p else None
        if seen == self.known[k]:
            pass
        elif seen == attempted:
            self.count("unknown_applied")
        else:
            self.lost.append("slot %d: store has %s, acknowledged %s"
                             % (k, seen, self.known[k]))
        self.known[k] = seen
        if p:
            self.ids[k] = p[0]
        else:
            self.ids.pop(k, None)

    def one(self):
        only = self.only
        hvs = HVS if only is None else only
        free = [k for k in range(SLOTS)
                if self.known[k] is None or self.known[k][0] in hvs]
        if not free:
            return
        k = self.rng.choice(free)
        cur = self.known[k]
        if cur is None:
            hv = self.rng.choice(hvs)
            method, path, body = "POST", "/v1/ports?wait=1", slot_body(k, hv)
            attempted = (hv, slot_net(k))
        elif self.rng.random() < 0.6 and len(hvs) > 1:
            hv = self.rng.choice([h for h in hvs if h != cur[0]])
            method = "PATCH"
            path = "/v1/ports/%s?wait=1" % self.ids[k]
            body = {"hypervisor": hv, "iface": "c%d" % k}
            attempted = (hv, cur[1])
        else:
            method, path, body = ("DELETE", "/v1/ports/%s?wait=1"
                                  % self.ids[k], None)
            attempted = None
        st, j = self.rest.request(method, path, body)
        self.count(method)
        self.statuses[st] = self.statuses.get(st, 0) + 1
        code = None
        if isinstance(j, dict) and isinstance(j.get("error"), dict):
            code = j["error"].get("code")
        self.journal.append((time.time(), st, code))
        if st in self.COMMITTED:
            if st < 300:
                self.acked += 1
            self.known[k] = attempted
            if method == "POST" and isinstance(j, dict) and "id" in j:
                self.ids[k] = j["id"]
            elif method == "POST":
                # 504/502 bodies are errors: read the id from the store.
                self.resync(k, attempted)
            elif method == "DELETE":
                self.ids.pop(k, None)
        elif st is None or st in (503, 507):
            # Not acknowledged (controller killed; 507 disk full): either
            # way allowed, as long as nothing acknowledged is lost.
            self.resync(k, attempted)
        else:
            self.anomalies.append("%s %s: %s %s" % (method, path, st, j))
            self.resync(k, attempted)

    def run(self):
        while not self.stop.is_set():
            if self.paused.is_set():
                time.sleep(0.05)
                continue
            try:
                with self.lock:
                    self.one()
            except Exception as e:     # a bug here must not end the run
                self.anomalies.append("writer: %r" % e)
            time.sleep(self.interval)


class Pinger:
    """ping -D -O every 100 ms from a pinger VM; lost replies with their
    time from "no answer yet" lines."""

    def __init__(self, vm, dst):
        self.vm, self.dst = vm, dst
        self.quiet = VM_HV[vm] in QUIET and IP_HV[dst] in QUIET
        self.path = os.path.join(WORK, "ping-%s-%s.out" % (vm, dst))
        self.f = open(self.path, "w")
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", PREFIX + vm, "ping", "-D", "-O", "-n",
             "-i", "0.1", "-W", "2", dst],
            stdout=self.f, stderr=subprocess.STDOUT)

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
        self.f.close()

    def losses(self):
        """[(time, seq)] of requests never answered."""
        replied, missing = set(), {}
        with open(self.path) as f:
            for line in f:
                m = re.match(r"\[(\d+\.\d+)\] .*icmp_seq=(\d+)", line)
                if not m:
                    continue
                t, seq = float(m.group(1)), int(m.group(2))
                if "no answer yet" in line:
                    missing.setdefault(seq, t)
                elif "bytes from" in line:
                    replied.add(seq)
        return sorted((t, s) for s, t in missing.items() if s not in replied)


class Chaos:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.rest = Rest(timeout=10)
        self.faults = []     # dicts: kind, target, t_inject, t_recover, t_conv

    # --- convergence ------------------------------------------------------
    def hvs(self):
        st, j = self.rest.request("GET", "/v1/hypervisors")
        if st != 200 or not isinstance(j, list):
            return None
        return {h["name"]: h for h in j}

    def wait_converged(self, timeout):
        """Waits for every hypervisor to be connected and to confirm what it
        had to at the first answer; returns the time or None."""
        deadline = time.time() + timeout
        base = None
        while time.time() < deadline:
            h = self.hvs()
            if h is not None:
                if base is None:
                    base = {n: v["required_revision"] for n, v in h.items()}
                if all(v["state"] == "connected"
                       and v["confirmed_revision"] >= base.get(n, 0)
                       for n, v in h.items()):
                    return time.time()
            time.sleep(0.1)
        return None

    # --- faults -----------------------------------------------------------
    def kill(self, path, sig):
        pid = pidfile(path)
        if pid:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        return pid

    def wait_gone(self, pid, timeout=10):
        end = time.time() + timeout
        while pid and time.time() < end:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            # A zombie of ours is gone enough.
            try:
                with open("/proc/%d/stat" % pid) as f:
                    if f.read().split(") ")[1].startswith("Z"):
                        return
            except OSError:
                return
            time.sleep(0.02)

    def inject(self, kind):
        """Injects one fault of KIND, holds it, recovers; returns
        (target, t_inject, t_recover)."""
        rng = self.rng
        # kill -9, 1 s down, restarted: (targets, pidfile, restart).
        restarts = {
            "controller_kill": (["ctl"], lambda t: ctl_pidfile(),
                                "lab_controller_start $(chaos_ctl_args)"),
            "agent_kill": (AGENTS, agent_pidfile, "lab_agent_start %s"),
            "vswitchd_kill": (OVS, lambda t: hv_pidfile(t, "ovs-vswitchd"),
                              "lab_ovs_start_vswitchd %s"),
            "ovsdb_kill": (OVS, lambda t: hv_pidfile(t, "ovsdb-server"),
                           "lab_ovs_start_ovsdb %s"),
        }
        if kind in restarts:
            targets, pf, restart = restarts[kind]
            target = rng.choice(targets)
            t0 = time.time()
            self.wait_gone(self.kill(pf(target), signal.SIGKILL))
            time.sleep(1)
            lab(restart.replace("%s", target))
        elif kind == "switch_stop":
            target = rng.choice(OVS)
            t0 = time.time()
            pid = self.kill(hv_pidfile(target, "ovs-vswitchd"), signal.SIGSTOP)
            time.sleep(5)
            if pid:
                os.kill(pid, signal.SIGCONT)
        elif kind == "link_down":
            target = rng.choice(ALL_NODES)
            t0 = time.time()
            ns_run("ul", "ip", "link", "set", "u-" + target, "down")
            time.sleep(3)
            ns_run("ul", "ip", "link", "set", "u-" + target, "up")
        elif kind == "disk_full":
            target = "db"
            t0 = time.time()
            self.fill_disk()
            # Held at least 3 s, and until the write stream met the full
            # disk (a 507), at most 15 s: check() fails a disk_full fault
            # that saw none.
            end = t0 + 15
            while time.time() < end and (
                    time.time() < t0 + 3
                    or not any(st == 507 and t >= t0
                               for t, st, _ in self.writer.journal[-50:])):
                time.sleep(0.05)
            try:
                os.unlink(os.path.join(WORK, "dbfs", "filler"))
            except OSError:
                pass
        else:
            raise ValueError(kind)
        return target, t0, time.time()

    def fill_disk(self):
        """Fills the SQLite file system so that the next commit fails.
        Filling is not enough: in WAL mode SQLite keeps the -wal file at
        its largest size and writes into it again after each checkpoint
        (up to 4 MiB with the default 1000-page autocheckpoint), so a
        churn of updates needs no new block for a long time and a full disk
        goes unnoticed.  A checkpoint from a second connection truncates
        the WAL first (PRAGMA wal_checkpoint(TRUNCATE), as SQLite does
        itself when the last connection closes); the fill then takes its
        blocks, and the next commit has to append to the WAL."""
        for _ in range(20):
            try:
                db = sqlite3.connect("%s/dbfs/nvo.db" % WORK, timeout=5)
                busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)") \
                    .fetchone()[0]
                db.close()
                if not busy:
                    break
            except sqlite3.Error as e:
                log("disk_full: checkpoint: %s" % e)
            time.sleep(0.05)
        else:
            log("disk_full: the WAL could not be truncated (busy)")
        chunk = b"\0" * 65536
        try:
            fd = os.open(os.path.join(WORK, "dbfs", "filler"),
                         os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            try:
                while True:
                    os.write(fd, chunk)
            except OSError:
                # ENOSPC: full; smaller writes fill the rest.
                try:
                    while True:
                        os.write(fd, chunk[:512])
                except OSError:
                    pass
            os.close(fd)
        except OSError:
            pass                  # already full

    # --- dataplane snapshots ----------------------------------------------
    def ovs_state(self, hv):
        d = os.path.join(LABDIR, "hv", hv)
        env = dict(os.environ, OVS_RUNDIR=d)
        db = "--db=unix:%s/db.sock" % d

        def vsctl(*a):
            return subprocess.run(["ovs-vsctl", db, "--timeout=20"] + list(a),
                                  stdout=subprocess.PIPE, text=True,
                                  env=env).stdout
        names = {}
        desc = subprocess.run(
            ["ovs-ofctl", "-O", "OpenFlow13", "dump-ports-desc",
             "unix:%s/br-int.mgmt" % d], stdout=subprocess.PIPE, text=True,
            env=env).stdout
        for m in re.finditer(r"^\s*(\d+)\(([^)]+)\):", desc, re.M):
            names[m.group(1)] = m.group(2)
        out = set()
        for line in vsctl("--format=csv", "--data=bare", "--no-headings",
                          "--columns=name,type,options,external_ids", "list",
                          "Interface").splitlines():
            if "nvo-owner" in line:
                out.add("iface " + line)
        flows = subprocess.run(
            ["ovs-ofctl", "-O", "OpenFlow13", "dump-flows",
             "unix:%s/br-int.mgmt" % d], stdout=subprocess.PIPE, text=True,
            env=env).stdout
        for line in flows.splitlines():
            if "cookie=0x6e" not in line:
                continue
            line = re.sub(r"(duration|n_packets|n_bytes|idle_age|hard_age)"
                          r"=[^,]*, ", "", line.strip())
            line = re.sub(r"(in_port|output)[=:](\d+)",
                          lambda m: "%s:%s" % (m.group(1),
                                               names.get(m.group(2),
                                                         m.group(2))),
                          line)
            out.add("flow " + line)
        return out

    def kernel_state(self, hv):
        out = set()
        links = ns_run(hv, "ip", "-d", "-o", "link", "show")
        for line in links.splitlines():
            m = re.match(r"\d+: ([^:@]+)[@:]", line)
            if not m:
                continue
            name = m.group(1)
            if name.startswith("nv"):
                vx = re.search(r"vxlan id (\d+)", line)
                out.add("dev %s%s" % (name, " vni " + vx.group(1)
                                      if vx else ""))
            mm = re.search(r"master (\S+)", line)
            if mm and mm.group(1).startswith("nv"):
                out.add("port %s master %s" % (name, mm.group(1)))
        for line in ns_run(hv, "bridge", "fdb", "show").splitlines():
            f = line.split()
            if len(f) < 3 or f[1] != "dev":
                continue
            # nvo's VTEP entries (MAC -> remote VTEP, all-zero for BUM),
            # and static entries nvo put on its bridges; not the kernel's
            # own "permanent" addresses or learned ones.
            if f[2].startswith("nvx") and "dst" in f:
                out.add("fdb " + " ".join(w for w in f if w not in
                                          ("self", "permanent")))
            elif "static" in f and "master" in f \
                    and f[f.index("master") + 1].startswith("nv"):
                out.add("fdb " + " ".join(f))
        return out

    def dataplane(self):
        return {hv: (self.ovs_state(hv) if hv in OVS
                     else self.kernel_state(hv)) for hv in ALL_NODES}

    def rebuild_from_nothing(self):
        """Stops the controller, removes everything nvo put on the nodes,
        starts it again and waits until it reprogrammed everything."""
        # Our keep-alive connection is not the subject here.
        self.rest.close()
        lab("lab_controller_stop")
        for hv in OVS:
            d = os.path.join(LABDIR, "hv", hv)
            env = dict(os.environ, OVS_RUNDIR=d)
            db = "--db=unix:%s/db.sock" % d
            ports = subprocess.run(
                ["ovs-vsctl", db, "--format=csv", "--data=bare",
                 "--no-headings", "--columns=name,external_ids", "list",
                 "Port"], stdout=subprocess.PIPE, text=True,
                env=env).stdout
            cmd = ["ovs-vsctl", db, "--timeout=20"]
            for line in ports.splitlines():
                if "nvo-owner" in line:
                    cmd += ["--", "--if-exists", "del-port", "br-int",
                            line.split(",")[0]]
            if len(cmd) > 3:
                subprocess.run(cmd, env=env, check=True)
            lab("lab_ovs_restart_vswitchd %s" % hv)
        for hv in AGENTS:
            lab("lab_agent_kill %s" % hv)
            for line in ns_run(hv, "ip", "-o", "link", "show").splitlines():
                m = re.match(r"\d+: (nv[^:@]+)[@:]", line)
                if m:
                    ns_run(hv, "ip", "link", "del", m.group(1))
            lab("lab_agent_start %s" % hv)
        lab("lab_controller_start $(chaos_ctl_args)")
        return self.wait_converged(90)

    # --- the run ----------------------------------------------------------
    def run(self):
        a = self.args
        if self.wait_converged(60) is None:
            log("lab did not converge before the faults")
            return 1
        pingers = [Pinger(vm, dst) for vm, dst in PINGS]
        writer = Writer(a.write_interval, random.Random(a.seed + 1))
        self.writer = writer
        time.sleep(2)            # ARP settled, pings flowing
        writer.start()
        kinds = a.kinds.split(",") if a.kinds else KINDS
        for k in kinds:
            if k not in KINDS:
                log("unknown fault kind %s (one of %s)" % (k, ",".join(KINDS)))
                return 2
        if a.faults < len(kinds):
            plan = self.rng.sample(kinds, a.faults)
        else:
            plan = [kinds[i % len(kinds)] for i in range(a.faults)]
            self.rng.shuffle(plan)
        t_start = time.time()
        for i, kind in enumerate(plan):
            if kind in LOSSLESS:
                # Quiet paths: see QUIET.  The write in flight is
                # confirmed (applied) when restrict() returns.
                writer.restrict(BUSY)
                time.sleep(0.5)
            target, t0, t1 = self.inject(kind)
            tc = self.wait_converged(a.converge_timeout)
            if kind in LOSSLESS:
                time.sleep(1)
                writer.restrict(None)
            f = {"kind": kind, "target": target, "t_inject": t0,
                 "t_recover": t1, "t_conv": tc}
            self.faults.append(f)
            log("fault %d/%d %s %s: %s" % (
                i + 1, len(plan), kind, target,
                "converged in %.0f ms" % ((tc - t1) * 1000) if tc
                else "NOT CONVERGED"))
            time.sleep(self.rng.uniform(0.5, 1.5))
        time.sleep(2)
        writer.stop.set()
        writer.join(60)
        writer.rest.close()
        for p in pingers:
            p.stop()
        duration = time.time() - t_start
        return self.check(writer, pingers, duration)

    def check(self, writer, pingers, duration):
        fails = []
        if self.wait_converged(60) is None:
            fails.append("not converged after the run")
        # Acknowledged writes against the store.
        ports = None
        for _ in range(50):
            ports = store_ports(self.rest)
            if ports is not None:
                break
            time.sleep(0.2)
        if ports is None:
            fails.append("GET /v1/ports failed after the run")
            ports = {}
        for k in range(SLOTS):
            p = ports.get(slot_vm(k))
            seen = (p[1], p[2]) if p else None
            if seen != writer.known[k]:
                writer.lost.append("slot %d: store has %s, acknowledged %s"
                                   % (k, seen, writer.known[k]))
        for vm, _ in PINGS:
            if vm not in ports:
                fails.append("pinger %s's port is gone" % vm)
        try:
            db = sqlite3.connect("file:%s/dbfs/nvo.db?mode=ro" % WORK,
                                 uri=True, timeout=10)
            ic = db.execute("PRAGMA integrity_check").fetchone()[0]
            db.close()
        except sqlite3.Error as e:
            ic = str(e)
        if ic != "ok":
            fails.append("integrity_check: %s" % ic)

        # Exactly the desired state on every node.
        before = self.dataplane()
        t_rb = time.time()
        rebuilt = self.rebuild_from_nothing()
        if rebuilt is None:
            fails.append("rebuild from nothing did not converge")
        after = self.dataplane()
        stale = missing = 0
        for hv in ALL_NODES:
            for e in sorted(before[hv] - after[hv]):
                stale += 1
                log("stale on %s: %s" % (hv, e))
            for e in sorted(after[hv] - before[hv]):
                missing += 1
                log("missing on %s: %s" % (hv, e))
        n_entries = sum(len(v) for v in after.values())

        # Report.  Losses during a fault (from 0.5 s before it until 1 s
        # after the lab converged) count for its kind; for the lossless
        # kinds they are split by path: quiet (between QUIET hypervisors,
        # where nothing but the fault happened) and busy (through BUSY,
        # where ports changed meanwhile); both are judged.  Each loss of a
        # kind that does not touch the dataplane is listed with the nearest
        # OVS port change on its path, if one came shortly before, and the
        # previous fault; each loss between faults (reported, not judged)
        # with the nearest port change.
        events = port_events()
        losses, quiet = {}, {}
        for p in pingers:
            for t, seq in p.losses():
                kind = "between faults"
                prev = None
                for i, f in enumerate(self.faults):
                    end = (f["t_conv"] or f["t_recover"] + 60) + 1
                    if f["t_inject"] - 0.5 <= t <= end:
                        kind = f["kind"]
                        prev = self.faults[i - 1] if i else None
                        break
                losses[kind] = losses.get(kind, 0) + 1
                if kind in LOSSLESS and p.quiet:
                    quiet[kind] = quiet.get(kind, 0) + 1
                if kind in NO_DATAPLANE:
                    churn = near_event(events, t,
                                       {VM_HV[p.vm], IP_HV[p.dst]})
                    log("%s -> %s (%s path): icmp_seq %d lost at %s, %.2f s "
                        "after %s %s%s%s" % (
                            p.vm, p.dst, "quiet" if p.quiet else "busy",
                            seq, time.strftime("%H:%M:%S",
                                               time.localtime(t)),
                            t - f["t_inject"], kind, f["target"],
                            "; %s %s at %s on %s" % churn if churn else "",
                            "; %.2f s after the recovery from %s %s" % (
                                t - prev["t_recover"], prev["kind"],
                                prev["target"]) if prev else ""))
                elif kind == "between faults":
                    churn = near_event(events, t,
                                       {VM_HV[p.vm], IP_HV[p.dst]})
                    log("%s -> %s: icmp_seq %d lost at %s, between faults%s"
                        % (p.vm, p.dst, seq,
                           time.strftime("%H:%M:%S", time.localtime(t)),
                           "; %s %s at %s on %s" % churn if churn else ""))
        print()
        print("chaos: %d faults in %.0f s (seed %d), %d writes "
              "(%s), %d acknowledged; HTTP statuses %s" % (
                  len(self.faults), duration, self.args.seed,
                  sum(writer.counts.get(m, 0)
                      for m in ("POST", "PATCH", "DELETE")),
                  ", ".join("%s %d" % (m, writer.counts.get(m, 0))
                            for m in ("POST", "PATCH", "DELETE")),
                  writer.acked,
                  " ".join("%s:%d" % (s, n) for s, n in
                           sorted(writer.statuses.items(),
                                  key=lambda x: str(x[0])))))
        n_quiet = sum(1 for p in pingers if p.quiet)
        print("pings: %d paths every 100 ms, %d of them quiet (between %s; "
              "during controller and agent faults, writes only on %s)" % (
                  len(pingers), n_quiet, " ".join(sorted(QUIET)),
                  " ".join(BUSY)))
        print("%-16s %6s %10s %7s %7s %12s %12s" % (
            "fault", "count", "ping lost", "quiet", "busy", "converge p50",
            "max (ms)"))
        for kind in KINDS + ["between faults"]:
            fs = [f for f in self.faults if f["kind"] == kind]
            if not fs and not losses.get(kind):
                continue
            conv = [(f["t_conv"] - f["t_recover"]) * 1000 for f in fs
                    if f["t_conv"]]
            nc = sum(1 for f in fs if not f["t_conv"])
            lost = losses.get(kind, 0)
            q = quiet.get(kind, 0)
            print("%-16s %6s %10d %7s %7s %12s %12s%s" % (
                kind, len(fs) if fs else "-", lost,
                q if kind in LOSSLESS else "-",
                lost - q if kind in LOSSLESS else "-",
                "%.0f" % statistics.median(conv) if conv else "-",
                "%.0f" % max(conv) if conv else "-",
                "  (%d not converged)" % nc if nc else ""))
            if nc:
                fails.append("%d %s faults did not converge" % (nc, kind))
            if kind in LOSSLESS and lost:
                msg = ("%d pings lost across %s (%d on quiet paths, %d on "
                       "busy ones; must be 0)" % (lost, kind, q, lost - q))
                if self.args.loss_advisory:
                    print("warning: %s; not judged (--loss-advisory)" % msg)
                else:
                    fails.append(msg)
        fails += self.disk_full_report(writer)
        print("acknowledged writes lost: %d; unacknowledged writes found "
              "applied: %d" % (len(writer.lost),
                               writer.counts.get("unknown_applied", 0)))
        print("dataplane after convergence: %d entries, %d stale, %d missing "
              "(against a rebuild from nothing, %.1f s)" % (
                  n_entries, stale, missing, time.time() - t_rb))
        print("store integrity_check: %s" % ic)
        for e in writer.lost:
            fails.append("lost: " + e)
        for e in writer.anomalies[:20]:
            fails.append("writer: " + e)
        if stale or missing:
            fails.append("%d stale, %d missing dataplane entries"
                         % (stale, missing))
        for f in fails:
            print("FAIL: " + f)
        print("chaos: %s" % ("PASS" if not fails else "FAIL"))
        return 1 if fails else 0

    def disk_full_report(self, writer):
        """Prints what the write stream met during the disk_full faults;
        returns the failures: a disk_full fault without a 507
        storage_full, a write refused otherwise than with 507
        storage_full, no write acknowledged after the space came back, a
        507 while the disk was not full."""
        fails = []
        faults = [f for f in self.faults if f["kind"] == "disk_full"]
        windows = [(f["t_inject"], f["t_recover"] + 2) for f in faults]
        for t, st, code in writer.journal:
            if st == 507 and not any(lo <= t <= hi for lo, hi in windows):
                fails.append("507 at %s while the disk was not full"
                             % time.strftime("%H:%M:%S", time.localtime(t)))
        if not faults:
            return fails
        first, back, n507 = [], [], 0
        for i, f in enumerate(faults):
            lo, hi = f["t_inject"], f["t_recover"]
            nxt = [g["t_inject"] for g in self.faults
                   if g["t_inject"] > hi] + [time.time()]
            # A write answered up to 2 s after the space came back may have
            # been refused before.
            refused = [(t, code) for t, st, code in writer.journal
                       if st == 507 and lo <= t <= min(hi + 2, min(nxt))]
            n507 += len(refused)
            bad = sum(1 for _, code in refused if code != "storage_full")
            if bad:
                fails.append("disk_full %d: %d 507s without code "
                             "storage_full" % (i + 1, bad))
            if not refused:
                fails.append("disk_full %d: no write refused with 507 while "
                             "the disk was full" % (i + 1))
            else:
                first.append((refused[0][0] - lo) * 1000)
            ok = [t for t, st, _ in writer.journal
                  if st in (200, 201, 204) and hi < t <= min(nxt)]
            if ok:
                back.append((ok[0] - hi) * 1000)
            else:
                fails.append("disk_full %d: no write acknowledged after the "
                             "space came back" % (i + 1))

        def p50max(v):
            return ("%.0f/%.0f" % (statistics.median(v), max(v))
                    if v else "-")
        print("disk_full: %d faults, %d writes refused with 507 "
              "storage_full, the first %s ms (p50/max) after the fault began; "
              "writes acknowledged again %s ms (p50/max) after the space "
              "came back" % (len(faults), n507, p50max(first),
                             p50max(back)))
        return fails


# A loss (the time ping -O reports it: 0.1 s after the request went out)
# is near a port event on a hypervisor of that ping's path that happened at
# most 1.5 s before it or 0.5 s after it.
PORT_EVENT_WINDOW = (-0.5, 1.5)   # loss time - event time, seconds


def port_events():
    """[(epoch, 'added'|'deleted', interface, hypervisor)] from every OVS
    hypervisor's ovs-vswitchd log."""
    import calendar
    out = []
    for hv in OVS:
        path = os.path.join(LABDIR, "hv", hv, "ovs-vswitchd.log")
        try:
            f = open(path)
        except OSError:
            continue
        with f:
            for line in f:
                m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)Z"
                             r"\|.*bridge br-int: (added|deleted) interface "
                             r"(\S+)", line)
                if m:
                    t = calendar.timegm(time.strptime(m.group(1),
                                                      "%Y-%m-%dT%H:%M:%S"))
                    out.append((t + float(m.group(2)), m.group(3),
                                m.group(4), hv))
    return sorted(out)


def near_event(events, t, hvs):
    """(what, interface, time, hypervisor) of a port event on one of 'hvs'
    shortly before (or just after) loss time 't', or None."""
    lo, hi = PORT_EVENT_WINDOW
    for e in events:
        if e[3] in hvs and lo <= t - e[0] <= hi:
            return (e[1], e[2], time.strftime("%H:%M:%S",
                                              time.gmtime(e[0])), e[3])
    return None


def proc_sample(pid):
    """(RSS in KiB, open fds) of PID, or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            rss = int(re.search(r"^VmRSS:\s+(\d+)", f.read(), re.M).group(1))
        return rss, len(os.listdir("/proc/%d/fd" % pid))
    except (OSError, AttributeError):
        return None


def slope(points):
    """Least-squares slope of [(t, v)] per hour (0 with < 2 points)."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    den = sum((t - mt) ** 2 for t, _ in points)
    if not den:
        return 0.0
    return sum((t - mt) * (v - mv) for t, v in points) / den * 3600


def soak(args):
    """Steady churn at --rate writes/s for --minutes; samples RSS and fds
    of nvo-controller and every nvo-agent every 10 s; reports slopes over
    the whole run and over its second half (after warm-up)."""
    c = Chaos(args)
    if c.wait_converged(60) is None:
        log("lab did not converge")
        return 1
    writer = Writer(1.0 / args.rate, random.Random(args.seed))
    writer.start()
    daemons = {"nvo-controller": ctl_pidfile()}
    for a in AGENTS:
        daemons["nvo-agent " + a] = agent_pidfile(a)
    pids = {n: pidfile(p) for n, p in daemons.items()}
    samples = {n: [] for n in daemons}
    t0 = time.time()
    end = t0 + args.minutes * 60
    out = open(os.path.join(WORK, "soak-samples.txt"), "w")
    restarted = []
    while time.time() < end:
        for n in daemons:
            if pidfile(daemons[n]) != pids[n]:
                restarted.append(n)
                pids[n] = pidfile(daemons[n])
            v = proc_sample(pids[n]) if pids[n] else None
            if v:
                samples[n].append((time.time() - t0, v[0], v[1]))
                out.write("%.0f %s rss_kib=%d fds=%d\n"
                          % (time.time() - t0, n.replace(" ", ":"), *v))
        out.flush()
        if int(time.time() - t0) % 300 < 10:
            log("%.0f min: %s" % ((time.time() - t0) / 60, ", ".join(
                "%s %d KiB %d fds" % (n, s[-1][1], s[-1][2])
                for n, s in samples.items() if s)))
        time.sleep(10)
    writer.stop.set()
    writer.join(60)
    writer.rest.close()
    out.close()
    fails = []
    print()
    print("soak: %.0f min, %d writes (%s), %d acknowledged, statuses %s" % (
        args.minutes, sum(writer.counts.get(m, 0)
                          for m in ("POST", "PATCH", "DELETE")),
        ", ".join("%s %d" % (m, writer.counts.get(m, 0))
                  for m in ("POST", "PATCH", "DELETE")), writer.acked,
        " ".join("%s:%d" % kv for kv in sorted(writer.statuses.items(),
                                                key=lambda x: str(x[0])))))
    print("%-16s %8s %9s %9s %12s %12s %7s %7s %9s" % (
        "daemon", "samples", "rss first", "rss last", "rss KiB/h",
        "2nd half/h", "fds", "fds/h", "2nd hf/h"))
    for n, s in samples.items():
        if not s:
            fails.append("%s: no samples" % n)
            continue
        half = [x for x in s if x[0] >= s[-1][0] / 2]
        rs, rs2 = slope([(t, r) for t, r, _ in s]), \
            slope([(t, r) for t, r, _ in half])
        fs, fs2 = slope([(t, f) for t, _, f in s]), \
            slope([(t, f) for t, _, f in half])
        print("%-16s %8d %9d %9d %12.0f %12.0f %3d-%-3d %7.2f %9.2f" % (
            n, len(s), s[0][1], s[-1][1], rs, rs2,
            min(x[2] for x in s), max(x[2] for x in s), fs, fs2))
        # Flat: after warm-up, RSS grows less than 2 % of its size per
        # hour... and fds not at all (they come and go with connections).
        if rs2 > max(0.02 * s[-1][1], 512) and args.minutes >= 10:
            fails.append("%s: RSS grows %.0f KiB/h in the second half"
                         % (n, rs2))
        if fs2 > 1.0 and args.minutes >= 10:
            fails.append("%s: fds grow %.2f/h in the second half" % (n, fs2))
    for n in restarted:
        fails.append("%s restarted during the soak" % n)
    if writer.lost:
        fails.append("%d acknowledged writes lost" % len(writer.lost))
    for e in writer.anomalies[:10]:
        fails.append("writer: " + e)
    if c.wait_converged(60) is None:
        fails.append("not converged at the end")
    for f in fails:
        print("FAIL: " + f)
    print("soak: %s" % ("PASS" if not fails else "FAIL"))
    return 1 if fails else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--soak", action="store_true",
                    help="steady churn without faults (tests/soak/soak.sh)")
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--rate", type=float, default=2.0,
                    help="soak: writes per second")
    ap.add_argument("--faults", type=int, default=100)
    ap.add_argument("--loss-advisory", action="store_true",
                    help="report, but do not fail on, pings lost across "
                    "controller/agent restarts (sanitized daemons: timing "
                    "is not representative)")
    ap.add_argument("--kinds", default="",
                    help="comma-separated fault kinds (default: all)")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--write-interval", type=float, default=0.05)
    ap.add_argument("--converge-timeout", type=float, default=60)
    args = ap.parse_args()
    sys.exit(soak(args) if args.soak else Chaos(args).run())


if __name__ == "__main__":
    main()
