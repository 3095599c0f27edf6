// SPDX-License-Identifier: BSD-2-Clause
/*
 * ingest.c - POST /api/v1/ingest: the agent's record batches (gzip NDJSON,
 * one record a line, named by X-Batch-Id). See docs/API.md (Ingest); the
 * rules and the writes are model/ingest.c's.
 *
 * A batch id already stored is answered with its stored answer before
 * anything else is read (not even a rate-limit token is taken), so an
 * agent that lost an acknowledgement can always get it again.
 */
#include <errno.h>
#include <string.h>

#include "api/api.h"
#include "log.h"
#include "model/ingest.h"
#include "util.h"

static int h_ingest(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	struct ingest_source src;
	const char *bid;
	const uint8_t *body;
	cJSON *answer = NULL;
	size_t len;
	int ret;

	if (need_device(s, req, &p, false))
		return 0;
	bid = http_req_header(req, "X-Batch-Id");
	if (!ingest_batch_id_valid(bid))
		return http_reply_error(req, 400,
					"X-Batch-Id must be 1..%d characters of [A-Za-z0-9._:-]",
					INGEST_BATCH_ID_MAX);
	/* a batch stored before: its answer again, nothing stored twice */
	ret = ingest_stored_answer(s, p.id, bid, &answer);
	if (!ret)
		return http_reply_json(req, 200, answer);
	if (ret != -ENOENT)
		return reply_store_err(req, ret, "batch");
	if (need_rate(s, req, &p))
		return 0;
	ret = http_req_body_gunzip(req, &body, &len);
	if (ret == -EBADMSG)
		return http_reply_error(req, 400, "truncated or corrupt gzip");
	if (ret)
		return http_reply_error(req, http_status_for_errno(ret), "unreadable body: %s",
					ret == -EFBIG ? "inflated body too large" : strerror(-ret));

	src = (struct ingest_source){p.id, p.team_id, p.owner_id};
	ret = ingest_apply(s, &src, bid, now_ms(), (const char *)body, len, &answer);
	if (ret == -EFBIG)
		return http_reply_error(req, 413, "batch over %u lines", INGEST_LINES_MAX);
	if (ret == -E2BIG)
		return http_reply_error(
		    req, 413, "batch touches more than %d rollup items; send fewer records",
		    INGEST_ROLLUPS_MAX);
	if (ret)
		return reply_store_err(req, ret == -ENOENT ? -EIO : ret, "batch");
	log_info(
	    "event=ingest device=%s batch=%s accepted=%d rejected=%d dropped=%d", p.id, bid,
	    (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(answer, "accepted")),
	    (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(answer, "rejected_count")),
	    (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(answer, "dropped"), "logging_off")));
	return http_reply_json(req, 200, answer);
}

int api_ingest_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"POST", "/api/v1/ingest", h_ingest, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
