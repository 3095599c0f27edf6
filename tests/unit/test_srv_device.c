// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_srv_device.c - model/device.h on a real LMDB store: enrollment
 * secrets (a team only, ttl caps, list, expiry, delete; the audit entry in
 * the change's batch: a failing audit leaves nothing written), enrollment
 * (the device item byte for byte as org_device_add() lays it out, the host
 * index, re-enrollment with the device's own token, a pending device for a
 * known host without it, a revoked device staying revoked, refusals with
 * their reasons), the device list's scope, owner/confirm/revoke, and the
 * agent's config (no s3.* keys, a stable ETag, last_seen refreshed).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/crypto.h"
#include "core/keyprov.h"
#include "core/srv.h"
#include "model/config.h"
#include "model/device.h"
#include "model/org.h"
#include "store/keys.h"
#include "util.h"

#define BIZ "n_00000000000000b0"
#define TEAM "n_00000000000000f1"
#define TEAM2 "n_00000000000000f2"
#define ADMIN "u_00000000000000a1"
#define USER "u_0000000000000001"
#define USER2 "u_0000000000000002"
#define USER3 "u_0000000000000003" /* login "c", of TEAM */

/* A device_audit_fn that counts its calls and fails when told to. */
struct audit_log {
	int calls, fail;
	char team[ID_SIZE], id[ID_SIZE];
	char detail[256];
};

static int audit_rec(struct store_batch *b, const char *team_id, const char *id,
		     const cJSON *detail, void *ctx)
{
	struct audit_log *a = ctx;
	char *txt = detail ? cJSON_PrintUnformatted(detail) : NULL;

	CHECK(b != NULL);
	a->calls++;
	snprintf(a->team, sizeof(a->team), "%s", team_id);
	snprintf(a->id, sizeof(a->id), "%s", id);
	snprintf(a->detail, sizeof(a->detail), "%s", txt ? txt : "");
	free(txt);
	return a->fail;
}

/* The stored text of (t, pk, sk) into buf ("" when absent). */
static void raw(struct store *st, enum store_table t, const char *pk, const char *sk, char *buf,
		size_t n)
{
	void *v = NULL;
	size_t len = 0;

	buf[0] = 0;
	if (!store_get(st, t, pk, sk, &v, &len))
		snprintf(buf, n, "%.*s", (int)len, (const char *)v);
	free(v);
}

static void tree(struct store *st)
{
	struct target root = {.depth = 1}, biz = {.depth = 2};
	const struct org_user_new u1 = {USER, "a@x.example", "A", "a", TEAM, "-", ADMIN},
				  u2 = {USER2, "b@x.example", "B", "b", TEAM2, "-", ADMIN},
				  u3 = {USER3, "c@x.example", "C", "c", TEAM, "-", ADMIN};
	struct store_batch *b;

	strcpy(root.path[0], ROOT_ID);
	strcpy(biz.path[0], ROOT_ID);
	strcpy(biz.path[1], BIZ);
	CHECK_EQ(store_batch_begin(st, &b), 0);
	CHECK_EQ(org_node_add(b, BIZ, "business", "Biz", &root, 1, NULL), 0);
	CHECK_EQ(store_batch_commit(b), 0);
	CHECK_EQ(store_batch_begin(st, &b), 0);
	CHECK_EQ(org_node_add(b, TEAM, "team", "T1", &biz, 1, NULL), 0);
	CHECK_EQ(org_node_add(b, TEAM2, "team", "T2", &biz, 1, NULL), 0);
	CHECK_EQ(store_batch_commit(b), 0);
	CHECK_EQ(store_batch_begin(st, &b), 0);
	CHECK_EQ(org_user_add(b, &u1, 1, NULL), 0);
	CHECK_EQ(org_user_add(b, &u2, 1, NULL), 0);
	CHECK_EQ(org_user_add(b, &u3, 1, NULL), 0);
	CHECK_EQ(store_batch_commit(b), 0);
}

static int audit_cfg(struct store_batch *b, const char *scope, const cJSON *detail, void *ctx)
{
	(void)b;
	(void)scope;
	(void)detail;
	(void)ctx;
	return 0;
}

/* Write values (JSON members) at user uid's config level. */
static void user_put(struct srv *s, const char *uid, const char *values)
{
	char body[512], why[CONFIG_WHY_SIZE];
	cJSON *j, *view = NULL;
	struct target t;

	snprintf(body, sizeof(body), "{\"values\":{%s}}", values);
	j = cJSON_Parse(body);
	CHECK_EQ(target_user(s, uid, &t), 0);
	CHECK_EQ(config_level_put(s, &t, "user", uid, j, audit_cfg, NULL, &view, why, sizeof(why)),
		 0);
	cJSON_Delete(view);
	cJSON_Delete(j);
}

/* The config device d (of TEAM) gets for login: its "policy_for" as
 * "kind user_id login" (null as "-") into pf, its screenshots.enabled
 * (-1: unset) as the result, its ETag into etag. */
static int config_for(struct srv *s, const char *d, const char *login, char *pf, size_t n,
		      char etag[DEVICE_ETAG_SIZE])
{
	struct device_agent_config c;
	struct model_why why;
	const cJSON *p, *se;
	cJSON *v;
	int on;

	CHECK_EQ(device_agent_config(s, d, TEAM, login, now_ms(), &c, &why), 0);
	v = cJSON_Parse(c.json);
	p = cJSON_GetObjectItem(v, "policy_for");
	snprintf(pf, n, "%s %s %s", jstr(p, "kind") ? jstr(p, "kind") : "?",
		 jstr(p, "user_id") ? jstr(p, "user_id") : "-",
		 jstr(p, "login") ? jstr(p, "login") : "-");
	se = cJSON_GetObjectItem(cJSON_GetObjectItem(v, "config"), "screenshots.enabled");
	on = cJSON_IsBool(se) ? cJSON_IsTrue(se) : -1;
	memcpy(etag, c.etag, DEVICE_ETAG_SIZE);
	cJSON_Delete(v);
	free(c.json);
	return on;
}

static int enroll(struct srv *s, const char *secret, const char *host, const char *tok,
		  struct audit_log *a, struct device_enrolled *e, struct model_why *why)
{
	const struct device_enroll_req r = {secret, host, "pc", "0.1", tok};

	return device_enroll(s, &r, audit_rec, a, e, why);
}

TEST(devices_on_a_store)
{
	char dir[128], keyf[200], buf[1024], want[1024], hash[TOKEN_HASH_SIZE];
	char sec[TOKEN_SIZE], tok1[TOKEN_SIZE], tok2[TOKEN_SIZE], d1[ID_SIZE], d2[ID_SIZE];
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct audit_log a = {0};
	struct device_secret ds;
	struct device_enrolled e;
	struct device_agent_config c, c2;
	struct model_why why;
	struct principal p;
	struct target tx;
	struct srv s;
	struct key k;
	cJSON *out = NULL, *v;
	int64_t now = now_ms();
	char *txt;

	check_mkdtemp(dir, sizeof(dir), "device");
	snprintf(keyf, sizeof(keyf), "%s/master.key", dir);
	CHECK_EQ(keyprov_file_create(keyf), 0);
	CHECK_EQ(keyprov_file_open(keyf, &kp, NULL, 0), 0);
	CHECK_EQ(store_open_lmdb(&st, dir, NULL), 0);
	CHECK_EQ(srv_init(&s, st, kp, NULL), 0);
	tree(st);

	/* --- secrets --- */
	CHECK_EQ(device_team_check(&s, TEAM, &why), 0);
	CHECK_EQ(device_team_check(&s, BIZ, &why), -ENOTDIR);
	CHECK_STR(why.msg, "devices enroll into teams; " BIZ " is not a team");
	CHECK_EQ(device_team_check(&s, "n_00000000000000ff", &why), -ENOTDIR);
	CHECK_EQ(device_secret_new(&s, BIZ, ADMIN, 60, audit_rec, &a, &ds, &why), -ENOTDIR);
	CHECK_EQ(device_secret_new(&s, TEAM, ADMIN, 0, audit_rec, &a, &ds, &why), -EINVAL);
	CHECK_STR(why.msg, "'ttl_s' must be an integer 1..31536000");
	CHECK_EQ(a.calls, 0);
	/* the audit entry fails: nothing of the secret is written */
	a.fail = -EIO;
	CHECK_EQ(device_secret_new(&s, TEAM, ADMIN, 60, audit_rec, &a, &ds, &why), -EIO);
	CHECK_STR(why.msg, "");
	CHECK_STR(why.what, "secret");
	CHECK_EQ(ds.secret[0], 0);
	a.fail = 0;
	CHECK_EQ(device_secret_list(&s, TEAM, now, &out), 0);
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(out, "secrets")), 0);
	cJSON_Delete(out);
	CHECK_EQ(device_secret_new(&s, TEAM, ADMIN, 3600, audit_rec, &a, &ds, &why), 0);
	CHECK_EQ(a.calls, 2);
	CHECK_STR(a.team, TEAM);
	CHECK_STR(a.id, ds.id);
	CHECK(strstr(a.detail, "\"secret_id\":\"") && strstr(a.detail, "\"expires_at\":\""));
	CHECK(token_well_formed(ds.secret, TOKEN_PREFIX_ENROLL));
	CHECK(ds.expires_ms >= now + 3600000 && ds.expires_ms <= now_ms() + 3600000);
	strcpy(sec, ds.secret);
	/* only the hash is stored: the secret item and the team's index */
	CHECK_EQ(token_hash(sec, hash), 0);
	raw(st, STORE_T_ENROLL, hash, SK_SECRET, buf, sizeof(buf));
	CHECK(strstr(buf, "\"team_id\":\"" TEAM "\"") != NULL);
	raw(st, STORE_T_ENROLL, key_team_index(&k, TEAM), ds.id, buf, sizeof(buf));
	CHECK(strstr(buf, hash) != NULL);
	CHECK_EQ(device_secret_list(&s, TEAM, now, &out), 0);
	v = cJSON_GetArrayItem(cJSON_GetObjectItem(out, "secrets"), 0);
	CHECK_STR(jstr(v, "id"), ds.id);
	CHECK_STR(jstr(v, "by"), ADMIN);
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(v, "expired")));
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(out, "truncated")));
	cJSON_Delete(out);
	CHECK_EQ(device_secret_list(&s, TEAM, ds.expires_ms, &out), 0);
	v = cJSON_GetArrayItem(cJSON_GetObjectItem(out, "secrets"), 0);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(v, "expired")));
	cJSON_Delete(out);
	/* a second one, deleted */
	CHECK_EQ(device_secret_new(&s, TEAM, ADMIN, 60, audit_rec, &a, &ds, &why), 0);
	CHECK_EQ(device_secret_delete(&s, TEAM2, ds.id, audit_rec, &a, &why), -ENOENT);
	CHECK_STR(why.msg, "enrollment secret not found");
	CHECK_EQ(device_secret_delete(&s, TEAM, "e_nothex", audit_rec, &a, &why), -ENOENT);
	a.calls = 0;
	CHECK_EQ(device_secret_delete(&s, TEAM, ds.id, audit_rec, &a, &why), 0);
	CHECK_EQ(a.calls, 1);
	CHECK_STR(a.id, ds.id);
	CHECK_EQ(device_secret_delete(&s, TEAM, ds.id, audit_rec, &a, &why), -ENOENT);
	CHECK_EQ(token_hash(ds.secret, hash), 0);
	raw(st, STORE_T_ENROLL, hash, SK_SECRET, buf, sizeof(buf));
	CHECK_STR(buf, "");

	/* --- enrollment --- */
	a.calls = 0;
	CHECK_EQ(enroll(&s, "ale_nope", "h1", NULL, &a, &e, &why), -EACCES);
	CHECK_STR(e.reason, "unknown_secret");
	CHECK(e.team_id == NULL);
	CHECK_STR(why.msg, "invalid enrollment secret");
	CHECK_EQ(a.calls, 0);
	CHECK_EQ(enroll(&s, sec, "bad host", NULL, &a, &e, &why), -EINVAL);
	/* an expired secret; a secret whose team is not a team (any more) */
	CHECK_EQ(token_new(TOKEN_PREFIX_ENROLL, tok1, hash), 0);
	snprintf(buf, sizeof(buf), "{\"team_id\":\"" TEAM "\",\"exp\":%lld}", (long long)now);
	CHECK_EQ(store_put(st, STORE_T_ENROLL, hash, SK_SECRET, buf, strlen(buf), 0), 0);
	CHECK_EQ(enroll(&s, tok1, "h1", NULL, &a, &e, &why), -EACCES);
	CHECK_STR(e.reason, "expired_secret");
	CHECK(e.team_id == NULL);
	CHECK_STR(why.msg, "enrollment secret expired");
	snprintf(buf, sizeof(buf), "{\"team_id\":\"" BIZ "\",\"exp\":%lld}",
		 (long long)now + 60000);
	CHECK_EQ(store_put(st, STORE_T_ENROLL, hash, SK_SECRET, buf, strlen(buf), 0), 0);
	CHECK_EQ(enroll(&s, tok1, "h1", NULL, &a, &e, &why), -EACCES);
	CHECK_STR(e.reason, "team_gone");
	CHECK_STR(e.team_id, BIZ);
	CHECK_STR(why.msg, "invalid enrollment secret");
	CHECK_EQ(a.calls, 0);

	CHECK_EQ(enroll(&s, sec, "h1", NULL, &a, &e, &why), 0);
	CHECK(!e.again && !e.pending);
	CHECK_STR(e.team_id, TEAM);
	CHECK(token_well_formed(e.token, TOKEN_PREFIX_DEVICE));
	CHECK_EQ(a.calls, 1);
	CHECK_STR(a.team, TEAM);
	CHECK_STR(a.id, e.device_id);
	CHECK_STR(
	    a.detail,
	    "{\"host_id\":\"h1\",\"hostname\":\"pc\",\"re_enrolled\":false,\"pending\":false}");
	strcpy(d1, e.device_id);
	strcpy(tok1, e.token);
	/* the items, as enrollment has always written them */
	CHECK_EQ(token_hash(tok1, hash), 0);
	raw(st, STORE_T_DEVICES, d1, SK_DEVICE, buf, sizeof(buf));
	v = cJSON_Parse(buf);
	snprintf(
	    want, sizeof(want),
	    "{\"id\":\"%s\",\"team_id\":\"" TEAM "\",\"host_id\":\"h1\",\"hostname\":\"pc\","
	    "\"agent_version\":\"0.1\",\"owner_id\":null,\"enrolled_at\":%lld,\"revoked\":false,"
	    "\"pending\":false,\"last_seen\":0,\"token\":\"%s\"}",
	    d1, (long long)jint(v, "enrolled_at", 0), hash);
	cJSON_Delete(v);
	CHECK_STR(buf, want);
	raw(st, STORE_T_DEVICES, key_team_index(&k, TEAM), d1, buf, sizeof(buf));
	snprintf(want, sizeof(want), "{\"id\":\"%s\"}", d1);
	CHECK_STR(buf, want);
	raw(st, STORE_T_DEVICES, key_device_host(&k, TEAM, "h1"), SK_DEVICE, buf, sizeof(buf));
	snprintf(want, sizeof(want), "{\"device_id\":\"%s\"}", d1);
	CHECK_STR(buf, want);
	raw(st, STORE_T_TOKENS, hash, SK_TOKEN, buf, sizeof(buf));
	snprintf(want, sizeof(want), "{\"kind\":\"device\",\"id\":\"%s\",\"exp\":0}", d1);
	CHECK_STR(buf, want);

	/* re-enrollment with the device's own token: same device, new token */
	CHECK_EQ(enroll(&s, sec, "h1", tok1, &a, &e, &why), 0);
	CHECK(e.again && !e.pending);
	CHECK_STR(e.device_id, d1);
	CHECK(strcmp(e.token, tok1) != 0);
	raw(st, STORE_T_TOKENS, hash, SK_TOKEN, buf, sizeof(buf));
	CHECK_STR(buf, "");
	strcpy(tok1, e.token);

	/* the same host without the token: a new, pending device */
	CHECK_EQ(enroll(&s, sec, "h1", NULL, &a, &e, &why), 0);
	CHECK(!e.again && e.pending);
	CHECK(strcmp(e.device_id, d1) != 0);
	strcpy(d2, e.device_id);
	strcpy(tok2, e.token);
	raw(st, STORE_T_DEVICES, d2, SK_DEVICE, buf, sizeof(buf));
	CHECK(strstr(buf, "\"revoked\":false,\"pending\":true,\"last_seen\":0") != NULL);
	raw(st, STORE_T_DEVICES, key_device_host(&k, TEAM, "h1"), SK_DEVICE, buf, sizeof(buf));
	snprintf(want, sizeof(want), "{\"device_id\":\"%s\"}", d1);
	CHECK_STR(buf, want);
	/* another device's token does not re-enroll this host's other device */
	CHECK_EQ(enroll(&s, sec, "h2", tok1, &a, &e, &why), 0);
	CHECK(!e.again && !e.pending);
	/* a pending device re-enrolling with its token stays pending */
	CHECK_EQ(enroll(&s, sec, "h1", tok2, &a, &e, &why), 0);
	CHECK(e.again && e.pending);
	CHECK_STR(e.device_id, d2);
	strcpy(tok2, e.token);

	/* --- list, get, changes --- */
	memset(&p, 0, sizeof(p));
	p.kind = PRINCIPAL_USER;
	p.n_grants = 1;
	strcpy(p.g[0].node_id, TEAM2);
	p.g[0].perms = PERM_DEVICE_READ;
	CHECK_EQ(target_node(&s, ROOT_ID, &tx), 0);
	CHECK_EQ(device_list(&s, &p, ROOT_ID, &tx, &out, &why), 0);
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(out, "devices")), 0);
	cJSON_Delete(out);
	strcpy(p.g[0].node_id, BIZ);
	CHECK_EQ(device_list(&s, &p, ROOT_ID, &tx, &out, &why), 0);
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(out, "devices")), 3);
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(out, "truncated")));
	txt = cJSON_PrintUnformatted(out);
	CHECK(txt && !strstr(txt, "\"token\""));
	free(txt);
	cJSON_Delete(out);
	p.g[0].perms = PERM_AUDIT_READ;
	CHECK_EQ(device_list(&s, &p, ROOT_ID, &tx, &out, &why), -EACCES);
	CHECK_STR(why.msg, "forbidden: needs device.read here");
	CHECK(out == NULL);

	CHECK_EQ(device_get(&s, d1, &out), 0);
	CHECK_STR(jstr(out, "host_id"), "h1");
	CHECK(cJSON_GetObjectItem(out, "token") == NULL);
	cJSON_Delete(out);
	CHECK_EQ(device_get(&s, "d_00000000000000ff", &out), -ENOENT);

	a.calls = 0;
	CHECK_EQ(device_set_owner(&s, d1, TEAM, USER2, audit_rec, &a, &out, &why), -EINVAL);
	CHECK_STR(why.msg, "owner_id must be a user of the device's team " TEAM);
	CHECK_EQ(device_set_owner(&s, d1, TEAM, "u_00000000000000ff", audit_rec, &a, &out, &why),
		 -EINVAL);
	CHECK_EQ(a.calls, 0);
	CHECK_EQ(device_set_owner(&s, d1, TEAM, USER, audit_rec, &a, &out, &why), 0);
	CHECK_STR(jstr(out, "owner_id"), USER);
	CHECK_STR(a.detail, "{\"owner_id\":\"" USER "\"}");
	cJSON_Delete(out);

	CHECK_EQ(device_confirm(&s, d2, TEAM, audit_rec, &a, &out, &why), 0);
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(out, "pending")));
	cJSON_Delete(out);
	CHECK_EQ(device_revoke(&s, d1, TEAM, audit_rec, &a, &out, &why), 0);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(out, "revoked")));
	cJSON_Delete(out);
	CHECK_EQ(token_hash(tok1, hash), 0);
	raw(st, STORE_T_TOKENS, hash, SK_TOKEN, buf, sizeof(buf));
	CHECK_STR(buf, "");
	CHECK_EQ(device_confirm(&s, d1, TEAM, audit_rec, &a, &out, &why), -EPERM);
	snprintf(want, sizeof(want), "device %s is revoked", d1);
	CHECK_STR(why.msg, want);
	/* revoked stays revoked: its old token enrolls a new, pending device */
	CHECK_EQ(enroll(&s, sec, "h1", tok1, &a, &e, &why), 0);
	CHECK(!e.again && e.pending);
	CHECK(strcmp(e.device_id, d1) != 0);
	raw(st, STORE_T_DEVICES, d1, SK_DEVICE, buf, sizeof(buf));
	CHECK(strstr(buf, "\"revoked\":true") != NULL);

	/* --- the agent's config --- */
	CHECK_EQ(device_agent_config(&s, d2, TEAM, NULL, now + 120000, &c, &why), 0);
	CHECK_EQ(c.seen_err, 0);
	CHECK_EQ(strlen(c.etag), DEVICE_ETAG_SIZE - 1);
	CHECK(c.etag[0] == '"' && c.etag[DEVICE_ETAG_SIZE - 2] == '"');
	v = cJSON_Parse(c.json);
	CHECK_STR(jstr(v, "device_id"), d2);
	CHECK(cJSON_IsObject(cJSON_GetObjectItem(v, "config")));
	cJSON_Delete(v);
	CHECK(strstr(c.json, "\"s3.") == NULL);
	CHECK_EQ(device_get(&s, d2, &out), 0);
	CHECK(jstr(out, "last_seen") != NULL);
	cJSON_Delete(out);
	CHECK_EQ(device_agent_config(&s, d2, TEAM, NULL, now + 121000, &c2, &why), 0);
	CHECK_STR(c2.etag, c.etag);
	CHECK_STR(c2.json, c.json);
	free(c.json);
	free(c2.json);
	CHECK_EQ(device_agent_config(&s, "d_00000000000000ff", TEAM, NULL, now, &c, &why), -ENOENT);
	CHECK_STR(why.what, "device");

	/* --- the config of a session user: the team user of that login --- */
	{
		char pf[128], e0[DEVICE_ETAG_SIZE], e1[DEVICE_ETAG_SIZE], e2[DEVICE_ETAG_SIZE];

		user_put(&s, USER, "\"screenshots.enabled\":false");
		user_put(&s, USER3, "\"screenshots.enabled\":true");
		/* no owner, no login: the team's */
		CHECK_EQ(config_for(&s, d2, NULL, pf, sizeof(pf), e0), 0);
		CHECK_STR(pf, "team - -");
		CHECK_EQ(config_for(&s, d2, "c", pf, sizeof(pf), e1), 1);
		CHECK_STR(pf, "user " USER3 " c");
		CHECK(strcmp(e0, e1) != 0);
		/* a login of another team's user, or of nobody: not that user */
		CHECK_EQ(config_for(&s, d2, "b", pf, sizeof(pf), e2), 0);
		CHECK_STR(pf, "team - -");
		CHECK_STR(e2, e0);
		CHECK_EQ(device_set_owner(&s, d2, TEAM, USER, audit_rec, &a, &out, &why), 0);
		cJSON_Delete(out);
		/* with an owner: the owner's, unless the login is a team user's */
		CHECK_EQ(config_for(&s, d2, "b", pf, sizeof(pf), e2), 0);
		CHECK_STR(pf, "owner " USER " a");
		CHECK_EQ(config_for(&s, d2, "nobody", pf, sizeof(pf), e0), 0);
		CHECK_STR(e0, e2);
		CHECK_EQ(config_for(&s, d2, NULL, pf, sizeof(pf), e0), 0);
		CHECK_STR(pf, "owner " USER " a");
		CHECK_EQ(config_for(&s, d2, "c", pf, sizeof(pf), e0), 1);
		CHECK_STR(pf, "user " USER3 " c");
		CHECK_STR(e0, e1);
		/* the owner's own login is the user kind */
		CHECK_EQ(config_for(&s, d2, "a", pf, sizeof(pf), e0), 0);
		CHECK_STR(pf, "user " USER " a");
		/* the login rule of a record's user */
		CHECK(device_login_ok("alice"));
		CHECK(device_login_ok("Jörg M"));
		CHECK(!device_login_ok(""));
		CHECK(!device_login_ok("a\tb"));
		CHECK(!device_login_ok("a\nb"));
		memset(buf, 'x', DEVICE_LOGIN_MAX + 1);
		buf[DEVICE_LOGIN_MAX + 1] = 0;
		CHECK(!device_login_ok(buf));
		buf[DEVICE_LOGIN_MAX] = 0;
		CHECK(device_login_ok(buf));
	}

	srv_fini(&s);
	store_close(st);
	keyprov_free(kp);
	CHECK_EQ(check_rmtree(dir), 0);
}

TEST(host_ids)
{
	char h[DEVICE_HOST_ID_MAX + 2];

	CHECK(device_host_id_ok("a"));
	CHECK(device_host_id_ok("~!09azAZ"));
	CHECK(!device_host_id_ok(NULL));
	CHECK(!device_host_id_ok(""));
	CHECK(!device_host_id_ok("a b"));
	CHECK(!device_host_id_ok("a\x7f"));
	memset(h, 'x', sizeof(h) - 1);
	h[sizeof(h) - 1] = 0;
	CHECK(!device_host_id_ok(h));
	h[DEVICE_HOST_ID_MAX] = 0;
	CHECK(device_host_id_ok(h));
}

/* users_seen: added, raised by a step, capped with the oldest dropped,
 * shown newest first; no change when nothing moved (no write). */
TEST(users_seen)
{
	struct device_user_seen e[DEVICE_USERS_SEEN_MAX + 1];
	cJSON *d = cJSON_Parse("{\"id\":\"d_0000000000000001\"}"), *v;
	const cJSON *us;
	char *txt;
	size_t i;

	memset(e, 0, sizeof(e));
	strcpy(e[0].uid, USER);
	strcpy(e[0].login, "a");
	e[0].last_seen = 1000000;
	strcpy(e[1].uid, USER3);
	strcpy(e[1].login, "c");
	e[1].last_seen = 2000000;
	CHECK_EQ(device_users_seen_merge(d, e, 0), 0);
	CHECK_EQ(device_users_seen_merge(d, e, 2), 1);
	CHECK_EQ(device_users_seen_merge(d, e, 2), 0);
	/* less than a step newer: kept as it is */
	e[0].last_seen += DEVICE_USERS_SEEN_STEP_MS - 1;
	CHECK_EQ(device_users_seen_merge(d, e, 1), 0);
	e[0].last_seen += 1;
	CHECK_EQ(device_users_seen_merge(d, e, 1), 1);
	v = device_view(d);
	txt = cJSON_PrintUnformatted(cJSON_GetObjectItem(v, "users_seen"));
	CHECK_STR(txt, "[{\"user_id\":\"" USER3 "\",\"login\":\"c\",\"last_seen\":"
		       "\"1970-01-01T00:33:20.000Z\"},{\"user_id\":\"" USER "\",\"login\":\"a\","
		       "\"last_seen\":\"1970-01-01T00:17:40.000Z\"}]");
	free(txt);
	cJSON_Delete(v);
	/* the cap: 32 newer users push the two out */
	for (i = 0; i < DEVICE_USERS_SEEN_MAX; i++) {
		snprintf(e[i].uid, ID_SIZE, "u_%016zx", 0x100 + i);
		snprintf(e[i].login, sizeof(e[i].login), "l%zu", i);
		e[i].last_seen = 3000000 + (int64_t)i;
	}
	CHECK_EQ(device_users_seen_merge(d, e, DEVICE_USERS_SEEN_MAX), 1);
	us = cJSON_GetObjectItem(d, "users_seen");
	CHECK_EQ(cJSON_GetArraySize(us), DEVICE_USERS_SEEN_MAX);
	v = device_view(d);
	us = cJSON_GetObjectItem(v, "users_seen");
	CHECK_EQ(cJSON_GetArraySize(us), DEVICE_USERS_SEEN_MAX);
	CHECK_STR(jstr(cJSON_GetArrayItem(us, 0), "login"), "l31");
	txt = cJSON_PrintUnformatted(d);
	CHECK(txt && !strstr(txt, USER3) && !strstr(txt, "\"" USER "\""));
	free(txt);
	cJSON_Delete(v);
	cJSON_Delete(d);
	/* a device that saw nobody shows an empty list */
	d = cJSON_Parse("{}");
	v = device_view(d);
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(v, "users_seen")), 0);
	CHECK(cJSON_IsArray(cJSON_GetObjectItem(v, "users_seen")));
	cJSON_Delete(v);
	cJSON_Delete(d);
}

int main(void)
{
	RUN(host_ids);
	RUN(users_seen);
	RUN(devices_on_a_store);
	return CHECK_DONE();
}
