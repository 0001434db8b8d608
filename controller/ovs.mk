# controller/ovs.mk: the Open vSwitch southbound (OVSDB + OpenFlow).
controller_libnvoctl_a_SOURCES += \
	controller/ovs-sb.c controller/ovs-sb.h \
	controller/ovs-hv.c controller/ovs-hv.h \
	controller/ovs-ovsdb.c controller/ovs-ovsdb.h \
	controller/ovs-ofctrl.c controller/ovs-ofctrl.h \
	controller/ovs-ofconn.c controller/ovs-ofconn.h \
	controller/ovs-flows.c controller/ovs-flows.h \
	controller/ovs-flows-arp.c controller/ovs-flows-arp.h \
	controller/ovs-flows-portsec.c controller/ovs-flows-portsec.h \
	controller/ovs-flowset.c controller/ovs-flowset.h \
	controller/ovs-flowinc.c controller/ovs-flowinc.h \
	controller/ovs-tunnels.c controller/ovs-tunnels.h
