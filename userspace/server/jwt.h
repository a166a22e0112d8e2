/* SPDX-License-Identifier: GPL-2.0 */
/*
 * jwt.h - JSON Web Tokens (RFC 7519) that grant channels: who may
 * subscribe to (and publish on) private channels.  A token is a JWS in
 * compact form signed with HS256 (a shared secret), ES256 (P-256) or RS256
 * (a public key); "alg" must be the one the configured key is for ("none"
 * and every other value are refused).  Its claims:
 *
 *   {"exp": 1764600000, "nbf": ..., "push": {"subscribe": ["user.42", "room.*"],
 *                                            "publish": ["user.42"]}}
 *
 * "exp" and "nbf" are checked when present (a key may require "exp"); a
 * key may also name the one "iss" and the "aud" its tokens must carry (an
 * "aud" array must hold it), so that tokens issued for another service
 * that shares the key are not taken.  A channel is granted when an entry
 * equals it, or ends in '*' and is a prefix of it.  Crypto is
 * GnuTLS/nettle's, JSON jansson's.
 */
#ifndef PUSHD_JWT_H
#define PUSHD_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JWT_MAX_LEN	8192	/* longest token taken */

/* The verification keys: at most one secret and one public key. */
struct jwt_keys {
	uint8_t *secret;		/* HS256, NULL without */
	size_t secret_len;
	void *pub;			/* gnutls_pubkey_t, NULL without */
	int pub_alg;			/* JWT_ES256 or JWT_RS256 */
	const char *iss;		/* "iss" a token must have, NULL: any or none */
	const char *aud;		/* "aud" a token must name, NULL: any or none */
	bool need_exp;			/* a token without "exp" is refused */
};

enum { JWT_HS256 = 1, JWT_ES256, JWT_RS256 };

/* A verified token's claims. */
struct jwt_claims {
	void *payload;			/* json_t * */
	int64_t exp;			/* seconds since the epoch; 0: none */
};

/* Takes @len bytes of shared secret (at least 32); returns 0 or -EINVAL. */
int jwt_keys_set_secret(struct jwt_keys *k, const void *secret, size_t len);

/*
 * Takes a PEM public key (SubjectPublicKeyInfo): P-256 for ES256, RSA of
 * 2048 bits or more for RS256.  Returns 0, or -EINVAL with *why set.
 */
int jwt_keys_set_pem(struct jwt_keys *k, const char *pem, size_t len, const char **why);

void jwt_keys_free(struct jwt_keys *k);

/*
 * Verifies @token (@len bytes) at @now (seconds since the epoch): its
 * form, "alg", signature, "exp" and "nbf", and "iss", "aud" and the
 * presence of "exp" as @k asks.  Returns 0 and fills @out (free
 * it with jwt_claims_free()), or -EINVAL / -EKEYREJECTED (bad signature) /
 * -EKEYEXPIRED (expired or not yet valid) with *why a short sentence.
 */
int jwt_verify(const struct jwt_keys *k, const char *token, size_t len, int64_t now,
	       struct jwt_claims *out, const char **why);

/* True if @c grants channel @name (@len bytes) to subscribe (or to publish). */
bool jwt_grants(const struct jwt_claims *c, bool publish, const char *name, size_t len);

void jwt_claims_free(struct jwt_claims *c);

#endif
