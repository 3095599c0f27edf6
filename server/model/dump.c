// SPDX-License-Identifier: BSD-2-Clause
/*
 * dump.c - the logical dump of a store (format and contracts: dump.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/dump.h"

enum { ST_HEAD, ST_TAG, ST_ITEM_HEAD, ST_ITEM, ST_END_HEAD, ST_END, ST_DONE };

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* --- writer --- */

/* Send len bytes to the sink and count them. */
static int emit(struct dump_writer *w, const void *buf, size_t len)
{
	int err = len ? w->sink(w->ctx, buf, len) : 0;

	if (!err)
		w->bytes += len;
	return err;
}

int dump_write_start(struct dump_writer *w, dump_sink_fn sink, void *ctx)
{
	uint8_t head[DUMP_HEAD_LEN] = {'A', 'L', 'D', 'U', 'M', 'P', 0, DUMP_VERSION};

	memset(w, 0, sizeof(*w));
	w->sink = sink;
	w->ctx = ctx;
	return emit(w, head, sizeof(head));
}

int dump_write_item(enum store_table t, const char *pk, const char *sk, const void *val, size_t len,
		    void *wp)
{
	struct dump_writer *w = wp;
	uint8_t h[DUMP_ITEM_HEAD];
	size_t pl = strlen(pk), sl = strlen(sk);
	int err;

	if ((unsigned)t >= STORE_T__COUNT || !pl || !sl || pl + sl > STORE_KEY_MAX ||
	    len > STORE_VAL_MAX)
		return -EINVAL;
	h[0] = 'I';
	h[1] = (uint8_t)t;
	put16(h + 2, (unsigned)pl);
	put16(h + 4, (unsigned)sl);
	put32(h + 6, (uint32_t)len);
	err = emit(w, h, sizeof(h));
	if (!err)
		err = emit(w, pk, pl);
	if (!err)
		err = emit(w, sk, sl);
	if (!err)
		err = emit(w, val, len);
	if (!err)
		w->items[t]++;
	return err;
}

int dump_write_end(struct dump_writer *w)
{
	uint8_t e[2 + 8 * STORE_T__COUNT];

	e[0] = 'E';
	e[1] = STORE_T__COUNT;
	for (int t = 0; t < STORE_T__COUNT; t++)
		put64(e + 2 + 8 * t, w->items[t]);
	return emit(w, e, sizeof(e));
}

/* --- parser --- */

int dump_parse_init(struct dump_parser *p, store_snap_fn fn, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->buf = malloc(DUMP_RECORD_MAX + 1);
	if (!p->buf)
		return -ENOMEM;
	p->fn = fn;
	p->ctx = ctx;
	p->state = ST_HEAD;
	p->need = DUMP_HEAD_LEN;
	return 0;
}

void dump_parse_fini(struct dump_parser *p)
{
	free(p->buf);
	p->buf = NULL;
}

/* Record the first error with its reason; returns -EBADMSG. */
static int bad(struct dump_parser *p, const char *what)
{
	snprintf(p->why, sizeof(p->why), "plaintext stream: %s at byte %llu", what,
		 (unsigned long long)(p->offset - p->have));
	p->err = -EBADMSG;
	return p->err;
}

/* The item in p->buf (complete): hand it to fn. */
static int item_done(struct dump_parser *p)
{
	char pk[STORE_KEY_MAX + 1], sk[STORE_KEY_MAX + 1];
	enum store_table t = p->buf[1];
	size_t pl = get_be(p->buf + 2, 2), sl = get_be(p->buf + 4, 2);
	size_t vl = get_be(p->buf + 6, 4);
	const uint8_t *kp = p->buf + DUMP_ITEM_HEAD;
	int rc;

	if (memchr(kp, 0, pl + sl))
		return bad(p, "a key with a NUL byte");
	memcpy(pk, kp, pl);
	pk[pl] = '\0';
	memcpy(sk, kp + pl, sl);
	sk[sl] = '\0';
	rc = p->fn(t, pk, sk, kp + pl + sl, vl, p->ctx);
	if (rc < 0) {
		p->err = rc;
		return rc;
	}
	p->items[t]++;
	return 0;
}

/* The end record in p->buf (complete): check the counts. */
static int end_done(struct dump_parser *p)
{
	unsigned n = p->buf[1];

	for (unsigned t = 0; t < n || t < STORE_T__COUNT; t++) {
		uint64_t want = t < n ? get_be(p->buf + 2 + 8 * t, 8) : 0;
		uint64_t got = t < STORE_T__COUNT ? p->items[t] : 0;

		if (want != got) {
			char what[96];

			snprintf(
			    what, sizeof(what),
			    "the end record counts %llu items of table %u, the stream held %llu",
			    (unsigned long long)want, t, (unsigned long long)got);
			return bad(p, what);
		}
	}
	return 0;
}

/* p->buf holds p->need bytes: act on them, then set the next need. */
static int step(struct dump_parser *p)
{
	const uint8_t *b = p->buf;
	int err = 0;

	switch (p->state) {
	case ST_HEAD:
		if (memcmp(b, DUMP_MAGIC, 6) || b[6] != 0)
			return bad(p, "not a dump (bad magic)");
		if (b[7] != DUMP_VERSION)
			return bad(p, "unknown version");
		p->state = ST_TAG;
		p->need = 1;
		p->have = 0;
		return 0;
	case ST_TAG:
		if (b[0] == 'I') {
			p->state = ST_ITEM_HEAD;
			p->need = DUMP_ITEM_HEAD;
		} else if (b[0] == 'E') {
			p->state = ST_END_HEAD;
			p->need = 2;
		} else {
			return bad(p, "unknown record type");
		}
		return 0; /* keep the tag byte in buf */
	case ST_ITEM_HEAD: {
		size_t pl = get_be(b + 2, 2), sl = get_be(b + 4, 2);
		uint64_t vl = get_be(b + 6, 4);

		if (b[1] >= STORE_T__COUNT)
			return bad(p, "an item of a table this version does not know");
		if (!pl || !sl)
			return bad(p, "an empty key");
		if (pl + sl > STORE_KEY_MAX)
			return bad(p, "a key over STORE_KEY_MAX");
		if (vl > STORE_VAL_MAX)
			return bad(p, "a value over STORE_VAL_MAX");
		p->state = ST_ITEM;
		p->need = DUMP_ITEM_HEAD + pl + sl + (size_t)vl;
		return 0; /* keys are non-empty: bytes follow the head */
	}
	case ST_ITEM:
		err = item_done(p);
		p->state = ST_TAG;
		p->need = 1;
		p->have = 0;
		return err;
	case ST_END_HEAD:
		p->state = ST_END;
		p->need = 2 + 8 * (size_t)b[1];
		if (p->need > p->have)
			return 0;
		/* fall through */
	case ST_END:
		err = end_done(p);
		p->state = ST_DONE;
		p->need = 0;
		p->have = 0;
		return err;
	}
	return bad(p, "parser state");
}

int dump_parse_feed(struct dump_parser *p, const void *buf, size_t len)
{
	const uint8_t *in = buf;

	if (p->err)
		return p->err;
	while (len) {
		size_t take;

		if (p->state == ST_DONE) {
			p->offset += 1;
			p->have = 1;
			return bad(p, "bytes after the end record");
		}
		take = p->need - p->have;
		if (take > len)
			take = len;
		memcpy(p->buf + p->have, in, take);
		p->have += take;
		p->offset += take;
		in += take;
		len -= take;
		if (p->have == p->need) {
			int err = step(p);

			if (err)
				return err;
		}
	}
	return 0;
}

int dump_parse_done(struct dump_parser *p)
{
	if (p->err)
		return p->err;
	if (p->state != ST_DONE)
		return bad(p, "truncated (no end record)");
	return 0;
}

/* --- text --- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Write key part s to f with its special bytes as \xHH. */
static void put_key(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == '\\')
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

int dump_text_item(enum store_table t, const char *pk, const char *sk, const void *val, size_t len,
		   void *fp)
{
	FILE *f = fp;
	const uint8_t *v = val;
	char q[4];

	fputs(store_table_name(t), f);
	fputc('\t', f);
	put_key(f, pk);
	fputc('\t', f);
	put_key(f, sk);
	fputc('\t', f);
	for (size_t i = 0; i < len; i += 3) {
		uint32_t n = (uint32_t)v[i] << 16;

		if (i + 1 < len)
			n |= (uint32_t)v[i + 1] << 8;
		if (i + 2 < len)
			n |= v[i + 2];
		q[0] = b64[n >> 18 & 63];
		q[1] = b64[n >> 12 & 63];
		q[2] = i + 1 < len ? b64[n >> 6 & 63] : '=';
		q[3] = i + 2 < len ? b64[n & 63] : '=';
		fwrite(q, 1, 4, f);
	}
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}

int dump_text(struct store *st, FILE *f)
{
	int err = store_snapshot(st, dump_text_item, f);

	if (!err && fflush(f))
		err = -EIO;
	return err;
}
