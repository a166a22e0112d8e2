// SPDX-License-Identifier: GPL-2.0
/*
 * pushd - deliver what is published on /dev/push to web clients over
 * long-polling, Server-Sent Events and WebSocket.
 *
 * Threads: the main thread only waits for signals; the hub thread
 * (core/hub_thread.c) reads the device through io_uring, fans messages
 * out and drives WebSocket sockets; libmicrohttpd's thread (http.c)
 * parses HTTP and runs long-poll and SSE responses.  docs/PUSHD.md has
 * the design and the layout.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "core/config.h"
#include "core/hub.h"
#include "protocol/chan.h"
#include "server/auth.h"
#include "server/guard.h"
#include "server/conffile.h"
#include "server/http.h"

static const char usage[] =
"Usage: pushd [OPTION]...\n"
"Serve the messages of /dev/push to web clients (long-poll, SSE, WebSocket).\n"
"\n"
"  --listen ADDR:PORT     address to listen on (127.0.0.1:8080; [::1]:8080 for IPv6)\n"
"  --pub-listen ADDR:PORT a second address, for publishing only (POST /pub/CH,\n"
"                         /stats, /metrics, /healthz), on a thread of its own:\n"
"                         POSTs there never wait behind deliveries\n"
"  --device PATH          the push device (/dev/push)\n"
"  --reader MODE          how the device is read: mmap (its read-only mapping:\n"
"                         no copy, no system call per batch), read (read()\n"
"                         through io_uring) or auto (mmap if offered; read)\n"
"  --sse-path PATH        who writes SSE events: hub (the hub thread sends each batch\n"
"                         straight to the socket: one syscall) or mhd (libmicrohttpd,\n"
"                         resumed per delivery); over TLS always mhd\n"
"  --token-file F         POST /pub needs 'Authorization: Bearer <first line of F>';\n"
"                         without it only loopback clients may publish\n"
"  --allow-origin O       CORS: Access-Control-Allow-Origin value, and one more origin\n"
"                         whose pages may open WebSockets and publish ('*': any may\n"
"                         read, none publish)\n"
"  --allow-host NAME      a Host name pushd answers to besides its --listen\n"
"                         address and localhost ('.example.com': subdomains too); repeatable\n"
"  --trusted-proxy ADDR   a reverse proxy whose last X-Forwarded-For entry is\n"
"                         the client's address; repeatable\n"
"  --private PATTERN      channels that need a token to subscribe: a name, or\n"
"                         'prefix*' ('user.*'); repeatable\n"
"  --jwt-secret-file F    HS256 secret of the tokens (32 bytes or more)\n"
"  --jwt-key-file F       PEM public key of the tokens: EC P-256 (ES256) or RSA (RS256)\n"
"  --jwt-issuer ISS       take only tokens whose \"iss\" is ISS\n"
"  --jwt-audience AUD     take only tokens whose \"aud\" names AUD\n"
"  --jwt-require-exp      take only tokens with an \"exp\"\n"
"  --cert F --key F       serve HTTPS/WSS with this PEM certificate and key\n"
"  --user U               drop root for user U once the device and port are open\n"
"  --heartbeat S          SSE comment / WebSocket ping every S seconds (15)\n"
"  --poll-timeout S       long-poll waits at most S seconds (30)\n"
"  --max-queue BYTES      a client with more queued is cut off as slow (1048576)\n"
"  --max-conns N          connections in total (60000)\n"
"  --max-conns-per-ip N   connections per client address (unlimited)\n"
"  --conn-memory BYTES    libmicrohttpd memory per connection: bounds URL and\n"
"                         headers, and costs that much per subscriber (3072)\n"
"  --max-channels N       channels with subscribers at once (100000)\n"
"  --header-timeout S     a request head must be complete within S seconds (10)\n"
"  --ping-misses N        close a WebSocket after N unanswered pings (3)\n"
"  --close-timeout S      a stream being closed (slow, shutdown, expired token)\n"
"                         is cut S seconds later, read or not (60)\n"
"  --replay-cache BYTES   resume items shared by resuming clients (16777216)\n"
"  --bridge-status F      in a cluster: the status file of push-bridge, shown\n"
"                         in /stats and /metrics beside the ingress queue\n"
"  --config FILE          read these settings from FILE first, one 'name = value'\n"
"                         a line (pushd(8)); the command line wins\n"
"  -v, --verbose          log more\n"
"  -h, --help             this text\n"
"  -V, --version          the version\n"
"\n"
"Examples:\n"
"  pushd --listen 0.0.0.0:8080 --token-file /etc/pushd/token --user nobody\n"
"  curl -N -H 'Accept: text/event-stream' http://127.0.0.1:8080/sub/chat\n"
"  echo '@chat hello' > /dev/push\n";

enum {
	OPT_LISTEN = 256, OPT_PUB_LISTEN, OPT_DEVICE, OPT_READER, OPT_SSE_PATH, OPT_TOKEN, OPT_ORIGIN, OPT_CERT, OPT_KEY, OPT_USER,
	OPT_HEARTBEAT, OPT_POLL_TIMEOUT, OPT_MAX_QUEUE, OPT_MAX_CONNS, OPT_MAX_CONNS_IP,
	OPT_CONN_MEMORY, OPT_MAX_CHANNELS, OPT_HEADER_TIMEOUT, OPT_PING_MISSES, OPT_CLOSE_TIMEOUT, OPT_REPLAY_CACHE,
	OPT_ALLOW_HOST, OPT_TRUSTED_PROXY, OPT_PRIVATE, OPT_JWT_SECRET, OPT_JWT_KEY, OPT_JWT_ISSUER, OPT_JWT_AUDIENCE, OPT_JWT_REQUIRE_EXP,
	OPT_BRIDGE_STATUS, OPT_CONFIG,
};

static const struct option options[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "pub-listen", required_argument, NULL, OPT_PUB_LISTEN },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "reader", required_argument, NULL, OPT_READER },
	{ "sse-path", required_argument, NULL, OPT_SSE_PATH },
	{ "token-file", required_argument, NULL, OPT_TOKEN },
	{ "allow-origin", required_argument, NULL, OPT_ORIGIN },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "user", required_argument, NULL, OPT_USER },
	{ "heartbeat", required_argument, NULL, OPT_HEARTBEAT },
	{ "poll-timeout", required_argument, NULL, OPT_POLL_TIMEOUT },
	{ "max-queue", required_argument, NULL, OPT_MAX_QUEUE },
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
	{ "max-conns-per-ip", required_argument, NULL, OPT_MAX_CONNS_IP },
	{ "conn-memory", required_argument, NULL, OPT_CONN_MEMORY },
	{ "max-channels", required_argument, NULL, OPT_MAX_CHANNELS },
	{ "header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT },
	{ "ping-misses", required_argument, NULL, OPT_PING_MISSES },
	{ "close-timeout", required_argument, NULL, OPT_CLOSE_TIMEOUT },
	{ "replay-cache", required_argument, NULL, OPT_REPLAY_CACHE },
	{ "allow-host", required_argument, NULL, OPT_ALLOW_HOST },
	{ "trusted-proxy", required_argument, NULL, OPT_TRUSTED_PROXY },
	{ "private", required_argument, NULL, OPT_PRIVATE },
	{ "jwt-secret-file", required_argument, NULL, OPT_JWT_SECRET },
	{ "jwt-key-file", required_argument, NULL, OPT_JWT_KEY },
	{ "jwt-issuer", required_argument, NULL, OPT_JWT_ISSUER },
	{ "jwt-audience", required_argument, NULL, OPT_JWT_AUDIENCE },
	{ "jwt-require-exp", no_argument, NULL, OPT_JWT_REQUIRE_EXP },
	{ "bridge-status", required_argument, NULL, OPT_BRIDGE_STATUS },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 }
};

/* Strict unsigned parse: digits only, within [min, max]. */
static unsigned long long parse_num(const char *opt, const char *s,
				    unsigned long long min, unsigned long long max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || errno || *end || v < min || v > max) {
		fprintf(stderr, "pushd: --%s: expected a number in [%llu, %llu], got '%s'\n",
			opt, min, max, s);
		exit(2);
	}
	return v;
}

/* Reads a whole (small) file; NULL-terminated, or exits. */
static char *slurp(const char *opt, const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (!f) {
		fprintf(stderr, "pushd: --%s %s: %s\n", opt, path, strerror(errno));
		exit(1);
	}
	buf = malloc(1 << 20);
	if (!buf) {
		fclose(f);
		exit(1);
	}
	len = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* A --private pattern: a channel name, or a prefix of one followed by '*'. */
static bool private_pattern_valid(const char *p)
{
	size_t n = strlen(p);

	if (n && p[n - 1] == '*')
		n--;
	return n ? chan_name_valid(p, n) : p[0] == '*' && !p[1];
}

/*
 * The configuration file: its settings become arguments before the command
 * line's (server/conffile.c), so the getopt loop below checks both.  While
 * the loop handles one of the file's, conf_index is its place in argv, and
 * a value refused there (exit from the loop) is blamed on its line.
 */
static struct conffile conf;
static int conf_index, conf_long = -1;

static void conf_blame(void)
{
	int line = conffile_line_of(&conf, conf_index);

	if (line)
		fprintf(stderr, "pushd: %s:%d: invalid setting (see above)\n", conf.path, line);
}

static char **conf_argv(int *argc, char **argv)
{
	static const char *const deny[] = { "config", "help", "version", NULL };
	const char *path = NULL;
	char err[512], **merged;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(*argc, argv, "vhV", options, NULL)) != -1)
		if (opt == OPT_CONFIG)
			path = optarg;
	opterr = 1;
	optind = 0;	/* glibc: start over */
	if (!path)
		return argv;
	if (conffile_load(&conf, path, options, deny, err, sizeof(err))) {
		fprintf(stderr, "pushd: --config %s\n", err);
		exit(2);
	}
	merged = conffile_merge(&conf, *argc, argv, argc);
	if (!merged)
		exit(1);
	atexit(conf_blame);
	return merged;
}

static int drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (!pw) {
		fprintf(stderr, "pushd: --user %s: no such user\n", user);
		return -1;
	}
	if (setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid)) {
		fprintf(stderr, "pushd: --user %s: %s\n", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		fprintf(stderr, "pushd: --user %s: could regain root\n", user);
		return -1;
	}
	return 0;
}

/*
 * Under systemd: take the listening socket pushd.socket passes (instead of
 * binding --listen), and send WATCHDOG=1 from the hub if WatchdogSec= is set.
 * Returns 0, or -1 if systemd passed something pushd cannot use.
 */
static int systemd_listen_fd(struct pushd_config *cfg)
{
	uint64_t usec;
	int n = sd_listen_fds(1);

	if (n < 0) {
		fprintf(stderr, "pushd: LISTEN_FDS: %s\n", strerror(-n));
		return -1;
	}
	if (n > 1 || (n == 1 && sd_is_socket(SD_LISTEN_FDS_START, AF_UNSPEC, SOCK_STREAM, 1) <= 0)) {
		fprintf(stderr, "pushd: systemd passed %d fds; expected one listening stream socket\n", n);
		return -1;
	}
	if (n == 1) {
		cfg->listen_fd = SD_LISTEN_FDS_START;
		cfg->listen_len = sizeof(cfg->listen);
		if (getsockname(cfg->listen_fd, (struct sockaddr *)&cfg->listen, &cfg->listen_len))
			return -1;
	}
	cfg->watchdog = sd_watchdog_enabled(1, &usec) > 0;
	return 0;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * Every connection is a descriptor: more connections than RLIMIT_NOFILE
 * allows would fail accept() with EMFILE and starve the device reads; keep
 * 64 for the device, the hub, MHD's own and the log.
 */
static void clamp_max_conns(struct pushd_config *cfg)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return;
	rlim_t room = rl.rlim_cur > 128 ? rl.rlim_cur - 64 : rl.rlim_cur / 2;
	if (cfg->max_conns > room) {
		fprintf(stderr, "pushd: --max-conns %u clamped to %llu: RLIMIT_NOFILE is %llu\n",
			cfg->max_conns, (unsigned long long)room, (unsigned long long)rl.rlim_cur);
		cfg->max_conns = (unsigned int)room;
	}
}

int main(int argc, char **argv)
{
	struct pushd_config *cfg = &pushd_cfg;
	const char *cert = NULL, *key = NULL;
	int devfd, histfd, pubfd, opt, sig;
	sigset_t sigs;

	config_defaults(cfg);
	argv = conf_argv(&argc, argv);
	while ((opt = getopt_long(argc, argv, "vhV", options, &conf_long)) != -1) {
		/* the file's are long options, each one argv element */
		conf_index = conf_long >= 0 ? optind - 1 : 0;
		conf_long = -1;
		switch (opt) {
		case OPT_LISTEN:
			if (config_parse_listen(cfg, optarg)) {
				fprintf(stderr, "pushd: --listen: expected ADDR:PORT, got '%s'\n", optarg);
				return 2;
			}
			break;
		case OPT_PUB_LISTEN:
			if (config_parse_addr(optarg, &cfg->pub_listen, &cfg->pub_listen_len)) {
				fprintf(stderr, "pushd: --pub-listen: expected ADDR:PORT, got '%s'\n",
					optarg);
				return 2;
			}
			break;
		case OPT_DEVICE:
			cfg->device = optarg;
			break;
		case OPT_READER:
			if (!strcmp(optarg, "auto")) {
				cfg->reader = PUSHD_READER_AUTO;
			} else if (!strcmp(optarg, "mmap")) {
				cfg->reader = PUSHD_READER_MMAP;
			} else if (!strcmp(optarg, "read")) {
				cfg->reader = PUSHD_READER_READ;
			} else {
				fprintf(stderr, "pushd: --reader: expected auto, mmap or read, got '%s'\n",
					optarg);
				return 2;
			}
			break;
		case OPT_SSE_PATH:
			if (!strcmp(optarg, "hub")) {
				cfg->sse_path = PUSHD_SSE_HUB;
			} else if (!strcmp(optarg, "mhd")) {
				cfg->sse_path = PUSHD_SSE_MHD;
			} else {
				fprintf(stderr, "pushd: --sse-path: expected hub or mhd, got '%s'\n",
					optarg);
				return 2;
			}
			break;
		case OPT_TOKEN:
			cfg->token = slurp("token-file", optarg);
			cfg->token[strcspn(cfg->token, "\r\n")] = '\0';
			if (!*cfg->token) {
				fprintf(stderr, "pushd: --token-file %s: empty token\n", optarg);
				return 2;
			}
			break;
		case OPT_ORIGIN:
			cfg->allow_origin = optarg;
			break;
		case OPT_ALLOW_HOST:
			if (cfg->nallow_host == PUSHD_LIST_MAX || !*optarg ||
			    strpbrk(optarg, " ,/:@[]")) {
				fprintf(stderr, "pushd: --allow-host '%s': a host name, at most %d of them\n",
					optarg, PUSHD_LIST_MAX);
				return 2;
			}
			/* "*.example.com" would match nothing: subdomains are ".example.com" */
			if (strchr(optarg, '*') && strcmp(optarg, "*")) {
				fprintf(stderr, "pushd: --allow-host '%s': '*' stands alone; "
					"'.example.com' matches example.com and its subdomains\n", optarg);
				return 2;
			}
			cfg->allow_host[cfg->nallow_host++] = optarg;
			break;
		case OPT_TRUSTED_PROXY:
			if (cfg->ntrusted_proxy == PUSHD_LIST_MAX ||
			    guard_parse_addr(optarg, &cfg->trusted_proxy[cfg->ntrusted_proxy])) {
				fprintf(stderr, "pushd: --trusted-proxy '%s': an IP address, at most %d of them\n",
					optarg, PUSHD_LIST_MAX);
				return 2;
			}
			cfg->ntrusted_proxy++;
			break;
		case OPT_PRIVATE:
			if (cfg->nprivate == PUSHD_LIST_MAX || !private_pattern_valid(optarg)) {
				fprintf(stderr, "pushd: --private '%s': a channel name or 'prefix*', "
					"at most %d of them\n", optarg, PUSHD_LIST_MAX);
				return 2;
			}
			cfg->private_chans[cfg->nprivate++] = optarg;
			break;
		case OPT_JWT_SECRET:
			cfg->jwt_secret = slurp("jwt-secret-file", optarg);
			cfg->jwt_secret_len = strcspn(cfg->jwt_secret, "\r\n");
			break;
		case OPT_JWT_KEY:
			cfg->jwt_key_pem = slurp("jwt-key-file", optarg);
			break;
		case OPT_JWT_ISSUER:
			cfg->jwt_issuer = optarg;
			break;
		case OPT_JWT_AUDIENCE:
			cfg->jwt_audience = optarg;
			break;
		case OPT_JWT_REQUIRE_EXP:
			cfg->jwt_require_exp = 1;
			break;
		case OPT_CERT:
			cert = optarg;
			break;
		case OPT_KEY:
			key = optarg;
			break;
		case OPT_USER:
			cfg->user = optarg;
			break;
		case OPT_BRIDGE_STATUS:
			cfg->bridge_status = optarg;
			break;
		case OPT_HEARTBEAT:
			cfg->heartbeat = (unsigned int)parse_num("heartbeat", optarg, 1, 3600);
			break;
		case OPT_POLL_TIMEOUT:
			cfg->poll_timeout = (unsigned int)parse_num("poll-timeout", optarg, 1, 3600);
			break;
		case OPT_MAX_QUEUE:
			cfg->max_queue = parse_num("max-queue", optarg, 1024, 1ULL << 32);
			break;
		case OPT_MAX_CONNS:
			cfg->max_conns = (unsigned int)parse_num("max-conns", optarg, 1, 1000000);
			break;
		case OPT_MAX_CONNS_IP:
			cfg->max_conns_per_ip = (unsigned int)parse_num("max-conns-per-ip", optarg, 1, 1000000);
			break;
		case OPT_CONN_MEMORY:
			cfg->conn_memory = parse_num("conn-memory", optarg, 2048, 1 << 20);
			break;
		case OPT_MAX_CHANNELS:
			cfg->max_channels = (unsigned int)parse_num("max-channels", optarg, 1, 10000000);
			break;
		case OPT_HEADER_TIMEOUT:
			cfg->header_timeout = (unsigned int)parse_num("header-timeout", optarg, 1, 3600);
			break;
		case OPT_PING_MISSES:
			cfg->pong_misses = (unsigned int)parse_num("ping-misses", optarg, 1, 1000);
			break;
		case OPT_CLOSE_TIMEOUT:
			cfg->close_timeout = (unsigned int)parse_num("close-timeout", optarg, 1, 3600);
			break;
		case OPT_REPLAY_CACHE:
			cfg->replay_cache = parse_num("replay-cache", optarg, 0, 1ULL << 34);
			break;
		case OPT_CONFIG:	/* read by conf_argv() */
			break;
		case 'v':
			cfg->verbose++;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("pushd %s\n", PUSHD_VERSION);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	conf_index = 0;
	if (optind < argc) {
		fprintf(stderr, "pushd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!cert != !key) {
		fputs("pushd: --cert and --key go together\n", stderr);
		return 2;
	}
	if (cert) {
		cfg->cert_pem = slurp("cert", cert);
		cfg->key_pem = slurp("key", key);
		/* the hub cannot write into a TLS stream */
		cfg->sse_path = PUSHD_SSE_MHD;
	}
	{
		const char *why;

		if (auth_init(&why)) {
			fprintf(stderr, "pushd: %s\n", why);
			return 2;
		}
	}

	signal(SIGPIPE, SIG_IGN);
	/* threads inherit the mask: only the main thread takes these signals */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	raise_nofile();
	clamp_max_conns(cfg);

	/* the hub's reader must block (io_uring arms poll); the others must not */
	devfd = open(cfg->device, O_RDONLY | O_CLOEXEC);
	histfd = open(cfg->device, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	/* non-blocking: in cluster mode a full ingress queue is EAGAIN (503), not
	 * an HTTP thread asleep (docs/CLUSTER.md) */
	pubfd = open(cfg->device, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (devfd < 0 || histfd < 0 || pubfd < 0) {
		fprintf(stderr, "pushd: %s: %s\n", cfg->device, strerror(errno));
		return 1;
	}
	if (systemd_listen_fd(cfg))
		return 1;
	int err = hub_init(devfd, histfd);
	if (err) {
		fprintf(stderr, "pushd: hub: %s\n", strerror(-err));
		return 1;
	}
	err = http_start(pubfd, histfd);
	if (err) {
		fprintf(stderr, "pushd: cannot listen%s (address in use, or bad TLS files?)\n",
			err == -EADDRINUSE ? " on --pub-listen" : "");
		return 1;
	}
	if (cfg->user && drop_privileges(cfg->user)) {
		http_stop();
		return 1;
	}
	err = hub_start();
	if (err) {
		fprintf(stderr, "pushd: hub thread: %s\n", strerror(-err));
		http_stop();
		return 1;
	}
	if (cfg->verbose)
		fprintf(stderr, "pushd %s: serving %s\n", PUSHD_VERSION, cfg->device);
	sd_notify(0, "READY=1");	/* the device and the port are open */

	do {
		if (sigwait(&sigs, &sig))
			sig = SIGTERM;
	} while (sig == SIGHUP);

	if (cfg->verbose)
		fprintf(stderr, "pushd: %s, closing clients\n", strsignal(sig));
	sd_notify(0, "STOPPING=1");
	/*
	 * In this order: no new connection; every client cut, until none is
	 * left (hub_subscribe() refuses new ones); the hub's thread, which
	 * drives WebSockets; then libmicrohttpd, which must not hold a
	 * suspended connection when it stops (it aborts the process).
	 */
	http_quiesce();
	hub_shutdown(2000);
	hub_stop();
	http_stop();
	close(pubfd);
	close(histfd);
	close(devfd);
	auth_free();
	return hub_device_gone() ? 1 : 0;
}
