#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Description: pushd's layers depend only downward (docs/PUSHD.md, Layout).
# Reads the quoted #include lines of userspace/, bpf/ and include/push/:
#   protocol/   protocol/ only, and no header of I/O (sockets, files,
#               threads, stdio, libmicrohttpd, liburing, libbpf)
#   core/       protocol/, core/, push/
#   transport/  protocol/, core/, transport/, push/
#   server/     any layer, push/
#   include/push/  push/ only;  bpf/  push/ and its own headers
# and that no include climbs out of its folder with "../" and every one in
# userspace/ names its layer ("core/hub.h", not "hub.h").  Host only, no build.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
n=0 failed=0

# tap NAME BAD: one TAP line, failing with BAD (lines) shown when not empty
tap() {
	n=$((n + 1))
	if [ -z "$2" ]; then
		echo "ok $n - $1"
	else
		failed=$((failed + 1))
		echo "not ok $n - $1"
		echo "$2" | sed 's/^/#   /'
	fi
}

# check NAME FILES...: every quoted include of FILES starts with one of the
# prefixes in the regex $allow (no files at all is a failure too)
check() {
	local name=$1 bad; shift
	if [ $# -eq 0 ]; then
		tap "$name" "no sources found"
		return
	fi
	bad=$(grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$@" |
		grep -Ev "#[[:space:]]*include[[:space:]]*\"($allow)" || true)
	tap "$name" "$bad"
}

files() { find "$@" -name '*.[ch]' 2>/dev/null | sort; }

layer_files() { files "userspace/$1"; }

allow='protocol/'
check "protocol/ includes only protocol/" $(layer_files protocol)
allow='protocol/|core/|push/'
check "core/ includes only protocol/, core/, push/" $(layer_files core)
allow='protocol/|core/|transport/|push/'
check "transport/ includes only protocol/, core/, transport/, push/" $(layer_files transport)
allow='protocol/|core/|transport/|server/|push/'
check "server/ includes only pushd's layers and push/" $(layer_files server)
allow='push/'
check "include/push/ includes only push/" $(files include/push)
allow='push/|push_probe\.bpf\.h|push_probe\.skel\.h|vmlinux\.h'
check "bpf/ includes only push/ and its own headers" $(files bpf)
tap "nothing in userspace/, bpf/, include/ climbs out with ../" \
	"$(grep -Hn '#[[:space:]]*include[[:space:]]*"\.\./' $(files userspace bpf include) /dev/null)"

# protocol/ is pure: no header that does I/O
tap "protocol/ includes no header of I/O" \
	"$(grep -Hn -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(unistd|fcntl|poll|pthread|stdio|microhttpd|liburing|sys/[a-z_]+|bpf/[a-z_]+|netinet/[a-z_]+|arpa/[a-z_]+)\.h>' $(layer_files protocol) /dev/null)"

echo "1..$n"
[ "$failed" -eq 0 ]
