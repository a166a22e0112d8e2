// SPDX-License-Identifier: GPL-2.0
/*
 * test_chan.c - channel names and /sub lists (userspace/protocol/chan.c): the
 * 1-64 characters of [A-Za-z0-9_.:-], chan_list_parse() of "a,b,c" with
 * its limits (empty names, stray commas, duplicates, PUSH_FILTER_MAX) and
 * chan_list_join() with its buffer limits, round trips between the two.
 * TAP output; exit 1 on any failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/chan.h"

#include "tap.h"

static struct chan_name names[PUSH_FILTER_MAX];

static int parse(const char *s)
{
	memset(names, 0x5a, sizeof(names));
	return chan_list_parse(s, strlen(s), names);
}

/* names[i] is exactly @want, NUL-terminated, with the right len. */
static int name_is(int i, const char *want)
{
	size_t n = strlen(want);

	return names[i].len == n && !memcmp(names[i].s, want, n) && names[i].s[n] == '\0';
}

/* Writes "c<i>" padded with 'x' to @len characters into @out. */
static void make_name(char *out, int i, size_t len)
{
	int n = snprintf(out, len + 1, "c%d", i);

	for (size_t k = (size_t)n; k < len; k++)
		out[k] = 'x';
	out[len] = '\0';
}

/* A list of @count distinct names of @len characters, comma-separated. */
static char *make_list(int count, size_t len)
{
	char *s = malloc((size_t)count * (len + 1) + 1), *p = s;

	for (int i = 0; i < count; i++) {
		if (i)
			*p++ = ',';
		make_name(p, i, len);
		p += len;
	}
	*p = '\0';
	return s;
}

static void test_valid(void)
{
	char s[PUSH_CHANNEL_MAX + 2];
	int nvalid = 0, ok;

	CHECK(chan_name_valid("a", 1), "valid: one character");
	CHECK(chan_name_valid("news", 4), "valid: a word");
	CHECK(chan_name_valid("Az09_.:-", 8), "valid: every class and punctuation");
	CHECK(chan_name_valid("-", 1) && chan_name_valid(".", 1) &&
	      chan_name_valid(":", 1) && chan_name_valid("_", 1),
	      "valid: a lone '-', '.', ':' or '_'");
	CHECK(!chan_name_valid("", 0), "invalid: empty");
	CHECK(!chan_name_valid("abc", 0), "invalid: n 0 whatever the bytes");

	memset(s, 'a', sizeof(s));
	CHECK(chan_name_valid(s, PUSH_CHANNEL_MAX), "valid: 64 characters");
	CHECK(!chan_name_valid(s, PUSH_CHANNEL_MAX + 1), "invalid: 65 characters");

	CHECK(chan_name_valid("ab/", 2), "only the first n bytes are looked at");
	CHECK(!chan_name_valid("a/b", 3), "invalid: '/'");
	CHECK(!chan_name_valid("a,b", 3), "invalid: ','");
	CHECK(!chan_name_valid("a b", 3), "invalid: space");
	CHECK(!chan_name_valid("a\0b", 3), "invalid: NUL inside n");
	CHECK(!chan_name_valid("a\xc3\xa9", 3), "invalid: UTF-8 (high bytes)");
	CHECK(!chan_name_valid("@", 1) && !chan_name_valid("[", 1) &&
	      !chan_name_valid("`", 1) && !chan_name_valid("{", 1) &&
	      !chan_name_valid("/", 1) && !chan_name_valid(";", 1),
	      "invalid: the neighbours of the allowed ranges");

	/* Every byte alone: exactly 26 + 26 + 10 + 4 are allowed. */
	ok = 1;
	for (int c = 0; c < 256; c++) {
		char b = (char)c;
		int want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '_' || c == '.' ||
			   c == ':' || c == '-';
		int got = chan_name_valid(&b, 1);

		nvalid += got;
		if (got != want) {
			ok = 0;
			printf("# byte 0x%02x: got %d\n", c, got);
		}
	}
	CHECK(ok && nvalid == 66, "all 256 bytes: exactly [A-Za-z0-9_.:-] (%d)", nvalid);
}

static void test_parse(void)
{
	char s[PUSH_CHANNEL_MAX + 2];
	char *list;
	int n;

	n = parse("a,b,c");
	CHECK(n == 3 && name_is(0, "a") && name_is(1, "b") && name_is(2, "c"),
	      "parse a,b,c: 3 names in order (%d)", n);
	n = parse("news");
	CHECK(n == 1 && name_is(0, "news"), "parse one name");
	n = parse("user:42,room.7,x-y_z");
	CHECK(n == 3 && name_is(0, "user:42") && name_is(1, "room.7") && name_is(2, "x-y_z"),
	      "parse names with punctuation");
	n = chan_list_parse("a,b,c", 3, names);
	CHECK(n == 2 && name_is(0, "a") && name_is(1, "b"), "parse stops at n, not at NUL");

	CHECK(parse("") == -EINVAL, "empty list is -EINVAL (not 0 names)");
	CHECK(parse(",") == -EINVAL, "lone comma is -EINVAL");
	CHECK(parse("a,") == -EINVAL, "trailing comma is -EINVAL (empty last name)");
	CHECK(parse(",a") == -EINVAL, "leading comma is -EINVAL");
	CHECK(parse("a,,b") == -EINVAL, "double comma is -EINVAL (empty name)");
	CHECK(parse("a, b") == -EINVAL, "space after comma is -EINVAL");
	CHECK(parse("a,b/c") == -EINVAL, "invalid character in a later name is -EINVAL");
	CHECK(chan_list_parse("a\0b", 3, names) == -EINVAL, "NUL inside n is -EINVAL");

	n = parse("a,b,a");
	CHECK(n == 2 && name_is(0, "a") && name_is(1, "b"),
	      "duplicate dropped, first occurrence kept (%d)", n);
	n = parse("x,x,x,x");
	CHECK(n == 1 && name_is(0, "x"), "all duplicates: one name");
	n = parse("a,A");
	CHECK(n == 2 && name_is(0, "a") && name_is(1, "A"), "names are case-sensitive");
	n = parse("ab,a,abc");
	CHECK(n == 3 && name_is(0, "ab") && name_is(1, "a") && name_is(2, "abc"),
	      "a prefix is not a duplicate");

	memset(s, 'q', PUSH_CHANNEL_MAX);
	s[PUSH_CHANNEL_MAX] = '\0';
	n = parse(s);
	CHECK(n == 1 && names[0].len == PUSH_CHANNEL_MAX &&
	      !memcmp(names[0].s, s, PUSH_CHANNEL_MAX) && names[0].s[PUSH_CHANNEL_MAX] == '\0',
	      "64-character name kept whole and NUL-terminated");
	s[PUSH_CHANNEL_MAX] = 'q';
	s[PUSH_CHANNEL_MAX + 1] = '\0';
	CHECK(parse(s) == -EINVAL, "65-character name is -EINVAL");

	/* PUSH_FILTER_MAX: into an out[] of exactly 64 (ASan sees overruns). */
	{
		struct chan_name *out = malloc(sizeof(*out) * PUSH_FILTER_MAX);
		char buf[16];
		int ok = 1;

		list = make_list(PUSH_FILTER_MAX, 5);
		n = chan_list_parse(list, strlen(list), out);
		for (int i = 0; i < PUSH_FILTER_MAX && n == PUSH_FILTER_MAX; i++) {
			make_name(buf, i, 5);
			ok &= out[i].len == 5 && !strcmp(out[i].s, buf);
		}
		CHECK(n == PUSH_FILTER_MAX && ok, "64 distinct names: 64 (%d)", n);
		free(list);

		list = make_list(PUSH_FILTER_MAX + 1, 5);
		n = chan_list_parse(list, strlen(list), out);
		CHECK(n == -E2BIG, "65 distinct names: -E2BIG (%d)", n);
		free(list);

		/* 64 distinct then "c0x" again: duplicates do not count. */
		list = make_list(PUSH_FILTER_MAX, 3);
		{
			size_t l = strlen(list);
			char *more = malloc(l + 5);

			memcpy(more, list, l);
			memcpy(more + l, ",c0x", 5);
			n = chan_list_parse(more, l + 4, out);
			CHECK(n == PUSH_FILTER_MAX, "64 distinct plus a duplicate: 64, not -E2BIG (%d)", n);

			/* 64 distinct then an invalid name: -EINVAL. */
			memcpy(more + l, ",/", 3);
			n = chan_list_parse(more, l + 2, out);
			CHECK(n == -EINVAL, "64 distinct then an invalid name: -EINVAL (%d)", n);
			free(more);
		}
		free(list);

		/* 65 distinct then an invalid name: -E2BIG is seen first. */
		list = make_list(PUSH_FILTER_MAX + 1, 3);
		{
			size_t l = strlen(list);
			char *more = malloc(l + 3);

			memcpy(more, list, l);
			memcpy(more + l, ",,", 3);
			n = chan_list_parse(more, l + 2, out);
			CHECK(n == -E2BIG, "65 distinct then an empty name: -E2BIG (first error wins) (%d)", n);
			free(more);
		}
		free(list);

		/* An invalid name before the 65th: -EINVAL. */
		list = make_list(PUSH_FILTER_MAX + 1, 3);
		list[0] = '/';
		n = chan_list_parse(list, strlen(list), out);
		CHECK(n == -EINVAL, "invalid first name of 65: -EINVAL (%d)", n);
		free(list);
		free(out);
	}
}

static void test_join(void)
{
	char buf[PUSH_FILTER_MAX * (PUSH_CHANNEL_MAX + 1)];
	size_t n;
	int count, ok;

	count = parse("a,b,c");
	memset(buf, '#', sizeof(buf));
	n = chan_list_join(names, count, buf, sizeof(buf));
	CHECK(n == 5 && !memcmp(buf, "a,b,c", 5) && buf[5] == '#',
	      "join a,b,c (no NUL written)");
	memset(buf, '#', sizeof(buf));
	CHECK(chan_list_join(names, 0, buf, sizeof(buf)) == 0 && buf[0] == '#',
	      "join of 0 names writes nothing");

	count = parse("news,user:42,x");
	n = chan_list_join(names, count, buf, sizeof(buf));
	CHECK(n == 14 && !memcmp(buf, "news,user:42,x", 14), "round trip news,user:42,x");
	count = parse("a,b,a,c,b");
	n = chan_list_join(names, count, buf, sizeof(buf));
	CHECK(count == 3 && n == 5 && !memcmp(buf, "a,b,c", 5),
	      "round trip drops duplicates: a,b,a,c,b -> a,b,c");

	/*
	 * Buffer limits for a,b,c (5 bytes).  What chan.c does: a name is
	 * written only if off + len + 1 <= size, so the first name needs one
	 * byte more than it takes (room for a comma it does not write), later
	 * ones need exactly ",name".  The list is cut between names, silently.
	 */
	{
		static const size_t want[] = { 0, 0, 1, 3, 3, 5, 5 };

		count = parse("a,b,c");
		ok = 1;
		for (size_t size = 0; size < sizeof(want) / sizeof(want[0]); size++) {
			memset(buf, '#', sizeof(buf));
			n = chan_list_join(names, count, buf, size);
			if (n != want[size] || memcmp(buf, "a,b,c", n) || buf[n] != '#' ||
			    (size > n && buf[size] != '#')) {
				ok = 0;
				printf("# size %zu: got %zu\n", size, n);
			}
		}
		CHECK(ok, "join a,b,c into sizes 0..6: 0,0,1,3,3,5,5 bytes, prefixes, no overrun");
	}
	count = parse("abc");
	CHECK(chan_list_join(names, count, buf, 3) == 0,
	      "single 3-char name into 3 bytes: 0 (first name needs len + 1)");
	CHECK(chan_list_join(names, count, buf, 4) == 3 && !memcmp(buf, "abc", 3),
	      "single 3-char name into 4 bytes: 3");
	count = parse("aaaa,b");
	CHECK(chan_list_join(names, count, buf, 3) == 0,
	      "stops at the first name that does not fit, later short ones skipped too");
	count = parse("a,bbbb,c");
	n = chan_list_join(names, count, buf, 5);
	CHECK(n == 1 && buf[0] == 'a', "cut after a, not a,c: a name is never skipped");

	/* The largest filter: 64 names of 64 characters, as history.c sizes it. */
	{
		char *list = make_list(PUSH_FILTER_MAX, PUSH_CHANNEL_MAX);
		size_t l = strlen(list);
		struct chan_name back[PUSH_FILTER_MAX];
		int nback;

		count = parse(list);
		memset(buf, '#', sizeof(buf));
		n = chan_list_join(names, count, buf, sizeof(buf));
		CHECK(count == PUSH_FILTER_MAX && l == 4159 && n == l && !memcmp(buf, list, l) &&
		      buf[l] == '#',
		      "64 x 64 characters: 4159 bytes fit history.c's 4160-byte buffer");
		nback = chan_list_parse(buf, n, back);
		ok = nback == count;
		for (int i = 0; ok && i < count; i++)
			ok = back[i].len == names[i].len && !strcmp(back[i].s, names[i].s);
		CHECK(ok, "64 x 64 round trip: join then parse gives the same names");
		n = chan_list_join(names, count, buf, l);
		CHECK(n == l, "64 x 64 into exactly 4159 bytes: all of it (%zu)", n);
		n = chan_list_join(names, count, buf, l - 1);
		CHECK(n == l - PUSH_CHANNEL_MAX - 1,
		      "one byte short: the whole last name is dropped (%zu)", n);
		free(list);
	}
}

int main(void)
{
	test_valid();
	test_parse();
	test_join();
	return tap_done();
}
