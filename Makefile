# push - top-level build.  Everything goes to build/ (set O= to move it).
#
#   make            module (build/push.ko) and every program (build/bin/)
#   make check      every test: host unit tests and fuzz smoke, then the VM suite
#   make demo       boot the test VM with the module and pushd, shell inside
#   make KDIR=...   build the module against another kernel's headers
#   make check KVER=6.1.0-56-cloud-amd64
#                   build for and boot another Debian cloud kernel
#
# Conventions, so that adding a file needs no edit here:
#   userspace/*/*.c      pushd, one folder per layer (docs/PUSHD.md, Layout);
#                        userspace/server/main.c holds main(), the rest is
#                        also linked into the host unit tests
#   userspace/protocol/*.c  also linked into every fuzz target
#   tools/pushctl/*.c    pushctl
#   tests/unit/test_*.c  one host unit test each, built with ASan+UBSan
#   tests/kselftest/*.c  one kselftest binary each (run in the VM)
#   tests/fuzz/*_fuzz.c  libFuzzer targets, run briefly by make check
#   <dir>/build.mk       extra rules a part needs (bpf/, tests/*)

O       ?= build
BIN     := $(O)/bin
CC      ?= cc
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)

# The test VM runs Debian's cloud kernel; build against its headers unless
# KDIR says otherwise.
KVER    ?= $(shell tools/vm/kernel-version 2>/dev/null)
# KVER=... also pins the VM's kernel (tools/vm/kernel-version reads it).
export KVER
KDIR    ?= /usr/src/linux-headers-$(KVER)
KCC     ?= gcc-12
KDIR_STAMP := $(O)/kmod/kdir.stamp

UAPI    := kmod/include/uapi
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I$(UAPI) -Iinclude -Iuserspace -MMD -MP
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# Libraries through pkg-config (nettle: SHA-1 and base64, as GnuTLS uses it;
# GnuTLS, nettle and jansson: the JSON Web Tokens of private channels; zlib:
# permessage-deflate; libsystemd: sd_notify).
PUSHD_PKGS := libmicrohttpd liburing libbpf nettle gnutls jansson zlib libsystemd
PUSHD_LIBS := $(shell pkg-config --libs $(PUSHD_PKGS) 2>/dev/null || echo -lmicrohttpd -luring -lbpf -lnettle -lgnutls -ljansson -lz -lsystemd) -lpthread

PUSHD_SRCS  := $(sort $(wildcard userspace/*/*.c))
PUSHD_OBJS  := $(PUSHD_SRCS:%.c=$(O)/%.o)
LIB_OBJS    := $(filter-out $(O)/userspace/server/main.o,$(PUSHD_OBJS))
LIB_SAN_OBJS := $(LIB_OBJS:$(O)/%.o=$(O)/san/%.o)
PUSHCTL_SRCS := $(sort $(wildcard tools/pushctl/*.c))
UNIT_SRCS   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/unit/%)
KSFT_SRCS   := $(sort $(wildcard tests/kselftest/*.c))
KSFT_BINS   := $(KSFT_SRCS:tests/kselftest/%.c=$(O)/tests/kselftest/%)
KSFT_INC    := $(O)/ksft
KMOD_SRCS   := Kbuild $(sort $(wildcard kmod/*.c kmod/*.h))

PROGS := $(if $(PUSHD_SRCS),$(BIN)/pushd) $(if $(PUSHCTL_SRCS),$(BIN)/pushctl)

.DEFAULT_GOAL := all
# Parts add rules and variables (e.g. PUSHD_EXTRA_OBJS) in their own build.mk.
-include $(wildcard bpf/build.mk bridge/build.mk tests/*/build.mk tools/*/build.mk userspace/build.mk dist/build.mk)

.PHONY: all module progs tests check check-host check-vm demo clean kernel ksft-headers checkpatch sparse
.DELETE_ON_ERROR:
.SECONDARY:

all: module progs tests

# --- kernel module ---------------------------------------------------------
# Kbuild of kernel 6.1 writes objects next to the sources, so the module is
# built from a tree of symlinks under $(O)/kmod.
module: $(O)/push.ko

# Modules are rebuilt when KDIR (so KVER) changes: a module only loads into
# the kernel it was built for.
$(KDIR_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(KDIR)' | cmp -s - $@ || echo '$(KDIR)' > $@
.PHONY: FORCE

$(O)/push.ko: $(KMOD_SRCS) $(wildcard $(UAPI)/linux/*.h) $(KDIR_STAMP)
	@test -d "$(KDIR)" || { echo "no kernel headers at $(KDIR): run tools/install-deps or set KDIR=" >&2; exit 1; }
	$(Q)mkdir -p $(O)/kmod/kmod
	$(Q)ln -sfn $(CURDIR)/Kbuild $(O)/kmod/Kbuild
	$(Q)for f in kmod/*.c kmod/*.h; do [ -e "$$f" ] && ln -sfn $(CURDIR)/$$f $(O)/kmod/$$f; done; true
	$(Q)ln -sfn $(CURDIR)/kmod/include $(O)/kmod/kmod/include
	$(Q)$(MAKE) -s -C $(KDIR) M=$(CURDIR)/$(O)/kmod CC=$(KCC) W=$(W) C=$(C) modules
	$(Q)cp $(O)/kmod/push.ko $@

checkpatch:
	@tools/checkpatch kmod/*.c kmod/*.h $(UAPI)/linux/push.h

sparse:
	$(Q)rm -f $(O)/push.ko
	$(Q)$(MAKE) module C=2

# --- userspace -------------------------------------------------------------
progs: $(PROGS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(O)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -c -o $@ $<

$(BIN)/pushd: $(PUSHD_OBJS) $(PUSHD_EXTRA_OBJS)
	@mkdir -p $(BIN)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PUSHD_LIBS)

# pushd under ASan/UBSan, for the host tests that run it (tests/host/).
$(O)/san/bin/pushd: $(LIB_SAN_OBJS) $(O)/san/userspace/server/main.o $(PUSHD_EXTRA_OBJS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(PUSHD_LIBS)

$(BIN)/pushctl: $(PUSHCTL_SRCS:%.c=$(O)/%.o)
	@mkdir -p $(BIN)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

# --- tests -----------------------------------------------------------------
tests: $(UNIT_BINS) $(KSFT_BINS) $(if $(PUSHD_SRCS),$(O)/san/bin/pushd)

# The test's .d file adds its headers to $^: only sources and objects go to cc
# (a header that moved would otherwise be passed, and not found).
$(O)/tests/unit/%: tests/unit/%.c $(LIB_SAN_OBJS) $(PUSHD_EXTRA_OBJS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -Itests/unit -o $@ $(filter %.c %.o,$^) $(PUSHD_LIBS)

# kselftest.h and kselftest_harness.h come from Debian's linux-source-6.1,
# extracted at build time and never committed.
ksft-headers: $(KSFT_INC)/kselftest_harness.h

$(KSFT_INC)/kselftest_harness.h:
	$(Q)tools/extract-ksft $(KSFT_INC)

$(O)/tests/kselftest/%: tests/kselftest/%.c $(KSFT_INC)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -I$(KSFT_INC) -Wno-unused-parameter -o $@ $< -luring -lpthread


# --- running ---------------------------------------------------------------
check: all
	$(Q)tests/run-all

demo: all
	$(Q)tools/demo

clean:
	rm -rf $(O)/kmod $(O)/bin $(O)/userspace $(O)/san $(O)/tests $(O)/tools $(O)/bpf $(O)/push.ko

# (not the package build's copy of the tree in $(O)/deb, nor dist/'s *.d folders)
-include $(shell find $(O) -path $(O)/deb -prune -o -name '*.d' -type f -print 2>/dev/null)
