// SPDX-License-Identifier: BSD-2-Clause
/*
 * store_lmdb.c - the LMDB engine of the store (contracts: store.h; its
 * table of operations, lmdb_engine, is at the end). store.c has checked every
 * argument before an entry point here runs (store.h, "Engines"): keys are
 * valid, tables in range, values and batches within the caps.
 *
 * Layout. One LMDB environment in the store's directory (data.mdb, lock.mdb,
 * both 0600), one named database (DBI) per table, named by
 * store_table_name(), all opened once by store_open_lmdb(). Key of an item:
 *
 *     pk bytes | 0x00 | sk bytes          (at most STORE_KEY_MAX + 1 bytes)
 *
 * The value is the item's value, unchanged. LMDB's default key order is
 * memcmp with a shorter prefix first. Because pk never contains 0x00, "pk\0"
 * is a prefix of exactly the keys of partition pk: they are contiguous and
 * ordered by sk bytes, which is DynamoDB's order of String sort keys (UTF-8
 * bytes). Partitions whose names are prefixes of each other do not mix: "a\0…"
 * sorts before "a\x01…" and "ab…", since 0x00 is the smallest byte. A query
 * of partition pk reads within [pk\0 + sk_from, pk\0 + sk_to], with open
 * bounds [pk\0, pk\x01) (sort keys are never empty, so "pk\0" itself is never
 * a key), and a prefix p as [pk\0 + p, pk\0 + p') where p' is p with its last
 * byte incremented (never 0xff in UTF-8, so no carry).
 *
 * Writes. A batch only records operations (copies of keys and values) until
 * store_batch_commit(), which applies them in one write transaction opened
 * and committed in that call, on that thread: LMDB's single writer lock is
 * held only for the apply, never while a request does other work, and a
 * transaction that fails for lack of map space can simply be replayed.
 *
 * Map growth and locking. mdb_env_set_mapsize() remaps the file, so it is
 * only safe when no transaction of this process is open (read transactions
 * under MDB_NOTLS point into the old mapping). Every transaction, read or
 * write, therefore runs under map_lock held shared; growing takes it
 * exclusive. A commit that gets MDB_MAP_FULL (from a put, a delete or the
 * commit itself) aborts its transaction, releases the shared lock (never
 * upgrades: that would deadlock against another holder doing the same),
 * grows the map under the exclusive lock, and replays the batch. The new size
 * is twice the old one, at most map_max (-ENOSPC beyond). Each transaction
 * remembers the map size it started with, so of several writers that hit
 * MAP_FULL together only the first one grows, the others just retry. The
 * rwlock prefers writers, so a steady stream of readers cannot starve a
 * growth; this is safe because no thread ever takes map_lock twice: query
 * and scan callbacks run after their page's transaction has ended, and update
 * functions must not call the store. MDB_MAP_RESIZED (another process grew
 * the map) is handled by adopting the new size the same way.
 *
 * Snapshots (store_snapshot) are one read transaction over every table,
 * held for as long as the caller takes to consume the items (a backup
 * streaming to S3: minutes). Such a transaction holds map_lock shared the
 * whole time, so a growth would wait for its end, and every transaction
 * behind the waiting grower with it: a stall of the whole store. Two
 * measures prevent that. Before the read starts, the map is grown (if
 * needed) to SNAP_HEADROOM_FACTOR times the bytes in use plus
 * SNAP_HEADROOM_MIN (at most map_max): LMDB cannot reuse pages freed after
 * the snapshot began, so every commit meanwhile takes new pages, and this is
 * room for as much new data as the store already holds. Growing the map is
 * only address space (the file grows as pages are written). And when a
 * growth is needed anyway, the grower announces itself (grow_waiting) before
 * it waits for the lock; the snapshot checks it between items and gives way
 * with -EAGAIN, so the grower waits at most for one callback. The caller
 * starts over (then with the bigger map). Another process (`actlog-server
 * backup` on a served store) takes its snapshot under its own lock: it
 * never blocks this process's growth, and its reader only keeps pages from
 * being reused, as here.
 *
 * Queries read pages of at most PAGE_ITEMS items / about PAGE_BYTES bytes in
 * one read transaction each, copy them out, end the transaction, then call
 * the callback; the next page resumes after the last key delivered.
 */
#include <errno.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/engine.h"
#include "util.h"

#define PAGE_ITEMS 128
#define PAGE_BYTES (1u << 20)
#define KEY_BUF (STORE_KEY_MAX + 2) /* pk, 0x00, sk, room for a resume key of any LMDB key */
#define RESIZE_RETRIES 16
#define MAP_FULL_RETRY 1		 /* internal result: the transaction ran out of map space */
#define SNAP_HEADROOM_FACTOR 2		 /* map >= 2 x bytes in use before a snapshot ... */
#define SNAP_HEADROOM_MIN (256ull << 20) /* ... + 256 MiB */

_Static_assert(STORE_KEY_MAX + 1 <= 511, "an encoded key must fit LMDB's default key size");

struct store_lmdb {
	struct store base; /* first: a struct store * is a struct store_lmdb * */
	MDB_env *env;
	MDB_dbi dbi[STORE_T__COUNT];
	pthread_rwlock_t map_lock; /* shared: any transaction; exclusive: remap */
	int lock_ok;		   /* map_lock was initialised */
	uint64_t map_size;	   /* current map size; changes only under exclusive map_lock */
	uint64_t map_max;
	uint64_t grows;
	uint64_t page_size;
	int grow_waiting; /* threads waiting for map_lock exclusive (__atomic) */
};

enum op_kind {
	OP_PUT,
	OP_DEL,
	OP_UPDATE,
	OP_CHECK, /* from store_batch_get(): the item must still be as it was read */
};

struct op {
	enum op_kind kind;
	enum store_table t;
	unsigned flags;
	int absent;  /* OP_CHECK: the item did not exist when read */
	char *key;   /* one allocation: key bytes, then the value bytes */
	size_t klen; /* encoded key length */
	char *val;   /* OP_PUT, OP_CHECK: points into key's allocation */
	size_t vlen;
	store_update_fn fn; /* OP_UPDATE */
	void *ctx;
};

struct lmdb_batch {
	struct store_batch base; /* first; base.s is the store */
	struct op *ops;
	size_t nops, cap;
};

static struct store_lmdb *lm(struct store *s)
{
	return (struct store_lmdb *)s;
}

static struct lmdb_batch *lb(struct store_batch *b)
{
	return (struct lmdb_batch *)b;
}

/* An LMDB return code as -errno (MDB_MAP_FULL included: -ENOSPC). */
static int mdb_errno(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_KEYEXIST:
		return -EEXIST;
	case MDB_MAP_FULL:
		return -ENOSPC;
	case MDB_READERS_FULL:
		return -EUSERS;
	case MDB_TXN_FULL:
	case MDB_CURSOR_FULL:
		return -E2BIG;
	case MDB_DBS_FULL:
		return -EMFILE;
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE:
		return -EPROTO;
	case MDB_MAP_RESIZED:
		return -EAGAIN;
	case MDB_BAD_VALSIZE:
		return -EINVAL;
	default: /* MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_PANIC, MDB_BAD_*, ... */
		return rc > 0 ? -rc : -EIO;
	}
}

/* As mdb_errno(), but MDB_MAP_FULL becomes MAP_FULL_RETRY. */
static int mdb_werr(int rc)
{
	return rc == MDB_MAP_FULL ? MAP_FULL_RETRY : mdb_errno(rc);
}

/* --- keys --- */

/*
 * Encode the item key (pk, sk), checked by store.c, into key (KEY_BUF
 * bytes). Returns its length.
 */
static size_t key_encode(const char *pk, const char *sk, char *key)
{
	size_t pl = strlen(pk), sl = strlen(sk);

	memcpy(key, pk, pl);
	key[pl] = '\0';
	memcpy(key + pl + 1, sk, sl);
	return pl + 1 + sl;
}

/* LMDB's default key order: memcmp, then the shorter first. */
static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* --- transactions, map growth --- */

/*
 * Take map_lock shared and begin a transaction (flags: 0 or MDB_RDONLY).
 * *seen is the map size it runs with. On success the caller holds map_lock
 * and ends with txn_end(); on failure nothing is held.
 */
static int map_adopt(struct store_lmdb *s);

static int txn_begin(struct store_lmdb *s, unsigned flags, MDB_txn **txn, uint64_t *seen)
{
	for (int i = 0; i < RESIZE_RETRIES; i++) {
		int rc = pthread_rwlock_rdlock(&s->map_lock);

		if (rc)
			return -rc;
		*seen = s->map_size;
		rc = mdb_txn_begin(s->env, NULL, flags, txn);
		if (rc == 0)
			return 0;
		pthread_rwlock_unlock(&s->map_lock);
		if (rc != MDB_MAP_RESIZED)
			return mdb_errno(rc);
		rc = map_adopt(s);
		if (rc)
			return rc;
	}
	return -EAGAIN;
}

/* Abort txn (if not NULL) and release map_lock. */
static void txn_end(struct store_lmdb *s, MDB_txn *txn)
{
	if (txn)
		mdb_txn_abort(txn);
	pthread_rwlock_unlock(&s->map_lock);
}

/* Take map_lock exclusive, announced in grow_waiting while waiting (a
 * snapshot gives way). 0 or the pthread error. */
static int map_wrlock(struct store_lmdb *s)
{
	int rc;

	__atomic_add_fetch(&s->grow_waiting, 1, __ATOMIC_SEQ_CST);
	rc = pthread_rwlock_wrlock(&s->map_lock);
	__atomic_sub_fetch(&s->grow_waiting, 1, __ATOMIC_SEQ_CST);
	return rc;
}

/* Refresh s->map_size from LMDB. Caller holds map_lock exclusive (or is open). */
static void map_refresh(struct store_lmdb *s)
{
	MDB_envinfo info;

	if (mdb_env_info(s->env, &info) == 0)
		s->map_size = info.me_mapsize;
}

/* Adopt the map size another process set (MDB_MAP_RESIZED). */
static int map_adopt(struct store_lmdb *s)
{
	int rc = map_wrlock(s);

	if (rc)
		return -rc;
	rc = mdb_errno(mdb_env_set_mapsize(s->env, 0));
	if (!rc)
		map_refresh(s);
	pthread_rwlock_unlock(&s->map_lock);
	return rc;
}

/*
 * Double the map (at most map_max) unless another thread already grew it
 * since a transaction started with size seen. Takes map_lock exclusive: the
 * caller must hold no transaction. 0, -ENOSPC at map_max, -errno.
 */
static int map_grow(struct store_lmdb *s, uint64_t seen)
{
	uint64_t size;
	int err = 0, rc;

	rc = map_wrlock(s);
	if (rc)
		return -rc;
	if (s->map_size != seen)
		goto out;
	if (s->map_size >= s->map_max) {
		err = -ENOSPC;
		goto out;
	}
	size = s->map_size > s->map_max / 2 ? s->map_max : s->map_size * 2;
	err = mdb_errno(mdb_env_set_mapsize(s->env, size));
	if (err)
		goto out;
	map_refresh(s);
	s->grows++;
out:
	pthread_rwlock_unlock(&s->map_lock);
	return err;
}

/* --- open, close --- */

static uint64_t round_up(uint64_t v, uint64_t to)
{
	return (v + to - 1) / to * to;
}

/*
 * Open (creating) every table's DBI in one write transaction. Single-threaded
 * (open). The transaction waits for another process's writer, which may
 * grow the data past the map this process got at mdb_env_open (a backup
 * opening a busy server's store): MDB_MAP_RESIZED, and the new size is
 * adopted as txn_begin() does.
 */
static int open_tables(struct store_lmdb *s)
{
	for (int resized = 0;;) {
		MDB_txn *txn = NULL;
		int rc = mdb_txn_begin(s->env, NULL, 0, &txn);

		for (int t = 0; rc == 0 && t < STORE_T__COUNT; t++)
			rc = mdb_dbi_open(txn, store_table_name(t), MDB_CREATE, &s->dbi[t]);
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else if (txn)
			mdb_txn_abort(txn);
		if (rc == MDB_MAP_RESIZED && ++resized < RESIZE_RETRIES) {
			rc = map_adopt(s);
			if (rc)
				return rc;
			continue;
		}
		if (rc != MDB_MAP_FULL)
			return mdb_errno(rc);
		rc = map_grow(s, s->map_size);
		if (rc)
			return rc;
	}
}

static void lmdb_close(struct store *store);
static const struct store_engine lmdb_engine;

int store_open_lmdb(struct store **out, const char *dir, const struct store_lmdb_opts *opts)
{
	struct store_lmdb_opts o = {0};
	struct store_lmdb *s = NULL;
	pthread_rwlockattr_t attr;
	long pg = sysconf(_SC_PAGESIZE);
	int err, rc, dead;

	if (!out || !dir || !*dir)
		return -EINVAL;
	*out = NULL;
	if (opts)
		o = *opts;
	if (!o.map_size)
		o.map_size = STORE_LMDB_DEFAULT_MAP_SIZE;
	if (!o.map_max)
		o.map_max = STORE_LMDB_DEFAULT_MAP_MAX;
	if (!o.max_readers)
		o.max_readers = STORE_LMDB_DEFAULT_READERS;

	err = mkdir_p(dir, 0700);
	if (err)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->base.ops = &lmdb_engine;
	s->page_size = pg > 0 ? (uint64_t)pg : 4096;
	s->map_size = round_up(o.map_size, s->page_size);
	s->map_max = round_up(o.map_max < o.map_size ? o.map_size : o.map_max, s->page_size);

	err = -pthread_rwlockattr_init(&attr);
	if (err)
		goto fail;
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	err = -pthread_rwlock_init(&s->map_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (err)
		goto fail;
	s->lock_ok = 1;

	rc = mdb_env_create(&s->env);
	if (rc) {
		s->env = NULL;
		err = mdb_errno(rc);
		goto fail;
	}
	rc = mdb_env_set_maxdbs(s->env, STORE_T__COUNT);
	if (!rc)
		rc = mdb_env_set_maxreaders(s->env, o.max_readers);
	if (!rc)
		rc = mdb_env_set_mapsize(s->env, s->map_size);
	if (!rc)
		rc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_NORDAHEAD, 0600);
	if (rc) {
		err = mdb_errno(rc);
		goto fail;
	}
	if (mdb_env_get_maxkeysize(s->env) < STORE_KEY_MAX + 1) {
		err = -ENOTSUP;
		goto fail;
	}
	mdb_reader_check(s->env, &dead); /* clear slots of crashed processes */
	map_refresh(s);			 /* LMDB keeps at least the file's size */
	if (s->map_max < s->map_size)
		s->map_max = s->map_size;
	err = open_tables(s);
	if (err)
		goto fail;
	*out = &s->base;
	return 0;
fail:
	lmdb_close(&s->base);
	return err;
}

static void lmdb_close(struct store *store)
{
	struct store_lmdb *s = lm(store);

	if (s->env)
		mdb_env_close(s->env);
	if (s->lock_ok)
		pthread_rwlock_destroy(&s->map_lock);
	free(s);
}

/* --- reads --- */

/* Read the item with encoded key from table t into a malloc'd copy. */
static int read_item(struct store_lmdb *s, enum store_table t, const char *key, size_t klen,
		     void **val, size_t *len)
{
	MDB_txn *txn = NULL;
	MDB_val k = {klen, (void *)key}, v;
	uint64_t seen;
	char *copy = NULL;
	int err;

	err = txn_begin(s, MDB_RDONLY, &txn, &seen);
	if (err)
		return err;
	err = mdb_errno(mdb_get(txn, s->dbi[t], &k, &v));
	if (err)
		goto out;
	copy = malloc(v.mv_size + 1);
	if (!copy) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(copy, v.mv_data, v.mv_size);
	copy[v.mv_size] = '\0';
	*val = copy;
	*len = v.mv_size;
out:
	txn_end(s, txn);
	return err;
}

static int lmdb_get(struct store *s, enum store_table t, const char *pk, const char *sk, void **val,
		    size_t *len)
{
	char key[KEY_BUF];
	size_t klen = key_encode(pk, sk, key);

	return read_item(lm(s), t, key, klen, val, len);
}

/* A key range of one DBI; an absent bound is open. */
struct range {
	char lo[KEY_BUF], hi[KEY_BUF];
	size_t lolen, hilen;
	int has_lo, has_hi;
	int lo_incl, hi_incl;
};

struct page_item {
	size_t koff, klen, pklen; /* key in buf: pk, 0x00, sk, 0x00 */
	size_t voff, vlen;	  /* value in buf, then 0x00 */
};

struct page {
	char *buf;
	size_t len, cap;
	struct page_item items[PAGE_ITEMS];
	size_t n;
};

/* Append n bytes and a NUL to the page buffer; returns their offset or -ENOMEM. */
static long page_add(struct page *pg, const void *p, size_t n)
{
	size_t off = pg->len;

	if (pg->cap - pg->len < n + 1) {
		size_t cap = pg->cap ? pg->cap : 4096;
		char *b;

		while (cap - pg->len < n + 1)
			cap *= 2;
		b = realloc(pg->buf, cap);
		if (!b)
			return -ENOMEM;
		pg->buf = b;
		pg->cap = cap;
	}
	if (n)
		memcpy(pg->buf + off, p, n);
	pg->buf[off + n] = '\0';
	pg->len = off + n + 1;
	return (long)off;
}

/* Position cursor c at the first key of r in the direction of travel. */
static int range_first(MDB_cursor *c, const struct range *r, int reverse, MDB_val *k, MDB_val *v)
{
	int rc;

	if (!reverse) {
		if (!r->has_lo)
			return mdb_cursor_get(c, k, v, MDB_FIRST);
		k->mv_data = (void *)r->lo;
		k->mv_size = r->lolen;
		rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
		if (rc == 0 && !r->lo_incl && key_cmp(k->mv_data, k->mv_size, r->lo, r->lolen) == 0)
			rc = mdb_cursor_get(c, k, v, MDB_NEXT);
		return rc;
	}
	if (!r->has_hi)
		return mdb_cursor_get(c, k, v, MDB_LAST);
	k->mv_data = (void *)r->hi;
	k->mv_size = r->hilen;
	rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE); /* first key >= hi */
	if (rc == MDB_NOTFOUND)
		return mdb_cursor_get(c, k, v, MDB_LAST);
	if (rc == 0 && !(r->hi_incl && key_cmp(k->mv_data, k->mv_size, r->hi, r->hilen) == 0))
		rc = mdb_cursor_get(c, k, v, MDB_PREV);
	return rc;
}

/* 1 when key k is beyond r's far end in the direction of travel. */
static int range_past(const MDB_val *k, const struct range *r, int reverse)
{
	int c;

	if (!reverse) {
		if (!r->has_hi)
			return 0;
		c = key_cmp(k->mv_data, k->mv_size, r->hi, r->hilen);
		return c > 0 || (c == 0 && !r->hi_incl);
	}
	if (!r->has_lo)
		return 0;
	c = key_cmp(k->mv_data, k->mv_size, r->lo, r->lolen);
	return c < 0 || (c == 0 && !r->lo_incl);
}

/*
 * Copy up to want items of r from table t into pg in one read transaction.
 * *done is set when the range is exhausted. 0 or -errno (-EIO for a key
 * without the separator).
 */
static int page_fill(struct store_lmdb *s, enum store_table t, const struct range *r, int reverse,
		     size_t want, struct page *pg, int *done)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint64_t seen;
	int err, rc;

	pg->n = pg->len = 0;
	*done = 0;
	err = txn_begin(s, MDB_RDONLY, &txn, &seen);
	if (err)
		return err;
	rc = mdb_cursor_open(txn, s->dbi[t], &cur);
	if (rc) {
		err = mdb_errno(rc);
		goto out;
	}
	for (rc = range_first(cur, r, reverse, &k, &v); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, reverse ? MDB_PREV : MDB_NEXT)) {
		struct page_item *it;
		const char *sep;
		long off;

		if (range_past(&k, r, reverse)) {
			*done = 1;
			break;
		}
		if (pg->n == want || pg->len >= PAGE_BYTES)
			break;
		it = &pg->items[pg->n];
		sep = memchr(k.mv_data, '\0', k.mv_size);
		if (!sep) {
			err = -EIO;
			goto out;
		}
		off = page_add(pg, k.mv_data, k.mv_size);
		if (off < 0) {
			err = (int)off;
			goto out;
		}
		it->koff = (size_t)off;
		it->klen = k.mv_size;
		it->pklen = (size_t)(sep - (const char *)k.mv_data);
		off = page_add(pg, v.mv_data, v.mv_size);
		if (off < 0) {
			err = (int)off;
			goto out;
		}
		it->voff = (size_t)off;
		it->vlen = v.mv_size;
		pg->n++;
	}
	if (rc == MDB_NOTFOUND)
		*done = 1;
	else if (rc)
		err = mdb_errno(rc);
out:
	if (cur)
		mdb_cursor_close(cur);
	txn_end(s, txn);
	return err;
}

/* Deliver the items of r page by page to fn; the result of store_query(). */
static int run_range(struct store_lmdb *s, enum store_table t, struct range *r, size_t limit,
		     int reverse, store_item_fn fn, void *ctx)
{
	struct page pg = {0};
	size_t count = 0;
	int done = 0, err = 0;

	while (!done && (!limit || count < limit)) {
		size_t want = PAGE_ITEMS;
		struct page_item *last;

		if (limit && limit - count < want)
			want = limit - count;
		err = page_fill(s, t, r, reverse, want, &pg, &done);
		if (err)
			goto out;
		for (size_t i = 0; i < pg.n; i++) {
			struct page_item *it = &pg.items[i];
			const char *key = pg.buf + it->koff;
			int rc = fn(key, key + it->pklen + 1, pg.buf + it->voff, it->vlen, ctx);

			count++;
			if (rc < 0) {
				err = rc;
				goto out;
			}
			if (rc > 0)
				goto out;
		}
		if (!pg.n)
			break;
		/* resume after the last key delivered */
		last = &pg.items[pg.n - 1];
		if (!reverse) {
			memcpy(r->lo, pg.buf + last->koff, last->klen);
			r->lolen = last->klen;
			r->has_lo = 1;
			r->lo_incl = 0;
		} else {
			memcpy(r->hi, pg.buf + last->koff, last->klen);
			r->hilen = last->klen;
			r->has_hi = 1;
			r->hi_incl = 0;
		}
	}
out:
	free(pg.buf);
	if (err)
		return err;
	return count > INT_MAX ? INT_MAX : (int)count;
}

static int lmdb_query(struct store *s, enum store_table t, const char *pk, const char *sk_from,
		      const char *sk_to, size_t limit, unsigned flags, store_item_fn fn, void *ctx)
{
	struct range r = {0};
	size_t pl = strlen(pk), bl;

	memcpy(r.lo, pk, pl);
	r.lo[pl] = '\0';
	memcpy(r.hi, r.lo, pl + 1);
	r.has_lo = r.has_hi = 1;
	/* open bounds: [pk\0, pk\x01) */
	r.lolen = r.hilen = pl + 1;
	r.lo_incl = 1;
	r.hi[pl] = '\x01';
	r.hi_incl = 0;
	if (flags & STORE_PREFIX) {
		bl = strlen(sk_from);
		memcpy(r.lo + pl + 1, sk_from, bl);
		r.lolen = pl + 1 + bl;
		memcpy(r.hi, r.lo, r.lolen);
		r.hi[r.lolen - 1]++; /* the last byte of UTF-8 is never 0xff */
		r.hilen = r.lolen;
		r.hi_incl = 0;
	} else {
		if (sk_from) {
			bl = strlen(sk_from);
			memcpy(r.lo + pl + 1, sk_from, bl);
			r.lolen = pl + 1 + bl;
		}
		if (sk_to) {
			bl = strlen(sk_to);
			r.hi[pl] = '\0';
			memcpy(r.hi + pl + 1, sk_to, bl);
			r.hilen = pl + 1 + bl;
			r.hi_incl = 1;
		}
	}
	return run_range(lm(s), t, &r, limit, !!(flags & STORE_REVERSE), fn, ctx);
}

static int lmdb_scan(struct store *s, enum store_table t, store_item_fn fn, void *ctx)
{
	struct range r = {0};

	return run_range(lm(s), t, &r, 0, 0, fn, ctx);
}

/* --- batches --- */

static int lmdb_batch_begin(struct store *s, struct store_batch **b)
{
	struct lmdb_batch *lbt = calloc(1, sizeof(*lbt));

	(void)s;
	if (!lbt)
		return -ENOMEM;
	*b = &lbt->base;
	return 0;
}

static void lmdb_batch_abort(struct store_batch *b)
{
	struct lmdb_batch *lbt = lb(b);

	for (size_t i = 0; i < lbt->nops; i++)
		free(lbt->ops[i].key);
	free(lbt->ops);
	free(lbt);
}

/*
 * Append an operation with a copy of key and val (store.c has counted it
 * against the caps). Returns the new op, or NULL when out of memory.
 */
static struct op *batch_add(struct lmdb_batch *b, enum op_kind kind, enum store_table t,
			    const char *key, size_t klen, const void *val, size_t vlen)
{
	struct op *op;
	char *buf;

	if (b->nops == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct op *ops = realloc(b->ops, cap * sizeof(*ops));

		if (!ops)
			return NULL;
		b->ops = ops;
		b->cap = cap;
	}
	buf = malloc(klen + vlen + 1);
	if (!buf)
		return NULL;
	memcpy(buf, key, klen);
	if (vlen)
		memcpy(buf + klen, val, vlen);
	buf[klen + vlen] = '\0';
	op = &b->ops[b->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->t = t;
	op->key = buf;
	op->klen = klen;
	op->val = buf + klen;
	op->vlen = vlen;
	return op;
}

static int lmdb_batch_put(struct store_batch *b, enum store_table t, const char *pk, const char *sk,
			  const void *val, size_t len, unsigned flags)
{
	char key[KEY_BUF];
	size_t klen = key_encode(pk, sk, key);
	struct op *op = batch_add(lb(b), OP_PUT, t, key, klen, val, len);

	if (!op)
		return -ENOMEM;
	op->flags = flags;
	return 0;
}

static int lmdb_batch_delete(struct store_batch *b, enum store_table t, const char *pk,
			     const char *sk, unsigned flags)
{
	char key[KEY_BUF];
	size_t klen = key_encode(pk, sk, key);
	struct op *op = batch_add(lb(b), OP_DEL, t, key, klen, NULL, 0);

	if (!op)
		return -ENOMEM;
	op->flags = flags;
	return 0;
}

static int lmdb_batch_update(struct store_batch *b, enum store_table t, const char *pk,
			     const char *sk, store_update_fn fn, void *ctx)
{
	char key[KEY_BUF];
	size_t klen = key_encode(pk, sk, key);
	struct op *op = batch_add(lb(b), OP_UPDATE, t, key, klen, NULL, 0);

	if (!op)
		return -ENOMEM;
	op->fn = fn;
	op->ctx = ctx;
	return 0;
}

static int op_is(const struct op *op, enum store_table t, const char *key, size_t klen)
{
	return op->t == t && op->klen == klen && memcmp(op->key, key, klen) == 0;
}

/*
 * Run op's update function on *cur, *cur_len (*cur NULL: absent), replacing them with the
 * result (malloc'd, NUL-terminated). 0 or -errno.
 */
static int preview_update(const struct op *op, char **cur, size_t *cur_len)
{
	void *nv = NULL;
	size_t nl = 0;
	char *copy;
	int rc = op->fn(*cur, *cur ? *cur_len : 0, &nv, &nl, op->ctx);

	if (rc == STORE_UPDATE_KEEP)
		return 0;
	if (rc == STORE_UPDATE_DELETE) {
		free(*cur);
		*cur = NULL;
		return 0;
	}
	if (rc != STORE_UPDATE_PUT) {
		free(nv);
		return rc < 0 ? rc : -EINVAL;
	}
	if ((!nv && nl) || nl > STORE_VAL_MAX) {
		free(nv);
		return nl > STORE_VAL_MAX ? -EMSGSIZE : -EINVAL;
	}
	copy = malloc(nl + 1);
	if (!copy) {
		free(nv);
		return -ENOMEM;
	}
	if (nl)
		memcpy(copy, nv, nl);
	copy[nl] = '\0';
	free(nv);
	free(*cur);
	*cur = copy;
	*cur_len = nl;
	return 0;
}

/* The entry batch_get: 0 with *val, 1 when absent, -errno (store.h, "Engines"). */
static int lmdb_batch_get(struct store_batch *bb, enum store_table t, const char *pk,
			  const char *sk, void **val, size_t *len)
{
	struct lmdb_batch *b = lb(bb);
	char key[KEY_BUF];
	char *cur = NULL;
	size_t cur_len = 0, start = 0, i, klen = key_encode(pk, sk, key);
	const struct op *base = NULL;
	int err = 0;

	/* the base: the batch's last put/delete of the item, else its recorded read */
	for (i = b->nops; i-- > 0;) {
		const struct op *op = &b->ops[i];

		if ((op->kind == OP_PUT || op->kind == OP_DEL) && op_is(op, t, key, klen)) {
			base = op;
			start = i + 1;
			break;
		}
	}
	if (!base) {
		for (i = 0; i < b->nops; i++) {
			if (b->ops[i].kind == OP_CHECK && op_is(&b->ops[i], t, key, klen)) {
				base = &b->ops[i];
				break;
			}
		}
	}
	if (base) {
		if (base->kind != OP_DEL && !(base->kind == OP_CHECK && base->absent)) {
			cur = malloc(base->vlen + 1);
			if (!cur) {
				err = -ENOMEM;
				goto fail;
			}
			memcpy(cur, base->val, base->vlen + 1);
			cur_len = base->vlen;
		}
	} else {
		struct op *check;
		void *v = NULL;

		err = read_item(lm(b->base.s), t, key, klen, &v, &cur_len);
		if (err && err != -ENOENT)
			goto fail;
		cur = v;
		err = store_batch_charge(bb, pk, sk, cur ? cur_len : 0);
		if (err)
			goto fail;
		check = batch_add(b, OP_CHECK, t, key, klen, cur, cur ? cur_len : 0);
		if (!check) {
			err = -ENOMEM;
			goto fail;
		}
		check->absent = !cur;
	}
	/* then this batch's later updates of the item */
	for (i = start; i < b->nops; i++) {
		const struct op *op = &b->ops[i];

		if (op->kind == OP_UPDATE && op_is(op, t, key, klen)) {
			err = preview_update(op, &cur, &cur_len);
			if (err)
				goto fail;
		}
	}
	if (!cur)
		return 1;
	*val = cur;
	*len = cur_len;
	return 0;
fail:
	free(cur);
	return err;
}

/* --- commit --- */

/* The results below: 0, -errno, or MAP_FULL_RETRY. */

static int apply_check(struct store_lmdb *s, MDB_txn *txn, const struct op *op)
{
	MDB_val k = {op->klen, op->key}, v;
	int rc = mdb_get(txn, s->dbi[op->t], &k, &v);

	if (rc == MDB_NOTFOUND)
		return op->absent ? 0 : -EAGAIN;
	if (rc)
		return mdb_werr(rc);
	if (op->absent || v.mv_size != op->vlen || memcmp(v.mv_data, op->val, op->vlen) != 0)
		return -EAGAIN;
	return 0;
}

static int apply_put(struct store_lmdb *s, MDB_txn *txn, const struct op *op)
{
	MDB_val k = {op->klen, op->key}, v = {op->vlen, op->val};
	int rc;

	if (op->flags & STORE_IF_EXISTS) {
		MDB_val old;

		rc = mdb_get(txn, s->dbi[op->t], &k, &old);
		if (rc)
			return mdb_werr(rc);
	}
	rc = mdb_put(txn, s->dbi[op->t], &k, &v,
		     (op->flags & STORE_IF_ABSENT) ? MDB_NOOVERWRITE : 0);
	return mdb_werr(rc);
}

static int apply_del(struct store_lmdb *s, MDB_txn *txn, const struct op *op)
{
	MDB_val k = {op->klen, op->key};
	int rc = mdb_del(txn, s->dbi[op->t], &k, NULL);

	if (rc == MDB_NOTFOUND && !(op->flags & STORE_IF_EXISTS))
		return 0;
	return mdb_werr(rc);
}

static int apply_update(struct store_lmdb *s, MDB_txn *txn, const struct op *op)
{
	MDB_val k = {op->klen, op->key}, v;
	void *nv = NULL;
	size_t nl = 0;
	int rc, err;

	rc = mdb_get(txn, s->dbi[op->t], &k, &v);
	if (rc && rc != MDB_NOTFOUND)
		return mdb_werr(rc);
	rc = op->fn(rc ? NULL : v.mv_data, rc ? 0 : v.mv_size, &nv, &nl, op->ctx);
	switch (rc) {
	case STORE_UPDATE_PUT:
		if (nl > STORE_VAL_MAX) {
			err = -EMSGSIZE;
		} else if (!nv && nl) {
			err = -EINVAL;
		} else {
			MDB_val nval = {nl, nv ? nv : (void *)""};

			err = mdb_werr(mdb_put(txn, s->dbi[op->t], &k, &nval, 0));
		}
		break;
	case STORE_UPDATE_DELETE:
		rc = mdb_del(txn, s->dbi[op->t], &k, NULL);
		err = rc == MDB_NOTFOUND ? 0 : mdb_werr(rc);
		break;
	case STORE_UPDATE_KEEP:
		err = 0;
		break;
	default:
		err = rc < 0 ? rc : -EINVAL;
		break;
	}
	free(nv);
	return err;
}

/* One attempt: every check, then every operation in order, in one write transaction. */
static int commit_once(struct lmdb_batch *b, uint64_t *seen)
{
	struct store_lmdb *s = lm(b->base.s);
	MDB_txn *txn = NULL;
	int err;

	err = txn_begin(s, 0, &txn, seen);
	if (err)
		return err;
	/* reads recorded by store_batch_get() saw the store before the batch */
	for (size_t i = 0; !err && i < b->nops; i++) {
		if (b->ops[i].kind == OP_CHECK)
			err = apply_check(s, txn, &b->ops[i]);
	}
	for (size_t i = 0; !err && i < b->nops; i++) {
		const struct op *op = &b->ops[i];

		switch (op->kind) {
		case OP_PUT:
			err = apply_put(s, txn, op);
			break;
		case OP_DEL:
			err = apply_del(s, txn, op);
			break;
		case OP_UPDATE:
			err = apply_update(s, txn, op);
			break;
		case OP_CHECK:
			break;
		}
	}
	if (!err) {
		err = mdb_werr(mdb_txn_commit(txn)); /* frees txn, also on failure */
		txn = NULL;
	}
	txn_end(s, txn);
	return err;
}

/* The entry batch_commit: b has operations and no error (store.c). Frees b. */
static int lmdb_batch_commit(struct store_batch *bb)
{
	struct lmdb_batch *b = lb(bb);
	int err;

	for (;;) {
		uint64_t seen;

		err = commit_once(b, &seen);
		if (err != MAP_FULL_RETRY)
			break;
		err = map_grow(lm(bb->s), seen);
		if (err)
			break;
	}
	lmdb_batch_abort(bb);
	return err;
}

/* --- backup, stats --- */

static int lmdb_copy_compact(struct store *store, int fd)
{
	struct store_lmdb *s = lm(store);
	int rc = pthread_rwlock_rdlock(&s->map_lock);

	if (rc)
		return -rc;
	rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
	pthread_rwlock_unlock(&s->map_lock);
	return mdb_errno(rc);
}

/*
 * Grow the map to at least want bytes (at most map_max) ahead of a
 * snapshot. Takes map_lock exclusive without announcing it (nothing can be
 * snapshotting on behalf of this call). 0 or -errno.
 */
static int map_reserve(struct store_lmdb *s, uint64_t want)
{
	int err = 0, rc;

	want = round_up(want, s->page_size);
	if (want > s->map_max)
		want = s->map_max;
	rc = pthread_rwlock_wrlock(&s->map_lock);
	if (rc)
		return -rc;
	if (s->map_size < want) {
		err = mdb_errno(mdb_env_set_mapsize(s->env, want));
		if (!err) {
			map_refresh(s);
			s->grows++;
		}
	}
	pthread_rwlock_unlock(&s->map_lock);
	return err;
}

/* Bytes of the file in use (pages up to the last one). 0 or -errno. */
static int used_bytes(struct store_lmdb *s, uint64_t *used)
{
	MDB_envinfo info;
	MDB_stat ms;
	int err = mdb_errno(mdb_env_info(s->env, &info));

	if (!err)
		err = mdb_errno(mdb_env_stat(s->env, &ms));
	if (!err)
		*used = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
	return err;
}

/* Deliver every item of table t read in txn to fn (store_snapshot). */
static int snap_table(struct store_lmdb *s, MDB_txn *txn, enum store_table t, store_snap_fn fn,
		      void *ctx)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	char key[KEY_BUF + 1];
	int err = 0, rc;

	rc = mdb_cursor_open(txn, s->dbi[t], &cur);
	if (rc)
		return mdb_errno(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *sep = memchr(k.mv_data, '\0', k.mv_size);

		if (!sep || k.mv_size > KEY_BUF) {
			err = -EIO;
			break;
		}
		if (__atomic_load_n(&s->grow_waiting, __ATOMIC_SEQ_CST)) {
			err = -EAGAIN; /* give way to a map growth */
			break;
		}
		memcpy(key, k.mv_data, k.mv_size);
		key[k.mv_size] = '\0';
		err = fn(t, key, key + (sep - (const char *)k.mv_data) + 1, v.mv_data, v.mv_size,
			 ctx);
		if (err)
			break;
	}
	if (!err && rc != MDB_NOTFOUND)
		err = mdb_errno(rc);
	mdb_cursor_close(cur);
	return err < 0 ? err : 0;
}

static int lmdb_snapshot(struct store *store, store_snap_fn fn, void *ctx)
{
	struct store_lmdb *s = lm(store);
	MDB_txn *txn = NULL;
	uint64_t seen, used = 0;
	int err;

	err = used_bytes(s, &used);
	if (!err)
		err = map_reserve(s, used * SNAP_HEADROOM_FACTOR + SNAP_HEADROOM_MIN);
	if (err)
		return err;
	err = txn_begin(s, MDB_RDONLY, &txn, &seen);
	if (err)
		return err;
	for (int t = 0; !err && t < STORE_T__COUNT; t++)
		err = snap_table(s, txn, (enum store_table)t, fn, ctx);
	txn_end(s, txn);
	return err;
}

/* The entry stats: *st is zeroed (store.c). */
static int lmdb_stats(struct store *store, struct store_stats *st)
{
	struct store_lmdb *s = lm(store);
	MDB_txn *txn = NULL;
	MDB_envinfo info;
	MDB_stat ms;
	uint64_t seen;
	int err;

	err = txn_begin(s, MDB_RDONLY, &txn, &seen);
	if (err)
		return err;
	for (int t = 0; !err && t < STORE_T__COUNT; t++) {
		err = mdb_errno(mdb_stat(txn, s->dbi[t], &ms));
		if (!err)
			st->entries[t] = ms.ms_entries;
	}
	if (!err)
		err = mdb_errno(mdb_env_info(s->env, &info));
	if (!err)
		err = mdb_errno(mdb_env_stat(s->env, &ms));
	if (!err) {
		st->map_size = s->map_size;
		st->map_max = s->map_max;
		st->used_bytes = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
		st->grows = s->grows;
	}
	txn_end(s, txn);
	return err;
}

static const struct store_engine lmdb_engine = {
    .name = "lmdb",
    .close = lmdb_close,
    .get = lmdb_get,
    .query = lmdb_query,
    .scan = lmdb_scan,
    .batch_begin = lmdb_batch_begin,
    .batch_put = lmdb_batch_put,
    .batch_delete = lmdb_batch_delete,
    .batch_update = lmdb_batch_update,
    .batch_get = lmdb_batch_get,
    .batch_commit = lmdb_batch_commit,
    .batch_abort = lmdb_batch_abort,
    .copy_compact = lmdb_copy_compact,
    .stats = lmdb_stats,
    .snapshot = lmdb_snapshot,
};
