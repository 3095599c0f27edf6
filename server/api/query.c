// SPDX-License-Identifier: BSD-2-Clause
/*
 * api/query.c - the query routes: a user's activity series and top apps, a
 * node's top apps, a device's sysinfo and process records, and the audit
 * log. See docs/API.md (Queries). Each handler parses its arguments,
 * authorizes the request, makes one model call (model/query.h: the reads,
 * the caps and the audit scope filter) and replies.
 *
 * Every route takes from/to (RFC 3339 or Unix ms; default the last 24 h,
 * at most 400 days apart); the activity series and top lists also take tz
 * (an IANA zone) and from/to as local dates (need_tz_range()). Every list
 * is capped at LIST_MAX and every answer is scoped by authorize().
 */
#include <errno.h>

#include "api/api.h"
#include "model/query.h"
#include "util.h"

#define DEFAULT_RANGE_MS QUERY_DAY_MS
#define TOP_DEFAULT 10
#define RECORDS_DEFAULT 100
#define AUDIT_DEFAULT 100

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
	if (*to - *from > QUERY_RANGE_MAX_MS) {
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

/* --- GET /users/{id}/activity --- */

static int h_activity(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *uid = http_req_param(req, "id");
	struct principal p;
	struct target t;
	struct tz *z = NULL;
	struct query_span sp;
	int64_t from, to;
	uint64_t step;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p) || need_target_user(s, req, uid, &t) ||
	    need_perm(req, &p, PERM_ACTIVITY_READ, &t) ||
	    need_uint_arg(req, "step", 600, QUERY_RANGE_MAX_MS / 1000, 3600, &step))
		return 0;
	if (!query_step_ok((int64_t)step * 1000))
		return http_reply_error(req, 400,
					"'step' must be 600 or a multiple of 3600 seconds");
	if (need_tz_range(req, DEFAULT_RANGE_MS, QUERY_RANGE_MAX_MS, &z, &from, &to))
		return 0;
	if (step == 600 && to - from > QUERY_SLOT_RANGE_MAX_MS) {
		tz_close(z);
		return http_reply_error(
		    req, 400, "a 'step' of 600 takes 'from' and 'to' at most 7 days apart");
	}
	ret = query_activity_tz(s, uid, z, from, to, (int64_t)step * 1000, &out);
	if (ret == -E2BIG) {
		/* the count of points, for the message */
		if (query_span_make(z, from, to, (int64_t)step * 1000, 0, &sp) != -E2BIG)
			sp.n = 0;
		query_span_free(&sp);
		tz_close(z);
		return http_reply_error(
		    req, 400, "%zu points over %d; raise 'step' or narrow the range", sp.n,
		    step == 600 ? QUERY_SLOT_POINTS_MAX : QUERY_POINTS_MAX);
	}
	tz_close(z);
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return reply_store_err(req, ret, "rollups");
	return http_reply_json(req, 200, out);
}

/* --- GET /apps/top --- */

static int h_apps_top(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *uid = http_req_query(req, "user_id"), *nid = http_req_query(req, "node_id");
	struct principal p;
	struct target t;
	struct query_apps_span span;
	struct tz *z = NULL;
	int64_t from, to;
	uint64_t limit;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	if (!uid == !nid)
		return http_reply_error(req, 400, "give exactly one of 'user_id' and 'node_id'");
	if ((uid ? need_target_user(s, req, uid, &t) : need_target_node(s, req, nid, &t)) ||
	    need_perm(req, &p, PERM_ACTIVITY_READ, &t) ||
	    need_uint_arg(req, "limit", 1, QUERY_TOP_MAX, TOP_DEFAULT, &limit) ||
	    need_tz_range(req, DEFAULT_RANGE_MS, QUERY_RANGE_MAX_MS, &z, &from, &to))
		return 0;
	ret = query_apps_top_tz(s, uid ? "user" : "node", uid ? uid : nid, z, from, to,
				(size_t)limit, &out, &span);
	tz_close(z);
	if (ret == -ERANGE)
		return http_reply_error(req, 400,
					"%zu teams over %zu days is too much to read; narrow the "
					"range",
					span.teams, span.days);
	if (ret == -E2BIG)
		return http_reply_error(req, 400, "more than %d nodes below '%s'",
					QUERY_NODE_WALK_MAX, nid);
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return reply_store_err(req, ret, "rollups");
	return http_reply_json(req, 200, out);
}

/* --- raw records of a device --- */

static int h_sysinfo(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *dev = http_req_param(req, "id");
	struct principal p;
	struct target t;
	int64_t from, to;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p) || need_target_device(s, req, dev, &t) ||
	    need_perm(req, &p, PERM_DEVICE_READ, &t) || need_range(req, &from, &to))
		return 0;
	ret = query_sysinfo(s, dev, from, to, &out);
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return reply_store_err(req, ret, "sysinfo");
	return http_reply_json(req, 200, out);
}

static int h_processes(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *dev = http_req_param(req, "id");
	struct principal p;
	struct target t;
	int64_t from, to;
	uint64_t limit;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p) || need_target_device(s, req, dev, &t) ||
	    need_perm(req, &p, PERM_DEVICE_READ, &t) || need_range(req, &from, &to) ||
	    need_uint_arg(req, "limit", 1, QUERY_RECORDS_MAX, RECORDS_DEFAULT, &limit))
		return 0;
	ret = query_processes(s, dev, from, to, (size_t)limit, &out);
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return reply_store_err(req, ret, "records");
	return http_reply_json(req, 200, out);
}

/* --- GET /audit --- */

/* The scope of the entries returned is query_audit()'s (it filters every
 * entry through authorize()); here only: p holds audit.read somewhere. */
static int h_audit(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	int64_t from, to;
	uint64_t limit;
	cJSON *out;
	size_t i;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	for (i = 0; i < p.n_grants; i++)
		if (p.g[i].perms & PERM_AUDIT_READ)
			break;
	if (i == p.n_grants)
		return http_reply_error(req, 403, "forbidden: needs audit.read");
	if (need_range(req, &from, &to) ||
	    need_uint_arg(req, "limit", 1, QUERY_AUDIT_MAX, AUDIT_DEFAULT, &limit))
		return 0;
	ret = query_audit(s, &p, from, to, (size_t)limit, &out);
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return reply_store_err(req, ret, "audit");
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
