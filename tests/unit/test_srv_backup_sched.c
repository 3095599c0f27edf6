// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_srv_backup_sched.c - the periodic backups' settings and schedule
 * (model/backup_sched.c) on a real LMDB store, with the take, prune and
 * settings calls injected (struct backup_sched_ops): the back-off sequence;
 * the root's backup.* settings (set at the root only, secrets never in a
 * view, read with secrets into the plan); runs, each followed by a prune
 * to backup.keep, recorded in the audit log and META; failures retried on
 * the back-off and not pruned; never two runs at once (a run asked for
 * while one runs is refused); a stop cancels a running backup; a change of
 * the settings applies without a restart.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/metrics.h"
#include "core/srv.h"
#include "model/backup_sched.h"
#include "model/config.h"
#include "store/keys.h"
#include "util.h"

#define BIZ "n_00000000000000b0"

/* The injected operations' state. */
struct fake {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* settings */
	bool bucket;
	unsigned interval_h, keep;
	unsigned reads;
	/* take */
	unsigned takes, fail_first; /* the first fail_first takes fail */
	unsigned block_at;	    /* take number block_at (1, ...) waits for release */
	bool blocked, release, wait_cancel, saw_cancel;
	unsigned in_flight, max_in_flight;
	/* prune */
	unsigned prunes, last_keep;
	char last_spare[BACKUP_NAME_MAX + 1]; /* the spare of the last prune */
};

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	f->bucket = true;
	f->interval_h = 24;
	f->keep = 2;
}

static int f_settings(void *ctx, struct backup_plan *p)
{
	struct fake *f = ctx;

	memset(p, 0, sizeof(*p));
	pthread_mutex_lock(&f->mu);
	f->reads++;
	p->interval_h = f->interval_h;
	p->keep = f->keep;
	if (f->bucket)
		snprintf(p->target, sizeof(p->target), "s3://bkt/actlog-backups/");
	p->scheduled = f->bucket && f->interval_h;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return 0;
}

static int f_take(void *ctx, const struct backup_plan *p, const struct backup_ctl *ctl,
		  struct backup_info *out, char *why, size_t wlen)
{
	struct fake *f = ctx;
	unsigned n;
	int ret = 0;

	(void)p;
	pthread_mutex_lock(&f->mu);
	n = ++f->takes;
	if (++f->in_flight > f->max_in_flight)
		f->max_in_flight = f->in_flight;
	if (n == f->block_at) {
		f->blocked = true;
		pthread_cond_broadcast(&f->cv);
		while (!f->release && !(f->wait_cancel && *ctl->cancel)) {
			pthread_mutex_unlock(&f->mu);
			usleep(2000);
			pthread_mutex_lock(&f->mu);
		}
		f->blocked = false;
		if (f->wait_cancel && *ctl->cancel) {
			f->saw_cancel = true;
			ret = -ECANCELED;
		}
	}
	if (!ret && n <= f->fail_first) {
		snprintf(why, wlen, "injected failure %u", n);
		ret = -EACCES;
	}
	if (!ret) {
		snprintf(out->name, sizeof(out->name), "actlog-20260101T00000%uZ-0000000%u", n % 10,
			 n % 10);
		out->stored_bytes = 1000 + n;
		out->items[STORE_T_NODES] = 3;
		out->items[STORE_T_USERS] = 2;
	}
	f->in_flight--;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return ret;
}

static int f_prune(void *ctx, const struct backup_plan *p, const char *spare, unsigned *deleted,
		   char *why, size_t wlen)
{
	struct fake *f = ctx;

	(void)why;
	(void)wlen;
	pthread_mutex_lock(&f->mu);
	f->prunes++;
	f->last_keep = p->keep;
	snprintf(f->last_spare, sizeof(f->last_spare), "%s", spare ? spare : "");
	*deleted = 0;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return 0;
}

/* Wait (up to 20 s) until field >= want, under f->mu. true when reached. */
static bool wait_for(struct fake *f, const unsigned *field, unsigned want)
{
	int i;
	bool ok;

	for (i = 0; i < 4000; i++) {
		pthread_mutex_lock(&f->mu);
		ok = *field >= want;
		pthread_mutex_unlock(&f->mu);
		if (ok)
			return true;
		usleep(5000);
	}
	return false;
}

/* Wait until f->blocked is b. */
static bool wait_blocked(struct fake *f, bool b)
{
	int i;
	bool ok;

	for (i = 0; i < 4000; i++) {
		pthread_mutex_lock(&f->mu);
		ok = f->blocked == b;
		pthread_mutex_unlock(&f->mu);
		if (ok)
			return true;
		usleep(5000);
	}
	return false;
}

static unsigned get(struct fake *f, const unsigned *field)
{
	unsigned v;

	pthread_mutex_lock(&f->mu);
	v = *field;
	pthread_mutex_unlock(&f->mu);
	return v;
}

/* A store and a server context in a fresh directory. */
struct env {
	char dir[128];
	struct keyprov *kp;
	struct store *st;
	struct srv s;
};

static void env_open(struct env *e)
{
	char key[200];

	memset(e, 0, sizeof(*e));
	check_mkdtemp(e->dir, sizeof(e->dir), "backup-sched");
	snprintf(key, sizeof(key), "%s/master.key", e->dir);
	CHECK_EQ(keyprov_file_create(key), 0);
	CHECK_EQ(keyprov_file_open(key, &e->kp, NULL, 0), 0);
	CHECK_EQ(store_open_lmdb(&e->st, e->dir, NULL), 0);
	CHECK_EQ(srv_init(&e->s, e->st, e->kp, NULL), 0);
	metrics_reset();
}

static void env_close(struct env *e)
{
	srv_fini(&e->s);
	store_close(e->st);
	keyprov_free(e->kp);
	CHECK_EQ(check_rmtree(e->dir), 0);
}

struct audit_count {
	unsigned runs, ok, error, by_user;
	char last_target[128];
};

static int count_audit(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct audit_count *c = ctx;
	cJSON *j = cJSON_ParseWithLength(val, len);
	const char *a = jstr(j, "action");

	(void)pk;
	(void)sk;
	if (a && !strcmp(a, "backup.run")) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "detail");

		c->runs++;
		c->ok += !strcmp(jstr(j, "result"), "ok") && !strcmp(jstr(d, "outcome"), "ok");
		c->error += !strcmp(jstr(j, "result"), "error") && jstr(d, "error")[0];
		c->by_user += !strcmp(jstr(j, "actor"), "u_0000000000000001") &&
			      !strcmp(jstr(d, "trigger"), "request");
		snprintf(c->last_target, sizeof(c->last_target), "%s",
			 jstr(j, "target") ? jstr(j, "target") : "");
	}
	cJSON_Delete(j);
	return 0;
}

static struct audit_count audit_runs(struct env *e)
{
	struct audit_count c = {0};
	struct key pk;

	CHECK(store_query(e->st, STORE_T_AUDIT, key_audit_pk(&pk, now_ms()), NULL, NULL, 0, 0,
			  count_audit, &c) >= 0);
	return c;
}

/* config_audit_fn of the root's writes */
static int audit_ok(struct store_batch *b, const char *scope, const cJSON *detail, void *ctx)
{
	(void)ctx;
	return audit_put(b, NULL, NULL, "config.set", ROOT_ID, scope, "ok", detail);
}

TEST(backoff_sequence)
{
	CHECK_EQ(backup_backoff_ms(0, 60000, 3600000), 0);
	CHECK_EQ(backup_backoff_ms(1, 60000, 3600000), 60000);
	CHECK_EQ(backup_backoff_ms(2, 60000, 3600000), 120000);
	CHECK_EQ(backup_backoff_ms(3, 60000, 3600000), 240000);
	CHECK_EQ(backup_backoff_ms(6, 60000, 3600000), 1920000);
	CHECK_EQ(backup_backoff_ms(7, 60000, 3600000), 3600000); /* 3840000 capped */
	CHECK_EQ(backup_backoff_ms(1000, 60000, 3600000), 3600000);
	CHECK_EQ(backup_backoff_ms(1, 60000, 2000), 2000); /* a period under the minimum */
	CHECK_EQ(backup_backoff_ms(4000000000u, 1, UINT64_MAX / 2), UINT64_MAX / 2);
}

TEST(root_settings)
{
	struct env e;
	struct target root, biz;
	struct backup_plan p;
	char why[CONFIG_WHY_SIZE];
	cJSON *body, *view, *vals;

	env_open(&e);
	CHECK_EQ(target_node(&e.s, ROOT_ID, &root), 0);
	memset(&biz, 0, sizeof(biz));
	biz.depth = 2;
	strcpy(biz.path[0], ROOT_ID);
	strcpy(biz.path[1], BIZ);

	/* nothing set: the defaults, no bucket, nothing scheduled */
	CHECK_EQ(backup_plan_read(&e.s, &p), 0);
	CHECK_EQ(p.interval_h, 24);
	CHECK_EQ(p.keep, 14);
	CHECK_STR(p.target, "");
	CHECK(!p.scheduled);
	backup_plan_free(&p);

	/* a business cannot hold backup.*; the root holds nothing else */
	body = cJSON_Parse("{\"values\":{\"backup.keep\":3}}");
	CHECK_EQ(
	    config_level_put(&e.s, &biz, "node", BIZ, body, NULL, NULL, &view, why, sizeof(why)),
	    -EINVAL);
	CHECK(strstr(why, "root only") != NULL);
	cJSON_Delete(body);
	body = cJSON_Parse("{\"values\":{\"retention.days\":3}}");
	CHECK_EQ(config_level_put(&e.s, &root, "node", ROOT_ID, body, NULL, NULL, &view, why,
				  sizeof(why)),
		 -EINVAL);
	cJSON_Delete(body);
	body = cJSON_Parse("{\"locked\":[\"backup.keep\"]}");
	CHECK_EQ(config_level_put(&e.s, &root, "node", ROOT_ID, body, NULL, NULL, &view, why,
				  sizeof(why)),
		 -EINVAL);
	cJSON_Delete(body);
	body = cJSON_Parse("{\"values\":{\"backup.s3.prefix\":\"/abs/\"}}");
	CHECK_EQ(config_level_put(&e.s, &root, "node", ROOT_ID, body, NULL, NULL, &view, why,
				  sizeof(why)),
		 -EINVAL);
	cJSON_Delete(body);
	body = cJSON_Parse("{\"values\":{\"backup.interval_h\":8761}}");
	CHECK_EQ(config_level_put(&e.s, &root, "node", ROOT_ID, body, NULL, NULL, &view, why,
				  sizeof(why)),
		 -EINVAL);
	cJSON_Delete(body);

	/* set at the root */
	body = cJSON_Parse("{\"values\":{\"backup.interval_h\":6,\"backup.keep\":3,"
			   "\"backup.s3.bucket\":\"bkt\",\"backup.s3.prefix\":\"x/y/\","
			   "\"backup.s3.endpoint\":\"http://127.0.0.1:9\","
			   "\"backup.s3.path_style\":true,\"backup.s3.region\":\"eu-west-1\","
			   "\"backup.s3.access_key_id\":\"AKID\","
			   "\"backup.s3.secret_access_key\":\"SECRETVALUE\"}}");
	CHECK_EQ(config_level_put(&e.s, &root, "node", ROOT_ID, body, audit_ok, NULL, &view, why,
				  sizeof(why)),
		 0);
	cJSON_Delete(body);
	{
		char *txt = cJSON_PrintUnformatted(view);

		CHECK(txt && !strstr(txt, "SECRETVALUE"));
		CHECK(txt && strstr(txt, "\"secrets_set\":[\"backup.s3.secret_access_key\"]"));
		free(txt);
	}
	config_json_free(view);
	/* never in an effective config */
	CHECK_EQ(config_effective_for(&e.s, &root, NULL, true, &vals), 0);
	CHECK(!cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(vals, "values"),
						"backup.keep"));
	config_json_free(vals);
	/* the secret only with_secrets */
	CHECK_EQ(config_root_values(&e.s, false, &vals), 0);
	CHECK(!jstr(vals, "backup.s3.secret_access_key"));
	CHECK_STR(jstr(vals, "backup.s3.access_key_id"), "AKID");
	config_json_free(vals);
	/* the plan: with the secret */
	CHECK_EQ(backup_plan_read(&e.s, &p), 0);
	CHECK_EQ(p.interval_h, 6);
	CHECK_EQ(p.keep, 3);
	CHECK(p.scheduled);
	CHECK_STR(p.target, "s3://bkt/x/y/");
	CHECK_STR(p.s3.secret_key, "SECRETVALUE");
	CHECK_STR(p.s3.endpoint, "http://127.0.0.1:9");
	CHECK_STR(p.s3.region, "eu-west-1");
	CHECK_EQ(p.s3.path_style, 1);
	backup_plan_free(&p);
	/* moving the bucket's endpoint without the secret again: refused */
	body = cJSON_Parse("{\"values\":{\"backup.s3.endpoint\":\"http://evil.example\"}}");
	CHECK_EQ(config_level_put(&e.s, &root, "node", ROOT_ID, body, audit_ok, NULL, &view, why,
				  sizeof(why)),
		 -EPERM);
	CHECK(strstr(why, "backup.s3.secret_access_key") != NULL);
	cJSON_Delete(body);
	/* the default prefix; interval 0: not scheduled */
	body = cJSON_Parse("{\"values\":{\"backup.s3.prefix\":null,\"backup.interval_h\":0}}");
	CHECK_EQ(config_level_put(&e.s, &root, "node", ROOT_ID, body, audit_ok, NULL, &view, why,
				  sizeof(why)),
		 0);
	cJSON_Delete(body);
	config_json_free(view);
	CHECK_EQ(backup_plan_read(&e.s, &p), 0);
	CHECK_STR(p.target, "s3://bkt/actlog-backups/");
	CHECK(!p.scheduled);
	backup_plan_free(&p);
	env_close(&e);
}

/* Options for a fast schedule with the fake's operations. */
static struct backup_sched_opts fast(const struct backup_sched_ops *ops, uint64_t period_ms)
{
	struct backup_sched_opts o = {.period_ms = period_ms,
				      .retry_min_ms = 10,
				      .recheck_ms = 20,
				      .first_delay_ms = 1,
				      .ops = ops};

	return o;
}

TEST(runs_prune_and_records)
{
	struct env e;
	struct fake f;
	struct backup_sched_ops ops = {f_settings, f_take, f_prune, &f};
	struct backup_sched_opts o = fast(&ops, 30);
	struct backup_sched *b;
	struct backup_status st;
	struct backup_record ok, err;
	struct audit_count c;
	cJSON *rep;

	env_open(&e);
	fake_init(&f);
	CHECK_EQ(backup_sched_start(&e.s, &o, &b), 0);
	CHECK(e.s.backups == b);
	CHECK(wait_for(&f, &f.prunes, 3));
	backup_sched_stop(b);
	/* every run (all succeeded) was pruned, with backup.keep */
	CHECK_EQ(get(&f, &f.prunes), get(&f, &f.takes));
	CHECK_EQ(f.last_keep, 2);
	CHECK_EQ(f.max_in_flight, 1);
	CHECK_EQ(backup_sched_status(&e.s, b, &st), 0);
	CHECK_EQ(st.runs_ok, f.takes);
	/* each prune spares the backup its run took */
	CHECK_STR(f.last_spare, st.ok.name);
	CHECK_EQ(st.runs_error, 0);
	CHECK_EQ(st.fails, 0);
	CHECK_EQ(st.ok.bytes, 1000 + f.takes);
	CHECK_EQ(st.ok.items, 5);
	CHECK(st.ok.started_ms && st.ok.finished_ms >= st.ok.started_ms);
	CHECK_STR(st.target, "s3://bkt/actlog-backups/");
	/* recorded: an audit entry per run, META, the metrics */
	c = audit_runs(&e);
	CHECK_EQ(c.runs, f.takes);
	CHECK_EQ(c.ok, f.takes);
	CHECK_STR(c.last_target, st.ok.name);
	CHECK_EQ(backup_records_load(&e.s, &ok, &err), 0);
	CHECK_STR(ok.name, st.ok.name);
	CHECK_EQ(ok.bytes, st.ok.bytes);
	CHECK_EQ(ok.started_ms, st.ok.started_ms);
	CHECK_EQ(err.started_ms, 0);
	CHECK_EQ(metrics_get(METRIC_BACKUP_RUNS_OK), f.takes);
	CHECK_EQ(metrics_get(METRIC_BACKUP_LAST_SUCCESS), st.ok.finished_ms / 1000);
	CHECK_EQ(metrics_get(METRIC_BACKUP_LAST_BYTES), 1000 + f.takes);
	CHECK_EQ(metrics_get(METRIC_BACKUP_RUNNING), 0);
	/* stopped: no run asked for is taken */
	CHECK_EQ(backup_sched_run_now(b, NULL, NULL, NULL, 0), -ESHUTDOWN);
	backup_sched_free(b);
	CHECK(e.s.backups == NULL);
	/* a new start reads the last success from META: the next run is due a
	 * period after it, not at once */
	o = fast(&ops, 3600000);
	CHECK_EQ(backup_sched_start(&e.s, &o, &b), 0);
	CHECK(wait_for(&f, &f.reads, f.reads + 2));
	CHECK_EQ(backup_sched_status(&e.s, b, &st), 0);
	CHECK_STR(st.ok.name, ok.name);
	CHECK_EQ(st.next_ms, ok.started_ms + 3600000);
	CHECK_EQ(metrics_get(METRIC_BACKUP_LAST_SUCCESS), ok.finished_ms / 1000);
	/* the report: the fake target (no S3 settings) cannot be listed, which
	 * the report says (list_error) without failing */
	CHECK_EQ(backup_sched_report(&e.s, b, &rep), 0);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rep, "enabled")));
	CHECK_STR(jstr(cJSON_GetObjectItemCaseSensitive(rep, "last_success"), "name"), ok.name);
	CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(rep, "last_failure")));
	CHECK(jstr(rep, "list_error") != NULL);
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rep, "backups")), 0);
	cJSON_Delete(rep);
	backup_sched_free(b);
	env_close(&e);
}

TEST(failures_back_off)
{
	struct env e;
	struct fake f;
	struct backup_sched_ops ops = {f_settings, f_take, f_prune, &f};
	/* an hour's period: every run after the first is a retry */
	struct backup_sched_opts o = fast(&ops, 3600000);
	struct backup_sched *b;
	struct backup_status st;
	struct backup_record ok, err;
	struct audit_count c;

	env_open(&e);
	fake_init(&f);
	f.fail_first = 3;
	f.block_at = 3; /* the second retry waits: look at the schedule meanwhile */
	CHECK_EQ(backup_sched_start(&e.s, &o, &b), 0);
	CHECK(wait_blocked(&f, true));
	CHECK_EQ(backup_sched_status(&e.s, b, &st), 0);
	CHECK(st.running);
	CHECK_EQ(st.fails, 2);
	CHECK_EQ(st.runs_error, 2);
	CHECK_STR(st.err.error, "injected failure 2");
	/* the run was due 2 * retry_min after the failure before it */
	CHECK_EQ(st.next_ms, st.err.finished_ms + 20);
	CHECK_EQ(get(&f, &f.prunes), 0); /* a failed run is not pruned */
	CHECK_EQ(metrics_get(METRIC_BACKUP_RUNNING), 1);
	pthread_mutex_lock(&f.mu);
	f.release = true;
	pthread_mutex_unlock(&f.mu);
	CHECK(wait_for(&f, &f.prunes, 1)); /* the fourth run succeeds */
	CHECK(wait_for(&f, &f.reads, f.reads + 2));
	CHECK_EQ(backup_sched_status(&e.s, b, &st), 0);
	CHECK_EQ(f.takes, 4);
	CHECK_EQ(st.fails, 0);
	CHECK_EQ(st.runs_error, 3);
	CHECK_EQ(st.runs_ok, 1);
	CHECK_STR(st.err.error, "injected failure 3");
	/* after a success: a period after its start */
	CHECK_EQ(st.next_ms, st.ok.started_ms + 3600000);
	backup_sched_free(b);
	c = audit_runs(&e);
	CHECK_EQ(c.runs, 4);
	CHECK_EQ(c.error, 3);
	CHECK_EQ(c.ok, 1);
	CHECK_EQ(backup_records_load(&e.s, &ok, &err), 0);
	CHECK_STR(err.error, "injected failure 3");
	CHECK(ok.name[0] != 0);
	CHECK_EQ(metrics_get(METRIC_BACKUP_RUNS_ERROR), 3);
	CHECK_EQ(metrics_get(METRIC_BACKUP_LAST_FAILURE), err.finished_ms / 1000);
	env_close(&e);
}

TEST(no_overlap_and_run_now)
{
	struct env e;
	struct fake f;
	struct backup_sched_ops ops = {f_settings, f_take, f_prune, &f};
	struct backup_sched_opts o = fast(&ops, 0); /* backup.interval_h: 24 h */
	struct backup_sched *b;
	struct principal by = {.kind = PRINCIPAL_USER, .id = "u_0000000000000001"};
	struct audit_count c;
	char why[128];

	env_open(&e);
	fake_init(&f);
	o.first_delay_ms = 3600000; /* nothing on its own during the test */
	f.block_at = 1;
	CHECK_EQ(backup_sched_run_now(NULL, &by, NULL, why, sizeof(why)), -ESRCH);
	CHECK_EQ(backup_sched_start(&e.s, &o, &b), 0);
	CHECK_EQ(backup_sched_run_now(b, &by, "127.0.0.1", why, sizeof(why)), 0);
	CHECK(wait_blocked(&f, true));
	/* one is running: refused, however often */
	CHECK_EQ(backup_sched_run_now(b, &by, NULL, why, sizeof(why)), -EBUSY);
	CHECK_STR(why, "a backup is running");
	CHECK_EQ(backup_sched_run_now(b, NULL, NULL, why, sizeof(why)), -EBUSY);
	pthread_mutex_lock(&f.mu);
	f.release = true;
	pthread_mutex_unlock(&f.mu);
	CHECK(wait_for(&f, &f.prunes, 1));
	/* after it, another may be asked for */
	CHECK(wait_for(&f, &f.reads, f.reads + 1));
	{
		int i, ret = -EBUSY;

		/* the thread clears "running" just after the prune */
		for (i = 0; i < 1000 && ret == -EBUSY; i++) {
			ret = backup_sched_run_now(b, &by, NULL, why, sizeof(why));
			if (ret == -EBUSY)
				usleep(5000);
		}
		CHECK_EQ(ret, 0);
	}
	CHECK(wait_for(&f, &f.prunes, 2));
	backup_sched_free(b);
	CHECK_EQ(f.takes, 2);
	CHECK_EQ(f.max_in_flight, 1);
	c = audit_runs(&e);
	CHECK_EQ(c.runs, 2);
	CHECK_EQ(c.by_user, 2); /* actor: who asked; trigger "request" */
	env_close(&e);
}

TEST(stop_cancels)
{
	struct env e;
	struct fake f;
	struct backup_sched_ops ops = {f_settings, f_take, f_prune, &f};
	struct backup_sched_opts o = fast(&ops, 3600000);
	struct backup_sched *b;
	struct backup_record ok, err;

	env_open(&e);
	fake_init(&f);
	f.block_at = 1;
	f.wait_cancel = true; /* returns only when canceled */
	CHECK_EQ(backup_sched_start(&e.s, &o, &b), 0);
	CHECK(wait_blocked(&f, true));
	backup_sched_stop(b); /* returns: the take saw the cancel */
	CHECK(f.saw_cancel);
	CHECK_EQ(f.prunes, 0);
	backup_sched_free(b);
	CHECK_EQ(backup_records_load(&e.s, &ok, &err), 0);
	CHECK(err.started_ms != 0);
	CHECK_STR(err.error, "canceled");
	CHECK_EQ(metrics_get(METRIC_BACKUP_RUNNING), 0);
	env_close(&e);
}

TEST(settings_reread)
{
	struct env e;
	struct fake f;
	struct backup_sched_ops ops = {f_settings, f_take, f_prune, &f};
	struct backup_sched_opts o = fast(&ops, 30);
	struct backup_sched *b;
	struct backup_status st;
	char why[128];
	unsigned n;

	env_open(&e);
	fake_init(&f);
	f.bucket = false;
	CHECK_EQ(backup_sched_start(&e.s, &o, &b), 0);
	CHECK(wait_for(&f, &f.reads, 3));
	CHECK_EQ(get(&f, &f.takes), 0);
	CHECK_EQ(backup_sched_status(&e.s, b, &st), 0);
	CHECK(!st.scheduled);
	CHECK_EQ(st.next_ms, 0);
	CHECK_EQ(backup_sched_run_now(b, NULL, NULL, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "backup.s3.bucket") != NULL);
	/* a bucket: runs start without a restart */
	pthread_mutex_lock(&f.mu);
	f.bucket = true;
	pthread_mutex_unlock(&f.mu);
	CHECK(wait_for(&f, &f.prunes, 2));
	CHECK_EQ(f.last_keep, 2);
	/* another keep: the next prune uses it */
	pthread_mutex_lock(&f.mu);
	f.keep = 5;
	n = f.prunes;
	pthread_mutex_unlock(&f.mu);
	CHECK(wait_for(&f, &f.prunes, n + 2));
	CHECK_EQ(get(&f, &f.last_keep), 5);
	/* interval 0: off */
	pthread_mutex_lock(&f.mu);
	f.interval_h = 0;
	n = f.reads;
	pthread_mutex_unlock(&f.mu);
	CHECK(wait_for(&f, &f.reads, n + 3));
	n = get(&f, &f.takes);
	CHECK(wait_for(&f, &f.reads, get(&f, &f.reads) + 3));
	CHECK_EQ(get(&f, &f.takes), n);
	CHECK_EQ(backup_sched_status(&e.s, b, &st), 0);
	CHECK(!st.scheduled);
	CHECK_EQ(st.next_ms, 0);
	backup_sched_free(b);
	env_close(&e);
}

/*
 * A write of the root's settings wakes the thread: with a recheck far away
 * (10 min), a bucket set and backup_sched_settings_changed() called, the
 * first run starts at once (it waited for the recheck before).
 */
TEST(settings_change_wakes)
{
	struct env e;
	struct fake f;
	struct backup_sched_ops ops = {f_settings, f_take, f_prune, &f};
	struct backup_sched_opts o = fast(&ops, 30);
	struct backup_sched *b;
	unsigned n;

	o.recheck_ms = 600000;
	env_open(&e);
	fake_init(&f);
	f.bucket = false;
	CHECK_EQ(backup_sched_start(&e.s, &o, &b), 0);
	CHECK(wait_for(&f, &f.reads, 1));
	usleep(50000); /* the thread is waiting for the recheck now */
	n = get(&f, &f.reads);
	pthread_mutex_lock(&f.mu);
	f.bucket = true;
	pthread_mutex_unlock(&f.mu);
	backup_sched_settings_changed(b);
	CHECK(wait_for(&f, &f.takes, 1));
	CHECK(get(&f, &f.reads) > n);
	backup_sched_settings_changed(NULL); /* fine */
	backup_sched_free(b);
	env_close(&e);
}

int main(void)
{
	RUN(backoff_sequence);
	RUN(root_settings);
	RUN(runs_prune_and_records);
	RUN(failures_back_off);
	RUN(no_overlap_and_run_now);
	RUN(stop_cancels);
	RUN(settings_reread);
	RUN(settings_change_wakes);
	return CHECK_DONE();
}
