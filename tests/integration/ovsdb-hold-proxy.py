#!/usr/bin/env python3
"""ovsdb-hold-proxy.py - a TCP proxy in front of one ovsdb-server that can
make the server's answer to a transaction overtake the update carrying its
change (test-cluster-store.sh: the clustered store's "committed, replica
behind" fallback, doc/cluster.md).

Usage: ovsdb-hold-proxy.py LISTEN-IP:PORT UPSTREAM-IP:PORT CONTROL-DIR

Every client connection gets its own upstream connection; bytes pass
unchanged and in order, except on a connection that monitors the Journal
table (nvo's store session) while CONTROL-DIR/arm exists: from its first
"transact" request that writes the Journal (a placement write; the
cluster's heartbeats on the same session do not count) on, the server's
update notifications ("update", "update2", "update3") are held back --
everything else, replies and echo requests included, still passes --
until CONTROL-DIR/arm is removed; then the held updates follow, in their
order.  The proxy creates CONTROL-DIR/held once the reply to that
transaction passed and says it committed (its update held), and writes
the number of updates it held to CONTROL-DIR/released when it lets them
go.

While CONTROL-DIR/drop exists, the store session's next transaction that
writes the Journal loses its Journal row instead: the proxy deletes the
row's insertion from the update that carries it (the rest of the update,
the new revision included, passes) and writes the number of rows it
dropped to CONTROL-DIR/dropped.  The replica then passes the revision
without its row, as when more than 10,000 revisions merge into one update.

A real ovsdb-server always sends a transaction's update before its reply
(it flushes its monitors first); this stands for a server or relay that
does not, or a replica that falls behind after the commit."""

import json
import os
import socket
import sys
import threading

UPDATES = ("update", "update2", "update3")


class Conn:
    """One client connection and its upstream."""

    def __init__(self, client, upstream, ctl):
        self.client = client
        self.upstream = upstream
        self.ctl = ctl
        self.lock = threading.Lock()
        self.store = False        # Monitors Journal (the store session).
        self.writes = set()       # Ids of its transactions holding began
                                  # with.
        self.holding = False
        self.dropping = False     # Drop the next Journal row inserted.
        self.held = []

    def armed(self, what="arm"):
        return os.path.exists(os.path.join(self.ctl, what))


def messages(buf):
    """Splits the complete JSON values off the start of 'buf' (str).
    Returns ([(text, value), ...], rest)."""
    dec = json.JSONDecoder()
    out = []
    i = 0
    while True:
        while i < len(buf) and buf[i] in " \t\r\n":
            i += 1
        if i >= len(buf):
            break
        try:
            value, end = dec.raw_decode(buf, i)
        except ValueError:
            break
        out.append((buf[i:end], value))
        i = end
    return out, buf[i:]


def writes_journal(m):
    """True if transact request 'm' inserts into the Journal table."""
    return any(isinstance(op, dict) and op.get("table") == "Journal"
               and op.get("op") == "insert"
               for op in (m.get("params") or [])[1:])


def drop_journal_inserts(m):
    """Deletes the Journal rows that update notification 'm' inserts.
    Returns how many."""
    p = m.get("params") or []
    # update: [id, tables]; update2: [id, tables]; update3: [id, txn, tables]
    tables = p[2] if m["method"] == "update3" and len(p) > 2 else (
        p[1] if len(p) > 1 else None)
    rows = tables.get("Journal") if isinstance(tables, dict) else None
    if not isinstance(rows, dict):
        return 0
    gone = [u for u, r in rows.items()
            if isinstance(r, dict) and ("insert" in r or "initial" in r
                                        or ("new" in r and "old" not in r))]
    for u in gone:
        del rows[u]
    if not rows:
        del tables["Journal"]
    return len(gone)


def client_to_server(c):
    """Forwards unchanged; notes the session's kind and transact ids."""
    buf = ""
    while True:
        data = c.client.recv(65536)
        if not data:
            break
        buf += data.decode("latin-1")
        msgs, buf = messages(buf)
        with c.lock:
            for _, m in msgs:
                if not isinstance(m, dict):
                    continue
                method = m.get("method")
                if (method == "transact" and c.store and c.armed()
                        and not c.holding and writes_journal(m)):
                    c.writes.add(json.dumps(m.get("id")))
                    c.holding = True
                elif (method == "transact" and c.store
                      and c.armed("drop") and writes_journal(m)):
                    c.dropping = True
                elif method in ("monitor", "monitor_cond",
                                "monitor_cond_since"):
                    p = m.get("params") or []
                    if (len(p) > 2 and isinstance(p[2], dict)
                            and "Journal" in p[2]):
                        c.store = True
        c.upstream.sendall(data)


def server_to_client(c):
    """Forwards in order, holding updates back while armed (see above)."""
    buf = ""
    c.upstream.settimeout(0.05)
    while True:
        try:
            data = c.upstream.recv(65536)
            if not data:
                break
        except socket.timeout:
            data = b""
        buf += data.decode("latin-1")
        msgs, buf = messages(buf)
        out = []
        with c.lock:
            if c.holding and not c.armed():
                c.holding = False
                out.extend(c.held)
                with open(os.path.join(c.ctl, "released"), "w") as f:
                    f.write("%d\n" % len(c.held))
                c.held = []
            for text, m in msgs:
                if not isinstance(m, dict):
                    out.append(text)
                    continue
                if c.holding and m.get("method") in UPDATES:
                    c.held.append(text)
                    continue
                if c.dropping and m.get("method") in UPDATES:
                    n = drop_journal_inserts(m)
                    if n:
                        c.dropping = False
                        text = json.dumps(m)
                        with open(os.path.join(c.ctl, "dropped"), "w") as f:
                            f.write("%d\n" % n)
                out.append(text)
                if (c.holding
                        and json.dumps(m.get("id")) in c.writes
                        and m.get("error") is None
                        and isinstance(m.get("result"), list)
                        and not any(isinstance(r, dict) and r.get("error")
                                    for r in m["result"])):
                    open(os.path.join(c.ctl, "held"), "w").close()
        if out:
            c.client.sendall("".join(out).encode("latin-1"))


def pump(f, c):
    """Runs one direction; when it ends (either side closed or failed),
    closes both sides so the other direction ends too."""
    try:
        f(c)
    except OSError:
        pass
    finally:
        for s in (c.client, c.upstream):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(c):
    for f in (client_to_server, server_to_client):
        threading.Thread(target=pump, args=(f, c), daemon=True).start()


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    listen, upstream, ctl = addr(sys.argv[1]), addr(sys.argv[2]), sys.argv[3]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(listen)
    srv.listen(16)
    while True:
        client, _ = srv.accept()
        try:
            up = socket.create_connection(upstream, timeout=5)
        except OSError:
            client.close()
            continue
        up.settimeout(None)
        threading.Thread(target=serve, args=(Conn(client, up, ctl),),
                         daemon=True).start()


if __name__ == "__main__":
    main()
