// SPDX-License-Identifier: BSD-2-Clause
/*
 * store.c - the generic layer of the store (contracts: store.h, "Engines").
 *
 * Every store_* function lives here once: it checks its arguments (NULL,
 * table, flags, keys, value size, batch caps), keeps a batch's first error,
 * and then calls the store's engine through s->ops. An engine is called only
 * with arguments that passed these checks, so every engine refuses a bad
 * call with the same errno, before it touches its storage.
 */
#include <errno.h>
#include <string.h>

#include "store/engine.h"

static const char *const table_names[STORE_T__COUNT] = {
#define STORE_TABLE_NAME_(id, name) [STORE_T_##id] = name,
    STORE_TABLES(STORE_TABLE_NAME_)
#undef STORE_TABLE_NAME_
};

const char *store_table_name(enum store_table t)
{
	if ((unsigned)t >= STORE_T__COUNT)
		return NULL;
	return table_names[t];
}

const char *store_engine_name(const struct store *s)
{
	return s ? s->ops->name : NULL;
}

/* --- keys --- */

/* 1 when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], cp, min;
		size_t k;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, cp = c & 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (n - i - 1 < k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* Validate one key part; *len its length. 0, -EINVAL or -ENAMETOOLONG. */
static int key_part(const char *p, size_t *len)
{
	size_t n;

	if (!p)
		return -EINVAL;
	n = strnlen(p, STORE_KEY_MAX + 1);
	if (n == 0)
		return -EINVAL;
	if (n > STORE_KEY_MAX)
		return -ENAMETOOLONG;
	if (!utf8_valid((const unsigned char *)p, n))
		return -EINVAL;
	*len = n;
	return 0;
}

/*
 * Validate table t and the item key (pk, sk); *klen gets pk + sk + 1, the
 * bytes the key counts in a batch. 0, -EINVAL or -ENAMETOOLONG.
 */
static int key_check(enum store_table t, const char *pk, const char *sk, size_t *klen)
{
	size_t pl, sl;
	int err;

	if ((unsigned)t >= STORE_T__COUNT)
		return -EINVAL;
	err = key_part(pk, &pl);
	if (!err)
		err = key_part(sk, &sl);
	if (err)
		return err;
	if (pl + sl > STORE_KEY_MAX)
		return -ENAMETOOLONG;
	*klen = pl + 1 + sl;
	return 0;
}

/* Validate a sort-key bound of partition pk (pk is pl bytes). 0, -EINVAL, -ENAMETOOLONG. */
static int bound_check(size_t pl, const char *sk)
{
	size_t bl;
	int err = key_part(sk, &bl);

	if (!err && pl + bl > STORE_KEY_MAX)
		err = -ENAMETOOLONG;
	return err;
}

/* --- reads --- */

int store_get(struct store *s, enum store_table t, const char *pk, const char *sk, void **val,
	      size_t *len)
{
	size_t klen;
	int err;

	if (!val || !len)
		return -EINVAL;
	*val = NULL;
	if (!s)
		return -EINVAL;
	err = key_check(t, pk, sk, &klen);
	if (err)
		return err;
	return s->ops->get(s, t, pk, sk, val, len);
}

int store_query(struct store *s, enum store_table t, const char *pk, const char *sk_from,
		const char *sk_to, size_t limit, unsigned flags, store_item_fn fn, void *ctx)
{
	size_t pl;
	int err;

	if (!s || !fn || (unsigned)t >= STORE_T__COUNT || (flags & ~(STORE_REVERSE | STORE_PREFIX)))
		return -EINVAL;
	err = key_part(pk, &pl);
	if (err)
		return err;
	if (flags & STORE_PREFIX) {
		if (!sk_from || sk_to)
			return -EINVAL;
		err = bound_check(pl, sk_from);
	} else {
		if (sk_from)
			err = bound_check(pl, sk_from);
		if (!err && sk_to)
			err = bound_check(pl, sk_to);
	}
	if (err)
		return err;
	return s->ops->query(s, t, pk, sk_from, sk_to, limit, flags, fn, ctx);
}

int store_scan(struct store *s, enum store_table t, store_item_fn fn, void *ctx)
{
	if (!s || !fn || (unsigned)t >= STORE_T__COUNT)
		return -EINVAL;
	return s->ops->scan(s, t, fn, ctx);
}

/* --- batches --- */

int store_batch_begin(struct store *s, struct store_batch **b)
{
	int err;

	if (!b)
		return -EINVAL;
	*b = NULL;
	if (!s)
		return -EINVAL;
	err = s->ops->batch_begin(s, b);
	if (err) {
		*b = NULL;
		return err;
	}
	(*b)->s = s;
	(*b)->err = 0;
	(*b)->nops = 0;
	(*b)->bytes = 0;
	return 0;
}

void store_batch_abort(struct store_batch *b)
{
	if (b)
		b->s->ops->batch_abort(b);
}

/* Record err as the batch's first error; returns err. */
static int batch_fail(struct store_batch *b, int err)
{
	if (!b->err)
		b->err = err;
	return err;
}

/* Count one operation of klen + vlen bytes against the caps. 0 or -E2BIG. */
static int batch_charge(struct store_batch *b, size_t klen, size_t vlen)
{
	size_t room = STORE_BATCH_MAX_BYTES - b->bytes;

	if (b->nops >= STORE_BATCH_MAX_OPS || klen > room || vlen > room - klen)
		return -E2BIG;
	b->nops++;
	b->bytes += klen + vlen;
	return 0;
}

int store_batch_charge(struct store_batch *b, const char *pk, const char *sk, size_t vlen)
{
	return batch_charge(b, strlen(pk) + 1 + strlen(sk), vlen);
}

int store_batch_put(struct store_batch *b, enum store_table t, const char *pk, const char *sk,
		    const void *val, size_t len, unsigned flags)
{
	size_t klen;
	int err;

	if (!b)
		return -EINVAL;
	if (b->err)
		return b->err;
	err = key_check(t, pk, sk, &klen);
	if (err)
		return batch_fail(b, err);
	if ((!val && len) || (flags & ~(STORE_IF_ABSENT | STORE_IF_EXISTS)) ||
	    flags == (STORE_IF_ABSENT | STORE_IF_EXISTS))
		return batch_fail(b, -EINVAL);
	if (len > STORE_VAL_MAX)
		return batch_fail(b, -EMSGSIZE);
	err = batch_charge(b, klen, len);
	if (!err)
		err = b->s->ops->batch_put(b, t, pk, sk, val, len, flags);
	return err ? batch_fail(b, err) : 0;
}

int store_batch_delete(struct store_batch *b, enum store_table t, const char *pk, const char *sk,
		       unsigned flags)
{
	size_t klen;
	int err;

	if (!b)
		return -EINVAL;
	if (b->err)
		return b->err;
	err = key_check(t, pk, sk, &klen);
	if (err)
		return batch_fail(b, err);
	if (flags & ~STORE_IF_EXISTS)
		return batch_fail(b, -EINVAL);
	err = batch_charge(b, klen, 0);
	if (!err)
		err = b->s->ops->batch_delete(b, t, pk, sk, flags);
	return err ? batch_fail(b, err) : 0;
}

int store_batch_update(struct store_batch *b, enum store_table t, const char *pk, const char *sk,
		       store_update_fn fn, void *ctx)
{
	size_t klen;
	int err;

	if (!b)
		return -EINVAL;
	if (b->err)
		return b->err;
	err = key_check(t, pk, sk, &klen);
	if (err)
		return batch_fail(b, err);
	if (!fn)
		return batch_fail(b, -EINVAL);
	err = batch_charge(b, klen, 0);
	if (!err)
		err = b->s->ops->batch_update(b, t, pk, sk, fn, ctx);
	return err ? batch_fail(b, err) : 0;
}

int store_batch_get(struct store_batch *b, enum store_table t, const char *pk, const char *sk,
		    void **val, size_t *len)
{
	size_t klen;
	int err;

	if (!val || !len)
		return b ? batch_fail(b, -EINVAL) : -EINVAL;
	*val = NULL;
	if (!b)
		return -EINVAL;
	if (b->err)
		return b->err;
	err = key_check(t, pk, sk, &klen);
	if (err)
		return batch_fail(b, err);
	err = b->s->ops->batch_get(b, t, pk, sk, val, len);
	if (err == 1)
		return -ENOENT; /* absent: an answer, not a failure of the batch */
	return err < 0 ? batch_fail(b, err) : 0;
}

int store_batch_commit(struct store_batch *b)
{
	int err;

	if (!b)
		return -EINVAL;
	err = b->err;
	if (err || !b->nops) {
		b->s->ops->batch_abort(b);
		return err;
	}
	return b->s->ops->batch_commit(b);
}

int store_put(struct store *s, enum store_table t, const char *pk, const char *sk, const void *val,
	      size_t len, unsigned flags)
{
	struct store_batch *b;
	int err = store_batch_begin(s, &b);

	if (err)
		return err;
	err = store_batch_put(b, t, pk, sk, val, len, flags);
	if (err) {
		store_batch_abort(b);
		return err;
	}
	return store_batch_commit(b);
}

int store_delete(struct store *s, enum store_table t, const char *pk, const char *sk,
		 unsigned flags)
{
	struct store_batch *b;
	int err = store_batch_begin(s, &b);

	if (err)
		return err;
	err = store_batch_delete(b, t, pk, sk, flags);
	if (err) {
		store_batch_abort(b);
		return err;
	}
	return store_batch_commit(b);
}

int store_update(struct store *s, enum store_table t, const char *pk, const char *sk,
		 store_update_fn fn, void *ctx)
{
	struct store_batch *b;
	int err = store_batch_begin(s, &b);

	if (err)
		return err;
	err = store_batch_update(b, t, pk, sk, fn, ctx);
	if (err) {
		store_batch_abort(b);
		return err;
	}
	return store_batch_commit(b);
}

/* --- open, close, backup, stats --- */

void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}

int store_copy_compact(struct store *s, int fd)
{
	if (!s || fd < 0)
		return -EINVAL;
	return s->ops->copy_compact(s, fd);
}

int store_stats(struct store *s, struct store_stats *st)
{
	if (!s || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	return s->ops->stats(s, st);
}

int store_snapshot(struct store *s, store_snap_fn fn, void *ctx)
{
	if (!s || !fn)
		return -EINVAL;
	return s->ops->snapshot(s, fn, ctx);
}
