// SPDX-License-Identifier: GPL-2.0
/*
 * load.h - what the parts of push-load share (push-load.c has the overview):
 * the options, the connections, the totals, the steps, and each part's functions.
 */
#ifndef PUSH_LOAD_H
#define PUSH_LOAD_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_STEPS	16
#define MAX_PIDS	16
#define HIST_BUCKETS	(64 + 40 * 32)
#define READ_CHUNK	(64 * 1024)
#define MAX_BUFFER	(64u << 20)	/* one connection's unparsed bytes */

enum transport { T_SSE, T_WS, T_LONGPOLL };
enum flavor { F_PUSHD, F_NCHAN };
enum cstate { CS_IDLE, CS_CONNECTING, CS_HEADERS, CS_BODY, CS_WS, CS_DEAD };
enum framing { FR_LENGTH, FR_CHUNKED, FR_EOF };
enum phase { PH_CONNECT, PH_SETTLE, PH_RUN, PH_DRAIN, PH_HOLD, PH_DONE };

struct buf {
	char *p;
	uint32_t len, cap;
};

struct conn {
	int fd;
	uint8_t state;
	uint8_t framing;
	bool established;
	bool chunk_data;	/* inside a chunk's data (else at a size line) */
	bool chunk_trailer;	/* after the last chunk: skip to the blank line */
	bool ws_frag;		/* a fragmented WebSocket message is pending */
	uint64_t body_left;	/* content-length or chunk bytes still to come */
	struct buf in;		/* raw bytes not parsed yet */
	struct buf body;	/* de-chunked body not parsed yet; WS fragments */
	struct buf out;		/* bytes to send */
	uint32_t out_off;
	uint64_t msgs;
	uint64_t last_seq;	/* 0: none seen yet */
	uint64_t last_id;
	uint64_t since;		/* pushd long-poll: next ?since= (0: none) */
	int status;		/* HTTP status of the response being read */
	char *etag, *lastmod;	/* nchan long-poll */
};

struct step_stat {
	double t0, t1;		/* monotonic seconds of the window */
	uint64_t msgs0, msgs1;
	uint64_t bytes0, bytes1;
	uint64_t cpu0, cpu1;	/* server clock ticks */
	uint64_t self0, self1;	/* push-load's own CPU, ns */
	uint64_t hist[HIST_BUCKETS];
	uint64_t lat_n;
	atomic_uint_fast64_t published;	/* by the publisher thread */
	uint64_t rx;			/* messages received during the step */
};


struct opts {
	enum transport transport;
	enum flavor flavor;
	int conns;
	int inflight;
	double ramp;
	const char *pub;
	const char *channel;
	double rates[MAX_STEPS];
	int nrates;
	double durations[MAX_STEPS];	/* seconds of each step; the last repeats */
	int ndurations;
	uint64_t count;
	int size;
	unsigned pub_window;
	int sources;		/* subscribers' source addresses 127.0.0.1.. */
	double drain;
	double settle;
	double hold;
	double connect_timeout;
	const char *ready_file;
	pid_t pids[MAX_PIDS];
	int npids;
	bool json;
	int verbose;
};
struct pub_state {
	pthread_t thread;
	bool started;
	double t0;			/* monotonic start of step 0 */
	uint64_t t0_real;		/* the same instant, CLOCK_REALTIME ns */
	atomic_uint_fast64_t published;
	atomic_uint_fast64_t errors;
	atomic_bool done;
	double t_end;			/* monotonic time the last publish ended */
	char err[160];
};
struct totals {
	int started, established, failed, dropped, inflight;
	uint64_t msgs, bytes, gaps, lost, holes, missed, reorders, id_errors;
	uint64_t fail_connect, fail_status, fail_closed;
	uint64_t drop_eof, drop_error, drop_slow, drop_shutdown, drop_ws_other;
	uint64_t ws_pings;
	double t_first_rx, t_last_rx;
	char first_error[160];
};
enum why { W_CONNECT, W_STATUS, W_EOF, W_ERROR, W_SLOW, W_SHUTDOWN, W_WSCLOSE };
struct pubconn {
	int fd;
	bool device;
	struct sockaddr_in addr;
	char host[80], path[512];
	unsigned outstanding;	/* POSTs sent, not answered yet */
	double deadline;	/* give up waiting for answers then (0: never) */
	size_t rlen;
	char buf[65536];	/* responses read, not parsed yet */
};

extern struct opts o;
/* Where the subscribers connect: subscriber i to sub_urls[i % nsub_urls]. */
#define MAX_URLS	8
struct sub_url {
	struct sockaddr_in addr;
	char host[80], path[512];
};
extern struct sub_url sub_urls[MAX_URLS];
extern int nsub_urls;
extern struct conn *conns;
extern int epfd;
extern volatile sig_atomic_t stop_flag;
extern struct pub_state pub;
extern struct totals st;
extern struct step_stat steps[MAX_STEPS];
extern struct step_stat drain_stat;
extern int cur_step;

/* load_util.c: clocks, errors, buffers, the server's CPU and memory, the latency histogram */
double now_mono(void);
uint64_t now_real_ns(void);
void die(const char *fmt, ...);
void note_error(char *dst, size_t n, const char *fmt, ...);
bool buf_reserve(struct buf *b, size_t n);
bool buf_add(struct buf *b, const void *p, size_t n);
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);
uint64_t server_cpu(void);
uint64_t server_mem_kb(void);
unsigned hist_bucket(uint64_t us);
uint64_t hist_value(unsigned b);
double hist_quantile(const uint64_t *h, uint64_t n, double q);
int bind_source(int fd, int i);
double step_len(int k);
double step_start(int k);
int step_at(double t);

/* load_conn.c: the subscribers */
bool find_u64(const char *p, size_t n, const char *key, uint64_t *out);
void record_latency(uint64_t t_pub);
void on_item(struct conn *c, const char *p, size_t n);
void conn_want_write(struct conn *c, bool on);
void conn_close(struct conn *c);
void conn_fail(struct conn *c, enum why why, const char *fmt, ...);
void conn_established(struct conn *c);
bool conn_flush(struct conn *c);
void conn_queue(struct conn *c, const char *fmt, ...);
void conn_request(struct conn *c);
void conn_start(struct conn *c);
char *header_value(const char *h, size_t n, const char *name, size_t *len);
size_t on_headers(struct conn *c, const char *p, size_t n);
size_t on_body(struct conn *c, const char *p, size_t n);
size_t conn_feed(struct conn *c, const char *p, size_t n);
void conn_readable(struct conn *c);
void conn_event(struct conn *c, uint32_t ev);

/* load_parse.c: the bodies (SSE events, long-poll answers, WebSocket frames) */
void sse_parse(struct conn *c);
void lp_pushd(struct conn *c);
void lp_done(struct conn *c);
size_t on_ws(struct conn *c, const char *p, size_t n);

/* load_pub.c: the publisher */
int pub_connect(struct pubconn *pc);
void pub_error(const char *fmt, ...);
void pub_broken(struct pubconn *pc, const char *why);
void pub_collect(struct pubconn *pc, unsigned max);
void pub_post(struct pubconn *pc, const char *data, size_t len);
void sleep_until(double t);
int parse_url(const char *url, struct sockaddr_in *sa, char *host, size_t hn,
		     char *path, size_t pn);

void *pub_thread(void *arg);
void pub_open(void);
void pub_start(void);

/* push-load.c: the command line, the main loop and the report */
int parse_url(const char *url, struct sockaddr_in *sa, char *host, size_t hn,
		     char *path, size_t pn);
double parse_num(const char *s, const char *what, double min, double max);
void usage(FILE *f);
void parse_args(int argc, char **argv);
void on_signal(int sig);
void raise_nofile(void);
void snap(struct step_stat *s, bool start);
int alive(void);
void report(double t_connect, uint64_t mem_before, uint64_t mem_after);

#endif
