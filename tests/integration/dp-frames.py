#!/usr/bin/env python3
# dp-frames.py - sends hand-made frames from inside a VM namespace, as a
# misbehaving tenant would (integration tests of port security).
#   dp-frames.py IFACE garp   SRC-MAC CLAIMED-IP COUNT
#       gratuitous ARP replies (broadcast): "CLAIMED-IP is at SRC-MAC"
#   dp-frames.py IFACE arpreply SRC-MAC CLAIMED-IP DST-MAC DST-IP COUNT
#       unicast ARP replies to DST: "CLAIMED-IP is at SRC-MAC"
#   dp-frames.py IFACE ping   SRC-MAC FORGED-SRC-IP DST-MAC DST-IP COUNT
#       ICMP echo requests with a forged source address
# Only ever sends on IFACE (an interface of the caller's namespace).
import socket
import struct
import sys
import time


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def ip(s):
    return socket.inet_aton(s)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op,
                       sha, spa, tha, tpa)


def main():
    iface, kind = sys.argv[1], sys.argv[2]
    a = sys.argv[3:]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    if kind == "garp":
        src, claimed, count = mac(a[0]), ip(a[1]), int(a[2])
        bcast = b"\xff" * 6
        frame = (bcast + src + struct.pack("!H", 0x0806)
                 + arp(2, src, claimed, bcast, claimed))
    elif kind == "arpreply":
        src, claimed, dmac, dip, count = (mac(a[0]), ip(a[1]), mac(a[2]),
                                          ip(a[3]), int(a[4]))
        frame = (dmac + src + struct.pack("!H", 0x0806)
                 + arp(2, src, claimed, dmac, dip))
    elif kind == "ping":
        src, sip, dmac, dip, count = (mac(a[0]), ip(a[1]), mac(a[2]),
                                      ip(a[3]), int(a[4]))
        icmp = struct.pack("!BBHHH", 8, 0, 0, 0x4e56, 1) + b"nvo-spoof" * 4
        icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0,
                          64, 1, 0, sip, dip)
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
        frame = dmac + src + struct.pack("!H", 0x0800) + hdr + icmp
    else:
        sys.exit("unknown kind " + kind)
    # 10 ms apart: each frame on its own through the switch (no burst the
    # veth backlog could drop), COUNT of them in COUNT/100 s.
    for _ in range(count):
        s.send(frame)
        time.sleep(0.01)


main()
