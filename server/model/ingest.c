// SPDX-License-Identifier: BSD-2-Clause
/*
 * ingest.c - applying an agent's batch (contracts: model/ingest.h; layout:
 * store/keys.h, RECORDS, ROLLUPS, BATCHES, DEVICES).
 *
 * A batch is stored exactly once per (device, batch id): the BATCHES item
 * is put IF_ABSENT in the same store batch as the rollup updates. Raw
 * records are keyed by (ts, batch id, line) and their bytes follow from the
 * batch alone, so a replay writes the same items (store.h: idempotent
 * unconditional puts). Rollups are read-modify-write updates
 * (store_batch_update), one per item per batch, summing the counters of
 * model/rollup.h; <day> and <HH> are the UTC day and hour of the record's
 * "start" (activity; app_usage when it has one) or ts, and the 10-minute
 * slots inside those items (model/rollup.h) are of the same instant.
 *
 * Day indexes (read by the retention sweep, model/retention.c, so that it
 * never scans a table): one item per distinct per-day partition a batch
 * writes, value "{}", unconditional idempotent puts (not in the
 * INGEST_COND_MAX budget). The index puts of records follow the records
 * (same or later commit); those of rollups are in the final commit with the
 * rollup updates, so an index item is never older than the data it points
 * to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "model/config.h"
#include "model/device.h"
#include "model/ingest.h"
#include "model/org.h"
#include "model/rollup.h"
#include "store/keys.h"
#include "util.h"

#define APPS_MAX 32	  /* entries of one app_usage record (2 rollups each) */
#define APP_NAME_MAX 128  /* bytes */
#define TOP_CPU_MAX 100	  /* entries of app_usage.top_cpu */
#define HOST_ID_MAX 128	  /* bytes */
#define USER_NAME_MAX 256 /* bytes of a record's user */
#define TEAM_USERS_MAX ORG_TEAM_USERS_MAX
/* Raw puts go into the final commit up to these; more are written first in
 * chunks of this size (idempotent puts, so a failure in between is
 * repaired by the agent's retry). */
#define RAW_CHUNK_OPS 5000u
#define RAW_CHUNK_BYTES (32u << 20)

struct rollup {
	char pk[48];
	char sk[8 + APP_NAME_MAX];
	bool app;
	int64_t c[RA__N];		/* act */
	int64_t m[ROLLUP_SLOTS][RA__N]; /* act, by 10-minute slot */
	int64_t focus_ms;		/* app */
	int64_t focus_m[ROLLUP_SLOTS];	/* app, by 10-minute slot */
	int64_t records;		/* app */
};

struct raw {
	char pk[ID_SIZE + 32];
	char sk[32 + INGEST_BATCH_ID_MAX];
	char *val;
	size_t len;
};

struct login_ent {
	char login[LOGIN_MAX_LEN + 1];
	char uid[ID_SIZE];
};

/* The logging.enabled timeline of one user of the batch ("" : the team's,
 * for records mapped to nobody). */
struct policy_ent {
	char uid[ID_SIZE];
	struct config_timeline *tl;
};

struct ingest {
	struct srv *s;
	char dev[ID_SIZE];
	char team[ID_SIZE];
	char bid[INGEST_BATCH_ID_MAX + 1];
	int64_t now;
	char owner[ID_SIZE];
	/* the team's login -> user map, loaded on first need */
	bool logins_loaded;
	struct login_ent *logins;
	size_t n_logins;
	char last_user[USER_NAME_MAX + 1];
	const char *last_uid; /* mapping of last_user (NULL: none) */
	bool last_valid;
	/* logging.enabled over time: the team path's levels, loaded on first
	 * need, and one timeline per user met (policy_of()) */
	bool levels_loaded;
	struct config_hist *levels;
	size_t n_levels;
	struct policy_ent *pol;
	size_t n_pol, cap_pol;
	size_t last_pol; /* index of the last timeline used */
	unsigned dropped[INGEST_DROP__N];
	/* what the batch writes */
	struct raw *raw;
	size_t n_raw, cap_raw, raw_bytes;
	struct rollup *ru;
	size_t n_ru, cap_ru;
	bool too_many; /* rollups over INGEST_ROLLUPS_MAX */
	char *sysinfo;
	size_t sysinfo_len;
	int64_t sysinfo_ts;
	char *agent; /* the batch's newest agent record (by ts) */
	size_t agent_len;
	int64_t agent_ts;
	/* the answer */
	unsigned accepted, rejected;
	cJSON *rejected_list;
	cJSON *answer;
	/* what the final commit's update functions read */
	struct sysinfo_upd {
		const char *val;
		size_t len;
		int64_t ts;
	} su, au;     /* sysinfo, agent */
	bool indexed; /* the records' day index is in raw[] */
	/* the team users the batch's records name (device item's users_seen) */
	struct seen_upd {
		int64_t now;
		size_t n;
		struct device_user_seen e[DEVICE_USERS_SEEN_MAX];
	} seen;
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

/*
 * The counters of an activity record's optional "synthetic" object (null or
 * absent: none) summed into act[RA_FIELDS..RA_RECORDS) (model/rollup.h
 * ROLLUP_SYN). NULL, or why (set) when a member is not a whole number within
 * its cap.
 */
static const char *synthetic_fields(const cJSON *o, double *act, char *why, size_t wlen)
{
	const cJSON *syn = cJSON_GetObjectItemCaseSensitive(o, "synthetic");
	double v;
	int i;

	for (i = RA_FIELDS; i < RA_RECORDS; i++)
		act[i] = 0;
	if (!syn || cJSON_IsNull(syn))
		return NULL;
	if (!cJSON_IsObject(syn)) {
		snprintf(why, wlen, "'synthetic' must be an object");
		return why;
	}
#define SYN_FIELD_(id, member, cap)                                                                \
	if (num_field(syn, member, cap, true, false, &v, why, wlen)) {                             \
		snprintf(why, wlen, "'synthetic." member "' must be an integer in 0..%.0f",        \
			 (double)(cap));                                                           \
		return why;                                                                        \
	}                                                                                          \
	act[RA_##id] += v;
	ROLLUP_SYN(SYN_FIELD_)
#undef SYN_FIELD_
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
	struct key pk;
	struct ids_ctx c = {0};
	size_t i;
	int ret;

	g->logins_loaded = true;
	if (!g->team[0])
		return 0;
	c.ids = calloc(TEAM_USERS_MAX, sizeof(*c.ids));
	g->logins = calloc(TEAM_USERS_MAX, sizeof(*g->logins));
	if (!c.ids || !g->logins) {
		free(c.ids);
		return -ENOMEM;
	}
	ret = store_query(g->s->st, STORE_T_USERS, key_team_index(&pk, g->team), NULL, NULL,
			  TEAM_USERS_MAX, 0, collect_id, &c);
	for (i = 0; ret >= 0 && i < c.n; i++) {
		cJSON *u;
		struct login_ent *e = &g->logins[g->n_logins];

		ret = jget(g->s, STORE_T_USERS, c.ids[i], SK_USER, &u);
		if (ret == -ENOENT) {
			ret = 0;
			continue;
		}
		if (ret)
			break;
		/* a user being erased (model/erase.h) gets no more records */
		if (!org_user_login(u, e->login) ||
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "erasing"))) {
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

/* Note that a record of ts names team user uid (login): the newest ts per
 * user, at most DEVICE_USERS_SEEN_MAX users a batch (more are not noted). */
static void seen_note(struct ingest *g, const char *uid, const char *login, int64_t ts)
{
	size_t i;

	if (ts > g->now)
		ts = g->now;
	for (i = 0; i < g->seen.n; i++)
		if (!strcmp(g->seen.e[i].uid, uid)) {
			if (ts > g->seen.e[i].last_seen)
				g->seen.e[i].last_seen = ts;
			return;
		}
	if (g->seen.n == DEVICE_USERS_SEEN_MAX)
		return;
	snprintf(g->seen.e[g->seen.n].uid, ID_SIZE, "%s", uid);
	snprintf(g->seen.e[g->seen.n].login, sizeof(g->seen.e[0].login), "%s", login);
	g->seen.e[g->seen.n++].last_seen = ts;
}

/* --- the logging policy at the record's time --- */

/* Load the levels of the device's team path (nodes below the root; none
 * when the team is gone: the defaults). 0 or -errno. */
static int levels_load(struct ingest *g)
{
	struct target t;
	size_t i;
	int ret;

	g->levels_loaded = true;
	g->levels = calloc(TREE_DEPTH, sizeof(*g->levels));
	if (!g->levels)
		return -ENOMEM;
	ret = target_node(g->s, g->team[0] ? g->team : ROOT_ID, &t);
	if (ret == -ENOENT)
		return 0;
	for (i = 0; !ret && i < t.depth && g->n_levels < TREE_DEPTH; i++) {
		if (strcmp(t.path[i], ROOT_ID))
			ret = config_hist_load(g->s, "node", t.path[i], &g->levels[g->n_levels++]);
	}
	return ret;
}

/*
 * The logging.enabled timeline of user uid (NULL: the team's), built once
 * per (user, batch): the team path's levels, then the user's. *tl stays
 * g's. 0 or -errno.
 */
static int policy_of(struct ingest *g, const char *uid, const struct config_timeline **tl)
{
	const struct config_hist *lv[TREE_DEPTH + 1];
	struct config_hist *user = NULL;
	struct policy_ent *e;
	const char *key = uid ? uid : "";
	size_t i, n;
	int ret;

	if (g->n_pol && !strcmp(g->pol[g->last_pol].uid, key)) {
		*tl = g->pol[g->last_pol].tl;
		return 0;
	}
	for (i = 0; i < g->n_pol; i++)
		if (!strcmp(g->pol[i].uid, key)) {
			g->last_pol = i;
			*tl = g->pol[i].tl;
			return 0;
		}
	if (!g->levels_loaded && (ret = levels_load(g)))
		return ret;
	if (g->n_pol == g->cap_pol) {
		size_t cap = g->cap_pol ? g->cap_pol * 2 : 4;
		struct policy_ent *p = realloc(g->pol, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		g->pol = p;
		g->cap_pol = cap;
	}
	for (n = 0; n < g->n_levels; n++)
		lv[n] = &g->levels[n];
	if (uid) {
		user = malloc(sizeof(*user));
		if (!user)
			return -ENOMEM;
		ret = config_hist_load(g->s, "user", uid, user);
		if (ret) {
			free(user);
			return ret;
		}
		lv[n++] = user;
	}
	e = &g->pol[g->n_pol];
	ret = config_timeline_build(lv, n, uid != NULL, &e->tl);
	free(user);
	if (ret)
		return ret;
	snprintf(e->uid, sizeof(e->uid), "%s", key);
	g->last_pol = g->n_pol++;
	*tl = e->tl;
	return 0;
}

/*
 * 1 when a record of type, naming session user (NULL: none), mapped to uid
 * (NULL: nobody), taken at ts, is kept; 0 when logging was off for it then.
 * Activity, process and app_usage records describe a person and are judged
 * by the mapped user's (or the team's) policy; agent and sysinfo records
 * describe the machine and go on while logging is off (the agent sends
 * them without a user then), so only one that names a session is judged.
 * -errno on a failed read.
 */
static int policy_keeps(struct ingest *g, const char *type, const char *user, const char *uid,
			int64_t ts)
{
	const struct config_timeline *tl;
	int ret;

	if ((!strcmp(type, "agent") || !strcmp(type, "sysinfo")) && !user)
		return 1;
	ret = policy_of(g, uid, &tl);
	if (ret)
		return ret;
	return config_timeline_at(tl, ts);
}

/* --- rollups in memory --- */

/* The rollup item (pk, sk), added when new; NULL when over INGEST_ROLLUPS_MAX
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
	if (g->n_ru >= INGEST_ROLLUPS_MAX) {
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

/* The 10-minute slot of its hour instant t falls in: 0..ROLLUP_SLOTS-1. */
static int slot_of(int64_t t)
{
	int64_t in = t % 3600000LL;

	return (int)((in < 0 ? in + 3600000LL : in) / ROLLUP_SLOT_MS);
}

/* Add one activity record's counts (v: RA__N values, RA_RECORDS unused) to
 * the hour and the slot of its start. 0, or -ENOMEM / -E2BIG. */
static int roll_activity(struct ingest *g, const char *uid, int64_t start, const double *v)
{
	struct key pk, sk;
	struct rollup *r;
	int i, j = slot_of(start);

	r = rollup_get(g, key_rollup_pk(&pk, uid ? "user" : "dev", uid ? uid : g->dev, start),
		       key_rollup_act_sk(&sk, start), false);
	if (!r)
		return g->too_many ? -E2BIG : -ENOMEM;
	for (i = 0; i < RA_RECORDS; i++) {
		r->c[i] += (int64_t)v[i];
		r->m[j][i] += (int64_t)v[i];
	}
	r->c[RA_RECORDS]++;
	r->m[j][RA_RECORDS]++;
	return 0;
}

static int roll_app(struct ingest *g, const char *uid, int64_t at, const char *app,
		    int64_t focus_ms)
{
	struct key pk, sk;
	struct rollup *r;
	int k;

	key_rollup_app_sk(&sk, at, app);
	for (k = 0; k < 2; k++) {
		if (k == 0)
			key_rollup_pk(&pk, uid ? "user" : "dev", uid ? uid : g->dev, at);
		else if (g->team[0])
			key_rollup_pk(&pk, "team", g->team, at);
		else
			break;
		r = rollup_get(g, pk.s, sk.s, true);
		if (!r)
			return g->too_many ? -E2BIG : -ENOMEM;
		r->focus_ms += focus_ms;
		r->focus_m[slot_of(at)] += focus_ms;
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
 * Validate one record and fold it into g: the raw put, rollups, sysinfo, agent.
 * Returns 0 (accepted), 1 with why set (rejected), 2 (valid, dropped: logging
 * was off for it at its ts), or -errno (-E2BIG when the batch needs too many
 * rollups).
 */
static int take_line(struct ingest *g, const char *line, size_t len, unsigned lineno, char *why,
		     size_t wlen)
{
	const char *type, *user, *host, *bad = NULL, *obj_end = NULL;
	const cJSON *u, *v;
	cJSON *o;
	int64_t ts, start = 0, end, at;
	double act[RA__N];
	const char *uid = NULL;
	struct key pk, sk;
	struct raw *rw;
	int ret = 1, i;

	if (len > INGEST_LINE_MAX) {
		snprintf(why, wlen, "line over %u bytes", INGEST_LINE_MAX);
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
		for (i = 0; i < RA_FIELDS && !bad; i++)
			bad = num_field(o, rollup_act_names[i], rollup_act_caps[i], true,
					rollup_act_required[i], &act[i], why, wlen);
		if (bad || (bad = synthetic_fields(o, act, why, wlen)))
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

	/* valid: map, judge by the policy at its time, roll up, keep the raw record */
	ret = map_user(g, user, &uid);
	if (ret)
		goto out;
	ret = policy_keeps(g, type, user, uid, ts);
	if (ret <= 0) {
		ret = ret ? ret : 2;
		goto out;
	}
	/* a team user of that login (not the owner's fallback), seen in a
	 * record their policy keeps: a dropped one says nothing of them */
	if (uid && uid != g->owner)
		seen_note(g, uid, user, ts);
	ret = 0;
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
	rw->val = record_value(o, line, obj_end, g->dev, uid, &rw->len);
	if (!rw->val) {
		ret = -ENOMEM;
		goto out;
	}
	key_record_pk(&pk, g->dev, type, ts);
	key_record_sk(&sk, ts, g->bid, lineno);
	if (strlen(pk.s) >= sizeof(rw->pk) || strlen(sk.s) >= sizeof(rw->sk)) {
		free(rw->val);
		ret = -EINVAL;
		goto out;
	}
	strcpy(rw->pk, pk.s);
	strcpy(rw->sk, sk.s);
	g->n_raw++;
	g->raw_bytes += rw->len + strlen(rw->pk) + strlen(rw->sk);
	if (!strcmp(type, "sysinfo") && (!g->sysinfo || ts >= g->sysinfo_ts)) {
		g->sysinfo = rw->val;
		g->sysinfo_len = rw->len;
		g->sysinfo_ts = ts;
	}
	if (!strcmp(type, "agent") && (!g->agent || ts >= g->agent_ts)) {
		g->agent = rw->val;
		g->agent_len = rw->len;
		g->agent_ts = ts;
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

/*
 * Add d[0..ROLLUP_SLOTS) to the slot array member k of object o (k NULL:
 * ROLLUP_SLOTS_KEY), saturating; a missing or malformed array starts at
 * zeros (its sum then goes to slot 0 when read: rollup.h). Nothing is
 * written for zeros (a missing array reads as the counter in slot 0, which
 * is then what every slot summed). 0 or -ENOMEM.
 */
static int add_slots(cJSON *o, const char *k, const int64_t *d)
{
	const char *key = k ? k : ROLLUP_SLOTS_KEY;
	cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key), *e;
	double nv[ROLLUP_SLOTS];
	int i, any = 0;

	for (i = 0; i < ROLLUP_SLOTS; i++)
		any |= d[i] != 0;
	if (!any)
		return 0;
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != ROLLUP_SLOTS)
		a = NULL;
	for (i = 0; i < ROLLUP_SLOTS; i++) {
		int64_t cur = 0, sum;

		e = a ? cJSON_GetArrayItem(a, i) : NULL;
		/* a saturated slot is stored as 2^63: converting that double
		 * to int64_t is undefined (x86 gives INT64_MIN) */
		if (cJSON_IsNumber(e) && e->valuedouble >= 9223372036854775808.0)
			cur = INT64_MAX;
		else if (cJSON_IsNumber(e) && e->valuedouble >= -9223372036854775808.0)
			cur = (int64_t)e->valuedouble;
		if (__builtin_add_overflow(cur, d[i], &sum))
			sum = d[i] > 0 ? INT64_MAX : INT64_MIN;
		nv[i] = (double)sum;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	a = cJSON_CreateDoubleArray(nv, ROLLUP_SLOTS);
	if (!a)
		return -ENOMEM;
	cJSON_AddItemToObject(o, key, a);
	return 0;
}

static int upd_rollup(const void *old, size_t old_len, void **val, size_t *len, void *ctx)
{
	const struct rollup *r = ctx;
	cJSON *j = old_object(old, old_len);
	int i;

	if (!j)
		return -EIO;
	if (r->app) {
		add_count(j, ROLLUP_APP_FOCUS, r->focus_ms);
		add_count(j, ROLLUP_APP_RECORDS, r->records);
		if (add_slots(j, NULL, r->focus_m))
			goto nomem;
	} else {
		int64_t v[ROLLUP_SLOTS];
		cJSON *m;

		for (i = 0; i < RA__N; i++)
			add_count(j, rollup_act_names[i], r->c[i]);
		m = cJSON_GetObjectItemCaseSensitive(j, ROLLUP_SLOTS_KEY);
		if (!cJSON_IsObject(m)) {
			cJSON_DeleteItemFromObjectCaseSensitive(j, ROLLUP_SLOTS_KEY);
			m = cJSON_AddObjectToObject(j, ROLLUP_SLOTS_KEY);
			if (!m)
				goto nomem;
		}
		for (i = 0; i < RA__N; i++) {
			int k;

			for (k = 0; k < ROLLUP_SLOTS; k++)
				v[k] = r->m[k][i];
			if (add_slots(m, rollup_act_names[i], v))
				goto nomem;
		}
	}
	return put_json(j, val, len);
nomem:
	cJSON_Delete(j);
	return -ENOMEM;
}

/* keep the newer of the stored and this batch's latest sysinfo (or agent) record */
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

/* raise the device item's last_seen to the struct seen_upd ctx's now, and
 * merge its users into users_seen (device_users_seen_merge()) */
static int upd_last_seen(const void *old, size_t old_len, void **val, size_t *len, void *ctx)
{
	const struct seen_upd *u = ctx;
	const cJSON *ls;
	bool changed = false;
	cJSON *j;
	int ret;

	if (!old)
		return STORE_UPDATE_KEEP; /* device deleted meanwhile */
	j = old_object(old, old_len);
	if (!j)
		return STORE_UPDATE_KEEP;
	ls = cJSON_GetObjectItemCaseSensitive(j, "last_seen");
	if (!cJSON_IsNumber(ls) || ls->valuedouble < (double)u->now) {
		cJSON_DeleteItemFromObjectCaseSensitive(j, "last_seen");
		cJSON_AddNumberToObject(j, "last_seen", (double)u->now);
		changed = true;
	}
	ret = device_users_seen_merge(j, u->e, u->n);
	if (ret < 0) {
		cJSON_Delete(j);
		return ret;
	}
	if (!changed && !ret) {
		cJSON_Delete(j);
		return STORE_UPDATE_KEEP;
	}
	return put_json(j, val, len);
}

/* --- the batch --- */

bool ingest_batch_id_valid(const char *b)
{
	size_t n = b ? strlen(b) : 0, i;

	if (!n || n > INGEST_BATCH_ID_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = b[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '-'))
			return false;
	}
	return true;
}

int ingest_stored_answer(struct srv *s, const char *dev, const char *bid, cJSON **answer)
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

void ingest_free(struct ingest *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; i < g->n_raw; i++)
		free(g->raw[i].val);
	free(g->raw);
	free(g->ru);
	free(g->logins);
	free(g->levels);
	for (i = 0; i < g->n_pol; i++)
		config_timeline_free(g->pol[i].tl);
	free(g->pol);
	cJSON_Delete(g->rejected_list);
	cJSON_Delete(g->answer);
	free(g);
}

static int reject(struct ingest *g, unsigned lineno, const char *why)
{
	g->rejected++;
	if (cJSON_GetArraySize(g->rejected_list) < INGEST_REJECT_LIST_MAX) {
		cJSON *e = cJSON_CreateObject();

		if (!e)
			return -ENOMEM;
		cJSON_AddNumberToObject(e, "line", lineno);
		cJSON_AddStringToObject(e, "error", why);
		cJSON_AddItemToArray(g->rejected_list, e);
	}
	return 0;
}

/* Parse every line of body into g. 0, -E2BIG, -errno. */
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
			else if (ret == 2)
				g->dropped[INGEST_DROP_LOGGING_OFF]++;
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

	while (p < end && n <= INGEST_LINES_MAX) {
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
 * Append to g->raw the RECORDS index puts of the batch (store/keys.h: one
 * per distinct record partition). They come after every record put, so
 * they are committed with or after the records they point to. 0 or
 * -ENOMEM.
 */
static int days_index_records(struct ingest *g)
{
	size_t n = g->n_raw, i, n_idx = 0;
	char(*idx)[sizeof(g->raw[0].pk)] = NULL;
	const char **pks;

	if (g->indexed || !n)
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
		struct raw *rw = &g->raw[g->n_raw];
		struct key pk, sk;

		key_days_pk(&pk, STORE_T_RECORDS, idx[i]);
		key_days_sk(&sk, STORE_T_RECORDS, idx[i]);
		if (!pk.s[0] || strlen(pk.s) >= sizeof(rw->pk) || strlen(sk.s) >= sizeof(rw->sk))
			continue;
		rw->val = strdup("{}");
		if (!rw->val) {
			free(idx);
			return -ENOMEM;
		}
		rw->len = 2;
		strcpy(rw->pk, pk.s);
		strcpy(rw->sk, sk.s);
		g->n_raw++;
		g->raw_bytes += 2 + strlen(rw->pk) + strlen(rw->sk);
	}
	free(idx);
	g->indexed = true;
	return 0;
}

/* Add to b the ROLLUPS index puts: one per distinct rollup partition of g. */
static void days_index_rollups(struct ingest *g, struct store_batch *b)
{
	struct key pk, sk;
	size_t i, j;

	for (i = 0; i < g->n_ru; i++) {
		for (j = 0; j < i && strcmp(g->ru[j].pk, g->ru[i].pk); j++)
			;
		if (j < i)
			continue;
		store_batch_put(b, STORE_T_ROLLUPS, key_days_pk(&pk, STORE_T_ROLLUPS, g->ru[i].pk),
				key_days_sk(&sk, STORE_T_ROLLUPS, g->ru[i].pk), "{}", 2, 0);
	}
}

int ingest_prepare(struct srv *s, const struct ingest_source *src, const char *batch_id,
		   int64_t now, const char *body, size_t len, struct ingest **out)
{
	struct ingest *g;
	cJSON *drop;
	size_t i;
	int ret;

	*out = NULL;
	if (!ingest_batch_id_valid(batch_id) || !src || !id_valid(src->device_id, 0))
		return -EINVAL;
	if (count_lines(body, len) > INGEST_LINES_MAX)
		return -EFBIG;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->s = s;
	g->now = now;
	strcpy(g->dev, src->device_id);
	strcpy(g->bid, batch_id);
	if (src->team_id && id_valid(src->team_id, ID_PREFIX_NODE))
		strcpy(g->team, src->team_id);
	if (src->owner_id && id_valid(src->owner_id, ID_PREFIX_USER))
		strcpy(g->owner, src->owner_id);
	g->rejected_list = cJSON_CreateArray();
	ret = g->rejected_list ? take_body(g, body, len) : -ENOMEM;
	if (!ret) {
		g->answer = cJSON_CreateObject();
		if (!g->answer)
			ret = -ENOMEM;
	}
	if (ret) {
		ingest_free(g);
		return ret;
	}
	cJSON_AddStringToObject(g->answer, "batch_id", batch_id);
	cJSON_AddNumberToObject(g->answer, "accepted", g->accepted);
	cJSON_AddItemToObject(g->answer, "rejected", g->rejected_list);
	g->rejected_list = NULL;
	cJSON_AddNumberToObject(g->answer, "rejected_count", g->rejected);
	drop = cJSON_AddObjectToObject(g->answer, "dropped");
	for (i = 0; drop && i < INGEST_DROP__N; i++)
		cJSON_AddNumberToObject(drop, ingest_drop_names[i], g->dropped[i]);
	if (!drop) {
		ingest_free(g);
		return -ENOMEM;
	}
	g->su = (struct sysinfo_upd){g->sysinfo, g->sysinfo_len, g->sysinfo_ts};
	g->au = (struct sysinfo_upd){g->agent, g->agent_len, g->agent_ts};
	*out = g;
	return 0;
}

const cJSON *ingest_answer(const struct ingest *g)
{
	return g->answer;
}

unsigned ingest_accepted(const struct ingest *g)
{
	return g->accepted;
}

unsigned ingest_rejected(const struct ingest *g)
{
	return g->rejected;
}

const char *const ingest_drop_names[INGEST_DROP__N] = {
#define DROP_NAME_(id, name) [INGEST_DROP_##id] = name,
    INGEST_DROPS(DROP_NAME_)
#undef DROP_NAME_
};

size_t ingest_ops(const struct ingest *g)
{
	/* records and their index (an upper bound before it is built), rollups
	 * and theirs, sysinfo, agent, last_seen, the marker */
	return (g->indexed ? g->n_raw : 2 * g->n_raw) + 2 * g->n_ru + 4;
}

/* Everything but raw[from..): rollups, their index, sysinfo, agent, last_seen, the marker. */
static int add_final(struct ingest *g, struct store_batch *b)
{
	cJSON *item;
	size_t i;
	int ret;

	for (i = 0; i < g->n_ru; i++)
		store_batch_update(b, STORE_T_ROLLUPS, g->ru[i].pk, g->ru[i].sk, upd_rollup,
				   &g->ru[i]);
	days_index_rollups(g, b);
	if (g->sysinfo)
		store_batch_update(b, STORE_T_DEVICES, g->dev, SK_SYSINFO, upd_sysinfo, &g->su);
	if (g->agent)
		store_batch_update(b, STORE_T_DEVICES, g->dev, SK_AGENT, upd_sysinfo, &g->au);
	g->seen.now = g->now;
	store_batch_update(b, STORE_T_DEVICES, g->dev, SK_DEVICE, upd_last_seen, &g->seen);
	item = cJSON_CreateObject();
	if (!item)
		return -ENOMEM;
	cJSON_AddNumberToObject(item, "at", (double)g->now);
	cJSON_AddItemToObject(item, "answer", cJSON_Duplicate(g->answer, 1));
	ret = jput(b, STORE_T_BATCHES, g->dev, g->bid, item, STORE_IF_ABSENT);
	cJSON_Delete(item);
	return ret;
}

int ingest_add(struct ingest *g, struct store_batch *b)
{
	size_t i;
	int ret = days_index_records(g);

	for (i = 0; !ret && i < g->n_raw; i++) {
		const struct raw *r = &g->raw[i];

		ret = store_batch_put(b, STORE_T_RECORDS, r->pk, r->sk, r->val, r->len, 0);
	}
	return ret ? ret : add_final(g, b);
}

int ingest_commit(struct ingest *g)
{
	struct store_batch *b;
	size_t i, ops = 0, bytes = 0;
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
	if (!ret)
		ret = add_final(g, b);
	if (ret) {
		store_batch_abort(b);
		return ret;
	}
	return store_batch_commit(b);
}

int ingest_apply(struct srv *s, const struct ingest_source *src, const char *batch_id, int64_t now,
		 const char *body, size_t len, cJSON **answer)
{
	struct ingest *g;
	int ret;

	*answer = NULL;
	ret = ingest_prepare(s, src, batch_id, now, body, len, &g);
	if (ret)
		return ret;
	ret = ingest_commit(g);
	if (!ret) {
		*answer = g->answer;
		g->answer = NULL;
		metrics_add(METRIC_INGEST_DROPPED_LOGGING_OFF, g->dropped[INGEST_DROP_LOGGING_OFF]);
	} else if (ret == -EEXIST) {
		/* the same batch committed by a concurrent request: its answer */
		ret = ingest_stored_answer(s, src->device_id, batch_id, answer);
		if (ret == -ENOENT)
			ret = -EIO;
	}
	ingest_free(g);
	return ret;
}
