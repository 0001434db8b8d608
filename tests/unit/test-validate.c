/* test-validate.c - REST request validation (controller/validate.c). */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "controller/validate.h"

static void
test_names(void **state OVS_UNUSED)
{
    char long_name[NVO_NAME_MAX + 2];

    assert_true(nvo_valid_name("a"));
    assert_true(nvo_valid_name("web-01.prod_A"));
    assert_false(nvo_valid_name(""));
    assert_false(nvo_valid_name(NULL));
    assert_false(nvo_valid_name("a b"));
    assert_false(nvo_valid_name("a/b"));
    assert_false(nvo_valid_name("caf\xc3\xa9"));
    memset(long_name, 'x', sizeof long_name);
    long_name[NVO_NAME_MAX] = '\0';
    assert_true(nvo_valid_name(long_name));
    long_name[NVO_NAME_MAX] = 'x';
    long_name[NVO_NAME_MAX + 1] = '\0';
    assert_false(nvo_valid_name(long_name));
}

static void
test_ifnames(void **state OVS_UNUSED)
{
    assert_true(nvo_valid_ifname("tap0"));
    assert_true(nvo_valid_ifname("vnet-12.3@x"));
    assert_true(nvo_valid_ifname("123456789012345"));
    assert_false(nvo_valid_ifname("1234567890123456"));
    assert_false(nvo_valid_ifname(""));
    assert_false(nvo_valid_ifname(NULL));
    assert_false(nvo_valid_ifname("."));
    assert_false(nvo_valid_ifname(".."));
    assert_false(nvo_valid_ifname("a/b"));
    assert_false(nvo_valid_ifname("a b"));
    assert_false(nvo_valid_ifname("a\tb"));
    assert_false(nvo_valid_ifname("eth0:1"));
}

static void
test_vni(void **state OVS_UNUSED)
{
    assert_false(nvo_valid_vni(0));
    assert_true(nvo_valid_vni(1));
    assert_true(nvo_valid_vni(16777215));
    assert_false(nvo_valid_vni(16777216));
    assert_false(nvo_valid_vni(-1));
}

static void
test_mac(void **state OVS_UNUSED)
{
    struct eth_addr mac;

    assert_null(nvo_valid_vm_mac("02:00:00:00:00:01", &mac));
    assert_int_equal(mac.ea[5], 1);
    assert_null(nvo_valid_vm_mac("0A:bB:cc:DD:ee:FF", &mac));
    assert_int_equal(mac.ea[1], 0xbb);
    assert_non_null(nvo_valid_vm_mac(NULL, &mac));
    assert_non_null(nvo_valid_vm_mac("02:00:00:00:00", &mac));
    assert_non_null(nvo_valid_vm_mac("02:00:00:00:00:0g", &mac));
    assert_non_null(nvo_valid_vm_mac("02-00-00-00-00-01", &mac));
    assert_non_null(nvo_valid_vm_mac("0200.0000.0001", &mac));
    assert_non_null(strstr(nvo_valid_vm_mac("01:00:5e:00:00:01", &mac),
                           "multicast"));
    assert_non_null(strstr(nvo_valid_vm_mac("ff:ff:ff:ff:ff:ff", &mac),
                           "broadcast"));
    assert_non_null(strstr(nvo_valid_vm_mac("00:00:00:00:00:00", &mac),
                           "zero"));
}

static void
test_net(void **state OVS_UNUSED)
{
    struct nvo_net_valid v;
    struct nvo_net_req r = { "net1", true, 5000, NULL };

    assert_null(nvo_validate_net(&r, &v));
    assert_int_equal(v.vni, 5000);
    assert_int_equal(v.bum, NVO_BUM_HEAD_END);
    r.bum = "service-node";
    assert_null(nvo_validate_net(&r, &v));
    assert_int_equal(v.bum, NVO_BUM_SERVICE_NODE);
    r.bum = "flood";
    assert_non_null(strstr(nvo_validate_net(&r, &v), "bum"));
    r.bum = NULL;
    r.vni = 0;
    assert_non_null(strstr(nvo_validate_net(&r, &v), "vni"));
    r.vni = 16777216;
    assert_non_null(nvo_validate_net(&r, &v));
    r.vni = 1;
    r.has_vni = false;
    assert_non_null(strstr(nvo_validate_net(&r, &v), "missing"));
    r.has_vni = true;
    r.name = NULL;
    assert_non_null(strstr(nvo_validate_net(&r, &v), "name"));
    r.name = "bad name";
    assert_non_null(nvo_validate_net(&r, &v));
}

/* Dataplane options: encap, arp_responder (default true), mtu. */
static void
test_net_dataplane(void **state OVS_UNUSED)
{
    struct nvo_net_valid v;
    struct nvo_net_req r = { .name = "net1", .has_vni = true, .vni = 5 };

    assert_null(nvo_validate_net(&r, &v));
    assert_int_equal(v.encap, NVO_ENCAP_VXLAN);
    assert_true(v.arp_responder);
    assert_int_equal(v.mtu, 0);
    r.encap = "geneve";
    r.has_arp_responder = true;
    r.arp_responder = false;
    r.has_mtu = true;
    r.mtu = 1400;
    assert_null(nvo_validate_net(&r, &v));
    assert_int_equal(v.encap, NVO_ENCAP_GENEVE);
    assert_false(v.arp_responder);
    assert_int_equal(v.mtu, 1400);
    r.encap = "gre";
    assert_null(nvo_validate_net(&r, &v));
    assert_int_equal(v.encap, NVO_ENCAP_GRE);
    r.encap = "stt";
    assert_non_null(strstr(nvo_validate_net(&r, &v), "encap"));
    r.encap = NULL;
    r.mtu = 575;
    assert_non_null(strstr(nvo_validate_net(&r, &v), "mtu"));
    r.mtu = 9001;
    assert_non_null(strstr(nvo_validate_net(&r, &v), "mtu"));
}

/* allowed_addresses: IPv4/IPv6 addresses or prefixes, at most 16. */
static void
test_port_allowed(void **state OVS_UNUSED)
{
    struct nvo_port_valid v;
    const char *ok[] = { "10.0.0.0/24", "192.0.2.7", "2001:db8::/64" };
    struct nvo_port_req r = {
        .vm = "vm1", .network = "n", .hypervisor = "h",
        .mac = "02:00:00:00:00:01", .iface = "tap1",
        .allowed = ok, .n_allowed = 3,
    };
    assert_null(nvo_validate_port(&r, &v));
    assert_string_equal(v.allowed, "10.0.0.0/24 192.0.2.7 2001:db8::/64");
    free(v.allowed);
    const char *bad[] = { "10.0.0.0/33" };
    r.allowed = bad;
    r.n_allowed = 1;
    assert_non_null(strstr(nvo_validate_port(&r, &v), "allowed"));
    assert_null(v.allowed);
    bad[0] = "example.com";
    assert_non_null(nvo_validate_port(&r, &v));
    bad[0] = "2001:db8::/129";
    assert_non_null(nvo_validate_port(&r, &v));
    r.n_allowed = NVO_ALLOWED_MAX + 1;
    assert_non_null(nvo_validate_port(&r, &v));
}

static void
test_hv(void **state OVS_UNUSED)
{
    struct nvo_hv_valid v;
    struct nvo_hv_req r = { "hv1", "192.0.2.1", "kernel", NULL, NULL };

    assert_null(nvo_validate_hv(&r, &v));
    assert_string_equal(v.tunnel_ip, "192.0.2.1");
    assert_int_equal(v.dataplane, NVO_DP_KERNEL);
    assert_int_equal(v.role, NVO_ROLE_HYPERVISOR);

    r.role = "service-node";
    assert_null(nvo_validate_hv(&r, &v));
    assert_int_equal(v.role, NVO_ROLE_SERVICE_NODE);
    r.role = "router";
    assert_non_null(strstr(nvo_validate_hv(&r, &v), "role"));

    /* OVS needs ovsdb; kernel must not have it; service nodes are kernel. */
    r.role = NULL;
    r.dataplane = "ovs";
    assert_non_null(strstr(nvo_validate_hv(&r, &v), "ovsdb"));
    r.ovsdb = "tcp:192.0.2.1:6640";
    assert_null(nvo_validate_hv(&r, &v));
    assert_int_equal(v.dataplane, NVO_DP_OVS);
    r.ovsdb = "tcp:192.0.2.1";
    assert_non_null(nvo_validate_hv(&r, &v));
    r.ovsdb = "tcp:192.0.2.1:70000";
    assert_non_null(nvo_validate_hv(&r, &v));
    r.ovsdb = "ssl:192.0.2.1:6640";
    assert_null(nvo_validate_hv(&r, &v));
    r.ovsdb = "pssl:6640";
    assert_non_null(nvo_validate_hv(&r, &v));
    r.ovsdb = "tcp:192.0.2.1:6640";
    r.role = "service-node";
    assert_non_null(strstr(nvo_validate_hv(&r, &v), "service node"));
    r.role = NULL;
    r.dataplane = "kernel";
    assert_non_null(strstr(nvo_validate_hv(&r, &v), "ovsdb"));
    r.ovsdb = NULL;
    r.dataplane = "dpdk";
    assert_non_null(strstr(nvo_validate_hv(&r, &v), "dataplane"));
    r.dataplane = NULL;
    assert_non_null(strstr(nvo_validate_hv(&r, &v), "missing"));
    r.dataplane = "kernel";

    /* Tunnel IPs: unicast IPv4, canonicalised. */
    r.tunnel_ip = "192.0.2.300";
    assert_non_null(strstr(nvo_validate_hv(&r, &v), "tunnel_ip"));
    r.tunnel_ip = "2001:DB8::1";          /* Kernel over IPv6. */
    assert_null(nvo_validate_hv(&r, &v));
    assert_string_equal(v.tunnel_ip, "2001:db8::1");
    r.role = "service-node";               /* Service nodes: IPv4 only. */
    assert_non_null(strstr(nvo_validate_hv(&r, &v), "IPv4"));
    r.role = NULL;
    r.tunnel_ip = "ff02::1";
    assert_non_null(strstr(nvo_validate_hv(&r, &v), "unicast"));
    r.tunnel_ip = "0.0.0.0";
    assert_non_null(nvo_validate_hv(&r, &v));
    r.tunnel_ip = "255.255.255.255";
    assert_non_null(nvo_validate_hv(&r, &v));
    r.tunnel_ip = "239.1.1.1";
    assert_non_null(nvo_validate_hv(&r, &v));
    r.tunnel_ip = NULL;
    assert_non_null(strstr(nvo_validate_hv(&r, &v), "missing"));
    r.tunnel_ip = "198.51.100.7";
    assert_null(nvo_validate_hv(&r, &v));

    /* IPv6 underlays: OVS hypervisors, canonicalised. */
    struct nvo_hv_req o = { "hv6", "2001:DB8:0::12", "ovs", NULL,
                            "tcp:192.0.2.1:6640" };
    assert_null(nvo_validate_hv(&o, &v));
    assert_string_equal(v.tunnel_ip, "2001:db8::12");
    o.tunnel_ip = "::";
    assert_non_null(nvo_validate_hv(&o, &v));
    o.tunnel_ip = "::1";
    assert_non_null(nvo_validate_hv(&o, &v));
    r.name = "";
    assert_non_null(strstr(nvo_validate_hv(&r, &v), "name"));
}

static void
test_port(void **state OVS_UNUSED)
{
    struct nvo_port_valid v;
    struct nvo_port_req r = { "vm1", "net1", "hv1", "02:AB:00:00:00:01",
                              NULL, "tap0" };

    assert_null(nvo_validate_port(&r, &v));
    assert_string_equal(v.mac_s, "02:ab:00:00:00:01");
    r.ip = "10.0.0.1";
    assert_null(nvo_validate_port(&r, &v));
    r.ip = "2001:db8::5";
    assert_null(nvo_validate_port(&r, &v));
    r.ip = "10.0.0.256";
    assert_non_null(strstr(nvo_validate_port(&r, &v), "ip"));
    r.ip = NULL;
    r.mac = "01:00:00:00:00:01";
    assert_non_null(strstr(nvo_validate_port(&r, &v), "multicast"));
    r.mac = "00:00:00:00:00:00";
    assert_non_null(nvo_validate_port(&r, &v));
    r.mac = NULL;
    assert_non_null(strstr(nvo_validate_port(&r, &v), "mac"));
    r.mac = "02:00:00:00:00:01";
    r.iface = "tap/0";
    assert_non_null(strstr(nvo_validate_port(&r, &v), "iface"));
    r.iface = NULL;
    assert_non_null(strstr(nvo_validate_port(&r, &v), "iface"));
    r.iface = "tap0";
    r.vm = NULL;
    assert_non_null(strstr(nvo_validate_port(&r, &v), "vm"));
    r.vm = "vm1";
    r.network = NULL;
    assert_non_null(strstr(nvo_validate_port(&r, &v), "network"));
    r.network = "net1";
    r.hypervisor = "no such/hv";
    assert_non_null(strstr(nvo_validate_port(&r, &v), "hypervisor"));
}

static void
test_port_move(void **state OVS_UNUSED)
{
    assert_null(nvo_validate_port_move("hv2", "tap1"));
    assert_null(nvo_validate_port_move("hv2", NULL));
    assert_null(nvo_validate_port_move(NULL, "tap1"));
    assert_non_null(nvo_validate_port_move(NULL, NULL));
    assert_non_null(nvo_validate_port_move("hv 2", NULL));
    assert_non_null(nvo_validate_port_move("hv2", "a very long interface"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_ifnames),
        cmocka_unit_test(test_vni),
        cmocka_unit_test(test_mac),
        cmocka_unit_test(test_net),
        cmocka_unit_test(test_net_dataplane),
        cmocka_unit_test(test_port_allowed),
        cmocka_unit_test(test_hv),
        cmocka_unit_test(test_port),
        cmocka_unit_test(test_port_move),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
