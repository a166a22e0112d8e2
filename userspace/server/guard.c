// SPDX-License-Identifier: GPL-2.0
/*
 * guard.c - Host, Origin, Sec-Fetch-Site and forwarded-address checks
 * (guard.h).  Nothing here trusts a header it cannot check: a Host is
 * accepted only if it names this server, an Origin only if it is this
 * server's or --allow-origin's, a forwarded address only from a
 * --trusted-proxy peer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/guard.h"

#define GUARD_NAME_MAX	256

/*
 * Splits "name", "name:port", "[v6]" or "[v6]:port" into @name (without
 * brackets) and @port (0 when absent).  Returns 0, or -EINVAL.
 */
static int split_authority(const char *s, size_t len, char *name, unsigned int *port)
{
	const char *colon = NULL, *end = s + len;
	size_t nlen;

	*port = 0;
	if (len && s[0] == '[') {
		const char *rb = memchr(s, ']', len);

		if (!rb)
			return -EINVAL;
		nlen = (size_t)(rb - s - 1);
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return -EINVAL;
			colon = rb + 1;
		}
		s++;
	} else {
		colon = memchr(s, ':', len);
		nlen = colon ? (size_t)(colon - s) : len;
		if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1)))
			return -EINVAL;	/* a bare IPv6 literal: not a valid Host */
	}
	if (!nlen || nlen >= GUARD_NAME_MAX)
		return -EINVAL;
	memcpy(name, s, nlen);
	name[nlen] = '\0';
	if (colon) {
		unsigned long p = 0;
		const char *d = colon + 1;

		if (d == end || end - d > 5)
			return -EINVAL;
		for (; d < end; d++) {
			if (*d < '0' || *d > '9')
				return -EINVAL;
			p = p * 10 + (unsigned long)(*d - '0');
		}
		if (!p || p > 65535)
			return -EINVAL;
		*port = (unsigned int)p;
	}
	return 0;
}

int guard_parse_addr(const char *s, struct in6_addr *out)
{
	struct in_addr a4;

	if (inet_pton(AF_INET6, s, out) == 1)
		return 0;
	if (inet_pton(AF_INET, s, &a4) != 1)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->s6_addr[10] = out->s6_addr[11] = 0xff;
	memcpy(&out->s6_addr[12], &a4, 4);
	return 0;
}

bool guard_addr_loopback(const struct in6_addr *a)
{
	if (IN6_IS_ADDR_LOOPBACK(a))
		return true;
	return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
}

/* A listening address (--listen, --pub-listen), v4-mapped for IPv4. */
static void listen_addr(const struct sockaddr_storage *ss, struct in6_addr *out)
{
	if (ss->ss_family == AF_INET6) {
		*out = ((const struct sockaddr_in6 *)ss)->sin6_addr;
		return;
	}
	memset(out, 0, sizeof(*out));
	out->s6_addr[10] = out->s6_addr[11] = 0xff;
	memcpy(&out->s6_addr[12], &((const struct sockaddr_in *)ss)->sin_addr, 4);
}

static bool addr_any(const struct in6_addr *a)
{
	static const struct in6_addr any4 = { .s6_addr = { [10] = 0xff, [11] = 0xff } };

	return IN6_IS_ADDR_UNSPECIFIED(a) || !memcmp(a, &any4, sizeof(*a));
}

/* @name equals @pattern, or is a subdomain of ".pattern"; any case. */
static bool name_matches(const char *name, const char *pattern)
{
	size_t n = strlen(name), p = strlen(pattern);

	if (!strcmp(pattern, "*"))
		return true;
	if (pattern[0] == '.') {
		if (n == p - 1 && !strcasecmp(name, pattern + 1))
			return true;
		return n > p && !strcasecmp(name + n - p, pattern);
	}
	return !strcasecmp(name, pattern);
}

/* Does @name (a Host header's name) name the address @ss listens on? */
static bool names_listen_addr(const char *name, const struct sockaddr_storage *ss)
{
	struct in6_addr a, l;

	listen_addr(ss, &l);
	if (guard_parse_addr(name, &a) == 0)
		return addr_any(&l) || !memcmp(&a, &l, sizeof(a));
	/* "localhost" and "*.localhost" never leave the machine (RFC 6761) */
	if (name_matches(name, ".localhost"))
		return addr_any(&l) || guard_addr_loopback(&l);
	return false;
}

bool guard_host_ok(const struct pushd_config *cfg, const char *host)
{
	char name[GUARD_NAME_MAX];
	unsigned int port;

	if (!host)
		return true;
	if (split_authority(host, strlen(host), name, &port))
		return false;
	for (unsigned int i = 0; i < cfg->nallow_host; i++)
		if (name_matches(name, cfg->allow_host[i]))
			return true;
	return names_listen_addr(name, &cfg->listen) ||
	       (cfg->pub_listen_len && names_listen_addr(name, &cfg->pub_listen));
}

bool guard_same_origin(const char *origin, const char *host)
{
	char oname[GUARD_NAME_MAX], hname[GUARD_NAME_MAX];
	unsigned int oport, hport, def;
	const char *auth;

	if (!origin || !host)
		return false;
	if (!strncasecmp(origin, "http://", 7)) {
		auth = origin + 7;
		def = 80;
	} else if (!strncasecmp(origin, "https://", 8)) {
		auth = origin + 8;
		def = 443;
	} else {
		return false;	/* "null", or a scheme that is not ours */
	}
	if (split_authority(auth, strlen(auth), oname, &oport) ||
	    split_authority(host, strlen(host), hname, &hport))
		return false;
	if (strcasecmp(oname, hname))
		return false;
	return !hport || hport == (oport ? oport : def);
}

bool guard_origin_ok(const struct pushd_config *cfg, const char *origin, const char *host)
{
	if (!origin)
		return false;
	if (cfg->allow_origin && !strcmp(cfg->allow_origin, "*"))
		return true;
	return guard_origin_named(cfg, origin, host);
}

bool guard_origin_named(const struct pushd_config *cfg, const char *origin, const char *host)
{
	if (!origin)
		return false;
	if (cfg->allow_origin && !strcmp(cfg->allow_origin, origin))
		return true;
	return guard_same_origin(origin, host);
}

bool guard_cross_site(const struct pushd_config *cfg, const char *origin,
		      const char *fetch_site, const char *host)
{
	/* "*" opens reading to every site, never publishing */
	if (origin && !guard_origin_named(cfg, origin, host))
		return true;
	if (fetch_site && strcmp(fetch_site, "same-origin") && strcmp(fetch_site, "none")) {
		/* same-site or cross-site: only from an origin the operator named */
		return !(origin && cfg->allow_origin && !strcmp(cfg->allow_origin, origin));
	}
	return false;
}

/* The last comma-separated entry of @list, trimmed, into @out. */
static bool last_entry(const char *list, char *out, size_t cap)
{
	const char *s = strrchr(list, ',');
	size_t n;

	s = s ? s + 1 : list;
	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (!n || n >= cap)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

bool guard_client_addr(const struct pushd_config *cfg, const struct in6_addr *peer,
		       const char *xff, const char *xrealip, const char *forwarded,
		       struct in6_addr *client)
{
	char buf[INET6_ADDRSTRLEN + 1];
	bool trusted = false;

	for (unsigned int i = 0; i < cfg->ntrusted_proxy; i++)
		if (!memcmp(peer, &cfg->trusted_proxy[i], sizeof(*peer)))
			trusted = true;
	if (!xff && !xrealip && !forwarded) {
		/*
		 * A trusted proxy that does not say for whom it asks (a location
		 * without proxy_set_header X-Forwarded-For) asks for anyone.
		 */
		if (trusted)
			return false;
		*client = *peer;
		return true;
	}
	if (!trusted)
		return false;	/* forwarded by a proxy we were not told to trust */
	/*
	 * Only the last X-Forwarded-For entry: the one the proxy appended
	 * ($proxy_add_x_forwarded_for) or wrote.  X-Real-IP and Forwarded a
	 * proxy may pass on from the client unchanged: never believed.
	 */
	return xff && last_entry(xff, buf, sizeof(buf)) && !guard_parse_addr(buf, client);
}
