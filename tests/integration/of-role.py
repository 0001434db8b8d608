#!/usr/bin/env python3
"""of-role.py IP PORT GENERATION - asks an OpenFlow 1.3 switch for the
primary role with election generation GENERATION, as a controller would.
Prints "granted" (role reply), "stale" (OFPRRFC_STALE error) or what else
came back; exits 0 on granted, 1 on stale, 2 otherwise.  Used to check
that a switch refuses an owner with an older epoch (doc/cluster.md)."""
import socket
import struct
import sys

OFP13 = 4
OFPT_HELLO, OFPT_ERROR, OFPT_ROLE_REQUEST, OFPT_ROLE_REPLY = 0, 1, 24, 25
OFPET_ROLE_REQUEST_FAILED, OFPRRFC_STALE = 11, 0
OFPCR_ROLE_PRIMARY = 2


def recv_msg(s):
    hdr = b''
    while len(hdr) < 8:
        chunk = s.recv(8 - len(hdr))
        if not chunk:
            raise EOFError
        hdr += chunk
    _, typ, length, xid = struct.unpack('!BBHI', hdr)
    body = b''
    while len(body) < length - 8:
        chunk = s.recv(length - 8 - len(body))
        if not chunk:
            raise EOFError
        body += chunk
    return typ, xid, body


def main():
    ip, port, gen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    s = socket.create_connection((ip, port), timeout=5)
    s.sendall(struct.pack('!BBHI', OFP13, OFPT_HELLO, 8, 1))
    s.sendall(struct.pack('!BBHIIIQ', OFP13, OFPT_ROLE_REQUEST, 24, 2,
                          OFPCR_ROLE_PRIMARY, 0, gen & (2**64 - 1)))
    while True:
        typ, xid, body = recv_msg(s)
        if xid != 2:
            continue
        if typ == OFPT_ROLE_REPLY:
            print('granted')
            return 0
        if typ == OFPT_ERROR:
            etype, code = struct.unpack('!HH', body[:4])
            if (etype, code) == (OFPET_ROLE_REQUEST_FAILED, OFPRRFC_STALE):
                print('stale')
                return 1
            print('error type %d code %d' % (etype, code))
            return 2
        print('message type %d' % typ)
        return 2


sys.exit(main())
