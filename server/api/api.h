/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * api.h - what every route module (the .c files of server/api/) builds on: the HTTP
 * layer, the core (principals, authorize(), audit) and the request helpers
 * that reply themselves (need_*). A route handler parses, authorizes, makes
 * one model call and replies; it never builds a store key.
 *
 * Conventions of the route modules:
 *  - A handler returns 0 after exactly one http_reply_*().
 *  - Functions named need_*() reply themselves when they fail (401, 403,
 *    400, 404, ...) and return nonzero; the handler then returns 0:
 *        struct principal p;
 *        if (need_user(s, req, &p)) return 0;
 */
#ifndef ACTLOG_API_H
#define ACTLOG_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/srv.h"
#include "core/tz.h"
#include "http/http.h"
#include "http/outbound.h"

/*
 * Parse the request body as a JSON object of at most API_JSON_MAX bytes.
 * On failure replies (413 too large, 400 not a JSON object, 400 a string
 * holding a NUL character: see json_nul_find) and returns NULL.
 */
cJSON *need_json(struct http_req *req);

/*
 * Required string field k of o with 1..max bytes of valid UTF-8 and no
 * control characters: returns it, or replies 400 naming the field and
 * returns NULL. opt_ version: NULL without replying when absent or null,
 * (const char *)-1 after replying 400 when present but bad. A C string
 * cannot show a NUL inside it: o must come from need_json(), which refuses
 * every string holding one.
 */
const char *need_str(struct http_req *req, const cJSON *o, const char *k, size_t max);
#define OPT_BAD ((const char *)-1)
const char *opt_str(struct http_req *req, const cJSON *o, const char *k, size_t max);
/*
 * Query argument name as an RFC 3339 time (or Unix ms digits): 0 and *ms,
 * 1 when absent (*ms = def), or replies 400 and returns -1.
 */
int need_time_arg(struct http_req *req, const char *name, int64_t def, int64_t *ms);
/*
 * The optional query arguments tz (an IANA zone, at most TZ_NAME_MAX
 * bytes; absent: *z NULL, UTC), to (default now) and from (default to -
 * def_range_ms), each an RFC 3339 time, Unix ms, or a local date
 * YYYY-MM-DD (its midnight in tz), with from <= to at most max_range_ms
 * apart: 0 and *z (the caller's: tz_close()), *from, *to; or 1 after
 * replying 400 (a bad or unknown zone, a bad time, a bad range) or 500.
 */
int need_tz_range(struct http_req *req, int64_t def_range_ms, int64_t max_range_ms, struct tz **z,
		  int64_t *from, int64_t *to);

/* Copy a module's n routes into r (room for max): n, or -ENOSPC. */
int routes_add(struct http_route *r, size_t max, const struct http_route *mine, size_t n);

/*
 * Finish req on the outbound pool (outbound.h): fn(req, ctx) runs on a pool
 * thread, replies, and owns ctx. business is the id of the business whose
 * S3 fn calls (target_business()): its jobs beyond the per-business cap are
 * refused. 0: handed on (the handler returns 0 and touches neither req nor
 * ctx again). 1: refused after replying 503 with Retry-After (the business
 * has its cap of jobs, or the pool is full) or 500; ctx stays the caller's
 * to free. Without a pool (s->ob NULL: tools, tests) fn runs at once on the
 * calling thread and 0 is returned.
 */
int need_outbound(struct srv *s, struct http_req *req, const char *business, outbound_fn fn,
		  void *ctx);

/* Reply for an error a store or model call returned (a negative errno):
 * ENOENT 404 "<what> not found", EEXIST 409, EAGAIN 503 busy, ENOSPC 507,
 * others 500 (logged). Returns 0 (for `return`). */
int reply_store_err(struct http_req *req, int err, const char *what);

/*
 * Authenticate the request's "Authorization: Bearer <token>" as a signed-in
 * user (alt_ token, not expired, not revoked, user not disabled) and load
 * their grants into *p; also takes one token from the per-token rate
 * bucket. Replies 401 (missing, unknown, expired token; with
 * WWW-Authenticate: Bearer), 403 (disabled user) or 429 and returns nonzero.
 */
int need_user(struct srv *s, struct http_req *req, struct principal *p);
/*
 * need_user() also takes personal API tokens (alp_, model/ptoken.h): p is
 * then the token's user with p->personal set and each grant cut to the
 * token's scopes; a disabled user or a token ended by their
 * sessions_after mark answers 401; its last use is noted (ptoken_touch()).
 * need_session(): 0 when p signed in with
 * a sign-in token, else replies 403 "a personal API token cannot <what>"
 * and returns 1 (routes that manage credentials).
 */
int need_session(struct http_req *req, const struct principal *p, const char *what);
/* The token of the request's "Authorization: Bearer <token>" (pointing into
 * the request's header), or NULL when there is none. Not checked. */
const char *req_bearer(struct http_req *req);
/*
 * The no-escalation rule for changes to user uid (password, login, name,
 * disabled, profile picture): every grant uid holds may carry only
 * permissions p holds on that grant's node. 0, or 1 after replying 403 (or
 * a store error).
 */
int need_holds_all_of(struct srv *s, struct http_req *req, const struct principal *p,
		      const char *uid);

/* The same for a device token (ald_): *p has kind DEVICE, id = device id,
 * team_id = its team, owner_id = its owner (from the same read of the
 * device item). 401 also for a revoked device; 403 for a pending one (see
 * model/device.h: enrolled for a known host without that host's device
 * token, not confirmed yet). With rate false no rate token is taken
 * (ingest acknowledges a known batch id first and then calls need_rate()). */
int need_device(struct srv *s, struct http_req *req, struct principal *p, bool rate);
/*
 * The HTTP layer's body gate (http_gate_fn, arg = s): 0 when the request
 * carries a bearer token (user or device) that exists and has not expired,
 * so it may send a body up to --max-body; replies 401 (WWW-Authenticate)
 * for a malformed, unknown or expired token (503/500 on a store error) and
 * returns nonzero; -EACCES without replying when there is no token. Cheap:
 * one hash and one read; the handler still authenticates fully.
 */
int srv_body_gate(struct http_req *req, void *arg);
/* Take one token from p's per-token bucket; replies 429 + Retry-After. */
int need_rate(struct srv *s, struct http_req *req, const struct principal *p);

/* authorize(), replying 403 "forbidden" on refusal. */
int need_perm(struct http_req *req, const struct principal *p, uint32_t perm,
	      const struct target *t);

/* need_* versions: reply 404 "<kind> not found" (also for malformed ids)
 * or 500 and return nonzero. */
int need_target_node(struct srv *s, struct http_req *req, const char *id, struct target *t);
int need_target_user(struct srv *s, struct http_req *req, const char *id, struct target *t);
int need_target_device(struct srv *s, struct http_req *req, const char *id, struct target *t);

/* --- route modules: each appends its routes (arg = s) and returns how
 * many, or -ENOSPC --- */
int api_auth_routes(struct srv *s, struct http_route *r, size_t max);
int api_org_routes(struct srv *s, struct http_route *r, size_t max);
int api_config_routes(struct srv *s, struct http_route *r, size_t max);
int api_device_routes(struct srv *s, struct http_route *r, size_t max);
int api_ingest_routes(struct srv *s, struct http_route *r, size_t max);
int api_query_routes(struct srv *s, struct http_route *r, size_t max);
int api_day_routes(struct srv *s, struct http_route *r, size_t max);
int api_report_routes(struct srv *s, struct http_route *r, size_t max);
int api_shots_routes(struct srv *s, struct http_route *r, size_t max);
int api_avatar_routes(struct srv *s, struct http_route *r, size_t max);
int api_retention_routes(struct srv *s, struct http_route *r, size_t max);
int api_metrics_routes(struct srv *s, struct http_route *r, size_t max);
int api_backup_routes(struct srv *s, struct http_route *r, size_t max);
int api_keys_routes(struct srv *s, struct http_route *r, size_t max);
int api_tokens_routes(struct srv *s, struct http_route *r, size_t max);
int api_review_routes(struct srv *s, struct http_route *r, size_t max);
int api_overview_routes(struct srv *s, struct http_route *r, size_t max);

/* audit_put() / audit_commit() (core/srv.h) with the request's client address. */
int audit_add(struct store_batch *b, struct http_req *req, const struct principal *actor,
	      const char *action, const char *node_id, const char *target, const char *result,
	      const cJSON *detail);
void audit_write(struct srv *s, struct http_req *req, const struct principal *actor,
		 const char *action, const char *node_id, const char *target, const char *result,
		 const cJSON *detail);

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
