// SPDX-License-Identifier: GPL-2.0
/*
 * conffile.c - pushd's configuration file: "name = value" lines turned into
 * "--name=value" arguments for the getopt_long() loop of main.c
 * (conffile.h has the format).  Only the syntax and the names are checked
 * here; values are checked where the command line's are, and main.c names
 * the line of a value it refuses.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/conffile.h"

static int fail(char *err, size_t errlen, const char *path, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s:%d: ", path, line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Cuts blanks off both ends of [s, *end); returns the start, NUL-terminated. */
static char *trim(char *s, char **end)
{
	while (*s == ' ' || *s == '\t')
		s++;
	while (*end > s && ((*end)[-1] == ' ' || (*end)[-1] == '\t' || (*end)[-1] == '\r'))
		(*end)--;
	**end = '\0';
	return s;
}

static const struct option *find(const struct option *opts, const char *name)
{
	for (; opts->name; opts++)
		if (!strcmp(opts->name, name))
			return opts;
	return NULL;
}

static int denied(const char *const *deny, const char *name)
{
	for (; deny && *deny; deny++)
		if (!strcmp(*deny, name))
			return 1;
	return 0;
}

/* Appends "--name[=value]" from @line; returns 0 or -ENOMEM. */
static int add(struct conffile *cf, const char *name, const char *value, int line)
{
	size_t n = strlen(name) + (value ? strlen(value) + 1 : 0) + 3;
	char **argv = realloc(cf->argv, sizeof(*argv) * (size_t)(cf->argc + 2));
	int *lines;
	char *arg;

	if (!argv)
		return -ENOMEM;
	cf->argv = argv;
	lines = realloc(cf->line, sizeof(*lines) * (size_t)(cf->argc + 1));
	if (!lines)
		return -ENOMEM;
	cf->line = lines;
	arg = malloc(n);
	if (!arg)
		return -ENOMEM;
	snprintf(arg, n, "--%s%s%s", name, value ? "=" : "", value ? value : "");
	cf->argv[cf->argc] = arg;
	cf->line[cf->argc] = line;
	cf->argv[++cf->argc] = NULL;
	return 0;
}

/* Checks one line (NUL-terminated, without its newline) and adds it to @cf. */
static int parse_line(struct conffile *cf, char *s, int line, const struct option *opts,
		      const char *const *deny, char *err, size_t errlen)
{
	char *end = s + strlen(s), *eq, *vend, *name, *value = NULL;
	const struct option *o;

	name = trim(s, &end);
	if (!*name || *name == '#')
		return 0;
	eq = strchr(name, '=');
	if (eq) {
		vend = end;
		end = eq;
		value = trim(eq + 1, &vend);
		name = trim(name, &end);
		/* "..." keeps spaces at the ends; nothing inside is special */
		size_t vlen = strlen(value);
		if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
			value[vlen - 1] = '\0';
			value++;
		} else if (vlen && (value[0] == '"' || value[vlen - 1] == '"')) {
			return fail(err, errlen, cf->path, line, "unbalanced quote in the value of '%s'", name);
		}
	}
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (c > name && ((*c >= '0' && *c <= '9') || *c == '-'))))
			return fail(err, errlen, cf->path, line,
				    "expected 'name = value', got '%.64s'", name);
	o = find(opts, name);
	if (!*name || !o)
		return fail(err, errlen, cf->path, line, "unknown setting '%.64s'", name);
	if (denied(deny, name))
		return fail(err, errlen, cf->path, line, "'%s' cannot be set in a file", name);
	for (int i = 0; i < cf->argc; i++) {
		size_t n = strlen(name);

		if (!strncmp(cf->argv[i] + 2, name, n) &&
		    (cf->argv[i][n + 2] == '=' || !cf->argv[i][n + 2]))
			return fail(err, errlen, cf->path, line, "'%s' is already set on line %d",
				    name, cf->line[i]);
	}
	if (o->has_arg == no_argument && value) {
		if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0"))
			return 0;
		if (strcmp(value, "yes") && strcmp(value, "true") && strcmp(value, "1"))
			return fail(err, errlen, cf->path, line,
				    "'%s' takes no value (or yes/no), got '%.64s'", name, value);
		value = NULL;
	} else if (o->has_arg == required_argument && (!value || !*value)) {
		return fail(err, errlen, cf->path, line, "'%s' needs a value ('%s = ...')", name, name);
	}
	if (add(cf, name, value, line))
		return fail(err, errlen, cf->path, line, "out of memory");
	return 0;
}

int conffile_parse(struct conffile *cf, const char *path, const char *text, size_t len,
		   const struct option *opts, const char *const *deny, char *err, size_t errlen)
{
	char buf[CONFFILE_MAX_LINE + 1];
	size_t pos = 0;
	int line = 0;

	memset(cf, 0, sizeof(*cf));
	cf->path = path;
	cf->argv = calloc(1, sizeof(*cf->argv));
	if (!cf->argv)
		return fail(err, errlen, path, 0, "out of memory");
	if (len > CONFFILE_MAX_SIZE)
		goto bad_size;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		line++;
		if (n > CONFFILE_MAX_LINE) {
			fail(err, errlen, path, line, "line longer than %d bytes", CONFFILE_MAX_LINE);
			goto out_free;
		}
		if (memchr(text + pos, '\0', n)) {
			fail(err, errlen, path, line, "NUL byte (not a text file?)");
			goto out_free;
		}
		memcpy(buf, text + pos, n);
		buf[n] = '\0';
		if (parse_line(cf, buf, line, opts, deny, err, errlen))
			goto out_free;
		pos += n + 1;
	}
	return 0;

bad_size:
	fail(err, errlen, path, 0, "larger than %d bytes", CONFFILE_MAX_SIZE);
out_free:
	conffile_free(cf);
	return -1;
}

int conffile_load(struct conffile *cf, const char *path, const struct option *opts,
		  const char *const *deny, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *text;
	size_t len;
	int ret;

	memset(cf, 0, sizeof(*cf));
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	text = malloc(CONFFILE_MAX_SIZE + 1);
	if (!text) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	len = fread(text, 1, CONFFILE_MAX_SIZE + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		ret = -1;
	} else {
		ret = conffile_parse(cf, path, text, len, opts, deny, err, errlen);
	}
	fclose(f);
	free(text);
	return ret;
}

char **conffile_merge(const struct conffile *cf, int argc, char **argv, int *newargc)
{
	char **v = calloc((size_t)(argc + cf->argc + 1), sizeof(*v));
	int n = 0;

	if (!v)
		return NULL;
	v[n++] = argv[0];
	for (int i = 0; i < cf->argc; i++)
		v[n++] = cf->argv[i];
	for (int i = 1; i < argc; i++)
		v[n++] = argv[i];
	v[n] = NULL;
	*newargc = n;
	return v;
}

int conffile_line_of(const struct conffile *cf, int i)
{
	return i >= 1 && i <= cf->argc ? cf->line[i - 1] : 0;
}

void conffile_free(struct conffile *cf)
{
	for (int i = 0; i < cf->argc; i++)
		free(cf->argv[i]);
	free(cf->argv);
	free(cf->line);
	cf->argv = NULL;
	cf->line = NULL;
	cf->argc = 0;
}
