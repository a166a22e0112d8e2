# dist/build.mk - man pages, make install / make uninstall (included by the
# top Makefile).  docs/INSTALL.md says what goes where.
#
#   make install [PREFIX=/usr/local] [DESTDIR=...]    programs, header, units,
#        udev rule, sysusers.d entry, config file, man pages, examples
#   make install-dkms [DESTDIR=...]   the module's source and dkms.conf in
#        /usr/src/push-$(PUSH_VERSION), for `dkms install push/$(PUSH_VERSION)`
#   make uninstall / make uninstall-dkms with the same variables
#   make man                          build/man/*.[148] from docs/man/*.scd
#
# PREFIX=/usr puts the files where Debian's packages put them (debian/rules
# does so); with /usr/local, systemd, udev, sysusers and kmod read the
# /usr/local/lib/... directories too.  The configuration file is installed
# only where none exists, so a reinstall keeps local settings.

PUSH_VERSION  := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
PREFIX        ?= /usr/local
DESTDIR       ?=
BINDIR        ?= $(PREFIX)/bin
SBINDIR       ?= $(PREFIX)/sbin
INCLUDEDIR    ?= $(PREFIX)/include
MANDIR        ?= $(PREFIX)/share/man
DOCDIR        ?= $(PREFIX)/share/doc/pushd
SYSCONFDIR    ?= /etc
# /usr's lib/ for units and rules is /lib on Debian 12 (not yet merged-/usr in dpkg)
LIBROOT       ?= $(if $(filter /usr,$(PREFIX)),,$(PREFIX))/lib
UNITDIR       ?= $(LIBROOT)/systemd/system
UDEVRULESDIR  ?= $(LIBROOT)/udev/rules.d
SYSUSERSDIR   ?= $(PREFIX)/lib/sysusers.d
DKMSDIR       ?= /usr/src/push-$(PUSH_VERSION)

MAN_SRCS  := $(sort $(wildcard docs/man/*.scd))
MAN_PAGES := $(MAN_SRCS:docs/man/%.scd=$(O)/man/%)
DIST_UNITS := $(O)/dist/pushd.service

.PHONY: man install uninstall install-dkms uninstall-dkms
all: man
man: $(MAN_PAGES)

$(O)/man/%: docs/man/%.scd tools/man-tidy
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  SCDOC   $@")
	$(Q)scdoc < $< > $@.raw && tools/man-tidy < $@.raw > $@ && rm -f $@.raw

$(O)/dist/%: dist/systemd/%.in dist/build.mk
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< > $@

# install NAME MODE SRC DIR: SRC as DIR/NAME
inst = install -D -m $(2) $(3) $(DESTDIR)$(4)/$(1)

install: progs man $(DIST_UNITS)
	$(call inst,pushd,0755,$(BIN)/pushd,$(SBINDIR))
	$(call inst,push-probe,0755,$(BIN)/push-probe,$(SBINDIR))
	$(call inst,pushctl,0755,$(BIN)/pushctl,$(BINDIR))
	$(call inst,push.h,0644,$(UAPI)/linux/push.h,$(INCLUDEDIR)/linux)
	$(call inst,pushd.service,0644,$(O)/dist/pushd.service,$(UNITDIR))
	$(call inst,pushd.socket,0644,dist/systemd/pushd.socket,$(UNITDIR))
	$(call inst,99-push.rules,0644,kmod/99-push.rules,$(UDEVRULESDIR))
	$(call inst,push.conf,0644,dist/sysusers.d/push.conf,$(SYSUSERSDIR))
	$(foreach m,$(MAN_PAGES),$(call inst,$(notdir $(m)),0644,$(m),$(MANDIR)/man$(subst .,,$(suffix $(m))))$(newline))
	$(call inst,modprobe.d/push.conf,0644,dist/modprobe.d/push.conf,$(DOCDIR)/examples)
	$(call inst,modules-load.d/push.conf,0644,dist/modules-load.d/push.conf,$(DOCDIR)/examples)
	$(call inst,pushd.conf,0644,dist/pushd.conf,$(DOCDIR)/examples)
	test -e $(DESTDIR)$(SYSCONFDIR)/push/pushd.conf || \
		$(call inst,pushd.conf,0644,dist/pushd.conf,$(SYSCONFDIR)/push)

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/pushd $(DESTDIR)$(SBINDIR)/push-probe $(DESTDIR)$(BINDIR)/pushctl
	rm -f $(DESTDIR)$(INCLUDEDIR)/linux/push.h
	rm -f $(DESTDIR)$(UNITDIR)/pushd.service $(DESTDIR)$(UNITDIR)/pushd.socket
	rm -f $(DESTDIR)$(UDEVRULESDIR)/99-push.rules $(DESTDIR)$(SYSUSERSDIR)/push.conf
	rm -f $(foreach m,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	rm -rf $(DESTDIR)$(DOCDIR)
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/push/pushd.conf, the user pushd and the group push"

# The module's source as dkms wants it: dkms.conf, Kbuild, kmod/.
DKMS_FILES := dkms.conf Kbuild $(sort $(wildcard kmod/*.c kmod/*.h)) $(UAPI)/linux/push.h

install-dkms:
	$(foreach f,$(DKMS_FILES),install -D -m 0644 $(f) $(DESTDIR)$(DKMSDIR)/$(f)$(newline))

uninstall-dkms:
	rm -rf $(DESTDIR)$(DKMSDIR)

clean: clean-dist
clean-dist:
	rm -rf $(O)/man $(O)/dist $(O)/deb
.PHONY: clean-dist

define newline


endef
