# controller/ovs.mk: the Open vSwitch southbound (OVSDB + OpenFlow).
controller_libnvoctl_a_SOURCES += controller/ovs-sb.c controller/ovs-sb.h
