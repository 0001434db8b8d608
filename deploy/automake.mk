# deploy/: the lab (README's main job), systemd units, sample configs.
EXTRA_DIST += \
	deploy/README.md \
	deploy/lab.sh \
	deploy/lab-lib.sh \
	deploy/nvo-agent.default \
	deploy/nvo-controller.default \
	deploy/systemd/nvo-controller.service \
	deploy/systemd/nvo-agent.service \
	tests/integration/test-lab-smoke.sh
