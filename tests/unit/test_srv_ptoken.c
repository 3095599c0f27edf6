// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of server/model/ptoken.c: the pure parts (scopes, expiry, the
 * cut of a principal's grants to a personal token's scopes), and the tokens
 * on a real LMDB store (create with its audit entry in the batch, only the
 * hash stored, list, last use at most once a minute, revoke, the cap). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/crypto.h"
#include "core/keyprov.h"
#include "model/account.h"
#include "model/ptoken.h"
#include "store/keys.h"

#define NOW 1800000000000LL

static int scopes(const char *json, uint32_t held, uint32_t *mask, struct model_why *why)
{
	cJSON *a = cJSON_Parse(json);
	int ret = ptoken_scopes_parse(a, held, mask, why);

	cJSON_Delete(a);
	return ret;
}

static int expiry(const char *json, int64_t *exp, struct model_why *why)
{
	cJSON *o = cJSON_Parse(json);
	int ret = ptoken_expiry(o, NOW, exp, why);

	cJSON_Delete(o);
	return ret;
}

TEST(scopes_rules)
{
	struct model_why why;
	uint32_t m = 99, held = PERM_NODE_READ | PERM_USER_READ | PERM_SELF_READ;
	char many[1024] = "[";
	int i;

	CHECK_EQ(scopes("[\"node.read\",\"user.read\"]", held, &m, &why), 0);
	CHECK_EQ(m, PERM_NODE_READ | PERM_USER_READ);
	CHECK_EQ(scopes("[\"node.read\",\"node.read\"]", held, &m, &why), 0);
	CHECK_EQ(m, PERM_NODE_READ);
	/* not held: refused, the reason names it */
	CHECK_EQ(scopes("[\"node.read\",\"audit.read\"]", held, &m, &why), -EACCES);
	CHECK(strstr(why.msg, "'audit.read'") != NULL);
	CHECK_EQ(m, 0);
	/* unknown: named too */
	CHECK_EQ(scopes("[\"node.fly\"]", held, &m, &why), -EINVAL);
	CHECK(strstr(why.msg, "'node.fly'") != NULL);
	/* empty, not an array, not strings, missing */
	CHECK_EQ(scopes("[]", held, &m, &why), -EINVAL);
	CHECK_EQ(scopes("\"node.read\"", held, &m, &why), -EINVAL);
	CHECK_EQ(scopes("[1]", held, &m, &why), -EINVAL);
	CHECK_EQ(ptoken_scopes_parse(NULL, held, &m, &why), -EINVAL);
	CHECK(why.msg[0] != 0);
	/* the cap on entries: 32 pass, 33 do not */
	for (i = 0; i < PTOKEN_SCOPES_MAX; i++)
		strcat(many, i ? ",\"node.read\"" : "\"node.read\"");
	strcat(many, "]");
	CHECK_EQ(scopes(many, held, &m, &why), 0);
	many[strlen(many) - 1] = 0;
	strcat(many, ",\"node.read\"]");
	CHECK_EQ(scopes(many, held, &m, &why), -EINVAL);
	/* a user holding nothing can carry nothing */
	CHECK_EQ(scopes("[\"self.read\"]", 0, &m, &why), -EACCES);
}

TEST(expiry_rules)
{
	struct model_why why;
	int64_t exp = 0;

	CHECK_EQ(expiry("{}", &exp, &why), 0);
	CHECK_EQ(exp, NOW + 90LL * 86400 * 1000);
	CHECK_EQ(expiry("{\"expires_in_s\":null}", &exp, &why), 0);
	CHECK_EQ(exp, NOW + 90LL * 86400 * 1000);
	CHECK_EQ(expiry("{\"expires_in_s\":1}", &exp, &why), 0);
	CHECK_EQ(exp, NOW + 1000);
	CHECK_EQ(expiry("{\"expires_in_s\":31536000}", &exp, &why), 0);
	CHECK_EQ(exp, NOW + 31536000LL * 1000);
	CHECK_EQ(expiry("{\"expires_in_s\":31536001}", &exp, &why), -EINVAL);
	CHECK_EQ(expiry("{\"expires_in_s\":0}", &exp, &why), -EINVAL);
	CHECK_EQ(expiry("{\"expires_in_s\":-5}", &exp, &why), -EINVAL);
	CHECK_EQ(expiry("{\"expires_in_s\":1.5}", &exp, &why), -EINVAL);
	CHECK_EQ(expiry("{\"expires_in_s\":\"60\"}", &exp, &why), -EINVAL);
	CHECK_EQ(expiry("{\"expires_in_s\":1e300}", &exp, &why), -EINVAL);
	/* a minute ahead, in Unix ms and in RFC 3339 (NOW is 2027-01-15T08:00:00Z) */
	CHECK_EQ(expiry("{\"expires_at\":1800000060000}", &exp, &why), 0);
	CHECK_EQ(exp, NOW + 60000);
	CHECK_EQ(expiry("{\"expires_at\":\"2027-01-15T08:01:00Z\"}", &exp, &why), 0);
	CHECK_EQ(exp, 1800000060000LL);
	CHECK_EQ(expiry("{\"expires_at\":1800000000000}", &exp, &why), -EINVAL); /* now */
	CHECK_EQ(expiry("{\"expires_at\":\"2020-01-01T00:00:00Z\"}", &exp, &why), -EINVAL);
	CHECK_EQ(expiry("{\"expires_at\":1831536000000}", &exp, &why), 0); /* a year */
	CHECK_EQ(expiry("{\"expires_at\":1831536000001}", &exp, &why), -EINVAL);
	CHECK_EQ(expiry("{\"expires_at\":\"tomorrow\"}", &exp, &why), -EINVAL);
	CHECK_EQ(expiry("{\"expires_at\":true}", &exp, &why), -EINVAL);
	CHECK_EQ(expiry("{\"expires_in_s\":60,\"expires_at\":1800000060000}", &exp, &why), -EINVAL);
	CHECK(strstr(why.msg, "not both") != NULL);
}

TEST(restrict_to_scopes)
{
	static struct principal p;
	cJSON *t;

	memset(&p, 0, sizeof(p));
	p.n_grants = 2;
	p.g[0].perms = PERM_NODE_READ | PERM_USER_READ | PERM_USER_WRITE;
	p.g[1].perms = PERM_SELF_READ;
	CHECK_EQ(ptoken_held(&p),
		 PERM_NODE_READ | PERM_USER_READ | PERM_USER_WRITE | PERM_SELF_READ);
	ptoken_restrict(&p, PERM_NODE_READ | PERM_AUDIT_READ);
	CHECK(p.personal);
	CHECK_EQ(p.g[0].perms, PERM_NODE_READ);
	CHECK_EQ(p.g[1].perms, 0);
	/* the scopes never add what a grant lacks */
	CHECK_EQ(ptoken_held(&p), PERM_NODE_READ);

	t = cJSON_Parse("{\"scopes\":[\"node.read\",\"bogus\",3,\"activity.read\"]}");
	CHECK_EQ(ptoken_item_scopes(t), PERM_NODE_READ | PERM_ACTIVITY_READ);
	cJSON_Delete(t);
	t = cJSON_Parse("{\"kind\":\"personal\"}");
	CHECK_EQ(ptoken_item_scopes(t), 0);
	cJSON_Delete(t);
}

/* An org_audit_fn that records the last call and fails when told to. */
struct audit_log {
	int calls, fail;
	char action[64];
	char detail[512];
};

static int audit_rec(struct store_batch *b, const char *action, const char *node_id,
		     const char *target, const cJSON *detail, void *ctx)
{
	struct audit_log *a = ctx;
	char *txt = detail ? cJSON_PrintUnformatted(detail) : NULL;

	(void)node_id;
	(void)target;
	CHECK(b != NULL);
	a->calls++;
	snprintf(a->action, sizeof(a->action), "%s", action);
	snprintf(a->detail, sizeof(a->detail), "%s", txt ? txt : "");
	free(txt);
	return a->fail;
}

/* The last_used_at of token id in uid's list ("" when absent, "null"). */
static void last_used(struct srv *s, const char *uid, const char *id, char *buf, size_t n)
{
	cJSON *l = NULL, *e;

	buf[0] = 0;
	CHECK_EQ(ptoken_list(s, uid, &l), 0);
	cJSON_ArrayForEach(e, l)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "last_used_at");

		if (strcmp(jstr(e, "id") ? jstr(e, "id") : "", id))
			continue;
		snprintf(buf, n, "%s", cJSON_IsString(v) ? v->valuestring : "null");
	}
	cJSON_Delete(l);
}

TEST(tokens_on_a_store)
{
	char dir[128], keyf[200], hash[TOKEN_HASH_SIZE], lu[64], lu2[64];
	static struct principal pa;
	struct audit_log a = {0};
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct ptoken_new nt, nt2;
	struct model_why why;
	struct key k;
	struct srv s;
	cJSON *u = NULL, *t = NULL, *l = NULL;
	void *v = NULL;
	size_t len = 0;
	int i, n;

	check_mkdtemp(dir, sizeof(dir), "ptoken");
	snprintf(keyf, sizeof(keyf), "%s/master.key", dir);
	CHECK_EQ(keyprov_file_create(keyf), 0);
	CHECK_EQ(keyprov_file_open(keyf, &kp, NULL, 0), 0);
	CHECK_EQ(store_open_lmdb(&st, dir, NULL), 0);
	CHECK_EQ(srv_init(&s, st, kp, NULL), 0);
	CHECK_EQ(srv_bootstrap(&s, "Biz", "admin@x.example", "admin-password"), 0);
	CHECK_EQ(account_lookup(&s, "admin@x.example", &u), 0);
	memset(&pa, 0, sizeof(pa));
	pa.kind = PRINCIPAL_USER;
	snprintf(pa.id, sizeof(pa.id), "%s", jstr(u, "id") ? jstr(u, "id") : "");
	cJSON_Delete(u);
	CHECK_EQ(principal_load_grants(&s, &pa), 0);

	/* a failing audit entry: nothing written */
	a.fail = -EIO;
	CHECK_EQ(ptoken_create(&s, &pa, "ci", PERM_NODE_READ, now_ms() + 60000, audit_rec, &a, &nt,
			       &why),
		 -EIO);
	CHECK_EQ(nt.token[0], 0);
	CHECK_EQ(ptoken_list(&s, pa.id, &l), 0);
	CHECK_EQ(cJSON_GetArraySize(l), 0);
	cJSON_Delete(l);
	a.fail = 0;

	CHECK_EQ(ptoken_create(&s, &pa, "ci", PERM_NODE_READ | PERM_AUDIT_READ, now_ms() + 60000,
			       audit_rec, &a, &nt, &why),
		 0);
	CHECK_STR(a.action, "token.create");
	CHECK(strstr(a.detail, nt.id) != NULL);
	CHECK(strstr(a.detail, "\"audit.read\"") != NULL);
	CHECK(strstr(a.detail, nt.token + TOKEN_PREFIX_LEN) == NULL);
	CHECK(token_well_formed(nt.token, TOKEN_PREFIX_PERSONAL));
	/* stored by its hash, never as itself */
	CHECK_EQ(token_get(&s, nt.token, TOKEN_PREFIX_PERSONAL, hash, false, &t), 0);
	CHECK_STR(jstr(t, "kind"), "personal");
	CHECK_STR(jstr(t, "tid"), nt.id);
	CHECK_EQ(ptoken_item_scopes(t), PERM_NODE_READ | PERM_AUDIT_READ);
	cJSON_Delete(t);
	CHECK_EQ(store_get(st, STORE_T_TOKENS, key_user_ptokens(&k, pa.id), nt.id, &v, &len), 0);
	CHECK(memmem(v, len, hash, TOKEN_HASH_LEN) != NULL);
	CHECK(memmem(v, len, nt.token + TOKEN_PREFIX_LEN, TOKEN_B64_LEN) == NULL);
	free(v);
	/* a sign-in token's prefix does not take it */
	CHECK_EQ(token_get(&s, nt.token, TOKEN_PREFIX_BEARER, hash, false, &t), -EINVAL);

	/* last use: none, then noted, then not again within the minute */
	last_used(&s, pa.id, nt.id, lu, sizeof(lu));
	CHECK_STR(lu, "null");
	CHECK_EQ(ptoken_touch(&s, pa.id, nt.id, 1800000000000LL), 0);
	last_used(&s, pa.id, nt.id, lu, sizeof(lu));
	CHECK_STR(lu, "2027-01-15T08:00:00.000Z");
	CHECK_EQ(ptoken_touch(&s, pa.id, nt.id, 1800000000000LL + PTOKEN_TOUCH_MS - 1), 0);
	last_used(&s, pa.id, nt.id, lu2, sizeof(lu2));
	CHECK_STR(lu2, lu);
	CHECK_EQ(ptoken_touch(&s, pa.id, nt.id, 1800000000000LL + PTOKEN_TOUCH_MS), 0);
	last_used(&s, pa.id, nt.id, lu2, sizeof(lu2));
	CHECK_STR(lu2, "2027-01-15T08:01:00.000Z");
	CHECK_EQ(ptoken_touch(&s, pa.id, "t_0000000000000000", now_ms()), 0);
	CHECK_EQ(ptoken_touch(&s, pa.id, "nope", now_ms()), -EINVAL);

	/* revoke: gone, and a late touch does not bring the entry back */
	CHECK_EQ(ptoken_revoke(&s, &pa, nt.id, audit_rec, &a), 0);
	CHECK_STR(a.action, "token.revoke");
	CHECK_EQ(token_get(&s, nt.token, TOKEN_PREFIX_PERSONAL, hash, false, &t), -ENOENT);
	CHECK_EQ(ptoken_touch(&s, pa.id, nt.id, now_ms() + 3600000), 0);
	CHECK_EQ(store_get(st, STORE_T_TOKENS, key_user_ptokens(&k, pa.id), nt.id, &v, &len),
		 -ENOENT);
	CHECK_EQ(ptoken_revoke(&s, &pa, nt.id, audit_rec, &a), -ENOENT);
	CHECK_EQ(ptoken_revoke(&s, &pa, "../x", audit_rec, &a), -ENOENT);

	/* the cap: PTOKEN_MAX live; an expired one makes room */
	CHECK_EQ(
	    ptoken_create(&s, &pa, "soon", PERM_NODE_READ, now_ms() + 1, audit_rec, &a, &nt2, &why),
	    0);
	for (i = 0, n = 1; i < PTOKEN_MAX; i++)
		if (!ptoken_create(&s, &pa, "fill", PERM_NODE_READ, now_ms() + 60000, audit_rec, &a,
				   &nt, &why))
			n++;
	CHECK_EQ(n, PTOKEN_MAX + 1); /* the short one had expired at the last */
	CHECK_EQ(ptoken_create(&s, &pa, "more", PERM_NODE_READ, now_ms() + 60000, audit_rec, &a,
			       &nt, &why),
		 -EDQUOT);
	CHECK(strstr(why.msg, "revoke one") != NULL);
	CHECK_EQ(ptoken_list(&s, pa.id, &l), 0);
	CHECK_EQ(cJSON_GetArraySize(l), PTOKEN_MAX);
	cJSON_Delete(l);
	CHECK_EQ(store_get(st, STORE_T_TOKENS, key_user_ptokens(&k, pa.id), nt2.id, &v, &len),
		 -ENOENT);

	srv_fini(&s);
	store_close(st);
	keyprov_free(kp);
	CHECK_EQ(check_rmtree(dir), 0);
}

int main(void)
{
	RUN(scopes_rules);
	RUN(expiry_rules);
	RUN(restrict_to_scopes);
	RUN(tokens_on_a_store);
	return CHECK_DONE();
}
