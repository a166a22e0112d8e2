// SPDX-License-Identifier: GPL-2.0
/*
 * sha1.c - SHA-1 as FIPS 180-4 describes it.  Only the WebSocket handshake
 * uses it (RFC 6455 fixes the hash), so it is small rather than fast.
 */
#include <string.h>

#include "protocol/sha1.h"

static inline uint32_t rol32(uint32_t x, unsigned int n)
{
	return (x << n) | (x >> (32 - n));
}

static inline uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Process one 64-byte block: 80 rounds over a 16-word rolling schedule. */
static void sha1_block(uint32_t h[5], const uint8_t *block)
{
	uint32_t w[16], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	int i;

	for (i = 0; i < 16; i++)
		w[i] = load_be32(block + 4 * i);
	for (i = 0; i < 80; i++) {
		uint32_t f, k, t;

		if (i >= 16)
			w[i & 15] = rol32(w[(i + 13) & 15] ^ w[(i + 8) & 15] ^
					  w[(i + 2) & 15] ^ w[i & 15], 1);
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = rol32(a, 5) + f + e + k + w[i & 15];
		e = d;
		d = c;
		c = rol32(b, 30);
		b = a;
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void sha1_init(struct sha1_ctx *c)
{
	c->h[0] = 0x67452301;
	c->h[1] = 0xefcdab89;
	c->h[2] = 0x98badcfe;
	c->h[3] = 0x10325476;
	c->h[4] = 0xc3d2e1f0;
	c->len = 0;
	c->used = 0;
}

void sha1_update(struct sha1_ctx *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	c->len += len;
	while (len) {
		size_t n = sizeof(c->block) - c->used;

		if (c->used == 0 && len >= sizeof(c->block)) {
			sha1_block(c->h, p);
			p += sizeof(c->block);
			len -= sizeof(c->block);
			continue;
		}
		if (n > len)
			n = len;
		memcpy(c->block + c->used, p, n);
		c->used += n;
		p += n;
		len -= n;
		if (c->used == sizeof(c->block)) {
			sha1_block(c->h, c->block);
			c->used = 0;
		}
	}
}

/* Pad with 0x80, zeros and the bit length so the total is 64-aligned. */
void sha1_final(struct sha1_ctx *c, uint8_t out[SHA1_LEN])
{
	uint64_t bits = c->len * 8;
	int i;

	c->block[c->used++] = 0x80;
	if (c->used > 56) {
		memset(c->block + c->used, 0, sizeof(c->block) - c->used);
		sha1_block(c->h, c->block);
		c->used = 0;
	}
	memset(c->block + c->used, 0, 56 - c->used);
	store_be32(c->block + 56, bits >> 32);
	store_be32(c->block + 60, (uint32_t)bits);
	sha1_block(c->h, c->block);
	for (i = 0; i < 5; i++)
		store_be32(out + 4 * i, c->h[i]);
}

void sha1(const void *data, size_t len, uint8_t out[SHA1_LEN])
{
	struct sha1_ctx c;

	sha1_init(&c);
	sha1_update(&c, data, len);
	sha1_final(&c, out);
}
