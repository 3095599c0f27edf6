// SPDX-License-Identifier: BSD-2-Clause
/*
 * metrics.c - GET /metrics: the server's counters and gauges (core/metrics.h)
 * in the Prometheus text format, for a bearer token that holds store.admin on
 * the root (a Prometheus scrape job's `authorization` credentials).
 */
#include <errno.h>
#include <stdlib.h>

#include "api/api.h"
#include "core/metrics.h"
#include "util.h"

static int h_metrics(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	struct target t;
	char *text = NULL;
	size_t len = 0;
	int ret;

	if (need_user(s, req, &p) || need_target_node(s, req, ROOT_ID, &t) ||
	    need_perm(req, &p, PERM_STORE_ADMIN, &t))
		return 0;
	ret = metrics_render(&text, &len);
	if (ret)
		return ret;
	ret = http_reply_bytes(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
	free(text);
	return ret;
}

int api_metrics_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"GET", "/metrics", h_metrics, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
