// SPDX-License-Identifier: BSD-2-Clause
/*
 * api/report.c - the report routes: activity and apps rows of a person or
 * of every person below a node, as CSV (a download) or JSON (integrations).
 * See docs/API.md (Reports). Each handler parses its arguments, resolves
 * the target, opens the report (model/report.h: the people, the scope
 * filter and the caps), audits the export and replies with a body the
 * report makes while it is sent (http_reply_stream()).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "model/query.h"
#include "model/report.h"
#include "util.h"

#define DEFAULT_RANGE_MS QUERY_DAY_MS

static const char *const kind_names[] = {[REPORT_ACTIVITY] = "activity", [REPORT_APPS] = "apps"};
static const char *const format_names[] = {[REPORT_CSV] = "csv", [REPORT_JSON] = "json"};

/* step, tz, from and to into q (q->tz: the caller's, tz_close()): 0, or 1
 * after replying 400. */
static int need_report_args(struct http_req *req, struct report_req *q)
{
	const char *step = http_req_query(req, "step");
	uint64_t st = 3600;

	if (step && q->kind != REPORT_ACTIVITY)
		return http_reply_error(req, 400, "'step' applies to activity reports only"), 1;
	if (step && (parse_uint(step, 3600, QUERY_RANGE_MAX_MS / 1000, &st) || st % 3600))
		return http_reply_error(req, 400,
					"'step' must be a multiple of 3600 seconds, at most "
					"%lld",
					QUERY_RANGE_MAX_MS / 1000),
		       1;
	q->step_ms = (int64_t)st * 1000;
	return need_tz_range(req, DEFAULT_RANGE_MS, QUERY_RANGE_MAX_MS, &q->tz, &q->from, &q->to);
}

/* The audit entry of an export (result "ok" or "forbidden"). */
static void audit_export(struct srv *s, struct http_req *req, const struct principal *p,
			 const struct report_req *q, const char *scope, const char *result,
			 const struct report_size *z)
{
	cJSON *det = cJSON_CreateObject();
	char name[32], ts[RFC3339_LEN];

	snprintf(name, sizeof(name), "%s.%s", kind_names[q->kind], format_names[q->format]);
	cJSON_AddStringToObject(det, "report", name);
	cJSON_AddStringToObject(det, q->user_id ? "user_id" : "node_id",
				q->user_id ? q->user_id : q->node_id);
	cJSON_AddStringToObject(det, "from", rfc3339_ms(q->from, ts));
	cJSON_AddStringToObject(det, "to", rfc3339_ms(q->to, ts));
	if (q->kind == REPORT_ACTIVITY)
		cJSON_AddNumberToObject(det, "step", (double)(q->step_ms / 1000));
	cJSON_AddStringToObject(det, "tz", q->tz ? tz_name(q->tz) : "UTC");
	if (z) {
		cJSON_AddNumberToObject(det, "users", (double)z->users);
		if (q->kind == REPORT_ACTIVITY)
			cJSON_AddNumberToObject(det, "rows", (double)z->rows);
	}
	audit_write(s, req, p, "report.export", scope, q->user_id ? q->user_id : q->node_id, result,
		    det);
	cJSON_Delete(det);
}

static int report_reply(struct http_req *req, struct srv *s, const struct principal *p,
			const struct target *t, const struct report_req *qp);

static int h_report(struct http_req *req, struct srv *s, enum report_kind kind,
		    enum report_format format)
{
	struct report_req q = {.kind = kind, .format = format};
	struct principal p;
	struct target t;
	int ret;

	q.user_id = http_req_query(req, "user_id");
	q.node_id = http_req_query(req, "node_id");
	if (need_user(s, req, &p))
		return 0;
	if (!q.user_id == !q.node_id)
		return http_reply_error(req, 400, "give exactly one of 'user_id' and 'node_id'");
	if ((q.user_id ? need_target_user(s, req, q.user_id, &t)
		       : need_target_node(s, req, q.node_id, &t)) ||
	    need_report_args(req, &q))
		return 0;
	ret = report_reply(req, s, &p, &t, &q);
	tz_close(q.tz);
	return ret;
}

/* Open the report q for p (t: its target) and reply with it. */
static int report_reply(struct http_req *req, struct srv *s, const struct principal *p,
			const struct target *t, const struct report_req *qp)
{
	struct report_req q = *qp;
	enum report_kind kind = q.kind;
	enum report_format format = q.format;
	struct report_size z;
	struct report *r;
	char scope[ID_SIZE], disp[160], day0[RFC3339_LEN], day1[RFC3339_LEN];
	int ret;

	snprintf(scope, sizeof(scope), "%s", q.user_id ? t->path[t->depth - 1] : q.node_id);
	ret = report_open(s, p, &q, &r, &z);
	switch (ret) {
	case 0:
		break;
	case -EACCES:
		audit_export(s, req, p, &q, scope, "forbidden", NULL);
		return http_reply_error(req, 403, "forbidden: needs activity.read");
	case -ENOENT:
		return http_reply_error(req, 404, "%s not found", q.user_id ? "user" : "node");
	case -E2BIG:
		return http_reply_error(req, 400, "more than %d nodes below '%s'",
					QUERY_NODE_WALK_MAX, q.node_id);
	case -EOVERFLOW:
		return http_reply_error(req, 400, "more than %d people below '%s'",
					REPORT_USERS_MAX, q.node_id);
	case -ERANGE:
		return http_reply_error(req, 400,
					"%zu people x %zu days (%llu rows) is over the caps "
					"(%d people x days, %d rows); narrow the range, raise "
					"'step' or pick a smaller node",
					z.users, z.days, (unsigned long long)z.rows,
					REPORT_PARTITIONS_MAX, REPORT_ROWS_MAX);
	case -ENOMEM:
		return ret;
	default:
		return reply_store_err(req, ret, "rollups");
	}
	audit_export(s, req, p, &q, scope, "ok", &z);
	ret = http_set_header(req, "Cache-Control", "no-store");
	if (!ret && format == REPORT_CSV) {
		rfc3339_ms(q.from, day0);
		rfc3339_ms(q.to, day1);
		snprintf(disp, sizeof(disp),
			 "attachment; filename=\"actlog-%s-%s-%.10s-%.10s.csv\"", kind_names[kind],
			 q.user_id ? q.user_id : q.node_id, day0, day1);
		ret = http_set_header(req, "Content-Disposition", disp);
	}
	if (ret) {
		report_free(r);
		return ret;
	}
	return http_reply_stream(req, 200,
				 format == REPORT_CSV ? "text/csv; charset=utf-8; header=present"
						      : "application/json",
				 report_read, r, report_free);
}

static int h_activity_csv(struct http_req *req, void *arg)
{
	return h_report(req, arg, REPORT_ACTIVITY, REPORT_CSV);
}

static int h_activity_json(struct http_req *req, void *arg)
{
	return h_report(req, arg, REPORT_ACTIVITY, REPORT_JSON);
}

static int h_apps_csv(struct http_req *req, void *arg)
{
	return h_report(req, arg, REPORT_APPS, REPORT_CSV);
}

static int h_apps_json(struct http_req *req, void *arg)
{
	return h_report(req, arg, REPORT_APPS, REPORT_JSON);
}

int api_report_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"GET", "/api/v1/reports/activity.csv", h_activity_csv, s},
	    {"GET", "/api/v1/reports/activity.json", h_activity_json, s},
	    {"GET", "/api/v1/reports/apps.csv", h_apps_csv, s},
	    {"GET", "/api/v1/reports/apps.json", h_apps_json, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
