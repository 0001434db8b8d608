# doc/: man pages and design notes.
dist_man_MANS += doc/nvo-controller.8 doc/nvo-agent.8 doc/nvoctl.8
EXTRA_DIST += doc/ovs-pipeline.md doc/controller.md doc/cluster.md \
	doc/security.md doc/chaos.md doc/ovs-hypervisor.md
