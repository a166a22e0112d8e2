# userspace/build.mk - pushd's extra build rules (included by the top Makefile).
#
# The demo page is built into pushd: server/www/index.html becomes a C array in
# $(O)/userspace/www_index.c, whose object PUSHD_EXTRA_OBJS links in.

PUSHD_WWW_C   := $(O)/userspace/www_index.c
PUSHD_WWW_O   := $(O)/userspace/www_index.o
PUSHD_EXTRA_OBJS += $(PUSHD_WWW_O)

$(PUSHD_WWW_C): userspace/server/www/index.html userspace/build.mk
	@mkdir -p $(dir $@)
	$(Q){ echo '/* generated from userspace/server/www/index.html by userspace/build.mk */'; \
	  echo '#include <stddef.h>'; \
	  echo 'const char www_index_html[] = {'; \
	  od -An -v -tx1 $< | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0 };'; \
	  echo 'const size_t www_index_html_len = sizeof(www_index_html) - 1;'; } > $@

$(PUSHD_WWW_O): $(PUSHD_WWW_C)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# pushd tags its connections for push-probe through the probe's own library.
PUSHD_EXTRA_OBJS += $(O)/bpf/probe_tag.o

# The browser client (clients/js/) is built in too, served at /push.js and
# /push/*.js (server/www.c): each file a C array with its ETag (a hash of its
# bytes), in one table www_lib[].
PUSHD_LIB_JS  := clients/js/push.js $(sort $(wildcard clients/js/push/*.js))
PUSHD_LIB_C   := $(O)/userspace/www_lib.c
PUSHD_LIB_O   := $(O)/userspace/www_lib.o
PUSHD_EXTRA_OBJS += $(PUSHD_LIB_O)

$(PUSHD_LIB_C): $(PUSHD_LIB_JS) userspace/build.mk
	@mkdir -p $(dir $@)
	$(Q){ echo '/* generated from clients/js/ by userspace/build.mk */'; \
	  echo '#include "server/www.h"'; \
	  i=0; for f in $(PUSHD_LIB_JS); do \
	    echo "static const unsigned char f$$i[] = {"; \
	    od -An -v -tx1 $$f | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	    echo '0 };'; i=$$((i + 1)); \
	  done; \
	  echo 'const struct www_file www_lib[] = {'; \
	  i=0; for f in $(PUSHD_LIB_JS); do \
	    echo "{ \"/$${f#clients/js/}\", f$$i, sizeof(f$$i) - 1, \"\\\"$$(sha256sum $$f | cut -c1-20)\\\"\" },"; \
	    i=$$((i + 1)); \
	  done; \
	  echo '{ 0 } };'; } > $@

$(PUSHD_LIB_O): $(PUSHD_LIB_C) userspace/server/www.h
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# The hub's mmap reader (core/devread.c) is lib/push_ring_reader.c, the
# device's reader library (below every layer of pushd, like the uapi
# header): included as <push_ring_reader.h>, linked into pushd, and built
# with the sanitizers into the unit tests.
CFLAGS += -Ilib
$(BIN)/pushd: $(O)/lib/push_ring_reader.o
LIB_SAN_OBJS += $(O)/san/lib/push_ring_reader.o
