/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * api.h - what every route module (the .c files of server/api/) builds on: the HTTP
 * layer, the core (principals, authorize(), audit) and the request helpers
 * that reply themselves (need_*). A route handler parses, authorizes, makes
 * one model call and replies; it never builds a store key.
 */
#ifndef ACTLOG_API_H
#define ACTLOG_API_H

#include "core/srv.h"
#include "http/http.h"

/*
 * Reply for an error a model call returned (a negative errno: the store's
 * or the model's own) with reply_store_err()'s table: ENOENT 404 "<what>
 * not found", EEXIST 409, EAGAIN 503, ENOSPC 507, others 500. Returns 0.
 */
static inline int reply_model_err(struct http_req *req, int err, const char *what)
{
	return reply_store_err(req, err, what);
}

/* Who a change's audit entry names: the request and its actor. */
struct api_actor {
	struct http_req *req;
	const struct principal *p;
};

/*
 * The audit callback of the model's changes (model/org.h: org_audit_fn;
 * ctx a struct api_actor): audit_add() of the entry with result "ok", into
 * the change's batch. 0 or -errno.
 */
static inline int api_audit_ok(struct store_batch *b, const char *action, const char *node_id,
			       const char *target, const cJSON *detail, void *ctx)
{
	const struct api_actor *a = ctx;

	return audit_add(b, a->req, a->p, action, node_id, target, "ok", detail);
}

#endif /* ACTLOG_API_H */
