// SPDX-License-Identifier: BSD-2-Clause
/*
 * api/config.c - the routes of the config hierarchy:
 *   GET/PUT /api/v1/nodes/{id}/config
 *   GET/PUT /api/v1/users/{id}/config
 *   GET     /api/v1/nodes/{id}/config/effective
 *   GET     /api/v1/users/{id}/config/effective
 * See docs/API.md (Config). The root's document holds the server settings
 * (backup.*: config.read/config.write or store.admin on the root). Each parses, authorizes and
 * makes one call of model/config.h (the schema, the documents, locks, the merge and the S3 unit
 * live there); a refusal by its rules is 400 (a bad body) or 409 (a locked key, an S3 rebind) with
 * its message. Replies are Cache-Control: no-store.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "api/api.h"
#include "model/backup_sched.h"
#include "model/config.h"
#include "log.h"
#include "util.h"

/*
 * need_perm() of perm (config.read or config.write) on node t; on the root
 * (whose document holds the server settings, backup.*) store.admin there
 * also does.
 */
static int need_config_perm(struct http_req *req, const struct principal *p, uint32_t perm,
			    const struct target *t)
{
	if (t->depth == 1 && !authorize(p, PERM_STORE_ADMIN, t))
		return 0;
	return need_perm(req, p, perm, t);
}

/* Reply for an error of the config model (model/config.h): a refusal by
 * its rules is 400 (-EINVAL) or 409 (-EPERM) with its message, anything
 * else a store error. Returns 0. */
static int reply_config_err(struct http_req *req, int err, const char *why)
{
	if (why[0] && err == -EINVAL)
		return http_reply_error(req, 400, "%s", why), 0;
	if (why[0] && err == -EPERM)
		return http_reply_error(req, 409, "%s", why), 0;
	return reply_store_err(req, err, "config");
}

/* Reply with the document of level kind id as GET shows it. */
static int reply_doc(struct srv *s, struct http_req *req, const char *kind, const char *id)
{
	cJSON *view;
	int ret = config_level_view(s, kind, id, &view);

	if (ret)
		return reply_store_err(req, ret, "config");
	http_set_header(req, "Cache-Control", "no-store");
	return http_reply_json(req, 200, view);
}

static int h_node_get(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct principal p;
	struct target t;

	if (need_user(s, req, &p) || need_target_node(s, req, id, &t) ||
	    need_config_perm(req, &p, PERM_CONFIG_READ, &t))
		return 0;
	return reply_doc(s, req, "node", id);
}

static int h_user_get(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct principal p;
	struct target t;

	if (need_user(s, req, &p) || need_target_user(s, req, id, &t) ||
	    need_perm(req, &p, PERM_CONFIG_READ, &t))
		return 0;
	return reply_doc(s, req, "user", id);
}

/* GET .../config/effective: for a node the merge from the business down to
 * it (no user level; the root answers the defaults), for a user down to the
 * user's own level. */
static int reply_effective(struct srv *s, struct http_req *req, bool is_user)
{
	const char *id = http_req_param(req, "id");
	struct principal p;
	struct target t;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p) ||
	    (is_user ? need_target_user(s, req, id, &t) : need_target_node(s, req, id, &t)) ||
	    need_perm(req, &p, PERM_CONFIG_READ, &t))
		return 0;
	ret = config_effective_for(s, &t, is_user ? id : NULL, false, &out);
	if (ret)
		return reply_store_err(req, ret, "config");
	http_set_header(req, "Cache-Control", "no-store");
	return http_reply_json(req, 200, out);
}

static int h_node_effective(struct http_req *req, void *arg)
{
	return reply_effective(arg, req, false);
}

static int h_user_effective(struct http_req *req, void *arg)
{
	return reply_effective(arg, req, true);
}

/* Who writes a level, for its audit entry. */
struct put_who {
	struct http_req *req;
	const struct principal *p;
	const char *node_id; /* the scope that may read the entry */
};

/* config_audit_fn of a PUT: "config.set" on the level's scope. */
static int put_audit(struct store_batch *b, const char *scope, const cJSON *detail, void *ctx)
{
	const struct put_who *w = ctx;

	return audit_add(b, w->req, w->p, "config.set", w->node_id, scope, "ok", detail);
}

/*
 * PUT of the level document of kind ("node" or "user") id, target t, for
 * principal p (already authorized): config_level_put(), then the level as
 * GET shows it, or 400/409 with the model's message, or a store error.
 */
static int put_level(struct srv *s, struct http_req *req, const struct principal *p,
		     const struct target *t, const char *kind, const char *id)
{
	/* audit scope: the node itself, or the user's team (root: none) */
	struct put_who w = {req, p, kind[0] == 'u' ? t->path[t->depth - 1] : id};
	char why[CONFIG_WHY_SIZE];
	cJSON *body, *view;
	int ret;

	body = need_json(req);
	if (!body)
		return 0;
	ret = config_level_put(s, t, kind, id, body, put_audit, &w, &view, why, sizeof(why));
	config_json_free(body);
	if (ret)
		return reply_config_err(req, ret, why);
	log_info("event=config_set scope=%s:%s by=%s", kind, id, p->id);
	if (!strcmp(id, ROOT_ID)) /* the server's settings: the backups read them now */
		backup_sched_settings_changed(s->backups);
	http_set_header(req, "Cache-Control", "no-store");
	http_reply_json(req, 200, view);
	return 0;
}

static int h_node_put(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct principal p;
	struct target t;

	if (need_user(s, req, &p) || need_target_node(s, req, id, &t) ||
	    need_config_perm(req, &p, PERM_CONFIG_WRITE, &t))
		return 0;
	return put_level(s, req, &p, &t, "node", id);
}

static int h_user_put(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct principal p;
	struct target t;

	if (need_user(s, req, &p) || need_target_user(s, req, id, &t))
		return 0;
	/* a grant on the user's path, never the self rule */
	t.user_id[0] = 0;
	if (need_perm(req, &p, PERM_CONFIG_WRITE, &t))
		return 0;
	return put_level(s, req, &p, &t, "user", id);
}

int api_config_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"GET", "/api/v1/nodes/{id}/config", h_node_get, s},
	    {"PUT", "/api/v1/nodes/{id}/config", h_node_put, s},
	    {"GET", "/api/v1/users/{id}/config", h_user_get, s},
	    {"PUT", "/api/v1/users/{id}/config", h_user_put, s},
	    {"GET", "/api/v1/nodes/{id}/config/effective", h_node_effective, s},
	    {"GET", "/api/v1/users/{id}/config/effective", h_user_effective, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
