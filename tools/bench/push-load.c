// SPDX-License-Identifier: GPL-2.0
/*
 * push-load.c - load generator for pushd and nginx+nchan: N subscribers over
 * SSE, WebSocket or long-poll, and an optional publisher at fixed rates.
 *
 *   push-load -t sse -c 1000 --pub /dev/push -r 20,100,500 -d 4 \
 *             http://127.0.0.1:8080/sub/bench
 *   push-load --nchan -t ws -c 1000 --pub http://127.0.0.1:8090/pub/bench \
 *             -r 20,100,500 -d 4 http://127.0.0.1:8090/sub/bench
 *   push-load -c 0 --pub http://127.0.0.1:8080/pub/bench -r 100 -d 10
 *
 * One thread runs every subscriber on epoll; a second one publishes.  Each
 * payload carries "#s=SEQ #t=NS ": the publish sequence number, checked
 * per connection for holes and reordering whatever the server's ids look
 * like, and the CLOCK_REALTIME of the publish, for the latency histogram.
 * pushd's JSON ids are also checked to increase, and its gap objects
 * counted.  Loopback only; every run is bounded in count and time.
 *
 * The rates are steps of --duration seconds each (one length for all, or
 * one for each); for every step the
 * summary gives the deliveries per second (messages received, summed over
 * the subscribers) measured while the step ran, the server's CPU use
 * (--server-pid) and the publish-to-receive latency of its messages.
 */
#include "load.h"

struct opts o = {
	.transport = T_SSE, .flavor = F_PUSHD, .conns = 100, .inflight = 100,
	.channel = "bench", .rates = { 100 }, .nrates = 1, .durations = { 5 }, .ndurations = 1,
	.size = 64, .pub_window = 32, .sources = 1, .drain = 5, .settle = 1, .connect_timeout = 120,
};

struct sub_url sub_urls[MAX_URLS];
int nsub_urls;

struct conn *conns;
int epfd;
volatile sig_atomic_t stop_flag;

/* Publisher state, shared with its thread. */
struct pub_state pub;

/* Totals over all subscribers. */
struct totals st;

struct step_stat steps[MAX_STEPS];
struct step_stat drain_stat;
int cur_step = -1;

/* ---- command line ------------------------------------------------------------ */

/* http://HOST:PORT/path with HOST a loopback address; returns 0 or -1. */
int parse_url(const char *url, struct sockaddr_in *sa, char *host, size_t hn,
		     char *path, size_t pn)
{
	char h[48];
	unsigned port = 80;

	if (strncmp(url, "http://", 7))
		return -1;
	url += 7;
	size_t l = strcspn(url, ":/");
	if (!l || l >= sizeof(h))
		return -1;
	memcpy(h, url, l);
	h[l] = 0;
	url += l;
	if (*url == ':') {
		char *e;
		port = strtoul(url + 1, &e, 10);
		if (e == url + 1 || !port || port > 65535)
			return -1;
		url = e;
	}
	if (*url != '/' || strlen(url) >= pn)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	if (!strcmp(h, "localhost"))
		sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, h, &sa->sin_addr) != 1)
		return -1;
	if ((ntohl(sa->sin_addr.s_addr) >> 24) != 127)
		return -1;	/* loopback only */
	snprintf(host, hn, "%s:%u", h, port);
	snprintf(path, pn, "%s", url);
	return 0;
}

double parse_num(const char *s, const char *what, double min, double max)
{
	char *e;
	errno = 0;
	double v = strtod(s, &e);
	if (errno || e == s || *e || v < min || v > max)
		die("bad %s '%s' (%g..%g)", what, s, min, max);
	return v;
}

void usage(FILE *f)
{
	fputs("Usage: push-load [OPTION]... URL [URL]...\n"
	      "Open subscribers to URL (http://127.x.x.x:PORT/path), publish at fixed rates,\n"
	      "count deliveries, check sequence numbers, measure latency.  With several\n"
	      "URLs (at most 8: the nodes of a cluster) subscriber i opens URL i mod n.\n\n"
	      "  -t, --transport T     sse | ws | longpoll (sse)\n"
	      "      --nchan           talk to nginx+nchan (its long-poll: Etag/If-Modified-Since)\n"
	      "  -c, --conns N         subscribers (100); 0: publish only\n"
	      "      --inflight N      connections handshaking at once (100)\n"
	      "      --ramp R          at most R new connections per second (unlimited)\n"
	      "      --pub TARGET      publish to TARGET: a device path (/dev/push) or an\n"
	      "                        http://127.x.x.x:PORT/pub/CH URL (POST)\n"
	      "      --channel CH      channel for device publishing (bench)\n"
	      "      --pub-window N    POSTs in flight at once, pipelined (32)\n"
	      "  -r, --rate R[,R...]   messages per second for each step (100); 0: flat out\n"
	      "  -d, --duration S[,S...]  seconds of each step; the last repeats (5)\n"
	      "  -n, --count N         stop publishing after N messages\n"
	      "  -s, --size B          payload bytes (64, at least the #s= #t= stamp)\n"
	      "      --settle S        wait S s after connecting before publishing (1)\n"
	      "      --drain S         after publishing, wait up to S s for deliveries (5)\n"
	      "      --hold S          without --pub: keep the subscribers S s, then report\n"
	      "      --connect-timeout S  give up connecting after S s (120)\n"
	      "      --sources N       bind the subscribers to N source addresses in turn,\n"
	      "                        127.0.0.1, 127.0.0.2, ... (1: no bind); one address\n"
	      "                        has only the local port range for one server port\n"
	      "      --ready-file F    create F once every subscriber is connected\n"
	      "      --server-pid P[,P...]  measure these processes' CPU and memory\n"
	      "      --json            print the summary as one JSON object\n"
	      "  -v                    a line per second on stderr (-vv: connection errors)\n"
	      "  -h, --help            this text\n\n"
	      "Examples:\n"
	      "  push-load -t ws -c 1000 --pub /dev/push -r 20,100 -d 4 http://127.0.0.1:8080/sub/bench\n"
	      "  push-load --nchan -t sse -c 1000 --pub http://127.0.0.1:8090/pub/bench \\\n"
	      "            -r 20,100 -d 4 http://127.0.0.1:8090/sub/bench\n"
	      "  push-load -c 10000 --hold 5 --ready-file /tmp/r http://127.0.0.1:8080/sub/idle\n"
	      "Exit status: 0; 1 if a subscriber failed or lost messages; 2 on bad usage.\n", f);
}

void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "transport", 1, 0, 't' }, { "nchan", 0, 0, 'N' },
		{ "conns", 1, 0, 'c' }, { "inflight", 1, 0, 'I' }, { "ramp", 1, 0, 'R' },
		{ "pub", 1, 0, 'P' }, { "channel", 1, 0, 'C' }, { "rate", 1, 0, 'r' },
		{ "duration", 1, 0, 'd' }, { "count", 1, 0, 'n' }, { "size", 1, 0, 's' },
		{ "settle", 1, 0, 'S' }, { "drain", 1, 0, 'D' }, { "hold", 1, 0, 'H' },
		{ "connect-timeout", 1, 0, 'T' }, { "pub-window", 1, 0, 'W' },
		{ "sources", 1, 0, 'A' }, { "ready-file", 1, 0, 'F' },
		{ "server-pid", 1, 0, 'p' }, { "json", 0, 0, 'j' }, { "help", 0, 0, 'h' },
		{ 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "t:c:r:d:n:s:vh", lo, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (!strcmp(optarg, "sse"))
				o.transport = T_SSE;
			else if (!strcmp(optarg, "ws"))
				o.transport = T_WS;
			else if (!strcmp(optarg, "longpoll"))
				o.transport = T_LONGPOLL;
			else
				die("bad transport '%s' (sse, ws, longpoll)", optarg);
			break;
		case 'N': o.flavor = F_NCHAN; break;
		case 'c': o.conns = parse_num(optarg, "--conns", 0, 1000000); break;
		case 'I': o.inflight = parse_num(optarg, "--inflight", 1, 100000); break;
		case 'R': o.ramp = parse_num(optarg, "--ramp", 0, 1e7); break;
		case 'P': o.pub = optarg; break;
		case 'C':
			if (!*optarg || strlen(optarg) > 64 || strspn(optarg,
			    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") !=
			    strlen(optarg))
				die("bad channel '%s'", optarg);
			o.channel = optarg;
			break;
		case 'r': {
			char *s = strdup(optarg), *save = NULL;
			o.nrates = 0;
			for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				if (o.nrates == MAX_STEPS)
					die("at most %d rates", MAX_STEPS);
				o.rates[o.nrates++] = parse_num(t, "--rate", 0, 1e7);
			}
			free(s);
			if (!o.nrates)
				die("empty --rate");
			break;
		}
		case 'd': {
			char *s = strdup(optarg), *save = NULL;
			o.ndurations = 0;
			for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				if (o.ndurations == MAX_STEPS)
					die("at most %d durations", MAX_STEPS);
				o.durations[o.ndurations++] = parse_num(t, "--duration", 0.1, 3600);
			}
			free(s);
			if (!o.ndurations)
				die("empty --duration");
			break;
		}
		case 'n': o.count = parse_num(optarg, "--count", 1, 1e12); break;
		case 's': o.size = parse_num(optarg, "--size", 1, 1 << 20); break;
		case 'S': o.settle = parse_num(optarg, "--settle", 0, 3600); break;
		case 'D': o.drain = parse_num(optarg, "--drain", 0, 3600); break;
		case 'H': o.hold = parse_num(optarg, "--hold", 0, 86400); break;
		case 'T': o.connect_timeout = parse_num(optarg, "--connect-timeout", 1, 3600); break;
		case 'F': o.ready_file = optarg; break;
		case 'A': o.sources = parse_num(optarg, "--sources", 1, 254); break;
		case 'W': o.pub_window = parse_num(optarg, "--pub-window", 1, 1024); break;
		case 'p': {
			char *s = strdup(optarg), *save = NULL;
			for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				if (o.npids == MAX_PIDS)
					die("at most %d pids", MAX_PIDS);
				o.pids[o.npids++] = parse_num(t, "--server-pid", 1, 1 << 30);
			}
			free(s);
			break;
		}
		case 'j': o.json = true; break;
		case 'v': o.verbose++; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (o.conns > 0) {
		if (optind == argc || argc - optind > MAX_URLS)
			die("one to %d subscriber URLs needed (see --help)", MAX_URLS);
		for (; optind < argc; optind++, nsub_urls++) {
			struct sub_url *u = &sub_urls[nsub_urls];
			if (parse_url(argv[optind], &u->addr, u->host, sizeof(u->host),
				      u->path, sizeof(u->path)) < 0)
				die("bad URL %s (http://127.x.x.x:PORT/path only)", argv[optind]);
		}
	} else if (!o.pub) {
		die("nothing to do: no subscribers and no --pub");
	}
	if (o.pub && o.hold)
		die("--hold is for idle subscribers, without --pub");
}

/* ---- main loop and report ------------------------------------------------------- */

void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

void raise_nofile(void)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)o.conns + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < want)
			fprintf(stderr, "push-load: only %lu file descriptors\n",
				(unsigned long)rl.rlim_cur);
	}
}

void snap(struct step_stat *s, bool start)
{
	double t = now_mono();
	uint64_t cpu = server_cpu();
	struct timespec ts;
	uint64_t self = 0;

	if (!clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts))
		self = ts.tv_sec * 1000000000ull + ts.tv_nsec;

	if (start) {
		s->t0 = t;
		s->msgs0 = st.msgs;
		s->bytes0 = st.bytes;
		s->cpu0 = cpu;
		s->self0 = self;
	} else {
		s->t1 = t;
		s->msgs1 = st.msgs;
		s->bytes1 = st.bytes;
		s->cpu1 = cpu;
		s->self1 = self;
	}
}

int alive(void)
{
	return st.established - st.dropped;
}

void report(double t_connect, uint64_t mem_before, uint64_t mem_after)
{
	uint64_t published = atomic_load(&pub.published);
	uint64_t expected = published * (uint64_t)st.established;
	double hz = sysconf(_SC_CLK_TCK);
	struct rusage ru;
	const char *tn[] = { "sse", "ws", "longpoll" };
	uint64_t minm = UINT64_MAX, maxm = 0;
	uint64_t all_hist[HIST_BUCKETS] = { 0 }, all_n = 0;

	for (int i = 0; i < o.conns; i++) {
		if (!conns[i].established)
			continue;
		if (conns[i].msgs < minm)
			minm = conns[i].msgs;
		if (conns[i].msgs > maxm)
			maxm = conns[i].msgs;
	}
	if (minm == UINT64_MAX)
		minm = 0;
	for (int k = 0; k < o.nrates; k++) {
		for (int b = 0; b < HIST_BUCKETS; b++)
			all_hist[b] += steps[k].hist[b];
		all_n += steps[k].lat_n;
	}
	getrusage(RUSAGE_SELF, &ru);
	double self_cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
			  ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	double span = st.t_last_rx > pub.t0 ? st.t_last_rx - pub.t0 : 0;
	double dps = span > 0 ? st.msgs / span : 0;
	double peak = 0;
	for (int k = 0; k < o.nrates && pub.started; k++) {
		if (steps[k].rx / step_len(k) > peak)
			peak = steps[k].rx / step_len(k);
	}

	if (!o.json && !o.conns) {
		double d = pub.t_end - pub.t0;
		printf("sent %" PRIu64 " messages in %.2fs (%.0f/s), %" PRIu64 " errors%s%s\n",
		       published, d, d > 0 ? published / d : 0, (uint64_t)atomic_load(&pub.errors),
		       pub.err[0] ? ": " : "", pub.err);
	} else if (!o.json) {
		printf("%s %s: %d/%d subscribers (%d failed, %d dropped) in %.1fs; "
		       "published %" PRIu64 " (%" PRIu64 " errors); received %" PRIu64
		       "/%" PRIu64 " (%.1f%%), %.0f deliveries/s, peak %.0f/s; "
		       "holes %" PRIu64 " gaps %" PRIu64 "; latency p50 %.0fus p99 %.0fus\n",
		       o.flavor == F_NCHAN ? "nchan" : "pushd", tn[o.transport],
		       st.established, o.conns, st.failed, st.dropped, t_connect,
		       published, (uint64_t)atomic_load(&pub.errors), st.msgs, expected,
		       expected ? 100.0 * st.msgs / expected : 0, dps, peak, st.holes, st.gaps,
		       hist_quantile(all_hist, all_n, 0.5), hist_quantile(all_hist, all_n, 0.99));
		for (int k = 0; k < o.nrates && pub.started && o.conns; k++) {
			struct step_stat *s = &steps[k];
			double d = s->t1 - s->t0;
			printf("  step %d: rate %g/s (published %.0f/s) offered %.0f/s delivered %.0f/s server cpu %.0f%%"
			       " latency p50 %.0fus p99 %.0fus\n", k, o.rates[k],
			       (double)atomic_load(&s->published) / step_len(k),
			       (double)atomic_load(&s->published) / step_len(k) * st.established,
			       s->rx / step_len(k),
			       d > 0 ? 100.0 * (s->cpu1 - s->cpu0) / hz / d : 0,
			       hist_quantile(s->hist, s->lat_n, 0.5),
			       hist_quantile(s->hist, s->lat_n, 0.99));
		}
		if (o.npids && o.hold)
			printf("  server memory %" PRIu64 " KiB -> %" PRIu64 " KiB: %.0f bytes per subscriber\n",
			       mem_before, mem_after, st.established ?
			       1024.0 * ((double)mem_after - mem_before) / st.established : 0);
		if (st.first_error[0])
			printf("  first error: %s\n", st.first_error);
		if (pub.err[0])
			printf("  publisher: %s\n", pub.err);
	} else {
		printf("{\"server\":\"%s\",\"transport\":\"%s\",\"conns\":%d,\"established\":%d,"
		       "\"failed\":%d,\"fail_connect\":%" PRIu64 ",\"fail_status\":%" PRIu64
		       ",\"fail_closed\":%" PRIu64 ",\"dropped\":%d,\"drop_slow\":%" PRIu64
		       ",\"drop_shutdown\":%" PRIu64 ",\"drop_eof\":%" PRIu64 ",\"drop_error\":%"
		       PRIu64 ",\"drop_ws\":%" PRIu64 ",\"connect_s\":%.3f,",
		       o.flavor == F_NCHAN ? "nchan" : "pushd", tn[o.transport], o.conns,
		       st.established, st.failed, st.fail_connect, st.fail_status, st.fail_closed,
		       st.dropped, st.drop_slow, st.drop_shutdown, st.drop_eof, st.drop_error,
		       st.drop_ws_other, t_connect);
		printf("\"published\":%" PRIu64 ",\"pub_errors\":%" PRIu64 ",\"pub_s\":%.3f,"
		       "\"received\":%" PRIu64 ",\"expected\":%" PRIu64 ",\"bytes\":%" PRIu64
		       ",\"gaps\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"holes\":%" PRIu64
		       ",\"missed\":%" PRIu64 ",\"reorders\":%" PRIu64 ",\"id_errors\":%" PRIu64
		       ",\"per_conn_min\":%" PRIu64 ",\"per_conn_max\":%" PRIu64
		       ",\"deliveries_per_s\":%.1f,\"peak_per_s\":%.1f,\"ws_pings\":%" PRIu64
		       ",\"lat_p50_us\":%.0f,\"lat_p99_us\":%.0f,\"lat_max_us\":%.0f,"
		       "\"self_cpu_s\":%.2f,\"mem_before_kb\":%" PRIu64 ",\"mem_after_kb\":%" PRIu64
		       ",\"steps\":[",
		       published, (uint64_t)atomic_load(&pub.errors),
		       pub.started ? pub.t_end - pub.t0 : 0, st.msgs, expected, st.bytes, st.gaps,
		       st.lost, st.holes, st.missed, st.reorders, st.id_errors, minm, maxm, dps,
		       peak, st.ws_pings, hist_quantile(all_hist, all_n, 0.5),
		       hist_quantile(all_hist, all_n, 0.99), hist_quantile(all_hist, all_n, 1.0),
		       self_cpu, mem_before, mem_after);
		for (int k = 0; k < o.nrates && pub.started; k++) {
			struct step_stat *s = &steps[k];
			double d = s->t1 - s->t0;
			printf("%s{\"rate\":%g,\"published\":%" PRIu64 ",\"offered_per_s\":%.1f,\"delivered_per_s\":%.1f,"
			       "\"server_cpu\":%.3f,\"gen_cpu\":%.3f,\"window_s\":%.3f,\"lat_p50_us\":%.0f,\"lat_p99_us\":%.0f}",
			       k ? "," : "", o.rates[k], (uint64_t)atomic_load(&s->published),
			       (double)atomic_load(&s->published) / step_len(k) * st.established,
			       s->rx / step_len(k),
			       d > 0 ? (s->cpu1 - s->cpu0) / hz / d : 0,
			       d > 0 ? (s->self1 - s->self0) / 1e9 / d : 0, d,
			       hist_quantile(s->hist, s->lat_n, 0.5),
			       hist_quantile(s->hist, s->lat_n, 0.99));
		}
		printf("],\"drain_server_cpu_s\":%.3f,\"drain_s\":%.3f,\"rx_span_s\":%.3f,\"error\":\"",
	       (drain_stat.cpu1 - drain_stat.cpu0) / hz, drain_stat.t1 - drain_stat.t0, span);
		for (const char *p = st.first_error[0] ? st.first_error : pub.err; *p; p++)
			if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
				putchar(*p);
		printf("\"}\n");
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	conns = calloc(o.conns ? o.conns : 1, sizeof(*conns));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!conns || epfd < 0)
		die("setup: %s", strerror(errno));
	for (int i = 0; i < o.conns; i++)
		conns[i].fd = -1;
	if (o.pub)
		pub_open();

	enum phase ph = o.conns ? PH_CONNECT : PH_SETTLE;
	double t_start = now_mono(), t_phase = t_start, t_connect = 0, t_tick = t_start;
	uint64_t tick_msgs = 0, tick_bytes = 0, mem_before = server_mem_kb(), mem_after = 0;
	int next = 0;
	struct epoll_event evs[128];

	while (ph != PH_DONE) {
		double now = now_mono();

		if (stop_flag && ph != PH_DRAIN) {
			if (ph == PH_RUN || ph == PH_HOLD || !pub.started)
				ph = PH_DONE;
		}
		switch (ph) {
		case PH_CONNECT: {
			int budget = o.inflight - st.inflight;
			if (o.ramp > 0) {
				int allowed = (int)((now - t_start) * o.ramp) + 1 - st.started;
				if (allowed < budget)
					budget = allowed;
			}
			while (budget-- > 0 && next < o.conns)
				conn_start(&conns[next++]);
			if (st.established + st.failed == o.conns ||
			    now - t_start > o.connect_timeout) {
				t_connect = now - t_start;
				ph = PH_SETTLE;
				t_phase = now;
				if (o.verbose)
					fprintf(stderr, "push-load: %d connected, %d failed in %.2fs\n",
						st.established, st.failed, t_connect);
			}
			break;
		}
		case PH_SETTLE:
			if (now - t_phase < o.settle && o.conns)
				break;
			if (o.ready_file) {
				FILE *f = fopen(o.ready_file, "w");
				if (f) {
					fprintf(f, "%d\n", st.established);
					fclose(f);
				}
			}
			if (o.pub) {
				pub_start();
				cur_step = 0;
				snap(&steps[0], true);
				ph = PH_RUN;
			} else {
				snap(&drain_stat, true);	/* idle CPU while holding */
				ph = PH_HOLD;
			}
			t_phase = now;
			break;
		case PH_RUN: {
			int k = step_at(now - pub.t0);
			bool done = atomic_load(&pub.done);
			while (cur_step < o.nrates && (k > cur_step || done)) {
				snap(&steps[cur_step], false);
				if (++cur_step < o.nrates)
					snap(&steps[cur_step], true);
			}
			if (done) {
				snap(&drain_stat, true);
				ph = PH_DRAIN;
				t_phase = now;
			}
			break;
		}
		case PH_DRAIN:
			if (st.msgs >= atomic_load(&pub.published) * (uint64_t)alive() ||
			    now - t_phase >= o.drain || stop_flag || !alive()) {
				snap(&drain_stat, false);
				ph = PH_DONE;
			}
			break;
		case PH_HOLD:
			if (now - t_phase >= o.hold) {
				snap(&drain_stat, false);
				mem_after = server_mem_kb();
				ph = PH_DONE;
			}
			break;
		default:
			break;
		}
		if (ph == PH_DONE)
			break;
		if (now - t_tick >= 1.0) {
			if (o.verbose)
				fprintf(stderr, "push-load: %.0fs %d up %d failed %d dropped: "
					"%.0f msgs/s %.0f KB/s published %" PRIu64 "\n",
					now - t_start, st.established, st.failed, st.dropped,
					(st.msgs - tick_msgs) / (now - t_tick),
					(st.bytes - tick_bytes) / (now - t_tick) / 1024,
					(uint64_t)atomic_load(&pub.published));
			tick_msgs = st.msgs;
			tick_bytes = st.bytes;
			t_tick = now;
		}
		int n = epoll_wait(epfd, evs, 128, ph == PH_CONNECT ? 5 : 20);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->state != CS_DEAD)
				conn_event(c, evs[i].events);
		}
	}
	if (!mem_after)
		mem_after = server_mem_kb();
	stop_flag = 1;
	if (pub.started)
		pthread_join(pub.thread, NULL);
	report(t_connect, mem_before, mem_after);
	if (o.verbose)
		fprintf(stderr, "push-load: %d subscribers, %" PRIu64 " messages, %" PRIu64 " bytes\n",
			st.established, st.msgs, st.bytes);
	for (int i = 0; i < o.conns; i++)
		if (conns[i].state != CS_DEAD && conns[i].state != CS_IDLE)
			conn_close(&conns[i]);
	free(conns);
	bool bad = st.failed || st.dropped || st.holes || st.reorders || st.id_errors ||
		   st.gaps || atomic_load(&pub.errors) ||
		   (o.pub && o.conns && st.msgs < atomic_load(&pub.published) * (uint64_t)st.established);
	return bad ? 1 : 0;
}
