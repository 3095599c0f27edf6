// SPDX-License-Identifier: BSD-2-Clause
/*
 * rekey.c - master key rotation: the key state, the re-wrap passes, the
 * counts by key id and the server's background re-wrap. Contract and state
 * machine: rekey.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "core/metrics.h"
#include "log.h"
#include "model/rekey.h"
#include "store/keys.h"
#include "util.h"

#define REKEY_RETRIES 8 /* one batch redone at most this often */

/* The key id a KEYS item's blob names into id. 0 or -EBADMSG. */
static int item_kek_id(const cJSON *k, char id[CRYPTO_ID_MAX + 1])
{
	uint8_t blob[DEK_BLOB_MAX];
	const char *w = jstr(k, "wrapped");
	size_t blen;

	if (!w || sodium_base642bin(blob, sizeof(blob), w, strlen(w), NULL, &blen, NULL,
				    sodium_base64_VARIANT_ORIGINAL))
		return -EBADMSG;
	return crypto_blob_key_id(blob, blen, id);
}

/* The key that wraps new DEKs when the state names none: the ring's. */
static void ring_current(struct srv *s, char id[KEYPROV_ID_MAX + 1])
{
	char ids[1][KEYPROV_ID_MAX + 1];

	id[0] = 0;
	if (srv_key_ids(s, ids, 1))
		strcpy(id, ids[0]);
}

/* --- counts --- */

struct count_ctx {
	struct rekey_count *c;
	size_t n;
	uint64_t other;
};

static int count_item(const char *pk, const char *sk, const void *val, size_t len, void *arg)
{
	struct count_ctx *x = arg;
	char id[CRYPTO_ID_MAX + 1];
	cJSON *j;
	size_t i;

	(void)pk;
	if (strcmp(sk, SK_DEK))
		return 0;
	j = cJSON_ParseWithLength(val, len);
	if (!j || item_kek_id(j, id))
		snprintf(id, sizeof(id), "?");
	cJSON_Delete(j);
	for (i = 0; i < x->n; i++)
		if (!strcmp(x->c[i].id, id)) {
			x->c[i].items++;
			return 0;
		}
	if (x->n == REKEY_COUNT_MAX) {
		x->other++;
		return 0;
	}
	snprintf(x->c[x->n].id, sizeof(x->c[x->n].id), "%s", id);
	x->c[x->n++].items = 1;
	return 0;
}

int rekey_count(struct srv *s, struct rekey_count *c, size_t *n, uint64_t *other)
{
	struct count_ctx x = {.c = c};
	struct kek_state ks;
	char cur[KEYPROV_ID_MAX + 1];
	uint64_t stale;
	size_t i;
	int ret;

	*n = 0;
	*other = 0;
	ret = srv_kek_state(s, &ks);
	if (ret)
		return ret;
	ret = store_scan(s->st, STORE_T_KEYS, count_item, &x);
	if (ret < 0)
		return ret;
	if (ks.current[0])
		strcpy(cur, ks.current);
	else
		ring_current(s, cur);
	stale = x.other;
	for (i = 0; i < x.n; i++)
		if (!keyprov_id_eq(c[i].id, cur))
			stale += c[i].items;
	metrics_set(METRIC_KEY_STALE_ITEMS, (int64_t)stale);
	*n = x.n;
	*other = x.other;
	return 0;
}

int rekey_report(struct srv *s, cJSON **out)
{
	char ids[KEYPROV_RING_MAX][KEYPROV_ID_MAX + 1], cur[KEYPROV_ID_MAX + 1], ts[40];
	struct rekey_count c[REKEY_COUNT_MAX];
	bool listed[REKEY_COUNT_MAX] = {0};
	struct kek_state ks;
	uint64_t other, stale;
	size_t n, nr, i, k;
	cJSON *o, *keys, *e, *rot;
	int ret;

	*out = NULL;
	ret = srv_kek_state(s, &ks);
	if (!ret)
		ret = rekey_count(s, c, &n, &other);
	if (ret)
		return ret;
	nr = srv_key_ids(s, ids, KEYPROV_RING_MAX);
	if (nr > KEYPROV_RING_MAX)
		nr = KEYPROV_RING_MAX;
	if (ks.current[0])
		strcpy(cur, ks.current);
	else
		snprintf(cur, sizeof(cur), "%s", nr ? ids[0] : "");
	o = cJSON_CreateObject();
	keys = cJSON_AddArrayToObject(o, "keys");
	if (!o || !keys) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	cJSON_AddStringToObject(o, "current", cur);
	stale = other;
	for (i = 0; i < nr + n; i++) {
		const char *id = i < nr ? ids[i] : c[i - nr].id;
		uint64_t items = 0;

		if (i >= nr && listed[i - nr])
			continue;
		for (k = 0; k < n; k++)
			if (keyprov_id_eq(c[k].id, id)) {
				items += c[k].items;
				listed[k] = true;
			}
		if (!keyprov_id_eq(id, cur))
			stale += items;
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "id", id);
		cJSON_AddBoolToObject(e, "current", keyprov_id_eq(id, cur));
		cJSON_AddBoolToObject(e, "loaded", i < nr);
		cJSON_AddNumberToObject(e, "items", (double)items);
		cJSON_AddItemToArray(keys, e);
	}
	cJSON_AddNumberToObject(o, "other_items", (double)other);
	cJSON_AddNumberToObject(o, "stale_items", (double)stale);
	if (ks.started) {
		rot = cJSON_AddObjectToObject(o, "rotation");
		cJSON_AddStringToObject(rot, "from", ks.from);
		cJSON_AddStringToObject(rot, "to", ks.current);
		cJSON_AddStringToObject(rot, "started", rfc3339_ms(ks.started, ts));
		cJSON_AddNumberToObject(rot, "rewrapped", (double)ks.rewrapped);
	} else {
		cJSON_AddNullToObject(o, "rotation");
	}
	if (ks.rotated)
		cJSON_AddStringToObject(o, "rotated", rfc3339_ms(ks.rotated, ts));
	else
		cJSON_AddNullToObject(o, "rotated");
	*out = o;
	return 0;
}

/* --- start --- */

int rekey_begin(struct srv *s, const char *to, bool force, const char *by, struct kek_state *st)
{
	struct rekey_count c[REKEY_COUNT_MAX];
	struct store_batch *b = NULL;
	struct kek_state ks;
	cJSON *state = NULL, *j = NULL, *d = NULL;
	uint8_t kek[KEK_LEN];
	uint64_t other, most = 0;
	size_t n, i;
	int ret;

	ret = srv_kek_by_id(s, to, kek);
	crypto_wipe(kek, sizeof(kek));
	if (ret)
		return ret;
	ret = store_batch_begin(s->st, &b);
	if (ret)
		return ret;
	ret = jbget(b, STORE_T_META, KEY_META_PK, KEY_KEK_SK, &state);
	if (ret && ret != -ENOENT)
		goto out;
	kek_state_parse(ret ? NULL : state, &ks);
	if (ks.started && keyprov_id_eq(ks.current, to)) {
		*st = ks;
		ret = 1;
		goto out;
	}
	if (ks.started && !force) {
		ret = -EBUSY;
		*st = ks;
		goto out;
	}
	/* from: the key new DEKs were wrapped by, else the one most DEKs are under */
	if (ks.current[0] && !keyprov_id_eq(ks.current, to)) {
		snprintf(ks.from, sizeof(ks.from), "%s", ks.current);
	} else {
		snprintf(ks.from, sizeof(ks.from), "%s", to);
		ret = rekey_count(s, c, &n, &other);
		for (i = 0; !ret && i < n; i++)
			if (!keyprov_id_eq(c[i].id, to) && c[i].items > most) {
				most = c[i].items;
				memcpy(ks.from, c[i].id, sizeof(ks.from));
			}
		if (ret)
			goto out;
	}
	snprintf(ks.current, sizeof(ks.current), "%s", to);
	ks.started = now_ms();
	ks.rewrapped = 0;
	j = kek_state_json(&ks);
	d = cJSON_CreateObject();
	if (!j || !d || !cJSON_AddStringToObject(d, "from", ks.from) ||
	    !cJSON_AddStringToObject(d, "to", to) || !cJSON_AddStringToObject(d, "by", by)) {
		ret = -ENOMEM;
		goto out;
	}
	ret = jput(b, STORE_T_META, KEY_META_PK, KEY_KEK_SK, j, 0);
	if (!ret)
		ret = audit_put(b, NULL, NULL, "key.rotate.start", ROOT_ID, to, "ok", d);
	if (!ret) {
		ret = store_batch_commit(b);
		b = NULL;
	}
	if (!ret)
		*st = ks;
out:
	store_batch_abort(b);
	cJSON_Delete(state);
	cJSON_Delete(j);
	cJSON_Delete(d);
	return ret;
}

/* --- the passes --- */

struct collect {
	char cur[KEYPROV_ID_MAX + 1];
	char (*pk)[STORE_KEY_MAX + 1];
	size_t n;
};

static int collect_item(const char *pk, const char *sk, const void *val, size_t len, void *arg)
{
	struct collect *c = arg;
	char id[CRYPTO_ID_MAX + 1];
	cJSON *j;
	int stale;

	if (strcmp(sk, SK_DEK))
		return 0;
	j = cJSON_ParseWithLength(val, len);
	stale = !j || item_kek_id(j, id) || !keyprov_id_eq(id, c->cur);
	cJSON_Delete(j);
	if (!stale)
		return 0;
	snprintf(c->pk[c->n++], STORE_KEY_MAX + 1, "%s", pk);
	return c->n == REKEY_SCAN_MAX; /* stop: the next scan takes the rest */
}

/*
 * One batch: re-wrap the DEKs of scopes pk[0..n) that are not under ks's
 * current key and add their count to the state. *done gets that count.
 * 0, -EAGAIN (something read changed: redo), -ENOKEY/-EBADMSG with why.
 */
static int rewrap_batch(struct srv *s, const struct kek_state *want, char (*pk)[STORE_KEY_MAX + 1],
			size_t n, uint64_t *done, char *why, size_t why_len)
{
	char b64[sodium_base64_ENCODED_LEN(DEK_BLOB_MAX, sodium_base64_VARIANT_ORIGINAL)];
	uint8_t old[KEK_LEN], cur[KEK_LEN], blob[DEK_BLOB_MAX], out[DEK_BLOB_MAX];
	char id[CRYPTO_ID_MAX + 1];
	struct store_batch *b = NULL;
	struct kek_state ks;
	cJSON *state = NULL, *k = NULL, *sj = NULL;
	size_t i, blen, olen;
	uint64_t m = 0;
	int ret;

	*done = 0;
	ret = srv_kek_by_id(s, want->current, cur);
	if (ret) {
		snprintf(why, why_len, "the current master key %s is not loaded", want->current);
		return ret;
	}
	ret = store_batch_begin(s->st, &b);
	if (ret)
		goto out;
	ret = jbget(b, STORE_T_META, KEY_META_PK, KEY_KEK_SK, &state);
	kek_state_parse(ret ? NULL : state, &ks);
	if (ret && ret != -ENOENT)
		goto out;
	if (!ks.started || strcmp(ks.current, want->current)) {
		snprintf(why, why_len, "the key state changed: %s",
			 ks.started ? "another rotation started" : "the rotation ended");
		ret = -ESTALE;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const char *w;

		cJSON_Delete(k);
		k = NULL;
		ret = jbget(b, STORE_T_KEYS, pk[i], SK_DEK, &k);
		if (ret == -ENOENT)
			continue;
		if (ret)
			goto out;
		w = jstr(k, "wrapped");
		ret = -EBADMSG;
		if (!w ||
		    sodium_base642bin(blob, sizeof(blob), w, strlen(w), NULL, &blen, NULL,
				      sodium_base64_VARIANT_ORIGINAL) ||
		    crypto_blob_key_id(blob, blen, id)) {
			snprintf(why, why_len, "the data key of '%s' is not a wrapped key", pk[i]);
			goto out;
		}
		if (keyprov_id_eq(id, ks.current))
			continue; /* done meanwhile (made under the new key, or by a re-run) */
		ret = srv_kek_by_id(s, id, old);
		if (!ret)
			ret = crypto_rewrap(old, cur, ks.current, blob, blen, out, &olen);
		crypto_wipe(old, sizeof(old));
		if (ret) {
			snprintf(
			    why, why_len,
			    "the data key of '%s' is wrapped under key id %s, which %s", pk[i], id,
			    ret == -ENOKEY ? "this key ring does not hold" : "does not open it");
			goto out;
		}
		sodium_bin2base64(b64, sizeof(b64), out, olen, sodium_base64_VARIANT_ORIGINAL);
		cJSON_DeleteItemFromObjectCaseSensitive(k, "wrapped");
		cJSON_DeleteItemFromObjectCaseSensitive(k, "kek_id");
		if (!cJSON_AddStringToObject(k, "wrapped", b64) ||
		    !cJSON_AddStringToObject(k, "kek_id", ks.current)) {
			ret = -ENOMEM;
			goto out;
		}
		ret = jput(b, STORE_T_KEYS, pk[i], SK_DEK, k, 0);
		if (ret)
			goto out;
		m++;
	}
	ks.rewrapped += (int64_t)m;
	sj = kek_state_json(&ks);
	ret = sj ? jput(b, STORE_T_META, KEY_META_PK, KEY_KEK_SK, sj, 0) : -ENOMEM;
	if (!ret) {
		ret = store_batch_commit(b);
		b = NULL;
	}
	if (!ret)
		*done = m;
out:
	store_batch_abort(b);
	crypto_wipe(cur, sizeof(cur));
	crypto_wipe(blob, sizeof(blob));
	crypto_wipe(out, sizeof(out));
	cJSON_Delete(state);
	cJSON_Delete(k);
	cJSON_Delete(sj);
	return ret;
}

int rekey_pass(struct srv *s, unsigned batch, rekey_batch_fn fn, void *ctx, const atomic_bool *stop,
	       struct rekey_progress *p, char *why, size_t why_len)
{
	struct collect c = {0};
	struct kek_state ks;
	size_t i, k;
	uint64_t done;
	int ret, tries;

	memset(p, 0, sizeof(*p));
	snprintf(why, why_len, "ok");
	if (!batch || batch > REKEY_BATCH_MAX)
		return -EINVAL;
	ret = srv_kek_state(s, &ks);
	if (ret)
		return ret;
	if (!ks.started) {
		snprintf(why, why_len, "no rotation in progress");
		return -EINVAL;
	}
	c.pk = malloc(sizeof(*c.pk) * REKEY_SCAN_MAX);
	if (!c.pk)
		return -ENOMEM;
	snprintf(c.cur, sizeof(c.cur), "%s", ks.current);
	for (;;) {
		c.n = 0;
		ret = store_scan(s->st, STORE_T_KEYS, collect_item, &c);
		if (ret < 0)
			break;
		ret = 0;
		p->left = c.n;
		metrics_set(METRIC_KEY_STALE_ITEMS, (int64_t)c.n);
		if (!c.n)
			break;
		for (i = 0; i < c.n && !ret; i += k) {
			k = c.n - i < batch ? c.n - i : batch;
			if (stop && atomic_load(stop)) {
				ret = -ECANCELED;
				break;
			}
			for (tries = 0;; tries++) {
				ret = rewrap_batch(s, &ks, c.pk + i, k, &done, why, why_len);
				if (ret != -EAGAIN || tries == REKEY_RETRIES)
					break;
				p->retries++;
			}
			if (ret == -ESTALE)
				ret = -EAGAIN;
			if (ret)
				break;
			p->batches++;
			p->rewrapped += done;
			p->left -= k;
			metrics_add(METRIC_KEY_REWRAPPED, done);
			metrics_set(METRIC_KEY_STALE_ITEMS, (int64_t)p->left);
			if (fn && fn(p, ctx))
				ret = -ECANCELED;
		}
		if (ret)
			break;
	}
	free(c.pk);
	if (!ret) {
		cJSON *d = cJSON_CreateObject();

		cJSON_AddStringToObject(d, "to", ks.current);
		cJSON_AddNumberToObject(d, "batches", (double)p->batches);
		cJSON_AddNumberToObject(d, "rewrapped", (double)p->rewrapped);
		cJSON_AddNumberToObject(d, "retries", (double)p->retries);
		audit_commit(s, NULL, NULL, "key.rotate.rewrap", ROOT_ID, ks.current, "ok", d);
		cJSON_Delete(d);
	}
	return ret;
}

/* --- the end --- */

int rekey_finish(struct srv *s, const struct rekey_progress *p, char *why, size_t why_len)
{
	struct rekey_count c[REKEY_COUNT_MAX];
	struct store_batch *b = NULL;
	struct kek_state ks;
	cJSON *state = NULL, *j = NULL, *d = NULL;
	uint64_t other, left = 0;
	int64_t started;
	char from[KEYPROV_ID_MAX + 1];
	size_t n, i;
	int ret;

	snprintf(why, why_len, "ok");
	ret = store_batch_begin(s->st, &b);
	if (ret)
		return ret;
	ret = jbget(b, STORE_T_META, KEY_META_PK, KEY_KEK_SK, &state);
	kek_state_parse(ret ? NULL : state, &ks);
	if (ret && ret != -ENOENT)
		goto out;
	ret = -EINVAL;
	if (!ks.started) {
		snprintf(why, why_len, "no rotation in progress");
		goto out;
	}
	ret = rekey_count(s, c, &n, &other);
	if (ret)
		goto out;
	left = other;
	for (i = 0; i < n; i++)
		if (!keyprov_id_eq(c[i].id, ks.current))
			left += c[i].items;
	if (left) {
		snprintf(why, why_len, "%llu data keys are still under another key than %s",
			 (unsigned long long)left, ks.current);
		ret = -EBUSY;
		goto out;
	}
	snprintf(from, sizeof(from), "%s", ks.from);
	started = ks.started;
	ks.from[0] = 0;
	ks.started = 0;
	ks.rotated = now_ms();
	j = kek_state_json(&ks);
	d = cJSON_CreateObject();
	if (!j || !d) {
		ret = -ENOMEM;
		goto out;
	}
	cJSON_AddStringToObject(d, "from", from);
	cJSON_AddStringToObject(d, "to", ks.current);
	cJSON_AddNumberToObject(d, "rewrapped_total", (double)(ks.rewrapped));
	if (p) {
		cJSON_AddNumberToObject(d, "batches", (double)p->batches);
		cJSON_AddNumberToObject(d, "rewrapped", (double)p->rewrapped);
	}
	cJSON_AddNumberToObject(d, "duration_ms", (double)(ks.rotated - started));
	ret = jput(b, STORE_T_META, KEY_META_PK, KEY_KEK_SK, j, 0);
	if (!ret)
		ret = audit_put(b, NULL, NULL, "key.rotate.finish", ROOT_ID, ks.current, "ok", d);
	if (!ret) {
		ret = store_batch_commit(b);
		b = NULL;
	}
	if (!ret)
		metrics_add(METRIC_KEY_ROTATIONS, 1);
out:
	store_batch_abort(b);
	cJSON_Delete(state);
	cJSON_Delete(j);
	cJSON_Delete(d);
	return ret;
}

/* --- the background re-wrap --- */

struct rekey_sched {
	struct srv *s;
	unsigned batch;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, kicked;
	atomic_bool stopping;
};

/* One look: rotate to the ring's current key when the store is not all
 * under it. Logs the result. */
static void sched_run(struct rekey_sched *r)
{
	struct rekey_count c[REKEY_COUNT_MAX];
	struct rekey_progress p = {0};
	struct kek_state ks;
	char cur[KEYPROV_ID_MAX + 1], why[512] = "";
	uint64_t other, stale;
	size_t n, i;
	int ret;

	ring_current(r->s, cur);
	ret = srv_kek_state(r->s, &ks);
	if (!ret)
		ret = rekey_count(r->s, c, &n, &other);
	if (ret) {
		log_err("event=key_rewrap_failed err=\"%s\"", strerror(-ret));
		return;
	}
	stale = other;
	for (i = 0; i < n; i++)
		if (!keyprov_id_eq(c[i].id, cur))
			stale += c[i].items;
	if (!ks.started && !stale && (!ks.current[0] || keyprov_id_eq(ks.current, cur)))
		return;
	ret = rekey_begin(r->s, cur, true, "aws-sm", &ks);
	if (ret >= 0) {
		log_notice("event=key_rewrap_started from=%s to=%s resumed=%d", ks.from, cur, ret);
		ret = rekey_pass(r->s, r->batch, NULL, NULL, &r->stopping, &p, why, sizeof(why));
	}
	if (!ret)
		ret = rekey_finish(r->s, &p, why, sizeof(why));
	if (ret)
		log_err("event=key_rewrap_failed to=%s rewrapped=%llu err=\"%s\" reason=\"%s\"",
			cur, (unsigned long long)p.rewrapped, strerror(-ret), why);
	else
		log_notice("event=key_rewrap_done to=%s batches=%llu rewrapped=%llu retries=%llu",
			   cur, (unsigned long long)p.batches, (unsigned long long)p.rewrapped,
			   (unsigned long long)p.retries);
}

static void *sched_main(void *arg)
{
	struct rekey_sched *r = arg;

	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		while (!r->stop && !r->kicked)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop)
			break;
		r->kicked = false;
		pthread_mutex_unlock(&r->mu);
		sched_run(r);
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int rekey_sched_start(struct srv *s, unsigned batch, struct rekey_sched **out)
{
	struct rekey_sched *r;
	int ret;

	*out = NULL;
	if (!batch || batch > REKEY_BATCH_MAX)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->s = s;
	r->batch = batch;
	atomic_init(&r->stopping, false);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	ret = pthread_create(&r->th, NULL, sched_main, r);
	if (ret) {
		pthread_cond_destroy(&r->cv);
		pthread_mutex_destroy(&r->mu);
		free(r);
		return -ret;
	}
	*out = r;
	return 0;
}

void rekey_sched_kick(struct rekey_sched *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->kicked = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

void rekey_sched_stop(struct rekey_sched *r)
{
	if (!r)
		return;
	atomic_store(&r->stopping, true);
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->th, NULL);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
