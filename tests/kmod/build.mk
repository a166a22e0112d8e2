# tests/kmod/build.mk - the test-only module push_lockup.ko (tests/host/
# test_vm_failfast.sh loads it in the VM to provoke a lockup), built like
# push.ko from a tree of symlinks under $(O).
tests: $(O)/tests/push_lockup.ko

$(O)/tests/push_lockup.ko: tests/kmod/push_lockup.c tests/kmod/Kbuild $(KDIR_STAMP)
	@test -d "$(KDIR)" || { echo "no kernel headers at $(KDIR): run tools/install-deps or set KDIR=" >&2; exit 1; }
	$(Q)mkdir -p $(O)/tests/kmod
	$(Q)ln -sfn $(CURDIR)/tests/kmod/Kbuild $(O)/tests/kmod/Kbuild
	$(Q)ln -sfn $(CURDIR)/tests/kmod/push_lockup.c $(O)/tests/kmod/push_lockup.c
	$(Q)$(MAKE) -s -C $(KDIR) M=$(CURDIR)/$(O)/tests/kmod CC=$(KCC) modules
	$(Q)cp $(O)/tests/kmod/push_lockup.ko $@
