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
