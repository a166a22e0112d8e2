/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tap.h - the TAP output of the host unit tests: CHECK() prints
 * "ok N - what" or "not ok N - what" with the failed condition, and
 * tap_done() prints the plan and gives main()'s exit status.
 */
#ifndef PUSH_TEST_TAP_H
#define PUSH_TEST_TAP_H

#include <stdio.h>

static int t_num, t_failed;

#define CHECK(cond, ...) do {						\
	int ok_ = !!(cond);						\
	printf("%sok %d - ", ok_ ? "" : "not ", ++t_num);		\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	if (!ok_) {							\
		t_failed++;						\
		printf("# failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
	}								\
} while (0)

/* Prints the plan; returns main()'s exit status (1 if a check failed). */
static inline int tap_done(void)
{
	printf("1..%d\n", t_num);
	return t_failed ? 1 : 0;
}

#endif
