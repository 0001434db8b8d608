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

  agent-flood.py waiting HOST PORT N
      N plain connections each saying a valid hello for an unregistered
      hypervisor w0..wN-1, then sending 12 KiB of a 16 KiB frame; after
      5 s prints how many the controller closed.

  agent-flood.py silent HOST PORT N
      N TCP connections that send nothing (no TLS ClientHello, no hello);
      prints how many the controller closed within 15 s and after how
      long the last one was closed.

  --watch PID (any mode): samples PID's VmRSS (/proc) every 50 ms from
  before the first connection until the end, and prints
  "rss: idle N kB, peak M kB, growth G kB".
"""
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
        socks = []
        part = struct.pack(">I", 16000) + b"\0" * 12000
        for i in range(n):
            s = connect(host, port, opts)
            s.sendall(hello("w%d" % i, "192.0.2.200") + part)
            socks.append(s)
        deadline = time.time() + 5
        open_ = set(range(n))
        while open_ and time.time() < deadline:
            for i in list(open_):
                s = socks[i]
                s.settimeout(0)
                try:
                    while True:
                        d = s.recv(65536)
                        if not d:
                            open_.discard(i)
                            break
                except (BlockingIOError, socket.timeout, ssl.SSLWantReadError):
                    pass
                except OSError:
                    open_.discard(i)
            time.sleep(0.1)
        print("waiting: %d of %d connections closed by the controller"
              % (n - len(open_), n))
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
