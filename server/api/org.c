// SPDX-License-Identifier: BSD-2-Clause
/*
 * api_org.c - the organisation: nodes (business > domain > project > team),
 * users, roles and grants. See docs/API.md and the data layout in srv.h.
 *
 * Rules kept here:
 *  - a node is created under a parent of the type just above it (a business
 *    under ROOT_ID); node.write on the parent creates and deletes, on the
 *    node renames;
 *  - a node is deleted only when it has no children, users or devices; the
 *    grants held on it and its config document go with it;
 *  - a new user gets the employee role on their team;
 *  - roles are installation-wide: custom roles need role.write on ROOT_ID;
 *    each gets a new id, which its grants record (a role deleted and
 *    created again under its name does not revive the old grants);
 *  - nobody grants more than they hold: the role's permissions must be a
 *    subset of what the granter holds on the node (no escalation); and
 *    nobody changes (password, disabled, ...) a user holding more than
 *    they do: each of the user's grants must be such a subset too;
 *  - nobody disables themselves or revokes their own grants (no lock-out);
 *  - a grant's user belongs to the node's business, unless the granter
 *    holds grant.write over the user's team too (the root admin).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "api/api.h"
#include "model/org.h"
#include "store/keys.h"
#include "util.h"

#define SK_MAX (ID_SIZE + 80)

static int commit_or_reply(struct http_req *req, struct store_batch *b, const char *what)
{
	int ret = store_batch_commit(b);

	if (ret)
		reply_store_err(req, ret, what);
	return ret;
}

/* --- nodes --- */

static cJSON *child_entry(const char *id, const char *type, const char *name)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "id", id);
	cJSON_AddStringToObject(c, "type", type);
	cJSON_AddStringToObject(c, "name", name);
	return c;
}

static int h_node_create(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	struct target pt;
	struct store_batch *b;
	const char *type, *name, *parent;
	char id[ID_SIZE];
	cJSON *body, *pnode = NULL, *node = NULL;
	int t, ptype = 0, ret;

	if (need_user(s, req, &p))
		return 0;
	body = need_json(req);
	if (!body)
		return 0;
	if (!(type = need_str(req, body, "type", 16)) ||
	    !(name = need_str(req, body, "name", NAME_MAX_LEN)) ||
	    (parent = opt_str(req, body, "parent_id", ID_SIZE)) == OPT_BAD)
		goto done;
	t = node_type_parse(type);
	if (!t) {
		http_reply_error(req, 400, "type must be business, domain, project or team");
		goto done;
	}
	if (!parent)
		parent = ROOT_ID;
	if (strcmp(parent, ROOT_ID)) {
		ret = node_get(s, parent, &pnode);
		if (ret) {
			reply_store_err(req, ret, "parent node");
			goto done;
		}
		ptype = node_type_parse(jstr(pnode, "type"));
	}
	if (ptype != t - 1) {
		http_reply_error(req, 400, "a %s goes under %s, not under %s", type,
				 t == 1 ? "the root (no parent_id)" : node_type_name(t - 1),
				 ptype ? node_type_name(ptype) : "the root");
		goto done;
	}
	if (need_target_node(s, req, parent, &pt) || need_perm(req, &p, PERM_NODE_WRITE, &pt))
		goto done;
	id_new(ID_PREFIX_NODE, id);
	ret = store_batch_begin(s->st, &b);
	if (!ret) {
		ret = org_node_add(b, id, type, name, &pt, now_ms(), &node);
		if (ret)
			store_batch_abort(b);
		else
			audit_add(b, req, &p, "node.create", id, id, "ok", NULL);
	}
	if (ret) {
		reply_store_err(req, ret, "node");
		goto done;
	}
	ret = commit_or_reply(req, b, "node");
	if (!ret) {
		log_info("event=node_create id=%s type=%s by=%s", id, type, p.id);
		http_reply_json(req, 201, node);
	} else {
		cJSON_Delete(node);
	}
done:
	cJSON_Delete(pnode);
	cJSON_Delete(body);
	return 0;
}

static int h_node_get(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	struct target t;
	cJSON *n;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	if (need_target_node(s, req, http_req_param(req, "id"), &t) ||
	    need_perm(req, &p, PERM_NODE_READ, &t))
		return 0;
	if (!strcmp(http_req_param(req, "id"), ROOT_ID)) {
		n = cJSON_CreateObject();
		cJSON_AddStringToObject(n, "id", ROOT_ID);
		cJSON_AddStringToObject(n, "type", "root");
		cJSON_AddStringToObject(n, "name", "root");
		return http_reply_json(req, 200, n);
	}
	ret = node_get(s, http_req_param(req, "id"), &n);
	if (ret)
		return reply_store_err(req, ret, "node");
	return http_reply_json(req, 200, n);
}

struct child_list {
	const struct principal *p;
	const struct target *parent; /* a child's path is the parent's plus its id */
	bool all;		     /* the parent is readable: every child is */
	cJSON *arr;
	size_t n;
	/* the paths of the nodes the caller holds grants on: a child on one of
	 * them leads to what the caller may read, so it is listed */
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
	struct child_list *c = ctx;
	struct target t;
	cJSON *e;

	(void)pk;
	if (!c->all) {
		if (c->parent->depth >= TREE_DEPTH || strlen(sk + 6) >= ID_SIZE)
			return 0;
		t = *c->parent;
		strcpy(t.path[t.depth++], sk + 6);
		if (authorize(c->p, PERM_NODE_READ, &t) && !leads_to_grant(c, sk + 6))
			return 0;
	}
	e = cJSON_ParseWithLength(val, len);
	if (!e)
		return 0;
	cJSON_AddItemToArray(c->arr, e);
	return ++c->n >= LIST_MAX;
}

static int h_node_children(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct principal p;
	struct target t;
	struct child_list c;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p) || need_target_node(s, req, id, &t))
		return 0;
	out = cJSON_CreateObject();
	c = (struct child_list){&p, &t, !authorize(&p, PERM_NODE_READ, &t),
				cJSON_AddArrayToObject(out, "children"), 0};
	if (!c.all && p.n_grants) {
		size_t i;

		c.granted = calloc(p.n_grants, sizeof(*c.granted));
		if (!c.granted) {
			cJSON_Delete(out);
			return reply_store_err(req, -ENOMEM, "node");
		}
		for (i = 0; i < p.n_grants; i++)
			if (p.g[i].perms & PERM_NODE_READ &&
			    !target_node(s, p.g[i].node_id, &c.granted[c.n_granted]))
				c.n_granted++;
	}
	ret =
	    store_query(s->st, STORE_T_NODES, id, "child|", NULL, 0, STORE_PREFIX, child_item, &c);
	free(c.granted);
	if (ret < 0) {
		cJSON_Delete(out);
		return reply_store_err(req, ret, "node");
	}
	/* a node one can neither read nor see below is none of one's business */
	if (!c.all && !c.n) {
		cJSON_Delete(out);
		return http_reply_error(req, 403, "forbidden: needs node.read here");
	}
	return http_reply_json(req, 200, out);
}

static int h_node_rename(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id"), *name, *parent;
	struct principal p;
	struct target t;
	struct store_batch *b;
	cJSON *body = NULL, *n = NULL, *c;
	char sk[SK_MAX];
	int ret;

	if (need_user(s, req, &p) || need_target_node(s, req, id, &t))
		return 0;
	if (!strcmp(id, ROOT_ID))
		return http_reply_error(req, 400, "the root cannot be renamed");
	if (need_perm(req, &p, PERM_NODE_WRITE, &t))
		return 0;
	body = need_json(req);
	if (!body || !(name = need_str(req, body, "name", NAME_MAX_LEN)))
		goto done;
	ret = store_batch_begin(s->st, &b);
	if (ret) {
		reply_store_err(req, ret, "node");
		goto done;
	}
	ret = jbget(b, STORE_T_NODES, id, "node", &n);
	if (ret || !(parent = jstr(n, "parent_id"))) {
		store_batch_abort(b);
		reply_store_err(req, ret ? ret : -EIO, "node");
		goto done;
	}
	cJSON_ReplaceItemInObjectCaseSensitive(n, "name", cJSON_CreateString(name));
	jput(b, STORE_T_NODES, id, "node", n, STORE_IF_EXISTS);
	c = child_entry(id, jstr(n, "type"), name);
	snprintf(sk, sizeof(sk), "child|%s", id);
	jput(b, STORE_T_NODES, parent, sk, c, STORE_IF_EXISTS);
	cJSON_Delete(c);
	audit_add(b, req, &p, "node.rename", id, id, "ok", NULL);
	if (!commit_or_reply(req, b, "node")) {
		http_reply_json(req, 200, n);
		n = NULL;
	}
done:
	cJSON_Delete(n);
	cJSON_Delete(body);
	return 0;
}

static int count_fn(const char *pk, const char *sk, const void *v, size_t l, void *ctx)
{
	(void)pk;
	(void)sk;
	(void)v;
	(void)l;
	(void)ctx;
	return 0;
}

/* grants held on a node: delete both index items */
struct grant_del {
	struct store_batch *b;
	const char *node_id;
};

static int grant_del_item(const char *pk, const char *sk, const void *v, size_t l, void *ctx)
{
	struct grant_del *g = ctx;
	const char *bar = strchr(sk, '|');
	char uid[ID_SIZE], gsk[SK_MAX];

	(void)v;
	(void)l;
	if (!bar || (size_t)(bar - sk) >= sizeof(uid))
		return 0;
	memcpy(uid, sk, (size_t)(bar - sk));
	uid[bar - sk] = 0;
	snprintf(gsk, sizeof(gsk), "%s|%s", g->node_id, bar + 1);
	store_batch_delete(g->b, STORE_T_GRANTS, uid, gsk, 0);
	store_batch_delete(g->b, STORE_T_GRANTS, pk, sk, 0);
	return 0;
}

static int h_node_delete(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id"), *parent;
	struct principal p;
	struct target t, pt;
	struct store_batch *b;
	char pk[ID_SIZE + 16], sk[SK_MAX];
	cJSON *n = NULL;
	int ret;

	if (need_user(s, req, &p) || need_target_node(s, req, id, &t))
		return 0;
	if (!strcmp(id, ROOT_ID))
		return http_reply_error(req, 400, "the root cannot be deleted");
	ret = node_get(s, id, &n);
	if (ret)
		return reply_store_err(req, ret, "node");
	parent = jstr(n, "parent_id");
	if (!parent || target_node(s, parent, &pt)) {
		cJSON_Delete(n);
		return reply_store_err(req, -EIO, "node");
	}
	if (need_perm(req, &p, PERM_NODE_WRITE, &pt))
		goto done;
	if (!strcmp(id, s->business_id)) {
		http_reply_error(req, 409, "the first business cannot be deleted");
		goto done;
	}
	ret = store_batch_begin(s->st, &b);
	if (ret) {
		reply_store_err(req, ret, "node");
		goto done;
	}
	/* read the node in the batch before looking below it: whatever adds a
	 * child, user or device bumps the node (node_touch), so one that
	 * commits after this read makes the delete fail (-EAGAIN, 503) */
	{
		cJSON *again = NULL;

		ret = jbget(b, STORE_T_NODES, id, "node", &again);
		cJSON_Delete(again);
		if (ret) {
			store_batch_abort(b);
			reply_store_err(req, ret, "node");
			goto done;
		}
	}
	snprintf(pk, sizeof(pk), "team|%s", id);
	if (store_query(s->st, STORE_T_NODES, id, "child|", NULL, 1, STORE_PREFIX, count_fn, NULL) >
		0 ||
	    store_query(s->st, STORE_T_USERS, pk, NULL, NULL, 1, 0, count_fn, NULL) > 0 ||
	    store_query(s->st, STORE_T_DEVICES, pk, NULL, NULL, 1, 0, count_fn, NULL) > 0) {
		store_batch_abort(b);
		http_reply_error(req, 409, "the node is not empty (children, users or devices)");
		goto done;
	}
	store_batch_delete(b, STORE_T_NODES, id, "node", STORE_IF_EXISTS);
	snprintf(sk, sizeof(sk), "child|%s", id);
	store_batch_delete(b, STORE_T_NODES, parent, sk, 0);
	{
		struct grant_del g = {b, id};

		snprintf(pk, sizeof(pk), "node|%s", id);
		store_query(s->st, STORE_T_GRANTS, pk, NULL, NULL, 0, 0, grant_del_item, &g);
	}
	snprintf(pk, sizeof(pk), "node:%s", id);
	store_batch_delete(b, STORE_T_CONFIG, pk, "config", 0);
	store_batch_delete(b, STORE_T_KEYS, pk, "dek", 0);
	audit_add(b, req, &p, "node.delete", parent, id, "ok", NULL);
	if (!commit_or_reply(req, b, "node")) {
		log_info("event=node_delete id=%s by=%s", id, p.id);
		http_reply_empty(req, 204);
	}
done:
	cJSON_Delete(n);
	return 0;
}

/* --- users --- */

static bool login_valid(const char *l)
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

/* hash holding one of the Argon2id slots */
static int hash_slot(struct srv *s, const char *pw, char out[PASSWORD_HASH_SIZE])
{
	int ret = pw_slot_take(s);

	if (ret)
		return -EAGAIN;
	ret = password_hash(pw, out);
	pw_slot_put(s);
	return ret;
}

static int check_password(struct http_req *req, const char *pw)
{
	size_t n = strlen(pw);

	if (n < PASSWORD_MIN_LEN || n > PASSWORD_MAX) {
		http_reply_error(req, 400, "password must be %d..%d bytes", PASSWORD_MIN_LEN,
				 PASSWORD_MAX);
		return 1;
	}
	return 0;
}

static int h_user_create(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *email, *name, *pw, *team, *login;
	char em[EMAIL_MAX_LEN + 1], id[ID_SIZE], hash[PASSWORD_HASH_SIZE], lg[LOGIN_MAX_LEN + 1];
	struct principal p;
	struct target t;
	struct store_batch *b;
	cJSON *body, *tn = NULL, *u = NULL;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	body = need_json(req);
	if (!body)
		return 0;
	hash[0] = 0;
	if (!(email = need_str(req, body, "email", EMAIL_MAX_LEN)) ||
	    !(name = need_str(req, body, "name", NAME_MAX_LEN)) ||
	    !(pw = need_str(req, body, "password", PASSWORD_MAX)) ||
	    !(team = need_str(req, body, "team_id", ID_SIZE)) ||
	    (login = opt_str(req, body, "login", LOGIN_MAX_LEN)) == OPT_BAD)
		goto done;
	if (email_norm(email, em)) {
		http_reply_error(req, 400, "'%s' is not an email address", email);
		goto done;
	}
	if (check_password(req, pw))
		goto done;
	if (!login) {
		snprintf(lg, sizeof(lg), "%.*s", (int)(strchr(em, '@') - em), em);
		login = lg;
	}
	if (!login_valid(login)) {
		http_reply_error(req, 400,
				 "login must be a Linux user name: 1..32 of [a-z0-9_.-], starting "
				 "with a letter or _");
		goto done;
	}
	if (need_target_node(s, req, team, &t) || need_perm(req, &p, PERM_USER_WRITE, &t))
		goto done;
	ret = node_get(s, team, &tn);
	if (ret || node_type_parse(jstr(tn, "type")) != 4) {
		http_reply_error(req, 400, "team_id must name a team");
		goto done;
	}
	ret = hash_slot(s, pw, hash);
	if (ret) {
		reply_store_err(req, ret, "user");
		goto done;
	}
	id_new(ID_PREFIX_USER, id);
	ret = store_batch_begin(s->st, &b);
	if (ret) {
		reply_store_err(req, ret, "user");
		goto done;
	}
	{
		const struct org_user_new nu = {id, em, name, login, team, hash, p.id};

		ret = org_user_add(b, &nu, now_ms(), &u);
	}
	if (ret && ret != -EEXIST) {
		store_batch_abort(b);
		reply_store_err(req, ret, ret == -ENOENT ? "team" : "user");
		goto done;
	}
	audit_add(b, req, &p, "user.create", team, id, "ok", NULL);
	ret = store_batch_commit(b);
	if (ret == -EEXIST) {
		http_reply_error(req, 409, "a user with that email already exists");
		goto done;
	}
	if (ret) {
		reply_store_err(req, ret, "user");
		goto done;
	}
	log_info("event=user_create id=%s team=%s by=%s", id, team, p.id);
	http_reply_json(req, 201, user_view(u));
done:
	crypto_wipe(hash, sizeof(hash));
	cJSON_Delete(u);
	cJSON_Delete(tn);
	cJSON_Delete(body);
	return 0;
}

static int h_user_get(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct principal p;
	struct target t;
	cJSON *u;
	int ret;

	if (need_user(s, req, &p) || need_target_user(s, req, id, &t) ||
	    need_perm(req, &p, PERM_USER_READ, &t))
		return 0;
	ret = jget(s, STORE_T_USERS, id, "user", &u);
	if (ret)
		return reply_store_err(req, ret, "user");
	ret = http_reply_json(req, 200, user_view(u));
	cJSON_Delete(u);
	return ret;
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
	w->err = for_each_team(w->s, sk + 6, w->depth + 1, w->fn, w->ctx);
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
	ret = store_query(s->st, STORE_T_NODES, id, "child|", NULL, 0, STORE_PREFIX, team_walk_item,
			  &w);
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
	if (jget(l->s, STORE_T_USERS, sk, "user", &u))
		return 0;
	cJSON_AddItemToArray(l->arr, user_view(u));
	cJSON_Delete(u);
	return ++l->n >= LIST_MAX ? 1 : 0;
}

static int user_list_team(struct srv *s, const char *team, void *ctx)
{
	struct user_list *l = ctx;
	char pk[ID_SIZE + 8];
	int ret;

	if (l->n >= LIST_MAX)
		return 1;
	ret = target_node(s, team, &l->team);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	snprintf(pk, sizeof(pk), "team|%s", team);
	ret = store_query(s->st, STORE_T_USERS, pk, NULL, NULL, 0, 0, user_list_item, l);
	return ret < 0 ? ret : 0;
}

static int h_user_list(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *node = http_req_query(req, "node_id");
	struct principal p;
	struct target t;
	struct user_list l;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	if (!node)
		return http_reply_error(req, 400, "node_id is required");
	if (need_target_node(s, req, node, &t) || need_perm(req, &p, PERM_USER_READ, &t))
		return 0;
	out = cJSON_CreateObject();
	l = (struct user_list){.p = &p, .s = s, .arr = cJSON_AddArrayToObject(out, "users")};
	ret = for_each_team(s, node, 0, user_list_team, &l);
	if (ret < 0) {
		cJSON_Delete(out);
		return reply_store_err(req, ret, "users");
	}
	if (l.n >= LIST_MAX)
		cJSON_AddTrueToObject(out, "truncated");
	return http_reply_json(req, 200, out);
}

/*
 * In batch b, which writes back user item u of uid: end every session of
 * uid. Their tokens are deleted (the index, srv.h), and u's sessions_after
 * is set to now for tokens stored before the index existed. The number of
 * tokens deleted, or -errno. Follow the commit with user_tokens_sweep().
 */
static int end_sessions(struct srv *s, struct store_batch *b, cJSON *u, const char *uid)
{
	cJSON_DeleteItemFromObjectCaseSensitive(u, "sessions_after");
	cJSON_AddNumberToObject(u, "sessions_after", (double)now_ms());
	return user_tokens_revoke(s, b, uid, NULL);
}

/*
 * PATCH /users/{id}: name, login, password, disabled. A password here is an
 * administrator's reset of someone else's (one's own: POST /me/password,
 * which needs the current one); a reset or a disable ends the user's
 * sessions.
 */
static int h_user_patch(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id"), *name, *login, *pw;
	char hash[PASSWORD_HASH_SIZE];
	struct principal p;
	struct target t;
	struct store_batch *b = NULL;
	cJSON *body, *u = NULL, *dis, *changed, *detail = NULL;
	int ret;

	if (need_user(s, req, &p) || need_target_user(s, req, id, &t) ||
	    need_perm(req, &p, PERM_USER_WRITE, &t) || need_holds_all_of(s, req, &p, id))
		return 0;
	body = need_json(req);
	if (!body)
		return 0;
	hash[0] = 0;
	changed = cJSON_CreateArray();
	if ((name = opt_str(req, body, "name", NAME_MAX_LEN)) == OPT_BAD ||
	    (login = opt_str(req, body, "login", LOGIN_MAX_LEN)) == OPT_BAD ||
	    (pw = opt_str(req, body, "password", PASSWORD_MAX)) == OPT_BAD)
		goto done;
	dis = cJSON_GetObjectItemCaseSensitive(body, "disabled");
	if (dis && !cJSON_IsBool(dis)) {
		http_reply_error(req, 400, "disabled must be true or false");
		goto done;
	}
	if (login && !login_valid(login)) {
		http_reply_error(req, 400, "login must be 1..32 of [a-z0-9_.-]");
		goto done;
	}
	if (dis && cJSON_IsTrue(dis) && !strcmp(id, p.id)) {
		http_reply_error(req, 409, "you cannot disable yourself");
		goto done;
	}
	if (pw && !strcmp(id, p.id)) {
		http_reply_error(req, 403,
				 "change your own password with POST /api/v1/me/password (it needs "
				 "the current password)");
		goto done;
	}
	if (pw && (check_password(req, pw) || (ret = hash_slot(s, pw, hash)))) {
		if (pw && strlen(pw) >= PASSWORD_MIN_LEN)
			reply_store_err(req, -EAGAIN, "user");
		goto done;
	}
	ret = store_batch_begin(s->st, &b);
	if (!ret)
		ret = jbget(b, STORE_T_USERS, id, "user", &u);
	if (ret) {
		reply_store_err(req, ret, "user");
		goto done;
	}
#define SET_(k, v)                                                                                 \
	do {                                                                                       \
		cJSON_DeleteItemFromObjectCaseSensitive(u, k);                                     \
		cJSON_AddItemToObject(u, k, v);                                                    \
		cJSON_AddItemToArray(changed, cJSON_CreateString(k));                              \
	} while (0)
	if (name)
		SET_("name", cJSON_CreateString(name));
	if (login)
		SET_("login", cJSON_CreateString(login));
	if (dis)
		SET_("disabled", cJSON_CreateBool(cJSON_IsTrue(dis)));
#undef SET_
	if (pw) {
		/* a reset by someone else: audited apart, and every session of
		 * the user ends */
		cJSON_DeleteItemFromObjectCaseSensitive(u, "pw");
		cJSON_AddStringToObject(u, "pw", hash);
	}
	ret = 0;
	if (pw || (dis && cJSON_IsTrue(dis)))
		ret = end_sessions(s, b, u, id);
	if (ret >= 0 && pw) {
		detail = cJSON_CreateObject();
		cJSON_AddNumberToObject(detail, "sessions_revoked", ret);
		ret = audit_add(b, req, &p, "user.password_reset", t.path[t.depth - 1], id, "ok",
				detail);
	}
	if (ret >= 0 && (!pw || cJSON_GetArraySize(changed)))
		ret = audit_add(b, req, &p,
				dis ? (cJSON_IsTrue(dis) ? "user.disable" : "user.enable")
				    : "user.update",
				t.path[t.depth - 1], id, "ok", changed);
	if (ret >= 0)
		ret = jput(b, STORE_T_USERS, id, "user", u, STORE_IF_EXISTS);
	if (ret >= 0) {
		ret = store_batch_commit(b);
		b = NULL;
	}
	if (ret) {
		reply_store_err(req, ret, "user");
		goto done;
	}
	if ((pw || (dis && cJSON_IsTrue(dis))) && (ret = user_tokens_sweep(s, id, NULL)) < 0)
		log_warn("event=token_sweep_failed user=%s err=%s", id, strerror(-ret));
	http_reply_json(req, 200, user_view(u));
done:
	store_batch_abort(b);
	crypto_wipe(hash, sizeof(hash));
	cJSON_Delete(detail);
	cJSON_Delete(changed);
	cJSON_Delete(u);
	cJSON_Delete(body);
	return 0;
}

static int set_disabled(struct http_req *req, struct srv *s, bool off)
{
	const char *id = http_req_param(req, "id");
	struct principal p;
	struct target t;
	struct store_batch *b;
	cJSON *u = NULL, *detail;
	int ret;

	if (need_user(s, req, &p) || need_target_user(s, req, id, &t) ||
	    need_perm(req, &p, PERM_USER_WRITE, &t))
		return 0;
	if (off && !strcmp(id, p.id))
		return http_reply_error(req, 409, "you cannot disable yourself");
	if (need_holds_all_of(s, req, &p, id))
		return 0;
	ret = store_batch_begin(s->st, &b);
	if (ret)
		return reply_store_err(req, ret, "user");
	ret = jbget(b, STORE_T_USERS, id, "user", &u);
	if (ret) {
		store_batch_abort(b);
		return reply_store_err(req, ret, "user");
	}
	cJSON_DeleteItemFromObjectCaseSensitive(u, "disabled");
	cJSON_AddBoolToObject(u, "disabled", off);
	/* disabling ends every session; enabling brings none back */
	ret = off ? end_sessions(s, b, u, id) : 0;
	if (ret >= 0) {
		detail = off ? cJSON_CreateObject() : NULL;
		if (detail)
			cJSON_AddNumberToObject(detail, "sessions_revoked", ret);
		ret = audit_add(b, req, &p, off ? "user.disable" : "user.enable",
				t.path[t.depth - 1], id, "ok", detail);
		cJSON_Delete(detail);
	}
	if (ret >= 0)
		ret = jput(b, STORE_T_USERS, id, "user", u, STORE_IF_EXISTS);
	if (ret < 0)
		store_batch_abort(b);
	else
		ret = store_batch_commit(b);
	if (ret) {
		cJSON_Delete(u);
		return reply_store_err(req, ret, "user");
	}
	if (off && (ret = user_tokens_sweep(s, id, NULL)) < 0)
		log_warn("event=token_sweep_failed user=%s err=%s", id, strerror(-ret));
	log_info("event=%s id=%s by=%s", off ? "user_disable" : "user_enable", id, p.id);
	ret = http_reply_json(req, 200, user_view(u));
	cJSON_Delete(u);
	return ret;
}

static int h_user_disable(struct http_req *req, void *arg)
{
	return set_disabled(req, arg, true);
}

static int h_user_enable(struct http_req *req, void *arg)
{
	return set_disabled(req, arg, false);
}

/* --- roles --- */

static int role_list_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	cJSON *e = cJSON_ParseWithLength(val, len);

	(void)pk;
	(void)sk;
	if (e) {
		cJSON_AddFalseToObject(e, "builtin");
		cJSON_AddItemToArray(ctx, e);
	}
	return 0;
}

static cJSON *perm_array(uint32_t perms)
{
	cJSON *a = cJSON_CreateArray();
	unsigned bit;

	for (bit = 0; bit < PERMB__COUNT; bit++)
		if (perms & (1u << bit))
			cJSON_AddItemToArray(a, cJSON_CreateString(perm_name(1u << bit)));
	return a;
}

static int h_role_list(struct http_req *req, void *arg)
{
	static const char *const builtin[] = {"admin", "manager", "employee"};
	struct srv *s = arg;
	struct principal p;
	cJSON *out, *arr;
	uint32_t perms;
	size_t i;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	out = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(out, "roles");
	for (i = 0; i < 3; i++) {
		cJSON *e = cJSON_CreateObject();

		role_builtin(builtin[i], &perms);
		cJSON_AddStringToObject(e, "name", builtin[i]);
		cJSON_AddItemToObject(e, "permissions", perm_array(perms));
		cJSON_AddTrueToObject(e, "builtin");
		cJSON_AddItemToArray(arr, e);
	}
	ret = store_query(s->st, STORE_T_ROLES, "roles", NULL, NULL, MAX_ROLES, 0, role_list_item,
			  arr);
	if (ret < 0) {
		cJSON_Delete(out);
		return reply_store_err(req, ret, "roles");
	}
	return http_reply_json(req, 200, out);
}

static int h_role_create(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	struct target root;
	struct store_batch *b;
	const char *name;
	cJSON *body, *perms, *e, *role = NULL;
	uint32_t bits = 0, dummy;
	char ts[32], rid[ID_SIZE];
	int ret, n;

	if (need_user(s, req, &p))
		return 0;
	target_node(s, ROOT_ID, &root);
	if (need_perm(req, &p, PERM_ROLE_WRITE, &root))
		return 0;
	body = need_json(req);
	if (!body)
		return 0;
	if (!(name = need_str(req, body, "name", 64)))
		goto done;
	if (!role_name_valid(name)) {
		http_reply_error(req, 400,
				 "role name: 1..64 of [a-z0-9_-], starting with a letter");
		goto done;
	}
	if (!role_builtin(name, &dummy)) {
		http_reply_error(req, 409, "'%s' is a built-in role", name);
		goto done;
	}
	perms = cJSON_GetObjectItemCaseSensitive(body, "permissions");
	if (!cJSON_IsArray(perms)) {
		http_reply_error(req, 400, "permissions must be an array of permission names");
		goto done;
	}
	cJSON_ArrayForEach(e, perms)
	{
		uint32_t bit = cJSON_IsString(e) ? perm_parse(e->valuestring) : 0;

		if (!bit) {
			http_reply_error(req, 400, "unknown permission %s",
					 cJSON_IsString(e) ? e->valuestring : "(not a string)");
			goto done;
		}
		bits |= bit;
	}
	n = store_query(s->st, STORE_T_ROLES, "roles", NULL, NULL, MAX_ROLES, 0, count_fn, NULL);
	if (n >= MAX_ROLES) {
		http_reply_error(req, 409, "at most %d custom roles", MAX_ROLES);
		goto done;
	}
	id_new(ID_PREFIX_ROLE, rid);
	role = cJSON_CreateObject();
	cJSON_AddStringToObject(role, "name", name);
	cJSON_AddStringToObject(role, "id", rid);
	cJSON_AddItemToObject(role, "permissions", perm_array(bits));
	cJSON_AddStringToObject(role, "by", p.id);
	cJSON_AddStringToObject(role, "at", rfc3339_ms(now_ms(), ts));
	ret = store_batch_begin(s->st, &b);
	if (ret) {
		reply_store_err(req, ret, "role");
		goto done;
	}
	jput(b, STORE_T_ROLES, "roles", name, role, STORE_IF_ABSENT);
	audit_add(b, req, &p, "role.create", ROOT_ID, name, "ok",
		  cJSON_GetObjectItemCaseSensitive(role, "permissions"));
	ret = commit_or_reply(req, b, "role");
	if (!ret) {
		cJSON_AddFalseToObject(role, "builtin");
		http_reply_json(req, 201, role);
		role = NULL;
	}
done:
	cJSON_Delete(role);
	cJSON_Delete(body);
	return 0;
}

static int h_role_delete(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *name = http_req_param(req, "name");
	struct principal p;
	struct target root;
	struct store_batch *b;
	uint32_t dummy;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	target_node(s, ROOT_ID, &root);
	if (need_perm(req, &p, PERM_ROLE_WRITE, &root))
		return 0;
	if (!role_builtin(name, &dummy))
		return http_reply_error(req, 409, "'%s' is a built-in role", name);
	if (!role_name_valid(name))
		return http_reply_error(req, 404, "role not found");
	ret = store_batch_begin(s->st, &b);
	if (ret)
		return reply_store_err(req, ret, "role");
	store_batch_delete(b, STORE_T_ROLES, "roles", name, STORE_IF_EXISTS);
	audit_add(b, req, &p, "role.delete", ROOT_ID, name, "ok", NULL);
	if (!commit_or_reply(req, b, "role"))
		http_reply_empty(req, 204);
	return 0;
}

/* --- grants --- */

/* Read and check user_id, role, node_id (from the body or the query); the
 * node's target into nt, the user's into ut. 0, or 1 after replying. */
static int grant_args(struct srv *s, struct http_req *req, const cJSON *body, const char **uid,
		      const char **role, const char **node, struct target *nt, struct target *ut)
{
	uint32_t perms;
	int ret;

	if (body) {
		if (!(*uid = need_str(req, body, "user_id", ID_SIZE)) ||
		    !(*role = need_str(req, body, "role", 64)) ||
		    !(*node = need_str(req, body, "node_id", ID_SIZE)))
			return 1;
	} else {
		*uid = http_req_query(req, "user_id");
		*role = http_req_query(req, "role");
		*node = http_req_query(req, "node_id");
		if (!*uid || !*role || !*node) {
			http_reply_error(req, 400, "user_id, role and node_id are required");
			return 1;
		}
	}
	if (need_target_node(s, req, *node, nt) || need_target_user(s, req, *uid, ut))
		return 1;
	if (!role_name_valid(*role) || (ret = role_perms(s, *role, &perms)) == -ENOENT) {
		http_reply_error(req, 400, "unknown role '%s'", *role);
		return 1;
	}
	if (ret) {
		reply_store_err(req, ret, "role");
		return 1;
	}
	return 0;
}

static int h_grant_create(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *uid, *role, *node;
	struct principal p, holder;
	struct target nt, ut;
	struct store_batch *b;
	char rid[ID_SIZE];
	cJSON *body, *g = NULL, *x;
	uint32_t perms;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	body = need_json(req);
	if (!body)
		return 0;
	if (grant_args(s, req, body, &uid, &role, &node, &nt, &ut) ||
	    need_perm(req, &p, PERM_GRANT_WRITE, &nt))
		goto done;
	/* a grant stays within the user's business: one on another business's
	 * node would show that business to the user and take the user out of
	 * their own admins' hands (need_holds_all_of); only a granter over
	 * both (the root admin) may */
	if (strcmp(target_business(&nt), target_business(&ut)) &&
	    authorize(&p, PERM_GRANT_WRITE, &ut)) {
		http_reply_error(req, 403,
				 "forbidden: the user belongs to another business than the node; "
				 "granting across businesses needs grant.write over the user's "
				 "team too");
		goto done;
	}
	ret = role_get(s, role, &perms, rid);
	if (ret) {
		reply_store_err(req, ret, "role");
		goto done;
	}
	if (perms & ~perms_on(&p, &nt)) {
		http_reply_error(req, 403, "forbidden: role '%s' holds permissions you lack here",
				 role);
		goto done;
	}
	memset(&holder, 0, sizeof(holder));
	snprintf(holder.id, sizeof(holder.id), "%s", uid);
	ret = principal_load_grants(s, &holder);
	if (ret) {
		reply_store_err(req, ret, "grants");
		goto done;
	}
	if (holder.n_grants >= MAX_GRANTS) {
		http_reply_error(req, 409, "a user holds at most %d grants", MAX_GRANTS);
		goto done;
	}
	ret = store_batch_begin(s->st, &b);
	if (ret) {
		reply_store_err(req, ret, "grant");
		goto done;
	}
	org_grant_add(b, uid, node, role, rid, p.id, now_ms(), &g);
	x = cJSON_CreateObject();
	cJSON_AddStringToObject(x, "role", role);
	cJSON_AddStringToObject(x, "user_id", uid);
	audit_add(b, req, &p, "grant.create", node, uid, "ok", x);
	cJSON_Delete(x);
	ret = store_batch_commit(b);
	if (ret == -EEXIST) {
		http_reply_error(req, 409, "the user already holds that role there");
		goto done;
	}
	if (ret) {
		reply_store_err(req, ret, "grant");
		goto done;
	}
	log_info("event=grant user=%s role=%s node=%s by=%s", uid, role, node, p.id);
	http_reply_json(req, 201, g);
	g = NULL;
done:
	cJSON_Delete(g);
	cJSON_Delete(body);
	return 0;
}

static int h_grant_delete(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *uid, *role, *node;
	struct principal p;
	struct target nt, ut;
	struct store_batch *b;
	char sk[SK_MAX], pk[ID_SIZE + 8];
	cJSON *x;
	int ret;

	if (need_user(s, req, &p) || grant_args(s, req, NULL, &uid, &role, &node, &nt, &ut) ||
	    need_perm(req, &p, PERM_GRANT_WRITE, &nt))
		return 0;
	if (!strcmp(uid, p.id))
		return http_reply_error(req, 409, "you cannot revoke your own grants");
	{
		uint32_t perms = 0;

		/* nobody revokes more than they hold there (no lock-out from below) */
		role_perms(s, role, &perms);
		if (perms & ~perms_on(&p, &nt))
			return http_reply_error(
			    req, 403, "forbidden: role '%s' holds permissions you lack here", role);
	}
	ret = store_batch_begin(s->st, &b);
	if (ret)
		return reply_store_err(req, ret, "grant");
	snprintf(sk, sizeof(sk), "%s|%s", node, role);
	store_batch_delete(b, STORE_T_GRANTS, uid, sk, STORE_IF_EXISTS);
	snprintf(pk, sizeof(pk), "node|%s", node);
	snprintf(sk, sizeof(sk), "%s|%s", uid, role);
	store_batch_delete(b, STORE_T_GRANTS, pk, sk, 0);
	x = cJSON_CreateObject();
	cJSON_AddStringToObject(x, "role", role);
	cJSON_AddStringToObject(x, "user_id", uid);
	audit_add(b, req, &p, "grant.revoke", node, uid, "ok", x);
	cJSON_Delete(x);
	ret = store_batch_commit(b);
	if (ret)
		return reply_store_err(req, ret, "grant");
	log_info("event=revoke user=%s role=%s node=%s by=%s", uid, role, node, p.id);
	return http_reply_empty(req, 204);
}

struct grant_list {
	struct srv *s;
	const struct principal *p;
	bool self;
	cJSON *arr;
};

/* a grant is shown to its holder, and to those who may read users where it
 * sits: a manager of one team does not learn where else the user holds what */
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
	cJSON_AddItemToArray(l->arr, e);
	return 0;
}

static int h_grant_list(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *uid = http_req_query(req, "user_id");
	struct principal p;
	struct target t;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	if (!uid)
		return http_reply_error(req, 400, "user_id is required");
	if (need_target_user(s, req, uid, &t) || need_perm(req, &p, PERM_USER_READ, &t))
		return 0;
	out = cJSON_CreateObject();
	{
		struct grant_list l = {s, &p, !strcmp(uid, p.id),
				       cJSON_AddArrayToObject(out, "grants")};

		ret = store_query(s->st, STORE_T_GRANTS, uid, NULL, NULL, MAX_GRANTS, 0,
				  grant_list_item, &l);
	}
	if (ret < 0) {
		cJSON_Delete(out);
		return reply_store_err(req, ret, "grants");
	}
	return http_reply_json(req, 200, out);
}

int api_org_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"POST", "/api/v1/nodes", h_node_create, s},
	    {"GET", "/api/v1/nodes/{id}", h_node_get, s},
	    {"GET", "/api/v1/nodes/{id}/children", h_node_children, s},
	    {"PATCH", "/api/v1/nodes/{id}", h_node_rename, s},
	    {"DELETE", "/api/v1/nodes/{id}", h_node_delete, s},
	    {"POST", "/api/v1/users", h_user_create, s},
	    {"GET", "/api/v1/users", h_user_list, s},
	    {"GET", "/api/v1/users/{id}", h_user_get, s},
	    {"PATCH", "/api/v1/users/{id}", h_user_patch, s},
	    {"POST", "/api/v1/users/{id}/disable", h_user_disable, s},
	    {"POST", "/api/v1/users/{id}/enable", h_user_enable, s},
	    {"GET", "/api/v1/roles", h_role_list, s},
	    {"POST", "/api/v1/roles", h_role_create, s},
	    {"DELETE", "/api/v1/roles/{name}", h_role_delete, s},
	    {"GET", "/api/v1/grants", h_grant_list, s},
	    {"POST", "/api/v1/grants", h_grant_create, s},
	    {"DELETE", "/api/v1/grants", h_grant_delete, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
