// SPDX-License-Identifier: BSD-2-Clause
/*
 * need.c - the request helpers every route module uses (contracts:
 * api/api.h): the body as a JSON object, string fields, time arguments,
 * the bearer token as a signed-in user or a device, authorize() and the
 * targets with a 403/404 reply, the outbound pool, store errors as HTTP
 * answers, and the audit entry with the request's client address. Each
 * need_*() replies itself when it fails; the core it builds on
 * (core/srv.h) never answers HTTP.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api.h"
#include "log.h"
#include "model/ptoken.h"
#include "util.h"

cJSON *need_json(struct http_req *req)
{
	const uint8_t *body;
	const char *end = NULL;
	char key[64];
	size_t len;
	long at;
	cJSON *j;
	int ret;

	/* inflated no further than the cap: a small gzip body must not cost
	 * max_inflated bytes of memory before it is refused */
	ret = http_req_body_gunzip_max(req, API_JSON_MAX, &body, &len);
	if (ret && ret != -EFBIG) {
		http_reply_error(req, http_status_for_errno(ret), "unreadable body: %s",
				 strerror(-ret));
		return NULL;
	}
	if (ret == -EFBIG || len > API_JSON_MAX) {
		http_reply_error(req, 413, "JSON body over %u bytes", API_JSON_MAX);
		return NULL;
	}
	j = cJSON_ParseWithLengthOpts((const char *)body, len, &end, false);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		http_reply_error(req, 400, "body must be a JSON object");
		return NULL;
	}
	/* a NUL would cut a string short unseen: no field may hold one */
	at =
	    json_nul_find((const char *)body, (size_t)(end - (const char *)body), key, sizeof(key));
	if (at >= 0) {
		cJSON_Delete(j);
		if (key[0])
			http_reply_error(
			    req, 400, "field '%s' holds a control character (NUL, \\u0000)", key);
		else
			http_reply_error(req, 400,
					 "a JSON string or field name holds a control character "
					 "(NUL, \\u0000)");
		return NULL;
	}
	return j;
}

int routes_add(struct http_route *r, size_t max, const struct http_route *mine, size_t n)
{
	if (n > max)
		return -ENOSPC;
	memcpy(r, mine, n * sizeof(*mine));
	return (int)n;
}

const char *need_str(struct http_req *req, const cJSON *o, const char *k, size_t max)
{
	const char *v = jstr(o, k);

	if (!v) {
		http_reply_error(req, 400, "field '%s' is required (a string)", k);
		return NULL;
	}
	if (!text_valid(v, 1, max)) {
		http_reply_error(req, 400,
				 "field '%s' must be 1..%zu bytes of UTF-8 text without control "
				 "characters",
				 k, max);
		return NULL;
	}
	return v;
}

const char *opt_str(struct http_req *req, const cJSON *o, const char *k, size_t max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!v || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsString(v) || !text_valid(v->valuestring, 1, max)) {
		http_reply_error(req, 400,
				 "field '%s' must be 1..%zu bytes of UTF-8 text without control "
				 "characters",
				 k, max);
		return OPT_BAD;
	}
	return v->valuestring;
}

int need_time_arg(struct http_req *req, const char *name, int64_t def, int64_t *ms)
{
	const char *v = http_req_query(req, name);
	uint64_t u;

	*ms = def;
	if (!v)
		return 1;
	if (!parse_uint(v, 0, 253402300799999ULL, &u)) {
		*ms = (int64_t)u;
		return 0;
	}
	if (!rfc3339_parse(v, ms))
		return 0;
	http_reply_error(req, 400, "'%s' must be an RFC 3339 time or Unix milliseconds", name);
	return -1;
}

/* The instants a zone's days are made around: from 1970 (no negative time,
 * as Unix ms) to two days before the calendar's last, so that the local
 * day of any of them, in any zone (at most 14 h from UTC), and the
 * midnight after it are dates of the years 1..9999. */
#define LOCAL_TIME_MAX 253402128000000LL /* 9999-12-30T00:00:00Z */

/* need_time_arg() that also takes a local date YYYY-MM-DD: its midnight in
 * z (NULL: UTC); a value given must lie in 0..LOCAL_TIME_MAX. */
static int need_local_time_arg(struct http_req *req, const char *name, struct tz *z, int64_t def,
			       int64_t *ms)
{
	const char *v = http_req_query(req, name);
	struct tz *utc = NULL;
	int y, m, d, ret;

	if (!v || tz_parse_date(v, &y, &m, &d)) {
		ret = need_time_arg(req, name, def, ms);
		if (ret || (*ms >= 0 && *ms <= LOCAL_TIME_MAX))
			return ret;
		goto out_of_range;
	}
	if (!z && tz_open("UTC", &utc)) {
		http_reply_error(req, 500, "time zones are not available");
		return -1;
	}
	ret = tz_midnight(z ? z : utc, y, m, d, ms);
	tz_close(utc);
	if (ret) {
		http_reply_error(req, 400, "'%s' is not a date of this time zone", name);
		return -1;
	}
	if (*ms >= 0 && *ms <= LOCAL_TIME_MAX)
		return 0;
out_of_range:
	http_reply_error(req, 400, "'%s' must be between 1970-01-01 and 9999-12-30T00:00:00Z",
			 name);
	return -1;
}

int need_tz_range(struct http_req *req, int64_t def_range_ms, int64_t max_range_ms, struct tz **z,
		  int64_t *from, int64_t *to)
{
	const char *name = http_req_query(req, "tz");
	int ret;

	*z = NULL;
	if (name) {
		if (strlen(name) > TZ_NAME_MAX) {
			http_reply_error(req, 400, "'tz' is longer than %d bytes", TZ_NAME_MAX);
			return 1;
		}
		ret = tz_open(name, z);
		if (ret == -ENOMEM) {
			http_reply_error(req, 500, "out of memory");
			return 1;
		}
		if (ret) {
			http_reply_error(req, 400,
					 "'tz' is not a time zone name (IANA, like Europe/Paris)");
			return 1;
		}
	}
	if (need_local_time_arg(req, "to", *z, now_ms(), to) < 0 ||
	    need_local_time_arg(req, "from", *z, *to - def_range_ms, from) < 0)
		goto bad;
	if (*from > *to) {
		http_reply_error(req, 400, "'from' is after 'to'");
		goto bad;
	}
	if (*to - *from > max_range_ms) {
		http_reply_error(req, 400, "'from' and 'to' are more than %lld days apart",
				 (long long)(max_range_ms / 86400000LL));
		goto bad;
	}
	return 0;
bad:
	tz_close(*z);
	*z = NULL;
	return 1;
}

int need_outbound(struct srv *s, struct http_req *req, const char *business, outbound_fn fn,
		  void *ctx)
{
	char ra[16];
	int err;

	if (!business || !business[0])
		business = ROOT_ID; /* the root's jobs (no business): one key */
	if (!s->ob) {
		fn(req, ctx);
		return 0;
	}
	err = outbound_submit(s->ob, business, req, fn, ctx);
	if (!err)
		return 0;
	snprintf(ra, sizeof(ra), "%d", OUTBOUND_RETRY_AFTER_S);
	if (err == -EBUSY || err == -EAGAIN || err == -ESHUTDOWN)
		http_set_header(req, "Retry-After", ra);
	if (err == -EBUSY) {
		log_warn("event=outbound_refused business=%s reason=per_business_cap", business);
		http_reply_error(req, 503,
				 "too many S3 requests of this business in progress; retry later");
	} else if (err == -EAGAIN || err == -ESHUTDOWN) {
		log_warn("event=outbound_refused business=%s reason=%s", business,
			 err == -EAGAIN ? "pool_full" : "stopping");
		http_reply_error(req, 503, "the server is busy with S3 requests; retry later");
	} else {
		log_err("event=outbound_failed business=%s err=%s", business, strerror(-err));
		http_reply_error(req, 500, "internal error");
	}
	return 1;
}

int reply_store_err(struct http_req *req, int err, const char *what)
{
	switch (err) {
	case -ENOENT:
		return http_reply_error(req, 404, "%s not found", what), 0;
	case -EEXIST:
		return http_reply_error(req, 409, "%s already exists", what), 0;
	case -EAGAIN:
		http_set_header(req, "Retry-After", "1");
		return http_reply_error(req, 503, "busy, retry"), 0;
	case -ENOSPC:
		log_err("event=store_error what=%s err=%s", what, strerror(-err));
		return http_reply_error(req, 507, "store full"), 0;
	default:
		log_err("event=store_error what=%s err=%s", what, strerror(-err));
		return http_reply_error(req, 500, "internal error"), 0;
	}
}

const char *req_bearer(struct http_req *req)
{
	const char *h = http_req_header(req, "Authorization");

	if (!h || strncasecmp(h, "Bearer ", 7))
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}

static int reply_401(struct http_req *req, const char *why)
{
	http_set_header(req, "WWW-Authenticate", "Bearer realm=\"actlog\"");
	http_reply_error(req, 401, "%s", why);
	return 1;
}

/* Look the token up: fills p->token_hash, kind and id. 1 after replying. */
static int token_lookup(struct srv *s, struct http_req *req, const char *prefix,
			struct principal *p, bool rate, cJSON **tok_out)
{
	const char *tok = req_bearer(req);
	cJSON *t;
	int ret;

	*tok_out = NULL;
	if (!tok)
		return reply_401(req, "authentication required (Authorization: Bearer <token>)");
	ret = token_get(s, tok, prefix, p->token_hash, true, &t);
	if (ret == -EINVAL)
		return reply_401(req, "invalid token");
	if (ret == -ENOENT)
		return reply_401(req, "invalid or revoked token");
	if (ret == -EKEYEXPIRED)
		return reply_401(req, "token expired");
	if (ret)
		return reply_store_err(req, ret, "token"), 1;
	if (rate && need_rate(s, req, p)) {
		cJSON_Delete(t);
		return 1;
	}
	*tok_out = t;
	return 0;
}

/* The prefix of tok's kind: device, personal, else bearer (sign-in). */
static const char *token_kind_prefix(const char *tok)
{
	if (token_well_formed(tok, TOKEN_PREFIX_DEVICE))
		return TOKEN_PREFIX_DEVICE;
	if (token_well_formed(tok, TOKEN_PREFIX_PERSONAL))
		return TOKEN_PREFIX_PERSONAL;
	return TOKEN_PREFIX_BEARER;
}

int srv_body_gate(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *tok = req_bearer(req);
	char hash[TOKEN_HASH_SIZE];
	cJSON *t;
	int ret;

	if (!tok)
		return -EACCES; /* no reply: the small cap applies */
	ret = token_get(s, tok, token_kind_prefix(tok), hash, false, &t);
	cJSON_Delete(t);
	if (ret == -EINVAL)
		return reply_401(req, "invalid token");
	if (ret == -ENOENT)
		return reply_401(req, "invalid or revoked token");
	if (ret == -EKEYEXPIRED)
		return reply_401(req, "token expired");
	if (ret)
		return reply_store_err(req, ret, "token"), 1;
	return 0;
}

int need_rate(struct srv *s, struct http_req *req, const struct principal *p)
{
	char ra[16];

	if (!ratelimit_take(s->rl_token, p->token_hash, clock_ns(CLOCK_MONOTONIC) / 1000000))
		return 0;
	snprintf(ra, sizeof(ra), "%u", ratelimit_retry_after_s(s->rl_token));
	http_set_header(req, "Retry-After", ra);
	http_reply_error(req, 429, "too many requests");
	return 1;
}

int need_user(struct srv *s, struct http_req *req, struct principal *p)
{
	const char *tok = req_bearer(req);
	bool personal = tok && token_well_formed(tok, TOKEN_PREFIX_PERSONAL);
	cJSON *t, *u = NULL;
	const char *id, *v;
	char tid[ID_SIZE] = "";
	uint32_t scopes = 0;
	int64_t iat;
	int ret;

	memset(p, 0, sizeof(*p));
	if (token_lookup(s, req, personal ? TOKEN_PREFIX_PERSONAL : TOKEN_PREFIX_BEARER, p, true,
			 &t))
		return 1;
	id = jstr(t, "id");
	if (!id || strcmp(jstr(t, "kind") ? jstr(t, "kind") : "", personal ? "personal" : "user") ||
	    strlen(id) >= ID_SIZE) {
		cJSON_Delete(t);
		return reply_401(req, "invalid token");
	}
	p->kind = PRINCIPAL_USER;
	strcpy(p->id, id);
	iat = jint(t, "iat", 0);
	if (personal) {
		scopes = ptoken_item_scopes(t);
		if ((v = jstr(t, "tid")) && strlen(v) < sizeof(tid))
			strcpy(tid, v);
	}
	cJSON_Delete(t);
	ret = jget(s, STORE_T_USERS, p->id, "user", &u);
	if (ret == -ENOENT)
		return reply_401(req, "invalid token");
	if (ret)
		return reply_store_err(req, ret, "user"), 1;
	/* a password change or a disable ends the sessions signed in before
	 * it (their tokens are deleted then; this catches tokens stored
	 * before the index of a user's tokens existed) */
	if (iat < jint(u, "sessions_after", 0)) {
		cJSON_Delete(u);
		if (personal)
			return reply_401(req, "token ended by a password change or a disable");
		user_token_drop(s, p->id, p->token_hash);
		return reply_401(req, "session ended by a password change or a disable");
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "disabled"))) {
		cJSON_Delete(u);
		/* a personal token is no session: it stops working (401) */
		if (personal)
			return reply_401(req, "account disabled");
		http_reply_error(req, 403, "account disabled");
		return 1;
	}
	if ((v = jstr(u, "team_id")) && strlen(v) < ID_SIZE)
		strcpy(p->team_id, v);
	if ((v = jstr(u, "email")) && strlen(v) <= EMAIL_MAX_LEN)
		strcpy(p->email, v);
	cJSON_Delete(u);
	ret = principal_load_grants(s, p);
	if (ret)
		return reply_store_err(req, ret, "grants"), 1;
	/* a personal token: the user's current grants, cut to its scopes */
	if (personal) {
		ptoken_restrict(p, scopes);
		/* last_used_at of the list; its failure fails no request */
		ret = ptoken_touch(s, p->id, tid, now_ms());
		if (ret)
			log_warn("event=token_touch_failed user=%s err=%s", p->id, strerror(-ret));
	}
	return 0;
}

int need_session(struct http_req *req, const struct principal *p, const char *what)
{
	if (!p->personal)
		return 0;
	http_reply_error(req, 403, "a personal API token cannot %s: sign in", what);
	return 1;
}

int need_device(struct srv *s, struct http_req *req, struct principal *p, bool rate)
{
	cJSON *t, *d = NULL;
	const char *id, *v;
	int ret;

	memset(p, 0, sizeof(*p));
	if (token_lookup(s, req, TOKEN_PREFIX_DEVICE, p, rate, &t))
		return 1;
	id = jstr(t, "id");
	if (!id || strcmp(jstr(t, "kind") ? jstr(t, "kind") : "", "device") ||
	    strlen(id) >= ID_SIZE) {
		cJSON_Delete(t);
		return reply_401(req, "invalid token");
	}
	p->kind = PRINCIPAL_DEVICE;
	strcpy(p->id, id);
	cJSON_Delete(t);
	ret = jget(s, STORE_T_DEVICES, p->id, "device", &d);
	if (ret == -ENOENT)
		return reply_401(req, "invalid token");
	if (ret)
		return reply_store_err(req, ret, "device"), 1;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "revoked"))) {
		cJSON_Delete(d);
		return reply_401(req, "device revoked");
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "pending"))) {
		cJSON_Delete(d);
		http_reply_error(req, 403,
				 "device %s is pending: an administrator must confirm it "
				 "(POST /api/v1/devices/%s/confirm)",
				 p->id, p->id);
		return 1;
	}
	if ((v = jstr(d, "team_id")) && strlen(v) < ID_SIZE)
		strcpy(p->team_id, v);
	if ((v = jstr(d, "owner_id")) && strlen(v) < ID_SIZE)
		strcpy(p->owner_id, v);
	cJSON_Delete(d);
	return 0;
}

int need_perm(struct http_req *req, const struct principal *p, uint32_t perm,
	      const struct target *t)
{
	if (!authorize(p, perm, t))
		return 0;
	http_reply_error(req, 403, "forbidden: needs %s here",
			 perm_name(perm) ? perm_name(perm) : "permissions");
	return 1;
}

static int need_target(struct srv *s, struct http_req *req, const char *id, struct target *t,
		       int (*fn)(struct srv *, const char *, struct target *), const char *what)
{
	int ret = fn(s, id, t);

	if (!ret)
		return 0;
	reply_store_err(req, ret, what);
	return 1;
}

int need_target_node(struct srv *s, struct http_req *req, const char *id, struct target *t)
{
	return need_target(s, req, id, t, target_node, "node");
}

int need_target_user(struct srv *s, struct http_req *req, const char *id, struct target *t)
{
	return need_target(s, req, id, t, target_user, "user");
}

int need_target_device(struct srv *s, struct http_req *req, const char *id, struct target *t)
{
	return need_target(s, req, id, t, target_device, "device");
}

/*
 * The no-escalation rule for changes to user uid (password, login, name,
 * disabled): every grant uid holds may carry only permissions p holds on
 * that grant's node, or whoever may set uid's password could sign in with
 * more than they hold (and lock out those above them). 0, or 1 after
 * replying 403 (or a store error).
 */
int need_holds_all_of(struct srv *s, struct http_req *req, const struct principal *p,
		      const char *uid)
{
	struct principal *h = calloc(1, sizeof(*h));
	struct target t;
	size_t i;
	int ret;

	if (!h)
		return reply_store_err(req, -ENOMEM, "grants"), 1;
	snprintf(h->id, sizeof(h->id), "%s", uid);
	ret = principal_load_grants(s, h);
	for (i = 0; !ret && i < h->n_grants; i++) {
		const struct grant *g = &h->g[i];

		if (!g->perms)
			continue;
		ret = target_node(s, g->node_id, &t);
		if (ret == -ENOENT) {
			ret = 0; /* a node deleted since: the grant applies nowhere */
			continue;
		}
		if (!ret && (g->perms & ~perms_on(p, &t))) {
			http_reply_error(
			    req, 403,
			    "forbidden: the user holds role '%s' on %s with permissions "
			    "you lack there",
			    g->role, g->node_id);
			free(h);
			return 1;
		}
	}
	free(h);
	if (ret)
		return reply_store_err(req, ret, "grants"), 1;
	return 0;
}

int audit_add(struct store_batch *b, struct http_req *req, const struct principal *actor,
	      const char *action, const char *node_id, const char *target, const char *result,
	      const cJSON *detail)
{
	return audit_put(b, req ? http_req_client(req) : NULL, actor, action, node_id, target,
			 result, detail);
}

void audit_write(struct srv *s, struct http_req *req, const struct principal *actor,
		 const char *action, const char *node_id, const char *target, const char *result,
		 const cJSON *detail)
{
	audit_commit(s, req ? http_req_client(req) : NULL, actor, action, node_id, target, result,
		     detail);
}
