# deploy/: the lab (README's main job), systemd units, sample configs.
EXTRA_DIST += \
	deploy/lab-lib.sh \
	tests/integration/test-lab-smoke.sh
