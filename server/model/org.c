// SPDX-License-Identifier: BSD-2-Clause
/*
 * org.c - the organisation: its writers, and the rules and reads of its
 * routes (contracts and rules: model/org.h; layout: store/keys.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tz.h"
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
		ret = org_grant_add(b, n->id, n->team_id, "employee", "", n->by, NULL, now, NULL);
	if (!ret && out)
		*out = u;
	else
		cJSON_Delete(u);
	return ret;
}

int org_grant_add(struct store_batch *b, const char *uid, const char *node_id, const char *role,
		  const char *role_id, const char *by, const char *by_login, int64_t now,
		  cJSON **out)
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
	if (by_login && by_login[0])
		cJSON_AddStringToObject(g, "by_login", by_login);
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

/* --- the rules and reads --- */

/* A store_query callback that only counts. */
static int count_fn(const char *pk, const char *sk, const void *v, size_t l, void *ctx)
{
	(void)pk;
	(void)sk;
	(void)v;
	(void)l;
	(void)ctx;
	return 0;
}

/* Replace member k of o with v (owned by o after). */
static void jset(cJSON *o, const char *k, cJSON *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, k);
	cJSON_AddItemToObject(o, k, v);
}

/* Hash pw holding one of the Argon2id slots: 0, -EAGAIN (no slot in time),
 * or password_hash()'s error. */
static int hash_slot(struct srv *s, const char *pw, char out[PASSWORD_HASH_SIZE])
{
	int ret = pw_slot_take(s);

	if (ret)
		return -EAGAIN;
	ret = password_hash(pw, out);
	pw_slot_put(s);
	return ret;
}

static bool password_len_ok(const char *pw)
{
	size_t n = strlen(pw);

	return n >= PASSWORD_MIN_LEN && n <= PASSWORD_MAX;
}

cJSON *org_perm_names(uint32_t perms)
{
	cJSON *a = cJSON_CreateArray();
	unsigned bit;

	for (bit = 0; a && bit < PERMB__COUNT; bit++)
		if (perms & (1u << bit))
			cJSON_AddItemToArray(a, cJSON_CreateString(perm_name(1u << bit)));
	return a;
}

/* --- nodes --- */

int org_node_place(struct srv *s, const char *type, const char *parent_id, struct model_why *why)
{
	int t = node_type_parse(type), ptype = 0, ret;
	cJSON *pnode = NULL;

	why_reset(why);
	if (!t)
		return why_refuse(why, -EINVAL, "type must be business, domain, project or team");
	if (strcmp(parent_id, ROOT_ID)) {
		ret = node_get(s, parent_id, &pnode);
		if (ret)
			return why_fail(why, ret, "parent node");
		ptype = node_type_parse(jstr(pnode, "type"));
		cJSON_Delete(pnode);
	}
	if (ptype != t - 1)
		return why_refuse(why, -EINVAL, "a %s goes under %s, not under %s", type,
				  t == 1 ? "the root (no parent_id)" : node_type_name(t - 1),
				  ptype ? node_type_name(ptype) : "the root");
	return 0;
}

int org_node_create(struct srv *s, const char *type, const char *name, const struct target *pt,
		    org_audit_fn audit, void *actx, cJSON **node)
{
	struct store_batch *b;
	char id[ID_SIZE];
	int ret;

	*node = NULL;
	id_new(ID_PREFIX_NODE, id);
	ret = store_batch_begin(s->st, &b);
	if (ret)
		return ret;
	ret = org_node_add(b, id, type, name, pt, now_ms(), node);
	if (!ret)
		ret = audit(b, "node.create", id, id, NULL, actx);
	if (ret)
		store_batch_abort(b);
	else
		ret = store_batch_commit(b);
	if (ret) {
		cJSON_Delete(*node);
		*node = NULL;
	}
	return ret;
}

int org_node_get(struct srv *s, const char *id, cJSON **out)
{
	cJSON *n;

	if (strcmp(id, ROOT_ID))
		return node_get(s, id, out);
	*out = n = cJSON_CreateObject();
	if (!n)
		return -ENOMEM;
	cJSON_AddStringToObject(n, "id", ROOT_ID);
	cJSON_AddStringToObject(n, "type", "root");
	cJSON_AddStringToObject(n, "name", "root");
	return 0;
}

struct child_list {
	const struct principal *p;
	const struct target *parent; /* a child's path is the parent's plus its id */
	bool all;		     /* the parent is readable: every child is */
	cJSON *arr;
	size_t n;
	/* the paths of the nodes the caller holds node.read on: a child on one
	 * of them leads to what the caller may read, so it is listed */
	struct target *granted;
	size_t n_granted;
};

/* 1 when id is on the path to one of the caller's granted nodes. */
static bool leads_to_grant(const struct child_list *c, const char *id)
{
	size_t i, j;

	for (i = 0; i < c->n_granted; i++)
		for (j = 0; j < c->granted[i].depth; j++)
			if (!strcmp(c->granted[i].path[j], id))
				return true;
	return false;
}

static int child_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	const char *id = sk + strlen(SK_CHILD_PREFIX);
	struct child_list *c = ctx;
	struct target t;
	cJSON *e;

	(void)pk;
	if (!c->all) {
		if (c->parent->depth >= TREE_DEPTH || strlen(id) >= ID_SIZE)
			return 0;
		t = *c->parent;
		strcpy(t.path[t.depth++], id);
		if (authorize(c->p, PERM_NODE_READ, &t) && !leads_to_grant(c, id))
			return 0;
	}
	e = cJSON_ParseWithLength(val, len);
	if (!e)
		return 0;
	cJSON_AddItemToArray(c->arr, e);
	return ++c->n >= LIST_MAX;
}

int org_node_children(struct srv *s, const struct principal *p, const char *id,
		      const struct target *t, cJSON **out, struct model_why *why)
{
	struct child_list c = {.p = p, .parent = t, .all = !authorize(p, PERM_NODE_READ, t)};
	size_t i;
	int ret;

	why_reset(why);
	*out = cJSON_CreateObject();
	c.arr = cJSON_AddArrayToObject(*out, "children");
	if (!c.arr) {
		cJSON_Delete(*out);
		*out = NULL;
		return why_fail(why, -ENOMEM, "node");
	}
	if (!c.all && p->n_grants) {
		c.granted = calloc(p->n_grants, sizeof(*c.granted));
		if (!c.granted) {
			cJSON_Delete(*out);
			*out = NULL;
			return why_fail(why, -ENOMEM, "node");
		}
		for (i = 0; i < p->n_grants; i++)
			if (p->g[i].perms & PERM_NODE_READ &&
			    !target_node(s, p->g[i].node_id, &c.granted[c.n_granted]))
				c.n_granted++;
	}
	ret = store_query(s->st, STORE_T_NODES, id, SK_CHILD_PREFIX, NULL, 0, STORE_PREFIX,
			  child_item, &c);
	free(c.granted);
	if (ret < 0) {
		cJSON_Delete(*out);
		*out = NULL;
		return why_fail(why, ret, "node");
	}
	/* a node one can neither read nor see below is none of one's business */
	if (!c.all && !c.n) {
		cJSON_Delete(*out);
		*out = NULL;
		return why_refuse(why, -EACCES, "forbidden: needs node.read here");
	}
	return 0;
}

int org_node_changeable(const char *id, const char *done, struct model_why *why)
{
	why_reset(why);
	if (!strcmp(id, ROOT_ID))
		return why_refuse(why, -EINVAL, "the root cannot be %s", done);
	return 0;
}

int org_node_rename(struct srv *s, const char *id, const char *name, org_audit_fn audit, void *actx,
		    cJSON **node)
{
	const char *parent = NULL;
	struct store_batch *b;
	cJSON *n = NULL, *c;
	struct key sk;
	int ret;

	*node = NULL;
	ret = store_batch_begin(s->st, &b);
	if (ret)
		return ret;
	ret = jbget(b, STORE_T_NODES, id, SK_NODE, &n);
	if (!ret && !(parent = jstr(n, "parent_id")))
		ret = -EIO;
	if (!ret) {
		cJSON_ReplaceItemInObjectCaseSensitive(n, "name", cJSON_CreateString(name));
		ret = jput(b, STORE_T_NODES, id, SK_NODE, n, STORE_IF_EXISTS);
	}
	if (!ret) {
		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "id", id);
		cJSON_AddStringToObject(c, "type", jstr(n, "type"));
		cJSON_AddStringToObject(c, "name", name);
		ret =
		    c ? jput(b, STORE_T_NODES, parent, key_node_child(&sk, id), c, STORE_IF_EXISTS)
		      : -ENOMEM;
		cJSON_Delete(c);
	}
	if (!ret)
		ret = audit(b, "node.rename", id, id, NULL, actx);
	if (ret)
		store_batch_abort(b);
	else
		ret = store_batch_commit(b);
	if (ret)
		cJSON_Delete(n);
	else
		*node = n;
	return ret;
}

int org_node_delete_scope(struct srv *s, const char *id, struct target *pt, struct model_why *why)
{
	const char *parent;
	cJSON *n;
	int ret = org_node_changeable(id, "deleted", why);

	if (ret)
		return ret;
	ret = node_get(s, id, &n);
	if (ret)
		return why_fail(why, ret, "node");
	parent = jstr(n, "parent_id");
	if (!parent || target_node(s, parent, pt))
		ret = -EIO;
	cJSON_Delete(n);
	return ret ? why_fail(why, ret, "node") : 0;
}

/* The grants held on a node: both items of each go. */
struct grant_del {
	struct store_batch *b;
	const char *node_id;
};

/* An item of GRANTS pk "node|<node>", sk "<user>|<role>". */
static int grant_del_item(const char *pk, const char *sk, const void *v, size_t l, void *ctx)
{
	struct grant_del *g = ctx;
	const char *bar = strchr(sk, '|');
	char uid[ID_SIZE];
	struct key usk;

	(void)v;
	(void)l;
	if (!bar || (size_t)(bar - sk) >= sizeof(uid))
		return 0;
	memcpy(uid, sk, (size_t)(bar - sk));
	uid[bar - sk] = 0;
	store_batch_delete(g->b, STORE_T_GRANTS, uid, key_grant_user_sk(&usk, g->node_id, bar + 1),
			   0);
	store_batch_delete(g->b, STORE_T_GRANTS, pk, sk, 0);
	return 0;
}

int org_node_delete(struct srv *s, const char *id, const struct target *pt, org_audit_fn audit,
		    void *actx, struct model_why *why)
{
	const char *parent = pt->path[pt->depth - 1];
	struct grant_del g;
	struct store_batch *b;
	struct key pk, sk;
	cJSON *again = NULL;
	int ret;

	why_reset(why);
	if (!strcmp(id, s->business_id))
		return why_refuse(why, -EPERM, "the first business cannot be deleted");
	ret = store_batch_begin(s->st, &b);
	if (ret)
		return why_fail(why, ret, "node");
	/* read the node in the batch before looking below it: whatever adds a
	 * child, user or device bumps the node (node_touch), so one that
	 * commits after this read makes the delete fail (-EAGAIN) */
	ret = jbget(b, STORE_T_NODES, id, SK_NODE, &again);
	cJSON_Delete(again);
	if (ret) {
		store_batch_abort(b);
		return why_fail(why, ret, "node");
	}
	key_team_index(&pk, id);
	if (store_query(s->st, STORE_T_NODES, id, SK_CHILD_PREFIX, NULL, 1, STORE_PREFIX, count_fn,
			NULL) > 0 ||
	    store_query(s->st, STORE_T_USERS, pk.s, NULL, NULL, 1, 0, count_fn, NULL) > 0 ||
	    store_query(s->st, STORE_T_DEVICES, pk.s, NULL, NULL, 1, 0, count_fn, NULL) > 0) {
		store_batch_abort(b);
		return why_refuse(why, -ENOTEMPTY,
				  "the node is not empty (children, users or devices)");
	}
	store_batch_delete(b, STORE_T_NODES, id, SK_NODE, STORE_IF_EXISTS);
	store_batch_delete(b, STORE_T_NODES, parent, key_node_child(&sk, id), 0);
	g = (struct grant_del){b, id};
	store_query(s->st, STORE_T_GRANTS, key_grant_node_pk(&pk, id), NULL, NULL, 0, 0,
		    grant_del_item, &g);
	key_scope(&pk, "node", id);
	store_batch_delete(b, STORE_T_CONFIG, pk.s, SK_CONFIG, 0);
	store_batch_delete(b, STORE_T_CONFIG, pk.s, SK_CONFIG_LOGGING, 0);
	store_batch_delete(b, STORE_T_KEYS, pk.s, SK_DEK, 0);
	ret = audit(b, "node.delete", parent, id, NULL, actx);
	if (ret)
		store_batch_abort(b);
	else
		ret = store_batch_commit(b);
	return ret ? why_fail(why, ret, "node") : 0;
}

/* --- users --- */

bool org_login_valid(const char *l)
{
	size_t n = strlen(l), i;

	if (!n || n > 32 || !(islower((unsigned char)l[0]) || l[0] == '_'))
		return false;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)l[i]) || isdigit((unsigned char)l[i]) || l[i] == '_' ||
		      l[i] == '-' || l[i] == '.'))
			return false;
	return true;
}

bool org_user_login(const cJSON *u, char out[LOGIN_MAX_LEN + 1])
{
	const char *login = jstr(u, "login"), *email = jstr(u, "email"), *at;

	out[0] = 0;
	if (login && *login && strlen(login) <= LOGIN_MAX_LEN) {
		strcpy(out, login);
		return true;
	}
	at = email ? strchr(email, '@') : NULL;
	if (!at || at == email || (size_t)(at - email) > LOGIN_MAX_LEN)
		return false;
	snprintf(out, LOGIN_MAX_LEN + 1, "%.*s", (int)(at - email), email);
	return true;
}

struct login_find {
	char (*ids)[ID_SIZE];
	size_t n;
};

static int login_find_id(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct login_find *f = ctx;

	(void)pk;
	(void)val;
	(void)len;
	if (strlen(sk) < ID_SIZE)
		strcpy(f->ids[f->n++], sk);
	return 0;
}

int org_team_login_user(struct srv *s, const char *team_id, const char *login, char uid[ID_SIZE],
			struct model_why *why)
{
	struct login_find f = {0};
	char lg[LOGIN_MAX_LEN + 1];
	struct key pk;
	size_t i;
	int ret;

	why_reset(why);
	uid[0] = 0;
	if (!team_id || !*team_id || !login || !*login || strlen(login) > LOGIN_MAX_LEN)
		return -ENOENT;
	f.ids = calloc(ORG_TEAM_USERS_MAX, sizeof(*f.ids));
	if (!f.ids)
		return -ENOMEM;
	ret = store_query(s->st, STORE_T_USERS, key_team_index(&pk, team_id), NULL, NULL,
			  ORG_TEAM_USERS_MAX, 0, login_find_id, &f);
	/* the index lists users in id order: the first match wins */
	for (i = 0; ret >= 0 && i < f.n; i++) {
		cJSON *u;

		ret = jget(s, STORE_T_USERS, f.ids[i], SK_USER, &u);
		if (ret == -ENOENT) {
			ret = 0;
			continue;
		}
		if (ret)
			break;
		if (org_user_login(u, lg) && !strcmp(lg, login) &&
		    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "erasing"))) {
			strcpy(uid, f.ids[i]);
			cJSON_Delete(u);
			break;
		}
		cJSON_Delete(u);
	}
	free(f.ids);
	if (ret < 0)
		return why_fail(why, ret, "user");
	return uid[0] ? 0 : -ENOENT;
}

int org_user_check(struct org_user_req *r, struct model_why *why)
{
	why_reset(why);
	if (email_norm(r->email, r->em))
		return why_refuse(why, -EINVAL, "'%s' is not an email address", r->email);
	if (!password_len_ok(r->password))
		return why_refuse(why, -EINVAL, "password must be %d..%d bytes", PASSWORD_MIN_LEN,
				  PASSWORD_MAX);
	if (!r->login) {
		snprintf(r->lg, sizeof(r->lg), "%.*s", (int)(strchr(r->em, '@') - r->em), r->em);
		r->login = r->lg;
	}
	if (!org_login_valid(r->login))
		return why_refuse(why, -EINVAL,
				  "login must be a Linux user name: 1..32 of [a-z0-9_.-], starting "
				  "with a letter or _");
	return 0;
}

int org_user_create(struct srv *s, const struct org_user_req *r, const char *by, org_audit_fn audit,
		    void *actx, cJSON **view, struct model_why *why)
{
	char id[ID_SIZE], hash[PASSWORD_HASH_SIZE];
	struct store_batch *b;
	cJSON *tn = NULL, *u = NULL;
	int ret;

	why_reset(why);
	*view = NULL;
	ret = node_get(s, r->team_id, &tn);
	if (ret || node_type_parse(jstr(tn, "type")) != 4) {
		cJSON_Delete(tn);
		return why_refuse(why, -EINVAL, "team_id must name a team");
	}
	cJSON_Delete(tn);
	hash[0] = 0;
	ret = hash_slot(s, r->password, hash);
	if (ret)
		return why_fail(why, ret, "user");
	id_new(ID_PREFIX_USER, id);
	ret = store_batch_begin(s->st, &b);
	if (ret) {
		why_fail(why, ret, "user");
		goto done;
	}
	{
		const struct org_user_new nu = {id, r->em, r->name, r->login, r->team_id, hash, by};

		ret = org_user_add(b, &nu, now_ms(), &u);
	}
	if (ret && ret != -EEXIST) {
		store_batch_abort(b);
		why_fail(why, ret, ret == -ENOENT ? "team" : "user");
		goto done;
	}
	ret = audit(b, "user.create", r->team_id, id, NULL, actx);
	if (ret) {
		store_batch_abort(b);
		why_fail(why, ret, "user");
		goto done;
	}
	ret = store_batch_commit(b);
	if (ret == -EEXIST)
		why_refuse(why, ret, "a user with that email already exists");
	else if (ret)
		why_fail(why, ret, "user");
	else
		*view = user_view(u);
done:
	crypto_wipe(hash, sizeof(hash));
	cJSON_Delete(u);
	return ret;
}

int org_user_get(struct srv *s, const char *id, cJSON **view)
{
	cJSON *u;
	int ret = jget(s, STORE_T_USERS, id, SK_USER, &u);

	*view = NULL;
	if (ret)
		return ret;
	*view = user_view(u);
	cJSON_Delete(u);
	return 0;
}

/* Walk the tree below node id (depth first) and call fn for each team. */
static int for_each_team(struct srv *s, const char *id, int depth,
			 int (*fn)(struct srv *, const char *team, void *), void *ctx);

struct team_walk {
	struct srv *s;
	int depth;
	int (*fn)(struct srv *, const char *, void *);
	void *ctx;
	int err;
};

static int team_walk_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct team_walk *w = ctx;

	(void)pk;
	(void)val;
	(void)len;
	w->err = for_each_team(w->s, sk + strlen(SK_CHILD_PREFIX), w->depth + 1, w->fn, w->ctx);
	return w->err ? w->err : 0;
}

static int for_each_team(struct srv *s, const char *id, int depth,
			 int (*fn)(struct srv *, const char *team, void *), void *ctx)
{
	struct team_walk w = {s, depth, fn, ctx, 0};
	cJSON *n;
	int ret, type;

	if (depth > TREE_DEPTH)
		return 0;
	if (strcmp(id, ROOT_ID)) {
		ret = node_get(s, id, &n);
		if (ret)
			return ret == -ENOENT ? 0 : ret;
		type = node_type_parse(jstr(n, "type"));
		cJSON_Delete(n);
		if (type == 4)
			return fn(s, id, ctx);
	}
	ret = store_query(s->st, STORE_T_NODES, id, SK_CHILD_PREFIX, NULL, 0, STORE_PREFIX,
			  team_walk_item, &w);
	return ret < 0 ? ret : w.err > 0 ? w.err : 0;
}

struct user_list {
	const struct principal *p;
	struct srv *s;
	struct target team; /* the team being listed: its members' path */
	cJSON *arr;
	size_t n;
};

static int user_list_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct user_list *l = ctx;
	struct target t;
	cJSON *u;

	(void)pk;
	(void)val;
	(void)len;
	if (strlen(sk) >= ID_SIZE)
		return 0;
	t = l->team;
	strcpy(t.user_id, sk);
	if (authorize(l->p, PERM_USER_READ, &t))
		return 0;
	if (jget(l->s, STORE_T_USERS, sk, SK_USER, &u))
		return 0;
	cJSON_AddItemToArray(l->arr, user_view(u));
	cJSON_Delete(u);
	return ++l->n >= LIST_MAX ? 1 : 0;
}

static int user_list_team(struct srv *s, const char *team, void *ctx)
{
	struct user_list *l = ctx;
	struct key pk;
	int ret;

	if (l->n >= LIST_MAX)
		return 1;
	ret = target_node(s, team, &l->team);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	ret = store_query(s->st, STORE_T_USERS, key_team_index(&pk, team), NULL, NULL, 0, 0,
			  user_list_item, l);
	return ret < 0 ? ret : 0;
}

int org_user_list(struct srv *s, const struct principal *p, const char *node_id, cJSON **out)
{
	struct user_list l = {.p = p, .s = s};
	int ret;

	*out = cJSON_CreateObject();
	l.arr = cJSON_AddArrayToObject(*out, "users");
	if (!l.arr) {
		cJSON_Delete(*out);
		*out = NULL;
		return -ENOMEM;
	}
	ret = for_each_team(s, node_id, 0, user_list_team, &l);
	if (ret < 0) {
		cJSON_Delete(*out);
		*out = NULL;
		return ret;
	}
	if (l.n >= LIST_MAX)
		cJSON_AddTrueToObject(*out, "truncated");
	return 0;
}

int org_user_disable_check(const char *actor_id, const char *uid, struct model_why *why)
{
	why_reset(why);
	if (!strcmp(actor_id, uid))
		return why_refuse(why, -EPERM, "you cannot disable yourself");
	return 0;
}

/*
 * In batch b, which writes back user item u of uid: end every session of
 * uid. Their tokens are deleted (the token index, core/srv.h), and u's
 * sessions_after is set to now for tokens stored before the index existed.
 * The number of tokens deleted, or -errno. Follow the commit with
 * user_tokens_sweep().
 */
static int end_sessions(struct srv *s, struct store_batch *b, cJSON *u, const char *uid)
{
	jset(u, "sessions_after", cJSON_CreateNumber((double)now_ms()));
	return user_tokens_revoke(s, b, uid, NULL);
}

int org_user_update(struct srv *s, const char *actor_id, const char *id, const char *team_id,
		    const struct org_user_change *c, org_audit_fn audit, void *actx, cJSON **view,
		    int *sweep_err, struct model_why *why)
{
	const bool off = c->disabled == 1, ends = c->password || off;
	char hash[PASSWORD_HASH_SIZE];
	struct store_batch *b = NULL;
	cJSON *u = NULL, *changed = NULL, *detail = NULL;
	int ret;

	why_reset(why);
	*view = NULL;
	*sweep_err = 0;
	hash[0] = 0;
	if (c->login && !org_login_valid(c->login))
		return why_refuse(why, -EINVAL, "login must be 1..32 of [a-z0-9_.-]");
	if (c->tz && !tz_valid(c->tz))
		return why_refuse(why, -EINVAL,
				  "tz must be a time zone name (IANA, like Europe/Paris)");
	if (off && (ret = org_user_disable_check(actor_id, id, why)))
		return ret;
	if (c->password && !strcmp(id, actor_id))
		return why_refuse(
		    why, -EACCES,
		    "change your own password with POST /api/v1/me/password (it needs "
		    "the current password)");
	if (c->password && !password_len_ok(c->password))
		return why_refuse(why, -EINVAL, "password must be %d..%d bytes", PASSWORD_MIN_LEN,
				  PASSWORD_MAX);
	if (c->password && hash_slot(s, c->password, hash))
		return why_fail(why, -EAGAIN, "user");
	changed = cJSON_CreateArray();
	ret = changed ? store_batch_begin(s->st, &b) : -ENOMEM;
	if (!ret)
		ret = jbget(b, STORE_T_USERS, id, SK_USER, &u);
	if (ret)
		goto done;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "erasing"))) {
		ret = why_refuse(why, -EPERM, "the user is being erased");
		store_batch_abort(b);
		b = NULL;
		cJSON_Delete(changed);
		cJSON_Delete(u);
		crypto_wipe(hash, sizeof(hash));
		return ret;
	}
#define SET_(k, v)                                                                                 \
	do {                                                                                       \
		jset(u, k, v);                                                                     \
		cJSON_AddItemToArray(changed, cJSON_CreateString(k));                              \
	} while (0)
	if (c->name)
		SET_("name", cJSON_CreateString(c->name));
	if (c->login)
		SET_("login", cJSON_CreateString(c->login));
	if (c->tz)
		SET_("tz", cJSON_CreateString(c->tz));
	if (c->disabled >= 0)
		SET_("disabled", cJSON_CreateBool(off));
#undef SET_
	/* a reset by someone else: audited apart, and every session of the
	 * user ends */
	if (c->password)
		jset(u, "pw", cJSON_CreateString(hash));
	ret = ends ? end_sessions(s, b, u, id) : 0;
	if (ret >= 0 && c->password) {
		detail = cJSON_CreateObject();
		cJSON_AddNumberToObject(detail, "sessions_revoked", ret);
		ret = audit(b, "user.password_reset", team_id, id, detail, actx);
	}
	if (ret >= 0 && (!c->password || cJSON_GetArraySize(changed)))
		ret = audit(
		    b, c->disabled >= 0 ? (off ? "user.disable" : "user.enable") : "user.update",
		    team_id, id, changed, actx);
	if (ret >= 0)
		ret = jput(b, STORE_T_USERS, id, SK_USER, u, STORE_IF_EXISTS);
	if (ret >= 0) {
		ret = store_batch_commit(b);
		b = NULL;
	}
	if (ret)
		goto done;
	if (ends && (ret = user_tokens_sweep(s, id, NULL)) < 0)
		*sweep_err = ret;
	ret = 0;
	*view = user_view(u);
done:
	if (ret)
		why_fail(why, ret, "user");
	store_batch_abort(b);
	crypto_wipe(hash, sizeof(hash));
	cJSON_Delete(detail);
	cJSON_Delete(changed);
	cJSON_Delete(u);
	return ret;
}

int org_user_set_disabled(struct srv *s, const char *actor_id, const char *id, const char *team_id,
			  bool off, org_audit_fn audit, void *actx, cJSON **view, int *sweep_err,
			  struct model_why *why)
{
	struct store_batch *b;
	cJSON *u = NULL, *detail;
	int ret;

	why_reset(why);
	*view = NULL;
	*sweep_err = 0;
	if (off && (ret = org_user_disable_check(actor_id, id, why)))
		return ret;
	ret = store_batch_begin(s->st, &b);
	if (ret)
		return why_fail(why, ret, "user");
	ret = jbget(b, STORE_T_USERS, id, SK_USER, &u);
	if (ret) {
		store_batch_abort(b);
		return why_fail(why, ret, "user");
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "erasing"))) {
		store_batch_abort(b);
		cJSON_Delete(u);
		return why_refuse(why, -EPERM, "the user is being erased");
	}
	jset(u, "disabled", cJSON_CreateBool(off));
	/* disabling ends every session; enabling brings none back */
	ret = off ? end_sessions(s, b, u, id) : 0;
	if (ret >= 0) {
		detail = off ? cJSON_CreateObject() : NULL;
		if (detail)
			cJSON_AddNumberToObject(detail, "sessions_revoked", ret);
		ret = audit(b, off ? "user.disable" : "user.enable", team_id, id, detail, actx);
		cJSON_Delete(detail);
	}
	if (ret >= 0)
		ret = jput(b, STORE_T_USERS, id, SK_USER, u, STORE_IF_EXISTS);
	if (ret < 0)
		store_batch_abort(b);
	else
		ret = store_batch_commit(b);
	if (ret) {
		cJSON_Delete(u);
		return why_fail(why, ret, "user");
	}
	if (off && (ret = user_tokens_sweep(s, id, NULL)) < 0)
		*sweep_err = ret;
	*view = user_view(u);
	cJSON_Delete(u);
	return 0;
}

int org_user_move(struct srv *s, const char *by, const char *id, const char *from, const char *to,
		  org_audit_fn audit, void *actx, cJSON **view, struct model_why *why)
{
	struct store_batch *b = NULL;
	cJSON *u = NULL, *n = NULL, *g = NULL, *before, *e, *detail = NULL;
	struct key k, sk;
	const char *type, *cur;
	int ret, i;

	why_reset(why);
	*view = NULL;
	if (!strcmp(from, to))
		return why_refuse(why, -EINVAL, "the user is already in that team");
	ret = node_get(s, to, &n);
	if (ret == -ENOENT)
		return why_refuse(why, -EINVAL, "team_id names no team");
	if (ret)
		return why_fail(why, ret, "team");
	type = jstr(n, "type");
	if (!type || strcmp(type, "team")) {
		cJSON_Delete(n);
		return why_refuse(why, -EINVAL, "team_id must name a team");
	}
	cJSON_Delete(n);
	ret = store_batch_begin(s->st, &b);
	if (!ret)
		ret = jbget(b, STORE_T_USERS, id, SK_USER, &u);
	if (ret)
		goto done;
	cur = jstr(u, "team_id");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "erasing"))) {
		ret = why_refuse(why, -EPERM, "the user is being erased");
		goto done;
	}
	/* the first administrator: no team, no membership to move (and not
	 * "moved meanwhile", which a client retries) */
	if (!cur && !strcmp(from, ROOT_ID)) {
		ret = why_refuse(why, -EPERM,
				 "the user belongs to no team (an administrator at the root): "
				 "there is nothing to move from");
		goto done;
	}
	if (!cur || strcmp(cur, from)) {
		ret = -EAGAIN; /* moved meanwhile */
		goto done;
	}
	/* the teams the user was in: their devices keep records mapped to
	 * them (model/erase.h); the oldest goes beyond ORG_TEAMS_BEFORE_MAX */
	before = cJSON_GetObjectItemCaseSensitive(u, "teams_before");
	if (!cJSON_IsArray(before)) {
		before = cJSON_CreateArray();
		jset(u, "teams_before", before);
	}
	for (i = cJSON_GetArraySize(before) - 1; i >= 0; i--) {
		e = cJSON_GetArrayItem(before, i);
		if (!cJSON_IsString(e) || !strcmp(e->valuestring, from) ||
		    !strcmp(e->valuestring, to))
			cJSON_DeleteItemFromArray(before, i);
	}
	while (cJSON_GetArraySize(before) >= ORG_TEAMS_BEFORE_MAX)
		cJSON_DeleteItemFromArray(before, 0);
	cJSON_AddItemToArray(before, cJSON_CreateString(from));
	jset(u, "team_id", cJSON_CreateString(to));
	ret = node_touch(b, to);
	if (!ret)
		ret = jput(b, STORE_T_USERS, id, SK_USER, u, STORE_IF_EXISTS);
	if (!ret)
		ret = store_batch_delete(b, STORE_T_USERS, key_team_index(&k, from), id, 0);
	if (!ret) {
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "id", id);
		ret = jput(b, STORE_T_USERS, key_team_index(&k, to), id, e, 0);
		cJSON_Delete(e);
	}
	/* the employee grant moves with the user; other grants stay */
	if (!ret) {
		ret = jbget(b, STORE_T_GRANTS, id, key_grant_user_sk(&sk, from, "employee"), &g);
		if (!ret) {
			ret = store_batch_delete(b, STORE_T_GRANTS, id, sk.s, 0);
			if (!ret)
				ret = store_batch_delete(b, STORE_T_GRANTS,
							 key_grant_node_pk(&k, from),
							 key_grant_node_sk(&sk, id, "employee"), 0);
		} else if (ret == -ENOENT) {
			ret = 0;
		}
		cJSON_Delete(g);
		g = NULL;
	}
	if (!ret) {
		ret = jbget(b, STORE_T_GRANTS, id, key_grant_user_sk(&sk, to, "employee"), &g);
		if (ret == -ENOENT)
			ret = org_grant_add(b, id, to, "employee", "", by, NULL, now_ms(), NULL);
		cJSON_Delete(g);
	}
	if (!ret) {
		detail = cJSON_CreateObject();
		cJSON_AddStringToObject(detail, "from", from);
		cJSON_AddStringToObject(detail, "to", to);
		ret = audit(b, "user.move", to, id, detail, actx);
	}
	if (!ret) {
		ret = store_batch_commit(b);
		b = NULL;
	}
	if (!ret)
		*view = user_view(u);
done:
	if (ret && !why->msg[0])
		why_fail(why, ret, "user");
	store_batch_abort(b);
	cJSON_Delete(detail);
	cJSON_Delete(u);
	return ret;
}

/* --- roles --- */

struct role_list {
	struct srv *s;
	const struct principal *p;
	cJSON *arr;
	size_t n;
};

/* 0 when p may see a role of business bid: p belongs to it (a grant there
 * or on the root); the role of a business deleted since only from the
 * root. NULL p (no principal: the store's own reads) sees every role. */
static int role_visible(struct srv *s, const struct principal *p, const char *bid)
{
	struct target t;

	if (!bid || !p)
		return 0;
	if (target_node(s, bid, &t))
		target_node(s, ROOT_ID, &t);
	return principal_in_business(s, p, &t);
}

static int role_list_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct role_list *l = ctx;
	cJSON *e = cJSON_ParseWithLength(val, len);

	(void)pk;
	(void)sk;
	if (e && !role_visible(l->s, l->p, jstr(e, "business_id")) && l->n < ORG_ROLES_LIST_MAX) {
		cJSON_AddFalseToObject(e, "builtin");
		cJSON_AddItemToArray(l->arr, e);
		l->n++;
	} else {
		cJSON_Delete(e);
	}
	return 0;
}

int org_role_list(struct srv *s, const struct principal *p, cJSON **out)
{
	struct role_list l = {s, p, NULL, 0};
	static const char *const builtin[] = {"admin", "manager", "employee"};
	uint32_t perms;
	cJSON *arr;
	size_t i;
	int ret;

	*out = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(*out, "roles");
	if (!arr) {
		cJSON_Delete(*out);
		*out = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < ARRAY_SIZE(builtin); i++) {
		cJSON *e = cJSON_CreateObject();

		role_builtin(builtin[i], &perms);
		cJSON_AddStringToObject(e, "name", builtin[i]);
		cJSON_AddItemToObject(e, "permissions", org_perm_names(perms));
		cJSON_AddTrueToObject(e, "builtin");
		cJSON_AddItemToArray(arr, e);
	}
	l.arr = arr;
	ret = store_query(s->st, STORE_T_ROLES, KEY_ROLES_PK, NULL, NULL, 0, 0, role_list_item, &l);
	if (ret < 0) {
		cJSON_Delete(*out);
		*out = NULL;
		return ret;
	}
	return 0;
}

/* Counts the custom roles of business ctx (NULL: the global ones). */
struct role_count {
	const char *bid;
	int n;
};

static int role_count_fn(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct role_count *c = ctx;
	cJSON *e = cJSON_ParseWithLength(val, len);
	const char *b = e ? jstr(e, "business_id") : NULL;

	(void)pk;
	(void)sk;
	if (e && (c->bid ? b && !strcmp(b, c->bid) : !b))
		c->n++;
	cJSON_Delete(e);
	return 0;
}

int org_role_create(struct srv *s, const char *by, const char *name, const cJSON *perms,
		    const char *business_id, org_audit_fn audit, void *actx, cJSON **role,
		    struct model_why *why)
{
	struct role_count rc = {business_id, 0};
	char ts[RFC3339_LEN], rid[ID_SIZE];
	uint32_t bits = 0, dummy;
	struct store_batch *b;
	const cJSON *e;
	cJSON *r;
	int ret;

	why_reset(why);
	*role = NULL;
	if (!role_name_valid(name))
		return why_refuse(why, -EINVAL,
				  "role name: 1..64 of [a-z0-9_-], starting with a letter");
	if (!role_builtin(name, &dummy))
		return why_refuse(why, -EPERM, "'%s' is a built-in role", name);
	if (!cJSON_IsArray(perms))
		return why_refuse(why, -EINVAL, "permissions must be an array of permission names");
	cJSON_ArrayForEach(e, perms)
	{
		uint32_t bit = cJSON_IsString(e) ? perm_parse(e->valuestring) : 0;

		if (!bit)
			return why_refuse(why, -EINVAL, "unknown permission %s",
					  cJSON_IsString(e) ? e->valuestring : "(not a string)");
		bits |= bit;
	}
	ret = store_query(s->st, STORE_T_ROLES, KEY_ROLES_PK, NULL, NULL, 0, 0, role_count_fn, &rc);
	if (ret < 0)
		return why_fail(why, ret, "role");
	if (rc.n >= MAX_ROLES)
		return why_refuse(why, -ENOSPC, "at most %d custom roles %s", MAX_ROLES,
				  business_id ? "per business" : "outside businesses");
	id_new(ID_PREFIX_ROLE, rid);
	r = cJSON_CreateObject();
	if (!r)
		return why_fail(why, -ENOMEM, "role");
	cJSON_AddStringToObject(r, "name", name);
	cJSON_AddStringToObject(r, "id", rid);
	cJSON_AddItemToObject(r, "permissions", org_perm_names(bits));
	if (business_id)
		cJSON_AddStringToObject(r, "business_id", business_id);
	cJSON_AddStringToObject(r, "by", by);
	cJSON_AddStringToObject(r, "at", rfc3339_ms(now_ms(), ts));
	ret = store_batch_begin(s->st, &b);
	if (ret) {
		cJSON_Delete(r);
		return why_fail(why, ret, "role");
	}
	ret = jput(b, STORE_T_ROLES, KEY_ROLES_PK, name, r, STORE_IF_ABSENT);
	if (!ret)
		ret = audit(b, "role.create", business_id ? business_id : ROOT_ID, name,
			    cJSON_GetObjectItemCaseSensitive(r, "permissions"), actx);
	if (ret)
		store_batch_abort(b);
	else
		ret = store_batch_commit(b);
	if (ret == -EEXIST) {
		cJSON_Delete(r);
		return why_refuse(why, ret,
				  "the role name '%s' is taken (role names are unique "
				  "across the installation)",
				  name);
	}
	if (ret) {
		cJSON_Delete(r);
		return why_fail(why, ret, "role");
	}
	cJSON_AddFalseToObject(r, "builtin");
	*role = r;
	return 0;
}

int org_role_business(struct srv *s, const struct principal *p, const char *name, char bid[ID_SIZE],
		      struct model_why *why)
{
	uint32_t dummy;
	cJSON *r = NULL;
	const char *b;
	int ret;

	why_reset(why);
	bid[0] = 0;
	if (!role_builtin(name, &dummy) || !role_name_valid(name))
		return 0;
	ret = jget(s, STORE_T_ROLES, KEY_ROLES_PK, name, &r);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return why_fail(why, ret, "role");
	b = jstr(r, "business_id");
	if (b && (strlen(b) >= ID_SIZE || role_visible(s, p, b))) {
		cJSON_Delete(r);
		return why_refuse(why, -ENOENT, "unknown role '%s'", name);
	}
	if (b)
		strcpy(bid, b);
	cJSON_Delete(r);
	return 0;
}

int org_role_delete(struct srv *s, const char *name, const char *business_id, org_audit_fn audit,
		    void *actx, struct model_why *why)
{
	struct store_batch *b;
	uint32_t dummy;
	int ret;

	why_reset(why);
	if (!role_builtin(name, &dummy))
		return why_refuse(why, -EPERM, "'%s' is a built-in role", name);
	if (!role_name_valid(name))
		return why_refuse(why, -ENOENT, "role not found");
	ret = store_batch_begin(s->st, &b);
	if (ret)
		return why_fail(why, ret, "role");
	ret = store_batch_delete(b, STORE_T_ROLES, KEY_ROLES_PK, name, STORE_IF_EXISTS);
	if (!ret)
		ret = audit(b, "role.delete", business_id && business_id[0] ? business_id : ROOT_ID,
			    name, NULL, actx);
	if (ret)
		store_batch_abort(b);
	else
		ret = store_batch_commit(b);
	return ret ? why_fail(why, ret, "role") : 0;
}

int org_role_check(struct srv *s, const char *role, struct model_why *why)
{
	uint32_t perms;
	int ret = 0;

	why_reset(why);
	if (!role_name_valid(role) || (ret = role_perms(s, role, &perms)) == -ENOENT)
		return why_refuse(why, -EINVAL, "unknown role '%s'", role);
	return ret ? why_fail(why, ret, "role") : 0;
}

/* --- grants --- */

/* The no-escalation refusal of role, naming the permissions missing (as
 * many as the message holds). -EACCES. */
static int escalation(struct model_why *why, const char *role, uint32_t missing)
{
	char names[256] = "";
	size_t len = 0;
	int i, n;

	for (i = 0; i < PERMB__COUNT; i++) {
		if (!(missing & (1u << i)) || !perm_name(1u << i))
			continue;
		n = snprintf(names + len, sizeof(names) - len, "%s%s", len ? ", " : "",
			     perm_name(1u << i));
		if (n < 0 || (size_t)n >= sizeof(names) - len)
			break;
		len += (size_t)n;
	}
	return why_refuse(why, -EACCES,
			  "forbidden: role '%s' holds permissions you lack here: %s (nobody grants "
			  "or revokes more than they hold)",
			  role, names);
}

/* The detail of a grant's audit entry. */
static cJSON *grant_detail(const char *role, const char *uid)
{
	cJSON *x = cJSON_CreateObject();

	cJSON_AddStringToObject(x, "role", role);
	cJSON_AddStringToObject(x, "user_id", uid);
	return x;
}

int org_grant_create(struct srv *s, const struct principal *p, const char *uid, const char *role,
		     const char *node_id, const struct target *nt, const struct target *ut,
		     org_audit_fn audit, void *actx, cJSON **grant, struct model_why *why)
{
	struct principal *holder = NULL;
	char rid[ID_SIZE], bid[ID_SIZE], by_login[LOGIN_MAX_LEN + 1] = "";
	struct store_batch *b;
	cJSON *g = NULL, *x;
	uint32_t perms;
	int ret;

	why_reset(why);
	*grant = NULL;
	/* a grant stays within the user's business: one on another business's
	 * node would show that business to the user and take the user out of
	 * their own admins' hands (need_holds_all_of); only a granter over
	 * both (the root admin) may */
	if (strcmp(target_business(nt), target_business(ut)) && authorize(p, PERM_GRANT_WRITE, ut))
		return why_refuse(why, -EACCES,
				  "forbidden: the user belongs to another business than the node; "
				  "granting across businesses needs grant.write over the user's "
				  "team too");
	ret = role_get(s, role, &perms, rid);
	if (ret)
		return why_fail(why, ret, "role");
	ret = org_role_business(s, p, role, bid, why);
	if (ret)
		return ret == -ENOENT ? why_refuse(why, -EINVAL, "unknown role '%s'", role) : ret;
	if (bid[0] && strcmp(bid, target_business(nt)))
		return why_refuse(why, -EACCES,
				  "forbidden: role '%s' belongs to another business than the node; "
				  "a business's roles are granted only on its nodes",
				  role);
	if (perms & ~perms_on(p, nt))
		return escalation(why, role, perms & ~perms_on(p, nt));
	/* the granter's login as it is now: the grant keeps it */
	if (!jget(s, STORE_T_USERS, p->id, SK_USER, &x)) {
		if (!org_user_login(x, by_login))
			by_login[0] = 0;
		cJSON_Delete(x);
	}
	holder = calloc(1, sizeof(*holder));
	if (!holder)
		return why_fail(why, -ENOMEM, "grants");
	snprintf(holder->id, sizeof(holder->id), "%s", uid);
	ret = principal_load_grants(s, holder);
	if (ret) {
		why_fail(why, ret, "grants");
		goto done;
	}
	if (holder->n_grants >= MAX_GRANTS) {
		ret = why_refuse(why, -ENOSPC, "a user holds at most %d grants", MAX_GRANTS);
		goto done;
	}
	ret = store_batch_begin(s->st, &b);
	if (ret) {
		why_fail(why, ret, "grant");
		goto done;
	}
	ret = org_grant_add(b, uid, node_id, role, rid, p->id, by_login[0] ? by_login : NULL,
			    now_ms(), &g);
	if (!ret) {
		x = grant_detail(role, uid);
		ret = audit(b, "grant.create", node_id, uid, x, actx);
		cJSON_Delete(x);
	}
	if (ret)
		store_batch_abort(b);
	else
		ret = store_batch_commit(b);
	if (ret == -EEXIST)
		why_refuse(why, ret, "the user already holds that role there");
	else if (ret)
		why_fail(why, ret, "grant");
	if (ret) {
		cJSON_Delete(g);
		goto done;
	}
	org_grant_view(s, g);
	*grant = g;
done:
	free(holder);
	return ret;
}

int org_grant_revoke(struct srv *s, const struct principal *p, const char *uid, const char *role,
		     const char *node_id, const struct target *nt, org_audit_fn audit, void *actx,
		     struct model_why *why)
{
	struct store_batch *b;
	uint32_t perms = 0;
	struct key pk, sk;
	cJSON *x;
	int ret;

	why_reset(why);
	if (!strcmp(uid, p->id))
		return why_refuse(why, -EPERM, "you cannot revoke your own grants");
	/* nobody revokes more than they hold there (no lock-out from below) */
	role_perms(s, role, &perms);
	if (perms & ~perms_on(p, nt))
		return escalation(why, role, perms & ~perms_on(p, nt));
	ret = store_batch_begin(s->st, &b);
	if (ret)
		return why_fail(why, ret, "grant");
	store_batch_delete(b, STORE_T_GRANTS, uid, key_grant_user_sk(&sk, node_id, role),
			   STORE_IF_EXISTS);
	store_batch_delete(b, STORE_T_GRANTS, key_grant_node_pk(&pk, node_id),
			   key_grant_node_sk(&sk, uid, role), 0);
	x = grant_detail(role, uid);
	ret = audit(b, "grant.revoke", node_id, uid, x, actx);
	cJSON_Delete(x);
	if (ret)
		store_batch_abort(b);
	else
		ret = store_batch_commit(b);
	return ret ? why_fail(why, ret, "grant") : 0;
}

void org_grant_view(struct srv *s, cJSON *g)
{
	const char *by = jstr(g, "by"), *at = jstr(g, "at");
	char lg[LOGIN_MAX_LEN + 1];
	cJSON *c, *u = NULL;

	cJSON_DeleteItemFromObjectCaseSensitive(g, "created_by");
	cJSON_DeleteItemFromObjectCaseSensitive(g, "created_at");
	if (by && by[0] == ID_PREFIX_USER && strlen(by) < ID_SIZE &&
	    (c = cJSON_AddObjectToObject(g, "created_by"))) {
		cJSON_AddStringToObject(c, "id", by);
		if (jstr(g, "by_login"))
			cJSON_AddStringToObject(c, "login", jstr(g, "by_login"));
		else if (!jget(s, STORE_T_USERS, by, SK_USER, &u) && org_user_login(u, lg))
			cJSON_AddStringToObject(c, "login", lg);
		else
			cJSON_AddNullToObject(c, "login");
		cJSON_Delete(u);
	} else {
		cJSON_AddNullToObject(g, "created_by");
	}
	if (at)
		cJSON_AddStringToObject(g, "created_at", at);
	else
		cJSON_AddNullToObject(g, "created_at");
}

struct grant_list {
	struct srv *s;
	const struct principal *p;
	bool self;
	cJSON *arr;
};

static int grant_list_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct grant_list *l = ctx;
	struct target t;
	cJSON *e;

	(void)pk;
	(void)sk;
	e = cJSON_ParseWithLength(val, len);
	if (!e)
		return 0;
	if (!l->self && (!jstr(e, "node_id") || target_node(l->s, jstr(e, "node_id"), &t) ||
			 authorize(l->p, PERM_USER_READ, &t))) {
		cJSON_Delete(e);
		return 0;
	}
	org_grant_view(l->s, e);
	cJSON_AddItemToArray(l->arr, e);
	return 0;
}

int org_grant_list(struct srv *s, const struct principal *p, const char *uid, cJSON **out)
{
	struct grant_list l = {s, p, !strcmp(uid, p->id), NULL};
	int ret;

	*out = cJSON_CreateObject();
	l.arr = cJSON_AddArrayToObject(*out, "grants");
	if (!l.arr) {
		cJSON_Delete(*out);
		*out = NULL;
		return -ENOMEM;
	}
	ret =
	    store_query(s->st, STORE_T_GRANTS, uid, NULL, NULL, MAX_GRANTS, 0, grant_list_item, &l);
	if (ret < 0) {
		cJSON_Delete(*out);
		*out = NULL;
		return ret;
	}
	return 0;
}
