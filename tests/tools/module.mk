# tests/tools/: small programs the integration tests drive.
#   vault-probe   one Vault client call at a time (tests/integration/vault-client.sh)
TOOLS_BINS := $(B)/tests/tools/vault-probe
TEST_BINS += $(TOOLS_BINS)

$(B)/tests/tools/vault-probe: $(B)/tests/tools/vault-probe.o $(CEREMONY_LIB) $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(CEREMONY_LIB) $(COMMON_LIB) $(KQ_LIBS)
