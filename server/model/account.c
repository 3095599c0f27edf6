// SPDX-License-Identifier: BSD-2-Clause
/*
 * account.c - sign-in, sign-out, /me and one's own password (contracts:
 * model/account.h; layout: store/keys.h).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "core/crypto.h"
#include "model/account.h"
#include "store/keys.h"
#include "util.h"

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[PASSWORD_HASH_SIZE];

static void dummy_init(void)
{
	if (password_hash("actlog-no-such-user", dummy_hash))
		dummy_hash[0] = 0;
}

/* Verify pw against stored holding a slot. 0 match, -EACCES, -EBUSY no
 * slot in time. */
static int verify_slot(struct srv *s, const char *stored, const char *pw)
{
	int ret = pw_slot_take(s);

	if (ret)
		return ret;
	ret = password_verify(stored, pw);
	pw_slot_put(s);
	return ret ? -EACCES : 0;
}

static bool is_disabled(const cJSON *u)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "disabled"));
}

/* Replace number member k of o. */
static void jset_num(cJSON *o, const char *k, double v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, k);
	cJSON_AddNumberToObject(o, k, v);
}

int account_lookup(struct srv *s, const char *em, cJSON **u)
{
	cJSON *idx = NULL;
	const char *uid;
	int ret;

	*u = NULL;
	ret = jget(s, STORE_T_EMAILS, em, SK_USER, &idx);
	if (!ret && (uid = jstr(idx, "user_id")))
		ret = jget(s, STORE_T_USERS, uid, SK_USER, u);
	cJSON_Delete(idx);
	return ret == -ENOENT ? 0 : ret;
}

int account_sign_in(struct srv *s, const cJSON *u, const char *pw, const char *addr,
		    org_audit_fn audit, void *actx, struct account_session *out)
{
	const char *stored = u ? jstr(u, "pw") : NULL;
	const char *uid = u && jstr(u, "id") ? jstr(u, "id") : "";
	char hash[TOKEN_HASH_SIZE], ts[RFC3339_LEN];
	struct store_batch *b;
	cJSON *t, *cur = NULL;
	int64_t iat;
	int ret, tries;

	memset(out, 0, sizeof(*out));
	if (!stored) {
		pthread_once(&dummy_once, dummy_init);
		stored = dummy_hash;
	}
	ret = verify_slot(s, stored, pw);
	if (ret == -EBUSY)
		return ret;
	if (ret || !u || is_disabled(u)) {
		out->reason = !u ? "unknown_account" : ret ? "bad_password" : "disabled";
		return -EACCES;
	}
	ret = token_new(TOKEN_PREFIX_BEARER, out->token, hash);
	if (ret)
		return ret;
	iat = now_ms();
	out->expires_ms = iat + (int64_t)s->o.token_ttl_s * 1000;
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "kind", "user");
	cJSON_AddStringToObject(t, "id", uid);
	cJSON_AddNumberToObject(t, "exp", (double)out->expires_ms);
	cJSON_AddNumberToObject(t, "iat", (double)iat);
	/* a commit that fails with -EAGAIN is tried again (another sign-in of
	 * the user wrote its item meanwhile); a recheck that fails is not */
	for (tries = 0; tries < 3; tries++) {
		bool revoked = false;

		cJSON_Delete(cur);
		cur = NULL;
		ret = store_batch_begin(s->st, &b);
		if (ret)
			break;
		/* the user as verified, as a recorded read: a disable or a
		 * password change committed meanwhile fails this commit
		 * (-EAGAIN), so no token outlives their revocation */
		ret = jbget(b, STORE_T_USERS, uid, SK_USER, &cur);
		if (!ret &&
		    (strcmp(jstr(cur, "pw") ? jstr(cur, "pw") : "", stored) || is_disabled(cur))) {
			ret = -EAGAIN;
			revoked = true;
		}
		if (!ret) {
			/* the last sign-in, in the batch the token commits in */
			cJSON_DeleteItemFromObjectCaseSensitive(cur, "last_sign_in");
			cJSON_AddStringToObject(cur, "last_sign_in", rfc3339_ms(iat, ts));
			ret = jput(b, STORE_T_USERS, uid, SK_USER, cur, STORE_IF_EXISTS);
		}
		if (!ret)
			ret = user_token_add(s, b, uid, hash, t, addr);
		if (!ret)
			ret = audit(b, "auth.login", jstr(u, "team_id"), uid, NULL, actx);
		if (ret)
			store_batch_abort(b);
		else
			ret = store_batch_commit(b);
		if (ret != -EAGAIN || revoked)
			break;
	}
	cJSON_Delete(cur);
	cJSON_Delete(t);
	if (ret)
		crypto_wipe(out->token, sizeof(out->token));
	return ret;
}

int account_sign_out(struct srv *s, const struct principal *p)
{
	return user_token_drop(s, p->id, p->token_hash);
}

int account_me(struct srv *s, const struct principal *p, cJSON **out)
{
	cJSON *u = NULL, *team = NULL, *o, *grants;
	size_t i;
	int ret;

	*out = NULL;
	ret = jget(s, STORE_T_USERS, p->id, SK_USER, &u);
	if (ret)
		return ret;
	o = cJSON_CreateObject();
	if (!o) {
		cJSON_Delete(u);
		return -ENOMEM;
	}
	if (p->team_id[0] && node_get(s, p->team_id, &team))
		team = NULL;
	cJSON_AddItemToObject(o, "user", user_view(u));
	cJSON_Delete(u);
	if (team) {
		cJSON_DeleteItemFromObjectCaseSensitive(team, "path");
		cJSON_AddItemToObject(o, "team", team);
	} else {
		cJSON_AddNullToObject(o, "team");
	}
	grants = cJSON_AddArrayToObject(o, "grants");
	if (!grants) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	for (i = 0; i < p->n_grants; i++) {
		cJSON *g = cJSON_CreateObject();

		cJSON_AddItemToObject(g, "permissions", org_perm_names(p->g[i].perms));
		cJSON_AddStringToObject(g, "role", p->g[i].role);
		cJSON_AddStringToObject(g, "node_id", p->g[i].node_id);
		cJSON_AddItemToArray(grants, g);
	}
	*out = o;
	return 0;
}

int account_password_change(struct srv *s, const struct principal *p, const char *cur,
			    const char *pw, org_audit_fn audit, void *actx, int *sweep_err)
{
	const char *team = p->team_id[0] ? p->team_id : NULL, *stored;
	char hash[PASSWORD_HASH_SIZE];
	struct store_batch *b = NULL;
	cJSON *u = NULL, *tok = NULL, *detail = NULL;
	int64_t now = now_ms();
	int ret;

	hash[0] = 0;
	*sweep_err = 0;
	ret = jget(s, STORE_T_USERS, p->id, SK_USER, &u);
	if (ret)
		return ret;
	stored = jstr(u, "pw");
	ret = stored ? verify_slot(s, stored, cur) : -EACCES;
	if (!ret) {
		ret = pw_slot_take(s);
		if (!ret) {
			ret = password_hash(pw, hash) ? -EIO : 0;
			pw_slot_put(s);
		}
	}
	cJSON_Delete(u);
	u = NULL;
	if (ret)
		goto out;
	ret = store_batch_begin(s->st, &b);
	if (!ret)
		ret = jbget(b, STORE_T_USERS, p->id, SK_USER, &u);
	if (!ret)
		ret = jbget(b, STORE_T_TOKENS, p->token_hash, SK_TOKEN, &tok);
	if (ret)
		goto out;
	cJSON_DeleteItemFromObjectCaseSensitive(u, "pw");
	cJSON_AddStringToObject(u, "pw", hash);
	jset_num(u, "sessions_after", (double)now);
	jset_num(tok, "iat", (double)now);
	ret = jput(b, STORE_T_USERS, p->id, SK_USER, u, STORE_IF_EXISTS);
	if (!ret)
		ret = jput(b, STORE_T_TOKENS, p->token_hash, SK_TOKEN, tok, STORE_IF_EXISTS);
	/* every other session ends: its token is deleted (tokens from before
	 * the index: sessions_after above) */
	if (!ret)
		ret = user_tokens_revoke(s, b, p->id, p->token_hash);
	if (ret >= 0) {
		detail = cJSON_CreateObject();
		cJSON_AddNumberToObject(detail, "sessions_revoked", ret);
		ret = audit(b, "user.password", team, p->id, detail, actx);
	}
	if (ret >= 0) {
		ret = store_batch_commit(b);
		b = NULL;
	}
	if (ret)
		goto out;
	if ((ret = user_tokens_sweep(s, p->id, p->token_hash)) < 0)
		*sweep_err = ret;
	ret = 0;
out:
	store_batch_abort(b);
	crypto_wipe(hash, sizeof(hash));
	cJSON_Delete(detail);
	cJSON_Delete(tok);
	cJSON_Delete(u);
	return ret;
}
