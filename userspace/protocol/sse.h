/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sse.h - Server-Sent Events encoding (WHATWG HTML, "Server-sent events").
 *
 * Same convention as json.h: each encoder writes at most cap bytes (no NUL)
 * and returns the length of the whole output; complete iff result <= cap.
 */
#ifndef PUSH_SSE_H
#define PUSH_SSE_H

#include <stddef.h>
#include <stdint.h>

/*
 * One event: "id: N\n" (omitted when id is 0), "event: NAME\n" (when event
 * is not NULL; CR and LF in it are dropped), then data split at every LF,
 * CRLF or CR into "data: LINE\n" lines (one "data: \n" line when len is 0),
 * then the blank line that dispatches it.
 */
size_t sse_event(char *out, size_t cap, uint64_t id, const char *event,
		 const char *data, size_t len);

/* A comment ": TEXT\n\n" (CR and LF in text become spaces); a heartbeat. */
size_t sse_comment(char *out, size_t cap, const char *text);

/* "retry: MS\n\n": the client's reconnection delay. */
size_t sse_retry(char *out, size_t cap, unsigned int ms);

/* Upper bound of sse_event() for data of len bytes and this event name. */
size_t sse_event_max(size_t len, const char *event);

#endif /* PUSH_SSE_H */
