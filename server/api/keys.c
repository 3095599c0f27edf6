// SPDX-License-Identifier: BSD-2-Clause
/*
 * keys.c - GET /api/v1/admin/keys: the master keys the server holds, which
 * one wraps new data keys, how many data keys each wraps, and the rotation
 * in progress (store.admin on the root). The report is model/rekey.c's.
 */
#include <errno.h>

#include "api/api.h"
#include "model/rekey.h"
#include "util.h"

static int h_keys(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	struct target t;
	cJSON *out = NULL;
	int ret;

	if (need_user(s, req, &p) || need_target_node(s, req, ROOT_ID, &t) ||
	    need_perm(req, &p, PERM_STORE_ADMIN, &t))
		return 0;
	ret = rekey_report(s, &out);
	if (ret)
		return ret;
	return http_reply_json(req, 200, out);
}

int api_keys_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"GET", "/api/v1/admin/keys", h_keys, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
