// SPDX-License-Identifier: GPL-2.0
/* base64.c - base64 (RFC 4648 section 4) for JSON payloads and WebSocket keys. */
#include "protocol/base64.h"

static const char b64_alphabet[64] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(char *out, size_t cap, const uint8_t *in, size_t len)
{
	size_t need = BASE64_LEN(len), o = 0, i = 0;

	/* Whole groups of three bytes while four characters fit. */
	for (; i + 3 <= len && o + 4 <= cap; i += 3, o += 4) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
			     in[i + 2];

		out[o] = b64_alphabet[v >> 18];
		out[o + 1] = b64_alphabet[(v >> 12) & 63];
		out[o + 2] = b64_alphabet[(v >> 6) & 63];
		out[o + 3] = b64_alphabet[v & 63];
	}
	/* The padded tail, and whatever fits of a too-small buffer. */
	while (o < cap && o < need) {
		size_t g = o / 4 * 3, k = o % 4;
		uint32_t v = (uint32_t)in[g] << 16;

		if (g + 1 < len)
			v |= (uint32_t)in[g + 1] << 8;
		if (g + 2 < len)
			v |= in[g + 2];
		if (k >= 2 && g + k - 1 >= len)
			out[o] = '=';
		else
			out[o] = b64_alphabet[(v >> (18 - 6 * k)) & 63];
		o++;
	}
	return need;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long base64_decode(uint8_t *out, size_t cap, const char *in, size_t len)
{
	size_t o = 0, i;

	if (len % 4)
		return -1;
	for (i = 0; i < len; i += 4) {
		int v[4], pad = 0, k;
		uint32_t w;

		for (k = 0; k < 4; k++) {
			v[k] = b64_value(in[i + k]);
			if (in[i + k] == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
			} else if (v[k] < 0 || pad) {
				return -1;	/* bad character, or data after '=' */
			}
		}
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		    (uint32_t)v[2] << 6 | (uint32_t)v[3];
		/* Bits that padding drops must be zero (canonical form). */
		if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
			return -1;
		if (o + 3 - pad > cap)
			return -1;
		out[o++] = w >> 16;
		if (pad < 2)
			out[o++] = w >> 8;
		if (pad < 1)
			out[o++] = w;
	}
	return (long)o;
}
