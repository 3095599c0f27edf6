// SPDX-License-Identifier: BSD-2-Clause
/*
 * proc_parse.c - pure parsers for /proc/PID/stat and /proc/PID/status
 * (see proc_parse.h). No I/O, no allocation; nothing is read past len.
 */
#include <errno.h>
#include <string.h>

#include "proc_parse.h"

#define STAT_FIELDS 22 /* the last field actlog reads: starttime */

/* 1 for the bytes that separate fields and lines. */
static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Parse the whole of [p, end) as a decimal number no larger than max. Returns
 * 0 and sets *v, or -EINVAL for an empty range, a non-digit or overflow.
 */
static int parse_uint(const char *p, const char *end, uint64_t max, uint64_t *v)
{
	uint64_t n = 0;
	unsigned int d;

	if (p >= end)
		return -EINVAL;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		d = (unsigned int)(*p - '0');
		if (n > (max - d) / 10)
			return -EINVAL;
		n = n * 10 + d;
	}
	*v = n;
	return 0;
}

/*
 * Find the next whitespace-separated token at or after *p and before end.
 * Returns 1 with [*tok, *tok_end) set and *p moved past it, 0 when only
 * whitespace is left.
 */
static int next_token(const char **p, const char *end, const char **tok, const char **tok_end)
{
	const char *q = *p;

	while (q < end && is_space(*q))
		q++;
	if (q == end)
		return 0;
	*tok = q;
	while (q < end && !is_space(*q))
		q++;
	*tok_end = q;
	*p = q;
	return 1;
}

/* See proc_parse.h: fields 1-4, 14, 15 and 22 of /proc/PID/stat; 0 or -EINVAL. */
int proc_parse_stat(const char *buf, size_t len, struct proc_stat_info *out)
{
	const char *end = buf + len, *open, *close, *p, *tok, *tok_end, *q;
	uint64_t v;
	size_t n;
	int field, err;

	if (!buf || !out)
		return -EINVAL;
	open = memchr(buf, '(', len);
	if (!open)
		return -EINVAL;
	/* the comm may contain ')' itself: the fields after it never do */
	close = memrchr(open + 1, ')', (size_t)(end - (open + 1)));
	if (!close)
		return -EINVAL;

	/* field 1: "PID " before the '(' */
	q = open;
	while (q > buf && is_space(q[-1]))
		q--;
	p = buf;
	while (p < q && is_space(*p))
		p++;
	err = parse_uint(p, q, UINT32_MAX, &v);
	if (err)
		return err;
	out->pid = (uint32_t)v;

	/* field 2: the comm, cut to what the kernel could hold */
	n = (size_t)(close - (open + 1));
	if (n > PROC_COMM_LEN - 1)
		n = PROC_COMM_LEN - 1;
	memcpy(out->comm, open + 1, n);
	out->comm[n] = '\0';

	p = close + 1;
	for (field = 3; field <= STAT_FIELDS; field++) {
		if (!next_token(&p, end, &tok, &tok_end))
			return -EINVAL;
		switch (field) {
		case 3:
			if (tok_end - tok != 1)
				return -EINVAL;
			out->state = *tok;
			break;
		case 4:
			err = parse_uint(tok, tok_end, UINT32_MAX, &v);
			if (err)
				return err;
			out->ppid = (uint32_t)v;
			break;
		case 14:
			err = parse_uint(tok, tok_end, UINT64_MAX, &out->utime_ticks);
			if (err)
				return err;
			break;
		case 15:
			err = parse_uint(tok, tok_end, UINT64_MAX, &out->stime_ticks);
			if (err)
				return err;
			break;
		case 22:
			err = parse_uint(tok, tok_end, UINT64_MAX, &out->start_ticks);
			if (err)
				return err;
			break;
		default:
			break; /* fields actlog does not use; some are negative */
		}
	}
	return 0;
}

/*
 * If the line [line, line_end) starts with key (which includes the ':'),
 * parse the first whitespace-separated number after it into *v. Returns 1
 * when parsed, 0 when the key does not match, -EINVAL when it matches but the
 * value is malformed.
 */
static int status_field(const char *line, const char *line_end, const char *key, uint64_t *v)
{
	size_t klen = strlen(key);
	const char *p = line + klen, *tok, *tok_end;
	int err;

	if ((size_t)(line_end - line) < klen || memcmp(line, key, klen) != 0)
		return 0;
	if (!next_token(&p, line_end, &tok, &tok_end))
		return -EINVAL;
	err = parse_uint(tok, tok_end, UINT32_MAX, v);
	return err ? err : 1;
}

/* See proc_parse.h: PPid and real Uid of /proc/PID/status; 0 or -EINVAL. */
int proc_parse_status(const char *buf, size_t len, struct proc_status_info *out)
{
	const char *end = buf + len, *line, *nl;
	int have_ppid = 0, have_uid = 0, rc;
	uint64_t v;

	if (!buf || !out)
		return -EINVAL;
	for (line = buf; line < end && !(have_ppid && have_uid); line = nl < end ? nl + 1 : end) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			nl = end;
		if (!have_ppid) {
			rc = status_field(line, nl, "PPid:", &v);
			if (rc < 0)
				return rc;
			if (rc > 0) {
				out->ppid = (uint32_t)v;
				have_ppid = 1;
				continue;
			}
		}
		if (!have_uid) {
			rc = status_field(line, nl, "Uid:", &v);
			if (rc < 0)
				return rc;
			if (rc > 0) {
				out->uid = (uint32_t)v;
				have_uid = 1;
			}
		}
	}
	return have_ppid && have_uid ? 0 : -EINVAL;
}

/* See proc_parse.h: ticks at hz per second in ns, 0 for hz <= 0. */
uint64_t proc_ticks_to_ns(uint64_t ticks, long hz)
{
	uint64_t h;

	if (hz <= 0)
		return 0;
	h = (uint64_t)hz;
	return ticks / h * 1000000000ULL + ticks % h * 1000000000ULL / h;
}
