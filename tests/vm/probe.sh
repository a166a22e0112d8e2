# SPDX-License-Identifier: GPL-2.0
# Shared by the probe tests: source after tests/e2e/lib.sh.
#
#   probe attach|detach|show|report ...   push-probe, with attach and detach
#                                         run on one online CPU (tools/vm/one-cpu:
#                                         they patch live kernel code, which
#                                         multi-threaded TCG can get wrong)
PROBE=$E2E_ROOT/build/bin/push-probe

probe() {
	case $1 in
	attach|detach) "$E2E_ROOT/tools/vm/one-cpu" "$PROBE" "$@" ;;
	*) "$PROBE" "$@" ;;
	esac
}
