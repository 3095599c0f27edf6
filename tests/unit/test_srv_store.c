// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of server/store_lmdb.c: a real LMDB store in a temporary
 * directory, driven only through store.h (plus raw LMDB once, to plant a key
 * that is not in the store's encoding). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "store/store.h"
#include "util.h"

/* --- helpers --- */

static char tmp_root[64];
static char store_dir[128];

/* A fresh temporary directory; the store lives in its "db" subdirectory. */
static void tmp_setup(void)
{
	check_mkdtemp(tmp_root, sizeof(tmp_root), "store");
	snprintf(store_dir, sizeof(store_dir), "%s/db", tmp_root);
}

static void tmp_cleanup(void)
{
	CHECK_EQ(check_rmtree(tmp_root), 0);
}

static struct store *open_at(const char *dir, uint64_t map_size, uint64_t map_max)
{
	struct store_lmdb_opts o = {.map_size = map_size, .map_max = map_max};
	struct store *s = NULL;
	int err = store_open_lmdb(&s, dir, &o);

	CHECK_EQ(err, 0);
	if (err) {
		printf("  store_open_lmdb(%s): %s\n", dir, strerror(-err));
		exit(1);
	}
	return s;
}

static struct store *open_store(void)
{
	return open_at(store_dir, 0, 0);
}

static int put_str(struct store *s, enum store_table t, const char *pk, const char *sk,
		   const char *v)
{
	return store_put(s, t, pk, sk, v, strlen(v), 0);
}

/* The value of (pk, sk) as a malloc'd string, NULL when absent; err gets the result. */
static char *get_str(struct store *s, enum store_table t, const char *pk, const char *sk, int *err)
{
	void *v = (void *)1;
	size_t len = 12345;
	int rc = store_get(s, t, pk, sk, &v, &len);

	if (err)
		*err = rc;
	if (rc) {
		CHECK(v == NULL);
		return NULL;
	}
	CHECK(v != NULL);
	CHECK_EQ(((char *)v)[len], '\0');
	return v;
}

/* CHECK that (pk, sk) has value want (NULL: is absent). */
#define CHECK_ITEM(s, t, pk, sk, want)                                                             \
	do {                                                                                       \
		int gerr_;                                                                         \
		const char *want_ = (want);                                                        \
		char *got_ = get_str(s, t, pk, sk, &gerr_);                                        \
		if (want_) {                                                                       \
			CHECK_EQ(gerr_, 0);                                                        \
			CHECK_STR(got_, want_);                                                    \
		} else {                                                                           \
			CHECK_EQ(gerr_, -ENOENT);                                                  \
		}                                                                                  \
		free(got_);                                                                        \
	} while (0)

/* Deterministic bytes for (seed, n). */
static void fill(unsigned char *buf, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
}

/* 1 when (pk, sk) holds exactly fill(seed, n). */
static int item_is(struct store *s, enum store_table t, const char *pk, const char *sk,
		   unsigned seed, size_t n)
{
	unsigned char *want = malloc(n ? n : 1);
	void *v = NULL;
	size_t len = 0;
	int ok;

	fill(want, n, seed);
	ok = store_get(s, t, pk, sk, &v, &len) == 0 && len == n && memcmp(v, want, n) == 0;
	free(v);
	free(want);
	return ok;
}

/* Query callback collecting "sk," (or "pk/sk=val," with collect_full) into a string. */
struct coll {
	char out[8192];
	int n;
	int stop_at; /* return 1 at this item (1-based), 0: never */
	int fail_at; /* return -ECANCELED at this item */
	int full;
};

static int collect(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct coll *c = ctx;
	size_t used = strlen(c->out);

	c->n++;
	if (c->full)
		snprintf(c->out + used, sizeof(c->out) - used, "%s/%s=%.*s,", pk, sk, (int)len,
			 (const char *)val);
	else
		snprintf(c->out + used, sizeof(c->out) - used, "%s,", sk);
	if (((const char *)val)[len] != '\0')
		return -EBADMSG;
	if (c->fail_at && c->n == c->fail_at)
		return -ECANCELED;
	return c->stop_at && c->n == c->stop_at;
}

/* Run a query and return the collected string (static buffer) and count. */
static const char *query_str(struct store *s, enum store_table t, const char *pk, const char *from,
			     const char *to, size_t limit, unsigned flags, int *ret)
{
	static struct coll c;

	memset(&c, 0, sizeof(c));
	*ret = store_query(s, t, pk, from, to, limit, flags, collect, &c);
	if (*ret >= 0)
		CHECK_EQ(*ret, c.n);
	return c.out;
}

/* Update function: a decimal counter plus *(const int *)ctx. */
static int add_fn(const void *old, size_t old_len, void **val, size_t *len, void *ctx)
{
	char buf[32];
	long n = 0;
	int k;

	if (old) {
		if (old_len >= sizeof(buf))
			return -EBADMSG;
		memcpy(buf, old, old_len);
		buf[old_len] = '\0';
		n = strtol(buf, NULL, 10);
	}
	k = snprintf(buf, sizeof(buf), "%ld", n + *(const int *)ctx);
	*val = strdup(buf);
	if (!*val)
		return -ENOMEM;
	*len = (size_t)k;
	return STORE_UPDATE_PUT;
}

static int const_ret; /* what ret_fn returns */
static int ret_fn(const void *old, size_t old_len, void **val, size_t *len, void *ctx)
{
	(void)old;
	(void)old_len;
	(void)ctx;
	if (const_ret == STORE_UPDATE_PUT) { /* a value over the cap */
		*len = STORE_VAL_MAX + 1;
		*val = calloc(1, *len);
		return *val ? STORE_UPDATE_PUT : -ENOMEM;
	}
	return const_ret;
}

static const int one = 1;

/* --- tests --- */

TEST(test_roundtrip)
{
	struct store *s;
	void *v = NULL;
	size_t len = 99;

	tmp_setup();
	s = open_store();
	CHECK_EQ(put_str(s, STORE_T_USERS, "u1", "profile", "alice"), 0);
	CHECK_ITEM(s, STORE_T_USERS, "u1", "profile", "alice");
	CHECK_EQ(put_str(s, STORE_T_USERS, "u1", "profile", "bob"), 0); /* overwrite */
	CHECK_ITEM(s, STORE_T_USERS, "u1", "profile", "bob");
	CHECK_EQ(store_delete(s, STORE_T_USERS, "u1", "profile", 0), 0);
	CHECK_ITEM(s, STORE_T_USERS, "u1", "profile", NULL);

	/* an empty value is an item, not an absence */
	CHECK_EQ(store_put(s, STORE_T_USERS, "u1", "empty", NULL, 0, 0), 0);
	CHECK_EQ(store_get(s, STORE_T_USERS, "u1", "empty", &v, &len), 0);
	CHECK(v != NULL);
	CHECK_EQ(len, 0);
	free(v);

	/* binary values with NUL bytes survive */
	CHECK_EQ(store_put(s, STORE_T_KEYS, "k", "1", "a\0b\0", 4, 0), 0);
	CHECK_EQ(store_get(s, STORE_T_KEYS, "k", "1", &v, &len), 0);
	CHECK_EQ(len, 4);
	CHECK(v && memcmp(v, "a\0b\0", 4) == 0);
	free(v);
	store_close(s);
	tmp_cleanup();
}

TEST(test_absent_and_conditions)
{
	struct store *s;
	void *v = (void *)1;
	size_t len;

	tmp_setup();
	s = open_store();
	CHECK_EQ(store_get(s, STORE_T_NODES, "n", "x", &v, &len), -ENOENT);
	CHECK(v == NULL);
	CHECK_EQ(store_delete(s, STORE_T_NODES, "n", "x", 0), 0); /* missing: no error */
	CHECK_EQ(store_delete(s, STORE_T_NODES, "n", "x", STORE_IF_EXISTS), -ENOENT);
	CHECK_EQ(store_put(s, STORE_T_NODES, "n", "x", "1", 1, STORE_IF_EXISTS), -ENOENT);
	CHECK_ITEM(s, STORE_T_NODES, "n", "x", NULL);
	CHECK_EQ(store_put(s, STORE_T_NODES, "n", "x", "1", 1, STORE_IF_ABSENT), 0);
	CHECK_EQ(store_put(s, STORE_T_NODES, "n", "x", "2", 1, STORE_IF_ABSENT), -EEXIST);
	CHECK_ITEM(s, STORE_T_NODES, "n", "x", "1");
	CHECK_EQ(store_put(s, STORE_T_NODES, "n", "x", "3", 1, STORE_IF_EXISTS), 0);
	CHECK_ITEM(s, STORE_T_NODES, "n", "x", "3");
	CHECK_EQ(store_delete(s, STORE_T_NODES, "n", "x", STORE_IF_EXISTS), 0);
	CHECK_ITEM(s, STORE_T_NODES, "n", "x", NULL);
	store_close(s);
	tmp_cleanup();
}

TEST(test_tables_isolated)
{
	struct store *s;
	int n;

	tmp_setup();
	s = open_store();
	CHECK_EQ(put_str(s, STORE_T_USERS, "p", "s", "user"), 0);
	CHECK_EQ(put_str(s, STORE_T_DEVICES, "p", "s", "device"), 0);
	CHECK_ITEM(s, STORE_T_USERS, "p", "s", "user");
	CHECK_ITEM(s, STORE_T_DEVICES, "p", "s", "device");
	CHECK_ITEM(s, STORE_T_TOKENS, "p", "s", NULL);
	CHECK_STR(query_str(s, STORE_T_DEVICES, "p", NULL, NULL, 0, 0, &n), "s,");
	CHECK_STR(store_table_name(STORE_T_RECORDS), "records");
	CHECK_STR(store_table_name(STORE_T_LOGIN_FAILS), "login_fails");
	CHECK(store_table_name(STORE_T__COUNT) == NULL);
	CHECK_EQ(put_str(s, STORE_T__COUNT, "p", "s", "x"), -EINVAL);
	CHECK_EQ(store_query(s, STORE_T__COUNT, "p", NULL, NULL, 0, 0, collect, NULL), -EINVAL);
	store_close(s);
	tmp_cleanup();
}

static void put_sks(struct store *s, enum store_table t, const char *pk, const char *const *sks,
		    size_t n)
{
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(put_str(s, t, pk, sks[i], sks[i]), 0);
}

TEST(test_query_bounds)
{
	static const char *const sks[] = {"d", "a", "c", "e", "b", "b1"};
	struct store *s;
	int n;

	tmp_setup();
	s = open_store();
	put_sks(s, STORE_T_RECORDS, "p", sks, ARRAY_SIZE(sks));
	CHECK_STR(query_str(s, STORE_T_RECORDS, "p", NULL, NULL, 0, 0, &n), "a,b,b1,c,d,e,");
	CHECK_EQ(n, 6);
	CHECK_STR(query_str(s, STORE_T_RECORDS, "p", "b", "d", 0, 0, &n), "b,b1,c,d,");
	CHECK_STR(query_str(s, STORE_T_RECORDS, "p", "c", NULL, 0, 0, &n), "c,d,e,");
	CHECK_STR(query_str(s, STORE_T_RECORDS, "p", NULL, "b", 0, 0, &n), "a,b,");
	CHECK_STR(query_str(s, STORE_T_RECORDS, "p", "bb", "dd", 0, 0, &n), "c,d,");
	CHECK_STR(query_str(s, STORE_T_RECORDS, "p", "b1", "b1", 0, 0, &n), "b1,");
	CHECK_STR(query_str(s, STORE_T_RECORDS, "p", "d", "b", 0, 0, &n), "");
	CHECK_EQ(n, 0);
	CHECK_STR(query_str(s, STORE_T_RECORDS, "p", "f", NULL, 0, 0, &n), "");
	CHECK_STR(query_str(s, STORE_T_RECORDS, "nope", NULL, NULL, 0, 0, &n), "");
	CHECK_EQ(n, 0);
	store_close(s);
	tmp_cleanup();
}

TEST(test_query_limit_reverse_stop)
{
	static const char *const sks[] = {"a", "b", "c", "d", "e"};
	struct store *s;
	struct coll c;
	int n;

	tmp_setup();
	s = open_store();
	put_sks(s, STORE_T_AUDIT, "p", sks, ARRAY_SIZE(sks));
	CHECK_STR(query_str(s, STORE_T_AUDIT, "p", NULL, NULL, 2, 0, &n), "a,b,");
	CHECK_EQ(n, 2);
	CHECK_STR(query_str(s, STORE_T_AUDIT, "p", NULL, NULL, 0, STORE_REVERSE, &n), "e,d,c,b,a,");
	CHECK_STR(query_str(s, STORE_T_AUDIT, "p", NULL, NULL, 2, STORE_REVERSE, &n), "e,d,");
	CHECK_STR(query_str(s, STORE_T_AUDIT, "p", "b", "d", 0, STORE_REVERSE, &n), "d,c,b,");
	CHECK_STR(query_str(s, STORE_T_AUDIT, "p", "bb", "dd", 0, STORE_REVERSE, &n), "d,c,");
	CHECK_STR(query_str(s, STORE_T_AUDIT, "p", NULL, "c", 0, STORE_REVERSE, &n), "c,b,a,");
	CHECK_STR(query_str(s, STORE_T_AUDIT, "p", "zz", NULL, 0, STORE_REVERSE, &n), "");
	CHECK_STR(query_str(s, STORE_T_AUDIT, "p", "c", "c", 1, STORE_REVERSE, &n), "c,");

	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	CHECK_EQ(store_query(s, STORE_T_AUDIT, "p", NULL, NULL, 0, 0, collect, &c), 2);
	CHECK_STR(c.out, "a,b,");
	memset(&c, 0, sizeof(c));
	c.fail_at = 3;
	CHECK_EQ(store_query(s, STORE_T_AUDIT, "p", NULL, NULL, 0, STORE_REVERSE, collect, &c),
		 -ECANCELED);
	CHECK_STR(c.out, "e,d,c,");
	store_close(s);
	tmp_cleanup();
}

TEST(test_query_partition_isolation)
{
	struct store *s;
	struct coll c;
	int n;

	tmp_setup();
	s = open_store();
	/* pks that are prefixes of each other, and one that continues with 0x01 */
	CHECK_EQ(put_str(s, STORE_T_ROLLUPS, "a", "x", "1"), 0);
	CHECK_EQ(put_str(s, STORE_T_ROLLUPS, "a", "y", "2"), 0);
	CHECK_EQ(put_str(s, STORE_T_ROLLUPS, "ab", "a", "3"), 0);
	CHECK_EQ(put_str(s, STORE_T_ROLLUPS, "ab", "x", "4"), 0);
	CHECK_EQ(put_str(s, STORE_T_ROLLUPS, "a\x01", "x", "5"), 0);
	CHECK_EQ(put_str(s, STORE_T_ROLLUPS, "a ", "x", "6"), 0);
	CHECK_EQ(put_str(s, STORE_T_ROLLUPS, "\x7f", "x", "7"), 0);
	CHECK_EQ(put_str(s, STORE_T_RECORDS, "a", "z", "other table"), 0);

	memset(&c, 0, sizeof(c));
	c.full = 1;
	CHECK_EQ(store_query(s, STORE_T_ROLLUPS, "a", NULL, NULL, 0, 0, collect, &c), 2);
	CHECK_STR(c.out, "a/x=1,a/y=2,");
	memset(&c, 0, sizeof(c));
	c.full = 1;
	CHECK_EQ(store_query(s, STORE_T_ROLLUPS, "a", NULL, NULL, 0, STORE_REVERSE, collect, &c),
		 2);
	CHECK_STR(c.out, "a/y=2,a/x=1,");
	memset(&c, 0, sizeof(c));
	c.full = 1;
	CHECK_EQ(store_query(s, STORE_T_ROLLUPS, "ab", NULL, NULL, 0, STORE_REVERSE, collect, &c),
		 2);
	CHECK_STR(c.out, "ab/x=4,ab/a=3,");
	CHECK_STR(query_str(s, STORE_T_ROLLUPS, "a", "a", "zzz", 0, 0, &n), "x,y,");
	CHECK_STR(query_str(s, STORE_T_ROLLUPS, "a", "b", NULL, 0, STORE_REVERSE, &n), "y,x,");
	CHECK_STR(query_str(s, STORE_T_ROLLUPS, "a", "x", NULL, 0, STORE_PREFIX, &n), "x,");
	CHECK_STR(query_str(s, STORE_T_ROLLUPS, "a\x01", NULL, NULL, 0, 0, &n), "x,");
	CHECK_STR(query_str(s, STORE_T_ROLLUPS, "a ", NULL, NULL, 0, STORE_REVERSE, &n), "x,");
	CHECK_STR(query_str(s, STORE_T_ROLLUPS, "aa", NULL, NULL, 0, 0, &n), "");
	CHECK_STR(query_str(s, STORE_T_ROLLUPS, "b", NULL, NULL, 0, STORE_REVERSE, &n), "");
	store_close(s);
	tmp_cleanup();
}

TEST(test_query_prefix)
{
	static const char *const sks[] = {"2024",
					  "2024-01-01",
					  "2024-01-02",
					  "2024-02-01",
					  "2025-01-01",
					  "\xc3\xa9z",
					  "\xc3\xa9"
					  "1",
					  "\xc3\xaa"};
	struct store *s;
	int n;

	tmp_setup();
	s = open_store();
	put_sks(s, STORE_T_RECORDS, "dev", sks, ARRAY_SIZE(sks));
	CHECK_STR(query_str(s, STORE_T_RECORDS, "dev", "2024-01", NULL, 0, STORE_PREFIX, &n),
		  "2024-01-01,2024-01-02,");
	CHECK_STR(
	    query_str(s, STORE_T_RECORDS, "dev", "2024", NULL, 0, STORE_PREFIX | STORE_REVERSE, &n),
	    "2024-02-01,2024-01-02,2024-01-01,2024,");
	CHECK_STR(query_str(s, STORE_T_RECORDS, "dev", "2024", NULL, 2, STORE_PREFIX, &n),
		  "2024,2024-01-01,");
	/* "é" prefix: "é1", "éz", not "ê" (the next code point) */
	CHECK_STR(query_str(s, STORE_T_RECORDS, "dev", "\xc3\xa9", NULL, 0, STORE_PREFIX, &n),
		  "\xc3\xa9"
		  "1,\xc3\xa9z,");
	CHECK_STR(query_str(s, STORE_T_RECORDS, "dev", "2023", NULL, 0, STORE_PREFIX, &n), "");
	CHECK_EQ(n, 0);
	CHECK_EQ(
	    store_query(s, STORE_T_RECORDS, "dev", "2024", "2025", 0, STORE_PREFIX, collect, NULL),
	    -EINVAL);
	CHECK_EQ(store_query(s, STORE_T_RECORDS, "dev", NULL, NULL, 0, STORE_PREFIX, collect, NULL),
		 -EINVAL);
	store_close(s);
	tmp_cleanup();
}

/* Paged queries: a callback that itself reads and writes (map growth included). */
struct pages_ctx {
	struct store *s;
	int n, errors;
	int next; /* expected sequence number */
	int step; /* +1 forward, -1 reverse */
};

static int pages_cb(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct pages_ctx *p = ctx;
	char want[16];
	size_t vlen = (size_t)(p->next % 7) * 1024 + 10;
	unsigned char *buf = malloc(vlen);

	snprintf(want, sizeof(want), "%06d", p->next);
	fill(buf, vlen, (unsigned)p->next);
	if (strcmp(pk, "big") || strcmp(sk, want) || len != vlen || memcmp(val, buf, vlen))
		p->errors++;
	free(buf);
	/* the store is usable from inside the callback */
	if (store_put(p->s, STORE_T_ROLLUPS, "copy", sk, val, len, 0) != 0)
		p->errors++;
	if (!item_is(p->s, STORE_T_RECORDS, "big", sk, (unsigned)p->next, vlen))
		p->errors++;
	p->n++;
	p->next += p->step;
	return 0;
}

TEST(test_query_pages)
{
	const int total = 1000;
	struct pages_ctx p = {0};
	struct store_batch *b = NULL;
	struct store_stats st;
	struct store *s;

	tmp_setup();
	s = open_at(store_dir, 64 << 10, 0); /* small: the callbacks' writes grow the map */
	CHECK_EQ(store_batch_begin(s, &b), 0);
	for (int i = 0; i < total; i++) {
		char sk[16];
		size_t vlen = (size_t)(i % 7) * 1024 + 10;
		unsigned char *buf = malloc(vlen);

		snprintf(sk, sizeof(sk), "%06d", i);
		fill(buf, vlen, (unsigned)i);
		CHECK_EQ(store_batch_put(b, STORE_T_RECORDS, "big", sk, buf, vlen, 0), 0);
		free(buf);
	}
	CHECK_EQ(store_batch_commit(b), 0);
	CHECK_EQ(put_str(s, STORE_T_RECORDS, "bigger", "000000", "x"), 0);
	CHECK_EQ(put_str(s, STORE_T_RECORDS, "bi", "999999", "x"), 0);
	CHECK_EQ(store_stats(s, &st), 0);
	uint64_t grows_before = st.grows;

	p.s = s;
	p.step = 1;
	CHECK_EQ(store_query(s, STORE_T_RECORDS, "big", NULL, NULL, 0, 0, pages_cb, &p), total);
	CHECK_EQ(p.n, total);
	CHECK_EQ(p.errors, 0);
	CHECK_EQ(store_stats(s, &st), 0);
	CHECK(st.grows > grows_before); /* the callbacks' writes grew the map mid-query */
	CHECK_EQ(st.entries[STORE_T_ROLLUPS], total);

	memset(&p, 0, sizeof(p));
	p.s = s;
	p.step = -1;
	p.next = total - 1;
	CHECK_EQ(store_query(s, STORE_T_RECORDS, "big", NULL, NULL, 0, STORE_REVERSE, pages_cb, &p),
		 total);
	CHECK_EQ(p.errors, 0);

	/* a limit that ends inside the third page, from an inner start */
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.step = 1;
	p.next = 100;
	CHECK_EQ(store_query(s, STORE_T_RECORDS, "big", "000100", NULL, 300, 0, pages_cb, &p), 300);
	CHECK_EQ(p.next, 400);
	CHECK_EQ(p.errors, 0);
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.step = -1;
	p.next = 899;
	CHECK_EQ(store_query(s, STORE_T_RECORDS, "big", "000500", "000899", 0, STORE_REVERSE,
			     pages_cb, &p),
		 400);
	CHECK_EQ(p.next, 499);
	CHECK_EQ(p.errors, 0);
	store_close(s);
	tmp_cleanup();
}

TEST(test_if_absent_aborts_batch)
{
	struct store_batch *b = NULL;
	struct store_stats st;
	struct store *s;

	tmp_setup();
	s = open_store();
	CHECK_EQ(put_str(s, STORE_T_BATCHES, "dev1", "b1", "done"), 0);
	CHECK_EQ(put_str(s, STORE_T_ROLLUPS, "dev1", "day", "5"), 0);

	/* a replayed ingest batch: records, rollup, then the dedup marker */
	CHECK_EQ(store_batch_begin(s, &b), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_RECORDS, "dev1", "r1", "a", 1, 0), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_RECORDS, "dev1", "r2", "b", 1, 0), 0);
	CHECK_EQ(store_batch_update(b, STORE_T_ROLLUPS, "dev1", "day", add_fn, (void *)&one), 0);
	CHECK_EQ(store_batch_delete(b, STORE_T_AUDIT, "x", "y", 0), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_BATCHES, "dev1", "b1", "again", 5, STORE_IF_ABSENT), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_RECORDS, "dev1", "r3", "c", 1, 0), 0);
	CHECK_EQ(store_batch_commit(b), -EEXIST);
	CHECK_ITEM(s, STORE_T_RECORDS, "dev1", "r1", NULL);
	CHECK_ITEM(s, STORE_T_RECORDS, "dev1", "r2", NULL);
	CHECK_ITEM(s, STORE_T_RECORDS, "dev1", "r3", NULL);
	CHECK_ITEM(s, STORE_T_ROLLUPS, "dev1", "day", "5");
	CHECK_ITEM(s, STORE_T_BATCHES, "dev1", "b1", "done");
	CHECK_EQ(store_stats(s, &st), 0);
	CHECK_EQ(st.entries[STORE_T_RECORDS], 0);

	/* a new batch id goes through, all of it */
	CHECK_EQ(store_batch_begin(s, &b), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_RECORDS, "dev1", "r1", "a", 1, 0), 0);
	CHECK_EQ(store_batch_update(b, STORE_T_ROLLUPS, "dev1", "day", add_fn, (void *)&one), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_BATCHES, "dev1", "b2", "done", 4, STORE_IF_ABSENT), 0);
	CHECK_EQ(store_batch_commit(b), 0);
	CHECK_ITEM(s, STORE_T_RECORDS, "dev1", "r1", "a");
	CHECK_ITEM(s, STORE_T_ROLLUPS, "dev1", "day", "6");
	CHECK_ITEM(s, STORE_T_BATCHES, "dev1", "b2", "done");

	/* IF_ABSENT sees the batch's own earlier put */
	CHECK_EQ(store_batch_begin(s, &b), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_EMAILS, "a@x", "-", "u1", 2, STORE_IF_ABSENT), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_EMAILS, "a@x", "-", "u2", 2, STORE_IF_ABSENT), 0);
	CHECK_EQ(store_batch_commit(b), -EEXIST);
	CHECK_ITEM(s, STORE_T_EMAILS, "a@x", "-", NULL);
	store_close(s);
	tmp_cleanup();
}

TEST(test_batch_read_your_writes)
{
	struct store_batch *b = NULL;
	struct store *s;
	void *v = NULL;
	size_t len = 0;

	tmp_setup();
	s = open_store();
	CHECK_EQ(put_str(s, STORE_T_CONFIG, "n1", "k", "old"), 0);
	CHECK_EQ(store_batch_begin(s, &b), 0);
	CHECK_EQ(store_batch_get(b, STORE_T_CONFIG, "n1", "k", &v, &len), 0);
	CHECK(v && len == 3 && memcmp(v, "old", 3) == 0);
	free(v);
	CHECK_EQ(store_batch_put(b, STORE_T_CONFIG, "n1", "k", "new", 3, 0), 0);
	CHECK_EQ(store_batch_get(b, STORE_T_CONFIG, "n1", "k", &v, &len), 0);
	CHECK(v && len == 3 && memcmp(v, "new", 3) == 0);
	CHECK(v && ((char *)v)[3] == '\0');
	free(v);
	CHECK_EQ(store_batch_delete(b, STORE_T_CONFIG, "n1", "k", 0), 0);
	CHECK_EQ(store_batch_get(b, STORE_T_CONFIG, "n1", "k", &v, &len), -ENOENT);
	CHECK(v == NULL);
	CHECK_EQ(store_batch_put(b, STORE_T_CONFIG, "n1", "k2", "x", 1, 0), 0);
	CHECK_EQ(store_batch_get(b, STORE_T_CONFIG, "n1", "k2", &v, &len), 0);
	CHECK(v && len == 1 && memcmp(v, "x", 1) == 0);
	free(v);
	/* updates are previewed, on top of the store or of earlier operations */
	CHECK_EQ(store_batch_update(b, STORE_T_ROLLUPS, "u", "c", add_fn, (void *)&one), 0);
	CHECK_EQ(store_batch_update(b, STORE_T_ROLLUPS, "u", "c", add_fn, (void *)&one), 0);
	CHECK_EQ(store_batch_get(b, STORE_T_ROLLUPS, "u", "c", &v, &len), 0);
	CHECK(v && len == 1 && memcmp(v, "2", 1) == 0);
	free(v);
	CHECK_EQ(store_batch_put(b, STORE_T_ROLLUPS, "u", "d", "40", 2, 0), 0);
	CHECK_EQ(store_batch_update(b, STORE_T_ROLLUPS, "u", "d", add_fn, (void *)&one), 0);
	CHECK_EQ(store_batch_get(b, STORE_T_ROLLUPS, "u", "d", &v, &len), 0);
	CHECK(v && len == 2 && memcmp(v, "41", 2) == 0);
	free(v);
	CHECK_EQ(store_batch_get(b, STORE_T_CONFIG, "n1", "absent", &v, &len), -ENOENT);

	/* nothing is applied before the commit */
	CHECK_ITEM(s, STORE_T_CONFIG, "n1", "k", "old");
	CHECK_ITEM(s, STORE_T_CONFIG, "n1", "k2", NULL);
	CHECK_ITEM(s, STORE_T_ROLLUPS, "u", "c", NULL);
	CHECK_EQ(store_batch_commit(b), 0);
	CHECK_ITEM(s, STORE_T_CONFIG, "n1", "k", NULL);
	CHECK_ITEM(s, STORE_T_CONFIG, "n1", "k2", "x");
	CHECK_ITEM(s, STORE_T_ROLLUPS, "u", "c", "2");
	CHECK_ITEM(s, STORE_T_ROLLUPS, "u", "d", "41");
	store_close(s);
	tmp_cleanup();
}

TEST(test_batch_get_conflict)
{
	struct store_batch *b = NULL;
	struct store *s;
	void *v = NULL;
	size_t len = 0;

	tmp_setup();
	s = open_store();
	CHECK_EQ(put_str(s, STORE_T_ROLLUPS, "u", "k", "1"), 0);

	/* the item read changes before the commit: nothing is applied */
	CHECK_EQ(store_batch_begin(s, &b), 0);
	CHECK_EQ(store_batch_get(b, STORE_T_ROLLUPS, "u", "k", &v, &len), 0);
	free(v);
	CHECK_EQ(put_str(s, STORE_T_ROLLUPS, "u", "k", "7"), 0); /* another request */
	CHECK_EQ(store_batch_get(b, STORE_T_ROLLUPS, "u", "k", &v, &len), 0);
	CHECK(v && len == 1 && memcmp(v, "1", 1) == 0); /* repeatable within the batch */
	free(v);
	CHECK_EQ(store_batch_put(b, STORE_T_ROLLUPS, "u", "k", "2", 1, 0), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_RECORDS, "u", "r", "x", 1, 0), 0);
	CHECK_EQ(store_batch_commit(b), -EAGAIN);
	CHECK_ITEM(s, STORE_T_ROLLUPS, "u", "k", "7");
	CHECK_ITEM(s, STORE_T_RECORDS, "u", "r", NULL);

	/* read as absent, then created by someone else */
	CHECK_EQ(store_batch_begin(s, &b), 0);
	CHECK_EQ(store_batch_get(b, STORE_T_ROLLUPS, "u", "new", &v, &len), -ENOENT);
	CHECK_EQ(put_str(s, STORE_T_ROLLUPS, "u", "new", "theirs"), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_ROLLUPS, "u", "new", "mine", 4, 0), 0);
	CHECK_EQ(store_batch_commit(b), -EAGAIN);
	CHECK_ITEM(s, STORE_T_ROLLUPS, "u", "new", "theirs");

	/* unchanged: the read-modify-write commits */
	CHECK_EQ(store_batch_begin(s, &b), 0);
	CHECK_EQ(store_batch_get(b, STORE_T_ROLLUPS, "u", "k", &v, &len), 0);
	CHECK(v && len == 1 && memcmp(v, "7", 1) == 0);
	free(v);
	CHECK_EQ(store_batch_put(b, STORE_T_ROLLUPS, "u", "k", "8", 1, 0), 0);
	CHECK_EQ(store_batch_commit(b), 0);
	CHECK_ITEM(s, STORE_T_ROLLUPS, "u", "k", "8");
	store_close(s);
	tmp_cleanup();
}

TEST(test_update_results)
{
	struct store_batch *b = NULL;
	struct store *s;

	tmp_setup();
	s = open_store();
	CHECK_EQ(put_str(s, STORE_T_LOGIN_FAILS, "a@x", "-", "3"), 0);
	CHECK_EQ(store_update(s, STORE_T_LOGIN_FAILS, "a@x", "-", add_fn, (void *)&one), 0);
	CHECK_ITEM(s, STORE_T_LOGIN_FAILS, "a@x", "-", "4");
	const_ret = STORE_UPDATE_KEEP;
	CHECK_EQ(store_update(s, STORE_T_LOGIN_FAILS, "a@x", "-", ret_fn, NULL), 0);
	CHECK_ITEM(s, STORE_T_LOGIN_FAILS, "a@x", "-", "4");
	const_ret = STORE_UPDATE_DELETE;
	CHECK_EQ(store_update(s, STORE_T_LOGIN_FAILS, "a@x", "-", ret_fn, NULL), 0);
	CHECK_ITEM(s, STORE_T_LOGIN_FAILS, "a@x", "-", NULL);
	CHECK_EQ(store_update(s, STORE_T_LOGIN_FAILS, "a@x", "-", ret_fn, NULL), 0); /* absent */

	/* an update that fails, or returns too much, fails the whole batch */
	const_ret = -ECANCELED;
	CHECK_EQ(store_batch_begin(s, &b), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_AUDIT, "t", "1", "x", 1, 0), 0);
	CHECK_EQ(store_batch_update(b, STORE_T_LOGIN_FAILS, "a@x", "-", ret_fn, NULL), 0);
	CHECK_EQ(store_batch_commit(b), -ECANCELED);
	CHECK_ITEM(s, STORE_T_AUDIT, "t", "1", NULL);
	const_ret = STORE_UPDATE_PUT;
	CHECK_EQ(store_batch_begin(s, &b), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_AUDIT, "t", "1", "x", 1, 0), 0);
	CHECK_EQ(store_batch_update(b, STORE_T_LOGIN_FAILS, "a@x", "-", ret_fn, NULL), 0);
	CHECK_EQ(store_batch_commit(b), -EMSGSIZE);
	CHECK_ITEM(s, STORE_T_AUDIT, "t", "1", NULL);
	CHECK_ITEM(s, STORE_T_LOGIN_FAILS, "a@x", "-", NULL);
	store_close(s);
	tmp_cleanup();
}

TEST(test_abort)
{
	struct store_batch *b = NULL;
	struct store *s;
	int n;

	tmp_setup();
	s = open_store();
	CHECK_EQ(store_batch_begin(s, &b), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_TOKENS, "h1", "-", "t", 1, 0), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_TOKENS, "h2", "-", "t", 1, 0), 0);
	CHECK_EQ(store_batch_update(b, STORE_T_ROLLUPS, "c", "-", add_fn, (void *)&one), 0);
	store_batch_abort(b);
	CHECK_ITEM(s, STORE_T_TOKENS, "h1", "-", NULL);
	CHECK_ITEM(s, STORE_T_TOKENS, "h2", "-", NULL);
	CHECK_ITEM(s, STORE_T_ROLLUPS, "c", "-", NULL);
	CHECK_STR(query_str(s, STORE_T_TOKENS, "h1", NULL, NULL, 0, 0, &n), "");
	store_batch_abort(NULL);
	store_close(NULL);
	CHECK_EQ(store_batch_commit(NULL), -EINVAL);

	CHECK_EQ(store_batch_begin(s, &b), 0); /* an empty batch commits */
	CHECK_EQ(store_batch_commit(b), 0);
	store_close(s);
	tmp_cleanup();
}

TEST(test_caps_and_validation)
{
	char pk[STORE_KEY_MAX + 2], sk[STORE_KEY_MAX + 2];
	struct store_batch *b = NULL;
	unsigned char *big;
	struct store *s;
	void *v = NULL;
	size_t len;
	int n;

	tmp_setup();
	s = open_store();
	memset(pk, 'p', sizeof(pk));
	memset(sk, 's', sizeof(sk));
	pk[300] = '\0';
	sk[STORE_KEY_MAX - 300] = '\0'; /* 300 + 210 = STORE_KEY_MAX */
	CHECK_EQ(put_str(s, STORE_T_USERS, pk, sk, "fits"), 0);
	CHECK_ITEM(s, STORE_T_USERS, pk, sk, "fits");
	CHECK_EQ(store_query(s, STORE_T_USERS, pk, sk, sk, 0, 0, collect, &(struct coll){0}), 1);
	sk[STORE_KEY_MAX - 300] = 's';
	sk[STORE_KEY_MAX - 299] = '\0';
	CHECK_EQ(put_str(s, STORE_T_USERS, pk, sk, "long"), -ENAMETOOLONG);
	CHECK_EQ(store_get(s, STORE_T_USERS, pk, sk, &v, &len), -ENAMETOOLONG);
	CHECK_EQ(store_query(s, STORE_T_USERS, pk, sk, NULL, 0, 0, collect, NULL), -ENAMETOOLONG);
	pk[300] = 'p';
	pk[STORE_KEY_MAX + 1] = '\0';
	CHECK_EQ(put_str(s, STORE_T_USERS, pk, "s", "long"), -ENAMETOOLONG);
	CHECK_EQ(store_query(s, STORE_T_USERS, pk, NULL, NULL, 0, 0, collect, NULL), -ENAMETOOLONG);

	big = malloc(STORE_VAL_MAX + 1);
	fill(big, STORE_VAL_MAX + 1, 9);
	CHECK_EQ(store_put(s, STORE_T_RECORDS, "v", "max", big, STORE_VAL_MAX, 0), 0);
	CHECK(item_is(s, STORE_T_RECORDS, "v", "max", 9, STORE_VAL_MAX));
	CHECK_EQ(store_put(s, STORE_T_RECORDS, "v", "over", big, STORE_VAL_MAX + 1, 0), -EMSGSIZE);
	CHECK_ITEM(s, STORE_T_RECORDS, "v", "over", NULL);

	/* keys: non-empty, well-formed UTF-8 (a NUL cannot be passed in a C string;
	 * its overlong form is rejected as invalid UTF-8) */
	CHECK_EQ(put_str(s, STORE_T_USERS, "", "s", "x"), -EINVAL);
	CHECK_EQ(put_str(s, STORE_T_USERS, "p", "", "x"), -EINVAL);
	CHECK_EQ(store_put(s, STORE_T_USERS, NULL, "s", "x", 1, 0), -EINVAL);
	CHECK_EQ(store_put(s, STORE_T_USERS, "p", NULL, "x", 1, 0), -EINVAL);
	CHECK_EQ(put_str(s, STORE_T_USERS, "p\xc0\x80q", "s", "x"), -EINVAL);
	CHECK_EQ(put_str(s, STORE_T_USERS, "p", "\xff", "x"), -EINVAL);
	CHECK_EQ(put_str(s, STORE_T_USERS, "p", "\xed\xa0\x80", "x"), -EINVAL); /* surrogate */
	CHECK_EQ(put_str(s, STORE_T_USERS, "p", "\xf4\x90\x80\x80", "x"), -EINVAL);
	CHECK_EQ(put_str(s, STORE_T_USERS, "p", "ab\xc3", "x"), -EINVAL); /* truncated */
	CHECK_EQ(put_str(s, STORE_T_USERS, "\xc3\xbc\xe2\x82\xac", "\xf0\x9f\x98\x80", "ok"), 0);
	CHECK_ITEM(s, STORE_T_USERS, "\xc3\xbc\xe2\x82\xac", "\xf0\x9f\x98\x80", "ok");
	CHECK_EQ(store_get(s, STORE_T_USERS, "p", "\xff", &v, &len), -EINVAL);
	CHECK_EQ(store_query(s, STORE_T_USERS, "\xff", NULL, NULL, 0, 0, collect, NULL), -EINVAL);
	CHECK_EQ(store_query(s, STORE_T_USERS, "p", "", NULL, 0, 0, collect, NULL), -EINVAL);
	CHECK_EQ(store_query(s, STORE_T_USERS, "p", NULL, NULL, 0, 0x80, collect, NULL), -EINVAL);
	CHECK_EQ(store_put(s, STORE_T_USERS, "p", "s", NULL, 1, 0), -EINVAL);
	CHECK_EQ(store_put(s, STORE_T_USERS, "p", "s", "x", 1, 0x80), -EINVAL);
	CHECK_EQ(store_delete(s, STORE_T_USERS, "p", "s", STORE_IF_ABSENT), -EINVAL);

	/* a failed batch call poisons the batch: nothing of it commits */
	CHECK_EQ(store_batch_begin(s, &b), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_AUDIT, "a", "1", "x", 1, 0), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_AUDIT, "a", "2", big, STORE_VAL_MAX + 1, 0), -EMSGSIZE);
	CHECK_EQ(store_batch_put(b, STORE_T_AUDIT, "a", "3", "x", 1, 0), -EMSGSIZE);
	CHECK_EQ(store_batch_commit(b), -EMSGSIZE);
	CHECK_ITEM(s, STORE_T_AUDIT, "a", "1", NULL);

	/* batch caps: operations, bytes */
	CHECK_EQ(store_batch_begin(s, &b), 0);
	for (unsigned i = 0; i < STORE_BATCH_MAX_OPS; i++) {
		char k[16];

		snprintf(k, sizeof(k), "%u", i);
		if (store_batch_delete(b, STORE_T_AUDIT, "a", k, 0) != 0) {
			CHECK(0);
			break;
		}
	}
	CHECK_EQ(store_batch_delete(b, STORE_T_AUDIT, "a", "last", 0), -E2BIG);
	CHECK_EQ(store_batch_commit(b), -E2BIG);
	CHECK_EQ(store_batch_begin(s, &b), 0);
	n = 0;
	for (int i = 0; i < 200; i++) {
		char k[16];

		snprintf(k, sizeof(k), "%d", i);
		if (store_batch_put(b, STORE_T_AUDIT, "a", k, big, STORE_VAL_MAX, 0) != 0)
			break;
		n++;
	}
	/* each put holds STORE_VAL_MAX + a key of 3 to 5 bytes */
	CHECK(n >= (int)(STORE_BATCH_MAX_BYTES / (STORE_VAL_MAX + 5)));
	CHECK(n <= (int)(STORE_BATCH_MAX_BYTES / STORE_VAL_MAX));
	CHECK(n < 200);
	store_batch_abort(b);
	free(big);
	store_close(s);
	tmp_cleanup();
}

/* Write n items of vlen bytes (seed = index) into RECORDS "grow", k per batch. */
static void write_items(struct store *s, int from, int n, size_t vlen, int per_batch)
{
	unsigned char *buf = malloc(vlen);

	for (int i = from; i < from + n; i += per_batch) {
		struct store_batch *b = NULL;

		CHECK_EQ(store_batch_begin(s, &b), 0);
		for (int j = i; j < i + per_batch && j < from + n; j++) {
			char sk[16];

			snprintf(sk, sizeof(sk), "%06d", j);
			fill(buf, vlen, (unsigned)j);
			CHECK_EQ(store_batch_put(b, STORE_T_RECORDS, "grow", sk, buf, vlen, 0), 0);
		}
		CHECK_EQ(store_batch_commit(b), 0);
	}
	free(buf);
}

static int items_ok(struct store *s, int from, int n, size_t vlen)
{
	int bad = 0;

	for (int i = from; i < from + n; i++) {
		char sk[16];

		snprintf(sk, sizeof(sk), "%06d", i);
		bad += !item_is(s, STORE_T_RECORDS, "grow", sk, (unsigned)i, vlen);
	}
	return bad == 0;
}

TEST(test_map_growth)
{
	const size_t vlen = 128 << 10;
	struct store_stats st;
	struct store *s;

	tmp_setup();
	s = open_at(store_dir, 64 << 10, 0);
	CHECK_EQ(store_stats(s, &st), 0);
	CHECK_EQ(st.map_size, 64 << 10);
	CHECK_EQ(st.grows, 0);
	write_items(s, 0, 64, vlen, 4); /* 8 MiB into a 64 KiB map */
	CHECK(items_ok(s, 0, 64, vlen));
	CHECK_EQ(store_stats(s, &st), 0);
	CHECK(st.grows >= 7);
	CHECK(st.map_size >= (8u << 20));
	CHECK(st.used_bytes >= (8u << 20) && st.used_bytes <= st.map_size);
	CHECK_EQ(st.entries[STORE_T_RECORDS], 64);
	store_close(s);

	s = open_at(store_dir, 64 << 10, 0); /* reopen with the tiny map again */
	CHECK(items_ok(s, 0, 64, vlen));
	write_items(s, 64, 16, vlen, 16); /* one 2 MiB batch */
	CHECK(items_ok(s, 0, 80, vlen));
	store_close(s);
	s = open_store();
	CHECK(items_ok(s, 0, 80, vlen));
	store_close(s);
	tmp_cleanup();
}

TEST(test_map_growth_one_batch)
{
	struct store_stats st;
	struct store *s;

	tmp_setup();
	s = open_at(store_dir, 64 << 10, 0);
	write_items(s, 0, 40, 100 << 10, 40); /* 4 MiB in one transaction */
	CHECK(items_ok(s, 0, 40, 100 << 10));
	CHECK_EQ(store_stats(s, &st), 0);
	CHECK(st.grows >= 6);
	CHECK_EQ(st.entries[STORE_T_RECORDS], 40);
	store_close(s);
	tmp_cleanup();
}

TEST(test_map_max)
{
	const size_t vlen = 200 << 10;
	unsigned char *buf = malloc(vlen);
	struct store_stats st;
	struct store *s;
	int ok = 0, err = 0;

	tmp_setup();
	s = open_at(store_dir, 64 << 10, 1 << 20);
	for (int i = 0; i < 20; i++) {
		char sk[16];

		snprintf(sk, sizeof(sk), "%06d", i);
		fill(buf, vlen, (unsigned)i);
		err = store_put(s, STORE_T_RECORDS, "grow", sk, buf, vlen, 0);
		if (err)
			break;
		ok++;
	}
	CHECK_EQ(err, -ENOSPC);
	CHECK(ok >= 2 && ok <= 5);
	CHECK(items_ok(s, 0, ok, vlen));
	CHECK_EQ(store_stats(s, &st), 0);
	CHECK_EQ(st.map_size, 1 << 20);
	CHECK_EQ(st.map_max, 1 << 20);
	CHECK_EQ(st.entries[STORE_T_RECORDS], ok);
	CHECK_EQ(put_str(s, STORE_T_META, "still", "usable", "yes"), 0);
	CHECK_ITEM(s, STORE_T_META, "still", "usable", "yes");
	free(buf);
	store_close(s);
	tmp_cleanup();
}

TEST(test_persistence)
{
	char path[256];
	struct store_stats st;
	struct stat sb;
	struct store *s;
	int n;

	tmp_setup();
	s = open_store();
	CHECK_EQ(put_str(s, STORE_T_USERS, "u1", "profile", "alice"), 0);
	CHECK_EQ(put_str(s, STORE_T_EMAILS, "alice@example.com", "-", "u1"), 0);
	CHECK_EQ(put_str(s, STORE_T_AUDIT, "2024-05", "001", "login"), 0);
	CHECK_EQ(put_str(s, STORE_T_AUDIT, "2024-05", "002", "logout"), 0);
	CHECK_EQ(put_str(s, STORE_T_AUDIT, "2024-05", "003", "gone"), 0);
	CHECK_EQ(store_delete(s, STORE_T_AUDIT, "2024-05", "003", 0), 0);
	store_close(s);

	CHECK_EQ(stat(store_dir, &sb), 0);
	CHECK_EQ(sb.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/data.mdb", store_dir);
	CHECK_EQ(stat(path, &sb), 0);
	CHECK_EQ(sb.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/lock.mdb", store_dir);
	CHECK_EQ(stat(path, &sb), 0);
	CHECK_EQ(sb.st_mode & 0777, 0600);

	s = open_store();
	CHECK_ITEM(s, STORE_T_USERS, "u1", "profile", "alice");
	CHECK_ITEM(s, STORE_T_EMAILS, "alice@example.com", "-", "u1");
	CHECK_STR(query_str(s, STORE_T_AUDIT, "2024-05", NULL, NULL, 0, 0, &n), "001,002,");
	CHECK_EQ(store_stats(s, &st), 0);
	CHECK_EQ(st.entries[STORE_T_USERS], 1);
	CHECK_EQ(st.entries[STORE_T_AUDIT], 2);
	CHECK_EQ(st.entries[STORE_T_RECORDS], 0);
	store_close(s);
	tmp_cleanup();
}

/* --- concurrency --- */

#define W_COMMITS 200
#define W_GROUP 10

struct reader {
	pthread_t th;
	struct store *s;
	atomic_int *stop;
	int iters, errors;
	char why[160];
};

struct acct {
	long a, b;
	int n;
};

static int acct_cb(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct acct *ac = ctx;
	long v = strtol(val, NULL, 10);

	(void)pk;
	(void)len;
	if (!strcmp(sk, "a"))
		ac->a = v;
	else
		ac->b = v;
	ac->n++;
	return 0;
}

struct group {
	int seq[W_GROUP];
	int n;
};

static int group_cb(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct group *g = ctx;

	(void)pk;
	(void)val;
	(void)len;
	if (g->n < W_GROUP)
		g->seq[g->n] = atoi(sk);
	g->n++;
	return 0;
}

static void reader_err(struct reader *r, const char *why, long x)
{
	if (!r->errors)
		snprintf(r->why, sizeof(r->why), "%s (%ld)", why, x);
	r->errors++;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	long last_a = 0;
	int last_group = 0;

	while (!atomic_load(r->stop) || r->iters < 20) {
		struct acct ac = {0};
		struct group g = {0};
		int rc;

		rc = store_query(r->s, STORE_T_ROLLUPS, "acct", NULL, NULL, 0, 0, acct_cb, &ac);
		if (rc != ac.n || (rc != 0 && rc != 2))
			reader_err(r, "acct query", rc);
		else if (ac.a != -ac.b)
			reader_err(r, "torn acct", ac.a);
		else if (ac.a < last_a)
			reader_err(r, "acct went back", ac.a);
		last_a = ac.a;

		rc = store_query(r->s, STORE_T_RECORDS, "log", NULL, NULL, W_GROUP, STORE_REVERSE,
				 group_cb, &g);
		if (rc != g.n || (rc != 0 && rc != W_GROUP)) {
			reader_err(r, "log query", rc);
		} else if (rc) {
			int grp = g.seq[0] / W_GROUP;
			char sk[16];

			for (int j = 0; j < W_GROUP; j++)
				if (g.seq[j] != grp * W_GROUP + (W_GROUP - 1 - j))
					reader_err(r, "torn group", g.seq[j]);
			if (grp < last_group)
				reader_err(r, "group went back", grp);
			last_group = grp;
			snprintf(sk, sizeof(sk), "%06d", grp * W_GROUP);
			if (!item_is(r->s, STORE_T_RECORDS, "log", sk, (unsigned)grp * W_GROUP,
				     2048))
				reader_err(r, "log item", grp);
		}
		r->iters++;
	}
	return NULL;
}

TEST(test_concurrent_readers)
{
	struct reader rd[4];
	unsigned char buf[2048];
	atomic_int stop = 0;
	struct store_stats st;
	struct store *s;

	tmp_setup();
	s = open_at(store_dir, 64 << 10, 0); /* the writer grows the map under the readers */
	for (size_t i = 0; i < ARRAY_SIZE(rd); i++) {
		memset(&rd[i], 0, sizeof(rd[i]));
		rd[i].s = s;
		rd[i].stop = &stop;
		CHECK_EQ(pthread_create(&rd[i].th, NULL, reader_main, &rd[i]), 0);
	}
	for (int i = 1; i <= W_COMMITS; i++) {
		struct store_batch *b = NULL;
		char a[24], bb[24];

		snprintf(a, sizeof(a), "%d", i);
		snprintf(bb, sizeof(bb), "%d", -i);
		CHECK_EQ(store_batch_begin(s, &b), 0);
		CHECK_EQ(store_batch_put(b, STORE_T_ROLLUPS, "acct", "a", a, strlen(a), 0), 0);
		for (int j = 0; j < W_GROUP; j++) {
			char sk[16];
			int seq = i * W_GROUP + j;

			snprintf(sk, sizeof(sk), "%06d", seq);
			fill(buf, sizeof(buf), (unsigned)seq);
			CHECK_EQ(
			    store_batch_put(b, STORE_T_RECORDS, "log", sk, buf, sizeof(buf), 0), 0);
		}
		CHECK_EQ(store_batch_put(b, STORE_T_ROLLUPS, "acct", "b", bb, strlen(bb), 0), 0);
		CHECK_EQ(store_batch_commit(b), 0);
	}
	atomic_store(&stop, 1);
	for (size_t i = 0; i < ARRAY_SIZE(rd); i++) {
		CHECK_EQ(pthread_join(rd[i].th, NULL), 0);
		CHECK_EQ(rd[i].errors, 0);
		CHECK(rd[i].iters >= 20);
		if (rd[i].errors)
			printf("  reader %zu: %d errors, first: %s\n", i, rd[i].errors, rd[i].why);
	}
	CHECK_EQ(store_stats(s, &st), 0);
	CHECK(st.grows >= 5);
	CHECK_EQ(st.entries[STORE_T_RECORDS], W_COMMITS * W_GROUP);
	CHECK_ITEM(s, STORE_T_ROLLUPS, "acct", "a", "200");
	store_close(s);
	tmp_cleanup();
}

#define U_THREADS 4
#define U_ITERS 150

struct updater {
	pthread_t th;
	struct store *s;
	int id, errors, conflicts;
};

/* Even threads increment with store_batch_update, odd ones with
 * store_batch_get + put, retrying on -EAGAIN; each commit also adds an item. */
static void *updater_main(void *arg)
{
	struct updater *u = arg;

	for (int i = 0; i < U_ITERS; i++) {
		char sk[32];
		int err;

		snprintf(sk, sizeof(sk), "%d-%03d", u->id, i);
		do {
			struct store_batch *b = NULL;

			if (store_batch_begin(u->s, &b))
				return NULL;
			if (u->id % 2 == 0) {
				store_batch_update(b, STORE_T_ROLLUPS, "ctr", "n", add_fn,
						   (void *)&one);
			} else {
				void *v = NULL;
				size_t len = 0;
				char nb[32];
				long n = 0;

				if (store_batch_get(b, STORE_T_ROLLUPS, "ctr", "n", &v, &len) == 0)
					n = strtol(v, NULL, 10);
				free(v);
				snprintf(nb, sizeof(nb), "%ld", n + 1);
				store_batch_put(b, STORE_T_ROLLUPS, "ctr", "n", nb, strlen(nb), 0);
			}
			store_batch_put(b, STORE_T_RECORDS, "upd", sk, "x", 1, STORE_IF_ABSENT);
			err = store_batch_commit(b);
			u->conflicts += err == -EAGAIN;
		} while (err == -EAGAIN);
		u->errors += err != 0;
	}
	return NULL;
}

TEST(test_concurrent_updates)
{
	struct updater up[U_THREADS];
	struct store_stats st;
	struct store *s;
	char want[16];

	tmp_setup();
	s = open_at(store_dir, 64 << 10, 0);
	for (int i = 0; i < U_THREADS; i++) {
		memset(&up[i], 0, sizeof(up[i]));
		up[i].s = s;
		up[i].id = i;
		CHECK_EQ(pthread_create(&up[i].th, NULL, updater_main, &up[i]), 0);
	}
	for (int i = 0; i < U_THREADS; i++) {
		CHECK_EQ(pthread_join(up[i].th, NULL), 0);
		CHECK_EQ(up[i].errors, 0);
	}
	snprintf(want, sizeof(want), "%d", U_THREADS * U_ITERS);
	CHECK_ITEM(s, STORE_T_ROLLUPS, "ctr", "n", want); /* no lost update */
	CHECK_EQ(store_stats(s, &st), 0);
	CHECK_EQ(st.entries[STORE_T_RECORDS], U_THREADS * U_ITERS);
	store_close(s);
	tmp_cleanup();
}

/* --- backup, scan --- */

struct scan_ctx {
	int n, bad;
	char last[600];
};

static int scan_cb(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct scan_ctx *c = ctx;
	char key[600];

	snprintf(key, sizeof(key), "%s|%s", pk, sk);
	if (c->n && strcmp(key, c->last) <= 0)
		c->bad++;
	if (len != strlen(pk) + strlen(sk) || memcmp(val, pk, strlen(pk)))
		c->bad++;
	snprintf(c->last, sizeof(c->last), "%s", key);
	c->n++;
	return 0;
}

/* n items "pk<i/10>"/"sk<i>" with value pk + sk in table t. */
static void put_many(struct store *s, enum store_table t, int n)
{
	struct store_batch *b = NULL;

	CHECK_EQ(store_batch_begin(s, &b), 0);
	for (int i = 0; i < n; i++) {
		char pk[16], sk[16], v[32];

		snprintf(pk, sizeof(pk), "pk%03d", i / 10);
		snprintf(sk, sizeof(sk), "sk%04d", i);
		snprintf(v, sizeof(v), "%s%s", pk, sk);
		CHECK_EQ(store_batch_put(b, t, pk, sk, v, strlen(v), 0), 0);
	}
	CHECK_EQ(store_batch_commit(b), 0);
}

TEST(test_scan)
{
	struct scan_ctx c = {0};
	struct store *s;
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_val k = {5, "nosep"}, v = {1, "x"};
	int n;

	tmp_setup();
	s = open_store();
	put_many(s, STORE_T_DEVICES, 500);
	put_many(s, STORE_T_NODES, 3);
	CHECK_EQ(store_scan(s, STORE_T_DEVICES, scan_cb, &c), 500);
	CHECK_EQ(c.n, 500);
	CHECK_EQ(c.bad, 0);
	store_close(s);

	/* a key without the separator (not written by the store) is -EIO for scan */
	CHECK_EQ(mdb_env_create(&env), 0);
	CHECK_EQ(mdb_env_set_maxdbs(env, STORE_T__COUNT), 0);
	CHECK_EQ(mdb_env_open(env, store_dir, 0, 0600), 0);
	CHECK_EQ(mdb_txn_begin(env, NULL, 0, &txn), 0);
	CHECK_EQ(mdb_dbi_open(txn, "devices", 0, &dbi), 0);
	CHECK_EQ(mdb_put(txn, dbi, &k, &v, 0), 0);
	CHECK_EQ(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	s = open_store();
	memset(&c, 0, sizeof(c));
	CHECK_EQ(store_scan(s, STORE_T_DEVICES, scan_cb, &c), -EIO);
	/* a query never reaches it */
	CHECK_STR(query_str(s, STORE_T_DEVICES, "nosep", NULL, NULL, 0, 0, &n), "");
	CHECK_STR(query_str(s, STORE_T_DEVICES, "pk049", "sk0498", NULL, 0, 0, &n),
		  "sk0498,sk0499,");
	store_close(s);
	tmp_cleanup();
}

TEST(test_copy_compact)
{
	char copy_dir[160], path[200];
	struct store_stats st1, st2;
	struct store *s, *c;
	struct stat sb1, sb2;
	int fd, n;

	tmp_setup();
	s = open_store();
	put_many(s, STORE_T_RECORDS, 2000);
	put_many(s, STORE_T_USERS, 20);
	for (int i = 0; i < 1500; i++) { /* leave free pages behind */
		char pk[16], sk[16];

		snprintf(pk, sizeof(pk), "pk%03d", i / 10);
		snprintf(sk, sizeof(sk), "sk%04d", i);
		CHECK_EQ(store_delete(s, STORE_T_RECORDS, pk, sk, 0), 0);
	}
	snprintf(copy_dir, sizeof(copy_dir), "%s/copy", tmp_root);
	CHECK_EQ(mkdir(copy_dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/data.mdb", copy_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(store_copy_compact(s, fd), 0);
	CHECK_EQ(close(fd), 0);
	CHECK_EQ(put_str(s, STORE_T_USERS, "after", "copy", "x"), 0); /* not in the copy */

	c = open_at(copy_dir, 0, 0);
	CHECK_EQ(store_stats(s, &st1), 0);
	CHECK_EQ(store_stats(c, &st2), 0);
	CHECK_EQ(st2.entries[STORE_T_RECORDS], 500);
	CHECK_EQ(st2.entries[STORE_T_RECORDS], st1.entries[STORE_T_RECORDS]);
	CHECK_EQ(st2.entries[STORE_T_USERS], 20);
	CHECK_ITEM(c, STORE_T_USERS, "after", "copy", NULL);
	CHECK_ITEM(c, STORE_T_RECORDS, "pk149", "sk1499", NULL);
	CHECK_ITEM(c, STORE_T_RECORDS, "pk150", "sk1500", "pk150sk1500");
	CHECK_ITEM(c, STORE_T_USERS, "pk001", "sk0019", "pk001sk0019");
	CHECK_STR(query_str(c, STORE_T_RECORDS, "pk199", "sk1997", NULL, 0, 0, &n),
		  "sk1997,sk1998,sk1999,");
	CHECK(st2.used_bytes < st1.used_bytes); /* compacted */
	snprintf(path, sizeof(path), "%s/data.mdb", store_dir);
	CHECK_EQ(stat(path, &sb1), 0);
	snprintf(path, sizeof(path), "%s/data.mdb", copy_dir);
	CHECK_EQ(stat(path, &sb2), 0);
	CHECK(sb2.st_size < sb1.st_size);
	CHECK_EQ(put_str(c, STORE_T_USERS, "copy", "writable", "y"), 0);
	store_close(c);
	store_close(s);
	tmp_cleanup();
}

/* An update that keeps the write transaction open for a while (the other
 * process opens the store meanwhile). */
static int slow_update(const void *old, size_t old_len, void **val, size_t *len, void *ctx)
{
	(void)old;
	(void)old_len;
	(void)ctx;
	usleep(600 * 1000);
	*val = strdup("x");
	*len = 1;
	return STORE_UPDATE_PUT;
}

/*
 * A second process opens the store while the first is committing a batch
 * that grows the data past the map the opener got at mdb_env_open (the
 * backup command opening a busy server's store): the opener's first
 * transaction waits for the writer and then finds the map resized
 * (MDB_MAP_RESIZED). It adopts the new size: the open succeeds. It failed
 * with -EAGAIN before.
 */
TEST(test_open_while_another_process_grows)
{
	int ready[2], err = 0, status = 0;
	struct store *s = NULL;
	pid_t pid;
	char c;

	tmp_setup();
	{ /* a store of a few MiB, small map */
		struct store *w = open_at(store_dir, 4u << 20, 1ull << 30);
		static char v[300 * 1024];

		memset(v, 'a', sizeof(v));
		for (int i = 0; i < 8; i++) {
			char sk[16];

			snprintf(sk, sizeof(sk), "v%d", i);
			CHECK_EQ(store_put(w, STORE_T_RECORDS, "big", sk, v, sizeof(v), 0), 0);
		}
		store_close(w);
	}
	CHECK_EQ(pipe(ready), 0);
	pid = fork();
	if (pid == 0) { /* the writer: holds the write transaction, then grows */
		struct store_lmdb_opts o = {.map_size = 64u << 20, .map_max = 1ull << 30};
		struct store_batch *b = NULL;
		struct store *w = NULL;
		static char v[300 * 1024];
		int rc = store_open_lmdb(&w, store_dir, &o);

		memset(v, 'b', sizeof(v));
		if (!rc)
			rc = store_batch_begin(w, &b);
		if (!rc)
			rc = store_batch_update(b, STORE_T_META, "slow", "x", slow_update, NULL);
		for (int i = 0; !rc && i < 40; i++) { /* 12 MiB more */
			char sk[16];

			snprintf(sk, sizeof(sk), "w%d", i);
			rc = store_batch_put(b, STORE_T_RECORDS, "more", sk, v, sizeof(v), 0);
		}
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		if (!rc)
			rc = store_batch_commit(b);
		store_close(w);
		_exit(rc ? 1 : 0);
	}
	CHECK(pid > 0);
	close(ready[1]);
	CHECK_EQ(read(ready[0], &c, 1), 1);
	usleep(200 * 1000); /* the writer is inside its commit now */
	{
		struct store_lmdb_opts o = {.map_size = 1u << 20, .map_max = 1ull << 30};

		err = store_open_lmdb(&s, store_dir, &o);
	}
	CHECK_EQ(err, 0);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (!err) {
		void *val = NULL;
		size_t len = 0;

		CHECK_EQ(store_get(s, STORE_T_RECORDS, "more", "w39", &val, &len), 0);
		CHECK_EQ(len, 300 * 1024);
		free(val);
	}
	store_close(s);
	close(ready[0]);
	tmp_cleanup();
}

int main(void)
{
	alarm(300); /* a deadlock fails the binary instead of hanging the suite */
	RUN(test_roundtrip);
	RUN(test_absent_and_conditions);
	RUN(test_tables_isolated);
	RUN(test_query_bounds);
	RUN(test_query_limit_reverse_stop);
	RUN(test_query_partition_isolation);
	RUN(test_query_prefix);
	RUN(test_query_pages);
	RUN(test_if_absent_aborts_batch);
	RUN(test_batch_read_your_writes);
	RUN(test_batch_get_conflict);
	RUN(test_update_results);
	RUN(test_abort);
	RUN(test_caps_and_validation);
	RUN(test_map_growth);
	RUN(test_map_growth_one_batch);
	RUN(test_map_max);
	RUN(test_persistence);
	RUN(test_concurrent_readers);
	RUN(test_concurrent_updates);
	RUN(test_scan);
	RUN(test_copy_compact);
	RUN(test_open_while_another_process_grows);
	return CHECK_DONE();
}
