# SPDX-License-Identifier: GPL-2.0
# TAP lines for the shell tests: the packaging's (tests/host/test_deb.sh,
# test_dist.sh, test_systemd_vm.sh, tests/vm/test_packages.sh) and, through
# tests/e2e/lib.sh's ok(), the end-to-end and VM ones.  Source it:
#
#   tap STATUS NAME [DIAG]   "ok N - NAME", or "not ok N - NAME" and DIAG's
#                            last 30 lines as "#" comments (STATUS 0 passes)
#   tap_done                 the plan; returns 1 if anything failed
TAP_N=0
TAP_FAILED=0

tap() {
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $TAP_N - $2"
	else
		TAP_FAILED=$((TAP_FAILED + 1))
		echo "not ok $TAP_N - $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | tail -n 30 | sed 's/^/#   /'
	fi
	return 0
}

tap_done() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}
