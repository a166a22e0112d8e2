// SPDX-License-Identifier: GPL-2.0
/* counters.c - the one instance of pushd's counters (counters.h). */
#include "core/counters.h"

struct pushd_stats pushd_stats;
