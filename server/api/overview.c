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
#include "core/tz.h"
#include "model/overview.h"
#include "model/query.h"
#include "util.h"

/*
 * from, to (RFC 3339, Unix ms, or local dates YYYY-MM-DD in tz; default:
 * to now, from the local midnight of the day before to's instant: today,
 * or for to=YYYY-MM-DD the day before it), step (s, default 3600: 600 or a
 * multiple of 3600) and tz (an IANA name, default UTC) into q (q->z: the
 * caller closes it): 0, or 1 after replying 400 (with the activity
 * route's messages).
 */
static int need_overview_args(struct http_req *req, struct overview_req *q)
{
	const char *step = http_req_query(req, "step");
	struct query_span sp;
	uint64_t st = 3600;

	q->now = now_ms();
	if (step && parse_uint(step, 600, OVERVIEW_RANGE_MAX_MS / 1000, &st))
		return http_reply_error(req, 400, "'step' must be a whole number in %d..%lld", 600,
					OVERVIEW_RANGE_MAX_MS / 1000),
		       1;
	if (!query_step_ok((int64_t)st * 1000))
		return http_reply_error(req, 400,
					"'step' must be 600 or a multiple of 3600 seconds"),
		       1;
	q->step_ms = (int64_t)st * 1000;
	if (need_tz_range(req, 0, OVERVIEW_RANGE_MAX_MS, &q->z, &q->from, &q->to))
		return 1;
	if (!http_req_query(req, "from")) {
		/* the local day that holds the instant before to: today for
		 * to = now, the day before for a to at a midnight */
		int64_t last = q->to > 0 ? q->to - 1 : 0;
		int y, m, d;

		if (!q->z)
			q->from = last / QUERY_DAY_MS * QUERY_DAY_MS;
		else if (tz_date(q->z, last, &y, &m, &d) || tz_midnight(q->z, y, m, d, &q->from))
			return http_reply_error(req, 500, "time zone conversion failed"), 1;
	}
	if (st == 600 && q->to - q->from > QUERY_SLOT_RANGE_MAX_MS)
		return http_reply_error(
			   req, 400, "a 'step' of 600 takes 'from' and 'to' at most 7 days apart"),
		       1;
	if (query_span_make(q->z, q->from, q->to, q->step_ms, OVERVIEW_POINTS_MAX, &sp) == -E2BIG) {
		http_reply_error(req, 400, "%zu points over %d; raise 'step' or narrow the range",
				 sp.n, OVERVIEW_POINTS_MAX);
		query_span_free(&sp);
		return 1;
	}
	query_span_free(&sp);
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
	    need_perm(req, &p, PERM_ACTIVITY_READ, &t) || need_overview_args(req, &q)) {
		tz_close(q.z);
		return 0;
	}
	ret = overview_node(s, &p, &q, &out);
	tz_close(q.z);
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
