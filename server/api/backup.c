// SPDX-License-Identifier: BSD-2-Clause
/*
 * api/backup.c - the server's periodic backups (store.admin on the root):
 *   GET  /api/v1/admin/backups      the schedule, the last runs and the
 *                                   backups at the target (lists the
 *                                   bucket: run on the outbound pool)
 *   POST /api/v1/admin/backups/run  a run now (202; 409 while one runs)
 * The schedule and the runs are model/backup_sched.c's. See docs/API.md
 * (Backups).
 */
#include <errno.h>
#include <stdlib.h>

#include "api/api.h"
#include "log.h"
#include "model/backup_sched.h"
#include "util.h"

/* 0 when p holds store.admin on the root; else replies (401/403/...). */
static int need_admin(struct srv *s, struct http_req *req, struct principal *p)
{
	struct target t;

	return need_user(s, req, p) || need_target_node(s, req, ROOT_ID, &t) ||
	       need_perm(req, p, PERM_STORE_ADMIN, &t);
}

/* On the outbound pool (the listing calls S3): the report. ctx: the srv. */
static void list_finish(struct http_req *req, void *ctx)
{
	struct srv *s = ctx;
	cJSON *out;
	int ret = backup_sched_report(s, s->backups, &out);

	if (ret) {
		reply_store_err(req, ret, "backup settings");
		return;
	}
	http_set_header(req, "Cache-Control", "no-store");
	http_reply_json(req, 200, out);
}

static int h_list(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;

	if (need_admin(s, req, &p))
		return 0;
	/* store-wide: counted under the root, not under a business */
	need_outbound(s, req, ROOT_ID, list_finish, s);
	return 0;
}

static int h_run(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	char why[256];
	int ret;

	if (need_admin(s, req, &p))
		return 0;
	ret = backup_sched_run_now(s->backups, &p, http_req_client(req), why, sizeof(why));
	switch (ret) {
	case 0:
		log_info("event=backup_requested by=%s", p.id);
		{
			cJSON *o = cJSON_CreateObject();

			cJSON_AddBoolToObject(o, "queued", true);
			return http_reply_json(req, 202, o), 0;
		}
	case -EBUSY:
		return http_reply_error(req, 409, "%s", why), 0;
	case -EINVAL:
		return http_reply_error(req, 400, "%s", why), 0;
	case -ESHUTDOWN:
	case -ESRCH:
		http_set_header(req, "Retry-After", "60");
		return http_reply_error(req, 503, "%s",
					ret == -ESRCH ? "periodic backups are not running"
						      : "the server is stopping"),
		       0;
	default:
		return reply_store_err(req, ret, "backup settings");
	}
}

int api_backup_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"GET", "/api/v1/admin/backups", h_list, s},
	    {"POST", "/api/v1/admin/backups/run", h_run, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
