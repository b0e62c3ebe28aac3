# enroot: one multicall binary built from applets/ (applets, and the driver's commands in
# applets/enroot/) and lib/ (libraries in folders by layer: base, registry, image, runtime).
# Targets: all install uninstall check bench fuzz clean.  DEBUG=1 builds with ASan+UBSan.

VERSION    := 4.1.2
prefix     ?= /usr/local
exec_prefix ?= $(prefix)
bindir     ?= $(exec_prefix)/bin
libexecdir ?= $(exec_prefix)/libexec
sysconfdir ?= $(prefix)/etc
datarootdir ?= $(prefix)/share
datadir    ?= $(datarootdir)
mandir     ?= $(datarootdir)/man
DESTDIR    ?=

CC         ?= cc
PKG_CONFIG ?= pkg-config
# libcurl, libarchive and yajl are dlopen'ed on first use (lib/base/dl.h says why): only
# their headers are used at build time.
PKGS       := libcurl yajl libarchive libcap
LINKPKGS   := libcap

ifeq ($(DEBUG),1)
B          := build/debug
OPTFLAGS   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDSAN      := -fsanitize=address,undefined
else
B          := build
OPTFLAGS   := -O2 -g -D_FORTIFY_SOURCE=2
LDSAN      :=
endif

WARNFLAGS  := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
              -Wno-unused-parameter
HARDEN     := -fPIE -fstack-protector-strong -fstack-clash-protection
CPPFLAGS   += -D_GNU_SOURCE -Ilib -I$(B) -DENROOT_VERSION='"$(VERSION)"' \
              -DSYSCONFDIR='"$(sysconfdir)/enroot"' -DDATADIR='"$(datadir)/enroot"' \
              -DLIBEXECDIR='"$(libexecdir)/enroot"' -DBINDIR='"$(bindir)"'
CFLAGS     += -std=gnu11 $(OPTFLAGS) $(WARNFLAGS) $(HARDEN) $(shell $(PKG_CONFIG) --cflags $(PKGS))
LDFLAGS    += -pie -Wl,-z,relro,-z,now $(LDSAN)
LDLIBS     += $(shell $(PKG_CONFIG) --libs $(LINKPKGS))

# V=1 shows the full commands.
ifeq ($(V),1)
Q :=
SAY := @true
else
Q := @
SAY := @printf '  %-6s %s\n'
endif

APPLET_SRC := $(sort $(wildcard applets/*.c))
CMD_SRC    := $(sort $(wildcard applets/enroot/*.c))
LIB_SRC    := $(sort $(wildcard lib/*/*.c))
OBJS       := $(patsubst %.c,$(B)/obj/%.o,$(APPLET_SRC) $(CMD_SRC) $(LIB_SRC))
LIB_OBJS   := $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRC))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRC))

.PHONY: all install uninstall check check-layers bench fuzz unit clean
all: $(B)/bin/enroot $(B)/bin/.links $(UNIT_BINS)

$(B)/applets.h: $(APPLET_SRC) scripts/gen-applets.sh
	@mkdir -p $(@D)
	scripts/gen-applets.sh $@ $(APPLET_SRC)

$(B)/obj/%.o: %.c $(B)/applets.h
	@mkdir -p $(@D)
	$(SAY) CC $<
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/bin/enroot: $(OBJS)
	@mkdir -p $(@D)
	$(SAY) LD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

# One symlink per applet (and compat alias) beside the binary, for the tests.
$(B)/bin/.links: $(B)/bin/enroot
	@for a in $$($(B)/bin/enroot --applets); do \
		[ "$$a" = enroot ] || ln -sfn enroot $(B)/bin/$$a; done
	@touch $@

$(B)/unit/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(@D)
	$(SAY) UNIT $@
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

-include $(OBJS:.o=.d)

# Like busybox --install -s: the binary and one symlink per applet (and compat name) in bindir,
# so every applet runs from PATH.
install: all
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(libexecdir)/enroot $(DESTDIR)$(mandir)/man1
	install -m 0755 $(B)/bin/enroot $(DESTDIR)$(bindir)/enroot
	@for a in $$($(B)/bin/enroot --applets); do \
		[ "$$a" = enroot ] || ln -sfn enroot $(DESTDIR)$(bindir)/$$a; done
	install -m 0644 man/*.1 $(DESTDIR)$(mandir)/man1/
	install -m 0644 scripts/bundle.sh $(DESTDIR)$(libexecdir)/enroot/bundle.sh
	@cd etc && find . -type d | while read -r d; do \
		case $$d in ./share*|./bash-completion*) continue ;; esac; \
		install -d -m 0755 "$(DESTDIR)$(sysconfdir)/enroot/$$d"; done
	@cd etc && find . -type f | while read -r f; do \
		case $$f in ./share/*|./bash-completion/*) continue ;; esac; \
		if [ -x "$$f" ]; then m=0755; else m=0644; fi; \
		install -m $$m "$$f" "$(DESTDIR)$(sysconfdir)/enroot/$$f"; done
	@if [ -d etc/share ]; then cd etc/share && find . -type f | while read -r f; do \
		install -d "$(DESTDIR)$(datadir)/enroot/$$(dirname $$f)"; \
		if [ -x "$$f" ]; then m=0755; else m=0644; fi; \
		install -m $$m "$$f" "$(DESTDIR)$(datadir)/enroot/$$f"; done; fi
	install -d $(DESTDIR)$(datadir)/bash-completion/completions
	install -m 0644 etc/bash-completion/enroot $(DESTDIR)$(datadir)/bash-completion/completions/enroot
	@for a in $$($(B)/bin/enroot --applets); do [ "$$a" = enroot ] || \
		ln -sfn enroot $(DESTDIR)$(datadir)/bash-completion/completions/$$a; done

uninstall:
	@if [ -x $(DESTDIR)$(bindir)/enroot ]; then \
		for a in $$($(DESTDIR)$(bindir)/enroot --applets); do \
		[ "$$a" = enroot ] || rm -f $(DESTDIR)$(bindir)/$$a \
			$(DESTDIR)$(datadir)/bash-completion/completions/$$a; \
		done; fi
	rm -f $(DESTDIR)$(datadir)/bash-completion/completions/enroot
	rm -f $(DESTDIR)$(bindir)/enroot $(DESTDIR)$(libexecdir)/enroot/bundle.sh
	rmdir $(DESTDIR)$(libexecdir)/enroot 2>/dev/null || true
	@for m in man/*.1; do rm -f $(DESTDIR)$(mandir)/man1/$$(basename $$m); done
	rm -rf $(DESTDIR)$(sysconfdir)/enroot $(DESTDIR)$(datadir)/enroot

unit: $(UNIT_BINS)

# A lower layer of lib/ never includes a higher one, and no include circles.
check-layers:
	scripts/check-layers.sh

# The whole suite: man page check, unit tests, shell tests (as an unprivileged user),
# the shell tests again under ASan/UBSan, and every fuzzer for FUZZ_SECONDS each.
FUZZ_SECONDS ?= 20
check: all check-layers
	$(MAKE) DEBUG=1 all
	$(MAKE) fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/check

# libFuzzer targets: tests/fuzz/fuzz_NAME.c linked against the lib objects built with clang.
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_B     := build/fuzz
FUZZ_LIB   := $(patsubst %.c,$(FUZZ_B)/obj/%.o,$(LIB_SRC))
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(FUZZ_B)/%,$(FUZZ_SRC))
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -D_GNU_SOURCE -Ilib \
               -I$(FUZZ_B) $(shell $(PKG_CONFIG) --cflags $(PKGS))

.PHONY: fuzz-build
fuzz-build: $(FUZZ_BINS)

$(FUZZ_B)/applets.h: $(APPLET_SRC) scripts/gen-applets.sh
	@mkdir -p $(@D)
	scripts/gen-applets.sh $@ $(APPLET_SRC)

$(FUZZ_B)/obj/%.o: %.c $(FUZZ_B)/applets.h
	@mkdir -p $(@D)
	$(SAY) CLANG $<
	$(Q)clang $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

# Keep the clang objects (make deletes intermediates), rebuilt when their headers change.
.SECONDARY: $(FUZZ_LIB) $(FUZZ_B)/applets.h
-include $(FUZZ_LIB:.o=.d)

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	$(SAY) FUZZ $@
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LDLIBS)

# `make fuzz SECONDS=N`: every target for N seconds (make check gives each FUZZ_SECONDS).
SECONDS ?= 60
fuzz: fuzz-build
	FUZZ_SECONDS=$(SECONDS) tests/fuzz/run

bench: all
	tests/bench/run

clean:
	rm -rf build
