// SPDX-License-Identifier: BSD-2-Clause
/*
 * api/auth.c - sign-in: POST /api/v1/auth/login, POST /api/v1/auth/logout,
 * GET /api/v1/me, POST /api/v1/me/password. See docs/API.md. Each handler
 * parses the request, takes its sign-in attempt (below), makes one call of
 * model/account.h (the password slots, the token, the revocations) and
 * replies; the audit entry of a change is added here (audit_add() needs
 * the request), through the org_audit_fn the model calls in its batch, and
 * a refused password is audited here on its own (audit_write()).
 *
 * Sign-in limits (POST /auth/login, and the current password of POST
 * /me/password). Every attempt takes a token from three buckets, in this
 * order, and an empty one answers 429 with Retry-After before any password
 * is hashed:
 *  - per client address: 3 x login_burst, one more every login_refill_ms / 3;
 *  - per (account, address), the account being the lower-case email, known
 *    or not: login_burst, one more every login_refill_ms; this is what
 *    stops one address guessing at one account;
 *  - per account, the ceiling on guessing from many addresses at once:
 *    LOGIN_ACCT_X (10) x login_burst, refilling 10 times faster. When it
 *    is empty, only an address holding a live token of the account (the
 *    token index, srv.h) may go on, under its own two buckets.
 * So failures from other addresses never lock an account out: they spend
 * their own buckets, and an address with which the user is signed in gets
 * past an emptied ceiling. What remains: while many addresses keep the
 * ceiling empty, a sign-in from an address without a session of the
 * account waits for it to refill (429).
 *
 * A request that waits more than 10 s for an Argon2id slot
 * (model/account.h) gets 503 with Retry-After.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "core/crypto.h"
#include "log.h"
#include "model/account.h"
#include "util.h"

/*
 * Take one attempt of account em (lower-case email; uid its user, NULL when
 * there is none) from this request's client under the limits above. 0, or
 * 1 after replying 429 with Retry-After.
 */
static int login_limited(struct srv *s, struct http_req *req, const char *em, const char *uid)
{
	const char *addr = http_req_client(req), *which;
	char pair[EMAIL_MAX_LEN + 2 + USER_TOKEN_ADDR_SIZE], ra[16];
	uint64_t now = clock_ns(CLOCK_MONOTONIC) / 1000000;
	struct ratelimit *rl = NULL;

	snprintf(pair, sizeof(pair), "%s|%s", em, addr);
	if (ratelimit_take(s->rl_login_addr, addr, now)) {
		rl = s->rl_login_addr;
		which = "address";
	} else if (ratelimit_take(s->rl_login_pair, pair, now)) {
		rl = s->rl_login_pair;
		which = "account_address";
	} else if (ratelimit_take(s->rl_login_acct, em, now) && !user_token_from(s, uid, addr)) {
		rl = s->rl_login_acct;
		which = "account";
	}
	if (!rl)
		return 0;
	log_notice("event=login_limited email=%s client=%s limit=%s", em, addr, which);
	snprintf(ra, sizeof(ra), "%u", ratelimit_retry_after_s(rl));
	http_set_header(req, "Retry-After", ra);
	http_reply_error(req, 429, "too many sign-in attempts; retry in %s s", ra);
	return 1;
}

/* 503 with Retry-After for a password check that found no slot in time. */
static int reply_busy(struct http_req *req)
{
	http_set_header(req, "Retry-After", "5");
	return http_reply_error(req, 503, "busy, retry");
}

static int h_login(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	char em[EMAIL_MAX_LEN + 1], exp_s[RFC3339_LEN];
	struct principal who = {0};
	struct api_actor w = {req, &who};
	struct account_session ses;
	const char *email, *pw;
	cJSON *body, *u = NULL, *out;
	int ret;

	body = need_json(req);
	if (!body)
		return 0;
	email = jstr(body, "email");
	pw = jstr(body, "password");
	if (!email || !pw || email_norm(email, em) || !*pw) {
		cJSON_Delete(body);
		return http_reply_error(req, 400, "email and password are required");
	}
	if (strlen(pw) > PASSWORD_MAX) {
		cJSON_Delete(body);
		return http_reply_error(req, 400, "password over %d bytes", PASSWORD_MAX);
	}
	ret = account_lookup(s, em, &u);
	if (ret) {
		cJSON_Delete(body);
		return reply_store_err(req, ret, "user");
	}
	if (login_limited(s, req, em, u ? jstr(u, "id") : NULL))
		goto done;
	/* the actor of the attempt's audit entry (not a key) */
	snprintf(who.email, sizeof(who.email), "%s", em);
	if (u)
		snprintf(who.id, sizeof(who.id), "%s", jstr(u, "id") ? jstr(u, "id") : "");
	ret = account_sign_in(s, u, pw, http_req_client(req), api_audit_ok, &w, &ses);
	cJSON_Delete(body);
	body = NULL;
	if (ret == -EBUSY) {
		reply_busy(req);
		goto done;
	}
	if (ret == -EACCES) {
		log_notice("event=login_failed email=%s client=%s reason=%s", em,
			   http_req_client(req), ses.reason);
		audit_write(s, req, &who, "auth.login", u ? jstr(u, "team_id") : NULL,
			    u ? who.id : NULL, ses.reason, NULL);
		http_reply_error(req, 401, "wrong email or password");
		goto done;
	}
	if (ret) {
		reply_store_err(req, ret, "token");
		goto done;
	}
	log_info("event=login user=%s client=%s", who.id, http_req_client(req));
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "token", ses.token);
	cJSON_AddStringToObject(out, "expires_at", rfc3339_ms(ses.expires_ms, exp_s));
	cJSON_AddItemToObject(out, "user", user_view(u));
	crypto_wipe(ses.token, sizeof(ses.token));
	http_set_header(req, "Cache-Control", "no-store");
	http_reply_json(req, 200, out);
done:
	cJSON_Delete(body);
	cJSON_Delete(u);
	return 0;
}

static int h_logout(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	int ret;

	if (need_user(s, req, &p) || need_session(req, &p, "sign out (revoke it instead)"))
		return 0;
	ret = account_sign_out(s, &p);
	if (ret)
		return reply_store_err(req, ret, "token");
	return http_reply_empty(req, 204);
}

static int h_me(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	ret = account_me(s, &p, &out);
	if (ret)
		return reply_store_err(req, ret, "user");
	return http_reply_json(req, 200, out);
}

/*
 * POST /me/password {current_password, new_password}: any signed-in user
 * changes their own password. The current one is checked under the sign-in
 * limits (a stolen token alone cannot set a password); every other session
 * of the user ends, this one goes on.
 */
static int h_me_password(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *cur, *pw;
	struct principal p;
	struct api_actor w = {req, &p};
	cJSON *body, *v;
	size_t n;
	int ret, sweep_err;

	if (need_user(s, req, &p) || need_session(req, &p, "change the password"))
		return 0;
	body = need_json(req);
	if (!body)
		return 0;
	cur = jstr(body, "current_password");
	pw = jstr(body, "new_password");
	if (!cur || !pw || !*cur) {
		http_reply_error(req, 400, "current_password and new_password are required");
		goto out;
	}
	n = strlen(pw);
	if (strlen(cur) > PASSWORD_MAX || n < PASSWORD_MIN_LEN || n > PASSWORD_MAX) {
		http_reply_error(req, 400, "password must be %d..%d bytes", PASSWORD_MIN_LEN,
				 PASSWORD_MAX);
		goto out;
	}
	if (login_limited(s, req, p.email, p.id))
		goto out;
	ret = account_password_change(s, &p, cur, pw, api_audit_ok, &w, &sweep_err);
	if (ret == -EBUSY) {
		reply_busy(req);
		goto out;
	}
	if (ret == -EACCES) {
		audit_write(s, req, &p, "user.password", p.team_id[0] ? p.team_id : NULL, p.id,
			    "bad_password", NULL);
		http_reply_error(req, 403, "the current password is wrong");
		goto out;
	}
	if (ret) {
		reply_store_err(req, ret, "user");
		goto out;
	}
	if (sweep_err)
		log_warn("event=token_sweep_failed user=%s err=%s", p.id, strerror(-sweep_err));
	log_info("event=password_changed user=%s client=%s", p.id, http_req_client(req));
	http_reply_empty(req, 204);
out:
	cJSON_ArrayForEach(v, body)
	{
		if (cJSON_IsString(v) && v->valuestring)
			crypto_wipe(v->valuestring, strlen(v->valuestring));
	}
	cJSON_Delete(body);
	return 0;
}

int api_auth_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"POST", "/api/v1/auth/login", h_login, s},
	    {"POST", "/api/v1/auth/logout", h_logout, s},
	    {"GET", "/api/v1/me", h_me, s},
	    {"POST", "/api/v1/me/password", h_me_password, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
