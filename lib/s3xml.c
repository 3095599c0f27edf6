// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "s3xml.h"
#include "util.h"

/* find "<name>" (or "<name " with attributes) in [p, end); returns the byte
 * after '>' or NULL (*bad set when the element is there but not closed);
 * *close gets the start of "</name>" */
static const char *find_elem(const char *p, const char *end, const char *name, const char **close,
			     int *bad)
{
	size_t nl = strlen(name);

	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p)), *gt, *c;

		if (!lt)
			return NULL;
		p = lt + 1;
		if ((size_t)(end - p) < nl + 1 || memcmp(p, name, nl) != 0 ||
		    (p[nl] != '>' && p[nl] != ' ' && p[nl] != '/'))
			continue;
		gt = memchr(p + nl, '>', (size_t)(end - p - nl));
		*bad = 1;
		if (!gt)
			return NULL;
		if (gt[-1] == '/') { /* <name/>: empty */
			*close = gt + 1;
			*bad = 0;
			return gt + 1;
		}
		for (c = gt + 1; c < end; c++) {
			c = memchr(c, '<', (size_t)(end - c));
			if (!c)
				return NULL;
			if ((size_t)(end - c) >= nl + 3 && c[1] == '/' &&
			    memcmp(c + 2, name, nl) == 0 && c[2 + nl] == '>') {
				*close = c;
				*bad = 0;
				return gt + 1;
			}
		}
		return NULL;
	}
	return NULL;
}

/* decode XML text [s, e) into out (n bytes) */
static int decode(const char *s, const char *e, char *out, size_t n)
{
	size_t o = 0;

	if ((size_t)(e - s) > S3XML_MAX_TEXT)
		return -E2BIG;
	while (s < e) {
		char c = *s++;

		if (c == '&') {
			const char *semi = memchr(s, ';', (size_t)(e - s));
			size_t l = semi ? (size_t)(semi - s) : 0;
			unsigned long cp;
			char *endp;

			if (!semi || l == 0 || l > 10)
				return -EBADMSG;
			if (l == 2 && !memcmp(s, "lt", 2))
				c = '<';
			else if (l == 2 && !memcmp(s, "gt", 2))
				c = '>';
			else if (l == 3 && !memcmp(s, "amp", 3))
				c = '&';
			else if (l == 4 && !memcmp(s, "quot", 4))
				c = '"';
			else if (l == 4 && !memcmp(s, "apos", 4))
				c = '\'';
			else if (s[0] == '#') {
				cp = s[1] == 'x' ? strtoul(s + 2, &endp, 16)
						 : strtoul(s + 1, &endp, 10);
				if (endp != semi || cp == 0 || cp > 0x10ffff ||
				    (cp >= 0xd800 && cp <= 0xdfff))
					return -EBADMSG;
				if (o + 5 > n)
					return -E2BIG;
				if (cp < 0x80) {
					out[o++] = (char)cp;
				} else if (cp < 0x800) {
					out[o++] = (char)(0xc0 | cp >> 6);
					out[o++] = (char)(0x80 | (cp & 0x3f));
				} else if (cp < 0x10000) {
					out[o++] = (char)(0xe0 | cp >> 12);
					out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
					out[o++] = (char)(0x80 | (cp & 0x3f));
				} else {
					out[o++] = (char)(0xf0 | cp >> 18);
					out[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
					out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
					out[o++] = (char)(0x80 | (cp & 0x3f));
				}
				s = semi + 1;
				continue;
			} else {
				return -EBADMSG;
			}
			s = semi + 1;
		} else if (c == '<') {
			return -EBADMSG; /* nested element where text was expected */
		}
		if (o + 2 > n)
			return -E2BIG;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int s3xml_text(const char *doc, size_t len, const char *name, char *out, size_t n)
{
	const char *b, *close = NULL;
	int bad = 0, r;

	if (!doc || !name || !out || n == 0)
		return -EINVAL;
	if (len > S3XML_MAX_DOC)
		return -E2BIG;
	b = find_elem(doc, doc + len, name, &close, &bad);
	if (!b)
		return bad ? -EBADMSG : -ENOENT;
	if (close == b && b[-2] == '/') {
		out[0] = '\0';
		return 0;
	}
	r = decode(b, close, out, n);
	if (r)
		out[0] = '\0';
	return r;
}

void s3xml_list_free(struct s3xml_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->objs[i].key);
	free(l->objs);
	memset(l, 0, sizeof(*l));
}

int s3xml_parse_list(const char *doc, size_t len, struct s3xml_list *out)
{
	const char *end = doc + len, *p, *b, *close;
	char buf[S3XML_MAX_TEXT + 1];
	int err, bad = 0;

	memset(out, 0, sizeof(*out));
	if (len > S3XML_MAX_DOC)
		return -E2BIG;
	b = find_elem(doc, end, "ListBucketResult", &close, &bad);
	if (!b)
		return -EBADMSG;
	end = close;
	err = s3xml_text(b, (size_t)(end - b), "IsTruncated", buf, sizeof(buf));
	if (err && err != -ENOENT)
		return err;
	out->truncated = !err && strcmp(buf, "true") == 0;
	err = s3xml_text(b, (size_t)(end - b), "NextContinuationToken", out->next_token,
			 sizeof(out->next_token));
	if (err && err != -ENOENT)
		return err;
	if (err)
		out->next_token[0] = '\0';
	if (out->truncated && !out->next_token[0])
		return -EBADMSG;
	out->objs = calloc(S3XML_MAX_KEYS, sizeof(*out->objs));
	if (!out->objs)
		return -ENOMEM;
	for (p = b; (b = find_elem(p, end, "Contents", &close, &bad)); p = close + 1) {
		struct s3xml_object *o;
		size_t bl = (size_t)(close - b);
		uint64_t size;

		if (out->n == S3XML_MAX_KEYS) {
			err = -E2BIG;
			goto fail;
		}
		o = &out->objs[out->n];
		if ((err = s3xml_text(b, bl, "Key", buf, sizeof(buf))))
			goto fail;
		o->key = strdup(buf);
		if (!o->key) {
			err = -ENOMEM;
			goto fail;
		}
		out->n++;
		if ((err = s3xml_text(b, bl, "Size", buf, sizeof(buf))) ||
		    (err = parse_uint(buf, 0, UINT64_MAX, &size)))
			goto fail;
		o->size = size;
		err = s3xml_text(b, bl, "ETag", o->etag, sizeof(o->etag));
		if (err && err != -ENOENT)
			goto fail;
	}
	if (bad) {
		err = -EBADMSG;
		goto fail;
	}
	return 0;
fail:
	s3xml_list_free(out);
	return err == -ENOENT || err == -EINVAL || err == -ERANGE ? -EBADMSG : err;
}
