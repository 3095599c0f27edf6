// SPDX-License-Identifier: BSD-2-Clause
/*
 * report.c - exports of the rollups as rows (model/report.h). report_open()
 * settles the people (authorize() on each), the caps and the sizes;
 * report_read() then makes the body one line at a time (the header, then
 * the rows of one person after another, reading that person's rollups when
 * their turn comes), so a report holds its people and one person's rows at
 * most. Keys come from store/keys.h, reads from model/query.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/org.h"
#include "model/query.h"
#include "model/report.h"
#include "model/rollup.h"
#include "store/keys.h"
#include "util.h"

#define LINE_CAP 16384 /* one row; an application name is far shorter */

struct person {
	char id[ID_SIZE];
	char login[LOGIN_MAX_LEN + 1];
};

enum phase { PH_HEAD, PH_ROWS, PH_END, PH_DONE };

struct report {
	struct srv *s;
	struct report_req q;
	char scope_id[ID_SIZE];
	struct person *people;
	size_t n, cap, cur; /* cur: the next person to load */
	enum phase phase;
	bool first_row;
	/* the person whose rows are being made */
	const struct person *who;
	size_t row, rows;
	size_t steps;
	struct query_span span; /* activity: the steps' bounds */
	int64_t (*b)[RA__N];
	struct query_app *apps;
	size_t n_apps;
	char tz[TZ_NAME_MAX + 1]; /* the zone's name */
	bool slots;		  /* apps: by 10-minute slot (a zone was given) */
	int64_t total_ms, other_ms;
	/* the pending line */
	char line[LINE_CAP];
	size_t len, off;
};

int report_csv_field(char *out, size_t cap, const char *f)
{
	bool quote = strpbrk(f, ",\"\r\n") != NULL;
	size_t n = 0;

#define PUT(c)                                                                                     \
	do {                                                                                       \
		if (n + 1 >= cap)                                                                  \
			return -ENOSPC;                                                            \
		out[n++] = (c);                                                                    \
	} while (0)
	if (quote)
		PUT('"');
	if (strchr("=+-@\t\r", f[0]) && f[0])
		PUT('\'');
	for (; *f; f++) {
		if (*f == '"')
			PUT('"');
		PUT(*f);
	}
	if (quote)
		PUT('"');
#undef PUT
	out[n] = 0;
	return (int)n;
}

/* --- opening --- */

/* Whether p may see the login of the user t names: themself, or user.read
 * on them (activity.read alone gives the numbers, not who the login is). */
static bool login_shown(const struct principal *p, const struct target *t)
{
	return !strcmp(p->id, t->user_id) || !authorize(p, PERM_USER_READ, t);
}

/* The JSON row's "login": null when hidden (""). */
static void add_login(cJSON *o, const char *login)
{
	if (login[0])
		cJSON_AddStringToObject(o, "login", login);
	else
		cJSON_AddNullToObject(o, "login");
}

/* Add user uid to the people of r; their login is kept only when shown
 * (else "", answered as null in JSON and empty in CSV). */
static int person_add(struct report *r, const char *uid, bool shown)
{
	struct person *np;
	cJSON *u;
	int ret;

	if (r->n >= REPORT_USERS_MAX)
		return -EOVERFLOW;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		np = realloc(r->people, r->cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		r->people = np;
	}
	ret = jget(r->s, STORE_T_USERS, uid, SK_USER, &u);
	if (ret == -ENOENT)
		return 0; /* an index entry of a user deleted since */
	if (ret)
		return ret;
	snprintf(r->people[r->n].id, ID_SIZE, "%s", uid);
	if (shown)
		org_user_login(u, r->people[r->n].login);
	else
		r->people[r->n].login[0] = 0;
	cJSON_Delete(u);
	r->n++;
	return 0;
}

struct team_users {
	char (*ids)[ID_SIZE];
	size_t n;
};

static int team_user(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct team_users *c = ctx;

	(void)pk;
	(void)val;
	(void)len;
	if (c->n > REPORT_USERS_MAX)
		return 1;
	if (strlen(sk) < ID_SIZE)
		strcpy(c->ids[c->n++], sk);
	return 0;
}

/* The people of team team_id p may read, added to r. */
static int team_people(struct report *r, const struct principal *p, const char *team_id,
		       char (*ids)[ID_SIZE])
{
	struct team_users c = {ids, 0};
	struct target t;
	struct key pk;
	bool all;
	size_t i;
	int ret;

	ret = target_node(r->s, team_id, &t);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	all = !authorize(p, PERM_ACTIVITY_READ, &t);
	ret = store_query(r->s->st, STORE_T_USERS, key_team_index(&pk, team_id), NULL, NULL,
			  REPORT_USERS_MAX + 1, 0, team_user, &c);
	if (ret < 0)
		return ret;
	if (c.n > REPORT_USERS_MAX)
		return -EOVERFLOW; /* never a silent cut of the people a caller may read */
	for (i = 0; i < c.n; i++) {
		snprintf(t.user_id, sizeof(t.user_id), "%s", ids[i]);
		if (!all && authorize(p, PERM_ACTIVITY_READ, &t))
			continue;
		ret = person_add(r, ids[i], login_shown(p, &t));
		if (ret)
			return ret;
	}
	return 0;
}

static int people_of_node(struct report *r, const struct principal *p, const char *node_id)
{
	char(*teams)[ID_SIZE] = NULL, (*ids)[ID_SIZE];
	struct target t;
	size_t n, i;
	int ret;

	ret = target_node(r->s, node_id, &t);
	if (ret)
		return ret;
	ret = query_teams_below(r->s, node_id, &teams, &n);
	if (ret)
		return ret;
	ids = calloc(REPORT_USERS_MAX + 1, sizeof(*ids));
	if (!ids)
		ret = -ENOMEM;
	for (i = 0; !ret && i < n; i++)
		ret = team_people(r, p, teams[i], ids);
	free(ids);
	free(teams);
	if (!ret && !r->n && authorize(p, PERM_ACTIVITY_READ, &t))
		ret = -EACCES;
	return ret;
}

static int person_cmp(const void *a, const void *b)
{
	const struct person *x = a, *y = b;
	int c = strcmp(x->login, y->login);

	return c ? c : strcmp(x->id, y->id);
}

int report_open(struct srv *s, const struct principal *p, const struct report_req *q,
		struct report **out, struct report_size *size)
{
	struct report_size z = {0};
	struct report *r;
	struct target t;
	const char *id = q->user_id ? q->user_id : q->node_id;
	int64_t h0 = q->from / QUERY_HOUR_MS * QUERY_HOUR_MS;
	int ret;

	*out = NULL;
	if (!size)
		size = &z;
	*size = z;
	if (!id || (q->user_id && q->node_id) || q->from > q->to ||
	    q->to - q->from > QUERY_RANGE_MAX_MS ||
	    (q->kind == REPORT_ACTIVITY && (q->step_ms <= 0 || q->step_ms % QUERY_HOUR_MS)) ||
	    strlen(id) >= ID_SIZE)
		return -EINVAL;
	size->days =
	    (size_t)((q->to - h0 / QUERY_DAY_MS * QUERY_DAY_MS + QUERY_DAY_MS - 1) / QUERY_DAY_MS);
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (q->kind == REPORT_ACTIVITY) {
		/* the bounds of every step, once (they hold no zone after this) */
		ret = query_span_make(q->tz, q->from, q->to, q->step_ms, SIZE_MAX, &r->span);
		if (ret) {
			free(r);
			return ret;
		}
		size->steps = r->span.n;
	}
	r->s = s;
	r->q = *q;
	r->slots = q->tz != NULL;
	r->q.tz = NULL;
	snprintf(r->tz, sizeof(r->tz), "%s", q->tz ? tz_name(q->tz) : "UTC");
	strcpy(r->scope_id, id);
	r->first_row = true;
	if (q->user_id) {
		r->q.user_id = r->scope_id;
		ret = target_user(s, id, &t);
		if (!ret && authorize(p, PERM_ACTIVITY_READ, &t))
			ret = -EACCES;
		if (!ret)
			ret = person_add(r, id, login_shown(p, &t));
		if (!ret && !r->n)
			ret = -ENOENT;
	} else {
		r->q.node_id = r->scope_id;
		ret = people_of_node(r, p, id);
	}
	size->users = r->n;
	size->rows = (uint64_t)r->n * size->steps;
	if (!ret &&
	    ((uint64_t)r->n * size->days > REPORT_PARTITIONS_MAX || size->rows > REPORT_ROWS_MAX))
		ret = -ERANGE;
	if (!ret && size->steps) {
		r->steps = size->steps;
		r->b = calloc(r->steps, sizeof(*r->b));
		if (!r->b)
			ret = -ENOMEM;
	}
	if (ret) {
		report_free(r);
		return ret;
	}
	qsort(r->people, r->n, sizeof(*r->people), person_cmp);
	*out = r;
	return 0;
}

void report_free(void *rv)
{
	struct report *r = rv;

	if (!r)
		return;
	query_apps_free(r->apps, r->n_apps);
	query_span_free(&r->span);
	free(r->b);
	free(r->people);
	free(r);
}

/* --- lines --- */

/* printf into the pending line after what it holds. 0 or -ENOSPC. */
static int __attribute__((format(printf, 2, 3))) put(struct report *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->line + r->len, sizeof(r->line) - r->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(r->line) - r->len)
		return -ENOSPC;
	r->len += (size_t)n;
	return 0;
}

/* A CSV field and the separator after it (",", or CRLF when last). */
static int put_csv(struct report *r, const char *f, bool last)
{
	int n = report_csv_field(r->line + r->len, sizeof(r->line) - r->len, f);

	if (n < 0)
		return n;
	r->len += (size_t)n;
	return put(r, last ? "\r\n" : ",");
}

/* A JSON row o (consumed), after a comma unless first. */
static int put_json(struct report *r, cJSON *o)
{
	char *txt = o ? cJSON_PrintUnformatted(o) : NULL;
	int ret;

	cJSON_Delete(o);
	if (!txt)
		return -ENOMEM;
	ret = put(r, "%s%s", r->first_row ? "" : ",", txt);
	cJSON_free(txt);
	r->first_row = false;
	return ret;
}

static int head_line(struct report *r)
{
	char ts[RFC3339_LEN];
	size_t i;
	int ret;

	if (r->q.format == REPORT_JSON) {
		cJSON *o = cJSON_CreateObject();
		char *txt;

		cJSON_AddStringToObject(o, "report",
					r->q.kind == REPORT_ACTIVITY ? "activity" : "apps");
		cJSON_AddStringToObject(o, r->q.user_id ? "user_id" : "node_id", r->scope_id);
		cJSON_AddStringToObject(o, "from", rfc3339_ms(r->q.from, ts));
		cJSON_AddStringToObject(o, "to", rfc3339_ms(r->q.to, ts));
		if (r->q.kind == REPORT_ACTIVITY)
			cJSON_AddNumberToObject(o, "step", (double)(r->q.step_ms / 1000));
		cJSON_AddStringToObject(o, "tz", r->tz);
		txt = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (!txt)
			return -ENOMEM;
		/* {...} without its '}', then the rows */
		ret = put(r, "%.*s,\"rows\":[", (int)strlen(txt) - 1, txt);
		cJSON_free(txt);
		return ret;
	}
	if (r->q.kind == REPORT_APPS)
		return put(r, "user_id,login,app,focus_s,share\r\n");
	ret = put(r, "user_id,login,start");
	for (i = 0; !ret && i < RA__N; i++)
		ret = put(r, ",%s", rollup_act_names[i]);
	return ret ? ret : put(r, "\r\n");
}

/* Read the next person's rollups. 0 or -errno. */
static int person_load(struct report *r)
{
	size_t i;
	bool trunc;
	int ret;

	r->who = &r->people[r->cur++];
	r->row = 0;
	if (r->q.kind == REPORT_ACTIVITY) {
		r->rows = r->steps;
		return query_activity_buckets_tz(r->s, r->who->id, &r->span, r->b);
	}
	query_apps_free(r->apps, r->n_apps);
	r->apps = NULL;
	r->n_apps = 0;
	ret = query_user_apps_tz(r->s, r->who->id, r->slots, r->q.from, r->q.to, &r->apps,
				 &r->n_apps, &r->total_ms, &trunc);
	if (ret)
		return ret;
	r->rows = r->n_apps;
	r->other_ms = 0;
	if (r->n_apps > REPORT_APPS_PER_USER) {
		for (i = REPORT_APPS_PER_USER; i < r->n_apps; i++)
			if (__builtin_add_overflow(r->other_ms, r->apps[i].ms, &r->other_ms))
				r->other_ms = INT64_MAX;
		r->rows = REPORT_APPS_PER_USER + 1;
	}
	return 0;
}

static int activity_row(struct report *r)
{
	int64_t start = r->span.start[r->row];
	const int64_t *c = r->b[r->row];
	char ts[RFC3339_LEN];
	size_t i;
	int ret;

	rfc3339_ms(start, ts);
	if (r->q.format == REPORT_JSON) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "user_id", r->who->id);
		add_login(o, r->who->login);
		cJSON_AddStringToObject(o, "start", ts);
		for (i = 0; i < RA__N; i++)
			cJSON_AddNumberToObject(o, rollup_act_names[i], (double)c[i]);
		return put_json(r, o);
	}
	ret = put_csv(r, r->who->id, false);
	if (!ret)
		ret = put_csv(r, r->who->login, false);
	if (!ret)
		ret = put(r, "%s", ts);
	for (i = 0; !ret && i < RA__N; i++)
		ret = put(r, ",%lld", (long long)c[i]);
	return ret ? ret : put(r, "\r\n");
}

static int apps_row(struct report *r)
{
	bool other = r->row == REPORT_APPS_PER_USER;
	const char *app = other ? REPORT_OTHER_APP : r->apps[r->row].name;
	int64_t ms = other ? r->other_ms : r->apps[r->row].ms;
	double share = r->total_ms > 0 ? (double)ms / (double)r->total_ms : 0;
	int ret;

	if (r->q.format == REPORT_JSON) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "user_id", r->who->id);
		add_login(o, r->who->login);
		cJSON_AddStringToObject(o, "app", app);
		cJSON_AddNumberToObject(o, "focus_s", (double)ms / 1000.0);
		cJSON_AddNumberToObject(o, "share", share);
		return put_json(r, o);
	}
	ret = put_csv(r, r->who->id, false);
	if (!ret)
		ret = put_csv(r, r->who->login, false);
	if (!ret)
		ret = put_csv(r, app, false);
	return ret ? ret : put(r, "%.3f,%.6f\r\n", (double)ms / 1000.0, share);
}

/* Make the next line: 1, 0 at the end, or -errno. */
static int next_line(struct report *r)
{
	int ret;

	r->len = r->off = 0;
	switch (r->phase) {
	case PH_HEAD:
		r->phase = PH_ROWS;
		ret = head_line(r);
		return ret ? ret : 1;
	case PH_ROWS:
		while (r->row >= r->rows) {
			if (r->cur >= r->n) {
				r->phase = PH_END;
				return next_line(r);
			}
			ret = person_load(r);
			if (ret)
				return ret;
		}
		ret = r->q.kind == REPORT_ACTIVITY ? activity_row(r) : apps_row(r);
		r->row++;
		return ret ? ret : 1;
	case PH_END:
		r->phase = PH_DONE;
		if (r->q.format == REPORT_JSON) {
			ret = put(r, "]}\n");
			return ret ? ret : 1;
		}
		return 0;
	case PH_DONE:
		break;
	}
	return 0;
}

ssize_t report_read(void *rv, char *buf, size_t max)
{
	struct report *r = rv;
	size_t n = 0, k;
	int ret;

	while (n < max) {
		if (r->off < r->len) {
			k = r->len - r->off < max - n ? r->len - r->off : max - n;
			memcpy(buf + n, r->line + r->off, k);
			r->off += k;
			n += k;
			continue;
		}
		ret = next_line(r);
		if (ret < 0)
			return ret;
		if (ret == 0)
			break;
	}
	return (ssize_t)n;
}
