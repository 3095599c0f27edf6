// SPDX-License-Identifier: BSD-2-Clause
/*
 * day.c - a person's day from the raw RECORDS (contracts: model/day.h;
 * layout: store/keys.h). The span making is pure and comes first; then the
 * reads: the user's devices, their activity and app_usage records, and the
 * answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/tz.h"
#include "model/day.h"
#include "model/device.h"
#include "store/keys.h"
#include "util.h"

#define DAY_MS (86400LL * 1000)
#define CPU_SLOTS 4096 /* hash slots of the (app, exe) sums: > 2 x DAY_CPU_DISTINCT_MAX */

/* --- spans (pure) --- */

/* Room for one more span: 0, 1 when DAY_SPANS_MAX is reached, -ENOMEM. */
static int spans_room(struct day_spans *sp)
{
	struct day_span *v;
	size_t cap;

	if (sp->n >= DAY_SPANS_MAX) {
		sp->truncated = true;
		return 1;
	}
	if (sp->n < sp->cap)
		return 0;
	cap = sp->cap ? sp->cap * 2 : 64;
	v = realloc(sp->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	sp->v = v;
	sp->cap = cap;
	return 0;
}

/* sp's last span when it is of device dev and ends within DAY_SPAN_GAP_MS
 * before (or after) start; else NULL. */
static struct day_span *span_goes_on(struct day_spans *sp, const char *dev, int64_t start)
{
	struct day_span *l = sp->n ? &sp->v[sp->n - 1] : NULL;

	if (!l || strcmp(l->device_id, dev) || start - l->end > DAY_SPAN_GAP_MS ||
	    l->end - start > DAY_SPAN_GAP_MS)
		return NULL;
	return l;
}

/* Append [start, end) of app (NULL: idle) on dev to sp, merged into the
 * last span when it goes on with the same app. */
static int span_put(struct day_spans *sp, const char *dev, const char *app, int64_t start,
		    int64_t end, double focus_s)
{
	struct day_span *l = span_goes_on(sp, dev, start), *n;
	int ret;

	if (l && !strcmp(l->app, app ? app : "")) {
		if (end > l->end)
			l->end = end;
		l->focus_s += focus_s;
		return 0;
	}
	ret = spans_room(sp);
	if (ret)
		return ret < 0 ? ret : 0;
	n = &sp->v[sp->n++];
	memset(n, 0, sizeof(*n));
	n->start = start;
	n->end = end;
	n->focus_s = focus_s;
	snprintf(n->app, sizeof(n->app), "%s", app ? app : "");
	snprintf(n->device_id, sizeof(n->device_id), "%s", dev);
	return 0;
}

int day_spans_add_focus(struct day_spans *sp, const char *dev, int64_t start, int64_t end,
			const struct day_app *apps, size_t n)
{
	const struct day_span *l = span_goes_on(sp, dev, start);
	size_t first = n, i, k;
	int64_t t = start;
	int ret;

	if (end < start)
		end = start;
	/* the app that goes on from the record before comes first */
	for (i = 0; l && i < n; i++)
		if (apps[i].app && !strcmp(apps[i].app, l->app)) {
			first = i;
			break;
		}
	for (k = 0; k <= n; k++) {
		const struct day_app *a;
		int64_t e;

		if (k == 0 && first == n)
			continue; /* no app goes on */
		i = k == 0 ? first : k - 1;
		if (k > 0 && i == first)
			continue;
		a = &apps[i];
		if (!a->app || !a->app[0] || !(a->focus_s > 0))
			continue;
		e = t + (int64_t)(a->focus_s * 1000.0 + 0.5);
		if (e > end)
			e = end;
		ret = span_put(sp, dev, a->app, t, e, a->focus_s);
		if (ret)
			return ret;
		t = e;
	}
	return 0;
}

int day_spans_add_idle(struct day_spans *sp, const char *dev, int64_t start, int64_t end)
{
	if (end < start)
		end = start;
	return span_put(sp, dev, NULL, start, end, 0);
}

static int span_cmp(const void *a, const void *b)
{
	const struct day_span *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->device_id, y->device_id);
}

void day_spans_sort(struct day_spans *sp)
{
	if (sp->n > 1)
		qsort(sp->v, sp->n, sizeof(*sp->v), span_cmp);
}

void day_spans_free(struct day_spans *sp)
{
	free(sp->v);
	memset(sp, 0, sizeof(*sp));
}

/* --- the day's bounds --- */

int day_tz_check(const char *tz)
{
	return !tz || tz_valid(tz) ? 0 : -ENOTSUP;
}

int day_bounds(const char *date, const char *tz, int64_t *from, int64_t *to)
{
	struct tz *z = NULL;
	int y, m, d, ret;

	if (tz_parse_date(date ? date : "", &y, &m, &d) || y < 2000 || y > 2999)
		return -EINVAL;
	if (tz) {
		ret = tz_open(tz, &z);
		if (ret)
			return ret == -ENOMEM ? ret : -ENOTSUP;
	} else {
		ret = tz_open("UTC", &z);
		if (ret)
			return ret;
	}
	/* the local midnights of the day and of the next (23 or 25 hours
	 * apart on a day the offset changes) */
	ret = tz_midnight(z, y, m, d, from);
	tz_date_add(&y, &m, &d, 1);
	if (!ret)
		ret = tz_midnight(z, y, m, d, to);
	tz_close(z);
	return ret;
}

/* --- reading --- */

/* activity counters of a slot */
enum { C_ACTIVE, C_INTERVAL, C_KEYS, C_CLICKS, C_MOVES, C_SCROLLS, C_RECORDS, C__N };
static const char *const counter_names[C__N] = {"active_s", "interval_s", "keys",   "clicks",
						"moves",    "scrolls",	  "records"};

struct cpu_sum {
	char *app, *exe; /* NULL: a free slot */
	double cpu_s;
};

struct dev_seen {
	char id[ID_SIZE];
	int64_t first, last; /* of the user's records; first INT64_MAX: none */
};

struct day {
	struct srv *s;
	const char *uid;
	int64_t from, to;
	size_t read;	/* records read, the user's or not */
	size_t records; /* the user's records kept */
	bool truncated, devices_truncated, cpu_truncated;
	struct dev_seen dev[DAY_DEVICES_MAX];
	size_t n_dev;
	struct dev_seen *cur; /* the device being read */
	struct day_spans focus, idle;
	size_t n_slots;
	int64_t (*slot)[C__N];
	struct cpu_sum *cpu; /* CPU_SLOTS */
	size_t n_cpu;
};

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* An RFC 3339 string field k of o as Unix ms, or def. */
static int64_t jtime(const cJSON *o, const char *k, int64_t def)
{
	const char *v = jstr(o, k);
	int64_t ms;

	return v && !rfc3339_parse(v, &ms) ? ms : def;
}

/* A number field k of o (>= 0), or 0. */
static double jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) && v->valuedouble > 0 ? v->valuedouble : 0;
}

static uint64_t fnv(const char *a, const char *b)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *a; a++)
		h = (h ^ (unsigned char)*a) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (; *b; b++)
		h = (h ^ (unsigned char)*b) * 1099511628211ULL;
	return h;
}

/* Add cpu_s to the sum of (app, exe). 0, -ENOMEM. */
static int cpu_add(struct day *d, const char *app, const char *exe, double cpu_s)
{
	size_t i = (size_t)(fnv(app, exe) % CPU_SLOTS);
	struct cpu_sum *c;

	for (;; i = (i + 1) % CPU_SLOTS) {
		c = &d->cpu[i];
		if (!c->app)
			break;
		if (!strcmp(c->app, app) && !strcmp(c->exe, exe)) {
			c->cpu_s += cpu_s;
			return 0;
		}
	}
	if (d->n_cpu >= DAY_CPU_DISTINCT_MAX) {
		d->cpu_truncated = true;
		return 0;
	}
	c->app = strdup(app);
	c->exe = strdup(exe);
	if (!c->app || !c->exe) {
		free(c->app);
		free(c->exe);
		c->app = c->exe = NULL;
		return -ENOMEM;
	}
	c->cpu_s = cpu_s;
	d->n_cpu++;
	return 0;
}

static int app_usage(struct day *d, const cJSON *j, int64_t start, int64_t end)
{
	struct day_app apps[64];
	const cJSON *a, *arr = cJSON_GetObjectItemCaseSensitive(j, "apps");
	size_t n = 0;
	int ret;

	cJSON_ArrayForEach(a, arr)
	{
		if (n == ARRAY_SIZE(apps))
			break;
		apps[n].app = jstr(a, "app");
		apps[n].focus_s = jnum(a, "focus_s");
		n++;
	}
	ret = day_spans_add_focus(&d->focus, d->cur->id, start, end, apps, n);
	if (ret)
		return ret;
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(j, "top_cpu"))
	{
		const char *app = jstr(a, "app"), *exe = jstr(a, "exe");
		double cpu = jnum(a, "cpu_s");

		if (!(cpu > 0))
			continue;
		ret = cpu_add(d, app ? app : "", exe ? exe : "", cpu);
		if (ret)
			return ret;
	}
	return 0;
}

static int activity(struct day *d, const cJSON *j, int64_t start, int64_t end)
{
	static const char *const fields[C_RECORDS] = {"active_s", "interval_s", "keys",
						      "clicks",	  "moves",	"scrolls"};
	size_t k = (size_t)((start - d->from) / DAY_SLOT_MS), i;
	const cJSON *idle = cJSON_GetObjectItemCaseSensitive(j, "idle");

	if (k < d->n_slots) {
		for (i = 0; i < C_RECORDS; i++)
			d->slot[k][i] = sat_add(d->slot[k][i], jint(j, fields[i], 0));
		d->slot[k][C_RECORDS]++;
	}
	if (cJSON_IsTrue(idle) || jint(j, "active_s", 0) <= 0)
		return day_spans_add_idle(&d->idle, d->cur->id, start, end);
	return 0;
}

/* A record of the device being read (RECORDS, time order). */
static int record_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct day *d = ctx;
	int64_t ts, start, end;
	const char *type;
	cJSON *j;
	int ret = 0;

	(void)pk;
	if (d->read >= DAY_RECORDS_MAX) {
		d->truncated = true;
		return 1;
	}
	d->read++;
	ts = strtoll(sk, NULL, 10);
	j = cJSON_ParseWithLength(val, len);
	if (!j || !jstr(j, "user_id") || strcmp(jstr(j, "user_id"), d->uid)) {
		cJSON_Delete(j);
		return 0; /* another person's (or no one's) record */
	}
	start = jtime(j, "start", ts - jint(j, "interval_s", 0) * 1000);
	end = jtime(j, "end", ts);
	if (end < start)
		end = start;
	if (start < d->from || start >= d->to) {
		cJSON_Delete(j);
		return 0;
	}
	type = jstr(j, "type");
	if (type && !strcmp(type, "app_usage"))
		ret = app_usage(d, j, start, end);
	else if (type && !strcmp(type, "activity"))
		ret = activity(d, j, start, end);
	cJSON_Delete(j);
	if (ret)
		return ret;
	d->records++;
	if (start < d->cur->first)
		d->cur->first = start;
	if (end > d->cur->last)
		d->cur->last = end;
	return 0;
}

/* The records of type of the device being read whose ts is in
 * [from, to + DAY_RECORD_SPAN_MS). */
static int read_records(struct day *d, const char *type)
{
	int64_t hi_ms = d->to + DAY_RECORD_SPAN_MS, day;
	struct key pk, lo, hi;
	int ret = 0;

	key_time(&lo, d->from);
	key_time(&hi, hi_ms); /* "<ms>" sorts before every "<ms>|...": ts < hi_ms */
	for (day = d->from / DAY_MS * DAY_MS; day < hi_ms && ret >= 0 && !d->truncated;
	     day += DAY_MS)
		ret = store_query(d->s->st, STORE_T_RECORDS,
				  key_record_pk(&pk, d->cur->id, type, day), lo.s, hi.s, 0, 0,
				  record_item, d);
	return ret < 0 ? ret : 0;
}

struct team_devs {
	char (*ids)[ID_SIZE];
	size_t n;
};

static int team_dev_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct team_devs *t = ctx;

	(void)pk;
	(void)val;
	(void)len;
	if (strlen(sk) < ID_SIZE && t->n < DAY_TEAM_DEVICES_MAX)
		strcpy(t->ids[t->n++], sk);
	return 0;
}

/* Does device item dv show user uid on it at or after since? */
static bool dev_has_user(const cJSON *dv, const char *uid, int64_t since)
{
	const cJSON *e;

	if (jstr(dv, "owner_id") && !strcmp(jstr(dv, "owner_id"), uid))
		return true;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(dv, "users_seen"))
	{
		if (jstr(e, "user_id") && !strcmp(jstr(e, "user_id"), uid) &&
		    jint(e, "last_seen", 0) >= since)
			return true;
	}
	return false;
}

/* d->dev: the devices of the user's team that may hold the user's records
 * of the day (model/day.h). */
static int find_devices(struct day *d)
{
	struct team_devs t = {0};
	struct key pk;
	cJSON *u = NULL, *dv;
	const char *team;
	size_t i;
	int ret;

	ret = jget(d->s, STORE_T_USERS, d->uid, SK_USER, &u);
	if (ret)
		return ret;
	team = jstr(u, "team_id");
	if (!team || !team[0]) {
		cJSON_Delete(u);
		return 0;
	}
	t.ids = calloc(DAY_TEAM_DEVICES_MAX, sizeof(*t.ids));
	if (!t.ids) {
		cJSON_Delete(u);
		return -ENOMEM;
	}
	ret = store_query(d->s->st, STORE_T_DEVICES, key_team_index(&pk, team), NULL, NULL,
			  DAY_TEAM_DEVICES_MAX, 0, team_dev_item, &t);
	cJSON_Delete(u);
	for (i = 0; ret >= 0 && i < t.n; i++) {
		dv = NULL;
		ret = jget(d->s, STORE_T_DEVICES, t.ids[i], SK_DEVICE, &dv);
		if (ret == -ENOENT) {
			ret = 0;
			continue;
		}
		if (!ret && dev_has_user(dv, d->uid, d->from - DEVICE_USERS_SEEN_STEP_MS)) {
			if (d->n_dev == DAY_DEVICES_MAX) {
				d->devices_truncated = true;
			} else {
				strcpy(d->dev[d->n_dev].id, t.ids[i]);
				d->dev[d->n_dev].first = INT64_MAX;
				d->dev[d->n_dev].last = INT64_MIN;
				d->n_dev++;
			}
		}
		cJSON_Delete(dv);
	}
	free(t.ids);
	return ret < 0 ? ret : 0;
}

/* --- the answer --- */

static void add_time(cJSON *o, const char *k, int64_t ms)
{
	char ts[RFC3339_LEN];

	cJSON_AddStringToObject(o, k, rfc3339_ms(ms, ts));
}

/* seconds (>= 0) to the millisecond, so that sums print as sent */
static double round_ms(double s)
{
	return (double)(int64_t)(s * 1000.0 + 0.5) / 1000.0;
}

static void spans_json(cJSON *arr, const struct day_spans *sp, bool focus)
{
	size_t i;

	for (i = 0; i < sp->n; i++) {
		const struct day_span *x = &sp->v[i];
		cJSON *o = cJSON_CreateObject();

		add_time(o, "start", x->start);
		add_time(o, "end", x->end);
		if (focus) {
			cJSON_AddStringToObject(o, "app", x->app);
			cJSON_AddNumberToObject(o, "focus_s", round_ms(x->focus_s));
		}
		cJSON_AddStringToObject(o, "device_id", x->device_id);
		cJSON_AddItemToArray(arr, o);
	}
}

static int cpu_cmp(const void *a, const void *b)
{
	const struct cpu_sum *x = a, *y = b;
	int c;

	if (!x->app || !y->app)
		return !x->app - !y->app; /* free slots last */
	if (x->cpu_s != y->cpu_s)
		return x->cpu_s > y->cpu_s ? -1 : 1;
	c = strcmp(x->app, y->app);
	return c ? c : strcmp(x->exe, y->exe);
}

static int dev_cmp(const void *a, const void *b)
{
	const struct dev_seen *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* The machines with records of the user, by their first record. */
static void devices_json(struct day *d, cJSON *arr)
{
	size_t i;

	qsort(d->dev, d->n_dev, sizeof(*d->dev), dev_cmp);

	for (i = 0; i < d->n_dev; i++) {
		const struct dev_seen *v = &d->dev[i];
		cJSON *o, *si = NULL, *dv = NULL;
		const char *host;

		if (v->first == INT64_MAX)
			continue; /* none of the user's records of the day */
		if (jget(d->s, STORE_T_DEVICES, v->id, SK_SYSINFO, &si))
			si = NULL;
		if (jget(d->s, STORE_T_DEVICES, v->id, SK_DEVICE, &dv))
			dv = NULL;
		host = jstr(si, "hostname") ? jstr(si, "hostname") : jstr(dv, "hostname");
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "device_id", v->id);
		cJSON_AddStringToObject(o, "hostname", host ? host : "");
		cJSON_AddStringToObject(o, "team_id",
					jstr(dv, "team_id") ? jstr(dv, "team_id") : "");
		add_time(o, "first", v->first);
		add_time(o, "last", v->last);
		cJSON_AddItemToArray(arr, o);
		cJSON_Delete(si);
		cJSON_Delete(dv);
	}
}

static cJSON *answer(struct day *d)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	size_t i, k;

	cJSON_AddStringToObject(o, "user_id", d->uid);
	add_time(o, "from", d->from);
	add_time(o, "to", d->to);
	day_spans_sort(&d->focus);
	day_spans_sort(&d->idle);
	spans_json(cJSON_AddArrayToObject(o, "focus"), &d->focus, true);
	arr = cJSON_AddArrayToObject(o, "activity");
	for (k = 0; k < d->n_slots; k++) {
		cJSON *x = cJSON_CreateObject();

		add_time(x, "start", d->from + (int64_t)k * DAY_SLOT_MS);
		for (i = 0; i < C__N; i++)
			cJSON_AddNumberToObject(x, counter_names[i], (double)d->slot[k][i]);
		cJSON_AddItemToArray(arr, x);
	}
	spans_json(cJSON_AddArrayToObject(o, "idle"), &d->idle, false);
	qsort(d->cpu, CPU_SLOTS, sizeof(*d->cpu), cpu_cmp);
	arr = cJSON_AddArrayToObject(o, "top_cpu");
	for (i = 0; i < DAY_TOP_CPU && i < d->n_cpu; i++) {
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "app", d->cpu[i].app);
		cJSON_AddStringToObject(x, "exe", d->cpu[i].exe);
		cJSON_AddNumberToObject(x, "cpu_s", round_ms(d->cpu[i].cpu_s));
		cJSON_AddItemToArray(arr, x);
	}
	devices_json(d, cJSON_AddArrayToObject(o, "devices"));
	cJSON_AddNumberToObject(o, "records", (double)d->records);
	cJSON_AddBoolToObject(o, "truncated",
			      d->truncated || d->focus.truncated || d->idle.truncated ||
				  d->cpu_truncated);
	cJSON_AddBoolToObject(o, "devices_truncated", d->devices_truncated);
	return o;
}

int day_query(struct srv *s, const char *uid, int64_t from, int64_t to, cJSON **out)
{
	struct day *d;
	size_t i;
	int ret;

	*out = NULL;
	if (from >= to || to - from > DAY_RANGE_MAX_MS || from < 0)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->s = s;
	d->uid = uid;
	d->from = from;
	d->to = to;
	d->n_slots = (size_t)((to - from + DAY_SLOT_MS - 1) / DAY_SLOT_MS);
	d->slot = calloc(d->n_slots, sizeof(*d->slot));
	d->cpu = calloc(CPU_SLOTS, sizeof(*d->cpu));
	ret = d->slot && d->cpu ? find_devices(d) : -ENOMEM;
	for (i = 0; !ret && i < d->n_dev && !d->truncated; i++) {
		d->cur = &d->dev[i];
		ret = read_records(d, "app_usage");
		if (!ret)
			ret = read_records(d, "activity");
	}
	if (!ret) {
		*out = answer(d);
		if (!*out)
			ret = -ENOMEM;
	}
	for (i = 0; d->cpu && i < CPU_SLOTS; i++) {
		free(d->cpu[i].app);
		free(d->cpu[i].exe);
	}
	free(d->cpu);
	free(d->slot);
	day_spans_free(&d->focus);
	day_spans_free(&d->idle);
	free(d);
	return ret;
}
