-- 001-initial.sql: networks, hypervisors, ports (VM placement) and the
-- store-wide revision.  Every constraint the REST API promises is enforced
-- here too, so the database stays consistent whatever writes to it.

-- One row: the store-wide revision, bumped by every write transaction.
CREATE TABLE store_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL CHECK (revision >= 0)
);
INSERT INTO store_revision (id, revision) VALUES (1, 0);

-- A tenant L2 segment.
CREATE TABLE networks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    vni INTEGER NOT NULL UNIQUE CHECK (vni BETWEEN 1 AND 16777215),
    bum TEXT NOT NULL CHECK (bum IN ('head-end', 'service-node')),
    revision INTEGER NOT NULL
);

-- A transport node.  OVS ones are reached over OVSDB ('ovsdb' set); kernel
-- ones run nvo-agent.  Service nodes use the kernel dataplane.
CREATE TABLE hypervisors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    tunnel_ip TEXT NOT NULL UNIQUE,
    dataplane TEXT NOT NULL CHECK (dataplane IN ('ovs', 'kernel')),
    role TEXT NOT NULL CHECK (role IN ('hypervisor', 'service-node')),
    ovsdb TEXT,
    revision INTEGER NOT NULL,
    CHECK ((dataplane = 'ovs') = (ovsdb IS NOT NULL)),
    CHECK (role = 'hypervisor' OR dataplane = 'kernel')
);

-- VM placement: interface 'iface' of VM 'vm' on 'hypervisor_id' joins
-- 'network_id'.  A network or hypervisor cannot go while ports use it.
CREATE TABLE ports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    vm TEXT NOT NULL CHECK (length(vm) BETWEEN 1 AND 64),
    network_id INTEGER NOT NULL REFERENCES networks (id) ON DELETE RESTRICT,
    hypervisor_id INTEGER NOT NULL
        REFERENCES hypervisors (id) ON DELETE RESTRICT,
    mac TEXT NOT NULL CHECK (length(mac) = 17),
    ip TEXT,
    iface TEXT NOT NULL CHECK (length(iface) BETWEEN 1 AND 15),
    revision INTEGER NOT NULL,
    UNIQUE (network_id, mac),
    UNIQUE (hypervisor_id, iface)
);
CREATE INDEX ports_by_hypervisor ON ports (hypervisor_id);
