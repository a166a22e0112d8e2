/* SPDX-License-Identifier: GPL-2.0 */
/* base64.h - base64 (RFC 4648, standard alphabet, padded). */
#ifndef PUSH_BASE64_H
#define PUSH_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Encoded length of len bytes. */
#define BASE64_LEN(len)	(((len) + 2) / 3 * 4)

/*
 * Encode in[0..len) into out; writes at most cap bytes (no NUL) and
 * returns BASE64_LEN(len): complete iff that is <= cap.
 */
size_t base64_encode(char *out, size_t cap, const uint8_t *in, size_t len);

/*
 * Decode strict padded base64 (length a multiple of 4, no whitespace,
 * unused bits zero) into out[0..cap).  Returns the decoded length, or -1
 * if the input is not such base64 or out is too small.
 */
long base64_decode(uint8_t *out, size_t cap, const char *in, size_t len);

#endif /* PUSH_BASE64_H */
