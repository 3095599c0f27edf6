// SPDX-License-Identifier: BSD-2-Clause
/*
 * api/day.c - GET /api/v1/users/{id}/day: a person's day (docs/API.md,
 * Queries). The handler parses the day (date and tz, or from/to),
 * authorizes the request (activity.read on the user, or the user
 * themself), makes one model call (model/day.h: the devices, the records
 * read and their caps) and replies.
 */
#include <errno.h>
#include <string.h>

#include "api/api.h"
#include "core/tz.h"
#include "model/day.h"
#include "util.h"

/* The day asked for: date (with tz) or from/to. 0, or 1 after replying 400. */
static int need_day(struct http_req *req, int64_t *from, int64_t *to)
{
	const char *date = http_req_query(req, "date"), *tz = http_req_query(req, "tz");
	int ret;

	if (tz && strlen(tz) > TZ_NAME_MAX) {
		http_reply_error(req, 400, "'tz' is longer than %d bytes", TZ_NAME_MAX);
		return 1;
	}
	if (day_tz_check(tz)) {
		http_reply_error(req, 400,
				 "'tz' is not a time zone name (IANA, like Europe/Paris)");
		return 1;
	}
	if (date) {
		if (http_req_query(req, "from") || http_req_query(req, "to")) {
			http_reply_error(req, 400, "give either 'date' or 'from' and 'to'");
			return 1;
		}
		ret = day_bounds(date, tz, from, to);
		if (ret == -ENOMEM) {
			http_reply_error(req, 500, "out of memory");
			return 1;
		}
		if (ret) {
			http_reply_error(req, 400, "'date' must be a day YYYY-MM-DD");
			return 1;
		}
		return 0;
	}
	if (!http_req_query(req, "from") || !http_req_query(req, "to")) {
		http_reply_error(req, 400, "give 'date' (YYYY-MM-DD) or 'from' and 'to'");
		return 1;
	}
	if (need_time_arg(req, "from", 0, from) < 0 || need_time_arg(req, "to", 0, to) < 0)
		return 1;
	if (*from >= *to || *to - *from > DAY_RANGE_MAX_MS) {
		http_reply_error(req, 400, "'from' must be before 'to', at most 48 hours apart");
		return 1;
	}
	return 0;
}

static int h_day(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *uid = http_req_param(req, "id"), *date = http_req_query(req, "date"), *tz;
	struct principal p;
	struct target t;
	int64_t from, to;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p) || need_target_user(s, req, uid, &t) ||
	    need_perm(req, &p, PERM_ACTIVITY_READ, &t) || need_day(req, &from, &to))
		return 0;
	ret = day_query(s, uid, from, to, &out);
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return reply_store_err(req, ret, "user");
	if (date)
		cJSON_AddStringToObject(out, "date", date);
	tz = http_req_query(req, "tz");
	cJSON_AddStringToObject(out, "tz", tz ? tz : "UTC");
	return http_reply_json(req, 200, out);
}

int api_day_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"GET", "/api/v1/users/{id}/day", h_day, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
