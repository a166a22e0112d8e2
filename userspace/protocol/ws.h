/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ws.h - WebSocket (RFC 6455) handshake and framing, server side, no I/O.
 *
 * The server gets a raw socket from libmicrohttpd's upgrade API; it feeds
 * whatever it receives to ws_parse() and sends frames it encodes itself:
 * ws_frame_header() writes a header into the caller's buffer, so any number
 * of frames can be coalesced in one send.  Why our own code rather than
 * libwslay: docs/WEBSOCKET.md.
 */
#ifndef PUSH_WS_H
#define PUSH_WS_H

#include <stddef.h>
#include <stdint.h>

/* Opcodes. */
#define WS_OP_CONT	0x0
#define WS_OP_TEXT	0x1
#define WS_OP_BINARY	0x2
#define WS_OP_CLOSE	0x8
#define WS_OP_PING	0x9
#define WS_OP_PONG	0xa

/* Close codes (RFC 6455 7.4.1). */
#define WS_CLOSE_NORMAL		1000
#define WS_CLOSE_GOING_AWAY	1001
#define WS_CLOSE_PROTOCOL	1002
#define WS_CLOSE_UNSUPPORTED	1003
#define WS_CLOSE_NO_STATUS	1005	/* never sent: "the close had no code" */
#define WS_CLOSE_ABNORMAL	1006	/* never sent: "no close frame at all" */
#define WS_CLOSE_BAD_DATA	1007
#define WS_CLOSE_POLICY		1008
#define WS_CLOSE_TOO_BIG	1009
#define WS_CLOSE_INTERNAL	1011

#define WS_HEADER_MAX		10	/* longest server frame header */
#define WS_CONTROL_MAX		125	/* longest control frame payload */
#define WS_ACCEPT_LEN		28	/* strlen of a Sec-WebSocket-Accept value */

/*
 * Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)),
 * NUL-terminated in out.  The key (surrounding spaces and tabs ignored)
 * must be the base64 of exactly 16 bytes.  Returns 0, or -EINVAL.
 */
int ws_accept_key(const char *client_key, char out[WS_ACCEPT_LEN + 1]);

/* Header of a server frame (FIN set, unmasked); returns its length, 2..10. */
size_t ws_frame_header(uint8_t out[WS_HEADER_MAX], int opcode,
		       uint64_t payload_len);

/*
 * A whole server frame: header then payload.  Writes it only if it fits in
 * cap (nothing otherwise); returns its length either way.
 */
size_t ws_frame(uint8_t *out, size_t cap, int opcode, const void *payload,
		size_t len);

/*
 * A close frame with code and reason (reason may be NULL; cut at a UTF-8
 * character boundary to fit 125 bytes).  code 0 sends a close without
 * payload.  Writes only if it fits in cap; returns its length either way.
 */
size_t ws_close_frame(uint8_t *out, size_t cap, uint16_t code,
		      const char *reason);

/* 1 if a peer may send code in a close frame (RFC 6455 7.4), else 0. */
int ws_close_code_valid(uint16_t code);

/* What ws_parse() found. */
enum ws_event_type {
	WS_EV_NONE = 0,	/* all input consumed, need more */
	WS_EV_TEXT,	/* a complete text message (valid UTF-8) */
	WS_EV_BINARY,	/* a complete binary message */
	WS_EV_PING,	/* a ping: answer with a pong of the same payload */
	WS_EV_PONG,	/* a pong */
	WS_EV_CLOSE,	/* a close: code (1005 if none) and reason */
	WS_EV_ERROR,	/* the peer broke the protocol: close with code */
};

/*
 * One event.  data/len: the message (in the parser's buffer, or NULL when
 * it keeps none), the ping/pong payload, the close reason, or for an error
 * a short static text suitable as the close reason.  The pointers stay
 * valid until the next ws_parse() call.
 */
struct ws_event {
	int type;		/* enum ws_event_type */
	uint16_t code;		/* CLOSE: peer's code; ERROR: code to send */
	const uint8_t *data;
	size_t len;
};

/* ws_zsink() flags. */
#define WS_Z_TEXT	0x1	/* the message is text: check its UTF-8 */
#define WS_Z_END	0x2	/* the last bytes of the message */

/*
 * Where the payload of a compressed message (RSV1, RFC 7692) goes, in
 * pieces as they arrive, unmasked: the sink inflates and checks it.  Returns
 * 0, or a close code with *why set to a short static reason.
 */
typedef uint16_t ws_zsink(void *ctx, const uint8_t *in, size_t len, int flags,
			  const char **why);

/*
 * Incremental parser of client frames.  Initialise with ws_parser_init();
 * the other fields are private.  Data messages (fragmented or not) are
 * reassembled in the caller's buffer buf[0..cap); with buf NULL they are
 * validated and counted but not kept (cheap when the content is ignored).
 * Either way a message over cap bytes is an error (1009).  Messages with
 * RSV1 set are refused unless ws_parser_compressed() gave a sink; they then
 * go to the sink, never to buf (cap bounds their compressed size).
 */
struct ws_parser {
	uint8_t *buf;		/* message buffer, or NULL */
	size_t cap;		/* largest message accepted */
	size_t msg_len;		/* bytes of the current data message */
	uint64_t remaining;	/* payload bytes left in the current frame */
	uint64_t frame_len;	/* payload length of the current frame */
	uint32_t utf8;		/* UTF-8 state across a text message's frames */
	uint8_t state;		/* where in a frame we are */
	uint8_t hdr_len;	/* header bytes gathered */
	uint8_t hdr_need;	/* header bytes needed (2, then the full size) */
	uint8_t opcode;		/* current frame's opcode */
	uint8_t fin;		/* current frame is the last of its message */
	uint8_t msg_op;		/* WS_OP_TEXT/BINARY of a message in progress, or 0 */
	uint8_t msg_z;		/* the message in progress is compressed */
	ws_zsink *zsink;	/* RSV1 messages go here; NULL: RSV1 is an error */
	void *zctx;
	uint8_t hdr[14];	/* header bytes gathered */
	uint8_t mask[4];
	uint8_t mask_pos;	/* index into mask of the next payload byte */
	uint8_t ctl_len;	/* control payload bytes gathered */
	uint8_t ctl[WS_CONTROL_MAX];
	struct ws_event err;	/* sticky error, once one happened */
};

/* Set p up with a message buffer (or NULL) and the largest message. */
void ws_parser_init(struct ws_parser *p, uint8_t *buf, size_t cap);

/* Accept compressed messages (permessage-deflate was negotiated): to sink. */
void ws_parser_compressed(struct ws_parser *p, ws_zsink *sink, void *ctx);

/*
 * Parse in[0..len): consumes bytes up to and including the first complete
 * event, sets *consumed and *ev, and returns ev->type.  WS_EV_NONE means
 * all of in was consumed without completing an event.  Call again with the
 * rest of the input after each event.  After WS_EV_ERROR the parser stays
 * in error (every call returns the same error, consuming nothing); after
 * WS_EV_CLOSE everything is consumed and ignored (RFC 6455 5.5.1).
 * Errors: 1002 unmasked frame, RSV bits (RSV1 but on the first frame of a
 * data message with a sink), unknown opcode, fragmented or
 * long control frame, stray continuation, data frame inside a fragmented
 * message, close payload of 1 byte or with an invalid code; 1007 invalid
 * UTF-8 in a text message or close reason; 1009 message over cap; and
 * what the sink returns.
 */
int ws_parse(struct ws_parser *p, const uint8_t *in, size_t len,
	     size_t *consumed, struct ws_event *ev);

#endif /* PUSH_WS_H */
