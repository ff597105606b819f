# keyquorum: one non-recursive Makefile.  Each directory contributes a
# module.mk fragment that appends to the variables below; nothing recurses.
#
#   make                 build build/keyquorum, the front that runs the offline
#                        verbs, and build/keyquorum-full, every verb (or
#                        build-san/ with SANITIZE; see src/module.mk)
#   make check           install missing packages (as root), build, run every test
#   make demo            install missing packages, build, run the demonstration
#   make bench           benchmarks side by side with the peers
#   make install         PREFIX, DESTDIR, BINDIR, LIBEXECDIR, MANDIR, UDEVRULESDIR
#
#   WERROR=1             warnings are errors (CI)
#   SANITIZE=address,undefined   sanitizer build in build-san/

VERSION := 0.1.0

PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
LIBEXECDIR   ?= $(PREFIX)/libexec
PKGLIBEXECDIR ?= $(LIBEXECDIR)/keyquorum
MANDIR       ?= $(PREFIX)/share/man
DATADIR      ?= $(PREFIX)/share
UDEVRULESDIR ?= /lib/udev/rules.d
BASHCOMPDIR  ?= $(DATADIR)/bash-completion/completions

CC         ?= cc
PKG_CONFIG ?= pkg-config
INSTALL    ?= install

PKGS := libsodium libcrypto libssl libpcsclite libcurl jansson p11-kit-1

ifeq ($(SANITIZE),)
B ?= build
else
B ?= build-san
endif

WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wpointer-arith -Wcast-qual -Wundef
HARDEN := -fstack-protector-strong -fstack-clash-protection -fcf-protection \
	-D_FORTIFY_SOURCE=2 -fPIE
ifeq ($(WERROR),1)
WARN += -Werror
endif

OPT ?= -O2
KQ_CFLAGS := -std=c11 -D_GNU_SOURCE $(OPT) -g $(WARN) $(HARDEN) \
	-I. -Isrc -DKQ_VERSION='"$(VERSION)"' \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
KQ_LDFLAGS := -pie -Wl,-z,relro,-z,now,-z,noexecstack
# libcurl is loaded at run time by the ceremonies (ceremony/curl_dl.h), so
# the offline verbs start as fast as a small program; its headers are used.
KQ_LIBS := -Wl,--as-needed \
	$(shell $(PKG_CONFIG) --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null) \
	-lpthread -ldl -Wl,--no-as-needed

ifneq ($(SANITIZE),)
KQ_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
	-fno-sanitize-recover=all -DKQ_SANITIZE=1
KQ_LDFLAGS += -fsanitize=$(SANITIZE)
HARDEN := $(filter-out -D_FORTIFY_SOURCE=2,$(HARDEN))
endif

ALL_CFLAGS = $(KQ_CFLAGS) $(CFLAGS) $(CPPFLAGS)
ALL_LDFLAGS = $(KQ_LDFLAGS) $(LDFLAGS)

# Filled by the fragments.
BINS :=
TEST_BINS :=
CHECK_DEPS :=
CLEAN_EXTRA :=

.PHONY: all check demo bench install uninstall clean deps format format-check
all:

# Libraries first (later fragments name them as prerequisites), then the
# rest in any order.
include src/common/module.mk
include shamir/module.mk
include $(wildcard hsm/module.mk)
include $(wildcard ceremony/module.mk)
include src/module.mk
include tests/module.mk
include $(sort $(wildcard tests/*/module.mk bench/module.mk docs/module.mk udev/module.mk))

all: $(BINS)

# After every fragment: prerequisites are expanded when read.
.PHONY: tests
tests: $(TEST_BINS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(B) -name '*.d' 2>/dev/null)

deps:
	@./tests/deps

check: deps
	@$(MAKE) --no-print-directory all tests
	@B=$(B) ./tests/run

demo: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) ./tests/demo

bench: deps
	@$(MAKE) --no-print-directory OPT=-O3 all bench-bins
	@B=$(B) ./bench/run

MAN1 := $(wildcard docs/*.1)
MAN5 := $(wildcard docs/*.5)

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	$(INSTALL) -m 0755 $(B)/keyquorum $(DESTDIR)$(BINDIR)/keyquorum
	$(INSTALL) -d $(DESTDIR)$(PKGLIBEXECDIR)
	$(INSTALL) -m 0755 $(B)/keyquorum-full $(DESTDIR)$(PKGLIBEXECDIR)/keyquorum-full
	$(if $(MAN1),$(INSTALL) -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/)
	$(if $(MAN5),$(INSTALL) -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/)
	$(INSTALL) -d $(DESTDIR)$(UDEVRULESDIR)
	$(INSTALL) -m 0644 udev/70-keyquorum.rules $(DESTDIR)$(UDEVRULESDIR)/
	$(INSTALL) -d $(DESTDIR)$(BASHCOMPDIR)
	$(INSTALL) -m 0644 src/keyquorum.bash $(DESTDIR)$(BASHCOMPDIR)/keyquorum

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/keyquorum
	rm -f $(DESTDIR)$(PKGLIBEXECDIR)/keyquorum-full
	-rmdir $(DESTDIR)$(PKGLIBEXECDIR) 2>/dev/null
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5)))
	rm -f $(DESTDIR)$(UDEVRULESDIR)/70-keyquorum.rules
	rm -f $(DESTDIR)$(BASHCOMPDIR)/keyquorum

clean:
	rm -rf $(B) $(CLEAN_EXTRA)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

format-check:
	@bad=$$(git ls-files '*.c' '*.h' | xargs clang-format --dry-run 2>&1 | grep -o '^[^:]*\.[ch]' | sort -u); \
	if [ -n "$$bad" ]; then echo "not formatted: $$bad"; exit 1; fi

# The whole suite under valgrind memcheck (issue 6): every unit test binary
# and every keyquorum an integration script runs (tests/valgrind-run,
# tests/lib.sh).  Needs a build without SANITIZE.
.PHONY: check-valgrind
check-valgrind: deps
	@$(MAKE) --no-print-directory all tests
	@B=$(B) ./tests/run --valgrind
