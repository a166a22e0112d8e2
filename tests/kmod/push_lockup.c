// SPDX-License-Identifier: GPL-2.0
/*
 * push_lockup.c - a test-only module that breaks the kernel on purpose, so
 * tests/host/test_vm_failfast.sh can prove that a guest which locks up or
 * hangs fails its run at once, with a stack trace in the console log.
 * Never loaded outside that test.
 *
 *   insmod push_lockup.ko mode=spin   spin in the kernel with preemption
 *                                     off: "BUG: soft lockup", then panic
 *   insmod push_lockup.ko mode=hung   sleep uninterruptibly: "task insmod
 *                                     blocked for more than N seconds"
 */
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/string.h>

static char *mode = "";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "spin (soft lockup) or hung (hung task)");

static int __init push_lockup_init(void)
{
	unsigned long end = jiffies + 300 * HZ;

	if (!strcmp(mode, "spin")) {
		preempt_disable();
		while (time_before(jiffies, end))
			mdelay(10);
		preempt_enable();
	} else if (!strcmp(mode, "hung")) {
		schedule_timeout_uninterruptible(300 * HZ);
	} else {
		return -EINVAL;
	}
	/* Only reached if the guest did not panic: the test then fails. */
	return -ETIMEDOUT;
}

module_init(push_lockup_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test-only: provoke a soft lockup or a hung task");
