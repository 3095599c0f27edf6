// SPDX-License-Identifier: BSD-2-Clause
/*
 * api_query.c - reading what ingest stored: a user's activity series and
 * top apps (from ROLLUPS, never raw records), a device's sysinfo and
 * process records (RECORDS), and the audit log. See docs/API.md (Queries);
 * the storage layout is in api_ingest.c.
 *
 * Every route takes from/to (RFC 3339 or Unix ms; default the last 24 h,
 * at most 400 days apart). Raw records and audit entries are read in
 * [from, to); rollups are hourly, and an hour counts when its start is in
 * [from rounded down to the hour, to). Every list is capped at LIST_MAX and
 * every answer is scoped by authorize().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "api/api.h"
#include "model/rollup.h"
#include "store/keys.h"
#include "util.h"

#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL
#define RANGE_MAX_MS (400LL * DAY_MS)
#define DEFAULT_RANGE_MS DAY_MS
#define TOP_DEFAULT 10
#define TOP_MAX 100
#define RECORDS_DEFAULT 100
#define AUDIT_DEFAULT 100
#define AUDIT_SCAN_MAX 200000 /* entries read (in scope or not) per request */
#define NODE_WALK_MAX 10000   /* nodes visited below a node for apps/top */
#define PARTITIONS_MAX 20000  /* (team, day) partitions read for apps/top */
#define APPS_DISTINCT_MAX 100000

/* a + b, saturating: stored counters are sums a device can inflate */
static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* --- arguments --- */

/* from/to: 0, or 1 after replying 400. */
static int need_range(struct http_req *req, int64_t *from, int64_t *to)
{
	int64_t now = now_ms();

	if (need_time_arg(req, "to", now, to) < 0 ||
	    need_time_arg(req, "from", *to - DEFAULT_RANGE_MS, from) < 0)
		return 1;
	if (*from > *to) {
		http_reply_error(req, 400, "'from' is after 'to'");
		return 1;
	}
	if (*to - *from > RANGE_MAX_MS) {
		http_reply_error(req, 400, "'from' and 'to' are more than 400 days apart");
		return 1;
	}
	return 0;
}

/* Optional integer query argument in [min, max]: 0, or 1 after replying. */
static int need_uint_arg(struct http_req *req, const char *name, uint64_t min, uint64_t max,
			 uint64_t def, uint64_t *out)
{
	const char *v = http_req_query(req, name);

	*out = def;
	if (!v)
		return 0;
	if (parse_uint(v, min, max, out)) {
		http_reply_error(req, 400, "'%s' must be a whole number in %llu..%llu", name,
				 (unsigned long long)min, (unsigned long long)max);
		return 1;
	}
	return 0;
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

/* Hours in [h0, to): the rollup hours a range covers. */
struct hours {
	int64_t h0, to;
	int64_t day_ms; /* the partition being read */
};

/* The start of the hour sk names in the partition of day_ms, when it is
 * inside the range; else -1. */
static int64_t hour_in_range(const struct hours *h, const char *sk)
{
	int hh = sk_hour(sk);
	int64_t t;

	if (hh < 0 || hh > 23)
		return -1;
	t = h->day_ms + hh * HOUR_MS;
	return t >= h->h0 && t < h->to ? t : -1;
}

/* --- GET /users/{id}/activity --- */

struct series {
	struct hours h;
	int64_t step_ms;
	size_t n;
	int64_t (*b)[RA__N];
};

static int act_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct series *se = ctx;
	int64_t t = hour_in_range(&se->h, sk);
	size_t i, k;
	cJSON *j;

	(void)pk;
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

static int h_activity(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *uid = http_req_param(req, "id");
	struct principal p;
	struct target t;
	struct series se = {0};
	int64_t from, to, tot[RA__N] = {0};
	uint64_t step;
	struct key pk;
	cJSON *out, *arr;
	size_t i, k;
	int ret = 0;

	if (need_user(s, req, &p) || need_target_user(s, req, uid, &t) ||
	    need_perm(req, &p, PERM_ACTIVITY_READ, &t) || need_range(req, &from, &to) ||
	    need_uint_arg(req, "step", 3600, RANGE_MAX_MS / 1000, 3600, &step))
		return 0;
	if (step % 3600)
		return http_reply_error(req, 400, "'step' must be a multiple of 3600 seconds");
	se.step_ms = (int64_t)step * 1000;
	se.h.h0 = from / HOUR_MS * HOUR_MS;
	se.h.to = to;
	se.n = to > se.h.h0 ? (size_t)((to - se.h.h0 + se.step_ms - 1) / se.step_ms) : 0;
	if (se.n > LIST_MAX)
		return http_reply_error(req, 400,
					"%zu points over %d; raise 'step' or narrow the range",
					se.n, LIST_MAX);
	se.b = calloc(se.n ? se.n : 1, sizeof(*se.b));
	if (!se.b)
		return -ENOMEM;
	for (se.h.day_ms = se.h.h0 / DAY_MS * DAY_MS; se.h.day_ms < to && ret >= 0;
	     se.h.day_ms += DAY_MS) {
		ret = store_query(s->st, STORE_T_ROLLUPS,
				  key_rollup_pk(&pk, "user", uid, se.h.day_ms),
				  SK_ROLLUP_ACT_PREFIX, NULL, 0, STORE_PREFIX, act_item, &se);
	}
	if (ret < 0) {
		free(se.b);
		return reply_store_err(req, ret, "rollups");
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "user_id", uid);
	add_time(out, "from", from);
	add_time(out, "to", to);
	cJSON_AddNumberToObject(out, "step", (double)step);
	arr = cJSON_AddArrayToObject(out, "series");
	for (k = 0; k < se.n; k++) {
		cJSON_AddItemToArray(arr, counts_json(se.h.h0 + (int64_t)k * se.step_ms, se.b[k]));
		for (i = 0; i < RA__N; i++)
			tot[i] = sat_add(tot[i], se.b[k][i]);
	}
	cJSON_AddItemToObject(out, "totals", counts_json(-1, tot));
	free(se.b);
	return http_reply_json(req, 200, out);
}

/* --- GET /apps/top --- */

struct app_ent {
	char *name;
	int64_t ms;
};

struct app_map {
	struct hours h;
	struct app_ent *e; /* open addressing, cap a power of two */
	size_t n, cap;
	bool truncated;
	int err;
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
	struct app_ent *e = calloc(cap, sizeof(*e));

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
	if (m->n >= APPS_DISTINCT_MAX) {
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
	if (hour_in_range(&m->h, sk) < 0 || strlen(sk) < 8)
		return 0;
	j = cJSON_ParseWithLength(val, len);
	ret = app_add(m, sk + 7, jint(j, "focus_ms", 0));
	cJSON_Delete(j);
	return ret;
}

static int app_cmp(const void *a, const void *b)
{
	const struct app_ent *x = a, *y = b;

	if (x->ms != y->ms)
		return x->ms > y->ms ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Add the app rollups of partitions "<kind>|<id>|<day>" in range to m. */
static int apps_of(struct srv *s, struct app_map *m, const char *kind, const char *id)
{
	struct key pk;
	int ret = 0;

	for (m->h.day_ms = m->h.h0 / DAY_MS * DAY_MS; m->h.day_ms < m->h.to && ret >= 0;
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

/* The teams at or below node_id (breadth first). 0, -E2BIG, -errno. */
static int teams_below(struct srv *s, const char *node_id, struct walk *w)
{
	size_t i;
	cJSON *n;
	int ret;

	w->cap = NODE_WALK_MAX;
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
	strcpy(w->ids[w->n++], node_id);
	for (i = 0; i < w->n; i++) {
		ret = store_query(s->st, STORE_T_NODES, w->ids[i], SK_CHILD_PREFIX, NULL, 0,
				  STORE_PREFIX, walk_child, w);
		if (ret < 0)
			return ret;
		if (w->over || w->n + w->n_teams > NODE_WALK_MAX)
			return -E2BIG;
	}
	return 0;
}

static int h_apps_top(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *uid = http_req_query(req, "user_id"), *nid = http_req_query(req, "node_id");
	struct principal p;
	struct target t;
	struct app_map m = {0};
	struct walk w = {0};
	struct app_ent *all = NULL;
	int64_t from, to;
	uint64_t limit;
	size_t i, k, days;
	cJSON *out, *arr;
	int ret = 0;

	if (need_user(s, req, &p))
		return 0;
	if (!uid == !nid)
		return http_reply_error(req, 400, "give exactly one of 'user_id' and 'node_id'");
	if ((uid ? need_target_user(s, req, uid, &t) : need_target_node(s, req, nid, &t)) ||
	    need_perm(req, &p, PERM_ACTIVITY_READ, &t) || need_range(req, &from, &to) ||
	    need_uint_arg(req, "limit", 1, TOP_MAX, TOP_DEFAULT, &limit))
		return 0;
	m.h.h0 = from / HOUR_MS * HOUR_MS;
	m.h.to = to;
	days = (size_t)((to - m.h.h0 / DAY_MS * DAY_MS + DAY_MS - 1) / DAY_MS);
	if (uid) {
		ret = apps_of(s, &m, "user", uid);
	} else {
		ret = teams_below(s, nid, &w);
		if (!ret && w.n_teams * days > PARTITIONS_MAX) {
			http_reply_error(req, 400,
					 "%zu teams over %zu days is too much to read; narrow the "
					 "range",
					 w.n_teams, days);
			goto out;
		}
		for (i = 0; !ret && i < w.n_teams; i++)
			ret = apps_of(s, &m, "team", w.teams[i]);
	}
	if (ret == -E2BIG) {
		http_reply_error(req, 400, "more than %d nodes below '%s'", NODE_WALK_MAX, nid);
		ret = 0;
		goto out;
	}
	if (ret) {
		reply_store_err(req, ret, "rollups");
		ret = 0;
		goto out;
	}
	all = malloc((m.n ? m.n : 1) * sizeof(*all));
	if (!all) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0, k = 0; i < m.cap; i++)
		if (m.e[i].name)
			all[k++] = m.e[i];
	qsort(all, m.n, sizeof(*all), app_cmp);
	out = cJSON_CreateObject();
	if (uid)
		cJSON_AddStringToObject(out, "user_id", uid);
	else
		cJSON_AddStringToObject(out, "node_id", nid);
	add_time(out, "from", from);
	add_time(out, "to", to);
	arr = cJSON_AddArrayToObject(out, "apps");
	for (i = 0; i < m.n && i < limit; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "app", all[i].name);
		cJSON_AddNumberToObject(e, "focus_s", (double)all[i].ms / 1000.0);
		cJSON_AddItemToArray(arr, e);
	}
	if (m.truncated)
		cJSON_AddTrueToObject(out, "truncated");
	http_reply_json(req, 200, out);
out:
	free(all);
	app_map_free(&m);
	free(w.ids);
	free(w.teams);
	return ret;
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

static int h_sysinfo(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *dev = http_req_param(req, "id");
	struct principal p;
	struct target t;
	struct collect c = {0};
	int64_t from, to;
	cJSON *latest = NULL, *out;
	int ret;

	if (need_user(s, req, &p) || need_target_device(s, req, dev, &t) ||
	    need_perm(req, &p, PERM_DEVICE_READ, &t) || need_range(req, &from, &to))
		return 0;
	ret = jget(s, STORE_T_DEVICES, dev, SK_SYSINFO, &latest);
	if (ret && ret != -ENOENT)
		return reply_store_err(req, ret, "sysinfo");
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "device_id", dev);
	cJSON_AddItemToObject(out, "latest", latest ? latest : cJSON_CreateNull());
	c.arr = cJSON_AddArrayToObject(out, "history");
	c.limit = LIST_MAX;
	ret = device_records(s, dev, "sysinfo", from, to, &c);
	if (ret) {
		cJSON_Delete(out);
		return reply_store_err(req, ret, "records");
	}
	cJSON_AddBoolToObject(out, "truncated", c.truncated);
	return http_reply_json(req, 200, out);
}

static int h_processes(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *dev = http_req_param(req, "id");
	struct principal p;
	struct target t;
	struct collect c = {0};
	int64_t from, to;
	uint64_t limit;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p) || need_target_device(s, req, dev, &t) ||
	    need_perm(req, &p, PERM_DEVICE_READ, &t) || need_range(req, &from, &to) ||
	    need_uint_arg(req, "limit", 1, LIST_MAX, RECORDS_DEFAULT, &limit))
		return 0;
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "device_id", dev);
	c.arr = cJSON_AddArrayToObject(out, "processes");
	c.limit = (size_t)limit;
	ret = device_records(s, dev, "process", from, to, &c);
	if (ret) {
		cJSON_Delete(out);
		return reply_store_err(req, ret, "records");
	}
	cJSON_AddBoolToObject(out, "truncated", c.truncated);
	return http_reply_json(req, 200, out);
}

/* --- GET /audit --- */

#define SCOPE_CACHE 64

struct audit_ctx {
	struct srv *s;
	const struct principal *p;
	struct collect c;
	size_t scanned;
	int err;
	/* authorize() results per node id */
	struct {
		char node[ID_SIZE];
		bool ok;
	} cache[SCOPE_CACHE];
	size_t n_cache;
};

/* May p read the audit entries of node_id? */
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
	if (++a->scanned > AUDIT_SCAN_MAX) {
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

static int h_audit(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	struct audit_ctx *a;
	int64_t from, to, d;
	uint64_t limit;
	struct key pk, lo, hi;
	cJSON *out;
	size_t i;
	int ret = 0;

	if (need_user(s, req, &p))
		return 0;
	for (i = 0; i < p.n_grants; i++)
		if (p.g[i].perms & PERM_AUDIT_READ)
			break;
	if (i == p.n_grants)
		return http_reply_error(req, 403, "forbidden: needs audit.read");
	if (need_range(req, &from, &to) ||
	    need_uint_arg(req, "limit", 1, LIST_MAX, AUDIT_DEFAULT, &limit))
		return 0;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->s = s;
	a->p = &p;
	a->c.limit = (size_t)limit;
	out = cJSON_CreateObject();
	a->c.arr = cJSON_AddArrayToObject(out, "entries");
	key_time(&lo, from);
	key_time(&hi, to);
	for (d = from / DAY_MS * DAY_MS; d < to && ret >= 0 && !a->c.truncated; d += DAY_MS) {
		ret = store_query(s->st, STORE_T_AUDIT, key_audit_pk(&pk, d), lo.s, hi.s, 0, 0,
				  audit_item, a);
	}
	if (ret < 0) {
		cJSON_Delete(out);
		free(a);
		return reply_store_err(req, ret, "audit");
	}
	cJSON_AddBoolToObject(out, "truncated", a->c.truncated);
	free(a);
	return http_reply_json(req, 200, out);
}

int api_query_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"GET", "/api/v1/users/{id}/activity", h_activity, s},
	    {"GET", "/api/v1/apps/top", h_apps_top, s},
	    {"GET", "/api/v1/devices/{id}/sysinfo", h_sysinfo, s},
	    {"GET", "/api/v1/devices/{id}/processes", h_processes, s},
	    {"GET", "/api/v1/audit", h_audit, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
