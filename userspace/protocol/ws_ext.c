// SPDX-License-Identifier: GPL-2.0
/*
 * ws_ext.c - subprotocol and permessage-deflate negotiation: small
 * parsers of the header grammar of RFC 6455 9.1 (extension *( ";" param ),
 * a param's value a token or a quoted string) that never write past their
 * inputs and treat anything malformed as not offered.
 */
#include <string.h>

#include "protocol/deflate.h"
#include "protocol/ws_ext.h"

static bool ws_is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 7230 tchar. */
static bool ws_is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

int ws_pick_subprotocol(const char *offer, const char *want)
{
	size_t wl = strlen(want);
	bool any = false;
	const char *s = offer;

	if (!s)
		return 0;
	while (*s) {
		const char *t, *e;

		while (ws_is_ows(*s) || *s == ',')
			s++;
		if (!*s)
			break;
		t = s;
		while (*s && *s != ',')
			s++;
		e = s;
		while (e > t && ws_is_ows(e[-1]))
			e--;
		any = true;
		if ((size_t)(e - t) == wl && !memcmp(t, want, wl))
			return 1;
	}
	return any ? -1 : 0;
}

/* A cursor over one header value. */
struct ws_lex {
	const char *s;
};

static void ws_skip_ows(struct ws_lex *lx)
{
	while (ws_is_ows(*lx->s))
		lx->s++;
}

/* A token into out (cut to cap - 1); returns its length, 0 if none. */
static size_t ws_token(struct ws_lex *lx, char *out, size_t cap)
{
	size_t n = 0;

	ws_skip_ows(lx);
	while (ws_is_tchar(*lx->s)) {
		if (n + 1 < cap)
			out[n] = *lx->s;
		n++;
		lx->s++;
	}
	out[n < cap ? n : cap - 1] = '\0';
	ws_skip_ows(lx);
	return n;
}

/* A token or quoted string; returns its length, or -1 if malformed. */
static long ws_value(struct ws_lex *lx, char *out, size_t cap)
{
	size_t n = 0;

	ws_skip_ows(lx);
	if (*lx->s != '"')
		return (long)ws_token(lx, out, cap);
	lx->s++;
	while (*lx->s && *lx->s != '"') {
		if (*lx->s == '\\' && lx->s[1])
			lx->s++;
		if (n + 1 < cap)
			out[n] = *lx->s;
		n++;
		lx->s++;
	}
	if (*lx->s != '"')
		return -1;
	lx->s++;
	out[n < cap ? n : cap - 1] = '\0';
	ws_skip_ows(lx);
	return (long)n;
}

/* Skips to the next extension of the list (past the comma). */
static void ws_next_ext(struct ws_lex *lx)
{
	bool quoted = false;

	for (; *lx->s; lx->s++) {
		if (*lx->s == '"')
			quoted = !quoted;
		else if (quoted && *lx->s == '\\' && lx->s[1])
			lx->s++;
		else if (!quoted && *lx->s == ',')
			break;
	}
	if (*lx->s == ',')
		lx->s++;
}

/* A window-bits value: 8..15 in plain digits, else -1. */
static int ws_bits(const char *v)
{
	if (strlen(v) == 1 && v[0] >= '8' && v[0] <= '9')
		return v[0] - '0';
	if (strlen(v) == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
		return 10 + v[1] - '0';
	return -1;
}

enum { P_SNCT = 1, P_CNCT = 2, P_SMWB = 4, P_CMWB = 8 };

/*
 * The parameters of one permessage-deflate offer, up to its end; returns
 * true if pushd can accept it (client_bits: the value to answer, 0 for
 * none).
 */
static bool ws_deflate_offer(struct ws_lex *lx, int *client_bits)
{
	unsigned int seen = 0;
	bool ok = true;

	*client_bits = 0;
	while (*lx->s == ';') {
		char name[32], val[8];
		unsigned int bit;
		long vl = -2;

		lx->s++;
		if (!ws_token(lx, name, sizeof(name)))
			return false;
		if (*lx->s == '=') {
			lx->s++;
			vl = ws_value(lx, val, sizeof(val));
			if (vl <= 0)
				return false;
		}
		if (!strcmp(name, "server_no_context_takeover"))
			bit = P_SNCT;
		else if (!strcmp(name, "client_no_context_takeover"))
			bit = P_CNCT;
		else if (!strcmp(name, "server_max_window_bits"))
			bit = P_SMWB;
		else if (!strcmp(name, "client_max_window_bits"))
			bit = P_CMWB;
		else
			return false;	/* unknown: decline (RFC 7692 7) */
		if (seen & bit)
			return false;	/* repeated: decline */
		seen |= bit;
		if (bit & (P_SNCT | P_CNCT)) {
			if (vl != -2)
				return false;	/* these take no value */
		} else if (bit == P_SMWB) {
			int b = vl > 0 ? ws_bits(val) : -1;

			if (b < 0)
				return false;
			if (b < WS_DEFLATE_BITS)
				ok = false;	/* valid, but not for encode-once */
		} else {
			int b = vl == -2 ? 15 : ws_bits(val);

			if (b < 0)
				return false;
			*client_bits = b < WS_INFLATE_BITS ? b : WS_INFLATE_BITS;
		}
	}
	return ok && (*lx->s == ',' || !*lx->s);
}

/* The response header: fixed text, and the window bits (8..15) if any. */
static void ws_deflate_answer(char resp[WS_EXT_RESPONSE_MAX], int client_bits)
{
	static const char fixed[] = "permessage-deflate; server_no_context_takeover; "
				    "client_no_context_takeover";
	static const char bits[] = "; client_max_window_bits=";
	char *o = resp + sizeof(fixed) - 1;

	_Static_assert(sizeof(fixed) + sizeof(bits) + 2 <= WS_EXT_RESPONSE_MAX, "answer fits");
	memcpy(resp, fixed, sizeof(fixed));
	if (!client_bits)
		return;
	memcpy(o, bits, sizeof(bits) - 1);
	o += sizeof(bits) - 1;
	if (client_bits >= 10)
		*o++ = '1';
	*o++ = (char)('0' + client_bits % 10);
	*o = '\0';
}

int ws_deflate_negotiate(const char *offer, struct ws_deflate_params *p,
			 char resp[WS_EXT_RESPONSE_MAX])
{
	struct ws_lex lx = { offer };

	p->on = false;
	p->client_bits = 15;
	resp[0] = '\0';
	if (!offer)
		return 0;
	while (*lx.s) {
		char name[32];
		int cb;

		while (ws_is_ows(*lx.s) || *lx.s == ',')
			lx.s++;
		if (!*lx.s)
			break;
		if (ws_token(&lx, name, sizeof(name)) && !strcmp(name, "permessage-deflate") &&
		    ws_deflate_offer(&lx, &cb)) {
			p->on = true;
			p->client_bits = cb ? cb : 15;
			ws_deflate_answer(resp, cb);
			return 1;
		}
		ws_next_ext(&lx);
	}
	return 0;
}
