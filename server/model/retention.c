// SPDX-License-Identifier: BSD-2-Clause
/*
 * retention.c - enforcing `retention.days`: a sweep deletes the raw records,
 * rollups and screenshots (rows and S3 objects) of every UTC day strictly
 * before the day of (now - retention.days), per team; a thread runs it
 * every --retention-interval seconds, and POST /api/v1/admin/retention/run
 * runs it on demand (store.admin on root). See docs/ARCHITECTURE.md
 * (Retention) and docs/API.md.
 *
 * Whose data: the organisation tree is walked from the root to every team;
 * a team's effective retention.days (its config, inherited from above; a
 * user-level value is ignored: retention is a team policy) applies to
 *  - every device of the team (DEVICES "team|<team>"): its records, its
 *    "dev|" rollups and its "dev|" screenshots (no user known),
 *  - every user of the team (USERS "team|<team>"): their "user|" rollups and
 *    "user|" screenshots,
 *  - the team's "team|" app rollups.
 * Partitions are found through the day indexes written with the data
 * (RECORDS "days|<device>" sk "<day>|<type>", ROLLUPS "days|<kind>|<id>" sk
 * "<day>": model/ingest.c; SCREENSHOTS "days|user|<uid>" / "days|dev|<did>"
 * sk "<day>": model/shots.c), so no table is scanned. Data stored before those
 * indexes existed is not found.
 *
 * One partition: every item is deleted (batches of at most
 * RETENTION_BATCH_OPS deletes, the DynamoDB transaction size), then the
 * index item, then the partition is read again: when something arrived
 * meanwhile (ingest of an old day) the index item is put back, so the next
 * sweep finds it. Ingest writes an index item with or after its data, so
 * an index item deleted here is put again by any later write. (An engine
 * must therefore not apply a batch's unconditional puts before its
 * conditional part: the rollups' index items ride in the commit of the
 * rollup updates. LMDB applies a batch in one transaction.) A
 * screenshot's object is deleted in S3 first, with the sealed settings it
 * was written with (SCREENSHOTS "s3|<key>"); then its four rows (listing,
 * shot, key, settings) go in one batch. An S3 failure keeps the rows, is
 * counted (s3_errors) and retried at the next sweep.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/config.h"
#include "log.h"
#include "s3.h"
#include "model/s3set.h"
#include "store/keys.h"
#include "core/srv.h"
#include "model/retention.h"
#include "util.h"

#define DAY_MS 86400000LL
#define DAYS_DEFAULT 365
#define DAYS_MAX 3650
#define NODE_WALK_MAX 100000  /* nodes of the tree visited per sweep */
#define MEMBERS_MAX 100000    /* users or devices of one team */
#define INDEX_MAX 100000      /* expired index items of one owner per sweep */
#define SHOTS_DAY_MAX 100000  /* listing rows of one owner and day per sweep */
#define KEY_MAX 1024	      /* an S3 key we accept from a shot item */
#define STR_SIZE 64	      /* ids and index sort keys */
#define FIRST_DELAY_MAX_S 10u /* the first sweep after start */
#define S3_TIMEOUT_MS 30000   /* one DELETE */

static pthread_mutex_t sweep_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool stopping; /* retention_stop(): end a sweep between partitions */

/* --- lists of short strings --- */

struct strs {
	char (*v)[STR_SIZE];
	size_t n, cap, max;
	bool over;
	const char *below; /* when set: only sort keys whose first 10 bytes sort below it */
};

static void strs_free(struct strs *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static int strs_add(struct strs *l, const char *v)
{
	if (strlen(v) >= STR_SIZE)
		return 0; /* not one of ours */
	if (l->n >= l->max) {
		l->over = true;
		return 1;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char(*n)[STR_SIZE] = realloc(l->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		l->v = n;
		l->cap = cap;
	}
	strcpy(l->v[l->n++], v);
	return 0;
}

static int collect_sk(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct strs *l = ctx;

	(void)pk;
	(void)val;
	(void)len;
	if (l->below && strncmp(sk, l->below, 10) >= 0)
		return 0;
	return strs_add(l, sk);
}

/* --- the organisation tree --- */

static int collect_child(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct strs *l = ctx;
	cJSON *c = cJSON_ParseWithLength(val, len);
	const char *id = jstr(c, "id"), *type = jstr(c, "type");
	char v[STR_SIZE];
	int ret = 0;

	(void)pk;
	(void)sk;
	/* "t" + id for teams, "n" + id for other nodes */
	if (id && strlen(id) < ID_SIZE) {
		snprintf(v, sizeof(v), "%c%s", type && !strcmp(type, "team") ? 't' : 'n', id);
		ret = strs_add(l, v);
	}
	cJSON_Delete(c);
	return ret;
}

/* Every node below the root, breadth first, into l ("t"/"n" + id). */
static int tree_walk(struct srv *s, struct strs *l)
{
	size_t i;
	int ret;

	l->max = NODE_WALK_MAX;
	ret = strs_add(l, "n" ROOT_ID);
	for (i = 0; !ret && i < l->n; i++) {
		char id[STR_SIZE];

		if (l->v[i][0] != 'n')
			continue;
		strcpy(id, l->v[i] + 1);
		ret = store_query(s->st, STORE_T_NODES, id, SK_CHILD_PREFIX, NULL, 0, STORE_PREFIX,
				  collect_child, l);
		ret = ret < 0 ? ret : 0;
	}
	if (!ret && l->over)
		ret = -E2BIG;
	return ret;
}

/* --- deleting in batches --- */

struct sweep {
	struct srv *s;
	struct store_batch *b;
	unsigned n_ops;
	uint64_t pend[3], done[3]; /* records, rollups, shots: queued, committed */
	uint64_t s3_errors;
	/* an erasure (retention_erase()): only RECORDS items of this user
	 * (their "user_id"); NULL: every item */
	const char *only_user;
	/* an erasure: stop once this many items are deleted (0: no cap);
	 * more is set when it stopped with some left */
	uint64_t budget;
	bool more;
};

enum { K_RECORDS, K_ROLLUPS, K_SHOTS, K_NONE };

static int kind_of(enum store_table t)
{
	return t == STORE_T_RECORDS ? K_RECORDS : t == STORE_T_ROLLUPS ? K_ROLLUPS : K_NONE;
}

static int flush(struct sweep *w)
{
	int ret, k;

	if (!w->b)
		return 0;
	ret = store_batch_commit(w->b);
	w->b = NULL;
	w->n_ops = 0;
	for (k = 0; k < 3; k++) {
		if (!ret)
			w->done[k] += w->pend[k];
		w->pend[k] = 0;
	}
	return ret;
}

/* Queue a delete of (t, pk, sk) counted as kind k (K_NONE: not counted);
 * commits every RETENTION_BATCH_OPS deletes. 0 or -errno. */
static int del(struct sweep *w, enum store_table t, const char *pk, const char *sk, int k)
{
	int ret;

	if (!w->b && (ret = store_batch_begin(w->s->st, &w->b)))
		return ret;
	ret = store_batch_delete(w->b, t, pk, sk, 0);
	if (ret) {
		store_batch_abort(w->b);
		w->b = NULL;
		w->n_ops = 0;
		memset(w->pend, 0, sizeof(w->pend));
		return ret;
	}
	if (k != K_NONE)
		w->pend[k]++;
	if (++w->n_ops >= RETENTION_BATCH_OPS)
		return flush(w);
	return 0;
}

struct part_ctx {
	struct sweep *w;
	enum store_table t;
};

/* true when w has deleted (or queued) its budget of items. */
static bool over_budget(struct sweep *w)
{
	uint64_t n = 0;
	int k;

	if (!w->budget)
		return false;
	for (k = 0; k < 3; k++)
		n += w->done[k] + w->pend[k];
	return n >= w->budget;
}

static int del_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct part_ctx *c = ctx;

	if (over_budget(c->w)) {
		c->w->more = true;
		return 1;
	}
	if (c->w->only_user) {
		/* an erasure of one user's raw records: others' stay */
		cJSON *r = cJSON_ParseWithLength(val, len);
		const char *uid = jstr(r, "user_id");
		bool mine = uid && !strcmp(uid, c->w->only_user);

		cJSON_Delete(r);
		if (!mine)
			return 0;
	}
	return del(c->w, c->t, pk, sk, kind_of(c->t));
}

static int any_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	(void)pk;
	(void)sk;
	(void)val;
	(void)len;
	(void)ctx;
	return 1;
}

/* Delete index item (ipk, isk) of partition pk of t; put it back when the
 * partition holds something again (written meanwhile, or left behind). */
static int drop_index(struct sweep *w, enum store_table t, const char *pk, const char *ipk,
		      const char *isk)
{
	int ret = del(w, t, ipk, isk, K_NONE);

	if (!ret)
		ret = flush(w);
	if (!ret)
		ret = store_query(w->s->st, t, pk, NULL, NULL, 1, 0, any_item, NULL);
	if (ret > 0)
		ret = store_put(w->s->st, t, ipk, isk, "{}", 2, 0);
	return ret < 0 ? ret : 0;
}

/* --- screenshots --- */

/* DELETE the object key of shot item sh where it was written (model/shots.c),
 * with the credentials its owner's levels lend to it (model/s3set.h). 0
 * (also when S3 no longer has it) or -errno (-EKEYREJECTED: no credentials
 * for its bucket are held or accepted). */
static int shot_object_delete(struct srv *s, const cJSON *sh, const char *key)
{
	const struct s3set_who who = {jstr(sh, "user_id"), jstr(sh, "device_id"),
				      jstr(sh, "team_id")};
	struct s3set x = {0};
	char ebuf[600];
	int ret = s3set_open_shot(s, key, &who, S3_TIMEOUT_MS, &x);

	if (ret)
		return ret;
	ret = s3set_delete(&x, key, ebuf, sizeof(ebuf));
	if (ret == -ENOENT)
		ret = 0;
	if (ret && ebuf[0])
		log_warn("event=retention_s3_failed key=%s err=\"%s\"", key, ebuf);
	s3set_free(&x);
	return ret;
}

struct row {
	char sk[STR_SIZE];
	char id[ID_SIZE];
};

struct rows {
	struct row *v;
	size_t n, cap;
	bool over;
};

static int collect_row(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct rows *r = ctx;
	cJSON *j;
	const char *id;

	(void)pk;
	if (r->n >= SHOTS_DAY_MAX) {
		r->over = true;
		return 1;
	}
	if (strlen(sk) >= STR_SIZE)
		return 0;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 32;
		struct row *n = realloc(r->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		r->v = n;
		r->cap = cap;
	}
	j = cJSON_ParseWithLength(val, len);
	id = jstr(j, "id");
	strcpy(r->v[r->n].sk, sk);
	snprintf(r->v[r->n].id, ID_SIZE, "%s", id && strlen(id) < ID_SIZE ? id : "");
	r->n++;
	cJSON_Delete(j);
	return 0;
}

/* One listing row (pk, r): the object, then its rows. 0, 1 (kept: S3 or
 * its settings failed), -errno. */
static int shot_delete(struct sweep *w, const char *pk, const struct row *r)
{
	struct key kpk, s3pk;
	cJSON *sh = NULL;
	const char *key;
	int ret = r->id[0] ? jget(w->s, STORE_T_SCREENSHOTS, r->id, SK_SHOT, &sh) : -ENOENT;

	if (ret == -ENOENT) /* a row without its shot: only the row */
		return del(w, STORE_T_SCREENSHOTS, pk, r->sk, K_NONE);
	if (ret)
		return ret;
	key = jstr(sh, "key");
	if (!key || !*key || strlen(key) >= KEY_MAX) {
		log_warn("event=retention_shot_bad id=%s", r->id);
		cJSON_Delete(sh);
		return 1;
	}
	ret = shot_object_delete(w->s, sh, key);
	if (ret) {
		if (ret != -EIO && ret != -EACCES && ret != -EAGAIN)
			log_warn("event=retention_s3_failed id=%s err=\"%s\"", r->id,
				 strerror(-ret));
		cJSON_Delete(sh);
		return 1;
	}
	/* the four rows in one batch */
	if (w->n_ops + 4 > RETENTION_BATCH_OPS && (ret = flush(w))) {
		cJSON_Delete(sh);
		return ret;
	}
	ret = del(w, STORE_T_SCREENSHOTS, pk, r->sk, K_NONE);
	if (!ret)
		ret = del(w, STORE_T_SCREENSHOTS, r->id, SK_SHOT, K_NONE);
	if (!ret)
		ret = del(w, STORE_T_SCREENSHOTS, key_shot_key(&kpk, key), SK_SHOT, K_NONE);
	if (!ret) {
		w->pend[K_SHOTS]++;
		ret = del(w, STORE_T_SCREENSHOTS, key_shot_s3(&s3pk, key), SK_SHOT_S3, K_NONE);
	}
	cJSON_Delete(sh);
	return ret;
}

/* The screenshots of listing partition pk. 0 or -errno. */
static int sweep_shots(struct sweep *w, const char *pk, const char *ipk, const char *isk)
{
	struct rows r = {0};
	size_t i;
	bool kept = false;
	int ret;

	ret = store_query(w->s->st, STORE_T_SCREENSHOTS, pk, NULL, NULL, 0, 0, collect_row, &r);
	ret = ret < 0 ? ret : 0;
	for (i = 0; !ret && i < r.n && !atomic_load(&stopping); i++) {
		if (over_budget(w)) {
			w->more = true;
			break;
		}
		ret = shot_delete(w, pk, &r.v[i]);
		if (ret == 1) {
			w->s3_errors++;
			kept = true;
			ret = 0;
		}
	}
	free(r.v);
	if (!ret)
		ret = flush(w);
	if (!ret && !kept && !r.over && !w->more && !atomic_load(&stopping))
		ret = drop_index(w, STORE_T_SCREENSHOTS, pk, ipk, isk);
	return ret;
}

/* --- one owner, one team --- */

/*
 * Every expired partition of t indexed under ipk ("days|<device>" in
 * RECORDS, "days|<kind>|<id>" elsewhere). 0 or -errno.
 */
static int sweep_owner(struct sweep *w, enum store_table t, const char *ipk, const char *cutoff)
{
	struct strs idx = {.max = INDEX_MAX, .below = cutoff};
	struct key part;
	const char *pk;
	size_t i;
	int ret;

	ret = store_query(w->s->st, t, ipk, NULL, cutoff, 0, 0, collect_sk, &idx);
	ret = ret < 0 ? ret : 0;
	for (i = 0; !ret && i < idx.n; i++) {
		const char *sk = idx.v[i];
		struct part_ctx c = {w, t};

		if (atomic_load(&stopping) && !w->budget) {
			ret = -ECANCELED;
			break;
		}
		if (w->more)
			break;
		pk = key_days_part(&part, t, ipk, sk);
		if (!pk[0])
			continue;
		if (t == STORE_T_SCREENSHOTS) {
			ret = sweep_shots(w, pk, ipk, sk);
			continue;
		}
		ret = store_query(w->s->st, t, pk, NULL, NULL, 0, 0, del_item, &c);
		ret = ret < 0 ? ret : flush(w);
		if (!ret && !w->more)
			ret = drop_index(w, t, pk, ipk, sk);
	}
	strs_free(&idx);
	if (w->b) {
		store_batch_abort(w->b);
		w->b = NULL;
		w->n_ops = 0;
		memset(w->pend, 0, sizeof(w->pend));
	}
	return ret;
}

/* The effective retention.days of team (DAYS_DEFAULT when unreadable as a
 * number). 0 or -errno. */
static int team_days(struct srv *s, const char *team, int64_t *days)
{
	cJSON *eff = NULL;
	int ret = config_effective(s, team, NULL, false, &eff);

	if (ret)
		return ret;
	*days =
	    jint(cJSON_GetObjectItemCaseSensitive(eff, "values"), "retention.days", DAYS_DEFAULT);
	if (*days < 1 || *days > DAYS_MAX)
		*days = DAYS_DEFAULT;
	cJSON_Delete(eff);
	return 0;
}

/* Keep the first error in *err (-ECANCELED wins); true when canceled. */
static bool keep_err(int *err, int ret)
{
	if (ret && (!*err || ret == -ECANCELED))
		*err = ret;
	return *err == -ECANCELED;
}

static int sweep_team(struct srv *s, const char *team, int64_t now, struct retention_stats *st)
{
	struct sweep w = {.s = s};
	struct strs devs = {.max = MEMBERS_MAX}, users = {.max = MEMBERS_MAX};
	struct key pk;
	char cutoff[11];
	int64_t days;
	size_t i;
	int ret, err = 0;

	ret = team_days(s, team, &days);
	if (ret)
		return ret;
	key_day(now - days * DAY_MS, cutoff);
	key_team_index(&pk, team);
	ret = store_query(s->st, STORE_T_DEVICES, pk.s, NULL, NULL, 0, 0, collect_sk, &devs);
	if (ret >= 0)
		ret = store_query(s->st, STORE_T_USERS, pk.s, NULL, NULL, 0, 0, collect_sk, &users);
	if (ret < 0)
		goto out;
	ret = 0;
	/* one owner's failure does not stop the others; the first is returned */
	for (i = 0; i < devs.n && err != -ECANCELED; i++) {
		key_days_of(&pk, NULL, devs.v[i]);
		if (keep_err(&err, sweep_owner(&w, STORE_T_RECORDS, pk.s, cutoff)))
			break;
		key_days_of(&pk, "dev", devs.v[i]);
		if (keep_err(&err, sweep_owner(&w, STORE_T_ROLLUPS, pk.s, cutoff)) ||
		    keep_err(&err, sweep_owner(&w, STORE_T_SCREENSHOTS, pk.s, cutoff)))
			break;
	}
	for (i = 0; i < users.n && err != -ECANCELED; i++) {
		key_days_of(&pk, "user", users.v[i]);
		if (keep_err(&err, sweep_owner(&w, STORE_T_ROLLUPS, pk.s, cutoff)) ||
		    keep_err(&err, sweep_owner(&w, STORE_T_SCREENSHOTS, pk.s, cutoff)))
			break;
	}
	if (err != -ECANCELED) {
		key_days_of(&pk, "team", team);
		keep_err(&err, sweep_owner(&w, STORE_T_ROLLUPS, pk.s, cutoff));
	}
	ret = err;
	if (devs.over || users.over)
		log_warn("event=retention_team_truncated team=%s", team);
	st->records += w.done[K_RECORDS];
	st->rollups += w.done[K_ROLLUPS];
	st->shots += w.done[K_SHOTS];
	st->s3_errors += w.s3_errors;
	if (w.done[K_RECORDS] || w.done[K_ROLLUPS] || w.done[K_SHOTS] || w.s3_errors) {
		cJSON *d = cJSON_CreateObject();

		st->teams_swept += w.done[K_RECORDS] || w.done[K_ROLLUPS] || w.done[K_SHOTS];
		cJSON_AddNumberToObject(d, "retention_days", (double)days);
		cJSON_AddStringToObject(d, "cutoff_day", cutoff);
		cJSON_AddNumberToObject(d, "records", (double)w.done[K_RECORDS]);
		cJSON_AddNumberToObject(d, "rollups", (double)w.done[K_ROLLUPS]);
		cJSON_AddNumberToObject(d, "screenshots", (double)w.done[K_SHOTS]);
		cJSON_AddNumberToObject(d, "s3_errors", (double)w.s3_errors);
		audit_commit(s, NULL, NULL, "retention.sweep", team, team,
			     ret || w.s3_errors ? "partial" : "ok", d);
		cJSON_Delete(d);
	}
out:
	strs_free(&devs);
	strs_free(&users);
	return ret < 0 ? ret : 0;
}

int retention_sweep(struct srv *s, int64_t now, struct retention_stats *st)
{
	struct strs nodes = {0};
	int64_t t0 = now_ms();
	size_t i;
	int ret;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&sweep_lock);
	ret = tree_walk(s, &nodes);
	for (i = 0; !ret && i < nodes.n; i++) {
		int r;

		if (nodes.v[i][0] != 't')
			continue;
		if (atomic_load(&stopping)) {
			ret = -ECANCELED;
			break;
		}
		st->teams++;
		r = sweep_team(s, nodes.v[i] + 1, now, st);
		if (r == -ECANCELED) {
			ret = r;
		} else if (r) {
			st->errors++;
			log_warn("event=retention_team_failed team=%s err=\"%s\"", nodes.v[i] + 1,
				 strerror(-r));
		}
	}
	pthread_mutex_unlock(&sweep_lock);
	strs_free(&nodes);
	log_msg(ret ? LOG_LVL_WARN : LOG_LVL_INFO,
		"event=retention_sweep result=%s teams=%llu swept=%llu records=%llu rollups=%llu "
		"screenshots=%llu s3_errors=%llu errors=%llu ms=%lld",
		ret ? strerror(-ret) : "ok", (unsigned long long)st->teams,
		(unsigned long long)st->teams_swept, (unsigned long long)st->records,
		(unsigned long long)st->rollups, (unsigned long long)st->shots,
		(unsigned long long)st->s3_errors, (unsigned long long)st->errors,
		(long long)(now_ms() - t0));
	return ret;
}

/* --- erasure of one owner's data (GDPR) --- */

int retention_erase(struct srv *s, enum store_table t, const char *ipk, const char *only_user,
		    struct retention_erase *e)
{
	struct sweep w = {.s = s, .only_user = only_user, .budget = e->budget};
	int ret;

	if (t != STORE_T_RECORDS && t != STORE_T_ROLLUPS && t != STORE_T_SCREENSHOTS)
		return -EINVAL;
	if (!w.budget)
		return -EINVAL;
	ret = sweep_owner(&w, t, ipk, NULL);
	e->records += w.done[K_RECORDS];
	e->rollups += w.done[K_ROLLUPS];
	e->shots += w.done[K_SHOTS];
	e->s3_errors += w.s3_errors;
	e->budget -= w.done[K_RECORDS] + w.done[K_ROLLUPS] + w.done[K_SHOTS] < e->budget
			 ? w.done[K_RECORDS] + w.done[K_ROLLUPS] + w.done[K_SHOTS]
			 : e->budget;
	e->more = e->more || w.more || !e->budget;
	return ret;
}

/* --- the thread --- */

struct retention_sched {
	struct srv *s;
	unsigned interval_s;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

static void *sched_main(void *arg)
{
	struct retention_sched *r = arg;
	struct retention_stats st;
	unsigned wait = r->interval_s < FIRST_DELAY_MAX_S ? r->interval_s : FIRST_DELAY_MAX_S;
	struct timespec due;

	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		clock_gettime(CLOCK_MONOTONIC, &due);
		due.tv_sec += wait;
		while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &due) != ETIMEDOUT)
			;
		if (r->stop)
			break;
		pthread_mutex_unlock(&r->mu);
		retention_sweep(r->s, now_ms(), &st); /* logs its result */
		pthread_mutex_lock(&r->mu);
		wait = r->interval_s;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int retention_start(struct srv *s, unsigned interval_s, struct retention_sched **out)
{
	struct retention_sched *r;
	pthread_condattr_t ca;
	int ret;

	*out = NULL;
	if (!interval_s)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->s = s;
	r->interval_s = interval_s;
	atomic_store(&stopping, false);
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
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

void retention_stop(struct retention_sched *r)
{
	if (!r)
		return;
	atomic_store(&stopping, true);
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->th, NULL);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
