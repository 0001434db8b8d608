# tests/security.mk: tests of the PKI options and of the TLS agent channel
# (integration: tests/integration/test-pki-*.sh and test-agent-tls*.sh).
EXTRA_DIST += tests/integration/test-pki-flags.sh \
	tests/integration/test-agent-tls.sh
