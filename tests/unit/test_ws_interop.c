// SPDX-License-Identifier: GPL-2.0
/*
 * test_ws_interop.c - our WebSocket code against a real client: Debian's
 * python3-websockets (10.x) connects to a minimal server built from
 * ws_accept_key(), ws_frame() and ws_parse() over a loopback socket.
 *
 * The client must accept our handshake (while offering permessage-deflate,
 * which we do not grant), receive our text frames of 5 and 70000 bytes and
 * answer our ping; the server must parse the client's masked text, a
 * fragmented message, a binary message, a ping and a close with a code.
 * Skips (exit 4) when python3 or its websockets module is missing.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "protocol/ws.h"

#define PY "/usr/bin/python3"

#include "tap.h"

/* The client: prints what it saw; exit 0 only if all was as expected. */
static const char client_py[] =
"import asyncio, sys, websockets\n"
"async def main(port):\n"
"    async with websockets.connect('ws://127.0.0.1:%s/sub/x' % port,\n"
"                                  max_size=1 << 20) as ws:\n"
"        assert ws.extensions == [], ws.extensions\n"
"        a = await ws.recv()\n"
"        assert a == 'hello', a\n"
"        b = await ws.recv()\n"
"        assert b == 'x' * 70000, len(b)\n"
"        await ws.send('h\\u00e9llo')\n"
"        await ws.send(['abc', 'd\\u00e9', 'f'])\n"
"        await ws.send(bytes(range(200)))\n"
"        await ws.ping(b'cp')\n"
"        await ws.close(4001, 'bye')\n"
"        assert ws.close_code == 4001, ws.close_code\n"
"    print('# client ok')\n"
"asyncio.run(asyncio.wait_for(main(sys.argv[1]), 20))\n";

static int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static int send_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

/* Read the request head; find Sec-WebSocket-Key.  Returns 0 or -1. */
static int read_handshake(int fd, char *key, size_t keycap)
{
	char req[8192], *line, *end;
	size_t n = 0;

	while (n < sizeof(req) - 1 && !strstr(req, "\r\n\r\n")) {
		ssize_t r;

		if (!wait_readable(fd, 10000))
			return -1;
		r = recv(fd, req + n, sizeof(req) - 1 - n, 0);
		if (r <= 0)
			return -1;
		n += r;
		req[n] = 0;
	}
	for (line = req; (end = strstr(line, "\r\n")) && end != line; line = end + 2) {
		*end = 0;
		if (!strncasecmp(line, "Sec-WebSocket-Key:", 18)) {
			snprintf(key, keycap, "%s", line + 18);
			return 0;
		}
	}
	return -1;
}

struct got {
	int text, fragmented, binary, ping, pong, close;
	uint16_t close_code;
};

/* Parse what the client sends until its close; answer pings and close. */
static int serve(int fd, struct got *g)
{
	static uint8_t in[1 << 16], msg[1 << 16];
	struct ws_parser p;
	int closed = 0;

	ws_parser_init(&p, msg, sizeof(msg));
	while (!closed) {
		size_t n, off = 0;
		ssize_t r;

		if (!wait_readable(fd, 10000))
			return -1;
		r = recv(fd, in, sizeof(in), 0);
		if (r <= 0)
			return -1;
		n = r;
		while (off < n) {
			struct ws_event ev;
			uint8_t out[WS_HEADER_MAX + WS_CONTROL_MAX];
			size_t used, k;
			int t = ws_parse(&p, in + off, n - off, &used, &ev);

			off += used;
			switch (t) {
			case WS_EV_NONE:
				break;
			case WS_EV_TEXT:
				if (ev.len == 6 && !memcmp(ev.data, "h\xc3\xa9llo", 6))
					g->text++;
				else if (ev.len == 7 && !memcmp(ev.data, "abcd\xc3\xa9" "f", 7))
					g->fragmented++;
				break;
			case WS_EV_BINARY:
				for (k = 0; k < ev.len && ev.data[k] == k; k++)
					;
				g->binary += ev.len == 200 && k == 200;
				break;
			case WS_EV_PING:
				g->ping += ev.len == 2 && !memcmp(ev.data, "cp", 2);
				k = ws_frame(out, sizeof(out), WS_OP_PONG, ev.data, ev.len);
				if (send_all(fd, out, k))
					return -1;
				break;
			case WS_EV_PONG:
				g->pong += ev.len == 1 && ev.data[0] == 'p';
				break;
			case WS_EV_CLOSE:
				g->close++;
				g->close_code = ev.code;
				k = ws_close_frame(out, sizeof(out), ev.code, "bye");
				if (send_all(fd, out, k))
					return -1;
				closed = 1;
				break;
			default:
				printf("# protocol error %u: %.*s\n", ev.code,
				       (int)ev.len, ev.data);
				return -1;
			}
			if (t == WS_EV_NONE)
				break;
		}
	}
	return 0;
}

int main(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	char key[128], accept_val[WS_ACCEPT_LEN + 1], port[16], resp[256];
	static uint8_t frames[80000];
	struct got g = { 0 };
	size_t n;
	int lfd, fd, status, rc;
	pid_t pid;

	if (access(PY, X_OK) ||
	    system(PY " -c 'import websockets' >/dev/null 2>&1") != 0) {
		printf("1..0 # SKIP python3-websockets not installed\n");
		return 4;
	}
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(lfd, 1) || getsockname(lfd, (struct sockaddr *)&sa, &sl)) {
		perror("listen");
		return 1;
	}
	snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));
	pid = fork();
	if (pid == 0) {
		execl(PY, PY, "-c", client_py, port, (char *)NULL);
		_exit(127);
	}

	fd = wait_readable(lfd, 15000) ? accept(lfd, NULL, NULL) : -1;
	CHECK(fd >= 0, "client connected");
	if (fd < 0)
		goto out;
	rc = read_handshake(fd, key, sizeof(key));
	CHECK(rc == 0 && ws_accept_key(key, accept_val) == 0,
	      "client key accepted (%s)", rc ? "none" : key);
	n = snprintf(resp, sizeof(resp),
		     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		     accept_val);
	/* Coalesced: two text frames and a ping in one send. */
	memcpy(frames, resp, n);
	n += ws_frame(frames + n, sizeof(frames) - n, WS_OP_TEXT, "hello", 5);
	{
		static char big[70000];

		memset(big, 'x', sizeof(big));
		n += ws_frame(frames + n, sizeof(frames) - n, WS_OP_TEXT, big,
			      sizeof(big));
	}
	n += ws_frame(frames + n, sizeof(frames) - n, WS_OP_PING, "p", 1);
	CHECK(send_all(fd, frames, n) == 0, "handshake and frames sent");
	CHECK(serve(fd, &g) == 0, "client frames parsed without error");
	CHECK(g.text == 1, "masked text message with UTF-8");
	CHECK(g.fragmented == 1, "fragmented text message reassembled");
	CHECK(g.binary == 1, "binary message");
	CHECK(g.ping == 1, "client ping");
	CHECK(g.pong == 1, "pong to our ping");
	CHECK(g.close == 1 && g.close_code == 4001, "close with code 4001");
	close(fd);
out:
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "client saw our frames and close (exit %d)",
	      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	close(lfd);
	return tap_done();
}
