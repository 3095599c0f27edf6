// SPDX-License-Identifier: BSD-2-Clause
/*
 * desktop.c - .desktop file parser and name index (see desktop.h). Pure: no
 * I/O; nothing is read past len.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "desktop.h"
#include "util.h"

#define LINE_MAX_LEN 4096 /* longer lines are skipped */

/* Copy [s, s + n) into dst (size dn) as a desktop "string" value: \s \n \t
 * \r \\ are unescaped, anything else is kept; cut at a UTF-8 boundary. */
static void unescape(char *dst, size_t dn, const char *s, size_t n)
{
	char tmp[LINE_MAX_LEN];
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < sizeof(tmp); i++) {
		if (s[i] == '\\' && i + 1 < n) {
			i++;
			switch (s[i]) {
			case 's':
				tmp[o++] = ' ';
				break;
			case 'n':
				tmp[o++] = '\n';
				break;
			case 't':
				tmp[o++] = '\t';
				break;
			case 'r':
				tmp[o++] = '\r';
				break;
			default:
				tmp[o++] = s[i];
			}
			continue;
		}
		tmp[o++] = s[i];
	}
	utf8_clean(dst, dn, tmp, o);
}

/* Next word of an Exec= command line (after string unescaping) from *p:
 * spaces separate words, a double-quoted word may hold spaces and escapes
 * \" \` \$ \\. Returns 1 with the word in w (size wn), 0 at the end. */
static int exec_word(const char **p, char *w, size_t wn)
{
	const char *s = *p;
	size_t o = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return 0;
	if (*s == '"') {
		s++;
		while (*s && *s != '"') {
			if (*s == '\\' && s[1])
				s++;
			if (o + 1 < wn)
				w[o++] = *s;
			s++;
		}
		if (*s == '"')
			s++;
	} else {
		while (*s && *s != ' ' && *s != '\t') {
			if (o + 1 < wn)
				w[o++] = *s;
			s++;
		}
	}
	w[o] = '\0';
	*p = s;
	return 1;
}

char *desktop_basename(const char *path, char *buf, size_t n)
{
	static const char deleted[] = " (deleted)";
	const char *b = strrchr(path, '/');
	size_t len, dl = sizeof(deleted) - 1;

	b = b ? b + 1 : path;
	len = strlen(b);
	if (len > dl && !strcmp(b + len - dl, deleted))
		len -= dl;
	if (n == 0)
		return buf;
	if (len >= n)
		len = n - 1;
	memcpy(buf, b, len);
	buf[len] = '\0';
	return buf;
}

/* The program of an Exec= value: its first word, after an "env VAR=x" prefix. */
static void exec_program(const char *value, char *base, size_t bn)
{
	char w[LINE_MAX_LEN], b[DESKTOP_BASE_LEN];
	const char *p = value;
	int after_env = 0;

	base[0] = '\0';
	while (exec_word(&p, w, sizeof(w))) {
		if (after_env && (strchr(w, '=') || w[0] == '-'))
			continue;
		desktop_basename(w, b, sizeof(b));
		if (!after_env && !strcmp(b, "env")) {
			after_env = 1;
			continue;
		}
		if (w[0] == '%') /* a field code where a program should be */
			return;
		snprintf(base, bn, "%s", b);
		return;
	}
}

int desktop_parse(const char *buf, size_t len, const char *id, struct desktop_entry *out)
{
	char val[LINE_MAX_LEN];
	const char *p = buf, *end = buf + len, *nl, *eq, *k, *ke, *v, *ve;
	int in_entry = 0, seen_entry = 0, hidden = 0, app = 0;

	if (!buf || !out || !id)
		return -EINVAL;
	if (memchr(buf, '\0', len))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	utf8_clean(out->id, sizeof(out->id), id, strlen(id));
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		ve = nl;
		if (ve > p && ve[-1] == '\r')
			ve--;
		if (ve == p || *p == '#')
			continue;
		if (*p == '[') {
			if (in_entry)
				break; /* the group is over: nothing else is read */
			in_entry = (size_t)(ve - p) == 15 && !memcmp(p, "[Desktop Entry]", 15);
			seen_entry |= in_entry;
			continue;
		}
		if (!in_entry || (size_t)(ve - p) >= LINE_MAX_LEN)
			continue;
		eq = memchr(p, '=', (size_t)(ve - p));
		if (!eq)
			continue;
		k = p;
		ke = eq;
		while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
			ke--;
		v = eq + 1;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
#define KEY_IS(s) ((size_t)(ke - k) == sizeof(s) - 1 && !memcmp(k, s, sizeof(s) - 1))
		if (KEY_IS("Name")) {
			unescape(out->name, sizeof(out->name), v, (size_t)(ve - v));
		} else if (KEY_IS("Exec")) {
			unescape(val, sizeof(val), v, (size_t)(ve - v));
			exec_program(val, out->exec_base, sizeof(out->exec_base));
		} else if (KEY_IS("TryExec")) {
			unescape(val, sizeof(val), v, (size_t)(ve - v));
			desktop_basename(val, out->tryexec_base, sizeof(out->tryexec_base));
		} else if (KEY_IS("StartupWMClass")) {
			unescape(out->wmclass, sizeof(out->wmclass), v, (size_t)(ve - v));
		} else if (KEY_IS("Type")) {
			app = (size_t)(ve - v) == 11 && !memcmp(v, "Application", 11);
		} else if (KEY_IS("Hidden")) {
			hidden = (size_t)(ve - v) == 4 && !memcmp(v, "true", 4);
		}
#undef KEY_IS
	}
	if (!seen_entry)
		return -EINVAL;
	if (!app || hidden || !out->name[0])
		return -ENOENT;
	return 0;
}

int desktop_index_add(struct desktop_index *ix, const struct desktop_entry *entry)
{
	struct desktop_entry *ne;
	size_t i, cap;

	for (i = 0; i < ix->n; i++)
		if (!strcmp(ix->e[i].id, entry->id))
			return 0;
	if (ix->n >= DESKTOP_MAX_ENTRIES) {
		ix->skipped++;
		return -ENOSPC;
	}
	if (ix->n == ix->cap) {
		cap = ix->cap ? ix->cap * 2 : 64;
		ne = realloc(ix->e, cap * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		ix->e = ne;
		ix->cap = cap;
	}
	ix->e[ix->n++] = *entry;
	return 0;
}

void desktop_index_clear(struct desktop_index *ix)
{
	free(ix->e);
	memset(ix, 0, sizeof(*ix));
}

const char *desktop_name_for_exe(const struct desktop_index *ix, const char *exe)
{
	char b[DESKTOP_BASE_LEN];
	size_t i;

	if (!ix || !exe || !*exe)
		return NULL;
	desktop_basename(exe, b, sizeof(b));
	if (!b[0])
		return NULL;
	/* TryExec names the binary itself where Exec may name a wrapper */
	for (i = 0; i < ix->n; i++)
		if (!strcmp(ix->e[i].tryexec_base, b))
			return ix->e[i].name;
	for (i = 0; i < ix->n; i++)
		if (!strcmp(ix->e[i].exec_base, b))
			return ix->e[i].name;
	return NULL;
}

const char *desktop_name_for_class(const struct desktop_index *ix, const char *wmclass)
{
	size_t i;

	if (!ix || !wmclass || !*wmclass)
		return NULL;
	for (i = 0; i < ix->n; i++)
		if (ix->e[i].wmclass[0] && !strcasecmp(ix->e[i].wmclass, wmclass))
			return ix->e[i].name;
	for (i = 0; i < ix->n; i++)
		if (!strcasecmp(ix->e[i].id, wmclass))
			return ix->e[i].name;
	for (i = 0; i < ix->n; i++)
		if (ix->e[i].exec_base[0] && !strcasecmp(ix->e[i].exec_base, wmclass))
			return ix->e[i].name;
	return NULL;
}
