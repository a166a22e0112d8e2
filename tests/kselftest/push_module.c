// SPDX-License-Identifier: GPL-2.0
/*
 * push_module - module lifetime: unloading is refused while /dev/push is
 * open, and once closed the module unloads and loads again cleanly, with
 * ids starting over at 1.  It reloads the module (with the parameters it
 * had), so run it alone, last or in its own boot; it always leaves the
 * module loaded.
 *
 * Needs CONFIG_MODULE_UNLOAD.  The module file is $PUSH_KO, default
 * build/push.ko (relative to the repository, where tools/vm/run starts).
 * Run as root: build/tests/kselftest/push_module
 */
#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "push_util.h"

#define MODNAME	"push"

static const char *ko_path(void)
{
	const char *p = getenv("PUSH_KO");

	return p && *p ? p : "build/push.ko";
}

static int module_loaded(void)
{
	struct stat st;

	return !stat("/sys/module/" MODNAME, &st);
}

/* "name=value name=value" from /sys/module/push/parameters; 0 or -errno. */
static int saved_params(char *buf, size_t size)
{
	struct dirent *de;
	size_t len = 0;
	DIR *d;

	buf[0] = '\0';
	d = opendir(PUSH_PARAMS);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[300], val[64] = "";
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), PUSH_PARAMS "%s", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(val, sizeof(val), f))
			val[strcspn(val, "\n")] = '\0';
		fclose(f);
		if (val[0])
			len += snprintf(buf + len, len < size ? size - len : 0,
					"%s%s=%s", len ? " " : "", de->d_name, val);
	}
	closedir(d);
	return len < size ? 0 : -E2BIG;
}

static int load_module(const char *params)
{
	int fd = open(ko_path(), O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

static int unload_module(void)
{
	return syscall(SYS_delete_module, MODNAME, O_NONBLOCK) ? -errno : 0;
}

FIXTURE(module) {
	char params[512];
	int have_ko;
};

/* The boot's own parameters, kept here by the first test that runs. */
#define BOOT_PARAMS	"/tmp/push_module.params"

FIXTURE_SETUP(module)
{
	char boot[512] = "";
	struct stat st;
	FILE *f;

	ASSERT_EQ(1, module_loaded());
	ASSERT_EQ(0, saved_params(self->params, sizeof(self->params)));
	self->have_ko = !stat(ko_path(), &st);
	/*
	 * A test killed half way (time-out) may have left the module loaded
	 * with its own parameters: put the boot's back first.
	 */
	f = fopen(BOOT_PARAMS, "re");
	if (f) {
		if (!fgets(boot, sizeof(boot), f))
			boot[0] = '\0';
		fclose(f);
		boot[strcspn(boot, "\n")] = '\0';
		if (strcmp(boot, self->params) && self->have_ko) {
			TH_LOG("restoring the boot's parameters \"%s\"", boot);
			ASSERT_EQ(0, unload_module());
			ASSERT_EQ(0, load_module(boot));
			strcpy(self->params, boot);
		}
	} else {
		f = fopen(BOOT_PARAMS, "we");
		ASSERT_NE(NULL, f);
		fprintf(f, "%s\n", self->params);
		fclose(f);
	}
}

FIXTURE_TEARDOWN(module)
{
	/* Whatever happened, leave the module loaded as we found it. */
	if (!module_loaded() && self->have_ko)
		load_module(self->params);
}

/* While a file is open, the module cannot be removed; the device keeps working. */
TEST_F(module, unload_refused_while_open)
{
	int fd = push_open(0);
	int ret;

	ASSERT_NE(-1, fd);
	ASSERT_LT(0, push_pub(fd, "mod", "before", 6, NULL));
	ret = unload_module();
	ASSERT_TRUE(ret == -EWOULDBLOCK || ret == -EBUSY) {
		TH_LOG("delete_module with /dev/push open: %d (%s)", ret,
		       strerror(-ret));
	}
	ASSERT_EQ(1, module_loaded());
	ASSERT_LT(0, push_pub(fd, "mod", "after", 5, NULL));
	close(fd);
}

/*
 * Once closed it unloads (the device node goes away) and loads again with
 * the same parameters, a fresh history and ids from 1.
 */
TEST_F(module, unload_and_reload)
{
	char params[512];
	struct push_info info;
	uint64_t epoch;
	struct stat st;
	int fd, ret;

	if (!self->have_ko)
		SKIP(return, "no module file %s (set PUSH_KO)", ko_path());
	fd = push_open(O_NONBLOCK);
	ASSERT_NE(-1, fd);
	ASSERT_EQ(0, push_get_info(fd, &info));
	epoch = info.epoch;
	ASSERT_NE(0, epoch);
	close(fd);
	ASSERT_EQ(0, unload_module());
	ASSERT_EQ(0, module_loaded());
	ASSERT_EQ(-1, stat(PUSH_DEV, &st));
	ASSERT_EQ(ENOENT, errno);

	ret = load_module(self->params);
	ASSERT_EQ(0, ret) {
		TH_LOG("finit_module %s \"%s\": %s", ko_path(), self->params,
		       strerror(-ret));
	}
	ASSERT_EQ(1, module_loaded());
	ASSERT_EQ(0, saved_params(params, sizeof(params)));
	ASSERT_STREQ(self->params, params);

	fd = push_open(O_NONBLOCK);
	ASSERT_NE(-1, fd);
	ASSERT_EQ(0, push_get_info(fd, &info));
	ASSERT_EQ(1, info.next_id);
	ASSERT_EQ(1, info.oldest_id);
	ASSERT_EQ(0, info.retained);
	ASSERT_EQ(0, info.channels);
	/* Ids start over; the epoch tells a resuming reader so. */
	ASSERT_NE(0, info.epoch);
	ASSERT_NE(epoch, info.epoch);
	ASSERT_EQ(1, push_pub(fd, "mod", "first", 5, NULL));
	ASSERT_EQ(1, push_stat("messages"));
	close(fd);
}

/* The module can be cycled repeatedly, with a reader open in between. */
TEST_F(module, reload_cycles)
{
	int i, fd;

	if (!self->have_ko)
		SKIP(return, "no module file %s (set PUSH_KO)", ko_path());
	for (i = 0; i < 3; i++) {
		fd = push_open(0);
		ASSERT_NE(-1, fd);
		ASSERT_LT(0, push_pub(fd, "cycle", "x", 1, NULL));
		close(fd);
		ASSERT_EQ(0, unload_module());
		ASSERT_EQ(0, load_module(self->params));
	}
	ASSERT_EQ(1, module_loaded());
}

/* At most max_channels channels: a message on one more fails with ENOSPC. */
TEST_F(module, max_channels)
{
	char params[600];
	int fd;

	if (!self->have_ko)
		SKIP(return, "no module file %s (set PUSH_KO)", ko_path());
	/* A later parameter overrides the saved one. */
	snprintf(params, sizeof(params), "%s max_channels=3", self->params);
	ASSERT_EQ(0, unload_module());
	ASSERT_EQ(0, load_module(params));
	fd = push_open(0);
	ASSERT_NE(-1, fd);
	ASSERT_EQ(1, push_pub(fd, "c1", "x", 1, NULL));
	ASSERT_EQ(2, push_pub(fd, "c2", "x", 1, NULL));
	ASSERT_EQ(3, push_pub(fd, "c3", "x", 1, NULL));
	ASSERT_EQ(-ENOSPC, push_pub(fd, "c4", "x", 1, NULL));
	ASSERT_EQ(-1, write(fd, "@c5 x", 5));
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_EQ(2, push_stat("rejected"));
	/* Existing channels still take messages, with the next id. */
	ASSERT_EQ(4, push_pub(fd, "c2", "y", 1, NULL));
	ASSERT_EQ(3, push_stat("channels"));
	close(fd);
	ASSERT_EQ(0, unload_module());
	ASSERT_EQ(0, load_module(self->params));
}

/* 1 if /sys/kernel/debug/push/channels has a line for @name, 0 if not. */
static int debugfs_has(const char *name)
{
	FILE *f = fopen("/sys/kernel/debug/push/channels", "re");
	char line[256];
	size_t len = strlen(name);
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ' ')
			found = 1;
	fclose(f);
	return found;
}

/* Entries of the index: roundup_pow_of_two(ring_size / 40), at most 2^22. */
static uint64_t index_entries(void)
{
	uint64_t want = push_param("ring_size") / 40, n = 1;

	while (n < want)
		n <<= 1;
	return n < (1u << 22) ? n : (1u << 22);
}

/*
 * A channel is freed once none of its messages is among the last
 * index_entries() ids (which hold every retained message) and no open
 * file's filter names it: exhausting max_channels recovers as the history
 * moves on, and debugfs stops listing the freed channels.
 */
TEST_F(module, channels_freed)
{
	struct push_chan_info ci = { .chan_len = 2, .channel = "c2" };
	char params[600];
	int fd, rd, rd2;
	int64_t c3;

	if (!self->have_ko)
		SKIP(return, "no module file %s (set PUSH_KO)", ko_path());
	/* A small ring: a small index (2048 entries) to publish past. */
	snprintf(params, sizeof(params),
		 "%s ring_size=65536 max_msg_size=4096 max_channels=3",
		 self->params);
	ASSERT_EQ(0, unload_module());
	ASSERT_EQ(0, load_module(params));
	fd = push_open(0);
	ASSERT_NE(-1, fd);
	ASSERT_EQ(1, push_pub(fd, "c1", "x", 1, NULL));
	ASSERT_EQ(2, push_pub(fd, "c2", "x", 1, NULL));
	c3 = push_pub(fd, "c3", "x", 1, NULL);
	ASSERT_EQ(3, c3);
	ASSERT_EQ(-ENOSPC, push_pub(fd, "c4", "x", 1, NULL));
	ASSERT_EQ(1, debugfs_has("c2"));

	/* Evicted but still indexed: c2 stays (its gaps count exactly). */
	ASSERT_LT(0, push_wrap_past(fd, c3, "c1", push_param("max_msg_size"),
				    NULL, 0));
	ASSERT_EQ(0, ioctl(fd, PUSH_IOC_CHAN_INFO, &ci));
	ASSERT_EQ(0, ci.retained);
	ASSERT_EQ(3, push_stat("channels"));
	/* Past the index too: only c1 is left. */
	while (push_next_id(fd) <= c3 + index_entries())
		ASSERT_LT(0, push_pub(fd, "c1", "y", 1, NULL));
	ASSERT_EQ(1, push_stat("channels"));
	ASSERT_EQ(-1, ioctl(fd, PUSH_IOC_CHAN_INFO, &ci));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(1, debugfs_has("c1"));
	ASSERT_EQ(0, debugfs_has("c2"));
	ASSERT_EQ(0, debugfs_has("c3"));
	ASSERT_LT(0, push_pub(fd, "c4", "x", 1, NULL));

	/* A filter keeps the channels it names. */
	rd = push_open(0);
	ASSERT_NE(-1, rd);
	ASSERT_EQ(0, push_set_filter(rd, "c5"));
	ASSERT_EQ(3, push_stat("channels"));
	ASSERT_EQ(1, debugfs_has("c5"));
	rd2 = push_open(0);
	ASSERT_NE(-1, rd2);
	ASSERT_EQ(-ENOSPC, push_set_filter(rd2, "c6"));
	/* ... until the filter goes. */
	close(rd);
	ASSERT_EQ(2, push_stat("channels"));
	ASSERT_EQ(0, debugfs_has("c5"));
	ASSERT_EQ(0, push_set_filter(rd2, "c6"));
	close(rd2);
	close(fd);
	ASSERT_EQ(0, unload_module());
	ASSERT_EQ(0, load_module(self->params));
}

/* Absurd parameters make the load fail with EINVAL. */
TEST_F(module, bad_params)
{
	static const char *const bad[] = {
		"ring_size=100", "ring_size=2147483648", "max_msg_size=0",
		"ring_size=4096 max_msg_size=4096", "max_channels=0",
		"mode=01777", "mode=0", "ring_size=65537", "devices=0",
		"devices=17",
	};
	unsigned int i;

	if (!self->have_ko)
		SKIP(return, "no module file %s (set PUSH_KO)", ko_path());
	ASSERT_EQ(0, unload_module());
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = load_module(bad[i]);

		if (ret != -EINVAL)
			TH_LOG("load with \"%s\": %d", bad[i], ret);
		ASSERT_EQ(-EINVAL, ret);
		ASSERT_EQ(0, module_loaded());
	}
	ASSERT_EQ(0, load_module(self->params));
	ASSERT_EQ(1, module_loaded());
}

TEST_HARNESS_MAIN
