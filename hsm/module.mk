# hsm/: the token layer (PKCS#11, URIs, PINs, sealed blobs).
HSM_SRCS := $(wildcard hsm/*.c)
HSM_OBJS := $(patsubst %.c,$(B)/%.o,$(HSM_SRCS))
HSM_LIB := $(B)/libhsm.a

$(HSM_LIB): $(HSM_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# pinentry (hsm/pinentry.c) speaks Assuan through libassuan.
KQ_CFLAGS += $(shell $(PKG_CONFIG) --cflags libassuan gpg-error 2>/dev/null)
KQ_LIBS += $(shell $(PKG_CONFIG) --libs libassuan gpg-error 2>/dev/null)
