// SPDX-License-Identifier: GPL-2.0
/* load_util.c - push-load's clocks, errors, buffers, server accounting and latency histogram. */
#include "load.h"

double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint64_t now_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("push-load: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

void note_error(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (dst[0])
		return;
	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

/* ---- buffers ------------------------------------------------------------ */

/* Makes room for n more bytes; returns false past MAX_BUFFER. */
bool buf_reserve(struct buf *b, size_t n)
{
	size_t want = (size_t)b->len + n;

	if (want <= b->cap)
		return true;
	if (want > MAX_BUFFER)
		return false;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < want)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		die("out of memory");
	b->p = p;
	b->cap = cap;
	return true;
}

bool buf_add(struct buf *b, const void *p, size_t n)
{
	if (!buf_reserve(b, n))
		return false;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return true;
}

void buf_consume(struct buf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

void buf_free(struct buf *b)
{
	free(b->p);
	*b = (struct buf){ 0 };
}

/* ---- server process accounting ------------------------------------------- */

/* utime + stime of the --server-pid processes, in clock ticks. */
uint64_t server_cpu(void)
{
	uint64_t sum = 0;

	for (int i = 0; i < o.npids; i++) {
		char path[64], line[1024];
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)o.pids[i]);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(line, 1, sizeof(line) - 1, f);
		fclose(f);
		line[n] = 0;
		char *p = strrchr(line, ')');
		if (!p)
			continue;
		unsigned long ut = 0, stm = 0;
		/* fields 3..15 after the comm: state ppid ... utime stime */
		if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			   &ut, &stm) == 2)
			sum += ut + stm;
	}
	return sum;
}

/* Proportional set size (or RSS) of the --server-pid processes, in KiB. */
uint64_t server_mem_kb(void)
{
	uint64_t sum = 0;

	for (int i = 0; i < o.npids; i++) {
		char path[64], line[256];
		uint64_t pss = 0, rss = 0, v;
		snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)o.pids[i]);
		FILE *f = fopen(path, "r");
		if (f) {
			while (fgets(line, sizeof(line), f)) {
				if (sscanf(line, "Pss: %" SCNu64, &v) == 1)
					pss = v;
				else if (sscanf(line, "Rss: %" SCNu64, &v) == 1)
					rss = v;
			}
			fclose(f);
		}
		sum += pss ? pss : rss;
	}
	return sum;
}

/* ---- latency histogram: log-linear, 32 sub-buckets per power of two ------ */

unsigned hist_bucket(uint64_t us)
{
	if (us < 64)
		return us;
	unsigned e = 63 - __builtin_clzll(us);
	if (e > 45)
		return HIST_BUCKETS - 1;
	unsigned b = 64 + (e - 6) * 32 + ((us >> (e - 5)) & 31);
	return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

uint64_t hist_value(unsigned b)
{
	if (b < 64)
		return b;
	unsigned e = (b - 64) / 32 + 6, sub = (b - 64) % 32;
	/* middle of the bucket */
	return ((32ull + sub) << (e - 5)) + (1ull << (e - 6));
}

/* The q-quantile in microseconds, or -1 without samples. */
double hist_quantile(const uint64_t *h, uint64_t n, double q)
{
	if (!n)
		return -1;
	uint64_t want = (uint64_t)(q * (n - 1)) + 1, seen = 0;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		seen += h[b];
		if (seen >= want)
			return hist_value(b);
	}
	return -1;
}

/*
 * Bind subscriber i's socket to source address 127.0.0.1 + i % --sources
 * (nothing with one source).  The port is left to connect(), which needs it
 * unique only per 4-tuple: each address has the whole local port range.
 */
int bind_source(int fd, int i)
{
	int one = 1;
	struct sockaddr_in src = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK + i % o.sources) };

	if (o.sources <= 1)
		return 0;
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	return bind(fd, (struct sockaddr *)&src, sizeof(src));
}

/* Step k's length, its start in seconds after step 0's, and the step at t s. */
double step_len(int k)
{
	return o.durations[k < o.ndurations ? k : o.ndurations - 1];
}

double step_start(int k)
{
	static double start[MAX_STEPS + 1];
	static bool done;

	if (!done) {
		for (int i = 0; i < MAX_STEPS; i++)
			start[i + 1] = start[i] + step_len(i);
		done = true;
	}
	return start[k < MAX_STEPS ? k : MAX_STEPS];
}

/* on every delivery: at most o.nrates comparisons */
int step_at(double t)
{
	int k = 0;

	while (k < o.nrates && t >= step_start(k + 1))
		k++;
	return k;
}
