// SPDX-License-Identifier: GPL-2.0
/*
 * test_guard.c - the request checks of userspace/server/guard.c: Host
 * against the listen address, localhost and --allow-host (DNS
 * rebinding); same-origin and --allow-origin; what counts as cross-site
 * for POST /pub (Origin, Sec-Fetch-Site); the client address behind a
 * --trusted-proxy.  TAP output; exit 1 on any failure.
 */
#include <errno.h>
#include <string.h>

#include "server/guard.h"

#include "tap.h"

static struct pushd_config cfg;

static void reset(const char *listen)
{
	config_defaults(&cfg);
	config_parse_listen(&cfg, listen);
}

static struct in6_addr addr(const char *s)
{
	struct in6_addr a;

	memset(&a, 0xee, sizeof(a));
	guard_parse_addr(s, &a);
	return a;
}

static void test_host(void)
{
	reset("127.0.0.1:8080");
	/* the listen address and localhost pass, with or without the port */
	CHECK(guard_host_ok(&cfg, "127.0.0.1:8080"), "Host 127.0.0.1:8080");
	CHECK(guard_host_ok(&cfg, "127.0.0.1"), "Host 127.0.0.1 (a proxy's $host)");
	CHECK(guard_host_ok(&cfg, "localhost:8080"), "Host localhost:8080");
	CHECK(guard_host_ok(&cfg, "LocalHost"), "Host LocalHost: any case");
	CHECK(guard_host_ok(&cfg, "app.localhost:8080"), "Host app.localhost (RFC 6761)");
	CHECK(guard_host_ok(&cfg, NULL), "no Host (HTTP/1.0) passes");
	/* a rebinding name, another address, junk: refused */
	CHECK(!guard_host_ok(&cfg, "rebind.evil.example"), "Host rebind.evil.example refused");
	CHECK(!guard_host_ok(&cfg, "rebind.evil.example:8080"), "Host with port refused");
	CHECK(!guard_host_ok(&cfg, "10.0.0.1:8080"), "another address refused");
	CHECK(!guard_host_ok(&cfg, "localhost.evil.example"), "localhost.evil.example refused");
	CHECK(!guard_host_ok(&cfg, "evillocalhost"), "evillocalhost refused");
	CHECK(!guard_host_ok(&cfg, ""), "empty Host refused");
	CHECK(!guard_host_ok(&cfg, "127.0.0.1:"), "empty port refused");
	CHECK(!guard_host_ok(&cfg, "127.0.0.1:99999"), "port out of range refused");
	CHECK(!guard_host_ok(&cfg, "127.0.0.1:80x"), "port with junk refused");
	CHECK(!guard_host_ok(&cfg, "::1"), "bare IPv6 refused");

	/* --allow-host: exact names, ".domain" for subdomains, "*" for anything */
	cfg.allow_host[cfg.nallow_host++] = "push.example.com";
	cfg.allow_host[cfg.nallow_host++] = ".apps.example";
	CHECK(guard_host_ok(&cfg, "push.example.com"), "--allow-host name");
	CHECK(guard_host_ok(&cfg, "PUSH.example.com:443"), "--allow-host name, any case, port");
	CHECK(!guard_host_ok(&cfg, "x.push.example.com"), "exact name: no subdomain");
	CHECK(guard_host_ok(&cfg, "apps.example"), ".apps.example: the domain itself");
	CHECK(guard_host_ok(&cfg, "a.b.apps.example"), ".apps.example: a subdomain");
	CHECK(!guard_host_ok(&cfg, "evilapps.example"), ".apps.example: not evilapps.example");
	cfg.allow_host[cfg.nallow_host++] = "*";
	CHECK(guard_host_ok(&cfg, "anything.example"), "--allow-host '*'");

	/* a wildcard listen address takes any IP literal; IPv6 */
	reset("0.0.0.0:8080");
	CHECK(guard_host_ok(&cfg, "10.0.2.15:8080"), "0.0.0.0: any IPv4 literal");
	CHECK(guard_host_ok(&cfg, "localhost"), "0.0.0.0: localhost");
	CHECK(!guard_host_ok(&cfg, "rebind.evil.example"), "0.0.0.0: names still refused");
	reset("[::1]:8080");
	CHECK(guard_host_ok(&cfg, "[::1]:8080"), "[::1]:8080 on [::1]");
	CHECK(!guard_host_ok(&cfg, "127.0.0.1:8080"), "127.0.0.1 on [::1] refused");
	reset("10.1.2.3:80");
	CHECK(!guard_host_ok(&cfg, "localhost"), "localhost refused when not listening on loopback");

	/* --pub-listen: its address is this server too, nothing more */
	config_parse_addr("10.9.8.7:8081", &cfg.pub_listen, &cfg.pub_listen_len);
	CHECK(guard_host_ok(&cfg, "10.9.8.7:8081"), "the --pub-listen address");
	CHECK(guard_host_ok(&cfg, "10.1.2.3"), "and still the --listen address");
	CHECK(!guard_host_ok(&cfg, "10.9.8.6:8081"), "another address refused beside --pub-listen");
	CHECK(!guard_host_ok(&cfg, "localhost"), "localhost refused: neither listens on loopback");
	CHECK(!guard_host_ok(&cfg, "rebind.evil.example"), "names refused beside --pub-listen");
	config_parse_addr("127.0.0.1:8081", &cfg.pub_listen, &cfg.pub_listen_len);
	CHECK(guard_host_ok(&cfg, "localhost:8081"), "localhost: --pub-listen on loopback");
	CHECK(config_parse_addr("nowhere", &cfg.pub_listen, &cfg.pub_listen_len) == -EINVAL &&
	      guard_host_ok(&cfg, "127.0.0.1:8081"), "a bad --pub-listen leaves the old one");
}

static void test_origin(void)
{
	reset("127.0.0.1:8080");
	CHECK(guard_same_origin("http://127.0.0.1:8080", "127.0.0.1:8080"), "same origin");
	CHECK(guard_same_origin("http://127.0.0.1:8081", "127.0.0.1"), "Host without port: name only");
	CHECK(!guard_same_origin("http://127.0.0.1:8081", "127.0.0.1:8080"), "other port");
	CHECK(guard_same_origin("https://push.example.com", "push.example.com:443"), "https default port");
	CHECK(guard_same_origin("http://push.example.com", "push.example.com:80"), "http default port");
	CHECK(!guard_same_origin("https://push.example.com", "push.example.com:80"), "https is not :80");
	CHECK(!guard_same_origin("http://evil.example", "127.0.0.1:8080"), "another site");
	CHECK(!guard_same_origin("null", "127.0.0.1:8080"), "Origin: null");
	CHECK(!guard_same_origin("file://", "127.0.0.1:8080"), "file://");
	CHECK(!guard_same_origin("http://127.0.0.1:8080/x", "127.0.0.1:8080"), "Origin with a path");
	CHECK(!guard_origin_ok(&cfg, "http://evil.example", "127.0.0.1:8080"), "evil not ok");
	CHECK(!guard_origin_ok(&cfg, NULL, "127.0.0.1:8080"), "no Origin: not an allowed origin");
	cfg.allow_origin = "https://app.example";
	CHECK(guard_origin_ok(&cfg, "https://app.example", "127.0.0.1:8080"), "--allow-origin");
	CHECK(guard_origin_ok(&cfg, "http://127.0.0.1:8080", "127.0.0.1:8080"),
	      "--allow-origin: same-origin still ok");
	CHECK(!guard_origin_ok(&cfg, "https://app.example.evil", "127.0.0.1:8080"), "prefix is not equal");
	cfg.allow_origin = "*";
	CHECK(guard_origin_ok(&cfg, "http://evil.example", "127.0.0.1:8080"), "--allow-origin '*'");
	/* "*" opens reading, not what needs the browser's credentials */
	CHECK(!guard_origin_named(&cfg, "http://evil.example", "127.0.0.1:8080"),
	      "--allow-origin '*': not a named origin");
	CHECK(guard_origin_named(&cfg, "http://127.0.0.1:8080", "127.0.0.1:8080"),
	      "--allow-origin '*': same-origin is still named");
	cfg.allow_origin = "https://app.example";
	CHECK(guard_origin_named(&cfg, "https://app.example", "127.0.0.1:8080"),
	      "--allow-origin URL: named");
}

static void test_cross_site(void)
{
	const char *h = "127.0.0.1:8080";

	reset("127.0.0.1:8080");
	CHECK(!guard_cross_site(&cfg, NULL, NULL, h), "curl: neither header");
	CHECK(!guard_cross_site(&cfg, "http://127.0.0.1:8080", "same-origin", h), "same-origin page");
	CHECK(!guard_cross_site(&cfg, NULL, "none", h), "Sec-Fetch-Site: none (typed by the user)");
	CHECK(guard_cross_site(&cfg, "http://evil.example", "cross-site", h), "evil page");
	CHECK(guard_cross_site(&cfg, "http://evil.example", NULL, h), "evil Origin alone");
	CHECK(guard_cross_site(&cfg, NULL, "cross-site", h), "Sec-Fetch-Site: cross-site alone");
	CHECK(guard_cross_site(&cfg, "http://127.0.0.1:3000", "same-site", "127.0.0.1:8080"),
	      "same-site (another port) is cross-origin");
	CHECK(guard_cross_site(&cfg, "null", "cross-site", h), "Origin: null (sandboxed)");
	cfg.allow_origin = "https://app.example";
	CHECK(!guard_cross_site(&cfg, "https://app.example", "cross-site", h), "--allow-origin's page");
	CHECK(guard_cross_site(&cfg, "http://evil.example", "cross-site", h), "--allow-origin: others not");
	cfg.allow_origin = "*";
	CHECK(guard_cross_site(&cfg, "http://evil.example", "cross-site", h),
	      "--allow-origin '*': an evil page still may not publish");
	CHECK(guard_cross_site(&cfg, "null", "cross-site", h),
	      "--allow-origin '*': nor a sandboxed one (Origin: null)");
	CHECK(guard_cross_site(&cfg, "http://evil.example", NULL, h),
	      "--allow-origin '*': evil Origin alone");
	CHECK(!guard_cross_site(&cfg, "http://127.0.0.1:8080", "same-origin", h),
	      "--allow-origin '*': same-origin page publishes");
}

static void test_client_addr(void)
{
	struct in6_addr lo = addr("127.0.0.1"), out;

	reset("127.0.0.1:8080");
	CHECK(guard_addr_loopback(&lo), "127.0.0.1 is loopback");
	out = addr("::1");
	CHECK(guard_addr_loopback(&out), "::1 is loopback");
	out = addr("::ffff:127.9.9.9");
	CHECK(guard_addr_loopback(&out), "::ffff:127.9.9.9 is loopback");
	out = addr("10.0.2.15");
	CHECK(!guard_addr_loopback(&out), "10.0.2.15 is not");

	/* no forwarding headers: the peer */
	CHECK(guard_client_addr(&cfg, &lo, NULL, NULL, NULL, &out) && guard_addr_loopback(&out),
	      "no forwarding: the peer");
	/* forwarded by an untrusted proxy: unknown, whatever it says */
	CHECK(!guard_client_addr(&cfg, &lo, "127.0.0.1", NULL, NULL, &out),
	      "X-Forwarded-For from an untrusted peer: unknown");
	CHECK(!guard_client_addr(&cfg, &lo, NULL, "127.0.0.1", NULL, &out),
	      "X-Real-IP from an untrusted peer: unknown");
	CHECK(!guard_client_addr(&cfg, &lo, NULL, NULL, "for=127.0.0.1", &out),
	      "Forwarded from an untrusted peer: unknown");
	/* a trusted proxy: the address it saw (the last hop, not what the client wrote) */
	cfg.trusted_proxy[cfg.ntrusted_proxy++] = lo;
	CHECK(guard_client_addr(&cfg, &lo, "127.0.0.1, 203.0.113.9", NULL, NULL, &out) &&
	      !guard_addr_loopback(&out),
	      "trusted: the last X-Forwarded-For entry (203.0.113.9)");
	CHECK(guard_client_addr(&cfg, &lo, "203.0.113.9, 127.0.0.1", NULL, NULL, &out) &&
	      guard_addr_loopback(&out), "trusted: the last entry is loopback");
	CHECK(guard_client_addr(&cfg, &lo, "203.0.113.9", "127.0.0.1", NULL, &out) &&
	      !guard_addr_loopback(&out), "trusted: X-Forwarded-For, never X-Real-IP (passed on forged)");
	CHECK(!guard_client_addr(&cfg, &lo, NULL, "127.0.0.1", NULL, &out),
	      "trusted: X-Real-IP alone is unknown");
	CHECK(!guard_client_addr(&cfg, &lo, "junk", NULL, NULL, &out), "trusted: junk is unknown");
	CHECK(!guard_client_addr(&cfg, &lo, NULL, NULL, "for=127.0.0.1", &out),
	      "trusted: Forwarded alone is unknown");
	CHECK(!guard_client_addr(&cfg, &lo, NULL, NULL, NULL, &out),
	      "trusted proxy without X-Forwarded-For: unknown, not its own loopback");
	out = addr("10.0.0.9");
	CHECK(!guard_client_addr(&cfg, &out, "127.0.0.1", NULL, NULL, &out),
	      "a peer that is not the trusted proxy: unknown");
}

int main(void)
{
	test_host();
	test_origin();
	test_cross_site();
	test_client_addr();
	return tap_done();
}
