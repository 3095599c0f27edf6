// SPDX-License-Identifier: BSD-2-Clause
/*
 * api/org.c - the routes of the organisation: nodes (business > domain >
 * project > team), users, roles and grants:
 *   POST /api/v1/nodes, GET|PATCH|DELETE /api/v1/nodes/{id},
 *   GET /api/v1/nodes/{id}/children
 *   POST|GET /api/v1/users, GET|PATCH /api/v1/users/{id},
 *   POST /api/v1/users/{id}/disable, POST /api/v1/users/{id}/enable,
 *   POST /api/v1/users/{id}/erase, GET /api/v1/users/{id}/export.zip
 *   GET|POST /api/v1/roles, DELETE /api/v1/roles/{name}
 *   GET|POST|DELETE /api/v1/grants
 * See docs/API.md. Each handler parses the request, authorizes it (who may
 * do what where: model/org.h), makes one call of model/org.h (the items,
 * the rules: placement, no escalation, no lock-out, businesses) and
 * replies; a rule that answers before the authorization is asked first
 * through the model's check. The audit entry of a change is added here
 * (audit_add() needs the request), through the org_audit_fn the model
 * calls inside the change's batch.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "log.h"
#include "model/erase.h"
#include "model/export.h"
#include "model/org.h"
#include "util.h"

/* Reply for an error of a model/org.h call: a refusal with its message
 * (the status by err), else reply_store_err() naming why->what. */
static int reply_org_err(struct http_req *req, int err, const struct model_why *why)
{
	int st;

	if (!why->msg[0])
		return reply_store_err(req, err, why->what ? why->what : "item");
	switch (err) {
	case -EINVAL:
		st = 400;
		break;
	case -EACCES:
		st = 403;
		break;
	case -ENOENT:
		st = 404;
		break;
	default: /* -EPERM, -EEXIST, -ENOTEMPTY, -ENOSPC (a cap) */
		st = 409;
		break;
	}
	return http_reply_error(req, st, "%s", why->msg);
}

/* --- nodes --- */

static int h_node_create(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	struct api_actor w = {req, &p};
	struct model_why why;
	struct target pt;
	const char *type, *name, *parent;
	cJSON *body, *node;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	body = need_json(req);
	if (!body)
		return 0;
	if (!(type = need_str(req, body, "type", 16)) ||
	    !(name = need_str(req, body, "name", NAME_MAX_LEN)) ||
	    (parent = opt_str(req, body, "parent_id", ID_SIZE)) == OPT_BAD)
		goto done;
	if (!parent)
		parent = ROOT_ID;
	ret = org_node_place(s, type, parent, &why);
	if (ret) {
		reply_org_err(req, ret, &why);
		goto done;
	}
	if (need_target_node(s, req, parent, &pt) || need_perm(req, &p, PERM_NODE_WRITE, &pt))
		goto done;
	ret = org_node_create(s, type, name, &pt, api_audit_ok, &w, &node);
	if (ret) {
		reply_store_err(req, ret, "node");
		goto done;
	}
	log_info("event=node_create id=%s type=%s by=%s", jstr(node, "id"), type, p.id);
	http_reply_json(req, 201, node);
done:
	cJSON_Delete(body);
	return 0;
}

static int h_node_get(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct principal p;
	struct target t;
	cJSON *n;
	int ret;

	if (need_user(s, req, &p) || need_target_node(s, req, id, &t) ||
	    need_perm(req, &p, PERM_NODE_READ, &t))
		return 0;
	ret = org_node_get(s, id, &n);
	if (ret)
		return reply_store_err(req, ret, "node");
	return http_reply_json(req, 200, n);
}

static int h_node_children(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct principal p;
	struct model_why why;
	struct target t;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p) || need_target_node(s, req, id, &t))
		return 0;
	ret = org_node_children(s, &p, id, &t, &out, &why);
	if (ret)
		return reply_org_err(req, ret, &why);
	return http_reply_json(req, 200, out);
}

static int h_node_rename(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id"), *name;
	struct principal p;
	struct api_actor w = {req, &p};
	struct model_why why;
	struct target t;
	cJSON *body, *n;
	int ret;

	if (need_user(s, req, &p) || need_target_node(s, req, id, &t))
		return 0;
	ret = org_node_changeable(id, "renamed", &why);
	if (ret)
		return reply_org_err(req, ret, &why);
	if (need_perm(req, &p, PERM_NODE_WRITE, &t))
		return 0;
	body = need_json(req);
	if (!body || !(name = need_str(req, body, "name", NAME_MAX_LEN)))
		goto done;
	ret = org_node_rename(s, id, name, api_audit_ok, &w, &n);
	if (ret)
		reply_store_err(req, ret, "node");
	else
		http_reply_json(req, 200, n);
done:
	cJSON_Delete(body);
	return 0;
}

static int h_node_delete(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct principal p;
	struct api_actor w = {req, &p};
	struct model_why why;
	struct target t, pt;
	int ret;

	if (need_user(s, req, &p) || need_target_node(s, req, id, &t))
		return 0;
	/* node.write on the parent deletes */
	ret = org_node_delete_scope(s, id, &pt, &why);
	if (ret)
		return reply_org_err(req, ret, &why);
	if (need_perm(req, &p, PERM_NODE_WRITE, &pt))
		return 0;
	ret = org_node_delete(s, id, &pt, api_audit_ok, &w, &why);
	if (ret)
		return reply_org_err(req, ret, &why);
	log_info("event=node_delete id=%s by=%s", id, p.id);
	return http_reply_empty(req, 204);
}

/* --- users --- */

static int h_user_create(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct org_user_req r = {0};
	struct principal p;
	struct api_actor w = {req, &p};
	struct model_why why;
	struct target t;
	cJSON *body, *u;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	body = need_json(req);
	if (!body)
		return 0;
	if (!(r.email = need_str(req, body, "email", EMAIL_MAX_LEN)) ||
	    !(r.name = need_str(req, body, "name", NAME_MAX_LEN)) ||
	    !(r.password = need_str(req, body, "password", PASSWORD_MAX)) ||
	    !(r.team_id = need_str(req, body, "team_id", ID_SIZE)) ||
	    (r.login = opt_str(req, body, "login", LOGIN_MAX_LEN)) == OPT_BAD)
		goto done;
	ret = org_user_check(&r, &why);
	if (ret) {
		reply_org_err(req, ret, &why);
		goto done;
	}
	if (need_target_node(s, req, r.team_id, &t) || need_perm(req, &p, PERM_USER_WRITE, &t))
		goto done;
	ret = org_user_create(s, &r, p.id, api_audit_ok, &w, &u, &why);
	if (ret) {
		reply_org_err(req, ret, &why);
		goto done;
	}
	log_info("event=user_create id=%s team=%s by=%s", jstr(u, "id"), r.team_id, p.id);
	http_reply_json(req, 201, u);
done:
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
	ret = org_user_get(s, id, &u);
	if (ret)
		return reply_store_err(req, ret, "user");
	return http_reply_json(req, 200, u);
}

static int h_user_list(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *node = http_req_query(req, "node_id");
	struct principal p;
	struct target t;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	if (!node)
		return http_reply_error(req, 400, "node_id is required");
	if (need_target_node(s, req, node, &t) || need_perm(req, &p, PERM_USER_READ, &t))
		return 0;
	ret = org_user_list(s, &p, node, &out);
	if (ret)
		return reply_store_err(req, ret, "users");
	return http_reply_json(req, 200, out);
}

/*
 * PATCH /users/{id}: name, login, tz, password, disabled. A password here is an
 * administrator's reset of someone else's (one's own: POST /me/password,
 * which needs the current one); a reset or a disable ends the user's
 * sessions.
 */
static int h_user_patch(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct org_user_change c = {.disabled = -1};
	struct principal p;
	struct api_actor w = {req, &p};
	struct model_why why;
	struct target t, nt;
	const char *team;
	cJSON *body, *dis, *u = NULL;
	int ret, sweep_err;

	if (need_user(s, req, &p) || need_target_user(s, req, id, &t) ||
	    need_perm(req, &p, PERM_USER_WRITE, &t) || need_holds_all_of(s, req, &p, id))
		return 0;
	body = need_json(req);
	if (!body)
		return 0;
	if ((c.name = opt_str(req, body, "name", NAME_MAX_LEN)) == OPT_BAD ||
	    (c.login = opt_str(req, body, "login", LOGIN_MAX_LEN)) == OPT_BAD ||
	    (c.tz = opt_str(req, body, "tz", TZ_NAME_MAX)) == OPT_BAD ||
	    (c.password = opt_str(req, body, "password", PASSWORD_MAX)) == OPT_BAD)
		goto done;
	dis = cJSON_GetObjectItemCaseSensitive(body, "disabled");
	if (dis && !cJSON_IsBool(dis)) {
		http_reply_error(req, 400, "disabled must be true or false");
		goto done;
	}
	if (dis)
		c.disabled = cJSON_IsTrue(dis);
	if ((team = opt_str(req, body, "team_id", ID_SIZE)) == OPT_BAD)
		goto done;
	/* a move: user.write on the new team too (the old one: above); a bad
	 * login is refused before it, so a refused body changes nothing */
	if (team && c.login && !org_login_valid(c.login)) {
		http_reply_error(req, 400, "login must be 1..32 of [a-z0-9_.-]");
		goto done;
	}
	if (team && strcmp(team, t.path[t.depth - 1])) {
		if (need_target_node(s, req, team, &nt) || need_perm(req, &p, PERM_USER_WRITE, &nt))
			goto done;
		ret = org_user_move(s, p.id, id, t.path[t.depth - 1], team, api_audit_ok, &w, &u,
				    &why);
		if (ret) {
			reply_org_err(req, ret, &why);
			goto done;
		}
		log_info("event=user_move id=%s from=%s to=%s by=%s", id, t.path[t.depth - 1], team,
			 p.id);
		t = nt;
	}
	if (c.name || c.login || c.password || c.disabled >= 0 || !u) {
		cJSON_Delete(u);
		ret = org_user_update(s, p.id, id, t.path[t.depth - 1], &c, api_audit_ok, &w, &u,
				      &sweep_err, &why);
		if (ret) {
			reply_org_err(req, ret, &why);
			goto done;
		}
	} else {
		sweep_err = 0;
	}
	if (sweep_err)
		log_warn("event=token_sweep_failed user=%s err=%s", id, strerror(-sweep_err));
	http_reply_json(req, 200, u);
done:
	cJSON_Delete(body);
	return 0;
}

/*
 * PATCH /me {name, tz}: a signed-in user changes their own display name and
 * preferred time zone (nothing else: no permission is needed, and the login,
 * password and state stay with PATCH /users/{id} and POST /me/password; a
 * personal API token needs user.write in its scopes). Audited as
 * user.update, as PATCH /users/{id} is.
 */
static int h_me_patch(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct org_user_change c = {.disabled = -1};
	struct principal p;
	struct api_actor w = {req, &p};
	struct model_why why;
	cJSON *body, *u, *k;
	int ret, sweep_err;

	if (need_user(s, req, &p))
		return 0;
	/* no permission needed with a sign-in token; a personal API token
	 * changes its user's profile only with user.write in its scopes (as
	 * the profile picture) */
	if (p.personal && !(p.scopes & PERM_USER_WRITE))
		return http_reply_error(req, 403,
					"forbidden: a personal API token changes its user's "
					"profile only with user.write in its scopes");
	body = need_json(req);
	if (!body)
		return 0;
	cJSON_ArrayForEach(k, body)
	{
		if (strcmp(k->string, "name") && strcmp(k->string, "tz")) {
			http_reply_error(req, 400, "only 'name' and 'tz' change here");
			goto done;
		}
	}
	if ((c.name = opt_str(req, body, "name", NAME_MAX_LEN)) == OPT_BAD ||
	    (c.tz = opt_str(req, body, "tz", TZ_NAME_MAX)) == OPT_BAD)
		goto done;
	if (!c.name && !c.tz) {
		http_reply_error(req, 400, "give 'name' or 'tz'");
		goto done;
	}
	ret = org_user_update(s, p.id, p.id, p.team_id[0] ? p.team_id : NULL, &c, api_audit_ok, &w,
			      &u, &sweep_err, &why);
	if (ret) {
		reply_org_err(req, ret, &why);
		goto done;
	}
	http_reply_json(req, 200, u);
done:
	cJSON_Delete(body);
	return 0;
}

static int set_disabled(struct http_req *req, struct srv *s, bool off)
{
	const char *id = http_req_param(req, "id");
	struct principal p;
	struct api_actor w = {req, &p};
	struct model_why why;
	struct target t;
	cJSON *u;
	int ret, sweep_err;

	if (need_user(s, req, &p) || need_target_user(s, req, id, &t) ||
	    need_perm(req, &p, PERM_USER_WRITE, &t))
		return 0;
	/* no lock-out, answered before the grants are compared */
	if (off && (ret = org_user_disable_check(p.id, id, &why)))
		return reply_org_err(req, ret, &why);
	if (need_holds_all_of(s, req, &p, id))
		return 0;
	ret = org_user_set_disabled(s, p.id, id, t.path[t.depth - 1], off, api_audit_ok, &w, &u,
				    &sweep_err, &why);
	if (ret)
		return reply_org_err(req, ret, &why);
	if (sweep_err)
		log_warn("event=token_sweep_failed user=%s err=%s", id, strerror(-sweep_err));
	log_info("event=%s id=%s by=%s", off ? "user_disable" : "user_enable", id, p.id);
	return http_reply_json(req, 200, u);
}

static int h_user_disable(struct http_req *req, void *arg)
{
	return set_disabled(req, arg, true);
}

static int h_user_enable(struct http_req *req, void *arg)
{
	return set_disabled(req, arg, false);
}

/*
 * POST /users/{id}/erase {"confirm": "<the user's email>"}: one step of the
 * erasure (model/erase.h); the client repeats it until "done".
 */
static int h_user_erase(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id"), *confirm;
	struct principal p;
	struct api_actor w = {req, &p};
	struct model_why why;
	struct target t;
	cJSON *body = NULL, *out;
	int ret;

	if (need_user(s, req, &p) || need_target_user(s, req, id, &t) ||
	    need_perm(req, &p, PERM_USER_WRITE, &t))
		return 0;
	if (need_session(req, &p, "erase a user"))
		return 0;
	body = need_json(req);
	if (!body)
		return 0;
	if (!(confirm = need_str(req, body, "confirm", EMAIL_MAX_LEN)))
		goto done;
	ret = erase_check(s, p.id, id, confirm, &why);
	if (ret) {
		reply_org_err(req, ret, &why);
		goto done;
	}
	if (need_holds_all_of(s, req, &p, id))
		goto done;
	ret = erase_step(s, p.id, id, api_audit_ok, &w, &out, &why);
	if (ret) {
		/* a refusal (409: also no S3 credentials for the picture's
		 * bucket) or a store error */
		reply_org_err(req, ret, &why);
		goto done;
	}
	log_info("event=user_erase id=%s by=%s done=%d", id, p.id,
		 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(out, "done")));
	http_reply_json(req, 200, out);
done:
	cJSON_Delete(body);
	return 0;
}

/* An export, built on the outbound pool (it reads S3). */
struct export_job {
	struct srv *s;
	struct principal p;
	char uid[ID_SIZE];
	char team[ID_SIZE];
};

static void export_finish(struct http_req *req, void *ctx)
{
	struct export_job *j = ctx;
	struct export_stats st;
	struct model_why why;
	char disp[96];
	uint64_t len;
	cJSON *d;
	int fd, ret = export_build(j->s, &j->p, j->uid, &fd, &len, &st, &why);

	if (ret) {
		if (ret == -EFBIG)
			http_reply_error(req, 413, "%s", why.msg);
		else if (why.msg[0] &&
			 (ret == -EKEYREJECTED || ret == -ETIMEDOUT || ret == -EREMOTEIO ||
			  ret == -EBADMSG || ret == -ENOKEY || ret == -E2BIG))
			http_reply_error(req, 502, "%s", why.msg);
		else
			reply_org_err(req, ret, &why);
		free(j);
		return;
	}
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "records", (double)st.records);
	cJSON_AddNumberToObject(d, "screenshots", (double)st.screenshots);
	cJSON_AddNumberToObject(d, "bytes", (double)len);
	audit_write(j->s, req, &j->p, "user.export", j->team, j->uid, "ok", d);
	cJSON_Delete(d);
	log_info("event=user_export id=%s by=%s bytes=%llu", j->uid, j->p.id,
		 (unsigned long long)len);
	snprintf(disp, sizeof(disp), "attachment; filename=\"actlog-%s.zip\"", j->uid);
	http_set_header(req, "Content-Disposition", disp);
	http_set_header(req, "Cache-Control", "no-store");
	http_reply_fd(req, 200, "application/zip", fd, len); /* owns fd */
	free(j);
}

/* GET /users/{id}/export.zip: user.read and activity.read on the user (the
 * user themself through the self rule). */
static int h_user_export(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct export_job *j;
	struct target t;

	j = calloc(1, sizeof(*j));
	if (!j)
		return http_reply_error(req, 503, "out of memory");
	if (need_user(s, req, &j->p) || need_target_user(s, req, id, &t) ||
	    need_perm(req, &j->p, PERM_USER_READ, &t) ||
	    need_perm(req, &j->p, PERM_ACTIVITY_READ, &t)) {
		free(j);
		return 0;
	}
	j->s = s;
	snprintf(j->uid, sizeof(j->uid), "%s", id);
	snprintf(j->team, sizeof(j->team), "%s", t.path[t.depth - 1]);
	if (need_outbound(s, req, target_business(&t), export_finish, j))
		free(j);
	return 0;
}

/* --- roles --- */

static int h_role_list(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	ret = org_role_list(s, &p, &out);
	if (ret)
		return reply_store_err(req, ret, "roles");
	return http_reply_json(req, 200, out);
}

static int h_role_create(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	struct api_actor w = {req, &p};
	struct model_why why;
	struct target scope;
	const char *name, *bid;
	cJSON *body, *role = NULL;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	body = need_json(req);
	if (!body)
		return 0;
	bid = opt_str(req, body, "business_id", ID_SIZE - 1);
	if (bid == OPT_BAD)
		goto done;
	/* a business's role: role.write on that business; else on the root */
	if (bid) {
		if (need_target_node(s, req, bid, &scope))
			goto done;
		if (scope.depth != 2 || strcmp(scope.path[1], bid)) {
			http_reply_error(req, 400, "business_id must name a business");
			goto done;
		}
	} else {
		target_node(s, ROOT_ID, &scope);
	}
	if (need_perm(req, &p, PERM_ROLE_WRITE, &scope))
		goto done;
	if (!(name = need_str(req, body, "name", 64)))
		goto done;
	ret = org_role_create(s, p.id, name, cJSON_GetObjectItemCaseSensitive(body, "permissions"),
			      bid, api_audit_ok, &w, &role, &why);
	if (ret)
		reply_org_err(req, ret, &why);
	else
		http_reply_json(req, 201, role);
done:
	cJSON_Delete(body);
	return 0;
}

static int h_role_delete(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *name = http_req_param(req, "name");
	struct principal p;
	struct api_actor w = {req, &p};
	struct model_why why;
	struct target scope;
	char bid[ID_SIZE];
	int ret;

	if (need_user(s, req, &p))
		return 0;
	ret = org_role_business(s, &p, name, bid, &why);
	if (ret)
		return reply_org_err(req, ret, &why);
	/* a business's role: role.write there; once the business is gone, on
	 * the root */
	ret = bid[0] ? target_node(s, bid, &scope) : -ENOENT;
	if (ret == -ENOENT)
		ret = target_node(s, ROOT_ID, &scope);
	if (ret)
		return reply_store_err(req, ret, "node"), 0;
	if (need_perm(req, &p, PERM_ROLE_WRITE, &scope))
		return 0;
	ret = org_role_delete(s, name, bid, api_audit_ok, &w, &why);
	if (ret)
		return reply_org_err(req, ret, &why);
	return http_reply_empty(req, 204);
}

/* --- grants --- */

/* Read and check user_id, role, node_id (from the body or the query); the
 * node's target into nt, the user's into ut. 0, or 1 after replying. */
static int grant_args(struct srv *s, struct http_req *req, const cJSON *body, const char **uid,
		      const char **role, const char **node, struct target *nt, struct target *ut)
{
	struct model_why why;
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
	ret = org_role_check(s, *role, &why);
	if (ret) {
		reply_org_err(req, ret, &why);
		return 1;
	}
	return 0;
}

static int h_grant_create(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *uid, *role, *node;
	struct principal p;
	struct api_actor w = {req, &p};
	struct model_why why;
	struct target nt, ut;
	cJSON *body, *g;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	body = need_json(req);
	if (!body)
		return 0;
	if (grant_args(s, req, body, &uid, &role, &node, &nt, &ut) ||
	    need_perm(req, &p, PERM_GRANT_WRITE, &nt))
		goto done;
	ret = org_grant_create(s, &p, uid, role, node, &nt, &ut, api_audit_ok, &w, &g, &why);
	if (ret) {
		reply_org_err(req, ret, &why);
		goto done;
	}
	log_info("event=grant user=%s role=%s node=%s by=%s", uid, role, node, p.id);
	http_reply_json(req, 201, g);
done:
	cJSON_Delete(body);
	return 0;
}

static int h_grant_delete(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *uid, *role, *node;
	struct principal p;
	struct api_actor w = {req, &p};
	struct model_why why;
	struct target nt, ut;
	int ret;

	if (need_user(s, req, &p) || grant_args(s, req, NULL, &uid, &role, &node, &nt, &ut) ||
	    need_perm(req, &p, PERM_GRANT_WRITE, &nt))
		return 0;
	ret = org_grant_revoke(s, &p, uid, role, node, &nt, api_audit_ok, &w, &why);
	if (ret)
		return reply_org_err(req, ret, &why);
	log_info("event=revoke user=%s role=%s node=%s by=%s", uid, role, node, p.id);
	return http_reply_empty(req, 204);
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
	ret = org_grant_list(s, &p, uid, &out);
	if (ret)
		return reply_store_err(req, ret, "grants");
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
	    {"PATCH", "/api/v1/me", h_me_patch, s},
	    {"POST", "/api/v1/users/{id}/disable", h_user_disable, s},
	    {"POST", "/api/v1/users/{id}/enable", h_user_enable, s},
	    {"POST", "/api/v1/users/{id}/erase", h_user_erase, s},
	    {"GET", "/api/v1/users/{id}/export.zip", h_user_export, s},
	    {"GET", "/api/v1/roles", h_role_list, s},
	    {"POST", "/api/v1/roles", h_role_create, s},
	    {"DELETE", "/api/v1/roles/{name}", h_role_delete, s},
	    {"GET", "/api/v1/grants", h_grant_list, s},
	    {"POST", "/api/v1/grants", h_grant_create, s},
	    {"DELETE", "/api/v1/grants", h_grant_delete, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
