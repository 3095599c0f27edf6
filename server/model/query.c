// SPDX-License-Identifier: BSD-2-Clause
/*
 * query.c - reading what ingest stored (model/query.h): a user's activity
 * series and top apps from ROLLUPS, a node's top apps from the ROLLUPS of
 * the teams below it (a breadth-first walk of NODES), a device's sysinfo
 * and process records from RECORDS, and the audit log filtered through
 * authorize(). Keys come from store/keys.h; nothing here answers HTTP.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/query.h"
#include "model/rollup.h"
#include "store/keys.h"
#include "util.h"

#define HOUR_MS QUERY_HOUR_MS
#define DAY_MS QUERY_DAY_MS

/* a + b, saturating: stored counters are sums a device can inflate */
static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* 0 when [from, to) is a range a query takes, else -EINVAL. */
static int range_ok(int64_t from, int64_t to)
{
	return from <= to && (uint64_t)to - (uint64_t)from <= (uint64_t)QUERY_RANGE_MAX_MS
		   ? 0
		   : -EINVAL;
}

static void add_time(cJSON *o, const char *k, int64_t ms)
{
	char ts[RFC3339_LEN];

	cJSON_AddStringToObject(o, k, rfc3339_ms(ms, ts));
}

/* --- rollup partitions --- */

/* "HH" of an "act|HH" or "app|HH|name" sort key, or -1 */
static int sk_hour(const char *sk)
{
	if (strlen(sk) < 6 || sk[3] != '|' || sk[4] < '0' || sk[4] > '2' || sk[5] < '0' ||
	    sk[5] > '9')
		return -1;
	return (sk[4] - '0') * 10 + (sk[5] - '0');
}

int64_t query_rollup_hour(const char *sk, int64_t day_ms, int64_t h0, int64_t to)
{
	int hh = sk_hour(sk);
	int64_t t;

	if (hh < 0 || hh > 23)
		return -1;
	t = day_ms + hh * HOUR_MS;
	return t >= h0 && t < to ? t : -1;
}

/* Hours in [h0, to): the rollup hours a range covers; with slots, the
 * 10-minute slots whose start is in [h0, to) (h0 any instant then). */
struct hours {
	int64_t h0, to;
	int64_t day_ms; /* the partition being read */
	bool slots;	/* count by slot, not by hour */
};

static int64_t hour_in_range(const struct hours *h, const char *sk)
{
	return query_rollup_hour(sk, h->day_ms, h->h0, h->to);
}

/* --- slots (model/rollup.h) --- */

/* A stored slot number as a count: 0 for none, a negative or NaN; INT64_MAX
 * for one at or over 2^63 (a saturated sum is stored as the double 2^63,
 * whose conversion to int64_t is undefined). */
static int64_t slot_count(const cJSON *e)
{
	if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0))
		return 0;
	return e->valuedouble >= 9223372036854775808.0 ? INT64_MAX : (int64_t)e->valuedouble;
}

void query_rollup_slots(const cJSON *item, int64_t (*slots)[RA__N])
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(item, ROLLUP_SLOTS_KEY);
	size_t i;
	int k;

	for (i = 0; i < RA__N; i++) {
		const cJSON *a = cJSON_IsObject(m)
				     ? cJSON_GetObjectItemCaseSensitive(m, rollup_act_names[i])
				     : NULL;
		int64_t tot = jint(item, rollup_act_names[i], 0), sum = 0, v[ROLLUP_SLOTS] = {0};

		if (cJSON_IsArray(a) && cJSON_GetArraySize(a) == ROLLUP_SLOTS)
			for (k = 0; k < ROLLUP_SLOTS; k++) {
				v[k] = slot_count(cJSON_GetArrayItem(a, k));
				sum = sat_add(sum, v[k]);
			}
		/* what the slots do not hold (written before them) is slot 0's;
		 * slots over the counter are not to be trusted: all in slot 0 */
		if (sum > tot || tot < 0) {
			memset(v, 0, sizeof(v));
			sum = 0;
		}
		v[0] = sat_add(v[0], tot - sum);
		for (k = 0; k < ROLLUP_SLOTS; k++)
			slots[k][i] = v[k];
	}
}

void query_app_slots(const cJSON *item, int64_t *slots)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(item, ROLLUP_SLOTS_KEY);
	int64_t tot = jint(item, ROLLUP_APP_FOCUS, 0), sum = 0;
	int k;

	memset(slots, 0, ROLLUP_SLOTS * sizeof(*slots));
	if (cJSON_IsArray(a) && cJSON_GetArraySize(a) == ROLLUP_SLOTS)
		for (k = 0; k < ROLLUP_SLOTS; k++) {
			slots[k] = slot_count(cJSON_GetArrayItem(a, k));
			sum = sat_add(sum, slots[k]);
		}
	if (sum > tot || tot < 0) {
		memset(slots, 0, ROLLUP_SLOTS * sizeof(*slots));
		sum = 0;
	}
	slots[0] = sat_add(slots[0], tot - sum);
}

/* --- activity --- */

struct series {
	struct hours h;
	int64_t step_ms;
	size_t n;
	int64_t (*b)[RA__N];
	const int64_t *start; /* slots: the n + 1 bucket bounds */
};

/* The bucket of instant t in bounds start[0..n] (t >= start[0]), or n. */
static size_t bucket_of(const int64_t *start, size_t n, int64_t t)
{
	size_t lo = 0, hi = n;

	if (!n || t >= start[n])
		return n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (start[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* An act item of se's partition summed by slot into the buckets of
 * se->start: each slot whose start is in [h0, to). */
static void act_item_slots(struct series *se, const char *sk, const cJSON *j)
{
	int64_t slots[ROLLUP_SLOTS][RA__N], t0;
	int hh = sk_hour(sk), k;
	size_t i, b;

	if (hh < 0 || hh > 23)
		return;
	t0 = se->h.day_ms + hh * HOUR_MS;
	query_rollup_slots(j, slots);
	for (k = 0; k < ROLLUP_SLOTS; k++) {
		int64_t t = t0 + k * ROLLUP_SLOT_MS;

		if (t < se->h.h0 || t >= se->h.to)
			continue;
		b = bucket_of(se->start, se->n, t);
		if (b >= se->n)
			continue;
		for (i = 0; i < RA__N; i++)
			se->b[b][i] = sat_add(se->b[b][i], slots[k][i]);
	}
}

static int act_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct series *se = ctx;
	int64_t t;
	size_t i, k;
	cJSON *j;

	(void)pk;
	if (se->h.slots) {
		j = cJSON_ParseWithLength(val, len);
		act_item_slots(se, sk, j);
		cJSON_Delete(j);
		return 0;
	}
	t = hour_in_range(&se->h, sk);
	if (t < 0)
		return 0;
	k = (size_t)((t - se->h.h0) / se->step_ms);
	if (k >= se->n)
		return 0;
	j = cJSON_ParseWithLength(val, len);
	for (i = 0; i < RA__N; i++)
		se->b[k][i] = sat_add(se->b[k][i], jint(j, rollup_act_names[i], 0));
	cJSON_Delete(j);
	return 0;
}

/* {start (when start >= 0), keys, ..., records} */
static cJSON *counts_json(int64_t start, const int64_t *c)
{
	cJSON *o = cJSON_CreateObject();
	size_t i;

	if (start >= 0)
		add_time(o, "start", start);

	for (i = 0; i < RA__N; i++)
		cJSON_AddNumberToObject(o, rollup_act_names[i], (double)c[i]);
	return o;
}

size_t query_activity_points(int64_t from, int64_t to, int64_t step_ms)
{
	int64_t h0 = from / HOUR_MS * HOUR_MS;

	return to > h0 ? (size_t)((to - h0 + step_ms - 1) / step_ms) : 0;
}

int query_activity_buckets(struct srv *s, const char *uid, int64_t from, int64_t to,
			   int64_t step_ms, size_t n, int64_t (*b)[RA__N])
{
	struct series se = {0};
	struct key pk;
	int ret = 0;

	if (range_ok(from, to) || step_ms <= 0 || step_ms % HOUR_MS ||
	    n != query_activity_points(from, to, step_ms))
		return -EINVAL;
	se.step_ms = step_ms;
	se.h.h0 = from / HOUR_MS * HOUR_MS;
	se.h.to = to;
	se.n = n;
	se.b = b;
	memset(b, 0, n * sizeof(*b));
	for (se.h.day_ms = se.h.h0 / DAY_MS * DAY_MS; se.h.day_ms < to && ret >= 0;
	     se.h.day_ms += DAY_MS) {
		ret = store_query(s->st, STORE_T_ROLLUPS,
				  key_rollup_pk(&pk, "user", uid, se.h.day_ms),
				  SK_ROLLUP_ACT_PREFIX, NULL, 0, STORE_PREFIX, act_item, &se);
	}
	return ret < 0 ? ret : 0;
}

int query_activity(struct srv *s, const char *uid, int64_t from, int64_t to, int64_t step_ms,
		   cJSON **out)
{
	struct series se = {0};
	int64_t tot[RA__N] = {0};
	cJSON *o, *arr;
	size_t i, k;
	int ret = 0;

	*out = NULL;
	if (range_ok(from, to) || step_ms <= 0 || step_ms % HOUR_MS)
		return -EINVAL;
	se.step_ms = step_ms;
	se.h.h0 = from / HOUR_MS * HOUR_MS;
	se.n = query_activity_points(from, to, step_ms);
	if (se.n > QUERY_POINTS_MAX)
		return -E2BIG;
	se.b = calloc(se.n ? se.n : 1, sizeof(*se.b));
	if (!se.b)
		return -ENOMEM;
	ret = query_activity_buckets(s, uid, from, to, step_ms, se.n, se.b);
	if (ret < 0) {
		free(se.b);
		return ret;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "user_id", uid);
	add_time(o, "from", from);
	add_time(o, "to", to);
	cJSON_AddNumberToObject(o, "step", (double)(step_ms / 1000));
	arr = cJSON_AddArrayToObject(o, "series");
	for (k = 0; k < se.n; k++) {
		cJSON_AddItemToArray(arr, counts_json(se.h.h0 + (int64_t)k * se.step_ms, se.b[k]));
		for (i = 0; i < RA__N; i++)
			tot[i] = sat_add(tot[i], se.b[k][i]);
	}
	cJSON_AddItemToObject(o, "totals", counts_json(-1, tot));
	free(se.b);
	*out = o;
	return 0;
}

/* --- activity in a time zone, by 10-minute slots --- */

/* floor(a / b) * b for b > 0 and any a */
static int64_t floor_to(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b < 0 ? q - 1 : q) * b;
}

/* Zone helpers with NULL for UTC (no ICU then). */
static int off_at(struct tz *z, int64_t t, int64_t *off)
{
	if (!z) {
		*off = 0;
		return 0;
	}
	return tz_offset(z, t, off);
}

bool query_step_ok(int64_t step_ms)
{
	return step_ms == QUERY_SLOT_MS || (step_ms > 0 && step_ms % HOUR_MS == 0);
}

int query_span_make(struct tz *z, int64_t from, int64_t to, int64_t step_ms, size_t max,
		    struct query_span *sp)
{
	int64_t start0, off;
	size_t n, k;
	int ret, y, m, d;

	memset(sp, 0, sizeof(*sp));
	if (range_ok(from, to) || !query_step_ok(step_ms) ||
	    (step_ms == QUERY_SLOT_MS && to - from > QUERY_SLOT_RANGE_MAX_MS))
		return -EINVAL;
	snprintf(sp->tz, sizeof(sp->tz), "%s", z ? tz_name(z) : "UTC");
	sp->from = from;
	sp->to = to;
	sp->step_ms = step_ms;
	sp->slots = z || step_ms == QUERY_SLOT_MS;
	if (z && step_ms % DAY_MS == 0) {
		/* local calendar days, step / 1 day of them a bucket */
		int64_t days = step_ms / DAY_MS, t;

		ret = tz_date(z, from, &y, &m, &d);
		if (!ret)
			ret = tz_midnight(z, y, m, d, &start0);
		/* a midnight skipped: the day starts after from's instant */
		if (!ret && start0 > from)
			start0 = from;
		if (ret)
			return ret;
		/* a local day lasts at least 23 h */
		n = to > start0 ? (size_t)((to - start0) / (23 * HOUR_MS) / days + 2) : 1;
		sp->start = calloc(n + 1, sizeof(*sp->start));
		if (!sp->start)
			return -ENOMEM;
		sp->start[0] = start0;
		for (k = 1; k <= n; k++) {
			int yy = y, mm = m, dd = d;

			tz_date_add(&yy, &mm, &dd, (int64_t)k * days);
			ret = tz_midnight(z, yy, mm, dd, &t);
			if (ret) {
				query_span_free(sp);
				return ret;
			}
			sp->start[k] = t;
			if (sp->start[k - 1] < to && t >= to)
				break;
		}
		/* to <= start0: no bucket */
		sp->n = to > start0 ? (k <= n ? k : n) : 0;
		if (sp->n > max) {
			free(sp->start);
			sp->start = NULL;
			return -E2BIG;
		}
		return 0;
	}
	if (!sp->slots) {
		start0 = floor_to(from, HOUR_MS); /* query_activity_buckets()'s */
	} else {
		int64_t unit = step_ms == QUERY_SLOT_MS ? QUERY_SLOT_MS : HOUR_MS;

		ret = off_at(z, from, &off);
		if (ret)
			return ret;
		start0 = floor_to(from + off, unit) - off;
	}
	n = to > start0 ? (size_t)((to - start0 + step_ms - 1) / step_ms) : 0;
	sp->n = n;
	if (n > max)
		return -E2BIG;
	sp->start = calloc(n + 1, sizeof(*sp->start));
	if (!sp->start)
		return -ENOMEM;
	for (k = 0; k <= n; k++)
		sp->start[k] = start0 + (int64_t)k * step_ms;
	return 0;
}

void query_span_free(struct query_span *sp)
{
	free(sp->start);
	sp->start = NULL;
	sp->n = 0;
}

int query_activity_buckets_tz(struct srv *s, const char *uid, const struct query_span *sp,
			      int64_t (*b)[RA__N])
{
	struct series se = {0};
	struct key pk;
	int ret = 0;

	if (!sp->start)
		return -EINVAL;
	memset(b, 0, sp->n * sizeof(*b));
	if (!sp->slots)
		return sp->n
			   ? query_activity_buckets(s, uid, sp->from, sp->to, sp->step_ms, sp->n, b)
			   : 0;
	se.step_ms = sp->step_ms;
	se.h.h0 = sp->start[0];
	se.h.to = sp->to;
	se.h.slots = true;
	se.n = sp->n;
	se.b = b;
	se.start = sp->start;
	for (se.h.day_ms = floor_to(se.h.h0, DAY_MS); se.h.day_ms < sp->to && ret >= 0;
	     se.h.day_ms += DAY_MS) {
		ret = store_query(s->st, STORE_T_ROLLUPS,
				  key_rollup_pk(&pk, "user", uid, se.h.day_ms),
				  SK_ROLLUP_ACT_PREFIX, NULL, 0, STORE_PREFIX, act_item, &se);
	}
	return ret < 0 ? ret : 0;
}

int query_activity_tz(struct srv *s, const char *uid, struct tz *z, int64_t from, int64_t to,
		      int64_t step_ms, cJSON **out)
{
	struct query_span sp;
	int64_t tot[RA__N] = {0}, (*b)[RA__N];
	size_t max = step_ms == QUERY_SLOT_MS ? QUERY_SLOT_POINTS_MAX : QUERY_POINTS_MAX;
	cJSON *o, *arr;
	size_t i, k;
	int ret;

	*out = NULL;
	ret = query_span_make(z, from, to, step_ms, max, &sp);
	if (ret)
		return ret;
	if (sp.n > max) {
		query_span_free(&sp);
		return -E2BIG;
	}
	b = calloc(sp.n ? sp.n : 1, sizeof(*b));
	if (!b) {
		query_span_free(&sp);
		return -ENOMEM;
	}
	ret = query_activity_buckets_tz(s, uid, &sp, b);
	if (ret < 0) {
		free(b);
		query_span_free(&sp);
		return ret;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "user_id", uid);
	add_time(o, "from", from);
	add_time(o, "to", to);
	cJSON_AddNumberToObject(o, "step", (double)(step_ms / 1000));
	cJSON_AddStringToObject(o, "tz", sp.tz);
	arr = cJSON_AddArrayToObject(o, "series");
	for (k = 0; k < sp.n; k++) {
		cJSON_AddItemToArray(arr, counts_json(sp.start[k], b[k]));
		for (i = 0; i < RA__N; i++)
			tot[i] = sat_add(tot[i], b[k][i]);
	}
	cJSON_AddItemToObject(o, "totals", counts_json(-1, tot));
	free(b);
	query_span_free(&sp);
	*out = o;
	return 0;
}

/* --- top apps --- */

struct app_map {
	struct hours h;
	struct query_app *e; /* open addressing, cap a power of two */
	size_t n, cap;
	bool truncated;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static int app_map_grow(struct app_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 256, i, j;
	struct query_app *e = calloc(cap, sizeof(*e));

	if (!e)
		return -ENOMEM;
	for (i = 0; i < m->cap; i++) {
		if (!m->e[i].name)
			continue;
		for (j = fnv1a(m->e[i].name) & (cap - 1); e[j].name; j = (j + 1) & (cap - 1))
			;
		e[j] = m->e[i];
	}
	free(m->e);
	m->e = e;
	m->cap = cap;
	return 0;
}

/* Add ms (saturating) to app name; past QUERY_APPS_DISTINCT_MAX names a
 * new one is left out and m->truncated set. 0 or -ENOMEM. */
static int app_add(struct app_map *m, const char *name, int64_t ms)
{
	size_t j;

	if ((m->n + 1) * 2 > m->cap && app_map_grow(m))
		return -ENOMEM;
	for (j = fnv1a(name) & (m->cap - 1); m->e[j].name; j = (j + 1) & (m->cap - 1))
		if (!strcmp(m->e[j].name, name)) {
			m->e[j].ms = sat_add(m->e[j].ms, ms);
			return 0;
		}
	if (m->n >= QUERY_APPS_DISTINCT_MAX) {
		m->truncated = true;
		return 0;
	}
	m->e[j].name = strdup(name);
	if (!m->e[j].name)
		return -ENOMEM;
	m->e[j].ms = ms;
	m->n++;
	return 0;
}

static void app_map_free(struct app_map *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->e[i].name);
	free(m->e);
}

static int app_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct app_map *m = ctx;
	cJSON *j;
	int ret;

	(void)pk;
	if (strlen(sk) < 8)
		return 0;
	if (m->h.slots) {
		int64_t slots[ROLLUP_SLOTS], t0, ms = 0;
		int hh = sk_hour(sk), k;

		if (hh < 0 || hh > 23)
			return 0;
		t0 = m->h.day_ms + hh * HOUR_MS;
		if (t0 + HOUR_MS <= m->h.h0 || t0 >= m->h.to)
			return 0;
		j = cJSON_ParseWithLength(val, len);
		query_app_slots(j, slots);
		cJSON_Delete(j);
		for (k = 0; k < ROLLUP_SLOTS; k++) {
			int64_t t = t0 + k * ROLLUP_SLOT_MS;

			if (t >= m->h.h0 && t < m->h.to)
				ms = sat_add(ms, slots[k]);
		}
		/* an app without focus time in the slots of the range is not in it */
		return ms ? app_add(m, sk + 7, ms) : 0;
	}
	if (hour_in_range(&m->h, sk) < 0)
		return 0;
	j = cJSON_ParseWithLength(val, len);
	ret = app_add(m, sk + 7, jint(j, ROLLUP_APP_FOCUS, 0));
	cJSON_Delete(j);
	return ret;
}

/* focus time descending, then name */
static int app_cmp(const void *a, const void *b)
{
	const struct query_app *x = a, *y = b;

	if (x->ms != y->ms)
		return x->ms > y->ms ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Add the app rollups of partitions "<kind>|<id>|<day>" in range to m. */
static int apps_of(struct srv *s, struct app_map *m, const char *kind, const char *id)
{
	struct key pk;
	int ret = 0;

	for (m->h.day_ms = floor_to(m->h.h0, DAY_MS); m->h.day_ms < m->h.to && ret >= 0;
	     m->h.day_ms += DAY_MS) {
		ret = store_query(s->st, STORE_T_ROLLUPS, key_rollup_pk(&pk, kind, id, m->h.day_ms),
				  SK_ROLLUP_APP_PREFIX, NULL, 0, STORE_PREFIX, app_item, m);
	}
	return ret < 0 ? ret : 0;
}

struct walk {
	char (*ids)[ID_SIZE];
	size_t n, cap;
	char (*teams)[ID_SIZE];
	size_t n_teams;
	bool over;
};

static int walk_child(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct walk *w = ctx;
	cJSON *c;
	const char *id, *type;

	(void)pk;
	(void)sk;
	/* ids and teams together: at most cap nodes (each array holds cap) */
	if (w->n + w->n_teams >= w->cap) {
		w->over = true;
		return 1;
	}
	c = cJSON_ParseWithLength(val, len);
	id = jstr(c, "id");
	type = jstr(c, "type");
	if (id && strlen(id) < ID_SIZE) {
		if (type && !strcmp(type, "team"))
			strcpy(w->teams[w->n_teams++], id);
		else
			strcpy(w->ids[w->n++], id);
	}
	cJSON_Delete(c);
	return 0;
}

/* The teams at or below node_id (breadth first) into w (free w->ids and
 * w->teams also on failure). 0, -ENOENT, -E2BIG, -errno. */
static int teams_below(struct srv *s, const char *node_id, struct walk *w);

int query_teams_below(struct srv *s, const char *node_id, char (**teams)[ID_SIZE], size_t *n)
{
	struct walk w = {0};
	int ret = teams_below(s, node_id, &w);

	free(w.ids);
	*teams = NULL;
	*n = 0;
	if (ret) {
		free(w.teams);
		return ret;
	}
	*teams = w.teams;
	*n = w.n_teams;
	return 0;
}

static int teams_below(struct srv *s, const char *node_id, struct walk *w)
{
	size_t i;
	cJSON *n;
	int ret;

	w->cap = QUERY_NODE_WALK_MAX;
	w->ids = calloc(w->cap, sizeof(*w->ids));
	w->teams = calloc(w->cap, sizeof(*w->teams));
	if (!w->ids || !w->teams)
		return -ENOMEM;
	if (strcmp(node_id, ROOT_ID)) {
		ret = node_get(s, node_id, &n);
		if (ret)
			return ret;
		if (jstr(n, "type") && !strcmp(jstr(n, "type"), "team")) {
			strcpy(w->teams[w->n_teams++], node_id);
			cJSON_Delete(n);
			return 0;
		}
		cJSON_Delete(n);
	}
	if (strlen(node_id) >= ID_SIZE)
		return -ENOENT;
	strcpy(w->ids[w->n++], node_id);
	for (i = 0; i < w->n; i++) {
		ret = store_query(s->st, STORE_T_NODES, w->ids[i], SK_CHILD_PREFIX, NULL, 0,
				  STORE_PREFIX, walk_child, w);
		if (ret < 0)
			return ret;
		if (w->over || w->n + w->n_teams > QUERY_NODE_WALK_MAX)
			return -E2BIG;
	}
	return 0;
}

/* The answer of a top list from m: the first limit of its apps. */
static int apps_json(const struct app_map *m, const char *id_key, const char *id, int64_t from,
		     int64_t to, size_t limit, const char *tzname, cJSON **out)
{
	struct query_app *all;
	cJSON *o, *arr;
	size_t i, k;

	all = malloc((m->n ? m->n : 1) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (i = 0, k = 0; i < m->cap; i++)
		if (m->e[i].name)
			all[k++] = m->e[i];
	qsort(all, m->n, sizeof(*all), app_cmp);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, id_key, id);
	add_time(o, "from", from);
	add_time(o, "to", to);
	if (tzname)
		cJSON_AddStringToObject(o, "tz", tzname);
	arr = cJSON_AddArrayToObject(o, "apps");
	for (i = 0; i < m->n && i < limit; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "app", all[i].name);
		cJSON_AddNumberToObject(e, "focus_s", (double)all[i].ms / 1000.0);
		cJSON_AddItemToArray(arr, e);
	}
	if (m->truncated)
		cJSON_AddTrueToObject(o, "truncated");
	free(all);
	*out = o;
	return 0;
}

int query_apps_top(struct srv *s, const char *kind, const char *id, int64_t from, int64_t to,
		   size_t limit, cJSON **out, struct query_apps_span *span)
{
	return query_apps_top_tz(s, kind, id, NULL, from, to, limit, out, span);
}

int query_apps_top_tz(struct srv *s, const char *kind, const char *id, struct tz *z, int64_t from,
		      int64_t to, size_t limit, cJSON **out, struct query_apps_span *span)
{
	bool user = !strcmp(kind, "user");
	struct app_map m = {0};
	struct walk w = {0};
	size_t i, days;
	int ret;

	*out = NULL;
	if ((!user && strcmp(kind, "node")) || !limit || limit > QUERY_TOP_MAX ||
	    range_ok(from, to))
		return -EINVAL;
	m.h.slots = z != NULL;
	m.h.h0 = z ? floor_to(from, QUERY_SLOT_MS) : from / HOUR_MS * HOUR_MS;
	m.h.to = to;
	days = (size_t)((to - floor_to(m.h.h0, DAY_MS) + DAY_MS - 1) / DAY_MS);
	if (span)
		*span = (struct query_apps_span){0, days};
	if (user) {
		ret = apps_of(s, &m, "user", id);
	} else {
		ret = teams_below(s, id, &w);
		if (span)
			span->teams = w.n_teams;
		if (!ret && w.n_teams * days > QUERY_PARTITIONS_MAX)
			ret = -ERANGE;
		for (i = 0; !ret && i < w.n_teams; i++)
			ret = apps_of(s, &m, "team", w.teams[i]);
	}
	if (!ret)
		ret = apps_json(&m, user ? "user_id" : "node_id", id, from, to, limit,
				z ? tz_name(z) : "UTC", out);
	app_map_free(&m);
	free(w.ids);
	free(w.teams);
	return ret;
}

int query_user_apps(struct srv *s, const char *uid, int64_t from, int64_t to,
		    struct query_app **apps, size_t *n, int64_t *total_ms, bool *truncated)
{
	return query_user_apps_tz(s, uid, false, from, to, apps, n, total_ms, truncated);
}

int query_user_apps_tz(struct srv *s, const char *uid, bool slots, int64_t from, int64_t to,
		       struct query_app **apps, size_t *n, int64_t *total_ms, bool *truncated)
{
	struct app_map m = {0};
	struct query_app *all = NULL;
	size_t i, k;
	int ret;

	*apps = NULL;
	*n = 0;
	*total_ms = 0;
	*truncated = false;
	if (range_ok(from, to))
		return -EINVAL;
	m.h.slots = slots;
	m.h.h0 = slots ? floor_to(from, QUERY_SLOT_MS) : from / HOUR_MS * HOUR_MS;
	m.h.to = to;
	ret = apps_of(s, &m, "user", uid);
	if (!ret) {
		all = malloc((m.n ? m.n : 1) * sizeof(*all));
		if (!all)
			ret = -ENOMEM;
	}
	if (ret) {
		app_map_free(&m);
		return ret;
	}
	for (i = 0, k = 0; i < m.cap; i++)
		if (m.e[i].name) {
			all[k].name = m.e[i].name; /* moved: app_map_free() skips it */
			all[k].ms = m.e[i].ms;
			*total_ms = sat_add(*total_ms, m.e[i].ms);
			m.e[i].name = NULL;
			k++;
		}
	qsort(all, k, sizeof(*all), app_cmp);
	app_map_free(&m);
	*apps = all;
	*n = k;
	*truncated = m.truncated;
	return 0;
}

void query_apps_free(struct query_app *apps, size_t n)
{
	size_t i;

	for (i = 0; apps && i < n; i++)
		free(apps[i].name);
	free(apps);
}

/* --- raw records of a device --- */

struct collect {
	cJSON *arr;
	size_t n, limit;
	bool truncated;
};

static int collect_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct collect *c = ctx;
	cJSON *j;

	(void)pk;
	(void)sk;
	if (c->n >= c->limit) {
		c->truncated = true;
		return 1;
	}
	j = cJSON_ParseWithLength(val, len);
	if (!j)
		return 0;
	cJSON_AddItemToArray(c->arr, j);
	c->n++;
	return 0;
}

/* Records of type of device dev in [from, to), in time order, into c. */
static int device_records(struct srv *s, const char *dev, const char *type, int64_t from,
			  int64_t to, struct collect *c)
{
	struct key pk, lo, hi;
	int64_t d;
	int ret = 0;

	key_time(&lo, from);
	/* "<to>" sorts before every "<to>|..." key: the range ends before to */
	key_time(&hi, to);
	for (d = from / DAY_MS * DAY_MS; d < to && ret >= 0 && !c->truncated; d += DAY_MS) {
		ret = store_query(s->st, STORE_T_RECORDS, key_record_pk(&pk, dev, type, d), lo.s,
				  hi.s, c->limit - c->n + 1, 0, collect_item, c);
	}
	return ret < 0 ? ret : 0;
}

/* {device_id, <key>: records of type in [from, to) (at most limit),
 * truncated} into *out, with latest (may be NULL: none) first when
 * with_latest. */
static int records_json(struct srv *s, const char *dev, const char *type, const char *key,
			int64_t from, int64_t to, size_t limit, bool with_latest, cJSON *latest,
			cJSON **out)
{
	struct collect c = {0};
	cJSON *o;
	int ret;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "device_id", dev);
	if (with_latest)
		cJSON_AddItemToObject(o, "latest", latest ? latest : cJSON_CreateNull());
	c.arr = cJSON_AddArrayToObject(o, key);
	c.limit = limit;
	ret = device_records(s, dev, type, from, to, &c);
	if (ret) {
		cJSON_Delete(o);
		return ret;
	}
	cJSON_AddBoolToObject(o, "truncated", c.truncated);
	*out = o;
	return 0;
}

int query_sysinfo(struct srv *s, const char *device_id, int64_t from, int64_t to, cJSON **out)
{
	cJSON *latest = NULL, *agent = NULL;
	int ret;

	*out = NULL;
	if (range_ok(from, to))
		return -EINVAL;
	ret = jget(s, STORE_T_DEVICES, device_id, SK_SYSINFO, &latest);
	if (ret && ret != -ENOENT)
		return ret;
	ret = jget(s, STORE_T_DEVICES, device_id, SK_AGENT, &agent);
	if (ret && ret != -ENOENT) {
		cJSON_Delete(latest);
		return ret;
	}
	ret = records_json(s, device_id, "sysinfo", "history", from, to, QUERY_RECORDS_MAX, true,
			   latest, out);
	if (ret) {
		cJSON_Delete(agent);
		return ret;
	}
	if (!agent)
		agent = cJSON_CreateNull();
	if (!*out || !agent || !cJSON_AddItemToObject(*out, "agent", agent)) {
		cJSON_Delete(agent);
		cJSON_Delete(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

int query_processes(struct srv *s, const char *device_id, int64_t from, int64_t to, size_t limit,
		    cJSON **out)
{
	*out = NULL;
	if (range_ok(from, to) || !limit || limit > QUERY_RECORDS_MAX)
		return -EINVAL;
	return records_json(s, device_id, "process", "processes", from, to, limit, false, NULL,
			    out);
}

/* --- audit --- */

#define SCOPE_CACHE 64

struct audit_ctx {
	struct srv *s;
	const struct principal *p;
	struct collect c;
	size_t scanned;
	/* authorize() results per node id */
	struct {
		char node[ID_SIZE];
		bool ok;
	} cache[SCOPE_CACHE];
	size_t n_cache;
};

/* May p read the audit entries of node_id? 0 and *ok, or -errno. */
static int audit_in_scope(struct audit_ctx *a, const char *node_id, bool *ok)
{
	struct target t;
	size_t i;
	int ret;

	for (i = 0; i < a->n_cache; i++)
		if (!strcmp(a->cache[i].node, node_id)) {
			*ok = a->cache[i].ok;
			return 0;
		}
	ret = target_node(a->s, node_id, &t);
	if (ret == -ENOENT) {
		/* a node deleted since: only those who read the whole tree */
		ret = target_node(a->s, ROOT_ID, &t);
	}
	if (ret)
		return ret;
	*ok = !authorize(a->p, PERM_AUDIT_READ, &t);
	if (a->n_cache < SCOPE_CACHE && strlen(node_id) < ID_SIZE) {
		strcpy(a->cache[a->n_cache].node, node_id);
		a->cache[a->n_cache++].ok = *ok;
	}
	return 0;
}

static int audit_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct audit_ctx *a = ctx;
	const char *node;
	cJSON *j;
	bool ok = false;
	int ret;

	(void)pk;
	(void)sk;
	if (++a->scanned > QUERY_AUDIT_SCAN_MAX) {
		a->c.truncated = true;
		return 1;
	}
	j = cJSON_ParseWithLength(val, len);
	node = jstr(j, "node_id");
	ret = audit_in_scope(a, node ? node : ROOT_ID, &ok);
	if (ret || !ok) {
		cJSON_Delete(j);
		return ret;
	}
	if (a->c.n >= a->c.limit) {
		cJSON_Delete(j);
		a->c.truncated = true;
		return 1;
	}
	cJSON_AddItemToArray(a->c.arr, j);
	a->c.n++;
	return 0;
}

int query_audit(struct srv *s, const struct principal *p, int64_t from, int64_t to, size_t limit,
		cJSON **out)
{
	struct audit_ctx *a;
	struct key pk, lo, hi;
	int64_t d;
	cJSON *o;
	int ret = 0;

	*out = NULL;
	if (range_ok(from, to) || !limit || limit > QUERY_AUDIT_MAX)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->s = s;
	a->p = p;
	a->c.limit = limit;
	o = cJSON_CreateObject();
	a->c.arr = cJSON_AddArrayToObject(o, "entries");
	key_time(&lo, from);
	key_time(&hi, to);
	for (d = from / DAY_MS * DAY_MS; d < to && ret >= 0 && !a->c.truncated; d += DAY_MS) {
		ret = store_query(s->st, STORE_T_AUDIT, key_audit_pk(&pk, d), lo.s, hi.s, 0, 0,
				  audit_item, a);
	}
	if (ret < 0) {
		cJSON_Delete(o);
		free(a);
		return ret;
	}
	cJSON_AddBoolToObject(o, "truncated", a->c.truncated);
	free(a);
	*out = o;
	return 0;
}
