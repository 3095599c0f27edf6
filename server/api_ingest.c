// SPDX-License-Identifier: BSD-2-Clause
/*
 * api_ingest.c - POST /api/v1/ingest: the agent's record batches (gzip
 * NDJSON, one record a line, named by X-Batch-Id). See docs/API.md (Ingest).
 *
 * A batch is stored exactly once per (device, batch id): the BATCHES item
 * is put IF_ABSENT in the same store batch as the rollup updates, and a
 * batch id already stored is answered with its stored answer before
 * anything else is read (not even a rate-limit token is taken), so an
 * agent that lost an acknowledgement can always get it again.
 *
 * Storage (the tables of store.h; values compact JSON):
 *
 *   BATCHES pk device id  sk batch id  {"at":ms,"answer":{the 200 answer}}
 *
 *   RECORDS pk "<device id>|<type>|<YYYY-MM-DD of ts>"
 *           sk "<ts ms %013lld>|<batch id>|<line %06u>"
 *           the record as sent plus "device_id" and "user_id" (or null).
 *           Keys and bytes follow from the batch alone, so a replay writes
 *           the same items (store.h: idempotent unconditional puts).
 *
 *   ROLLUPS hourly sums, read-modify-write (store_batch_update) once per
 *           item per batch; <day> and <HH> are the UTC day and hour of the
 *           record's "start" (activity; app_usage when it has one) or ts:
 *           pk "user|<user id>|<day>"  sk "act|<HH>"         activity of a user
 *                                      sk "app|<HH>|<app>"   focus of a user per app
 *           pk "dev|<device id>|<day>" (the same two kinds)  records mapped to no user
 *           pk "team|<team id>|<day>"  sk "app|<HH>|<app>"   every device of the team
 *           act: {keys,clicks,moves,distance,scrolls,active_s,interval_s,records}
 *           app: {focus_ms,records}
 *
 *   DEVICES pk device id  sk "sysinfo"  the newest sysinfo record (by ts)
 *           pk device id  sk "device"   last_seen (Unix ms) is raised
 *
 *   Day index (read by the retention sweep, retention.c, so that it never
 *   scans a table): one item per distinct per-day partition a batch writes,
 *   value "{}", unconditional idempotent puts (not in the COND_MAX budget):
 *   RECORDS pk "days|<device id>"      sk "<day>|<type>"  for "<device>|<type>|<day>"
 *   ROLLUPS pk "days|<kind>|<id>"      sk "<day>"         for "<kind>|<id>|<day>"
 *   The index puts of records follow the records (same or later commit);
 *   those of rollups are in the final commit with the rollup updates, so an
 *   index item is never older than the data it points to.
 *
 * A record maps to a user by the rule in srv.h: a user of the device's
 * team whose login equals the record's "user" (the lowest user id when two
 * share a login), else the device's owner, else none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "srv.h"
#include "util.h"

#define BATCH_ID_MAX 128
#define LINE_MAX_BYTES (64u << 10) /* one record line */
#define LINES_MAX 100000u	   /* lines of a batch (413 beyond) */
#define REJECT_LIST_MAX 100	   /* rejected lines named in the answer */
/* Conditional operations of one commit (store.h: DynamoDB takes 100): the
 * BATCHES put, last_seen, sysinfo and the rollup updates. A batch needing
 * more is answered 413 so the agent sends smaller ones. */
#define COND_MAX 100
#define COND_FIXED 3
#define APPS_MAX 32	  /* entries of one app_usage record (2 rollups each) */
#define APP_NAME_MAX 128  /* bytes */
#define TOP_CPU_MAX 100	  /* entries of app_usage.top_cpu */
#define HOST_ID_MAX 128	  /* bytes */
#define USER_NAME_MAX 256 /* bytes of a record's user */
#define TEAM_USERS_MAX 5000
/* Raw puts go into the final commit up to these; more are written first in
 * chunks of this size (idempotent puts, so a failure in between is
 * repaired by the agent's retry). */
#define RAW_CHUNK_OPS 5000u
#define RAW_CHUNK_BYTES (32u << 20)
#define HOUR_MS 3600000LL

/* activity counters, in rollup order */
enum { C_KEYS, C_CLICKS, C_MOVES, C_DISTANCE, C_SCROLLS, C_ACTIVE, C_INTERVAL, C_RECORDS, C__N };
static const char *const act_names[C__N] = {"keys",    "clicks",   "moves",	 "distance",
					    "scrolls", "active_s", "interval_s", "records"};
/* caps per record (sane upper bounds for one interval of at most an hour) */
static const double act_caps[C_RECORDS] = {1e7, 1e7, 1e9, 1e12, 1e8, 86400, 3600};

struct rollup {
	char pk[48];
	char sk[8 + APP_NAME_MAX];
	bool app;
	int64_t c[C__N];  /* act */
	int64_t focus_ms; /* app */
	int64_t records;  /* app */
};

struct raw {
	char pk[ID_SIZE + 32];
	char sk[32 + BATCH_ID_MAX];
	char *val;
	size_t len;
};

struct login_ent {
	char login[LOGIN_MAX_LEN + 1];
	char uid[ID_SIZE];
};

struct ingest {
	struct srv *s;
	const struct principal *p;
	const char *bid;
	int64_t now;
	char owner[ID_SIZE];
	/* the team's login -> user map, loaded on first need */
	bool logins_loaded;
	struct login_ent *logins;
	size_t n_logins;
	char last_user[USER_NAME_MAX + 1];
	const char *last_uid; /* mapping of last_user (NULL: none) */
	bool last_valid;
	/* what the batch writes */
	struct raw *raw;
	size_t n_raw, cap_raw, raw_bytes;
	struct rollup *ru;
	size_t n_ru, cap_ru;
	bool too_many; /* rollups over COND_MAX */
	char *sysinfo;
	size_t sysinfo_len;
	int64_t sysinfo_ts;
	/* the answer */
	unsigned accepted, rejected;
	cJSON *rejected_list;
};

/* --- validation of one record --- */

/* 1 when s[0..n) is UTF-8 without control characters other than tab. */
static bool text_clean(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], cp, min;
		size_t k, j;

		if (c < 0x80) {
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			k = 2, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07, min = 0x10000;
		else
			return false;
		if (n - i - 1 < k)
			return false;
		for (j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

/* Number member k of o in [0, max]; integer when whole. NULL or why not. */
static const char *num_field(const cJSON *o, const char *k, double max, bool whole, bool required,
			     double *out, char *why, size_t wlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	*out = 0;
	if (!v && !required)
		return NULL;
	/* the range check also refuses NaN; within it an int64 is exact */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= max) ||
	    (whole && v->valuedouble != (double)(int64_t)v->valuedouble)) {
		snprintf(why, wlen, "'%s' must be a%s number in 0..%.0f", k,
			 whole ? "n integer" : "", max);
		return why;
	}
	*out = v->valuedouble;
	return NULL;
}

/* RFC 3339 string member k of o within the accepted years. */
static const char *time_field(const cJSON *o, const char *k, int64_t now, int64_t *ms, char *why,
			      size_t wlen)
{
	const char *v = jstr(o, k);

	if (!v || rfc3339_parse(v, ms)) {
		snprintf(why, wlen, "'%s' must be an RFC 3339 UTC time", k);
		return why;
	}
	if (!ts_accepted(*ms, now)) {
		snprintf(why, wlen, "'%s' is " TS_RANGE_WHY, k);
		return why;
	}
	return NULL;
}

static bool type_known(const char *t)
{
	static const char *const types[] = {"activity", "process", "agent", "sysinfo", "app_usage"};
	size_t i;

	for (i = 0; t && i < ARRAY_SIZE(types); i++)
		if (!strcmp(t, types[i]))
			return true;
	return false;
}

/* --- the team's logins --- */

struct ids_ctx {
	char (*ids)[ID_SIZE];
	size_t n;
};

static int collect_id(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct ids_ctx *c = ctx;

	(void)pk;
	(void)val;
	(void)len;
	if (strlen(sk) < ID_SIZE)
		strcpy(c->ids[c->n++], sk);
	return 0;
}

/* Load the login -> user map of the device's team. 0 or -errno. */
static int logins_load(struct ingest *g)
{
	char pk[ID_SIZE + 8];
	struct ids_ctx c = {0};
	size_t i;
	int ret;

	g->logins_loaded = true;
	if (!g->p->team_id[0])
		return 0;
	c.ids = calloc(TEAM_USERS_MAX, sizeof(*c.ids));
	g->logins = calloc(TEAM_USERS_MAX, sizeof(*g->logins));
	if (!c.ids || !g->logins) {
		free(c.ids);
		return -ENOMEM;
	}
	snprintf(pk, sizeof(pk), "team|%s", g->p->team_id);
	ret =
	    store_query(g->s->st, STORE_T_USERS, pk, NULL, NULL, TEAM_USERS_MAX, 0, collect_id, &c);
	for (i = 0; ret >= 0 && i < c.n; i++) {
		cJSON *u;
		const char *login, *email;
		struct login_ent *e = &g->logins[g->n_logins];

		ret = jget(g->s, STORE_T_USERS, c.ids[i], "user", &u);
		if (ret == -ENOENT) {
			ret = 0;
			continue;
		}
		if (ret)
			break;
		login = jstr(u, "login");
		email = jstr(u, "email");
		if (login && strlen(login) <= LOGIN_MAX_LEN) {
			strcpy(e->login, login);
		} else if (email && strchr(email, '@') &&
			   (size_t)(strchr(email, '@') - email) <= LOGIN_MAX_LEN) {
			snprintf(e->login, sizeof(e->login), "%.*s",
				 (int)(strchr(email, '@') - email), email);
		} else {
			cJSON_Delete(u);
			continue;
		}
		strcpy(e->uid, c.ids[i]);
		g->n_logins++;
		cJSON_Delete(u);
	}
	free(c.ids);
	return ret < 0 ? ret : 0;
}

/* The user id a record of login `user` (may be NULL) maps to, or NULL. */
static int map_user(struct ingest *g, const char *user, const char **uid)
{
	size_t i;
	int ret;

	*uid = g->owner[0] ? g->owner : NULL;
	if (!user)
		return 0;
	if (g->last_valid && !strcmp(user, g->last_user)) {
		*uid = g->last_uid;
		return 0;
	}
	if (!g->logins_loaded && (ret = logins_load(g)))
		return ret;
	/* the team index lists users in id order: the first match wins */
	for (i = 0; i < g->n_logins; i++)
		if (!strcmp(g->logins[i].login, user)) {
			*uid = g->logins[i].uid;
			break;
		}
	snprintf(g->last_user, sizeof(g->last_user), "%s", user);
	g->last_uid = *uid;
	g->last_valid = true;
	return 0;
}

/* --- rollups in memory --- */

/* The rollup item (pk, sk), added when new; NULL when over COND_MAX
 * (g->too_many set) or out of memory. */
static struct rollup *rollup_get(struct ingest *g, const char *pk, const char *sk, bool app)
{
	size_t i;
	struct rollup *r;

	for (i = g->n_ru; i > 0; i--) {
		r = &g->ru[i - 1];
		if (!strcmp(r->sk, sk) && !strcmp(r->pk, pk))
			return r;
	}
	if (g->n_ru + COND_FIXED >= COND_MAX) {
		g->too_many = true;
		return NULL;
	}
	if (g->n_ru == g->cap_ru) {
		size_t cap = g->cap_ru ? g->cap_ru * 2 : 16;
		struct rollup *n = realloc(g->ru, cap * sizeof(*n));

		if (!n)
			return NULL;
		g->ru = n;
		g->cap_ru = cap;
	}
	r = &g->ru[g->n_ru++];
	memset(r, 0, sizeof(*r));
	snprintf(r->pk, sizeof(r->pk), "%s", pk);
	snprintf(r->sk, sizeof(r->sk), "%s", sk);
	r->app = app;
	return r;
}

/* pk of a rollup of owner ("user|uid" or "dev|did") on the day of ms. */
static void rollup_pk(char *pk, size_t n, const char *kind, const char *id, int64_t ms)
{
	char day[11];

	day_of(ms, day);
	snprintf(pk, n, "%s|%s|%s", kind, id, day);
}

static void hour_of(int64_t ms, char hh[3])
{
	int h = (int)((ms / HOUR_MS) % 24);

	hh[0] = (char)('0' + h / 10);
	hh[1] = (char)('0' + h % 10);
	hh[2] = 0;
}

/* Add one activity record's counts. 0, or -ENOMEM / -E2BIG. */
static int roll_activity(struct ingest *g, const char *uid, int64_t start, const double *v)
{
	char pk[48], sk[16], hh[3];
	struct rollup *r;
	int i;

	rollup_pk(pk, sizeof(pk), uid ? "user" : "dev", uid ? uid : g->p->id, start);
	hour_of(start, hh);
	snprintf(sk, sizeof(sk), "act|%s", hh);
	r = rollup_get(g, pk, sk, false);
	if (!r)
		return g->too_many ? -E2BIG : -ENOMEM;
	for (i = 0; i < C_RECORDS; i++)
		r->c[i] += (int64_t)v[i];
	r->c[C_RECORDS]++;
	return 0;
}

static int roll_app(struct ingest *g, const char *uid, int64_t at, const char *app,
		    int64_t focus_ms)
{
	char pk[48], sk[8 + APP_NAME_MAX], hh[3];
	struct rollup *r;
	int k;

	hour_of(at, hh);
	snprintf(sk, sizeof(sk), "app|%s|%s", hh, app);
	for (k = 0; k < 2; k++) {
		if (k == 0)
			rollup_pk(pk, sizeof(pk), uid ? "user" : "dev", uid ? uid : g->p->id, at);
		else if (g->p->team_id[0])
			rollup_pk(pk, sizeof(pk), "team", g->p->team_id, at);
		else
			break;
		r = rollup_get(g, pk, sk, true);
		if (!r)
			return g->too_many ? -E2BIG : -ENOMEM;
		r->focus_ms += focus_ms;
		r->records++;
	}
	return 0;
}

/* --- one line --- */

/*
 * The stored value of accepted record o, parsed from line (its text ends at
 * end): the record with the server's "device_id" and "user_id" (uid, or
 * null) as its last members. When the record names neither, that is its own
 * text up to the closing brace followed by the two (no second print: the
 * bytes still follow from the batch alone); otherwise every copy of those
 * names is dropped (a reader taking the first must not see one) and the
 * object printed again. malloc'd into *len bytes; NULL when out of memory.
 */
static char *record_value(cJSON *o, const char *line, const char *end, const char *dev,
			  const char *uid, size_t *len)
{
	const char *open = end ? memchr(line, '{', (size_t)(end - line)) : NULL;
	char *val;

	if (open && end - open >= 2 && end[-1] == '}' && o->child &&
	    !cJSON_GetObjectItemCaseSensitive(o, "device_id") &&
	    !cJSON_GetObjectItemCaseSensitive(o, "user_id")) {
		size_t n = (size_t)(end - 1 - open), cap = n + 2 * ID_SIZE + 40;
		int k;

		val = malloc(cap);
		if (!val)
			return NULL;
		memcpy(val, open, n);
		k = snprintf(val + n, cap - n,
			     uid ? ",\"device_id\":\"%s\",\"user_id\":\"%s\"}"
				 : ",\"device_id\":\"%s\",\"user_id\":null}",
			     dev, uid);
		*len = n + (size_t)k;
		return val;
	}
	while (cJSON_GetObjectItemCaseSensitive(o, "device_id"))
		cJSON_DeleteItemFromObjectCaseSensitive(o, "device_id");
	while (cJSON_GetObjectItemCaseSensitive(o, "user_id"))
		cJSON_DeleteItemFromObjectCaseSensitive(o, "user_id");
	cJSON_AddStringToObject(o, "device_id", dev);
	if (uid)
		cJSON_AddStringToObject(o, "user_id", uid);
	else
		cJSON_AddNullToObject(o, "user_id");
	val = cJSON_PrintUnformatted(o);
	*len = val ? strlen(val) : 0;
	return val;
}

/*
 * Validate one record and fold it into g: the raw put, rollups, sysinfo.
 * Returns 0 (accepted), 1 with why set (rejected), or -errno (-E2BIG when
 * the batch needs too many rollups).
 */
static int take_line(struct ingest *g, const char *line, size_t len, unsigned lineno, char *why,
		     size_t wlen)
{
	const char *type, *user, *host, *bad = NULL, *obj_end = NULL;
	const cJSON *u, *v;
	cJSON *o;
	int64_t ts, start = 0, end, at;
	double act[C_RECORDS];
	const char *uid = NULL;
	char day[11];
	struct raw *rw;
	int ret = 1, i;

	if (len > LINE_MAX_BYTES) {
		snprintf(why, wlen, "line over %u bytes", LINE_MAX_BYTES);
		return 1;
	}
	if (!text_clean((const unsigned char *)line, len)) {
		snprintf(why, wlen, "not UTF-8 text");
		return 1;
	}
	/* cJSON decodes \u0000 into a 0 byte: a user, an app name... cut short */
	{
		char key[64];

		if (json_nul_find(line, len, key, sizeof(key)) >= 0) {
			if (key[0])
				snprintf(why, wlen, "'%s' holds a control character (NUL, \\u0000)",
					 key);
			else
				snprintf(why, wlen,
					 "a string holds a control character (NUL, \\u0000)");
			return 1;
		}
	}
	o = cJSON_ParseWithLengthOpts(line, len, &obj_end, false);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		snprintf(why, wlen, "not a JSON object");
		return 1;
	}
	type = jstr(o, "type");
	u = cJSON_GetObjectItemCaseSensitive(o, "user");
	v = cJSON_GetObjectItemCaseSensitive(o, "v");
	host = jstr(o, "host_id");
	/* an empty user names no session, as null does */
	user = cJSON_IsString(u) && u->valuestring[0] ? u->valuestring : NULL;
	if (!type) {
		snprintf(why, wlen, "'type' must be a string");
		goto out;
	}
	if (!type_known(type)) {
		/* echo short names only: a cut could split a UTF-8 character */
		if (strlen(type) <= 40)
			snprintf(why, wlen, "unknown type '%s'", type);
		else
			snprintf(why, wlen, "unknown type");
		goto out;
	}
	if ((bad = time_field(o, "ts", g->now, &ts, why, wlen)))
		goto out;
	if (!cJSON_IsNumber(v) || v->valuedouble != 1) {
		snprintf(why, wlen, "'v' must be 1");
		goto out;
	}
	if (!host || strlen(host) > HOST_ID_MAX) {
		snprintf(why, wlen, "'host_id' must be a string of at most %d bytes", HOST_ID_MAX);
		goto out;
	}
	if (!(cJSON_IsNull(u) || (cJSON_IsString(u) && strlen(u->valuestring) <= USER_NAME_MAX))) {
		snprintf(why, wlen, "'user' must be null or a string of at most %d bytes",
			 USER_NAME_MAX);
		goto out;
	}
	at = ts;
	if (!strcmp(type, "activity")) {
		if ((bad = time_field(o, "start", g->now, &start, why, wlen)) ||
		    (bad = time_field(o, "end", g->now, &end, why, wlen)))
			goto out;
		if (end < start) {
			snprintf(why, wlen, "'end' is before 'start'");
			goto out;
		}
		for (i = 0; i < C_RECORDS && !bad; i++)
			bad = num_field(o, act_names[i], act_caps[i], true, i != C_DISTANCE,
					&act[i], why, wlen);
		if (bad)
			goto out;
		at = start;
	} else if (!strcmp(type, "process")) {
		const char *ev = jstr(o, "event");
		double pid;

		if (!ev || (strcmp(ev, "exec") && strcmp(ev, "exit"))) {
			snprintf(why, wlen, "'event' must be \"exec\" or \"exit\"");
			goto out;
		}
		if ((bad = num_field(o, "pid", 2147483647.0, true, true, &pid, why, wlen)))
			goto out;
	} else if (!strcmp(type, "app_usage")) {
		const cJSON *apps = cJSON_GetObjectItemCaseSensitive(o, "apps"), *a;
		const cJSON *top = cJSON_GetObjectItemCaseSensitive(o, "top_cpu");
		double f;

		if (!cJSON_IsArray(apps) || cJSON_GetArraySize(apps) > APPS_MAX) {
			snprintf(why, wlen, "'apps' must be an array of at most %d entries",
				 APPS_MAX);
			goto out;
		}
		if (top && (!cJSON_IsArray(top) || cJSON_GetArraySize(top) > TOP_CPU_MAX)) {
			snprintf(why, wlen, "'top_cpu' must be an array of at most %d entries",
				 TOP_CPU_MAX);
			goto out;
		}
		if (cJSON_GetObjectItemCaseSensitive(o, "start") &&
		    (bad = time_field(o, "start", g->now, &at, why, wlen)))
			goto out;
		cJSON_ArrayForEach(a, apps)
		{
			const char *name = jstr(a, "app");

			if (!name || !*name || strlen(name) > APP_NAME_MAX ||
			    !text_clean((const unsigned char *)name, strlen(name))) {
				snprintf(why, wlen,
					 "'apps[].app' must be a string of 1..%d bytes without "
					 "control characters",
					 APP_NAME_MAX);
				goto out;
			}
			if ((bad = num_field(a, "focus_s", 86400, false, true, &f, why, wlen))) {
				snprintf(why, wlen,
					 "'apps[].focus_s' must be a number in 0..86400");
				goto out;
			}
		}
	}

	/* accepted: map, roll up, keep the raw record */
	ret = map_user(g, user, &uid);
	if (ret)
		goto out;
	if (!strcmp(type, "activity")) {
		ret = roll_activity(g, uid, start, act);
	} else if (!strcmp(type, "app_usage")) {
		const cJSON *a;

		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(o, "apps"))
		{
			double f = cJSON_GetObjectItemCaseSensitive(a, "focus_s")->valuedouble;

			ret = roll_app(g, uid, at, jstr(a, "app"), (int64_t)(f * 1000 + 0.5));
			if (ret)
				break;
		}
	}
	if (ret)
		goto out;
	if (g->n_raw == g->cap_raw) {
		size_t cap = g->cap_raw ? g->cap_raw * 2 : 64;
		struct raw *n = realloc(g->raw, cap * sizeof(*n));

		if (!n) {
			ret = -ENOMEM;
			goto out;
		}
		g->raw = n;
		g->cap_raw = cap;
	}
	rw = &g->raw[g->n_raw];
	rw->val = record_value(o, line, obj_end, g->p->id, uid, &rw->len);
	if (!rw->val) {
		ret = -ENOMEM;
		goto out;
	}
	day_of(ts, day);
	snprintf(rw->pk, sizeof(rw->pk), "%s|%s|%s", g->p->id, type, day);
	snprintf(rw->sk, sizeof(rw->sk), "%013lld|%s|%06u", (long long)ts, g->bid, lineno);
	g->n_raw++;
	g->raw_bytes += rw->len + strlen(rw->pk) + strlen(rw->sk);
	if (!strcmp(type, "sysinfo") && (!g->sysinfo || ts >= g->sysinfo_ts)) {
		g->sysinfo = rw->val;
		g->sysinfo_len = rw->len;
		g->sysinfo_ts = ts;
	}
out:
	cJSON_Delete(o);
	return ret;
}

/* --- store update functions (pure in (old, ctx)) --- */

static int put_json(cJSON *j, void **val, size_t *len)
{
	char *txt = cJSON_PrintUnformatted(j);

	cJSON_Delete(j);
	if (!txt)
		return -ENOMEM;
	*val = txt;
	*len = strlen(txt);
	return STORE_UPDATE_PUT;
}

/* old JSON object or a new one; NULL when old is not an object */
static cJSON *old_object(const void *old, size_t old_len)
{
	cJSON *j;

	if (!old)
		return cJSON_CreateObject();
	j = cJSON_ParseWithLength(old, old_len);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

static void add_count(cJSON *j, const char *k, int64_t d)
{
	int64_t cur = jint(j, k, 0), sum;

	/* saturating: the sums are of what devices send */
	if (__builtin_add_overflow(cur, d, &sum))
		sum = d > 0 ? INT64_MAX : INT64_MIN;
	cJSON_DeleteItemFromObjectCaseSensitive(j, k);
	cJSON_AddNumberToObject(j, k, (double)sum);
}

static int upd_rollup(const void *old, size_t old_len, void **val, size_t *len, void *ctx)
{
	const struct rollup *r = ctx;
	cJSON *j = old_object(old, old_len);
	int i;

	if (!j)
		return -EIO;
	if (r->app) {
		add_count(j, "focus_ms", r->focus_ms);
		add_count(j, "records", r->records);
	} else {
		for (i = 0; i < C__N; i++)
			add_count(j, act_names[i], r->c[i]);
	}
	return put_json(j, val, len);
}

struct sysinfo_upd {
	const char *val;
	size_t len;
	int64_t ts;
};

/* keep the newer of the stored and this batch's latest sysinfo */
static int upd_sysinfo(const void *old, size_t old_len, void **val, size_t *len, void *ctx)
{
	const struct sysinfo_upd *u = ctx;
	int64_t ots;
	char *n;

	if (old) {
		cJSON *j = cJSON_ParseWithLength(old, old_len);
		const char *t = jstr(j, "ts");
		bool newer = t && !rfc3339_parse(t, &ots) && ots > u->ts;

		cJSON_Delete(j);
		if (newer)
			return STORE_UPDATE_KEEP;
	}
	n = malloc(u->len + 1);
	if (!n)
		return -ENOMEM;
	memcpy(n, u->val, u->len + 1);
	*val = n;
	*len = u->len;
	return STORE_UPDATE_PUT;
}

/* raise the device item's last_seen to *(int64_t *)ctx */
static int upd_last_seen(const void *old, size_t old_len, void **val, size_t *len, void *ctx)
{
	int64_t now = *(const int64_t *)ctx;
	const cJSON *ls;
	cJSON *j;

	if (!old)
		return STORE_UPDATE_KEEP; /* device deleted meanwhile */
	j = old_object(old, old_len);
	if (!j)
		return STORE_UPDATE_KEEP;
	ls = cJSON_GetObjectItemCaseSensitive(j, "last_seen");
	if (cJSON_IsNumber(ls) && ls->valuedouble >= (double)now) {
		cJSON_Delete(j);
		return STORE_UPDATE_KEEP;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(j, "last_seen");
	cJSON_AddNumberToObject(j, "last_seen", (double)now);
	return put_json(j, val, len);
}

/* --- the handler --- */

static bool batch_id_valid(const char *b)
{
	size_t n = b ? strlen(b) : 0, i;

	if (!n || n > BATCH_ID_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = b[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '-'))
			return false;
	}
	return true;
}

/* The stored answer of (device, batch id): 0 and *answer, -ENOENT, -errno. */
static int stored_answer(struct srv *s, const char *dev, const char *bid, cJSON **answer)
{
	cJSON *item, *a;
	int ret = jget(s, STORE_T_BATCHES, dev, bid, &item);

	*answer = NULL;
	if (ret)
		return ret;
	a = cJSON_DetachItemFromObjectCaseSensitive(item, "answer");
	cJSON_Delete(item);
	if (!cJSON_IsObject(a)) {
		cJSON_Delete(a);
		return -EIO;
	}
	*answer = a;
	return 0;
}

static void ingest_free(struct ingest *g)
{
	size_t i;

	for (i = 0; i < g->n_raw; i++)
		free(g->raw[i].val);
	free(g->raw);
	free(g->ru);
	free(g->logins);
	cJSON_Delete(g->rejected_list);
}

static int reject(struct ingest *g, unsigned lineno, const char *why)
{
	g->rejected++;
	if (cJSON_GetArraySize(g->rejected_list) < REJECT_LIST_MAX) {
		cJSON *e = cJSON_CreateObject();

		if (!e)
			return -ENOMEM;
		cJSON_AddNumberToObject(e, "line", lineno);
		cJSON_AddStringToObject(e, "error", why);
		cJSON_AddItemToArray(g->rejected_list, e);
	}
	return 0;
}

/* Parse every line of body into g. 0, -E2BIG (413), -errno. */
static int take_body(struct ingest *g, const char *body, size_t len)
{
	const char *p = body, *end = body + len, *nl;
	unsigned lineno = 0;
	char why[160];
	int ret;

	while (p < end) {
		size_t n;

		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		if (n && p[n - 1] == '\r')
			n--;
		if (n) {
			ret = take_line(g, p, n, lineno, why, sizeof(why));
			if (ret < 0)
				return ret;
			if (ret == 0)
				g->accepted++;
			else if ((ret = reject(g, lineno, why)))
				return ret;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

static unsigned count_lines(const char *body, size_t len)
{
	const char *p = body, *end = body + len, *nl;
	unsigned n = 0;

	while (p < end && n <= LINES_MAX) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n++;
		p = nl ? nl + 1 : end;
	}
	return n;
}

/* --- the day index (see the header) --- */

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Append to g->raw the RECORDS index puts of the batch: one per distinct
 * record partition "<device>|<type>|<day>", as pk "days|<device>" sk
 * "<day>|<type>" value "{}". They come after every record put, so they are
 * committed with or after the records they point to. 0 or -ENOMEM.
 */
static int days_index_records(struct ingest *g)
{
	size_t n = g->n_raw, i, n_idx = 0;
	char(*idx)[sizeof(g->raw[0].pk)] = NULL;
	const char **pks;

	if (!n)
		return 0;
	pks = malloc(n * sizeof(*pks));
	idx = malloc(n * sizeof(*idx));
	if (!pks || !idx) {
		free(pks);
		free(idx);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		pks[i] = g->raw[i].pk;
	qsort(pks, n, sizeof(*pks), cmp_str_ptr);
	for (i = 0; i < n; i++)
		if (!i || strcmp(pks[i], pks[i - 1]))
			strcpy(idx[n_idx++], pks[i]);
	free(pks);
	if (g->cap_raw < n + n_idx) {
		struct raw *r = realloc(g->raw, (n + n_idx) * sizeof(*r));

		if (!r) {
			free(idx);
			return -ENOMEM;
		}
		g->raw = r;
		g->cap_raw = n + n_idx;
	}
	for (i = 0; i < n_idx; i++) {
		/* "<device>|<type>|<day>": neither the device id nor the type has a '|' */
		const char *t = strchr(idx[i], '|'), *d = strrchr(idx[i], '|');
		struct raw *rw = &g->raw[g->n_raw];

		if (!t || t == d)
			continue;
		rw->val = strdup("{}");
		if (!rw->val) {
			free(idx);
			return -ENOMEM;
		}
		rw->len = 2;
		snprintf(rw->pk, sizeof(rw->pk), "days|%.*s", (int)(t - idx[i]), idx[i]);
		snprintf(rw->sk, sizeof(rw->sk), "%s|%.*s", d + 1, (int)(d - t - 1), t + 1);
		g->n_raw++;
		g->raw_bytes += 2 + strlen(rw->pk) + strlen(rw->sk);
	}
	free(idx);
	return 0;
}

/* Add to b the ROLLUPS index puts: pk "days|<kind>|<id>" sk "<day>" for
 * each distinct rollup partition "<kind>|<id>|<day>" of g. */
static void days_index_rollups(struct ingest *g, struct store_batch *b)
{
	char pk[sizeof(g->ru[0].pk) + 8];
	size_t i, j;

	for (i = 0; i < g->n_ru; i++) {
		const char *d = strrchr(g->ru[i].pk, '|');

		for (j = 0; j < i && strcmp(g->ru[j].pk, g->ru[i].pk); j++)
			;
		if (j < i || !d)
			continue;
		snprintf(pk, sizeof(pk), "days|%.*s", (int)(d - g->ru[i].pk), g->ru[i].pk);
		store_batch_put(b, STORE_T_ROLLUPS, pk, d + 1, "{}", 2, 0);
	}
}

/* Write g: raw chunks first when they do not fit one commit, then the
 * final commit with BATCHES, rollups, sysinfo and last_seen. */
static int ingest_commit(struct ingest *g, const cJSON *answer)
{
	struct sysinfo_upd su = {g->sysinfo, g->sysinfo_len, g->sysinfo_ts};
	struct store_batch *b;
	size_t i, ops = 0, bytes = 0;
	cJSON *item;
	int ret;

	ret = days_index_records(g);
	if (ret)
		return ret;
	ret = store_batch_begin(g->s->st, &b);
	for (i = 0; !ret && i < g->n_raw; i++) {
		const struct raw *r = &g->raw[i];
		size_t sz = r->len + strlen(r->pk) + strlen(r->sk);

		if (ops && (ops + 1 > RAW_CHUNK_OPS || bytes + sz > RAW_CHUNK_BYTES)) {
			ret = store_batch_commit(b);
			ops = bytes = 0;
			if (!ret)
				ret = store_batch_begin(g->s->st, &b);
			if (ret)
				return ret;
		}
		ret = store_batch_put(b, STORE_T_RECORDS, r->pk, r->sk, r->val, r->len, 0);
		ops++;
		bytes += sz;
	}
	if (ret) {
		store_batch_abort(b);
		return ret;
	}
	for (i = 0; i < g->n_ru; i++)
		store_batch_update(b, STORE_T_ROLLUPS, g->ru[i].pk, g->ru[i].sk, upd_rollup,
				   &g->ru[i]);
	days_index_rollups(g, b);
	if (g->sysinfo)
		store_batch_update(b, STORE_T_DEVICES, g->p->id, "sysinfo", upd_sysinfo, &su);
	store_batch_update(b, STORE_T_DEVICES, g->p->id, "device", upd_last_seen, &g->now);
	item = cJSON_CreateObject();
	cJSON_AddNumberToObject(item, "at", (double)g->now);
	cJSON_AddItemToObject(item, "answer", cJSON_Duplicate(answer, 1));
	ret = jput(b, STORE_T_BATCHES, g->p->id, g->bid, item, STORE_IF_ABSENT);
	cJSON_Delete(item);
	if (ret) {
		store_batch_abort(b);
		return ret;
	}
	return store_batch_commit(b);
}

static int h_ingest(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	struct ingest g = {0};
	const char *bid;
	const uint8_t *body;
	cJSON *answer = NULL;
	size_t len;
	int ret;

	if (need_device(s, req, &p, false))
		return 0;
	bid = http_req_header(req, "X-Batch-Id");
	if (!batch_id_valid(bid))
		return http_reply_error(req, 400,
					"X-Batch-Id must be 1..%d characters of [A-Za-z0-9._:-]",
					BATCH_ID_MAX);
	/* a batch stored before: its answer again, nothing stored twice */
	ret = stored_answer(s, p.id, bid, &answer);
	if (!ret)
		return http_reply_json(req, 200, answer);
	if (ret != -ENOENT)
		return reply_store_err(req, ret, "batch");
	if (need_rate(s, req, &p))
		return 0;
	ret = http_req_body_gunzip(req, &body, &len);
	if (ret == -EBADMSG)
		return http_reply_error(req, 400, "truncated or corrupt gzip");
	if (ret)
		return http_reply_error(req, http_status_for_errno(ret), "unreadable body: %s",
					ret == -EFBIG ? "inflated body too large" : strerror(-ret));
	if (count_lines((const char *)body, len) > LINES_MAX)
		return http_reply_error(req, 413, "batch over %u lines", LINES_MAX);

	g.s = s;
	g.p = &p;
	g.bid = bid;
	g.now = now_ms();
	g.rejected_list = cJSON_CreateArray();
	if (id_valid(p.owner_id, ID_PREFIX_USER))
		strcpy(g.owner, p.owner_id);
	ret = g.rejected_list ? take_body(&g, (const char *)body, len) : -ENOMEM;
	if (ret == -E2BIG) {
		http_reply_error(req, 413,
				 "batch touches more than %d rollup items; send fewer records",
				 COND_MAX - COND_FIXED);
		goto out;
	}
	if (ret) {
		reply_store_err(req, ret, "batch");
		goto out;
	}
	answer = cJSON_CreateObject();
	cJSON_AddStringToObject(answer, "batch_id", bid);
	cJSON_AddNumberToObject(answer, "accepted", g.accepted);
	cJSON_AddItemToObject(answer, "rejected", g.rejected_list);
	g.rejected_list = NULL;
	cJSON_AddNumberToObject(answer, "rejected_count", g.rejected);
	ret = ingest_commit(&g, answer);
	if (ret == -EEXIST) {
		/* the same batch committed by a concurrent request: its answer */
		cJSON_Delete(answer);
		ret = stored_answer(s, p.id, bid, &answer);
	}
	if (ret) {
		cJSON_Delete(answer);
		reply_store_err(req, ret == -ENOENT ? -EIO : ret, "batch");
		goto out;
	}
	log_info("event=ingest device=%s batch=%s accepted=%u rejected=%u", p.id, bid, g.accepted,
		 g.rejected);
	http_reply_json(req, 200, answer);
out:
	ingest_free(&g);
	return 0;
}

int api_ingest_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"POST", "/api/v1/ingest", h_ingest, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
