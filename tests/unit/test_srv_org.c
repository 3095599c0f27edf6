// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_srv_org.c - model/org.h and model/account.h on a real LMDB store,
 * without HTTP: the pure rules (logins, a new user's fields, the root,
 * self-disable); nodes (placement, the audit entry in the change's batch: a
 * failing audit leaves nothing written; rename; a delete only of an empty
 * node, taking its grants along; the first business kept); users (a team
 * only, a taken email, changes with their audit entries, no lock-out, no
 * reset of one's own password, a disable ending the sessions); roles;
 * grants (no escalation, businesses, duplicates, no revoking one's own);
 * sign-in, /me and one's own password.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/crypto.h"
#include "core/keyprov.h"
#include "core/srv.h"
#include "model/account.h"
#include "model/org.h"
#include "model/review.h"
#include "store/keys.h"
#include "util.h"

#define ADMIN_EMAIL "admin@x.example"
#define ADMIN_PW "admin-password"

/* An org_audit_fn that records its calls and fails when told to. */
struct audit_log {
	int calls, fail;
	char action[64], node[ID_SIZE], target[ID_SIZE + 64];
	char detail[256];
};

static int audit_rec(struct store_batch *b, const char *action, const char *node_id,
		     const char *target, const cJSON *detail, void *ctx)
{
	struct audit_log *a = ctx;
	char *txt = detail ? cJSON_PrintUnformatted(detail) : NULL;

	CHECK(b != NULL);
	a->calls++;
	snprintf(a->action, sizeof(a->action), "%s", action);
	snprintf(a->node, sizeof(a->node), "%s", node_id ? node_id : "(null)");
	snprintf(a->target, sizeof(a->target), "%s", target);
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

/* A node of type under parent (its target into *t), its id into id. */
static void node(struct srv *s, const char *type, const char *name, const char *parent,
		 struct audit_log *a, char id[ID_SIZE], struct target *t)
{
	struct target pt;
	struct model_why why;
	cJSON *n = NULL;

	CHECK_EQ(org_node_place(s, type, parent, &why), 0);
	CHECK_EQ(target_node(s, parent, &pt), 0);
	CHECK_EQ(org_node_create(s, type, name, &pt, audit_rec, a, &n), 0);
	snprintf(id, ID_SIZE, "%s", jstr(n, "id") ? jstr(n, "id") : "");
	CHECK_STR(a->action, "node.create");
	CHECK_STR(a->node, id);
	cJSON_Delete(n);
	if (t)
		CHECK_EQ(target_node(s, id, t), 0);
}

/* A principal for user id, as need_user() loads it. */
static void as_user(struct srv *s, const char *id, const char *team, struct principal *p)
{
	memset(p, 0, sizeof(*p));
	p->kind = PRINCIPAL_USER;
	snprintf(p->id, sizeof(p->id), "%s", id);
	snprintf(p->team_id, sizeof(p->team_id), "%s", team ? team : "");
	CHECK_EQ(principal_load_grants(s, p), 0);
}

TEST(pure_rules)
{
	struct org_user_req r = {.email = "Bob.Smith@X.example", .password = "password-1"};
	struct model_why why;

	CHECK(org_login_valid("bob"));
	CHECK(org_login_valid("_b.o-b9"));
	CHECK(!org_login_valid(""));
	CHECK(!org_login_valid("1bob"));
	CHECK(!org_login_valid("Bob"));
	CHECK(!org_login_valid("a234567890123456789012345678901234"));
	CHECK_EQ(org_user_check(&r, &why), 0);
	CHECK_STR(r.em, "bob.smith@x.example");
	CHECK_STR(r.login, "bob.smith");
	r = (struct org_user_req){.email = "not-an-email", .password = "password-1"};
	CHECK_EQ(org_user_check(&r, &why), -EINVAL);
	CHECK_STR(why.msg, "'not-an-email' is not an email address");
	r = (struct org_user_req){.email = "a@x.example", .password = "short"};
	CHECK_EQ(org_user_check(&r, &why), -EINVAL);
	CHECK_STR(why.msg, "password must be 8..1024 bytes");
	r = (struct org_user_req){.email = "1a@x.example", .password = "password-1"};
	CHECK_EQ(org_user_check(&r, &why), -EINVAL);
	CHECK(strstr(why.msg, "login must be a Linux user name") == why.msg);
	CHECK_EQ(org_node_changeable(ROOT_ID, "renamed", &why), -EINVAL);
	CHECK_STR(why.msg, "the root cannot be renamed");
	CHECK_EQ(org_node_changeable("n_0000000000000001", "deleted", &why), 0);
	CHECK_EQ(org_user_disable_check("u_1", "u_1", &why), -EPERM);
	CHECK_STR(why.msg, "you cannot disable yourself");
	CHECK_EQ(org_user_disable_check("u_1", "u_2", &why), 0);
}

TEST(org_on_a_store)
{
	char dir[128], keyf[200], buf[1024], want[1024];
	char biz[ID_SIZE], dom[ID_SIZE], prj[ID_SIZE], ta[ID_SIZE], tb[ID_SIZE], b2[ID_SIZE],
	    t2[ID_SIZE], admin[ID_SIZE], mgr[ID_SIZE], emp[ID_SIZE], other[ID_SIZE];
	struct target tbiz, tprj, tta, ttb, tt2, tmp, ut;
	struct principal pa, pm, pe;
	struct account_session ses;
	struct audit_log a = {0};
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct model_why why;
	struct srv s;
	struct key k, k2;
	cJSON *out = NULL, *u = NULL, *perms;
	int sweep;

	check_mkdtemp(dir, sizeof(dir), "org");
	snprintf(keyf, sizeof(keyf), "%s/master.key", dir);
	CHECK_EQ(keyprov_file_create(keyf), 0);
	CHECK_EQ(keyprov_file_open(keyf, &kp, NULL, 0), 0);
	CHECK_EQ(store_open_lmdb(&st, dir, NULL), 0);
	CHECK_EQ(srv_init(&s, st, kp, NULL), 0);
	CHECK_EQ(srv_bootstrap(&s, "Biz", ADMIN_EMAIL, ADMIN_PW), 0);
	snprintf(biz, sizeof(biz), "%s", s.business_id);
	CHECK_EQ(target_node(&s, biz, &tbiz), 0);
	CHECK_EQ(account_lookup(&s, ADMIN_EMAIL, &u), 0);
	CHECK(u != NULL);
	snprintf(admin, sizeof(admin), "%s", jstr(u, "id"));
	cJSON_Delete(u);
	as_user(&s, admin, NULL, &pa);

	/* --- nodes --- */
	CHECK_EQ(org_node_place(&s, "galaxy", ROOT_ID, &why), -EINVAL);
	CHECK_STR(why.msg, "type must be business, domain, project or team");
	CHECK_EQ(org_node_place(&s, "team", biz, &why), -EINVAL);
	CHECK_STR(why.msg, "a team goes under project, not under business");
	CHECK_EQ(org_node_place(&s, "domain", ROOT_ID, &why), -EINVAL);
	CHECK_STR(why.msg, "a domain goes under business, not under the root");
	CHECK_EQ(org_node_place(&s, "domain", "n_00000000000000ff", &why), -ENOENT);
	CHECK_STR(why.msg, "");
	CHECK_STR(why.what, "parent node");
	node(&s, "domain", "Eng", biz, &a, dom, NULL);
	node(&s, "project", "Core", dom, &a, prj, &tprj);
	node(&s, "team", "A", prj, &a, ta, &tta);
	node(&s, "team", "B", prj, &a, tb, &ttb);
	node(&s, "business", "Other", ROOT_ID, &a, b2, NULL);
	CHECK_EQ(target_node(&s, ROOT_ID, &tmp), 0);
	/* the audit entry fails: the node is not written */
	a.fail = -EIO;
	CHECK_EQ(org_node_create(&s, "team", "C", &tprj, audit_rec, &a, &out), -EIO);
	CHECK(out == NULL);
	a.fail = 0;
	CHECK_EQ(org_node_children(&s, &pa, prj, &tprj, &out, &why), 0);
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(out, "children")), 2);
	cJSON_Delete(out);
	CHECK_EQ(org_node_get(&s, ROOT_ID, &out), 0);
	CHECK_STR(jstr(out, "type"), "root");
	cJSON_Delete(out);
	CHECK_EQ(org_node_rename(&s, ta, "Team A", audit_rec, &a, &out), 0);
	CHECK_STR(jstr(out, "name"), "Team A");
	CHECK_STR(a.action, "node.rename");
	cJSON_Delete(out);
	raw(st, STORE_T_NODES, prj, key_node_child(&k, ta), buf, sizeof(buf));
	snprintf(want, sizeof(want), "{\"id\":\"%s\",\"type\":\"team\",\"name\":\"Team A\"}", ta);
	CHECK_STR(buf, want);
	{
		char d2[ID_SIZE], p2[ID_SIZE];
		struct target tp2;

		node(&s, "domain", "D2", b2, &a, d2, NULL);
		node(&s, "project", "P2", d2, &a, p2, &tp2);
		node(&s, "team", "T2", p2, &a, t2, &tt2);
	}

	/* --- users --- */
	{
		struct org_user_req r = {.email = "Mgr@x.example",
					 .name = "Mgr",
					 .password = "password-mgr",
					 .team_id = prj};

		CHECK_EQ(org_user_check(&r, &why), 0);
		CHECK_EQ(org_user_create(&s, &r, admin, audit_rec, &a, &out, &why), -EINVAL);
		CHECK_STR(why.msg, "team_id must name a team");
		r.team_id = ta;
		CHECK_EQ(org_user_create(&s, &r, admin, audit_rec, &a, &out, &why), 0);
		CHECK_STR(jstr(out, "email"), "mgr@x.example");
		CHECK_STR(jstr(out, "login"), "mgr");
		CHECK(cJSON_GetObjectItem(out, "pw") == NULL);
		CHECK_STR(a.action, "user.create");
		CHECK_STR(a.node, ta);
		snprintf(mgr, sizeof(mgr), "%s", jstr(out, "id"));
		cJSON_Delete(out);
		CHECK_EQ(org_user_create(&s, &r, admin, audit_rec, &a, &out, &why), -EEXIST);
		CHECK_STR(why.msg, "a user with that email already exists");
		r = (struct org_user_req){.email = "emp@x.example",
					  .name = "Emp",
					  .password = "password-emp",
					  .team_id = ta};
		CHECK_EQ(org_user_check(&r, &why), 0);
		CHECK_EQ(org_user_create(&s, &r, admin, audit_rec, &a, &out, &why), 0);
		snprintf(emp, sizeof(emp), "%s", jstr(out, "id"));
		cJSON_Delete(out);
		r = (struct org_user_req){
		    .email = "o@y.example", .name = "O", .password = "password-o", .team_id = t2};
		CHECK_EQ(org_user_check(&r, &why), 0);
		CHECK_EQ(org_user_create(&s, &r, admin, audit_rec, &a, &out, &why), 0);
		snprintf(other, sizeof(other), "%s", jstr(out, "id"));
		cJSON_Delete(out);
	}
	raw(st, STORE_T_USERS, key_team_index(&k, ta), emp, buf, sizeof(buf));
	snprintf(want, sizeof(want), "{\"id\":\"%s\"}", emp);
	CHECK_STR(buf, want);
	CHECK_EQ(org_user_get(&s, emp, &out), 0);
	CHECK_STR(jstr(out, "name"), "Emp");
	cJSON_Delete(out);
	CHECK_EQ(org_user_list(&s, &pa, biz, &out), 0);
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(out, "users")), 2);
	cJSON_Delete(out);

	/* --- grants --- */
	CHECK_EQ(org_role_check(&s, "nosuch", &why), -EINVAL);
	CHECK_STR(why.msg, "unknown role 'nosuch'");
	CHECK_EQ(org_role_check(&s, "manager", &why), 0);
	CHECK_EQ(
	    org_grant_create(&s, &pa, mgr, "manager", prj, &tprj, &tta, audit_rec, &a, &out, &why),
	    0);
	CHECK_STR(a.action, "grant.create");
	CHECK_STR(a.node, prj);
	snprintf(want, sizeof(want), "{\"role\":\"manager\",\"user_id\":\"%s\"}", mgr);
	CHECK_STR(a.detail, want);
	cJSON_Delete(out);
	raw(st, STORE_T_GRANTS, key_grant_node_pk(&k, prj), key_grant_node_sk(&k2, mgr, "manager"),
	    buf, sizeof(buf));
	CHECK_STR(buf, "{}");
	CHECK_EQ(
	    org_grant_create(&s, &pa, mgr, "manager", prj, &tprj, &tta, audit_rec, &a, &out, &why),
	    -EEXIST);
	CHECK_STR(why.msg, "the user already holds that role there");
	as_user(&s, mgr, ta, &pm);
	as_user(&s, emp, ta, &pe);
	/* no escalation: a manager grants no admin; no grants across businesses */
	CHECK_EQ(target_user(&s, emp, &ut), 0);
	CHECK_EQ(org_grant_create(&s, &pm, emp, "admin", ta, &tta, &ut, audit_rec, &a, &out, &why),
		 -EACCES);
	{
		static const char esc[] =
		    "forbidden: role 'admin' holds permissions you lack here: ";

		CHECK(!strncmp(why.msg, esc, sizeof(esc) - 1));
	}
	/* the refusal names what is missing, and only that */
	CHECK(strstr(why.msg, "grant.write") && strstr(why.msg, "role.write"));
	CHECK(!strstr(why.msg, "user.read") && !strstr(why.msg, "activity.read"));
	CHECK_EQ(target_user(&s, other, &ut), 0);
	CHECK_EQ(
	    org_grant_create(&s, &pm, other, "employee", ta, &tta, &ut, audit_rec, &a, &out, &why),
	    -EACCES);
	CHECK(strstr(why.msg, "forbidden: the user belongs to another business") == why.msg);
	/* the root admin may */
	CHECK_EQ(
	    org_grant_create(&s, &pa, other, "employee", ta, &tta, &ut, audit_rec, &a, &out, &why),
	    0);
	cJSON_Delete(out);
	CHECK_EQ(org_grant_list(&s, &pm, other, &out), 0);
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(out, "grants")), 1);
	cJSON_Delete(out);
	CHECK_EQ(org_grant_list(&s, &pa, other, &out), 0);
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(out, "grants")), 2);
	cJSON_Delete(out);
	CHECK_EQ(org_grant_revoke(&s, &pm, mgr, "manager", prj, &tprj, audit_rec, &a, &why),
		 -EPERM);
	CHECK_STR(why.msg, "you cannot revoke your own grants");
	CHECK_EQ(org_grant_revoke(&s, &pa, other, "employee", ta, &tta, audit_rec, &a, &why), 0);
	CHECK_STR(a.action, "grant.revoke");
	raw(st, STORE_T_GRANTS, other, key_grant_user_sk(&k, ta, "employee"), buf, sizeof(buf));
	CHECK_STR(buf, "");
	CHECK_EQ(org_grant_revoke(&s, &pa, other, "employee", ta, &tta, audit_rec, &a, &why),
		 -ENOENT);
	CHECK_STR(why.what, "grant");

	/* --- user changes --- */
	{
		struct org_user_change c = {.disabled = 1};

		CHECK_EQ(org_user_update(&s, mgr, mgr, ta, &c, audit_rec, &a, &out, &sweep, &why),
			 -EPERM);
		c = (struct org_user_change){.password = "password-new", .disabled = -1};
		CHECK_EQ(org_user_update(&s, mgr, mgr, ta, &c, audit_rec, &a, &out, &sweep, &why),
			 -EACCES);
		c = (struct org_user_change){.password = "short", .disabled = -1};
		CHECK_EQ(org_user_update(&s, mgr, emp, ta, &c, audit_rec, &a, &out, &sweep, &why),
			 -EINVAL);
		c = (struct org_user_change){.login = "Bad", .disabled = -1};
		CHECK_EQ(org_user_update(&s, mgr, emp, ta, &c, audit_rec, &a, &out, &sweep, &why),
			 -EINVAL);
		CHECK_STR(why.msg, "login must be 1..32 of [a-z0-9_.-]");
		c = (struct org_user_change){
		    .name = "Employee", .login = "employee", .disabled = -1};
		CHECK_EQ(org_user_update(&s, mgr, emp, ta, &c, audit_rec, &a, &out, &sweep, &why),
			 0);
		CHECK_STR(jstr(out, "login"), "employee");
		CHECK_STR(a.action, "user.update");
		CHECK_STR(a.detail, "[\"name\",\"login\"]");
		cJSON_Delete(out);
	}

	/* --- sign-in, /me, one's own password --- */
	CHECK_EQ(account_lookup(&s, "nobody@x.example", &u), 0);
	CHECK(u == NULL);
	CHECK_EQ(account_sign_in(&s, NULL, "password-x", "127.0.0.1", audit_rec, &a, &ses),
		 -EACCES);
	CHECK_STR(ses.reason, "unknown_account");
	CHECK_EQ(account_lookup(&s, "emp@x.example", &u), 0);
	CHECK_EQ(account_sign_in(&s, u, "wrong-password", "127.0.0.1", audit_rec, &a, &ses),
		 -EACCES);
	CHECK_STR(ses.reason, "bad_password");
	CHECK_EQ(account_sign_in(&s, u, "password-emp", "127.0.0.1", audit_rec, &a, &ses), 0);
	CHECK_STR(a.action, "auth.login");
	CHECK_STR(a.node, ta);
	CHECK_STR(a.target, emp);
	CHECK(user_token_from(&s, emp, "127.0.0.1"));
	CHECK_EQ(token_hash(ses.token, pe.token_hash), 0);
	crypto_wipe(ses.token, sizeof(ses.token));
	cJSON_Delete(u);
	CHECK_EQ(account_me(&s, &pe, &out), 0);
	CHECK_STR(jstr(cJSON_GetObjectItem(out, "team"), "id"), ta);
	CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "team"), "path") == NULL);
	perms = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "grants"), 0),
				    "permissions");
	CHECK_STR(cJSON_GetArrayItem(perms, 0)->valuestring, "self.read");
	cJSON_Delete(out);
	CHECK_EQ(account_password_change(&s, &pe, "wrong-password", "password-emp2", audit_rec, &a,
					 &sweep),
		 -EACCES);
	CHECK_EQ(account_password_change(&s, &pe, "password-emp", "password-emp2", audit_rec, &a,
					 &sweep),
		 0);
	CHECK_STR(a.action, "user.password");
	CHECK_STR(a.detail, "{\"sessions_revoked\":0}");
	CHECK_EQ(account_lookup(&s, "emp@x.example", &u), 0);
	CHECK_EQ(account_sign_in(&s, u, "password-emp", NULL, audit_rec, &a, &ses), -EACCES);
	CHECK_EQ(account_sign_in(&s, u, "password-emp2", NULL, audit_rec, &a, &ses), 0);
	crypto_wipe(ses.token, sizeof(ses.token));
	cJSON_Delete(u);
	/* a disable ends both sessions: the one above and the changing one */
	CHECK_EQ(org_user_set_disabled(&s, mgr, emp, ta, true, audit_rec, &a, &out, &sweep, &why),
		 0);
	CHECK_STR(a.action, "user.disable");
	CHECK_STR(a.detail, "{\"sessions_revoked\":2}");
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(out, "disabled")));
	cJSON_Delete(out);
	raw(st, STORE_T_TOKENS, pe.token_hash, SK_TOKEN, buf, sizeof(buf));
	CHECK_STR(buf, "");
	CHECK_EQ(account_lookup(&s, "emp@x.example", &u), 0);
	CHECK_EQ(account_sign_in(&s, u, "password-emp2", NULL, audit_rec, &a, &ses), -EACCES);
	CHECK_STR(ses.reason, "disabled");
	cJSON_Delete(u);
	CHECK_EQ(org_user_set_disabled(&s, mgr, emp, ta, false, audit_rec, &a, &out, &sweep, &why),
		 0);
	CHECK_STR(a.action, "user.enable");
	CHECK_STR(a.detail, "");
	cJSON_Delete(out);

	/* --- roles --- */
	{
		cJSON *p = cJSON_Parse("[\"audit.read\",\"activity.read\"]");

		CHECK_EQ(org_role_create(&s, admin, "admin", p, NULL, audit_rec, &a, &out, &why),
			 -EPERM);
		CHECK_STR(why.msg, "'admin' is a built-in role");

		CHECK_EQ(org_role_create(&s, admin, "aud", p, NULL, audit_rec, &a, &out, &why), 0);
		CHECK_STR(a.detail, "[\"activity.read\",\"audit.read\"]");
		CHECK(cJSON_IsFalse(cJSON_GetObjectItem(out, "builtin")));
		cJSON_Delete(out);
		CHECK_EQ(org_role_create(&s, admin, "aud", p, NULL, audit_rec, &a, &out, &why),
			 -EEXIST);
		CHECK(strstr(why.msg, "'aud' is taken") != NULL);
		cJSON_Delete(p);
		p = cJSON_Parse("[\"nope\"]");
		CHECK_EQ(org_role_create(&s, admin, "x", p, NULL, audit_rec, &a, &out, &why),
			 -EINVAL);
		CHECK_STR(why.msg, "unknown permission nope");
		cJSON_Delete(p);
	}
	CHECK_EQ(org_role_list(&s, NULL, &out), 0);
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(out, "roles")), 4);
	cJSON_Delete(out);
	CHECK_EQ(org_role_delete(&s, "manager", NULL, audit_rec, &a, &why), -EPERM);
	CHECK_EQ(org_role_delete(&s, "Bad", NULL, audit_rec, &a, &why), -ENOENT);
	CHECK_STR(why.msg, "role not found");
	CHECK_EQ(org_role_delete(&s, "aud", NULL, audit_rec, &a, &why), 0);
	CHECK_EQ(org_role_delete(&s, "aud", NULL, audit_rec, &a, &why), -ENOENT);
	CHECK_STR(why.msg, "");

	/* --- deletes --- */
	CHECK_EQ(org_node_delete_scope(&s, ROOT_ID, &tmp, &why), -EINVAL);
	CHECK_STR(why.msg, "the root cannot be deleted");
	CHECK_EQ(org_node_delete_scope(&s, biz, &tmp, &why), 0);
	CHECK_EQ(org_node_delete(&s, biz, &tmp, audit_rec, &a, &why), -EPERM);
	CHECK_STR(why.msg, "the first business cannot be deleted");
	CHECK_EQ(org_node_delete_scope(&s, prj, &tmp, &why), 0);
	CHECK_STR(tmp.path[tmp.depth - 1], dom);
	CHECK_EQ(org_node_delete(&s, prj, &tmp, audit_rec, &a, &why), -ENOTEMPTY);
	CHECK_STR(why.msg, "the node is not empty (children, users or devices)");
	CHECK_EQ(
	    org_grant_create(&s, &pa, emp, "manager", tb, &ttb, &tta, audit_rec, &a, &out, &why),
	    0);
	cJSON_Delete(out);
	CHECK_EQ(org_node_delete_scope(&s, tb, &tmp, &why), 0);
	CHECK_EQ(org_node_delete(&s, tb, &tmp, audit_rec, &a, &why), 0);
	CHECK_STR(a.action, "node.delete");
	CHECK_STR(a.node, prj);
	CHECK_STR(a.target, tb);
	raw(st, STORE_T_GRANTS, emp, key_grant_user_sk(&k, tb, "manager"), buf, sizeof(buf));
	CHECK_STR(buf, "");
	raw(st, STORE_T_NODES, prj, key_node_child(&k, tb), buf, sizeof(buf));
	CHECK_STR(buf, "");
	CHECK_EQ(org_node_get(&s, tb, &out), -ENOENT);

	/* the access review: every grant below the business, cut at max */
	{
		int all;

		CHECK_EQ(review_collect(&s, biz, REVIEW_MAX_ROWS, &out), 0);
		all = cJSON_GetArraySize(cJSON_GetObjectItem(out, "rows"));
		CHECK(all >= 3);
		CHECK(cJSON_IsFalse(cJSON_GetObjectItem(out, "truncated")));
		cJSON_Delete(out);
		CHECK_EQ(review_collect(&s, biz, (size_t)all - 1, &out), 0);
		CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(out, "rows")), all - 1);
		CHECK(cJSON_IsTrue(cJSON_GetObjectItem(out, "truncated")));
		cJSON_Delete(out);
		CHECK_EQ(review_collect(&s, biz, (size_t)all, &out), 0);
		CHECK(cJSON_IsFalse(cJSON_GetObjectItem(out, "truncated")));
		cJSON_Delete(out);
		CHECK_EQ(review_collect(&s, tb, 10, &out), -ENOENT);
	}

	srv_fini(&s);
	store_close(st);
	keyprov_free(kp);
	CHECK_EQ(check_rmtree(dir), 0);
}

int main(void)
{
	RUN(pure_rules);
	RUN(org_on_a_store);
	return CHECK_DONE();
}
