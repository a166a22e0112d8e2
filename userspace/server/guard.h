/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guard.h - who may ask pushd what, decided from request headers alone:
 * the Host a request names (a DNS-rebinding page names its own host name),
 * whether a browser sent it from another site (Origin, Sec-Fetch-Site), and
 * which client address a trusted reverse proxy forwarded.  Pure string
 * checks against pushd_cfg, so the unit tests drive them directly;
 * server/http.c applies them (docs/HTTP.md, "Who may ask what").
 */
#ifndef PUSHD_GUARD_H
#define PUSHD_GUARD_H

#include <netinet/in.h>
#include <stdbool.h>

#include "core/config.h"

/*
 * True if @host (a Host header: name or IP literal, with or without a
 * port) names this server: the --listen or --pub-listen address (any IP literal when it is
 * 0.0.0.0 or ::), localhost (when listening on loopback or a wildcard), or
 * an --allow-host name (".example.com" also matches its subdomains, "*"
 * anything).  A request without Host (HTTP/1.0) passes.
 */
bool guard_host_ok(const struct pushd_config *cfg, const char *host);

/*
 * True if @origin (an Origin header, "scheme://host[:port]") is the origin
 * @host serves: same host name, and same port (the scheme's default if
 * absent) unless @host carries no port (a proxy that passes only the name).
 */
bool guard_same_origin(const char *origin, const char *host);

/* True if @origin is same-origin with @host, or --allow-origin allows it ("*": any). */
bool guard_origin_ok(const struct pushd_config *cfg, const char *origin, const char *host);

/*
 * True if @origin is same-origin with @host or the very origin
 * --allow-origin names: "*" does not count.  What a page may do with the
 * browser's credentials (publish, the push_token cookie) needs this.
 */
bool guard_origin_named(const struct pushd_config *cfg, const char *origin, const char *host);

/*
 * True if a browser sent this request from another site: an Origin that
 * guard_origin_named() refuses, or a Sec-Fetch-Site other than "same-origin"
 * and "none" from an origin --allow-origin does not name.  Either header
 * may be NULL (a non-browser client sends neither).
 */
bool guard_cross_site(const struct pushd_config *cfg, const char *origin,
		      const char *fetch_site, const char *host);

/* Parses an IPv4 or IPv6 literal (IPv4 as v4-mapped); returns 0 or -EINVAL. */
int guard_parse_addr(const char *s, struct in6_addr *out);

/* True if @a (v4-mapped for IPv4) is a loopback address. */
bool guard_addr_loopback(const struct in6_addr *a);

/*
 * The client address for the loopback check of POST /pub, given the
 * peer's address @peer and the forwarding headers (each may be NULL).  A
 * request without forwarding headers is its peer, unless the peer is a
 * --trusted-proxy (then it is unknown: the proxy asks for someone it did
 * not name).  With any of them, it is
 * the last X-Forwarded-For entry of a --trusted-proxy peer; from any other
 * peer, or without a usable entry, the client is unknown.  Returns true and
 * sets @client, or false (unknown).
 */
bool guard_client_addr(const struct pushd_config *cfg, const struct in6_addr *peer,
		       const char *xff, const char *xrealip, const char *forwarded,
		       struct in6_addr *client);

#endif
