# tests/fault: libkqfault.so, the PKCS#11 fault-injection shim that
# tests/integration/faults.sh puts between keyquorum and SoftHSM
# (configuration: the comment at the top of tests/fault/p11shim.c).
#
# A shared object: -fPIC instead of -fPIE, -shared instead of -pie.  In the
# sanitizer build it is instrumented like keyquorum and dlopen'ed only by
# the instrumented keyquorum (never preloaded into other programs).
# -z nodelete keeps its call counters alive when keyquorum unloads and
# reloads the module between holders.
FAULT_SO := $(B)/tests/fault/libkqfault.so
FAULT_CFLAGS = $(filter-out -fPIE,$(ALL_CFLAGS)) -fPIC
FAULT_LDFLAGS = $(filter-out -pie,$(ALL_LDFLAGS)) -shared \
	-Wl,-z,nodelete -Wl,-soname,libkqfault.so
TEST_BINS += $(FAULT_SO)

$(B)/tests/fault/p11shim.pic.o: tests/fault/p11shim.c
	@mkdir -p $(dir $@)
	$(CC) $(FAULT_CFLAGS) -MMD -MP -c -o $@ $<

$(FAULT_SO): $(B)/tests/fault/p11shim.pic.o
	$(CC) $(FAULT_LDFLAGS) -o $@ $< -ldl -lpthread
