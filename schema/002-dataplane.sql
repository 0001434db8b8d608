-- 002-dataplane.sql: per-network dataplane options and per-port allowed
-- addresses (doc: DESIGN "Dataplane options", README).
--   encap          tunnel type between hypervisors; geneve and gre only on
--                  OVS hypervisors (the controller refuses kernel ones)
--   arp_responder  answer ARP for known addresses on the sender's hypervisor
--   mtu            the VMs' MTU the underlay must carry (NULL: not set)
--   allowed_addresses  space-separated "IP[/LEN]" a VM may also send from
ALTER TABLE networks ADD COLUMN encap TEXT NOT NULL DEFAULT 'vxlan'
    CHECK (encap IN ('vxlan', 'geneve', 'gre'));
ALTER TABLE networks ADD COLUMN arp_responder INTEGER NOT NULL DEFAULT 1
    CHECK (arp_responder IN (0, 1));
ALTER TABLE networks ADD COLUMN mtu INTEGER
    CHECK (mtu IS NULL OR mtu BETWEEN 576 AND 9000);
ALTER TABLE ports ADD COLUMN allowed_addresses TEXT;
