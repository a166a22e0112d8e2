// SPDX-License-Identifier: GPL-2.0
/*
 * push-probe - attach, show, report and detach pushd's cost accounting.
 *
 * Everything is pinned under /sys/fs/bpf/push/ (maps by name, links as
 * link_<program>), so counting goes on after this program exits; pushd
 * tags connections through bpf/probe_tag.c (include/push/probe_tag.h),
 * which also reads the report back for this program and for pushd.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "push/probe.h"
#include "push_probe.skel.h"
#include "push/probe_tag.h"

#define PIN_DIR		PUSH_PROBE_PIN_DIR
#define CGROUP_DIR	"/sys/fs/cgroup"

static const char usage[] =
"usage: push-probe [-v] COMMAND [OPTIONS]\n"
"\n"
"Account what each connection and each transport of pushd costs.\n"
"\n"
"Commands:\n"
"  attach    load the probes and pin them under " PIN_DIR "/; refused\n"
"            if already attached\n"
"  detach    remove every program, link and map attach made\n"
"  show      print what is attached (exit 1 if nothing)\n"
"  report    per transport: wire bytes, overhead ratio, segments,\n"
"            syscalls, CPU us and new connections per delivered message,\n"
"            mean connection lifetime; pushd as a whole; latencies\n"
"\n"
"Options:\n"
"  -p, --port PORT   pushd's TCP port (attach; default 8080)\n"
"  -c, --comm NAME   pushd's process name (attach; default pushd)\n"
"      --pid PID     follow this process only instead of --comm (attach)\n"
"      --no-syscalls do not trace syscalls (attach): the costliest probes,\n"
"                    since every syscall of every process then hits them\n"
"  -j, --json        report as JSON (the object pushd's /stats embeds)\n"
"  -v, --verbose     libbpf's messages\n"
"  -h, --help\n"
"\n"
"Examples:\n"
"  push-probe attach --port 8080\n"
"  push-probe report --json\n"
"  bpftool map dump pinned " PIN_DIR "/push_transports\n"
"  push-probe detach\n";

static struct {
	int verbose;
	int json;
	int no_syscalls;
	unsigned int port;
	unsigned int pid;
	const char *comm;
} env = { .port = 8080, .comm = "pushd" };

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && env.verbose < 2)
		return 0;
	if (!env.verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* Strict unsigned parsing: the whole string, in [min, max]. */
static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned int *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* Mount @type at @dir unless a filesystem with @magic is there already. */
static int ensure_mount(const char *dir, const char *type, long magic)
{
	struct statfs st;

	if (!statfs(dir, &st) && st.f_type == magic)
		return 0;
	if (mount(type, dir, type, 0, NULL)) {
		fprintf(stderr, "push-probe: mount %s on %s: %s\n", type, dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Are there pinned links, i.e. are we attached? */
static int attached(void)
{
	struct dirent *e;
	DIR *d = opendir(PIN_DIR);
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "link_", 5))
			n++;
	closedir(d);
	return n;
}

/* Unpin everything under PIN_DIR and remove it; returns pins removed. */
static int unpin_all(void)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(PIN_DIR);
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), PIN_DIR "/%s", e->d_name);
		if (unlink(path))
			fprintf(stderr, "push-probe: unlink %s: %s\n", path, strerror(errno));
		else
			n++;
	}
	closedir(d);
	if (rmdir(PIN_DIR) && errno != ENOENT)
		fprintf(stderr, "push-probe: rmdir " PIN_DIR ": %s\n", strerror(errno));
	return n;
}

/* A field of a tracepoint's format file. */
struct tp_field {
	const char *name;
	unsigned int off, size;
};

static const char *tracefs(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[128];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/events", dirs[i]);
		if (!access(path, F_OK))
			return dirs[i];
	}
	if (!mount("tracefs", dirs[0], "tracefs", 0, NULL))
		return dirs[0];
	return NULL;
}

/* Find @n fields (each by one of '|'-separated names) in push:@event's
 * format; returns 0 when all were found. */
static int tp_format(const char *event, struct tp_field *f, int n)
{
	char path[256], line[512], name[64];
	const char *dir = tracefs();
	unsigned int off, size;
	int found = 0, i;
	FILE *fp;

	if (!dir)
		return -1;
	snprintf(path, sizeof(path), "%s/events/push/%s/format", dir, event);
	fp = fopen(path, "r");
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp)) {
		char *p = strstr(line, "field:"), *semi, *sp;

		if (!p || !(semi = strchr(p, ';')))
			continue;
		*semi = 0;
		/* The name is the last word of the declaration. */
		sp = strrchr(p, ' ');
		if (!sp || strlen(sp + 1) >= sizeof(name))
			continue;
		strcpy(name, sp + 1);
		if (sscanf(semi + 1, " offset:%u; size:%u;", &off, &size) != 2)
			continue;
		for (i = 0; i < n; i++) {
			char alts[64], *tok, *save;

			snprintf(alts, sizeof(alts), "%s", f[i].name);
			for (tok = strtok_r(alts, "|", &save); tok; tok = strtok_r(NULL, "|", &save))
				if (!strcmp(tok, name) && !f[i].size) {
					f[i].off = off;
					f[i].size = size;
					found++;
				}
		}
	}
	fclose(fp);
	for (i = 0; i < n; i++)
		if (f[i].size != 4 && f[i].size != 8)
			return -1;
	return found == n ? 0 : -1;
}

/* Point the push:* programs at their fields, or leave them out when the
 * module (or a field) is missing. */
static void setup_push_tracepoints(struct push_probe_bpf *skel)
{
	struct tp_field pub[] = { { .name = "len|data_len" }, { .name = "write_ns" }, { .name = "commit_ns" } };
	struct tp_field rd[] = { { .name = "count|records" }, { .name = "bytes" } };
	struct tp_field rr[] = { { .name = "age_ns" } };

	if (!tp_format("push_publish", pub, 3) && pub[1].size == 8 && pub[2].size == 8) {
		skel->rodata->off_pub_len = pub[0].off;
		skel->rodata->sz_pub_len = pub[0].size;
		skel->rodata->off_pub_write_ns = pub[1].off;
		skel->rodata->off_pub_commit_ns = pub[2].off;
	} else {
		fprintf(stderr, "push-probe: no push:push_publish tracepoint: publish latency not measured\n");
		bpf_program__set_autoload(skel->progs.push_publish, false);
	}
	if (!tp_format("push_read", rd, 2)) {
		skel->rodata->off_read_count = rd[0].off;
		skel->rodata->sz_read_count = rd[0].size;
		skel->rodata->off_read_bytes = rd[1].off;
		skel->rodata->sz_read_bytes = rd[1].size;
	} else {
		fprintf(stderr, "push-probe: no push:push_read tracepoint: device reads not counted\n");
		bpf_program__set_autoload(skel->progs.push_read, false);
	}
	if (!tp_format("push_record_read", rr, 1) && rr[0].size == 8) {
		skel->rodata->off_rr_age_ns = rr[0].off;
	} else {
		fprintf(stderr, "push-probe: no push:push_record_read tracepoint: device latency not measured\n");
		bpf_program__set_autoload(skel->progs.push_record_read, false);
	}
}

static int cmd_attach(void)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = PIN_DIR);
	struct push_probe_bpf *skel = NULL;
	struct bpf_program *prog;
	struct bpf_link *link;
	char path[PATH_MAX];
	int cg = -1, err = 1, n = 0;

	if (ensure_mount("/sys/fs/bpf", "bpf", BPF_FS_MAGIC))
		return 1;
	if (attached()) {
		fprintf(stderr, "push-probe: already attached (push-probe detach first)\n");
		return 1;
	}
	/* Leftovers of a failed attach would carry stale counts. */
	unpin_all();
	if (mkdir(PIN_DIR, 0700) && errno != EEXIST) {
		fprintf(stderr, "push-probe: mkdir " PIN_DIR ": %s\n", strerror(errno));
		return 1;
	}
	skel = push_probe_bpf__open_opts(&opts);
	if (!skel) {
		fprintf(stderr, "push-probe: open: %s\n", strerror(errno));
		goto cleanup;
	}
	skel->rodata->push_port = (__u16)env.port;
	skel->rodata->target_tgid = env.pid;
	memset((void *)skel->rodata->target_comm.s, 0, sizeof(skel->rodata->target_comm.s));
	strncpy((char *)skel->rodata->target_comm.s, env.comm, PUSH_PROBE_COMM_LEN - 1);
	setup_push_tracepoints(skel);
	if (env.no_syscalls) {
		bpf_program__set_autoload(skel->progs.push_sys_enter, false);
		bpf_program__set_autoload(skel->progs.push_sys_exit, false);
	}

	err = push_probe_bpf__load(skel);
	if (err) {
		fprintf(stderr, "push-probe: load: %s (-v for the verifier's log)\n", strerror(-err));
		err = 1;
		goto cleanup;
	}
	err = 1;
	if (ensure_mount(CGROUP_DIR, "cgroup2", CGROUP2_SUPER_MAGIC))
		goto cleanup;
	cg = open(CGROUP_DIR, O_RDONLY | O_DIRECTORY);
	if (cg < 0) {
		fprintf(stderr, "push-probe: open " CGROUP_DIR ": %s\n", strerror(errno));
		goto cleanup;
	}
	/* Attach each program and pin its link, so it outlives us. */
	bpf_object__for_each_program(prog, skel->obj) {
		if (!bpf_program__autoload(prog))
			continue;
		if (bpf_program__type(prog) == BPF_PROG_TYPE_CGROUP_SKB)
			link = bpf_program__attach_cgroup(prog, cg);
		else
			link = bpf_program__attach(prog);
		if (!link) {
			fprintf(stderr, "push-probe: attach %s: %s\n", bpf_program__name(prog), strerror(errno));
			goto cleanup;
		}
		snprintf(path, sizeof(path), PIN_DIR "/link_%s", bpf_program__name(prog));
		if (bpf_link__pin(link, path)) {
			fprintf(stderr, "push-probe: pin %s: %s\n", path, strerror(errno));
			bpf_link__destroy(link);
			goto cleanup;
		}
		/* The pin holds it now; our fd can go. */
		bpf_link__disconnect(link);
		bpf_link__destroy(link);
		n++;
	}
	if (env.pid)
		printf("push-probe: attached %d programs for port %u, pid %u, pinned under " PIN_DIR "/\n",
		       n, env.port, env.pid);
	else
		printf("push-probe: attached %d programs for port %u, comm %s, pinned under " PIN_DIR "/\n",
		       n, env.port, env.comm);
	err = 0;
cleanup:
	if (cg >= 0)
		close(cg);
	push_probe_bpf__destroy(skel);
	if (err)
		unpin_all();
	return err;
}

static int cmd_detach(void)
{
	int n;

	if (ensure_mount("/sys/fs/bpf", "bpf", BPF_FS_MAGIC))
		return 1;
	n = unpin_all();
	if (n)
		printf("push-probe: detached (%d pins removed)\n", n);
	else
		printf("push-probe: not attached\n");
	return 0;
}

static const char *prog_type_name(__u32 type)
{
	switch (type) {
	case BPF_PROG_TYPE_TRACEPOINT: return "tracepoint";
	case BPF_PROG_TYPE_TRACING: return "tp_btf";
	case BPF_PROG_TYPE_CGROUP_SKB: return "cgroup_skb";
	}
	return "other";
}

static int cmd_show(void)
{
	char path[PATH_MAX];
	struct dirent *e;
	int n = 0;
	DIR *d;

	if (ensure_mount("/sys/fs/bpf", "bpf", BPF_FS_MAGIC))
		return 1;
	d = opendir(PIN_DIR);
	if (!d || !attached()) {
		printf("push-probe: not attached\n");
		if (d)
			closedir(d);
		return 1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), PIN_DIR "/%s", e->d_name);
		int fd = bpf_obj_get(path);

		if (fd < 0) {
			printf("%-28s (cannot open: %s)\n", e->d_name, strerror(errno));
			continue;
		}
		if (!strncmp(e->d_name, "link_", 5)) {
			struct bpf_link_info li;
			struct bpf_prog_info pi;
			__u32 len = sizeof(li);
			int pfd;

			memset(&li, 0, sizeof(li));
			memset(&pi, 0, sizeof(pi));
			if (!bpf_obj_get_info_by_fd(fd, &li, &len) &&
			    (pfd = bpf_prog_get_fd_by_id(li.prog_id)) >= 0) {
				len = sizeof(pi);
				bpf_obj_get_info_by_fd(pfd, &pi, &len);
				close(pfd);
			}
			printf("link %-24s link_id %u prog_id %u %s %s run_cnt %llu\n",
			       e->d_name + 5, li.id, li.prog_id, prog_type_name(pi.type), pi.name,
			       (unsigned long long)pi.run_cnt);
			n++;
		} else {
			struct bpf_map_info mi;
			__u32 len = sizeof(mi);

			memset(&mi, 0, sizeof(mi));
			bpf_obj_get_info_by_fd(fd, &mi, &len);
			printf("map  %-24s map_id %u max_entries %u btf_id %u\n",
			       mi.name, mi.id, mi.max_entries, mi.btf_id);
		}
		close(fd);
	}
	closedir(d);
	return n ? 0 : 1;
}

static void print_ratio(double num, double den, const char *fmt)
{
	if (den == 0)
		printf(" %10s", "-");
	else
		printf(fmt, num / den);
}

static int cmd_report(void)
{
	struct probe_report r;
	static char json[16384];
	double payload;
	int err, i;

	if (ensure_mount("/sys/fs/bpf", "bpf", BPF_FS_MAGIC))
		return 1;
	err = probe_report_read(&r);
	if (err) {
		fprintf(stderr, "push-probe: %s\n", err == -ENOENT ? "not attached" : strerror(-err));
		return 1;
	}
	if (env.json) {
		if (!probe_report_json(&r, json, sizeof(json)))
			return 1;
		printf("%s\n", json);
		return 0;
	}
	payload = r.published ? (double)r.published_bytes / (double)r.published : 0;
	printf("%-10s %7s %5s %9s %10s %10s %10s %10s %10s %10s %10s\n", "transport", "conns",
	       "live", "delivered", "wireB/msg", "overhead", "segs/msg", "sysc/msg", "cpu_us/msg",
	       "conns/msg", "life_s");
	for (i = 0; i < PUSH_TRANSPORT_MAX; i++) {
		const struct probe_row *w = &r.tr[i];
		double d = (double)w->delivered;

		if (i == PUSH_TRANSPORT_NONE && !w->conns && !w->delivered)
			continue;
		printf("%-10s %7llu %5llu %9llu", probe_transport_name(i),
		       (unsigned long long)w->conns, (unsigned long long)w->live,
		       (unsigned long long)w->delivered);
		print_ratio((double)(w->tx_bytes + w->rx_bytes), d, " %10.1f");
		print_ratio((double)(w->tx_bytes + w->rx_bytes), d * payload, " %10.2f");
		print_ratio((double)(w->tx_segs + w->rx_segs), d, " %10.2f");
		print_ratio((double)w->syscalls, d, " %10.2f");
		print_ratio(w->cpu_ns / 1e3, d, " %10.2f");
		print_ratio((double)w->conns, d, " %10.4f");
		print_ratio((double)w->lifetime_ns / 1e9, (double)w->timed, " %10.2f");
		printf("\n");
	}
	printf("\npushd: cpu %.3f s, %llu syscalls on no connection (%.3f s), %llu connections opened\n",
	       (double)r.cpu_ns / 1e9, (unsigned long long)r.syscalls, (double)r.syscall_ns / 1e9,
	       (unsigned long long)r.conns_opened);
	printf("device: %llu reads by pushd returning %llu records, %llu bytes; %llu published, mean payload %.1f B\n",
	       (unsigned long long)r.dev_reads, (unsigned long long)r.dev_records,
	       (unsigned long long)r.dev_bytes, (unsigned long long)r.published, payload);
	for (i = 0; i < PUSH_LAT_MAX; i++) {
		const struct probe_lat *l = &r.lat[i];

		printf("latency %-16s n=%llu", i == PUSH_LAT_PUBLISH ? "write->commit" : "commit->pushd",
		       (unsigned long long)l->count);
		if (l->count)
			printf(" mean %.1f us, p50 <= %.1f us, p99 <= %.1f us, max %.1f us",
			       (double)l->sum_ns / (double)l->count / 1e3, (double)l->p50_ns / 1e3,
			       (double)l->p99_ns / 1e3, (double)l->max_ns / 1e3);
		printf("\n");
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "comm", required_argument, NULL, 'c' },
		{ "pid", required_argument, NULL, 'P' },
		{ "no-syscalls", no_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd;
	int c;

	while ((c = getopt_long(argc, argv, "p:c:jvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_uint(optarg, 1, 65535, &env.port))
				goto bad_arg;
			break;
		case 'c':
			if (!*optarg || strlen(optarg) >= PUSH_PROBE_COMM_LEN)
				goto bad_arg;
			env.comm = optarg;
			break;
		case 'P':
			if (parse_uint(optarg, 1, INT_MAX, &env.pid))
				goto bad_arg;
			break;
		case 'j':
			env.json = 1;
			break;
		case 'S':
			env.no_syscalls = 1;
			break;
		case 'v':
			env.verbose++;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fputs(usage, stderr);
		return 2;
	}
	cmd = argv[optind];
	libbpf_set_print(print_fn);
	if (!strcmp(cmd, "attach"))
		return cmd_attach();
	if (!strcmp(cmd, "detach"))
		return cmd_detach();
	if (!strcmp(cmd, "show"))
		return cmd_show();
	if (!strcmp(cmd, "report"))
		return cmd_report();
	fprintf(stderr, "push-probe: unknown command '%s'\n%s", cmd, usage);
	return 2;

bad_arg:
	fprintf(stderr, "push-probe: bad value '%s' for -%c\n", optarg, c == 'P' ? 'P' : c);
	return 2;
}
