// SPDX-License-Identifier: BSD-2-Clause
/*
 * retention.c - POST /api/v1/admin/retention/run: one retention sweep on
 * demand (store.admin on the root), run on the outbound pool because the
 * sweep deletes S3 objects. The sweep itself is model/retention.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "model/retention.h"
#include "util.h"

/* --- POST /api/v1/admin/retention/run --- */

static cJSON *stats_json(const struct retention_stats *st, int64_t ms)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "teams", (double)st->teams);
	cJSON_AddNumberToObject(o, "teams_swept", (double)st->teams_swept);
	cJSON_AddNumberToObject(o, "records", (double)st->records);
	cJSON_AddNumberToObject(o, "rollups", (double)st->rollups);
	cJSON_AddNumberToObject(o, "screenshots", (double)st->shots);
	cJSON_AddNumberToObject(o, "s3_errors", (double)st->s3_errors);
	cJSON_AddNumberToObject(o, "errors", (double)st->errors);
	cJSON_AddNumberToObject(o, "duration_ms", (double)ms);
	return o;
}

/* A run's job (run_finish): who asked. */
struct run_job {
	struct srv *s;
	struct principal p;
};

/* On the outbound pool (the sweep deletes S3 objects): sweep, audit, reply.
 * Frees j. */
static void run_finish(struct http_req *req, void *ctx)
{
	struct run_job *j = ctx;
	struct retention_stats st;
	int64_t t0 = now_ms();
	int ret = retention_sweep(j->s, t0, &st);
	cJSON *out = stats_json(&st, now_ms() - t0);

	audit_write(j->s, req, &j->p, "retention.run", ROOT_ID, NULL, ret ? "error" : "ok", out);
	if (ret) {
		cJSON_Delete(out);
		http_reply_error(req, ret == -ECANCELED ? 503 : 500, "retention sweep failed: %s",
				 strerror(-ret));
	} else {
		http_reply_json(req, 200, out);
	}
	free(j);
}

static int h_run(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct run_job *j = calloc(1, sizeof(*j));
	struct target t;

	if (!j)
		return -ENOMEM;
	if (need_user(s, req, &j->p) || need_target_node(s, req, ROOT_ID, &t) ||
	    need_perm(req, &j->p, PERM_STORE_ADMIN, &t)) {
		free(j);
		return 0;
	}
	j->s = s;
	/* store-wide: counted under the root, not under a business */
	if (need_outbound(s, req, ROOT_ID, run_finish, j))
		free(j);
	return 0;
}

int api_retention_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"POST", "/api/v1/admin/retention/run", h_run, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
