// SPDX-License-Identifier: BSD-2-Clause
/*
 * api/overview.c - GET /api/v1/nodes/{id}/overview: the team overview of a
 * node (model/overview.h). See docs/API.md (Team overview). The handler
 * parses from/to/step/tz, authorizes activity.read on the node, makes one
 * model call and replies.
 */
#include <errno.h>
#include <string.h>

#include "api/api.h"
#include "model/overview.h"
#include "model/query.h"
#include "util.h"

#define TZ_MAX 64

/*
 * from, to (default: today, UTC midnight to now), step (s, default 3600)
 * and tz (default UTC) into q: 0, or 1 after replying 400. Until the
 * rollups of ten minutes and time zones land, step is a multiple of 3600
 * and tz is UTC, refused with the activity and report routes' messages.
 */
static int need_overview_args(struct http_req *req, struct overview_req *q)
{
	const char *tz = http_req_query(req, "tz"), *step = http_req_query(req, "step");
	uint64_t st = 3600;

	q->now = now_ms();
	if (tz && strlen(tz) > TZ_MAX)
		return http_reply_error(req, 400, "'tz' is longer than %d bytes", TZ_MAX), 1;
	if (tz && strcmp(tz, "UTC") && strcmp(tz, "Etc/UTC"))
		return http_reply_error(req, 400,
					"time zones other than UTC are not supported yet"),
		       1;
	q->tz = "UTC";
	if (need_time_arg(req, "to", q->now, &q->to) < 0 ||
	    need_time_arg(req, "from", q->now / QUERY_DAY_MS * QUERY_DAY_MS, &q->from) < 0)
		return 1;
	if (q->from > q->to)
		return http_reply_error(req, 400, "'from' is after 'to'"), 1;
	if (q->to - q->from > OVERVIEW_RANGE_MAX_MS)
		return http_reply_error(req, 400, "'from' and 'to' are more than 31 days apart"), 1;
	if (step && parse_uint(step, 3600, OVERVIEW_RANGE_MAX_MS / 1000, &st))
		return http_reply_error(req, 400, "'step' must be a whole number in %d..%lld", 3600,
					OVERVIEW_RANGE_MAX_MS / 1000),
		       1;
	if (st % 3600)
		return http_reply_error(req, 400, "'step' must be a multiple of 3600 seconds"), 1;
	q->step_ms = (int64_t)st * 1000;
	if (query_activity_points(q->from, q->to, q->step_ms) > OVERVIEW_POINTS_MAX)
		return http_reply_error(
			   req, 400, "%zu points over %d; raise 'step' or narrow the range",
			   query_activity_points(q->from, q->to, q->step_ms), OVERVIEW_POINTS_MAX),
		       1;
	return 0;
}

static int h_overview(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct overview_req q = {.node_id = http_req_param(req, "id")};
	struct principal p;
	struct target t;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p) || need_target_node(s, req, q.node_id, &t) ||
	    need_perm(req, &p, PERM_ACTIVITY_READ, &t) || need_overview_args(req, &q))
		return 0;
	ret = overview_node(s, &p, &q, &out);
	if (ret == -E2BIG)
		return http_reply_error(req, 400, "more than %d nodes below '%s'",
					QUERY_NODE_WALK_MAX, q.node_id);
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return reply_store_err(req, ret, "node");
	return http_reply_json(req, 200, out);
}

int api_overview_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"GET", "/api/v1/nodes/{id}/overview", h_overview, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
