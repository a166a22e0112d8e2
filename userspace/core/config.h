/* SPDX-License-Identifier: GPL-2.0 */
/* config.h - pushd's settings, filled from the command line by main.c. */
#ifndef PUSHD_CONFIG_H
#define PUSHD_CONFIG_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

#define PUSHD_VERSION "0.1"

/* Entries of each repeatable option (--allow-host, --trusted-proxy). */
#define PUSHD_LIST_MAX 16

/* How the hub reads the device (--reader). */
enum pushd_reader {
	PUSHD_READER_AUTO,	/* mmap where the device offers it, else read */
	PUSHD_READER_MMAP,	/* the read-only mapping of the history; refuse to start without */
	PUSHD_READER_READ,	/* read() through io_uring into a buffer */
};

/* Who writes an SSE stream's events (--sse-path). */
enum pushd_sse_path {
	PUSHD_SSE_HUB,	/* MHD sends the head, then the hub sendmsg()s the events */
	PUSHD_SSE_MHD,	/* MHD's content reader, resumed for every delivery */
};

struct pushd_config {
	struct sockaddr_storage listen;	/* --listen, default 127.0.0.1:8080 */
	socklen_t listen_len;
	struct sockaddr_storage pub_listen;	/* --pub-listen: publishing only */
	socklen_t pub_listen_len;	/* 0 without --pub-listen */
	const char *device;		/* --device, default /dev/push */
	enum pushd_reader reader;	/* --reader, default read */
	enum pushd_sse_path sse_path;	/* --sse-path, default hub (mhd under TLS) */
	char *token;			/* contents of --token-file, NULL without */
	const char *allow_origin;	/* --allow-origin, NULL without */
	const char *allow_host[PUSHD_LIST_MAX];	/* --allow-host names */
	unsigned int nallow_host;
	struct in6_addr trusted_proxy[PUSHD_LIST_MAX];	/* --trusted-proxy, v4-mapped */
	unsigned int ntrusted_proxy;
	const char *private_chans[PUSHD_LIST_MAX];	/* --private: "name" or "prefix*" */
	unsigned int nprivate;
	char *jwt_secret;		/* contents of --jwt-secret-file (HS256) */
	size_t jwt_secret_len;
	char *jwt_key_pem;		/* contents of --jwt-key-file (ES256, RS256) */
	const char *jwt_issuer;		/* --jwt-issuer: the "iss" tokens must have */
	const char *jwt_audience;	/* --jwt-audience: the "aud" tokens must name */
	int jwt_require_exp;		/* --jwt-require-exp */
	char *cert_pem, *key_pem;	/* contents of --cert / --key */
	const char *user;		/* --user */
	const char *bridge_status;	/* --bridge-status: push-bridge's --status file */
	unsigned int heartbeat;		/* --heartbeat seconds */
	unsigned int poll_timeout;	/* --poll-timeout seconds */
	size_t max_queue;		/* --max-queue bytes per client */
	unsigned int max_conns;		/* --max-conns */
	unsigned int max_conns_per_ip;	/* --max-conns-per-ip */
	size_t conn_memory;		/* --conn-memory: MHD's pool per connection */
	unsigned int max_channels;	/* --max-channels: channels with subscribers */
	unsigned int header_timeout;	/* --header-timeout: seconds to send the request head */
	unsigned int pong_misses;	/* --ping-misses: WebSocket pings unanswered before close */
	unsigned int close_timeout;	/* --close-timeout: seconds a client being closed may take */
	size_t replay_cache;		/* --replay-cache: bytes of resume items shared */
	unsigned int max_msg_size;	/* the device's, from PUSH_IOC_INFO */
	int verbose;			/* -v */
	int listen_fd;			/* from systemd (pushd.socket), or -1 */
	int watchdog;			/* systemd wants WATCHDOG=1 from the hub's tick */
};

extern struct pushd_config pushd_cfg;

/* Sets every field to its default. */
void config_defaults(struct pushd_config *cfg);

/* Parses "ADDR:PORT" or "[ADDR6]:PORT" into @cfg->listen; returns 0 or -EINVAL. */
int config_parse_listen(struct pushd_config *cfg, const char *s);

/* The same into @ss and @len, left alone on -EINVAL. */
int config_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len);

#endif
