// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_srv_rekey.c - the master key ring (core/keyprov.c: unwrap by the
 * blob's key id, wrap with the current key) and the rotation on a real
 * LMDB store (model/rekey.c): sealed values stay readable at every step, a
 * pass stopped halfway leaves a store that both keys open and a second
 * pass finishes, DEKs made during the rotation are wrapped by the new key,
 * and afterwards the new key alone opens the store while the old one alone
 * is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "check.h"
#include "core/metrics.h"
#include "core/srv.h"
#include "model/rekey.h"

static char dir[64];

static struct keyprov *key_at(const char *name)
{
	char p[128], why[256];
	struct keyprov *kp = NULL;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (keyprov_file_create(p) || keyprov_file_open(p, &kp, why, sizeof(why)))
		return NULL;
	return kp;
}

static struct keyprov *reopen(const char *name)
{
	char p[128], why[256];
	struct keyprov *kp = NULL;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	keyprov_file_open(p, &kp, why, sizeof(why));
	return kp;
}

/* The key id the DEK of scope is wrapped under, into id ("" when none). */
static void dek_kek(struct srv *s, const char *scope, char id[CRYPTO_ID_MAX + 1])
{
	cJSON *k = NULL;

	id[0] = 0;
	if (!jget(s, STORE_T_KEYS, scope, "dek", &k) && jstr(k, "kek_id"))
		snprintf(id, CRYPTO_ID_MAX + 1, "%s", jstr(k, "kek_id"));
	cJSON_Delete(k);
}

/* Seal "secret-<i>" in CONFIG under scope "node:n_<i>". */
static int put_secret(struct srv *s, int i)
{
	char scope[32], aad[64], pt[32];
	struct store_batch *b;
	int ret;

	snprintf(scope, sizeof(scope), "node:n_%04d", i);
	snprintf(aad, sizeof(aad), "test|%s", scope);
	snprintf(pt, sizeof(pt), "secret-%d", i);
	ret = store_batch_begin(s->st, &b);
	if (!ret)
		ret = sealed_put(s, b, STORE_T_CONFIG, scope, "config", scope, aad, pt, strlen(pt));
	if (!ret)
		ret = store_batch_commit(b);
	else
		store_batch_abort(b);
	return ret;
}

/* 1 when every secret 0..n-1 reads back. */
static int all_secrets(struct srv *s, int n)
{
	char scope[32], aad[64], want[32];
	uint8_t *pt;
	size_t len;
	int i, ok = 1;

	for (i = 0; i < n; i++) {
		snprintf(scope, sizeof(scope), "node:n_%04d", i);
		snprintf(aad, sizeof(aad), "test|%s", scope);
		snprintf(want, sizeof(want), "secret-%d", i);
		if (sealed_get(s, STORE_T_CONFIG, scope, "config", scope, aad, &pt, &len)) {
			ok = 0;
			continue;
		}
		ok &= len == strlen(want) && !memcmp(pt, want, len);
		crypto_free(pt, len);
	}
	return ok;
}

TEST(ring)
{
	struct keyprov *a = key_at("ring-a"), *b = key_at("ring-b"), *b2 = reopen("ring-b");
	uint8_t ka[KEK_LEN], kb[KEK_LEN], k[KEK_LEN], dek[CRYPTO_KEY_LEN], out[CRYPTO_KEY_LEN];
	uint8_t blob[DEK_BLOB_MAX];
	const char *ids[KEYPROV_RING_MAX];
	char id[CRYPTO_ID_MAX + 1], ida[KEYPROV_ID_MAX + 1], idb[KEYPROV_ID_MAX + 1];
	size_t blen;

	CHECK(a && b && b2);
	snprintf(ida, sizeof(ida), "%s", keyprov_key_id(a));
	snprintf(idb, sizeof(idb), "%s", keyprov_key_id(b));
	CHECK(strcmp(ida, idb) != 0);
	CHECK_EQ(keyprov_get_kek(a, ka), 0);
	CHECK_EQ(keyprov_get_kek(b, kb), 0);
	CHECK_EQ(keyprov_ring_add(a, b), 0);
	CHECK_EQ(keyprov_ring_add(a, b2), 0); /* the same id again: dropped */
	CHECK_EQ(keyprov_ids(a, ids, KEYPROV_RING_MAX), 2);
	CHECK_STR(ids[0], ida); /* the current key first */
	CHECK_STR(ids[1], idb);
	CHECK_STR(keyprov_key_id(a), ida);
	/* get_kek is the current key; by id each key */
	CHECK_EQ(keyprov_get_kek(a, k), 0);
	CHECK(!memcmp(k, ka, KEK_LEN));
	CHECK_EQ(keyprov_get_kek_by_id(a, idb, k), 0);
	CHECK(!memcmp(k, kb, KEK_LEN));
	CHECK_EQ(keyprov_get_kek_by_id(a, "file:0000000000000000", k), -ENOKEY);
	/* ids are labels: the same key under another engine's prefix is found */
	{
		char moved[KEYPROV_ID_MAX + 1];

		snprintf(moved, sizeof(moved), "aws:%s", strchr(idb, ':') + 1);
		CHECK_EQ(keyprov_get_kek_by_id(a, moved, k), 0);
		CHECK(!memcmp(k, kb, KEK_LEN));
		CHECK(keyprov_id_eq(moved, idb));
		CHECK(!keyprov_id_eq(moved, ida));
	}
	CHECK(keyprov_has(a, idb));
	CHECK(!keyprov_has(a, "file:0000000000000000"));
	/* a DEK wrapped under b opens with the key its blob names */
	CHECK_EQ(dek_new(dek), 0);
	CHECK_EQ(dek_wrap(kb, idb, dek, blob, &blen), 0);
	CHECK_EQ(crypto_blob_key_id(blob, blen, id), 0);
	CHECK_STR(id, idb);
	CHECK_EQ(keyprov_get_kek_by_id(a, id, k), 0);
	CHECK_EQ(dek_unwrap(k, blob, blen, out), 0);
	CHECK(!memcmp(out, dek, CRYPTO_KEY_LEN));
	CHECK_EQ(dek_unwrap(ka, blob, blen, out), -EBADMSG);
	/* the cap on the ring */
	for (int i = 0; i < KEYPROV_RING_MAX - 2; i++) {
		char n[24];

		snprintf(n, sizeof(n), "ring-%d", i);
		CHECK_EQ(keyprov_ring_add(a, key_at(n)), 0);
	}
	CHECK_EQ(keyprov_ids(a, ids, KEYPROV_RING_MAX), KEYPROV_RING_MAX);
	CHECK_EQ(keyprov_ring_add(a, key_at("ring-over")), -E2BIG);
	CHECK_EQ(keyprov_ids(a, ids, KEYPROV_RING_MAX), KEYPROV_RING_MAX);
	keyprov_free(a);
}

/* Stop the pass after `left` batches. */
static int stop_after(const struct rekey_progress *p, void *ctx)
{
	(void)p;
	return --*(int *)ctx <= 0;
}

#define N_SECRETS 12

TEST(rotation)
{
	struct keyprov *a = key_at("a.key"), *b = key_at("b.key"), *ring, *only;
	struct rekey_count c[REKEY_COUNT_MAX];
	struct rekey_progress p;
	struct kek_state ks;
	struct store *st = NULL;
	struct srv s;
	char ida[KEYPROV_ID_MAX + 1], idb[KEYPROV_ID_MAX + 1], id[CRYPTO_ID_MAX + 1], why[512];
	uint64_t other;
	size_t n;
	int i, left, under_a = 0, under_b = 0;

	CHECK(a && b);
	snprintf(ida, sizeof(ida), "%s", keyprov_key_id(a));
	snprintf(idb, sizeof(idb), "%s", keyprov_key_id(b));
	CHECK_EQ(store_open_lmdb(&st, dir, NULL), 0);
	CHECK_EQ(srv_init(&s, st, a, NULL), 0);
	CHECK_EQ(srv_bootstrap(&s, "Acme", "admin@example.com", "correct horse"), 0);
	for (i = 0; i < N_SECRETS; i++)
		CHECK_EQ(put_secret(&s, i), 0);
	CHECK(all_secrets(&s, N_SECRETS));
	CHECK_EQ(srv_key_check(&s, why, sizeof(why)), 0);
	/* without b in the ring, no rotation to it */
	CHECK_EQ(rekey_begin(&s, idb, false, "test", &ks), -ENOKEY);

	/* the ring a + b; a rotation to b */
	CHECK_EQ(keyprov_ring_add(a, b), 0);
	CHECK_EQ(rekey_begin(&s, idb, false, "test", &ks), 0);
	CHECK_STR(ks.current, idb);
	CHECK_STR(ks.from, ida);
	CHECK(ks.started > 0);
	CHECK_EQ(rekey_begin(&s, idb, false, "test", &ks), 1); /* resumed */
	CHECK_EQ(rekey_begin(&s, ida, false, "test", &ks), -EBUSY);
	/* a DEK made now is wrapped by b at once */
	CHECK_EQ(put_secret(&s, N_SECRETS), 0);
	dek_kek(&s, "node:n_0012", id);
	CHECK_STR(id, idb);
	/* stopped after two batches of 3 */
	left = 2;
	CHECK_EQ(rekey_pass(&s, 3, stop_after, &left, NULL, &p, why, sizeof(why)), -ECANCELED);
	CHECK_EQ(p.batches, 2);
	CHECK_EQ(p.rewrapped, 6);
	CHECK(all_secrets(&s, N_SECRETS + 1));
	CHECK_EQ(srv_kek_state(&s, &ks), 0);
	CHECK(ks.started > 0);
	CHECK_EQ(ks.rewrapped, 6);
	CHECK_EQ(rekey_finish(&s, &p, why, sizeof(why)), -EBUSY);
	CHECK_EQ(rekey_count(&s, c, &n, &other), 0);
	for (size_t k = 0; k < n; k++) {
		if (!strcmp(c[k].id, ida))
			under_a = (int)c[k].items;
		if (!strcmp(c[k].id, idb))
			under_b = (int)c[k].items;
	}
	/* 12 + the store's check DEK; 6 moved, 1 made under b */
	CHECK_EQ(under_a, N_SECRETS + 1 - 6);
	CHECK_EQ(under_b, 7);
	CHECK_EQ(metrics_get(METRIC_KEY_STALE_ITEMS), N_SECRETS + 1 - 6);
	CHECK_EQ(srv_key_check(&s, why, sizeof(why)), 0);
	srv_fini(&s);

	/* "after a crash": a new context on the same store with the ring; a
	 * second pass finishes */
	CHECK_EQ(srv_init(&s, st, a, NULL), 0);
	CHECK_EQ(rekey_begin(&s, idb, false, "test", &ks), 1);
	CHECK_EQ(rekey_pass(&s, 3, NULL, NULL, NULL, &p, why, sizeof(why)), 0);
	CHECK_EQ(p.rewrapped, N_SECRETS + 1 - 6);
	CHECK_EQ(p.left, 0);
	CHECK_EQ(rekey_finish(&s, &p, why, sizeof(why)), 0);
	CHECK_EQ(srv_kek_state(&s, &ks), 0);
	CHECK_EQ(ks.started, 0);
	CHECK_STR(ks.current, idb);
	CHECK(ks.rotated > 0);
	CHECK_EQ(rekey_finish(&s, &p, why, sizeof(why)), -EINVAL);
	CHECK(all_secrets(&s, N_SECRETS + 1));
	srv_fini(&s);

	/* b alone opens the store; a alone is refused, naming the current key */
	only = reopen("b.key");
	CHECK_EQ(srv_init(&s, st, only, NULL), 0);
	CHECK_EQ(srv_key_check(&s, why, sizeof(why)), 0);
	CHECK(all_secrets(&s, N_SECRETS + 1));
	CHECK_EQ(put_secret(&s, N_SECRETS + 1), 0);
	dek_kek(&s, "node:n_0013", id);
	CHECK_STR(id, idb);
	srv_fini(&s);
	keyprov_free(only);
	only = reopen("a.key");
	CHECK_EQ(srv_init(&s, st, only, NULL), 0);
	CHECK_EQ(srv_key_check(&s, why, sizeof(why)), -EKEYREJECTED);
	CHECK(strstr(why, "does not open the store's data key") != NULL);
	CHECK(strstr(why, idb) != NULL);
	CHECK(strstr(why, "retired") != NULL);
	/* and it wraps no new DEK under a: the store's current key is b */
	CHECK_EQ(put_secret(&s, N_SECRETS + 2), -ENOKEY);
	srv_fini(&s);
	keyprov_free(only);
	ring = a;
	keyprov_free(ring);
	store_close(st);
}

/* Re-wrap speed on this machine: figures for docs (no assertion on time). */
TEST(speed)
{
	struct keyprov *a = key_at("s-a.key"), *b = key_at("s-b.key");
	struct rekey_progress p;
	struct kek_state ks;
	struct store *st = NULL;
	struct timespec t0, t1;
	struct srv s;
	char sdir[80], why[256];
	int i;

	snprintf(sdir, sizeof(sdir), "%s/speed", dir);
	mkdir(sdir, 0700);
	CHECK(a && b);
	CHECK_EQ(store_open_lmdb(&st, sdir, NULL), 0);
	CHECK_EQ(srv_init(&s, st, a, NULL), 0);
	for (i = 0; i < 1000; i++)
		CHECK_EQ(put_secret(&s, i), 0);
	CHECK_EQ(keyprov_ring_add(a, b), 0);
	CHECK_EQ(rekey_begin(&s, keyprov_key_id(b), false, "test", &ks), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(rekey_pass(&s, REKEY_BATCH_DEFAULT, NULL, NULL, NULL, &p, why, sizeof(why)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK_EQ(p.rewrapped, 1000);
	CHECK_EQ(rekey_finish(&s, &p, why, sizeof(why)), 0);
	CHECK(all_secrets(&s, 1000));
	printf("  re-wrap: %llu DEKs in %llu batches of %d: %.3f s\n",
	       (unsigned long long)p.rewrapped, (unsigned long long)p.batches, REKEY_BATCH_DEFAULT,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	srv_fini(&s);
	keyprov_free(a);
	store_close(st);
}

int main(void)
{
	check_mkdtemp(dir, sizeof(dir), "rekey");
	RUN(ring);
	RUN(rotation);
	RUN(speed);
	CHECK_EQ(check_rmtree(dir), 0);
	return CHECK_DONE();
}
