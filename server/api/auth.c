// SPDX-License-Identifier: BSD-2-Clause
/*
 * api_auth.c - sign-in: POST /api/v1/auth/login, POST /api/v1/auth/logout,
 * GET /api/v1/me. See docs/API.md.
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
 * At most srv_opts.pw_slots Argon2id verifications run at once (64 MiB
 * each); a request that waits more than 10 s for a slot gets 503. An
 * unknown email costs the same hash as a wrong password, so timing does not
 * tell which accounts exist.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/crypto.h"
#include "log.h"
#include "api/api.h"
#include "core/srv.h"
#include "util.h"

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[PASSWORD_HASH_SIZE];

static void dummy_init(void)
{
	if (password_hash("actlog-no-such-user", dummy_hash))
		dummy_hash[0] = 0;
}

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

/* Verify pw against stored (or the dummy hash) holding a slot. 0 match,
 * -EACCES, -EBUSY no slot in time. */
static int verify_slot(struct srv *s, const char *stored, const char *pw)
{
	int ret = pw_slot_take(s);

	if (ret)
		return ret;
	ret = password_verify(stored, pw);
	pw_slot_put(s);
	return ret ? -EACCES : 0;
}

static int h_login(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	char em[EMAIL_MAX_LEN + 1], tok[TOKEN_SIZE], hash[TOKEN_HASH_SIZE], exp_s[32];
	const char *email, *pw, *uid = NULL, *stored;
	cJSON *body, *idx = NULL, *u = NULL, *cur = NULL, *t, *out;
	struct principal who = {0};
	struct store_batch *b;
	int64_t iat, exp;
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
	ret = jget(s, STORE_T_EMAILS, em, "user", &idx);
	if (!ret && (uid = jstr(idx, "user_id")))
		ret = jget(s, STORE_T_USERS, uid, "user", &u);
	if (ret && ret != -ENOENT) {
		cJSON_Delete(body);
		cJSON_Delete(idx);
		return reply_store_err(req, ret, "user");
	}
	if (login_limited(s, req, em, u ? jstr(u, "id") : NULL)) {
		cJSON_Delete(body);
		cJSON_Delete(idx);
		cJSON_Delete(u);
		return 0;
	}
	stored = u ? jstr(u, "pw") : NULL;
	if (!stored) {
		pthread_once(&dummy_once, dummy_init);
		stored = dummy_hash;
	}
	ret = verify_slot(s, stored, pw);
	cJSON_Delete(body);
	if (ret == -EBUSY) {
		cJSON_Delete(idx);
		cJSON_Delete(u);
		http_set_header(req, "Retry-After", "5");
		return http_reply_error(req, 503, "busy, retry");
	}
	snprintf(who.email, sizeof(who.email), "%s", em);
	if (u)
		snprintf(who.id, sizeof(who.id), "%s", jstr(u, "id") ? jstr(u, "id") : "");
	if (ret || !u || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "disabled"))) {
		const char *why = !u ? "unknown_account" : ret ? "bad_password" : "disabled";

		log_notice("event=login_failed email=%s client=%s reason=%s", em,
			   http_req_client(req), why);
		audit_write(s, req, &who, "auth.login", u ? jstr(u, "team_id") : NULL,
			    u ? who.id : NULL, why, NULL);
		cJSON_Delete(idx);
		cJSON_Delete(u);
		return http_reply_error(req, 401, "wrong email or password");
	}
	ret = token_new(TOKEN_PREFIX_BEARER, tok, hash);
	if (ret) {
		cJSON_Delete(idx);
		cJSON_Delete(u);
		return reply_store_err(req, ret, "token");
	}
	iat = now_ms();
	exp = iat + (int64_t)s->o.token_ttl_s * 1000;
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "kind", "user");
	cJSON_AddStringToObject(t, "id", who.id);
	cJSON_AddNumberToObject(t, "exp", (double)exp);
	cJSON_AddNumberToObject(t, "iat", (double)iat);
	ret = store_batch_begin(s->st, &b);
	if (!ret) {
		/* the user as verified, as a recorded read: a disable or a
		 * password change committed meanwhile fails this commit
		 * (-EAGAIN, 503), so no token outlives their revocation */
		ret = jbget(b, STORE_T_USERS, who.id, "user", &cur);
		if (!ret && (strcmp(jstr(cur, "pw") ? jstr(cur, "pw") : "", stored) ||
			     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cur, "disabled"))))
			ret = -EAGAIN;
		if (!ret)
			ret = user_token_add(s, b, who.id, hash, t, http_req_client(req));
		if (!ret)
			ret = audit_add(b, req, &who, "auth.login", jstr(u, "team_id"), who.id,
					"ok", NULL);
		if (ret)
			store_batch_abort(b);
		else
			ret = store_batch_commit(b);
	}
	cJSON_Delete(cur);
	cJSON_Delete(t);
	if (ret) {
		crypto_wipe(tok, sizeof(tok));
		cJSON_Delete(idx);
		cJSON_Delete(u);
		return reply_store_err(req, ret, "token");
	}
	log_info("event=login user=%s client=%s", who.id, http_req_client(req));
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "token", tok);
	cJSON_AddStringToObject(out, "expires_at", rfc3339_ms(exp, exp_s));
	cJSON_AddItemToObject(out, "user", user_view(u));
	crypto_wipe(tok, sizeof(tok));
	cJSON_Delete(idx);
	cJSON_Delete(u);
	http_set_header(req, "Cache-Control", "no-store");
	return http_reply_json(req, 200, out);
}

static int h_logout(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	ret = user_token_drop(s, p.id, p.token_hash);
	if (ret)
		return reply_store_err(req, ret, "token");
	return http_reply_empty(req, 204);
}

static int h_me(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	cJSON *u = NULL, *team = NULL, *out, *grants;
	size_t i;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	ret = jget(s, STORE_T_USERS, p.id, "user", &u);
	if (ret)
		return reply_store_err(req, ret, "user");
	if (p.team_id[0] && node_get(s, p.team_id, &team))
		team = NULL;
	out = cJSON_CreateObject();
	cJSON_AddItemToObject(out, "user", user_view(u));
	if (team) {
		cJSON_DeleteItemFromObjectCaseSensitive(team, "path");
		cJSON_AddItemToObject(out, "team", team);
	} else {
		cJSON_AddNullToObject(out, "team");
	}
	grants = cJSON_AddArrayToObject(out, "grants");
	for (i = 0; i < p.n_grants; i++) {
		cJSON *g = cJSON_CreateObject();
		cJSON *perms = cJSON_AddArrayToObject(g, "permissions");
		unsigned bit;

		cJSON_AddStringToObject(g, "role", p.g[i].role);
		cJSON_AddStringToObject(g, "node_id", p.g[i].node_id);
		for (bit = 0; bit < PERMB__COUNT; bit++)
			if (p.g[i].perms & (1u << bit))
				cJSON_AddItemToArray(perms,
						     cJSON_CreateString(perm_name(1u << bit)));
		cJSON_AddItemToArray(grants, g);
	}
	cJSON_Delete(u);
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
	char hash[PASSWORD_HASH_SIZE];
	const char *cur, *pw, *stored;
	struct principal p;
	struct store_batch *b = NULL;
	cJSON *body = NULL, *u = NULL, *tok = NULL, *detail = NULL;
	int64_t now = now_ms();
	size_t n;
	int ret;

	hash[0] = 0;
	if (need_user(s, req, &p))
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
	ret = jget(s, STORE_T_USERS, p.id, "user", &u);
	if (ret) {
		reply_store_err(req, ret, "user");
		goto out;
	}
	stored = jstr(u, "pw");
	ret = stored ? verify_slot(s, stored, cur) : -EACCES;
	if (!ret) {
		ret = pw_slot_take(s);
		if (!ret) {
			ret = password_hash(pw, hash) ? -EIO : 0;
			pw_slot_put(s);
		}
	}
	if (ret == -EBUSY) {
		http_set_header(req, "Retry-After", "5");
		http_reply_error(req, 503, "busy, retry");
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
	cJSON_Delete(u);
	u = NULL;
	ret = store_batch_begin(s->st, &b);
	if (!ret)
		ret = jbget(b, STORE_T_USERS, p.id, "user", &u);
	if (!ret)
		ret = jbget(b, STORE_T_TOKENS, p.token_hash, "token", &tok);
	if (ret) {
		reply_store_err(req, ret, "user");
		goto out;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(u, "pw");
	cJSON_AddStringToObject(u, "pw", hash);
	cJSON_DeleteItemFromObjectCaseSensitive(u, "sessions_after");
	cJSON_AddNumberToObject(u, "sessions_after", (double)now);
	cJSON_DeleteItemFromObjectCaseSensitive(tok, "iat");
	cJSON_AddNumberToObject(tok, "iat", (double)now);
	jput(b, STORE_T_USERS, p.id, "user", u, STORE_IF_EXISTS);
	jput(b, STORE_T_TOKENS, p.token_hash, "token", tok, STORE_IF_EXISTS);
	/* every other session ends: its token is deleted (tokens from before
	 * the index: sessions_after above) */
	ret = user_tokens_revoke(s, b, p.id, p.token_hash);
	if (ret >= 0) {
		detail = cJSON_CreateObject();
		cJSON_AddNumberToObject(detail, "sessions_revoked", ret);
		ret = audit_add(b, req, &p, "user.password", p.team_id[0] ? p.team_id : NULL, p.id,
				"ok", detail);
	}
	if (ret >= 0) {
		ret = store_batch_commit(b);
		b = NULL;
	}
	if (ret) {
		reply_store_err(req, ret, "user");
		goto out;
	}
	if ((ret = user_tokens_sweep(s, p.id, p.token_hash)) < 0)
		log_warn("event=token_sweep_failed user=%s err=%s", p.id, strerror(-ret));
	log_info("event=password_changed user=%s client=%s", p.id, http_req_client(req));
	http_reply_empty(req, 204);
out:
	store_batch_abort(b);
	crypto_wipe(hash, sizeof(hash));
	cJSON_Delete(detail);
	cJSON_Delete(tok);
	cJSON_Delete(u);
	if (body) {
		cJSON *v;

		cJSON_ArrayForEach(v, body)
		{
			if (cJSON_IsString(v) && v->valuestring)
				crypto_wipe(v->valuestring, strlen(v->valuestring));
		}
		cJSON_Delete(body);
	}
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
