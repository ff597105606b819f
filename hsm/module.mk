# hsm/: the token layer (PKCS#11, URIs, PINs, sealed blobs).
HSM_SRCS := $(wildcard hsm/*.c)
HSM_OBJS := $(patsubst %.c,$(B)/%.o,$(HSM_SRCS))
HSM_LIB := $(B)/libhsm.a

$(HSM_LIB): $(HSM_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^
