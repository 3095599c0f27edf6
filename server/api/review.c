// SPDX-License-Identifier: BSD-2-Clause
/*
 * api/review.c - the access review of a node (model/review.h):
 *   GET /api/v1/nodes/{id}/access-review       (JSON)
 *   GET /api/v1/nodes/{id}/access-review.csv   (RFC 4180 CSV)
 * Both need user.read on the node (what lists its users and their grants)
 * and are audited ("access.review", detail {format, rows, truncated}).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "log.h"
#include "model/review.h"
#include "util.h"

/* The rows of node {id}'s review into *out after the checks, or 1 after
 * replying. */
static int review_get(struct srv *s, struct http_req *req, struct principal *p, const char **id,
		      cJSON **out)
{
	struct target t;
	int ret;

	*id = http_req_param(req, "id");
	*out = NULL;
	if (!*id || !text_valid(*id, 1, ID_SIZE - 1))
		return http_reply_error(req, 404, "node not found"), 1;
	if (need_user(s, req, p) || need_target_node(s, req, *id, &t) ||
	    need_perm(req, p, PERM_USER_READ, &t))
		return 1;
	ret = review_collect(s, *id, REVIEW_MAX_ROWS, out);
	if (ret)
		return reply_store_err(req, ret, "grants"), 1;
	return 0;
}

/* The audit entry of a review of node id. */
static void review_audit(struct srv *s, struct http_req *req, const struct principal *p,
			 const char *id, const char *format, const cJSON *out)
{
	cJSON *det = cJSON_CreateObject();

	cJSON_AddStringToObject(det, "format", format);
	cJSON_AddNumberToObject(det, "rows",
				cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(out, "rows")));
	cJSON_AddBoolToObject(det, "truncated",
			      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(out, "truncated")));
	audit_write(s, req, p, "access.review", id, id, "ok", det);
	cJSON_Delete(det);
}

static int h_review_json(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	const char *id;
	cJSON *out;

	if (review_get(s, req, &p, &id, &out))
		return 0;
	review_audit(s, req, &p, id, "json", out);
	return http_reply_json(req, 200, out);
}

static int h_review_csv(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	const char *id;
	size_t len;
	cJSON *out;
	char *buf;
	int ret;

	if (review_get(s, req, &p, &id, &out))
		return 0;
	ret = review_csv(cJSON_GetObjectItemCaseSensitive(out, "rows"), &buf, &len);
	if (ret) {
		cJSON_Delete(out);
		return reply_store_err(req, ret, "grants");
	}
	review_audit(s, req, &p, id, "csv", out);
	http_set_header(req, "Content-Disposition", "attachment; filename=\"access-review.csv\"");
	http_set_header(req, "X-Truncated",
			cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(out, "truncated")) ? "true"
											 : "false");
	cJSON_Delete(out);
	ret = http_reply_bytes(req, 200, "text/csv; charset=utf-8; header=present", buf, len);
	free(buf);
	return ret;
}

int api_review_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"GET", "/api/v1/nodes/{id}/access-review", h_review_json, s},
	    {"GET", "/api/v1/nodes/{id}/access-review.csv", h_review_csv, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
