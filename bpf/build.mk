# bpf/build.mk - push-probe: BPF object, skeleton and loader (included by the
# top Makefile).  vmlinux.h is generated from the build host's BTF; CO-RE
# relocates against the guest kernel's at load time.

BPF_OUT     := $(O)/bpf
BPFTOOL     ?= bpftool
BPF_CLANG   ?= clang
BPF_ARCH    := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
BPF_CFLAGS  := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Werror \
	       -I$(BPF_OUT) -Ibpf -Iinclude
PROBE_LIBS  := -lbpf -lelf -lz

all: $(BIN)/push-probe
progs: $(BIN)/push-probe

$(BPF_OUT)/vmlinux.h:
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  BTF     $@")
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BPF_OUT)/push_probe.bpf.o: bpf/push_probe.bpf.c include/push/probe.h bpf/push_probe.bpf.h $(BPF_OUT)/vmlinux.h
	$(if $(Q),@echo "  BPF     $@")
	$(Q)$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $(BPF_OUT)/push_probe.tmp.o
	$(Q)$(BPFTOOL) gen object $@ $(BPF_OUT)/push_probe.tmp.o

$(BPF_OUT)/push_probe.skel.h: $(BPF_OUT)/push_probe.bpf.o
	$(if $(Q),@echo "  SKEL    $@")
	$(Q)$(BPFTOOL) gen skeleton $< name push_probe_bpf > $@

$(O)/bpf/push_probe.o: bpf/push_probe.c $(BPF_OUT)/push_probe.skel.h include/push/probe.h include/push/probe_tag.h
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -I$(BPF_OUT) -Ibpf -c -o $@ $<

$(BIN)/push-probe: $(O)/bpf/push_probe.o $(O)/bpf/probe_tag.o
	@mkdir -p $(BIN)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PROBE_LIBS)
