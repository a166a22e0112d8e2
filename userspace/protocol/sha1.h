/* SPDX-License-Identifier: GPL-2.0 */
/* sha1.h - SHA-1 (FIPS 180-4), only for the WebSocket handshake. */
#ifndef PUSH_SHA1_H
#define PUSH_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN	20

struct sha1_ctx {
	uint32_t h[5];
	uint64_t len;		/* bytes fed so far */
	uint8_t block[64];
	size_t used;		/* bytes in block */
};

void sha1_init(struct sha1_ctx *c);
void sha1_update(struct sha1_ctx *c, const void *data, size_t len);
void sha1_final(struct sha1_ctx *c, uint8_t out[SHA1_LEN]);

/* One-shot: out = SHA-1(data). */
void sha1(const void *data, size_t len, uint8_t out[SHA1_LEN]);

#endif /* PUSH_SHA1_H */
