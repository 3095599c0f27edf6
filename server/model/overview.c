// SPDX-License-Identifier: BSD-2-Clause
/*
 * overview.c - a node's team overview (model/overview.h): the people of the
 * teams below a node the caller may read, each with their activity totals
 * and series (query_activity_buckets(), the activity route's sums), top
 * application (query_user_apps()), newest record (the team's devices'
 * users_seen) and effective activity interval (config_effective_for()).
 * Keys come from store/keys.h; nothing here answers HTTP.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/config.h"
#include "model/overview.h"
#include "model/query.h"
#include "model/rollup.h"
#include "store/keys.h"
#include "util.h"

#define INTERVAL_DEFAULT_S 60 /* activity.interval_s when the config has none */

/* A person in scope, as the member walk finds them. */
struct row {
	char uid[ID_SIZE];
	cJSON *user;	   /* the user item */
	size_t team;	   /* index into the overview's teams */
	int64_t last;	   /* newest users_seen time, -1: none */
	struct target tgt; /* the user's target (the team's path and uid) */
	bool who;	   /* p may read the user (user.read): name, email, tz, state */
};

struct ov {
	struct srv *s;
	const struct principal *p;
	struct target team; /* the team being walked */
	size_t team_i;
	struct row *rows; /* OVERVIEW_PEOPLE_MAX */
	size_t n, scanned, devices;
	bool truncated, devices_truncated;
	struct row **by_id; /* rows sorted by uid, for users_seen */
};

/* Each member of the team index: a row when p may read their activity. */
static int member_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct ov *o = ctx;
	struct row *r;
	struct target t;
	int ret;

	(void)pk;
	(void)val;
	(void)len;
	if (++o->scanned > OVERVIEW_TEAM_SCAN_MAX) {
		o->truncated = true;
		return 1;
	}
	if (strlen(sk) >= ID_SIZE)
		return 0;
	t = o->team;
	strcpy(t.user_id, sk);
	if (authorize(o->p, PERM_ACTIVITY_READ, &t))
		return 0;
	if (o->n == OVERVIEW_PEOPLE_MAX) {
		o->truncated = true;
		return 1;
	}
	r = &o->rows[o->n];
	ret = jget(o->s, STORE_T_USERS, sk, SK_USER, &r->user);
	if (ret == -ENOENT || ret == -EIO)
		return 0; /* an index entry without its user (being removed), or not JSON */
	if (ret)
		return ret;
	strcpy(r->uid, sk);
	r->team = o->team_i;
	r->last = -1;
	r->tgt = t;
	r->who = !authorize(o->p, PERM_USER_READ, &t);
	o->n++;
	return 0;
}

static int by_uid(const void *a, const void *b)
{
	return strcmp((*(struct row *const *)a)->uid, (*(struct row *const *)b)->uid);
}

/* Each device of a team: raise last of the rows its users_seen names. */
static int device_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct ov *o = ctx;
	const cJSON *e;
	cJSON *d;
	int ret;

	(void)pk;
	(void)val;
	(void)len;
	if (o->devices++ >= OVERVIEW_DEVICES_MAX) {
		o->devices_truncated = true;
		return 1;
	}
	ret = jget(o->s, STORE_T_DEVICES, sk, SK_DEVICE, &d);
	if (ret)
		return ret == -ENOENT || ret == -EIO ? 0 : ret;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(d, "users_seen"))
	{
		struct row key, *kp = &key, **hit;
		const char *uid = jstr(e, "user_id");
		int64_t t = jint(e, "last_seen", -1);

		if (!uid || strlen(uid) >= ID_SIZE)
			continue;
		strcpy(key.uid, uid);
		hit = bsearch(&kp, o->by_id, o->n, sizeof(*o->by_id), by_uid);
		if (hit && t > (*hit)->last)
			(*hit)->last = t;
	}
	cJSON_Delete(d);
	return 0;
}

/* The rows of every team in teams[0..n_teams): members, then (once all are
 * known) the devices of the teams that have rows. names[i] gets team i's
 * name (the caller frees each). */
static int collect(struct ov *o, char (*teams)[ID_SIZE], size_t n_teams, char **names)
{
	struct key pk;
	size_t i;
	int ret;

	for (i = 0; i < n_teams && !o->truncated; i++) {
		cJSON *node = NULL;

		ret = target_node(o->s, teams[i], &o->team);
		if (ret == -ENOENT)
			continue; /* deleted since the walk */
		if (ret)
			return ret;
		if (!node_get(o->s, teams[i], &node)) {
			names[i] = strdup(jstr(node, "name") ? jstr(node, "name") : "");
			cJSON_Delete(node);
			if (!names[i])
				return -ENOMEM;
		}
		o->team_i = i;
		ret = store_query(o->s->st, STORE_T_USERS, key_team_index(&pk, teams[i]), NULL,
				  NULL, 0, 0, member_item, o);
		if (ret < 0)
			return ret;
	}
	o->by_id = malloc((o->n ? o->n : 1) * sizeof(*o->by_id));
	if (!o->by_id)
		return -ENOMEM;
	for (i = 0; i < o->n; i++)
		o->by_id[i] = &o->rows[i];
	qsort(o->by_id, o->n, sizeof(*o->by_id), by_uid);
	/* each team with rows once: rows are grouped by team in walk order */
	for (i = 0; i < o->n && !o->devices_truncated; i++) {
		if (i && o->rows[i].team == o->rows[i - 1].team)
			continue;
		ret = store_query(o->s->st, STORE_T_DEVICES,
				  key_team_index(&pk, teams[o->rows[i].team]), NULL, NULL, 0, 0,
				  device_item, o);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* a + b, saturating (stored counters are sums a device can inflate) */
static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static void add_time(cJSON *o, const char *k, int64_t ms)
{
	char ts[RFC3339_LEN];

	cJSON_AddStringToObject(o, k, rfc3339_ms(ms, ts));
}

static void add_str_or_null(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

/* The effective activity.interval_s of row r (the default when the config
 * cannot be read: the row stays, its "online" judged by the default). */
static int64_t interval_of(struct srv *s, const struct row *r)
{
	cJSON *cfg = NULL;
	int64_t v = INTERVAL_DEFAULT_S;

	if (!config_effective_for(s, &r->tgt, r->uid, false, &cfg))
		v = jint(cJSON_GetObjectItemCaseSensitive(cfg, "values"), "activity.interval_s",
			 INTERVAL_DEFAULT_S);
	cJSON_Delete(cfg);
	return v;
}

/* Row r's answer: b holds its n steps (scratch, overwritten). */
static int row_json(struct srv *s, const struct overview_req *q, const struct row *r,
		    const char *team_id, const char *team_name, const struct query_span *sp,
		    int64_t (*b)[RA__N], cJSON **out)
{
	int64_t tot[RA__N] = {0}, interval_s, total_ms;
	struct query_app *apps = NULL;
	size_t i, k, n_apps = 0, n = sp->n;
	cJSON *o, *t, *se, *act, *iv;
	bool apps_cut;
	int ret;

	/* the steps of the row, as the activity route sums them (by hour, or
	 * by 10-minute slot in a zone or at a step of 600 s), and its
	 * applications counted the same way, as the reports do */
	ret = query_activity_buckets_tz(s, r->uid, sp, b);
	if (ret)
		return ret;
	ret = query_user_apps_tz(s, r->uid, sp->slots, q->from, q->to, &apps, &n_apps, &total_ms,
				 &apps_cut);
	if (ret)
		return ret;
	interval_s = interval_of(s, r);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "user_id", r->uid);
	/* who the person is only with user.read on them: activity.read alone
	 * (a custom role, a personal token of that scope) reads the numbers */
	add_str_or_null(o, "name", r->who ? jstr(r->user, "name") : NULL);
	add_str_or_null(o, "email", r->who ? jstr(r->user, "email") : NULL);
	cJSON_AddStringToObject(o, "team_id", team_id);
	add_str_or_null(o, "team_name", team_name);
	add_str_or_null(o, "tz", r->who ? jstr(r->user, "tz") : NULL);
	if (r->who)
		cJSON_AddBoolToObject(
		    o, "disabled",
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->user, "disabled")));
	else
		cJSON_AddNullToObject(o, "disabled");
	cJSON_AddNumberToObject(o, "interval_s", (double)interval_s);
	if (r->last >= 0)
		cJSON_AddNumberToObject(o, "last_record", (double)r->last);
	else
		cJSON_AddNullToObject(o, "last_record");
	cJSON_AddBoolToObject(o, "online",
			      r->last >= 0 && q->now - r->last <= 2 * interval_s * 1000);
	se = cJSON_AddObjectToObject(o, "series");
	act = cJSON_AddArrayToObject(se, "active_s");
	iv = cJSON_AddArrayToObject(se, "interval_s");
	for (k = 0; k < n; k++) {
		cJSON_AddItemToArray(act, cJSON_CreateNumber((double)b[k][RA_ACTIVE]));
		cJSON_AddItemToArray(iv, cJSON_CreateNumber((double)b[k][RA_INTERVAL]));
		for (i = 0; i < RA__N; i++)
			tot[i] = sat_add(tot[i], b[k][i]);
	}
	t = cJSON_AddObjectToObject(o, "totals");
	for (i = 0; i < RA__N; i++)
		cJSON_AddNumberToObject(t, rollup_act_names[i], (double)tot[i]);
	if (tot[RA_INTERVAL] > 0)
		cJSON_AddNumberToObject(o, "activity_pct",
					100.0 * (double)tot[RA_ACTIVE] / (double)tot[RA_INTERVAL]);
	else
		cJSON_AddNullToObject(o, "activity_pct");
	if (n_apps) {
		cJSON *a = cJSON_AddObjectToObject(o, "top_app");

		cJSON_AddStringToObject(a, "app", apps[0].name);
		cJSON_AddNumberToObject(a, "focus_s", (double)apps[0].ms / 1000.0);
	} else {
		cJSON_AddNullToObject(o, "top_app");
	}
	query_apps_free(apps, n_apps);
	*out = o;
	return 0;
}

int overview_node(struct srv *s, const struct principal *p, const struct overview_req *q,
		  cJSON **out)
{
	struct ov o = {.s = s, .p = p};
	char(*teams)[ID_SIZE] = NULL;
	char **names = NULL;
	int64_t(*b)[RA__N] = NULL;
	struct query_span sp;
	size_t n_teams = 0, n, i;
	cJSON *ans = NULL, *arr, *st;
	int ret;

	*out = NULL;
	if (q->from > q->to || q->to - q->from > OVERVIEW_RANGE_MAX_MS ||
	    !query_step_ok(q->step_ms))
		return -EINVAL;
	ret = query_span_make(q->z, q->from, q->to, q->step_ms, OVERVIEW_POINTS_MAX, &sp);
	if (ret)
		return ret;
	n = sp.n;
	ret = query_teams_below(s, q->node_id, &teams, &n_teams);
	if (ret) {
		query_span_free(&sp);
		return ret;
	}
	o.rows = calloc(OVERVIEW_PEOPLE_MAX, sizeof(*o.rows));
	names = calloc(n_teams ? n_teams : 1, sizeof(*names));
	b = calloc(n ? n : 1, sizeof(*b));
	ret = o.rows && names && b ? collect(&o, teams, n_teams, names) : -ENOMEM;
	if (ret)
		goto out;
	ans = cJSON_CreateObject();
	cJSON_AddStringToObject(ans, "node_id", q->node_id);
	add_time(ans, "from", q->from);
	add_time(ans, "to", q->to);
	cJSON_AddNumberToObject(ans, "step", (double)(q->step_ms / 1000));
	cJSON_AddStringToObject(ans, "tz", q->z ? tz_name(q->z) : "UTC");
	add_time(ans, "start", sp.start[0]);
	st = cJSON_AddArrayToObject(ans, "starts");
	for (i = 0; i < n; i++) {
		char ts[RFC3339_LEN];

		cJSON_AddItemToArray(st, cJSON_CreateString(rfc3339_ms(sp.start[i], ts)));
	}
	cJSON_AddNumberToObject(ans, "points", (double)n);
	cJSON_AddBoolToObject(ans, "truncated", o.truncated);
	if (o.devices_truncated)
		cJSON_AddTrueToObject(ans, "last_record_partial");
	arr = cJSON_AddArrayToObject(ans, "people");
	for (i = 0; i < o.n && !ret; i++) {
		cJSON *row = NULL;

		ret = row_json(s, q, &o.rows[i], teams[o.rows[i].team], names[o.rows[i].team], &sp,
			       b, &row);
		if (!ret)
			cJSON_AddItemToArray(arr, row);
	}
	if (ret) {
		cJSON_Delete(ans);
		ans = NULL;
	}
out:
	for (i = 0; o.rows && i < o.n; i++)
		cJSON_Delete(o.rows[i].user);
	for (i = 0; names && i < n_teams; i++)
		free(names[i]);
	free(o.by_id);
	free(o.rows);
	free(names);
	free(teams);
	free(b);
	query_span_free(&sp);
	*out = ans;
	return ret;
}
