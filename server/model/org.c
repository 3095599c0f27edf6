// SPDX-License-Identifier: BSD-2-Clause
/*
 * org.c - the organisation's writers (contracts: model/org.h; layout:
 * store/keys.h).
 */
#include <errno.h>
#include <string.h>

#include "model/org.h"
#include "store/keys.h"
#include "util.h"

/* Put j (freed here) at (t, pk, sk) IF_ABSENT. */
static int put_own(struct store_batch *b, enum store_table t, const char *pk, const char *sk,
		   cJSON *j)
{
	int ret = j ? jput(b, t, pk, sk, j, STORE_IF_ABSENT) : -ENOMEM;

	cJSON_Delete(j);
	if (ret == -ENOMEM && !j)
		store_batch_put(b, t, "", "", NULL, 0, 0); /* fail the batch */
	return ret;
}

int org_node_add(struct store_batch *b, const char *id, const char *type, const char *name,
		 const struct target *pt, int64_t now, cJSON **out)
{
	const char *parent = pt->depth ? pt->path[pt->depth - 1] : ROOT_ID;
	cJSON *node = cJSON_CreateObject(), *path, *c;
	char ts[RFC3339_LEN];
	struct key sk;
	size_t i;
	int ret;

	if (out)
		*out = NULL;
	if (!node)
		return put_own(b, STORE_T_NODES, "", "", NULL);
	cJSON_AddStringToObject(node, "id", id);
	cJSON_AddStringToObject(node, "type", type);
	cJSON_AddStringToObject(node, "name", name);
	cJSON_AddStringToObject(node, "parent_id", parent);
	path = cJSON_AddArrayToObject(node, "path");
	for (i = 0; i < pt->depth; i++)
		cJSON_AddItemToArray(path, cJSON_CreateString(pt->path[i]));
	cJSON_AddItemToArray(path, cJSON_CreateString(id));
	cJSON_AddStringToObject(node, "created", rfc3339_ms(now, ts));
	ret = jput(b, STORE_T_NODES, id, SK_NODE, node, STORE_IF_ABSENT);
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "id", id);
	cJSON_AddStringToObject(c, "type", type);
	cJSON_AddStringToObject(c, "name", name);
	if (!ret)
		ret = put_own(b, STORE_T_NODES, parent, key_node_child(&sk, id), c);
	else
		cJSON_Delete(c);
	/* the parent must still be there at commit, and a delete of it racing
	 * this commit must fail */
	if (!ret)
		ret = node_touch(b, parent);
	if (!ret && out)
		*out = node;
	else
		cJSON_Delete(node);
	return ret;
}

int org_user_add(struct store_batch *b, const struct org_user_new *n, int64_t now, cJSON **out)
{
	cJSON *u = cJSON_CreateObject(), *x;
	char ts[RFC3339_LEN];
	struct key k;
	int ret;

	if (out)
		*out = NULL;
	if (!u)
		return put_own(b, STORE_T_USERS, "", "", NULL);
	rfc3339_ms(now, ts);
	/* the team must still be there at commit, and a delete racing this
	 * commit must fail: node_touch() reads and bumps it */
	ret = node_touch(b, n->team_id);
	cJSON_AddStringToObject(u, "id", n->id);
	cJSON_AddStringToObject(u, "email", n->email);
	cJSON_AddStringToObject(u, "name", n->name);
	cJSON_AddStringToObject(u, "login", n->login);
	cJSON_AddStringToObject(u, "team_id", n->team_id);
	cJSON_AddStringToObject(u, "pw", n->pw_hash);
	cJSON_AddFalseToObject(u, "disabled");
	cJSON_AddStringToObject(u, "created", ts);
	if (!ret)
		ret = jput(b, STORE_T_USERS, n->id, SK_USER, u, STORE_IF_ABSENT);
	if (!ret) {
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "user_id", n->id);
		ret = put_own(b, STORE_T_EMAILS, n->email, SK_USER, x);
	}
	if (!ret) {
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "id", n->id);
		ret = put_own(b, STORE_T_USERS, key_team_index(&k, n->team_id), n->id, x);
	}
	if (!ret)
		ret = org_grant_add(b, n->id, n->team_id, "employee", "", n->by, now, NULL);
	if (!ret && out)
		*out = u;
	else
		cJSON_Delete(u);
	return ret;
}

int org_grant_add(struct store_batch *b, const char *uid, const char *node_id, const char *role,
		  const char *role_id, const char *by, int64_t now, cJSON **out)
{
	cJSON *g = cJSON_CreateObject();
	char ts[RFC3339_LEN];
	struct key pk, sk;
	int ret;

	if (out)
		*out = NULL;
	if (!g)
		return put_own(b, STORE_T_GRANTS, "", "", NULL);
	cJSON_AddStringToObject(g, "user_id", uid);
	cJSON_AddStringToObject(g, "node_id", node_id);
	cJSON_AddStringToObject(g, "role", role);
	if (role_id && role_id[0])
		cJSON_AddStringToObject(g, "role_id", role_id);
	cJSON_AddStringToObject(g, "by", by);
	cJSON_AddStringToObject(g, "at", rfc3339_ms(now, ts));
	ret =
	    jput(b, STORE_T_GRANTS, uid, key_grant_user_sk(&sk, node_id, role), g, STORE_IF_ABSENT);
	if (!ret)
		ret = put_own(b, STORE_T_GRANTS, key_grant_node_pk(&pk, node_id),
			      key_grant_node_sk(&sk, uid, role), cJSON_CreateObject());
	if (!ret && out)
		*out = g;
	else
		cJSON_Delete(g);
	return ret;
}

int org_device_token_add(struct store_batch *b, const char *device_id, const char *token_hash)
{
	cJSON *tok = cJSON_CreateObject();

	if (tok) {
		cJSON_AddStringToObject(tok, "kind", "device");
		cJSON_AddStringToObject(tok, "id", device_id);
		cJSON_AddNumberToObject(tok, "exp", 0);
	}
	return put_own(b, STORE_T_TOKENS, token_hash, SK_TOKEN, tok);
}

int org_device_add(struct store_batch *b, const struct org_device_new *n, int64_t now)
{
	cJSON *d = cJSON_CreateObject(), *idx;
	struct key k;
	int ret;

	if (d) {
		cJSON_AddStringToObject(d, "id", n->id);
		cJSON_AddStringToObject(d, "team_id", n->team_id);
		cJSON_AddStringToObject(d, "host_id", n->host_id);
		cJSON_AddStringToObject(d, "hostname", n->hostname);
		cJSON_AddStringToObject(d, "agent_version", n->agent_version);
		if (n->owner_id)
			cJSON_AddStringToObject(d, "owner_id", n->owner_id);
		else
			cJSON_AddNullToObject(d, "owner_id");
		cJSON_AddNumberToObject(d, "enrolled_at", (double)now);
		cJSON_AddFalseToObject(d, "revoked");
		cJSON_AddBoolToObject(d, "pending", n->pending);
		cJSON_AddNumberToObject(d, "last_seen", 0);
		cJSON_AddStringToObject(d, "token", n->token_hash);
	}
	ret = put_own(b, STORE_T_DEVICES, n->id, SK_DEVICE, d);
	if (!ret) {
		idx = cJSON_CreateObject();
		cJSON_AddStringToObject(idx, "id", n->id);
		ret = put_own(b, STORE_T_DEVICES, key_team_index(&k, n->team_id), n->id, idx);
	}
	if (!ret && !n->pending) {
		idx = cJSON_CreateObject();
		cJSON_AddStringToObject(idx, "device_id", n->id);
		ret = put_own(b, STORE_T_DEVICES, key_device_host(&k, n->team_id, n->host_id),
			      SK_DEVICE, idx);
	}
	if (!ret)
		ret = org_device_token_add(b, n->id, n->token_hash);
	return ret;
}
