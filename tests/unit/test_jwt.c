// SPDX-License-Identifier: GPL-2.0
/*
 * test_jwt.c - JSON Web Token verification (userspace/server/jwt.c):
 * HS256, ES256 and RS256 tokens made here (keys generated with GnuTLS)
 * are accepted and grant what they name; a wrong signature, a tampered
 * payload, alg none, an alg without its key (HS256 signed with the public
 * key: algorithm confusion), expired and not-yet-valid tokens, malformed
 * forms and bad claims are refused with the right error; with an issuer,
 * an audience or exp required, tokens without them are.  TAP output.
 */
#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nettle/base64.h>
#include <nettle/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/jwt.h"

#include "tap.h"

#define NOW 1764600000LL

static const char secret[] = "0123456789abcdef0123456789abcdef-shared";

static char *b64(const void *data, size_t len)
{
	struct base64_encode_ctx ctx;
	char *out = malloc(BASE64_ENCODE_LENGTH(len) + BASE64_ENCODE_FINAL_LENGTH + 1);
	size_t n;

	base64url_encode_init(&ctx);
	n = base64_encode_update(&ctx, out, len, data);
	n += base64_encode_final(&ctx, out + n);
	while (n && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	return out;
}

/* "b64(header).b64(payload)" */
static char *signing_input(const char *header, const char *payload)
{
	char *h = b64(header, strlen(header)), *p = b64(payload, strlen(payload)), *out;

	if (asprintf(&out, "%s.%s", h, p) < 0)
		out = NULL;
	free(h);
	free(p);
	return out;
}

static char *join_sig(char *input, const void *sig, size_t len)
{
	char *s = b64(sig, len), *out;

	if (asprintf(&out, "%s.%s", input, s) < 0)
		out = NULL;
	free(s);
	free(input);
	return out;
}

static char *hs256(const char *header, const char *payload, const char *key, size_t klen)
{
	char *in = signing_input(header, payload);
	struct hmac_sha256_ctx ctx;
	uint8_t mac[SHA256_DIGEST_SIZE];

	hmac_sha256_set_key(&ctx, klen, (const uint8_t *)key);
	hmac_sha256_update(&ctx, strlen(in), (const uint8_t *)in);
	hmac_sha256_digest(&ctx, sizeof(mac), mac);
	return join_sig(in, mac, sizeof(mac));
}

/* Signs with @priv: RS256, or ES256 turned from DER into r || s. */
static char *pk_sign(gnutls_privkey_t priv, bool ec, const char *header, const char *payload)
{
	char *in = signing_input(header, payload);
	gnutls_datum_t data = { (unsigned char *)in, (unsigned int)strlen(in) }, sig, r, s;
	uint8_t rs[64] = { 0 };

	if (gnutls_privkey_sign_data2(priv, ec ? GNUTLS_SIGN_ECDSA_SHA256 : GNUTLS_SIGN_RSA_SHA256,
				      0, &data, &sig) < 0)
		return NULL;
	if (!ec) {
		char *out = join_sig(in, sig.data, sig.size);

		gnutls_free(sig.data);
		return out;
	}
	if (gnutls_decode_rs_value(&sig, &r, &s) < 0)
		return NULL;
	/* big-endian integers, maybe with a leading zero or shorter: 32 bytes each */
	memcpy(rs + 32 - (r.size > 32 ? 32 : r.size), r.data + (r.size > 32 ? r.size - 32 : 0),
	       r.size > 32 ? 32 : r.size);
	memcpy(rs + 64 - (s.size > 32 ? 32 : s.size), s.data + (s.size > 32 ? s.size - 32 : 0),
	       s.size > 32 ? 32 : s.size);
	gnutls_free(sig.data);
	gnutls_free(r.data);
	gnutls_free(s.data);
	return join_sig(in, rs, sizeof(rs));
}

static char *pub_pem(gnutls_privkey_t priv, size_t *len)
{
	gnutls_pubkey_t pub;
	gnutls_datum_t out;
	char *pem;

	gnutls_pubkey_init(&pub);
	gnutls_pubkey_import_privkey(pub, priv, 0, 0);
	gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_PEM, &out);
	pem = malloc(out.size + 1);
	memcpy(pem, out.data, out.size);
	pem[out.size] = '\0';
	*len = out.size;
	gnutls_free(out.data);
	gnutls_pubkey_deinit(pub);
	return pem;
}

static int verify(const struct jwt_keys *k, const char *tok, struct jwt_claims *c)
{
	const char *why;
	int err = jwt_verify(k, tok, strlen(tok), NOW, c, &why);

	if (err)
		printf("# %s\n", why);
	return err;
}

static const char HS[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
static const char GRANT[] = "{\"exp\":1764600060,\"push\":{\"subscribe\":[\"user.42\",\"room.*\"],"
			    "\"publish\":[\"user.42\"]}}";

static void test_hs256(void)
{
	struct jwt_keys k = { 0 };
	struct jwt_claims c;
	char *t;

	CHECK(jwt_keys_set_secret(&k, "short", 5) == -EINVAL, "a secret under 32 bytes is refused");
	CHECK(jwt_keys_set_secret(&k, secret, strlen(secret)) == 0, "a 39-byte secret is taken");

	/* a good token grants what it names, and only that */
	t = hs256(HS, GRANT, secret, strlen(secret));
	CHECK(verify(&k, t, &c) == 0, "HS256: a good token verifies");
	CHECK(c.exp == 1764600060, "HS256: exp read");
	CHECK(jwt_grants(&c, false, "user.42", 7), "grants user.42");
	CHECK(!jwt_grants(&c, false, "user.43", 7), "not user.43");
	CHECK(!jwt_grants(&c, false, "user.4", 6), "not user.4 (a prefix of a name is not granted)");
	CHECK(jwt_grants(&c, false, "room.a.b", 8), "room.* grants room.a.b");
	CHECK(jwt_grants(&c, false, "room.", 5), "room.* grants room.");
	CHECK(!jwt_grants(&c, false, "roomx", 5), "room.* not roomx");
	CHECK(jwt_grants(&c, true, "user.42", 7), "publish user.42");
	CHECK(!jwt_grants(&c, true, "room.a", 6), "no publish on room.a (subscribe only)");
	jwt_claims_free(&c);

	/* tampering: another key, a flipped signature, another payload */
	free(t);
	t = hs256(HS, GRANT, "0123456789abcdef0123456789abcdef-other", 38);
	CHECK(verify(&k, t, &c) == -EKEYREJECTED, "HS256: signed with another secret: bad signature");
	free(t);
	t = hs256(HS, GRANT, secret, strlen(secret));
	t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
	CHECK(verify(&k, t, &c) == -EKEYREJECTED, "HS256: a flipped signature byte");
	{
		char *other = hs256(HS, "{\"push\":{\"subscribe\":[\"*\"]}}", secret, strlen(secret));
		char *good = hs256(HS, GRANT, secret, strlen(secret));
		char *forged;

		/* the header and signature of one token, the payload of another */
		*strrchr(other, '.') = '\0';
		if (asprintf(&forged, "%s%s", other, strrchr(good, '.')) > 0) {
			CHECK(verify(&k, forged, &c) == -EKEYREJECTED, "HS256: a swapped payload");
			free(forged);
		}
		free(other);
		free(good);
	}
	free(t);

	/* time */
	t = hs256(HS, "{\"exp\":1764600000}", secret, strlen(secret));
	CHECK(verify(&k, t, &c) == -EKEYEXPIRED, "exp == now: expired");
	free(t);
	t = hs256(HS, "{\"exp\":1764599000.5}", secret, strlen(secret));
	CHECK(verify(&k, t, &c) == -EKEYEXPIRED, "exp in the past (a real number): expired");
	free(t);
	t = hs256(HS, "{\"nbf\":1764600100}", secret, strlen(secret));
	CHECK(verify(&k, t, &c) == -EKEYEXPIRED, "nbf in the future: not valid yet");
	free(t);
	t = hs256(HS, "{\"exp\":\"tomorrow\"}", secret, strlen(secret));
	CHECK(verify(&k, t, &c) == -EINVAL, "exp a string: bad claims");
	free(t);
	t = hs256(HS, "[1,2]", secret, strlen(secret));
	CHECK(verify(&k, t, &c) == -EINVAL, "payload not an object");
	free(t);
	t = hs256(HS, "{\"exp\":1,\"exp\":1864600000}", secret, strlen(secret));
	CHECK(verify(&k, t, &c) == -EINVAL, "duplicate claims refused");
	free(t);
	t = hs256(HS, "{}", secret, strlen(secret));
	CHECK(verify(&k, t, &c) == 0 && !jwt_grants(&c, false, "a", 1), "no push claim: grants nothing");
	jwt_claims_free(&c);
	free(t);

	/* alg none, unknown algs, crit, HS256 without a secret */
	{
		char *in = signing_input("{\"alg\":\"none\"}", GRANT), *none;

		if (asprintf(&none, "%s.", in) > 0) {
			CHECK(verify(&k, none, &c) == -EINVAL, "alg none, empty signature: refused");
			free(none);
		}
		free(in);
	}
	t = hs256("{\"alg\":\"none\"}", GRANT, secret, strlen(secret));
	CHECK(verify(&k, t, &c) == -EINVAL, "alg none, even with a valid HMAC: refused");
	free(t);
	t = hs256("{\"alg\":\"HS512\"}", GRANT, secret, strlen(secret));
	CHECK(verify(&k, t, &c) == -EINVAL, "alg HS512: refused");
	free(t);
	t = hs256("{\"alg\":\"HS256\",\"crit\":[\"x\"]}", GRANT, secret, strlen(secret));
	CHECK(verify(&k, t, &c) == -EINVAL, "a crit header: refused");
	free(t);
	t = hs256("{\"typ\":\"JWT\"}", GRANT, secret, strlen(secret));
	CHECK(verify(&k, t, &c) == -EINVAL, "no alg: refused");
	free(t);

	/* malformed */
	CHECK(verify(&k, "", &c) == -EINVAL, "empty token");
	CHECK(verify(&k, "abc.def", &c) == -EINVAL, "two parts");
	CHECK(verify(&k, "a.b.c.d", &c) == -EINVAL, "four parts");
	CHECK(verify(&k, "!!!.e30.AAAA", &c) == -EINVAL, "bad base64url");
	t = hs256(HS, GRANT, secret, strlen(secret));
	{
		char *padded;

		if (asprintf(&padded, "%s=", t) > 0) {
			CHECK(verify(&k, padded, &c) != 0, "padding refused");
			free(padded);
		}
	}
	free(t);
	{
		char *big = malloc(JWT_MAX_LEN + 2);

		memset(big, 'A', JWT_MAX_LEN + 1);
		big[10] = big[20] = '.';
		big[JWT_MAX_LEN + 1] = '\0';
		CHECK(verify(&k, big, &c) == -EINVAL, "over JWT_MAX_LEN");
		free(big);
	}
	jwt_keys_free(&k);
}

/* --jwt-issuer, --jwt-audience, --jwt-require-exp */
static void test_policy(void)
{
	struct jwt_keys k = { 0 };
	struct jwt_claims c;
	static const struct {
		const char *payload;
		int want;
		const char *name;
	} cases[] = {
		{ "{\"exp\":1764600060,\"iss\":\"app\",\"aud\":\"push\"}", 0, "iss and aud as required" },
		{ "{\"exp\":1764600060,\"iss\":\"app\",\"aud\":[\"mail\",\"push\"]}", 0,
		  "aud an array naming it" },
		{ "{\"exp\":1764600060,\"iss\":\"other\",\"aud\":\"push\"}", -EINVAL, "another iss" },
		{ "{\"exp\":1764600060,\"aud\":\"push\"}", -EINVAL, "no iss" },
		{ "{\"exp\":1764600060,\"iss\":\"app\",\"aud\":\"mail\"}", -EINVAL, "another aud" },
		{ "{\"exp\":1764600060,\"iss\":\"app\",\"aud\":[\"mail\"]}", -EINVAL,
		  "an aud array without it" },
		{ "{\"exp\":1764600060,\"iss\":\"app\"}", -EINVAL, "no aud" },
		{ "{\"exp\":1764600060,\"iss\":\"appx\",\"aud\":\"push\"}", -EINVAL,
		  "iss with the required one as a prefix" },
		{ "{\"exp\":1764600060,\"iss\":\"app\",\"aud\":\"pus\"}", -EINVAL,
		  "aud a prefix of the required one" },
		{ "{\"exp\":1764600060,\"iss\":[\"app\"],\"aud\":\"push\"}", -EINVAL,
		  "iss an array (it is one string)" },
		{ "{\"iss\":\"app\",\"aud\":\"push\"}", -EINVAL, "no exp, required" },
		{ "{\"exp\":1764600000,\"iss\":\"app\",\"aud\":\"push\"}", -EKEYEXPIRED,
		  "expired stays expired" },
	};
	char *t;

	CHECK(jwt_keys_set_secret(&k, secret, strlen(secret)) == 0, "policy: secret taken");
	k.iss = "app";
	k.aud = "push";
	k.need_exp = true;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err;

		t = hs256(HS, cases[i].payload, secret, strlen(secret));
		err = verify(&k, t, &c);
		CHECK(err == cases[i].want, "policy: %s (%d)", cases[i].name, err);
		if (!err)
			jwt_claims_free(&c);
		free(t);
	}
	/* without a policy, the same tokens pass on their signature and time alone */
	k.iss = k.aud = NULL;
	k.need_exp = false;
	t = hs256(HS, "{\"iss\":\"other\",\"aud\":\"mail\"}", secret, strlen(secret));
	CHECK(verify(&k, t, &c) == 0, "no policy: another iss and aud, no exp: taken");
	jwt_claims_free(&c);
	free(t);
	jwt_keys_free(&k);
}

static void test_pk(bool ec)
{
	const char *name = ec ? "ES256" : "RS256";
	const char *hdr = ec ? "{\"alg\":\"ES256\"}" : "{\"alg\":\"RS256\"}";
	struct jwt_keys k = { 0 };
	struct jwt_claims c;
	gnutls_privkey_t priv, other;
	const char *why = NULL;
	size_t plen;
	char *pem, *t;

	gnutls_privkey_init(&priv);
	gnutls_privkey_init(&other);
	if (gnutls_privkey_generate(priv, ec ? GNUTLS_PK_ECDSA : GNUTLS_PK_RSA,
				    ec ? GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1) : 2048, 0) < 0 ||
	    gnutls_privkey_generate(other, ec ? GNUTLS_PK_ECDSA : GNUTLS_PK_RSA,
				    ec ? GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1) : 2048, 0) < 0) {
		CHECK(0, "%s: key generation", name);
		return;
	}
	pem = pub_pem(priv, &plen);
	CHECK(jwt_keys_set_pem(&k, pem, plen, &why) == 0, "%s: the public key is taken", name);
	CHECK(k.pub_alg == (ec ? JWT_ES256 : JWT_RS256), "%s: the key's alg", name);

	t = pk_sign(priv, ec, hdr, GRANT);
	CHECK(t && verify(&k, t, &c) == 0 && jwt_grants(&c, false, "user.42", 7),
	      "%s: a good token verifies and grants", name);
	jwt_claims_free(&c);
	free(t);
	t = pk_sign(other, ec, hdr, GRANT);
	CHECK(t && verify(&k, t, &c) == -EKEYREJECTED, "%s: signed by another key: bad signature", name);
	free(t);
	t = pk_sign(priv, ec, hdr, "{\"exp\":1764590000}");
	CHECK(t && verify(&k, t, &c) == -EKEYEXPIRED, "%s: expired", name);
	free(t);
	t = pk_sign(priv, ec, ec ? "{\"alg\":\"RS256\"}" : "{\"alg\":\"ES256\"}", GRANT);
	CHECK(t && verify(&k, t, &c) == -EINVAL, "%s key: a token of the other alg: no key", name);
	free(t);
	/* algorithm confusion: HS256 "signed" with the public key as the secret */
	t = hs256(HS, GRANT, pem, plen);
	CHECK(verify(&k, t, &c) == -EINVAL, "%s key: HS256 keyed with the public key: refused", name);
	free(t);
	CHECK(jwt_keys_set_pem(&k, "junk", 4, &why) == -EINVAL, "%s: junk PEM refused (%s)", name, why);

	free(pem);
	jwt_keys_free(&k);
	gnutls_privkey_deinit(priv);
	gnutls_privkey_deinit(other);
}

int main(void)
{
	test_hs256();
	test_policy();
	test_pk(true);
	test_pk(false);
	return tap_done();
}
