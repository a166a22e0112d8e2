// SPDX-License-Identifier: GPL-2.0
/*
 * push-bridge - one node of a push cluster: its /dev/push to a NATS
 * JetStream stream and back (docs/CLUSTER.md).
 *
 *   push-bridge --device /dev/push1 --nats nats://10.0.0.1:4222,nats://10.0.0.2:4222
 *
 * Start: cluster mode on (local publishes queue from now on), connect
 * (forever, with backoff), find or create the stream, set the device's
 * epoch from it, start the ordered consumer after the device's last id,
 * then forward the ingress queue.  Every state change is one log line on
 * stderr; SIGTERM or SIGINT: wait briefly for in-flight PubAcks, exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"

#include <linux/push.h>

static const char doc[] =
"Usage: push-bridge [OPTIONS]\n"
"\n"
"Join this node's push device to a cluster: every message published on any\n"
"node (a write to its /dev/push, or POST /pub to its pushd) goes into one\n"
"NATS JetStream stream, and every node's device serves the stream's messages\n"
"in stream order, under the stream's sequence numbers as ids.  Run one\n"
"bridge per device, as root (it opens DEVICE-ingress).  docs/CLUSTER.md has\n"
"the design and what each failure costs.\n"
"\n"
"Options:\n"
"  -d, --device PATH          the device (default /dev/push); its ingress\n"
"                             node is PATH-ingress\n"
"  -n, --nats URL[,URL...]    NATS servers (default nats://127.0.0.1:4222);\n"
"                             the bridge reconnects to any of them, forever\n"
"  -s, --stream NAME          the JetStream stream (default PUSH)\n"
"  -p, --subject-prefix P     subjects are P<channel> (default \"push.\"); the\n"
"                             stream takes P>; a channel's '.' is sent as '~'\n"
"  -r, --replicas N           replicas when creating the stream (default 1;\n"
"                             3 for a three-server JetStream cluster)\n"
"      --duplicate-window S   the stream's de-duplication window in seconds\n"
"                             when creating it (default 120)\n"
"      --max-age S            retention by age when creating (default: none)\n"
"      --max-bytes N          retention by size when creating (default: none)\n"
"      --memory               create the stream in memory, not on disk (lost\n"
"                             when every server of the stream restarts)\n"
"      --ack-wait MS          a PubAck not back after MS is a failure and the\n"
"                             entry is forwarded again (default 10000)\n"
"      --read-buffer BYTES    the ingress read buffer's first size (default: the\n"
"                             device's largest record, at least 64 KiB); it grows\n"
"                             when a record does not fit\n"
"      --window N             publishes awaiting their PubAck, at most\n"
"                             (default 128, at most 1024)\n"
"      --status FILE          write the bridge's state as JSON to FILE about\n"
"                             once a second (docs/CLUSTER.md, Stats)\n"
"  -h, --help                 this help\n"
"\n"
"The stream's settings are used only by the bridge that creates it; the\n"
"others take the stream as it is.  The device's epoch becomes the stream's,\n"
"decided once by the first bridge (a record on subject P_cluster, which\n"
"takes an id: a message on channel _cluster), the same on every node; the\n"
"bridge exits (status 1) if the device already gave ids under another epoch.\n"
"\n"
"Exit status: 0 after SIGTERM/SIGINT, 1 a fatal error (the device missing\n"
"or busy, ids of another epoch), 2 bad usage.\n"
"\n"
"Examples:\n"
"  push-bridge --device /dev/push --nats nats://10.0.0.1:4222,nats://10.0.0.2:4222 --replicas 3\n"
"  push-bridge -d /dev/push1 -n nats://127.0.0.1:4222 --status /run/push-bridge1.json\n";

static struct bridge bridge = {
	.fd_lock = PTHREAD_MUTEX_INITIALIZER,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.ing_fd = -1,
	.probing = true,
};

void bridge_log(struct bridge *b, const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char line[1024];
	va_list ap;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld push-bridge %s: ",
		     tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		     b->o.device);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

const char *bridge_nats_err(natsStatus s)
{
	return natsStatus_GetText(s);
}

void bridge_set_state(struct bridge *b, enum bridge_state s)
{
	int old = atomic_load(&b->state);

	do {
		if (old == BS_STOPPING)	/* the last state: callbacks at exit keep it */
			return;
	} while (!atomic_compare_exchange_weak(&b->state, &old, (int)s));

	if (old != (int)s)
		bridge_log(b, "state %s -> %s", bridge_state_name(old), bridge_state_name(s));
}

static bool setup_done;

static void on_connected(natsConnection *nc, void *closure)
{
	struct bridge *b = closure;

	(void)nc;
	atomic_store(&b->connected, true);
	bridge_log(b, "connected to NATS");
	bridge_set_state(b, BS_SETUP);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
	struct bridge *b = closure;

	(void)nc;
	atomic_store(&b->connected, false);
	pthread_mutex_lock(&b->lock);
	b->rewind = true;
	b->probing = true;
	pthread_mutex_unlock(&b->lock);
	if (atomic_load(&b->state) == BS_STOPPING)
		return;	/* our own close at exit */
	bridge_log(b, "disconnected from NATS; reconnecting");
	bridge_set_state(b, BS_DISCONNECTED);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
	struct bridge *b = closure;
	char url[256] = "?";

	natsConnection_GetConnectedUrl(nc, url, sizeof(url));
	atomic_fetch_add(&b->st.reconnects, 1);
	atomic_store(&b->connected, true);
	bridge_log(b, "reconnected to %s", url);
	bridge_set_state(b, setup_done ? BS_RUNNING : BS_SETUP);
}

static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err,
		     void *closure)
{
	struct bridge *b = closure;

	(void)nc;
	bridge_log(b, "NATS: %s%s", bridge_nats_err(err),
		   sub && sub == b->sub ? " (the ordered consumer)" : "");
	if (sub && sub == b->sub && err == NATS_SLOW_CONSUMER)
		atomic_store(&b->resubscribe, true);
}

/* Reconnect backoff: 100 ms doubling to 5 s per pass over the servers. */
static int64_t reconnect_delay(natsConnection *nc, int attempts, void *closure)
{
	(void)nc;
	(void)closure;
	return attempts >= 6 ? 5000 : 100LL << attempts;
}

static natsStatus connect_nats(struct bridge *b)
{
	char *list = strdup(b->o.nats), *tok, *save = NULL;
	const char *urls[16];
	natsOptions *opts = NULL;
	natsStatus s;
	int n = 0;

	if (!list)
		return NATS_NO_MEMORY;
	for (tok = strtok_r(list, ",", &save); tok && n < 16; tok = strtok_r(NULL, ",", &save))
		urls[n++] = tok;
	s = natsOptions_Create(&opts);
	if (s == NATS_OK)
		s = natsOptions_SetServers(opts, urls, n);
	if (s == NATS_OK)
		s = natsOptions_SetName(opts, "push-bridge");
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(opts, -1);
	if (s == NATS_OK)
		s = natsOptions_SetCustomReconnectDelay(opts, reconnect_delay, b);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(opts, 2000);
	if (s == NATS_OK)
		s = natsOptions_SetPingInterval(opts, 2000);
	if (s == NATS_OK)
		s = natsOptions_SetMaxPingsOut(opts, 3);
	/* a publish while disconnected fails at once (it would be sent after
	 * the reconnect, ahead of the lost ones the rewind publishes again) */
	if (s == NATS_OK)
		s = natsOptions_SetReconnectBufSize(opts, 1);
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(opts, true, on_connected, b);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(opts, on_disconnected, b);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(opts, on_reconnected, b);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(opts, on_error, b);
	if (s == NATS_OK) {
		s = natsConnection_Connect(&b->nc, opts);
		if (s == NATS_OK)
			on_connected(b->nc, b);
		else if (s == NATS_NOT_YET_CONNECTED)
			s = NATS_OK; /* libnats keeps trying; on_connected says when */
	}
	natsOptions_Destroy(opts);
	free(list);
	return s;
}

static int parse_num(const char *s, int64_t min, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min)
		return -1;
	*out = v;
	return 0;
}

static void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "push-bridge: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'push-bridge --help'.\n");
	exit(2);
}

static void parse_args(struct bridge_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "nats", required_argument, NULL, 'n' },
		{ "stream", required_argument, NULL, 's' },
		{ "subject-prefix", required_argument, NULL, 'p' },
		{ "replicas", required_argument, NULL, 'r' },
		{ "duplicate-window", required_argument, NULL, 'D' },
		{ "max-age", required_argument, NULL, 'A' },
		{ "max-bytes", required_argument, NULL, 'B' },
		{ "ack-wait", required_argument, NULL, 'W' },
		{ "window", required_argument, NULL, 'w' },
		{ "memory", no_argument, NULL, 'M' },
		{ "status", required_argument, NULL, 'S' },
		{ "read-buffer", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int64_t v;
	int c;

	o->device = "/dev/push";
	o->nats = "nats://127.0.0.1:4222";
	o->stream = "PUSH";
	o->prefix = "push.";
	o->replicas = 1;
	o->dup_window_ns = 120LL * 1000000000;
	o->max_bytes = -1;
	o->ack_wait_ms = 10000;
	o->window = 128;
	while ((c = getopt_long(argc, argv, "d:n:s:p:r:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o->device = optarg; break;
		case 'n': o->nats = optarg; break;
		case 's': o->stream = optarg; break;
		case 'p': o->prefix = optarg; break;
		case 'S': o->status = optarg; break;
		case 'r':
			if (parse_num(optarg, 1, &v) || v > 5)
				usage_error("--replicas: 1 to 5, not '%s'", optarg);
			o->replicas = (int)v;
			break;
		case 'D':
			if (parse_num(optarg, 1, &v) || v > 86400)
				usage_error("--duplicate-window: seconds, 1 to 86400, not '%s'", optarg);
			o->dup_window_ns = v * 1000000000;
			break;
		case 'A':
			if (parse_num(optarg, 1, &v) || v > 100LL * 365 * 86400)
				usage_error("--max-age: seconds, not '%s'", optarg);
			o->max_age_ns = v * 1000000000;
			break;
		case 'B':
			if (parse_num(optarg, 1, &v))
				usage_error("--max-bytes: a byte count, not '%s'", optarg);
			o->max_bytes = v;
			break;
		case 'W':
			if (parse_num(optarg, 100, &v) || v > 600000)
				usage_error("--ack-wait: milliseconds, 100 to 600000, not '%s'", optarg);
			o->ack_wait_ms = v;
			break;
		case 'w':
			if (parse_num(optarg, 1, &v) || v > BRIDGE_WINDOW_MAX)
				usage_error("--window: 1 to 1024, not '%s'", optarg);
			o->window = v;
			break;
		case 'M':
			o->memory = true;
			break;
		case 'R':
			if (parse_num(optarg, 64, &v) || v > BRIDGE_READ_BUF_MAX)
				usage_error("--read-buffer: bytes, 64 to 67108864, not '%s'", optarg);
			o->read_buf = (size_t)v;
			break;
		case 'h':
			fputs(doc, stdout);
			exit(0);
		default:
			fprintf(stderr, "Try 'push-bridge --help'.\n");
			exit(2);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!*o->stream || strpbrk(o->stream, " .*>\t"))
		usage_error("--stream: a name without spaces, '.', '*' or '>', not '%s'", o->stream);
	if (strpbrk(o->prefix, " *>\t") || strlen(o->prefix) > 100)
		usage_error("--subject-prefix: no spaces, '*' or '>', not '%s'", o->prefix);
	if (snprintf(o->ingress, sizeof(o->ingress), "%s-ingress", o->device) >= (int)sizeof(o->ingress))
		usage_error("--device: path too long: %s", o->device);
}

/* Wait up to ms for a signal on sfd; true if one asks us to stop. */
static bool wait_signal(int sfd, int ms)
{
	struct pollfd p = { .fd = sfd, .events = POLLIN };
	struct signalfd_siginfo si;

	if (poll(&p, 1, ms) == 1 && read(sfd, &si, sizeof(si)) == sizeof(si)) {
		bridge_log(&bridge, "signal %u: stopping", si.ssi_signo);
		return true;
	}
	return false;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The stream poller: its own thread, so that a slow answer from NATS (a
 * stream info request waits up to 2 s) never holds up forwarding.  Every
 * 2 s while connected it stores the stream's last seq in b->polled_seq
 * (and the stats' stream_seq); the main loop's watchdog reads it.
 */
static void *poller(void *arg)
{
	struct bridge *b = arg;
	uint64_t last;
	int i;

	while (!atomic_load(&b->poller_stop)) {
		if (atomic_load(&b->connected) && atomic_load(&b->js_ready)) {
			last = bridge_stream_last_seq(b, NULL);
			if (last) {
				atomic_store(&b->polled_seq, last);
				atomic_store(&b->st.stream_seq, last);
			}
			atomic_fetch_add(&b->polls, 1);
		}
		for (i = 0; i < 20 && !atomic_load(&b->poller_stop); i++)
			usleep(100000);
	}
	return NULL;
}

/* Every 2 s, from the last poll: the consumer is replaced when the stream
 * is ahead of the device and nothing was applied over three checks. */
static void watchdog(struct bridge *b)
{
	static uint64_t prev_applied;
	static int stalled;
	uint64_t last = atomic_load(&b->polled_seq), applied;

	pthread_mutex_lock(&b->fd_lock);
	applied = b->applied_id;
	pthread_mutex_unlock(&b->fd_lock);
	if (last > applied && applied == prev_applied) {
		if (++stalled >= 3) {
			bridge_log(b, "apply: stalled at id %" PRIu64 ", stream at %" PRIu64 ": new consumer",
				   applied, last);
			atomic_store(&b->resubscribe, true);
			stalled = 0;
		}
	} else {
		stalled = 0;
	}
	prev_applied = applied;
}

static int run(struct bridge *b, int sfd)
{
	int64_t backoff = 200, retry_at = 0, next_status = 0, next_watch = 0, now;
	int err;

	for (;;) {
		now = mono_ms();
		if (now >= next_status) {
			bridge_status_write(b);
			next_status = now + 1000;
		}
		if (!atomic_load(&b->connected) || now < retry_at) {
			if (wait_signal(sfd, 200))
				return 0;
			continue;
		}
		if (!setup_done) {
			if (!b->js) {
				jsOptions jo;

				jsOptions_Init(&jo);
				bridge_forward_init(b, &jo);
				if (natsConnection_JetStream(&b->js, b->nc, &jo) != NATS_OK)
					b->js = NULL;
			}
			if (b->js)
				atomic_store(&b->js_ready, true);
			err = b->js ? bridge_stream_setup(b) : -EAGAIN;
			if (!err)
				err = bridge_apply_subscribe(b);
			if (err == -EAGAIN) {
				retry_at = now + backoff;
				backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
				continue;
			}
			if (err)
				return 1;
			setup_done = true;
			backoff = 200;
			bridge_set_state(b, BS_RUNNING);
		}
		if (atomic_load(&b->resubscribe)) {
			bridge_apply_unsubscribe(b);
			atomic_fetch_add(&b->st.resubscribes, 1);
			if (bridge_apply_subscribe(b)) {
				atomic_store(&b->resubscribe, true);
				retry_at = now + backoff;
				backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
				continue;
			}
			backoff = 200;
		}
		if (now >= next_watch) {
			watchdog(b);
			next_watch = now + 2000;
		}
		err = bridge_forward_step(b, 100);
		if (err) {
			bridge_log(b, "read %s: %s", b->o.ingress, strerror(-err));
			return 1;
		}
		if (wait_signal(sfd, 0))
			return 0;
	}
}

int main(int argc, char **argv)
{
	struct bridge *b = &bridge;
	pthread_t poll_thread;
	sigset_t mask;
	__u32 on = 1;
	int sfd, rc, err;
	natsStatus s;

	parse_args(&b->o, argc, argv);
	signal(SIGPIPE, SIG_IGN);
	/* blocked before libnats starts its threads, so they inherit it */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		perror("push-bridge: signalfd");
		return 1;
	}
	err = bridge_ingress_open(b);
	if (err) {
		bridge_log(b, "open %s: %s%s", b->o.ingress, strerror(-err),
			   err == -EBUSY ? " (another bridge runs on this device)" :
			   err == -ENOENT ? " (no such device: a module with cluster support, devices=N?)" : "");
		return 1;
	}
	if (ioctl(b->ing_fd, PUSH_IOC_SET_CLUSTER, &on)) {
		bridge_log(b, "PUSH_IOC_SET_CLUSTER: %s", strerror(errno));
		return 1;
	}
	bridge_log(b, "cluster mode on; ingress epoch %" PRIu64 ", %" PRIu64 " entries already acknowledged; NATS %s, stream %s",
		   b->ing_epoch, b->kernel_acked, b->o.nats, b->o.stream);
	bridge_set_state(b, BS_CONNECTING);
	s = nats_Open(-1);
	if (s == NATS_OK)
		s = connect_nats(b);
	if (s != NATS_OK) {
		bridge_log(b, "NATS: %s", bridge_nats_err(s));
		return 1;
	}
	err = pthread_create(&poll_thread, NULL, poller, b);
	if (err) {
		bridge_log(b, "pthread_create: %s", strerror(err));
		return 1;
	}
	rc = run(b, sfd);
	bridge_set_state(b, BS_STOPPING);
	atomic_store(&b->poller_stop, true);
	pthread_join(poll_thread, NULL);
	bridge_apply_unsubscribe(b);
	bridge_forward_drain(b, 2000);
	bridge_status_write(b);
	if (b->js)
		jsCtx_Destroy(b->js);
	natsConnection_Destroy(b->nc);
	nats_CloseAndWait(2000);
	bridge_log(b, "exit %d; cluster mode stays on, %" PRIu64 " entries acknowledged", rc, b->kernel_acked);
	return rc;
}
