// SPDX-License-Identifier: GPL-2.0
/* config.c - defaults and the --listen parser. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

struct pushd_config pushd_cfg;

void config_defaults(struct pushd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	config_parse_listen(cfg, "127.0.0.1:8080");
	cfg->device = "/dev/push";
	cfg->heartbeat = 15;
	cfg->poll_timeout = 30;
	cfg->max_queue = 1 << 20;
	cfg->max_conns = 60000;
	cfg->max_conns_per_ip = 0;
	cfg->conn_memory = 3072;
	cfg->max_channels = 100000;
	cfg->header_timeout = 10;
	cfg->pong_misses = 3;
	/* not mmap yet: push-probe times the device by its read()s (docs/PUSHD.md) */
	cfg->reader = PUSHD_READER_READ;
	cfg->sse_path = PUSHD_SSE_HUB;
	cfg->close_timeout = 60;
	cfg->replay_cache = 16 << 20;
	cfg->max_msg_size = 65536;
	cfg->listen_fd = -1;
}

int config_parse_listen(struct pushd_config *cfg, const char *s)
{
	return config_parse_addr(s, &cfg->listen, &cfg->listen_len);
}

int config_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	const char *h = s;
	size_t hlen;
	char *end;
	unsigned long port;

	if (!colon)
		return -EINVAL;
	hlen = (size_t)(colon - s);
	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		h = s + 1;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port > 65535)
		return -EINVAL;

	struct sockaddr_storage a = { 0 };
	struct sockaddr_in *in4 = (struct sockaddr_in *)&a;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a;
	socklen_t alen;

	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		alen = sizeof(*in4);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		alen = sizeof(*in6);
	} else {
		return -EINVAL;
	}
	*ss = a;
	*len = alen;
	return 0;
}
