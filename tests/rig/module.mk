# tests/rig: programs of the test rig (see tests/rig/README.md).
#   vcard-bridge  libcacard (virtual CAC card) <-> pcscd's vpcd reader driver
#   pcsc-probe    drives hsm/pcsc.c against the rig (tests/integration/pcsc.sh)
RIG_CACARD_CFLAGS := $(patsubst -I%,-isystem %,$(shell $(PKG_CONFIG) --cflags libcacard glib-2.0 2>/dev/null))
RIG_CACARD_LIBS := $(shell $(PKG_CONFIG) --libs libcacard glib-2.0 2>/dev/null)

TEST_BINS += $(B)/tests/rig/vcard-bridge $(B)/tests/rig/pcsc-probe

$(B)/tests/rig/vcard-bridge.o: tests/rig/vcard-bridge.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(RIG_CACARD_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/tests/rig/vcard-bridge: $(B)/tests/rig/vcard-bridge.o
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(RIG_CACARD_LIBS)

$(B)/tests/rig/pcsc-probe: $(B)/tests/rig/pcsc-probe.o $(HSM_LIB) $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(HSM_LIB) $(COMMON_LIB) $(KQ_LIBS)
