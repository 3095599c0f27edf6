// SPDX-License-Identifier: BSD-2-Clause
/*
 * ptoken.c - personal API tokens (contracts: model/ptoken.h; layout:
 * store/keys.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "model/ptoken.h"
#include "store/keys.h"
#include "util.h"

/* Index entries read at once (> PTOKEN_MAX: concurrent creations). */
#define PTOKEN_SCAN 64

int ptoken_scopes_parse(const cJSON *a, uint32_t held, uint32_t *mask, struct model_why *why)
{
	const cJSON *v;
	uint32_t m = 0;
	int n;

	*mask = 0;
	why_reset(why);
	n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : -1;
	if (n < 1 || n > PTOKEN_SCOPES_MAX)
		return why_refuse(why, -EINVAL,
				  "field 'scopes' must be an array of 1..%d permission names",
				  PTOKEN_SCOPES_MAX);
	cJSON_ArrayForEach(v, a)
	{
		uint32_t one;

		if (!cJSON_IsString(v) || !v->valuestring)
			return why_refuse(why, -EINVAL,
					  "field 'scopes' must hold permission names (strings)");
		one = strlen(v->valuestring) <= 64 ? perm_parse(v->valuestring) : 0;
		if (!one)
			return why_refuse(why, -EINVAL, "unknown permission '%.64s' in 'scopes'",
					  v->valuestring);
		if (!(held & one))
			return why_refuse(why, -EACCES,
					  "you hold permission '%s' on no node: a token cannot "
					  "carry it",
					  v->valuestring);
		m |= one;
	}
	*mask = m;
	return 0;
}

int ptoken_expiry(const cJSON *o, int64_t now, int64_t *exp, struct model_why *why)
{
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(o, "expires_in_s");
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "expires_at");
	int64_t max = now + (int64_t)PTOKEN_TTL_MAX_S * 1000, ms;

	why_reset(why);
	if (in && cJSON_IsNull(in))
		in = NULL;
	if (at && cJSON_IsNull(at))
		at = NULL;
	*exp = now + (int64_t)PTOKEN_TTL_DEFAULT_S * 1000;
	if (in && at)
		return why_refuse(why, -EINVAL, "give expires_in_s or expires_at, not both");
	if (in) {
		double d = cJSON_IsNumber(in) ? in->valuedouble : -1;

		if (d < 1 || d > PTOKEN_TTL_MAX_S || d != (double)(int64_t)d)
			return why_refuse(why, -EINVAL,
					  "field 'expires_in_s' must be an integer 1..%d (seconds)",
					  PTOKEN_TTL_MAX_S);
		*exp = now + (int64_t)d * 1000;
		return 0;
	}
	if (!at)
		return 0;
	if (cJSON_IsNumber(at) && at->valuedouble >= 0 && at->valuedouble <= 253402300799999.0)
		ms = (int64_t)at->valuedouble;
	else if (!cJSON_IsString(at) || !at->valuestring || strlen(at->valuestring) > 64 ||
		 rfc3339_parse(at->valuestring, &ms))
		return why_refuse(
		    why, -EINVAL,
		    "field 'expires_at' must be an RFC 3339 time or Unix milliseconds");
	if (ms <= now || ms > max)
		return why_refuse(why, -EINVAL,
				  "field 'expires_at' must be after now and at most %d days ahead",
				  PTOKEN_TTL_MAX_S / 86400);
	*exp = ms;
	return 0;
}

uint32_t ptoken_held(const struct principal *p)
{
	uint32_t m = 0;
	size_t i;

	for (i = 0; i < p->n_grants; i++)
		m |= p->g[i].perms;
	return m;
}

void ptoken_restrict(struct principal *p, uint32_t scopes)
{
	size_t i;

	p->personal = true;
	p->scopes = scopes;
	for (i = 0; i < p->n_grants; i++)
		p->g[i].perms &= scopes;
}

/* The mask of a JSON array of permission names (unknown names skipped). */
static uint32_t names_mask(const cJSON *a)
{
	const cJSON *v;
	uint32_t m = 0;

	cJSON_ArrayForEach(v, a)
	{
		if (cJSON_IsString(v) && v->valuestring && strlen(v->valuestring) <= 64)
			m |= perm_parse(v->valuestring);
	}
	return m;
}

uint32_t ptoken_item_scopes(const cJSON *t)
{
	return names_mask(cJSON_GetObjectItemCaseSensitive(t, "scopes"));
}

/* One index entry. */
struct pent {
	char id[ID_SIZE];
	char hash[TOKEN_HASH_SIZE];
	char name[PTOKEN_NAME_MAX + 1];
	uint32_t scopes;
	int64_t created, exp, last_used;
};

struct plist {
	size_t n;
	struct pent e[PTOKEN_SCAN];
};

static int pent_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct plist *l = ctx;
	struct pent *e;
	const char *v;
	cJSON *j;

	(void)pk;
	if (strlen(sk) >= ID_SIZE)
		return 0;
	if (l->n >= PTOKEN_SCAN)
		return 1;
	j = cJSON_ParseWithLength(val, len);
	v = jstr(j, "hash");
	if (!v || strlen(v) != TOKEN_HASH_LEN) {
		cJSON_Delete(j);
		return 0; /* not an entry */
	}
	e = &l->e[l->n++];
	memset(e, 0, sizeof(*e));
	strcpy(e->id, sk);
	strcpy(e->hash, v);
	if ((v = jstr(j, "name")) && strlen(v) <= PTOKEN_NAME_MAX)
		strcpy(e->name, v);
	e->scopes = names_mask(cJSON_GetObjectItemCaseSensitive(j, "scopes"));
	e->created = jint(j, "created", 0);
	e->exp = jint(j, "exp", 0);
	e->last_used = jint(j, "last_used", 0);
	cJSON_Delete(j);
	return 0;
}

/* "ptok|"uid into k. 0 or -EINVAL. */
static int index_pk(struct key *k, const char *uid)
{
	return key_user_ptokens(k, uid)[0] ? 0 : -EINVAL;
}

/* The first PTOKEN_SCAN entries of uid's index. 0 or -errno. */
static int plist_read(struct srv *s, const char *uid, struct plist *l)
{
	struct key k;
	int ret = index_pk(&k, uid);

	l->n = 0;
	if (ret)
		return ret;
	ret = store_query(s->st, STORE_T_TOKENS, k.s, NULL, NULL, 0, 0, pent_item, l);
	return ret < 0 ? ret : 0;
}

/* Live: not expired, not ended by the user's sessions_after mark sa. */
static bool pent_live(const struct pent *e, int64_t now, int64_t sa)
{
	return e->exp > now && e->created >= sa;
}

/* Add to b the deletes of token e and its index entry (pk). */
static int pent_delete(struct store_batch *b, const char *pk, const struct pent *e)
{
	int ret = store_batch_delete(b, STORE_T_TOKENS, e->hash, SK_TOKEN, 0);

	return ret ? ret : store_batch_delete(b, STORE_T_TOKENS, pk, e->id, 0);
}

int ptoken_create(struct srv *s, const struct principal *p, const char *name, uint32_t scopes,
		  int64_t exp, org_audit_fn audit, void *actx, struct ptoken_new *out,
		  struct model_why *why)
{
	const char *team = p->team_id[0] ? p->team_id : NULL;
	char hash[TOKEN_HASH_SIZE];
	struct store_batch *b = NULL;
	cJSON *u = NULL, *t = NULL, *e = NULL, *detail = NULL;
	struct plist *l;
	int64_t now = now_ms(), sa;
	size_t i, live = 0;
	struct key k;
	int ret;

	memset(out, 0, sizeof(*out));
	why_reset(why);
	l = calloc(1, sizeof(*l));
	if (!l)
		return why_fail(why, -ENOMEM, "tokens");
	ret = index_pk(&k, p->id);
	if (!ret)
		ret = plist_read(s, p->id, l);
	if (!ret)
		ret = store_batch_begin(s->st, &b);
	if (ret) {
		why_fail(why, ret, "tokens");
		goto out;
	}
	/* the user as need_user saw them, as a recorded read: a disable or a
	 * password change committed meanwhile fails this commit (-EAGAIN) */
	ret = jbget(b, STORE_T_USERS, p->id, SK_USER, &u);
	if (ret) {
		why_fail(why, ret, "user");
		goto out;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "disabled"))) {
		ret = why_refuse(why, -EACCES, "account disabled");
		goto out;
	}
	sa = jint(u, "sessions_after", 0);
	for (i = 0; !ret && i < l->n; i++) {
		if (pent_live(&l->e[i], now, sa))
			live++;
		else
			ret = pent_delete(b, k.s, &l->e[i]);
	}
	if (ret) {
		why_fail(why, ret, "tokens");
		goto out;
	}
	if (live >= PTOKEN_MAX) {
		ret = why_refuse(why, -EDQUOT,
				 "you hold %d personal tokens, the most allowed: revoke one first",
				 PTOKEN_MAX);
		goto out;
	}
	ret = token_new(TOKEN_PREFIX_PERSONAL, out->token, hash);
	if (!ret)
		ret = id_new(ID_PREFIX_PTOKEN, out->id);
	if (ret) {
		why_fail(why, ret, "token");
		goto out;
	}
	out->created_ms = now;
	out->expires_ms = exp;
	t = cJSON_CreateObject();
	e = cJSON_CreateObject();
	detail = cJSON_CreateObject();
	if (!t || !e || !detail) {
		ret = why_fail(why, -ENOMEM, "token");
		goto out;
	}
	cJSON_AddStringToObject(t, "kind", "personal");
	cJSON_AddStringToObject(t, "id", p->id);
	cJSON_AddStringToObject(t, "tid", out->id);
	cJSON_AddItemToObject(t, "scopes", org_perm_names(scopes));
	cJSON_AddNumberToObject(t, "exp", (double)exp);
	cJSON_AddNumberToObject(t, "iat", (double)now);
	cJSON_AddStringToObject(e, "id", out->id);
	cJSON_AddStringToObject(e, "name", name);
	cJSON_AddItemToObject(e, "scopes", org_perm_names(scopes));
	cJSON_AddNumberToObject(e, "created", (double)now);
	cJSON_AddNumberToObject(e, "exp", (double)exp);
	cJSON_AddStringToObject(e, "hash", hash);
	cJSON_AddStringToObject(detail, "id", out->id);
	cJSON_AddStringToObject(detail, "name", name);
	cJSON_AddItemToObject(detail, "scopes", org_perm_names(scopes));
	cJSON_AddNumberToObject(detail, "expires", (double)exp);
	ret = jput(b, STORE_T_TOKENS, hash, SK_TOKEN, t, STORE_IF_ABSENT);
	if (!ret)
		ret = jput(b, STORE_T_TOKENS, k.s, out->id, e, STORE_IF_ABSENT);
	if (!ret)
		ret = audit(b, "token.create", team, p->id, detail, actx);
	if (!ret) {
		ret = store_batch_commit(b);
		b = NULL;
	}
	if (ret)
		why_fail(why, ret, "token");
out:
	store_batch_abort(b);
	if (ret)
		crypto_wipe(out->token, sizeof(out->token));
	crypto_wipe(hash, sizeof(hash));
	cJSON_Delete(detail);
	cJSON_Delete(e);
	cJSON_Delete(t);
	cJSON_Delete(u);
	free(l);
	return ret;
}

static int pent_newest_first(const void *a, const void *b)
{
	const struct pent *x = a, *y = b;

	return x->created < y->created ? 1 : x->created > y->created ? -1 : strcmp(x->id, y->id);
}

int ptoken_list(struct srv *s, const char *uid, cJSON **out)
{
	char ts[RFC3339_LEN];
	struct plist *l;
	cJSON *u = NULL, *a;
	int64_t now = now_ms(), sa;
	size_t i;
	int ret;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	ret = jget(s, STORE_T_USERS, uid, SK_USER, &u);
	if (!ret)
		ret = plist_read(s, uid, l);
	sa = jint(u, "sessions_after", 0);
	cJSON_Delete(u);
	a = ret ? NULL : cJSON_CreateArray();
	if (!ret && !a)
		ret = -ENOMEM;
	if (ret) {
		free(l);
		return ret;
	}
	qsort(l->e, l->n, sizeof(l->e[0]), pent_newest_first);
	for (i = 0; i < l->n; i++) {
		const struct pent *e = &l->e[i];
		cJSON *o;

		if (!pent_live(e, now, sa) || !(o = cJSON_CreateObject()))
			continue;
		cJSON_AddStringToObject(o, "id", e->id);
		cJSON_AddStringToObject(o, "name", e->name);
		cJSON_AddItemToObject(o, "scopes", org_perm_names(e->scopes));
		cJSON_AddStringToObject(o, "created_at", rfc3339_ms(e->created, ts));
		cJSON_AddStringToObject(o, "expires_at", rfc3339_ms(e->exp, ts));
		if (e->last_used)
			cJSON_AddStringToObject(o, "last_used_at", rfc3339_ms(e->last_used, ts));
		else
			cJSON_AddNullToObject(o, "last_used_at");
		cJSON_AddItemToArray(a, o);
	}
	free(l);
	*out = a;
	return 0;
}

int ptoken_touch(struct srv *s, const char *uid, const char *tid, int64_t now)
{
	struct store_batch *b;
	cJSON *e = NULL;
	struct key k;
	int ret;

	if (!id_valid(tid, ID_PREFIX_PTOKEN) || index_pk(&k, uid))
		return -EINVAL;
	ret = jget(s, STORE_T_TOKENS, k.s, tid, &e);
	if (ret || jint(e, "last_used", 0) > now - PTOKEN_TOUCH_MS) {
		cJSON_Delete(e);
		return ret == -ENOENT ? 0 : ret;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(e, "last_used");
	cJSON_AddNumberToObject(e, "last_used", (double)now);
	ret = store_batch_begin(s->st, &b);
	if (!ret) {
		ret = jput(b, STORE_T_TOKENS, k.s, tid, e, STORE_IF_EXISTS);
		if (ret)
			store_batch_abort(b);
		else
			ret = store_batch_commit(b);
	}
	cJSON_Delete(e);
	return ret == -ENOENT ? 0 : ret;
}

int ptoken_revoke(struct srv *s, const struct principal *p, const char *tid, org_audit_fn audit,
		  void *actx)
{
	const char *team = p->team_id[0] ? p->team_id : NULL, *h, *name;
	struct store_batch *b;
	cJSON *e = NULL, *detail = NULL;
	struct key k;
	int ret;

	if (!id_valid(tid, ID_PREFIX_PTOKEN))
		return -ENOENT;
	ret = index_pk(&k, p->id);
	if (!ret)
		ret = store_batch_begin(s->st, &b);
	if (ret)
		return ret;
	ret = jbget(b, STORE_T_TOKENS, k.s, tid, &e);
	h = jstr(e, "hash");
	if (!ret && (!h || strlen(h) != TOKEN_HASH_LEN))
		ret = -EIO;
	if (!ret)
		ret = store_batch_delete(b, STORE_T_TOKENS, h, SK_TOKEN, 0);
	if (!ret)
		ret = store_batch_delete(b, STORE_T_TOKENS, k.s, tid, 0);
	if (!ret) {
		name = jstr(e, "name");
		detail = cJSON_CreateObject();
		cJSON_AddStringToObject(detail, "id", tid);
		cJSON_AddStringToObject(detail, "name", name ? name : "");
		ret = audit(b, "token.revoke", team, p->id, detail, actx);
	}
	if (ret)
		store_batch_abort(b);
	else
		ret = store_batch_commit(b);
	cJSON_Delete(detail);
	cJSON_Delete(e);
	return ret;
}
