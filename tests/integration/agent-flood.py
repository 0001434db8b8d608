#!/usr/bin/env python3
"""agent-flood.py - hostile clients of nvo-controller's agent port, for
tests/integration/test-agent-tls.sh (memory bounded before and after trust).

  agent-flood.py partial HOST PORT N [--cert C --key K --ca CA]
      N connections (TLS with the given client certificate, else plain),
      each announcing a 4 MiB frame and sending as much of it as the
      controller takes (up to 1 MiB), then holding the connection open
      until the controller closes it or 8 s pass.  Prints how many the
      controller closed before 8 s.
  agent-flood.py heartbeat HOST PORT NAME TUNNEL_IP ROUNDS --cert --key --ca
      says hello as NAME (the certificate must name it), then sends a
      heartbeat of ~2 million empty counters (a 4 MiB frame); ROUNDS
      times.  Prints how many rounds the controller cut off.

  agent-flood.py waiting HOST PORT N --rest RHOST:RPORT
      N plain connections each saying a valid hello for an unregistered
      hypervisor w0..wN-1, then sending 12 KiB of a 16 KiB frame; once the
      controller has read every hello, watches them 3 s and prints how
      many it closed, and how many of those before any reply.  Paced by
      the controller's GET /metrics (REST at RHOST:RPORT): before each
      batch of 32 connections it waits until nvo_agent_unauthenticated is
      at most 64, so that no more than 96 connections are ever before
      their hello; the controller closes on accept any beyond 128 of them
      (AS_MAX_UNAUTH), and unpaced, a stalled controller (host CPU steal)
      found more than that in its accept queue when it woke.  The metric
      is read from the controller's own event loop after it has accepted
      every connection made before the request, so the pacing does not
      depend on timing.

  agent-flood.py silent HOST PORT N
      N TCP connections that send nothing (no TLS ClientHello, no hello);
      prints how many the controller closed within 15 s and after how
      long the last one was closed.

  --watch PID (any mode): samples PID's VmRSS (/proc) every 50 ms from
  before the first connection until the end, and prints
  "rss: idle N kB, peak M kB, growth G kB".
"""
import http.client
import re
import resource
import socket
import ssl
import struct
import sys
import threading
import time


def rss_kb(pid):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Watch(threading.Thread):
    """Samples a process's RSS until stopped."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.idle = self.peak = rss_kb(pid)
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.peak = max(self.peak, rss_kb(self.pid))
            time.sleep(0.05)

    def report(self):
        self.done.set()
        self.join()
        self.peak = max(self.peak, rss_kb(self.pid))
        print("rss: idle %d kB, peak %d kB, growth %d kB"
              % (self.idle, self.peak, self.peak - self.idle))


def varint(v):
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, payload):
    return bytes([(num << 3) | 2]) + varint(len(payload)) + payload


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def hello(name, tunnel_ip):
    h = (b"\x08\x01" + field(2, name.encode()) + field(3, tunnel_ip.encode())
         + b"\x20\x01" + b"\x28\x01" + field(6, b"flood"))
    return frame(field(1, h))


def connect(host, port, opts):
    s = socket.create_connection((host, int(port)), timeout=10)
    if "--cert" in opts:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.load_cert_chain(opts["--cert"], opts["--key"])
        ctx.load_verify_locations(opts["--ca"])
        s = ctx.wrap_socket(s)
    return s


def send_some(s, data, deadline):
    """Sends 'data' until done, the peer closes, or 'deadline'.  Returns
    True if the peer closed/reset."""
    s.settimeout(0.2)
    off = 0
    while off < len(data) and time.time() < deadline:
        try:
            off += s.send(data[off:off + 65536])
        except (socket.timeout, ssl.SSLWantWriteError):
            continue
        except (OSError, ssl.SSLError):
            return True
    return False


def closed_by_peer(s, deadline):
    s.settimeout(0.2)
    while time.time() < deadline:
        try:
            if not s.recv(65536):
                return True
        except (socket.timeout, ssl.SSLWantReadError):
            continue
        except (OSError, ssl.SSLError):
            return True
    return False


def unauthenticated(rest):
    """The controller's nvo_agent_unauthenticated (GET /metrics at 'rest',
    "HOST:PORT")."""
    host, port = rest.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        c.request("GET", "/metrics")
        body = c.getresponse().read().decode()
    finally:
        c.close()
    m = re.search(r"^nvo_agent_unauthenticated (\d+)$", body, re.M)
    if not m:
        sys.exit("no nvo_agent_unauthenticated in /metrics")
    return int(m.group(1))


def wait_unauthenticated(rest, most, timeout=20):
    """Waits until at most 'most' agent connections have not said hello;
    exits if that takes over 'timeout' s."""
    deadline = time.time() + timeout
    while True:
        n = unauthenticated(rest)
        if n <= most:
            return
        if time.time() > deadline:
            sys.exit("waiting: %d connections still before their hello "
                     "after %d s" % (n, timeout))
        time.sleep(0.01)


def parse(argv):
    args, opts, i = [], {}, 0
    while i < len(argv):
        if argv[i].startswith("--"):
            opts[argv[i]] = argv[i + 1]
            i += 2
        else:
            args.append(argv[i])
            i += 1
    return args, opts


def main():
    args, opts = parse(sys.argv[1:])
    mode, host, port = args[0], args[1], args[2]
    watch = Watch(opts["--watch"]) if "--watch" in opts else None
    if watch:
        watch.start()
    if mode == "partial":
        n = int(args[3])
        socks = []
        failed = 0
        for _ in range(n):
            try:
                socks.append(connect(host, port, opts))
            except (OSError, ssl.SSLError):
                socks.append(None)
                failed += 1
        body = struct.pack(">I", (4 << 20) - 1) + b"\0" * (1 << 20)
        deadline = time.time() + 8
        closed = sum(1 for s in socks if s is None)
        for s in socks:
            if s is not None and send_some(s, body, deadline):
                closed += 1
                s.close()
                socks[socks.index(s)] = None
        for s in socks:
            if s is not None and closed_by_peer(s, deadline):
                closed += 1
        print("partial: %d of %d connections closed by the controller "
              "(%d at connect or handshake)" % (closed, n, failed))
    elif mode == "waiting":
        n = int(args[3])
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, n + 64), hard))
        if "--rest" not in opts:
            sys.exit("waiting: --rest RHOST:RPORT is required")
        socks = []
        part = struct.pack(">I", 16000) + b"\0" * 12000
        t0 = time.time()
        for i in range(n):
            if i % 32 == 0:
                wait_unauthenticated(opts["--rest"], 64)
            s = connect(host, port, opts)
            try:
                s.sendall(hello("w%d" % i, "192.0.2.200") + part)
            except OSError:
                pass            # Closed already: counted below.
            socks.append(s)
        wait_unauthenticated(opts["--rest"], 0)
        t1 = time.time()
        deadline = t1 + 3
        open_, replied = set(range(n)), set()
        mute = 0                # Closed before any reply.
        while open_ and time.time() < deadline:
            for i in list(open_):
                s = socks[i]
                s.settimeout(0)
                try:
                    while True:
                        d = s.recv(65536)
                        if not d:
                            break
                        replied.add(i)
                except (BlockingIOError, socket.timeout, ssl.SSLWantReadError):
                    continue
                except OSError:
                    pass
                open_.discard(i)
                mute += i not in replied
            time.sleep(0.1)
        print("waiting: %d of %d connections closed by the controller "
              "(%d before any reply); hellos read in %.1f s"
              % (n - len(open_), n, mute, t1 - t0))
    elif mode == "silent":
        n = int(args[3])
        t0 = time.time()
        socks = [socket.create_connection((host, int(port)), timeout=10)
                 for _ in range(n)]
        open_, last = set(range(n)), 0.0
        while open_ and time.time() < t0 + 15:
            for i in list(open_):
                socks[i].settimeout(0)
                try:
                    if not socks[i].recv(65536):
                        open_.discard(i)
                        last = time.time() - t0
                except BlockingIOError:
                    pass
                except OSError:
                    open_.discard(i)
                    last = time.time() - t0
            time.sleep(0.05)
        print("silent: %d of %d connections closed by the controller, the "
              "last after %.1f s" % (n - len(open_), n, last))
    elif mode == "heartbeat":
        name, tunnel_ip, rounds = args[3], args[4], int(args[5])
        inner = b"\x12\x00" * 2090000
        hb = frame(field(5, inner))
        cut = 0
        for _ in range(rounds):
            s = connect(host, port, opts)
            s.sendall(hello(name, tunnel_ip))
            time.sleep(0.3)
            deadline = time.time() + 5
            if send_some(s, hb, deadline) or closed_by_peer(s, deadline):
                cut += 1
            s.close()
        print("heartbeat: %d of %d oversized heartbeats cut off" % (cut, rounds))
    if watch:
        watch.report()


if __name__ == "__main__":
    main()
