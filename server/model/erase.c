// SPDX-License-Identifier: BSD-2-Clause
/*
 * erase.c - the erasure of a user and their data, in steps (contracts and
 * the order of the work: model/erase.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/avatar.h"
#include "model/erase.h"
#include "model/retention.h"
#include "store/keys.h"

int erase_check(struct srv *s, const char *actor_id, const char *uid, const char *confirm,
		struct model_why *why)
{
	const char *email;
	cJSON *u = NULL;
	int ret;

	why_reset(why);
	if (!strcmp(actor_id, uid))
		return why_refuse(why, -EPERM, "you cannot erase yourself");
	ret = jget(s, STORE_T_USERS, uid, SK_USER, &u);
	if (ret)
		return why_fail(why, ret, "user");
	email = jstr(u, "email");
	if (!confirm || !email || strcasecmp(confirm, email))
		ret = why_refuse(why, -EINVAL,
				 "confirm must be the email address of the user to erase");
	cJSON_Delete(u);
	return ret;
}

/* Replace member k of o with v (owned by o after). */
static void jset(cJSON *o, const char *k, cJSON *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, k);
	cJSON_AddItemToObject(o, k, v);
}

/* Commit b when ret is 0, else abort it; b is gone after. 0 or -errno. */
static int batch_end(struct store_batch *b, int ret)
{
	if (ret < 0) {
		store_batch_abort(b);
		return ret;
	}
	return store_batch_commit(b);
}

/* --- ids of an index partition --- */

static int ids_add(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct erase_ids *l = ctx;

	(void)pk;
	(void)val;
	(void)len;
	if (strlen(sk) >= ID_SIZE || l->n >= l->max)
		return l->n >= l->max;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		char(*n)[ID_SIZE] = realloc(l->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		l->v = n;
		l->cap = cap;
	}
	strcpy(l->v[l->n++], sk);
	return 0;
}

/* The teams whose devices may hold u's records: its team, then
 * "teams_before" (model/org.h: org_user_move()). */
static int user_teams(const cJSON *u, struct erase_ids *teams)
{
	const cJSON *e;
	int ret;

	teams->max = ERASE_TEAMS_MAX + 1;
	ret = jstr(u, "team_id") ? ids_add("", jstr(u, "team_id"), NULL, 0, teams) : 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(u, "teams_before"))
	{
		if (ret < 0)
			break;
		if (cJSON_IsString(e) && id_valid(e->valuestring, ID_PREFIX_NODE))
			ret = ids_add("", e->valuestring, NULL, 0, teams);
	}
	return ret < 0 ? ret : 0;
}

/* The devices of teams into devs. 0 or -errno. */
static int team_devices(struct srv *s, const struct erase_ids *teams, struct erase_ids *devs)
{
	struct key pk;
	size_t i;
	int ret = 0;

	devs->max = ERASE_DEVICES_MAX * (teams->n ? teams->n : 1);
	for (i = 0; ret >= 0 && i < teams->n; i++)
		ret = store_query(s->st, STORE_T_DEVICES, key_team_index(&pk, teams->v[i]), NULL,
				  NULL, ERASE_DEVICES_MAX, 0, ids_add, devs);
	return ret < 0 ? ret : 0;
}

int erase_user_devices(struct srv *s, const cJSON *u, struct erase_ids *devs)
{
	struct erase_ids teams = {0};
	int ret = user_teams(u, &teams);

	ret = ret ? ret : team_devices(s, &teams, devs);
	free(teams.v);
	return ret;
}

/* Whether device item d names uid: as its owner, or in users_seen. */
static bool device_names(const cJSON *d, const char *uid)
{
	const char *owner = jstr(d, "owner_id");
	const cJSON *e;

	if (owner && !strcmp(owner, uid))
		return true;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(d, "users_seen"))
	{
		const char *id = jstr(e, "user_id");

		if (id && !strcmp(id, uid))
			return true;
	}
	return false;
}

/* Devices of devs that name uid lose it: their owner (records then map to
 * nobody rather than to a user being erased) and their users_seen entry.
 * 0 or -errno. */
static int devices_forget(struct srv *s, const struct erase_ids *devs, const char *uid)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < devs->n; i++) {
		struct store_batch *b;
		cJSON *d = NULL, *us;
		const char *owner;
		int j;

		ret = store_batch_begin(s->st, &b);
		if (ret)
			break;
		ret = jbget(b, STORE_T_DEVICES, devs->v[i], SK_DEVICE, &d);
		if (ret || !device_names(d, uid)) {
			store_batch_abort(b);
			cJSON_Delete(d);
			ret = ret == -ENOENT ? 0 : ret;
			continue;
		}
		owner = jstr(d, "owner_id");
		if (owner && !strcmp(owner, uid))
			cJSON_DeleteItemFromObjectCaseSensitive(d, "owner_id");
		us = cJSON_GetObjectItemCaseSensitive(d, "users_seen");
		for (j = cJSON_GetArraySize(us) - 1; j >= 0; j--) {
			const char *id = jstr(cJSON_GetArrayItem(us, j), "user_id");

			if (id && !strcmp(id, uid))
				cJSON_DeleteItemFromArray(us, j);
		}
		ret = batch_end(
		    b, jput(b, STORE_T_DEVICES, devs->v[i], SK_DEVICE, d, STORE_IF_EXISTS));
		cJSON_Delete(d);
		ret = ret == -ENOENT ? 0 : ret;
	}
	return ret;
}

/* The first step: mark uid erasing (disabled, sessions ended). 0 or -errno. */
static int mark_erasing(struct srv *s, const char *uid)
{
	struct store_batch *b;
	cJSON *u = NULL, *c;
	int ret = store_batch_begin(s->st, &b);

	if (ret)
		return ret;
	ret = jbget(b, STORE_T_USERS, uid, SK_USER, &u);
	if (ret || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "erasing"))) {
		store_batch_abort(b);
		cJSON_Delete(u);
		return ret;
	}
	jset(u, "erasing", cJSON_CreateTrue());
	jset(u, "disabled", cJSON_CreateTrue());
	jset(u, "sessions_after", cJSON_CreateNumber((double)now_ms()));
	c = cJSON_CreateObject();
	cJSON_AddNumberToObject(c, "records", 0);
	cJSON_AddNumberToObject(c, "rollups", 0);
	cJSON_AddNumberToObject(c, "screenshots", 0);
	jset(u, "erased", c);
	ret = user_tokens_revoke(s, b, uid, NULL);
	ret = ret < 0 ? ret : jput(b, STORE_T_USERS, uid, SK_USER, u, STORE_IF_EXISTS);
	ret = batch_end(b, ret);
	if (!ret && (ret = user_tokens_sweep(s, uid, NULL)) > 0)
		ret = 0;
	cJSON_Delete(u);
	return ret;
}

/* Add this step's counts to the user item's "erased"; the totals into t.
 * 0 or -errno. */
static int note_counts(struct srv *s, const char *uid, const struct retention_erase *e, double t[3])
{
	static const char *const k[3] = {"records", "rollups", "screenshots"};
	const double add[3] = {(double)e->records, (double)e->rollups, (double)e->shots};
	struct store_batch *b;
	cJSON *u = NULL, *c;
	int i, ret = store_batch_begin(s->st, &b);

	if (ret)
		return ret;
	ret = jbget(b, STORE_T_USERS, uid, SK_USER, &u);
	if (!ret) {
		c = cJSON_GetObjectItemCaseSensitive(u, "erased");
		if (!cJSON_IsObject(c)) {
			c = cJSON_CreateObject();
			jset(u, "erased", c);
		}
		for (i = 0; i < 3; i++) {
			t[i] = (double)jint(c, k[i], 0) + add[i];
			jset(c, k[i], cJSON_CreateNumber(t[i]));
		}
		ret = jput(b, STORE_T_USERS, uid, SK_USER, u, STORE_IF_EXISTS);
	}
	ret = batch_end(b, ret);
	cJSON_Delete(u);
	return ret;
}

/* Queue the deletes of every item of partition pk of table t into b;
 * with idx, each item's value names an index partner (personal tokens:
 * TOKENS pk its "hash" sk "token"). The number of items, or -errno. */
struct del_ctx {
	struct store_batch *b;
	enum store_table t;
	bool ptok;
	int n;
};

static int del_each(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct del_ctx *c = ctx;
	int ret = store_batch_delete(c->b, c->t, pk, sk, 0);

	if (!ret && c->ptok) {
		cJSON *e = cJSON_ParseWithLength(val, len);
		const char *h = jstr(e, "hash");

		if (h && strlen(h) == TOKEN_HASH_LEN)
			ret = store_batch_delete(c->b, STORE_T_TOKENS, h, SK_TOKEN, 0);
		cJSON_Delete(e);
	}
	c->n++;
	return ret;
}

/* A grant's two items: the user's "<node>|<role>" and the node's. */
static int del_grant(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct del_ctx *c = ctx;
	const char *bar = strchr(sk, '|');
	char node[ID_SIZE];
	struct key npk, nsk;
	int ret;

	(void)val;
	(void)len;
	ret = store_batch_delete(c->b, STORE_T_GRANTS, pk, sk, 0);
	if (!ret && bar && (size_t)(bar - sk) < ID_SIZE) {
		memcpy(node, sk, (size_t)(bar - sk));
		node[bar - sk] = 0;
		ret = store_batch_delete(c->b, STORE_T_GRANTS, key_grant_node_pk(&npk, node),
					 key_grant_node_sk(&nsk, pk, bar + 1), 0);
	}
	c->n++;
	return ret;
}

static int avatar_no_audit(struct store_batch *b, const cJSON *detail, void *ctx)
{
	(void)b;
	(void)detail;
	(void)ctx;
	return 0;
}

/* The last step: the picture, then every item of the account in one batch
 * with the audit entry. 0 or -errno (why set). */
static int erase_account(struct srv *s, const char *actor_id, const char *uid, const double t[3],
			 org_audit_fn audit, void *actx, struct model_why *why)
{
	struct del_ctx g = {0}, tk = {0};
	struct store_batch *b;
	struct key k;
	cJSON *u = NULL, *av = NULL, *d;
	const char *team, *email;
	int ret;

	ret = avatar_item(s, uid, &av, why);
	if (!ret) {
		ret = avatar_delete(s, uid, av, actor_id, avatar_no_audit, NULL, why);
		cJSON_Delete(av);
	}
	if (ret && ret != -ENOENT)
		return ret;
	why_reset(why);
	ret = store_batch_begin(s->st, &b);
	if (ret)
		return why_fail(why, ret, "user");
	ret = jbget(b, STORE_T_USERS, uid, SK_USER, &u);
	team = jstr(u, "team_id");
	email = jstr(u, "email");
	g = (struct del_ctx){b, STORE_T_GRANTS, false, 0};
	if (!ret)
		ret = store_query(s->st, STORE_T_GRANTS, uid, NULL, NULL, 0, 0, del_grant, &g);
	tk = (struct del_ctx){b, STORE_T_TOKENS, true, 0};
	if (ret >= 0)
		ret = store_query(s->st, STORE_T_TOKENS, key_user_ptokens(&k, uid), NULL, NULL, 0,
				  0, del_each, &tk);
	if (ret >= 0)
		ret = user_tokens_revoke(s, b, uid, NULL);
	if (ret >= 0) {
		tk.n += ret;
		key_scope(&k, "user", uid);
		ret = store_batch_delete(b, STORE_T_CONFIG, k.s, SK_CONFIG, 0);
		ret = ret ? ret : store_batch_delete(b, STORE_T_CONFIG, k.s, SK_CONFIG_LOGGING, 0);
		ret = ret ? ret : store_batch_delete(b, STORE_T_KEYS, k.s, SK_DEK, 0);
	}
	if (!ret && email)
		ret = store_batch_delete(b, STORE_T_EMAILS, email, SK_USER, 0);
	if (!ret && team)
		ret = store_batch_delete(b, STORE_T_USERS, key_team_index(&k, team), uid, 0);
	if (!ret)
		ret = store_batch_delete(b, STORE_T_USERS, uid, SK_AVATAR, 0);
	if (!ret)
		ret = store_batch_delete(b, STORE_T_USERS, uid, SK_AVATAR_S3, 0);
	if (!ret)
		ret = store_batch_delete(b, STORE_T_USERS, uid, SK_USER, 0);
	if (!ret) {
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "user_id", uid);
		cJSON_AddNumberToObject(d, "records", t[0]);
		cJSON_AddNumberToObject(d, "rollups", t[1]);
		cJSON_AddNumberToObject(d, "screenshots", t[2]);
		cJSON_AddNumberToObject(d, "grants", g.n);
		cJSON_AddNumberToObject(d, "tokens", tk.n);
		ret = audit(b, "user.erase", team, uid, d, actx);
		cJSON_Delete(d);
	}
	ret = batch_end(b, ret);
	cJSON_Delete(u);
	return ret ? why_fail(why, ret, "user") : 0;
}

int erase_step(struct srv *s, const char *actor_id, const char *uid, org_audit_fn audit, void *actx,
	       cJSON **out, struct model_why *why)
{
	struct retention_erase e = {.budget = ERASE_STEP_ITEMS};
	struct erase_ids devs = {0};
	double t[3] = {0};
	struct key pk;
	cJSON *u = NULL, *er;
	size_t i;
	int ret;

	why_reset(why);
	*out = NULL;
	ret = mark_erasing(s, uid);
	ret = ret ? ret : jget(s, STORE_T_USERS, uid, SK_USER, &u);
	ret = ret ? ret : erase_user_devices(s, u, &devs);
	ret = ret ? ret : devices_forget(s, &devs, uid);
	if (!ret)
		ret = retention_erase(s, STORE_T_ROLLUPS, key_days_of(&pk, "user", uid), NULL, &e);
	if (!ret && e.budget)
		ret = retention_erase(s, STORE_T_SCREENSHOTS, key_days_of(&pk, "user", uid), NULL,
				      &e);
	for (i = 0; !ret && e.budget && i < devs.n; i++)
		ret =
		    retention_erase(s, STORE_T_RECORDS, key_days_of(&pk, NULL, devs.v[i]), uid, &e);
	if (!ret && !e.budget)
		e.more = true;
	ret = ret ? ret : note_counts(s, uid, &e, t);
	if (!ret && !e.more && !e.s3_errors)
		ret = erase_account(s, actor_id, uid, t, audit, actx, why);
	else if (ret)
		why_fail(why, ret, "user");
	if (!ret) {
		*out = cJSON_CreateObject();
		cJSON_AddBoolToObject(*out, "done", !e.more && !e.s3_errors);
		er = cJSON_AddObjectToObject(*out, "erased");
		cJSON_AddNumberToObject(er, "records", t[0]);
		cJSON_AddNumberToObject(er, "rollups", t[1]);
		cJSON_AddNumberToObject(er, "screenshots", t[2]);
		cJSON_AddNumberToObject(er, "s3_errors", (double)e.s3_errors);
	}
	free(devs.v);
	cJSON_Delete(u);
	return ret;
}
