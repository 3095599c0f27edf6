// SPDX-License-Identifier: BSD-2-Clause
/*
 * backup_sched.c - the server's periodic backups (model/backup_sched.h).
 *
 * The thread wakes at the next run, when asked for a run, when stopped, and
 * at least every recheck_ms, and each time reads the root's settings again,
 * so that a change of backup.* applies without a restart. When a run is
 * due (all Unix ms):
 *   asked for (run_now)      now
 *   after failures           the last attempt's end + backoff(fails), capped
 *                            at the period
 *   after a success          the last success's start + period
 *   none recorded            the thread's start + min(first delay, period)
 * A run: take (backup_take() to the target), then, after a success only,
 * prune (backup_prune() to backup.keep), then the record: one store batch
 * with the audit entry "backup.run" and META "store"/"backup" (the last
 * success and failure, loaded again at the next start), and the metrics.
 * A failed prune leaves the run a success (the backup is there); its
 * reason goes into the audit entry and the log, and the next run prunes
 * again.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/metrics.h"
#include "log.h"
#include "model/backup_sched.h"
#include "model/config.h"
#include "store/keys.h"
#include "util.h"

#define WHY_SIZE BACKUP_ERROR_MAX

struct backup_sched {
	struct srv *s;
	struct backup_sched_opts o;
	struct backup_sched_ops ops;
	pthread_t th;
	bool th_live;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	bool stop, running, want_now;
	unsigned gen;	     /* bumped by backup_sched_settings_changed() */
	struct principal by; /* who asked (want_now); id "" for none */
	char client[USER_TOKEN_ADDR_SIZE];
	struct backup_status st;
	bool have_settings;  /* st holds a read of the settings */
	int64_t started_ms;  /* the thread's start */
	int64_t last_end_ms; /* the last attempt's end */
	volatile sig_atomic_t cancel;
};

uint64_t backup_backoff_ms(unsigned fails, uint64_t min_ms, uint64_t cap_ms)
{
	uint64_t w = min_ms;

	if (!fails)
		return 0;
	while (--fails && w < cap_ms)
		w *= 2;
	return w < cap_ms ? w : cap_ms;
}

/* --- settings --- */

void backup_plan_free(struct backup_plan *p)
{
	config_json_free(p->vals);
	memset(p, 0, sizeof(*p));
}

int backup_plan_read(struct srv *s, struct backup_plan *p)
{
	const char *bucket, *prefix;
	int ret;

	memset(p, 0, sizeof(*p));
	ret = config_root_values(s, true, &p->vals);
	if (ret)
		return ret;
	p->interval_h = (unsigned)jint(p->vals, "backup.interval_h", 24);
	p->keep = (unsigned)jint(p->vals, "backup.keep", 14);
	bucket = jstr(p->vals, "backup.s3.bucket");
	prefix = jstr(p->vals, "backup.s3.prefix");
	p->s3.bucket = bucket;
	p->s3.region = jstr(p->vals, "backup.s3.region");
	p->s3.endpoint = jstr(p->vals, "backup.s3.endpoint");
	p->s3.path_style =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p->vals, "backup.s3.path_style"));
	p->s3.access_key = jstr(p->vals, "backup.s3.access_key_id");
	p->s3.secret_key = jstr(p->vals, "backup.s3.secret_access_key");
	p->s3.session_token = jstr(p->vals, "backup.s3.session_token");
	if (bucket)
		snprintf(p->target, sizeof(p->target), "s3://%s%s%s", bucket,
			 prefix && *prefix ? "/" : "", prefix ? prefix : "");
	p->scheduled = bucket && p->interval_h > 0;
	return 0;
}

/* --- the real operations --- */

static int real_settings(void *ctx, struct backup_plan *p)
{
	return backup_plan_read(ctx, p);
}

static int real_take(void *ctx, const struct backup_plan *p, const struct backup_ctl *ctl,
		     struct backup_info *out, char *why, size_t wlen)
{
	struct srv *s = ctx;
	struct backup_target t = {0};
	int ret = backup_target_parse(p->target, &p->s3, &t, why, wlen);

	if (!ret)
		ret = backup_take(s->st, s->kp, &t, ctl, out, why, wlen);
	backup_target_free(&t);
	return ret;
}

static int real_prune(void *ctx, const struct backup_plan *p, const char *spare, unsigned *deleted,
		      char *why, size_t wlen)
{
	struct backup_target t = {0};
	int ret = backup_target_parse(p->target, &p->s3, &t, why, wlen);

	(void)ctx;
	if (!ret)
		ret = backup_prune(&t, p->keep, spare, deleted, why, wlen);
	backup_target_free(&t);
	return ret;
}

/* --- records --- */

/* r as META keeps it (Unix ms). */
static cJSON *record_store_json(const struct backup_record *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "started_ms", (double)r->started_ms);
	cJSON_AddNumberToObject(o, "finished_ms", (double)r->finished_ms);
	if (r->name[0])
		cJSON_AddStringToObject(o, "name", r->name);
	cJSON_AddNumberToObject(o, "bytes", (double)r->bytes);
	cJSON_AddNumberToObject(o, "items", (double)r->items);
	if (r->error[0])
		cJSON_AddStringToObject(o, "error", r->error);
	return o;
}

/* The record of META object o (zeroed when o is not one). */
static void record_from_store(const cJSON *o, struct backup_record *r)
{
	const char *v;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(o))
		return;
	r->started_ms = jint(o, "started_ms", 0);
	r->finished_ms = jint(o, "finished_ms", 0);
	r->bytes = (uint64_t)jint(o, "bytes", 0);
	r->items = (uint64_t)jint(o, "items", 0);
	if ((v = jstr(o, "name")))
		snprintf(r->name, sizeof(r->name), "%s", v);
	if ((v = jstr(o, "error")))
		snprintf(r->error, sizeof(r->error), "%s", v);
}

/* r as the API shows it: a success {name, started, finished, bytes,
 * items}, a failure {started, finished, error}; null when none. */
static cJSON *record_api_json(const struct backup_record *r, bool ok)
{
	char b1[32], b2[32];
	cJSON *o;

	if (!r->started_ms)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	if (ok)
		cJSON_AddStringToObject(o, "name", r->name);
	cJSON_AddStringToObject(o, "started", rfc3339_ms(r->started_ms, b1));
	cJSON_AddStringToObject(o, "finished", rfc3339_ms(r->finished_ms, b2));
	if (ok) {
		cJSON_AddNumberToObject(o, "bytes", (double)r->bytes);
		cJSON_AddNumberToObject(o, "items", (double)r->items);
	} else {
		cJSON_AddStringToObject(o, "error", r->error);
	}
	return o;
}

int backup_records_load(struct srv *s, struct backup_record *ok, struct backup_record *err)
{
	cJSON *j;
	int ret = jget(s, STORE_T_META, KEY_META_PK, KEY_META_BACKUP_SK, &j);

	memset(ok, 0, sizeof(*ok));
	memset(err, 0, sizeof(*err));
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	record_from_store(cJSON_GetObjectItemCaseSensitive(j, "last_success"), ok);
	record_from_store(cJSON_GetObjectItemCaseSensitive(j, "last_failure"), err);
	cJSON_Delete(j);
	return 0;
}

/*
 * Commit the run's audit entry (detail d) and META's records in one batch.
 * by: who asked (id "" for the schedule). 0 or -errno.
 */
static int record_commit(struct srv *s, const struct principal *by, const char *client,
			 const char *name, bool ok, const cJSON *d,
			 const struct backup_record *last_ok, const struct backup_record *last_err)
{
	cJSON *m = cJSON_CreateObject();
	struct store_batch *b;
	int ret;

	if (!m)
		return -ENOMEM;
	cJSON_AddItemToObject(m, "last_success", record_store_json(last_ok));
	cJSON_AddItemToObject(m, "last_failure", record_store_json(last_err));
	ret = store_batch_begin(s->st, &b);
	if (!ret) {
		ret = jput(b, STORE_T_META, KEY_META_PK, KEY_META_BACKUP_SK, m, 0);
		if (!ret)
			ret = audit_put(b, client, by->id[0] ? by : NULL, "backup.run", ROOT_ID,
					name[0] ? name : NULL, ok ? "ok" : "error", d);
		if (ret)
			store_batch_abort(b);
		else
			ret = store_batch_commit(b);
	}
	cJSON_Delete(m);
	return ret;
}

/* --- one run --- */

/* Items of all tables in b. */
static uint64_t items_of(const struct backup_info *bi)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < STORE_T__COUNT; i++)
		n += bi->items[i];
	return n;
}

/*
 * Take, prune, record. Called on the thread without mu; by and client are
 * the thread's copies.
 */
static void run_one(struct backup_sched *b, const struct backup_plan *p, const struct principal *by,
		    const char *client)
{
	struct backup_ctl ctl = {.cancel = &b->cancel};
	struct backup_info bi;
	struct backup_record r = {0};
	char why[WHY_SIZE] = "", pwhy[WHY_SIZE] = "", t1[32], t2[32];
	unsigned deleted = 0;
	int ret, pret = 0;
	cJSON *d;

	memset(&bi, 0, sizeof(bi));
	r.started_ms = now_ms();
	metrics_set(METRIC_BACKUP_RUNNING, 1);
	ret = b->ops.take(b->ops.ctx, p, &ctl, &bi, why, sizeof(why));
	if (!ret)
		pret = b->ops.prune(b->ops.ctx, p, bi.name, &deleted, pwhy, sizeof(pwhy));
	r.finished_ms = now_ms();
	if (!ret) {
		snprintf(r.name, sizeof(r.name), "%s", bi.name);
		r.bytes = bi.stored_bytes;
		r.items = items_of(&bi);
	} else {
		snprintf(r.error, sizeof(r.error), "%s",
			 why[0] ? why : (ret == -ECANCELED ? "canceled" : strerror(-ret)));
	}

	d = cJSON_CreateObject();
	if (d) {
		if (!ret)
			cJSON_AddStringToObject(d, "name", r.name);
		cJSON_AddStringToObject(d, "target", p->target);
		cJSON_AddStringToObject(d, "trigger", by->id[0] ? "request" : "schedule");
		cJSON_AddStringToObject(d, "started", rfc3339_ms(r.started_ms, t1));
		cJSON_AddStringToObject(d, "finished", rfc3339_ms(r.finished_ms, t2));
		cJSON_AddNumberToObject(d, "bytes", (double)r.bytes);
		cJSON_AddNumberToObject(d, "items", (double)r.items);
		cJSON_AddStringToObject(d, "outcome", ret ? "error" : "ok");
		cJSON_AddStringToObject(d, "error", r.error);
		if (!ret) {
			cJSON_AddNumberToObject(d, "pruned", deleted);
			if (pret)
				cJSON_AddStringToObject(d, "prune_error",
							pwhy[0] ? pwhy : strerror(-pret));
		}
	}

	pthread_mutex_lock(&b->mu);
	if (!ret) {
		b->st.ok = r;
		b->st.fails = 0;
		b->st.runs_ok++;
	} else {
		b->st.err = r;
		b->st.fails++;
		b->st.runs_error++;
	}
	b->last_end_ms = r.finished_ms;
	{
		struct backup_record ok = b->st.ok, err = b->st.err;
		int cret;

		pthread_mutex_unlock(&b->mu);
		cret = b->s ? record_commit(b->s, by, client, r.name, !ret, d, &ok, &err) : 0;
		if (cret)
			log_err("event=backup_record_failed err=\"%s\"", strerror(-cret));
	}
	cJSON_Delete(d);

	if (!ret) {
		metrics_add(METRIC_BACKUP_RUNS_OK, 1);
		metrics_set(METRIC_BACKUP_LAST_SUCCESS, r.finished_ms / 1000);
		metrics_set(METRIC_BACKUP_LAST_BYTES, (int64_t)r.bytes);
		log_info("event=backup_run result=ok name=%s target=%s bytes=%llu items=%llu "
			 "pruned=%u ms=%lld",
			 r.name, p->target, (unsigned long long)r.bytes,
			 (unsigned long long)r.items, deleted,
			 (long long)(r.finished_ms - r.started_ms));
		if (pret)
			log_warn("event=backup_prune_failed target=%s err=\"%s\"", p->target,
				 pwhy[0] ? pwhy : strerror(-pret));
	} else {
		metrics_add(METRIC_BACKUP_RUNS_ERROR, 1);
		metrics_set(METRIC_BACKUP_LAST_FAILURE, r.finished_ms / 1000);
		log_warn("event=backup_run result=error target=%s err=\"%s\" ms=%lld", p->target,
			 r.error, (long long)(r.finished_ms - r.started_ms));
	}
	metrics_set(METRIC_BACKUP_RUNNING, 0);
}

/* --- the thread --- */

/* The period between runs of plan p, in ms (0: not scheduled). */
static uint64_t period_ms(const struct backup_sched *b, const struct backup_plan *p)
{
	if (!p->scheduled)
		return 0;
	return b->o.period_ms ? b->o.period_ms : (uint64_t)p->interval_h * 3600000u;
}

/* When the next run is due (Unix ms), 0 for none. Under mu. */
static int64_t due_ms(const struct backup_sched *b, const struct backup_plan *p, int64_t now)
{
	uint64_t per = period_ms(b, p);
	uint64_t first = b->o.first_delay_ms < per ? b->o.first_delay_ms : per;

	if (b->want_now && p->target[0])
		return now;
	if (!per)
		return 0;
	if (b->st.fails)
		return b->last_end_ms +
		       (int64_t)backup_backoff_ms(b->st.fails, b->o.retry_min_ms, per);
	if (b->st.ok.started_ms)
		return b->st.ok.started_ms + (int64_t)per;
	return b->started_ms + (int64_t)first;
}

/* Wait on b->cv up to ms (monotonic), under mu. */
static void wait_ms(struct backup_sched *b, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&b->cv, &b->mu, &ts);
}

static void *sched_main(void *arg)
{
	struct backup_sched *b = arg;

	pthread_mutex_lock(&b->mu);
	while (!b->stop) {
		struct backup_plan p = {0};
		struct principal by;
		char client[sizeof(b->client)];
		int64_t now, due;
		unsigned gen = b->gen; /* a change after this read wakes the wait below */
		int ret;

		pthread_mutex_unlock(&b->mu);
		ret = b->ops.settings(b->ops.ctx, &p);
		if (ret)
			log_warn("event=backup_settings_failed err=\"%s\"", strerror(-ret));
		pthread_mutex_lock(&b->mu);
		if (b->stop) {
			backup_plan_free(&p);
			break;
		}
		b->have_settings = !ret;
		b->st.scheduled = p.scheduled;
		b->st.interval_h = p.interval_h;
		b->st.keep = p.keep;
		b->st.period_s = (unsigned)(period_ms(b, &p) / 1000);
		snprintf(b->st.target, sizeof(b->st.target), "%s", p.target);
		now = now_ms();
		due = due_ms(b, &p, now);
		b->st.next_ms = due;
		if (!due || now < due) {
			int64_t w = due ? due - now : (int64_t)b->o.recheck_ms;

			if (b->gen == gen)
				wait_ms(b, w < (int64_t)b->o.recheck_ms ? w
									: (int64_t)b->o.recheck_ms);
			backup_plan_free(&p);
			continue;
		}
		b->running = true;
		b->st.running = true;
		by = b->by;
		if (!b->want_now)
			by.id[0] = 0;
		snprintf(client, sizeof(client), "%s", b->want_now ? b->client : "");
		b->want_now = false;
		pthread_mutex_unlock(&b->mu);

		run_one(b, &p, &by, client);
		backup_plan_free(&p);

		pthread_mutex_lock(&b->mu);
		b->running = false;
		b->st.running = false;
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

int backup_sched_start(struct srv *s, const struct backup_sched_opts *o, struct backup_sched **out)
{
	struct backup_sched *b;
	pthread_condattr_t ca;
	int ret;

	*out = NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->s = s;
	if (o)
		b->o = *o;
	if (!b->o.retry_min_ms)
		b->o.retry_min_ms = BACKUP_RETRY_MIN_MS;
	if (!b->o.recheck_ms)
		b->o.recheck_ms = BACKUP_RECHECK_MS;
	if (!b->o.first_delay_ms)
		b->o.first_delay_ms = BACKUP_FIRST_DELAY_MS;
	if (b->o.ops)
		b->ops = *b->o.ops;
	if (!b->ops.ctx)
		b->ops.ctx = s;
	if (!b->ops.settings)
		b->ops.settings = real_settings;
	if (!b->ops.take)
		b->ops.take = real_take;
	if (!b->ops.prune)
		b->ops.prune = real_prune;
	b->o.ops = NULL;
	if (s) {
		ret = backup_records_load(s, &b->st.ok, &b->st.err);
		if (ret) {
			free(b);
			return ret;
		}
	}
	if (b->st.ok.started_ms)
		metrics_set(METRIC_BACKUP_LAST_SUCCESS, b->st.ok.finished_ms / 1000);
	if (b->st.err.started_ms)
		metrics_set(METRIC_BACKUP_LAST_FAILURE, b->st.err.finished_ms / 1000);
	metrics_set(METRIC_BACKUP_LAST_BYTES, (int64_t)b->st.ok.bytes);
	b->started_ms = now_ms();
	pthread_mutex_init(&b->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cv, &ca);
	pthread_condattr_destroy(&ca);
	ret = pthread_create(&b->th, NULL, sched_main, b);
	if (ret) {
		pthread_cond_destroy(&b->cv);
		pthread_mutex_destroy(&b->mu);
		free(b);
		return -ret;
	}
	b->th_live = true;
	if (s)
		s->backups = b;
	*out = b;
	return 0;
}

void backup_sched_stop(struct backup_sched *b)
{
	if (!b || !b->th_live)
		return;
	b->cancel = 1;
	pthread_mutex_lock(&b->mu);
	b->stop = true;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	pthread_join(b->th, NULL);
	b->th_live = false;
}

void backup_sched_free(struct backup_sched *b)
{
	if (!b)
		return;
	backup_sched_stop(b);
	if (b->s && b->s->backups == b)
		b->s->backups = NULL;
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mu);
	free(b);
}

void backup_sched_settings_changed(struct backup_sched *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->mu);
	b->gen++;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

int backup_sched_run_now(struct backup_sched *b, const struct principal *by, const char *client,
			 char *why, size_t wlen)
{
	int ret = 0;

	if (wlen)
		why[0] = 0;
	if (!b)
		return -ESRCH;
	pthread_mutex_lock(&b->mu);
	if (b->stop) {
		ret = -ESHUTDOWN;
	} else if (b->running || b->want_now) {
		snprintf(why, wlen, "a backup is running");
		ret = -EBUSY;
	} else if (!b->st.target[0]) {
		/* the thread's last read; read them again to be sure */
		struct backup_plan p;

		pthread_mutex_unlock(&b->mu);
		ret = b->ops.settings(b->ops.ctx, &p);
		pthread_mutex_lock(&b->mu);
		if (!ret && !p.target[0]) {
			snprintf(why, wlen,
				 "no backup bucket is set (backup.s3.bucket at the root)");
			ret = -EINVAL;
		}
		backup_plan_free(&p);
	}
	if (!ret && (b->running || b->want_now)) {
		snprintf(why, wlen, "a backup is running");
		ret = -EBUSY;
	}
	if (!ret) {
		memset(&b->by, 0, sizeof(b->by));
		if (by) {
			b->by.kind = by->kind;
			snprintf(b->by.id, sizeof(b->by.id), "%s", by->id[0] ? by->id : "-");
			snprintf(b->by.email, sizeof(b->by.email), "%s", by->email);
		} else {
			snprintf(b->by.id, sizeof(b->by.id), "-");
		}
		snprintf(b->client, sizeof(b->client), "%s", client ? client : "");
		b->want_now = true;
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
	return ret;
}

int backup_sched_status(struct srv *s, struct backup_sched *b, struct backup_status *out)
{
	struct backup_plan p;
	int ret;

	memset(out, 0, sizeof(*out));
	if (b) {
		bool have;

		pthread_mutex_lock(&b->mu);
		*out = b->st;
		have = b->have_settings;
		pthread_mutex_unlock(&b->mu);
		if (have)
			return 0;
		/* the thread has not read the settings yet: read them here */
	}
	ret = backup_plan_read(s, &p);
	if (ret)
		return ret;
	out->scheduled = p.scheduled;
	out->interval_h = p.interval_h;
	out->keep = p.keep;
	out->period_s = p.scheduled ? p.interval_h * 3600u : 0;
	snprintf(out->target, sizeof(out->target), "%s", p.target);
	backup_plan_free(&p);
	if (b)
		return 0;
	return backup_records_load(s, &out->ok, &out->err);
}

int backup_sched_report(struct srv *s, struct backup_sched *b, cJSON **out)
{
	struct backup_status st;
	struct backup_plan p;
	struct backup_target t = {0};
	struct backup_info *list = NULL;
	char why[WHY_SIZE] = "", buf[32];
	size_t n = 0, i;
	cJSON *o, *arr;
	int ret;

	*out = NULL;
	ret = backup_sched_status(s, b, &st);
	if (ret)
		return ret;
	o = cJSON_CreateObject();
	if (!o)
		return -ENOMEM;
	cJSON_AddBoolToObject(o, "enabled", st.scheduled);
	cJSON_AddNumberToObject(o, "interval_h", st.interval_h);
	cJSON_AddNumberToObject(o, "period_s", st.period_s);
	cJSON_AddNumberToObject(o, "keep", st.keep);
	if (st.target[0])
		cJSON_AddStringToObject(o, "target", st.target);
	else
		cJSON_AddNullToObject(o, "target");
	cJSON_AddBoolToObject(o, "running", st.running);
	if (st.next_ms)
		cJSON_AddStringToObject(o, "next_run", rfc3339_ms(st.next_ms, buf));
	else
		cJSON_AddNullToObject(o, "next_run");
	cJSON_AddNumberToObject(o, "failures", st.fails);
	cJSON_AddItemToObject(o, "last_success", record_api_json(&st.ok, true));
	cJSON_AddItemToObject(o, "last_failure", record_api_json(&st.err, false));
	arr = cJSON_AddArrayToObject(o, "backups");
	if (!arr) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	if (!st.target[0]) {
		*out = o;
		return 0;
	}
	/* the listing: the settings with secrets, read again (as the thread
	 * reads them) */
	ret = b ? b->ops.settings(b->ops.ctx, &p) : backup_plan_read(s, &p);
	if (!ret && p.target[0]) {
		ret = backup_target_parse(p.target, &p.s3, &t, why, sizeof(why));
		if (!ret)
			ret = backup_list(&t, &list, &n, why, sizeof(why));
		backup_target_free(&t);
	}
	backup_plan_free(&p);
	if (ret) {
		cJSON_AddStringToObject(o, "list_error", why[0] ? why : strerror(-ret));
	} else {
		for (i = 0; i < n; i++)
			cJSON_AddItemToArray(arr, backup_info_to_json(&list[i]));
	}
	free(list);
	*out = o;
	return 0;
}
