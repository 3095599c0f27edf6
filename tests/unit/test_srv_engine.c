// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of server/store/store.c, the store's generic layer: a counting
 * fake engine (server/store/engine.h) shows which calls reach an engine and
 * which the generic layer refuses first; a real LMDB store names its engine.
 * The store's behaviour itself is tested in test_srv_store.c. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "store/engine.h"

/* --- a fake engine: counts its calls, answers as told --- */

enum fake_call {
	F_CLOSE,
	F_GET,
	F_QUERY,
	F_SCAN,
	F_BEGIN,
	F_PUT,
	F_DELETE,
	F_UPDATE,
	F_BGET,
	F_COMMIT,
	F_ABORT,
	F_COPY,
	F_STATS,
	F__COUNT
};

static int calls[F__COUNT];
static int put_result;	/* what the engine's batch_put returns */
static int bget_result; /* what the engine's batch_get returns (1: absent) */

static struct store fake_store; /* ops set by fake_open() */

static void fake_close(struct store *s)
{
	(void)s;
	calls[F_CLOSE]++;
}

static int fake_get(struct store *s, enum store_table t, const char *pk, const char *sk, void **val,
		    size_t *len)
{
	(void)s, (void)t, (void)pk, (void)sk, (void)val, (void)len;
	calls[F_GET]++;
	return -ENOENT;
}

static int fake_query(struct store *s, enum store_table t, const char *pk, const char *sk_from,
		      const char *sk_to, size_t limit, unsigned flags, store_item_fn fn, void *ctx)
{
	(void)s, (void)t, (void)pk, (void)sk_from, (void)sk_to, (void)limit, (void)flags;
	(void)fn, (void)ctx;
	calls[F_QUERY]++;
	return 0;
}

static int fake_scan(struct store *s, enum store_table t, store_item_fn fn, void *ctx)
{
	(void)s, (void)t, (void)fn, (void)ctx;
	calls[F_SCAN]++;
	return 0;
}

static int fake_begin(struct store *s, struct store_batch **b)
{
	(void)s;
	calls[F_BEGIN]++;
	*b = calloc(1, sizeof(**b));
	return *b ? 0 : -ENOMEM;
}

static int fake_put(struct store_batch *b, enum store_table t, const char *pk, const char *sk,
		    const void *val, size_t len, unsigned flags)
{
	(void)b, (void)t, (void)pk, (void)sk, (void)val, (void)len, (void)flags;
	calls[F_PUT]++;
	return put_result;
}

static int fake_delete(struct store_batch *b, enum store_table t, const char *pk, const char *sk,
		       unsigned flags)
{
	(void)b, (void)t, (void)pk, (void)sk, (void)flags;
	calls[F_DELETE]++;
	return 0;
}

static int fake_update(struct store_batch *b, enum store_table t, const char *pk, const char *sk,
		       store_update_fn fn, void *ctx)
{
	(void)b, (void)t, (void)pk, (void)sk, (void)fn, (void)ctx;
	calls[F_UPDATE]++;
	return 0;
}

static int fake_bget(struct store_batch *b, enum store_table t, const char *pk, const char *sk,
		     void **val, size_t *len)
{
	(void)b, (void)t, (void)pk, (void)sk;
	calls[F_BGET]++;
	if (bget_result == 0) {
		*val = strdup("v");
		*len = 1;
	}
	return bget_result;
}

static int fake_commit(struct store_batch *b)
{
	calls[F_COMMIT]++;
	free(b);
	return 0;
}

static void fake_abort(struct store_batch *b)
{
	calls[F_ABORT]++;
	free(b);
}

static int fake_copy(struct store *s, int fd)
{
	(void)s, (void)fd;
	calls[F_COPY]++;
	return 0;
}

static int fake_stats(struct store *s, struct store_stats *st)
{
	(void)s, (void)st;
	calls[F_STATS]++;
	return 0;
}

static const struct store_engine fake_engine = {
    .name = "fake",
    .close = fake_close,
    .get = fake_get,
    .query = fake_query,
    .scan = fake_scan,
    .batch_begin = fake_begin,
    .batch_put = fake_put,
    .batch_delete = fake_delete,
    .batch_update = fake_update,
    .batch_get = fake_bget,
    .batch_commit = fake_commit,
    .batch_abort = fake_abort,
    .copy_compact = fake_copy,
    .stats = fake_stats,
};

/* The fake store with every counter and answer reset. */
static struct store *fake_open(void)
{
	memset(calls, 0, sizeof(calls));
	put_result = 0;
	bget_result = 0;
	fake_store.ops = &fake_engine;
	return &fake_store;
}

static int keep(const void *old, size_t old_len, void **val, size_t *len, void *ctx)
{
	(void)old, (void)old_len, (void)val, (void)len, (void)ctx;
	return STORE_UPDATE_KEEP;
}

static int item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	(void)pk, (void)sk, (void)val, (void)len, (void)ctx;
	return 0;
}

/* --- tests --- */

/* A store opened with store_open_lmdb() is the "lmdb" engine's. */
TEST(test_lmdb_engine_name)
{
	char dir[64];
	struct store *s = NULL;

	check_mkdtemp(dir, sizeof(dir), "engine");
	CHECK_EQ(store_open_lmdb(&s, dir, NULL), 0);
	CHECK_STR(store_engine_name(s), "lmdb");
	store_close(s);
	CHECK(store_engine_name(NULL) == NULL);
	CHECK_EQ(check_rmtree(dir), 0);
}

/* Calls go to the engine of the store, by its table. */
TEST(test_dispatch)
{
	struct store *s = fake_open();
	struct store_batch *b = NULL;
	struct store_stats st;
	void *v = NULL;
	size_t len = 0;

	CHECK_STR(store_engine_name(s), "fake");
	CHECK_EQ(store_get(s, STORE_T_USERS, "p", "s", &v, &len), -ENOENT);
	CHECK_EQ(store_query(s, STORE_T_USERS, "p", "a", "z", 0, 0, item, NULL), 0);
	CHECK_EQ(store_scan(s, STORE_T_USERS, item, NULL), 0);
	CHECK_EQ(store_copy_compact(s, 1), 0);
	CHECK_EQ(store_stats(s, &st), 0);
	CHECK_EQ(store_put(s, STORE_T_USERS, "p", "s", "x", 1, 0), 0);
	CHECK_EQ(store_delete(s, STORE_T_USERS, "p", "s", 0), 0);
	CHECK_EQ(store_update(s, STORE_T_USERS, "p", "s", keep, NULL), 0);
	CHECK_EQ(store_batch_begin(s, &b), 0);
	CHECK(b != NULL && b->s == s);
	CHECK_EQ(store_batch_get(b, STORE_T_USERS, "p", "s", &v, &len), 0);
	CHECK_STR(v, "v");
	free(v);
	store_batch_abort(b);
	store_close(s);
	CHECK_EQ(calls[F_GET], 1);
	CHECK_EQ(calls[F_QUERY], 1);
	CHECK_EQ(calls[F_SCAN], 1);
	CHECK_EQ(calls[F_COPY], 1);
	CHECK_EQ(calls[F_STATS], 1);
	CHECK_EQ(calls[F_BEGIN], 4);
	CHECK_EQ(calls[F_PUT], 1);
	CHECK_EQ(calls[F_DELETE], 1);
	CHECK_EQ(calls[F_UPDATE], 1);
	CHECK_EQ(calls[F_BGET], 1);
	CHECK_EQ(calls[F_COMMIT], 3);
	CHECK_EQ(calls[F_ABORT], 1);
	CHECK_EQ(calls[F_CLOSE], 1);
}

/* Bad arguments are refused by the generic layer: the engine never sees them. */
TEST(test_bad_arguments_refused_before_engine)
{
	char longk[STORE_KEY_MAX + 2];
	struct store *s = fake_open();
	struct store_batch *b = NULL;
	void *v = (void *)1;
	size_t len;

	memset(longk, 'k', sizeof(longk));
	longk[STORE_KEY_MAX] = '\0'; /* "p" + this: STORE_KEY_MAX + 1 bytes */

	CHECK_EQ(store_get(s, STORE_T_USERS, "p", longk, &v, &len), -ENAMETOOLONG);
	CHECK(v == NULL);
	CHECK_EQ(store_get(s, STORE_T_USERS, "p", "\xff", &v, &len), -EINVAL);
	CHECK_EQ(store_get(s, STORE_T_USERS, "", "s", &v, &len), -EINVAL);
	CHECK_EQ(store_get(s, STORE_T__COUNT, "p", "s", &v, &len), -EINVAL);
	CHECK_EQ(store_get(NULL, STORE_T_USERS, "p", "s", &v, &len), -EINVAL);
	CHECK_EQ(store_query(s, STORE_T_USERS, "p", longk, NULL, 0, 0, item, NULL), -ENAMETOOLONG);
	CHECK_EQ(store_query(s, STORE_T_USERS, "p", NULL, longk, 0, 0, item, NULL), -ENAMETOOLONG);
	CHECK_EQ(store_query(s, STORE_T_USERS, "p", "a", "b", 0, STORE_PREFIX, item, NULL),
		 -EINVAL);
	CHECK_EQ(store_query(s, STORE_T_USERS, "p", NULL, NULL, 0, 0x80, item, NULL), -EINVAL);
	CHECK_EQ(store_query(s, STORE_T_USERS, "p", NULL, NULL, 0, 0, NULL, NULL), -EINVAL);
	CHECK_EQ(store_scan(s, STORE_T__COUNT, item, NULL), -EINVAL);
	CHECK_EQ(store_copy_compact(s, -1), -EINVAL);
	CHECK_EQ(store_stats(s, NULL), -EINVAL);

	/* one-item writes: a batch is begun and aborted, nothing is added */
	CHECK_EQ(store_put(s, STORE_T_USERS, "p", longk, "x", 1, 0), -ENAMETOOLONG);
	CHECK_EQ(store_put(s, STORE_T_USERS, "p", "s", "x", STORE_VAL_MAX + 1, 0), -EMSGSIZE);
	CHECK_EQ(store_put(s, STORE_T_USERS, "p", "s", NULL, 1, 0), -EINVAL);
	CHECK_EQ(store_put(s, STORE_T_USERS, "p", "s", "x", 1, STORE_IF_ABSENT | STORE_IF_EXISTS),
		 -EINVAL);
	CHECK_EQ(store_delete(s, STORE_T_USERS, "p", longk, 0), -ENAMETOOLONG);
	CHECK_EQ(store_delete(s, STORE_T_USERS, "p", "s", STORE_IF_ABSENT), -EINVAL);
	CHECK_EQ(store_update(s, STORE_T_USERS, "p", "s", NULL, NULL), -EINVAL);
	CHECK_EQ(calls[F_BEGIN], 7);
	CHECK_EQ(calls[F_ABORT], 7);

	/* a batch: the first error sticks, later calls and the commit return it */
	CHECK_EQ(store_batch_begin(s, &b), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_USERS, longk, "s", "x", 1, 0), -ENAMETOOLONG);
	CHECK_EQ(store_batch_put(b, STORE_T_USERS, "p", "s", "x", 1, 0), -ENAMETOOLONG);
	CHECK_EQ(store_batch_delete(b, STORE_T_USERS, "p", "s", 0), -ENAMETOOLONG);
	CHECK_EQ(store_batch_update(b, STORE_T_USERS, "p", "s", keep, NULL), -ENAMETOOLONG);
	CHECK_EQ(store_batch_get(b, STORE_T_USERS, "p", "s", &v, &len), -ENAMETOOLONG);
	CHECK_EQ(store_batch_commit(b), -ENAMETOOLONG);

	CHECK_EQ(calls[F_GET], 0);
	CHECK_EQ(calls[F_QUERY], 0);
	CHECK_EQ(calls[F_SCAN], 0);
	CHECK_EQ(calls[F_COPY], 0);
	CHECK_EQ(calls[F_STATS], 0);
	CHECK_EQ(calls[F_PUT], 0);
	CHECK_EQ(calls[F_DELETE], 0);
	CHECK_EQ(calls[F_UPDATE], 0);
	CHECK_EQ(calls[F_BGET], 0);
	CHECK_EQ(calls[F_COMMIT], 0);
	CHECK_EQ(calls[F_BEGIN], 8);
	CHECK_EQ(calls[F_ABORT], 8); /* the failed commit freed the batch through the engine */
}

/* The batch caps are counted by the generic layer, for every engine. */
TEST(test_batch_caps_generic)
{
	struct store *s = fake_open();
	struct store_batch *b = NULL;
	static char val[STORE_VAL_MAX];
	unsigned fit = STORE_BATCH_MAX_BYTES / (STORE_VAL_MAX + 4); /* + "p", 1, "s" */

	CHECK_EQ(store_batch_begin(s, &b), 0);
	for (unsigned i = 0; i < STORE_BATCH_MAX_OPS; i++)
		CHECK_EQ(store_batch_delete(b, STORE_T_USERS, "p", "s", 0), 0);
	CHECK_EQ(store_batch_delete(b, STORE_T_USERS, "p", "s", 0), -E2BIG);
	CHECK_EQ(calls[F_DELETE], (int)STORE_BATCH_MAX_OPS);
	CHECK_EQ(store_batch_commit(b), -E2BIG);
	CHECK_EQ(calls[F_COMMIT], 0);

	/* bytes: values of STORE_VAL_MAX until STORE_BATCH_MAX_BYTES is passed */
	CHECK_EQ(store_batch_begin(s, &b), 0);
	for (unsigned i = 0; i < fit; i++)
		CHECK_EQ(store_batch_put(b, STORE_T_USERS, "p", "s", val, sizeof(val), 0), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_USERS, "p", "s", val, sizeof(val), 0), -E2BIG);
	CHECK_EQ(calls[F_PUT], (int)fit);
	store_batch_abort(b);

	/* store_batch_charge(), for an engine's recorded reads, counts the same way */
	CHECK_EQ(store_batch_begin(s, &b), 0);
	CHECK_EQ(store_batch_charge(b, "p", "s", STORE_BATCH_MAX_BYTES - 3), 0);
	CHECK_EQ(b->nops, 1);
	CHECK_EQ(b->bytes, STORE_BATCH_MAX_BYTES);
	CHECK_EQ(store_batch_charge(b, "p", "s", 0), -E2BIG);
	CHECK_EQ(b->nops, 1);
	store_batch_abort(b);
}

/* An engine's answers: absent is not a failure; an engine error fails the batch. */
TEST(test_engine_results)
{
	struct store *s = fake_open();
	struct store_batch *b = NULL;
	void *v = NULL;
	size_t len = 0;

	/* an empty batch commits without the engine */
	CHECK_EQ(store_batch_begin(s, &b), 0);
	CHECK_EQ(store_batch_commit(b), 0);
	CHECK_EQ(calls[F_COMMIT], 0);
	CHECK_EQ(calls[F_ABORT], 1);

	/* batch_get: 1 (absent) is -ENOENT and the batch goes on */
	bget_result = 1;
	CHECK_EQ(store_batch_begin(s, &b), 0);
	CHECK_EQ(store_batch_get(b, STORE_T_USERS, "p", "s", &v, &len), -ENOENT);
	CHECK(v == NULL);
	CHECK_EQ(store_batch_put(b, STORE_T_USERS, "p", "s", "x", 1, 0), 0);
	CHECK_EQ(store_batch_commit(b), 0);
	CHECK_EQ(calls[F_COMMIT], 1);

	/* an engine error (batch_get's or batch_put's) fails the whole batch */
	bget_result = -EIO;
	CHECK_EQ(store_batch_begin(s, &b), 0);
	CHECK_EQ(store_batch_get(b, STORE_T_USERS, "p", "s", &v, &len), -EIO);
	CHECK_EQ(store_batch_put(b, STORE_T_USERS, "p", "s", "x", 1, 0), -EIO);
	CHECK_EQ(store_batch_commit(b), -EIO);
	CHECK_EQ(calls[F_COMMIT], 1);

	put_result = -ENOMEM;
	CHECK_EQ(store_batch_begin(s, &b), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_USERS, "p", "s", "x", 1, 0), -ENOMEM);
	CHECK_EQ(store_batch_delete(b, STORE_T_USERS, "p", "s", 0), -ENOMEM);
	CHECK_EQ(store_batch_commit(b), -ENOMEM);
	CHECK_EQ(calls[F_COMMIT], 1);
	CHECK_EQ(calls[F_DELETE], 0);
	CHECK_EQ(calls[F_ABORT], 3);
}

int main(void)
{
	RUN(test_lmdb_engine_name);
	RUN(test_dispatch);
	RUN(test_bad_arguments_refused_before_engine);
	RUN(test_batch_caps_generic);
	RUN(test_engine_results);
	return CHECK_DONE();
}
