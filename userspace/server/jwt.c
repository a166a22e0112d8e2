// SPDX-License-Identifier: GPL-2.0
/*
 * jwt.c - verifying the JSON Web Tokens of jwt.h.  The order matters:
 * the form and "alg" first, the signature next, and only then is the
 * payload parsed, so no claim of an unverified token is ever looked at.
 */
#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <nettle/base64.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <stdlib.h>
#include <string.h>

#include "server/jwt.h"

#define JWT_SECRET_MIN	32	/* bytes: RFC 7518 3.2 wants a key as long as the hash */

int jwt_keys_set_secret(struct jwt_keys *k, const void *secret, size_t len)
{
	uint8_t *copy;

	if (len < JWT_SECRET_MIN)
		return -EINVAL;
	copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, secret, len);
	free(k->secret);
	k->secret = copy;
	k->secret_len = len;
	return 0;
}

int jwt_keys_set_pem(struct jwt_keys *k, const char *pem, size_t len, const char **why)
{
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned int)len };
	gnutls_pubkey_t pub;
	gnutls_ecc_curve_t curve;
	unsigned int bits = 0;
	int alg;

	if (gnutls_pubkey_init(&pub) < 0) {
		*why = "out of memory";
		return -ENOMEM;
	}
	if (gnutls_pubkey_import(pub, &d, GNUTLS_X509_FMT_PEM) < 0) {
		gnutls_pubkey_deinit(pub);
		*why = "not a PEM public key (-----BEGIN PUBLIC KEY-----)";
		return -EINVAL;
	}
	switch (gnutls_pubkey_get_pk_algorithm(pub, &bits)) {
	case GNUTLS_PK_ECDSA:
		if (gnutls_pubkey_export_ecc_raw(pub, &curve, NULL, NULL) < 0 ||
		    curve != GNUTLS_ECC_CURVE_SECP256R1) {
			*why = "an EC key must be on P-256 (ES256)";
			goto bad;
		}
		alg = JWT_ES256;
		break;
	case GNUTLS_PK_RSA:
		if (bits < 2048) {
			*why = "an RSA key must have 2048 bits or more (RS256)";
			goto bad;
		}
		alg = JWT_RS256;
		break;
	default:
		*why = "the key must be EC P-256 (ES256) or RSA (RS256)";
		goto bad;
	}
	if (k->pub)
		gnutls_pubkey_deinit(k->pub);
	k->pub = pub;
	k->pub_alg = alg;
	return 0;
bad:
	gnutls_pubkey_deinit(pub);
	return -EINVAL;
}

void jwt_keys_free(struct jwt_keys *k)
{
	free(k->secret);
	if (k->pub)
		gnutls_pubkey_deinit(k->pub);
	memset(k, 0, sizeof(*k));
}

/*
 * Decodes base64url without padding (RFC 7515 2) into @out (at least
 * len * 3 / 4 + 3 bytes); returns the length, or -1.
 */
static long b64url(const char *s, size_t len, uint8_t *out)
{
	struct base64_decode_ctx ctx;
	char pad[4] = "===";
	size_t n = 0, m = 0;

	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '=' || s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')
			return -1;	/* nettle would skip white space and take padding */
	base64url_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &n, out, len, s))
		return -1;
	if (len % 4) {
		if (!base64_decode_update(&ctx, &m, out + n, 4 - len % 4, pad))
			return -1;
		n += m;
	}
	if (!base64_decode_final(&ctx))
		return -1;
	return (long)n;
}

/* "alg" of the decoded header, or 0 (unknown, "none", bad JSON, "crit"). */
static int header_alg(const uint8_t *h, size_t len)
{
	json_t *j = json_loadb((const char *)h, len, JSON_REJECT_DUPLICATES, NULL);
	const char *alg;
	int ret = 0;

	if (!json_is_object(j))
		goto out;
	/* an extension we would have to understand: refuse (RFC 7515 4.1.11) */
	if (json_object_get(j, "crit"))
		goto out;
	alg = json_string_value(json_object_get(j, "alg"));
	if (!alg)
		goto out;
	if (!strcmp(alg, "HS256"))
		ret = JWT_HS256;
	else if (!strcmp(alg, "ES256"))
		ret = JWT_ES256;
	else if (!strcmp(alg, "RS256"))
		ret = JWT_RS256;
out:
	json_decref(j);
	return ret;
}

static int verify_sig(const struct jwt_keys *k, int alg, const char *input, size_t ilen,
		      const uint8_t *sig, size_t slen)
{
	gnutls_datum_t data = { (unsigned char *)input, (unsigned int)ilen };
	gnutls_datum_t s = { (unsigned char *)sig, (unsigned int)slen };
	int ret;

	if (alg == JWT_HS256) {
		struct hmac_sha256_ctx ctx;
		uint8_t mac[SHA256_DIGEST_SIZE];

		if (slen != sizeof(mac))
			return -EKEYREJECTED;
		hmac_sha256_set_key(&ctx, k->secret_len, k->secret);
		hmac_sha256_update(&ctx, ilen, (const uint8_t *)input);
		hmac_sha256_digest(&ctx, sizeof(mac), mac);
		return memeql_sec(mac, sig, sizeof(mac)) ? 0 : -EKEYREJECTED;
	}
	if (alg == JWT_ES256) {
		/* JWS carries r || s, 32 bytes each; GnuTLS wants DER */
		gnutls_datum_t r = { (unsigned char *)sig, 32 }, ss = { (unsigned char *)sig + 32, 32 };
		gnutls_datum_t der = { NULL, 0 };

		if (slen != 64 || gnutls_encode_rs_value(&der, &r, &ss) < 0)
			return -EKEYREJECTED;
		ret = gnutls_pubkey_verify_data2(k->pub, GNUTLS_SIGN_ECDSA_SHA256, 0, &data, &der);
		gnutls_free(der.data);
		return ret < 0 ? -EKEYREJECTED : 0;
	}
	ret = gnutls_pubkey_verify_data2(k->pub, GNUTLS_SIGN_RSA_SHA256, 0, &data, &s);
	return ret < 0 ? -EKEYREJECTED : 0;
}

/* A NumericDate claim: absent (0, true), a number (true), else false. */
static bool numeric_date(json_t *payload, const char *name, int64_t *out)
{
	json_t *v = json_object_get(payload, name);

	*out = 0;
	if (!v)
		return true;
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return true;
	}
	if (json_is_real(v) && json_real_value(v) > -9e15 && json_real_value(v) < 9e15) {
		*out = (int64_t)json_real_value(v);
		return true;
	}
	return false;
}

/* True if @v is the string @want, byte for byte. */
static bool claim_is(const json_t *v, const char *want)
{
	return json_is_string(v) && json_string_length(v) == strlen(want) &&
	       !memcmp(json_string_value(v), want, json_string_length(v));
}

/* "aud" (RFC 7519 4.1.3): one string, or an array of them, naming @want. */
static bool claim_names(const json_t *v, const char *want)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return claim_is(v, want);
	json_array_foreach(v, i, e)
		if (claim_is(e, want))
			return true;
	return false;
}

int jwt_verify(const struct jwt_keys *k, const char *token, size_t len, int64_t now,
	       struct jwt_claims *out, const char **why)
{
	const char *dot1, *dot2;
	uint8_t *buf;
	json_t *payload = NULL;
	int64_t exp, nbf;
	long hl, pl, sl;
	int alg, err = -EINVAL;

	memset(out, 0, sizeof(*out));
	*why = "malformed token";
	if (!len || len > JWT_MAX_LEN)
		return -EINVAL;
	dot1 = memchr(token, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
		return -EINVAL;
	buf = malloc(len + 8);
	if (!buf)
		return -ENOMEM;

	hl = b64url(token, (size_t)(dot1 - token), buf);
	alg = hl > 0 ? header_alg(buf, (size_t)hl) : 0;
	if (!alg) {
		*why = "unsupported alg (HS256, ES256 or RS256; never none)";
		goto out;
	}
	if ((alg == JWT_HS256 && !k->secret) || (alg != JWT_HS256 && (!k->pub || alg != k->pub_alg))) {
		*why = "no key for this alg";
		goto out;
	}
	sl = b64url(dot2 + 1, len - (size_t)(dot2 + 1 - token), buf);
	if (sl <= 0 || verify_sig(k, alg, token, (size_t)(dot2 - token), buf, (size_t)sl)) {
		*why = "bad signature";
		err = -EKEYREJECTED;
		goto out;
	}

	/* signed: now the claims */
	pl = b64url(dot1 + 1, (size_t)(dot2 - dot1 - 1), buf);
	if (pl <= 0)
		goto out;
	payload = json_loadb((const char *)buf, (size_t)pl, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(payload) || !numeric_date(payload, "exp", &exp) ||
	    !numeric_date(payload, "nbf", &nbf)) {
		*why = "bad claims";
		goto out;
	}
	if (json_object_get(payload, "exp") && now >= exp) {
		*why = "token expired";
		err = -EKEYEXPIRED;
		goto out;
	}
	if (json_object_get(payload, "nbf") && now < nbf) {
		*why = "token not valid yet";
		err = -EKEYEXPIRED;
		goto out;
	}
	if (k->need_exp && !json_object_get(payload, "exp")) {
		*why = "token without exp (pushd requires one: --jwt-require-exp)";
		goto out;
	}
	if (k->iss && !claim_is(json_object_get(payload, "iss"), k->iss)) {
		*why = "token of another issuer (iss)";
		goto out;
	}
	if (k->aud && !claim_names(json_object_get(payload, "aud"), k->aud)) {
		*why = "token for another audience (aud)";
		goto out;
	}
	out->payload = payload;
	out->exp = exp;
	payload = NULL;
	err = 0;
	*why = NULL;
out:
	json_decref(payload);
	free(buf);
	return err;
}

bool jwt_grants(const struct jwt_claims *c, bool publish, const char *name, size_t len)
{
	json_t *list = json_object_get(json_object_get(c->payload, "push"),
				       publish ? "publish" : "subscribe");
	size_t i;
	json_t *v;

	if (!json_is_array(list))
		return false;
	json_array_foreach(list, i, v) {
		const char *p = json_string_value(v);
		size_t plen = p ? json_string_length(v) : 0;

		if (!plen)
			continue;
		if (p[plen - 1] == '*') {
			if (len >= plen - 1 && !memcmp(name, p, plen - 1))
				return true;
		} else if (plen == len && !memcmp(name, p, len)) {
			return true;
		}
	}
	return false;
}

void jwt_claims_free(struct jwt_claims *c)
{
	json_decref(c->payload);
	c->payload = NULL;
}
